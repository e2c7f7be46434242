"""Rules for selecting elements: take, take_along_axis, x.item(), sort, partition,
diag, diagonal, trace, triu, tril; and for the scatter-adds ``np.add.at`` and
``np.subtract.at`` (written by transform/anf.py as ``a[...] = scatter_added(a, index, v)``,
runtime_scatter.py).

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions and methods (the adjoint scatters the gradient back to the positions
read, repeated positions accumulating; sort and partition go back through their
stable permutation), their helpers and rules of any order for the helpers.
Conventions: rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from ..runtime import ListBar, is_duck_array, unbroadcast, widen_like
from ..runtime_pure import flat_read
from .. import runtime_scatter
from ..runtime_scatter import scatter_added, scatter_subtracted
from .shared import (arr as _arr, full as _full, like as _like, one_hot as _one_hot, full_T as _full_T)


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


def _sort_perm(a, axis):
    return np.argsort(a, axis=axis, kind="stable")


def _sort_bar(g, a, axis):
    if is_duck_array(a):                # CuPy; Dask has no sort (its np.sort computes eagerly)
        g = widen_like(g, a) if not is_duck_array(g) else g
        if axis is None:
            inv = np.argsort(_sort_perm(np.ravel(a), 0))
            return np.reshape(np.ravel(g)[inv], a.shape).astype(np.result_type(g, np.float64))
        inv = np.argsort(_sort_perm(a, axis), axis=axis)
        return np.take_along_axis(g, inv, axis=axis).astype(np.result_type(g, np.float64))
    x = np.asarray(a)
    if axis is None:
        perm = _sort_perm(x.ravel(), 0)
        out = np.zeros(x.size, dtype=np.result_type(g, np.float64))
        out[perm] = np.ravel(g)
        return out.reshape(x.shape)
    perm = _sort_perm(x, axis)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    np.put_along_axis(out, perm, g, axis=axis)
    return out


def _sort_jvp(a, a_dot, axis):
    d = _full(a_dot, a)
    if axis is None:
        return np.ravel(d)[_sort_perm(np.ravel(a), 0)]
    return np.take_along_axis(d, _sort_perm(a, axis), axis=axis)


def _take_bar(g, a, indices, axis, mode):
    if is_duck_array(a):
        return _take_bar_duck(g, a, indices, axis, mode)
    x = np.asarray(a)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    n = x.size if axis is None else x.shape[axis]
    idx = np.asarray(indices)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    else:
        idx = np.where(idx < 0, idx + n, idx)
    if axis is None:
        flat = np.zeros(x.size, dtype=out.dtype)
        np.add.at(flat, idx, g)
        return flat.reshape(x.shape)
    ax = axis % x.ndim
    om = np.moveaxis(out, ax, 0)
    gm = np.moveaxis(np.asarray(g), tuple(range(ax, ax + idx.ndim)), tuple(range(idx.ndim)))
    np.add.at(om, idx, gm)
    return out


def _take_index(indices, n, mode):
    idx = _arr(indices)                 # ints given by the program (not differentiated)
    if mode == "wrap":
        return idx % n
    if mode == "clip":
        return np.clip(idx, 0, n - 1)
    return np.where(idx < 0, idx + n, idx)


def _take_bar_duck(g, a, indices, axis, mode):
    """Adjoint of take for Dask/CuPy: the scatter-add of g as a product with a one-hot matrix."""
    g = np.asarray(g, like=a) if not is_duck_array(g) else g
    dtype = np.result_type(g, np.float64)
    if axis is None:
        idx = _take_index(indices, a.size, mode)
        g = np.broadcast_to(g, idx.shape)
        flat = np.tensordot(_one_hot(idx, a.size, g), np.reshape(g, (-1,)), axes=([0], [0]))
        return np.reshape(flat, a.shape).astype(dtype)
    ax = axis % a.ndim
    idx = _take_index(indices, a.shape[ax], mode)
    g = np.broadcast_to(g, a.shape[:ax] + idx.shape + a.shape[ax + 1:])
    gm = np.moveaxis(g, tuple(range(ax, ax + idx.ndim)), tuple(range(idx.ndim)))
    gm = np.reshape(gm, (idx.size,) + tuple(gm.shape[idx.ndim:]))
    out = np.tensordot(_one_hot(idx, a.shape[ax], g), gm, axes=([0], [0]))
    return np.moveaxis(out, 0, ax).astype(dtype)


def _take_along_bar_duck(g, arr, indices, axis):
    """Adjoint of take_along_axis for CuPy/Dask: scatter-add as a product with one-hot indicators."""
    g = np.asarray(g, like=arr) if not is_duck_array(g) else g
    idx = _arr(indices)
    if axis is None:
        flat = np.tensordot(_one_hot(idx, arr.size, g), np.reshape(g, (-1,)), axes=([0], [0]))
        return np.reshape(flat, arr.shape).astype(np.result_type(g, np.float64))
    ax = axis % arr.ndim
    n = arr.shape[ax]
    shape = np.broadcast_shapes(idx.shape, g.shape)
    im = np.moveaxis(np.broadcast_to(idx, shape), ax, -1)
    gm = np.moveaxis(np.broadcast_to(g, shape), ax, -1)
    hot = np.asarray((im[..., None] == np.arange(n)).astype(np.float64), like=g)
    out = np.moveaxis(np.sum(gm[..., None] * hot, axis=-2), -1, ax)
    return unbroadcast(out, arr).astype(np.result_type(g, np.float64))


def _take_along_bar(g, arr, indices, axis):
    if is_duck_array(arr):
        return _take_along_bar_duck(g, arr, indices, axis)
    x = np.asarray(arr)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    if axis is None:
        np.add.at(out.reshape(-1), np.asarray(indices), g)
        return out
    ax = axis % x.ndim
    idx = np.asarray(indices)
    grids = list(np.indices(np.broadcast_shapes(idx.shape, np.shape(g)), sparse=True))
    grids[ax] = idx
    np.add.at(out, tuple(grids), g)
    return out


def _item_bar(g, a, args):
    x = np.asarray(a)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    if len(args) == 0:
        out.reshape(-1)[0] = g
    elif len(args) == 1 and np.ndim(args[0]) == 0:
        out.reshape(-1)[args[0]] = g
    else:
        out[tuple(args[0]) if len(args) == 1 else tuple(args)] = g
    return out


def _item_jvp(a, a_dot, args):
    return np.asarray(_full(a_dot, a)).item(*args)


def _tolist_bar(g, a):
    """The adjoint of a.tolist(): the nested list adjoint g (0.0 where nothing flowed, at
    any level) as an array of a's shape."""
    out = np.zeros(np.shape(a), dtype=np.result_type(np.asarray(a).dtype, np.float64))
    _add_nested(out, g)
    return out


def _add_nested(out, g):
    if not isinstance(g, (list, tuple)):
        out += g
        return
    for k, gk in enumerate(g):
        if np.ndim(out) == 1:
            out[k] += gk
        else:
            _add_nested(out[k], gk)


def _nested(v, make):
    """The array v as nested `make` lists of its entries (a.tolist()'s layout)."""
    if np.ndim(v) == 0:
        return v[()] if isinstance(v, np.ndarray) else v
    return make(_nested(row, make) for row in v)


def _tolist_bar_T(c, a):
    """The transpose of _tolist_bar (linear in c): c (an array, or 0.0) as nested ListBars."""
    return _nested(np.asarray(_full(c, a)), ListBar)


def _tolist_jvp(a, d):
    """The tangent of a.tolist(): d (0.0 for none) as nested lists laid out like a.tolist()."""
    return _nested(np.asarray(_full(d, a)), list)


def _diag_len(shape, offset, axis1, axis2):
    n1, n2 = shape[axis1], shape[axis2]
    return max(0, min(n1 - max(-offset, 0), n2 - max(offset, 0)))


def _diag_embed(g, shape, offset, axis1, axis2):
    """Zeros of shape with g (diagonal last, as np.diagonal gives it) on the diagonal."""
    nd = len(shape)
    a1, a2 = axis1 % nd, axis2 % nd
    n = _diag_len(shape, offset, a1, a2)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    if is_duck_array(g):                # no item assignment with index arrays: one-hot products
        g = g.astype(np.result_type(g, np.float64))
        # products and matmul align Dask's chunks (einsum with mixed chunks does not)
        om = np.swapaxes(g[..., :, None] * _one_hot(rows, shape[a1], g), -1, -2) @ _one_hot(cols, shape[a2], g)
        return np.moveaxis(om, (-2, -1), (a1, a2))
    out = np.zeros(shape, dtype=np.result_type(g, np.float64))
    om = np.moveaxis(out, (a1, a2), (-2, -1))
    om[..., rows, cols] = g
    return out


def _diag_bar(g, v, k):
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return _diag_embed(g, np.shape(v), k, 0, 1)


def _diagonal_bar(g, a, offset, axis1, axis2):
    return _diag_embed(g, np.shape(a), offset, axis1, axis2)


def _trace_bar(g, a, offset, axis1, axis2):
    shape = np.shape(a)
    nd = len(shape)
    n = _diag_len(shape, offset, axis1 % nd, axis2 % nd)
    g = _arr(g)
    if is_duck_array(a) and not is_duck_array(g):
        g = np.asarray(g, like=a)       # a scalar adjoint: the gradient is in a's library
    return _diag_embed(g[..., None] * np.ones(n, like=g), shape, offset, axis1, axis2)


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


@adjoint(np.diag)
def _(result, result_bar, v, k=0):
    return _diag_bar(result_bar, v, k)


@tangent(np.diag)
def _(result, v, k=0, v_dot=None):
    return np.diag(_full(v_dot, v), k)


@adjoint(np.diagonal, ("method", "diagonal"))
def _(result, result_bar, a, offset=0, axis1=0, axis2=1):
    return _diagonal_bar(result_bar, a, offset, axis1, axis2)


@tangent(np.diagonal, ("method", "diagonal"))
def _(result, a, offset=0, axis1=0, axis2=1, a_dot=None):
    return np.diagonal(_full(a_dot, a), offset, axis1, axis2).copy()


@adjoint(np.trace, ("method", "trace"))
def _(result, result_bar, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return _trace_bar(result_bar, a, offset, axis1, axis2)


@tangent(np.trace, ("method", "trace"))
def _(result, a, offset=0, axis1=0, axis2=1, dtype=None, out=None, a_dot=None):
    return np.trace(_full(a_dot, a), offset, axis1, axis2)


@adjoint(np.triu)
def _(result, result_bar, m, k=0):
    return unbroadcast(np.triu(result_bar, k), m)


@tangent(np.triu)
def _(result, m, k=0, m_dot=None):
    return np.triu(_full(m_dot, m), k)


@adjoint(np.tril)
def _(result, result_bar, m, k=0):
    return unbroadcast(np.tril(result_bar, k), m)


@tangent(np.tril)
def _(result, m, k=0, m_dot=None):
    return np.tril(_full(m_dot, m), k)


# partition: a permutation of a (the one np.argpartition gives), like sort
@adjoint(np.partition)
def _(result, result_bar, a, kth, axis=-1, kind="introselect", order=None):
    return _take_along_bar(result_bar, a, np.argpartition(a, kth, axis=axis), axis)


@tangent(np.partition)
def _(result, a, kth, axis=-1, kind="introselect", order=None, a_dot=None):
    return np.take_along_axis(_full(a_dot, a), np.argpartition(a, kth, axis=axis), axis=axis)


# sort: the gradient goes back through the (stable) sorting permutation
@adjoint(np.sort)
def _(result, result_bar, a, axis=-1, kind=None, order=None):
    return _sort_bar(result_bar, a, axis)


@tangent(np.sort)
def _(result, a, axis=-1, kind=None, order=None, a_dot=None):
    return _sort_jvp(a, a_dot, axis)


@adjoint(np.take, ("method", "take"))
def _(result, result_bar, a, indices, axis=None, out=None, mode="raise"):
    return _take_bar(result_bar, a, indices, axis, mode)


@tangent(np.take, ("method", "take"))
def _(result, a, indices, axis=None, out=None, mode="raise", a_dot=None):
    return np.take(_full(a_dot, a), indices, axis=axis, mode=mode)


@adjoint(np.take_along_axis)
def _(result, result_bar, arr, indices, axis=-1):
    return _take_along_bar(result_bar, arr, indices, axis)


@tangent(np.take_along_axis)
def _(result, arr, indices, axis=-1, arr_dot=None):
    return np.take_along_axis(_full(arr_dot, arr), indices, axis=axis)


# x.item() / x.item(i) / x.item(i, j)
@adjoint(("method", "item"))
def _(result, result_bar, a, *args):
    return (_item_bar(result_bar, a, args),)


@tangent(("method", "item"))
def _(result, a, a_dot, *args):
    return _item_jvp(a, a_dot, args)


# x.flat read (runtime_pure.flat_read: np.ravel of an array)
def _flat_read_bar(g, a):
    if not isinstance(a, np.ndarray):
        from ..errors import NotDifferentiable
        raise NotDifferentiable("diffc: .flat of an object that is not an array is not differentiated")
    return np.reshape(g + np.zeros(np.size(a)), np.shape(a))


@adjoint(flat_read)
def _(result, result_bar, x):
    return _flat_read_bar(result_bar, x)


@tangent(flat_read)
def _(result, x, x_dot):
    return np.ravel(_full(x_dot, x))


linear(_flat_read_bar)


@adjoint(_flat_read_bar)
def _(result, result_bar, g, a):
    return np.ravel(_full(result_bar, a)), None


# x.tolist(): nested lists of floats; the list's adjoint goes back into x's shape
@adjoint(("method", "tolist"))
def _(result, result_bar, a):
    return (_tolist_bar(result_bar, a),)


@tangent(("method", "tolist"))
def _(result, a, a_dot):
    return _tolist_jvp(a, a_dot)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_sort_perm, _diag_len)
nondiff(runtime_scatter.diagonal_positions, runtime_scatter.put_positions)    # where np.fill_diagonal/np.put write


@tangent(_diag_bar)
def _(result, g, v, k, g_dot):
    return _diag_bar(_full(g_dot, g), v, k)


@adjoint(_diag_bar)
def _(result, result_bar, g, v, k):
    return np.diag(result_bar, k), None, None


@tangent(_diagonal_bar)
def _(result, g, a, offset, axis1, axis2, g_dot):
    return _diagonal_bar(_full(g_dot, g), a, offset, axis1, axis2)


@adjoint(_diagonal_bar)
def _(result, result_bar, g, a, offset, axis1, axis2):
    return unbroadcast(np.diagonal(result_bar, offset, axis1, axis2), g), None, None, None, None


@tangent(_trace_bar)
def _(result, g, a, offset, axis1, axis2, g_dot):
    return _trace_bar(_full(g_dot, g), a, offset, axis1, axis2)


@adjoint(_trace_bar)
def _(result, result_bar, g, a, offset, axis1, axis2):
    return unbroadcast(np.trace(result_bar, offset, axis1, axis2), g), None, None, None, None


@tangent(_sort_bar)
def _(result, g, a, axis, g_dot):
    return _sort_bar(_full(g_dot, g), a, axis)


@adjoint(_sort_bar)
def _(result, result_bar, g, a, axis):
    return unbroadcast(_sort_jvp(a, result_bar, axis), g), None, None


@tangent(_sort_jvp)
def _(result, a, d, axis, d_dot):
    return _sort_jvp(a, d_dot, axis)


@adjoint(_sort_jvp)
def _(result, result_bar, a, d, axis):
    return None, _full_T(_sort_bar(result_bar, a, axis), d, a), None


@tangent(_take_bar)
def _(result, g, a, indices, axis, mode, g_dot):
    return _take_bar(_full(g_dot, g), a, indices, axis, mode)


@adjoint(_take_bar)
def _(result, result_bar, g, a, indices, axis, mode):
    return unbroadcast(np.take(result_bar, indices, axis=axis, mode=mode), g), None, None, None, None


@tangent(_take_along_bar)
def _(result, g, arr, indices, axis, g_dot):
    return _take_along_bar(_full(g_dot, g), arr, indices, axis)


@adjoint(_take_along_bar)
def _(result, result_bar, g, arr, indices, axis):
    return unbroadcast(np.take_along_axis(result_bar, indices, axis=axis), g), None, None, None


@tangent(_item_bar)
def _(result, g, a, args, g_dot):
    return _item_bar(_full(g_dot, g), a, args)


@adjoint(_item_bar)
def _(result, result_bar, g, a, args):
    return _item_jvp(a, result_bar, args), None, None


@tangent(_item_jvp)
def _(result, a, d, args, d_dot):
    return _item_jvp(a, d_dot, args)


@adjoint(_item_jvp)
def _(result, result_bar, a, d, args):
    return None, _full_T(_item_bar(result_bar, a, args), d, a), None


@tangent(_tolist_bar)
def _(result, g, a, g_dot):
    return _tolist_bar(g_dot, a)


@adjoint(_tolist_bar)
def _(result, result_bar, g, a):
    return _tolist_bar_T(result_bar, a), None


@tangent(_tolist_bar_T)
def _(result, c, a, c_dot):
    return _tolist_bar_T(c_dot, a)


@adjoint(_tolist_bar_T)
def _(result, result_bar, c, a):
    return _full_T(_tolist_bar(result_bar, a), c, a), None


@tangent(_tolist_jvp)
def _(result, a, d, d_dot):
    return _tolist_jvp(a, d_dot)


@adjoint(_tolist_jvp)
def _(result, result_bar, a, d):
    return None, _full_T(_tolist_bar(result_bar, a), d, a)


# ---------------------------------------------------------------------------
# np.add.at / np.subtract.at: out = a + scatter(v at index), linear in (a, v)
# ---------------------------------------------------------------------------


def _at_scatter(w, index, a):
    """float64 zeros shaped like a with w scatter-added at index (np.add.at; repeats accumulate)."""
    w = np.asarray(w)
    out = np.zeros(np.shape(a), dtype=np.result_type(w.dtype, np.float64))
    np.add.at(out, index, w)
    return out


def _at_gather(g, index, v, a):
    """The adjoint in v of scatter-adding v at index into an array like a: g (a's shape) read
    at index, summed over what v broadcast to, in v's structure (a ListBar for a list)."""
    read = np.asarray(_full(g, a))[index]
    return _like(unbroadcast(read, v), v)


@adjoint(scatter_added)
def _(result, result_bar, a, index, values):
    return unbroadcast(result_bar, result), None, _at_gather(result_bar, index, values, result)


@tangent(scatter_added)
def _(result, a, index, values, a_dot, values_dot):
    return _full(a_dot, a) + _at_scatter(values_dot, index, a)


@adjoint(scatter_subtracted)
def _(result, result_bar, a, index, values):
    return unbroadcast(result_bar, result), None, _at_gather(-result_bar, index, values, result)


@tangent(scatter_subtracted)
def _(result, a, index, values, a_dot, values_dot):
    return _full(a_dot, a) - _at_scatter(values_dot, index, a)


linear(_at_scatter, _at_gather)


@adjoint(_at_scatter)
def _(result, result_bar, w, index, a):
    return _at_gather(result_bar, index, w, a), None, None


@adjoint(_at_gather)
def _(result, result_bar, g, index, v, a):
    return unbroadcast(_at_scatter(result_bar, index, a), g), None, None, None


at_gather = _at_gather      # (optimize/shape_reads.py: their last argument is read for its shape)
at_scatter = _at_scatter
