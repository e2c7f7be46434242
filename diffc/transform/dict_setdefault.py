"""dict_setdefault: ``d.setdefault(k, v)`` on a dict the function builds, as a test and an item.

Input: a function body (desugar, before comprehensions and loops are lowered).
Output: each statement of one of the forms

    d.setdefault(k, v).method(args)      (the grouping idiom: ``.append(x)``)
    name = d.setdefault(k, v)
    d.setdefault(k, v)

where ``d`` is a local variable every binding of which makes a dict (a dict display or
comprehension, ``dict(...)``), becomes

    _k = k; _v = v
    if _k not in d:
        d[_k] = _v
    d[_k].method(args)   /   name = d[_k]   /   (nothing more)

which is what Python does (k and v are evaluated before the call, the item stored is v's
object, and what comes back is the object d holds), in reads and writes of items that the
alias analysis follows like any other (a write into the item is a write into d).  Other
receivers and other places of the call are left as written (the alias analysis treats
the result as an item of d there: transform/sweep.py _held_item_sources).
"""

import builtins

import gast

from .. import ast_util as A


def _dict_valued(value, resolve):
    if isinstance(value, (gast.Dict, gast.DictComp)):
        return True
    if isinstance(value, gast.Call):
        try:
            return resolve(value.func) is builtins.dict
        except Exception:        # a callee diffc cannot resolve statically is not dict()
            return False
    return False


def local_dicts(fn_node, resolve):
    """Local names (not parameters) every binding of which makes a dict."""
    stores, accepted = {}, {}
    for node in gast.walk(fn_node):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name) \
                and _dict_valued(node.value, resolve):
            accepted[node.targets[0].id] = accepted.get(node.targets[0].id, 0) + 1
    args = fn_node.args
    params = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs if isinstance(a, gast.Name)}
    return {n for n, k in stores.items() if accepted.get(n) == k and n not in params}


def _setdefault_call(node, dicts):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
        and node.func.attr == "setdefault" and isinstance(node.func.value, gast.Name) \
        and node.func.value.id in dicts and len(node.args) == 2 and not node.keywords \
        and not any(isinstance(a, gast.Starred) for a in node.args)


def _found(stmt, dicts):
    """(the setdefault call, a function making the statement's rest from the item) or None."""
    if isinstance(stmt, gast.Expr) and _setdefault_call(stmt.value, dicts):
        return stmt.value, lambda item: []
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and isinstance(stmt.value.func, gast.Attribute) and _setdefault_call(stmt.value.func.value, dicts):
        call = stmt.value

        def method_on(item):
            call.func.value = item
            return [stmt]
        return call.func.value, method_on
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
            and _setdefault_call(stmt.value, dicts):
        return stmt.value, lambda item: [A.assign(stmt.targets[0].id, item)]
    return None


def _expanded(stmt, dicts, namer):
    found = _found(stmt, dicts)
    if found is None:
        return [stmt]
    call, rest = found
    d = call.func.value.id
    k, v = namer.fresh("_sd_key"), namer.fresh("_sd_default")
    missing = gast.Compare(left=A.name(k), ops=[gast.NotIn()], comparators=[A.name(d)])
    store = gast.If(test=missing, body=[A.assign(A.subscript(A.name(d), A.name(k), gast.Store()), A.name(v))],
                    orelse=[])
    out = [A.assign(k, call.args[0]), A.assign(v, call.args[1]), store]
    return A.located_all(out + rest(A.subscript(A.name(d), A.name(k))), stmt)


def lower_setdefault(body, info, namer):
    """body with setdefault calls on local dicts expanded (see module docstring)."""
    if not any(isinstance(n, gast.Attribute) and n.attr == "setdefault" for s in body for n in gast.walk(s)):
        return body
    dicts = local_dicts(info.node, info.resolve_static)
    return _lower(body, dicts, namer) if dicts else body


def _lower(stmts, dicts, namer):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _lower(inner, dicts, namer))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _lower(handler.body, dicts, namer)
        out.extend(_expanded(stmt, dicts, namer))
    return out
