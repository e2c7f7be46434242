"""hoist_invariants: move loop-invariant temporaries out of loops (on the ANF body).

The last step of the front end (pipeline.FRONT_END_PASSES), after `anf`.

Input: an ANF `FunctionInfo` body.
Output: the same body where a temporary ``_tN = a op b`` (or ``op a``) that
sits directly in a loop body, is defined nowhere else, and whose operands
are constants or names never rebound inside that loop -- nor written in
place there, directly or through a name that may share their object
(`b = a; for ...: a -= c; t = b * 2`: b changes with a) -- is computed once
before the loop instead.  In reverse mode that removes a tape push and pop
per iteration (``_t1 = -k`` in a time-stepping loop).  Only operations that
cannot raise for finite inputs are moved (no division, floor division,
modulo or power by a non-constant), so a loop that runs zero times behaves
as before.
"""

import gast

from .. import ast_util as A
from ..analysis.stores import stored_names
from ..rules import is_pure_call

_SAFE_BINOPS = (gast.Add, gast.Sub, gast.Mult)
_SAFE_WITH_CONSTANT = (gast.Div, gast.Pow)


def _definitions(body):
    """How many statements bind or mutate each name (compound statements count
    only their own target, not their bodies, which are visited on their own)."""
    counts = {}
    for s in A.walk_statements(body):
        if isinstance(s, (gast.If, gast.While)):
            continue
        names = A.names_stored(s.target) if isinstance(s, gast.For) else stored_names(s, is_pure_call)
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _invariant(expr, rebound):
    if isinstance(expr, gast.Constant):
        return True
    if isinstance(expr, gast.Name):
        return expr.id not in rebound
    return False


def _movable(stmt, rebound, counts):
    if not (isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)):
        return False
    name = stmt.targets[0].id
    if not name.startswith("_t") or counts.get(name) != 1:
        return False
    value = stmt.value
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
        return _invariant(value.operand, rebound)
    if isinstance(value, gast.BinOp):
        if isinstance(value.op, _SAFE_BINOPS):
            return _invariant(value.left, rebound) and _invariant(value.right, rebound)
        if isinstance(value.op, _SAFE_WITH_CONSTANT) and isinstance(value.right, gast.Constant) \
                and isinstance(value.right.value, (int, float)) and value.right.value != 0:
            return _invariant(value.left, rebound)
    return False


def _written_in_place(stmts):
    """Names whose object the statements may change in place: `y[i] = v`, `x op= v`
    (in place for arrays and lists), `lst.append(v)` and other method calls."""
    out = set()
    for s in A.walk_statements(stmts):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) \
                and isinstance(s.targets[0].value, gast.Name):
            out.add(s.targets[0].value.id)
        elif isinstance(s, gast.Assign) and getattr(s, "diffc_augmented", False):
            out |= A.names_stored(s.targets[0])
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
                and isinstance(s.value.func, gast.Attribute) and isinstance(s.value.func.value, gast.Name):
            out.add(s.value.func.value.id)
    return out


def _sharing_groups(body):
    """name -> the names that may share its object anywhere in the function (assignments
    of a name, an item, an attribute, a literal holding names, or a call's result)."""
    parent = {}

    def find(n):
        while parent.setdefault(n, n) != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for s in A.walk_statements(body):
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
            continue
        value = s.value
        if isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)):
            continue
        for name in A.names_loaded(value):
            parent[find(name)] = find(s.targets[0].id)
    groups = {}
    for n in list(parent):
        groups.setdefault(find(n), set()).add(n)
    return {n: groups[find(n)] for n in parent}


def hoist_block(stmts, counts, groups=None):
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.If):
            stmt.body = hoist_block(stmt.body, counts, groups)
            stmt.orelse = hoist_block(stmt.orelse, counts, groups)
        elif isinstance(stmt, (gast.For, gast.While)):
            stmt.body = hoist_block(stmt.body, counts, groups)
            rebound = set()
            for s in stmt.body:
                rebound |= stored_names(s, is_pure_call)
            for name in _written_in_place(stmt.body):
                rebound |= (groups or {}).get(name, {name})
            if isinstance(stmt, gast.For):
                rebound |= A.names_stored(stmt.target)
            moved = []
            changed = True
            while changed:
                changed = False
                for s in list(stmt.body):
                    if _movable(s, rebound, counts):
                        stmt.body.remove(s)
                        moved.append(s)
                        rebound.discard(s.targets[0].id)
                        changed = True
            stmt.body = stmt.body or [gast.Pass()]
            out.extend(moved)
        out.append(stmt)
    return out


def hoist_invariants(info):
    counts = _definitions(info.node.body)
    info.node.body = hoist_block(info.node.body, counts, _sharing_groups(info.node.body))
    return info
