"""Issue 15, fuzzer classes found in session 3 (tests/fuzz/FINDINGS_d.md).

D1: the zero adjoint times the smaller factor of a same-rank broadcasting product
    (``(c * x) * r`` with c (3, 1) and r (1, 3), the product's adjoint zero because
    a branch returned first): the adjoint of r came out (3, 1)-shaped and crashed.
D2: a slice view saved on a tape (``_t5 = w[1:]`` for ``w[1:] *= c``) read by an
    adjoint expression that the optimizer moved past a restore into its base
    (``w[2] = saved``): wrong gradient of a helper writing ``w[2] += a`` then
    ``w[1:] *= c`` (seed 20013).
D3: ``for e in y`` whose body rebinds y, then writes into the new y through a view
    in a nested loop: the loop's re-read of its sequence ran unguarded and the loop
    went on over the new array (seed 33103).

Every derivative is checked against central finite differences of the program as
Python runs it, in both modes, and at second order where it applies."""

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad
from test_fuzz_classes_b import check

COLUMN = np.array([[0.2], [0.5], [-0.3]])
ROW = np.array([[0.4, -0.1, 0.9]])
V4 = np.array([0.863, 0.537, -0.855, 0.484])


# ------------------------------------- D1: zero adjoint, same-rank broadcasting factors

def outer_unless_positive(x, c, r):
    t = (c * x) * r
    if x > 0.0:
        return np.sum(c) * x
    return np.sum(t)


def scaled_grid(c, r, x):
    grid = c * r
    return grid * x


def grid_in_callee(x, c, r):
    g = scaled_grid(c, r, x)
    if x > 0.0:
        return np.sum(c * c) * x
    return np.sum(np.sin(g))


def grid_in_loop(x, c, r):
    total = 0.0
    for k in range(3):
        g = (c + k) * r * x
        if k >= 1:
            break
        total = total + np.sum(np.tanh(g))
    return total


def test_zero_adjoint_column_times_row():
    check(outer_unless_positive, [0.6, COLUMN, ROW], wrt=(0, 1, 2))
    check(outer_unless_positive, [-0.6, COLUMN, ROW], wrt=(0, 1, 2))


def test_zero_adjoint_column_times_row_in_callee():
    check(grid_in_callee, [0.6, COLUMN, ROW], wrt=(0, 1, 2), second_order=True)
    check(grid_in_callee, [-0.6, COLUMN, ROW], wrt=(0, 1, 2), second_order=True)


def test_zero_adjoint_column_times_row_in_loop():
    check(grid_in_loop, [0.7, COLUMN, ROW], wrt=(0, 1, 2), second_order=True)


def test_zero_adjoint_three_axes():
    a = np.linspace(-0.5, 0.5, 6).reshape(2, 1, 3)
    b = np.array([[[0.3], [-0.2], [0.8], [0.1]]])

    def f(x, a, b):
        t = a * b * x
        if x > 0.0:
            return x * np.sum(a)
        return np.sum(t * t)
    check(f, [0.4, a, b], wrt=(0, 1, 2))


# ---------------------------- D2: a view on the tape read after a restore into its base

def shaped(a):
    t = a * 0.5
    w = np.zeros(5)
    w[2] += a
    w[1:] *= np.tanh(t ** 2)
    return w


def profile_energy(x):
    y = np.full(5, x)
    y = shaped(np.tanh(y[-3]))
    return np.sum(y * y)


def profile_twice(x):
    y = shaped(x)
    y = shaped(y[2] * 0.8)
    return np.sum(y * y) + y[1]


def damped_in_loop(v):
    z = v.copy()
    for i in range(3):
        z[i] += v[i + 1] * 0.5
        z[1:] *= np.cos(z[i])
    return np.sum(z * z)


def test_view_on_tape_after_restore_in_helper():
    check(profile_energy, [-0.87], second_order=True)
    check(lambda x: np.sum(shaped(x) ** 2), [-0.87], second_order=True)


def test_view_on_tape_after_restore_called_twice():
    check(profile_twice, [0.64], second_order=True)


def test_view_on_tape_after_restore_in_loop():
    check(damped_in_loop, [V4.copy()], second_order=True)


# --------------------- D3: a loop over an array rebound, then written through a view

def iterate_rebind_write_view(x, w):
    y = np.full(4, x)
    for i, e in enumerate(y):
        for _ in range(2):
            y = y * 0.5 + x
        y[-(i % 2) - 1] = y.sum() - w
        for _ in enumerate(y):
            tail = y[1:4]
            tail *= 0.25
            y[(i + 3) % 4] = e
    return np.sum(np.sin(y))


def iterate_write_view_no_rebind(x):
    y = np.full(4, x) * np.arange(1.0, 5.0)
    s = 0.0
    for e in y:
        mid = y[1:3]
        mid *= 0.5
        s = s + np.sin(e)
    return s + np.sum(y)


def iterate_rebind_then_view(x):
    y = np.full(4, x) * np.arange(1.0, 5.0)
    s = 0.0
    for e in y:
        head = y[1:3]
        head *= 0.5
        y = y * 0.9
        head = y[0:2]
        head += 1.0
        s = s + np.sin(e) * y[1]
    return s + np.sum(y)


def test_loop_over_rebound_array_written_through_view():
    check(iterate_rebind_write_view, [-1.327, -0.274], wrt=(0, 1), second_order=True)


def test_loop_over_array_written_through_view():
    check(iterate_write_view_no_rebind, [-1.327], second_order=True)
    check(iterate_rebind_then_view, [-1.327], second_order=True)


# ------- D1 at second order, reverse over reverse (seed 9 of the higher-order budget run)

def outer_on_branch(x, v, w):
    s1 = np.sin(w)
    y0 = v * x
    y1 = v * x
    g = (y1[:, None] * s1) * y0[None, :]
    if np.sum(y1) < 0.5:
        s1 = s1 + np.sum(np.tanh(g)) * 0.25
    return np.tanh(x * 0.5) + s1 + np.sum(y0 * y0) + np.sum(y1 * y1)


@pytest.mark.parametrize("x", [-0.956, 0.956])
def test_zero_adjoint_outer_reverse_over_reverse(x):
    """The adjoint of unbroadcast (broadcast_like) when unbroadcast spread its smaller argument
    first: reverse over reverse, against finite differences of the gradient."""
    args = [x, np.array([-0.436, -0.089, 0.107, -1.422]), -1.305]
    for k in (0, 1, 2):
        grad = diffc.grad(outer_on_branch, wrt=k)
        t = np.linspace(0.5, 1.5, 4) if k == 1 else 0.8
        _, pullback = diffc.vjp(grad, *[np.copy(a) if np.ndim(a) else a for a in args])
        got = pullback(t)
        for j in range(3):
            expected = numeric_grad(lambda *a: np.sum(np.asarray(grad(*a)) * t), list(args), j)
            assert_close(got[j], expected, rtol=1e-5, atol=1e-6, what=f"d/darg{j} of grad wrt {k}")
