"""Attribute writes inside differentiated code (issue 16).

Objects built inside the differentiated function may have their attributes
written, directly (``obj.total = obj.total + x``, ``obj.count += 1``) or by
their methods (``self.h = np.tanh(...)``, a method calling another that writes),
in both modes and at second order (transform/attribute_writes.py).  Writes to
objects passed in from outside, and objects another name holds too, are refused
with a DiffcError naming the line.

References: central finite differences of f (gradient, jvp), and of the
gradient for Hessians.
"""
import dataclasses

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

_rng = np.random.default_rng(16)
W0 = 0.5 * _rng.normal(size=(3, 3))
XS = [_rng.normal(size=3) for _ in range(3)]
X0 = _rng.normal(size=3)


# ------------------------------------------------------------------ programs

class RNN:
    def __init__(self, W):
        self.W = W
        self.h = None

    def step(self, x):
        self.h = np.tanh(self.W @ x if self.h is None else self.W @ x + self.h)
        return self.h


def rnn_loss(W):
    net = RNN(W)
    for x in XS:
        out = net.step(x)
    return np.sum(out ** 2)


class Counter:
    def __init__(self, x):
        self.count = 0
        self.total = x * 0.0

    def add(self, v):
        self.count += 1
        self.total = self.total + v


def counter_loss(x):
    c = Counter(x)
    for i in range(3):
        c.add(x * i + np.sin(x))
    return np.sum(c.total ** 2) / c.count


class Box:
    pass


def box_loss(x):
    obj = Box()
    obj.total = x
    for k in range(3):
        obj.total = obj.total + np.cos(x) * k
    obj.total *= 1.5
    obj.count = 0
    obj.count += 2
    return np.sum(obj.total ** 3) / obj.count


class Momentum:
    def __init__(self, w, lr=0.1, beta=0.9):
        self.w = w
        self.v = np.zeros_like(w)
        self.lr = lr
        self.beta = beta

    def grad(self, target):
        return 2 * (self.w - target) * np.cos(self.w)

    def update(self, target):
        self.v = self.beta * self.v + self.grad(target)
        self.w = self.w - self.lr * self.v

    def run(self, target, n):
        for _ in range(n):
            self.update(target)
        return self.w


def momentum_loss(w0):
    opt = Momentum(w0)
    w = opt.run(np.ones(3), 4)
    return np.sum(np.sin(w) * w0)


@dataclasses.dataclass
class Accumulator:
    total: np.ndarray
    steps: int = 0

    def push(self, v):
        if np.sum(v) > 0:
            self.total = self.total + v
        else:
            self.total = self.total - 0.5 * v
        self.steps += 1
        return self.steps


def dataclass_loss(x):
    acc = Accumulator(x * 0.0)
    n = 0
    for k in range(4):
        n = acc.push(np.sin(x * (k + 1)))
    return np.sum(acc.total * x) / n


class Pair:
    def __init__(self, a):
        self.a = a
        self.b = a

    def swap(self):
        self.a, self.b = self.b * 2.0, self.a
        return self.a


def tuple_target_loss(x):
    p = Pair(x)
    p.b = np.exp(x)
    first = p.swap()
    p.a, scale = p.a + p.b, 3.0
    return np.sum(p.a * first) * scale


class Cell:
    def __init__(self, W):
        self.W = W
        self.state = np.zeros(3)
        self.history = 0.0

    def reset(self):
        self.state = np.zeros(3)

    def forward(self, x):
        if np.sum(x) < -2.0:
            self.reset()
            return 0.0
        self.state = np.tanh(self.W @ x + self.state)
        self.history = self.history + np.sum(self.state)
        return np.sum(self.state ** 2)


def cell_loss(W):
    cell = Cell(W)
    total = 0.0
    for x in XS + [-3.0 * np.ones(3), XS[0]]:
        total = total + cell.forward(x)
    return total + cell.history


PROGRAMS = [(rnn_loss, W0), (counter_loss, X0), (box_loss, X0), (momentum_loss, X0),
            (dataclass_loss, X0), (tuple_target_loss, X0), (cell_loss, W0)]
IDS = [f.__name__ for f, _ in PROGRAMS]


@pytest.mark.parametrize("f, x", PROGRAMS, ids=IDS)
def test_gradient_and_jvp(f, x):
    expected = numeric_grad(f, [x], 0)
    assert_close(diffc.grad(f)(x), expected, what="grad")
    assert_close(diffc.jacobian(f, mode="forward")(x), expected, what="jacobian forward")
    u = np.linspace(0.5, -1.0, x.size).reshape(x.shape)
    _, dot = diffc.jvp(f, (x,), (u,))
    assert_close(dot, np.sum(expected * u), what="jvp")


@pytest.mark.parametrize("f, x", PROGRAMS, ids=IDS)
def test_second_order(f, x):
    reference = fd_jacobian(diffc.grad(f), x, eps=1e-5)
    assert_close(diffc.hessian(f)(x), reference, rtol=1e-5, atol=1e-6, what="hessian")
    assert_close(diffc.jacobian(diffc.grad(f), mode="reverse")(x), reference, rtol=1e-5, atol=1e-6,
                 what="jacobian(grad) reverse")


def test_primal_value_unchanged():
    assert diffc.value_and_grad(counter_loss)(X0)[0] == pytest.approx(counter_loss(X0))
    assert diffc.value_and_grad(rnn_loss)(W0)[0] == pytest.approx(rnn_loss(W0))


def test_counter_closed_form():
    x = np.array([0.3, -1.2, 0.7])

    def f(x):
        c = Counter(x)
        for i in range(3):
            c.add(x * i)
        return np.sum(c.total ** 2) / c.count       # (3 x)^2 / 3 = 3 x^2
    assert_close(diffc.grad(f)(x), 6 * x, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ refusals

def write_parameter(model, x):
    model.h = np.tanh(x)
    return np.sum(model.h)


def test_write_to_object_passed_in_works():
    # Was refused; writes to the differentiated function's parameters now work (the object
    # passed in is left unchanged): tests/test_objects_as_written.py.
    box = Box()
    assert_close(diffc.grad(write_parameter, wrt=1)(box, X0), 1 - np.tanh(X0) ** 2)
    assert not hasattr(box, "h")


def method_of_parameter(net, x):
    return np.sum(net.step(x))


def test_method_writing_an_object_passed_in_works():
    # Was refused; the object's class is now part of the compiled code's key, so the
    # method's writes are followed (tests/test_object_lists.py has more).
    def fresh(x):
        return method_of_parameter(RNN(W0), x)
    net = RNN(W0)
    assert_close(diffc.grad(method_of_parameter, wrt=1)(net, X0), numeric_grad(fresh, [X0], 0))
    assert net.h is None


def aliased(x):
    a = Box()
    a.v = x
    b = a
    a.v = a.v * 2.0
    return np.sum(b.v)


def stored_in_list(x):
    a = Box()
    boxes = [a]
    a.v = x
    return np.sum(boxes[0].v)


@pytest.mark.parametrize("f", [aliased, stored_in_list])
def test_written_object_held_elsewhere_is_refused(f):
    with pytest.raises(diffc.DiffcError, match="another"):
        diffc.grad(f)(X0)


def make_counter(x):
    return Counter(x)


def counter_from_factory(x):
    c = make_counter(x)
    c.add(x)
    c.add(x * 2.0)
    return np.sum(c.total ** 2)


@pytest.mark.parametrize("how", ["grad", "jacobian forward", "hessian"])
def test_method_writes_on_object_built_elsewhere_never_silently_zero(how):
    # Built by a helper returning Counter(x): diffc now follows it (it used to be refused
    # when the call ran, and before that run as a constant: gradient 0).
    run = {"grad": diffc.grad, "jacobian forward": lambda f: diffc.jacobian(f, mode="forward"),
           "hessian": diffc.hessian}[how]
    reference = {"grad": lambda: numeric_grad(counter_from_factory, [X0], 0),
                 "jacobian forward": lambda: numeric_grad(counter_from_factory, [X0], 0),
                 "hessian": lambda: fd_jacobian(diffc.grad(counter_from_factory), X0, eps=1e-5)}[how]
    assert_close(run(counter_from_factory)(X0), reference(), rtol=1e-5, atol=1e-5)


def nested_attribute(x):
    a = Box()
    a.inner = Box()
    a.inner.v = x
    return np.sum(a.inner.v)


def test_attribute_of_attribute_is_refused():
    # Box has no method building a.inner: another name may hold it (refused, naming why).
    with pytest.raises(diffc.DiffcError, match="changes the object a.inner holds"):
        diffc.grad(nested_attribute)(X0)


class Layer:
    def __init__(self, W):
        self.W = W
        self.scale = 1.0

    def __call__(self, x):
        return np.tanh(self.scale * (self.W @ x))


def configured_then_stored(W):
    layers = []
    for k in range(3):
        layer = Layer(W * (k + 1))
        layer.scale = 0.5 + k
        layer.W = layer.W + 0.1 * W
        layers.append(layer)
    h = XS[0]
    for layer in layers:
        h = layer(h)
    return np.sum(h ** 2)


def built_in_helper(x):
    obj = Box()
    obj.v = np.sin(x)
    obj.v = obj.v * x
    return obj


def helper_builds(x):
    obj = built_in_helper(x)
    return np.sum(obj.v ** 2)


@pytest.mark.parametrize("f, x", [(configured_then_stored, W0), (helper_builds, X0)],
                         ids=["configured_then_stored", "helper_builds"])
def test_objects_written_then_handed_on(f, x):
    expected = numeric_grad(f, [x], 0)
    assert_close(diffc.grad(f)(x), expected, what="grad")
    assert_close(diffc.jacobian(f, mode="forward")(x), expected, what="jacobian forward")
    assert_close(diffc.hessian(f)(x), fd_jacobian(diffc.grad(f), x, eps=1e-5), rtol=1e-5, atol=1e-6)


def written_after_stored(x):
    layers = []
    layer = Layer(np.eye(3))
    layers.append(layer)
    layer.scale = x[0]
    return np.sum(layers[0](x))


def test_write_after_storing_is_refused():
    with pytest.raises(diffc.DiffcError, match="another"):
        diffc.grad(written_after_stored)(X0)


class Particle:
    def __init__(self, x, v):
        self.x = x
        self.v = v
        self.steps = 0

    def force(self, k):
        return -k * self.x - 0.1 * self.v ** 3

    def step(self, dt, k):
        self.v = self.v + dt * self.force(k)
        self.x = self.x + dt * self.v
        self.steps += 1
        return self.steps


def simulate(k):
    p = Particle(np.array([1.0, -0.5]), np.zeros(2))
    n = 0
    while n < 20 and np.sum(p.x ** 2) > 1e-3:
        n = p.step(0.05, k)
    energy = 0.5 * np.sum(p.v ** 2) + 0.5 * k * np.sum(p.x ** 2)
    return energy / p.steps


def branchy(x):
    acc = Box()
    acc.value = 0.0
    for k in range(4):
        if np.sum(x) * (k - 1.5) > 0:
            acc.value = acc.value + np.sum(np.sin(x * k))
        else:
            acc.value -= np.sum(x ** 2) * 0.5
    net = RNN(np.outer(x, x))
    y = np.sum(net.step(x)) * 2.0
    return acc.value + y


def hoisted(W):
    net = RNN(W)
    total = np.sum(net.step(XS[0]) ** 2) * 2.0
    total = total + np.sum(net.step(XS[1]) * XS[2])
    return total + np.sum(net.h)


MORE = [(simulate, 1.3), (branchy, X0), (hoisted, W0)]


@pytest.mark.parametrize("f, x", MORE, ids=[f.__name__ for f, _ in MORE])
def test_more_programs(f, x):
    x = np.asarray(x, dtype=float)
    expected = numeric_grad(f, [x], 0)
    assert_close(diffc.grad(f)(x), expected, what="grad")
    assert_close(diffc.jacobian(f, mode="forward")(x), expected, what="jacobian forward")
    assert_close(diffc.hessian(f)(x), fd_jacobian(diffc.grad(f), x, eps=1e-5), rtol=1e-5, atol=1e-6)


def read_after_the_step(W):
    net = RNN(W)
    return np.sum(net.step(XS[0]) + net.h)     # Python steps first: net.h is the new state


def test_a_read_after_the_mutating_call_sees_the_changed_object():
    expected = numeric_grad(read_after_the_step, [W0], 0)
    assert_close(diffc.grad(read_after_the_step)(W0), expected, what="grad")
    assert_close(diffc.jacobian(read_after_the_step, mode="forward")(W0), expected, what="jacobian forward")


def order_ambiguous(W):
    net = RNN(W)
    return np.sum(net.h + net.step(XS[0]))     # reads the old state, then steps


def test_mutating_call_mixed_with_earlier_uses_is_refused():
    with pytest.raises(diffc.DiffcError, match="order spelled out"):
        diffc.grad(order_ambiguous)(W0)


class Recorder:
    def __init__(self):
        self.hs = []

    def push(self, h):
        self.hs.append(h)


class Recorder2:
    def __init__(self):
        self.hs = []

    def push(self, h):
        self.hs = self.hs + [h]


def recorded_in_place(x):
    r = Recorder()
    r.push(x * 2.0)
    r.push(x ** 2)
    return sum(np.sum(h) for h in r.hs)


def recorded_as_new_list(x):
    r = Recorder2()
    r.push(x * 2.0)
    r.push(x ** 2)
    return sum(np.sum(h) for h in r.hs)


def test_change_inside_an_attribute_works():
    # self.hs.append(h) on a list the class always sets anew: a new list (was refused, and
    # before that a silent zero); tests/test_objects_as_written.py has more.
    for run in (diffc.grad, lambda f: diffc.jacobian(f, mode="forward")):
        assert_close(run(recorded_in_place)(X0), 2.0 + 2.0 * X0)


def test_attribute_given_a_new_list():
    expected = numeric_grad(recorded_as_new_list, [X0], 0)
    assert_close(diffc.grad(recorded_as_new_list)(X0), expected)
    assert_close(diffc.jacobian(recorded_as_new_list, mode="forward")(X0), expected)
    assert_close(diffc.hessian(recorded_as_new_list)(X0), np.diag(2.0 * np.ones(3)), atol=1e-9)
