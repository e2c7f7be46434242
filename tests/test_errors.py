"""Unsupported input gets a DiffcError naming the user's line, with a caret and a hint."""
import numpy as np
import pytest

import diffc


def uses_generator(x):
    return sum(v * x for v in range(3))


def uses_try(x):
    try:
        y = x * 2
    except ValueError:
        y = x
    return y


def uses_global(x):
    global COUNTER
    COUNTER = x
    return x


def no_rule(x):
    return np.polyval(x, 2.0).sum() + np.fft.fft(x).real.sum()


def uses_with(x):
    with open("f") as fh:
        fh.read()
    return x


@pytest.mark.parametrize("fn,fragment", [
    (uses_generator, "v * x for v in range(3)"),
    (uses_try, "try:"),
    (uses_global, "global COUNTER"),
    (no_rule, "np.polyval"),
    (uses_with, "with open"),
])
def test_error_names_line_and_shows_caret(fn, fragment):
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(fn)(np.array([1.0, 2.0]))
    text = str(info.value)
    assert "test_errors.py:" in text
    assert fragment in text
    assert "^" in text
    assert "hint:" in text or isinstance(info.value, diffc.NoDerivativeRule)


def test_no_rule_names_the_function():
    with pytest.raises(diffc.NoDerivativeRule) as info:
        diffc.grad(no_rule)(np.array([1.0, 2.0]))
    assert "polyval" in str(info.value)


def aliased_then_written(x):
    y = np.zeros(3) + x
    z = y
    z[0] = 5.0
    return np.sum(y * z)


def view_then_written(x):
    u = x * 1.0
    head = u[0:2]
    u[0] = 7.0
    return np.sum(head * u)


@pytest.mark.parametrize("fn,name", [(aliased_then_written, "'z'"), (view_then_written, "'head'")])
def test_aliasing_that_python_would_show_is_refused(fn, name):
    with pytest.raises(diffc.UnsupportedSyntax) as info:
        diffc.grad(fn)(np.array([1.0, 2.0, 3.0]))
    assert name in str(info.value)
    assert ".copy()" in str(info.value)


def _fill(buf, v):
    buf[0] = v
    return v * 2.0


def caller_relies_on_mutation(x):
    buf = np.zeros(2)
    r = _fill(buf, x)
    return r + buf[0]


def _push(lst, v):
    lst.append(v)


def caller_relies_on_append(x):
    lst = []
    _push(lst, x * 2.0)
    return lst[0]


@pytest.mark.parametrize("fn", [caller_relies_on_mutation, caller_relies_on_append])
def test_callee_writing_into_caller_array_is_refused(fn):
    with pytest.raises(diffc.UnsupportedSyntax) as info:
        diffc.grad(fn)(1.5)
    assert "in place" in str(info.value)


def test_internal_errors_are_diffc_errors(monkeypatch):
    from diffc.transform import reverse

    def broken(*args, **kwargs):
        raise KeyError("simulated compiler bug")
    monkeypatch.setattr(reverse.ReverseFunction, "build", broken)

    def fresh(x):
        return x * 3.0 + 1.0
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(fresh)(1.0)
    assert "internal error" in str(info.value)
    assert isinstance(info.value.__cause__, KeyError)


def test_every_compile_error_of_the_reverse_pass_says_what_to_do():
    import ast
    import inspect
    from diffc.transform import reverse, sweep
    missing = []
    for module in (reverse, sweep):
        tree = ast.parse(inspect.getsource(module))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "fail":
                if not any(k.arg == "hint" for k in node.keywords):
                    missing.append(f"{module.__name__}:{node.lineno}")
    assert not missing, f"self.fail(...) without a hint at {missing}"
