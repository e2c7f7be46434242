"""Lists of objects held by an attribute, whose methods write attributes of the items.

Model code keeps its layers in a list attribute and lets each layer cache what it saw
(``self.x = x`` for a hand-written backward pass, a call counter): ``for layer in
self.layers: x = layer.forward(x)``.  diffc refused every such loop ("this object comes
from elsewhere").  It now follows the items when the class always builds the list from
new objects of one class (constructors.object_list_attribute) and the loop only reads
other fields of the object: the loop runs over a copy of the list, whose items are
stored back, and the copy becomes the attribute.  Every derivative is checked against
central finite differences, both modes, and at second order.
"""
import numpy as np
import pytest

import diffc
from diffc.errors import DiffcError
from gradcheck import check_both_modes


class Layer:
    def __init__(self, W, b=0.0):
        self.W = W
        self.b = b
        self.x = None
        self.calls = 0

    def forward(self, x):
        self.x = x                      # kept for a backward pass
        self.calls += 1
        return np.tanh(self.W @ x + self.b)


class Net:
    def __init__(self, Ws, scale=1.0):
        self.layers = [Layer(W, 0.1 * k) for k, W in enumerate(Ws)]
        self.scale = scale

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x * self.scale

    def forward_numbered(self, x):
        for i, layer in enumerate(self.layers):
            x = layer.forward(x) * (1.0 + 0.1 * i)
        return x

    def forward_by_index(self, x):
        for i in range(len(self.layers)):
            x = self.layers[i].forward(x)
        return x + self.layers[0].x

    def forward_with_skips(self, x, skips):
        for layer, skip in zip(self.layers, skips):
            x = layer.forward(x) + skip * self.scale
        return x

    def first_input(self):
        return self.layers[0].x


class AppendedNet(Net):
    def __init__(self, Ws):
        self.layers = []
        for W in Ws:
            self.layers.append(Layer(W))
        self.scale = 0.5


def weights(scale):
    return [np.eye(3) * scale + 0.1, np.ones((3, 3)) * 0.3 * scale]


def build(scale):
    return Net(weights(scale))


def cached_inputs_read_after(scale, x):
    net = build(scale)
    y = net.forward(x)
    return np.sum(y ** 2) + np.sum(net.layers[1].x * x) + net.layers[0].calls


def numbered_layers(scale, x):
    net = build(scale)
    return np.sum(net.forward_numbered(x) ** 2)


def layers_by_index(scale, x):
    net = build(scale)
    return np.sum(np.sin(net.forward_by_index(x)))


def zipped_with_skips(scale, x):
    net = build(scale)
    y = net.forward_with_skips(x, [x * 0.5, np.cos(x)])
    return np.sum(y * y)


def called_twice(scale, x):
    net = AppendedNet(weights(scale))
    y = net.forward(x)
    z = net.forward(y * scale)
    return np.sum(z) + np.sum(net.first_input())


def run_layers(net, x):
    for layer in net.layers:
        x = layer.forward(x)
    return x


def through_a_helper(scale, x):
    net = build(scale)
    y = run_layers(net, x)
    return np.sum(y ** 2) + np.sum(net.layers[0].x)


def in_a_time_loop(scale, x):
    net = build(scale)
    s = 0.0
    for t in range(3):
        x = net.forward(x) + 0.1 * t
        s = s + np.sum(net.layers[0].x ** 2)
    return s


ARGS = [0.7, np.array([-1.22, 1.403, 0.767])]
PROGRAMS = [cached_inputs_read_after, numbered_layers, layers_by_index, zipped_with_skips, called_twice,
            through_a_helper, in_a_time_loop]


@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
def test_layers_caching_their_input(fn):
    check_both_modes(fn, ARGS, second=False)


@pytest.mark.slow
@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
def test_layers_caching_their_input_at_second_order(fn):
    check_both_modes(fn, ARGS)


def test_second_order_of_the_plain_loop():
    check_both_modes(cached_inputs_read_after, ARGS)


def loss_of_a_given_net(x, net):
    y = net.forward(x)
    return np.sum(y ** 3) + np.sum(net.layers[1].x)


def test_a_net_passed_in_is_left_as_it_was():
    net = build(0.7)
    check_both_modes(loss_of_a_given_net, [ARGS[1], net], wrts=[0], second=False)
    fresh = build(0.7)
    diffc.grad(loss_of_a_given_net)(ARGS[1], fresh)
    assert fresh.layers[0].x is None and fresh.layers[0].calls == 0


# ----------------------------------------------- what still cannot be followed: refused


class SharedLayers:
    def __init__(self, layers):
        self.layers = layers            # the caller's list: others may hold its items

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x


def caller_owns_the_layers(scale, x):
    first = Layer(np.eye(3) * scale)
    net = SharedLayers([first, Layer(np.ones((3, 3)) * scale)])
    y = net.forward(x)
    return np.sum(y) + np.sum(first.x)      # Python: first.x is x


class ReturnsEarly(Net):
    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
            if np.sum(x) > 10.0:
                return x
        return x


def returns_from_the_loop(scale, x):
    net = ReturnsEarly(weights(scale))
    y = net.forward(x)
    return np.sum(y) + np.sum(net.layers[1].x)


@pytest.mark.parametrize("fn", [caller_owns_the_layers, returns_from_the_loop], ids=lambda f: f.__name__)
def test_lists_diffc_cannot_follow_are_refused(fn):
    with pytest.raises(DiffcError):
        diffc.grad(fn)(*ARGS)


# ----------------------- the object read again on the line of the call, after the call


class Accumulator:
    def __init__(self, a):
        self.a = a
        self.n = 0.0

    def add(self, v):
        self.a = self.a + v
        self.n += 1.0
        return np.sum(self.a)


def read_after_the_call_on_one_line(scale, x):
    net = build(scale)
    return np.sum(run_layers(net, x) ** 2) + np.sum(net.layers[0].x)


def method_result_times_a_field_it_changed(s, x):
    acc = Accumulator(x * s)
    return acc.add(x) * acc.n + np.sum(acc.a ** 2)


@pytest.mark.parametrize("fn", [read_after_the_call_on_one_line, method_result_times_a_field_it_changed],
                         ids=lambda f: f.__name__)
def test_reads_after_the_call_in_evaluation_order(fn):
    # Python runs the call first: the reads to its right see the changed object
    check_both_modes(fn, ARGS)


def read_before_the_call_on_one_line(s, x):
    acc = Accumulator(x * s)
    return np.sum(acc.a ** 2) + acc.add(x) * acc.n


def test_a_read_before_the_call_on_its_line_is_refused():
    with pytest.raises(DiffcError, match="order spelled out"):
        diffc.grad(read_before_the_call_on_one_line)(*ARGS)
