"""NumPy and SciPy calls as public example code writes them (session 10, issue 17).

- results read by field name: ``np.linalg.slogdet(a).logabsdet``, ``svd(a).S``,
  ``eigh(a).eigenvalues``, ``qr(a).R`` (forward mode read them as zero, reverse crashed);
- ``np.linspace(..., retstep=True)``: the step's derivative;
- ``np.sinc`` at second order near 0; ``solve_ivp`` with a list y0 and t_eval after t_span[0];
- ``np.einsum(..., optimize=True)``, ``x.reshape(..., order="F")``, ``np.diff(prepend=,
  append=)`` (differentiated in all three), ``np.quantile`` at several q and with keepdims;
- ``np.linalg.cond``, ``vector_norm``, ``matrix_norm``, ``nanmedian``, ``nanquantile``,
  ``nanpercentile`` (plain-NumPy implementations whose values are NumPy's);
- ``np.put_along_axis`` writes; ``scipy.linalg.svd``; scipy.stats ``logistic``,
  ``halfnorm``, ``halfcauchy``, ``invgamma``, ``chi2``, ``weibull_min`` and ``norm.isf``
  (values SciPy's, also outside the support);
- ``CubicSpline`` with periodic ends or given end derivatives, and ``.antiderivative()``;
  ``interp1d(kind='quadratic')`` and ``make_interp_spline`` (their knots refused, not zero).
Each derivative is checked against central finite differences in both modes and at
second order (tests/gradcheck.check_both_modes).
"""
import numpy as np
import pytest

import diffc
from diffc.rules import numpy_implementations_more as more
from gradcheck import check_both_modes

try:
    import scipy.integrate as si
except ImportError:          # SciPy is optional: its tests are skipped
    si = None

RNG = np.random.default_rng(97100)
M9 = RNG.normal(size=9)
V12 = RNG.normal(size=12)
W34 = RNG.normal(size=(3, 4))


# ------------------------------------------------------------ NamedTuple results by name

def slogdet_by_name(x):
    res = np.linalg.slogdet(x.reshape(3, 3) + 4 * np.eye(3))
    return res.sign * res.logabsdet


def svd_by_name(x):
    res = np.linalg.svd(x[:6].reshape(3, 2), full_matrices=False)
    return np.sum(res.S ** 2) + res.S[0] + np.sum(np.abs(res.U[:, 0] * res.Vh[0, 0]))


def eigh_by_name_and_position(x):
    m = x.reshape(3, 3)
    res = np.linalg.eigh(m + m.T)
    v = res[1]
    return res.eigenvalues[-1] + np.sum(v[:, 0] ** 2 * np.arange(3)) + np.sum(res.eigenvectors[:, 2] ** 4)


def qr_by_name(x):
    res = np.linalg.qr(x.reshape(3, 3))
    return np.sum(np.abs(np.diag(res.R))) + res.Q[0, 1] ** 2


@pytest.mark.parametrize("fn", [slogdet_by_name, svd_by_name, eigh_by_name_and_position, qr_by_name],
                         ids=lambda f: f.__name__)
def test_library_named_tuple_fields(fn):
    check_both_modes(fn, [M9.copy()])


def test_named_tuple_field_tangent_is_not_zero():
    """The forward mode gave exactly 0.0 for slogdet(a).logabsdet (silently wrong)."""
    a = M9.reshape(3, 3) + 4 * np.eye(3)
    d = RNG.normal(size=9)
    _, tangent = diffc.jvp(slogdet_by_name, (M9.copy(),), (d,))
    expected = np.sign(np.linalg.det(a)) * np.trace(np.linalg.solve(a, d.reshape(3, 3)))
    assert np.isclose(tangent, expected, rtol=1e-10)


# ------------------------------------------------------------------ creation, sinc, ODE

def linspace_with_step(x):
    t, step = np.linspace(x[0], x[1] ** 2, 5, endpoint=False, retstep=True)
    s, step2 = np.linspace(x[1], x[0], 4, retstep=True)
    return np.sum(t ** 2) + step + np.sum(np.sin(s)) * step2


def test_linspace_retstep():
    check_both_modes(linspace_with_step, [np.array([0.5, 2.0])])


def sinc_near_zero(x):
    return np.sum(np.sinc(x) * np.arange(1, 5))


def test_sinc_second_order_near_zero():
    x = np.array([0.0, 1e-9, 0.02, 0.7])
    h = diffc.hessian(sinc_near_zero)(x)
    step = 1e-4
    fd = [(np.sinc(v + step) - 2 * np.sinc(v) + np.sinc(v - step)) / step ** 2 for v in x]
    np.testing.assert_allclose(np.diag(h), np.array(fd) * np.arange(1, 5), rtol=1e-6, atol=1e-6)
    check_both_modes(sinc_near_zero, [x])


def ivp_end_time(p):
    sol = si.solve_ivp(lambda t, y: -y * p[1], (0.0, p[0] + 1), [1.0], t_eval=[0.5, 1.0], rtol=1e-10, atol=1e-12)
    return sol.y[0, -1]


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
def test_solve_ivp_list_y0_with_later_t_eval():
    check_both_modes(ivp_end_time, [np.array([1.0, 0.6])], second=False)


# ------------------------------------------------------------------ keyword variants

def einsum_optimized(x):
    a = x.reshape(3, 4)
    return np.einsum('ij,kj,kl->', a, W34, a, optimize=True) + np.sum(np.einsum('ij->j', a, optimize='greedy') ** 2)


def reshape_fortran(x):
    return np.sum(x.reshape(3, 4, order='F') * W34) + np.sum(x.reshape((2, 6), order='C')[0] ** 2) \
        + np.sum(np.reshape(x, (4, 3), order='F')[:, 0] ** 3)


def diff_with_edges(x):
    m = x.reshape(3, 4)
    return np.sum(np.diff(m, axis=0, prepend=m[:1]) ** 2) + np.sum(np.diff(x[:6], append=x[0]) ** 3) \
        + np.sum(np.diff(m, n=2, prepend=0.5, append=m[:, -1:] * 2) ** 2) + np.sum(np.diff(x, prepend=0.0) ** 2)


def quantiles_at_several_q(x):
    m = x.reshape(3, 4)
    return np.sum(np.quantile(m, [0.1, 0.5, 0.9], axis=1) ** 2) + np.sum(np.median(m, axis=0, keepdims=True) * W34) \
        + np.sum(np.percentile(x, (25, 75))) + np.sum(np.quantile(m, 0.3, axis=1, keepdims=True) ** 2)


@pytest.mark.parametrize("fn", [einsum_optimized, reshape_fortran, diff_with_edges, quantiles_at_several_q],
                         ids=lambda f: f.__name__)
def test_keyword_variants(fn):
    check_both_modes(fn, [V12.copy()])


def test_diff_edges_values_and_shapes():
    m = V12.reshape(3, 4)
    for kwargs in ({"prepend": 0.5}, {"append": m[:, :2]}, {"prepend": m[:, :1], "append": 1.0}):
        g = diffc.grad(lambda a: np.sum(np.diff(a, n=2, **kwargs) ** 2))(m)
        assert g.shape == m.shape


# ------------------------------------------------------------------ implementations

def test_implementation_values_are_numpys():
    m = M9.reshape(3, 3) + 2 * np.eye(3)
    for p in (None, 2, -2, 1, -1, np.inf, "fro", "nuc"):
        np.testing.assert_allclose(more.cond(m, p), np.linalg.cond(m, p), rtol=1e-12)
    x = V12.reshape(2, 3, 2)
    for kwargs in ({}, {"axis": 1}, {"axis": (0, 2), "keepdims": True}, {"ord": 1, "axis": -1},
                   {"ord": np.inf}, {"keepdims": True, "ord": 3}):
        np.testing.assert_allclose(more.vector_norm(x, **kwargs), np.linalg.vector_norm(x, **kwargs), rtol=1e-12)
    for kwargs in ({}, {"ord": "nuc"}, {"ord": 1, "keepdims": True}, {"ord": -np.inf}):
        np.testing.assert_allclose(more.matrix_norm(x, **kwargs), np.linalg.matrix_norm(x, **kwargs), rtol=1e-12)
    y = np.where(V12.reshape(3, 4) > -0.3, V12.reshape(3, 4), np.nan)
    y[1] = np.nan
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        for kwargs in ({}, {"axis": 0}, {"axis": 1, "keepdims": True}, {"axis": -1}):
            np.testing.assert_allclose(more.nanmedian(y, **kwargs), np.nanmedian(y, **kwargs))
            np.testing.assert_allclose(more.nanquantile(y, [0.2, 0.7], **kwargs),
                                       np.nanquantile(y, [0.2, 0.7], **kwargs))
            np.testing.assert_allclose(more.nanpercentile(y, 35, **kwargs), np.nanpercentile(y, 35, **kwargs))


def condition_numbers(x):
    m = x.reshape(3, 3) + 4 * np.eye(3)
    return np.linalg.cond(m) + np.linalg.cond(m, 'fro') + np.linalg.cond(m, 1) + np.linalg.cond(m, -2)


def numpy2_norms(x):
    a = x.reshape(3, 3)
    return np.sum(np.linalg.vector_norm(a, axis=-1)) + np.linalg.vector_norm(x, ord=3) \
        + np.linalg.matrix_norm(a) + np.sum(np.linalg.vector_norm(a.reshape(1, 3, 3), axis=(1, 2), keepdims=True))


def nan_order_statistics(x):
    y = np.where(x > 0.4, x, np.nan)
    m = np.where(x.reshape(3, 3) > -0.5, x.reshape(3, 3), np.nan)
    return np.nanmedian(y) + np.sum(np.nanmedian(m, axis=1) ** 2) \
        + np.sum(np.nanpercentile(m, [20, 80], axis=0) * np.arange(6).reshape(2, 3)) + np.nanquantile(y, 0.3)


@pytest.mark.parametrize("fn", [condition_numbers, numpy2_norms, nan_order_statistics], ids=lambda f: f.__name__)
def test_implementations_differentiate(fn):
    x = np.array([0.3, 1.1, -1.2, 2.0, 0.5, 0.7, -0.4, 1.6, 0.9]) if fn is nan_order_statistics else M9.copy()
    check_both_modes(fn, [x])


# ------------------------------------------------------------------ scipy.stats, more

if si is not None:
    import scipy.interpolate as sint
    import scipy.linalg as sl
    import scipy.stats as st
    from scipy.special import expit
    from diffc.rules import scipy_stats_more as stats_more

DATA = np.abs(RNG.normal(size=5)) + 0.3


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
def test_more_distribution_values_are_scipys():
    x = np.array([-0.7, 0.0, 0.2, 1.3, 4.0])
    cases = [("logistic", (), ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf")),
             ("halfnorm", (), ("logpdf", "pdf", "cdf", "sf")),
             ("halfcauchy", (), ("logpdf", "pdf", "cdf", "sf")),
             ("invgamma", (2.5,), ("logpdf", "pdf", "cdf", "sf")),
             ("chi2", (3.0,), ("logpdf", "pdf", "cdf", "sf")),
             ("weibull_min", (1.7,), ("logpdf", "pdf", "cdf", "sf", "logsf"))]
    with np.errstate(all="ignore"):
        for name, shapes, methods in cases:
            for method in methods:
                ours = getattr(stats_more, f"{name}_{method}")
                theirs = getattr(getattr(st, name), method)
                for loc, scale in ((0.0, 1.0), (-0.4, 2.5)):
                    np.testing.assert_allclose(ours(x, *shapes, loc, scale), theirs(x, *shapes, loc=loc, scale=scale),
                                               rtol=1e-12, atol=1e-300, err_msg=f"{name}.{method}")
    np.testing.assert_allclose(stats_more.norm_isf(np.array([0.1, 0.5, 0.93]), 1.0, 2.0),
                               st.norm.isf([0.1, 0.5, 0.93], 1.0, 2.0), rtol=1e-12)


def bayesian_priors(x):
    return np.sum(st.halfnorm.logpdf(DATA, scale=np.exp(x[0]))) + np.sum(st.halfcauchy.logpdf(DATA, scale=np.exp(x[1]))) \
        + np.sum(st.invgamma.logpdf(DATA, np.exp(x[2]) + 1.0, scale=np.exp(x[3]))) \
        + np.sum(st.logistic.logpdf(x, loc=0.2, scale=1.3)) + np.sum(st.logistic.logcdf(x, scale=np.exp(x[1])))


def lifetimes_and_tails(x):
    return np.sum(st.weibull_min.logpdf(DATA, c=np.exp(x[0]), scale=np.exp(x[1]))) \
        + np.sum(st.chi2.logpdf(DATA, np.exp(x[2]) + 2)) + np.sum(st.chi2.sf(np.exp(x), 4.0)) \
        + np.sum(st.weibull_min.logsf(DATA, 2.0, scale=np.exp(x[3]))) + np.sum(st.norm.isf(expit(x), 1.0, 2.0))


def frozen_priors(x):
    rv = st.halfnorm(scale=np.exp(x[0]))
    g = st.invgamma(np.exp(x[1]) + 1.0, scale=1.5)
    return np.sum(rv.logpdf(DATA)) + np.sum(g.logpdf(DATA)) + st.norm(x[2], 2.0).isf(0.3) \
        + np.sum(st.halfnorm.cdf(x)) + np.sum(st.invgamma.cdf(x, 2.0)) + np.sum(st.weibull_min.cdf(x, 1.5))


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
@pytest.mark.parametrize("fn", [bayesian_priors, lifetimes_and_tails, frozen_priors], ids=lambda f: f.__name__)
def test_more_distributions_differentiate(fn):
    check_both_modes(fn, [np.array([0.3, -0.2, 0.5, 0.1, -1.1, 0.8])])


# ------------------------------------------------------------------ put_along_axis, scipy svd

def put_along_writes(x):
    m = x.reshape(3, 4).copy()
    i = np.argmax(m, axis=1)[:, None]
    np.put_along_axis(m, i, 0.0, axis=1)
    z = np.zeros((3, 4))
    np.put_along_axis(z, np.array([[1, 1], [0, 3], [2, 2]]), x[:6].reshape(3, 2) ** 2, axis=1)
    f = x.copy()
    np.put_along_axis(f, np.array([0, 5, 5]), np.array([1.0, 2.0, 3.0]) * x[1], axis=None)
    return np.sum(m ** 2) + np.sum(z * W34) + np.sum(f ** 2)


def test_put_along_axis_writes():
    check_both_modes(put_along_writes, [V12.copy()])


def test_put_along_axis_values_are_numpys():
    from diffc.runtime_scatter import put_along_values
    a = V12.reshape(3, 4)
    for indices, values, axis in ((np.array([[1, 1], [0, 3], [2, 2]]), np.arange(6.0).reshape(3, 2), 1),
                                  (np.array([[0, 2, 1, 0]]), 7.0, 0), (np.array([0, 5, 5]), np.array([1.0, 2, 3]), None)):
        expected = a.copy()
        np.put_along_axis(expected, indices, values, axis)
        np.testing.assert_array_equal(put_along_values(a, indices, values, axis), expected)


def scipy_svd_factors(x):
    a = x[:6].reshape(3, 2)
    u, s, vh = sl.svd(a, full_matrices=False)
    return np.sum(s ** 2) + np.sum((u * s) @ vh * a) + np.sum(sl.svd(a, compute_uv=False, lapack_driver="gesvd")) \
        + np.abs(u[0, 0])


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
def test_scipy_linalg_svd():
    check_both_modes(scipy_svd_factors, [M9.copy()])
    with pytest.raises(diffc.DiffcError, match="gesvd"):
        diffc.grad(lambda a: np.sum(sl.svd(a, lapack_driver="gesvd")[0]))(M9.reshape(3, 3))


# ------------------------------------------------------------------ CubicSpline end conditions

KNOTS = np.array([0.0, 0.4, 1.1, 1.5, 2.3, 3.0])


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_spline_end_conditions_values_are_scipys(n):
    import scipy.interpolate as sint
    from diffc.rules import scipy_interpolate as interp
    x = np.sort(RNG.uniform(0.0, 3.0, n))
    y = RNG.normal(size=n)
    stacked = RNG.normal(size=(n, 2))
    points = np.concatenate([RNG.uniform(-2.0, 5.0, 6), x])
    periodic = y.copy()
    periodic[-1] = periodic[0]
    cases = [(periodic, "periodic"), (y, ((1, 0.5), (2, -1.0))), (y, ((2, 0.3), (1, -0.2))),
             (y, ("natural", "clamped")), (y, ("not-a-knot", (1, 2.0))), (y, ((1, 0.4), "not-a-knot")),
             (stacked, ((1, np.array([0.5, 1.0])), (2, np.zeros(2))))]
    for values, bc_type in cases:
        theirs, ours = sint.CubicSpline(x, values, bc_type=bc_type), interp.cubic_spline(x, values, bc_type=bc_type)
        for nu in (0, 1, 2):
            np.testing.assert_allclose(ours(points, nu), theirs(points, nu), rtol=1e-9, atol=1e-9)
        for kwargs in ({}, {"extrapolate": True}, {"extrapolate": False}):
            np.testing.assert_allclose(ours.antiderivative()(points, **kwargs), theirs.antiderivative()(points, **kwargs),
                                       rtol=1e-9, atol=1e-8)
            np.testing.assert_allclose(ours.antiderivative()(points, 1, **kwargs),
                                       theirs.antiderivative()(points, 1, **kwargs), rtol=1e-9, atol=1e-8)


def spline_given_end_derivatives(y):
    cs = sint.CubicSpline(KNOTS, y, bc_type=((1, y[0] * 2), (2, y[-1])))
    return np.sum(cs(np.array([0.5, 2.0, 2.9, 3.4])) ** 2) + cs(1.0, 1)


def periodic_spline_wrapped(y):
    cs = sint.CubicSpline(KNOTS, np.append(y[:5], y[0]), bc_type="periodic")
    return np.sum(cs(np.array([0.5, 2.0, 3.7, -1.2])) ** 2) + np.sum(cs(np.array([0.2, 4.1]), 1))


def spline_antiderivative(y):
    a = sint.CubicSpline(KNOTS, np.stack([y, y ** 2], axis=1), bc_type="natural").antiderivative()
    return np.sum(a(np.array([0.5, 2.0, 3.3])) ** 2) + np.sum(a(1.2, 1)) + np.sum(a(np.array([0.1, 2.2]), 2))


SPLINE_CASES = [spline_given_end_derivatives, periodic_spline_wrapped, spline_antiderivative]


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
@pytest.mark.parametrize("fn", SPLINE_CASES, ids=lambda f: f.__name__)
def test_spline_end_conditions_differentiate(fn):
    check_both_modes(fn, [np.array([1.0, 0.3, -0.5, 0.8, 1.5, 0.2])], second=False)


@pytest.mark.slow
@pytest.mark.skipif(si is None, reason="SciPy is not installed")
@pytest.mark.parametrize("fn", SPLINE_CASES, ids=lambda f: f.__name__)
def test_spline_end_conditions_second_order(fn):
    check_both_modes(fn, [np.array([1.0, 0.3, -0.5, 0.8, 1.5, 0.2])])


# ------------------------------------------------------------------ interpolating B-splines

def bspline_values_and_queries(p):
    y = p[:6]
    spl = sint.make_interp_spline(KNOTS, np.stack([y, np.sin(y)], axis=-1), k=3)
    q = sint.interp1d(KNOTS, y, kind="quadratic", fill_value="extrapolate")
    return np.sum(spl(p[6:]) ** 2) + np.sum(spl(p[6:], 1)) + np.sum(q(np.array([p[6], 3.2, p[7]])) ** 2) \
        + np.sum(sint.make_interp_spline(KNOTS, y, k=2)(0.7) ** 3)


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
def test_interpolating_bsplines():
    check_both_modes(bspline_values_and_queries, [np.array([1.0, 0.3, -0.5, 0.8, 1.5, 0.2, 0.35, 2.1])])
    from diffc.rules import scipy_interpolate as interp
    y = RNG.normal(size=(6, 2))
    points = np.array([-0.3, 0.5, 1.7, 3.4])
    for k, bc_type in ((3, None), (2, None), (3, "natural"), (1, None), (5, None)):
        ours, theirs = interp.make_interp_spline(KNOTS, y, k=k, bc_type=bc_type), \
            sint.make_interp_spline(KNOTS, y, k=k, bc_type=bc_type)
        for nu in (0, 1):
            np.testing.assert_allclose(ours(points, nu), theirs(points, nu), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(ours(points, extrapolate=False), theirs(points, extrapolate=False), rtol=1e-10)
    np.testing.assert_allclose(interp.interp1d(KNOTS, y[:, 0], kind="quadratic")(points[1:3]),
                               sint.interp1d(KNOTS, y[:, 0], kind="quadratic")(points[1:3]), rtol=1e-12)


def quadratic_in_the_knots(x):
    return np.sum(sint.interp1d(x, np.cos(KNOTS), kind="quadratic")(np.array([0.5, 1.2])))


def bspline_in_the_knots(x):
    return np.sum(sint.make_interp_spline(x, np.cos(KNOTS))(np.array([0.5, 1.2])))


@pytest.mark.skipif(si is None, reason="SciPy is not installed")
@pytest.mark.parametrize("fn", [quadratic_in_the_knots, bspline_in_the_knots], ids=lambda f: f.__name__)
def test_bspline_knots_are_refused_not_zero(fn):
    for run in (lambda: diffc.grad(fn)(KNOTS.copy()), lambda: diffc.jvp(fn, (KNOTS.copy(),), (np.ones(6),))):
        with pytest.raises(diffc.DiffcError, match="knots") as info:
            run()
        assert "test_libs_s10b.py" in str(info.value) + "\n".join(getattr(info.value, "__notes__", []))
