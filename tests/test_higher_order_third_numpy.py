"""Third derivatives through the NumPy rule library's helpers, and clear errors where none exist.

h(t) = program(x0 + t D) is differentiated three times at t = 0 by
reverse^3 (grad(grad(grad(h)))), forward over reverse^2 (hessian(grad(h))) and
reverse^2 over forward (grad(grad(jacobian(h, mode="forward")))): the
generated second-derivative code calls the higher-order rules of the rule families (diffc/rules/numpy_rules.py),
whose own helpers must be differentiable again.  The reference is the central
difference of diffc's second derivative, which is itself compared with the
second difference of h (and with closed forms where cheap).  Helpers of the
second-order rules without rules of their own (those of cholesky, eigh and
lstsq) must raise NoDerivativeRule naming them, never give a number.  The
third-order rules are also checked one by one: tangent vs central differences
of the helper, adjoint vs tangent, for every branch and argument.
"""
import warnings

import numpy as np
import pytest

import diffc
from gradcheck import assert_close

X0 = np.array([0.3, -1.2, 0.8, 2.0])
D = np.array([0.5, 0.1, -0.7, 0.3])
S0 = np.array([[3.0, 0.4, 0.1], [0.2, 2.5, -0.3], [0.1, 0.5, 4.0]])
DS = np.array([[0.3, -0.2, 0.1], [0.4, 0.2, 0.0], [-0.1, 0.3, 0.5]])


def p(t):
    return X0 + t * D


def ps(t):
    return S0 + t * DS


def var_sin(t):
    return np.var(np.sin(p(t))) + np.var(p(t)) ** 2


def std_exp(t):
    return np.std(np.exp(p(t)), ddof=1)


def mean_cube(t):
    return np.mean(np.sin(p(t)) ** 3)


def max_cube(t):
    return np.max(p(t) ** 3) + np.min(np.cos(p(t)))


def logsumexp(t):
    x = p(t)
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def dot_outer(t):
    return np.dot(p(t), p(t) ** 2) + np.sum(np.outer(p(t), np.sin(p(t))))


def clip_where(t):
    return np.sum(np.clip(p(t), -1.0, 1.0) ** 3) + np.sum(np.where(X0 > 0, p(t) ** 4, np.sin(p(t))))


def sort_concat_stack(t):
    return (np.sum(np.sort(p(t)) ** 3 * X0) + np.sum(np.concatenate([p(t), p(t) ** 2]) ** 2)
            + np.sum(np.stack([p(t), np.sin(p(t))]) ** 3))


XP = np.array([0.3, 1.2, 0.8, 2.0])          # positive: powers with real exponents


def pp(t):
    return XP + t * D


def prod_(t):
    return np.prod(p(t))


def prod_axis(t):
    return np.sum(np.prod(np.reshape(p(t), (2, 2)), axis=0) ** 2)


def norm_(t):
    return np.linalg.norm(p(t))


def norm_p3(t):
    return np.linalg.norm(p(t), 3)


def inv_(t):
    return 10.0 * np.sum(np.linalg.inv(ps(t)))


def det_(t):
    return np.linalg.det(ps(t))


def slogdet_(t):
    return 10.0 * np.linalg.slogdet(ps(t))[1]


def solve_(t):
    return 10.0 * np.sum(np.linalg.solve(ps(t), np.sin(p(t)[:3])) ** 2)


def solve_matrix(t):
    return np.sum(np.linalg.solve(ps(t), np.cos(ps(t))) ** 2)


def power_(t):
    return np.sum(pp(t) ** (1.5 + 0.4 * np.sin(p(t))))


def sinc_(t):
    return np.sum(np.sinc(p(t)))


def atleast_(t):
    return np.sum(np.atleast_2d(p(t)) ** 3)


def einsum_(t):
    return np.einsum("ij,j,i->", ps(t), np.sin(p(t)[:3]), p(t)[:3]) + np.sum(np.einsum("ij,jk->ik", ps(t), ps(t)) ** 2)


def cumprod_(t):
    return np.sum(np.cumprod(p(t)))


def cumprod_axis(t):
    return np.sum(np.cumprod(np.reshape(p(t), (2, 2)), axis=1) ** 2 * X0.reshape(2, 2))


COVERED = [var_sin, std_exp, mean_cube, max_cube, logsumexp, dot_outer, clip_where, sort_concat_stack,
           prod_, prod_axis, norm_, norm_p3, inv_, det_, slogdet_, solve_, solve_matrix, power_, sinc_,
           atleast_, cumprod_, cumprod_axis, einsum_]
MODES = {
    "reverse_reverse_reverse": lambda h: diffc.grad(diffc.grad(diffc.grad(h))),
    "forward_reverse_reverse": lambda h: diffc.hessian(diffc.grad(h)),
    "reverse_reverse_forward": lambda h: diffc.grad(diffc.grad(diffc.jacobian(h, mode="forward"))),
}


# the two norm programs take ~14 s each (every mode mix of a p-norm's third derivative):
# a slow sweep, run with -m slow
_SLOW_THIRD = {"norm_", "norm_p3", "sort_concat_stack", "einsum_", "dot_outer"}   # the slowest: -m slow


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("h", [pytest.param(h, marks=pytest.mark.slow) if h.__name__ in _SLOW_THIRD else h
                               for h in COVERED], ids=[h.__name__ for h in COVERED])
def test_third_derivative(h):
    second = diffc.grad(diffc.grad(h))
    e2 = 1e-4
    assert_close(second(0.0), (h(e2) - 2 * h(0.0) + h(-e2)) / e2 ** 2, rtol=1e-4, atol=1e-5,
                 what="second derivative vs FD")
    eps = 1e-5
    expected = (second(eps) - second(-eps)) / (2 * eps)
    assert abs(expected) > 1e-2                   # a real third derivative
    for mode, make in MODES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = make(h)(0.0)
        assert_close(got, expected, rtol=1e-5, atol=1e-6, what=f"{h.__name__} {mode}")


# closed forms: det(S0 + t DS) is a cubic in t, so d3/dt3 = 3! det(DS); sum(x**p) gives
# sum p (p-1) (p-2) x**(p-3) D**3; prod(X0 + t D) gives the sum over ordered distinct i, j, k
# of D_i D_j D_k X0_m (m the fourth index)
CLOSED = [
    ("det_cubic", det_, 6.0 * np.linalg.det(DS)),
    ("sum_pow", lambda t: np.sum(pp(t) ** 2.5), np.sum(2.5 * 1.5 * 0.5 * XP ** -0.5 * D ** 3)),
    ("prod_quartic", prod_, sum(D[i] * D[j] * D[k] * X0[m] for i in range(4) for j in range(4)
                                      for k in range(4) for m in range(4)
                                      if len({i, j, k, m}) == 4)),
]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name,h,expected", CLOSED, ids=[c[0] for c in CLOSED])
def test_third_derivative_closed_form(name, h, expected):
    assert abs(expected) > 1e-2
    for mode, make in MODES.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = make(h)(0.0)
        assert_close(got, expected, rtol=1e-9, atol=1e-10, what=f"{name} {mode}")


def cholesky_(t):
    return np.sum(np.linalg.cholesky(ps(t) @ ps(t).T) ** 2)


def eigh_(t):
    return np.sum(np.linalg.eigh(ps(t) + ps(t).T)[1] ** 2 * S0)


def lstsq_(t):
    return np.sum(np.linalg.lstsq(ps(t), X0[:3], rcond=None)[0] ** 2)


# helpers of the second-order rules that have no rules of their own (yet)
NOT_COVERED = [(cholesky_, "_cholesky_bar_adj"), (eigh_, "_eigh_bar_adj"), (lstsq_, "_lstsq_bar_adj")]


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("h,helper", NOT_COVERED, ids=[h.__name__ for h, _ in NOT_COVERED])
def test_third_derivative_without_rule_is_a_clear_error(h, helper):
    # the second derivative is right ...
    second = diffc.grad(diffc.grad(h))
    e2 = 1e-4
    assert_close(second(0.0), (h(e2) - 2 * h(0.0) + h(-e2)) / e2 ** 2, rtol=1e-4, atol=1e-5)
    # ... the third raises, naming the helper (never a number)
    for make in (MODES["reverse_reverse_reverse"], MODES["forward_reverse_reverse"]):
        with pytest.raises(diffc.NoDerivativeRule) as info:
            make(h)(0.0)
        assert helper in str(info.value)


# ---------------------------------------------------------------------------
# the third-order rules themselves, every branch (which=...) and every argument:
# tangent rule vs central differences of the helper, adjoint rule vs tangent rule
# (<result_bar, tangent> == sum_k <adjoint_k, dot_k>)
# ---------------------------------------------------------------------------

def _flat(x):
    if x is None or (isinstance(x, float) and x == 0.0):
        return None
    if isinstance(x, (list, tuple)):
        return [_flat(v) for v in x]
    return np.asarray(x, dtype=float)


def _inner(a, b, like):
    if isinstance(like, (list, tuple)):
        a = a if isinstance(a, (list, tuple)) else [None] * len(like)
        b = b if isinstance(b, (list, tuple)) else [None] * len(like)
        return sum(_inner(x, y, z) for x, y, z in zip(a, b, like))
    a, b = _flat(a), _flat(b)
    if a is None or b is None:
        return 0.0
    return float(np.sum(np.broadcast_to(a, np.shape(like)) * np.broadcast_to(b, np.shape(like))))


def _rand(x, rng):
    if isinstance(x, (list, tuple)):
        return type(x)(_rand(v, rng) for v in x) if type(x) in (list, tuple) else [_rand(v, rng) for v in x]
    if x is None:
        return None
    return rng.standard_normal(np.shape(x)) if np.ndim(x) else float(rng.standard_normal())


def _step(x, d, e):
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return type(x)(_step(a, b, e) for a, b in zip(x, d))
    return x + e * np.asarray(d)


def _helper_cases():
    from rule_helpers import H, H as N
    rng = np.random.default_rng(3)
    A = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    M = lambda *s: rng.standard_normal(s or (3, 3))  # noqa: E731
    a23 = rng.standard_normal((2, 3)) + 0.3
    az = np.array([[0.5, 0.0, 1.2, -0.7], [0.0, 0.0, 2.0, 1.1]])
    cases = [(H._sinc_deriv2, (np.array([0.3, -1.2, 0.01, 0.0, 2.0]),), [0]),
             (H._power_dx1_dx2, (np.array([0.4, 1.3, 2.2]), np.array([1.5, -0.3, 2.7])), [0, 1]),
             (H._inv_bar_adj_r, (M(), np.linalg.inv(A), M()), [0, 1, 2]),
             (H._inv_jvp_adj_r, (M(), np.linalg.inv(A), M()), [0, 1, 2]),
             (H._inv_jvp_T, (M(), np.linalg.inv(A)), [0, 1]),
             (H._inv_T, (A,), [0]),
             (H._det_bar_adj_a, (0.7, A, np.linalg.det(A), M()), [0, 1, 2, 3]),
             (H._slogdet_bar_adj_a, ((0.0, 0.7), A, M()), [0, 1, 2]),
             (H._slogdet_jvp_adj_a, (A, M(), (0.0, 0.8)), [0, 1, 2]),
             (H._inv_d_inv, (A, M()), [0, 1]),
             (H._tr_solve, (A, M()), [0, 1]),
             (H._mat_inner, (M(), M()), [0, 1]),
             (H._scale_mat, (0.3, M()), [0, 1]),
             (N._T, (M(2, 3),), [0]),
             (N._like, (M(6), np.zeros((2, 3))), [0])]
    cases += [(H._prod_hvp, (x, M(*x.shape), ax), [0, 1]) for x, ax in
              [(a23, None), (a23, 0), (a23, 1), (az, None), (az, 1)]]
    for ordv, axis, keep, x in [(None, None, False, X0), (3, None, False, X0), (None, 1, False, a23),
                                (3, 0, True, a23)]:
        r = np.linalg.norm(x, ordv, axis, keep)
        g = M(*np.shape(r)) if np.ndim(r) else 0.7
        cases += [(H._norm_bar_adj, (g, x, ordv, axis, keep, r, M(*x.shape), which), [0, 1, 5, 6])
                  for which in (1, 2)]
    for b in (M(3), M(3, 2)):
        x = np.linalg.solve(A, b)
        gbc = M(3, 1) if b.ndim == 1 else M(3, 2)
        cases += [(H._solve_bar_a_adj, (M(), gbc, b, x, which), [0, 1, 3]) for which in (0, 1)]
        sol = N._solve_dot_a(A, M(), b, x)
        cases += [(H._solve_dot_a_adj, (A, M(), b, x, sol, M(*b.shape), which), [0, 1, 3, 4, 5])
                  for which in (0, 1, 2)]
        d = M(*b.shape)
        sol = N._solve_dot_b(A, b, d)
        cases += [(H._solve_dot_b_adj, (A, b, d, sol, M(*b.shape), which), [0, 3, 4]) for which in (0, 1)]
        cases.append((H._solve_bar_b_T, (M(*b.shape), gbc, b), [0]))
        g = M(*b.shape)
        res = N._solve_cot(A, g, b)
        cases += [(H._solve_cot_adj, (A, g, b, res, M(*res.shape), which), [0, 3, 4]) for which in (0, 1)]
    ops = (M(), M(3), M(3))
    cases += [(H._einsum_bars_adj_ops, (g, ss, ops, (None,) + tuple(M(*np.shape(o)) for o in ops)), [0, 2, 3])
              for ss, g in [("ij,j,i->", 0.7), ("ij,j,i->i", M(3))]]
    cases.append((H._einsum_bars_adj_ops, (M(), "ij,jk->ik", (M(), M()), (0.0, M(), M())), [0, 2, 3]))
    cases += [(H._einsum_bars_adj_g, (g, ss, ops, (None,) + tuple(M(*np.shape(o)) for o in ops)), [2, 3])
              for ss, g in [("ij,j,i->", 0.7), ("ij,j,i->i", M(3))]]
    for x, axis in [(X0, None), (a23, 1), (a23, 0), (a23, None)]:
        r = np.cumprod(x, axis=axis)
        cases += [(H._cumprod_bar_adj, (M(*r.shape), x, axis, r, M(*x.shape), which), [0, 1, 3, 4])
                  for which in (0, 1, 2)]
        cases += [(H._cumprod_jvp_adj, (x, M(*x.shape), axis, r, M(*r.shape), which), [0, 1, 3, 4])
                  for which in (0, 1)]
    return cases


def test_third_order_rules_match_differences_and_transpose():
    import inspect
    from diffc.rules import TANGENTS, ADJOINTS
    rng = np.random.default_rng(4)
    for helper, args, carriers in _helper_cases():
        what = f"{helper.__name__}{args[-1] if isinstance(args[-1], int) else ''}"
        res = helper(*args)
        dots = [_rand(args[i], rng) if i in carriers else None for i in range(len(args))]
        tfn = TANGENTS[helper].fn
        names = list(inspect.signature(tfn).parameters)[1:]
        prims = [n for n in names if not (n.endswith("_dot") and n[:-4] in names)]
        tan = tfn(res, *args, *[dots[prims.index(n[:-4])] for n in names if n not in prims])
        eps = 1e-6
        plus = helper(*[a if d is None else _step(a, d, eps) for a, d in zip(args, dots)])
        minus = helper(*[a if d is None else _step(a, d, -eps) for a, d in zip(args, dots)])
        B = _rand(res, rng)
        fd = (_inner(B, plus, res) - _inner(B, minus, res)) / (2 * eps)
        lhs = _inner(B, tan, res)
        assert abs(lhs - fd) <= 1e-6 * max(1.0, abs(fd)), f"{what}: tangent {lhs} vs differences {fd}"
        adj = ADJOINTS[helper].fn(res, B, *args)
        adj = adj if isinstance(adj, tuple) else (adj,)
        rhs = sum(_inner(adj[i], dots[i], args[i]) for i in carriers)
        assert abs(lhs - rhs) <= 1e-10 * max(1.0, abs(lhs)), f"{what}: adjoint {rhs} vs tangent {lhs}"
