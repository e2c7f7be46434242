"""Two ways the names in a function used to break its gradient:

* a differentiated parameter rebound to a value of another shape by a helper in a loop
  over a list (``for W in Ws: x = layer(W, x)``): the gradient was shaped like the last
  value of x (a crash, or a reshaped gradient when the sizes agreed);
* a local named ``_tape``, like the tape the generated functions pass each other (the
  generated code diffc differentiates again has one): a crash (pop from empty list), or
  a wrong derivative at second order.
Both are checked against finite differences."""

import numpy as np

import diffc
from gradcheck import assert_close, numeric_grad

rng = np.random.default_rng(3)
W1, W2 = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
X = rng.normal(size=(5, 3))


def layer(W, x):
    return np.tanh(x @ W)


def network(W1, W2, x):
    Ws = [W1, W2]
    for W in Ws:
        x = layer(W, x)
    return np.sum(x ** 2)


def flattened(x):
    x = reshape_rows(x)
    return np.sum(x * np.arange(6.0).reshape(3, 2))


def reshape_rows(x):
    return 2.0 * x.reshape(3, 2)


def spread(x):
    for k in range(2):
        x = scale_up(x, k)
    return np.sum(x)


def scale_up(x, k):
    return x * np.arange(1.0, 4.0) + k


def test_parameter_rebound_to_another_shape():
    for k in range(3):
        assert_close(diffc.grad(network, wrt=k)(W1, W2, X), numeric_grad(network, [W1, W2, X], k))
    t = rng.normal(size=X.shape)
    _, dot = diffc.jvp(network, (W1, W2, X), (None, None, t))
    assert_close(dot, np.sum(numeric_grad(network, [W1, W2, X], 2) * t), what="jvp")
    x = rng.normal(size=(2, 3))
    assert_close(diffc.grad(flattened)(x), numeric_grad(flattened, [x], 0))
    assert np.shape(diffc.grad(spread)(0.5)) == ()
    assert_close(diffc.grad(spread)(0.5), numeric_grad(spread, [0.5], 0))


def stack_based(x):
    _tape = []
    _tape.append(np.sin(x) * 3.0)
    _tape.append(np.cos(x))
    y = _tape.pop() * _tape.pop()
    return y


def calls_it(x):
    total = 0.0
    for i in range(3):
        total = total + stack_based(x * i)
    return total + stack_based(x) ** 2


def test_a_local_named_like_the_tape():
    assert_close(diffc.grad(calls_it)(0.7), numeric_grad(calls_it, [0.7], 0))
    assert_close(diffc.jvp(calls_it, (0.7,), (1.0,))[1], numeric_grad(calls_it, [0.7], 0), what="jvp")
    first = diffc.grad(calls_it)
    assert_close(diffc.grad(lambda x: first(x) * 2.0)(0.7), 2.0 * numeric_grad(first, [0.7], 0, eps=1e-5),
                 rtol=1e-5, atol=1e-6, what="second order")
