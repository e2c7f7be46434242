"""fence: reject what diffc cannot differentiate, before any rewriting.

Input: a parsed `FunctionInfo` (and, recursively, its lifted local functions).
Output: the same tree, unchanged, or an `UnsupportedSyntax` naming the user's
file, line and column, with a caret and a suggestion.  After this pass the body
contains only: Assign, AugAssign, AnnAssign (with value), Expr, If, For, While,
Break, Continue, Return, Pass, Raise, Assert; and expressions without
generators, yield, await, walrus, set/dict comprehensions, starred loop targets,
and without calls to exec/eval.
"""

import builtins

import gast

from .errors import UnsupportedSyntax

_STATEMENT_HINTS = {
    gast.Try: "try/except is not differentiable; check the condition with an if instead",
    gast.With: "with-blocks are not supported; move the context manager outside the differentiated function",
    gast.AsyncWith: "async code is not differentiable",
    gast.AsyncFor: "async code is not differentiable",
    gast.AsyncFunctionDef: "async code is not differentiable",
    gast.Global: "global declarations are not supported; pass the value as an argument and return the new one",
    gast.Nonlocal: "nonlocal declarations are not supported; pass the value as an argument and return the new one",
    gast.ClassDef: "classes cannot be defined inside a differentiated function; define them at module level",
    gast.Delete: "del is not supported; let the variable go out of use instead",
    gast.Import: "import at module level, not inside the differentiated function",
    gast.ImportFrom: "import at module level, not inside the differentiated function",
    gast.Match: "match statements are not supported yet; use if/elif",
}

_EXPRESSION_HINTS = {
    gast.Yield: "generators are not differentiable; build a list instead",
    gast.YieldFrom: "generators are not differentiable; build a list instead",
    gast.Await: "async code is not differentiable",
    gast.GeneratorExp: "generator expressions are not differentiable; use a list comprehension [...] instead",
    gast.SetComp: "set comprehensions are not supported; use a list",
    gast.DictComp: "dict comprehensions are not supported yet; build the dict in a for loop",
    gast.NamedExpr: "assignment expressions (:=) are not supported; assign in a separate statement",
    gast.Set: "sets are not differentiable containers; use a list or tuple",
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
    for stmt in info.node.body:
        for node in gast.walk(stmt):
            _check_node(info, node)
    for local in info.local_functions.values():
        fence(local)
    return info


def _check_node(info, node):
    kind = type(node)
    if kind in _STATEMENT_HINTS or kind in _EXPRESSION_HINTS:
        hint = _STATEMENT_HINTS.get(kind) or _EXPRESSION_HINTS.get(kind)
        raise UnsupportedSyntax(f"{_NAMES[kind]} is not supported by diffc", node, info.source, hint=hint)
    if isinstance(node, gast.FunctionDef):
        raise UnsupportedSyntax("a function defined inside a branch or loop is not supported",
                                node, info.source, hint="define it at the top of the enclosing function")
    if isinstance(node, gast.Lambda):
        raise UnsupportedSyntax("a lambda used as a value (not bound by `name = lambda ...`) is not supported",
                                node, info.source, hint="bind it to a name first: f = lambda x: ...")
    if isinstance(node, (gast.While, gast.For)) and isinstance(node, gast.While) and node.orelse:
        raise UnsupportedSyntax("while/else is not supported", node, info.source,
                                hint="use a flag variable set before break")
    if isinstance(node, (gast.For, gast.comprehension)) and any(
            isinstance(n, gast.Starred) for n in gast.walk(node.target)):
        raise UnsupportedSyntax("a starred loop target (for a, *rest in ...) is not supported", node.target,
                                info.source, hint="unpack inside the loop body: a, *rest = item")
    if isinstance(node, gast.AnnAssign) and node.value is None:
        raise UnsupportedSyntax("a bare annotation without a value is not supported", node, info.source)
    if isinstance(node, gast.Call):
        target = info.resolve_static(node.func)
        try:
            forbidden = _FORBIDDEN_CALLS.get(target)
        except TypeError:
            forbidden = None
        if forbidden:
            raise UnsupportedSyntax(f"{forbidden}() is not differentiable", node, info.source,
                                    hint="write the code directly instead of building it at run time")
    if isinstance(node, gast.ListComp) and len(node.generators) != 1:
        raise UnsupportedSyntax("nested list comprehensions are not supported yet", node, info.source,
                                hint="write the loops as for statements")
