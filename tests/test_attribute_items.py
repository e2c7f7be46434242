"""Issue 16: changes inside what an attribute holds (``self.cache[k] = v``,
``self.buf[i] += v``, ``self.hist[0] = ...``) on objects diffc follows, when the class's
methods always set that attribute to a new list, dict or array.  They become a new
container rebound to the attribute (attribute_writes.change_item_of_attribute), which is
Python's behaviour as long as no other name holds the old container; that case is refused.

Every derivative is checked against central finite differences, in both modes, and the
Hessian against differences of the gradient."""

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad
from test_fuzz_classes_b import check

X = np.array([0.3, -0.7, 1.1])


class Recorder:
    def __init__(self, n):
        self.cache = {}
        self.buf = np.zeros(n)
        self.hist = []

    def step(self, x, i):
        self.buf[i] = np.tanh(self.buf[i - 1] + x[i])
        self.cache['last'] = self.buf[i] * 2.0
        return self.cache['last']

    def run(self, x):
        self.cache['y'] = np.sin(x)
        self.cache['y'] = self.cache['y'] * 2.0
        self.hist.append(x ** 2)
        self.hist[0] = self.hist[0] + 1.0
        return np.sum(self.cache['y'] * self.hist[0])


def items_written_in_the_function(x):
    m = Recorder(3)
    m.cache['a'] = x * 2.0
    m.buf[1] = np.sum(x ** 2)
    m.buf[0:2] += x[:2]
    for i in range(3):
        m.buf[i] = m.buf[i] * x[i] + 0.1
    return np.sum(m.cache['a'] * m.buf)


def items_written_by_a_method_in_a_loop(x):
    m = Recorder(3)
    total = 0.0
    for i in range(1, 3):
        total = total + m.step(x, i) ** 2
    return total + np.sum(m.buf ** 3)


def dict_and_list_items_in_a_method(x):
    m = Recorder(3)
    return m.run(x)


def new_containers_stored_then_changed(x):
    m = Recorder(3)
    m.buf = np.ones(3)
    m.buf[2] = x[0] * x[1]
    m.hist = [x, x * 2]
    m.hist[1] = m.hist[1] ** 2
    return np.sum(m.buf * m.hist[1])


@pytest.mark.parametrize("fn", [items_written_in_the_function, items_written_by_a_method_in_a_loop,
                                dict_and_list_items_in_a_method, new_containers_stored_then_changed])
def test_items_of_attributes_changed_in_place(fn):
    check(fn, [X.copy()], second_order=True)


class Net:
    def __init__(self, W):
        self.W = W
        self.cache = {}
        self.trace = []

    def loss(self, x):
        self.cache['h'] = np.tanh(self.W @ x)
        self.trace.append(self.cache['h'])
        self.trace[0] = self.trace[0] * 2.0
        return np.sum(self.cache['h'] ** 2) + np.sum(self.trace[0])


def test_bound_method_caching_in_a_dict():
    """diffc.grad(net.loss): the loss of a fresh net (Python's loss appends to net.trace at
    every call, so finite differences use a new Net each time; diffc leaves net as it was)."""
    W = np.array([[0.5, -0.2, 0.1], [0.3, 0.8, -0.4]])
    net = Net(W)
    check(lambda x: Net(W).loss(x), [X.copy()], second_order=True)
    fresh = diffc.grad(lambda x: Net(W).loss(x))(X.copy())
    by_method = diffc.grad(net.loss)(X.copy())
    expected = numeric_grad(lambda x: Net(W).loss(x), [X.copy()], 0)
    assert_close(by_method, expected, rtol=1e-6, atol=1e-8, what="grad of the bound method")
    assert_close(fresh, expected, rtol=1e-6, atol=1e-8, what="grad of a fresh net's loss")
    _, tangent = diffc.jvp(net.loss, (X.copy(),), (np.array([0.2, 0.5, -0.4]),))
    assert_close(tangent, expected @ np.array([0.2, 0.5, -0.4]), rtol=1e-6, atol=1e-8, what="jvp")
    assert net.cache == {} and net.trace == []


def reads_the_container_through_another_name(x):
    m = Recorder(3)
    c = m.cache
    m.cache['a'] = x * 2.0
    return np.sum(c['a'])


def test_container_held_by_another_name_is_refused():
    # Python: c is m.cache, so c['a'] sees the write; diffc makes a new dict, so it refuses
    with pytest.raises(diffc.DiffcError, match="container whose items this function changes"):
        diffc.grad(reads_the_container_through_another_name)(X.copy())
    assert_close(reads_the_container_through_another_name(X.copy()), np.sum(2 * X), rtol=1e-15, atol=0)
