"""getattr / setattr, and methods changing state outside their object, in
differentiated code.  Before: `getattr(c, 'step')(x)` ran the method as plain Python
(gradient 0.0 against 0.370), `setattr(c, 'h', w * x)` lost w's derivative (0.297
against 0.594), and a method writing a class attribute (`Acc.total = Acc.total + v`)
gave 0.0 against 0.4, all without a word (transform/literal_attributes.py,
constructors.writes_global_state).  Checked against finite differences, both modes."""

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, check_both_modes, numeric_grad


class Cell:
    def __init__(self, w):
        self.w = w
        self.h = 0.0

    def step(self, x):
        self.h = np.tanh(self.w * x + self.h)
        return self.h


class Params:
    def __init__(self, a, b):
        self.a = a
        self.b = b


class Accumulator:
    total = 0.0

    def add(self, v):
        Accumulator.total = Accumulator.total + v


def method_through_getattr(w, x):
    c = Cell(w)
    getattr(c, "step")(x)
    out = getattr(c, "step")(2 * x)
    return out + getattr(c, "h")


def state_set_with_setattr(w, x):
    c = Cell(w)
    setattr(c, "h", w * x)
    c.step(x)
    return c.h ** 2


def fields_by_name(w, x):
    p = Params(w, x * w)
    total = 0.0
    for name in ("a", "b"):
        total = total + getattr(p, name) ** 2
    return total


@pytest.mark.parametrize("f", [method_through_getattr, state_set_with_setattr, fields_by_name])
def test_getattr_and_setattr(f):
    check_both_modes(f, [0.7, 0.4], second=False)


def setattr_computed(w, x):
    c = Cell(w)
    name = "h"
    setattr(c, name, w * x)
    return c.h


def class_state(w, x):
    acc = Accumulator()
    acc.add(w * x)
    return Accumulator.total


@pytest.mark.parametrize("f, message", [(setattr_computed, "setattr with an attribute name computed"),
                                        (class_state, r"Accumulator.add\(...\) changes state outside its object")])
def test_what_diffc_cannot_follow_is_refused_at_the_line(f, message):
    Accumulator.total = 0.0
    with pytest.raises(diffc.DiffcError, match=message) as info:
        diffc.grad(f)(0.7, 0.4)
    assert "test_attribute_access_forms.py" in str(info.value)


class CountingModel:
    def __init__(self, w):
        self.w = w
        self.calls = 0
        self.last = None

    def __call__(self, x):
        self.calls += 1
        self.last = np.tanh(self.w * x)
        return self.last


def called_twice(w, x):
    model = CountingModel(w)
    y = model(x)
    y2 = model(y + x)
    return y2 + model.last * model.calls


def model_passed_in(x, model):
    first = model(x)
    second = model(2 * x)
    return first + second * model.calls


def test_callable_object_writing_its_state():
    # model(x) whose __call__ writes attributes was refused, naming a generated line
    for wrt in (0, 1):
        expected = numeric_grad(called_twice, [0.7, 0.4], wrt)
        assert_close(diffc.grad(called_twice, wrt=wrt)(0.7, 0.4), expected)
        tangents = (1.0, None) if wrt == 0 else (None, 1.0)
        assert_close(diffc.jvp(called_twice, (0.7, 0.4), tangents)[1], expected, what="jvp")
    model = CountingModel(0.9)
    expected = numeric_grad(lambda x: model_passed_in(x, CountingModel(0.9)), [0.4], 0)
    assert_close(diffc.grad(model_passed_in)(0.4, model), expected)
    assert model.calls == 0
