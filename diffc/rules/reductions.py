"""Rules for NumPy's reductions and scans: sum, mean, prod, max/min (amax, amin), var,
std, cumsum, cumprod (axis: None, int or tuple; keepdims; where=; initial=).

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions and methods, the helpers they call (``_sum_bar``, ``_mean_bar``,
``_var_bar``, ``_prod_bar``, ``_extreme_bar``, ``_cumsum_bar``...) and rules of any order
for those helpers, each helper next to its rules.  max/min split the gradient evenly
among the elements tied for the extreme.  Conventions: rules/numpy_rules.py.
"""

import numpy as np

from .. import effects
from . import adjoint, linear, nondiff, tangent
from .complex_rules import no_derivative
from ..runtime import is_duck_array, unbroadcast, widen_like
from .shared import (is_zero as _zero, bcast as _bcast, arr as _arr, full as _full, like as _like,
                     norm_axes as _norm_axes, unreduce as _unreduce, safe_div as _safe_div,
                     full_T as _full_T)
from ..errors import NotDifferentiable


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


def _count(x, axis):
    """How many elements a reduction of x over axis combines."""
    shape = np.shape(x)
    n = 1
    for k in _norm_axes(axis, len(shape)):
        n *= shape[k]
    return n


def _sum_bar(g, a, axis, keepdims):
    if axis is None and type(a) is np.ndarray and a.dtype == np.float64 and np.ndim(g) == 0:
        return np.full(a.shape, g)           # the common full reduction, without helpers
    if is_duck_array(a):
        return widen_like(_unreduce(g, a, axis, keepdims), a)
    return _like(_bcast(_unreduce(g, a, axis, keepdims), np.shape(a)), a)


def _sum_bar_times(g, a, y, zero_guarded=False, axis=None, keepdims=False):
    """``_sum_bar(g, a, axis, keepdims) * y``: the adjoint of ``np.sum(a, axis, keepdims)``
    spread over a, times y.

    In: g the adjoint of the sum (shaped like its result), a its operand, y any
    factor.  ``zero_guarded``: the spread was guarded by ``nonzero(g)`` (a plain
    zero g gave the spread 0.0, so the product is ``0.0 * y``; a is not looked at).
    Out: the same value as the expression it replaces (optimize/fuse_sum_spreads.py).
    For float64 ndarrays a and y of the same shape and a float or float64 g,
    ``g * y`` with g's reduced axes put back as size 1: broadcasting repeats g
    over those axes exactly as the spread does, so it is never materialized."""
    if zero_guarded and type(g) is float and g == 0.0:
        return 0.0 * y
    if type(y) is np.ndarray and type(a) is np.ndarray and y.dtype == np.float64 and a.dtype == np.float64 \
            and (y is a or y.shape == a.shape):
        tg = type(g)
        if tg is float or tg is np.float64:
            if axis is None or a.ndim <= 1:
                return g * y
        elif tg is np.ndarray and g.dtype == np.float64:
            if keepdims and g.ndim == a.ndim:
                return g * y
            if not keepdims and axis is not None:
                return _unreduce(g, a, axis, keepdims) * y
    return _sum_bar(g, a, axis, keepdims) * y


def _mean_bar(g, a, axis, keepdims):
    if is_duck_array(a):
        return widen_like(_unreduce(g, a, axis, keepdims) / _count(a, axis), a)
    return _like(_bcast(_unreduce(g, a, axis, keepdims) / _count(a, axis), np.shape(a)), a)


def _masked_mean_bar(g, a, axis, keepdims, where):
    """Adjoint of np.mean(a, axis, keepdims=keepdims, where=where): g over the count of
    selected elements, at the selected elements."""
    mask = np.broadcast_to(where, np.shape(a))
    count = np.sum(mask, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = _unreduce(g, a, axis, keepdims) / count
    return np.where(mask, share, 0.0)


def _mean_jvp(a, a_dot, axis, keepdims):
    return np.mean(_full(a_dot, a), axis=axis, keepdims=keepdims)


def _prod_others(a, axis):
    """For each element of a: the product of the other elements of its reduction
    (exact when a has zeros: exclusive cumulative products from both ends)."""
    a = _arr(a)
    nd = a.ndim
    if nd == 0:
        return np.ones_like(a, dtype=np.result_type(a, np.float64))
    axes = _norm_axes(axis, nd)
    keep = [k for k in range(nd) if k not in axes]
    perm = keep + list(axes)
    t = np.transpose(a, perm)
    tshape = t.shape
    lead = tshape[:len(keep)]
    t = t.reshape(lead + (-1,))
    ones = np.ones(lead + (1,), dtype=np.result_type(a, np.float64), like=a)
    left = np.cumprod(np.concatenate([ones, t[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, t[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(tshape)
    return np.transpose(others, tuple(int(k) for k in np.argsort(perm)))


def _prod_bar(g, a, axis, keepdims):
    return _like(_unreduce(g, a, axis, keepdims) * _prod_others(a, axis), a)


def _prod_jvp(a, a_dot, axis, keepdims):
    return np.sum(_full(a_dot, a) * _prod_others(a, axis), axis=axis, keepdims=keepdims)


def _extreme_weights(a, axis, result, keepdims):
    """Weights of the elements reaching the max/min: 1/(number of ties), else 0.
    The gradient of a max or min is split evenly among tied elements."""
    a = _arr(a)
    mask = a == _unreduce(result, a, axis, keepdims)
    # a reduction with no match (initial= won, or every element masked by where=) gets none
    return mask / np.maximum(np.sum(mask, axis=axis, keepdims=True), 1)


def _extreme_bar(g, a, axis, keepdims, result):
    """Adjoint of np.max/np.min (and amax/amin, methods) of a over axis.

    In: g shaped like the result, a the operand, result the reduction's value.
    Out: g spread over the elements of a reaching the extreme, split evenly
    among ties.  Fast path for a float64 ndarray: when every reduction has
    exactly one extreme element (as many matches as results, and no NaN
    result, whose reduction has no match), the weights are the mask itself,
    so the tie counts and the division are skipped; the values are the same.
    When the reduced axes are a's last ones and each reduction combines 8 or
    more elements, g is written at the matches of a zero array (the matches,
    one per reduction, come in the order of g's entries) instead of
    multiplying the mask by g broadcast over those axes (about twice as fast;
    elsewhere the same values, 0.0 where the product gives -0.0)."""
    if type(a) is np.ndarray and a.dtype == np.float64:
        full = result if keepdims else _unreduce(result, a, axis, keepdims)
        mask = a == full
        n = result.size if type(result) is np.ndarray else np.size(result)
        if np.count_nonzero(mask) == n and not np.count_nonzero(np.isnan(result)):
            if not keepdims:
                g = _unreduce(g, a, axis, keepdims)
            if n and a.size >= 8 * n:
                if type(g) is np.ndarray and g.dtype == np.float64 and g.shape == np.shape(full) \
                        and _reduces_last_axes(a.ndim, axis):
                    out = np.zeros(a.shape, like=a)
                    out[mask] = g.ravel()
                    return out
                if type(g) is float or type(g) is np.float64:
                    out = np.zeros(a.shape, like=a)
                    out[mask] = g               # the same g at every match
                    return out
            return g * mask
        return _unreduce(g, a, axis, keepdims) * (mask / np.sum(mask, axis=axis, keepdims=True))
    return _like(_unreduce(g, a, axis, keepdims) * _extreme_weights(a, axis, result, keepdims), a)


def _reduces_last_axes(ndim, axis):
    """Whether a reduction over axis (None, an int or a tuple) combines the last axes of an ndim array."""
    if axis is None:
        return True
    if type(axis) is int:
        return axis == -1 or axis == ndim - 1
    axes = _norm_axes(axis, ndim)
    return axes == tuple(range(ndim - len(axes), ndim))


def _extreme_jvp(a, a_dot, axis, keepdims, result):
    return np.sum(_full(a_dot, a) * _extreme_weights(a, axis, result, keepdims),
                  axis=axis, keepdims=keepdims)


def _ddof(ddof, correction):
    """numpy 2's correction= is another name for ddof."""
    return ddof if correction is None else correction


def _var_bar(g, a, axis, ddof, keepdims, scale):
    """Adjoint of var (scale=None) or std (scale=result: divides by 2*std)."""
    x = _arr(a)
    n = _count(x, axis) - ddof
    centered = x - np.mean(x, axis=axis, keepdims=True)
    g = _unreduce(g, x, axis, keepdims)
    if scale is not None:
        # std == 0 (one element, an axis of length 1, equal elements): 0, not 0/0.
        g = _div_or_zero(g, 2.0 * _unreduce(scale, x, axis, keepdims))
    return _like(g * (2.0 / n) * centered, a)


def _var_jvp(a, a_dot, axis, ddof, keepdims, scale):
    x = _arr(a)
    n = _count(x, axis) - ddof
    centered = x - np.mean(x, axis=axis, keepdims=True)
    t = np.sum(_full(a_dot, a) * centered, axis=axis, keepdims=keepdims) * (2.0 / n)
    if scale is not None:
        t = _div_or_zero(t, 2.0 * scale)
    return t


def _cumsum_bar(g, a, axis, result):
    g = _bcast(g, np.shape(result))
    if axis is None:
        return _like(np.reshape(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(a)), a)
    return _like(np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis), a)


def _cumprod_terms(a, axis):
    """a as an array with the cumulated axis last, and a function putting it back."""
    x = _arr(a)
    if axis is None:
        return x.ravel(), (lambda y: y)
    return np.moveaxis(x, axis, -1), (lambda y: np.moveaxis(y, -1, axis))


def _cumprod_zero_terms(x):
    """(x with zeros replaced by 1, its cumulative product, zeros of x, zeros so far) along the last axis."""
    z = x == 0
    x1 = np.where(z, 1.0, x)
    return x1, np.cumprod(x1, axis=-1), z, np.cumsum(z, axis=-1)


def _cumprod_bar_zeros(gm, x):
    """Adjoint of cumprod along the last axis, exact with zeros and branch-free (O(n), lazy on Dask):
    d r_j/d a_k = prod_{i<=j, i!=k} a_i is r'_j/a_k while no zero came before j, r'_j when a_k is the
    only zero so far, else 0 (r' is the cumulative product with the zeros replaced by 1)."""
    x1, r1, z, nz = _cumprod_zero_terms(x)
    clean = np.flip(np.cumsum(np.flip(gm * r1 * (nz == 0), -1), axis=-1), -1) / x1
    first = np.flip(np.cumsum(np.flip(gm * r1 * (nz == 1), -1), axis=-1), -1)
    return np.where(z, first, clean)


def _cumprod_jvp_zeros(dm, x):
    """Tangent of cumprod along the last axis, exact with zeros and branch-free (see _cumprod_bar_zeros)."""
    x1, r1, z, nz = _cumprod_zero_terms(x)
    return np.where(nz == 0, r1 * np.cumsum(dm / x1, axis=-1),
                    np.where(nz == 1, r1 * np.cumsum(dm * z, axis=-1), 0.0))


def _cumprod_bar(g, a, axis, result):
    g = _bcast(g, np.shape(result))
    x, back = _cumprod_terms(a, axis)
    gm = np.moveaxis(g, axis, -1) if axis is not None else np.ravel(g)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    if is_duck_array(x):
        out = _cumprod_bar_zeros(gm, x)
    elif np.all(x != 0):
        out = np.flip(np.cumsum(np.flip(gm * rm, -1), axis=-1), -1) / x
    else:
        # exact with zeros: d result_j / d a_k = prod_{i<=j, i!=k} a_i   (O(n^2))
        n = x.shape[-1]
        out = np.zeros(x.shape, dtype=np.result_type(x, gm, np.float64))
        for k in range(n):
            b = np.array(x, dtype=out.dtype)
            b[..., k] = 1.0
            c = np.cumprod(b, axis=-1)
            out[..., k] = np.sum(gm[..., k:] * c[..., k:], axis=-1)
    out = back(out)
    return _like(np.reshape(out, np.shape(a)), a)


def _cumprod_jvp(a, a_dot, axis, result):
    x, back = _cumprod_terms(a, axis)
    d = _full(a_dot, a)
    dm = np.moveaxis(d, axis, -1) if axis is not None else np.ravel(d)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    if is_duck_array(x):
        out = _cumprod_jvp_zeros(dm, x)
    elif np.all(x != 0):
        out = rm * np.cumsum(dm / x, axis=-1)
    else:
        n = x.shape[-1]
        out = np.zeros(rm.shape, dtype=np.result_type(rm, dm, np.float64))
        for k in range(n):
            b = np.array(x, dtype=out.dtype)
            b[..., k] = 1.0
            c = np.cumprod(b, axis=-1)
            out[..., k:] += dm[..., k:k + 1] * c[..., k:]
    return back(out)


def _div_or_zero(a, b):
    """a / b, with 0 where b == 0 (a derivative through a zero std: std is 0 there)."""
    if np.ndim(b) == 0 and not is_duck_array(b) and b != 0:
        return a / b
    return _safe_div(a, b)


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


# initial= adds a constant (a differentiated initial is refused); where= masks a
@adjoint(np.sum, ("method", "sum"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return _sum_bar(result_bar, a, axis, keepdims) if where is True \
        else np.where(where, _sum_bar(result_bar, a, axis, keepdims), 0.0)


@tangent(np.sum, ("method", "sum"))
def _(result, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True,
      a_dot=None, initial_dot=None):
    return (np.sum(_full(a_dot, a), axis=axis, keepdims=keepdims) if where is True
            else np.sum(_full(a_dot, a), axis=axis, keepdims=keepdims, where=where)) + no_derivative(
        initial_dot, "np.sum with respect to initial")


# where=: the mean of the selected elements (each gets g / their count)
@adjoint(np.mean, ("method", "mean"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, keepdims=False, where=True):
    return _mean_bar(result_bar, a, axis, keepdims) if where is True \
        else _masked_mean_bar(result_bar, a, axis, keepdims, where)


@tangent(np.mean, ("method", "mean"))
def _(result, a, axis=None, dtype=None, out=None, keepdims=False, where=True, a_dot=None):
    return _mean_jvp(a, a_dot, axis, keepdims) if where is True \
        else np.mean(_full(a_dot, a), axis=axis, keepdims=keepdims, where=where)


# where=: the product of the selected elements (the others read as 1); initial= multiplies
# it by a constant (a differentiated initial is refused)
@adjoint(np.prod, ("method", "prod"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return _prod_bar(result_bar, a, axis, keepdims) if where is True and initial is None \
        else _prod_masked_bar(result_bar, a, axis, keepdims, initial, where)


@tangent(np.prod, ("method", "prod"))
def _(result, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True, a_dot=None,
      initial_dot=None):
    return (_prod_jvp(a, a_dot, axis, keepdims) if where is True and initial is None
            else _prod_masked_jvp(a, a_dot, axis, keepdims, initial, where)) + no_derivative(
        initial_dot, "np.prod with respect to initial")


def _prod_masked_bar(g, a, axis, keepdims, initial, where):
    scale = 1.0 if initial is None else initial
    kept = np.where(where, a, 1.0)
    return np.where(where, _prod_bar(g * scale, kept, axis, keepdims), 0.0)


def _prod_masked_jvp(a, a_dot, axis, keepdims, initial, where):
    scale = 1.0 if initial is None else initial
    kept = np.where(where, a, 1.0)
    return _prod_jvp(kept, np.where(where, _full(a_dot, a), 0.0), axis, keepdims) * scale


_prod_masked_bar.__diffc_transparent__ = True
_prod_masked_jvp.__diffc_transparent__ = True


# max/min: the gradient is split evenly among the elements tied for the extreme
# initial=: elements of a equal to the result share the gradient (none when initial wins);
# where=: masked-out elements read as NaN, which never equals the result
@adjoint(np.max, np.amax, np.min, np.amin, ("method", "max"), ("method", "min"))
def _(result, result_bar, a, axis=None, out=None, keepdims=False, initial=None, where=True):
    return _extreme_bar(result_bar, a, axis, keepdims, result) if where is True and initial is None \
        else _unreduce(result_bar, a, axis, keepdims) * _extreme_weights(
            a if where is True else np.where(where, a, np.nan), axis, result, keepdims)


@tangent(np.max, np.amax, np.min, np.amin, ("method", "max"), ("method", "min"))
def _(result, a, axis=None, out=None, keepdims=False, initial=None, where=True, a_dot=None, initial_dot=None):
    return (_extreme_jvp(a, a_dot, axis, keepdims, result) if where is True and initial is None
            else np.sum(_full(a_dot, a) * _extreme_weights(a if where is True else np.where(where, a, np.nan),
                                                          axis, result, keepdims), axis=axis, keepdims=keepdims)) \
        + no_derivative(initial_dot, "np.max/np.min with respect to initial")


@adjoint(np.var, ("method", "var"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None):
    return _var_bar(result_bar, a, axis, _ddof(ddof, correction), keepdims, None)


@tangent(np.var, ("method", "var"))
def _(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None, a_dot=None):
    return _var_jvp(a, a_dot, axis, _ddof(ddof, correction), keepdims, None)


@adjoint(np.std, ("method", "std"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None):
    return _var_bar(result_bar, a, axis, _ddof(ddof, correction), keepdims, result)


@tangent(np.std, ("method", "std"))
def _(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None, a_dot=None):
    return _var_jvp(a, a_dot, axis, _ddof(ddof, correction), keepdims, result)


@adjoint(np.cumsum, ("method", "cumsum"))
def _(result, result_bar, a, axis=None, dtype=None, out=None):
    return _cumsum_bar(result_bar, a, axis, result)


@tangent(np.cumsum, ("method", "cumsum"))
def _(result, a, axis=None, dtype=None, out=None, a_dot=None):
    return np.cumsum(_full(a_dot, a), axis=axis)


@adjoint(np.cumprod, ("method", "cumprod"))
def _(result, result_bar, a, axis=None, dtype=None, out=None):
    return _cumprod_bar(result_bar, a, axis, result)


@tangent(np.cumprod, ("method", "cumprod"))
def _(result, a, axis=None, dtype=None, out=None, a_dot=None):
    return _cumprod_jvp(a, a_dot, axis, result)


# Helpers the optimizer recognizes in, or writes into, generated code
# (optimize/fuse_sum_spreads.py): public names for the same objects; the code keeps their own names.
sum_bar = _sum_bar


sum_bar_times = _sum_bar_times


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_extreme_weights, _ddof, _count)


def _prod_hvp(a, v, axis):
    """H v for the Hessian H of prod(a, axis) (one block per reduction):
    out_i = sum_{j != i} v_j prod_{k != i, j} a_k; exact with zeros (no writes in place:
    Dask and other dispatching arrays stay in their library)."""
    if np.ndim(a) == 0:
        a = _arr(a)
        return np.zeros_like(a, dtype=np.result_type(a.dtype, np.float64))
    t, (vt,), back = _prod_last(a, axis, v)
    return back(_prod_hvp_last(t, vt))


def _cumprod_parts(g, a, axis, result):
    """(g, a, result) with the cumulated axis last, and a function putting it back."""
    x, back = _cumprod_terms(a, axis)
    if not np.all(x != 0):
        raise NotDifferentiable("diffc: second derivative of cumprod at an argument with zeros "
                                "is not supported")
    g = _bcast(g, np.shape(result))
    gm = np.moveaxis(g, axis, -1) if axis is not None else np.ravel(g)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    return gm, x, rm, back


def _rcumsum(y):
    return np.flip(np.cumsum(np.flip(y, -1), axis=-1), -1)


def _cumprod_bar_jvp(g, a, axis, result, g_dot, a_dot, result_dot):
    """Tangent of _cumprod_bar = rcumsum(g * result) / a (a without zeros)."""
    gm, x, rm, back = _cumprod_parts(g, a, axis, result)
    out = 0.0
    if not _zero(g_dot):
        out = out + _rcumsum(_cumprod_parts(g_dot, a, axis, result)[0] * rm) / x
    if not _zero(result_dot):
        out = out + _rcumsum(gm * _cumprod_parts(result_dot, a, axis, result)[0]) / x
    if not _zero(a_dot):
        d = _full(a_dot, a)
        dm = np.moveaxis(d, axis, -1) if axis is not None else np.ravel(d)
        out = out - _rcumsum(gm * rm) * dm / (x * x)
    if _zero(out):
        return np.zeros(np.shape(a))
    return np.reshape(back(out), np.shape(a))


def _cumprod_bar_adj(g, a, axis, result, rbar, which):
    """Adjoint of _cumprod_bar in g (which=0), a (1) or result (2)."""
    gm, x, rm, back = _cumprod_parts(g, a, axis, result)
    r = np.asarray(_bcast(rbar, np.shape(a)))
    rmv = np.moveaxis(r, axis, -1) if axis is not None else np.ravel(r)
    if which == 1:
        return np.reshape(back(-rmv * _rcumsum(gm * rm) / (x * x)), np.shape(a))
    c = np.cumsum(rmv / x, axis=-1)
    out = back(c * (rm if which == 0 else gm))
    return unbroadcast(np.reshape(out, np.shape(result)), g if which == 0 else result)


@tangent(_mean_bar)
def _(result, g, a, axis, keepdims, g_dot):
    return _mean_bar(_full(g_dot, g), a, axis, keepdims)


@adjoint(_mean_bar)
def _(result, result_bar, g, a, axis, keepdims):
    return unbroadcast(_mean_jvp(a, result_bar, axis, keepdims), g), None, None, None


@tangent(_mean_jvp)
def _(result, a, d, axis, keepdims, d_dot):
    return _mean_jvp(a, d_dot, axis, keepdims)


@adjoint(_mean_jvp)
def _(result, result_bar, a, d, axis, keepdims):
    return None, _full_T(_mean_bar(result_bar, a, axis, keepdims), d, a), None, None


# var/std: _var_bar(g, a, ...) = unreduce(g) / (2 scale) * (2/n) * (a - mean(a)) is linear in g,
# linear in a (centering commutes with a factor constant along the reduced axes), 1/scale in scale.
@tangent(_var_bar)
def _(result, g, a, axis, ddof, keepdims, scale, g_dot, a_dot, scale_dot):
    return (_var_bar(_full(g_dot, g), a, axis, ddof, keepdims, scale)
            + _var_bar(g, _full(a_dot, a), axis, ddof, keepdims, scale)
            - _var_bar(_div_or_zero(g * scale_dot, scale), a, axis, ddof, keepdims, scale))


@adjoint(_var_bar)
def _(result, result_bar, g, a, axis, ddof, keepdims, scale):
    return (unbroadcast(_var_jvp(a, result_bar, axis, ddof, keepdims, scale), g),
            _var_bar(g, result_bar, axis, ddof, keepdims, scale), None, None, None,
            unbroadcast(_div_or_zero(-_var_jvp(a, result_bar, axis, ddof, keepdims, scale) * g, scale),
                        scale))


# _var_jvp(a, d, ...) = sum(d * centered(a)) * (2/n) / (2 scale): symmetric bilinear in (a, d).
@tangent(_var_jvp)
def _(result, a, d, axis, ddof, keepdims, scale, a_dot, d_dot, scale_dot):
    return (_var_jvp(_full(a_dot, a), d, axis, ddof, keepdims, scale)
            + _var_jvp(a, d_dot, axis, ddof, keepdims, scale)
            - _div_or_zero(result * scale_dot, scale))


@adjoint(_var_jvp)
def _(result, result_bar, a, d, axis, ddof, keepdims, scale):
    return (_var_bar(result_bar, _full(d, a), axis, ddof, keepdims, scale),
            _full_T(_var_bar(result_bar, a, axis, ddof, keepdims, scale), d, a), None, None, None,
            unbroadcast(_div_or_zero(-result_bar * result, scale), scale))


@tangent(_prod_bar)
def _(result, g, a, axis, keepdims, g_dot, a_dot):
    return (_prod_bar(_full(g_dot, g), a, axis, keepdims)
            + _like(_unreduce(g, a, axis, keepdims) * _prod_hvp(a, _full(a_dot, a), axis), a))


@adjoint(_prod_bar)
def _(result, result_bar, g, a, axis, keepdims):
    return (unbroadcast(_prod_jvp(a, result_bar, axis, keepdims), g),
            _like(_prod_hvp(a, _full(result_bar, a) * _unreduce(g, a, axis, keepdims), axis), a),
            None, None)


@tangent(_prod_jvp)
def _(result, a, d, axis, keepdims, a_dot, d_dot):
    return (_prod_jvp(a, d_dot, axis, keepdims)
            + np.sum(_full(d, a) * _prod_hvp(a, _full(a_dot, a), axis), axis=axis, keepdims=keepdims))


@adjoint(_prod_jvp)
def _(result, result_bar, a, d, axis, keepdims):
    return (_prod_hvp(a, _full(d, a) * _unreduce(result_bar, a, axis, keepdims), axis),
            _full_T(_prod_bar(result_bar, a, axis, keepdims), d, a), None, None)


# max/min: the weights are piecewise constant in a and result (tangent in g: syntax.py)
@adjoint(_extreme_bar)
def _(result, result_bar, g, a, axis, keepdims, extreme):
    return unbroadcast(_extreme_jvp(a, result_bar, axis, keepdims, extreme), g), None, None, None, None


@tangent(_extreme_jvp)
def _(result, a, d, axis, keepdims, extreme, d_dot):
    return _extreme_jvp(a, d_dot, axis, keepdims, extreme)


@adjoint(_extreme_jvp)
def _(result, result_bar, a, d, axis, keepdims, extreme):
    return None, _full_T(_extreme_bar(result_bar, a, axis, keepdims, extreme), d, a), None, None, None


@tangent(_cumsum_bar)
def _(result, g, a, axis, cumulated, g_dot):
    return _cumsum_bar(_full(g_dot, g), a, axis, cumulated)


@adjoint(_cumsum_bar)
def _(result, result_bar, g, a, axis, cumulated):
    return unbroadcast(np.cumsum(result_bar, axis=axis), g), None, None, None


@tangent(_cumprod_bar)
def _(result, g, a, axis, cumulated, g_dot, a_dot, cumulated_dot):
    return _cumprod_bar_jvp(g, a, axis, cumulated, g_dot, a_dot, cumulated_dot)


@adjoint(_cumprod_bar)
def _(result, result_bar, g, a, axis, cumulated):
    return (_cumprod_bar_adj(g, a, axis, cumulated, result_bar, 0),
            _cumprod_bar_adj(g, a, axis, cumulated, result_bar, 1), None,
            _cumprod_bar_adj(g, a, axis, cumulated, result_bar, 2))


@tangent(_div_or_zero)
def _(result, a, b, a_dot, b_dot):
    return _div_or_zero(a_dot, b) - result * _div_or_zero(b_dot, b)


@adjoint(_div_or_zero)
def _(result, result_bar, a, b):
    return (unbroadcast(_div_or_zero(result_bar, b), a),
            unbroadcast(-result_bar * _div_or_zero(result, b), b))


def _cumprod_jvp_parts(a, d, axis, result):
    """(d, a, result) with the cumulated axis last, and a function putting it back."""
    x, back = _cumprod_terms(a, axis)
    if not np.all(x != 0):
        raise NotDifferentiable("diffc: second derivative of cumprod at an argument with zeros "
                                "is not supported")
    dd = _full(d, a)
    dm = np.moveaxis(dd, axis, -1) if axis is not None else np.ravel(dd)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    return dm, x, rm, back


def _cumprod_jvp_da(a, d, axis, result, a_dot):
    """The part of _cumprod_jvp's tangent from a: -result * cumsum(d a_dot / a^2)."""
    dm, x, rm, back = _cumprod_jvp_parts(a, d, axis, result)
    am = _cumprod_jvp_parts(a, a_dot, axis, result)[0]
    return back(-rm * np.cumsum(dm * am / (x * x), axis=-1))


def _cumprod_jvp_dr(a, d, axis, result, result_dot):
    """The part of _cumprod_jvp's tangent from the cumulated product."""
    dm, x, rm, back = _cumprod_jvp_parts(a, d, axis, result)
    rd = _bcast(result_dot, np.shape(result))
    rdm = np.moveaxis(rd, axis, -1) if axis is not None else np.ravel(rd)
    return back(rdm * np.cumsum(dm / x, axis=-1))


def _cumprod_jvp_adj(a, d, axis, result, rbar, which):
    """Adjoint of _cumprod_jvp in a (which=0) or the cumulated product (which=1)."""
    dm, x, rm, back = _cumprod_jvp_parts(a, d, axis, result)
    r = _bcast(rbar, np.shape(result))
    Rm = np.moveaxis(r, axis, -1) if axis is not None else np.ravel(r)
    if which == 0:
        return np.reshape(back(-dm / (x * x) * _rcumsum(Rm * rm)), np.shape(a))
    return unbroadcast(np.reshape(back(Rm * np.cumsum(dm / x, axis=-1)), np.shape(result)), result)


@tangent(_cumprod_jvp)
def _(result, a, d, axis, cumulated, a_dot, d_dot, cumulated_dot):
    return (_cumprod_jvp(a, d_dot, axis, cumulated) + _cumprod_jvp_da(a, d, axis, cumulated, a_dot)
            + _cumprod_jvp_dr(a, d, axis, cumulated, cumulated_dot))


@adjoint(_cumprod_jvp)
def _(result, result_bar, a, d, axis, cumulated):
    return (_cumprod_jvp_adj(a, d, axis, cumulated, result_bar, 0),
            _full_T(_cumprod_bar(result_bar, a, axis, cumulated), d, a), None,
            _cumprod_jvp_adj(a, d, axis, cumulated, result_bar, 1))


# _masked_mean_bar is linear in g; its transpose is the masked mean itself
@tangent(_masked_mean_bar)
def _(result, g, a, axis, keepdims, where, g_dot):
    return _masked_mean_bar(_bcast(g_dot, np.shape(g)), a, axis, keepdims, where)


@adjoint(_masked_mean_bar)
def _(result, result_bar, g, a, axis, keepdims, where):
    return (unbroadcast(np.mean(result_bar, axis=axis, keepdims=keepdims, where=np.broadcast_to(where, np.shape(a))), g),
            None, None, None, None)


# --- prod: the third-derivative tensor ----------------------------------------

def _prod_last(a, axis, *vs):
    """(a, vs) as float arrays with the reduced axes flattened last, and a function putting
    a result shaped like that back into the shape of a."""
    a = _arr(a)
    a = a.astype(np.result_type(a.dtype, np.float64))
    vs = [_arr(_bcast(0.0 if _zero(v) else v, a.shape)).astype(a.dtype) for v in vs]
    nd = a.ndim
    axes = _norm_axes(axis, nd)
    keep = [k for k in range(nd) if k not in axes]
    perm = keep + list(axes)
    tshape = tuple(a.shape[k] for k in perm)
    flat = tshape[:len(keep)] + (-1,)

    def back(y):
        return np.transpose(np.reshape(y, tshape), tuple(int(k) for k in np.argsort(perm)))
    return np.reshape(np.transpose(a, perm), flat), [np.reshape(np.transpose(v, perm), flat) for v in vs], back


def _prod_hvp_last(t, vt):
    """H v along the last axis (see _prod_hvp), exact with zeros, without writes in place."""
    n = t.shape[-1]
    cols = []
    for i in range(n):
        b = np.where(np.arange(n) == i, 1.0, t)
        oth = _prod_others(b, -1)
        cols.append(np.sum(vt * oth, axis=-1) - vt[..., i] * oth[..., i])
    return np.stack(cols, axis=-1)


def _prod_t3(a, u, v, axis):
    """T(u, v) for the third-derivative tensor T of prod(a, axis): out_i = sum over distinct
    j, m != i of u_j v_m prod_{k not in {i, j, m}} a_k (exact with zeros)."""
    a0 = a
    if np.ndim(a) == 0 or _zero(u) or _zero(v):
        return np.zeros(np.shape(a0))
    t, (ut, vt), back = _prod_last(a, axis, u, v)
    n = t.shape[-1]
    if not is_duck_array(t) and np.all(t != 0):
        # P / a_i [(SU - U_i)(SV - V_i) - (SUV - U_i V_i)] with U = u / a, V = v / a
        P = np.prod(t, axis=-1, keepdims=True)
        U, V = ut / t, vt / t
        SU, SV, SUV = [np.sum(y, axis=-1, keepdims=True) for y in (U, V, U * V)]
        return back(P / t * ((SU - U) * (SV - V) - (SUV - U * V)))
    cols = []
    for i in range(n):
        mask = np.arange(n) == i
        b = np.where(mask, 1.0, t)
        ui, vi = np.where(mask, 0.0, ut), np.where(mask, 0.0, vt)
        cols.append(np.sum(vi * _prod_hvp_last(b, ui), axis=-1))
    return back(np.stack(cols, axis=-1))


@tangent(_prod_hvp)
def _(result, a, v, axis, a_dot, v_dot):
    return _prod_hvp(a, v_dot, axis) + _prod_t3(a, v, _full(a_dot, a), axis)


@adjoint(_prod_hvp)
def _(result, result_bar, a, v, axis):
    return (_like(_prod_t3(a, v, result_bar, axis), a), unbroadcast(_prod_hvp(a, result_bar, axis), v), None)


# --- cumprod (arguments without zeros, like the second-order rules) ---------------
# On the cumulated axis (moved last) with x = a, both helpers are one of
#   P(u, v, w) = -u rcumsum(v w) / x^2        Q(u, v) = cumsum(u / x) v
# _cumprod_bar_adj(g, a, axis, result, rbar, which): P(rbar, g, result) (which=1),
#   Q(rbar, result) (0), Q(rbar, g) (2);  _cumprod_jvp_adj(a, d, axis, result, rbar, which):
#   P(d, rbar, result) (0), Q(d, rbar) (1).
_CP_FORMS = {("bar", 1): ("P", "rbar", "g", "result"), ("bar", 0): ("Q", "rbar", "result"),
             ("bar", 2): ("Q", "rbar", "g"), ("jvp", 0): ("P", "d", "rbar", "result"),
             ("jvp", 1): ("Q", "d", "rbar")}


def _cp_move(y, axis, shape):
    y = _bcast(0.0 if _zero(y) else y, shape)
    return np.moveaxis(y, axis, -1) if axis is not None else np.ravel(y)


def _cp_back(y, axis, shape):
    return np.reshape(y, shape) if axis is None else np.moveaxis(y, -1, axis)


def _cp_shapes(kind, a, result):
    """The shape of each argument (with axis=None the cumulated product is flat, a is not)."""
    sa, sr = np.shape(a), np.shape(result)
    return {"a": sa, "d": sa, "g": sr, "result": sr, "rbar": sa if kind == "bar" else sr}


def _cp_setup(kind, which, a, axis, vals):
    form, *slots = _CP_FORMS[(kind, which)]
    shapes = _cp_shapes(kind, a, vals["result"])
    x = _cp_move(_arr(a), axis, shapes["a"])
    if not np.all(x != 0):
        raise NotDifferentiable("diffc: third derivative of cumprod at an argument with zeros "
                                "is not supported")
    out_shape = shapes["a"] if form == "P" else shapes["result"]
    return form, slots, shapes, out_shape, x, [_cp_move(vals[s], axis, shapes[s]) for s in slots]


def _cp_dot(kind, which, a, axis, vals, dots):
    """Tangent of the helper (before its final unbroadcast) for the tangents dots (by name, and 'a')."""
    form, slots, shapes, out_shape, x, U = _cp_setup(kind, which, a, axis, vals)
    dU = [_cp_move(dots.get(s, 0.0), axis, shapes[s]) for s in slots]
    dx = _cp_move(dots.get("a", 0.0), axis, shapes["a"])
    if form == "P":
        (u, v, w), (du, dv, dw) = U, dU
        c = _rcumsum(v * w)
        out = -(du * c + u * _rcumsum(dv * w + v * dw)) / (x * x) + 2.0 * u * c * dx / x ** 3
    else:
        (u, v), (du, dv) = U, dU
        out = np.cumsum(du / x - u * dx / (x * x), axis=-1) * v + np.cumsum(u / x, axis=-1) * dv
    return _cp_back(out, axis, out_shape)


def _cp_T(kind, which, a, axis, vals, B):
    """Adjoints (by name, and 'a'; full shape) of the helper for the cotangent B."""
    form, slots, shapes, out_shape, x, U = _cp_setup(kind, which, a, axis, vals)
    Bm = _cp_move(B, axis, out_shape)
    bars = {}
    if form == "P":
        u, v, w = U
        c = _rcumsum(v * w)
        cs = np.cumsum(-Bm * u / (x * x), axis=-1)
        parts = [-Bm * c / (x * x), cs * w, cs * v]
        bars["a"] = 2.0 * Bm * u * c / x ** 3
    else:
        u, v = U
        s = _rcumsum(Bm * v)
        parts = [s / x, Bm * np.cumsum(u / x, axis=-1)]
        bars["a"] = -s * u / (x * x)
    for name, part in zip(slots, parts):
        bars[name] = bars.get(name, 0.0) + part
    return {k: _cp_back(y, axis, shapes[k]) for k, y in bars.items()}


def _cumprod_bar_adj_dot(g, a, axis, result, rbar, which, g_dot, a_dot, result_dot, rbar_dot):
    out = _cp_dot("bar", which, a, axis, {"g": g, "result": result, "rbar": rbar},
                  {"g": g_dot, "a": a_dot, "result": result_dot, "rbar": rbar_dot})
    if which == 1:
        return np.reshape(out, np.shape(a))
    return unbroadcast(out, g if which == 0 else result)


def _cumprod_bar_adj_T(g, a, axis, result, rbar, which, B):
    """Adjoints of _cumprod_bar_adj in (g, a, result, rbar)."""
    if _zero(B):
        return 0.0, 0.0, 0.0, 0.0
    bars = _cp_T("bar", which, a, axis, {"g": g, "result": result, "rbar": rbar}, B)
    return (unbroadcast(bars.get("g", 0.0), g), _like(np.reshape(bars["a"], np.shape(a)), a),
            unbroadcast(bars.get("result", 0.0), result), unbroadcast(bars.get("rbar", 0.0), rbar))


@tangent(_cumprod_bar_adj)
def _(result, g, a, axis, cumulated, rbar, which, g_dot, a_dot, cumulated_dot, rbar_dot):
    return _cumprod_bar_adj_dot(g, a, axis, cumulated, rbar, which, g_dot, a_dot, cumulated_dot, rbar_dot)


@adjoint(_cumprod_bar_adj)
def _(result, result_bar, g, a, axis, cumulated, rbar, which):
    g_a_c_r = _cumprod_bar_adj_T(g, a, axis, cumulated, rbar, which, result_bar)
    return g_a_c_r[0], g_a_c_r[1], None, g_a_c_r[2], g_a_c_r[3], None


def _cumprod_jvp_adj_dot(a, d, axis, result, rbar, which, a_dot, d_dot, result_dot, rbar_dot):
    out = _cp_dot("jvp", which, a, axis, {"d": _full(d, a), "result": result, "rbar": rbar},
                  {"d": d_dot, "a": a_dot, "result": result_dot, "rbar": rbar_dot})
    if which == 0:
        return np.reshape(out, np.shape(a))
    return unbroadcast(np.reshape(out, np.shape(result)), result)


def _cumprod_jvp_adj_T(a, d, axis, result, rbar, which, B):
    """Adjoints of _cumprod_jvp_adj in (a, d, result, rbar)."""
    if _zero(B):
        return 0.0, 0.0, 0.0, 0.0
    bars = _cp_T("jvp", which, a, axis, {"d": _full(d, a), "result": result, "rbar": rbar}, B)
    return (_like(np.reshape(bars["a"], np.shape(a)), a), _full_T(bars.get("d", 0.0), d, a),
            unbroadcast(bars.get("result", 0.0), result), unbroadcast(bars.get("rbar", 0.0), rbar))


@tangent(_cumprod_jvp_adj)
def _(result, a, d, axis, cumulated, rbar, which, a_dot, d_dot, cumulated_dot, rbar_dot):
    return _cumprod_jvp_adj_dot(a, d, axis, cumulated, rbar, which, a_dot, d_dot, cumulated_dot, rbar_dot)


@adjoint(_cumprod_jvp_adj)
def _(result, result_bar, a, d, axis, cumulated, rbar, which):
    a_d_c_r = _cumprod_jvp_adj_T(a, d, axis, cumulated, rbar, which, result_bar)
    return a_d_c_r[0], a_d_c_r[1], None, a_d_c_r[2], a_d_c_r[3], None


# _sum_bar and _extreme_bar are linear in g.
linear(_sum_bar)


@adjoint(_sum_bar)
def _(result, result_bar, g, a, axis, keepdims):
    return unbroadcast(np.sum(_full(result_bar, a), axis=axis, keepdims=keepdims), g), None, None, None


linear(_extreme_bar)


# What the optimizer may assume of these helpers (diffc/effects.py).
effects.declare(_sum_bar, _sum_bar_times, _extreme_bar, facts=(effects.LINEAR_IN_FIRST,))
effects.declare(_sum_bar_times, facts=(effects.FRESH, effects.NO_WRITES))
