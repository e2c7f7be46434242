"""Rules for NumPy's elementwise functions: ufuncs of one and two arguments, casts to
float (where, clip, select, heaviside: rules/piecewise.py).

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions (broadcasting: an adjoint is summed back to its argument's shape with
`unbroadcast`), the plain-NumPy helpers they call, and rules of any order for those
helpers (higher order), each helper next to its rules.  Conventions: rules/numpy_rules.py.
Subgradients: ``abs``/``sign`` use 0 at 0; ``maximum``/``minimum``/``fmax``/``fmin``
split the gradient evenly on a tie.
"""

import math

import numpy as np

from .. import effects
from . import adjoint, computed_by, nondiff, tangent
from .complex_rules import abs_slope, real_cotangent, real_if_real
from ..runtime import broadcast_like, unbroadcast
from .operators import pow_dxk
from .shared import (arr as _arr, zeros_of as _zeros_of, full as _full, cast_like as _cast_like,
                     safe_div as _safe_div)


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


_LN2 = math.log(2.0)


_LN10 = math.log(10.0)


def times_one_minus_square(g, r):
    """``g * (1.0 - r * r)`` (the adjoint of np.tanh, r its result), the same value.

    For float64 ndarrays of one shape with 16384 elements or more, one temporary
    is made and updated in place instead of three: new arrays that large cost
    fresh pages (page faults), which dominate the arithmetic (512x1024: 2.8 ms
    -> 0.2 ms here).  The product is g's times the factor's, commuted, so bit
    for bit the same.  Smaller or other values: the expression itself.
    Generated only by first-order code, for the expression of the tanh rules, which
    declare it (`computed_by`; optimize/absorb_scales.py)."""
    if type(r) is np.ndarray and r.size >= 16384 and type(g) is np.ndarray and g.shape == r.shape \
            and g.dtype == np.float64 and r.dtype == np.float64:
        t = r * r
        np.subtract(1.0, t, out=t)
        t *= g
        return t
    return g * (1.0 - r * r)


# --- elementwise -------------------------------------------------------------

def _power_dx1(x1, x2):
    """d x1**x2 / d x1 = x2 * x1**(x2-1), with 0 where x2 == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = x2 * np.power(x1, np.subtract(x2, 1.0))
    if np.any(np.equal(x2, 0)):
        d = np.where(np.equal(x2, 0), 0.0, d)
        d = d[()] if d.ndim == 0 else d
    return d


def _power_dx2(result, x1):
    """d x1**x2 / d x2 = x1**x2 * log(x1), taken as 0 where x1 <= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = result * np.log(np.where(np.greater(x1, 0), x1, 1.0))
    d = np.where(np.greater(x1, 0), d, 0.0)
    return d[()] if d.ndim == 0 else d


def _max_weight(x1, x2):
    """Share of maximum(x1, x2)'s gradient going to x1: 1, 0, or 1/2 on a tie."""
    return np.greater(x1, x2) + 0.5 * np.equal(x1, x2)


def _min_weight(x1, x2):
    return np.less(x1, x2) + 0.5 * np.equal(x1, x2)


def _fmax_weight(x1, x2):
    w = np.where(np.isnan(x2), 1.0, np.where(np.isnan(x1), 0.0, _max_weight(x1, x2)))
    return w[()] if w.ndim == 0 else w


def _fmin_weight(x1, x2):
    w = np.where(np.isnan(x2), 1.0, np.where(np.isnan(x1), 0.0, _min_weight(x1, x2)))
    return w[()] if w.ndim == 0 else w


def _sinc_deriv(x):
    """d sinc(x)/dx = (cos(pi x) - sinc(x)) / x, 0 at 0."""
    return _safe_div(np.cos(np.pi * _arr(x)) - np.sinc(x), x)


def _real_bar(g, x):
    # the result is real: only the real part of g is its adjoint (complex_rules.py)
    return unbroadcast(np.real(g), x) if not np.iscomplexobj(x) else unbroadcast(np.real(g) + 0j, x)


def _imag_bar(g, x):
    if np.iscomplexobj(x):
        return unbroadcast(-1j * np.real(g), x)
    return _zeros_of(x) if np.ndim(x) else 0.0


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


@adjoint(np.sin)
def _(result, result_bar, x):
    return result_bar * np.cos(x)


@tangent(np.sin)
def _(result, x, x_dot):
    return x_dot * np.cos(x)


@adjoint(np.cos)
def _(result, result_bar, x):
    return -result_bar * np.sin(x)


@tangent(np.cos)
def _(result, x, x_dot):
    return -x_dot * np.sin(x)


@adjoint(np.tan)
def _(result, result_bar, x):
    return result_bar * (1.0 + result * result)


@tangent(np.tan)
def _(result, x, x_dot):
    return x_dot * (1.0 + result * result)


@adjoint(np.arcsin)
def _(result, result_bar, x):
    return result_bar / np.sqrt(1.0 - x * x)


@tangent(np.arcsin)
def _(result, x, x_dot):
    return x_dot / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def _(result, result_bar, x):
    return -result_bar / np.sqrt(1.0 - x * x)


@tangent(np.arccos)
def _(result, x, x_dot):
    return -x_dot / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def _(result, result_bar, x):
    return result_bar / (1.0 + x * x)


@tangent(np.arctan)
def _(result, x, x_dot):
    return x_dot / (1.0 + x * x)


@adjoint(np.sinh)
def _(result, result_bar, x):
    return result_bar * np.cosh(x)


@tangent(np.sinh)
def _(result, x, x_dot):
    return x_dot * np.cosh(x)


@adjoint(np.cosh)
def _(result, result_bar, x):
    return result_bar * np.sinh(x)


@tangent(np.cosh)
def _(result, x, x_dot):
    return x_dot * np.sinh(x)


@adjoint(np.tanh)
@computed_by(times_one_minus_square, "result_bar", "result")      # first order (absorb_scales)
def _(result, result_bar, x):
    return result_bar * (1.0 - result * result)


@tangent(np.tanh)
@computed_by(times_one_minus_square, "x_dot", "result")
def _(result, x, x_dot):
    return x_dot * (1.0 - result * result)


@adjoint(np.arcsinh)
def _(result, result_bar, x):
    return result_bar / np.sqrt(x * x + 1.0)


@tangent(np.arcsinh)
def _(result, x, x_dot):
    return x_dot / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def _(result, result_bar, x):
    return result_bar / np.sqrt(x * x - 1.0)


@tangent(np.arccosh)
def _(result, x, x_dot):
    return x_dot / np.sqrt(x * x - 1.0)


@adjoint(np.arctanh)
def _(result, result_bar, x):
    return result_bar / (1.0 - x * x)


@tangent(np.arctanh)
def _(result, x, x_dot):
    return x_dot / (1.0 - x * x)


@adjoint(np.exp)
def _(result, result_bar, x):
    return result_bar * result


@tangent(np.exp)
def _(result, x, x_dot):
    return x_dot * result


@adjoint(np.exp2)
def _(result, result_bar, x):
    return result_bar * result * _LN2


@tangent(np.exp2)
def _(result, x, x_dot):
    return x_dot * result * _LN2


@adjoint(np.expm1)
def _(result, result_bar, x):
    return result_bar * (result + 1.0)


@tangent(np.expm1)
def _(result, x, x_dot):
    return x_dot * (result + 1.0)


@adjoint(np.log)
def _(result, result_bar, x):
    return result_bar / x


@tangent(np.log)
def _(result, x, x_dot):
    return x_dot / x


@adjoint(np.log2)
def _(result, result_bar, x):
    return result_bar / (x * _LN2)


@tangent(np.log2)
def _(result, x, x_dot):
    return x_dot / (x * _LN2)


@adjoint(np.log10)
def _(result, result_bar, x):
    return result_bar / (x * _LN10)


@tangent(np.log10)
def _(result, x, x_dot):
    return x_dot / (x * _LN10)


@adjoint(np.log1p)
def _(result, result_bar, x):
    return result_bar / (1.0 + x)


@tangent(np.log1p)
def _(result, x, x_dot):
    return x_dot / (1.0 + x)


@adjoint(np.sqrt)
def _(result, result_bar, x):
    return result_bar / (2.0 * result)


@tangent(np.sqrt)
def _(result, x, x_dot):
    return x_dot / (2.0 * result)


@adjoint(np.cbrt)
def _(result, result_bar, x):
    return result_bar / (3.0 * result * result)


@tangent(np.cbrt)
def _(result, x, x_dot):
    return x_dot / (3.0 * result * result)


@adjoint(np.square)
def _(result, result_bar, x):
    return result_bar * 2.0 * x


@tangent(np.square)
def _(result, x, x_dot):
    return x_dot * 2.0 * x


@adjoint(np.reciprocal)
def _(result, result_bar, x):
    return -result_bar * result * result


@tangent(np.reciprocal)
def _(result, x, x_dot):
    return -x_dot * result * result


@adjoint(np.negative)
def _(result, result_bar, x):
    return -result_bar


@tangent(np.negative)
def _(result, x, x_dot):
    return -x_dot


@adjoint(np.positive)
def _(result, result_bar, x):
    return result_bar


@tangent(np.positive)
def _(result, x, x_dot):
    return x_dot


# abs: the subgradient 0 at 0 (np.sign(0) == 0)
# (complex x: the slope is conj(x)/|x| and the result is real; complex_rules.py)
@adjoint(np.absolute, np.fabs, ("method", "__abs__"))
def _(result, result_bar, x):
    return real_cotangent(result_bar) * abs_slope(x)


@tangent(np.absolute, np.fabs, ("method", "__abs__"))
def _(result, x, x_dot):
    return real_if_real(x_dot * abs_slope(x), result)


@adjoint(np.deg2rad, np.radians)
def _(result, result_bar, x):
    return result_bar * (math.pi / 180.0)


@tangent(np.deg2rad, np.radians)
def _(result, x, x_dot):
    return x_dot * (math.pi / 180.0)


@adjoint(np.rad2deg, np.degrees)
def _(result, result_bar, x):
    return result_bar * (180.0 / math.pi)


@tangent(np.rad2deg, np.degrees)
def _(result, x, x_dot):
    return x_dot * (180.0 / math.pi)


@adjoint(np.sinc)
def _(result, result_bar, x):
    return result_bar * _sinc_deriv(x)


@tangent(np.sinc)
def _(result, x, x_dot):
    return x_dot * _sinc_deriv(x)


@adjoint(np.conjugate, ("method", "conj"), ("method", "conjugate"))
def _(result, result_bar, x):
    return np.conj(result_bar)


@tangent(np.conjugate, ("method", "conj"), ("method", "conjugate"))
def _(result, x, x_dot):
    return np.conj(x_dot)


@adjoint(np.real, ("attr", "real"))
def _(result, result_bar, val):
    return _real_bar(result_bar, val)


@tangent(np.real, ("attr", "real"))
def _(result, val, val_dot):
    return np.real(val_dot)


@adjoint(np.imag, ("attr", "imag"))
def _(result, result_bar, val):
    return _imag_bar(result_bar, val)


@tangent(np.imag, ("attr", "imag"))
def _(result, val, val_dot):
    return np.imag(val_dot)


@adjoint(np.float64, np.float32)
def _(result, result_bar, x):
    return _cast_like(result_bar, x)


@tangent(np.float64, np.float32)
def _(result, x, x_dot):
    return x_dot


@adjoint(np.add)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(result_bar, x2)


@tangent(np.add)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot + x2_dot


@adjoint(np.subtract)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(-result_bar, x2)


@tangent(np.subtract)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot - x2_dot


@adjoint(np.multiply)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar * x2, x1), unbroadcast(result_bar * x1, x2)


@tangent(np.multiply)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * x2 + x1 * x2_dot


@adjoint(np.divide)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar / x2, x1), unbroadcast(-result_bar * result / x2, x2)


@tangent(np.divide)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot / x2 - x2_dot * result / x2


# d/dx2 is taken as 0 where x1 <= 0 (log undefined); d/dx1 is 0 where x2 == 0
@adjoint(np.power, np.float_power)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * _power_dx1(x1, x2), x1),
            unbroadcast(result_bar * _power_dx2(result, x1), x2))


@tangent(np.power, np.float_power)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * _power_dx1(x1, x2) + x2_dot * _power_dx2(result, x1)


@adjoint(np.hypot)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * _safe_div(x1, result), x1),
            unbroadcast(result_bar * _safe_div(x2, result), x2))


@tangent(np.hypot)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * _safe_div(x1, result) + x2_dot * _safe_div(x2, result)


@adjoint(np.arctan2)
def _(result, result_bar, x1, x2):
    r2 = x1 * x1 + x2 * x2
    return unbroadcast(result_bar * x2 / r2, x1), unbroadcast(-result_bar * x1 / r2, x2)


@tangent(np.arctan2)
def _(result, x1, x2, x1_dot, x2_dot):
    r2 = x1 * x1 + x2 * x2
    return x1_dot * (x2 / r2) - x2_dot * (x1 / r2)


# maximum/minimum: on a tie the gradient is split evenly between x1 and x2
@adjoint(np.maximum)
def _(result, result_bar, x1, x2):
    w = _max_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.maximum)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _max_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.minimum)
def _(result, result_bar, x1, x2):
    w = _min_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.minimum)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _min_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.fmax)
def _(result, result_bar, x1, x2):
    w = _fmax_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.fmax)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _fmax_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.fmin)
def _(result, result_bar, x1, x2):
    w = _fmin_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.fmin)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _fmin_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.logaddexp)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * np.exp(x1 - result), x1),
            unbroadcast(result_bar * np.exp(x2 - result), x2))


@tangent(np.logaddexp)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * np.exp(x1 - result) + x2_dot * np.exp(x2 - result)


@adjoint(np.logaddexp2)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * np.exp2(x1 - result), x1),
            unbroadcast(result_bar * np.exp2(x2 - result), x2))


@tangent(np.logaddexp2)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * np.exp2(x1 - result) + x2_dot * np.exp2(x2 - result)


@adjoint(np.remainder)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(-result_bar * np.floor_divide(x1, x2), x2)


@tangent(np.remainder)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot - x2_dot * np.floor_divide(x1, x2)


# fmod(x1, x2) = x1 - q x2 with q an integer; trunc(x1 / x2) is q + 1 when x1 / x2 rounds up
# to an integer, but (x1 - result) / x2 is within rounding of q itself.
@adjoint(np.fmod)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(-result_bar * np.round((x1 - result) / x2), x2)


@tangent(np.fmod)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot - x2_dot * np.round((x1 - result) / x2)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------
# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_max_weight, _min_weight, _fmax_weight, _fmin_weight)


def _power_dx1_dx2(x1, x2):
    """d/dx2 of _power_dx1 = x1**(x2-1) * (1 + x2 log x1) (log taken as 0 where x1 <= 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.power(x1, np.subtract(x2, 1.0))
        d = p + x2 * _power_dx2(p, x1)
    return d


@tangent(_real_bar)
def _(result, g, x, g_dot):
    return _real_bar(_full(g_dot, g), x)


@adjoint(_real_bar)
def _(result, result_bar, g, x):
    return unbroadcast(broadcast_like(np.real(result_bar), g), g), None


@tangent(_power_dx1)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * pow_dxk(x1, x2, 2) + x2_dot * _power_dx1_dx2(x1, x2)


@adjoint(_power_dx1)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * pow_dxk(x1, x2, 2), x1),
            unbroadcast(result_bar * _power_dx1_dx2(x1, x2), x2))


# _power_dx2(p, x1) = p * log(x1) where x1 > 0, else 0
@tangent(_power_dx2)
def _(result, p, x1, p_dot, x1_dot):
    return _power_dx2(p_dot, x1) + x1_dot * _safe_div(p, x1) * (np.greater(x1, 0) * 1.0)


@adjoint(_power_dx2)
def _(result, result_bar, p, x1):
    return (unbroadcast(_power_dx2(result_bar, x1), p),
            unbroadcast(result_bar * _safe_div(p, x1) * (np.greater(x1, 0) * 1.0), x1))


def _sinc_deriv2(x):
    """d2 sinc(x)/dx2 = ((2 - y^2) sin y - 2 y cos y) / (pi x^3), y = pi x (its Taylor series
    -1/3 + y^2/10 - y^4/168 + y^6/6480 - y^8/443520, times pi^2, near 0, where the closed
    form cancels: at x = 1e-9 it gave 10 instead of -pi^2/3)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.pi * x
    small = np.abs(y) < 0.1
    ys = np.where(small, 1.0, y)
    d = ((2.0 - ys * ys) * np.sin(ys) - 2.0 * ys * np.cos(ys)) * np.pi ** 2 / ys ** 3
    y2 = y * y
    series = np.pi ** 2 * (-1.0 / 3.0 + y2 / 10.0 - y2 * y2 / 168.0 + y2 ** 3 / 6480.0 - y2 ** 4 / 443520.0)
    d = np.where(small, series, d)
    return d[()] if d.ndim == 0 else d


@tangent(_sinc_deriv)
def _(result, x, x_dot):
    return x_dot * _sinc_deriv2(x)


@adjoint(_sinc_deriv)
def _(result, result_bar, x):
    return unbroadcast(result_bar * _sinc_deriv2(x), x)


def _imag_bar_T(rbar, g, x):
    """Adjoint of _imag_bar in g: zero for a real x (its imaginary part is constant 0).
    For complex x, _imag_bar is g -> -1j Re(g), whose transpose under the pairing
    Re(sum(c * t)) (complex_rules.py) is c -> Im(c)."""
    if np.iscomplexobj(x):
        return unbroadcast(broadcast_like(np.imag(rbar), g), g)
    return 0.0 * g


@tangent(_imag_bar)
def _(result, g, x, g_dot):
    return _imag_bar(_full(g_dot, g), x)


@adjoint(_imag_bar)
def _(result, result_bar, g, x):
    return _imag_bar_T(result_bar, g, x), None


# --- sinc: d3 sinc / dx3 -----------------------------------------------------

def _sinc_deriv3(x):
    """d3 sinc(x)/dx3 = ((3y^2 - 6) sin y + (6y - y^3) cos y) / (pi x^4), y = pi x
    (its Taylor series y/5 - y^3/42 + y^5/1080 - y^7/55440, times pi^3, near 0)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.pi * x
    small = np.abs(y) < 0.1
    ys = np.where(small, 1.0, y)
    s, c = np.sin(ys), np.cos(ys)
    d = ((3.0 * ys * ys - 6.0) * s + (6.0 * ys - ys ** 3) * c) / (np.pi * (ys / np.pi) ** 4)
    y2 = y * y
    series = np.pi ** 3 * y * (1.0 / 5.0 - y2 / 42.0 + y2 * y2 / 1080.0 - y2 ** 3 / 55440.0)
    d = np.where(small, series, d)
    return d[()] if d.ndim == 0 else d


@tangent(_sinc_deriv2)
def _(result, x, x_dot):
    return x_dot * _sinc_deriv3(x)


@adjoint(_sinc_deriv2)
def _(result, result_bar, x):
    return unbroadcast(result_bar * _sinc_deriv3(x), x)


# --- power: d/dx1 and d/dx2 of _power_dx1_dx2 = x1**(x2-1) (1 + x2 log x1) --------

def _power_dx1_dx2_d(x1, x2, which):
    """d _power_dx1_dx2 / d x1 (which=0) or / d x2 (1); log x1 taken as 0 where x1 <= 0."""
    pos = np.greater(x1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(np.where(pos, x1, 1.0))
        p = np.power(x1, np.subtract(x2, 1.0))
        if which == 0:
            d = (x2 - 1.0) * np.power(x1, np.subtract(x2, 2.0)) * (1.0 + x2 * L) + _safe_div(p * x2, x1) * pos
        else:
            d = p * L * (2.0 + x2 * L)
    d = np.asarray(d)
    return d[()] if d.ndim == 0 else d


@tangent(_power_dx1_dx2)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * _power_dx1_dx2_d(x1, x2, 0) + x2_dot * _power_dx1_dx2_d(x1, x2, 1)


@adjoint(_power_dx1_dx2)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * _power_dx1_dx2_d(x1, x2, 0), x1),
            unbroadcast(result_bar * _power_dx1_dx2_d(x1, x2, 1), x2))


# What the optimizer may assume of these helpers (diffc/effects.py).
effects.declare(times_one_minus_square, facts=(effects.FRESH, effects.OWNED_BUFFER))
