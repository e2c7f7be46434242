"""diffc.jvp and diffc.vjp called inside a differentiated function, at every order.

The derivative rules of diffc.jvp used to emit calls of run-time helpers with no rules of
their own (vjp_of_jvp, jvp_of_jvp): the first derivative worked, and a Hessian of a
function calling diffc.jvp was refused.  They are written with the differentiable helpers
of calls of function values now.  diffc.vjp inside was refused ("no derivative rule"); it
is its value and a partial holding f and the primals (transform/desugar.py).  Checked
against finite differences (second order: of diffc's first derivative, itself checked
against finite differences first)."""

import numpy as np

import diffc

from gradcheck import assert_close, numeric_grad

X = np.array([0.3, -0.7, 1.1])


def wave(v):
    return np.sin(v) * v + v[0] * np.cos(v)


def directional_energy(x):
    _, t = diffc.jvp(wave, (x,), (np.ones(3),))
    return np.sum(t ** 2)


def squash(v, s):
    return np.tanh(v * s)


def value_and_slope(x, s):
    out, t = diffc.jvp(squash, (x, s), (x[::-1], 1.0))
    return np.sum(out * t) + s * np.sum(t)


def _hessian_by_differences(f, args, k):
    grad = diffc.grad(f, wrt=k)
    x = np.asarray(args[k], dtype=float)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1e-5
        plus, minus = list(args), list(args)
        plus[k], minus[k] = x + e, x - e
        cols.append((grad(*plus) - grad(*minus)) / 2e-5)
    return np.array(cols).T


def test_first_order_against_differences():
    assert_close(diffc.grad(directional_energy)(X), numeric_grad(directional_energy, [X], 0))
    assert_close(diffc.grad(value_and_slope, wrt=1)(X, 0.8), numeric_grad(value_and_slope, [X, 0.8], 1))


def test_hessian_of_a_function_calling_jvp():
    assert_close(diffc.hessian(directional_energy)(X), _hessian_by_differences(directional_energy, [X], 0),
                 rtol=1e-5, atol=1e-5)
    assert_close(diffc.hessian(value_and_slope)(X, 0.8), _hessian_by_differences(value_and_slope, [X, 0.8], 0),
                 rtol=1e-5, atol=1e-5)


def test_reverse_over_reverse_and_forward_over_forward():
    direction = np.array([0.5, -1.0, 2.0])

    def along(x):
        return np.sum(diffc.grad(directional_energy)(x) * direction)

    expected = numeric_grad(along, [X], 0, eps=1e-5)
    assert_close(diffc.grad(along)(X), expected, rtol=1e-5, atol=1e-5)

    def slope(x):
        return diffc.jvp(directional_energy, (x,), (direction,))[1]

    assert_close(diffc.jvp(slope, (X,), (direction,))[1],
                 np.sum(numeric_grad(slope, [X], 0, eps=1e-5) * direction), rtol=1e-5, atol=1e-5)


def model(w, x):
    return np.tanh(x * w[0] + w[1]) * w[2]


XS = np.array([0.5, -1.0, 2.0])


def gauss_newton_step(w):
    """J^T r by a pullback, as a JAX user writes it."""
    r, pb = diffc.vjp(model, w, XS)
    g, _ = pb(r)
    return np.sum((w - 0.1 * g) ** 2)


def pullbacks_in_a_loop(w):
    total = 0.0
    for k in range(3):
        out, back = diffc.vjp(lambda v: np.sin(v * (k + 1)), w)
        (g,) = back(out * w)
        total = total + np.sum(g * w)
    return total


def test_vjp_inside_both_modes():
    for f in (gauss_newton_step, pullbacks_in_a_loop):
        expected = numeric_grad(f, [X], 0)
        assert_close(diffc.grad(f)(X), expected)
        direction = np.array([1.0, -0.5, 0.25])
        assert_close(diffc.jvp(f, (X,), (direction,))[1], np.sum(expected * direction))


def test_vjp_inside_second_order():
    assert_close(diffc.hessian(gauss_newton_step)(X), _hessian_by_differences(gauss_newton_step, [X], 0),
                 rtol=1e-5, atol=1e-5)
