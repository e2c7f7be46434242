"""Helpers shared by the NumPy rule families (rules/elementwise.py ... rules/creation.py).

Input: nothing.  Output: plain-NumPy helpers that rule templates of several families
call (widening a tangent to full shape, the symbolic zero, reshaping a gradient to its
argument's structure, axis normalization, ...), with their own higher-order rules
(so generated code calling them can be differentiated again), and public names for
them at the end of the module.

A family imports a helper under the private name its templates use
(``from .shared import full as _full``): the name written in a template is the name
the generated code shows, and the leading underscore keeps it clear of the user's
names.  A helper that only one family calls lives in that family's module, beside
its first- and higher-order rules; only what several families need belongs here.
Conventions shared by all rules: see rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from ..runtime import ListBar, is_duck_array, unbroadcast


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


def _zero(x):
    """True for the symbolic zero adjoint/tangent (a Python or numpy scalar 0)."""
    return x is None or (isinstance(x, (int, float, np.number)) and not isinstance(x, bool) and x == 0)


def _bcast(g, shape):
    """g broadcast to shape, materialized (writable) when broadcasting was needed."""
    if np.shape(g) == tuple(shape):
        return g
    if is_duck_array(g):
        return np.broadcast_to(g, shape).copy()     # stays in g's library (lazy for Dask)
    out = np.empty(shape, dtype=np.result_type(g, np.float64) if np.ndim(g) == 0 and
                   not isinstance(g, np.ndarray) else np.asarray(g).dtype)
    out[...] = g
    return out


def _arr(a):
    """a as an array without leaving its library: np.asarray for NumPy values, lists and
    scalars; an array of another library (Dask, CuPy) is returned unchanged."""
    return a if is_duck_array(a) else np.asarray(a)


def _zeros_of(a):
    """float64 zeros shaped like a, in a's library (np.zeros(np.shape(a)) for NumPy values)."""
    return np.zeros_like(a, dtype=np.float64)


def _dense(d, x):
    """The tangent d of x as an array (lists of tangents, with 0.0 for zero, are stacked)."""
    if isinstance(x, (list, tuple)):
        if isinstance(d, (list, tuple)):
            parts = [_dense(di, xi) for di, xi in zip(d, x)]
            ref = next((p for p in parts if is_duck_array(p)), None)
            if ref is not None:         # stack in the tangents' library (np.array would compute)
                return np.stack([p if is_duck_array(p) else
                                 np.zeros_like(ref) + np.asarray(p, like=ref) for p in parts])
            return np.array(parts)
        return _bcast(np.asarray(d, dtype=np.float64), np.shape(x))
    return d


def _full(d, x):
    """The tangent d widened to the full shape of x (tangents may be broadcast-smaller)."""
    d = _dense(d, x)
    return _bcast(d, np.shape(x))


def _like(g, x):
    """The gradient g (an array shaped like x) in x's structure: a ListBar for a list."""
    if isinstance(x, (list, tuple)):
        g = _bcast(g, np.shape(x))
        return ListBar(_like(g[k], xk) for k, xk in enumerate(x))
    if isinstance(x, np.ndarray) and np.shape(g) != x.shape:
        return np.reshape(g, x.shape)
    return g


def _cast_like(g, x):
    """g cast to the floating dtype of x (gradients keep their argument's dtype)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc" and _arr(g).dtype != x.dtype:
        # a complex cotangent of a real x is its real part (unbroadcast's convention)
        return (np.real(g) if x.dtype.kind == "f" else _arr(g)).astype(x.dtype)
    if is_duck_array(x) and x.dtype.kind in "fc" and is_duck_array(g) and g.dtype != x.dtype:
        return g.astype(x.dtype)
    if isinstance(x, np.floating) and not isinstance(g, np.ndarray):
        return x.dtype.type(g)
    return g


def _one_hot(idx, n, like):
    """float64 matrix (idx.size, n) with a 1 at [k, idx.flat[k]], in the library of like.
    Scatter-adding g at idx (np.add.at) is one_hot.T @ g; a product dispatches where ufunc.at
    may not exist (Dask)."""
    oh = (np.ravel(idx)[:, None] == np.arange(n)).astype(np.float64)
    return np.asarray(oh, like=like)


def _norm_axes(axis, ndim):
    """axis (None, int or tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(int(a) % ndim for a in axis))
    return (int(axis) % ndim,)


def _unreduce(g, x, axis, keepdims):
    """g (shaped like a reduction of x) with the reduced axes put back as size 1."""
    nd = np.ndim(x)
    if keepdims or nd == 0:
        return g
    axes = _norm_axes(axis, nd)
    if not axes:
        return g
    return np.expand_dims(g, axes)


def _safe_div(a, b):
    """a / b with 0 where b == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.divide(a, b)
    d = np.where(np.equal(b, 0), 0.0, d)
    return d[()] if d.ndim == 0 else d


def _dense_list(arrays, arrays_dot):
    return [_full(d, x) for d, x in zip(arrays_dot, arrays)]


# --- linear algebra ----------------------------------------------------------

def _T(x):
    return np.swapaxes(x, -1, -2)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_norm_axes)


def _seq(r, n):
    """An adjoint of an n-tuple as a list (0.0 for the symbolic zero)."""
    if _zero(r):
        return [0.0] * n
    return list(r)


def _dense_list_T(rbar, arrays, d):
    """Adjoint of _dense_list(arrays, d) in d."""
    return ListBar(_full_T(r, di, x) for r, di, x in zip(_seq(rbar, len(arrays)), d, arrays))


def _full_T(rbar, d, x):
    """Adjoint of _full(d, x) in d."""
    if isinstance(x, (list, tuple)) and isinstance(d, (list, tuple)):
        return _like(rbar, x)
    return unbroadcast(rbar, d)


@tangent(_dense_list)
def _(result, arrays, d, d_dot):
    return _dense_list(arrays, d_dot)


@adjoint(_dense_list)
def _(result, result_bar, arrays, d):
    return None, _dense_list_T(result_bar, arrays, d)


@tangent(_cast_like)
def _(result, g, x, g_dot):
    return _cast_like(_full(g_dot, g), x)


@adjoint(_cast_like)
def _(result, result_bar, g, x):
    return _cast_like(result_bar, g), None


linear(_full)


@adjoint(_full)
def _(result, result_bar, d, x):
    return _full_T(result_bar, d, x), None


@tangent(_safe_div)
def _(result, a, b, a_dot, b_dot):
    return _safe_div(a_dot, b) - result * _safe_div(b_dot, b)


@adjoint(_safe_div)
def _(result, result_bar, a, b):
    return unbroadcast(_safe_div(result_bar, b), a), unbroadcast(-result_bar * _safe_div(result, b), b)


def _col(y, b):
    """y in column form (a vector right-hand side b becomes one column)."""
    return np.asarray(y)[..., None] if np.ndim(b) == 1 else np.asarray(y)


def _uncol(y, b):
    return y[..., 0] if np.ndim(b) == 1 else y


def _mat(x, like):
    """A tangent or adjoint of a matrix, full shape (0.0 for the symbolic zero)."""
    return np.zeros(np.shape(like)) if _zero(x) else _bcast(x, np.shape(like))


def _full_T_T(result_bar, rbar, x):
    """Adjoint of _full_T(rbar, d, x) in rbar."""
    if isinstance(x, (list, tuple)) and isinstance(result_bar, (list, tuple)):
        return _full(result_bar, x)
    return _bcast(result_bar, np.shape(rbar))


linear(_full_T)


@adjoint(_full_T)
def _(result, result_bar, rbar, d, x):
    return _full_T_T(result_bar, rbar, x), None, None


linear(_seq)


@adjoint(_seq)
def _(result, result_bar, r, n):
    return ListBar(_seq(result_bar, n)), None


@tangent(_unreduce)
def _(result, g, x, axis, keepdims, g_dot):
    return _unreduce(_bcast(g_dot, np.shape(g)), x, axis, keepdims)


@adjoint(_unreduce)
def _(result, result_bar, g, x, axis, keepdims):
    return np.reshape(unbroadcast(result_bar, result), np.shape(g)), None, None, None


# _bcast(g, shape) broadcasts g: linear in g, summed back by its adjoint
linear(_bcast)


@adjoint(_bcast)
def _(result, result_bar, g, shape):
    return unbroadcast(result_bar, g), None


# --- structure and transposes used by the second-order rules -------------------

def _like_T(rbar, g, x):
    """Adjoint of _like(g, x) in g: the structure of x undone."""
    if _zero(rbar):
        return 0.0
    y = _full(rbar, x)
    if np.size(y) == np.size(g) and np.shape(y) != np.shape(g):
        return np.reshape(y, np.shape(g))
    return unbroadcast(y, g)


@tangent(_like)
def _(result, g, x, g_dot):
    return _like(_bcast(g_dot, np.shape(g)), x)


@adjoint(_like)
def _(result, result_bar, g, x):
    return _like_T(result_bar, g, x), None


linear(_T)


@adjoint(_T)
def _(result, result_bar, x):
    return unbroadcast(_T(result_bar), x)


def _mat_T(rbar, x):
    """Adjoint of _mat(x, like) in x."""
    if _zero(x) or _zero(rbar):
        return 0.0
    return unbroadcast(rbar, x)


linear(_mat)


@adjoint(_mat)
def _(result, result_bar, x, like):
    return _mat_T(result_bar, x), None


# Public names, for the rule families (which import them back under the private
# name their templates use: generated code shows that name).
is_zero = _zero
bcast = _bcast
arr = _arr
zeros_of = _zeros_of
dense = _dense
full = _full
like = _like
cast_like = _cast_like
one_hot = _one_hot
norm_axes = _norm_axes
unreduce = _unreduce
safe_div = _safe_div
dense_list = _dense_list
swap_last_axes = _T
seq = _seq
dense_list_T = _dense_list_T
full_T = _full_T
col = _col
uncol = _uncol
mat = _mat
full_T_T = _full_T_T
like_T = _like_T
mat_T = _mat_T
