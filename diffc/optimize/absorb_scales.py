"""absorb_scales: constant scales and tanh's adjoint folded into helper calls (first order).

Run by `fuse_sum_spreads` (optimize/fuse_sum_spreads.py) on its result, so it
is part of that pass in the pipeline's list and is never run on code compiled
to be differentiated again (the helpers it calls have no derivative rules).

Input: a generated FunctionDef after `fuse_sum_spreads` made its
``_sum_bar_times`` calls.
Output: the same function where
  * ``_sum_bar_times(g, a, y, ...) * c`` is ``_sum_bar_times(g * c, a, y, ...)``
    for a constant c that is a power of two of magnitude 1 or more (exact:
    the value is the same bit for bit);
  * ``g * (1.0 - r * r)`` (either operand order; g pure when it would now be
    evaluated first) is ``_times_one_minus_square(g, r)``, the same value
    with one temporary instead of three.
"""

from math import frexp as _frexp

import gast

from .. import ast_util as A
from .purity import pure_value
from .rewriting import is_const


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
    * ``g * (1.0 - r * r)`` (tanh's adjoint; either operand order) ->
      ``_times_one_minus_square(g, r)``, the same value with one temporary
      instead of three for large arrays (rules/elementwise.py).  First order only: the
      helper has no derivative rules."""
    return _AbsorbScales().visit(fn)


class _AbsorbScales(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Mult):
            for call, scale in ((node.left, node.right), (node.right, node.left)):
                if _is_sum_bar_times(call) and _is_power_of_two(scale):
                    call.args[0] = gast.BinOp(left=call.args[0], op=gast.Mult(), right=scale)
                    return call
            for g, factor in ((node.left, node.right), (node.right, node.left)):
                r = _one_minus_square_of(factor)
                # (with the factor on the left, g is evaluated first now: it must be pure)
                if r is not None and (g is node.left or pure_value(g)):
                    from ..rules.elementwise import times_one_minus_square
                    return A.call(A.global_ref(times_one_minus_square, "_times_one_minus_square"), [g, r])
        return node


def _one_minus_square_of(node):
    """r for ``1.0 - r * r`` (r a plain local name), else None."""
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Sub) and is_const(node.left, 1.0) \
            and type(node.left.value) is float and isinstance(node.right, gast.BinOp) \
            and isinstance(node.right.op, gast.Mult):
        a, b = node.right.left, node.right.right
        if isinstance(a, gast.Name) and isinstance(b, gast.Name) and a.id == b.id \
                and not hasattr(a, "diffc_global") and not hasattr(b, "diffc_global"):
            return a
    return None


def _is_sum_bar_times(node):
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.args):
        return False
    fn = getattr(node.func, "diffc_global", None)
    return (getattr(fn, "__module__", None), getattr(fn, "__name__", None)) == \
        ("diffc.rules.reductions", "_sum_bar_times")


def _is_power_of_two(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
    if not (isinstance(node, gast.Constant) and type(node.value) is float):
        return False
    mantissa, exponent = _frexp(node.value)
    return abs(mantissa) == 0.5 and exponent >= 1
