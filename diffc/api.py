"""The public API: grad, value_and_grad, vjp, source, differentiate, check_grad.

Compilation happens on the first call for a given (function, wrt, mode,
argument kinds, options) and is cached; a cached entry is reused only while
the function's closure values and the module globals it read at compile time
are the same objects, so a redefined helper or a rebound global constant is
seen on the next call.  Generated functions keep their tapes in local
variables, so one compiled gradient may be called from many threads.
"""

import functools
import inspect
import math
import threading
import types

import numpy as np

from . import dispatch
from . import emit
from . import runtime
from . import sourcemap
from .analysis import kinds as K
from .errors import BadArgument, DiffcError
from .parse import parse_function
from .pipeline import Module, ensure_rules
from .rules import RULES_VERSION

_cache = {}
_lock = threading.RLock()


# --------------------------------------------------------------- arguments

def _signature(fn):
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):
        raise BadArgument(f"cannot read the signature of {fn!r}") from None


def _param_names(fn):
    params = list(_signature(fn).parameters.values())
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            raise BadArgument(f"{fn.__qualname__}: *args, **kwargs and keyword-only parameters are not "
                              "supported", hint="use ordinary parameters")
    return [p.name for p in params]


def _normalize_wrt(fn, wrt):
    names = _param_names(fn)
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


def _bind(fn, names, args, kwargs):
    if not kwargs and len(args) == len(names):
        return list(args)
    try:
        bound = _signature(fn).bind(*args, **kwargs)
    except TypeError as exc:
        raise BadArgument(f"{fn.__qualname__}: {exc}") from None
    bound.apply_defaults()
    return [bound.arguments[n] for n in names]


def _as_float(value):
    if type(value) is float:
        return value
    if isinstance(value, (bool, np.bool_)):
        raise BadArgument("cannot differentiate with respect to a bool")
    if isinstance(value, (int, np.integer)):
        return float(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "iub":
        return value.astype(np.float64)
    if isinstance(value, list) and all(isinstance(v, (int, float, np.number)) for v in value) and False:
        return value
    return value


_SCALAR = K.SCALAR
_UNKNOWN = K.UNKNOWN


# Argument types whose values all have one kind (an ndarray's depends on its ndim and dtype).
_TYPES_DECIDING_KIND = frozenset({float, int, bool, str, type(None), np.float64, np.float32, np.int64,
                                  np.int32, np.bool_})


def _kinds(args):
    return tuple([K.SCALAR if type(a) is float else K.kind_of_value(a) for a in args])


# ------------------------------------------------------------------ caching

def _closure_values(fn):
    if not fn.__closure__:
        return ()
    out = []
    for cell in fn.__closure__:
        try:
            out.append(cell.cell_contents)
        except ValueError:
            out.append(None)
    return tuple(out)


class _Entry:
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
            closure = _closure_values(fn)
            if len(closure) != len(self.closure) or any(a is not b for a, b in zip(closure, self.closure)):
                return False
        for table, name, obj in self.deps:
            if table.get(name, _ABSENT) is not obj:
                return False
        return True


_ABSENT = object()


def _collect_deps(module):
    seen = set()
    deps = []
    for _, info in module.infos.values():
        for table, name, obj in info.env.deps:
            key = (id(table), name)
            if key not in seen:
                seen.add(key)
                deps.append((table, name, obj))
    return deps


def _compiled(fn, key, build):
    entries = _cache.get(key)
    if entries:
        for entry in entries:
            if entry.valid(fn):
                return entry
    with _lock:
        entries = _cache.setdefault(key, [])
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
        entry = _Entry(_closure_values(fn), _collect_deps(module), emitted, emitted.functions[main])
        entry.globals = fn.__globals__
        entries[:] = [e for e in entries if e.valid(fn)] + [entry]
        return entry


def _function_name(fn):
    name = fn.__name__
    return "lambda_fn" if name == "<lambda>" else name


def _check_function(fn):
    if not isinstance(fn, types.FunctionType):
        raise BadArgument(f"diffc differentiates Python functions; got {type(fn).__name__} {fn!r}",
                          hint="wrap it in a def")


def _joint_key(fn, wrt_names, kinds, with_value, optimize, checkpoint, differentiable=False):
    key = (fn.__code__, "joint", wrt_names, kinds, with_value, optimize)
    # Checkpointing changes the generated code: part of the key (kept out when off),
    # and so does compiling it to be differentiated again (pipeline.Module.differentiable).
    if differentiable:
        key += ("differentiable",)
    return key if checkpoint is None else key + (("checkpoint", checkpoint),)


def _joint_entry(fn, wrt_names, kinds, with_value, optimize=True, stages=None, checkpoint=None,
                 differentiable=False):
    key = _joint_key(fn, wrt_names, kinds, with_value, optimize, checkpoint, differentiable)

    def build():
        names = _param_names(fn)
        module = Module(optimize=optimize, stages=stages)
        module.checkpoint = checkpoint      # read by transform/checkpoint.py
        module.differentiable = differentiable
        label = ("value_and_grad_" if with_value else "grad_") + _function_name(fn)
        module.function_names.reserve(label)
        param_kinds = dict(zip(names, kinds))
        main = module.joint(fn, list(wrt_names), param_kinds, label, with_value=with_value)
        return module, main.name
    if stages is not None:
        module, main = build()
        return emit.compile_module(module, main), main
    return _compiled(fn, key, build)


# ------------------------------------------------------------------- public

def grad(fn, wrt=0, *, optimize=True, checkpoint=None):
    """The gradient of a scalar-valued function (a tuple when wrt is a tuple).

    ``checkpoint=True`` (about sqrt(n) snapshots) or ``checkpoint=k`` stores
    snapshots of the state of outermost loops instead of taping every
    iteration, and recomputes during the adjoint sweep (see
    transform/checkpoint.py); ``diffc.checkpointed`` marks single loops."""
    return _gradient(fn, wrt, with_value=False, optimize=optimize, checkpoint=_check_budget(checkpoint))


def value_and_grad(fn, wrt=0, *, optimize=True, checkpoint=None):
    """A function returning (f(*args), gradient); ``checkpoint`` as for `grad`."""
    return _gradient(fn, wrt, with_value=True, optimize=optimize, checkpoint=_check_budget(checkpoint))


def _check_budget(checkpoint):
    if checkpoint is None or checkpoint is False:
        return None
    if checkpoint is True or (isinstance(checkpoint, int) and not isinstance(checkpoint, bool)
                              and checkpoint >= 1):
        return checkpoint
    raise BadArgument(f"checkpoint must be True, False or a positive number of snapshots, not {checkpoint!r}")


def _gradient(fn, wrt, with_value, optimize, checkpoint=None):
    _check_function(fn)
    wrt_names, single = _normalize_wrt(fn, wrt)
    names = _param_names(fn)
    wrt_index = [names.index(w) for w in wrt_names]

    n_params = len(names)
    derived = hasattr(fn, "diffc_derivative")
    # (kinds, entry) of the previous call, the hot path; one tuple, replaced whole,
    # so a thread never pairs one call's kinds with another call's entry.
    last = [(None, None)]
    # Hotter still, for calls whose argument types alone decide the kinds (floats,
    # ints...): the globals of the wrapper (see _fast_wrapper).
    fast = {}
    # How the generated function's result is returned: as is, as a 1-tuple of
    # gradients (wrt=(x,)), or (value, 1-tuple).
    wrap = 1 if not single and not with_value and len(wrt_names) == 1 else \
        2 if with_value and not single and len(wrt_names) == 1 else 0

    def lookup(args, kwargs):
        """(entry, argument values) for a call off the fast path: bind, convert, compile."""
        values = list(args) if not kwargs and len(args) == n_params else _bind(fn, names, args, kwargs)
        for k in wrt_index:
            if type(values[k]) is not float:
                values[k] = _as_float(values[k])
        target = fn
        if derived:
            # Higher order: differentiate the generated code fn runs for these kinds.
            from .forward_api import see_through
            target, values = see_through(fn, values)
        kinds = tuple([_SCALAR if type(a) is float else K.kind_of_value(a) for a in values])
        last_kinds, entry = last[0]
        if derived or last_kinds != kinds or not entry.valid(target):
            # The newest cached entry for these kinds, if still valid, else compile.
            entries = _cache.get(_joint_key(target, wrt_names, kinds, with_value, optimize, checkpoint))
            entry = entries[-1] if entries else None
            if entry is None or not entry.valid(target):
                entry = _joint_entry(target, wrt_names, kinds, with_value, optimize, checkpoint=checkpoint)
            last[0] = (kinds, entry)
            if _UNKNOWN in kinds:
                dispatch.check(entry.emitted, values, _function_name(fn))
        if not derived and not kwargs and len(args) == n_params \
                and all(type(a) in _TYPES_DECIDING_KIND or type(a) is np.ndarray for a in args) \
                and all(type(args[k]) is float or type(args[k]) is np.float64
                        or (type(args[k]) is np.ndarray and args[k].dtype.kind == "f")
                        for k in wrt_index):
            # (an np.float64 reaches the generated code as it is on the slow path too:
            # _as_float keeps it, so the fast path changes nothing but the cost)
            check = functools.partial(entry.valid, fn) if entry.deps or entry.closure else None
            arrays = tuple(_array_spec(a) if type(a) is np.ndarray else None for a in args)
            fast["FAST"] = (tuple(map(type, args)), arrays, entry.main, check, entry.rules_version)
        return entry, values

    def slow(args, kwargs):
        entry, args = lookup(args, kwargs)
        try:
            result = entry.main(*args)
        except Exception as exc:
            sourcemap.annotate(exc)
            raise
        if wrap == 0:
            return result
        return (result,) if wrap == 1 else (result[0], (result[1],))

    gradient = _fast_wrapper(n_params, wrap, slow, fast)
    functools.update_wrapper(gradient, fn)
    gradient.__name__ = ("value_and_grad_" if with_value else "grad_") + _function_name(fn)
    gradient.__qualname__ = gradient.__name__
    gradient.diffc_source = lambda *args, **kwargs: _joint_entry(
        fn, wrt_names, _kinds(_bind(fn, names, args, kwargs)), with_value, optimize,
        checkpoint=checkpoint).emitted.source
    from .forward_api import mark_gradient
    return mark_gradient(gradient, fn, wrt_names, with_value, optimize)


_FAST_CODE = {}


def _fast_wrapper(n, wrap, slow, env):
    """The function grad() returns, for a function of n positional parameters.

    A call with n positional arguments of the types of the previous fast call
    (types that alone decide the argument kinds, or ndarrays with the same
    1-d-ness and float-ness, which decide theirs), with the rules unchanged
    and the entry still valid, goes straight to the generated function: about
    0.1 us instead of 0.35 us for a generic *args wrapper, which matters for
    microsecond functions.  Anything else goes to `slow`.  The source is made
    once per (n, wrap); `env` (its globals) holds FAST = (types, ndarray specs,
    generated function, validity check or None, rules version), replaced whole so a
    thread never pairs one call's types with another call's function."""
    if (n, wrap) not in _FAST_CODE:
        params = "".join(f"a{i}, " for i in range(n))
        types_ = "".join(f"t{i}, " for i in range(n))
        specs = "".join(f"s{i}, " for i in range(n))
        same = "".join(f"type(a{i}) is t{i} and (s{i} is None or "
                       f"(a{i}.ndim == 1, a{i}.dtype.kind == 'f') == s{i}) and " for i in range(n))
        call = f"main({params})"
        result = {0: call, 1: f"({call},)", 2: f"_pair({call})"}[wrap]
        source = (f"def gradient(*args, **kwargs):\n"
                  f"    ({types_}), ({specs}), main, check, version = FAST\n"
                  f"    if not kwargs and len(args) == {n} and version == RULES_VERSION[0]:\n"
                  f"        ({params}) = args\n"
                  f"        if {same}(check is None or check()):\n"
                  f"            try:\n"
                  f"                return {result}\n"
                  f"            except Exception as exc:\n"
                  f"                annotate(exc)\n"
                  f"                raise\n"
                  f"    return slow(args, kwargs)\n")
        namespace = {}
        exec(compile(source, f"<diffc gradient wrapper ({n} parameters)>", "exec"), namespace)
        _FAST_CODE[(n, wrap)] = namespace["gradient"].__code__
    env.update(FAST=((None,) * n, (None,) * n, None, None, -1), RULES_VERSION=RULES_VERSION,
               annotate=sourcemap.annotate, slow=slow, _pair=_pair, type=type, len=len)
    return types.FunctionType(_FAST_CODE[(n, wrap)], env, "gradient")


def _array_spec(a):
    """What of an ndarray decides its kind (1-d and float: VECTOR) and whether a wrt
    argument needs converting (not float): the fast path compares it."""
    return (a.ndim == 1, a.dtype.kind == "f")


def _pair(result):
    return result[0], (result[1],)


def vjp(fn, *primals, **kw_primals):
    """(f(*primals), pullback); pullback(cotangent) -> one entry per primal (None for ints)."""
    _check_function(fn)
    names = _param_names(fn)
    # checkpoint=True|k as for grad, unless fn has a parameter of that name.
    checkpoint = _check_budget(kw_primals.pop("checkpoint", None)) if "checkpoint" not in names else None
    values = _bind(fn, names, primals, kw_primals)
    n_user = len(values)
    if hasattr(fn, "diffc_derivative"):
        # Higher order: the pullback of the generated code fn runs for these kinds
        # (its extra parameters, such as the seed, take their defaults).
        from .forward_api import see_through
        fn, values = see_through(fn, values)
        names = _param_names(fn)
    kinds = _kinds(values)
    mask = tuple(k != K.INT and not isinstance(v, (str, type(None))) for k, v in zip(kinds, values))
    key = (fn.__code__, "split", mask, kinds)
    if checkpoint is not None:
        key += (("checkpoint", checkpoint),)

    def build():
        module = Module()
        module.checkpoint = checkpoint
        fwd, adj, _ = module.split_callee(fn, mask, kinds, None, None)
        module.main_adjoint = adj.id
        return module, fwd.id
    entry = _compiled(fn, key, build)
    fwd = entry.main
    dispatch.check(entry.emitted, values, _function_name(fn))
    adj_name = [n for n in entry.emitted.functions if n.startswith("_adj_")]
    adj = entry.emitted.functions[_adjoint_name(entry)]
    tape = []
    try:
        out = fwd(*values, tape)
    except Exception as exc:
        sourcemap.annotate(exc)
        raise
    state = {"tape": tape, "used": False}

    def pullback(cotangent):
        if state["used"]:
            fresh = []
            fwd(*values, fresh)
            tape_now = fresh
        else:
            tape_now = state["tape"]
            state["used"] = True
        # The adjoint may accumulate into its seed in place: never into the caller's array.
        seed = runtime.copy_value(cotangent) if not isinstance(cotangent, tuple) \
            else tuple(runtime.copy_value(c) for c in cotangent)
        try:
            bars = adj(tape_now, seed)
        except Exception as exc:
            sourcemap.annotate(exc)
            raise
        result, k = [], 0
        for value, active in zip(values, mask):
            if active:
                result.append(runtime.finalize(bars[k], value))
                k += 1
            else:
                result.append(None)
        return tuple(result[:n_user])
    del adj_name
    return out, pullback


def _adjoint_name(entry):
    fwd_name = entry.main.__name__
    return "_adj_" + fwd_name[len("_fwd_"):]


def source(fn, mode="reverse", wrt=0, args=None, *, optimize=True):
    """The generated source, exactly what runs.

    Without ``args`` the parameters are taken to be Python floats; pass example
    arguments to see the code specialized for them (arrays, lists...)."""
    _check_function(fn)
    if mode != "reverse":
        from . import forward_api
        return forward_api.forward_source(fn, wrt, args, optimize=optimize)
    wrt_names, _ = _normalize_wrt(fn, wrt)
    names = _param_names(fn)
    if args is None:
        kinds = tuple(K.SCALAR for _ in names)
    else:
        values = list(args) + [None] * 0
        kinds = _kinds(values)
    entry = _joint_entry(fn, wrt_names, kinds, False, optimize)
    return entry.emitted.source


def stages(fn, wrt=0, args=None, optimize=True):
    """[(stage name, gast node)] after each pass, for debugging (diffc show --stage)."""
    wrt_names, _ = _normalize_wrt(fn, wrt)
    names = _param_names(fn)
    kinds = tuple(K.SCALAR for _ in names) if args is None else _kinds(list(args))
    collected = []
    ensure_rules()
    _joint_entry(fn, wrt_names, kinds, False, optimize, stages=collected)
    return collected


def check_grad(fn, *args, wrt=0, eps=1e-6, **kwargs):
    """The largest absolute difference between diffc's gradient and central differences."""
    wrt_names, single = _normalize_wrt(fn, wrt)
    names = _param_names(fn)
    values = _bind(fn, names, args, kwargs)
    grads = grad(fn, wrt=tuple(wrt_names))(*values)
    worst = 0.0
    for name, g in zip(wrt_names, grads):
        k = names.index(name)
        numeric = numeric_grad(fn, values, k, eps)
        worst = max(worst, float(np.max(np.abs(np.asarray(g, dtype=float) - numeric), initial=0.0)))
    return worst


def numeric_grad(fn, values, k, eps=1e-6):
    """Central finite differences of fn with respect to argument k."""
    x = values[k]
    base = np.array(x, dtype=np.float64)
    flat = base.reshape(-1)
    out = np.zeros_like(flat)
    for i in range(flat.size):
        for sign in (1, -1):
            probe = flat.copy()
            probe[i] += sign * eps
            arg = probe.reshape(base.shape)
            if not isinstance(x, np.ndarray):
                arg = float(arg) if base.ndim == 0 else arg.tolist()
            call = list(values)
            call[k] = arg
            out[i] += sign * float(fn(*call))
    return (out / (2 * eps)).reshape(base.shape)


class differentiate:
    """Decorator: the function, unchanged, plus .grad/.value_and_grad/.vjp/.source."""

    def __new__(cls, fn=None, *, wrt=0, checkpoint=None):
        if fn is None:
            return lambda f: cls(f, wrt=wrt, checkpoint=checkpoint)
        return super().__new__(cls)

    def __init__(self, fn=None, *, wrt=0, checkpoint=None):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.wrt = wrt
        self.checkpoint = checkpoint
        self._grad = None
        self._value_and_grad = None

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        return self if obj is None else types.MethodType(self, obj)

    def grad(self, *args, **kwargs):
        if self._grad is None:
            self._grad = grad(self.fn, wrt=self.wrt, checkpoint=self.checkpoint)
        return self._grad(*args, **kwargs)

    def value_and_grad(self, *args, **kwargs):
        if self._value_and_grad is None:
            self._value_and_grad = value_and_grad(self.fn, wrt=self.wrt, checkpoint=self.checkpoint)
        return self._value_and_grad(*args, **kwargs)

    def vjp(self, *args, **kwargs):
        if self.checkpoint is not None and "checkpoint" not in kwargs:
            kwargs["checkpoint"] = self.checkpoint
        return vjp(self.fn, *args, **kwargs)

    def source(self, mode="reverse", args=None):
        return source(self.fn, mode=mode, wrt=self.wrt, args=args)

    def jvp(self, primals, tangents):
        from .forward_api import jvp
        return jvp(self.fn, primals, tangents)

    def jacobian(self, *args, mode="reverse"):
        from .forward_api import jacobian
        return jacobian(self.fn, wrt=self.wrt, mode=mode)(*args)

    def hessian(self, *args):
        from .forward_api import hessian
        return hessian(self.fn, wrt=self.wrt)(*args)


del math
