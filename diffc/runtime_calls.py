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

from .runtime_named import is_library_named_tuple, library_field_bar, named_entry
from .runtime import (DictBar, ListBar, fields_of, is_duck_array, is_fieldless_object, item, is_zero as _is_zero,
                      zeros_dot, unbroadcast, broadcast_like, field_of, check_field_keys)


# ------------------------------------------------ calls of function values
# A call whose callee is a value (a parameter holding a function, a list item, a
# bound method, functools.partial, what another call returned) is differentiated
# at run time: diffc/dynamic.py compiles the callee's derivative for the values at
# hand (cached per callee and argument kinds) and fills this table.  The
# functions below are what generated code calls; derivative rules for them live
# in rules/syntax.py.
DYNAMIC = {}


def call_value(f, args, kwargs):
    """f(*args, **kwargs), the call of a function value; for a library class whose objects
    diffc builds itself (``make = CubicSpline; make(x, y)``, rules' `implemented_by` with
    ``__diffc_builds_object__``), the object diffc reads, so that what it holds is followed
    (the library's own object would be an opaque constant: a silent zero)."""
    for hook in OBJECT_BUILDERS:
        built = hook(f)
        if built is not None:
            return built(*args, **kwargs)
    return f(*args, **kwargs)


# Hooks f -> the function building diffc's own object in place of the library class f, or None.
OBJECT_BUILDERS = []


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

    def __getattr__(self, name):
        # attributes set on the function (``event.terminal = True``, set_function_attribute)
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.fn, name)

    def __repr__(self):
        return f"<diffc closure {getattr(self.fn, '__name__', self.fn)}>"


def set_function_attribute(fn, name, value):
    """``f.name = value`` for a function defined in the differentiated function (a solve_ivp
    event's ``terminal``/``direction``): set on the function it runs, which every closure
    value of it reads (`Closure.__getattr__`)."""
    target = fn.fn if isinstance(fn, Closure) else fn
    setattr(target, name, value)


def closure(fn, *trail):
    """The value of a lifted local function: fn with its captured values (see `Closure`)."""
    return Closure(fn, trail=trail)


def partial_value(fn, args, kwargs):
    """functools.partial(fn, *args, **kwargs) when fn, args or kwargs carry derivatives.  A
    partial of a partial (or of a local function with its captured values, a trail) is one
    partial of the innermost function, as functools makes it: its captured() are fn's
    leading arguments, args, fn's trail, then fn's keywords updated by kwargs (partial_bars)."""
    if isinstance(fn, Closure):
        return Closure(fn.fn, lead=fn.lead + tuple(args), trail=fn.trail, keywords={**fn.keywords, **kwargs})
    return Closure(fn, lead=args, keywords=kwargs)


def inner_layout(fn):
    """How the function value fn sits in a partial of it (partial_value): (its leading
    arguments, its captured values, its keywords' names) for a Closure, else 0."""
    if isinstance(fn, Closure):
        return len(fn.lead), len(fn.trail), tuple(fn.keywords)
    return 0


def _layout(layout):
    return layout if isinstance(layout, tuple) else (0, layout, ())


def closure_dot(values_and_dots):
    """The tangent of closure(fn, *values): a list over the values' tangents."""
    n = len(values_and_dots) // 2
    return ListBar(values_and_dots[n:])


def closure_bars(bar, n):
    """(None, adjoint of each captured value) from the adjoint of closure(fn, *values)."""
    return (None,) + tuple(item(bar, k) if isinstance(bar, list) else 0.0 for k in range(n))


def partial_bars(bar, n_args, keys, layout):
    """(adjoint of fn: a list over its captured() or None for a plain function; adjoints of
    the positional arguments, of the keywords) of partial_value(fn, args, kwargs), from the
    adjoint bar of the partial (a list over its captured()); layout: inner_layout(fn)."""
    n_lead, n_trail, inner_keys = _layout(layout)
    merged = list(inner_keys) + [k for k in keys if k not in inner_keys]
    captured = [item(bar, k) if isinstance(bar, list) else 0.0
                for k in range(n_lead + n_args + n_trail + len(merged))]
    lead, args_part = captured[:n_lead], captured[n_lead:n_lead + n_args]
    trail = captured[n_lead + n_args:n_lead + n_args + n_trail]
    by_key = dict(zip(merged, captured[n_lead + n_args + n_trail:]))
    fn_bar = ListBar(lead + trail + [0.0 if k in keys else by_key[k] for k in inner_keys]) \
        if (n_lead or n_trail or inner_keys) else None
    return fn_bar, ListBar(args_part), DictBar((k, by_key[k]) for k in keys)


def partial_dot(da, dk, args, kwargs):
    """The tangent of partial_value(fn, args, kwargs) from the tangents da of args and dk of
    kwargs."""
    return ListBar([item(da, k) for k in range(len(args))]
                   + [item(dk, k) for k in kwargs])


def partial_trail_dot(da, dk, df, args, kwargs, layout):
    """The tangent of partial_value(fn, args, kwargs) from the tangents da of args, dk of
    kwargs and df of fn (a list over fn's captured()); layout: inner_layout(fn)."""
    return partial_regroup((df, da, dk), len(args), list(kwargs), layout)


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


# Hooks f -> the function value diffc differentiates in place of the library callable f
# (an np.vectorize object: a partial of its implementation, rules/python_implementations.py), or None.
CALLABLE_VALUES = []


def captured_callee(f):
    """f, when it is a function value whose captured values diffc can differentiate:
    a `Closure`, a bound method of a user object, or a callable user object (their
    attributes are differentiated like arguments: diffc/dynamic.py); a library callable a
    `CALLABLE_VALUES` hook knows, as the value the hook gives."""
    import types
    for hook in CALLABLE_VALUES:
        replaced = hook(f)
        if replaced is not None:
            f = replaced
            break
    if isinstance(f, types.MethodType) and isinstance(f.__func__, types.FunctionType) \
            and is_user_object(f.__self__):
        return Captured(f)
    if (is_user_object(f) or getattr(type(f), "__diffc_transparent__", False) is True and bool(fields_of(f))) \
            and isinstance(getattr(type(f), "__call__", None), types.FunctionType):  # (or a rule library's class)
        return Captured(f)
    if _holds_nothing_differentiable(f):
        # a plain function read from a differentiated object (self.activation = np.tanh):
        # it captures no differentiated value, so the call's derivative is its arguments'.
        return f
    held = [v for v in f.captured() if isinstance(v, types.FunctionType)] if isinstance(f, Closure) else []
    if not isinstance(f, Closure) or not all(_holds_nothing_differentiable(v) for v in held):
        # (a Python closure a Closure captured would be a constant of its calls: a silent zero)
        from .errors import NoDerivativeRule
        raise NoDerivativeRule(f"the function called here ({f!r}) is itself differentiated, or holds "
                               "differentiated values in a way diffc cannot follow (a closure, defaults or "
                               "an object built outside diffc's view)",
                               hint="pass those values to it as arguments, and differentiate with "
                                    "respect to numbers and arrays, not functions")
    return f


def owned_callee(f):
    """f: a called function value holding no derivative here, in code diffc may differentiate
    again, where it may (``m.forward``, m varied next): dynamic_calls makes it captured_callee."""
    return f


def _holds_nothing_differentiable(f):
    import types
    if isinstance(f, (types.BuiltinFunctionType, np.ufunc)):
        return True
    if is_fieldless_object(f) and isinstance(getattr(type(f), "__call__", None), types.FunctionType):
        return True                         # a callable object holding no data (Tanh())
    if isinstance(f, types.FunctionType):
        if "<locals>" in f.__qualname__ and (holds_floats(f.__defaults__ or ()) or
                                              holds_floats(dict(f.__kwdefaults__ or {}))):
            return False        # `lambda h, w=w: ...` made by running code: w may carry a derivative
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


def vjp_pullback(n):
    """The plain function (f, a0, ..., a{n-1}, cotangent) -> (adjoint of a0, ...) of f(a0, ...):
    ``diffc.vjp(f, *primals)`` inside differentiated code is (f's value, a partial of it
    holding f and the primals; transform/desugar.py), which diffc differentiates."""
    return _dynamic("vjp_pullback")(n)


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
    """The transpose of zip_lists_bars (linear in c): pairs from per-sequence adjoints.
    A list adjoint (ListBar), which adds elementwise to the adjoint it accumulates into."""
    n = min((len(s) for s in seqs), default=0)
    return ListBar(ListBar(item(item(c, k), i) for k in range(len(seqs))) for i in range(n))


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
    return ListBar(ListBar(item(d, i) for d in dots) for i in range(n))


def enumerate_list(seq, start=0):
    """list(enumerate(seq, start)) outside a for loop."""
    return list(enumerate(seq, start))


def enumerate_bar(g, seq):
    return _rows_bar([item(item(g, i), 1) for i in range(len(seq))], seq)


def enumerate_dot(sd, seq, start=0):
    return ListBar(ListBar((0.0, item(sd, i))) for i in range(len(seq)))


def closure_bars_bar(c, n):
    """The transpose of closure_bars (linear in c): a closure adjoint from per-value ones."""
    return ListBar([item(c, k + 1) for k in range(n)])


def closure_dot_bar(c, m):
    """The adjoint of closure_dot's (values..., dots...) argument."""
    return ListBar([0.0] * (m // 2) + [item(c, k) for k in range(m // 2)])


def partial_regroup(c, n_args, keys, layout):
    """The transpose of partial_bars (linear in c = (fn part, args part, keywords part)): a
    list over the partial's captured()."""
    n_lead, n_trail, inner_keys = _layout(layout)
    fn_part = item(c, 0)

    def held(j):
        return item(fn_part, j) if isinstance(fn_part, list) else 0.0
    keyword_part = []
    for key in list(inner_keys) + [k for k in keys if k not in inner_keys]:
        keyword_part.append(item(item(c, 2), key) if key in keys
                            else held(n_lead + n_trail + list(inner_keys).index(key)))
    return ListBar([held(j) for j in range(n_lead)] + [item(item(c, 1), k) for k in range(n_args)]
                   + [held(n_lead + j) for j in range(n_trail)] + keyword_part)


# ------------------------------------------------ fields of objects
class FieldBar(DictBar):
    """Adjoint (or tangent) of an object read through its attributes (``params.W``): one
    entry per attribute; `finalize` turns it into an object of the argument's type.

    Arithmetic on it means NumPy's rule of an operator met an object whose class diffc did
    not know where it compiled the statement (its own __mul__, __sub__...): refused."""

    object_fields = True

    def _operator(self, *other):
        from .errors import NoDerivativeRule
        raise NoDerivativeRule(
            "an operator (*, -, /, **, @, unary -) on an object of a user class, where diffc compiled the "
            "statement without knowing the object's class (it came from a function that chooses the "
            "class when the code runs, a list, a dict...): diffc would apply the rule of numbers to it",
            hint="build the object in the differentiated function by a call of its class, or call the "
                 "operator's method by name (a.__mul__(b))")

    __mul__ = __rmul__ = __sub__ = __rsub__ = __truediv__ = __rtruediv__ = __pow__ = __rpow__ = _operator
    __matmul__ = __rmatmul__ = __neg__ = __floordiv__ = __rfloordiv__ = __mod__ = _operator


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
    """The adjoint of get_field: the attribute's adjoint, under its name.  A method read as a
    value (``f = s.force``) is bound to obj: its adjoint (what a call of it gave its
    captured object: dynamic.py) is obj's own."""
    if _bound_method_of(obj, name):
        return g
    if is_library_named_tuple(obj):
        return library_field_bar(g, obj, name)        # its rule reads it by position
    out = FieldBar({name: g})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        out.order = tuple(obj._fields)
    return out


def attribute_values(obj, names):
    """The values of obj's attributes `names` (a tuple; None for a missing one): what a run-time
    check compares with another name (transform/sweep.py)."""
    return tuple(getattr(obj, n, None) for n in names)


def bar_of_field(bar, obj, name):
    """The transpose of field_bar: the entry `name` of obj's adjoint bar (all of it for a
    method bound to obj)."""
    return bar if _bound_method_of(obj, name) else named_entry(bar, obj, name)


def _bound_method_of(obj, name):
    """Whether obj.name is a method of obj's class bound to obj (no attribute of obj shadows it)."""
    import inspect
    import types
    return name not in getattr(obj, "__dict__", {}) and isinstance(
        inspect.getattr_static(type(obj), name, None), types.FunctionType) and is_user_object(obj)


def field_dot(od, obj, name):
    """The tangent of get_field(obj, name) from obj's tangent od: the attribute's entry;
    refused (check_field_keys) for an attribute that is not a field, whose tangent od lacks.
    A method read as a value carries obj's tangent (see field_bar)."""
    if _bound_method_of(obj, name):
        return od
    if not _is_zero(od) and od is not None and isinstance(od, dict) \
            and name not in od and name not in fields_of(obj):
        check_field_keys({name: 1.0}, type(obj), fields_of(obj))
    dot = named_entry(od, obj, name)
    if _is_zero(dot) and not isinstance(obj, dict):
        # a zero tangent shaped like the array field, as rules (`W @ x`, its helpers at
        # second order) expect of an array's tangent
        value = getattr(obj, name, None)
        if isinstance(value, np.ndarray) and value.dtype.kind in "fc":
            return zeros_dot(value)
    return dot


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


def owned_tangent(dot):
    """A copy of the tangent a user function returned that shares no array with any other
    tangent: the callee may hand back an argument's tangent object for a new array
    (`return v + 1.0` -> v_dot), and the caller writes that argument in place later."""
    if isinstance(dot, np.ndarray):
        return dot.copy()
    if isinstance(dot, (list, tuple)):
        items = [owned_tangent(d) for d in dot]
        if isinstance(dot, tuple) and hasattr(dot, "_fields"):
            return type(dot)(*items)
        return type(dot)(items)
    if isinstance(dot, dict):
        copied = type(dot)({k: owned_tangent(d) for k, d in dot.items()})
        if isinstance(dot, DictBar):
            copied.order = dot.order
        return copied
    return dot


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


def with_attributes(obj, changes):
    """``obj.name = value`` for each entry of changes, on a shallow copy of obj (an object
    built inside the differentiated function, rebound to the copy by
    transform/attribute_writes.py: no one else holds the old one)."""
    import copy
    out = copy.copy(obj)
    for name, value in changes.items():
        setattr(out, name, value)
    return out


def with_item(container, index, value):
    """``container[index] = value`` on a copy: what an attribute of an object built inside
    the differentiated function holds (a list, dict or array set to a new one in every
    method), changed in place there (transform/attribute_writes.py rebinds the attribute)."""
    if isinstance(container, np.ndarray):
        out = container.copy()
    elif isinstance(container, (list, dict)):
        out = type(container)(container)
    else:
        raise TypeError(f"diffc: cannot change an item of a {type(container).__name__} held by an attribute")
    out[index] = value
    return out


def _names_with(obj, names):
    """obj's fields, then the names about to be set that it does not have yet."""
    fields = fields_of(obj)
    return fields + [n for n in names if n not in fields]


def _order_of(obj):
    return tuple(obj._fields) if isinstance(obj, tuple) and hasattr(obj, "_fields") else ()


def replaced_bars(bar, obj, names):
    """The adjoint of replace_fields: (adjoint of obj without the replaced fields, DictBar of
    the replaced fields' adjoints).  Linear in bar."""
    kept = FieldBar()
    kept.order = _order_of(obj)
    changed = DictBar()
    for name in _names_with(obj, names):
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
    for name in _names_with(obj, names):
        part = changed if name in names else kept
        out[name] = item(part, name) if isinstance(part, dict) else field_of(part, name)
    return out


def replaced_dot(od, cd, obj, names):
    """The tangent of replace_fields(obj, changes) from the tangents od of obj and cd of
    changes (linear in them)."""
    return merged_bars((od, cd), obj, names)


def check_discarded_call(obj, name, where, args=()):
    """Before ``obj.name(...)`` whose result is unused, with arguments carrying derivatives:
    refuse a method that writes obj's attributes (what it stores would carry a derivative
    diffc does not follow; transform/attribute_writes.py follows such calls only on objects
    built inside the differentiated function)."""
    return _dynamic("check_discarded_call")(obj, name, where, args)


def check_written_arguments(fn, names, values, where):
    """Before a call of the user function fn whose arguments `names` (parameters) get
    `values`, objects whose class diffc learns only now: refuse the call if fn writes
    attributes of one of them (transform/unknown_writes.py)."""
    return _dynamic("check_written_arguments")(fn, names, values, where)


def check_unchanged_arguments(fn, names, values, where):
    """Before a call of the user function fn that writes into its parameters `names` in
    place: refuse when one of `values` is an array, list or dict (Python changes the caller's
    object; diffc, which copies before writing, would not)."""
    for name, value in zip(names, values):
        # (a tuple holding arrays: its items are what Python changes)
        if isinstance(value, (list, dict)) or type(value).__name__ == "ndarray" or type(value) is tuple and any(
                isinstance(v, (list, dict)) or type(v).__name__ == "ndarray" for v in value):
            from .errors import UnsupportedSyntax
            called = fn.__name__
            hint = f"return the modified value and assign it (x = {called}(x, ...)), or copy inside "
            if called == "__init__":            # a constructor: Normed(y)
                called = fn.__qualname__
                hint = "pass a copy (.copy()), or copy inside "
            raise UnsupportedSyntax(
                f"{where}: {called} modifies its argument {name!r} in place (Python changes the "
                "caller's value; diffc copies arrays before writing into them)",
                hint=hint + f"{called}: {name} = {name}.copy()")


def check_called_value(fn, args, where):
    """Before a call of the function value fn with positional args: refuse a function that
    writes attributes of an argument or state outside its arguments (transform/dynamic_calls.py)."""
    return _dynamic("check_called_value")(fn, args, where)


def super_function(cls, obj, name):
    """The plain function ``super(cls, obj).name`` runs (a method of a base class), to be
    called with obj as its first argument: zero-argument ``super().name(...)`` in a method
    diffc reads (parse.py)."""
    import inspect
    for klass in type(obj).__mro__[type(obj).__mro__.index(cls) + 1:]:
        if name in vars(klass):
            found = inspect.getattr_static(klass, name)
            if isinstance(found, type(super_function)):
                return found
            break
    from .errors import UnsupportedSyntax
    raise UnsupportedSyntax(f"super().{name}(...) on a {type(obj).__name__} is not a plain method of a base "
                            f"class of {cls.__name__} (a staticmethod, classmethod, property or builtin)",
                            hint="call the base class's function by name (Base.name(self, ...))")


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
    if isinstance(attr, (staticmethod, classmethod)) and isinstance(attr.__func__, type(unbound_method)):
        return _dynamic("static_caller")(attr.__func__, type(obj) if isinstance(attr, classmethod) else None)
    from .errors import NoDerivativeRule
    raise NoDerivativeRule(f"{type(obj).__name__}.{name} is not a plain method, and the object holds "
                           "differentiated values; diffc cannot differentiate through it",
                           hint="call a plain method of the object, or register a rule")


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
    if isinstance(value, types.MethodType):  # a method bound to an object holding floats (s.force)
        return is_user_object(value.__self__) and holds_floats(value.__self__, depth + 1)
    return any(holds_floats(getattr(value, name, None), depth + 1) for name in fields_of(value))


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


def _holds(value, obj, depth, seen):
    """Whether value is obj or holds it in an attribute, list, tuple or dict (depth levels)."""
    if value is obj:
        return True
    if depth == 0 or id(value) in seen or isinstance(value, (int, float, complex, str, bytes, np.ndarray)):
        return False
    seen.add(id(value))
    if isinstance(value, (list, tuple)):
        inner = list(value)
    elif isinstance(value, dict):
        inner = list(value.values())
    else:
        inner = list(getattr(value, "__dict__", {}).values())
    return any(_holds(v, obj, depth - 1, seen) for v in inner)


def check_not_held(obj, holders, where):
    """After ``s = helper(...)`` when the function then writes attributes of s (as new objects,
    transform/attribute_writes.py): refuse an object that one of holders (the function's
    parameters) holds too, as itself or in an attribute, list, tuple or dict up to three levels
    down; Python would change it there too."""
    if obj is not None and any(_holds(h, obj, 4, set()) for h in holders):
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(
            f"{where}: this function writes attributes of an object a call returned, and that object is "
            "also held by an argument of the function; Python would change it there too, which diffc "
            "(writing attributes as new objects) does not follow",
            hint="build a new object in the helper, or write the attribute through the argument")


def check_parameter_aliases(obj, name, others, nested, where):
    """At the top of a function writing attributes of its parameter `name` (as new objects):
    refuse when another argument is that object or holds it (and, when the function writes
    through its attributes, when it holds another argument object): Python would change
    what the other argument sees, which diffc does not follow."""
    bad = any(_holds(h, obj, 4, set()) for h in others) or (nested and any(
        not isinstance(h, (int, float, complex, str, bytes, np.ndarray, type(None))) and _holds(obj, h, 4, set())
        for h in others))
    if bad:
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(
            f"{where}: this function writes attributes of its argument {name}, and another argument is, "
            f"holds or is held by that object; Python would change both, which diffc (writing attributes "
            "as new objects) does not follow",
            hint="pass objects that share nothing the function writes")


def check_array_receiver(obj, name, where):
    """Before ``obj.name(...)`` differentiated by the rule of NumPy's method of that name (diffc
    could not tell what obj holds: ``h.st.sum()``): refuse when obj is an object whose class
    defines the method itself, whose derivative that rule does not give."""
    if type(obj) is np.ndarray or isinstance(obj, (float, int, complex, np.generic)) or is_duck_array(obj):
        return
    import inspect
    import types
    if isinstance(inspect.getattr_static(type(obj), name, None), types.FunctionType):
        from .errors import NoDerivativeRule
        raise NoDerivativeRule(
            f"{where}: .{name}() is called on an object of {type(obj).__name__} (its own method), "
            "which diffc took for a NumPy array's method here: it could not tell what the object is",
            hint="bind the object to a name in the function (obj = holder.part) built by a call of "
                 "its class, or pass it as an argument")
