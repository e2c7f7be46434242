"""calls: what a call in ANF code denotes, for every pass that must choose a rule.

Input: a parsed `FunctionInfo` (parse.py) and a call from its ANF body.
Output: `call_key(info, call)` -> (rule key, argument atoms): the static object
the callee resolves to (a function, a ufunc, a `FunctionInfo` of a nested
def...), or ``("method", name)`` with the receiver as first atom, or
(None, None) when the callee is a local value not known statically;
`is_user_function(obj)`: whether diffc compiles the callee's own source
rather than applying a rule (also for a library implementation marked
``__diffc_transparent__``).  The rules registry, a later layer, adds
`RESOLVERS`: a call of a primitive with an implementation resolves to it, and
``obj.method(...)`` with obj a library object known at compile time resolves
to the rule registered for that bound method or class method.
"""

import types

import gast

from ..parse import MISSING, FunctionInfo

# Code from these packages is a library: it gets rules, never its source differentiated.
NOT_USER_MODULES = ("numpy", "scipy", "math", "builtins", "operator", "diffc", "jax", "torch")


# (info, call, static target or MISSING) -> (key, atoms) or None; filled by rules/__init__.py
RESOLVERS = []


def is_user_function(obj):
    if isinstance(obj, FunctionInfo):
        return True
    if getattr(obj, "__diffc_transparent__", False):
        return True           # a library implementation diffc reads like user code
    if isinstance(obj, types.FunctionType):
        module = getattr(obj, "__module__", "") or ""
        return not module.split(".")[0] in NOT_USER_MODULES
    return False


def call_key(info, call):
    """(rule key, argument atoms) for a call, or (None, None) when it is not a primitive."""
    func = call.func
    target = info.resolve_static(func) if not (isinstance(func, gast.Name) and func.id in info.local_names) \
        else MISSING
    for resolve in RESOLVERS:
        found = resolve(info, call, target)
        if found is not None:
            return found
    if target is not MISSING:
        return target, list(call.args)
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
        return ("method", func.attr), [func.value] + list(call.args)
    return None, None
