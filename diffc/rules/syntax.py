"""Rules for the runtime helpers generated code calls (`diffc.runtime`).

Subscripts, literals and list methods are differentiated by the reverse and
forward passes themselves; the helpers they emit are ordinary functions, and
these rules make generated code differentiable again (higher order).
"""

from . import adjoint, tangent, nondiff
from .. import runtime

nondiff(runtime.zeros_like)


@adjoint(runtime.as_sequence)
def _(result, result_bar, x):
    return result_bar


@tangent(runtime.as_sequence)
def _(result, x, x_dot):
    return runtime.as_sequence(x_dot)


@adjoint(runtime.copy_value)
def _(result, result_bar, x):
    return result_bar


@tangent(runtime.copy_value)
def _(result, x, x_dot):
    return runtime.copy_value(x_dot)
