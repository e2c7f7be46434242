"""optimize/read_float_items.py: scalar loops read float64 vectors as lists of Python floats.

Every program is checked against central finite differences (and its value
against the function) in both modes; source checks show where the rewrite is
made and where it must stand back (a division of values that were not NumPy
scalars as written, a power, a call into user code, an array the loop writes).
"""
import ast
import warnings

import gast
import numpy as np
import pytest

import diffc
from diffc import runtime
from diffc.optimize.read_float_items import read_float_items
from gradcheck import assert_close, check_value_and_grad, numeric_grad
from pass_harness import resolved_tree, run_tree


def check(fn, *args, wrt=0):
    """Both modes against finite differences; an array's gradient keeps its dtype."""
    wrt_list = list(wrt) if isinstance(wrt, tuple) else [wrt]
    grads = check_value_and_grad(fn, *args, wrt=wrt)
    fresh = [np.array(a) if isinstance(a, np.ndarray) else a for a in args]
    for k, g in zip(wrt_list, grads):
        if isinstance(args[k], np.ndarray):
            assert np.asarray(g).dtype == args[k].dtype, "the gradient keeps the argument's dtype"
    for k in wrt_list:
        tangents = [None] * len(args)
        tangents[k] = np.linspace(0.5, 1.5, args[k].size) if isinstance(args[k], np.ndarray) else 1.0
        value, dot = diffc.jvp(fn, args, tangents)
        assert_close(value, fn(*fresh), rtol=1e-12, atol=1e-12, what="jvp value")
        expected = float(np.sum(numeric_grad(fn, args, k) * tangents[k]))
        assert_close(dot, expected, rtol=1e-6, atol=1e-8, what=f"jvp along arg{k}")


def horner(x, coeffs):
    acc = 0.0
    for i in range(len(coeffs)):
        acc = acc * x + coeffs[i]
    return acc


def shifted(a, x):
    s = 0.0
    n = len(a)
    for i in range(n - 1):
        s = s * x + a[i + 1] - a[n - 1 - i] + 0.5 * a[-1]
    return s


def from_int_parameter(a, x, n):
    s = x
    for i in range(n):
        s = s * x - a[n - i - 1]
    return s


def nested(x, a, b):
    s = 0.0
    for i in range(len(b)):
        for j in range(len(a)):
            s = s * x + a[j] * b[i]
        s = 0.5 * s
    return s


def product_of_two(a, b):
    s = 0.0
    for i in range(len(a)):
        s = s + a[i] * b[i]
    return s


def divides(x, a):
    s = 0.0
    for i in range(len(a)):
        s = s + a[i] / x
    return s


def halves(x, a):
    s = 0.0
    for i in range(len(a)):
        s = s * x + a[i] / 2.0 - (a[i] - x) / 3
    return s


def squares(x, a):
    s = 0.0
    for i in range(len(a)):
        s = s * x + a[i] ** 2
    return s


def helper(u, v):
    return u * v


def calls_user_code(x, a):
    s = 0.0
    for i in range(len(a)):
        s = helper(s, x) + a[i]
    return s


def writes_its_array(x, a):
    b = a * 1.0
    for i in range(1, len(b)):
        b[i] = b[i - 1] * x + b[i]
    return b[-1]


def while_reads(x, a):
    s = 0.0
    i = 0
    while i < len(a):
        s = s * x + a[i]
        i = i + 1
    return s


def _vec(n, seed=0):
    return np.random.default_rng(seed).standard_normal(n) / np.sqrt(n)


# loops of 16 iterations or more: shorter ones do not pay for the copy and read the array
CASES = [
    (horner, (0.9, _vec(24)), (0, 1)),
    (shifted, (_vec(20), 0.8), (0, 1)),
    (from_int_parameter, (_vec(20), 0.7, 18), (0, 1)),
    (nested, (0.6, _vec(20), _vec(17, 1)), (0, 1, 2)),
    (product_of_two, (_vec(20), _vec(20, 1)), (0, 1)),
    (divides, (0.7, _vec(20)), (0, 1)),
    (halves, (0.7, _vec(20)), (0, 1)),
    (squares, (0.7, _vec(20)), (0, 1)),
    (calls_user_code, (0.7, _vec(20)), (0, 1)),
    (writes_its_array, (0.7, _vec(20)), (0, 1)),
    (while_reads, (0.7, _vec(20)), (0, 1)),
]


@pytest.mark.parametrize("fn, args, wrt", CASES)
def test_gradients_match_finite_differences(fn, args, wrt):
    check(fn, *args, wrt=wrt)


@pytest.mark.parametrize("fn, args, arrays", [
    (horner, CASES[0][1], ["coeffs"]),
    (shifted, CASES[1][1], ["a"]),
    (from_int_parameter, CASES[2][1], ["a"]),
    (nested, CASES[3][1], ["a", "b"]),
    (product_of_two, CASES[4][1], ["a", "b"]),
    (halves, CASES[6][1], ["a"]),
])
def test_reads_come_from_float_lists(fn, args, arrays):
    every = tuple(k for k, a in enumerate(args) if not isinstance(a, int))
    for mode in ("reverse", "forward"):
        text = diffc.source(fn, mode=mode, wrt=every, args=args)
        for array in arrays:
            assert f"float_items({array}, " in text, text
            if mode == "forward":       # its tangent's elements too
                assert f"float_items({array}_dot, " in text, text


@pytest.mark.parametrize("fn", [squares, calls_user_code, writes_its_array, while_reads])
def test_stands_back_where_floats_and_numpy_scalars_differ(fn):
    text = diffc.source(fn, wrt=(0, 1), args=(0.7, _vec(20)))
    assert "float_items" not in text, text


def test_a_division_keeps_numpy_semantics():
    # the primal divides NumPy scalars by x = 0.0 (inf, a warning); the forward
    # sweep reads floats and guards the division, where floats alone would raise
    a = _vec(24)
    assert "float_items(a, " in diffc.source(divides, mode="forward", wrt=(0, 1), args=(0.7, a))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        value, dot = diffc.jvp(divides, (0.0, a), (None, np.ones(24)))
        expected = divides(0.0, a)
    assert not np.isfinite(value) and not np.isfinite(dot)      # no exception
    assert value == expected or (np.isnan(value) and np.isnan(expected))


def test_other_dtypes_and_sequences_are_read_as_before():
    a32 = _vec(8).astype(np.float32)
    g = diffc.grad(horner, wrt=1)(0.9, a32)
    assert g.dtype == np.float32
    assert_close(g, 0.9 ** np.arange(7, -1, -1), rtol=1e-6, atol=0)      # d/dc_i = x**(n-1-i)
    ints = np.arange(6)
    assert_close(diffc.grad(horner)(0.9, ints), numeric_grad(horner, (0.9, ints), 0), rtol=1e-6)
    as_list = _vec(6).tolist()
    assert_close(diffc.grad(horner)(0.9, as_list), numeric_grad(horner, (0.9, as_list), 0), rtol=1e-6)


def test_runtime_copies_only_short_float64_vectors():
    a = np.linspace(0.0, 1.0, 100)
    items = runtime.float_items(a, 100, True)
    assert type(items) is list and items == a.tolist()
    assert runtime.float_items(a, 3, True) is a             # a long array read a few times
    assert runtime.float_items(a, 100, False) is a          # the check at the start said no
    for other in (a.astype(np.float32), a.reshape(10, 10), a.tolist(), 0.0):
        assert runtime.float_items(other, 100, True) is other


def test_the_check_at_the_start():
    assert runtime.float64_world(0.5, 2, True, np.float64(1.0), np.ones(3), np.arange(3), None)
    for other in (np.float32(1.0), np.ones(3, np.float32), 1j, [1.0]):
        assert not runtime.float64_world(1.0, other)
    with np.errstate(invalid="raise"):
        assert not runtime.float64_world(1.0)


def test_the_copy_is_read_at_run_time():
    # the gradient of a float parameter, computed from the copied floats, is a float
    assert type(diffc.grad(horner)(0.9, _vec(24))) is float
    assert type(diffc.grad(horner)(0.9, _vec(8))) is not float       # too short a loop: the array


def weighted(x, w, a):
    s = 0.0
    for i in range(len(a)):
        s = s * x + w[i] * a[i]
    return s


def test_lower_precision_values_keep_numpy_promotion():
    # NEP 50: a float32 scalar or array element times a Python float stays float32, times
    # a NumPy float64 becomes float64; the copy is not used when such values are met
    a = _vec(24)
    for args in [(np.float32(0.9), a), (0.9, a.astype(np.float32))]:
        value, grad = diffc.value_and_grad(horner, wrt=0)(*args)
        expected = horner(*args)
        assert value == expected and type(value) is type(expected)
    args = (0.9, a.astype(np.float32), _vec(24, 1))
    value, grad = diffc.value_and_grad(weighted, wrt=(0, 2))(*args)
    expected = weighted(*args)
    assert value == expected and type(value) is type(expected)
    assert_close(grad[1], numeric_grad(weighted, args, 2), rtol=1e-6, atol=1e-8)


def test_raising_numpy_error_state_keeps_the_array():
    with np.errstate(over="raise"):
        with pytest.raises(FloatingPointError):
            horner(1e200, _vec(24) + 1.0)
        with pytest.raises(FloatingPointError):
            diffc.grad(horner)(1e200, _vec(24) + 1.0)


def _rewritten(fn, names):
    """The source of a hand-written function after the pass alone."""
    return ast.unparse(gast.gast_to_ast(read_float_items(resolved_tree(fn, names), {})))


def writes_through_a_ufunc_out(x, a):       # in the form the pass sees: range of a name
    s = 0.0
    n = len(a)
    for i in range(n):
        s = s * x + a[i]
        np.multiply(a, 0.5, a)          # positional `out`: the loop writes a
    return s


def reads_a_plain_loop(x, a):
    s = 0.0
    n = len(a)
    for i in range(n):
        s = s * x + a[i]
    return s


def test_the_pass_stands_back_from_a_loop_writing_through_out():
    names = {"np": np, "range": range, "len": len}
    assert "float_items(a" in _rewritten(reads_a_plain_loop, names)
    assert "float_items" not in _rewritten(writes_through_a_ufunc_out, names)


def iterates(x, a):
    s = 0.0
    for e in a:
        s = s * x + e
    return s


def enumerates(x, a):
    s = 0.0
    for i, e in enumerate(a):
        s = s * x + e * i
    return s


def zips(x, a, b):
    s = 0.0
    for u, v in zip(a, b):
        s = s * x + u * v
    return s


@pytest.mark.parametrize("fn, args", [
    (iterates, (0.8, _vec(20))),
    (enumerates, (0.8, _vec(20))),
    (zips, (0.8, _vec(20), _vec(20, 1))),
])
def test_loops_over_the_elements(fn, args):
    every = tuple(range(len(args)))
    check(fn, *args, wrt=every)
    for mode in ("reverse", "forward"):
        assert "float_items(_seq" in diffc.source(fn, mode=mode, wrt=every, args=args)


def test_exported_module_copies_the_helpers():
    from diffc.export import export_source
    args = (0.9, _vec(24))
    text = export_source(horner, wrt=(0, 1), args=args)
    assert "def float_items(" in text and "def float64_world(" in text
    space = {}
    exec(compile(text, "<exported horner>", "exec"), space)
    exported, compiled = space["grad_horner"](*args), diffc.grad(horner, wrt=(0, 1))(*args)
    assert exported[0] == compiled[0] and np.array_equal(exported[1], compiled[1])


def rational(x, a):
    s = 0.0
    for i in range(len(a)):
        s = s + a[i] / (1.0 + x * a[i] * a[i])
    return s


def reciprocal_inline(x, a):
    s = 0.0
    for i in range(len(a)):
        s = s * x + 1.0 / (2.0 + a[i] * x)
    return s


def reciprocal_of_gap(x, a, c):
    s = 0.0
    for i in range(len(a)):
        s = s + x / (a[i] - c)
    return s


def divides_by_a_running_sum(x, a):
    s = 0.0
    t = x
    for i in range(len(a)):
        s = s + a[i]
        t = t + 1.0 / s             # s was a Python 0.0 as written: not a NumPy division
    return t


@pytest.mark.parametrize("fn", [rational, reciprocal_inline])
def test_guarded_divisions(fn):
    args = (0.6, np.abs(_vec(24)) + 0.1)
    check(fn, *args, wrt=(0, 1))
    text = diffc.source(fn, wrt=(0, 1), args=args)
    assert "float_items(a, " in text and ".__class__ is float and" in text and "np.divide(" in text, text


def test_a_guarded_division_by_zero_follows_numpy():
    # a[3] - c is a NumPy 0.0 as written: x / 0.0 is inf with a warning, never ZeroDivisionError
    a = np.abs(_vec(24)) + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = reciprocal_of_gap(0.5, a, a[3])
        value, (gx, ga) = diffc.value_and_grad(reciprocal_of_gap, wrt=(0, 1))(0.5, a, float(a[3]))
    assert np.isinf(expected) and value == expected and np.isinf(gx) and np.isinf(ga[3])
    assert "float_items(a, " in diffc.source(reciprocal_of_gap, wrt=(0, 1), args=(0.5, a, 0.3))


def test_a_division_of_values_not_numpy_as_written_is_left_alone():
    args = (0.6, np.abs(_vec(24)) + 0.1)
    assert "float_items" not in diffc.source(divides_by_a_running_sum, wrt=(0, 1), args=args)
    check(divides_by_a_running_sum, *args, wrt=(0, 1))


def divides_by_an_expression(x, a):         # in the form the pass sees
    s = 0.0
    n = len(a)
    for i in range(n):
        s = s + x / (a[i] * x + 2.0)
    return s


def test_a_divisor_expression_is_evaluated_once_in_the_guard():
    names = {"np": np, "range": range, "len": len, "float": float,
             "float_items": runtime.float_items, "float64_world": runtime.float64_world}
    tree = read_float_items(resolved_tree(divides_by_an_expression, names), {})
    text = _rewritten(divides_by_an_expression, names)
    assert "_divisor" in text and ":=" in text, text
    a = _vec(24)
    assert run_tree(tree, names, 0.7, a) == divides_by_an_expression(0.7, a)
    a[5] = -2.0 / 0.5                               # a zero divisor at x = 0.5: NumPy's inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert run_tree(tree, names, 0.5, a) == divides_by_an_expression(0.5, a) == np.inf


def test_facts_come_from_the_effects_registry():
    """float_items keeps no table of its own: what it assumes of a helper is declared
    beside the helper (diffc/effects.py) and asked of the registry."""
    import builtins
    import pathlib
    from diffc import checks, effects, runtime
    from diffc.rules import builtins_rules, complex_rules
    assert effects.has(builtins_rules._extremum_bars, effects.RETURNS_ARGUMENTS)
    assert effects.has(complex_rules.real_cotangent, effects.FLOAT_PRESERVING)
    assert effects.has(builtins.max, effects.FLOAT_PRESERVING)
    assert effects.has(checks.kink_sign, effects.NUMPY_RESULT)
    assert effects.has(runtime.zeros_like, effects.NEW_BUFFER)
    assert effects.has(runtime.item, effects.WRITES_NOTHING)
    assert not effects.has(runtime.acc_item, effects.WRITES_NOTHING)
    text = (pathlib.Path(runtime.__file__).parent / "optimize" / "read_float_items.py").read_text()
    assert "from ..rules" not in text and "checks." not in text
