"""Issue 16: `diffc export` of functions that take function values (an activation or a
loss passed as a parameter): the exported module is specialized for the function the
parameter holds (its default or the --args value), runs without diffc, and its
gradient matches finite differences."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from diffc import cli
from gradcheck import numeric_grad
from test_cli import _isolated_env

PROGRAM = textwrap.dedent('''
    import functools
    import numpy as np


    def softplus(z):
        return np.log1p(np.exp(z))


    def layer_loss(x, act=np.tanh):
        return np.sum(act(x) ** 2)


    def user_activation(x, act=softplus, scale=2.0):
        h = act(x * scale)
        return np.sum(h * x)


    def descend(w, loss_fn, lr=0.1, steps=3):
        for _ in range(steps):
            w = w - lr * np.cos(w)
        return loss_fn(w)


    def total(v):
        return np.sum(v ** 3)


    def in_a_list(x):
        fs = [np.sin, np.cos]
        return np.sum(fs[0](x) * fs[1](x))


    def with_partial(x):
        f = functools.partial(np.power, 3)
        return np.sum(f(x))
''')

X = np.array([0.1, -0.4, 0.7])


@pytest.fixture
def module_dir(tmp_path):
    (tmp_path / "prog16.py").write_text(PROGRAM)
    return tmp_path


def _export_and_run(module_dir, capsys, func, args, call):
    out = module_dir / f"grad_{func}.py"
    status = cli.main(["export", f"{module_dir / 'prog16.py'}:{func}", "--args", args, "-o", str(out)])
    _, err = capsys.readouterr()
    assert status == 0, err
    text = out.read_text()
    assert "import diffc" not in text and "from diffc" not in text
    script = module_dir / f"use_{func}.py"
    script.write_text(f"import numpy as np\nimport grad_{func} as m\nprint(repr(np.asarray({call}).tolist()))\n")
    done = subprocess.run([sys.executable, "-S", str(script)], cwd=str(module_dir), env=_isolated_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return np.array(eval(done.stdout.strip())), done


def _load(module_dir):
    import importlib.util
    spec = importlib.util.spec_from_file_location("prog16_for_export", str(module_dir / "prog16.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("func,args,call,reference", [
    ("layer_loss", "np.array([0.1, -0.4, 0.7])", "m.grad_layer_loss(np.array([0.1, -0.4, 0.7]))",
     lambda mod: (lambda x: mod.layer_loss(x))),
    ("user_activation", "np.array([0.1, -0.4, 0.7])", "m.grad_user_activation(np.array([0.1, -0.4, 0.7]))",
     lambda mod: (lambda x: mod.user_activation(x))),
    ("descend", "np.array([0.1, -0.4, 0.7]), total", "m.grad_descend(np.array([0.1, -0.4, 0.7]))",
     lambda mod: (lambda w: mod.descend(w, mod.total))),
])
def test_export_of_a_function_taking_a_function(module_dir, capsys, func, args, call, reference):
    got, _ = _export_and_run(module_dir, capsys, func, args, call)
    expected = numeric_grad(reference(_load(module_dir)), [X], 0)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-8)


def test_exported_gradient_refuses_another_function(module_dir, capsys):
    out = module_dir / "grad_layer_loss.py"
    assert cli.main(["export", f"{module_dir / 'prog16.py'}:layer_loss", "-o", str(out),
                     "--args", "np.array([0.1, 0.2])"]) == 0
    capsys.readouterr()
    script = module_dir / "use_other.py"
    script.write_text("import numpy as np\nimport grad_layer_loss as m\n"
                      "try:\n    m.grad_layer_loss(np.array([0.1]), act=np.sin)\n"
                      "except ValueError as e:\n    print('refused', e)\n")
    done = subprocess.run([sys.executable, "-S", str(script)], cwd=str(module_dir), env=_isolated_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.startswith("refused") and "act=tanh" in done.stdout, done.stdout + done.stderr


@pytest.mark.parametrize("func", ["in_a_list", "with_partial"])
def test_function_values_only_known_at_run_time_are_refused_clearly(module_dir, capsys, func):
    out = module_dir / f"grad_{func}.py"
    status = cli.main(["export", f"{module_dir / 'prog16.py'}:{func}", "--args", "np.array([0.1, 0.2])",
                       "-o", str(out)])
    _, err = capsys.readouterr()
    if status == 0:
        # diffc resolved the call at compile time: then the module must be right without diffc
        got, _ = _export_and_run(module_dir, capsys, func, "np.array([0.1, -0.4, 0.7])",
                                 f"m.grad_{func}(np.array([0.1, -0.4, 0.7]))")
        mod = _load(module_dir)
        np.testing.assert_allclose(got, numeric_grad(getattr(mod, func), [X], 0), rtol=1e-6, atol=1e-8)
    else:
        assert "function value" in err and "export" in err
