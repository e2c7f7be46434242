"""Derivative rules for scipy.special (loaded only when SciPy is importable).

Elementwise functions get inlined templates (see `diffc.template`) whose
derivatives are again scipy.special or numpy functions with rules, so second
and higher derivatives come for free (gammaln -> digamma -> polygamma(1) ->
polygamma(2) ...).  `logsumexp` takes optional arguments that change what it
computes (``b=None``, ``return_sign``), so its rules are ordinary Python with
branches, called at run time; they are marked transparent
(``__diffc_transparent__``) so diffc differentiates their bodies for second
derivatives.

Conventions at the edges of the domain: ``xlogy(0, y)`` has derivative 0 in y
(and log(y) in x); ``entr``/``rel_entr``/``kl_div`` use the derivative of their
formula where it is finite.  Integer orders (``polygamma``'s n, ``iv``'s v) are
not differentiated.
"""

import math

import numpy as np
from scipy import special as sp

from . import adjoint, nondiff, tangent
from ..errors import NotDifferentiable
from ..runtime import ListBar, unbroadcast

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_2 = math.sqrt(math.pi) / 2.0
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def no_derivative(function, parameter):
    """Raised by the contribution of a parameter a rule does not differentiate, when that
    parameter is a differentiated value (a contribution of None would be a silent zero)."""
    raise NotDifferentiable(f"diffc: {function} is not differentiated with respect to its argument "
                            f"{parameter!r} (an integer order, or a second derivative in a shape parameter of the "
                            "t, gamma and beta cdfs, whose first derivative is computed by quadrature); keep "
                            "it free of differentiated values")


def no_derivative_dot(function, parameter, tangent):
    """The contribution of such a parameter's tangent: none for a zero tangent (a constant
    passed where diffc could not tell, as through ``*args``), else refused."""
    if tangent is None or np.all(np.asarray(tangent) == 0):
        return 0.0
    return no_derivative(function, parameter)


# --------------------------------------------------------------- one-argument functions

@adjoint(sp.expit)
def _(result, result_bar, x):
    return result_bar * result * (1.0 - result)


@tangent(sp.expit)
def _(result, x, x_dot):
    return x_dot * result * (1.0 - result)


@adjoint(sp.logit)
def _(result, result_bar, x):
    return result_bar / (x * (1.0 - x))


@tangent(sp.logit)
def _(result, x, x_dot):
    return x_dot / (x * (1.0 - x))


@adjoint(sp.log_expit)
def _(result, result_bar, x):
    return result_bar * sp.expit(-x)


@tangent(sp.log_expit)
def _(result, x, x_dot):
    return x_dot * sp.expit(-x)


@adjoint(sp.gammaln, math.lgamma)
def _(result, result_bar, x):
    return result_bar * sp.digamma(x)


@tangent(sp.gammaln, math.lgamma)
def _(result, x, x_dot):
    return x_dot * sp.digamma(x)


@adjoint(sp.loggamma)
def _(result, result_bar, x):
    return result_bar * sp.digamma(x)


@tangent(sp.loggamma)
def _(result, x, x_dot):
    return x_dot * sp.digamma(x)


@adjoint(sp.digamma, sp.psi)
def _(result, result_bar, x):
    return result_bar * sp.polygamma(1, x)


@tangent(sp.digamma, sp.psi)
def _(result, x, x_dot):
    return x_dot * sp.polygamma(1, x)


@adjoint(sp.polygamma)
def _(result, result_bar, n, x):
    return no_derivative("polygamma", "n"), result_bar * sp.polygamma(n + 1, x)


@tangent(sp.polygamma)
def _(result, n, x, n_dot, x_dot):
    return no_derivative_dot("polygamma", "n", n_dot) + x_dot * sp.polygamma(n + 1, x)


@adjoint(sp.gamma, math.gamma)
def _(result, result_bar, x):
    return result_bar * result * sp.digamma(x)


@tangent(sp.gamma, math.gamma)
def _(result, x, x_dot):
    return x_dot * result * sp.digamma(x)


@adjoint(sp.rgamma)
def _(result, result_bar, x):
    return -result_bar * result * sp.digamma(x)


@tangent(sp.rgamma)
def _(result, x, x_dot):
    return -x_dot * result * sp.digamma(x)


@adjoint(sp.erf)
def _(result, result_bar, x):
    return result_bar * _TWO_OVER_SQRT_PI * np.exp(-x * x)


@tangent(sp.erf)
def _(result, x, x_dot):
    return x_dot * _TWO_OVER_SQRT_PI * np.exp(-x * x)


@adjoint(sp.erfc)
def _(result, result_bar, x):
    return -result_bar * _TWO_OVER_SQRT_PI * np.exp(-x * x)


@tangent(sp.erfc)
def _(result, x, x_dot):
    return -x_dot * _TWO_OVER_SQRT_PI * np.exp(-x * x)


@adjoint(sp.erfcx)
def _(result, result_bar, x):
    return result_bar * (2.0 * x * result - _TWO_OVER_SQRT_PI)


@tangent(sp.erfcx)
def _(result, x, x_dot):
    return x_dot * (2.0 * x * result - _TWO_OVER_SQRT_PI)


@adjoint(sp.erfinv)
def _(result, result_bar, x):
    return result_bar * _SQRT_PI_OVER_2 * np.exp(result * result)


@tangent(sp.erfinv)
def _(result, x, x_dot):
    return x_dot * _SQRT_PI_OVER_2 * np.exp(result * result)


@adjoint(sp.erfcinv)
def _(result, result_bar, x):
    return -result_bar * _SQRT_PI_OVER_2 * np.exp(result * result)


@tangent(sp.erfcinv)
def _(result, x, x_dot):
    return -x_dot * _SQRT_PI_OVER_2 * np.exp(result * result)


@adjoint(sp.ndtr)
def _(result, result_bar, x):
    return result_bar * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


@tangent(sp.ndtr)
def _(result, x, x_dot):
    return x_dot * _INV_SQRT_2PI * np.exp(-0.5 * x * x)


# d log Phi(x) = phi(x) / Phi(x), computed as exp(log phi - log Phi): finite far in the tail
@adjoint(sp.log_ndtr)
def _(result, result_bar, x):
    return result_bar * _INV_SQRT_2PI * np.exp(-0.5 * x * x - result)


@tangent(sp.log_ndtr)
def _(result, x, x_dot):
    return x_dot * _INV_SQRT_2PI * np.exp(-0.5 * x * x - result)


@adjoint(sp.ndtri)
def _(result, result_bar, x):
    return result_bar * _SQRT_2PI * np.exp(0.5 * result * result)


@tangent(sp.ndtri)
def _(result, x, x_dot):
    return x_dot * _SQRT_2PI * np.exp(0.5 * result * result)


@adjoint(sp.i0)
def _(result, result_bar, x):
    return result_bar * sp.i1(x)


@tangent(sp.i0)
def _(result, x, x_dot):
    return x_dot * sp.i1(x)


# I1' = (I0 + I2) / 2, finite at 0 (where I1(x)/x is not)
@adjoint(sp.i1)
def _(result, result_bar, x):
    return result_bar * 0.5 * (sp.i0(x) + sp.iv(2, x))


@tangent(sp.i1)
def _(result, x, x_dot):
    return x_dot * 0.5 * (sp.i0(x) + sp.iv(2, x))


@adjoint(sp.i0e)
def _(result, result_bar, x):
    return result_bar * (sp.i1e(x) - np.sign(x) * result)


@tangent(sp.i0e)
def _(result, x, x_dot):
    return x_dot * (sp.i1e(x) - np.sign(x) * result)


@adjoint(sp.i1e)
def _(result, result_bar, x):
    return result_bar * (0.5 * (sp.i0e(x) + sp.ive(2, x)) - np.sign(x) * result)


@tangent(sp.i1e)
def _(result, x, x_dot):
    return x_dot * (0.5 * (sp.i0e(x) + sp.ive(2, x)) - np.sign(x) * result)


# I_v' = (I_{v-1} + I_{v+1}) / 2; the order v is not differentiated
@adjoint(sp.iv)
def _(result, result_bar, v, z):
    return no_derivative("iv", "v"), result_bar * 0.5 * (sp.iv(v - 1, z) + sp.iv(v + 1, z))


@tangent(sp.iv)
def _(result, v, z, v_dot, z_dot):
    return no_derivative_dot("iv", "v", v_dot) + z_dot * 0.5 * (sp.iv(v - 1, z) + sp.iv(v + 1, z))


@adjoint(sp.ive)
def _(result, result_bar, v, z):
    return no_derivative("ive", "v"), result_bar * (0.5 * (sp.ive(v - 1, z) + sp.ive(v + 1, z))
                                                    - np.sign(z) * result)


@tangent(sp.ive)
def _(result, v, z, v_dot, z_dot):
    return no_derivative_dot("ive", "v", v_dot) + z_dot * (0.5 * (sp.ive(v - 1, z) + sp.ive(v + 1, z))
                                                        - np.sign(z) * result)


@adjoint(sp.entr)
def _(result, result_bar, x):
    return -result_bar * (np.log(x) + 1.0)


@tangent(sp.entr)
def _(result, x, x_dot):
    return -x_dot * (np.log(x) + 1.0)


# ------------------------------------------------------------- two-argument functions

@adjoint(sp.beta)
def _(result, result_bar, a, b):
    return (unbroadcast(result_bar * result * (sp.digamma(a) - sp.digamma(a + b)), a),
            unbroadcast(result_bar * result * (sp.digamma(b) - sp.digamma(a + b)), b))


@tangent(sp.beta)
def _(result, a, b, a_dot, b_dot):
    return a_dot * result * (sp.digamma(a) - sp.digamma(a + b)) \
        + b_dot * result * (sp.digamma(b) - sp.digamma(a + b))


@adjoint(sp.betaln)
def _(result, result_bar, a, b):
    return (unbroadcast(result_bar * (sp.digamma(a) - sp.digamma(a + b)), a),
            unbroadcast(result_bar * (sp.digamma(b) - sp.digamma(a + b)), b))


@tangent(sp.betaln)
def _(result, a, b, a_dot, b_dot):
    return a_dot * (sp.digamma(a) - sp.digamma(a + b)) + b_dot * (sp.digamma(b) - sp.digamma(a + b))


@adjoint(sp.xlogy)
def _(result, result_bar, x, y):
    return (unbroadcast(result_bar * np.log(y), x),
            unbroadcast(result_bar * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y)), y))


@tangent(sp.xlogy)
def _(result, x, y, x_dot, y_dot):
    return x_dot * np.log(y) + y_dot * np.where(x == 0, 0.0, x / np.where(x == 0, 1.0, y))


@adjoint(sp.xlog1py)
def _(result, result_bar, x, y):
    return (unbroadcast(result_bar * np.log1p(y), x),
            unbroadcast(result_bar * x / (1.0 + y), y))


@tangent(sp.xlog1py)
def _(result, x, y, x_dot, y_dot):
    return x_dot * np.log1p(y) + y_dot * x / (1.0 + y)


@adjoint(sp.rel_entr)
def _(result, result_bar, x, y):
    return (unbroadcast(result_bar * (np.log(x / y) + 1.0), x),
            unbroadcast(-result_bar * x / y, y))


@tangent(sp.rel_entr)
def _(result, x, y, x_dot, y_dot):
    return x_dot * (np.log(x / y) + 1.0) - y_dot * x / y


@adjoint(sp.kl_div)
def _(result, result_bar, x, y):
    return (unbroadcast(result_bar * np.log(x / y), x),
            unbroadcast(result_bar * (1.0 - x / y), y))


@tangent(sp.kl_div)
def _(result, x, y, x_dot, y_dot):
    return x_dot * np.log(x / y) + y_dot * (1.0 - x / y)


# regularized incomplete gamma/beta functions and the t cdf.  In x: closed forms (the
# densities).  In the shape parameters (a, b, df): no closed form; the derivative is the
# integral of the density's parameter derivative, computed by adaptive quadrature
# (shape_derivatives.py-style helpers below: QUADPACK with the algebraic-logarithmic weight
# at an endpoint singularity, the complementary tail where it is the shorter integral),
# refused with NotDifferentiable when QUADPACK's error estimate exceeds 1e-9 (relative).
# Their own derivatives in x are closed forms; a second derivative in a shape parameter is
# refused (no_derivative).
@adjoint(sp.gammainc)
def _(result, result_bar, a, x):
    return unbroadcast(result_bar * gammainc_da(a, x), a), \
        unbroadcast(result_bar * np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a)), x)


@tangent(sp.gammainc)
def _(result, a, x, a_dot, x_dot):
    return a_dot * gammainc_da(a, x) + x_dot * np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a))


@adjoint(sp.gammaincc)
def _(result, result_bar, a, x):
    return unbroadcast(-result_bar * gammainc_da(a, x), a), \
        unbroadcast(-result_bar * np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a)), x)


@tangent(sp.gammaincc)
def _(result, a, x, a_dot, x_dot):
    return -a_dot * gammainc_da(a, x) - x_dot * np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a))


@adjoint(sp.betainc)
def _(result, result_bar, a, b, x):
    return (unbroadcast(result_bar * betainc_da(a, b, x), a), unbroadcast(result_bar * betainc_db(a, b, x), b),
            unbroadcast(result_bar * np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x)
                                            - sp.betaln(a, b)), x))


@tangent(sp.betainc)
def _(result, a, b, x, a_dot, b_dot, x_dot):
    return a_dot * betainc_da(a, b, x) + b_dot * betainc_db(a, b, x) + x_dot * np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - sp.betaln(a, b))


@adjoint(sp.stdtr)
def _(result, result_bar, df, t):
    return unbroadcast(result_bar * stdtr_ddf(df, t), df), \
        unbroadcast(result_bar * np.exp(sp.gammaln(0.5 * (df + 1.0)) - sp.gammaln(0.5 * df)
                                        - 0.5 * np.log(df * np.pi) - 0.5 * (df + 1.0) * np.log1p(t * t / df)), t)


@tangent(sp.stdtr)
def _(result, df, t, df_dot, t_dot):
    return df_dot * stdtr_ddf(df, t) + t_dot * np.exp(sp.gammaln(0.5 * (df + 1.0)) - sp.gammaln(0.5 * df) - 0.5 * np.log(df * np.pi)
                          - 0.5 * (df + 1.0) * np.log1p(t * t / df))


_QUAD = dict(epsabs=1e-14, epsrel=1e-11, limit=200)


def _checked(value, error, function, parameter):
    if not np.isfinite(value) or error > 1e-9 * max(1.0, abs(value)):
        raise NotDifferentiable(f"diffc: the derivative of {function} in its argument {parameter!r} (by "
                                f"quadrature) did not reach its accuracy here (estimate {error:.1e})")
    return value


def _gammainc_da_one(a, x):
    from scipy.integrate import quad
    if x <= 0.0:
        return 0.0
    psi = sp.digamma(a)

    def integrand(s):
        return (np.log(s) - psi) * np.exp((a - 1.0) * np.log(s) - s - sp.gammaln(a))
    if x > a:                  # the upper tail: -d/da Q(a, x)
        value, error = quad(integrand, x, np.inf, **_QUAD)
        return -_checked(value, error, "gammainc", "a")
    if a >= 1.0:
        value, error = quad(integrand, 0.0, x, **_QUAD)
        return _checked(value, error, "gammainc", "a")
    value, error = quad(lambda s: np.exp(-s - sp.gammaln(a)), 0.0, x, weight="alg-loga", wvar=(a - 1.0, 0.0), **_QUAD)
    return _checked(value, error, "gammainc", "a") - psi * sp.gammainc(a, x)


def _beta_log_moment(p, q, y, log_of_s):
    """int_0^y L(s) s^(p-1) (1-s)^(q-1) ds / B(p, q) with L = log s (log_of_s) or log(1 - s)."""
    from scipy.integrate import quad
    if y <= 0.0:
        return 0.0
    if log_of_s:
        value, error = quad(lambda s: (1.0 - s) ** (q - 1.0), 0.0, y, weight="alg-loga", wvar=(p - 1.0, 0.0), **_QUAD)
    else:
        value, error = quad(lambda s: np.log1p(-s) * (1.0 - s) ** (q - 1.0), 0.0, y, weight="alg",
                            wvar=(p - 1.0, 0.0), **_QUAD)
    return _checked(value, error, "betainc", "a/b") * np.exp(-sp.betaln(p, q))


def _betainc_dshape_one(a, b, x, first):
    """d/da (first) or d/db of betainc(a, b, x); by I_x(a, b) = 1 - I_(1-x)(b, a) past x = 1/2."""
    if x <= 0.0 or x >= 1.0:
        return 0.0
    shift = sp.digamma(a if first else b) - sp.digamma(a + b)
    if x <= 0.5:
        return _beta_log_moment(a, b, x, first) - shift * sp.betainc(a, b, x)
    return -(_beta_log_moment(b, a, 1.0 - x, not first) - shift * sp.betainc(b, a, 1.0 - x))


def _stdtr_ddf_one(df, t):
    """stdtr(df, t) = 1 - I_z(df/2, 1/2) / 2 for t > 0, z = df / (df + t^2)."""
    if t == 0.0:
        return 0.0
    u = abs(t)
    z = df / (df + u * u)
    a = 0.5 * df
    inner = 0.5 * _betainc_dshape_one(a, 0.5, z, True) \
        + np.exp((a - 1.0) * np.log(z) - sp.betaln(a, 0.5)) * u * (df + u * u) ** -1.5
    return -0.5 * inner if t > 0 else 0.5 * inner


def _elementwise(one, *args):
    out = np.vectorize(one, otypes=[float])(*args)
    return float(out) if np.ndim(out) == 0 else out


def gammainc_da(a, x):
    """d/da of scipy.special.gammainc(a, x), elementwise (quadrature)."""
    return _elementwise(_gammainc_da_one, a, x)


def betainc_da(a, b, x):
    """d/da of scipy.special.betainc(a, b, x), elementwise (quadrature)."""
    return _elementwise(lambda p, q, y: _betainc_dshape_one(p, q, y, True), a, b, x)


def betainc_db(a, b, x):
    """d/db of scipy.special.betainc(a, b, x), elementwise (quadrature)."""
    return _elementwise(lambda p, q, y: _betainc_dshape_one(p, q, y, False), a, b, x)


def stdtr_ddf(df, t):
    """d/d(df) of scipy.special.stdtr(df, t), elementwise (quadrature)."""
    return _elementwise(_stdtr_ddf_one, df, t)


# Their derivatives in x (closed forms: the density's derivative in the shape parameter);
# in a shape parameter again: refused.
def _gamma_density(a, x):
    return np.exp((a - 1.0) * np.log(x) - x - sp.gammaln(a))


def _beta_density(a, b, x):
    return np.exp((a - 1.0) * np.log(x) + (b - 1.0) * np.log1p(-x) - sp.betaln(a, b))


def _t_density_ddf(df, t):
    """d/d(df) of the t density at t."""
    log_density = sp.gammaln(0.5 * (df + 1.0)) - sp.gammaln(0.5 * df) - 0.5 * np.log(df * np.pi) \
        - 0.5 * (df + 1.0) * np.log1p(t * t / df)
    slope = 0.5 * sp.digamma(0.5 * (df + 1.0)) - 0.5 * sp.digamma(0.5 * df) - 0.5 / df \
        - 0.5 * np.log1p(t * t / df) + 0.5 * (df + 1.0) * t * t / (df * (df + t * t))
    return np.exp(log_density) * slope


@adjoint(gammainc_da)
def _(result, result_bar, a, x):
    return no_derivative("gammainc", "a (second derivative)"), \
        unbroadcast(result_bar * _gamma_density(a, x) * (np.log(x) - sp.digamma(a)), x)


@tangent(gammainc_da)
def _(result, a, x, a_dot, x_dot):
    return no_derivative_dot("gammainc", "a (second derivative)", a_dot) \
        + x_dot * _gamma_density(a, x) * (np.log(x) - sp.digamma(a))


@adjoint(betainc_da)
def _(result, result_bar, a, b, x):
    return no_derivative("betainc", "a (second derivative)"), no_derivative("betainc", "b (second derivative)"), \
        unbroadcast(result_bar * _beta_density(a, b, x) * (np.log(x) - sp.digamma(a) + sp.digamma(a + b)), x)


@tangent(betainc_da)
def _(result, a, b, x, a_dot, b_dot, x_dot):
    return no_derivative_dot("betainc", "a (second derivative)", a_dot) \
        + no_derivative_dot("betainc", "b (second derivative)", b_dot) \
        + x_dot * _beta_density(a, b, x) * (np.log(x) - sp.digamma(a) + sp.digamma(a + b))


@adjoint(betainc_db)
def _(result, result_bar, a, b, x):
    return no_derivative("betainc", "a (second derivative)"), no_derivative("betainc", "b (second derivative)"), \
        unbroadcast(result_bar * _beta_density(a, b, x) * (np.log1p(-x) - sp.digamma(b) + sp.digamma(a + b)), x)


@tangent(betainc_db)
def _(result, a, b, x, a_dot, b_dot, x_dot):
    return no_derivative_dot("betainc", "a (second derivative)", a_dot) \
        + no_derivative_dot("betainc", "b (second derivative)", b_dot) \
        + x_dot * _beta_density(a, b, x) * (np.log1p(-x) - sp.digamma(b) + sp.digamma(a + b))


@adjoint(stdtr_ddf)
def _(result, result_bar, df, t):
    return no_derivative("stdtr", "df (second derivative)"), unbroadcast(result_bar * _t_density_ddf(df, t), t)


@tangent(stdtr_ddf)
def _(result, df, t, df_dot, t_dot):
    return no_derivative_dot("stdtr", "df (second derivative)", df_dot) + t_dot * _t_density_ddf(df, t)


for _helper in (_gamma_density, _beta_density, _t_density_ddf):
    _helper.__diffc_transparent__ = True


# ------------------------------------------------------ softmax, log_softmax, logsumexp

@adjoint(sp.softmax)
def _(result, result_bar, x, axis=None):
    return result * (result_bar - np.sum(result_bar * result, axis=axis, keepdims=True))


@tangent(sp.softmax)
def _(result, x, axis=None, x_dot=None):
    return result * (x_dot - np.sum(x_dot * result, axis=axis, keepdims=True))


@adjoint(sp.log_softmax)
def _(result, result_bar, x, axis=None):
    return result_bar - np.exp(result) * np.sum(result_bar, axis=axis, keepdims=True)


@tangent(sp.log_softmax)
def _(result, x, axis=None, x_dot=None):
    return x_dot - np.sum(np.exp(result) * x_dot, axis=axis, keepdims=True)


def _reduced_axes_back(r, axis, keepdims):
    """A reduction's result with the reduced axes back as size 1 (it then broadcasts)."""
    if keepdims or axis is None:
        return r
    return np.expand_dims(r, axis)


def _logsumexp_bar(result, result_bar, a, axis=None, b=None, keepdims=False, return_sign=False):
    """Adjoint of logsumexp: g * sign * b * exp(a - r) for a, g * sign * exp(a - r) for b."""
    if return_sign:
        sign = result[1]
        value = result[0]
        g = result_bar[0] if isinstance(result_bar, (list, tuple)) else result_bar
    else:
        sign = 1.0
        value = result
        g = result_bar
    r = _reduced_axes_back(value, axis, keepdims)
    gs = _reduced_axes_back(g * sign, axis, keepdims)
    weight = np.exp(a - r)
    if b is None:
        return gs * weight
    return unbroadcast(gs * b * weight, a), None, unbroadcast(gs * weight, b)


def _logsumexp_dot(result, a, axis=None, b=None, keepdims=False, return_sign=False, a_dot=0.0, b_dot=0.0):
    """Tangent of logsumexp: sign * sum(exp(a - r) * (b a_dot + b_dot))."""
    if return_sign:
        sign = result[1]
        value = result[0]
    else:
        sign = 1.0
        value = result
    weight = np.exp(a - _reduced_axes_back(value, axis, keepdims))
    if b is None:
        t = np.sum(weight * a_dot, axis=axis, keepdims=keepdims)
    else:
        t = np.sum(weight * (b * a_dot + b_dot), axis=axis, keepdims=keepdims)
    if return_sign:
        return ListBar([sign * t, 0.0])
    return t


_logsumexp_bar.__diffc_transparent__ = True
_reduced_axes_back.__diffc_transparent__ = True
_logsumexp_dot.__diffc_transparent__ = True
adjoint(sp.logsumexp)(_logsumexp_bar)
tangent(sp.logsumexp)(_logsumexp_dot)

nondiff(sp.factorial, sp.comb, sp.perm, no_derivative_dot)
