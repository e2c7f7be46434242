"""Rules for Python builtins: abs, min, max, sum, float; int/len/range/round pass through."""

import builtins

import numpy as np

from . import adjoint, tangent, nondiff
from ..checks import warn_tie
from .complex_rules import abs_slope, real_cotangent, real_if_real
from ..runtime import ListBar, unbroadcast


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


def _sum_bars(g, items):
    return ListBar(unbroadcast(g, v) for v in items)


def _sum_dot(dots):
    if isinstance(dots, (list, tuple)):
        total = 0.0
        for d in dots:
            total = total + d
        return total
    return dots


nondiff(builtins.slice)         # a slice's bounds are ints, never differentiated
nondiff(builtins.int, builtins.len, builtins.range, builtins.round, builtins.bool,
        builtins.isinstance, builtins.print, builtins.str, builtins.repr, builtins.enumerate,
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


@adjoint(builtins.list, builtins.tuple)
def _(result, result_bar, iterable):
    return _sequence_bar(result_bar)


@tangent(builtins.list, builtins.tuple)
def _(result, iterable, iterable_dot):
    return _sequence_dot(iterable_dot)


def _sequence_bar(g):
    """list(x) / tuple(x) of a list or tuple: the adjoint passes through element by element."""
    return ListBar(g) if isinstance(g, (list, tuple)) else g


def _sequence_dot(d):
    return list(d) if isinstance(d, (list, tuple)) else d


# Helpers optimize/float_items.py knows to carry Python floats through (public names).
extremum_bars = _extremum_bars
extremum_dot = _extremum_dot
