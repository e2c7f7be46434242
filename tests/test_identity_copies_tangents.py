"""`t = y * 1.0` is a new array; its tangent must be one too.

The tangent of ``t = y * 1.0`` is ``y_dot * 1.0``; the algebra pass folds ``e * 1.0``
into ``e`` but kept a product bound to a name, so that t's tangent does not become y's
tangent object.  It missed the product inside a helper that hands back its argument
(``t_dot = fit_dot(y_dot * 1.0, t)``): t's tangent was y's, and a later in-place write
into y (``y[1:] = np.sin(y[:-1])``, whose tangent is written into y_dot in place)
changed it.  jvp was wrong at first order (-1.351 against -1.097), and every
forward-over-reverse second derivative of such code (fuzz seed 110058).  Checked against
finite differences."""

import numpy as np
import pytest

import diffc

from gradcheck import assert_close


def shifted_after_scaled_copy(x, v):
    y = v * x
    t = y * 1.0
    s = np.sum(t * t)
    y[1:] = np.sin(y[:-1])
    return np.tanh(s) + np.sum(np.sin(y))


def copy_by_identities(x, v):
    y = np.cos(v * x)
    a = 1.0 * y
    b = y + 0.0
    c = y / 1.0
    y[0] = x * x
    y[2:] *= 3.0
    return np.sum(a * b * c) + np.sum(y)


def kept_in_a_list(x, v):
    y = v * x
    history = [y * 1.0, y + 0.0]
    for k in range(2):
        y[k + 1] = np.tanh(y[k])
        history.append(y * 1.0)
    return sum(np.sum(h ** 2) for h in history)


PROGRAMS = [shifted_after_scaled_copy, copy_by_identities, kept_in_a_list]
X = 0.737
V = np.array([-0.298, -1.005, -0.919, -1.02])


def _fd(fn, x, h=1e-6):
    return (fn(x + h) - fn(x - h)) / (2 * h)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_first_order_both_modes(f):
    expected = _fd(lambda x: f(x, V.copy()), X)
    assert_close(diffc.jvp(f, (X, V.copy()), (1.0, np.zeros(4)))[1], expected, what="jvp")
    assert_close(diffc.grad(f, wrt=0)(X, V.copy()), expected, what="grad")


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_second_order(f):
    g = diffc.grad(f, wrt=0)
    expected = _fd(lambda x: g(x, V.copy()), X, 1e-5)
    assert_close(diffc.hessian(f, wrt=0)(X, V.copy()), expected, rtol=1e-5, what="hessian")
    assert_close(diffc.jvp(g, (X, V.copy()), (1.0, np.zeros(4)))[1], expected, rtol=1e-5,
                 what="forward over reverse")
