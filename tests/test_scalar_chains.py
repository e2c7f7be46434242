"""optimize/propagate_copies.py, propagate_negations.py and merge_accumulations.py and the
gradient wrapper's fast path.

Gradients are checked against central finite differences; the source checks
make sure the rewrites happen where they should and not on arrays.
"""
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad
from gradcheck import check_value_and_grad as check


def sums(x, y):
    a = x * y
    b = a + x - y * 3.0 + math.sin(x)
    c = b * b - a + x
    return c + (x - y) * (a - b)


def differences(x, y):
    s = x - y
    t = y - s * x
    u = -(t * s) / (x + 2.0)
    return u - t - s


def rk2(k, x0, n):
    x = x0
    v = 0.0
    for i in range(n):
        ax = -k * x
        xm = x + 0.05 * v
        vm = v + 0.05 * ax
        x = x + 0.1 * vm
        v = v - 0.1 * k * xm
    return x * x + v * v


def copies_then_rebinding(x, y):
    a = x
    b = a * y
    a = y * 2.0
    c = a + b
    return c * a


def arrays_accumulate_in_place(w, x):
    h = np.tanh(x * w)
    g = h * w
    g = g + h
    return np.sum(g * h) + np.sum(h)


def array_and_scalar(w, s):
    t = s * 2.0
    u = w * t
    u = u - w * s
    return np.sum(u * u) + t * s


CASES = [
    (sums, (0.7, -0.4), (0, 1)),
    (differences, (0.9, 0.3), (0, 1)),
    (rk2, (1.3, 0.8, 20), (0, 1)),
    (copies_then_rebinding, (0.4, 1.7), (0, 1)),
    (arrays_accumulate_in_place, (np.linspace(-1.0, 1.0, 5), np.linspace(0.2, 0.9, 5)), (0, 1)),
    (array_and_scalar, (np.linspace(-1.0, 1.0, 4), 0.6), (0, 1)),
]


@pytest.mark.parametrize("fn,args,wrt", CASES, ids=[c[0].__name__ for c in CASES])
def test_gradient_matches_finite_differences(fn, args, wrt):
    check(fn, *args, wrt=wrt)


@pytest.mark.parametrize("fn,args,wrt", CASES[:4], ids=[c[0].__name__ for c in CASES[:4]])
def test_second_order_unaffected(fn, args, wrt):
    g = diffc.grad(fn, wrt=0)
    h = diffc.grad(g, wrt=0)(*args)
    eps = 1e-5
    up, down = list(args), list(args)
    up[0] += eps
    down[0] -= eps
    assert_close(h, (g(*up) - g(*down)) / (2 * eps), rtol=1e-5, atol=1e-6, what="second derivative")


def test_scalar_accumulations_merge_into_one_statement():
    text = diffc.source(rk2, wrt=(0, 1))
    loop = text.split("reversed(_tape1):\n")[1].split("return")[0]
    # every adjoint of the iteration is assigned once: no `+=` left for x_bar or v_bar
    assert "x_bar +=" not in loop and "v_bar +=" not in loop
    assert "v_bar = v_bar" in loop or "v_bar = " in loop


def test_copies_and_negations_vanish():
    text = diffc.source(differences, wrt=(0, 1))
    assert not any(line.strip().split(" = ")[-1].isidentifier() for line in text.splitlines()
                   if " = " in line and line.strip().startswith("_t")), text


def test_array_accumulations_stay_in_place():
    args = (np.linspace(-1.0, 1.0, 5), np.linspace(0.2, 0.9, 5))
    text = diffc.source(arrays_accumulate_in_place, wrt=(0, 1), args=args)
    assert "h_bar = h_bar +" not in text and "w_bar = w_bar +" not in text


def test_merging_keeps_the_exact_float_result():
    # (v + e1) + e2 is what the unmerged statements computed: the same bits.
    g = diffc.grad(rk2, wrt=(0, 1))
    unoptimized = diffc.grad(rk2, wrt=(0, 1), optimize=False)
    assert g(1.3, 0.8, 20) == unoptimized(1.3, 0.8, 20)


# ------------------------------------------------------------ wrapper fast path

def helper(x):
    return x * x


def calls_helper(x, y):
    return helper(x) * y


def test_fast_path_types_and_fallbacks():
    g = diffc.grad(sums, wrt=(0, 1))
    first = g(0.7, -0.4)
    assert g(0.7, -0.4) == first                      # fast path
    assert_close(g(np.float64(0.7), -0.4), first)     # other types: slow path, same answer
    assert_close(g(0.7, y=-0.4), first)               # keywords
    assert_close(g(1, 2.0), (numeric_grad(sums, (1.0, 2.0), 0), numeric_grad(sums, (1.0, 2.0), 1)))
    assert g.__name__ == "grad_sums" and g.__wrapped__ is sums
    with pytest.raises(diffc.DiffcError):
        g(0.7)


def test_fast_path_single_wrt_tuple_and_value():
    g1 = diffc.grad(sums, wrt=(0,))
    vg = diffc.value_and_grad(sums, wrt=(1,))
    for _ in range(2):
        (d,) = g1(0.7, -0.4)
        value, (e,) = vg(0.7, -0.4)
        assert_close(d, numeric_grad(sums, (0.7, -0.4), 0))
        assert_close(e, numeric_grad(sums, (0.7, -0.4), 1))
        assert value == sums(0.7, -0.4)


def test_fast_path_sees_a_redefined_helper():
    global helper
    g = diffc.grad(calls_helper)
    assert g(3.0, 2.0) == 12.0 and g(3.0, 2.0) == 12.0
    old = helper

    def helper(x):            # noqa: F811 -- redefined on purpose
        return x * x * x
    try:
        assert g(3.0, 2.0) == 54.0
    finally:
        helper = old
    assert g(3.0, 2.0) == 12.0


def negated_in_place(v, w):
    # Fuzz seed 5422: the adjoint of y = c - y is y_bar = -y_bar; a later read of
    # y_bar must not read -y_bar again.
    y = np.sin(v) + w
    y = np.tanh(w) - y
    return np.sum(np.sin(y))


def test_negation_of_itself():
    v = np.linspace(-0.5, 0.7, 4)
    assert "y_bar = -y_bar" in diffc.source(negated_in_place, wrt=(0, 1), args=(v, 0.3))
    check(negated_in_place, v, 0.3, wrt=(0, 1))


def weighted(w, x):
    return np.sum(np.tanh(x @ w) ** 2)


def test_fast_path_with_arrays_follows_kind_changes():
    # ndarray arguments take the fast path while their 1-d-ness and float-ness stay;
    # anything else (int arrays to convert, another rank) goes through the full lookup.
    rng = np.random.default_rng(0)
    g = diffc.grad(weighted, wrt=(0, 1))
    calls = [
        (rng.standard_normal(3), rng.standard_normal((2, 3))),
        (rng.standard_normal(3), rng.standard_normal((2, 3))),          # fast path
        (rng.standard_normal(3).astype(np.float32), rng.standard_normal((2, 3))),
        (np.array([1, 2, -1]), rng.standard_normal((2, 3))),            # int: converted
        (rng.standard_normal((3, 2)), rng.standard_normal((2, 3))),     # 2-d w
        (rng.standard_normal(3), rng.standard_normal(3)),               # 1-d x
    ]
    for w, x in calls:
        for _ in range(2):
            dw, dx = g(w, x)
            assert dw.shape == w.shape and dx.shape == x.shape
            wf, xf = w.astype(np.float64), x.astype(np.float64)
            assert_close(dw, numeric_grad(weighted, (wf, xf), 0), rtol=1e-5, atol=1e-6)
            assert_close(dx, numeric_grad(weighted, (wf, xf), 1), rtol=1e-5, atol=1e-6)
