"""Errors that teach: DiffcError formatting, source-mapped runtime errors, DiffcWarning checks."""
import math
import traceback
import warnings

import numpy as np
import pytest

import diffc
from diffc import DiffcWarning


# --------------------------------------------------------------- programs

def domain_error(x):
    y = x * 2.0
    z = math.sqrt(y) * x
    return z


def shape_mismatch(a, b):
    s = 0.0
    for i in range(2):
        s = s + np.sum(a * b)
    return s


def through_abs(x):
    return abs(x) * 3.0


def through_np_abs(x):
    return np.sum(np.abs(x))


def through_max(x, y):
    return max(x, y) * 2.0


def through_round(x):
    return round(x) * x


def through_int(x):
    n = int(x)
    return x * n


def through_floor(x):
    return np.floor(x) * x


def unrelated_int(x, k):
    n = int(k)
    return x * n


def deletes(x):
    y = x * 2.0
    del y[0:1]
    return x


def try_block(x):
    try:
        return x * 2.0
    finally:
        x = 0.0


def class_inside(x):
    k = 2.0

    class Local:                  # reads k, a local rebound after the class exists: refused
        def get(self):
            return k
    k = 3.0
    return x * Local().get()


def global_write(x):
    global _G
    _G = x
    return x


# ------------------------------------------------------- source mapping

def _lineno_of(fn, text):
    import inspect
    lines, first = inspect.getsourcelines(fn)
    for k, line in enumerate(lines):
        if text in line:
            return first + k
    raise AssertionError(text)


def test_runtime_error_points_at_the_users_line():
    with pytest.raises(ValueError) as info:
        diffc.grad(domain_error)(-1.0)
    exc = info.value
    line = _lineno_of(domain_error, "math.sqrt(y) * x")
    frames = traceback.extract_tb(exc.__traceback__)
    assert any(f.filename == __file__ and f.lineno == line and f.name == "domain_error" for f in frames)
    assert any(f.filename.startswith("<diffc:") for f in frames)      # the generated frame stays
    notes = "\n".join(getattr(exc, "__notes__", []))
    assert f"{__file__}:{line}" in notes and "math.sqrt(y) * x" in notes
    text = "".join(traceback.format_exception(exc))
    assert "z = math.sqrt(y) * x" in text


def test_shape_mismatch_points_at_the_users_line():
    with pytest.raises(ValueError) as info:
        diffc.grad(shape_mismatch)(np.ones(3), np.ones(4))
    line = _lineno_of(shape_mismatch, "np.sum(a * b)")
    frames = traceback.extract_tb(info.value.__traceback__)
    assert [f for f in frames if f.filename == __file__ and f.lineno == line]


def test_vjp_errors_are_mapped_too():
    with pytest.raises(ValueError) as info:
        diffc.vjp(domain_error, -1.0)
    frames = traceback.extract_tb(info.value.__traceback__)
    assert any(f.filename == __file__ and f.name == "domain_error" for f in frames)


def test_annotate_is_idempotent_and_ignores_foreign_exceptions():
    from diffc import sourcemap
    exc = ValueError("plain")
    assert sourcemap.annotate(exc) is exc and not getattr(exc, "__notes__", None)
    assert sourcemap.user_function_name("_adj_helper") == "helper"
    assert sourcemap.user_function_name("value_and_grad_f") == "f"


# ---------------------------------------------------- compile-time errors

@pytest.mark.parametrize("fn, words", [
    (deletes, "new container"),
    (try_block, "variable"),
    (class_inside, "module level"),
    (global_write, "argument"),
])
def test_every_unsupported_construct_has_location_caret_and_hint(fn, words):
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(fn)(1.0)
    message = str(info.value)
    first = message.splitlines()[0]
    assert first.startswith(f"{__file__}:")
    _, line, col, _ = first.split(":", 3)
    assert line.isdigit() and col.isdigit()
    assert message.splitlines()[2].strip() == "^"
    assert "hint:" in message and words in message


# -------------------------------------------------------------- warnings

def _warnings_of(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = call()
    return value, [w for w in caught if issubclass(w.category, DiffcWarning)]


def test_abs_at_its_kink_warns_at_the_users_line():
    value, caught = _warnings_of(lambda: diffc.grad(through_abs)(0.0))
    assert value == 0.0 and len(caught) == 1
    assert "kink" in str(caught[0].message)
    assert caught[0].filename == __file__ and caught[0].lineno == _lineno_of(through_abs, "abs(x) * 3.0")
    _, none = _warnings_of(lambda: diffc.grad(through_abs)(1.0))
    assert none == []


def test_np_abs_at_zero_warns():
    _, caught = _warnings_of(lambda: diffc.grad(through_np_abs)(np.array([0.0, 1.0])))
    assert caught and "kink" in str(caught[0].message)
    _, none = _warnings_of(lambda: diffc.grad(through_np_abs)(np.array([2.0, 1.0])))
    assert none == []


def test_max_tie_warns():
    _, caught = _warnings_of(lambda: diffc.grad(through_max)(1.0, 1.0))
    assert caught and "tie" in str(caught[0].message)
    _, none = _warnings_of(lambda: diffc.grad(through_max)(2.0, 1.0))
    assert none == []


@pytest.mark.parametrize("fn, what", [(through_round, "round"), (through_int, "int"),
                                      (through_floor, "np.floor")])
def test_zero_derivative_operations_warn_at_compile_time(fn, what):
    diffc.compile_cache.CACHE.clear()
    _, caught = _warnings_of(lambda: diffc.grad(fn)(1.5))
    assert len(caught) == 1
    assert str(caught[0].message).startswith(what) and caught[0].filename == __file__


def test_cast_of_a_value_that_is_not_differentiated_does_not_warn():
    diffc.compile_cache.CACHE.clear()
    _, caught = _warnings_of(lambda: diffc.grad(unrelated_int)(1.5, 2.0))
    assert caught == []
