"""Objects made by factories rather than by calling their class, then changed by methods.

``Cell.zeros(W)`` (a classmethod constructor returning ``cls(...)``), ``make(Cell, W)`` and
``build(W, cls=Cell)`` (a class passed to a helper, or its default) were refused at the
first method writing an attribute ("this object comes from elsewhere"): diffc knew the
class only of objects built by a class named in the helper.  The class is now taken from
the classmethod's owner or from the argument (or default) the call passes.  Every
derivative is checked against central finite differences, both modes, second order.
"""
import numpy as np
import pytest

from gradcheck import check_both_modes, second_order_cases


class Cell:
    def __init__(self, W, h):
        self.W = W
        self.h = h
        self.steps = 0

    @classmethod
    def zeros(cls, W):
        return cls(W, np.zeros(W.shape[0]))

    @classmethod
    def noisy(cls, W, seed=0):
        h = np.random.default_rng(seed).normal(size=W.shape[0]) * 0.1
        return cls(W, h)

    def step(self, x):
        self.h = np.tanh(self.W @ self.h + x)
        self.steps += 1
        return self.h


class GatedCell(Cell):
    def step(self, x):
        gate = 1.0 / (1.0 + np.exp(-np.sum(x)))
        self.h = gate * np.tanh(self.W @ self.h + x) + (1.0 - gate) * self.h
        return self.h


def make(cls, W):
    return cls(W, np.ones(W.shape[0]) * 0.1)


def build(W, cls=Cell):
    return cls(W, np.ones(W.shape[0]) * 0.2)


def from_classmethod(s, x):
    cell = Cell.zeros(np.eye(3) * s)
    for t in range(3):
        cell.step(x * (t + 1))
    return np.sum(cell.h ** 2) + cell.steps


def from_subclass_classmethod(s, x):
    cell = GatedCell.noisy(np.eye(3) * s + 0.1, seed=3)
    cell.step(x)
    cell.step(x * 0.5)
    return np.sum(cell.h)


def class_passed_to_a_factory(s, x):
    cell = make(GatedCell, np.ones((3, 3)) * s)
    y = cell.step(x)
    return np.sum(y * x) + np.sum(cell.h)


def default_class_of_a_factory(s, x):
    cell = build(np.eye(3) * s)
    cell.step(x)
    return np.sum(cell.step(x * 0.5) ** 2)


PROGRAMS = [from_classmethod, from_subclass_classmethod, class_passed_to_a_factory, default_class_of_a_factory]


# Every factory at first order by default; at second order by default a subclass's
# classmethod and a class passed to a factory (a plain classmethod and a factory's default
# class at second order: -m slow).
@pytest.mark.parametrize("fn, second", second_order_cases(
    [(f,) for f in PROGRAMS], {"from_subclass_classmethod", "class_passed_to_a_factory"}))
def test_objects_from_factories(fn, second):
    check_both_modes(fn, [0.7, np.array([-1.22, 1.403, 0.767])], second=second)
