"""More SciPy functions, written out in NumPy for diffc to read (`implemented_by`):

- scipy.special: ``expm1``, ``log1p``, ``cosm1``, ``huber``, ``pseudo_huber``, ``boxcox``;
- scipy.stats: ``lognorm`` and ``uniform`` (logpdf, pdf, cdf, logcdf, sf), ``norm.entropy``,
  ``zscore`` and ``entropy`` (Shannon entropy and the relative entropy of two distributions);
- scipy.linalg: ``norm``, ``svd``, ``svdvals``, ``block_diag``, ``toeplitz``, ``circulant``,
  ``lstsq`` and ``pinv``;
- scipy.fft: the transforms NumPy has (``fft``, ``rfft``, ``fftn``, ... and the shifts);
- scipy.integrate: ``trapezoid`` and ``cumulative_trapezoid``; scipy.signal: ``lfilter``.

Input: nothing (imported by rules/scipy_rules.py, only when SciPy imports).  Output: each
function registered for its SciPy function; diffc differentiates the body like user
code, in both modes and at every order.  Values equal SciPy's (tests/test_scipy_more.py
compares them and checks the derivatives against finite differences).
"""

import math

import numpy as np
import scipy.linalg as sl
from scipy import special as sp
from scipy import stats

from . import implemented_by, nondiff
from ..errors import NotDifferentiable

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


# ------------------------------------------------------------------ scipy.special

@implemented_by(sp.expm1)
def special_expm1(x):
    return np.expm1(x)


@implemented_by(sp.log1p)
def special_log1p(x):
    return np.log1p(x)


@implemented_by(sp.cosm1)
def special_cosm1(x):
    return -2.0 * np.sin(0.5 * np.asarray(x)) ** 2       # cos(x) - 1 without cancellation


@implemented_by(sp.huber)
def special_huber(delta, r):
    r = np.asarray(r)
    inside = np.abs(r) <= delta
    quadratic = 0.5 * r * r
    linear = delta * (np.abs(r) - 0.5 * delta)
    return np.where(delta < 0, np.inf, np.where(inside, quadratic, linear))


@implemented_by(sp.pseudo_huber)
def special_pseudo_huber(delta, r):
    return delta * delta * (np.sqrt(1.0 + (np.asarray(r) / delta) ** 2) - 1.0)


@implemented_by(sp.boxcox)
def special_boxcox(x, lmbda):
    x = np.asarray(x)
    safe = np.where(np.abs(lmbda) < 1e-19, 1.0, lmbda)
    return np.where(np.abs(lmbda) < 1e-19, np.log(x), np.expm1(safe * np.log(x)) / safe)


# ------------------------------------------------------------------ scipy.stats

@implemented_by(stats.lognorm.logpdf)
def lognorm_logpdf(x, s, loc=0.0, scale=1.0):
    y = (np.asarray(x) - loc) / scale
    z = np.log(y) / s
    return -0.5 * z * z - _LOG_SQRT_2PI - np.log(s * y) - np.log(scale)


@implemented_by(stats.lognorm.pdf)
def lognorm_pdf(x, s, loc=0.0, scale=1.0):
    return np.exp(lognorm_logpdf(x, s, loc, scale))


@implemented_by(stats.lognorm.cdf)
def lognorm_cdf(x, s, loc=0.0, scale=1.0):
    return sp.ndtr(np.log((np.asarray(x) - loc) / scale) / s)


@implemented_by(stats.lognorm.logcdf)
def lognorm_logcdf(x, s, loc=0.0, scale=1.0):
    return sp.log_ndtr(np.log((np.asarray(x) - loc) / scale) / s)


@implemented_by(stats.lognorm.sf)
def lognorm_sf(x, s, loc=0.0, scale=1.0):
    return sp.ndtr(-np.log((np.asarray(x) - loc) / scale) / s)


@implemented_by(stats.uniform.logpdf)
def uniform_logpdf(x, loc=0.0, scale=1.0):
    y = (np.asarray(x) - loc) / scale
    return np.where((y >= 0) & (y <= 1), -np.log(scale) + 0.0 * y, -np.inf)


@implemented_by(stats.uniform.pdf)
def uniform_pdf(x, loc=0.0, scale=1.0):
    y = (np.asarray(x) - loc) / scale
    return np.where((y >= 0) & (y <= 1), 1.0 / scale + 0.0 * y, 0.0)


@implemented_by(stats.uniform.cdf)
def uniform_cdf(x, loc=0.0, scale=1.0):
    return np.clip((np.asarray(x) - loc) / scale, 0.0, 1.0)


@implemented_by(stats.uniform.logcdf)
def uniform_logcdf(x, loc=0.0, scale=1.0):
    return np.log(uniform_cdf(x, loc, scale))


@implemented_by(stats.uniform.sf)
def uniform_sf(x, loc=0.0, scale=1.0):
    return 1.0 - uniform_cdf(x, loc, scale)


@implemented_by(stats.norm.entropy)
def norm_entropy(loc=0.0, scale=1.0):
    return 0.5 + _LOG_SQRT_2PI + np.log(scale) + 0.0 * np.asarray(loc)


@implemented_by(stats.zscore)
def zscore(a, axis=0, ddof=0, nan_policy="propagate"):
    if nan_policy != "propagate":
        raise NotDifferentiable("diffc: scipy.stats.zscore(..., nan_policy=) is not differentiated")
    a = np.asarray(a)
    if axis is None:
        return (a - np.mean(a)) / np.std(a, ddof=ddof)
    return (a - np.mean(a, axis=axis, keepdims=True)) / np.std(a, axis=axis, ddof=ddof, keepdims=True)


@implemented_by(stats.entropy)
def entropy(pk, qk=None, base=None, axis=0, *, nan_policy="propagate", keepdims=False):
    if nan_policy != "propagate":
        raise NotDifferentiable("diffc: scipy.stats.entropy(..., nan_policy=) is not differentiated")
    pk = np.asarray(pk)
    pk = pk / np.sum(pk, axis=axis, keepdims=True)
    if qk is None:
        terms = sp.entr(pk)
    else:
        qk = np.asarray(qk)
        qk = qk / np.sum(qk, axis=axis, keepdims=True)
        terms = sp.rel_entr(pk, qk)
    total = np.sum(terms, axis=axis, keepdims=keepdims)
    return total / np.log(base) if base is not None else total


# ------------------------------------------------------------------ scipy.linalg

@implemented_by(sl.norm)
def linalg_norm(a, ord=None, axis=None, keepdims=False, check_finite=True):
    return np.linalg.norm(a, ord=ord, axis=axis, keepdims=keepdims)


@implemented_by(sl.svdvals)
def linalg_svdvals(a, overwrite_a=False, check_finite=True):
    return np.linalg.svd(a, compute_uv=False)


@implemented_by(sl.svd)
def linalg_svd(a, full_matrices=True, compute_uv=True, overwrite_a=False, check_finite=True,
               lapack_driver="gesdd"):
    # NumPy's factors are SciPy's default ones (both call LAPACK's gesdd: the same signs);
    # gesvd's vectors may have other signs
    if not compute_uv:
        return np.linalg.svd(a, compute_uv=False)
    if lapack_driver != "gesdd":
        raise NotDifferentiable(f"scipy.linalg.svd(lapack_driver={lapack_driver!r}) is not differentiated",
                                hint="use the default driver, gesdd")
    u, s, vh = np.linalg.svd(a, full_matrices=full_matrices)
    return u, s, vh


@implemented_by(sl.block_diag)
def linalg_block_diag(*arrs):
    blocks = [np.atleast_2d(np.asarray(a)) for a in arrs]
    width = sum(np.shape(b)[1] for b in blocks)
    rows = []
    left = 0
    for b in blocks:
        n = np.shape(b)[1]
        rows.append(np.concatenate([np.zeros((np.shape(b)[0], left)), b,
                                    np.zeros((np.shape(b)[0], width - left - n))], axis=1))
        left += n
    return np.concatenate(rows, axis=0) if rows else np.zeros((1, 0))


@implemented_by(sl.toeplitz)
def linalg_toeplitz(c, r=None):
    c = np.ravel(c)
    r = np.conj(c) if r is None else np.ravel(r)
    values = np.concatenate([c[::-1], r[1:]])           # scipy's: c reversed, then r past r[0]
    n, m = len(c), len(r)
    return values[(n - 1) - np.arange(n)[:, None] + np.arange(m)[None, :]]


@implemented_by(sl.circulant)
def linalg_circulant(c):
    c = np.ravel(c)
    n = len(c)
    return c[(np.arange(n)[:, None] - np.arange(n)[None, :]) % n]


def _rank(a, cond):
    """The effective rank scipy.linalg.lstsq reports (an int: no derivative)."""
    return int(sl.lstsq(np.asarray(a), np.zeros(np.shape(a)[0]), cond=cond)[2])


nondiff(_rank)


@implemented_by(sl.lstsq)
def linalg_lstsq(a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True,
                 lapack_driver=None):
    a = np.asarray(a)
    b = np.asarray(b)
    solution = np.linalg.lstsq(a, b, rcond=cond)[0]
    rank = _rank(a, cond)
    m, n = np.shape(a)
    if m > n and rank == n:
        residues = np.sum(np.abs(b - a @ solution) ** 2, axis=0)     # () for a 1-d b, as scipy
    else:
        residues = np.zeros((0,))
    return solution, residues, rank, np.linalg.svd(a, compute_uv=False)


@implemented_by(sl.pinv)
def linalg_pinv(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    if atol is not None or return_rank:
        raise NotDifferentiable("diffc: scipy.linalg.pinv(..., atol=, return_rank=True) is not differentiated")
    if rtol is None:
        rtol = max(np.shape(a)[-2:]) * np.finfo(np.result_type(a, float)).eps
    return np.linalg.pinv(a, rtol)


# ------------------------------------------------------------------ scipy.fft (NumPy's transforms)

import scipy.fft as sfft  # noqa: E402
import scipy.integrate as si  # noqa: E402
import scipy.signal as ss  # noqa: E402


def _one_axis_transform(numpy_fn):
    def transform(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *, plan=None):
        return numpy_fn(x, n, axis, norm)
    return transform


def _many_axes_transform(numpy_fn):
    def transform(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None):
        return numpy_fn(x, s, axes, norm)
    return transform


def _two_axes_transform(numpy_fn):
    def transform(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *, plan=None):
        return numpy_fn(x, s, axes, norm)
    return transform


for _name in ("fft", "ifft", "rfft", "irfft", "hfft", "ihfft"):
    implemented_by(getattr(sfft, _name))(_one_axis_transform(getattr(np.fft, _name)))
for _name in ("fftn", "ifftn", "rfftn", "irfftn"):
    implemented_by(getattr(sfft, _name))(_many_axes_transform(getattr(np.fft, _name)))
for _name in ("fft2", "ifft2", "rfft2", "irfft2"):
    implemented_by(getattr(sfft, _name))(_two_axes_transform(getattr(np.fft, _name)))


@implemented_by(sfft.fftshift)
def fft_fftshift(x, axes=None):
    return np.fft.fftshift(x, axes)


@implemented_by(sfft.ifftshift)
def fft_ifftshift(x, axes=None):
    return np.fft.ifftshift(x, axes)


nondiff(sfft.fftfreq, sfft.rfftfreq)


# ------------------------------------------------------------------ scipy.integrate rules of quadrature

@implemented_by(si.trapezoid)
def integrate_trapezoid(y, x=None, dx=1.0, axis=-1):
    return np.trapezoid(y, x, dx, axis)


@implemented_by(si.cumulative_trapezoid)
def integrate_cumulative_trapezoid(y, x=None, dx=1.0, axis=-1, initial=None):
    y = np.moveaxis(np.asarray(y), axis, -1)
    if x is None:
        steps = dx
    else:
        x = np.asarray(x)
        steps = np.diff(np.moveaxis(x, axis, -1) if x.ndim > 1 else x)
    areas = np.cumsum(0.5 * steps * (y[..., 1:] + y[..., :-1]), axis=-1)
    if initial is not None:
        if initial != 0:
            raise NotDifferentiable("diffc: cumulative_trapezoid(..., initial=) takes 0 or None (as SciPy)")
        areas = np.concatenate([np.zeros(areas.shape[:-1] + (1,)), areas], axis=-1)
    return np.moveaxis(areas, -1, axis)


# ------------------------------------------------------------------ scipy.signal.lfilter

@implemented_by(ss.lfilter)
def signal_lfilter(b, a, x, axis=-1, zi=None):
    """y[n] = (sum_k b[k] x[n-k] - sum_{k>=1} a[k] y[n-k]) / a[0], along axis, from rest."""
    if zi is not None:
        raise NotDifferentiable("diffc: scipy.signal.lfilter(..., zi=) is not differentiated")
    b = np.atleast_1d(b) + 0.0
    a = np.atleast_1d(a) + 0.0
    x = np.moveaxis(np.asarray(x) + 0.0, axis, -1)
    ys = []
    for n in range(x.shape[-1]):
        total = 0.0 * x[..., n]
        for k in range(min(len(b), n + 1)):
            total = total + b[k] * x[..., n - k]
        for k in range(1, min(len(a), n + 1)):
            total = total - a[k] * ys[n - k]
        ys.append(total / a[0])
    return np.moveaxis(np.stack(ys, axis=-1), -1, axis)
