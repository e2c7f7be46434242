"""User derivative rules: @diffc.adjoint / @diffc.tangent, diffc.check_rule.

Covers a primitive diffc cannot see into (a function created by exec, whose
source is unavailable, and a C function without a built-in rule), signature
checks at registration, check_rule catching a wrong rule, and a user rule
overriding a built-in one.  Rules registered here for built-ins are removed
again so other tests see the built-in rules.
"""
import math

import numpy as np
import pytest

import diffc
from diffc import rules as R
from gradcheck import assert_close, numeric_grad

# A primitive without source: inspect.getsource fails on it.
_ns = {}
exec("def softplus(x):\n    return np.log1p(np.exp(x))\n", {"np": np}, _ns)
softplus = _ns["softplus"]
_ns2 = {}
exec("def opaque_scale(x, k):\n    return x * k\n", {}, _ns2)
opaque_scale = _ns2["opaque_scale"]


def uses_softplus(x):
    return softplus(x) * 2.0 + x


def uses_gamma(x):
    return math.gamma(x) + x * x


@pytest.fixture(scope="module", autouse=True)
def _rules():
    @diffc.adjoint(softplus)
    def _(result, result_bar, x):
        return result_bar / (1.0 + np.exp(-x))

    @diffc.tangent(softplus)
    def _(result, x, x_dot):
        return x_dot / (1.0 + np.exp(-x))

    @diffc.adjoint(math.gamma)
    def _(result, result_bar, x):
        return result_bar * result * _digamma(x)

    @diffc.tangent(math.gamma)
    def _(result, x, x_dot):
        return x_dot * result * _digamma(x)
    yield


def _digamma(x, h=1e-5):
    """Digamma by a central difference of lgamma (good to ~1e-10, enough here)."""
    return (math.lgamma(x + h) - math.lgamma(x - h)) / (2 * h)


def test_source_is_really_unavailable():
    import inspect
    with pytest.raises(OSError):
        inspect.getsource(softplus)


def test_opaque_primitive_without_rule_is_a_clear_error():
    def f(x):
        return opaque_scale(x, 3.0)
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(f)(1.0)
    assert "opaque_scale" in str(info.value)


def test_user_rule_for_function_without_source():
    for x in (-1.5, 0.3, 2.0):
        assert_close(diffc.grad(uses_softplus)(x), numeric_grad(uses_softplus, [x], 0), rtol=1e-6)
    v = np.array([-0.5, 0.1, 1.2])

    def on_array(v):
        return np.sum(softplus(v) * v)
    assert_close(diffc.grad(on_array)(v), numeric_grad(on_array, [v], 0), rtol=1e-6)


def test_user_rule_for_c_function():
    assert_close(diffc.grad(uses_gamma)(1.7), numeric_grad(uses_gamma, [1.7], 0), rtol=1e-5)


def test_user_tangent_rule_in_forward_mode():
    if not hasattr(diffc, "jvp"):
        pytest.skip("forward mode not available")
    out, t = diffc.jvp(uses_softplus, (0.4,), (1.0,))
    assert_close(out, uses_softplus(0.4))
    assert_close(t, numeric_grad(uses_softplus, [0.4], 0), rtol=1e-6)


def test_check_rule_accepts_correct_rules():
    result = diffc.check_rule(softplus, 0.7)
    assert result.adjoint_error < 1e-6 and result.tangent_error < 1e-6
    assert diffc.check_rule(softplus, np.array([-1.0, 0.5, 2.0]), tol=1e-6).error < 1e-6
    assert diffc.check_rule(math.gamma, 2.5, tol=1e-5).error < 1e-5
    # built-in rules can be checked the same way
    assert diffc.check_rule(math.atan2, 0.3, -0.8, tol=1e-6).error < 1e-6


def test_check_rule_catches_a_wrong_rule():
    ns = {}
    exec("def cube(x):\n    return x * x * x\n", {}, ns)
    cube = ns["cube"]

    @diffc.adjoint(cube)
    def _(result, result_bar, x):
        return result_bar * 2.0 * x * x          # wrong: should be 3 x^2

    @diffc.tangent(cube)
    def _(result, x, x_dot):
        return 3.0 * x * x * x_dot
    result = diffc.check_rule(cube, 1.5)
    assert result.adjoint_error > 1e-2 and result.tangent_error < 1e-6
    with pytest.raises(diffc.RuleError, match="adjoint rule of cube"):
        diffc.check_rule(cube, 1.5, tol=1e-6)


def test_check_rule_without_rule_raises():
    ns = {}
    exec("def nothing(x):\n    return x\n", {}, ns)
    with pytest.raises(diffc.RuleError, match="no derivative rule"):
        diffc.check_rule(ns["nothing"], 1.0)


def test_signature_mismatch_raises_at_registration():
    ns = {}
    exec("def two(x, y):\n    return x * y\n", {}, ns)
    two = ns["two"]
    with pytest.raises(diffc.RuleError, match="adjoint of two"):
        @diffc.adjoint(two)
        def _(result, result_bar, x):          # missing y
            return result_bar
    with pytest.raises(diffc.RuleError, match="tangent of two"):
        @diffc.tangent(two)
        def _(result, x, y, x_dot):            # missing y_dot
            return x_dot
    assert R.adjoint_rule(two) is None and R.tangent_rule(two) is None


@pytest.fixture
def restore_sin_rules():
    saved = (R.ADJOINTS.get(np.sin), R.TANGENTS.get(np.sin), np.sin in R.USER_KEYS)
    yield
    R.ADJOINTS[np.sin], R.TANGENTS[np.sin] = saved[0], saved[1]
    if not saved[2]:
        R.USER_KEYS.discard(np.sin)


def test_user_rule_overrides_builtin(restore_sin_rules):
    def f(x):
        return np.sin(x) * 3.0

    @diffc.adjoint(np.sin)
    def _(result, result_bar, x):
        return result_bar * 100.0               # deliberately not cos(x): we must see it used

    @diffc.tangent(np.sin)
    def _(result, x, x_dot):
        return x_dot * 100.0
    assert_close(diffc.grad(f)(0.3), 300.0)
    if hasattr(diffc, "jvp"):
        assert_close(diffc.jvp(f, (0.3,), (1.0,))[1], 300.0)


def test_rule_registered_after_compilation_is_used(restore_sin_rules):
    def g(x):
        return np.sin(x) * 2.0
    assert_close(diffc.grad(g)(0.3), 2.0 * math.cos(0.3))

    @diffc.adjoint(np.sin)
    def _(result, result_bar, x):
        return result_bar * 10.0
    assert_close(diffc.grad(g)(0.3), 20.0)


def _doubled_square(x):
    return x * x


def _uses_doubled_square(x):
    return _doubled_square(x) * 2.0


def test_rule_registered_after_the_first_call_takes_effect():
    """A cached gradient (also on the fast path for float arguments) is recompiled."""
    g = diffc.grad(_uses_doubled_square)
    assert_close(g(3.0), 12.0, rtol=1e-12, atol=0)
    assert_close(g(3.0), 12.0, rtol=1e-12, atol=0)      # now on the cached fast path

    @diffc.adjoint(_doubled_square)
    def _(result, result_bar, x):
        return result_bar * 100.0           # deliberately not the true derivative
    try:
        assert_close(g(3.0), 200.0, rtol=1e-12, atol=0)
    finally:
        R.ADJOINTS.pop(_doubled_square, None)
        R.USER_KEYS.discard(_doubled_square)
        R._rules_changed()
    assert_close(g(3.0), 12.0, rtol=1e-12, atol=0)
