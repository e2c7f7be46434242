"""Issue 15, fuzzer classes found by helper b (tests/fuzz/FINDINGS_b.md).

B1: a helper writing into the array it returns, whose result's adjoint the caller
    shares with another adjoint (``u = u * c + kick(u[i])``): the helper's adjoint
    zeroed an entry of the caller's buffer.
B2: ``for e in w`` (or ``enumerate(w)``) whose body writes into w and then rebinds
    w: the loop's view of w was re-read from the new array.
B3: the zero adjoint times the smaller factor of a broadcasting product
    (``W * b`` after an early return or a branch not taken): a b-shaped adjoint for W.

Every derivative is checked against central finite differences of the program as
Python runs it, in both modes (and at second order where it applies)."""

import copy

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad

V3 = np.array([0.809, 0.888, -0.477])
V4 = np.array([0.863, 0.537, 0.855, 0.484])


def _fresh(args):
    return [copy.deepcopy(a) for a in args]


def _fd(fn, args, k):
    return numeric_grad(lambda *a: fn(*_fresh(a)), _fresh(args), k)


def check(fn, args, wrt=(0,), second_order=False):
    """Reverse gradient, forward directional derivative (and the Hessian of the first
    wrt argument) against central finite differences; the arguments stay unchanged."""
    args = list(args)
    saved = _fresh(args)
    grads = diffc.grad(fn, wrt=tuple(wrt))(*_fresh(args))
    for k, g in zip(wrt, grads):
        assert_close(g, _fd(fn, args, k), rtol=1e-6, atol=1e-7, what=f"reverse d/darg{k}")
    rng = np.random.default_rng(1)
    tangents = [None] * len(args)
    for k in wrt:
        tangents[k] = rng.standard_normal(np.shape(args[k])) if np.ndim(args[k]) else 0.7
    _, tangent_out = diffc.jvp(fn, tuple(_fresh(args)), tuple(tangents))
    expected = sum(np.sum(_fd(fn, args, k) * tangents[k]) for k in wrt)
    assert_close(tangent_out, expected, rtol=1e-6, atol=1e-7, what="forward")
    for a, b in zip(args, saved):
        assert_close(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=0, what="arguments unchanged")
    if second_order:
        k = wrt[0]
        hess = diffc.hessian(fn, wrt=k)(*_fresh(args))

        def grad_k(v):
            call = _fresh(args)
            call[k] = v
            return np.asarray(diffc.grad(fn, wrt=k)(*call))
        base = np.asarray(args[k], float)
        eps = 1e-5
        columns = []
        for i in range(base.size):
            e = np.zeros(base.size)
            e[i] = eps
            plus = (base.reshape(-1) + e).reshape(base.shape)
            minus = (base.reshape(-1) - e).reshape(base.shape)
            if base.ndim == 0:
                plus, minus = float(plus), float(minus)
            columns.append((grad_k(plus) - grad_k(minus)) / (2 * eps))
        expected_h = np.stack(columns, axis=-1).reshape(base.shape + base.shape)
        assert_close(hess, expected_h, rtol=1e-5, atol=1e-6, what="hessian")


# ------------------------------------------ B1: a helper's adjoint writing into its seed

def kick(a):
    f = np.zeros(3)
    f[-1] += a * 0.25
    return f


def kick_twice(a):
    f = kick(a)
    return f


def relax_kicked(u):
    for i in range(3):
        u = u * -1.1 + kick(u[2 - i])
    return np.sum(u * u)


def relax_kicked_nested(u):
    for i in range(3):
        u = u * -1.1 + kick_twice(u[2 - i])
    return np.sum(u * u)


def smooth(u):
    w = u * 1.0
    w[1:-1] = 0.5 * (u[:-2] + u[2:])
    return w


def smoothed_step(u, dt):
    u = u + dt * smooth(u)
    u = u + smooth(u)
    return np.sum(np.sin(u))


def forcing(a, n):
    w = np.full(n, a * 0.5)
    w[0] = np.cos(a)
    w[1:] *= 2.0
    return w


def driven(u, a):
    n = u.shape[0]
    k = 0
    while k < 2:
        u = np.tanh(u) + forcing(u[k] * a, n)
        k = k + 1
    return np.sum(u ** 2)


@pytest.mark.parametrize("fn", [relax_kicked, relax_kicked_nested])
def test_helper_adjoint_leaves_callers_adjoint_alone(fn):
    check(fn, [V3.copy()], second_order=True)


def test_helper_adjoint_slice_write_shared_seed():
    check(smoothed_step, [V4.copy(), 0.3], wrt=(0, 1))


def test_helper_adjoint_in_while_loop():
    check(driven, [V4.copy(), 0.8], wrt=(0, 1), second_order=True)


# ------------------------------------------ B2: writing into, then rebinding, the iterated array

def rescaled_while_iterating(x):
    w = np.full(4, x * 0.5)
    for i, e in enumerate(w):
        w[(i + 1) % 4] = np.sin(e)
        w = w * 1.5
    return np.sum(w ** 2)


def double_buffer_in_element_loop(y):
    y = y.copy()
    for e in y:
        for t in range(2):
            new = y.copy()
            for i in range(1, len(y) - 1):
                new[i] = y[i] + 0.2 * (y[i - 1] - 2.0 * y[i] + y[i + 1])
            y = new
        y[1] += e * 0.5
    return np.sum(y * y)


def rebind_in_branch(y, a):
    y = y * a
    for i, e in enumerate(y):
        y[(i + 1) % len(y)] = np.tanh(e)
        if i == 1:
            y = y + 0.1
    return np.sum(np.sin(y))


def build_by_iteration(a):
    w = np.full(4, a * 0.5)
    for i, e in enumerate(w):
        w[(i + 1) % 4] = np.cos(w @ w) * 0.5
        w = np.full(4, np.sum(np.full(4, e * 0.5) * 3.0) * 0.5)
    return w


def calls_builder(x):
    y = build_by_iteration(np.sqrt(1.0 + x ** 2))
    return np.sum(y * y)


def written_not_rebound(x):
    w = x * 1.0
    for i, e in enumerate(w):
        w[(i + 1) % len(w)] = np.sin(e) + w[i]
    return np.sum(w ** 2)


def test_rebinding_the_iterated_array():
    check(rescaled_while_iterating, [1.113], second_order=True)


def test_double_buffer_inside_element_loop():
    check(double_buffer_in_element_loop, [V3.copy()], second_order=True)


def test_rebinding_in_a_branch():
    check(rebind_in_branch, [V4.copy(), 0.7], wrt=(0, 1))


def test_rebinding_iterated_array_in_helper():
    check(calls_builder, [1.113])


def test_written_iterated_array_not_rebound():
    check(written_not_rebound, [V4.copy()], second_order=True)


def shrink_while_iterating(x):
    w = x * 1.0
    for e in w:
        w[0] = w[0] + e
        w = w[1:]
    return np.sum(w) + x[0]


def test_rebinding_to_a_view_of_the_iterated_array_is_refused():
    # w = w[1:] keeps sharing the iterated array: refused, never a silent wrong answer
    with pytest.raises(diffc.DiffcError, match="iterates over 'w' while writing into it"):
        diffc.grad(shrink_while_iterating)(V4.copy())


# ------------------------------------------ B3: the zero adjoint of a broadcasting product

def early_exit_before_product(x, v):
    W = np.outer(v, v) * x
    b = np.sin(v)
    s = np.sum(W * b)
    if x > 0.0:
        return x * np.sum(v)
    return s


def layers_after_early_return(x, v):
    s1 = np.sin(x)
    params = [(np.outer(np.sin(v), v) * 0.3 + np.eye(3), np.sin(v) * 0.9),
              (np.outer(np.sin(v + 1.0), v) * 0.3 + np.eye(3), 0.2),
              (np.outer(np.sin(v + 2.0), v) * 0.3 + np.eye(3), x)]
    k = 0
    while np.mean(v) > -5.0 and k < 3:
        k = k + 1
        if v[0] > 5.0:
            return s1
    for j, (W, b) in enumerate(params[::-1]):
        s1 = s1 + np.sum(W * b) * 0.1
    return x * np.sum(v)


def test_zero_adjoint_broadcasting_product():
    check(early_exit_before_product, [0.3, V3.copy()], wrt=(0, 1), second_order=True)


def test_zero_adjoint_parameter_list_after_early_return():
    check(layers_after_early_return, [0.3, V3.copy()], wrt=(0, 1))
