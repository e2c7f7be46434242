"""Dependences that used to be dropped without a word (issue 15, class D audit).

Each program here once returned a zero or partial gradient silently.  It must
now be differentiated (checked against finite differences in both modes) or
refused with a DiffcError naming the line."""

import numpy as np
import pytest

import diffc
from test_issue15_aliasing import check_both_modes

X3 = np.array([0.3, -0.9, 0.5])


# ---------------------------------------------------------------- writes made by library calls

def ufunc_out(x):
    y = np.zeros(3)
    np.multiply(x, 2.0, out=y)
    return np.sum(y * y)


def ufunc_out_value_used(x, a):
    y = np.ones(3)
    z = np.add(x, a, out=y)
    return np.sum(z * y) + y[0]


def copyto_then_read(x):
    y = np.zeros(3)
    np.copyto(y, x)
    y[1] = y[1] * 3.0
    return np.sum(np.sin(y))


def fill_with_parameter(x, a):
    y = x * 1.0
    y.fill(a)
    return np.sum(y * x)


def out_in_loop(x):
    acc = np.zeros(3)
    for k in range(3):
        np.add(acc, x * k, out=acc)
    return np.sum(acc * acc)


@pytest.mark.parametrize("fn, args, wrt", [
    (ufunc_out, (X3,), (0,)),
    (ufunc_out_value_used, (X3, 0.4), (0, 1)),
    (copyto_then_read, (X3,), (0,)),
    (fill_with_parameter, (X3, 0.7), (0, 1)),
    (out_in_loop, (X3,), (0,)),
])
def test_library_writes_are_differentiated(fn, args, wrt):
    check_both_modes(fn, args, wrt)


def maximum_at(x):
    y = np.ones(3)
    np.maximum.at(y, [0, 0, 1], x)
    return np.sum(y)


def put(x):
    y = np.zeros(3)
    np.put(y, [0, 2], x[:2])            # a whole write of a changed copy (session 8)
    return np.sum(y * y)


def test_put_is_differentiated():
    check_both_modes(put, (X3,), (0,))


def place(x):
    y = np.zeros(3)
    np.place(y, [True, False, True], x[:2])
    return np.sum(y)


def sort_in_place(x):
    y = x * 1.0
    y.sort()
    return y[0] + 3.0 * y[2]


def shuffle(x):
    y = x * 1.0
    np.random.default_rng(0).shuffle(y)
    return y[0]


def test_sort_in_place_follows_the_permutation():
    # refused until session 11: y.sort() is y[:] = np.sort(y) (transform/sort_in_place.py)
    check_both_modes(sort_in_place, (X3,), (0,))


@pytest.mark.parametrize("fn", [maximum_at, place, shuffle])
def test_library_writes_without_rule_are_refused(fn):
    with pytest.raises(diffc.DiffcError, match="in place"):
        diffc.grad(fn)(X3.copy())
    with pytest.raises(diffc.DiffcError, match="in place"):
        diffc.jvp(fn, (X3.copy(),), (np.ones(3),))


def histogram_of_indices(x):
    counts = np.zeros(3)
    np.add.at(counts, [0, 1, 1], 1.0)      # no derivative flows through counts
    return np.sum(x * counts)


def test_library_write_into_a_constant_array_is_fine():
    check_both_modes(histogram_of_indices, (X3,), (0,))


# ---------------------------------------------------------------- augmented assignment is in place

def augmented_view(x):
    y = x * 1.0
    v = y[1:]
    v += 1.0
    v *= 2.0
    return np.sum(y)


def augmented_alias(x):
    y = x * 1.0
    z = y
    z *= 3.0
    return np.sum(y)


@pytest.mark.parametrize("fn", [augmented_view, augmented_alias])
def test_augmented_update_seen_through_an_alias(fn):
    check_both_modes(fn, (X3,), (0,))


def augmented_reshaped(x):
    y = x * 1.0
    z = y.reshape(3)
    z *= 3.0
    return np.sum(y * x)


def test_augmented_update_of_a_call_view_is_followed():
    # refused until session 11: a reshape of a 1-d array is always its view, and the
    # update is taken back into y (transform/reshaped_views.py)
    check_both_modes(augmented_reshaped, (X3,), (0,))


def augmented_private(x, a):
    y = x * 1.0
    y += a
    y *= x
    s = 2.0
    t = s
    t += a                                  # floats: a new object, s unchanged
    return np.sum(y) + s * t


def test_augmented_update_without_alias():
    check_both_modes(augmented_private, (X3, 0.5), (0, 1))


# ---------------------------------------------------------------- zip and enumerate carry derivatives

def zipped_pairs(xs, ys):
    pairs = list(zip(xs, ys))
    s = 0.0
    for a, b in pairs:
        s = s + a * b
    return s + pairs[0][0] ** 2


def enumerated(xs):
    e = list(enumerate(xs))
    return e[1][1] * 3.0 + e[0][1] * e[2][0]


@pytest.mark.parametrize("fn, args, wrt", [
    (zipped_pairs, (np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])), (0, 1)),
    (zipped_pairs, ([1.0, 2.0, 0.5], [3.0, 4.0]), (0, 1)),
    (enumerated, ([1.0, 2.0, 0.5],), (0,)),
])
def test_zip_and_enumerate_results(fn, args, wrt):
    check_both_modes(fn, args, wrt)


# ---------------------------------------------------------------- nested tuples of tangents

def tuple_of_pairs_in_loop(v):
    h = 0.0
    for t in range(2):
        args = (1.0,) + ((2.0, v[2 * t:2 * t + 2]),)
        h = h + np.sum(args[1][1] ** 3)
    return h


def test_hessian_through_nested_tuples_is_not_zero():
    # tangents of a tuple element that is itself a tuple used to be concatenated,
    # not added, under forward-over-reverse: a silently zero Hessian
    x = np.array([0.3, -0.5, 0.7, 0.2])
    assert np.allclose(diffc.hessian(tuple_of_pairs_in_loop)(x), np.diag(6 * x), atol=1e-9)
    check_both_modes(tuple_of_pairs_in_loop, (x,), (0,), second_order=True)


def layers_over_a_list_slice(x, v):
    params = [(np.sin(v), x), (v * x, 0.2), (np.cos(v), 0.5)]
    h = v.copy()
    for W, b in params[1:]:
        h = np.tanh(W * h + b)
    return np.sum(h * h)


def test_reverse_over_reverse_through_a_list_slice_loop():
    # the adjoint of a list slice was a plain list: `0.0 += [...]` crashed at second order
    v = np.array([0.3, -0.9, 0.5])
    g = diffc.grad(layers_over_a_list_slice, wrt=0)
    _, pullback = diffc.vjp(g, 0.7, v)
    second = pullback(1.0)[0]
    eps = 1e-6
    expected = (g(0.7 + eps, v) - g(0.7 - eps, v)) / (2 * eps)
    assert abs(second - expected) < 1e-6 * max(1.0, abs(expected))
