"""NumPy functions diffc differentiates through their definitions
(rules/order_statistics.py): median, quantile, percentile, ptp, trapezoid, interp,
convolve, and functools.reduce.  Before, each was refused ("no derivative rule").

Values equal NumPy's; derivatives are checked against central finite differences in
both modes and at second order."""

import functools
import operator

import numpy as np
import pytest

import diffc
from gradcheck import assert_close
from test_fuzz_classes_b import check

X = np.array([0.3, -0.7, 1.1, 0.4, 0.9])
GRID = np.arange(15.0).reshape(5, 3)


def medians(x):
    return np.median(x * x) + np.median(x[:4] ** 3) + np.sum(np.median(np.outer(x, x[:3]) + GRID, axis=0) ** 2)


def quantiles(x):
    return np.quantile(x, 0.3) * np.quantile(x ** 2, 0.9) + np.percentile(np.sin(x), 65.0)


def spreads(x):
    return np.ptp(x) * np.sum(np.ptp(np.outer(x, x) + GRID[:, :1], axis=1))


def areas(x):
    return np.trapezoid(x ** 2) + np.trapezoid(x, np.cumsum(x ** 2 + 1.0)) + np.sum(
        np.trapezoid(np.outer(x, x), dx=0.5, axis=0))


def interpolated(x):
    knots = np.array([-1.0, 0.0, 0.5, 1.0])
    at = np.array([0.1, 0.5, -2.0, 2.0, 0.95]) * x[0]
    return np.sum(np.interp(at, knots, x[:4] ** 2)) + np.interp(x[1], knots, np.cos(x[:4]), left=0.0)


def convolutions(x):
    return (np.sum(np.convolve(x, x[::-1] ** 2) ** 2) + np.sum(np.convolve(x, x[:2], "same"))
            + np.sum(np.convolve(x[:2], x, "valid") * x[:4]))


def reduced(x):
    return functools.reduce(operator.mul, list(x)) + functools.reduce(lambda a, b: a + b * b, x, 0.5)


CASES = [medians, quantiles, spreads, areas, interpolated, convolutions, reduced]


@pytest.mark.parametrize("fn", CASES)
def test_derivatives(fn):
    check(fn, [X.copy()], second_order=True)


@pytest.mark.parametrize("fn", CASES)
def test_values_are_numpys(fn):
    value, _ = diffc.value_and_grad(fn)(X.copy())
    assert_close(value, fn(X.copy()), rtol=1e-14, atol=1e-14, what="value")


def test_unsupported_options_are_refused():
    with pytest.raises(diffc.DiffcError):
        diffc.grad(lambda x: np.quantile(x, 0.5, method="nearest"))(X.copy())
