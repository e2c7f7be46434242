"""Rules for Python operator syntax (``a + b`` is ``operator.add(a, b)``).

The same rules serve Python floats and NumPy arrays: ``unbroadcast`` sums an
array contribution back to the shape of a broadcast operand, and the compiler
drops it where the kinds analysis proves the result is a plain scalar.
"""

import math
import operator

import numpy as np

from .. import effects
from . import adjoint, tangent, nondiff
from ..runtime import cat_left, cat_right, fit_dot, head_part, is_duck_array, tail_part, unbroadcast
from .shared import full as _full


# `+` also concatenates lists and tuples: head_part/tail_part split the adjoint and
# cat_left/cat_right pad the tangent there, and are identities otherwise (the
# compiler drops them, like unbroadcast, where the result is a scalar).
@adjoint(operator.add)
def _(result, result_bar, a, b):
    return unbroadcast(head_part(result_bar, a, b), a), unbroadcast(tail_part(result_bar, a, b), b)


@tangent(operator.add)
def _(result, a, b, a_dot, b_dot):
    return cat_left(a_dot, a, b) + cat_right(b_dot, a, b)


@adjoint(operator.sub)
def _(result, result_bar, a, b):
    return unbroadcast(result_bar, a), unbroadcast(-result_bar, b)


@tangent(operator.sub)
def _(result, a, b, a_dot, b_dot):
    return a_dot - b_dot


@adjoint(operator.mul)
def _(result, result_bar, a, b):
    return unbroadcast(result_bar * b, a), unbroadcast(result_bar * a, b)


@tangent(operator.mul)
def _(result, a, b, a_dot, b_dot):
    return a_dot * b + a * b_dot


@adjoint(operator.truediv)
def _(result, result_bar, a, b):
    return unbroadcast(result_bar / b, a), unbroadcast(-result_bar * result / b, b)


@tangent(operator.truediv)
def _(result, a, b, a_dot, b_dot):
    return a_dot / b - b_dot * result / b


# d a**b / da is pow_dxk(a, b, 1); with a constant exponent the optimizer folds it into
# `b * a ** (b - 1)` (optimize/algebra.py), or into 0 for a**0.
@adjoint(operator.pow)
def _(result, result_bar, a, b):
    return (unbroadcast(result_bar * pow_dxk(a, b, 1), a),
            unbroadcast(result_bar * result * _log_or_zero(a), b))


@tangent(operator.pow)
def _(result, a, b, a_dot, b_dot):
    return a_dot * pow_dxk(a, b, 1) + b_dot * result * _log_or_zero(a)


def falling_product(b, k):
    """(b (b-1) ... (b-k+1), its derivative in b)."""
    coef, dcoef = 1.0 if not isinstance(b, int) else 1, 0.0
    for i in range(k):
        dcoef = dcoef * (b - i) + coef
        coef = coef * (b - i)
    return coef, dcoef


def _power_or_inf(a, e):
    """a ** e, with numpy's inf where Python raises ZeroDivisionError (0.0 ** -1.0)."""
    if isinstance(a, np.ndarray) or isinstance(e, np.ndarray) or is_duck_array(a) or is_duck_array(e):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.power(a, e)
    try:
        return a ** e
    except ZeroDivisionError:
        return math.inf


def _times_or_zero(c, p):
    """c * p, exactly 0 where c == 0 (p may be inf there: a coefficient 0 wins)."""
    if np.ndim(c) == 0 and not is_duck_array(c):
        return c * p if c != 0 else 0.0 * np.zeros_like(p) if np.ndim(p) else 0.0
    with np.errstate(invalid="ignore"):
        d = np.where(np.equal(c, 0), 0.0, c * p)
    return d[()] if d.ndim == 0 else d


def pow_dxk(a, b, k):
    """The k-th derivative of a**b in a: b (b-1) ... (b-k+1) a**(b-k).

    Exactly 0 where the coefficient is 0 (a**b is then a polynomial of degree < k:
    a**0.0, a**1.0, a**2 ...), so that 0 ** (negative) never turns a zero into nan."""
    coef, _ = falling_product(b, k)
    return _times_or_zero(coef, _power_or_inf(a, b - k))


def _falling_derivative(b, k, j):
    """The j-th derivative in b of b (b-1) ... (b-k+1)."""
    poly = np.poly1d([1.0])
    for i in range(k):
        poly = poly * np.poly1d([1.0, -float(i)])
    for _ in range(j):
        poly = poly.deriv()
    return poly(b)


def pow_dxk_db(a, b, k, m):
    """The m-th derivative in b of pow_dxk(a, b, k) = P(b) a**(b-k), P the falling product:
    the sum over j of C(m, j) P^(j)(b) a**(b-k) log(a)**(m-j) (log a taken as 0 where
    a <= 0, as for the first derivative; a zero coefficient gives exactly 0)."""
    p = _power_or_inf(a, b - k)
    log_a = _log_or_zero(a)
    total = 0.0
    for j in range(min(m, k) + 1):
        coef = math.comb(m, j) * _falling_derivative(b, k, j)
        total = total + _times_or_zero(coef, p) * log_a ** (m - j)
    return total


def _log_or_zero(a):
    """log(a) where a > 0, else 0: d(a**b)/db where it exists (0**b has slope 0)."""
    if isinstance(a, np.ndarray):
        return np.log(np.where(a > 0, a, 1.0))
    return np.log(a) if a > 0 else 0.0


@adjoint(operator.floordiv)
def _(result, result_bar, a, b):
    return None, None


@tangent(operator.floordiv)
def _(result, a, b, a_dot, b_dot):
    return a_dot * 0.0 + b_dot * 0.0


# a % b = a - q * b with q = a // b (floor division is computed consistently with %):
# d/db is -q.  Recovering q as (a - a % b) // b rounds to the wrong integer when
# a / b is just past one (a = 0.3999999954873744, b = -1.4899995609460535).
@adjoint(operator.mod)
def _(result, result_bar, a, b):
    return unbroadcast(result_bar, a), unbroadcast(-result_bar * (a // b), b)


@tangent(operator.mod)
def _(result, a, b, a_dot, b_dot):
    return a_dot - b_dot * (a // b)


@adjoint(operator.matmul)
def _(result, result_bar, a, b):
    return _matmul_bar_a(result_bar, a, b), _matmul_bar_b(result_bar, a, b)


@tangent(operator.matmul)
def _(result, a, b, a_dot, b_dot):
    # a tangent may be the zero 0.0 at run time (a constant field of an object whose tangent
    # is zero): `0.0 @ b` is an error, so widen it to its operand's shape (fit_dot: linear,
    # differentiable at any order)
    return fit_dot(a_dot, a) @ b + a @ fit_dot(b_dot, b)


def _as_array(v):
    """v as an array without leaving its library: Dask/CuPy arrays pass through."""
    return v if is_duck_array(v) else np.asarray(v)


def _matmul_output_like(g, a, b):
    """A 0-d adjoint (a NumPy zero scaled by a scalar, standing for its broadcast) spread
    over the shape of a @ b, so the products below have their shapes."""
    shape = np.matmul(np.empty(np.shape(a)), np.empty(np.shape(b))).shape
    return np.broadcast_to(np.asarray(g, dtype=np.result_type(g, float)), shape)


def _matmul_bar_a(g, a, b):
    """The adjoint of a in a @ b (np.matmul too): 1-d operands, batches, broadcasting."""
    if type(g) is float and g == 0.0:
        return 0.0            # a zero adjoint: nothing flows back (shape-free)
    if type(a) is np.ndarray and type(b) is np.ndarray and type(g) is np.ndarray and g.ndim:
        if a.ndim == 2 and b.ndim == 2:
            return g @ b.T                   # the common case: one BLAS call
        if a.ndim == 2 and b.ndim == 1:
            return np.multiply.outer(g, b)   # matrix-vector: an outer product
        if a.ndim == 1 and b.ndim == 2:
            return np.dot(b, g)              # vector-matrix
    if np.ndim(g) == 0 and (np.ndim(a) > 1 or np.ndim(b) > 1):
        g = _matmul_output_like(g, a, b)
    a2, b2, g2 = _promoted(a, b, g)
    return np.reshape(unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2), np.shape(a))


def _matmul_bar_b(g, a, b):
    """The adjoint of b in a @ b (np.matmul too)."""
    if type(g) is float and g == 0.0:
        return 0.0            # a zero adjoint: nothing flows back (shape-free)
    if type(a) is np.ndarray and type(b) is np.ndarray and type(g) is np.ndarray and g.ndim:
        if a.ndim == 2 and b.ndim == 2:
            return a.T @ g
        if a.ndim == 2 and b.ndim == 1:
            return np.dot(g, a)              # matrix-vector: a.T @ g
        if a.ndim == 1 and b.ndim == 2:
            return np.multiply.outer(a, g)   # vector-matrix: an outer product
    if np.ndim(g) == 0 and (np.ndim(a) > 1 or np.ndim(b) > 1):
        g = _matmul_output_like(g, a, b)
    a2, b2, g2 = _promoted(a, b, g)
    return np.reshape(unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2), np.shape(b))


# Public names of the matmul adjoint helpers, for passes that recognize them
# in generated code (optimize/stack_products.py).
matmul_bar_a = _matmul_bar_a
matmul_bar_b = _matmul_bar_b


def _promoted(a, b, g):
    """Operands and adjoint of a matmul with 1-d operands promoted to matrices, as matmul does."""
    a, b, g = _as_array(a), _as_array(b), _as_array(g)
    if b.ndim == 1:
        b = b[:, None]
        g = g[..., None]
    if a.ndim == 1:
        a = a[None, :]
        g = g[..., None, :]
    return a, b, g


@adjoint(operator.neg)
def _(result, result_bar, a):
    return -result_bar


@tangent(operator.neg)
def _(result, a, a_dot):
    return -a_dot


@adjoint(operator.pos)
def _(result, result_bar, a):
    return result_bar


@tangent(operator.pos)
def _(result, a, a_dot):
    return a_dot


nondiff(operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne,
        operator.not_, operator.invert, operator.and_, operator.or_, operator.xor,
        operator.lshift, operator.rshift, operator.is_, operator.is_not, operator.contains)


# np.matmul shares the @ operator's adjoint helpers.
@adjoint(np.matmul)
def _(result, result_bar, x1, x2):
    return _matmul_bar_a(result_bar, x1, x2), _matmul_bar_b(result_bar, x1, x2)


@tangent(np.matmul)
def _(result, x1, x2, x1_dot, x2_dot):
    return np.matmul(_full(x1_dot, x1), x2) + np.matmul(x1, _full(x2_dot, x2))


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------
# pow_dxk(a, b, k) is the k-th derivative of a ** b in a, pow_dxk_db(a, b, k, m) its m-th
# derivative in b: a derivative in a raises k, one in b raises m (mixed partials commute).
@adjoint(pow_dxk)
def _(result, result_bar, a, b, k):
    return (unbroadcast(result_bar * pow_dxk(a, b, k + 1), a),
            unbroadcast(result_bar * pow_dxk_db(a, b, k, 1), b), None)


@tangent(pow_dxk)
def _(result, a, b, k, a_dot, b_dot):
    return a_dot * pow_dxk(a, b, k + 1) + b_dot * pow_dxk_db(a, b, k, 1)


@adjoint(pow_dxk_db)
def _(result, result_bar, a, b, k, m):
    return (unbroadcast(result_bar * pow_dxk_db(a, b, k + 1, m), a),
            unbroadcast(result_bar * pow_dxk_db(a, b, k, m + 1), b), None, None)


@tangent(pow_dxk_db)
def _(result, a, b, k, m, a_dot, b_dot):
    return a_dot * pow_dxk_db(a, b, k + 1, m) + b_dot * pow_dxk_db(a, b, k, m + 1)


@adjoint(_log_or_zero)
def _(result, result_bar, a):
    return result_bar * np.where(a > 0, 1.0 / np.where(a > 0, a, 1.0), 0.0)


@tangent(_log_or_zero)
def _(result, a, a_dot):
    return a_dot * np.where(a > 0, 1.0 / np.where(a > 0, a, 1.0), 0.0)


# A tangent or adjoint here may be the zero 0.0 at run time (nothing flowed): widened to
# its array's shape first, since matmul takes no scalars (fuzz seed 876, reverse over reverse).
@tangent(_matmul_bar_a)
def _(result, g, a, b, g_dot, b_dot):
    return _matmul_bar_a(g_dot, a, b) + _matmul_bar_a(g, a, _full(b_dot, b))


@tangent(_matmul_bar_b)
def _(result, g, a, b, g_dot, a_dot):
    return _matmul_bar_b(g_dot, a, b) + _matmul_bar_b(g, _full(a_dot, a), b)


@adjoint(_matmul_bar_a)
def _(result, result_bar, g, a, b):
    r = _full(result_bar, a)          # shaped like a (result is the zero 0.0 when g was)
    return unbroadcast(np.matmul(r, b), g), None, _matmul_bar_b(g, r, b)


@adjoint(_matmul_bar_b)
def _(result, result_bar, g, a, b):
    r = _full(result_bar, b)          # shaped like b
    return unbroadcast(np.matmul(a, r), g), _matmul_bar_a(g, a, r), None


# New arrays, never an argument (diffc/effects.py).
effects.declare(_matmul_bar_a, _matmul_bar_b, facts=(effects.FRESH, effects.OWNED_BUFFER))
