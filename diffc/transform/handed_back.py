"""handed_back: calls that hand back an object the program already holds, for the alias analysis.

`y = stack.pop()`, `d.get(k)`, `d.setdefault(k, v)`, `d.popitem()`, `next(it)`, `max(ys,
key=f)`: the result is an item of the receiver or of the iterable (or the default given),
not a copy, so a write into y is a write into that item, which other names may hold.

Input: a FunctionSweep (its info, params, kinds) and an ANF call or a name.  Output:
`taken_from_arguments`: {local name: relation} (analysis/aliases.py: PART, TAKEN, MAYBE,
ITEMS) for such calls, None for every other call; `taken_binding`: whether a name is bound
to such an item (there diffc copies the value before a write into it, so a run-time
sharing check of the name would compare the copy: transform/sweep.py refuses instead);
`user_method_receiver`: the receiver of a user method's call, whose result may be the
receiver or what it holds (checked when a write into the result runs).  diffc's own gradient code is left alone: its tapes' pops are restores by design."""

import builtins
import copy

import gast

from .. import ast_util as A
from ..analysis import aliases as aliases_mod
from ..analysis import kinds as K
from ..analysis.activity import MUTATING_METHODS
from ..analysis.calls import call_key
from .. import rules as R


def _local(atom, fn):
    return isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global") \
        and (atom.id in fn.info.local_names or atom.id in fn.params)


def _certainly_container(fn, name):
    """name is certainly a list or a dict the function builds (displays, comprehensions,
    list()/dict() calls), not a parameter (whose .copy() may be an array's, which is new)."""
    body = getattr(fn, "body", None)
    if body is None or name in fn.params:
        return False
    bindings = []
    for s in A.walk_statements(body):
        if isinstance(s, gast.For) and name in A.names_stored(s.target):
            return False
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name:
            bindings.append(s.value)
    return bool(bindings) and all(
        isinstance(v, (gast.List, gast.ListComp, gast.Dict, gast.DictComp))
        or isinstance(v, gast.Call) and getattr(v.func, "diffc_global", None) in (builtins.list, builtins.dict)
        for v in bindings)


def popped_read(value):
    """The read of an item transform/container_pops.py pops right after (index _pop_key/_pop_at)."""
    return isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Name) \
        and value.slice.id.startswith(("_pop_key", "_pop_at"))


def taken_binding(fn, name):
    """name is bound to an object handed back by a call (``y = stack.pop()``,
    `taken_from_arguments`) or read at a position that moves on (``y = it[pos]`` with pos
    assigned again: transform/explicit_iterators.py's ``next``): that binding is where diffc
    copies the value (forward_value), and the item cannot be named again later, so a check
    of name would see the copy."""
    assigned = {}
    for s in A.walk_statements(fn.body):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            assigned[s.targets[0].id] = assigned.get(s.targets[0].id, 0) + 1
    for s in A.walk_statements(fn.body):
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name):
            continue
        if popped_read(s.value) or isinstance(s.value, gast.Call) and taken_from_arguments(fn, s.value):
            return True
        if isinstance(s.value, gast.Subscript) and any(
                isinstance(n, gast.Name) and assigned.get(n.id, 0) > 1 for n in A.walk(s.value.slice)):
            return True
    return False


# Methods handing back an object their receiver holds (``d.get("h")``), or takes out of it
# (``stack.pop()``), or the default the call passes (``d.get(k, v)``): not a copy.
_ITEM_METHODS = {"get", "setdefault", "__getitem__"}
_TAKING_METHODS = {"pop", "popitem", "popleft"}


def taken_from_arguments(fn, call):
    """How the result of a call that hands back an existing object relates to its local
    arguments, or None for other calls: an item taken out of the receiver (TAKEN) for
    _TAKING_METHODS, an item of the receiver (PART) for _ITEM_METHODS and
    of the iterable for ``next`` and for ``max``/``min`` of one iterable; one of the
    arguments (MAYBE) for ``max(a, b)``, a default; ``sorted(xs)`` holds xs's items
    (``max(xs, key=f)`` is ``sorted(xs, key=f, reverse=True)[0]`` by then), and so do
    ``lst.copy()``, ``d.copy()`` and ``copy.copy(lst)`` of lists and dicts built here
    (shallow; an array's ``.copy()`` is new).  (``iter(xs)`` is a list and a position by
    then: transform/explicit_iterators.py.)"""
    S = aliases_mod
    if fn.generated_code():
        return None             # diffc's gradient code: its tapes' pops are restores by design
    key, args = call_key(fn.info, call)
    if isinstance(key, tuple) and key[0] == "method" and key[1] in _ITEM_METHODS | _TAKING_METHODS and args:
        out = {a.id: S.MAYBE for a in args[1:] if _local(a, fn)}
        if _local(args[0], fn):
            out[args[0].id] = S.TAKEN if key[1] in _TAKING_METHODS else S.PART
        return out
    copies = isinstance(key, tuple) and key[0] == "method" and key[1] == "copy" or key is copy.copy
    if copies and args and _local(args[0], fn) and _certainly_container(fn, args[0].id):
        return {args[0].id: S.ITEMS}        # lst.copy(), d.copy(): a new container of the same items
    if key is builtins.sorted and call.args:
        # (of a list or dict built here; a set's items are numbers: sets of arrays are refused)
        return {a.id: S.ITEMS for a in call.args[:1] if _local(a, fn) and _certainly_container(fn, a.id)}
    if key is builtins.next or key in (builtins.max, builtins.min) and len(call.args) == 1:
        out = {a.id: S.MAYBE for a in call.args[1:] + [k.value for k in call.keywords if k.arg == "default"]
               if _local(a, fn)}
        out.update({a.id: S.PART for a in call.args[:1] if _local(a, fn)})
        return out
    if key in (builtins.max, builtins.min):
        return {a.id: S.MAYBE for a in call.args
                if _local(a, fn) and fn.kinds.get(a.id) not in (K.INT, K.SCALAR)}   # (numbers share nothing)
    return None


# array attributes read as methods (`x.T()` is no method call diffc follows)
_ARRAY_ATTRIBUTES = {"T", "mT", "real", "imag", "flat", "base"}


def user_method_receiver(fn, call):
    """The local receiver of a method call with no rule of diffc's (not an array's, list's or
    dict's method, nor diffc's own code): a user method, which may hand back its object or
    an array the object holds (``return self.data``; a with statement's ``__enter__``).
    Whether it does is known when it runs (a sharing check before a write), else None."""
    if not isinstance(call, gast.Call) or fn.generated_code():
        return None
    key, args = call_key(fn.info, call)
    if not (isinstance(key, tuple) and key[0] == "method" and args and _local(args[0], fn)):
        return None
    if R.has_rule(key) or key[1] in _ARRAY_ATTRIBUTES or key[1] in MUTATING_METHODS \
            or K.is_array(fn.kinds.get(args[0].id)) or fn.kinds.get(args[0].id) in (K.SCALAR, K.INT, K.INTS,
                                                                                 K.SCALARS):
        return None
    return args[0].id
