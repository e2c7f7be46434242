"""compile_cache: binding arguments to parameters, and the cache of compiled gradients.

Input: a user function, its `wrt` and call arguments, and a ``build()`` that
runs the pipeline (pipeline.Module) for them.
Output: `Entry` objects holding the emitted module (emit.py) and the function to
call; one per (code, mode, wrt, argument kinds, options), reused while the
function's closure values, the module globals it read at compile time and
the rules registry (RULES_VERSION) are unchanged.

This is the seam shared by the public entry points (api, forward_api, export,
cli): they bind and normalize arguments and look compiled code up here, and
nothing else reaches into another module's private state.
"""

import functools
import inspect
import threading
import types

import numpy as np

from . import emit
from . import try_paths
from .analysis import kinds as K
from .errors import BadArgument, DiffcError
from .parse import require_source_text
from .pipeline import Module, ensure_rules
from .rules import RULES_VERSION
from .transform.constructors import is_user_class

CACHE = {}          # key -> [Entry], newest last
LOCK = threading.RLock()


# --------------------------------------------------------------- arguments

def signature_of(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        raise BadArgument(f"cannot read the signature of {fn!r}") from None


def param_names(fn):
    """fn's parameters flattened as parse.flatten_signature does: positional ones, then
    *args (one parameter holding a tuple), keyword-only ones, then **kwargs (a dict)."""
    return [p.name for p in signature_of(fn).parameters.values()]


def plain_signature(fn):
    """Whether fn's parameters are all ordinary (positional-or-keyword) ones."""
    return all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
               for p in signature_of(fn).parameters.values())


def normalize_wrt(fn, wrt):
    names = param_names(fn)
    single = not isinstance(wrt, (tuple, list))
    items = [wrt] if single else list(wrt)
    if not items:
        raise BadArgument("wrt is empty", hint="name at least one parameter")
    out = []
    for w in items:
        if isinstance(w, bool) or not isinstance(w, (int, str)):
            raise BadArgument(f"wrt must be an int, a parameter name or a tuple of them, not {w!r}")
        if isinstance(w, int):
            if not -len(names) <= w < len(names):
                raise BadArgument(f"wrt={w} is out of range: {fn.__qualname__} has {len(names)} parameters "
                                  f"({', '.join(names)})")
            out.append(names[w])
        else:
            if w not in names:
                raise BadArgument(f"{fn.__qualname__} has no parameter {w!r} (it has {', '.join(names)})")
            out.append(w)
    if len(set(out)) != len(out):
        raise BadArgument(f"wrt names a parameter twice: {wrt!r}")
    return tuple(out), single


def bind_arguments(fn, names, args, kwargs):
    if not kwargs and len(args) == len(names) and plain_signature(fn):
        return list(args)
    try:
        bound = signature_of(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise BadArgument(f"{fn.__qualname__}: {exc}") from None
    bound.apply_defaults()
    return [bound.arguments[n] for n in names]


def as_float(value):
    """A differentiated argument as floats (ints become floats; bools are refused)."""
    if type(value) is float:
        return value
    if isinstance(value, (bool, np.bool_)):
        raise BadArgument("cannot differentiate with respect to a bool")
    if isinstance(value, (int, np.integer)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iub":
        return value.astype(np.float64)
    return value


def kinds_of(args):
    return tuple([K.SCALAR if type(a) is float else _kind_of_argument(a) for a in args])


def _kind_of_argument(value):
    """K.kind_of_value, with the class kept for an object of a user class, or a list of
    objects of one user class (K.ObjectKind)."""
    kind = K.kind_of_value(value)
    if kind == K.UNKNOWN and is_user_class(type(value)):
        return K.ObjectKind(type(value))
    if kind == K.UNKNOWN and type(value) is list and value and is_user_class(type(value[0])) \
            and all(type(v) is type(value[0]) for v in value):
        return K.ObjectKind(type(value[0]), list)
    return kind


# ------------------------------------------------------------------ caching

def closure_values(fn):
    if not fn.__closure__:
        return ()
    out = []
    for cell in fn.__closure__:
        try:
            out.append(cell.cell_contents)
        except ValueError:
            out.append(None)
    return tuple(out)


class Entry:
    def __init__(self, closure, deps, emitted, main):
        self.closure = closure
        self.deps = deps
        self.emitted = emitted
        self.main = main
        # Registering a user rule changes what the compiler inlines: older code is stale.
        self.rules_version = RULES_VERSION[0]

    def valid(self, fn):
        if self.rules_version != RULES_VERSION[0]:
            return False
        # Equal code objects from two modules (same source, different globals) must not share.
        if fn.__globals__ is not getattr(self, "globals", fn.__globals__):
            return False
        if fn.__closure__ or self.closure:
            closure = closure_values(fn)
            if len(closure) != len(self.closure) or any(a is not b for a, b in zip(closure, self.closure)):
                return False
        for table, name, obj in self.deps:
            if table.get(name, _ABSENT) is not obj:
                return False
        return True

    def fast_check(self, fn):
        """A function of no arguments that tells what ``self.valid(fn)`` tells, for the
        fast call path (api._fast_wrapper), which compares the rules version itself.

        fn's globals cannot be rebound, so only the global names the code resolved
        are compared, in one generated expression (``g.get("np", ABSENT) is o0 and
        ...``): about 0.05 us against 0.2 us for the general loop, for a
        function that reads one module.  A closure keeps the general check."""
        if fn.__closure__ or self.closure or not self.valid(fn) or len(self.deps) > 200:
            return functools.partial(self.valid, fn)
        namespace = {"ABSENT": _ABSENT}
        terms = []
        for k, (table, name, obj) in enumerate(self.deps):
            namespace[f"t{k}"], namespace[f"n{k}"], namespace[f"o{k}"] = table, name, obj
            terms.append(f"t{k}.get(n{k}, ABSENT) is o{k}")
        source = "def check():\n    return " + (" and ".join(terms) or "True") + "\n"
        exec(compile(source, "<diffc validity check>", "exec"), namespace)
        return namespace["check"]


_ABSENT = object()


def collect_deps(module):
    seen = set()
    deps = []
    for _, info in module.infos.values():
        for table, name, obj in info.env.deps:
            key = (id(table), name)
            if key not in seen:
                seen.add(key)
                deps.append((table, name, obj))
    return deps


def compiled(fn, key, build):
    entries = CACHE.get(key)
    if entries:
        for entry in entries:
            if entry.valid(fn):
                return entry
    with LOCK:
        entries = CACHE.setdefault(key, [])
        for entry in entries:
            if entry.valid(fn):
                return entry
        ensure_rules()
        try:
            module, main = build()
            emitted = emit.compile_module(module, main)
        except DiffcError:
            raise
        except RecursionError:
            raise DiffcError(f"{getattr(fn, '__qualname__', fn)} is too deeply nested to compile") from None
        except Exception as exc:                  # a compiler bug: still a DiffcError, with the cause
            raise DiffcError(
                f"internal error while compiling {getattr(fn, '__qualname__', fn)}: "
                f"{type(exc).__name__}: {exc}",
                hint="this is a bug in diffc; please report it with the function's source") from exc
        entry = Entry(closure_values(fn), collect_deps(module), emitted, emitted.functions[main])
        entry.globals = fn.__globals__
        # What the API calls: main itself, or main along Python's path through try/with.
        entry.run_main = along_try_paths(entry.main) if try_paths.uses_try(emitted) else entry.main
        # Entries of other functions with equal code (generated wrappers with the same text,
        # each in its own namespace) stay: dropping them made two such functions recompile
        # each other's entry on every call.  A stale entry of this same function goes.
        entries[:] = [e for e in entries if e.valid(fn) or getattr(e, "globals", None) is not fn.__globals__] \
            + [entry]
        return entry


def along_try_paths(main):
    """main, run along the path Python takes through its try statements (try_paths)."""
    def run_main(*args):
        return try_paths.run(lambda: main(*args))[0]
    run_main.__name__ = main.__name__
    return run_main


def function_name(fn):
    name = fn.__name__
    return "lambda_fn" if name == "<lambda>" else name


def check_function(fn):
    if not isinstance(fn, types.FunctionType):
        raise BadArgument(f"diffc differentiates Python functions; got {type(fn).__name__} {fn!r}",
                          hint="wrap it in a def")
    if not hasattr(fn, "diffc_derivative"):
        require_source_text(fn)


def joint_key(fn, wrt_names, kinds, with_value, optimize, checkpoint, differentiable=False):
    key = (fn.__code__, "joint", wrt_names, kinds, with_value, optimize)
    # Checkpointing changes the generated code: part of the key (kept out when off),
    # and so does compiling it to be differentiated again (pipeline.Module.differentiable).
    if differentiable:
        key += ("differentiable",)
    return key if checkpoint is None else key + (("checkpoint", checkpoint),)


def joint_entry(fn, wrt_names, kinds, with_value, optimize=True, stages=None, checkpoint=None,
                 differentiable=False):
    key = joint_key(fn, wrt_names, kinds, with_value, optimize, checkpoint, differentiable)

    def build():
        names = param_names(fn)
        module = Module(optimize=optimize, stages=stages)
        module.checkpoint = checkpoint      # read by transform/checkpoint.py
        module.differentiable = differentiable
        module.entry = fn
        label = ("value_and_grad_" if with_value else "grad_") + function_name(fn)
        module.function_names.reserve(label)
        param_kinds = dict(zip(names, kinds))
        main = module.joint(fn, list(wrt_names), param_kinds, label, with_value=with_value)
        return module, main.name
    if stages is not None:
        module, main = build()
        return emit.compile_module(module, main), main
    return compiled(fn, key, build)


# ------------------------------------------------------------ seeing through
# Functions diffc returned (grad(f)...) carry `diffc_derivative`: differentiating
# them again differentiates the generated source they run.

def see_through(fn, values):
    """(function to compile, argument values) for fn called with values.

    A derivative function made by diffc is replaced by the generated function
    it runs for these argument kinds (its extra parameters take their
    defaults), so differentiating it again differentiates generated source."""
    spec = getattr(fn, "diffc_derivative", None)
    while spec is not None:
        fn, values = spec(values)
        spec = getattr(fn, "diffc_derivative", None)
    return fn, values


def with_defaults(fn, values):
    """values completed with fn's defaults for its trailing parameters."""
    defaults = fn.__defaults__ or ()
    n = fn.__code__.co_argcount
    missing = n - len(values)
    if missing > 0:
        values = list(values) + list(defaults[len(defaults) - missing:])
    return list(values)


def mark_gradient(gradient, fn, wrt_names, with_value, optimize):
    """Let diffc differentiate the wrapper `gradient` made by api.grad (higher order)."""
    names = param_names(fn)

    def spec(values):
        values = list(values)
        for w in wrt_names:
            k = names.index(w)
            values[k] = as_float(values[k])
        inner, values = see_through(fn, values)
        kinds = kinds_of(with_defaults(inner, values))
        entry = joint_entry(inner, wrt_names, kinds, with_value, optimize, differentiable=True)
        return entry.main, with_defaults(entry.main, values)
    gradient.diffc_derivative = spec
    return gradient
