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
import numpy as np

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


def _integer_dtype(info, atom):
    """Whether atom denotes, at compile time, an integer or boolean dtype (the builtins
    ``int``/``bool``, ``np.int64``, ``np.uint8``..., ``np.dtype("int32")``'s spelling
    ``"int32"``); False when it is anything else or not known statically."""
    if isinstance(atom, gast.Constant):
        value = atom.value
    else:
        value = info.resolve_static(atom)
        if value is MISSING or isinstance(value, FunctionInfo):
            return False
    if value is int or value is bool:
        return True
    if not (isinstance(value, str) or (isinstance(value, type) and issubclass(value, np.generic))):
        return False
    try:
        return np.dtype(value).kind in "iub"
    except TypeError:
        return False


def integer_cast(info, call):
    """Whether the ANF call is ``x.astype(T)`` with T an integer or boolean dtype known
    at compile time: its result holds no derivative (a cast to integers is piecewise
    constant), so activity analysis treats it like a nondiff primitive's and the
    adjoint never builds a zero gradient for the cast (``i0 = x.astype(int)`` indexing
    an array).  A dtype held in a variable, or ``x.astype(int)`` on a receiver of a user
    class whose ``astype`` is differentiated, is not one."""
    func = call.func
    if not (isinstance(func, gast.Attribute) and func.attr == "astype"):
        return False
    key, _ = call_key(info, call)
    if key != ("method", "astype"):
        return False
    dtypes = list(call.args[:1]) + [k.value for k in call.keywords if k.arg == "dtype"]
    return len(dtypes) == 1 and _integer_dtype(info, dtypes[0])
