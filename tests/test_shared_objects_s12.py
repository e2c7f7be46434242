"""Writes through one of two names holding the very same array (an item taken back out of a
dict or list it was stored in, a max(..., key=) pick, a pop), which Python shows through
both: followed (transform/shared_objects.py), checked against finite differences in both
modes and at second order.  A name that only views part of the written array is still
refused.  Also: the tangent of ``d.pop(key)`` on a dict of arrays (it was zero)."""

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


# ---------------------------------------------------------------- programs

def cached_state(x):
    """A cache dict holding the state; the state is updated through the cache."""
    h = np.tanh(x * 1.5)
    cache = {}
    cache["h"] = h
    cache["h"][0] = x[1] * h[2]
    return np.sum(h * x) + np.sum(cache["h"] ** 2)


def cached_state_in_loop(x):
    h = x * 0.5
    total = 0.0
    for step in range(3):
        cache = {"h": h, "step": step}
        cache["h"][step] = np.sin(h[step + 1]) * x[step]
        total = total + np.sum(h * h)
    return total


def largest_layer_scaled(x):
    """Pick a layer with max(key=) and scale it in place: the picked name is the layer."""
    w_small = x[:2] * 0.5
    w_large = x * 2.0
    layers = [w_small, w_large]
    widest = max(layers, key=lambda w: w.shape[0])
    widest *= np.cos(x[0])
    return np.sum(w_large * x) + np.sum(w_small)


def pick_not_shared(x):
    """max(key=) picks the other array at this point: nothing to follow."""
    a = x[:3] * 0.25
    b = x[:3] + 1.0
    y = max([a, b], key=lambda v: v[0])
    y[1] = y[0] * x[0]
    return np.sum(a * x[:3]) + np.sum(b * b)


def stack_pop_scaled(x):
    a = x[:3] * 1.3
    b = x[:3] + 1.0
    frames = [b, a]
    top = a
    y = frames.pop()
    y *= 1.3
    return np.sum(top * x[:3]) + np.sum(b)


def copied_list_item(x):
    a = x[:3] * 1.3
    b = x[:3] + 2.0
    box = [a, b]
    y = box.copy()[0]
    y *= x[3]
    return np.sum(a * x[:3]) + np.sum(b)


def setdefault_existing(x):
    a = x[:3] * 0.5
    registry = {"u": a}
    y = registry.setdefault("u", x[:3] + 1.0)
    y *= 0.5
    return np.sum(a * x[:3])


def update_cached(state, key, scale):
    arr = state[key]
    arr *= scale
    return arr


def through_helper(x):
    """The same shape inside a helper: the helper's own names share."""
    def body(x):
        h = x * 0.7
        store = {}
        store["h"] = h
        store["h"][1] = x[0] ** 2
        return np.sum(h * x)
    return body(x) + body(x * 0.5)


SHARED = [cached_state, cached_state_in_loop, largest_layer_scaled, pick_not_shared,
          stack_pop_scaled, copied_list_item, setdefault_existing, through_helper]


@pytest.mark.parametrize("f", SHARED, ids=lambda f: f.__name__)
def test_gradient_follows_the_shared_write(f):
    assert np.allclose(diffc.grad(f)(X0.copy()), fd_grad(f, X0.copy()), atol=1e-6)


@pytest.mark.parametrize("f", SHARED, ids=lambda f: f.__name__)
def test_tangent_follows_the_shared_write(f):
    value, tangent = diffc.jvp(f, (X0.copy(),), (V,))
    assert np.isclose(value, f(X0.copy()))
    assert np.isclose(tangent, fd_grad(f, X0.copy()) @ V, atol=1e-6)


@pytest.mark.parametrize("f", [cached_state, largest_layer_scaled, stack_pop_scaled],
                         ids=lambda f: f.__name__)
def test_hessian_follows_the_shared_write(f):
    assert np.allclose(diffc.hessian(f)(X0.copy()), fd_hessian(f, X0.copy()), atol=1e-4)


def test_the_caller_arguments_are_untouched():
    x = X0.copy()
    diffc.grad(cached_state)(x)
    assert np.array_equal(x, X0)


# ---------------------------------------------------------------- still refused

def view_in_container(x):
    """The taken item views part of a; a write through it changes a: refused, not followed."""
    a = x * 1.0
    box = [a[:2], x + 1.0]
    y = box.copy()[0]
    y *= 2.0
    return np.sum(a * x)


@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_partial_view_is_still_refused(mode):
    with pytest.raises(diffc.DiffcError, match="another name also holds"):
        if mode == "grad":
            diffc.grad(view_in_container)(X0.copy())
        else:
            diffc.jvp(view_in_container, (X0.copy(),), (V,))


# ---------------------------------------------------------------- dict.pop tangents

def popped_state(x):
    box = {"u": np.sin(x), "w": x * x}
    u = box.pop("u")
    return np.sum(u * box["w"])


def popped_default(x):
    box = {"u": x * 2.0}
    u = box.pop("v", x * 3.0)
    return np.sum(u)


def test_tangent_of_a_popped_dict_entry():
    value, tangent = diffc.jvp(popped_state, (X0.copy(),), (V,))
    assert np.isclose(tangent, fd_grad(popped_state, X0.copy()) @ V, atol=1e-6)


def test_a_popped_default_carries_its_derivative():
    # written out as `if key in box` (transform/container_pops.py): the default's tangent
    value, tangent = diffc.jvp(popped_default, (X0.copy(),), (V,))
    assert np.isclose(tangent, fd_grad(popped_default, X0.copy()) @ V, atol=1e-6)


def popped_default_of_a_shared_dict(x):
    box = {"u": x * 2.0}
    seen = box                      # another name holds the dict: the pop stays a pop
    u = box.pop("v", x * 3.0)
    return np.sum(u) + len(seen)


def test_a_popped_default_the_tangent_cannot_follow_is_refused_not_zero():
    with pytest.raises(diffc.DiffcError):
        diffc.jvp(popped_default_of_a_shared_dict, (X0.copy(),), (V,))

