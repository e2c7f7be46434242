"""jit_runtime: numba implementations of the runtime helpers generated code calls.

Imported only by `diffc.jit`, and only when numba is installed.  For each
supported helper of `diffc.runtime` (and the rules' private adjoint helpers)
there is a stub function overloaded with `numba.extending.overload`: numba
picks the implementation from the argument types (a float adjoint or an
array adjoint), as the Python helper decides at run time.  Every
implementation computes the value the Python helper computes for the types
it accepts (float64 and int scalars, float64 arrays); for any other type
the overload returns None and numba reports a typing error, which
`diffc.jit` turns into a `JitUnsupported` naming the user's line.

`HELPERS` maps a Python helper object to its stub; `helper_for(obj)` looks
one up.
"""

import math

import numba
import numpy as np
from numba import types
from numba.extending import overload

from . import runtime
from . import runtime_calls
from . import runtime_checks
from . import runtime_floats
from . import checks
from .rules import complex_rules as _complex_rules
from .rules import operators as _operators

HELPERS = {}


def _stub_for(python_helper):
    """A fresh function with the helper's name, to attach an overload to.

    python_helper: the helper itself, or "module:name" for a module's own (private)
    helper, matched by its module and name when generated code names it."""
    if isinstance(python_helper, str):
        module, name = python_helper.split(":")
    else:
        module, name = python_helper.__module__, python_helper.__name__

    def stub(*args):
        raise NotImplementedError("only callable from numba-compiled code")
    stub.__name__ = stub.__qualname__ = name
    HELPERS[(module, name)] = stub
    return stub


def helper_for(obj):
    """The numba stub standing for the Python helper obj (None: no numba implementation)."""
    return HELPERS.get((getattr(obj, "__module__", None), getattr(obj, "__name__", None)))


def jit_helper(name):
    """The numba implementation of the runtime helper called `name` (for exported modules)."""
    for (_, helper_name), stub in HELPERS.items():
        if helper_name == name:
            return stub
    raise KeyError(f"diffc.jit_runtime has no numba implementation of {name!r}")


def _scalar(t):
    return isinstance(t, (types.Float, types.Integer, types.Boolean))


def _farray(t):
    return isinstance(t, types.Array) and isinstance(t.dtype, (types.Float, types.Integer, types.Boolean))


# ------------------------------------------------------------------ runtime

@overload(_stub_for(runtime.zeros_like))
def _zeros_like(x):
    if _scalar(x):
        return lambda x: 0.0
    if _farray(x):
        return lambda x: np.zeros(x.shape)


@overload(_stub_for(runtime.finalize))
def _finalize(bar, x):
    if _scalar(x) and _scalar(bar):
        return lambda bar, x: float(bar)
    if _farray(x) and _scalar(bar):
        return lambda bar, x: np.full(x.shape, float(bar))
    if _farray(x) and _farray(bar) and bar.ndim == x.ndim:
        return lambda bar, x: bar
    if _farray(x) and _farray(bar):
        return lambda bar, x: np.ascontiguousarray(bar).reshape(x.shape)


@overload(_stub_for(runtime.nan_input_bar))
def _nan_input_bar(bar, x, out):
    if _farray(x) and _farray(bar) and bar.ndim == x.ndim:
        def zeroed(bar, x, out):
            if not np.all(np.isfinite(np.asarray(out))):
                return bar
            return np.where(np.isnan(x), 0.0, bar)
        return zeroed
    return lambda bar, x, out: bar


@overload(_stub_for(runtime.copy_value))
def _copy_value(x):
    if _scalar(x):
        return lambda x: x
    if _farray(x):
        return lambda x: x.copy()


@overload(_stub_for(runtime.real_where_real))
def _real_where_real(g, dtype):
    if _scalar(g) or _farray(g):
        return lambda g, dtype: g


@overload(_stub_for(runtime_checks.check_list_slice_length))
def _check_list_slice_length(target, index, value, where):
    return lambda target, index, value, where: None     # compiled code writes arrays (fixed length)


@overload(_stub_for(runtime_calls.check_array_receiver))
def _check_array_receiver(obj, name, where):
    return lambda obj, name, where: None     # compiled code holds arrays and numbers only


@overload(_stub_for(runtime.check_scalar))
def _check_scalar(value):
    if _scalar(value):
        return lambda value: value


@overload(_stub_for(runtime.unbroadcast))
def _unbroadcast(g, x):
    if _scalar(g):
        return lambda g, x: g
    if _farray(g) and _scalar(x):
        return lambda g, x: np.sum(g)
    if _farray(g) and _farray(x) and g.ndim == x.ndim:
        def same_rank(g, x):
            if g.shape == x.shape:
                return g
            out = np.zeros(x.shape)
            _sum_into(out, g)
            return out
        return same_rank


@numba.njit(cache=False)
def _sum_into(out, g):
    # out's axes are g's or 1: add every element of g into its broadcast source
    flat_g = g.reshape(-1) if g.flags.c_contiguous else g.copy().reshape(-1)
    shape = g.shape
    oshape = out.shape
    flat_out = out.reshape(-1)
    n = flat_g.size
    nd = len(shape)
    for k in range(n):
        rest = k
        offset = 0
        stride = 1
        for d in range(nd - 1, -1, -1):
            i = rest % shape[d]
            rest //= shape[d]
            if oshape[d] != 1:
                offset += i * stride
            stride *= oshape[d]
        flat_out[offset] += flat_g[k]


def _index_ranks(bar, index):
    # how many axes an index of ints, slices or a tuple of those leaves (None: another index)
    parts = index.types if isinstance(index, types.BaseTuple) else (index,)
    if not all(isinstance(p, (types.Integer, types.SliceType)) for p in parts) or len(parts) > bar.ndim:
        return None
    return bar.ndim - sum(1 for p in parts if isinstance(p, types.Integer))


@overload(_stub_for(runtime.take_item))
def _take_item(bar, index):
    # bar[index], copied, then zeroed there (the adjoint of a write y[index] = v)
    if not _farray(bar):
        return None
    left = _index_ranks(bar, index)
    if left == 0:
        def element(bar, index):
            value = bar[index]
            bar[index] = 0.0
            return value
        return element
    if left is not None:
        def part(bar, index):
            value = bar[index].copy()
            bar[index] = 0.0
            return value
        return part


@overload(_stub_for(runtime.acc_item))
def _acc_item(bar, primal, index, g):
    # bar[index] += g for an array adjoint (or the plain zero adjoint of an array) and a
    # basic index (runtime.acc_item's array cases); returns the adjoint
    if not (_farray(primal) and (_scalar(g) or _farray(g))):
        return None
    left = _index_ranks(primal, index)
    if left is None:
        return None
    if left == 0 and _scalar(g):
        if _farray(bar):
            return lambda bar, primal, index, g: _add_at_element(bar, index, g)
        if _scalar(bar):
            return lambda bar, primal, index, g: _add_at_element(np.zeros(primal.shape), index, g)
        return None
    if left > 0:
        if _farray(bar):
            return lambda bar, primal, index, g: _add_into_part(bar, index, g)
        if _scalar(bar):
            return lambda bar, primal, index, g: _add_into_part(np.zeros(primal.shape), index, g)


@numba.njit(cache=False)
def _add_at_element(bar, index, g):
    bar[index] += g
    return bar


@numba.njit(cache=False)
def _add_into_part(bar, index, g):
    view = bar[index]
    view += g
    return bar


@overload(_stub_for(runtime.shape_of))
def _shape_of(x):
    # a number is kept as it is; an array itself (a reference, no copy) stands for its
    # ShapeOf: the adjoint reads only its shape, which no later write can change
    if _scalar(x) or _farray(x):
        return lambda x: x


def _float_array(t):
    return isinstance(t, types.Array) and isinstance(t.dtype, types.Float)


@overload(_stub_for("diffc.rules.operators:_matmul_bar_a"))
def _matmul_bar_a(g, a, b):
    # the adjoint of a in a @ b for 1-d and 2-d float operands (operators._matmul_bar_a);
    # a plain zero g gives zeros shaped like a (the Python helper's 0.0, as an array)
    if not (_float_array(a) and _float_array(b)):
        return None
    if _float_array(g) and a.ndim == 2 and b.ndim == 2:
        return lambda g, a, b: g @ np.ascontiguousarray(b.T)
    if _float_array(g) and a.ndim == 2 and b.ndim == 1:
        return lambda g, a, b: np.outer(g, b)
    if _float_array(g) and a.ndim == 1 and b.ndim == 2:
        return lambda g, a, b: np.dot(np.ascontiguousarray(b), g)
    if _scalar(g) and a.ndim == 1 and b.ndim == 1:
        return lambda g, a, b: g * b


@overload(_stub_for("diffc.rules.operators:_matmul_bar_b"))
def _matmul_bar_b(g, a, b):
    if not (_float_array(a) and _float_array(b)):
        return None
    if _float_array(g) and a.ndim == 2 and b.ndim == 2:
        return lambda g, a, b: np.ascontiguousarray(a.T) @ g
    if _float_array(g) and a.ndim == 2 and b.ndim == 1:
        return lambda g, a, b: np.dot(g, np.ascontiguousarray(a))
    if _float_array(g) and a.ndim == 1 and b.ndim == 2:
        return lambda g, a, b: np.outer(a, g)
    if _scalar(g) and a.ndim == 1 and b.ndim == 1:
        return lambda g, a, b: g * a


@overload(_stub_for(runtime.nonzero))
def _nonzero(bar):
    if _scalar(bar):
        return lambda bar: bar != 0
    if _farray(bar):
        return lambda bar: True


@numba.njit(cache=False)
def _extent(a):
    # the lowest and one past the highest byte address a's elements occupy
    lo = a.ctypes.data
    hi = lo
    for d in range(a.ndim):
        step = (a.shape[d] - 1) * a.strides[d]
        if step < 0:
            lo += step
        else:
            hi += step
    return lo, hi + a.itemsize


@overload(_stub_for(runtime_floats.disjoint))
def _disjoint(a, b):
    # as np.may_share_memory: whether the memory bounds of a and b do not overlap
    if isinstance(a, types.Array) and isinstance(b, types.Array):
        def impl(a, b):
            if a.size == 0 or b.size == 0:
                return True
            lo_a, hi_a = _extent(a)
            lo_b, hi_b = _extent(b)
            return hi_a <= lo_b or hi_b <= lo_a
        return impl


# ------------------------------------------------------------ rule helpers

@overload(_stub_for("diffc.optimize.fuse_sum_products:_sum_product"))
def _sum_product(a, b, x):
    if _scalar(a) and _scalar(b):
        return lambda a, b, x: a * b
    if _scalar(x) and _farray(a) and _farray(b) and a.ndim == 1 and b.ndim == 1:
        def dot(a, b, x):
            # the sum of the product, without the product array (same shapes: the caller's)
            if a.shape[0] != b.shape[0]:
                return np.sum(a * b)
            s = 0.0
            for i in range(a.shape[0]):
                s += a[i] * b[i]
            return s
        return dot
    if _scalar(x) and (_farray(a) or _farray(b)):
        return lambda a, b, x: np.sum(a * b)
    if _farray(x) and (_farray(a) or _farray(b)):
        unbroadcast = helper_for(runtime.unbroadcast)
        return lambda a, b, x: unbroadcast(a * b, x)


@overload(_stub_for("diffc.rules.reductions:_sum_bar"))
def _sum_bar(g, a, axis, keepdims):
    # the adjoint of a full np.sum spread over a (reductions._sum_bar's first case)
    if _scalar(g) and _farray(a) and isinstance(axis, (types.NoneType, types.Omitted)):
        return lambda g, a, axis, keepdims: np.full(a.shape, float(g))


@overload(_stub_for("diffc.rules.reductions:_sum_bar_times"))
def _sum_bar_times(g, a, y, zero_guarded=False, axis=None, keepdims=False):
    if _scalar(g) and _farray(a) and (axis is None or isinstance(axis, (types.NoneType, types.Omitted))):
        if _farray(y) or _scalar(y):
            def impl(g, a, y, zero_guarded=False, axis=None, keepdims=False):
                return np.full(a.shape, float(g)) * y
            return impl


@overload(_stub_for("diffc.rules.elementwise:times_one_minus_square"))
def _times_one_minus_square(g, r):
    return lambda g, r: g * (1.0 - r * r)


@overload(_stub_for("diffc.rules.operators:_log_or_zero"))
def _log_or_zero(a):
    if _scalar(a):
        return lambda a: math.log(a) if a > 0 else 0.0
    if _farray(a):
        return lambda a: np.log(np.where(a > 0, a, 1.0))


@overload(_stub_for(checks.kink_sign))
def _kink_sign(x):
    # np.sign, as the Python helper; its warning at exactly 0 is not raised here
    if _scalar(x):
        return lambda x: float(np.sign(x))
    if _farray(x):
        return lambda x: np.sign(x)


@numba.njit(cache=False)
def _pow_dxk_scalar(a, b, k):
    coef = 1.0
    for i in range(k):
        coef = coef * (b - i)
    if coef == 0.0:
        return 0.0
    if a == 0.0 and b - k < 0.0:
        return coef * math.inf
    return coef * a ** (b - k)


@overload(_stub_for(_operators.pow_dxk))
def _pow_dxk(a, b, k):
    # the k-th derivative of a ** b in a, exactly 0 where the coefficient is 0 (operators.pow_dxk)
    if _scalar(a) and _scalar(b):
        return lambda a, b, k: _pow_dxk_scalar(float(a), float(b), k)
    if _farray(a) and _scalar(b):
        def impl(a, b, k):
            out = np.empty_like(a)
            flat_in, flat_out = a.ravel(), out.ravel()
            for i in range(flat_in.size):
                flat_out[i] = _pow_dxk_scalar(flat_in[i], float(b), k)
            return out
        return impl


@overload(_stub_for(_complex_rules.abs_slope))
def _abs_slope(x):
    # real arguments only here: np.sign, as kink_sign (complex_rules.abs_slope)
    if _scalar(x):
        return lambda x: float(np.sign(x))
    if _farray(x):
        return lambda x: np.sign(x)


@overload(_stub_for(_complex_rules.real_cotangent))
def _real_cotangent(g):
    # real adjoints only here: g itself (complex_rules.real_cotangent)
    if _scalar(g) or _farray(g):
        return lambda g: g


@overload(_stub_for(runtime.head_part))
def _head_part(g, a, b):
    # a + b of numbers or arrays (never a concatenation: numba has no list adjoints here)
    if not isinstance(a, (types.BaseTuple, types.List)) or not isinstance(b, (types.BaseTuple, types.List)):
        return lambda g, a, b: g


@overload(_stub_for(runtime.tail_part))
def _tail_part(g, a, b):
    if not isinstance(a, (types.BaseTuple, types.List)) or not isinstance(b, (types.BaseTuple, types.List)):
        return lambda g, a, b: g


@overload(_stub_for(runtime.item))
def _item(bar, index):
    # the adjoint of a tuple of results: a tuple of floats, or the plain zero before any flowed back
    if _scalar(bar):
        return lambda bar, index: 0.0
    if isinstance(bar, types.BaseTuple) or _farray(bar):
        return lambda bar, index: bar[index]


@overload(_stub_for(runtime.cat_left))
def _cat_left(a_dot, a, b):
    # the tangent of a + b of numbers or arrays due to a (never a concatenation here)
    if not isinstance(a, (types.BaseTuple, types.List)) or not isinstance(b, (types.BaseTuple, types.List)):
        return lambda a_dot, a, b: a_dot


@overload(_stub_for(runtime.cat_right))
def _cat_right(b_dot, a, b):
    if not isinstance(a, (types.BaseTuple, types.List)) or not isinstance(b, (types.BaseTuple, types.List)):
        return lambda b_dot, a, b: b_dot
