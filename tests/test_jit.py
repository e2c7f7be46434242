"""jit=True: the generated code compiled by numba gives the plain gradient's values.

Every corpus program either compiles and agrees with the plain Python
gradient (relative 1e-12) and with central finite differences, or raises
`JitUnsupported` naming the user's file and line (and, with jit="auto",
warns and returns the plain gradient).  `COMPILES` lists the programs that
must compile, so a regression fails here.  Skipped without numba; see
test_jit_unavailable.py (jit=True without numba says how to install it).
No test depends on timing.
"""
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import diffc
from corpus import PROGRAMS
from gradcheck import assert_close, numeric_grad

numba = pytest.importorskip("numba")
HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "benchmarks"))

from diffc.jit_compile import JitUnsupported  # noqa: E402

COMPILES = {
    "arithmetic", "augmented", "math_functions", "numpy_on_scalars", "keywords_and_defaults", "branches",
    "boolean_logic", "assigned_in_one_branch", "sum_loop", "range_forms", "newton_sqrt", "while_true_break",
    "break_continue_return", "nested_loops_overwrite", "closures_and_lambdas", "loop_calls",
    "for_else_and_search", "ternaries_in_loop", "heat_inplace", "recursion", "combinations", "inplace_items",
}


def _tuple(g, wrt):
    return g if isinstance(wrt, tuple) else (g,)


def _wrt_list(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


def _plain_and_jit(fn, args, wrt, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", diffc.DiffcWarning)
        plain = _tuple(diffc.grad(fn, wrt=wrt)(*args), wrt)
        # cache=True: numba's machine code on disk (~/.cache/diffc/jit), so a second
        # run of the suite does not compile the corpus again
        jitted = _tuple(diffc.grad(fn, wrt=wrt, jit=True, cache=True, **options)(*args), wrt)
    return plain, jitted


@pytest.mark.parametrize("name,fn,args,wrt", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_corpus_jit_agrees_or_refuses(name, fn, args, wrt):
    if name not in COMPILES:
        with pytest.raises(JitUnsupported) as info, warnings.catch_warnings():
            warnings.simplefilter("ignore", diffc.DiffcWarning)
            diffc.grad(fn, wrt=wrt, jit=True)(*args)
        message = str(info.value)
        assert "numba cannot compile" in message and "corpus" in message, message
        return
    plain, jitted = _plain_and_jit(fn, args, wrt)
    for k, a, b in zip(_wrt_list(wrt), plain, jitted):
        assert_close(b, a, rtol=1e-12, atol=1e-300, what=f"{name} jit vs plain, arg {k}")
        assert_close(b, numeric_grad(fn, args, k), rtol=1e-5, atol=1e-6, what=f"{name} jit vs fd, arg {k}")


@pytest.mark.parametrize("name,fn,args,wrt", [p for p in PROGRAMS if p[0] not in COMPILES][:3],
                         ids=[p[0] for p in PROGRAMS if p[0] not in COMPILES][:3])
def test_auto_falls_back_with_a_warning(name, fn, args, wrt):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = _tuple(diffc.grad(fn, wrt=wrt, jit="auto")(*args), wrt)
    assert any("jit='auto'" in str(w.message) for w in caught)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", diffc.DiffcWarning)
        expected = _tuple(diffc.grad(fn, wrt=wrt)(*args), wrt)
    for a, b in zip(got, expected):
        assert_close(a, b, rtol=0, atol=0, what=name)


# ---------------------------------------------------------------- workloads

def _workloads():
    import workloads as W
    return [(n, W.WORKLOADS[n]) for n in ("rk4", "horner", "heat", "newton", "long_loop")]


@pytest.mark.parametrize("name,w", _workloads(), ids=[n for n, _ in _workloads()])
def test_benchmark_scalar_loops(name, w):
    args = w.make_inputs("smoke")
    wrt = w.wrt if len(w.wrt) > 1 else w.wrt[0]
    plain, jitted = _plain_and_jit(w.primal, args, wrt)
    for k, a, b in zip(_wrt_list(wrt), plain, jitted):
        assert_close(b, a, rtol=1e-12, atol=1e-300, what=f"{name} arg {k}")
        assert_close(b, numeric_grad(w.primal, args, k), rtol=1e-5, atol=1e-6, what=f"{name} fd arg {k}")
    assert diffc.jit(w.primal)(*args) == pytest.approx(w.primal(*args), rel=1e-12)


def test_int_argument_and_new_types_recompile():
    def poly(x, n):
        acc = 0.0
        for i in range(n):
            acc = acc * x + 1.0 / (i + 1)
        return acc
    g = diffc.grad(poly, jit=True)
    expected = numeric_grad(poly, [0.7, 6], 0)
    assert_close(g(0.7, 6), expected, rtol=1e-6, atol=1e-8)
    assert_close(g(0.7, 6), expected, rtol=1e-6, atol=1e-8)          # the fast path
    assert_close(g(1, 3), numeric_grad(poly, [1.0, 3], 0), rtol=1e-6, atol=1e-8)   # an int x
    assert_close(g(x=0.7, n=6), expected, rtol=1e-6, atol=1e-8)


def test_value_and_grad_and_decorator():
    def f(x, y):
        s = 0.0
        for k in range(4):
            s = s + math_sin(x * k) * y
        return s
    value, (gx, gy) = diffc.value_and_grad(f, wrt=(0, 1), jit=True)(0.3, 1.7)
    assert value == pytest.approx(f(0.3, 1.7), rel=1e-12)
    assert_close(gx, numeric_grad(f, [0.3, 1.7], 0), rtol=1e-6, atol=1e-8)
    assert_close(gy, numeric_grad(f, [0.3, 1.7], 1), rtol=1e-6, atol=1e-8)
    decorated = diffc.differentiate(f, wrt=0, jit=True)
    assert_close(decorated.grad(0.3, 1.7), gx, rtol=1e-12, atol=0)


def math_sin(x):
    return math.sin(x)


def test_forward_mode_and_second_order():
    def f(x, a):
        s = x
        for i in range(5):
            s = s * a + 0.1 * s * s
        return s
    out, dot = diffc.jvp(f, (0.4, 0.9), (1.0, None), jit=True)
    assert out == pytest.approx(f(0.4, 0.9), rel=1e-12)
    assert dot == pytest.approx(float(numeric_grad(f, [0.4, 0.9], 0)), rel=1e-6)

    def g(x, a):
        return math.sin(x * a) * x + a / (1.0 + x * x)
    h = diffc.hessian(g, jit=True)(0.4, 0.9)
    expected = (numeric_grad(g, [0.4 + 1e-4, 0.9], 0) - numeric_grad(g, [0.4 - 1e-4, 0.9], 0)) / 2e-4
    assert h == pytest.approx(float(expected), rel=1e-4)
    assert diffc.hvp(g, jit=True)(0.4, 0.9, 2.0) == pytest.approx(2.0 * h, rel=1e-9)
    # Forward over a loop's tape (list tangents) is not compiled: refused, or the Python result
    with pytest.raises(JitUnsupported):
        diffc.hessian(f, jit=True)(0.4, 0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", diffc.DiffcWarning)
        assert diffc.hessian(f, jit="auto")(0.4, 0.9) == pytest.approx(diffc.hessian(f)(0.4, 0.9), rel=1e-12)


def test_refusal_names_the_users_line():
    def uses_a_dict(x):
        d = {"a": x * 2.0, "b": x * x}
        total = 0.0
        for k in ("a", "b"):
            total = total + d[k]
        return total
    with pytest.raises(JitUnsupported) as info:
        diffc.grad(uses_a_dict, jit=True)(1.5)
    assert "test_jit.py:" in str(info.value)


def test_show_and_export_jit(tmp_path):
    source = tmp_path / "model.py"
    source.write_text("import math\n\nK = 0.5\n\n\ndef loop(x, n):\n    s = x\n    for i in range(n):\n"
                      "        s = s + 0.1 * math.sin(s) * K\n    return s\n")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    shown = subprocess.run([sys.executable, "-m", "diffc", "show", f"{source}:loop", "--jit", "--args", "0.5, 10"],
                           capture_output=True, text=True, env=env, check=True).stdout
    assert "np.empty(" in shown and "# line 9:" in shown and "reversed" not in shown
    out = tmp_path / "grad_loop.py"
    subprocess.run([sys.executable, "-m", "diffc", "export", f"{source}:loop", "--jit", "--args", "0.5, 10",
                    "-o", str(out)], capture_output=True, text=True, env=env, check=True)
    text = out.read_text()
    assert "@_numba.njit(cache=True)" in text
    sys.path.insert(0, str(tmp_path))
    try:
        import importlib
        module = importlib.import_module("grad_loop")
        model = importlib.import_module("model")
        assert module.grad_loop(0.5, 10) == pytest.approx(diffc.grad(model.loop)(0.5, 10), rel=1e-12)
    finally:
        sys.path.remove(str(tmp_path))


def test_disk_cache_serves_a_second_process(tmp_path):
    program = ("import diffc\n"
               "def f(x, n):\n"
               "    s = x\n"
               "    for i in range(n):\n"
               "        s = s * 0.5 + x\n"
               "    return s\n"
               "g = diffc.grad(f, jit=True, cache=True)\n"
               "print(g(0.3, 5), diffc.jit_stats[-1]['cache_hits'])\n")
    script = tmp_path / "prog.py"
    script.write_text(program)
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE), DIFFC_JIT_DIR=str(tmp_path / "cache"))
    first = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
    second = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split()[0] == second.stdout.split()[0]
    assert first.stdout.split()[1] == "0" and int(second.stdout.split()[1]) >= 1, (first.stdout, second.stdout)


def test_every_numba_helper_stands_for_an_existing_helper():
    """A renamed runtime or rule helper would silently lose its numba implementation."""
    import importlib
    from diffc import jit_runtime
    for module, name in jit_runtime.HELPERS:
        assert callable(getattr(importlib.import_module(module), name, None)), f"{module}.{name}"
