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

from .runtime_floats import buffer_part, float64_world, is_whole, real_where_real, written_bar  # noqa: F401 (runtime.x)
from .runtime_scatter import repeats, scatter_sum, written_last
from .runtime_try import (TRY_SITES, Entered, TryRun, exception_type, traceback_of, try_enter,  # noqa: F401
                          try_exit, try_step, with_enter)


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
    object_fields = False  # a FieldBar of an object of a user class (runtime_calls.FieldBar)

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
    if type(value) is float or type(value) is np.ndarray:    # first: an ABC check costs 0.3 us
        return type(value) is float and value == 0.0
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
    a 1-d float64 ndarray (optimize/read_float_items.py).

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


def as_sequence(x):
    """What `for v in x` iterates over, as an indexable sequence.  An endless iterator
    (itertools.count, cycle, repeat without a count) is refused: listing it never ends."""
    if isinstance(x, (list, tuple, np.ndarray, range, str)) or is_duck_array(x):
        return x
    if type(x).__module__ == "itertools" and type(x).__name__ in ("count", "cycle", "repeat"):
        try:
            endless = type(x).__name__ != "repeat" or x.__length_hint__() is None
        except TypeError:
            endless = True
        if endless:
            from .errors import UnsupportedSyntax
            raise UnsupportedSyntax(
                f"iterating over the endless iterator {x!r} here: diffc lists an iterator before the "
                "loop that consumes it, which never ends for this one",
                hint="loop over range(n) (a for over itertools.count(...) itself is supported), or "
                     "limit it with itertools.islice(it, n)")
    return list(x)


def sequence_dot(x_dot):
    """The tangent of as_sequence(x): as_sequence of x's tangent, the zero 0.0 kept (the
    tangent of a field of an object whose tangent is zero: items of 0.0 are 0.0)."""
    if isinstance(x_dot, float) and x_dot == 0.0:
        return x_dot
    return as_sequence(x_dot)


class CountSequence:
    """itertools.count(start, step) as an indexable sequence of (almost) endless length,
    for `for k in itertools.count(...)` (desugar): the loop stops by a break or return."""

    def __init__(self, start=0, step=1):
        self.start, self.step = start, step

    def __len__(self):
        return 2 ** 62

    def __getitem__(self, k):
        return self.start + k * self.step


def index_concat(maker, key):
    """maker[key] for NumPy's index concatenators (``np.r_``, ``np.c_``).

    Desugaring rewrites ``np.r_[a, 0:3, b]`` into ``index_concat(np.r_, (a, slice(0, 3, None), b))``
    so that the concatenation is a call with derivative rules (rules/shapes.py) instead of
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
        if getattr(bar, "object_fields", False) and not order and not isinstance(index, str):
            refuse_object_items(None, "[...]")      # the tangent of an object, indexed
        if order and isinstance(index, (int, np.integer, slice)):
            # a NamedTuple's adjoint kept by field name (FieldBar), read by position
            if isinstance(index, slice):
                return ListBar(bar.get(n, 0.0) for n in order[index])
            return bar.get(order[index], 0.0)
        return bar.get(index, 0.0)
    return bar if is_whole(index) else 0.0      # a 0-d array's adjoint or tangent is a number


def refuse_object_items(obj, method):
    """Refuse obj[...] on an object of a user class (its own __getitem__ / __setitem__):
    reached here, the statement was compiled not knowing obj's class (it came from a
    function choosing the class when the code runs, a list, a dict...), and the rules of
    list and array items would give it a wrong derivative.  obj None: an object's tangent
    or adjoint indexed by position."""
    if obj is not None:
        if isinstance(obj, (tuple, dict, numbers.Number, str, range)) or is_duck_array(obj):
            return
        found = getattr(type(obj), method, None)
        code = getattr(found, "__code__", None)
        if code is None or "-packages" in code.co_filename or code.co_filename.startswith("<diffc"):
            return                          # a library's class (pandas...): its own rules or errors
    from .errors import NoDerivativeRule
    name = type(obj).__name__ if obj is not None else "a user class"
    raise NoDerivativeRule(
        f"indexing an object of {name} (its {method}) where diffc compiled the statement without "
        "knowing the object's class (it came from a function that chooses the class when the code "
        "runs, a list, a dict...): diffc would apply the rules of list and array items to it",
        hint="build the object in the differentiated function by a call of its class, or call the "
             "method by name (obj.__getitem__(i)) on an object made there")


def _is_fancy(index):
    t = type(index)     # whether an index holds an array or list (slices and ints first)
    if t is tuple:
        for i in index:
            ti = type(i)
            if ti is not slice and ti is not int and _is_fancy(i):
                return True
        return False
    return t is np.ndarray or t is list or isinstance(index, (list, np.ndarray))


def acc_item(bar, primal, index, g):
    """bar[index] += g, materializing bar like primal; returns bar.

    A list's adjoint starts as zeros 0.0 (the zero adjoint, never materialized):
    a list of arrays read element by element in a loop would otherwise make a
    zero array per element first."""
    if _is_zero(g):
        # Nothing flows back; the zero adjoint of a slice (a list read that reached no
        # output: `for W, b in params[1:-1]` over an empty slice) is the float 0.0.
        return bar
    if type(primal) is not np.ndarray and type(primal) is not list and primal is not None:
        refuse_object_items(primal, "__getitem__")
    if type(bar) is float and type(primal) is np.ndarray:     # an array's first contribution
        fancy = _is_fancy(index)
        sums = scatter_sum(index, g, primal.shape) if fancy and primal.dtype == np.float64 else None
        return sums if sums is not None else _acc_array(zeros_like(primal), primal, index, g, fancy)
    if type(bar) is np.ndarray:
        return _acc_array(bar, primal, index, g, _is_fancy(index))
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
        return _acc_array(bar, primal, index, g, _is_fancy(index))
    if is_duck_array(bar):
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


def _acc_array(bar, primal, index, g, fancy):
    """bar[index] += g for an ndarray adjoint bar (repeated fancy indices accumulate)."""
    try:
        if fancy:
            add_at(bar, index, g)
        else:
            bar[index] += g
    except TypeError:
        if not (np.iscomplexobj(g) and bar.dtype.kind != "c"):
            raise
        # a complex adjoint for a real array: its real part is the cotangent (complex_rules.py)
        acc_item(bar, primal, index, np.real(g))
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
    """np.add.at(bar, index, g) for an ndarray bar (repeated indices accumulate); a float64
    bar takes the sums of `scatter_sum` where it applies (several times faster)."""
    if type(bar) is np.ndarray and bar.dtype == np.float64:
        sums = scatter_sum(index, g, bar.shape)
        if sums is not None:
            bar += sums
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
            if repeats(index):
                value[~written_last(bar.shape, index, value.shape)] = 0.0
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
    return bar if is_whole(index) else 0.0      # a 0-d array's adjoint is a number (buffer_part)


class ShapeOf:
    """An ndarray's shape (and whether it is real) kept where only the shape is read
    (optimize/keep_tape_shapes.py): ``np.shape`` and unbroadcast read it like the array's."""
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
    real (JAX's convention; diffc/rules/complex_rules.py); a real g for a complex array x
    is made complex, so complex terms can later be added to it in place."""
    tg = type(g)
    if tg is not np.ndarray:
        if tg is float:
            return g
        if tg is complex or isinstance(g, np.complexfloating):
            return g.real if is_real_value(x) else g
        if not isinstance(g, np.ndarray) and not is_duck_array(g):
            return g
        return _unbroadcast_general(g, x)
    dtype, tx = g.dtype, type(x)
    if dtype is not _FLOAT64 and dtype.kind == "c":
        g = np.real(g).copy() if is_real_value(x) else g
    elif (x.dtype is not _FLOAT64 and x.dtype.kind == "c") if tx is np.ndarray else tx is ShapeOf and not x.real:
        g = g + 0j
    # The common case first, without a numpy-level call: same shape, nothing to sum.
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
    (_GENERAL,): g has fewer axes than x, length 1 where x has more, or an empty
    axis: the general code."""
    extra = len(gshape) - len(shape)
    if extra < 0 or 0 in gshape or any(
            gshape[extra + k] == 1 and shape[k] != 1 for k in range(len(shape))):
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
    spread = np.broadcast_shapes(g.shape, shape)
    if spread != g.shape:
        # g smaller than x (fewer axes, or length 1 where x has more) stands for its
        # broadcast: the zero adjoint 0.0 times the smaller factor of a broadcasting
        # product (0.0 * b for W * b, 0.0 * c for c * r with c (3, 1), r (1, 3)).
        g = np.broadcast_to(g, spread).copy()
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
            and (fields_of(x) or is_fieldless_object(x)):
        return like_object(bar, x)          # attributes' adjoints, as an object of x's type
    return bar


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


_LIBRARY_ROOTS = ("numpy", "scipy", "builtins", "math", "functools", "operator", "diffc")


def is_fieldless_object(x):
    """An instance of a user class holding no data (an activation layer ``Tanh()``): a
    constant, whose gradient in a container is an object of its class with no fields."""
    import types
    if isinstance(x, (type, types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.ModuleType)):
        return False
    module = (getattr(type(x), "__module__", "") or "").split(".")[0]
    held = getattr(x, "__dict__", None)
    return module not in _LIBRARY_ROOTS and isinstance(held, dict) and not held \
        and not hasattr(x, "__wrapped__")


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



def copy_value(x):
    """A private copy of a value about to be overwritten in place."""
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, (ListBar, DictBar)):
        return x + type(x)()           # an adjoint/tangent container keeps its class, adding rules, order
    if isinstance(x, list):
        return list(x)
    if isinstance(x, dict):
        # a defaultdict, OrderedDict or Counter keeps its class (and default factory)
        return dict(x) if type(x) is dict else x.copy()
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


def is_absent(old):
    """Whether read_item found no entry (a dict key added by the write)."""
    return old is _ABSENT


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
    if type(y) is not np.ndarray and type(y) is not list:
        refuse_object_items(y, "__setitem__")
    if isinstance(y, np.ndarray) and y.dtype.kind in "iub":
        value_dot = None                # NumPy truncates what it writes there: no derivative
    if value_dot is None and not isinstance(dot, (np.ndarray, list, dict)):   # a zero tangent stays zero,
        return 0.0 if is_whole(index) else dot      # a number (a 0-d array's) written whole is zero
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
    """Adjoint of unbroadcast(x, like): g spread back over the shape of x (complex for a complex x)."""
    if not isinstance(x, np.ndarray) or isinstance(g, (list, tuple, dict)):
        return g
    cx = x.dtype.kind == "c"
    if np.shape(g) == x.shape:
        return g + 0j if cx and not np.iscomplexobj(g) else g
    spread = np.broadcast_shapes(np.shape(g), x.shape)
    if spread != x.shape:
        # x was smaller than unbroadcast's target on some axis (a zero adjoint times the smaller
        # factor, spread before the sum): the adjoint of that spread is a sum back down to x.
        return unbroadcast(np.broadcast_to(g, spread), x)
    return np.broadcast_to(g, x.shape).astype(np.result_type(g, np.float64, *((x.dtype,) if cx else ())))


def item_bar(g, container, index):
    """Adjoint of item(container, index) with respect to container."""
    if not isinstance(container, (list, tuple, np.ndarray, dict)) or _is_zero(g):
        return g if is_whole(index) and not is_duck_array(container) else 0.0   # a number's [...]: itself
    return acc_item(0.0, container, index, g)


def updates_in_place(x):
    """Whether `x op= v` updated x's object in place (arrays, lists, dicts) rather than rebinding x."""
    return isinstance(x, (np.ndarray, list, dict, bytearray)) or is_duck_array(x)


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


def nonzero(bar):
    """False only for the plain zero adjoint 0.0 (nothing has flowed back yet)."""
    return type(bar) is not float or bar != 0.0
