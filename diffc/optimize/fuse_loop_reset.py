"""fuse_loop_reset: an adjoint reset at the end of a loop body is not added to again.

Input: a generated FunctionDef, after dead code elimination and forward
substitution (markers resolved), with loops whose body starts using an
adjoint ``b`` with ``b += e`` (``e`` fresh and not reading ``b``; at the
body's top level, or in an ``if`` there whose test and earlier statements do
not mention ``b``), whose last mention of ``b`` in the body is the reset
``b = 0.0``, and that are entered with ``b = 0.0`` (the last statement
before the loop in the same block that mentions ``b``).  The body has no
``break``/``continue`` and a ``while`` test does not read ``b``.
Output: that ``b += e`` becomes ``b = e`` (``b -= e``: ``b = -e``): ``b``
is 0.0 at the top of every iteration, so adding to it only copies.  The
now-dead reset and initialisation are left for dead code elimination.  No
statement computes anything else; one array operation per iteration is saved.
"""

import gast

from .. import ast_util as A
from .aliasing import is_fresh
from .rewriting import mentioned_names, is_const


def _is_zero_assign(stmt, name):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
        and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == name \
        and is_const(stmt.value, 0.0) and not isinstance(stmt.value.value, bool)


def _has_jump(stmts):
    return any(isinstance(s, (gast.Break, gast.Continue)) for s in A.walk_statements(stmts))


def fuse_loop_reset(fn):
    """See the module docstring."""
    def block(stmts):
        for s in stmts:
            for inner in A.child_blocks(s):
                block(inner)
        for i, loop in enumerate(stmts):
            if not isinstance(loop, (gast.For, gast.While)) or loop.orelse or _has_jump(loop.body):
                continue
            header = A.names_loaded(loop.test if isinstance(loop, gast.While) else loop.iter)
            for j, top in enumerate(loop.body):
                s, where, k = _first_accumulation(top)
                if s is None:
                    continue
                b = s.target.id
                if b in header or b in A.names_loaded(s.value) or not is_fresh(s.value):
                    continue
                if any(b in mentioned_names(t) for t in loop.body[:j]):
                    continue
                last = [t for t in loop.body if b in mentioned_names(t)][-1]
                if not _is_zero_assign(last, b):
                    continue
                before = [t for t in stmts[:i] if b in mentioned_names(t)]
                if not before or not _is_zero_assign(before[-1], b):
                    continue
                value = s.value if isinstance(s.op, gast.Add) else gast.UnaryOp(op=gast.USub(), operand=s.value)
                new = A.located(A.assign(b, value), s)
                for attr in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                    if hasattr(s, attr):
                        setattr(new, attr, getattr(s, attr))
                if where is None:
                    loop.body[j] = new
                else:
                    where[k] = new
    block(fn.body)
    return fn


def _first_accumulation(stmt):
    """(b += e statement, the block holding it or None, its index) for a top-level
    statement of a loop body: the statement itself, or the first statement of an
    ``if`` body (``if nonzero(g): b += e``) whose test and earlier statements do
    not mention b, so b holds what it held before the ``if``.  (None, None, None)
    otherwise."""
    def accumulates(s):
        return isinstance(s, gast.AugAssign) and isinstance(s.op, (gast.Add, gast.Sub)) \
            and isinstance(s.target, gast.Name)
    if accumulates(stmt):
        return stmt, None, None
    if isinstance(stmt, gast.If):
        seen = mentioned_names(stmt.test)
        for k, inner in enumerate(stmt.body):
            if accumulates(inner) and inner.target.id not in seen:
                return inner, stmt.body, k
            seen |= mentioned_names(inner)
    return None, None, None
