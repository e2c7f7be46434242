"""algebra: algebraic identities folded in generated expressions.

Input: a generated FunctionDef (after dead-code elimination).
Output: the same function where
  * ``e * 1.0``, ``1.0 * e``, ``e + 0.0``, ``e / 1.0``, ``e ** 1.0`` are ``e``
    where arithmetic consumes the value or e is itself a new value (``b = a * 1.0``,
    ``[a * 1.0]``, ``append_dot(..., fit_dot(a_dot * 1.0, t))`` keep their product:
    nothing may come to share a's object),
    products and sums of two number constants are folded, ``-(-e)`` is ``e``,
    and ``(-a) * b`` is ``-(a * b)``;
  * a negation that a sum's term is odd in moves into the sum's operator,
    also through a product or quotient (``x + (-g) * c`` is ``x - g * c``,
    ``-((-a) / b * c)`` is ``a / b * c``, ``x += -e`` is ``x -= e``);
  * ``head_part(g, a, b)`` / ``tail_part(g, a, b)`` with a number a or b is g
    (a sum with a number never concatenates), and ``unbroadcast(-g, x)``
    negates after summing: ``-unbroadcast(g, x)``;
  * ``pow_dxk(x, c, k)`` with number constants c and k is its closed form.
Every rewrite is exact (negation commutes with rounding); semantics,
including evaluation order of impure calls, are unchanged.
"""

import operator as _op

import gast

from .. import ast_util as A
from .. import effects
from .. import runtime
from .. import runtime_pure
from ..runtime import unbroadcast as _unbroadcast
from ..rules.operators import falling_product, pow_dxk
from .rewriting import is_const


def _passed_through(expr):
    """The expression whose object expr may evaluate to as it is: expr itself, or the first
    argument of a helper that returns its argument or a new object (fit_dot, unbroadcast...)."""
    while isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.args \
            and effects.has(getattr(expr.func, "diffc_global", None), effects.ARGUMENT_OR_NEW):
        expr = expr.args[0]
    return expr


_DISPLAYS = (gast.List, gast.Tuple, gast.Set, gast.Dict)
# pure helpers of code differentiated again that may hold their value argument as it is
_TANGENT_STORES = (runtime_pure.added_item, runtime_pure.written_dot, runtime_pure.appended_dot,
                   runtime_pure.extended_dot)
_KEEPING = (effects.ARGUMENT_OR_NEW, effects.HOLDS_ARGUMENTS, effects.RETURNS_ARGUMENTS, effects.MUTATES_FIRST)


def _keeps_its_argument(parent):
    """Whether the value of a child of parent may end up held as it is: bound to a name, put
    in a display, or given to a helper that may hand it back or store it (fit_dot,
    append_dot, write_dot...).  Arithmetic, NumPy functions and returns make or pass on
    values the caller does not hold under another name."""
    if isinstance(parent, (gast.Assign, gast.AugAssign) + _DISPLAYS):
        return True
    if isinstance(parent, gast.Call) and isinstance(parent.func, gast.Attribute):
        return True                     # a method (lst.append(v)) may keep its argument
    if isinstance(parent, gast.Call) and isinstance(parent.func, gast.Name):
        helper = getattr(parent.func, "diffc_global", None)
        return any(effects.has(helper, fact) for fact in _KEEPING) or helper in _TANGENT_STORES
    return False


class _Algebra(gast.NodeTransformer):
    """The folds.  An identity fold (``e * 1.0`` to ``e``) that would leave a bare name
    (or a helper handing back its argument, ``fit_dot(a_dot, t)``) where the product was
    a new array is made only where arithmetic consumes the value: anywhere else (bound to
    a name, put in a list, appended, passed to a tangent helper that stores it) the name
    would share the array, and a later in-place write into it (`y[1:] = ...`, whose
    tangent write_dot writes y_dot in place) would change the other name too."""

    def __init__(self):
        self.parents = []

    def visit(self, node):
        self.parents.append(node)
        try:
            return super().visit(node)
        finally:
            self.parents.pop()

    def _identity(self, node, operand):
        """operand in place of node (``operand * 1.0``...), unless that shares an object."""
        parent = self.parents[-2] if len(self.parents) > 1 else None
        if isinstance(_passed_through(operand), gast.Name) and _keeps_its_argument(parent):
            return node
        return operand

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if isinstance(op, gast.Mult) and getattr(right, "diffc_folded_power", False):
            # the form the rule had before its derivative was a call: g * b * x ** (b - 1)
            return gast.BinOp(left=gast.BinOp(left=left, op=gast.Mult(), right=right.left),
                              op=gast.Mult(), right=right.right)
        if _is_number(left) and _is_number(right) and type(op) in _FOLD:
            try:
                value = _FOLD[type(op)](left.value, right.value)
            except (ArithmeticError, ValueError):
                return node
            if isinstance(value, (int, float)) and abs(value) < 1e15:
                return gast.Constant(value=value, kind=None)
        if isinstance(op, gast.Mult):
            if is_const(right, 1.0):
                return self._identity(node, left)
            if is_const(left, 1.0):
                return self._identity(node, right)
        if isinstance(op, (gast.Add, gast.Sub)) and is_const(right, 0.0) and not is_const(right, False):
            return self._identity(node, left)
        if isinstance(op, (gast.Div, gast.Pow)) and is_const(right, 1.0):
            return self._identity(node, left)
        if isinstance(op, gast.Mult) and isinstance(left, gast.UnaryOp) and isinstance(left.op, gast.USub):
            return gast.UnaryOp(op=gast.USub(), operand=gast.BinOp(left=left.operand, op=op, right=right))
        if isinstance(op, (gast.Add, gast.Sub)) and _drop_linear_negation(node.right):
            node.op = gast.Sub() if isinstance(op, gast.Add) else gast.Add()
        return node

    def visit_Call(self, node):
        """`unbroadcast(-g, x)` -> `-unbroadcast(g, x)`: negating after the sum over the
        broadcast axes touches x's elements instead of g's (the same value: negation
        is exact and the summation order does not change).  `pow_dxk(x, c, k)` with
        constant c and k (the k-th derivative of x ** c) becomes `coef * x ** (c - k)`,
        or 0 when the coefficient is 0 (x ** 0.0, x ** 1.0 differentiated twice ...)."""
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and getattr(node.func, "diffc_global", None) is pow_dxk \
                and len(node.args) == 3 and not node.keywords \
                and _is_number(node.args[1]) and _is_number(node.args[2]):
            return _folded_power_derivative(node.args[0], node.args[1].value, node.args[2].value)
        if isinstance(node.func, gast.Name) and getattr(node.func, "diffc_global", None) in _PARTS \
                and len(node.args) == 3 and not node.keywords \
                and (_is_signed_number(node.args[1]) or _is_signed_number(node.args[2])):
            return node.args[0]     # a number operand: `a + b` adds, never concatenates
        if isinstance(node.func, gast.Name) and getattr(node.func, "diffc_global", None) is _unbroadcast \
                and len(node.args) == 2 and not node.keywords and isinstance(node.args[0], gast.UnaryOp) \
                and isinstance(node.args[0].op, gast.USub):
            node.args[0] = node.args[0].operand
            return gast.UnaryOp(op=gast.USub(), operand=node)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.UnaryOp) \
                and isinstance(node.operand.op, gast.USub):
            return node.operand.operand
        if isinstance(node.op, gast.USub) and _has_linear_negation(node.operand) \
                and _drop_linear_negation(node.operand):
            return node.operand      # -((-a) / b * c) -> a / b * c
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        value = node.value
        if isinstance(node.op, gast.Add) and isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
            node.op = gast.Sub()
            node.value = value.operand
        elif isinstance(node.op, (gast.Add, gast.Sub)) and _drop_linear_negation(node.value):
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
        return node


def _drop_linear_negation(expr):
    """Remove one unary minus that expr's value is odd in, so expr becomes -expr; whether it did.

    ``x + e`` with e = f(-g) for f linear in g (a product's factor, a quotient's
    numerator, the adjoint argument of a linear helper: unbroadcast, the spreads
    _sum_bar/_sum_bar_times, _extreme_bar, _dot_bar_a/_dot_bar_b) is ``x - f(g)``:
    the negation disappears instead of being applied to g (one operation less).
    Exact: negation commutes with rounded products, quotients and sums (up to
    the sign of zeros).  The path goes through expr's nodes only (a name's value
    is not looked into); the top-level minus is the caller's (-e) case."""
    parent, field, index = None, None, None
    node = expr
    while True:
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            if parent is None:
                return False                     # -e at the top: the existing rules
            if index is None:
                setattr(parent, field, node.operand)
            else:
                getattr(parent, field)[index] = node.operand
            return True
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
            side = "left" if _has_linear_negation(node.left) else "right"
            parent, field, index, node = node, side, None, getattr(node, side)
        elif isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
            parent, field, index, node = node, "left", None, node.left
        elif isinstance(node, gast.Call) and _linear_helper(node):
            parent, field, index, node = node, "args", 0, node.args[0]
        else:
            return False


def _has_linear_negation(expr):
    node = expr
    while True:
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            return True
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
            if _has_linear_negation(node.left):
                return True
            node = node.right
        elif isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
            node = node.left
        elif isinstance(node, gast.Call) and _linear_helper(node):
            node = node.args[0]
        else:
            return False


def _linear_helper(call):
    if not (isinstance(call.func, gast.Name) and call.args and not call.keywords):
        return False
    fn = getattr(call.func, "diffc_global", None)
    return effects.has(fn, effects.LINEAR_IN_FIRST)


def _folded_power_derivative(x, c, k):
    """The expression of `pow_dxk(x, c, k)` for numbers c, k (see rules/operators.py)."""
    coef, _ = falling_product(c, k)
    if coef == 0:
        return gast.Constant(value=0.0 if isinstance(coef, float) else 0, kind=None)
    e = c - k
    if e == 0:
        return gast.Constant(value=coef, kind=None)
    power = A.deepcopy(x) if e == 1 else gast.BinOp(left=A.deepcopy(x), op=gast.Pow(),
                                                      right=_number(e))
    if coef == 1:
        return power
    product = gast.BinOp(left=_number(coef), op=gast.Mult(), right=power)
    product.diffc_folded_power = True      # `g * product` re-associates as `g * coef * power`
    return product


def _number(value):
    if value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
    return gast.Constant(value=value, kind=None)


_PARTS = (runtime.head_part, runtime.tail_part)


def _is_signed_number(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return _is_number(node)


def _is_number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


_FOLD = {gast.Add: _op.add, gast.Sub: _op.sub, gast.Mult: _op.mul}


def algebra(fn):
    return _Algebra().visit(fn)
