"""scipy.interpolate.interp1d, CubicSpline and make_interp_spline, written out in NumPy for
diffc to read.

Calling ``interp1d(x, y, kind=...)`` or ``CubicSpline(x, y, bc_type=...)`` inside
differentiated code makes a `Interp1d` / `Spline` object (plain classes diffc reads like
the user's, holding the knots and values as attributes), so ``f = CubicSpline(x, y);
f(xq)`` is differentiated in y, in the query points xq (the spline's derivative) and in
the knots x, wherever the object goes.

* linear (``'linear'``, ``'slinear'``): y[i] + (y[i+1] - y[i]) (xq - x[i]) / (x[i+1] - x[i])
  on the interval i holding xq (found by searchsorted: a constant);
* cubic (``CubicSpline``; interp1d ``'cubic'``, the same not-a-knot spline): the second
  derivatives M at the knots solve a linear system (`_moments`: not-a-knot, natural or
  clamped ends, a first or second derivative given at either end (``bc_type=((1, v), (2, w))``,
  the values differentiated too) or periodic ends; dense ``np.linalg.solve``, O(n^2) memory in
  the number of knots), and on
  interval i, with t = xq - x[i] and h its width,
  S = y[i] + b t + M[i] t^2 / 2 + (M[i+1] - M[i]) t^3 / (6 h),
  b = (y[i+1] - y[i]) / h - h (2 M[i] + M[i+1]) / 6;  ``f(xq, nu)`` is its nu-th derivative;
* interp1d ``'quadratic'`` and ``make_interp_spline(x, y, k, t, bc_type)``: B-splines linear
  in y (`spline_apply`: SciPy's basis splines times y), differentiated in y and the query
  points, not in the knots;
* piecewise constant (``'nearest'``, ``'nearest-up'``, ``'previous'``, ``'next'``,
  ``'zero'``): y at the knot SciPy picks (the pick is a constant).

Points outside the knots: CubicSpline extrapolates, or gives NaN with extrapolate=False
(as SciPy), or wraps them into the knots' span (extrapolate='periodic', a periodic spline's
default); interp1d raises SciPy's
error, or returns fill_value (a constant) or extrapolates, as asked.  Other options
(spline methods other than ``integrate(a, b)``, ``derivative(nu)`` and ``antiderivative()``) are refused when differentiated.  Values equal SciPy's
(tests/test_scipy_s9.py).

An interpolant SciPy built outside the differentiated code (``table = interp1d(...)`` at
module level, a CubicSpline passed in) is a constant table: a call of it is
`interpolant_value`, whose derivative in the query points is the interpolant's derivative
there, evaluated by SciPy (`OBJECT_CALLS` and `runtime_calls.CALLABLE_VALUES` hooks).

Input: nothing (imported with the SciPy rules).  Output: the implementations registered.
"""

import numpy as np
import scipy.interpolate as si

from . import adjoint, implemented_by, linear, nondiff, tangent
from .. import effects, runtime_calls
from ..errors import NotDifferentiable
from .shared import full as _full

_CONSTANT_KINDS = ("nearest", "nearest-up", "previous", "next", "zero")


def _intervals(x, xq):
    """The interval index (0..n-2) of each query point; the end intervals extend outwards."""
    return np.clip(np.searchsorted(x, xq, side="right") - 1, 0, len(x) - 2)


def _picked_knots(x, kind, xq, extrapolate):
    """For a piecewise-constant interp1d kind: (the index of the knot SciPy returns at each
    query point, where it returns none: NaN), found by interpolating the indices themselves."""
    fill = "extrapolate" if extrapolate else 0.0
    picks = si.interp1d(x, np.arange(len(x), dtype=float), kind=kind, bounds_error=False, fill_value=fill,
                        assume_sorted=True)(xq)
    return np.where(np.isnan(picks), 0, picks).astype(int), np.isnan(picks)


def _outside(x, xq):
    return (np.asarray(xq) < x[0]) | (np.asarray(xq) > x[-1])


def _check_interp1d(x, y, kind, axis, bounds_error, fill_value, assume_sorted):
    """SciPy's own checks of the arguments (its errors), and refusals of what is not written out."""
    if kind not in ("linear", "slinear", "quadratic", "cubic") + _CONSTANT_KINDS:
        raise NotDifferentiable(f"diffc: interp1d(kind={kind!r}) is not differentiated (linear, slinear, quadratic, "
                                "cubic, nearest, previous, next and zero are)")
    si.interp1d(np.asarray(x, dtype=float), np.real(np.asarray(y, dtype=float)), kind=kind, axis=axis,
                bounds_error=bounds_error, fill_value=fill_value, assume_sorted=assume_sorted)
    return kind


def _check_spline(x, y, axis, bc_type, extrapolate):
    """SciPy's own checks of the arguments (its errors)."""
    si.CubicSpline(np.asarray(x, dtype=float), np.real(np.asarray(y, dtype=float)), axis=axis,
                   bc_type=bc_type, extrapolate=extrapolate)
    return True


def _spline_ends(bc_type):
    """bc_type as the pair of end conditions _moments takes: each 'not-a-knot', 'periodic' or
    (order, value) (the value may carry a derivative: read by diffc)."""
    if isinstance(bc_type, str):
        return _spline_end(bc_type), _spline_end(bc_type)
    return _spline_end(bc_type[0]), _spline_end(bc_type[1])


def _spline_end(end):
    if isinstance(end, str):
        if end == "natural":
            return 2, 0.0
        if end == "clamped":
            return 1, 0.0
        return end
    return end[0], end[1]


def _axis_of(axis, y):
    return axis % np.ndim(y)


def _no_extrapolation(asked, made_with):
    """Whether a spline call returns NaN outside the knots (extrapolate=False, as SciPy)."""
    if asked is None:
        return made_with is False
    if asked is True or asked is False or asked == "periodic":
        return asked is False
    raise NotDifferentiable(f"diffc: a CubicSpline called with extrapolate={asked!r} is not differentiated")


def _spline_extrapolation(extrapolate, bc_type, checked):
    """The spline's own extrapolate: SciPy's default is 'periodic' for a periodic spline."""
    if extrapolate is None:
        return "periodic" if isinstance(bc_type, str) and bc_type == "periodic" else True
    return extrapolate


def _periodic(asked, made_with):
    """Whether a spline call wraps its points into the knots' span (extrapolate='periodic')."""
    return (made_with if asked is None else asked) == "periodic"


def _periodic_integral_refused(x, a, b):
    if np.any(_outside(x, np.array([a, b]))):
        raise NotDifferentiable("diffc: the integral of a periodically extrapolated CubicSpline beyond its "
                                "knots is not differentiated")


def _antiderivative_extrapolation(made_with):
    """SciPy: the antiderivative of a periodic spline is not periodic: NaN outside the knots."""
    return False if made_with == "periodic" else made_with


def _antiderivative_refused(nu):
    raise NotDifferentiable(f"diffc: CubicSpline.antiderivative({nu}) is not differentiated (the first is)")


def _sorting(x, assume_sorted):
    return np.arange(len(x)) if assume_sorted else np.argsort(np.asarray(x), kind="mergesort")


nondiff(_intervals, _picked_knots, _outside, _check_interp1d, _check_spline, _sorting, _axis_of,
        _no_extrapolation, _spline_extrapolation, _periodic, _periodic_integral_refused, _antiderivative_refused,
        _antiderivative_extrapolation)
effects.declare(_check_interp1d, _check_spline, _no_extrapolation, _periodic_integral_refused, _antiderivative_refused,
                facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))     # (checks: never dropped)


def _moments(x, y, ends):
    """The spline's second derivatives at the knots (y: knots first, any trailing shape);
    ends: the two end conditions of _check_spline.  The knots' equations are
    h[i-1] M[i-1] + 2 (h[i-1] + h[i]) M[i] + h[i] M[i+1] = 6 (slope[i] - slope[i-1])."""
    n = len(x)
    h = x[1:] - x[:-1]
    rest = np.shape(y)[1:]
    flat = np.reshape(y, (n, -1))
    slopes = (flat[1:] - flat[:-1]) / h[:, None]
    if n == 2:
        # SciPy: a not-a-knot or periodic end of two points has the chord's slope
        ends = tuple((1, slopes[0]) if end in ("not-a-knot", "periodic") else end for end in ends)
    if n == 3 and ends == ("not-a-knot", "not-a-knot"):
        # SciPy: not-a-knot through three points is their parabola
        curvature = 2.0 * (slopes[1] - slopes[0]) / (x[2] - x[0])
        return np.reshape(np.stack([curvature, curvature, curvature]), np.shape(y))
    zero = np.zeros(1)
    interior = np.diag(np.concatenate([zero, 2.0 * (h[:-1] + h[1:]), zero])) \
        + np.diag(np.concatenate([zero, h[1:]]), 1) + np.diag(np.concatenate([h[:-1], zero]), -1)
    top, first = _end_row(ends[0], n, h, slopes, flat, 0)
    bottom, last = _end_row(ends[1], n, h, slopes, flat, 1)
    ends_rows = np.outer(_row(n, 0, [1.0]), top) + np.outer(_row(n, n - 1, [1.0]), bottom)
    rhs = np.concatenate([first[None], 6.0 * (slopes[1:] - slopes[:-1]), last[None]], axis=0)
    moments = np.linalg.solve(interior + ends_rows, rhs)
    return np.reshape(moments, (n,) + rest)


def _end_row(end, n, h, slopes, flat, last):
    """(the equation's row, its right-hand side) for the end condition at the first knot
    (last=0) or the last one (last=1)."""
    zero = 0.0 * slopes[0]
    if end == "not-a-knot":             # the third derivative is continuous at the second knot
        if last:
            return _row(n, n - 3, [h[n - 2], -(h[n - 3] + h[n - 2]), h[n - 3]]), zero
        return _row(n, 0, [h[1], -(h[0] + h[1]), h[0]]), zero
    if end == "periodic":               # first: slopes match across the ends; last: M[0] = M[n-1]
        if last:
            return _row(n, 0, [1.0 + 0.0 * h[0]]) - _row(n, n - 1, [1.0 + 0.0 * h[0]]), zero
        row = _row(n, 0, [2.0 * (h[0] + h[n - 2]), h[0]]) + _row(n, n - 2, [h[n - 2]])
        return row, 6.0 * (slopes[0] - slopes[n - 2])
    order, value = end
    value = np.reshape(value, (-1,)) + zero
    if order == 2:                      # the second derivative given
        return _row(n, n - 1 if last else 0, [1.0 + 0.0 * h[0]]), value
    if order != 1:
        raise NotDifferentiable(f"diffc: CubicSpline end condition of order {order} is not differentiated")
    if last:                            # the first derivative given
        return _row(n, n - 2, [h[n - 2], 2.0 * h[n - 2]]), 6.0 * (value - slopes[n - 2])
    return _row(n, 0, [2.0 * h[0], h[0]]), 6.0 * (slopes[0] - value)


def _row(n, start, values):
    """A row of n entries: values from position start on, zeros elsewhere."""
    parts = [np.zeros(start)] + [np.reshape(v, (1,)) for v in values] + [np.zeros(n - start - len(values))]
    return np.concatenate(parts)


def _trailing(a, ndim):
    """a (query shaped) with ndim trailing axes of length 1, to broadcast with the values."""
    return np.reshape(a, np.shape(a) + (1,) * ndim)


def _cubic_at(x, y, moments, xq, nu):
    """The nu-th derivative of the cubic spline at the points xq (result: xq's shape, then y's
    trailing shape)."""
    i = _intervals(x, xq)
    extra = np.ndim(y) - 1
    h = _trailing(x[i + 1] - x[i], extra)
    t = _trailing(xq - x[i], extra)
    m0 = moments[i]
    m1 = moments[i + 1]
    c3 = (m1 - m0) / (6.0 * h)
    b = (y[i + 1] - y[i]) / h - h * (2.0 * m0 + m1) / 6.0
    if nu == 0:
        return y[i] + t * (b + t * (0.5 * m0 + t * c3))
    if nu == 1:
        return b + t * (m0 + 3.0 * t * c3)
    if nu == 2:
        return m0 + 6.0 * t * c3
    if nu == 3:
        return 6.0 * c3 + 0.0 * t
    raise NotDifferentiable("diffc: a cubic spline's derivative of order nu > 3 is not differentiated")


def _linear_at(x, y, xq):
    i = _intervals(x, xq)
    extra = np.ndim(y) - 1
    slope = (y[i + 1] - y[i]) / _trailing(x[i + 1] - x[i], extra)
    return y[i] + slope * _trailing(xq - x[i], extra)


def _place(values, qdim, axis, ndim):
    """Values laid out (query axes, then y's other axes) moved so the query axes stand where
    the interpolation axis stood in y (SciPy's layout)."""
    if axis == 0 or qdim == 0:
        return values if qdim else np.moveaxis(values, [], [])
    return np.moveaxis(values, list(range(qdim)), list(range(axis, axis + qdim)))



class Spline:
    """CubicSpline(x, y, axis, bc_type) as diffc reads it: knots, values (knots first) and
    second derivatives at the knots."""

    __diffc_transparent__ = True

    def __init__(self, x, y, axis=0, bc_type="not-a-knot", extrapolate=None):
        checked = _check_spline(x, y, axis, bc_type, extrapolate)    # (used: a check the optimizer keeps)
        self.axis = _axis_of(axis, y)
        self.x = np.asarray(x) + 0.0
        self.values = np.moveaxis(np.asarray(y) + 0.0, _axis_of(axis, y), 0)
        self.moments = _moments(self.x, self.values, _spline_ends(bc_type))
        self.extrapolate = _spline_extrapolation(extrapolate, bc_type, checked)

    def __call__(self, x, nu=0, extrapolate=None):
        xq = np.asarray(x) + 0.0
        if _periodic(extrapolate, self.extrapolate):
            # SciPy: the point moved into the knots' span by whole periods
            xq = self.x[0] + (xq - self.x[0]) % (self.x[-1] - self.x[0])
        out = _cubic_at(self.x, self.values, self.moments, xq, nu)
        if _no_extrapolation(extrapolate, self.extrapolate):
            out = np.where(_trailing(_outside(self.x, xq), np.ndim(self.values) - 1), np.nan, out)
        return _place(out, np.ndim(xq), self.axis, np.ndim(self.values))

    def integrate(self, a, b, extrapolate=None):
        """The integral from a to b (the end polynomials extended past the knots)."""
        if _periodic(extrapolate, self.extrapolate):
            _periodic_integral_refused(self.x, a, b)
        total = _antiderivative_at(self.x, self.values, self.moments, b) \
            - _antiderivative_at(self.x, self.values, self.moments, a)
        if _no_extrapolation(extrapolate, self.extrapolate) and np.any(_outside(self.x, np.array([a, b]))):
            return total * np.nan
        return total

    def derivative(self, nu=1):
        return SplineDerivative(self, nu)

    def antiderivative(self, nu=1):
        if nu != 1:
            _antiderivative_refused(nu)
        return SplineAntiderivative(self)


class SplineDerivative:
    """CubicSpline(...).derivative(nu): calls the spline with nu more derivatives."""

    __diffc_transparent__ = True

    def __init__(self, spline, order):
        self.spline = spline
        self.order = order

    def __call__(self, x, nu=0, extrapolate=None):
        return self.spline(x, nu + self.order, extrapolate)


class SplineAntiderivative:
    """CubicSpline(...).antiderivative(): the integral from the first knot (SciPy's constant),
    its derivatives the spline's."""

    __diffc_transparent__ = True

    def __init__(self, spline):
        self.spline = spline
        self.extrapolate = _antiderivative_extrapolation(spline.extrapolate)

    def __call__(self, x, nu=0, extrapolate=None):
        asked = self.extrapolate if extrapolate is None else extrapolate
        if nu > 0:
            return self.spline(x, nu - 1, asked)
        spline = self.spline
        xq = np.asarray(x) + 0.0
        if _periodic(asked, None):
            xq = spline.x[0] + (xq - spline.x[0]) % (spline.x[-1] - spline.x[0])
        out = _antiderivative_at(spline.x, spline.values, spline.moments, xq)
        if _no_extrapolation(asked, None):
            out = np.where(_trailing(_outside(spline.x, xq), np.ndim(spline.values) - 1), np.nan, out)
        return _place(out, np.ndim(xq), spline.axis, np.ndim(spline.values))


def _antiderivative_at(x, y, moments, t):
    """The integral of the cubic spline from x[0] to the points t (their shape, then y's trailing one)."""
    h = x[1:] - x[:-1]
    extra = np.ndim(y) - 1
    widths = _trailing(h, extra)
    m0 = moments[:-1]
    m1 = moments[1:]
    c3 = (m1 - m0) / (6.0 * widths)
    b = (y[1:] - y[:-1]) / widths - widths * (2.0 * m0 + m1) / 6.0
    whole = widths * (y[:-1] + widths * (b / 2.0 + widths * (m0 / 6.0 + widths * c3 / 4.0)))
    before = np.concatenate([np.zeros((1,) + np.shape(whole)[1:]), np.cumsum(whole, axis=0)], axis=0)
    i = _intervals(x, t)
    s = _trailing(t - x[i], extra)
    return before[i] + s * (y[i] + s * (b[i] / 2.0 + s * (m0[i] / 6.0 + s * c3[i] / 4.0)))


class Interp1d:
    """interp1d(x, y, kind, axis, ...) as diffc reads it."""

    __diffc_transparent__ = True

    def __init__(self, x, y, kind="linear", axis=-1, copy=True, bounds_error=None, fill_value=np.nan,
                 assume_sorted=False):
        kind = _check_interp1d(x, y, kind, axis, bounds_error, fill_value, assume_sorted)   # (used: kept)
        order = _sorting(x, assume_sorted)
        self.axis = _axis_of(axis, y)
        self.x = (np.asarray(x) + 0.0)[order]
        self.values = np.moveaxis(np.asarray(y) + 0.0, _axis_of(axis, y), 0)[order]
        self.kind = kind
        self.extrapolate = isinstance(fill_value, str) and fill_value == "extrapolate"
        self.bounds_error = (not self.extrapolate) if bounds_error is None else bounds_error
        self.fill_value = fill_value
        if kind == "cubic":
            self.moments = _moments(self.x, self.values, ("not-a-knot", "not-a-knot"))

    def __call__(self, x):
        xq = np.asarray(x) + 0.0
        if self.bounds_error and np.any(_outside(self.x, xq)):
            raise ValueError("A value in x_new is outside the interpolation range.")
        extra = np.ndim(self.values) - 1
        if self.kind == "cubic":
            out = _cubic_at(self.x, self.values, self.moments, xq, 0)
        elif self.kind in ("linear", "slinear"):
            out = _linear_at(self.x, self.values, xq)
        elif self.kind == "quadratic":
            out = spline_apply(self.x, xq, self.values, 0, 2, None, None)   # SciPy's make_interp_spline(k=2)
        else:
            picks, missing = _picked_knots(self.x, self.kind, xq, self.extrapolate)
            out = np.where(_trailing(missing, extra), np.nan, self.values[picks])
        if not self.extrapolate and not self.bounds_error:
            out = _filled(out, _trailing(_outside(self.x, xq), extra), _trailing(xq < self.x[0], extra),
                          self.fill_value)
        return _place(out, np.ndim(xq), self.axis, np.ndim(self.values))


class QuadraticInterp1d(Interp1d):
    """interp1d(x, y, kind='quadratic'): its knots carry no derivative (fixed_knots)."""

    __diffc_transparent__ = True

    def __init__(self, x, y, kind="quadratic", axis=-1, copy=True, bounds_error=None, fill_value=np.nan,
                 assume_sorted=False):
        kind = _check_interp1d(x, y, kind, axis, bounds_error, fill_value, assume_sorted)   # (used: kept)
        order = _sorting(x, assume_sorted)
        self.axis = _axis_of(axis, y)
        self.x = fixed_knots((np.asarray(x) + 0.0)[order])
        self.values = np.moveaxis(np.asarray(y) + 0.0, _axis_of(axis, y), 0)[order]
        self.kind = kind
        self.extrapolate = isinstance(fill_value, str) and fill_value == "extrapolate"
        self.bounds_error = (not self.extrapolate) if bounds_error is None else bounds_error
        self.fill_value = fill_value


def _fill_values(fill_value):
    if isinstance(fill_value, tuple):
        return fill_value[0], fill_value[1]
    return fill_value, fill_value


nondiff(_fill_values)


def _filled(out, outside, below, fill_value):
    low, high = _fill_values(fill_value)
    return np.where(outside, np.where(below, low, high), out)


@implemented_by(si.CubicSpline)
def cubic_spline(x, y, axis=0, bc_type="not-a-knot", extrapolate=None):
    return Spline(x, y, axis, bc_type, extrapolate)


@implemented_by(si.interp1d)
def interp1d(x, y, kind="linear", axis=-1, copy=True, bounds_error=None, fill_value=np.nan, assume_sorted=False):
    if kind == "quadratic":
        return QuadraticInterp1d(x, y, kind, axis, copy, bounds_error, fill_value, assume_sorted)
    return Interp1d(x, y, kind, axis, copy, bounds_error, fill_value, assume_sorted)


@implemented_by(si.make_interp_spline)
def make_interp_spline(x, y, k=3, t=None, bc_type=None, axis=0, check_finite=True):
    return InterpolatingBSpline(x, y, k, t, bc_type, axis)


class InterpolatingBSpline:
    """make_interp_spline(x, y, k, t, bc_type, axis) as diffc reads it: linear in y (spline_apply)."""

    __diffc_transparent__ = True

    def __init__(self, x, y, k=3, t=None, bc_type=None, axis=0):
        checked = _check_bspline(x, y, k, t, bc_type, axis)      # (SciPy's errors; kept)
        self.axis = _axis_of(axis, y)
        self.x = fixed_knots(np.asarray(x) + 0.0)
        self.values = np.moveaxis(np.asarray(y) + 0.0, _axis_of(axis, y), 0)
        self.k = k
        self.t = t
        self.bc_type = bc_type
        self.extrapolate = checked

    def __call__(self, x, nu=0, extrapolate=None):
        xq = np.asarray(x) + 0.0
        out = spline_apply(self.x, xq, self.values, nu, self.k, self.t, self.bc_type)
        if _no_extrapolation(extrapolate, self.extrapolate):
            out = np.where(_trailing(_outside(self.x, xq), np.ndim(self.values) - 1), np.nan, out)
        return _place(out, np.ndim(xq), self.axis, np.ndim(self.values))


def _check_bspline(x, y, k, t, bc_type, axis):
    si.make_interp_spline(np.asarray(x, dtype=float), np.real(np.asarray(y, dtype=float)), k=k, t=t, bc_type=bc_type,
                          axis=axis)
    if bc_type == "periodic":
        raise NotDifferentiable("diffc: make_interp_spline(bc_type='periodic') is not differentiated")
    return True


nondiff(_check_bspline)
effects.declare(_check_bspline, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))
make_interp_spline.__diffc_builds_object__ = True
InterpolatingBSpline.__init__.__diffc_transparent__ = True
InterpolatingBSpline.__call__.__diffc_transparent__ = True
cubic_spline.__diffc_builds_object__ = True       # (rules.resolve_call: the call itself is rewritten)
interp1d.__diffc_builds_object__ = True

for _helper in (_moments, _end_row, _spline_ends, _spline_end, _row, _trailing, _cubic_at, _linear_at, _place, _filled, _antiderivative_at, Spline.__init__,
                Spline.__call__, Spline.integrate, Spline.derivative, Spline.antiderivative, SplineDerivative.__init__,
                SplineAntiderivative.__init__, SplineAntiderivative.__call__,
                SplineDerivative.__call__, Interp1d.__init__, Interp1d.__call__, QuadraticInterp1d.__init__):
    _helper.__diffc_transparent__ = True


# ------------------------------------------------------------------ B-spline interpolants
# An interpolating B-spline of fixed knots x, degree k and end conditions is linear in the
# values y: S(xq) = B(xq) @ y, B's columns the splines through the unit vectors, which
# SciPy computes (`_spline_basis`, never differentiated).  So the derivative in y is
# B(xq) and in the query points B'(xq) @ y, with rules of any order (the knots x are not
# differentiated: the rules take no x_dot, a derivative in them is refused).


def _spline_basis(x, xq, nu, k, t, bc_type):
    """B^(nu)(xq): the nu-th derivative at the points xq (their shape, then one axis over
    the knots) of the splines interpolating each unit vector."""
    spline = si.make_interp_spline(np.asarray(x, dtype=float), np.eye(len(x)), k=k, t=t, bc_type=bc_type)
    return spline(np.asarray(xq, dtype=float), nu)


def spline_apply(x, xq, y, nu, k, t, bc_type):
    """The nu-th derivative at xq of the degree-k spline interpolating y (knots first): xq's
    shape, then y's trailing one."""
    basis = _spline_basis(x, xq, nu, k, t, bc_type)
    flat = np.reshape(y, (len(x), -1))
    return np.reshape(np.tensordot(basis, flat, axes=1), np.shape(xq) + np.shape(y)[1:])


def spline_apply_T(x, xq, g, nu, k, t, bc_type, y):
    """The transpose of spline_apply in y: y's adjoint from the result's adjoint g."""
    basis = _spline_basis(x, xq, nu, k, t, bc_type)
    flat = np.reshape(g, (int(np.prod(np.shape(xq))), -1))
    return np.reshape(np.reshape(basis, (-1, len(x))).T @ flat, np.shape(y))


def _query_slope_bar(g, x, xq, y, nu, k, t, bc_type):
    """xq's adjoint: g times the next derivative, summed over y's trailing axes."""
    slope = spline_apply(x, xq, y, nu + 1, k, t, bc_type)
    return np.reshape(np.sum(np.reshape(g * slope, np.shape(xq) + (-1,)), axis=-1), np.shape(xq))


def _query_slope_dot(d, x, xq, y, nu, k, t, bc_type):
    slope = spline_apply(x, xq, y, nu + 1, k, t, bc_type)
    return _trailing(d, np.ndim(y) - 1) * slope


def fixed_knots(x):
    """The knots of an interpolating B-spline, which carry no derivative: its rules refuse
    one when the code runs (the tangent when nonzero; the adjoint when spline_apply's
    adjoint of the knots, NaN, reaches it: only from knots that carry a derivative)."""
    return x


def _knots_cotangent(x):
    """spline_apply's adjoint of the knots: NaN, refused by fixed_knots' adjoint if it arrives
    there (it is dropped on the way from knots that carry no derivative)."""
    return np.full(np.shape(x), np.nan)


def _fixed_knots_bar(g):
    if np.any(np.isnan(g)):
        _knots_refused()
    return g


def _fixed_knots_dot(d):
    if np.any(np.asarray(d) != 0):
        _knots_refused()
    return d


def _knots_refused():
    raise NotDifferentiable("diffc: the knots of an interpolating B-spline (interp1d(kind='quadratic'), "
                            "make_interp_spline) are not differentiated",
                            hint="use knots that carry no derivative, or CubicSpline / interp1d(kind='cubic')")


nondiff(_spline_basis, _knots_cotangent, _knots_refused)
effects.declare(_knots_refused, _fixed_knots_bar, _fixed_knots_dot, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))
linear(_fixed_knots_bar, _fixed_knots_dot)


@adjoint(fixed_knots)
def _(result, result_bar, x):
    return _fixed_knots_bar(result_bar)


@tangent(fixed_knots)
def _(result, x, x_dot):
    return _fixed_knots_dot(x_dot)


@adjoint(_fixed_knots_bar)
def _(result, result_bar, g):
    return _fixed_knots_bar(result_bar)


@adjoint(_fixed_knots_dot)
def _(result, result_bar, d):
    return _fixed_knots_dot(result_bar)


_query_slope_bar.__diffc_transparent__ = True       # read by diffc: spline_apply has rules
_query_slope_dot.__diffc_transparent__ = True


@adjoint(spline_apply)
def _(result, result_bar, x, xq, y, nu, k, t, bc_type):
    return (_knots_cotangent(x), _query_slope_bar(result_bar, x, xq, y, nu, k, t, bc_type),
            spline_apply_T(x, xq, result_bar, nu, k, t, bc_type, y), None, None, None, None)


@tangent(spline_apply)
def _(result, x, xq, y, nu, k, t, bc_type, x_dot=None, xq_dot=0.0, y_dot=0.0, nu_dot=None, k_dot=None, t_dot=None,
      bc_type_dot=None):
    return (spline_apply(x, xq, _full(y_dot, y), nu, k, t, bc_type)
            + _query_slope_dot(xq_dot, x, xq, y, nu, k, t, bc_type))


@adjoint(spline_apply_T)
def _(result, result_bar, x, xq, g, nu, k, t, bc_type, y):
    return (_knots_cotangent(x), _query_slope_bar(g, x, xq, result_bar, nu, k, t, bc_type),
            spline_apply(x, xq, result_bar, nu, k, t, bc_type), None, None, None, None, None)


@tangent(spline_apply_T)
def _(result, x, xq, g, nu, k, t, bc_type, y, x_dot=None, xq_dot=0.0, g_dot=0.0, nu_dot=None, k_dot=None,
      t_dot=None, bc_type_dot=None, y_dot=None):
    return (spline_apply_T(x, xq, _full(g_dot, g), nu, k, t, bc_type, y)
            + spline_apply_T(x, xq, g * _trailing(_full(xq_dot, xq), np.ndim(y) - 1), nu + 1, k, t, bc_type, y)
           )


# ------------------------------------------------------------------ interpolants made outside

# An interpolant SciPy built outside the differentiated code (a module-level table, an
# argument) is a constant: only the query points carry a derivative, the interpolant's own
# derivative there, which SciPy evaluates (`interpolant_value` with nu + 1).

_SCIPY_INTERPOLANTS = (si.interp1d, si.PPoly, si.BSpline)


def _linear_slope(obj, xq):
    x = obj.x
    hi = np.clip(np.searchsorted(x, xq), 1, len(x) - 1)
    y = np.moveaxis(obj.y, obj.axis, 0)
    slope = (y[hi] - y[hi - 1]) / _trailing(x[hi] - x[hi - 1], np.ndim(y) - 1)
    return _place(slope, np.ndim(xq), obj.axis % np.ndim(obj.y), np.ndim(y))


def interpolant_value(obj, xq, nu):
    """The nu-th derivative in the query point of SciPy's interpolant obj at xq (nu = 0: its
    value), computed by SciPy; constant outside the knots where obj fills (derivative 0)."""
    xq = np.asarray(xq, dtype=float)
    if nu == 0:
        return obj(xq)
    if not isinstance(obj, si.interp1d):
        return obj(xq, nu)
    spline = getattr(obj, "_spline", None)
    if spline is not None:
        # (SciPy's spline of interp1d works on y with the interpolation axis first, the rest flattened)
        axis = obj.axis % np.ndim(obj.y)
        rest = np.shape(np.moveaxis(obj.y, axis, 0))[1:]
        out = _place(np.reshape(spline(xq, nu), np.shape(xq) + rest), np.ndim(xq), axis, np.ndim(obj.y))
    elif getattr(obj, "_kind", None) == "linear" and nu == 1:
        out = _linear_slope(obj, xq)
    else:
        out = np.zeros(np.shape(obj(xq)))          # piecewise constant, or a line's higher derivatives
    if not getattr(obj, "_extrapolate", False):
        outside = _outside(obj.x, xq)
        layout = np.reshape(outside, (1,) * (obj.axis % np.ndim(obj.y)) + np.shape(outside)
                            + (1,) * (np.ndim(obj.y) - 1 - obj.axis % np.ndim(obj.y)))
        out = np.where(layout, 0.0, out)
    return out


def _query_start(obj):
    """Where the query points' axes stand in the interpolant's result (SciPy: at its axis)."""
    if isinstance(obj, si.interp1d):
        return obj.axis % np.ndim(obj.y)
    return getattr(obj, "axis", 0)


nondiff(_query_start, _linear_slope)


def _query_bar(g, obj, xq, nu):
    """The adjoint of the query points from the adjoint g of interpolant_value(obj, xq, nu)."""
    start = _query_start(obj)
    q = np.ndim(xq)
    terms = g * interpolant_value(obj, xq, nu + 1)
    summed = np.sum(terms, axis=tuple(range(start)) + tuple(range(start + q, np.ndim(terms))))
    return np.reshape(summed, np.shape(xq))


def _query_dot(d, obj, xq, nu):
    """The tangent of interpolant_value(obj, xq, nu) along the query points' tangent d."""
    start = _query_start(obj)
    slope = interpolant_value(obj, xq, nu + 1)
    after = np.ndim(slope) - start - np.ndim(xq)
    return slope * np.reshape(d + np.zeros(np.shape(xq)), (1,) * start + np.shape(xq) + (1,) * after)


@adjoint(interpolant_value)
def _(result, result_bar, obj, xq, nu):
    return None, _query_bar(result_bar, obj, xq, nu), None


@tangent(interpolant_value)
def _(result, obj, xq, nu, obj_dot=None, xq_dot=0.0, nu_dot=None):
    return _query_dot(xq_dot, obj, xq, nu)


def interpolant_call(x, nu=0, extrapolate=None, *, interpolant):
    """A call of SciPy's interpolant made outside the differentiated code (its nu-th
    derivative for a spline)."""
    if extrapolate is not None:
        raise NotDifferentiable("diffc: calling an interpolant with extrapolate= is not differentiated")
    return interpolant_value(interpolant, x, nu)


def _constant_interpolant(obj, method):
    """OBJECT_CALLS hook: ``table(xq)`` for a SciPy interpolant known when compiling."""
    if method == "__call__" and isinstance(obj, _SCIPY_INTERPOLANTS):
        return interpolant_call, (), {"interpolant": obj}
    return None


def _interpolant_value_hook(f):
    """CALLABLE_VALUES hook: a SciPy interpolant met as a value at run time (an argument)."""
    if isinstance(f, _SCIPY_INTERPOLANTS):
        return runtime_calls.partial_value(interpolant_call, (), {"interpolant": f})
    return None


for _helper in (_query_bar, _query_dot, interpolant_call):
    _helper.__diffc_transparent__ = True

from . import OBJECT_CALLS  # noqa: E402
OBJECT_CALLS.append(_constant_interpolant)
runtime_calls.CALLABLE_VALUES.append(_interpolant_value_hook)
