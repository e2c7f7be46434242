"""starred: ``*xs`` in calls, displays and assignment targets, as ordinary operations.

Input: a fenced `FunctionInfo` body (desugar runs this first).
Output: the same body where
  * a call has at most one starred argument, and then no other positional
    argument: ``f(a, *xs, b)`` becomes ``f(*runtime_calls.concat_parts((a,), xs, (b,)))``
    (transform/dynamic_calls.py differentiates it at run time);
    ``zip(*rows)`` becomes ``runtime_calls.zip_star(rows)``, a differentiable transpose;
  * ``zip(...)``/``enumerate(...)`` other than a loop's iterable (``list(zip(a, b))``)
    become ``runtime_calls.zip_lists``/``runtime_calls.enumerate_list``, whose items carry
    derivatives (the builtins are non-differentiable primitives);
  * ``**d`` in a call is the call's only keyword: ``f(**a, k=v)`` becomes
    ``f(**runtime_calls.merge_kwargs(a, {'k': v}))`` (a dynamic call, dynamic_calls.py);
  * a list or tuple display holds no starred item: ``[*xs, y]`` becomes
    ``list(runtime_calls.concat_parts(xs, (y,)))``;
  * an assignment target holds no starred name: ``a, *rest, z = xs`` becomes
    ``_u = xs; a = _u[0]; rest = list(_u[1:len(_u) - 1]); z = _u[-1]``.
Semantics are Python's; every new operation has derivative rules.
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime_calls


def lower_starred(info, namer):
    _expand_fixed_displays(info, namer)
    info.node.body = _block(info.node.body, info, namer)


def _expand_fixed_displays(info, namer):
    """``xs = (a, b)`` ... ``f(x, *xs)`` with xs bound once in the function, to a tuple display:
    the call becomes ``f(x, _xs0, _xs1)`` with ``_xs0 = a; _xs1 = b; xs = (_xs0, _xs1)``;
    likewise ``kw = {'loc': m}`` ... ``f(x, **kw)`` with kw bound once, to a dict display
    with constant string keys, and only ever read as ``**kw``.  Then the call is an
    ordinary static call, each argument with its own derivative (a float constant in the
    tuple stays a constant, where a call through ``*xs`` at run time cannot tell it from a
    differentiated float)."""
    module = gast.Module(body=info.node.body, type_ignores=[])
    stores, loads, spread = {}, {}, set()
    for node in A.walk(module):
        if isinstance(node, gast.Name):
            table = loads if isinstance(node.ctx, gast.Load) else stores
            table[node.id] = table.get(node.id, 0) + 1
        elif isinstance(node, gast.Call):
            spread.update(id(k.value) for k in node.keywords if k.arg is None and isinstance(k.value, gast.Name))
    dict_loads = {}
    for node in A.walk(module):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and id(node) in spread:
            dict_loads[node.id] = dict_loads.get(node.id, 0) + 1
    params = {a.id for a in info.node.args.args + info.node.args.kwonlyargs if isinstance(a, gast.Name)}
    fixed = {}
    for stmt in A.walk_statements(info.node.body):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)):
            continue
        name, value = stmt.targets[0].id, stmt.value
        if stores.get(name) != 1 or name in params:
            continue
        if isinstance(value, gast.Tuple) and not any(isinstance(e, gast.Starred) for e in value.elts):
            fixed[name] = (stmt, [namer.fresh(f"_{name}{i}") for i in range(len(value.elts))], None)
        elif isinstance(value, gast.Dict) and value.keys and dict_loads.get(name, 0) == loads.get(name, 0) \
                and all(isinstance(k, gast.Constant) and isinstance(k.value, str) and k.value.isidentifier()
                        for k in value.keys) and len({k.value for k in value.keys}) == len(value.keys):
            fixed[name] = (stmt, [namer.fresh(f"_{name}_{k.value}") for k in value.keys], [k.value for k in value.keys])
    used = set()
    for node in _own_nodes(module):
        if not isinstance(node, gast.Call):
            continue
        args = []
        for a in node.args:
            entry = fixed.get(a.value.id) if isinstance(a, gast.Starred) and isinstance(a.value, gast.Name) else None
            constants = _constant_tuple(info, a, stores)
            if entry is not None and entry[2] is None:
                args.extend(A.name(n) for n in entry[1])
                used.add(a.value.id)
            elif constants is not None:
                args.extend(A.const(v) for v in constants)
            else:
                args.append(a)
        keywords = []
        for k in node.keywords:
            entry = fixed.get(k.value.id) if k.arg is None and isinstance(k.value, gast.Name) else None
            if entry is not None and entry[2] is not None:
                keywords.extend(gast.keyword(arg=key, value=A.name(n)) for key, n in zip(entry[2], entry[1]))
                used.add(k.value.id)
            else:
                keywords.append(k)
        node.args, node.keywords = args, keywords
    split = {id(fixed[name][0]): fixed[name] for name in used}
    if split:
        info.node.body = _split_displays(info.node.body, split)


def _constant_tuple(info, arg, stores):
    """The values of ``*NAME`` for NAME a module-level tuple of numbers (read when the
    function is compiled, as diffc reads module constants), or None."""
    if not (isinstance(arg, gast.Starred) and isinstance(arg.value, gast.Name)) or arg.value.id in stores:
        return None
    value = info.resolve_static(arg.value)
    if isinstance(value, tuple) and len(value) <= 16 and all(type(v) in (int, float, bool) for v in value):
        return value
    return None


def _own_nodes(node):
    """The nodes of node, not descending into nested functions, lambdas or classes."""
    stack, out = [node], []
    while stack:
        current = stack.pop()
        out.append(current)
        for child in gast.iter_child_nodes(current):
            if not isinstance(child, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda, gast.ClassDef)):
                stack.append(child)
    return out


def _split_displays(stmts, split):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _split_displays(inner, split))
        entry = split.get(id(stmt))
        if entry is None:
            out.append(stmt)
            continue
        display = stmt.value
        items = display.elts if isinstance(display, gast.Tuple) else display.values
        out.extend(A.located_all([A.assign(n, item) for n, item in zip(entry[1], items)], stmt))
        if isinstance(display, gast.Tuple):
            display.elts = [A.name(n) for n in entry[1]]
        else:
            display.values = [A.name(n) for n in entry[1]]
        out.append(stmt)
    return out


def _block(stmts, info, namer):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _block(inner, info, namer))
        if isinstance(stmt, gast.For):
            _mark_loop_iterable(stmt.iter, info)
        _Expressions(info).visit_fields(stmt)
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and _has_starred_target(stmt.targets[0]):
            out.extend(A.located_all(_unpack(stmt.targets[0], stmt.value, namer), stmt))
        else:
            out.append(stmt)
    return out


def _has_starred_target(target):
    return isinstance(target, (gast.Tuple, gast.List)) and any(isinstance(e, gast.Starred) for e in target.elts)


def _unpack(target, value, namer):
    seq = namer.fresh("_unpacked")
    stmts = [A.assign(seq, value)]
    k = next(i for i, e in enumerate(target.elts) if isinstance(e, gast.Starred))
    n_after = len(target.elts) - k - 1
    length = A.call(A.global_ref(builtins.len, "len"), [A.name(seq)])
    for i, elt in enumerate(target.elts):
        if i < k:
            index = A.const(i)
        elif i > k:
            index = A.const(i - len(target.elts))          # counted from the end
        if i != k:
            stmts.append(gast.Assign(targets=[elt], value=A.subscript(A.name(seq), index), type_comment=None))
            continue
        upper = A.binop(length, gast.Sub(), A.const(n_after)) if n_after else None
        part = A.subscript(A.name(seq), gast.Slice(lower=A.const(k), upper=upper, step=None))
        stmts.append(gast.Assign(targets=[elt.value], value=A.call(A.global_ref(builtins.list, "list"), [part]),
                                 type_comment=None))
    return stmts


_LOOP_HELPERS = (builtins.zip, builtins.enumerate, builtins.reversed)


def _mark_loop_iterable(node, info):
    """zip/enumerate that desugar lowers itself (a for loop's iterable, and theirs)."""
    if isinstance(node, gast.Call) and info.resolve_static(node.func) in _LOOP_HELPERS:
        node.diffc_loop_iterable = True
        for a in node.args:
            _mark_loop_iterable(a, info)


class _Expressions(gast.NodeTransformer):
    """Starred items of calls and displays, rewritten bottom-up."""

    def __init__(self, info):
        self.info = info

    def visit_fields(self, stmt):
        for field, value in gast.iter_fields(stmt):
            if field in ("body", "orelse", "targets") or field == "target":
                continue
            if isinstance(value, gast.AST):
                setattr(stmt, field, self.visit(value))
            elif isinstance(value, list):
                setattr(stmt, field, [self.visit(v) if isinstance(v, gast.AST) else v for v in value])

    def visit_Lambda(self, node):
        return node

    def visit_comprehension(self, node):
        _mark_loop_iterable(node.iter, self.info)
        self.generic_visit(node)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if any(k.arg is None for k in node.keywords) and len(node.keywords) > 1:
            # f(**a, k=v, **b): one `**merge_kwargs(a, {'k': v}, b)`
            parts, run = [], []
            for k in node.keywords + [None]:
                if k is not None and k.arg is not None:
                    run.append(k)
                    continue
                if run:
                    parts.append(gast.Dict(keys=[A.const(r.arg) for r in run], values=[r.value for r in run]))
                    run = []
                if k is not None:
                    parts.append(k.value)
            merged = A.call(A.global_ref(runtime_calls.merge_kwargs, "merge_kwargs"), parts)
            node.keywords = [gast.keyword(arg=None, value=merged)]
        starred = [a for a in node.args if isinstance(a, gast.Starred)]
        callee = self.info.resolve_static(node.func)
        if not starred and not getattr(node, "diffc_loop_iterable", False) and not node.keywords:
            # zip/enumerate as values: lists whose items carry derivatives (both are
            # non-differentiable primitives, right only where desugar lowers the loop).
            if callee is builtins.zip:
                return A.located(A.call(A.global_ref(runtime_calls.zip_lists, "zip_lists"), node.args), node)
            if callee is builtins.enumerate and 1 <= len(node.args) <= 2:
                args = list(node.args) + [A.const(0)] * (2 - len(node.args))     # rules bind start
                return A.located(A.call(A.global_ref(runtime_calls.enumerate_list, "enumerate_list"), args), node)
        if not starred:
            return node
        if self.info.resolve_static(node.func) is builtins.zip and len(node.args) == 1 and not node.keywords:
            return A.located(A.call(A.global_ref(runtime_calls.zip_star, "zip_star"), [starred[0].value]), node)
        if len(node.args) > 1:
            joined = _joined(node.args, gast.Tuple, builtins.tuple)
            node.args = [gast.Starred(value=joined, ctx=gast.Load())]
        return node

    def visit_List(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, gast.Load) and any(isinstance(e, gast.Starred) for e in node.elts):
            return A.located(_joined(node.elts, gast.List, builtins.list), node)
        return node

    def visit_Tuple(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, gast.Load) and any(isinstance(e, gast.Starred) for e in node.elts):
            return A.located(_joined(node.elts, gast.Tuple, builtins.tuple), node)
        return node


def _joined(items, display, convert):
    """`concat_parts((a, b), xs, (c,))` for items a, b, *xs, c (a tuple; `list(...)` of it
    for a list display).  One helper with its own rules rather than `+` of sequences."""
    parts, run = [], []
    for item in items + [None]:
        if item is not None and not isinstance(item, gast.Starred):
            run.append(item)
            continue
        if run:
            parts.append(gast.Tuple(elts=run, ctx=gast.Load()))
            run = []
        if item is not None:
            parts.append(item.value)
    total = A.call(A.global_ref(runtime_calls.concat_parts, "concat_parts"), parts)
    if display is gast.List:
        total = A.call(A.global_ref(builtins.list, "list"), [total])
    return total
