"""Third derivatives through the NumPy rule library's helpers, and clear errors where none exist.

h(t) = program(x0 + t D) is differentiated three times at t = 0 by
reverse^3 (grad(grad(grad(h)))), forward over reverse^2 (hessian(grad(h))) and
reverse^2 over forward (grad(grad(jacobian(h, mode="forward")))): the
generated second-derivative code calls the rules of higher_order_numpy.py,
whose own helpers must be differentiable again.  The reference is the central
difference of diffc's second derivative, which is itself compared with the
second difference of h.  Helpers of the second-order rules without rules of
their own must raise NoDerivativeRule naming them, never give a number.
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


COVERED = [var_sin, std_exp, mean_cube, max_cube, logsumexp, dot_outer, clip_where, sort_concat_stack]
MODES = {
    "reverse_reverse_reverse": lambda h: diffc.grad(diffc.grad(diffc.grad(h))),
    "forward_reverse_reverse": lambda h: diffc.hessian(diffc.grad(h)),
    "reverse_reverse_forward": lambda h: diffc.grad(diffc.grad(diffc.jacobian(h, mode="forward"))),
}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("h", COVERED, ids=[h.__name__ for h in COVERED])
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


def prod_(t):
    return np.prod(p(t))


def norm_(t):
    return np.linalg.norm(p(t))


def inv_(t):
    return np.sum(np.linalg.inv(ps(t)))


def cholesky_(t):
    return np.sum(np.linalg.cholesky(ps(t) @ ps(t).T) ** 2)


def eigh_(t):
    return np.sum(np.linalg.eigh(ps(t) + ps(t).T)[1] ** 2 * S0)


def lstsq_(t):
    return np.sum(np.linalg.lstsq(ps(t), X0[:3], rcond=None)[0] ** 2)


# helpers of the second-order rules that have no rules of their own (yet)
NOT_COVERED = [(prod_, "_prod_hvp"), (norm_, "_norm_bar_adj"), (inv_, "_inv_bar_adj_r"),
               (cholesky_, "_cholesky_bar_adj"), (eigh_, "_eigh_bar_adj"), (lstsq_, "_lstsq_bar_adj")]


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
