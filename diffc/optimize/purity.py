"""purity: which calls and expressions the optimizer may drop, move or duplicate.

Shared by the passes (public names, no rewriting here): `is_pure_call` (a call
of a helper or function with a rule, declared droppable in `effects`, or a
non-mutating method that has a rule), `is_pure_expr` (an expression with only
such calls), `pure_value` (pure and calling no helper that writes into its
first argument), `stored_names` (the names a statement rebinds or mutates in
place) and `resolve_chain` (the object an attribute chain on a global names).
"""

import gast

from .. import ast_util as A
from .. import effects
from .. import rules as R
from ..analysis.activity import MUTATING_METHODS


def is_pure_call(call):
    func = call.func
    base = func
    while isinstance(base, gast.Attribute):
        base = base.value
    if isinstance(func, gast.Name) and hasattr(func, "diffc_global"):
        obj = func.diffc_global
    elif isinstance(func, gast.Attribute) and isinstance(base, gast.Name) and hasattr(base, "diffc_global"):
        obj = getattr(func, "diffc_resolved", None)
        if obj is None:
            obj = resolve_chain(func)
    elif isinstance(func, gast.Attribute):
        key = ("method", func.attr)
        return func.attr not in MUTATING_METHODS and R.has_rule(key)
    else:
        return False
    if effects.has(obj, effects.DROPPABLE):
        return True
    if effects.has(obj, effects.EFFECTFUL):    # even when a rule registry knows it (higher order)
        return False
    try:
        return R.has_rule(obj)
    except TypeError:
        return False


def resolve_chain(node):
    if isinstance(node, gast.Name):
        return getattr(node, "diffc_global", None)
    if isinstance(node, gast.Attribute):
        base = resolve_chain(node.value)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def is_pure_expr(expr):
    for n in A.walk(expr):
        if isinstance(n, gast.Call) and not is_pure_call(n):
            return False
    return True


def stored_names(stmt):
    """Names a statement (re)binds or mutates in place."""
    out = set()
    for s in A.walk_statements([stmt]):
        if isinstance(s, gast.Assign):
            for t in s.targets:
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                    out.add(t.value.id)
                out |= A.names_stored(t)
        elif isinstance(s, gast.AugAssign):
            out |= A.names_stored(s.target)
            if isinstance(s.target, gast.Subscript) and isinstance(s.target.value, gast.Name):
                out.add(s.target.value.id)
        elif isinstance(s, gast.For):
            out |= A.names_stored(s.target)
        if isinstance(s, (gast.Assign, gast.AugAssign, gast.Expr)):
            for n in A.walk(s):
                if isinstance(n, gast.Call) and not is_pure_call(n):
                    if isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name):
                        out.add(n.func.value.id)
                        if n.func.value.id == "_tape":
                            continue          # pushing a value does not change it
                    out |= {a.id for a in n.args if isinstance(a, gast.Name)}
    return out


def pure_value(expr):
    return is_pure_expr(expr) and not calls_mutating_helper(expr)


def calls_mutating_helper(expr):
    for n in A.walk(expr):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name):
            fn = getattr(n.func, "diffc_global", None)
            if effects.has(fn, effects.MUTATES_FIRST):
                return True
    return False
