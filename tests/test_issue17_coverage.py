"""Issue 17's lists, one row per function named there, against central finite differences.

Each row is a scalar program of one real array calling a function the issue names (the
NumPy functions missing a rule in one mode, the decompositions and FFTs, complex
arithmetic built from real inputs, scipy.special, every scipy.stats distribution's
methods with loc/scale and frozen, scipy.linalg, the integrators with events and
vectorized right-hand sides, NaN-ignoring reductions).  Every row is checked in reverse
mode (diffc.grad) and forward mode (diffc.jvp along one random direction); rows marked
second order also by diffc.hessian against finite differences of the gradient.  A few
programs diffc must refuse (never a wrong number) are at the end.
"""
import numpy as np
import pytest

sp = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")
import scipy.linalg as sl                      # noqa: E402
from scipy.integrate import odeint, solve_ivp  # noqa: E402

import diffc                                   # noqa: E402
from gradcheck import assert_close, fd_jacobian, numeric_grad   # noqa: E402

RNG = np.random.default_rng(1717)
V4 = np.array([0.3, -0.7, 1.2, 0.45])
P4 = np.array([0.6, 1.7, 3.1, 0.9])
U4 = np.array([0.15, 0.5, 0.8, 0.35])
W4 = np.array([0.5, -1.0, 2.0, 0.25])
M33 = RNG.normal(size=(3, 3))
M34 = RNG.normal(size=(3, 4))
W33 = RNG.normal(size=(3, 3))
W43 = RNG.normal(size=(4, 3))
SPD = M33 @ M33.T + 3 * np.eye(3)
B3 = np.array([0.2, -1.0, 0.5])
V8 = RNG.normal(size=8)
W8 = RNG.normal(size=8)
M66 = RNG.normal(size=(6, 6))


def cplx(x):
    """A complex array built from a real one the way signal code does."""
    return x * np.exp(1j * np.cos(x))


def weighted(y, w):
    y, w = np.ravel(y), np.ravel(w)
    return np.sum(np.real(y) * w) + np.sum(np.imag(y) * w[::-1])


# ------------------------------------------------------------------ NumPy (forward rules missing)
NUMPY = [
    ("append", lambda x: np.sum(np.append(x, x[:2] ** 2) ** 2 * np.arange(6)), V4, True),
    ("gradient", lambda x: np.sum(np.gradient(x ** 3) * W4), V4, True),
    ("gradient_2d", lambda x: np.sum(np.gradient(np.outer(x, x), axis=1) * np.outer(W4, W4)), V4, True),
    ("angle", lambda x: np.sum(np.angle(cplx(x) + 0.5) * W4), P4, True),
    ("rot90", lambda x: np.sum(np.rot90(np.reshape(x, (2, 2)), 1) ** 3 * W4.reshape(2, 2)), V4, True),
    ("nan_to_num", lambda x: np.sum(np.nan_to_num(np.log(x)) * W4), P4, True),
    ("real_if_close", lambda x: np.sum(np.real_if_close(x + 0j) ** 2 * W4), V4, True),
    ("kron", lambda x: np.sum(np.kron(x[:2], x[2:] ** 2) * W4), V4, True),
    ("partition", lambda x: np.sum(np.partition(x, 2)[:2] ** 2), V4, True),
    ("rollaxis", lambda x: np.sum(np.rollaxis(np.outer(x, x[:3]), 1) * W43.T), V4, True),
    ("cross_axes", lambda x: np.sum(np.cross(np.outer(x[:3], x), M34, axisa=0, axisb=0, axisc=0) * M34),
     V4, True),
    ("dsplit", lambda x: np.sum(np.dsplit(np.reshape(np.outer(x, x), (2, 2, 4)), 2)[1] ** 2), V4, True),
    ("select", lambda x: np.sum(np.select([x > 0.5, x < 0], [x ** 2, np.sin(x)], default=x)), V4, True),
    ("sorted", lambda x: sum(v * w for v, w in zip(sorted(list(x ** 2)), [1.0, 2.0, 3.0, 4.0])), V4, True),
    ("dict_items_get", lambda x: sum(v ** 2 for k, v in dict(a=x[0], b=x[1] * x[2]).items())
     + dict(a=x[3]).get("a", 0.0) ** 3, V4, True),
    ("einsum_sublist", lambda x: np.sum(np.einsum(np.outer(x, x), [0, 1], [1, 0]) * np.outer(W4, V4)), V4, True),
    ("einsum_sublist_two", lambda x: np.einsum(x, [0], np.sin(x), [0], []), V4, True),
    ("norm_of_list", lambda x: np.linalg.norm([x[0], x[1] * x[2], 2.0]), V4, True),
    ("sum_where", lambda x: np.sum(x ** 2, where=x > 0), V4, True),
    ("max_initial", lambda x: np.max(x ** 3, initial=0.5) + np.min(x, initial=-0.5), V4, True),
    ("prod_where", lambda x: np.prod(x, where=np.array([True, False, True, True])), V4, True),
    ("nansum", lambda x: np.nansum(np.where(x > 1.0, np.nan, x) ** 2), V4, True),
    ("nanmean_axis", lambda x: np.sum(np.nanmean(np.where(np.outer(x, x) > 2.0, np.nan, np.outer(x, x)), axis=0)
                                      * W4), P4, True),
    ("nanmax", lambda x: np.nanmax(np.where(x > 1.0, np.nan, x ** 3)), V4, True),
    ("nanmin_axis", lambda x: np.sum(np.nanmin(np.where(np.outer(x, x) > 2.0, np.nan, np.outer(x, x - 0.5)),
                                               axis=1)), P4, True),
    ("list_of_rows", lambda x: sum(r @ r for r in list(np.outer(x, x[:3]))) + sum(tuple(x ** 2)), V4, True),
    ("nanprod", lambda x: np.nanprod(np.where(x > 1.0, np.nan, x + 1.0)), V4, True),
    ("nanstd_nanvar", lambda x: np.nanstd(np.log(x - 0.7)) + np.sum(np.nanvar(np.outer(x, x), axis=0)), P4,
     True),
]
PAD_MODES = ["constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum", "reflect",
             "symmetric", "wrap"]
NUMPY += [(f"pad_{mode}", lambda x, m=mode: np.sum(np.pad(x ** 2, (2, 3), mode=m) * np.arange(9.0)), V4, True)
          for mode in PAD_MODES]

# ------------------------------------------------------------------ NumPy (reverse rules missing)
SLIDE = np.lib.stride_tricks.sliding_window_view
DECOMP = [
    ("svd_reduced", lambda a: np.sum(np.linalg.svd(a, full_matrices=False)[0] ** 2 * W43)
     + np.sum(np.linalg.svd(a, full_matrices=False)[1] ** 3), M34.T, True),
    ("svd_full_square", lambda a: np.sum(np.linalg.svd(a)[2] ** 2 * W33) + np.sum(np.linalg.svd(a)[1]), M33,
     True),
    ("svd_values", lambda a: np.sum(np.linalg.svd(a, compute_uv=False) ** 2), M34, True),
    ("pinv", lambda a: np.sum(np.linalg.pinv(a) * W43), M34, True),
    ("eig_real_vectors", lambda a: np.sum(np.abs(np.linalg.eig(a + a.T)[1]) * W33), M33, True),
    ("eig_complex_vectors", lambda a: np.sum(np.abs(np.linalg.eig(a)[1]) ** 2 * W33), M33, True),
    ("eig_complex_phase", lambda a: np.sum(np.real(np.linalg.eig(a)[1]) * W33), M33, True),
    ("eigvals", lambda a: np.sum(np.abs(np.linalg.eigvals(a)) ** 3), M33, True),
    ("svd_complex_gauge_free", lambda a: np.sum(np.abs(np.linalg.svd(cplx(a))[0]) ** 2 * W33)
     + np.sum(np.linalg.svd(cplx(a))[1] ** 2), M33, True),
    ("svd_complex_wide", lambda a: np.sum(np.abs(np.linalg.svd(cplx(a), full_matrices=False)[2]) ** 4 * M34),
     M34, True),
    ("as_strided_windows", lambda x: np.sum(np.lib.stride_tricks.as_strided(
        x, shape=(6, 3), strides=(x.strides[0], x.strides[0])) @ np.array([1.0, -2.0, 0.5]) ** 2), V8, True),
    ("sliding_window_view", lambda x: np.sum((SLIDE(x, 3) @ np.array([0.3, 1.0, -0.4])) ** 2), V8, True),
]
FFT = [
    (name, lambda x, f=f: weighted(f(x), np.resize(W8, np.shape(f(x)))), V8, True)
    for name, f in [
        ("fft", np.fft.fft), ("ifft", np.fft.ifft), ("rfft", np.fft.rfft),
        ("irfft", lambda x: np.fft.irfft(np.fft.rfft(x) * (1.0 + 0.1j))),
        ("fftshift", lambda x: np.fft.fftshift(x ** 2)), ("ifftshift", lambda x: np.fft.ifftshift(x ** 3)),
        ("fft2", lambda x: np.fft.fft2(np.reshape(x, (2, 4)))), ("ifft2", lambda x: np.fft.ifft2(np.reshape(x, (2, 4)))),
        ("fftn", lambda x: np.fft.fftn(np.reshape(x, (2, 2, 2)))),
        ("ifftn", lambda x: np.fft.ifftn(np.reshape(x, (2, 2, 2)))),
        ("fft_complex_in", lambda x: np.fft.fft(cplx(x), norm="ortho")),
    ]
]

# ------------------------------------------------------------------ complex numbers
COMPLEX = [
    ("conj", lambda x: weighted(np.conj(cplx(x)) * cplx(x[::-1]), W4), V4, True),
    ("real_imag", lambda x: np.sum(np.real(cplx(x)) ** 2 * np.imag(cplx(x))), V4, True),
    ("abs", lambda x: np.sum(np.abs(cplx(x) + 1.0) * W4), V4, True),
    ("exp_log", lambda x: weighted(np.log(np.exp(cplx(x)) + 2.0), W4), V4, True),
    ("matmul", lambda x: weighted(np.reshape(cplx(x), (2, 2)) @ np.reshape(cplx(x[::-1]), (2, 2)), W4), V4,
     True),
    ("norm", lambda x: np.linalg.norm(cplx(x)) + np.linalg.norm(np.reshape(cplx(x), (2, 2)), "fro"), V4, True),
    ("eigh_hermitian", lambda a: np.sum(np.linalg.eigh(cplx(a) + np.conj(cplx(a)).T)[0] * B3)
     + np.sum(np.abs(np.linalg.eigh(cplx(a) + np.conj(cplx(a)).T)[1]) ** 2 * W33), M33, True),
    ("complex_scalar", lambda x: abs(complex(x[0], x[1]) ** 3 + 1j * x[2]), V4, True),
]

# ------------------------------------------------------------------ scipy.special
SPECIAL = [
    ("logsumexp", lambda x: sp.logsumexp(x), V4, True),
    ("logsumexp_axis_b_keepdims", lambda x: np.sum(sp.logsumexp(np.outer(x, x), axis=1, b=P4, keepdims=True)
                                                   * P4[:, None]), V4, True),
    ("logsumexp_return_sign", lambda x: sp.logsumexp(x, b=W4, return_sign=True)[0], V4, True),
    ("softmax", lambda x: np.sum(sp.softmax(x) * W4), V4, True),
    ("log_softmax", lambda x: np.sum(sp.log_softmax(x) * W4), V4, True),
    ("expit_logit", lambda x: np.sum(sp.expit(x) * W4) + np.sum(sp.logit(U4 * x / P4)), P4, True),
    ("xlogy_xlog1py", lambda x: np.sum(sp.xlogy(x, x[::-1]) + sp.xlog1py(x[::-1], x)), P4, True),
    ("gammaln_digamma_polygamma", lambda x: np.sum((sp.gammaln(x) + sp.digamma(x) + sp.polygamma(1, x)) * W4),
     P4, True),
    ("gamma_beta_betaln", lambda x: np.sum(sp.gamma(x) * W4) + np.sum(sp.beta(x, x[::-1]) + sp.betaln(x, 2.0)),
     P4, True),
    ("erf_erfc_erfinv", lambda x: np.sum((sp.erf(x) + sp.erfc(x) ** 2 + sp.erfinv(x - 0.3)) * W4), U4, True),
    ("ndtr_log_ndtr_ndtri", lambda x: np.sum((sp.ndtr(x) + sp.log_ndtr(x) + sp.ndtri(x)) * W4), U4, True),
    ("i0_i1", lambda x: np.sum((sp.i0(x) + sp.i1(x)) * W4), V4, True),
    ("entr_rel_entr_kl_div", lambda x: np.sum(sp.entr(x) + sp.rel_entr(x, x[::-1]) + sp.kl_div(x, 1.0)), P4,
     True),
]

# ------------------------------------------------------------------ scipy.stats
def five_methods(law, y, loc, scale):
    """logpdf + pdf + cdf + logcdf + sf of a location-scale distribution passed in."""
    return (law.logpdf(y, loc=loc, scale=scale) + law.pdf(y, loc=loc, scale=scale)
            + law.cdf(y, loc=loc, scale=scale) + law.logcdf(y, loc=loc, scale=scale)
            + law.sf(y, loc=loc, scale=scale))


def shaped_t(x):
    y, loc, scale = x * 0.9, 0.1 * x[0], 1.0 + x[1] ** 2
    return np.sum((stats.t.logpdf(y, 3.0 + x[2] ** 2, loc, scale) + stats.t.pdf(y, 4.0, loc, scale)
                   + stats.t.cdf(y, 4.0, loc, scale) + stats.t.logcdf(y, 4.0, loc=loc, scale=scale)
                   + stats.t.sf(y, 4.0, loc=loc, scale=scale)) * W4)


def shaped_gamma(x):
    loc, scale = -0.1 * x[0], x[1]
    return np.sum((stats.gamma.logpdf(x, x[3] + 1.0, loc, scale) + stats.gamma.pdf(x, 2.5, loc, scale)
                   + stats.gamma.cdf(x, 2.5, loc, scale) + stats.gamma.logcdf(x, 2.5, loc=loc, scale=scale)
                   + stats.gamma.sf(x, 2.5, loc=loc, scale=scale)) * W4)


def shaped_beta(x):
    y, loc, scale = x * 0.9, -0.05 * x[0], 1.0 + x[1]
    return np.sum((stats.beta.logpdf(y, 2.0 + x[2], 3.0 * x[3], loc, scale) + stats.beta.pdf(y, 2.0, 3.0, loc, scale)
                   + stats.beta.cdf(y, 2.0, 3.0, loc, scale) + stats.beta.logcdf(y, 2.0, 3.0, loc=loc, scale=scale)
                   + stats.beta.sf(y, 2.0, 3.0, loc=loc, scale=scale)) * W4)


def frozen_norm(x):
    rv = stats.norm(0.1 * x[0], 1.0 + x[1] ** 2)
    y = x * 0.9
    return np.sum((rv.logpdf(y) + rv.pdf(y) + rv.cdf(y) + rv.logcdf(y) + rv.sf(y)) * W4)


def frozen_t(x):
    rv = stats.t(4.0, loc=0.1 * x[0], scale=1.0 + x[1] ** 2)
    return np.sum((rv.logpdf(x) + rv.pdf(x) + rv.cdf(x) + rv.logcdf(x) + rv.sf(x)) * W4)


def frozen_gamma(x):
    rv = stats.gamma(2.5, scale=x[1])
    return np.sum((rv.logpdf(x) + rv.pdf(x) + rv.cdf(x) + rv.logcdf(x) + rv.sf(x)) * W4)


def frozen_beta(x):
    rv = stats.beta(1.5, 3.0, scale=1.0 + x[1])
    return np.sum((rv.logpdf(x) + rv.pdf(x) + rv.cdf(x) + rv.logcdf(x) + rv.sf(x)) * W4)


def frozen_expon(x):
    rv = stats.expon(scale=x[1])
    return np.sum((rv.logpdf(x) + rv.pdf(x) + rv.cdf(x) + rv.logcdf(x) + rv.sf(x)) * W4)


def frozen_laplace(x):
    rv = stats.laplace(0.05, 1.0 + x[1] ** 2)
    return np.sum((rv.logpdf(x) + rv.pdf(x) + rv.cdf(x) + rv.logcdf(x) + rv.sf(x)) * W4)


def frozen_cauchy(x):
    rv = stats.cauchy(0.1 * x[0], 1.0 + x[1] ** 2)
    return np.sum((rv.logpdf(x) + rv.pdf(x) + rv.cdf(x) + rv.logcdf(x) + rv.sf(x)) * W4)


STATS = [
    ("stats.norm", lambda x: np.sum(five_methods(stats.norm, x * 0.9, 0.1 * x[0], 1.0 + x[1] ** 2) * W4), V4,
     True),
    ("stats.expon", lambda x: np.sum(five_methods(stats.expon, x, -0.1 * x[0], x[1]) * W4), P4, True),
    ("stats.laplace", lambda x: np.sum(five_methods(stats.laplace, x, 0.1 * x[0] + 0.05, 1.0 + x[1] ** 2) * W4),
     V4, True),
    ("stats.cauchy", lambda x: np.sum(five_methods(stats.cauchy, x, 0.1 * x[0], 1.0 + x[1] ** 2) * W4), V4,
     True),
    ("stats.t", shaped_t, V4, False), ("stats.gamma", shaped_gamma, P4, False), ("stats.beta", shaped_beta, U4, False),
] + [(f.__name__.replace("_", " "), f, x, True) for f, x in [
    (frozen_norm, V4), (frozen_t, V4), (frozen_gamma, P4), (frozen_beta, U4), (frozen_expon, P4),
    (frozen_laplace, V4), (frozen_cauchy, V4)]]
COUNTS = np.array([0, 1, 3, 2])
BITS = np.array([0, 1, 1, 0])
STATS += [
    ("poisson.logpmf_pmf_cdf", lambda x: np.sum(stats.poisson.logpmf(COUNTS, x) + stats.poisson.pmf(COUNTS, x)
                                                + stats.poisson.cdf(COUNTS, x)), P4, True),
    ("bernoulli.logpmf_pmf", lambda x: np.sum(stats.bernoulli.logpmf(BITS, x) + stats.bernoulli.pmf(BITS, x)),
     U4, True),
    ("binom.logpmf_pmf", lambda x: np.sum(stats.binom.logpmf(COUNTS, 5, x) + stats.binom.pmf(COUNTS, 5, x)),
     U4, True),
    ("frozen poisson.logpmf", lambda x: np.sum(stats.poisson(x[0] + x[1]).logpmf(COUNTS)), P4, True),
    ("multivariate_normal mean and cov", lambda x: stats.multivariate_normal.logpdf(
        B3, mean=x[:3], cov=SPD + np.outer(x[1:], x[1:])), V4, True),
    ("frozen multivariate_normal", lambda x: np.sum(stats.multivariate_normal(x[:3], SPD * x[3]).logpdf(M33)),
     P4, True),
    ("dirichlet.logpdf_pdf", lambda x: stats.dirichlet.logpdf(U4 / np.sum(U4), x)
     + stats.dirichlet.pdf(U4 / np.sum(U4), x), P4, True),
]

# ------------------------------------------------------------------ scipy.linalg
SQ = M33 + 3.0 * np.eye(3)
LINALG = [
    ("solve", lambda a: np.sum(sl.solve(a, B3) * B3), SQ, True),
    ("solve_triangular", lambda a: np.sum(sl.solve_triangular(a, B3, lower=True) ** 2), SQ, True),
    ("cholesky", lambda a: np.sum(sl.cholesky(a @ a.T) * W33), SQ, True),
    ("cho_factor_cho_solve", lambda a: np.sum(sl.cho_solve(sl.cho_factor(a @ a.T), B3) ** 2), SQ, True),
    ("lu_factor_lu_solve", lambda a: np.sum(sl.lu_solve(sl.lu_factor(a), B3) ** 2), SQ, True),
    ("lu_solve_trans1", lambda a: np.sum(sl.lu_solve(sl.lu_factor(a), np.sin(a[0]), trans=1) ** 2), SQ, True),
    ("lu_solve_trans2_matrix", lambda a: np.sum(sl.lu_solve(sl.lu_factor(a), a.T @ W33, trans=2) * W33), SQ,
     True),
    ("expm", lambda a: np.sum(sl.expm(0.3 * a) * W33), M33, True),
    ("inv_det", lambda a: np.sum(sl.inv(a) * W33) + sl.det(a), SQ, True),
    ("logm", lambda a: np.sum(sl.logm(a @ a.T) * W33), SQ, True),
    ("sqrtm", lambda a: np.sum(sl.sqrtm(a @ a.T) * W33), SQ, True),
]


# ------------------------------------------------------------------ integrators
def _decay(y, t, k):
    return -k * y + np.sin(t)


def _oscillator(t, y, k, c):
    return np.array([y[1], -k * y[0] - c * y[1]])


def _oscillator_columns(t, y, k, c):
    return np.vstack([y[1], -k * y[0] - c * y[1]])


def _crossing(t, y, k, c):
    return y[0]


def _floor(t, y, k, c):
    return y[0] + 0.3


_floor.terminal = True
TIGHT = dict(rtol=1e-10, atol=1e-10)
TIMES = np.array([0.5, 1.0, 2.0, 2.9])


def _ivp(x, **options):
    sol = solve_ivp(_oscillator if not options.get("vectorized") else _oscillator_columns, (0.0, 3.0),
                    np.array([1.0, x[2]]), t_eval=TIMES + 0.1 * x[3], args=(x[0], x[1]), **TIGHT, **options)
    return np.sum(sol.y[0] ** 2) + np.sum(sol.y[1] * np.arange(np.shape(sol.y)[1]))


ODE = [
    ("odeint", lambda x: np.sum(odeint(_decay, x[:2], np.array([0.0, 0.5, 1.0]), args=(x[2],), **TIGHT) ** 2),
     P4, True),
    ("solve_ivp_vectorized", lambda x: _ivp(x, vectorized=True), P4 * 0.5, False),
    ("solve_ivp_events", lambda x: _ivp(x, events=_crossing), P4 * 0.5, False),
    ("solve_ivp_terminal_event", lambda x: _ivp(x, events=[_crossing, _floor]), P4 * 0.5, False),
]

TABLE = NUMPY + DECOMP + FFT + COMPLEX + SPECIAL + STATS + LINALG + ODE


SECOND = [row for row in TABLE if row[3]]
# rows also covered by tests/test_scipy_rules.py's tables run with -m slow
COVERED_ELSEWHERE = {row[0] for row in SPECIAL + LINALG[:5] + LINALG[7:] + FFT[2:8] + STATS[1:4] + STATS[8:]} \
    | {"odeint", "logm", "sqrtm", "expm"}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name,fn,x,second", [
    pytest.param(*row, marks=pytest.mark.slow) if row[0] in COVERED_ELSEWHERE else row for row in TABLE],
    ids=[row[0] for row in TABLE])
def test_issue17_function(name, fn, x, second):
    expected = numeric_grad(fn, [x], 0, eps=1e-6)
    scale = 1.0 + float(np.max(np.abs(expected)))
    assert_close(diffc.grad(fn)(x), expected, rtol=1e-5, atol=1e-6 * scale, what=f"{name} reverse")
    v = np.random.default_rng(5).normal(size=np.shape(x))
    value, tangent = diffc.jvp(fn, (x,), (v,))
    assert_close(value, fn(x), rtol=1e-10, atol=1e-10, what=f"{name} value")
    assert_close(tangent, np.sum(expected * v), rtol=1e-5, atol=1e-6 * scale, what=f"{name} forward")


# a few second-order rows by default, every one with -m slow
FAST_SECOND = {"nansum", "prod_where", "list_of_rows", "svd_complex_gauge_free", "norm", "complex_scalar"}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name,fn,x,second", [
    row if row[0] in FAST_SECOND else pytest.param(*row, marks=pytest.mark.slow) for row in SECOND],
    ids=[row[0] for row in SECOND])
def test_issue17_second_order(name, fn, x, second):
    """diffc.hessian (forward over reverse) against central differences of diffc.grad,
    which test_issue17_function checks against differences of the function."""
    first = diffc.grad(fn)
    hess = fd_jacobian(first, x, eps=1e-5)
    scale = 1.0 + float(np.max(np.abs(hess)))
    assert_close(diffc.hessian(fn)(x), hess, rtol=1e-4, atol=1e-5 * scale, what=f"{name} hessian")


# ------------------------------------------------------------------ third order, refusals, lambdas
def _path(t):
    return M33 + t * W33


def svd_third(t):
    u, s, vh = np.linalg.svd(cplx(_path(t)))
    return np.sum(W33 * np.abs(u) ** 2) + np.sum(s ** 3)


def eig_third(t):
    w, v = np.linalg.eig(_path(t))
    return np.sum(W33 * np.abs(v) ** 2) + np.sum(np.abs(w) ** 2)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("h", [svd_third, eig_third], ids=["complex_svd", "eig_complex_vectors"])
def test_third_derivative_through_decompositions(h):
    """hessian(grad(h)) (forward over reverse over reverse) against differences of the second
    derivative, itself checked against second differences of h."""
    second = diffc.grad(diffc.grad(h))
    assert_close(second(0.0), (h(1e-4) - 2 * h(0.0) + h(-1e-4)) / 1e-8, rtol=1e-4, atol=1e-4)
    expected = (second(1e-5) - second(-1e-5)) / 2e-5
    assert abs(expected) > 1e-2
    assert_close(diffc.hessian(diffc.grad(h))(0.0), expected, rtol=1e-5, atol=1e-6)


def test_terminal_event_without_t_eval():
    """(was refused) the last state is at the event's time, which moves with args: both modes
    against differences; more in test_issue17_leftovers.py"""
    def stopped(x):
        sol = solve_ivp(_oscillator, (0.0, 3.0), np.array([1.0, 0.0]), args=(x[0], x[1]), events=_floor, **TIGHT)
        return np.sum(sol.y[:, -1] ** 2) + sol.t[-1]
    k_c = np.array([2.0, 0.3])             # the oscillation reaches the floor before t = 3
    expected = numeric_grad(stopped, [k_c], 0)
    assert_close(diffc.grad(stopped)(k_c), expected, rtol=1e-5, atol=1e-7)
    assert_close(diffc.jvp(stopped, (k_c,), (k_c,))[1], np.dot(expected, k_c), rtol=1e-5, atol=1e-7)


def test_second_derivative_of_complex_eigh():
    """(was refused) hessian against differences of the gradient; more in test_issue17_leftovers.py"""
    fn = dict((row[0], row[1]) for row in COMPLEX)["eigh_hermitian"]
    hess = fd_jacobian(diffc.grad(fn), M33, eps=1e-5)
    assert_close(diffc.hessian(fn)(M33), hess, rtol=1e-4, atol=1e-5 * (1.0 + np.max(np.abs(hess))))


def pick(f):
    return f


def test_lambdas_sharing_a_line_are_told_apart():
    """Two lambdas with the same parameters on one line: each is differentiated, not the first."""
    square = pick(lambda x: np.sum(np.fft.fftshift(x ** 2))); cube = pick(lambda x: np.sum(np.fft.ifftshift(x ** 3)))  # noqa: E702,E501
    assert_close(diffc.grad(square)(V4), 2 * V4)
    assert_close(diffc.grad(cube)(V4), 3 * V4 ** 2)
    minus = pick(lambda x: np.sum(x - 1.0) ** 2); plus = pick(lambda x: np.sum(x + 1.0) ** 2)  # noqa: E702
    assert_close(diffc.grad(minus)(V4), 2 * np.sum(V4 - 1.0) * np.ones(4))
    assert_close(diffc.grad(plus)(V4), 2 * np.sum(V4 + 1.0) * np.ones(4))
