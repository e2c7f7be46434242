"""fence: reject what diffc cannot differentiate, before any rewriting.

Input: a parsed `FunctionInfo` (and, recursively, its lifted local functions).
Output: the same tree, unchanged, or an `UnsupportedSyntax` naming the user's
file, line and column, with a caret and a suggestion.  After this pass the body
contains only: Assign, AugAssign, AnnAssign (with value), Expr, If, For, While,
Break, Continue, Return, Pass, Raise, Assert, With (binding names), Match
(value, singleton, wildcard/capture and or-patterns), Global/Nonlocal of names
only read; and expressions without await, a yield whose
value is used, and without calls to exec/eval.  ``yield``/``yield from`` appear
only as statements (a generator function, see desugar.collect_yields).
"""

import builtins

import gast

from .errors import UnsupportedSyntax

_STATEMENT_HINTS = {
    gast.AsyncWith: "async code is not differentiable",
    gast.AsyncFor: "async code is not differentiable",
    gast.AsyncFunctionDef: "async code is not differentiable",
    gast.ClassDef: "classes cannot be defined inside a differentiated function; define them at module level",
    gast.Delete: "del of this kind is not supported (del name and del c[i] are); build a new container instead",
    gast.Import: "import at module level, not inside the differentiated function",
    gast.ImportFrom: "import at module level, not inside the differentiated function",
}

_EXPRESSION_HINTS = {
    gast.Yield: "a yield whose value is used (send) is not supported; yield as a statement is",
    gast.YieldFrom: "a yield from whose value is used is not supported; yield from as a statement is",
    gast.Await: "async code is not differentiable",
}

_NAMES = {
    gast.Try: "try", gast.With: "with", gast.AsyncWith: "async with", gast.AsyncFor: "async for",
    gast.AsyncFunctionDef: "async def", gast.Global: "global", gast.Nonlocal: "nonlocal",
    gast.ClassDef: "class", gast.Delete: "del", gast.Import: "import", gast.ImportFrom: "import",
    gast.Match: "match", gast.Yield: "yield", gast.YieldFrom: "yield from", gast.Await: "await",
    gast.GeneratorExp: "a generator expression", gast.SetComp: "a set comprehension",
    gast.DictComp: "a dict comprehension", gast.NamedExpr: "the walrus operator :=",
    gast.Starred: "a starred expression", gast.Set: "a set",
}

_FORBIDDEN_CALLS = {builtins.exec: "exec", builtins.eval: "eval", builtins.compile: "compile",
                    builtins.globals: "globals", builtins.locals: "locals", builtins.vars: "vars"}


def fence(info):
    """Raise UnsupportedSyntax for the first unsupported construct of info."""
    # `yield v` as a statement makes a generator function (desugar.collect_yields);
    # a yield whose value is used (`x = yield v`, send) is refused below.
    statement_yields = {id(stmt.value) for stmt in _statements(info.node.body)
                        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, (gast.Yield, gast.YieldFrom))}
    for stmt in info.node.body:
        for node in gast.walk(stmt):
            if id(node) not in statement_yields:
                _check_node(info, node)
    _check_stored_closures(info)
    for local in info.local_functions.values():
        fence(local)
    return info


def _deletable(target):
    """`del name`, or `del c[i]` with one index: what transform/container_pops.py takes."""
    return isinstance(target, gast.Name) or isinstance(target, gast.Subscript) \
        and isinstance(target.value, gast.Name) and not isinstance(target.slice, (gast.Slice, gast.Tuple))


def _statements(stmts):
    for stmt in stmts:
        yield stmt
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for case in getattr(stmt, "cases", ()):
            yield from _statements(case.body)


def _check_node(info, node):
    kind = type(node)
    if kind is gast.Delete and all(_deletable(t) for t in node.targets):
        return                  # written out by transform/container_pops.py
    if kind in _STATEMENT_HINTS or kind in _EXPRESSION_HINTS:
        hint = _STATEMENT_HINTS.get(kind) or _EXPRESSION_HINTS.get(kind)
        raise UnsupportedSyntax(f"{_NAMES[kind]} is not supported by diffc", node, info.source, hint=hint)
    if isinstance(node, gast.FunctionDef):
        raise UnsupportedSyntax("a function defined inside a branch or loop is not supported",
                                node, info.source, hint="define it at the top of the enclosing function")
    if isinstance(node, gast.Lambda):
        raise UnsupportedSyntax("a lambda used as a value (not bound by `name = lambda ...`) is not supported",
                                node, info.source, hint="bind it to a name first: f = lambda x: ...")
    if isinstance(node, (gast.For, gast.comprehension)) and any(
            isinstance(n, gast.Starred) for n in gast.walk(node.target)):
        raise UnsupportedSyntax("a starred loop target (for a, *rest in ...) is not supported", node.target,
                                info.source, hint="unpack inside the loop body: a, *rest = item")
    if isinstance(node, gast.AnnAssign) and node.value is None:
        raise UnsupportedSyntax("a bare annotation without a value is not supported", node, info.source)
    if isinstance(node, (gast.Global, gast.Nonlocal)):
        _check_declaration(info, node)
    if isinstance(node, gast.With):
        for item in node.items:
            _check_with_target(info, item)
    if isinstance(node, getattr(gast, "TryStar", ())):
        raise UnsupportedSyntax("try/except* is not supported", node, info.source,
                                hint="catch the exception group with except ExceptionGroup")
    if isinstance(node, gast.Match):
        for case in node.cases:
            for pattern in gast.walk(case.pattern):
                _check_pattern(info, pattern)
    if isinstance(node, (gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp)):
        _check_late_binding(info, node)
    if isinstance(node, gast.Call):
        target = info.resolve_static(node.func)
        try:
            forbidden = _FORBIDDEN_CALLS.get(target)
        except TypeError:
            forbidden = None
        if forbidden:
            raise UnsupportedSyntax(f"{forbidden}() is not differentiable", node, info.source,
                                    hint="write the code directly instead of building it at run time")


# Calls that keep the function they are given (the value outlives the statement).
_KEEPING_METHODS = {"append", "extend", "insert", "add", "update", "setdefault"}


def _check_stored_closures(info):
    """A local function (or lambda) kept as a value -- assigned, put in a list, appended,
    wrapped in a partial, yielded -- reads its captured variables when it is called, later
    (Python's late binding).  diffc binds them where the value is made, so a captured
    variable assigned again after that point (later in the body, or anywhere in a loop
    around it) is refused there.  Calls, arguments of a call, and returns are fine: the
    function runs, or the values are final, before anything is assigned again."""
    captured = {name: set(local.lifted_params) for name, local in info.local_functions.items()
                if local.lifted_params}
    if not captured:
        return
    order, loops, stores = [], {}, {}

    def visit(stmts, enclosing):
        for stmt in stmts:
            order.append(stmt)
            loops[id(stmt)] = enclosing
            inner = enclosing + (id(stmt),) if isinstance(stmt, (gast.For, gast.While)) else enclosing
            for n in _own_nodes(stmt):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    stores.setdefault(n.id, []).append((stmt, inner))     # a loop's target: in the loop
            for field in ("body", "orelse", "finalbody"):
                block = getattr(stmt, field, None)
                if isinstance(block, list):
                    visit(block, inner)
            for handler in getattr(stmt, "handlers", None) or []:
                visit(handler.body, inner)
    visit(info.node.body, ())
    position = {id(stmt): k for k, stmt in enumerate(order)}
    for stmt in order:
        if isinstance(stmt, gast.Return):
            continue
        for read in _kept_function_reads(info, stmt, captured):
            for var in sorted(captured[read.id]):
                for later, around in stores.get(var, ()):
                    shared = set(around) & set(loops[id(stmt)])
                    if position[id(later)] > position[id(stmt)] or shared:
                        raise UnsupportedSyntax(
                            f"{read.id!r} is kept here as a value, and reads {var!r} when it is called; "
                            f"{var!r} is assigned again after this point, so the call would see the new "
                            f"value (Python's late binding), which diffc does not follow",
                            read, info.source,
                            hint=f"call it where it is made, or bind the value now with a default "
                                 f"(def f(..., {var}={var})) or functools.partial")


def _own_nodes(stmt):
    """The nodes of stmt outside its blocks (a loop's target and iterable, a test...)."""
    blocks = set()
    for field in ("body", "orelse", "finalbody", "handlers"):
        for child in getattr(stmt, field, None) or []:
            blocks.add(id(child))
    stack = [c for c in gast.iter_child_nodes(stmt) if id(c) not in blocks]
    while stack:
        n = stack.pop()
        yield n
        if not isinstance(n, (gast.Lambda, gast.FunctionDef)):
            stack.extend(gast.iter_child_nodes(n))


def _kept_function_reads(info, stmt, captured):
    """The loads of a local function's name in stmt (outside its blocks) that keep it as a
    value: not the function of a call, nor a direct argument of a call that does not keep it."""
    import functools
    nodes = list(_own_nodes(stmt))
    used = set()
    for n in nodes:
        if not isinstance(n, gast.Call):
            continue
        used.add(id(n.func))
        keeps = isinstance(n.func, gast.Attribute) and n.func.attr in _KEEPING_METHODS \
            or info.resolve_static(n.func) is functools.partial
        if not keeps:
            used.update(id(a) for a in n.args)
            used.update(id(k.value) for k in n.keywords)
    return [n for n in nodes if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)
            and n.id in captured and id(n) not in used]


def _check_late_binding(info, comprehension):
    """`[lambda t: t * i for i in ...]`: every lambda reads i when it is called, after the
    comprehension ended (Python's late binding: all see the last i).  diffc would give
    each its own i, so this is refused (usually not what the author meant either)."""
    bound = {n.id for g in comprehension.generators for n in gast.walk(g.target) if isinstance(n, gast.Name)}
    for node in gast.walk(comprehension):
        local = info.local_functions.get(node.id) if isinstance(node, gast.Name) else None
        captured = sorted(bound & set(getattr(local, "lifted_params", ()))) if local is not None else []
        if captured:
            raise UnsupportedSyntax(
                f"this function made in a comprehension reads the loop variable {captured[0]!r} when it is "
                f"called, after the loop: every copy sees its last value (Python's late binding)",
                node, info.source, hint=f"bind the value now with a default "
                                        f"(lambda t, {captured[0]}={captured[0]}: ...) or functools.partial")


def _check_declaration(info, node):
    """`global g` / `nonlocal v` only to read: a write would change a value outside
    the function, which the derivative cannot follow."""
    kind = "global" if isinstance(node, gast.Global) else "nonlocal"
    written = {n.id for stmt in info.node.body for n in gast.walk(stmt)
               if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del))}
    for name in node.names:
        if name in written:
            raise UnsupportedSyntax(f"the {kind} variable {name!r} is assigned in the differentiated function",
                                    node, info.source,
                                    hint="pass the value as an argument and return the new one")


def _check_with_target(info, item):
    target = item.optional_vars
    if target is not None and any(isinstance(n, gast.expr) and not isinstance(n, (gast.Name, gast.Tuple, gast.List))
                                  for n in gast.walk(target)):
        raise UnsupportedSyntax("`with ... as` binds only names or tuples of names here", target, info.source,
                                hint="bind a name, then assign from it")


_SIMPLE_PATTERNS = (gast.MatchValue, gast.MatchSingleton, gast.MatchAs, gast.MatchOr)


def _check_pattern(info, pattern):
    if isinstance(pattern, gast.pattern) and not isinstance(pattern, _SIMPLE_PATTERNS):
        raise UnsupportedSyntax(f"the {type(pattern).__name__} pattern is not supported in match",
                                pattern, info.source,
                                hint="match on values (case 1:, case \"name\":, case None:, case _:) or use if/elif")
