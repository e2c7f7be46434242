"""jit=True: elementwise statements on vectors become index loops (numba_loops.py).

The loops must give NumPy's values, so each program is checked against the plain
gradient (relative 1e-12) and central finite differences; the programs are the
cases where a loop would be wrong if it ran: a write into a slice overlapping
another operand, broadcasting of a length-1 vector, an alias `x = a[1:]` later
written through, float32 data.  The texts are checked for where the loops are
(and are not) used.  Skipped without numba.
"""
import warnings

import numpy as np
import pytest

import diffc
from diffc import compile_cache as CC
from diffc.jit_compile import numba_source
from gradcheck import assert_close, numeric_grad

numba = pytest.importorskip("numba")


def _jit_text(fn, args, wrt):
    wrt_names, _ = CC.normalize_wrt(fn, wrt)
    entry = CC.joint_entry(fn, wrt_names, CC.kinds_of(list(args)), False, True)
    return numba_source(entry.emitted, entry.main.__name__, list(args))


def _check(fn, args, wrt):
    wrt_list = list(wrt) if isinstance(wrt, tuple) else [wrt]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", diffc.DiffcWarning)
        plain = diffc.grad(fn, wrt=wrt)(*args)
        jitted = diffc.grad(fn, wrt=wrt, jit=True, cache=True)(*args)
    plain = plain if isinstance(wrt, tuple) else (plain,)
    jitted = jitted if isinstance(wrt, tuple) else (jitted,)
    for k, a, b in zip(wrt_list, plain, jitted):
        assert_close(b, a, rtol=1e-12, atol=1e-300, what=f"{fn.__name__} jit vs plain, arg {k}")
        assert_close(b, numeric_grad(fn, list(args), k), rtol=1e-5, atol=1e-7, what=f"{fn.__name__} fd {k}")


def smooth_then_shift(u, w, c):
    """A smoothing sweep written through views, an alias written in place,
    an accumulation into a slice that overlaps its own operand, a length-1
    broadcast and a division by a vector."""
    v = u * w + c
    tail = v[1:]                       # an alias: the writes below go into v
    tail += v[:-1] * 0.5               # overlaps its operand: must not run as a loop
    v[1:-1] = v[1:-1] - 0.25 * (v[2:] - 2.0 * v[1:-1] + v[:-2])
    scale = v[:1]                      # length 1: broadcasts
    r = v / (1.0 + w * w) + scale * np.sin(u)
    return np.sum(r * r) + np.sum(tail)


def test_overlap_alias_broadcast_and_division_agree():
    rng = np.random.default_rng(3)
    u, w = rng.standard_normal(9), rng.standard_normal(9)
    _check(smooth_then_shift, (u, w, 0.3), (0, 1, 2))
    text = _jit_text(smooth_then_shift, (u, w, 0.3), (0, 1, 2))
    assert "for _i_" in text and "np.divide(" in text
    assert "tail = v[1:]" in text                  # the alias is not copied


def relax(u0, k, n):
    u = u0.copy()
    for step in range(n):
        lap = u[2:] - 2.0 * u[1:-1] + u[:-2]
        u[1:-1] += k * lap
        u = u - 0.01 * np.tanh(u)
    return np.sum(u * u)


def test_loop_form_in_a_time_loop_and_float32_left_to_numpy():
    rng = np.random.default_rng(4)
    u0 = rng.standard_normal(12)
    _check(relax, (u0, 0.2, 5), (0, 1))
    text = _jit_text(relax, (u0, 0.2, 5), (0, 1))
    assert "for _i_" in text and "np.tanh(" in text and "_diffc_disjoint(" in text
    low = u0.astype(np.float32)
    # float32 data: NumPy's promotion is not float64's, so no loop is written
    assert "for _i_" not in _jit_text(relax, (low, 0.2, 5), 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", diffc.DiffcWarning)
        plain = diffc.grad(relax, wrt=1)(low, 0.2, 5)
        jitted = diffc.grad(relax, wrt=1, jit="auto", cache=True)(low, 0.2, 5)
    assert jitted == pytest.approx(plain, rel=1e-6)


SWEEPS = '''
def sweeps(a, b, c):
    a[1:] += a[:-1] * c
    b[:-1] = b[1:] * c + b[:-1]
    b[2:] -= a[:-2] / c
    d = a * b + np.exp(-a)
    d[::2] *= 0.5
    e = d[:1] * a
    return d + e
'''


def test_overlapping_and_broadcasting_statements_fall_back_to_numpy():
    """Statements of the numba form run by numba against NumPy running the same text:
    a write overlapping its operand (a[1:] += a[:-1] * c) must not run as a loop."""
    import types
    from diffc.jit_compile import compile_emitted
    namespace = {"np": np}
    exec(SWEEPS, namespace)
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(7), rng.standard_normal(7)
    emitted = types.SimpleNamespace(source=SWEEPS, line_map={}, namespace={"np": np},
                                    functions={"sweeps": namespace["sweeps"]})
    jm = compile_emitted(emitted, "sweeps", [a, b, 1.5])
    assert "_diffc_disjoint(" in jm.source and "for _i_" in jm.source
    a1, b1, a2, b2 = a.copy(), b.copy(), a.copy(), b.copy()
    expected = namespace["sweeps"](a1, b1, 1.5)
    got = jm.main(a2, b2, 1.5)
    assert_close(got, expected, rtol=1e-15, atol=0, what="result")
    assert_close(a2, a1, rtol=1e-15, atol=0, what="a written in place")
    assert_close(b2, b1, rtol=1e-15, atol=0, what="b written in place")


def projections(W, x, v):
    """Matrix-vector and vector-matrix products (numba forms of the matmul adjoints)."""
    y = W @ x
    z = v @ W
    return np.sum(y * y) + np.sum(np.tanh(z) * z)


def test_matrix_vector_products():
    rng = np.random.default_rng(6)
    _check(projections, (rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(3)), (0, 1, 2))
