"""Rules for NumPy's shape functions: reshape, ravel, squeeze, expand_dims, atleast_*d,
transpose, swapaxes, moveaxis, concatenate/stack and friends, np.r_/np.c_, split and
friends, tile, repeat, broadcast_to, flip, roll (np.diff: padding.py).

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions and methods (each linear in its array argument: the adjoint is the
transposed rearrangement), their helpers and rules of any order for the helpers.
Conventions (tuple results such as np.split's, *vararg methods): rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from ..runtime import ListBar, index_concat, is_duck_array, unbroadcast
from .shared import (is_zero as _zero, bcast as _bcast, arr as _arr, zeros_of as _zeros_of,
                     full as _full, like as _like, one_hot as _one_hot, dense_list as _dense_list,
                     seq as _seq, full_T as _full_T)


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


def _split_at(g, sizes, axis):
    """np.split(g, np.cumsum(sizes)[:-1], axis) (slices for Dask, which has no np.split)."""
    if not is_duck_array(g):
        return np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    ax = axis % g.ndim
    pieces, start = [], 0
    for n in sizes:
        pieces.append(g[(slice(None),) * ax + (slice(start, start + int(n)),)])
        start += int(n)
    return pieces


# --- shapes ------------------------------------------------------------------

def _reshape_to(g, x, order="C"):
    """g reshaped to the shape of x (adjoint of every reshape-like function)."""
    if np.shape(g) == np.shape(x):
        return g
    if np.ndim(g) == 0 and np.size(x) != 1:
        return _bcast(g, np.shape(x))       # a broadcast-smaller (constant) tangent
    if order == "C":
        return np.reshape(g, np.shape(x))    # no order= : Dask's reshape has none
    return np.reshape(g, np.shape(x), order=order)


def _shape_arg(shape):
    """The shape given to x.reshape(*shape): x.reshape(2, 3) or x.reshape((2, 3))."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(shape[0])
    return tuple(shape)


def _axes_arg(axes):
    """The axes given to x.transpose(*axes): (), (1, 0) or ((1, 0),)."""
    if len(axes) == 0 or (len(axes) == 1 and axes[0] is None):
        return None
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        return tuple(axes[0])
    return tuple(axes)


def _transpose_bar(g, axes):
    if axes is None:
        return np.transpose(g)
    nd = np.ndim(g)
    if nd == 0:
        return g                            # a zero adjoint kept as a number: transposed, the same
    return np.transpose(g, tuple(int(k) for k in np.argsort([int(k) % nd for k in axes])))


def _transpose_jvp(a, a_dot, axes):
    return np.transpose(_full(a_dot, a), axes)


def _concat_bar(g, arrays, axis):
    if axis is None:
        sizes = [np.size(x) for x in arrays]
        pieces = _split_at(np.ravel(g), sizes, 0)
        return ListBar(np.reshape(p, np.shape(x)) for p, x in zip(pieces, arrays))
    sizes = [np.shape(x)[axis] for x in arrays]
    return ListBar(_split_at(g, sizes, axis))


def _concat_jvp(arrays, arrays_dot, axis):
    return np.concatenate(_dense_list(arrays, arrays_dot), axis=axis)


def _stack_bar(g, axis):
    return ListBar(np.moveaxis(g, axis, 0))


def _stack_jvp(arrays, arrays_dot, axis):
    return np.stack(_dense_list(arrays, arrays_dot), axis=axis)


_STACKERS = {
    "hstack": (np.atleast_1d, None),
    "vstack": (np.atleast_2d, 0),
    "dstack": (np.atleast_3d, 2),
    "column_stack": (None, 1),
}


def _stacked_bar(g, tup, kind):
    """Adjoint of hstack/vstack/dstack/column_stack: pieces reshaped like each input."""
    promote, axis = _STACKERS[kind]
    if kind == "column_stack":
        arrs = [np.reshape(x, (-1, 1)) if np.ndim(x) < 2 else _arr(x) for x in tup]
    else:
        arrs = [promote(_arr(x)) for x in tup]
    if axis is None:
        axis = 0 if arrs[0].ndim == 1 else 1
    sizes = [x.shape[axis] for x in arrs]
    pieces = _split_at(g, sizes, axis)
    return ListBar(np.reshape(p, np.shape(x)) for p, x in zip(pieces, tup))


def _index_items(key):
    """The items of an index-concatenator key (np.r_[key]): a tuple, else one item."""
    return key if isinstance(key, tuple) else (key,)


def _index_constant(item):
    """Items of np.r_[...] that carry no derivative: a directive string or a slice (a range)."""
    return isinstance(item, (str, slice))


def _index_labels(maker, key):
    """(labels, sizes): maker[key] with every non-constant item replaced by the positions
    of its elements in the concatenation of all items (as floats, -1 where a slice's
    range lands), and each item's element count (0 for constants).

    np.r_/np.c_ only move elements (promotion to ndmin, transposition, concatenation),
    so the labels say where each element of each item went."""
    labels, sizes, offset = [], [], 0
    for item in _index_items(key):
        if isinstance(item, str):
            labels.append(item)
            sizes.append(0)
        elif isinstance(item, slice):
            labels.append(np.full(np.r_[item].shape, -1.0))     # a 1-d range, like the slice's
            sizes.append(0)
        elif type(item) in np.ScalarType:
            labels.append(float(offset))
            sizes.append(1)
            offset += 1
        else:
            shape = np.shape(item)
            n = int(np.prod(shape))
            labels.append(np.arange(offset, offset + n, dtype=np.float64).reshape(shape))
            sizes.append(n)
            offset += n
    return np.asarray(maker[tuple(labels)]), sizes


def _index_concat_bar(g, maker, key):
    """Adjoint of maker[key] (np.r_, np.c_) in its items: each item's elements of g,
    shaped like the item (a ListBar when key is a tuple; 0.0 for constant items)."""
    labels, sizes = _index_labels(maker, key)
    flat = np.zeros(sum(sizes))
    if not _zero(g):
        g = np.broadcast_to(np.asarray(g), labels.shape)
        mask = labels >= 0
        flat[labels[mask].astype(np.intp)] = g[mask]
    bars, start = [], 0
    for item, n in zip(_index_items(key), sizes):
        if _index_constant(item):
            bars.append(0.0)
        elif type(item) in np.ScalarType:
            bars.append(flat[start])
        else:
            bars.append(_like(flat[start:start + n].reshape(np.shape(item)), item))
        start += n
    return ListBar(bars) if isinstance(key, tuple) else bars[0]


def _index_concat_jvp(maker, key, key_dot):
    """Tangent of maker[key]: the same concatenation of the items' tangents (zeros for
    a slice's range)."""
    items = _index_items(key)
    if _zero(key_dot):
        dots = [0.0] * len(items)
    else:
        dots = list(key_dot) if isinstance(key, tuple) else [key_dot]
    dense = []
    for item, d in zip(items, dots):
        if isinstance(item, str):
            dense.append(item)
        elif isinstance(item, slice):
            dense.append(np.zeros(np.r_[item].shape))
        elif type(item) in np.ScalarType:
            dense.append(0.0 if _zero(d) else d)
        else:
            dense.append(_full(0.0 if _zero(d) else d, item))
    return np.asarray(maker[tuple(dense)], dtype=np.float64) if not any(
        is_duck_array(d) for d in dense) else maker[tuple(dense)]


def _split_bar(result_bar, result, axis):
    pieces = [_zeros_of(r) if _zero(b) else _bcast(b, np.shape(r))
              for b, r in zip(result_bar, result)]
    return np.concatenate(pieces, axis=axis)


def _split_axis(ary, kind):
    if kind == "hsplit":
        return 1 if np.ndim(ary) > 1 else 0
    if kind == "vsplit":
        return 0
    return 2


def _tile_bar(g, A, reps):
    shape = np.shape(A)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(reps)
    d = max(len(shape), len(reps))
    s = (1,) * (d - len(shape)) + tuple(shape)
    r = (1,) * (d - len(reps)) + reps
    g = np.reshape(g, [n for pair in zip(r, s) for n in pair])
    g = np.sum(g, axis=tuple(range(0, 2 * d, 2)))
    return np.reshape(g, shape)


def _repeat_bar(g, a, repeats, axis):
    shape = np.shape(a)
    if axis is None:
        gm = np.ravel(g)
        n = int(np.prod(shape))
        ax = 0
    else:
        ax = axis % len(shape)
        gm = np.moveaxis(g, ax, 0)
        n = shape[ax]
    rest = gm.shape[1:]
    if np.ndim(repeats) == 0 or np.size(repeats) == 1:
        k = int(np.ravel(repeats)[0])
        out = np.sum(gm.reshape((n, k) + rest), axis=1)
    else:
        seg = np.repeat(np.arange(n), repeats)
        if is_duck_array(gm):
            out = np.tensordot(_one_hot(seg, n, gm), gm, axes=([0], [0]))
        else:
            out = np.zeros((n,) + rest, dtype=np.result_type(gm, np.float64))
            np.add.at(out, seg, gm)
    if axis is None:
        return np.reshape(out, shape)
    return np.moveaxis(out, 0, ax)


def _roll_bar(g, shift, axis):
    if type(g) is np.ndarray and type(axis) is int and isinstance(shift, (int, np.integer)) \
            and not isinstance(shift, (bool, np.bool_)) and -g.ndim <= axis < g.ndim:
        return _rolled(g, -int(shift), axis)
    return np.roll(g, np.negative(shift), axis=axis)


def _rolled(a, shift, axis):
    """np.roll(a, shift, axis) for an ndarray, an int shift and one int axis: two
    slice copies into a new array (np.roll's argument handling costs several
    times the copy on small grids: 48x48, 55 us against 10-15 us)."""
    n = a.shape[axis]
    out = np.empty_like(a)
    if n == 0:
        return out
    s = shift % n
    if s == 0:
        out[...] = a
        return out
    lead = (slice(None),) * (axis % a.ndim)
    out[lead + (slice(s, None),)] = a[lead + (slice(None, n - s),)]
    out[lead + (slice(None, s),)] = a[lead + (slice(n - s, None),)]
    return out


def _atleast_bar(result_bar, arys):
    if len(arys) == 1:
        return (_reshape_to(result_bar, arys[0]),)
    return tuple(_reshape_to(b, x) if not _zero(b) else None for b, x in zip(result_bar, arys))


def _atleast_jvp(fn, arys, arys_dot):
    out = [fn(_full(d, x)) for d, x in zip(arys_dot, arys)]
    return out[0] if len(out) == 1 else ListBar(out)


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


@adjoint(np.reshape)
def _(result, result_bar, a, shape=None, order="C", newshape=None, copy=None):
    return _reshape_to(result_bar, a, order)


@tangent(np.reshape)
def _(result, a, shape=None, order="C", newshape=None, copy=None, a_dot=None):
    return np.reshape(_full(a_dot, a), np.shape(result), order=order)


# x.reshape(2, 3) / x.reshape((2, 3), order="F")
@adjoint(("method", "reshape"))
def _(result, result_bar, a, *shape, order="C", copy=None):
    return (_reshape_to(result_bar, a, order),)


@tangent(("method", "reshape"))
def _(result, a, a_dot, *shape, order="C", copy=None):
    return np.reshape(_full(a_dot, a), np.shape(result), order=order)


@adjoint(np.ravel, ("method", "ravel"), ("method", "flatten"))
def _(result, result_bar, a, order="C"):
    return _reshape_to(result_bar, a, order)


@tangent(np.ravel, ("method", "ravel"), ("method", "flatten"))
def _(result, a, order="C", a_dot=None):
    return np.ravel(_full(a_dot, a), order=order)


@adjoint(np.squeeze, ("method", "squeeze"), np.expand_dims)
def _(result, result_bar, a, axis=None):
    return _reshape_to(result_bar, a)


@tangent(np.squeeze, ("method", "squeeze"), np.expand_dims)
def _(result, a, axis=None, a_dot=None):
    return np.reshape(_full(a_dot, a), np.shape(result))


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def _(result, result_bar, *arys):
    return _atleast_bar(result_bar, arys)


@tangent(np.atleast_1d)
def _(result, arys_dot, *arys):
    return _atleast_jvp(np.atleast_1d, arys, arys_dot)


@tangent(np.atleast_2d)
def _(result, arys_dot, *arys):
    return _atleast_jvp(np.atleast_2d, arys, arys_dot)


@tangent(np.atleast_3d)
def _(result, arys_dot, *arys):
    return _atleast_jvp(np.atleast_3d, arys, arys_dot)


@adjoint(np.transpose)
def _(result, result_bar, a, axes=None):
    return _transpose_bar(result_bar, axes)


@tangent(np.transpose)
def _(result, a, axes=None, a_dot=None):
    return _transpose_jvp(a, a_dot, axes)


# x.transpose(), x.transpose(1, 0), x.transpose((1, 0))
@adjoint(("method", "transpose"))
def _(result, result_bar, a, *axes):
    return (_transpose_bar(result_bar, _axes_arg(axes)),)


@tangent(("method", "transpose"))
def _(result, a, a_dot, *axes):
    return _transpose_jvp(a, a_dot, _axes_arg(axes))


@adjoint(("attr", "T"))
def _(result, result_bar, a):
    return np.transpose(result_bar)


@tangent(("attr", "T"))
def _(result, a, a_dot):
    return np.transpose(_full(a_dot, a))


@adjoint(("attr", "mT"))
def _(result, result_bar, a):
    return np.swapaxes(_full(result_bar, result), -1, -2)


@tangent(("attr", "mT"))
def _(result, a, a_dot):
    return np.swapaxes(_full(a_dot, a), -1, -2)


@adjoint(np.swapaxes, ("method", "swapaxes"))
def _(result, result_bar, a, axis1, axis2):
    # (_full: a zero adjoint may be the shape-free 0.0, which has no axes to swap)
    return np.swapaxes(_full(result_bar, result), axis1, axis2)


@tangent(np.swapaxes, ("method", "swapaxes"))
def _(result, a, axis1, axis2, a_dot):
    return np.swapaxes(_full(a_dot, a), axis1, axis2)


@adjoint(np.moveaxis)
def _(result, result_bar, a, source, destination):
    return np.moveaxis(_full(result_bar, result), destination, source)


@tangent(np.moveaxis)
def _(result, a, source, destination, a_dot):
    return np.moveaxis(_full(a_dot, a), source, destination)


@adjoint(np.concatenate)
def _(result, result_bar, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    return _concat_bar(result_bar, arrays, axis)


@tangent(np.concatenate)
def _(result, arrays, axis=0, out=None, dtype=None, casting="same_kind", arrays_dot=None):
    return _concat_jvp(arrays, arrays_dot, axis)


@adjoint(np.stack)
def _(result, result_bar, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    return _stack_bar(result_bar, axis)


@tangent(np.stack)
def _(result, arrays, axis=0, out=None, dtype=None, casting="same_kind", arrays_dot=None):
    return _stack_jvp(arrays, arrays_dot, axis)


@adjoint(np.hstack)
def _(result, result_bar, tup, dtype=None, casting="same_kind"):
    return _stacked_bar(result_bar, tup, "hstack")


@tangent(np.hstack)
def _(result, tup, dtype=None, casting="same_kind", tup_dot=None):
    return np.hstack(_dense_list(tup, tup_dot))


@adjoint(np.vstack)
def _(result, result_bar, tup, dtype=None, casting="same_kind"):
    return _stacked_bar(result_bar, tup, "vstack")


@tangent(np.vstack)
def _(result, tup, dtype=None, casting="same_kind", tup_dot=None):
    return np.vstack(_dense_list(tup, tup_dot))


@adjoint(np.dstack)
def _(result, result_bar, tup):
    return _stacked_bar(result_bar, tup, "dstack")


@tangent(np.dstack)
def _(result, tup, tup_dot):
    return np.dstack(_dense_list(tup, tup_dot))


@adjoint(np.column_stack)
def _(result, result_bar, tup):
    return _stacked_bar(result_bar, tup, "column_stack")


@tangent(np.column_stack)
def _(result, tup, tup_dot):
    return np.column_stack(_dense_list(tup, tup_dot))


# np.r_[...] / np.c_[...], desugared into index_concat(np.r_, key) (transform/desugar.py)
@adjoint(index_concat)
def _(result, result_bar, maker, key):
    return None, _index_concat_bar(result_bar, maker, key)


@tangent(index_concat)
def _(result, maker, key, key_dot):
    return _index_concat_jvp(maker, key, key_dot)


# the result of split is a list: result_bar is a list whose entries may be 0.0
@adjoint(np.split, np.array_split)
def _(result, result_bar, ary, indices_or_sections, axis=0):
    return _split_bar(result_bar, result, axis)


@tangent(np.split)
def _(result, ary, indices_or_sections, axis=0, ary_dot=None):
    return ListBar(np.split(_full(ary_dot, ary), indices_or_sections, axis=axis))


@tangent(np.array_split)
def _(result, ary, indices_or_sections, axis=0, ary_dot=None):
    return ListBar(np.array_split(_full(ary_dot, ary), indices_or_sections, axis=axis))


@adjoint(np.hsplit)
def _(result, result_bar, ary, indices_or_sections):
    return _split_bar(result_bar, result, _split_axis(ary, "hsplit"))


@tangent(np.hsplit)
def _(result, ary, indices_or_sections, ary_dot):
    return ListBar(np.hsplit(_full(ary_dot, ary), indices_or_sections))


@adjoint(np.vsplit)
def _(result, result_bar, ary, indices_or_sections):
    return _split_bar(result_bar, result, _split_axis(ary, "vsplit"))


@tangent(np.vsplit)
def _(result, ary, indices_or_sections, ary_dot):
    return ListBar(np.vsplit(_full(ary_dot, ary), indices_or_sections))


@adjoint(np.dsplit)
def _(result, result_bar, ary, indices_or_sections):
    return _split_bar(result_bar, result, 2)


@tangent(np.dsplit)
def _(result, ary, indices_or_sections, ary_dot):
    return ListBar(np.dsplit(_full(ary_dot, ary), indices_or_sections))


@adjoint(np.tile)
def _(result, result_bar, A, reps):
    return _tile_bar(result_bar, A, reps)


@tangent(np.tile)
def _(result, A, reps, A_dot):
    return np.tile(_full(A_dot, A), reps)


@adjoint(np.repeat, ("method", "repeat"))
def _(result, result_bar, a, repeats, axis=None):
    return _repeat_bar(result_bar, a, repeats, axis)


@tangent(np.repeat, ("method", "repeat"))
def _(result, a, repeats, axis=None, a_dot=None):
    return np.repeat(_full(a_dot, a), repeats, axis=axis)


@adjoint(np.broadcast_to)
def _(result, result_bar, array, shape, subok=False):
    return unbroadcast(result_bar, array)


@tangent(np.broadcast_to)
def _(result, array, shape, subok=False, array_dot=None):
    return np.broadcast_to(array_dot, shape)


@adjoint(np.flip)
def _(result, result_bar, m, axis=None):
    return np.flip(result_bar, axis)


@tangent(np.flip)
def _(result, m, axis=None, m_dot=None):
    return np.flip(_full(m_dot, m), axis)


@adjoint(np.fliplr)
def _(result, result_bar, m):
    return np.fliplr(result_bar)


@tangent(np.fliplr)
def _(result, m, m_dot):
    return np.fliplr(_full(m_dot, m))


@adjoint(np.flipud)
def _(result, result_bar, m):
    return np.flipud(result_bar)


@tangent(np.flipud)
def _(result, m, m_dot):
    return np.flipud(_full(m_dot, m))


@adjoint(np.roll)
def _(result, result_bar, a, shift, axis=None):
    return _roll_bar(result_bar, shift, axis)


@tangent(np.roll)
def _(result, a, shift, axis=None, a_dot=None):
    return np.roll(_full(a_dot, a), shift, axis=axis)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_shape_arg, _axes_arg, _split_axis, _index_labels)


def _restack(rbar, tup, kind):
    """Adjoint of _stacked_bar in g: the pieces' adjoints stacked again."""
    return getattr(np, kind)(_dense_list(tup, _seq(rbar, len(tup))))


def _unstack(rbar, g, axis):
    """Adjoint of _stack_bar(g, axis) in g."""
    shape = np.moveaxis(np.empty(np.shape(g), dtype=bool), axis, 0).shape[1:]
    n = np.shape(g)[axis % np.ndim(g)]
    pieces = [np.zeros(shape) if _zero(r) else _bcast(r, shape) for r in _seq(rbar, n)]
    return np.stack(pieces, axis=axis)


def _split_like(rbar, result, axis):
    """Adjoint of _split_bar in its list of adjoints: rbar cut like result."""
    sizes = [np.shape(r)[axis] for r in result]
    return ListBar(np.split(rbar, np.cumsum(sizes)[:-1], axis=axis))


@tangent(_transpose_bar)
def _(result, g, axes, g_dot):
    return _transpose_bar(_full(g_dot, g), axes)


@adjoint(_transpose_bar)
def _(result, result_bar, g, axes):
    return np.transpose(result_bar, axes), None


@tangent(_transpose_jvp)
def _(result, a, d, axes, d_dot):
    return _transpose_jvp(a, d_dot, axes)


@adjoint(_transpose_jvp)
def _(result, result_bar, a, d, axes):
    return None, _full_T(_transpose_bar(result_bar, axes), d, a), None


@tangent(_concat_bar)
def _(result, g, arrays, axis, g_dot):
    return _concat_bar(_full(g_dot, g), arrays, axis)


@adjoint(_concat_bar)
def _(result, result_bar, g, arrays, axis):
    return _concat_jvp(arrays, _seq(result_bar, len(arrays)), axis), None, None


@tangent(_concat_jvp)
def _(result, arrays, d, axis, d_dot):
    return _concat_jvp(arrays, d_dot, axis)


@adjoint(_concat_jvp)
def _(result, result_bar, arrays, d, axis):
    return None, _concat_bar(result_bar, arrays, axis), None


@tangent(_stack_bar)
def _(result, g, axis, g_dot):
    return _stack_bar(_full(g_dot, g), axis)


@adjoint(_stack_bar)
def _(result, result_bar, g, axis):
    return _unstack(result_bar, g, axis), None


@tangent(_stack_jvp)
def _(result, arrays, d, axis, d_dot):
    return _stack_jvp(arrays, d_dot, axis)


@adjoint(_stack_jvp)
def _(result, result_bar, arrays, d, axis):
    return None, _stack_bar(result_bar, axis), None


@tangent(_stacked_bar)
def _(result, g, tup, kind, g_dot):
    return _stacked_bar(_full(g_dot, g), tup, kind)


@adjoint(_stacked_bar)
def _(result, result_bar, g, tup, kind):
    return _restack(result_bar, tup, kind), None, None


linear(_index_concat_bar)


@adjoint(_index_concat_bar)
def _(result, result_bar, g, maker, key):
    return unbroadcast(_index_concat_jvp(maker, key, result_bar), g), None, None


@tangent(_index_concat_jvp)
def _(result, maker, key, d, d_dot):
    return _index_concat_jvp(maker, key, d_dot)


@adjoint(_index_concat_jvp)
def _(result, result_bar, maker, key, d):
    return None, None, _index_concat_bar(result_bar, maker, key)


linear(_split_bar)


@adjoint(_split_bar)
def _(result, result_bar, bars, pieces, axis):
    return _split_like(result_bar, pieces, axis), None, None


@tangent(_tile_bar)
def _(result, g, A, reps, g_dot):
    return _tile_bar(_full(g_dot, g), A, reps)


@adjoint(_tile_bar)
def _(result, result_bar, g, A, reps):
    return unbroadcast(np.tile(result_bar, reps), g), None, None


@tangent(_repeat_bar)
def _(result, g, a, repeats, axis, g_dot):
    return _repeat_bar(_full(g_dot, g), a, repeats, axis)


@adjoint(_repeat_bar)
def _(result, result_bar, g, a, repeats, axis):
    return unbroadcast(np.repeat(result_bar, repeats, axis=axis), g), None, None, None


@tangent(_roll_bar)
def _(result, g, shift, axis, g_dot):
    return _roll_bar(_full(g_dot, g), shift, axis)


@adjoint(_roll_bar)
def _(result, result_bar, g, shift, axis):
    return np.roll(result_bar, shift, axis=axis), None, None


# ListBar(list of tangents): the tangent of np.split and friends
def _list_dot(seq_dot, seq):
    if _zero(seq_dot):
        return ListBar([0.0] * len(seq))
    return ListBar(seq_dot)


@tangent(ListBar)
def _(result, seq, seq_dot):
    return _list_dot(seq_dot, seq)


@adjoint(ListBar)
def _(result, result_bar, seq):
    return ListBar(_seq(result_bar, len(result)))


def _atleast_bar_dot(g_dot, arys):
    """Tangent of _atleast_bar: the same reshapes (0.0 for a zero entry)."""
    if len(arys) == 1:
        return (_reshape_to(g_dot, arys[0]),)
    return tuple(0.0 if _zero(b) else _reshape_to(b, x) for b, x in zip(_seq(g_dot, len(arys)), arys))


def _atleast_bar_T(rbar, g, arys):
    """Adjoint of _atleast_bar(g, arys) in g."""
    r = _seq(rbar, len(arys))
    if len(arys) == 1:
        return 0.0 if _zero(r[0]) else np.reshape(r[0], np.shape(g))
    return ListBar(0.0 if _zero(gk) or _zero(rk) else np.reshape(rk, np.shape(gk)) for rk, gk in zip(r, g))


def _atleast_jvp_T(rbar, arys, d):
    """Adjoint of _atleast_jvp(fn, arys, d) in d (a sequence, one tangent per array)."""
    r = [rbar] if len(arys) == 1 else _seq(rbar, len(arys))
    return ListBar(0.0 if _zero(rk) else _full_T(_reshape_to(rk, x), dk, x) for rk, dk, x in zip(r, d, arys))


@tangent(_atleast_bar)
def _(result, g, arys, g_dot):
    return _atleast_bar_dot(g_dot, arys)


@adjoint(_atleast_bar)
def _(result, result_bar, g, arys):
    return _atleast_bar_T(result_bar, g, arys), None


@tangent(_atleast_jvp)
def _(result, fn, arys, d, d_dot):
    return _atleast_jvp(fn, arys, d_dot)


@adjoint(_atleast_jvp)
def _(result, result_bar, fn, arys, d):
    return None, None, _atleast_jvp_T(result_bar, arys, d)


linear(_unstack)


@adjoint(_unstack)
def _(result, result_bar, rbar, g, axis):
    return _stack_bar(result_bar, axis), None, None


# --- atleast_*d: reshapes ----------------------------------------------------

def _atleast_bar_T_T(result_bar, rbar, g, arys):
    """Adjoint of _atleast_bar_T(rbar, g, arys) in rbar: the reshapes back (0.0 where g had none)."""
    n = len(arys)
    r = _seq(rbar, n)
    b = [result_bar] if n == 1 else _seq(result_bar, n)
    gs = [g] if n == 1 else list(g)
    return ListBar(0.0 if _zero(bk) or _zero(rk) or _zero(gk) else np.reshape(_full(bk, gk), np.shape(rk))
                   for bk, rk, gk in zip(b, r, gs))


def _atleast_jvp_T_T(result_bar, rbar, arys, d):
    """Adjoint of _atleast_jvp_T(rbar, arys, d) in rbar."""
    n = len(arys)
    r = [rbar] if n == 1 else _seq(rbar, n)
    b = _seq(result_bar, n)
    out = [0.0 if _zero(rk) or _zero(bk) else np.reshape(_full(bk, x), np.shape(rk))
           for bk, rk, x in zip(b, r, arys)]
    return out[0] if n == 1 else ListBar(out)


linear(_atleast_bar_T)


@adjoint(_atleast_bar_T)
def _(result, result_bar, rbar, g, arys):
    return _atleast_bar_T_T(result_bar, rbar, g, arys), None, None


linear(_atleast_jvp_T)


@adjoint(_atleast_jvp_T)
def _(result, result_bar, rbar, arys, d):
    return _atleast_jvp_T_T(result_bar, rbar, arys, d), None, None


# _reshape_to is linear in g.
linear(_reshape_to)


@adjoint(_reshape_to)
def _(result, result_bar, g, x, order="C"):
    return _reshape_to(result_bar, g, order), None, None
