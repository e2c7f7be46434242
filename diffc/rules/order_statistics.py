"""NumPy functions written with others diffc differentiates: median, quantile,
percentile, ptp, trapezoid, interp, convolve; and functools.reduce.

Input: nothing (imported by rules/numpy_rules.py).  Output: each function registered
with `implemented_by`: diffc reads the body below like user code, in every mode and at
every order, from the rules of sort, take, where, searchsorted, sums and slicing.  The
bodies compute NumPy's values (the default `method="linear"` of quantile; `left`/`right`
of interp; the three modes of convolve); what they do not cover raises
NotDifferentiable (a DiffcError) saying which option.
Order statistics are piecewise linear: at ties the derivative goes to the sorted
position NumPy's sort gives, like max/min's.
"""

import functools

import numpy as np

from . import implemented_by, nondiff
from ..errors import NotDifferentiable


def _unsupported(what):
    raise NotDifferentiable(f"{what} is not differentiated", hint="use the default options, or register a rule")


def _sorted_along(a, axis):
    """a sorted along axis (flattened for axis=None)."""
    if axis is None:
        return np.sort(np.ravel(a))
    return np.sort(a, axis=axis)


def _at_fraction(s, n, axis, q):
    """The linear interpolation of the sorted s at fraction q of its length (NumPy's
    default quantile method): s[lo] + (s[hi] - s[lo]) * (q (n - 1) - lo)."""
    position = np.asarray(q, dtype=float) * (n - 1)
    lo = np.floor(position).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    frac = position - lo
    below = np.take(s, lo, axis=axis)
    above = np.take(s, hi, axis=axis)
    return below + (above - below) * frac


@implemented_by(np.quantile)
def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
             weights=None, interpolation=None):
    if out is not None or method != "linear" or weights is not None or interpolation is not None:
        _unsupported("np.quantile other than the default method, or with out/weights")
    if np.ndim(q) > 0:
        # several q: NumPy's result has q's shape first, then the reduced shape
        parts = [quantile(a, qk, axis, None, overwrite_input, method, keepdims) for qk in np.ravel(q)]
        return np.reshape(np.stack(parts), np.shape(q) + np.shape(parts[0]))
    s = _sorted_along(a, axis)
    along = 0 if axis is None else axis
    return _keep_dims(_at_fraction(s, np.shape(s)[along], along, q), a, axis, keepdims)


def _keep_dims(r, a, axis, keepdims):
    """r, the reduction of a along axis, with that axis kept as length 1 when keepdims."""
    if not keepdims:
        return r
    if axis is None:
        return np.reshape(r, (1,) * np.ndim(a))
    return np.expand_dims(r, axis)


@implemented_by(np.percentile)
def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False,
               weights=None, interpolation=None):
    return quantile(a, np.asarray(q, dtype=float) / 100.0, axis, out, overwrite_input, method, keepdims,
                    weights, interpolation)


@implemented_by(np.median)
def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    if out is not None:
        _unsupported("np.median(..., out=...)")
    s = _sorted_along(a, axis)
    along = 0 if axis is None else axis
    return _keep_dims(_at_fraction(s, np.shape(s)[along], along, 0.5), a, axis, keepdims)


@implemented_by(np.ptp)
def ptp(a, axis=None, out=None, keepdims=False):
    if out is not None:
        _unsupported("np.ptp(..., out=...)")
    return np.max(a, axis=axis, keepdims=keepdims) - np.min(a, axis=axis, keepdims=keepdims)


def _trapezoid(y, x=None, dx=1.0, axis=-1):
    y = np.moveaxis(np.asarray(y), axis, -1)
    middle = (y[..., 1:] + y[..., :-1]) * 0.5
    if x is None:
        return np.sum(middle, axis=-1) * dx
    x = np.asarray(x)
    steps = x[1:] - x[:-1] if np.ndim(x) == 1 else np.moveaxis(x, axis, -1)[..., 1:] \
        - np.moveaxis(x, axis, -1)[..., :-1]
    return np.sum(middle * steps, axis=-1)


if hasattr(np, "trapezoid"):
    implemented_by(np.trapezoid)(_trapezoid)
if hasattr(np, "trapz"):
    implemented_by(np.trapz)(_trapezoid)


@implemented_by(np.interp)
def interp(x, xp, fp, left=None, right=None, period=None):
    if period is not None:
        _unsupported("np.interp(..., period=...)")
    xp = np.asarray(xp)
    fp = np.asarray(fp)
    n = np.shape(xp)[0]
    k = np.clip(np.searchsorted(xp, x, side="right") - 1, 0, n - 2)
    x0 = np.take(xp, k)
    x1 = np.take(xp, k + 1)
    f0 = np.take(fp, k)
    f1 = np.take(fp, k + 1)
    inside = f0 + (f1 - f0) * ((x - x0) / (x1 - x0))
    low = fp[0] if left is None else left
    high = fp[-1] if right is None else right
    return np.where(x < xp[0], low, np.where(x > xp[-1], high, inside))


@implemented_by(np.convolve)
def convolve(a, v, mode="full"):
    a = np.asarray(a)
    v = np.asarray(v)
    n = np.shape(a)[0]
    m = np.shape(v)[0]
    total = np.outer(a, v)
    full = np.zeros(n + m - 1)
    for i in range(n):
        full = full + np.pad(total[i], (i, n - 1 - i))
    if mode == "full":
        return full
    short = min(n, m)
    if mode == "same":
        start = (short - 1) // 2
        return full[start:start + max(n, m)]
    if mode == "valid":
        return full[short - 1:max(n, m)]
    _unsupported(f"np.convolve(mode={mode!r})")


def _running_record(a, larger):
    """For a moved so that the accumulated axis is first: the index of the running maximum
    (larger) or minimum at each position, the earliest position reaching it (a later equal
    value is not a new record: at ties the derivative goes to the first)."""
    n = np.shape(a)[0]
    if n == 0:
        return np.zeros(np.shape(a), dtype=int)
    running = np.maximum.accumulate(a, axis=0) if larger else np.minimum.accumulate(a, axis=0)
    later = a[1:] > running[:-1] if larger else a[1:] < running[:-1]
    record = np.concatenate([np.ones((1,) + np.shape(a)[1:], dtype=bool), later], axis=0)
    positions = np.reshape(np.arange(n), (n,) + (1,) * (np.ndim(a) - 1))
    return np.maximum.accumulate(np.where(record, positions, 0), axis=0)


def _running_extreme(a, axis, dtype, out, larger, name):
    if out is not None or dtype is not None:
        _unsupported(f"np.{name}.accumulate(..., dtype=/out=)")
    a = np.asarray(a)
    if np.ndim(a) == 0:
        _unsupported(f"np.{name}.accumulate of a 0-d array")
    moved = np.moveaxis(a, axis, 0)
    index = _running_record(moved, larger)
    return np.moveaxis(np.take_along_axis(moved, index, axis=0), 0, axis)


@implemented_by(np.maximum.accumulate)
def maximum_accumulate(array, axis=0, dtype=None, out=None):
    """np.maximum.accumulate: the running maximum, whose derivative is that of the entry
    holding it (the earliest, at ties)."""
    return _running_extreme(array, axis, dtype, out, True, "maximum")


@implemented_by(np.minimum.accumulate)
def minimum_accumulate(array, axis=0, dtype=None, out=None):
    return _running_extreme(array, axis, dtype, out, False, "minimum")


nondiff(_running_record)


_NO_INITIAL = object()


@implemented_by(functools.reduce)
def reduce(function, iterable, initial=_NO_INITIAL):
    items = list(iterable)
    if initial is _NO_INITIAL:
        value = items[0]
        items = items[1:]
    else:
        value = initial
    for item in items:
        value = function(value, item)
    return value


# The helpers above are read like user code too (called from the bodies diffc compiles).
_unsupported.__diffc_transparent__ = True
_sorted_along.__diffc_transparent__ = True
_at_fraction.__diffc_transparent__ = True
_keep_dims.__diffc_transparent__ = True
_trapezoid.__diffc_transparent__ = True
_running_extreme.__diffc_transparent__ = True
