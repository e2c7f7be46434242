"""Random scalar loops over float64 vectors, the programs optimize/read_float_items.py rewrites.

The general fuzzer's loops are short and mix in divisions and calls, so they
rarely take the float copies; these programs are built from what the pass
accepts (+ - *, divisions, comparisons in tests, math,
min/max/abs, nested loops, shifted indices) with loops of 16 iterations or more.  Each is checked
against the function itself (the value bit for bit: float and NumPy float64
arithmetic give the same results) and against finite differences in both
modes.
"""
import linecache
import math
import random
import textwrap

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad

N = 18          # loop length: at least runtime.FLOAT_ITEMS_MIN_TRIPS


def _index(r):
    return r.choice(["i", "i", f"{N} - 1 - i", "i // 2", "(i + 3) % N", "0"])


def _statement(r, depth):
    a = r.choice(["a", "b"])
    k = _index(r)
    c = round(r.uniform(0.2, 0.9), 2)
    choices = [
        f"s = s * x + {a}[{k}]",
        f"t = t - {c} * {a}[{k}] * s",
        f"s = s + math.sin({a}[{k}] * t)",
        f"s = max(s, {a}[{k}]) * {c} + t",
        f"s = abs(s - {a}[{k}]) * {c}",
        f"t = t * {c} + ({a}[{k}] - s) / 4.0",
        f"s = s * {c} + t / (1.5 + {a}[{k}] * x)",
        f"u = {a}[{k}] + 1.2\nt = t * {c} + x / u - s / (u * u)",
        f"u = {a}[{k}] * x\ns = s * {c} + u * u",
        f"if {a}[{k}] > {c - 0.5}:\n    s = s * {c} + b[i]\nelse:\n    t = t + x * {a}[{k}]",
    ]
    if depth == 0:
        choices.append(f"for j in range(N):\n    t = t * {c} + a[j] * b[{k}] * x")
    return r.choice(choices)


def _program(seed):
    r = random.Random(seed)
    body = "\n".join(_statement(r, 0) for _ in range(r.randint(1, 3)))
    source = (f"def f(x, a, b):\n    s = x\n    t = 0.5\n    for i in range(N):\n"
              f"{textwrap.indent(body, '        ')}\n    return s + t * 0.5\n")
    filename = f"<float_items random {seed}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)   # for the source
    space = {"math": math, "N": N, "np": np}
    exec(compile(source, filename, "exec"), space)
    return space["f"], source


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return 0.8, rng.uniform(-1.0, 1.0, N), rng.uniform(-1.0, 1.0, N)


@pytest.mark.parametrize("seed", range(40))
def test_random_loop(seed):
    f, source = _program(seed)
    args = _inputs(seed)
    value, grads = diffc.value_and_grad(f, wrt=(0, 1, 2))(*args)
    assert value == f(*args), source                     # the same bits
    for k, g in enumerate(grads):
        assert_close(g, numeric_grad(f, args, k), rtol=1e-5, atol=1e-7, what=f"d/darg{k}\n{source}")
    tangents = (1.0, np.linspace(-1.0, 1.0, N), np.linspace(0.5, 1.5, N))
    value, dot = diffc.jvp(f, args, tangents)
    assert value == f(*args), source
    expected = sum(float(np.sum(numeric_grad(f, args, k) * tangents[k])) for k in range(3))
    assert_close(dot, expected, rtol=1e-5, atol=1e-7, what=f"jvp\n{source}")


def test_most_random_loops_take_the_copies():
    rewritten = sum("float_items(" in diffc.source(_program(seed)[0], wrt=(0, 1, 2), args=_inputs(seed))
                    for seed in range(40))
    assert rewritten >= 30
