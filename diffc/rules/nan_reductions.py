"""NumPy's NaN-ignoring reductions: nansum, nanmean, nanprod, nanmax, nanmin, nanvar, nanstd.

Input: nothing (imported by rules/numpy_rules.py).  Output: each function registered
with `implemented_by` as the ordinary reduction of its input with the NaNs replaced by
the reduction's neutral value (0 for sums, 1 for products, -inf/+inf for max/min);
diffc differentiates these bodies like user code, so every mode and order follows from
the rules of where, sum, prod, max and min.  A NaN entry gets a zero derivative; a slice
of NaNs only gives NaN (nanmax, nanmin, nanmean), as NumPy's does.  ``out=`` is refused.
"""

import numpy as np

from . import implemented_by, nondiff
from ..errors import NotDifferentiable


def _no_out(out, name):
    if out is not None:
        raise NotDifferentiable(f"diffc: np.{name}(..., out=...) is not differentiated; use the result")


# transform/nan_masks.py: np.nansum(E) as np.nansum(nan_kept(_m := nan_mask(E), E')), E' with
# its leaves v read as nan_clean(_m, v).  Lists, tuples and other values keep their own
# meaning (a list + a list concatenates): the mask is None unless E is a float array.

def nan_mask(e):
    """Where the float array e is NaN, or None (e not a float or complex array)."""
    if isinstance(e, np.ndarray) and e.dtype.kind in "fc":
        return np.isnan(e)
    return None


def nan_clean(mask, v):
    """The leaf v with 0.5 where mask: a value every function nan_masks allows takes."""
    if mask is None or isinstance(v, (bool, np.bool_)) or not isinstance(v, (np.ndarray, float, int, np.number)):
        return v
    return np.where(mask, 0.5, v)


def nan_kept(mask, e):
    """e with NaN put back where mask (the entries the reduction leaves out)."""
    if mask is None:
        return e
    return np.where(mask, np.nan, e)


nondiff(nan_mask)
nan_clean.__diffc_transparent__ = True
nan_kept.__diffc_transparent__ = True


def _present(a, where):
    """True where an entry counts: not NaN and selected by where=."""
    return np.logical_and(np.logical_not(np.isnan(a)), where)


@implemented_by(np.nansum)
def nan_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=0, where=True):
    _no_out(out, "nansum")
    a = np.asarray(a)
    return np.sum(np.where(_present(a, where), a, 0.0), axis=axis, keepdims=keepdims) + initial


@implemented_by(np.nanprod)
def nan_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=1, where=True):
    _no_out(out, "nanprod")
    a = np.asarray(a)
    return np.prod(np.where(_present(a, where), a, 1.0), axis=axis, keepdims=keepdims) * initial


@implemented_by(np.nanmean)
def nan_mean(a, axis=None, dtype=None, out=None, keepdims=False, where=True):
    _no_out(out, "nanmean")
    a = np.asarray(a)
    keep = _present(a, where)
    count = np.sum(keep, axis=axis, keepdims=keepdims)
    total = np.sum(np.where(keep, a, 0.0), axis=axis, keepdims=keepdims)
    return total / np.where(count == 0, np.nan, count)


def _nan_extreme(a, axis, keepdims, largest):
    keep = np.logical_not(np.isnan(a))
    if largest:
        best = np.max(np.where(keep, a, -np.inf), axis=axis, keepdims=keepdims)
    else:
        best = np.min(np.where(keep, a, np.inf), axis=axis, keepdims=keepdims)
    return np.where(np.any(keep, axis=axis, keepdims=keepdims), best, np.nan)


@implemented_by(np.nanmax)
def nan_max(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    _no_out(out, "nanmax")
    if initial is not None or where is not True:
        raise NotDifferentiable("diffc: np.nanmax(..., initial=, where=) is not differentiated")
    return _nan_extreme(np.asarray(a), axis, keepdims, True)


@implemented_by(np.nanmin)
def nan_min(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    _no_out(out, "nanmin")
    if initial is not None or where is not True:
        raise NotDifferentiable("diffc: np.nanmin(..., initial=, where=) is not differentiated")
    return _nan_extreme(np.asarray(a), axis, keepdims, False)


def _nan_var(a, axis, out, ddof, keepdims, where, mean, correction):
    _no_out(out, "nanvar/nanstd")
    if mean is not None or correction is not None:
        raise NotDifferentiable("diffc: np.nanvar/nanstd(..., mean=, correction=) is not differentiated")
    keep = _present(a, where)
    count = np.sum(keep, axis=axis, keepdims=True)
    centre = np.sum(np.where(keep, a, 0.0), axis=axis, keepdims=True) / count
    d = np.where(keep, a - centre, 0.0)
    if np.iscomplexobj(d):
        squares = np.real(d * np.conj(d))
    else:
        squares = d * d
    dof = np.sum(keep, axis=axis, keepdims=keepdims) - ddof
    return np.sum(squares, axis=axis, keepdims=keepdims) / np.where(dof <= 0, np.nan, dof)


@implemented_by(np.nanvar)
def nan_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=True, mean=None,
            correction=None):
    return _nan_var(np.asarray(a), axis, out, ddof, keepdims, where, mean, correction)


@implemented_by(np.nanstd)
def nan_std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=True, mean=None,
            correction=None):
    return np.sqrt(_nan_var(np.asarray(a), axis, out, ddof, keepdims, where, mean, correction))


nondiff(_no_out)
_present.__diffc_transparent__ = True
_nan_extreme.__diffc_transparent__ = True
_nan_var.__diffc_transparent__ = True
