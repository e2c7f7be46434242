"""Rules for NumPy functions that are linear in one array: rearrangements, FFTs, windows.

Input: nothing (imported by `diffc.pipeline.load_builtin_rules`).  Output: adjoint and
tangent rules registered for np.rot90, np.rollaxis, np.append, np.nan_to_num,
np.real_if_close, np.gradient, np.fft.* (fft, ifft, rfft, irfft, hfft, ihfft, fft2, ifft2,
fftn, ifftn, rfft2, irfft2, rfftn, irfftn, fftshift, ifftshift),
np.lib.stride_tricks.as_strided and sliding_window_view (reads), and rules of
any order for the helpers they call.

Every operation here is a linear map ``L`` of one array ``x`` with the other
arguments (shapes, axes, shifts, ``n``, ``norm``) held constant.  Such an
operation is named by a string ``op`` and computed by two helpers:

* ``apply_linear(op, x, p1, p2, p3)`` is ``L x``;
* ``transpose_linear(op, g, x, p1, p2, p3)`` is ``L^T g``, shaped like ``x``
  (``x`` is read for its shape and dtype only).

So one pair of higher-order rules covers all of them, to any order: the
tangent of ``apply_linear`` in ``x`` is ``apply_linear`` of the tangent, its
adjoint is ``transpose_linear``; ``transpose_linear`` is linear in ``g`` with
``apply_linear`` as its adjoint.  The parameters ``p1..p3`` never carry a
derivative: the rules of the NumPy functions pass only constants there
(shapes, axes, masks, spacings), and give the arguments they come from no
contribution, so the compiler refuses a differentiated one.

Complex values follow JAX's convention (README, "Complex numbers"): the
cotangent pairs with the tangent as ``Re(sum(ct * t))``, so the adjoint of a
complex-linear map with matrix ``M`` is ``M^T ct`` (a transpose, no
conjugate), and the cotangent of a real input is the real part.  The DFT
matrix is symmetric, so the transpose of ``fft`` is ``fft`` itself (same
normalization), of ``ifft`` ``ifft``; ``rfft`` and ``irfft`` are only
real-linear and get their own transposes.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from ..runtime import ListBar, unbroadcast
from .complex_rules import no_derivative, real_if_real
from ..errors import NotDifferentiable

_FFT = np.fft
_WINDOWS = np.lib.stride_tricks


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

def _axes_of(x, s, axes):
    """(s, axes) of an n-d FFT of x as lists, NumPy's defaults filled in."""
    nd = np.ndim(x)
    if axes is None:
        axes = list(range(nd)) if s is None else list(range(nd - len(s), nd))
    axes = [int(a) % nd for a in axes]
    if s is None:
        s = [np.shape(x)[a] for a in axes]
    return list(s), axes


def _fit(g, axis, n):
    """g cut to, or zero-padded at its end to, length n along axis.  Cutting and padding
    are each other's transposes, so this is also the transpose of fitting the other way."""
    m = np.shape(g)[axis]
    if m == n:
        return g
    if m > n:
        return np.take(g, np.arange(n), axis=axis)
    widths = [(0, 0)] * np.ndim(g)
    widths[axis] = (0, n - m)
    return np.pad(g, widths)


def _norm_swap(norm):
    """The normalization that gives an rfft the scale of an irfft with norm: NumPy's
    forward and backward scalings swap, ``ortho`` stays."""
    return {None: "forward", "backward": "forward", "forward": "backward", "ortho": "ortho"}[norm]


def _rfft_T(g, n_in, axis, n, norm):
    """Transpose of x -> rfft(x, n, axis, norm) for real x of length n_in along axis.

    rfft keeps the first n//2+1 outputs of the full DFT F (symmetric), so its
    transpose pads the cotangent with zeros to length n, applies F, keeps the
    real part (x is real) and fits the result to n_in."""
    n = n_in if n is None else int(n)
    full = _fit(g, axis, n)
    return _fit(np.real(_FFT.fft(full, axis=axis, norm=norm)), axis, n_in)


def _irfft_T(g, n_in, axis, n, norm):
    """Transpose of c -> irfft(c, n, axis, norm), a real-linear map of complex c with n_in
    entries along axis, under the pairing Re(sum(ct * t)).

    y_j = s * sum_k w_k Re(c_k e^{2 pi i jk/n}) with w_k = 1 at DC and (even n) Nyquist,
    2 between (irfft ignores the imaginary parts there), s the scale of the norm; so
    c_bar_k = s w_k conj(sum_j g_j e^{-2 pi i jk/n}) = w_k conj(rfft(g))_k with rfft
    scaled like irfft.  Entries past the ones irfft reads get zero."""
    n = 2 * (n_in - 1) if n is None else int(n)
    spec = _FFT.rfft(np.real(g), n=n, axis=axis, norm=_norm_swap(norm))
    m = np.shape(spec)[axis]
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * np.ndim(spec)
    shape[axis] = m
    return _fit(np.conj(spec) * w.reshape(shape), axis, n_in)


def strided_layout(x, result):
    """(shape, strides in elements) of the view result = as_strided(x, ...), checked:
    x must be C-contiguous (element offsets are then flat positions) and the strides
    whole elements; otherwise the read has no derivative here."""
    x = np.asarray(x)
    item = x.itemsize
    if not x.flags.c_contiguous or any(s % item for s in result.strides):
        raise NotDifferentiable("diffc: as_strided has a derivative only for a C-contiguous "
                                "array and strides that are whole elements")
    return tuple(result.shape), tuple(s // item for s in result.strides)


def _window_T(g, x, shape, strides):
    """Transpose of the strided read as_strided(x, shape, strides) (strides in elements):
    each element of g is added to the element of x it reads (overlaps accumulate)."""
    x = np.asarray(x)
    flat = np.zeros(x.size, dtype=np.result_type(g, x.dtype, np.float64))
    offsets = np.zeros(shape, dtype=np.intp)
    for k, (n, s) in enumerate(zip(shape, strides)):
        idx = [1] * len(shape)
        idx[k] = n
        offsets = offsets + (np.arange(n) * s).reshape(idx)
    np.add.at(flat, offsets.ravel(), np.ravel(np.broadcast_to(g, shape)))
    return flat.reshape(x.shape)


def _sliding_T(g, x, window_shape, axis):
    """Transpose of sliding_window_view(x, window_shape, axis): every window adds its
    cotangent back at the positions it read."""
    x = np.asarray(x)
    view = _WINDOWS.sliding_window_view(np.arange(x.size).reshape(x.shape), window_shape, axis=axis)
    flat = np.zeros(x.size, dtype=np.result_type(g, x.dtype, np.float64))
    np.add.at(flat, view.ravel(), np.ravel(np.broadcast_to(g, view.shape)))
    return flat.reshape(x.shape)


def _rollaxis_perm(nd, axis, start):
    """perm with np.rollaxis(x, axis, start) == np.transpose(x, perm)."""
    probe = np.empty(tuple(range(2, nd + 2)), dtype=np.int8)
    return [n - 2 for n in np.rollaxis(probe, axis, start).shape]


def _gradient_axes(f, axis):
    nd = np.ndim(f)
    if axis is None:
        return list(range(nd))
    if isinstance(axis, (tuple, list)):
        return [int(a) % nd for a in axis]
    return [int(axis) % nd]


def _gradient_1d_T(g, n, spacing, edge_order):
    """Transpose along the last axis of g of np.gradient on length-n vectors.

    np.gradient's stencils reach at most two entries away (second-order edges), so
    the operator M is banded: probing it with the five 0/1 vectors of period 5 gives
    every coefficient M[i, i+d], d in -2..2, exactly; the transpose then gathers
    out[j] = sum_d M[j-d, j] g[j-d]."""
    args = () if spacing is None else (spacing,)
    idx = np.arange(n)
    coef = np.zeros((5, n))          # coef[d + 2, i] = M[i, i + d]
    for r in range(5):
        col = np.gradient((idx % 5 == r).astype(np.float64), *args, edge_order=edge_order)
        for d in range(-2, 3):
            j = idx + d
            ok = (j >= 0) & (j < n) & (j % 5 == r)
            coef[d + 2, ok] = col[ok]
    out = np.zeros(np.shape(g)[:-1] + (n,), dtype=np.result_type(g, np.float64))
    for d in range(-2, 3):
        lo, hi = max(0, -d), min(n, n - d)          # rows i whose column i + d exists
        if lo < hi:
            out[..., lo + d:hi + d] += coef[d + 2, lo:hi] * g[..., lo:hi]
    return out


def _gradient_T(g, f, dx, axis, edge_order):
    """Transpose in f of np.gradient(f, dx, axis=axis, edge_order=edge_order) (a list of
    arrays for several axes); dx None is unit spacing."""
    axes = _gradient_axes(f, axis)
    parts = list(g) if isinstance(g, (list, tuple)) else [g]
    out = np.zeros(np.shape(f), dtype=np.result_type(np.float64, *[np.asarray(p).dtype for p in parts]))
    for ax, gk in zip(axes, parts):
        if np.ndim(gk) == 0 and gk == 0:
            continue
        gk = np.moveaxis(np.broadcast_to(gk, np.shape(f)), ax, -1)
        out = out + np.moveaxis(_gradient_1d_T(gk, np.shape(f)[ax], dx, edge_order), -1, ax)
    return out


# ---------------------------------------------------------------------------
# the two helpers: L x and L^T g
# ---------------------------------------------------------------------------

def apply_linear(op, x, p1=None, p2=None, p3=None):
    """L x for the linear operation named op with constant parameters p1..p3."""
    if _lin_zero(x):
        return 0.0                 # the symbolic zero maps to the symbolic zero
    if op == "fft":                                   # p1 n, p2 axis, p3 norm
        return _FFT.fft(x, p1, p2, p3)
    if op == "ifft":
        return _FFT.ifft(x, p1, p2, p3)
    if op == "rfft":
        return _FFT.rfft(np.real(x), p1, p2, p3)
    if op == "irfft":
        return _FFT.irfft(x, p1, p2, p3)
    if op == "hfft":
        return _FFT.hfft(x, p1, p2, p3)
    if op == "ihfft":
        return _FFT.ihfft(np.real(x), p1, p2, p3)
    if op == "fftn":                                  # p1 s, p2 axes, p3 norm
        return _FFT.fftn(x, p1, p2, p3)
    if op == "ifftn":
        return _FFT.ifftn(x, p1, p2, p3)
    if op == "rfftn":
        return _FFT.rfftn(np.real(x), p1, p2, p3)
    if op == "irfftn":
        return _FFT.irfftn(x, p1, p2, p3)
    if op == "fftshift":                              # p1 axes
        return _FFT.fftshift(x, p1)
    if op == "ifftshift":
        return _FFT.ifftshift(x, p1)
    if op == "rot90":                                 # p1 k, p2 axes
        return np.rot90(x, p1, p2)
    if op == "rollaxis":                              # p1 axis, p2 start
        return np.rollaxis(x, p1, p2)
    if op == "append_arr":                            # p1 values, p2 axis
        return np.append(x, np.zeros_like(p1, dtype=np.result_type(x, np.float64)), p2)
    if op == "append_values":                         # p1 arr, p2 axis
        return np.append(np.zeros_like(p1, dtype=np.result_type(x, np.float64)), x, p2)
    if op == "mask":                                  # p1 a boolean mask: x where it holds, else 0
        return np.where(p1, x, 0.0)
    if op == "as_strided":                            # p1 shape, p2 strides in elements (a copy)
        x = np.ascontiguousarray(x)
        return _WINDOWS.as_strided(x, p1, [s * x.itemsize for s in p2]).copy()
    if op == "sliding_window_view":                   # p1 window_shape, p2 axis
        return _WINDOWS.sliding_window_view(x, p1, axis=p2).copy()
    if op == "gradient":                              # p1 spacing or None, p2 axis, p3 edge_order
        out = np.gradient(x, *(() if p1 is None else (p1,)), axis=p2, edge_order=p3)
        return ListBar(out) if isinstance(out, (list, tuple)) else out
    raise ValueError(f"diffc: unknown linear operation {op!r}")


def transpose_linear(op, g, x, p1=None, p2=None, p3=None):
    """L^T g for the linear operation named op, shaped like x (pairing Re(sum(g * L x)))."""
    if _lin_zero(g):
        return np.zeros(np.shape(x))
    if op in ("fft", "ifft"):
        fn = _FFT.fft if op == "fft" else _FFT.ifft
        return real_if_real(_fit(fn(g, axis=p2, norm=p3), p2, np.shape(x)[p2]), x)
    if op == "rfft":
        return _rfft_T(g, np.shape(x)[p2], p2 % np.ndim(x), p1, p3)
    if op == "irfft":
        return _irfft_T(g, np.shape(x)[p2], p2 % np.ndim(x), p1, p3)
    if op == "hfft":                   # hfft(a) = irfft(conj(a)) scaled the other way round
        return np.conj(_irfft_T(g, np.shape(x)[p2], p2 % np.ndim(x), p1, _norm_swap(p3)))
    if op == "ihfft":                  # ihfft(x) = conj(rfft(x)) scaled the other way round
        return _rfft_T(np.conj(g), np.shape(x)[p2], p2 % np.ndim(x), p1, _norm_swap(p3))
    if op in ("fftn", "ifftn"):
        s, axes = _axes_of(x, p1, p2)
        out = (_FFT.fftn if op == "fftn" else _FFT.ifftn)(g, axes=axes, norm=p3)
        for a in axes:
            out = _fit(out, a, np.shape(x)[a])
        return real_if_real(out, x)
    if op == "rfftn":                  # rfftn = fft over the other axes of rfft over the last
        s, axes = _axes_of(x, p1, p2)
        inner = _FFT.fftn(g, axes=axes[:-1], norm=p3) if len(axes) > 1 else g
        for a in axes[:-1]:
            inner = _fit(inner, a, np.shape(x)[a])
        return _rfft_T(inner, np.shape(x)[axes[-1]], axes[-1], s[-1], p3)
    if op == "irfftn":                 # irfftn = irfft over the last axis of ifft over the others
        nd = np.ndim(x)
        if p2 is None:
            axes = list(range(nd)) if p1 is None else list(range(nd - len(p1), nd))
        else:
            axes = [int(a) % nd for a in p2]
        last = None if p1 is None else p1[-1]
        out = _irfft_T(g, np.shape(x)[axes[-1]], axes[-1], last, p3)
        if len(axes) > 1:
            out = _FFT.ifftn(out, axes=axes[:-1], norm=p3)
            for a in axes[:-1]:
                out = _fit(out, a, np.shape(x)[a])
        return out
    if op == "fftshift":
        return _FFT.ifftshift(g, p1)
    if op == "ifftshift":
        return _FFT.fftshift(g, p1)
    if op == "rot90":
        return np.rot90(g, -p1, p2)
    if op == "rollaxis":
        return np.transpose(g, np.argsort(_rollaxis_perm(np.ndim(x), p1, p2)))
    if op == "append_arr":
        if p2 is None:
            return np.reshape(np.ravel(g)[:np.size(x)], np.shape(x))
        return np.take(g, np.arange(np.shape(x)[p2]), axis=p2)
    if op == "append_values":
        if p2 is None:
            return np.reshape(np.ravel(g)[np.size(p1):], np.shape(x))
        m = np.shape(p1)[p2]
        return np.take(g, np.arange(m, m + np.shape(x)[p2]), axis=p2)
    if op == "mask":
        return np.where(p1, g, 0.0)
    if op == "as_strided":
        return _window_T(g, x, p1, p2)
    if op == "sliding_window_view":
        return _sliding_T(g, x, p1, p2)
    if op == "gradient":
        return _gradient_T(g, x, p1, p2, p3)
    raise ValueError(f"diffc: unknown linear operation {op!r}")


def _lin_zero(v):
    """The symbolic zero (a plain number 0 standing for a zero array)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0


def dense_tangent(d, x):
    """The tangent d of x widened to x's full shape (tangents may arrive broadcast-smaller,
    or as 0.0 for a constant); a list x gets its tangents stacked."""
    if isinstance(x, (list, tuple)):
        if isinstance(d, (list, tuple)):
            return np.array([np.broadcast_to(di, np.shape(xi)) for di, xi in zip(d, x)])
        return np.broadcast_to(d, np.shape(x)).astype(np.result_type(d, np.float64))
    if np.shape(d) == np.shape(x):
        return d
    return np.broadcast_to(d, np.shape(x)).astype(np.result_type(d, np.float64))


def shaped_like(g, x):
    """The gradient g in the structure of x: a ListBar for a list or tuple x."""
    if isinstance(x, (list, tuple)):
        g = np.broadcast_to(g, np.shape(x))
        return ListBar(shaped_like(g[k], xk) for k, xk in enumerate(x))
    return g


def unbroadcast_to(g, d):
    """g summed down to the shape of d (the transpose of broadcasting d)."""
    return unbroadcast(np.asarray(g) if isinstance(g, list) else g, d)


nondiff(_rollaxis_perm, _axes_of, _gradient_axes, strided_layout)


# ---------------------------------------------------------------------------
# rules of the helpers (any order).  The array a helper reads for its shape or dtype
# only (x of transpose_linear, dense_tangent, shaped_like; d of unbroadcast_to) and the
# constant parameters p1..p3 get the explicit no-contribution None: their derivative is
# zero (the rules of the NumPy functions refuse a differentiated p at first order).
# ---------------------------------------------------------------------------

@tangent(apply_linear)
def _(result, op, x, p1=None, p2=None, p3=None, x_dot=None):
    return apply_linear(op, dense_tangent(x_dot, x), p1, p2, p3)


@adjoint(apply_linear)
def _(result, result_bar, op, x, p1=None, p2=None, p3=None):
    return None, transpose_linear(op, result_bar, x, p1, p2, p3), None, None, None


@tangent(transpose_linear)
def _(result, op, g, x, p1=None, p2=None, p3=None, g_dot=None):
    return transpose_linear(op, g_dot, x, p1, p2, p3)


@adjoint(transpose_linear)
def _(result, result_bar, op, g, x, p1=None, p2=None, p3=None):
    return None, apply_linear(op, result_bar, p1, p2, p3), None, None, None, None


linear(dense_tangent)


@adjoint(dense_tangent)
def _(result, result_bar, d, x):
    return unbroadcast_to(result_bar, d), None


linear(shaped_like)


@adjoint(shaped_like)
def _(result, result_bar, g, x):
    return dense_tangent(result_bar, x), None


linear(unbroadcast_to)


@adjoint(unbroadcast_to)
def _(result, result_bar, g, d):
    return dense_tangent(result_bar, g), None


# ---------------------------------------------------------------------------
# the NumPy functions
# ---------------------------------------------------------------------------

@adjoint(_FFT.fft)
def _(result, result_bar, a, n=None, axis=-1, norm=None, out=None):
    return transpose_linear("fft", result_bar, a, n, axis, norm)


@tangent(_FFT.fft)
def _(result, a, n=None, axis=-1, norm=None, out=None, a_dot=None):
    return apply_linear("fft", dense_tangent(a_dot, a), n, axis, norm)


@adjoint(_FFT.ifft)
def _(result, result_bar, a, n=None, axis=-1, norm=None, out=None):
    return transpose_linear("ifft", result_bar, a, n, axis, norm)


@tangent(_FFT.ifft)
def _(result, a, n=None, axis=-1, norm=None, out=None, a_dot=None):
    return apply_linear("ifft", dense_tangent(a_dot, a), n, axis, norm)


@adjoint(_FFT.rfft)
def _(result, result_bar, a, n=None, axis=-1, norm=None, out=None):
    return transpose_linear("rfft", result_bar, a, n, axis, norm)


@tangent(_FFT.rfft)
def _(result, a, n=None, axis=-1, norm=None, out=None, a_dot=None):
    return apply_linear("rfft", dense_tangent(a_dot, a), n, axis, norm)


@adjoint(_FFT.irfft)
def _(result, result_bar, a, n=None, axis=-1, norm=None, out=None):
    return transpose_linear("irfft", result_bar, a, n, axis, norm)


@tangent(_FFT.irfft)
def _(result, a, n=None, axis=-1, norm=None, out=None, a_dot=None):
    return apply_linear("irfft", dense_tangent(a_dot, a), n, axis, norm)


@adjoint(_FFT.hfft)
def _(result, result_bar, a, n=None, axis=-1, norm=None, out=None):
    return transpose_linear("hfft", result_bar, a, n, axis, norm)


@tangent(_FFT.hfft)
def _(result, a, n=None, axis=-1, norm=None, out=None, a_dot=None):
    return apply_linear("hfft", dense_tangent(a_dot, a), n, axis, norm)


@adjoint(_FFT.ihfft)
def _(result, result_bar, a, n=None, axis=-1, norm=None, out=None):
    return transpose_linear("ihfft", result_bar, a, n, axis, norm)


@tangent(_FFT.ihfft)
def _(result, a, n=None, axis=-1, norm=None, out=None, a_dot=None):
    return apply_linear("ihfft", dense_tangent(a_dot, a), n, axis, norm)


@adjoint(_FFT.fftn)
def _(result, result_bar, a, s=None, axes=None, norm=None, out=None):
    return transpose_linear("fftn", result_bar, a, s, axes, norm)


@tangent(_FFT.fftn)
def _(result, a, s=None, axes=None, norm=None, out=None, a_dot=None):
    return apply_linear("fftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.ifftn)
def _(result, result_bar, a, s=None, axes=None, norm=None, out=None):
    return transpose_linear("ifftn", result_bar, a, s, axes, norm)


@tangent(_FFT.ifftn)
def _(result, a, s=None, axes=None, norm=None, out=None, a_dot=None):
    return apply_linear("ifftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.fft2)
def _(result, result_bar, a, s=None, axes=(-2, -1), norm=None, out=None):
    return transpose_linear("fftn", result_bar, a, s, axes, norm)


@tangent(_FFT.fft2)
def _(result, a, s=None, axes=(-2, -1), norm=None, out=None, a_dot=None):
    return apply_linear("fftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.ifft2)
def _(result, result_bar, a, s=None, axes=(-2, -1), norm=None, out=None):
    return transpose_linear("ifftn", result_bar, a, s, axes, norm)


@tangent(_FFT.ifft2)
def _(result, a, s=None, axes=(-2, -1), norm=None, out=None, a_dot=None):
    return apply_linear("ifftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.rfftn)
def _(result, result_bar, a, s=None, axes=None, norm=None, out=None):
    return transpose_linear("rfftn", result_bar, a, s, axes, norm)


@tangent(_FFT.rfftn)
def _(result, a, s=None, axes=None, norm=None, out=None, a_dot=None):
    return apply_linear("rfftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.rfft2)
def _(result, result_bar, a, s=None, axes=(-2, -1), norm=None, out=None):
    return transpose_linear("rfftn", result_bar, a, s, axes, norm)


@tangent(_FFT.rfft2)
def _(result, a, s=None, axes=(-2, -1), norm=None, out=None, a_dot=None):
    return apply_linear("rfftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.irfftn)
def _(result, result_bar, a, s=None, axes=None, norm=None, out=None):
    return transpose_linear("irfftn", result_bar, a, s, axes, norm)


@tangent(_FFT.irfftn)
def _(result, a, s=None, axes=None, norm=None, out=None, a_dot=None):
    return apply_linear("irfftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.irfft2)
def _(result, result_bar, a, s=None, axes=(-2, -1), norm=None, out=None):
    return transpose_linear("irfftn", result_bar, a, s, axes, norm)


@tangent(_FFT.irfft2)
def _(result, a, s=None, axes=(-2, -1), norm=None, out=None, a_dot=None):
    return apply_linear("irfftn", dense_tangent(a_dot, a), s, axes, norm)


@adjoint(_FFT.fftshift)
def _(result, result_bar, x, axes=None):
    return transpose_linear("fftshift", result_bar, x, axes)


@tangent(_FFT.fftshift)
def _(result, x, axes=None, x_dot=None):
    return apply_linear("fftshift", dense_tangent(x_dot, x), axes)


@adjoint(_FFT.ifftshift)
def _(result, result_bar, x, axes=None):
    return transpose_linear("ifftshift", result_bar, x, axes)


@tangent(_FFT.ifftshift)
def _(result, x, axes=None, x_dot=None):
    return apply_linear("ifftshift", dense_tangent(x_dot, x), axes)


@adjoint(np.rot90)
def _(result, result_bar, m, k=1, axes=(0, 1)):
    return shaped_like(transpose_linear("rot90", result_bar, m, k, axes), m)


@tangent(np.rot90)
def _(result, m, k=1, axes=(0, 1), m_dot=None):
    return apply_linear("rot90", dense_tangent(m_dot, m), k, axes)


@adjoint(np.rollaxis)
def _(result, result_bar, a, axis, start=0):
    return transpose_linear("rollaxis", result_bar, a, axis, start)


@tangent(np.rollaxis)
def _(result, a, axis, start=0, a_dot=None):
    return apply_linear("rollaxis", dense_tangent(a_dot, a), axis, start)


@adjoint(np.append)
def _(result, result_bar, arr, values, axis=None):
    return (shaped_like(transpose_linear("append_arr", result_bar, arr, values, axis), arr),
            shaped_like(transpose_linear("append_values", result_bar, values, arr, axis), values))


@tangent(np.append)
def _(result, arr, values, axis=None, arr_dot=None, values_dot=None):
    return (apply_linear("append_arr", dense_tangent(arr_dot, arr), values, axis)
            + apply_linear("append_values", dense_tangent(values_dot, values), arr, axis))


# nan_to_num: the identity on finite entries, a constant on nan and +-inf
@adjoint(np.nan_to_num)
def _(result, result_bar, x, copy=True, nan=0.0, posinf=None, neginf=None):
    return transpose_linear("mask", result_bar, x, np.isfinite(x))


@tangent(np.nan_to_num)
def _(result, x, copy=True, nan=0.0, posinf=None, neginf=None, x_dot=None):
    return apply_linear("mask", dense_tangent(x_dot, x), np.isfinite(x))


# real_if_close returns Re(a) when every imaginary part is negligible, else a: a real
# result pairs with Re(t), so the adjoint is the identity either way
@adjoint(np.real_if_close)
def _(result, result_bar, a, tol=100):
    return result_bar


@tangent(np.real_if_close)
def _(result, a, tol=100, a_dot=None):
    return real_if_real(dense_tangent(a_dot, a), result)


@adjoint(_WINDOWS.as_strided)
def _(result, result_bar, x, shape=None, strides=None, subok=False, writeable=True):
    layout = strided_layout(x, result)
    return transpose_linear("as_strided", result_bar, x, layout[0], layout[1])


@tangent(_WINDOWS.as_strided)
def _(result, x, shape=None, strides=None, subok=False, writeable=True, x_dot=None):
    layout = strided_layout(x, result)
    return apply_linear("as_strided", dense_tangent(x_dot, x), layout[0], layout[1])


@adjoint(_WINDOWS.sliding_window_view)
def _(result, result_bar, x, window_shape, axis=None, subok=False, writeable=False):
    return transpose_linear("sliding_window_view", result_bar, x, window_shape, axis)


@tangent(_WINDOWS.sliding_window_view)
def _(result, x, window_shape, axis=None, subok=False, writeable=False, x_dot=None):
    return apply_linear("sliding_window_view", dense_tangent(x_dot, x), window_shape, axis)


# np.gradient(f, dx, axis=..., edge_order=...): linear in f; at most one spacing (a number,
# or the coordinates of a 1-d f), a constant; several spacings are refused (too many arguments)
@adjoint(np.gradient)
def _(result, result_bar, f, dx=None, axis=None, edge_order=1):
    return transpose_linear("gradient", result_bar, f, dx, axis, edge_order)


@tangent(np.gradient)
def _(result, f, dx=None, axis=None, edge_order=1, f_dot=None, dx_dot=None):
    return (apply_linear("gradient", dense_tangent(f_dot, f), dx, axis, edge_order)
            + no_derivative(dx_dot, "np.gradient with respect to its spacing"))
