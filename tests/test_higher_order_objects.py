"""Second order through calls that write attributes (a method updating its object, a
helper updating the object passed to it), reached the ways users write them: grad of
grad, grad of a function calling a gradient, jvp of a gradient.

Before the fix, the primal of code compiled to be differentiated again ran the user's
method on the caller's object itself (constructors.functional_method's Python wrapper),
so the adjoint recomputed from the changed object: grad of `lambda q, k: grad(f)(q, k)`
was wrong (-0.966 against -0.837 for the one-line method below) without any error.
Every value is checked against finite differences of the first derivative."""

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad


class Pendulum:
    def __init__(self, angle, speed=0.0):
        self.angle = angle
        self.speed = speed
        self.history = []

    def step(self, dt, g):
        self.speed = self.speed - dt * g * np.sin(self.angle)
        self.angle = self.angle + dt * self.speed
        self.history.append(self.angle)


def kick(p, dt, g):
    p.step(dt, g)
    p.speed = 0.9 * p.speed


def swing(angle, g):
    p = Pendulum(angle)
    for _ in range(4):
        p.step(0.1, g)
    kick(p, 0.1, g)
    return p.angle + 0.1 * p.speed + 0.01 * sum(p.history)


def swing_arrays(angles, g):
    p = Pendulum(angles, np.zeros_like(angles))
    for _ in range(3):
        p.step(0.05, g)
    return np.sum(p.angle ** 2)


first = diffc.grad(swing)


def calls_a_gradient(angle, g):
    return 3.0 * first(angle, g)


def gradient_inside(angle, g):
    return diffc.grad(swing)(angle, g) * g


@pytest.mark.parametrize("outer, wrt", [(calls_a_gradient, 0), (gradient_inside, 1), (first, 0),
                                        pytest.param(calls_a_gradient, 1, marks=pytest.mark.slow),
                                        pytest.param(gradient_inside, 0, marks=pytest.mark.slow),
                                        pytest.param(first, 1, marks=pytest.mark.slow)])
def test_grad_of_a_function_calling_a_gradient(outer, wrt):
    args = [0.7, 1.3]
    expected = numeric_grad(outer, args, wrt, eps=1e-5)
    assert_close(diffc.grad(outer, wrt=wrt)(*args), expected, rtol=1e-5, atol=1e-6)
    tangents = tuple(1.0 if i == wrt else None for i in range(2))
    assert_close(diffc.jvp(outer, tuple(args), tangents)[1], expected, rtol=1e-5, atol=1e-6, what="jvp")


def test_hessian_of_array_state():
    angles = np.array([0.3, -0.8, 1.1])
    def along(a, g):
        return np.sum(diffc.grad(swing_arrays)(a, g) * np.array([1.0, -0.5, 2.0]))
    assert_close(diffc.grad(along)(angles, 1.7), numeric_grad(along, [angles, 1.7], 0, eps=1e-5),
                 rtol=1e-5, atol=1e-6)
    reference = np.array([numeric_grad(lambda a, g: diffc.grad(swing_arrays)(a, g)[i], [angles, 1.7], 0, eps=1e-5)
                          for i in range(3)])
    assert_close(diffc.hessian(swing_arrays)(angles, 1.7), reference, rtol=1e-5, atol=1e-6, what="hessian")


def test_the_object_passed_is_left_as_it_was():
    p = Pendulum(0.7)
    def energy(g, p):
        p.step(0.1, g)
        return p.angle ** 2
    twice = diffc.grad(lambda g, p: diffc.grad(energy)(g, p))
    assert_close(twice(1.3, p), numeric_grad(lambda g: diffc.grad(energy)(g, Pendulum(0.7)), [1.3], 0, eps=1e-5),
                 rtol=1e-5, atol=1e-6)
    assert p.angle == 0.7 and p.speed == 0.0 and p.history == []
