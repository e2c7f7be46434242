"""The generated source does not depend on PYTHONHASHSEED: new names are allocated in
source order, never in the iteration order of a set of strings (which follows the
string hash).  Before that, the comprehension variables below were numbered
differently under PYTHONHASHSEED=1 and 2."""

import os
import subprocess
import sys
import textwrap

import numpy as np

import diffc

from gradcheck import numeric_grad

PROGRAM = textwrap.dedent('''
    import numpy as np

    WEIGHTS = {"mass": 1.5, "spring": 0.7, "damper": 0.2, "drive": 0.9}


    def energy(x):
        terms = [a * p + b * q ** 2 - c * r for a, b, c, p, q, r in zip(x, x[1:], x[2:], x, x[::-1], x)]
        return sum(terms)


    def weighted(x):
        scaled = {name: w * x[i] ** 2 for i, (name, w) in enumerate(WEIGHTS.items())}
        return sum(v * v for k, v in scaled.items() if k != "drive")
''')

SHOW_ALL = textwrap.dedent('''
    import contextlib, io, sys
    from diffc import cli
    path = sys.argv[1]
    for name in ("energy", "weighted"):
        for mode in ("reverse", "forward"):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = cli.main(["show", f"{path}:{name}", "--mode", mode,
                                   "--args", "np.array([0.5, 1.5, -0.7, 0.2])"])
            print(f"== {name} {mode} {status}")
            print(out.getvalue())
''')


def show_under(seed, path):
    root = os.path.dirname(os.path.dirname(os.path.abspath(diffc.__file__)))
    env = dict(os.environ, PYTHONHASHSEED=str(seed), PYTHONPATH=root)
    done = subprocess.run([sys.executable, "-c", SHOW_ALL, str(path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_generated_source_is_the_same_under_two_hash_seeds(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(PROGRAM)
    first, second = show_under(1, path), show_under(2, path)
    assert first.count("== ") == 4 and first.count(" 0\n") == 4, first
    assert "def grad_energy(x" in first and "def jvp_weighted(x" in first
    assert first == second


def test_the_programs_derivatives_match_finite_differences(tmp_path):
    import importlib.util
    path = tmp_path / "hash_seed_model.py"
    path.write_text(PROGRAM)
    spec = importlib.util.spec_from_file_location("hash_seed_model", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = np.array([0.5, 1.5, -0.7, 0.2])
    direction = np.array([0.3, -1.0, 0.4, 2.0])
    for name in ("energy", "weighted"):
        fn = getattr(module, name)
        expected = numeric_grad(fn, (x,), 0)
        assert np.allclose(diffc.grad(fn)(x), expected, atol=1e-6), name
        _, dot = diffc.jvp(fn, (x,), (direction,))
        assert np.isclose(dot, expected @ direction, atol=1e-6), name
