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


def keep_split_tape_shapes(fwd, adj):
    """See the module docstring."""
    names = shape_only_names(adj)
    if not names:
        return fwd
    shape_of = runtime.shape_of
    for push in _tape_pushes(fwd):
        entry = push.args[0]
        elts = entry.elts if isinstance(entry, gast.Tuple) else None
        if elts is None:
            if isinstance(entry, gast.Name) and entry.id in names:
                push.args[0] = A.call(A.global_ref(shape_of, "shape_of"), [entry])
            continue
        for k, elt in enumerate(elts):
            if isinstance(elt, gast.Name) and elt.id in names and not hasattr(elt, "diffc_global"):
                elts[k] = A.call(A.global_ref(shape_of, "shape_of"), [elt])
    return fwd
