"""recompute_cheap_entries: a split function's adjoint remakes cheap tape entries instead of popping them.

A user function called from a gradient is split into ``_fwd_f`` (which pushes
its state onto the shared tape) and ``_adj_f`` (which pops it).

Input: a ``(fwd, adj)`` pair from `Module.assemble_split`, both optimized
(not run on code compiled to be differentiated again; not in
`OPTIMIZER_PASSES`: it needs the pair; run before `keep_split_tape_shapes`).
Output: the pair where an element ``x`` of the state tuple
fwd pushes last (``_tape.append((..., x, ...))``, popped by the first
statement of adj) whose one definition is a top-level ``x = a + b`` / ``-`` /
``*`` of operands that adj reads in full anyway (names of the same tuple, or
number constants), is recomputed by adj right after the pop instead of kept:
the bilinear weights ``s0 = 1.0 - s1`` and neighbour indices ``i0 + 1`` of an
advection step are a third of what its tape would hold, and on a grid each
kept array costs its page faults on every call (about 2 us per 4 KiB page,
several times the elementwise operation that remakes it).  Conditions that make
the recomputed value equal the kept one: x and its operands are each assigned
once in fwd (parameters: never), at the top level and before the push, never
written in place there (no subscript or attribute store, augmented
assignment or mutating method), and never rebound in adj but by the pop.
"""

import gast

from .. import ast_util as A
from ..analysis.activity import MUTATING_METHODS
from ..transform.reverse import TAPE
from .shape_reads import shape_only_names


_CHEAP_OPS = (gast.Add, gast.Sub, gast.Mult)


def recompute_cheap_entries(fwd, adj):
    """See the module docstring (fwd and adj are changed in place and returned)."""
    push, pop = _state_push(fwd), _state_pop(adj)
    if push is None or pop is None:
        return fwd, adj
    elts, targets = push.value.args[0].elts, pop.targets[0].elts
    if len(elts) != len(targets) or any(
            not (isinstance(e, gast.Name) and isinstance(t, gast.Name) and e.id == t.id
                 and not hasattr(e, "diffc_global")) for e, t in zip(elts, targets)):
        return fwd, adj
    state = [e.id for e in elts]
    fwd_stores, adj_stores = _stores(fwd), _stores(adj)
    params = {a.id for a in fwd.args.args}
    # operands adj reads in full anyway: keeping them costs nothing more
    full = {n.id for n in A.walk(adj) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)} \
        - shape_only_names(adj)
    position = {id(s): k for k, s in enumerate(fwd.body)}
    defs = {}
    for stmt in fwd.body:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            defs.setdefault(stmt.targets[0].id, stmt)

    def settled(name, before):
        """name holds one value from its top-level definition (before `before`) on."""
        if adj_stores.get(name, 0) != 1 or name in _written_in_place(fwd):
            return False
        if name in params:
            return fwd_stores.get(name, 0) == 0
        d = defs.get(name)
        return d is not None and fwd_stores.get(name, 0) == 1 and position[id(d)] < before

    chosen = []
    for name in state:
        d = defs.get(name)
        if name not in full:
            continue                 # read for its shape only: shape_of keeps it for less
        if d is None or not isinstance(d.value, gast.BinOp) or not isinstance(d.value.op, _CHEAP_OPS):
            continue
        operands = [d.value.left, d.value.right]
        if not all((isinstance(o, gast.Constant) and type(o.value) in (int, float))
                   or (isinstance(o, gast.Name) and not hasattr(o, "diffc_global") and o.id in state
                       and o.id in full and o.id != name) for o in operands):
            continue
        if settled(name, position[id(push)]) and all(
                isinstance(o, gast.Constant) or settled(o.id, position[id(d)]) for o in operands):
            chosen.append((name, d, [o.id for o in operands if isinstance(o, gast.Name)]))
    recomputed = {name for name, _, _ in chosen}
    chosen = [c for c in chosen if not recomputed & set(c[2])]      # operands stay on the tape
    if not chosen:
        return fwd, adj
    drop = {name for name, _, _ in chosen}
    keep = [k for k, name in enumerate(state) if name not in drop]
    push.value.args[0].elts = [elts[k] for k in keep]
    pop.targets[0].elts = [targets[k] for k in keep]
    at = adj.body.index(pop) + 1
    adj.body[at:at] = [A.located(gast.Assign(targets=[A.store(name)], value=A.deepcopy(d.value),
                                             type_comment=None), d) for name, d, _ in chosen]
    return fwd, adj


def _state_push(fwd):
    """The top-level ``_tape.append((...))`` of the state tuple, the last push of fwd."""
    for stmt in reversed(fwd.body):
        value = getattr(stmt, "value", None)
        if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) \
                and isinstance(value.func, gast.Attribute) and value.func.attr == "append" \
                and isinstance(value.func.value, gast.Name) and value.func.value.id == TAPE:
            return stmt if len(value.args) == 1 and isinstance(value.args[0], gast.Tuple) else None
        if not isinstance(stmt, gast.Return):
            return None
    return None


def _state_pop(adj):
    """The first top-level statement of adj when it is ``(a, b, ...) = _tape.pop()``."""
    for stmt in adj.body:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Tuple) \
                and isinstance(stmt.value, gast.Call) and isinstance(stmt.value.func, gast.Attribute) \
                and stmt.value.func.attr == "pop" and isinstance(stmt.value.func.value, gast.Name) \
                and stmt.value.func.value.id == TAPE:
            return stmt
        return None
    return None


def _stores(fn):
    """name -> how many times fn binds it (assignments, loop targets, with/except names...)."""
    counts = {}
    for node in A.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _written_in_place(fn):
    """Names fn writes into: ``x[i] = v``, ``x.a = v``, ``x += v``, ``x.append(v)``..."""
    names = set()
    for node in A.walk(fn):
        if isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, (gast.Store, gast.Del)):
            base = node.value
            while isinstance(base, (gast.Subscript, gast.Attribute)):
                base = base.value
            if isinstance(base, gast.Name):
                names.add(base.id)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name):
            names.add(node.target.id)
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in MUTATING_METHODS and isinstance(node.func.value, gast.Name):
            names.add(node.func.value.id)
    return names
