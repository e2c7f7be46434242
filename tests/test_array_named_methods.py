"""A user object's method named like an ndarray method that has a rule (``dist.mean(x)``,
``acc.sum()``, ``model.dot(x)``) is the class's own, however the object reaches the call:
an argument, a helper's parameter, an item of a list, tuple or dict of objects, a loop
over a list of objects, the object attribute_writes rebinds after ``obj.w = w``.

Before, only a name bound by a call of the class was known to hold an object; the rest
took the array method's rule (a refusal naming "axis", or a TypeError from inside the
generated code).  Where diffc still cannot tell (an object read from another object's
attribute), the call is refused at run time with a DiffcError naming the line, never
differentiated as an array's.  Every derivative is checked against central finite
differences, in both modes and at second order.
"""
import numpy as np
import pytest

import diffc
from diffc.errors import DiffcError
from gradcheck import check_both_modes


class Gaussian:
    """A user distribution with numpy-like method names."""

    def __init__(self, loc, scale):
        self.loc = loc
        self.scale = scale

    def mean(self, x):
        return np.sum(self.loc * x ** 3)

    def sum(self):
        return np.sum(self.scale ** 2 + self.loc)

    def dot(self, x):
        return np.sum(np.sin(x) * self.scale) * 3.0

    def var(self):
        return np.sum(self.scale ** 2)


W0 = np.array([1.0, 2.0, 0.5])
X = np.array([0.3, -0.7, 1.2])


def passed_in(x, dist):
    return dist.mean(x) + dist.dot(x)


def score(x, dist):
    return dist.mean(x) * 2.0 - dist.dot(x)


def through_a_helper(x, dist):
    return score(x, dist) + np.sum(x ** 2)


def over_a_list_of_objects(x, dists):
    return sum(d.mean(x) for d in dists) + dists[0].dot(x)


def tuple_unpacked(w):
    a, b = Gaussian(w, 2.0 * w), Gaussian(w ** 2, w)
    return a.sum() + b.var() * a.mean(w)


def list_display(w):
    parts = [Gaussian(w, w + 1.0), Gaussian(0.5 * w, w)]
    total = 0.0
    for p in parts:
        total = total + p.sum()
    return total + parts[1].var()


def dict_display(w):
    dists = {"prior": Gaussian(w, np.ones(3)), "post": Gaussian(np.sin(w), w)}
    return dists["prior"].sum() * dists["post"].var()


def attribute_written_first(w, dist):
    dist.scale = w * 2.0
    return dist.var() + dist.sum()


def copied_name(w):
    d = Gaussian(w, w)
    e = d
    return e.var() + e.mean(w)


CASES = [
    (passed_in, [X, Gaussian(W0, W0 + 1.0)], (0,)),
    (through_a_helper, [X, Gaussian(W0, W0 + 1.0)], (0,)),
    (over_a_list_of_objects, [X, [Gaussian(W0, W0), Gaussian(W0 * 2.0, W0)]], (0,)),
    (tuple_unpacked, [W0], (0,)),
    (list_display, [W0], (0,)),
    (dict_display, [W0], (0,)),
    (attribute_written_first, [W0, Gaussian(W0, W0)], (0,)),
    (copied_name, [W0], (0,)),
]


@pytest.mark.parametrize("fn,args,wrts", CASES, ids=[c[0].__name__ for c in CASES])
def test_the_objects_own_method_is_differentiated(fn, args, wrts):
    check_both_modes(fn, args, wrts=wrts)


class Holder:
    def __init__(self, dist):
        self.dist = dist


def read_from_an_attribute(w):
    h = Holder(Gaussian(w, w))
    return h.dist.sum()


def test_an_object_diffc_cannot_see_is_refused_at_the_line_not_differentiated_as_an_array():
    with pytest.raises(DiffcError) as err:
        diffc.grad(read_from_an_attribute)(W0)
    assert "test_array_named_methods.py" in str(err.value) and ".sum()" in str(err.value)


def normalize(v):
    return v / v.sum()


def test_arrays_read_from_attributes_keep_the_array_rule():
    # the guard lets ndarrays (and numbers) through: h.dist.loc is an array here
    def f(w):
        h = Holder(Gaussian(w, w))
        return np.sum(normalize(h.dist.loc) ** 2) + h.dist.scale.sum()

    check_both_modes(f, [W0])
