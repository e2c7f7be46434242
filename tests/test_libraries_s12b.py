"""Issue 17 leftovers (session 12, helper s12b): library calls scientists make that had no
derivative, or a NaN/wrong one.

Each derivative is checked against central finite differences of the function itself (or a
closed form) in both modes (grad and jvp along each axis) and, where it makes sense, at
second order (hessian against second differences of f).  The programs are written the way
scientists write them: loops over terms, helpers, objects built inside the function.
"""


import numpy as np
import pytest

import diffc

scipy = pytest.importorskip("scipy")
from scipy import special as sp  # noqa: E402


def fd_grad(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def fd_hessian(f, x, h=1e-4):
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei = np.zeros_like(x)
            ej = np.zeros_like(x)
            ei.flat[i] = h
            ej.flat[j] = h
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h * h)
    return H


def check(f, x, atol=1e-6, hessian=True, hess_atol=1e-4):
    """grad, jvp along each axis and (optionally) the hessian of scalar f at x, against
    finite differences of f."""
    x = np.asarray(x, dtype=float)
    expected = fd_grad(f, x)
    g = diffc.grad(f)(x)
    assert np.shape(g) == x.shape
    np.testing.assert_allclose(g, expected, atol=atol, rtol=1e-5)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = 1.0
        value, slope = diffc.jvp(f, (x,), (e,))
        np.testing.assert_allclose(value, f(x), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(slope, expected.flat[i], atol=atol, rtol=1e-5)
    if hessian:
        H = diffc.hessian(f)(x)
        np.testing.assert_allclose(np.reshape(H, (x.size, x.size)), fd_hessian(f, x), atol=hess_atol, rtol=1e-3)


# ------------------------------------------------------------------------- 1. Bessel functions

def bessel_series(x):
    """A Fourier-Bessel style sum, term by term."""
    total = 0.0
    for n, w in enumerate([1.0, 0.5, 0.25]):
        total = total + w * np.sum(sp.jv(n + 0.5, x) ** 2)
    return total + np.sum(sp.j0(x) * sp.y1(x)) + np.sum(sp.j1(x) + sp.y0(x))


def radial_profile(r):
    """A screened potential (Yukawa-like in 2-D) and a scaled K tail."""
    return np.sum(sp.k0(r) + 0.3 * sp.k1(r) + sp.kv(1.5, 2.0 * r) + sp.kve(0.5, r) + sp.k0e(r) * sp.k1e(r))


@pytest.mark.parametrize("f", [bessel_series, radial_profile])
def test_bessel_functions(f):
    check(f, np.array([0.4, 1.3, 2.7]))


def test_bessel_j1_at_zero_is_finite():
    f = lambda x: np.sum(sp.j1(x) + sp.jv(2, x))   # noqa: E731
    np.testing.assert_allclose(diffc.grad(f)(np.array([0.0, 1.0])), fd_grad(f, np.array([0.0, 1.0])), atol=1e-7)


def test_bessel_order_is_not_differentiated():
    with pytest.raises(diffc.DiffcError):
        diffc.grad(lambda v: np.sum(sp.jv(v, 1.5)))(np.array([0.5]))


# ------------------------------------------------------------------------- 3. numpy.polynomial

from numpy.polynomial import Chebyshev, Hermite, HermiteE, Laguerre, Legendre, Polynomial  # noqa: E402
from numpy.polynomial import chebyshev as C, legendre as L, polynomial as P  # noqa: E402

XS = np.linspace(-0.9, 0.8, 7)
YS = np.cos(2 * XS)
COEF = np.array([0.5, -1.0, 0.3, 0.2, -0.1])


def fit_residual(c, basis):
    """Least squares of a series, the model built inside from the coefficients."""
    model = basis(c)
    return np.mean((model(XS) - YS) ** 2)


def value_functions(c):
    total = 0.0
    for val in (P.polyval, C.chebval, L.legval):
        total = total + np.sum(val(XS, c) ** 2)
    return total


def series_at_points(x):
    total = 0.0
    for kind in (Polynomial, Chebyshev, Legendre, Hermite, HermiteE, Laguerre):
        total = total + np.sum(np.sin(kind(COEF)(x)))
    return total


@pytest.mark.parametrize("basis", [Polynomial, Chebyshev, Legendre, Hermite, HermiteE, Laguerre])
def test_series_object_built_from_differentiated_coefficients(basis):
    check(lambda c: fit_residual(c, basis), COEF)


def test_series_on_a_domain_derivative_and_integral():
    def f(c):
        p = Chebyshev(c, domain=[0.0, 2.0])
        slope = p.deriv()
        area = Legendre(c, domain=[-2.0, 1.0]).integ(lbnd=0.5)
        return np.sum(slope(XS + 1.0) ** 2) + np.sum(area(XS) * XS)
    check(f, COEF)


def test_value_functions_in_coefficients_and_points():
    check(value_functions, COEF)
    check(lambda x: np.sum(P.polyval(x, COEF) * C.chebval(x, COEF) + L.legval(x, COEF)), XS[:4])
    check(series_at_points, XS[:3])


def test_values_equal_numpy():
    from diffc.rules import numpy_polynomials as NP
    c2 = np.arange(6.0).reshape(3, 2)
    for ours, theirs in ((NP.polyval, P.polyval), (NP.chebval, C.chebval), (NP.legval, L.legval)):
        np.testing.assert_allclose(ours(XS, c2), theirs(XS, c2))
        np.testing.assert_allclose(ours(XS[:2], c2, tensor=False), theirs(XS[:2], c2, tensor=False))
        np.testing.assert_allclose(ours(0.3, COEF), theirs(0.3, COEF))
    for kind in (Polynomial, Chebyshev, Legendre, Hermite, HermiteE, Laguerre):
        ours = NP.Series({Polynomial: "power", Chebyshev: "chebyshev", Legendre: "legendre", Hermite: "hermite",
                          HermiteE: "hermite_e", Laguerre: "laguerre"}[kind], COEF, domain=[0.0, 3.0])
        theirs = kind(COEF, domain=[0.0, 3.0])
        np.testing.assert_allclose(ours(XS), theirs(XS))
        np.testing.assert_allclose(ours.deriv(2)(XS), theirs.deriv(2)(XS))
        np.testing.assert_allclose(ours.integ(2, lbnd=0.3)(XS), theirs.integ(2, lbnd=0.3)(XS))


def test_series_fitted_outside_is_a_constant_table():
    fitted = Polynomial.fit(np.linspace(0, 1, 8), np.sin(np.linspace(0, 1, 8)), 3)

    def f(x):
        return np.sum(fitted(x) ** 2)
    check(f, np.array([0.1, 0.5, 0.9]))


# ------------------------------------------------------------------------- 4. scipy.interpolate

from scipy.interpolate import CubicSpline, PchipInterpolator, RegularGridInterpolator, interpn  # noqa: E402

KNOTS = np.linspace(0.0, 3.0, 6)
QUERY = np.array([0.2, 1.1, 2.7, 3.2])
GRID = (np.linspace(0.0, 1.0, 4), np.linspace(0.0, 2.0, 5))
TABLE = np.add.outer(GRID[0] ** 2, np.sin(GRID[1]))
POINTS = np.array([[0.2, 0.3], [0.7, 1.45], [0.05, 1.9]])


def smooth_profile(y):
    """A monotone profile through the values, sampled and integrated by a loop of trapezoids."""
    profile = PchipInterpolator(KNOTS, y)
    total = 0.0
    grid = np.linspace(0.0, 3.0, 9)
    for a, b in zip(grid[:-1], grid[1:]):
        total = total + 0.5 * (b - a) * (profile(a) ** 2 + profile(b) ** 2)
    return total + np.sum(profile.derivative()(QUERY))


@pytest.mark.slow          # 11-15 s on a loaded 2-CPU machine
def test_pchip_in_values_points_and_knots():
    y = np.array([0.0, 0.8, 1.1, 0.7, 1.9, 2.4])          # a sign change and an end slope limited
    check(smooth_profile, y)
    check(lambda q: np.sum(np.sin(PchipInterpolator(KNOTS, y)(q))), QUERY, hessian=False)
    check(lambda k: np.sum(PchipInterpolator(k, y)(QUERY) ** 2), KNOTS, hessian=False)


def test_pchip_values_equal_scipy():
    from diffc.rules.scipy_interpolate_more import Pchip
    xq = np.linspace(-1.0, 4.0, 41)
    for y in (np.sin(KNOTS), np.array([0.0, 1.0, 1.0, 0.5, 2.0, 2.1]), np.array([3.0, 1.0, 2.0, -1.0, 0.0, 5.0])):
        for nu in (0, 1, 2):
            np.testing.assert_allclose(Pchip(KNOTS, y)(xq, nu), PchipInterpolator(KNOTS, y)(xq, nu), atol=1e-12)
    y3 = np.random.RandomState(1).randn(3, 6, 2)
    np.testing.assert_allclose(Pchip(KNOTS, y3, axis=1)(QUERY), PchipInterpolator(KNOTS, y3, axis=1)(QUERY))


def field_energy(values, points):
    """Bilinear lookups of a gridded field at particle positions, in a helper."""
    field = RegularGridInterpolator(GRID, values)
    energy = 0.0
    for p in points:
        energy = energy + field(p)[0] ** 2
    return energy + np.sum(interpn(GRID, values, points) * np.array([1.0, -0.5, 2.0]))


@pytest.mark.slow          # 11-15 s on a loaded 2-CPU machine
def test_regular_grid_in_values_and_points():
    check(lambda v: field_energy(v, POINTS), TABLE)
    check(lambda p: field_energy(TABLE, p), POINTS, hessian=False)
    near = lambda v: np.sum(RegularGridInterpolator(GRID, v, method="nearest")(POINTS) ** 2)  # noqa: E731
    check(near, TABLE)


def test_regular_grid_values_equal_scipy():
    from diffc.rules.scipy_interpolate_more import RegularGrid
    pts = np.random.RandomState(2).rand(7, 2) * [1.0, 2.0]
    outside = pts * 1.5 - 0.2
    v3 = np.random.RandomState(3).randn(4, 5, 3)
    for method in ("linear", "nearest"):
        np.testing.assert_allclose(RegularGrid(GRID, TABLE, method)(pts), RegularGridInterpolator(GRID, TABLE, method)(pts))
    np.testing.assert_allclose(RegularGrid(GRID, v3)(pts), RegularGridInterpolator(GRID, v3)(pts))
    for fill in (None, np.nan, -1.0):
        np.testing.assert_allclose(RegularGrid(GRID, TABLE, bounds_error=False, fill_value=fill)(outside),
                                   RegularGridInterpolator(GRID, TABLE, bounds_error=False, fill_value=fill)(outside))


def test_regular_grid_refusals():
    with pytest.raises(diffc.DiffcError):
        diffc.grad(lambda v: np.sum(RegularGridInterpolator(GRID, v, method="cubic")(POINTS)))(TABLE)


def interpolated_loss(y, make):
    """The interpolant's class chosen by the caller (a parameter holding the class)."""
    spline = make(KNOTS, y)
    return np.sum(spline(QUERY[:3]) ** 2)


@pytest.mark.parametrize("make", [CubicSpline, PchipInterpolator])
def test_interpolant_class_passed_as_a_value(make):
    # was: a zero gradient (the library's own object, opaque, built by the call of a value)
    check(lambda y: interpolated_loss(y, make), np.sin(KNOTS), hessian=False)


def test_number_given_unit_axes():
    # was: jvp 0 (silently wrong) and a TypeError in reverse mode, for a[None] where a is a
    # NumPy scalar (an item of an array, or np.where of scalars)
    def f(y):
        a = y[1] * 3
        b = np.where(y[2] > 0, y[2] ** 2, 0.0 * y[2])
        stacked = np.concatenate([a[None], b[None, ...], y[3:]])
        return np.sum(stacked ** 2) + np.sum(b[np.newaxis, np.newaxis] * y[0])
    check(f, np.array([0.5, 0.8, 1.1, 0.7, 1.9]))


class Profile:
    def __init__(self, y):
        self.values = y * 1.0


@pytest.mark.slow          # 11-15 s on a loaded 2-CPU machine
def test_hessian_where_an_adjoint_is_computed_zero():
    # was: hessian entry 0 (true 2) where an adjoint's value is 0.0 at the point (2 * y[0] at
    # y[0] = 0) but its tangent is not: the re-differentiated code skipped the rule; and a
    # crash (ValueError) for np.asarray(y) there
    y = np.array([0.0, 0.8, 1.1])
    check(lambda y: Profile(y).values[0] ** 2 + Profile(y).values[1] ** 3, y)
    check(lambda y: (np.asarray(y) + 0.0)[0] ** 2 + np.sum(np.asarray(y) ** 3), y)
    check(lambda y: CubicSpline(KNOTS[:3], y)(0.0) ** 2, y)


# ------------------------------------------------------------------------- 5. scipy.integrate

from scipy import integrate  # noqa: E402


def damped(t, k, w):
    return np.exp(-k * t) * (1.0 + w * t)


def fourier_response(p):
    """Weighted quadratures (cos/sin weights: QAWO) and full_output, summed over frequencies."""
    k, w, omega = p
    total = 0.0
    for m in range(1, 3):
        c = integrate.quad(damped, 0.0, 2.0, args=(k, w), weight="cos", wvar=m * omega)[0]
        s, err, info = integrate.quad(damped, 0.0, 2.0, args=(k, w), weight="sin", wvar=omega / m, full_output=1)
        total = total + c * c + s
    return total


def test_quad_weights_and_full_output():
    check(fourier_response, np.array([0.7, 0.3, 1.9]), atol=1e-6, hessian=False)


def test_quad_algebraic_weight_in_args_and_refused_bounds():
    def f(p):
        return integrate.quad(damped, 0.0, 1.0, args=(p[0], p[1]), weight="alg", wvar=(0.5, -0.5))[0]
    check(f, np.array([0.7, 0.3]), hessian=False)

    def g(b):
        return integrate.quad(damped, 0.0, b[0], args=(1.0, 0.0), weight="alg", wvar=(0.5, -0.5))[0]
    with pytest.raises(diffc.DiffcError, match="algebraic weight"):
        diffc.grad(g)(np.array([1.0]))


def test_quad_vec_with_captured_parameters():
    def f(a):
        out, err = integrate.quad_vec(lambda t: np.exp(-a * t * t) * np.array([1.0, t]), 0.0, 2.0)
        return np.sum(out ** 2)
    check(f, np.array([1.3]), hessian=False)


def gaussian_mass(p):
    """A 2-D Gaussian bump integrated over a triangle and over a box (dblquad, nquad)."""
    k, top = p
    tri = integrate.dblquad(lambda y, x, k: np.exp(-k * (x * x + y * y)), 0.0, top, 0.0, lambda x: x, args=(k,))[0]
    box = integrate.nquad(lambda x, y, k: np.exp(-k * (x * x + y * y)), [[0.0, 1.0], lambda k: [0.0, 0.5]],
                          args=(k,))[0]
    return tri + 2.0 * box


@pytest.mark.slow
def test_dblquad_and_nquad_in_args_and_limits():
    check(gaussian_mass, np.array([1.3, 0.8]), atol=1e-6, hessian=False)


def test_quad_refusals_name_the_users_line():
    def bound(b):
        return integrate.quad(damped, 0.0, b[0], args=(1.0, 0.0), weight="alg", wvar=(0.5, -0.5))[0]

    def pole(c):
        return integrate.quad(damped, 0.0, 2.0, args=(1.0, 0.0), weight="cauchy", wvar=c[0])[0]
    for f in (bound, pole):
        for run in (lambda: diffc.grad(f)(np.array([1.0])), lambda: diffc.jvp(f, (np.array([1.0]),), (np.ones(1),))):
            with pytest.raises(diffc.DiffcError) as info:
                run()
            assert "test_libraries_s12b.py" in str(info.value) + "\n".join(getattr(info.value, "__notes__", []))


# ------------------------------------------------------------------------- 6. small defects

import math  # noqa: E402


def test_float32_radius_power_keeps_the_dtype():
    # was: float64 gradient for a float32 scalar through np.hypot(s, 1.0) ** 3
    s = np.float32(0.75)
    g = diffc.grad(lambda s: np.hypot(s, 1.0) ** 3)(s)
    assert np.asarray(g).dtype == np.float32
    np.testing.assert_allclose(g, 3 * np.hypot(0.75, 1.0) * 0.75, rtol=1e-6)
    _, t = diffc.jvp(lambda s: np.hypot(s, 1.0) ** 3, (s,), (np.float32(1.0),))
    assert np.asarray(t).dtype == np.float32
    M = np.ones((2, 2), np.float32)
    assert diffc.grad(lambda M: np.linalg.norm(M) ** 3)(M).dtype == np.float32
    # a constant gradient of a float32 scalar was a Python float
    assert type(diffc.grad(lambda s: s * 2.0)(s)) is np.float32
    value, grads = diffc.value_and_grad(lambda a, b: a * 2.0 + b, wrt=(0, 1))(s, np.float32(3.0))
    assert [type(g) for g in grads] == [np.float32, np.float32] and grads == (2.0, 1.0)


class Holder:
    def __init__(self, data):
        self.data = data

    def __enter__(self):
        return self.data

    def __exit__(self, *exc):
        return False


def test_with_statement_refusal_names_the_users_code():
    def f(a):
        with Holder(a) as t:
            t[0] = t[0] * 3.0
        return np.sum(a ** 2)
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(f)(np.arange(1.0, 4.0))
    message = str(info.value)
    assert "_manager" not in message and "with Holder(a) as t" in message


def energy_from_bound_radius(x):
    """Radii bound to names first, the way code is usually written."""
    r = np.hypot(x[0], x[1])
    s = np.sqrt(x @ x)
    total = r ** 2 + s ** 2 + np.square(r)
    for i in range(2):
        d = x * (i + 1.0)
        rho = np.linalg.norm(d)
        total = total + rho * rho
    q = math.hypot(x[0], 2.0 * x[1])
    return total + q ** 4


def test_radius_bound_to_a_name_at_the_origin():
    # was: gradient/jvp 0 but hessian 0 (true 2 I...) or NaN at x = 0
    x = np.zeros(2)
    H = diffc.hessian(energy_from_bound_radius)(x)
    np.testing.assert_allclose(H, np.eye(2) * (2 + 2 + 2 + 2 * (1 + 4)), atol=1e-12)
    np.testing.assert_allclose(diffc.grad(energy_from_bound_radius)(x), 0.0, atol=0.0)
    check(energy_from_bound_radius, np.array([0.3, -0.4]))


def test_radius_bound_to_a_name_then_changed_keeps_the_chain_rule():
    def f(x):
        v = x * 1.0
        r = np.linalg.norm(v)
        v[0] = 5.0                       # v changed after r: r ** 2 is not recomputed from v
        return r ** 2 + v[0]
    check(f, np.array([0.3, -0.4]))


# ------------------------------------------------------------------------- 2. NaN-ignoring reductions

def fd_grad_nan(f, x, eps=1e-6):
    """Finite differences; a NaN entry stays NaN when moved, so its difference is 0."""
    g = fd_grad(f, x, eps)
    return np.where(np.isnan(x), 0.0, g)


def summary_statistics(x):
    """Per-row statistics of a table with missing entries, combined in a loop."""
    total = 0.0
    for row in range(x.shape[0]):
        values = np.exp(0.3 * x[row]) * x[row]
        total = total + np.nanmean(values) + np.nanstd(np.sin(x[row])) + 0.1 * np.nanmax(x[row] ** 2)
    return total + np.nansum(np.log1p(x ** 2)) + np.nanvar(x, ddof=1) - np.nanmin(np.cos(x)) + np.nanprod(1.0 + 0.1 * x)


TABLE_NAN = np.array([[1.0, np.nan, 2.0, 0.4], [0.5, 3.0, np.nan, -1.2], [np.nan, 0.7, 0.9, 1.6]])


@pytest.mark.parametrize("f", [summary_statistics,
                               lambda x: np.sum(np.nanmean(x ** 2, axis=0) ** 2 + np.nanstd(x * 2.0, axis=1)[:, None]),
                               lambda x: np.sum(np.nanmax(x ** 3, axis=1, keepdims=True) * np.nansum(x, axis=0))])
def test_nan_entries_of_the_input_get_zero_derivative(f):
    # was: NaN at the NaN entries in reverse mode (the NaN met a product before the reduction)
    expected = fd_grad_nan(f, TABLE_NAN)
    g = diffc.grad(f)(TABLE_NAN)
    np.testing.assert_allclose(g, expected, atol=1e-6, rtol=1e-5)
    assert np.all(g[np.isnan(TABLE_NAN)] == 0.0)
    v = np.cos(np.arange(TABLE_NAN.size)).reshape(TABLE_NAN.shape)
    slope = diffc.jvp(f, (TABLE_NAN,), (v,))[1]
    np.testing.assert_allclose(slope, np.sum(expected * v), atol=1e-6, rtol=1e-5)


def test_nan_input_hessian():
    x = np.array([1.0, np.nan, 2.0, 0.5])
    H = diffc.hessian(lambda x: np.nansum(x ** 3) + np.nanmean(x) ** 2)(x)
    present = ~np.isnan(x)
    mean = np.mean(x[present])
    expected = np.zeros((4, 4))
    expected[np.ix_(present, present)] = 2.0 / 9.0
    expected[present, present] += 6.0 * x[present]
    np.testing.assert_allclose(H, expected, atol=1e-12)
    assert np.isfinite(mean)


def robust_spread(values):
    return np.nanstd(values * 2.0) + np.nanmean(np.abs(values) ** 3)


def test_nan_entries_through_a_helper_and_nan_propagation_elsewhere():
    def f(x):
        return robust_spread(x) * 0.5
    x = np.array([0.3, np.nan, -1.1, 2.0])
    g = diffc.grad(f)(x)
    np.testing.assert_allclose(g, fd_grad_nan(f, x), atol=1e-6)
    # no NaN-ignoring reduction: NaN propagates as NumPy's does (the value is NaN too)
    h = diffc.grad(lambda x: np.sum(np.sin(x) * x))(x)
    assert np.isnan(h[1]) and np.all(np.isfinite(h[[0, 2, 3]]))


OBSERVED = np.array([1.0, np.nan, 2.0, 3.0, np.nan])
TIMES = np.arange(5.0)
COUNTS = np.array([2.0, np.nan, 0.0, 5.0, 1.0])


def missing_data_losses(theta):
    """Least squares, a Poisson log-likelihood and a weighted spread over data with missing
    entries (NaN), the way they are written: NaN-ignoring reductions of the whole expression."""
    pred = theta[0] + theta[1] * TIMES
    rate = np.exp(theta[0] + 0.1 * theta[1] * TIMES)
    loss = np.nanmean((pred - OBSERVED) ** 2)
    loglik = np.nansum(COUNTS * np.log(rate) - rate)
    spread = np.nanstd(theta[1] * OBSERVED - pred) + np.nanmax(-(pred - OBSERVED) ** 2)
    return loss - 0.1 * loglik + spread


def test_nan_in_data_reaching_a_nan_reduction_through_products():
    # was: NaN in reverse mode (0 * NaN in the adjoint of the square, summed into theta; JAX and
    # autograd give NaN too), hessian NaN
    check(missing_data_losses, np.array([0.4, 0.3]))
    items = [1.0, float("nan")]

    def concatenated(x):
        head = [x, 2.0 * x]
        return np.nansum(head + items)                   # lists still concatenate
    assert concatenated(2.0) == 7.0 and diffc.grad(concatenated)(2.0) == 3.0


def decay(t, *p):
    return np.exp(-p[0] * t) * p[1]


def cumulative(x, *p):
    """The integral of decay up to x, parameters passed on as they came (*p)."""
    return integrate.quad(decay, 0.0, x, args=p)[0]


def test_nested_quad_through_a_helper_with_packed_parameters():
    # was: refused with an internal message about SciPy's quad source (diffc compiled SciPy's
    # quad as a user function: it defines local functions)
    f = lambda a: integrate.quad(cumulative, 0.0, 1.0, args=(a[0], a[1]))[0]   # noqa: E731
    check(f, np.array([0.7, 1.3]), hessian=False)


@pytest.mark.slow
def test_tplquad_in_args_and_limits():
    def mass(p):
        k, top = p
        return integrate.tplquad(lambda z, y, x, k: np.exp(-k * (x * x + y * y + z * z)), 0.0, top, 0.0,
                                 lambda x: x, 0.0, lambda x, y: x + y, args=(k,))[0]
    from diffc.rules.scipy_quadrature import integrate_tplquad
    p = np.array([1.3, 0.8])
    np.testing.assert_allclose(integrate_tplquad(lambda z, y, x, k: np.exp(-k * (x * x + y * y + z * z)), 0.0, 0.8,
                                                 0.0, lambda x: x, 0.0, lambda x, y: x + y, args=(1.3,))[0],
                               mass(p), rtol=1e-10)
    check(mass, p, atol=1e-6, hessian=False)
