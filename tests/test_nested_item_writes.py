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


@pytest.mark.parametrize("f", [item_also_named, items_from_names])
def test_items_held_elsewhere_are_refused(f):
    with pytest.raises(diffc.DiffcError, match=r"only writes into a local variable") as info:
        diffc.grad(f)(0.7, 0.4)
    assert "test_nested_item_writes.py" in str(info.value)
