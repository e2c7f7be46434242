"""Second derivatives through svd, pinv, eig, eigvals, scipy.linalg.sqrtm and lu_factor/lu_solve.

Their first-order helpers (linalg_decomp_rules.py, scipy_linalg.py) are read by diffc
as code, so a second derivative differentiates them again.  The programs are the way
these functions are used: PCA by svd, a least-squares fit by pinv, the spectral
abscissa of a linear system by eig, a covariance square root (whitening) in a loss,
a linear solve through an LU factorization.  Every Hessian (forward over reverse,
reverse over reverse, reverse over forward, forward over forward) is compared with
central differences of diffc's gradient (itself checked against differences of the
program) and with second differences of the program itself.
"""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

try:
    import scipy.linalg as sl
except ImportError:                 # SciPy is optional: its programs are skipped
    sl = None

R = np.random.default_rng(17)
DATA = R.normal(size=(6, 3)) @ np.diag([3.0, 1.5, 0.5])      # distinct singular values
PROJ = R.normal(size=(3, 3))
TARGET = R.normal(size=(4, 2))
DESIGN = R.normal(size=(5, 3))
Y5 = R.normal(size=5)
SYSTEM = np.array([[-1.0, 0.6, 0.1], [0.2, -2.0, 0.4], [0.3, -0.2, -3.0]])
SYSTEM_OSC = np.array([[-0.5, -2.0, 0.3], [1.5, -0.2, 0.1], [0.0, 0.4, -1.0]])   # complex pair
WEIGHTS = R.normal(size=(3, 3))
X_COV = R.normal(size=(8, 3))
RHS = R.normal(size=(3, 2))


def pca_explained(X):
    """Fraction of variance in the first two principal components, and the loading of
    the first one on the first feature (sign-invariant: squared)."""
    centred = X - np.mean(X, axis=0)
    U, s, Vt = np.linalg.svd(centred, full_matrices=False)
    var = s ** 2
    return np.sum(var[:2]) / np.sum(var) + Vt[0, 0] ** 2 + np.sum(U[:, 0] ** 2 * np.arange(6.0))


def pca_singular_values(X):
    return np.sum(np.log(np.linalg.svd(X, compute_uv=False)))


def least_squares(A):
    """Fit by the pseudo-inverse; the loss is the residual plus a ridge on the fit."""
    w = np.linalg.pinv(A) @ Y5
    r = A @ w - Y5
    return np.sum(r ** 2) + 0.1 * np.sum(w ** 2) + np.sum(np.linalg.pinv(A) ** 2)


def spectral(A):
    """Decay rates and modes of dx/dt = A x: sum of exp(Re w) and a mode-shape penalty."""
    w, V = np.linalg.eig(A)
    return np.sum(np.exp(np.real(w))) + np.sum(np.abs(V) ** 2 * WEIGHTS)


def oscillation(A):
    w = np.linalg.eigvals(A)
    return np.sum(np.imag(w) ** 2) + np.sum(np.real(w) ** 3)


def whitening_loss(X):
    """Loss after whitening by the square root of the covariance matrix."""
    cov = X.T @ X / X.shape[0] + 0.5 * np.eye(3)
    root = sl.sqrtm(cov)
    return np.sum(root * WEIGHTS) + np.sum(np.linalg.solve(root, X[0]) ** 2)


def lu_solve_loss(A):
    factors = sl.lu_factor(A)
    x = sl.lu_solve(factors, RHS)
    logdet = np.sum(np.log(np.abs(np.diag(factors[0]))))
    return np.sum(x ** 2) + logdet


def lu_rhs(b):
    return np.sum(sl.lu_solve(sl.lu_factor(SYSTEM), b) ** 3)


PROGRAMS = [
    (pca_explained, DATA), (pca_singular_values, DATA[:4]), (least_squares, DESIGN),
    (spectral, SYSTEM), (spectral, SYSTEM_OSC), (oscillation, SYSTEM_OSC),
]
SCIPY_PROGRAMS = [(whitening_loss, X_COV[:4]), (lu_solve_loss, SYSTEM), (lu_rhs, RHS)]
IDS = ["pca", "pca_singular_values", "pinv_least_squares", "eig_real", "eig_complex_pair", "eigvals"]
SCIPY_IDS = ["sqrtm_whitening", "lu_solve", "lu_solve_rhs"]


def second_differences(fn, x, h=1e-4):
    """The Hessian of fn by central second differences of fn itself."""
    x = np.asarray(x, dtype=float)
    flat = x.reshape(-1)
    n = flat.size
    H = np.zeros((n, n))

    def at(d):
        return float(fn((flat + d).reshape(x.shape)))
    for i in range(n):
        ei = np.zeros(n)
        ei[i] = h
        for j in range(i, n):
            ej = np.zeros(n)
            ej[j] = h
            H[i, j] = H[j, i] = (at(ei + ej) - at(ei - ej) - at(ej - ei) + at(-ei - ej)) / (4 * h * h)
    return H.reshape(x.shape + x.shape)


def check_all_modes(fn, x, with_forward_first=False):
    assert_close(diffc.grad(fn)(x), numeric_grad(fn, (x,), 0), rtol=1e-5, atol=1e-6, what="gradient")
    expected = fd_jacobian(diffc.grad(fn), x, eps=1e-5)
    assert np.abs(expected).max() > 1e-2                         # a real second derivative
    assert_close(expected, second_differences(fn, x), rtol=1e-3, atol=1e-4, what="program's own")
    results = {
        "forward over reverse": lambda: diffc.hessian(fn)(x),
        "reverse over reverse": lambda: diffc.jacobian(diffc.grad(fn))(x),
    }
    if with_forward_first:
        forward = diffc.jacobian(fn, mode="forward")
        results["reverse over forward"] = lambda: diffc.jacobian(forward)(x)
        results["forward over forward"] = lambda: diffc.jacobian(forward, mode="forward")(x)
    for what, run in results.items():
        assert_close(run(), expected, rtol=1e-5, atol=1e-6, what=what)
    v = np.random.default_rng(1).normal(size=np.shape(x))
    assert_close(diffc.hvp(fn)(x, v), np.tensordot(expected, v, axes=v.ndim), rtol=1e-5, atol=1e-6, what="hvp")
    _, jvp_of_grad = diffc.jvp(diffc.grad(fn), (x,), (v,))
    assert_close(jvp_of_grad, np.tensordot(expected, v, axes=v.ndim), rtol=1e-5, atol=1e-6, what="jvp of grad")


@pytest.mark.parametrize("fn,x", PROGRAMS, ids=IDS)
def test_numpy_decompositions_second_order(fn, x):
    check_all_modes(fn, x)


@pytest.mark.parametrize("fn,x", SCIPY_PROGRAMS, ids=SCIPY_IDS)
def test_scipy_linalg_second_order(fn, x):
    if sl is None:
        pytest.skip("SciPy is not installed")
    check_all_modes(fn, x)


@pytest.mark.slow
@pytest.mark.parametrize("fn,x", PROGRAMS + SCIPY_PROGRAMS, ids=IDS + SCIPY_IDS)
def test_forward_first_orders(fn, x):
    """Reverse over forward and forward over forward too (slow: two more Hessians each)."""
    if sl is None and any(fn is p[0] for p in SCIPY_PROGRAMS):
        pytest.skip("SciPy is not installed")
    check_all_modes(fn, x, with_forward_first=True)


def repeated_singular_values(x):
    return np.sum(np.linalg.svd(x * np.eye(3), full_matrices=False)[0] ** 2 * WEIGHTS)


def test_repeated_singular_values_are_still_refused_at_second_order():
    with pytest.raises(NotImplementedError) as info:
        diffc.hessian(repeated_singular_values)(1.0)
    assert "repeated" in str(info.value)


def along(fn, x, d):
    def c(t):
        return fn(x + t * d)
    return c


@pytest.mark.slow
def test_third_derivative_through_pinv_and_sqrtm():
    """pinv's and sqrtm's helpers call rules that call them again: any order (README table)."""
    cases = [(least_squares, DESIGN, R.normal(size=DESIGN.shape))]
    if sl is not None:
        d = R.normal(size=(4, 3))
        cases.append((whitening_loss, X_COV[:4], d))
    for fn, x, d in cases:
        c = along(fn, x, d)
        second = diffc.grad(diffc.grad(c))
        third = diffc.grad(diffc.grad(diffc.grad(c)))(0.0)
        expected = (second(1e-4) - second(-1e-4)) / 2e-4
        assert abs(expected) > 1e-2
        assert_close(third, expected, rtol=1e-4, atol=1e-5, what=fn.__name__)
