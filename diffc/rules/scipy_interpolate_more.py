"""scipy.interpolate's PchipInterpolator (and pchip_interpolate), RegularGridInterpolator and
interpn (linear and nearest), written out in NumPy for diffc to read.

Input: nothing (imported with the SciPy rules).  Output: implementations registered with
`implemented_by`: ``PchipInterpolator(x, y)(xq)`` is differentiated in the values y, the
knots x and the query points xq; ``RegularGridInterpolator((g1, g2), values)(pts)`` in the
values and the query points (the grid is a constant), in every mode and order.  Values
equal SciPy's (tests/test_libraries_s12b.py).

* PCHIP: SciPy's slopes at the knots (the weighted harmonic mean of the neighbouring secant
  slopes, 0 where they change sign or one is 0; the one-sided three-point formula at the ends,
  limited as SciPy limits it), then the cubic Hermite polynomial on each interval.  The
  choices (a sign change, a limited end slope) are constants of the values: the derivative
  is that of the branch taken, like SciPy's piecewise formula.  Denominators that the
  unselected branch would divide by zero are replaced before dividing (no NaN in the
  derivative of a branch not taken).
* RegularGridInterpolator, method 'linear': the multilinear blend of the 2^D corners of the
  cell holding each point (the cell is a constant); 'nearest': the value at the nearest grid
  point.  Points outside: SciPy's ValueError with bounds_error=True, else fill_value (a
  constant) or, with fill_value=None, the end cells' linear extrapolation.  Other methods
  ('slinear', 'cubic', 'quintic', 'pchip') are refused when differentiated.
"""

import itertools

import numpy as np
import scipy.interpolate as si

from . import implemented_by, nondiff
from ..errors import NotDifferentiable


def _column(v, extra):
    """v (one value per knot or query point) with `extra` trailing axes, to broadcast against
    values that have trailing axes."""
    return np.reshape(v, np.shape(v) + (1,) * extra)


def _intervals(x, xq):
    return np.clip(np.searchsorted(x, xq, side="right") - 1, 0, len(x) - 2)


def _varies_sign(a, b):
    return (np.sign(a) != np.sign(b)) | (a == 0) | (b == 0)


nondiff(_intervals, _varies_sign)


def _edge_slope(h0, h1, m0, m1):
    """SciPy's end slope: the three-point formula, 0 where it has the wrong sign, 3 m0 where
    the secants change sign and it would overshoot."""
    d = ((2 * h0 + h1) * m0 - h0 * m1) / (h0 + h1)
    wrong_sign = np.sign(d) != np.sign(m0)
    overshoot = (np.sign(m0) != np.sign(m1)) & (np.abs(d) > 3 * np.abs(m0))
    return np.where(wrong_sign, 0.0 * d, np.where(overshoot, 3 * m0, d))


def _pchip_slopes(x, y):
    """The slopes at the knots (y: knots first, then any trailing axes)."""
    extra = np.ndim(y) - 1
    h = _column(x[1:] - x[:-1], extra)
    delta = (y[1:] - y[:-1]) / h
    if len(x) == 2:
        return np.concatenate([delta, delta], axis=0)
    hk = h[:-1]
    hk1 = h[1:]
    m0 = delta[:-1]
    m1 = delta[1:]
    flat = _varies_sign(m0, m1)
    w1 = 2 * hk1 + hk
    w2 = hk1 + 2 * hk
    safe0 = np.where(flat, 1.0, m0)
    safe1 = np.where(flat, 1.0, m1)
    # 1 / ((w1 / m0 + w2 / m1) / (w1 + w2)), written without dividing by a slope
    inner = np.where(flat, 0.0 * m0, (w1 + w2) * safe0 * safe1 / (w1 * safe1 + w2 * safe0))
    first = _edge_slope(h[0], h[1], delta[0], delta[1])
    last = _edge_slope(h[-1], h[-2], delta[-1], delta[-2])
    return np.concatenate([first[None], inner, last[None]], axis=0)


def _hermite_at(x, y, d, xq, nu):
    """The nu-th derivative of the piecewise cubic Hermite interpolant at xq."""
    extra = np.ndim(y) - 1
    i = _intervals(x, xq)
    h = _column(x[i + 1] - x[i], extra)
    t = _column(xq - x[i], extra)
    secant = (y[i + 1] - y[i]) / h
    c2 = (3 * secant - 2 * d[i] - d[i + 1]) / h
    c3 = (d[i] + d[i + 1] - 2 * secant) / (h * h)
    if nu == 0:
        return y[i] + t * (d[i] + t * (c2 + t * c3))
    if nu == 1:
        return d[i] + t * (2 * c2 + 3 * t * c3)
    if nu == 2:
        return 2 * c2 + 6 * t * c3
    if nu == 3:
        return 6 * c3 + 0.0 * t
    return 0.0 * t * c3


def _placed(values, qdim, axis):
    """Query axes (first in values) moved to where the interpolation axis stood in y."""
    if axis == 0 or qdim == 0:
        return values
    return np.moveaxis(values, list(range(qdim)), list(range(axis, axis + qdim)))


class Pchip:
    """PchipInterpolator(x, y, axis, extrapolate) as diffc reads it."""

    __diffc_transparent__ = True

    def __init__(self, x, y, axis=0, extrapolate=None):
        si.PchipInterpolator(np.asarray(x, dtype=float), np.real(np.asarray(y, dtype=float)), axis=axis)   # SciPy's checks
        self.axis = axis % np.ndim(y)
        self.x = np.asarray(x) + 0.0
        self.values = np.moveaxis(np.asarray(y) + 0.0, self.axis, 0)
        self.slopes = _pchip_slopes(self.x, self.values)
        self.extrapolate = True if extrapolate is None else extrapolate

    def __call__(self, x, nu=0, extrapolate=None):
        if extrapolate is not None or self.extrapolate is not True:
            if (extrapolate if extrapolate is not None else self.extrapolate) is not True:
                raise NotDifferentiable("diffc: PchipInterpolator with extrapolate=False or 'periodic' is not "
                                        "differentiated")
        xq = np.asarray(x) + 0.0
        out = _hermite_at(self.x, self.values, self.slopes, xq, nu)
        return _placed(out, np.ndim(xq), self.axis)

    def derivative(self, nu=1):
        return PchipDerivative(self, nu)


class PchipDerivative:
    """PchipInterpolator(...).derivative(nu): the interpolant called with nu more derivatives."""

    __diffc_transparent__ = True

    def __init__(self, parent, nu):
        self.parent = parent
        self.nu = nu

    def __call__(self, x, nu=0):
        return self.parent(x, self.nu + nu)


@implemented_by(si.PchipInterpolator)
def pchip_interpolator(x, y, axis=0, extrapolate=None):
    return Pchip(x, y, axis, extrapolate)


@implemented_by(si.pchip_interpolate)
def pchip_interpolate(xi, yi, x, der=0, axis=0):
    if np.ndim(der) != 0:
        raise NotDifferentiable("diffc: pchip_interpolate with a list of derivative orders is not differentiated; "
                                "call it once per order")
    si.PchipInterpolator(np.asarray(xi, dtype=float), np.real(np.asarray(yi, dtype=float)), axis=axis)   # SciPy's checks
    axis = axis % np.ndim(yi)
    knots = np.asarray(xi) + 0.0
    values = np.moveaxis(np.asarray(yi) + 0.0, axis, 0)
    xq = np.asarray(x) + 0.0
    out = _hermite_at(knots, values, _pchip_slopes(knots, values), xq, der)
    return _placed(out, np.ndim(xq), axis)


# ---------------------------------------------------------------------- regular grids

def _grid_checks(points, values, method, bounds_error, fill_value):
    if method not in ("linear", "nearest"):
        raise NotDifferentiable(f"diffc: RegularGridInterpolator(method={method!r}) is not differentiated "
                                "(linear and nearest are)")
    si.RegularGridInterpolator(tuple(np.asarray(g, dtype=float) for g in points),
                               np.real(np.asarray(values, dtype=float)), method=method, bounds_error=bounds_error,
                               fill_value=None if fill_value is None else np.real(fill_value))
    return tuple(np.asarray(g, dtype=float) for g in points)


def _query_points(xi, ndim):
    """SciPy's layout of the query points: (..., ndim) from an array, or from a tuple of
    coordinate arrays."""
    if isinstance(xi, tuple):
        return np.stack(xi, axis=-1)
    xi = np.asarray(xi) + 0.0
    if np.ndim(xi) == 1:
        return np.reshape(xi, (-1, ndim))          # SciPy: one point of ndim coordinates (or n points in 1-d)
    return xi


def _outside(grid, xi):
    """True for each point outside the grid in some dimension."""
    out = np.zeros(np.shape(xi)[:-1], dtype=bool)
    for d, g in enumerate(grid):
        out = out | (xi[..., d] < g[0]) | (xi[..., d] > g[-1])
    return out


def _cells(grid, xi):
    """Per dimension, the lower corner's index of each point's cell."""
    return [_intervals(g, xi[..., d]) for d, g in enumerate(grid)]


def _nearest(grid, xi):
    """Per dimension, the index of the nearest grid point (SciPy: ties go down)."""
    found = []
    for d, g in enumerate(grid):
        i = _intervals(g, xi[..., d])
        found.append(np.where(xi[..., d] - g[i] <= g[i + 1] - xi[..., d], i, i + 1))
    return found


nondiff(_grid_checks, _outside, _cells, _nearest)


def _multilinear(grid, values, xi):
    cells = _cells(grid, xi)
    extra = np.ndim(values) - len(grid)
    weights = []
    for d, g in enumerate(grid):
        i = cells[d]
        weights.append(_column((xi[..., d] - g[i]) / (g[i + 1] - g[i]), extra))
    total = 0.0
    for corner in itertools.product((0, 1), repeat=len(grid)):
        index = tuple(cells[d] + corner[d] for d in range(len(grid)))
        factor = 1.0
        for d in range(len(grid)):
            factor = factor * (weights[d] if corner[d] else 1.0 - weights[d])
        total = total + factor * values[index]
    return total


class RegularGrid:
    """RegularGridInterpolator(points, values, method, bounds_error, fill_value) as diffc
    reads it (the grid is a constant)."""

    __diffc_transparent__ = True

    def __init__(self, points, values, method="linear", bounds_error=True, fill_value=np.nan):
        self.grid = _grid_checks(points, values, method, bounds_error, fill_value)
        self.values = np.asarray(values) + 0.0
        self.method = method
        self.bounds_error = bounds_error
        self.fill_value = fill_value

    def __call__(self, xi, method=None, nu=None):
        if nu is not None:
            raise NotDifferentiable("diffc: RegularGridInterpolator(...)(xi, nu=...) is not differentiated")
        method = self.method if method is None else method
        if method not in ("linear", "nearest"):
            raise NotDifferentiable(f"diffc: RegularGridInterpolator called with method={method!r} is not "
                                    "differentiated (linear and nearest are)")
        return _grid_values(self.grid, self.values, xi, method, self.bounds_error, self.fill_value)


def _grid_values(grid, values, xi, method, bounds_error, fill_value):
    xi = _query_points(xi, len(grid))
    outside = _outside(grid, xi)
    if bounds_error and np.any(outside):
        raise ValueError("One of the requested xi is out of bounds")
    if method == "nearest":
        out = values[tuple(_nearest(grid, xi))]
    else:
        out = _multilinear(grid, values, xi)
    if fill_value is not None and not bounds_error:
        extra = np.ndim(values) - len(grid)
        out = np.where(_column(outside, extra), fill_value, out)
    return out


@implemented_by(si.RegularGridInterpolator)
def regular_grid_interpolator(points, values, method="linear", bounds_error=True, fill_value=np.nan):
    return RegularGrid(points, values, method, bounds_error, fill_value)


@implemented_by(si.interpn)
def interpn(points, values, xi, method="linear", bounds_error=True, fill_value=np.nan):
    grid = _grid_checks(points, values, method, bounds_error, fill_value)
    return _grid_values(grid, np.asarray(values) + 0.0, xi, method, bounds_error, fill_value)


for _factory in (pchip_interpolator, regular_grid_interpolator):
    _factory.__diffc_builds_object__ = True       # (rules.resolve_call: the call itself is rewritten)
for _helper in (_column, _edge_slope, _pchip_slopes, _hermite_at, _placed, _query_points, _multilinear, _grid_values,
                Pchip.__init__, Pchip.__call__, Pchip.derivative, PchipDerivative.__init__, PchipDerivative.__call__,
                RegularGrid.__init__, RegularGrid.__call__):
    _helper.__diffc_transparent__ = True
