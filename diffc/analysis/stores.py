"""stores: which object a call calls, and which names a statement rebinds or changes.

Rule-independent analysis shared by the front end's `hoist_invariants` and the
optimizer (public names, no rewriting here):

* `resolve_chain(node)`: the module-level object a global name or an attribute
  chain on one names (``np.linalg.norm``), from the `diffc_global` annotations;
  None for anything else.
* `method_name(call)`: the method a call calls on a local value, else None.
* `called_object(call)`: what a call calls, keyed the way the rule registry and
  `effects` key it: that object for a global name or chain, ``("method", name)``
  for a method of a local value, None for a local function value.
* `stored_names(stmt, is_pure_call)`: the names a statement (re)binds or may
  change in place -- assignment and loop targets, the container of an item
  write, and the receiver and name arguments of every call `is_pure_call`
  (a predicate on call nodes, e.g. `rules.is_pure_call`) does not clear.
"""

import gast

from .. import ast_util as A


def resolve_chain(node):
    """The object a global name or an attribute chain on one names, else None."""
    if isinstance(node, gast.Name):
        return getattr(node, "diffc_global", None)
    if isinstance(node, gast.Attribute):
        base = resolve_chain(node.value)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def method_name(call):
    """The name of the method a call calls on a local value (``lst.pop()``), else None."""
    func = call.func
    base = func
    while isinstance(base, gast.Attribute):
        base = base.value
    if isinstance(func, gast.Attribute) and not (isinstance(base, gast.Name) and hasattr(base, "diffc_global")):
        return func.attr
    return None


def called_object(call):
    """The object a call calls (registry key), ("method", name), or None."""
    func = call.func
    if isinstance(func, gast.Name) and hasattr(func, "diffc_global"):
        return func.diffc_global
    method = method_name(call)
    if method is not None:
        return ("method", method)
    if isinstance(func, gast.Attribute):
        obj = getattr(func, "diffc_resolved", None)
        return obj if obj is not None else resolve_chain(func)
    return None


def stored_names(stmt, is_pure_call):
    """Names a statement (re)binds or mutates in place; a call for which
    is_pure_call(call) is false may change its receiver and its name arguments
    (a push on the tape, ``_tape.append(v)``, changes only the tape)."""
    out = set()
    for s in A.walk_statements([stmt]):
        if isinstance(s, gast.Assign):
            for t in s.targets:
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name):
                    out.add(t.value.id)
                out |= A.names_stored(t)
        elif isinstance(s, gast.AugAssign):
            out |= A.names_stored(s.target)
            if isinstance(s.target, gast.Subscript) and isinstance(s.target.value, gast.Name):
                out.add(s.target.value.id)
        elif isinstance(s, gast.For):
            out |= A.names_stored(s.target)
        if isinstance(s, (gast.Assign, gast.AugAssign, gast.Expr)):
            for n in A.walk(s):
                if isinstance(n, gast.Call) and not is_pure_call(n):
                    if isinstance(n.func, gast.Attribute) and isinstance(n.func.value, gast.Name):
                        out.add(n.func.value.id)
                        if n.func.value.id == "_tape":
                            continue          # pushing a value does not change it
                    out |= {a.id for a in n.args if isinstance(a, gast.Name)}
    return out
