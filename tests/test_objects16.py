"""Issue 16: objects of user classes built inside the differentiated function from
differentiated values (a layer from its weights, a dataclass or NamedTuple of
parameters), in both modes and at second order, in loops, callees and lists.
Checked against finite differences (test_calls16.check_all)."""

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad
from test_calls16 import check_all, check_forward, check_reverse, numeric_hessian

RNG = np.random.default_rng(1661)
X3 = RNG.normal(size=3)
B2 = RNG.normal(size=2) * 0.3
W23 = RNG.normal(size=(2, 3)) * 0.5


class Layer:
    """A dense layer: stores its weights, computes a derived attribute."""

    def __init__(self, W, b, activation=np.tanh):
        self.W = W
        self.b = b
        n_out, n_in = W.shape
        self.n_out = n_out
        self.scale = 1.0 / np.sqrt(n_in)
        self.activation = activation

    def forward(self, x):
        return self.activation(self.scale * (self.W @ x) + self.b)


class Scaled(Layer):
    def __init__(self, W, b, gain):
        super().__init__(W, b)
        self.gain = gain * 2.0
        self.W = self.W * self.gain

    def forward(self, x):
        return super().forward(x) * self.gain if False else np.tanh(self.W @ x + self.b) * self.gain


class WithBias(Layer):
    def __init__(self, W, b=None):
        Layer.__init__(self, W, np.zeros(W.shape[0]) if b is None else b)
        if b is not None:
            self.extra = b ** 2


class Counter:
    steps = 3                               # a class attribute read by the constructor

    def __init__(self, rate):
        self.rate = rate
        self.total = rate * self.steps


@dataclass
class Params:
    W: np.ndarray
    b: np.ndarray
    temperature: float = 1.0
    notes: list = field(default_factory=list)


@dataclass
class Normalized:
    W: np.ndarray
    norm: float = field(init=False, default=0.0)

    def __post_init__(self):
        self.norm = np.sqrt(np.sum(self.W ** 2))
        self.W = self.W / self.norm


class Pair(NamedTuple):
    W: np.ndarray
    b: np.ndarray


def layer_in_body(W):
    layer = Layer(W, B2)
    return np.sum(layer.forward(X3) ** 2)


def dataclass_in_body(W):
    p = Params(W, b=B2 * W[0, 0], temperature=0.5)
    return np.sum(np.tanh(p.W @ X3 + p.b) ** 2) / p.temperature


def namedtuple_in_body(W):
    p = Pair(W * 2.0, B2)
    W2, b2 = p
    return np.sum(np.sin(W2 @ X3 + b2)) + np.sum(p.W ** 3) + np.sum(p[1] * p.W[0, :2])


def objects_in_a_loop(W):
    total = 0.0
    for k in range(3):
        layer = Layer(W * (k + 1), B2)
        total = total + np.sum(layer.forward(X3) ** 2)
    return total


def _make_layer(W, b):
    return Layer(W, b, activation=np.sin)


def objects_from_a_callee(W):
    layer = _make_layer(W, B2)
    return np.sum(layer.forward(X3) * layer.b) + layer.scale * np.sum(layer.W)


def list_of_objects(W):
    layers = [Layer(W, B2), Layer(W[::-1] * 0.5, B2)]
    h = X3
    for layer in layers[:1]:
        h = layer.forward(h)
    out = layers[1].forward(X3)
    return np.sum(h * out)


def subclass_with_super(W):
    s = Scaled(W, B2, 0.7 + W[0, 1])
    return np.sum(s.forward(X3) ** 2) + s.gain


def explicit_base_init(W):
    a = WithBias(W)
    c = WithBias(W, B2 * W[1, 2])
    return np.sum(a.forward(X3)) + np.sum(c.forward(X3) * c.extra)


def class_attribute_read(W):
    c = Counter(W[0, 0])
    return c.total ** 2 + c.rate


def post_init(W):
    n = Normalized(W * 3.0)
    return np.sum(n.W ** 3) + n.norm


def object_in_a_callee_loop(W):
    def run(W, steps):
        x = X3
        for _ in range(steps):
            x = np.concatenate([Layer(W, B2).forward(x), x[:1]])
        return np.sum(x ** 2)
    return run(W, 2)


class Holder:
    def __init__(self, v):
        self.v = v

    def __call__(self, y):
        return self.v * y


def callable_object_built_inside(W):
    scale = Holder(W[0, 0])
    return scale(2.0) * W[0, 0] + np.sum(scale(W) ** 2)


PROGRAMS = [callable_object_built_inside, layer_in_body, dataclass_in_body, namedtuple_in_body, objects_in_a_loop,
            objects_from_a_callee, list_of_objects, subclass_with_super, explicit_base_init,
            class_attribute_read, post_init, object_in_a_callee_loop]


@pytest.mark.parametrize("f", PROGRAMS, ids=[f.__name__ for f in PROGRAMS])
def test_object_built_from_differentiated_values(f):
    check_all(f, [W23])


def test_object_built_inside_reverse_over_reverse():
    g = diffc.grad(lambda W: np.sum(diffc.grad(layer_in_body)(W) * W23))
    assert_close(g(W23), numeric_grad(lambda W: np.sum(diffc.grad(layer_in_body)(W) * W23), [W23], 0),
                 rtol=1e-5, atol=1e-6)


class _CallsAMethod:
    def __init__(self, W):
        self.W = W
        self.reset()

    def reset(self):
        self.state = np.zeros(2)


def test_constructor_diffc_cannot_follow_is_refused_with_the_line():
    def f(W):
        obj = _CallsAMethod(W)
        return np.sum(obj.W)
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(f)(W23)
    text = str(info.value)
    assert "_CallsAMethod" in text and "obj = _CallsAMethod(W)" in text and "reset" in text


def test_object_of_constants_is_still_a_constant():
    def f(W):
        layer = Layer(W23 * 0.0 + 1.0, B2)
        return np.sum(layer.forward(W[0]))
    check_all(f, [W23])


class ScaledWeights:
    def __init__(self, raw, log_scale):
        self.raw = raw
        self.log_scale = log_scale

    @property
    def weight(self):
        return self.raw * np.exp(self.log_scale)

    def apply(self, x):
        return self.weight @ x


def property_of_a_built_object(W):
    layer = ScaledWeights(W, W[0, 0] * 0.5)
    return np.sum(np.sin(layer.apply(X3))) + np.sum(layer.weight ** 2)


def test_property_of_an_object_built_inside():
    # was a silent zero gradient: the property's value was taken as a stored field
    check_all(property_of_a_built_object, [W23])


def test_property_of_an_object_argument():
    def f(layer, x):
        return np.sum(np.tanh(layer.weight @ x)) + np.sum(layer.apply(x))
    obj = ScaledWeights(W23, 0.3)
    g = diffc.grad(f)(obj, X3)
    assert type(g) is ScaledWeights
    assert_close(g.raw, numeric_grad(lambda W: f(ScaledWeights(W, 0.3), X3), [W23], 0))
    assert_close(g.log_scale, numeric_grad(lambda s: f(ScaledWeights(W23, s), X3), [0.3], 0))


@pytest.mark.slow       # one of the slowest of the default suite; run with -m slow
def test_third_order_through_an_object_built_inside():
    def f(x):
        layer = Layer(np.array([[x, 0.5, -x]]), np.array([0.1]))
        return np.sum(layer.forward(X3))
    d2 = diffc.grad(diffc.grad(f))
    h = 1e-4
    expected = (d2(0.3 + h) - d2(0.3 - h)) / (2 * h)
    assert_close(diffc.grad(d2)(0.3), expected, rtol=1e-5, atol=1e-7)
    assert_close(d2(0.3), (f(0.3 + h) - 2 * f(0.3) + f(0.3 - h)) / h ** 2, rtol=1e-4, atol=1e-6)


# ------------------------- constructors diffc follows, and copies with fields replaced

import dataclasses                                   # noqa: E402
from dataclasses import field                        # noqa: E402

X2 = np.array([0.3, -0.2])
class Cond:
    def __init__(self, W, bias=None, *, scale=1.0):
        self.W = W * scale
        if bias is not None:
            self.bias = bias
    def f(self, x):
        out = self.W @ x
        if hasattr(self, "bias"):
            out = out + self.bias
        return np.sum(np.sin(out))
class Var:
    def __init__(self, *mats, **named):
        self.mats = list(mats)
        self.named = named
    def f(self, x):
        s = 0.0
        for m in self.mats:
            s = s + np.sum(m @ x)
        return s + sum(v * 2.0 for v in self.named.values())
class NoSuper(Cond):
    def __init__(self, W):
        self.W = W ** 2
class Aug:
    def __init__(self, W):
        self.W = W
        self.W *= 2.0
        self.n = 0
        for i in range(2):
            self.n += 1
            self.W = self.W + i
class NTd(NamedTuple):
    a: np.ndarray
    b: float = 0.5
@dataclass(kw_only=True)
class KW:
    a: np.ndarray
    b: float = 2.0
    hist: list = field(default_factory=list)
@dataclass(frozen=True)
class Frozen:
    a: np.ndarray
    def f(self):
        return np.sum(self.a ** 2)
def p1(w):
    W = w.reshape(2, 2)
    return Cond(W).f(X2) + Cond(W, w[:2], scale=0.5).f(X2)
def p2(w):
    W = w.reshape(2, 2)
    v = Var(W, W.T, k=w[0], j=1.0)
    return v.f(X2)
def p3(w):
    return NoSuper(w.reshape(2, 2)).f(X2)
def p4(w):
    a = Aug(w.reshape(2, 2))
    return np.sum(a.W ** 2) * a.n
def p5(w):
    t = NTd(w)
    u = NTd(w * 2, b=w[1])
    return np.sum(t.a * t.b) + np.sum(u[0] * u[1])
def p6(w):
    k = KW(a=w, b=w[0])
    k.hist.append(1)
    return np.sum(k.a * k.b) + len(k.hist)
def p7(w):
    fr = Frozen(w * 3)
    return fr.f()
class State(NamedTuple):
    pos: np.ndarray
    vel: np.ndarray
    t: float = 0.0
@dataclasses.dataclass
class Opt:
    w: np.ndarray
    lr: float
def nt_replace(w):
    s = State(w, np.zeros_like(w))
    for k in range(3):
        s = s._replace(vel=s.vel - 0.1 * np.sin(s.pos), t=s.t + 1.0)
        s = s._replace(pos=s.pos + 0.1 * s.vel)
    return np.sum(s.pos ** 2) + s[1][0] * s.t
def dc_replace(w):
    o = Opt(w, 0.1)
    for k in range(2):
        o = dataclasses.replace(o, w=o.w - o.lr * np.cos(o.w), lr=o.lr * w[0])
    return np.sum(o.w ** 3) + o.lr


W4 = np.array([0.3, -0.2, 0.5, 0.1])
CONSTRUCTOR_PROGRAMS = [p1, p2, p3, p4, p5, p6, p7, nt_replace, dc_replace]


@pytest.mark.parametrize("f", CONSTRUCTOR_PROGRAMS, ids=[f.__name__ for f in CONSTRUCTOR_PROGRAMS])
def test_constructors_and_replace(f):
    # conditional attributes, *args/**kwargs and keyword-only __init__ parameters, a subclass
    # without super().__init__, augmented attribute writes in loops, NamedTuple defaults,
    # kw_only dataclass with default_factory, frozen dataclass, _replace, dataclasses.replace
    check_all(f, [W4 if f not in (nt_replace, dc_replace) else W4[:3]])


class _Computed:
    scale = 3.0                      # a class attribute: a constant

    def __init__(self, W):
        self.W = W

    def __getattr__(self, name):
        if name == "V":
            return self.W * 2.0
        raise AttributeError(name)


def test_attribute_made_by_getattr_is_refused_never_a_zero():
    # its derivative would have been dropped silently (a zero gradient)
    def built(w):
        return np.sum(_Computed(w).V ** 2)

    def argument(c, x):
        return np.sum(c.V * x)
    w = np.array([1.0, 2.0])
    for run in (lambda: diffc.grad(built)(w), lambda: diffc.jvp(built, (w,), (w,)),
                lambda: diffc.grad(argument)(_Computed(w), w)):
        with pytest.raises(diffc.DiffcError) as info:
            run()
        assert "'V'" in str(info.value)


def test_class_attribute_read_through_a_differentiated_object_is_a_constant():
    def f(w):
        c = _Computed(w)
        return np.sum(c.W * c.scale)
    check_all(f, [np.array([1.0, 2.0])])
