"""Issue 16, calls: constants that never carry a derivative, *args/**kwargs, starred
calls and unpacking, functions as values, bound methods and classes, nested
differentiation.  Every construct is checked against finite differences in
reverse mode, forward mode and at second order."""

import functools

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

RNG = np.random.default_rng(16)


# ----------------------------------------------------------------- helpers

def _perturbed(args, k, delta):
    args = list(args)
    x = args[k]
    if isinstance(x, np.ndarray):
        args[k] = x + delta
    elif isinstance(x, float):
        args[k] = x + float(delta)
    else:
        raise TypeError(type(x))
    return args


def directional(f, args, k, v, eps=1e-6):
    """Central difference of f along v in argument k."""
    return (np.asarray(f(*_perturbed(args, k, eps * v))) - np.asarray(f(*_perturbed(args, k, -eps * v)))) \
        / (2 * eps)


def numeric_hessian(f, args, k, h=1e-4):
    """Second-order central differences of scalar f in argument k."""
    x = np.asarray(args[k], dtype=float)
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = h
            ej[j] = h
            total = 0.0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                delta = si * ei + sj * ej
                arg = _perturbed(args, k, delta.reshape(x.shape) if isinstance(args[k], np.ndarray)
                                 else float(delta[0]))
                total += sign * float(f(*arg))
            H[i, j] = total / (4 * h * h)
    return H.reshape(x.shape + x.shape)


def check_reverse(f, args, k=0, tol=1e-5):
    g = diffc.grad(f, wrt=k)(*args)
    assert_close(g, numeric_grad(f, args, k), rtol=tol, atol=tol, what=f"grad of {f.__name__}")


def check_forward(f, args, k=0, tol=1e-5):
    v = RNG.normal(size=np.shape(args[k]))
    v = float(v) if isinstance(args[k], float) else v
    tangents = [None] * len(args)
    tangents[k] = v
    _, dot = diffc.jvp(f, tuple(args), tuple(tangents))
    assert_close(dot, directional(f, args, k, np.asarray(v)), rtol=tol, atol=tol, what=f"jvp of {f.__name__}")


def check_second(f, args, k=0, tol=1e-4):
    H = diffc.hessian(f, wrt=k)(*args)
    assert_close(H, numeric_hessian(f, args, k), rtol=tol, atol=tol, what=f"hessian of {f.__name__}")


def check_all(f, args, k=0, second=True):
    check_reverse(f, args, k)
    check_forward(f, args, k)
    if second:
        check_second(f, args, k)


X3 = RNG.normal(size=3)
X4 = RNG.normal(size=4)
M32 = RNG.normal(size=(3, 2))


# ------------------------------------------------- values with no derivative

def shape_unpacked(x):
    rows, cols = x.shape
    y = np.sin(x) * 2.0
    z = np.reshape(y, (rows * cols,))
    w = np.reshape(z, x.shape) + np.zeros(x.shape)
    return np.sum(w ** 2) + x[x.shape[0] - 1, 0] * x[0, cols - 1]


def shape_bound_in_loop(x):
    total = 0.0
    for i in range(x.shape[0]):
        if x.ndim == 1 and x.size > 0:
            total = total + x[i] ** 3 * len(x)
    return total / x.dtype.itemsize


def _normalize_rows(m):
    n, d = m.shape
    out = np.reshape(m, (n, d)) / np.sqrt(np.sum(m ** 2, axis=1, keepdims=True))
    return out


def shape_in_callee(m):
    return np.sum(_normalize_rows(m) * np.arange(m.size).reshape(m.shape))


def reparameterized(mu):
    rng = np.random.default_rng(3)                 # fresh each call: the same noise
    eps = rng.normal(size=mu.shape)
    z = mu + np.exp(0.5 * mu) * eps
    return np.sum(z ** 2)


def legacy_random_state(mean):
    rs = np.random.RandomState(7)
    noise = rs.randn(*mean.shape)
    keep = rs.uniform(size=len(mean)) > 0.3      # a dropout mask
    return np.sum(np.tanh(mean + noise) * keep)


@pytest.mark.parametrize("f,args", [
    (shape_unpacked, [M32]), (shape_bound_in_loop, [X3]), (shape_in_callee, [M32]),
    (reparameterized, [X3]), (legacy_random_state, [X4])])
def test_values_that_never_carry_a_derivative(f, args):
    check_all(f, args)


# ---------------------------------------------------- *args and **kwargs

def _combine(x, *terms, scale=2.0, power=2, **extra):
    s = x * scale
    for t in terms:
        s = s + t
    if "shift" in extra:
        s = s + extra["shift"]
    return np.sum(s ** power)


def calls_with_varargs(x):
    return _combine(x, x ** 2, 1.0, scale=3.0, shift=x[0]) + _combine(x) + _combine(x, power=3)


def varargs_in_loop(x):
    total = 0.0
    for k in range(3):
        total = total + _combine(x, x * k, scale=0.5 + k)
    return total


def differentiated_with_varargs(x, *rest, weight=1.0, **options):
    s = np.sum(x ** 2) * weight
    for r in rest:
        s = s + np.sum(np.sin(r * x))
    return s * options.get("gain", 1.0)


def starred_calls(x):
    parts = [x, x ** 2]
    a = _combine(*parts)
    b = _combine(x, *parts, scale=1.5)
    stacked = np.stack([*parts, np.ones(3)])
    first, *rest = [x, 2 * x, x * x]
    head, *middle, last = (x[0], x[1], x[2])
    return a + b + np.sum(stacked ** 2) + np.sum(first * rest[1]) + head * last * len(middle)


def zip_of_pairs(x):
    pairs = [(x[0], 2.0), (x[1] ** 2, x[2])]
    s = 0.0
    for a, b in zip(*pairs):
        s = s + a * b
    listed = list(zip(x, x[::-1]))
    return s + listed[0][0] * listed[0][1] + sum(list(zip(*listed))[1])


@pytest.mark.parametrize("f", [calls_with_varargs, varargs_in_loop, starred_calls, zip_of_pairs])
def test_parameters_and_starred_calls(f):
    check_all(f, [X3])


def test_varargs_of_the_differentiated_function():
    f = differentiated_with_varargs
    r1, r2 = RNG.normal(size=3), RNG.normal(size=3)
    g = diffc.grad(f)(X3, r1, r2, weight=2.0, gain=0.5)
    assert_close(g, numeric_grad(lambda x: f(x, r1, r2, weight=2.0, gain=0.5), [X3], 0))
    # wrt the *args tuple by name: a tuple of gradients
    gr = diffc.grad(f, wrt="rest")(X3, r1, r2, weight=2.0)
    assert isinstance(gr, tuple) and len(gr) == 2
    assert_close(gr[1], numeric_grad(lambda r: f(X3, r1, r, weight=2.0), [r2], 0))
    gw = diffc.grad(f, wrt="weight")(X3, r1, weight=2.0)
    assert_close(gw, np.sum(X3 ** 2))
    value, g2 = diffc.value_and_grad(f)(X3, r1)
    assert_close(value, f(X3, r1))
    assert_close(g2, numeric_grad(lambda x: f(x, r1), [X3], 0))


# ------------------------------------------------------- functions as values

def layer(x, nonlinearity=np.tanh):
    return nonlinearity(x)


def parameter_holding_function(x, nonlinearity=np.tanh):
    return np.sum(layer(x, nonlinearity) ** 2) + np.sum(layer(x))


def _apply_all(fs, x):
    return [f(x) for f in fs]


def functions_in_containers(x):
    fs = [np.sin, np.cos, np.tanh]
    table = {"exp": np.exp, "square": np.square}
    pair = (np.sin, lambda v: v * x)
    total = 0.0
    for f in fs:
        total = total + np.sum(f(x))
    for out in _apply_all(fs[:2], x):
        total = total + np.sum(out * x)
    return total + np.sum(table["square"](x) * table["exp"](x)) + np.sum(pair[1](pair[0](x)))


def _scaled_power(x, scale, power=2):
    return np.sum((scale * x) ** power)


def partials(x):
    const = functools.partial(_scaled_power, scale=3.0)
    active = functools.partial(_scaled_power, power=3)
    return const(x) + active(x, x[0])


def _fixed_point(f, x0, n=20):
    x = x0
    for _ in range(n):
        x = f(x)
    return x


def higher_order_helper(a):
    # x = cos(a * x): a contraction for |a| < 1
    root = _fixed_point(lambda x: np.cos(a * x), 0.5)
    return root ** 2


def _make(a):
    return lambda v: a * v ** 2


def _make_def(a):
    def inner(v):
        return np.sin(a * v)
    return inner


def calling_what_a_call_returned(x):
    return np.sum(_make(x[0])(x)) + np.sum(_make_def(x[1])(x) * x)


def lambda_capturing_argument(x):
    key = lambda v: v * x                       # noqa: E731
    return np.sum(sorted([1.0, 2.0])[0] * key(x)) + np.sum(layer(x, lambda v: v * x ** 2))


@pytest.mark.parametrize("f", [parameter_holding_function, functions_in_containers, partials,
                               calling_what_a_call_returned, lambda_capturing_argument])
def test_functions_as_values(f):
    check_all(f, [X3])


def test_higher_order_helper():
    check_all(higher_order_helper, [0.4])
    check_all(lambda a: _fixed_point(np.cos, a, 10) * a, [0.4])


def test_function_argument_of_the_differentiated_function():
    g = diffc.grad(parameter_holding_function)(X3, np.sin)
    assert_close(g, numeric_grad(lambda x: parameter_holding_function(x, np.sin), [X3], 0))


# ------------------------------------------------------- methods and classes

class Dense:
    def __init__(self, n_in, n_out, seed):
        rng = np.random.default_rng(seed)
        self.W = rng.normal(size=(n_out, n_in)) / np.sqrt(n_in)
        self.b = rng.normal(size=n_out)

    @property
    def scale(self):
        return 1.0 / len(self.b)

    @staticmethod
    def activation(z):
        return np.tanh(z)

    @classmethod
    def square(cls, z):
        return z * z

    def forward(self, x):
        return self.activation(self.W @ x + self.b)


def _residual(x, *blocks):
    for blk in blocks:
        x = x + blk(x)
    return x


class Net:
    def __init__(self):
        self.layers = [Dense(3, 4, 0), Dense(4, 3, 1)]

    def features(self, x):
        for i in range(len(self.layers)):
            x = self.layers[i].forward(x)
        return x

    def loss(self, x):
        h = self.features(x)
        h = _residual(h, np.sin, self.layers[1].activation)
        return np.sum(Dense.square(h)) * self.layers[0].scale

    def loss_in_loop(self, x, steps):
        total = 0.0
        for t in range(steps):
            total = total + _combine(self.features(x), x * t, scale=1.0 + t)
        return total


NET = Net()


def module_level_model(x):
    return NET.loss(x) + NET.layers[0].forward(x)[0]


def object_created_inside(x):
    net = Net()
    return net.loss(x * 2.0)


def test_bound_methods():
    for f in (NET.loss, module_level_model, object_created_inside):
        name = getattr(f, "__name__", "")
        check_reverse(f, [X3])
        check_forward(f, [X3])
        check_second(f, [X3])
        assert name


def test_varargs_helper_in_a_loop_inside_a_method():
    f = NET.loss_in_loop
    g = diffc.grad(f)(X3, 3)
    assert_close(g, numeric_grad(lambda x: f(x, 3), [X3], 0))
    H = diffc.hessian(f)(X3, 3)
    assert_close(H, numeric_hessian(lambda x: f(x, 3), [X3], 0), rtol=1e-4, atol=1e-4)


# ------------------------------------------------------- nested derivatives

def _loglike(r, p):
    return np.sum(np.sin(r * p) + r ** 2 * p)


def rprime(r, p):
    return np.sum(diffc.grad(_loglike)(r, p) ** 2)


def _tanh_sum(v):
    return np.sum(np.tanh(v))


def _egrad(fun):
    def gfun(x):
        return diffc.grad(lambda v: np.sum(fun(v)))(x)
    return gfun


def elementwise_second(x):
    return np.sum(_egrad(_egrad(np.tanh))(x) * x)


def test_grad_inside_the_differentiated_function():
    check_all(rprime, [X3, 0.7])
    check_reverse(rprime, [X3, 0.7], k=1)
    # elementwise_second is already a second derivative: its gradient is the third
    check_reverse(elementwise_second, [X3])
    check_forward(elementwise_second, [X3])


def test_slices_bounded_by_loop_variables_under_hessian():
    def f(x):
        s = 0.0
        for k in [0, 3]:
            s = s + np.sum(x[k:k + 2] ** 3)
        return s
    check_all(f, [RNG.normal(size=6)])


def test_call_whose_callee_holds_a_differentiated_value_is_refused_or_right():
    # A callable object built by a callee from a differentiated value: the object's
    # construction is differentiated (transform/constructors.py), so the call is right.
    def outer(x):
        f = _closure_factory(x)
        return f(2.0) * x + f(x)
    check_all(outer, [1.5])


class _Holder:
    def __init__(self, v):
        self.v = v

    def __call__(self, y):
        return self.v * y


def _closure_factory(x):
    return _Holder(x)


# ------------------------------------------- gradients with respect to objects

from dataclasses import dataclass       # noqa: E402
from typing import NamedTuple           # noqa: E402


class LayerParams(NamedTuple):
    W: np.ndarray
    b: np.ndarray


@dataclass
class LayerData:
    W: np.ndarray
    b: np.ndarray
    width: int = 2


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        return np.tanh(self.W @ x + self.b)

    def penalty(self):
        return np.sum(self.W ** 2)


def params_loss(p, x):
    h = np.tanh(p.W @ x + p.b)
    return np.sum(h ** 2) + 0.1 * np.sum(p.b ** 3)


def object_loss(layer, x):
    total = 0.0
    for _ in range(2):
        total = total + np.sum(layer.forward(x) ** 2)
    return total + layer.penalty()


W23 = RNG.normal(size=(2, 3))
B2 = RNG.normal(size=2)


@pytest.mark.parametrize("make", [LayerParams, LayerData, Affine])
def test_gradient_with_respect_to_an_object_has_its_type(make):
    f = object_loss if make is Affine else params_loss
    g = diffc.grad(f)(make(W23, B2), X3)
    assert type(g) is make
    assert_close(g.W, numeric_grad(lambda W: f(make(W, B2), X3), [W23], 0))
    assert_close(g.b, numeric_grad(lambda b: f(make(W23, b), X3), [B2], 0))
    if make is LayerData:
        assert g.width == 0.0


def test_containers_keep_their_types():
    def f(d, t, lst):
        return np.sum(d["a"] * t[0] * lst[1])
    g = diffc.grad(f, wrt=(0, 1, 2))({"a": X3}, (X3, 1.0), [2.0, X3])
    assert type(g[0]) is dict and type(g[1]) is tuple and type(g[2]) is list
    assert_close(g[1][0], X3 * X3)


# ------------------------------------------------------- composing transformations

def _vector_field(v):
    return np.sin(v) * v[::-1]


def test_jacobian_of_jacobian():
    for mode in ("reverse", "forward"):
        J2 = diffc.jacobian(diffc.jacobian(_vector_field, mode=mode))(X3)
        J1 = diffc.jacobian(_vector_field)
        expected = np.stack([numeric_grad(lambda v: J1(v)[i, j], [X3], 0)
                             for i in range(3) for j in range(3)]).reshape(3, 3, 3)
        assert_close(J2, expected, rtol=1e-5, atol=1e-5, what=mode)


def _scalar_objective(v):
    return np.sum(np.sin(v) * v ** 2)


def uses_jvp(x):
    _, dot = diffc.jvp(_scalar_objective, (x,), (np.ones(3),))
    return dot * x[0]


def uses_hvp(x):
    return np.sum(diffc.hvp(_scalar_objective)(x, np.ones(3)) * x)


def uses_jacobian(x):
    return np.sum(diffc.jacobian(_vector_field)(x) ** 2)


@pytest.mark.parametrize("f", [uses_jvp, uses_hvp, uses_jacobian])
def test_transformations_inside_differentiated_functions(f):
    check_reverse(f, [X3])
    check_forward(f, [X3])


@pytest.mark.parametrize("make", [LayerParams, LayerData, Affine])
def test_forward_mode_with_respect_to_an_object(make):
    f = object_loss if make is Affine else params_loss
    dW, db = RNG.normal(size=W23.shape), RNG.normal(size=B2.shape)
    _, dot = diffc.jvp(f, (make(W23, B2), X3), (make(dW, db), None))
    eps = 1e-6
    expected = (f(make(W23 + eps * dW, B2 + eps * db), X3) - f(make(W23 - eps * dW, B2 - eps * db), X3)) / (2 * eps)
    assert_close(dot, expected)


def _inner_power(x, scale=1.0, power=2):
    return np.sum((scale * x) ** power)


def _forwarding(x, *args, **kw):
    return _inner_power(x, *args, **kw)


def keyword_forwarding(x):
    opts = {"power": 3}
    total = _forwarding(x, scale=x[0]) + _inner_power(x, **opts) + _inner_power(x, scale=2.0, **opts)
    for k in range(2):
        total = total + _forwarding(x, x[1], **{"power": 2 + k})
    return total


def test_keyword_argument_forwarding():
    check_all(keyword_forwarding, [X3])


def test_jacobian_and_hessian_with_respect_to_an_object():
    # Were refused; now blocks in the argument's type (tests/test_objects_as_written.py).
    p = LayerParams(W23, B2)
    J = diffc.jacobian(params_loss)(p, X3)
    assert isinstance(J, LayerParams)
    assert_close(J.b, numeric_grad(lambda b: params_loss(LayerParams(W23, b), X3), [B2], 0))
    H = diffc.hessian(params_loss)(p, X3)
    assert isinstance(H, LayerParams) and isinstance(H.b, LayerParams)
    reference = fd_jacobian(lambda b: diffc.grad(params_loss)(LayerParams(W23, b), X3).b, B2, eps=1e-5)
    assert_close(H.b.b, reference, rtol=1e-5, atol=1e-5)


# ------------------------------------------- higher order through containers

def _container_loss(xs, t, d):
    a, b = xs
    return np.sum(np.sin(a) * b ** 2) * t[0] + np.sum(d["w"] * a ** 3) + t[1] * np.sum(b)


def test_reverse_over_reverse_with_container_arguments():
    ys = [RNG.normal(size=3), RNG.normal(size=3)]
    t = (0.7, -1.2)
    d = {"w": RNG.normal(size=3)}

    def inner(x):      # a component of the gradient with respect to the list, as a function of x
        g = diffc.grad(_container_loss)([x, ys[1]], t, d)
        return np.sum(g[0] * np.cos(x)) + np.sum(g[1])
    check_reverse(inner, [ys[0]])

    def inner_tuple(x):
        g = diffc.grad(_container_loss, wrt=1)([x, ys[1]], (x[0], 0.3), d)
        return g[0] * g[1]
    check_reverse(inner_tuple, [ys[0]])

    def inner_dict(x):
        g = diffc.grad(_container_loss, wrt=2)([x, ys[1]], t, {"w": x * 2.0})
        return np.sum(g["w"] ** 2)
    check_reverse(inner_dict, [ys[0]])


def test_reverse_over_forward_with_container_arguments():
    ys = [RNG.normal(size=3), RNG.normal(size=3)]

    def directional(x):
        _, dot = diffc.jvp(_container_loss, ([x, ys[1]], (0.5, 1.5), {"w": x}),
                           ([np.ones(3), np.zeros(3)], (0.0, 0.0), {"w": np.zeros(3)}))
        return dot
    check_reverse(directional, [ys[0]])


def _broadcast(x, t, u, y):
    return np.sum(((x + t * u) * y) ** 2)


def test_broadcasting_to_a_larger_rank_at_second_order():
    u = RNG.normal(size=3)
    y = RNG.normal(size=(2, 3))
    check_second(lambda x: _broadcast(x, 0.3, u, y), [X3])
    check_second(lambda t: _broadcast(X3, t, u, y), [0.3])
    check_reverse(lambda t: diffc.grad(_broadcast, wrt=1)(X3, t, u, y), [0.3])


def stacked(x):
    return np.sum(np.vstack([x, x ** 2]) ** 2) + np.sum(np.hstack([x, x ** 3]) * 2.0) \
        + np.sum(np.column_stack([x, np.sin(x)]) ** 3)


def test_stacking_one_dimensional_arrays():
    check_all(stacked, [X3])


# ------------------------------------------- third order through function values

def _apply(fn, x):
    return fn(x)


def _third_param(x, act=np.tanh):
    return act(x) * x + _apply(act, x * x)


def _third_lambda(x):
    g = lambda v: np.sin(v * x)          # noqa: E731  (captures the differentiated x)
    return g(x) + _apply(g, 0.5)


def _power(v, p):
    return v ** p


def _third_partial(x):
    h = functools.partial(_power, p=3)
    return _apply(h, x) + h(np.sin(x))


def _third_method(x):
    return NET.layers[0].forward(np.array([x, 2.0 * x, 0.5]))[1]


# Third order through a method held by a module-level object (the slowest) with -m slow;
# its second order runs by default in test_bound_methods (module_level_model).
@pytest.mark.parametrize("f", [_third_param, _third_lambda, _third_partial,
                               pytest.param(_third_method, marks=pytest.mark.slow)],
                         ids=lambda f: f.__name__)
def test_third_order_through_function_values(f):
    d2 = diffc.grad(diffc.grad(f))
    h = 1e-4
    x = 0.3
    expected = (d2(x + h) - d2(x - h)) / (2 * h)
    assert_close(diffc.grad(d2)(x), expected, rtol=1e-5, atol=1e-6)
    # and the second derivative itself against finite differences of f
    expected2 = (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2
    assert_close(d2(x), expected2, rtol=1e-4, atol=1e-5)
    # forward over reverse over reverse
    _, d3_dot = diffc.jvp(d2, (x,), (1.0,))
    assert_close(d3_dot, expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------- sets

def _set_of_constants(x):
    names = {"W", "b"}
    k = len({1, 2, 3})
    bonus = 2.0 if "W" in names else 0.0
    return np.sum(x ** 2) * k * len(names) + bonus * x[0] + x[1] * sum({1.0, 2.0})


def _size_of_a_set_of_values(x):
    distinct = {float(v) for v in x}
    s = {x[0], 2.0 * x[0]}
    return len(s) * np.sum(x ** 3) + len(distinct) * x[1] + (x[2] if 3 in frozenset([1, 3]) else 0.0)


@pytest.mark.parametrize("f", [_set_of_constants, _size_of_a_set_of_values], ids=lambda f: f.__name__)
def test_sets_where_python_semantics_allow(f):
    check_all(f, [X3])


def test_iterating_a_set_of_differentiated_values_is_refused_with_the_line():
    def iterate(x):
        total = 0.0
        for v in {x[0], 2.0 * x[1]}:
            total = total + v ** 2
        return total

    def frozen(x):
        return sum(frozenset([x[0], x[1]]))
    for f, line in ((iterate, "for v in {x[0], 2.0 * x[1]}:"), (frozen, "return sum(frozenset([x[0], x[1]]))")):
        for run in (lambda: diffc.grad(f)(X3), lambda: diffc.jvp(f, (X3,), (X3,))):
            with pytest.raises(diffc.DiffcError) as info:
                run()
            assert "set" in str(info.value) and line in str(info.value)


# --------------------------------------- local functions with defaults, capturing values

def _sig(z):
    return 1.0 / (1.0 + np.exp(-z))


def local_function_with_defaults(x):
    def gate(k, act=_sig, scale=1.0):
        return act(x * k) * scale
    return np.sum(gate(1.0) + gate(2.0, act=np.tanh) + gate(0.5, np.sin, 3.0) + gate(1.5, scale=2.0)
                  + _apply(gate, 0.7))


def test_partial_of_a_capturing_local_function():
    # Was refused; the partial now keeps the local function's captured values.
    def f(x):
        def gate(k, scale=2.0):
            return np.sin(x * k) * scale
        return np.sum(_apply(functools.partial(gate, scale=0.5), 1.1))
    check_all(f, [X3])


def test_local_function_with_defaults_capturing_a_differentiated_value():
    # the captured x was appended after the defaulted parameters ("missing argument 'x'")
    check_all(local_function_with_defaults, [X3])


def _gradient_of_a_bound_method_inside(x):
    # diffc.grad(model.loss) called inside the differentiated function
    return np.sum(diffc.grad(NET.loss)(x) * x)


@pytest.mark.slow       # one of the slowest of the default suite; run with -m slow (grad_inside covers the path)
def test_grad_of_a_bound_method_inside_the_differentiated_function():
    # was "cannot find the definition of grad_loss"
    check_all(_gradient_of_a_bound_method_inside, [X3])


def _partial_inside(x):
    h = functools.partial(np.power, x)
    return np.sin(h(2.0)) * x


def _zip_star_inside(x):
    a, b = zip(*[(x, 2.0 * x), (x * x, 1.0)])
    return a[0] * b[0] + a[1] * b[1]


@pytest.mark.parametrize("f", [_partial_inside, _zip_star_inside], ids=lambda f: f.__name__)
def test_forward_over_forward_through_partial_and_zip_star(f):
    # their tangent helpers named a parameter rows_dot next to rows: refused (or misbound)
    first = lambda x: diffc.jvp(f, (x,), (1.0,))[1]      # noqa: E731
    x, h = 0.3, 1e-4
    expected = (f(x + h) - 2 * f(x) + f(x - h)) / h ** 2
    assert_close(diffc.jvp(first, (x,), (1.0,))[1], expected, rtol=1e-5, atol=1e-6)
    assert_close(diffc.grad(first)(x), expected, rtol=1e-5, atol=1e-6)


def _builtin_min_max_of_arrays(x):
    return min(x * 2) + max(np.sin(x)) * x[0] + max(np.cos(v) for v in x)


def test_builtin_min_and_max_over_an_array():
    # the adjoint was a list added to an array adjoint: a TypeError
    check_all(_builtin_min_max_of_arrays, [np.array([0.4, -0.3, 0.7])])


def test_reverse_over_reverse_through_zip_star():
    # the adjoint of zip(*pairs)'s adjoint was a plain list: 0.0 += [...] raised TypeError
    def zipped(v):
        pairs = [(v[0], v[1]), (v[2], v[3])]
        means, log_stds = zip(*pairs)
        return sum(m * s ** 2 for m, s in zip(means, log_stds))
    v = np.array([0.1, -0.2, 0.5, 0.3])
    H = diffc.jacobian(diffc.grad(zipped), mode="reverse")(v)
    assert_close(H, numeric_hessian(zipped, [v], 0), rtol=1e-4, atol=1e-4)


def test_reverse_over_reverse_after_a_slice_write():
    # take_item on a temporary the optimizer substituted was left impure: "no derivative
    # rule for take_item"
    def heat(u):
        lap = np.zeros_like(u)
        lap[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:]
        return np.sum((u + 0.1 * lap) ** 3)
    u = np.array([0.0, 0.5, 1.0, 0.3])
    H = diffc.jacobian(diffc.grad(heat), mode="reverse")(u)
    assert_close(H, numeric_hessian(heat, [u], 0), rtol=1e-4, atol=1e-4)
