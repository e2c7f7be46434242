"""scalar_rewrites: statement forms and sign rewriting shared by the scalar passes.

Used by propagate_negations.py and merge_accumulations.py (public names, no
pass here): `scalar_inc` (an accumulation reverse.py tagged as a scalar's),
`plain_assign` (one plain name bound), `negated` (a unary minus) and `Signs`
(moves negations outwards through products, quotients, sums and augmented
assignments; exact in floating point).
"""

import gast


class Signs(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        left_neg, right_neg = negated(node.left), negated(node.right)
        if isinstance(node.op, (gast.Mult, gast.Div)) and (left_neg or right_neg):
            if left_neg:
                node.left = node.left.operand
            if right_neg:
                node.right = node.right.operand
            return node if left_neg and right_neg else self.visit_UnaryOp(
                gast.UnaryOp(op=gast.USub(), operand=node))
        if isinstance(node.op, (gast.Add, gast.Sub)) and right_neg:
            node.right = node.right.operand
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and negated(node.operand):
            return node.operand.operand
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.op, (gast.Add, gast.Sub)) and negated(node.value):
            node.value = node.value.operand
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
        return node


def negated(node):
    return isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub)


def scalar_inc(stmt):
    return isinstance(stmt, gast.AugAssign) and getattr(stmt, "diffc_scalar", False) \
        and isinstance(stmt.target, gast.Name)


def plain_assign(stmt):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)
