"""check_rule: a registered derivative rule against central finite differences.

``diffc.check_rule(fn, *args)`` looks up the adjoint and tangent rules
registered for the primitive ``fn`` (user rules via `diffc.adjoint` /
`diffc.tangent`, or built-in ones), calls them directly — rules are plain
Python functions — at ``args`` with a random cotangent / random tangents, and
compares with central differences of ``fn`` itself:

* adjoint: the rule's contribution for argument k must equal
  d/d(arg k) of sum(result_bar * fn(args));
* tangent: the rule's output must equal d/dt fn(args + t * dots) at t = 0.

Only float arguments (Python floats, float arrays) are differentiated; ints,
bools and other values are passed through and get no contribution.  The result
is a `RuleCheck`; with ``tol`` given, a larger error raises `RuleError` naming
the rule and the argument.
"""

from dataclasses import dataclass, field

import numpy as np

from .errors import RuleError


@dataclass
class RuleCheck:
    """Largest absolute errors of a primitive's rules (None: no such rule)."""
    adjoint_error: object = None
    tangent_error: object = None
    details: dict = field(default_factory=dict)     # "adjoint arg 0" -> error

    @property
    def error(self):
        errors = [e for e in (self.adjoint_error, self.tangent_error) if e is not None]
        return max(errors) if errors else 0.0

    def __float__(self):
        return float(self.error)


def _differentiable(value):
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return False
    if isinstance(value, (float, np.floating)):
        return True
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _perturbed(args, k, direction, step):
    out = list(args)
    x = args[k]
    if isinstance(x, np.ndarray):
        out[k] = x.astype(np.float64) + step * direction
    else:
        out[k] = float(x) + step * float(direction)
    return out


def _directional(fn, args, dirs, eps):
    """Central difference of fn along dirs (a dict k -> direction)."""
    def at(step):
        call = list(args)
        for k, d in dirs.items():
            call = _perturbed(call, k, d, step)
        return np.asarray(fn(*call), dtype=np.float64)
    return (at(eps) - at(-eps)) / (2 * eps)


def _as_tuple(contribs, n):
    if n == 1 and not isinstance(contribs, tuple):
        return (contribs,)
    if not isinstance(contribs, tuple):
        contribs = (contribs,)
    return tuple(contribs) + (None,) * (n - len(contribs))


def check_rule(fn, *args, eps=1e-6, tol=None, seed=0, **kwargs):
    """Check the rules registered for primitive `fn` at `args` (see module docstring).

    Keyword arguments are passed, undifferentiated, to `fn` and to its rules
    (``check_rule(logsumexp, a, axis=1)``).  `fn` may be a function, a ufunc, a
    method of a library object (``norm.logpdf``), a class's method (pass the
    instance first) or a function with an `implemented_by` implementation, whose
    derivatives diffc computes from that implementation."""
    import functools
    if kwargs:
        plain = fn
        fn = functools.partial(plain, **kwargs)
    else:
        plain = fn
    from . import rules as R
    from .pipeline import ensure_rules
    ensure_rules()
    adj = R.adjoint_rule(plain)
    tan = R.tangent_rule(plain)
    name = getattr(plain, "__qualname__", getattr(plain, "__name__", repr(plain)))
    implementation = R.implementation(plain)
    if adj is None and tan is None and implementation is not None:
        adj, tan = _compiled_rules(implementation, kwargs)
    if adj is None and tan is None:
        raise RuleError(f"no derivative rule is registered for {name}",
                        hint="register one with @diffc.adjoint(fn) / @diffc.tangent(fn)")
    rng = np.random.default_rng(seed)
    args = list(args)
    result = fn(*args)
    active = [k for k, a in enumerate(args) if _differentiable(a)]
    check = RuleCheck()

    def record(kind, k, err):
        check.details[f"{kind} arg {k}"] = err
        if tol is not None and err > tol:
            raise RuleError(f"the {kind} rule of {name} disagrees with finite differences for argument "
                            f"{k}: error {err:.3g} > tol {tol:g}")

    if adj is not None:
        result_bar = rng.normal(size=np.shape(result))
        result_bar = result_bar if np.ndim(result) else float(result_bar)
        contribs = _as_tuple(adj.fn(result, result_bar, *args, **kwargs), len(args))
        worst = 0.0
        for k in active:
            x = args[k]
            numeric = np.zeros(np.shape(x))
            flat = numeric.reshape(-1)
            for i in range(flat.size):
                d = np.zeros(np.shape(x))
                d.reshape(-1)[i] = 1.0
                flat[i] = float(np.sum(result_bar * _directional(fn, args, {k: d if np.ndim(x) else 1.0}, eps)))
            got = contribs[k] if k < len(contribs) else None
            got = np.zeros(np.shape(x)) if got is None else np.asarray(got, dtype=np.float64)
            if got.shape != numeric.shape and got.ndim > numeric.ndim:
                from .runtime import unbroadcast       # compiled code sums broadcast contributions too
                got = np.asarray(unbroadcast(got, numeric), dtype=np.float64)
            if got.shape != numeric.shape:
                got = np.broadcast_to(got, numeric.shape) if got.size in (1, numeric.size) else got
            err = float(np.max(np.abs(got - numeric), initial=0.0)) if got.shape == numeric.shape else np.inf
            record("adjoint", k, err)
            worst = max(worst, err)
        check.adjoint_error = worst

    if tan is not None:
        dirs = {}
        dots = []
        for k, a in enumerate(args):
            if k in active:
                d = rng.normal(size=np.shape(a))
                dirs[k] = d if np.ndim(a) else float(d)
                dots.append(dirs[k])
            else:
                dots.append(0.0)
        got = np.asarray(_call_tangent(tan, result, args, dots, kwargs), dtype=np.float64)
        numeric = _directional(fn, args, dirs, eps) if dirs else np.zeros(np.shape(result))
        err = float(np.max(np.abs(got - numeric), initial=0.0)) if got.shape in (numeric.shape, ()) else np.inf
        record("tangent", "all", err)
        check.tangent_error = err
    return check


def _call_tangent(tan, result, args, dots, kwargs):
    """A tangent rule called with the primal arguments and one tangent per argument, matched
    to the rule's ``<p>_dot`` parameters by name when the rule has optional parameters."""
    if getattr(tan, "kind", None) == "compiled":
        return tan.fn(result, *args, *dots, **kwargs)
    params = tan.params[1:] + list(tan.kwonly)
    dot_params = [p for p in params if p.endswith("_dot") and p[:-4] in params]
    primal = [p for p in params if p not in dot_params]
    if len(dot_params) == len(primal) and len(args) == len(primal) and not tan.kwonly:
        return tan.fn(result, *args, *dots, **kwargs)
    named = {p + "_dot": d for p, d in zip(primal, dots) if p + "_dot" in dot_params}
    return tan.fn(result, *args, **kwargs, **named)


class _Compiled:
    """An adjoint or tangent computed by diffc from an `implemented_by` implementation."""
    def __init__(self, fn, kind):
        self.fn = fn
        self.kind = "compiled"


def _compiled_rules(implementation, kwargs):
    from . import rules as R

    import inspect
    signature = inspect.signature(implementation)

    def positional(args, kw):
        bound = signature.bind(*args, **kw)
        bound.apply_defaults()
        return tuple(bound.args)

    def adjoint(result, result_bar, *args, **kw):
        _, pullback = R.run_vjp(implementation, *positional(args, kw))
        return tuple(pullback(result_bar))[:len(args)]

    def tangent(result, *args_and_dots, **kw):
        n = len(args_and_dots) // 2
        args, dots = args_and_dots[:n], args_and_dots[n:]
        full = positional(args, kw)
        dots = tuple(d if _differentiable(a) else None for a, d in zip(args, dots)) \
            + (None,) * (len(full) - n)
        return R.run_jvp(implementation, full, dots)[1]
    return _Compiled(adjoint, "adjoint"), _Compiled(tangent, "tangent")
