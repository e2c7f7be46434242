"""Small constructors and helpers for gast trees used by every pass."""

import copy

import gast


def name(id_):
    return gast.Name(id=id_, ctx=gast.Load(), annotation=None, type_comment=None)


def store(id_):
    return gast.Name(id=id_, ctx=gast.Store(), annotation=None, type_comment=None)


def global_ref(obj, preferred):
    """A Name denoting a module-level object; emit binds it under a safe name."""
    node = name(preferred)
    node.diffc_global = obj
    return node


def const(value):
    return gast.Constant(value=value, kind=None)


def assign(target, value):
    if isinstance(target, str):
        target = store(target)
    return gast.Assign(targets=[target], value=value, type_comment=None)


def call(func, args=(), keywords=()):
    if isinstance(func, str):
        func = name(func)
    return gast.Call(func=func, args=list(args), keywords=list(keywords))


def attr(value, attr_name):
    if isinstance(value, str):
        value = name(value)
    return gast.Attribute(value=value, attr=attr_name, ctx=gast.Load())


def method_call(obj, meth, args=()):
    return call(attr(obj, meth), args)


def binop(left, op, right):
    return gast.BinOp(left=left, op=op, right=right)


def not_(operand):
    return gast.UnaryOp(op=gast.Not(), operand=operand)


def if_(test, body, orelse=()):
    return gast.If(test=test, body=list(body) or [gast.Pass()], orelse=list(orelse))


def expr_stmt(value):
    return gast.Expr(value=value)


def subscript(value, index, ctx=None):
    return gast.Subscript(value=value, slice=index, ctx=ctx or gast.Load())


def is_atom(node):
    return isinstance(node, (gast.Name, gast.Constant))


def located(new, origin):
    """Give every node of `new` lacking a position the position of `origin`."""
    lineno = getattr(origin, "lineno", None)
    col = getattr(origin, "col_offset", None)
    if lineno is None:
        return new
    for node in walk(new):
        if "lineno" in node._attributes and getattr(node, "lineno", None) is None:
            node.lineno = lineno
            node.col_offset = col or 0
            node.end_lineno = getattr(origin, "end_lineno", lineno)
            node.end_col_offset = getattr(origin, "end_col_offset", col)
    return new


def located_all(stmts, origin):
    for s in stmts:
        located(s, origin)
    return stmts


def deepcopy(node):
    """Copy a tree; annotations (diffc_global, positions...) are kept by reference."""
    if isinstance(node, list):
        return [deepcopy(n) for n in node]
    if not isinstance(node, gast.AST):
        return node
    new = type(node)(**{f: deepcopy(getattr(node, f, None)) for f in node._fields})
    for key, value in node.__dict__.items():
        if key not in node._fields:
            setattr(new, key, value)
    return new


def walk(node):
    """Every node of a tree, like gast.walk, without generator layers per field.

    The compiler walks trees thousands of times per function; this is its hot loop."""
    stack = [node]
    out = []
    AST = gast.AST
    while stack:
        current = stack.pop()
        out.append(current)
        for field in current._fields:
            value = getattr(current, field, None)
            if isinstance(value, AST):
                stack.append(value)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, AST):
                        stack.append(item)
    return out


def names_loaded(node):
    return {n.id for n in walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


def names_read(node):
    """names_loaded(node) but loads marked ``diffc_dtype_only``: code reading only the dtype
    of an array bound once (runtime.written_bar in an adjoint), which in-place writes never
    change, so they need not be undone for it (transform/tape_markers.py,
    optimize/drop_dead_restores.py)."""
    return {n.id for n in walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
            and not getattr(n, "diffc_dtype_only", False)}


def names_stored(node):
    return {n.id for n in walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def names_stored_in_order(node):
    """The names of names_stored(node) as a list in source order (``a, (b, a)``: a, b).
    Allocate new names in this order, never in a set's, whose order follows the
    string hash (PYTHONHASHSEED) and would make the generated source vary."""
    out = {}

    def visit(n):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            out[n.id] = None
        for child in gast.iter_child_nodes(n):
            visit(child)
    visit(node)
    return list(out)


def names_bound(stmts):
    """Names the statements (re)bind anywhere: assignment, augmented assignment and
    loop targets, nested statements included (not objects written in place)."""
    out = set()
    for s in walk_statements(stmts):
        if isinstance(s, gast.Assign):
            for t in s.targets:
                out |= names_stored(t)
        elif isinstance(s, (gast.AugAssign, gast.For)):
            out |= names_stored(s.target)
    return out


def child_blocks(stmt):
    """The non-empty statement lists of a compound statement (body, orelse)."""
    for field in ("body", "orelse"):
        inner = getattr(stmt, field, None)
        if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
            yield inner


def walk_statements(stmts):
    """Every statement in stmts, recursively into compound statements."""
    for s in stmts:
        yield s
        for inner in child_blocks(s):
            yield from walk_statements(inner)


class Renamer(gast.NodeTransformer):
    def __init__(self, mapping):
        self.mapping = mapping

    def visit_Name(self, node):
        if node.id in self.mapping:
            new = self.mapping[node.id]
            if isinstance(new, str):
                node.id = new
                return node
            return copy.deepcopy(new)
        return node


def rename(node, mapping):
    return Renamer(mapping).visit(node)


def iterated_attribute(loop):
    """(X, the loop's element target) for ``for v in X``, ``for v in reversed(X)``, ``for i,
    v in enumerate(X)`` and ``for ..., v, ... in zip(..., X, ...)`` with X an attribute (v at
    X's place); else (None, None).  For `ast` and `gast` loops alike."""
    it, target = loop.iter, loop.target
    if type(it).__name__ != "Call":
        return it, target
    func, args = it.func, it.args
    kind = getattr(func, "id", None)
    if kind == "reversed" and len(args) == 1 and not it.keywords:
        return args[0], target
    tuple_target = type(target).__name__ == "Tuple"
    if kind == "enumerate" and len(args) in (1, 2) and tuple_target and len(target.elts) == 2:
        return args[0], target.elts[1]
    at = [k for k, a in enumerate(args) if type(a).__name__ == "Attribute"]
    if kind == "zip" and tuple_target and len(target.elts) == len(args) and len(at) == 1:
        return args[at[0]], target.elts[at[0]]
    return None, None
