"""early_defaults: defaults of local functions and lambdas computed from local values.

Input: a parsed function body (gast), before parse.lift_local_functions.
Output: the same body where every lambda and nested ``def`` whose default values read a
variable of the enclosing function (``lambda h, w=w: np.tanh(w * h)``, often in a loop or
a comprehension, ``def g(t, k=k)``) takes those parameters from a ``functools.partial``:

* ``lambda h, w=w: body`` is ``functools.partial(lambda h, w: body, w=w)``;
* ``def g(h, w=w): ...`` is ``def _g_defaults(h, w): ...`` then ``g = functools.partial(
  _g_defaults, w=w)``.

Why: Python evaluates a default once, where the function is defined; diffc lifts local
functions and lambdas to the top of the function and fills an omitted argument in at each
call from the default's expression.  A default reading a local was then evaluated at the
call (another value, or a name that no longer exists there: a lambda made in a loop), and
its derivative was lost (the call did not count as reading it).  A partial holds the value
taken where the function is made, and diffc carries the derivatives a partial holds.
Only the parameters whose defaults read local names change; the others keep their defaults.
Such a parameter can still be given by keyword (``g(h, w=v)``), not by position.

Such a function handed out of the function that makes it (returned, yielded, or a local
``def`` whose name a return or yield reads: ``def layers(self): for w in self.ws: yield
lambda h, w=w: ...``) is refused at its line: the partial would leave the function, and
its derivative is followed there only to first order (a generator method is even run as
plain Python, whose lambdas hold their defaults out of diffc's sight).
"""

import functools

import gast

from . import ast_util as A


def hold_local_defaults(node, fail):
    """Rewrite node's body in place (see the module docstring); returns node.  fail(message,
    node, hint): raises the UnsupportedSyntax naming node's line."""
    local = _local_names(node)
    rewriter = _Rewriter(local, fail, _handed_out(node))
    node.body = rewriter.block(node.body)
    return node


def _handed_out(node):
    """Names read by the return and yield expressions of node (not of nested functions), other
    than as the function of a call."""
    out = set()
    stack = list(node.body)
    while stack:
        n = stack.pop()
        if isinstance(n, (gast.FunctionDef, gast.Lambda)):
            continue
        if isinstance(n, (gast.Return, gast.Yield, gast.YieldFrom)) and n.value is not None:
            called = {id(m.func) for m in gast.walk(n.value) if isinstance(m, gast.Call)}
            out |= {m.id for m in gast.walk(n.value) if isinstance(m, gast.Name) and id(m) not in called}
        stack.extend(gast.iter_child_nodes(n))
    return out


def _local_names(node):
    """Names bound anywhere in node (its parameters, assignments, loop and comprehension
    targets), but not those bound only to local functions (``def sigmoid``, ``act = lambda
    z: ...``: diffc never lets them be rebound, so a default reading one is the function)."""
    lambdas = {id(n.targets[0]) for n in gast.walk(node) if isinstance(n, gast.Assign)
               and isinstance(n.value, gast.Lambda) and len(n.targets) == 1}
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name)
            and isinstance(n.ctx, (gast.Store, gast.Param)) and id(n) not in lambdas}


def _handed_values(value):
    """ids of value and of the items of the tuple, list and dict displays it is made of (what a
    return or yield hands out; not a lambda consumed inside it, ``max(xs, key=lambda ...)``)."""
    out = {id(value)}
    if isinstance(value, (gast.Tuple, gast.List, gast.Set)):
        for elt in value.elts:
            out |= _handed_values(elt)
    elif isinstance(value, gast.Dict):
        for elt in value.values:
            out |= _handed_values(elt)
    return out


def _split(args, local):
    """(names of the parameters whose default reads a local name, their default
    expressions) of a gast.arguments; the arguments lose those defaults."""
    positional = args.posonlyargs + args.args
    held = []
    first = len(positional) - len(args.defaults)
    for k, (param, default) in enumerate(zip(positional[first:], args.defaults)):
        if _reads_local(default, local):
            held.append((param.id, default, ("positional", first + k)))
    for k, (param, default) in enumerate(zip(args.kwonlyargs, args.kw_defaults)):
        if default is not None and _reads_local(default, local):
            held.append((param.id, default, ("keyword", k)))
    if not held:
        return []
    # Positional parameters after the first held one lose their defaults too (Python needs
    # the defaults on the last parameters); constants among them are held as well.
    positional_held = [where[1] for _, _, where in held if where[0] == "positional"]
    if positional_held:
        start = min(positional_held)
        held = [h for h in held if h[2][0] == "keyword"]
        for param, default in zip(positional[start:], args.defaults[start - first:]):
            held.append((param.id, default, ("positional", None)))
        args.defaults = args.defaults[:start - first]
    for name, _, where in held:
        if where[0] == "keyword":
            args.kw_defaults[where[1]] = None
    return [(name, default) for name, default, _ in held]


def _reads_local(expr, local):
    return any(isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in local
               for n in gast.walk(expr))


def _partial(fn, held):
    call = A.call(A.global_ref(functools.partial, "partial"), [fn],
                  [gast.keyword(arg=name, value=default) for name, default in held])
    return gast.copy_location(call, fn)


_REFUSED = ("this function takes a default from a local value ({names}) and leaves the function "
            "that makes it (returned or yielded); diffc follows such defaults only in the function "
            "that makes them")
_HINT = "pass the value as an argument where the function is called, or build the function there"


class _Rewriter(gast.NodeTransformer):
    def __init__(self, local, fail, handed_out):
        self.local = local
        self.fail = fail
        self.handed_out = handed_out
        self.escaping = set()           # ids of the lambdas the statement returns or yields

    def block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(self.statement(stmt))
        return out

    def statement(self, stmt):
        if isinstance(stmt, gast.FunctionDef):
            held = _split(stmt.args, self.local)
            inner = self.local | _local_names(stmt)
            stmt.body = _Rewriter(inner, self.fail, _handed_out(stmt)).block(stmt.body)
            if not held:
                return [stmt]
            if stmt.name in self.handed_out:
                self.fail(_REFUSED.format(names=", ".join(n for n, _ in held)), stmt, _HINT)
            name = stmt.name
            stmt.name = f"_{name}_defaults"
            bind = A.assign(name, _partial(A.name(stmt.name), held))
            return [stmt, gast.copy_location(bind, stmt)]
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, self.block(inner))
        for handler in getattr(stmt, "handlers", None) or ():
            handler.body = self.block(handler.body)
        for case in getattr(stmt, "cases", None) or ():
            case.body = self.block(case.body)
        self.escaping = set()
        for n in gast.walk(stmt):
            if isinstance(n, (gast.Return, gast.Yield, gast.YieldFrom)) and n.value is not None:
                self.escaping |= _handed_values(n.value)
        for field, value in gast.iter_fields(stmt):
            if field in ("body", "orelse", "finalbody", "handlers", "cases"):
                continue
            if isinstance(value, gast.AST):
                setattr(stmt, field, self.visit(value))
            elif isinstance(value, list):
                setattr(stmt, field, [self.visit(v) if isinstance(v, gast.AST) else v for v in value])
        return [stmt]

    def visit_Lambda(self, node):
        held = _split(node.args, self.local)
        if held and id(node) in self.escaping:
            self.fail(_REFUSED.format(names=", ".join(n for n, _ in held)), node, _HINT)
        node.body = self.visit(node.body)
        return _partial(node, held) if held else node
