"""propagate_copies: reads of a copied name read the original.

For loops over Python floats, where every statement is a few nanoseconds of
interpreter work.

Input: a generated FunctionDef (after dead-code elimination).
Output: the same function where, after ``a = b`` (two plain local names),
later reads of ``a`` in the same block read ``b`` instead, up to the first
statement that rebinds ``a`` or ``b`` (that statement's own reads included:
they happen before its store; a compound statement rebinding either is not
entered).  The copy itself is left for dead-code elimination.  Chains such
as ``_t34_bar = _t35_bar; _t32_bar = _t34_bar`` from the adjoint of a sum
disappear.  Same semantics, same results.
"""

import gast

from .. import ast_util as A
from .rewriting import substitute_loads


def propagate_copies(fn):
    _copies_in(fn.body)
    return fn


def _is_copy(stmt):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
        and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Name) \
        and not hasattr(stmt.value, "diffc_global") and stmt.targets[0].id != stmt.value.id


def _copies_in(stmts):
    for stmt in stmts:
        for inner in A.child_blocks(stmt):
            _copies_in(inner)
    # The names each statement reads and binds, computed once: the scans below
    # would otherwise walk every later statement again for each copy.
    loaded = [A.names_loaded(s) for s in stmts]
    bound = [A.names_bound([s]) for s in stmts]
    for i, stmt in enumerate(stmts):
        if not _is_copy(stmt):
            continue
        a, b = stmt.targets[0].id, stmt.value
        for k in range(i + 1, len(stmts)):
            later = stmts[k]
            rebinds = a in bound[k] or b.id in bound[k]
            if rebinds and isinstance(later, (gast.If, gast.For, gast.While)):
                break
            if a in loaded[k]:
                substitute_loads(later, a, b)
                loaded[k] = A.names_loaded(later)
            if rebinds:
                break
