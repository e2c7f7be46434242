"""dynamic_calls: calls of function values become ``runtime.call_value(f, args, kwargs)``.

Input: the ANF statements of one function (a private copy, as reverse.py and
forward.py keep), its `FunctionInfo`, the kinds of its variables and which
names are varied (depend on a differentiated parameter).
Output: the same statements, where every ``x = f(a, b, k=c)`` that passes a
varied argument to a callee diffc cannot name at compile time is

    _fargs = (a, b)
    _fkw = {'k': c}
    x = runtime.call_value(f, _fargs, _fkw)

and ``runtime.call_value``'s rules (rules/dynamic_rules.py) differentiate the
call at run time for the function value at hand (diffc/dynamic.py).  A callee
counts as a value when it is a local name (a parameter holding a function, an
item taken from a list or dict, what another call returned), a method with no
derivative rule called on an object that is not an array (``self.forward(x)``,
``model.loss(x)``), a bound method, a ``functools.partial``, a derivative made
by diffc (``diffc.grad(g)``) or a callable object of a user class.

A callee that itself depends on a differentiated value (a partial or closure
built from one) is refused: its derivative would be lost.
"""

import functools
import types

import gast

from .. import ast_util as A
from .. import runtime
from .. import rules as R
from ..analysis import activity as activity_mod
from ..analysis import kinds as K
from ..errors import NoDerivativeRule
from ..parse import FunctionInfo

_LIBRARY_MODULES = ("numpy", "scipy", "math", "builtins", "operator", "diffc", "jax", "torch")


def is_function_value(obj):
    """A statically known callee whose call diffc differentiates at run time."""
    if isinstance(obj, (functools.partial, types.MethodType)) or hasattr(obj, "diffc_derivative"):
        return True
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType, FunctionInfo)):
        return False
    module = (getattr(type(obj), "__module__", "") or "").split(".")[0]
    return callable(obj) and module not in _LIBRARY_MODULES


def is_dynamic(info, call, kinds, key):
    """Whether the call `call` (rule key `key` from reverse.call_key) calls a function value."""
    if key is None:
        return True
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "method":
        receiver = call.func.value
        receiver_kind = kinds.get(receiver.id) if isinstance(receiver, gast.Name) else None
        return (R.adjoint_rule(key) is None and R.tangent_rule(key) is None and not R.is_nondiff(key)
                and key[1] not in activity_mod.MUTATING_METHODS
                and not K.is_array(receiver_kind) and receiver_kind not in (K.SCALAR, K.INT, K.SCALARS))
    try:
        has_rule = R.adjoint_rule(key) is not None or R.is_nondiff(key)
    except TypeError:
        has_rule = False
    return not has_rule and is_function_value(key)


def lower(stmts, info, namer, kinds, varied, call_key, fail):
    """Rewrite the dynamic calls of stmts (see module docstring); returns the new list."""
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, lower(inner, info, namer, kinds, varied, call_key, fail))
        call = stmt.value if isinstance(stmt, gast.Assign) else None
        if not isinstance(call, gast.Call) or not isinstance(stmt.targets[0], gast.Name):
            out.append(stmt)
            continue
        atoms = list(call.args) + [k.value for k in call.keywords]
        if not any(_is_varied(a, varied) for a in atoms):
            out.append(stmt)
            continue
        key, _ = call_key(info, call)
        if not is_dynamic(info, call, kinds, key):
            out.append(stmt)
            continue
        if _is_varied(call.func, varied) or (isinstance(call.func, gast.Attribute)
                                              and _is_varied(call.func.value, varied)):
            fail(NoDerivativeRule, "the function called here depends on differentiated values "
                 "(a partial, closure or object built from them), so diffc cannot differentiate "
                 "through it", call,
                 hint="pass those values to the function as arguments instead")
        new = _rewrite(stmt, call, namer)
        # The temporaries are locals of the function: tapes and split callees keep them.
        info.add_locals({s.targets[0].id for s in new})
        out.extend(A.located_all(new, stmt))
    return out


def _is_varied(atom, varied):
    return isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global") and atom.id in varied


def _rewrite(stmt, call, namer):
    new = []
    func = call.func
    if not A.is_atom(func):
        fname = namer.fresh("_fun")
        new.append(A.assign(fname, func))
        func = A.name(fname)
    starred = [a for a in call.args if isinstance(a, gast.Starred)]
    if len(starred) == 1 and len(call.args) == 1 and isinstance(starred[0].value, gast.Name):
        args = A.name(starred[0].value.id)
    else:
        args_name = namer.fresh("_fargs")
        new.append(A.assign(args_name, gast.Tuple(elts=[A.deepcopy(a) for a in call.args], ctx=gast.Load())))
        args = A.name(args_name)
    kw_name = namer.fresh("_fkw")
    new.append(A.assign(kw_name, gast.Dict(keys=[A.const(k.arg) for k in call.keywords],
                                           values=[A.deepcopy(k.value) for k in call.keywords])))
    value = A.call(A.global_ref(runtime.call_value, "call_value"), [func, args, A.name(kw_name)])
    new.append(gast.Assign(targets=stmt.targets, value=value, type_comment=None))
    return new


def varied_names(body, active_params, returned, carries):
    return activity_mod.analyze(body, active_params, returned, carries).varied
