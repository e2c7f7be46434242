"""Rules for Python builtins: abs, min, max, sum, float; int/len/range/round pass through."""

import builtins
import math

import numpy as np

from .. import effects
from . import adjoint, linear, nondiff, tangent
from ..checks import warn_tie
from .complex_rules import abs_slope, real_cotangent, real_if_real
from ..runtime import ListBar, broadcast_like, unbroadcast
from .shared import full as _full, seq as _seq


@adjoint(builtins.abs)
def _(result, result_bar, x):
    return real_cotangent(result_bar) * abs_slope(x)


@tangent(builtins.abs)
def _(result, x, x_dot):
    return real_if_real(x_dot * abs_slope(x), result)


@adjoint(builtins.float)
def _(result, result_bar, x):
    return result_bar


@tangent(builtins.float)
def _(result, x, x_dot):
    return x_dot


# complex(a, b) = a + 1j b, complex-linear in (a, b) (complex_rules.py's convention)
@adjoint(builtins.complex)
def _(result, result_bar, real=0, imag=0):
    return result_bar, result_bar * 1j


@tangent(builtins.complex)
def _(result, real=0, imag=0, real_dot=0.0, imag_dot=0.0):
    return real_dot + imag_dot * 1j


@adjoint(builtins.max, builtins.min)
def _(result, result_bar, *args):
    return _extremum_bars(result, result_bar, args)


@tangent(builtins.max, builtins.min)
def _(result, *args_and_dots):
    return _extremum_dot(result, args_and_dots)


def _extremum_bars(result, g, args):
    """Adjoint of max/min: the whole gradient goes to the first argument equal to the result."""
    if len(args) == 1:
        items = list(args[0])
        bars = [0.0] * len(items)
        for k, v in enumerate(items):
            if v == result:
                bars[k] = g
                if any(w == result for w in items[k + 1:]):
                    warn_tie("max()/min()")
                break
        if isinstance(args[0], np.ndarray):
            # min(x) over an array's first axis: an array adjoint (a ListBar would not add to it)
            out = np.zeros(np.shape(args[0]), dtype=np.result_type(args[0], float))
            for k, b in enumerate(bars):
                if not (isinstance(b, float) and b == 0.0):
                    out[k] = b
            return (out,)
        return (ListBar(bars),)
    bars = [0.0] * len(args)
    for k, v in enumerate(args):
        if v == result:
            bars[k] = g
            if any(w == result for w in args[k + 1:]):
                warn_tie("max()/min()")
            break
    return tuple(bars)


def _extremum_dot(result, args_and_dots):
    n = len(args_and_dots) // 2
    args, dots = args_and_dots[:n], args_and_dots[n:]
    if n == 1:
        for v, d in zip(args[0], dots[0]):
            if v == result:
                return d
        return 0.0
    for v, d in zip(args, dots):
        if v == result:
            return d
    return 0.0


@adjoint(builtins.sum)
def _(result, result_bar, iterable, start=0):
    return _sum_bars(result_bar, iterable), unbroadcast(result_bar, start)


@tangent(builtins.sum)
def _(result, iterable, start=0, iterable_dot=0.0, start_dot=0.0):
    return _sum_dot(iterable_dot) + start_dot


# math.fsum(iterable): the same derivative as sum() (its correct rounding is not differentiated)
@adjoint(math.fsum)
def _(result, result_bar, iterable):
    return (_sum_bars(result_bar, iterable),)


@tangent(math.fsum)
def _(result, iterable, iterable_dot):
    return _sum_dot(iterable_dot)


def _sum_bars(g, items):
    if isinstance(items, np.ndarray):
        # sum() over an array adds its rows: each row gets the result's adjoint
        return np.broadcast_to(unbroadcast(g, items[0]) if len(items) else g,
                               items.shape).astype(np.result_type(items, float))
    return ListBar(unbroadcast(g, v) for v in items)


def _sum_dot(dots):
    if isinstance(dots, np.ndarray):
        return np.sum(dots, axis=0)         # the rows' tangents, added as sum() adds the rows
    if isinstance(dots, (list, tuple)):
        total = 0.0
        for d in dots:
            total = total + d
        return total
    return dots


nondiff(builtins.slice)         # a slice's bounds are ints, never differentiated
nondiff(builtins.int, builtins.len, builtins.range, builtins.round, builtins.bool,
        builtins.isinstance, builtins.issubclass, builtins.print, builtins.str, builtins.repr, builtins.enumerate,
        builtins.type, builtins.any, builtins.all, builtins.hash, builtins.id, builtins.slice)


# zip and enumerate group elements into tuples: their adjoints take the tuples apart.
@adjoint(builtins.zip)
def _(result, result_bar, *iterables):
    return _zip_bars(result_bar, iterables)


@tangent(builtins.zip)
def _(result, iterables_dot, *iterables):
    return list(zip(*iterables_dot))


@adjoint(builtins.enumerate)
def _(result, result_bar, iterable, start=0):
    return _zip_bars(result_bar, (range(len(iterable)), iterable))[1], None


@tangent(builtins.enumerate)
def _(result, iterable, start=0, iterable_dot=0.0, start_dot=0.0):
    return [(0, d) for d in iterable_dot]


def _zip_bars(g, iterables):
    """The adjoint of each zipped sequence: position k of every tuple adjoint, zero-padded."""
    bars = []
    tuples = list(g) if isinstance(g, (list, tuple)) else []
    for k, seq in enumerate(iterables):
        items = [t[k] if isinstance(t, (list, tuple)) else 0.0 for t in tuples]
        if isinstance(seq, np.ndarray):
            bar = np.zeros(seq.shape, dtype=seq.dtype if seq.dtype.kind in "fc" else np.float64)
            for i, v in enumerate(items):
                bar[i] += v
            bars.append(bar)
        else:
            bars.append(ListBar(items + [0.0] * (len(seq) - len(items))))
    return tuple(bars)


_zip_bars.__diffc_transparent__ = True          # second order: diffc reads its body


@adjoint(builtins.list, builtins.tuple)
def _(result, result_bar, iterable):
    return _sequence_bar_of(result_bar, iterable)


@tangent(builtins.list, builtins.tuple)
def _(result, iterable, iterable_dot):
    return _sequence_dot_of(iterable_dot, iterable)


def _sequence_bar(g):
    """list(x) / tuple(x) of a list or tuple: the adjoint passes through element by element."""
    return ListBar(g) if isinstance(g, (list, tuple)) else g


def _sequence_bar_of(g, iterable):
    """list(x) / tuple(x): the adjoint passes through element by element, and the element
    adjoints of an array x (its rows) are stacked into x's shape."""
    if isinstance(g, (list, tuple)) and not isinstance(iterable, (list, tuple)) and np.ndim(iterable) > 0:
        shape = np.shape(iterable)
        if len(g) == 0:
            return np.zeros(shape)
        return np.stack([np.broadcast_to(np.asarray(gi), shape[1:]) for gi in g])
    return _sequence_bar(g)


def _sequence_dot_of(d, iterable):
    """list(x) / tuple(x): the tangent element by element; for an array x, the list of the
    rows of its tangent (a tangent kept whole would be summed as one item by sum())."""
    if not isinstance(d, (list, tuple)) and not isinstance(iterable, (list, tuple)) and np.ndim(iterable) > 0 \
            and not (np.ndim(d) == 0 and d == 0):
        return list(_full(d, iterable))
    return _sequence_dot(d)


def _sequence_dot(d):
    return list(d) if isinstance(d, (list, tuple)) else d


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------
def _extremum_bars_T(result, args, rbar):
    """Adjoint of _extremum_bars in g: the adjoint of the selected entry."""
    if len(args) == 1:
        r = _seq(rbar, 1)[0]
        items = list(args[0])
        r = _seq(r, len(items))
    else:
        items = list(args)
        r = _seq(rbar, len(items))
    for v, rk in zip(items, r):
        if v == result:
            return rk
    return 0.0


def _extremum_dot_jvp(result, args_and_dots, args_and_dots_dot):
    n = len(args_and_dots) // 2
    dd = _seq(args_and_dots_dot, 2 * n)
    return _extremum_dot(result, tuple(args_and_dots[:n]) + tuple(dd[n:]))


def _extremum_dot_T(result, args_and_dots, rbar):
    n = len(args_and_dots) // 2
    args = args_and_dots[:n]
    bars = [0.0] * (2 * n)
    if n == 1:
        inner = [0.0] * len(args[0])
        for k, v in enumerate(args[0]):
            if v == result:
                inner[k] = rbar
                break
        bars[1] = ListBar(inner)
        return ListBar(bars)
    for k, v in enumerate(args):
        if v == result:
            bars[n + k] = rbar
            break
    return ListBar(bars)


def _sum_bars_T(rbar, g, items):
    total = 0.0
    for r in _seq(rbar, len(items)):
        total = total + r
    return unbroadcast(broadcast_like(total, g) if np.ndim(total) < np.ndim(g) else total, g)


# max()/min(): the selection is piecewise constant in the arguments and the result
@tangent(_extremum_bars)
def _(result, extreme, g, args, g_dot):
    return _extremum_bars(extreme, g_dot, args)


@adjoint(_extremum_bars)
def _(result, result_bar, extreme, g, args):
    return None, _extremum_bars_T(extreme, args, result_bar), None


@tangent(_extremum_dot)
def _(result, extreme, args_and_dots, args_and_dots_dot):
    return _extremum_dot_jvp(extreme, args_and_dots, args_and_dots_dot)


@adjoint(_extremum_dot)
def _(result, result_bar, extreme, args_and_dots):
    return None, _extremum_dot_T(extreme, args_and_dots, result_bar)


@tangent(_sum_bars)
def _(result, g, items, g_dot):
    return _sum_bars(_full(g_dot, g), items)


@adjoint(_sum_bars)
def _(result, result_bar, g, items):
    return _sum_bars_T(result_bar, g, items), None


linear(_sum_dot)


@adjoint(_sum_dot)
def _(result, result_bar, dots):
    return _sum_bars(result_bar, dots) if isinstance(dots, (list, tuple, np.ndarray)) else result_bar


linear(_sequence_bar)


@adjoint(_sequence_bar)
def _(result, result_bar, g):
    return _sequence_bar(result_bar)


linear(_sequence_bar_of)


@adjoint(_sequence_bar_of)
def _(result, result_bar, g, iterable):
    return _sequence_bar_of_T(result_bar, g), None


def _sequence_bar_of_T(rbar, g):
    """Adjoint of _sequence_bar_of in g: the rows of rbar for a list g."""
    if isinstance(g, (list, tuple)) and isinstance(rbar, (list, tuple)):
        return ListBar(rbar)            # (its items may be tuples of mixed shapes: no np.ndim)
    if isinstance(g, (list, tuple)) and np.ndim(rbar) > 0:
        return ListBar(list(rbar))
    return _sequence_bar(rbar)


_sequence_bar_of_T.__diffc_transparent__ = True
linear(_sequence_dot)
linear(_sequence_dot_of)


@adjoint(_sequence_dot_of)
def _(result, result_bar, d, iterable):
    return _sequence_bar_of(result_bar, iterable), None


@adjoint(_sequence_dot)
def _(result, result_bar, d):
    return _sequence_bar(result_bar)


# Third order through sum() of a list: the transpose of _sum_bars is itself linear.
@adjoint(_sum_bars_T)
def _(result, result_bar, rbar, g, items):
    return _sum_bars(result_bar, items), None, None


linear(_sum_bars_T)


# They compare their arguments and hand one of them (or 0.0) back, inside a tuple for the
# max/min adjoint: floats pass through as they came (optimize/read_float_items.py).
effects.declare(_extremum_bars, _extremum_dot, facts=(effects.RETURNS_ARGUMENTS,))
