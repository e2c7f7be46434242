"""scipy.fft's discrete cosine and sine transforms and scipy.signal.savgol_filter: linear maps.

``dct(x, type, n, axis, norm, orthogonalize=...)`` (and ``dst``) has rules: its tangent is
the transform of the tangent; its adjoint is the transposed transform `dct_transpose`,
which is a DCT (DST) again: with the orthogonalized variant (``norm='ortho'``'s default)
the transform is k times an orthogonal one Q, so its transpose is k Q^-1 (the inverse
transform, ``norm='ortho'``); otherwise it is k times the unnormalized transform B, whose
transposes are

    type 1:  c * dct1(g / c)   c = [1, 2, ..., 2, 1]     dst1(g)   (symmetric)
    type 2:  dct3(w * g)       w = [2, 1, ..., 1]        dst3(w * g), w = [1, ..., 1, 2]
    type 3:  h * dct2(g)       h = [1/2, 1, ..., 1]      h * dst2(g), h = [1, ..., 1, 1/2]
    type 4:  dct4(g)                                     dst4(g)   (symmetric)

with k = 1 (``'backward'``), 1/K (``'forward'``), 1/sqrt(K) (``'ortho'``), K = 2(m-1) for
DCT-I, 2(m+1) for DST-I and 2m otherwise (m the transform's length; tests check each
case against the dense matrix).  ``n`` pads or truncates x first: the transpose
truncates or pads back.  `dct_transpose` is linear in g and its adjoint is the transform,
so every order works.  ``idct``/``idst`` are the transform of the inverse type with the
swapped normalization (2 <-> 3; 'backward' <-> 'forward'; written out, `implemented_by`);
``dctn``/``dstn`` are one transform per axis, their transpose `dctn_transpose` one
transposed transform per axis in reverse order; ``idctn``/``idstn`` are a dctn/dstn.

``savgol_filter(x, window_length, polyorder, ...)`` is linear in x: away from the edges
(and in every mode but 'interp') a correlation with the filter's coefficients
(``ndimage.convolve1d``, rules/scipy_signal.py); in mode 'interp' the first and last
``window_length // 2`` outputs are those of the polynomial fitted to the first and last
window, a constant matrix (`_edge_matrix`: SciPy's filter applied to the identity) times
the window's samples.

Input: nothing (imported with the SciPy rules).  Output: the rules and implementations.
"""

import functools

import numpy as np
import scipy.fft as sfft
import scipy.signal as ss
from scipy import ndimage

from . import adjoint, implemented_by, linear, nondiff, tangent
from ..errors import NotDifferentiable

_INVERSE_TYPE = {1: 1, 2: 3, 3: 2, 4: 4}
_SWAPPED_NORM = {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}


def _transform_shape(x, n, axis):
    """The shape of dct(x, n=n, axis=axis)."""
    shape = list(np.shape(x))
    if n is not None:
        shape[axis] = n
    return tuple(shape)


def real_transform(x, type, n, axis, norm, orthogonalize, sine):
    """dst(x, ...) when sine, else dct(x, ...)."""
    if sine:
        return sfft.dst(x, type, n, axis, norm, orthogonalize=orthogonalize)
    return sfft.dct(x, type, n, axis, norm, orthogonalize=orthogonalize)


def real_transform_n(x, type, s, axes, norm, orthogonalize, sine):
    """dstn(x, ...) when sine, else dctn(x, ...)."""
    if sine:
        return sfft.dstn(x, type, s, axes, norm, orthogonalize=orthogonalize)
    return sfft.dctn(x, type, s, axes, norm, orthogonalize=orthogonalize)


def _square_transpose(g, type, norm, orthogonalize, sine):
    """The transpose of the m-point DCT (DST when sine; m = g's last axis) applied to g, along
    the last axis."""
    m = np.shape(g)[-1]
    norm = "backward" if norm is None else norm
    big = 2.0 * (m + 1 if sine else m - 1) if type == 1 else 2.0 * m
    orthogonal = (norm == "ortho") if orthogonalize is None else bool(orthogonalize)
    if orthogonal:
        k = {"ortho": 1.0, "backward": np.sqrt(big), "forward": 1.0 / np.sqrt(big)}[norm]
        inverse = sfft.idst if sine else sfft.idct
        return k * inverse(g, type=type, norm="ortho", orthogonalize=True)
    k = {"ortho": 1.0 / np.sqrt(big), "backward": 1.0, "forward": 1.0 / big}[norm]
    forward = sfft.dst if sine else sfft.dct
    end = -1 if sine else 0               # the end sample the unnormalized types 2 and 3 weigh apart
    if type == 1 and not sine:
        c = np.full(m, 2.0)
        c[0] = 1.0
        c[-1] = 1.0
        return k * c * sfft.dct(g / c, type=1)
    if type == 2:
        w = np.ones(m)
        w[end] = 2.0
        return k * forward(w * g, type=3)
    if type == 3:
        h = np.ones(m)
        h[end] = 0.5
        return k * h * forward(g, type=2)
    return k * forward(g, type=type)      # DST-I and the type-4 transforms are symmetric


def dct_transpose(g, x, type=2, n=None, axis=-1, norm=None, orthogonalize=None, sine=False):
    """The adjoint of x for dct(x, type, n, axis, norm, orthogonalize=...) (dst when sine) and
    the adjoint g of its result (linear in g; x gives the shape)."""
    g = np.moveaxis(g + np.zeros(_transform_shape(x, n, axis)), axis, -1)
    out = _square_transpose(g, type, norm, orthogonalize, sine)
    size = np.shape(x)[axis]
    m = np.shape(g)[-1]
    if m > size:
        out = out[..., :size]
    elif m < size:
        out = np.concatenate([out, np.zeros(np.shape(out)[:-1] + (size - m,))], axis=-1)
    return np.moveaxis(out, -1, axis)


@adjoint(sfft.dct)
def _(result, result_bar, x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
      orthogonalize=None):
    return dct_transpose(result_bar, x, type, n, axis, norm, orthogonalize, False)


@tangent(sfft.dct)
def _(result, x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, orthogonalize=None,
      x_dot=0.0):
    return sfft.dct(x_dot + np.zeros(np.shape(x)), type, n, axis, norm, orthogonalize=orthogonalize)


@adjoint(sfft.dst)
def _(result, result_bar, x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
      orthogonalize=None):
    return dct_transpose(result_bar, x, type, n, axis, norm, orthogonalize, True)


@tangent(sfft.dst)
def _(result, x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, orthogonalize=None,
      x_dot=0.0):
    return sfft.dst(x_dot + np.zeros(np.shape(x)), type, n, axis, norm, orthogonalize=orthogonalize)


linear(dct_transpose)


@adjoint(dct_transpose)
def _(result, result_bar, g, x, type=2, n=None, axis=-1, norm=None, orthogonalize=None, sine=False):
    return real_transform(result_bar + np.zeros(np.shape(x)), type, n, axis, norm, orthogonalize, sine), None


@implemented_by(sfft.idct)
def fft_idct(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, orthogonalize=None):
    """The inverse DCT: the dct of the inverse type with the swapped normalization."""
    return sfft.dct(x, _INVERSE_TYPE[type], n, axis, _SWAPPED_NORM[norm], orthogonalize=orthogonalize)


@implemented_by(sfft.idst)
def fft_idst(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, orthogonalize=None):
    """The inverse DST: the dst of the inverse type with the swapped normalization."""
    return sfft.dst(x, _INVERSE_TYPE[type], n, axis, _SWAPPED_NORM[norm], orthogonalize=orthogonalize)


def _axes_and_sizes(x, s, axes):
    ndim = np.ndim(x)
    if axes is None:
        axes = list(range(ndim)) if s is None else list(range(ndim - len(s), ndim))
    axes = [axes] if isinstance(axes, int) else list(axes)
    sizes = [None] * len(axes) if s is None else ([s] if isinstance(s, int) else list(s))
    return axes, sizes


nondiff(_axes_and_sizes, _transform_shape)


def dctn_transpose(g, x, type=2, s=None, axes=None, norm=None, orthogonalize=None, sine=False):
    """The adjoint of x for dctn(x, type, s, axes, norm, orthogonalize=...) (dstn when sine)
    and the adjoint g of its result: the transposed one-axis transforms in reverse order
    (linear in g)."""
    axes, sizes = _axes_and_sizes(x, s, axes)
    shapes = [np.shape(x)]
    for k in range(len(axes)):
        shapes.append(_transform_shape(np.zeros(shapes[k]), sizes[k], axes[k]))
    g = g + np.zeros(shapes[-1])
    for k in range(len(axes) - 1, -1, -1):
        g = dct_transpose(g, np.zeros(shapes[k]), type, sizes[k], axes[k], norm, orthogonalize, sine)
    return g


# (keyword-only parameters: these rules are called, not inlined; diffc reads them for higher order)
def _dctn_bar(result, result_bar, x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *,
              orthogonalize=None):
    return dctn_transpose(result_bar, x, type, s, axes, norm, orthogonalize, False)


def _dctn_dot(result, x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, orthogonalize=None,
              x_dot=0.0):
    return sfft.dctn(x_dot + np.zeros(np.shape(x)), type, s, axes, norm, orthogonalize=orthogonalize)


def _dstn_bar(result, result_bar, x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *,
              orthogonalize=None):
    return dctn_transpose(result_bar, x, type, s, axes, norm, orthogonalize, True)


def _dstn_dot(result, x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, orthogonalize=None,
              x_dot=0.0):
    return sfft.dstn(x_dot + np.zeros(np.shape(x)), type, s, axes, norm, orthogonalize=orthogonalize)


adjoint(sfft.dctn)(_dctn_bar)
tangent(sfft.dctn)(_dctn_dot)
adjoint(sfft.dstn)(_dstn_bar)
tangent(sfft.dstn)(_dstn_dot)
linear(dctn_transpose)


@adjoint(dctn_transpose)
def _(result, result_bar, g, x, type=2, s=None, axes=None, norm=None, orthogonalize=None, sine=False):
    return real_transform_n(result_bar + np.zeros(np.shape(x)), type, s, axes, norm, orthogonalize, sine), None


@implemented_by(sfft.idctn)
def fft_idctn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, orthogonalize=None):
    """The inverse: dctn of the inverse type with the swapped normalization."""
    return sfft.dctn(x, _INVERSE_TYPE[type], s, axes, _SWAPPED_NORM[norm], orthogonalize=orthogonalize)


@implemented_by(sfft.idstn)
def fft_idstn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, orthogonalize=None):
    """The inverse: dstn of the inverse type with the swapped normalization."""
    return sfft.dstn(x, _INVERSE_TYPE[type], s, axes, _SWAPPED_NORM[norm], orthogonalize=orthogonalize)


# ------------------------------------------------------------------ savgol_filter

@functools.lru_cache(maxsize=64)
def _edge_matrix_cached(window_length, polyorder, deriv, delta):
    return ss.savgol_filter(np.eye(window_length), window_length, polyorder, deriv, delta, axis=0, mode="interp")


def _edge_matrix(window_length, polyorder, deriv, delta):
    """E with E[i, j] the output at i of SciPy's filter (mode 'interp') of the unit sample j
    of a window_length-long signal: the fitted polynomial's (derivative's) values."""
    return _edge_matrix_cached(int(window_length), int(polyorder), int(deriv), float(delta)).copy()


def _savgol_weights(window_length, polyorder, deriv, delta):
    return ss.savgol_coeffs(window_length, polyorder, deriv=deriv, delta=delta, use="dot")


nondiff(_edge_matrix, _savgol_weights)


@implemented_by(ss.savgol_filter)
def signal_savgol_filter(x, window_length, polyorder, deriv=0, delta=1.0, axis=-1, mode="interp", cval=0.0):
    """SciPy's Savitzky-Golay filter, linear in x."""
    if mode != "interp":
        coeffs = ss.savgol_coeffs(window_length, polyorder, deriv=deriv, delta=delta)
        return ndimage.convolve1d(np.asarray(x) + 0.0, coeffs, axis=axis, mode=mode, cval=cval)
    x = np.moveaxis(np.asarray(x) + 0.0, axis, -1)
    size = np.shape(x)[-1]
    if window_length > size:
        raise NotDifferentiable("diffc: savgol_filter(mode='interp') needs window_length <= the signal's length "
                                "(as SciPy)")
    half = window_length // 2
    weights = _savgol_weights(window_length, polyorder, deriv, delta)
    start = 2 * half + 1 - window_length          # an even window's centre is right of its middle
    count = size - 2 * half
    inner = 0.0
    for j in range(window_length):
        inner = inner + weights[j] * x[..., start + j:start + j + count]
    edges = _edge_matrix(window_length, polyorder, deriv, delta)
    left = x[..., :window_length] @ edges[:half].T
    right = x[..., size - window_length:] @ edges[window_length - half:].T
    return np.moveaxis(np.concatenate([left, inner, right], axis=-1), -1, axis)


for _helper in (real_transform, real_transform_n, _square_transpose, dct_transpose, fft_idct, fft_idst,
                dctn_transpose, _dctn_bar, _dctn_dot, _dstn_bar, _dstn_dot, fft_idctn, fft_idstn, signal_savgol_filter):
    _helper.__diffc_transparent__ = True
