"""scipy.linalg: implementations in NumPy for diffc to read, and rules for matrix functions.

``solve``, ``solve_triangular``, ``cholesky``, ``cho_factor``/``cho_solve``,
``inv``, ``det``, ``eigh`` and ``qr`` are registered with `implemented_by` as the NumPy
computations they equal (their derivatives are those of NumPy's rules, at any
order).  Derivatives are with respect to the entries each function reads:
``solve_triangular`` and ``cho_solve`` read one triangle, ``cholesky`` reads the
triangle it is told to (upper by default, as in SciPy).  ``cho_factor`` returns
its factor with zeros in the unused triangle (SciPy leaves whatever was there).

``expm`` and ``logm`` use the block-triangular identity f([[A, E], [0, A]]) =
[[f(A), Df(A)[E]], [0, f(A)]] for their tangents and, at A^T, for their adjoints
(second order: the helpers are transparent, built from concatenate and
expm/logm again); ``sqrtm`` solves the Sylvester equation X dX + dX X = dA with
``solve_sylvester``, whose own rules solve Sylvester equations again (any
order).  ``lu_factor``/``lu_solve`` (``trans`` 0, 1, and 2 of a real factor) have transparent helpers made
of triangular solves (second order).
"""

import numpy as np
import scipy.linalg as sl

from . import adjoint, implemented_by, nondiff, tangent
from ..errors import NotDifferentiable
from ..runtime import ListBar


@implemented_by(sl.solve)
def linalg_solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, assume_a=None,
                 transposed=False):
    a = _structured(np.asarray(a), assume_a, lower)
    if transposed:
        return np.linalg.solve(a.T, b)
    return np.linalg.solve(a, b)


def _structured(a, assume_a, lower):
    """The matrix scipy's solver sees: with assume_a 'sym'/'her'/'pos' it reads one triangle
    (upper, or lower with lower=True) and mirrors it, with 'diagonal', 'tridiagonal' or a
    triangular structure it reads only those entries.  The derivative with respect to an
    entry it never reads is zero, as a finite difference of scipy's own result shows."""
    if assume_a in (None, "general", "gen"):
        return a
    if assume_a in ("sym", "symmetric", "pos", "positive definite", "her", "hermitian"):
        t = np.tril(a) if lower else np.triu(a)
        mirrored = np.swapaxes(t, -1, -2)
        if assume_a in ("her", "hermitian"):
            mirrored = np.conj(mirrored)
        return t + mirrored - t * np.eye(a.shape[-1])
    if assume_a == "diagonal":
        return a * np.eye(a.shape[-1])
    if assume_a == "tridiagonal":
        return np.triu(np.tril(a, 1), -1)
    if assume_a == "upper triangular":
        return np.triu(a)
    if assume_a == "lower triangular":
        return np.tril(a)
    raise NotDifferentiable(f"diffc: scipy.linalg.solve(..., assume_a={assume_a!r}) is not differentiated")


_structured.__diffc_transparent__ = True        # read like the implementation that calls it


def _triangle(a, lower, unit_diagonal):
    t = np.tril(a) if lower else np.triu(a)
    if unit_diagonal:
        t = t - np.diag(np.diagonal(t)) + np.eye(np.shape(a)[0])
    return t


@implemented_by(sl.solve_triangular)
def linalg_solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                            check_finite=True):
    t = _triangle(a, lower, unit_diagonal)
    if trans == 1 or trans == "T" or trans == 2 or trans == "C":
        return np.linalg.solve(t.T, b)
    return np.linalg.solve(t, b)


@implemented_by(sl.cholesky)
def linalg_cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    if lower:
        return np.linalg.cholesky(a)
    return np.linalg.cholesky(a, upper=True)


@implemented_by(sl.cho_factor)
def linalg_cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    if lower:
        return np.linalg.cholesky(a), lower
    return np.linalg.cholesky(a, upper=True), lower


@implemented_by(sl.cho_solve)
def linalg_cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c = c_and_lower[0]
    if c_and_lower[1]:
        low = np.tril(c)
    else:
        low = np.triu(c).T
    y = np.linalg.solve(low, b)
    return np.linalg.solve(low.T, y)


@implemented_by(sl.inv)
def linalg_inv(a, overwrite_a=False, check_finite=True):
    return np.linalg.inv(a)


@implemented_by(sl.det)
def linalg_det(a, overwrite_a=False, check_finite=True):
    return np.linalg.det(a)


def _unsupported(what):
    raise NotDifferentiable(f"{what} is not differentiated", hint="use the default options, or register a rule")


@implemented_by(sl.eigh)
def linalg_eigh(a, b=None, *, lower=True, eigvals_only=False, overwrite_a=False, overwrite_b=False, type=1,
                check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    if b is not None or subset_by_index is not None or subset_by_value is not None:
        _unsupported("scipy.linalg.eigh with b, subset_by_index or subset_by_value")
    if eigvals_only:
        return np.linalg.eigvalsh(a, UPLO="L" if lower else "U")
    if np.iscomplexobj(a):
        _unsupported("scipy.linalg.eigh's eigenvectors of a complex matrix (use np.linalg.eigh)")
    w, v = np.linalg.eigh(a, UPLO="L" if lower else "U")
    return w, v * _scipy_signs(a, lower, v, driver)


@implemented_by(sl.eigvalsh)
def linalg_eigvalsh(a, b=None, *, lower=True, overwrite_a=False, overwrite_b=False, type=1,
                    check_finite=True, subset_by_index=None, subset_by_value=None, driver=None):
    if b is not None or subset_by_index is not None or subset_by_value is not None:
        _unsupported("scipy.linalg.eigvalsh with b, subset_by_index or subset_by_value")
    return np.linalg.eigvalsh(a, UPLO="L" if lower else "U")


def _scipy_signs(a, lower, v, driver):
    """+-1 per column: NumPy's eigenvectors times it are SciPy's (its LAPACK driver may
    choose the other sign); a constant, so derivatives are NumPy's, flipped alike."""
    theirs = sl.eigh(a, lower=lower, driver=driver)[1]
    return np.where(np.sum(np.real(np.conj(v) * theirs), axis=-2) < 0, -1.0, 1.0)


@implemented_by(sl.qr)
def linalg_qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    if pivoting or mode not in ("full", "economic", "r"):
        _unsupported("scipy.linalg.qr with pivoting or mode='raw'")
    if mode == "r":
        return (np.linalg.qr(a, mode="r"),)
    if mode == "full":
        q, r = np.linalg.qr(a, mode="complete")
        return q, r
    q, r = np.linalg.qr(a)
    return q, r


# ------------------------------------------------------------------ matrix functions

def _upper_triangular_block(a, e):
    """[[a, e], [0, a]]."""
    n = np.shape(a)[0]
    zero = np.zeros((n, n))
    top = np.concatenate([a, e], axis=1)
    bottom = np.concatenate([zero, a], axis=1)
    return np.concatenate([top, bottom], axis=0)


def _expm_frechet(a, e):
    """D expm(a)[e]: the upper-right block of expm([[a, e], [0, a]])."""
    n = np.shape(a)[0]
    return sl.expm(_upper_triangular_block(a, e))[:n, n:]


def _logm_frechet(a, e):
    """D logm(a)[e]: the upper-right block of logm([[a, e], [0, a]])."""
    n = np.shape(a)[0]
    return sl.logm(_upper_triangular_block(a, e))[:n, n:]


_expm_frechet.__diffc_transparent__ = True
_logm_frechet.__diffc_transparent__ = True
_upper_triangular_block.__diffc_transparent__ = True
_triangle.__diffc_transparent__ = True


@adjoint(sl.expm)
def _(result, result_bar, A):
    return _expm_frechet(A.T, result_bar)


@tangent(sl.expm)
def _(result, A, A_dot):
    return _expm_frechet(A, A_dot)


@adjoint(sl.logm)
def _(result, result_bar, A, disp=True):
    return _logm_frechet(A.T, result_bar)


@tangent(sl.logm)
def _(result, A, disp=True, A_dot=None):
    return _logm_frechet(A, A_dot)


@adjoint(sl.sqrtm)
def _(result, result_bar, A, disp=True, blocksize=64):
    return sl.solve_sylvester(result.T, result.T, result_bar)


@tangent(sl.sqrtm)
def _(result, A, disp=True, blocksize=64, A_dot=None):
    return sl.solve_sylvester(result, result, A_dot)


# solve_sylvester: Z solves A Z + Z B = Q.  Tangent: A dZ + dZ B = dQ - dA Z - Z dB;
# adjoint: L solves A^T L + L B^T = Zbar, then Qbar = L, Abar = -L Z^T, Bbar = -Z^T L.
# The helpers call solve_sylvester again, so every order is covered (sqrtm's second order).

def _is_zero_dot(d):
    return d is None or (np.ndim(d) == 0 and not isinstance(d, np.ndarray) and d == 0)


def sylvester_dot(a, b, z, a_dot, b_dot, q_dot):
    """Tangent of solve_sylvester(a, b, q) = z."""
    rhs = 0.0 * z
    if not _is_zero_dot(q_dot):
        rhs = rhs + q_dot
    if not _is_zero_dot(a_dot):
        rhs = rhs - a_dot @ z
    if not _is_zero_dot(b_dot):
        rhs = rhs - z @ b_dot
    return sl.solve_sylvester(a, b, rhs)


def sylvester_bar(g, a, b, z):
    """(a_bar, b_bar, q_bar) of solve_sylvester(a, b, q) = z for the adjoint g of z."""
    lam = sl.solve_sylvester(a.T, b.T, g)
    return -lam @ z.T, -z.T @ lam, lam


sylvester_dot.__diffc_transparent__ = True
nondiff(_scipy_signs, _is_zero_dot)
sylvester_bar.__diffc_transparent__ = True


@adjoint(sl.solve_sylvester)
def _(result, result_bar, a, b, q):
    bars = sylvester_bar(result_bar, a, b, result)
    return bars[0], bars[1], bars[2]


@tangent(sl.solve_sylvester)
def _(result, a, b, q, a_dot, b_dot, q_dot):
    return sylvester_dot(a, b, result, a_dot, b_dot, q_dot)


# ------------------------------------------------------------------ lu_factor / lu_solve
# A[p] = L U with p the row order LAPACK's pivots give.  With F = L^-1 dA[p] U^-1:
# dL = L tril(F, -1), dU = triu(F) U; the adjoint is L^-T (tril(L^T Lbar, -1) + triu(Ubar U^T)) U^-T.
# The helpers are transparent: diffc differentiates their bodies for second order.

def _lu_parts(lu, piv):
    n = np.shape(lu)[0]
    order = np.arange(n)
    for i, j in enumerate(piv):
        order[i], order[j] = order[j], order[i]
    lower = np.tril(lu, -1) + np.eye(n)
    upper = np.triu(lu)
    return lower, upper, order


def _lu_factor_bar(g, a, result):
    lu_bar = 0.0 if not isinstance(g, (list, tuple)) else g[0]
    if isinstance(lu_bar, (int, float)) and lu_bar == 0:
        return np.zeros(np.shape(a))
    lower, upper, order = _lu_parts(result[0], result[1])
    x = np.tril(lower.T @ lu_bar, -1) + np.triu(np.triu(lu_bar) @ upper.T)
    y = sl.solve_triangular(lower.T, x, lower=False, unit_diagonal=True)
    a_perm_bar = sl.solve_triangular(upper, y.T, lower=False).T        # y U^-T
    out = np.zeros(np.shape(a))
    out[order] = a_perm_bar
    return out


def _lu_factor_dot(a_dot, result):
    lower, upper, order = _lu_parts(result[0], result[1])
    a_dot = np.broadcast_to(a_dot, np.shape(lower))
    f = sl.solve_triangular(lower, a_dot[order], lower=True, unit_diagonal=True)
    f = sl.solve_triangular(upper, f.T, trans="T", lower=False).T
    return ListBar([lower @ np.tril(f, -1) + np.triu(f) @ upper, 0.0])


def _lu_transposed(lu_and_piv, trans):
    """Whether lu_solve solves with A^T (trans 1, or 2 on a real factor, where A^H = A^T);
    trans=2 of a complex factor (A^H) is refused."""
    if trans in (0, "N"):
        return False
    if trans in (2, "C") and np.iscomplexobj(lu_and_piv[0]):
        raise NotDifferentiable("diffc: lu_solve(..., trans=2) of a complex factor is not differentiated")
    return True


def _lu_t_solve(lower, upper, v):
    """M^-T v for M = L U."""
    u = sl.solve_triangular(upper, v, trans="T", lower=False)
    return sl.solve_triangular(lower, u, trans="T", lower=True, unit_diagonal=True)


def _lu_n_solve(lower, upper, v):
    """M^-1 v for M = L U."""
    u = sl.solve_triangular(lower, v, lower=True, unit_diagonal=True)
    return sl.solve_triangular(upper, u, lower=False)


def _outer(p, q):
    p2 = p if np.ndim(p) == 2 else p[:, None]
    q2 = q if np.ndim(q) == 2 else q[:, None]
    return p2 @ q2.T


# trans=1: A^T x = b with A[order] = M = L U is M^T y = b, x[order] = y.  Then
# dy = M^-T (db - dM^T y), and with z = M^-1 ybar: bbar = z, Mbar = -y z^T,
# lubar = tril(Mbar U^T, -1) + triu(L^T Mbar).

def _lu_solve_bar_lu(g, lu_and_piv, b, trans, x):
    lower, upper, order = _lu_parts(lu_and_piv[0], lu_and_piv[1])
    if _lu_transposed(lu_and_piv, trans):
        m_bar = -_outer(x[order], _lu_n_solve(lower, upper, g[order]))
        return ListBar([np.tril(m_bar @ upper.T, -1) + np.triu(lower.T @ m_bar), 0.0])
    u = sl.solve_triangular(upper, g, trans="T", lower=False)
    x2 = x if np.ndim(x) == 2 else x[:, None]
    u2 = u if np.ndim(u) == 2 else u[:, None]
    upper_bar = -np.triu(u2 @ x2.T)
    w = sl.solve_triangular(lower, u2, trans="T", lower=True, unit_diagonal=True)
    lower_bar = -np.tril(w @ (upper @ x2).T, -1)
    return ListBar([upper_bar + lower_bar, 0.0])


def _lu_solve_bar_b(g, lu_and_piv, b, trans):
    """A^-T g = P^T L^-T U^-T g (triangular solves, so that it is differentiable again);
    for trans=1, A^-1 g."""
    lower, upper, order = _lu_parts(lu_and_piv[0], lu_and_piv[1])
    if _lu_transposed(lu_and_piv, trans):
        return _lu_n_solve(lower, upper, g[order])
    w = _lu_t_solve(lower, upper, g)
    out = np.zeros(np.shape(w))
    out[order] = w
    return out


def _lu_solve_dot_t(lu_and_piv, b, x, lu_dot, b_dot):
    lower, upper, order = _lu_parts(lu_and_piv[0], lu_and_piv[1])
    rhs = 0.0
    if isinstance(lu_dot, (list, tuple)) and not (np.ndim(lu_dot[0]) == 0 and lu_dot[0] == 0):
        dlu = np.broadcast_to(lu_dot[0], np.shape(lower))
        dm = np.tril(dlu, -1) @ upper + lower @ np.triu(dlu)
        rhs = rhs - dm.T @ x[order]
    if not (np.ndim(b_dot) == 0 and b_dot == 0):
        rhs = rhs + np.broadcast_to(b_dot, np.shape(b))
    if np.ndim(rhs) == 0:
        return 0.0
    y_dot = _lu_t_solve(lower, upper, rhs)
    out = np.zeros(np.shape(y_dot))
    out[order] = y_dot
    return out


def _lu_solve_dot(lu_and_piv, b, trans, x, lu_dot, b_dot):
    if _lu_transposed(lu_and_piv, trans):
        return _lu_solve_dot_t(lu_and_piv, b, x, lu_dot, b_dot)
    lower, upper, order = _lu_parts(lu_and_piv[0], lu_and_piv[1])
    out = 0.0
    if isinstance(lu_dot, (list, tuple)) and not (np.ndim(lu_dot[0]) == 0 and lu_dot[0] == 0):
        dlu = np.broadcast_to(lu_dot[0], np.shape(lower))
        inner = np.triu(dlu) @ x + sl.solve_triangular(lower, np.tril(dlu, -1) @ (upper @ x), lower=True,
                                                       unit_diagonal=True)
        out = out - sl.solve_triangular(upper, inner, lower=False)
    if not (np.ndim(b_dot) == 0 and b_dot == 0):
        out = out + sl.lu_solve(lu_and_piv, np.broadcast_to(b_dot, np.shape(b)))
    return out


@adjoint(sl.lu_factor)
def _(result, result_bar, a, overwrite_a=False, check_finite=True):
    return _lu_factor_bar(result_bar, a, result)


@tangent(sl.lu_factor)
def _(result, a, overwrite_a=False, check_finite=True, a_dot=None):
    return _lu_factor_dot(a_dot, result)


@adjoint(sl.lu_solve)
def _(result, result_bar, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    return (_lu_solve_bar_lu(result_bar, lu_and_piv, b, trans, result),
            _lu_solve_bar_b(result_bar, lu_and_piv, b, trans))


@tangent(sl.lu_solve)
def _(result, lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True, lu_and_piv_dot=None, b_dot=None):
    return _lu_solve_dot(lu_and_piv, b, trans, result, lu_and_piv_dot, b_dot)


for _helper in (_lu_parts, _lu_factor_bar, _lu_factor_dot, _lu_solve_bar_lu, _lu_solve_bar_b, _lu_solve_dot,
                _lu_t_solve, _lu_n_solve, _outer, _lu_solve_dot_t):
    _helper.__diffc_transparent__ = True
nondiff(_lu_transposed)
