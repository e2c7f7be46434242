"""Second derivatives through writes at a repeated fancy index.

``y[[0, 0, 1]] -= v`` keeps only the last write to index 0 (NumPy assigns in order), so
v[0] never reaches y.  First-order code gathers the adjoint of v with ``take_item``,
which drops the overwritten entries.  The gradient code built to be differentiated
again (transform/purify.py) replaced a take_item whose buffer the optimizer had
substituted by an expression with a plain read, which gave the overwritten entries the
adjoint too: the gradient code itself was wrong, so every second derivative was
(fuzz seed 110004: 0.0555 against 0.0370).  Checked against finite differences of the
gradient, in the three second-order compositions."""

import numpy as np
import pytest

import diffc

from gradcheck import assert_close


def relax_in_loop(x, w):
    s = x * 0.5
    for _ in range(1):
        t = np.ones(4) * w
        t[[0, 0, 1]] -= np.tanh(t[[1, 0, 0]] * s)
        s = s + np.sum(t * t) * 0.25
    return s


def scatter_update(x, w):
    y = np.array([1.0, 2.0, 3.0, 4.0]) * w
    idx = [2, 0, 2, 3]
    for k in range(2):
        y[idx] += np.sin(y[[0, 1, 2, 3]] * x) * (k + 1)
        x = x + np.sum(y) * 0.1
    return np.sum(y ** 2) + x


def repeated_rows(x, w):
    M = np.outer(np.arange(1.0, 4.0), np.ones(2)) * w
    M[[1, 1, 0]] = np.tanh(M[[0, 2, 2]] * x)
    return np.sum(M * M) * x


PROGRAMS = [relax_in_loop, scatter_update, repeated_rows]
X, W = 0.507, -0.378


def _grad(f, x):
    return diffc.grad(f, wrt=0)(x, W)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_second_derivative_matches_finite_differences(f):
    h = 1e-5
    expected = (_grad(f, X + h) - _grad(f, X - h)) / (2 * h)
    first = (f(X + h, W) - f(X - h, W)) / (2 * h)
    assert_close(_grad(f, X), first, what="grad")
    assert_close(diffc.hessian(f, wrt=0)(X, W), expected, rtol=1e-5, what="hessian")
    g = diffc.grad(f, wrt=0)
    assert_close(diffc.grad(g, wrt=0)(X, W), expected, rtol=1e-5, what="reverse over reverse")
    assert_close(diffc.jvp(g, (X, W), (1.0, 0.0))[1], expected, rtol=1e-5, what="forward over reverse")
