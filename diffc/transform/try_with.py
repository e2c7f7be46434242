"""try_with: `try` statements as branches on the path Python took.

Input: one ``try`` statement of a function desugar is lowering, and the
`Desugar` doing it (its ``lower_declarations_and_match`` lowers the blocks
inside, its ``namer``, ``info`` and ``user_names`` are read).  A ``with``
statement reaches here as the try transform/with_statements.py made of it,
whose one handler's type is ``runtime.Entered(manager)``.
Output: a list of statements without ``try`` (see `lower_try`).
"""

import gast

from .. import ast_util as A
from .. import runtime
from .try_atomicity import leaves_no_partial_effect, partial_effects_dead


def lower_try(desugar, node):
    """try/except/else/finally -> branches on the path Python took.

    ::

        _try = try_enter(SITE, ATOMIC, E1, E2)  # (handler, statements to run, exception)
        if _try[1] > 0:                         # each body statement, and
            s1                                  # try_step() after it
            try_step()
        ...
        try_exit()
        if _try[0] == 0: else-block
        elif _try[0] == 1: e = _try[2]; handler 1
        ...
        finally-block

    Outside a run of the API (exported code) try_enter takes the body path.
    Under the API (diffc/try_paths.py) an exception escaping the body whose
    handler matches makes the function run again with this execution on
    that handler, after the body statements that had completed: the
    derivative is the one of the path Python took.  ATOMIC says which body
    statements leave no partial effect when they raise (simple statements):
    a loop or branch that raised half way is refused at run time.

    A with statement's try (``except Entered(_m) as e:``) enters with
    ``with_enter(SITE, ATOMIC, _m)``: its handler is taken when _m.__exit__
    suppresses the exception (try_paths)."""
    if node.finalbody and any(isinstance(s, (gast.Return, gast.Break, gast.Continue))
                              for block in [node.body, node.orelse] + [h.body for h in node.handlers]
                              for s in A.walk_statements(block)):
        desugar.fail("return, break or continue inside a try with a finally block is not supported",
                     node, hint="set a variable and leave after the try statement")
    body = desugar.lower_declarations_and_match(node.body)
    site = len(runtime.TRY_SITES) + 1
    source = desugar.info.source
    runtime.TRY_SITES[site] = (source.filename, source.file_line(node),
                               [(source.file_line(s), source.text(s)) for s in body])
    state = desugar.namer.fresh("_try")
    atomic = gast.Tuple(elts=[A.const(leaves_no_partial_effect(s) or
                                      partial_effects_dead(s, node.handlers, desugar.user_names))
                              for s in body], ctx=gast.Load())
    manager = _manager_of(desugar, node)
    if manager is None:
        handler_types = [h.type if h.type is not None else A.global_ref(Exception, "Exception")
                         for h in node.handlers]
        enter = A.call(A.global_ref(runtime.try_enter, "try_enter"), [A.const(site), atomic] + handler_types)
    else:
        enter = A.call(A.global_ref(runtime.with_enter, "with_enter"), [A.const(site), atomic, manager])
    out = [A.located(A.assign(state, enter), node)]
    step = A.call(A.global_ref(runtime.try_step, "try_step"), [A.const(site)])
    leave = A.call(A.global_ref(runtime.try_exit, "try_exit"), [])
    for k, stmt in enumerate(body):
        guarded = _before_escapes(stmt, leave) + [A.located(A.expr_stmt(A.deepcopy(step)), stmt)]
        test = gast.Compare(left=A.subscript(A.name(state), A.const(1)), ops=[gast.Gt()],
                            comparators=[A.const(k)])
        out.append(A.located(A.if_(test, guarded), stmt))
    out.append(A.located(A.expr_stmt(leave), node.body[-1]))
    paths = [(0, desugar.lower_declarations_and_match(node.orelse) if node.orelse else [])]
    caught = A.subscript(A.name(state), A.const(2))
    for number, handler in enumerate(node.handlers, 1):
        block = _bare_raise_to(desugar.lower_declarations_and_match(handler.body), caught)
        if handler.name is not None:
            block = [A.located(A.assign(handler.name, A.deepcopy(caught)), handler)] + block
        paths.append((number, block))
    branches = []
    for number, block in reversed(paths):
        if not block and not branches:
            continue
        test = gast.Compare(left=A.subscript(A.name(state), A.const(0)), ops=[gast.Eq()],
                            comparators=[A.const(number)])
        branches = [A.located(A.if_(test, block or [gast.Pass()], branches), node)]
    out.extend(branches)
    out.extend(desugar.lower_declarations_and_match(node.finalbody))
    return out


def _manager_of(desugar, node):
    """The manager expression of a with statement's try (transform/with_statements.py), or None."""
    if len(node.handlers) == 1:
        kind = node.handlers[0].type
        if isinstance(kind, gast.Call) and len(kind.args) == 1 and desugar.resolve(kind.func) is runtime.Entered:
            return kind.args[0]
    return None


def _before_escapes(stmt, leave):
    """stmt with `try_exit()` before every return, and before every break or
    continue that leaves the try body (not those of loops inside it)."""
    def visit(s, in_loop):
        if isinstance(s, gast.Return) or (isinstance(s, (gast.Break, gast.Continue)) and not in_loop):
            return [A.located(A.expr_stmt(A.deepcopy(leave)), s), s]
        inner_loop = in_loop or isinstance(s, (gast.For, gast.While))
        for field in ("body", "orelse"):
            block = getattr(s, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                setattr(s, field, [t for b in block for t in visit(b, inner_loop)])
        return [s]
    return visit(stmt, False)


def _bare_raise_to(stmts, exception):
    """A bare `raise` in a handler re-raises the exception the handler caught."""
    def visit(s):
        if isinstance(s, gast.Raise) and s.exc is None:
            s.exc = A.deepcopy(exception)
        for field in ("body", "orelse"):
            block = getattr(s, field, None)
            if isinstance(block, list):
                for b in block:
                    if isinstance(b, gast.stmt):
                        visit(b)
    for s in stmts:
        visit(s)
    return stmts
