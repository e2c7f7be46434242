"""inline_while_tests: a `while` loop tests its condition as one expression again.

ANF evaluates a loop condition into temporaries, once before the loop and
again at the end of every iteration::

    _t1 = x * x; _t2 = _t1 - a; _t3 = _t2 > tol
    while _t3:
        ...body...
        _t1 = x * x; _t2 = _t1 - a; _t3 = _t2 > tol
        _iterations = _iterations + 1

Input: a generated FunctionDef after dead-code elimination.
Output: the same function where such a loop reads ``while (x * x - a) > tol:``
and both copies of the condition's statements are gone, provided
  * the statements before the loop and the ones closing its body are the same
    assignments, in the same order, of pure expressions to plain names;
  * those names are read nowhere else in the function (only by each other and
    by the test), and assigned nowhere else;
  * nothing between the closing copy and the end of the body, or between the
    first copy and the loop, reads or writes them or anything their
    expressions read (only pure assignments may stand there).
Each test then evaluates exactly what the temporaries held, at the same
points, so the semantics are unchanged; the loop just does fewer stores
(in a Python `while` loop on floats, about a tenth of the gradient's time).
"""

import gast

from .. import ast_util as A
from .purity import is_pure_expr
from .rewriting import Substitute, count_uses
from .while_loops import each_while


def _condition_assignment(stmt):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
        and isinstance(stmt.targets[0], gast.Name) and is_pure_expr(stmt.value)


def _same(a, b):
    return gast.dump(a) == gast.dump(b)


def _inline(stmts, test):
    """The test expression with every statement of stmts substituted into it."""
    expr = A.deepcopy(test)
    for stmt in reversed(stmts):
        name = stmt.targets[0].id
        sub = Substitute(name, A.deepcopy(stmt.value))
        expr = sub.visit(gast.Expression(body=expr)).body
    return expr


def _try_loop(block, index, uses, defs):
    loop = block[index]
    if not (isinstance(loop.test, gast.Name) and not loop.orelse):
        return False
    body = loop.body
    # The closing copy: the last assignment of the test's name in the body, and the
    # condition statements right before it.
    cond = loop.test.id
    close_end = max((k for k, s in enumerate(body) if _condition_assignment(s)
                     and s.targets[0].id == cond), default=None)
    if close_end is None:
        return False
    # The first copy ends before the loop, maybe followed by independent statements
    # (the iteration counter's initialization): find its last statement.
    last = index - 1
    between = []
    while last >= 0 and not (_condition_assignment(block[last]) and _same(block[last], body[close_end])):
        between.append(block[last])
        last -= 1
    if last < 0:
        return False
    n = 0
    while last - n >= 0 and close_end - n >= 0:
        pre, post = block[last - n], body[close_end - n]
        if not (_condition_assignment(pre) and _condition_assignment(post) and _same(pre, post)):
            break
        n += 1
    pre_stmts = block[last - n + 1:last + 1]
    post_stmts = body[close_end - n + 1:close_end + 1]
    if pre_stmts[-1].targets[0].id != cond:
        return False
    names = [s.targets[0].id for s in pre_stmts]
    if len(set(names)) != len(names):
        return False
    # Each temporary: assigned exactly twice (the two copies), read only by the copies
    # (once in each) and, for the last, by the test.
    for k, name in enumerate(names):
        readers = sum(1 for s in pre_stmts[k + 1:] for m in A.walk(s.value)
                      if isinstance(m, gast.Name) and m.id == name)
        expected = 2 * readers + (1 if name == cond else 0)
        if defs.get(name) != 2 or uses.get(name, 0) != expected:
            return False
    # Nothing after the closing copy may touch what the condition reads.
    reads = set().union(*(A.names_loaded(s.value) for s in post_stmts)) | set(names)
    for later in body[close_end + 1:] + between:
        touched = {m.id for m in A.walk(later) if isinstance(m, gast.Name)}
        if not _condition_assignment(later) or touched & reads:
            return False
    loop.test = A.located(_inline(pre_stmts, loop.test), loop)
    del body[close_end - n + 1:close_end + 1]
    del block[last - n + 1:last + 1]
    if not body:
        body.append(gast.Pass())
    return True


def inline_while_tests(fn):
    """fn with loop conditions evaluated in the `while` test again (see module docstring)."""
    uses, defs = count_uses(fn)

    def rewrite(block, k):
        stmt = block[k]
        if _try_loop(block, k, uses, defs):
            return block.index(stmt)
        return k
    each_while(fn.body, rewrite)
    return fn
