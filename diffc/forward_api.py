"""Forward mode and higher order: jvp, jacobian, hessian, hvp, forward_source.

Forward-mode functions are compiled like gradients (once per function,
active arguments, argument kinds and options; see compile_cache.compiled).  Functions
diffc returned itself (``grad(f)``, ``jacobian(f, mode="forward")`` of a
scalar argument) carry a ``diffc_derivative`` attribute: differentiating
them again differentiates the generated source they run, compiled for the
kinds of the arguments at hand (`compile_cache.see_through`).
"""

import functools
import numbers
import types

import numpy as np

from . import api
from . import compile_cache
from . import dispatch
from . import rules
from . import emit
from .analysis import kinds as K
from .errors import BadArgument, user_facing
from .pipeline import Module
from . import runtime
from . import runtime_calls
from .runtime import is_duck_array, widen_like
from .transform.forward import build_jvp


# ------------------------------------------------------------------ compile

def _forward_entry(fn, active_names, kinds, optimize=True, tangent_only=False, differentiable=False):
    key = (fn.__code__, "forward", active_names, kinds, optimize, tangent_only, differentiable)
    names = compile_cache.param_names(fn)

    def build():
        module = Module(optimize=optimize)
        module.differentiable = differentiable
        module.entry = fn
        label = ("d_" if tangent_only else "jvp_") + compile_cache.function_name(fn)
        module.function_names.reserve(label)
        main = build_jvp(module, fn, list(active_names), dict(zip(names, kinds)), label,
                         tangent_only=tangent_only, insert=True)
        return module, main.name
    return compile_cache.compiled(fn, key, build)


def forward_entry(fn, active_names, kinds, optimize=True, tangent_only=False, differentiable=False):
    """The compiled forward-mode (jvp) entry of fn (see `_forward_entry`)."""
    return _forward_entry(fn, active_names, kinds, optimize, tangent_only, differentiable)


def _tangent_like(t, x):
    """The user's tangent for argument x, with x's structure and a float dtype."""
    if isinstance(x, np.ndarray):
        dtype = x.dtype if x.dtype.kind in "fc" else np.float64
        return np.array(np.broadcast_to(np.asarray(t, dtype=dtype), x.shape), dtype=dtype)
    if is_duck_array(x):                # Dask/CuPy: the tangent stays in x's library (lazy for Dask)
        return widen_like(t, x)
    if isinstance(x, (list, tuple)):
        if not isinstance(t, (list, tuple)) or len(t) != len(x):
            raise BadArgument(f"the tangent of a sequence of length {len(x)} must be a sequence of the "
                              "same length")
        items = [_tangent_like(a, b) for a, b in zip(t, x)]
        if hasattr(x, "_fields"):
            return type(x)(*items)          # a NamedTuple: read by attribute as well
        return tuple(items) if isinstance(x, tuple) else items
    if isinstance(x, dict):
        return {k: _tangent_like(t[k], v) for k, v in x.items()}
    if isinstance(x, (complex, np.complexfloating)):
        return complex(t) if not isinstance(x, np.complexfloating) else x.dtype.type(t)
    if isinstance(x, (float, int, np.number)):
        return float(t) if not isinstance(x, np.floating) else x.dtype.type(t)
    fields = runtime.fields_of(x) if not isinstance(x, (str, bytes, type(None))) else []
    if fields:
        # An object (NamedTuple, dataclass, model): its tangent is an object of the same type
        # (or a dict), read by attribute in the generated code (runtime.field_of).
        return runtime_calls.FieldBar({name: _tangent_like(runtime.field_of(t, name), getattr(x, name))
                                 for name in fields if runtime_calls.holds_floats(getattr(x, name))})
    if runtime.is_fieldless_object(x):
        return 0.0                          # an object holding no data (a layer Tanh()): a constant
    raise BadArgument(f"cannot differentiate with respect to a value of type {type(x).__name__}")


def _shape_dot(dot, out):
    """The output tangent with the structure of the output (zeros may be a bare 0.0)."""
    if isinstance(out, np.ndarray):
        dtype = out.dtype if out.dtype.kind in "fc" else np.float64
        if not isinstance(dot, np.ndarray) or dot.shape != out.shape:
            return np.array(np.broadcast_to(dot, out.shape), dtype=dtype)
        return dot
    if is_duck_array(out):
        if not is_duck_array(dot) or dot.shape != out.shape:
            return widen_like(dot, out)
        return dot
    if isinstance(out, (list, tuple)):
        dots = dot if isinstance(dot, (list, tuple)) else [0.0] * len(out)
        items = [_shape_dot(d, o) for d, o in zip(dots, out)]
        return tuple(items) if isinstance(out, tuple) else items
    if isinstance(out, dict):
        dots = dot if isinstance(dot, dict) else {}
        return {k: _shape_dot(dots.get(k, 0.0), v) for k, v in out.items()}
    if isinstance(out, np.floating):
        return out.dtype.type(dot)
    if isinstance(out, float):
        return float(dot)
    return dot


def _run(fn, values, tangents, optimize=True):
    """(out, tangent_out) of fn at values along tangents (None: constant)."""
    wrap = api.output_wrap(fn)
    out, dot = _run_unwrapped(fn, values, tangents, optimize)
    return api.wrap_output(wrap, out), api.wrap_output(wrap, dot)


def _run_unwrapped(fn, values, tangents, optimize=True):
    if getattr(fn, "diffc_bound", None) is not None:
        # a derivative of obj.method: the method's derivative with obj (a constant) first
        inner, owner = fn.diffc_bound
        return _run_unwrapped(inner, [owner] + list(values), [None] + list(tangents), optimize)
    fn, values = compile_cache.see_through(fn, values)
    if len(tangents) < len(values):
        tangents = list(tangents) + [None] * (len(values) - len(tangents))
    names = compile_cache.param_names(fn)
    values = list(values)
    active, dots = [], []
    for k, (v, t) in enumerate(zip(values, tangents)):
        if t is None:
            continue
        if isinstance(v, (bool, np.bool_, str, type(None))) or api.is_function_like(v) \
                or api.holds_only_functions(v):
            raise BadArgument(f"cannot give a tangent to the argument {names[k]!r} of type {type(v).__name__}",
                              hint="pass None as its tangent: it is not differentiable")
        values[k] = compile_cache.as_float(v)
        active.append(names[k])
        dots.append(_tangent_like(t, values[k]))
    kinds = compile_cache.kinds_of(values)
    if not active:
        return fn(*values), _shape_dot(0.0, fn(*values))
    entry = _forward_entry(fn, tuple(active), kinds, optimize)
    dispatch.check(entry.emitted, values + dots, compile_cache.function_name(fn))
    try:
        out, dot = entry.run_main(*values, *dots)
    except Exception as exc:
        api.sourcemap.annotate(exc)
        raise
    return out, _shape_dot(dot, out)


# ------------------------------------------------------------------- public

@user_facing
def jvp(fn, primals, tangents, *, jit=False, cache=False):
    """(f(*primals), directional derivative along tangents); None tangents are constants.

    ``jit=True``/``"auto"``: the tangent code compiled by numba (jit_api.py)."""
    fn = api.unlifted(fn)
    if isinstance(fn, types.MethodType) and isinstance(fn.__func__, types.FunctionType):
        return jvp(fn.__func__, (fn.__self__,) + tuple(primals), (None,) + tuple(tangents),
                   jit=jit, cache=cache)
    if getattr(fn, "diffc_bound", None) is not None:
        # a derivative of obj.method (diffc.grad(model.loss)): the method's derivative, obj first
        inner, owner = fn.diffc_bound
        return jvp(inner, (owner,) + tuple(primals), (None,) + tuple(tangents), jit=jit, cache=cache)
    if jit:
        api.JIT["check"](jit)
        return api.JIT["jvp"](fn, primals, tangents, jit, cache)
    compile_cache.check_function(fn)
    primals, tangents = list(primals), list(tangents)
    if len(tangents) != len(primals):
        raise BadArgument(f"jvp needs one tangent per primal ({len(primals)}), got {len(tangents)}",
                          hint="pass None for arguments that are constant")
    values = compile_cache.bind_arguments(fn, compile_cache.param_names(fn), primals, {})
    if not compile_cache.plain_signature(fn):
        # *args: the tangents of the extra arguments form the tangent of the tuple
        bound = compile_cache.signature_of(fn).bind_partial(*tangents)
        tangents = []
        for p in compile_cache.signature_of(fn).parameters.values():
            t = bound.arguments.get(p.name)
            if p.kind == p.VAR_POSITIONAL and t is not None:
                t = None if all(d is None for d in t) else tuple(0.0 if d is None else d for d in t)
            tangents.append(t)
    return _run(fn, values, tangents)


def _basis(x):
    """Unit tangents e_i for every entry of x (a float or an array)."""
    base = np.zeros(np.shape(x), dtype=np.float64)
    for i in range(base.size):
        e = base.copy().reshape(-1)
        e[i] = 1.0
        yield e.reshape(base.shape) if np.ndim(x) else float(e[0])


@user_facing
@api.for_bound_methods
def jacobian(fn, wrt=0, mode="reverse"):
    """d f / d arg: shape out.shape + arg.shape (rows by vjp, or columns by jvp)."""
    compile_cache.check_function(fn)
    if mode not in ("reverse", "forward"):
        raise BadArgument(f"mode must be 'reverse' or 'forward', not {mode!r}")
    wrt_names, single = compile_cache.normalize_wrt(fn, wrt)
    names = compile_cache.param_names(fn)
    wrt_index = [names.index(w) for w in wrt_names]

    @user_facing
    @functools.wraps(fn)
    def jacobian_fn(*args, **kwargs):
        values = compile_cache.bind_arguments(fn, names, args, kwargs)
        for k in wrt_index:
            values[k] = compile_cache.as_float(values[k])
        # blocks[j][i]: d output j / d wrt argument i (a tuple or list output has one
        # Jacobian per entry, as for jax.jacobian; any other output is one entry).
        if mode == "forward":
            out, blocks = _forward_blocks(fn, values, wrt_index)
        else:
            out, blocks = _reverse_blocks(fn, values, wrt_index)
        blocks = [[float(b) if isinstance(b, np.ndarray) and b.ndim == 0 else b for b in row] for row in blocks]
        per_output = [row[0] if single else tuple(row) for row in blocks]
        return tuple(per_output) if _is_sequence_output(out) else per_output[0]
    jacobian_fn.__name__ = jacobian_fn.__qualname__ = "jacobian_" + compile_cache.function_name(fn)
    _mark_jacobian(jacobian_fn, fn, names, wrt_index, single, mode)
    return jacobian_fn


def _is_sequence_output(out):
    return isinstance(out, (tuple, list))


def _entries(out):
    return list(out) if _is_sequence_output(out) else [out]


def _forward_blocks(fn, values, wrt_index):
    """(output, blocks) of the Jacobian by jvp: one column per entry of each float array or
    number of each wrt argument (an object or container argument: each of its leaves)."""
    out, columns = None, {}
    for i, k in enumerate(wrt_index):
        leaves = _leaf_paths(values[k])
        for path, leaf in leaves:
            for e in _basis(leaf):
                tangents = [None] * len(values)
                tangents[k] = _unit_tangent(values[k], leaves, path, e)
                out, dot = _run(fn, values, tangents)
                for j, d in enumerate(_entries(dot)):
                    columns.setdefault((j, i, path), []).append(np.asarray(d, dtype=np.float64))
    if out is None:            # no wrt entries: evaluate once for the output's structure
        out = fn(*values)
    blocks = []
    for j, o in enumerate(_entries(out)):
        row = []
        for i, k in enumerate(wrt_index):
            parts = {}
            for path, leaf in _leaf_paths(values[k]):
                cols = columns.get((j, i, path), [])
                stacked = np.stack(cols, axis=-1) if cols else np.zeros(np.shape(o) + (0,))
                parts[path] = stacked.reshape(np.shape(o) + np.shape(leaf))
            row.append(_rebuild(values[k], parts))
        blocks.append(row)
    return out, blocks


def _reverse_blocks(fn, values, wrt_index):
    """(output, blocks) of the Jacobian by vjp: one row per entry of each output entry."""
    out, pullback = api.vjp(fn, *values)
    entries = _entries(out)
    blocks = []
    for j, o in enumerate(entries):
        rows = []
        for e in _basis(o):
            if _is_sequence_output(out):
                cot = [np.zeros(np.shape(x)) if np.ndim(x) else 0.0 for x in entries]
                cot[j] = e
                cot = type(out)(cot) if isinstance(out, tuple) else cot
            else:
                cot = e
            bars = pullback(cot)
            rows.append([{path: np.broadcast_to(np.asarray(_at(bars[k], path), dtype=np.float64), np.shape(leaf))
                          for path, leaf in _leaf_paths(values[k])} for k in wrt_index])
        row = []
        for i, k in enumerate(wrt_index):
            parts = {}
            for path, leaf in _leaf_paths(values[k]):
                stacked = np.stack([r[i][path] for r in rows]) if rows else np.zeros((0,) + np.shape(leaf))
                parts[path] = stacked.reshape(np.shape(o) + np.shape(leaf))
            row.append(_rebuild(values[k], parts))
        blocks.append(row)
    return out, blocks


# ------------------------------------------------------------------- structured arguments
# jacobian and hessian with respect to an object (NamedTuple, dataclass, plain object with
# array attributes) or a container: one block per float array or number it holds (a leaf),
# assembled in the argument's own type, as JAX does for pytrees (a Hessian is an object of
# objects: H.W.b has shape W.shape + b.shape).

def _leaf_paths(x, path=(), depth=0):
    """(path, leaf) for each float array or float x holds; path is a tuple of ('key', k),
    ('index', i) or ('attr', name) steps.  A bare array or number is its own leaf (path ())."""
    if isinstance(x, (np.ndarray, float, np.floating, complex, np.complexfloating)) or is_duck_array(x):
        return [(path, x)] if runtime_calls.holds_floats(x) or not path else []
    if isinstance(x, (bool, np.bool_, numbers.Number, str, bytes, type(None))) or depth > 8:
        return [(path, x)] if not path else []
    if isinstance(x, dict):
        items = [(("key", k), v) for k, v in x.items()]
    elif isinstance(x, (list, tuple)):
        items = [(("index", i), v) for i, v in enumerate(x)]
    else:
        items = [(("attr", n), getattr(x, n)) for n in runtime.fields_of(x)]
    out = []
    for step, v in items:
        out += _leaf_paths(v, path + (step,), depth + 1)
    return out


def _at(v, path):
    """The part of v (a gradient or tangent shaped like the argument) at path; 0.0 if none."""
    for kind, key in path:
        if v is None or isinstance(v, (numbers.Number, np.ndarray)):
            return 0.0
        if kind == "attr":
            v = runtime.field_of(v, key)
        elif isinstance(v, dict):
            v = v.get(key, 0.0)
        elif isinstance(v, (list, tuple)):
            v = v[key]
        else:
            return 0.0
    return v


def _rebuild(x, parts, path=()):
    """x's structure (its type: dict, list, tuple, NamedTuple, dataclass, object) holding
    parts[path] at each leaf path, 0.0 at what holds no floats."""
    if path in parts:
        return parts[path]
    if isinstance(x, dict):
        return {k: _rebuild(v, parts, path + (("key", k),)) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [_rebuild(v, parts, path + (("index", i),)) for i, v in enumerate(x)]
        if hasattr(x, "_fields"):
            return type(x)(*items)
        return tuple(items) if isinstance(x, tuple) else items
    names = runtime.fields_of(x) if not isinstance(x, (np.ndarray, numbers.Number, str, bytes, type(None))) \
        and not is_duck_array(x) else []
    if not names:
        return 0.0
    import copy
    out = copy.copy(x)
    for n in names:
        object.__setattr__(out, n, _rebuild(getattr(x, n), parts, path + (("attr", n),)))
    return out


def _unit_tangent(x, leaves, path, e):
    """The tangent of x (its structure) that is e at the leaf at path, zero elsewhere."""
    if not path:
        return e
    return _rebuild(x, {p: e if p == path else (np.zeros(np.shape(leaf)) if np.ndim(leaf) else 0.0)
                        for p, leaf in leaves})


def _structured_hessian(gradient, values, k):
    """The Hessian with respect to an object or container argument: an object of objects."""
    x = values[k]
    leaves = _leaf_paths(x)
    columns = {}
    for path, leaf in leaves:
        for e in _basis(leaf):
            tangents = [None] * len(values)
            tangents[k] = _unit_tangent(x, leaves, path, e)
            columns.setdefault(path, []).append(_run(gradient, values, tangents)[1])
    rows = {}
    for pa, la in leaves:
        inner = {}
        for pb, lb in leaves:
            cols = [np.broadcast_to(np.asarray(_at(d, pa), dtype=np.float64), np.shape(la))
                    for d in columns.get(pb, [])]
            block = np.stack(cols, axis=-1).reshape(np.shape(la) + np.shape(lb)) if cols \
                else np.zeros(np.shape(la) + np.shape(lb))
            inner[pb] = float(block) if block.ndim == 0 else block
        rows[pa] = _rebuild(x, inner)
    return _rebuild(x, rows)


def _mark_jacobian(jacobian_fn, fn, names, wrt_index, single, mode):
    """Let diffc differentiate a Jacobian function again (jacobian(jacobian(f)), or a
    Jacobian taken inside a differentiated function): one jvp for a scalar argument in
    forward mode, else a plain function of vjp_call rows / jvp_call columns
    (dynamic.jacobian_source, registered in runtime_calls.DYNAMIC), compiled once."""
    made = {}
    holder = lambda: None                 # noqa: E731  (receives the scalar spec)
    _mark_derivative(holder, fn, names[wrt_index[0]], names)
    scalar_spec = holder.diffc_derivative

    def spec(values):
        values = list(values)
        if mode == "forward" and single and np.ndim(values[wrt_index[0]]) == 0 \
                and not isinstance(values[wrt_index[0]], (list, tuple, np.ndarray)):
            return scalar_spec(values)
        if "fn" not in made:
            made["fn"] = runtime_calls.DYNAMIC["jacobian_source"](fn, names, wrt_index, single, mode)
        for k in wrt_index:
            values[k] = compile_cache.as_float(values[k])
        return made["fn"], values
    jacobian_fn.diffc_derivative = spec


def _mark_derivative(wrapper, fn, wrt_name, names):
    """For a scalar argument the forward Jacobian is one jvp: let diffc see the generated code."""
    k = names.index(wrt_name)

    def spec(values):
        values = list(values)
        if np.ndim(values[k]) != 0 or isinstance(values[k], (list, tuple, np.ndarray)):
            raise BadArgument("differentiating jacobian(f, mode='forward') again needs a scalar argument",
                              hint="use diffc.hessian or nest grad instead")
        values[k] = compile_cache.as_float(values[k])
        inner, values = compile_cache.see_through(fn, values)
        entry = _forward_entry(inner, (wrt_name,), compile_cache.kinds_of(values), tangent_only=True, differentiable=True)
        return entry.main, compile_cache.with_defaults(entry.main, values)
    wrapper.diffc_derivative = spec


@user_facing
@api.for_bound_methods
def hessian(fn, wrt=0, *, jit=False, cache=False):
    """Second derivative by forward-over-reverse: shape arg.shape + arg.shape.

    ``jit=True``/``"auto"``: the forward-over-reverse code compiled by numba."""
    if jit:
        api.JIT["check"](jit)
        return api.JIT["hessian"](fn, wrt, jit, cache)
    compile_cache.check_function(fn)
    wrt_names, single = compile_cache.normalize_wrt(fn, wrt)
    if not single:
        raise BadArgument("hessian takes a single wrt argument", hint="call it once per argument")
    names = compile_cache.param_names(fn)
    k = names.index(wrt_names[0])
    gradient = api.grad(fn, wrt=wrt)

    @user_facing
    @functools.wraps(fn)
    def hessian_fn(*args, **kwargs):
        values = compile_cache.bind_arguments(fn, names, args, kwargs)
        values[k] = compile_cache.as_float(values[k])
        if any(path for path, _ in _leaf_paths(values[k])):
            return _structured_hessian(gradient, values, k)
        columns = []
        for e in _basis(values[k]):
            tangents = [None] * len(values)
            tangents[k] = e
            _, dot = _run(gradient, values, tangents)
            columns.append(np.asarray(dot, dtype=np.float64))
        shape = np.shape(values[k])
        h = np.stack(columns, axis=-1).reshape(shape + shape)
        return float(h) if h.ndim == 0 else h
    hessian_fn.__name__ = hessian_fn.__qualname__ = "hessian_" + compile_cache.function_name(fn)
    # For a scalar argument the Hessian is one jvp of the gradient: differentiable again.
    _mark_derivative(hessian_fn, gradient, wrt_names[0], names)
    return hessian_fn


@user_facing
@api.for_bound_methods
def hvp(fn, wrt=0, *, jit=False, cache=False):
    """hvp(f)(*args, v): the Hessian times v (one forward-over-reverse pass, no Hessian built).

    ``jit=True``/``"auto"``: the forward-over-reverse code compiled by numba."""
    if jit:
        api.JIT["check"](jit)
        return api.JIT["hvp"](fn, wrt, jit, cache)
    compile_cache.check_function(fn)
    wrt_names, single = compile_cache.normalize_wrt(fn, wrt)
    if not single:
        raise BadArgument("hvp takes a single wrt argument")
    names = compile_cache.param_names(fn)
    k = names.index(wrt_names[0])
    gradient = api.grad(fn, wrt=wrt)

    @user_facing
    def hvp_fn(*args):
        if len(args) != len(names) + 1:
            raise BadArgument(f"hvp of {fn.__qualname__} takes its {len(names)} arguments and then v")
        values, v = list(args[:-1]), args[-1]
        values[k] = compile_cache.as_float(values[k])
        tangents = [None] * len(values)
        tangents[k] = v
        _, dot = _run(gradient, values, tangents)
        return dot
    hvp_fn.__name__ = hvp_fn.__qualname__ = "hvp_" + compile_cache.function_name(fn)
    made = {}

    def spec(values):
        # Differentiated again (or called inside a differentiated function): a plain
        # function of a jvp_call of the gradient (dynamic.hvp_source, in runtime_calls.DYNAMIC).
        if "fn" not in made:
            made["fn"] = runtime_calls.DYNAMIC["hvp_source"](gradient, len(names), k)
        return made["fn"], list(values)
    hvp_fn.diffc_derivative = spec
    return hvp_fn


@user_facing
def forward_source(fn, wrt=0, args=None, optimize=True):
    """The generated forward-mode source (parameters taken as floats without args)."""
    compile_cache.check_function(fn)
    wrt_names, _ = compile_cache.normalize_wrt(fn, wrt)
    names = compile_cache.param_names(fn)
    kinds = tuple(K.SCALAR for _ in names) if args is None else compile_cache.kinds_of(list(args))
    return _forward_entry(fn, tuple(wrt_names), kinds, optimize).emitted.source


del emit


rules.RUN_TIME["jvp"] = jvp
# Public for jit_api.py: jit=True runs these same steps with the tangent code compiled by numba.
tangent_like, shape_dot, basis, run = _tangent_like, _shape_dot, _basis, _run
