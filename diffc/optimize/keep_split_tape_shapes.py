"""keep_split_tape_shapes: a split function's tape keeps an array's shape when its adjoint needs no more.

A user function called from a gradient is split into ``_fwd_f`` (which pushes
the values its adjoint reads onto the shared tape, once per loop iteration
for values a loop overwrites) and ``_adj_f`` (which pops them).  Many of
those values are read by the adjoint only for their shape: the second
argument of ``unbroadcast(g, x)``, or the operands of ``head_part(g, a, b)`` /
``tail_part(g, a, b)`` (which ask only whether a + b was a concatenation of
lists).  A Jacobi loop of 10 sweeps in a fluid solver otherwise keeps 70
full grids alive per call until the adjoint has run: memory traffic the
primal never pays.

Input: a ``(fwd, adj)`` pair from `Module.assemble_split`, both optimized,
after `recompute_cheap_entries` (not run on code compiled to be
differentiated again; not in `OPTIMIZER_PASSES`: it needs the pair).
Output: fwd where each element ``x`` (a name) of a ``_tape.append(x)`` /
``_tape.append((x, ...))`` becomes ``shape_of(x)`` when every read of the
name x anywhere in adj is one of those shape-only reads, and there is at
least one.  ``runtime.shape_of`` keeps an ndarray's shape in a `ShapeOf`
(``unbroadcast`` reads its ``.shape``; it is not a list or tuple, as the
ndarray was not) and any other value as it is, so every such read gives the
result it gave before.  fwd's own reads of x are untouched.
"""

import gast

from .. import ast_util as A
from .. import runtime
from ..transform.reverse import TAPE
from .shape_reads import shape_only_names


def _tape_pushes(fwd):
    for stmt in A.walk_statements(fwd.body):
        value = getattr(stmt, "value", None)
        if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) \
                and isinstance(value.func, gast.Attribute) and value.func.attr == "append" \
                and isinstance(value.func.value, gast.Name) and value.func.value.id == TAPE \
                and len(value.args) == 1 and not value.keywords:
            yield value


def _pop_targets(adj):
    """The targets of adj's ``t = _tape.pop()`` statements: tuples of names (None for a
    target that is not a name) for tuple unpacks, and the set of single names."""
    tuples, singles = [], set()
    for stmt in A.walk_statements(adj.body):
        value = getattr(stmt, "value", None)
        if not (isinstance(stmt, gast.Assign) and isinstance(value, gast.Call)
                and isinstance(value.func, gast.Attribute) and value.func.attr == "pop"
                and isinstance(value.func.value, gast.Name) and value.func.value.id == TAPE):
            continue
        target = stmt.targets[0]
        if isinstance(target, gast.Tuple):
            tuples.append(tuple(t.id if isinstance(t, gast.Name) else None for t in target.elts))
        elif isinstance(target, gast.Name):
            singles.add(target.id)
        else:
            singles.add(None)
    return tuples, singles


def keep_split_tape_shapes(fwd, adj):
    """See the module docstring.  The adjoint reads a pushed value under the name it pops it
    into, which the optimizer may have made differ from the pushed name (``_t12_bar =
    u15_bar`` substituted into the push): an element is kept as its shape only when the
    pop's name at its place is read for its shape alone."""
    names = shape_only_names(adj)
    if not names:
        return fwd
    shape_of = runtime.shape_of
    pushes = list(_tape_pushes(fwd))
    tuples, singles = _pop_targets(adj)
    single_pushes = {p.args[0].id for p in pushes if isinstance(p.args[0], gast.Name)}
    same_single_names = singles <= single_pushes
    for push in pushes:
        entry = push.args[0]
        elts = entry.elts if isinstance(entry, gast.Tuple) else None
        if elts is None:
            if isinstance(entry, gast.Name) and entry.id in names and same_single_names:
                push.args[0] = A.call(A.global_ref(shape_of, "shape_of"), [entry])
            continue
        popped = [t for t in tuples if len(t) == len(elts)]
        for k, elt in enumerate(elts):
            if not (isinstance(elt, gast.Name) and not hasattr(elt, "diffc_global")):
                continue
            if popped and all(t[k] in names for t in popped):
                elts[k] = A.call(A.global_ref(shape_of, "shape_of"), [elt])
    return fwd
