"""shape_reads: the names an adjoint reads only for their shape or type.

Used by keep_split_tape_shapes.py and recompute_cheap_entries.py (public
name, no pass here): `shape_only_names(adj)` is the set of names every read
of which in adj is an argument that a helper reads only for its shape (the
second argument of ``unbroadcast(g, x)``, the last two of the scatter-add's
``at_gather(g, index, v, a)``, the last of ``at_scatter(w, index, a)``) or for whether a sum concatenated
(the operands of ``head_part(g, a, b)`` / ``tail_part(g, a, b)``), with at
least one such read.
"""

import gast

from .. import ast_util as A
from .. import runtime
from ..rules import indexing


# helper -> positions of the arguments it reads only for their shape or type
_SHAPE_READS = {runtime.unbroadcast: (1,), runtime.head_part: (1, 2), runtime.tail_part: (1, 2),
                indexing.at_gather: (2, 3), indexing.at_scatter: (2,)}


def _helper(call):
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Name):
        return getattr(call.func, "diffc_global", None)
    return None


def shape_only_names(adj):
    """Names every read of which in adj is a shape-only argument (at least one read)."""
    parents = {}
    for node in A.walk(adj):
        for child in gast.iter_child_nodes(node):
            parents[child] = node
    shape_reads, other_reads = set(), set()
    for node in A.walk(adj):
        if not (isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load)):
            continue
        call = parents.get(node)
        positions = _SHAPE_READS.get(_helper(call), ())
        if positions and not call.keywords \
                and any(k < len(call.args) and call.args[k] is node for k in positions):
            shape_reads.add(node.id)
        else:
            other_reads.add(node.id)
    return shape_reads - other_reads


def scatter_shape_read(call, node):
    """Whether node is an argument that the scatter-add's adjoint helpers (rules/indexing.py:
    at_gather, at_scatter) read only for its shape, in call."""
    helper = _helper(call)
    if helper is not indexing.at_gather and helper is not indexing.at_scatter or call.keywords:
        return False
    return any(k < len(call.args) and call.args[k] is node for k in _SHAPE_READS[helper])
