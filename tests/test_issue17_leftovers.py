"""Issue 17 leftovers: complex second order through decompositions, scipy.stats with shape
parameters passed positionally, solve_ivp with a terminal event.

The complex convention is JAX's (diffc/rules/complex_rules.py): grad of a real f at complex
z is df/dx - i df/dy.  Every derivative is checked against central differences (of the
function, or of its gradient for second order), in both modes.
"""
import warnings

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

RNG = np.random.default_rng(1723)
A_C = RNG.normal(size=(2, 3)) + 1j * RNG.normal(size=(2, 3))
W33 = RNG.normal(size=(3, 3))
Z33 = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))
D33 = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))
X3 = np.array([0.3, 1.2, -0.7])


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


MIXED = {
    "forward_over_reverse": lambda g: diffc.hessian(g),
    "reverse_over_forward": lambda g: diffc.grad(diffc.jacobian(g, mode="forward")),
    "forward_over_forward": lambda g: diffc.jacobian(diffc.jacobian(g, mode="forward"), mode="forward"),
    "reverse_over_reverse": lambda g: diffc.grad(diffc.grad(g)),
}


def second_difference(h, eps=1e-4):
    return (h(eps) - 2 * h(0.0) + h(-eps)) / eps ** 2


# ------------------------------------------------------------------ 1. real slices meeting complex values
# A part of a real array (x[:2], a row) combined with complex numbers: its adjoint arrives
# complex, and only the real part belongs in the real gradient (it crashed with NumPy's
# UFuncOutputCastingError when added in place).

def diag_times_complex(x):
    return np.real(np.sum(np.diag(x[:2]) @ A_C))


def complex_matrix_times_slice(x):
    return np.real(np.sum(A_C.T @ x[:2])) + np.imag(np.sum(A_C @ x)) ** 2


def outer_then_complex(x):
    return np.abs(np.sum(np.outer(x[:2], x[1:]) @ A_C))


def stacked_rows(x):
    return np.real(np.sum(np.transpose(np.stack([x[:2], x[1:]])) @ A_C))


def rows_of_a_matrix(m):
    return np.sum(np.abs(m[0] @ A_C.T) ** 2) + np.real(np.sum(m[1:] @ A_C.T))


REAL_SLICES = [(diag_times_complex, X3), (complex_matrix_times_slice, X3), (outer_then_complex, X3),
               (stacked_rows, X3), (rows_of_a_matrix, W33)]


@pytest.mark.parametrize("fn,x", REAL_SLICES, ids=[f.__name__ for f, _ in REAL_SLICES])
def test_real_slice_through_complex_values_both_modes(fn, x):
    expected = numeric_grad(fn, [x], 0)
    assert np.abs(expected).max() > 1e-2
    g = diffc.grad(fn)(x)
    assert g.dtype == np.float64
    assert_close(g, expected, rtol=1e-6, atol=1e-7, what="grad")
    v = RNG.normal(size=x.shape)
    _, tangent = diffc.jvp(fn, (x,), (v,))
    assert_close(tangent, np.sum(expected * v), rtol=1e-6, atol=1e-7, what="jvp")
    hess = fd_jacobian(diffc.grad(fn), x, eps=1e-5)
    assert_close(diffc.hessian(fn)(x), hess, rtol=1e-5, atol=1e-6, what="hessian")


# ------------------------------------------------------------------ svd reconstructions, second order

def low_rank_energy(u, s, vh):
    """Weighted energy of the rank-2 part of a matrix: phase-free in the singular vectors."""
    return np.real(np.sum((u[:, :2] @ np.diag(s[:2]) @ vh[:2]) * W33))


def along_path(t):
    u, s, vh = np.linalg.svd(Z33 + t * D33)
    return low_rank_energy(u, s, vh)


def along_path_reduced(t, energy=low_rank_energy):
    """The helper passed as a default argument: called through a dynamic call."""
    u, s, vh = np.linalg.svd(Z33 + t * D33, full_matrices=False)
    return energy(u, s, vh)


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("mode", sorted(MIXED))
@pytest.mark.parametrize("h", [along_path, along_path_reduced], ids=["direct", "dynamic_call"])
def test_complex_svd_reconstruction_second_order(h, mode):
    expected = second_difference(h)
    assert abs(expected) > 1e-1
    first = diffc.grad(h)
    assert_close(first(0.0), (h(1e-6) - h(-1e-6)) / 2e-6, rtol=1e-6, atol=1e-7, what="first derivative")
    assert_close(MIXED[mode](h)(0.0), expected, rtol=1e-5, atol=1e-5, what=mode)


def test_reverse_over_forward_of_complex_svd_at_a_complex_point():
    """grad(z -> jvp(f)(z; V)) against differences of the directional derivative, along real
    and imaginary directions; f calls a lambda's default helper with the svd unpacked."""
    f = lambda z, energy=low_rank_energy: energy(*np.linalg.svd(z))    # noqa: E731

    def directional(z):
        return diffc.jvp(f, (z,), (D33,))[1]
    got = diffc.grad(directional)(Z33)
    expected = complex_fd_grad(lambda z: (f(z + 1e-5 * D33) - f(z - 1e-5 * D33)) / 2e-5, Z33, eps=1e-4)
    assert np.abs(expected).max() > 1e-1
    assert_close(got.real, expected.real, rtol=1e-4, atol=1e-4, what="d/dx")
    assert_close(got.imag, expected.imag, rtol=1e-4, atol=1e-4, what="-d/dy")
    # the same numbers by forward over reverse: jvp of the gradient along D33
    _, hv = diffc.jvp(diffc.grad(f), (Z33,), (D33,))
    assert_close(got.real, hv.real, rtol=1e-8, atol=1e-8, what="grad of jvp vs jvp of grad")
    assert_close(got.imag, hv.imag, rtol=1e-8, atol=1e-8, what="grad of jvp vs jvp of grad")
