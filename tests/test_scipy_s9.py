"""SciPy calls of session 9 (issue 17): quadrature, interpolation, filters, DCTs, ``x.flat``.

- scipy.integrate.simpson (in y and the sample points x) and quad (in the bounds, by the
  fundamental theorem, and in the parameters passed through args, by differentiating
  under the integral; the integrand is the user's Python);
- scipy.interpolate.interp1d and CubicSpline, in y, the query points and the knots; SciPy
  interpolants built outside the differentiated code, in the query points;
- scipy.signal.savgol_filter and scipy.fft.dct/idct/dctn/idctn, dst/idst/dstn/idstn (linear maps);
- ``x.flat[i]`` and ``x.flat[::2]`` reads.
Values are SciPy's; derivatives are checked against central finite differences in both
modes (and at second order where noted); what is not differentiated is refused naming
the user's line.
"""
import numpy as np
import pytest

scipy = pytest.importorskip("scipy")
import scipy.fft as sfft  # noqa: E402
import scipy.integrate as si  # noqa: E402
import scipy.interpolate as sint  # noqa: E402
import scipy.signal as ss  # noqa: E402

import diffc  # noqa: E402
from diffc.rules import scipy_interpolate as interp  # noqa: E402
from diffc.rules import scipy_quadrature as quadrature  # noqa: E402
from diffc.rules import scipy_transforms as transforms  # noqa: E402
from gradcheck import check_both_modes  # noqa: E402

RNG = np.random.default_rng(9)
KNOTS = np.array([0.0, 0.4, 1.1, 1.5, 2.3, 3.0])
QUERY = np.array([0.1, 0.7, 1.45, 2.9])


# ------------------------------------------------------------------ values are SciPy's

@pytest.mark.parametrize("n", [2, 3, 4, 5, 8])
def test_simpson_values(n):
    x = np.sort(RNG.uniform(0.0, 3.0, n))
    y = RNG.normal(size=(3, n))
    for kwargs in ({"x": x}, {"dx": 0.3}, {}):
        np.testing.assert_allclose(quadrature.integrate_simpson(y, **kwargs), si.simpson(y, **kwargs), rtol=1e-12,
                                   atol=1e-14)
        np.testing.assert_allclose(quadrature.integrate_simpson(y.T, axis=0, **kwargs),
                                   si.simpson(y.T, axis=0, **kwargs), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("sine", [False, True], ids=["dct", "dst"])
def test_transposes_are_the_dense_matrices_transposed(sine):
    transform, inverse, ours = (sfft.dst, sfft.idst, transforms.fft_idst) if sine else \
        (sfft.dct, sfft.idct, transforms.fft_idct)
    x = RNG.normal(size=(2, 6))
    for kind in (1, 2, 3, 4):
        for norm in (None, "backward", "forward", "ortho"):
            for orthogonalize in (None, True, False):
                for n in (None, 4, 9):
                    matrix = transform(np.eye(6), type=kind, n=n, norm=norm, orthogonalize=orthogonalize, axis=0)
                    g = RNG.normal(size=(2, matrix.shape[0]))
                    np.testing.assert_allclose(transforms.dct_transpose(g, x, kind, n, -1, norm, orthogonalize, sine),
                                               g @ matrix, rtol=1e-10, atol=1e-12)
                    np.testing.assert_allclose(ours(x, kind, n, norm=norm, orthogonalize=orthogonalize),
                                               inverse(x, kind, n, norm=norm, orthogonalize=orthogonalize),
                                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("sine", [False, True], ids=["dctn", "dstn"])
def test_n_dimensional_values_and_transposes(sine):
    transform, inverse, ours = (sfft.dstn, sfft.idstn, transforms.fft_idstn) if sine else \
        (sfft.dctn, sfft.idctn, transforms.fft_idctn)
    x = RNG.normal(size=(4, 5, 3))
    for kwargs in ({}, {"axes": (0, 2)}, {"s": (3, 7)}, {"type": 3, "norm": "ortho"}, {"type": 1, "norm": "forward"}):
        np.testing.assert_allclose(ours(x, **kwargs), inverse(x, **kwargs), rtol=1e-10, atol=1e-12)
        g = RNG.normal(size=np.shape(transform(x, **kwargs)))
        probe = RNG.normal(size=x.shape)
        assert np.isclose(np.sum(g * transform(probe, **kwargs)),
                          np.sum(transforms.dctn_transpose(g, x, sine=sine, **kwargs) * probe), rtol=1e-10)


@pytest.mark.parametrize("window,order", [(5, 2), (7, 3), (4, 2), (6, 1), (3, 0)])
def test_savgol_values(window, order):
    y = RNG.normal(size=(11, 12))
    for deriv in (0, 1):
        for mode in ("interp", "mirror", "nearest", "constant", "wrap"):
            for axis in (-1, 0):
                np.testing.assert_allclose(
                    transforms.signal_savgol_filter(y, window, order, deriv=deriv, delta=0.5, axis=axis, mode=mode),
                    ss.savgol_filter(y, window, order, deriv=deriv, delta=0.5, axis=axis, mode=mode),
                    rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 7])
def test_spline_values(n):
    x = np.sort(RNG.uniform(0.0, 3.0, n))
    y = RNG.normal(size=n)
    stacked = RNG.normal(size=(n, 2, 3))
    points = np.concatenate([RNG.uniform(-0.5, 3.5, 6), x])
    for bc_type in ("not-a-knot", "natural", "clamped"):
        for nu in (0, 1, 2, 3):
            expected = sint.CubicSpline(x, y, bc_type=bc_type)(points, nu)
            np.testing.assert_allclose(interp.cubic_spline(x, y, bc_type=bc_type)(points, nu), expected,
                                       rtol=1e-9, atol=1e-9 * max(1.0, np.max(np.abs(expected))))
            moved = np.moveaxis(stacked, 0, 1)
            expected = sint.CubicSpline(x, moved, axis=1, bc_type=bc_type)(points[:3].reshape(3, 1), nu)
            got = interp.cubic_spline(x, moved, axis=1, bc_type=bc_type)(points[:3].reshape(3, 1), nu)
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9 * max(1.0, np.max(np.abs(expected))))


def test_spline_extrapolate_false_gives_nan_outside():
    y = np.cos(KNOTS)
    points = np.array([-0.5, 0.3, 2.0, 3.5])
    for made, called in (({}, {}), ({"extrapolate": False}, {}), ({}, {"extrapolate": False}),
                         ({"extrapolate": False}, {"extrapolate": True})):
        np.testing.assert_allclose(interp.cubic_spline(KNOTS, y, **made)(points, **called),
                                   sint.CubicSpline(KNOTS, y, **made)(points, **called), rtol=1e-12)


def test_spline_integrate_and_derivative_values():
    values = np.stack([np.cos(KNOTS), np.sin(KNOTS) ** 2], axis=1)
    ours, theirs = interp.cubic_spline(KNOTS, values), sint.CubicSpline(KNOTS, values)
    for a, b in ((0.2, 2.5), (-1.0, 4.0), (2.5, 0.2), (1.1, 1.1)):
        for extrapolate in (None, False):
            np.testing.assert_allclose(ours.integrate(a, b, extrapolate), theirs.integrate(a, b, extrapolate),
                                       rtol=1e-12)
    for nu in (1, 2, 3):
        np.testing.assert_allclose(ours.derivative(nu)(QUERY), theirs.derivative(nu)(QUERY), rtol=1e-12)


@pytest.mark.parametrize("kind", ["linear", "slinear", "cubic", "nearest", "nearest-up", "previous", "next", "zero"])
def test_interp1d_values(kind):
    x = np.sort(RNG.uniform(0.0, 3.0, 7))
    y = RNG.normal(size=(7, 2, 3))
    inside = RNG.uniform(x[0], x[-1], 6)
    anywhere = np.concatenate([RNG.uniform(-0.5, 3.5, 6), x, x[:1]])
    for kwargs, points in (({}, inside), ({"fill_value": "extrapolate"}, anywhere), ({"bounds_error": False}, anywhere),
                           ({"bounds_error": False, "fill_value": (-1.0, 2.0)}, anywhere)):
        for axis in (0, -1):
            values = y if axis == 0 else y.T
            expected = sint.interp1d(x, values, kind=kind, axis=axis, **kwargs)(points.reshape(2, -1))
            got = interp.interp1d(x, values, kind=kind, axis=axis, **kwargs)(points.reshape(2, -1))
            assert got.shape == expected.shape
            np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    shuffled = RNG.permutation(7)
    np.testing.assert_allclose(interp.interp1d(x[shuffled], y[shuffled], axis=0)(inside),
                               sint.interp1d(x[shuffled], y[shuffled], axis=0)(inside), rtol=1e-12)


# ------------------------------------------------------------------ derivatives

def simpson_areas(y, x):
    return si.simpson(y ** 2, x=x) + si.simpson(np.sin(y), x) + si.simpson(y[:5], dx=0.1)


def damped(t, a, b):
    return a * np.sin(b * t) + t * t * a


def integral_in_bounds_and_args(a, b):
    return si.quad(damped, 0.2, b, args=(a, b))[0]


def gauss(t, w):
    return np.exp(-w[0] * t * t) * (1.0 + w[1] * t)


def improper_and_closure(w, lo):
    def wave(t):
        return np.exp(-w[0] * t) * np.cos(w[1] * t)
    value, error = si.quad(wave, lo, 2.0)
    return value * w[2] + si.quad(gauss, -np.inf, np.inf, args=(w[:2],))[0] \
        + si.quad(lambda t, c: c * t ** 2, 0.0, w[0], args=(w[1],))[0]


def spectra(x):
    c = sfft.dct(x * x, norm="ortho")
    d = sfft.dct(x, type=1, n=8) + sfft.idct(np.sin(x), type=2, n=5)[:5].sum()
    e = sfft.dct(np.outer(x, x), type=3, axis=0, norm="forward")
    return np.sum(c[:3] ** 2) + np.sum(d * np.arange(8.0)) + np.sum(e ** 2) \
        + np.sum(sfft.dctn(np.outer(x, x[:3]), type=4) * 0.3) + np.sum(sfft.idctn(np.outer(x, x), norm="ortho") ** 3) \
        + np.sum(sfft.dst(x ** 3, type=2, n=7) * np.arange(7.0)) + np.sum(sfft.idst(x, type=1, norm="forward") ** 2) \
        + np.sum(sfft.dstn(np.outer(x[:4], x), type=3) ** 2) * 0.01


def smoothed(y):
    s = ss.savgol_filter(y, 5, 2)
    d = ss.savgol_filter(y * y, 4, 2, deriv=1, delta=0.1, mode="nearest")
    return np.sum(s ** 3) + np.sum(d * np.linspace(0.0, 1.0, len(y)))


def interpolation(w):
    """Splines and interp1d in their values y, the query points xq and the knots."""
    y, xq, knots = w[:6], w[6:10], KNOTS + w[10:] * np.array([0.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    s = sint.CubicSpline(KNOTS, y)
    n = sint.CubicSpline(KNOTS, y * y, bc_type="natural")
    f = sint.interp1d(KNOTS, y)
    g = sint.interp1d(KNOTS, np.sin(y), kind="cubic")
    h = sint.interp1d(KNOTS, y, kind="previous", bounds_error=False, fill_value=0.5)
    slope = s.derivative()
    moved = sint.CubicSpline(knots, np.cos(KNOTS))(QUERY) + sint.interp1d(knots, np.sin(KNOTS), kind="cubic")(QUERY)
    return (np.sum(s(xq) ** 2) + np.sum(s(xq, 1)) + np.sum(n(xq, 2) * xq) + np.sum(f(xq) ** 2)
            + np.sum(g(xq) * xq) + np.sum(h(xq + 0.25) ** 2) + s.integrate(0.2, xq[2])
            + np.sum(slope(np.array([0.5, xq[1]])) ** 2) + np.sum(moved ** 3)
            + np.sum(sint.interp1d(knots, np.sin(KNOTS))(QUERY) ** 3))


TABLE = sint.interp1d(KNOTS, np.cos(KNOTS), kind="cubic")
CURVES = sint.interp1d(KNOTS, np.stack([np.cos(KNOTS), np.sin(KNOTS)]), fill_value=0.3, bounds_error=False)
PCHIP = sint.PchipInterpolator(KNOTS, np.sin(KNOTS))


def interpolants_made_outside(p, spline):
    """Tables built once outside (module level, an argument): constants read at query points p."""
    return (np.sum(TABLE(p) ** 2) + np.sum(CURVES(p * 1.5) ** 3) + np.sum(PCHIP(p) * p) + np.sum(spline(p, 1) ** 2)
            + np.sum(spline(p) ** 2))


def flat_reads(y):
    total = y.flat[2] * y.flat[5] + np.sum(y.flat[::2] ** 2) + np.sum(np.sin(y.flat[[1, 3, 3]]))
    for v in y.flat:
        total = total + v ** 3
    return total


# (function, arguments, whether the default suite checks second order too: the others do
# in test_second_order, marked slow — each compiles reverse over reverse of a large body)
CASES = [
    (simpson_areas, [np.cos(KNOTS), KNOTS.copy()], False),
    (integral_in_bounds_and_args, [1.0, 2.0], False),
    (improper_and_closure, [np.array([0.5, 1.2, 2.0]), 0.3], False),
    (spectra, [np.array([0.3, -0.2, 0.5, 0.1, 0.7, 1.1])], True),
    (smoothed, [np.cos(np.arange(9.0))], False),
    (interpolation, [np.concatenate([np.cos(KNOTS), QUERY, 0.05 * np.sin(np.arange(6.0))])], False),
    (flat_reads, [np.arange(6.0).reshape(2, 3) * 0.3 + 0.1], True),
]


def test_interpolants_made_outside():
    spline = sint.CubicSpline(KNOTS, np.stack([np.cos(KNOTS), np.sin(KNOTS)], axis=1))
    check_both_modes(interpolants_made_outside, [np.array([0.3, 1.2, 2.1]), spline], wrts=[0])


@pytest.mark.parametrize("fn,args,second", CASES, ids=[c[0].__name__ for c in CASES])
def test_derivatives_match_finite_differences(fn, args, second):
    check_both_modes(fn, args, second=second)


@pytest.mark.slow
@pytest.mark.parametrize("fn,args", [c[:2] for c in CASES if not c[2]], ids=[c[0].__name__ for c in CASES if not c[2]])
def test_second_order(fn, args):
    check_both_modes(fn, args)


def test_complex_transforms_follow_the_real_linear_map():
    # grad of a real function of complex z is df/dx - i df/dy (JAX's convention); jvp along complex directions
    z = np.array([0.3 + 0.2j, -0.1 + 0.5j, 0.4 - 0.3j, 0.2 + 0.1j])

    def power(z):
        return np.sum(np.abs(sfft.dct(z * z, norm="ortho")) ** 2) + np.sum(np.abs(sfft.idst(z, type=3)) ** 2)

    eps = 1e-6
    expected = np.array([(power(z + eps * e) - power(z - eps * e)) / (2 * eps)
                         - 1j * (power(z + 1j * eps * e) - power(z - 1j * eps * e)) / (2 * eps) for e in np.eye(4)])
    np.testing.assert_allclose(diffc.grad(power)(z), expected, rtol=1e-6, atol=1e-8)
    direction = np.array([1.0, -0.5j, 0.3, 0.2 + 0.1j])
    np.testing.assert_allclose(diffc.jvp(power, (z,), (direction,))[1],
                               (power(z + eps * direction) - power(z - eps * direction)) / (2 * eps), rtol=1e-6)


# ------------------------------------------------------------------ refusals name the line

def spline_order_kind(y):
    return sint.interp1d(KNOTS, y, kind=5)(0.5)


def second_antiderivative(y):
    return sint.CubicSpline(KNOTS, y).antiderivative(2)(0.5)


def weighted_quad(a):
    return si.quad(lambda t, c: c * t, 0.0, 1.0, args=(a,), complex_func=True)[0]


def flat_write(y):
    z = y * 1.0
    z.flat[2] = 5.0
    return np.sum(z ** 2)


@pytest.mark.parametrize("fn,arg", [(spline_order_kind, np.cos(KNOTS)), (second_antiderivative, np.cos(KNOTS)),
                                    (weighted_quad, 1.5), (flat_write, np.ones(4))])
def test_refusals_name_the_line(fn, arg):
    for run in (lambda: diffc.grad(fn)(arg), lambda: diffc.jvp(fn, (arg,), (arg * 0.0 + 1.0,))):
        with pytest.raises(diffc.DiffcError) as info:
            run()
        text = str(info.value) + "\n".join(getattr(info.value, "__notes__", []))
        assert "test_scipy_s9.py" in text


def decay_rate(k):
    def rhs(y, t):
        return -k * y
    return rhs


def ode_through_a_factory(w):
    ys = si.odeint(decay_rate(w[0]), np.array([1.0, 2.0]), np.array([0.0, 0.5, 1.0]))
    return np.sum(ys[-1] ** 2) * w[1]


def test_right_hand_side_from_a_factory_is_refused_in_every_mode():
    # the rate reaches odeint inside a closure diffc cannot pass through args: jvp returned the
    # derivative in w[1] alone and hessian zeros (silently wrong) before the check ran there too
    w = np.array([0.7, 1.3])
    for run in (lambda: diffc.grad(ode_through_a_factory)(w), lambda: diffc.jvp(ode_through_a_factory, (w,), (w,)),
                lambda: diffc.hessian(ode_through_a_factory)(w)):
        with pytest.raises(diffc.DiffcError):
            run()


def phase_dependent(x):
    a = PHASED * x[0] + 1j * x[1]
    u, s, vh = np.linalg.svd(a)
    return np.real(np.sum(u))


PHASED = np.array([[1.0 + 0.5j, 0.2 - 1.0j, 0.3j], [-0.4, 0.8 + 0.1j, 1.1], [0.5 - 0.2j, 0.1, -0.7 + 0.9j]])


def test_phase_dependent_svd_is_refused_at_second_order_too():
    # the first derivative was refused, while hessian (forward over reverse) returned numbers:
    # the phase check, a discarded call, was dropped when diffc read the adjoint's body
    x = np.array([1.0, 0.3])
    for run in (lambda: diffc.grad(phase_dependent)(x), lambda: diffc.hessian(phase_dependent)(x)):
        with pytest.raises(diffc.DiffcError):
            run()
