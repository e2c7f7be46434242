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


FAST_SVD_SECOND = {("along_path", "reverse_over_forward")}


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


def abs_based_norms(a):
    """Norms of a complex array that are those of |a|: vector 1, 3 and inf norms, matrix ord 1 and inf."""
    v = np.ravel(a)[:5]
    return (np.linalg.norm(v, 1) ** 2 + np.linalg.norm(v, 3) ** 2 + np.linalg.norm(v, np.inf) ** 2
            + np.linalg.norm(a, 1) ** 2 + np.linalg.norm(a, np.inf) + np.sum(np.linalg.norm(a, 1, axis=0) ** 2))


DECOMP_CASES = [(eigh_vectors_phase, HERM), (eigh_upper_mixed, HERM), (eigh_phase_free, HERM),
                (eigvalsh_upper, HERM), (spectral_norm, Z43), (smallest_singular_value, Z43),
                (nuclear_norm_squared, Z43), (stacked_norms, STACK), (abs_based_norms, Z43)]
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


FAST_DECOMP_SECOND = {("eigh_vectors_phase", "forward_over_reverse")}
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


@pytest.mark.parametrize("fn,z", [(eigh_vectors_phase, HERM), pytest.param(spectral_norm, Z43, marks=pytest.mark.slow)],
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


# ------------------------------------------------------------------ 2. scipy.stats with shape parameters
stats = pytest.importorskip("scipy.stats")
XS = np.array([0.2, 0.45, 0.7])
KS = np.array([0.0, 1.0, 3.0])
LOC_SCALE = np.array([0.05, 1.1])

# (name, function of one float array, point): the shape parameters passed positionally
# (SciPy's *args), loc and scale positionally or by keyword
STATS = [
    ("gamma_logcdf_x", lambda x: np.sum(stats.gamma.logcdf(x, 2.5)), XS),
    ("t_cdf_x", lambda x: np.sum(stats.t.cdf(x, 4.0)), XS),
    ("beta_cdf_x", lambda x: np.sum(stats.beta.cdf(x, 2.0, 3.0)), XS),
    ("t_logsf_x", lambda x: np.sum(stats.t.logsf(x, 4.0, 0.05, 1.1)), XS),
    ("gamma_logsf_x", lambda x: np.sum(stats.gamma.logsf(x, 2.5)), XS),
    ("beta_logsf_x", lambda x: np.sum(stats.beta.logsf(x, 2.0, 3.0)), XS),
    ("gamma_cdf_loc_scale_positional", lambda p: np.sum(stats.gamma.cdf(XS + 0.3, 2.5, p[0], p[1])), LOC_SCALE),
    ("t_logcdf_loc_scale_keywords", lambda p: np.sum(stats.t.logcdf(XS, 4.0, loc=p[0], scale=p[1])), LOC_SCALE),
    ("beta_sf_loc_scale", lambda p: np.sum(stats.beta.sf(XS, 2.0, 3.0, p[0], 1.5 * p[1])), LOC_SCALE),
    ("gamma_logpdf_shape", lambda p: np.sum(stats.gamma.logpdf(XS, p[0], 0.0, p[1])), np.array([2.5, 1.3])),
    ("t_logpdf_df", lambda p: np.sum(stats.t.logpdf(XS, p[0])), np.array([4.0])),
    ("poisson_logcdf_mu", lambda p: np.sum(stats.poisson.logcdf(KS, p[0])), np.array([2.2])),
    ("bernoulli_cdf_sf_p", lambda p: np.sum(stats.bernoulli.cdf(np.array([-1.0, 0.0, 1.0]), p[0]) * XS)
     + np.sum(stats.bernoulli.logcdf(np.array([0.0, 0.5]), p[0])) + stats.bernoulli.sf(0.0, p[0]), np.array([0.3])),
    ("binom_cdf_logcdf_sf_p", lambda p: np.sum(stats.binom.cdf(KS, 5, p[0]) * XS)
     + np.sum(stats.binom.logcdf(KS, 5, p[0])) + np.sum(stats.binom.sf(KS, 5, p[0])), np.array([0.4])),
]


@pytest.mark.parametrize("name,fn,x", STATS, ids=[row[0] for row in STATS])
def test_stats_with_shape_parameters_both_modes(name, fn, x):
    expected = numeric_grad(fn, [x], 0)
    assert np.abs(expected).max() > 1e-2
    assert_close(diffc.grad(fn)(x), expected, rtol=1e-6, atol=1e-8, what=f"{name} grad")
    v = np.linspace(0.5, 1.5, x.size)
    _, tangent = diffc.jvp(fn, (x,), (v,))
    assert_close(tangent, np.sum(expected * v), rtol=1e-6, atol=1e-8, what=f"{name} jvp")


def test_discrete_tails_equal_scipys():
    """The implementations diffc reads agree with SciPy, inside and outside 0 <= k < n."""
    k = np.array([-1.0, 0.0, 1.0, 2.0, 4.5, 5.0, 7.0])
    assert_close(diffc.grad(lambda p: np.sum(stats.binom.cdf(k, 5, p[0])))(np.array([0.4])),
                 numeric_grad(lambda p: np.sum(stats.binom.cdf(k, 5, p[0])), [np.array([0.4])], 0))
    from diffc.rules import scipy_stats as impl
    assert_close(impl.binom_cdf(k, 5, 0.3), stats.binom.cdf(k, 5, 0.3), rtol=1e-12, atol=1e-14)
    assert_close(impl.binom_sf(k, 5, 0.3), stats.binom.sf(k, 5, 0.3), rtol=1e-12, atol=1e-14)
    assert_close(impl.bernoulli_cdf(k, 0.3), stats.bernoulli.cdf(k, 0.3), rtol=1e-12, atol=1e-14)
    assert_close(impl.poisson_logcdf(k[1:], 2.2), stats.poisson.logcdf(k[1:], 2.2), rtol=1e-12, atol=1e-14)
    assert_close(impl.gamma_logsf(XS, 2.5), stats.gamma.logsf(XS, 2.5), rtol=1e-12, atol=1e-14)


def test_stats_cdf_second_order():
    fn = dict((row[0], row[1]) for row in STATS)["t_logcdf_loc_scale_keywords"]
    hess = fd_jacobian(diffc.grad(fn), LOC_SCALE, eps=1e-5)
    assert_close(diffc.hessian(fn)(LOC_SCALE), hess, rtol=1e-5, atol=1e-7, what="hessian")


def gamma_cdf_in_shape(p):
    return np.sum(stats.gamma.logcdf(XS, p[0]))


def t_cdf_in_df(p):
    return np.sum(stats.t.cdf(XS, p[0], 0.1))


def beta_cdf_in_b(p):
    return np.sum(stats.beta.cdf(XS, 2.0, p[0]))


@pytest.mark.parametrize("fn", [gamma_cdf_in_shape, t_cdf_in_df, beta_cdf_in_b], ids=["gamma_a", "t_df", "beta_b"])
def test_cdf_shape_parameter_by_quadrature(fn):
    """No closed form: the shape derivative is computed by quadrature (it was refused); checked
    against differences in both modes.  A second derivative in it is refused (a DiffcError,
    also a NotImplementedError), never a silent zero (its notes name the lines of the generated
    gradient being differentiated)."""
    p = np.array([2.5])
    expected = numeric_grad(fn, [p], 0)
    assert abs(expected[0]) > 1e-3
    assert_close(diffc.grad(fn)(p), expected, rtol=1e-6, atol=1e-9, what="grad")
    assert_close(diffc.jvp(fn, (p,), (np.ones(1),))[1], expected[0], rtol=1e-6, atol=1e-9, what="jvp")
    with pytest.raises(diffc.errors.DiffcError, match="second derivative") as caught:
        diffc.hessian(fn)(p)
    assert isinstance(caught.value, NotImplementedError)


# ------------------------------------------------------------------ 3. solve_ivp with events, no t_eval
solve_ivp = pytest.importorskip("scipy.integrate").solve_ivp
ODE_TIGHT = dict(rtol=1e-10, atol=1e-12)
P_FALL = np.array([2.0, 1.5, 9.81, 0.3])        # height, upward speed, gravity, drag


def falling(t, y, g, c):
    return np.array([y[1], -g - c * y[1]])


def ground(t, y, g, c):
    return y[0]


ground.terminal = True
ground.direction = -1


def apex(t, y, g, c):
    return y[1]


def half_height(t, y, g, c):
    return y[0] - 0.5 * g / 9.81


def impact_time(p):
    """When a thrown body with drag hits the ground: sol.t[-1], set by the terminal event."""
    sol = solve_ivp(falling, (0.0, 10.0), np.array([p[0], p[1]]), args=(p[2], p[3]), events=ground, **ODE_TIGHT)
    return sol.t[-1]


def impact_state(p):
    sol = solve_ivp(falling, (0.0, 10.0), np.array([p[0], p[1]]), args=(p[2], p[3]), events=ground, **ODE_TIGHT)
    return sol.y[1, -1] ** 2 + 0.1 * np.sum(sol.y[:, -1] ** 2) + sol.y[0, 0] * sol.y[1, -1]


def event_readings(p):
    """t_events / y_events of a terminal and two non-terminal events (the apex and the two
    crossings of a height that depends on g through the event function)."""
    sol = solve_ivp(falling, (0.0, 10.0), np.array([p[0], p[1]]), args=(p[2], p[3]),
                    events=[ground, apex, half_height], **ODE_TIGHT)
    return (2.0 * sol.t_events[0][0] + sol.t_events[1][0] ** 2 + np.sum(sol.y_events[1][0] * np.array([1.0, 3.0]))
            + sol.y_events[0][0][1] + np.sum(sol.t_events[2]) + np.sum(sol.y_events[2][:, 1]))


def started_late(t0):
    sol = solve_ivp(falling, (t0, 10.0), np.array([2.0, 1.5]), args=(9.81, 0.3), events=[ground, apex], **ODE_TIGHT)
    return sol.t[-1] + sol.t_events[1][0] ** 2 + sol.y[1, -1]


@pytest.mark.parametrize("fn", [impact_time, pytest.param(impact_state, marks=pytest.mark.slow), event_readings],
                         ids=lambda f: f.__name__)
def test_event_times_and_states_both_modes(fn):
    expected = numeric_grad(fn, [P_FALL], 0)
    assert np.all(np.abs(expected) > 1e-3)
    assert_close(diffc.grad(fn)(P_FALL), expected, rtol=1e-6, atol=1e-8, what="grad")
    v = np.array([0.3, -0.2, 0.5, 1.0])
    _, tangent = diffc.jvp(fn, (P_FALL,), (v,))
    assert_close(tangent, np.dot(expected, v), rtol=1e-6, atol=1e-8, what="jvp")


@pytest.mark.slow
def test_event_times_move_with_the_start_time():
    """An autonomous system started later reaches every event later by as much: d/dt0 of
    t_end + t_apex**2 + v_end is 1 + 2 t_apex."""
    expected = (started_late(0.5 + 1e-6) - started_late(0.5 - 1e-6)) / 2e-6
    assert_close(expected, 1.0 + 2 * solve_ivp(falling, (0.5, 10.0), np.array([2.0, 1.5]), args=(9.81, 0.3),
                                              events=apex, **ODE_TIGHT).t_events[0][0], rtol=1e-6)
    assert_close(diffc.grad(started_late)(0.5), expected, rtol=1e-6, atol=1e-8)
    assert_close(diffc.jvp(started_late, (0.5,), (1.0,))[1], expected, rtol=1e-6, atol=1e-8)


@pytest.mark.slow
def test_second_derivative_through_event_times_is_refused():
    for run in (lambda: diffc.hessian(impact_time)(P_FALL), lambda: diffc.jacobian(diffc.grad(event_readings))(P_FALL)):
        with pytest.raises(diffc.errors.DiffcError, match="second derivatives through the times of solve_ivp"):
            run()
