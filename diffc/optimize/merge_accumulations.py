"""merge_accumulations: consecutive scalar accumulations into one adjoint become one statement.

For loops over Python floats, where every statement is a few nanoseconds of
interpreter work.

Input: a generated FunctionDef (after dead-code elimination) whose scalar
adjoint accumulations reverse.py tagged with ``diffc_scalar``.
Output: the same function where ``v += e1`` followed later in the same block
by ``v += e2`` becomes one ``v = v + e1 + e2`` at the second's place (and
``v = e1`` ... ``v += e2`` becomes ``v = e1 + e2``, e1 not reading v), when
``v`` is the adjoint of a scalar (a float is rebound by ``+=``, never updated
in place), ``e1`` is pure, ``e2`` does not read ``v``, and every statement in
between is an assignment of a pure expression to a plain name (or a scalar
accumulation) that neither reads nor binds ``v`` nor rebinds a name ``e1``
reads (so nothing in between can change e1's value, not even through an
array's contents).  Python adds left to right, so ``(v + e1) + e2`` is
computed exactly as before, bit for bit.  ``-=`` merges the same way with
``-``.
"""

import gast

from .. import ast_util as A
from .purity import is_pure_expr
from .scalar_rewrites import Signs, plain_assign, scalar_inc


def merge_accumulations(fn):
    _merge_in(fn.body)
    return fn


def _accumulation(stmt):
    """(v, [(op, e), ...]) for a mergeable scalar accumulation into v, else None."""
    if scalar_inc(stmt) and isinstance(stmt.op, (gast.Add, gast.Sub)):
        return stmt.target.id, [(stmt.op, stmt.value)]
    return getattr(stmt, "diffc_merged", None)


def _first_terms(stmt):
    """(v, terms) for a statement a later scalar accumulation into v may absorb:
    an accumulation, or a plain assignment `v = e` (terms [(None, e)])."""
    acc = _accumulation(stmt)
    if acc is not None:
        return acc
    if plain_assign(stmt):
        return stmt.targets[0].id, [(None, stmt.value)]
    return None


def _merge_in(stmts):
    for stmt in stmts:
        for inner in A.child_blocks(stmt):
            _merge_in(inner)
    # Only a variable some statement here accumulates into can absorb anything: the
    # others are not scanned for (this pass would be quadratic in straight-line code).
    accumulated = {acc[0] for acc in map(_accumulation, stmts) if acc is not None}
    names = {}
    i = 0
    while i < len(stmts):
        merged = _merge_forward(stmts, i, accumulated, names)
        if merged:
            del stmts[i]
        else:
            i += 1


def _names(stmt, names):
    """(loaded, stored) names of a statement, computed once per statement object."""
    key = id(stmt)
    if key not in names or names[key][0] is not stmt:
        names[key] = (stmt, A.names_loaded(stmt), A.names_stored(stmt))
    return names[key][1], names[key][2]


def _merge_forward(stmts, i, accumulated, names):
    """Merge stmts[i] into the next accumulation of the same variable; True if done."""
    first = _first_terms(stmts[i])
    if first is None or first[0] not in accumulated:
        return False
    v, terms = first
    if not all(is_pure_expr(e) for _, e in terms) or any(v in A.names_loaded(e) for op, e in terms if op is None):
        return False
    reads = set()
    for _, e in terms:
        reads |= A.names_loaded(e)
    for j in range(i + 1, len(stmts)):
        later = stmts[j]
        following = _accumulation(later)
        if following is not None and following[0] == v:
            if any(v in A.names_loaded(e) for _, e in following[1]):
                return False
            stmts[j] = _combined(v, terms + following[1], later)
            return True
        # Only rebinding statements may stand in between: nothing that could change an
        # array e1 reads.
        if not ((plain_assign(later) or scalar_inc(later)) and is_pure_expr(later.value)):
            return False
        loaded, stored = _names(later, names)
        if v in loaded or v in stored or stored & reads:
            return False
    return False


def _combined(v, terms, origin):
    """`v = v + e1 - e2 ...`, or `v = e0 + e1 ...` when the first term assigns."""
    value = None
    rest = terms
    if terms[0][0] is not None:
        value = A.name(v)
    elif isinstance(terms[0][1], gast.Constant) and terms[0][1].value == 0.0:
        # `v = 0.0; v += e` is `v = e` (fuse_reset_and_accumulate does the same; a
        # float, so no alias is made), `v = 0.0; v -= e` is `v = -e`.
        (op, e), rest = terms[1], terms[2:]
        value = e if isinstance(op, gast.Add) else gast.UnaryOp(op=gast.USub(), operand=e)
    for op, e in rest:
        value = e if value is None else gast.BinOp(left=value, op=type(op)(), right=e)
    # Signs are pushed on a copy: `terms` must keep the expressions as they were,
    # for a later merge into the same variable.
    value = Signs().visit(A.deepcopy(value))
    stmt = A.located(A.assign(v, value), origin)
    stmt.diffc_merged = (v, terms)
    return stmt
