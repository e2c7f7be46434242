"""Statements and expressions as scientists write them (issue 16): generator
expressions, set/dict/nested comprehensions, generator functions, `with`,
`match`, walrus, global/nonlocal reads, f-strings and print, assert/raise.

Every program is checked in reverse mode, forward mode and at second order
(hessian = forward over reverse, and grad of grad for scalars) against central
finite differences, and each construct also appears inside a loop, a branch
and a callee."""
import contextlib
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad


def check_all_modes(fn, x, second_order=True):
    """Reverse, forward and second order of fn at x against finite differences."""
    expected = numeric_grad(fn, [x], 0)
    assert_close(diffc.grad(fn)(x), expected, rtol=1e-6, atol=1e-8, what="reverse")
    tangent = np.linspace(0.3, 1.1, np.size(x)).reshape(np.shape(x)) if isinstance(x, np.ndarray) else 0.7
    _, derivative = diffc.jvp(fn, (x,), (tangent,))
    assert_close(derivative, np.sum(expected * tangent), rtol=1e-6, atol=1e-8, what="forward")
    if not second_order:
        return
    fd_hessian = fd_jacobian(lambda v: numeric_grad(fn, [v], 0, eps=1e-5), x, eps=1e-5)
    atol = 1e-5 * max(1.0, float(np.max(np.abs(fd_hessian))))      # differences of differences
    assert_close(diffc.hessian(fn)(x), fd_hessian, rtol=1e-4, atol=atol, what="hessian")
    if not isinstance(x, np.ndarray):
        assert_close(diffc.grad(diffc.grad(fn))(x), fd_hessian, rtol=1e-4, atol=atol, what="grad of grad")


XS = np.array([0.5, 1.2, -0.7, 0.9])


# ------------------------------------------------------ generator expressions

def genexp_sum(x):
    return sum(v ** 2 * np.sin(v) for v in x)


def genexp_in_np_array(x):
    return np.sum(np.array(list(np.tanh(v) * v for v in x)))


def genexp_with_condition_in_loop(x):
    total = 0.0
    for k in range(3):
        total = total + sum(x[i] * x[k] for i in range(len(x)) if i != k)
    return total


def genexp_in_branch(x):
    if x[0] > 0:
        return max(v ** 2 for v in x)
    return min(v ** 3 for v in x)


def _sum_of_squares(values):
    return sum(v * v for v in values)


def genexp_in_callee(x):
    return _sum_of_squares(x) + _sum_of_squares(np.cos(x))


def genexp_over_pairs(x):
    layers = [(x[0], x[1]), (x[2], x[3])]
    return sum(w * b ** 2 for w, b in layers)


def scalar_genexp(a):
    return sum(a ** k / math.factorial(k) for k in range(6))


# ------------------------------------------------------------ comprehensions

def set_comprehension(x):
    picked = {k % 3 for k in range(7)}
    return sum(x[k] ** 3 for k in sorted(picked))


def dict_comprehension(x):
    scaled = {name: x[k] * (k + 1.0) for k, name in enumerate(["a", "b", "c", "d"])}
    return scaled["a"] * scaled["b"] + np.sin(scaled["c"]) * scaled["d"]


def dict_comprehension_in_loop(x):
    total = 0.0
    for step in range(2):
        weights = {k: x[k] ** (step + 1) for k in range(len(x)) if k % 2 == step}
        for k, w in weights.items():
            total = total + w * x[k]
    return total


def nested_comprehension(x):
    pairs = [x[i] * x[j] for i in range(len(x)) for j in range(i) if (i + j) % 2 == 1]
    return np.sum(np.array(pairs))


def comprehension_of_comprehensions(x):
    rows = [x[:2], x[2:]]
    matrix = np.array([[a * np.exp(b) for b in row] for a, row in zip(x[:2], rows)])
    return np.sum(matrix ** 2)


def comprehension_reads_loop_variable(x):
    grid = [[x[i] * x[j] for j in range(i + 1)] for i in range(len(x))]
    return sum(sum(row) for row in grid)


def scalar_nested_comprehension(a):
    return sum([a ** i * j for i in range(3) for j in range(1, 3) if i + j > 1])


# --------------------------------------------------------- generator functions

def _layers(params):
    for k in range(0, len(params), 2):
        yield params[k], params[k + 1]


def generator_function(x):
    h = 0.3
    for w, b in _layers(x):
        h = np.tanh(w * h + b)
    return h


def _positive_then_rest(values):
    for v in values:
        if v > 0:
            yield v
    yield from values
    return


def generator_with_branch_and_yield_from(x):
    return sum(v ** 2 for v in _positive_then_rest(x))


def _powers(a, n):
    k = 0
    while True:
        if k == n:
            return
        yield a ** k
        k += 1


def scalar_generator_function(a):
    return sum(_powers(a, 4)) + sum(list(_powers(math.sin(a), 3)))


def generator_function_local(x):
    def squares():
        for v in x:
            yield v * v

    total = 0.0
    for s in squares():
        total = total + np.sqrt(s + 1.0)
    return total


# ----------------------------------------------------------------------- with

class _Recording:
    """A user context manager: records how often it is entered and left."""

    def __init__(self):
        self.entered = 0
        self.exited = 0

    def __enter__(self):
        self.entered += 1
        return 2.0

    def __exit__(self, *exc_info):
        self.exited += 1
        return False


RECORDER = _Recording()


def with_errstate(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.sum(np.log(x ** 2) * x)
    return y


def with_nullcontext_in_loop(x):
    total = 0.0
    for v in x:
        with contextlib.nullcontext(v) as w:
            total = total + np.sin(w) * v
    return total


def with_user_manager_and_return(x):
    total = 0.0
    for k in range(len(x)):
        with RECORDER as scale:
            if k == 2:
                return total + scale * x[k] ** 2
            total = total + x[k] * k
    return total


def _scaled_square(v):
    with RECORDER as scale, contextlib.nullcontext():
        out = scale * v ** 2
    return out


def with_in_callee(x):
    return np.sum(_scaled_square(x)) + _scaled_square(x[0])


def scalar_with(a):
    with np.errstate(over="ignore"):
        b = np.exp(a) * a
    return b


# -------------------------------------------------- match, walrus, declarations

def match_on_string(x, kind="cubic"):
    match kind:
        case "square":
            y = np.sum(x ** 2)
        case "cubic" | "cube":
            y = np.sum(x ** 3)
        case _:
            y = np.sum(x)
    return y


def match_in_loop(x):
    total = 0.0
    for k in range(len(x)):
        match k % 3:
            case 0:
                total = total + x[k] ** 2
            case 1 if x[k] > 0:
                total = total + np.exp(x[k])
            case n:
                total = total + n * x[k]
    return total


def scalar_match(a):
    mode = None
    match mode:
        case None:
            return a ** 3
        case _:
            return a


def walrus_in_condition(x):
    if (energy := np.sum(x ** 2)) > 1.0:
        return energy * 2.0 + energy
    return energy


def walrus_in_comprehension(x):
    kept = [y for v in x if (y := v * 3.0) > 0.0]
    return sum(kept) * x[0]


def walrus_in_loop(x):
    total = 0.0
    for v in x:
        total = total + (s := np.sin(v)) * s
    return total


SCALE = 3.0


def global_read(x):
    global SCALE
    return np.sum(x ** 2) * SCALE


def nonlocal_read(x):
    offset = 0.5

    def shifted(v):
        nonlocal offset
        return (v + offset) ** 2

    return np.sum(shifted(x))


def fstring_and_print(x):
    loss = np.sum(x ** 2)
    for k in range(2):
        print(f"step {k}: loss={loss:.3f} first={x[0]!r}")
        loss = loss * 1.5
    return loss


def assert_and_raise(x):
    assert x.ndim == 1, f"expected a vector, got {x.shape}"
    if x.shape[0] > 100:
        raise ValueError("too many parameters")
    return np.sum(np.sin(x) * x)


ARRAY_PROGRAMS = [genexp_sum, genexp_in_np_array, genexp_with_condition_in_loop, genexp_in_branch,
                  genexp_in_callee, genexp_over_pairs, set_comprehension, dict_comprehension,
                  dict_comprehension_in_loop, nested_comprehension, comprehension_of_comprehensions,
                  comprehension_reads_loop_variable, generator_function,
                  generator_with_branch_and_yield_from, generator_function_local, with_errstate,
                  with_nullcontext_in_loop, with_user_manager_and_return, with_in_callee,
                  match_on_string, match_in_loop, walrus_in_condition, walrus_in_comprehension,
                  walrus_in_loop, global_read, nonlocal_read, fstring_and_print, assert_and_raise]
SCALAR_PROGRAMS = [scalar_genexp, scalar_nested_comprehension, scalar_generator_function, scalar_with,
                   scalar_match]


@pytest.mark.parametrize("fn", ARRAY_PROGRAMS, ids=lambda f: f.__name__)
def test_array_program_all_modes(fn):
    check_all_modes(fn, XS.copy())


@pytest.mark.parametrize("fn", ARRAY_PROGRAMS, ids=lambda f: f.__name__)
def test_array_program_other_branch(fn):
    """The same programs where signs flip (other branches, other match cases)."""
    check_all_modes(fn, -XS[::-1].copy() * 1.3)


@pytest.mark.parametrize("fn", SCALAR_PROGRAMS, ids=lambda f: f.__name__)
def test_scalar_program_all_modes(fn):
    check_all_modes(fn, 0.8)


def test_match_other_cases():
    for kind in ("square", "cube", "linear"):
        expected = numeric_grad(lambda v: match_on_string(v, kind), [XS], 0)
        assert_close(diffc.grad(match_on_string)(XS, kind), expected, rtol=1e-6, atol=1e-8, what=kind)


def test_with_manager_runs_as_in_python():
    recorder = _Recording()
    globals()["RECORDER"] = recorder
    try:
        diffc.grad(with_user_manager_and_return)(XS)
        # The loop returns in its third iteration: entered and left three times, once per call.
        assert (recorder.entered, recorder.exited) == (3, 3)
        _, tangent = diffc.jvp(with_user_manager_and_return, (XS,), (np.ones(4),))
        assert (recorder.entered, recorder.exited) == (6, 6)
    finally:
        globals()["RECORDER"] = RECORDER


def test_errstate_is_active_in_the_body():
    def warns(x):
        with np.errstate(divide="raise"):
            y = np.sum(x / (x - x[0]))
        return y
    with pytest.raises(FloatingPointError):
        diffc.grad(warns)(XS)


def test_print_runs_once_per_gradient(capsys):
    diffc.grad(fstring_and_print)(XS)
    printed = capsys.readouterr().out
    assert printed.count("step 0") == 1 and printed.count("step 1") == 1


def test_global_write_is_refused():
    def writes(x):
        global SCALE
        SCALE = 2.0
        return x * SCALE
    with pytest.raises(diffc.UnsupportedSyntax, match="global variable 'SCALE' is assigned"):
        diffc.grad(writes)(1.0)


def test_yield_value_used_is_refused():
    def coroutine(x):
        got = yield x
        yield got

    def uses(x):
        return sum(coroutine(x))
    with pytest.raises(diffc.UnsupportedSyntax, match="yield whose value is used"):
        diffc.grad(uses)(1.0)


def test_sequence_pattern_is_refused():
    def destructures(x):
        match (x, 2.0):
            case (a, b):
                return a * b
        return x
    with pytest.raises(diffc.UnsupportedSyntax, match="MatchSequence pattern"):
        diffc.grad(destructures)(1.0)


# ------------------------------------------------------------------ try/except

def gp_log_marginal(x):
    """Cholesky with a jitter fallback, as GP code does: outer(x, x) is singular."""
    K = np.outer(x, x)
    try:
        L = np.linalg.cholesky(K)
    except np.linalg.LinAlgError:
        L = np.linalg.cholesky(K + 0.5 * np.eye(len(x)))
    return np.sum(np.log(np.diag(L))) + np.sum(L ** 2)


def _checked_sum(v):
    if np.sum(v) > 0:
        raise ValueError("positive sum")
    return np.sum(v ** 3)


def try_partial_body_then_handler(x):
    y = x * 2.0
    try:
        y = np.sin(y)                    # completes: the handler sees the new y
        z = _checked_sum(y)              # raises when sum(sin(2x)) > 0
    except ValueError as err:
        z = np.sum(y ** 2) * len(str(err))
    return z * x[0]


def try_in_loop_with_callee(x):
    total = 0.0
    for k in range(4):
        try:
            total = total + _checked_sum(x * (k - 1.5))
        except ValueError:
            total = total + np.sum(np.cos(x * k))
        else:
            total = total * 1.1
        finally:
            total = total + 0.01 * np.sum(x)
    return total


def try_validation_branch_else_finally(x):
    try:
        if np.sum(x) > 0:
            raise KeyError("positive")
        y = np.sum(x ** 2)
    except (KeyError, IndexError):
        y = np.sum(x ** 3)
    else:
        y = y * 2.0
    finally:
        scale = 1.5
    return y * scale


def try_nested_reraise(x):
    try:
        try:
            y = _checked_sum(x)
        except ValueError:
            y = np.sum(np.exp(x))
            if y > 3.0:
                raise
    except ValueError:
        y = np.sum(np.tanh(x))
    return y


def try_return_in_body(x):
    for k in range(3):
        try:
            return _checked_sum(x * k)
        except ValueError:
            x = x * 0.5
    return np.sum(x)


def try_inside_with(x):
    with np.errstate(divide="ignore"):
        try:
            y = _checked_sum(x)
        except ValueError:
            y = np.sum(np.log(x ** 2))
    return y


def scalar_try(a):
    try:
        r = math.sqrt(a - 1.0)
    except ValueError:
        r = a ** 3
    return r * a


TRY_PROGRAMS = [gp_log_marginal, try_partial_body_then_handler, try_in_loop_with_callee,
                try_validation_branch_else_finally, try_nested_reraise, try_return_in_body,
                try_inside_with]


@pytest.mark.parametrize("fn", TRY_PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_try_path_taken_all_modes(fn, sign):
    check_all_modes(fn, sign * XS.copy())


@pytest.mark.parametrize("a", [0.4, 2.3])
def test_scalar_try_both_paths(a):
    check_all_modes(scalar_try, a)


def test_try_value_is_the_pythons_and_vjp_repeats_the_path():
    x = np.array([0.5, 1.2, -0.7, 0.9])
    value, _ = diffc.value_and_grad(try_in_loop_with_callee)(x)
    assert value == try_in_loop_with_callee(x)
    out, pullback = diffc.vjp(try_partial_body_then_handler, x)
    assert out == try_partial_body_then_handler(x)
    expected = numeric_grad(try_partial_body_then_handler, [x], 0)
    for _ in range(2):                   # the second pullback runs the code again
        assert_close(pullback(1.0)[0], expected, rtol=1e-6, atol=1e-8)


def test_try_exception_not_handled_escapes_unchanged():
    def lookup(x):
        try:
            y = _checked_sum(x)
        except KeyError:
            y = x[0]
        return y
    with pytest.raises(ValueError, match="positive sum"):
        diffc.grad(lookup)(XS)


def _counting_loop(x):
    total = 0.0
    try:
        for k in range(3):
            total = total + x[k]
            if k == 1:
                raise ValueError("half way")
    except ValueError:
        total = total * 2.0
    return total


def test_try_loop_raising_half_way_is_refused():
    with pytest.raises(diffc.UnsupportedSyntax, match="part way through the loop"):
        diffc.grad(_counting_loop)(XS)


def test_return_in_try_with_finally_is_refused():
    def returns(x):
        try:
            return x * 2.0
        finally:
            x = 0.0
    with pytest.raises(diffc.UnsupportedSyntax, match="try with a finally"):
        diffc.grad(returns)(1.0)


# ------------------------------------------------------------- combinations

_SIZES = [(3, 2), (2, 1)]
_INPUTS = np.array([[0.2, -0.4, 0.9], [1.1, 0.3, -0.5]])


def _weights_and_biases(params):
    """Yield (W, b) per layer from a flat parameter vector, as tutorials do."""
    start = 0
    for n_in, n_out in _SIZES:
        W = params[start:start + n_in * n_out].reshape(n_in, n_out)
        start += n_in * n_out
        b = params[start:start + n_out]
        start += n_out
        yield W, b


def mlp_from_generator(params):
    h = _INPUTS
    for W, b in _weights_and_biases(params):
        with np.errstate(over="ignore"):
            h = np.tanh(h @ W + b)
    return sum(np.sum(row ** 2) for row in h)


def _fixed_layers(params):
    yield params[0:6].reshape(3, 2), params[6:8]
    yield params[8:10].reshape(2, 1), params[10:11]


def mlp_from_fixed_generator(params):
    h = _INPUTS
    for W, b in _fixed_layers(params):
        h = np.tanh(h @ W + b)
    return sum(np.sum(row ** 2) for row in h)


PARAMS = np.linspace(-0.8, 0.9, 3 * 2 + 2 + 2 * 1 + 1)


def test_generator_of_weight_pairs_under_hessian():
    check_all_modes(mlp_from_fixed_generator, PARAMS.copy())


def test_generator_slicing_by_loop_offsets():
    check_all_modes(mlp_from_generator, PARAMS.copy())


def lazy_comprehension_in_conditional(x, extra=None):
    base = 0.0 if extra is None else sum(v * x[0] for v in extra)
    more = extra is not None and sum(w ** 2 for w in extra) > 1.0
    fallback = (extra is not None and len(extra) > 5) or sum(np.sin(v) for v in x)
    return base + float(more) + fallback * x[1] + np.sum(x ** 2)


def test_comprehension_in_conditional_runs_only_when_python_does():
    """`0.0 if extra is None else sum(... for v in extra)` must not iterate None."""
    check_all_modes(lazy_comprehension_in_conditional, XS.copy())
    with_extra = lambda v: lazy_comprehension_in_conditional(v, [0.5, 2.0])
    assert_close(diffc.grad(lazy_comprehension_in_conditional)(XS, [0.5, 2.0]),
                 numeric_grad(with_extra, [XS], 0), rtol=1e-6, atol=1e-8)


def test_with_manager_gets_the_exception_leaving_its_body():
    """An exception escaping a with body calls __exit__ with it, as in Python
    (np.errstate restores the error state, a user manager sees the exception)."""
    seen = []

    class Watch:
        def __enter__(self):
            return self

        def __exit__(self, kind, value, tb):
            seen.append(kind)
            return False

    def fails(x):
        with Watch():
            y = _checked_sum(x)
        return y

    before = np.geterr()

    def fails_in_errstate(x):
        with np.errstate(all="raise"):
            y = _checked_sum(x)
        return y
    for make in (diffc.grad, lambda f: (lambda x: diffc.jvp(f, (x,), (x,)))):
        with pytest.raises(ValueError):
            make(fails)(XS)
        with pytest.raises(ValueError):
            make(fails_in_errstate)(XS)
        assert np.geterr() == before
    assert seen == [ValueError, ValueError]


def _suppressing(x):
    total = np.sum(x ** 2)
    with contextlib.suppress(ValueError, KeyError):
        total = total + _checked_sum(x)
    return total


def test_contextlib_suppress_is_a_try():
    check_all_modes(_suppressing, XS.copy())          # suppressed
    check_all_modes(_suppressing, -XS.copy())         # the body completes
