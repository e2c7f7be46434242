"""fuse_scatter_writes: ``t = scatter_added(y, i, v); y[...] = t`` is ``np.add.at(y, i, v)`` again.

transform/anf.py writes the user's ``np.add.at(y, i, v)`` (``np.subtract.at``) as
``t = scatter_added(y, i, v)`` then ``y[...] = t`` (runtime_scatter.py: ufunc.at on a copy
of y), so the scatter-add is one differentiable value.  Where no derivative flows
through it (a histogram of counts, an array no output depends on), nothing reads t but
the write, and the copy of y is work for nothing: a copy of the whole array per call.

Input: a generated FunctionDef after the other optimizations (not run on code compiled to
be differentiated again).
Output: the same function where such a pair of statements, next to each other in one
block, y a name and t a name read nowhere else in the function, is the one statement
``np.add.at(y, i, v)`` (``np.subtract.at``, ``np.multiply.at``); so is ``y[...] = scatter_added(y, i, v)``
(t propagated into the write).  The values are the same: copying y, adding
at i and writing the copy back into y is what ufunc.at does in y itself (v and i are
evaluated before, as in the user's call).
"""

import gast
import numpy as np

from .. import ast_util as A
from .. import runtime_scatter

_UFUNCS = {runtime_scatter.scatter_added: (np.add, "add"), runtime_scatter.scatter_subtracted: (np.subtract,
                                                                                                 "subtract"),
           runtime_scatter.scatter_multiplied: (np.multiply, "multiply")}


def fuse_scatter_writes(fn):
    loads = {}
    for node in A.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            loads[node.id] = loads.get(node.id, 0) + 1
    for node in A.walk(fn):
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], gast.stmt):
                setattr(node, field, _fused(stmts, loads))
    return fn


def _fused(stmts, loads):
    out = []
    k = 0
    while k < len(stmts):
        stmt = stmts[k]
        nxt = stmts[k + 1] if k + 1 < len(stmts) else None
        ufunc = _scatter(stmt)
        if ufunc is not None and nxt is not None and _writes_back(nxt, stmt) \
                and loads.get(stmt.targets[0].id) == 1:
            out.append(_ufunc_at(ufunc, stmt))
            k += 2
            continue
        direct = _scatter_written(stmt)
        out.append(_ufunc_at(direct, stmt) if direct is not None else stmt)
        k += 1
    return out


def _ufunc_at(ufunc, stmt):
    _, name = ufunc
    at = A.attr(A.attr(A.global_ref(np, "np"), name), "at")
    return gast.copy_location(A.expr_stmt(A.call(at, list(stmt.value.args))), stmt)


def _scatter_written(stmt):
    """(ufunc, name) for ``y[...] = scatter_added(y, i, v)`` (t propagated), else None."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, gast.Call)
            and isinstance(stmt.value.func, gast.Name)):
        return None
    call = stmt.value
    found = _UFUNCS.get(getattr(call.func, "diffc_global", None))
    if found is None or len(call.args) != 3 or call.keywords or not isinstance(call.args[0], gast.Name):
        return None
    return found if _whole_write_of(stmt.targets[0], call.args[0].id) else None


def _whole_write_of(target, y):
    return isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) and target.value.id == y \
        and isinstance(target.slice, gast.Constant) and target.slice.value is Ellipsis


def _scatter(stmt):
    """(ufunc, name) for ``t = scatter_added(y, i, v)`` (t and y names), else None."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)
            and isinstance(stmt.value, gast.Call) and isinstance(stmt.value.func, gast.Name)):
        return None
    call = stmt.value
    found = _UFUNCS.get(getattr(call.func, "diffc_global", None))
    if found is None or len(call.args) != 3 or call.keywords or not isinstance(call.args[0], gast.Name):
        return None
    return found


def _writes_back(stmt, scatter):
    """stmt is ``y[...] = t`` for scatter ``t = scatter_added(y, ...)``."""
    y, t = scatter.value.args[0].id, scatter.targets[0].id
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and _whole_write_of(stmt.targets[0], y) \
        and isinstance(stmt.value, gast.Name) and stmt.value.id == t
