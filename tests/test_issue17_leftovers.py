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


FAST_SVD_SECOND = {("along_path", "reverse_over_forward"), ("along_path_reduced", "reverse_over_reverse")}


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("h,mode", [
    pytest.param(h, mode, marks=() if (h.__name__, mode) in FAST_SVD_SECOND else pytest.mark.slow,
                 id=f"{h.__name__}-{mode}")
    for h in (along_path, along_path_reduced) for mode in sorted(MIXED)])
def test_complex_svd_reconstruction_second_order(h, mode):
    expected = second_difference(h)
    assert abs(expected) > 1e-1
    first = diffc.grad(h)
    assert_close(first(0.0), (h(1e-6) - h(-1e-6)) / 2e-6, rtol=1e-6, atol=1e-7, what="first derivative")
    assert_close(MIXED[mode](h)(0.0), expected, rtol=1e-5, atol=1e-5, what=mode)


@pytest.mark.slow
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


# ------------------------------------------------------------------ complex eigh and spectral norms
# eigh of a complex Hermitian matrix follows LAPACK's phase (first row of V real for UPLO="L",
# last row for "U"), so even a loss reading the phase of the eigenvectors is differentiated
# as NumPy computes it; second order was refused and now works in every mode.
Q33 = RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3))
HERM = Q33 + np.conj(Q33).T
Z43 = RNG.normal(size=(4, 3)) + 1j * RNG.normal(size=(4, 3))
STACK = RNG.normal(size=(2, 3, 3)) + 1j * RNG.normal(size=(2, 3, 3))


def eigh_vectors_phase(a):
    w, v = np.linalg.eigh(a)
    return np.sum(np.real(v) * W33) + np.sum(np.imag(v) ** 2 * W33.T)


def eigh_upper_mixed(a):
    w, v = np.linalg.eigh(a, UPLO="U")
    return np.sum(np.real(v) * W33) + np.sum(w * np.arange(3.0))


def eigh_phase_free(a):
    w, v = np.linalg.eigh(a)
    return np.sum(np.abs(v) ** 2 * W33) + np.sum(w ** 3)


def eigvalsh_upper(a):
    return np.sum(np.linalg.eigvalsh(a, UPLO="U") ** 3 * np.arange(1.0, 4.0))


def spectral_norm(a):
    return np.linalg.norm(a, 2) ** 2 + np.linalg.norm(a, 2)


def smallest_singular_value(a):
    return np.linalg.norm(a, -2) ** 3


def nuclear_norm_squared(a):
    return np.linalg.norm(a, "nuc") ** 2


def stacked_norms(a):
    return np.sum(np.linalg.norm(a, 2, axis=(1, 2)) ** 2) + np.sum(np.linalg.norm(a, "nuc", axis=(2, 1)))


DECOMP_CASES = [(eigh_vectors_phase, HERM), (eigh_upper_mixed, HERM), (eigh_phase_free, HERM),
                (eigvalsh_upper, HERM), (spectral_norm, Z43), (smallest_singular_value, Z43),
                (nuclear_norm_squared, Z43), (stacked_norms, STACK)]
DECOMP_IDS = [f.__name__ for f, _ in DECOMP_CASES]


@pytest.mark.parametrize("fn,z", DECOMP_CASES, ids=DECOMP_IDS)
def test_complex_decomposition_first_order(fn, z):
    expected = complex_fd_grad(fn, z)
    assert np.abs(expected).max() > 1e-1
    g = diffc.grad(fn)(z)
    assert_close(g.real, expected.real, rtol=1e-5, atol=1e-6, what="d/dx")
    assert_close(g.imag, expected.imag, rtol=1e-5, atol=1e-6, what="-d/dy")
    v = RNG.normal(size=z.shape) + 1j * RNG.normal(size=z.shape)
    _, tangent = diffc.jvp(fn, (z,), (v,))
    assert_close(tangent, np.real(np.sum(expected * v)), rtol=1e-5, atol=1e-6, what="jvp")


FAST_DECOMP_SECOND = {("eigh_vectors_phase", "forward_over_reverse"), ("spectral_norm", "reverse_over_forward")}
DECOMP_SECOND = [pytest.param(fn, z, mode, marks=() if (fn.__name__, mode) in FAST_DECOMP_SECOND
                              else pytest.mark.slow, id=f"{fn.__name__}-{mode}")
                 for fn, z in DECOMP_CASES for mode in sorted(MIXED)]


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
@pytest.mark.parametrize("fn,z,mode", DECOMP_SECOND)
def test_complex_decomposition_second_order_along_a_path(fn, z, mode):
    """t -> fn(z + t D), D complex (not Hermitian: eigh reads one triangle): every mode of
    second derivative against differences of the first, itself checked against fn."""
    d = np.random.default_rng(7).normal(size=z.shape) + 1j * np.random.default_rng(8).normal(size=z.shape)

    def h(t):
        return fn(z + t * d)
    first = diffc.grad(h)
    assert_close(first(0.0), (h(1e-6) - h(-1e-6)) / 2e-6, rtol=1e-6, atol=1e-7, what="first derivative")
    expected = (first(1e-5) - first(-1e-5)) / 2e-5
    assert abs(expected) > 1e-2
    assert_close(MIXED[mode](h)(0.0), expected, rtol=1e-6, atol=1e-6, what=mode)


@pytest.mark.parametrize("fn,z", [(eigh_vectors_phase, HERM), (spectral_norm, Z43)],
                         ids=["eigh_vectors_phase", "spectral_norm"])
def test_hessian_vector_product_at_a_complex_point(fn, z):
    """jvp of grad along a complex direction against differences of grad (real and imaginary parts)."""
    v = RNG.normal(size=z.shape) + 1j * RNG.normal(size=z.shape)
    grad = diffc.grad(fn)
    expected = (grad(z + 1e-5 * v) - grad(z - 1e-5 * v)) / 2e-5
    _, got = diffc.jvp(grad, (z,), (v,))
    assert_close(got.real, expected.real, rtol=1e-5, atol=1e-6, what="real part")
    assert_close(got.imag, expected.imag, rtol=1e-5, atol=1e-6, what="imaginary part")


def test_eigenvector_phase_at_a_matrix_where_it_is_not_fixed():
    """A diagonal Hermitian matrix: LAPACK's anchor row (the first) has zeros, so the phase of
    the vectors is not determined.  A loss free of it is differentiated in reverse mode; one
    that reads it is refused, and forward mode refuses rather than pick a phase."""
    a = np.diag([1.0, 2.0, 4.0]) + 0j
    _, v = np.linalg.eigh(a)
    assert np.min(np.abs(v[0])) < 1e-6
    g = diffc.grad(eigh_phase_free)(a)
    expected = complex_fd_grad(eigh_phase_free, a)
    assert_close(g.real, expected.real, rtol=1e-5, atol=1e-6)
    assert_close(g.imag, expected.imag, rtol=1e-5, atol=1e-6)
    with pytest.raises(NotImplementedError, match="phase"):
        diffc.grad(lambda m: np.sum(np.imag(np.linalg.eigh(m)[1]) * W33))(a)
    with pytest.raises(NotImplementedError, match="phase"):
        diffc.jvp(eigh_phase_free, (a,), (a,))
