"""Wrong gradients found by writing programs the way scientists write them (session 6).

Each class returned a derivative silently wrong before; each program is checked against
central finite differences (or a closed form), both modes, second order where it applies.
"""
import functools

import numpy as np
import pytest

import diffc
try:
    from scipy import integrate
except ImportError:             # diffc works without SciPy
    integrate = None
from diffc.errors import DiffcError
from gradcheck import check_both_modes

X = np.array([0.3, -0.7])


# ----------------------------------- random draws are effects: never dropped or moved

def seeded_draw(x):
    np.random.seed(3)
    e = np.random.randn(2)
    return np.sum(x * e)


def discarded_draw(x):
    np.random.seed(2)
    np.random.normal(size=5)            # advances the global generator
    return np.sum(x * np.random.normal(size=2))


def shuffled_index(x):
    perm = np.arange(2)
    np.random.seed(5)
    np.random.shuffle(perm)
    return x[perm[0]] * 3.0 + x[perm[1]]


def generator_draw_discarded(x):
    rng = np.random.default_rng(7)
    rng.normal(size=3)
    noise = rng.normal(size=2)
    return np.sum(x * x * noise)


@pytest.mark.parametrize("fn", [seeded_draw, discarded_draw, shuffled_index, generator_draw_discarded],
                         ids=lambda f: f.__name__)
def test_random_draws_are_kept_in_order(fn):
    check_both_modes(fn, [X])


# ----------------------------------------------- a bound method used as a value

class Spring:
    def __init__(self, k):
        self.k = k

    def force(self, y):
        return -self.k * y


def apply(fn, y):
    return fn(y) * 2.0


def method_value(x):
    s = Spring(x[0] ** 2)
    force = s.force
    return np.sum(force(x))


def method_passed_to_a_helper(x):
    s = Spring(np.sin(x[0]))
    return np.sum(apply(s.force, x))


def method_by_getattr(x):
    s = Spring(x[0] * x[1])
    return np.sum(getattr(s, "force")(x * 2.0))


def method_in_a_dict(x):
    s = Spring(x[1] ** 2 + 1.0)
    table = {"f": s.force}
    return np.sum(table["f"](x) * x)


@pytest.mark.parametrize("fn", [method_value, method_passed_to_a_helper, method_by_getattr, method_in_a_dict],
                         ids=lambda f: f.__name__)
def test_bound_method_values_carry_the_objects_derivative(fn):
    check_both_modes(fn, [X])


class Decay:
    def __init__(self, k):
        self.k = k

    def rhs(self, y, t):
        return -self.k * y


def decay_through_a_method(x):
    model = Decay(x[0])
    ys = integrate.odeint(model.rhs, np.array([x[1]]), [0.0, 1.0])
    return ys[-1, 0]


def test_odeint_of_a_method_of_an_object_holding_floats_is_refused():
    if integrate is None:
        pytest.skip("scipy is not installed")
    with pytest.raises(DiffcError, match="args="):
        diffc.grad(decay_through_a_method)(np.array([0.8, 0.3]))
