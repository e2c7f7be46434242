"""Second derivatives through the NumPy rule library (the higher-order rules of diffc/rules/numpy_rules.py's families).

diffc.hessian (forward over reverse) and jacobian(grad) (reverse over reverse)
differentiate the gradient code, which calls the rule library's helpers; the
references are central finite differences of diffc.grad (itself checked
against finite differences of f in test_numpy_programs) and closed forms."""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian
from test_numpy_programs import CASES, S

# Every case is covered (cholesky/eigh since their helpers got rules; more programs
# through cholesky, eigh, eigvalsh, lstsq and atleast_nd: test_higher_order_linalg.py).
NOT_COVERED = {}


COVERED = [c for c in CASES if c[0] not in NOT_COVERED]


@pytest.mark.parametrize("name,fn,arg", COVERED, ids=[c[0] for c in COVERED])
def test_hessian_of_numpy_program(name, fn, arg):
    expected = fd_jacobian(diffc.grad(fn), arg, eps=1e-5)
    assert_close(diffc.hessian(fn)(arg), expected, rtol=1e-5, atol=1e-6, what=f"{name} forward over reverse")
    assert_close(diffc.jacobian(diffc.grad(fn))(arg), expected, rtol=1e-5, atol=1e-6,
                 what=f"{name} reverse over reverse")
    v = np.random.default_rng(0).normal(size=np.shape(arg))
    hv = expected.reshape(np.size(arg), np.size(arg)) @ np.reshape(v, -1)
    assert_close(diffc.hvp(fn)(arg, v), hv.reshape(np.shape(arg)), rtol=1e-5, atol=1e-6, what=f"{name} hvp")


# ------------------------------------------------------------------ closed forms

X = np.array([0.3, -1.2, 0.8, 2.0])


def cube_sum(x):
    return np.sum(x ** 3)


def variance(x):
    return np.var(x)


def std_dev(x):
    return np.std(x)


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def product(x):
    return np.prod(x)


def two_norm(x):
    return np.linalg.norm(x)


def log_det(s):
    return np.linalg.slogdet(s)[1]


def quad_form(x):
    return x @ S @ x


@pytest.mark.parametrize("make", [diffc.hessian, lambda f: diffc.jacobian(diffc.grad(f))],
                         ids=["forward_over_reverse", "reverse_over_reverse"])
def test_closed_form_hessians(make):
    n = X.size
    assert_close(make(cube_sum)(X), np.diag(6 * X), what="sum(x**3)")
    assert_close(make(variance)(X), 2.0 / n * (np.eye(n) - 1.0 / n), what="var")
    c = X - X.mean()
    sd = X.std()
    assert_close(make(std_dev)(X), ((np.eye(n) - 1.0 / n) / n - np.outer(c, c) / (n * n * sd ** 2)) / sd,
                 what="std")
    p = np.exp(X - X.max()) / np.sum(np.exp(X - X.max()))
    assert_close(make(logsumexp)(X), np.diag(p) - np.outer(p, p), what="logsumexp")
    off = np.prod(X) / np.outer(X, X)
    assert_close(make(product)(X), off - np.diag(np.diag(off)), what="prod")
    r = np.linalg.norm(X)
    assert_close(make(two_norm)(X), (np.eye(n) - np.outer(X, X) / r ** 2) / r, what="norm")
    assert_close(make(quad_form)(X[:3]), S + S.T, what="x @ S @ x")
    # d2 log det(S) [E_ij, E_kl] = -inv(S)_li inv(S)_jk
    inv = np.linalg.inv(S)
    expected = -np.einsum("li,jk->ijkl", inv, inv)
    assert_close(make(log_det)(S), expected, what="log det")


def test_prod_hessian_with_a_zero_entry():
    x = np.array([0.0, 2.0, -1.5])
    h = diffc.hessian(product)(x)
    assert_close(h, np.array([[0.0, -1.5, 2.0], [-1.5, 0.0, 0.0], [2.0, 0.0, 0.0]]))
    assert_close(diffc.jacobian(diffc.grad(product))(x), h)


# ------------------------------------------------------------------ rule table sweep

UNCOVERED_HELPERS = ()          # every adjoint helper of the rule table has rules now


def _sweep_cases():
    import test_numpy_rules as T
    out = []
    for case in T.CASES:
        x = case.args[0]
        if not callable(case.key) or case.kw or 0 not in case.diff or len(case.args) > 3 \
                or not isinstance(x, np.ndarray) or x.dtype.kind != "f" or x.size > 30:
            continue
        out.append(case)
    return out


def _weighted(case):
    """f(x) = sum(primitive(x, *other args) * w), the other arguments fixed."""
    prim, rest = case.key, list(case.args[1:])
    result = case.f(list(case.args))
    if not isinstance(result, np.ndarray):
        return None
    w = np.random.default_rng(1).normal(size=result.shape)
    if not rest:
        def f(x):
            return np.sum(prim(x) * w)
    elif len(rest) == 1:
        r1 = rest[0]

        def f(x):
            return np.sum(prim(x, r1) * w)
    else:
        r1, r2 = rest

        def f(x):
            return np.sum(prim(x, r1, r2) * w)
    return f


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("case", _sweep_cases(), ids=lambda c: c.id)
def test_rule_table_hessians(case):
    f = _weighted(case)
    if f is None:
        pytest.skip("result is not an array")
    x = case.args[0]
    expected = fd_jacobian(diffc.grad(f), x, eps=1e-5)
    for make in (diffc.hessian, lambda fn: diffc.jacobian(diffc.grad(fn))):
        try:
            h = make(f)(x)
        except diffc.NoDerivativeRule as exc:
            assert any(name in str(exc) for name in UNCOVERED_HELPERS), str(exc)
            continue
        except NotImplementedError as exc:       # cumprod with a zero entry
            assert "cumprod" in str(exc)
            continue
        assert_close(h, expected, rtol=1e-4, atol=1e-5, what=case.id)
