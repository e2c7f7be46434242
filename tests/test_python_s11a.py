"""Issue 16, session 11 (helper s11a): ordinary Python that diffc used to refuse.

1. writes through a transposed or reshaped view (`M = x.reshape(2, 3); M[0, 1] = v`,
   `A.T[0] += v`, `r = z.ravel(); r[2] *= c`): NumPy changes the viewed array too.

Programs are written the way scientists write them (helpers, loops, lists of arrays).
Every derivative is checked against central finite differences: diffc.grad and diffc.jvp
against differences of the function, diffc.hessian against differences of the (checked)
gradient.  Views diffc cannot prove to be views (a reshape of a 2-d parameter, whose
layout is the caller's) stay refused, never differentiated as copies."""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

RNG = np.random.default_rng(11)
X6 = np.array([0.3, -0.7, 1.1, 0.4, 0.9, -0.2])
X12 = RNG.normal(size=12) * 0.7
A23 = RNG.normal(size=(2, 3))


def check(fn, args, wrt=0, second=True):
    """grad and jvp of fn with respect to args[wrt] against central differences; second:
    diffc.hessian against differences of the (checked) gradient."""
    args = list(args)
    before = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    expected = numeric_grad(fn, [np.copy(a) if isinstance(a, np.ndarray) else a for a in args], wrt)
    grad = diffc.grad(fn, wrt=wrt)
    assert_close(grad(*args), expected, what="grad")
    direction = RNG.normal(size=np.shape(args[wrt])) if np.ndim(args[wrt]) else 0.7
    tangents = tuple(direction if i == wrt else None for i in range(len(args)))
    assert_close(diffc.jvp(fn, tuple(args), tangents)[1], np.sum(expected * direction), what="jvp")
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)        # diffc never changes the caller's arrays
    if second:
        def grad_at(v):
            return grad(*[v if i == wrt else a for i, a in enumerate(args)])
        assert_close(diffc.hessian(fn, wrt=wrt)(*args), fd_jacobian(grad_at, args[wrt], eps=1e-5),
                     rtol=1e-5, atol=1e-6, what="hessian")


def refused(fn, args, line_text):
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(fn)(*args)
    assert line_text in str(info.value)


# ----------------------------------------------- 1. writes through views of an array

def clamp_weight(theta, x):
    W = theta.reshape(2, 3)
    W[0, 1] = np.sin(x[2]) * 3.0          # theta changes too: W is a view of it
    return np.sum(theta * x)


def pinned_matrix_entry(x):
    y = np.cos(x) * x
    M = y.reshape(2, 3)
    for i in range(2):
        M[i, i] = M[i, i] * x[i + 3]
    return np.sum(y ** 2)


def transposed_update(x):
    A = np.outer(x[:2], x[2:5])
    A.T[0] += x[:2] * 2.0
    A.T[2] *= x[5]
    return np.sum(A ** 2)


def transposed_name(x):
    A = np.sin(x).reshape(2, 3)
    B = A.T
    B[0, 1] = x[0] ** 2
    B[2] = B[2] * x[1]
    return np.sum(A * A) + np.sum(B[:, 0])


def ravel_scaled(x):
    z = np.outer(x[:2], x[2:5])
    r = z.ravel()
    r[2] *= x[0]
    r[4] = r[4] + np.tanh(x[5])
    return np.sum(z * z)


def np_ravel_in_loop(x):
    z = np.zeros((2, 3))
    for i in range(2):
        z[i] = x[3 * i:3 * i + 3] ** 2
    flat = np.ravel(z)
    for k in range(0, 6, 2):
        flat[k] = flat[k] * x[k // 2]
    return np.sum(np.exp(z) * 0.1)


def reshape_minus_one(x):
    y = np.cos(x)
    y.reshape(-1)[3] = x[1] * 5.0
    np.reshape(y, (3, 2))[1, 1] += x[2] ** 2
    return np.sum(y * x)


def layer_through_helper(theta, x):
    W = theta[:6].reshape(2, 3)
    b = theta[6:8]
    W[1] = np.tanh(W[1])                  # a view of theta's first six entries
    h = np.tanh(W @ x + b)
    return np.sum(h ** 2) + np.sum(theta ** 2) * 0.1


def write_view_then_base(x):
    y = x * 2.0
    M = y.reshape(2, 3)
    y[0] = np.sin(x[1])                  # M sees this
    M[1, 2] = M[0, 0] * x[3]             # and y sees this
    return np.sum(M ** 2) + np.sum(y * x)


def stack_of_views(xs):
    total = 0.0
    for v in xs:
        m = v.copy()
        grid = m.reshape(2, 2)            # a view: m is a fresh C-ordered copy
        grid.T[1] *= 0.5
        total = total + np.sum(m ** 3)
    return total


def squeeze_write(x):
    col = np.zeros((3, 1)) + x[:3, None]
    s = col.squeeze()
    s[1] = x[4] * s[0]
    return np.sum(col ** 2)


@pytest.mark.parametrize("fn", [clamp_weight, layer_through_helper])
def test_flat_parameter_views(fn):
    x = RNG.normal(size=3) if fn is layer_through_helper else X6 * 0.5
    check(fn, [X12[:8].copy() if fn is layer_through_helper else X6.copy(), x])


@pytest.mark.parametrize("fn", [pinned_matrix_entry, transposed_update, transposed_name, ravel_scaled,
                                np_ravel_in_loop, reshape_minus_one, write_view_then_base, squeeze_write])
def test_writes_through_views(fn):
    check(fn, [X6.copy()])


def test_views_of_items_of_a_list():
    xs = [RNG.normal(size=4), RNG.normal(size=4)]
    expected = numeric_grad(lambda a: stack_of_views([a, xs[1]]), [xs[0]], 0)
    assert_close(diffc.grad(lambda a, b: stack_of_views([a, b]))(xs[0], xs[1]), expected)


def ravel_of_parameter(A, x):
    r = A.ravel()                         # a view only when the caller's A is C-contiguous
    r[0] = x[0]
    return np.sum(A * x[1])


def reshape_of_transposed(x):
    A = np.outer(x[:2], x[2:5]).T
    r = A.reshape(-1)                     # A is not C-contiguous: NumPy copies
    r[0] = 0.0
    return np.sum(A ** 2) + np.sum(r)


def test_views_diffc_cannot_prove_are_refused():
    refused(ravel_of_parameter, [A23.copy(), X6.copy()], "r[0] = x[0]")
    # correct in Python either way; diffc refuses rather than guess the layout
    refused(reshape_of_transposed, [X6.copy()], "r[0] = 0.0")
