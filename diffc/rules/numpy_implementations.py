"""NumPy functions diffc differentiates through a plain-NumPy implementation: ``ediff1d``,
``diagflat``, ``linalg.multi_dot``, ``correlate``, ``meshgrid``, ``block``, ``piecewise``,
``cov``, ``corrcoef``, ``vander``, ``ldexp``, ``copysign``, ``unique``, ``geomspace``,
``apply_along_axis``, ``nancumsum``, ``nancumprod`` and ``polyfit``.

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
        # NumPy swaps the operands and reverses the result
        return np.convolve(v, np.conj(a)[::-1], mode)[::-1]
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
