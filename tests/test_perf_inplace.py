"""In-place adjoint optimizations: views instead of copies (optimize/view_unwritten_copies.py
`view_unwritten_copies`) and dot products instead of summed products
(optimize/fuse_sum_products.py).

Gradients are checked against central differences of the user's function;
the passes themselves are also run on small hand-written functions and the
result compared with what the unoptimized function computes.
"""
import re

import gast
import numpy as np
import pytest

import diffc
from diffc import runtime
from diffc.runtime import copy_value, unbroadcast  # noqa: F401  (the hand-written functions call them)
from diffc.optimize.view_unwritten_copies import view_unwritten_copies
from diffc.optimize.fuse_sum_products import _sum_product, fuse_sum_products
from pass_harness import resolved_tree, run_tree
from gradcheck import assert_close, numeric_grad


def _check(fn, args, wrt, rtol=1e-6, atol=1e-7):
    before = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
    grads = diffc.grad(fn, wrt=wrt)(*args)
    for a, b in zip(args, before):            # the caller's arrays are not written
        if isinstance(a, np.ndarray):
            assert np.array_equal(a, b)
    grads = grads if isinstance(wrt, tuple) else (grads,)
    for k, g in zip(wrt if isinstance(wrt, tuple) else (wrt,), grads):
        assert_close(g, numeric_grad(fn, args, k), rtol=rtol, atol=atol, what=f"{fn.__name__} arg {k}")
    return grads


def _adjoint_loop(fn, args, wrt):
    text = diffc.source(fn, wrt=wrt, args=args)
    return text.split("reversed(")[1]


# --------------------------------------------------------------- programs

def heat(u0, alpha, n=4):
    u = u0.copy()
    for step in range(n):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def heat_2d(U0, alpha):
    U = U0.copy()
    for step in range(3):
        U[1:-1, 1:-1] = U[1:-1, 1:-1] + alpha * (U[2:, 1:-1] + U[:-2, 1:-1] + U[1:-1, 2:] + U[1:-1, :-2]
                                                 - 4.0 * U[1:-1, 1:-1])
    return np.sum(U * U * U)


def product_stencil(u0, a):
    # the copy's last read is in an accumulation into u_bar (u_bar[:-2] += b * ...)
    u = u0.copy()
    for k in range(3):
        u[1:-1] = u[1:-1] + a * u[2:] * u[:-2]
    return np.sum(u * u)


def two_writes(u0, a):
    # the second write's copy region holds the first write's restore
    u = u0.copy()
    for k in range(2):
        u[1:-1] = u[1:-1] + a * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u[2:-2] = u[2:-2] + a * u[1:-3]
    return np.sum(u * u * u)


def shifted(u0, a):
    u = u0.copy()
    for k in range(3):
        u[1:] = u[1:] + a * u[:-1]
    return np.sum(np.sin(u))


def sin_then_product(u0, a):
    # the adjoint reads u_bar[1:-1]'s value (through an alias) after writing u_bar[:-2]
    # and u_bar[2:]: a copy, not a view; the add-back goes through an alias of it
    u = u0.copy()
    for k in range(3):
        u[1:-1] = u[1:-1] + np.sin(u[:-2]) * a + u[:-2] * u[2:] * a
    return np.sum(u * u)


def product_then_sin(u0, a):
    u = u0.copy()
    for k in range(3):
        u[1:-1] = u[1:-1] + u[:-2] * u[2:] * a + np.sin(u[:-2]) * a
    return np.sum(u * u)


def negated_chain(u0, a):
    # the adjoint of `u[1:-1] - c * e` negates the view of u_bar[1:-1]; a pass that
    # substitutes the negation into a later read must not see a view (found by a
    # random stencil generator: the view pass ran before negation propagation)
    u = u0.copy()
    s = 0.0
    for k in range(2):
        u[1:-1] = u[1:-1] - np.sin(a) * (np.sin(u[:-2]) + np.sin(u[2:]))
        s = s + np.sum(u[1:-1] * u[1:-1])
        u[2:] = u[2:] + np.sin(a) * (np.sin(u[2:]) + np.sin(u[1:-1]) + u[1:-1])
        s = s + np.sum(u[2:] * u[2:])
        u[:-2] = a * (u[2:])
    return np.sum(u * u * u) + s


def subtracted_stencils(u0, a):
    u = u0.copy()
    s = 0.0
    for k in range(2):
        u[:-2] = u[:-2] + np.sin(a) * (u[2:] + u[2:] + np.sin(u[:-2]))
        u[1:-1] = u[1:-1] - np.sin(a) * (2.0 * u[2:])
        s = s + np.sum(u[1:-1] * u[1:-1])
        u[2:] = 0.3 * (u[2:] + u[1:-1] + -u[2:]) + u[2:]
    return np.sum(u * u * u) + s


def repeated_target(u0, a):
    u = u0.copy()
    for k in range(3):
        u[:-2] = u[:-2] + 0.3 * (u[1:-1] + u[:-2])
        u[:-2] = u[:-2] + 0.3 * (np.sin(u[1:-1]) + u[1:-1])
        u[:-2] = u[:-2] - np.sin(a) * (np.sin(u[:-2]))
    return np.sum(u * u * u)


_rng = np.random.default_rng(3)
U1 = np.linspace(0.2, 1.3, 9) ** 2
U2 = _rng.standard_normal((6, 5))


def test_heat_adjoint_reads_a_view_and_one_dot_product():
    loop = _adjoint_loop(heat, (U1, 0.1), (0, 1))
    assert not re.search(r"^ *\w+ = copy_value\(", loop, re.M), loop
    assert re.search(r"^ *_t\d+_bar = u_bar\[1:-1\]$", loop, re.M), loop
    assert "alpha_bar += _sum_product(" in loop and "unbroadcast" not in loop
    _check(heat, (U1, 0.1), (0, 1))


@pytest.mark.parametrize("fn,args", [(heat_2d, (U2, 0.1)), (product_stencil, (U1, 0.3)),
                                     (two_writes, (U1, 0.3)), (shifted, (U1, 0.3))],
                         ids=["heat_2d", "product_stencil", "two_writes", "shifted"])
def test_stencils_without_copies_match_differences(fn, args):
    loop = _adjoint_loop(fn, args, (0, 1))
    assert not re.search(r"^ *\w+ = copy_value\(", loop, re.M), loop
    _check(fn, args, (0, 1))


@pytest.mark.parametrize("fn", [sin_then_product, product_then_sin])
def test_copy_kept_when_read_after_a_write(fn):
    loop = _adjoint_loop(fn, (U1, 0.3), (0, 1))
    assert re.search(r"^ *\w+ = copy_value\(u_bar\[1:-1\]\)", loop, re.M), loop
    assert "take_item" not in loop and "u_bar[1:-1] +=" not in loop   # no zeroing, no add-back
    _check(fn, (U1, 0.3), (0, 1))


@pytest.mark.parametrize("fn", [negated_chain, subtracted_stencils, repeated_target])
def test_stencils_with_several_writes_match_differences(fn):
    _check(fn, (U1, 0.3), (0, 1), rtol=1e-5, atol=1e-6)


def test_float32_in_float32_out():
    u0 = U1.astype(np.float32)
    g_u, g_a = diffc.grad(heat, wrt=(0, 1))(u0, 0.1)
    assert g_u.dtype == np.float32 and np.asarray(g_a).dtype == np.float32
    r_u, r_a = diffc.grad(heat, wrt=(0, 1))(U1, 0.1)
    assert_close(g_u, r_u, rtol=1e-5, atol=1e-5)
    assert_close(g_a, r_a, rtol=1e-5, atol=1e-5)


def test_alpha_as_array_and_broadcast_coefficients():
    # alpha of shape (1,) and (n-2,): the adjoint sums over broadcast axes, or not at all
    for alpha in (np.array([0.1]), np.linspace(0.05, 0.15, len(U1) - 2)):
        _check(heat, (U1, alpha), (0, 1))


def test_second_derivative_in_alpha_matches_differences():
    # differentiable mode (grad of grad) keeps copies and sums: d2f/dalpha2 vs FD of f
    f = lambda a: heat(U1, a)  # noqa: E731
    second = diffc.grad(diffc.grad(heat, wrt=1), wrt=1)(U1, 0.1)
    h = 1e-3
    expected = (f(0.1 + h) - 2 * f(0.1) + f(0.1 - h)) / h ** 2
    assert_close(second, expected, rtol=1e-5, atol=1e-6)
    hvp = diffc.hessian(heat, wrt=0)(U1, 0.1)
    fd = np.stack([numeric_grad(lambda *a: diffc.grad(heat, wrt=0)(*a)[i], (U1, 0.1), 0)
                   for i in range(len(U1))])
    assert_close(hvp, fd, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------- the pass on its own

_GLOBALS = {"copy_value": runtime.copy_value, "unbroadcast": runtime.unbroadcast, "np": np,
            "G": None, "_bump_g": None}         # filled in below, once defined


def _compile(fn):
    return resolved_tree(fn, _GLOBALS)


def _run(fdef, *args):
    return run_tree(fdef, _GLOBALS, *args)


def _optimized(fn, *args):
    """(text after the pass, its result, the original's result) for fresh copies of args."""
    import astor
    fdef = view_unwritten_copies(_compile(fn))
    text = astor.to_source(gast.gast_to_ast(fdef))
    def fresh():
        G[:] = 1.0
        return [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    return text, _run(fdef, *fresh()), fn(*fresh())


# Each returns one value built from everything it computed (a tuple would make the
# buffer escape, and the pass would refuse for that reason alone).  In every case
# marked False, a view in place of the copy would change the result.

def reads_before_writes(u, t):
    y_bar = np.ones(5) * u
    b = copy_value(y_bar[1:-1])
    c = b
    s = np.sum(c * t)
    d = c * 2.0
    y_bar[:-2] += d
    y_bar[2:] += d
    return y_bar @ np.arange(1.0, 6.0) + s


def last_read_in_accumulation(u, t):
    y_bar = np.ones(5) * u
    b = copy_value(y_bar[1:-1])
    a = np.sum(b * t)
    y_bar[:-2] += b * t
    return y_bar @ np.arange(1.0, 6.0) + a


def restore_between(u, t):
    y = np.zeros(5)
    y_bar = np.ones(5) * u
    b = copy_value(y_bar[1:-1])
    y[1:-1] = t
    s = np.sum(b * y[1:-1])
    y_bar[2:] += b * 2.0
    return y_bar @ np.arange(1.0, 6.0) + s


def read_after_write(u, t):
    y_bar = np.ones(5) * u
    b = copy_value(y_bar[1:-1])
    y_bar[:-2] += b * t
    y_bar[2:] += b * t
    return y_bar @ np.arange(1.0, 6.0)


def written_copy(u, t):
    y_bar = np.ones(5) * u
    b = copy_value(y_bar[1:-1])
    b += t
    return y_bar @ np.arange(1.0, 6.0) + np.sum(b)


def copy_returned(u, t):
    y_bar = np.ones(5) * u
    b = copy_value(y_bar[1:-1])
    y_bar[2:] += t
    return b


def copy_of_parameter(y_bar, t):
    b = copy_value(y_bar[1:-1])
    s = b * t
    y_bar[2:] += t
    return s


def alias_written(u, t):
    y_bar = np.ones(5) * u
    v = y_bar[2:]
    b = copy_value(y_bar[1:-1])
    v += t
    return b * 1.0


def alias_read_next_iteration(u, t):
    y_bar = np.ones(5) * u
    total = 0.0
    c = np.zeros(3)
    for k in range(3):
        total = total + np.sum(c * t)
        b = copy_value(y_bar[1:-1])
        c = b
        y_bar[1:-1] += t
    return total


def handed_to_writer(u, t):
    y_bar = np.ones(5) * u
    b = copy_value(y_bar[1:-1])
    np.add(b, t, b)
    return y_bar @ np.arange(1.0, 6.0)


def copy_accumulated_into_other(u, t):
    y_bar = np.ones(5) * u
    z = np.zeros(3)
    b = copy_value(y_bar[1:-1])
    z += b
    y_bar[1:-1] += t
    return z * 1.0 + b


G = np.ones(5)


def _bump_g():
    G[1:] += 1.0


def copy_of_global(u, t):
    b = copy_value(G[1:-1])
    _bump_g()
    c = b * u
    return c


_GLOBALS.update(G=G, _bump_g=_bump_g)


def element_of_list(u, t):
    bars = [np.ones(3) * u, np.ones(3)]
    b = copy_value(bars[0])
    bars[0] += t
    return b * 1.0


@pytest.mark.parametrize("fn,viewed", [
    (reads_before_writes, True),
    (last_read_in_accumulation, True),
    (restore_between, True),
    (read_after_write, False),
    (written_copy, False),
    (copy_returned, False),
    (copy_of_parameter, False),
    (alias_written, False),
    (alias_read_next_iteration, False),
    (handed_to_writer, False),
    (copy_accumulated_into_other, False),
    (copy_of_global, False),
    (element_of_list, False),
])
def test_view_only_when_every_read_precedes_every_write(fn, viewed):
    args = (np.linspace(1.0, 2.0, 5) if fn is copy_of_parameter else 1.5, np.linspace(0.5, 0.9, 3))
    text, got, expected = _optimized(fn, *args)
    assert ("copy_value(" not in text) == viewed, text
    assert np.array_equal(got, expected)


# ------------------------------------------------------------- _sum_product

@pytest.mark.parametrize("a,b,x", [
    (np.arange(1.0, 5.0), np.linspace(-1, 1, 4), 0.5),                        # dot
    (np.arange(6.0).reshape(2, 3), np.ones((2, 3)), np.float64(2.0)),           # dot, 2-d
    (np.asfortranarray(np.arange(6.0).reshape(2, 3)), np.ones((2, 3)), 1.0),    # Fortran order
    (np.arange(4.0).astype(">f8"), np.linspace(-1, 1, 4), 0.5),                 # big-endian
    (np.empty(0), np.empty(0), 0.5),                                            # empty
    (np.arange(6.0).reshape(2, 3), np.ones((2, 3)), np.array(2.0)),             # 0-d x
    (np.arange(6.0).reshape(2, 3)[:, ::2], np.ones((2, 2)), 1.0),               # strided
    (np.arange(3.0), np.ones((2, 3)), 1.0),                                     # broadcast
    (np.arange(3.0).astype(np.float32), np.ones(3, np.float32), 1.0),           # float32
    (np.arange(6.0).reshape(2, 3), np.ones((2, 3)), np.ones((1, 3))),           # x an array
    (np.arange(6.0).reshape(2, 3), np.ones((2, 3)), np.ones((2, 3))),           # nothing summed
    (2.0, np.ones(3), 1.0),                                                     # a float
    (2.0, 3.0, 1.0),                                                            # scalars
])
def test_sum_product_is_the_summed_product(a, b, x):
    expected = runtime.unbroadcast(a * b, x)
    got = _sum_product(a, b, x)
    assert np.shape(got) == np.shape(expected)
    assert np.asarray(got).dtype == np.asarray(expected).dtype
    assert_close(got, expected, rtol=1e-14, atol=1e-14)
    assert_close(got, np.sum(np.multiply(a, b), axis=tuple(range(np.ndim(a * b) - np.ndim(x))) or None)
                 if np.ndim(x) == 0 else expected, rtol=1e-14, atol=1e-14)


def test_sum_product_of_dask_arrays_stays_lazy():
    da = pytest.importorskip("dask.array")
    a = da.from_array(np.arange(6.0), chunks=3)
    b = da.from_array(np.ones(6), chunks=3)
    got = _sum_product(a, b, 1.0)
    assert type(got).__module__.startswith("dask")
    assert float(got.compute()) == 15.0


def test_fuse_sum_products_rewrites_only_products():
    def f(g, y, x, z):
        p = unbroadcast(g * y, x)
        q = unbroadcast(g + y, x)
        return p, q, z
    fdef = fuse_sum_products(_compile(f))
    import astor
    text = astor.to_source(gast.gast_to_ast(fdef))
    assert "p = _sum_product(g, y, x)" in text and "q = unbroadcast(g + y, x)" in text


def test_sum_product_takes_the_dot_product_path(monkeypatch):
    from diffc.optimize import fuse_sum_products as products_module

    def refuse(g, x):
        raise AssertionError("summed the product")
    monkeypatch.setattr(products_module, "unbroadcast", refuse)
    for a in (np.arange(1.0, 5.0), np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(3, 2).T):
        b = np.linspace(-1.0, 1.0, a.size).reshape(a.shape)
        for x in (0.5, np.float64(0.5), np.array(0.5)):
            assert _sum_product(a, b, x) == pytest.approx(float(np.sum(a * b)), rel=1e-14)
    with pytest.raises(AssertionError):
        _sum_product(np.ones(3, np.float32), np.ones(3, np.float32), 0.5)
