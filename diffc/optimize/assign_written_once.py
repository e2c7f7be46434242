"""assign_written_once: an adjoint element written once per loop is assigned, not added.

The adjoint of reading ``c[i]`` in ``for i in range(n)`` adds into one
element of a zero buffer per iteration, ``c_bar[i] += g``: a read of the
element, an addition and a write, about 4x the cost of the write alone on a
NumPy array.  When each element is reached at most once, and only from zero,
the addition is the identity.

Input: a generated FunctionDef, before use_loop_tapes (adjoint loops still
iterate ``reversed(range(...))``).
Output: the same function where ``B[i] += g`` becomes ``B[i] = g``, for a
top-level statement of the body of a top-level loop
``for i in reversed(range(stop))`` (one argument: the indices are distinct
and not negative, so no two iterations touch the same element), when
  * ``B = zeros_like(...)`` is a statement of the function body before the
    loop and no statement in between mentions B (it is zero at the loop);
  * the statement is the only one in the loop that mentions B, and nothing
    before it in the body rebinds ``i``.
``0.0 + g == g`` for every g but ``-0.0`` (which becomes ``0.0`` either way
in the sum the caller sees: the same values).  Only outside differentiable
mode (the in-place write is not a rule the adjoint of an adjoint knows).
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime


def assign_written_once(fn):
    body = fn.body
    for index, loop in enumerate(body):
        i = _reversed_range_index(loop)
        if i is None:
            continue
        for stmt in loop.body:
            buffer = _accumulated_element(stmt, i)
            if buffer is None or _rebinds_before(loop.body, stmt, i):
                continue
            if _mentions(loop.body, buffer) != 1 or not _zero_until(body[:index], buffer):
                continue
            new = gast.Assign(targets=[stmt.target], value=stmt.value, type_comment=None)
            loop.body[loop.body.index(stmt)] = A.located(new, stmt)
    return fn


def _reversed_range_index(loop):
    """i for `for i in reversed(range(stop))`, else None."""
    if not (isinstance(loop, gast.For) and isinstance(loop.target, gast.Name)):
        return None
    outer = loop.iter
    if not (_is_call_to(outer, builtins.reversed) and len(outer.args) == 1):
        return None
    inner = outer.args[0]
    if _is_call_to(inner, builtins.range) and len(inner.args) == 1 and not inner.keywords:
        return loop.target.id
    return None


def _is_call_to(node, obj):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
        and getattr(node.func, "diffc_global", None) is obj


def _accumulated_element(stmt, i):
    """B for `B[i] += g` (B a plain name), else None."""
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add) \
            and isinstance(stmt.target, gast.Subscript) and isinstance(stmt.target.value, gast.Name) \
            and isinstance(stmt.target.slice, gast.Name) and stmt.target.slice.id == i:
        return stmt.target.value.id
    return None


def _rebinds_before(stmts, stmt, name):
    for s in stmts:
        if s is stmt:
            return False
        for inner in A.walk_statements([s]):
            if isinstance(inner, gast.Assign) and any(name in A.names_stored(t) for t in inner.targets):
                return True
            if isinstance(inner, (gast.AugAssign, gast.For)) and name in A.names_stored(inner.target):
                return True
    return False


def _mentions(stmts, name):
    return sum(1 for s in stmts for n in A.walk(s) if isinstance(n, gast.Name) and n.id == name)


def _zero_until(stmts, buffer):
    """B = zeros_like(...) among stmts, and no later statement of them mentions B."""
    for k in range(len(stmts) - 1, -1, -1):
        s = stmts[k]
        if isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name) \
                and s.targets[0].id == buffer:
            return _is_call_to(s.value, runtime.zeros_like) and _mentions([s.value], buffer) == 0
        if _mentions([s], buffer):
            return False
    return False
