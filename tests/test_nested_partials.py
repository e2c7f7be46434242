"""functools.partial as scientists chain it: a partial of a partial (each fixing some
parameters), a partial whose keyword a call overrides, partials of local functions.
Before: a partial of a partial dropped the inner partial's values (gradient 0.0 for
`partial(partial(f, w=w), s=1.5)`, silently) or crashed, and overriding a partial's keyword
at the call (`g(x, w=1.0)`) gave the overridden keyword's derivative to the next one
(1.22 against 0.89), in both modes.  Checked against finite differences, at first and
second order."""

from functools import partial

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad

XS = np.linspace(0.0, 1.0, 4)


def wave(x, w, s):
    return s * np.sin(w * x)


def chained(w, s, xs):
    g = partial(partial(wave, w=w), s=s)
    return np.sum(np.array([g(x) for x in xs]))


def chained_in_steps(w, s, xs):
    inner = partial(wave, w=w)
    g = partial(inner, s=s)
    return g(xs[0]) + g(xs[1]) * g(xs[2])


def overridden_at_the_call(w, s, xs):
    g = partial(wave, w=w, s=s)
    return g(xs[1], w=1.0) + g(xs[2]) * g(xs[3], s=2.0)


def partial_of_a_local_function(w, s, xs):
    offset = 0.1 * s

    def residual(x, w, target):
        return (wave(x, w, s) + offset - target) ** 2
    r = partial(residual, w=w)
    rr = partial(r, target=0.3)
    total = 0.0
    for x in xs:
        total = total + rr(x)
    return total + sum(rr(x, target=s) for x in xs)


def positional_then_keyword(w, s, xs):
    g = partial(partial(wave, xs[1]), s=s)
    h = partial(g, w)
    return g(w) * h() + g(w=2.0 * w)


@pytest.mark.parametrize("f", [chained, chained_in_steps, overridden_at_the_call, partial_of_a_local_function,
                               positional_then_keyword])
@pytest.mark.parametrize("wrt", [0, 1])
def test_partials(f, wrt):
    args = [0.7, 1.5, XS]
    expected = numeric_grad(f, args, wrt)
    assert_close(diffc.grad(f, wrt=wrt)(*args), expected, what="grad")
    tangents = tuple(1.0 if i == wrt else None for i in range(3))
    assert_close(diffc.jvp(f, tuple(args), tangents)[1], expected, what="jvp")

    def first(w, s, xs):
        return diffc.grad(f, wrt=wrt)(w, s, xs)
    assert_close(diffc.grad(first, wrt=wrt)(*args), numeric_grad(first, args, wrt, eps=1e-5),
                 rtol=1e-5, atol=1e-5, what="second order")
