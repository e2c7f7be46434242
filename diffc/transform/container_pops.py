"""container_pops: ``c.pop(i)`` and ``del c[i]`` on lists and dicts, and ``del name``, as
operations diffc differentiates in both modes and at any order.

Input: a function body (desugar, before comprehensions and loops are lowered); fence has
let through ``del`` of names and of items with one index.
Output: no ``del`` statement, and each statement of the forms

    name = c.pop(i[, default])        c.pop(i[, default])        del c[i]

written out, when c is
* a local list (every binding makes one: list_insert.local_lists) or a parameter never
  rebound (checked to be a list when it runs) -- the same list object changed as Python
  changes it, by item reads and writes and an argument-less pop::

      _n = len(c); _at = pop_position(_n, i)     # (list_pop_position for a parameter)
      name = c[_at]
      for _k in range(_at, _n - 1):
          c[_k] = c[_k + 1]
      c.pop()

* a dict no other name can see (a local dict or the ``**kwargs`` parameter, read only by
  items, methods, ``in``, ``len``, iteration and ``**c``): the key's item read, then c
  rebound to a new dict without the key (``dict_without``), which no one else can tell
  from the same dict changed in place; with a default, both under ``if _key in c``.

The item read at ``_pop_key``/``_pop_at`` is what transform/handed_back.py and
shared_objects.py recognize as taken out (no longer nameable as ``c[i]``, as for a pop).
``del name`` is dropped (the value lives on unread).  Any other ``del`` is refused here,
naming the line; other pops are left to the rules (``lst.pop()`` is differentiated as is).
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime_pure
from ..errors import UnsupportedSyntax
from .dict_setdefault import local_dicts
from .list_insert import local_lists, unbound_parameters

# Loads of a dict that cannot hand its object to anyone else.
_DICT_READERS = {"get", "pop", "keys", "values", "items", "copy"}


def lower_container_pops(body, info, namer):
    """body with the pops and dels above written out (see module docstring)."""
    if not any(isinstance(n, gast.Delete) or isinstance(n, gast.Attribute) and n.attr == "pop"
               for s in body for n in gast.walk(s)):
        return body
    lists = local_lists(info.node, info.resolve_static)
    params = unbound_parameters(info.node)
    dicts = {d for d in local_dicts(info.node, info.resolve_static) | _kwargs(info)
             if _private_dict(info.node, d)}
    kinds = {"lists": lists, "params": params - lists, "dicts": dicts}
    return _lower(body, kinds, namer, info)


def _kwargs(info):
    """The ``**kwargs`` parameter (an ordinary one by now: parse.flatten_signature): a new
    dict at every call, as in Python."""
    signature = getattr(info, "signature", None)
    kwarg = getattr(signature, "kwarg", None)
    return {kwarg} if kwarg and kwarg not in _rebound(info.node) else set()


def _rebound(fn_node):
    return {n.id for n in gast.walk(fn_node) if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}


def _lower(stmts, kinds, namer, info):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _lower(inner, kinds, namer, info))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _lower(handler.body, kinds, namer, info)
        for case in getattr(stmt, "cases", None) or []:
            case.body = _lower(case.body, kinds, namer, info)
        out.extend(A.located_all(_expanded(stmt, kinds, namer, info), stmt))
    return out


def _expanded(stmt, kinds, namer, info):
    if isinstance(stmt, gast.Delete):
        return [s for t in stmt.targets for s in _deleted(t, stmt, kinds, namer, info)]
    found = _pop_of(stmt, kinds)
    if found is None:
        return [stmt]
    call, target = found
    c = call.func.value.id
    if c in kinds["dicts"]:
        return _dict_pop(c, call.args[0], call.args[1] if len(call.args) > 1 else None, target, namer)
    if len(call.args) != 1:
        return [stmt]
    return _list_pop(c, call.args[0], target, namer, c not in kinds["lists"], info.source.file_line(stmt))


def _pop_of(stmt, kinds):
    """(the call c.pop(args), the name its result is bound to or None), for a pop with
    arguments of a container written out here; else None."""
    if isinstance(stmt, gast.Expr):
        call, target = stmt.value, None
    elif isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name):
        call, target = stmt.value, stmt.targets[0].id
    else:
        return None
    known = kinds["lists"] | kinds["params"] | kinds["dicts"]
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "pop" \
            and isinstance(call.func.value, gast.Name) and call.func.value.id in known \
            and 1 <= len(call.args) <= 2 and not call.keywords \
            and not any(isinstance(a, gast.Starred) for a in call.args):
        return call, target
    return None


def _deleted(target, stmt, kinds, namer, info):
    if isinstance(target, gast.Name):
        return []                               # the value lives on, unread
    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) \
            and not isinstance(target.slice, (gast.Slice, gast.Tuple)):
        c = target.value.id
        if c in kinds["dicts"]:
            return _dict_pop(c, target.slice, None, None, namer)
        if c in kinds["lists"] | kinds["params"]:
            return _list_pop(c, target.slice, None, namer, c not in kinds["lists"], info.source.file_line(stmt))
    raise UnsupportedSyntax("this del is not supported in differentiated code: diffc follows `del name`, "
                            "and `del c[i]` on a list or dict the function builds", stmt, info.source,
                            hint="build a new container without the item, or pop it from a local list or dict")


def _list_pop(lst, index, target, namer, checked, line):
    n, at, k = namer.fresh("_pop_n"), namer.fresh("_pop_at"), namer.fresh("_pop_k")
    length = A.call(A.global_ref(builtins.len, "len"), [A.name(lst)])
    if checked:
        position = A.call(A.global_ref(runtime_pure.list_pop_position, "list_pop_position"),
                          [A.name(lst), A.name(n), index, A.const(line)])
    else:
        position = A.call(A.global_ref(runtime_pure.pop_position, "pop_position"), [A.name(n), index])
    out = [A.assign(n, length), A.assign(at, position)]
    if target is not None:
        out.append(A.assign(target, A.subscript(A.name(lst), A.name(at))))
    shift = A.assign(A.subscript(A.name(lst), A.name(k), gast.Store()),
                     A.subscript(A.name(lst), A.binop(A.name(k), gast.Add(), A.const(1))))
    steps = A.call(A.global_ref(builtins.range, "range"), [A.name(at), A.binop(A.name(n), gast.Sub(), A.const(1))])
    out.append(gast.For(target=A.store(k), iter=steps, body=[shift], orelse=[], type_comment=None))
    out.append(A.expr_stmt(A.method_call(A.name(lst), "pop", [])))
    return out


def _dict_pop(d, key, default, target, namer):
    k = namer.fresh("_pop_key")
    take = [A.assign(target, A.subscript(A.name(d), A.name(k)))] if target is not None else []
    if default is None:
        take = take or [A.expr_stmt(A.subscript(A.name(d), A.name(k)))]     # KeyError as Python
    drop = A.assign(d, A.call(A.global_ref(runtime_pure.dict_without, "dict_without"), [A.name(d), A.name(k)]))
    if default is None:
        return [A.assign(k, key)] + take + [drop]
    # Python evaluates the default before the call, whether the key is there or not
    fallback = namer.fresh("_pop_default")
    present = gast.Compare(left=A.name(k), ops=[gast.In()], comparators=[A.name(d)])
    otherwise = [A.assign(target, A.name(fallback))] if target is not None else [gast.Pass()]
    return [A.assign(k, key), A.assign(fallback, default),
            gast.If(test=present, body=take + [drop], orelse=otherwise)]


def _private_dict(fn_node, d):
    """Every read of d is an item, a reading method, ``in``/``len``, iteration or ``**d``:
    no other name, container or callee can hold d's object (and see a rebinding)."""
    allowed = set()
    for node in gast.walk(fn_node):
        if isinstance(node, gast.Subscript) and _is(node.value, d):
            allowed.add(id(node.value))
        elif isinstance(node, gast.Attribute) and _is(node.value, d) and node.attr in _DICT_READERS:
            allowed.add(id(node.value))
        elif isinstance(node, gast.Compare) and any(isinstance(op, (gast.In, gast.NotIn)) for op in node.ops):
            allowed |= {id(c) for c in node.comparators if _is(c, d)}
        elif isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id in ("len", "list", "sorted"):
            allowed |= {id(a) for a in node.args if _is(a, d)}
        elif isinstance(node, gast.Call):
            allowed |= {id(k.value) for k in node.keywords if k.arg is None and _is(k.value, d)}
        elif isinstance(node, (gast.For, gast.comprehension)) and _is(node.iter, d):
            allowed.add(id(node.iter))
        elif isinstance(node, (gast.FunctionDef, gast.Lambda)) and node is not fn_node \
                and any(_is(n, d) for n in gast.walk(node)):
            return False                        # a closure could keep the old object
    return all(id(n) in allowed for n in gast.walk(fn_node)
               if isinstance(n, gast.Name) and n.id == d and isinstance(n.ctx, gast.Load))


def _is(node, name):
    return isinstance(node, gast.Name) and node.id == name
