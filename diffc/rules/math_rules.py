"""Rules for the `math` module (Python floats in, Python floats out)."""

import math

from . import adjoint, computed_by, tangent, nondiff
from .elementwise import times_one_minus_square
from .operators import pow_dxk

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


@adjoint(math.sin)
def _(result, result_bar, x):
    return result_bar * math.cos(x)


@tangent(math.sin)
def _(result, x, x_dot):
    return x_dot * math.cos(x)


@adjoint(math.cos)
def _(result, result_bar, x):
    return -result_bar * math.sin(x)


@tangent(math.cos)
def _(result, x, x_dot):
    return -x_dot * math.sin(x)


@adjoint(math.tan)
def _(result, result_bar, x):
    return result_bar * (1.0 + result * result)


@tangent(math.tan)
def _(result, x, x_dot):
    return x_dot * (1.0 + result * result)


@adjoint(math.asin)
def _(result, result_bar, x):
    return result_bar / math.sqrt(1.0 - x * x)


@tangent(math.asin)
def _(result, x, x_dot):
    return x_dot / math.sqrt(1.0 - x * x)


@adjoint(math.acos)
def _(result, result_bar, x):
    return -result_bar / math.sqrt(1.0 - x * x)


@tangent(math.acos)
def _(result, x, x_dot):
    return -x_dot / math.sqrt(1.0 - x * x)


@adjoint(math.atan)
def _(result, result_bar, x):
    return result_bar / (1.0 + x * x)


@tangent(math.atan)
def _(result, x, x_dot):
    return x_dot / (1.0 + x * x)


@adjoint(math.atan2)
def _(result, result_bar, y, x):
    r2 = x * x + y * y
    return result_bar * x / r2, -result_bar * y / r2


@tangent(math.atan2)
def _(result, y, x, y_dot, x_dot):
    r2 = x * x + y * y
    return y_dot * x / r2 - x_dot * y / r2


@adjoint(math.sinh)
def _(result, result_bar, x):
    return result_bar * math.cosh(x)


@tangent(math.sinh)
def _(result, x, x_dot):
    return x_dot * math.cosh(x)


@adjoint(math.cosh)
def _(result, result_bar, x):
    return result_bar * math.sinh(x)


@tangent(math.cosh)
def _(result, x, x_dot):
    return x_dot * math.sinh(x)


@adjoint(math.tanh)
@computed_by(times_one_minus_square, "result_bar", "result")      # first order (absorb_scales)
def _(result, result_bar, x):
    return result_bar * (1.0 - result * result)


@tangent(math.tanh)
@computed_by(times_one_minus_square, "x_dot", "result")
def _(result, x, x_dot):
    return x_dot * (1.0 - result * result)


@adjoint(math.exp)
def _(result, result_bar, x):
    return result_bar * result


@tangent(math.exp)
def _(result, x, x_dot):
    return x_dot * result


@adjoint(math.expm1)
def _(result, result_bar, x):
    return result_bar * (result + 1.0)


@tangent(math.expm1)
def _(result, x, x_dot):
    return x_dot * (result + 1.0)


@adjoint(math.log)
def _(result, result_bar, x, base=math.e):
    return result_bar / (x * math.log(base)), -result_bar * result / (base * math.log(base))


@tangent(math.log)
def _(result, x, base=math.e, x_dot=0.0, base_dot=0.0):
    return x_dot / (x * math.log(base)) - base_dot * result / (base * math.log(base))


@adjoint(math.log1p)
def _(result, result_bar, x):
    return result_bar / (1.0 + x)


@tangent(math.log1p)
def _(result, x, x_dot):
    return x_dot / (1.0 + x)


@adjoint(math.log2)
def _(result, result_bar, x):
    return result_bar / (x * 0.6931471805599453)


@tangent(math.log2)
def _(result, x, x_dot):
    return x_dot / (x * 0.6931471805599453)


@adjoint(math.log10)
def _(result, result_bar, x):
    return result_bar / (x * 2.302585092994046)


@tangent(math.log10)
def _(result, x, x_dot):
    return x_dot / (x * 2.302585092994046)


@adjoint(math.sqrt)
def _(result, result_bar, x):
    return result_bar * 0.5 / result


@tangent(math.sqrt)
def _(result, x, x_dot):
    return x_dot * 0.5 / result


@adjoint(math.pow)
def _(result, result_bar, x, y):
    return result_bar * pow_dxk(x, y, 1), result_bar * result * (math.log(x) if x > 0 else 0.0)


@tangent(math.pow)
def _(result, x, y, x_dot, y_dot):
    return x_dot * pow_dxk(x, y, 1) + y_dot * result * (math.log(x) if x > 0 else 0.0)


@adjoint(math.hypot)
def _(result, result_bar, x, y):
    return result_bar * x / result, result_bar * y / result


@tangent(math.hypot)
def _(result, x, y, x_dot, y_dot):
    return x_dot * x / result + y_dot * y / result


@adjoint(math.erf)
def _(result, result_bar, x):
    return result_bar * _TWO_OVER_SQRT_PI * math.exp(-x * x)


@tangent(math.erf)
def _(result, x, x_dot):
    return x_dot * _TWO_OVER_SQRT_PI * math.exp(-x * x)


@adjoint(math.erfc)
def _(result, result_bar, x):
    return -result_bar * _TWO_OVER_SQRT_PI * math.exp(-x * x)


@tangent(math.erfc)
def _(result, x, x_dot):
    return -x_dot * _TWO_OVER_SQRT_PI * math.exp(-x * x)


@adjoint(math.fabs)
def _(result, result_bar, x):
    return result_bar if x > 0 else (-result_bar if x < 0 else 0.0)


@tangent(math.fabs)
def _(result, x, x_dot):
    return x_dot if x > 0 else (-x_dot if x < 0 else 0.0 * x_dot)


@adjoint(math.copysign)
def _(result, result_bar, x, y):
    return result_bar if (x >= 0) == (result >= 0) else -result_bar, None


@tangent(math.copysign)
def _(result, x, y, x_dot, y_dot):
    return x_dot if (x >= 0) == (result >= 0) else -x_dot


nondiff(math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite,
        math.isclose, math.factorial, math.gcd, math.comb, math.perm)


@adjoint(math.cbrt)
def _(result, result_bar, x):
    return result_bar / (3.0 * result * result)


@tangent(math.cbrt)
def _(result, x, x_dot):
    return x_dot / (3.0 * result * result)


@adjoint(math.exp2)
def _(result, result_bar, x):
    return result_bar * result * 0.6931471805599453


@tangent(math.exp2)
def _(result, x, x_dot):
    return x_dot * result * 0.6931471805599453


@adjoint(math.asinh)
def _(result, result_bar, x):
    return result_bar / math.sqrt(x * x + 1.0)


@tangent(math.asinh)
def _(result, x, x_dot):
    return x_dot / math.sqrt(x * x + 1.0)


@adjoint(math.acosh)
def _(result, result_bar, x):
    return result_bar / math.sqrt(x * x - 1.0)


@tangent(math.acosh)
def _(result, x, x_dot):
    return x_dot / math.sqrt(x * x - 1.0)


@adjoint(math.atanh)
def _(result, result_bar, x):
    return result_bar / (1.0 - x * x)


@tangent(math.atanh)
def _(result, x, x_dot):
    return x_dot / (1.0 - x * x)


@adjoint(math.degrees)
def _(result, result_bar, x):
    return result_bar * 57.29577951308232


@tangent(math.degrees)
def _(result, x, x_dot):
    return x_dot * 57.29577951308232


@adjoint(math.radians)
def _(result, result_bar, x):
    return result_bar * 0.017453292519943295


@tangent(math.radians)
def _(result, x, x_dot):
    return x_dot * 0.017453292519943295


# fmod(x, y) = x - trunc(x / y) * y and remainder(x, y) = x - n * y with n the nearest integer
# to x / y (ties to even, as Python's round): piecewise linear in x and y.
@adjoint(math.fmod)
def _(result, result_bar, x, y):
    return result_bar, -result_bar * math.trunc(x / y)


@tangent(math.fmod)
def _(result, x, y, x_dot, y_dot):
    return x_dot - y_dot * math.trunc(x / y)


@adjoint(math.remainder)
def _(result, result_bar, x, y):
    return result_bar, -result_bar * round((x - result) / y)


@tangent(math.remainder)
def _(result, x, y, x_dot, y_dot):
    return x_dot - y_dot * round((x - result) / y)


@adjoint(math.ldexp)
def _(result, result_bar, x, i):
    return result_bar * math.ldexp(1.0, i), None


@tangent(math.ldexp)
def _(result, x, i, x_dot, i_dot):
    return x_dot * math.ldexp(1.0, i)
