"""hoist_test_invariants: the parts of a `while` test the loop cannot change are computed once.

Input: a generated FunctionDef after `inline_while_tests` (the test is one
expression again); not run on code compiled to be differentiated again.
Output: the same function where each part of such a test that the loop
cannot change (``1e-12 * a`` in ``while abs(x * x * x - a) > 1e-12 * a``) is
assigned to a fresh ``_invariant`` name just before the loop and the test
reads that name: a pure expression, evaluated whenever the test is (not
behind ``and``/``or``, a conditional expression or a later link of a
comparison chain, so moving it before the loop raises nothing the first test
would not have), reading no name the loop binds, in a loop with no ``else``,
no in-place write or impure call (nothing can change an array it reads;
pushes onto the compiler's tapes allowed).  The first test evaluated it at
that very point, and every later test would get the same value.
"""

import gast

from .. import ast_util as A
from ..naming import Namer, identifiers
from .purity import is_pure_expr
from .while_loops import each_while, only_rebinds


def hoist_test_invariants(fn):
    """fn with loop-invariant parts of `while` tests computed before the loop."""
    namer = Namer(identifiers(fn))

    def rewrite(block, k):
        stmt = block[k]
        if stmt.orelse or not only_rebinds(stmt.body):
            return k
        hoisted = []
        stmt.test = _Hoist(A.names_bound([stmt]), namer, hoisted).visit(stmt.test)
        block[k:k] = [A.located(h, stmt) for h in hoisted]
        return k + len(hoisted)
    each_while(fn.body, rewrite)
    return fn


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
