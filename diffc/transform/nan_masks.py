"""nan_masks: a NaN-ignoring reduction of an elementwise expression, written so that the
entries it ignores give no derivative.

Input: a fenced `FunctionInfo`, before transform/desugar.py.
Output: the same function, equal in value, where ``np.nansum(E, ...)`` (nanmean, nanvar,
nanstd, nanmax, nanmin, nanprod, written as one expression) whose first argument E is an
elementwise expression (arithmetic, unary minus, the elementwise NumPy functions below, of
names, attributes, items and constants) is

    np.nansum(nan_kept(_m := nan_mask(E), E'), ...)

with ``_m`` a fresh name, E' the expression E with every name (attribute, item) leaf v
read as ``nan_clean(_m, v)`` (``np.where(_m, 0.5, v)``), and ``nan_kept(m, e) = np.where(m,
nan, e)`` (rules/nan_reductions.py; when E is not a float array, a list say, _m is None and
nothing changes: a list + a list still concatenates).

Why: with NaN in data (``np.nanmean((model - data) ** 2)``, data NaN where missing), the
reduction gives its entry a zero adjoint, but the chain rule multiplies that zero by a
partial derivative evaluated at NaN (``2 * (model - data)``): 0 * NaN = NaN, summed into
every parameter.  E' is E where E is not NaN (the leaves are unchanged there) and finite
partials where it is (the leaves are 0.5 there, a value every function below takes), and
nan_kept puts the NaN back, so the value is the same and the ignored entries contribute 0 * a
number.  JAX and autograd give NaN here.  E is evaluated twice (the mask, then E').
"""

import gast
import numpy as np

from .. import ast_util as A
from ..rules.nan_reductions import nan_clean, nan_kept, nan_mask

_REDUCTIONS = (np.nansum, np.nanmean, np.nanvar, np.nanstd, np.nanmax, np.nanmin, np.nanprod)
_ELEMENTWISE = (np.exp, np.log, np.log1p, np.expm1, np.sqrt, np.square, np.abs, np.absolute, np.sin, np.cos,
                np.tan, np.tanh, np.sinh, np.cosh, np.arctan, np.negative, np.reciprocal, np.power, np.multiply,
                np.add, np.subtract, np.divide, np.true_divide, np.maximum, np.minimum, np.hypot, np.logaddexp)


def mask_nan_reductions(info):
    """See the module docstring; rewrites info.node in place and returns info."""
    if not any(isinstance(n, gast.Call) for n in gast.walk(info.node)):
        return info

    class Rewriter(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            fn = info.resolve_static(node.func)
            if not any(fn is r for r in _REDUCTIONS) or not node.args or isinstance(node.args[0], gast.Starred):
                return node
            expr = node.args[0]
            if not _elementwise(info, expr) or not any(_is_leaf(n) for n in gast.walk(expr)):
                return node
            mask = info.namer.fresh("_nan_mask")
            found = A.call(A.global_ref(nan_mask, "nan_mask"), [A.deepcopy(expr)])
            bind = gast.NamedExpr(target=A.store(mask), value=found)
            clean = _Leaves(mask).visit(A.deepcopy(expr))
            node.args[0] = A.located(A.call(A.global_ref(nan_kept, "nan_kept"), [bind, clean]), expr)
            return node

    Rewriter().visit(info.node)
    return info


def _is_leaf(node):
    return isinstance(node, (gast.Name, gast.Attribute, gast.Subscript)) and isinstance(node.ctx, gast.Load)


def _elementwise(info, node):
    """Whether node is an elementwise expression of leaves and constants (module docstring)."""
    if isinstance(node, gast.Constant):
        return type(node.value) in (int, float)
    if isinstance(node, gast.Name):
        return True
    if isinstance(node, gast.Attribute):
        return isinstance(node.value, gast.Name) and not callable(info.resolve_static(node))
    if isinstance(node, gast.Subscript):
        return isinstance(node.value, gast.Name) and all(
            isinstance(k, (gast.Constant, gast.Name, gast.Slice, gast.Tuple, gast.Load, gast.UnaryOp, gast.USub))
            for k in gast.walk(node.slice))
    if isinstance(node, gast.BinOp):
        return isinstance(node.op, (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.Pow)) \
            and _elementwise(info, node.left) and _elementwise(info, node.right)
    if isinstance(node, gast.UnaryOp):
        return isinstance(node.op, (gast.USub, gast.UAdd)) and _elementwise(info, node.operand)
    if isinstance(node, gast.Call):
        fn = info.resolve_static(node.func)
        return any(fn is f for f in _ELEMENTWISE) and not node.keywords \
            and all(not isinstance(a, gast.Starred) and _elementwise(info, a) for a in node.args)
    return False


class _Leaves(gast.NodeTransformer):
    """Each leaf v (a name, attribute or item read) as np.where(mask, 0.5, v)."""

    def __init__(self, mask):
        self.mask = mask

    def _replace(self, node):
        return A.located(A.call(A.global_ref(nan_clean, "nan_clean"), [A.name(self.mask), node]), node)

    def visit_Name(self, node):
        return self._replace(node) if isinstance(node.ctx, gast.Load) else node

    def visit_Attribute(self, node):
        return self._replace(node)

    def visit_Subscript(self, node):
        return self._replace(node)

    def visit_Call(self, node):
        node.args = [self.visit(a) for a in node.args]     # (not the function's own name)
        return node
