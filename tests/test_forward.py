"""Forward mode on the shared corpus: jvp against finite differences, and <grad, v> == jvp(v)."""
import copy

import numpy as np
import pytest

import diffc
from corpus import PROGRAMS
from gradcheck import assert_close, numeric_grad


def _wrt_list(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


def _random_tangent(x, rng):
    if isinstance(x, np.ndarray):
        return rng.normal(size=x.shape)
    if isinstance(x, (list, tuple)):
        return type(x)(float(v) for v in rng.normal(size=len(x)))
    return float(rng.normal())


def _tangents(args, wrt, seed=0):
    rng = np.random.default_rng(seed)
    tangents = [None] * len(args)
    for k in _wrt_list(wrt):
        tangents[k] = _random_tangent(args[k], rng)
    return tangents


def _numeric_directional(fn, args, wrt, tangents):
    """<finite-difference gradient, v>, summed over the differentiated arguments."""
    return sum(float(np.sum(numeric_grad(fn, args, k) * np.asarray(tangents[k], dtype=float)))
               for k in _wrt_list(wrt))


@pytest.mark.parametrize("name,fn,args,wrt", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_jvp_matches_finite_differences(name, fn, args, wrt):
    args_before = copy.deepcopy(args)
    tangents = _tangents(args, wrt)
    tangents_before = copy.deepcopy(tangents)
    out, dot = diffc.jvp(fn, args, tangents)
    assert_close(out, fn(*args), rtol=1e-12, atol=1e-12, what=f"{name} value")
    expected = _numeric_directional(fn, args, wrt, tangents)
    assert_close(dot, expected, rtol=1e-5, atol=1e-6, what=f"{name} jvp")
    # Neither the arguments nor the tangents are modified; a second call agrees exactly.
    for a, b in zip(args, args_before):
        assert_close(a, b, rtol=0, atol=0, what=f"{name} arguments unchanged")
    for a, b in zip(tangents, tangents_before):
        if b is not None:
            assert_close(a, b, rtol=0, atol=0, what=f"{name} tangents unchanged")
    _, again = diffc.jvp(fn, args, tangents)
    assert_close(again, dot, rtol=0, atol=0, what=f"{name} second call")


@pytest.mark.parametrize("name,fn,args,wrt", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_reverse_and_forward_agree(name, fn, args, wrt):
    """<grad f, v> == jvp(f, v) to 1e-10 (in addition to the finite-difference checks)."""
    tangents = _tangents(args, wrt, seed=1)
    grads = diffc.grad(fn, wrt=wrt)(*args)
    if not isinstance(wrt, tuple):
        grads = (grads,)
    inner = sum(float(np.sum(np.asarray(g, dtype=float) * np.asarray(tangents[k], dtype=float)))
                for g, k in zip(grads, _wrt_list(wrt)))
    _, dot = diffc.jvp(fn, args, tangents)
    assert abs(dot - inner) <= 1e-10 * max(1.0, abs(inner)), f"{name}: jvp {dot!r} != <grad, v> {inner!r}"


def test_forward_source_is_readable_and_runs():
    def f(x, y):
        z = x * y
        for i in range(3):
            z = z + np.sin(x) * i
        return z
    text = diffc.source(f, mode="forward", wrt=0)
    assert "def jvp_f(x, y, x_dot):" in text
    assert "x_dot" in text and "y_dot" not in text        # y is constant: no tangent at all
    out, dot = diffc.jvp(f, (0.3, 2.0), (1.0, None))
    assert_close(dot, 2.0 + 3 * np.cos(0.3), rtol=1e-12, atol=1e-12)


def test_jvp_array_output_and_constant_arguments():
    def f(x, a):
        return np.tanh(x * a) + a
    x = np.array([0.1, -0.5, 2.0])
    v = np.array([1.0, 0.5, -2.0])
    out, dot = diffc.jvp(f, (x, 3.0), (v, None))
    assert dot.shape == x.shape
    assert_close(dot, 3.0 * (1 - np.tanh(3 * x) ** 2) * v, rtol=1e-12, atol=1e-12)
    # Only the constant argument varies: the derivative in x is absent.
    _, dot_a = diffc.jvp(f, (x, 3.0), (None, 1.0))
    assert_close(dot_a, x * (1 - np.tanh(3 * x) ** 2) + 1.0, rtol=1e-12, atol=1e-12)


def test_jvp_zero_tangent_of_array_output_has_its_shape():
    def f(x, c):
        return c * 2.0 + x * 0.0 + np.ones(3)
    _, dot = diffc.jvp(f, (1.0, np.ones(3)), (None, None))
    assert dot.shape == (3,) and not dot.any()


def test_jvp_bad_arguments():
    def f(x):
        return x * x
    with pytest.raises(diffc.DiffcError):
        diffc.jvp(f, (1.0,), (1.0, 2.0))


def test_differentiate_decorator_jvp():
    @diffc.differentiate
    def f(x):
        return x ** 3
    out, dot = f.jvp((2.0,), (1.0,))
    assert_close(out, 8.0) and assert_close(dot, 12.0, rtol=1e-12, atol=1e-12)
