"""propagate_negations: negations folded into the expressions that read them.

For loops over Python floats, where every statement is a few nanoseconds of
interpreter work.

Input: a generated FunctionDef (after dead-code elimination and copy
propagation).
Output: the same function where
  * after ``t = -y`` (plain local names), up to two later reads of ``t`` in
    the same block (before either name is rebound) read ``-y``, and signs are
    moved outwards (`scalar_rewrites.Signs`) so that ``-(t * z)`` becomes
    ``y * z``;
  * ``t = -(e)`` whose reads all follow in the same block, before ``t`` is
    rebound, becomes ``t = e`` with every read negated instead, when moving
    those signs outwards leaves no more negations than before (``a -= t``
    becomes ``a += t``).
Both only across statements that bind names to pure values: nothing there
can write into an array (y may be a view of an adjoint buffer, and -y a
fresh copy the original code took before such a write).  Every rewrite is
exact in floating point (negation commutes with rounding).
"""

import gast

from .. import ast_util as A
from .purity import is_pure_expr
from .rewriting import is_load_of, substitute_loads
from .scalar_rewrites import Signs, negated, plain_assign, scalar_inc


def propagate_negations(fn):
    """Negations folded into the expressions that read them; every rewrite is exact
    in floating point (negation commutes with rounding).

    * After ``t = -y`` (plain local names), up to two later reads of ``t`` in
      the same block (before either name is rebound) read ``-y``, and signs
      are moved outwards (`Signs`) so that ``-(t * z)`` becomes ``y * z``.
    * ``t = -(e)`` whose reads all follow in the same block, before ``t`` is
      rebound, becomes ``t = e`` with every read negated instead, when moving
      those signs outwards leaves no more negations than before (``a -= t``
      becomes ``a += t``).
    Both only across statements that bind names to pure values: nothing there
    can write into an array (y may be a view of an adjoint buffer, and -y a
    fresh copy the original code took before such a write)."""
    _negations_in(fn.body, fn)
    return fn


def _negation(stmt):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
        and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.UnaryOp) \
        and isinstance(stmt.value.op, gast.USub)


def _negations_in(stmts, fn):
    for stmt in stmts:
        for inner in A.child_blocks(stmt):
            _negations_in(inner, fn)
    for i, stmt in enumerate(stmts):
        if not _negation(stmt):
            continue
        t, operand = stmt.targets[0].id, stmt.value.operand
        substitute = isinstance(operand, gast.Name) and not hasattr(operand, "diffc_global")
        if substitute and operand.id == t:
            continue              # t = -t: later reads of t read the new value
        # Substituting -y moves the read of y: y must keep its value.  Flipping the sign
        # of t leaves e where it is: only t matters.
        watched = {t, operand.id} if substitute else {t}
        region = []
        for later in stmts[i + 1:]:
            # Only statements that rebind names: a negation read later must see the
            # same contents, and an array could be written in place by anything else
            # (the operand may be a view of an adjoint buffer).
            if not _only_rebinds(later):
                break
            region.append(later)
            if A.names_bound([later]) & watched:
                break
        uses = sum(1 for s in region for n in A.walk(s) if is_load_of(n, t))
        if substitute:
            if 0 < uses <= 2:
                for later in region:
                    if any(is_load_of(n, t) for n in A.walk(later)):
                        substitute_loads(later, t, stmt.value)
                        Signs().visit(later)
        elif 0 < uses == sum(1 for n in A.walk(fn) if is_load_of(n, t)):
            _flip_if_cheaper(stmt, t, region)


def _only_rebinds(stmt):
    return (plain_assign(stmt) or scalar_inc(stmt)) and is_pure_expr(stmt.value)


def _flip_if_cheaper(stmt, t, region):
    minus_t = gast.UnaryOp(op=gast.USub(), operand=A.name(t))
    before = sum(_negations(s) for s in region) + 1
    trial = [A.deepcopy(s) for s in region]
    for s in trial:
        substitute_loads(s, t, minus_t)
        Signs().visit(s)
    if sum(_negations(s) for s in trial) > before - 1:
        return
    stmt.value = stmt.value.operand
    for s in region:
        substitute_loads(s, t, minus_t)
        Signs().visit(s)


def _negations(stmt):
    return sum(1 for n in A.walk(stmt) if negated(n))
