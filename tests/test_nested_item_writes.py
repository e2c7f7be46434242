"""``rows[i][j] = v`` and ``rows[i][j] += v`` (an item of an item), as scientists fill
tables: written as ``_t = rows[i]; _t[j] = v; rows[i] = _t`` (transform/anf.py), when no
other name, container or call can hold one of rows' items (rows made in the function from
fresh values, its items read only in arithmetic).  Before, every such write was refused.
An item another name also holds stays refused (a write through rows would not reach it).
Checked against finite differences, both modes, second order."""

import numpy as np
import pytest

import diffc
from gradcheck import check_both_modes


def table_of_rows(w, x):
    rows = [np.zeros(3), np.zeros(3)]
    for i in range(2):
        for j in range(3):
            rows[i][j] = np.sin(w * (i + 1) + x * j)
        rows[i][0] += w * x
    return np.sum(np.stack(rows) ** 2) + rows[1][2] * w


def matrix_by_rows(w, x):
    A = np.zeros((3, 3))
    for i in range(3):
        A[i][i] = w * (i + 1)
        A[i][(i + 1) % 3] -= x * w
    return np.sum(A @ A) + A[0][1] ** 2


def lists_of_floats(w, x):
    grid = [[0.0, 0.0], [0.0, 0.0]]
    grid[0][1] = w * x
    grid[1][0] = grid[0][1] * w + x
    grid[1][1] += w ** 2
    return grid[0][1] * grid[1][0] + grid[1][1]


@pytest.mark.parametrize("f", [table_of_rows, matrix_by_rows, lists_of_floats])
def test_nested_item_writes(f):
    check_both_modes(f, [0.7, 0.4], wrts=[0, 1], second=True)


def item_also_named(w, x):
    rows = [np.zeros(2), np.zeros(2)]
    first_row = rows[0]
    rows[0][1] = w * x
    return np.sum(first_row ** 2) + np.sum(rows[0])


def items_from_names(w, x):
    a = np.zeros(2)
    rows = [a, np.zeros(2)]
    rows[0][1] = w * x
    return np.sum(a ** 2)


def test_item_also_named():
    # first_row is rows[0]'s object: the write through rows changes it too.  Session 10: the
    # write is _t = rows[0]; _t[1] = v, and first_row, which took the same item before, is
    # re-read from _t after it (item_write_back.sibling_re_read); before, refused (and the
    # hessian gave a wrong value instead)
    check_both_modes(item_also_named, [0.7, 0.4], wrts=[0, 1], second=True)


def test_item_held_by_a_name_follows_the_write():
    # rows[0][1] = v is _t = rows[0]; _t[1] = v (transform/anf.py through_named_item): a
    # holds that object, and sees the write as in Python
    check_both_modes(items_from_names, [0.7, 0.4], wrts=[0, 1], second=True)
