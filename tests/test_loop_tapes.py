"""optimize/use_loop_tapes.py: a top-level loop records one tape entry per iteration.

Each program is checked against central finite differences (and its value
against the function), in the cases where the pass applies and where it must
stand back; a few source checks make sure the cases it targets really take
its form.
"""
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close
from gradcheck import check_value_and_grad as check


def cbrt(a, x0):
    x = x0
    while abs(x * x * x - a) > 1e-12 * a:
        x = x - (x * x * x - a) / (3.0 * x * x)
    return x


def long_loop(x, n):
    s = x
    for i in range(n):
        s = s + 1e-1 * math.sin(s)
    return s


def horner(x, coeffs):
    acc = 0.0
    for i in range(len(coeffs)):
        acc = acc * x + coeffs[i]
    return acc


def index_rebound(x, n):
    s = x
    for i in range(n):
        s = s * x + i
        i = i * 2
        s = s + 0.1 * i * s
    return s


def branch_in_loop(x, n):
    s = x
    for i in range(n):
        t = s * s
        if t > 1.0:
            s = s - 0.3 * t
        else:
            s = s + 0.2 * t
        s = math.sin(s) + x
    return s


def nested_loops(x, n):
    s = x
    for i in range(n):
        u = s
        for j in range(i + 1):
            u = u * 0.9 + math.cos(u)
        s = s + 0.1 * u * s
    return s


def inner_while(x, n):
    s = x
    for i in range(n):
        k = 0
        t = s
        while k < i:
            t = t * t * 0.5 + 0.1
            k = k + 1
        s = s + t
    return s


def break_in_loop(x, n):
    s = x
    for i in range(n):
        s = s * 1.1 + math.sin(s)
        if s > 3.0:
            break
    return s


def continue_in_loop(x, n):
    s = x
    for i in range(n):
        if i % 2 == 0:
            continue
        s = s * s * 0.5 + x
    return s


def item_writes(u0, a, n):
    u = u0.copy()
    s = 0.0
    for k in range(n):
        s = s + np.sum(u * u)
        u[1:3] = u[1:3] * a
        u[0] = u[0] * a + u[3]
    return s + np.sum(u)


def appends(x, n):
    hs = []
    h = x
    for t in range(n):
        h = np.tanh(h * 1.5 + 0.1)
        hs.append(h)
    total = 0.0
    for v in hs:
        total = total + v * v
    return total


def helper(s, x):
    y = s * x
    y = y * y + s
    return math.sin(y)


def calls_in_loop(x, n):
    s = x
    for i in range(n):
        s = s + 0.5 * helper(s, x)
    return s


def outer(x, n):
    return calls_in_loop(x * 0.5, n) + x


def loop_values_read_after(x, n):
    # t is a first definition of the body and is read after the loop (by both sweeps).
    t = 0.0
    s = x
    for i in range(n):
        t = s * s
        s = s + 0.1 * t
    return s * t + t


def grow(x):
    s = x
    while s < 10.0:
        s = s * 1.5 + math.sin(s)
    return s * s


def while_counter_read(x):
    n = 0
    s = x
    while s < 10.0:
        s = s * 1.5 + 0.1
        n = n + 1
    return s * n


def loop_var_used_after(x, n):
    s = x
    for i in range(n):
        s = s * x + i
    return s * i


def sequence_loop(xs, w):
    total = 0.0
    for v in xs:
        total = total + math.sin(v * w) * total + v
    return total


def recompute_operand_rebound(x, n):
    # t = s * 2.0 may not be recomputed from the taped s: s changes before it is saved.
    s = x
    for i in range(n):
        t = s * 2.0
        s = s + 0.1 * x
        u = t * s
        s = math.sin(u) + s * 0.5
    return s


def recompute_chain(x, k, n):
    # a = k * s, b = a * a, c = b - k: each recomputed from the entry and the invariant k
    s = x
    for i in range(n):
        a = k * s
        b = a * a
        c = b - k
        s = s - 0.1 * math.sin(c) * a
    return s


CASES = [
    (cbrt, (30.0, 30.0), (0, 1)),
    (grow, (20.0,), 0),                             # zero iterations
    (while_counter_read, (20.0,), 0),
    (grow, (0.5,), 0),
    (long_loop, (0.5, 50), 0),
    (long_loop, (0.5, 0), 0),
    (horner, (0.97, np.linspace(-1.0, 1.0, 9)), (0, 1)),
    (index_rebound, (0.7, 4), 0),
    (branch_in_loop, (0.6, 6), 0),
    (nested_loops, (0.4, 4), 0),
    (inner_while, (0.3, 4), 0),
    (break_in_loop, (0.8, 20), 0),
    (continue_in_loop, (0.4, 5), 0),
    (item_writes, (np.linspace(0.5, 1.5, 5), 0.7, 3), (0, 1)),
    (appends, (0.3, 5), 0),
    (calls_in_loop, (0.4, 5), 0),
    (outer, (0.4, 5), 0),
    (loop_values_read_after, (0.4, 5), 0),
    (loop_values_read_after, (0.4, 0), 0),
    (while_counter_read, (0.9,), 0),
    (loop_var_used_after, (0.9, 4), 0),
    (sequence_loop, ([0.1, 0.5, -0.3], 0.8), (0, 1)),
    (recompute_operand_rebound, (0.3, 4), 0),
    (recompute_chain, (0.6, 1.3, 5), (0, 1)),
]


def test_recomputed_values_leave_the_tape():
    # a = k * s is recomputed from the taped s and the invariant k; c stays taped
    # (its definition reads b, which is not on the tape)
    text = diffc.source(recompute_chain, wrt=(0, 1))
    assert "_tape1.append((c, _t2, s))" in text and "a_2 = k * s" in text, text


@pytest.mark.parametrize("fn,args,wrt", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_gradient_matches_finite_differences(fn, args, wrt):
    check(fn, *args, wrt=wrt)


@pytest.mark.parametrize("fn,args,wrt", [c for c in CASES if not isinstance(c[1][0], list)][:12],
                         ids=lambda c: getattr(c, "__name__", None))
def test_second_order_still_right(fn, args, wrt):
    # Differentiable (higher-order) code keeps the shared tape: the pass is off there.
    k = wrt if isinstance(wrt, int) else wrt[0]
    g = diffc.grad(fn, wrt=k)
    if not isinstance(args[k], float):
        pytest.skip("scalar argument only")
    h = diffc.grad(g, wrt=k)(*args)
    eps = 1e-5
    up = list(args)
    down = list(args)
    up[k] += eps
    down[k] -= eps
    assert_close(h, (g(*up) - g(*down)) / (2 * eps), rtol=1e-5, atol=1e-6, what="second derivative")


def test_newton_records_one_entry_and_no_counter():
    text = diffc.source(cbrt)
    assert "_tape.append" not in text and ".pop()" not in text and "_iterations" not in text
    assert text.count("_tape1.append(") == 1
    # x * x and 3.0 * x are recomputed from x (3.0 * x * x would be recomputed from
    # a recomputed value: taped)
    assert "for _t11, _t12, x in reversed(_tape1):" in text
    # and the residual the test computed is reused (optimize/share_test_values.py)
    assert "_t11 = 3.0 * x * x" in text and "_t12 = _tested1 / _t11" in text


def test_loop_index_rides_along_only_when_read():
    assert "for s in reversed(_tape1):" in diffc.source(long_loop)
    text = diffc.source(horner, wrt=(0, 1), args=(0.5, np.ones(3)))
    assert "_tape1.append((acc, i))" in text and "for acc, i in reversed(_tape1):" in text


def test_nested_loop_keeps_the_shared_tape():
    text = diffc.source(nested_loops)
    assert "_tape1" in text          # the outer loop
    inner = text.split("for j in range(_t1):")[1].split("\n")[1:3]
    assert any("_tape.append(" in line for line in inner)


def test_calls_split_callee_tape_untouched():
    # outer's callee runs its forward/adjoint halves through the shared tape.
    text = diffc.source(outer)
    assert "_tape" in text
    check(outer, 0.4, 5)


def restored_through_the_header_and_read_after(v, w):
    # Fuzz seed 5498: y is restored twice per iteration (the header and a local), and
    # the adjoint of the write before the loop reads y after it: the restore through
    # the local must survive dead-code elimination.
    y = v.copy()
    y[2:4] += np.sin(y)[1:3] * w
    for i in range(4):
        y[1:4] += math.cos(-0.7)
        y = np.cos(y) * -1.1
        y = y[(i + 1) % 5] - (np.sum(y) - y[::-1])
    return np.sum(y * y)


def test_restore_read_after_the_loop():
    v = np.linspace(-0.5, 0.7, 5)
    text = diffc.source(restored_through_the_header_and_read_after, wrt=(0, 1), args=(v, 0.3))
    assert "y = _saved" in text and "_tape1.append(" in text
    check(restored_through_the_header_and_read_after, v, 0.3, wrt=(0, 1))


# ---------------------------------------------------------------- optimize/assign_written_once.py

def two_reads_per_iteration(x, c):
    acc = 0.0
    for i in range(len(c)):
        acc = acc * x + c[i] * c[i]
    return acc


def repeated_index(x, c):
    acc = 0.0
    for i in range(2 * len(c)):
        acc = acc * x + c[i % len(c)]
    return acc


def shifted_range(x, c):
    acc = 0.0
    for i in range(1, len(c)):
        acc = acc * x + c[i] * c[i - 1]
    return acc


def read_before_the_loop(x, c):
    acc = c[0] * x
    for i in range(len(c)):
        acc = acc * x + c[i]
    return acc


def read_after_the_loop(x, c):
    acc = 0.0
    for i in range(len(c)):
        acc = acc * x + c[i]
    return acc * c[1]


def rows(x, m):
    acc = np.zeros(m.shape[1])
    for i in range(m.shape[0]):
        acc = acc * x + np.sin(m[i])
    return np.sum(acc)


WRITE_ONCE = [
    (horner, (0.9, np.linspace(-1.0, 1.0, 6)), (0, 1), True),
    (two_reads_per_iteration, (0.9, np.linspace(-1.0, 1.0, 6)), (0, 1), False),
    (repeated_index, (0.9, np.linspace(-1.0, 1.0, 4)), (0, 1), False),
    (shifted_range, (0.9, np.linspace(-1.0, 1.0, 6)), (0, 1), False),
    (read_before_the_loop, (0.9, np.linspace(-1.0, 1.0, 6)), (0, 1), True),   # its adjoint comes after
    (read_after_the_loop, (0.9, np.linspace(-1.0, 1.0, 6)), (0, 1), False),
    (rows, (0.8, np.linspace(-1.0, 1.0, 12).reshape(4, 3)), (0, 1), True),
]


@pytest.mark.parametrize("fn,args,wrt,assigned", WRITE_ONCE, ids=[c[0].__name__ for c in WRITE_ONCE])
def test_elements_written_once_are_assigned(fn, args, wrt, assigned):
    text = diffc.source(fn, wrt=wrt, args=args)
    bar = "coeffs_bar" if fn is horner else "m_bar" if fn is rows else "c_bar"
    assert (f"{bar}[i] = " in text) == assigned, text
    check(fn, *args, wrt=wrt)


# ---------------------------------------------------------------- optimize/hoist_test_invariants.py

def guarded_division(x, d):
    s = x
    n = 5
    while n > 0 and s / d < 40.0:
        s = s * 1.3 + 0.1
        n = n - 1
    return s


def chained_bound(x, lim):
    s = x
    while 0.0 < s < lim * 2.0:
        s = s * 1.5 + math.sin(s)
    return s


def nested_bound(x, a):
    s = x
    for i in range(3):
        while s < (i + 1) * a:
            s = s * 1.5 + 0.05
        s = s * 0.3
    return s


def array_changed_in_loop(x, v):
    w = v.copy()
    s = x
    while np.sum(w) * 2.0 < 10.0:
        w[0] = w[0] + s
        s = s * 1.1
    return s * np.sum(w * w)


HOISTING = [
    (cbrt, (30.0, 30.0), (0, 1), "1e-12 * a", True),
    (guarded_division, (1.0, 0.5), (0, 1), "s / d", False),
    (chained_bound, (0.3, 20.0), (0, 1), "lim * 2.0", False),
    (nested_bound, (0.2, 1.0), (0, 1), "(i + 1) * a", True),
    (array_changed_in_loop, (0.7, np.array([0.5, 0.2, 0.1])), (0, 1), "np.sum(w) * 2.0", False),
]


@pytest.mark.parametrize("fn,args,wrt,expr,hoisted", HOISTING, ids=[c[0].__name__ for c in HOISTING])
def test_while_test_invariants_hoisted_only_when_safe(fn, args, wrt, expr, hoisted):
    text = diffc.source(fn, wrt=wrt, args=args)
    assert (f"_invariant1 = {expr}" in text) == hoisted, text
    check(fn, *args, wrt=wrt)


# ---------------------------------------------------------------- optimize/share_test_values.py

def residual_rebound_first(a, x0):
    # the body rebinds x before it recomputes the residual: nothing may be shared
    x = x0
    while abs(x * x - a) > 1e-10:
        x = 0.5 * (x + a / x)
        r = x * x - a
        x = x - 0.1 * r / x
    return x


def residual_in_later_link(a, x0):
    # x * x - a is only behind `and`: not evaluated on every test
    x = x0
    k = 0
    while k < 8 and x * x - a > 1e-10:
        x = x - (x * x - a) / (2.0 * x)
        k = k + 1
    return x


SHARING = [
    (cbrt, (30.0, 30.0), (0, 1), True),
    (residual_rebound_first, (2.0, 3.0), (0, 1), False),
    (residual_in_later_link, (2.0, 3.0), (0, 1), False),
]


@pytest.mark.parametrize("fn,args,wrt,shared", SHARING, ids=[c[0].__name__ for c in SHARING])
def test_body_reuses_what_the_test_computed_only_when_safe(fn, args, wrt, shared):
    text = diffc.source(fn, wrt=wrt, args=args)
    assert ("_tested1 :=" in text) == shared, text
    check(fn, *args, wrt=wrt)
