"""Everything generated code may call besides numpy and math.

Adjoints start as the float ``0.0`` (a zero of any shape) and grow into
arrays, or into `ListBar`/`DictBar` containers, on their first contribution,
so ``x_bar += contribution`` is always right: floats stay floats, an array
adjoint is a buffer the gradient owns and accumulates in place, and container
adjoints add element by element.  ``diffc export`` inlines this module, so it
imports nothing but numpy.
"""

import numbers

import numpy as np


class ListBar(list):
    """Adjoint of a list or tuple: a list of adjoints that adds elementwise."""

    def __mul__(self, other):
        raise TypeError("repeating a list that holds differentiated values (lst * n) is not "
                        "differentiable; build the list with a loop or a comprehension")

    __rmul__ = __mul__

    def __add__(self, other):
        result = ListBar(self)
        result += other
        return result

    __radd__ = __add__

    def __iadd__(self, other):
        if isinstance(other, dict) and getattr(other, "order", None):
            other = [other.get(name, 0.0) for name in other.order]   # a NamedTuple's, by name
        if isinstance(other, list):
            for k, value in enumerate(other):
                self[k] = add_elements(self[k], value)
        elif not _is_zero(other):
            raise TypeError("cannot add a non-container adjoint to a list adjoint")
        return self

    def __neg__(self):
        return ListBar(-v for v in self)


class DictBar(dict):
    """Adjoint of a dict: a dict of adjoints that adds key by key."""

    order = ()            # FieldBar of a NamedTuple: its field names, for reads by position

    def __add__(self, other):
        # a FieldBar (subclass) wins, keeping the object's adjoint recognizable
        kind = type(other) if type(self) is DictBar and isinstance(other, DictBar) else type(self)
        result = kind(self)
        result.order = self.order or getattr(other, "order", ())
        result += other
        return result

    __radd__ = __add__

    def __iadd__(self, other):
        if isinstance(other, (list, tuple)) and self.order:
            other = dict(zip(self.order, other))          # a NamedTuple's adjoint by position
        if isinstance(other, dict):
            if not self.order and getattr(other, "order", ()):
                self.order = other.order
            for k, value in other.items():
                self[k] = add_elements(self.get(k, 0.0), value)
        elif not _is_zero(other):
            raise TypeError("cannot add a non-container adjoint to a dict adjoint")
        return self


def is_zero(value):
    """Whether value is the plain zero adjoint/tangent (a Python or NumPy number equal to 0)."""
    return _is_zero(value)


def add_elements(a, b):
    """a + b for two adjoints (or tangents) of one element of a container.

    Numbers and arrays add; a zero number is the zero of any structure; two
    plain tuples or lists (an element that is itself a tuple, as in
    ``((2.0, v),)``) add entry by entry -- `+` would concatenate them."""
    plain = (list, tuple, dict)
    if _is_zero(a) and isinstance(b, plain) and not isinstance(b, (ListBar, DictBar)):
        return b
    if _is_zero(b) and isinstance(a, plain) and not isinstance(a, (ListBar, DictBar)):
        return a
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) \
            and not isinstance(a, ListBar) and not isinstance(b, ListBar):
        if len(a) != len(b):
            raise ValueError("adding the derivatives of two sequences of different lengths")
        items = [add_elements(x, y) for x, y in zip(a, b)]
        return tuple(items) if isinstance(a, tuple) else items
    if isinstance(a, dict) and isinstance(b, dict) and not isinstance(a, DictBar) \
            and not isinstance(b, DictBar):
        out = dict(a)
        for k, v in b.items():
            out[k] = add_elements(out.get(k, 0.0), v)
        return out
    return a + b


def _is_zero(value):
    return isinstance(value, numbers.Number) and not isinstance(value, np.ndarray) and value == 0


def is_duck_array(x):
    """An array of another library NumPy dispatches to (Dask, CuPy...): never forced into ndarray.

    Generated code and these helpers call numpy functions on such arrays, and
    `__array_function__`/`__array_ufunc__` hand the work to the array's library."""
    return not isinstance(x, np.ndarray) and hasattr(type(x), "__array_function__") \
        and hasattr(x, "shape") and hasattr(x, "dtype")


def widen_like(g, x):
    """g broadcast to the shape of the duck array x, as an array of x's library (x's chunks)."""
    if isinstance(g, np.ndarray) or (is_duck_array(g) and type(g) is not type(x)):
        g = np.asarray(g, like=x)           # NEP 35: x's library converts
    dtype = x.dtype if x.dtype.kind in "fc" else np.float64
    return np.zeros_like(x, dtype=dtype) + g


def zeros_like(x):
    """A materialized zero adjoint shaped like x."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
    if is_duck_array(x):
        return np.zeros_like(x, dtype=x.dtype if x.dtype.kind in "fc" else np.float64)
    if isinstance(x, (list, tuple)):
        return ListBar(zeros_like(v) for v in x)
    if isinstance(x, dict):
        return DictBar((k, zeros_like(v)) for k, v in x.items())
    return 0.0


def float_items(a, trips, plain):
    """The elements a loop of `trips` iterations reads, as Python floats when a is
    a 1-d float64 ndarray (optimize/float_items.py).

    The list holds the same values, and float arithmetic is several times faster
    than NumPy scalar arithmetic.  Anything else comes back as it is: other
    dtypes, a list, an array much longer than the loop or a loop too short to
    pay for the copy, and any call where `plain` (float64_world, at the
    function's start) is false."""
    if type(a) is np.ndarray and plain and FLOAT_ITEMS_MIN_TRIPS <= trips and a.ndim == 1 \
            and a.dtype == np.float64 and a.size <= 4 * trips + 64:
        return a.tolist()
    return a


# Below this many iterations the copy costs more than the float arithmetic saves
# (the fuzzer sets it to 0 so its short loops take the copy too).
FLOAT_ITEMS_MIN_TRIPS = 16
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


def as_sequence(x):
    """What `for v in x` iterates over, as an indexable sequence."""
    if isinstance(x, (list, tuple, np.ndarray, range, str)) or is_duck_array(x):
        return x
    return list(x)


def enter_context(manager):
    """`with manager as v:` -- what v is bound to (the body runs after this).

    Under the API the manager is remembered, so that an exception escaping the
    body still calls its __exit__ (diffc/try_paths.py)."""
    value = type(manager).__enter__(manager)
    run = getattr(TryRun.current, "run", None)
    if run is not None:
        run.managers.append(manager)
    return value


def exit_context(manager):
    """The end of a `with` body reached normally."""
    run = getattr(TryRun.current, "run", None)
    if run is not None and run.managers and run.managers[-1] is manager:
        run.managers.pop()
    type(manager).__exit__(manager, None, None, None)


# ------------------------------------------------------------- try statements
#
# desugar lowers `try` into branches on the path Python took (see
# desugar.lower_try): `try_enter` says which path this execution of the try
# takes, `try_step` counts the statements of its body that completed,
# `try_exit` closes it.  The API runs the generated function under a `TryRun`
# (diffc/try_paths.py): when an exception escapes from a body whose handler
# matches, it runs the function again with that execution forced onto the
# handler path after the statements that had completed.  Without a TryRun
# (exported code) every body simply runs and exceptions propagate.

class TryRun:
    """The paths of one run of a generated function: `forced` maps the ordinal
    of a try execution to (site, handler number, statements done, exception)."""

    # Per thread, the run in progress (TryRun.current.run): a threading.local that
    # diffc/try_paths.py installs.  Exported code, which copies this class, has none,
    # and every try takes its body path.
    current = None

    def __init__(self, forced):
        self.forced = forced
        self.count = 0
        self.open = []            # [site, ordinal, handler types, atomic flags, statements done]
        self.managers = []        # context managers entered and not yet left

TRY_SITES = {}                  # site number -> (file, line, [(line, text) of each body statement])


def try_enter(site, atomic, *handlers):
    """(handler number or 0 for the body path, statements of the body to run, exception)."""
    run = getattr(TryRun.current, "run", None)
    if run is None:
        return 0, len(atomic), None
    ordinal = run.count
    run.count += 1
    run.open.append([site, ordinal, handlers, atomic, 0])
    forced = run.forced.get(ordinal)
    if forced is None:
        return 0, len(atomic), None
    if forced[0] != site:
        raise RuntimeError("the function took another path when run again (random numbers?); "
                           "diffc replays the path Python took through try statements")
    return forced[1:]


def try_step():
    run = getattr(TryRun.current, "run", None)
    if run is not None and run.open:
        run.open[-1][4] += 1


def try_exit():
    run = getattr(TryRun.current, "run", None)
    if run is not None and run.open:
        run.open.pop()


def index_concat(maker, key):
    """maker[key] for NumPy's index concatenators (``np.r_``, ``np.c_``).

    Desugaring rewrites ``np.r_[a, 0:3, b]`` into ``index_concat(np.r_, (a, slice(0, 3, None), b))``
    so that the concatenation is a call with derivative rules (numpy_rules.py) instead of
    a subscript of a constant object."""
    return maker[key]


def item(bar, index):
    """bar[index] for a materialized adjoint, else the zero 0.0.

    A slice of a list adjoint is a ListBar too (a plain list would concatenate
    where adjoints add: `0.0 + [...]`, `[...] + [...]`)."""
    if isinstance(bar, list) and isinstance(index, slice):
        return ListBar(bar[index])
    if isinstance(bar, (list, tuple, np.ndarray)) or is_duck_array(bar):
        return bar[index]
    if isinstance(bar, dict):
        order = getattr(bar, "order", ())
        if order and isinstance(index, (int, np.integer, slice)):
            # a NamedTuple's adjoint kept by field name (FieldBar), read by position
            if isinstance(index, slice):
                return ListBar(bar.get(n, 0.0) for n in order[index])
            return bar.get(order[index], 0.0)
        return bar.get(index, 0.0)
    return 0.0


def _is_fancy(index):
    if isinstance(index, tuple):
        return any(_is_fancy(i) for i in index)
    return isinstance(index, (list, np.ndarray))


def acc_item(bar, primal, index, g):
    """bar[index] += g, materializing bar like primal; returns bar.

    A list's adjoint starts as zeros 0.0 (the zero adjoint, never materialized):
    a list of arrays read element by element in a loop would otherwise make a
    zero array per element first."""
    if _is_zero(g):
        # Nothing flows back; the zero adjoint of a slice (a list read that reached no
        # output: `for W, b in params[1:-1]` over an empty slice) is the float 0.0.
        return bar
    names = getattr(primal, "_fields", None) if isinstance(primal, tuple) else None
    if names is not None and isinstance(bar, dict) and isinstance(index, (int, np.integer, slice)):
        # A NamedTuple read by attribute (a FieldBar keyed by name) and by position: the
        # position's adjoint goes under its field's name.
        if not bar.order:
            bar.order = tuple(names)
        if isinstance(index, slice):
            for name, v in zip(names[index], g):
                bar[name] = add_elements(bar.get(name, 0.0), v)
        else:
            name = names[index]
            bar[name] = add_elements(bar.get(name, 0.0), g)
        return bar
    if not isinstance(bar, (list, np.ndarray, dict)) and not is_duck_array(bar):
        bar = ListBar([0.0] * len(primal)) if isinstance(primal, (list, tuple)) else \
            DictBar() if isinstance(primal, dict) else zeros_like(primal)   # keys without one: none
    if isinstance(bar, np.ndarray):
        try:
            if _is_fancy(index):
                add_at(bar, index, g)
            else:
                bar[index] += g
        except TypeError:
            if not (np.iscomplexobj(g) and bar.dtype.kind != "c"):
                raise
            # a complex adjoint for a real array: its real part is the cotangent (complex_rules.py)
            acc_item(bar, primal, index, np.real(g))
    elif is_duck_array(bar):
        if _is_fancy(index):
            _scatter_add(bar, index, g)
        else:
            bar[index] = bar[index] + g
    elif isinstance(bar, dict):
        bar[index] = bar.get(index, 0.0) + g
    else:
        if isinstance(index, slice):
            for k, v in zip(range(*index.indices(len(bar))), g):
                bar[k] = bar[k] + v
        else:
            bar[index] = bar[index] + g
    return bar


def give_item(bar, primal, index, g):
    """acc_item(bar, primal, index, g) where g is an ndarray the caller owns and
    drops right after (optimize/hand_over.py): an element of a list or dict
    adjoint that has had no contribution yet takes g itself instead of a copy
    ``0.0 + g``.  Later contributions to it build new arrays, as they do for
    any element, so nothing else ever sees g change."""
    if type(g) is np.ndarray and type(index) in (int, str):
        if not isinstance(bar, (list, np.ndarray, dict)) and not is_duck_array(bar) \
                and isinstance(primal, (list, tuple, dict)):
            bar = ListBar([0.0] * len(primal)) if isinstance(primal, (list, tuple)) else DictBar()
        if isinstance(bar, ListBar):
            if type(index) is int and -len(bar) <= index < len(bar) \
                    and type(bar[index]) is float and bar[index] == 0.0:
                bar[index] = g
                return bar
        elif isinstance(bar, DictBar) and index not in bar and index in primal:
            bar[index] = g
            return bar
    return acc_item(bar, primal, index, g)


def add_at(bar, index, g):
    """np.add.at(bar, index, g) for an ndarray bar (repeated indices accumulate).

    When bar is a C-contiguous float64 array indexed by one integer array per
    axis and the indices touch at least a quarter as many places as bar has,
    the scatter is one np.bincount over the flat positions added to bar,
    several times faster than ufunc.at (the sums agree up to the order of
    additions).  The forward read bar's primal with the same index, so every
    index is in bounds; negative ones wrap as they did there.  Anything else
    (slices or booleans in the index, other dtypes, a few places in a large
    array) goes to np.add.at."""
    arrays = index if type(index) is tuple else (index,)
    if type(bar) is np.ndarray and bar.dtype == np.float64 and bar.flags.c_contiguous \
            and len(arrays) == bar.ndim and all(
                type(i) is np.ndarray and i.dtype.kind in "iu" for i in arrays):
        try:
            flat = np.ravel_multi_index(arrays, bar.shape, mode="wrap")
        except ValueError:
            flat = None
        if flat is not None and 4 * flat.size >= bar.size and (
                type(g) is float or (type(g) is np.ndarray and g.dtype == np.float64)):
            weights = np.broadcast_to(g, flat.shape).ravel()
            bar.reshape(-1)[...] += np.bincount(flat.ravel(), weights=weights, minlength=bar.size)
            return
    np.add.at(bar, index, g)


def _scatter_add(bar, index, g):
    """bar[index] += g with repeated indices accumulating, for a duck array."""
    try:
        np.add.at(bar, index, g)            # CuPy implements ufunc.at; Dask does not
    except (TypeError, NotImplementedError, AttributeError):
        from .errors import DiffcError
        raise DiffcError(f"the gradient of a fancy-indexed read (x[[i, j, ...]]) needs np.add.at, which "
                         f"{type(bar).__module__}.{type(bar).__name__} does not implement",
                         hint="index with slices or ints, or convert the array to NumPy first") from None


def take_item(bar, index):
    """Read bar[index] and zero it there (adjoint of a write y[index] = v)."""
    if is_duck_array(bar):
        value = bar[index]
        value = value.copy() if hasattr(value, "copy") else value
        bar[index] = 0.0
        return value
    if isinstance(bar, np.ndarray):
        value = bar[index]
        if isinstance(value, np.ndarray):
            value = value.copy()
        bar[index] = 0.0
        return value
    if isinstance(bar, dict):
        return bar.pop(index, 0.0)
    if isinstance(bar, list):
        if isinstance(index, slice):
            value = ListBar(bar[index])
            for k in range(*index.indices(len(bar))):
                bar[k] = 0.0
            return value
        value = bar[index]
        bar[index] = 0.0
        return value
    return 0.0


class ShapeOf:
    """An ndarray's shape (and whether it is real) kept where only the shape is read
    (optimize/tape_shapes.py): ``np.shape`` and unbroadcast read it like the array's."""
    __slots__ = ("shape", "real")

    def __init__(self, shape, real=False):
        self.shape = shape
        self.real = real


def shape_of(x):
    """What a loop tape keeps of x when the adjoint reads only its shape."""
    return ShapeOf(x.shape, x.dtype.kind != "c") if type(x) is np.ndarray else x


_FLOAT64 = np.dtype(np.float64)     # the common dtype, tested by identity first (cheapest)


def is_real_value(x):
    """True when x is certainly real: a float, int, bool, or a NumPy array or scalar of
    such a dtype.  A ShapeOf, list or other value is not known to be real."""
    t = type(x)
    if t is np.ndarray:
        return x.dtype.kind != "c"
    if t is float or t is int or t is bool:
        return True
    if t is ShapeOf:
        return x.real
    return isinstance(x, (np.floating, np.integer, np.bool_))


def unbroadcast(g, x):
    """Sum g over the axes broadcasting added, so it has the shape of x.

    A complex g for a real x gives its real part: the cotangent of a real value is
    real (JAX's convention; diffc/rules/complex_rules.py)."""
    tg = type(g)
    if tg is not np.ndarray:
        if tg is float:
            return g
        if tg is complex or isinstance(g, np.complexfloating):
            return g.real if is_real_value(x) else g
        if not isinstance(g, np.ndarray) and not is_duck_array(g):
            return g
        return _unbroadcast_general(g, x)
    dtype = g.dtype
    if dtype is not _FLOAT64 and dtype.kind == "c" and is_real_value(x):
        g = np.real(g).copy()
    # The common case first, without a numpy-level call: same shape, nothing to sum.
    tx = type(x)
    shape = x.shape if tx is np.ndarray or tx is ShapeOf else () if tx is float else np.shape(x)
    gshape = g.shape
    if gshape == shape:
        return g
    if not shape:
        return np.add.reduce(g, None)               # g.sum(): the same reduction
    key = (gshape, shape)
    plan = _Sums.plans.get(key)
    if plan is None:
        if len(_Sums.plans) >= 1024:
            _Sums.plans.clear()
        plan = _Sums.plans[key] = _unbroadcast_plan(gshape, shape)
    how = plan[0]
    if how == _SUM_ROWS or how == _SUM_COLUMNS:
        # The summed axes lead (or trail) g: one matrix-vector product with ones
        # sums them, several times faster than np.add.reduce on small and
        # narrow arrays (the same sums up to rounding).
        if g.dtype == np.float64 and g.flags.c_contiguous:
            n, matrix, reshaped = plan[1], plan[2], plan[3]
            ones = _Sums.ones.get(n)
            if ones is None:
                ones = _ones(n)
            if matrix is not None:
                g = g.reshape(matrix)
            g = np.dot(ones, g) if how == _SUM_ROWS else np.dot(g, ones)
            return g.reshape(reshaped) if reshaped is not None else g
        plan = plan[4]
        how = plan[0]
    if how == _GENERAL:
        return _unbroadcast_general(g, x)
    if plan[1]:
        g = np.add.reduce(g, plan[1])
    if plan[2]:
        g = np.add.reduce(g, plan[2], keepdims=True)
    return g


_GENERAL, _REDUCE, _SUM_ROWS, _SUM_COLUMNS = 0, 1, 2, 3
_MAX_ONES = 1 << 16


class _Sums:
    """unbroadcast's caches (bounded: cleared when full)."""
    plans = {}       # (g.shape, x.shape) -> how unbroadcast sums (_unbroadcast_plan)
    ones = {}        # n -> a read-only float64 vector of n ones


def _ones(n):
    if len(_Sums.ones) >= 64:
        _Sums.ones.clear()
    ones = np.ones(n)
    ones.setflags(write=False)
    _Sums.ones[n] = ones
    return ones


def _unbroadcast_plan(gshape, shape):
    """How unbroadcast sums an array shaped gshape down to shape.

    (_REDUCE, leading axes, kept axes): np.add.reduce over the axes broadcasting
    added in front (none: ()), then over the axes where x has length 1 (with
    keepdims).  (_SUM_ROWS, n, matrix, reshaped, fallback): those axes are g's
    first ones, n elements in all: ones(n) @ g viewed as the 2-d shape matrix
    (None: g is that already), reshaped to `reshaped` unless None (the shape
    the reduction gives: x's, or smaller where g was smaller);
    (_SUM_COLUMNS, ...): they are its last ones, g @ ones(n).  The fallback
    (a _REDUCE plan) serves g that is not a C-contiguous float64 array.
    (_GENERAL,): g has fewer axes than x, or an empty axis: the general code."""
    extra = len(gshape) - len(shape)
    if extra < 0 or 0 in gshape:
        return (_GENERAL, None, None)
    lead = tuple(range(extra))
    kept = tuple([k for k in range(len(shape)) if shape[k] == 1 and gshape[extra + k] != 1])
    reduce = (_REDUCE, lead, kept)
    summed = set(lead) | {extra + k for k in kept}
    if not summed:
        return reduce
    nd = len(gshape)
    size = 1
    for n in gshape:
        size *= n
    count = 1
    for k in summed:
        count *= gshape[k]
    if count > _MAX_ONES:
        return reduce
    if summed == set(range(len(summed))):
        matrix = (count, size // count)
        result = (size // count,)
        how = _SUM_ROWS
    elif summed == set(range(nd - len(summed), nd)):
        matrix = (size // count, count)
        result = (size // count,)
        how = _SUM_COLUMNS
    else:
        return reduce
    # The shape np.add.reduce would give (x's, unless g is smaller than x on some axis).
    reduced = tuple([1 if k in kept else gshape[extra + k] for k in range(len(shape))])
    return (how, count, None if gshape == matrix else matrix, None if result == reduced else reduced, reduce)


def _unbroadcast_general(g, x):
    """unbroadcast for any array type (ndarray subclasses, duck arrays) and any shapes."""
    shape = np.shape(x)
    if g.shape == shape:
        return g
    if not shape:
        return g.sum()
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(k for k, n in enumerate(shape) if n == 1 and g.shape[k] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g


def finalize(bar, x):
    """The gradient returned to the user: shaped and typed like the argument x."""
    if type(bar) is np.ndarray and type(x) is np.ndarray and bar.shape == x.shape \
            and (bar.dtype is x.dtype or x.dtype.kind != "f"):
        return bar                          # the common case: nothing to shape or cast
    if isinstance(x, np.ndarray):
        if not isinstance(bar, np.ndarray) or bar.shape != x.shape:
            bar = np.broadcast_to(np.asarray(bar), x.shape).copy() if _is_zero(bar) or np.ndim(bar) == 0 \
                else np.asarray(bar).reshape(x.shape)
        if x.dtype.kind in "fc" and bar.dtype != x.dtype:
            # a real argument's cotangent is the real part of a complex adjoint (JAX's convention)
            bar = (np.real(bar) if x.dtype.kind == "f" else bar).astype(x.dtype)
        return bar
    if is_duck_array(x):
        # Stay in x's library (a lazy Dask array stays lazy): convert, never np.asarray.
        if not is_duck_array(bar) or type(bar) is not type(x) or bar.shape != x.shape:
            bar = widen_like(bar, x) if np.ndim(bar) == 0 or np.shape(bar) != x.shape \
                else np.asarray(bar, like=x)
        if x.dtype.kind == "f" and bar.dtype != x.dtype:
            bar = bar.astype(x.dtype)
        return bar
    if isinstance(x, tuple) and hasattr(x, "_fields") and not isinstance(bar, list):
        return like_object(bar, x)          # a NamedTuple read by attribute: keep its type
    if isinstance(x, (list, tuple)):
        if not isinstance(bar, list):
            bar = zeros_like(x)
        items = [finalize(b, v) for b, v in zip(bar, x)]
        if hasattr(x, "_fields"):
            return type(x)(*items)
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, dict):
        if not isinstance(bar, dict):
            bar = zeros_like(x)
        return {k: finalize(bar.get(k, 0.0), v) for k, v in x.items()}
    if isinstance(x, np.floating):
        return x.dtype.type(np.real(bar))
    if isinstance(x, float):
        return float(np.real(bar))
    if isinstance(x, (complex, np.complexfloating)):
        return type(x)(bar)
    if (isinstance(bar, dict) or _is_zero(bar)) and not isinstance(x, (numbers.Number, str, type(None), dict)) \
            and fields_of(x):
        return like_object(bar, x)          # attributes' adjoints, as an object of x's type
    return bar


def copy_value(x):
    """A private copy of a value about to be overwritten in place."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        return dict(x)
    if is_duck_array(x):
        return x.copy()
    return x


def seed_like(out, seed):
    return seed


def pop_bar(bar):
    """Adjoint of lst.append(v): the adjoint of v, removed from the list adjoint."""
    if isinstance(bar, list) and bar:
        return bar.pop()
    return 0.0


def pop_bars(bar, n):
    """Adjoint of lst.extend(seq) with len(seq) == n: the adjoints of seq's elements."""
    if isinstance(bar, list) and n:
        tail = ListBar(bar[len(bar) - n:])
        del bar[len(bar) - n:]
        return tail
    return 0.0


def truncate(lst, n):
    """Undo lst.extend(seq) with len(seq) == n."""
    if n:
        del lst[len(lst) - n:]


def unpop_bar(bar, container, g):
    """Adjoint of v = lst.pop(), after lst.append(v) restored the list."""
    if isinstance(bar, list):
        bar.append(g)
        return bar
    if _is_zero(g):
        return bar
    bar = zeros_like(container)
    bar[-1] = g
    return bar


_ABSENT = object()


def read_item(container, index):
    """The value at container[index] before a write (a private copy), or a marker if absent."""
    if isinstance(container, dict) and index not in container:
        return _ABSENT
    return copy_value(container[index])


def write_item(container, index, old):
    """Undo container[index] = new, given what read_item returned before it."""
    if old is _ABSENT:
        del container[index]
    else:
        container[index] = old


def zero_item(bar, index):
    """The adjoint of a location that is overwritten: set to zero."""
    take_item(bar, index)


def check_scalar(value, int_kind=False):
    """Raise when grad() is asked for the gradient of a non-scalar or non-float result.

    A bool or None (``np.allclose(x, y)``, a comparison, a function without
    ``return``) has no derivative: a gradient of zeros would hide a mistake, so it
    is refused, as autograd and JAX do.  So is an int when every definition of the
    returned value is an int (int_kind: ``len(x)``, ``int(...)``); an int 0 returned
    by one branch of a float function (``return 0``) is a zero derivative there."""
    if type(value) is float or type(value) is np.float64:
        return value
    if value is None or isinstance(value, (bool, np.bool_)) or (
            int_kind and isinstance(value, (int, np.integer))) or (
            isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind == "b"):
        from .errors import NonScalarOutput
        what = "None" if value is None else f"a value of type {type(value).__name__} ({value!r})"
        raise NonScalarOutput(
            f"grad needs a float-valued function, but it returned {what}: it has no derivative",
            hint="return the float quantity to differentiate (a comparison, np.allclose, len(...) "
                 "or an int is piecewise constant)")
    if np.ndim(value) != 0 or isinstance(value, (list, tuple, dict)):
        from .errors import NonScalarOutput
        raise NonScalarOutput(
            f"grad needs a scalar-valued function, but it returned a value of shape {np.shape(value)}",
            hint="use diffc.vjp or diffc.jacobian for non-scalar outputs, or reduce with .sum()")
    if np.iscomplexobj(value):
        from .errors import NonScalarOutput
        raise NonScalarOutput(
            "grad needs a real-valued function, but it returned a complex number",
            hint="take np.real/np.abs of the result, or use diffc.vjp with a complex cotangent "
                 "(JAX's convention: vjp(1.0) of a holomorphic f is f'(z))")
    return value


# ---------------------------------------------------------------- forward mode
# Tangents mirror their primal: same-shape arrays, plain lists/tuples/dicts of
# tangents (so `+` on lists still concatenates), and 0.0 for a zero number.

def _float_dtype(x):
    return x.dtype if x.dtype.kind in "fc" else np.float64


def zeros_dot(x):
    """A zero tangent with the structure of x."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=_float_dtype(x))
    if isinstance(x, ListBar):            # an adjoint's tangent adds elementwise, as it does
        return ListBar(zeros_dot(v) for v in x)
    if isinstance(x, DictBar):
        return DictBar((k, zeros_dot(v)) for k, v in x.items())
    if isinstance(x, list):
        return [zeros_dot(v) for v in x]
    if isinstance(x, tuple):
        return tuple(zeros_dot(v) for v in x)
    if isinstance(x, dict):
        return {k: zeros_dot(v) for k, v in x.items()}
    return 0.0


def fit_dot(dot, x):
    """A tangent shaped like the array x (a rule dropped a zero term that broadcast)."""
    if isinstance(x, np.ndarray) and np.shape(dot) != x.shape:
        return np.broadcast_to(dot, x.shape).astype(_float_dtype(x))
    return dot


def _dense_dot(dot, y):
    """A tangent of y that may be written in place (a private, full-shape buffer)."""
    if isinstance(y, np.ndarray):
        if isinstance(dot, np.ndarray) and dot.shape == y.shape and dot.flags.writeable:
            return dot
        return np.array(np.broadcast_to(dot, y.shape), dtype=_float_dtype(y))
    if isinstance(y, list):
        return dot if isinstance(dot, list) else (list(dot) if isinstance(dot, tuple) else zeros_dot(y))
    if isinstance(y, dict):
        return dot if isinstance(dot, dict) else zeros_dot(y)
    return dot


def write_dot(dot, y, index, value, value_dot):
    """Tangent of the in-place write y[index] = value (value_dot None: constant value)."""
    if value_dot is None and not isinstance(dot, (np.ndarray, list, dict)):
        return dot                      # a zero tangent stays zero
    dot = _dense_dot(dot, y)
    if value_dot is None:
        value_dot = zeros_dot(value)
    if isinstance(dot, list) and isinstance(index, slice):
        # a zero tangent of the written sequence is 0.0: zeros shaped like what is written
        dot[index] = list(value_dot) if isinstance(value_dot, (list, tuple)) else zeros_dot(list(value))
    else:
        dot[index] = value_dot
    return dot


def append_dot(dot, lst, value, value_dot):
    """Tangent of lst.append(value), called before the append."""
    dot = _dense_dot(dot, lst)
    dot.append(zeros_dot(value) if value_dot is None else value_dot)
    return dot


def extend_dot(dot, lst, seq, seq_dot):
    """Tangent of lst.extend(seq), called before the extend."""
    dot = _dense_dot(dot, lst)
    dot.extend(zeros_dot(list(seq)) if not isinstance(seq_dot, (list, tuple, np.ndarray)) else seq_dot)
    return dot


def pop_dot(dot, value, *index):
    """Tangent of value = lst.pop(*index), called after the pop."""
    if isinstance(dot, list):
        return dot.pop(*index)
    return zeros_dot(value)


# ------------------------------------------------- adjoints of runtime helpers

def broadcast_like(g, x):
    """Adjoint of unbroadcast(x, like): g spread back over the shape of x."""
    if not isinstance(x, np.ndarray) or isinstance(g, (list, tuple, dict)) or np.shape(g) == np.shape(x):
        return g
    return np.broadcast_to(g, x.shape).astype(np.result_type(g, np.float64))


def item_bar(g, container, index):
    """Adjoint of item(container, index) with respect to container."""
    if not isinstance(container, (list, tuple, np.ndarray, dict)) or _is_zero(g):
        return 0.0
    return acc_item(0.0, container, index, g)


def updates_in_place(x):
    """Whether `x op= v` updated x's object in place (arrays, lists, dicts) rather than rebinding x."""
    return isinstance(x, (np.ndarray, list, dict, bytearray)) or is_duck_array(x)


def check_unshared(written, other, line):
    """Raise when `written` (about to be written in place) is `other` or shares its memory.

    The compiler could not tell whether the two names hold one object (elements of
    one tuple or list, say); if they do, Python would show the write through both,
    which diffc does not follow: refused here, when it is known."""
    mutable = isinstance(written, (np.ndarray, list, dict, bytearray)) or is_duck_array(written)
    if mutable and (written is other or (isinstance(written, np.ndarray) and isinstance(other, np.ndarray)
                                         and np.may_share_memory(written, other))):
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(
            f"line {line}: this writes in place into an object that another name also holds (in Python "
            "both would change)", hint="copy one of them (.copy()) where they are taken apart")


def element(container, index):
    """container[index] for a container written in place later, as a private value.

    A list element or a NumPy scalar is what Python would hold too; a view into
    an array would change when the array is written, which diffc's copy would not,
    so it is refused."""
    value = container[index]
    if isinstance(value, np.ndarray) and isinstance(container, np.ndarray) \
            and np.may_share_memory(value, container):
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(
            "this reads a view of an array that is modified in place while the view is still used "
            "(in Python the view would change too)",
            hint="copy it explicitly with .copy()")
    return copy_value(value)


# --------------------------------------------------------------------------- #
# `a + b` on lists and tuples concatenates: its adjoint splits, its tangent pads.

def _sequences(a, b):
    """Whether a + b concatenates (adjoint and tangent containers add elementwise instead)."""
    return isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) \
        and not isinstance(a, ListBar) and not isinstance(b, ListBar)


def head_part(g, a, b):
    """The adjoint of a in r = a + b: g itself, or g's first len(a) entries for a concatenation."""
    if _sequences(a, b):
        return ListBar(g[:len(a)]) if isinstance(g, (list, tuple)) else 0.0
    return g


def tail_part(g, a, b):
    """The adjoint of b in r = a + b: g itself, or g's entries after len(a) for a concatenation."""
    if _sequences(a, b):
        return ListBar(g[len(a):]) if isinstance(g, (list, tuple)) else 0.0
    return g


def cat_left(a_dot, a, b):
    """The tangent of r = a + b due to a: a_dot, or a_dot padded with zeros for b's entries."""
    if _sequences(a, b):
        head = list(a_dot) if isinstance(a_dot, (list, tuple)) else [zeros_dot(v) for v in a]
        return ListBar(head + [zeros_dot(v) for v in b])
    return a_dot


def cat_right(b_dot, a, b):
    """The tangent of r = a + b due to b: b_dot, or zeros for a's entries then b_dot."""
    if _sequences(a, b):
        tail = list(b_dot) if isinstance(b_dot, (list, tuple)) else [zeros_dot(v) for v in b]
        return ListBar([zeros_dot(v) for v in a] + tail)
    return b_dot


def rule_parts(value, n, needed):
    """The contributions a rule called at run time returned, as an n-tuple.

    A rule returns a tuple (one entry per parameter, ``None`` for none) or a
    single value for its first parameter; missing trailing entries and
    ``None`` become 0.0.  `needed` lists the entries the call's differentiated
    arguments need: a rule that returned fewer is an error, not a zero."""
    if n == 1 and not isinstance(value, tuple):
        parts = (value,)
    else:
        parts = tuple(value) if isinstance(value, (tuple, list)) and type(value).__name__ != "ListBar" \
            else (value,)
    for k in needed:
        if k >= len(parts):
            raise TypeError(f"diffc: a derivative rule returned {len(parts)} contribution(s), but argument "
                            f"{k} of the call is differentiated and needs one (return None for "
                            "an argument with no derivative)")
    return tuple(0.0 if p is None else p for p in parts[:n]) + (0.0,) * (n - len(parts))


def nonzero(bar):
    """False only for the plain zero adjoint 0.0 (nothing has flowed back yet)."""
    return type(bar) is not float or bar != 0.0


# --------------------------------------------------------------------------- #
# Pure forms of the helpers above that mutate an adjoint or a tangent buffer.
# Gradient code compiled to be differentiated again (transform/purify.py)
# calls these instead: each returns a new buffer and leaves its arguments
# alone, so the next derivative sees ordinary values, never hidden writes.

def _private(bar):
    """A copy of a materialized adjoint/tangent buffer that may then be written."""
    if isinstance(bar, ListBar) or (isinstance(bar, list)):
        return ListBar(bar)
    if isinstance(bar, DictBar) or isinstance(bar, dict):
        return DictBar(bar)
    return copy_value(bar)


def added_item(bar, primal, index, g):
    """A new buffer equal to bar with g added at index (pure acc_item)."""
    if isinstance(bar, (list, np.ndarray, dict)) or is_duck_array(bar):
        bar = _private(bar)
    return acc_item(bar, primal, index, g)


def zeroed_item(bar, index):
    """A new buffer equal to bar with zeros at index (pure zero_item)."""
    if isinstance(bar, (list, np.ndarray, dict)) or is_duck_array(bar):
        bar = _private(bar)
        take_item(bar, index)
    return bar


def last_bars(bar, n):
    """The adjoints of the last n entries of a list adjoint (pure pop_bars, the read)."""
    if isinstance(bar, list) and n:
        return ListBar(bar[len(bar) - n:])
    return 0.0


def last_bar(bar):
    """The adjoint of the last entry of a list adjoint (pure pop_bar, the read)."""
    if isinstance(bar, list) and bar:
        return bar[-1]
    return 0.0


def without_last(bar, n):
    """A list adjoint without its last n entries (pure pop_bar/pop_bars, the removal)."""
    if isinstance(bar, list) and n:
        return ListBar(bar[:len(bar) - n])
    return bar


def padded_bar(g, bar, n):
    """Adjoint of without_last(bar, n): g followed by n zeros (bar gives the length)."""
    if not isinstance(bar, list) or not n:
        return g
    if not isinstance(g, list):
        return 0.0
    return ListBar(list(g) + [0.0] * n)


def bar_at_end(g, bar, n):
    """Adjoint of last_bars(bar, n) (n None: last_bar): zeros, then g for the last entries."""
    if not isinstance(bar, list) or _is_zero(g) or not (bar if n is None else n):
        return 0.0
    if n is None:
        return ListBar([0.0] * (len(bar) - 1) + [g])
    return ListBar([0.0] * (len(bar) - n) + list(g))


def appended_bar(bar, container, g):
    """A new list adjoint with g appended (pure unpop_bar)."""
    if isinstance(bar, list):
        return ListBar(list(bar) + [g])
    return unpop_bar(bar, container, g)


def written_dot(dot, y, index, value, value_dot):
    """Pure write_dot: a new tangent buffer."""
    if isinstance(dot, (list, np.ndarray, dict)):
        dot = copy_value(dot)
    return write_dot(dot, y, index, value, value_dot)


def appended_dot(dot, lst, value, value_dot):
    """Pure append_dot: a new list tangent."""
    return append_dot(copy_value(dot) if isinstance(dot, list) else dot, lst, value, value_dot)


def extended_dot(dot, lst, seq, seq_dot):
    """Pure extend_dot: a new list tangent."""
    return extend_dot(copy_value(dot) if isinstance(dot, list) else dot, lst, seq, seq_dot)


def popped_dot(dot, value, index=-1):
    """The tangent pop_dot returns, without removing it."""
    if isinstance(dot, list):
        return dot[index]
    return zeros_dot(value)


def without_popped(dot, index=-1):
    """Pure pop_dot, the removal: a new list tangent without the popped entry."""
    if isinstance(dot, list):
        dot = list(dot)
        dot.pop(index)
    return dot


def restored_item(container, index, old):
    """Pure write_item: a new container with old back at index (removed if it was absent)."""
    container = copy_value(container)
    write_item(container, index, old)
    return container


def truncated(lst, n):
    """Pure truncate: a new list without the last n entries."""
    if isinstance(lst, list) and n:
        return list(lst[:len(lst) - n])
    return lst


# Adjoints of the pure helpers (rules/syntax.py): the transposes of these linear maps.

def head_of_appended(g, bar, n=1):
    """Adjoint of the old buffer in appended_bar/appended_dot/extended_dot (n entries added)."""
    if isinstance(bar, list) and isinstance(g, list):
        return ListBar(g[:len(g) - n])
    return 0.0


def bar_at_index(g, dot, index=-1):
    """Adjoint of popped_dot: g at dot[index], zeros elsewhere."""
    if not isinstance(dot, list) or _is_zero(g):
        return 0.0
    out = ListBar([0.0] * len(dot))          # 0.0: the zero adjoint of any entry
    out[index] = g
    return out


def unpadded(g, bar, n):
    """Adjoint of padded_bar: g without its last n entries (g itself when bar was no list)."""
    if not isinstance(bar, list) or not n:
        return g
    return ListBar(g[:len(g) - n]) if isinstance(g, list) else 0.0


def end_of(g, bar, n):
    """Adjoint of bar_at_end: the last entry (n None) or the last n entries of g."""
    if not isinstance(bar, list) or not isinstance(g, list) or not (bar if n is None else n):
        return 0.0
    return g[-1] if n is None else ListBar(g[len(g) - n:])


def pad_if_list(g, bar, n=1):
    """Adjoint of head_of_appended: g followed by n zeros (0.0 when bar was no list)."""
    if isinstance(bar, list) and isinstance(g, list):
        return ListBar(list(g) + [0.0] * n)
    return 0.0


def item_if_list(g, dot, index=-1):
    """Adjoint of bar_at_index: g[index] (0.0 when dot was no list)."""
    return g[index] if isinstance(dot, list) and isinstance(g, list) else 0.0


def removed_at(g, dot, index=-1):
    """Adjoint of inserted_zero: g without the entry at index (g itself when dot was no list)."""
    if not isinstance(dot, list):
        return g
    return without_popped(g, index) if isinstance(g, list) else 0.0


def inserted_zero(g, dot, index=-1):
    """Adjoint of without_popped: g with a zero where the entry was removed."""
    if not isinstance(dot, list):
        return g
    if not isinstance(g, list):
        return 0.0
    at = index if index >= 0 else len(dot) + index
    return ListBar(list(g[:at]) + [0.0] + list(g[at:]))


# ------------------------------------------------ calls of function values
# A call whose callee is a value (a parameter holding a function, a list item, a
# bound method, functools.partial, what another call returned) is differentiated
# at run time: diffc/dynamic.py compiles the callee's derivative for the values at
# hand (cached per callee and argument kinds) and fills this table.  The
# functions below are what generated code calls; derivative rules for them live
# in rules/syntax.py.
DYNAMIC = {}


def call_value(f, args, kwargs):
    """f(*args, **kwargs), the call of a function value."""
    return f(*args, **kwargs)


class Closure:
    """A function value holding values diffc differentiates: a local function (or lambda)
    with the values it captured, or a ``functools.partial`` of differentiated values.

    diffc lifts local functions out of the function that defines them, with
    their free variables as trailing parameters; a call appends them
    (``trail``).  A partial's arguments lead (``lead``, ``keywords``).  The
    adjoint (tangent) of a closure is a list over ``captured()``."""

    __slots__ = ("fn", "lead", "trail", "keywords", "__weakref__")

    def __init__(self, fn, lead=(), trail=(), keywords=None):
        self.fn = fn
        self.lead = tuple(lead)
        self.trail = tuple(trail)
        self.keywords = dict(keywords or {})

    def __call__(self, *args, **kwargs):
        if self.trail:
            # the captured values are the last parameters of the lifted function: by name, so
            # that defaulted parameters the call leaves out keep their defaults
            return self.fn(*self.lead, *args, **dict(zip(self.trail_names(), self.trail)),
                           **{**self.keywords, **kwargs})
        return self.fn(*self.lead, *args, **{**self.keywords, **kwargs})

    def trail_names(self):
        code = self.fn.__code__
        return code.co_varnames[code.co_argcount - len(self.trail):code.co_argcount]

    def captured(self):
        return list(self.lead) + list(self.trail) + list(self.keywords.values())

    def __repr__(self):
        return f"<diffc closure {getattr(self.fn, '__name__', self.fn)}>"


def closure(fn, *trail):
    """The value of a lifted local function: fn with its captured values (see `Closure`)."""
    return Closure(fn, trail=trail)


def partial_value(fn, args, kwargs):
    """functools.partial(fn, *args, **kwargs) when args or kwargs carry derivatives."""
    if isinstance(fn, Closure) and fn.trail:
        from .errors import NoDerivativeRule
        raise NoDerivativeRule("functools.partial of a local function (or lambda) that captures "
                               "differentiated values is not followed",
                               hint="call the local function directly, or pass the captured values "
                                    "to it as arguments")
    return Closure(fn, lead=args, keywords=kwargs)


def closure_dot(values_and_dots):
    """The tangent of closure(fn, *values): a list over the values' tangents."""
    n = len(values_and_dots) // 2
    return ListBar(values_and_dots[n:])


def closure_bars(bar, n):
    """(None, adjoint of each captured value) from the adjoint of closure(fn, *values)."""
    return (None,) + tuple(item(bar, k) if isinstance(bar, list) else 0.0 for k in range(n))


def partial_bars(bar, n_args, keys):
    """(None, adjoints of the positional arguments, of the keywords) of partial_value."""
    captured = [item(bar, k) if isinstance(bar, list) else 0.0 for k in range(n_args + len(keys))]
    return None, ListBar(captured[:n_args]), DictBar(zip(keys, captured[n_args:]))


def partial_dot(da, dk, args, kwargs):
    """The tangent of partial_value(fn, args, kwargs) from the tangents da of args and dk of
    kwargs."""
    return ListBar([item(da, k) for k in range(len(args))]
                   + [item(dk, k) for k in kwargs])


_LIBRARY_MODULES = ("numpy", "scipy", "builtins", "math", "functools", "operator", "diffc", "jax", "torch")


def is_user_object(obj):
    """An instance of a user class holding data in attributes (a model, a layer)."""
    module = (getattr(type(obj), "__module__", "") or "").split(".")[0]
    return module not in _LIBRARY_MODULES and not isinstance(obj, (type, Closure)) \
        and not callable(getattr(obj, "__code__", None)) and hasattr(obj, "__dict__") \
        and not hasattr(obj, "__wrapped__") and bool(fields_of(obj))


class Captured:
    """A called object (or bound method) whose own attributes carry derivatives: the
    derivative of the call includes them (diffc/dynamic.py), an adjoint keyed by name."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value

    def __call__(self, *args, **kwargs):
        return self.value(*args, **kwargs)


def captured_callee(f):
    """f, when it is a function value whose captured values diffc can differentiate:
    a `Closure`, a bound method of a user object, or a callable user object (their
    attributes are differentiated like arguments: diffc/dynamic.py)."""
    import types
    if isinstance(f, types.MethodType) and isinstance(f.__func__, types.FunctionType) \
            and is_user_object(f.__self__):
        return Captured(f)
    if is_user_object(f) and isinstance(getattr(type(f), "__call__", None), types.FunctionType):
        return Captured(f)
    if _holds_nothing_differentiable(f):
        # a plain function read from a differentiated object (self.activation = np.tanh):
        # it captures no differentiated value, so the call's derivative is its arguments'.
        return f
    if not isinstance(f, Closure):
        from .errors import NoDerivativeRule
        raise NoDerivativeRule(f"the function called here ({f!r}) is itself differentiated, or holds "
                               "differentiated values in a way diffc cannot follow (a closure or object "
                               "built outside diffc's view)",
                               hint="pass those values to it as arguments, and differentiate with "
                                    "respect to numbers and arrays, not functions")
    return f


def _holds_nothing_differentiable(f):
    import types
    if isinstance(f, (types.BuiltinFunctionType, np.ufunc)):
        return True
    if isinstance(f, types.FunctionType):
        cells = f.__closure__ or ()
        try:
            return not any(holds_floats(c.cell_contents) or callable(c.cell_contents) for c in cells)
        except ValueError:                  # an empty cell
            return False
    return False


def _dynamic(name):
    try:
        return DYNAMIC[name]
    except KeyError:
        raise RuntimeError("calls of function values need diffc itself (import diffc); "
                           "exported code cannot differentiate them") from None


def vjp_call(f, args, kwargs, seed):
    """(adjoints of args as a list, of kwargs as a dict, of f's captured values as a list or
    0.0) of f(*args, **kwargs) for the cotangent seed."""
    return _dynamic("vjp_call")(f, args, kwargs, seed)


def jvp_call(f, args, kwargs, args_dot, kwargs_dot, f_dot=0.0):
    """The tangent of f(*args, **kwargs) along the tangents of args, kwargs and (for a
    closure) its captured values; 0.0 stands for a zero tangent."""
    return _dynamic("jvp_call")(f, args, kwargs, args_dot, kwargs_dot, f_dot)


def vjp_of_vjp(f, args, kwargs, seed, bar):
    """(args, kwargs, seed, f) adjoints of vjp_call(f, args, kwargs, seed) for the cotangent bar."""
    return _dynamic("vjp_of_vjp")(f, args, kwargs, seed, bar)


def jvp_of_vjp(f, args, kwargs, seed, args_dot, kwargs_dot, seed_dot, f_dot=0.0):
    """The tangent of vjp_call(f, args, kwargs, seed)."""
    return _dynamic("jvp_of_vjp")(f, args, kwargs, seed, args_dot, kwargs_dot, seed_dot, f_dot)


def vjp_of_jvp(f, args, kwargs, da, dk, df, bar):
    """(args, kwargs, da, dk, df, f) adjoints of jvp_call(f, args, kwargs, da, dk, df) for bar."""
    return _dynamic("vjp_of_jvp")(f, args, kwargs, da, dk, df, bar)


def jvp_of_jvp(f, args, kwargs, da, dk, df, args_dot, kwargs_dot, da_dot, dk_dot, df_dot, f_dot=0.0):
    """The tangent of jvp_call(f, args, kwargs, da, dk, df)."""
    return _dynamic("jvp_of_jvp")(f, args, kwargs, da, dk, df, args_dot, kwargs_dot, da_dot, dk_dot,
                                  df_dot, f_dot)


class Held:
    """A constant of a call (what a callee value held: a bound self, a partial's arguments)
    passed among the values of a call (call_values): never differentiated."""

    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def call_values(f, args, kwargs):
    """The argument values of the call f(*args, **kwargs) as diffc/dynamic.py passes them
    (a bound self, a partial's arguments, a closure's captured values, args, kwargs)."""
    return _dynamic("call_values")(f, args, kwargs)


def call_bars(bars, f, args, kwargs):
    """One adjoint per value of call_values -> (args adjoint, kwargs adjoint, f's)."""
    return _dynamic("call_bars")(bars, f, args, kwargs)


def call_dots(df, da, dk, f, args, kwargs):
    """The tangents (df, da, dk) of (f, args, kwargs) -> one tangent per value of call_values.
    (Parameter names without `_dot`: rules bind `<name>_dot` as the tangent of `<name>`.)"""
    return _dynamic("call_dots")(df, da, dk, f, args, kwargs)


def vjp_function(f, args, kwargs):
    """A plain function of (call_values..., seed) computing vjp_call(f, args, kwargs, seed)."""
    return _dynamic("vjp_function")(f, args, kwargs)


def jvp_function(f, args, kwargs):
    """A plain function of (call_values..., their tangents...) computing the call's tangent."""
    return _dynamic("jvp_function")(f, args, kwargs)


def as_call_bars(t, f, args, kwargs):
    """vjp_function's result (or its tangent) as (ListBar, DictBar, f adjoint)."""
    return _dynamic("as_call_bars")(t, f, args, kwargs)


def dot_like(dot, value):
    """The tangent dot, a zero array shaped like value when dot is the plain zero 0.0."""
    if _is_zero(dot) and not isinstance(dot, np.ndarray) and not isinstance(value, (float, np.floating)):
        return zeros_dot(value)
    return dot


def dot_like_bar(g, dot):
    """The adjoint of dot_like with respect to dot."""
    if isinstance(dot, (list, tuple, dict)):
        return g
    if isinstance(g, (list, tuple, dict)):
        return 0.0
    return unbroadcast(g, dot)


def dot_like_bar_bar(c, g):
    """The adjoint of dot_like_bar with respect to g: c broadcast back to g's shape."""
    if isinstance(g, (list, tuple, dict)) or isinstance(c, (list, tuple, dict)):
        return c
    return broadcast_like(c, g)


def zip_star(rows):
    """zip(*rows) as a list of tuples (a transpose), for `for a, b in zip(*pairs)`."""
    return [tuple(r) for r in zip(*rows)]


def zip_star_bar(g, rows):
    """The adjoint of zip_star: the adjoint of each column entry goes back to its row."""
    n = min((len(r) for r in rows), default=0)
    out = ListBar()
    for i, r in enumerate(rows):
        bars = [item(item(g, j), i) if j < n else 0.0 for j in range(len(r))]
        if isinstance(r, np.ndarray):
            out.append(np.array([np.broadcast_to(b, np.shape(r[0])) for b in bars], dtype=np.result_type(r, float)))
        else:
            out.append(ListBar(bars))
    return out


def zip_star_dot(rd, rows):
    """The tangent of zip_star from the rows' tangent rd (also the transpose of zip_star_bar:
    list adjoints, which add elementwise)."""
    if _is_zero(rd):
        return 0.0
    return ListBar(ListBar(item(item(rd, i), j) for i in range(len(rows)))
                   for j in range(min((len(r) for r in rows), default=0)))


def zip_lists_regroup(c, seqs):
    """The transpose of zip_lists_bars (linear in c): pairs from per-sequence adjoints."""
    n = min((len(s) for s in seqs), default=0)
    return [tuple(item(item(c, k), i) for k in range(len(seqs))) for i in range(n)]


def zip_lists(*seqs):
    """list(zip(*seqs)): zip outside a for loop, whose items carry derivatives."""
    return list(zip(*seqs))


def _rows_bar(bars, seq):
    if isinstance(seq, np.ndarray):
        return np.array([np.broadcast_to(b, seq.shape[1:]) for b in bars], dtype=np.result_type(seq, float)) \
            if len(bars) else np.zeros(seq.shape, dtype=np.result_type(seq, float))
    return ListBar(bars)


def zip_lists_bars(g, seqs):
    """The adjoint of zip_lists: item k of every pair goes back to sequence k."""
    n = min((len(s) for s in seqs), default=0)
    return tuple(_rows_bar([item(item(g, i), k) if i < n else 0.0 for i in range(len(s))], s)
                 for k, s in enumerate(seqs))


def zip_lists_dot(seqs_and_dots):
    half = len(seqs_and_dots) // 2
    seqs, dots = seqs_and_dots[:half], seqs_and_dots[half:]
    n = min((len(s) for s in seqs), default=0)
    return [tuple(item(d, i) for d in dots) for i in range(n)]


def enumerate_list(seq, start=0):
    """list(enumerate(seq, start)) outside a for loop."""
    return list(enumerate(seq, start))


def enumerate_bar(g, seq):
    return _rows_bar([item(item(g, i), 1) for i in range(len(seq))], seq)


def enumerate_dot(sd, seq, start=0):
    return [(0.0, item(sd, i)) for i in range(len(seq))]


def closure_bars_bar(c, n):
    """The transpose of closure_bars (linear in c): a closure adjoint from per-value ones."""
    return ListBar([item(c, k + 1) for k in range(n)])


def closure_dot_bar(c, m):
    """The adjoint of closure_dot's (values..., dots...) argument."""
    return ListBar([0.0] * (m // 2) + [item(c, k) for k in range(m // 2)])


def partial_regroup(c, n_args, keys):
    """The transpose of partial_bars (linear in c)."""
    return ListBar([item(item(c, 1), k) for k in range(n_args)] + [item(item(c, 2), key) for key in keys])


# ------------------------------------------------ fields of objects
class FieldBar(DictBar):
    """Adjoint (or tangent) of an object read through its attributes (``params.W``): one
    entry per attribute; `finalize` turns it into an object of the argument's type."""


def named_field_bar(primal, bar=0.0):
    """A FieldBar for the NamedTuple primal (its `order` maps positions to names), holding
    bar (0.0, a list over the entries or a dict by name)."""
    out = FieldBar()
    out.order = tuple(primal._fields)
    if isinstance(bar, (dict, list, tuple)):
        out += bar
    return out


def get_field(obj, name):
    """obj.name, for an object that carries derivatives (a dataclass, NamedTuple, model)."""
    return getattr(obj, name)


def is_plain_field(obj, name):
    """Whether obj.name is stored data (an instance attribute, a NamedTuple or dataclass
    field, a slot, a plain class attribute), not computed by a property's getter."""
    import inspect
    if isinstance(obj, tuple) and name in getattr(obj, "_fields", ()):
        return True
    if name in getattr(obj, "__dict__", {}):
        return True
    attr = inspect.getattr_static(type(obj), name, None)
    if attr is None:
        return True                         # getattr raises as Python would
    return not (hasattr(attr, "__get__") and (hasattr(attr, "fget") or hasattr(attr, "func")))


def field_getter(obj, name):
    """The function computing obj.name for a property (its fget) or a cached_property."""
    import inspect
    attr = inspect.getattr_static(type(obj), name, None)
    fn = getattr(attr, "fget", None) or getattr(attr, "func", None)
    if fn is None:
        raise TypeError(f"{type(obj).__name__}.{name} is computed by a descriptor diffc cannot "
                        "differentiate through")
    return fn


def field_bar(g, obj, name):
    """The adjoint of get_field: the attribute's adjoint, under its name."""
    out = FieldBar({name: g})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        out.order = tuple(obj._fields)
    return out


def field_dot(od, obj, name):
    """The tangent of get_field(obj, name) from obj's tangent od: the attribute's entry;
    refused (check_field_keys) for an attribute that is not a field, whose tangent od lacks."""
    if not _is_zero(od) and od is not None and isinstance(od, dict) \
            and name not in od and name not in fields_of(obj):
        check_field_keys({name: 1.0}, type(obj), fields_of(obj))
    return field_of(od, name)


def field_of(bar, name):
    """The attribute `name` of an object's adjoint or tangent (0.0 when it has none)."""
    if isinstance(bar, dict):
        return bar.get(name, 0.0)
    if _is_zero(bar) or bar is None:
        return 0.0
    return getattr(bar, name, 0.0)


def fields_of(x):
    """The attributes of an object that are its data (NamedTuple, dataclass or plain object)."""
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return list(x._fields)
    fields = getattr(type(x), "__dataclass_fields__", None)
    if fields is not None:
        return list(fields)
    return list(getattr(x, "__dict__", {}))


def like_object(bar, x):
    """An adjoint keyed by attribute name, as an object of x's type (as JAX does for pytrees)."""
    import copy
    import dataclasses
    names = fields_of(x)
    check_field_keys(bar, type(x), names)
    values = {name: finalize(field_of(bar, name), getattr(x, name)) for name in names}
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return type(x)(**values)
    if dataclasses.is_dataclass(x):
        init = {f.name for f in dataclasses.fields(x) if f.init}
        out = dataclasses.replace(x, **{k: v for k, v in values.items() if k in init})
        for k, v in values.items():
            if k not in init:
                object.__setattr__(out, k, v)
        return out
    out = copy.copy(x)
    for k, v in values.items():
        setattr(out, k, v)
    return out


def build_object(cls, fields):
    """An object of the user class cls with the attributes `fields` (a dict): what cls(...)
    built from differentiated values (transform/constructors.py made the dict from the
    constructor's own code).  An entry that is the constructors' UNSET marker (an attribute
    the constructor did not set on this path) is left out."""
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return cls(**fields)
    obj = object.__new__(cls)
    for name, value in fields.items():
        if type(value).__name__ != "Unset":
            object.__setattr__(obj, name, value)
    return obj


def check_field_keys(bar, cls, names):
    """Refuse an object adjoint holding an attribute that is neither a field of the object
    nor a class attribute (a constant): its derivative would be dropped silently (an
    attribute made by __getattr__, or set outside the constructor)."""
    if not isinstance(bar, dict):
        return
    for key in bar:
        if key in names or isinstance(key, int) or _is_zero(bar[key]):
            continue
        if isinstance(cls, type) and key in dir(cls):
            continue                        # a class attribute: a constant
        from .errors import NoDerivativeRule
        raise NoDerivativeRule(f"the attribute {key!r} of a {getattr(cls, '__name__', cls)} object carries a "
                               "derivative but is not one of its fields (made by __getattr__ or set "
                               "after construction); diffc cannot give its derivative back",
                               hint="make it an attribute the constructor sets, or a property")


def object_fields_bar(bar, cls, names):
    """The adjoint (tangent) of an object's attributes as a dict, from the adjoint of the
    object: a FieldBar, an object of its type, a list over a NamedTuple's entries, or 0.0."""
    check_field_keys(bar, cls, names)
    out = DictBar()
    for i, name in enumerate(names):
        if isinstance(bar, dict):
            out[name] = bar.get(name, 0.0)
        elif isinstance(bar, list) or (isinstance(bar, tuple) and not hasattr(bar, "_fields")):
            out[name] = bar[i] if i < len(bar) else 0.0
        elif _is_zero(bar) or bar is None:
            out[name] = 0.0
        else:
            out[name] = getattr(bar, name, 0.0)
    return out


def fields_object_bar(c, cls, names):
    """The transpose of object_fields_bar (linear in c): a dict of adjoints keyed by
    attribute, as the adjoint of the object (a FieldBar)."""
    out = FieldBar({name: item(c, name) if isinstance(c, dict) else 0.0 for name in names})
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        out.order = tuple(cls._fields)
    return out


def object_dot(cls, fields_dot):
    """The tangent of build_object(cls, fields): a NamedTuple of tangents for a NamedTuple
    (read by index or name), a FieldBar (read by name) otherwise."""
    names = list(fields_dot) if isinstance(fields_dot, dict) else []
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return cls(**{n: (fields_dot.get(n, 0.0) if isinstance(fields_dot, dict) else 0.0)
                      for n in cls._fields})
    return FieldBar({n: fields_dot[n] for n in names})


def replace_fields(obj, changes):
    """obj._replace(**changes) for a NamedTuple, dataclasses.replace(obj, **changes) for a
    dataclass: a copy of obj with some fields changed (their values may carry derivatives)."""
    import dataclasses
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return obj._replace(**changes)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return dataclasses.replace(obj, **changes)
    raise TypeError(f"{type(obj).__name__} is neither a NamedTuple nor a dataclass: diffc cannot "
                    "differentiate its _replace")


def _order_of(obj):
    return tuple(obj._fields) if isinstance(obj, tuple) and hasattr(obj, "_fields") else ()


def replaced_bars(bar, obj, names):
    """The adjoint of replace_fields: (adjoint of obj without the replaced fields, DictBar of
    the replaced fields' adjoints).  Linear in bar."""
    kept = FieldBar()
    kept.order = _order_of(obj)
    changed = DictBar()
    for name in fields_of(obj):
        value = item(bar, name) if isinstance(bar, dict) else field_of(bar, name)
        if name in names:
            changed[name] = value
        else:
            kept[name] = value
    return kept, changed


def merged_bars(c, obj, names):
    """The transpose of replaced_bars (linear in c): one adjoint of obj from the two parts."""
    out = FieldBar()
    out.order = _order_of(obj)
    kept, changed = (item(c, 0), item(c, 1)) if not _is_zero(c) else (0.0, 0.0)
    for name in fields_of(obj):
        part = changed if name in names else kept
        out[name] = item(part, name) if isinstance(part, dict) else field_of(part, name)
    return out


def replaced_dot(od, cd, obj, names):
    """The tangent of replace_fields(obj, changes) from the tangents od of obj and cd of
    changes (linear in them)."""
    return merged_bars((od, cd), obj, names)


def unbound_method(obj, name):
    """The function behind obj.name(...), to be called with obj as its first argument
    (so obj's own attributes can carry derivatives into the method)."""
    import inspect
    attr = inspect.getattr_static(type(obj), name, None)
    if isinstance(attr, type(unbound_method)):
        return attr
    if name in getattr(obj, "__dict__", {}) or (attr is not None and not hasattr(attr, "__get__")):
        # self.activation(x) with self.activation = np.tanh (or a callable layer object) set
        # on the instance: a function reading the attribute and calling it (diffc/dynamic.py)
        return _dynamic("attribute_caller")(name)
    raise TypeError(f"{type(obj).__name__}.{name} is not a plain method, and the object holds "
                    "differentiated values; diffc cannot differentiate through it")


def unit_cotangents(x):
    """The unit vectors e_i shaped like x (floats for a 0-d x): Jacobian rows or columns."""
    shape = np.shape(x)
    n = int(np.prod(shape)) if shape else 1
    out = []
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        out.append(e.reshape(shape) if shape else 1.0)
    return out


def concat_parts(*parts):
    """The tuple (*parts[0], *parts[1], ...): the arguments of a starred call, or a display
    with starred items (transform/starred.py)."""
    out = []
    for p in parts:
        out.extend(p)
    return tuple(out)


def concat_parts_bars(g, parts):
    """The adjoint of concat_parts: one list adjoint per part."""
    bars, offset = [], 0
    for p in parts:
        n = len(p)
        bars.append(ListBar([item(g, offset + i) for i in range(n)]))
        offset += n
    return tuple(bars)


def concat_parts_regroup(c, parts):
    """The transpose of concat_parts_bars (linear in c): one adjoint per item."""
    out = []
    for k, p in enumerate(parts):
        out.extend(item(item(c, k), i) for i in range(len(p)))
    return ListBar(out)


def concat_parts_dot(parts_and_dots):
    """The tangent of concat_parts(*parts) from the parts' tangents (0.0: zero)."""
    n = len(parts_and_dots) // 2
    parts, dots = parts_and_dots[:n], parts_and_dots[n:]
    out = []
    for p, d in zip(parts, dots):
        out.extend(item(d, i) for i in range(len(p)))
    return tuple(out)


def concat_dot_bar(c, parts_and_dots):
    """The adjoint of concat_parts_dot's (parts..., dots...) argument."""
    n = len(parts_and_dots) // 2
    bars = concat_parts_bars(c, parts_and_dots[:n])
    return ListBar([0.0] * n + list(bars))


def merge_kwargs(*dicts):
    """{**d1, **d2, ...}: the keyword arguments of a call with several ``**`` parts."""
    out = {}
    for d in dicts:
        out.update(d)
    return out


def _owners(dicts):
    owner = {}
    for k, d in enumerate(dicts):
        for key in d:
            owner[key] = k
    return owner


def merge_kwargs_bars(g, dicts):
    """The adjoint of merge_kwargs: each key's adjoint goes to the last dict holding it."""
    owner = _owners(dicts)
    bars = [DictBar() for _ in dicts]
    for key, k in owner.items():
        bars[k][key] = item(g, key)
    return tuple(bars)


def merge_kwargs_dot(dicts_and_dots):
    n = len(dicts_and_dots) // 2
    dicts, dots = dicts_and_dots[:n], dicts_and_dots[n:]
    return {key: item(dots[k], key) for key, k in _owners(dicts).items()}


def holds_floats(value, depth=0):
    """Whether value holds floats (a number, a float array, a container or an object with
    such attributes): what a derivative can be taken for."""
    import types
    if depth > 8 or isinstance(value, (bool, np.bool_, str, type(None), types.FunctionType, type,
                                       types.ModuleType, Held)):
        return False
    if isinstance(value, (float, np.floating, complex, np.complexfloating)):
        return True
    if isinstance(value, np.ndarray) or is_duck_array(value):
        return value.dtype.kind in "fc"
    if isinstance(value, (list, tuple)):
        return any(holds_floats(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(holds_floats(v, depth + 1) for v in value.values())
    if isinstance(value, (int, np.integer)):
        return False
    if isinstance(value, Closure):          # a function value holding differentiated values
        return any(holds_floats(v, depth + 1) for v in value.captured())
    return any(holds_floats(getattr(value, name, None), depth + 1) for name in fields_of(value))
