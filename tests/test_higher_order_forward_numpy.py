"""Second derivatives of the NumPy programs along a path, in all four mixed orders.

For every program fn of test_numpy_programs.CASES and its argument x0, the scalar
functions

    g(t) = fn(x0 + t*D)              (a line)
    c(t) = fn(x0 + t*D + t*t*E)      (a curve: the tangent itself depends on t)

are differentiated twice at t = 0 by reverse over forward
(``grad(jacobian(g, mode="forward"))``: the forward code calls the rule
library's ``_*_jvp``/``_*_dot`` helpers, whose adjoints are used), forward over
reverse (``hessian``), reverse over reverse (``grad(grad(g))``) and forward
over forward (``jacobian(jacobian(g, mode="forward"), mode="forward")``).

References: g''(0) = D.H.D and c''(0) = D.H.D + 2 grad(fn).E, with H.D the
central difference of diffc.grad(fn) along D (diffc.grad is checked against
finite differences of fn in test_numpy_programs), and the central second
difference of g and c themselves.
"""
import warnings

import numpy as np
import pytest

import diffc
from gradcheck import assert_close
from test_numpy_programs import CASES

MODES = {
    "reverse_over_forward": lambda g: diffc.grad(diffc.jacobian(g, mode="forward")),
    "forward_over_reverse": diffc.hessian,
    "reverse_over_reverse": lambda g: diffc.grad(diffc.grad(g)),
    "forward_over_forward": lambda g: diffc.jacobian(diffc.jacobian(g, mode="forward"), mode="forward"),
}
# The default run: the line in the three mixed orders, the curve (whose tangent moves
# with t: the adjoints of the tangent helpers in their tangent argument) in the two
# orders that differentiate forward code; the other pairs are marked slow.
QUICK = {("line", "reverse_over_forward"), ("line", "forward_over_reverse"), ("line", "reverse_over_reverse"),
         ("curve", "reverse_over_forward"), ("curve", "forward_over_forward")}


def along_line(fn, x0, D):
    def g(t):
        return fn(x0 + t * D)
    return g


def along_curve(fn, x0, D, E):
    def c(t):
        return fn(x0 + t * D + (t * t) * E)
    return c


def _directions(arg):
    rng = np.random.default_rng(7)
    D, E = rng.normal(size=np.shape(arg)), rng.normal(size=np.shape(arg))
    if np.ndim(arg) == 0:
        return float(D), float(E)
    return D, E


def _references(fn, x0, D, E, eps=1e-5):
    grad = diffc.grad(fn)
    dhd = float(np.sum(D * (grad(x0 + eps * D) - grad(x0 - eps * D)) / (2 * eps)))
    return dhd, dhd + 2.0 * float(np.sum(grad(x0) * E))


def _second_difference(g, eps=1e-4):
    return (g(eps) - 2.0 * g(0.0) + g(-eps)) / eps ** 2


def _run(name, fn, arg, pairs):
    D, E = _directions(arg)
    paths = {"line": along_line(fn, arg, D), "curve": along_curve(fn, arg, D, E)}
    refs = dict(zip(("line", "curve"), _references(fn, arg, D, E)))
    for path in sorted({p for p, _ in pairs}):
        # the references agree with finite differences of the programs themselves
        assert_close(_second_difference(paths[path]), refs[path], rtol=1e-4, atol=1e-5,
                     what=f"{name}: FD reference ({path})")
    for path, mode in pairs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = MODES[mode](paths[path])(0.0)
        assert_close(got, refs[path], rtol=1e-6, atol=1e-6, what=f"{name} {mode} ({path})")


# the slowest programs (norms, decompositions) run with -m slow; the others keep each rule family
_SLOW_PATHS = {"norms", "cholesky_eigh", "norm_ord"}


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name,fn,arg", [pytest.param(*c, marks=pytest.mark.slow) if c[0] in _SLOW_PATHS else c
                                         for c in CASES], ids=[c[0] for c in CASES])
def test_second_derivative_along_a_path(name, fn, arg):
    _run(name, fn, arg, sorted(QUICK))


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("name,fn,arg", CASES, ids=[c[0] for c in CASES])
def test_second_derivative_along_a_path_all_orders(name, fn, arg):
    _run(name, fn, arg, [(p, m) for p in ("line", "curve") for m in MODES if (p, m) not in QUICK])


# ---------------------------------------------------- first-order forward mode of vararg rules

def einsum_program(a, b):
    return np.einsum("ij,jk->ik", a, b).sum() + np.einsum("ij,ij->", a, a) + np.einsum("i,ij,j", a[0], b, b[:, 0])


def test_jvp_of_vararg_rule_binds_operands_and_their_tangents():
    """np.einsum(subscripts, *operands): the tangent rule gets the operands and ONE tuple of tangents."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 4))
    da, db = rng.normal(size=a.shape), rng.normal(size=b.shape)
    eps = 1e-6
    fd = (einsum_program(a + eps * da, b + eps * db) - einsum_program(a - eps * da, b - eps * db)) / (2 * eps)
    _, dot = diffc.jvp(einsum_program, (a, b), (da, db))
    assert_close(dot, fd, rtol=1e-6, what="einsum jvp (both operands)")
    _, dot_a = diffc.jvp(einsum_program, (a, b), (da, None))
    fd_a = (einsum_program(a + eps * da, b) - einsum_program(a - eps * da, b)) / (2 * eps)
    assert_close(dot_a, fd_a, rtol=1e-6, what="einsum jvp (first operand)")
