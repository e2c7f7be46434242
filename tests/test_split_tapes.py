"""optimize/keep_split_tape_shapes.py, optimize/recompute_cheap_entries.py and the lean
np.roll adjoint: a split function's tape
keeps only shapes for values its adjoint reads for their shape, and the roll
adjoint slices instead of calling np.roll.

Gradients are checked against central finite differences and against the
unoptimized gradient (optimize=False) to a relative 1e-12."""

import os
import sys

import numpy as np
import pytest

import diffc
from diffc.rules.shapes import _roll_bar
from gradcheck import numeric_grad


def smooth(p, rhs, sweeps):
    for k in range(sweeps):
        p = 0.25 * (np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)
                    + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1) - rhs)
    return p


def relax(u, rhs):
    total = 0.0
    for step in range(3):
        u = smooth(u, rhs, 4) * 1.1
        total = total + np.sum(u * u)
    return total


def test_split_tape_keeps_shapes_and_gradient_is_unchanged():
    rng = np.random.default_rng(0)
    u, rhs = rng.standard_normal((5, 6)), rng.standard_normal((5, 6))
    src = diffc.source(relax, wrt=(0, 1), args=(u, rhs))
    fwd = src[src.index("def _fwd_smooth"):src.index("def _adj_smooth")]
    assert "shape_of(" in fwd
    for k in (0, 1):
        got = diffc.grad(relax, wrt=k)(u, rhs)
        plain = diffc.grad(relax, wrt=k, optimize=False)(u, rhs)
        np.testing.assert_allclose(got, plain, rtol=1e-12, atol=1e-12 * np.max(np.abs(plain)))
        np.testing.assert_allclose(got, numeric_grad(relax, (u, rhs), k), rtol=1e-6, atol=1e-7)


def concat_then_scale(a, b):
    """a + b concatenates lists: head_part/tail_part must still see the lists."""
    c = a + b
    total = 0.0
    for x in c:
        total = total + x * x
    return total


def call_concat(x):
    return concat_then_scale([x, 2.0 * x], [3.0 * x]) + concat_then_scale([x], [x * x])


def test_list_concatenation_in_a_split_callee():
    assert diffc.grad(call_concat)(1.5) == pytest.approx(
        2 * 1.5 + 8 * 1.5 + 18 * 1.5 + 2 * 1.5 + 4 * 1.5 ** 3, rel=1e-12)


@pytest.mark.parametrize("shape", [(5,), (4, 6), (3, 4, 5), (0, 3), (1,)])
def test_roll_adjoint_matches_np_roll(shape):
    rng = np.random.default_rng(len(shape))
    a = rng.standard_normal(shape)
    for axis in range(-len(shape), len(shape)):
        for shift in (-7, -1, 0, 1, 2, 5, np.int64(3)):
            assert np.array_equal(_roll_bar(a, shift, axis), np.roll(a, -shift, axis=axis))
    assert np.array_equal(_roll_bar(a, 2, None), np.roll(a, -2))
    if a.ndim >= 2:
        assert np.array_equal(_roll_bar(a, (1, 2), (0, 1)), np.roll(a, (-1, -2), axis=(0, 1)))


def test_fluids_workload_gradient():
    """The benchmark's stable-fluids step (np.roll projection, bilinear advection by
    fancy indexing, helper functions), small: FD and the unoptimized gradient."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
    import workloads as W
    args = W.WORKLOADS["fluids_wing"].make_inputs("smoke")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = diffc.grad(W.smoke, wrt=(0, 1, 2))(*args)
        plain = diffc.grad(W.smoke, wrt=(0, 1, 2), optimize=False)(*args)
    for k, g, p in zip((0, 1, 2), got, plain):
        np.testing.assert_allclose(g, p, rtol=1e-12, atol=1e-12 * np.max(np.abs(p)))
        np.testing.assert_allclose(g, numeric_grad(W.smoke, args, k), rtol=1e-5, atol=1e-7)
