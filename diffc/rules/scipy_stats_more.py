"""More scipy.stats distributions, written out in NumPy and scipy.special for diffc to read:
``logistic``, ``halfnorm``, ``halfcauchy``, ``invgamma``, ``chi2`` and ``weibull_min``
(logpdf, pdf, cdf, sf; logcdf and logsf where NumPy writes them stably), and
``norm.isf``.  These are the priors and likelihoods of Bayesian example code (half-normal
and half-Cauchy scales, inverse-gamma variances, Weibull lifetimes).

Input: nothing (imported by rules/scipy_rules.py, only when SciPy imports).  Output: each
function registered with `implemented_by` for its SciPy method, as in scipy_stats.py:
diffc differentiates the body like user code, in x, the shape parameters, loc and scale,
in both modes and at every order (the cdfs of invgamma and chi2 in their shape parameter
through gammaincc/gammainc's rules: first order).  Values equal SciPy's, also outside
the support (-inf logpdf, 0 or 1 cdf), where the derivative is 0 (tests/test_libs_s10b.py
compares both).
"""

import numpy as np
from scipy import special as sp
from scipy import stats

from . import implemented_by

_LOG_SQRT_2_OVER_PI = 0.5 * np.log(2.0 / np.pi)


def _standard(x, loc, scale):
    return (np.asarray(x) - loc) / scale


def _inside(z):
    """z where z > 0, 1.0 elsewhere: logs and powers of it stay finite (their branch is
    not taken there, and its derivative must not be NaN times 0)."""
    return np.where(z > 0.0, z, 1.0)


# ---------------------------------------------------------------------- logistic

@implemented_by(stats.logistic.logpdf)
def logistic_logpdf(x, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return -z - 2.0 * np.logaddexp(0.0, -z) - np.log(scale)


@implemented_by(stats.logistic.pdf)
def logistic_pdf(x, loc=0.0, scale=1.0):
    return np.exp(logistic_logpdf(x, loc, scale))


@implemented_by(stats.logistic.cdf)
def logistic_cdf(x, loc=0.0, scale=1.0):
    return sp.expit(_standard(x, loc, scale))


@implemented_by(stats.logistic.logcdf)
def logistic_logcdf(x, loc=0.0, scale=1.0):
    return -np.logaddexp(0.0, -_standard(x, loc, scale))


@implemented_by(stats.logistic.sf)
def logistic_sf(x, loc=0.0, scale=1.0):
    return sp.expit(-_standard(x, loc, scale))


@implemented_by(stats.logistic.logsf)
def logistic_logsf(x, loc=0.0, scale=1.0):
    return -np.logaddexp(0.0, _standard(x, loc, scale))


# --------------------------------------------------------- half-normal, half-Cauchy

@implemented_by(stats.halfnorm.logpdf)
def halfnorm_logpdf(x, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z >= 0.0, _LOG_SQRT_2_OVER_PI - 0.5 * z * z, -np.inf) - np.log(scale)


@implemented_by(stats.halfnorm.pdf)
def halfnorm_pdf(x, loc=0.0, scale=1.0):
    return np.exp(halfnorm_logpdf(x, loc, scale))


@implemented_by(stats.halfnorm.cdf)
def halfnorm_cdf(x, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z >= 0.0, sp.erf(z / np.sqrt(2.0)), 0.0)


@implemented_by(stats.halfnorm.sf)
def halfnorm_sf(x, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z >= 0.0, sp.erfc(z / np.sqrt(2.0)), 1.0)


@implemented_by(stats.halfcauchy.logpdf)
def halfcauchy_logpdf(x, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z >= 0.0, np.log(2.0 / np.pi) - np.log1p(z * z), -np.inf) - np.log(scale)


@implemented_by(stats.halfcauchy.pdf)
def halfcauchy_pdf(x, loc=0.0, scale=1.0):
    return np.exp(halfcauchy_logpdf(x, loc, scale))


@implemented_by(stats.halfcauchy.cdf)
def halfcauchy_cdf(x, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z >= 0.0, 2.0 / np.pi * np.arctan(z), 0.0)


@implemented_by(stats.halfcauchy.sf)
def halfcauchy_sf(x, loc=0.0, scale=1.0):
    return 1.0 - halfcauchy_cdf(x, loc, scale)


# ------------------------------------------------------------ inverse gamma, chi2

@implemented_by(stats.invgamma.logpdf)
def invgamma_logpdf(x, a, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    inside = _inside(z)
    value = -(a + 1.0) * np.log(inside) - 1.0 / inside - sp.gammaln(a)
    return np.where(z > 0.0, value, -np.inf) - np.log(scale)


@implemented_by(stats.invgamma.pdf)
def invgamma_pdf(x, a, loc=0.0, scale=1.0):
    return np.exp(invgamma_logpdf(x, a, loc, scale))


@implemented_by(stats.invgamma.cdf)
def invgamma_cdf(x, a, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z > 0.0, sp.gammaincc(a, 1.0 / _inside(z)), 0.0)


@implemented_by(stats.invgamma.sf)
def invgamma_sf(x, a, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z > 0.0, sp.gammainc(a, 1.0 / _inside(z)), 1.0)


@implemented_by(stats.chi2.logpdf)
def chi2_logpdf(x, df, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    k = 0.5 * df
    value = sp.xlogy(k - 1.0, _inside(z)) - 0.5 * z - k * np.log(2.0) - sp.gammaln(k)
    return np.where(z > 0.0, value, -np.inf) - np.log(scale)


@implemented_by(stats.chi2.pdf)
def chi2_pdf(x, df, loc=0.0, scale=1.0):
    return np.exp(chi2_logpdf(x, df, loc, scale))


@implemented_by(stats.chi2.cdf)
def chi2_cdf(x, df, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z > 0.0, sp.gammainc(0.5 * df, 0.5 * _inside(z)), 0.0)


@implemented_by(stats.chi2.sf)
def chi2_sf(x, df, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z > 0.0, sp.gammaincc(0.5 * df, 0.5 * _inside(z)), 1.0)


# -------------------------------------------------------------------- Weibull

@implemented_by(stats.weibull_min.logpdf)
def weibull_min_logpdf(x, c, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    inside = _inside(z)
    value = np.log(c) + (c - 1.0) * np.log(inside) - inside ** c
    return np.where(z > 0.0, value, -np.inf) - np.log(scale)


@implemented_by(stats.weibull_min.pdf)
def weibull_min_pdf(x, c, loc=0.0, scale=1.0):
    return np.exp(weibull_min_logpdf(x, c, loc, scale))


@implemented_by(stats.weibull_min.cdf)
def weibull_min_cdf(x, c, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z > 0.0, -np.expm1(-_inside(z) ** c), 0.0)


@implemented_by(stats.weibull_min.sf)
def weibull_min_sf(x, c, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z > 0.0, np.exp(-_inside(z) ** c), 1.0)


@implemented_by(stats.weibull_min.logsf)
def weibull_min_logsf(x, c, loc=0.0, scale=1.0):
    z = _standard(x, loc, scale)
    return np.where(z > 0.0, -_inside(z) ** c, 0.0)


# ------------------------------------------------------------------------ normal

@implemented_by(stats.norm.isf)
def norm_isf(q, loc=0.0, scale=1.0):
    return loc - scale * sp.ndtri(q)


# read like user code, as the implementations calling them
_standard.__diffc_transparent__ = True
_inside.__diffc_transparent__ = True
