"""while_test: a `while` loop tests its condition as one expression again.

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

`hoist_test_invariants` then computes once, before the loop, each part of
such a test that the loop cannot change (``1e-12 * a`` in
``while abs(x * x * x - a) > 1e-12 * a``): a pure expression, evaluated
whenever the test is (not behind ``and``/``or``, a conditional expression
or a later link of a comparison chain, so moving it before the loop raises
nothing the first test would not have), reading no name the loop binds, in
a loop with no in-place write or impure call (nothing can change an array
it reads).  The first test evaluated it at that very point, and every later
test would get the same value.

`share_test_values` lets the body reuse what the test just computed:
``while abs(x * x * x - a) > tol: t = (x * x * x - a) / d`` becomes
``while abs((_tested1 := x * x * x - a)) > tol: t = _tested1 / d`` (Newton's
method tests the residual it then divides).  The shared part is arithmetic on
names and constants evaluated on every test (as above); the body's copies
are replaced in its leading statements only while every statement before
them binds names to pure values and none of the names the part reads, so
they would have computed the very value the test held.
"""

import gast

from .. import ast_util as A
from ..naming import Namer, identifiers
from .purity import is_pure_expr
from .rewriting import Substitute, count_uses


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
    _each_while(fn.body, rewrite)
    return fn


def hoist_test_invariants(fn):
    """fn with loop-invariant parts of `while` tests computed before the loop."""
    namer = Namer(identifiers(fn))

    def rewrite(block, k):
        stmt = block[k]
        if stmt.orelse or not _only_rebinds(stmt.body):
            return k
        hoisted = []
        stmt.test = _Hoist(A.names_bound([stmt]), namer, hoisted).visit(stmt.test)
        block[k:k] = [A.located(h, stmt) for h in hoisted]
        return k + len(hoisted)
    _each_while(fn.body, rewrite)
    return fn


def _each_while(block, rewrite):
    """rewrite(block, k) for every `while` loop block[k], inner blocks first;
    rewrite returns the loop's index after it changed the block."""
    k = 0
    while k < len(block):
        stmt = block[k]
        for inner in A.child_blocks(stmt):
            _each_while(inner, rewrite)
        if isinstance(stmt, gast.While):
            k = rewrite(block, k)
        k += 1


def _only_rebinds(stmts):
    """No statement writes into an object (subscript target, impure call)."""
    for s in A.walk_statements(stmts):
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            targets = s.targets if isinstance(s, gast.Assign) else [s.target]
            if any(not isinstance(t, (gast.Name, gast.Tuple)) for t in targets) or not is_pure_expr(s.value):
                return False
        elif isinstance(s, gast.Expr):
            if not _tape_push(s):
                return False
        elif isinstance(s, (gast.If, gast.While)) and not is_pure_expr(s.test):
            return False
        elif isinstance(s, gast.For) and not is_pure_expr(s.iter):
            return False
        elif not isinstance(s, (gast.If, gast.While, gast.For, gast.Pass)):
            return False
    return True


def _tape_push(stmt):
    """A push onto a tape (tagged by pipeline.py or loop_tapes.py): a list of the
    compiler's own, read by no test."""
    call = stmt.value
    return getattr(stmt, "diffc_tape_op", False) and all(is_pure_expr(a) for a in call.args)


class _Hoist(gast.NodeTransformer):
    """Replaces invariant, always-evaluated operations of a test by fresh names."""

    def __init__(self, bound, namer, out):
        self.bound, self.namer, self.out = bound, namer, out

    def generic_visit(self, node):
        if isinstance(node, (gast.BinOp, gast.UnaryOp, gast.Call)) and is_pure_expr(node) \
                and not (A.names_loaded(node) & self.bound):
            name = self.namer.fresh("_invariant")
            self.out.append(A.assign(name, node))
            return A.name(name)
        return super().generic_visit(node)

    def visit_BoolOp(self, node):
        node.values[0] = self.visit(node.values[0])        # the others may not run
        return node

    def visit_IfExp(self, node):
        node.test = self.visit(node.test)
        return node

    def visit_Compare(self, node):
        node.left = self.visit(node.left)
        node.comparators[0] = self.visit(node.comparators[0])
        return node

    def visit_Lambda(self, node):
        return node


def share_test_values(fn):
    """fn with arithmetic a `while` test computes reused by its body (see module docstring)."""
    namer = Namer(identifiers(fn))
    for stmt in list(A.walk_statements(fn.body)):
        if isinstance(stmt, gast.While) and not stmt.orelse:
            for part in _unconditional_arithmetic(stmt.test):
                if _share(stmt, part, namer):
                    break            # one shared value per loop: the parts may overlap
    return fn


def _unconditional_arithmetic(test):
    """BinOp parts of a test evaluated on every test, largest first."""
    out = []

    def visit(node):
        if isinstance(node, gast.BinOp):
            if all(isinstance(n, (gast.BinOp, gast.UnaryOp, gast.Name, gast.Constant, gast.operator,
                                  gast.unaryop, gast.expr_context)) for n in A.walk(node)) \
                    and not any(hasattr(n, "diffc_global") for n in A.walk(node)):
                out.append(node)
            visit(node.left)
            visit(node.right)
        elif isinstance(node, gast.BoolOp):
            visit(node.values[0])
        elif isinstance(node, gast.IfExp):
            visit(node.test)
        elif isinstance(node, gast.Compare):
            visit(node.left)
            visit(node.comparators[0])
        elif isinstance(node, gast.Call):
            for a in node.args:
                visit(a)
        elif isinstance(node, gast.UnaryOp):
            visit(node.operand)
    visit(test)
    return out


def _share(loop, part, namer):
    key = gast.dump(part)
    reads = A.names_loaded(part)
    name = None
    for stmt in loop.body:
        if not (_only_rebinds([stmt]) and isinstance(stmt, (gast.Assign, gast.AugAssign))):
            break
        replacer = _Replace(key, lambda: A.name(name))
        if name is None and any(gast.dump(n) == key for n in A.walk(stmt.value)):
            name = namer.fresh("_tested")
        if name is not None:
            stmt.value = replacer.visit(stmt.value)
        if A.names_bound([stmt]) & reads:
            break
    if name is None:
        return False
    _Replace(key, lambda: gast.NamedExpr(target=A.store(name), value=part), once=True).visit(loop.test)
    return True


class _Replace(gast.NodeTransformer):
    def __init__(self, key, make, once=False):
        self.key, self.make, self.once, self.done = key, make, once, False

    def visit(self, node):
        if isinstance(node, gast.expr) and not (self.once and self.done) and gast.dump(node) == self.key:
            self.done = True
            return self.make()
        return super().visit(node)
