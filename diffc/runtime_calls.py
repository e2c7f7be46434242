"""Runtime helpers for calls of function values and for fields of objects.

Input/output: what generated code calls when the callee is a value (a parameter
holding a function, a list item, a bound method, functools.partial, what another call
returned: `call_value`, `vjp_call`, `jvp_call`, closures, partials, zip/enumerate of
lists) or reads a field of a user object (`get_field`, `field_bar`, `like_object`).
diffc/dynamic.py fills `DYNAMIC` with the compiled derivatives these helpers call;
their derivative rules are in rules/dynamic_rules.py.  Like runtime.py, imports nothing
but NumPy and runtime.py.
"""

import numpy as np

from .runtime import DictBar, ListBar, fields_of, is_duck_array, item, is_zero as _is_zero


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
        return self.fn(*self.lead, *args, *self.trail, **{**self.keywords, **kwargs})

    def captured(self):
        return list(self.lead) + list(self.trail) + list(self.keywords.values())

    def __repr__(self):
        return f"<diffc closure {getattr(self.fn, '__name__', self.fn)}>"


def closure(fn, *trail):
    """The value of a lifted local function: fn with its captured values (see `Closure`)."""
    return Closure(fn, trail=trail)


def partial_value(fn, args, kwargs):
    """functools.partial(fn, *args, **kwargs) when args or kwargs carry derivatives."""
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


def partial_dot(args_dot, kwargs_dot, args, kwargs):
    """The tangent of partial_value(fn, args, kwargs)."""
    return ListBar([item(args_dot, k) for k in range(len(args))]
                   + [item(kwargs_dot, k) for k in kwargs])


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
    if not isinstance(f, Closure):
        from .errors import NoDerivativeRule
        raise NoDerivativeRule(f"the function called here ({f!r}) is itself differentiated, or holds "
                               "differentiated values in a way diffc cannot follow (a closure or object "
                               "built outside diffc's view)",
                               hint="pass those values to it as arguments, and differentiate with "
                                    "respect to numbers and arrays, not functions")
    return f


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


def zip_star_dot(rows_dot, rows):
    if _is_zero(rows_dot):
        return 0.0
    return [tuple(item(item(rows_dot, i), j) for i in range(len(rows)))
            for j in range(min((len(r) for r in rows), default=0))]


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


def enumerate_dot(seq_dot, seq, start=0):
    return [(0.0, item(seq_dot, i)) for i in range(len(seq))]


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


def get_field(obj, name):
    """obj.name, for an object that carries derivatives (a dataclass, NamedTuple, model)."""
    return getattr(obj, name)


def field_bar(g, obj, name):
    """The adjoint of get_field: the attribute's adjoint, under its name."""
    return FieldBar({name: g})


def unbound_method(obj, name):
    """The function behind obj.name(...), to be called with obj as its first argument
    (so obj's own attributes can carry derivatives into the method)."""
    import inspect
    attr = inspect.getattr_static(type(obj), name, None)
    if isinstance(attr, type(unbound_method)):
        return attr
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


def merge_kwargs_regroup(c, dicts):
    """The transpose of merge_kwargs_bars: the per-dict adjoints c back as one DictBar."""
    out = DictBar()
    if _is_zero(c):
        return out
    for key, k in _owners(dicts).items():
        out[key] = item(item(c, k), key)
    return out


def merge_kwargs_dot_bar(g, dicts_and_dots):
    """The adjoint of merge_kwargs_dot: zeros for the dicts, each key's adjoint to the tangent
    of the last dict holding it."""
    n = len(dicts_and_dots) // 2
    return ListBar([0.0] * n + list(merge_kwargs_bars(g, dicts_and_dots[:n])))


def with_tangents(dicts_and_dots, other):
    """The dicts of dicts_and_dots followed by the tangent half of `other` (the tangent or
    adjoint of the same tuple): merge_kwargs_dot is linear in that half only."""
    n = len(dicts_and_dots) // 2
    if _is_zero(other):
        return tuple(dicts_and_dots[:n]) + tuple(0.0 for _ in range(n))
    return tuple(dicts_and_dots[:n]) + tuple(item(other, n + k) for k in range(n))


def merge_kwargs_dot(dicts_and_dots):
    n = len(dicts_and_dots) // 2
    dicts, dots = dicts_and_dots[:n], dicts_and_dots[n:]
    return {key: item(dots[k], key) for key, k in _owners(dicts).items()}


def holds_floats(value, depth=0):
    """Whether value holds floats (a number, a float array, a container or an object with
    such attributes): what a derivative can be taken for."""
    import types
    if depth > 8 or isinstance(value, (bool, np.bool_, str, type(None), types.FunctionType, type,
                                       types.ModuleType)):
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
    return any(holds_floats(getattr(value, name, None), depth + 1) for name in fields_of(value))
