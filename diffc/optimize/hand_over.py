"""hand_over: an adjoint array given to a list or dict adjoint without a copy.

Reading ``W, b = params[k]`` gives, in the adjoint, ``acc_item(bar, t, 0,
W_bar)`` followed by ``W_bar = 0.0``: the element's first contribution is
stored as ``0.0 + W_bar``, a copy of an array (784x200 for a classifier's
first layer) that W_bar drops right after.

Input: a generated FunctionDef after the other optimizations (not run on
code compiled to be differentiated again, whose helpers are pure).
Output: the same function where ``X = acc_item(Y, P, I, G)`` becomes
``X = give_item(Y, P, I, G)`` when

* a later statement of the same block is ``G = 0.0`` and the statements in
  between do not mention G (G's value is dropped right after);
* G owns its value: G is not a parameter, and every statement binding G is
  ``G = 0.0``, ``G = e`` with e a new value (`aliasing.is_fresh`: arithmetic,
  the product adjoints...) or ``G += e`` / ``G -= e`` (adding to the zero 0.0
  makes a new array, to an array updates G's own);
* G's value reaches nothing that could keep it: every read of G is the last
  argument of ``acc_item``/``give_item`` (which copy it, or take it only
  here), the argument of ``nonzero``, an operand of arithmetic, or an
  argument of a fresh helper (whose result is a new array).

`runtime.give_item` stores G itself in a list or dict element that has had no
contribution yet (the float 0.0, or a missing key) and otherwise does what
`acc_item` does; no element of a list or dict adjoint is ever updated in
place, so the stored array changes no more.  Values are unchanged bit for bit.
"""

import gast

from .. import ast_util as A
from .. import runtime
from .aliasing import is_fresh
from .rewriting import is_const

_TAKERS = (runtime.acc_item, runtime.give_item)


def _helper(call):
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Name):
        return getattr(call.func, "diffc_global", None)
    return None


def _is_acc_item(stmt):
    """G for `X = acc_item(Y, P, I, G)` with a name G, else None."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
            and _helper(stmt.value) is runtime.acc_item and len(stmt.value.args) == 4 \
            and not stmt.value.keywords:
        g = stmt.value.args[3]
        if isinstance(g, gast.Name) and not hasattr(g, "diffc_global"):
            return g.id
    return None


def _owning_names(fn):
    """Names every binding of which gives them a value of their own (see the docstring)."""
    params = {a.id for a in fn.args.args}
    bound, bad = set(), set(params)
    for stmt in A.walk_statements(fn.body):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0] if len(stmt.targets) == 1 else None
            if isinstance(target, gast.Name) and (is_const(stmt.value, 0.0) or is_fresh(stmt.value)):
                bound.add(target.id)
            else:
                for t in stmt.targets:
                    bad |= A.names_stored(t)
        elif isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)) \
                and isinstance(stmt.target, gast.Name):
            bound.add(stmt.target.id)
        elif isinstance(stmt, (gast.For, gast.AugAssign)):
            bad |= A.names_stored(stmt.target)
    for node in A.walk(fn):
        if isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not fn:
            bad |= {n.id for n in A.walk(node) if isinstance(n, gast.Name)}
    return bound - bad


def _reads_only_kept(fn, names):
    """The names of `names` whose every read cannot keep their value (see the docstring)."""
    parents = {}
    for node in A.walk(fn):
        for child in gast.iter_child_nodes(node):
            parents[child] = node
    kept = set(names)
    for node in A.walk(fn):
        if not (isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in kept):
            continue
        parent = parents.get(node)
        helper = _helper(parent)
        if helper in _TAKERS and len(parent.args) == 4 and parent.args[3] is node:
            continue
        if helper is runtime.nonzero:
            continue
        if isinstance(parent, (gast.BinOp, gast.UnaryOp)) \
                or isinstance(parent, gast.AugAssign) and parent.value is node:
            continue
        if isinstance(parent, gast.Call) and is_fresh(parent) and node in parent.args:
            continue
        kept.discard(node.id)
    return kept


def hand_over(fn):
    """See the module docstring."""
    candidates = set()
    for stmt in A.walk_statements(fn.body):
        g = _is_acc_item(stmt)
        if g is not None:
            candidates.add(g)
    if not candidates:
        return fn
    owners = _reads_only_kept(fn, candidates & _owning_names(fn))
    if not owners:
        return fn

    def block(stmts):
        for s in stmts:
            for inner in A.child_blocks(s):
                block(inner)
        for i, s in enumerate(stmts):
            g = _is_acc_item(s)
            if g not in owners:
                continue
            for later in stmts[i + 1:]:
                if isinstance(later, gast.Assign) and len(later.targets) == 1 \
                        and isinstance(later.targets[0], gast.Name) and later.targets[0].id == g \
                        and is_const(later.value, 0.0):
                    s.value.func = A.global_ref(runtime.give_item, "give_item")
                    break
                if g in {n.id for n in A.walk(later) if isinstance(n, gast.Name)}:
                    break
    block(fn.body)
    return fn
