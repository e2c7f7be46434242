"""held_changes: a method changing in place what an attribute of its object holds.

Input: a statement of a method compiled functionally (transform/attribute_writes.py's
rewriter, `functional` set), before desugar: ``self.vals.sort()``, ``self.items.append(v)``,
``self.items.insert(i, v)`` (any of constructors.MUTATORS, its result unused), or
``self.buf[i] = v`` / ``self.buf[i] += v``, where self is a parameter the method hands back
and the attribute holds a value not known to be new (a parameter stored by ``__init__``).
Output (`change_inside_attribute`): the same change made on a local name, the object then
taking the value back, like ``self.a += v``:

    _held = self.vals
    check_attribute_unshared(self, "vals", "file:line")    # no sibling attribute holds it
    _held.sort()                    # desugar lowers it (sort_in_place.py, list_insert.py)
    self = with_attributes(self, {"vals": _held})

The change statement carries ``diffc_synced = {(self, _held)}`` (the object takes the value
back next, so the alias check need not refuse it).  Invariant: Python's sharing is kept or
refused: the caller of the method is told which attributes' values the method updates in
place (`updating_held_values`, ``diffc_writes_held`` on the call), and refuses, when it
runs, any other live name holding one of them (``snap = p.vals`` before ``p.order()``).
Anything else is left to the rewriter (None).
"""

import inspect

import gast

from .. import ast_util as A
from . import argument_effects, constructors, method_values


def change_inside_attribute(rewriter, stmt):
    """The statements making stmt's in-place change explicit (module docstring), or None."""
    if rewriter.functional is None:
        return None
    held, put = _changed_attribute(stmt)
    if held is None or not isinstance(held.value, gast.Name) or held.value.id not in rewriter.handed:
        return None
    cls = rewriter.path_class(held.value, strict=False)
    if cls in (None, constructors.UNKNOWN_CLASS):
        return None
    old = rewriter.namer.fresh("_held")
    read = gast.Attribute(value=A.name(held.value.id), attr=held.attr, ctx=gast.Load())
    target = gast.Attribute(value=A.name(held.value.id), attr=held.attr, ctx=gast.Store())
    put(A.name(old))
    stmt.diffc_synced = {(held.value.id, old)}
    taken = A.assign(old, read)
    taken.diffc_held_value = True       # (transform/list_insert.py: insert into it, checked a list)
    return [taken, method_values.sibling_check(rewriter, target), stmt,
            rewriter.set_attribute(target, A.name(old))]


def _changed_attribute(stmt):
    """(self.a, a function putting a node in its place) for the forms of the module
    docstring, else (None, None)."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        func = stmt.value.func
        if isinstance(func, gast.Attribute) and func.attr in constructors.MUTATORS \
                and isinstance(func.value, gast.Attribute):
            return func.value, lambda node: setattr(func, "value", node)
        return None, None
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
    elif isinstance(stmt, gast.AugAssign):
        target = stmt.target
    else:
        return None, None
    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Attribute):
        return target.value, lambda node: setattr(target, "value", node)
    return None, None


def updating_held_values(fn, objs):
    """(name in objs, attributes) for the objects whose attributes' values the functional
    wrapper fn's function changes in place (argument_effects.updates_held_values):
    analysis/aliases.py reports the names that may share those values (`snap = p.pos`
    before `p.step()`), which Python would change too."""
    plain = getattr(fn, "__wrapped__", None)
    if plain is None:
        return ()
    updated = argument_effects.updates_held_values(plain)
    handed = getattr(fn, "diffc_handed", None)
    if handed is None:                          # a method: its object is the first parameter
        handed = list(inspect.signature(plain).parameters)[:1]
    return tuple((o.id, tuple(sorted(updated[p]))) for o, p in zip(objs, handed)
                 if isinstance(o, gast.Name) and p in updated)
