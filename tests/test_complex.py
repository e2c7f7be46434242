"""Complex numbers (JAX's convention, diffc/rules/complex_rules.py) against finite
differences along real and imaginary directions."""

import warnings

import numpy as np
import pytest

import diffc

_rng = np.random.default_rng(5)
z0 = _rng.standard_normal(4) + 1j * _rng.standard_normal(4)


def _fd_complex_grad(f, z, eps=1e-6):
    """df/dx - i df/dy per entry: JAX's gradient of a real f at complex z."""
    g = np.zeros_like(z)
    for i in np.ndindex(z.shape):
        e = np.zeros_like(z)
        e[i] = eps
        dx = (f(z + e) - f(z - e)) / (2 * eps)
        dy = (f(z + 1j * e) - f(z - 1j * e)) / (2 * eps)
        g[i] = dx - 1j * dy
    return g


M = _rng.standard_normal((4, 4)) + 1j * _rng.standard_normal((4, 4))
CASES = [
    ("abs", lambda z: np.sum(np.abs(z) * np.arange(1, 5))),
    ("abs-squared", lambda z: np.sum(np.abs(z) ** 2)),
    ("real-imag", lambda z: np.sum(np.real(z) ** 2 * np.imag(z))),
    ("conj", lambda z: np.sum(np.real(z * np.conj(z * z)))),
    ("angle", lambda z: np.sum(np.angle(z) * np.arange(4))),
    ("exp-log", lambda z: np.sum(np.abs(np.exp(z) + np.log(z)))),
    ("matmul", lambda z: np.sum(np.abs(M @ z) ** 2)),
    ("fft", lambda z: np.sum(np.abs(np.fft.fft(z * z)) * np.arange(4))),
    ("ifft", lambda z: np.sum(np.real(np.fft.ifft(z)) ** 3)),
    ("norm", lambda z: np.linalg.norm(z * z)),
    ("arithmetic", lambda z: np.sum(np.abs((z * 2.0 - 1j) / (z + 3.0)))),
    ("vdot", lambda z: np.real(np.vdot(z, M @ z))),
]


@pytest.mark.parametrize("name,f", CASES, ids=[c[0] for c in CASES])
def test_grad_of_real_function_of_complex_input(name, f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(diffc.grad(f)(z0), _fd_complex_grad(f, z0), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name,f", CASES, ids=[c[0] for c in CASES])
def test_jvp_along_real_and_imaginary_directions(name, f):
    eps = 1e-6
    for v in (_rng.standard_normal(4) + 0j, 1j * _rng.standard_normal(4)):
        _, t = diffc.jvp(f, (z0,), (v,))
        fd = (f(z0 + eps * v) - f(z0 - eps * v)) / (2 * eps)
        np.testing.assert_allclose(t, fd, atol=1e-5, rtol=1e-5)


def test_abs_squared_gradient_is_twice_the_conjugate():
    """JAX's convention: grad(|z|^2)(z) = 2 conj(z)."""
    g = diffc.grad(lambda z: np.sum(np.abs(z) ** 2))(z0)
    np.testing.assert_allclose(g, 2 * np.conj(z0))


def test_real_input_through_complex_values_gets_a_real_gradient():
    def f(x):
        z = x[:2] * (1 + 2j)
        return np.sum(np.real(z * np.conj(z))) + np.abs(x[2] + 1j * x[3])
    x = np.array([0.3, -1.2, 0.7, 2.0])
    g = diffc.grad(f)(x)
    assert g.dtype == np.float64
    eps = 1e-6
    fd = np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(g, fd, atol=1e-6)


def test_hessian_of_abs_of_complex_intermediate():
    def f(x):
        z = x[0] + 1j * x[1]
        return np.abs(z * z + 1.0)
    x = np.array([0.4, -0.9])
    H = diffc.hessian(f)(x)
    eps = 1e-5
    g = diffc.grad(f)
    Hfd = np.array([(g(x + eps * e) - g(x - eps * e)) / (2 * eps) for e in np.eye(2)])
    np.testing.assert_allclose(H, Hfd, atol=1e-5)


MIXED = {
    "forward_over_reverse": lambda g: diffc.hessian(g),
    "reverse_over_forward": lambda g: diffc.grad(diffc.jacobian(g, mode="forward")),
    "forward_over_forward": lambda g: diffc.jacobian(diffc.jacobian(g, mode="forward"), mode="forward"),
    "reverse_over_reverse": lambda g: diffc.grad(diffc.grad(g)),
}
SECOND = [c for c in CASES if c[0] != "norm"]


QUICK = {("abs", "forward_over_reverse"), ("fft", "reverse_over_reverse"), ("angle", "reverse_over_forward"),
         ("matmul", "forward_over_forward"), ("conj", "forward_over_reverse"), ("vdot", "reverse_over_reverse")}
PAIRS = [(name, f, mode) for name, f in SECOND for mode in sorted(MIXED)]


@pytest.mark.parametrize("name,f,mode", [p for p in PAIRS if (p[0], p[2]) in QUICK],
                         ids=[f"{p[0]}-{p[2]}" for p in PAIRS if (p[0], p[2]) in QUICK])
def test_second_derivative_along_a_complex_direction(name, f, mode):
    _second_along(f, mode)


@pytest.mark.slow
@pytest.mark.parametrize("name,f,mode", [p for p in PAIRS if (p[0], p[2]) not in QUICK],
                         ids=[f"{p[0]}-{p[2]}" for p in PAIRS if (p[0], p[2]) not in QUICK])
def test_second_derivative_along_a_complex_direction_sweep(name, f, mode):
    _second_along(f, mode)


def _second_along(f, mode):
    """t -> f(z0 + t D) for a complex direction D: every complex value inside is
    differentiated twice; the reference is the central second difference."""
    D = np.random.default_rng(11).standard_normal(4) + 1j * np.random.default_rng(12).standard_normal(4)

    def g(t):
        return f(z0 + t * D)
    eps = 1e-4
    ref = (g(eps) - 2 * g(0.0) + g(-eps)) / eps ** 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = MIXED[mode](g)(0.0)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)


def test_second_derivative_of_a_complex_norm():
    """The 2-norm of a complex array at second order (reverse and forward), against differences
    of the first derivative; a spectral (ord=2) matrix norm's against its closed form."""
    def g(t):
        z = z0 + t * (1 + 1j)
        return np.linalg.norm(z * z)
    first = diffc.grad(g)
    np.testing.assert_allclose(first(0.0), (g(1e-6) - g(-1e-6)) / 2e-6, rtol=1e-6)
    expected = (first(1e-5) - first(-1e-5)) / 2e-5
    for second in (diffc.hessian(g), diffc.grad(diffc.grad(g)), diffc.grad(diffc.jacobian(g, mode="forward"))):
        np.testing.assert_allclose(np.ravel(second(0.0))[0], expected, rtol=1e-5)

    def spectral(t):
        return np.linalg.norm(np.reshape(z0[:4], (2, 2)) * (1.0 + t * 1j), 2)
    # |1 + i t| ||A||_2 = sqrt(1 + t^2) ||A||_2: second derivative ||A||_2 at t = 0
    closed_form = np.linalg.norm(np.reshape(z0[:4], (2, 2)), 2)
    np.testing.assert_allclose(diffc.hessian(spectral)(0.0), closed_form, rtol=1e-8)
    np.testing.assert_allclose(diffc.grad(diffc.grad(spectral))(0.0), closed_form, rtol=1e-8)


Z33 = _rng.standard_normal((3, 3)) + 1j * _rng.standard_normal((3, 3))


def _hermitian(Z):
    return Z + np.conj(Z.T)


def eigh_values(Z):
    w, V = np.linalg.eigh(_hermitian(Z))
    return np.sum(w * np.array([1.0, 2.0, 3.0]))


def eigh_vectors(Z):
    w, V = np.linalg.eigh(_hermitian(Z))
    return np.sum(np.abs(V) ** 2 * np.arange(9).reshape(3, 3)) + np.sum(w ** 2)


def eigh_upper(Z):
    w, V = np.linalg.eigh(Z, UPLO="U")           # reads the upper triangle, diagonal as real
    return np.sum(w ** 3)


def eigvalsh_cubed(Z):
    return np.sum(np.linalg.eigvalsh(_hermitian(Z)) ** 3)


def inverse(Z):
    return np.sum(np.abs(np.linalg.inv(Z + 3 * np.eye(3))) ** 2)


def solve(Z):
    return np.sum(np.abs(np.linalg.solve(Z + 3 * np.eye(3), np.arange(3.0))) ** 2)


def determinant(Z):
    return np.abs(np.linalg.det(Z)) + np.linalg.slogdet(Z)[1]


LINALG = [eigh_values, eigh_vectors, eigh_upper, eigvalsh_cubed, inverse, solve, determinant]


@pytest.mark.parametrize("f", LINALG, ids=[f.__name__ for f in LINALG])
def test_linalg_of_complex_matrices(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(diffc.grad(f)(Z33), _fd_complex_grad(f, Z33), atol=1e-5, rtol=1e-5)
        eps = 1e-6
        for V in (_rng.standard_normal((3, 3)) + 0j, 1j * _rng.standard_normal((3, 3))):
            _, t = diffc.jvp(f, (Z33,), (V,))
            np.testing.assert_allclose(t, (f(Z33 + eps * V) - f(Z33 - eps * V)) / (2 * eps), atol=1e-5, rtol=1e-5)


def test_complex_cholesky_is_differentiated_and_second_order_eigh():
    def chol(Z):
        return np.sum(np.abs(np.linalg.cholesky(Z @ np.conj(Z.T) + 3.0 * np.eye(3))) ** 2 * np.arange(9.0).reshape(3, 3))
    expected = np.zeros(Z33.shape, dtype=complex)
    for idx in np.ndindex(Z33.shape):
        for step, weight in ((1e-6, 1.0), (1e-6j, -1j)):
            e = np.zeros(Z33.shape, dtype=complex)
            e[idx] = step
            expected[idx] += weight * (chol(Z33 + e) - chol(Z33 - e)) / 2e-6
    np.testing.assert_allclose(diffc.grad(chol)(Z33), expected, rtol=1e-5, atol=1e-6)

    def g(t):
        return eigh_values(Z33 + t * (1 + 2j))
    np.testing.assert_allclose(diffc.grad(g)(0.0), (g(1e-6) - g(-1e-6)) / 2e-6, rtol=1e-5)
    first = diffc.grad(g)
    second = (first(1e-5) - first(-1e-5)) / 2e-5
    assert abs(second) > 1e-2
    np.testing.assert_allclose(diffc.hessian(g)(0.0), second, rtol=1e-5)


def square_plus_conj(z):
    return z * z + 0.5 * np.conj(z)


def test_python_complex_scalars_in_both_modes():
    z = 1.0 + 2.0j
    out, pullback = diffc.vjp(square_plus_conj, z)
    # vjp(ct) = ct * 2z + conj(ct * 0.5) (the conj part is not holomorphic)
    for ct in (1.0 + 0j, 0.3 - 0.7j):
        (bar,) = pullback(ct)
        np.testing.assert_allclose(bar, ct * 2 * z + np.conj(ct * 0.5))
    for t in (1.0 + 0j, 1j, 0.2 + 0.4j):
        _, tangent = diffc.jvp(square_plus_conj, (z,), (t,))
        eps = 1e-6
        fd = (square_plus_conj(z + eps * t) - square_plus_conj(z - eps * t)) / (2 * eps)
        np.testing.assert_allclose(tangent, fd, rtol=1e-6)


def test_grad_of_a_complex_valued_function_is_refused():
    with pytest.raises(diffc.DiffcError):
        diffc.grad(square_plus_conj)(1.0 + 2.0j)
