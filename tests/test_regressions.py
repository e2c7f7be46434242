"""Hand-minimized programs from the random-program fuzzer (tests/fuzz/).

Each test is one bug the fuzzer found, reduced to a few lines and checked
against central finite differences.  Tests for bugs not yet fixed are marked
``xfail(strict=True)`` with the reason, so a fix shows up as an XPASS.
"""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad
from gradcheck import check_value_and_grad as check

V3 = np.array([0.1, 0.2, -0.3])


# Fuzz seed 15: the adjoint of a temporary read once by subscript, inside a loop,
# was accumulated into (acc_item) but never reset, so the second backward
# iteration added the first one's adjoint again.  Fixed in transform/reverse.py.
def temp_subscript_in_loop(x, v):
    for k in range(2):
        y = v * x
        y[0:1] = (y * y)[2:3]
    return np.sum(np.sin(y))


def test_temporary_read_by_subscript_in_loop():
    check(temp_subscript_in_loop, 0.7, V3, wrt=(0, 1))


# Fuzz seed 240: ANF folds -(0.7) into the constant -0.7, and astor printed
# `(-0.7) ** 2` as `-0.7 ** 2`, which Python reads as -(0.7 ** 2): a wrong value
# and gradient.  Fixed in emit.py (negative bases of ** are parenthesized).
def negative_constant_base(x):
    return x * (-0.7) ** 2 + (-2) ** 2 * x


def test_negative_constant_base_of_power():
    check(negative_constant_base, 1.3)
    assert "(-0.7) ** 2" in diffc.source(negative_constant_base)


# Fuzz seeds 180 and 61: two names for one array (`y1 = y0`, or a helper writing
# into its array argument) and an in-place write through one of them.  NumPy
# changes both; diffc copied before writing and silently computed a different
# value and gradient.  Now refused with a clear UnsupportedSyntax (another
# engineer's change); either that or the right answer is acceptable, never a wrong one.
def aliased_local(x, v):
    y0 = v * 1.0
    y1 = y0
    y1[0] = x
    return np.sum(y0 * y0)


def _writes_arg(u, a):
    u[0] -= 1.0
    return a * u[1]


def callee_writes_argument(x, v):
    y = v * x
    s = _writes_arg(y, x)
    return s + np.sum(y * y)


@pytest.mark.parametrize("fn", [aliased_local, callee_writes_argument])
def test_aliasing_is_right_or_refused(fn):
    try:
        check(fn, 0.7, V3, wrt=(0, 1))
    except diffc.DiffcError:
        pass


# Fuzz seed 31: reading one element of a 1-d array (a scalar, not a view) and
# then writing into the array in place was refused as if the element were a view
# ("'s' is a view of 'y'").  Fixed in transform/reverse.py by another change.
def test_scalar_element_read_then_write():
    def element_then_write(x, v):
        y = v * x
        s = y[0]
        y[0] = 2.0
        return s + np.sum(y * y)
    check(element_then_write, 0.7, V3, wrt=(0, 1))


# Fuzz seeds 557, 639, 1211, 1642: a `for` loop over an array inside a branch
# that is not taken.  The adjoint reads the loop's sequence temporary `_seq1`,
# which was never bound: UnboundLocalError at run time.
def test_for_over_array_in_untaken_branch():
    def seq_in_branch(x, v):
        s = x
        if x > 5.0:
            for e in v:
                s = s + e * x
        return s * s
    check(seq_in_branch, 0.5, np.array([0.1, 0.2]), wrt=(0, 1))


# Fuzz seed 54: a branch whose test is rebound inside the branch (from `a and b`),
# inside a loop: the copy of the test was not saved per iteration, so the adjoint
# replayed the wrong branch and the tape went out of step.
def test_rebound_branch_test_inside_loop():
    def f(x, v):
        s0 = x * 0.5
        y1 = v * x
        for i in range(3):
            if np.sum(y1) > 0.5 and s0 > 2.0:
                s0 = s0 * 1.1
            elif np.sin(s0) < 0.9 and -(y1[2]) < s0:
                s0 = s0 + 0.1
            else:
                y1[0:1] += 1.0
        return s0 * np.sum(y1 * y1)
    check(f, -0.715, np.array([-0.78, -0.905, 0.308]), wrt=(0, 1))


# Fuzz seeds 101 and 394: iterating over an array while writing into it (Python
# iterates the live array); both modes read the array itself.
def test_loop_over_array_it_writes_into():
    def f(x):
        y = np.full(4, x)
        acc = 0.0
        for i, e in enumerate(y):
            y[(i + 1) % 4] += np.sin(e) ** 2
            acc = acc + e * x
        return acc + np.sum(y * y)
    check(f, 0.7)
    out, tangent = diffc.jvp(f, (0.7,), (1.0,))
    assert_close(out, f(0.7), rtol=1e-12, atol=1e-12, what="jvp value")
    assert_close(tangent, numeric_grad(f, (0.7,), 0), rtol=1e-6, atol=1e-8, what="jvp")


# Fuzz seed 879: the loop rebinds the array it iterates over, then writes into the
# new one; Python keeps iterating the old object.  Refused, never silently wrong.
def test_loop_rebinding_its_sequence_is_refused_or_right():
    def f(x):
        y = np.full(3, x)
        total = 0.0
        for e in y:
            y = np.cos(y) * 0.5
            y[0] -= e * x
            total = total + e
        return total + np.sum(y)
    try:
        check(f, 0.4)
    except diffc.DiffcError as exc:
        assert "writing into it" in str(exc) or "view" in str(exc)


# Found while reviewing: `+` on lists concatenates; its adjoint gave the whole
# adjoint to both operands (a silently wrong gradient) before it was split.
def test_list_concatenation_splits_the_adjoint():
    def f(x):
        a = [x, 2.0 * x]
        c = [1.0, 3.0] + a
        return c[0] * c[2] + c[3] * c[1]
    check(f, 1.5)


# Found while reviewing: a matrix product whose result is only used in a branch that
# is not taken gets the zero adjoint 0.0, and matmul refuses a scalar operand.
@pytest.mark.parametrize("c", [1.0, -1.0])
def test_matrix_product_with_zero_adjoint(c):
    def f(W, x, c):
        h = np.dot(x, W)
        g = x @ W
        e = np.einsum("...j,jk->...k", x, W)
        out = 0.0
        if c > 0:
            out = h.sum() + (g * g).sum() + e.sum()
        return out + np.sum(W * W)
    W = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.7]])
    x = np.array([[1.0, 0.5, -0.3], [0.2, -0.1, 0.4]])
    check(f, W, x, c)
    check(f, W, x[0], c)


_S = np.array([[2.0, 0.3, 0.1], [0.3, 1.5, 0.2], [0.1, 0.2, 1.0]])
_UNUSED = [
    lambda a: np.linalg.inv(a).sum(),
    lambda a: np.linalg.solve(a, np.ones(3)).sum(),
    lambda a: np.linalg.slogdet(a)[1],
    lambda a: np.linalg.eigh(a)[0].sum(),
    lambda a: np.linalg.cholesky(a).sum(),
    lambda a: a.reshape(9)[4],
    lambda a: np.concatenate([a, a]).sum(),
    lambda a: np.split(a, 3)[1].sum(),
    lambda a: np.sort(a, axis=1)[:, 0].sum(),
    lambda a: np.take(a, [0, 2], axis=1).sum(),
    lambda a: np.diff(a, axis=0).sum(),
    lambda a: np.array([a[0, 0], a[1, 1]]).sum(),
]


# Found while reviewing: a value computed by a shape-sensitive function but used only
# in a branch that is not taken has the adjoint 0.0; its rule must not run on it.
@pytest.mark.parametrize("k", range(len(_UNUSED)))
def test_shape_sensitive_rules_skip_the_zero_adjoint(k):
    inner = _UNUSED[k]

    def f(a, c):
        r = inner(a)
        out = np.sum(a * a)
        if c > 0:
            out = out + r
        return out
    check(f, _S, -1.0)
    check(f, _S, 1.0)


# Found while reviewing (unifying the `@` and np.matmul adjoints): the `@` adjoint
# of a 1-d vector times a batch of matrices had the wrong shape.
def test_vector_times_batched_matrices():
    B = np.arange(30.0).reshape(5, 3, 2) / 10.0

    def f(v, B):
        return np.sum(np.sin(v @ B)) + np.sum(np.matmul(v, B) ** 2)
    check(f, np.array([0.3, -0.2, 0.5]), B, wrt=(0, 1))


# Found while differentiating gradient code again: a popped value that carries no
# derivative (unused, or a bare `lst.pop()`) left the list and its adjoint one
# entry short in the adjoint sweep (IndexError, or adjoints shifted by one).
def _pop_unused(x):
    lst = [x, x * x, 3.0 * x]
    v = lst.pop()
    w = lst.pop()
    lst.append(x * 5.0)
    return lst[0] * lst[1] + lst[-1] * x


def _pop_bare_in_loop(x):
    lst = [x, 2.0 * x]
    total = 0.0
    for i in range(3):
        lst.append(x * (i + 1.0))
        lst.append(x * x)
        lst.pop()
        total = total + lst[-1] * lst[0]
    return total


@pytest.mark.parametrize("fn", [_pop_unused, _pop_bare_in_loop])
def test_discarded_pop_puts_the_entry_back(fn):
    check(fn, 0.7)
    x, h = 0.7, 1e-4
    second = (fn(x + h) - 2 * fn(x) + fn(x - h)) / (h * h)
    assert_close(diffc.hessian(fn)(x), second, rtol=1e-5, atol=1e-6)
    assert_close(diffc.grad(diffc.grad(fn))(x), second, rtol=1e-5, atol=1e-6)


def test_list_adjoints_add_elementwise_not_concatenate():
    """Third order: a tuple's adjoint (a list of adjoints) plus another one is a sum."""
    def f(x):
        t = (x * x * x, x + x * x)
        p, q = t
        return p * q                        # x**4 + x**5
    x = 0.7
    third = 24 * x + 60 * x ** 2
    g = diffc.grad(f)
    assert_close(diffc.grad(diffc.grad(g))(x), third, rtol=1e-10, atol=1e-12)
    assert_close(diffc.hessian(g)(x), third, rtol=1e-10, atol=1e-12)


# A module global or closure variable bound to None (np.clip's open bound) was
# taken for a builtin by the linker and left unbound: NameError when the gradient ran.
CLIP_LOW = None


def _clip_with_global_none(x):
    return np.sum(np.clip(x, CLIP_LOW, 0.3) * x)


def _closure_with_none(hi):
    def f(x):
        return np.sum(np.clip(x, -0.2, hi) * x)
    return f


@pytest.mark.parametrize("fn", [_clip_with_global_none, _closure_with_none(None)])
def test_names_bound_to_none_reach_generated_code(fn):
    check(fn, V3)


# A lambda on a continuation line (the second entry of a tuple spanning lines) has
# source lines that are no expression, ``("twice", lambda f: ...))):``: it was refused
# with "cannot parse the source of <lambda>.<locals>.<lambda>".
def _sum_of_sin_squares(y):
    return np.sum(np.sin(y) ** 2)


def test_lambda_on_a_continuation_line():
    y = np.array([0.3, -1.2, 2.0])
    results = {}
    for name, make in (("plain", lambda f: diffc.grad(f)),
                       ("twice", lambda f: diffc.grad(lambda v, scale=2.0: f(v) * scale))):
        results[name] = make(_sum_of_sin_squares)(y)
    assert_close(results["plain"], np.sin(2 * y), rtol=1e-12, atol=1e-14)
    assert_close(results["twice"], 2.0 * np.sin(2 * y), rtol=1e-12, atol=1e-14)
    assert_close(results["twice"], numeric_grad(lambda v: 2.0 * _sum_of_sin_squares(v), [y], 0),
                 rtol=1e-6, atol=1e-8)
