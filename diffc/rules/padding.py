"""Rules for np.pad: every mode but a callable (constant, empty, edge, reflect,
symmetric, wrap, mean, linear_ramp with constant end_values, maximum, minimum, median;
stat_length is not taken; constant_values a scalar); and np.diff, whose prepend= and
append= pad the array before differencing (differentiated in them too).

Input: nothing (imported by rules/numpy_rules.py).  Output: the adjoint and tangent rules
of np.pad and np.diff, the helpers they call (``_pad_bar``, ``_pad_cv_bar``, ``_diff_bar``,
``_diff_part_bar``...) and rules of any order for those helpers.  Conventions:
rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, nondiff, tangent
from ..runtime import is_duck_array, unbroadcast
from .shared import (is_zero as _zero, zeros_of as _zeros_of, full as _full, one_hot as _one_hot,
                     bcast as _bcast)
from ..errors import NotDifferentiable


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


def _pad_widths(array, pad_width):
    nd = np.ndim(array)
    return np.broadcast_to(pad_width, (nd, 2)).astype(np.intp)     # ints given by the program


def _pad_bar(g, array, pad_width, mode):
    shape = np.shape(array)
    pw = _pad_widths(array, pad_width)
    if mode in ("constant", "empty"):
        return g[tuple(slice(int(b), int(b) + n) for (b, _), n in zip(pw, shape))]
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        size = int(np.prod(shape))
        idx = np.pad(np.arange(size).reshape(shape), pw, mode=mode)
        if is_duck_array(g):
            return np.reshape(np.tensordot(_one_hot(idx, size, g), np.reshape(g, (-1,)), axes=([0], [0])), shape)
        return np.bincount(idx.ravel(), weights=np.ravel(g), minlength=size).reshape(shape)
    if mode in ("mean", "linear_ramp"):
        # linear per axis (end values are constants), applied axis after axis: the transpose
        # applies each axis's matrix P (np.pad of the identity along that axis), last axis first
        g = np.asarray(g)
        for ax in reversed(range(len(shape))):
            widths = [(0, 0), (0, 0)]
            widths[0] = tuple(int(w) for w in pw[ax])
            P = np.pad(np.eye(shape[ax]), widths, mode=mode)
            g = np.moveaxis(np.tensordot(np.moveaxis(g, ax, -1), P, axes=([-1], [0])), -1, ax)
        return g
    if mode in _PAD_STATS:
        # axis after axis, last first: the padding's adjoint returns to the elements its
        # statistic picked (weights W of that axis's lanes, in the array padded so far)
        g = np.asarray(g)
        stages = _pad_stages(array, pw, mode)
        for ax in reversed(range(len(shape))):
            b, n = int(pw[ax][0]), shape[ax]
            before = np.sum(np.take(g, np.arange(b), axis=ax), axis=ax, keepdims=True)
            after = np.sum(np.take(g, np.arange(b + n, g.shape[ax]), axis=ax), axis=ax, keepdims=True)
            g = np.take(g, np.arange(b, b + n), axis=ax) + _pad_stat_weights(stages[ax], ax, mode) * (before + after)
        return g
    raise NotDifferentiable(f"diffc: no derivative for np.pad(mode={mode!r})")


_PAD_STATS = ("maximum", "minimum", "median")


def _pad_stages(array, pw, mode):
    """The arrays np.pad pads axis after axis: stages[k] has axes < k padded already."""
    stages = [np.asarray(array)]
    for ax in range(len(pw)):
        widths = [(0, 0)] * len(pw)
        widths[ax] = tuple(int(w) for w in pw[ax])
        stages.append(np.pad(stages[-1], widths, mode=mode))
    return stages


def _pad_stat_weights(y, axis, mode):
    """d stat(lane) / d lane for the lanes of y along axis: 1 at the extreme (ties split
    evenly) for maximum/minimum, 1 or 1/2-1/2 at the middle element(s) for median."""
    ym = np.moveaxis(y, axis, -1)
    n = ym.shape[-1]
    if mode in ("maximum", "minimum"):
        ext = ym.max(-1, keepdims=True) if mode == "maximum" else ym.min(-1, keepdims=True)
        w = (ym == ext).astype(np.float64)
        w = w / np.sum(w, axis=-1, keepdims=True)
    else:
        order = np.argsort(ym, axis=-1, kind="stable")
        mids = sorted({(n - 1) // 2, n // 2})
        w = np.zeros(ym.shape)
        for m in mids:
            np.put_along_axis(w, order[..., m:m + 1], 1.0 / len(mids), axis=-1)
    return np.moveaxis(w, -1, axis)


def _pad_stat_jvp(array, pad_width, mode, array_dot):
    """Tangent of np.pad(array, pad_width, mode) for the statistic modes: each padded value
    moves with the elements its statistic picked."""
    pw = _pad_widths(array, pad_width)
    stages = _pad_stages(array, pw, mode)
    d = _full(array_dot, array)
    for ax in range(len(pw)):
        b, a = int(pw[ax][0]), int(pw[ax][1])
        pick = np.sum(_pad_stat_weights(stages[ax], ax, mode) * d, axis=ax, keepdims=True)
        d = np.concatenate([np.repeat(pick, b, axis=ax), d, np.repeat(pick, a, axis=ax)], axis=ax)
    return d


def _pad_linear_mode(mode):
    """mode, checked: np.pad of a tangent with it is the tangent of np.pad with it (modes that
    pick an element by value, maximum/minimum/median, are not linear)."""
    if mode not in ("constant", "empty", "edge", "reflect", "symmetric", "wrap", "mean", "linear_ramp") \
            and mode not in _PAD_STATS:
        raise NotDifferentiable(f"diffc: no derivative for np.pad(mode={mode!r})")
    return "constant" if mode == "empty" else mode      # empty padding holds no derivative


def _pad_ev_jvp(end_values_dot):
    """The tangent due to np.pad's end_values: only a constant is supported."""
    if not _zero(end_values_dot):
        raise NotDifferentiable("diffc: no derivative of np.pad with respect to end_values")
    return 0.0


def _pad_cv_bar(g, array, pad_width, mode, constant_values):
    if mode != "constant" or np.ndim(constant_values) != 0:
        raise NotDifferentiable("diffc: derivative of np.pad in constant_values needs a scalar")
    return np.sum(g) - np.sum(_pad_bar(g, array, pad_width, "constant"))


def _pad_cv_jvp(array, pad_width, constant_values_dot):
    return np.pad(_zeros_of(array), pad_width, mode="constant",
                  constant_values=constant_values_dot)


# --- np.diff, with prepend= and append= --------------------------------------

def _diff_bar(g, a, n, axis):
    """Adjoint of np.diff(a, n, axis) (without prepend/append): the transposed differences."""
    if is_duck_array(g):
        for _ in range(n):              # functional: x[k] - x[k-1] sends g to k and -g to k-1
            ax = axis % g.ndim
            pad_hi = [(0, 0)] * g.ndim
            pad_lo = [(0, 0)] * g.ndim
            pad_hi[ax] = (1, 0)
            pad_lo[ax] = (0, 1)
            g = np.pad(g, pad_hi) - np.pad(g, pad_lo)
        return g
    for _ in range(n):
        g = np.asarray(g)
        ax = axis % g.ndim
        shape = list(g.shape)
        shape[ax] += 1
        out = np.zeros(shape, dtype=np.result_type(g, np.float64))
        hi = [slice(None)] * g.ndim
        lo = [slice(None)] * g.ndim
        hi[ax] = slice(1, None)
        lo[ax] = slice(None, -1)
        out[tuple(hi)] += g
        out[tuple(lo)] -= g
        g = out
    return g


def _diff_edge(e, a, axis):
    """prepend or append as NumPy joins it to a: a number becomes a slab of a's shape with
    length 1 along axis."""
    if np.ndim(e) == 0:
        shape = list(np.shape(a))
        shape[axis % np.ndim(a)] = 1
        return _bcast(e, tuple(shape))
    return e


def _diff_sizes(a, axis, prepend, append):
    """The lengths along axis of prepend, a and append (0 for one not given)."""
    ax = axis % np.ndim(a)
    return tuple(0 if e is None else np.shape(_diff_edge(e, a, axis))[ax] for e in (prepend, a, append))


def _diff_part_bar(g, a, n, axis, prepend, append, which):
    """Adjoint of prepend (which=0), a (1) or append (2) in np.diff(a, n, axis, prepend=,
    append=) (None: not given): that part of the joined array's adjoint."""
    if (prepend, a, append)[which] is None:
        return 0.0                      # not given: the rule asks for the adjoints of all three
    if prepend is None and append is None:
        return _diff_bar(g, a, n, axis)
    joined = _diff_bar(g, a, n, axis)
    sizes = _diff_sizes(a, axis, prepend, append)
    start = sum(sizes[:which])
    ax = axis % np.ndim(a)
    part = joined[(slice(None),) * ax + (slice(start, start + sizes[which]),)]
    return unbroadcast(part, (prepend, a, append)[which])


def _diff_part_jvp(d, a, n, axis, prepend, append, which):
    """Tangent of np.diff(a, n, axis, prepend=, append=) from d, that of prepend (which=0),
    a (1) or append (2): the differences of the joined array with d in its part, 0 elsewhere."""
    if prepend is None and append is None:
        return np.diff(_full(d, a), n, axis)
    parts = []
    for k, e in enumerate((prepend, a, append)):
        if e is not None:
            slab = _diff_edge(e, a, axis)
            parts.append(_full(d, slab) if k == which else _zeros_of(slab))
    return np.diff(np.concatenate(parts, axis=axis), n, axis)


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


# pad: every mode but a callable: constant, empty, edge, reflect, symmetric, wrap, mean,
# linear_ramp (constant end_values), maximum, minimum, median (stat_length is not taken);
# constant_values (a scalar)
@adjoint(np.pad)
def _(result, result_bar, array, pad_width, mode="constant", constant_values=0, end_values=0):
    return (_pad_bar(result_bar, array, pad_width, mode), None, None,
            _pad_cv_bar(result_bar, array, pad_width, mode, constant_values))


@tangent(np.pad)
def _(result, array, pad_width, mode="constant", constant_values=0, end_values=0,
      array_dot=None, constant_values_dot=None, end_values_dot=None):
    return ((_pad_stat_jvp(array, pad_width, mode, array_dot) if mode in _PAD_STATS
             else np.pad(_full(array_dot, array), pad_width, mode=_pad_linear_mode(mode)))
            + _pad_cv_jvp(array, pad_width, constant_values_dot) + _pad_ev_jvp(end_values_dot))


@adjoint(np.diff)
def _(result, result_bar, a, n=1, axis=-1, prepend=None, append=None):
    return (_diff_part_bar(result_bar, a, n, axis, prepend, append, 1), None, None,
            _diff_part_bar(result_bar, a, n, axis, prepend, append, 0),
            _diff_part_bar(result_bar, a, n, axis, prepend, append, 2))


@tangent(np.diff)
def _(result, a, n=1, axis=-1, prepend=None, append=None, a_dot=None, prepend_dot=None, append_dot=None):
    return (_diff_part_jvp(a_dot, a, n, axis, prepend, append, 1)
            + _diff_part_jvp(prepend_dot, a, n, axis, prepend, append, 0)
            + _diff_part_jvp(append_dot, a, n, axis, prepend, append, 2))


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_pad_widths, _pad_linear_mode, _pad_ev_jvp, _pad_stages, _pad_stat_weights)


def _pad_T(rbar, pad_width, mode):
    """Adjoint of _pad_bar in g: np.pad is the gather whose transpose _pad_bar is."""
    if mode in ("constant", "empty"):
        return np.pad(rbar, pad_width, mode="constant")
    return np.pad(rbar, pad_width, mode=mode)


def _pad_cv_T(rbar, array, pad_width):
    """Adjoint of _pad_cv_bar in g: rbar on the padding, 0 inside."""
    return rbar - np.pad(rbar * np.ones(np.shape(array)), pad_width, mode="constant")


@tangent(_pad_bar)
def _(result, g, array, pad_width, mode, g_dot):
    return _pad_bar(_full(g_dot, g), array, pad_width, mode)


@adjoint(_pad_bar)
def _(result, result_bar, g, array, pad_width, mode):
    return (_pad_stat_jvp(array, pad_width, mode, result_bar) if mode in _PAD_STATS
            else _pad_T(result_bar, pad_width, mode)), None, None, None


# the statistic modes' tangent is linear in the tangent (the picks are piecewise constant)
@tangent(_pad_stat_jvp)
def _(result, array, pad_width, mode, d, d_dot):
    return _pad_stat_jvp(array, pad_width, mode, d_dot)


@adjoint(_pad_stat_jvp)
def _(result, result_bar, array, pad_width, mode, d):
    return None, None, None, unbroadcast(_pad_bar(result_bar, array, pad_width, mode), d)


@tangent(_pad_cv_bar)
def _(result, g, array, pad_width, mode, constant_values, g_dot):
    return _pad_cv_bar(_full(g_dot, g), array, pad_width, mode, constant_values)


@adjoint(_pad_cv_bar)
def _(result, result_bar, g, array, pad_width, mode, constant_values):
    return _pad_cv_T(result_bar, array, pad_width), None, None, None, None


@tangent(_pad_cv_jvp)
def _(result, array, pad_width, d, d_dot):
    return _pad_cv_jvp(array, pad_width, d_dot)


@adjoint(_pad_cv_jvp)
def _(result, result_bar, array, pad_width, d):
    return None, None, unbroadcast(_pad_cv_bar(result_bar, array, pad_width, "constant", 0.0), d)


@tangent(_diff_bar)
def _(result, g, a, n, axis, g_dot):
    return _diff_bar(_full(g_dot, g), a, n, axis)


@adjoint(_diff_bar)
def _(result, result_bar, g, a, n, axis):
    return np.diff(result_bar, n, axis), None, None, None


# the two are each other's transposes, linear in g and d
@tangent(_diff_part_bar)
def _(result, g, a, n, axis, prepend, append, which, g_dot):
    return _diff_part_bar(_full(g_dot, g), a, n, axis, prepend, append, which)


@adjoint(_diff_part_bar)
def _(result, result_bar, g, a, n, axis, prepend, append, which):
    return (unbroadcast(_diff_part_jvp(result_bar, a, n, axis, prepend, append, which), g),
            None, None, None, None, None, None)


@tangent(_diff_part_jvp)
def _(result, d, a, n, axis, prepend, append, which, d_dot):
    return _diff_part_jvp(d_dot, a, n, axis, prepend, append, which)


@adjoint(_diff_part_jvp)
def _(result, result_bar, d, a, n, axis, prepend, append, which):
    return (unbroadcast(_diff_part_bar(result_bar, a, n, axis, prepend, append, which), d),
            None, None, None, None, None, None)
