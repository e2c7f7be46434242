"""One helper compiled for several argument kinds keeps each compilation's own facts.

diffc compiles a user helper once per kind of its arguments (a Python float, a NumPy
scalar such as ``y @ y``, an array).  Each compilation starts from the same front-end
statements; a fact one compilation recorded on a statement (which container already
takes back a write into its item) leaked into the next one through annotations that
tree copies share by reference.  The second compilation then skipped the write-back:
``for p in params: p *= t`` no longer reached ``params``, and even the *value* of the
function was wrong (fuzz seeds 100004 and 100324: value_and_grad's value differed from
f's).  Each program below calls a helper with two argument kinds; value, gradient,
jvp and second derivative are checked against the function itself and finite
differences."""

import numpy as np
import pytest

import diffc

from gradcheck import assert_close


def scaled_pair(a):
    """A helper whose list items are updated in place through the loop variable."""
    t = a * 0.5
    w = np.ones(4) * a
    w[0] += a
    parts = [w.ravel() * 0.5, w.ravel() ** 2]
    for p in parts:
        p *= t
    t = t + np.sum(parts[0] * parts[1]) * 0.5
    w[-1] += t * 0.25
    return w


def halved_head(a):
    """A helper writing through a slice view of the array it returns."""
    w = np.ones(3) * a
    w[0] += a
    head = w[0:3]
    head *= 0.5
    w[0] = np.tanh(w[0])
    return w


def float_then_numpy_scalar(x):
    y = scaled_pair(np.sin(x[0]))
    y = scaled_pair(y @ y * 0.1)           # a NumPy scalar: a second compilation
    return np.sum(np.sin(y)) + x[1] * y[2]


def float_then_numpy_scalar_view(x):
    y = halved_head(x[0] * 0.5)
    z = halved_head(np.cos(y @ x[:3]))
    return np.sum(z * z) + y[1]


def in_a_loop(x):
    acc = 0.0
    y = scaled_pair(float(x[0]))
    for k in range(2):
        y = scaled_pair(np.sum(y) * 0.05 + x[k + 1])
        acc = acc + y[k]
    return acc


def damped(a):
    """Works for a number and for an array of 3 (broadcast)."""
    w = np.ones(3) * a
    parts = [w * 0.5, w ** 2]
    for p in parts:
        p *= np.cos(a)
    return parts[0] + parts[1]


def scalar_then_array_argument(x):
    first = damped(x[0])
    second = damped(x[:3] * 0.3)
    return np.sum(first * second)


PROGRAMS = [float_then_numpy_scalar, float_then_numpy_scalar_view, in_a_loop, scalar_then_array_argument]
X = np.array([0.4, -0.3, 0.7, 0.2])


def _fd_grad(f, x, h=1e-6):
    out = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        out[i] = (f(x + e) - f(x - e)) / (2 * h)
    return out


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_value_and_first_derivatives(f):
    value, grad = diffc.value_and_grad(f)(X.copy())
    assert_close(value, f(X.copy()), rtol=1e-12, atol=1e-12, what="value")
    expected = _fd_grad(f, X)
    assert_close(grad, expected, what="grad")
    direction = np.array([0.3, -1.0, 0.5, 0.8])
    assert_close(diffc.jvp(f, (X.copy(),), (direction,))[1], expected @ direction, what="jvp")


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_second_derivative(f):
    hessian = diffc.hessian(f)(X.copy())
    expected = np.array([_fd_grad(lambda x: diffc.grad(f)(x)[i], X, 1e-5) for i in range(X.size)])
    assert_close(hessian, expected, rtol=1e-4, atol=1e-5, what="hessian")
