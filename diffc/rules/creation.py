"""Rules for creation, copies and casts (full, array, asarray, copy, astype, linspace,
arange, logspace), and the NumPy functions whose result carries no derivative (creation
from shapes, indices, predicates, rounding, random draws: registered ``nondiff``).

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions and methods (astype: the gradient is cast back to ``a``'s dtype, an integer
result carries none), their helpers and rules of any order for the helpers.
Conventions: rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from ..runtime import ListBar, broadcast_like, is_duck_array, is_zero, unbroadcast
from .shared import (bcast as _bcast, arr as _arr, zeros_of as _zeros_of, full as _full,
                     like as _like, cast_like as _cast_like, full_T as _full_T)


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


# --- casts and creation ------------------------------------------------------

def _astype_bar(g, a, result):
    if _arr(result).dtype.kind not in "fc":
        return _zeros_of(a) if np.ndim(a) else 0.0
    return _cast_like(g, a)


def _astype_jvp(a_dot, a, result):
    r = _arr(result)
    if r.dtype.kind not in "fc":
        return _zeros_of(r) if r.ndim else 0.0
    d = _full(a_dot, a)
    return _arr(d).astype(r.dtype) if isinstance(result, np.ndarray) or is_duck_array(result) else d


def _array_bar(g, obj):
    """Adjoint of np.array(obj): result_bar in obj's structure (ListBar for lists)."""
    if np.ndim(g) != np.ndim(obj):
        # a number stands for that number everywhere (a scalar adjoint of a broadcast value,
        # as in reverse over reverse of np.asarray(x) / s); otherwise the same entries reshaped
        g = _full(g, obj) if np.size(g) == 1 and np.size(obj) != 1 else np.reshape(g, np.shape(obj))
    if isinstance(obj, (list, tuple)):
        return _like(g, obj)
    return _cast_like(g, obj)


def _array_jvp(obj, obj_dot, result):
    d = _full(obj_dot, obj)
    d = np.reshape(d, np.shape(result))
    r = _arr(result)
    if r.dtype.kind in "fc" and _arr(d).dtype != r.dtype:
        d = _arr(d).astype(r.dtype)
    return d


def _copy_jvp(a_dot, a):
    """Tangent of a fresh copy: a fresh array (the copy may be written in place)."""
    d = _full(a_dot, a)
    return d.copy() if is_duck_array(d) else np.array(d, copy=True)


def _fill_jvp(fill_value_dot, result):
    return _bcast(fill_value_dot, np.shape(result))


def _linspace_weights(start, stop, num, endpoint, axis, which):
    """Weights of start (which=0) or stop (which=1) in linspace, shaped like the result."""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    w = 1.0 - t if which == 0 else t
    nd = max(np.ndim(start), np.ndim(stop))
    ax = axis % (nd + 1)
    return np.reshape(w, (num,) + (1,) * (nd - ax))


def _linspace_bar(g, start, stop, num, endpoint, axis, which, retstep=False):
    """Adjoint of start (which=0) or stop (which=1); with retstep, g is that of the pair
    (samples, step), step = (stop - start) / (num - 1, or num without the endpoint)."""
    arg = start if which == 0 else stop
    if retstep:
        g_samples, g_step = (0.0, 0.0) if is_zero(g) else (g[0], g[1])
        return (_linspace_bar(g_samples, start, stop, num, endpoint, axis, which)
                + unbroadcast(g_step * _linspace_step_weight(num, endpoint, which), arg))
    if is_zero(g):
        return _zeros_of(arg) if np.ndim(arg) else 0.0
    nd = max(np.ndim(start), np.ndim(stop))
    ax = axis % (nd + 1)
    w = _linspace_weights(start, stop, num, endpoint, axis, which)
    return unbroadcast(np.sum(g * w, axis=ax), arg)


def _linspace_step_weight(num, endpoint, which):
    """d step / d start (which=0) or d stop (which=1); NaN where NumPy's step is NaN (num=1)."""
    div = num - 1 if endpoint else num
    return np.nan if div == 0 else (-1.0 if which == 0 else 1.0) / div


def _linspace_jvp(start, stop, d, num, endpoint, axis, which, retstep=False):
    """Tangent from d, that of start (which=0) or stop (which=1): of the samples, or with
    retstep of the pair (samples, step)."""
    nd = max(np.ndim(start), np.ndim(stop))
    ax = axis % (nd + 1)
    w = _linspace_weights(start, stop, num, endpoint, axis, which)
    samples = np.expand_dims(d, ax) * w
    if retstep:
        return ListBar([samples, d * _linspace_step_weight(num, endpoint, which)])
    return samples


def _arange_weights(result, stop, which):
    """d arange(start, stop, step) / d start (which=0), stop (1) or step (2), shaped like
    the result: ones, zeros, and 0, 1, ..., n-1; with stop None the one argument
    given is stop, so which=0 gives zeros."""
    n = np.size(result)
    if which == 2:
        return np.arange(n, dtype=np.float64)
    if which == 1 or stop is None:
        return np.zeros(n)
    return np.ones(n)


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


@adjoint(np.full)
def _(result, result_bar, shape, fill_value, dtype=None, order="C"):
    return None, unbroadcast(result_bar, fill_value)


@tangent(np.full)
def _(result, shape, fill_value, dtype=None, order="C", fill_value_dot=None):
    return _fill_jvp(fill_value_dot, result)


@adjoint(np.full_like)
def _(result, result_bar, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    return None, unbroadcast(result_bar, fill_value)


@tangent(np.full_like)
def _(result, a, fill_value, dtype=None, order="K", subok=True, shape=None, fill_value_dot=None):
    return _fill_jvp(fill_value_dot, result)


@adjoint(np.array)
def _(result, result_bar, object, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    return _array_bar(result_bar, object)


@tangent(np.array)
def _(result, object, dtype=None, copy=True, order="K", subok=False, ndmin=0, object_dot=None):
    return _array_jvp(object, object_dot, result)


@adjoint(np.asarray, np.asanyarray)
def _(result, result_bar, a, dtype=None, order=None):
    return _array_bar(result_bar, a)


@tangent(np.asarray, np.asanyarray)
def _(result, a, dtype=None, order=None, a_dot=None):
    return _array_jvp(a, a_dot, result)


@adjoint(np.ascontiguousarray)
def _(result, result_bar, a, dtype=None):
    return _array_bar(result_bar, a)


@tangent(np.ascontiguousarray)
def _(result, a, dtype=None, a_dot=None):
    return _array_jvp(a, a_dot, result)


@adjoint(np.copy, ("method", "copy"))
def _(result, result_bar, a, order="K", subok=False):
    return result_bar


@tangent(np.copy, ("method", "copy"))
def _(result, a, order="K", subok=False, a_dot=None):
    return _copy_jvp(a_dot, a)


# astype: the gradient is cast back to a's dtype; an integer result carries none
@adjoint(("method", "astype"))
def _(result, result_bar, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    return _astype_bar(result_bar, a, result)


@tangent(("method", "astype"))
def _(result, a, dtype, order="K", casting="unsafe", subok=True, copy=True, a_dot=None):
    return _astype_jvp(a_dot, a, result)


@adjoint(np.linspace)
def _(result, result_bar, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    return (_linspace_bar(result_bar, start, stop, num, endpoint, axis, 0, retstep),
            _linspace_bar(result_bar, start, stop, num, endpoint, axis, 1, retstep))


@tangent(np.linspace)
def _(result, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
      start_dot=None, stop_dot=None):
    return (_linspace_jvp(start, stop, start_dot, num, endpoint, axis, 0, retstep)
            + _linspace_jvp(start, stop, stop_dot, num, endpoint, axis, 1, retstep))


# arange(start, stop, step) = start + step * k: differentiable in start and step (its
# length, hence stop, is piecewise constant); with one argument, that argument is stop.
@adjoint(np.arange)
def _(result, result_bar, start, stop=None, step=None, dtype=None):
    return (np.sum(result_bar * _arange_weights(result, stop, 0)), None,
            np.sum(result_bar * _arange_weights(result, stop, 2)))


@tangent(np.arange)
def _(result, start, stop=None, step=None, dtype=None, start_dot=None, stop_dot=None, step_dot=None):
    return (start_dot * _arange_weights(result, stop, 0) + stop_dot * _arange_weights(result, stop, 1)
            + step_dot * _arange_weights(result, stop, 2))


# logspace = base ** linspace(start, stop, ...): the linspace rules, scaled by result * log(base)
@adjoint(np.logspace)
def _(result, result_bar, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return (_linspace_bar(result_bar * result * np.log(base), start, stop, num, endpoint, axis, 0),
            _linspace_bar(result_bar * result * np.log(base), start, stop, num, endpoint, axis, 1),
            None, None,
            unbroadcast(np.sum(result_bar * result * np.linspace(start, stop, num, endpoint, axis=axis)
                               / base), base))


@tangent(np.logspace)
def _(result, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0,
      start_dot=None, stop_dot=None, base_dot=None):
    return (_linspace_jvp(start, stop, start_dot, num, endpoint, axis, 0) * result * np.log(base)
            + _linspace_jvp(start, stop, stop_dot, num, endpoint, axis, 1) * result * np.log(base)
            + base_dot * result * np.linspace(start, stop, num, endpoint, axis=axis) / base)


nondiff(
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like, np.eye,
    np.identity, np.tri, np.indices, np.diag_indices, np.triu_indices,
    np.tril_indices, np.unravel_index, np.ravel_multi_index,
    np.shape, np.ndim, np.size, np.result_type, np.broadcast_shapes, np.iscomplexobj,
    np.isrealobj, np.isscalar,
    np.argmax, np.argmin, np.argsort, np.argpartition, np.lexsort, np.nonzero,
    np.flatnonzero, np.argwhere, np.searchsorted, np.digitize, np.count_nonzero,
    np.isnan, np.isfinite, np.isinf, np.isneginf, np.isposinf, np.isclose, np.allclose,
    np.array_equal, np.array_equiv, np.signbit, np.iscomplex, np.isreal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.all, np.any,
    np.sign, np.floor, np.ceil, np.rint, np.trunc, np.fix, np.round, np.around,
    np.floor_divide,
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.intp, np.bool_,
    np.random.rand, np.random.randn, np.random.randint, np.random.random,
    np.random.seed, np.random.default_rng,
    ("attr", "shape"), ("attr", "ndim"), ("attr", "size"), ("attr", "dtype"),
    ("attr", "itemsize"), ("attr", "nbytes"), ("attr", "strides"),
    ("method", "argmax"), ("method", "argmin"), ("method", "argsort"),
    ("method", "nonzero"), ("method", "all"), ("method", "any"), ("method", "round"),
    ("method", "searchsorted"),
)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_linspace_weights, _arange_weights)


@tangent(_astype_bar)
def _(result, g, a, cast, g_dot):
    return _astype_bar(_full(g_dot, g), a, cast)


@adjoint(_astype_bar)
def _(result, result_bar, g, a, cast):
    return unbroadcast(_astype_jvp(result_bar, a, cast), g), None, None


linear(_astype_jvp)


@adjoint(_astype_jvp)
def _(result, result_bar, d, a, cast):
    return _full_T(_astype_bar(result_bar, a, cast), d, a), None, None


def _bar_dot(g_dot, g):
    """The tangent of an adjoint g, filled to g's shape; g may be the plain zero 0.0 standing
    for an array (its tangent then already has the array's shape)."""
    if np.ndim(g) == 0 and np.ndim(g_dot) > 0:
        return g_dot
    return _full(g_dot, g)


_bar_dot.__diffc_transparent__ = True


@tangent(_array_bar)
def _(result, g, obj, g_dot):
    return _array_bar(_bar_dot(g_dot, g), obj)


@adjoint(_array_bar)
def _(result, result_bar, g, obj):
    return unbroadcast(_array_jvp(obj, result_bar, g), g), None


@tangent(_array_jvp)
def _(result, obj, d, arr, d_dot):
    return _array_jvp(obj, d_dot, arr)


@adjoint(_array_jvp)
def _(result, result_bar, obj, d, arr):
    return None, _full_T(_array_bar(result_bar, obj), d, obj), None


linear(_copy_jvp)


@adjoint(_copy_jvp)
def _(result, result_bar, d, a):
    return _full_T(result_bar, d, a), None


linear(_fill_jvp)


@adjoint(_fill_jvp)
def _(result, result_bar, d, filled):
    return unbroadcast(result_bar, d), None


@tangent(_linspace_bar)
def _(result, g, start, stop, num, endpoint, axis, which, retstep=False, g_dot=None):
    return _linspace_bar(g_dot if retstep else _full(g_dot, g), start, stop, num, endpoint, axis, which, retstep)


@adjoint(_linspace_bar)
def _(result, result_bar, g, start, stop, num, endpoint, axis, which, retstep=False):
    # the transpose (linear in g): with retstep g's adjoint is the pair (samples, step)
    return (_linspace_jvp(start, stop, result_bar, num, endpoint, axis, which, retstep) if retstep
            else unbroadcast(broadcast_like(_linspace_jvp(start, stop, result_bar, num, endpoint, axis, which), g), g),
            None, None, None, None, None, None, None)


@tangent(_linspace_jvp)
def _(result, start, stop, d, num, endpoint, axis, which, retstep=False, d_dot=None):
    return _linspace_jvp(start, stop, d_dot, num, endpoint, axis, which, retstep)


@adjoint(_linspace_jvp)
def _(result, result_bar, start, stop, d, num, endpoint, axis, which, retstep=False):
    return (None, None, unbroadcast(_linspace_bar(result_bar, start, stop, num, endpoint, axis, which, retstep), d),
            None, None, None, None, None)
