"""template.linear_tangent: the one-line tangent rule of a helper linear in its first argument
(`rules.linear`), checked as text and against finite differences."""

import numpy as np
import pytest

import diffc
from diffc.errors import RuleError
from diffc.rules import TANGENTS, linear
from diffc.template import linear_tangent


def _shift_rows(g, x, axis=0, scale=2.0):
    return scale * np.roll(g, 1, axis=axis) + 0.0 * np.shape(x)[0]


def _named_like_a_tangent(d_dot, d, key):
    return d_dot * key


def test_template_text_keeps_parameters_and_defaults():
    assert linear_tangent(_shift_rows).__diffc_source__ == (
        "def _(result, g, x, axis=0, scale=2.0, g_dot=None):\n"
        "    return _shift_rows(g_dot, x, axis, scale)\n")


def test_parameters_that_read_as_tangents_are_renamed():
    # d_dot would be taken for d's tangent: only the first parameter may have one
    assert linear_tangent(_named_like_a_tangent).__diffc_source__ == (
        "def _(result, d_dot_, d, key, d_dot__dot):\n"
        "    return _named_like_a_tangent(d_dot__dot, d, key)\n")


def test_refuses_what_it_cannot_write():
    def with_object_default(g, like=np.zeros(2)):
        return g
    with pytest.raises(RuleError):
        linear_tangent(with_object_default)
    with pytest.raises(RuleError):
        linear_tangent(lambda *gs: gs)


def test_registered_tangent_is_the_derivative():
    def roll_rows(g, x):
        return np.roll(g, 1, axis=0) * 1.0 + 0.0 * x[0, 0]
    from diffc.rules import adjoint
    linear(roll_rows)
    try:
        @adjoint(roll_rows)
        def _(result, result_bar, g, x):
            return np.roll(result_bar, -1, axis=0), None

        def f(a, x):
            return np.sum(np.sin(roll_rows(a * a, x)) * x)
        rng = np.random.default_rng(0)
        a, x, da = rng.standard_normal((3, 2)), rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
        _, tangent = diffc.jvp(f, (a, x), (da, None))
        eps = 1e-6
        fd = (f(a + eps * da, x) - f(a - eps * da, x)) / (2 * eps)
        assert abs(tangent - fd) < 1e-7
    finally:
        from diffc.rules import ADJOINTS
        TANGENTS.pop(roll_rows, None)
        ADJOINTS.pop(roll_rows, None)
