"""`it = iter(xs)` with `next(it)`, `next(it, default)`, `list(it)` and `for v in it`.

transform/explicit_iterators.py makes such an iterator a list and a position; these
were refused ("no derivative rule for iter").  Derivatives against central differences
in both modes and at second order (gradcheck.check_both_modes); an iterator used in a
way the pass does not follow stays refused with the line.
"""
import numpy as np
import pytest

import diffc
from gradcheck import check_both_modes

X = np.array([0.3, -0.7, 1.1, 0.5])


def two_items_by_next(x):
    it = iter([x * 2.0, x ** 2])
    a = next(it)
    b = next(it)
    return np.sum(a * b)


def first_then_the_rest(x):
    params = [x, x * 3.0, x + 1.0]
    it = iter(params)
    W = next(it)
    rest = list(it)
    return np.sum(W * rest[0] * rest[1])


def default_when_exhausted(x):
    it = iter([x])
    a = next(it)
    b = next(it, None)
    return np.sum(a ** 2) if b is None else 0.0


def pairwise_differences(x):
    it = iter(x)
    prev = next(it)
    total = 0.0
    for v in it:
        total = total + (v - prev) ** 2
        prev = v
    return total


def loop_broken_then_next(x):
    it = iter(x)
    s = 0.0
    for v in it:
        s = s + v
        if s > 0.1:
            break
    rest = next(it, 0.0)
    return s * rest + np.sum(x)


def layer_weights_by_next(x):
    Ws = [np.eye(4) * 0.5, np.ones((4, 4)) * 0.1]
    it = iter(Ws)
    h = np.tanh(next(it) @ x)
    h = np.tanh(next(it) @ h)
    return np.sum(h ** 2)


def two_nexts_in_one_statement(x):
    it = iter(x)
    a, b = next(it), next(it)
    c = next(it) * 2.0
    return a * b + c ** 2


@pytest.mark.parametrize("fn", [two_items_by_next, first_then_the_rest, default_when_exhausted,
                                pairwise_differences, loop_broken_then_next, layer_weights_by_next,
                                two_nexts_in_one_statement])
def test_an_iterator_made_by_iter_is_differentiated(fn):
    check_both_modes(fn, [X])


def _consume(it):
    return next(it)


def iterator_passed_to_a_helper(x):
    it = iter(x)
    return _consume(it) * 2.0


def test_an_iterator_passed_on_is_refused_with_its_line():
    with pytest.raises(diffc.DiffcError, match="test_explicit_iterators.py"):
        diffc.grad(iterator_passed_to_a_helper)(X)


def list_changed_before_the_iterator_reads_it(x):
    lst = [x, x * 2.0]
    it = iter(lst)
    a = next(it)
    lst[1] = x ** 3              # Python's iterator reads the new item
    b = next(it)
    return np.sum(a * b)


def list_changed_through_another_name(x):
    lst = [x, x * 2.0]
    other = lst
    it = iter(lst)
    a = next(it)
    other[1] = x ** 3
    b = next(it)
    return np.sum(a * b)


@pytest.mark.parametrize("fn", [list_changed_before_the_iterator_reads_it, list_changed_through_another_name])
def test_an_iterator_over_a_list_changed_before_it_is_read_is_refused(fn):
    """The iterator is a snapshot list here; Python's would read the changed item."""
    with pytest.raises(diffc.DiffcError, match="test_explicit_iterators.py"):
        diffc.grad(fn)(X)


def next_in_a_comprehension(x):
    it = iter(x)
    vals = [next(it) * 2.0 for _ in range(2)]
    return vals[0] * vals[1]


def next_in_a_conditional_expression(x):
    it = iter(x)
    a = next(it) if x[0] > 0 else 1.0
    b = next(it)
    return a * b


@pytest.mark.parametrize("fn", [next_in_a_comprehension, next_in_a_conditional_expression])
def test_next_run_a_varying_number_of_times_is_refused(fn):
    """No fixed position stands for these calls (the comprehension's gradient was
    silently [2.4, 0, 0] against [-2.8, 1.2, 0] before this check)."""
    with pytest.raises(diffc.DiffcError, match="iter"):
        diffc.grad(fn)(X)
