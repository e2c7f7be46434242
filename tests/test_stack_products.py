"""optimize/stack_products.py and runtime.add_at: per-step matrix-product adjoints
summed as one product after the loop, and fancy-index scatters by bincount.

Every gradient is checked against central finite differences and against the
unoptimized gradient (``optimize=False``) to a relative 1e-12 (the sums are
reassociated, so not bit for bit); the source checks say which loops take the
stack and which must not."""

import numpy as np
import pytest

import diffc
from diffc.optimize import stack_products as SP
from diffc.runtime import add_at
from gradcheck import numeric_grad


def rnn_matvec(Wx, Wh, xs, h0):
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
        loss = loss + np.sum(h * h)
    return loss / xs.shape[0]


def rnn_rows(Wx, Wh, xs, h0):
    """Batched, the weights on the right: ``h @ Wh`` (adjoints by _matmul_bar_b)."""
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ Wx + h @ Wh)
    return np.sum(h * h)


def vector_times_matrix(W, xs):
    total = 0.0
    for x in xs:
        total = total + np.sum(np.sin(x @ W))
    return total


def weight_changes_in_loop(W, xs):
    """W is rebound in the loop: each step's product belongs to another matrix."""
    total = 0.0
    for t in range(xs.shape[0]):
        y = W @ xs[t]
        total = total + np.sum(y * y)
        W = 0.9 * W
    return total


def _inputs(rng, steps=7, n_in=3, hidden=4, batch=None):
    Wx = rng.standard_normal((hidden, n_in)) / 2
    Wh = rng.standard_normal((hidden, hidden)) / 3
    xs = rng.standard_normal((steps, n_in))
    return Wx, Wh, xs, np.zeros(hidden)


def _check(f, args, wrt):
    got = diffc.grad(f, wrt=wrt)(*args)
    plain = diffc.grad(f, wrt=wrt, optimize=False)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    plain = plain if isinstance(wrt, tuple) else (plain,)
    for k, g, p in zip(wrt if isinstance(wrt, tuple) else (wrt,), got, plain):
        np.testing.assert_allclose(g, p, rtol=1e-12, atol=1e-12 * np.max(np.abs(p)))
        np.testing.assert_allclose(g, numeric_grad(f, args, k), rtol=1e-6, atol=1e-8)
    return got


def test_matrix_vector_rnn_stacks_both_weights():
    rng = np.random.default_rng(0)
    args = _inputs(rng)
    src = diffc.source(rnn_matvec, wrt=(0, 1), args=args)
    assert src.count("stack_bar_a(") == 2 and src.count("flush_bar_a(") == 2
    _check(rnn_matvec, args, (0, 1))


@pytest.mark.parametrize("steps", [1, 5, SP.STACK_CHUNK + 3, 2 * SP.STACK_CHUNK])
def test_loops_longer_than_a_chunk(steps):
    rng = np.random.default_rng(steps)
    args = _inputs(rng, steps=steps, n_in=2, hidden=3)
    args = (args[0], args[1] * 0.5, args[2], args[3])
    _check(rnn_matvec, args, (0, 1))


def test_batched_rows_stack_when_the_matrix_is_large():
    rng = np.random.default_rng(1)
    Wx = rng.standard_normal((3, 8)) / 2
    Wh = rng.standard_normal((8, 8)) / 3
    xs = rng.standard_normal((6, 2, 3))
    h0 = rng.standard_normal((2, 8))
    src = diffc.source(rnn_rows, wrt=(0, 1), args=(Wx, Wh, xs, h0))
    assert "stack_bar_b(" in src
    _check(rnn_rows, (Wx, Wh, xs, h0), (0, 1))


def test_batched_rows_larger_than_the_matrix_add_at_once():
    rng = np.random.default_rng(2)
    Wx = rng.standard_normal((2, 3)) / 2
    Wh = rng.standard_normal((3, 3)) / 3
    xs = rng.standard_normal((4, 9, 2))      # 9 rows: a step's operands outgrow W
    _check(rnn_rows, (Wx, Wh, xs, np.zeros((9, 3))), (0, 1))


def test_vector_times_matrix_over_rows():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((3, 4))
    xs = rng.standard_normal((5, 3))
    assert "stack_bar_b(" in diffc.source(vector_times_matrix, args=(W, xs))
    _check(vector_times_matrix, (W, xs), 0)


def test_a_matrix_bound_in_the_loop_is_not_stacked():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((3, 3))
    xs = rng.standard_normal((4, 3))
    assert "stack_bar" not in diffc.source(weight_changes_in_loop, args=(W, xs))
    _check(weight_changes_in_loop, (W, xs), 0)


def test_other_dtypes_and_zero_adjoints_take_the_immediate_path():
    bar = 0.0
    stack = []
    W = np.ones((2, 3), dtype=np.float32)
    bar = SP.stack_bar_a(stack, bar, np.ones(2, dtype=np.float32), W, np.ones(3, dtype=np.float32))
    assert stack == [] and bar.dtype == np.float32 and bar.shape == (2, 3)
    assert SP.stack_bar_a([], 0.0, 0.0, np.ones((2, 3)), np.ones(3)) == 0.0
    assert SP.flush_bar_a([], 0.0, np.ones((2, 3))) == 0.0


def test_flush_when_shapes_change():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((6, 6))
    stack, bar = [], 0.0
    expected = np.zeros((6, 6))
    for rows in (1, 1, 2, 2, 1):
        g, h = rng.standard_normal((6, rows)).squeeze(), rng.standard_normal((6, rows)).squeeze()
        if rows == 2:
            g, h = rng.standard_normal((2, 6)), rng.standard_normal((2, 6))
            W2 = rng.standard_normal((6, 6))
            expected += h.T @ g
            bar = SP.stack_bar_b(stack, bar, g, h, W2)
        else:
            expected += h[:, None] * g[None, :]
            bar = SP.stack_bar_b(stack, bar, g, h, W)
    bar = SP.flush_bar_b(stack, bar, W)
    np.testing.assert_allclose(bar, expected, rtol=1e-13)


@pytest.mark.parametrize("shape,index_shape", [((48, 48), (48, 48)), ((10,), (30,)),
                                               ((5, 6), (7,)), ((3, 4, 5), (2, 9)),
                                               ((1000,), (3,))])
def test_add_at_matches_ufunc_at_with_repeats_and_negative_indices(shape, index_shape):
    rng = np.random.default_rng(len(shape))
    bar = rng.standard_normal(shape)
    ref = bar.copy()
    index = tuple(rng.integers(-s, s, index_shape) for s in shape)
    index = index if len(index) > 1 else index[0]
    g = rng.standard_normal(index_shape)
    np.add.at(ref, index, g)
    add_at(bar, index, g)
    np.testing.assert_allclose(bar, ref, rtol=1e-13, atol=1e-13)
    add_at(bar, index, 2.5)
    np.add.at(ref, index, 2.5)
    np.testing.assert_allclose(bar, ref, rtol=1e-13, atol=1e-13)


def test_add_at_keeps_ufunc_at_for_slices_and_other_dtypes():
    bar = np.zeros((4, 3))
    add_at(bar, (np.array([0, 0, 2]), slice(None)), np.ones(3))
    assert bar[0].tolist() == [2.0, 2.0, 2.0] and bar[2].tolist() == [1.0, 1.0, 1.0]
    ints = np.zeros(4, dtype=np.int64)
    add_at(ints, np.array([1, 1, 3]), np.array([1, 2, 3]))
    assert ints.tolist() == [0, 3, 0, 3]


def bilinear_sample(f, x, y):
    i0 = x.astype(int)
    j0 = y.astype(int)
    s = x - i0
    t = y - j0
    return np.sum((1 - s) * ((1 - t) * f[i0, j0] + t * f[i0, j0 + 1])
                  + s * ((1 - t) * f[i0 + 1, j0] + t * f[i0 + 1, j0 + 1]))


def test_bilinear_gather_gradient():
    rng = np.random.default_rng(6)
    f = rng.standard_normal((6, 6))
    x = rng.uniform(0.5, 4.5, (6, 6))
    y = rng.uniform(0.5, 4.5, (6, 6))
    got = diffc.grad(bilinear_sample, wrt=0)(f, x, y)
    plain = diffc.grad(bilinear_sample, wrt=0, optimize=False)(f, x, y)
    np.testing.assert_allclose(got, plain, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, numeric_grad(bilinear_sample, (f, x, y), 0), rtol=1e-6, atol=1e-8)
