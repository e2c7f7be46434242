"""Second derivatives of every corpus program, in the three mixed orders.

For each program of tests/corpus.py, with respect to its first float or array
argument: forward over reverse (`diffc.hessian`), reverse over reverse
(`grad`/`jacobian` of `grad`) and reverse over forward (`grad` of the
forward-mode `jacobian`, scalar arguments).  The reference is central finite
differences of the first-order gradient, which tests/test_reverse.py checks
against finite differences of the program itself.  So generated gradient code
- tapes, branch and loop replay, in-place writes, list and dict adjoints,
calls and recursion - is shown to be differentiable source.
"""
import warnings

import numpy as np
import pytest

import diffc
from corpus import PROGRAMS
from gradcheck import assert_close, fd_jacobian


def _first_differentiable(args, wrt):
    for k in (wrt if isinstance(wrt, tuple) else (wrt,)):
        if isinstance(args[k], (float, np.ndarray)):
            return k
    return None


CASES = [(name, fn, args, _first_differentiable(args, wrt)) for name, fn, args, wrt in PROGRAMS
         if _first_differentiable(args, wrt) is not None]
MODES = ["forward_over_reverse", "reverse_over_reverse", "reverse_over_forward"]


def _fd_jacobian_of(g, args, k, eps=1e-6):
    """Central differences of g (float- or array-valued) in argument k: g.shape + x.shape."""
    def in_k(v):
        return g(*args[:k], v, *args[k + 1:])
    return fd_jacobian(in_k, args[k], eps)


def _second_derivative(mode, fn, args, k):
    x = args[k]
    if mode == "forward_over_reverse":
        return diffc.hessian(fn, wrt=k)(*args)
    if mode == "reverse_over_reverse":
        g = diffc.grad(fn, wrt=k)
        return diffc.jacobian(g, wrt=k)(*args) if np.ndim(x) else diffc.grad(g, wrt=k)(*args)
    if np.ndim(x):
        pytest.skip("reverse over forward differentiates the forward Jacobian of a scalar argument")
    return diffc.grad(diffc.jacobian(fn, wrt=k, mode="forward"), wrt=k)(*args)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name,fn,args,k", CASES, ids=[c[0] for c in CASES])
def test_second_derivative_of_corpus_program(name, fn, args, k, mode):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _fd_jacobian_of(diffc.grad(fn, wrt=k), args, k)
        actual = _second_derivative(mode, fn, args, k)
    assert_close(actual, expected, rtol=1e-4, atol=1e-5, what=f"{name} {mode}")


def test_generated_code_for_higher_order_has_no_mutating_helpers():
    """Differentiable gradient code: callees are joint and buffers are rebound, not written."""
    from corpus import callee_writes
    from diffc import compile_cache
    args = next(a for n, _, a, _ in PROGRAMS if n == "callee_writes")
    source = compile_cache.joint_entry(callee_writes, ("m",), compile_cache.kinds_of(list(args)), False,
                                       differentiable=True).emitted.source
    for helper in ("take_item(", "zero_item(", "acc_item(", "pop_bar(", "_fwd_", "_adj_"):
        assert helper not in source, helper
    assert "_grad__write_row(" in source


# ----------------------------------------------------------------- third order

SCALAR_CASES = [(name, fn, args, k) for name, fn, args, k in CASES if isinstance(args[k], float)]
# Loops, branches, calls, recursion, in-place and list writes: the default run.
QUICK = {"newton_sqrt", "while_true_break", "branches", "calls", "recursion", "callee_with_loops",
         "heat_inplace", "dict_values", "nested_loops_overwrite", "loop_calls"}
THIRD_ORDER = ["reverse_reverse_reverse", "forward_reverse_reverse", "reverse_forward_reverse"]


# By default each QUICK program runs in one of the three orders, each order on three or
# four of them (recursion, calls, loops and branches in each); the other orders, and the
# other programs, with -m slow.
QUICK_ORDER = {"branches": "reverse_reverse_reverse", "while_true_break": "reverse_reverse_reverse",
               "calls": "reverse_reverse_reverse", "heat_inplace": "reverse_reverse_reverse",
               "recursion": "forward_reverse_reverse", "newton_sqrt": "forward_reverse_reverse",
               "dict_values": "forward_reverse_reverse", "loop_calls": "reverse_forward_reverse",
               "nested_loops_overwrite": "reverse_forward_reverse", "callee_with_loops": "reverse_forward_reverse"}
assert set(QUICK_ORDER) == QUICK


def _third_order_params():
    for name, fn, args, k in SCALAR_CASES:
        for mode in THIRD_ORDER:
            marks = () if QUICK_ORDER.get(name) == mode else (pytest.mark.slow,)
            yield pytest.param(name, fn, args, k, mode, marks=marks, id=f"{name}-{mode}")


@pytest.mark.parametrize("name,fn,args,k,mode", list(_third_order_params()))
def test_third_derivative_of_corpus_program(name, fn, args, k, mode):
    """d3f/dx3 against central differences of the second derivative (itself checked above):
    reverse^3, forward over reverse^2, reverse over forward over reverse."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        second = diffc.grad(diffc.grad(fn, wrt=k), wrt=k)
        expected = _fd_jacobian_of(second, args, k, eps=1e-5)
        if mode == "reverse_reverse_reverse":
            actual = diffc.grad(second, wrt=k)(*args)
        elif mode == "forward_reverse_reverse":
            actual = diffc.hessian(diffc.grad(fn, wrt=k), wrt=k)(*args)
        else:
            actual = diffc.grad(diffc.jacobian(diffc.grad(fn, wrt=k), wrt=k, mode="forward"), wrt=k)(*args)
    assert_close(actual, expected, rtol=1e-4, atol=1e-4, what=f"{name} {mode}")
