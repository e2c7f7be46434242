"""Second derivatives when an object still holds an array that is then written in place.

``cell = Cell(y); cell.step(x)`` (the method rebinds ``self.h``) leaves the *old* object
holding y, and the gradient pops that old object from its tape to differentiate the
step.  In the gradient code built to be differentiated again, the object was bound
through ``copy_value``, which returns an object of a user class itself; an optimizer
pass took every copy_value for a new object holding nothing, decided that no name read
after the adjoint's restore of ``y[3] = 2.0`` could see y, and dropped the restore: the
step's derivative was then computed from the overwritten y, and the Hessian was wrong
(40.70 against 29.77 for the first program).  A copy counts as new now only where diffc
knew the value is an array.  When the array is also rebound after the write
(`overwrite_then_rebind`, fuzz seed 98017 as `two_objects_over_one_array`), the array popped
back from the tape was copied before the restore wrote into it, so the old object kept
the overwritten values (19.20 against 14.87): a tape pop in generated code is no longer
copied.  Checked against finite differences of the gradient and
a closed form, in the three second-order compositions."""

import numpy as np
import pytest

import diffc

from gradcheck import assert_close


class Cell:
    def __init__(self, h):
        self.h = h

    def step(self, u):
        self.h = self.h * u


class Stack:
    def __init__(self, layers):
        self.layers = layers

    def scale(self, u):
        self.layers = [layer * u for layer in self.layers]


def step_then_overwrite(x, v):
    y = v * 1.0
    cell = Cell(y)
    cell.step(x)
    s = np.sum(cell.h)
    y[3] = 2.0
    return s * s


def step_in_a_loop_then_overwrite(x, v):
    y = v * 1.0
    total = 0.0
    for k in range(2):
        cell = Cell(y)
        cell.step(x + k)
        total = total + np.sum(cell.h ** 2)
        y[k] = np.tanh(x)
    return total


def list_field_rebound_then_overwrite(x, v):
    a = v * 1.0
    b = v[::-1] * 0.5
    model = Stack([a, b])
    model.scale(x)
    s = np.sum(model.layers[0] * model.layers[1])
    a[1] = 3.0
    b[0] *= 2.0
    return s * x


def overwrite_then_rebind(x, v):
    s = x * 1.0
    y = v * 1.0
    cell = Cell(y)
    cell.step(s)
    s = s + np.sum(cell.h)
    y[3] = 2.0
    y = y * s
    return y[0] * s


class Damped:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    def step(self, u):
        self.h = self.h / (1 + (self.w * u) ** 2)
        return self.h + u


def two_objects_over_one_array(x, v):
    s = np.sin(0.3) + x
    y = np.sin(v) - 0.458
    first = Damped(s, y)
    first.step(s)
    s = s + np.sum(first.h) * 0.25
    y[3] *= y[2]
    second = Damped(s, y)
    y = second.step(y)
    return y[0]


PROGRAMS = [step_then_overwrite, step_in_a_loop_then_overwrite, list_field_rebound_then_overwrite,
            overwrite_then_rebind, two_objects_over_one_array]
X = 0.579
V = np.array([0.315, 1.043, 0.674, 0.583, 1.243])


def _grad(f, x):
    return diffc.grad(f, wrt=0)(x, V.copy())


def test_closed_form():
    assert_close(diffc.hessian(step_then_overwrite, wrt=0)(X, V.copy()), 2 * np.sum(V) ** 2)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_second_derivative_matches_finite_differences(f):
    h = 1e-5
    assert_close(_grad(f, X), (f(X + h, V.copy()) - f(X - h, V.copy())) / (2 * h), what="grad")
    expected = (_grad(f, X + h) - _grad(f, X - h)) / (2 * h)
    assert_close(diffc.hessian(f, wrt=0)(X, V.copy()), expected, rtol=1e-5, what="hessian")
    g = diffc.grad(f, wrt=0)
    assert_close(diffc.grad(g, wrt=0)(X, V.copy()), expected, rtol=1e-5, what="reverse over reverse")
    assert_close(diffc.jvp(g, (X, V.copy()), (1.0, np.zeros(5)))[1], expected, rtol=1e-5,
                 what="forward over reverse")
