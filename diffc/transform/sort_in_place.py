"""sort_in_place: ``y.sort()`` as a write of the sorted values into y.

Input: a function body (desugar, before comprehensions and loops are lowered; after
list_insert.py, which already rewrites the sorts of lists the function builds).
Output: each statement ``y.sort(...)`` on a name y becomes

    _sort_kind = sort_kind(y, "any", line)    # 0: a NumPy array, 1: a list; refuses, when
    if _sort_kind == 0:                       # it runs, any other object (its own sort)
        y[:] = np.sort(y, axis=a, kind=k)         # y.sort(a) / y.sort(axis=a, kind=k)
    else:
        y[:] = sorted(y, key=f, reverse=r)        # lst.sort(key=f, reverse=r)

(only the branch the call's arguments allow when they name one kind), which is what
Python does: the same object, holding its values in sorted order.  The derivative then
follows the permutation through np.sort's and sorted's rules, in both modes and at any
order (the primal copies diffc emits carry the rewritten form), and every name sharing y
sees the write as it sees any other item write.  ``order=`` and starred arguments are left
as written (refused when they matter).
"""

import builtins

import gast
import numpy as np

from .. import ast_util as A
from .. import runtime_pure

_ARRAY_KEYWORDS = {"axis", "kind"}
_LIST_KEYWORDS = {"key", "reverse"}


def lower_sorts(body, info, namer):
    """body with the in-place sorts rewritten (module docstring)."""
    if not any(isinstance(n, gast.Attribute) and n.attr == "sort" for s in body for n in gast.walk(s)):
        return body
    return _lower(body, namer, info)


def _lower(stmts, namer, info):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _lower(inner, namer, info))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _lower(handler.body, namer, info)
        call = _sort_of(stmt)
        if call is None:
            out.append(stmt)
        else:
            lowered = A.located_all(_expanded(call, namer, info.source.file_line(stmt)), stmt)
            for s in A.walk_statements(lowered):
                # (transform/held_changes.py: an attribute's value, taken back right after)
                s.diffc_synced = set(getattr(stmt, "diffc_synced", ())) | set(getattr(s, "diffc_synced", ()))
            out.extend(lowered)
    return out


def _sort_of(stmt):
    call = stmt.value if isinstance(stmt, gast.Expr) else None
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "sort"
            and isinstance(call.func.value, gast.Name) and not hasattr(call.func.value, "diffc_global")):
        return None
    if len(call.args) > 1 or any(isinstance(a, gast.Starred) for a in call.args):
        return None
    words = {k.arg for k in call.keywords}
    if None in words or not words <= _ARRAY_KEYWORDS | _LIST_KEYWORDS:
        return None                         # order=..., **kw
    if words & _ARRAY_KEYWORDS and (words & _LIST_KEYWORDS):
        return None
    return call


def _expanded(call, namer, line):
    y = call.func.value.id
    words = {k.arg for k in call.keywords}
    kind = namer.fresh("_sort_kind")
    whole = gast.Slice(lower=None, upper=None, step=None)
    axis = [gast.keyword(arg="axis", value=a) for a in call.args]
    as_array = A.call(A.global_ref(np.sort, "np_sort"), [A.name(y)],
                      axis + [gast.keyword(arg=k.arg, value=k.value) for k in call.keywords
                              if k.arg in _ARRAY_KEYWORDS])
    as_list = A.call(A.global_ref(builtins.sorted, "sorted"), [A.name(y)],
                     [gast.keyword(arg=k.arg, value=A.deepcopy(k.value)) for k in call.keywords
                      if k.arg in _LIST_KEYWORDS])
    array_write = A.assign(A.subscript(A.name(y), whole, gast.Store()), as_array)
    list_write = A.assign(A.subscript(A.name(y), A.deepcopy(whole), gast.Store()), as_list)
    wanted = "array" if call.args or words & _ARRAY_KEYWORDS else "list" if words & _LIST_KEYWORDS else "any"
    check = A.assign(kind, A.call(A.global_ref(runtime_pure.sort_kind, "sort_kind"),
                                  [A.name(y), A.const(wanted), A.const(line)]))
    if wanted == "array":
        return [check, array_write]
    if wanted == "list":
        return [check, list_write]
    test = gast.Compare(left=A.name(kind), ops=[gast.Eq()], comparators=[A.const(0)])
    return [check, gast.If(test=test, body=[array_write], orelse=[list_write])]
