"""scipy.signal.convolve/correlate (and their fftconvolve/oaconvolve twins) and the
scipy.ndimage filters used in image code.

``convolve(a, v, mode)`` is bilinear: its tangent is ``convolve(a_dot, v) +
convolve(a, v_dot)``; its adjoints embed the incoming adjoint in the 'full'
output and correlate it with the other operand ('valid'), so second
derivatives are convolutions again (the helpers are transparent).
``correlate(a, v)`` is ``convolve(a, flip(v))`` (real inputs).

The ndimage filters (``correlate``, ``convolve``, ``correlate1d``,
``convolve1d``, ``gaussian_filter``, ``gaussian_filter1d``, ``uniform_filter``,
``uniform_filter1d``) are written as a pad of the input with the filter's
boundary mode (ndimage 'reflect', 'mirror', 'nearest', 'wrap'/'grid-wrap',
'constant' are np.pad's 'symmetric', 'reflect', 'edge', 'wrap', 'constant')
followed by a 'valid' correlation, so they are differentiated in the input and
the weights at any order.  Kernel widths (``sigma``, ``size``, ``truncate``)
are not differentiated.
"""

import numpy as np
import scipy.signal as ss
from scipy import ndimage

from . import adjoint, implemented_by, nondiff, tangent
from ..errors import NotDifferentiable


def _widened(d, x):
    """A tangent (possibly a broadcast-smaller one, such as 0.0) at the full shape of x."""
    return d + np.zeros(np.shape(x))


def _full_offsets(a, v, mode):
    """Where the output of convolve(a, v, mode) starts inside the 'full' output."""
    sa, sv = np.shape(a), np.shape(v)
    if mode == "full":
        return tuple(0 for _ in sa)
    if mode == "same":
        return tuple((m - 1) // 2 for m in sv)
    if mode == "valid":
        if any(n < m for n, m in zip(sa, sv)):
            raise NotDifferentiable("diffc: convolve(mode='valid') is differentiated when the first "
                                    "argument is at least as large as the second in every dimension")
        return tuple(m - 1 for m in sv)
    raise ValueError(f"unknown convolution mode {mode!r}")


def _embedded(g, a, v, mode):
    """The adjoint g of convolve(a, v, mode), placed in zeros shaped like the 'full' output."""
    starts = _full_offsets(a, v, mode)
    full = [n + m - 1 for n, m in zip(np.shape(a), np.shape(v))]
    widths = [(s, f - s - k) for s, f, k in zip(starts, full, np.shape(g))]
    return np.pad(g, widths)


def _convolve_bar_a(g, a, v, mode):
    return ss.correlate(_embedded(_widened(g, np.zeros(_out_shape(a, v, mode))), a, v, mode), v, mode="valid")


def _convolve_bar_v(g, a, v, mode):
    return ss.correlate(_embedded(_widened(g, np.zeros(_out_shape(a, v, mode))), a, v, mode), a, mode="valid")


def _out_shape(a, v, mode):
    sa, sv = np.shape(a), np.shape(v)
    if mode == "full":
        return tuple(n + m - 1 for n, m in zip(sa, sv))
    if mode == "same":
        return tuple(sa)
    return tuple(n - m + 1 for n, m in zip(sa, sv))


for _helper in (_convolve_bar_a, _convolve_bar_v, _embedded, _widened):
    _helper.__diffc_transparent__ = True


@adjoint(ss.convolve, ss.fftconvolve, ss.oaconvolve)
def _(result, result_bar, in1, in2, mode="full", method="auto"):
    return _convolve_bar_a(result_bar, in1, in2, mode), _convolve_bar_v(result_bar, in1, in2, mode)


@tangent(ss.convolve)
def _(result, in1, in2, mode="full", method="auto", in1_dot=None, in2_dot=None):
    return ss.convolve(_widened(in1_dot, in1), in2, mode) + ss.convolve(in1, _widened(in2_dot, in2), mode)


@tangent(ss.fftconvolve, ss.oaconvolve)
def _(result, in1, in2, mode="full", axes=None, in1_dot=None, in2_dot=None):
    return ss.convolve(_widened(in1_dot, in1), in2, mode) + ss.convolve(in1, _widened(in2_dot, in2), mode)


@implemented_by(ss.correlate)
def signal_correlate(in1, in2, mode="full", method="auto"):
    return ss.convolve(in1, np.flip(in2), mode)


# ------------------------------------------------------------------------- ndimage

_PAD_MODES = {"reflect": "symmetric", "grid-mirror": "symmetric", "mirror": "reflect", "nearest": "edge",
              "wrap": "wrap", "grid-wrap": "wrap", "constant": "constant", "grid-constant": "constant"}


def _pad_mode(mode):
    """np.pad's name for an ndimage boundary mode."""
    if mode not in _PAD_MODES:
        raise NotDifferentiable(f"diffc: ndimage mode {mode!r} is not differentiated")
    return _PAD_MODES[mode]


def _padded(x, widths, mode, cval):
    pad_mode = _pad_mode(mode)
    if pad_mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=cval)
    return np.pad(x, widths, mode=pad_mode)


def _origins(origin, ndim):
    if np.ndim(origin) == 0:
        return [int(origin)] * ndim
    return [int(o) for o in origin]


def _nd_widths(shape, origin):
    return [(m // 2 + o, m - 1 - m // 2 - o) for m, o in zip(shape, _origins(origin, len(shape)))]


@implemented_by(ndimage.correlate)
def ndimage_correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0):
    widths = _nd_widths(np.shape(weights), origin)
    return ss.correlate(_padded(input, widths, mode, cval), weights, mode="valid")


@implemented_by(ndimage.convolve)
def ndimage_convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0):
    shape = np.shape(weights)
    origins = [-o - (1 - m % 2) for o, m in zip(_origins(origin, len(shape)), shape)]
    widths = _nd_widths(shape, origins)
    return ss.correlate(_padded(input, widths, mode, cval), np.flip(weights), mode="valid")


def _along(weights, axis, ndim):
    """A 1-d kernel shaped to act along `axis` of an ndim array."""
    axis = axis % ndim
    return np.reshape(weights, [-1 if k == axis else 1 for k in range(ndim)])


def _axis_widths(m, axis, ndim, origin):
    axis = axis % ndim
    return [(m // 2 + origin, m - 1 - m // 2 - origin) if k == axis else (0, 0) for k in range(ndim)]


@implemented_by(ndimage.correlate1d)
def ndimage_correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    ndim = np.ndim(input)
    widths = _axis_widths(np.shape(weights)[0], axis, ndim, origin)
    return ss.correlate(_padded(input, widths, mode, cval), _along(weights, axis, ndim), mode="valid")


@implemented_by(ndimage.convolve1d)
def ndimage_convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    ndim = np.ndim(input)
    m = np.shape(weights)[0]
    widths = _axis_widths(m, axis, ndim, -origin - (1 - m % 2))
    return ss.correlate(_padded(input, widths, mode, cval), _along(np.flip(weights), axis, ndim), mode="valid")


def _gaussian_weights(sigma, order, truncate, radius):
    """The correlation weights gaussian_filter1d uses (constants: sigma is not differentiated)."""
    sd = float(sigma)
    lw = int(truncate * sd + 0.5) if radius is None else int(radius)
    x = np.arange(-lw, lw + 1)
    phi = np.exp(-0.5 / (sd * sd) * x ** 2)
    phi = phi / phi.sum()
    if order == 0:
        return phi
    exponent = np.arange(order + 1)
    q = np.zeros(order + 1)
    q[0] = 1
    D = np.diag(exponent[1:], 1)
    P = np.diag(np.ones(order) / -(sd * sd), -1)
    Q_deriv = D + P
    for _ in range(order):
        q = Q_deriv.dot(q)
    q = (x[:, None] ** exponent).dot(q)
    return (q * phi)[::-1]


@implemented_by(ndimage.gaussian_filter1d)
def ndimage_gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                              truncate=4.0, radius=None):
    weights = _gaussian_weights(sigma, order, truncate, radius)
    return ndimage_correlate1d(input, weights, axis, None, mode, cval, 0)


def _per_axis(value, ndim):
    if np.ndim(value) == 0 and not isinstance(value, (list, tuple, str)):
        return [value] * ndim
    if isinstance(value, str):
        return [value] * ndim
    return list(value)


@implemented_by(ndimage.gaussian_filter)
def ndimage_gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                            radius=None, axes=None):
    ndim = np.ndim(input)
    sigmas = _per_axis(sigma, ndim)
    orders = _per_axis(order, ndim)
    modes = _per_axis(mode, ndim)
    radii = _per_axis(radius, ndim)
    out = input
    for axis in range(ndim):
        if sigmas[axis] > 1e-15:
            weights = _gaussian_weights(sigmas[axis], orders[axis], truncate, radii[axis])
            out = ndimage_correlate1d(out, weights, axis, None, modes[axis], cval, 0)
    return out


@implemented_by(ndimage.uniform_filter1d)
def ndimage_uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    return ndimage_correlate1d(input, np.ones(size) / size, axis, None, mode, cval, origin)


@implemented_by(ndimage.uniform_filter)
def ndimage_uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, axes=None):
    ndim = np.ndim(input)
    sizes = _per_axis(size, ndim)
    modes = _per_axis(mode, ndim)
    origins = _per_axis(origin, ndim)
    out = input
    for axis in range(ndim):
        if sizes[axis] > 1:
            out = ndimage_correlate1d(out, np.ones(sizes[axis]) / sizes[axis], axis, None, modes[axis], cval,
                                      origins[axis])
    return out


for _helper in (_padded, _along):
    _helper.__diffc_transparent__ = True
# shapes, widths and kernel weights from constants: no derivative
nondiff(_pad_mode, _full_offsets, _out_shape, _origins, _nd_widths, _axis_widths, _gaussian_weights, _per_axis)
