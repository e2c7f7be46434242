"""optimize/keep_tape_shapes.py: loop tapes keep shapes where the adjoint reads only shapes,
and list adjoints start from lazy zeros (runtime.acc_item).

Gradients are checked against central finite differences, including a state
that broadcasts (its adjoint is summed back to a smaller shape from the kept
shape); source checks show which tape elements become shapes.
"""
import numpy as np
import pytest

import diffc
from diffc import runtime
from gradcheck import assert_close
from gradcheck import check_value_and_grad as check


def rnn(Wx, Wh, b, xs, h0):
    h = h0
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(xs[t], Wx) + np.dot(h, Wh) + b)
    return np.sum(h * h)


def states_in_a_list(Wx, Wh, b, xs, h0):
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(xs[t], Wx) + np.dot(h, Wh) + b)
        hs.append(h)
    total = 0.0
    for h_t in hs:
        total = total + np.sum(h_t * h_t)
    return total / len(hs)


def value_read_too(w, xs):
    s = np.zeros(3)
    for t in range(xs.shape[0]):
        a = xs[t] * w
        s = s + a * a          # the adjoint reads a's value: it stays on the tape
    return np.sum(s)


def _rnn_args(h0_shape, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((3, 4)) / 2, rng.standard_normal((4, 4)) / 2, rng.standard_normal(4) / 5,
            rng.standard_normal((5, 2, 3)), rng.standard_normal(h0_shape) / 3)


@pytest.mark.parametrize("h0_shape", [(2, 4), (4,), (1, 4)])      # (4,) and (1, 4) broadcast
@pytest.mark.parametrize("fn", [rnn, states_in_a_list])
def test_rnn_gradients(fn, h0_shape):
    check(fn, *_rnn_args(h0_shape), wrt=(0, 1, 2, 4))


def test_shapes_are_kept_for_the_sums_only():
    text = diffc.source(rnn, wrt=(0, 1, 2), args=_rnn_args((2, 4)))
    entry = [line for line in text.splitlines() if "_tape" in line and ".append(" in line]
    assert len(entry) == 1 and entry[0].count("shape_of(") >= 2, text
    text = diffc.source(value_read_too, wrt=0, args=(np.ones(3), np.ones((4, 3))))
    assert "shape_of(a)" not in text and ", a" in text.split("_tape1.append(")[1].split("\n")[0], text
    check(value_read_too, np.array([0.5, -1.0, 2.0]), np.random.default_rng(1).standard_normal((4, 3)))


@pytest.mark.parametrize("x", [np.ones((2, 3)), np.ones((1, 3)), np.ones(3), 2.0, [1.0, 2.0]])
def test_unbroadcast_reads_the_shape_alike(x):
    g = np.arange(6.0).reshape(2, 3)
    assert_close(runtime.unbroadcast(g, runtime.shape_of(x)), runtime.unbroadcast(g, x), rtol=0, atol=0)
    assert (runtime.shape_of(x) is x) == (type(x) is not np.ndarray)


def test_a_list_adjoint_starts_from_lazy_zeros():
    items = [np.ones(3), np.ones(3), np.ones(3)]
    bar = runtime.acc_item(0.0, items, 1, np.full(3, 2.0))
    assert bar[0] == 0.0 and bar[2] == 0.0 and list(bar[1]) == [2.0, 2.0, 2.0]

    def second_only(xs):
        return np.sum(xs[1] * xs[1])
    xs = [np.arange(3.0), np.arange(3.0) + 1.0, np.arange(3.0) + 2.0]
    g = diffc.grad(second_only)(xs)
    assert [np.shape(v) for v in g] == [(3,), (3,), (3,)]
    assert_close(np.concatenate(g), np.concatenate([np.zeros(3), 2 * xs[1], np.zeros(3)]), rtol=0, atol=0)


@pytest.mark.slow       # one of the slowest of the default suite; run with -m slow
def test_exported_module_copies_shape_of():
    from diffc.export import export_source
    args = _rnn_args((4,))
    text = export_source(rnn, wrt=(0, 1, 2), args=args)
    assert "def shape_of(" in text and "class ShapeOf" in text
    space = {}
    exec(compile(text, "<exported rnn>", "exec"), space)
    for a, b in zip(space["grad_rnn"](*args), diffc.grad(rnn, wrt=(0, 1, 2))(*args)):
        assert np.array_equal(a, b)
