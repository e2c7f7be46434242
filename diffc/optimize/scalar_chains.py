"""scalar_chains: fewer statements in scalar adjoint code.

Two rewrites of straight-line statements, for loops over Python floats where
every statement is a few nanoseconds of interpreter work:

* `propagate_copies`: after ``a = b`` (two plain local names), later reads
  of ``a`` in the same block read ``b`` instead, up to the first statement
  that rebinds ``a`` or ``b`` (that statement's own reads included: they
  happen before its store; a compound statement rebinding either is not
  entered).  The copy itself is left for dead-code elimination.  Chains
  such as ``_t34_bar = _t35_bar; _t32_bar = _t34_bar`` from the adjoint of
  a sum disappear.

* `merge_accumulations`: ``v += e1`` followed later in the same block by
  ``v += e2`` becomes one ``v = v + e1 + e2`` at the second's place (and
  ``v = e1`` ... ``v += e2`` becomes ``v = e1 + e2``, e1 not reading v), when
  ``v`` is the adjoint of a scalar (reverse.py tags those accumulations with
  ``diffc_scalar``: a float is rebound by ``+=``, never updated in place),
  ``e1`` is pure, ``e2`` does not read ``v``, and every statement in
  between is an assignment of a pure expression to a plain name (or a
  scalar accumulation) that neither reads nor binds ``v`` nor rebinds a name
  ``e1`` reads (so nothing in between can change e1's value, not even
  through an array's contents).
  Python adds left to right, so ``(v + e1) + e2`` is computed exactly as
  before, bit for bit.  ``-=`` merges the same way with ``-``.

Input and output: a generated FunctionDef; same semantics, same results.
"""

import gast

from .. import ast_util as A
from .purity import is_pure_expr


# ------------------------------------------------------------ copies

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
                _substitute_loads(later, a, b)
                loaded[k] = A.names_loaded(later)
            if rebinds:
                break


def _substitute_loads(stmt, name, replacement):
    for node in A.walk(stmt):
        for field in node._fields:
            value = getattr(node, field, None)
            if _is_load_of(value, name):
                setattr(node, field, A.deepcopy(replacement))
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if _is_load_of(item, name):
                        value[k] = A.deepcopy(replacement)


def _is_load_of(node, name):
    return isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load)


# ------------------------------------------------------------ negations

def propagate_negations(fn):
    """Negations folded into the expressions that read them; every rewrite is exact
    in floating point (negation commutes with rounding).

    * After ``t = -y`` (plain local names), up to two later reads of ``t`` in
      the same block (before either name is rebound) read ``-y``, and signs
      are moved outwards (`_Signs`) so that ``-(t * z)`` becomes ``y * z``.
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
        uses = sum(1 for s in region for n in A.walk(s) if _is_load_of(n, t))
        if substitute:
            if 0 < uses <= 2:
                for later in region:
                    if any(_is_load_of(n, t) for n in A.walk(later)):
                        _substitute_loads(later, t, stmt.value)
                        _Signs().visit(later)
        elif 0 < uses == sum(1 for n in A.walk(fn) if _is_load_of(n, t)):
            _flip_if_cheaper(stmt, t, region)


def _only_rebinds(stmt):
    return (_plain_assign(stmt) or _scalar_inc(stmt)) and is_pure_expr(stmt.value)


def _flip_if_cheaper(stmt, t, region):
    negated = gast.UnaryOp(op=gast.USub(), operand=A.name(t))
    before = sum(_negations(s) for s in region) + 1
    trial = [A.deepcopy(s) for s in region]
    for s in trial:
        _substitute_loads(s, t, negated)
        _Signs().visit(s)
    if sum(_negations(s) for s in trial) > before - 1:
        return
    stmt.value = stmt.value.operand
    for s in region:
        _substitute_loads(s, t, negated)
        _Signs().visit(s)


def _negations(stmt):
    return sum(1 for n in A.walk(stmt) if _negated(n))


class _Signs(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        left_neg, right_neg = _negated(node.left), _negated(node.right)
        if isinstance(node.op, (gast.Mult, gast.Div)) and (left_neg or right_neg):
            if left_neg:
                node.left = node.left.operand
            if right_neg:
                node.right = node.right.operand
            return node if left_neg and right_neg else self.visit_UnaryOp(
                gast.UnaryOp(op=gast.USub(), operand=node))
        if isinstance(node.op, (gast.Add, gast.Sub)) and right_neg:
            node.right = node.right.operand
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and _negated(node.operand):
            return node.operand.operand
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (gast.Add, gast.Sub)) and _negated(node.value):
            node.value = node.value.operand
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
        return node


def _negated(node):
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)


# ------------------------------------------------------------ accumulations

def merge_accumulations(fn):
    _merge_in(fn.body)
    return fn


def _accumulation(stmt):
    """(v, [(op, e), ...]) for a mergeable scalar accumulation into v, else None."""
    if _scalar_inc(stmt) and isinstance(stmt.op, (gast.Add, gast.Sub)):
        return stmt.target.id, [(stmt.op, stmt.value)]
    return getattr(stmt, "diffc_merged", None)


def _scalar_inc(stmt):
    return isinstance(stmt, gast.AugAssign) and getattr(stmt, "diffc_scalar", False) \
        and isinstance(stmt.target, gast.Name)


def _plain_assign(stmt):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)


def _first_terms(stmt):
    """(v, terms) for a statement a later scalar accumulation into v may absorb:
    an accumulation, or a plain assignment `v = e` (terms [(None, e)])."""
    acc = _accumulation(stmt)
    if acc is not None:
        return acc
    if _plain_assign(stmt):
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
        if not ((_plain_assign(later) or _scalar_inc(later)) and is_pure_expr(later.value)):
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
    value = _Signs().visit(A.deepcopy(value))
    stmt = A.located(A.assign(v, value), origin)
    stmt.diffc_merged = (v, terms)
    return stmt
