"""Complex svd and cholesky against finite differences along real and imaginary directions.

The convention is JAX's (diffc/rules/complex_rules.py): grad of a real f at complex z is
df/dx - i df/dy, and a tangent V gives Re(sum(grad * V)).  The programs are a
low-rank projection of complex data by svd (a loss that does not depend on the
arbitrary phase of the singular vectors), the spectrum of a complex matrix, and a
Gaussian log-likelihood with a Hermitian covariance factored by cholesky.  A loss that
depends on the singular vectors' phase is refused in reverse mode, not given a made-up
derivative; forward mode differentiates the phase LAPACK chooses (checked on the result).
"""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close

R = np.random.default_rng(21)
Z_TALL = R.normal(size=(5, 3)) + 1j * R.normal(size=(5, 3))
Z_WIDE = R.normal(size=(3, 4)) + 1j * R.normal(size=(3, 4))
WEIGHT_ROWS = np.arange(1.0, 6.0)
Q = R.normal(size=(3, 3)) + 1j * R.normal(size=(3, 3))
COV = Q @ np.conj(Q).T + 2.0 * np.eye(3)
OBS = R.normal(size=3) + 1j * R.normal(size=3)
W33 = R.normal(size=(3, 3))


def complex_fd_grad(f, z, eps=1e-6):
    """df/dx - i df/dy by central differences along each real and imaginary direction."""
    g = np.zeros(z.shape, dtype=complex)
    for idx in np.ndindex(z.shape):
        e = np.zeros(z.shape, dtype=complex)
        e[idx] = eps
        g[idx] += (f(z + e) - f(z - e)) / (2 * eps)
        e[idx] = 1j * eps
        g[idx] -= 1j * (f(z + e) - f(z - e)) / (2 * eps)
    return g


def projection_energy(z):
    """Energy of the data rows captured by the two leading left singular vectors."""
    u, s, vh = np.linalg.svd(z, full_matrices=False)
    basis = u[:, :2]
    proj = basis @ np.conj(basis).T
    return np.real(np.trace(proj * WEIGHT_ROWS[:z.shape[0]])) + np.sum(s ** 2) * 0.1


def right_vectors_magnitude(z):
    u, s, vh = np.linalg.svd(z, full_matrices=False)
    return np.sum(np.real(vh * np.conj(vh)) * np.arange(vh.size).reshape(vh.shape)) + np.sum(np.log(s))


def nuclear_norm(z):
    return np.sum(np.linalg.svd(z, compute_uv=False))


def phase_dependent(z):
    u, s, vh = np.linalg.svd(z, full_matrices=False)
    return np.sum(np.real(u[:, 0]))


def gaussian_loglik(cov):
    """-log N(obs; 0, cov) up to a constant, by the Cholesky factor of the covariance."""
    L = np.linalg.cholesky(cov)
    w = np.linalg.solve(L, OBS)
    return np.real(np.sum(w * np.conj(w))) + 2.0 * np.sum(np.log(np.real(np.diag(L))))


def upper_factor(cov):
    U = np.linalg.cholesky(cov, upper=True)
    return np.sum(np.real(U) ** 3 * W33) + np.sum(np.imag(U) * W33)


CASES = [
    (projection_energy, Z_TALL), (projection_energy, Z_WIDE), (right_vectors_magnitude, Z_TALL),
    (right_vectors_magnitude, Z_WIDE), (nuclear_norm, Z_WIDE), (gaussian_loglik, COV), (upper_factor, COV),
]
IDS = ["svd_projection_tall", "svd_projection_wide", "svd_right_vectors_tall", "svd_right_vectors_wide",
       "svd_nuclear_norm", "cholesky_loglik", "cholesky_upper"]


@pytest.mark.parametrize("fn,z", CASES, ids=IDS)
def test_reverse_mode_against_real_and_imaginary_differences(fn, z):
    expected = complex_fd_grad(fn, z)
    assert np.abs(expected).max() > 1e-2
    g = diffc.grad(fn)(z)
    assert g.dtype.kind == "c"
    assert_close(g.real, expected.real, rtol=1e-5, atol=1e-6, what="d/dx")
    assert_close(g.imag, expected.imag, rtol=1e-5, atol=1e-6, what="-d/dy")


@pytest.mark.parametrize("fn,z", CASES, ids=IDS)
def test_forward_mode_and_jvp_of_grad(fn, z):
    v = R.normal(size=z.shape) + 1j * R.normal(size=z.shape)
    value, tangent = diffc.jvp(fn, (z,), (v,))
    assert_close(value, fn(z), rtol=1e-12, atol=1e-12)
    assert_close(tangent, (fn(z + 1e-6 * v) - fn(z - 1e-6 * v)) / 2e-6, rtol=1e-5, atol=1e-6, what="jvp")
    grad = diffc.grad(fn)
    expected = (grad(z + 1e-5 * v) - grad(z - 1e-5 * v)) / 2e-5
    _, second = diffc.jvp(grad, (z,), (v,))
    assert_close(second.real, expected.real, rtol=1e-4, atol=1e-5, what="jvp of grad, real part")
    assert_close(second.imag, expected.imag, rtol=1e-4, atol=1e-5, what="jvp of grad, imaginary part")


def test_phase_dependent_loss_is_refused():
    with pytest.raises(NotImplementedError, match="phase"):
        diffc.grad(phase_dependent)(Z_TALL)


@pytest.mark.parametrize("z", [Z_TALL, Z_WIDE], ids=["tall", "wide"])
def test_forward_mode_of_phase_dependent_vectors_is_numpys(z):
    """Forward mode differentiates the phase LAPACK gives (first entry of each right vector
    real when m >= n, of each left vector when m < n), so even this loss gets NumPy's derivative."""
    v = R.normal(size=z.shape) + 1j * R.normal(size=z.shape)
    _, tangent = diffc.jvp(phase_dependent, (z,), (v,))
    expected = (phase_dependent(z + 1e-6 * v) - phase_dependent(z - 1e-6 * v)) / 2e-6
    assert abs(expected) > 1e-2
    assert_close(tangent, expected, rtol=1e-5, atol=1e-6, what="jvp")


def complex_least_squares(z):
    """Coefficients of a complex least-squares fit by the pseudo-inverse."""
    coef = np.linalg.pinv(z) @ (WEIGHT_ROWS[:z.shape[0]] + 0.5j)
    return np.real(np.sum(coef * np.conj(coef))) + np.sum(np.abs(np.linalg.pinv(z)[0]) ** 2)


@pytest.mark.parametrize("z", [Z_TALL, Z_WIDE], ids=["tall", "wide"])
def test_complex_pinv_both_modes(z):
    expected = complex_fd_grad(complex_least_squares, z)
    g = diffc.grad(complex_least_squares)(z)
    assert_close(g.real, expected.real, rtol=1e-5, atol=1e-6, what="d/dx")
    assert_close(g.imag, expected.imag, rtol=1e-5, atol=1e-6, what="-d/dy")
    v = R.normal(size=z.shape) + 1j * R.normal(size=z.shape)
    _, tangent = diffc.jvp(complex_least_squares, (z,), (v,))
    assert_close(tangent, np.real(np.sum(expected * v)), rtol=1e-5, atol=1e-6, what="jvp")
