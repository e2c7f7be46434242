"""Rules for np.linalg.inv, solve, det and slogdet (stacks of matrices where NumPy
allows them).

Input: nothing (imported by rules/numpy_rules.py).  Output: adjoint and tangent rules for
those functions, their helpers (``_inv_bar``, ``_solve_bar_a``, ``_det_bar``...) and rules
of any order for the helpers (second and third derivatives: ``_inv_bar_adj_r`` and
friends, trilinear in their arguments).  slogdet's sign is piecewise constant.
Conventions: rules/numpy_rules.py.
"""

import numpy as np

from . import adjoint, linear, tangent
from ..runtime import ListBar, broadcast_like, unbroadcast
from .shared import (is_zero as _zero, bcast as _bcast, arr as _arr, zeros_of as _zeros_of,
                     full as _full, swap_last_axes as _T, seq as _seq, full_T as _full_T,
                     col as _col, uncol as _uncol, mat as _mat)


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


def _inv_bar(g, result):
    rt = _T(result)
    return -(rt @ g @ rt)


def _inv_jvp(a, a_dot, result):
    return -(result @ _full(a_dot, a) @ result)


def _solve_cot(a, g, b):
    """solve(a^T, g) as a stack of columns (the cotangent of b, before reshaping)."""
    if np.ndim(b) == 1:
        g = _arr(g)[..., None]
    return np.linalg.solve(_T(a), g)


def _solve_bar_a(gb, a, b, x):
    xc = _arr(x)[..., None] if np.ndim(b) == 1 else x
    return unbroadcast(-(gb @ _T(xc)), a)


def _solve_bar_b(gb, b):
    if np.ndim(b) == 1:
        gb = gb[..., 0]
    return unbroadcast(gb, b)


def _solve_dot_a(a, a_dot, b, x):
    xc = _arr(x)[..., None] if np.ndim(b) == 1 else x
    t = np.linalg.solve(a, _full(a_dot, a) @ xc)
    return t[..., 0] if np.ndim(b) == 1 else t


def _solve_dot_b(a, b, b_dot):
    return np.linalg.solve(a, _full(b_dot, b))


def _det_bar(g, a, result):
    return _arr(g * result)[..., None, None] * _T(np.linalg.inv(a))


def _det_jvp(a, a_dot, result):
    return result * np.trace(np.linalg.solve(a, _full(a_dot, a)), axis1=-2, axis2=-1)


def _slogdet_bar(result_bar, a):
    gl = 0.0 if _zero(result_bar) else result_bar[1]
    if _zero(gl):
        return _zeros_of(a)
    return _arr(gl)[..., None, None] * _T(np.linalg.inv(a))


def _slogdet_jvp(a, a_dot):
    return ListBar([0.0, np.trace(np.linalg.solve(a, _full(a_dot, a)), axis1=-2, axis2=-1)])


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


@adjoint(np.linalg.inv)
def _(result, result_bar, a):
    return _inv_bar(result_bar, result)


@tangent(np.linalg.inv)
def _(result, a, a_dot):
    return _inv_jvp(a, a_dot, result)


@adjoint(np.linalg.solve)
def _(result, result_bar, a, b):
    gb = _solve_cot(a, result_bar, b)
    return _solve_bar_a(gb, a, b, result), _solve_bar_b(gb, b)


@tangent(np.linalg.solve)
def _(result, a, b, a_dot, b_dot):
    return _solve_dot_b(a, b, b_dot) - _solve_dot_a(a, a_dot, b, result)


@adjoint(np.linalg.det)
def _(result, result_bar, a):
    return _det_bar(result_bar, a, result)


@tangent(np.linalg.det)
def _(result, a, a_dot):
    return _det_jvp(a, a_dot, result)


# result (sign, logabsdet); the sign is piecewise constant
@adjoint(np.linalg.slogdet)
def _(result, result_bar, a):
    return _slogdet_bar(result_bar, a)


@tangent(np.linalg.slogdet)
def _(result, a, a_dot):
    return _slogdet_jvp(a, a_dot)


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


def _scale_mat(s, m):
    """s (a scalar per matrix of a stack) times the matrices m."""
    return np.asarray(s)[..., None, None] * m


def _mat_inner(r, m):
    return np.sum(r * m, axis=(-2, -1))


def _inv_T(a):
    return _T(np.linalg.inv(a))


def _inv_bar_dr(g, result, result_dot):
    """d(-(R^T g R^T)) for R = result moving by result_dot."""
    R, dR = result, _full(result_dot, result)
    return -(_T(dR) @ g @ _T(R) + _T(R) @ g @ _T(dR))


def _inv_bar_adj_r(g, result, rbar):
    """Adjoint of -(R^T g R^T) in R."""
    R, g, rbar = result, _mat(g, result), _mat(rbar, result)
    return -(g @ _T(R) @ _T(rbar) + _T(rbar) @ _T(R) @ g)


def _inv_jvp_T(g, result):
    """_inv_bar(g, result), 0 for a symbolic zero g: the adjoint of _inv_jvp in its tangent."""
    return _inv_bar(_mat(g, result), result)


def _inv_jvp_dr(d, result, result_dot):
    R, dR, D = result, _full(result_dot, result), d
    return -(dR @ D @ R + R @ D @ dR)


def _inv_jvp_adj_r(d, result, rbar):
    R, D, rbar = result, _mat(d, result), _mat(rbar, result)
    return -(rbar @ _T(R) @ _T(D) + _T(D) @ _T(R) @ rbar)


def _det_bar_da(g, a, result, a_dot):
    """The part of _det_bar's tangent from a: g*det * d(inv(a)^T)."""
    inv = np.linalg.inv(a)
    return _scale_mat(g * result, -_T(inv @ _full(a_dot, a) @ inv))


def _det_bar_adj_a(g, a, result, rbar):
    return _scale_mat(g * result, _inv_bar(_T(rbar), np.linalg.inv(a)))


def _slogdet_bar_da(result_bar, a, a_dot):
    gl = _seq(result_bar, 2)[1]
    if _zero(gl):
        return np.zeros(np.shape(a))
    inv = np.linalg.inv(a)
    return _scale_mat(gl, -_T(inv @ _full(a_dot, a) @ inv))


def _slogdet_bar_adj_g(result_bar, a, rbar):
    return ListBar([0.0, _mat_inner(rbar, _inv_T(a))])


def _slogdet_bar_adj_a(result_bar, a, rbar):
    gl = _seq(result_bar, 2)[1]
    if _zero(gl):
        return np.zeros(np.shape(a))
    return _scale_mat(gl, _inv_bar(_T(rbar), np.linalg.inv(a)))


def _solve_cot_jvp(a, g, b, result, a_dot, g_dot):
    """Tangent of X = solve(a^T, g) (columns): solve(a^T, g_dot - a_dot^T X)."""
    t = 0.0
    if not _zero(g_dot):
        gd = np.asarray(_full(g_dot, g))
        t = t + np.asarray(gd)[..., None] if np.ndim(b) == 1 else t + gd
    if not _zero(a_dot):
        t = t - _T(_full(a_dot, a)) @ result
    return np.linalg.solve(_T(a), t * np.ones(np.shape(result)))


def _solve_cot_adj(a, g, b, result, rbar, which):
    """Adjoint of solve(a^T, g) in a (which=0) or g (which=1)."""
    p = np.linalg.solve(a, rbar)                  # a^{-1} rbar
    if which == 1:
        return unbroadcast(p[..., 0] if np.ndim(b) == 1 else p, g)
    return unbroadcast(-(result @ _T(p)), a)


def _solve_bar_a_adj(rbar, gb, b, x, which):
    """Adjoint of -(gb @ xc^T) in gb (which=0) or x (which=1)."""
    xc = np.asarray(x)[..., None] if np.ndim(b) == 1 else x
    if which == 0:
        return unbroadcast(-(rbar @ xc), gb)
    t = -(_T(rbar) @ gb)
    return unbroadcast(t[..., 0] if np.ndim(b) == 1 else t, x)


def _solve_bar_b_T(rbar, gb, b):
    r = np.asarray(rbar)[..., None] if np.ndim(b) == 1 else rbar
    return unbroadcast(broadcast_like(r, gb) if np.shape(r) != np.shape(gb) else r, gb)


@tangent(_inv_bar)
def _(result, g, inverse, g_dot, inverse_dot):
    return _inv_bar(_full(g_dot, g), inverse) + _inv_bar_dr(g, inverse, inverse_dot)


@adjoint(_inv_bar)
def _(result, result_bar, g, inverse):
    return _inv_bar(result_bar, _T(inverse)), _inv_bar_adj_r(g, inverse, result_bar)


@tangent(_inv_jvp)
def _(result, a, d, inverse, d_dot, inverse_dot):
    return _inv_jvp(a, d_dot, inverse) + _inv_jvp_dr(_full(d, a), inverse, inverse_dot)


@adjoint(_inv_jvp)
def _(result, result_bar, a, d, inverse):
    return (None, _full_T(_inv_jvp_T(result_bar, inverse), d, a),
            _inv_jvp_adj_r(_full(d, a), inverse, result_bar))


@tangent(_det_bar)
def _(result, g, a, det, g_dot, a_dot, det_dot):
    return (_det_bar(_full(g_dot, g), a, det) + _det_bar(g, a, det_dot)
            + _det_bar_da(g, a, det, a_dot))


@adjoint(_det_bar)
def _(result, result_bar, g, a, det):
    return (unbroadcast(det * _mat_inner(result_bar, _inv_T(a)), g),
            _det_bar_adj_a(g, a, det, result_bar),
            unbroadcast(g * _mat_inner(result_bar, _inv_T(a)), det))


@tangent(_slogdet_bar)
def _(result, bars, a, bars_dot, a_dot):
    return _slogdet_bar(bars_dot, a) + _slogdet_bar_da(bars, a, a_dot)


@adjoint(_slogdet_bar)
def _(result, result_bar, bars, a):
    return _slogdet_bar_adj_g(bars, a, result_bar), _slogdet_bar_adj_a(bars, a, result_bar)


@tangent(_solve_cot)
def _(result, a, g, b, a_dot, g_dot):
    return _solve_cot_jvp(a, g, b, result, a_dot, g_dot)


@adjoint(_solve_cot)
def _(result, result_bar, a, g, b):
    return (_solve_cot_adj(a, g, b, result, result_bar, 0), _solve_cot_adj(a, g, b, result, result_bar, 1),
            None)


@tangent(_solve_bar_a)
def _(result, gb, a, b, x, gb_dot, x_dot):
    return _solve_bar_a(gb_dot, a, b, x) + _solve_bar_a(gb, a, b, _full(x_dot, x))


@adjoint(_solve_bar_a)
def _(result, result_bar, gb, a, b, x):
    return _solve_bar_a_adj(result_bar, gb, b, x, 0), None, None, _solve_bar_a_adj(result_bar, gb, b, x, 1)


linear(_solve_bar_b)


@adjoint(_solve_bar_b)
def _(result, result_bar, gb, b):
    return _solve_bar_b_T(result_bar, gb, b), None


def _inv_d_inv(a, d):
    """inv(a) @ d @ inv(a) (stacks of matrices)."""
    return np.linalg.solve(a, _full(d, a)) @ np.linalg.inv(a)


def _tr_solve(a, d):
    """trace(inv(a) @ d) per matrix."""
    return np.trace(np.linalg.solve(a, _full(d, a)), axis1=-2, axis2=-1)


# _det_jvp(a, d, det) = det * tr(inv(a) d): linear in d and det
@tangent(_det_jvp)
def _(result, a, d, det, a_dot, d_dot, det_dot):
    return (_det_jvp(a, d_dot, det) + det_dot * _tr_solve(a, d)
            - det * np.trace(np.linalg.solve(a, _full(a_dot, a)) @ np.linalg.solve(a, _full(d, a)),
                             axis1=-2, axis2=-1))


@adjoint(_det_jvp)
def _(result, result_bar, a, d, det):
    return (_scale_mat(-(result_bar * det), _T(_inv_d_inv(a, d))),
            _full_T(_det_bar(result_bar, a, det), d, a),
            unbroadcast(result_bar * _tr_solve(a, d), det))


def _slogdet_jvp_da(a, d, a_dot):
    return ListBar([0.0, -np.trace(np.linalg.solve(a, _full(a_dot, a)) @ np.linalg.solve(a, _full(d, a)),
                                   axis1=-2, axis2=-1)])


def _slogdet_jvp_adj_a(a, d, rbar):
    gl = _seq(rbar, 2)[1]
    if _zero(gl):
        return np.zeros(np.shape(a))
    return _scale_mat(-np.asarray(gl), _T(_inv_d_inv(a, d)))


@tangent(_slogdet_jvp)
def _(result, a, d, a_dot, d_dot):
    return _slogdet_jvp(a, d_dot) + _slogdet_jvp_da(a, d, a_dot)


@adjoint(_slogdet_jvp)
def _(result, result_bar, a, d):
    return _slogdet_jvp_adj_a(a, d, result_bar), _full_T(_slogdet_bar(result_bar, a), d, a)


# _solve_dot_a(a, d, b, x) = solve(a, d @ x): linear in d and x (b gives only the shape)
def _solve_dot_a_jvp(a, d, b, x, result, a_dot, d_dot, x_dot):
    t = -(_full(a_dot, a) @ _col(result, b)) if not _zero(a_dot) else 0.0
    if not _zero(d_dot):
        t = t + _full(d_dot, a) @ _col(x, b)
    if not _zero(x_dot):
        t = t + _full(d, a) @ _col(_bcast(x_dot, np.shape(x)), b)
    if _zero(t):
        return np.zeros(np.shape(result))
    return _uncol(np.linalg.solve(a, t * np.ones(np.shape(_col(result, b)))), b)


def _solve_dot_a_adj(a, d, b, x, result, rbar, which):
    """Adjoint of _solve_dot_a in a (which=0), d (1) or x (2)."""
    p = np.linalg.solve(_T(a), _col(_bcast(rbar, np.shape(result)), b))
    if which == 0:
        return unbroadcast(-(p @ _T(_col(result, b))), a)
    if which == 1:
        return _full_T(unbroadcast(p @ _T(_col(x, b)), a), d, a)
    return unbroadcast(_uncol(_T(_full(d, a)) @ p, b), x)


@tangent(_solve_dot_a)
def _(result, a, d, b, x, a_dot, d_dot, x_dot):
    return _solve_dot_a_jvp(a, d, b, x, result, a_dot, d_dot, x_dot)


@adjoint(_solve_dot_a)
def _(result, result_bar, a, d, b, x):
    return (_solve_dot_a_adj(a, d, b, x, result, result_bar, 0),
            _solve_dot_a_adj(a, d, b, x, result, result_bar, 1), None,
            _solve_dot_a_adj(a, d, b, x, result, result_bar, 2))


# _solve_dot_b(a, b, d) = solve(a, d): linear in d
def _solve_dot_b_da(a, b, result, a_dot):
    return _uncol(-np.linalg.solve(a, _full(a_dot, a) @ _col(result, b)), b)


def _solve_dot_b_adj(a, b, d, result, rbar, which):
    """Adjoint of _solve_dot_b in a (which=0) or d (1)."""
    p = np.linalg.solve(_T(a), _col(_bcast(rbar, np.shape(result)), b))
    if which == 0:
        return unbroadcast(-(p @ _T(_col(result, b))), a)
    return _full_T(_uncol(p, b), d, b)


@tangent(_solve_dot_b)
def _(result, a, b, d, a_dot, d_dot):
    return _solve_dot_b(a, b, d_dot) + _solve_dot_b_da(a, b, result, a_dot)


@adjoint(_solve_dot_b)
def _(result, result_bar, a, b, d):
    return _solve_dot_b_adj(a, b, d, result, result_bar, 0), None, _solve_dot_b_adj(a, b, d, result, result_bar, 1)


# Each helper below gets a tangent listing every argument that carries a
# derivative and an adjoint returning a contribution for each of them.  Most are
# multilinear (a product of adjoints, tangents and matrices): the tangent is the
# sum of the helper with one factor replaced by its tangent, the adjoint the
# transposed products.  Their own helpers (_prod_t3, _sinc_deriv3, _norm_core_*,
# ...) have no rules: a fourth derivative through them raises NoDerivativeRule.

def _mlin(fn, args, dots):
    """Tangent of fn, linear in each of args: sum of fn with one argument replaced by its tangent."""
    total = 0.0
    for k, d in enumerate(dots):
        if _zero(d):
            continue
        a = list(args)
        a[k] = d
        total = total + fn(*a)
    return total


# --- inv: trilinear helpers ---------------------------------------------------

def _inv_bar_adj_r_T(g, R, rb, B):
    """Adjoints of -(g R^T rb^T + rb^T R^T g) in (g, R, rb)."""
    g, R, rb, B = [_mat(y, R) for y in (g, R, rb, B)]
    return (-(B @ rb @ R + R @ rb @ B), -(_T(rb) @ _T(B) @ g + g @ _T(B) @ _T(rb)),
            -(_T(B) @ g @ _T(R) + _T(R) @ g @ _T(B)))


@tangent(_inv_bar_adj_r)
def _(result, g, inverse, rbar, g_dot, inverse_dot, rbar_dot):
    return _mlin(_inv_bar_adj_r, (_mat(g, inverse), inverse, _mat(rbar, inverse)),
                 (_mat(g_dot, inverse), _mat(inverse_dot, inverse), _mat(rbar_dot, inverse)))


@adjoint(_inv_bar_adj_r)
def _(result, result_bar, g, inverse, rbar):
    g_r_rbar = _inv_bar_adj_r_T(g, inverse, rbar, result_bar)
    return unbroadcast(g_r_rbar[0], g), g_r_rbar[1], unbroadcast(g_r_rbar[2], rbar)


def _inv_jvp_adj_r_T(d, R, rb, B):
    """Adjoints of -(rb R^T d^T + d^T R^T rb) in (d, R, rb)."""
    d, R, rb, B = [_mat(y, R) for y in (d, R, rb, B)]
    return (-(_T(B) @ rb @ _T(R) + _T(R) @ rb @ _T(B)), -(_T(d) @ _T(B) @ rb + rb @ _T(B) @ _T(d)),
            -(B @ d @ R + R @ d @ B))


@tangent(_inv_jvp_adj_r)
def _(result, d, inverse, rbar, d_dot, inverse_dot, rbar_dot):
    return _mlin(_inv_jvp_adj_r, (_mat(d, inverse), inverse, _mat(rbar, inverse)),
                 (_mat(d_dot, inverse), _mat(inverse_dot, inverse), _mat(rbar_dot, inverse)))


@adjoint(_inv_jvp_adj_r)
def _(result, result_bar, d, inverse, rbar):
    d_r_rbar = _inv_jvp_adj_r_T(d, inverse, rbar, result_bar)
    return unbroadcast(d_r_rbar[0], d), d_r_rbar[1], unbroadcast(d_r_rbar[2], rbar)


# --- det, slogdet: s * K(a, W) with K = -(inv(a)^T W^T inv(a)^T) ---------------

def _K(a, w):
    """-(inv(a)^T w^T inv(a)^T) = _inv_bar(w^T, inv(a))."""
    AiT = _inv_T(a)
    return -(AiT @ _T(_mat(w, a)) @ AiT)


def _K_da(a, w, a_dot):
    """Tangent of _K(a, w) in a."""
    AiT, W = _inv_T(a), _T(_mat(w, a))
    dAiT = -(AiT @ _T(_mat(a_dot, a)) @ AiT)
    return -(dAiT @ W @ AiT + AiT @ W @ dAiT)


def _K_T_a(a, w, B):
    """Adjoint of _K(a, w) in a for the cotangent B."""
    AiT, W, Bt = _inv_T(a), _T(_mat(w, a)), _T(_mat(B, a))
    return AiT @ W @ AiT @ Bt @ AiT + AiT @ Bt @ AiT @ W @ AiT


def _det_bar_adj_a_dot(g, a, det, rbar, g_dot, a_dot, det_dot, rbar_dot):
    s = g * det
    out = 0.0
    if not (_zero(g_dot) and _zero(det_dot)):
        out = out + _scale_mat(_full(g_dot, g) * det + g * _full(det_dot, det), _K(a, rbar))
    if not _zero(rbar_dot):
        out = out + _scale_mat(s, _K(a, rbar_dot))
    if not _zero(a_dot):
        out = out + _scale_mat(s, _K_da(a, rbar, a_dot))
    return np.zeros(np.shape(a)) if _zero(out) else out


@tangent(_det_bar_adj_a)
def _(result, g, a, det, rbar, g_dot, a_dot, det_dot, rbar_dot):
    return _det_bar_adj_a_dot(g, a, det, rbar, g_dot, a_dot, det_dot, rbar_dot)


@adjoint(_det_bar_adj_a)
def _(result, result_bar, g, a, det, rbar):
    return (unbroadcast(det * _mat_inner(result_bar, _K(a, rbar)), g),
            _scale_mat(g * det, _K_T_a(a, rbar, result_bar)),
            unbroadcast(g * _mat_inner(result_bar, _K(a, rbar)), det),
            unbroadcast(_det_bar_adj_a(g, a, det, result_bar), rbar))


def _slogdet_bar_adj_a_dot(result_bar, a, rbar, result_bar_dot, a_dot, rbar_dot):
    gl, gld = _seq(result_bar, 2)[1], _seq(result_bar_dot, 2)[1]
    out = 0.0
    if not _zero(gld):
        out = out + _scale_mat(gld, _K(a, rbar))
    if not _zero(gl) and not _zero(rbar_dot):
        out = out + _scale_mat(gl, _K(a, rbar_dot))
    if not _zero(gl) and not _zero(a_dot):
        out = out + _scale_mat(gl, _K_da(a, rbar, a_dot))
    return np.zeros(np.shape(a)) if _zero(out) else out


def _slogdet_bar_adj_a_T(result_bar, a, rbar, B):
    gl = _seq(result_bar, 2)[1]
    if _zero(B):
        return ListBar([0.0, 0.0]), 0.0, 0.0
    gl_bar = ListBar([0.0, _mat_inner(B, _K(a, rbar))])
    if _zero(gl):
        return gl_bar, 0.0, 0.0
    return gl_bar, _scale_mat(gl, _K_T_a(a, rbar, B)), _slogdet_bar_adj_a(result_bar, a, B)


@tangent(_slogdet_bar_adj_a)
def _(result, result_bar, a, rbar, result_bar_dot, a_dot, rbar_dot):
    return _slogdet_bar_adj_a_dot(result_bar, a, rbar, result_bar_dot, a_dot, rbar_dot)


@adjoint(_slogdet_bar_adj_a)
def _(result, out_bar, result_bar, a, rbar):
    gl_a_rbar = _slogdet_bar_adj_a_T(result_bar, a, rbar, out_bar)
    return gl_a_rbar[0], gl_a_rbar[1], gl_a_rbar[2]


# _inv_d_inv(a, d) = inv(a) d inv(a): linear in d
def _inv_d_inv_da(a, d, a_dot):
    Ai, D, dA = np.linalg.inv(a), _full(d, a), _mat(a_dot, a)
    return -(Ai @ dA @ Ai @ D @ Ai + Ai @ D @ Ai @ dA @ Ai)


def _inv_d_inv_T(a, d, B, which):
    """Adjoint of inv(a) d inv(a) in a (which=0) or d (1) for the cotangent B."""
    Ai, B = np.linalg.inv(a), _mat(B, a)
    AiT = _T(Ai)
    if which == 1:
        return _full_T(AiT @ B @ AiT, d, a)
    M = Ai @ _full(d, a) @ Ai
    return -(AiT @ B @ _T(M) + _T(M) @ B @ AiT)


@tangent(_inv_d_inv)
def _(result, a, d, a_dot, d_dot):
    return _inv_d_inv(a, d_dot) + _inv_d_inv_da(a, d, a_dot)


@adjoint(_inv_d_inv)
def _(result, result_bar, a, d):
    return _inv_d_inv_T(a, d, result_bar, 0), _inv_d_inv_T(a, d, result_bar, 1)


# _slogdet_jvp_adj_a(a, d, rbar) = -gl (inv(a) d inv(a))^T, gl = rbar[1]
def _slogdet_jvp_adj_a_dot(a, d, rbar, a_dot, d_dot, rbar_dot):
    gl, gld = _seq(rbar, 2)[1], _seq(rbar_dot, 2)[1]
    out = 0.0
    if not _zero(gld):
        out = out + _scale_mat(-np.asarray(gld), _T(_inv_d_inv(a, d)))
    if not _zero(gl):
        if not _zero(d_dot):
            out = out + _scale_mat(-np.asarray(gl), _T(_inv_d_inv(a, d_dot)))
        if not _zero(a_dot):
            out = out + _scale_mat(-np.asarray(gl), _T(_inv_d_inv_da(a, d, a_dot)))
    return np.zeros(np.shape(a)) if _zero(out) else out


def _slogdet_jvp_adj_a_T(a, d, rbar, B):
    gl = _seq(rbar, 2)[1]
    if _zero(B):
        return 0.0, 0.0, ListBar([0.0, 0.0])
    Bt = _T(_mat(B, a))
    r_bar = ListBar([0.0, -_mat_inner(Bt, _inv_d_inv(a, d))])
    if _zero(gl):
        return 0.0, 0.0, r_bar
    Bs = _scale_mat(-np.asarray(gl), Bt)
    return _inv_d_inv_T(a, d, Bs, 0), _inv_d_inv_T(a, d, Bs, 1), r_bar


@tangent(_slogdet_jvp_adj_a)
def _(result, a, d, rbar, a_dot, d_dot, rbar_dot):
    return _slogdet_jvp_adj_a_dot(a, d, rbar, a_dot, d_dot, rbar_dot)


@adjoint(_slogdet_jvp_adj_a)
def _(result, result_bar, a, d, rbar):
    a_d_rbar = _slogdet_jvp_adj_a_T(a, d, rbar, result_bar)
    return a_d_rbar[0], a_d_rbar[1], a_d_rbar[2]


# --- solve ----------------------------------------------------------------------

def _solve_bar_a_adj_dot(rbar, gb, b, x, which, rbar_dot, gb_dot, x_dot):
    """Tangent of _solve_bar_a_adj: bilinear in (rbar, x) (which=0) or (rbar, gb) (which=1)."""
    if which == 0:
        return _mlin(lambda r, y: _solve_bar_a_adj(r, gb, b, y, 0), (rbar, x),
                     (0.0 if _zero(rbar_dot) else rbar_dot, 0.0 if _zero(x_dot) else _full(x_dot, x)))
    return _mlin(lambda r, y: _solve_bar_a_adj(r, y, b, x, 1), (rbar, gb),
                 (0.0 if _zero(rbar_dot) else rbar_dot, 0.0 if _zero(gb_dot) else _full(gb_dot, gb)))


def _solve_bar_a_adj_T(rbar, gb, b, x, which, B):
    """Adjoints of _solve_bar_a_adj in (rbar, gb, x) for the cotangent B."""
    if _zero(B):
        return 0.0, 0.0, 0.0
    xc = _col(x, b)
    if which == 0:              # F = -(rbar @ xc), shaped like gb
        Bm = _bcast(B, np.shape(gb)) if np.ndim(B) < np.ndim(gb) else B
        return (unbroadcast(-(Bm @ _T(xc)), rbar), 0.0,
                unbroadcast(_uncol(-(_T(rbar) @ Bm), b), x))
    Bc = _col(_bcast(B, np.shape(x)), b)    # F = -(rbar^T gb), shaped like x
    return unbroadcast(-(gb @ _T(Bc)), rbar), unbroadcast(-(rbar @ Bc), gb), 0.0


@tangent(_solve_bar_a_adj)
def _(result, rbar, gb, b, x, which, rbar_dot, gb_dot, x_dot):
    return _solve_bar_a_adj_dot(rbar, gb, b, x, which, rbar_dot, gb_dot, x_dot)


@adjoint(_solve_bar_a_adj)
def _(result, result_bar, rbar, gb, b, x, which):
    r_gb_x = _solve_bar_a_adj_T(rbar, gb, b, x, which, result_bar)
    return r_gb_x[0], r_gb_x[1], None, r_gb_x[2], None


def _solve_dot_a_adj_parts(a, d, b, x, result, which, rbar, x_or_result, d_):
    """out of _solve_dot_a_adj from p = solve(a^T, col(rbar)) and the other factor."""
    p = np.linalg.solve(_T(a), _col(_bcast(rbar, np.shape(result)), b))
    if which == 0:
        return -(p @ _T(_col(x_or_result, b)))
    if which == 1:
        return p @ _T(_col(x_or_result, b))
    return _uncol(_T(_full(d_, a)) @ p, b)


def _solve_dot_a_adj_dot(a, d, b, x, result, rbar, which, a_dot, d_dot, x_dot, result_dot, rbar_dot):
    """Tangent of _solve_dot_a_adj (p = solve(a^T, rbar) moves with a and rbar)."""
    R = _col(_mat(rbar, result), b)
    p = np.linalg.solve(_T(a), R)
    dR = _col(_mat(rbar_dot, result), b)
    if not _zero(a_dot):
        dR = dR - _T(_mat(a_dot, a)) @ p
    dp = np.linalg.solve(_T(a), dR)
    if which == 0:
        Y, dY = _col(result, b), _col(_mat(result_dot, result), b)
        return unbroadcast(-(dp @ _T(Y) + p @ _T(dY)), a)
    if which == 1:
        X, dX = _col(x, b), _col(_mat(x_dot, x), b)
        return _full_T(unbroadcast(dp @ _T(X) + p @ _T(dX), a), d, a)
    if which == 3:                 # p itself (_solve_dot_b_adj in d)
        return _full_T(_uncol(dp, b), d, b)
    D, dD = _full(d, a), _mat(d_dot, a)
    return unbroadcast(_uncol(_T(dD) @ p + _T(D) @ dp, b), x)


def _solve_dot_a_adj_T(a, d, b, x, result, rbar, which, B):
    """Adjoints of _solve_dot_a_adj in (a, d, x, result, rbar) for the cotangent B."""
    if _zero(B):
        return 0.0, 0.0, 0.0, 0.0, 0.0
    R = _col(_mat(rbar, result), b)
    p = np.linalg.solve(_T(a), R)
    zero = [0.0] * 5
    if which == 0:
        Bm, Y = _mat(B, a), _col(result, b)
        p_bar = -(Bm @ Y)
        zero[3] = unbroadcast(_uncol(-(_T(Bm) @ p), b), result)
    elif which == 1:
        Bm, X = _mat(B, a), _col(x, b)
        p_bar = Bm @ X
        zero[2] = unbroadcast(_uncol(_T(Bm) @ p, b), x)
    elif which == 3:
        p_bar = _col(_bcast(B, np.shape(result)), b)
    else:
        Bc, D = _col(_mat(B, x), b), _full(d, a)
        p_bar = D @ Bc
        zero[1] = _full_T(unbroadcast(p @ _T(Bc), a), d, a)
    R_bar = np.linalg.solve(a, p_bar)
    zero[0] = unbroadcast(-(p @ _T(R_bar)), a)
    zero[4] = unbroadcast(_uncol(R_bar, b), rbar)
    return tuple(zero)


@tangent(_solve_dot_a_adj)
def _(result, a, d, b, x, sol, rbar, which, a_dot, d_dot, x_dot, sol_dot, rbar_dot):
    return _solve_dot_a_adj_dot(a, d, b, x, sol, rbar, which, a_dot, d_dot, x_dot, sol_dot, rbar_dot)


@adjoint(_solve_dot_a_adj)
def _(result, result_bar, a, d, b, x, sol, rbar, which):
    a_d_x_sol_rbar = _solve_dot_a_adj_T(a, d, b, x, sol, rbar, which, result_bar)
    return (a_d_x_sol_rbar[0], a_d_x_sol_rbar[1], None, a_d_x_sol_rbar[2], a_d_x_sol_rbar[3],
            a_d_x_sol_rbar[4], None)


# _solve_dot_b_adj(a, b, d, result, rbar, which): -(p result^T) (which=0) or p (1), p = solve(a^T, rbar)
@tangent(_solve_dot_b_adj)
def _(result, a, b, d, sol, rbar, which, a_dot, sol_dot, rbar_dot):
    return _solve_dot_a_adj_dot(a, d, b, sol, sol, rbar, 0 if which == 0 else 3, a_dot, 0.0, 0.0, sol_dot,
                                rbar_dot)


@adjoint(_solve_dot_b_adj)
def _(result, result_bar, a, b, d, sol, rbar, which):
    a_d_x_sol_rbar = _solve_dot_a_adj_T(a, d, b, sol, sol, rbar, 0 if which == 0 else 3, result_bar)
    return a_d_x_sol_rbar[0], None, None, a_d_x_sol_rbar[3], a_d_x_sol_rbar[4], None


def _solve_bar_b_T_T(result_bar, rbar, gb, b):
    """Adjoint of _solve_bar_b_T(rbar, gb, b) in rbar."""
    if _zero(result_bar):
        return 0.0
    return unbroadcast(_uncol(_bcast(result_bar, np.shape(gb)), b), rbar)


linear(_solve_bar_b_T)


@adjoint(_solve_bar_b_T)
def _(result, result_bar, rbar, gb, b):
    return _solve_bar_b_T_T(result_bar, rbar, gb, b), None, None


@tangent(_inv_T)
def _(result, a, a_dot):
    return -_T(np.linalg.inv(a) @ _mat(a_dot, a) @ np.linalg.inv(a))


@adjoint(_inv_T)
def _(result, result_bar, a):
    return _inv_bar(_T(_mat(result_bar, a)), np.linalg.inv(a))


# _mat_inner(r, m) = sum(r * m) per matrix and _scale_mat(s, m) = s * m per matrix: bilinear
@tangent(_mat_inner)
def _(result, r, m, r_dot, m_dot):
    return _mat_inner(r_dot, m) + _mat_inner(r, m_dot)


@adjoint(_mat_inner)
def _(result, result_bar, r, m):
    return unbroadcast(_scale_mat(result_bar, m), r), unbroadcast(_scale_mat(result_bar, r), m)


@tangent(_scale_mat)
def _(result, s, m, s_dot, m_dot):
    return _scale_mat(s_dot, m) + _scale_mat(s, m_dot)


@adjoint(_scale_mat)
def _(result, result_bar, s, m):
    return unbroadcast(_mat_inner(result_bar, m), s), unbroadcast(_scale_mat(s, result_bar), m)


# _solve_cot_adj(a, g, b, result, rbar, which): p = solve(a, rbar); -(result p^T) (which=0) or p (1)
def _solve_cot_adj_dot(a, g, b, result, rbar, which, a_dot, result_dot, rbar_dot):
    R = _mat(rbar, result)
    p = np.linalg.solve(a, R)
    dR = _mat(rbar_dot, result)
    if not _zero(a_dot):
        dR = dR - _mat(a_dot, a) @ p
    dp = np.linalg.solve(a, dR)
    if which == 1:
        return unbroadcast(dp[..., 0] if np.ndim(b) == 1 else dp, g)
    return unbroadcast(-(_mat(result_dot, result) @ _T(p) + result @ _T(dp)), a)


def _solve_cot_adj_T(a, g, b, result, rbar, which, B):
    """Adjoints of _solve_cot_adj in (a, result, rbar) for the cotangent B."""
    if _zero(B):
        return 0.0, 0.0, 0.0
    p = np.linalg.solve(a, _mat(rbar, result))
    Y_bar = 0.0
    if which == 1:
        p_bar = _bcast(_col(B, b) if np.ndim(b) == 1 else B, np.shape(p))
    else:
        Bm = _mat(B, a)
        p_bar = -(_T(Bm) @ result)
        Y_bar = -(Bm @ p)
    R_bar = np.linalg.solve(_T(a), p_bar)
    return unbroadcast(-(R_bar @ _T(p)), a), Y_bar, unbroadcast(R_bar, rbar)


@tangent(_solve_cot_adj)
def _(result, a, g, b, sol, rbar, which, a_dot, sol_dot, rbar_dot):
    return _solve_cot_adj_dot(a, g, b, sol, rbar, which, a_dot, sol_dot, rbar_dot)


@adjoint(_solve_cot_adj)
def _(result, result_bar, a, g, b, sol, rbar, which):
    a_sol_rbar = _solve_cot_adj_T(a, g, b, sol, rbar, which, result_bar)
    return a_sol_rbar[0], None, None, a_sol_rbar[1], a_sol_rbar[2], None


# _tr_solve(a, d) = trace(inv(a) d): linear in d
@tangent(_tr_solve)
def _(result, a, d, a_dot, d_dot):
    return _tr_solve(a, d_dot) - np.trace(_inv_d_inv(a, d) @ _mat(a_dot, a), axis1=-2, axis2=-1)


@adjoint(_tr_solve)
def _(result, result_bar, a, d):
    return (_scale_mat(-np.asarray(result_bar), _T(_inv_d_inv(a, d))),
            _full_T(_scale_mat(result_bar, _inv_T(a)), d, a))


@tangent(_inv_jvp_T)
def _(result, g, inverse, g_dot, inverse_dot):
    return _inv_jvp_T(g_dot, inverse) + _inv_bar_dr(_mat(g, inverse), inverse, inverse_dot)


@adjoint(_inv_jvp_T)
def _(result, result_bar, g, inverse):
    return unbroadcast(_inv_bar(result_bar, _T(inverse)), g), _inv_bar_adj_r(g, inverse, result_bar)
