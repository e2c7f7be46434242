"""Small programs whose intermediate forms are pinned by tests/test_golden.py."""
import math


def chained(x, y):
    if 0.0 < x < y and not y > 3.0:
        return x * y
    return -x


def loops(xs, w):
    total = 0.0
    for i, v in enumerate(xs):
        if v > 1.0:
            continue
        total += v * w * i
    return total


def sum_loop(x):
    total = 0.0
    for i in range(5):
        total += x * i
    return total


def newton(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


def straight(x, y):
    z = math.sin(x) * y
    return z * z + x


def oscillator(k, c, n=20):
    x, v = 1.0, 0.0
    dt = 0.05
    for i in range(n):
        a = -k * x - c * v
        xh = x + 0.5 * dt * v
        vh = v + 0.5 * dt * a
        x = x + dt * vh
        v = v + dt * (-k * xh - c * vh)
    return x * x + v * v


import numpy as np  # noqa: E402  (below the older programs: their pinned line numbers stay)


def heat(u0, alpha, n=3):
    u = u0.copy()
    for step in range(n):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def softmax_rows(W, X, Y):
    logits = X @ W
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * (z - lse)) / X.shape[0]


def dense_tanh(W, b, x):
    h = np.tanh(np.dot(x, W) + b)
    return np.sum(h * h)


def squares_in_list(xs, w):
    hs = []
    for k in range(xs.shape[0]):
        hs.append(np.tanh(xs[k] * w))
    total = 0.0
    for h in hs:
        total = total + np.sum(h * h)
    return total


def tanh_chain(W, h0, n=3):
    h = h0
    for k in range(n):
        h = np.tanh(np.dot(h, W))
    return np.sum(h)


def class_means(x, labels):
    counts = np.zeros(3)
    totals = np.zeros(3)
    np.add.at(counts, labels, 1.0)          # no derivative flows: ufunc.at in place
    np.add.at(totals, labels, x)            # differentiated: scatter_added and its adjoint
    return np.sum((totals / (counts + 1.0)) ** 2)
