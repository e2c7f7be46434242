"""A shared corpus of ordinary Python programs, each with arguments and wrt.

Every program is differentiated by both modes and checked against central
finite differences (tests/test_reverse.py, tests/test_forward.py).  Programs
are chosen away from kinks and branch switches at the given arguments.
"""
import math

import numpy as np

from corpus_helpers import imported_poly, imported_square_plus

SCALE = 3.0
PROGRAMS = []


def program(*args, wrt=0):
    def register(fn):
        PROGRAMS.append((fn.__name__, fn, args, wrt))
        return fn
    return register


# ------------------------------------------------------------------ scalars
@program(1.3, 0.7, wrt=(0, 1))
def arithmetic(x, y):
    a = x + y * 2.0 - x / y
    b = -a ** 2 + x ** y + a % 1.7 + (x // 0.5) * y
    return a * b + abs(x - 3.0)


@program(0.4, 1.1, wrt=(0, 1))
def augmented(x, y):
    s = x
    s += y
    s *= x
    s -= y / 2
    s /= (1.0 + x)
    s **= 2
    return s


@program(0.9, 2.1, wrt=(0, 1))
def tuples_and_swaps(x, y):
    a, b = x, y
    a, b = b, a * b
    pair = (a, b)
    c, d = pair
    return c * SCALE - d


@program(0.3)
def math_functions(x):
    y = math.sin(x) + math.cos(x) * math.tan(x) + math.asin(x) + math.acos(x) + math.atan(x)
    y += math.atan2(x, 2.0) + math.sinh(x) + math.cosh(x) + math.tanh(x) + math.exp(x)
    y += math.expm1(x) + math.log(x + 1.0) + math.log(x + 2.0, 3.0) + math.log1p(x) + math.log2(x + 1)
    y += math.log10(x + 1) + math.sqrt(x) + math.pow(x, 1.5) + math.hypot(x, 0.5) + math.erf(x)
    y += math.erfc(x) + math.fabs(x - 1.0)
    return y


@program(0.6)
def numpy_on_scalars(x):
    return np.sin(x) * np.exp(x) + np.tanh(x) + np.sqrt(x + 1.0) + np.log(x)


@program(1.2, 3.0, wrt=(0, 1))
def keywords_and_defaults(x, y):
    return helper_with_default(x) + helper_with_default(x, c=y) + imported_square_plus(c=y, x=x)


def helper_with_default(x, c=2.0):
    return x * c + c


# ------------------------------------------------------------------ branches
@program(0.6, 2.0, wrt=(0, 1))
def branches(x, y):
    if x > 0.3:
        z = x * y
        if y > 1.0:
            z = z * z
        elif y > 0.0:
            z = z + 1.0
        else:
            z = -z
    else:
        z = x - y
    w = x if z > 1.0 else y
    return z + w


@program(0.5, 2.0, wrt=(0, 1))
def boolean_logic(x, y):
    t = 0.0
    if x > 0.0 and y > 1.0 or x > 5.0:
        t = x * y
    if not (x > 1.0) and (y < 0.0 or x < 1.0):
        t = t + math.sin(y)
    if 0.0 < x < y < 3.0:
        t = t * x
    return t


@program(0.7)
def assigned_in_one_branch(x):
    if x > 0.5:
        u = x * 3.0
    total = x
    if x > 0.5:
        total = total + u * u
    return total


# ------------------------------------------------------------------ loops
@program(1.5)
def sum_loop(x):
    total = 0.0
    for i in range(5):
        total += x * i
    return total


@program(0.9, 7)
def range_forms(x, n):
    s = 0.0
    for i in range(2, n, 2):
        s = s + x ** i
    for j in range(n, 0, -3):
        s = s * x + j
    for k in range(int(x * 4)):
        s = s + math.sin(x * k)
    return s


@program([0.5, 1.5, -0.3], 2.0, wrt=1)
def iterate_lists(xs, w):
    total = 0.0
    for v in xs:
        total += v * w
    for i, v in enumerate(xs):
        total += i * v * w * w
    for a, b in zip(xs, reversed(xs)):
        total += a * b * w
    for v in (w, 2.0 * w):
        total = total * v
    return total


@program(2.0)
def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


@program(0.8)
def while_true_break(x):
    y = x
    n = 0
    while True:
        y = math.sin(y) + x
        n += 1
        if n >= 6:
            break
    return y


@program(0.8, 1.3, wrt=(0, 1))
def break_continue_return(x, y):
    acc = 0.0
    for i in range(10):
        if i % 3 == 1:
            continue
        acc += x * i
        for j in range(4):
            if j == 2:
                break
            acc = acc + y * j
        if acc > 40.0:
            return acc * y
    return acc


@program(0.6)
def nested_loops_overwrite(x):
    s = x
    for i in range(3):
        t = s
        for j in range(i + 1):
            t = t * x + j
            s = math.sin(t)
    return s + t


# ------------------------------------------------------------------ calls
def inner_square(x):
    return x * x


def two_outputs(x, y):
    return x * y, x + y


@program(0.5, 1.5, wrt=(0, 1))
def calls(x, y):
    a = inner_square(x) + inner_square(y)
    p, q = two_outputs(x, a)
    return p * q + imported_poly(x, y)


@program(0.7, 2.0, wrt=(0, 1))
def closures_and_lambdas(x, k):
    def scaled(v):
        return v * k + x
    square = lambda v: v * v
    total = 0.0
    for i in range(3):
        total += scaled(x * i) + square(total)
    return total


def power_rec(x, n):
    if n == 0:
        return 1.0
    return x * power_rec(x, n - 1)


def fib_like(x, n):
    if n <= 1:
        return x
    return fib_like(x, n - 1) * 0.5 + math.sin(fib_like(x, n - 2))


@program(1.1, 5)
def recursion(x, n):
    return power_rec(x, n) + fib_like(x, n)


@program(1.3)
def builtins_use(x):
    values = [x, x * x, 2.0]
    m = max(x, 1.0) + min(x, 3.0) + max(values) + min(values) + sum(values)
    return m * len(values) + float(x) + abs(-x) + round(x) + int(x)


@program(0.4, 0.9, wrt=(0, 1))
def loop_calls(x, y):
    s = 0.0
    for i in range(4):
        s = s + inner_square(s + x) * y
        if s > 1.0:
            s = s / 2.0
    return s


@program(0.9, 1.7, wrt=(0, 1))
def return_in_nested_loops(x, y):
    s = x
    k = 0
    while k < 5:
        for j in range(3):
            s = s * 0.9 + y * j
            if s > 6.0:
                return s * x
        k += 1
    return s - y


@program(1.4)
def for_else_and_search(x):
    best = 0.0
    for i in range(6):
        v = math.cos(x * i)
        if v < -0.99:
            best = v
            break
        best = best + v * x
    else:
        best = best * 2.0
    return best


def loop_helper(x, n):
    acc = x
    i = 0
    while i < n:
        acc = math.sin(acc) + x
        i += 1
    return acc, acc * x


@program(0.5, 3)
def callee_with_loops(x, n):
    total = 0.0
    for k in range(n):
        a, b = loop_helper(x + k, k + 1)
        total = total + a * b
    return total


@program(0.3, 1.2, wrt=(0, 1))
def ternaries_in_loop(x, y):
    s = 0.0
    for i in range(5):
        s += (x * i if i % 2 == 0 else y / (i + 1)) + (s if s < 1.0 else -s * 0.1)
    return s


def _settle(x, target):
    y = x
    steps = 0
    while abs(y - target) > 1e-3 and steps < 50:
        y = y + 0.3 * (target - y) * math.cos(y * 0.1)
        steps += 1
    return y * x


def _tree(x, depth):
    if depth == 0:
        return math.sin(x)
    return _tree(x * 0.9, depth - 1) + _tree(x * 0.5, depth - 1) * 0.5


@program(0.8, 1.9, 3, wrt=(0, 1))
def combinations(x, y, n):
    total = 0.0
    for k in range(n):
        if x * k < y:
            total += _settle(x + k, y)
        else:
            total -= _tree(y, k)
        total += _tree(x, 2) * k
    return total


# ------------------------------------------------------------------ arrays
_rng = np.random.default_rng(7)
_W1 = _rng.normal(size=(3, 4))
_B1 = _rng.normal(size=4)
_W2 = _rng.normal(size=(4, 2))
_X = _rng.normal(size=(5, 3))
_Y = _rng.normal(size=(5, 2))


@program(_W1, _B1, _W2, _X, _Y, wrt=(0, 1, 2))
def mlp_loss(W1, b1, W2, X, y):
    h = np.tanh(X @ W1 + b1)
    out = h @ W2
    return np.sum((out - y) ** 2) / X.shape[0]


@program(_rng.normal(size=8), 0.1, wrt=(0, 1))
def heat_inplace(u0, alpha):
    u = u0.copy()
    for t in range(10):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2 * u[1:-1] + u[:-2])
    return np.sum(u ** 2)


@program(_rng.normal(size=4))
def inplace_items(x):
    y = np.zeros(4)
    for i in range(4):
        y[i] = x[i] * x[(i + 1) % 4]
        y[i] += np.sin(x[i])
    y[1:3] *= x[0]
    return y.sum()


@program(_rng.normal(size=(3, 3)))
def inplace_2d_and_masks(a):
    b = a * 1.0
    b[0, 1] = a[1, 0] ** 2
    b[b > 0.5] = 0.25
    b[:, 2] -= a[:, 0]
    return np.sum(b * a)


@program(_rng.uniform(size=5))
def indexing_reads(x):
    idx = np.array([0, 2, 2, 1])
    m = x > 0.5
    return np.sum(x[idx] ** 2) + np.sum(x[m] * 3.0) + x[-1] * x[::2].sum() + x[None, 1:3].sum()


@program(_rng.normal(size=(3, 3)) * 0.5, _rng.normal(size=3),
         [_rng.normal(size=3) for _ in range(4)], wrt=(0, 1))
def rnn_list_of_states(W, h0, xs):
    hs = []
    h = h0
    for x in xs:
        h = np.tanh(W @ h + x)
        hs.append(h)
    return sum(hs).sum()


@program(1.3)
def dict_values(x):
    d = {"a": x * 2.0, "b": x ** 2}
    d["c"] = d["a"] + d["b"]
    total = 0.0
    for k in d:
        total = total + d[k]
    return total


@program([1.0, 2.0, 3.0], 0.5, wrt=(0, 1))
def list_methods(xs, w):
    ys = []
    for v in xs:
        ys.append(v * w)
    ys.extend([w, w * w])
    last = ys.pop()
    return sum(ys) * last + len(ys)


@program(_rng.normal(size=(4, 3)), wrt=0)
def reductions_and_shapes(a):
    m = a.mean(axis=0)
    s = a.std(axis=1, keepdims=True)
    c = (a - m) / (s + 1.0)
    r = c.reshape(3, 4).T
    return np.linalg.norm(r) + np.max(a, axis=1).sum() + np.cumsum(a, axis=0)[-1].sum() + r[1:, ::2].sum()


def _write_row(m, i, v):
    m = m.copy()
    m[i] = v * 2.0
    return m


@program(_rng.normal(size=(3, 2)), _rng.normal(size=2), wrt=(0, 1))
def callee_writes(m, v):
    for i in range(3):
        m = _write_row(m, i, v * i + m[i])
    return np.sum(m ** 2)


@program(_rng.uniform(0.5, 1.5, size=(2, 3, 4)))
def ellipsis_newaxis_and_all_augmented_writes(a):
    b = a[..., 1] * 2.0 + a[0, ..., None][..., 0].sum() + a[:, None, 1, ::-2].sum()
    c = a.copy()
    c[0, 1, 2] += b[1, 0]
    c[1, :, 0] -= b[0]
    c[0, 0, :] *= a[1, 1, :]
    c[1, 2, 1:3] /= b[1, 1:3]
    c[0, 2, 3] **= 2.0
    c[c > 1.4] = 1.4
    return np.sum(c * c) + np.sum(b)


@program(1.5, 0.4, wrt=(0, 1))
def list_and_tuple_concatenation(x, y):
    a = [x, 2.0 * x]
    c = [1.0, y] + a
    t = (5.0,) + (x * y,)
    both = c + list(t)
    return c[0] * c[2] + c[3] * c[1] + t[1] * t[0] + sum(both) + len(both)
