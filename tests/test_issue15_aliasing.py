"""Aliasing and in-place writes (issue 15, classes A, B, C): views read around writes,
helpers writing into arrays they return, and reads that share nothing.

Every program is checked in both modes against central finite differences of
the program as Python runs it; programs where Python's aliasing would make a
name change behind the compiler's back must be refused, never differentiated."""

import copy
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, check_both_modes, numeric_grad

X3 = np.array([0.3, -0.9, 0.5])
X5 = np.array([0.1, 0.5, 0.2, 0.9, 0.3])


def _fresh(args):
    return [copy.deepcopy(a) for a in args]


def _fd(fn, args, k):
    return numeric_grad(lambda *a: fn(*_fresh(a)), _fresh(args), k)


def check_both_modes(fn, args, wrt=(0,), second_order=False):
    """Reverse gradient and forward directional derivative against finite differences."""
    args = list(args)
    saved = _fresh(args)
    grads = diffc.grad(fn, wrt=tuple(wrt))(*_fresh(args))
    for k, g in zip(wrt, grads):
        assert_close(g, _fd(fn, args, k), rtol=1e-6, atol=1e-7, what=f"reverse d/darg{k}")
    rng = np.random.default_rng(0)
    tangents = [None] * len(args)
    for k in wrt:
        tangents[k] = rng.standard_normal(np.shape(args[k])) if np.ndim(args[k]) else 0.7
        if isinstance(args[k], (list, tuple)):
            tangents[k] = type(args[k])(tangents[k].tolist())
    _, tangent_out = diffc.jvp(fn, tuple(_fresh(args)), tuple(tangents))
    expected = sum(np.sum(_fd(fn, args, k) * tangents[k]) for k in wrt)
    assert_close(tangent_out, expected, rtol=1e-6, atol=1e-7, what="forward")
    for a, b in zip(args, saved):
        assert_close(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=0, what="arguments unchanged")
    if second_order:
        k = wrt[0]
        h = diffc.hessian(fn, wrt=k)(*_fresh(args))

        def grad_k(v):
            call = _fresh(args)
            call[k] = v
            return diffc.grad(fn, wrt=k)(*call)
        base = np.asarray(args[k], float)
        eps = 1e-5
        columns = []
        for i in range(base.size):
            e = np.zeros(base.size)
            e[i] = eps
            plus = (base.reshape(-1) + e).reshape(base.shape)
            minus = (base.reshape(-1) - e).reshape(base.shape)
            if base.ndim == 0:
                plus, minus = float(plus), float(minus)
            columns.append((np.asarray(grad_k(plus)) - np.asarray(grad_k(minus))) / (2 * eps))
        expected_h = np.stack(columns, axis=-1).reshape(base.shape + base.shape)
        assert_close(h, expected_h, rtol=1e-5, atol=1e-6, what="hessian")


# ------------------------------------------------------------ class A: views around writes

def view_after_augmented_write(a, x):
    z = x.copy()
    z[:2] *= a
    return z[0]


def view_summed_then_written(a, x):
    z = x.copy()
    s = np.sum(a * z[:-1])
    z[1] = 2.0
    return s


def shifted_slices(x):
    z = x.copy()
    z[:-1] = z[1:] * x[1:]
    return z[0]


def sine_of_shifted_self(x):
    out = x.copy()
    out[1:] = np.sin(out[:-1])
    return out[-1]


def growing_slice_in_loop(x):
    z = x.copy()
    for i in range(1, 3):
        z[:i + 1] *= math.cos(x[i])
    return np.sum(z * z)


def scale_prefix(z, a):
    z = z.copy()
    z[:2] *= a
    return z


def view_write_in_helper(a, x):
    z = scale_prefix(x, a)
    return z[0] + z[1] * z[2]


def view_of_view(x, a):
    z = x * 1.0
    head = z[:3]
    inner = head[1:]
    t = np.sum(inner * inner)
    z[1] = a * z[2]
    return t + np.sum(z)


def transposed_view_then_write(m, a):
    y = m * 1.0
    s = np.sum(y.T[0] * 3.0)
    y[0, 0] = a
    return s + np.sum(y * y)


@pytest.mark.parametrize("fn, args, wrt", [
    (view_after_augmented_write, (0.5, X3), (0, 1)),
    (view_summed_then_written, (0.5, X3), (0, 1)),
    (shifted_slices, (X3,), (0,)),
    (sine_of_shifted_self, (X3,), (0,)),
    (growing_slice_in_loop, (X3,), (0,)),
    (view_write_in_helper, (0.5, X3), (0, 1)),
    (view_of_view, (X5, 0.4), (0, 1)),
    (transposed_view_then_write, (np.arange(6.0).reshape(2, 3) / 7, 0.3), (0, 1)),
])
def test_views_read_around_writes(fn, args, wrt):
    check_both_modes(fn, args, wrt)


def test_view_second_order():
    check_both_modes(growing_slice_in_loop, (X3,), (0,), second_order=True)
    check_both_modes(sine_of_shifted_self, (X3,), (0,), second_order=True)


# A view made by a call (reshape, transpose, a helper returning a view) or held in a
# container, read after a write into its array, would change in Python: refused, never
# a gradient that ignores the write.  (Slices and plain aliases are followed: below.)

def reshape_then_write(x, a):
    y = x * 1.0
    r = y.reshape(3)
    y[0] = a
    return np.sum(r)


def transpose_call_then_write(x, a):
    y = x * 1.0
    r = np.transpose(y)
    y[0] = a
    return np.sum(r * r)


def slice_read_after_write(x, a):
    y = x * 1.0
    v = y[:2]
    y[0] = a
    return np.sum(v)


def list_holding_array_then_write(x, a):
    y = x * 1.0
    held = [y, x]
    y[0] = a
    return np.sum(held[0])


def helper_returning_its_argument(v):
    return v[1:]


def helper_view_then_write(x, a):
    y = x * 1.0
    tail = helper_returning_its_argument(y)
    y[1] = a
    return np.sum(tail)


def test_a_list_display_holding_the_written_array_takes_it_back():
    """Refused until session 9 (transform/item_write_back.py follows it now)."""
    check_both_modes(list_holding_array_then_write, [X3.copy(), 0.5])


@pytest.mark.parametrize("fn", [reshape_then_write, transpose_call_then_write])
def test_reshaped_and_transposed_views_see_a_later_write(fn):
    """Refused until session 11 (transform/reshaped_views.py re-reads the view)."""
    check_both_modes(fn, [X3.copy(), 0.5])


def test_a_helper_returning_a_view_sees_a_later_write():
    """Refused until session 12 (transform/view_helpers.py inlines the helper)."""
    check_both_modes(helper_view_then_write, [X3.copy(), 0.5], wrt=(0, 1))


def checked_tail(v):
    if np.ndim(v) != 1:
        raise ValueError("a vector please")
    return v[1:]


def checked_helper_view_then_write(x, a):
    y = x * 1.0
    tail = checked_tail(y)                  # a helper diffc does not inline (a branch)
    y[1] = a
    return np.sum(tail)


@pytest.mark.parametrize("fn", [checked_helper_view_then_write])
def test_views_seeing_a_later_write_are_refused(fn):
    with pytest.raises(diffc.DiffcError, match="would change too"):
        diffc.grad(fn, wrt=1)(X3.copy(), 0.5)
    with pytest.raises(diffc.DiffcError, match="would change too"):
        diffc.jvp(fn, (X3.copy(), 0.5), (None, 1.0))


# ------------------------------------------------------------ class B: helpers writing what they return

def mix(u):
    w = np.zeros(3)
    w[0] += u
    return w


def mix_twice(x):
    buf = mix(x[0])
    buf = mix(x[1])
    return np.sum(buf)


def mix_in_for(x):
    buf = None
    for i in range(3):
        buf = mix(x[i])
    return np.sum(buf * buf)


def mix_in_while(x):
    i = 0
    total = 0.0
    while i < 3:
        buf = mix(x[i] * x[i])
        i += 1
    total = total + np.sum(buf)
    return total


def outer_mix(u):
    return mix(u * 2.0)


def mix_through_helper(x):
    buf = outer_mix(x[0])
    buf = outer_mix(x[2])
    return np.sum(buf)


def tanh_at(u, k):
    w = np.ones(3) * u
    w[k] = math.tanh(w[k])
    return w


def tanh_twice(x):
    w = tanh_at(x[0], 1)
    w = tanh_at(x[1], 2)
    return np.sum(w)


def scaled_tail(u, c, i):
    w = np.full(4, u)
    w[i:] *= c
    return w


def scaled_tail_loop(x, c):
    out = 0.0
    for i in range(3):
        w = scaled_tail(x[i], c, i)
    out = np.sum(w)
    return out


def cos_of_first(u):
    w = np.zeros(2)
    w[0] = u
    w[1] = math.cos(w[0])
    return w


def cos_of_first_twice(x):
    w = cos_of_first(x[0])
    w = cos_of_first(x[1])
    return w[1] + w[0]


@pytest.mark.parametrize("fn, args, wrt", [
    (mix_twice, (X3,), (0,)),
    (mix_in_for, (X3,), (0,)),
    (mix_in_while, (X3,), (0,)),
    (mix_through_helper, (X3,), (0,)),
    (tanh_twice, (X3,), (0,)),
    (scaled_tail_loop, (X3, 0.7), (0, 1)),
    (cos_of_first_twice, (X3,), (0,)),
])
def test_helpers_writing_returned_arrays(fn, args, wrt):
    check_both_modes(fn, args, wrt)


def test_helpers_writing_returned_arrays_second_order():
    check_both_modes(mix_in_for, (X3,), (0,), second_order=True)
    check_both_modes(cos_of_first_twice, (X3,), (0,), second_order=True)


# ------------------------------------------------------------ class C: reads that share nothing

def element_at_shape_index(x):
    n = x.shape[0]
    buf = x * 2.0
    c = buf[n - 1]
    buf[0] = 1.0
    return np.sum(buf) + c


def element_at_len_index(x):
    buf = x * 2.0
    c = buf[len(x) - 2]
    buf[0] = c * c
    return np.sum(buf) + c


def unpacked_shape_bounds(m):
    rows, cols = m.shape
    out = m * 1.0
    corner = out[rows - 1, cols - 1]
    out[0, 0] = corner * 2.0
    return np.sum(out * out) + corner


def double_buffered_stencil(u, a):
    n = u.shape[0]
    for t in range(3):
        new = u.copy()
        for i in range(1, n - 1):
            new[i] = u[i] + a * (u[i - 1] - 2 * u[i] + u[i + 1])
        u = new
    return np.sum(u ** 2)


def double_buffer_swap(u, a):
    other = np.zeros_like(u)
    for t in range(2):
        for i in range(1, len(u) - 1):
            other[i] = 0.5 * u[i] + a * u[i + 1]
        u, other = other, u.copy()
    return np.sum(u * u)


def dead_view_at_loop_end(x, a):
    z = x * 1.0
    s = 0.0
    for k in range(3):
        v = z[:2]
        s = s + np.sum(v * v)
        z[2] = z[2] * a
    return s + z[2]


@pytest.mark.parametrize("fn, args, wrt", [
    (element_at_shape_index, (X3,), (0,)),
    (element_at_len_index, (X5,), (0,)),
    (unpacked_shape_bounds, (np.arange(1.0, 7.0).reshape(2, 3) / 5,), (0,)),
    (double_buffered_stencil, (X5, 0.2), (0, 1)),
    (double_buffer_swap, (X5, 0.3), (0, 1)),
    (dead_view_at_loop_end, (X3, 0.8), (0, 1)),
])
def test_reads_that_share_nothing_are_accepted(fn, args, wrt):
    check_both_modes(fn, args, wrt)


def test_stencil_second_order():
    check_both_modes(double_buffered_stencil, (X5, 0.2), (1,), second_order=True)


def fresh_layer(v, w):
    h = np.tanh(v * w)
    return h


def write_after_fresh_helper(x, a):
    y = x * 1.0
    h = fresh_layer(y, 0.5)
    y[0] = a
    return np.sum(h * y)


def list_of_arrays_then_append(x):
    parts = [x, x * x]
    parts.append(x * 3.0)
    total = 0.0
    for p in parts:
        total = total + np.sum(p)
    return total + np.sum(x)


@pytest.mark.parametrize("fn, args, wrt", [
    (write_after_fresh_helper, (X3, 0.5), (0, 1)),
    (list_of_arrays_then_append, (X3,), (0,)),
])
def test_no_sharing_no_refusal(fn, args, wrt):
    check_both_modes(fn, args, wrt)


# ------------------------------------------------------------ writes seen through slices and aliases
# In Python a slice is the array's memory: a write into one is seen through the other.
# diffc follows it (FunctionSweep.share_writes_through_views) in both modes.

def write_through_view(x, a):
    y = x * 1.0
    v = y[1:]
    v[0] = a
    return np.sum(y * y)


def augmented_through_view(x):
    y = x * 1.0
    v = y[1:]
    v += 1.0
    v *= 2.0
    return np.sum(y * x)


def augmented_through_alias(x):
    y = x * 1.0
    z = y
    z *= 3.0
    return np.sum(y * x)


def loop_writes_both_ways(x, a):
    y = x * 1.0
    head = y[:2]
    s = 0.0
    for k in range(3):
        y[0] = y[0] * a
        s = s + np.sum(head * head)
        head[1] = head[1] + a
    return s + np.sum(y)


def row_scaled_in_place(m, a):
    y = m * 1.0
    r = y[0, :]
    r *= a
    return np.sum(y * m)


def column_filled_in_helper(m, a):
    y = m * 1.0
    c = y[:, 1]
    for i in range(y.shape[0]):
        c[i] = c[i] * a + i
    return np.sum(np.sin(y))


@pytest.mark.parametrize("fn, args, wrt", [
    (slice_read_after_write, (X3, 0.5), (0, 1)),
    (write_through_view, (X3, 0.5), (0, 1)),
    (augmented_through_view, (X3,), (0,)),
    (augmented_through_alias, (X3,), (0,)),
    (loop_writes_both_ways, (X3, 0.7), (0, 1)),
    (row_scaled_in_place, (np.arange(6.0).reshape(2, 3) / 5, 0.6), (0, 1)),
    (column_filled_in_helper, (np.arange(6.0).reshape(3, 2) / 5, 0.6), (0, 1)),
])
def test_writes_seen_through_slices_and_aliases(fn, args, wrt):
    check_both_modes(fn, args, wrt, second_order=True)


def loop_over_array_written_in_body(x, a):
    y = x * 1.0
    total = 0.0
    k = 0
    for e in y:                     # Python iterates over y's current items
        total = total + e * e
        if k + 1 < len(y):
            y[k + 1] = y[k + 1] + a * e
        k = k + 1
    return total


def tuple_items_updated_in_place(x, v):
    s2, s1 = pair_of(x)
    s1 *= v[0]
    w1, w2 = two_arrays(v)
    w1 *= 2.0
    return s1 + s2 + np.sum(w1 * w2)


def pair_of(a):
    t = a + 0.1
    return t - 0.7, t * 0.9


def two_arrays(v):
    return v * 1.0, v + 1.0


def same_array_twice(v):
    w = v * 1.0
    return w, w


def tuple_items_that_are_one_array(v):
    w1, w2 = same_array_twice(v)
    w1 *= 2.0
    return np.sum(w2)


def test_loop_over_a_sequence_written_in_its_body():
    check_both_modes(loop_over_array_written_in_body, (X3, 0.4), (0, 1), second_order=True)


def test_items_of_one_tuple_updated_in_place():
    check_both_modes(tuple_items_updated_in_place, (0.3, X3), (0, 1))
    # the same object at two places of the tuple: w2 is the very array w1 writes, rebound
    # to it after the write when it runs (refused until session 12)
    check_both_modes(tuple_items_that_are_one_array, (X3.copy(),), (0,), second_order=True)


# `x op= v` updates an array in place but rebinds a number: a NumPy scalar (kind
# ARRAY, like an array) aliased by another name must not drag it along.

def number_alias_then_augmented(x, v, w):
    s0 = x * 0.5
    s1 = np.sin(w)
    y0 = np.full(3, x)
    if np.dot(y0, v) < 0.0:
        s0 = s1
    for i in range(2):
        s1 -= s0
        t7 = y0[0:1]
        s0 = s0 + np.sum(t7 * t7)
    return s0 + s1


def array_alias_then_augmented(x, v):
    a = v * x
    b = a
    for i in range(2):
        a -= b * 0.5              # in place: b is a
        a += np.sum(b) * 0.1
    return np.sum(a * b)


@pytest.mark.parametrize("fn, args, wrt", [
    (number_alias_then_augmented, (-0.059, np.array([-1.229, 1.1, -1.315]), 0.303), (0, 2)),
    (number_alias_then_augmented, (0.4, np.array([1.229, 1.1, 1.315]), 0.303), (0, 2)),
    (array_alias_then_augmented, (0.7, X3), (0, 1)),
])
def test_augmented_update_of_a_maybe_number(fn, args, wrt):
    check_both_modes(fn, args, wrt, second_order=True)
