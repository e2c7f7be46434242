"""optimize/skip_dead_last_step.py: the adjoint product of a loop's first iteration is skipped
when nothing reads it (the loop started from an inactive value).

Gradients are checked against central finite differences and against the
unoptimized gradient (optimize=False) to a relative 1e-12; the source checks
say where the guard must appear and where it must not."""

import numpy as np

import diffc
from gradcheck import numeric_grad


def layers_loss(params, x):
    h = x
    for W, b in params:
        h = np.tanh(h @ W + b)
    return np.sum(h * h)


def chain(W, x, n):
    h = x
    for k in range(n):
        h = np.sin(np.dot(h, W))
    return np.sum(h)


def _params(rng):
    return [(rng.standard_normal((4, 3)) / 2, rng.standard_normal(3)),
            (rng.standard_normal((3, 2)) / 2, rng.standard_normal(2))]


def _flat_check(f, args, wrt):
    got = diffc.grad(f, wrt=wrt)(*args)
    plain = diffc.grad(f, wrt=wrt, optimize=False)(*args)
    return got, plain


def test_first_layer_input_adjoint_is_skipped():
    rng = np.random.default_rng(0)
    params, x = _params(rng), rng.standard_normal((5, 4))
    src = diffc.source(layers_loss, args=(params, x))
    assert "_left1 -= 1" in src and "if _left1:" in src
    got, plain = _flat_check(layers_loss, (params, x), 0)
    for (gW, gb), (pW, pb) in zip(got, plain):
        np.testing.assert_allclose(gW, pW, rtol=1e-12, atol=0)
        np.testing.assert_allclose(gb, pb, rtol=1e-12, atol=0)
    # finite differences, one parameter array at a time
    for layer in range(2):
        for k in range(2):
            def f(p, layer=layer, k=k):
                ps = [list(t) for t in params]
                ps[layer][k] = p
                return layers_loss([tuple(t) for t in ps], x)
            np.testing.assert_allclose(got[layer][k], numeric_grad(f, (params[layer][k],), 0),
                                       rtol=1e-6, atol=1e-8)


def test_input_adjoint_is_kept_when_the_input_is_differentiated():
    rng = np.random.default_rng(1)
    params, x = _params(rng), rng.standard_normal((5, 4))
    src = diffc.source(layers_loss, wrt=(0, 1), args=(params, x))
    assert "if _left" not in src
    gx = diffc.grad(layers_loss, wrt=1)(params, x)
    np.testing.assert_allclose(gx, numeric_grad(layers_loss, (params, x), 1), rtol=1e-6, atol=1e-8)


def test_range_loop_with_an_inactive_start():
    rng = np.random.default_rng(2)
    W, x = rng.standard_normal((3, 3)) / 2, rng.standard_normal(3)
    for n in (0, 1, 4):
        got, plain = _flat_check(chain, (W, x, n), 0)
        np.testing.assert_allclose(got, plain, rtol=1e-12, atol=0)
        np.testing.assert_allclose(got, numeric_grad(chain, (W, x, n), 0), rtol=1e-6, atol=1e-8)
    gx = diffc.grad(chain, wrt=1)(W, x, 3)
    np.testing.assert_allclose(gx, numeric_grad(chain, (W, x, 3), 1), rtol=1e-6, atol=1e-8)
