"""``has_aux=True`` on diffc.grad and diffc.value_and_grad, as JAX users write it: the
function returns ``(loss, aux)``; the gradient is the loss's (checked against finite
differences) and aux comes back as the function returned it."""
import numpy as np
import pytest

import diffc
from diffc.errors import BadArgument, DiffcError
from gradcheck import numeric_grad

X = np.array([[1.0, 2.0, -0.5], [0.5, -1.0, 0.3], [0.2, 0.1, 0.9]])
Y = np.array([0.3, -0.4, 0.8])
W = np.array([0.3, -0.2, 0.1])


def loss_with_metrics(w, x, y):
    pred = np.tanh(x @ w)
    residual = pred - y
    loss = np.mean(residual ** 2) + 0.01 * np.sum(w ** 2)
    return loss, {"pred": pred, "mae": np.mean(np.abs(residual)), "steps": 1}


def just_loss(w, x, y):
    return loss_with_metrics(w, x, y)[0]


def test_grad_with_aux_matches_finite_differences_and_returns_aux():
    g, aux = diffc.grad(loss_with_metrics, has_aux=True)(W, X, Y)
    np.testing.assert_allclose(g, numeric_grad(just_loss, [W, X, Y], 0), rtol=1e-6, atol=1e-9)
    expected = loss_with_metrics(W, X, Y)[1]
    np.testing.assert_allclose(aux["pred"], expected["pred"])
    assert aux["mae"] == pytest.approx(expected["mae"]) and aux["steps"] == 1


def test_value_and_grad_with_aux_over_several_arguments():
    (value, aux), (gw, gx) = diffc.value_and_grad(loss_with_metrics, wrt=("w", "x"), has_aux=True)(W, X, Y)
    assert value == pytest.approx(just_loss(W, X, Y))
    np.testing.assert_allclose(gw, numeric_grad(just_loss, [W, X, Y], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(gx, numeric_grad(just_loss, [W, X, Y], 1), rtol=1e-6, atol=1e-9)
    assert set(aux) == {"pred", "mae", "steps"}


class Model:
    def __init__(self, scale):
        self.scale = scale

    def loss(self, w, x):
        out = self.scale * np.sin(x @ w)
        return np.sum(out ** 2), out


def test_bound_method_with_aux():
    model = Model(1.5)
    g, out = diffc.grad(model.loss, has_aux=True)(W, X)
    np.testing.assert_allclose(g, numeric_grad(lambda w, x: model.loss(w, x)[0], [W, X], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(out, model.loss(W, X)[1])


def test_a_training_loop_with_aux():
    w = W.copy()
    step = diffc.value_and_grad(loss_with_metrics, has_aux=True)
    losses = []
    for _ in range(20):
        (loss, aux), g = step(w, X, Y)
        losses.append(loss)
        w = w - 0.5 * g
    assert losses[-1] < losses[0]


def test_not_a_pair_is_refused():
    with pytest.raises(BadArgument, match="pair"):
        diffc.grad(just_loss, has_aux=True)(W, X, Y)
    with pytest.raises(DiffcError):
        diffc.grad(loss_with_metrics, has_aux=True, jit=True)
