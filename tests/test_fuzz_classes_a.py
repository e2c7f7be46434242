"""Issue 15, helper a (tests/fuzz/FINDINGS_a.md): one adjoint shared by two calls of a
helper that writes into the array it returns.

The adjoint of ``a + b`` (and of ``a - b``, ``y * 0.5 + h(s)``...) hands one
array to both operands.  When both operands are results of a helper whose
adjoint updates its seed in place (``take_item`` for ``w[2] = ...``,
``w[1:] *= a``), the first adjoint call zeroed the second call's seed: a wrong
reverse gradient (fuzz seeds 101 140 336 337 510 618 739).  Every program is
checked in both modes against central finite differences, and at second order
where it applies.
"""

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

V = np.array([0.4, -0.8, 1.3])


def profile(a):
    w = np.zeros(3) + a
    w[2] = a * a
    return w


def scaled_tail(a):
    w = np.ones(3) * a
    w[1:] *= np.sin(a)
    return w


def relaxed(a):
    """Builds its result by repeated in-place slice updates (seed 140's helper)."""
    w = np.zeros(3)
    w[2] += a
    for _ in range(2):
        w = w.copy()
        w[2:3] += np.exp(-w[2:3] ** 2)
    return w


def pair(a):
    w = np.zeros(3) + a
    w[0] = np.cos(a)
    return w, w * 2.0


def through(a):
    return profile(a)            # the seed goes on to profile's adjoint


def sum_of_two(x):
    return (profile(x) + profile(x))[2]


def difference(x):
    return np.sum((scaled_tail(x) - scaled_tail(2.0 * x)) * V)


def relaxation_loop(x):
    y = np.zeros(3)
    for _ in range(3):
        y = y * 0.5 + relaxed(x)
    return y[2] + 0.3 * y[0]


def tuple_results(x):
    p, q = pair(x)
    r, s = pair(x)
    return np.sum((p + r) * V) + q[1] + s[0]


def forwarded(x):
    return np.dot(through(x) + through(x), V)


def nested(x):
    def build(a):
        w = np.zeros(3) + a
        w[2] = a * a
        return w
    return (build(x) + build(x))[2]


def array_argument(v):
    t = np.zeros(3)
    for k in range(3):
        t = t + scaled_tail(v[k]) * (k + 1.0)
    return np.sum(np.tanh(t))


def in_branch(x):
    y = profile(x)
    if x > 0.0:
        y = y + profile(x)
    else:
        y = y - profile(x)
    return np.sum(y * V)


SCALAR_PROGRAMS = [sum_of_two, difference, relaxation_loop, tuple_results, forwarded, nested, in_branch]


def _fd(fn, x):
    return numeric_grad(fn, [x], 0)


@pytest.mark.parametrize("fn", SCALAR_PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", [-1.47, 0.6])
def test_shared_adjoint_both_modes(fn, x):
    expected = _fd(fn, x)
    assert_close(diffc.grad(fn)(x), expected, rtol=1e-6, atol=1e-7, what="reverse")
    _, tangent = diffc.jvp(fn, (x,), (1.0,))
    assert_close(tangent, expected, rtol=1e-6, atol=1e-7, what="forward")


def test_shared_adjoint_array_argument():
    v = np.array([0.3, -0.7, 1.1])
    expected = numeric_grad(array_argument, [v], 0)
    assert_close(diffc.grad(array_argument)(v), expected, rtol=1e-6, atol=1e-7, what="reverse")
    t = np.array([0.5, -1.0, 0.25])
    _, tangent = diffc.jvp(array_argument, (v,), (t,))
    assert_close(tangent, np.sum(expected * t), rtol=1e-6, atol=1e-7, what="forward")


def test_closed_form():
    # (profile(x) + profile(x))[2] = 2 x**2
    assert_close(diffc.grad(sum_of_two)(-1.47), 4 * -1.47, what="d/dx 2x^2")


def test_reverse_jacobian_of_shared_results():
    fn = lambda x: profile(x) + profile(x)          # noqa: E731
    expected = np.array([2.0, 2.0, 4 * 0.7])
    assert_close(diffc.jacobian(fn, mode="reverse")(0.7), expected, what="reverse jacobian")
    assert_close(diffc.jacobian(fn, mode="forward")(0.7), expected, what="forward jacobian")


@pytest.mark.parametrize("fn", [sum_of_two, difference, tuple_results, in_branch], ids=lambda f: f.__name__)
def test_shared_adjoint_second_order(fn):
    # tuple_results also needs forward_substitute to leave `w[0] = v` alone when that
    # write is w's only use (code differentiated again refused `(e)[0] = v`)
    x = 0.6
    expected = fd_jacobian(lambda t: _fd(fn, t), x, eps=1e-4)      # differences of differences
    assert_close(diffc.grad(diffc.grad(fn))(x), expected, rtol=1e-4, atol=1e-5, what="reverse over reverse")
    assert_close(diffc.hessian(fn)(x), expected, rtol=1e-4, atol=1e-5, what="forward over reverse")


def test_vjp_leaves_cotangent_alone():
    out, pullback = diffc.vjp(lambda x: profile(x) + profile(x), 0.7)
    cotangent = np.ones(3)
    (g,) = pullback(cotangent)
    assert_close(g, 2.0 + 2.0 + 4 * 0.7, what="vjp")
    assert_close(cotangent, np.ones(3), what="cotangent unchanged")


def test_copy_only_for_a_callee_that_writes_its_seed():
    # profile's adjoint zeroes w_bar[2]: its callers copy a shared adjoint;
    # smooth's adjoint only reads its seed: no copy.
    def smooth(a):
        return np.sin(np.ones(3) * a)

    def uses_smooth(x):
        return (smooth(x) + smooth(x))[2]

    assert "copy_value(" in diffc.source(sum_of_two)
    assert "copy_value(" not in diffc.source(uses_smooth)
    assert_close(diffc.grad(uses_smooth)(0.3), 2 * np.cos(0.3), what="smooth")
