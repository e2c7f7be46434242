"""transform/rule_calls.py: binding a call's atoms to a rule's parameters, shared by the
reverse (adjoint rules) and forward (tangent rules) transforms."""

import gast
import pytest

from diffc.transform.rule_calls import RuleBindingError, bind_rule_arguments


def atom(name):
    return gast.Name(id=name, ctx=gast.Load(), annotation=None, type_comment=None)


def keyword(name, value):
    return gast.keyword(arg=name, value=atom(value))


def test_positional_and_keyword_arguments():
    bound = bind_rule_arguments(["a", "axis", "keepdims"], [atom("x")], [keyword("axis", "k")])
    assert [(p, a.id) for p, a in bound.positional] == [("a", "x")]
    assert [(p, a.id) for p, a in bound.keywords] == [("axis", "k")]
    assert bound.extra == []


def test_vararg_rule_takes_the_rest():
    bound = bind_rule_arguments(["subscripts"], [atom("s"), atom("u"), atom("v")], vararg=True)
    assert [(p, a.id) for p, a in bound.positional] == [("subscripts", "s")]
    assert [a.id for a in bound.extra] == ["u", "v"]


def test_keyword_only_parameter():
    bound = bind_rule_arguments(["a"], [atom("x")], [keyword("where", "m")], kwonly=["where"])
    assert [p for p, _ in bound.keywords] == ["where"]


def test_refusals():
    with pytest.raises(RuleBindingError) as too_many:
        bind_rule_arguments(["a"], [atom("x"), atom("y")])
    assert too_many.value.problem == "too many"
    with pytest.raises(RuleBindingError) as unknown:
        bind_rule_arguments(["a"], [atom("x")], [keyword("out", "o")])
    assert (unknown.value.problem, unknown.value.name) == ("keyword", "out")
