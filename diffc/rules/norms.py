"""Rules for np.linalg.norm (vector and matrix norms, every ord, axis, keepdims).

Input: nothing (imported by rules/numpy_rules.py).  Output: the adjoint and tangent rules
of np.linalg.norm, its helpers (``_norm_bar``, ``_norm_jvp``, ``_norm_setup``...) and
rules of any order for them.  The ``inf``-norms split the gradient evenly among tied
elements; the nuclear and 2-norms go through the SVD (distinct singular values).
Conventions: rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, nondiff, tangent
from .complex_rules import abs_slope, real_cotangent
from ..runtime import is_duck_array, unbroadcast
from .shared import (is_zero as _zero, bcast as _bcast, full as _full, like as _like,
                     unreduce as _unreduce, full_T as _full_T)
from ..errors import NotDifferentiable


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


# --- norms -------------------------------------------------------------------

def _norm_setup(x, ord, axis):
    """(axes reduced, matrix norm?) for np.linalg.norm(x, ord, axis)."""
    nd = np.ndim(x)
    if axis is None:
        if ord is None:
            return tuple(range(nd)), False
        if nd == 1:
            return (0,), False
        return (0, 1), True
    if isinstance(axis, (tuple, list)):
        axes = tuple(int(a) % nd for a in axis)
        return axes, len(axes) == 2
    return (int(axis) % nd,), False


def _split_ties(mask, axes):
    return mask / np.sum(mask, axis=axes, keepdims=True)


def _norm_grad(x, ord, axis, keepdims, result):
    """d norm(x) / d x, shaped like x (subgradients: 0 at 0, ties split evenly)."""
    duck = is_duck_array(x)             # Dask/CuPy: no out=/where= (np.where instead), zeros_like
    x = np.asarray(x) if isinstance(x, (list, tuple)) else x
    x = x.astype(np.result_type(x, np.float64)) if duck else np.asarray(x, dtype=np.result_type(x, np.float64))
    axes, matrix = _norm_setup(x, ord, axis)
    r = _unreduce(result, x, axes, keepdims)
    if not matrix:
        if ord is None or ord == 2 or ord == "fro":
            if duck:
                return np.where(r != 0, x / np.where(r != 0, r, 1.0), 0.0)
            return np.divide(x, r, out=np.zeros(x.shape, dtype=x.dtype), where=np.broadcast_to(r != 0, x.shape))
        if ord == 1:
            return np.sign(x)
        if ord == np.inf or ord == -np.inf:
            return np.sign(x) * _split_ties(np.abs(x) == r, axes)
        if ord == 0:
            return np.zeros_like(x)
        p = float(ord)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sign(x) * np.abs(x) ** (p - 1.0) / r ** (p - 1.0)
        return np.where(np.isfinite(out), out, 0.0)
    i, j = axes
    xm = np.moveaxis(x, (i, j), (-2, -1))
    if ord is None or ord == "fro" or ord == "f":
        rm = _unreduce(result, x, axes, keepdims)
        if duck:
            return np.where(rm != 0, x / np.where(rm != 0, rm, 1.0), 0.0)
        return np.divide(x, rm, out=np.zeros(x.shape, dtype=x.dtype), where=np.broadcast_to(rm != 0, x.shape))
    if ord in ("nuc", 2, -2):
        u, s, vt = np.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            dm = u @ vt
        else:
            k = 0 if ord == 2 else -1
            dm = u[..., :, k:k + 1 if k == 0 else None] @ vt[..., k:k + 1 if k == 0 else None, :]
    elif ord in (1, -1):
        col = np.sum(np.abs(xm), axis=-2, keepdims=True)
        best = np.max(col, axis=-1, keepdims=True) if ord == 1 else np.min(col, axis=-1, keepdims=True)
        dm = np.sign(xm) * _split_ties(col == best, -1)
    elif ord in (np.inf, -np.inf):
        row = np.sum(np.abs(xm), axis=-1, keepdims=True)
        best = np.max(row, axis=-2, keepdims=True) if ord == np.inf else np.min(row, axis=-2, keepdims=True)
        dm = np.sign(xm) * _split_ties(row == best, -2)
    else:
        raise ValueError(f"diffc: no derivative for the matrix norm ord={ord!r}")
    return np.moveaxis(dm, (-2, -1), (i, j))


def _norm_bar(g, x, ord, axis, keepdims, result):
    axes, _ = _norm_setup(x, ord, axis)
    if np.iscomplexobj(x):      # JAX's convention: the conjugate slope, a real adjoint in
        return _unreduce(real_cotangent(g), x, axes, keepdims) * np.conj(_norm_grad(x, ord, axis, keepdims, result))
    return _like(_unreduce(g, x, axes, keepdims) * _norm_grad(x, ord, axis, keepdims, result), x)


def _norm_jvp(x, x_dot, ord, axis, keepdims, result):
    axes, _ = _norm_setup(x, ord, axis)
    if np.iscomplexobj(x):
        return np.sum(np.real(_full(x_dot, x) * np.conj(_norm_grad(x, ord, axis, keepdims, result))),
                      axis=axes, keepdims=keepdims)
    return np.sum(_full(x_dot, x) * _norm_grad(x, ord, axis, keepdims, result), axis=axes, keepdims=keepdims)


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


@adjoint(np.linalg.norm)
def _(result, result_bar, x, ord=None, axis=None, keepdims=False):
    return _norm_bar_c(result_bar, x, ord, axis, keepdims, result) if _complex_2(x, ord, axis) \
        else _norm_bar_sv(result_bar, x, ord, axis, keepdims) if _complex_sv(x, ord, axis) \
        else _norm_bar_abs(result_bar, x, ord, axis, keepdims, result) if np.iscomplexobj(x) \
        else _norm_bar(result_bar, x, ord, axis, keepdims, result)


@tangent(np.linalg.norm)
def _(result, x, ord=None, axis=None, keepdims=False, x_dot=None):
    return _norm_jvp_c(x, x_dot, ord, axis, keepdims, result) if _complex_2(x, ord, axis) \
        else _norm_jvp_sv(x, x_dot, ord, axis, keepdims) if _complex_sv(x, ord, axis) \
        else _norm_jvp_abs(x, x_dot, ord, axis, keepdims, result) if np.iscomplexobj(x) \
        else _norm_jvp(x, x_dot, ord, axis, keepdims, result)


# The 2-norm and Frobenius norm of a complex array, sqrt(sum(|x|^2)): plain NumPy that diffc
# differentiates again (any order), where the real formulas' higher-order rules do not apply.
def _complex_2(x, ord, axis):
    if not np.iscomplexobj(x):
        return False
    _, matrix = _norm_setup(np.asarray(x), ord, axis)
    return ord in (None, "fro") or (ord == 2 and not matrix)


def _norm_bar_c(g, x, ord, axis, keepdims, result):
    axes, _ = _norm_setup(np.asarray(x), ord, axis)
    r = _unreduce(result, x, axes, keepdims)
    safe = np.where(r == 0, 1.0, r)
    return np.where(r == 0, 0.0, _unreduce(real_cotangent(g), x, axes, keepdims) * np.conj(x) / safe)


def _norm_jvp_c(x, x_dot, ord, axis, keepdims, result):
    axes, _ = _norm_setup(np.asarray(x), ord, axis)
    r = _unreduce(result, x, axes, keepdims)
    safe = np.where(r == 0, 1.0, r)
    slope = np.where(r == 0, 0.0, np.real(_full(x_dot, x) * np.conj(x)) / safe)
    return np.sum(slope, axis=axes, keepdims=keepdims)


# The spectral (ord=2, -2) and nuclear norms of complex matrices, by their singular
# vectors: d s_k = Re(u_k^H dA v_k), so the slope is conj(u_k vh_k) (conj(U Vh) for "nuc"),
# a product free of the vectors' phase.  Plain NumPy too: svd's rules differentiate it again.
def _complex_sv(x, ord, axis):
    if not np.iscomplexobj(x):
        return False
    _, matrix = _norm_setup(np.asarray(x), ord, axis)
    return matrix and ord in (2, -2, "nuc")


def _sv_slope(x, ord, axis):
    i, j = _norm_setup(x, ord, axis)[0]
    u, s, vh = np.linalg.svd(np.moveaxis(x, (i, j), (-2, -1)), full_matrices=False)
    if ord == 2:
        dm = u[..., :, :1] @ vh[..., :1, :]
    elif ord == -2:
        dm = u[..., :, -1:] @ vh[..., -1:, :]
    else:
        dm = u @ vh
    return np.conj(np.moveaxis(dm, (-2, -1), (i, j)))


def _norm_bar_sv(g, x, ord, axis, keepdims):
    axes, _ = _norm_setup(x, ord, axis)
    return _unreduce(real_cotangent(g), x, axes, keepdims) * _sv_slope(x, ord, axis)


def _norm_jvp_sv(x, x_dot, ord, axis, keepdims):
    axes, _ = _norm_setup(x, ord, axis)
    return np.sum(np.real(_full(x_dot, x) * _sv_slope(x, ord, axis)), axis=axes, keepdims=keepdims)


# The other norms of a complex array (vector p-norms, matrix ord 1 and inf) are those of
# |x|: through the real rules (differentiable again) and the slope conj(x)/|x| of |x|.
def _norm_bar_abs(g, x, ord, axis, keepdims, result):
    return _norm_bar(g, np.abs(x), ord, axis, keepdims, result) * abs_slope(x)


def _norm_jvp_abs(x, x_dot, ord, axis, keepdims, result):
    return _norm_jvp(np.abs(x), np.real(abs_slope(x) * x_dot), ord, axis, keepdims, result)


nondiff(_complex_2, _complex_sv)
for _helper in (_norm_bar_c, _norm_jvp_c, _sv_slope, _norm_bar_sv, _norm_jvp_sv, _norm_bar_abs, _norm_jvp_abs):
    _helper.__diffc_transparent__ = True


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_split_ties, _norm_setup)


def _norm_kind(x, ord, axis):
    axes, matrix = _norm_setup(x, ord, axis)
    if matrix and ord in (None, "fro", "f"):
        return axes, "2"
    if matrix and ord in (1, -1, np.inf, -np.inf):
        return axes, "flat"
    if matrix:
        raise NotDifferentiable(f"diffc: no second derivative for the matrix norm ord={ord!r}")
    if ord is None or ord == 2 or ord == "fro":
        return axes, "2"
    if ord in (1, np.inf, -np.inf, 0):
        return axes, "flat"                       # piecewise linear: zero second derivative
    return axes, "p"


def _norm_bar_parts(g, x, ord, axis, keepdims, result):
    """(G, x, r, p, axes, kind): unreduced g and result, for d norm_grad."""
    x = np.asarray(x)
    if np.iscomplexobj(x):       # the formulas below are those of real x
        raise NotDifferentiable("diffc: second derivative of np.linalg.norm of a complex "
                                "array is not supported")
    x = x.astype(np.result_type(x, np.float64))
    axes, kind = _norm_kind(x, ord, axis)
    G = _unreduce(g, x, axes, keepdims)
    r = _unreduce(result, x, axes, keepdims)
    p = 2.0 if kind != "p" else float(ord)
    return G, x, r, p, axes, kind


def _norm_grad_dx(x, r, p, kind):
    """d norm_grad / d x (elementwise diagonal), with 0 where r == 0."""
    if kind == "flat":
        return np.zeros(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (p - 1.0) * np.abs(x) ** (p - 2.0) / r ** (p - 1.0)
    return np.where(np.isfinite(d) & (r != 0), d, 0.0)


def _norm_grad_dr(x, r, p, kind):
    """d norm_grad / d result, with 0 where r == 0."""
    if kind == "flat":
        return np.zeros(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = -(p - 1.0) * np.sign(x) * np.abs(x) ** (p - 1.0) / r ** p
    return np.where(np.isfinite(d) & (r != 0), d, 0.0)


def _norm_bar_jvp(g, x, ord, axis, keepdims, result, x_dot, result_dot):
    """The part of _norm_bar's tangent from x and result (g fixed)."""
    G, xa, r, p, axes, kind = _norm_bar_parts(g, x, ord, axis, keepdims, result)
    out = np.zeros(xa.shape)
    if not _zero(x_dot):
        out = out + G * _norm_grad_dx(xa, r, p, kind) * _full(x_dot, x)
    if not _zero(result_dot):
        out = out + G * _norm_grad_dr(xa, r, p, kind) * _unreduce(result_dot, xa, axes, keepdims)
    return _like(out, x)


def _norm_bar_adj(g, x, ord, axis, keepdims, result, rbar, which):
    """Adjoint of _norm_bar in x (which=1) or result (which=2)."""
    G, xa, r, p, axes, kind = _norm_bar_parts(g, x, ord, axis, keepdims, result)
    if which == 1:
        return _like(G * _norm_grad_dx(xa, r, p, kind) * rbar, x)
    t = np.sum(G * _norm_grad_dr(xa, r, p, kind) * rbar, axis=axes, keepdims=keepdims)
    return unbroadcast(t, result)


def _norm_jvp_jvp(x, d, ord, axis, keepdims, result, x_dot, result_dot):
    """The part of _norm_jvp's tangent from x and result (d fixed)."""
    ones = np.ones(np.shape(result))
    return np.sum(_full(d, x) * _norm_bar_jvp(ones, x, ord, axis, keepdims, result, x_dot, result_dot),
                  axis=_norm_setup(x, ord, axis)[0], keepdims=keepdims)


@tangent(_norm_bar)
def _(result, g, x, ord, axis, keepdims, norm, g_dot, x_dot, norm_dot):
    return (_norm_bar(_full(g_dot, g), x, ord, axis, keepdims, norm)
            + _norm_bar_jvp(g, x, ord, axis, keepdims, norm, x_dot, norm_dot))


@adjoint(_norm_bar)
def _(result, result_bar, g, x, ord, axis, keepdims, norm):
    return (unbroadcast(_norm_jvp(x, result_bar, ord, axis, keepdims, norm), g),
            _norm_bar_adj(g, x, ord, axis, keepdims, norm, result_bar, 1), None, None, None,
            _norm_bar_adj(g, x, ord, axis, keepdims, norm, result_bar, 2))


@tangent(_norm_jvp)
def _(result, x, d, ord, axis, keepdims, norm, x_dot, d_dot, norm_dot):
    return (_norm_jvp(x, d_dot, ord, axis, keepdims, norm)
            + _norm_jvp_jvp(x, d, ord, axis, keepdims, norm, x_dot, norm_dot))


@adjoint(_norm_jvp)
def _(result, result_bar, x, d, ord, axis, keepdims, norm):
    return (_norm_bar_adj(result_bar, x, ord, axis, keepdims, norm, _full(d, x), 1),
            _full_T(_norm_bar(result_bar, x, ord, axis, keepdims, norm), d, x), None, None, None,
            _norm_bar_adj(result_bar, x, ord, axis, keepdims, norm, _full(d, x), 2))


# --- norm: d(_norm_bar_adj) ---------------------------------------------------

def _norm_core(x, r, p, kind, which):
    """(c, dc/dx, dc/dr) for c = _norm_grad_dx (which=1) or _norm_grad_dr (which=2), 0 where r == 0."""
    if kind == "flat":
        z = np.zeros(x.shape)
        return z, z, z
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ax, sx = np.abs(x), np.sign(x)
        if which == 1:
            c = (p - 1.0) * ax ** (p - 2.0) / r ** (p - 1.0)
            cx = (p - 2.0) * (p - 1.0) * sx * ax ** (p - 3.0) / r ** (p - 1.0) if p != 2.0 else np.zeros(x.shape)
            cr = -(p - 1.0) ** 2 * ax ** (p - 2.0) / r ** p
        else:
            c = -(p - 1.0) * sx * ax ** (p - 1.0) / r ** p
            cx = -(p - 1.0) ** 2 * ax ** (p - 2.0) / r ** p
            cr = p * (p - 1.0) * sx * ax ** (p - 1.0) / r ** (p + 1.0)
    ok = r != 0
    return tuple(np.where(np.isfinite(y) & ok, y, 0.0) * np.ones(x.shape) for y in (c, cx, cr))


def _norm_bar_adj_setup(g, x, ord, axis, keepdims, result, rbar, which):
    G, xa, r, p, axes, kind = _norm_bar_parts(g, x, ord, axis, keepdims, result)
    c, cx, cr = _norm_core(xa, r, p, kind, which)
    return G, xa, _full(rbar, xa), axes, c, cx, cr


def _norm_bar_adj_dot(g, x, ord, axis, keepdims, result, rbar, which, g_dot, x_dot, result_dot, rbar_dot):
    """Tangent of _norm_bar_adj: G c(x, r) rbar (reduced over the norm's axes when which=2)."""
    G, xa, rb, axes, c, cx, cr = _norm_bar_adj_setup(g, x, ord, axis, keepdims, result, rbar, which)
    out = np.zeros(xa.shape)
    if not _zero(g_dot):
        out = out + _unreduce(_bcast(g_dot, np.shape(g)), xa, axes, keepdims) * c * rb
    if not _zero(rbar_dot):
        out = out + G * c * _full(rbar_dot, xa)
    if not _zero(x_dot):
        out = out + G * rb * cx * _full(x_dot, xa)
    if not _zero(result_dot):
        out = out + G * rb * cr * _unreduce(_bcast(result_dot, np.shape(result)), xa, axes, keepdims)
    if which == 1:
        return _like(out, x)
    return unbroadcast(np.sum(out, axis=axes, keepdims=keepdims), result)


def _norm_bar_adj_T(g, x, ord, axis, keepdims, result, rbar, which, B):
    """Adjoint of _norm_bar_adj in (g, x, result, rbar) for the cotangent B."""
    G, xa, rb, axes, c, cx, cr = _norm_bar_adj_setup(g, x, ord, axis, keepdims, result, rbar, which)
    if _zero(B):
        return 0.0, 0.0, 0.0, 0.0
    Bf = _full(B, xa) if which == 1 else _unreduce(_bcast(B, np.shape(result)), xa, axes, keepdims)
    Bf = Bf * np.ones(xa.shape)

    def red(y, like):
        return unbroadcast(np.sum(y, axis=axes, keepdims=keepdims), like)
    return (red(Bf * c * rb, g), _like(G * rb * cx * Bf, x), red(G * rb * cr * Bf, result),
            unbroadcast(G * c * Bf, rbar))


@tangent(_norm_bar_adj)
def _(result, g, x, ord, axis, keepdims, norm, rbar, which, g_dot, x_dot, norm_dot, rbar_dot):
    return _norm_bar_adj_dot(g, x, ord, axis, keepdims, norm, rbar, which, g_dot, x_dot, norm_dot, rbar_dot)


@adjoint(_norm_bar_adj)
def _(result, result_bar, g, x, ord, axis, keepdims, norm, rbar, which):
    g_x_norm_rbar = _norm_bar_adj_T(g, x, ord, axis, keepdims, norm, rbar, which, result_bar)
    return (g_x_norm_rbar[0], g_x_norm_rbar[1], None, None, None, g_x_norm_rbar[2], g_x_norm_rbar[3], None)
