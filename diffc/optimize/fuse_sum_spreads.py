"""fuse_sum_spreads: the adjoint of a sum times an array, without materializing the sum's spread.

The adjoint of ``s = np.sum(a)`` is ``_sum_bar(g, a, None, False)``: the 0-d
adjoint g of s spread over a's shape, a new array.  When that adjoint is only
multiplied by something (``s = np.sum(x * y)``, ``np.sum(h * h)``), building
the array of g and multiplying it is two array operations where ``g * y``
is one.

Input: a generated FunctionDef, after dead-code elimination, forward
substitution and algebra (not run on code compiled to be differentiated
again, whose helpers need derivative rules).
Output: the same function where

* ``_sum_bar(g, a, None, False) * y`` (or ``y * _sum_bar(...)``) is
  ``_sum_bar_times(g, a, y)``, and ``_sum_bar(g, a, axis, keepdims) * y``
  (axis and keepdims constants or names) is
  ``_sum_bar_times(g, a, y, False, axis, keepdims)``;
* a zero-guarded spread ``if nonzero(g): B = _sum_bar(g, a, None, False)
  else: B = 0.0`` whose only use is one ``B * y`` (or ``y * B``) later in the
  same block, with no statement in between mentioning g or a, and B bound
  nowhere else, is removed, and that use becomes
  ``_sum_bar_times(g, a, y, True)``.

`_sum_bar_times` returns exactly the value of the expression it replaces
(`g * y` when a and y are float64 arrays of one shape; otherwise the
original expression, and ``0.0 * y`` for a plain zero g when guarded), so
gradients are unchanged bit for bit.  The next pass, `absorb_scales`, folds
constant scales into those calls.
"""

import gast

from .. import ast_util as A
from .. import runtime
from ..rules import reductions
from .purity import stored_names
from .rewriting import is_global


def _full_sum_bar(node):
    """(g, a) when node is `_sum_bar(g, a, None, False)`, else None."""
    parts = _sum_bar_parts(node)
    if parts is not None and parts[2] is None:
        return parts[:2]
    return None


def _sum_bar_parts(node):
    """(g, a, None) for `_sum_bar(g, a, None, False)`, (g, a, (axis, keepdims)) for
    another reduction whose axis is a constant or a name; else None."""
    if isinstance(node, gast.Call) and is_global(node.func, reductions.sum_bar) \
            and len(node.args) == 4 and not node.keywords:
        axis, keep = node.args[2], node.args[3]
        if isinstance(axis, gast.Constant) and axis.value is None \
                and isinstance(keep, gast.Constant) and keep.value is False:
            return node.args[0], node.args[1], None
        if isinstance(axis, (gast.Constant, gast.Name)) and isinstance(keep, (gast.Constant, gast.Name)):
            return node.args[0], node.args[1], (axis, keep)
    return None


def _helper_call(g, a, y, guarded=False, reduction=None):
    args = [g, a, y] + ([A.const(guarded)] if guarded or reduction else [])
    if reduction is not None:
        args += [reduction[0], reduction[1]]
    return A.call(A.global_ref(reductions.sum_bar_times, "_sum_bar_times"), args)


class _FuseProducts(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Mult):
            for spread, other in ((node.left, node.right), (node.right, node.left)):
                parts = _sum_bar_parts(spread)
                if parts is not None:
                    return _helper_call(parts[0], parts[1], other, reduction=parts[2])
        return node


class _ReplaceUse(gast.NodeTransformer):
    """B * y or y * B -> _sum_bar_times(g, a, y, True); counts the replacements."""

    def __init__(self, name, g, a):
        self.name, self.g, self.a = name, g, a
        self.done = 0

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Mult):
            for spread, other in ((node.left, node.right), (node.right, node.left)):
                if isinstance(spread, gast.Name) and spread.id == self.name \
                        and not hasattr(spread, "diffc_global"):
                    self.done += 1
                    return _helper_call(A.deepcopy(self.g), A.deepcopy(self.a), other, guarded=True)
        return node


def _guarded_spread(stmt):
    """(B, g, a) for `if nonzero(g): B = _sum_bar(g, a, None, False) else: B = 0.0`."""
    if not isinstance(stmt, gast.If) or len(stmt.body) != 1 or len(stmt.orelse) != 1:
        return None
    test = stmt.test
    if not (isinstance(test, gast.Call) and is_global(test.func, runtime.nonzero)
            and len(test.args) == 1 and isinstance(test.args[0], gast.Name)):
        return None
    then, other = stmt.body[0], stmt.orelse[0]
    if not (isinstance(then, gast.Assign) and isinstance(then.targets[0], gast.Name)
            and isinstance(other, gast.Assign) and isinstance(other.targets[0], gast.Name)
            and then.targets[0].id == other.targets[0].id
            and isinstance(other.value, gast.Constant) and type(other.value.value) is float
            and other.value.value == 0.0):
        return None
    parts = _full_sum_bar(then.value)
    if parts is None or not isinstance(parts[0], gast.Name) or parts[0].id != test.args[0].id \
            or not isinstance(parts[1], gast.Name):
        return None
    return then.targets[0].id, parts[0], parts[1]


def _counts(fn):
    loads, stores = {}, {}
    for n in A.walk(fn):
        if isinstance(n, gast.Name):
            table = loads if isinstance(n.ctx, gast.Load) else stores
            table[n.id] = table.get(n.id, 0) + 1
    return loads, stores


def fuse_sum_spreads(fn):
    fn = _FuseProducts().visit(fn)
    loads, stores = _counts(fn)

    def block(stmts):
        for s in stmts:
            for inner in A.child_blocks(s):
                block(inner)
        i = 0
        while i < len(stmts):
            found = _guarded_spread(stmts[i])
            if found is not None:
                name, g, a = found
                if loads.get(name) == 1 and stores.get(name) == 2:
                    watched = {g.id, a.id, name}
                    for j in range(i + 1, len(stmts)):
                        later = stmts[j]
                        if name in A.names_loaded(later):
                            if isinstance(later, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)) \
                                    and not (stored_names(later) & {g.id, a.id}):
                                replace = _ReplaceUse(name, g, a)
                                candidate = replace.visit(A.deepcopy(later))
                                if replace.done == 1 and name not in A.names_loaded(candidate):
                                    stmts[j] = candidate
                                    del stmts[i]
                                    i -= 1
                            break
                        if watched & {n.id for n in A.walk(later) if isinstance(n, gast.Name)}:
                            break
            i += 1
    block(fn.body)
    return fn
