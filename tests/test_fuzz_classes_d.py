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
D4: forward mode, a new array whose tangent was an operand's tangent object (``t = v + 1.0``,
    a helper or function value returning ``v + c``, ``+v`` taken for ``v``), then ``v``
    written in place: the write reached t's tangent (seeds 816 4035 5386 6878).

Every derivative is checked against central finite differences of the program as
Python runs it, in both modes, and at second order where it applies."""

import functools

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


# ---- D4: a tangent that is an operand's tangent object, written in place later (forward)

def layers_built_before_update(v):
    y = v * 0.9
    params = [(v * 0.9, np.sin(v) * -1.1), (np.sin(v + 1.0), 0.2)]
    for i in range(3):
        v[i:] += np.sin(np.tanh(v[2 - i])) * 1.3
    for W, b in params[1:]:
        y = np.sin(W * y) + b
    return np.sum(y * y)


def shifted_then_updated(v, x):
    u = v + 1.0
    w = v - x
    for i in range(2):
        v[i] *= x
    return np.sum(u * w * v)


def test_tangent_of_a_new_array_kept_past_an_in_place_write():
    """Seeds 816 4035 5386 6878 of the budget run: `t = v + 1.0` took v_dot itself as its
    tangent (cat_left returns it), and `v[i:] += c` then updated v_dot in place."""
    check(layers_built_before_update, [np.array([0.857, -0.588, 0.398])], second_order=True)
    check(shifted_then_updated, [np.array([0.857, -0.588, 0.398]), 0.7], wrt=(0, 1), second_order=True)


# The same class through every way a new array can take an operand's tangent object:
# unary plus, a helper returning `v + c` (alone, in a tuple, as an object's field), a
# method, a function value (default parameter, partial, lambdas in a list), in a loop.

def _shift(v, s=1.0):
    return v + s


def _shift_and_scale(v, c=0.5):
    r = v - c
    return r, c


class _Holder:
    def __init__(self, v):
        self.v = v + 0.0

    def moved(self, u):
        return u - self.v[0]


def unary_plus_then_write(x):
    v = x * 2.0
    u = +v
    v[0] += x[2]
    return np.sum(u * x) + np.sum(v ** 2)


def helper_result_then_write(x):
    v = x * 2.0
    t = _shift(v)
    r, c = _shift_and_scale(v)
    v[0] += np.sin(x[1])
    return np.sum(t * t) + np.sum(r ** 3) * c + np.sum(v)


def field_then_write(x):
    v = x * 2.0
    holder = _Holder(v)
    moved = holder.moved(v)
    v[2] *= 3.0
    return np.sum(holder.v ** 2) + np.sum(moved * x) + np.sum(v)


def function_values_then_write(x, fn=_shift):
    v = x * 2.0
    t = fn(v)
    shifted = functools.partial(_shift, s=2.0)
    p = shifted(v)
    fs = [lambda u: u + 1.0, lambda u: u - 3.0]
    ts = [f(v) for f in fs]
    for i in range(3):
        v[i] += ts[0][i] * 0.1
    return np.sum(t * t) + np.sum(p * x) + sum(np.sum(s ** 2) for s in ts) + np.sum(v ** 2)


def helper_in_loop_then_write(x):
    v = x * 2.0
    acc = 0.0
    for k in range(2):
        t = _shift(v, float(k))
        v[k:] *= 1.2
        acc = acc + np.sum(t * t * v)
    return acc


@pytest.mark.parametrize("fn", [unary_plus_then_write, helper_result_then_write, field_then_write,
                                function_values_then_write, helper_in_loop_then_write])
def test_new_array_from_a_call_kept_past_an_in_place_write(fn):
    check(fn, [np.array([0.3, -0.7, 1.1])], second_order=True)


# ---- seed 45 (higher-order run): an index saved on a loop tape with differentiated values

def _ramp(a):
    w = np.ones(4) * a
    w[3] += a
    return w


def element_at_computed_index(x, v):
    s0 = x * 0.5
    s1 = np.sum(_ramp(np.exp(-s0 ** 2)) * 0.9)
    for i in range(1):
        y0 = _ramp(np.sum(_ramp(s1) * v))
        s0 = y0[i // 2]
        y0[(i + 1) % 4] -= np.cos(np.mean(y0) + np.dot(y0, y0)) * 0.25
    return s0 * y0[1]


def test_index_off_a_tape_in_reverse_over_reverse():
    """The first-order gradient saves `i // 2` in one tape tuple with floats; differentiating
    that gradient again took the index for a differentiated value and refused
    `element(y0, _t9)` ("not differentiable in its argument index")."""
    x, v = 0.5, np.array([-0.44, 0.139, 1.004, -0.369])
    check(element_at_computed_index, [x, v], wrt=(1,), second_order=True)
    grad = diffc.grad(element_at_computed_index, wrt=1)
    t = np.array([0.3, -0.2, 0.5, 0.1])
    _, pullback = diffc.vjp(grad, x, v)
    expected = (grad(x, v + 1e-5 * t) - grad(x, v - 1e-5 * t)) / 2e-5
    assert_close(pullback(t)[1], expected, rtol=1e-5, atol=1e-6, what="vjp of grad (reverse over reverse)")


# ---- seed 876 (higher-order run): a matmul whose result gets a zero adjoint, at second order

def _bump(a):
    w = np.zeros(5)
    w[4] += a
    w[2] = np.tanh(w[2] + a)
    return w


def matmul_result_scaled_away(x, v):
    y0 = v * x
    s = y0 @ y0
    y0 = _bump(0.3)
    return np.sum(np.sin(y0 * v)) + 0.0 * s


@pytest.mark.parametrize("k", [0, 1])
def test_zero_adjoint_of_matmul_in_reverse_over_reverse(k):
    """The adjoint rules of the matmul adjoint helpers met the zero 0.0 (`np.matmul(a, 0.0)`:
    ValueError inside generated code) when the gradient was differentiated again."""
    x, v = 0.041, np.array([-0.141, 0.828, 0.322, 0.116, -0.413])
    check(matmul_result_scaled_away, [x, v], wrt=(k,), second_order=True)
    grad = diffc.grad(matmul_result_scaled_away, wrt=k)
    t = 0.7 if k == 0 else np.array([0.2, 0.5, -0.4, 0.3, 0.1])
    _, pullback = diffc.vjp(grad, x, v)
    args = [x, v]
    plus, minus = list(args), list(args)
    plus[k] = args[k] + 1e-5 * t
    minus[k] = args[k] - 1e-5 * t
    expected = (np.asarray(grad(*plus)) - np.asarray(grad(*minus))) / 2e-5
    assert_close(pullback(t)[k], expected, rtol=1e-5, atol=1e-7, what="vjp of grad (reverse over reverse)")
