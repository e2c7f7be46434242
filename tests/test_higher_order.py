"""Higher-order derivatives: Hessians, hvp, third derivatives, mixed modes, Jacobians.

References are closed forms or central finite differences (of f, or of the
gradient for Hessians); diffc is never checked only against itself."""
import inspect
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian as _fd_jacobian


# ------------------------------------------------------------------ programs

def cubic_sin(x):
    return x ** 3 * math.sin(x)


def cubic_sin_d2(x):
    return 6 * x * math.sin(x) + 6 * x ** 2 * math.cos(x) - x ** 3 * math.sin(x)


def cubic_sin_d3(x):
    return 6 * math.sin(x) + 18 * x * math.cos(x) - 9 * x ** 2 * math.sin(x) - x ** 3 * math.cos(x)


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


_rng = np.random.default_rng(3)
_X = _rng.normal(size=(6, 3))
_Y = _rng.normal(size=6)
_W2 = _rng.normal(size=4)


def mlp_loss(w, X, y):
    W1 = w.reshape(3, 4)
    h = np.tanh(X @ W1)
    out = h @ _W2
    return np.sum((out - y) ** 2) / X.shape[0]


def while_loop(x):
    y = x
    n = 0
    while n < 5:
        y = math.sin(y) * x + y
        n += 1
    return y


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x * a


def inplace_loop(x):
    y = np.zeros(4)
    for i in range(4):
        y[i] = x[i] * x[(i + 1) % 4]
        y[i] += np.sin(x[i])
    return np.sum(y * y)


def inplace_list_loop(x):
    ys = [0.0, 0.0, 0.0]
    for i in range(3):
        ys[i] = x * (i + 1.0) + math.sin(x * i)
        ys[i] = ys[i] * ys[i]
    return ys[0] + ys[1] * ys[2]


# --------------------------------------------------------------- hessians

@pytest.mark.parametrize("x", [0.7, -1.3, 2.2])
def test_second_derivative_closed_form_all_orders(x):
    expected = cubic_sin_d2(x)
    assert_close(diffc.hessian(cubic_sin)(x), expected, rtol=1e-12, atol=1e-12, what="forward over reverse")
    assert_close(diffc.grad(diffc.grad(cubic_sin))(x), expected, rtol=1e-12, atol=1e-12,
                 what="reverse over reverse")
    assert_close(diffc.jacobian(diffc.grad(cubic_sin), mode="forward")(x), expected, rtol=1e-12,
                 atol=1e-12, what="forward over reverse (jacobian)")
    assert_close(diffc.grad(diffc.jacobian(cubic_sin, mode="forward"))(x), expected, rtol=1e-12,
                 atol=1e-12, what="reverse over forward")
    assert_close(diffc.jacobian(diffc.jacobian(cubic_sin, mode="forward"), mode="forward")(x), expected,
                 rtol=1e-12, atol=1e-12, what="forward over forward")


@pytest.mark.parametrize("x", [0.7, -1.3])
def test_third_derivative_closed_form(x):
    expected = cubic_sin_d3(x)
    assert_close(diffc.grad(diffc.grad(diffc.grad(cubic_sin)))(x), expected, rtol=1e-10, atol=1e-10,
                 what="reverse^3")
    assert_close(diffc.hessian(diffc.grad(cubic_sin))(x), expected, rtol=1e-10, atol=1e-10,
                 what="forward over reverse over reverse")


def test_logsumexp_hessian_closed_form_and_fd():
    x = np.array([0.3, -1.2, 2.0, 0.5])
    p = np.exp(x - logsumexp(x))
    H = diffc.hessian(logsumexp)(x)
    assert H.shape == (4, 4)
    assert_close(H, np.diag(p) - np.outer(p, p), rtol=1e-10, atol=1e-12, what="closed form")
    assert_close(H, _fd_jacobian(diffc.grad(logsumexp), x), rtol=1e-5, atol=1e-7, what="fd of gradient")


def test_mlp_loss_hessian_against_fd_of_gradient():
    w = _rng.normal(size=12)
    H = diffc.hessian(mlp_loss)(w, _X, _Y)
    fd = _fd_jacobian(lambda v: diffc.grad(mlp_loss)(v, _X, _Y), w)
    assert H.shape == (12, 12)
    assert_close(H, fd, rtol=1e-5, atol=1e-7)
    assert_close(H, H.T, rtol=1e-10, atol=1e-12, what="symmetric")


def test_hvp_equals_hessian_times_v():
    w = _rng.normal(size=12)
    v = _rng.normal(size=12)
    H = diffc.hessian(mlp_loss)(w, _X, _Y)
    assert_close(diffc.hvp(mlp_loss)(w, _X, _Y, v), H @ v, rtol=1e-10, atol=1e-12)
    x = np.array([0.3, -1.2, 2.0, 0.5])
    vx = np.array([1.0, 0.0, -2.0, 0.5])
    assert_close(diffc.hvp(logsumexp)(x, vx), diffc.hessian(logsumexp)(x) @ vx, rtol=1e-10, atol=1e-12)


# ------------------------------------------------- through loops and writes

@pytest.mark.parametrize("fn,x", [(while_loop, 0.8), (newton_sqrt, 2.0)], ids=["while", "newton"])
def test_second_derivative_through_while_loop(fn, x):
    fd = _fd_jacobian(diffc.grad(fn), x)
    fd_f = (fn(x + 1e-4) - 2 * fn(x) + fn(x - 1e-4)) / 1e-8
    assert_close(fd, fd_f, rtol=1e-4, atol=1e-5, what="gradient itself consistent with f")
    assert_close(diffc.hessian(fn)(x), fd, rtol=1e-6, atol=1e-7, what="forward over reverse")
    assert_close(diffc.grad(diffc.grad(fn))(x), fd, rtol=1e-6, atol=1e-7, what="reverse over reverse")
    assert_close(diffc.grad(diffc.jacobian(fn, mode="forward"))(x), fd, rtol=1e-6, atol=1e-7,
                 what="reverse over forward")


def test_hessian_through_inplace_array_loop():
    x = np.array([0.3, -0.7, 1.1, 0.4])
    H = diffc.hessian(inplace_loop)(x)
    assert_close(H, _fd_jacobian(diffc.grad(inplace_loop), x), rtol=1e-5, atol=1e-7)
    # Second-order finite differences of f itself, for one entry (independent of grad).
    e0, e1, h = np.eye(4)[0], np.eye(4)[1], 1e-4
    fd01 = (inplace_loop(x + h * e0 + h * e1) - inplace_loop(x + h * e0 - h * e1)
            - inplace_loop(x - h * e0 + h * e1) + inplace_loop(x - h * e0 - h * e1)) / (4 * h * h)
    assert_close(H[0, 1], fd01, rtol=1e-4, atol=1e-5)


def test_hessian_through_inplace_list_loop():
    x = 0.7
    h = 1e-4
    fd2 = (inplace_list_loop(x + h) - 2 * inplace_list_loop(x) + inplace_list_loop(x - h)) / (h * h)
    assert_close(diffc.hessian(inplace_list_loop)(x), fd2, rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------- jacobians


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_both_modes_against_fd(mode):
    def f(x, a):
        return np.tanh(x * a) + x[::-1] * x
    x = np.array([0.2, -0.4, 1.3])
    J = diffc.jacobian(f, mode=mode)(x, 1.7)
    assert J.shape == (3, 3)
    assert_close(J, _fd_jacobian(lambda v: f(v, 1.7), x), rtol=1e-6, atol=1e-8)
    Ja = diffc.jacobian(f, wrt=1, mode=mode)(x, 1.7)
    assert Ja.shape == (3,)
    assert_close(Ja, _fd_jacobian(lambda a: f(x, a), 1.7), rtol=1e-6, atol=1e-8)


def test_jacobian_matrix_argument_shape():
    def f(W, v):
        return W @ v
    W = _rng.normal(size=(2, 3))
    v = _rng.normal(size=3)
    for mode in ("reverse", "forward"):
        J = diffc.jacobian(f, mode=mode)(W, v)
        assert J.shape == (2, 2, 3)
        assert_close(J, _fd_jacobian(lambda M: f(M, v), W), rtol=1e-6, atol=1e-8, what=mode)


def test_differentiate_decorator_jacobian_and_hessian():
    @diffc.differentiate
    def f(x):
        return logsumexp(x)
    x = np.array([0.1, 0.2, -0.3])
    p = np.exp(x - logsumexp(x))
    assert_close(f.jacobian(x), p, rtol=1e-12, atol=1e-12)
    assert_close(f.hessian(x), np.diag(p) - np.outer(p, p), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------- generated source

def test_generated_gradient_is_inspectable_source():
    g = diffc.grad(cubic_sin)
    g(0.5)
    entry = diffc.compile_cache.joint_entry(cubic_sin, ("x",), (diffc.analysis.kinds.SCALAR,), False)
    text = inspect.getsource(entry.main)
    assert text.startswith("def grad_cubic_sin(")
    assert "math.cos" in text or "cos(" in text


def exp_plus_cubic_sin(x):
    return math.exp(2.0 * x) + x ** 3 * math.sin(x)


def test_derivatives_of_a_hessian_closed_form():
    """hessian(f) of a scalar argument is differentiable again: third and fourth derivatives."""
    x = 0.7
    d3 = 8 * math.exp(2 * x) + cubic_sin_d3(x)
    d4 = 16 * math.exp(2 * x) + 24 * math.cos(x) - 36 * x * math.sin(x) - 12 * x ** 2 * math.cos(x) \
        + x ** 3 * math.sin(x)
    h = diffc.hessian(exp_plus_cubic_sin)
    assert_close(diffc.grad(h)(x), d3, rtol=1e-12, atol=1e-12, what="reverse over hessian")
    assert_close(diffc.jacobian(h, mode="forward")(x), d3, rtol=1e-12, atol=1e-12, what="forward over hessian")
    assert_close(diffc.hessian(h)(x), d4, rtol=1e-12, atol=1e-12, what="hessian of hessian")
