"""scipy.linalg: implementations in NumPy for diffc to read, and rules for matrix functions.

``solve``, ``solve_triangular``, ``cholesky``, ``cho_factor``/``cho_solve``,
``inv`` and ``det`` are registered with `implemented_by` as the NumPy
computations they equal (their derivatives are those of NumPy's rules, at any
order).  Derivatives are with respect to the entries each function reads:
``solve_triangular`` and ``cho_solve`` read one triangle, ``cholesky`` reads the
triangle it is told to (upper by default, as in SciPy).  ``cho_factor`` returns
its factor with zeros in the unused triangle (SciPy leaves whatever was there).

``expm`` and ``logm`` use the block-triangular identity f([[A, E], [0, A]]) =
[[f(A), Df(A)[E]], [0, f(A)]] for their tangents and, at A^T, for their adjoints
(second order: the helpers are transparent, built from concatenate and
expm/logm again); ``sqrtm`` solves the Sylvester equation X dX + dX X = dA
(first order).
"""

import numpy as np
import scipy.linalg as sl

from . import adjoint, implemented_by, tangent


@implemented_by(sl.solve)
def linalg_solve(a, b, lower=False, overwrite_a=False, overwrite_b=False, check_finite=True, assume_a=None,
                 transposed=False):
    if transposed:
        return np.linalg.solve(a.T, b)
    return np.linalg.solve(a, b)


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
