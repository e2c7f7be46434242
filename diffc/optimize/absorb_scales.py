"""absorb_scales: constant scales and declared rule forms folded into helper calls (first order).

Runs right after `fuse_sum_spreads` in the pipeline's list, never on code
compiled to be differentiated again (the helpers it calls have no derivative
rules).

Input: a generated FunctionDef after `fuse_sum_spreads` made its
``_sum_bar_times`` calls.
Output: the same function where
  * ``_sum_bar_times(g, a, y, ...) * c`` is ``_sum_bar_times(g * c, a, y, ...)``
    for a constant c that is a power of two of magnitude 1 or more (exact:
    the value is the same bit for bit);
  * an expression of the form a rule declares with `rules.computed_by` (the
    tanh rules: ``g * (1.0 - r * r)``) is a call of the declared helper
    (``_times_one_minus_square(g, r)``), the same value with fewer temporaries.
    The pattern is the rule's own returned expression (`rules.computed_forms`),
    not text written here: its parameters match any expression, a parameter
    used twice only a plain local name (so both uses are one value), constants
    only a constant of the same type and value, and the two operands of the
    outermost ``*`` match in either order.  When the helper's arguments are not
    in the order the expression evaluated them, they must be pure.
"""

from math import frexp as _frexp

import gast

from .. import ast_util as A
from .. import rules as R
from ..rules import reductions
from .purity import pure_value
from .rewriting import is_global


def absorb_scales(fn):
    """First-order rewrites of adjoint products, after optimize/fuse_sum_spreads.py made its helper calls.

    * ``_sum_bar_times(g, a, y, ...) * c`` -> ``_sum_bar_times(g * c, a, y, ...)`` for a
    constant c that is a power of two of magnitude 1 or more (2.0: the doubled
    contribution of ``x * x``).

    The spread times y is g * y (g a scalar, or smaller than y): scaling g by c
    instead of the product costs one operation on g instead of one on the
    product.  The value is the same bit for bit: multiplying by a power of two
    is exact and commutes with rounding (outside overflow; with |c| >= 1 no
    product underflows where it did not before).  A zero g (the guarded form's
    0.0) stays zero.
    * a declared rule form (tanh's ``g * (1.0 - r * r)``, either operand order) ->
      its helper (``_times_one_minus_square(g, r)``, rules/elementwise.py)."""
    return _AbsorbScales(R.computed_forms()).visit(fn)


class _AbsorbScales(gast.NodeTransformer):
    def __init__(self, forms):
        self.forms = forms

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Mult):
            for call, scale in ((node.left, node.right), (node.right, node.left)):
                if _is_sum_bar_times(call) and _is_power_of_two(scale):
                    call.args[0] = gast.BinOp(left=call.args[0], op=gast.Mult(), right=scale)
                    return call
        for form in self.forms:
            args = _computed_by(form, node)
            if args is not None:
                helper = form.helper
                return A.call(A.global_ref(helper, "_" + helper.__name__.lstrip("_")), args)
        return node


def _computed_by(form, node):
    """The helper's arguments when node has the form's expression, else None."""
    template = form.expression
    candidates = [template]
    if isinstance(template, gast.BinOp) and isinstance(template.op, gast.Mult):
        candidates.append(gast.BinOp(left=template.right, op=template.op, right=template.left))
    uses = {}
    for n in gast.walk(template):
        if isinstance(n, gast.Name):
            uses[n.id] = uses.get(n.id, 0) + 1
    for candidate in candidates:
        binding = {}
        if _match(candidate, node, uses, binding):
            args = [binding[p] for p in form.parameters]
            in_order = list(binding) == list(form.parameters)
            if in_order or all(pure_value(a) for a in args):
                return args
    return None


def _match(template, node, uses, binding):
    """Match node against template, binding its parameters (in evaluation order)."""
    if isinstance(template, gast.Name):
        if uses[template.id] > 1 and not (isinstance(node, gast.Name) and not hasattr(node, "diffc_global")):
            return False
        if template.id in binding:
            return isinstance(binding[template.id], gast.Name) and isinstance(node, gast.Name) \
                and binding[template.id].id == node.id
        binding[template.id] = node
        return True
    if type(template) is not type(node):
        return False
    if isinstance(template, gast.Constant):
        return type(template.value) is type(node.value) and repr(template.value) == repr(node.value)
    if isinstance(template, gast.BinOp):
        return type(template.op) is type(node.op) and _match(template.left, node.left, uses, binding) \
            and _match(template.right, node.right, uses, binding)
    if isinstance(template, gast.UnaryOp):
        return type(template.op) is type(node.op) and _match(template.operand, node.operand, uses, binding)
    return False


def _is_sum_bar_times(node):
    return isinstance(node, gast.Call) and is_global(node.func, reductions.sum_bar_times) and bool(node.args)


def _is_power_of_two(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
    if not (isinstance(node, gast.Constant) and type(node.value) is float):
        return False
    mantissa, exponent = _frexp(node.value)
    return abs(mantissa) == 0.5 and exponent >= 1
