"""``c.pop(i)``, ``d.pop(key[, default])``, ``del c[i]`` and ``del name`` as scientists write
them (options popped out of ``**kwargs``, a work queue, layers dropped from a list), checked
against finite differences in both modes and at second order (transform/container_pops.py).
Until session 12 every one of them was refused ("no derivative rule for the method .pop",
"del is not supported")."""

import numpy as np
import pytest

import diffc
from gradcheck import fd_jacobian, numeric_grad

X0 = np.array([0.3, -0.7, 1.1, 0.4])
V = np.array([1.0, -0.5, 0.25, 2.0])


def fd_grad(f, x, h=1e-6):
    return numeric_grad(f, [x], 0, h)


def fd_hessian(f, x, h=1e-4):
    return fd_jacobian(lambda y: numeric_grad(f, [y], 0, 1e-5), x, h)


def layer(x, **options):
    scale = options.pop("scale", 1.0)
    shift = options.pop("shift", 0.0)
    activation = options.pop("activation", np.tanh)
    return activation(x * scale + shift)


def kwargs_popped(x):
    hidden = layer(x[1:], scale=x[0], shift=0.5)
    return np.sum(hidden ** 2) + np.sum(layer(x, activation=np.sin))


def work_queue(x):
    queue = [x * 1.0, np.sin(x), x ** 2]
    total = 0.0
    refilled = False
    while queue:
        item = queue.pop(0)
        total = total + np.sum(item * x)
        if len(queue) == 1 and not refilled:
            queue.append(np.cos(item))
            refilled = True
    return total


def dropped_layer(x):
    layers = [x * 2.0, np.cos(x), x + 1.0]
    middle = layers.pop(1)
    last = layers.pop(-1)
    return np.sum(middle * layers[0]) + np.sum(last * x) + len(layers)


def deleted_items(x):
    layers = [x * 2.0, np.cos(x), x + 1.0]
    del layers[0]
    state = {"h": np.tanh(x), "c": x * 0.5, "n": 3}
    h = state["h"]
    del state["h"]
    scratch = h * 2.0
    del scratch
    return np.sum(layers[0] * h) + np.sum(state["c"]) * len(state)


def popped_from_a_state_dict(x):
    state = {"h": np.tanh(x), "c": x * 0.5}
    total = 0.0
    for key in ["h", "c"]:
        value = state.pop(key)
        total = total + np.sum(value * x)
    missing = state.pop("h", x[0] ** 2)
    return total + np.sum(missing) + len(state)


def take_first(values):
    first = values.pop(0)
    return first * sum(values)


def list_parameter_popped(x):
    return np.sum(take_first([x[0], x[1] * 2.0, x[2]])) + take_first([x[3], x[0]])


PROGRAMS = [kwargs_popped, work_queue, dropped_layer, deleted_items, popped_from_a_state_dict,
            list_parameter_popped]


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_gradient(f):
    assert np.allclose(diffc.grad(f)(X0.copy()), fd_grad(f, X0.copy()), atol=1e-6)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
def test_tangent(f):
    value, tangent = diffc.jvp(f, (X0.copy(),), (V,))
    assert np.isclose(value, f(X0.copy()))
    assert np.isclose(tangent, fd_grad(f, X0.copy()) @ V, atol=1e-6)


@pytest.mark.parametrize("f", [kwargs_popped, work_queue, dropped_layer, popped_from_a_state_dict],
                         ids=lambda f: f.__name__)
def test_hessian(f):
    assert np.allclose(diffc.hessian(f)(X0.copy()), fd_hessian(f, X0.copy()), atol=1e-4)


def test_pop_out_of_range_raises_as_python():
    def f(x):
        xs = [x[0]]
        xs.pop(3)
        return x[0]
    with pytest.raises(IndexError):
        diffc.grad(f)(X0.copy())


# ---------------------------------------------------------------- still refused, clearly

def deleted_slice(x):
    layers = [x * 2.0, np.cos(x), x + 1.0]
    del layers[0:2]
    return np.sum(layers[0])


def aliased_dict(x):
    state = {"h": np.tanh(x), "c": x * 0.5}
    seen = state                    # another name holds the dict: a pop must change both
    h = state.pop("h")
    return np.sum(h) + len(seen)


@pytest.mark.parametrize("f", [deleted_slice, aliased_dict], ids=lambda f: f.__name__)
def test_refused_with_the_line(f):
    with pytest.raises(diffc.DiffcError, match="line|:"):
        diffc.grad(f)(X0.copy())
