"""explicit_iterators: ``it = iter(xs)`` with ``next(it)`` as a list and a position.

Input: a fenced `FunctionInfo`, before transform/desugar.py.
Output: the same function, equal under Python's semantics for the programs it changes,
where a local iterator made by ``iter`` is a list and a position counter:

* ``it = iter(E)`` is ``it = list(E)`` followed by ``_pos = 0``;
* in a simple statement (assignment, expression, return), the k-th ``next(it)`` is
  ``it[_pos + k]`` and ``next(it, d)`` is ``(it[_pos + k] if _pos + k < len(it) else d)``;
  ``list(it)`` / ``tuple(it)`` are ``it[_pos + k:]`` (a tuple of it); the statement is
  followed by ``_pos = min(_pos + n, len(it))`` (n the number of ``next`` calls), or by
  ``_pos = len(it)`` after ``list(it)``;
* ``for v in it: body`` is ``while _pos < len(it): v = it[_pos]; _pos = _pos + 1; body``
  (with its ``else``), so a ``break`` leaves the rest for later ``next`` calls.

Indexing, slicing, ``list`` and ``while`` loops have derivatives in both modes; before,
``iter`` and ``next`` were refused ("no derivative rule for iter").

Only when: ``it`` is a local name bound once, by that ``iter(E)`` call, not captured by a
nested function, and used only in the forms above; E, when a name, is never written in
place (``list(E)`` is a snapshot, where Python's iterator would see the writes); the
function does not mention ``StopIteration`` (running past the end raises IndexError
here).  Any other use keeps the program as it was (and refused, as before).
"""

import builtins

import gast

from .. import ast_util as A


def make_iterators_explicit(info, namer):
    """See the module docstring; rewrites info.node in place and returns info."""
    body_nodes = list(_own_nodes(info.node))
    iters = [s for s in body_nodes if isinstance(s, gast.Assign) and len(s.targets) == 1
             and isinstance(s.targets[0], gast.Name) and _is_call_of(info, s.value, builtins.iter, 1)]
    if not iters or any(isinstance(n, gast.Name) and n.id == "StopIteration" for n in gast.walk(info.node)):
        return info
    for origin in iters:
        name = origin.targets[0].id
        if _followable(info, body_nodes, origin, name):
            _rewrite(info, namer, origin, name)
    return info


def _own_nodes(node):
    """The nodes of a function's body, not of the functions and lambdas it defines."""
    stack = list(node.body)
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (gast.FunctionDef, gast.AsyncFunctionDef, gast.Lambda, gast.ClassDef)):
            continue
        stack.extend(gast.iter_child_nodes(n))


def _is_call_of(info, node, fn, n_args):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
        and info.resolve_static(node.func) is fn and len(node.args) == n_args and not node.keywords \
        and not any(isinstance(a, gast.Starred) for a in node.args)


def _followable(info, nodes, origin, name):
    stores = [n for n in gast.walk(info.node) if isinstance(n, gast.Name) and n.id == name
              and not isinstance(n.ctx, gast.Load)]
    if len(stores) != 1 or stores[0] is not origin.targets[0]:
        return False
    own = set(map(id, nodes))
    loads = [n for n in gast.walk(info.node) if isinstance(n, gast.Name) and n.id == name
             and isinstance(n.ctx, gast.Load)]
    if any(id(n) not in own for n in loads):
        return False                            # read by a nested function
    allowed = set()
    for n in nodes:
        if _is_next(info, n, name) or _is_listing(info, n, name):
            allowed.add(id(n.args[0]))
        elif isinstance(n, gast.For) and isinstance(n.iter, gast.Name) and n.iter.id == name:
            allowed.add(id(n.iter))
    if any(id(n) not in allowed for n in loads):
        return False
    source = origin.value.args[0]
    if isinstance(source, gast.Name) and _written_in_place(nodes, source.id):
        return False
    if any(_conditionally_evaluated(info, s, name) for s in nodes if isinstance(s, gast.stmt)):
        return False
    for stmt in (n for n in nodes if isinstance(n, gast.stmt)):
        uses = _uses_in(info, stmt, name)
        if uses and not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)):
            return False                        # in an if/while test, a for's iterable...
        if any(_is_listing(info, u, name) for u in uses) and len(uses) > 1:
            return False
        if sum(1 for u in uses if _is_next(info, u, name) and len(u.args) == 2) > 1:
            return False
    return True


_CONDITIONAL = (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp, gast.Lambda, gast.IfExp,
                gast.BoolOp)


def _conditionally_evaluated(info, stmt, name):
    """A next/list of name inside a comprehension, a lambda, `a if c else b` or `and`/`or`
    of stmt's own expressions: run any number of times, so no fixed position stands for it."""
    def under(node, inside):
        if (inside and (_is_next(info, node, name) or _is_listing(info, node, name))):
            return True
        if isinstance(node, gast.stmt) and node is not stmt:
            return False                        # nested statements are checked on their own
        inside = inside or isinstance(node, _CONDITIONAL)
        return any(under(child, inside) for child in gast.iter_child_nodes(node))
    return under(stmt, False)


def _is_next(info, node, name):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
        and info.resolve_static(node.func) is builtins.next and len(node.args) in (1, 2) and not node.keywords \
        and isinstance(node.args[0], gast.Name) and node.args[0].id == name


def _is_listing(info, node, name):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) \
        and info.resolve_static(node.func) in (builtins.list, builtins.tuple) and len(node.args) == 1 \
        and not node.keywords and isinstance(node.args[0], gast.Name) and node.args[0].id == name


def _uses_in(info, stmt, name):
    """The next/list/tuple calls of `name` in a simple statement (not in nested statements)."""
    if not isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return, gast.If, gast.While,
                             gast.For, gast.Assert)):
        return []
    parts = [stmt.test] if isinstance(stmt, (gast.If, gast.While, gast.Assert)) else \
        [stmt.iter] if isinstance(stmt, gast.For) else [stmt]
    out = []
    for part in parts:
        for n in gast.walk(part):
            if _is_next(info, n, name) or _is_listing(info, n, name):
                out.append(n)
    return out


def _written_in_place(nodes, name):
    for n in nodes:
        if isinstance(n, (gast.Assign, gast.AugAssign)):
            targets = n.targets if isinstance(n, gast.Assign) else [n.target]
            for t in targets:
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) and t.value.id == name:
                    return True
                if isinstance(n, gast.AugAssign) and isinstance(t, gast.Name) and t.id == name:
                    return True
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) \
                and isinstance(n.func.value, gast.Name) and n.func.value.id == name:
            return True                         # lst.append(v), and any other method: cautious
    return False


def _rewrite(info, namer, origin, name):
    position = namer.fresh(f"_{name}_position")
    origin.value = A.call(A.global_ref(builtins.list, "list"), [origin.value.args[0]])
    start = gast.copy_location(A.assign(position, A.const(0)), origin)

    def block(stmts):
        out = []
        for s in stmts:
            if s is origin:
                out += [s, start]
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(s, field, block(inner))
            if isinstance(s, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
                out.append(s)
            elif isinstance(s, gast.For) and isinstance(s.iter, gast.Name) and s.iter.id == name:
                out.append(_as_while(s, name, position))
            else:
                out += _simple(info, s, name, position)
        return out
    info.node.body = block(info.node.body)


def _length(name):
    return A.call(A.global_ref(builtins.len, "len"), [A.name(name)])


def _as_while(loop, name, position):
    take = A.assign(loop.target, A.subscript(A.name(name), A.name(position)))
    step = A.assign(position, A.binop(A.name(position), gast.Add(), A.const(1)))
    test = gast.Compare(left=A.name(position), ops=[gast.Lt()], comparators=[_length(name)])
    made = gast.While(test=test, body=[gast.copy_location(take, loop), gast.copy_location(step, loop)] + loop.body,
                      orelse=loop.orelse)
    return gast.copy_location(made, loop)


def _simple(info, stmt, name, position):
    uses = _uses_in(info, stmt, name)
    if not uses:
        return [stmt]
    count, listed = 0, False

    def at(k):
        return A.binop(A.name(position), gast.Add(), A.const(k)) if k else A.name(position)

    class Replace(gast.NodeTransformer):
        def visit_Call(self, node):
            nonlocal count, listed
            self.generic_visit(node)
            if _is_next(info, node, name):
                item = A.subscript(A.name(name), at(count))
                if len(node.args) == 2:
                    inside = gast.Compare(left=at(count), ops=[gast.Lt()], comparators=[_length(name)])
                    item = gast.IfExp(test=inside, body=item, orelse=node.args[1])
                count += 1
                return item
            if _is_listing(info, node, name):
                listed = True
                rest = A.subscript(A.name(name), gast.Slice(lower=at(count), upper=None, step=None))
                if info.resolve_static(node.func) is builtins.tuple:
                    rest = A.call(A.global_ref(builtins.tuple, "tuple"), [rest])
                return rest
            return node
    stmt = Replace().visit(stmt)
    if isinstance(stmt, gast.Return):
        return [stmt]
    if listed:
        advance = A.assign(position, _length(name))
    else:
        advance = A.assign(position, A.call(A.global_ref(builtins.min, "min"), [
            A.binop(A.name(position), gast.Add(), A.const(count)), _length(name)]))
    return [stmt, gast.copy_location(advance, stmt)]
