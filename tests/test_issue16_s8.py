"""Issue 16 ("real code as written"), session 8: np.add.at / np.subtract.at (in-place
scatter-adds, repeated indices accumulating), np.linalg.qr, scipy.linalg.eigh, functions and
lambdas defined in a loop body, np.vectorize.  Every derivative is checked against central
finite differences in both modes (diffc.grad, diffc.jvp) and at second order
(gradcheck.check_both_modes); refusals are DiffcErrors naming the user's line."""
import numpy as np
import pytest
import scipy.linalg

import diffc
from diffc.errors import DiffcError
from gradcheck import assert_close, check_both_modes, fd_jacobian, numeric_grad, second_order_cases

X = np.array([0.3, -0.5, 0.7, 1.1, 0.2])
W = np.array([1.0, 2.0, -0.5, 0.8, 1.5])
LABELS = np.array([0, 2, 2, 1, 0])


# --------------------------------------------------------------- np.add.at / np.subtract.at

def class_sums(x, w):
    grad = np.zeros(3)
    np.add.at(grad, LABELS, w * x)
    return np.sum(grad ** 2) + grad[2] * x[0]


def weighted_histogram(x):
    bins = np.digitize(x, [-0.2, 0.4, 0.9])
    counts = np.zeros(4)
    np.add.at(counts, bins, np.exp(x))
    return np.sum(counts * np.arange(1.0, 5.0) ** 2) + np.max(counts)


def bar_assembly(k):
    """1-d finite elements: each element's 2x2 stiffness scatter-added into K."""
    n = len(k) + 1
    K = np.eye(n) * 0.5
    local = np.array([[1.0, -1.0], [-1.0, 1.0]])
    for e in range(len(k)):
        dofs = np.array([e, e + 1])
        np.add.at(K, (dofs[:, None], dofs[None, :]), k[e] * local)
    f = np.linspace(1.0, 2.0, n)
    u = np.linalg.solve(K, f)
    return f @ u


def list_and_slice_indices(x):
    a = np.ones(4) * x[0]
    np.add.at(a, [0, 3, 3], x[1:4] ** 2)
    np.subtract.at(a, slice(1, 3), x[3] * x[4])
    np.add.at(a, [1, 1], 0.5 * x[2])             # a scalar value, broadcast
    return np.sum(np.sin(a) * np.arange(1.0, 5.0))


def scatter_pairs(x):
    M = np.zeros((3, 3))
    rows, cols = np.array([0, 1, 1, 2, 0]), np.array([1, 2, 2, 0, 1])
    np.add.at(M, (rows, cols), x * x[::-1])
    np.subtract.at(M, (np.array([2, 2]), np.array([2, 2])), x[:2])
    return np.sum(M @ M) + np.trace(M)


def into_the_argument(a, v):
    np.add.at(a, np.array([1, 1, 4]), v[:3] * a[0])
    return np.sum(a ** 3)


def on_a_copy(a, v):
    return into_the_argument(a.copy(), v) + into_the_argument(a.copy(), v * a[1])


def _class_totals(values, labels, n):
    totals = np.zeros(n)
    np.add.at(totals, labels, values)
    return totals


def through_a_helper(x):
    out = np.zeros(3)
    for step in range(3):
        out = 0.9 * out + _class_totals(x * (step + 1.0), LABELS, 3)
        np.subtract.at(out, LABELS[:2], out[2] * x[step])
    return np.sum(out ** 2)


def into_a_row(x):
    M = np.ones((2, 4))
    row = M[1]
    np.add.at(row, np.array([0, 2, 2]), x[:3])
    return np.sum(M ** 2 * x[3])


def columns_in_a_while_loop(x):
    g = np.zeros((2, 3))
    k = 0
    while k < 3 and np.sum(g) < 5.0:
        np.add.at(g, (slice(None), [0, 2, 2]), [x[0] * k, x[1], x[2] ** 2])
        np.subtract.at(g, np.array([True, False]), x[1] * 0.5)      # a mask index
        k += 1
    return np.sum(np.sin(g))


@pytest.mark.parametrize("fn, args", [
    (class_sums, (X, W)), (columns_in_a_while_loop, (X[:3],)), (weighted_histogram, (X,)), (bar_assembly, (np.array([1.0, 2.0, 1.5, 0.7]),)),
    (list_and_slice_indices, (X,)), (scatter_pairs, (X[:5],)), (on_a_copy, (X, W)),
    (through_a_helper, (X,))], ids=lambda v: getattr(v, "__name__", ""))
def test_scatter_adds(fn, args):
    check_both_modes(fn, list(args))


def test_scatter_add_leaves_the_caller_array_alone():
    a = X.copy()
    g = diffc.grad(into_the_argument, wrt=(0, 1))(a, W)
    assert_close(a, X, rtol=0, atol=0, what="argument unchanged")
    copying = lambda a, v: into_the_argument(a.copy(), v)      # noqa: E731 (the reference)
    assert_close(g[0], numeric_grad(copying, [X, W], 0), what="d/da")
    assert_close(g[1], numeric_grad(copying, [X, W], 1), what="d/dv")
    tangent = diffc.jvp(into_the_argument, (a, W), (W, None))[1]
    assert_close(tangent, np.sum(numeric_grad(copying, [X, W], 0) * W), what="jvp")


def _accumulate(out, idx, values):
    np.add.at(out, idx, values)


def into_the_callers_array(x):
    out = np.zeros(3)
    _accumulate(out, LABELS, x)
    return np.sum(out ** 2)


def test_scatter_add_into_a_row_taken_by_name_reaches_the_matrix():
    """As for ``row[i] += v``: the row's matrix takes the row back (transform/item_write_back.py)."""
    check_both_modes(into_a_row, [X])


def test_scatter_add_by_a_helper_into_the_callers_array():
    """A helper's np.add.at into its argument reaches the caller (transform/callee_writes.py)."""
    check_both_modes(into_the_callers_array, [X])


class _Totals:
    def __init__(self):
        self.g = np.zeros(3)

    def add(self, x):
        np.add.at(self.g, LABELS[:3], x)
        return np.sum(self.g ** 2)


def into_an_attribute(x):
    return _Totals().add(x[:3])


def into_an_item(x):
    M = np.zeros((2, 3))
    np.add.at(M[1], LABELS, x)
    return np.sum(M ** 2)


@pytest.mark.parametrize("fn", [into_an_attribute, into_an_item])
def test_scatter_add_into_attributes_and_items_is_refused_in_both_modes(fn):
    for run in (lambda: diffc.grad(fn)(X), lambda: diffc.jvp(fn, (X,), (W,))):
        with pytest.raises(DiffcError, match=r"test_issue16_s8.py:\d+.*\n.*np.add.at\((self.g|M\[1\])"):
            run()


def test_scatter_add_hessian():
    k = np.array([1.0, 2.0, 1.5, 0.7])
    assert_close(diffc.hessian(bar_assembly)(k), fd_jacobian(diffc.grad(bar_assembly), k), rtol=1e-5, atol=1e-6)


def test_scatter_add_of_constants_runs_as_numpy():
    def counted(x):
        counts = np.zeros(3)
        np.add.at(counts, LABELS, 1.0)
        return np.sum(x[:3] * counts)
    assert_close(diffc.grad(counted)(X), np.r_[2.0, 1.0, 2.0, 0.0, 0.0])


def product_scatter(x):
    a = np.ones(3) + x[:3]
    np.multiply.at(a, np.array([0, 0, 2]), x[:3])      # repeated: a[0] * x0 * x1
    np.multiply.at(a, [1, 1], x[3])
    return np.sum(a ** 2)


def test_multiply_at():
    check_both_modes(product_scatter, [X])
    from diffc.runtime_scatter import scatter_multiplied
    a, index, v = np.arange(1.0, 7.0).reshape(2, 3), (np.array([0, 0, 1]), np.array([1, 1, 2])), np.array([2.0, 3.0, 4.0])
    expected = a.copy()
    np.multiply.at(expected, index, v)
    assert_close(scatter_multiplied(a, index, v), expected, rtol=0, atol=0)


def maximum_scatter(x):
    a = np.zeros(3)
    np.maximum.at(a, np.array([0, 0, 2]), x[:3])
    return np.sum(a)


def test_other_ufunc_at_is_refused_naming_the_line():
    with pytest.raises(DiffcError, match=r"test_issue16_s8.py:\d+.*\n.*np.maximum.at"):
        diffc.grad(maximum_scatter)(X)


# --------------------------------------------------------------- np.linalg.qr, scipy.linalg.eigh

RNG = np.random.default_rng(16)
SQUARE = RNG.normal(size=(3, 3))
TALL = RNG.normal(size=(5, 3))


def weighted_factors(A):
    Q, R = np.linalg.qr(A)
    return np.sum(Q * np.arange(Q.size).reshape(Q.shape)) + np.sum(R ** 2 * np.arange(R.size).reshape(R.shape))


def least_squares_by_qr(A):
    b = np.linspace(-1.0, 1.0, A.shape[0])
    Q, R = np.linalg.qr(A)
    x = np.linalg.solve(R, Q.T @ b)
    return np.sum(x ** 2) + np.sum((A @ x - b) ** 2)


def r_only(A):
    R = np.linalg.qr(A, mode="r")
    return np.sum(np.sin(R))


def gram_schmidt_loop(A):
    """Orthogonalize repeatedly (a QR iteration), reading Q and R each step."""
    total = 0.0
    M = A
    for step in range(3):
        Q, R = np.linalg.qr(M)
        total = total + np.sum(np.abs(np.diag(R))) * (step + 1.0) + Q[0, 1]
        M = M + 0.1 * Q
    return total


def scipy_factors(A):
    Q, R = scipy.linalg.qr(A, mode="economic")
    return np.sum(np.cos(Q)) + np.sum(R[0] ** 2)


@pytest.mark.parametrize("A", [SQUARE, TALL], ids=["square", "tall"])
@pytest.mark.parametrize("fn", [weighted_factors, least_squares_by_qr, r_only, gram_schmidt_loop, scipy_factors],
                         ids=lambda f: f.__name__)
def test_qr(fn, A):
    check_both_modes(fn, [A])


def test_qr_values_match_the_libraries():
    from diffc.rules import scipy_linalg
    for A in (SQUARE, TALL):
        for ours, theirs in zip(scipy_linalg.linalg_qr(A, mode="economic"), scipy.linalg.qr(A, mode="economic")):
            assert_close(ours, theirs, rtol=1e-12, atol=1e-12)
    S = SQUARE + SQUARE.T
    for ours, theirs in zip(scipy_linalg.linalg_eigh(S), scipy.linalg.eigh(S)):
        assert_close(ours, theirs, rtol=1e-10, atol=1e-10)


def wide(A):
    Q, R = np.linalg.qr(A.T)
    return np.sum(R)


def test_qr_of_a_wide_matrix_is_refused():
    with pytest.raises(DiffcError, match="qr"):
        diffc.grad(wide)(TALL)
    with pytest.raises(DiffcError, match="qr"):
        diffc.jvp(wide, (TALL,), (TALL,))


def scipy_spectrum(A):
    S = A + A.T
    w, V = scipy.linalg.eigh(S)
    # sign-free uses of the eigenvectors: SciPy's sign choice jumps under tiny changes of S
    return np.sum(w ** 2 * np.arange(1.0, 4.0)) + np.sum(V[:, 0] ** 2 * np.arange(3.0)) + V[2, 2] * V[0, 2]


def scipy_eigenvalues_in_a_loop(A):
    total = 0.0
    for k in range(2):
        S = A @ A.T + (k + 1.0) * np.eye(3)
        total = total + np.max(scipy.linalg.eigh(S, eigvals_only=True)) \
            + scipy.linalg.eigh(S, lower=False, eigvals_only=True)[0]
    return total


@pytest.mark.parametrize("fn", [scipy_spectrum, scipy_eigenvalues_in_a_loop], ids=lambda f: f.__name__)
def test_scipy_eigh(fn):
    check_both_modes(fn, [SQUARE])


def test_qr_hessian_forward_over_reverse():
    hess = diffc.hessian(least_squares_by_qr)(TALL)
    assert_close(hess, fd_jacobian(diffc.grad(least_squares_by_qr), TALL), rtol=1e-5, atol=1e-5)


def rank_one(x):
    Q, R = np.linalg.qr(np.outer(x, x))
    return np.sum(R) + np.sum(Q)


def test_qr_of_a_rank_deficient_matrix_is_refused():
    with pytest.raises(DiffcError, match="full column rank"):
        diffc.grad(rank_one)(X[:3])
    with pytest.raises(DiffcError, match="full column rank"):
        diffc.jvp(rank_one, (X[:3],), (W[:3],))


# --------------------------------------------------------------- functions defined in a loop body

def closure_per_iteration(x, w):
    s = 0.0
    for k in range(3):
        def term(z):
            return z * w[k] + np.sin(z * w[k])
        s = s + term(x)
    return s


def lambda_per_iteration(x, w):
    s = 0.0
    for k in range(3):
        f = lambda z: z * w[k] ** 2
        s = s + f(x) * np.sin(x)
    return s


def called_after_the_loop(x, w):
    s = 0.0
    for k in range(3):
        def term(z):
            return np.exp(z * w[k])       # called after the loop: reads the last k (late binding)
        s = s + x * k
    return s + term(x)


def _apply_twice(f, v):
    return f(f(v))


def handed_to_a_helper(x, w):
    s = 0.0
    for k in range(3):
        c = w[k] * 0.5
        def step(z):
            return np.tanh(c * z + w[k])
        square = lambda z: c * z ** 2
        if k % 2 == 0:
            s = s + _apply_twice(step, x)
        else:
            s = s + _apply_twice(square, x)
    return s


def bound_with_defaults(x, w):
    terms = []
    for k in range(3):
        def term(z, k=k):
            return z ** 2 * (k + 1.0)      # k bound now, by the default: each term its own
        terms.append(term)
    return sum(t(x) for t in terms) * w[0]


def _inner_loop_closures(x, w):
    total = x * 0.0
    for j in range(2):
        g = lambda z: z * w[j] + w[2]
        total = total + g(x) ** 2
    return total


def helper_with_loop_closures(x, w):
    return _inner_loop_closures(x, w) + _inner_loop_closures(2.0 * x, w)


@pytest.mark.parametrize("fn", [closure_per_iteration, lambda_per_iteration, called_after_the_loop, handed_to_a_helper,
                                bound_with_defaults, helper_with_loop_closures], ids=lambda f: f.__name__)
def test_functions_defined_in_a_loop(fn):
    check_both_modes(fn, [0.7, W[:3]])


def kept_late_bound(x, w):
    terms = []
    for k in range(3):
        def term(z):
            return z * w[k]
        terms.append(term)                # every term reads the last k when called
    return sum(t(x) for t in terms)


def kept_then_rebound(x):
    a = 1.0
    def g(z):
        return z * a
    h = g
    a = 2.0                                # h(x) sees a = 2.0 (late binding)
    return h(x)


def defined_twice(x):
    if x > 0:
        def f(z):
            return z
    else:
        def f(z):
            return -z
    return f(x)


@pytest.mark.parametrize("fn, where", [(kept_late_bound, "terms.append(term)"), (kept_then_rebound, "h = g"),
                                       (defined_twice, "def f(z)")])
def test_late_bound_kept_functions_are_refused(fn, where):
    with pytest.raises(DiffcError, match=r"test_issue16_s8.py:\d+") as info:
        diffc.grad(fn, wrt=0)(0.7, W[:3]) if fn is kept_late_bound else diffc.grad(fn)(0.7)
    assert where in str(info.value)


# --------------------------------------------------------------- np.vectorize

def _smooth_step(z, width):
    if z < -width:
        return 0.0
    if z > width:
        return z
    return (z + width) ** 2 / (4.0 * width)


@np.vectorize
def huber(r, delta=1.0):
    if abs(r) < delta:
        return 0.5 * r ** 2
    return delta * (abs(r) - 0.5 * delta)


def vectorized_with_branches(x):
    step = np.vectorize(_smooth_step)
    return np.sum(step(x * 3.0, 0.5) ** 2) + np.sum(step(np.outer(x, x), np.array([0.1, 0.2, 0.3, 0.4, 0.5])))


def vectorized_decorator_in_a_loop(x):
    total = 0.0
    for k in range(2):
        total = total + np.sum(huber(x * (k + 1.5))) + np.sum(huber(x, delta=0.4))
    return total


def vectorized_closure(x):
    scale = x[0] ** 2

    def shaped(z):
        if z > 0:
            return np.exp(-z * scale)
        return 1.0 + z
    f = np.vectorize(shaped, otypes=[float])
    return np.sum(f(x) * np.arange(5.0))


def _polar(z):
    return z * np.cos(z), z * np.sin(z)


def vectorized_pair(x):
    a, b = np.vectorize(_polar)(x.reshape(5, 1) + x[:2])
    return np.sum(a * b) + np.max(a)


# All four at first order by default; at second order by default the closure and the pair
# of results (the branches and the decorator in a loop at second order: -m slow).
@pytest.mark.parametrize("fn, second", second_order_cases(
    [(f,) for f in (vectorized_with_branches, vectorized_decorator_in_a_loop, vectorized_closure, vectorized_pair)],
    {"vectorized_closure", "vectorized_pair"}))
def test_vectorize(fn, second):
    check_both_modes(fn, [X], second=second)


def test_vectorized_values_are_numpys():
    from diffc.rules.python_implementations import vectorized_call
    for args in ((X * 3.0, 0.5), (np.outer(X, X), np.array([0.1, 0.2, 0.3, 0.4, 0.5]))):
        assert_close(vectorized_call(*args, pyfunc=_smooth_step), np.vectorize(_smooth_step)(*args),
                     rtol=0, atol=0)


def _clamped(z):
    if z < 0:
        return 0
    return z


def integer_first(x):
    return np.sum(np.vectorize(_clamped)(x - 0.4))


def test_vectorize_with_an_integer_first_value_is_refused():
    with pytest.raises(DiffcError, match="otypes"):
        diffc.grad(integer_first)(X)


# --------------------------------------------------------------- reversed(self.layers) of stateful layers

class _CachingLayer:
    def __init__(self, W, b=0.0):
        self.W = W
        self.b = b
        self.x = None

    def forward(self, x):
        self.x = x                          # kept for a hand-written backward pass
        return np.tanh(self.W @ x + self.b)


class _Stack:
    def __init__(self, Ws):
        self.layers = [_CachingLayer(W, 0.1 * k) for k, W in enumerate(Ws)]

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward_pass(self, g):
        """Reads the cached inputs in reverse order, as a manual backward pass does."""
        for layer in reversed(self.layers):
            g = layer.forward(g + layer.x)
        return g


def _stack_weights(scale):
    return [np.eye(3) * scale + 0.1, np.ones((3, 3)) * 0.3 * scale, np.diag([1.0, -0.5, 0.2]) * scale]


def stateful_layers_in_reverse(scale, x):
    net = _Stack(_stack_weights(scale))
    y = net.forward(x)
    g = net.backward_pass(y * 0.5)
    return np.sum(g ** 2) + np.sum(net.layers[0].x * x)


def local_layers_in_reverse(scale, x):
    layers = [_CachingLayer(W) for W in _stack_weights(scale)]
    for layer in reversed(layers):
        x = layer.forward(x) * 1.5
    return np.sum(x ** 2) + np.sum(layers[2].x)


# Both at first order by default; the layers made locally at second order too (the layers
# held by an object at second order: -m slow).
@pytest.mark.parametrize("fn, second", second_order_cases(
    [(stateful_layers_in_reverse,), (local_layers_in_reverse,)], {"local_layers_in_reverse"}))
def test_reversed_lists_of_stateful_layers(fn, second):
    check_both_modes(fn, [0.7, np.array([0.3, -0.5, 0.2])], second=second)
