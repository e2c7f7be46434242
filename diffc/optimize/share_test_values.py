"""share_test_values: the body of a `while` loop reuses what its test just computed.

Input: a generated FunctionDef after `inline_while_tests` and
`use_loop_tapes`; not run on code compiled to be differentiated again.
Output: the same function where ``while abs(x * x * x - a) > tol: t = (x * x
* x - a) / d`` becomes ``while abs((_tested1 := x * x * x - a)) > tol: t =
_tested1 / d`` (Newton's method tests the residual it then divides), at most
one shared part per loop.  The shared part is arithmetic on names and
constants evaluated on every test (not behind ``and``/``or``, a conditional
expression or a later link of a comparison chain); the body's copies are
replaced in its leading statements only while every statement before them
binds names to pure values and none of the names the part reads, so they
would have computed the very value the test held.
"""

import gast

from .. import ast_util as A
from ..naming import Namer, identifiers
from .while_loops import only_rebinds


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
        if not (only_rebinds([stmt]) and isinstance(stmt, (gast.Assign, gast.AugAssign))):
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
