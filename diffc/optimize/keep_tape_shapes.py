"""keep_tape_shapes: a loop tape keeps an array's shape when the adjoint needs no more.

The adjoint of ``c = a + b`` sums its adjoint back to the shapes of a and b
(``unbroadcast(c_bar, a)``), so reverse.py saves a and b for the adjoint
sweep although only their shapes are read there.  In a loop every iteration's
arrays then stay alive until the adjoint loop has run: memory for nothing,
and on a fresh process's heap page faults on every call (an RNN of 50 steps:
422 faults and 2.43 ms per gradient, 124 and 1.94 ms keeping shapes).

Input: a generated FunctionDef after use_loop_tapes (top-level loops record one
tuple per iteration with ``T.append((e1, ..., en))`` and their adjoint loop
unpacks ``for t1, ..., tn in reversed(T)``).
Output: the same function where an element ek becomes ``shape_of(ek)`` when,
in the adjoint loop's body and in every statement after it, the name tk is
read only as the second argument of ``unbroadcast`` (or as what the scatter-add's
adjoint reads for its shape, `shape_reads.scatter_shape_read`).  ``runtime.shape_of``
keeps an ndarray's ``.shape`` in a small object with that one attribute
(which is all ``unbroadcast`` reads of it: ``np.shape``) and any other value
as it is, so each such read gives the result it gave before.  The forward
loop's own reads of the name are untouched: only the tape entry changes.
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime
from . import shape_reads


def keep_tape_shapes(fn):
    body = fn.body
    for index, stmt in enumerate(body):
        tape = _reversed_list_loop(stmt)
        if tape is None:
            continue
        appends = [s for s in A.walk_statements(body[:index]) if _appends_to(s, tape)]
        if len(appends) != 1 or not isinstance(stmt.target, gast.Tuple):
            continue
        entry = appends[0].value.args[0]
        targets = stmt.target.elts
        if not isinstance(entry, gast.Tuple) or len(entry.elts) != len(targets):
            continue
        later = [stmt] + body[index + 1:]
        reads = _reads(later)
        for k, target in enumerate(targets):
            if isinstance(target, gast.Name) and _only_shape_read(reads.get(target.id, [])) \
                    and not _is_shape_of(entry.elts[k]):
                entry.elts[k] = A.call(A.global_ref(runtime.shape_of, "shape_of"), [entry.elts[k]])
    return fn


def _reversed_list_loop(stmt):
    """T for `for ... in reversed(T)`, else None."""
    if not isinstance(stmt, gast.For):
        return None
    it = stmt.iter
    if isinstance(it, gast.Call) and _is(it.func, builtins.reversed) and len(it.args) == 1 \
            and isinstance(it.args[0], gast.Name):
        return it.args[0].id
    return None


def _appends_to(stmt, tape):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
        and isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "append" \
        and isinstance(stmt.value.func.value, gast.Name) and stmt.value.func.value.id == tape \
        and len(stmt.value.args) == 1


def _is(func, obj):
    return isinstance(func, gast.Name) and getattr(func, "diffc_global", None) is obj


def _is_shape_of(node):
    return isinstance(node, gast.Call) and _is(node.func, runtime.shape_of)


def _reads(stmts):
    """{name: [(load, its parent)...]} for the loads in stmts (the adjoint loop's body
    onwards), read once for all the loop's tape entries."""
    parents = {}
    for stmt in stmts:
        for node in A.walk(stmt):
            for child in gast.iter_child_nodes(node):
                parents[child] = node
    out = {}
    for stmt in stmts:
        scope = stmt.body if stmt is stmts[0] else [stmt]      # the loop: its body, not its target
        for inner in scope:
            for node in A.walk(inner):
                if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                    out.setdefault(node.id, []).append((node, parents.get(node)))
    return out


def _only_shape_read(reads):
    """Every read of a name (reads: its loads with their parents, `_reads`) is the second
    argument of unbroadcast, and there is at least one."""
    for node, call in reads:
        if not (isinstance(call, gast.Call) and _is(call.func, runtime.unbroadcast)
                and len(call.args) == 2 and call.args[1] is node
                or shape_reads.scatter_shape_read(call, node)):
            return False
    return len(reads) > 0
