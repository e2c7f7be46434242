"""Issue 19, LSTM from helpers: the adjoint simplifications it relies on.

optimize/algebra.py drops ``head_part``/``tail_part`` when an operand of the sum is a number
(``1.0 + e`` never concatenates) and cancels an outer minus against one inside a
product or quotient (``-((-a) / b * c)`` is ``a / b * c``), so a sigmoid's
adjoint is four array operations.  Every gradient is checked against central
finite differences, in reverse and forward mode, and against the unoptimized
gradient (``optimize=False``) to 1e-12; the sigmoid at second order too."""

import numpy as np
import pytest

import diffc
from gradcheck import numeric_grad

pytestmark = pytest.mark.filterwarnings("ignore::diffc.DiffcWarning")


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softsign_shift(x):
    return -x / (2.0 - np.abs(x)) * 3.0


def lstm_step(x, h, c, W, U, b):
    n = h.shape[1]
    z = x @ W + h @ U + b
    i, f, o = sigmoid(z[:, :n]), sigmoid(z[:, n:2 * n]), sigmoid(z[:, 2 * n:3 * n])
    c = f * c + i * np.tanh(z[:, 3 * n:])
    return o * np.tanh(c), c


def lstm_loss(layers, xs, noise):
    out = xs
    for W, U, b in layers:
        h = np.zeros((xs.shape[1], U.shape[0]))
        c = np.zeros_like(h)
        hs = []
        for t in range(out.shape[0]):
            h, c = lstm_step(out[t], h, c, W, U, b)
            hs.append(h)
        out = np.stack(hs)
    return np.sum((out[-1] - noise) ** 2) + 0.1 * np.sum(sigmoid(out))


def _layers(rng, n_in, hidden, n_layers):
    layers, width = [], n_in
    for _ in range(n_layers):
        layers.append((rng.standard_normal((width, 4 * hidden)) / np.sqrt(width),
                       rng.standard_normal((hidden, 4 * hidden)) / np.sqrt(hidden),
                       0.1 * rng.standard_normal(4 * hidden)))
        width = hidden
    return layers


def _flat(layers):
    return np.concatenate([np.ravel(a) for layer in layers for a in layer])


def _unflat(v, like):
    out, k = [], 0
    for layer in like:
        parts = []
        for a in layer:
            parts.append(v[k:k + a.size].reshape(a.shape))
            k += a.size
        out.append(tuple(parts))
    return out


def test_sigmoid_adjoint_is_plain_products_and_is_right_in_both_modes_and_second_order():
    src = diffc.source(lambda x: np.sum(sigmoid(x)), mode="reverse", wrt=0)
    body = src[src.index("def _adj_sigmoid"):]
    assert "tail_part" not in body and "-(" not in body, body
    x = np.random.default_rng(3).standard_normal(7)
    fn = lambda x: np.sum(sigmoid(x) * np.cos(x))
    got = diffc.grad(fn)(x)
    np.testing.assert_allclose(got, numeric_grad(fn, (x,), 0), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got, diffc.grad(fn, optimize=False)(x), rtol=1e-12, atol=1e-15)
    d = np.linspace(-1, 1, 7)
    _, dot = diffc.jvp(fn, (x,), (d,))
    np.testing.assert_allclose(dot, got @ d, rtol=1e-10)
    hess = diffc.hessian(fn)(x)
    g = diffc.grad(fn)
    fd = np.array([(g(x + 1e-5 * e) - g(x - 1e-5 * e)) / 2e-5 for e in np.eye(7)])
    np.testing.assert_allclose(hess, fd, rtol=1e-6, atol=1e-8)


def test_negated_quotient_times_constant():
    x = np.random.default_rng(4).uniform(-1.5, 1.5, 5)
    fn = lambda x: np.sum(softsign_shift(x) ** 2)
    got = diffc.grad(fn)(x)
    np.testing.assert_allclose(got, numeric_grad(fn, (x,), 0), rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got, diffc.grad(fn, optimize=False)(x), rtol=1e-12, atol=1e-15)


def test_two_layer_lstm_from_helpers_against_finite_differences_both_modes():
    rng = np.random.default_rng(19)
    layers = _layers(rng, 3, 4, 2)
    xs = rng.standard_normal((5, 2, 3))
    noise = 0.5 * rng.standard_normal((2, 4))
    got = diffc.grad(lstm_loss)(layers, xs, noise)
    plain = diffc.grad(lstm_loss, optimize=False)(layers, xs, noise)
    assert isinstance(got, list) and all(isinstance(t, tuple) for t in got)
    flat = lambda v: lstm_loss(_unflat(v, layers), xs, noise)
    v0 = _flat(layers)
    fd = numeric_grad(flat, (v0,), 0)
    np.testing.assert_allclose(_flat(got), fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(_flat(got), _flat(plain), rtol=1e-12, atol=1e-14)
    d = rng.standard_normal(v0.size)
    _, dot = diffc.jvp(lstm_loss, (layers, xs, noise), (_unflat(d, layers), None, None))
    np.testing.assert_allclose(dot, fd @ d, rtol=1e-6)
    # the inputs' gradient too (the first layer's x adjoints reach xs)
    gx = diffc.grad(lstm_loss, wrt=1)(layers, xs, noise)
    np.testing.assert_allclose(gx, numeric_grad(lstm_loss, (layers, xs, noise), 1), rtol=1e-6, atol=1e-8)
