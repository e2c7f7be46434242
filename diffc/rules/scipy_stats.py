"""scipy.stats distributions, written out in NumPy and scipy.special for diffc to read.

Each function below is registered with `implemented_by` for one method of one
distribution (``norm.logpdf``, ``poisson.logpmf``, ``multivariate_normal.logpdf``
...): differentiated code calls it in place of SciPy's method and diffc
differentiates its body like user code, so every argument (x, the shape
parameters, ``loc`` and ``scale``; the mean and covariance of a multivariate
normal; the concentration of a Dirichlet) gets its derivative in both modes
and at higher order, through the rules of scipy_special.  The values equal
SciPy's on the support (tests compare them); derivatives in a parameter with
no closed form (the shape parameters of t/gamma/beta cdfs) are computed by the
rules of ``stdtr``/``gammainc``/``betainc`` by quadrature (first order; a second
derivative in them is refused, never returned as zero).

A frozen distribution known when the function is compiled (``rv = norm(1.0,
2.0)`` at module level, then ``rv.logpdf(x)``) is called through the same
functions with its parameters as constants (`frozen_call`).
"""

import math

import numpy as np
from scipy import special as sp
from scipy import stats

from . import implemented_by

_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2.0)


# ------------------------------------------------------------------------ normal

@implemented_by(stats.norm.logpdf)
def norm_logpdf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return -0.5 * z * z - np.log(scale) - 0.5 * _LOG_2PI


@implemented_by(stats.norm.pdf)
def norm_pdf(x, loc=0.0, scale=1.0):
    return np.exp(norm_logpdf(x, loc, scale))


@implemented_by(stats.norm.cdf)
def norm_cdf(x, loc=0.0, scale=1.0):
    return sp.ndtr((np.asarray(x) - loc) / scale)


@implemented_by(stats.norm.logcdf)
def norm_logcdf(x, loc=0.0, scale=1.0):
    return sp.log_ndtr((np.asarray(x) - loc) / scale)


@implemented_by(stats.norm.sf)
def norm_sf(x, loc=0.0, scale=1.0):
    return sp.ndtr((loc - x) / scale)


@implemented_by(stats.norm.logsf)
def norm_logsf(x, loc=0.0, scale=1.0):
    return sp.log_ndtr((loc - x) / scale)


@implemented_by(stats.norm.ppf)
def norm_ppf(q, loc=0.0, scale=1.0):
    return loc + scale * sp.ndtri(q)


# --------------------------------------------------------------------- Student t

@implemented_by(stats.t.logpdf)
def t_logpdf(x, df, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return (sp.gammaln(0.5 * (df + 1.0)) - sp.gammaln(0.5 * df) - 0.5 * np.log(df * math.pi)
            - 0.5 * (df + 1.0) * np.log1p(z * z / df) - np.log(scale))


@implemented_by(stats.t.pdf)
def t_pdf(x, df, loc=0.0, scale=1.0):
    return np.exp(t_logpdf(x, df, loc, scale))


@implemented_by(stats.t.cdf)
def t_cdf(x, df, loc=0.0, scale=1.0):
    return sp.stdtr(df, (np.asarray(x) - loc) / scale)


@implemented_by(stats.t.logcdf)
def t_logcdf(x, df, loc=0.0, scale=1.0):
    return np.log(sp.stdtr(df, (np.asarray(x) - loc) / scale))


@implemented_by(stats.t.sf)
def t_sf(x, df, loc=0.0, scale=1.0):
    return sp.stdtr(df, (loc - x) / scale)


@implemented_by(stats.t.logsf)
def t_logsf(x, df, loc=0.0, scale=1.0):
    return np.log(sp.stdtr(df, (loc - x) / scale))


# ------------------------------------------------------------------------- gamma

@implemented_by(stats.gamma.logpdf)
def gamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return sp.xlogy(a - 1.0, z) - z - sp.gammaln(a) - np.log(scale)


@implemented_by(stats.gamma.pdf)
def gamma_pdf(x, a, loc=0.0, scale=1.0):
    return np.exp(gamma_logpdf(x, a, loc, scale))


@implemented_by(stats.gamma.cdf)
def gamma_cdf(x, a, loc=0.0, scale=1.0):
    return sp.gammainc(a, (np.asarray(x) - loc) / scale)


@implemented_by(stats.gamma.logcdf)
def gamma_logcdf(x, a, loc=0.0, scale=1.0):
    return np.log(sp.gammainc(a, (np.asarray(x) - loc) / scale))


@implemented_by(stats.gamma.sf)
def gamma_sf(x, a, loc=0.0, scale=1.0):
    return sp.gammaincc(a, (np.asarray(x) - loc) / scale)


@implemented_by(stats.gamma.logsf)
def gamma_logsf(x, a, loc=0.0, scale=1.0):
    return np.log(sp.gammaincc(a, (np.asarray(x) - loc) / scale))


# -------------------------------------------------------------------------- beta

@implemented_by(stats.beta.logpdf)
def beta_logpdf(x, a, b, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return sp.xlogy(a - 1.0, z) + sp.xlog1py(b - 1.0, -z) - sp.betaln(a, b) - np.log(scale)


@implemented_by(stats.beta.pdf)
def beta_pdf(x, a, b, loc=0.0, scale=1.0):
    return np.exp(beta_logpdf(x, a, b, loc, scale))


@implemented_by(stats.beta.cdf)
def beta_cdf(x, a, b, loc=0.0, scale=1.0):
    return sp.betainc(a, b, (np.asarray(x) - loc) / scale)


@implemented_by(stats.beta.logcdf)
def beta_logcdf(x, a, b, loc=0.0, scale=1.0):
    return np.log(sp.betainc(a, b, (np.asarray(x) - loc) / scale))


@implemented_by(stats.beta.sf)
def beta_sf(x, a, b, loc=0.0, scale=1.0):
    return 1.0 - sp.betainc(a, b, (np.asarray(x) - loc) / scale)


@implemented_by(stats.beta.logsf)
def beta_logsf(x, a, b, loc=0.0, scale=1.0):
    return np.log1p(-sp.betainc(a, b, (np.asarray(x) - loc) / scale))


# ------------------------------------------------------------------- exponential

@implemented_by(stats.expon.logpdf)
def expon_logpdf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return np.where(z >= 0.0, -z, -np.inf) - np.log(scale)


@implemented_by(stats.expon.pdf)
def expon_pdf(x, loc=0.0, scale=1.0):
    return np.exp(expon_logpdf(x, loc, scale))


@implemented_by(stats.expon.cdf)
def expon_cdf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return np.where(z >= 0.0, -np.expm1(-z), 0.0)


@implemented_by(stats.expon.logcdf)
def expon_logcdf(x, loc=0.0, scale=1.0):
    return np.log(expon_cdf(x, loc, scale))


@implemented_by(stats.expon.sf)
def expon_sf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return np.where(z >= 0.0, np.exp(-z), 1.0)


@implemented_by(stats.expon.logsf)
def expon_logsf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return np.where(z >= 0.0, -z, 0.0)


# ----------------------------------------------------------------------- laplace

@implemented_by(stats.laplace.logpdf)
def laplace_logpdf(x, loc=0.0, scale=1.0):
    return -np.abs((np.asarray(x) - loc) / scale) - np.log(2.0 * scale)


@implemented_by(stats.laplace.pdf)
def laplace_pdf(x, loc=0.0, scale=1.0):
    return np.exp(laplace_logpdf(x, loc, scale))


@implemented_by(stats.laplace.cdf)
def laplace_cdf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return np.where(z < 0.0, 0.5 * np.exp(z), 1.0 - 0.5 * np.exp(-z))


@implemented_by(stats.laplace.logcdf)
def laplace_logcdf(x, loc=0.0, scale=1.0):
    return np.log(laplace_cdf(x, loc, scale))


@implemented_by(stats.laplace.sf)
def laplace_sf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return np.where(z > 0.0, 0.5 * np.exp(-z), 1.0 - 0.5 * np.exp(z))


# ------------------------------------------------------------------------ cauchy

@implemented_by(stats.cauchy.logpdf)
def cauchy_logpdf(x, loc=0.0, scale=1.0):
    z = (np.asarray(x) - loc) / scale
    return -_LOG_PI - np.log1p(z * z) - np.log(scale)


@implemented_by(stats.cauchy.pdf)
def cauchy_pdf(x, loc=0.0, scale=1.0):
    return np.exp(cauchy_logpdf(x, loc, scale))


@implemented_by(stats.cauchy.cdf)
def cauchy_cdf(x, loc=0.0, scale=1.0):
    return 0.5 + np.arctan((np.asarray(x) - loc) / scale) / math.pi


@implemented_by(stats.cauchy.logcdf)
def cauchy_logcdf(x, loc=0.0, scale=1.0):
    return np.log(cauchy_cdf(x, loc, scale))


@implemented_by(stats.cauchy.sf)
def cauchy_sf(x, loc=0.0, scale=1.0):
    return 0.5 - np.arctan((np.asarray(x) - loc) / scale) / math.pi


# ----------------------------------------------------- discrete: k is not differentiated

@implemented_by(stats.poisson.logpmf)
def poisson_logpmf(k, mu, loc=0):
    k = np.asarray(k) - loc
    return sp.xlogy(k, mu) - mu - sp.gammaln(k + 1.0)


@implemented_by(stats.poisson.pmf)
def poisson_pmf(k, mu, loc=0):
    return np.exp(poisson_logpmf(k, mu, loc))


@implemented_by(stats.poisson.cdf)
def poisson_cdf(k, mu, loc=0):
    return sp.gammaincc(np.floor(k - loc) + 1.0, mu)


@implemented_by(stats.poisson.sf)
def poisson_sf(k, mu, loc=0):
    return sp.gammainc(np.floor(k - loc) + 1.0, mu)


@implemented_by(stats.poisson.logcdf)
def poisson_logcdf(k, mu, loc=0):
    return np.log(sp.gammaincc(np.floor(k - loc) + 1.0, mu))


@implemented_by(stats.bernoulli.logpmf)
def bernoulli_logpmf(k, p, loc=0):
    k = np.asarray(k) - loc
    return sp.xlogy(k, p) + sp.xlog1py(1.0 - k, -p)


@implemented_by(stats.bernoulli.pmf)
def bernoulli_pmf(k, p, loc=0):
    return np.exp(bernoulli_logpmf(k, p, loc))


@implemented_by(stats.bernoulli.cdf)
def bernoulli_cdf(k, p, loc=0):
    k = np.floor(k - loc)
    return np.where(k < 0, 0.0, np.where(k >= 1, 1.0, 1.0 - p + 0.0 * k))


@implemented_by(stats.bernoulli.logcdf)
def bernoulli_logcdf(k, p, loc=0):
    return np.log(bernoulli_cdf(k, p, loc))


@implemented_by(stats.bernoulli.sf)
def bernoulli_sf(k, p, loc=0):
    return 1.0 - bernoulli_cdf(k, p, loc)


@implemented_by(stats.binom.logpmf)
def binom_logpmf(k, n, p, loc=0):
    k = np.asarray(k) - loc
    return (sp.gammaln(n + 1.0) - sp.gammaln(k + 1.0) - sp.gammaln(n - k + 1.0)
            + sp.xlogy(k, p) + sp.xlog1py(n - k, -p))


@implemented_by(stats.binom.pmf)
def binom_pmf(k, n, p, loc=0):
    return np.exp(binom_logpmf(k, n, p, loc))


def _binom_tail(k, n, p, lower):
    """P(X <= k) (lower) or P(X > k) of a binomial: the regularized incomplete beta of the
    probability, 0 or 1 outside 0 <= k < n."""
    k = np.floor(k)
    inside = (k >= 0) & (k < n)
    a = np.where(inside, n - k, 1.0)
    b = np.where(inside, k + 1.0, 1.0)
    part = sp.betainc(a, b, 1.0 - p) if lower else sp.betainc(b, a, p)
    below, above = (0.0, 1.0) if lower else (1.0, 0.0)
    return np.where(k < 0, below, np.where(k >= n, above, part))


_binom_tail.__diffc_transparent__ = True


@implemented_by(stats.binom.cdf)
def binom_cdf(k, n, p, loc=0):
    return _binom_tail(k - loc, n, p, True)


@implemented_by(stats.binom.logcdf)
def binom_logcdf(k, n, p, loc=0):
    return np.log(_binom_tail(k - loc, n, p, True))


@implemented_by(stats.binom.sf)
def binom_sf(k, n, p, loc=0):
    return _binom_tail(k - loc, n, p, False)


@implemented_by(stats.nbinom.logpmf)
def nbinom_logpmf(k, n, p, loc=0):
    k = np.asarray(k) - loc
    return (sp.gammaln(n + k) - sp.gammaln(k + 1.0) - sp.gammaln(n)
            + sp.xlogy(n, p) + sp.xlog1py(k, -p))


@implemented_by(stats.nbinom.pmf)
def nbinom_pmf(k, n, p, loc=0):
    return np.exp(nbinom_logpmf(k, n, p, loc))


# ------------------------------------------------------------------- multivariate

@implemented_by(stats.multivariate_normal.logpdf)
def multivariate_normal_logpdf(x, mean=None, cov=1, allow_singular=False):
    """log N(x; mean, cov) for x of shape (d,) or (n, d); cov a (d, d) matrix, a vector
    (its diagonal) or a number (times the identity)."""
    d = x if mean is None else x - mean
    dim = np.shape(x)[-1]
    if np.ndim(cov) == 2:
        chol = np.linalg.cholesky(cov)
        z = np.linalg.solve(chol, d.T)
        logdet = 2.0 * np.sum(np.log(np.diagonal(chol)))
        maha = np.sum(z * z, axis=0)
    elif np.ndim(cov) == 1:
        logdet = np.sum(np.log(cov))
        maha = np.sum(d * d / cov, axis=-1)
    else:
        logdet = dim * np.log(cov)
        maha = np.sum(d * d, axis=-1) / cov
    return -0.5 * (dim * _LOG_2PI + logdet + maha)


@implemented_by(stats.multivariate_normal.pdf)
def multivariate_normal_pdf(x, mean=None, cov=1, allow_singular=False):
    return np.exp(multivariate_normal_logpdf(x, mean, cov, allow_singular))


@implemented_by(stats.dirichlet.logpdf)
def dirichlet_logpdf(x, alpha):
    """x of shape (K,) or (K, n) (SciPy's layout: one column per point)."""
    if np.ndim(x) == 1:
        terms = np.sum(sp.xlogy(alpha - 1.0, x))
    else:
        terms = np.sum(sp.xlogy(alpha[:, None] - 1.0, x), axis=0)
    return terms + sp.gammaln(np.sum(alpha)) - np.sum(sp.gammaln(alpha))


@implemented_by(stats.dirichlet.pdf)
def dirichlet_pdf(x, alpha):
    return np.exp(dirichlet_logpdf(x, alpha))


# ------------------------------------------------------------------------ frozen

def frozen_call(obj, method):
    """(implementation, constant positional args, constant keywords) for a method of a frozen
    distribution, or None: ``norm(1.0, 2.0).logpdf(x)`` is ``norm_logpdf(x, 1.0, 2.0)``."""
    if isinstance(obj, stats._multivariate.multivariate_normal_frozen):
        impl = {"logpdf": multivariate_normal_logpdf, "pdf": multivariate_normal_pdf}.get(method)
        return None if impl is None else (impl, (obj.mean, obj.cov), {})
    dist = getattr(obj, "dist", None)
    if dist is None or not isinstance(getattr(obj, "args", None), tuple):
        return None
    from . import implementation
    named = getattr(stats, getattr(dist, "name", ""), None)
    try:
        impl = implementation(getattr(named, method))
    except (AttributeError, TypeError):
        return None
    return None if impl is None else (impl, obj.args, dict(obj.kwds))


from . import OBJECT_CALLS  # noqa: E402
OBJECT_CALLS.append(frozen_call)


def constructed_method(obj, method):
    """For a distribution object (``norm``, ``stats.t``, ``multivariate_normal``...): with
    method None, a truthy marker when obj is one; else the implementation of ``obj.method``
    (``norm(mu, s).logpdf(x)`` is ``norm_logpdf(x, mu, s)``)."""
    if not isinstance(obj, (stats.rv_continuous, stats.rv_discrete, stats._multivariate.multi_rv_generic)):
        return None
    if method is None:
        return True
    from . import implementation
    try:
        return implementation(getattr(obj, method))
    except (AttributeError, TypeError):
        return None


from . import CONSTRUCTED_METHODS  # noqa: E402
CONSTRUCTED_METHODS.append(constructed_method)




# Calling a distribution freezes it: inside differentiated code ``stats.t(df, loc, scale)``
# makes a `t_frozen` object, a plain class diffc reads like the user's, holding the
# parameters as attributes; each method calls the distribution's own (``stats.t.cdf(x,
# self.df, self.loc, self.scale)``), so the parameters get their derivatives wherever the
# object goes (into helpers and lists, through loops, reassigned).  Another method or
# attribute is the frozen SciPy object's (its value; refused when differentiated).
# transform/frozen.py first rewrites the simplest uses (``d = norm(mu, s)`` then only
# ``d.logpdf(x)``) into the unfrozen call.

_FROZEN_PARAMETERS = {
    "norm": "loc=0.0, scale=1.0", "t": "df, loc=0.0, scale=1.0", "gamma": "a, loc=0.0, scale=1.0",
    "beta": "a, b, loc=0.0, scale=1.0", "expon": "loc=0.0, scale=1.0", "laplace": "loc=0.0, scale=1.0",
    "cauchy": "loc=0.0, scale=1.0", "poisson": "mu, loc=0", "bernoulli": "p, loc=0", "binom": "n, p, loc=0",
    "nbinom": "n, p, loc=0", "multivariate_normal": "mean=None, cov=1, allow_singular=False",
    "dirichlet": "alpha",
    # scipy_stats_more.py's
    "logistic": "loc=0.0, scale=1.0", "halfnorm": "loc=0.0, scale=1.0", "halfcauchy": "loc=0.0, scale=1.0",
    "invgamma": "a, loc=0.0, scale=1.0", "chi2": "df, loc=0.0, scale=1.0", "weibull_min": "c, loc=0.0, scale=1.0"}
_FROZEN_METHODS = ("logpdf", "pdf", "logpmf", "pmf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf")


def _frozen_text(name, signature):
    """Source of the class `{name}_frozen` and of the function `freeze_{name}` making one."""
    from . import implementation
    params = [p.split("=")[0].strip() for p in signature.split(",")]
    fields = ", ".join(f"self.{p}" for p in params)
    lines = [f"class {name}_frozen:",
             f"    \"\"\"stats.{name} frozen with its parameters (read by diffc like user code).\"\"\"",
             "",
             "    __diffc_transparent__ = True",
             "",
             f"    def __init__(self, {signature}):"]
    lines += [f"        self.{p} = {p}" for p in params]
    for method in _FROZEN_METHODS:
        if implementation(getattr(getattr(stats, name), method, None)) is not None:
            lines += ["", f"    def {method}(self, x):", f"        return stats.{name}.{method}(x, {fields})"]
    lines += ["", "    def __getattr__(self, attribute):",
              "        if attribute.startswith('__'):",
              "            raise AttributeError(attribute)",
              f"        return getattr(stats.{name}({fields}), attribute)",
              "", "", f"def freeze_{name}({signature}):",
              f"    return {name}_frozen({', '.join(params)})", ""]
    return "\n".join(lines)


def _define_frozen():
    import linecache
    for name, signature in _FROZEN_PARAMETERS.items():
        text = _frozen_text(name, signature)
        filename = f"<diffc:scipy_stats:{name}_frozen>"
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
        namespace = {"stats": stats, "__name__": __name__}
        exec(compile(text, filename, "exec"), namespace)
        cls = namespace[f"{name}_frozen"]
        for method in vars(cls).values():
            if callable(method) and getattr(method, "__name__", "") != "__getattr__":
                method.__diffc_transparent__ = True
        implemented_by(getattr(stats, name))(namespace[f"freeze_{name}"])
        globals()[f"{name}_frozen"] = cls


_define_frozen()
