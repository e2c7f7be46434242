"""Checkpointed loops: same gradients as plain taping, bounded memory.

Programs are compared with checkpointing off and on (several budgets) and
against central finite differences; the schedule is checked on its own by
simulation; a tracemalloc test checks the memory claim of issue 8.
"""

import math
import tracemalloc

import numpy as np
import pytest

import diffc
from diffc import checkpoint_runtime as CR
from gradcheck import numeric_grad


# ------------------------------------------------------------------ programs

def helper(s, w):
    return np.tanh(s * w) + 0.5 * s


def sim_range(x, w, n):
    s = x
    acc = 0.0
    for t in range(n):
        s = helper(s, w) * 0.9
        acc = acc + np.sum(s) * t
    return acc + np.sum(s * s)


def scalar_range(x, n):
    s = x
    for t in range(2, n, 3):
        s = math.sin(s) * 1.1 + 0.01 * t
    return s * s


def inplace(x, n):
    y = np.zeros(3)
    y[0] = x
    for t in range(n):
        y[1] = y[0] * 2.0
        y[0] = np.sin(y[1]) + y[2]
        y[2] = y[2] + 0.1 * y[1]
    return y[0] + y[2]


def lists(x, n):
    out = []
    s = x
    for t in range(n):
        s = np.cos(s) * 1.1
        out.append(s)
    total = 0.0
    for v in out:
        total = total + v * v
    return total


def nested(x, n):
    s = x
    for t in range(n):
        for j in range(3):
            s = np.sin(s) + 0.1 * j * s
        if t % 2 == 0:
            s = s * 1.01
        else:
            tmp = s * 0.5
            s = s - tmp * 0.1
    return np.sum(s)


def breaking(x, n):
    s = x
    for t in range(n):
        s = s * 1.2 + 0.1
        if s > 10.0:
            break
    return s * s


def over_rows(x, data):
    s = x
    for row in data:
        s = np.tanh(s * row + 0.1)
    return np.sum(s)


def sim_while(x):
    s = x
    k = 0
    while s < 50.0:
        s = s * 1.3 + math.sin(s)
        k += 1
    return s * k


def array_while(x, limit):
    s = x
    steps = 0
    while np.max(s) < limit:
        s = s * 1.05 + 0.01 * np.sin(s)
        steps = steps + 1
    return np.sum(s * s) + steps


X = np.linspace(0.1, 1.0, 4)
CASES = [
    (sim_range, (X, 0.7, 17), (0, 1)),
    (sim_range, (X, 0.7, 1), (0, 1)),
    (sim_range, (X, 0.7, 0), (0, 1)),
    (scalar_range, (0.4, 40), 0),
    (inplace, (0.3, 7), 0),
    (lists, (0.3, 9), 0),
    (nested, (X, 11), 0),
    (breaking, (0.3, 50), 0),
    (over_rows, (X, np.random.default_rng(0).random((13, 4))), 0),
    (sim_while, (1.0,), 0),
    (array_while, (X + 1.0, 30.0), 0),
]
BUDGETS = [1, 2, 3, 5, True]


def _as_tuple(g):
    return g if isinstance(g, tuple) else (g,)


@pytest.mark.parametrize("fn,args,wrt", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_checkpointed_equals_plain(fn, args, wrt):
    plain = _as_tuple(diffc.grad(fn, wrt=wrt)(*args))
    for budget in BUDGETS:
        got = _as_tuple(diffc.grad(fn, wrt=wrt, checkpoint=budget)(*args))
        for a, b in zip(got, plain):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, err_msg=f"checkpoint={budget}")


@pytest.mark.parametrize("fn,args,wrt", CASES, ids=lambda c: getattr(c, "__name__", ""))
def test_checkpointed_matches_finite_differences(fn, args, wrt):
    got = _as_tuple(diffc.grad(fn, wrt=wrt, checkpoint=2)(*args))
    for g, k in zip(got, wrt if isinstance(wrt, tuple) else (wrt,)):
        np.testing.assert_allclose(g, numeric_grad(fn, args, k), rtol=1e-5, atol=1e-6)


def test_checkpointing_changes_the_code():
    plain = diffc.grad(sim_range).diffc_source(X, 0.7, 5)
    ck = diffc.grad(sim_range, checkpoint=3).diffc_source(X, 0.7, 5)
    assert "RangeCheckpoints" in ck and "RangeCheckpoints" not in plain


# ------------------------------------------------------------- the marker

def marked(x, n):
    s = x
    for t in diffc.checkpointed(range(n), snapshots=3):
        s = np.sin(s) * 0.9 + 0.1 * s
    return np.sum(s * s)


def unmarked(x, n):
    s = x
    for t in range(n):
        s = np.sin(s) * 0.9 + 0.1 * s
    return np.sum(s * s)


def marked_while(x):
    s = x
    for row in diffc.checkpointed([1.0, 2.0, 3.0]):
        s = s * row
    while s < 1e4:
        s = s * s + 1.0
    return s


def test_marker_is_identity_at_run_time():
    r = range(5)
    assert diffc.checkpointed(r) is r
    assert diffc.checkpointed(r, snapshots=2) is r
    np.testing.assert_allclose(marked(X, 9), unmarked(X, 9))


def test_marker_checkpoints_that_loop():
    src = diffc.source(marked, args=(X, 9))
    assert "RangeCheckpoints(range(n), 3)" in src
    np.testing.assert_allclose(diffc.grad(marked)(X, 30), diffc.grad(unmarked)(X, 30), rtol=1e-12)
    np.testing.assert_allclose(diffc.grad(marked)(X, 30), numeric_grad(marked, (X, 30), 0), rtol=1e-6)


def test_marker_on_non_range_iterable_and_while_option():
    assert "RangeCheckpoints" in diffc.source(marked_while)
    plain = diffc.grad(marked_while)(0.5)
    assert diffc.grad(marked_while, checkpoint=2)(0.5) == pytest.approx(plain, rel=1e-12)
    assert "OnlineCheckpoints" in diffc.grad(marked_while, checkpoint=2).diffc_source(0.5)


def test_marker_budget_must_be_a_literal():
    def bad(x, k):
        s = x
        for t in diffc.checkpointed(range(3), snapshots=k):
            s = s * 2.0
        return s
    with pytest.raises(diffc.UnsupportedSyntax, match="snapshots="):
        diffc.grad(bad)(1.0, 2)


def test_bad_checkpoint_option():
    with pytest.raises(diffc.BadArgument):
        diffc.grad(unmarked, checkpoint=0)
    with pytest.raises(diffc.BadArgument):
        diffc.grad(unmarked, checkpoint="yes")


def test_value_and_grad_vjp_and_decorator():
    value, g = diffc.value_and_grad(unmarked, checkpoint=True)(X, 25)
    assert value == pytest.approx(unmarked(X, 25))
    np.testing.assert_allclose(g, diffc.grad(unmarked)(X, 25), rtol=1e-12)

    out, pullback = diffc.vjp(unmarked, X, 25, checkpoint=3)
    gx, gn = pullback(1.0)
    assert gn is None
    np.testing.assert_allclose(gx, g, rtol=1e-12)
    np.testing.assert_allclose(pullback(2.0)[0], 2 * g, rtol=1e-12)   # a second pullback

    @diffc.differentiate(checkpoint=2)
    def loss(x, n):
        return unmarked(x, n) + 0.0

    np.testing.assert_allclose(loss.grad(X, 25), g, rtol=1e-12)
    np.testing.assert_allclose(loss.vjp(X, 25)[1](1.0)[0], g, rtol=1e-12)


def test_checkpointed_loop_inside_a_plain_loop():
    def outer(x, n):
        s = x
        for i in range(3):
            for t in diffc.checkpointed(range(n), snapshots=2):
                s = np.sin(s) + 0.1 * i
        return np.sum(s)
    np.testing.assert_allclose(diffc.grad(outer)(X, 6), numeric_grad(outer, (X, 6), 0), rtol=1e-6)


# ---------------------------------------------------------------- schedule

def _simulate(ck, n):
    """Run a schedule on an integer 'state'; check the reversal order and the budget."""
    for k in range(n):
        if ck.due(k):
            ck.store(k)
    if isinstance(ck, CR.OnlineCheckpoints):
        ck.finish(n)
    state, held, advanced, reversed_steps = n, len(ck.snapshots), 0, []
    for op in ck.actions():
        if op == CR.RESTORE:
            state = ck.load()
        elif op == CR.ADVANCE:
            assert state == ck.a
            advanced += ck.b - ck.a
            state = ck.b
        elif op == CR.SNAPSHOT:
            assert state == ck.a
            ck.store(state)
        else:
            assert state == ck.a and ck.b == ck.a + 1
            reversed_steps.append(ck.a)
            state = ck.a          # the adjoint restores the state to the step's start
        held = max(held, len(ck.snapshots))
    assert reversed_steps == list(range(n - 1, -1, -1))
    assert not ck.snapshots
    return held, advanced


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 100, 1000])
@pytest.mark.parametrize("budget", [1, 2, 3, 10, None])
def test_binomial_schedule(n, budget):
    ck = CR.RangeCheckpoints(range(n), budget)
    held, advanced = _simulate(ck, n)
    assert held <= ck.budget
    if n > 1:
        # Never more recomputation than the binomial bound allows.
        t = CR._repetitions(n, ck.budget - 1)
        assert advanced <= t * n


@pytest.mark.parametrize("n", [0, 1, 5, 100, 1000])
@pytest.mark.parametrize("budget", [1, 2, 6, None])
def test_online_schedule(n, budget):
    held, advanced = _simulate(CR.OnlineCheckpoints(budget), n)
    if budget is not None:
        assert held <= max(budget, 1)


def test_binomial_capacity_recurrence():
    for f in range(1, 6):
        for t in range(1, 6):
            assert CR.capacity(f, t) == CR.capacity(f, t - 1) + CR.capacity(f - 1, t)
    assert CR.default_budget(20000) == 142


# ------------------------------------------------------------------- memory

def simulation(x, n):
    s = x
    v = x * 0.0
    for t in range(n):
        a = -np.sin(s) - 0.1 * v
        v = v + 0.01 * a
        s = s + 0.01 * v
    return np.sum(s * s)


def _peak(fn, *args):
    tracemalloc.start()
    try:
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak


@pytest.mark.parametrize("n", [3000, pytest.param(20000, marks=pytest.mark.slow)])
def test_peak_memory_of_a_long_loop(n):
    """20,000 steps (slow; 3,000 in the default suite) over a 200-element state: at most a
    quarter of the plain tape's peak (measured: 241 MB plain, 0.56 MB checkpointed)."""
    x = np.linspace(0.0, 1.0, 200)
    plain, ck = diffc.grad(simulation), diffc.grad(simulation, checkpoint=True)
    plain(x, 3), ck(x, 3)                         # compile outside the measurement
    g_plain, peak_plain = _peak(plain, x, n)
    g_ck, peak_ck = _peak(ck, x, n)
    np.testing.assert_allclose(g_ck, g_plain, rtol=1e-10, atol=1e-12)
    assert peak_ck <= peak_plain / 4, (peak_ck, peak_plain)
