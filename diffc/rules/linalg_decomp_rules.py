"""Rules for decompositions: np.linalg.svd, pinv, eig, eigvals, qr.

Input: nothing (imported by `diffc.pipeline.load_builtin_rules`).  Output: adjoint and
tangent rules for those five functions, on single matrices and stacks of them (qr: real,
mode 'reduced' or 'r', at least as many rows as columns, full column rank).

Assumptions, checked where they can be: distinct singular values / eigenvalues
(a repeated one makes the derivative undefined: the helpers raise), constant
rank for pinv.  ``svd`` of a real matrix: the derivative of U and V is the one
of NumPy's sign choice held fixed (only functions invariant to flipping a pair
of singular vectors are differentiable, as in every AD system); with
``full_matrices=True`` and a non-square matrix, the extra columns of U (or rows
of Vh) are an arbitrary basis: a non-zero adjoint reaching them is refused.
``svd`` of a complex matrix: the phase of each pair of singular vectors is
arbitrary; the adjoint must not depend on it (checked, refused otherwise); forward
mode gives the derivative of LAPACK's choice (the first entry of each right vector
real when m >= n, of each left vector when m < n; checked on the result), so any
use of the vectors downstream is differentiated as NumPy computes it.  ``eig`` follows LAPACK's
normalization (unit columns whose largest entry is real), so the derivative of
V is that of NumPy's output.

Second order and beyond: the helpers are transparent (``__diffc_transparent__``):
diffc differentiates their NumPy bodies, whose calls of svd/eig have these
rules again (tests/test_decomp_second_order.py).
"""

import numpy as np

from . import adjoint, nondiff, tangent
from .. import effects
from ..errors import NotDifferentiable
from ..runtime import ListBar
from .complex_rules import real_cotangent, real_if_real


def _mT(a):
    return np.swapaxes(a, -1, -2)


def _decomp_zero(v):
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0)


def _gaps(s2):
    """F[i, j] = 1 / (s2[j] - s2[i]) off the diagonal, 0 on it; raises on a repeated value."""
    d = s2[..., None, :] - s2[..., :, None]
    n = s2.shape[-1]
    off = ~np.eye(n, dtype=bool)
    if np.any(np.abs(d[..., off]) <= 1e-12 * max(1.0, float(np.max(np.abs(s2))) if s2.size else 1.0)):
        raise NotDifferentiable("diffc: derivative of a decomposition with repeated "
                                "singular values or eigenvalues is not defined")
    with np.errstate(divide="ignore"):
        return np.where(off, 1.0 / np.where(off, d, 1.0), 0.0)


# --- svd ----------------------------------------------------------------------
# A = U S V^H.  Complex matrices: with G = conj(ct) (the gradient for the Hermitian inner
# product; ct pairs with tangents as Re(sum(ct * t)), complex_rules.py) the real formulas
# hold with transposes made conjugate transposes, plus the phase term i Im(diag(U^H dA V))/s
# (the phase of each pair (u_i, v_i) is free: the tangent puts its change in U, and a loss
# must not depend on it -- svd_bar checks that its adjoint does not).

def _mH(a):
    return np.conj(np.swapaxes(a, -1, -2)) if np.iscomplexobj(a) else np.swapaxes(a, -1, -2)


def _conj(x):
    """conj(x), and x itself when real (a float zero adjoint stays a float: shape-free)."""
    return np.conj(x) if np.iscomplexobj(x) else x


def _svd_parts(a, result, compute_uv, full_matrices):
    """(U, s, V) reduced (k = min(m, n) columns), from the result of np.linalg.svd."""
    if not compute_uv:
        u, s, vt = svd_inside(a)
        return u, s, _mH(vt)
    u, s, vt = result
    k = s.shape[-1]
    return u[..., :, :k], s, _mH(vt[..., :k, :])


def _svd_bars(result_bar, result, compute_uv):
    """(GU, gs, GV) for the reduced factors (G = conj of the cotangent, GV that of V = Vh^H),
    refusing an adjoint on full_matrices' extra part."""
    if not compute_uv:
        return 0.0, real_cotangent(result_bar), 0.0
    gu, gs, gvt = result_bar
    u, s, vt = result
    k = s.shape[-1]
    if not _decomp_zero(gu) and np.shape(gu)[-1] > k:
        if np.any(np.asarray(gu)[..., :, k:] != 0):
            raise NotDifferentiable("diffc: svd(full_matrices=True): the extra columns of U are "
                                    "not determined by the matrix; use full_matrices=False")
        gu = np.asarray(gu)[..., :, :k]
    if not _decomp_zero(gvt) and np.shape(gvt)[-2] > k:
        if np.any(np.asarray(gvt)[..., k:, :] != 0):
            raise NotDifferentiable("diffc: svd(full_matrices=True): the extra rows of Vh are "
                                    "not determined by the matrix; use full_matrices=False")
        gvt = np.asarray(gvt)[..., :k, :]
    gu = 0.0 if _decomp_zero(gu) else _conj(gu)
    gv = 0.0 if _decomp_zero(gvt) else _mT(np.asarray(gvt))
    return gu, (0.0 if _decomp_zero(gs) else real_cotangent(gs)), gv


def _check_phase_free(ju, jv, gu, gv):
    """Refuse an adjoint that changes under u_i -> u_i e^(it), v_i -> v_i e^(it): the loss
    then depends on the arbitrary phase LAPACK gave the singular vectors."""
    drift = np.imag(np.diagonal(ju, axis1=-2, axis2=-1) + np.diagonal(jv, axis1=-2, axis2=-1))
    scale = float(np.max(np.abs(gu))) + float(np.max(np.abs(gv))) + 1e-300
    if np.any(np.abs(drift) > 1e-8 * scale):
        raise NotDifferentiable("diffc: the function depends on the phase of complex singular vectors, "
                                "which np.linalg.svd chooses arbitrarily: its derivative is not defined "
                                "(use |U|, U @ diag(s) @ Vh, projections U U^H, ...)")


def svd_bar(result_bar, a, full_matrices, compute_uv, result):
    """Adjoint of np.linalg.svd in a (distinct non-zero singular values where U or V matter)."""
    u, s, v = _svd_parts(a, result, compute_uv, full_matrices)
    gu, gs, gv = _svd_bars(result_bar, result, compute_uv)
    m, n = np.shape(a)[-2:]
    k = s.shape[-1]
    inner = 0.0
    if not _decomp_zero(gs):
        inner = inner + gs[..., :, None] * np.eye(k)
    out = 0.0
    if not (_decomp_zero(gu) and _decomp_zero(gv)):
        F = _gaps(s ** 2)
        S = s[..., None, :] * np.eye(k)
        s_inv = 1.0 / s
        ju = 0.0 if _decomp_zero(gu) else _mH(u) @ gu
        jv = 0.0 if _decomp_zero(gv) else _mH(v) @ gv
        if np.iscomplexobj(u):
            _check_phase_free(ju * np.ones((k, k)), jv * np.ones((k, k)), gu, gv)
        if not _decomp_zero(gu):
            inner = inner + (F * (ju - _mH(ju))) @ S
            if np.iscomplexobj(u):
                inner = inner + 1j * (np.imag(np.diagonal(ju, axis1=-2, axis2=-1)) * s_inv)[..., None, :] \
                    * np.eye(k)
            if m > k:
                out = out + (gu - u @ ju) * s_inv[..., None, :] @ _mH(v)
        if not _decomp_zero(gv):
            inner = inner + S @ (F * (jv - _mH(jv)))
            if n > k:
                out = out + (u * s_inv[..., None, :]) @ (_mH(gv) - _mH(jv) @ _mH(v))
    if np.ndim(inner) == 0 and inner == 0.0:
        return real_if_real(_conj(out + 0.0 * a), a)
    return real_if_real(_conj(u @ inner @ _mH(v) + out), a)


def svd_inside(a):
    """np.linalg.svd(a, full_matrices=False) where only U diag(.) V^H is formed from its vectors
    (the adjoint of the singular values): phase-free, so forward mode may fix the phase."""
    return np.linalg.svd(a, full_matrices=False)


def svd_jvp(a, a_dot, full_matrices, compute_uv, result, phase_free=False):
    """Tangent of np.linalg.svd: ds = Re diag(U^H dA V); dU, dV from the gaps of s^2."""
    u, s, v = _svd_parts(a, result, compute_uv, full_matrices)
    da = np.broadcast_to(a_dot, np.shape(a))
    P = _mH(u) @ da @ v
    ds = np.real(np.diagonal(P, axis1=-2, axis2=-1)).copy()
    if not compute_uv:
        return ds
    if full_matrices and np.shape(a)[-1] != np.shape(a)[-2]:
        raise NotDifferentiable("diffc: forward-mode derivative of svd(full_matrices=True) of a "
                                "non-square matrix is not determined; use full_matrices=False")
    F = _gaps(s ** 2)
    S = s[..., None, :] * np.eye(s.shape[-1])
    s_inv = 1.0 / s
    du = u @ (F * (P @ S + S @ _mH(P)))
    if np.iscomplexobj(u):
        # the phase of each pair: its change put in U (V^H dV has a zero diagonal)
        du = du + u * (1j * np.imag(np.diagonal(P, axis1=-2, axis2=-1)) * s_inv)[..., None, :]
    dv = v @ (F * (S @ P + _mH(P) @ S))
    m, n = np.shape(a)[-2:]
    k = s.shape[-1]
    if m > k:
        du = du + (da @ v - u @ P) * s_inv[..., None, :]
    if n > k:
        dv = dv + (_mH(da) @ u - v @ _mH(P)) * s_inv[..., None, :]
    if np.iscomplexobj(u) and not phase_free:
        turn = _lapack_phase_turn(u, v, du, dv, m >= n)
        du = du + u * turn
        dv = dv + v * turn
    return ListBar([du, ds, _mH(dv)])


def _lapack_phase_anchor(u, v, tall):
    """The entry of each singular pair LAPACK makes real: the first entry of each right vector
    (V^H[k, 0]) when m >= n, of each left one (U[0, k]) when m < n (its bidiagonal reduction
    leaves that row of V, or of U, alone).  Checked on the result: refused when NumPy's SVD
    does not follow that convention or when the entry is too small to fix the phase."""
    anchor = v[..., 0, :] if tall else u[..., 0, :]
    size = np.abs(anchor)
    if np.any(np.abs(np.imag(anchor)) > 1e-10) or np.any(size < 1e-6):
        raise NotDifferentiable("diffc: the forward-mode derivative of complex singular vectors depends "
                                "on their phase, and this SVD does not fix it as LAPACK does (first row "
                                "of V or U real and not small); use reverse mode (grad/vjp) or "
                                "compute_uv=False")
    return np.real(anchor)


def _lapack_phase_turn(u, v, du, dv, tall):
    """i dphi (one per singular pair, as a row) turning the tangent (du, dv) of the pairs to
    LAPACK's phase convention (the anchor entry stays real)."""
    anchor = _lapack_phase_anchor(u, v, tall)
    moved = dv[..., 0, :] if tall else du[..., 0, :]
    return (1j * (-np.imag(moved) / anchor))[..., None, :]


@adjoint(svd_inside)
def _(result, result_bar, a):
    return svd_bar(result_bar, a, False, True, result)


@tangent(svd_inside)
def _(result, a, a_dot):
    return svd_jvp(a, a_dot, False, True, result, True)


@adjoint(np.linalg.svd)
def _(result, result_bar, a, full_matrices=True, compute_uv=True, hermitian=False):
    return svd_bar(result_bar, a, full_matrices, compute_uv, result)


@tangent(np.linalg.svd)
def _(result, a, full_matrices=True, compute_uv=True, hermitian=False, a_dot=None):
    return svd_jvp(a, a_dot, full_matrices, compute_uv, result)


# --- pinv (constant rank) -------------------------------------------------------

def pinv_bar(g, a, result):
    """Adjoint of pinv (constant rank).  With G = conj(g) (see svd above) the gradient is
    -P^H G P^H + (I - A P) G^H P P^H + P^H P G^H (I - P A); the adjoint is its conj."""
    p = result
    m, n = np.shape(a)[-2:]
    G = _conj(g)
    pa = p @ a                      # n x n
    ap = a @ p                      # m x m
    grad = (-_mH(p) @ G @ _mH(p) + (np.eye(m) - ap) @ _mH(G) @ p @ _mH(p)
            + _mH(p) @ p @ _mH(G) @ (np.eye(n) - pa))
    return real_if_real(_conj(grad), a)


def pinv_jvp(a, a_dot, result):
    p = result
    da = np.broadcast_to(a_dot, np.shape(a))
    m, n = np.shape(a)[-2:]
    return (-p @ da @ p + p @ _mH(p) @ _mH(da) @ (np.eye(m) - a @ p)
            + (np.eye(n) - p @ a) @ _mH(da) @ _mH(p) @ p)


@adjoint(np.linalg.pinv)
def _(result, result_bar, a, rcond=None, hermitian=False, rtol=None):
    return pinv_bar(result_bar, a, result)


@tangent(np.linalg.pinv)
def _(result, a, rcond=None, hermitian=False, rtol=None, a_dot=None):
    return pinv_jvp(a, a_dot, result)


# --- eig, eigvals -----------------------------------------------------------------
# A V = V diag(w); M = V^-1 dA V gives dw = diag(M) and dV0 = V (F o M), F[i, j] = 1/(w_j - w_i);
# LAPACK's normalization (unit columns, largest entry real) then removes from dV0 the part
# along each column that changes its norm and its phase.

def _largest(v):
    """Index (per column) of the entry of largest modulus: LAPACK makes it real."""
    return np.argmax(np.abs(v), axis=-2)


def eig_jvp(a, a_dot, result, vectors):
    w, v = (result[0], result[1]) if vectors else (np.linalg.eig(a)[0], np.linalg.eig(a)[1])
    da = np.broadcast_to(a_dot, np.shape(a))
    vinv = np.linalg.inv(v)
    M = vinv @ da @ v
    dw = np.diagonal(M, axis1=-2, axis2=-1).copy()
    dw = dw if np.iscomplexobj(w) else np.real(dw)
    if not vectors:
        return dw
    F = _gaps(w)
    dv = v @ (F * M)
    dv = dv - v * np.real(np.sum(np.conj(v) * dv, axis=-2, keepdims=True))
    if np.iscomplexobj(v):
        p = _largest(v)
        vp = np.take_along_axis(v, p[..., None, :], axis=-2)
        dvp = np.take_along_axis(dv, p[..., None, :], axis=-2)
        dv = dv - 1j * (np.imag(dvp) / np.real(vp)) * v
    else:
        dv = np.real(dv)
    return ListBar([dw, dv])


def eig_bar(result_bar, a, result, vectors):
    if vectors:
        w, v = result[0], result[1]
        gw, gv = result_bar[0], result_bar[1]
    else:
        w, v = np.linalg.eig(a)
        gw, gv = result_bar, 0.0
    vinv = np.linalg.inv(v)
    n = np.shape(a)[-1]
    gM = 0.0
    if not _decomp_zero(gw):
        gM = gM + np.asarray(gw)[..., :, None] * np.eye(n)
    if not _decomp_zero(gv):
        g1 = np.asarray(gv)
        if np.iscomplexobj(v):
            g1 = g1 + 0j                  # (kept real for real v: its own adjoint stays real)
            p = _largest(v)
            vp = np.real(np.take_along_axis(v, p[..., None, :], axis=-2))
            c = np.imag(np.sum(g1 * v, axis=-2, keepdims=True)) / vp
            onehot = (np.arange(n)[:, None] == p[..., None, :])
            g1 = g1 - 1j * c * onehot
        g0 = g1 - np.real(np.sum(g1 * v, axis=-2, keepdims=True)) * np.conj(v)
        gM = gM + _gaps(w) * (_mT(v) @ g0)
    out = _mT(vinv) @ gM @ _mT(v)
    return real_if_real(out, a)


@adjoint(np.linalg.eig)
def _(result, result_bar, a):
    return eig_bar(result_bar, a, result, True)


@tangent(np.linalg.eig)
def _(result, a, a_dot):
    return eig_jvp(a, a_dot, result, True)


@adjoint(np.linalg.eigvals)
def _(result, result_bar, a):
    return eig_bar(result_bar, a, result, False)


@tangent(np.linalg.eigvals)
def _(result, a, a_dot):
    return eig_jvp(a, a_dot, result, False)


# --- qr -----------------------------------------------------------------------
# A = Q R (reduced, m >= n: Q m x n with orthonormal columns, R n x n upper triangular,
# invertible for full column rank).  dA = dQ R + Q dR; with C = Q^T dA R^-1 and L its
# strictly lower part, Q^T dQ = L - L^T on the column space, dR = (C - L + L^T) R and
# dQ = (dA - Q dR) R^-1.  Transposed: M = R Rb^T - Qb^T Q, Ab = (Qb + Q sym(M)) R^-T with
# sym(M) = tril(M) + tril(M, -1)^T.  The derivative is that of NumPy's sign choice (LAPACK's
# Householder signs, held fixed: they are constant where R's diagonal has no zero).


def _qr_check(a, mode):
    if np.iscomplexobj(a):
        raise NotDifferentiable("diffc: np.linalg.qr of a complex matrix is not differentiated")
    m, n = np.shape(a)[-2:]
    if m < n or (mode == "complete" and m != n) or mode not in ("reduced", "complete", "r"):
        raise NotDifferentiable(f"diffc: np.linalg.qr is differentiated for mode='reduced' (or 'r') of a "
                                f"matrix with at least as many rows as columns, not mode={mode!r} of "
                                f"a {m}x{n} matrix")


def _qr_factors(a, result, mode):
    """(Q, R) of a, from the result (mode 'r' gives R only: Q is computed again)."""
    if mode == "r":
        q, r = np.linalg.qr(a)
    else:
        q, r = result[0], result[1]
    _qr_full_rank(r)
    return q, r


def _qr_full_rank(r):
    d = np.abs(np.diagonal(r, axis1=-2, axis2=-1))
    if np.any(d <= 1e-12 * max(1.0, float(np.max(d)) if d.size else 1.0)):
        raise NotDifferentiable("diffc: the derivative of np.linalg.qr needs a matrix of full column rank "
                                "(R has a zero on its diagonal)")


def _right_solve(x, r):
    """x @ inv(r)."""
    return _mT(np.linalg.solve(_mT(r), _mT(x)))


def qr_jvp(a, a_dot, result, mode):
    """Tangent of np.linalg.qr: a ListBar (dQ, dR), or dR for mode='r'."""
    _qr_check(a, mode)
    q, r = _qr_factors(a, result, mode)
    c = _mT(q) @ _right_solve(a_dot, r)
    low = np.tril(c, -1)
    r_dot = (c - low + _mT(low)) @ r
    if mode == "r":
        return r_dot
    q_dot = _right_solve(a_dot - q @ r_dot, r)
    return ListBar([q_dot, r_dot])


def qr_bar(result_bar, a, result, mode):
    """Adjoint of np.linalg.qr in a."""
    _qr_check(a, mode)
    q, r = _qr_factors(a, result, mode)
    gq, gr = (0.0, result_bar) if mode == "r" else (result_bar[0], result_bar[1])
    m = 0.0
    if not _decomp_zero(gr):
        m = r @ _mT(gr)
    if not _decomp_zero(gq):
        m = m - _mT(gq) @ q
    if _decomp_zero(m):
        return np.zeros(np.shape(a))
    low = np.tril(m, -1)
    inner = q @ (np.tril(m) + _mT(low))
    if not _decomp_zero(gq):
        inner = inner + gq
    return _mT(np.linalg.solve(r, _mT(inner)))


@adjoint(np.linalg.qr)
def _(result, result_bar, a, mode="reduced"):
    return qr_bar(result_bar, a, result, mode)


@tangent(np.linalg.qr)
def _(result, a, mode="reduced", a_dot=None):
    return qr_jvp(a, a_dot, result, mode)


# Second order and beyond: diffc differentiates the helpers' own bodies (NumPy code whose
# rules are these again); the index of each column's largest entry is a constant.
for _helper in (_mT, _mH, _conj, _gaps, _svd_parts, _svd_bars, svd_bar, svd_jvp, pinv_bar, pinv_jvp, eig_jvp, eig_bar,
                _lapack_phase_anchor, _lapack_phase_turn, _qr_factors, _right_solve, qr_jvp, qr_bar):
    _helper.__diffc_transparent__ = True
nondiff(_largest, _decomp_zero, _check_phase_free, _qr_check, _qr_full_rank)
# (a check: never dropped, also where diffc reads svd_bar's body for a second derivative)
effects.declare(_check_phase_free, _qr_check, _qr_full_rank, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))
