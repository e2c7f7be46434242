"""accumulate: cheaper adjoint accumulation in loops and around in-place writes.

Two passes on a generated FunctionDef (after dead code elimination and
forward substitution; markers resolved).  Neither changes what any
statement computes, only how many array operations it takes.

`fuse_loop_reset`
    Input: loops whose body starts using an adjoint ``b`` with ``b += e``
    (``e`` fresh and not reading ``b``), whose last mention of ``b`` in the
    body is the reset ``b = 0.0``, and that are entered with ``b = 0.0``
    (the last statement before the loop in the same block that mentions
    ``b``).  The body has no ``break``/``continue`` and a ``while`` test does
    not read ``b``.
    Output: that ``b += e`` becomes ``b = e`` (``b -= e``: ``b = -e``): ``b``
    is 0.0 at the top of every iteration, so adding to it only copies.  The
    now-dead reset and initialisation are left for dead code elimination.

`keep_taken_item`
    Input: ``b = take_item(y_bar, S)`` (read ``y_bar[S]``, zero it there: the
    adjoint of ``y[S] = v``) followed in the same block by ``y_bar[S] += b``
    (the adjoint of reading ``y[S]`` on the right of the same write, as in
    ``u[1:-1] = u[1:-1] + ...``), where every statement in between touches
    ``y_bar`` (or a name that may alias it) only as ``y_bar[...] += e`` /
    ``-= e`` / ``y_bar += e`` with ``e`` not reading it, and rebinds or
    mutates neither ``b`` (nor an alias of it) nor a name in ``S``.
    Output: ``b = copy_value(y_bar[S])`` and no ``y_bar[S] += b``.
    Accumulations commute, so ``y_bar`` ends with the same value; ``b`` holds
    the same value; two array operations (zero fill, add back) are saved.
"""

import gast

from .. import ast_util as A
from .. import runtime
from ..transform.reverse import index_value, rt
from .dce import stored_names
from .restores import _aliases
from .simplify import _fresh, _is_const


def _mentions(stmt):
    return {n.id for n in A.walk(stmt) if isinstance(n, gast.Name)}


def _is_zero_assign(stmt, name):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
        and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id == name \
        and _is_const(stmt.value, 0.0) and not isinstance(stmt.value.value, bool)


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
            for j, s in enumerate(loop.body):
                if not (isinstance(s, gast.AugAssign) and isinstance(s.op, (gast.Add, gast.Sub))
                        and isinstance(s.target, gast.Name)):
                    continue
                b = s.target.id
                if b in header or b in A.names_loaded(s.value) or not _fresh(s.value):
                    continue
                if any(b in _mentions(t) for t in loop.body[:j]):
                    continue
                last = [t for t in loop.body if b in _mentions(t)][-1]
                if not _is_zero_assign(last, b):
                    continue
                before = [t for t in stmts[:i] if b in _mentions(t)]
                if not before or not _is_zero_assign(before[-1], b):
                    continue
                value = s.value if isinstance(s.op, gast.Add) else gast.UnaryOp(op=gast.USub(), operand=s.value)
                new = A.located(A.assign(b, value), s)
                for k in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                    if hasattr(s, k):
                        setattr(new, k, getattr(s, k))
                loop.body[j] = new
    block(fn.body)
    return fn


def _is_take_item(value):
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
        and getattr(value.func, "diffc_global", None) is runtime.take_item \
        and len(value.args) == 2 and not value.keywords and isinstance(value.args[0], gast.Name)


def _accumulates_only(stmt, bars):
    """stmt touches the names in ``bars`` only by in-place accumulation into them."""
    if not (_mentions(stmt) & bars):
        return True
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)):
        target = stmt.target
        base = target.value if isinstance(target, gast.Subscript) else target
        if isinstance(base, gast.Name) and base.id in bars and not (_mentions(stmt.value) & bars):
            return not (isinstance(target, gast.Subscript) and _mentions(target.slice) & bars)
        return False
    if isinstance(stmt, (gast.If, gast.For, gast.While)):
        header = stmt.test if isinstance(stmt, (gast.If, gast.While)) else stmt.iter
        if _mentions(header) & bars:
            return False
        if isinstance(stmt, gast.For) and A.names_stored(stmt.target) & bars:
            return False
        return all(_accumulates_only(s, bars) for s in stmt.body + stmt.orelse)
    return False


def _plain_rebinds(stmt, b):
    """Names stmt binds to a new object without mutating the old one (``b`` excluded)."""
    out = set()
    for s in A.walk_statements([stmt]):
        if isinstance(s, gast.Assign):
            out |= {t.id for t in s.targets if isinstance(t, gast.Name)}
    return out - {b}


def keep_taken_item(fn):
    """See the module docstring."""
    everything = list(A.walk_statements(fn.body))
    alias_cache = {}

    def aliases(name):
        if name not in alias_cache:
            alias_cache[name] = _aliases(name, everything)
        return alias_cache[name]

    def block(stmts):
        for s in stmts:
            for inner in A.child_blocks(s):
                block(inner)
        for i, s in enumerate(stmts):
            if not (isinstance(s, gast.Assign) and len(s.targets) == 1
                    and isinstance(s.targets[0], gast.Name) and _is_take_item(s.value)):
                continue
            b, bar, index = s.targets[0].id, s.value.args[0].id, s.value.args[1]
            bars, taken = aliases(bar), aliases(b)
            if bars is None or taken is None or b in bars:
                continue
            fixed = A.names_loaded(index) | taken
            key = gast.dump(index)
            for j in range(i + 1, len(stmts)):
                later = stmts[j]
                if isinstance(later, gast.AugAssign) and isinstance(later.op, gast.Add) \
                        and isinstance(later.target, gast.Subscript) \
                        and isinstance(later.target.value, gast.Name) and later.target.value.id == bar \
                        and isinstance(later.value, gast.Name) and later.value.id == b \
                        and gast.dump(index_value(A.deepcopy(later.target.slice))) == key:
                    s.value = A.call(rt(runtime.copy_value),
                                     [A.subscript(A.name(bar), A.deepcopy(later.target.slice))])
                    del stmts[j]
                    break
                if (stored_names(later) - _plain_rebinds(later, b)) & fixed \
                        or not _accumulates_only(later, bars):
                    break
    block(fn.body)
    return fn
