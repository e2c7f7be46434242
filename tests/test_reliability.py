"""Reliability: thread safety, cache correctness, numerics, deep programs.

Nothing here is a timing test in the flaky sense: the only time bound (the
10^6-element gradient) is generous enough to catch a quadratic blow-up
(which would take hours), not a slow machine.
"""
import importlib.util
import math
import sys
import threading
import time

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad


def _load(tmp_path, name, text):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------ thread safety

def threaded_loss(x, v):
    s = 0.0
    y = v * x
    for i in range(len(v)):
        if y[i] > 0.0:
            y[i] = np.sin(y[i]) * x
        s = s + y[i] ** 2
    k = 0
    while s > 0.1 and k < 20:
        s = s * 0.5 + x
        k += 1
    return s + np.sum(np.tanh(y))


def test_one_gradient_from_eight_threads():
    g = diffc.grad(threaded_loss, wrt=(0, 1))
    rng = np.random.default_rng(0)
    inputs = [(float(rng.uniform(0.2, 1.5)), rng.normal(size=6)) for _ in range(8)]
    expected = [g(*a) for a in inputs]              # sequential answers
    results = [None] * 8
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        out = []
        for _ in range(30):
            out.append(g(*inputs[k]))
        results[k] = out

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        for gx, gv in results[k]:
            assert_close(gx, expected[k][0], rtol=0, atol=0, what=f"thread {k}")
            assert_close(gv, expected[k][1], rtol=0, atol=0, what=f"thread {k}")
    x, v = inputs[3]
    assert_close(expected[3][1], numeric_grad(threaded_loss, [x, v], 1), rtol=1e-5)


def test_first_compilation_races_from_eight_threads(tmp_path):
    mod = _load(tmp_path, "race_mod", "import numpy as np\n\ndef f(x):\n    return np.sin(x) * x\n")
    out = [None] * 8
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        out[k] = diffc.grad(mod.f)(0.1 * k)
    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(8):
        x = 0.1 * k
        assert_close(out[k], math.cos(x) * x + math.sin(x))


# ---------------------------------------------------------------- caching

def test_redefined_function_recompiles(tmp_path):
    m1 = _load(tmp_path, "redef_a", "def f(x):\n    return x * x\n")
    assert_close(diffc.grad(m1.f)(3.0), 6.0)
    m2 = _load(tmp_path, "redef_b", "def f(x):\n    return x * x * x\n")
    assert_close(diffc.grad(m2.f)(3.0), 27.0)
    # redefinition in the same file: a new body under the same name
    src = "def f(x):\n    return 5.0 * x\n"
    m3 = _load(tmp_path, "redef_c", src)
    assert_close(diffc.grad(m3.f)(1.0), 5.0)
    (tmp_path / "redef_c.py").write_text("def f(x):\n    return 7.0 * x\n")
    import linecache
    linecache.checkcache(str(tmp_path / "redef_c.py"))
    spec = importlib.util.spec_from_file_location("redef_c", tmp_path / "redef_c.py")
    spec.loader.exec_module(m3)
    assert_close(diffc.grad(m3.f)(1.0), 7.0)


def test_same_source_in_two_modules_with_different_globals(tmp_path):
    a = _load(tmp_path, "glob_a", "SCALE = 2.0\n\ndef f(x):\n    return x * SCALE\n")
    b = _load(tmp_path, "glob_b", "SCALE = 5.0\n\ndef f(x):\n    return x * SCALE\n")
    assert_close(diffc.grad(a.f)(1.0), 2.0)
    assert_close(diffc.grad(b.f)(1.0), 5.0)


def _factory(c):
    def f(x):
        return c * x * x
    return f


def test_closures_of_one_factory():
    f2, f5 = _factory(2.0), _factory(5.0)
    assert_close(diffc.grad(f2)(1.0), 4.0)
    assert_close(diffc.grad(f5)(1.0), 10.0)
    assert_close(diffc.grad(f2)(1.0), 4.0)


GAIN = 3.0


def uses_global(x):
    return GAIN * x * x


def test_changed_global_is_seen():
    global GAIN
    g = diffc.grad(uses_global)
    assert_close(g(1.0), 6.0)
    try:
        GAIN = 10.0
        assert_close(g(1.0), 20.0)
    finally:
        GAIN = 3.0
    assert_close(g(1.0), 6.0)


def helper_v1(x):
    return x * x


def uses_helper(x):
    return helper_v1(x) + x


def test_rebound_helper_is_seen():
    global helper_v1
    g = diffc.grad(uses_helper)
    assert_close(g(2.0), 5.0)
    old = helper_v1
    try:
        def helper_v1(x):  # noqa: F811 - rebinding is the point
            return x * x * x
        assert_close(g(2.0), 13.0)
    finally:
        helper_v1 = old


# --------------------------------------------------------------- numerics

def smooth(v):
    return np.sum(np.sin(v) * v)


def test_nan_and_inf_propagate_like_numpy():
    v = np.array([0.5, np.nan, 1.0])
    g = diffc.grad(smooth)(v)
    assert np.isnan(g[1]) and np.all(np.isfinite(g[[0, 2]]))

    def f(x):
        return x * 2.0
    with np.errstate(all="ignore"):
        assert np.isnan(diffc.grad(lambda_like_sqrt)(np.array([-1.0, 4.0]))[0])
    assert diffc.grad(f)(float("inf")) == 2.0
    assert np.isnan(diffc.grad(lambda_like_mul)(float("nan")))


def lambda_like_sqrt(v):
    return np.sum(np.sqrt(v))


def lambda_like_mul(x):
    return x * x


def test_read_only_inputs_are_accepted():
    v = np.array([0.3, -0.2, 1.1])
    v.setflags(write=False)

    def writes(v):
        y = v.copy()
        y[0] = y[1] * 2.0
        return np.sum(y * y)

    def writes_arg(v):
        v[0] = v[1] * 2.0
        return np.sum(v * v)
    assert_close(diffc.grad(smooth)(v), numeric_grad(smooth, [v], 0), rtol=1e-6)
    assert_close(diffc.grad(writes)(v), numeric_grad(writes, [v], 0), rtol=1e-6)
    g = diffc.grad(writes_arg)(v)
    assert_close(g, numeric_grad(writes_arg, [v.copy()], 0), rtol=1e-6)
    assert not v.flags.writeable


def test_float32_stays_float32():
    v = np.array([0.3, -0.2, 1.1], dtype=np.float32)
    g = diffc.grad(smooth)(v)
    assert g.dtype == np.float32
    assert_close(g, np.sin(v.astype(float)) + v * np.cos(v.astype(float)), rtol=1e-5)
    x = np.float32(0.5)
    gx = diffc.grad(lambda_like_mul)(x)
    assert np.asarray(gx).dtype == np.float32


def test_one_element_and_zero_d_arrays():
    one = np.array([0.7])
    g = diffc.grad(smooth)(one)
    assert g.shape == (1,)
    assert_close(g, [np.sin(0.7) + 0.7 * np.cos(0.7)])
    zero_d = np.array(0.7)
    g0 = diffc.grad(smooth)(zero_d)
    assert np.shape(g0) == ()
    assert_close(g0, np.sin(0.7) + 0.7 * np.cos(0.7))

    def scalar_out(x):
        return x * x
    assert np.shape(diffc.grad(scalar_out)(np.array(3.0))) == ()


def big(v):
    y = np.tanh(v) * 2.0
    y[0] = y[1] * y[2]
    return np.sum(y * v) + np.mean(np.exp(-v * v))


def test_million_element_gradient_is_linear_time():
    rng = np.random.default_rng(1)
    small = rng.normal(size=10_000)
    large = rng.normal(size=1_000_000)
    g = diffc.grad(big)
    g(small)
    t0 = time.perf_counter()
    g(small)
    t_small = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = g(large)
    t_large = time.perf_counter() - t0
    assert out.shape == large.shape and np.all(np.isfinite(out))
    # 100x the data: linear is ~100x; quadratic would be ~10^4x.  Generous bound.
    assert t_large < max(60.0, 2000 * t_small), (t_small, t_large)
    idx = [5, 500_000]
    for i in idx:
        e = np.zeros_like(large)
        e[i] = 1e-6
        fd = (big(large + e) - big(large - e)) / 2e-6
        assert abs(out[i] - fd) < 1e-4 * (1 + abs(fd))


# ----------------------------------------------------------- deep programs

def rec_sum(x, n):
    if n == 0:
        return x
    return np.sin(rec_sum(x, n - 1)) * 0.5 + x


def test_recursion_500_deep():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 5000))
    try:
        try:
            g = diffc.grad(rec_sum)(0.3, 500)
        except diffc.DiffcError as exc:      # a clear refusal is acceptable
            assert "rec_sum" in str(exc) or "recurs" in str(exc)
            return
        assert_close(g, numeric_grad(lambda x: rec_sum(x, 500), [0.3], 0), rtol=1e-5)
    finally:
        sys.setrecursionlimit(limit)


def long_loop(x):
    s = 0.0
    for i in range(100_000):
        s = s * 0.999 + np.sin(x * i * 1e-5)
    return s


def long_while(x):
    s = x
    k = 0
    while k < 100_000:
        s = s + 1e-5 * np.cos(s)
        k += 1
    return s


def test_loops_of_1e5_iterations():
    g = diffc.grad(long_loop)(0.7)
    assert_close(g, numeric_grad(long_loop, [0.7], 0, eps=1e-5), rtol=1e-5)
    g = diffc.grad(long_while)(0.2)
    assert_close(g, numeric_grad(long_while, [0.2], 0, eps=1e-5), rtol=1e-5)


@pytest.mark.slow       # one of the slowest of the default suite; run with -m slow
def test_300_line_function(tmp_path):
    lines = ["import numpy as np", "", "def f(x, v):", "    s = x", "    y = v * 1.0"]
    for k in range(300):
        r = k % 6
        if r == 0:
            lines.append(f"    s = s + np.sin(x * {0.01 * k:.2f})")
        elif r == 1:
            lines.append(f"    y[{k % 4}] = y[{(k + 1) % 4}] * 0.5 + s * 0.01")
        elif r == 2:
            lines.append(f"    if s > {k * 0.1:.1f}:\n        s = s * 0.9")
        elif r == 3:
            lines.append("    s = np.tanh(s) + np.sum(y) * 0.01")
        elif r == 4:
            lines.append(f"    for i in range(2):\n        s = s + y[i] * {0.001 * k:.3f}")
        else:
            lines.append("    y = np.cos(y) * 0.9 + s * 0.001")
    lines.append("    return s + np.sum(y * y)")
    mod = _load(tmp_path, "long_fn", "\n".join(lines) + "\n")
    v = np.array([0.1, -0.2, 0.3, 0.4])
    gx, gv = diffc.grad(mod.f, wrt=(0, 1))(0.4, v)
    assert_close(gx, numeric_grad(mod.f, [0.4, v], 0), rtol=1e-5, atol=1e-7)
    assert_close(gv, numeric_grad(mod.f, [0.4, v], 1), rtol=1e-5, atol=1e-7)
