"""More NumPy functions diffc differentiates through a plain-NumPy implementation:
``linalg.cond``, NumPy 2's ``linalg.vector_norm`` and ``linalg.matrix_norm``, the
NaN-skipping order statistics ``nanmedian``, ``nanquantile`` and ``nanpercentile``, and
the reductions of ufuncs ``np.add.reduce``, ``multiply``, ``maximum``, ``minimum`` and
``logaddexp`` (their default axis is 0).

Input: nothing (imported by rules/numpy_rules.py).  Output: each function registered with
`implemented_by`; diffc reads the body like user code, in both modes and at every order,
so the derivative follows from the rules of the operations it uses (svd's singular
values, inv, norm, sort, take_along_axis).  Each computes NumPy's values
(tests/test_libs_s10b.py checks them against NumPy and the derivatives against finite
differences).  The count of non-NaN entries and the positions read are integers computed
from masks, never differentiated; a NaN entry gets no derivative (the function does not
depend on it).  Options these cannot follow raise NotDifferentiable when the code runs.
"""

import numpy as np

from . import implemented_by, nondiff
from ..errors import NotDifferentiable


def _refuse_option(what):
    raise NotDifferentiable(f"{what} is not differentiated", hint="use the default options, or register a rule")


# --- linalg -------------------------------------------------------------------

@implemented_by(np.linalg.cond)
def cond(x, p=None):
    # 2-norm condition numbers are ratios of singular values; the others, norm(x) norm(inv(x))
    if p is None or p == 2 or p == -2:
        s = np.linalg.svd(x, compute_uv=False)
        if p == -2:
            return s[..., -1] / s[..., 0]
        return s[..., 0] / s[..., -1]
    return np.linalg.norm(x, p, axis=(-2, -1)) * np.linalg.norm(np.linalg.inv(x), p, axis=(-2, -1))


def _axes(axis, ndim):
    """axis (an int or a tuple) as a tuple of non-negative ints."""
    if isinstance(axis, tuple):
        return tuple(int(k) % ndim for k in axis)
    return (int(axis) % ndim,)


@implemented_by(np.linalg.vector_norm)
def vector_norm(x, *, axis=None, keepdims=False, ord=2):
    # NumPy: the vector norm over the entries along axis (all of them for None; several
    # axes are joined into one)
    nd = np.ndim(x)
    if axis is None:
        r = np.linalg.norm(np.ravel(x), ord=ord)
        return np.reshape(r, (1,) * nd) if keepdims else r
    axes = _axes(axis, nd)
    if len(axes) == 1:
        return np.linalg.norm(x, ord=ord, axis=axes[0], keepdims=keepdims)
    rest = tuple(k for k in range(nd) if k not in axes)
    moved = np.transpose(x, rest + axes)
    joined = np.reshape(moved, tuple(np.shape(x)[k] for k in rest) + (-1,))
    r = np.linalg.norm(joined, ord=ord, axis=-1)
    if keepdims:
        return np.reshape(r, tuple(1 if k in axes else np.shape(x)[k] for k in range(nd)))
    return r


@implemented_by(np.linalg.matrix_norm)
def matrix_norm(x, *, keepdims=False, ord="fro"):
    return np.linalg.norm(x, ord=ord, axis=(-2, -1), keepdims=keepdims)


# --- NaN-skipping order statistics ---------------------------------------------

def _nan_positions(a, axis, q):
    """(lo, hi, frac) for NumPy's linear quantile q of the non-NaN entries along axis of a
    sorted with the NaNs last: integer index arrays with axis kept as length 1, and the
    interpolation weight.  A slice of NaNs only reads its first (NaN) entry."""
    n = np.sum(~np.isnan(a), axis=axis, keepdims=True)
    position = float(q) * np.maximum(n - 1, 0)
    lo = np.floor(position).astype(np.intp)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    return lo, hi, position - lo


nondiff(_axes, _nan_positions)


def _nan_quantile_one(a, q, axis, keepdims):
    if axis is None:
        flat = np.ravel(a)
        r = _nan_quantile_one(flat, q, 0, False)
        return np.reshape(r, (1,) * np.ndim(a)) if keepdims else r
    if isinstance(axis, tuple):
        _refuse_option("a NaN-skipping quantile over several axes")
    s = np.sort(a, axis=axis)                       # NaNs sort last
    lo, hi, frac = _nan_positions(np.asarray(a), axis, q)
    below = np.take_along_axis(s, lo, axis=axis)
    above = np.take_along_axis(s, hi, axis=axis)
    r = below + (above - below) * frac
    return r if keepdims else np.squeeze(r, axis=axis)


@implemented_by(np.nanquantile)
def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
                weights=None, interpolation=None):
    if out is not None or method != "linear" or weights is not None or interpolation is not None:
        _refuse_option("np.nanquantile other than the default method, or with out/weights")
    if np.ndim(q) > 0:
        parts = [_nan_quantile_one(a, qk, axis, keepdims) for qk in np.ravel(q)]
        return np.reshape(np.stack(parts), np.shape(q) + np.shape(parts[0]))
    return _nan_quantile_one(a, q, axis, keepdims)


@implemented_by(np.nanpercentile)
def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
                  weights=None, interpolation=None):
    return nanquantile(a, np.asarray(q, dtype=float) / 100.0, axis, out, overwrite_input, method, keepdims,
                       weights, interpolation)


@implemented_by(np.nanmedian)
def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    if out is not None:
        _refuse_option("np.nanmedian(..., out=...)")
    return _nan_quantile_one(a, 0.5, axis, keepdims)


# read like user code, as the implementations calling them
_refuse_option.__diffc_transparent__ = True
_nan_quantile_one.__diffc_transparent__ = True


# --- ufunc reductions (np.add.reduce(x), np.logaddexp.reduce(x, axis=1)) --------

def _plain_reduce(name, dtype, out, initial, where):
    if dtype is not None or out is not None or initial is not np._NoValue or where is not True:
        _refuse_option(f"np.{name}.reduce with dtype/out/initial/where")


@implemented_by(np.add.reduce)
def add_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    _plain_reduce("add", dtype, out, initial, where)
    return np.sum(array, axis=axis, keepdims=keepdims)


@implemented_by(np.multiply.reduce)
def multiply_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    _plain_reduce("multiply", dtype, out, initial, where)
    return np.prod(array, axis=axis, keepdims=keepdims)


@implemented_by(np.maximum.reduce)
def maximum_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    _plain_reduce("maximum", dtype, out, initial, where)
    return np.max(array, axis=axis, keepdims=keepdims)


@implemented_by(np.minimum.reduce)
def minimum_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    _plain_reduce("minimum", dtype, out, initial, where)
    return np.min(array, axis=axis, keepdims=keepdims)


@implemented_by(np.logaddexp.reduce)
def logaddexp_reduce(array, axis=0, dtype=None, out=None, keepdims=False, initial=np._NoValue, where=True):
    # log(sum(exp(a))) shifted by the largest entry (its derivative cancels: the softmax weights)
    _plain_reduce("logaddexp", dtype, out, initial, where)
    top = np.max(array, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(top), top, 0.0)
    r = shift + np.log(np.sum(np.exp(array - shift), axis=axis, keepdims=True))
    if keepdims:
        return r
    return np.reshape(r, np.shape(np.sum(array, axis=axis)))


_plain_reduce.__diffc_transparent__ = True
