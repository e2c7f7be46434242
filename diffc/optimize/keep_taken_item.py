"""keep_taken_item: an entry taken from an adjoint and added back unread is only copied.

Input: a generated FunctionDef, after dead code elimination and forward
substitution (markers resolved), with ``b = take_item(y_bar, S)`` (read
``y_bar[S]``, zero it there: the adjoint of ``y[S] = v``) followed in the
same block by ``y_bar[S] += b`` (the adjoint of reading ``y[S]`` on the right
of the same write, as in ``u[1:-1] = u[1:-1] + ...``; or ``y_bar[S] += c``
with ``c`` bound once, in between, by ``c = b`` or a chain of such), where
every statement in between touches ``y_bar`` (or a name that may alias it)
only as ``y_bar[...] += e`` / ``-= e`` / ``y_bar += e`` with ``e`` not
reading it, and rebinds or mutates neither ``b`` (nor an alias of it) nor a
name in ``S``.
Output: ``b = copy_value(y_bar[S])`` and no ``y_bar[S] += b``.
Accumulations commute, so ``y_bar`` ends with the same value; ``b`` holds
the same value; two array operations (zero fill, add back) are saved.
"""

import gast

from .. import ast_util as A
from .. import runtime
from ..transform.reverse import index_value, rt
from .aliasing import aliased_names
from .purity import stored_names
from .rewriting import mentioned_names


def _is_take_item(value):
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
        and getattr(value.func, "diffc_global", None) is runtime.take_item \
        and len(value.args) == 2 and not value.keywords and isinstance(value.args[0], gast.Name)


def _accumulates_only(stmt, bars):
    """stmt touches the names in ``bars`` only by in-place accumulation into them."""
    if not (mentioned_names(stmt) & bars):
        return True
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)):
        target = stmt.target
        base = target.value if isinstance(target, gast.Subscript) else target
        if isinstance(base, gast.Name) and base.id in bars and not (mentioned_names(stmt.value) & bars):
            return not (isinstance(target, gast.Subscript) and mentioned_names(target.slice) & bars)
        return False
    if isinstance(stmt, (gast.If, gast.For, gast.While)):
        header = stmt.test if isinstance(stmt, (gast.If, gast.While)) else stmt.iter
        if mentioned_names(header) & bars:
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
    stores = {}
    for n in A.walk(fn):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            stores[n.id] = stores.get(n.id, 0) + 1

    def aliases(name):
        if name not in alias_cache:
            alias_cache[name] = aliased_names(name, everything)
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
            same = {b}              # b and names bound once, to b itself (``c = b``)
            for j in range(i + 1, len(stmts)):
                later = stmts[j]
                if isinstance(later, gast.AugAssign) and isinstance(later.op, gast.Add) \
                        and isinstance(later.target, gast.Subscript) \
                        and isinstance(later.target.value, gast.Name) and later.target.value.id == bar \
                        and isinstance(later.value, gast.Name) and later.value.id in same \
                        and gast.dump(index_value(A.deepcopy(later.target.slice))) == key:
                    s.value = A.call(rt(runtime.copy_value),
                                     [A.subscript(A.name(bar), A.deepcopy(later.target.slice))])
                    del stmts[j]
                    break
                if (stored_names(later) - _plain_rebinds(later, b)) & fixed \
                        or not _accumulates_only(later, bars):
                    break
                if isinstance(later, gast.Assign) and len(later.targets) == 1 \
                        and isinstance(later.targets[0], gast.Name) and stores.get(later.targets[0].id) == 1 \
                        and isinstance(later.value, gast.Name) and later.value.id in same:
                    same.add(later.targets[0].id)
    block(fn.body)
    return fn
