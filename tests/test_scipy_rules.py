"""SciPy rules (diffc/rules/scipy_*.py) against central finite differences.

Each row of the tables is a small program calling one SciPy function the way
users call it; its gradient (reverse mode), its directional derivative
(forward mode) and, where the rule claims it, its Hessian (forward over
reverse, against finite differences of the gradient that the first two checks
validated) are compared with finite differences.  Then the acceptance
programs: a classifier with logsumexp, a GP marginal likelihood, Poisson and
negative-binomial regressions, a VAE-style objective, a neural ODE.
Skipped when SciPy is not installed.
"""
import numpy as np
import pytest

sp = pytest.importorskip("scipy.special")
stats = pytest.importorskip("scipy.stats")
import scipy                                   # noqa: E402
import scipy.linalg as sl                      # noqa: E402
from scipy.integrate import odeint             # noqa: E402
from scipy.special import logsumexp, gammaln, expit, softmax, log_softmax   # noqa: E402
from scipy.stats import norm, multivariate_normal, poisson                   # noqa: E402

import diffc                                   # noqa: E402
from gradcheck import assert_close, fd_jacobian, numeric_grad   # noqa: E402

RNG = np.random.default_rng(17)
V3 = np.array([0.3, -0.7, 1.2])
POS3 = np.array([0.6, 1.7, 3.1])
UNIT3 = np.array([0.15, 0.5, 0.8])
W3 = np.array([0.5, -1.0, 2.0])
M23 = RNG.normal(size=(2, 3))
B23 = np.abs(RNG.normal(size=(2, 3))) + 0.2


def _spd(n, seed):
    a = np.random.default_rng(seed).normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


S3 = _spd(3, 1)
A3 = np.random.default_rng(2).normal(size=(3, 3)) * 0.4
B3 = np.array([0.2, -1.0, 0.5])
WM = np.arange(9.0).reshape(3, 3) / 10.0


# (name, function of one float array, argument, second order claimed)
SPECIAL = [
    ("expit", lambda x: np.sum(expit(x) * W3), V3, True),
    ("logit", lambda x: np.sum(sp.logit(x) * W3), UNIT3, True),
    ("log_expit", lambda x: np.sum(sp.log_expit(x) * W3), V3, True),
    ("gammaln", lambda x: np.sum(gammaln(x) * W3), POS3, True),
    ("loggamma", lambda x: np.sum(sp.loggamma(x) * W3), POS3, True),
    ("digamma", lambda x: np.sum(sp.digamma(x) * W3), POS3, True),
    ("polygamma", lambda x: np.sum(sp.polygamma(2, x) * W3), POS3, True),
    ("gamma", lambda x: np.sum(sp.gamma(x) * W3), POS3, True),
    ("rgamma", lambda x: np.sum(sp.rgamma(x) * W3), POS3, True),
    ("beta", lambda x: np.sum(sp.beta(x, x[::-1] + 0.5)), POS3, True),
    ("betaln", lambda x: np.sum(sp.betaln(x, 2.0) * W3), POS3, True),
    ("erf", lambda x: np.sum(sp.erf(x) * W3), V3, True),
    ("erfc", lambda x: np.sum(sp.erfc(x) * W3), V3, True),
    ("erfcx", lambda x: np.sum(sp.erfcx(x) * W3), V3, True),
    ("erfinv", lambda x: np.sum(sp.erfinv(x) * W3), UNIT3 - 0.3, True),
    ("erfcinv", lambda x: np.sum(sp.erfcinv(x) * W3), UNIT3 + 0.1, True),
    ("ndtr", lambda x: np.sum(sp.ndtr(x) * W3), V3, True),
    ("log_ndtr", lambda x: np.sum(sp.log_ndtr(x) * W3), V3 * 3.0, True),
    ("ndtri", lambda x: np.sum(sp.ndtri(x) * W3), UNIT3, True),
    ("i0", lambda x: np.sum(sp.i0(x) * W3), V3, True),
    ("i1", lambda x: np.sum(sp.i1(x) * W3), V3, True),
    ("i0e", lambda x: np.sum(sp.i0e(x) * W3), V3, True),
    ("i1e", lambda x: np.sum(sp.i1e(x) * W3), V3, True),
    ("iv", lambda x: np.sum(sp.iv(1.5, x) * W3), POS3, True),
    ("xlogy", lambda x: np.sum(sp.xlogy(x, x[::-1])), POS3, True),
    ("xlog1py", lambda x: np.sum(sp.xlog1py(x, x[::-1])), POS3, True),
    ("entr", lambda x: np.sum(sp.entr(x) * W3), POS3, True),
    ("rel_entr", lambda x: np.sum(sp.rel_entr(x, x[::-1] + 0.3)), POS3, True),
    ("kl_div", lambda x: np.sum(sp.kl_div(x, x[::-1] + 0.3)), POS3, True),
    ("gammainc_x", lambda x: np.sum(sp.gammainc(2.5, x) * W3), POS3, True),
    ("gammaincc_x", lambda x: np.sum(sp.gammaincc(2.5, x) * W3), POS3, True),
    ("betainc_x", lambda x: np.sum(sp.betainc(2.0, 3.0, x) * W3), UNIT3, True),
    ("stdtr_t", lambda x: np.sum(sp.stdtr(4.0, x) * W3), V3, True),
    ("softmax", lambda x: np.sum(softmax(x) * W3), V3, True),
    ("softmax_axis", lambda x: np.sum(softmax(x, axis=1) * M23), B23, True),
    ("log_softmax", lambda x: np.sum(log_softmax(x) * W3), V3, True),
    ("log_softmax_axis", lambda x: np.sum(log_softmax(x, axis=0) * M23), B23, True),
    ("logsumexp", lambda x: logsumexp(x), V3, True),
    ("logsumexp_axis", lambda x: np.sum(logsumexp(x, axis=1) * np.array([1.0, -2.0])), B23, True),
    ("logsumexp_keepdims", lambda x: np.sum(logsumexp(x, axis=0, keepdims=True) * W3), B23, True),
    ("logsumexp_b", lambda x: logsumexp(x, b=W3 * W3), V3, True),
    ("logsumexp_b_active", lambda x: logsumexp(V3, b=x), POS3, True),
    ("logsumexp_sign", lambda x: logsumexp(x, b=W3, return_sign=True)[0], V3, True),
]

# scipy.stats: every distribution's methods with loc/scale where they take them
STATS = [
    ("norm.logpdf", lambda x: np.sum(norm.logpdf(x, x[0], 1.5)), V3, True),
    ("norm.pdf", lambda x: np.sum(norm.pdf(x, loc=0.2, scale=x[2])), POS3, True),
    ("norm.cdf", lambda x: np.sum(stats.norm.cdf(x, 0.1, x[1])), POS3, True),
    ("norm.logcdf", lambda x: np.sum(norm.logcdf(x, scale=2.0)), V3, True),
    ("norm.sf", lambda x: np.sum(scipy.stats.norm.sf(x, 0.3)), V3, True),
    ("norm.logsf", lambda x: np.sum(norm.logsf(x)), V3, True),
    ("norm.ppf", lambda x: np.sum(norm.ppf(x, 1.0, 2.0)), UNIT3, True),
    ("t.logpdf", lambda x: np.sum(stats.t.logpdf(x, x[2], 0.1, x[1])), POS3, True),
    ("t.pdf", lambda x: np.sum(stats.t.pdf(x, 3.0)), V3, True),
    ("t.cdf", lambda x: np.sum(stats.t.cdf(x, 3.0, loc=0.2, scale=1.5)), V3, True),
    ("t.sf", lambda x: np.sum(stats.t.sf(x, 5.0)), V3, True),
    ("gamma.logpdf", lambda x: np.sum(stats.gamma.logpdf(x, x[1], scale=x[0])), POS3, True),
    ("gamma.pdf", lambda x: np.sum(stats.gamma.pdf(x, 2.0)), POS3, True),
    ("gamma.cdf", lambda x: np.sum(stats.gamma.cdf(x, 2.0, scale=1.5)), POS3, True),
    ("gamma.sf", lambda x: np.sum(stats.gamma.sf(x, 2.0)), POS3, True),
    ("beta.logpdf", lambda x: np.sum(stats.beta.logpdf(UNIT3, x[0], x[1])), POS3, True),
    ("beta.pdf", lambda x: np.sum(stats.beta.pdf(x, 2.0, 3.0)), UNIT3, True),
    ("beta.cdf", lambda x: np.sum(stats.beta.cdf(x, 2.0, 3.0)), UNIT3, True),
    ("expon.logpdf", lambda x: np.sum(stats.expon.logpdf(x, scale=x[0])), POS3, True),
    ("expon.cdf", lambda x: np.sum(stats.expon.cdf(x, 0.1, 2.0)), POS3, True),
    ("expon.sf", lambda x: np.sum(stats.expon.sf(x, scale=2.0)), POS3, True),
    ("laplace.logpdf", lambda x: np.sum(stats.laplace.logpdf(x, 0.1, x[2])), POS3, True),
    ("laplace.cdf", lambda x: np.sum(stats.laplace.cdf(x, 0.5)), V3, True),
    ("cauchy.logpdf", lambda x: np.sum(stats.cauchy.logpdf(x, x[0], 2.0)), V3, True),
    ("cauchy.cdf", lambda x: np.sum(stats.cauchy.cdf(x, scale=0.5)), V3, True),
    ("poisson.logpmf", lambda x: np.sum(poisson.logpmf(np.array([0, 2, 5]), x)), POS3, True),
    ("poisson.pmf", lambda x: np.sum(poisson.pmf(np.array([0, 2, 5]), x)), POS3, True),
    ("poisson.cdf", lambda x: np.sum(poisson.cdf(np.array([0, 2, 5]), x)), POS3, True),
    ("bernoulli.logpmf", lambda x: np.sum(stats.bernoulli.logpmf(np.array([0, 1, 1]), x)), UNIT3, True),
    ("binom.logpmf", lambda x: np.sum(stats.binom.logpmf(np.array([0, 3, 7]), 10, x)), UNIT3, True),
    ("nbinom.logpmf", lambda x: np.sum(stats.nbinom.logpmf(np.array([0, 3, 7]), x, 0.4)), POS3, True),
    ("multivariate_normal.logpdf", lambda x: multivariate_normal.logpdf(V3, mean=x, cov=S3), POS3, True),
    ("multivariate_normal.pdf", lambda x: multivariate_normal.pdf(V3, x, np.diag(x) + 1.0), POS3, True),
    ("multivariate_normal.diag", lambda x: np.sum(multivariate_normal.logpdf(M23, np.zeros(3), cov=x)), POS3, True),
    ("dirichlet.logpdf", lambda x: stats.dirichlet.logpdf(UNIT3 / np.sum(UNIT3), x), POS3, True),
]

_FROZEN = norm(0.5, 2.0)
_FROZEN_T = stats.t(4.0, scale=1.5)
_FROZEN_MVN = multivariate_normal(np.zeros(3), S3)
STATS += [
    ("frozen norm.logpdf", lambda x: np.sum(_FROZEN.logpdf(x)), V3, True),
    ("frozen t.cdf", lambda x: np.sum(_FROZEN_T.cdf(x)), V3, True),
    ("frozen multivariate_normal.logpdf", lambda x: _FROZEN_MVN.logpdf(x), V3, True),
]

LINALG = [
    ("solve", lambda a: np.sum(sl.solve(a, B3) ** 2), S3, True),
    ("solve_transposed", lambda a: np.sum(sl.solve(a, B3, transposed=True) * W3), A3 + 2 * np.eye(3), True),
    ("solve_triangular", lambda a: np.sum(sl.solve_triangular(a, B3, lower=True) * W3), S3, True),
    ("solve_triangular_upper_T", lambda a: np.sum(sl.solve_triangular(a, B3, trans="T") * W3), S3, True),
    ("cholesky", lambda a: np.sum(sl.cholesky(a) * WM), S3, True),
    ("cholesky_lower", lambda a: np.sum(sl.cholesky(a, lower=True) * WM), S3, True),
    ("cho_solve", lambda a: np.sum(sl.cho_solve(sl.cho_factor(a), B3) * W3), S3, True),
    ("cho_solve_lower", lambda a: np.sum(sl.cho_solve(sl.cho_factor(a, lower=True), B3) * W3), S3, True),
    ("inv", lambda a: np.sum(sl.inv(a) * WM), S3, True),
    ("det", lambda a: sl.det(a), A3 + np.eye(3), True),
    ("expm", lambda a: np.sum(sl.expm(a) * WM), A3, True),
    ("logm", lambda a: np.sum(sl.logm(a) * WM), S3, True),
    ("sqrtm", lambda a: np.sum(sl.sqrtm(a) * WM), S3, True),
    ("solve_sylvester", lambda a: np.sum(sl.solve_sylvester(a, S3, WM) ** 2), A3 + 3 * np.eye(3), True),
    ("solve_sylvester_rhs", lambda q: np.sum(sl.solve_sylvester(S3, A3 + 3 * np.eye(3), q) ** 3), WM, True),
    ("lu_solve_vector", lambda a: np.sum(sl.lu_solve(sl.lu_factor(a), B3) ** 2), A3 + np.eye(3), True),
    ("lu_solve_rhs", lambda b: np.sum(sl.lu_solve(sl.lu_factor(S3), b) ** 2), B3, True),
    ("lu_solve_matrix", lambda a: np.sum(sl.lu_solve(sl.lu_factor(a), WM) * WM), A3 + np.eye(3), True),
    ("lu_factor_diag", lambda a: np.sum(np.log(np.abs(np.diag(sl.lu_factor(a)[0])))), A3 + np.eye(3), True),
]

import scipy.signal as ss                       # noqa: E402
from scipy import ndimage                       # noqa: E402

IMG = RNG.normal(size=(5, 6))
K23 = RNG.normal(size=(2, 3))
K33 = RNG.normal(size=(3, 3))
SIG = RNG.normal(size=7)
W68 = np.arange(48.0).reshape(6, 8) / 10.0
SIGNAL = [
    ("signal.convolve", lambda x: np.sum(ss.convolve(x, K23) * W68), IMG, True),
    ("signal.convolve_same_kernel", lambda k: np.sum(ss.convolve(IMG, k, mode="same") ** 2), K23, True),
    ("signal.convolve_valid", lambda x: np.sum(ss.convolve(x, K23, mode="valid") ** 2), IMG, True),
    ("signal.correlate_1d", lambda x: np.sum(ss.correlate(x, x[:3] * 0.5, mode="same") ** 2), SIG, True),
    ("signal.fftconvolve", lambda x: np.sum(ss.fftconvolve(x, K23, mode="same") * IMG), IMG, True),
] + [
    (f"ndimage.{name}[{mode}]", fn, IMG, True)
    for mode in ("reflect", "mirror", "nearest", "wrap", "constant")
    for name, fn in [
        ("correlate", lambda x, m=mode: np.sum(ndimage.correlate(x, K23, mode=m) ** 2)),
        ("convolve", lambda x, m=mode: np.sum(ndimage.convolve(x, K33, mode=m) * IMG)),
        ("gaussian_filter", lambda x, m=mode: np.sum(ndimage.gaussian_filter(x, 1.1, mode=m) ** 2)),
        ("uniform_filter", lambda x, m=mode: np.sum(ndimage.uniform_filter(x, 3, mode=m) ** 2)),
    ]
] + [
    ("ndimage.correlate_weights", lambda k: np.sum(ndimage.correlate(IMG, k) ** 2), K33, True),
    ("ndimage.gaussian_filter1d", lambda x: np.sum(ndimage.gaussian_filter1d(x, 0.8, axis=0, order=1) ** 2), IMG,
     True),
    ("ndimage.uniform_filter1d", lambda x: np.sum(ndimage.uniform_filter1d(x, 4) * IMG), IMG, True),
    ("ndimage.convolve1d", lambda x: np.sum(ndimage.convolve1d(x, SIG[:4], axis=1) ** 2), IMG, True),
]


TABLE = SPECIAL + STATS + LINALG + SIGNAL


def _reference_checks(fn, x):
    """diffc's gradient and directional derivative against central differences."""
    expected = numeric_grad(fn, [x], 0, eps=1e-6)
    assert_close(diffc.grad(fn)(x), expected, rtol=1e-5, atol=1e-6, what="reverse")
    v = np.random.default_rng(3).normal(size=np.shape(x))
    value, tangent = diffc.jvp(fn, (x,), (v,))
    assert_close(value, fn(x), rtol=1e-12, atol=1e-12, what="value")
    assert_close(tangent, np.sum(expected * v), rtol=1e-5, atol=1e-6, what="forward")


@pytest.mark.parametrize("name,fn,x,second", TABLE, ids=[row[0] for row in TABLE])
def test_rule_against_finite_differences(name, fn, x, second):
    _reference_checks(fn, x)
    if second:
        expected = fd_jacobian(diffc.grad(fn), x, eps=1e-5)
        assert_close(diffc.hessian(fn)(x), expected, rtol=1e-4, atol=1e-5, what="forward over reverse")


def test_lu_solve_conjugate_transposed_complex_is_refused_not_wrong():
    # (trans=1 and trans=2 of real factors: tests/test_issue17_coverage.py)
    with pytest.raises(NotImplementedError, match="trans=2"):
        diffc.grad(lambda a: np.abs(np.sum(sl.lu_solve(sl.lu_factor(a + 1j * np.eye(3)), B3, trans=2))))(
            A3 + np.eye(3))


def test_implementations_match_scipy_values():
    """The implementations diffc differentiates compute SciPy's values."""
    for name, fn, x, _ in STATS + LINALG:
        assert_close(diffc.value_and_grad(fn)(x)[0], fn(x), rtol=1e-10, atol=1e-12, what=name)
    from diffc.rules import scipy_stats as S
    assert_close(S.norm_logpdf(V3, 0.2, 1.5), norm.logpdf(V3, 0.2, 1.5), rtol=1e-12)
    assert_close(S.t_logpdf(V3, 3.0, 0.2, 1.5), stats.t.logpdf(V3, 3.0, 0.2, 1.5), rtol=1e-12)
    assert_close(S.gamma_logpdf(POS3, 2.5, 0.1, 1.5), stats.gamma.logpdf(POS3, 2.5, 0.1, 1.5), rtol=1e-12)
    assert_close(S.beta_logpdf(UNIT3, 2.5, 1.5), stats.beta.logpdf(UNIT3, 2.5, 1.5), rtol=1e-12)
    assert_close(S.expon_logpdf(POS3, 0.1, 2.0), stats.expon.logpdf(POS3, 0.1, 2.0), rtol=1e-12)
    assert_close(S.laplace_cdf(V3, 0.1, 2.0), stats.laplace.cdf(V3, 0.1, 2.0), rtol=1e-12)
    assert_close(S.cauchy_logpdf(V3, 0.1, 2.0), stats.cauchy.logpdf(V3, 0.1, 2.0), rtol=1e-12)
    k = np.array([0, 2, 5])
    assert_close(S.poisson_cdf(k, POS3), poisson.cdf(k, POS3), rtol=1e-12)
    assert_close(S.binom_logpmf(k, 10, 0.3), stats.binom.logpmf(k, 10, 0.3), rtol=1e-12)
    assert_close(S.nbinom_logpmf(k, 2.5, 0.3), stats.nbinom.logpmf(k, 2.5, 0.3), rtol=1e-12)
    assert_close(S.multivariate_normal_logpdf(M23, W3, S3), multivariate_normal.logpdf(M23, W3, S3), rtol=1e-12)
    x = UNIT3 / np.sum(UNIT3)
    assert_close(S.dirichlet_logpdf(x, POS3), stats.dirichlet.logpdf(x, POS3), rtol=1e-12)


def test_shape_parameter_of_a_cdf():
    """t.cdf in df and gammainc in a (no closed form: by quadrature) against differences, both
    modes; their second derivative in the shape parameter is refused, never a zero."""
    def f(df):
        return np.sum(stats.t.cdf(V3, df))
    expected = (f(3.0 + 1e-5) - f(3.0 - 1e-5)) / 2e-5
    assert abs(expected) > 1e-3
    assert_close(diffc.grad(f)(3.0), expected, rtol=1e-6)
    assert_close(diffc.jvp(f, (3.0,), (1.0,))[1], expected, rtol=1e-6)
    with pytest.raises(NotImplementedError, match="stdtr is not differentiated"):
        diffc.grad(diffc.grad(f))(3.0)

    def g(a):
        return np.sum(sp.gammainc(a, POS3))
    assert_close(diffc.grad(g)(2.0), (g(2.0 + 1e-5) - g(2.0 - 1e-5)) / 2e-5, rtol=1e-6)


# ------------------------------------------------------------------ acceptance programs

def softmax_classifier_loss(W, b, X, y):
    logits = X @ W + b
    log_probs = logits - logsumexp(logits, axis=1, keepdims=True)
    return -np.mean(log_probs[np.arange(len(y)), y])


def test_classifier_with_logsumexp():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 4)), rng.integers(0, 3, size=8)
    W, b = rng.normal(size=(4, 3)) * 0.5, np.zeros(3)
    gW, gb = diffc.grad(softmax_classifier_loss, wrt=(0, 1))(W, b, X, y)
    assert_close(gW, numeric_grad(softmax_classifier_loss, [W, b, X, y], 0), rtol=1e-6, atol=1e-8)
    assert_close(gb, numeric_grad(softmax_classifier_loss, [W, b, X, y], 1), rtol=1e-6, atol=1e-8)


def rbf_kernel(x, lengthscale, variance):
    d = x[:, None] - x[None, :]
    return variance * np.exp(-0.5 * d ** 2 / lengthscale ** 2)


def gp_log_marginal_likelihood(params, x, y):
    lengthscale, variance, noise = np.exp(params)
    K = rbf_kernel(x, lengthscale, variance) + noise * np.eye(len(x))
    return multivariate_normal.logpdf(y, mean=np.zeros(len(x)), cov=K)


def test_gaussian_process_marginal_likelihood():
    x = np.linspace(0, 3, 6)
    y = np.sin(x) + 0.1 * np.cos(5 * x)
    params = np.log(np.array([0.8, 1.2, 0.1]))
    g = diffc.grad(gp_log_marginal_likelihood)(params, x, y)
    assert_close(g, numeric_grad(gp_log_marginal_likelihood, [params, x, y], 0), rtol=1e-5, atol=1e-7)
    hess = diffc.hessian(gp_log_marginal_likelihood)(params, x, y)
    expected = fd_jacobian(lambda p: diffc.grad(gp_log_marginal_likelihood)(p, x, y), params, eps=1e-5)
    assert_close(hess, expected, rtol=1e-4, atol=1e-5)


def poisson_nll(w, X, counts):
    rate = np.exp(X @ w)
    return -np.sum(counts * np.log(rate) - rate - gammaln(counts + 1))


def negative_binomial_nll(w, log_r, X, counts):
    mu = np.exp(X @ w)
    r = np.exp(log_r)
    ll = (gammaln(counts + r) - gammaln(r) - gammaln(counts + 1)
          + r * np.log(r / (r + mu)) + counts * np.log(mu / (r + mu)))
    return -np.sum(ll)


def test_count_regressions_with_gammaln():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(10, 3))
    counts = rng.poisson(2.0, size=10).astype(float)
    w = np.array([0.1, -0.2, 0.3])
    assert_close(diffc.grad(poisson_nll)(w, X, counts), numeric_grad(poisson_nll, [w, X, counts], 0),
                 rtol=1e-6, atol=1e-8)
    args = [w, 0.4, X, counts]
    gw, gr = diffc.grad(negative_binomial_nll, wrt=(0, 1))(*args)
    assert_close(gw, numeric_grad(negative_binomial_nll, args, 0), rtol=1e-6, atol=1e-8)
    assert_close(gr, numeric_grad(negative_binomial_nll, args, 1), rtol=1e-6, atol=1e-8)
    _, t = diffc.jvp(negative_binomial_nll, tuple(args), (np.ones(3), 1.0, None, None))
    assert_close(t, np.sum(numeric_grad(negative_binomial_nll, args, 0)) + numeric_grad(negative_binomial_nll, args, 1),
                 rtol=1e-6, atol=1e-8)


def encoder(params, x):
    W_mu, W_logvar = params
    return x @ W_mu, x @ W_logvar


def decoder(W_dec, z):
    return np.tanh(z @ W_dec)


def vae_objective(params, W_dec, x, eps):
    mu, logvar = encoder(params, x)
    sigma = np.exp(0.5 * logvar)
    z = mu + sigma * eps
    x_hat = decoder(W_dec, z)
    log_lik = np.sum(norm.logpdf(x, loc=x_hat, scale=0.5))
    log_prior = np.sum(norm.logpdf(z))
    log_q = np.sum(norm.logpdf(z, mu, sigma))
    return log_lik + log_prior - log_q


def test_vae_objective_with_norm_logpdf():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 5))
    eps = rng.normal(size=(4, 2))
    params = [rng.normal(size=(5, 2)) * 0.3, rng.normal(size=(5, 2)) * 0.3]
    W_dec = rng.normal(size=(2, 5)) * 0.3
    g_params, g_dec = diffc.grad(vae_objective, wrt=(0, 1))(params, W_dec, x, eps)

    def with_mu(Wm):
        return vae_objective([Wm, params[1]], W_dec, x, eps)
    assert_close(g_params[0], numeric_grad(with_mu, [params[0]], 0), rtol=1e-6, atol=1e-8)
    assert_close(g_dec, numeric_grad(vae_objective, [params, W_dec, x, eps], 1), rtol=1e-6, atol=1e-8)


def neural_dynamics(y, t, W1, b1, W2):
    hidden = np.tanh(W1 @ y + b1)
    return W2 @ hidden


def neural_ode_loss(y0, W1, b1, W2, t, target):
    trajectory = odeint(neural_dynamics, y0, t, args=(W1, b1, W2), rtol=1e-10, atol=1e-10)
    return np.sum((trajectory - target) ** 2)


def test_neural_ode_through_odeint():
    rng = np.random.default_rng(3)
    y0 = np.array([1.0, -0.5])
    W1, b1, W2 = rng.normal(size=(4, 2)) * 0.5, rng.normal(size=4) * 0.1, rng.normal(size=(2, 4)) * 0.5
    t = np.linspace(0.0, 1.0, 5)
    target = rng.normal(size=(5, 2))
    args = [y0, W1, b1, W2, t, target]
    grads = diffc.grad(neural_ode_loss, wrt=(0, 1, 2, 3, 4))(*args)
    for k, g in enumerate(grads):
        assert_close(g, numeric_grad(neural_ode_loss, args, k, eps=1e-5), rtol=1e-5, atol=1e-6, what=f"arg {k}")
    dirs = (rng.normal(size=2), rng.normal(size=(4, 2)), None, None, None, None)
    _, tangent = diffc.jvp(neural_ode_loss, tuple(args), dirs)
    expected = np.sum(numeric_grad(neural_ode_loss, args, 0, eps=1e-5) * dirs[0]) \
        + np.sum(numeric_grad(neural_ode_loss, args, 1, eps=1e-5) * dirs[1])
    assert_close(tangent, expected, rtol=1e-5, atol=1e-6)


def frozen_inside(x, mu, s):
    rv = norm(mu, s)
    q = stats.t(4.0, loc=mu)
    total = np.sum(rv.logpdf(x)) + np.sum(norm(loc=mu, scale=s).cdf(x)) + np.sum(q.logpdf(x))
    return total + multivariate_normal(x, np.eye(3) * s).logpdf(x * mu)


def test_distribution_frozen_inside_the_function_with_differentiated_parameters():
    args = [V3, 0.2, 1.3]
    grads = diffc.grad(frozen_inside, wrt=(0, 1, 2))(*args)
    for k, g in enumerate(grads):
        assert_close(g, numeric_grad(frozen_inside, args, k), rtol=1e-6, atol=1e-8, what=f"arg {k}")
    _, t = diffc.jvp(frozen_inside, tuple(args), (W3, 1.0, -0.5))
    expected = np.sum(grads[0] * W3) + grads[1] - 0.5 * grads[2]
    assert_close(t, expected, rtol=1e-6, atol=1e-8)


def frozen_used_as_a_value(mu):
    rv = norm(mu, 1.0)
    dists = [rv]
    return dists[0].logpdf(0.3)


def test_frozen_distribution_used_as_a_value():
    """A frozen distribution put in a list is an object holding its parameters (it was refused)."""
    expected = (frozen_used_as_a_value(0.2 + 1e-6) - frozen_used_as_a_value(0.2 - 1e-6)) / 2e-6
    assert abs(expected) > 1e-2
    assert_close(diffc.grad(frozen_used_as_a_value)(0.2), expected, rtol=1e-6, atol=1e-8)
    assert_close(diffc.jvp(frozen_used_as_a_value, (0.2,), (1.0,))[1], expected, rtol=1e-6, atol=1e-8)


from scipy.integrate import solve_ivp          # noqa: E402


def forced_decay(t, y, k, c):
    return -k * y + c * np.sin(t)


def ivp_loss(y0, k, c, ts):
    sol = solve_ivp(forced_decay, (0.0, 2.0), y0, t_eval=ts, args=(k, c), rtol=1e-10, atol=1e-10)
    return np.sum(sol.y ** 2)


def ivp_loss_from_t0(y0, t0):
    sol = solve_ivp(forced_decay, [t0, 2.0], y0, t_eval=np.array([t0, 1.0, 1.5]), args=(0.5, W3[:2]),
                    rtol=1e-10, atol=1e-10)
    ys = sol.y
    return np.sum(ys[:, 1:] ** 2) + np.sum(ys[:, 0])


@pytest.mark.parametrize("fn,args", [
    (ivp_loss, [np.array([1.0, -0.5]), 0.7, np.array([0.3, 0.2]), np.array([0.5, 1.0, 1.7])]),
    (ivp_loss_from_t0, [np.array([1.0, -0.5]), 0.1]),
], ids=["t_eval_after_t0", "t_eval_from_t0"])
def test_solve_ivp_with_t_eval(fn, args):
    """Gradients wrt y0, args, t_span[0] and t_eval (adjoint ODE) and the tangent (sensitivities)."""
    wrt = tuple(range(len(args)))
    grads = diffc.grad(fn, wrt=wrt)(*args)
    for k, g in enumerate(grads):
        assert_close(g, numeric_grad(fn, args, k, eps=1e-5), rtol=1e-5, atol=1e-6, what=f"arg {k}")
    dirs = tuple(np.random.default_rng(k).normal(size=np.shape(a)) for k, a in enumerate(args))
    dirs = tuple(d if np.ndim(d) else float(d) for d in dirs)
    _, t = diffc.jvp(fn, tuple(args), dirs)
    assert_close(t, sum(np.sum(g * d) for g, d in zip(grads, dirs)), rtol=1e-5, atol=1e-6)


def exported_objective(x, w):
    return logsumexp(x * w) + np.sum(gammaln(x * x + 1.0)) + np.sum(norm.logpdf(x, w, 2.0))


@pytest.mark.slow       # one of the slowest of the default suite; run with -m slow
def test_export_of_a_gradient_through_scipy(tmp_path):
    """diffc export writes scipy.special ufuncs and distributions as imports."""
    import importlib.util
    from diffc.export import export_source
    path = tmp_path / "grad_scipy.py"
    path.write_text(export_source(exported_objective))
    spec = importlib.util.spec_from_file_location("grad_scipy", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x, w = np.array([0.1, 0.2]), np.array([1.0, 2.0])
    assert_close(module.grad_exported_objective(x, w), numeric_grad(exported_objective, [x, w], 0), rtol=1e-6)


def mlp(params, y):
    W1, b1, W2 = params
    return W2 @ np.tanh(W1 @ y + b1)


def neural_ode_closure_loss(W1, b1, W2, y0):
    """The usual neural-ODE code: the dynamics close over the network's parameters."""
    params = (W1, b1, W2)

    def dynamics(y, t):
        return mlp(params, y)
    ys = odeint(dynamics, y0, np.linspace(0.0, 1.0, 4), rtol=1e-10, atol=1e-10)
    return np.sum(ys ** 2)


def decay_closure_loss(k, y0):
    def rhs(t, y):
        return -k * y
    sol = solve_ivp(rhs, (0.0, 1.0), y0, t_eval=np.array([0.5, 1.0]), rtol=1e-10, atol=1e-10)
    return np.sum(sol.y)


@pytest.mark.parametrize("fn,args", [
    (neural_ode_closure_loss, [np.random.default_rng(3).normal(size=(4, 2)) * 0.5, np.full(4, 0.1),
                               np.random.default_rng(4).normal(size=(2, 4)) * 0.5, np.array([1.0, -0.5])]),
    (decay_closure_loss, [0.7, np.array([1.0, 2.0])]),
], ids=["odeint", "solve_ivp"])
def test_ode_right_hand_side_closing_over_parameters(fn, args):
    wrt = tuple(range(len(args)))
    grads = diffc.grad(fn, wrt=wrt)(*args)
    for k, g in enumerate(grads):
        assert_close(g, numeric_grad(fn, args, k, eps=1e-5), rtol=1e-5, atol=1e-6, what=f"arg {k}")
    dirs = tuple(np.random.default_rng(k).normal(size=np.shape(a)) for k, a in enumerate(args))
    dirs = tuple(d if np.ndim(d) else float(d) for d in dirs)
    _, t = diffc.jvp(fn, tuple(args), dirs)
    assert_close(t, sum(np.sum(g * d) for g, d in zip(grads, dirs)), rtol=1e-5, atol=1e-6)
