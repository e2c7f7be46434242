"""dynamic: derivatives of calls whose callee is a value, computed at run time.

Generated code calls ``runtime_calls.call_value(f, args, kwargs)`` where the user
wrote ``f(*args, **kwargs)`` with a callee diffc cannot name at compile time:
a parameter holding a function (``nonlinearity=np.tanh``), a list or dict
item, a bound method (``self.forward``, ``model.loss``), a
``functools.partial``, what another call returned (``make(a)(x)``,
``diffc.grad(loglike)(r, p)``).  Its derivative rules (rules/dynamic_rules.py)
call the functions registered here in ``runtime_calls.DYNAMIC``.

Input: the callee value and the argument values at hand.
Output: adjoints (``vjp_call``) or tangents (``jvp_call``) of the call, in
the layout of the call's own arguments: a `ListBar` for the positional
arguments and a `DictBar` for the keywords.

How: the callee is taken apart (partials, bound methods and callable objects
become a plain function plus leading arguments) and wrapped in a small
generated function ``dyn_<name>(a0, a1, ..., k_<kw>)`` that calls it with
exactly this call's layout, so diffc resolves the callee statically inside
it.  The wrapper's derivative is compiled like any derivative (cached per
callee, layout and argument kinds, as JAX caches per static argument) and
compiled "differentiable", so the helpers' own derivatives are again calls
of generated functions: second order works the same way.
"""

import builtins
import functools
import inspect
import itertools
import linecache
import re
import threading
import types

import numpy as np

from . import compile_cache
from . import forward_api
from . import runtime, runtime_calls
from .analysis import kinds as K
from .errors import DiffcError, NoDerivativeRule
from . import rules as R
from .pipeline import Module
from .runtime import DictBar, ListBar, item

_lock = threading.RLock()
_wrappers = {}
_in_progress = threading.local()     # ids of the wrappers being differentiated in this thread


class _Differentiating:
    """Guard against a callee whose derivative needs its own derivative again: a library
    function or method without a rule, which the wrapper can only call again."""

    def __init__(self, call):
        self.key = id(call.fn)
        self.name = call.fn.__name__[len("dyn_"):]
        target = call.fn.__globals__.get("F")
        if target is None and call.values:            # p0.method(...): the owner's method
            target = getattr(type(call.values[0]), self.name, None)
        # Python functions may call themselves again legitimately (recursion): only
        # library callees are guarded.
        self.guarded = not isinstance(target, types.FunctionType)

    def __enter__(self):
        if not self.guarded:
            return
        active = _in_progress.__dict__.setdefault("ids", set())
        if self.key in active:
            from .errors import NoDerivativeRule
            raise NoDerivativeRule(f"no derivative rule for {self.name}, called here with a "
                                   "differentiated argument",
                                   hint="register one with @diffc.adjoint and @diffc.tangent, or "
                                        "keep its arguments free of differentiated values")
        active.add(self.key)

    def __exit__(self, *exc):
        if self.guarded:
            _in_progress.ids.discard(self.key)
_counter = itertools.count()


# ------------------------------------------------------------ the callee

class _Param:
    """Stands for a wrapper parameter while binding a signature."""

    def __init__(self, name):
        self.name = name


def _unwrap(f, kwargs):
    """(callee, leading arguments, keywords fixed by a partial) of the value f.

    Everything taken apart here is a constant of the call (a bound self, a
    partial's arguments); the differentiated captured values of a `Closure`
    are taken apart by `normalize`."""
    prefix, fixed = [], {}
    for _ in range(64):
        if isinstance(f, runtime_calls.Closure) and not f.trail:
            prefix = list(f.lead) + prefix
            fixed = {**f.keywords, **fixed}
            f = f.fn
        elif getattr(f, "diffc_bound", None) is not None:
            # diffc.grad(obj.method): the derivative of the method's function, obj first
            inner, owner = f.diffc_bound
            prefix = [owner] + prefix
            f = inner
        elif isinstance(f, functools.partial):
            prefix = list(f.args) + prefix
            fixed = {**f.keywords, **fixed}
            f = f.func
        elif _library_implementation(f) is not None:
            # a library object called (a SciPy distribution) or a method of a frozen one
            f = _library_implementation(f)
        elif isinstance(f, types.MethodType) and not R.is_registered(f):
            # (a bound method with a rule of its own, norm.logpdf, stays whole: its rule applies)
            prefix = [f.__self__] + prefix
            f = f.__func__
        elif not isinstance(f, (types.FunctionType, types.BuiltinFunctionType, type, np.ufunc,
                                runtime_calls.Closure)) \
                and isinstance(getattr(type(f), "__call__", None), types.FunctionType):
            prefix = [f] + prefix
            f = type(f).__call__
        else:
            break
    return f, prefix, {k: v for k, v in fixed.items() if k not in kwargs}


def _library_implementation(f):
    """What diffc differentiates for the library value f called at run time: the
    `implemented_by` function of f (``stats.t(df, loc, scale)``), or, for a method of an
    object frozen with constant parameters (``norm(0, 1).logpdf``, `rules.object_call`),
    its implementation with those parameters as fixed keywords; else None."""
    if isinstance(f, (types.FunctionType, runtime_calls.Closure, functools.partial)):
        return None
    impl = R.implementation(f)
    if impl is not None and not isinstance(f, types.MethodType):
        return impl
    if not isinstance(f, types.MethodType):
        try:
            found = R.object_call(f, "__call__")          # an np.vectorize object called
        except Exception:
            found = None
        if found is not None and not found[1]:
            return functools.partial(found[0], **found[2])
    owner = getattr(f, "__self__", None)
    if not isinstance(f, types.MethodType) or owner is None or R.is_registered(f):
        return None
    try:
        found = R.object_call(owner, f.__name__)
    except Exception:
        return None
    if found is None:
        return None
    impl, args, kwds = found
    names = list(inspect.signature(impl).parameters)[1:]
    if len(args) > len(names):
        return None
    return functools.partial(impl, **dict(zip(names, args)), **kwds)


_wrapper_names = {}


class Call:
    """One call normalized: a plain function `fn` of the positional `values`.

    ``slots[i]`` says where values[i] came from: ``("a", k)`` the k-th
    positional argument, ``("k", name)`` a keyword argument, ``("c", j)`` the
    j-th captured value of the called `Closure`, ``None`` a constant the
    callee value held (a bound self, a partial's arguments)."""

    def __init__(self, fn, values, slots, n_args, n_captured, has_owner=False):
        self.fn = fn
        self.values = values
        self.slots = slots
        self.n_args = n_args
        self.n_captured = n_captured
        self.has_owner = has_owner          # slot ("s", 0): the called object (or a method's self)

    @property
    def names(self):
        # the wrappers are made once per layout (normalize), so their names can be kept
        names = _wrapper_names.get(self.fn)
        if names is None:
            names = _wrapper_names[self.fn] = compile_cache.param_names(self.fn)
        return names

    def differentiable(self):
        """Values the derivative is taken for: not the constants the callee held."""
        return [i for i, (v, slot) in enumerate(zip(self.values, self.slots))
                if slot is not None and _differentiable(v)]

    def regroup(self, bars):
        """Per-value adjoints -> (ListBar over the positional arguments, DictBar over the
        keywords, ListBar over the captured values or 0.0)."""
        args_bar = ListBar([0.0] * self.n_args)
        kw_bar = DictBar()
        f_bar = ListBar([0.0] * self.n_captured) if self.n_captured else 0.0
        for slot, bar in zip(self.slots, bars):
            if slot is None:
                continue
            if slot[0] == "a":
                args_bar[slot[1]] = bar
            elif slot[0] == "k":
                kw_bar[slot[1]] = bar
            elif slot[0] == "s":
                f_bar = bar                 # the object's own adjoint (a FieldBar)
            else:
                f_bar[slot[1]] = bar
        return args_bar, kw_bar, f_bar

    def spread(self, args_part, kwargs_part, f_part):
        """Per-value entries of the (positional, keyword, captured) parts of a tangent."""
        out = []
        for slot in self.slots:
            if slot is None:
                out.append(0.0)
            else:
                part = {"a": args_part, "k": kwargs_part, "c": f_part, "s": f_part}[slot[0]]
                if slot[0] == "s":
                    entry = part                # the object's tangent itself
                else:
                    entry = item(part, slot[1]) if part is not None else None
                out.append(0.0 if entry is None else entry)      # None: a constant (jvp's convention)
        return out


def _differentiable(value):
    return runtime_calls.holds_floats(value)


def normalize(f, args, kwargs, constants=()):
    """The `Call` for f(*args, **kwargs); `constants`: indices of positional arguments that
    are constants (the values a callee held, passed on to the functions that differentiate
    a derivative again)."""
    name = getattr(f, "diffc_attribute", None)
    if name is not None and args and not _differentiable(getattr(args[0], name, None)):
        # obj.act(x) with obj.act a plain function (np.tanh): the call of that function; obj
        # only provided it (its adjoint is zero), so it stays out of the derivative.
        inner = _normalize(getattr(args[0], name), args[1:], kwargs,
                           tuple(i - 1 for i in constants if i > 0))
        inner.slots = [("a", s[1] + 1) if s is not None and s[0] == "a" else s for s in inner.slots]
        inner.n_args += 1
        return inner
    return _normalize(f, args, kwargs, constants)


def _normalize(f, args, kwargs, constants=()):
    kwargs = dict(kwargs) if kwargs else {}
    lead, trail, held = (), (), {}
    owner_obj = []                  # the called object itself, when its attributes carry derivatives
    captured = isinstance(f, runtime_calls.Captured)
    if captured:
        f = f.value
    held_index = {}                 # a held keyword -> its place among the closure's keywords
    if isinstance(f, runtime_calls.Closure):
        lead, trail, held = f.lead, f.trail, {k: v for k, v in f.keywords.items() if k not in kwargs}
        held_index = {k: j for j, k in enumerate(f.keywords)}
        f = f.fn
    elif captured and isinstance(f, types.MethodType):
        owner_obj, f = [f.__self__], f.__func__
    elif captured:
        owner_obj, f = [f], type(f).__call__
    callee, prefix, fixed = _unwrap(f, {**kwargs, **held})
    prefix = owner_obj + prefix
    method = None
    owner = getattr(callee, "__self__", None)
    if isinstance(callee, types.BuiltinMethodType) and owner is not None \
            and not isinstance(owner, types.ModuleType):
        # x.dot(y) with x known only now: call the method on a parameter, so its rule applies.
        prefix = [owner] + prefix
        method = callee.__name__
    kw_names, fixed_names, held_names = tuple(kwargs), tuple(fixed), tuple(held)
    layout = (len(prefix), len(lead), len(args), len(trail), kw_names, fixed_names, held_names)
    values = list(prefix) + list(lead) + list(args) + list(trail) + [kwargs[k] for k in kw_names] \
        + [fixed[k] for k in fixed_names] + [held[k] for k in held_names]
    n_lead, n_trail = len(lead), len(trail)
    slots = [("s", 0)] * len(owner_obj) + [None] * (len(prefix) - len(owner_obj)) \
        + [("c", j) for j in range(n_lead)] \
        + [("a", k) for k in range(len(args))] + [("c", n_lead + j) for j in range(n_trail)] \
        + [("k", k) for k in kw_names] + [None] * len(fixed_names) \
        + [("c", n_lead + n_trail + held_index[k]) for k in held_names]
    derived = hasattr(callee, "diffc_derivative")
    kinds = compile_cache.kinds_of(values) if derived else None
    key = (type(owner) if method else callee, method, layout, kinds)
    with _lock:
        try:
            fn = _wrappers.get(key)
        except TypeError:                  # an unhashable callee: no caching
            key, fn = None, None
        if fn is None:
            fn = _make_wrapper(callee, method, layout, values)
            if key is not None:
                _wrappers[key] = fn
    if constants:
        first = len(prefix) + n_lead
        for i in constants:
            slots[first + i] = None
    return Call(fn, values, slots, len(args), n_lead + n_trail + len(held_index), bool(owner_obj))


def _make_wrapper(callee, method, layout, values):
    n_prefix, n_lead, n_args, n_trail, kw_names, fixed_names, held_names = layout
    positional = [f"p{i}" for i in range(n_prefix)] + [f"c{j}" for j in range(n_lead)] \
        + [f"a{i}" for i in range(n_args)] + [f"c{n_lead + j}" for j in range(n_trail)]
    keywords = [(k, f"k_{k}") for k in kw_names] + [(k, f"q_{k}") for k in fixed_names] \
        + [(k, f"c{n_lead + n_trail + j}") for j, k in enumerate(held_names)]
    params = positional + [p for _, p in keywords]
    namespace = {"__builtins__": builtins, "__name__": "diffc_dynamic"}
    if method is not None:
        call = f"p0.{method}(" + ", ".join(positional[1:] + [f"{k}={p}" for k, p in keywords]) + ")"
        label = method
    elif hasattr(callee, "diffc_derivative"):
        # A derivative made by diffc (diffc.grad(g) called inside differentiated code): call
        # the generated function it runs for these argument kinds, which diffc can read.
        sig = inspect.signature(callee)
        n_pos = len(positional)
        if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()) and not keywords:
            # hvp(f)(*args, v): the arguments are the values, in order
            sig = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_ONLY)
                                     for p in positional])
        try:
            real = sig.bind(*values[:n_pos], **{k: values[n_pos + i] for i, (k, _) in enumerate(keywords)})
            marks = sig.bind(*[_Param(p) for p in positional], **{k: _Param(p) for k, p in keywords})
        except TypeError as exc:
            raise DiffcError(f"calling {getattr(callee, '__qualname__', callee)}: {exc}") from None
        real.apply_defaults()
        marks.apply_defaults()
        inner, inner_values = compile_cache.see_through(callee, list(real.arguments.values()))
        pieces = []
        for k, mark in enumerate(marks.arguments.values()):
            if isinstance(mark, _Param):
                pieces.append(mark.name)
            else:
                namespace[f"D{k}"] = mark
                pieces.append(f"D{k}")
        # the generated function's own trailing parameters without a default (a gradient's
        # seed `result_bar` in the gradient of a gradient): the values it runs with
        inner_params = list(inspect.signature(inner).parameters.values())
        for k in range(len(pieces), min(len(inner_values), len(inner_params))):
            if inner_params[k].default is not inspect.Parameter.empty:
                break
            namespace[f"E{k}"] = inner_values[k]
            pieces.append(f"E{k}")
        namespace["F"] = inner
        call = "F(" + ", ".join(pieces) + ")"
        label = getattr(callee, "__name__", "derivative")
    else:
        namespace["F"] = callee
        passed = list(positional)
        if n_trail and isinstance(callee, types.FunctionType):
            # a closure's captured values are the lifted function's last parameters: by name
            code = callee.__code__
            names = code.co_varnames[code.co_argcount - n_trail:code.co_argcount]
            passed = positional[:len(positional) - n_trail] \
                + [f"{n}={p}" for n, p in zip(names, positional[len(positional) - n_trail:])]
        call = "F(" + ", ".join(passed + [f"{k}={p}" for k, p in keywords]) + ")"
        label = getattr(callee, "__name__", type(callee).__name__)
    label = re.sub(r"\W", "_", label) or "fn"
    text = f"def dyn_{label}({', '.join(params)}):\n    return {call}\n"
    return _plain_function(f"dyn_{label}", text, namespace)


def _plain_function(text_name, text, namespace):
    filename = f"<diffc:dynamic:{text_name}:{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace.setdefault("__builtins__", builtins)
    namespace.setdefault("__name__", "diffc_dynamic")
    exec(compile(text, filename, "exec"), namespace)
    return namespace[text_name]


# ---------------------------------------------------------- compilation

def _prepared(call):
    """(argument values with differentiated ints made floats, wrt names, kinds)."""
    names = call.names
    active = call.differentiable()
    values = list(call.values)
    kinds = compile_cache.kinds_of(values)
    return values, tuple(names[i] for i in active), kinds


def _vjp_entry(fn, wrt, kinds):
    """The generated joint gradient of fn: (params..., seed) -> tuple of raw adjoints of wrt."""
    key = (fn.__code__, "dynamic_vjp", wrt, kinds)

    def build():
        module = Module()
        module.differentiable = True
        names = compile_cache.param_names(fn)
        label = "vjp_" + compile_cache.function_name(fn)
        module.function_names.reserve(label)
        main = module.joint(fn, list(wrt), dict(zip(names, kinds)), label, check_scalar=False,
                            callee=True)
        return module, main.name
    return compile_cache.compiled(fn, key, build)


def _jvp_entry(fn, active, kinds):
    return forward_api.forward_entry(fn, tuple(active), kinds, tangent_only=True, differentiable=True)


def _full_bars(call, wrt_bars):
    """Raw adjoints of the wrt values -> one entry per value (0.0 where none)."""
    out = [0.0] * len(call.values)
    for i, bar in zip(call.differentiable(), wrt_bars):
        out[i] = bar
    return out


def _value_bars(call, seed):
    values, wrt, kinds = _prepared(call)
    if not wrt:
        return [0.0] * len(values)
    with _Differentiating(call):
        entry = _vjp_entry(call.fn, wrt, kinds)
        return _full_bars(call, entry.run_main(*values, seed))


def _dot_like(dot, value):
    if runtime.is_zero(dot) and not isinstance(value, (float, np.floating)):
        return runtime.zeros_dot(value)
    return dot


def _value_dots(call, dots):
    """(tangent-only generated function, tangents of its dot parameters) for the call."""
    values, wrt, kinds = _prepared(call)
    active = call.differentiable()
    entry = _jvp_entry(call.fn, wrt, kinds)
    return entry.run_main, [_dot_like(dots[i], values[i]) for i in active]


# --------------------------------------------------------- the helpers

def vjp_call(f, args, kwargs, seed):
    call = normalize(f, args, kwargs)
    return call.regroup(_value_bars(call, seed))


def _constants(call):
    return {i for i, slot in enumerate(call.slots) if slot is None}


def jvp_call(f, args, kwargs, args_dot, kwargs_dot, f_dot=0.0, constants=()):
    call = normalize(f, args, kwargs, constants)
    if not call.differentiable():
        return 0.0
    with _Differentiating(call):
        tangent_fn, dots = _value_dots(call, call.spread(args_dot, kwargs_dot, f_dot))
        return tangent_fn(*call.values, *dots)


def _vjp_function(call, held=False):
    """A plain function (values..., seed) -> vjp_call's result, for differentiating vjp_call.
    held: the constants of the call come as `runtime_calls.Held` boxes (call_values), unboxed here."""
    values, wrt, kinds = _prepared(call)
    names = [f"v{i}" for i in range(len(values))]
    passed = [f"v{i}.value" if held and slot is None else f"v{i}" for i, slot in enumerate(call.slots)]
    active = call.differentiable()
    namespace = {}
    if wrt:
        namespace["G"] = _vjp_entry(call.fn, wrt, kinds).main
        lines = [f"    g = G({', '.join(passed)}, seed)"]
        pos = {i: k for k, i in enumerate(active)}
    else:
        lines, pos = [], {}
    args_items, kw_items, f_items = ["0.0"] * call.n_args, [], ["0.0"] * call.n_captured
    f_part = None
    for i, slot in enumerate(call.slots):
        expr = f"g[{pos[i]}]" if i in pos else "0.0"
        if slot is None:
            continue
        if slot[0] == "a":
            args_items[slot[1]] = expr
        elif slot[0] == "k":
            kw_items.append(f"{slot[1]!r}: {expr}")
        elif slot[0] == "s":
            f_part = expr
        else:
            f_items[slot[1]] = expr
    if f_part is None:
        f_part = f"[{', '.join(f_items)}]" if call.n_captured else "0.0"
    lines.append(f"    return [{', '.join(args_items)}], {{{', '.join(kw_items)}}}, {f_part}")
    text = f"def vjp_value({', '.join(names + ['seed'])}):\n" + "\n".join(lines) + "\n"
    return _plain_function("vjp_value", text, namespace)


def _as_bars(result, call):
    """The tangent of vjp_call's (list, dict, list) result as adjoint containers (they add
    elementwise)."""
    if runtime.is_zero(result):
        return result
    args_part, kw_part, f_part = item(result, 0), item(result, 1), item(result, 2)
    if call.has_owner:
        # the called object's own adjoint, keyed by attribute (a FieldBar), not a list
        f_bar = runtime_calls.FieldBar(f_part) if isinstance(f_part, dict) else f_part
    else:
        f_bar = ListBar(f_part) if isinstance(f_part, list) else 0.0
    return (ListBar(args_part) if isinstance(args_part, list) else ListBar([0.0] * call.n_args),
            DictBar(kw_part) if isinstance(kw_part, dict) else DictBar(),
            f_bar)


# ------------------------------------- the tower: derivatives of derivatives
# The derivative rules of vjp_call and jvp_call (rules/dynamic_rules.py) are written
# with vjp_call and jvp_call of *plain* functions (`vjp_function`, `jvp_function`),
# whose argument values come from the call by `call_values` and whose per-value
# results go back by `call_bars` / `call_dots` (linear, each the other's transpose).
# So the derivative of generated code calling a function value is again generated
# code of this form: any order (grad(grad(grad(f))) through a parameter holding a
# function, a lambda, a partial, a bound method or an object's method).

_plain_cache = {}


def call_values(f, args, kwargs):
    """The values the normalized call of f passes to its wrapper, as a list; the constants
    the callee held (a bound self, a partial's arguments) boxed in `runtime_calls.Held`, so that
    the plain functions below are not differentiated with respect to them."""
    call = normalize(f, args, kwargs)
    return [runtime_calls.Held(v) if slot is None else v for v, slot in zip(call.values, call.slots)]


def call_bars(bars, f, args, kwargs):
    """Per-value adjoints -> (ListBar over args, DictBar over kwargs, f's adjoint)."""
    return normalize(f, args, kwargs).regroup([item(bars, i) if not runtime.is_zero(bars) else 0.0
                                               for i in range(len(normalize(f, args, kwargs).values))])


def call_dots(f_dot, args_dot, kwargs_dot, f, args, kwargs):
    """(f, args, kwargs) tangents -> one tangent per value (the transpose of call_bars)."""
    return ListBar(normalize(f, args, kwargs).spread(args_dot, kwargs_dot, f_dot))


def _plain_key(kind, call):
    values, wrt, kinds = _prepared(call)
    return (kind, call.fn, tuple(call.slots), wrt, kinds)


def vjp_function(f, args, kwargs):
    """A plain function P(v0, ..., seed) -> vjp_call(f, args, kwargs, seed), of the call's
    values (`call_values`); diffc reads it, so its derivative is again a call of a function value."""
    call = normalize(f, args, kwargs)
    key = _plain_key("vjp", call)
    with _lock:
        fn = _plain_cache.get(key)
        if fn is None:
            fn = _plain_cache[key] = _vjp_function(call, held=True)
        return fn


def jvp_function(f, args, kwargs):
    """A plain function T(v0, ..., d0, ...) -> the tangent of f(*args, **kwargs) along one
    tangent per value (`call_dots`)."""
    call = normalize(f, args, kwargs)
    key = _plain_key("jvp", call)
    with _lock:
        fn = _plain_cache.get(key)
        if fn is None:
            values, wrt, kinds = _prepared(call)
            n = len(values)
            names = [f"v{i}" for i in range(n)]
            dots = [f"d{i}" for i in range(n)]
            active = call.differentiable()
            namespace = {"dot_like": runtime_calls.dot_like}
            if active:
                namespace["T"] = _jvp_entry(call.fn, wrt, kinds).main
                unboxed = [f"v{i}.value" if slot is None else f"v{i}" for i, slot in enumerate(call.slots)]
                passed = ", ".join(unboxed + [f"dot_like(d{i}, v{i})" for i in active])
                body = f"    return T({passed})\n"
            else:
                body = "    return 0.0\n"
            text = f"def jvp_value({', '.join(names + dots)}):\n" + body
            fn = _plain_cache[key] = _plain_function("jvp_value", text, namespace)
        return fn


def as_call_bars(t, f, args, kwargs):
    """vjp_function's (list, dict, f part) result (or its tangent) as adjoint containers,
    which add elementwise."""
    return _as_bars(t, normalize(f, args, kwargs))


# ------------------------------------------ derivatives made by diffc, again

def jacobian_source(fn, names, wrt_index, single, mode):
    """A plain function computing jacobian(fn) by vjp_call rows (or jvp_call columns):
    differentiable code, so `diffc.jacobian(diffc.jacobian(f))` and a Jacobian taken
    inside a differentiated function are differentiated like any call."""
    params = ", ".join(names)
    values = f"({params},)" if names else "()"
    lines = [f"def jacobian_value({params}):", f"    out = F({params})", "    results = []"]
    for k in wrt_index:
        arg = names[k]
        if mode == "reverse":
            lines += [f"    rows = []",
                      f"    for e in unit_cotangents(out):",
                      f"        bars = vjp_call(F, {values}, {{}}, e)",
                      f"        rows.append(bars[0][{k}])",
                      f"    results.append(np.reshape(np.stack(rows), np.shape(out) + np.shape({arg})))"]
        else:
            zeros = ", ".join("e" if j == k else "0.0" for j in range(len(names)))
            lines += [f"    columns = []",
                      f"    for e in unit_cotangents({arg}):",
                      f"        columns.append(jvp_call(F, {values}, {{}}, ({zeros},), {{}}, 0.0))",
                      f"    results.append(np.reshape(np.stack(columns, axis=-1), np.shape(out) + np.shape({arg})))"]
    lines.append("    return results[0]" if single else "    return tuple(results)")
    namespace = {"F": fn, "np": np, "vjp_call": runtime_calls.vjp_call, "jvp_call": runtime_calls.jvp_call,
                 "unit_cotangents": runtime_calls.unit_cotangents}
    return _plain_function("jacobian_value", "\n".join(lines) + "\n", namespace)


def hvp_source(gradient, n, k):
    """A plain function hvp(*args, v): the tangent of the gradient along v in argument k."""
    names = [f"a{i}" for i in range(n)]
    params = ", ".join(names)
    dots = ", ".join("v" if i == k else "0.0" for i in range(n))
    text = (f"def hvp_value({params}, v):\n"
            f"    return jvp_call(G, ({params},), {{}}, ({dots},), {{}}, 0.0)\n")
    return _plain_function("hvp_value", text, {"G": gradient, "jvp_call": runtime_calls.jvp_call})


# diffc.jvp called inside a differentiated function (a derivative of a derivative).  Its
# value is (fn(*primals), jvp_call(fn, primals, {}, tangents, {}, 0.0)); the rules are
# those of call_value and jvp_call, written with the tower's helpers (rules/dynamic_rules.py)
# so that the code they make is differentiable again: forward over reverse and reverse
# over reverse of a function calling diffc.jvp.
@R.adjoint(forward_api.jvp)
def _(result, result_bar, fn, primals, tangents):
    b = runtime_calls.vjp_call(fn, primals, {}, runtime.item(result_bar, 0))
    values = runtime_calls.call_values(fn, primals, {})
    dots = runtime_calls.call_dots(0.0, tangents, {}, fn, primals, {})
    c = runtime_calls.vjp_call(runtime_calls.jvp_function(fn, primals, {}),
                               runtime_calls.concat_parts(values, dots), {}, runtime.item(result_bar, 1))
    parts = runtime_calls.concat_parts_bars(c[0], (values, dots))
    g = runtime_calls.call_bars(parts[0], fn, primals, {})
    h = runtime_calls.call_bars(parts[1], fn, primals, {})
    return None, b[0] + g[0], h[0]


@R.tangent(forward_api.jvp)
def _(result, fn, primals, tangents, primals_dot, tangents_dot):
    out_dot = runtime_calls.jvp_call(fn, primals, {}, primals_dot, {}, 0.0)
    values = runtime_calls.call_values(fn, primals, {})
    tangent_dot = runtime_calls.jvp_call(
        runtime_calls.jvp_function(fn, primals, {}),
        runtime_calls.concat_parts(values, runtime_calls.call_dots(0.0, tangents, {}, fn, primals, {})), {},
        runtime_calls.concat_parts(runtime_calls.call_dots(0.0, primals_dot, {}, fn, primals, {}),
                                   runtime_calls.call_dots(0.0, tangents_dot, {}, fn, primals, {})), {}, 0.0)
    return out_dot, tangent_dot


_pullbacks = {}


def vjp_pullback(n):
    """runtime_calls.vjp_pullback: one plain function per number of primals, whose body is a
    vjp_call (differentiable again: the tower)."""
    with _lock:
        fn = _pullbacks.get(n)
        if fn is None:
            names = ", ".join(f"a{i}" for i in range(n))
            parts = ", ".join(f"item(bars[0], {i})" for i in range(n))
            text = (f"def vjp_pullback(F, {names}, cotangent):\n"
                    f"    bars = vjp_call(F, ({names},), {{}}, cotangent)\n"
                    f"    return ({parts},)\n")
            fn = _plain_function("vjp_pullback", text, {"vjp_call": runtime_calls.vjp_call, "item": item})
            _pullbacks[n] = fn
        return fn


_attribute_callers = {}


def attribute_caller(name):
    """A plain function (obj, *args, **kwargs) -> obj.<name>(*args, **kwargs) for an
    attribute set on the instance (``self.activation = np.tanh``, ``self.conv = Conv(w)``):
    diffc reads it, so the attribute's adjoint goes back to obj under its name."""
    with _lock:
        fn = _attribute_callers.get(name)
        if fn is None:
            text = (f"def call_{name}(obj, *args, **kwargs):\n"
                    f"    method = get_field(obj, {name!r})\n"
                    f"    return method(*args, **kwargs)\n")
            fn = _plain_function(f"call_{name}", text, {"get_field": runtime_calls.get_field})
            fn.diffc_attribute = name
            _attribute_callers[name] = fn
        return fn


_static_callers = {}


def static_caller(fn, cls=None):
    """A plain function (obj, *args, **kwargs) -> fn(*args, **kwargs) (fn(cls, *args, ...) for
    a classmethod of cls): ``obj.name(...)`` for a @staticmethod or @classmethod ``name``, obj
    carrying derivatives (runtime_calls.unbound_method); obj only chose fn."""
    with _lock:
        caller = _static_callers.get((fn, cls))
        if caller is None:
            call = "F(C, *args, **kwargs)" if cls is not None else "F(*args, **kwargs)"
            text = f"def call_{fn.__name__}(obj, *args, **kwargs):\n    return {call}\n"
            caller = _plain_function(f"call_{fn.__name__}", text, {"F": fn, "C": cls})
            _static_callers[(fn, cls)] = caller
        return caller


def check_discarded_call(obj, name, where, args=()):
    """runtime_calls.check_discarded_call: refuse obj.name(...) when the method writes obj's
    attributes (what it stores would carry a derivative diffc does not follow)."""
    from .transform import argument_effects, constructors
    cls = type(obj)
    method = constructors.plain_method(cls, name) if constructors.is_user_class(cls) else None
    if method is not None and argument_effects.writes_global_state(method):
        raise NoDerivativeRule(
            f"{where}: {cls.__name__}.{name}(...) changes state outside its object (an attribute of a "
            "class or a module-level object, a global variable), which diffc does not follow",
            hint=f"keep the state in the object or return it from {name}")
    if method is not None:
        names = method.__code__.co_varnames[1:method.__code__.co_argcount]
        _refuse_arguments_written_in_place(method, names, args, f"{where}: {cls.__name__}.{name}", "a method",
                                           f"return the new value from {name} and assign it")
        check_written_arguments(method, names[:len(args)], tuple(args)[:len(names)], where)   # world.drift(p)
    if constructors.is_user_class(cls) and constructors.writes_attributes(cls, name):
        raise NoDerivativeRule(
            f"{where}: {cls.__name__}.{name}(...) writes attributes of its object, which holds or "
            "receives differentiated values; diffc follows such calls on objects the differentiated "
            "function builds or takes as arguments (and helpers it passes them to), and on items of "
            "lists of new objects it builds and only reads otherwise; this object comes from elsewhere "
            "(an attribute, a list holding objects of several classes, a name another name also holds...)",
            hint=f"build the {cls.__name__} objects in the differentiated function and use them only "
                 f"there, or have {name} return the new values instead of storing them")


def check_written_arguments(fn, names, values, where):
    """runtime_calls.check_written_arguments: refuse a call of fn that writes attributes of
    an object passed to it whose class diffc did not know when it compiled the call."""
    from .transform import constructors
    classes = {n: type(v) for n, v in zip(names, values) if constructors.followable_class(type(v))}
    written = [n for n in constructors.written_parameters(fn, classes) if n in classes] if classes else []
    if written:
        cls = classes[written[0]]
        raise NoDerivativeRule(
            f"{where}: {fn.__name__}(...) writes attributes of the {cls.__name__} object passed as "
            f"{written[0]}, and diffc cannot follow the writes here: where it compiled the call, it did "
            "not know the object's class (it came from a dict, a tuple, an attribute...) or which "
            "function is called (a function value)",
            hint=f"bind the object to a name built in the differentiated function ({written[0]} = "
                 f"{cls.__name__}(...)) or passed to it, and pass that name")


def check_called_value(fn, args, where):
    """runtime_calls.check_called_value: the plain function behind fn (a partial, a closure,
    a bound method) checked like a helper diffc knows: its writes into the attributes of the
    objects passed, or into state outside them, are refused at the caller's line."""
    from .transform import argument_effects, constructors
    lead = ()
    while True:
        if isinstance(fn, runtime_calls.Closure):
            lead, fn = tuple(fn.lead) + lead, fn.fn
        elif isinstance(fn, functools.partial):
            lead, fn = tuple(fn.args) + lead, fn.func
        elif isinstance(fn, types.MethodType):
            lead, fn = (fn.__self__,) + lead, fn.__func__
        elif runtime_calls.is_user_object(fn) and isinstance(getattr(type(fn), "__call__", None), types.FunctionType):
            if _draws_random(type(fn).__call__):             # a callable object (`Dropout(1)(h)`)
                raise NoDerivativeRule(f"{where}: {type(fn).__name__}.__call__ draws random numbers from a "
                                       "generator it does not make; diffc runs it again to differentiate it, "
                                       "which would draw other numbers",
                                       hint="draw the numbers in the differentiated function and pass them in")
            return
        else:
            break
    if not isinstance(fn, types.FunctionType) or not argument_effects.is_user_code(fn):
        return
    if _draws_random(fn):
        raise NoDerivativeRule(f"{where}: {fn.__name__}(...) draws random numbers from a generator it does not "
                               "make; diffc runs a function value again to differentiate it, which would draw "
                               "other numbers", hint="draw the numbers in the differentiated function and pass them in")
    if argument_effects.writes_global_state(fn):
        raise NoDerivativeRule(f"{where}: {fn.__name__}(...) changes state outside its arguments (an attribute "
                               "of a class or module-level object, a global variable), which diffc does not follow",
                               hint=f"return the new values from {fn.__name__}")
    names = fn.__code__.co_varnames[:fn.__code__.co_argcount]
    values = lead + tuple(args)
    _refuse_arguments_written_in_place(fn, names, values, f"{where}: {fn.__name__}", "a function value",
                                       f"return the new value from {fn.__name__} and assign it, or call "
                                       f"{fn.__name__} by its name")
    check_written_arguments(fn, names[:len(values)], values[:len(names)], where)


def _draws_random(fn):
    from .transform import argument_effects, constructors
    try:
        return argument_effects.draws_random(constructors.method_tree(fn, type(fn))[0])
    except (constructors.UnsupportedConstructor, SyntaxError, TypeError):
        return False


def _refuse_arguments_written_in_place(fn, names, values, call, through, hint):
    """Refuse when fn writes in place into a parameter (names) given an array, list or dict."""
    from .transform import argument_effects
    written = argument_effects.parameters_written_in_place(fn)
    for name, value in zip(names, values):
        if name in written and isinstance(value, (np.ndarray, list, dict)):
            raise NoDerivativeRule(f"{call}(...) writes into its argument {name} in place (Python changes the "
                                   f"caller's value), which diffc does not follow through {through}", hint=hint)


runtime_calls.DYNAMIC.update(check_discarded_call=check_discarded_call,
                             check_written_arguments=check_written_arguments,
                             check_called_value=check_called_value)
runtime_calls.DYNAMIC.update(attribute_caller=attribute_caller, static_caller=static_caller, call_values=call_values, call_bars=call_bars,
                       call_dots=call_dots, vjp_function=vjp_function, jvp_function=jvp_function,
                       as_call_bars=as_call_bars, jacobian_source=jacobian_source, hvp_source=hvp_source, vjp_call=vjp_call, jvp_call=jvp_call,
                       vjp_pullback=vjp_pullback)

del K
