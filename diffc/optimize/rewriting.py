"""rewriting: small tree utilities shared by the passes.

`count_uses` (loads and stores of every name), `Substitute` (replace the first
load of a name by an expression), `is_const` (a number constant of a value),
`mentioned_names` (every name a node mentions, loaded or stored), and
`substitute_loads` / `is_load_of` (replace every load of a name in a statement)
and `is_global` (a name bound to a given module-level object).
"""

import gast

from .. import ast_util as A


def count_uses(fn):
    uses, defs = {}, {}
    for n in A.walk(fn):
        if isinstance(n, gast.Name):
            if isinstance(n.ctx, gast.Load):
                uses[n.id] = uses.get(n.id, 0) + 1
            else:
                defs[n.id] = defs.get(n.id, 0) + 1
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            uses[n.target.id] = uses.get(n.target.id, 0) + 1
    return uses, defs


class Substitute(gast.NodeTransformer):
    def __init__(self, name, expr):
        self.name = name
        self.expr = expr
        self.done = False

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, gast.Load) and not self.done:
            self.done = True
            return self.expr
        return node


def is_const(node, value):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == value


def mentioned_names(stmt):
    return {n.id for n in A.walk(stmt) if isinstance(n, gast.Name)}


def substitute_loads(stmt, name, replacement):
    for node in A.walk(stmt):
        for field in node._fields:
            value = getattr(node, field, None)
            if is_load_of(value, name):
                setattr(node, field, A.deepcopy(replacement))
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if is_load_of(item, name):
                        value[k] = A.deepcopy(replacement)


def is_load_of(node, name):
    return isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load)


def is_global(node, fn):
    """node is a Name bound to the module-level object fn."""
    return isinstance(node, gast.Name) and getattr(node, "diffc_global", None) is fn
