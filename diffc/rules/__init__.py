"""The derivative rule registry.

Rules are keyed by the primitive they differentiate: a Python function or
numpy ufunc object, an `operator` function for syntax (``operator.mul`` for
``*``), ``("method", "sum")`` for methods and ``("attr", "T")`` for
attributes.  Built-in rules register through the same `adjoint`/`tangent`
decorators users call; a user rule replaces a built-in one.
"""

from typing import NamedTuple

import gast

from .. import effects
from ..analysis.activity import MUTATING_METHODS
from ..analysis.stores import called_object, method_name
from ..template import Rule, check_signature, linear_tangent

ADJOINTS = {}
TANGENTS = {}
NONDIFF = set()          # primitives whose result carries no derivative
USER_KEYS = set()


def _key(primitive):
    try:
        hash(primitive)
    except TypeError:
        from ..errors import RuleError
        raise RuleError(f"cannot register a rule for the unhashable {primitive!r}") from None
    return primitive


def check_matchable(primitive):
    """Raise RuleError for a user rule's primitive that no call can ever resolve to."""
    import inspect
    from ..errors import RuleError
    if isinstance(primitive, tuple):
        if len(primitive) == 2 and primitive[0] in ("method", "attr") and isinstance(primitive[1], str):
            return
        raise RuleError(f"cannot register a rule for {primitive!r}: use a function, a method of a "
                        "library object, or ('method', name)")
    if isinstance(primitive, (staticmethod, classmethod, property)) or not callable(primitive):
        raise RuleError(f"cannot register a rule for {primitive!r}: it is not something code calls "
                        "(register the function itself, e.g. Class.method)")
    receiver = getattr(primitive, "__self__", None)
    if inspect.ismethod(primitive) or inspect.isbuiltin(primitive):
        if receiver is not None and not inspect.ismodule(receiver) and \
                type(receiver).__module__ in ("numpy", "builtins") and not isinstance(receiver, type):
            name = getattr(primitive, "__name__", "?")
            raise RuleError(f"a rule for the method {name} of one particular {type(receiver).__name__} "
                            "would never be used: calls on arrays and containers are matched by "
                            f"method name; register ('method', {name!r}) instead")


def adjoint(*primitives, user=False):
    """Register the decorated function as the adjoint rule of each primitive."""
    def register(fn):
        for primitive in primitives:
            if user:
                check_matchable(primitive)
                check_signature(primitive, fn, "adjoint")
            key = _key(primitive)
            ADJOINTS[key] = Rule(primitive, fn, "adjoint")
            if user:
                ADJOINTS[key]._parse()          # report a malformed user rule now
            NONDIFF.discard(key)
            if user:
                USER_KEYS.add(key)
        if user:
            _rules_changed()
        return fn
    return register


def tangent(*primitives, user=False):
    """Register the decorated function as the tangent rule of each primitive."""
    def register(fn):
        for primitive in primitives:
            if user:
                check_matchable(primitive)
                check_signature(primitive, fn, "tangent")
            key = _key(primitive)
            TANGENTS[key] = Rule(primitive, fn, "tangent")
            if user:
                TANGENTS[key]._parse()
            NONDIFF.discard(key)
            if user:
                USER_KEYS.add(key)
        if user:
            _rules_changed()
        return fn
    return register



def linear(*helpers):
    """Register, for each helper linear in its first argument (an adjoint or a tangent
    it rearranges, masks or sums), the tangent rule ``helper(g_dot, *rest)``: one line
    instead of a template that repeats the pattern (`template.linear_tangent`).  Its
    adjoint, the transposed helper, is still written out beside it."""
    for helper in helpers:
        tangent(helper)(linear_tangent(helper))


# Declared on rules (`computed_by`): first order, a rule's returned expression computed
# by a helper.  (rule function, helper, rule parameters in the helper's order)
COMPUTED_BY = []


def computed_by(helper, *parameters):
    """Declare, on an adjoint or tangent rule -- a decorator written under
    ``@adjoint(...)`` or ``@tangent(...)`` -- that in code that is not differentiated again the
    expression the rule returns may be computed as ``helper(*parameters)`` (rule
    parameter names), with the same value bit for bit and fewer temporaries.

    The optimizer (optimize/absorb_scales.py) looks for the rule's own expression in
    the generated code (`computed_forms`), so rewording the rule moves the pattern
    with it; tests/test_computed_forms.py checks each helper against the expression."""
    def declare(fn):
        COMPUTED_BY.append((fn, helper, tuple(parameters)))
        return fn
    return declare


class ComputedForm(NamedTuple):
    expression: object          # the rule's returned expression (gast), parameters as names
    parameters: tuple           # the rule parameters the helper takes, in its order
    helper: object


_FORMS = {}


def computed_forms():
    """The forms declared with `computed_by`, in declaration order (parsed once each)."""
    out = []
    for fn, helper, parameters in COMPUTED_BY:
        key = (fn, helper, parameters)
        if key not in _FORMS:
            _FORMS[key] = _computed_form(fn, helper, parameters)
        out.append(_FORMS[key])
    return out


_FORM_NODES = (gast.BinOp, gast.UnaryOp, gast.Constant, gast.Name, gast.operator, gast.unaryop,
               gast.expr_context)


def _computed_form(fn, helper, parameters):
    from ..errors import RuleError
    rule = Rule(None, fn, "adjoint")
    body = rule.body if rule.inline else None
    name = getattr(helper, "__name__", helper)
    if not body or len(body) != 1 or not isinstance(body[0], gast.Return):
        raise RuleError(f"computed_by({name}): the rule must be one return of an expression")
    expression = body[0].value
    names = {n.id for n in gast.walk(expression) if isinstance(n, gast.Name)}
    if any(not isinstance(n, _FORM_NODES) for n in gast.walk(expression)) \
            or not names <= set(rule.params) or set(parameters) != names:
        raise RuleError(f"computed_by({name}): the rule's expression must use only operators, "
                        f"constants and the parameters {parameters}, each of them")
    return ComputedForm(expression, tuple(parameters), helper)


def _rules_changed():
    """A user rule was registered: compiled code may have inlined the old rule.

    The compile cache compares each entry's RULES_VERSION with the current one,
    so bumping it makes every older entry stale (rules never import the API)."""
    RULES_VERSION[0] += 1


def nondiff(*primitives):
    for primitive in primitives:
        NONDIFF.add(_key(primitive))


# Primitives that never get a derivative because Python's semantics make it ambiguous:
# key -> (message, hint) for the refusal naming the user's line.
REFUSALS = {
    set: ("a set holding differentiated values has no derivative: which elements it keeps "
          "(equal values collapse) and the order it iterates in depend on the values",
          "use a list or tuple for differentiated values; len(), `in` and sets of constants work"),
    frozenset: ("a frozenset holding differentiated values has no derivative: which elements it "
                "keeps (equal values collapse) and the order it iterates in depend on the values",
                "use a list or tuple for differentiated values; len(), `in` and sets of constants work"),
}


def refusal(key):
    """(message, hint) when key is refused on purpose (REFUSALS), else None."""
    try:
        return REFUSALS.get(key)
    except TypeError:                       # an unhashable key
        return None


def is_nondiff(key):
    try:
        return key in NONDIFF
    except TypeError:
        return False


def adjoint_rule(key):
    try:
        return ADJOINTS.get(key)
    except TypeError:
        return None


def tangent_rule(key):
    try:
        return TANGENTS.get(key)
    except TypeError:
        return None


def has_rule(key):
    try:
        return key in ADJOINTS or key in NONDIFF
    except TypeError:
        return False


_RANDOM_METHODS = effects.random_methods()     # rng.normal(...): a draw, never dropped or moved


def is_pure_call(call):
    """Whether the optimizer may drop, move or repeat a call (a gast Call): it calls
    a helper declared droppable in `effects`, or something with a rule here that
    is not declared effectful, or a non-mutating method that has a rule."""
    method = method_name(call)
    if method is not None:
        return method not in MUTATING_METHODS and method not in _RANDOM_METHODS and has_rule(("method", method))
    key = called_object(call)
    if effects.has(key, effects.DROPPABLE):
        return True
    if effects.has(key, effects.EFFECTFUL):    # even when a rule registry knows it (higher order)
        return False
    return has_rule(key)


IMPLEMENTATIONS = {}     # primitive -> plain Python function diffc differentiates instead


def implemented_by(*primitives):
    """Register the decorated plain-Python function as what diffc compiles in place of each
    primitive (a SciPy distribution's ``logpdf`` written with numpy and scipy.special).

    Differentiated code calls the implementation instead of the primitive, and diffc
    reads it like user code, in every mode and at every order; it must compute the
    same values as the primitive (tests check both)."""
    def register(fn):
        fn.__diffc_transparent__ = True
        for primitive in primitives:
            IMPLEMENTATIONS[_key(primitive)] = fn
        return fn
    return register


def implementation(key):
    """The function registered with `implemented_by` for key, or None (never for a key
    with a user rule: a user's rule wins)."""
    try:
        if key in USER_KEYS:
            return None
        return IMPLEMENTATIONS.get(key)
    except TypeError:
        return None


def _object_builder(f):
    """runtime_calls.OBJECT_BUILDERS hook: the implementation building diffc's own object for
    the library class f called as a value, or None."""
    if not isinstance(f, type):
        return None
    impl = implementation(f)
    return impl if getattr(impl, "__diffc_builds_object__", False) else None


OBJECT_CALLS = []        # hooks (obj, method name) -> (implementation, args, kwds) or None


CALLBACK_ARGS = {}       # primitive -> (position of its callback, keyword passing extra args to it)
RESULT_ATTRIBUTES = {}   # primitive -> {attribute: function computing P(...).attribute}
CONSTRUCTED_METHODS = []  # hooks (constructor object, method name) -> implementation or None


def is_constructor(obj):
    """Does calling obj make an object whose methods `constructed_method` knows (a SciPy
    distribution: ``norm(mu, sigma)`` freezes it)?"""
    try:
        return any(hook(obj, None) is not None for hook in CONSTRUCTED_METHODS)
    except Exception:
        return False


def constructed_method(obj, method):
    """The implementation of ``obj(*params).method(*args)`` as ``impl(*args, *params)``, or None."""
    for hook in CONSTRUCTED_METHODS:
        found = hook(obj, method)
        if found is not None and method is not None:
            return found
    return None


def object_call(obj, method):
    """How to compile `obj.method(...)` for a library object known at compile time whose
    method has no rule of its own (a frozen SciPy distribution): (implementation, constant
    positional args appended to the call's, constant keywords), or None."""
    for hook in OBJECT_CALLS:
        found = hook(obj, method)
        if found is not None:
            return found
    return None


def is_registered(key):
    """Has `key` an adjoint rule, a tangent rule or a nondiff mark?"""
    try:
        return key in ADJOINTS or key in TANGENTS or key in NONDIFF or key in IMPLEMENTATIONS
    except TypeError:
        return False


def class_method_rule_key(obj, attr):
    """The function registered for method `attr` of obj's class (or a base class), or None.

    A rule on ``Class.method`` (a plain function) applies to ``obj.method(...)``
    with obj passed as the method's first argument."""
    for cls in type(obj).__mro__:
        fn = cls.__dict__.get(attr)
        if fn is not None:
            fn = getattr(fn, "__func__", fn)      # staticmethod/classmethod objects
            return fn if is_registered(fn) and not isinstance(cls.__dict__[attr], (staticmethod, classmethod)) \
                else None
    return None


RUN_TIME = {}            # "vjp" / "jvp" -> diffc.vjp / diffc.jvp, installed by the public API


def run_vjp(fn, *primals):
    """diffc.vjp, for rules that differentiate a user's function when they run (the
    right-hand side given to odeint); installed by api.py so rules stay below the API."""
    return RUN_TIME["vjp"](fn, *primals)


def run_jvp(fn, primals, tangents):
    """diffc.jvp, for rules that differentiate a user's function when they run."""
    return RUN_TIME["jvp"](fn, primals, tangents)


RULES_VERSION = [0]


# ------------------------------------------------------------------ call resolution

def resolve_call(info, call, target):
    """What `analysis.calls.call_key` resolves a call to, when the registry decides it.

    * a primitive with an `implemented_by` implementation -> the implementation (the call
      rewritten, in place, into the implementation's when it sets ``__diffc_builds_object__``:
      a library class whose instances diffc reads as its own class, CubicSpline);
    * ``obj.method(...)`` with obj a library object known at compile time
      (``norm.logpdf``, ``stats.norm.logpdf``, ``rv.logpdf``) -> the rule registered
      for that bound method, or for the method of obj's class (obj first);
    * a frozen distribution's method with no rule of its own -> the call is rewritten,
      in place, into its implementation with the frozen parameters as constants; so is
      a call of a library object `object_call(obj, "__call__")` knows (``@np.vectorize``).
    Returns (key, atoms) or None (call_key's own answer then stands)."""
    import gast
    from ..parse import MISSING, FunctionInfo
    if target is not MISSING:
        impl = implementation(target)
        if impl is not None:
            if getattr(impl, "__diffc_builds_object__", False):
                # (an implementation building an object diffc reads, for a library class: every
                # compiled form, the primal of recomputing gradient code too, must build that object)
                from .. import ast_util as A
                call.func = A.global_ref(impl, impl.__name__)
            return impl, list(call.args)
        found = object_call(target, "__call__") if not callable(getattr(target, "__code__", None)) else None
        return _rewrite_object_call(call, found) if found is not None else None
    func = call.func
    if not isinstance(func, gast.Attribute):
        return None
    base = func.value
    if isinstance(base, gast.Name) and base.id in info.local_names:
        return None
    obj = info.resolve_static(base)
    if obj is MISSING or isinstance(obj, FunctionInfo):
        return None
    try:
        bound = getattr(obj, func.attr)
    except Exception:
        return None
    if is_registered(bound):
        return implementation(bound) or bound, list(call.args)
    unbound = class_method_rule_key(obj, func.attr)
    if unbound is not None:
        return implementation(unbound) or unbound, [base] + list(call.args)
    found = object_call(obj, func.attr)
    if found is None:
        return None
    return _rewrite_object_call(call, found)


def _rewrite_object_call(call, found):
    """The call rewritten, in place, into the implementation `object_call` found (its
    constant arguments appended): (key, atoms)."""
    import gast
    impl, args, kwds = found
    from .. import ast_util as A
    call.func = A.global_ref(impl, impl.__name__)
    call.args = list(call.args) + [_constant_atom(a) for a in args]
    call.keywords = list(call.keywords) + [gast.keyword(arg=k, value=_constant_atom(v)) for k, v in kwds.items()]
    return impl, list(call.args)


def _constant_atom(value):
    from .. import ast_util as A
    if value is None or type(value) in (bool, int, float):
        return A.const(value)
    return A.global_ref(value, "_const")


from ..analysis import calls  # noqa: E402
calls.RESOLVERS.append(resolve_call)

from .. import runtime_calls  # noqa: E402
runtime_calls.OBJECT_BUILDERS.append(_object_builder)
