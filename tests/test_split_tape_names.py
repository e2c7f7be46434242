"""A split tape entry keeps only its shape when the adjoint reads it only for its shape --
under the name the adjoint pops it into.

keep_split_tape_shapes judged an entry by the name pushed.  When the optimizer had
substituted ``g_bar = u_bar`` into the push (after folding ``head_part(u_bar, t, -0.7)``
to ``u_bar``), the entry pushed as ``u_bar`` (read only for its shape) was popped as
``g_bar`` (read for its value), and reverse over reverse crashed inside generated code
(``TypeError: unsupported operand type(s) for *: 'float' and 'ShapeOf'``, fuzz seed
130017).  Checked against finite differences of the gradient."""

import numpy as np

import diffc

from gradcheck import assert_close


def accumulate(acc, v, c):
    acc += v * c
    return float(np.sum(acc))


def relax_then_accumulate(x, v, w):
    s = np.sin(w)
    for k in range(2):
        v[[3, 3, 2]] -= np.tanh(v[[3, 3, 2]] * s) + 0.5 * k
    s = s * x * x
    u = np.sin(v.ravel()) * s + -0.7
    total = accumulate(u, np.cos(v.ravel()), s)
    return s + total * -0.7


X, W = -0.368, -1.106
V = np.array([1.298, -0.03, -1.367, -0.246, 1.212])


def test_reverse_over_reverse_through_a_split_tape():
    g = diffc.grad(relax_then_accumulate, wrt=0)
    h = 1e-5
    expected = (g(X + h, V.copy(), W) - g(X - h, V.copy(), W)) / (2 * h)
    _, pullback = diffc.vjp(g, X, V.copy(), W)
    assert_close(pullback(1.0)[0], expected, rtol=1e-5, what="reverse over reverse")
    assert_close(diffc.hessian(relax_then_accumulate, wrt=0)(X, V.copy(), W), expected, rtol=1e-5,
                 what="hessian")
