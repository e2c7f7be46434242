"""Issue 15 (classes D, E, F): silent zeros, edge-point values and crashes.

Every derivative is checked against central finite differences or a closed form, in
reverse mode (grad) and forward mode (jvp), and at second order (hessian) where the
function is smooth at the point.
"""
import math
import warnings

import numpy as np
import pytest

import diffc
from diffc.errors import BadArgument, DiffcError, UnsupportedSyntax

from gradcheck import assert_close, numeric_grad


def fd_hessian(f, x, h=1e-4):
    """Second-order central differences of scalar f at the vector x."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    H = np.zeros((n, n))
    eye = np.eye(n).reshape((n,) + x.shape)
    for i in range(n):
        for j in range(n):
            ei, ej = eye[i] * h, eye[j] * h
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return H


def check_both_modes(f, x, hessian=True, rtol=1e-5, atol=1e-6):
    """grad (reverse), jvp along two directions (forward) and hessian against differences."""
    expected = numeric_grad(f, [x], 0)
    assert_close(diffc.grad(f)(x), expected, rtol, atol, "grad")
    rng = np.random.default_rng(0)
    for _ in range(2):
        v = rng.standard_normal(np.shape(x))
        value, tangent = diffc.jvp(f, (x,), (v,))
        assert_close(value, f(x), 1e-12, 1e-12, "jvp value")
        assert_close(tangent, np.sum(expected * v), rtol, atol, "jvp tangent")
    if hessian:
        H = np.asarray(diffc.hessian(f)(x)).reshape(np.size(x), np.size(x))
        assert_close(H, fd_hessian(f, x), 1e-4, 1e-4, "hessian")


X = np.array([0.3, -0.9, 0.5])


# ------------------------------------------------------------ D: np.r_ / np.c_

def r_doubled(x):
    return np.sum(np.r_[x, x] * 2.0)


def r_weighted(x):
    return np.sum(np.r_[x, x] ** 2 * np.arange(6.0))


def c_columns(x):
    return np.sum(np.c_[x, 2.0 * x] ** 2 * np.arange(6.0).reshape(3, 2))


def r_with_range_and_scalars(x):
    return np.sum(np.r_[0:3, x, x[0], 2.0, 7] ** 3)


def r_directive(x):
    return np.sum(np.r_['0,2,1', x, np.sin(x)] ** 2 * np.arange(6.0).reshape(2, 3))


def r_single_item(x):
    return np.sum(np.sin(np.r_[x]) * np.r_[x[1]])


def c_with_range(x):
    m = np.c_[0:3, x, np.zeros(3)]
    return np.sum(m @ np.array([1.0, x[1], 2.0]) ** 2)


def r_inside_loop(x):
    acc = np.zeros(0)
    for i in range(3):
        acc = np.r_[acc, x[i] * x]
    return np.sum(acc ** 2)


def r_of_matrix(x):
    m = np.outer(x, x)
    return np.sum(np.r_[m, m[:1]] ** 2 * np.arange(12.0).reshape(4, 3))


@pytest.mark.parametrize("f", [r_doubled, r_weighted, c_columns, r_with_range_and_scalars, r_directive,
                               r_single_item, c_with_range, r_inside_loop, r_of_matrix])
def test_index_concatenators(f):
    check_both_modes(f, X)


def test_r_doubled_closed_form():
    assert_close(diffc.grad(r_doubled)(X), np.full(3, 4.0))


def test_index_expressions_are_constants():
    def f(x):
        s = np.s_[1:]
        t = np.index_exp[:2]
        return np.sum(x[s] ** 2) + np.sum(x[t])
    check_both_modes(f, X)


def test_r_matrix_directive_is_refused():
    def f(x):
        return np.sum(np.r_['r', x, x])
    with pytest.raises(UnsupportedSyntax, match="matrix directive"):
        diffc.grad(f)(X)
