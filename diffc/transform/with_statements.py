"""with_statements: `with` as the calls and the try Python runs.

Input: a fenced `FunctionInfo`, before transform/attribute_writes.py (which
then follows ``__enter__`` and ``__exit__`` like any method call: their
writes into the manager and their results carry derivatives).
Output: the same function, equal under Python's semantics, without ``with``:

    with m as v:                 m.__enter__() is the manager's (a fresh _m
        body                     holds it unless m is a name the body keeps)
  ->
    _m = m
    v = _m.__enter__()
    try:
        body                     (each return, and break or continue leaving
                                 the body, first calls _m.__exit__(None, None, None);
                                 a returned value is computed before)
    except Entered(_m) as _e:    (runtime_try.Entered: this handler is taken when
        if not _m.__exit__(exception_type(_e), _e, traceback_of(_e)):
            raise _e             _m.__exit__ suppresses the exception, try_paths)
    else:
        _m.__exit__(None, None, None)

``with C(...) as v`` for a user class C whose ``__enter__`` returns self is
``v = C(...); v.__enter__()`` (v is the manager, written in the body as any
object the function builds).  ``contextlib.suppress(E)`` is ``try: ... except
E: pass``; ``contextlib.nullcontext(v) as w`` binds ``w = v``.  Several items
nest.  A with inside a try or with body is one statement (``if True:``), so an
exception passing through it to a handler outside leaves it whole (the handler
path never replays its ``__enter__`` alone).
"""

import ast
import contextlib
import inspect
import textwrap

import gast

from .. import ast_util as A
from .. import runtime, runtime_checks
from .try_atomicity import leaves_no_partial_effect


def lower_with_statements(info, namer):
    """See the module docstring; rewrites info.node in place and returns info."""
    info.node.body = _block(info, namer, info.node.body, inside=False)
    return info


def _block(info, namer, stmts, inside):
    out = []
    for stmt in stmts:
        if isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            out.append(stmt)
            continue
        for field in ("body", "orelse", "finalbody"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                nested = inside or (field == "body" and isinstance(stmt, (gast.Try, gast.With)))
                setattr(stmt, field, _block(info, namer, block, nested))
        for part in (getattr(stmt, "handlers", None) or []) + (getattr(stmt, "cases", None) or []):
            part.body = _block(info, namer, part.body, inside)
        if not isinstance(stmt, gast.With):
            out.append(stmt)
            continue
        lowered = _with(info, namer, stmt, stmt.items)
        if inside:
            block = A.located(A.if_(A.const(True), lowered), stmt)
            block.diffc_atomic = _atomic(stmt)
            lowered = [block]
        out.extend(lowered)
    return out


def _atomic(stmt):
    """Whether raising part way through the with statement leaves nothing a handler
    outside can read: fresh managers (no name of the user's holds them), no `as`,
    one body statement that is itself such (transform/try_atomicity.py)."""
    return (all(item.optional_vars is None and not isinstance(item.context_expr, gast.Name) for item in stmt.items)
            and len(stmt.body) == 1 and leaves_no_partial_effect(stmt.body[0]))


def _with(info, namer, stmt, items):
    """The statements of `with items: stmt.body` (its body already lowered)."""
    if not items:
        return stmt.body
    item, rest = items[0], items[1:]
    body = _with(info, namer, stmt, rest) if rest else stmt.body
    if rest:
        body = [A.located(A.if_(A.const(True), body), stmt)]
    expr, target = item.context_expr, item.optional_vars
    if _is_call_of(info, expr, contextlib.nullcontext) and len(expr.args) <= 1:
        bind = [A.located(A.assign(target, expr.args[0] if expr.args else A.const(None)), stmt)] \
            if target is not None else []
        return bind + body
    if target is None and _is_call_of(info, expr, contextlib.suppress) and expr.args:
        handler = A.located(gast.ExceptHandler(type=gast.Tuple(elts=expr.args, ctx=gast.Load()), name=None,
                                               body=[A.located(gast.Pass(), stmt)]), stmt)
        return [A.located(gast.Try(body=body, handlers=[handler], orelse=[], finalbody=[]), stmt)]
    stored = {n.id for s in body for n in A.walk(s) if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load)}
    out = []
    entered = _entered_part(info, expr, target, body, stored)
    after = []
    if entered is not None:
        # `with m as t` where __enter__ hands back m or m.attr: t in the body is that
        # expression, so a write into t is a write into the manager's own value
        manager = expr.id if isinstance(expr, gast.Name) else namer.fresh("_manager", _shown_manager(info, stmt))
        if not isinstance(expr, gast.Name):
            out.append(A.located(A.assign(manager, expr), stmt))
        value = A.name(manager) if entered == "" else gast.Attribute(value=A.name(manager), attr=entered,
                                                                   ctx=gast.Load())
        augmented = entered and _augments_target(body, target.id)
        body = [_Substitute(target.id, value).visit(s) for s in body]
        if entered == "" and _bound_once(info, target.id):
            # t is the manager's object for the rest of the function too: one name for it
            _Substitute(target.id, value).visit(info.node)
        elif any(isinstance(n, gast.Name) and n.id == target.id and isinstance(n.ctx, gast.Load)
                 for n in A.walk(info.node)):
            # read after the with (its body reads the manager now): t still names the value
            after = [A.located(A.assign(target.id, A.deepcopy(value)), stmt)]
        target = None
        if augmented:
            check = A.call(A.global_ref(runtime_checks.check_updated_in_place, "check_updated_in_place"),
                           [A.name(manager), A.const(entered), A.const(info.source.file_line(stmt))])
            body = [A.located(A.expr_stmt(check), stmt)] + body
    elif isinstance(expr, gast.Name) and expr.id not in stored:
        manager = expr.id
    elif isinstance(target, gast.Name) and target.id not in stored and _enter_returns_self(info, expr):
        manager, target = target.id, None
        out.append(A.located(A.assign(manager, expr), stmt))
    else:
        manager = namer.fresh("_manager", _shown_manager(info, stmt))
        out.append(A.located(A.assign(manager, expr), stmt))
    enter = A.method_call(A.name(manager), "__enter__", [])
    out.append(A.located(A.assign(target, enter) if target is not None else A.expr_stmt(enter), stmt))
    caught = namer.fresh("_exc")
    args = [A.call(A.global_ref(runtime.exception_type, "exception_type"), [A.name(caught)]), A.name(caught),
            A.call(A.global_ref(runtime.traceback_of, "traceback_of"), [A.name(caught)])]
    reraise = A.located(gast.Raise(exc=A.name(caught), cause=None), stmt)
    handler = A.located(gast.ExceptHandler(
        type=A.call(A.global_ref(runtime.Entered, "Entered"), [A.name(manager)]), name=A.store(caught),
        body=[A.located(A.if_(A.not_(A.method_call(A.name(manager), "__exit__", args)), [reraise]), stmt)]), stmt)
    body = _exit_before_escapes(namer, body, manager, stmt)
    out.append(A.located(gast.Try(body=body, handlers=[handler], orelse=[_exit_call(manager, stmt)],
                                  finalbody=[]), stmt))
    return out + after


def _shown_manager(info, stmt):
    """How messages name the object a with statement manages: by the statement's text and line."""
    text = info.source.text(stmt)
    return f"the object of `{text.rstrip(':')}` (line {info.source.file_line(stmt)})" if text else \
        "the object of the with statement"


def _exit_call(manager, origin):
    return A.located(A.expr_stmt(A.method_call(A.name(manager), "__exit__", [A.const(None)] * 3)), origin)


def _exit_before_escapes(namer, stmts, manager, origin, in_loop=False):
    """`manager.__exit__(None, None, None)` before each return, and each break or
    continue leaving the with body; `return f(m)` computes f(m) first."""
    out = []
    for s in stmts:
        if isinstance(s, gast.Return) or (isinstance(s, (gast.Break, gast.Continue)) and not in_loop):
            if isinstance(s, gast.Return) and s.value is not None and not A.is_atom(s.value):
                value = namer.fresh("_value")
                out.append(A.located(A.assign(value, s.value), s))
                s.value = A.name(value)
            out.extend([_exit_call(manager, s), s])
            continue
        if not isinstance(s, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            loop = in_loop or isinstance(s, (gast.For, gast.While))
            for field in ("body", "orelse", "finalbody"):
                block = getattr(s, field, None)
                if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                    inner = loop if field != "orelse" or not isinstance(s, (gast.For, gast.While)) else in_loop
                    setattr(s, field, _exit_before_escapes(namer, block, manager, origin, inner))
            for part in (getattr(s, "handlers", None) or []) + (getattr(s, "cases", None) or []):
                part.body = _exit_before_escapes(namer, part.body, manager, origin, in_loop)
        out.append(s)
    return out


def _is_call_of(info, expr, fn):
    return isinstance(expr, gast.Call) and not expr.keywords and info.resolve_static(expr.func) is fn


def _enter_returns_self(info, expr):
    """expr builds an object of a user class whose __enter__ returns self on every path."""
    if not isinstance(expr, gast.Call):
        return False
    cls = info.resolve_static(expr.func)
    enter = inspect.getattr_static(cls, "__enter__", None) if inspect.isclass(cls) else None
    if not inspect.isfunction(enter):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(enter)))
    except (OSError, TypeError, SyntaxError):
        return False
    fn = tree.body[0]
    if not isinstance(fn, ast.FunctionDef) or not fn.args.args:
        return False
    me = fn.args.args[0].arg
    returns = [n for n in ast.walk(fn) if isinstance(n, ast.Return)]
    last = fn.body[-1]
    rebound = any(isinstance(n, ast.Name) and n.id == me and not isinstance(n.ctx, ast.Load) for n in ast.walk(fn))
    return (bool(returns) and isinstance(last, ast.Return) and not rebound
            and all(isinstance(r.value, ast.Name) and r.value.id == me for r in returns)
            and not any(isinstance(n, (ast.Yield, ast.YieldFrom, ast.FunctionDef, ast.Lambda)) and n is not fn
                        for n in ast.walk(fn)))


class _Substitute(gast.NodeTransformer):
    """Every use of the name `name` (read, item written, augmented) as `value`."""

    def __init__(self, name, value):
        self.name, self.value = name, value

    def visit_AugAssign(self, node):
        """`t op= v` with t an array (checked when it runs): `m.attr[...] op= v`, the same
        update in place, written as an item write into the attribute."""
        self.generic_visit(node)
        if isinstance(node.target, gast.Attribute) and getattr(node.target, "diffc_as_name", False):
            whole = gast.Constant(value=Ellipsis, kind=None)
            node.target = gast.Subscript(value=gast.Attribute(value=node.target.value, attr=node.target.attr,
                                                              ctx=gast.Load()), slice=whole, ctx=gast.Store())
        return node

    def visit_Name(self, node):
        if node.id != self.name:
            return node
        new = A.deepcopy(self.value)
        new.ctx = node.ctx
        new.diffc_as_name = True
        return gast.copy_location(new, node)


def _entered_part(info, expr, target, body, stored):
    """"" when `with expr as target` binds target to the manager itself, the attribute's
    name when to one attribute of it (``return self.data``), read in the body in place of
    target; None when that is not certain: target rebound in the body (an augmented update
    is not: it is checked to update an array when it runs, runtime_checks), the manager a
    name the body uses or rebinds, the attribute written in the body or by __exit__, a
    nested function in the body."""
    if not isinstance(target, gast.Name):
        return None
    cls = _manager_class(info, expr)
    if cls is None:
        return None
    part = _returned_part(inspect.getattr_static(cls, "__enter__", None))
    if part is None or part == "" and not isinstance(expr, gast.Name):
        return None             # (`with C(...) as t` returning self: t is the manager's name)
    rebound = {n.id for s in body for n in A.walk(s) if isinstance(n, gast.Name)
               and isinstance(n.ctx, (gast.Store, gast.Del)) and not _augmented_target(s, n)}
    if target.id in rebound or any(isinstance(n, (gast.FunctionDef, gast.Lambda, gast.ClassDef))
                                   for s in body for n in A.walk(s)):
        return None
    if isinstance(expr, gast.Name) and (expr.id in stored or any(
            isinstance(n, gast.Name) and n.id == expr.id for s in body for n in A.walk(s))):
        return None
    if part and (any(isinstance(n, gast.Attribute) and n.attr == part and not isinstance(n.ctx, gast.Load)
                     for s in body for n in A.walk(s)) or _stores_attribute(inspect.getattr_static(
                         cls, "__exit__", None), part)):
        return None
    return part


def _bound_once(info, name):
    """name's only binding in the function is the with statement's `as` (and it is no
    parameter): after it, name and the manager are one object wherever name is read."""
    stores = [n for n in A.walk(info.node) if isinstance(n, gast.Name) and n.id == name
              and not isinstance(n.ctx, gast.Load)]
    return len(stores) == 1 and name not in {a.id for a in info.node.args.args + info.node.args.kwonlyargs}


def _augmented_target(stmt, name_node):
    return any(isinstance(n, gast.AugAssign) and n.target is name_node for n in A.walk(stmt))


def _augments_target(body, name):
    """`t += v` in the body: read as `m.attr += v`, the same when the value is updated in
    place; for a number Python rebinds t only (checked when it runs)."""
    return any(isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name) and n.target.id == name
               for s in body for n in A.walk(s))


def _manager_class(info, expr):
    """The user class of the manager: `C(...)`, or a name every binding of which in the
    function is `name = C(...)`."""
    if isinstance(expr, gast.Call):
        cls = info.resolve_static(expr.func)
        return cls if inspect.isclass(cls) else None
    if not isinstance(expr, gast.Name):
        return None
    bindings = [n for n in A.walk(info.node) if isinstance(n, gast.Name) and n.id == expr.id
                and not isinstance(n.ctx, gast.Load)]
    assigns = [s for s in A.walk(info.node) if isinstance(s, gast.Assign) and len(s.targets) == 1
               and isinstance(s.targets[0], gast.Name) and s.targets[0].id == expr.id]
    if len(bindings) != 1 or len(assigns) != 1 or not isinstance(assigns[0].value, gast.Call):
        return None
    cls = info.resolve_static(assigns[0].value.func)
    return cls if inspect.isclass(cls) else None


def _method_tree(method):
    if not inspect.isfunction(method):
        return None
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return None
    fn = tree.body[0] if tree.body else None
    if not isinstance(fn, ast.FunctionDef) or not fn.args.args or any(
            isinstance(n, (ast.Yield, ast.YieldFrom, ast.FunctionDef, ast.Lambda, ast.ClassDef)) and n is not fn
            for n in ast.walk(fn)):
        return None
    return fn


def _returned_part(enter):
    """"" when every path of __enter__ returns self, the attribute name when every path
    returns ``self.name`` (one name), else None."""
    fn = _method_tree(enter)
    if fn is None or not isinstance(fn.body[-1], ast.Return):
        return None
    me = fn.args.args[0].arg
    if any(isinstance(n, ast.Name) and n.id == me and not isinstance(n.ctx, ast.Load) for n in ast.walk(fn)):
        return None
    parts = set()
    for r in (n for n in ast.walk(fn) if isinstance(n, ast.Return)):
        if isinstance(r.value, ast.Name) and r.value.id == me:
            parts.add("")
        elif isinstance(r.value, ast.Attribute) and isinstance(r.value.value, ast.Name) and r.value.value.id == me:
            parts.add(r.value.attr)
        else:
            return None
    return parts.pop() if len(parts) == 1 else None


def _stores_attribute(method, attr):
    """Whether the method (its source unread: assume so) may rebind an attribute `attr`."""
    fn = _method_tree(method)
    if fn is None:
        return True
    return any(isinstance(n, ast.Attribute) and n.attr == attr and not isinstance(n.ctx, ast.Load)
               for n in ast.walk(fn)) or any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                                             and n.func.id in ("setattr", "delattr") for n in ast.walk(fn))
