"""Rule forms declared with `rules.computed_by` (the tanh rules' ``g * (1.0 - r * r)``
computed by `_times_one_minus_square`): each helper gives its rule's expression bit
for bit, and the optimizer (absorb_scales) follows the declaration, not text of its own."""

import math

import gast
import numpy as np
import pytest

import diffc
from diffc import rules as R
from diffc.errors import RuleError
from diffc.pipeline import ensure_rules

from gradcheck import numeric_grad


def forms():
    ensure_rules()
    return R.computed_forms()


def evaluate(expression, binding):
    import ast
    tree = ast.fix_missing_locations(gast.gast_to_ast(gast.Expression(body=expression)))
    code = compile(tree, "<form>", "eval")
    return eval(code, {}, dict(binding))


def test_the_tanh_rules_declare_their_form():
    helpers = {f.helper.__name__ for f in forms()}
    assert "times_one_minus_square" in helpers
    assert len(forms()) >= 4          # np.tanh and math.tanh, adjoint and tangent


@pytest.mark.parametrize("shape", [(), (7,), (3, 5), (128, 160)])   # 128 * 160 > 16384: the in-place path
def test_each_helper_gives_its_rules_expression_bit_for_bit(shape):
    rng = np.random.default_rng(3)
    for form in forms():
        binding = {}
        for p in form.parameters:
            value = rng.standard_normal(shape) * 3.0
            binding[p] = float(value) if shape == () else value
        expected = evaluate(form.expression, binding)
        got = form.helper(*[binding[p] for p in form.parameters])
        assert np.asarray(got).shape == np.asarray(expected).shape
        assert np.array_equal(np.asarray(got), np.asarray(expected)), form


def layer(W, x):
    h = np.tanh(W @ x)
    return np.sum(h * h)


def scalar_tanh(a, b):
    t = math.tanh(a * b)
    return t * t + a


def test_first_order_gradient_uses_the_helper_and_matches_finite_differences():
    rng = np.random.default_rng(5)
    W, x = rng.standard_normal((4, 3)), rng.standard_normal(3)
    src = diffc.source(layer, wrt=(0, 1), args=(W, x))
    assert "_times_one_minus_square(" in src
    gW, gx = diffc.grad(layer, wrt=(0, 1))(W, x)
    assert np.allclose(gW, numeric_grad(layer, (W, x), 0), atol=1e-6)
    assert np.allclose(gx, numeric_grad(layer, (W, x), 1), atol=1e-6)
    # forward mode: the tangent rule declares the same form
    assert "_times_one_minus_square(" in diffc.source(layer, mode="forward", wrt=1, args=(W, x))
    direction = rng.standard_normal(x.shape)
    value, dot = diffc.jvp(layer, (W, x), (None, direction))
    assert np.isclose(value, layer(W, x))
    assert np.isclose(dot, np.dot(numeric_grad(layer, (W, x), 1), direction), atol=1e-6)


def test_math_tanh_first_and_second_order():
    a, b = 0.7, -1.3
    assert "_times_one_minus_square(" in diffc.source(scalar_tanh, wrt=(0, 1), args=(a, b))
    ga, gb = diffc.grad(scalar_tanh, wrt=(0, 1))(a, b)
    assert np.isclose(ga, numeric_grad(scalar_tanh, (a, b), 0), atol=1e-7)
    assert np.isclose(gb, numeric_grad(scalar_tanh, (a, b), 1), atol=1e-7)
    _, dot = diffc.jvp(scalar_tanh, (a, b), (1.0, 0.5))
    assert np.isclose(dot, ga + 0.5 * gb, atol=1e-9)
    assert np.isclose(dot, numeric_grad(scalar_tanh, (a, b), 0) + 0.5 * numeric_grad(scalar_tanh, (a, b), 1),
                      atol=1e-7)
    # second order: d/da of d/da, against finite differences of the first derivative
    first = diffc.grad(scalar_tanh, wrt=0)
    dda = diffc.grad(lambda u, v: first(u, v), wrt=0)(a, b)
    assert np.isclose(dda, numeric_grad(first, (a, b), 0, eps=1e-5), atol=1e-5)


def doubled_shift(g, r):
    """The value of ``g * (2.0 - r * r)``, the helper a test rule declares."""
    return g * (2.0 - r * r)


def optimized(source):
    from diffc.optimize.absorb_scales import absorb_scales
    return absorb_scales(gast.parse(source).body[0]).body[0].value


def test_the_pass_follows_a_declared_form_not_its_own_text():
    """A rule declaring another form: absorb_scales rewrites that form too, in either
    operand order, and only while it is declared."""
    def rule(result, result_bar, x):
        return result_bar * (2.0 - result * result)

    source = "def f(a, b):\n    return a * (2.0 - b * b)\n"
    assert isinstance(optimized(source), gast.BinOp)
    R.computed_by(doubled_shift, "result_bar", "result")(rule)
    try:
        call = optimized(source)
        assert isinstance(call, gast.Call) and call.func.id == "_doubled_shift"
        assert [a.id for a in call.args] == ["a", "b"]
        call = optimized("def f(a, b):\n    return (2.0 - b * b) * a\n")
        assert isinstance(call, gast.Call) and [a.id for a in call.args] == ["a", "b"]
        # r used twice must be one plain name: b * c is not the form
        assert isinstance(optimized("def f(a, b, c):\n    return a * (2.0 - b * c)\n"), gast.BinOp)
        assert isinstance(optimized("def f(a, b):\n    return a * (2 - b * b)\n"), gast.BinOp)
    finally:
        R.COMPUTED_BY[:] = [entry for entry in R.COMPUTED_BY if entry[0] is not rule]
    assert isinstance(optimized(source), gast.BinOp)


def test_a_form_the_pass_cannot_match_is_refused():
    def rule(result, result_bar, x):
        return result_bar * np.cosh(result)

    R.computed_by(doubled_shift, "result_bar", "result")(rule)
    try:
        with pytest.raises(RuleError, match="computed_by"):
            R.computed_forms()
    finally:
        R.COMPUTED_BY[:] = [entry for entry in R.COMPUTED_BY if entry[0] is not rule]
