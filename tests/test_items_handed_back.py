"""Objects a call hands back from a container are the container's objects, not copies.

`y = stack.pop()`, `d.get(k)`, `d.pop(k)`, `d.setdefault(k, v)`, `d.popitem()`,
`next(it)`, `max(arrays, key=f)` and `lst.copy()` (its items) return an object the program already holds elsewhere;
a write into y is a write into that object, which another name may still read.  diffc
treated these results as fresh: the write was lost for the other name, a silently wrong
gradient in both modes.  Each program below must now be either differentiated correctly
(checked against finite differences, both modes) or refused with a DiffcError; the last
ones share nothing and must be differentiated."""

import numpy as np
import pytest

import diffc

from gradcheck import assert_close, numeric_grad


class Cell:
    def __init__(self, w, h):
        self.w = w
        self.h = h


def popped_while_an_object_holds_it(x):
    y0 = np.sin(x) + x
    stack = []
    stack.append(y0)
    cell = Cell(x[0], y0)
    y = stack.pop()
    y[1] = 3.0 * x[2]
    return np.sum(cell.h * x)


def popped_while_another_name_holds_it(x):
    y0 = np.sin(x) + x
    stack = [y0]
    other = y0
    y = stack.pop()
    y[1] = 3.0 * x[2]
    return np.sum(other * x)


def got_from_a_dict(x):
    y0 = np.sin(x) + x
    d = {"h": y0}
    y = d.get("h")
    y[1] = 3.0 * x[2]
    return np.sum(y0 * x)


def popped_from_a_dict(x):
    y0 = np.sin(x) + x
    d = {"h": y0}
    y = d.pop("h")
    y[1] = 3.0 * x[2]
    return np.sum(y0 * x)


def setdefault_hands_back_the_item(x):
    y0 = np.sin(x) + x
    d = {"h": y0}
    y = d.setdefault("h", x)
    y[1] = 3.0 * x[2]
    return np.sum(y0 * x)


def popped_at_the_front(x):
    a = np.sin(x) + x
    q = [a, x * 2]
    y = q.pop(0)
    y *= 2.0
    return np.sum(a * x)


def popitem_hands_back_the_item(x):
    y0 = np.sin(x) + x
    d = {"h": y0}
    k, y = d.popitem()
    y[1] = 3.0 * x[2]
    return np.sum(y0 * x)


def next_hands_back_the_item(x):
    y0 = np.sin(x) + x
    it = iter([y0])
    y = next(it)
    y[1] = 3.0 * x[2]
    return np.sum(y0 * x)


def max_by_key_hands_back_the_item(x):
    a = np.sin(x) + x
    b = x * 2
    y = max([a, b], key=lambda v: v[0])
    y[1] = 3.0 * x[2]
    return np.sum(a * x) + np.sum(b)


def item_of_a_shallow_copy(x):
    y0 = np.sin(x) + x
    lst = [y0]
    c = lst.copy()
    c[0][1] = 3.0 * x[2]
    return np.sum(y0 * x)


SHARED = [item_of_a_shallow_copy, popped_while_an_object_holds_it, popped_while_another_name_holds_it, got_from_a_dict,
          popped_from_a_dict, setdefault_hands_back_the_item, popped_at_the_front,
          popitem_hands_back_the_item, next_hands_back_the_item, max_by_key_hands_back_the_item]

X = np.array([0.3, -0.7, 1.1])


@pytest.mark.parametrize("f", SHARED, ids=lambda f: f.__name__)
def test_a_write_into_a_handed_back_item_is_followed_or_refused(f):
    expected = numeric_grad(f, [X], 0)
    direction = np.array([1.0, -0.5, 0.25])
    for mode in ("reverse", "forward"):
        try:
            got = diffc.grad(f)(X.copy()) if mode == "reverse" else diffc.jvp(f, (X.copy(),), (direction,))[1]
        except diffc.DiffcError:
            continue                # refused at the line: never a silently wrong derivative
        assert_close(got, expected if mode == "reverse" else np.sum(expected * direction), what=mode)


def popped_and_private(x):
    stack = [np.sin(x), x * 2.0]
    y = stack.pop()
    y[0] = y[0] * x[1]
    return np.sum(y) + np.sum(stack[0])


def got_and_private(x):
    d = {"a": np.cos(x), "b": x ** 2}
    y = d.get("b")
    z = y * x[0]
    return np.sum(z) + np.sum(d["a"])


@pytest.mark.parametrize("f", [popped_and_private, got_and_private], ids=lambda f: f.__name__)
def test_items_nobody_else_holds_are_differentiated(f):
    expected = numeric_grad(f, [X], 0)
    assert_close(diffc.grad(f)(X.copy()), expected)
    direction = np.array([1.0, -0.5, 0.25])
    assert_close(diffc.jvp(f, (X.copy(),), (direction,))[1], np.sum(expected * direction))
