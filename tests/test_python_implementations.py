"""Library functions diffc differentiates through plain-Python implementations
(diffc/rules/python_implementations.py): math.prod, np.average, np.polyval,
np.linalg.matrix_power and the itertools iterators.  Each derivative is checked against
central finite differences in both modes and at second order; each value against the
library's own."""
import itertools
import math

import numpy as np
import pytest

import diffc
from diffc.errors import DiffcError
from diffc.rules import python_implementations as impl
from gradcheck import check_both_modes, second_order_cases

X = np.array([0.3, -0.7, 0.5])


def product_of_terms(x):
    return math.prod([x[0], x[1], 2.0]) + math.prod(x) + math.prod([x[2]], start=3.0)


def weighted_averages(x):
    M = np.outer(x, x) + np.eye(3)
    rows = np.average(M, axis=1, weights=np.array([1.0, 2.0, 0.5]))
    return np.average(x ** 2, weights=np.array([1.0, 2.0, 3.0])) + np.sum(rows ** 2) \
        + np.average(M, axis=0, keepdims=True)[0, 1] + np.average(x)


def polynomial(x):
    coefficients = [x[0], 2.0, x[1]]
    return np.sum(np.polyval(coefficients, x)) + np.polyval(np.array([1.0, x[2]]), x[0])


def matrix_powers(x):
    A = np.outer(x, x) * 0.1 + np.eye(3)
    return np.sum(np.linalg.matrix_power(A, 3)) + np.sum(np.linalg.matrix_power(A, -2)) \
        + np.sum(np.linalg.matrix_power(A, 0) * A) + np.sum(np.linalg.matrix_power(A, 1))


def pair_energy(x):
    s = 0.0
    for a, b in itertools.combinations([x[0], x[1], x[2]], 2):
        s = s + a * b
    for a, b in itertools.combinations_with_replacement([x[0], x[1]], 2):
        s = s + np.sin(a - b) * a
    return s


def grid_and_orders(x):
    s = 0.0
    for a, b in itertools.product([x[0], x[1]], [x[2], 2.0]):
        s = s + a * b ** 2
    for a, b in itertools.product([x[0], x[1]], repeat=2):
        s = s + a * b * 0.5
    for p in itertools.permutations([x[0], x[1], x[2]], 2):
        s = s + p[0] * p[1] ** 2
    return s


def running_sums(x):
    s = 0.0
    for c in itertools.accumulate([x[0], x[1], x[2]]):
        s = s + c ** 2
    for c in itertools.accumulate([x[0], x[1], x[2]], lambda a, b: a * b, initial=1.5):
        s = s + c
    for a, b in itertools.pairwise([x[0], x[1], x[2]]):
        s = s + np.sin(a * b)
    return s


def chained_and_sliced(x):
    s = 0.0
    for v in itertools.chain([x[0]], [x[1], x[2]]):
        s = s + v ** 3
    for v in itertools.islice([x[0], x[1], x[2]], 1, 3):
        s = s + v ** 2
    for v in itertools.islice([x[0], x[1], x[2]], 2):
        s = s + np.exp(v)
    return s


LIBRARY_PROGRAMS = [product_of_terms, weighted_averages, polynomial, matrix_powers, pair_energy,
                    grid_and_orders, running_sums, chained_and_sliced]
# Second order by default: one program per implementation family (the itertools iterators
# are all plain Python loops over a list: chained_and_sliced); the others with -m slow.
SECOND_DEFAULT = {"product_of_terms", "weighted_averages", "polynomial", "matrix_powers", "chained_and_sliced"}


@pytest.mark.parametrize("fn, second", second_order_cases([(f,) for f in LIBRARY_PROGRAMS], SECOND_DEFAULT))
def test_derivatives_through_library_implementations(fn, second):
    check_both_modes(fn, [X], second=second)


@pytest.mark.parametrize("library, ours, args", [
    (math.prod, impl.prod, ([0.3, -0.7, 2.0],)),
    (np.polyval, impl.polyval, ([0.3, 2.0, -1.0], X)),
    (np.polyval, impl.polyval, (np.array([0.3, 2.0]), 0.7)),
    (np.linalg.matrix_power, impl.matrix_power, (np.outer(X, X) + np.eye(3), 3)),
    (np.linalg.matrix_power, impl.matrix_power, (np.outer(X, X) + np.eye(3), -1)),
    (np.linalg.matrix_power, impl.matrix_power, (np.outer(X, X) + np.eye(3), 0)),
])
def test_implementations_compute_the_library_values(library, ours, args):
    np.testing.assert_allclose(ours(*args), library(*args), rtol=1e-12)


def test_average_values():
    M = np.outer(X, X) + 1.0
    w = np.array([1.0, 2.0, 0.5])
    for kwargs in ({}, {"axis": 0}, {"axis": 1, "weights": w}, {"weights": M}, {"axis": 0, "keepdims": True}):
        np.testing.assert_allclose(impl.average(M, **kwargs), np.average(M, **kwargs), rtol=1e-12)


@pytest.mark.parametrize("name, args", [
    ("product", ([1, 2], [3, 4, 5])), ("combinations", ([1, 2, 3, 4], 3)),
    ("combinations_with_replacement", ([1, 2, 3], 2)), ("permutations", ([1, 2, 3],)),
    ("chain", ([1], [2, 3])), ("pairwise", ([1, 2, 3, 4],)), ("accumulate", ([1, 2, 3],)),
    ("islice", ([1, 2, 3, 4, 5], 1, 5, 2))])
def test_iterators_yield_what_itertools_yields(name, args):
    assert list(getattr(impl, name)(*args)) == list(getattr(itertools, name)(*args))


def combinations_made_before_a_write(x):
    ws = [x[0], x[1], x[2]]
    pairs = itertools.combinations(ws, 2)     # copies ws now: the write below is not seen
    ws[0] = x[1] * 3.0
    return sum(a * b for a, b in pairs) + ws[0]


def test_combinations_copy_their_input_when_made():
    check_both_modes(combinations_made_before_a_write, [X])


def chain_consumed_after_a_write(x):
    ws = [x[0], x[1], x[2]]
    values = itertools.chain(ws, [x[2]])      # reads ws only when consumed
    ws[0] = x[1] * 3.0
    return sum(v * v for v in values)


def test_a_lazy_itertools_iterator_consumed_after_its_input_changed_is_refused():
    with pytest.raises(DiffcError, match="only when it is consumed"):
        diffc.grad(chain_consumed_after_a_write)(X.copy())
