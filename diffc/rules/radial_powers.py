"""radial_powers: a power ``r ** p`` (constant p >= 2) of a radius r that has no slope at 0.

Input: nothing (imported by transform/smooth_forms.py and pipeline.load_builtin_rules).
Output: the value helpers that smooth_forms writes for ``abs(e) ** p``, ``np.hypot(a, b) ** p``,
``np.linalg.norm(v) ** p`` and ``np.sqrt(s) ** p`` (the same value), each with derivative
rules that stay finite where the radius is 0, at first and second order.

Why: the chain rule through a radius multiplies ``p r**(p-1)`` (0 at r == 0) by the slope of
r, which at 0 is a subgradient (abs, hypot, norm: 0, which loses the ``2`` of
``d2 hypot(a, b)**2 = 2``) or infinite (sqrt, and the tangent of conj(z)/|z| for complex z:
0 * inf = NaN).  The composite is smooth there (``|e|**p`` is C^2 for p >= 2).  The helpers
here write the slope of ``r**p`` as ``p r**(p-2) conj(x)`` (no division) and its derivative
as ``p r**(p-2) ((p-2) Re(c dx) c + conj(dx))`` with the unit ``c = conj(x)/r`` taken 0 at
r == 0, where its factor ``(p-2) r**(p-2)`` is 0 anyway (p > 2) or the term is absent (p == 2).

``np.sqrt(s) ** p`` is differentiated as ``s ** (p/2)``: exact at every order for p == 2 (the
derivative is ds) and at first order for p > 2; its second derivative at s == 0 for
2 < p < 4 has ``s ** (p/2 - 2)`` (infinite) times ds**2, and is NaN unless s is written as
hypot/abs/norm (the README says so).
"""

import math

import numpy as np

from . import adjoint, linear, tangent
from .complex_rules import real_cotangent, real_if_real
from .shared import cast_like, full, like, like_T
from ..runtime import unbroadcast


def _unit(x, r):
    """conj(x) / r, 0 where r == 0 (the direction of x; its factor vanishes there)."""
    if np.ndim(r) == 0 and not isinstance(r, np.ndarray):
        return np.conj(x) / r if r != 0 else 0.0 * np.conj(x)
    return np.conj(x) / np.where(r == 0, 1.0, r)


def _radius(x, whole):
    return np.linalg.norm(x) if whole else np.abs(x)


def _projection(c, t, whole):
    """Re(c t), summed over every element when the radius is the norm of the whole array."""
    d = np.real(c * t)
    return np.sum(d) if whole else d


def like_list(g, x):
    """g in the structure of x when x is a list or tuple (shared.like, a ListBar), else g
    itself: the rules of like reach second order, and g needs none for an array."""
    return like(g, x) if isinstance(x, (list, tuple)) else g


def like_list_T(rb, g, x):
    """The transpose of like_list(g, x) in g: x's structure undone (rb itself for an array)."""
    return like_T(rb, g, x) if isinstance(x, (list, tuple)) else rb


linear(like_list, like_list_T)


@adjoint(like_list)
def _(result, result_bar, g, x):
    return like_list_T(result_bar, g, x), None


@adjoint(like_list_T)
def _(result, result_bar, rb, g, x):
    return like_list(result_bar, x), None, None


def abs_power(x, p):
    """abs(x) ** p (p a constant >= 2), for `abs(e) ** p` (transform/smooth_forms.py); a list
    or tuple is np.abs's (builtin abs refuses one)."""
    return (np.abs(x) if isinstance(x, (list, tuple)) else abs(x)) ** p


def norm_power(x, p):
    """np.linalg.norm(x) ** p (the 2-norm of every element, p a constant >= 2)."""
    return np.linalg.norm(x) ** p


def hypot_power(a, b, p):
    """np.hypot(a, b) ** p (real a, b), differentiated as |a + 1j b| ** p."""
    return np.hypot(a, b) ** p


def math_hypot_power(a, b, p):
    """math.hypot(a, b) ** p, differentiated as |a + 1j b| ** p."""
    return math.hypot(a, b) ** p


def radial_slope(x, p, whole):
    """d(r**p)/dx as an adjoint factor: p r**(p-2) conj(x), r = |x| (elementwise) or the norm
    of all of x (whole); finite at r == 0 for p >= 2 (0.0 ** 0 is 1)."""
    return p * _radius(x, whole) ** (p - 2) * np.conj(x)


# d slope = p r^(p-2) ((p-2) Re(c dx) c + conj(dx)), c = conj(x)/r: see the module docstring
@tangent(radial_slope)
def _(result, x, p, whole, x_dot, p_dot, whole_dot):
    return radial_slope_tangent(x, p, whole, x_dot)


# the transpose of t -> slope_dot under Re(ct * t) is k ((p-2) Re(g c) c + conj(g)): the same map
@adjoint(radial_slope)
def _(result, result_bar, x, p, whole):
    return real_if_real(unbroadcast(radial_slope_tangent(x, p, whole, result_bar), x), x), None, None


def radial_slope_tangent(x, p, whole, t):
    """p r**(p-2) ((p-2) Re(c t) c + conj(t)): the slope's derivative along t, and also the
    transpose of that map applied to a cotangent t (Re(g T(t)) == Re(T(g) t))."""
    r = _radius(x, whole)
    k = p * r ** (p - 2)
    if p == 2:
        return k * np.conj(t)
    c = _unit(x, r)
    return k * ((p - 2) * _projection(c, t, whole) * c + np.conj(t))


# third order: diffc reads radial_slope_tangent and its helpers as plain NumPy (finite away
# from the origin; at r == 0 the third derivative of r**p exists only for p >= 4)
for _helper in (radial_slope_tangent, _unit, _radius, _projection):
    _helper.__diffc_transparent__ = True


@adjoint(abs_power)
def _(result, result_bar, x, p):
    return like_list(unbroadcast(real_cotangent(result_bar) * radial_slope(x, p, False), x), x), None


# x may be a list or tuple of numbers (np.linalg.norm([a, b])): the gradient in its structure
@adjoint(norm_power)
def _(result, result_bar, x, p):
    return like_list(cast_like(real_cotangent(result_bar) * radial_slope(x, p, True), x), x), None


@tangent(abs_power)
def _(result, x, p, x_dot, p_dot):
    return real_if_real(np.real(radial_slope(x, p, False) * x_dot), result)


@tangent(norm_power)
def _(result, x, p, x_dot, p_dot):
    return np.sum(np.real(radial_slope(x, p, True) * full(x_dot, x)))


def sqrt_power(s, p):
    """np.sqrt(s) ** p (p a constant >= 2), for `np.sqrt(s) ** p`."""
    return np.sqrt(s) ** p


def math_sqrt_power(s, p):
    """math.sqrt(s) ** p, for `math.sqrt(s) ** p` (a negative s raises, as math.sqrt does)."""
    return math.sqrt(s) ** p


def sqrt_power_slope(s, p):
    """d(s ** (p/2))/ds = (p/2) s ** (p/2 - 1): 1 for p == 2 also at s == 0."""
    return (0.5 * p) * np.power(s, 0.5 * p - 1.0) if p != 2 else 1.0 + np.multiply(0.0, s)


@tangent(sqrt_power_slope)
def _(result, s, p, s_dot, p_dot):
    return 0.0 * s_dot if p == 2 else (0.5 * p) * (0.5 * p - 1.0) * np.power(s, 0.5 * p - 2.0) * s_dot


@adjoint(sqrt_power_slope)
def _(result, result_bar, s, p):
    return like_list(unbroadcast(0.0 * result_bar if p == 2
                                 else result_bar * (0.5 * p) * (0.5 * p - 1.0) * np.power(s, 0.5 * p - 2.0), s), s), None


@adjoint(sqrt_power, math_sqrt_power)
def _(result, result_bar, s, p):
    return like_list(unbroadcast(result_bar * sqrt_power_slope(s, p), s), s), None


@tangent(sqrt_power, math_sqrt_power)
def _(result, s, p, s_dot, p_dot):
    return s_dot * sqrt_power_slope(s, p)


# (a, b) as the complex a + 1j b: d(r**p) = Re(slope (da + 1j db)), slope = p r^(p-2) (a - 1j b)
@adjoint(hypot_power, math_hypot_power)
def _(result, result_bar, a, b, p):
    # (cast_like: the complex form's float64 must not leak into a float32 argument's adjoint)
    return (like_list(cast_like(unbroadcast(result_bar * np.real(radial_slope(np.add(a, np.multiply(1j, b)), p, False)),
                                            a), a), a),
            like_list(cast_like(unbroadcast(result_bar * -np.imag(radial_slope(np.add(a, np.multiply(1j, b)), p, False)),
                                            b), b), b), None)


@tangent(hypot_power, math_hypot_power)
def _(result, a, b, p, a_dot, b_dot, p_dot):
    return cast_like(np.real(radial_slope(np.add(a, np.multiply(1j, b)), p, False) * (full(a_dot, a) + 1j * full(b_dot, b))),
                     result)
