"""calls: what a call in ANF code denotes, for every pass that must choose a rule.

Input: a parsed `FunctionInfo` (parse.py) and a call from its ANF body.
Output: `call_key(info, call)` -> (rule key, argument atoms): the static object
the callee resolves to (a function, a ufunc, a `FunctionInfo` of a nested
def...), or ``("method", name)`` with the receiver as first atom, or
(None, None) when the callee is a local value not known statically;
`is_user_function(obj)`: whether diffc compiles the callee's own source
rather than applying a rule.
"""

import types

import gast

from ..parse import MISSING, FunctionInfo

# Code from these packages is a library: it gets rules, never its source differentiated.
NOT_USER_MODULES = ("numpy", "scipy", "math", "builtins", "operator", "diffc", "jax", "torch")


def is_user_function(obj):
    if isinstance(obj, FunctionInfo):
        return True
    if isinstance(obj, types.FunctionType):
        module = getattr(obj, "__module__", "") or ""
        return not module.split(".")[0] in NOT_USER_MODULES
    return False


def call_key(info, call):
    """(rule key, argument atoms) for a call, or (None, None) when it is not a primitive."""
    func = call.func
    target = info.resolve_static(func) if not (isinstance(func, gast.Name) and func.id in info.local_names) \
        else MISSING
    if target is not MISSING:
        return target, list(call.args)
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
        return ("method", func.attr), [func.value] + list(call.args)
    return None, None
