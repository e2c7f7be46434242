"""Complex numbers: the convention, and the helpers of rules that are not holomorphic.

Input: nothing (imported by `diffc.pipeline.load_builtin_rules`).  Output: rules for
np.angle, and helpers that numpy_rules/builtins_rules call for abs, real and imag,
each with its own higher-order rules.

The convention is JAX's.  A complex number is a pair of reals, a derivative is
the derivative of the underlying real-linear map, and a cotangent ``ct`` pairs
with a tangent ``t`` as ``Re(sum(ct * t))`` (no conjugate).  Consequences:

* the adjoint of a holomorphic operation with derivative ``f'`` is
  ``ct * f'`` and of a complex-linear map with matrix ``M`` is ``M^T ct``, so
  every rule written for real numbers with plain products and transposes
  (``exp``, ``log``, ``*``, ``@``, ``einsum``, ``fft``...) is already right;
* ``grad`` of a real-valued ``f`` at complex ``z = x + iy`` is
  ``df/dx - i df/dy`` (``grad(lambda z: abs(z)**2)(z) == 2 * conj(z)``);
* the cotangent of a real value is real.  Generated code may carry a complex
  adjoint for a real intermediate (``x * 1j`` sends ``ct * 1j`` back to ``x``);
  only its real part is meaningful, so every rule whose result is real and
  whose operand may be complex (abs, real, imag, angle, norm) reads the real
  part of its incoming adjoint (`real_cotangent`), and the gradient returned for
  a real argument is the real part (runtime.finalize, runtime.acc_item).  Real
  operations between carry the imaginary part along linearly with real
  coefficients, so the real part stays exact.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from .. import effects
from ..checks import kink_sign
from ..runtime import unbroadcast

nondiff(np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal)


def real_if_real(g, x):
    """g, or its real part when x is real: the cotangent of a real input is real."""
    if np.iscomplexobj(g) and not np.iscomplexobj(x):
        return np.real(g).copy() if isinstance(g, np.ndarray) else np.real(g)
    return g


def real_cotangent(g):
    """The real part of g: the adjoint of a real result (only the real part of an adjoint
    that arrives complex is meaningful); g itself when it is real (no copy)."""
    if np.iscomplexobj(g):
        return np.real(g)
    return g


def no_derivative(d, what):
    """0.0 for the zero tangent d; a tangent that is not zero has no rule: refuse."""
    if d is None or (np.ndim(d) == 0 and not isinstance(d, np.ndarray) and d == 0):
        return 0.0
    raise NotImplementedError(f"diffc: no derivative of {what}")


nondiff(no_derivative)


def abs_slope(x):
    """The adjoint factor of |x|: sign(x) for real x (0 at 0, warning there), conj(x)/|x|
    for complex x (d|x| = Re(conj(x)/|x| * dx))."""
    if np.iscomplexobj(x):
        r = np.abs(x)
        return np.conj(x) / np.where(r == 0, 1.0, r)
    return kink_sign(x)


# abs_slope warns at the kink (kink_sign): never dropped or moved; real_cotangent is pure
effects.declare(abs_slope, facts=(effects.EFFECTFUL,))
effects.declare(real_cotangent, real_if_real, facts=(effects.DROPPABLE,))
effects.declare(real_cotangent, facts=(effects.FLOAT_PRESERVING,))     # g itself for a float g
effects.declare(abs_slope, facts=(effects.NUMPY_RESULT,))


linear(real_if_real)


@adjoint(real_if_real)
def _(result, result_bar, g, x):
    return real_if_real(result_bar, g), None


linear(real_cotangent)


@adjoint(real_cotangent)
def _(result, result_bar, g):
    return real_cotangent(result_bar)


# c = conj(z)/|z| has dc = (conj(t) - c Re(c t)) / |z|, and the transpose
# z_bar = (conj(c_bar) - c Re(c_bar c)) / |z|; for real x the slope is piecewise constant
@tangent(abs_slope)
def _(result, x, x_dot):
    return (np.conj(x_dot) - result * np.real(result * x_dot)) / np.abs(x) if np.iscomplexobj(x) \
        else 0.0 * x_dot


@adjoint(abs_slope)
def _(result, result_bar, x):
    return unbroadcast((np.conj(result_bar) - result * np.real(result_bar * result)) / np.abs(x), x) \
        if np.iscomplexobj(x) else 0.0 * result_bar


# angle(z) = atan2(Im z, Re z): d angle = Im(conj(z) t) / |z|^2 = Re(-1j conj(z) t) / |z|^2;
# piecewise constant (0 or pi) for real x
@adjoint(np.angle)
def _(result, result_bar, z, deg=False):
    return real_if_real(real_cotangent(result_bar) * (-1j) * np.conj(z) / (np.abs(z) ** 2)
                        * (np.pi / 180.0 if deg else 1.0), z) if np.iscomplexobj(z) \
        else 0.0 * np.real(z)


@tangent(np.angle)
def _(result, z, deg=False, z_dot=None):
    return np.real(-1j * np.conj(z) * z_dot) / (np.abs(z) ** 2) * (np.pi / 180.0 if deg else 1.0) \
        if np.iscomplexobj(z) else 0.0 * z_dot
