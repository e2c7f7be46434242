"""Rules for the runtime helpers generated code calls (`diffc.runtime`).

Subscripts, literals and list methods are differentiated by the reverse and
forward passes themselves; the helpers they emit are ordinary functions, and
these rules make generated code differentiable again (higher order).
"""

from . import adjoint, tangent, nondiff
from .. import runtime

nondiff(runtime.zeros_like, runtime.as_sequence)


@adjoint(runtime.copy_value)
def _(result, result_bar, x):
    return result_bar


@tangent(runtime.copy_value)
def _(result, x, x_dot):
    return runtime.copy_value(x_dot)
