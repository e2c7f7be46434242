"""The public API contract of DESIGN.md §1 (reverse mode)."""
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad


def poly(x, y, z=2.0):
    return x * x * y + z * math.sin(x)


def test_wrt_int_name_tuple_and_keywords():
    gx = diffc.grad(poly)(1.0, 2.0)
    assert_close(gx, 2 * 1.0 * 2.0 + 2.0 * math.cos(1.0))
    gy = diffc.grad(poly, wrt="y")(1.0, 2.0)
    assert_close(gy, 1.0)
    gxz = diffc.grad(poly, wrt=(0, "z"))(1.0, y=2.0, z=3.0)
    assert isinstance(gxz, tuple) and len(gxz) == 2
    assert_close(gxz[0], 4.0 + 3.0 * math.cos(1.0))
    assert_close(gxz[1], math.sin(1.0))
    single = diffc.grad(poly, wrt=(1,))(1.0, 2.0)
    assert isinstance(single, tuple) and len(single) == 1


def test_value_and_grad_and_vjp():
    value, g = diffc.value_and_grad(poly, wrt=1)(1.5, 2.0)
    assert_close(value, poly(1.5, 2.0))
    assert_close(g, 1.5 ** 2)
    out, pullback = diffc.vjp(poly, 1.5, 2.0, 3.0)
    assert_close(out, poly(1.5, 2.0, 3.0))
    bars = pullback(2.0)
    assert len(bars) == 3
    assert_close(bars[0], 2.0 * numeric_grad(poly, (1.5, 2.0, 3.0), 0))
    assert_close(bars[2], 2.0 * math.sin(1.5))
    again = pullback(1.0)
    assert_close(again[1], 1.5 ** 2)


def vector_fn(x, n):
    return np.sin(x) * n


def test_vjp_of_array_function_and_int_argument():
    x = np.array([0.1, 0.2, 0.3])
    out, pullback = diffc.vjp(vector_fn, x, 3)
    ct = np.array([1.0, -1.0, 2.0])
    bx, bn = pullback(ct)
    assert bn is None
    assert_close(bx, ct * np.cos(x) * 3)


def test_grad_of_lambda_and_closure():
    g = diffc.grad(lambda x: x ** 3 + 2.0 * x)
    assert_close(g(2.0), 14.0)
    scale = 5.0
    h = diffc.grad(lambda x: scale * x * x)
    assert_close(h(1.0), 10.0)


def test_differentiate_decorator():
    @diffc.differentiate
    def loss(w, b):
        return (w * 2.0 + b - 1.0) ** 2

    assert loss(1.0, 0.0) == 1.0
    assert_close(loss.grad(1.0, 0.0), 4.0)
    value, g = loss.value_and_grad(1.0, 0.0)
    assert_close(value, 1.0)
    assert "def grad_loss" in loss.source()

    @diffc.differentiate(wrt=("w", "b"))
    def loss2(w, b):
        return w * b

    assert_close(loss2.grad(2.0, 3.0), (3.0, 2.0))


def test_source_is_the_design_example():
    def sum_loop(x):
        total = 0.0
        for i in range(5):
            total += x * i
        return total

    text = diffc.source(sum_loop)
    assert "def grad_sum_loop(x, total_bar=1.0):" in text
    assert "for i in reversed(range(5)):" in text
    assert "x_bar += total_bar * i" in text
    assert "_tape" not in text            # nothing recorded for a range loop
    assert diffc.grad(sum_loop)(3.0) == 10.0


def test_check_grad():
    assert diffc.check_grad(poly, 0.7, 1.2) < 1e-6


def test_float_gradient_types():
    g = diffc.grad(lambda x: x * x)(np.float32(2.0))
    assert_close(g, 4.0)
    a = np.ones(3, dtype=np.float32)
    ga = diffc.grad(lambda v: np.sum(v * v))(a)
    assert ga.dtype == np.float32 and ga.shape == (3,)


def test_int_argument_is_differentiated_as_float():
    assert_close(diffc.grad(lambda x: x * x)(3), 6.0)


def test_arguments_are_never_modified():
    def f(y):
        y[0] = y[1] * 2.0
        return np.sum(y * y)

    y = np.array([1.0, 2.0, 3.0])
    before = y.copy()
    g = diffc.grad(f)(y)
    assert_close(y, before, rtol=0, atol=0)
    assert_close(g, numeric_grad(f, (y,), 0))


def test_non_scalar_output_is_an_error():
    with pytest.raises(diffc.NonScalarOutput):
        diffc.grad(lambda x: x * np.ones(3))(1.0)


def test_bad_wrt():
    with pytest.raises(diffc.BadArgument):
        diffc.grad(poly, wrt="nope")
    with pytest.raises(diffc.BadArgument):
        diffc.grad(poly, wrt=7)


def tuple_out(x, y):
    return x * y, np.sin(x) + y ** 2


def test_vjp_of_tuple_output_and_cotangent_unchanged():
    out, pullback = diffc.vjp(tuple_out, 0.5, 2.0)
    assert_close(out[0], 1.0)
    bx, by = pullback((1.0, 3.0))
    assert_close(bx, 2.0 + 3.0 * np.cos(0.5))
    assert_close(by, 0.5 + 3.0 * 4.0)
    x = np.array([0.3, 0.6])
    ct = np.array([1.0, 2.0])
    out, pullback = diffc.vjp(lambda v: v * v * 3.0, x)
    (bx,) = pullback(ct)
    assert_close(bx, 6.0 * x * ct)
    assert_close(ct, [1.0, 2.0], rtol=0, atol=0)
