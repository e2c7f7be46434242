"""smooth_forms: `abs(e) ** 2` as the smooth function it is.

Input: a fenced `FunctionInfo`, before transform/desugar.py.
Output: the same function, equal in value, where ``abs(e) ** 2``,
``np.abs(e) ** 2``, ``np.absolute(e) ** 2``, ``np.square(np.abs(e))`` and
``abs(v) * abs(v)`` (v one name, maybe indexed by constants or names) (for the
functions themselves, not names rebound; the exponent the literal 2 or 2.0) are
``rules.complex_rules.abs_squared(e)``: the same value, whose derivative is
``2 Re(conj(e) de)`` everywhere.  Through ``abs`` the chain rule has no slope at
``e == 0`` (the subgradient 0: the second derivative of ``abs(x) ** 2`` at 0 was
0, not 2, and for complex e it was NaN), although ``|e|**2`` is smooth there.
"""

import builtins

import gast
import numpy as np

from .. import ast_util as A
from ..rules.complex_rules import abs_squared

_ABS = (builtins.abs, np.abs, np.absolute)


def rewrite_smooth_forms(info):
    """See the module docstring; rewrites info.node in place and returns info."""
    if not any(isinstance(n, gast.Call) for n in gast.walk(info.node)):
        return info

    class Rewriter(gast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            inner = None
            if isinstance(node.op, gast.Pow) and _is_two(node.right):
                inner = _abs_argument(info, node.left)
            elif isinstance(node.op, gast.Mult):
                inner = _abs_argument(info, node.left)
                other = _abs_argument(info, node.right)
                if inner is None or other is None or not _same_read(inner, other):
                    inner = None
            if inner is not None:
                return A.located(A.call(A.global_ref(abs_squared, "abs_squared"), [inner]), node)
            return node

        def visit_Call(self, node):
            self.generic_visit(node)
            if len(node.args) == 1 and not node.keywords and info.resolve_static(node.func) is np.square:
                inner = _abs_argument(info, node.args[0])
                if inner is not None:
                    return A.located(A.call(A.global_ref(abs_squared, "abs_squared"), [inner]), node)
            return node

    Rewriter().visit(info.node)
    return info


def _is_two(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == 2


def _same_read(a, b):
    """a and b read the same value: one name, or one name indexed by the same constants."""
    def plain(n):
        if isinstance(n, gast.Name):
            return True
        return isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) \
            and all(isinstance(k, (gast.Constant, gast.Name)) for k in gast.walk(n.slice)
                    if not isinstance(k, (gast.Tuple, gast.Load, gast.USub, gast.UnaryOp)))
    return plain(a) and plain(b) and gast.dump(a) == gast.dump(b)


def _abs_argument(info, node):
    if isinstance(node, gast.Call) and len(node.args) == 1 and not node.keywords \
            and any(info.resolve_static(node.func) is f for f in _ABS):
        return node.args[0]
    return None
