"""NumPy functions diffc differentiates through a plain-NumPy implementation: ``ediff1d``,
``diagflat``, ``linalg.multi_dot``, ``correlate``, ``meshgrid``, ``block``, ``piecewise``,
``cov``, ``corrcoef``, ``vander``, ``ldexp``, ``copysign``, ``unique``, ``geomspace``,
``apply_along_axis``, ``nancumsum``, ``nancumprod``, ``polyfit``, ``delete``, ``insert``, ``resize``,
``broadcast_arrays``, ``linalg.tensorsolve``, ``linalg.tensorinv``, ``bincount`` and
``histogram`` (in the weights; ``linalg.matrix_rank`` is an int, never differentiated), and
``outer`` of the common binary ufuncs (``np.subtract.outer(x, x)``).  (np.fill_diagonal and
np.put write into their argument: transform/anf.py makes them whole writes of a changed copy,
runtime_scatter.filled_diagonal / put_values.)

Input: nothing (imported by rules/numpy_rules.py).  Output: each function registered with
`implemented_by`; diffc reads the body like user code, in both modes and at every order,
so the derivative follows from the rules of the operations it uses.  Each computes NumPy's
values (tests/test_numpy_implementations.py checks them against NumPy, and the
derivatives against finite differences).  Integer bookkeeping (which items ``unique``
keeps, the index tuples ``apply_along_axis`` visits) is computed by NumPy itself in
helpers that are never differentiated.  Options these cannot follow raise
NotDifferentiable when the generated code runs.
"""

import numpy as np

from . import implemented_by, nondiff
from ..errors import NotDifferentiable


def _unique_indices(ar, return_inverse, return_counts, axis, equal_nan):
    """np.unique's integer results (first-occurrence indices, inverse, counts) for ar."""
    return np.unique(np.asarray(ar), return_index=True, return_inverse=return_inverse,
                     return_counts=return_counts, axis=axis, equal_nan=equal_nan)


def _outer_indices(shape):
    """Every index tuple over shape, in C order (what apply_along_axis visits)."""
    return list(np.ndindex(*shape))


def _nesting_depth(arrays):
    depth = 0
    while isinstance(arrays, list):
        if not arrays:
            raise ValueError("np.block: lists cannot be empty")
        arrays = arrays[0]
        depth += 1
    return depth


def _leaf_ndim(arrays):
    if isinstance(arrays, list):
        return max(_leaf_ndim(a) for a in arrays)
    return np.ndim(arrays)


def _is_function(f):
    return callable(f)


def _axis(k, ndim):
    """An axis number (an int: never differentiated, whatever the call's activity)."""
    return int(k) % ndim


nondiff(_unique_indices, _outer_indices, _nesting_depth, _leaf_ndim, _is_function, _axis)


@implemented_by(np.ediff1d)
def ediff1d(ary, to_end=None, to_begin=None):
    a = np.ravel(ary)
    parts = [a[1:] - a[:-1]]
    if to_begin is not None:
        parts = [np.ravel(to_begin)] + parts
    if to_end is not None:
        parts = parts + [np.ravel(to_end)]
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


@implemented_by(np.diagflat)
def diagflat(v, k=0):
    return np.diag(np.ravel(v), k)


@implemented_by(np.linalg.multi_dot)
def multi_dot(arrays, *, out=None):
    if out is not None:
        raise NotDifferentiable("diffc: np.linalg.multi_dot(..., out=) is not differentiated; use the result")
    result = arrays[0]
    for a in arrays[1:]:
        result = result @ a
    return result


@implemented_by(np.correlate)
def correlate(a, v, mode="valid"):
    a = np.asarray(a)
    v = np.asarray(v)
    if len(v) > len(a):
        # NumPy swaps the operands: correlate(a, v)[k] = conj(correlate(v, a)[-k])
        return np.conj(np.convolve(v, np.conj(a)[::-1], mode))[::-1]
    return np.convolve(a, np.conj(v)[::-1], mode)


@implemented_by(np.meshgrid)
def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    ndim = len(xi)
    grids = []
    for k, x in enumerate(xi):
        shape = [1] * ndim
        shape[k] = -1
        grids.append(np.reshape(np.asarray(x), shape))
    if indexing == "xy" and ndim > 1:
        grids = [np.swapaxes(g, 0, 1) for g in grids]
    if sparse:
        return tuple(grids)
    full = np.broadcast_shapes(*[np.shape(g) for g in grids])
    return tuple(np.broadcast_to(g, full) * 1.0 if copy else np.broadcast_to(g, full) for g in grids)


def _block_level(arrays, level, depth, ndim):
    if isinstance(arrays, list):
        return np.concatenate([_block_level(a, level + 1, depth, ndim) for a in arrays],
                              axis=_axis(ndim - depth + level, ndim))
    a = np.asarray(arrays)
    return np.reshape(a, (1,) * (ndim - a.ndim) + np.shape(a))


_block_level.__diffc_transparent__ = True       # read like user code, as the implementations


@implemented_by(np.block)
def block(arrays):
    if not isinstance(arrays, list):
        return np.array(arrays)
    depth = _nesting_depth(arrays)
    ndim = max(depth, _leaf_ndim(arrays))
    return _block_level(arrays, 0, depth, ndim)


@implemented_by(np.piecewise)
def piecewise(x, condlist, funclist, *args, **kw):
    x = np.asarray(x)
    if isinstance(condlist, np.ndarray) and condlist.ndim == x.ndim or not isinstance(condlist, (list, tuple)):
        condlist = [condlist]
    conds = [np.asarray(c, dtype=bool) for c in condlist]
    if len(funclist) == len(conds) + 1:
        otherwise = np.ones(x.shape, dtype=bool)
        for c in conds:
            otherwise = otherwise & ~c
        conds = conds + [otherwise]
    y = np.zeros(x.shape, dtype=np.result_type(x, float))
    for c, f in zip(conds, funclist):
        if _is_function(f):
            y[c] = f(x[c], *args, **kw)
        else:
            y[c] = f
    return y


@implemented_by(np.cov)
def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *, dtype=None):
    if fweights is not None or aweights is not None:
        raise NotDifferentiable("diffc: np.cov(..., fweights=, aweights=) is not differentiated")
    X = np.atleast_2d(np.asarray(m))
    if not rowvar and X.shape[0] != 1:
        X = X.T
    if y is not None:
        Y = np.atleast_2d(np.asarray(y))
        if not rowvar and Y.shape[0] != 1:
            Y = Y.T
        X = np.concatenate((X, Y), axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    X = X - np.mean(X, axis=1, keepdims=True)
    c = X @ np.conj(X).T / (X.shape[1] - ddof)
    return np.squeeze(c)


@implemented_by(np.corrcoef)
def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    c = cov(x, y, rowvar)
    if np.ndim(c) == 0:
        return c / c
    stddev = np.sqrt(np.real(np.diag(c)))
    c = c / stddev[:, None] / stddev[None, :]
    return np.clip(c, -1.0, 1.0) if not np.iscomplexobj(c) else c


@implemented_by(np.vander)
def vander(x, N=None, increasing=False):
    x = np.asarray(x)
    n = len(x) if N is None else N
    columns = [np.ones(x.shape, dtype=np.result_type(x, int))]
    for _ in range(1, n):
        columns.append(columns[-1] * x)     # products, not powers: no 0 ** -1 at x == 0
    columns = columns[:n]
    if not increasing:
        columns = columns[::-1]
    return np.stack(columns, axis=1) if columns else np.zeros((len(x), 0), dtype=np.result_type(x, int))


@implemented_by(np.ldexp)
def ldexp(x1, x2):
    return x1 * np.power(2.0, x2)


@implemented_by(np.copysign)
def copysign(x1, x2):
    return np.abs(x1) * np.where(np.signbit(x2), -1.0, 1.0)


@implemented_by(np.unique)
def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *, equal_nan=True):
    found = _unique_indices(ar, return_inverse, return_counts, axis, equal_nan)
    first = found[1]
    values = np.ravel(ar)[first] if axis is None else np.take(ar, first, axis=axis)
    if not (return_index or return_inverse or return_counts):
        return values
    out = [values]
    if return_index:
        out.append(first)
    out.extend(found[2:])
    return tuple(out)


@implemented_by(np.geomspace)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    if np.ndim(start) or np.ndim(stop) or np.iscomplexobj(start) or np.iscomplexobj(stop):
        raise NotDifferentiable("diffc: np.geomspace is differentiated for real scalar start and stop")
    if start == 0 or stop == 0 or (start < 0) != (stop < 0):
        return np.geomspace(start * 1.0, stop * 1.0, num, endpoint)       # NumPy's error
    sign = -1.0 if start < 0 else 1.0
    inner = np.exp(np.linspace(np.log(start * sign), np.log(stop * sign), num, endpoint=endpoint))
    if num == 0:
        return inner * sign
    # NumPy returns the end points exactly
    if endpoint and num > 1:
        inner = np.concatenate((np.reshape(start * sign, (1,)), inner[1:-1], np.reshape(stop * sign, (1,))))
    else:
        inner = np.concatenate((np.reshape(start * sign, (1,)), inner[1:]))
    return inner * sign if dtype is None else (inner * sign).astype(dtype)


@implemented_by(np.apply_along_axis)
def apply_along_axis(func1d, axis, arr, *args, **kwargs):
    arr = np.asarray(arr)
    at = _axis(axis, arr.ndim)
    moved = np.moveaxis(arr, at, -1)
    outer = moved.shape[:-1]
    results = [np.asarray(func1d(moved[index], *args, **kwargs)) for index in _outer_indices(outer)]
    inner = np.shape(results[0])
    stacked = np.reshape(np.stack(results), outer + inner)
    if not inner:
        return stacked
    return np.moveaxis(stacked, list(range(len(outer), len(outer) + len(inner))),
                       list(range(at, at + len(inner))))


@implemented_by(np.nancumsum)
def nancumsum(a, axis=None, dtype=None, out=None):
    if out is not None:
        raise NotDifferentiable("diffc: np.nancumsum(..., out=) is not differentiated; use the result")
    a = np.asarray(a)
    return np.cumsum(np.where(np.isnan(a), 0.0, a), axis=axis, dtype=dtype)


@implemented_by(np.nancumprod)
def nancumprod(a, axis=None, dtype=None, out=None):
    if out is not None:
        raise NotDifferentiable("diffc: np.nancumprod(..., out=) is not differentiated; use the result")
    a = np.asarray(a)
    return np.cumprod(np.where(np.isnan(a), 1.0, a), axis=axis, dtype=dtype)


@implemented_by(np.polyfit)
def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    if full or cov is not False:
        raise NotDifferentiable("diffc: np.polyfit(..., full=True / cov=) is not differentiated")
    x = np.asarray(x) + 0.0
    y = np.asarray(y) + 0.0
    lhs = vander(x, deg + 1)
    rhs = y
    if w is not None:
        w = np.asarray(w) + 0.0
        lhs = lhs * w[:, None]
        rhs = rhs * w if rhs.ndim == 1 else rhs * w[:, None]
    if rcond is None:
        rcond = len(x) * np.finfo(x.dtype).eps
    scale = np.sqrt(np.sum(lhs * lhs, axis=0))
    c = np.linalg.lstsq(lhs / scale, rhs, rcond=rcond)[0]
    return (c.T / scale).T


# ---------------------------------------------------------------- inserting, deleting, resizing

def _kept_indices(n, obj):
    """The positions np.delete keeps of range(n) (ints: never differentiated)."""
    return np.delete(np.arange(n), obj)


def _insert_codes(shape, obj, values_shape, axis):
    """np.insert applied to codes: k >= 0 for the array's flat item k, -1 - k for the flat item
    k of the values, broadcast and placed exactly as NumPy places the values."""
    codes = np.arange(int(np.prod(shape))).reshape(shape)
    value_codes = -1 - np.arange(int(np.prod(values_shape))).reshape(values_shape)
    return np.insert(codes, obj, value_codes, axis=axis)


nondiff(_kept_indices, _insert_codes, np.linalg.matrix_rank)


@implemented_by(np.delete)
def delete(arr, obj, axis=None):
    arr = np.asarray(arr)
    if axis is None:
        flat = np.ravel(arr)
        return flat[_kept_indices(flat.shape[0], obj)]
    return np.take(arr, _kept_indices(arr.shape[axis], obj), axis=axis)


@implemented_by(np.insert)
def insert(arr, obj, values, axis=None):
    arr = np.asarray(arr)
    values = np.asarray(values)
    codes = _insert_codes(np.shape(arr), obj, np.shape(values), axis)
    items = np.ravel(arr)
    inserted = np.ravel(values).astype(arr.dtype)
    from_arr = items[np.maximum(codes, 0)] if items.shape[0] else np.zeros(np.shape(codes), dtype=arr.dtype)
    return np.where(codes >= 0, from_arr, inserted[np.maximum(-1 - codes, 0)])


@implemented_by(np.resize)
def resize(a, new_shape):
    flat = np.ravel(a)
    size = int(np.prod(new_shape))
    if flat.shape[0] == 0 or size == 0:
        return np.zeros(new_shape, dtype=flat.dtype)
    return np.reshape(flat[np.arange(size) % flat.shape[0]], new_shape)


@implemented_by(np.broadcast_arrays)
def broadcast_arrays(*args, subok=False):
    shape = np.broadcast_shapes(*[np.shape(a) for a in args])
    return tuple(np.broadcast_to(a, shape) for a in args)


# ---------------------------------------------------------------- tensor solves

@implemented_by(np.linalg.tensorsolve)
def tensorsolve(a, b, axes=None):
    a = np.asarray(a)
    b = np.asarray(b)
    if axes is not None:
        order = [k for k in range(a.ndim) if k not in axes] + list(axes)
        a = np.transpose(a, order)
    oldshape = a.shape[b.ndim:]
    size = int(np.prod(oldshape))
    x = np.linalg.solve(np.reshape(a, (-1, size)), np.ravel(b))
    return np.reshape(x, oldshape)


@implemented_by(np.linalg.tensorinv)
def tensorinv(a, ind=2):
    a = np.asarray(a)
    oldshape = a.shape
    size = int(np.prod(oldshape[:ind]))
    inverse = np.linalg.inv(np.reshape(a, (size, -1)))
    return np.reshape(inverse, oldshape[ind:] + oldshape[:ind])


# ---------------------------------------------------------------- counting with weights

def _bin_counts(x, minlength):
    return np.bincount(x, minlength=minlength)


def _histogram_bins(a, bins, range):
    """(bin of each sample, -1 outside; edges; NumPy's counts) as np.histogram bins them."""
    counts, edges = np.histogram(a, bins=bins, range=range)
    a = np.ravel(a)
    index = np.searchsorted(edges, a, side="right") - 1
    index = np.where(a == edges[-1], len(edges) - 2, index)
    index = np.where((a < edges[0]) | (a > edges[-1]), -1, index)
    return index, edges, counts


nondiff(_bin_counts, _histogram_bins)


def _sums_by_label(labels, weights, n):
    return np.array([np.sum(weights[labels == k]) for k in range(n)]) if n else np.zeros(0)


_sums_by_label.__diffc_transparent__ = True     # read like the implementations calling it


@implemented_by(np.bincount)
def bincount(x, weights=None, minlength=0):
    counts = _bin_counts(x, minlength)
    if weights is None:
        return counts
    return _sums_by_label(np.asarray(x), np.asarray(weights) + 0.0, len(counts))


@implemented_by(np.histogram)
def histogram(a, bins=10, range=None, density=None, weights=None):
    index, edges, counts = _histogram_bins(a, bins, range)
    if weights is None:
        hist = counts
    else:
        hist = _sums_by_label(index, np.ravel(weights) + 0.0, len(edges) - 1)
    if density:
        hist = hist / np.diff(edges) / np.sum(hist)
    return hist, edges


# ---------------------------------------------------------------- ufunc.outer

def ufunc_outer(ufunc):
    def outer(A, B, **kwargs):
        if kwargs:
            raise NotDifferentiable(f"diffc: np.{ufunc.__name__}.outer(..., {', '.join(kwargs)}=) is not differentiated")
        A = np.asarray(A)
        B = np.asarray(B)
        return ufunc(np.reshape(A, np.shape(A) + (1,) * np.ndim(B)), B)
    return outer


for _ufunc in (np.add, np.subtract, np.multiply, np.divide, np.true_divide, np.power, np.maximum, np.minimum,
               np.hypot, np.arctan2, np.logaddexp):
    implemented_by(_ufunc.outer)(ufunc_outer(_ufunc))
