"""Rules for NumPy's piecewise selections: where, clip, select, heaviside.

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions (and the method x.clip), the helpers they call (``_where_bar``,
``_clip_bar_a``, ``_select_bar``...) and rules of any order for those helpers, each
helper next to its rules.  The selection itself (a mask, which bound applies, which
choice is taken) is piecewise constant: ``clip`` passes the gradient to ``a`` on the
closed interval ``[a_min, a_max]`` and to a bound where ``a`` is strictly outside it;
``heaviside`` is 0 almost everywhere in x1.  Conventions: rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from ..runtime import ListBar, broadcast_like, unbroadcast
from .shared import is_zero as _zero, bcast as _bcast, full as _full, dense_list as _dense_list, seq as _seq


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------

def _where_bar(g, condition, x):
    return unbroadcast(np.where(condition, g, 0.0), x)


def _where_not_bar(g, condition, y):
    return unbroadcast(np.where(condition, 0.0, g), y)


def _clip_bounds(a_min, a_max, min, max):
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return lo, hi


def _clip_pass(a, bounds):
    """1 where clip(a, lo, hi) passes a through (lo <= a <= hi), else 0."""
    lo, hi = bounds
    if lo is None:
        return np.ones_like(a, dtype=bool) if hi is None else np.less_equal(a, hi)
    if hi is None:
        return np.greater_equal(a, lo)
    # two comparisons and one &: this runs once per clip in every adjoint sweep
    return np.greater_equal(a, lo) & np.less_equal(a, hi)


def _clip_bar_a(g, a, bounds):
    return unbroadcast(g * _clip_pass(a, bounds), a)


def _clip_bar_lo(g, a, bounds):
    lo, hi = bounds
    if lo is None:
        return None
    below = np.less(a, lo)
    if hi is not None:
        below = below & np.less_equal(lo, hi)
    return unbroadcast(g * below, lo)


def _clip_bar_hi(g, a, bounds):
    lo, hi = bounds
    if hi is None:
        return None
    above = np.greater(a, hi) | (np.less(hi, lo) if lo is not None else False)
    return unbroadcast(g * above, hi)


def _clip_jvp_lo(a, bounds, lo_dot):
    lo, hi = bounds
    below = np.less(a, lo)
    if hi is not None:
        below = below & np.less_equal(lo, hi)
    return lo_dot * below


def _clip_jvp_hi(a, bounds, hi_dot):
    lo, hi = bounds
    above = np.greater(a, hi) | (np.less(hi, lo) if lo is not None else False)
    return hi_dot * above


def _select_bar(g, condlist, choicelist, which):
    """Adjoint of np.select(condlist, choicelist, default) for choice `which` (len(choicelist):
    the default): g where that choice is the first whose condition holds."""
    taken = np.zeros(np.broadcast_shapes(*[np.shape(c) for c in condlist], np.shape(g)), dtype=bool)
    for k, cond in enumerate(condlist):
        mask = np.asarray(cond, dtype=bool) & ~taken
        if k == which:
            return np.where(mask, g, 0.0)
        taken = taken | mask
    return np.where(taken, 0.0, g)


def _select_taken(condlist, result):
    """Where some condition of np.select holds (the default is not used), shaped like result."""
    return np.broadcast_to(np.any(np.broadcast_arrays(*condlist, result)[:-1], axis=0), np.shape(result))


def _select_choices_bar(g, condlist, choicelist):
    return ListBar(unbroadcast(_select_bar(g, condlist, choicelist, k), c) for k, c in enumerate(choicelist))


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


@adjoint(np.where)
def _(result, result_bar, condition, x=None, y=None):
    return None, _where_bar(result_bar, condition, x), _where_not_bar(result_bar, condition, y)


@tangent(np.where)
def _(result, condition, x=None, y=None, x_dot=None, y_dot=None):
    return np.where(condition, x_dot, 0.0) + np.where(condition, 0.0, y_dot)


# clip: the gradient goes to a on the closed interval [a_min, a_max], to a bound
# where a is strictly outside it; the method form x.clip(min=, max=) binds min/max
@adjoint(np.clip, ("method", "clip"))
def _(result, result_bar, a, a_min=None, a_max=None, out=None, min=None, max=None):
    bounds = _clip_bounds(a_min, a_max, min, max)
    # numpy 2's min=/max= keywords are the same bounds as a_min/a_max
    return (_clip_bar_a(result_bar, a, bounds), _clip_bar_lo(result_bar, a, bounds),
            _clip_bar_hi(result_bar, a, bounds), None, _clip_bar_lo(result_bar, a, bounds),
            _clip_bar_hi(result_bar, a, bounds))


@tangent(np.clip, ("method", "clip"))
def _(result, a, a_min=None, a_max=None, out=None, min=None, max=None,
      a_dot=None, a_min_dot=None, a_max_dot=None, min_dot=None, max_dot=None):
    bounds = _clip_bounds(a_min, a_max, min, max)
    return (a_dot * _clip_pass(a, bounds) + _clip_jvp_lo(a, bounds, a_min_dot)
            + _clip_jvp_hi(a, bounds, a_max_dot) + _clip_jvp_lo(a, bounds, min_dot)
            + _clip_jvp_hi(a, bounds, max_dot))


# select: each element comes from the first choice whose condition holds, else the default
@adjoint(np.select)
def _(result, result_bar, condlist, choicelist, default=0):
    return (None, _select_choices_bar(result_bar, condlist, choicelist),
            unbroadcast(_select_bar(result_bar, condlist, choicelist, len(choicelist)), default))


@tangent(np.select)
def _(result, condlist, choicelist, default=0, choicelist_dot=None, default_dot=None):
    return (np.select(condlist, _dense_list(choicelist, choicelist_dot), 0.0)
            + np.where(_select_taken(condlist, result), 0.0, _full(default_dot, result)))


# heaviside(x1, x2): 0 almost everywhere in x1; x2 is the value where x1 == 0
@adjoint(np.heaviside)
def _(result, result_bar, x1, x2):
    return None, unbroadcast(result_bar * np.equal(x1, 0), x2)


@tangent(np.heaviside)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * np.zeros(np.shape(result)) + x2_dot * np.equal(x1, 0)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------
# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_clip_bounds, _clip_pass, _select_taken)


@tangent(_where_bar)
def _(result, g, condition, x, g_dot):
    return _where_bar(_full(g_dot, g), condition, x)


@adjoint(_where_bar)
def _(result, result_bar, g, condition, x):
    return unbroadcast(broadcast_like(np.where(condition, result_bar, 0.0), g), g), None, None


@tangent(_where_not_bar)
def _(result, g, condition, y, g_dot):
    return _where_not_bar(_full(g_dot, g), condition, y)


@adjoint(_where_not_bar)
def _(result, result_bar, g, condition, y):
    return unbroadcast(broadcast_like(np.where(condition, 0.0, result_bar), g), g), None, None


# clip: the masks are piecewise constant in a and the bounds
@tangent(_clip_bar_a)
def _(result, g, a, bounds, g_dot):
    return _clip_bar_a(_full(g_dot, g), a, bounds)


@adjoint(_clip_bar_a)
def _(result, result_bar, g, a, bounds):
    return unbroadcast(broadcast_like(result_bar * _clip_pass(a, bounds), g), g), None, None


@tangent(_clip_bar_lo)
def _(result, g, a, bounds, g_dot):
    return _clip_bar_lo(_full(g_dot, g), a, bounds)


@adjoint(_clip_bar_lo)
def _(result, result_bar, g, a, bounds):
    return unbroadcast(broadcast_like(_clip_jvp_lo(a, bounds, result_bar), g), g), None, None


@tangent(_clip_bar_hi)
def _(result, g, a, bounds, g_dot):
    return _clip_bar_hi(_full(g_dot, g), a, bounds)


@adjoint(_clip_bar_hi)
def _(result, result_bar, g, a, bounds):
    return unbroadcast(broadcast_like(_clip_jvp_hi(a, bounds, result_bar), g), g), None, None


@tangent(_clip_jvp_lo)
def _(result, a, bounds, d, d_dot):
    return _clip_jvp_lo(a, bounds, d_dot)


@adjoint(_clip_jvp_lo)
def _(result, result_bar, a, bounds, d):
    return None, None, unbroadcast(_clip_jvp_lo(a, bounds, result_bar), d)


@tangent(_clip_jvp_hi)
def _(result, a, bounds, d, d_dot):
    return _clip_jvp_hi(a, bounds, d_dot)


@adjoint(_clip_jvp_hi)
def _(result, result_bar, a, bounds, d):
    return None, None, unbroadcast(_clip_jvp_hi(a, bounds, result_bar), d)


# np.select's adjoint helpers mask g: linear in g, their own transposes up to summing
linear(_select_bar)


@adjoint(_select_bar)
def _(result, result_bar, g, condlist, choicelist, which):
    return unbroadcast(_select_bar(result_bar, condlist, choicelist, which), g), None, None, None


def _select_choices_T(rbar, g, condlist, choicelist):
    """Adjoint of _select_choices_bar in g: each choice's masked adjoint, summed."""
    total = 0.0
    for k, r in enumerate(_seq(rbar, len(choicelist))):
        if not _zero(r):
            total = total + _select_bar(_bcast(r, np.shape(choicelist[k])), condlist, choicelist, k)
    return unbroadcast(broadcast_like(total, g) if np.ndim(total) < np.ndim(g) else total, g)


linear(_select_choices_bar)


@adjoint(_select_choices_bar)
def _(result, result_bar, g, condlist, choicelist):
    return _select_choices_T(result_bar, g, condlist, choicelist), None, None
