"""The check that lets a gradient read float64 vectors as Python floats
(optimize/read_float_items.py), and the real part of a complex adjoint added into a
real one (optimize/keep_real_adjoints_real.py), and the adjoints of writes into 0-d and
integer arrays (transform/reverse.py item_write), the zero-adjoint tests (nonzero,
nonzero_either), a number's items (x[None]) and a gradient's zeros at NaN entries
(nan_input_bar): kept apart from runtime.py, which they are re-exported from. Imports nothing but numpy and the standard library."""
import math
import numbers

import numpy as np

_QUIET_FP = ("ignore", "warn", "print", "log")


def float64_world(*values):
    """Whether a gradient may read float64 vectors as Python floats (float_items):
    every value is a Python or NumPy float64, int or bool, or an ndarray of those
    dtypes, where a Python float and a NumPy float64 promote alike (NEP 50 makes
    ``float32_array * 0.1`` float32 but ``float32_array * np.float64(0.1)``
    float64), and NumPy's error state neither raises nor calls on overflow,
    underflow or invalid results (float arithmetic never reports them)."""
    for v in values:
        t = type(v)
        if t is float or t is int or t is bool or t is np.float64 or v is None:
            continue
        if t is np.ndarray:
            if v.dtype == np.float64 or v.dtype.kind in "biu":
                continue
            return False
        if not isinstance(v, (np.integer, np.bool_)):
            return False
    errors = np.geterr()
    return errors["over"] in _QUIET_FP and errors["invalid"] in _QUIET_FP and errors["under"] in _QUIET_FP


def disjoint(a, b):
    """Whether two arrays share no memory (the numba form's elementwise loops,
    numba_loops.py, write into a only when every other operand b is apart from it)."""
    return not np.may_share_memory(a, b)


def real_where_real(g, dtype):
    """g, or its real part when g is complex and dtype real: what ``b[i] += g`` adds into an
    adjoint array b of that dtype (optimize/keep_real_adjoints_real.py).  The cotangent of a real
    value is real (rules/complex_rules.py)."""
    if dtype.kind == "c":
        return g
    if type(g) is np.ndarray:
        return np.real(g).copy() if g.dtype.kind == "c" else g
    if isinstance(g, (complex, np.complexfloating)):
        return g.real
    return g


def is_whole(index):
    """Whether index is ``...`` or ``()``, which select a whole array (also a 0-d one)."""
    return index is Ellipsis or (type(index) is tuple and not index)


def newaxes_only(index):
    """Whether index is made of ``None`` (np.newaxis) and ``...`` only, with at least one
    None: it adds unit axes to a 0-d value (a number's ``a[None]`` is an array of shape (1,))."""
    if index is None:
        return True
    return type(index) is tuple and any(i is None for i in index) \
        and all(i is None or i is Ellipsis for i in index)


def buffer_part(g, bar):
    """g where the adjoint bar is a buffer (an array, list or dict, which take_item and
    zero_item zero in place), else 0.0: the adjoint of a 0-d array is a number, which
    `y_bar = buffer_part(y_bar, y_bar)` zeroes after a write ``y[...] = v`` took it."""
    if isinstance(bar, (numbers.Number, np.generic)):
        return 0.0
    return g


def written_bar(g, y):
    """The adjoint g reaching the value written by ``y[index] = v``, or 0.0 when y is an
    integer or boolean array: NumPy truncates what it writes there (piecewise constant)."""
    if isinstance(y, np.ndarray) and y.dtype.kind in "iub":
        return 0.0
    return g


def nan_input_bar(bar, x, out):
    """The gradient bar of the argument x with 0 where x is NaN, when the function's value out
    is not NaN: the derivative with respect to a NaN entry is 0 whatever the code (x + h is
    NaN for every h, so f does not change: what finite differences give), where the chain rule
    gave NaN (0 * NaN, the NaN met a product on its way to a NaN-ignoring reduction,
    ``np.nansum(x ** 2)``; JAX and autograd give NaN there).  Written by pipeline.py only in
    functions that call NaN-ignoring reductions (elsewhere NaN propagates as NumPy's does).
    Costs one sum of bar when bar has no NaN."""
    if type(bar) is not np.ndarray or type(x) is not np.ndarray or bar.shape != x.shape \
            or x.dtype.kind != "f" or bar.dtype.kind != "f" or not bar.size or math.isfinite(bar.sum()):
        return bar
    if not np.all(np.isfinite(out)):
        return bar
    missing = np.isnan(x)
    return np.where(missing, bar.dtype.type(0), bar) if missing.any() else bar


def nonzero(bar):
    """False only for the plain zero adjoint 0.0 (nothing has flowed back yet)."""
    return type(bar) is not float or bar != 0.0


def number_item(bar, index):
    """runtime.item of a number bar (a 0-d value's adjoint or tangent, or the zero 0.0)."""
    if is_whole(index):
        return bar
    if newaxes_only(index) and isinstance(bar, (numbers.Number, np.generic)) and bar != 0:
        return np.asarray(bar)[index]           # a number's tangent given unit axes (x[None])
    return 0.0


def number_item_bar(g, container, index, duck):
    """runtime.item_bar when container is not a container (a number) or g is zero."""
    zero = isinstance(g, (numbers.Number, np.generic)) and not isinstance(g, np.ndarray) and g == 0
    if newaxes_only(index) and isinstance(container, (numbers.Number, np.generic)) and not zero:
        return np.sum(g)                        # a number's [None]: its unit axes summed away
    return g if is_whole(index) and not duck else 0.0   # a number's [...]: itself


def nonzero_either(bar, bar_dot):
    """runtime.nonzero(bar) in differentiated-again code: also True while bar's tangent is not
    zero (an adjoint computed as 0.0 may still change: transform/forward.py)."""
    if type(bar) is not float or bar != 0.0:
        return True
    return not (isinstance(bar_dot, (numbers.Number, np.generic)) and bar_dot == 0)
