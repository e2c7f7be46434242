"""purity: which calls and expressions the optimizer may drop, move or duplicate.

Shared by the passes (public names, no rewriting here): `is_pure_expr` (an
expression whose calls are all pure by the rule registry's `rules.is_pure_call`:
a helper declared droppable in `effects`, a function with a rule, a
non-mutating method that has a rule), `pure_value` (pure and calling no helper
that writes into its first argument) and `stored_names` (the names a statement
rebinds or mutates in place, `analysis.stores.stored_names` with the registry's
purity).  What a call calls and the object an attribute chain names are in
analysis/stores.py.
"""

import gast

from .. import ast_util as A
from .. import effects
from ..analysis import stores
from ..rules import is_pure_call


def is_pure_expr(expr):
    for n in A.walk(expr):
        if isinstance(n, gast.Call) and not is_pure_call(n):
            return False
    return True


def stored_names(stmt):
    """Names a statement (re)binds or mutates in place."""
    return stores.stored_names(stmt, is_pure_call)


def pure_value(expr):
    return is_pure_expr(expr) and not calls_mutating_helper(expr)


def calls_mutating_helper(expr):
    for n in A.walk(expr):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name):
            fn = getattr(n.func, "diffc_global", None)
            if effects.has(fn, effects.MUTATES_FIRST):
                return True
    return False
