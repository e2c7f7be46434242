"""Rules for np.linalg.cholesky, eigh, eigvalsh and lstsq, to any order.

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions, their helpers and rules of any order for the helpers.  cholesky, eigh
and eigvalsh read one triangle of ``a`` (the lower one unless told otherwise): the
gradient is w.r.t. the entries actually read (``_sym_from`` builds the symmetric matrix
LAPACK sees, ``_sym_read`` is its transpose).  eigh's eigenvectors need distinct
eigenvalues; lstsq is differentiated through x, residuals and s where ``a`` has full
rank (pseudo-inverse of constant rank, thin SVD with distinct singular values).
svd, pinv, eig and eigvals (first order) are in rules/linalg_decomp_rules.py.
Conventions: rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, nondiff, tangent
from .complex_rules import (real_cotangent, cholesky_bar_complex, cholesky_jvp_complex, eigh_bar_complex,
                            eigh_jvp_complex, eigvalsh_bar_complex, eigvalsh_jvp_complex)
from ..runtime import ListBar, is_duck_array, unbroadcast
from .shared import (is_zero as _zero, bcast as _bcast, arr as _arr, zeros_of as _zeros_of,
                     full as _full, swap_last_axes as _T, seq as _seq, full_T as _full_T,
                     col as _col, uncol as _uncol, mat as _mat)
from ..errors import NotDifferentiable


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


def _eye_like(x):
    return np.asarray(np.eye(np.shape(x)[-1]), like=_arr(x))    # Dask's eye takes no like=


def _phi(x):
    """Lower triangle of x with the diagonal halved."""
    return np.tril(x) - 0.5 * x * _eye_like(x)


def _no_complex(a, name):
    if np.iscomplexobj(a):
        raise NotDifferentiable(f"diffc: the derivative of {name} of a complex matrix is not supported")


def _H(x):
    """The conjugate transpose of (stacks of) matrices; the transpose of real ones."""
    return _T(np.conj(x)) if np.iscomplexobj(x) else _T(x)


def _sym_read(G, lower):
    """Gradient w.r.t. a matrix of which only one triangle is read (as LAPACK does),
    given the gradient G w.r.t. the symmetric (Hermitian: G Hermitian, the diagonal
    read as real) matrix built from that triangle."""
    S = G + _H(G)
    half = G * _eye_like(G)
    return (np.tril(S) if lower else np.triu(S)) - half


def _sym_from(x, lower):
    """The symmetric (complex x: Hermitian, real diagonal) matrix LAPACK sees when it
    reads one triangle of x."""
    if np.iscomplexobj(x):
        part = np.tril(x, -1) if lower else np.triu(x, 1)
        return part + _H(part) + np.real(x * _eye_like(x))
    if lower:
        return np.tril(x) + _T(np.tril(x, -1))
    return np.triu(x) + _T(np.triu(x, 1))


def _chol_reads_lower(upper):
    return not upper


def _cholesky_bar(g, a, result, upper):
    _no_complex(a, "np.linalg.cholesky")
    L = _T(result) if upper else result
    gL = _T(g) if upper else g
    Linv = np.linalg.inv(L)
    S = _T(Linv) @ _phi(_T(L) @ gL) @ Linv
    return _sym_read(0.5 * (S + _T(S)), _chol_reads_lower(upper))


def _cholesky_jvp(a, a_dot, result, upper):
    _no_complex(a, "np.linalg.cholesky")
    L = _T(result) if upper else result
    dA = _sym_from(_full(a_dot, a), _chol_reads_lower(upper))
    Linv = np.linalg.inv(L)
    dL = L @ _phi(Linv @ dA @ _T(Linv))
    return _T(dL) if upper else dL


def _eig_gaps(w):
    """F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it and between (numerically)
    equal eigenvalues: eigenvectors of a repeated eigenvalue are not differentiable,
    and 0 is right when the function does not depend on the choice of basis."""
    diff = w[..., None, :] - w[..., :, None]
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] if w.size else 1.0
    ok = np.abs(diff) > 1e-10 * np.maximum(scale, 1e-300)
    return np.where(ok, 1.0 / np.where(ok, diff, 1.0), 0.0)


def _eigh_bar(result_bar, a, result, UPLO):
    w, V = result[0], result[1]
    gw = result_bar[0]
    gV = result_bar[1] if len(result_bar) > 1 else 0.0
    G = _zeros_of(a) if not np.iscomplexobj(V) else np.zeros(np.shape(a), dtype=V.dtype)
    # complex (Hermitian) a: G = conj(V) (diag(gw) + F o (V^T gV)) V^T under the pairing
    # Re(sum(ct * t)) (complex_rules.py); V is real otherwise and conj(V) is V
    Vc = np.conj(V) if np.iscomplexobj(V) else V
    if not _zero(gw):
        G = G + (Vc * real_cotangent(_arr(gw))[..., None, :]) @ _T(V)
    if not _zero(gV) and (is_duck_array(gV) or np.any(gV)):
        G = G + Vc @ (_eig_gaps(w) * (_T(V) @ gV)) @ _T(V)
    return _sym_read(0.5 * (G + _H(G)), UPLO.upper() == "L")


def _eigh_jvp(a, a_dot, result, UPLO):
    w, V = result[0], result[1]
    dA = _sym_from(_full(a_dot, a), UPLO.upper() == "L")
    M = _H(V) @ dA @ V
    dw = np.diagonal(M, axis1=-2, axis2=-1).copy()
    return ListBar([np.real(dw) if np.iscomplexobj(dw) else dw, V @ (_eig_gaps(w) * M)])


def _eigvalsh_bar(g, a, UPLO):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    return _eigh_bar([g, 0.0], a, (w, V), UPLO)


def _eigvalsh_jvp(a, a_dot, UPLO):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    return _eigh_jvp(a, a_dot, (w, V), UPLO)[0]


def _lstsq_parts(a, b, x):
    A = np.asarray(a)
    vec = np.ndim(b) == 1
    B = np.asarray(b)[:, None] if vec else np.asarray(b)
    X = np.asarray(x)[:, None] if vec else np.asarray(x)
    P = np.linalg.pinv(A)
    R = B - A @ X
    return A, B, X, P, R, vec


def _lstsq_bar(result_bar, a, b, result, which):
    """Adjoint of lstsq in a (which=0) or b (which=1), through the solution (the
    pseudo-inverse solution), the residuals and the singular values (rank is an int)."""
    A, B, X, P, R, vec = _lstsq_parts(a, b, result[0])
    gx = result_bar[0]
    gr = result_bar[1] if len(result_bar) > 1 else 0.0
    n = A.shape[1]
    ga = np.zeros(A.shape)
    gb = np.zeros(B.shape)
    if not _zero(gx):
        GX = np.asarray(gx)[:, None] if vec else np.asarray(gx)
        gb = gb + P.T @ GX
        ga = ga - P.T @ GX @ X.T + R @ GX.T @ P @ P.T + (P.T @ X) @ GX.T @ (np.eye(n) - P @ A)
    if not _zero(gr) and np.size(result[1]):
        GR = np.asarray(gr)
        ga = ga - 2.0 * (R * GR) @ X.T
        gb = gb + 2.0 * R * GR
    gs = result_bar[3] if len(result_bar) > 3 else 0.0
    if not _zero(gs):
        u, _, vt = np.linalg.svd(A, full_matrices=False)
        ga = ga + (u * np.asarray(gs)) @ vt
    if which == 0:
        return ga
    return gb[:, 0] if vec else gb


def _lstsq_jvp(a, b, result, a_dot, b_dot):
    """Tangent of lstsq from a_dot (b_dot None) or b_dot (a_dot None), as a ListBar."""
    A, B, X, P, R, vec = _lstsq_parts(a, b, result[0])
    n = A.shape[1]
    if a_dot is not None:
        dA = _full(a_dot, a)
        dX = -P @ dA @ X + P @ P.T @ dA.T @ R + (np.eye(n) - P @ A) @ dA.T @ P.T @ X
        dR = -dA @ X
    else:
        dB = _full(b_dot, b)
        dB = dB[:, None] if vec else dB
        dX = P @ dB
        dR = dB
    dres = 2.0 * np.sum(R * dR, axis=0) if np.size(result[1]) else np.zeros(np.shape(result[1]))
    ds = 0.0
    if a_dot is not None:
        u, _, vt = np.linalg.svd(A, full_matrices=False)
        ds = np.einsum("ik,ij,kj->k", u, dA, vt)
    return ListBar([dX[:, 0] if vec else dX, dres, 0.0, ds])


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


# cholesky reads one triangle of a (the lower one, or the upper one when upper=True);
# the gradient is w.r.t. the entries actually read
@adjoint(np.linalg.cholesky)
def _(result, result_bar, a, upper=False):
    return cholesky_bar_complex(result_bar, a, result, upper) if np.iscomplexobj(result) \
        else _cholesky_bar(result_bar, a, result, upper)


@tangent(np.linalg.cholesky)
def _(result, a, upper=False, a_dot=None):
    return cholesky_jvp_complex(a, a_dot, result, upper) if np.iscomplexobj(result) \
        else _cholesky_jvp(a, a_dot, result, upper)


# eigh: result (eigenvalues, eigenvectors); eigenvectors need distinct eigenvalues
# (complex Hermitian a: transparent helpers in complex_rules.py, differentiable at any order)
@adjoint(np.linalg.eigh)
def _(result, result_bar, a, UPLO="L"):
    return eigh_bar_complex(result_bar, a, result, UPLO) if np.iscomplexobj(a) \
        else _eigh_bar(result_bar, a, result, UPLO)


@tangent(np.linalg.eigh)
def _(result, a, UPLO="L", a_dot=None):
    return eigh_jvp_complex(a, a_dot, result, UPLO) if np.iscomplexobj(a) else _eigh_jvp(a, a_dot, result, UPLO)


@adjoint(np.linalg.eigvalsh)
def _(result, result_bar, a, UPLO="L"):
    return eigvalsh_bar_complex(result_bar, a, UPLO) if np.iscomplexobj(a) else _eigvalsh_bar(result_bar, a, UPLO)


@tangent(np.linalg.eigvalsh)
def _(result, a, UPLO="L", a_dot=None):
    return eigvalsh_jvp_complex(a, a_dot, UPLO) if np.iscomplexobj(a) else _eigvalsh_jvp(a, a_dot, UPLO)


# lstsq: result (x, residuals, rank, s); differentiated through x, residuals and s
# (x as the pseudo-inverse solution: a of full rank)
@adjoint(np.linalg.lstsq)
def _(result, result_bar, a, b, rcond=None):
    return _lstsq_bar(result_bar, a, b, result, 0), _lstsq_bar(result_bar, a, b, result, 1)


@tangent(np.linalg.lstsq)
def _(result, a, b, rcond=None, a_dot=None, b_dot=None):
    return _lstsq_jvp(a, b, result, a_dot, None) + _lstsq_jvp(a, b, result, None, b_dot)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_eig_gaps, _eye_like)


def _sym(x):
    return 0.5 * (x + _T(x))


def _chol_L(m, upper):
    return _T(m) if upper else m


def _cholesky_bar_jvp(g, result, upper, g_dot, result_dot):
    """Tangent of _cholesky_bar(g, a, result, upper) from g and result (a gives the shape only)."""
    L, gL = _chol_L(result, upper), _chol_L(_mat(g, result), upper)
    dL, dgL = _chol_L(_mat(result_dot, result), upper), _chol_L(_mat(g_dot, result), upper)
    Li = np.linalg.inv(L)
    P = _phi(_T(L) @ gL)
    dLi = -(Li @ dL @ Li)
    dP = _phi(_T(dL) @ gL + _T(L) @ dgL)
    dS = _T(dLi) @ P @ Li + _T(Li) @ dP @ Li + _T(Li) @ P @ dLi
    return _sym_read(_sym(dS), not upper)


def _cholesky_bar_adj(g, result, upper, rbar, which):
    """Adjoint of _cholesky_bar in g (which=0) or result (which=1)."""
    L, gL = _chol_L(result, upper), _chol_L(_mat(g, result), upper)
    Li = np.linalg.inv(L)
    M = _T(L) @ gL
    P = _phi(M)
    Sb = _sym_from(rbar, not upper)
    Pb = Li @ Sb @ _T(Li)
    Lib = P @ Li @ _T(Sb) + _T(P) @ Li @ Sb
    Mb = _phi(Pb)
    if which == 0:
        return unbroadcast(_chol_L(L @ Mb, upper), g)
    Lb = gL @ _T(Mb) - _T(Li) @ Lib @ _T(Li)
    return _chol_L(Lb, upper)


def _cholesky_jvp_jvp(d, result, upper, d_dot, result_dot):
    """Tangent of _cholesky_jvp(a, d, result, upper) from d and result."""
    L = _chol_L(result, upper)
    dL = _chol_L(_mat(result_dot, result), upper)
    Li = np.linalg.inv(L)
    dA = _sym_from(_mat(d, result), not upper)
    dA2 = _sym_from(_mat(d_dot, result), not upper)
    dLi = -(Li @ dL @ Li)
    X = Li @ dA @ _T(Li)
    dX = dLi @ dA @ _T(Li) + Li @ dA2 @ _T(Li) + Li @ dA @ _T(dLi)
    return _chol_L(dL @ _phi(X) + L @ _phi(dX), upper)


def _cholesky_jvp_adj(d, result, upper, rbar, which):
    """Adjoint of _cholesky_jvp in d (which=0) or result (which=1)."""
    L = _chol_L(result, upper)
    R = _chol_L(_mat(rbar, result), upper)
    Li = np.linalg.inv(L)
    dA = _sym_from(_mat(d, result), not upper)
    X = Li @ dA @ _T(Li)
    Xb = _phi(_T(L) @ R)
    if which == 0:
        return _sym_read(_T(Li) @ Xb @ Li, not upper)
    Lib = Xb @ Li @ _T(dA) + _T(Xb) @ Li @ dA
    return _chol_L(R @ _T(_phi(X)) - _T(Li) @ Lib @ _T(Li), upper)


@tangent(_cholesky_bar)
def _(result, g, a, cholesky, upper, g_dot, cholesky_dot):
    return _cholesky_bar_jvp(g, cholesky, upper, g_dot, cholesky_dot)


@adjoint(_cholesky_bar)
def _(result, result_bar, g, a, cholesky, upper):
    return (_cholesky_bar_adj(g, cholesky, upper, result_bar, 0), None,
            _cholesky_bar_adj(g, cholesky, upper, result_bar, 1))


@tangent(_cholesky_jvp)
def _(result, a, d, cholesky, upper, d_dot, cholesky_dot):
    return _cholesky_jvp_jvp(_full(d, a), cholesky, upper, d_dot, cholesky_dot)


@adjoint(_cholesky_jvp)
def _(result, result_bar, a, d, cholesky, upper):
    return (None, _full_T(_cholesky_jvp_adj(_full(d, a), cholesky, upper, result_bar, 0), d, a),
            _cholesky_jvp_adj(_full(d, a), cholesky, upper, result_bar, 1))


def _diag_of(m):
    return np.diagonal(m, axis1=-2, axis2=-1)


def _diag_mat(v, like):
    """Matrices with v on the diagonal (0 for the symbolic zero)."""
    if _zero(v):
        return np.zeros(np.shape(like))
    return np.asarray(v)[..., None] * np.eye(np.shape(like)[-1])


def _gaps_bar(w, F, Fb):
    """Adjoint in w of F = _eig_gaps(w), F_ij = 1 / (w_j - w_i) where kept."""
    t = Fb * F * F
    return np.sum(t, axis=-1) - np.sum(t, axis=-2)


def _gaps_dot(F, dw):
    """Tangent of F = _eig_gaps(w) for w moving by dw."""
    return -(dw[..., None, :] - dw[..., :, None]) * F * F


def _eig_parts(result, result_dot=None):
    """(w, V, dw, dV) with zeros for symbolic zeros."""
    w, V = result[0], result[1]
    dots = _seq(result_dot, 2)
    return w, V, _mat(dots[0], w), _mat(dots[1], V)


def _real_matrix_only(x, name):
    """The second-order eigh/eigvalsh formulas below are those of real symmetric matrices."""
    if np.iscomplexobj(x):
        raise NotDifferentiable(f"diffc: second derivative of {name} of a complex Hermitian "
                                "matrix is not supported")


def _eigh_bar_core_jvp(gw, gV, w, V, dgw, dgV, dw, dV, lower):
    """Tangent of _sym_read(sym(V (diag(gw) + F o (V^T gV)) V^T))."""
    F = _eig_gaps(w)
    Q = _diag_mat(gw, V) + F * (_T(V) @ gV)
    dQ = (_diag_mat(dgw, V) + _gaps_dot(F, dw) * (_T(V) @ gV)
          + F * (_T(dV) @ gV + _T(V) @ dgV))
    dG = dV @ Q @ _T(V) + V @ dQ @ _T(V) + V @ Q @ _T(dV)
    return _sym_read(_sym(dG), lower)


def _eigh_bar_core_adj(gw, gV, w, V, R, lower):
    """Adjoint of the same in (gw, gV, w, V)."""
    F = _eig_gaps(w)
    N_ = _T(V) @ gV
    Q = _diag_mat(gw, V) + F * N_
    Gb = _sym_from(R, lower)
    Vb = Gb @ V @ _T(Q) + _T(Gb) @ V @ Q
    Qb = _T(V) @ Gb @ V
    Nb = F * Qb
    Vb = Vb + gV @ _T(Nb)
    return _diag_of(Qb), V @ Nb, _gaps_bar(w, F, N_ * Qb), Vb


def _eigh_bar_jvp(result_bar, result, UPLO, result_bar_dot, result_dot):
    _real_matrix_only(result[1], "eigh/eigvalsh")
    gw, gV = [_mat(x, r) for x, r in zip(_seq(result_bar, 2), result)]
    dgw, dgV = [_mat(x, r) for x, r in zip(_seq(result_bar_dot, 2), result)]
    w, V, dw, dV = _eig_parts(result, result_dot)
    return _eigh_bar_core_jvp(gw, gV, w, V, dgw, dgV, dw, dV, UPLO.upper() == "L")


def _eigh_bar_adj(result_bar, result, UPLO, rbar, which):
    """Adjoint of _eigh_bar in result_bar (which=0) or result (which=1), as ListBars."""
    _real_matrix_only(result[1], "eigh/eigvalsh")
    gw, gV = [_mat(x, r) for x, r in zip(_seq(result_bar, 2), result)]
    w, V = result[0], result[1]
    bgw, bgV, bw, bV = _eigh_bar_core_adj(gw, gV, w, V, rbar, UPLO.upper() == "L")
    return ListBar([bgw, bgV]) if which == 0 else ListBar([bw, bV])


@tangent(_eigh_bar)
def _(result, bars, a, eig, UPLO, bars_dot, eig_dot):
    return _eigh_bar_jvp(bars, eig, UPLO, bars_dot, eig_dot)


@adjoint(_eigh_bar)
def _(result, result_bar, bars, a, eig, UPLO):
    return _eigh_bar_adj(bars, eig, UPLO, result_bar, 0), None, _eigh_bar_adj(bars, eig, UPLO, result_bar, 1)


def _eigh_jvp_core_jvp(dA, w, V, ddA, dw, dV):
    """Tangent of (diag(M), V (F o M)) for M = V^T dA V."""
    F = _eig_gaps(w)
    M = _T(V) @ dA @ V
    dM = _T(dV) @ dA @ V + _T(V) @ ddA @ V + _T(V) @ dA @ dV
    return ListBar([_diag_of(dM).copy(), dV @ (F * M) + V @ (_gaps_dot(F, dw) * M + F * dM)])


def _eigh_jvp_core_adj(dA, w, V, r0, r1):
    """Adjoint of the same in (dA, w, V)."""
    F = _eig_gaps(w)
    M = _T(V) @ dA @ V
    r1 = _mat(r1, V)
    Vb = r1 @ _T(F * M)
    T1 = _T(V) @ r1
    Mb = F * T1 + _diag_mat(r0, V)
    bw = _gaps_bar(w, F, M * T1)
    Vb = Vb + dA @ V @ _T(Mb) + _T(dA) @ V @ Mb
    return V @ Mb @ _T(V), bw, Vb


def _eigh_jvp_jvp(a, d, result, UPLO, d_dot, result_dot):
    _real_matrix_only(a, "eigh/eigvalsh")
    lower = UPLO.upper() == "L"
    w, V, dw, dV = _eig_parts(result, result_dot)
    return _eigh_jvp_core_jvp(_sym_from(_full(d, a), lower), w, V,
                              _sym_from(_mat(d_dot, a), lower), dw, dV)


def _eigh_jvp_adj(a, d, result, UPLO, rbar, which):
    """Adjoint of _eigh_jvp in d (which=0) or result (which=1)."""
    _real_matrix_only(a, "eigh/eigvalsh")
    lower = UPLO.upper() == "L"
    r0, r1 = _seq(rbar, 2)
    dAb, bw, bV = _eigh_jvp_core_adj(_sym_from(_full(d, a), lower), result[0], result[1], r0, r1)
    if which == 0:
        return _full_T(_sym_read(dAb, lower), d, a)
    return ListBar([bw, bV])


@tangent(_eigh_jvp)
def _(result, a, d, eig, UPLO, d_dot, eig_dot):
    return _eigh_jvp_jvp(a, d, eig, UPLO, d_dot, eig_dot)


@adjoint(_eigh_jvp)
def _(result, result_bar, a, d, eig, UPLO):
    return None, _eigh_jvp_adj(a, d, eig, UPLO, result_bar, 0), _eigh_jvp_adj(a, d, eig, UPLO, result_bar, 1)


# eigvalsh helpers recompute (w, V) = eigh(a): a is differentiated through them
def _eigvalsh_bar_da(g, a, UPLO, a_dot):
    _real_matrix_only(a, "eigh/eigvalsh")
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    dw, dV = _eigh_jvp(a, a_dot, (w, V), UPLO)
    return _eigh_bar_core_jvp(_mat(g, w), np.zeros(np.shape(V)), w, V, np.zeros(np.shape(w)),
                              np.zeros(np.shape(V)), dw, dV, UPLO.upper() == "L")


def _eigvalsh_bar_adj_a(g, a, UPLO, rbar):
    _real_matrix_only(a, "eigh/eigvalsh")
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    _, _, bw, bV = _eigh_bar_core_adj(_mat(g, w), np.zeros(np.shape(V)), w, V, rbar, UPLO.upper() == "L")
    return _eigh_bar([bw, bV], a, (w, V), UPLO)


@tangent(_eigvalsh_bar)
def _(result, g, a, UPLO, g_dot, a_dot):
    return _eigvalsh_bar(g_dot, a, UPLO) + _eigvalsh_bar_da(g, a, UPLO, a_dot)


@adjoint(_eigvalsh_bar)
def _(result, result_bar, g, a, UPLO):
    return (unbroadcast(_eigvalsh_jvp(a, result_bar, UPLO), g), _eigvalsh_bar_adj_a(g, a, UPLO, result_bar),
            None)


def _eigvalsh_jvp_da(a, d, UPLO, a_dot):
    _real_matrix_only(a, "eigh/eigvalsh")
    lower = UPLO.upper() == "L"
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    dw, dV = _eigh_jvp(a, a_dot, (w, V), UPLO)
    dA = _sym_from(_full(d, a), lower)
    return _diag_of(_T(dV) @ dA @ V + _T(V) @ dA @ dV)


def _eigvalsh_jvp_adj_a(a, d, UPLO, rbar):
    _real_matrix_only(a, "eigh/eigvalsh")
    lower = UPLO.upper() == "L"
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    _, bw, bV = _eigh_jvp_core_adj(_sym_from(_full(d, a), lower), w, V, _bcast(rbar, np.shape(w)), 0.0)
    return _eigh_bar([0.0, bV], a, (w, V), UPLO)


@tangent(_eigvalsh_jvp)
def _(result, a, d, UPLO, a_dot, d_dot):
    return _eigvalsh_jvp(a, d_dot, UPLO) + _eigvalsh_jvp_da(a, d, UPLO, a_dot)


@adjoint(_eigvalsh_jvp)
def _(result, result_bar, a, d, UPLO):
    return (_eigvalsh_jvp_adj_a(a, d, UPLO, result_bar),
            _full_T(_eigvalsh_bar(_bcast(result_bar, np.shape(result)), a, UPLO), d, a), None)


def _lstsq_setup(a, b, x):
    A = np.asarray(a, dtype=np.result_type(a, np.float64))
    m, n = A.shape
    P = np.linalg.pinv(A)
    X = _col(x, b)
    B = _col(b, b)
    return A, B, X, P, B - A @ X, np.eye(n) - P @ A, np.eye(m) - A @ P


def _pinv_dot(A, P, N, M, F):
    """Tangent of pinv(A) for A moving by F (constant rank)."""
    return -P @ F @ P + P @ _T(P) @ _T(F) @ M + N @ _T(F) @ _T(P) @ P


def _svd_dot(A, F):
    """(U, s, V, dU, dV) of the thin SVD A = U diag(s) V^T moving by F."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    V = _T(Vt)
    G = _T(U) @ F @ V
    s2 = s * s
    D = s2[None, :] - s2[:, None]
    ok = np.abs(D) > 1e-12 * max(float(np.max(s2)) if s2.size else 1.0, 1e-300)
    Dinv = np.where(ok, 1.0 / np.where(ok, D, 1.0), 0.0)
    OU = Dinv * (G * s[None, :] + _T(G) * s[:, None])
    OV = Dinv * (G * s[:, None] + _T(G) * s[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        si = np.where(s != 0, 1.0 / np.where(s != 0, s, 1.0), 0.0)
    dU = U @ OU + (np.eye(A.shape[0]) - U @ _T(U)) @ F @ V * si
    dV = V @ OV + (np.eye(A.shape[1]) - V @ _T(V)) @ _T(F) @ U * si
    return U, s, V, dU, dV


def _entry(seq, k):
    s = _seq(seq, 4)
    return s[k] if k < len(s) else 0.0


def _lstsq_bar_dot(bars, a, b, res, which, bars_dot, a_dot, b_dot, res_dot):
    """Tangent of _lstsq_bar(bars, a, b, res, which) (see numpy_rules)."""
    A, B, X, P, R, N, M = _lstsq_setup(a, b, res[0])
    k = X.shape[1]
    has_res = np.size(res[1]) > 0
    GX, dGX = [_col(_mat(_entry(s, 0), res[0]), b) for s in (bars, bars_dot)]
    GR, dGR = [_mat(_entry(s, 1), res[1]) if has_res else np.zeros(k) for s in (bars, bars_dot)]
    gs, dgs = [_mat(_entry(s, 3), res[3]) for s in (bars, bars_dot)]
    F = _mat(a_dot, A)
    dB = _col(_mat(b_dot, b), b)
    dX = _col(_mat(_entry(res_dot, 0), res[0]), b)
    dP = _pinv_dot(A, P, N, M, F)
    dR = dB - F @ X - A @ dX
    if which == 1:
        out = _T(dP) @ GX + _T(P) @ dGX + 2.0 * (dR * GR + R * dGR)
        return _uncol(out, b)
    dN = -(dP @ A + P @ F)
    PPt = P @ _T(P)
    out = (-(_T(dP) @ GX @ _T(X) + _T(P) @ dGX @ _T(X) + _T(P) @ GX @ _T(dX))
           + dR @ _T(GX) @ PPt + R @ _T(dGX) @ PPt + R @ _T(GX) @ (dP @ _T(P) + P @ _T(dP))
           + _T(dP) @ X @ _T(GX) @ N + _T(P) @ dX @ _T(GX) @ N + _T(P) @ X @ _T(dGX) @ N
           + _T(P) @ X @ _T(GX) @ dN
           - 2.0 * ((dR * GR + R * dGR) @ _T(X) + (R * GR) @ _T(dX)))
    if not (_zero(_entry(bars, 3)) and _zero(_entry(bars_dot, 3))):
        U, s, V, dU, dV = _svd_dot(A, F)
        out = out + (dU * gs) @ _T(V) + (U * gs) @ _T(dV) + (U * dgs) @ _T(V)
    return out


def _lstsq_jvp_dot(a, b, res, da, db, a_dot, b_dot, res_dot, da_dot, db_dot):
    """Tangent of _lstsq_jvp(a, b, res, da, db) (one of da, db is None; see numpy_rules)."""
    A, B, X, P, R, N, M = _lstsq_setup(a, b, res[0])
    has_res = np.size(res[1]) > 0
    F = _mat(a_dot, A)
    dB = _col(_mat(b_dot, b), b)
    dX = _col(_mat(_entry(res_dot, 0), res[0]), b)
    dP = _pinv_dot(A, P, N, M, F)
    dR = dB - F @ X - A @ dX
    dds = 0.0
    if da is not None:
        E, E2 = _mat(da, A), _mat(da_dot, A)
        dN = -(dP @ A + P @ F)
        PPt = P @ _T(P)
        ddX = (-(dP @ E @ X + P @ E2 @ X + P @ E @ dX)
               + (dP @ _T(P) + P @ _T(dP)) @ _T(E) @ R + PPt @ _T(E2) @ R + PPt @ _T(E) @ dR
               + dN @ _T(E) @ _T(P) @ X + N @ _T(E2) @ _T(P) @ X + N @ _T(E) @ _T(dP) @ X
               + N @ _T(E) @ _T(P) @ dX)
        Rd, ddR = -E @ X, -(E2 @ X + E @ dX)
        U, s, V, dU, dV = _svd_dot(A, F)
        dds = _diag_of(_T(dU) @ E @ V + _T(U) @ E2 @ V + _T(U) @ E @ dV)
    else:
        Bd, Bd2 = _col(_mat(db, b), b), _col(_mat(db_dot, b), b)
        ddX = dP @ Bd + P @ Bd2
        Rd, ddR = Bd, Bd2
    ddres = 2.0 * np.sum(dR * Rd + R * ddR, axis=0) if has_res else np.zeros(np.shape(res[1]))
    return ListBar([_uncol(ddX, b), ddres, 0.0, dds])


def _transpose_by_columns(tangent_fn, shapes, rbar):
    """The adjoint of a linear map given by its tangent function tangent_fn(*dots):
    one contribution per input, None for the inputs whose shape is None."""
    rb = rbar if isinstance(rbar, (list, tuple)) else [rbar]
    out = []
    for i, shape in enumerate(shapes):
        if shape is None:
            out.append(None)
            continue
        bar = np.zeros(shape)
        flat = bar.reshape(-1)
        for j in range(flat.size):
            e = np.zeros(shape)
            e.reshape(-1)[j] = 1.0
            dots = [0.0] * len(shapes)
            dots[i] = e
            t = tangent_fn(*dots)
            t = t if isinstance(t, (list, tuple)) else [t]
            flat[j] = sum(float(np.sum(np.asarray(r) * np.asarray(ti))) for r, ti in zip(rb, t)
                          if not _zero(r) and not _zero(ti))
        out.append(bar)
    return out


def _lstsq_bar_adj(bars, a, b, res, which, rbar):
    """(bars, a, b, res) adjoints of _lstsq_bar, the transpose of _lstsq_bar_dot."""
    if _zero(rbar):
        return ListBar([0.0] * 4), np.zeros(np.shape(a)), np.zeros(np.shape(b)), ListBar([0.0] * 4)
    has_res = np.size(res[1]) > 0
    shapes = [np.shape(res[0]), np.shape(res[1]) if has_res else None, np.shape(res[3]),
              np.shape(a), np.shape(b), np.shape(res[0])]

    def fn(dgx, dgr, dgs, da, db, dx):
        return _lstsq_bar_dot(bars, a, b, res, which, [dgx, dgr, 0.0, dgs], da, db, [dx, 0.0, 0.0, 0.0])
    gx, gr, gs, ga, gb, gxx = _transpose_by_columns(fn, shapes, rbar)
    return (ListBar([gx, 0.0 if gr is None else gr, 0.0, gs]), ga, gb, ListBar([gxx, 0.0, 0.0, 0.0]))


def _lstsq_jvp_adj(a, b, res, da, db, rbar):
    """(a, b, res, da, db) adjoints of _lstsq_jvp, the transpose of _lstsq_jvp_dot."""
    shapes = [np.shape(a), np.shape(b), np.shape(res[0]),
              np.shape(a) if da is not None else None, np.shape(b) if db is not None else None]

    def fn(ad, bd, xd, dad, dbd):
        return _lstsq_jvp_dot(a, b, res, da, db, ad, bd, [xd, 0.0, 0.0, 0.0], dad, dbd)
    ga, gb, gx, gda, gdb = _transpose_by_columns(fn, shapes, _seq(rbar, 4))
    return ga, gb, ListBar([gx, 0.0, 0.0, 0.0]), (None if da is None else _full_T(gda, da, a)), \
        (None if db is None else _full_T(gdb, db, b))


@tangent(_lstsq_bar)
def _(result, bars, a, b, res, which, bars_dot, a_dot, b_dot, res_dot):
    return _lstsq_bar_dot(bars, a, b, res, which, bars_dot, a_dot, b_dot, res_dot)


@adjoint(_lstsq_bar)
def _(result, result_bar, bars, a, b, res, which):
    bars_a_b_res = _lstsq_bar_adj(bars, a, b, res, which, result_bar)
    return bars_a_b_res[0], bars_a_b_res[1], bars_a_b_res[2], bars_a_b_res[3], None


@tangent(_lstsq_jvp)
def _(result, a, b, res, da, db, a_dot, b_dot, res_dot, da_dot, db_dot):
    return _lstsq_jvp_dot(a, b, res, da, db, a_dot, b_dot, res_dot, da_dot, db_dot)


@adjoint(_lstsq_jvp)
def _(result, result_bar, a, b, res, da, db):
    a_b_res_da_db = _lstsq_jvp_adj(a, b, res, da, db, result_bar)
    return a_b_res_da_db[0], a_b_res_da_db[1], a_b_res_da_db[2], a_b_res_da_db[3], a_b_res_da_db[4]
