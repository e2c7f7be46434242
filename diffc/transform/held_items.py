"""held_items: an array stored into a list or dict by item assignment is held there.

Input: a FunctionSweep's ANF body (``fn.body``, ``fn.kinds``), before its alias analyses.
Output: the same body, each statement ``c[k] = y`` (y a local name that may hold a mutable
object) marked ``diffc_item_held``: False when c certainly is a list or a dict (c then
holds y's object itself, as after ``c = [y]``: a write through ``c[k]`` changes y, and a
write into y is seen through c), True when c's kind is unknown (it holds y unless it is a
numeric array, which copies y's values: known when it runs, so the sharing is "maybe").
Unmarked when c certainly is a NumPy array (the values are copied) or y a number.
analysis/aliases.py relates c to y by HOLDS at such a statement.

Without this, ``d = {}; d["w"] = w; d["w"][1] = v`` left w's derivative unchanged while
Python changed w (a silently wrong gradient).
"""

import builtins

import gast

from .. import ast_util as A
from ..analysis import kinds as K
from . import reshaped_views


def mark(fn):
    for s in A.walk_statements(fn.body):
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript)
                and isinstance(s.targets[0].value, gast.Name) and isinstance(s.value, gast.Name)
                and not hasattr(s.value, "diffc_global")):
            continue
        container, held = s.targets[0].value.id, s.value.id
        if fn.kinds.get(held) in (K.SCALAR, K.INT, K.INTS) or container == held:
            continue
        if _certainly_container(fn, container):
            s.diffc_item_held = False
        elif not (K.is_array(fn.kinds.get(container)) or fn.kinds.get(container) == K.SCALARS
                  or reshaped_views.certainly_ndarray(fn, container)):
            s.diffc_item_held = True


def _certainly_container(fn, name):
    """Every binding of local name makes a list or a dict (a parameter: not known)."""
    if name in fn.params:
        return False
    values = [s.value for s in A.walk_statements(fn.body) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name]
    if not values or any(isinstance(s, gast.For) and name in A.names_stored(s.target)
                         for s in A.walk_statements(fn.body)):
        return False
    return all(isinstance(v, (gast.List, gast.Dict, gast.ListComp, gast.DictComp))
               or isinstance(v, gast.Call) and getattr(v.func, "diffc_global", None) in (builtins.list, builtins.dict)
               for v in values)
