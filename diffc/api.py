"""The reverse-mode API: grad, value_and_grad, vjp, check_grad (forward mode, higher
order, source and the decorator build on it: forward_api.py, entry.py).

Compilation happens on the first call for a given (function, wrt, mode,
argument kinds, options) and is cached; a cached entry is reused only while
the function's closure values and the module globals it read at compile time
are the same objects, so a redefined helper or a rebound global constant is
seen on the next call.  Generated functions keep their tapes in local
variables, so one compiled gradient may be called from many threads.
"""

import functools
import math
import sys
import types

import numpy as np

from . import dispatch
from . import runtime
from . import runtime_calls
from . import sourcemap
from . import try_paths
from .analysis import kinds as K
from .errors import BadArgument, DiffcError, for_user, user_facing
from .compile_cache import (CACHE, as_float, bind_arguments, check_function, compiled, function_name,
                            joint_entry, joint_key, kinds_of, mark_gradient, normalize_wrt, param_names,
                            plain_signature, see_through)
from .library_entry import as_python_function
from .parse import define_from_source
from .pipeline import Module
from . import rules
from .rules import RULES_VERSION


def is_function_like(value):
    """A function, method, class, callable object or module: a value with no derivative.

    A callable object of a user class holding data in attributes (a model with
    ``__call__``) is an object like any other: its fields are differentiated."""
    if isinstance(value, (np.ndarray, list, tuple, dict, float, int, np.number)):
        return False
    if runtime_calls.is_user_object(value) and not isinstance(value, types.MethodType):
        return False
    return callable(value) or isinstance(value, types.ModuleType)


def check_differentiable_argument(name, value):
    """Refuse a wrt argument that is a function, a callable object, a module, a str or None.

    Its gradient would be a silent 0.0: the dependence of the result on which
    function is called is not a derivative."""
    if value is None or isinstance(value, str) or is_function_like(value) or holds_only_functions(value):
        raise BadArgument(f"cannot differentiate with respect to the argument {name!r}: it is "
                          f"{type(value).__name__} {value!r:.60}, not a number, an array or a container of them",
                          hint=f"leave {name!r} out of wrt (pass the functions' parameters as separate "
                               "arguments to differentiate with respect to them)")


def holds_only_functions(value):
    """A list, tuple or dict of functions (and no numbers): nothing to differentiate."""
    if not isinstance(value, (list, tuple, dict)) or hasattr(value, "_fields"):
        return False
    items = list(value.values()) if isinstance(value, dict) else list(value)
    return bool(items) and all(is_function_like(v) or holds_only_functions(v) for v in items)


_SCALAR = K.SCALAR
_UNKNOWN = K.UNKNOWN


# Argument types whose values all have one kind (an ndarray's depends on its ndim and dtype).
_TYPES_DECIDING_KIND = frozenset({float, int, bool, str, type(None), np.float64, np.float32, np.int64,
                                  np.int32, np.bool_})


# ------------------------------------------------------------------- public

def unlifted(fn):
    """fn, or for a local function of code diffc runs (``g = diffc.grad(inner)`` inside a
    differentiated function, where diffc lifted inner with what it captured: a
    runtime_calls.Closure) the same function with the captured values fixed."""
    if isinstance(fn, runtime_calls.Closure):
        return _closure_function(fn) or fn
    return as_python_function(fn)       # diffc.grad(np.sum), vjp(np.sin, x): library_entry.py


def _closure_function(closure):
    """The lifted function of a Closure of a local function (captured values only, no
    partial arguments) with the captured values as the defaults of its trailing
    parameters; None otherwise."""
    fn, trail = closure.fn, closure.trail
    if closure.lead or closure.keywords or not isinstance(fn, types.FunctionType) or not trail:
        return None
    defaults = fn.__defaults__ or ()
    if defaults and len(defaults) < len(trail):
        return None
    # after a parameter with a default every positional one has one: the user's defaults,
    # then placeholders for the captured values, which these replace
    defaults = tuple(defaults[:len(defaults) - len(trail)]) + tuple(trail)
    made = types.FunctionType(fn.__code__, fn.__globals__, fn.__name__, defaults, fn.__closure__)
    made.__kwdefaults__ = fn.__kwdefaults__
    made.__qualname__ = fn.__qualname__
    made.__dict__.update(fn.__dict__)
    return made


def for_bound_methods(transform):
    """Let a wrt-taking transform (grad, jacobian, ...) accept a bound method.

    ``transform(obj.method, wrt=k)`` differentiates the method's function with
    the object as a constant first argument: ints in wrt count the method's
    own parameters (self excluded), names are unchanged."""
    @functools.wraps(transform)
    def wrapped(fn, wrt=0, *rest, **options):
        fn = unlifted(fn)
        if not isinstance(fn, types.MethodType) or not isinstance(fn.__func__, types.FunctionType):
            return transform(fn, wrt, *rest, **options)
        shift = (lambda w: w + 1 if isinstance(w, int) and not isinstance(w, bool) and w >= 0 else w)
        inner_wrt = tuple(shift(w) for w in wrt) if isinstance(wrt, (tuple, list)) else shift(wrt)
        inner = transform(fn.__func__, inner_wrt, *rest, **options)
        owner = fn.__self__

        @functools.wraps(fn)
        def bound(*args, **kwargs):
            return inner(owner, *args, **kwargs)
        bound.__name__ = bound.__qualname__ = getattr(inner, "__name__", "derivative")
        # called inside differentiated code, it is inner with owner first (dynamic.py)
        bound.diffc_bound = (inner, owner)
        return bound
    return wrapped


@user_facing
@for_bound_methods
def grad(fn, wrt=0, *, optimize=True, checkpoint=None, jit=False, cache=False, has_aux=False):
    """The gradient of a scalar-valued function (a tuple when wrt is a tuple).

    ``has_aux=True``: fn returns a pair ``(value, aux)``; the gradient is value's, and the
    call returns ``(gradient, aux)`` (aux as fn returned it, never differentiated), as JAX.

    ``checkpoint=True`` (about sqrt(n) snapshots) or ``checkpoint=k`` stores
    snapshots of the state of outermost loops instead of taping every
    iteration, and recomputes during the adjoint sweep (see
    transform/checkpoint.py); ``diffc.checkpointed`` marks single loops.
    ``jit=True`` compiles the generated gradient with numba (``jit="auto"``:
    the Python gradient, with a warning, where numba cannot); ``cache=True``
    keeps numba's machine code on disk (see jit_api.py)."""
    if has_aux:
        return _with_aux(fn, wrt, False, checkpoint, jit)
    if jit:
        return _jit_gradient(fn, wrt, False, optimize, checkpoint, jit, cache)
    return _gradient(fn, wrt, with_value=False, optimize=optimize, checkpoint=_check_budget(checkpoint))


@user_facing
@for_bound_methods
def value_and_grad(fn, wrt=0, *, optimize=True, checkpoint=None, jit=False, cache=False, has_aux=False):
    """A function returning (f(*args), gradient); ``checkpoint``, ``jit`` as for `grad`.
    With ``has_aux=True`` (fn returns ``(value, aux)``) it returns ``((value, aux), gradient)``."""
    if has_aux:
        return _with_aux(fn, wrt, True, checkpoint, jit)
    if jit:
        return _jit_gradient(fn, wrt, True, optimize, checkpoint, jit, cache)
    return _gradient(fn, wrt, with_value=True, optimize=optimize, checkpoint=_check_budget(checkpoint))


def _with_aux(fn, wrt, with_value, checkpoint, jit):
    """grad / value_and_grad of fn returning (value, aux), through the pullback of vjp with
    the cotangent (1.0, 0.0): aux gets none."""
    if jit:
        raise BadArgument("has_aux=True is not available with jit=True",
                          hint="return the auxiliary values from a second call, or drop jit")
    check_function(fn)
    wrt_names, single = normalize_wrt(fn, wrt)
    names = param_names(fn)
    where = [names.index(w) for w in wrt_names]
    options = {} if checkpoint is None else {"checkpoint": checkpoint}

    @user_facing
    def derivative(*args, **kwargs):
        out, pullback = vjp(fn, *args, **kwargs, **options)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise BadArgument(f"with has_aux=True, {function_name(fn)} must return a pair (value, aux); "
                              f"it returned {type(out).__name__}")
        value, aux = out
        runtime.check_scalar(value)
        bars = pullback((1.0, 0.0))
        chosen = bars[where[0]] if single else tuple(bars[k] for k in where)
        return ((value, aux), chosen) if with_value else (chosen, aux)
    derivative.__name__ = f"{'value_and_grad' if with_value else 'grad'}_{function_name(fn)}"
    return derivative


# The jit= entry points, registered by jit_api.py (imported by diffc/__init__.py), so
# that this module imports nothing it would form a cycle with: check, gradient, jvp,
# hessian, hvp.
JIT = {}


def _jit_gradient(fn, wrt, with_value, optimize, checkpoint, jit, cache):
    JIT["check"](jit)
    return JIT["gradient"](fn, wrt, with_value, optimize, _check_budget(checkpoint), jit, cache)


def _check_budget(checkpoint):
    if checkpoint is None or checkpoint is False:
        return None
    if checkpoint is True or (isinstance(checkpoint, int) and not isinstance(checkpoint, bool)
                              and checkpoint >= 1):
        return checkpoint
    raise BadArgument(f"checkpoint must be True, False or a positive number of snapshots, not {checkpoint!r}")


def _gradient(fn, wrt, with_value, optimize, checkpoint=None):
    check_function(fn)
    wrt_names, single = normalize_wrt(fn, wrt)
    names = param_names(fn)
    wrt_index = [names.index(w) for w in wrt_names]

    # The fast paths below pass positional arguments straight through: only for plain
    # signatures (with *args or **kwargs every call is bound, as Python binds it).
    n_params = len(names) if plain_signature(fn) else -1
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
        values = list(args) if not kwargs and len(args) == n_params else bind_arguments(fn, names, args, kwargs)
        for k in wrt_index:
            if type(values[k]) is not float:
                check_differentiable_argument(names[k], values[k])
                values[k] = as_float(values[k])
        target = fn
        if derived:
            # Higher order: differentiate the generated code fn runs for these kinds.
            target, values = see_through(fn, values)
        kinds = kinds_of(values)
        last_kinds, entry = last[0]
        if derived or last_kinds != kinds or not entry.valid(target):
            # The newest cached entry for these kinds, if still valid, else compile.
            entries = CACHE.get(joint_key(target, wrt_names, kinds, with_value, optimize, checkpoint))
            entry = entries[-1] if entries else None
            if entry is None or not entry.valid(target):
                entry = joint_entry(target, wrt_names, kinds, with_value, optimize, checkpoint=checkpoint)
            last[0] = (kinds, entry)
            if _UNKNOWN in kinds:
                dispatch.check(entry.emitted, values, function_name(fn))
        if not derived and not kwargs and len(args) == n_params \
                and all(type(a) in _TYPES_DECIDING_KIND or type(a) is np.ndarray for a in args) \
                and all(type(args[k]) is float or type(args[k]) is np.float64
                        or (type(args[k]) is np.ndarray and args[k].dtype.kind == "f")
                        for k in wrt_index):
            # (an np.float64 reaches the generated code as it is on the slow path too:
            # _as_float keeps it, so the fast path changes nothing but the cost)
            check = entry.fast_check(fn) if entry.deps or entry.closure else None
            arrays = tuple(_array_spec(a) if type(a) is np.ndarray else None for a in args)
            fast["FAST"] = (tuple(map(type, args)), arrays, entry.run_main, check, entry.rules_version)
        return entry, values

    def slow(args, kwargs):
        entry, args = lookup(args, kwargs)
        try:
            result = entry.run_main(*args)
        except Exception as exc:
            sourcemap.annotate(exc)
            raise
        narrow = [(i, type(args[k])) for i, k in enumerate(wrt_index)
                  if isinstance(args[k], np.floating) and type(args[k]) is not np.float64]
        if narrow:
            result = _narrow_scalar_grads(result, narrow, len(wrt_index) == 1, with_value)
        if wrap == 0:
            return result
        return (result,) if wrap == 1 else (result[0], (result[1],))

    gradient = _fast_wrapper(n_params, wrap, slow, fast)
    functools.update_wrapper(gradient, fn)
    gradient.__name__ = ("value_and_grad_" if with_value else "grad_") + function_name(fn)
    gradient.__qualname__ = gradient.__name__
    gradient.diffc_source = lambda *args, **kwargs: joint_entry(
        fn, wrt_names, kinds_of(bind_arguments(fn, names, args, kwargs)), with_value, optimize,
        checkpoint=checkpoint).emitted.source
    # What the generated code returns is re-wrapped like this by jvp/vjp/jacobian of gradient.
    gradient.diffc_output_wrap = wrap
    return mark_gradient(gradient, fn, wrt_names, with_value, optimize)


def _narrow_scalar_grads(result, narrow, one, with_value):
    """The gradients of NumPy scalar arguments of a narrower float type (np.float32) in that
    type: the generated code computes scalars as Python floats (a constant gradient,
    ``s * 2.0``, would be 2.0), and a gradient has its argument's dtype."""
    value, grads = result if with_value else (None, result)
    grads = [grads] if one else list(grads)
    for i, kind in narrow:
        if i < len(grads) and isinstance(grads[i], (float, np.floating)):
            grads[i] = kind(grads[i])
    grads = grads[0] if one else tuple(grads)
    return (value, grads) if with_value else grads


def output_wrap(fn):
    """How fn (a function diffc returned) wraps what its generated code returns:
    0 as is, 1 a 1-tuple of gradients (grad(f, wrt=(x,))), 2 (value, 1-tuple)."""
    return getattr(fn, "diffc_output_wrap", 0)


def wrap_output(wrap, out):
    """The generated code's result (or its tangent) in the structure fn returns."""
    if wrap == 1:
        return (out,)
    if wrap == 2:
        return (out[0], (out[1],))
    return out


def unwrap_cotangent(wrap, cotangent):
    """A cotangent of fn's output (wrap_output's structure) for the generated code.
    A bare cotangent of the single gradient is accepted too."""
    if wrap == 1 and isinstance(cotangent, (tuple, list)) and len(cotangent) == 1:
        return cotangent[0]
    if wrap == 2 and isinstance(cotangent, (tuple, list)) and len(cotangent) == 2 \
            and isinstance(cotangent[1], (tuple, list)) and len(cotangent[1]) == 1:
        return (cotangent[0], cotangent[1][0])
    return cotangent


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
                  f"    try:\n"
                  f"        return slow(args, kwargs)\n"
                  f"    except DiffcError as exc:\n"
                  f"        raise for_user(exc)\n")
        namespace = {}
        exec(compile(source, f"<diffc gradient wrapper ({n} parameters)>", "exec"), namespace)
        _FAST_CODE[(n, wrap)] = namespace["gradient"].__code__
    env.update(FAST=((None,) * n, (None,) * n, None, None, -1), RULES_VERSION=RULES_VERSION,
               annotate=sourcemap.annotate, slow=slow, _pair=_pair, type=type, len=len,
               DiffcError=DiffcError, for_user=for_user)
    return types.FunctionType(_FAST_CODE[(n, wrap)], env, "gradient")


def _array_spec(a):
    """What of an ndarray decides its kind (1-d and float: VECTOR) and whether a wrt
    argument needs converting (not float): the fast path compares it."""
    return (a.ndim == 1, a.dtype.kind == "f")


def _pair(result):
    return result[0], (result[1],)


@user_facing
def vjp(fn, *primals, **kw_primals):
    """(f(*primals), pullback); pullback(cotangent) -> one entry per primal (None for ints)."""
    fn = unlifted(fn)
    if isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType):
        out, pullback = vjp(fn.__func__, fn.__self__, *primals, **kw_primals)
        return out, lambda cotangent: pullback(cotangent)[1:]
    if getattr(fn, "diffc_bound", None) is not None:
        # a derivative of obj.method (diffc.grad(model.loss)): the method's derivative, obj first
        inner, owner = fn.diffc_bound
        out, pullback = vjp(inner, owner, *primals, **kw_primals)
        return out, lambda cotangent: pullback(cotangent)[1:]
    check_function(fn)
    names = param_names(fn)
    # checkpoint=True|k as for grad, unless fn has a parameter of that name.
    checkpoint = _check_budget(kw_primals.pop("checkpoint", None)) if "checkpoint" not in names else None
    values = bind_arguments(fn, names, primals, kw_primals)
    n_user = len(values)
    wrap = output_wrap(fn)
    if hasattr(fn, "diffc_derivative"):
        # Higher order: the pullback of the generated code fn runs for these kinds
        # (its extra parameters, such as the seed, take their defaults).
        fn, values = see_through(fn, values)
        names = param_names(fn)
    kinds = kinds_of(values)
    mask = tuple(k != K.INT and not isinstance(v, (str, type(None))) and not is_function_like(v)
                 for k, v in zip(kinds, values))
    key = (fn.__code__, "split", mask, kinds)
    if checkpoint is not None:
        key += (("checkpoint", checkpoint),)

    def build():
        module = Module()
        module.checkpoint = checkpoint
        module.entry = fn
        fwd, adj, _ = module.split_callee(fn, mask, kinds, None, None)
        module.main_adjoint = adj.id
        return module, fwd.id
    entry = compiled(fn, key, build)
    fwd = entry.main
    dispatch.check(entry.emitted, values, function_name(fn))
    adj = entry.emitted.functions[_adjoint_name(entry)]
    uses_try = try_paths.uses_try(entry.emitted)
    tape = []
    try:
        if uses_try:
            out, paths = try_paths.run(lambda: fwd(*values, tape.clear() or tape))
        else:
            out, paths = fwd(*values, tape), None
    except Exception as exc:
        sourcemap.annotate(exc)
        raise
    state = {"tape": tape, "used": False}

    @user_facing
    def pullback(cotangent):
        cotangent = unwrap_cotangent(wrap, cotangent)
        if state["used"]:
            fresh = []
            if uses_try:
                try_paths.run(lambda: fwd(*values, fresh.clear() or fresh), paths)
            else:
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
        return _per_argument(bars, values, mask)[:n_user]
    return wrap_output(wrap, out), pullback


# diffc.vjp inside differentiated code is rewritten (transform/desugar.py: _LibraryCalls)
vjp.diffc_returns_pullback = True


def _per_argument(bars, values, mask):
    """The adjoints of the active arguments spread back over all of them (None for the rest)."""
    result, k = [], 0
    for value, active in zip(values, mask):
        if active:
            result.append(runtime.finalize(bars[k], value))
            k += 1
        else:
            result.append(None)
    return tuple(result)


def _adjoint_name(entry):
    fwd_name = entry.main.__name__
    return "_adj_" + fwd_name[len("_fwd_"):]



@user_facing
def from_source(text, name=None, namespace=None):
    """Define a function from its source text, for code without a file.

    Functions typed at the plain Python prompt or made by ``exec`` of a string
    have no source diffc could read; give diffc the text instead::

        f = diffc.from_source('''
        def f(x):
            return x ** 2 * np.sin(x)
        ''')
        diffc.grad(f)(1.0)

    The text runs in ``namespace`` (default: the caller's globals, so it sees
    the caller's imports, and ``f`` is defined there too); returns the function
    named ``name`` (default: the last ``def`` of the text).  Notebook cells need
    none of this: IPython keeps their text, and diffc reads it."""
    if namespace is None:
        namespace = sys._getframe(2).f_globals       # the caller of the entry point
    return define_from_source(text, name, namespace)


@user_facing
def check_grad(fn, *args, wrt=0, eps=1e-6, **kwargs):
    """The largest absolute difference between diffc's gradient and central differences."""
    wrt_names, single = normalize_wrt(fn, wrt)
    names = param_names(fn)
    values = bind_arguments(fn, names, args, kwargs)
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


del math


rules.RUN_TIME["vjp"] = vjp      # rules that differentiate a user's function as they run (odeint)
