"""shared_objects: what sweep.py asks about two names that may hold one object, and the
identity follower that lets the derivative see a write through both.

Input: a sweep's ANF body (transform/sweep.py), before its analyses; an observation of
analysis/aliases.py: a statement writing in place into `written`, which the live name
`observer` may hold too (two items of one container taken apart, an item read back out of
a dict it was stored in...), known only when it runs.
Output of `identity_follower`: the statements around that write which make Python's
sharing explicit: before it ``_same = same_or_unshared(w, observer, line)`` (True when
observer is the very object written, refused as before when it only views or holds it),
after it ``if _same: observer = written`` -- in Python a no-op (one object, one name
more), for the derivative the write seen through observer.  None when the write is left
to sweep.check_aliasing's other answers (a check, a copy, a refusal).
"""

import gast

from .. import ast_util as A
from .. import runtime, runtime_calls, runtime_checks
from . import handed_back


def identity_follower(fn, stmt, observer, written, origin, tested):
    """(check before stmt, follower after it), or None (see the module docstring).  tested:
    what the check compares with observer (written, or the item it was copied from)."""
    if not both_local(fn, observer, written) or not isinstance(origin, gast.Assign):
        return None
    if _iterates(origin.value) or handed_back.user_method_receiver(fn, origin.value) == observer:
        return None
    if isinstance(stmt, gast.Assign) and written in dict(getattr(stmt.value, "diffc_writes_held", ())):
        return None                     # a method updating what obj's attributes hold
    if field_of(origin, observer) or stmt_writes_element_read(stmt, origin, observer, written):
        return None
    if not _written_here(stmt, written) or _part_of(origin, observer, written) \
            or _built_as_container(fn.body, written):
        return None                     # observer may be an item of written, not written
    same = fn.namer.fresh("_same")
    fn.info.add_locals({same})          # a local the adjoint reads (saved for a split adjoint)
    line = A.const(fn.source.file_line(stmt))
    tested = A.name(tested) if isinstance(tested, str) else A.deepcopy(tested)
    check = A.located(A.assign(same, A.call(A.global_ref(runtime_checks.same_or_unshared, "same_or_unshared"),
                                            [tested, A.name(observer), line])), stmt)
    rebind = A.located(gast.If(test=A.name(same), body=[A.assign(observer, A.name(written))], orelse=[]), stmt)
    return check, rebind


def _written_here(stmt, written):
    """stmt writes into written's object itself (an item or an augmented assignment)."""
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript):
        return isinstance(stmt.targets[0].value, gast.Name) and stmt.targets[0].value.id == written
    return bool(getattr(stmt, "diffc_augmented", False))


def _part_of(origin, observer, written):
    """origin is ``observer = written[...]`` or ``observer = written.attr``: observer is read
    out of written (an item of a dict written, say), never written itself."""
    value = origin.value if isinstance(origin, gast.Assign) else None
    return isinstance(value, (gast.Subscript, gast.Attribute)) and isinstance(value.value, gast.Name) \
        and value.value.id == written


_CONTAINER_DISPLAYS = (gast.Dict, gast.List, gast.Set, gast.DictComp, gast.ListComp, gast.SetComp, gast.Tuple)


def _built_as_container(body, name):
    """Some binding of name is a container display (``d = {...}``, ``lst = [...]``)."""
    return any(isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name
               and isinstance(s.value, _CONTAINER_DISPLAYS) for s in A.walk_statements(body))


def stmt_writes_element_read(stmt, origin, observer, written):
    """An item write into written that observer, an element read of it, may not see."""
    return maybe_element_read(origin, observer, written) and isinstance(stmt, gast.Assign) \
        and isinstance(stmt.targets[0], gast.Subscript)


def _iterates(value):
    """`as_sequence(y)`: what `for v in y` iterates over (y itself for lists and arrays)."""
    return isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.as_sequence


def popped_binding(body, name):
    """name is bound to an item popped out of its container (transform/container_pops.py
    reads it at the fresh index ``_pop_key``/``_pop_at``, then removes it)."""
    return any(isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name
               and handed_back.popped_read(s.value) for s in A.walk_statements(body))



def both_local(fn, *names):
    return all(n in fn.info.local_names or n in fn.params for n in names)


def item_origin(body, name):
    """``y[i]`` when the only binding of `name` is ``name = y[i]`` with y and the index's
    names bound once (so y[i] still names the item at a later write); else None."""
    bindings = {}
    for s in A.walk_statements(body):
        if isinstance(s, gast.For):
            for n in A.names_stored(s.target):
                bindings[n] = bindings.get(n, 0) + 2
        elif isinstance(s, gast.Assign):
            for n in A.names_stored(s.targets[0]):
                bindings.setdefault(n, 0)
                bindings[n] += 1
    # `p op= v` updates p's object in place (or rebinds a number, which shares nothing):
    # p still names the item afterwards
    def only_binding(n):
        found = [s for s in A.walk_statements(body) if isinstance(s, gast.Assign)
                 and isinstance(s.targets[0], gast.Name) and s.targets[0].id == n
                 and not getattr(s, "diffc_augmented", False)]
        if len(found) == 1 and handed_back.popped_read(found[0].value):
            return None             # a popped item (container_pops.py): no longer at y[i]
        return found[0].value if len(found) == 1 else None
    value = only_binding(name)
    for _ in range(3):              # `_t = d[k]; p = _t` (the loop variable of d.items())
        if isinstance(value, gast.Name) and bindings.get(value.id, 0) == 1:
            value = only_binding(value.id)
    if not isinstance(value, gast.Subscript):
        return None
    index = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
    names = [value.value] + [i for i in index if isinstance(i, gast.Name)]
    if not all(isinstance(n, gast.Name) and bindings.get(n.id, 0) <= 1 for n in names) \
            or not all(isinstance(i, (gast.Name, gast.Constant)) for i in index):
        return None
    return value


def stores_constants(stmt):
    """An in-place write storing only constants (`t.append(1)`, `t[0] = 0.0`)."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        stored = list(stmt.value.args) + [k.value for k in stmt.value.keywords]
    elif isinstance(stmt, gast.Assign):
        stored = [stmt.value]
    else:
        return False
    return not any(isinstance(n, gast.Name) for v in stored for n in gast.walk(v))


def field_of(origin, observer):
    """origin is `t = get_field(observer, name)`."""
    value = origin.value if isinstance(origin, gast.Assign) else None
    return isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime_calls.get_field \
        and value.args and isinstance(value.args[0], gast.Name) and value.args[0].id == observer


def maybe_element_read(origin, observer, written):
    """origin is `observer = written[i]` with an index that is not a slice."""
    if not (isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Name)
            and origin.targets[0].id == observer):
        return False
    value = origin.value
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
            and value.value.id == written):
        return False
    index = value.slice
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return all(isinstance(p, gast.Name) or isinstance(p, gast.Constant) and type(p.value) is int
               for p in parts)


