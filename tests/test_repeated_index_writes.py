"""Issue 15: writes through an integer-array index that names one element twice.

``v[[0, 0, 1]] = w`` leaves only the last of the two values for v[0] (NumPy writes in
order), and ``v[i] += w`` with a repeated i adds once (it is ``v[i] = v[i] + w``).  The
reverse sweep gave every entry of w the adjoint of its target, so the overwritten ones
got a gradient they do not have: a silently wrong reverse gradient (jvp was right), and
wrong Hessians.  runtime.take_item now gives the overwritten entries none
(runtime_scatter.written_last finds them by making the same write), and its pure form
for higher order (runtime_pure.taken_item) does the same.

Checked against central finite differences in both modes and at second order."""

import numpy as np
import pytest

from test_fuzz_classes_b import check

X = np.array([0.3, -0.7, 1.1, 0.4])


def add_at_repeated(x):
    v = x * 2.0
    v[[0, 0, 1]] += x[:3] ** 2
    return np.sum(v * v * x)


def assign_repeated(x):
    v = x * 2.0
    v[[0, 0, 1]] = x[1:] * x[0]
    return np.sum(v * v)


def multiply_repeated_in_loop(x):
    v = x * 2.0
    i = np.array([3, 3, 0])
    for k in range(2):
        v[i] -= np.cos(x[i]) * v[k]
    return np.sum(v ** 3)


def repeated_columns(x):
    m = np.outer(x, x)
    m[:, [0, 0]] = np.sin(x[:, None]) * np.array([[1.0, 2.0]])
    return np.sum(m ** 2)


def repeated_pairs_2d(x):
    m = np.outer(x, x)
    m[[0, 1, 0], [1, 1, 1]] = x[:3] ** 3
    return np.sum(m * m * x[0])


def helper_writes(v, idx, w):
    v[idx] = w
    return v


def repeated_in_a_helper(x):
    v = helper_writes(x * 1.5, [2, 2, 2], np.tanh(x[:3]))
    return np.sum(v ** 2)


@pytest.mark.parametrize("fn", [add_at_repeated, assign_repeated, multiply_repeated_in_loop, repeated_columns,
                                repeated_pairs_2d, repeated_in_a_helper])
def test_repeated_index_write(fn):
    check(fn, [X.copy()], second_order=True)
