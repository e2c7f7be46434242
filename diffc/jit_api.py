"""jit_api: the ``jit=`` option of grad, value_and_grad, jvp, hessian and hvp.

Input: the same function, wrt and arguments as the plain API (api.py,
forward_api.py).  Output: a function returning the same values, computed by
the numba-compiled form of the same generated code (jit_compile.py).

Compilation is per (cached generated module, argument types): the plain
API's in-memory cache decides the generated module (and sees redefined
helpers and rebound globals); numba specializes it to float64/int64 scalars
and to the dtype and rank of each array.  ``jit=True`` raises the
`JitUnsupported` (a `DiffcError`) that names the user's line when numba
cannot compile it; ``jit="auto"`` warns once and returns the plain Python
gradient's values instead.
"""

import functools

import numpy as np

from . import api
from . import compile_cache as CC
from . import jit_compile as J
from . import sourcemap
from .errors import BadArgument


def check_option(jit):
    if jit not in (False, True, "auto") and jit is not None:
        raise BadArgument(f"jit must be True, False or 'auto', not {jit!r}")
    if jit:
        J.require_numba()
    return bool(jit)


def _signature(values):
    """What numba specializes on: Python type per argument, dtype and rank of arrays."""
    return tuple((type(v), v.dtype.str, v.ndim) if isinstance(v, np.ndarray) else type(v) for v in values)


class _Compiled:
    """The JitModule (or the plain fallback) of one generated module for one signature."""

    def __init__(self, emitted, main_name, values, jit, cache, label):
        self.plain = emitted.functions[main_name]
        self.main = None
        self.module = None
        self.error = None
        self.compile_s = None
        try:
            self.module = J.compile_emitted(emitted, main_name, values, cache=cache, label=label)
            self.main = self.module.main
        except J.JitUnsupported as exc:
            self.fail(exc, jit)

    def fail(self, exc, jit):
        if jit != "auto":
            raise exc
        J.warn_fallback(exc)
        self.error = exc
        self.main = self.plain

    def first_call(self, values, jit):
        """Compile (numba compiles at the first call) and run; errors named by user line."""
        import time
        t0 = time.perf_counter()
        failure = None
        try:
            result = self.main(*values)
        except Exception as exc:
            if not J.is_numba_compile_error(exc):
                raise
            failure = exc
        if failure is not None:
            # A DiffcError the plain gradient raises (a non-scalar result...) explains it best.
            self.plain(*values)
            self.fail(J.explain_numba_error(failure, self.module), jit)
            return self.main(*values)
        self.compile_s = time.perf_counter() - t0
        stats = getattr(self.main, "stats", None)
        J.jit_stats.append({"name": self.main.__name__ if hasattr(self.main, "__name__") else "?",
                            "first_call_s": self.compile_s, "file": self.module.path,
                            "cache_hits": sum(stats.cache_hits.values()) if stats else 0})
        return result


def jit_gradient(fn, wrt, with_value, optimize, checkpoint, jit, cache):
    """The function grad(fn, ..., jit=jit) returns (see module docstring)."""
    CC.check_function(fn)
    wrt_names, single = CC.normalize_wrt(fn, wrt)
    names = CC.param_names(fn)
    wrt_index = [names.index(w) for w in wrt_names]
    wrap = 1 if not single and not with_value and len(wrt_names) == 1 else \
        2 if with_value and not single and len(wrt_names) == 1 else 0
    compiled = {}
    # The previous call's (argument types, (index, dtype, ndim) of its arrays, compiled
    # function, validity check): one tuple, replaced whole (threads never mix two calls).
    last = [None]

    def slow(args, kwargs):
        values = list(args) if not kwargs and len(args) == len(names) else CC.bind_arguments(fn, names, args, kwargs)
        for k in wrt_index:
            if type(values[k]) is not float:
                values[k] = CC.as_float(values[k])
        kinds = CC.kinds_of(values)
        entry = CC.joint_entry(fn, wrt_names, kinds, with_value, optimize, checkpoint=checkpoint)
        sig = _signature(values)
        key = (id(entry.emitted), sig)
        item = compiled.get(key)
        if item is None or item.entry is not entry:       # (an id may be reused by a new module)
            item = _Compiled(entry.emitted, entry.main.__name__, values, jit, cache,
                             label=entry.main.__name__)
            item.entry = entry
            compiled[key] = item
        try:
            result = item.first_call(values, jit) if item.compile_s is None and item.error is None \
                else item.main(*values)
        except Exception as exc:
            sourcemap.annotate(exc)
            raise
        if not kwargs and len(args) == len(names) and all(values[k] is args[k] for k in wrt_index) \
                and item.error is None:
            check = functools.partial(entry.valid, fn) if entry.deps or entry.closure else None
            arrays = tuple(k for k, a in enumerate(args) if type(a) is np.ndarray)
            specs = tuple((args[k].dtype, args[k].ndim) for k in arrays)
            env[fast_name(arrays)] = (tuple(map(type, args)), specs, item.main, check)
            if arrays != current[0]:
                current[0] = arrays
                gradient.__code__ = _fast_wrapper(len(names), wrap, arrays, env).__code__
        return result

    def call_slow(args, kwargs):
        result = slow(args, kwargs)
        if wrap == 0:
            return result
        return (result,) if wrap == 1 else (result[0], (result[1],))

    env = {fast_name(()): ((None,) * len(names), (), None, None), "slow": call_slow, "_MISSING": _MISSING,
           "type": type, "_pair": lambda r: (r[0], (r[1],))}
    current = [()]
    gradient = _fast_wrapper(len(names), wrap, (), env)

    functools.update_wrapper(gradient, fn)
    gradient.__name__ = gradient.__qualname__ = ("value_and_grad_" if with_value else "grad_") + \
        CC.function_name(fn) + "_jit"
    gradient.__wrapped__ = fn

    def jit_source(*args, **kwargs):
        values = CC.bind_arguments(fn, names, args, kwargs)
        for k in wrt_index:
            values[k] = CC.as_float(values[k])
        entry = CC.joint_entry(fn, wrt_names, CC.kinds_of(values), with_value, optimize, checkpoint=checkpoint)
        return J.numba_source(entry.emitted, entry.main.__name__, values)
    gradient.diffc_jit_source = jit_source
    gradient.diffc_source = lambda *args, **kwargs: CC.joint_entry(
        fn, wrt_names, CC.kinds_of(CC.bind_arguments(fn, names, args, kwargs)), with_value, optimize,
        checkpoint=checkpoint).emitted.source

    def compile_times():
        return {str(k[1]): v.compile_s for k, v in compiled.items()}
    gradient.jit_compile_times = compile_times
    gradient.jit_modules = compiled
    return gradient


_FAST_CODE = {}
_MISSING = type("_Missing", (), {"__repr__": lambda self: "<no argument>"})()


def fast_name(arrays):
    """The global a wrapper for ndarrays at positions `arrays` reads its fast path from."""
    return "FAST_" + "_".join(map(str, arrays))


def _fast_wrapper(n, wrap, arrays, env):
    """The function grad(..., jit=True) returns, for n positional parameters of which
    those at positions `arrays` were ndarrays in the previous fast call.

    A call with that call's argument types (and, for the ndarrays, dtype and rank)
    goes straight to the compiled function; anything else to env["slow"].  The
    checks are written out per (n, wrap, arrays): iterating over the arguments
    (tuple(map(type, args))) cost about 1 us more per call, as much as a small
    compiled gradient takes.  env["FAST"] = (types, (dtype, ndim) per array,
    compiled function, validity check or None), under the name `fast_name(arrays)`,
    is replaced whole, so a thread never pairs one call's types with another
    call's function; when the array positions change, the returned function's
    code is swapped for the one checking the new positions (a thread still in the
    old code reads the old positions' tuple)."""
    key = (n, wrap, arrays)
    if key not in _FAST_CODE:
        params = "".join(f"a{i}, " for i in range(n))
        types_ = "".join(f"t{i}, " for i in range(n))
        specs = "".join(f"s{i}, " for i in arrays)
        same = " and ".join([f"type(a{i}) is t{i}" for i in range(n)]
                            + [f"a{i}.dtype is s{i}[0] and a{i}.ndim == s{i}[1]" for i in arrays]) or "True"
        call = f"main({params})"
        result = {0: call, 1: f"({call},)", 2: f"_pair({call})"}[wrap]
        # Parameters with a sentinel default rather than *args: no tuple to pack and
        # unpack on the fast path; any other call (fewer, more or keyword arguments)
        # goes to slow() with the arguments as given.
        defaults = "".join(f"a{i}=_MISSING, " for i in range(n))
        given = f"tuple([a for a in ({params}) if a is not _MISSING]) + rest"
        source = (f"def gradient({defaults}*rest, **kwargs):\n"
                  f"    ({types_}), ({specs}), main, check = {fast_name(arrays)}\n"
                  f"    if {same} and not rest and not kwargs and (check is None or check()):\n"
                  f"        return {result}\n"
                  f"    return slow({given}, kwargs)\n")
        namespace = {"_MISSING": _MISSING}
        exec(compile(source, f"<diffc jit gradient wrapper ({n} parameters)>", "exec"), namespace)
        _FAST_CODE[key] = namespace["gradient"].__code__
    import types
    return types.FunctionType(_FAST_CODE[key], env, "gradient", (_MISSING,) * n)


def jit_jvp(fn, primals, tangents, jit, cache):
    """diffc.jvp(fn, primals, tangents, jit=...): the forward-mode code compiled by numba."""
    from . import forward_api as FA
    CC.check_function(fn)
    primals, tangents = list(primals), list(tangents)
    if len(tangents) != len(primals):
        raise BadArgument(f"jvp needs one tangent per primal ({len(primals)}), got {len(tangents)}",
                          hint="pass None for arguments that are constant")
    values = CC.bind_arguments(fn, CC.param_names(fn), primals, {})
    return jit_run(fn, values, tangents, jit, cache)


_forward_compiled = {}


def jit_run(fn, values, tangents, jit, cache):
    """forward_api._run with the generated tangent code compiled by numba."""
    from . import forward_api as FA
    fn, values = CC.see_through(fn, values)
    if len(tangents) < len(values):
        tangents = list(tangents) + [None] * (len(values) - len(tangents))
    names = CC.param_names(fn)
    values = list(values)
    active, dots = [], []
    for k, (v, t) in enumerate(zip(values, tangents)):
        if t is None:
            continue
        values[k] = CC.as_float(v)
        active.append(names[k])
        dots.append(FA.tangent_like(t, values[k]))
    if not active:
        return FA.run(fn, values, tangents)
    entry = FA.forward_entry(fn, tuple(active), CC.kinds_of(values))
    call = values + dots
    key = (id(entry.emitted), _signature(call))
    item = _forward_compiled.get(key)
    if item is None or item.entry is not entry:
        item = _Compiled(entry.emitted, entry.main.__name__, call, jit, cache, label=entry.main.__name__)
        item.entry = entry
        _forward_compiled[key] = item
    out, dot = item.first_call(call, jit) if item.compile_s is None and item.error is None else item.main(*call)
    return out, FA.shape_dot(dot, out)


def jit_hessian(fn, wrt, jit, cache):
    """diffc.hessian(fn, jit=...): forward over reverse, the tangent code compiled by numba."""
    from . import forward_api as FA
    wrt_names, single = CC.normalize_wrt(fn, wrt)
    if not single:
        raise BadArgument("hessian takes a single wrt argument", hint="call it once per argument")
    names = CC.param_names(fn)
    k = names.index(wrt_names[0])
    gradient = api.grad(fn, wrt=wrt)

    @functools.wraps(fn)
    def hessian_fn(*args, **kwargs):
        values = CC.bind_arguments(fn, names, args, kwargs)
        values[k] = CC.as_float(values[k])
        columns = []
        for e in FA.basis(values[k]):
            tangents = [None] * len(values)
            tangents[k] = e
            _, dot = jit_run(gradient, values, tangents, jit, cache)
            columns.append(np.asarray(dot, dtype=np.float64))
        shape = np.shape(values[k])
        h = np.stack(columns, axis=-1).reshape(shape + shape)
        return float(h) if h.ndim == 0 else h
    hessian_fn.__name__ = hessian_fn.__qualname__ = "hessian_" + CC.function_name(fn) + "_jit"
    return hessian_fn


def jit_hvp(fn, wrt, jit, cache):
    """diffc.hvp(fn, jit=...)."""
    wrt_names, single = CC.normalize_wrt(fn, wrt)
    if not single:
        raise BadArgument("hvp takes a single wrt argument")
    names = CC.param_names(fn)
    k = names.index(wrt_names[0])
    gradient = api.grad(fn, wrt=wrt)

    def hvp_fn(*args):
        if len(args) != len(names) + 1:
            raise BadArgument(f"hvp of {fn.__qualname__} takes its {len(names)} arguments and then v")
        values, v = list(args[:-1]), args[-1]
        values[k] = CC.as_float(values[k])
        tangents = [None] * len(values)
        tangents[k] = v
        return jit_run(gradient, values, tangents, jit, cache)[1]
    hvp_fn.__name__ = hvp_fn.__qualname__ = "hvp_" + CC.function_name(fn) + "_jit"
    return hvp_fn


api.JIT.update(check=check_option, gradient=jit_gradient, jvp=jit_jvp, hessian=jit_hessian, hvp=jit_hvp)
