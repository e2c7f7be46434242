"""optimize/hand_over.py, runtime.give_item and the guarded first accumulation in
fuse_loop_reset: parameters in lists of (W, b) tuples and dicts get their adjoint
arrays without copies, and nothing is shared that should not be.

Gradients are checked against central finite differences and against the
unoptimized gradient (optimize=False) to a relative 1e-12."""

import numpy as np

import diffc
from diffc.runtime import DictBar, ListBar, give_item
from gradcheck import numeric_grad


def classifier(params, x):
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    return np.sum((h @ W + b) ** 2)


def shared_weight(params, x):
    """The same W read twice: its element gets two contributions."""
    W, b = params[0]
    h = np.tanh(x @ W + b)
    W2, b2 = params[0]
    return np.sum(np.sin(h @ W2.T) * b2[0])


def with_dict(p, x):
    h = np.tanh(x @ p["W"] + p["b"])
    return np.sum(h * h) + 0.0 * np.sum(x)


def _params(rng):
    return [(rng.standard_normal((4, 3)) / 2, rng.standard_normal(3)),
            (rng.standard_normal((3, 3)) / 2, rng.standard_normal(3)),
            (rng.standard_normal((3, 2)) / 2, rng.standard_normal(2))]


def _check_tree(got, plain, f, args):
    leaves_got = [a for t in got for a in t]
    leaves_plain = [a for t in plain for a in t]
    for g, p in zip(leaves_got, leaves_plain):
        np.testing.assert_allclose(g, p, rtol=1e-12, atol=0)
    ids = [id(a) for a in leaves_got]
    assert len(set(ids)) == len(ids), "two gradient arrays share memory"
    params = args[0]
    for i, pair in enumerate(params):
        for k in range(2):
            def f_leaf(v, i=i, k=k):
                ps = [list(t) for t in params]
                ps[i][k] = v
                return f([tuple(t) for t in ps], *args[1:])
            np.testing.assert_allclose(got[i][k], numeric_grad(f_leaf, (params[i][k],), 0),
                                       rtol=1e-6, atol=1e-8)


def test_classifier_hands_weights_over():
    rng = np.random.default_rng(0)
    params, x = _params(rng), rng.standard_normal((5, 4))
    src = diffc.source(classifier, args=(params, x))
    assert "give_item(" in src
    assert "W_bar = _matmul_bar_b(" in src          # no `0.0 + product` copy in the loop
    _check_tree(diffc.grad(classifier)(params, x), diffc.grad(classifier, optimize=False)(params, x),
                classifier, (params, x))


def test_an_element_with_two_contributions():
    rng = np.random.default_rng(1)
    params = [(rng.standard_normal((3, 3)), rng.standard_normal(3))]
    x = rng.standard_normal((2, 3))
    _check_tree(diffc.grad(shared_weight)(params, x), diffc.grad(shared_weight, optimize=False)(params, x),
                shared_weight, (params, x))


def test_dict_parameters():
    rng = np.random.default_rng(2)
    p = {"W": rng.standard_normal((3, 2)), "b": rng.standard_normal(2), "unused": np.ones(4)}
    x = rng.standard_normal((4, 3))
    got = diffc.grad(with_dict)(p, x)
    plain = diffc.grad(with_dict, optimize=False)(p, x)
    for k in p:
        np.testing.assert_allclose(got[k], plain[k], rtol=1e-12, atol=0)
    assert np.array_equal(got["unused"], np.zeros(4))
    for k in ("W", "b"):
        def f(v, k=k):
            q = dict(p)
            q[k] = v
            return with_dict(q, x)
        np.testing.assert_allclose(got[k], numeric_grad(f, (p[k],), 0), rtol=1e-6, atol=1e-8)


def test_give_item_takes_only_untouched_elements():
    g1, g2 = np.ones(3), np.full(3, 2.0)
    bar = give_item(0.0, [np.zeros(3), np.zeros(3)], 0, g1)
    assert isinstance(bar, ListBar) and bar[0] is g1 and bar[1] == 0.0
    bar = give_item(bar, None, 0, g2)           # second contribution: a new array
    assert bar[0] is not g1 and bar[0] is not g2 and bar[0].tolist() == [3.0, 3.0, 3.0]
    assert g1.tolist() == [1.0, 1.0, 1.0]
    d = give_item(0.0, {"a": np.zeros(3), "b": np.zeros(2)}, "a", g1)
    assert isinstance(d, DictBar) and d["a"] is g1 and "b" not in d
    arr = give_item(np.zeros((2, 3)), np.zeros((2, 3)), 1, g2)   # ndarray adjoints: as acc_item
    assert arr[1].tolist() == [2.0, 2.0, 2.0] and arr[0].tolist() == [0.0, 0.0, 0.0]
