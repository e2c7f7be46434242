"""Second derivatives through cholesky, eigh, eigvalsh, lstsq and atleast_nd.

Their adjoint helpers (_cholesky_bar, _eigh_bar, _eigvalsh_bar, _lstsq_bar,
_atleast_bar) and tangent helpers (_cholesky_jvp, ...) have rules of their own
(the higher-order rules of diffc/rules/linalg.py, linalg_symmetric.py).  Full Hessians by forward over reverse and
reverse over reverse are compared with central differences of diffc.grad
(itself compared with finite differences of the program here); reverse over
forward and forward over forward differentiate c(t) = f(x0 + t D + t^2 E),
whose second derivative at 0 is D.H.D + 2 grad(f).E.  The programs use
eigenvectors, singular values, residuals, both triangles (UPLO="U",
upper=True) and vector and matrix right-hand sides, so the second-order terms
are not zero.
"""
import warnings

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

R = np.random.default_rng(5)
S = R.normal(size=(3, 3)) + 3 * np.eye(3)
C = R.normal(size=(3, 3))
W = R.normal(size=(3, 3))
A0 = R.normal(size=(5, 3))
B0 = R.normal(size=5)
B2 = R.normal(size=(5, 2))
W3 = R.normal(size=3)
AW = R.normal(size=(2, 4))
Y = np.array([1.0, 2.0, 3.0])
X3 = np.array([0.5, -1.0, 2.0])


def eig_vectors(s):
    w, V = np.linalg.eigh(s + s.T)
    return np.sum(w ** 3 * np.arange(1.0, 4.0)) + np.sum(V ** 2 * C)      # sign-invariant in V


def eig_upper(s):
    w, V = np.linalg.eigh(s, UPLO="U")
    return np.sum(np.sin(w)) + np.sum(V ** 2 * C)


def eigvals(s):
    return np.sum(np.linalg.eigvalsh(s + s.T) ** 3) + np.linalg.eigvalsh(s, UPLO="U")[0] ** 2


def chol(s):
    L = np.linalg.cholesky(s @ s.T)
    return np.sum(L ** 2 * W) + np.sum(np.log(np.diag(L)))


def chol_upper(s):
    U = np.linalg.cholesky(s @ s.T, upper=True)
    return np.sum(U ** 3 * W)


def chol_one_triangle(s):
    return np.sum(np.linalg.cholesky(s + 10 * np.eye(3)) ** 2 * W)


def lstsq_solution(a):
    x = np.linalg.lstsq(a, B0, rcond=None)[0]
    return np.sum(x ** 2 * W3)


def lstsq_residuals(a):
    r = np.linalg.lstsq(a, B2, rcond=None)
    return np.sum(r[0] ** 3) + np.sum(r[1] ** 2)


def lstsq_singular_values(a):
    r = np.linalg.lstsq(a, B0, rcond=None)
    return np.sum(r[3] ** 2 * W3) + np.sum(r[0] * W3)


def lstsq_rhs(b):
    r = np.linalg.lstsq(A0, b, rcond=None)
    return np.sum(np.sin(r[0])) + np.sum(r[1]) ** 2


def lstsq_wide(a):
    x = np.linalg.lstsq(a, B0[:2], rcond=None)[0]          # minimum-norm solution
    return np.sum(x ** 2 * np.arange(4.0))


def atleast_many(x):
    a, b = np.atleast_1d(x[0], x * Y)
    c = np.atleast_2d(x) ** 2
    return np.sum(a * b) ** 2 + np.sum(c * x[::-1]) + np.atleast_3d(x ** 3).sum()


def atleast_one(x):
    return np.sum(np.atleast_2d(x) ** 3) + np.atleast_1d(x[1]) @ np.atleast_1d(x[2] ** 2)


PROGRAMS = [
    (eig_vectors, S), (eig_upper, S), (eigvals, S),
    (chol, S), (chol_upper, S), (chol_one_triangle, S),
    (lstsq_solution, A0), (lstsq_residuals, A0), (lstsq_singular_values, A0), (lstsq_rhs, B0),
    (lstsq_wide, AW),
    (atleast_many, X3), (atleast_one, X3),
]
IDS = [p[0].__name__ for p in PROGRAMS]


@pytest.mark.parametrize("fn,x", PROGRAMS, ids=IDS)
def test_hessian(fn, x):
    assert_close(diffc.grad(fn)(x), numeric_grad(fn, (x,), 0), rtol=1e-5, atol=1e-6, what="gradient")
    expected = fd_jacobian(diffc.grad(fn), x, eps=1e-5)
    assert np.abs(expected).max() > 1e-2            # a real second derivative
    assert_close(diffc.hessian(fn)(x), expected, rtol=1e-5, atol=1e-6, what="forward over reverse")
    assert_close(diffc.jacobian(diffc.grad(fn))(x), expected, rtol=1e-5, atol=1e-6,
                 what="reverse over reverse")


def along_curve(fn, x0, D, E):
    def c(t):
        return fn(x0 + t * D + (t * t) * E)
    return c


@pytest.mark.parametrize("fn,x", PROGRAMS, ids=IDS)
def test_second_derivative_along_a_curve(fn, x):
    rng = np.random.default_rng(11)
    D, E = rng.normal(size=x.shape), rng.normal(size=x.shape)
    grad = diffc.grad(fn)
    eps = 1e-5
    expected = float(np.sum(D * (grad(x + eps * D) - grad(x - eps * D)) / (2 * eps))) \
        + 2.0 * float(np.sum(grad(x) * E))
    c = along_curve(fn, x, D, E)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rof = diffc.grad(diffc.jacobian(c, mode="forward"))(0.0)
        fof = diffc.jacobian(diffc.jacobian(c, mode="forward"), mode="forward")(0.0)
    assert_close(rof, expected, rtol=1e-6, atol=1e-6, what="reverse over forward")
    assert_close(fof, expected, rtol=1e-6, atol=1e-6, what="forward over forward")


def test_eigh_hessian_closed_form():
    """d2/ds2 sum(eigvalsh(s)**2) = d2/ds2 ||sym(s)||_F^2 for the lower triangle read."""
    s = S.copy()

    def f(m):
        return np.sum(np.linalg.eigvalsh(m) ** 2)
    # sum(w^2) = ||A||_F^2 with A built from the lower triangle: 2 per diagonal entry,
    # 4 per strictly lower entry (it appears twice), 0 for the unread upper triangle
    expected = np.zeros((3, 3, 3, 3))
    for i in range(3):
        for j in range(i + 1):
            expected[i, j, i, j] = 2.0 if i == j else 4.0
    assert_close(diffc.hessian(f)(s), expected, atol=1e-8, what="eigvalsh forward over reverse")
    assert_close(diffc.jacobian(diffc.grad(f))(s), expected, atol=1e-8, what="eigvalsh reverse over reverse")
