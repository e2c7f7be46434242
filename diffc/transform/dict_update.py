"""dict_update: ``d.update(...)`` as item writes.

Input: a function body (desugar, before comprehensions and loops are lowered).
Output: each statement ``d.update(E)``, ``d.update(**F)`` or ``d.update(E, k=v, ...)`` on a
name d that is a local dict (every binding makes one) or a parameter the function never
rebinds, becomes, in Python's order (E and the keyword values evaluated first, then E's
items stored, then the keywords'):

    d["k1"] = _v1; d["k2"] = _v2          # E a dict display {"k1": ..., "k2": ...} with
                                          # constant keys, and d a local dict
    _u = E                                # any other E
    for _k in update_keys(d, _u, line):   # list(_u.keys()); refuses, when it runs, a d that
        d[_k] = _u[_k]                    # is not a dict or an E without keys()
    d["k"] = _kv                          # each keyword

Each item then is an ordinary item write into d, which the alias analysis and both
modes follow (a later read ``d["k"]`` sees the new object, arrays stay shared with E as
Python shares them).  Other forms (a ``**`` inside the display, starred arguments, an E
of key/value pairs) are left as written (refused when they matter).
"""

import gast

from .. import ast_util as A
from .. import runtime_pure
from .dict_setdefault import local_dicts


def lower_dict_updates(body, info, namer):
    """body with the updates expanded (see module docstring)."""
    if not any(isinstance(n, gast.Attribute) and n.attr == "update" for s in body for n in gast.walk(s)):
        return body
    dicts = local_dicts(info.node, info.resolve_static)
    params = _unbound_parameters(info.node)
    return _lower(body, dicts, params, namer, info)


def _unbound_parameters(fn_node):
    stored = {n.id for n in gast.walk(fn_node) if isinstance(n, gast.Name)
              and isinstance(n.ctx, (gast.Store, gast.Del))}
    args = fn_node.args
    names = [a for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs) if isinstance(a, gast.Name)]
    return {a.id for a in names} - stored


def _lower(stmts, dicts, params, namer, info):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _lower(inner, dicts, params, namer, info))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _lower(handler.body, dicts, params, namer, info)
        call = _update_of(stmt, dicts | params)
        if call is None:
            out.append(stmt)
        else:
            local = call.func.value.id in dicts
            out.extend(A.located_all(_expanded(call, local, namer, info.source.file_line(stmt)), stmt))
    return out


def _update_of(stmt, names):
    call = stmt.value if isinstance(stmt, gast.Expr) else None
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "update"
            and isinstance(call.func.value, gast.Name) and call.func.value.id in names):
        return None
    if len(call.args) > 1 or any(isinstance(a, gast.Starred) for a in call.args) \
            or any(k.arg is None for k in call.keywords):
        return None
    if call.args and isinstance(call.args[0], gast.Dict) and any(k is None for k in call.args[0].keys):
        return None                         # {**a, "k": v}: left as written
    return call


def _expanded(call, local, namer, line):
    d = call.func.value.id
    out, writes = [], []
    if call.args:
        given = call.args[0]
        if local and isinstance(given, gast.Dict) and all(
                isinstance(k, gast.Constant) and isinstance(k.value, (str, int)) for k in given.keys):
            for key, value in zip(given.keys, given.values):
                held = namer.fresh("_upd_v")
                out.append(A.assign(held, value))
                writes.append(A.assign(A.subscript(A.name(d), A.const(key.value), gast.Store()), A.name(held)))
        else:
            u, k = namer.fresh("_upd"), namer.fresh("_upd_k")
            out.append(A.assign(u, given))
            keys = A.call(A.global_ref(runtime_pure.update_keys, "update_keys"), [A.name(d), A.name(u), A.const(line)])
            item = A.assign(A.subscript(A.name(d), A.name(k), gast.Store()), A.subscript(A.name(u), A.name(k)))
            writes.append(gast.For(target=A.store(k), iter=keys, body=[item], orelse=[], type_comment=None))
    for keyword in call.keywords:
        held = namer.fresh("_upd_v")
        out.append(A.assign(held, keyword.value))
        writes.append(A.assign(A.subscript(A.name(d), A.const(keyword.arg), gast.Store()), A.name(held)))
    if not local and not call.args:
        # a parameter: checked to be a dict before its items are written
        check = A.call(A.global_ref(runtime_pure.update_keys, "update_keys"), [A.name(d), gast.Dict(keys=[], values=[]),
                                                                             A.const(line)])
        k = namer.fresh("_upd_k")
        writes.insert(0, gast.For(target=A.store(k), iter=check, body=[gast.Pass()], orelse=[], type_comment=None))
    return out + writes
