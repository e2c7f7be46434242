"""Python's sum() over a NumPy array adds its rows (with an optional start value):
``sum(x * x, 1.5)``, ``sum(np.outer(x, x), v)``.  With a start value this crashed in both
modes (the rows' adjoints came back as a list, the tangent as the whole array).
Checked against central finite differences in both modes and at second order."""

import numpy as np
import pytest

from test_fuzz_classes_b import check

X = np.array([0.3, -0.7, 1.1, 0.4])


def squares_from_start(x):
    return sum(x * x, 1.5)


def rows_from_start(x):
    return np.sum(sum(np.outer(x, x), np.ones(4)) ** 2)


def rows_times_total(x):
    return sum(np.outer(x, x))[1] * sum(x)


@pytest.mark.parametrize("fn", [squares_from_start, rows_from_start, rows_times_total])
def test_sum_of_array_rows(fn):
    check(fn, [X.copy()], second_order=True)
