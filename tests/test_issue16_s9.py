"""Issue 16 leftovers (session 9): closures a factory returns at second order, models built
from lists of layer objects of several classes (differentiated with respect to arrays and
to the model object's fields), ``lst.insert``, ``nonlocal`` writes, a class defined inside
the differentiated function.

Programs are written the way scientists write them.  Every derivative is checked against
central finite differences: diffc.grad and diffc.jvp against differences of the function,
second order (diffc.hessian, or the gradient of a gradient) against differences of the
first derivative."""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

RNG = np.random.default_rng(16)
X = RNG.normal(size=(4, 3))
DATASETS = [RNG.normal(size=(3, 3)) for _ in range(2)]
W3 = RNG.normal(size=(3, 3)) * 0.6
B3 = RNG.normal(size=3) * 0.3
W23 = RNG.normal(size=(2, 3)) * 0.6
B2 = RNG.normal(size=2) * 0.3
V3 = np.array([0.4, -0.8, 0.9])


def check(fn, args, wrt=0, second=True):
    """grad and jvp of fn with respect to args[wrt] against central differences; second:
    diffc.hessian against differences of the (checked) gradient."""
    args = list(args)
    expected = numeric_grad(fn, args, wrt)
    grad = diffc.grad(fn, wrt=wrt)
    assert_close(grad(*args), expected, what="grad")
    direction = RNG.normal(size=np.shape(args[wrt])) if np.ndim(args[wrt]) else 0.7
    tangents = tuple(direction if i == wrt else None for i in range(len(args)))
    assert_close(diffc.jvp(fn, tuple(args), tangents)[1], np.sum(expected * direction), what="jvp")
    if second:
        def grad_at(v):
            return grad(*[v if i == wrt else a for i, a in enumerate(args)])
        assert_close(diffc.hessian(fn, wrt=wrt)(*args), fd_jacobian(grad_at, args[wrt], eps=1e-5),
                     rtol=1e-5, atol=1e-6, what="hessian")


# ----------------------------------------------- 1. closures returned by factories

def make_loss(data):
    def loss(w):
        return np.sum((data @ w - 1.0) ** 2)
    return loss


def make_layer(W):
    def layer(x):
        return np.tanh(W @ x)
    return layer


def make_scaled(s):
    c = s ** 2
    return lambda v: c * np.sin(v)


def make_mlp(params):
    def forward(x):
        for W, b in params:
            x = np.tanh(W @ x + b)
        return x
    return forward


def factory_over_a_parameter(W, x):
    h = x
    for _ in range(2):
        h = make_layer(W)(h)
    return np.sum(h ** 2)


def factory_over_a_computed_value(s, x):
    return np.sum(make_scaled(s)(x) * x)


def network_from_a_factory(W1, b1, W2, b2, x):
    net = make_mlp([(W1, b1), (W2, b2)])
    return np.sum(net(x) ** 2)


def factory_called_at_once(w):
    return make_loss(X)(w) + np.sum(w ** 3)


def _total_loss(w, datasets):
    total = 0.0
    for data in datasets:
        loss = make_loss(data)
        total = total + loss(w)
    return total


def factories_in_a_loop_in_a_callee(w):
    return 0.5 * _total_loss(w, DATASETS)


def factories_in_a_generator(w):
    return sum(make_loss(d)(w) for d in DATASETS) * np.sum(w)


@pytest.mark.parametrize("fn, args, wrts", [
    (factory_called_at_once, [V3], [0]),
    (factories_in_a_loop_in_a_callee, [V3], [0]),
    (factory_over_a_parameter, [W3, V3], [1, 0]),
    (factory_over_a_computed_value, [0.7, V3], [0, 1]),
    (network_from_a_factory, [W3, B3, W23, B2, V3], [4, 0]),
], ids=lambda v: getattr(v, "__name__", ""))
def test_closures_made_by_factories(fn, args, wrts):
    # second order with respect to the first (a closure capturing the second is then varied too)
    for k in wrts:
        check(fn, args, wrt=k, second=k == wrts[0])


def test_factories_in_a_generator_expression():
    check(factories_in_a_generator, [V3], second=False)


def test_the_returned_closure_itself_at_second_order():
    loss = make_loss(X)
    check(loss, [V3])
    # reverse over reverse: the gradient of a directional derivative
    d = np.array([0.3, -0.2, 0.5])

    def along(w):
        return np.sum(diffc.grad(loss)(w) * d)
    assert_close(diffc.grad(along)(V3), 2.0 * X.T @ (X @ d), what="grad of grad")   # closed form


def test_grad_of_grad_through_a_factory_over_the_differentiated_weights():
    d = RNG.normal(size=(3, 3))

    def along(W, x):
        return np.sum(diffc.grad(factory_over_a_parameter)(W, x) * d)
    expected = numeric_grad(along, [W3, V3], 0, eps=1e-5)
    assert_close(diffc.grad(along)(W3, V3), expected, rtol=1e-5, atol=1e-6, what="grad of grad")


def make_net(W1, W2):
    first = make_layer(W1)
    second = make_layer(W2)

    def net(x):
        return second(first(x))
    return net


def factory_of_factories(W, x):
    return np.sum(make_net(W, 0.5 * W)(x) ** 2)


def test_grad_of_grad_through_a_factory_calling_factories():
    # the inner factories' closures were Python's inside diffc's: a silent zero at second order
    d = RNG.normal(size=(3, 3))

    def along(W, x):
        return np.sum(diffc.grad(factory_of_factories)(W, x) * d)
    assert_close(diffc.grad(factory_of_factories)(W3, V3), numeric_grad(factory_of_factories, [W3, V3], 0))
    assert_close(diffc.grad(along)(W3, V3), numeric_grad(along, [W3, V3], 0, eps=1e-5),
                 rtol=1e-5, atol=1e-6, what="grad of grad")


FACTORIES = {"tanh": make_layer}


def make_net_by_name(W1, W2):
    first = FACTORIES["tanh"](W1)

    def net(x):
        return first(x) * W2[0, 0]
    return net


def factory_found_in_a_dict(W, x):
    return np.sum(make_net_by_name(W, 0.5 * W)(x) ** 2)


def test_closure_holding_a_python_closure_over_derivatives_is_refused():
    # a factory reached through a dict makes a Python closure over W inside diffc's closure:
    # its derivative was dropped silently (first order, both modes); now refused at the line
    for run in (lambda: diffc.grad(factory_found_in_a_dict)(W3, V3),
                lambda: diffc.jvp(factory_found_in_a_dict, (W3, V3), (W3, None))):
        with pytest.raises(diffc.DiffcError) as info:
            run()
        text = str(info.value) + "\n".join(getattr(info.value, "__notes__", []))
        assert "holds differentiated values" in text
        assert "return np.sum(make_net_by_name(W, 0.5 * W)(x) ** 2)" in text


# ------------------------------------------ 2. models from lists of layer objects

class Dense:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def __call__(self, x):
        return self.W @ x + self.b

    def forward(self, x):
        return self(x)


class Tanh:
    def __call__(self, x):
        return np.tanh(x)

    def forward(self, x):
        return np.tanh(x)


class Scaled:
    """A layer with a static helper (self.act(...) resolves to a staticmethod)."""

    def __init__(self, scale):
        self.scale = scale

    @staticmethod
    def act(z):
        return np.sin(z)

    def forward(self, x):
        return self.scale * self.act(x)

    __call__ = forward


class Net:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def predict(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x


def net_of_dense_layers(W1, b1, W2, b2, x):
    net = Net([Dense(W1, b1), Dense(W2, b2)])
    return np.sum(net(x) ** 2)


def net_of_mixed_layers(W1, b1, W2, b2, x):
    net = Net([Dense(W1, b1), Tanh(), Scaled(1.5), Dense(W2, b2)])
    return np.sum(net.predict(x) ** 2)


def model_loss(net, x):
    return np.sum(net(x) ** 2)


def model_loss_forward(net, x):
    return np.sum(net.predict(x) ** 2)


def _mixed(W1, b1, W2, b2, scale=1.5):
    return Net([Dense(W1, b1), Tanh(), Scaled(scale), Dense(W2, b2)])


def test_models_built_from_lists_of_layers():
    args = [W3, B3, W23, B2, V3]
    for k in (4, 0):
        check(net_of_mixed_layers, args, wrt=k, second=k == 4)
    check(net_of_dense_layers, args, wrt=0, second=False)


@pytest.mark.parametrize("loss", [model_loss, model_loss_forward], ids=lambda f: f.__name__)
def test_gradient_with_respect_to_the_model_object(loss):
    net = _mixed(W3, B3, W23, B2)
    g = diffc.grad(loss)(net, V3)
    assert type(g) is Net and [type(layer) for layer in g.layers] == [Dense, Tanh, Scaled, Dense]
    parts = [(lambda v: _mixed(v, B3, W23, B2), W3, lambda g: g.layers[0].W),
             (lambda v: _mixed(W3, B3, W23, v), B2, lambda g: g.layers[3].b),
             (lambda v: _mixed(W3, B3, W23, B2, v), 1.5, lambda g: g.layers[2].scale)]
    for build, value, pick in parts:
        assert_close(pick(g), numeric_grad(lambda v: loss(build(v), V3), [value], 0), what="grad")
    # forward mode: a tangent model of the same structure (Tanh() carries no tangent)
    dW, db = RNG.normal(size=W3.shape), RNG.normal(size=B2.shape)
    tangent = Net([Dense(dW, np.zeros(3)), Tanh(), Scaled(0.0), Dense(np.zeros((2, 3)), db)])
    expected = np.sum(numeric_grad(lambda v: loss(_mixed(v, B3, W23, B2), V3), [W3], 0) * dW) \
        + np.sum(numeric_grad(lambda v: loss(_mixed(W3, B3, W23, v), V3), [B2], 0) * db)
    assert_close(diffc.jvp(loss, (net, V3), (tangent, None))[1], expected, what="jvp")


def test_second_order_with_respect_to_the_model_and_the_input(loss=model_loss):
    # the first derivative holds the model constant (wrt x), the second varies its fields:
    # was a silent zero (the bound method's object was a constant of the call)
    net = _mixed(W3, B3, W23, B2)

    def input_gradient_sum(model, x):
        return np.sum(diffc.grad(loss, wrt=1)(model, x))
    g = diffc.grad(input_gradient_sum)(net, V3)
    expected = numeric_grad(lambda v: input_gradient_sum(_mixed(v, B3, W23, B2), V3), [W3], 0, eps=1e-5)
    assert_close(g.layers[0].W, expected, rtol=1e-5, atol=1e-6, what="grad of grad wrt the model")
    dW = RNG.normal(size=W3.shape)
    tangent = Net([Dense(dW, np.zeros(3)), Tanh(), Scaled(0.0), Dense(np.zeros((2, 3)), np.zeros(2))])
    assert_close(diffc.jvp(input_gradient_sum, (net, V3), (tangent, None))[1], np.sum(expected * dW),
                 rtol=1e-5, atol=1e-6, what="jvp of grad wrt the model")


class Linear:
    def __init__(self, W):
        self.W = W

    def forward(self, x):
        return np.tanh(self.W @ x)


def single_layer_loss(layer, x):
    return np.sum(layer.forward(x) ** 2)


def test_second_order_through_a_method_of_a_constant_object():
    def input_gradient_sum(layer, x):
        return np.sum(diffc.grad(single_layer_loss, wrt=1)(layer, x))
    expected = numeric_grad(lambda W: input_gradient_sum(Linear(W), V3), [W3], 0, eps=1e-5)
    assert_close(diffc.grad(input_gradient_sum)(Linear(W3), V3).W, expected, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------- 3. lst.insert

def newest_first(x):
    # an RNN-like recurrence keeping its history newest first
    history = [x[0]]
    for t in range(1, 3):
        history.insert(0, np.tanh(history[0] * x[t] + 0.1))
    return history[0] + 2.0 * history[-1] + history[1] ** 2


def refine_polyline(x):
    pts = [x[0] * 1.0, x[2] * 1.0]
    for _ in range(2):
        pts.insert(-1, 0.5 * (pts[-2] + pts[-1]) + 0.1 * x[1] ** 2)
    pts.insert(100, x[1])                 # past the end: appended, as Python does
    return sum(p * p for p in pts)


def _stack_rows(x, n):
    rows = []
    for k in range(n):
        rows.insert(k // 2, np.sin(x * (k + 1)))
    return rows


def inserted_arrays_in_a_callee(x):
    rows = _stack_rows(x, 3)
    return np.sum(rows[0] * rows[1]) + np.sum(rows[2] ** 2)


@pytest.mark.parametrize("fn", [newest_first, refine_polyline, inserted_arrays_in_a_callee],
                         ids=lambda f: f.__name__)
def test_insert_into_a_list_the_function_builds(fn):
    check(fn, [V3])


# ------------------------------------------------------------ nonlocal writes

def accumulator(x):
    total = 0.0

    def add(v):
        nonlocal total
        total = total + v ** 2
    for i in range(3):
        add(x[i] * x[(i + 1) % 3])
    return total


def counter_in_expressions(x):
    count = 0
    scale = 1.0

    def step(v):
        nonlocal count, scale
        count += 1
        scale = scale * v
        return np.sin(v) * count
    y = step(x[0]) + step(x[1]) ** 2
    return y * scale + step(x[2])


def _integrate(x, n):
    state = x * 1.0
    energy = 0.0

    def advance(dt):
        nonlocal state, energy
        state = state + dt * np.cos(state)
        energy = energy + dt * np.sum(state ** 2)
    for _ in range(n):
        advance(0.1)
    return energy + np.sum(state)


def nonlocal_in_a_callee(x):
    return _integrate(x, 3) * 0.5


@pytest.mark.parametrize("fn", [accumulator, counter_in_expressions, nonlocal_in_a_callee],
                         ids=lambda f: f.__name__)
def test_nonlocal_writes_of_local_functions(fn):
    check(fn, [V3])


def _make_counter():
    count = 0.0

    def bump(v):
        nonlocal count
        count = count + v
        return count
    return bump


def counter_from_a_factory(x):
    bump = _make_counter()
    bump(x[0])
    return bump(x[1] ** 2)


def test_nonlocal_state_that_outlives_its_function_is_refused_with_the_line():
    for run in (lambda: diffc.grad(counter_from_a_factory)(V3),
                lambda: diffc.jvp(counter_from_a_factory, (V3,), (V3,))):
        with pytest.raises(diffc.DiffcError, match=r"test_issue16_s9.py:\d+") as info:
            run()
        # the call of what the factory made (reverse mode runs the factory as Python), or the
        # nonlocal statement of the closure it returns (forward mode reads the factory)
        text = str(info.value)
        assert ("bump(...)" in text and "state outside its arguments" in text) or \
            ("nonlocal count" in text and "used as a value" in text)


def _stateful_callback(x):
    count = 0.0

    def bump(v):
        nonlocal count
        count = count + v
        return count
    return _apply_twice(bump, x)


def _apply_twice(fn, x):
    return fn(x[0]) + fn(x[1])


def test_nonlocal_writer_passed_as_a_value_is_refused_at_its_nonlocal_line():
    with pytest.raises(diffc.DiffcError, match=r"test_issue16_s9.py:\d+") as info:
        diffc.grad(_stateful_callback)(V3)
    assert "nonlocal count" in str(info.value) and "used as a value" in str(info.value)


# ------------------------------------------- a class defined in the function

def local_layer_class(x):
    class Affine:
        def __init__(self, a, b):
            self.a = a
            self.b = b

        def __call__(self, v):
            return self.a * np.sin(v) + self.b

    layer = Affine(x[0], 0.5)
    h = x
    for _ in range(2):
        h = layer(h)
    return np.sum(h ** 2)


def _callee_with_a_class(x):
    class Quadratic:
        scale = 0.5

        def __init__(self, c):
            self.c = c

        def energy(self, v):
            return self.scale * np.sum((v - self.c) ** 2)
    return Quadratic(x[1]).energy(x)


def local_class_in_a_callee(x):
    return _callee_with_a_class(x) + _callee_with_a_class(2.0 * x)


@pytest.mark.parametrize("fn", [local_layer_class, local_class_in_a_callee], ids=lambda f: f.__name__)
def test_class_defined_inside_the_function(fn):
    check(fn, [V3])


def class_reading_a_local(x):
    k = 2.0

    class Scaled:
        def __call__(self, v):
            return k * v
    s = Scaled()
    k = x[0]                    # rebound after the class is made: still refused (session 11
    return np.sum(s(x))         # follows locals keeping one value: tests/test_python_s11a.py)


def test_class_reading_a_local_of_the_function_is_refused_with_the_line():
    with pytest.raises(diffc.DiffcError, match=r"test_issue16_s9.py:\d+") as info:
        diffc.grad(class_reading_a_local)(V3)
    assert "class Scaled:" in str(info.value) and "'k'" in str(info.value)


class Trainer:
    def __init__(self, net):
        self.net = net

    def loss(self, x):
        total = 0.0
        for k in range(2):
            total = total + np.sum(self.net(x * (k + 1)) ** 2)
        return total


def trainer_loss(W, x):
    return Trainer(_mixed(W, B3, W23, B2)).loss(x)


def test_model_held_by_another_object_in_a_loop():
    assert_close(diffc.grad(trainer_loss)(W3, V3), numeric_grad(trainer_loss, [W3, V3], 0), what="grad")
    d = RNG.normal(size=W3.shape)

    def along(W, x):
        return np.sum(diffc.grad(trainer_loss)(W, x) * d)
    assert_close(diffc.grad(along)(W3, V3), numeric_grad(along, [W3, V3], 0, eps=1e-5),
                 rtol=1e-5, atol=1e-6, what="grad of grad")
