"""Regression tests for the fuzzer classes of issue 15 found by helper c (tests/fuzz/FINDINGS_c.md).

Every derivative is checked against central finite differences, in reverse
mode (grad), forward mode (jvp along each basis direction) and, where it
applies, at second order (hessian against differences of the gradient).
"""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad


def _check_both_modes(f, x, v):
    """grad and jvp of f(x, v) in both arguments against finite differences."""
    for k in (0, 1):
        ref = numeric_grad(f, (x, v.copy()), k)
        assert_close(diffc.grad(f, wrt=k)(x, v.copy()), ref, what=f"{f.__name__} grad wrt {k}")
    tangents = [(1.0, np.zeros_like(v))] + [(0.0, e) for e in np.eye(v.size)]
    refs = [numeric_grad(f, (x, v.copy()), 0)] + list(numeric_grad(f, (x, v.copy()), 1))
    for (tx, tv), ref in zip(tangents, refs):
        _, tout = diffc.jvp(f, (x, v.copy()), (tx, tv))
        assert_close(tout, ref, what=f"{f.__name__} jvp")


# ---------------------------------------------------------------- class A
# An array packed into a tuple or list (np.c_[y, ...], np.r_[...], np.concatenate((y, y)),
# np.stack([y, y])) and then written into in place: forward mode read the updated tangent
# (forward_substitute moved the tangent of the concatenation past the write).

def c_then_write(x, v):
    y = v * x
    s = np.sum(np.c_[y, np.sin(y)] @ np.array([0.9, 0.5]))
    y[0] *= 3.0
    return np.tanh(s) + np.sum(np.sin(y))


def r_then_write(x, v):
    y = v.copy()
    s = np.cos(np.dot(np.r_[y, -1.1], np.r_[y, x]))
    y[1:2] = y[:1] * -0.7 + y[2:3]
    return s + np.sum(np.sin(y))


def concatenate_then_write(x, v):
    y = v * x
    pair = (y, y)
    s = np.sum(np.concatenate(pair) ** 2)
    y[0] *= 3.0
    return s + np.sum(y * y)


def stack_then_write(x, v):
    y = v * x
    s = np.sum(np.stack([y, np.sin(y)]) ** 2)
    y[-1] = y[0] * x
    return s + np.sum(y)


def _widths(y, x):
    return np.sum(np.c_[y, y * x] ** 2)


def helper_then_write(x, v):
    y = v * x
    s = _widths(y, x)
    y[1] += s
    return s + np.sum(np.sin(y))


def loop_then_write(x, v):
    y = v * x
    total = 0.0
    for i in range(3):
        total = total + np.sum(np.r_[y, x] * 0.5)
        y[i] = y[i] * 1.5 + x
    return total + np.sum(np.sin(y))


CLASS_A = [c_then_write, r_then_write, concatenate_then_write, stack_then_write, helper_then_write,
           loop_then_write]


@pytest.mark.parametrize("f", CLASS_A, ids=[f.__name__ for f in CLASS_A])
def test_packed_array_written_after(f):
    _check_both_modes(f, 0.37, np.array([0.3, -0.5, 0.8, 1.1]))


@pytest.mark.parametrize("f", [c_then_write, concatenate_then_write, stack_then_write],
                         ids=lambda f: f.__name__)
def test_packed_array_written_after_second_order(f):
    v = np.array([0.3, -0.5, 0.8, 1.1])
    hess = diffc.hessian(f, wrt=1)(0.37, v.copy())
    ref = fd_jacobian(lambda u: diffc.grad(f, wrt=1)(0.37, u), v, eps=1e-5)
    assert_close(hess, ref, rtol=1e-4, atol=1e-5, what=f"{f.__name__} hessian")


def test_seed_1466_minimized():
    def f(x, v, w, n):
        s0 = x * 0.5
        s2 = 0.3
        y0 = v.copy()
        s1 = np.sin(np.sum(np.c_[y0, np.sin(y0)] @ np.array([0.9, 0.5])))
        y0[-5] += y0[3]
        return np.tanh(s0) + np.tanh(s1) + s2 + np.sum(np.sin(y0))
    v = np.array([-0.068, 0.156, -1.364, 0.425, -0.911])
    t = np.array([0.3, -1.0, 0.5, 0.2, 0.7])
    _, tout = diffc.jvp(f, (-0.019, v, -1.241, 2), (0.0, t, 0.0, None))
    ref = float(numeric_grad(f, (-0.019, v, -1.241, 2), 1) @ t)
    assert_close(tout, ref, what="seed 1466 jvp")


# ---------------------------------------------------------------- class B
# A helper that copies its argument (`u = u.copy()`), or returns one element of a
# 1-d array, and a write into the caller's array afterwards: nothing shares that
# array in Python, diffc refused ("writes into 'y' in place while 's' shares its array").

def _middle_of_copy(u, a):
    u = u.copy()
    u[0] = a
    return u[(len(u) - 1) // 2]


def _element(u, a):
    return u[1] * 1.0 if a > 10.0 else u[1]


def _copy_returned(u):
    u = u.copy()
    u[0] += 1.0
    return u


def copy_then_element(x, v):
    y = v * x
    s = _middle_of_copy(y, x * 1.3)
    y[1] += np.sin(s)
    return s + np.sum(np.sin(y))


def element_of_vector(x, v):
    y = v * x
    s = _element(y, 1.3)
    y[1] += s * x
    return s * s + np.sum(np.sin(y))


def copy_returned(x, v):
    y = v * x
    c = _copy_returned(y)
    y[2] *= x
    return np.sum(c * c) + np.sum(np.sin(y))


def copy_in_loop(x, v):
    y = v * x
    total = 0.0
    for i in range(3):
        s = _middle_of_copy(y, total)
        y[i] = y[i] * s
        total = total + s
    return total + np.sum(np.sin(y))


CLASS_B = [copy_then_element, element_of_vector, copy_returned, copy_in_loop]


@pytest.mark.parametrize("f", CLASS_B, ids=[f.__name__ for f in CLASS_B])
def test_helper_result_shares_nothing(f):
    _check_both_modes(f, 0.37, np.array([0.3, -0.5, 0.8, 1.1]))


@pytest.mark.parametrize("f", [copy_then_element, copy_returned], ids=lambda f: f.__name__)
def test_helper_result_shares_nothing_second_order(f):
    v = np.array([0.3, -0.5, 0.8, 1.1])
    hess = diffc.hessian(f, wrt=1)(0.37, v.copy())
    ref = fd_jacobian(lambda u: diffc.grad(f, wrt=1)(0.37, u), v, eps=1e-5)
    assert_close(hess, ref, rtol=1e-4, atol=1e-5, what=f"{f.__name__} hessian")


def _row(u):
    return u[1]


def _maybe_copied(u, a):
    if a > 0.0:
        u = u.copy()
    return u


def row_of_matrix(x, m):
    y = m * x
    r = _row(y)              # a view of y's row: the write below changes r in Python
    y[1, 0] += 2.0 * x
    return np.sum(r * r)


def maybe_copied(x, v):
    y = v * x
    r = _maybe_copied(y, -1.0)   # y itself on this path
    y[0] += 2.0 * x
    return np.sum(r * r)


@pytest.mark.parametrize("f,arg", [(row_of_matrix, np.arange(6.0).reshape(3, 2) / 5),
                                   (maybe_copied, np.array([0.3, -0.5]))],
                         ids=["row_of_matrix", "maybe_copied"])
def test_helper_result_shares_still_refused(f, arg):
    """Where the result does share the caller's array, the refusal stays (both modes)."""
    with pytest.raises(diffc.DiffcError, match="shares its array|view of an array"):
        diffc.grad(f)(0.37, arg.copy())
    with pytest.raises(diffc.DiffcError, match="shares its array|view of an array"):
        diffc.jvp(f, (0.37, arg.copy()), (1.0, np.zeros_like(arg)))


# ---------------------------------------------------------------- class C
# A helper that builds an array and writes into it (`w[-1] = a`), its result added to
# another array: the adjoint of `+` hands one buffer to both operands, and the helper's
# adjoint zeroed the written entry in it (take_item) -- the other operand lost it
# (reverse mode only; seeds 1251 and 5279).

def _last_set(a):
    w = np.zeros(4)
    w[-1] = a
    return w


def _built(a):
    w = np.full(4, a * 0.5)
    w[1] += a
    t = w[1:3]
    w[2] = np.sqrt(1.0 + a ** 2)
    w[-1] = a + np.sum(t * t)
    return w


def added_to_helper(x, v):
    y = v * x + _last_set(x)
    return np.sum(y * y)


def added_in_loop(x, v):
    y = v * x
    for i in range(3):
        y = y * -1.1 + _built(x * y[1])
    return np.sum(y * y)


def helper_twice(x, v):
    y = v * x
    w = _built(np.dot(y, y))
    return np.sum((w + y) * _built(x))


def helper_from_helper(x, v):
    def outer(a):
        w = _last_set(a) + np.ones(4) * a
        w[0] = a * a
        return w
    y = outer(x) + v
    return np.sum(np.sin(y) * y)


CLASS_C = [added_to_helper, added_in_loop, helper_twice, helper_from_helper]


@pytest.mark.parametrize("f", CLASS_C, ids=[f.__name__ for f in CLASS_C])
def test_helper_adjoint_keeps_caller_seed(f):
    _check_both_modes(f, 0.37, np.array([0.3, -0.5, 0.8, 1.1]))


@pytest.mark.parametrize("f", [added_to_helper, helper_twice], ids=lambda f: f.__name__)
def test_helper_adjoint_keeps_caller_seed_second_order(f):
    v = np.array([0.3, -0.5, 0.8, 1.1])
    hess = diffc.hessian(f, wrt=1)(0.37, v.copy())
    ref = fd_jacobian(lambda u: diffc.grad(f, wrt=1)(0.37, u), v, eps=1e-5)
    assert_close(hess, ref, rtol=1e-4, atol=1e-5, what=f"{f.__name__} hessian")
    hx = diffc.hessian(f, wrt=0)(0.37, v.copy())
    refx = fd_jacobian(lambda x: diffc.grad(f, wrt=0)(x, v.copy()), 0.37, eps=1e-5)
    assert_close(hx, refx, rtol=1e-4, atol=1e-5, what=f"{f.__name__} hessian wrt x")
