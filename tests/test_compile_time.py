"""Compile time that grows with the program's shape, not only its size.

Each test differentiates a program whose compile once took minutes (a search repeated
along every path of a chain of bindings) and checks the derivative against finite
differences; the time bound is far above the expected one (seconds), so only a return of
the exponential search fails it."""

import time

import numpy as np

import diffc

from gradcheck import numeric_grad


class Params:
    def __init__(self, c, k):
        self.c = c
        self.k = k


def rk4_on_fields(p, x0, v0, dt, n_steps):
    damping = p.c
    stiffness = p.k
    x = x0
    v = v0
    for i in range(n_steps):
        k1x = v
        k1v = -stiffness * x - damping * v
        x2 = x + 0.5 * dt * k1x
        v2 = v + 0.5 * dt * k1v
        k2x = v2
        k2v = -stiffness * x2 - damping * v2
        x3 = x + 0.5 * dt * k2x
        v3 = v + 0.5 * dt * k2v
        k3x = v3
        k3v = -stiffness * x3 - damping * v3
        x4 = x + dt * k3x
        v4 = v + dt * k3v
        k4x = v4
        k4v = -stiffness * x4 - damping * v4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return x * x + v * v


class State:
    """A phase-space point with arithmetic, as a user would write it."""

    def __init__(self, x, v):
        self.x = x
        self.v = v

    def __add__(self, other):
        return State(self.x + other.x, self.v + other.v)

    def __mul__(self, s):
        return State(self.x * s, self.v * s)


def deriv(s, k, c):
    return State(s.v, -k * s.x - c * s.v)


def rk4_on_objects(k, c, x0, dt):
    s = State(x0, 0.0)
    for i in range(20):
        d1 = deriv(s, k, c)
        s2 = s + d1 * (0.5 * dt)
        d2 = deriv(s2, k, c)
        s3 = s + d2 * (0.5 * dt)
        d3 = deriv(s3, k, c)
        s4 = s + d3 * dt
        d4 = deriv(s4, k, c)
        s = s + (d1 + d2 * 2.0 + d3 * 2.0 + d4) * (dt / 6.0)
    return s.x * s.x + s.v


def test_rk4_on_an_objects_fields_compiles_in_seconds():
    start = time.perf_counter()
    g = diffc.grad(rk4_on_fields, wrt=(1, 2))
    got = g(Params(0.1, 2.0), 1.0, 0.3, 0.01, 30)
    assert time.perf_counter() - start < 60            # was 107 s; about 1 s now
    args = (Params(0.1, 2.0), 1.0, 0.3, 0.01, 30)
    fd = [numeric_grad(rk4_on_fields, args, k) for k in (1, 2)]
    np.testing.assert_allclose(got, fd, rtol=1e-6)


def test_rk4_on_objects_with_operators():
    start = time.perf_counter()
    got = diffc.grad(rk4_on_objects, wrt=(0, 1, 2))(2.0, 0.1, 1.0, 0.05)
    assert time.perf_counter() - start < 60
    args = (2.0, 0.1, 1.0, 0.05)
    fd = [numeric_grad(rk4_on_objects, args, k) for k in (0, 1, 2)]
    np.testing.assert_allclose(got, fd, rtol=1e-6)
    _, tangent = diffc.jvp(rk4_on_objects, args, (1.0, 0.0, 0.0, None))
    np.testing.assert_allclose(tangent, fd[0], rtol=1e-6)
