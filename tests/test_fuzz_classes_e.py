"""Fuzzer shape classes_e (tests/fuzz/shapes_e.py, tests/fuzz/FINDINGS_d.md section classes_e):
objects whose methods write their attributes, lists of them, a helper taking one, and a
differentiated array parameter rebound to other shapes by a helper in a loop over a list
(the program classes of commit 4e56c9f).

* fixed seeds of the shape run through the fuzzer's harness (finite differences, autograd,
  forward against reverse; Hessian-vector products for the higher-order ones): none may be
  wrong, crash or be refused, and together they contain every feature of the shape;
* the shape's programs written out by hand, checked against central finite differences in
  both modes and at second order;
* E1 (a refusal, FINDINGS_d.md): reading ``cells[-1]`` after a loop whose items' methods
  write attributes was refused, while ``cells[1]`` worked (fixed: object_lists takes -1);
* E2 (a wrong second derivative, FINDINGS_d.md; seed 8 of the higher-order run): an object
  built from an array, its method rebinding the attribute, then the array written in place:
  the first derivative was right, grad of grad and hvp were not (fixed in session 6: the
  restore of the write, made pure for code differentiated again, reached a copy of the
  array, not the one the object held; tests/test_kept_by_reference.py has the class).

Seeds left out because they exposed a reported problem: 8 (E2), 11 and 15 (E1); all fixed."""

import numpy as np
import pytest

import diffc
from fuzz.generator import generate
from fuzz.harness import check as check_program
from fuzz.harness import run_many, summary
from fuzz.shapes_e import FEATURES
from test_fuzz_classes_b import check

# Seeds of `run.py --shapes classes_e` that pass (4 and 5 hold all four features; all four
# pass at second order too; 8 is E2's).
SEEDS = (4, 5, 6, 8, 12)
HIGHER_ORDER_SEEDS = (4, 5, 8)


def _assert_pass(outcomes):
    bad = [o for o in outcomes if o.status != "pass"]
    assert not bad, summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:3])


def test_fixed_seeds_cover_the_shape():
    features = set()
    for seed in SEEDS:
        features |= generate(seed, shapes=("classes_e",)).features
    assert set(FEATURES) <= features


def test_fixed_seeds_pass(tmp_path):
    _assert_pass(run_many(SEEDS, str(tmp_path), shapes=("classes_e",)))


@pytest.mark.slow
def test_fixed_seeds_pass_at_second_order(tmp_path):
    """Compiling their Hessians takes minutes on a loaded machine (run.py's 120 s timeout
    is not enough for seed 4 with two fuzz runs on 2 CPUs): a long timeout."""
    _assert_pass([check_program(generate(seed, shapes=("classes_e",)), str(tmp_path), higher_order=True,
                                timeout=900) for seed in HIGHER_ORDER_SEEDS])


# ------------------------------------------------------------ the shape, written by hand

class Cell:
    def __init__(self, w, h):
        self.w = w
        self.h = h
        self.count = 0
        self.trace = []
        self.buf = np.zeros(3)

    def step(self, u):
        self.h = np.tanh(self.w * u + self.h)
        self.buf[1] += np.sum(np.sin(self.w * u)) * 0.5
        self.h = self.h + self.buf[1] * 0.25
        self.count += 1
        self.trace.append(np.sum(self.h))
        self.decay()
        return self.h * 0.5 + u

    def decay(self):
        self.h = self.h * 0.9


def advance(cell, u):
    cell.step(u)
    cell.h = 0.9 * cell.h
    return np.sum(cell.h * u)


def layer(M, u):
    return np.tanh(M @ u)


def turn(u, c):
    return (np.tanh(u) * c).T


def one_object(x, v, w):
    y = v * x
    cell = Cell(w, y)
    for i in range(3):
        y = cell.step(y)
    return np.sum(y) + np.sum(cell.h * cell.w) + sum(cell.trace) * 0.3 + cell.count * 0.1


def list_of_objects(x, v, w):
    cells = [Cell(w * (k + 1.0), v) for k in range(2)]
    cells.append(Cell(x, v * w))
    y = v * 0.5
    for _ in range(2):
        for c in cells:
            y = c.step(y)
        for j in range(len(cells)):
            cells[j].step(x)
    return np.sum(y * y) + np.sum(cells[0].h) + np.sum(cells[2].buf)


def helper_on_objects(x, v, w):
    s = 0.0
    cell = Cell(x, v)
    for i in range(2):
        s = s + advance(cell, w) * 0.5
    cells = [Cell(w, v), Cell(x, v * 0.5)]
    for c in cells:
        s = s + advance(c, v)
    return s + np.sum(cell.h) + np.sum(cells[1].h * cells[1].w)


def rebound_parameter(x, v, w):
    M1 = np.outer(np.cos(np.arange(2) + x), v) * 0.9      # (2, 3)
    M2 = np.outer(v, np.sin(np.arange(2) * w)) * 1.3      # (3, 2)
    y = v * 1.0
    for M in [M1, M2]:
        v = layer(M, v)
    s = np.sum(v * y)
    v = v.reshape(1, -1)
    for c in [0.5, -0.7, 1.3]:
        v = turn(v, c * x)
    v = v.ravel()
    return s + np.sum(v * y)


ARGS = [0.7, np.array([0.3, -0.2, 0.5]), -0.4]


@pytest.mark.parametrize("fn", [one_object, list_of_objects, helper_on_objects, rebound_parameter])
def test_shape_by_hand(fn):
    check(fn, ARGS, wrt=(0, 1, 2), second_order=fn is rebound_parameter)


@pytest.mark.slow
@pytest.mark.parametrize("fn", [one_object, list_of_objects, helper_on_objects])
def test_shape_by_hand_second_order(fn):
    """~30-45 s each on a loaded machine (compiling the Hessian): in the slow sweep."""
    check(fn, ARGS, wrt=(0, 1, 2), second_order=True)


# ------------------------------------------------ E1: cells[-1] after the loop, refused

def last_item_read(x, v, w):
    cells = [Cell(x, v * 1.0), Cell(w, v * 2.0)]
    for c in cells:
        v = c.step(v)
    return np.sum(cells[-1].h)


def last_item_through_a_helper(x, v, w):
    cells = [Cell(x, v * 1.0), Cell(w, v * 2.0)]
    s = 0.0
    for c in cells:
        s = s + advance(c, v)
    return s + np.sum(cells[-1].h)


@pytest.mark.parametrize("fn", [last_item_read, last_item_through_a_helper])   # E1, fixed in 71ef1e2
def test_last_item_read_after_the_loop(fn):
    check(fn, ARGS, wrt=(0, 1, 2))


# ------------------------------- E2: the array an object was built from, written in place

class Held:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    def step(self, u):
        self.h = np.tanh(self.w * u + self.h)


def written_after_the_step(x, v, w):
    y = v.copy()
    cell = Held(w, y)
    cell.step(x)
    y[2] += 1.0                   # cell.h is a new array by now: the write does not reach it
    return np.sum(cell.h)


def test_array_written_after_the_object_stepped_first_order():
    check(written_after_the_step, ARGS, wrt=(0, 1, 2))


def test_array_written_after_the_object_stepped_second_order():     # E2, fixed in session 6
    check(written_after_the_step, [-0.408, np.array([-1.22, 1.403, 0.767]), -0.203], wrt=(0,),
          second_order=True)
