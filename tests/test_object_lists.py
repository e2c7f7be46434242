"""Objects whose methods write their own attributes, used the way model code uses them:
layers kept in a list and called in a loop (caching their input for later), an object
passed to the differentiated function or on to a helper, an item of a list of states
handed to a step function.  Each was refused before (transform/object_lists.py,
compile_cache.kinds_of, constructors.written_parameters with classes); each gradient is
checked against finite differences, in both modes and at second order, and what diffc
cannot follow is refused at the user's line."""

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad, second_order_cases

_rng = np.random.default_rng(7)
W1 = 0.5 * _rng.normal(size=(3, 4))
W2 = 0.5 * _rng.normal(size=(4, 2))
XB = _rng.normal(size=(5, 3))


class Dense:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.inputs = None

    def forward(self, x):
        self.inputs = x                     # cached for a hand-written backward pass
        return np.tanh(x @ self.W + self.b)


class Scaled(Dense):
    def forward(self, x):
        self.inputs = x
        return 0.5 * (x @ self.W) + self.b


class Oscillator:
    def __init__(self, q, p):
        self.q, self.p = q, p
        self.steps = 0

    def advance(self, dt, k):
        self.p = self.p - dt * k * np.sin(self.q)
        self.q = self.q + dt * self.p
        self.steps += 1


def leapfrog(osc, dt, k):
    osc.advance(dt, k)
    return osc.q


def check(f, args, k=0, second=True):
    """grad and jvp against finite differences; a Hessian-vector product against
    differences of the gradient along a direction."""
    args = list(args)
    expected = numeric_grad(f, args, k)
    assert_close(diffc.grad(f, wrt=k)(*args), expected, what="grad")
    t = _rng.normal(size=np.shape(args[k]))
    tangents = tuple(t if i == k else None for i in range(len(args)))
    _, dot = diffc.jvp(f, tuple(args), tangents)
    assert_close(dot, np.sum(expected * t), what="jvp")
    if second:
        def along(*a):
            return np.sum(diffc.grad(f, wrt=k)(*a) * t)
        # along takes *a: its gradient is one for each of the arguments
        assert_close(diffc.grad(along)(*args)[k], numeric_grad(along, args, k, eps=1e-5),
                     rtol=1e-5, atol=1e-5, what="second order")


# ------------------------------------------------------------------ lists of layers

def layers_in_a_list(W1, W2, x):
    layers = [Dense(W1, np.zeros(4)), Dense(W2, np.zeros(2))]
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2) + 0.1 * np.sum(layers[1].inputs)


def layers_from_a_comprehension(W1, W2, x):
    shapes = [(W1, 0.1), (W2, -0.2)]
    layers = [Dense(W, b * np.ones(W.shape[1])) for W, b in shapes]
    h = x
    for epoch in range(2):
        for layer in layers:
            h = layer.forward(h)
            if np.sum(h) > 1e6:
                break
        h = np.tanh(h @ W2.T @ W1.T)
    return np.mean(h ** 2) + np.sum(layers[0].inputs[0])


def layers_appended(W1, W2, x):
    layers = []
    for W in (W1, W2):
        layers.append(Dense(W, np.zeros(W.shape[1])))
    out = x
    for layer in layers:
        out = layer.forward(out)
    return np.sum(np.log1p(out ** 2))


def subclass_layers(W1, W2, x):
    layers = [Scaled(W1, np.zeros(4)), Scaled(W2, np.ones(2))]
    for layer in layers:
        x = layer.forward(x)
    return np.sum(np.tanh(x))


def layers_enumerated(W1, W2, x):
    layers = [Dense(W1, np.zeros(4)), Dense(W2, np.zeros(2))]
    penalty = 0.0
    for depth, layer in enumerate(layers, 1):
        x = layer.forward(x)
        penalty = penalty + depth * np.sum(layer.W ** 2)
    return np.sum(x ** 2) + 0.01 * penalty


def layers_zipped_with_scales(W1, W2, x):
    layers = [Dense(W1, np.zeros(4)), Dense(W2, np.zeros(2))]
    for scale, layer in zip([1.0, 0.5], layers):
        x = scale * layer.forward(x)
    return np.sum(x ** 2) + np.sum(layers[-1].inputs)


# Every way of building the list at first order by default; at second order by default
# the plain list and the subclass layers (the others build the same list of objects;
# their second order runs with -m slow).
@pytest.mark.parametrize("f, second", second_order_cases(
    [(f,) for f in (layers_in_a_list, layers_from_a_comprehension, layers_appended, subclass_layers,
                    layers_enumerated, layers_zipped_with_scales)], {"layers_in_a_list", "subclass_layers"}))
def test_layers_kept_in_a_list(f, second):
    check(f, (W1, W2, XB), k=0, second=second)
    check(f, (W1, W2, XB), k=2, second=False)


# ------------------------------------------------------------------ items of lists of states

def states_stepped_by_index(q0, k):
    states = [Oscillator(q0, 0.0), Oscillator(2 * q0, 0.5)]
    for _ in range(5):
        for i in range(len(states)):
            states[i].advance(0.1, k)
    leapfrog(states[0], 0.1, k)
    return states[0].q * states[1].q + states[1].steps


def test_items_of_a_list_of_states():
    check(states_stepped_by_index, (0.7, 1.3), k=0)
    check(states_stepped_by_index, (0.7, 1.3), k=1, second=False)


# ------------------------------------------------------------------ objects passed in

def run_layer(W, x, layer):
    layer.W = W
    out = layer.forward(x)
    return np.sum(out ** 2) + np.sum(layer.inputs)


def through_a_helper(W1, x):
    layer = Dense(W1, np.zeros(4))
    return apply_and_score(layer, x)


def apply_and_score(layer, x):
    layer.forward(x)
    return np.sum(np.tanh(layer.inputs @ layer.W) ** 2)


def test_object_passed_to_the_differentiated_function():
    for layer in (Dense(W1, np.ones(4)), Scaled(W1, np.ones(4))):
        # the class of the argument keys the compiled code: each gets its own method
        def fresh(W, x):
            return run_layer(W, x, type(layer)(W1, np.ones(4)))
        expected = numeric_grad(fresh, [W1, XB], 0)
        assert_close(diffc.grad(run_layer)(W1, XB, layer), expected)
        t = _rng.normal(size=W1.shape)
        _, dot = diffc.jvp(run_layer, (W1, XB, layer), (t, None, None))
        assert_close(dot, np.sum(expected * t), what="jvp")
        assert layer.inputs is None        # the object passed is left unchanged


def test_object_passed_on_to_a_helper():
    check(through_a_helper, (W1, XB), k=0)


# ------------------------------------------------------------------ refused at the line

def alias_kept_before_the_loop(W1, W2, x):
    layers = [Dense(W1, np.zeros(4)), Dense(W2, np.zeros(2))]
    first = layers[0]
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2) + np.sum(first.inputs)


def list_read_in_the_loop(W1, W2, x):
    layers = [Dense(W1, np.zeros(4)), Dense(W2, np.zeros(2))]
    total = 0.0
    for layer in layers:
        x = layer.forward(x)
        total = total + np.sum(layers[0].inputs)
    return np.sum(x ** 2) + total


def mixed_list_passed_in(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2)


@pytest.mark.parametrize("f", [alias_kept_before_the_loop, list_read_in_the_loop, mixed_list_passed_in])
def test_what_cannot_be_followed_is_refused_at_the_line(f):
    # a list of objects of two classes has no one class to follow its items by
    args = ([Dense(W1, np.zeros(4)), Scaled(W2, np.zeros(2))], XB) if f is mixed_list_passed_in else (W1, W2, XB)
    with pytest.raises(diffc.DiffcError, match="writes attributes of its object") as info:
        diffc.grad(f, wrt=len(args) - 1)(*args)
    assert "test_object_lists.py" in str(info.value)


# ------------------------------------------------------------------ a list of layers passed in

def run_network(layers, x):
    for layer in layers:
        x = layer.forward(x)
    return np.sum(x ** 2) + 0.5 * np.sum(layers[0].inputs)


def network_of(W, x):
    return run_network([Dense(W, np.zeros(4)), Dense(W2, np.ones(2))], x)


def test_list_of_layers_passed_in():
    layers = [Dense(W1, np.zeros(4)), Dense(W2, np.ones(2))]
    grads = diffc.grad(run_network)(layers, XB)
    assert_close(grads[0].W, numeric_grad(network_of, [W1, XB], 0))
    assert_close(diffc.grad(run_network, wrt=1)(layers, XB), numeric_grad(network_of, [W1, XB], 1))
    t = _rng.normal(size=XB.shape)
    _, dot = diffc.jvp(run_network, (layers, XB), (None, t))
    assert_close(dot, np.sum(numeric_grad(network_of, [W1, XB], 1) * t), what="jvp")
    assert len(layers) == 2 and layers[0].inputs is None and layers[1].inputs is None


# ------------------------------------------------------------------ class known only at run time

class Oscillator2(Oscillator):
    pass


def from_a_dict(q0, k):
    d = {"slow": Oscillator(q0, 0.0), "fast": Oscillator2(2 * q0, 0.0)}
    leapfrog(d["fast"], 0.1, k)
    return d["fast"].q


def from_a_tuple(q0, k):
    pair = (Oscillator(q0, 0.0), 1.0)
    s = pair[0]
    leapfrog(s, 0.1, k)
    return s.q


@pytest.mark.parametrize("f", [from_a_dict, from_a_tuple])
def test_helper_writing_an_object_of_unknown_class_is_refused(f):
    # Before: leapfrog ran as plain Python, changing the object in place, and the
    # derivative of what it wrote was lost (1.0 against 0.990), without a word.
    with pytest.raises(diffc.DiffcError, match=r"leapfrog\(\.\.\.\) writes attributes of the Oscillator") as info:
        diffc.grad(f)(0.7, 1.3)
    assert "test_object_lists.py" in str(info.value)
    with pytest.raises(diffc.DiffcError):
        diffc.jvp(f, (0.7, 1.3), (1.0, None))


def advance_all(q0, k):
    s = Oscillator(q0, 0.0)
    steps = [leapfrog]
    for step in steps:
        step(s, 0.1, k)
    return s.q


def test_function_value_writing_an_object_is_refused():
    # Before: the call ran as plain Python and its writes lost their derivative (1.0 against 0.99).
    with pytest.raises(diffc.DiffcError, match=r"leapfrog\(\.\.\.\) writes attributes of the Oscillator") as info:
        diffc.grad(advance_all)(0.7, 1.3)
    assert "test_object_lists.py" in str(info.value)
