"""fuse_sum_products: the adjoint of a scalar broadcast into a product is a dot product.

Input: a generated FunctionDef, after `fuse_sum_spreads` (not run on
code compiled to be differentiated again, whose helpers need derivative
rules).
Output: the same function where ``unbroadcast(a * b, x)`` (as in ``x_bar +=
unbroadcast(g * y, x)`` for ``x * y``, which builds the array ``a * b`` only
to sum it) is ``_sum_product(a, b, x)``: one dot product ``np.vdot(a, b)``
when a and b are float64 ndarrays of one shape (at least one axis) and x has
shape ``()``, else the expression it replaces.  The dot product adds the same
terms in another order, so the value can differ from the sum in the last bits.

`_sum_product` is a runtime helper of generated code defined here
(jit_runtime.py compiles it by this module's name).
"""

import gast
import numpy as np

from .. import ast_util as A
from .. import effects
from .. import runtime
from ..runtime import unbroadcast
from .rewriting import is_global


def _sum_product(a, b, x):
    """``unbroadcast(a * b, x)``: the product a * b summed to the shape of x.

    In: a and b any values the generated code multiplies, x the value whose
    adjoint this is.  Out: the dot product ``np.vdot(a, b)`` (of the
    flattened arrays; a NumPy float64, as the sum is) when a and b are float64
    ndarrays of one shape with at least one axis and x has shape ``()`` (a
    float, a NumPy scalar, a 0-d array): the product is never materialized.
    Otherwise (other dtypes, broadcasting, subclasses, arrays of other
    libraries) exactly ``unbroadcast(a * b, x)``.  The checks are ordered
    cheapest first: this runs once per adjoint step of a loop."""
    if type(a) is np.ndarray and type(b) is np.ndarray:
        shape = a.shape
        if shape and shape == b.shape and a.dtype.char == "d" == b.dtype.char \
                and (type(x) is float or (x.shape if type(x) is np.ndarray else np.shape(x)) == ()):
            return np.vdot(a, b)
    return unbroadcast(a * b, x)


class _FuseSumProducts(gast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        if is_global(node.func, runtime.unbroadcast) and len(node.args) == 2 and not node.keywords:
            g, x = node.args
            if isinstance(g, gast.BinOp) and isinstance(g.op, gast.Mult):
                return A.call(A.global_ref(_sum_product, "_sum_product"), [g.left, g.right, x])
        return node


def fuse_sum_products(fn):
    """See the module docstring."""
    return _FuseSumProducts().visit(fn)


effects.declare(_sum_product, facts=(effects.FRESH, effects.NO_WRITES))
