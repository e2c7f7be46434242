"""library_mutations: library calls that write into an array in place, refused where a
derivative would flow through them.

Input: an ANF call statement of a function being swept (transform/sweep.py's
FunctionSweep: its info, activity and `fail`).  Output: `library_mutation` names the
local the call writes into (``np.add.at(y, ...)``, ``np.put(y, ...)``,
``rng.shuffle(y)``, ``y.put(...)``) or None; `refuse_library_mutation` raises
UnsupportedSyntax at the line when that local carries or receives a derivative (the
ufunc.at calls diffc differentiates are rewritten before this)."""

import gast

from ..analysis.calls import call_key
from ..errors import UnsupportedSyntax
from ..parse import MISSING

_MUTATING_NUMPY = ("put", "place", "putmask", "fill_diagonal", "copyto", "put_along_axis")
_MUTATING_ARRAY_METHODS = {"put", "itemset", "resize", "partition", "setfield", "shuffle", "sort"}


def library_mutation(info, call):
    """The local a library call writes into in place (`np.add.at(y, ...)`, `np.put(y, ...)`,
    `rng.shuffle(y)`, `y.put(...)`), else None."""
    import numpy as np
    func = call.func
    key, args = call_key(info, call)
    if key is None and isinstance(func, gast.Attribute):
        owner = info.resolve_static(func.value)           # np.add.at: a method of a ufunc
        key = getattr(owner, func.attr, None) if owner is not MISSING else None
    first = call.args[0] if call.args else None
    if isinstance(key, tuple) and key[0] == "method":
        owner = args[0]
        if key[1] == "at" and isinstance(owner, gast.Name) and isinstance(
                getattr(owner, "diffc_global", None), np.ufunc):
            return first.id if isinstance(first, gast.Name) else None          # np.add.at(y, i, v)
        if key[1] == "shuffle" and isinstance(first, gast.Name):
            return first.id                                                     # rng.shuffle(y)
        if key[1] in _MUTATING_ARRAY_METHODS and isinstance(owner, gast.Name) \
                and not hasattr(owner, "diffc_global") and isinstance(func, gast.Attribute):
            return owner.id                                                     # y.put(i, v)
        return None
    owner = getattr(key, "__self__", None)
    bound_name = getattr(key, "__name__", None) if owner is not None else None
    if any(key is getattr(np, n, None) for n in _MUTATING_NUMPY) or \
            (isinstance(owner, np.ufunc) and bound_name == "at") or bound_name == "shuffle":
        return first.id if isinstance(first, gast.Name) and not hasattr(first, "diffc_global") else None
    return None


def refuse_library_mutation(fn, call, stmt):
    """A library call writing into an array that carries (or receives) a derivative: refused."""
    if getattr(call, "diffc_writes_elsewhere", False) and any(
            isinstance(a, gast.Name) and a.id in fn.activity.varied for a in call.args):
        fn.fail(UnsupportedSyntax, "this ufunc.at call writes into an attribute, an item or a "
                "module-level array, which diffc does not follow", stmt,
                hint="scatter-add into a local array and assign it: g = np.zeros(n); "
                     "np.add.at(g, index, v); self.g = self.g + g")
    written = library_mutation(fn.info, call)
    if written is None:
        return
    involved = {written} | {a.id for a in call.args if isinstance(a, gast.Name)} | \
        {k.value.id for k in call.keywords if isinstance(k.value, gast.Name)}
    activity = fn.activity
    if written in activity.useful and any(n in activity.varied for n in involved):
        at = isinstance(call.func, gast.Attribute) and call.func.attr == "at"
        fn.fail(UnsupportedSyntax, f"this call writes into {written!r} in place, which diffc cannot "
                "differentiate", stmt,
                hint="diffc differentiates the ufunc.at of np.add, np.subtract and np.multiply only; write this one as "
                     f"a loop ({written}[i] = {written}[i] * v[k], ...)" if at else
                     "compute a new array and assign it")
