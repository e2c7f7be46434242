"""The derivative rule registry.

Rules are keyed by the primitive they differentiate: a Python function or
numpy ufunc object, an `operator` function for syntax (``operator.mul`` for
``*``), ``("method", "sum")`` for methods and ``("attr", "T")`` for
attributes.  Built-in rules register through the same `adjoint`/`tangent`
decorators users call; a user rule replaces a built-in one.
"""

from ..template import Rule, check_signature

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


def adjoint(*primitives, user=False):
    """Register the decorated function as the adjoint rule of each primitive."""
    def register(fn):
        for primitive in primitives:
            if user:
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


def _rules_changed():
    """A user rule was registered: compiled code may have inlined the old rule.

    The compile cache compares each entry's RULES_VERSION with the current one,
    so bumping it makes every older entry stale (rules never import the API)."""
    RULES_VERSION[0] += 1


def nondiff(*primitives):
    for primitive in primitives:
        NONDIFF.add(_key(primitive))


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


RULES_VERSION = [0]
