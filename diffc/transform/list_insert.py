"""list_insert: ``lst.insert(i, v)`` on a list the function builds, as an append and item writes.

Input: a function body (desugar, before comprehensions and loops are lowered).
Output: each statement ``name.insert(i, v)`` where ``name`` is a local variable every
assignment of which makes a list (a list display or comprehension, ``list(...)``,
``sorted(...)``, ``[...] + ...``, ``[...] * n``; ``+=`` keeps it one) becomes

    _i = i; _v = v; _n = len(name); _j = insert_position(_n, _i)
    name.append(_v)
    for _k in range(_n, _j, -1):
        name[_k] = name[_k - 1]
    name[_j] = _v

the same list changed in place as Python changes it (other names holding it see the
change), from operations diffc differentiates in both modes and at any order.  A parameter
the function never rebinds is expanded the same way, its position taken by
``list_insert_position(name, _n, _i, line)``, which refuses, when it runs, an object that
is not a list (a user class's own insert).  Likewise
``name.reverse()`` becomes ``name[:] = name[::-1]`` and ``name.sort(key=k, reverse=r)``
becomes ``name[:] = sorted(name, key=k, reverse=r)`` (local lists only).  Other receivers
are left as written.
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime_pure


def _list_valued(value, resolve):
    if isinstance(value, (gast.List, gast.ListComp)):
        return True
    if isinstance(value, gast.Call):
        try:
            func = resolve(value.func)
        except Exception:        # a callee diffc cannot resolve statically is not list() or sorted()
            return False
        return func is builtins.list or func is builtins.sorted
    if isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Mult)):
        return isinstance(value.left, (gast.List, gast.ListComp)) or \
            (isinstance(value.op, gast.Add) and isinstance(value.right, (gast.List, gast.ListComp)))
    return False


def local_lists(fn_node, resolve):
    """Local names (not parameters) every binding of which makes a list."""
    stores, accepted = {}, {}
    for node in gast.walk(fn_node):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            stores[node.id] = stores.get(node.id, 0) + 1
        elif isinstance(node, gast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], gast.Name) \
                and _list_valued(node.value, resolve):
            accepted[node.targets[0].id] = accepted.get(node.targets[0].id, 0) + 1
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name) \
                and isinstance(node.op, gast.Add):
            accepted[node.target.id] = accepted.get(node.target.id, 0) + 1
    params = {a.id for a in fn_node.args.args if isinstance(a, gast.Name)}
    return {n for n, k in stores.items() if accepted.get(n) == k and n not in params}


def unbound_parameters(fn_node):
    """Parameters the function never rebinds: an insert into one changes the caller's
    object, which is a list when the insert runs (checked then: runtime_pure.list_insert_position)."""
    stored = {n.id for n in gast.walk(fn_node) if isinstance(n, gast.Name)
              and isinstance(n.ctx, (gast.Store, gast.Del))}
    args = fn_node.args
    params = [a for a in list(args.posonlyargs) + list(args.args) + list(args.kwonlyargs) if isinstance(a, gast.Name)]
    return {a.id for a in params} - stored


def _held_values(fn_node):
    """Names bound once, to the value of an attribute a method changes in place
    (transform/held_changes.py marks the binding): like a parameter, checked to be a list."""
    held = {s.targets[0].id for s in gast.walk(fn_node) if isinstance(s, gast.Assign)
            and getattr(s, "diffc_held_value", False)}
    stored = [n.id for n in gast.walk(fn_node) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))]
    return {h for h in held if stored.count(h) == 1}


def _insert_of(stmt, lists):
    call = stmt.value if isinstance(stmt, gast.Expr) else None
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "insert" \
            and isinstance(call.func.value, gast.Name) and call.func.value.id in lists \
            and len(call.args) == 2 and not call.keywords \
            and not any(isinstance(a, gast.Starred) for a in call.args):
        return call
    return None


def _expanded(call, namer, checked, line):
    """The statements of the insert; checked: lst is a parameter, whose type is checked
    when the insert runs (an object with its own insert is refused, not expanded)."""
    lst = call.func.value.id
    i, v, n, j, k = (namer.fresh(p) for p in ("_ins_i", "_ins_v", "_ins_n", "_ins_at", "_ins_k"))
    length = A.call(A.global_ref(builtins.len, "len"), [A.name(lst)])
    if checked:
        position = A.call(A.global_ref(runtime_pure.list_insert_position, "list_insert_position"),
                          [A.name(lst), A.name(n), A.name(i), A.const(line)])
    else:
        position = A.call(A.global_ref(runtime_pure.insert_position, "insert_position"), [A.name(n), A.name(i)])
    shift = A.assign(A.subscript(A.name(lst), A.name(k), gast.Store()),
                     A.subscript(A.name(lst), A.binop(A.name(k), gast.Sub(), A.const(1))))
    steps = A.call(A.global_ref(builtins.range, "range"), [A.name(n), A.name(j), A.const(-1)])
    loop = gast.For(target=A.store(k), iter=steps, body=[shift], orelse=[], type_comment=None)
    return [A.assign(i, call.args[0]), A.assign(v, call.args[1]), A.assign(n, length), A.assign(j, position),
            A.expr_stmt(A.method_call(A.name(lst), "append", [A.name(v)])), loop,
            A.assign(A.subscript(A.name(lst), A.name(j), gast.Store()), A.name(v))]


def lower_list_inserts(body, info, namer):
    """body with the inserts into local lists expanded (see module docstring), and their
    in-place reorderings ``name.reverse()`` and ``name.sort(key=k, reverse=r)`` written as
    ``name[:] = name[::-1]`` and ``name[:] = sorted(name, key=k, reverse=r)``: the same list
    object with the same items in the new order, as Python leaves it."""
    if not any(isinstance(n, gast.Attribute) and n.attr in ("insert", "reverse", "sort")
               for s in body for n in gast.walk(s)):
        return body
    lists = local_lists(info.node, info.resolve_static)
    params = unbound_parameters(info.node) | _held_values(info.node)
    if not lists and not params:
        return body
    return _lower(body, lists, namer, params, lambda stmt: info.source.file_line(stmt))


def _lower(stmts, lists, namer, params=frozenset(), line_of=None):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _lower(inner, lists, namer, params, line_of))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _lower(handler.body, lists, namer, params, line_of)
        call = _insert_of(stmt, lists | params)
        reordered = _reordering(stmt, lists)
        if call is not None:
            checked = call.func.value.id not in lists
            lowered = A.located_all(_expanded(call, namer, checked, line_of(stmt) if checked else 0), stmt)
            for s in A.walk_statements(lowered):
                # (transform/held_changes.py: an attribute's value, taken back right after)
                s.diffc_synced = set(getattr(stmt, "diffc_synced", ()))
            out.extend(lowered)
        elif reordered is not None:
            out.append(A.located(reordered, stmt))
        else:
            out.append(stmt)
    return out


def _reordering(stmt, lists):
    """``name[:] = name[::-1]`` for ``name.reverse()``, ``name[:] = sorted(name, **kw)`` for
    ``name.sort(**kw)`` (name a local list); else None."""
    call = stmt.value if isinstance(stmt, gast.Expr) else None
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute)
            and isinstance(call.func.value, gast.Name) and call.func.value.id in lists and not call.args):
        return None
    lst = call.func.value.id
    whole = gast.Slice(lower=None, upper=None, step=None)
    if call.func.attr == "reverse" and not call.keywords:
        value = A.subscript(A.name(lst), gast.Slice(lower=None, upper=None, step=A.const(-1)))
    elif call.func.attr == "sort" and all(k.arg in ("key", "reverse") for k in call.keywords):
        value = A.call(A.global_ref(builtins.sorted, "sorted"), [A.name(lst)])
        value.keywords = [gast.keyword(arg=k.arg, value=k.value) for k in call.keywords]
    else:
        return None
    return A.assign(A.subscript(A.name(lst), whole, gast.Store()), value)
