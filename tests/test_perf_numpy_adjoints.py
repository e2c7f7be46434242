"""NumPy-level adjoint speedups: the first two contributions of an adjoint summed
into a new value (optimize/fuse_reset_and_accumulate.py), unbroadcast's sums as matrix-vector
products with ones (runtime.py), the max/min adjoint written at the matches
(rules/reductions.py `_extreme_bar`), the exact-type fast paths of `finalize`
and `kinds.kind_of_value`.

Gradients are checked against central differences of the user's function or
closed forms; the helpers against sums written out independently; the pass
on hand-written functions against what the function computes unoptimized,
including cases where summing would change the result (and must be refused).
"""
import inspect
import textwrap

import astor
import gast
import numpy as np
import pytest

import diffc
from diffc import runtime
from diffc.analysis import kinds as K
from diffc.optimize.fuse_reset_and_accumulate import fuse_reset_and_accumulate
from diffc.rules.reductions import _extreme_bar
from diffc.runtime import acc_item, finalize, take_item, unbroadcast  # noqa: F401  (hand-written code calls them)
from pass_harness import resolved_tree, run_tree
from gradcheck import assert_close, fd_jacobian, numeric_grad


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


# ----------------------------------------------------------- whole programs

def mlp(W1, b1, W2, b2, x, y):
    h = np.tanh(np.dot(x, W1) + b1)
    logits = np.dot(h, W2) + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(y * (z - lse)) / x.shape[0]


def xent(W, X, Y):
    logits = X @ W
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * (z - lse)) / X.shape[0]


def _mlp_args(rng, n_out=10):
    W1 = rng.standard_normal((5, 7)) / 2
    b1 = rng.standard_normal(7) * 0.1
    W2 = rng.standard_normal((7, n_out)) / 2
    b2 = rng.standard_normal(n_out) * 0.1
    x = rng.standard_normal((6, 5))
    y = np.eye(n_out)[rng.integers(0, n_out, 6)]
    return W1, b1, W2, b2, x, y


@pytest.mark.parametrize("n_out", [3, 10])       # rows of 3 (g * mask) and of 10 (written at the matches)
def test_mlp_gradient_matches_differences(n_out):
    _check(mlp, _mlp_args(np.random.default_rng(0), n_out), wrt=(0, 1, 2, 3))


def test_softmax_xent_gradient_is_the_closed_form():
    rng = np.random.default_rng(1)
    W, X = rng.standard_normal((4, 9)), rng.standard_normal((12, 4))
    Y = np.eye(9)[rng.integers(0, 9, 12)]
    logits = X @ W
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    assert_close(diffc.grad(xent)(W, X, Y), X.T @ (p - Y) / 12, rtol=1e-10, atol=1e-12)
    _check(xent, (W, X, Y), wrt=0)


def test_float32_in_float32_out():
    args = [a.astype(np.float32) for a in _mlp_args(np.random.default_rng(2))]
    grads = diffc.grad(mlp, wrt=(0, 1, 2, 3))(*args)
    ref = diffc.grad(mlp, wrt=(0, 1, 2, 3))(*[a.astype(np.float64) for a in args])
    for g, r, a in zip(grads, ref, args):
        assert g.dtype == np.float32 and g.shape == a.shape
        assert_close(g, r, rtol=1e-3, atol=1e-4)


def test_adjoint_sums_do_not_write_into_the_seed():
    # z's adjoint is the seed plus the max's part: summed into a new array.
    def f(x):
        z = x - np.max(x, axis=1, keepdims=True)
        return z * 2.0 + z
    x = np.random.default_rng(3).standard_normal((4, 9))
    seed = np.random.default_rng(4).standard_normal((4, 9))
    kept = seed.copy()
    _, pullback = diffc.vjp(f, x)
    (got,) = pullback(seed)
    assert np.array_equal(seed, kept)
    jac = fd_jacobian(f, x)                                   # (4, 9, 4, 9)
    assert_close(got, np.tensordot(seed, jac, axes=2), rtol=1e-6, atol=1e-7)


def test_hessian_through_max_and_bias_broadcasts():
    # Differentiable mode: Hessian of the softmax loss vs differences of its closed-form gradient.
    rng = np.random.default_rng(5)
    X = rng.standard_normal((5, 3))
    Y = np.eye(8)[rng.integers(0, 8, 5)]
    W = rng.standard_normal((3, 8))

    def closed_grad(w):
        logits = X @ w
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return X.T @ (p - Y) / 5

    hess = diffc.hessian(xent, wrt=0)(W, X, Y)
    assert_close(hess, fd_jacobian(closed_grad, W), rtol=1e-5, atol=1e-6)


def test_hessian_of_bias_gradients():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((6, 9))

    def f(b):
        return np.sum(np.tanh(x + b) ** 2) + np.sum(np.max(x * b, axis=1))

    def closed_grad(b):
        t = np.tanh(x + b)
        rows = np.arange(6)
        k = np.argmax(x * b, axis=1)
        out = np.sum(2 * t * (1 - t * t), axis=0)
        np.add.at(out, k, x[rows, k])
        return out
    b = rng.standard_normal(9)
    assert_close(diffc.grad(f)(b), closed_grad(b), rtol=1e-10, atol=1e-12)
    assert_close(diffc.hessian(f)(b), fd_jacobian(closed_grad, b), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ max / min

@pytest.mark.parametrize("reduce", [np.max, np.min])
@pytest.mark.parametrize("shape,axis,keepdims", [
    ((4, 9), 1, True), ((4, 9), -1, False), ((4, 9), 0, True), ((4, 9), None, False),
    ((2, 3, 8), (1, 2), True), ((2, 3, 8), 2, False), ((2, 8, 3), 1, False), ((16,), 0, False),
    ((5, 3), 1, True)])
def test_max_min_gradients_match_differences(reduce, shape, axis, keepdims):
    rng = np.random.default_rng(7)
    a = rng.standard_normal(shape)
    w = rng.standard_normal(np.shape(reduce(a, axis=axis, keepdims=keepdims)))

    def f(a, w):
        return np.sum(reduce(a, axis=axis, keepdims=keepdims) * w)
    _check(f, (a, w), wrt=0)


@pytest.mark.parametrize("shape,axis", [((3, 10), 1), ((3, 10), None), ((10, 3), 0)])
def test_max_ties_split_evenly(shape, axis):
    # Closed form: each reduction's weight is shared by its tied maxima (differences
    # cannot check a kink).
    a = np.zeros(shape)
    if axis == 0:
        a[2] = a[7] = 1.0
    else:
        a[..., 2] = a[..., 5] = 1.0
    g = np.arange(1.0, 1.0 + np.size(np.max(a, axis=axis, keepdims=True))).reshape(
        np.shape(np.max(a, axis=axis, keepdims=True)))
    got = _extreme_bar(g, a, axis, True, np.max(a, axis=axis, keepdims=True))
    mask = a == np.max(a, axis=axis, keepdims=True)
    expected = g * mask / mask.sum(axis=axis, keepdims=True)
    assert_close(got, expected, rtol=0, atol=0)


def test_max_written_at_matches_is_the_mask_product():
    rng = np.random.default_rng(8)
    for shape, axis, keepdims in [((6, 12), 1, True), ((6, 12), 1, False), ((2, 3, 9), (1, 2), True),
                                  ((40,), None, False), ((4, 16), None, True)]:
        a = rng.standard_normal(shape)
        m = np.max(a, axis=axis, keepdims=keepdims)
        g = rng.standard_normal(np.shape(m)) if np.ndim(m) else 0.7
        full_g = g if keepdims or axis is None else np.expand_dims(g, axis)
        expected = full_g * (a == np.max(a, axis=axis, keepdims=True))
        got = _extreme_bar(g, a, axis, keepdims, m)
        assert got.shape == a.shape and got.dtype == np.float64
        assert_close(got, expected, rtol=0, atol=0)
        assert not np.shares_memory(got, a)
    a = rng.standard_normal((3, 10))                  # a scalar adjoint shared by every row
    assert_close(_extreme_bar(2.5, a, 1, True, np.max(a, axis=1, keepdims=True)),
                 2.5 * (a == a.max(axis=1, keepdims=True)), rtol=0, atol=0)


def test_max_with_nan_rows_takes_the_general_path():
    a = np.array([[1.0, np.nan, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                  [3.0, 3.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]])
    m = np.max(a, axis=1, keepdims=True)              # [nan, 3]: 0 + 2 matches = 2 results
    with np.errstate(invalid="ignore"):
        got = _extreme_bar(np.ones((2, 1)), a, 1, True, m)
    assert np.all(np.isnan(got[0]))                   # no match for NaN: 0/0, as before
    assert_close(got[1], [0.5, 0.5, 0, 0, 0, 0, 0, 0, 0], rtol=0, atol=0)


# ---------------------------------------------------------------- unbroadcast

def _reference_sum(g, shape):
    """g summed over the axes broadcasting added, written out element by element."""
    g = np.asarray(g, dtype=np.float64)
    extra = g.ndim - len(shape)
    out = np.zeros(tuple(1 if n == 1 else m for n, m in zip(shape, g.shape[extra:])))
    for index in np.ndindex(*g.shape):
        tail = index[extra:]
        out[tuple(0 if n == 1 else i for n, i in zip(shape, tail))] += g[index]
    return out


_PAIRS = [((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 4), (1, 4)), ((3, 4), (1, 1)), ((3, 4), ()),
          ((2, 3, 4), (4,)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (3, 1)), ((2, 3, 4), (2, 1, 1)),
          ((2, 3, 4), (1, 3, 4)), ((2, 3, 4), (2, 3, 1)), ((2, 3, 4), (1, 3, 1)), ((2, 3, 4), (1, 1, 4)),
          ((5,), (1,)), ((5,), ()), ((1, 5), (5,)), ((4, 1), (4, 1)), ((0, 3), (3,)), ((3, 0), (3, 1))]


@pytest.mark.parametrize("gshape,xshape", _PAIRS)
@pytest.mark.parametrize("layout", ["c", "f", "float32"])
def test_unbroadcast_sums_the_broadcast_axes(gshape, xshape, layout):
    rng = np.random.default_rng(9)
    g = rng.standard_normal(gshape)
    if layout == "f":
        g = np.asfortranarray(g)
    elif layout == "float32":
        g = g.astype(np.float32)
    keep = g.copy()
    got = unbroadcast(g, np.zeros(xshape))
    assert np.shape(got) == xshape
    assert np.asarray(got).dtype == g.dtype
    assert_close(got, _reference_sum(g, xshape).reshape(xshape), rtol=1e-5 if layout == "float32" else 1e-12,
                 atol=1e-5 if layout == "float32" else 1e-12)
    assert np.array_equal(g, keep)
    if gshape != xshape and isinstance(got, np.ndarray):
        assert not np.shares_memory(got, g)           # a sum is a new array the gradient may own
        got += 1.0                                    # (writable: not the cached ones vector)
    for _ in range(2):                                # the cached plan gives the same again
        assert_close(unbroadcast(keep, np.zeros(xshape)), _reference_sum(keep, xshape).reshape(xshape),
                     rtol=1e-5, atol=1e-5)


def test_unbroadcast_of_an_adjoint_smaller_than_x():
    # An adjoint smaller than x on some axis (a zero adjoint times the smaller factor of a
    # broadcasting product, or higher-order code) stands for its broadcast: the result
    # always has x's shape, the sum of g spread over the broadcast shape.
    g = np.arange(6.0).reshape(2, 3, 1)
    got = unbroadcast(g, np.zeros((3, 4)))
    assert got.shape == (3, 4)
    assert_close(got, np.repeat([[3.0], [5.0], [7.0]], 4, axis=1), rtol=0, atol=0)
    assert_close(unbroadcast(np.ones((3, 1)), np.zeros(3)), np.full(3, 3.0), rtol=0, atol=0)
    column = unbroadcast(np.array([[1.0], [2.0], [4.0]]), np.zeros((1, 3)))
    assert column.shape == (1, 3)
    assert_close(column, np.full((1, 3), 7.0), rtol=0, atol=0)
    assert unbroadcast(2.5, np.zeros(3)) == 2.5
    assert unbroadcast(g, g) is g


@pytest.mark.parametrize("bias_shape", [(9,), (1, 9), (6, 1), (1, 1)])
def test_bias_gradients_match_differences(bias_shape):
    rng = np.random.default_rng(10)
    x, b = rng.standard_normal((6, 9)), rng.standard_normal(bias_shape)

    def f(x, b):
        return np.sum(np.sin(x + b) * x)
    _check(f, (x, b), wrt=(0, 1))


# ------------------------------------------------------------ finalize, kinds

def test_finalize_casts_and_shapes_like_the_argument():
    g64 = np.ones((2, 3))
    assert finalize(g64, np.zeros((2, 3))) is g64
    out = finalize(g64, np.zeros((2, 3), dtype=np.float32))
    assert out.dtype == np.float32 and out.shape == (2, 3)
    assert finalize(g64, np.zeros((2, 3), dtype=np.int64)) is g64
    assert finalize(np.ones(6), np.zeros((2, 3))).shape == (2, 3)
    assert finalize(0.0, np.zeros(3)).shape == (3,)
    assert type(finalize(np.float64(2.0), 1.5)) is float


def test_kind_of_value():
    assert K.kind_of_value(np.zeros(3)) == K.VECTOR
    assert K.kind_of_value(np.zeros((2, 3))) == K.ARRAY
    assert K.kind_of_value(np.zeros(3, dtype=int)) == K.ARRAY
    assert K.kind_of_value(np.zeros(3, dtype=np.float32)) == K.VECTOR
    assert K.kind_of_value(1.5) == K.SCALAR and K.kind_of_value(np.float32(1.5)) == K.SCALAR
    assert K.kind_of_value(True) == K.INT and K.kind_of_value(3) == K.INT
    assert K.kind_of_value([1.0, 2]) == K.SCALARS and K.kind_of_value("s") == K.UNKNOWN
    assert K.kind_of_value(np.ma.zeros(3)) == K.VECTOR        # a subclass: by isinstance, as before


# ------------------------------------------------- summing two contributions

_GLOBALS = {"unbroadcast": runtime.unbroadcast, "take_item": runtime.take_item, "acc_item": runtime.acc_item,
            "np": np}


def _compile(fn):
    return resolved_tree(fn, _GLOBALS)


def _run(fdef, *args):
    return run_tree(fdef, _GLOBALS, *args)


def _fused(fn, *args):
    """(text after the pass, its result, the original's result) on fresh copies of args."""
    fdef = fuse_reset_and_accumulate(_compile(fn))
    text = astor.to_source(gast.gast_to_ast(fdef))
    fresh = lambda: [a.copy() if isinstance(a, np.ndarray) else a for a in args]  # noqa: E731
    return text, _run(fdef, *fresh()), fn(*fresh())


def two_names(g, h):
    b = 0.0
    b += g
    c = h * 2.0
    b += unbroadcast(c, g)
    return b


def difference(g, h):
    b = 0.0
    b += g
    b -= h
    return b


def three(g, h):
    b = 0.0
    b += g
    b += h
    b += g
    return b


# Each would give another result if summed: the pass must keep them.
def rebinds_between(g, h):
    b = 0.0
    b += g
    g = h
    b += g
    return b


def writes_between(g, h):
    b = 0.0
    b += g
    g += h                  # in place: the copy 0.0 + g was taken before
    b += h
    return b


def takes_in_second(g, h):
    b = 0.0
    b += g
    b += take_item(g, 0)    # zeros g[0] in place after it was copied
    return b


def accumulates_in_second(g, h):
    b = 0.0
    b += g
    b += acc_item(g, g, 0, 5.0)
    return b


def reads_between(g, h):
    b = 0.0
    b += g
    c = b * 2.0
    b += c
    return b


@pytest.mark.parametrize("fn,expected", [
    (two_names, "b = g + unbroadcast(c, g)"), (difference, "b = g - h"), (three, "b = g + h\n    b += g")])
def test_two_contributions_are_summed(fn, expected):
    rng = np.random.default_rng(11)
    text, got, want = _fused(fn, rng.standard_normal(4), rng.standard_normal(4))
    assert expected in text and "0.0" not in text
    assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("fn", [rebinds_between, writes_between, takes_in_second, accumulates_in_second,
                                reads_between])
def test_contributions_that_cannot_be_summed_are_kept(fn):
    rng = np.random.default_rng(12)
    g, h = rng.standard_normal(4), rng.standard_normal(4)
    text, got, want = _fused(fn, g, h)
    assert "b = 0.0" in text
    assert_close(got, want, rtol=0, atol=0)
    if fn in _NAIVE:        # summing them anyway would give another result: the refusal matters
        assert not np.allclose(_NAIVE[fn](g.copy(), h.copy()), want)


def _naive_rebinds(g, h):
    g = h
    return g + g


def _naive_writes(g, h):
    e1 = g
    g += h
    return e1 + h


def _naive_takes(g, h):
    return g + take_item(g, 0)


def _naive_accumulates(g, h):
    return g + acc_item(g, g, 0, 5.0)


_NAIVE = {rebinds_between: _naive_rebinds, writes_between: _naive_writes, takes_in_second: _naive_takes,
          accumulates_in_second: _naive_accumulates}


def test_generated_code_sums_two_contributions():
    text = diffc.source(mlp, wrt=(0, 1, 2, 3), args=_mlp_args(np.random.default_rng(0)))
    assert "z_bar = _t6_bar - _sum_bar_times(unbroadcast(" in text      # (the lse's negation absorbed)
    assert "logits_bar = z_bar - _extreme_bar(unbroadcast(" in text
    assert "z_bar += " not in text and "logits_bar += " not in text


# ------------------------------------- a first contribution shared, not copied

_GLOBALS["finalize"] = runtime.finalize


def shared_bias(g, x):
    b = 0.0
    c = g * 2.0
    b += unbroadcast(c, x)
    return finalize(b, x)


# Each would give another result (or two gradients in one buffer) if b shared c's object.
def from_parameter(g, x):
    b = 0.0
    b += unbroadcast(g, x)      # g is the caller's
    return finalize(b, x)


def written_after(g, x):
    b = 0.0
    c = g * 2.0
    b += unbroadcast(c, x)
    c += 1.0
    return finalize(b, x), c * 1.0


def helper_writes_after(g, x):
    b = 0.0
    c = g * 2.0
    b += unbroadcast(c, x)
    b = acc_item(b, x, 0, 5.0)
    return finalize(b, x), c * 1.0


def alias_written_after(g, x):
    b = 0.0
    c = g * 2.0
    t = unbroadcast(c, g)
    b += unbroadcast(c, x)
    t += 1.0
    return finalize(b, x), t * 1.0


_G = np.linspace(1.0, 2.0, 4)
_GLOBALS["_G"] = _G


def from_global(g, x):
    b = 0.0
    b += unbroadcast(_G, x)     # a module-level array
    return finalize(b, x)


def view_written_after(g, x):
    b = 0.0
    c = g * 2.0
    v = c.reshape(4)            # a view of c, through a method
    b += unbroadcast(c, x)
    v += 1.0
    return finalize(b, x), v * 1.0


def returned_twice(g, x):
    b = 0.0
    c = g * 2.0
    b += unbroadcast(c, x)
    return finalize(b, x), finalize(c, x)


def _shared(fn, *args):
    fdef = fuse_reset_and_accumulate(_compile(fn))
    text = astor.to_source(gast.gast_to_ast(fdef))
    fresh = lambda: [a.copy() if isinstance(a, np.ndarray) else a for a in args]  # noqa: E731
    return text, _run(fdef, *fresh()), fn(*fresh())


def test_first_contribution_shared():
    g = np.random.default_rng(13).standard_normal(4)
    text, got, want = _shared(shared_bias, g, np.zeros(4))
    assert "b = unbroadcast(c, x)" in text and "0.0" not in text
    assert_close(got, want, rtol=0, atol=0)


@pytest.mark.parametrize("fn", [from_parameter, written_after, helper_writes_after, alias_written_after,
                                returned_twice, from_global, view_written_after])
def test_first_contribution_copied_when_sharing_is_unsafe(fn):
    g = np.random.default_rng(14).standard_normal(4)
    text, got, want = _shared(fn, g, np.zeros(4))
    assert "b = 0.0" in text and "b += unbroadcast(" in text
    for a, b in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        assert_close(a, b, rtol=0, atol=0)
    if isinstance(got, tuple):
        assert not np.shares_memory(got[0], got[1])
    # Sharing anyway changes the result or makes two results one buffer: the refusal matters.
    src = textwrap.dedent(inspect.getsource(fn)).replace("    b = 0.0\n", "").replace("b += unbroadcast", "b = unbroadcast")
    space = dict(_GLOBALS)
    exec(src, space)
    g_copy = g.copy()
    naive = space[fn.__name__](g_copy, np.zeros(4))
    if fn is from_parameter:
        assert np.shares_memory(naive, g_copy)
    elif fn is from_global:
        assert np.shares_memory(naive, _G)
    elif fn is returned_twice:
        assert np.shares_memory(naive[0], naive[1])
    else:
        assert not all(np.allclose(a, b) for a, b in zip(naive, want))


def test_gradients_of_two_arguments_never_share_a_buffer():
    rng = np.random.default_rng(15)
    x, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))

    def f(x, y):
        return np.sum(np.sin(x + y))
    gx, gy = _check(f, (x, y), wrt=(0, 1))
    assert not np.shares_memory(gx, gy)
    gx += 1.0
    assert_close(gy, np.cos(x + y), rtol=1e-12, atol=0)

    def h(x):
        return x * 1.0 + 0.0
    seed = rng.standard_normal((3, 4))
    _, pullback = diffc.vjp(h, x)
    (got,) = pullback(seed)
    assert not np.shares_memory(got, seed)
    assert_close(got, seed, rtol=0, atol=0)


def test_generated_bias_gradients_are_not_copied():
    text = diffc.source(mlp, wrt=(0, 1, 2, 3), args=_mlp_args(np.random.default_rng(0)))
    assert "b1_bar" not in text and "b2_bar" not in text      # unbroadcast(...) goes to finalize directly
    assert "finalize(unbroadcast(_t2_bar, b1), b1)" in text


# --------------------------------------- a power-of-two factor scales the adjoint

from diffc.optimize.absorb_scales import absorb_scales  # noqa: E402
from diffc.rules.reductions import _sum_bar_times  # noqa: E402

_GLOBALS["_sum_bar_times"] = _sum_bar_times


def doubled(g, a):
    return _sum_bar_times(g, a, a, True) * 2.0


def doubled_left(g, a):
    return -4.0 * _sum_bar_times(g, a, a)


def doubled_over_axis(g, a):
    return _sum_bar_times(g, a, a, False, 1, True) * 2.0


def tripled(g, a):
    return _sum_bar_times(g, a, a, True) * 3.0


def halved(g, a):
    return _sum_bar_times(g, a, a, True) * 0.5


@pytest.mark.parametrize("fn,absorbed", [(doubled, True), (doubled_left, True), (doubled_over_axis, True),
                                         (tripled, False), (halved, False)])
@pytest.mark.parametrize("g", [0.37, 0.0, 1e-300, 1e300])
def test_power_of_two_factors_scale_the_adjoint_exactly(fn, absorbed, g):
    a = np.random.default_rng(16).standard_normal((3, 5))
    if fn is doubled_over_axis:
        g = np.full((3, 1), g)
    fdef = absorb_scales(_compile(fn))
    text = astor.to_source(gast.gast_to_ast(fdef))
    assert ("_sum_bar_times(g *" in text or "_sum_bar_times(g * " in text) == absorbed, text
    got, want = _run(fdef, g, a), fn(g, a)
    if np.all(np.abs(g) < 1e299):
        assert np.array_equal(got, want)                 # bit for bit
    assert got.dtype == want.dtype


def test_doubled_squares_in_a_list_match_differences():
    rng = np.random.default_rng(17)
    xs, w = rng.standard_normal((4, 3, 5)), rng.standard_normal(5)

    def f(xs, w):
        hs = []
        for k in range(xs.shape[0]):
            hs.append(np.tanh(xs[k] * w))
        total = 0.0
        for h in hs:
            total = total + np.sum(h * h)
        return total
    text = diffc.source(f, wrt=1, args=(xs, w))
    assert "* 2.0, " in " ".join(text.split())
    _check(f, (xs, w), wrt=1)


# ------------------------------------------- tanh's adjoint with one temporary

from diffc.rules.elementwise import times_one_minus_square as _times_one_minus_square  # noqa: E402


@pytest.mark.parametrize("shape", [(3, 4), (128, 128), (20000,), (2, 100, 90)])
def test_times_one_minus_square_is_the_expression(shape):
    rng = np.random.default_rng(18)
    r, g = np.tanh(rng.standard_normal(shape)), rng.standard_normal(shape)
    keep_r, keep_g = r.copy(), g.copy()
    out = _times_one_minus_square(g, r)
    assert np.array_equal(out, g * (1.0 - r * r)) and out.dtype == np.float64
    assert np.array_equal(r, keep_r) and np.array_equal(g, keep_g)       # arguments untouched
    assert not np.shares_memory(out, g) and not np.shares_memory(out, r)
    # anything else: the expression itself (dtype, broadcasting, scalars)
    for g2, r2 in [(g.astype(np.float32), r), (g, r.astype(np.float32)), (2.5, r), (0.0, r),
                   (g[..., :1], r), (1.5, 0.25), (np.float64(1.5), np.float64(0.25))]:
        want = g2 * (1.0 - r2 * r2)
        got = _times_one_minus_square(g2, r2)
        assert np.array_equal(got, want) and np.asarray(got).dtype == np.asarray(want).dtype


def wide_tanh(W, b, x):
    h = np.tanh(x @ W + b)
    return np.sum(h * h) + np.sum(h)


def test_large_tanh_layer_gradient_matches_differences_along_directions():
    # 64 x 320 = 20480 hidden activations: the one-temporary path.
    rng = np.random.default_rng(19)
    W, b, x = rng.standard_normal((8, 320)) / 3, rng.standard_normal(320) * 0.1, rng.standard_normal((64, 8))
    text = diffc.source(wide_tanh, wrt=(0, 1), args=(W, b, x))
    assert "_times_one_minus_square(" in text
    gW, gb = diffc.grad(wide_tanh, wrt=(0, 1))(W, b, x)
    for _ in range(3):
        dW, db = rng.standard_normal(W.shape), rng.standard_normal(b.shape)
        eps = 1e-6
        fd = (wide_tanh(W + eps * dW, b + eps * db, x) - wide_tanh(W - eps * dW, b - eps * db, x)) / (2 * eps)
        assert abs(fd - (np.sum(gW * dW) + np.sum(gb * db))) <= 1e-6 * max(1.0, abs(fd))
    h = np.tanh(x @ W + b)                                     # closed form
    gh = (2 * h + 1) * (1 - h * h)
    assert_close(gW, x.T @ gh, rtol=1e-10, atol=1e-10)
    assert_close(gb, gh.sum(axis=0), rtol=1e-10, atol=1e-10)


def test_tanh_second_derivatives_need_no_helper_rule():
    # Differentiable mode keeps g * (1.0 - h * h): the helper has no derivative rules.
    rng = np.random.default_rng(20)
    x = rng.standard_normal(5)

    def f(x):
        return np.sum(np.tanh(x) ** 3)

    def closed_grad(x):
        t = np.tanh(x)
        return 3 * t * t * (1 - t * t)
    assert_close(diffc.grad(f)(x), closed_grad(x), rtol=1e-10, atol=1e-12)
    assert_close(diffc.hessian(f)(x), fd_jacobian(closed_grad, x), rtol=1e-5, atol=1e-6)
    assert_close(diffc.jacobian(diffc.grad(f))(x), fd_jacobian(closed_grad, x), rtol=1e-5, atol=1e-6)


# ------------------------------------ negations absorbed into a subtraction

from diffc.optimize.algebra import algebra  # noqa: E402
from diffc.rules.reductions import _sum_bar  # noqa: E402

_GLOBALS["_sum_bar"] = _sum_bar
_GLOBALS["_extreme_bar"] = _extreme_bar


def neg_through_product(x, g, y):
    return x + _sum_bar(-g / y, x, None, False) * x


def neg_in_helper(x, g, y):
    z = x.copy()
    z += unbroadcast(-g * y, x)
    return z


def neg_minus(x, g, y):
    return x - _extreme_bar(-g, x, 1, True, np.max(x, axis=1, keepdims=True))


def neg_in_denominator(x, g, y):
    return x + g / -y          # not odd through a denominator: kept


@pytest.mark.parametrize("fn,expected", [
    (neg_through_product, "x - _sum_bar(g / y, x, None, False) * x"),
    (neg_in_helper, "z -= unbroadcast(g * y, x)"),
    (neg_minus, "x + _extreme_bar(g, x, 1, True"),
    (neg_in_denominator, "x + g / -y")])
def test_negations_become_subtractions(fn, expected):
    rng = np.random.default_rng(21)
    x, g, y = rng.standard_normal((3, 4)), rng.standard_normal((3, 1)), rng.standard_normal((3, 1)) + 3.0
    if fn is neg_through_product:
        g = 0.7
    fdef = algebra(_compile(fn))
    text = astor.to_source(gast.gast_to_ast(fdef))
    assert expected in text, text
    assert np.array_equal(_run(fdef, x, g, y), fn(x, g, y))         # bit for bit
