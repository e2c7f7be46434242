"""The diffc command line: show, check, export; errors are messages with exit status 2."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from diffc import cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PROGRAM = textwrap.dedent('''
    import math
    import numpy as np
    import diffc

    SCALE = 2.0
    WEIGHTS = np.array([1.0, -2.0, 0.5])


    def helper(a):
        return a * SCALE


    def f(x, y=3.0):
        s = 0.0
        for i in range(3):
            if x > 0:
                s += helper(x) * y + math.sin(x)
            else:
                s -= x
        return s * y


    def h(x, w):
        return ((x * w) ** 2).sum() + x + np.sum(w * WEIGHTS)


    def gen(x):
        ys = x * 2.0
        del ys[0:1]
        return x


    def prim(x):
        return x * x


    @diffc.adjoint(prim)
    def _(result, result_bar, x):
        return result_bar * 3.0 * x


    def wrong(x):
        return prim(x) + x


    def vector(x):
        return x * 2.0


    def domain(x):
        return math.log(x) * x
''')


@pytest.fixture
def program(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(PROGRAM)
    return str(path)


def run(capsys, *argv):
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_show_prints_the_generated_source(program, capsys):
    import diffc
    status, out, err = run(capsys, "show", f"{program}:f", "--wrt", "x,y")
    assert status == 0 and err == ""
    assert out.startswith("def grad_f(x, y, ")
    assert "\x1b[" not in out                      # plain when not a terminal
    assert "# line " in out


def test_show_color_always_highlights(program, capsys):
    status, out, _ = run(capsys, "show", f"{program}:f", "--color", "always")
    assert status == 0 and "\x1b[" in out


def test_builtin_highlighter_without_pygments():
    from diffc.highlight import simple_highlight
    text = "def f(x):\n    # note\n    return abs(x) + 1.5 + len('s')\n"
    out = simple_highlight(text)
    assert "\x1b[" in out
    import re
    assert re.sub(r"\x1b\[[0-9;]*m", "", out) == text


def test_show_args_specialize_and_no_optimize(program, capsys):
    status, out, _ = run(capsys, "show", f"{program}:h", "--args", "1.5, [0.0, 0.3, 1.0]", "--wrt", "w")
    assert status == 0 and "def grad_h(x, w" in out
    status, plain, _ = run(capsys, "show", f"{program}:f", "--no-optimize")
    assert status == 0 and "def grad_f" in plain


@pytest.mark.parametrize("stage", ["fence", "desugar", "anf", "hoist_invariants", "reverse", "absorb_scales", "optimize"])
def test_show_stage(program, capsys, stage):
    status, out, err = run(capsys, "show", f"{program}:f", "--stage", stage)
    assert status == 0, err
    assert out.startswith(f"# stage {stage}:")
    assert "def " in out


@pytest.mark.parametrize("target, message", [
    ("missing.py:f", "no such file"),
    ("MODEL:nothing", "has no function 'nothing'"),
    ("MODEL", "expected FILE.py:FUNC"),
])
def test_unknown_file_or_function_is_exit_2(program, capsys, target, message):
    target = target.replace("MODEL", program)
    status, out, err = run(capsys, "show", target)
    assert status == 2 and out == ""
    assert message in err and "Traceback" not in err


def test_unsupported_construct_shows_diffc_error(program, capsys):
    status, _, err = run(capsys, "show", f"{program}:gen")
    assert status == 2
    assert f"{program}:" in err and "^" in err and "hint:" in err and "Traceback" not in err


def test_module_that_fails_to_import(tmp_path, capsys):
    path = tmp_path / "broken.py"
    path.write_text("import nonexistent_module_xyz\n")
    status, _, err = run(capsys, "show", f"{path}:f")
    assert status == 2 and "ModuleNotFoundError" in err and "Traceback" not in err


def test_check_agrees(program, capsys):
    status, out, _ = run(capsys, "check", f"{program}:h", "--args", "1.5, [0.0, 0.3, 1.0]", "--wrt", "x,w")
    assert status == 0
    assert "max abs err" in out and "max rel err" in out
    lines = [line.split()[0] for line in out.splitlines()]
    assert "x" in lines and "w" in lines


def test_check_disagreement_is_exit_1(program, capsys):
    status, out, _ = run(capsys, "check", f"{program}:wrong", "--args", "1.5")
    assert status == 1 and "MISMATCH" in out


def test_check_needs_args_and_reports_runtime_errors(program, capsys):
    status, _, err = run(capsys, "check", f"{program}:f")
    assert status == 2 and "--args" in err
    status, _, err = run(capsys, "check", f"{program}:vector", "--args", "[1.0, 2.0]")
    assert status == 2 and "scalar" in err
    status, _, err = run(capsys, "check", f"{program}:domain", "--args", "-1.0")
    assert status == 2 and "ValueError" in err and "Traceback" not in err


def test_parse_helpers():
    assert cli.parse_wrt(None) == 0
    assert cli.parse_wrt("x,w") == ("x", "w")
    assert cli.parse_wrt("1") == 1
    assert cli.parse_wrt("x,") == ("x",)
    values = cli.parse_values("1.5, [0.0, 0.3], np.ones(2)")
    assert values[0] == 1.5 and isinstance(values[1], np.ndarray) and values[2].shape == (2,)
    assert cli.parse_values("[1, 2]", keep_lists=True) == [[1, 2]]


def _isolated_env():
    """An environment where numpy imports but diffc does not."""
    numpy_parent = os.path.dirname(os.path.dirname(np.__file__))
    return dict(PATH=os.environ.get("PATH", ""), PYTHONPATH=numpy_parent)


def test_export_runs_without_diffc(program, tmp_path, capsys):
    import diffc
    import importlib.util
    out_file = tmp_path / "exported" / "grad_h.py"
    out_file.parent.mkdir()
    status, _, err = run(capsys, "export", f"{program}:h", "--wrt", "x,w", "--args", "1.5, [0.0, 0.3, 2.0]",
                         "-o", str(out_file))
    assert status == 0, err
    text = out_file.read_text()
    assert "diffc" not in [line.split()[1] for line in text.splitlines() if line.startswith("import ")]
    assert "from diffc" not in text and "import diffc" not in text
    script = tmp_path / "exported" / "use.py"
    script.write_text(textwrap.dedent('''
        import sys
        import numpy as np
        import grad_h
        gx, gw = grad_h.grad_h(1.5, np.array([0.0, 0.3, 2.0]))
        print(repr(float(gx)), repr(gw.tolist()))
        try:
            import diffc
        except ImportError:
            print("no diffc")
        print("diffc" in sys.modules)
    '''))
    done = subprocess.run([sys.executable, "-S", str(script)], cwd=str(tmp_path / "exported"),
                          env=_isolated_env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2:] == ["no diffc", "False"]
    spec = importlib.util.spec_from_file_location("model_for_export", program)
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    expected = diffc.grad(model.h, wrt=(0, 1))(1.5, np.array([0.0, 0.3, 2.0]))
    gx, gw = lines[0].split(" ", 1)
    assert float(gx) == pytest.approx(float(expected[0]))
    assert eval(gw) == pytest.approx(expected[1].tolist())


def test_export_scalar_function_with_callees_and_defaults(program, tmp_path, capsys):
    out_file = tmp_path / "grad_f.py"
    status, _, err = run(capsys, "export", f"{program}:f", "--wrt", "0,", "-o", str(out_file))
    assert status == 0, err
    script = tmp_path / "use_f.py"
    script.write_text("import grad_f\nprint(repr(grad_f.grad_f(1.5)), repr(grad_f.f(1.5)))\n")
    done = subprocess.run([sys.executable, "-S", str(script)], cwd=str(tmp_path), env=_isolated_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    import diffc
    import importlib.util
    spec = importlib.util.spec_from_file_location("model_for_export_f", program)
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    expected = diffc.grad(model.f, wrt=(0,))(1.5)
    assert eval(done.stdout.split(") ")[0] + ")")[0] == pytest.approx(expected[0])


def test_python_dash_m_and_exit_codes(program):
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-m", "diffc", "show", f"{program}:f"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("def grad_f")
    done = subprocess.run([sys.executable, "-m", "diffc", "show", f"{program}:gen"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "diffc", "frobnicate"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2


def test_same_source_in_two_modules_uses_each_modules_globals(tmp_path):
    """Regression: equal code objects from two files shared one cached gradient (and its globals)."""
    import importlib.util
    import diffc
    modules = []
    for k, scale in enumerate((1.0, 2.0)):
        path = tmp_path / f"m{k}.py"
        path.write_text(f"K = {scale}\n\ndef f(x):\n    return x * K\n")
        spec = importlib.util.spec_from_file_location(f"cache_regression_{k}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        modules.append(module)
    assert diffc.grad(modules[0].f)(1.0) == 1.0
    assert diffc.grad(modules[1].f)(1.0) == 2.0
