"""nonlocal_state: a local function's ``nonlocal`` writes as values passed in and returned.

Input: the body of a function being parsed and its local functions (parse.py, before they
are lifted).  Output: each local function ``g`` that assigns names declared ``nonlocal``
(a counter, an accumulator) has no ``nonlocal`` statement: those names are extra keyword
parameters, every ``return e`` returns ``(e, name1, name2, ...)``, and every call of g
(in the body and in g itself) passes the current values and rebinds them from what it
returns:

    add(v)              ->  _r, total = add(v, total=total)
    y = step(a) + 1.0   ->  y = (_s := step(a, count=count), count := _s[1], _s[0])[2] + 1.0

which is what Python computes (a nonlocal lives in one cell that g's calls update in
turn), in code diffc differentiates like any other.  Refused with the line (what diffc
cannot follow): such a g used as a value (returned, stored, passed: the cell would outlive
the call) or called from another local function, and g with ``*args``/keyword-only
parameters.
"""

import gast

from .. import ast_util as A
from ..errors import UnsupportedSyntax


def _own_nodes(fn_node):
    """The nodes of fn_node's body, not descending into functions or classes nested in it."""
    out, stack = [], list(fn_node.body)
    while stack:
        node = stack.pop()
        out.append(node)
        for child in gast.iter_child_nodes(node):
            if not isinstance(child, (gast.FunctionDef, gast.Lambda, gast.ClassDef)):
                stack.append(child)
    return out


def _nonlocal_writes(fn_node):
    """The names fn_node declares nonlocal and assigns (sorted), and its Nonlocal statements."""
    nodes = _own_nodes(fn_node)
    declared = [n for n in nodes if isinstance(n, gast.Nonlocal)]
    names = {name for d in declared for name in d.names}
    written = {n.id for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    return sorted(names & written), declared


_CHANGING_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort", "update",
                     "setdefault", "popitem", "fill", "put", "resize", "itemset", "add", "discard"}


def _root(node):
    while isinstance(node, (gast.Subscript, gast.Attribute)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def _captured_writes(fn_node, enclosing):
    """(name, node) for each in-place write fn_node makes into a variable of the enclosing
    function (`acc[0] = v`, `state["h"] += v`, `out.append(v)`, `obj.n = v`)."""
    own = {n.id for n in gast.walk(fn_node.args) if isinstance(n, gast.Name)}
    nodes = _own_nodes(fn_node) if isinstance(fn_node.body, list) else list(gast.walk(fn_node.body))
    own |= {n.id for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    out = []
    for n in nodes:
        targets = n.targets if isinstance(n, gast.Assign) else [n.target] if isinstance(n, gast.AugAssign) else []
        for t in targets:
            if isinstance(t, (gast.Subscript, gast.Attribute)) and _root(t) in enclosing and _root(t) not in own:
                out.append((_root(t), n))
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and n.func.attr in _CHANGING_METHODS \
                and _root(n.func.value) in enclosing and _root(n.func.value) not in own:
            out.append((_root(n.func.value), n))
    return out


def refuse_captured_writers_as_values(info, found):
    """A local function (or lambda) that writes in place into a variable of the function
    defining it is called by name only: used as a value (passed to a helper, stored, returned)
    its calls' writes would be invisible to the derivative (a gradient of zero).  Refused at
    the first such use, with the write it makes."""
    enclosing = {n.id for n in gast.walk(info.node) if isinstance(n, gast.Name)}
    for name, node, _ in found:
        writes = _captured_writes(node, enclosing)
        if not writes:
            continue
        captured, at = writes[0]
        for other_name, other, _ in [(None, info.node, None)] + list(found):
            nodes = _own_nodes(other) if isinstance(other.body, list) else list(gast.walk(other.body))
            called = {id(n.func) for n in nodes if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)}
            for n in nodes:
                if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load) and id(n) not in called:
                    _refuse(f"the local function {name!r} writes into {captured!r} of the enclosing function "
                            f"(line {info.source.file_line(at)}) and is used here as a value (passed, stored or "
                            "returned): diffc follows such writes only in calls of the function by name", n,
                            info.source, "call it by name where it is defined, or have it return the new value "
                                         "and assign it")


def _refuse(message, node, source, hint):
    raise UnsupportedSyntax(message, node, source, hint=hint)


def thread_nonlocal_writes(info, found):
    """Rewrite info.node.body and the local functions `found` ((name, def node, statement),
    parse._take_definitions) as the module docstring says."""
    stateful = {}
    for name, node, _ in found:
        names, declared = _nonlocal_writes(node)
        if names:
            stateful[name] = (node, names, declared)
    if not stateful:
        return
    for name, (node, names, declared) in stateful.items():
        _check_calls_only(info, found, name, names, declared[0])
        args = node.args
        if args.vararg is not None or args.kwarg is not None or args.kwonlyargs or args.posonlyargs:
            _refuse(f"the local function {name!r} assigns the nonlocal variable {names[0]!r} and takes "
                    "*args, **kwargs or keyword-only parameters", declared[0], info.source,
                    "give it plain parameters, or pass the value as an argument and return the new one")
        for d in declared:
            d.names = [n for n in d.names if n not in names]
        _drop_empty_declarations(node)
        for n in names:
            args.args.append(gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None))
            if args.defaults:
                args.defaults.append(gast.Constant(value=None, kind=None))
        _return_state(node, names)
    fresh = _fresh_names([info.node] + [node for _, node, _ in found])
    for name, (node, names, _) in stateful.items():
        _CallsWithState(name, names, fresh).rewrite_body(info.node)
        _CallsWithState(name, names, fresh).rewrite_body(node)


def _fresh_names(trees):
    """A function base -> a name no tree uses (nor an earlier call gave)."""
    taken = {n.id for t in trees for n in gast.walk(t) if isinstance(n, gast.Name)}
    counter = [0]

    def fresh(base):
        while True:
            counter[0] += 1
            candidate = f"{base}{counter[0]}"
            if candidate not in taken:
                taken.add(candidate)
                return candidate
    return fresh


def _check_calls_only(info, found, name, names, where):
    """g is only called by name, in the defining function or in itself."""
    hint = "call it by name in the function that defines it, or pass the value as an argument and return the new one"
    for other, node, _ in found:
        for n in _own_nodes(node) if other != name else ():
            if isinstance(n, gast.Name) and n.id == name:
                _refuse(f"the local function {name!r} assigns the nonlocal variable {names[0]!r} and is used by "
                        f"the local function {other!r}: diffc follows nonlocal writes only in calls made by the "
                        "function that defines it", where, info.source, hint)
    called = set()
    bodies = [info.node] + [node for other, node, _ in found if other == name]
    for fn in bodies:
        for n in _own_nodes(fn):
            if isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == name:
                called.add(id(n.func))
        for n in _own_nodes(fn):
            if isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Load) and id(n) not in called:
                _refuse(f"the local function {name!r} assigns the nonlocal variable {names[0]!r} and is used "
                        "as a value (returned, stored or passed): diffc follows nonlocal writes only in calls "
                        "made by the function that defines it", where, info.source, hint)


def _drop_empty_declarations(node):
    """Remove the ``nonlocal`` statements left with no name (in node's own blocks)."""
    def block(stmts):
        out = [s for s in stmts if not (isinstance(s, gast.Nonlocal) and not s.names)]
        for s in out:
            if isinstance(s, (gast.FunctionDef, gast.ClassDef)):
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(s, field, block(inner))
            for handler in getattr(s, "handlers", None) or []:
                handler.body = block(handler.body)
        return out or [gast.Pass()]
    node.body = block(node.body)


def _state_tuple(names, value):
    return gast.Tuple(elts=[value] + [A.name(n) for n in names], ctx=gast.Load())


def _return_state(node, names):
    for n in _own_nodes(node):
        if isinstance(n, gast.Return):
            n.value = A.located(_state_tuple(names, n.value if n.value is not None else A.const(None)), n)
    if not node.body or not isinstance(node.body[-1], gast.Return):
        last = node.body[-1] if node.body else node
        node.body.append(A.located(gast.Return(value=_state_tuple(names, A.const(None))), last))


class _CallsWithState(gast.NodeTransformer):
    """Calls of the local function `name` pass and rebind its nonlocal names."""

    def __init__(self, name, names, namer):
        self.name = name
        self.names = names
        self.namer = namer

    def rewrite_body(self, fn_node):
        fn_node.body = self._block(fn_node.body)

    def _block(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
                out.append(stmt)
                continue
            call = self._direct_call(stmt)
            if call is not None:
                targets = [stmt.targets[0]] if isinstance(stmt, gast.Assign) else [A.store(self.namer("_ignored"))]
                self._pass_state(call)
                self.generic_visit(call)
                unpack = gast.Tuple(elts=targets + [A.store(n) for n in self.names], ctx=gast.Store())
                out.append(A.located(gast.Assign(targets=[unpack], value=call, type_comment=None), stmt))
                continue
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(stmt, field, self._block(inner))
            for handler in getattr(stmt, "handlers", None) or []:
                handler.body = self._block(handler.body)
            for field in stmt._fields:
                if field in ("body", "orelse", "finalbody", "handlers"):
                    continue
                value = getattr(stmt, field)
                if isinstance(value, gast.AST):
                    setattr(stmt, field, self.visit(value))
                elif isinstance(value, list):
                    setattr(stmt, field, [self.visit(v) if isinstance(v, gast.AST) else v for v in value])
            out.append(stmt)
        return out

    def _direct_call(self, stmt):
        """The call of stmt `g(...)` or `x = g(...)` (x a name), else None."""
        value = stmt.value if isinstance(stmt, gast.Expr) else \
            stmt.value if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], gast.Name) else None
        return value if self._is_call(value) else None

    def _is_call(self, node):
        return isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == self.name

    def _pass_state(self, call):
        call.keywords = list(call.keywords) + [gast.keyword(arg=n, value=A.name(n)) for n in self.names]

    def visit_Lambda(self, node):
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        if not self._is_call(node):
            return node
        self._pass_state(node)
        held = self.namer("_state")
        parts = [gast.NamedExpr(target=A.store(held), value=node)]
        parts += [gast.NamedExpr(target=A.store(n), value=A.subscript(A.name(held), A.const(k + 1)))
                  for k, n in enumerate(self.names)]
        parts.append(A.subscript(A.name(held), A.const(0)))
        value = A.subscript(gast.Tuple(elts=parts, ctx=gast.Load()), A.const(len(parts) - 1))
        return A.located(value, node)
