"""NumPy functions differentiated through plain-NumPy implementations
(diffc/rules/numpy_implementations.py): each gives NumPy's values, and its derivatives
match central finite differences in both modes and at second order.  They were refused
("no derivative rule") before."""
import numpy as np
import pytest

import diffc
from diffc.rules import numpy_implementations as impl
from gradcheck import check_both_modes, second_order_cases

RNG = np.random.default_rng(7)
A = RNG.normal(size=(3, 4))
V = RNG.normal(size=5)
W = RNG.normal(size=3)


# ---------------------------------------------------------------- values are NumPy's

VALUE_CASES = [
    (np.ediff1d, impl.ediff1d, (A,), {}),
    (np.ediff1d, impl.ediff1d, (V,), {"to_begin": [1.0, 2.0], "to_end": 3.0}),
    (np.diagflat, impl.diagflat, (A[:2, :2],), {"k": -1}),
    (np.linalg.multi_dot, impl.multi_dot, ([A, A.T, A],), {}),
    (np.correlate, impl.correlate, (V, W), {"mode": "valid"}),
    (np.correlate, impl.correlate, (V, W), {"mode": "same"}),
    (np.correlate, impl.correlate, (W, V), {"mode": "full"}),
    (np.correlate, impl.correlate, (W, V), {"mode": "valid"}),
    (np.meshgrid, impl.meshgrid, (V, W), {}),
    (np.meshgrid, impl.meshgrid, (V, W, V[:2]), {"indexing": "ij"}),
    (np.meshgrid, impl.meshgrid, (V, W), {"sparse": True}),
    (np.block, impl.block, ([[A, A[:, :2]], [A[:1], A[:1, :2]]],), {}),
    (np.block, impl.block, ([V, W, 1.0],), {}),
    (np.cov, impl.cov, (A,), {}),
    (np.cov, impl.cov, (A,), {"rowvar": False, "bias": True}),
    (np.cov, impl.cov, (V, V ** 2), {}),
    (np.cov, impl.cov, (V,), {"ddof": 0}),
    (np.corrcoef, impl.corrcoef, (A,), {}),
    (np.corrcoef, impl.corrcoef, (V, np.sin(V)), {}),
    (np.vander, impl.vander, (V,), {}),
    (np.vander, impl.vander, (W,), {"N": 5, "increasing": True}),
    (np.ldexp, impl.ldexp, (A, np.array([1, -2, 3, 0])), {}),
    (np.copysign, impl.copysign, (A, -A[::-1]), {}),
    (np.geomspace, impl.geomspace, (1.5, 40.0, 7), {}),
    (np.geomspace, impl.geomspace, (-2.0, -0.1, 5), {"endpoint": False}),
    (np.nancumsum, impl.nancumsum, (np.array([1.0, np.nan, 2.0, 4.0]),), {}),
    (np.nancumprod, impl.nancumprod, (np.array([[1.0, np.nan], [2.0, 4.0]]),), {"axis": 0}),
    (np.polyfit, impl.polyfit, (np.arange(6.0), np.cos(np.arange(6.0)), 3), {}),
    (np.polyfit, impl.polyfit, (np.arange(6.0), np.cos(np.arange(6.0)), 2), {"w": np.linspace(1.0, 2.0, 6)}),
    (np.delete, impl.delete, (A, 1), {"axis": 1}),
    (np.delete, impl.delete, (A, [0, 5, 7]), {}),
    (np.insert, impl.insert, (A, 1, A[:, 0] * 2.0), {"axis": 1}),
    (np.insert, impl.insert, (A, [1, 3], 9.0), {"axis": 1}),
    (np.insert, impl.insert, (V, [0, 2, 2], [7.0, 8.0, 9.0]), {}),
    (np.insert, impl.insert, (A, 2, [[1.0, 2.0, 3.0, 4.0]]), {"axis": 0}),
    (np.resize, impl.resize, (A, (2, 7)), {}),
    (np.broadcast_arrays, impl.broadcast_arrays, (A[:, :1], A[0]), {}),
    (np.linalg.tensorsolve, impl.tensorsolve, (np.eye(6).reshape(2, 3, 6) * 2.0 + 0.1, np.ones((2, 3))), {}),
    (np.linalg.tensorinv, impl.tensorinv, ((np.eye(4) * 3.0 + 0.1).reshape(4, 2, 2), 1), {}),
    (np.bincount, impl.bincount, (np.array([0, 1, 1, 4]),), {"weights": V[:4], "minlength": 6}),
    (np.bincount, impl.bincount, (np.array([0, 1, 1, 4]),), {}),
]


@pytest.mark.parametrize("numpy_fn,ours,args,kwargs", VALUE_CASES,
                         ids=[f"{c[0].__name__}-{k}" for k, c in enumerate(VALUE_CASES)])
def test_values_are_numpys(numpy_fn, ours, args, kwargs):
    expected = numpy_fn(*args, **kwargs)
    got = ours(*args, **kwargs)
    if isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-13)
    else:
        assert np.shape(got) == np.shape(expected)
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
@pytest.mark.parametrize("lengths", [(5, 3), (3, 5), (4, 4)])
def test_complex_correlate_is_numpys(lengths, mode):
    a = RNG.normal(size=lengths[0]) + 1j * RNG.normal(size=lengths[0])
    v = RNG.normal(size=lengths[1]) + 1j * RNG.normal(size=lengths[1])
    np.testing.assert_allclose(impl.correlate(a, v, mode), np.correlate(a, v, mode), rtol=1e-12)


def test_unique_values_and_integer_results_are_numpys():
    x = np.array([3.0, 1.0, 3.0, 2.0, 1.0])
    for flags in ({}, {"return_index": True}, {"return_inverse": True, "return_counts": True}):
        expected, got = np.unique(x, **flags), impl.unique(x, **flags)
        for g, e in zip(got if flags else [got], expected if flags else [expected]):
            np.testing.assert_array_equal(g, e)


def test_histogram_values_are_numpys():
    x = np.concatenate([V, [3.0, -3.0, 0.25]])
    for kwargs in ({}, {"bins": 4, "range": (-1.0, 1.0), "weights": x ** 2}, {"bins": [-2.0, 0.0, 0.5, 2.0], "density": True},
                   {"bins": 3, "weights": np.abs(x), "density": True}):
        (hist, edges), (expected, expected_edges) = impl.histogram(x, **kwargs), np.histogram(x, **kwargs)
        np.testing.assert_allclose(hist, expected, rtol=1e-12)
        np.testing.assert_array_equal(edges, expected_edges)


def test_piecewise_and_apply_along_axis_values():
    x = np.linspace(-1.0, 1.0, 7)
    funcs = [lambda t: t ** 2, lambda t: -t, 0.5]
    conds = [x < -0.3, x > 0.3]
    np.testing.assert_allclose(impl.piecewise(x, conds, funcs), np.piecewise(x, conds, funcs))
    np.testing.assert_allclose(impl.apply_along_axis(np.cumsum, 0, A), np.apply_along_axis(np.cumsum, 0, A))
    np.testing.assert_allclose(impl.apply_along_axis(np.sum, 1, A), np.apply_along_axis(np.sum, 1, A))


# ---------------------------------------------------------------- derivatives

def smooth_bump(t):
    return np.exp(-t ** 2)


def row_energy(r, scale):
    return np.sum(np.sin(r) * r) * scale


def fit_residual(y):
    """Polynomial smoothing: fit, evaluate, compare (a common preprocessing step)."""
    t = np.linspace(0.0, 1.0, len(y))
    coef = np.polyfit(t, y, 2)
    return np.sum((np.polyval(coef, t) - y) ** 2) + np.sum(coef ** 2)


def correlation_loss(x):
    lagged = np.correlate(x, np.array([0.5, -1.0, 0.25]), mode="same")
    return np.sum(lagged ** 2) + np.sum(np.ediff1d(x, to_begin=0.0) ** 2)


def covariance_loss(a):
    c = np.cov(a)
    r = np.corrcoef(a)
    return np.sum(c ** 2) + np.sum(np.triu(r, 1) ** 2)


def grid_energy(x):
    X, Y = np.meshgrid(x, x[:3] * 2.0)
    return np.sum(np.sin(X) * Y) + np.sum(np.block([[X, Y], [Y, X]]) ** 2) * 0.01


def piecewise_energy(x):
    y = np.piecewise(x, [x < 0.0, x >= 0.0], [lambda t: t ** 2, smooth_bump])
    return np.sum(y * x)


def rows_then_columns(a):
    per_row = np.apply_along_axis(row_energy, 1, a, 0.5)
    per_col = np.apply_along_axis(np.cumsum, 0, a)
    return np.sum(per_row ** 2) + np.sum(per_col * a)


def assorted(x):
    v = np.vander(x[:3], 4)
    d = np.diagflat(x[:2])
    m = np.linalg.multi_dot([v, v.T, v])
    s = np.copysign(x, np.array([1.0, -1.0, 1.0, -1.0, 1.0]))
    return np.sum(m) * 0.01 + np.sum(d ** 3) + np.sum(s * x ** 2) + np.sum(np.ldexp(x, 3))


def unique_scores(x):
    levels, counts = np.unique(np.concatenate([x, x[:2]]), return_counts=True)   # sorted, repeats once
    return np.sum(levels * np.arange(1.0, len(levels) + 1.0) * counts)


def spaced(x):
    g = np.geomspace(1.0 + x[0] ** 2, 3.0 + x[1] ** 2, 6)
    return np.sum(g * np.arange(6.0)) + np.sum(np.nancumsum(x) ** 2) + np.sum(np.nancumprod(x[:3]))


def edited_arrays(a):
    b = np.insert(a, 1, a[:, 0] * 2.0, axis=1)
    c = np.delete(b, [0, 2], axis=1)
    d = np.resize(c, (2, 5))
    x, y = np.broadcast_arrays(a[:, :1], a[0])
    return np.sum(c ** 3) + np.sum(d * np.arange(10.0).reshape(2, 5)) + np.sum(x * y) * np.linalg.matrix_rank(a)


def tensor_solves(a):
    m = np.eye(6) * 3.0 + 0.1 * np.outer(a[0, :3].repeat(2), a[1, :3].repeat(2))
    x = np.linalg.tensorsolve(m.reshape(2, 3, 6), np.ones((2, 3)))
    return np.sum(x ** 2) + np.sum(np.linalg.tensorinv(m.reshape(6, 2, 3), ind=1))


def weighted_counts(w):
    labels = np.array([0, 2, 2, 1, 0])
    per_class = np.bincount(labels, weights=w ** 2, minlength=4)
    hist, edges = np.histogram(np.array([0.1, 0.4, 0.45, 0.9, 0.7]), bins=3, range=(0.0, 1.0), weights=np.exp(w),
                               density=True)
    return np.sum(per_class * np.arange(1.0, 5.0)) + np.sum(hist ** 2)


DERIVATIVE_CASES = [
    (edited_arrays, [A]),
    (tensor_solves, [A]),
    (weighted_counts, [V]),
    (fit_residual, [np.cos(np.linspace(0.0, 2.0, 7))]),
    (correlation_loss, [V]),
    (covariance_loss, [A]),
    (grid_energy, [V]),
    (piecewise_energy, [np.array([-0.8, -0.2, 0.3, 0.9])]),
    (rows_then_columns, [A]),
    (assorted, [V]),
    (unique_scores, [V]),
    (spaced, [V]),
]


# Second order by default for seven of the programs (writers, solves, counts, piecewise,
# sorting, spacing and the assorted one-liners); the five slowest (meshgrid, correlate,
# apply_along_axis, cov, polyfit: plain NumPy loops and products like the others) at
# first order by default and at second order with -m slow.
SECOND_DEFAULT = {"edited_arrays", "tensor_solves", "weighted_counts", "piecewise_energy", "assorted",
                  "unique_scores", "spaced"}


@pytest.mark.parametrize("fn, args, second", second_order_cases(DERIVATIVE_CASES, SECOND_DEFAULT))
def test_derivatives_match_finite_differences(fn, args, second):
    check_both_modes(fn, args, second=second)


def test_an_option_not_followed_is_a_diffc_error():
    def f(x):
        return np.sum(np.polyfit(np.arange(5.0), x, 2, full=True)[0])

    with pytest.raises(diffc.DiffcError):
        diffc.grad(f)(V)


# ---------------------------------------------------------------- writers and ufunc.outer

def rbf_without_self_similarity(x):
    """A Gaussian-process style kernel whose diagonal is set by np.fill_diagonal."""
    K = np.exp(-np.subtract.outer(x, x) ** 2)
    np.fill_diagonal(K, 0.0)
    return np.sum(K * np.multiply.outer(x, x))


def nugget_on_the_diagonal(x):
    K = np.add.outer(x, x) ** 2
    np.fill_diagonal(K, 1.0 + x ** 2)            # an array along the diagonal
    T = np.outer(np.concatenate([x, x]), x)
    np.fill_diagonal(T, x[0], wrap=True)
    return np.sum(np.linalg.solve(K + 3.0 * np.eye(len(x)), x)) + np.sum(T ** 2)


def put_with_repeats(x):
    y = x * 2.0
    np.put(y, [0, 2, 0], [x[1], x[2] ** 2, 5.0 * x[0]])    # position 0 keeps its last value
    z = np.zeros(5)
    np.put(z, [-1, 7], x[:2], mode="wrap")
    return np.sum(y ** 2) + np.sum(z * np.arange(5.0))


def outer_products(x):
    return (np.sum(np.power.outer(1.0 + x ** 2, x)) + np.sum(np.maximum.outer(x, x[::-1]) * np.arange(3.0))
            + np.sum(np.divide.outer(x, 2.0 + x ** 2)) + np.sum(np.hypot.outer(x, x + 1.0)))


@pytest.mark.parametrize("fn", [rbf_without_self_similarity, nugget_on_the_diagonal, put_with_repeats,
                                outer_products])
def test_writers_and_outer_match_finite_differences(fn):
    check_both_modes(fn, [np.array([0.3, -0.7, 1.2])])


def test_writers_and_outer_values_are_numpys():
    x = np.array([0.3, -0.7, 1.2])
    a, b = np.abs(A[:2]) + 0.5, V[:3]
    for ufunc in (np.add, np.subtract, np.multiply, np.power, np.maximum, np.arctan2, np.logaddexp):
        np.testing.assert_allclose(impl.ufunc_outer(ufunc)(a, b), ufunc.outer(a, b), rtol=1e-14)
    y, expected = x.copy(), x.copy()
    np.put(expected, [0, 2, 0], [1.0, 2.0, 3.0])
    from diffc import runtime_scatter
    np.testing.assert_array_equal(runtime_scatter.put_values(y, [0, 2, 0], [1.0, 2.0, 3.0]), expected)
    K = np.outer(x, x)
    expected = K.copy()
    np.fill_diagonal(expected, [5.0, 6.0])
    np.testing.assert_array_equal(runtime_scatter.filled_diagonal(K, [5.0, 6.0]), expected)
