"""Higher-order rules for the helpers that generated derivative code calls.

Gradient code calls the adjoint helpers of the rule library (``_var_bar``,
``_dot_bar_a``, ``_cumsum_bar``, ``_norm_bar``, ``_inv_bar``...; see
numpy_rules.py, builtins_rules.py, operators.py) and tangent code calls their
``_*_jvp`` / ``_*_dot`` helpers.  ``diffc.hessian`` (forward over reverse),
``jacobian(grad(f))`` (reverse over reverse) and ``grad(jacobian(f,
mode="forward"))`` (reverse over forward) differentiate that generated code
again, so this module gives those helpers an adjoint rule and a tangent rule,
or registers them ``nondiff`` when their result carries no derivative
(weights, permutations, masks, axes, shapes, selectors: piecewise constant).

Invariant: every helper generated code calls is differentiable again or
nondiff; a helper without rules makes diffc raise NoDerivativeRule naming it
(never a silently wrong derivative).  Two traps the rules below avoid:

* a tangent rule must list a ``<p>_dot`` for EVERY parameter that can carry a
  derivative (the forward pass silently treats an unlisted active argument
  as constant), and an adjoint rule must return a real contribution for each
  of them (``None`` means "no derivative"): ``_var_bar(g, a, ...)`` is
  bilinear in ``g`` and ``a``, ``_dot_bar_a(g, a, b)`` depends on ``g`` and
  ``b``, ``_norm_bar(g, x, ..., result)`` on ``g``, ``x`` and ``result``;
* the rules' own parameter names never have the form ``<other param>_dot``
  unless they are that parameter's tangent, so a helper parameter called
  ``a_dot`` is renamed (``d``) in the rules.

Most adjoint helpers are linear in the incoming adjoint ``g``: their tangent
in ``g`` is the helper applied to ``g_dot`` and their adjoint in ``g`` is the
transposed helper (usually the primal operation or its ``_jvp`` helper).
Reverse over forward differentiates the ``_*_jvp``/``_*_dot`` helpers of
forward code (``_cumprod_jvp``, ``_det_jvp``, ``_slogdet_jvp``, ``_solve_dot_a``,
``_solve_dot_b``, ``ListBar`` of np.split's tangent, ...): their rules are at the
end of this module, with those of ``_cholesky_*``, ``_eigh_*``, ``_eigvalsh_*``
(derivatives through the eigen-decomposition, distinct eigenvalues),
``_lstsq_*`` (pseudo-inverse of constant rank and thin SVD with distinct
singular values; adjoints assembled as transposes of the tangents, exact,
O(size) tangent evaluations) and ``_atleast_*``.  Third derivatives differentiate
the private helpers of those rules once more: the last sections give rules to
those of prod, norm, inv, det, slogdet, solve, power, sinc, atleast, cumprod and
einsum (``_prod_hvp``, ``_norm_bar_adj``, ``_inv_bar_adj_r``, ...).  The helpers of
the cholesky, eigh and lstsq rules (``_cholesky_bar_adj``, ``_eigh_bar_adj``,
``_lstsq_bar_adj``...) and the helpers of the third-order rules themselves have
none: a derivative through them raises NoDerivativeRule naming the helper.
"""

import numpy as np

from . import adjoint, nondiff, tangent
from . import numpy_rules as N
from . import builtins_rules as B
from ..runtime import ListBar, unbroadcast, broadcast_like, is_duck_array
from .numpy_rules import (_T, _arr, _bcast, _full, _unreduce, _norm_axes, _zero, _like, _prod_others,
                          _cumprod_terms, _norm_setup, _einsum_parse, _einsum_bar_one,
                          _mean_bar, _mean_jvp, _var_bar, _var_jvp, _prod_bar, _prod_jvp,
                          _extreme_bar, _extreme_jvp, _cumsum_bar, _cumprod_bar, _norm_bar, _norm_jvp,
                          _dot_bar_a, _dot_bar_b, _outer_bar, _inner_bar, _tensordot_bar, _einsum_bars,
                          _einsum_jvp, _transpose_bar, _transpose_jvp, _concat_bar, _concat_jvp,
                          _stack_bar, _stack_jvp, _stacked_bar, _split_bar, _tile_bar, _repeat_bar,
                          _roll_bar, _pad_bar, _pad_cv_bar, _pad_cv_jvp, _diag_bar, _diagonal_bar,
                          _trace_bar, _diff_bar, _where_bar, _where_not_bar, _clip_bar_a, _clip_bar_lo,
                          _clip_bar_hi, _clip_jvp_lo, _clip_jvp_hi, _clip_pass, _real_bar, _astype_bar,
                          _astype_jvp, _array_bar, _array_jvp, _copy_jvp, _fill_jvp, _cast_like,
                          _sort_bar, _sort_jvp, _take_bar, _take_along_bar, _item_bar, _item_jvp,
                          _inv_bar, _inv_jvp, _det_bar, _slogdet_bar, _solve_cot, _solve_bar_a,
                          _solve_bar_b, _safe_div, _power_dx1, _power_dx2, _linspace_bar, _linspace_jvp,
                          _dense_list)
from .operators import _matmul_bar_a, _matmul_bar_b, pow_dxk
from .builtins_rules import _extremum_bars, _sum_bars, _sum_dot, _sequence_bar, _sequence_dot

# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(N._max_weight, N._min_weight, N._fmax_weight, N._fmin_weight, N._clip_bounds, N._clip_pass,
        N._extreme_weights, N._sort_perm, N._norm_axes, N._shape_arg, N._axes_arg, N._ddof,
        N._split_axis, N._count, N._pad_widths, N._diag_len, N._eig_gaps, N._linspace_weights,
        N._split_ties, N._norm_setup, N._tensordot_subscripts, N._einsum_parse, N._eye_like)


# ---------------------------------------------------------------------------
# helpers of the rules below (plain numpy)
# ---------------------------------------------------------------------------

def _seq(r, n):
    """An adjoint of an n-tuple as a list (0.0 for the symbolic zero)."""
    if _zero(r):
        return [0.0] * n
    return list(r)


def _prod_hvp(a, v, axis):
    """H v for the Hessian H of prod(a, axis) (one block per reduction):
    out_i = sum_{j != i} v_j prod_{k != i, j} a_k; exact with zeros (no writes in place:
    Dask and other dispatching arrays stay in their library)."""
    if np.ndim(a) == 0:
        a = _arr(a)
        return np.zeros_like(a, dtype=np.result_type(a.dtype, np.float64))
    t, (vt,), back = _prod_last(a, axis, v)
    return back(_prod_hvp_last(t, vt))


def _cumprod_parts(g, a, axis, result):
    """(g, a, result) with the cumulated axis last, and a function putting it back."""
    x, back = _cumprod_terms(a, axis)
    if not np.all(x != 0):
        raise NotImplementedError("diffc: second derivative of cumprod at an argument with zeros "
                                  "is not supported")
    g = _bcast(g, np.shape(result))
    gm = np.moveaxis(g, axis, -1) if axis is not None else np.ravel(g)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    return gm, x, rm, back


def _rcumsum(y):
    return np.flip(np.cumsum(np.flip(y, -1), axis=-1), -1)


def _cumprod_bar_jvp(g, a, axis, result, g_dot, a_dot, result_dot):
    """Tangent of _cumprod_bar = rcumsum(g * result) / a (a without zeros)."""
    gm, x, rm, back = _cumprod_parts(g, a, axis, result)
    out = 0.0
    if not _zero(g_dot):
        out = out + _rcumsum(_cumprod_parts(g_dot, a, axis, result)[0] * rm) / x
    if not _zero(result_dot):
        out = out + _rcumsum(gm * _cumprod_parts(result_dot, a, axis, result)[0]) / x
    if not _zero(a_dot):
        d = _full(a_dot, a)
        dm = np.moveaxis(d, axis, -1) if axis is not None else np.ravel(d)
        out = out - _rcumsum(gm * rm) * dm / (x * x)
    if _zero(out):
        return np.zeros(np.shape(a))
    return np.reshape(back(out), np.shape(a))


def _cumprod_bar_adj(g, a, axis, result, rbar, which):
    """Adjoint of _cumprod_bar in g (which=0), a (1) or result (2)."""
    gm, x, rm, back = _cumprod_parts(g, a, axis, result)
    r = np.asarray(_bcast(rbar, np.shape(a)))
    rmv = np.moveaxis(r, axis, -1) if axis is not None else np.ravel(r)
    if which == 1:
        return np.reshape(back(-rmv * _rcumsum(gm * rm) / (x * x)), np.shape(a))
    c = np.cumsum(rmv / x, axis=-1)
    out = back(c * (rm if which == 0 else gm))
    return unbroadcast(np.reshape(out, np.shape(result)), g if which == 0 else result)


def _norm_kind(x, ord, axis):
    axes, matrix = _norm_setup(x, ord, axis)
    if matrix and ord in (None, "fro", "f"):
        return axes, "2"
    if matrix and ord in (1, -1, np.inf, -np.inf):
        return axes, "flat"
    if matrix:
        raise NotImplementedError(f"diffc: no second derivative for the matrix norm ord={ord!r}")
    if ord is None or ord == 2 or ord == "fro":
        return axes, "2"
    if ord in (1, np.inf, -np.inf, 0):
        return axes, "flat"                       # piecewise linear: zero second derivative
    return axes, "p"


def _norm_bar_parts(g, x, ord, axis, keepdims, result):
    """(G, x, r, p, axes, kind): unreduced g and result, for d norm_grad."""
    x = np.asarray(x, dtype=np.result_type(x, np.float64))
    axes, kind = _norm_kind(x, ord, axis)
    G = _unreduce(g, x, axes, keepdims)
    r = _unreduce(result, x, axes, keepdims)
    p = 2.0 if kind != "p" else float(ord)
    return G, x, r, p, axes, kind


def _norm_grad_dx(x, r, p, kind):
    """d norm_grad / d x (elementwise diagonal), with 0 where r == 0."""
    if kind == "flat":
        return np.zeros(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (p - 1.0) * np.abs(x) ** (p - 2.0) / r ** (p - 1.0)
    return np.where(np.isfinite(d) & (r != 0), d, 0.0)


def _norm_grad_dr(x, r, p, kind):
    """d norm_grad / d result, with 0 where r == 0."""
    if kind == "flat":
        return np.zeros(x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = -(p - 1.0) * np.sign(x) * np.abs(x) ** (p - 1.0) / r ** p
    return np.where(np.isfinite(d) & (r != 0), d, 0.0)


def _norm_bar_jvp(g, x, ord, axis, keepdims, result, x_dot, result_dot):
    """The part of _norm_bar's tangent from x and result (g fixed)."""
    G, xa, r, p, axes, kind = _norm_bar_parts(g, x, ord, axis, keepdims, result)
    out = np.zeros(xa.shape)
    if not _zero(x_dot):
        out = out + G * _norm_grad_dx(xa, r, p, kind) * _full(x_dot, x)
    if not _zero(result_dot):
        out = out + G * _norm_grad_dr(xa, r, p, kind) * _unreduce(result_dot, xa, axes, keepdims)
    return _like(out, x)


def _norm_bar_adj(g, x, ord, axis, keepdims, result, rbar, which):
    """Adjoint of _norm_bar in x (which=1) or result (which=2)."""
    G, xa, r, p, axes, kind = _norm_bar_parts(g, x, ord, axis, keepdims, result)
    if which == 1:
        return _like(G * _norm_grad_dx(xa, r, p, kind) * rbar, x)
    t = np.sum(G * _norm_grad_dr(xa, r, p, kind) * rbar, axis=axes, keepdims=keepdims)
    return unbroadcast(t, result)


def _norm_jvp_jvp(x, d, ord, axis, keepdims, result, x_dot, result_dot):
    """The part of _norm_jvp's tangent from x and result (d fixed)."""
    ones = np.ones(np.shape(result))
    return np.sum(_full(d, x) * _norm_bar_jvp(ones, x, ord, axis, keepdims, result, x_dot, result_dot),
                  axis=_norm_setup(x, ord, axis)[0], keepdims=keepdims)


def _einsum_bars_jvp(g, subscripts, operands, g_dot, operands_dot):
    """Tangent of _einsum_bars (a tuple (None, bar per operand)): multilinear in g and operands."""
    n = len(operands)
    dots = _seq(operands_dot, n)
    ins, out = _einsum_parse(subscripts, operands)
    bars = [0.0] * n
    for i in range(n):
        t = 0.0
        if not _zero(g_dot):
            t = t + _einsum_bar_one(g_dot, ins, out, operands, i)
        if not _zero(g):
            for j in range(n):
                if j != i and not _zero(dots[j]):
                    ops = list(operands)
                    ops[j] = _full(dots[j], operands[j])
                    t = t + _einsum_bar_one(g, ins, out, ops, i)
        bars[i] = t
    return (0.0,) + tuple(bars)


def _einsum_bars_adj_g(g, subscripts, operands, rbar):
    r = _seq(rbar, len(operands) + 1)[1:]
    return unbroadcast(_einsum_jvp(subscripts, operands, r), g)


def _einsum_bars_adj_ops(g, subscripts, operands, rbar):
    """Adjoint of _einsum_bars in its operands (a ListBar, one entry per operand)."""
    n = len(operands)
    r = _seq(rbar, n + 1)[1:]
    ins, out = _einsum_parse(subscripts, operands)
    bars = [0.0] * n
    if _zero(g):
        return ListBar(bars)
    for i in range(n):
        if _zero(r[i]):
            continue
        ops = list(operands)
        ops[i] = _full(r[i], operands[i])
        for j in range(n):
            if j != i:
                bars[j] = bars[j] + _einsum_bar_one(g, ins, out, ops, j)
    return ListBar(bars)


def _einsum_jvp_jvp(subscripts, operands, d, operands_dot, d_dot):
    """Tangent of _einsum_jvp(subscripts, operands, d): multilinear in operands and d."""
    n = len(operands)
    d = _seq(d, n)
    od = _seq(operands_dot, n)
    dd = _seq(d_dot, n)
    total = _einsum_jvp(subscripts, operands, dd)
    for i in range(n):
        if _zero(d[i]):
            continue
        for j in range(n):
            if j != i and not _zero(od[j]):
                ops = list(operands)
                ops[i] = _full(d[i], operands[i])
                ops[j] = _full(od[j], operands[j])
                total = total + np.einsum(subscripts, *ops)
    return total


def _restack(rbar, tup, kind):
    """Adjoint of _stacked_bar in g: the pieces' adjoints stacked again."""
    return getattr(np, kind)(_dense_list(tup, _seq(rbar, len(tup))))


def _unstack(rbar, g, axis):
    """Adjoint of _stack_bar(g, axis) in g."""
    shape = np.moveaxis(np.empty(np.shape(g), dtype=bool), axis, 0).shape[1:]
    n = np.shape(g)[axis % np.ndim(g)]
    pieces = [np.zeros(shape) if _zero(r) else _bcast(r, shape) for r in _seq(rbar, n)]
    return np.stack(pieces, axis=axis)


def _split_like(rbar, result, axis):
    """Adjoint of _split_bar in its list of adjoints: rbar cut like result."""
    sizes = [np.shape(r)[axis] for r in result]
    return ListBar(np.split(rbar, np.cumsum(sizes)[:-1], axis=axis))


def _pad_T(rbar, pad_width, mode):
    """Adjoint of _pad_bar in g: np.pad is the gather whose transpose _pad_bar is."""
    if mode in ("constant", "empty"):
        return np.pad(rbar, pad_width, mode="constant")
    return np.pad(rbar, pad_width, mode=mode)


def _pad_cv_T(rbar, array, pad_width):
    """Adjoint of _pad_cv_bar in g: rbar on the padding, 0 inside."""
    return rbar - np.pad(rbar * np.ones(np.shape(array)), pad_width, mode="constant")


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


def _power_dx1_dx2(x1, x2):
    """d/dx2 of _power_dx1 = x1**(x2-1) * (1 + x2 log x1) (log taken as 0 where x1 <= 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.power(x1, np.subtract(x2, 1.0))
        d = p + x2 * _power_dx2(p, x1)
    return d


def _extremum_bars_T(result, args, rbar):
    """Adjoint of _extremum_bars in g: the adjoint of the selected entry."""
    if len(args) == 1:
        r = _seq(rbar, 1)[0]
        items = list(args[0])
        r = _seq(r, len(items))
    else:
        items = list(args)
        r = _seq(rbar, len(items))
    for v, rk in zip(items, r):
        if v == result:
            return rk
    return 0.0


def _extremum_dot_jvp(result, args_and_dots, args_and_dots_dot):
    n = len(args_and_dots) // 2
    dd = _seq(args_and_dots_dot, 2 * n)
    return _extremum_dot(result, tuple(args_and_dots[:n]) + tuple(dd[n:]))


def _extremum_dot_T(result, args_and_dots, rbar):
    n = len(args_and_dots) // 2
    args = args_and_dots[:n]
    bars = [0.0] * (2 * n)
    if n == 1:
        inner = [0.0] * len(args[0])
        for k, v in enumerate(args[0]):
            if v == result:
                inner[k] = rbar
                break
        bars[1] = ListBar(inner)
        return ListBar(bars)
    for k, v in enumerate(args):
        if v == result:
            bars[n + k] = rbar
            break
    return ListBar(bars)


def _sum_bars_T(rbar, g, items):
    total = 0.0
    for r in _seq(rbar, len(items)):
        total = total + r
    return unbroadcast(broadcast_like(total, g) if np.ndim(total) < np.ndim(g) else total, g)


def _dense_list_T(rbar, arrays, d):
    """Adjoint of _dense_list(arrays, d) in d."""
    return ListBar(_full_T(r, di, x) for r, di, x in zip(_seq(rbar, len(arrays)), d, arrays))


def _full_T(rbar, d, x):
    """Adjoint of _full(d, x) in d."""
    if isinstance(x, (list, tuple)) and isinstance(d, (list, tuple)):
        return _like(rbar, x)
    return unbroadcast(rbar, d)


from .builtins_rules import _extremum_dot  # noqa: E402


# ---------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------

@tangent(N._mean_bar)
def _(result, g, a, axis, keepdims, g_dot):
    return _mean_bar(_full(g_dot, g), a, axis, keepdims)


@adjoint(N._mean_bar)
def _(result, result_bar, g, a, axis, keepdims):
    return unbroadcast(_mean_jvp(a, result_bar, axis, keepdims), g), None, None, None


@tangent(N._mean_jvp)
def _(result, a, d, axis, keepdims, d_dot):
    return _mean_jvp(a, d_dot, axis, keepdims)


@adjoint(N._mean_jvp)
def _(result, result_bar, a, d, axis, keepdims):
    return None, _full_T(_mean_bar(result_bar, a, axis, keepdims), d, a), None, None


# var/std: _var_bar(g, a, ...) = unreduce(g) / (2 scale) * (2/n) * (a - mean(a)) is linear in g,
# linear in a (centering commutes with a factor constant along the reduced axes), 1/scale in scale.
@tangent(N._var_bar)
def _(result, g, a, axis, ddof, keepdims, scale, g_dot, a_dot, scale_dot):
    return (_var_bar(_full(g_dot, g), a, axis, ddof, keepdims, scale)
            + _var_bar(g, _full(a_dot, a), axis, ddof, keepdims, scale)
            - _var_bar(N._div_or_zero(g * scale_dot, scale), a, axis, ddof, keepdims, scale))


@adjoint(N._var_bar)
def _(result, result_bar, g, a, axis, ddof, keepdims, scale):
    return (unbroadcast(_var_jvp(a, result_bar, axis, ddof, keepdims, scale), g),
            _var_bar(g, result_bar, axis, ddof, keepdims, scale), None, None, None,
            unbroadcast(N._div_or_zero(-_var_jvp(a, result_bar, axis, ddof, keepdims, scale) * g, scale),
                        scale))


# _var_jvp(a, d, ...) = sum(d * centered(a)) * (2/n) / (2 scale): symmetric bilinear in (a, d).
@tangent(N._var_jvp)
def _(result, a, d, axis, ddof, keepdims, scale, a_dot, d_dot, scale_dot):
    return (_var_jvp(_full(a_dot, a), d, axis, ddof, keepdims, scale)
            + _var_jvp(a, d_dot, axis, ddof, keepdims, scale)
            - N._div_or_zero(result * scale_dot, scale))


@adjoint(N._var_jvp)
def _(result, result_bar, a, d, axis, ddof, keepdims, scale):
    return (_var_bar(result_bar, _full(d, a), axis, ddof, keepdims, scale),
            _full_T(_var_bar(result_bar, a, axis, ddof, keepdims, scale), d, a), None, None, None,
            unbroadcast(N._div_or_zero(-result_bar * result, scale), scale))


@tangent(N._prod_bar)
def _(result, g, a, axis, keepdims, g_dot, a_dot):
    return (_prod_bar(_full(g_dot, g), a, axis, keepdims)
            + _like(_unreduce(g, a, axis, keepdims) * _prod_hvp(a, _full(a_dot, a), axis), a))


@adjoint(N._prod_bar)
def _(result, result_bar, g, a, axis, keepdims):
    return (unbroadcast(_prod_jvp(a, result_bar, axis, keepdims), g),
            _like(_prod_hvp(a, _full(result_bar, a) * _unreduce(g, a, axis, keepdims), axis), a),
            None, None)


@tangent(N._prod_jvp)
def _(result, a, d, axis, keepdims, a_dot, d_dot):
    return (_prod_jvp(a, d_dot, axis, keepdims)
            + np.sum(_full(d, a) * _prod_hvp(a, _full(a_dot, a), axis), axis=axis, keepdims=keepdims))


@adjoint(N._prod_jvp)
def _(result, result_bar, a, d, axis, keepdims):
    return (_prod_hvp(a, _full(d, a) * _unreduce(result_bar, a, axis, keepdims), axis),
            _full_T(_prod_bar(result_bar, a, axis, keepdims), d, a), None, None)


# max/min: the weights are piecewise constant in a and result (tangent in g: syntax.py)
@adjoint(N._extreme_bar)
def _(result, result_bar, g, a, axis, keepdims, extreme):
    return unbroadcast(_extreme_jvp(a, result_bar, axis, keepdims, extreme), g), None, None, None, None


@tangent(N._extreme_jvp)
def _(result, a, d, axis, keepdims, extreme, d_dot):
    return _extreme_jvp(a, d_dot, axis, keepdims, extreme)


@adjoint(N._extreme_jvp)
def _(result, result_bar, a, d, axis, keepdims, extreme):
    return None, _full_T(_extreme_bar(result_bar, a, axis, keepdims, extreme), d, a), None, None, None


@tangent(N._cumsum_bar)
def _(result, g, a, axis, cumulated, g_dot):
    return _cumsum_bar(_full(g_dot, g), a, axis, cumulated)


@adjoint(N._cumsum_bar)
def _(result, result_bar, g, a, axis, cumulated):
    return unbroadcast(np.cumsum(result_bar, axis=axis), g), None, None, None


@tangent(N._cumprod_bar)
def _(result, g, a, axis, cumulated, g_dot, a_dot, cumulated_dot):
    return _cumprod_bar_jvp(g, a, axis, cumulated, g_dot, a_dot, cumulated_dot)


@adjoint(N._cumprod_bar)
def _(result, result_bar, g, a, axis, cumulated):
    return (_cumprod_bar_adj(g, a, axis, cumulated, result_bar, 0),
            _cumprod_bar_adj(g, a, axis, cumulated, result_bar, 1), None,
            _cumprod_bar_adj(g, a, axis, cumulated, result_bar, 2))


@tangent(N._norm_bar)
def _(result, g, x, ord, axis, keepdims, norm, g_dot, x_dot, norm_dot):
    return (_norm_bar(_full(g_dot, g), x, ord, axis, keepdims, norm)
            + _norm_bar_jvp(g, x, ord, axis, keepdims, norm, x_dot, norm_dot))


@adjoint(N._norm_bar)
def _(result, result_bar, g, x, ord, axis, keepdims, norm):
    return (unbroadcast(_norm_jvp(x, result_bar, ord, axis, keepdims, norm), g),
            _norm_bar_adj(g, x, ord, axis, keepdims, norm, result_bar, 1), None, None, None,
            _norm_bar_adj(g, x, ord, axis, keepdims, norm, result_bar, 2))


@tangent(N._norm_jvp)
def _(result, x, d, ord, axis, keepdims, norm, x_dot, d_dot, norm_dot):
    return (_norm_jvp(x, d_dot, ord, axis, keepdims, norm)
            + _norm_jvp_jvp(x, d, ord, axis, keepdims, norm, x_dot, norm_dot))


@adjoint(N._norm_jvp)
def _(result, result_bar, x, d, ord, axis, keepdims, norm):
    return (_norm_bar_adj(result_bar, x, ord, axis, keepdims, norm, _full(d, x), 1),
            _full_T(_norm_bar(result_bar, x, ord, axis, keepdims, norm), d, x), None, None, None,
            _norm_bar_adj(result_bar, x, ord, axis, keepdims, norm, _full(d, x), 2))


# ---------------------------------------------------------------------------
# products: each adjoint helper is bilinear in g and the other operand
# ---------------------------------------------------------------------------

@tangent(N._dot_bar_a)
def _(result, g, a, b, g_dot, b_dot):
    return _dot_bar_a(_full(g_dot, g), a, b) + _dot_bar_a(g, a, _full(b_dot, b))


@adjoint(N._dot_bar_a)
def _(result, result_bar, g, a, b):
    return unbroadcast(np.dot(result_bar, b), g), None, _dot_bar_b(g, result_bar, b)


@tangent(N._dot_bar_b)
def _(result, g, a, b, g_dot, a_dot):
    return _dot_bar_b(_full(g_dot, g), a, b) + _dot_bar_b(g, _full(a_dot, a), b)


@adjoint(N._dot_bar_b)
def _(result, result_bar, g, a, b):
    return unbroadcast(np.dot(a, result_bar), g), _dot_bar_a(g, a, result_bar), None


@adjoint(_matmul_bar_a)
def _(result, result_bar, g, a, b):
    return unbroadcast(np.matmul(result_bar, b), g), None, _matmul_bar_b(g, result_bar, b)


@adjoint(_matmul_bar_b)
def _(result, result_bar, g, a, b):
    return unbroadcast(np.matmul(a, result_bar), g), _matmul_bar_a(g, a, result_bar), None


# which=0: the adjoint of a (depends on g and b); which=1: of b (depends on g and a).
# The helper reads the operand it is the adjoint of only for its shape, so one term
# with both operand tangents is right for either value of which.
@tangent(N._outer_bar)
def _(result, g, a, b, which, g_dot, a_dot, b_dot):
    return (_outer_bar(_full(g_dot, g), a, b, which)
            + _outer_bar(g, _full(a_dot, a), _full(b_dot, b), which))


@adjoint(N._outer_bar)
def _(result, result_bar, g, a, b, which):
    return (unbroadcast(np.outer(result_bar, b) if which == 0 else np.outer(a, result_bar), g),
            0.0 if which == 0 else _outer_bar(g, a, result_bar, 0),
            _outer_bar(g, result_bar, b, 1) if which == 0 else 0.0, None)


@tangent(N._inner_bar)
def _(result, g, a, b, which, g_dot, a_dot, b_dot):
    return (_inner_bar(_full(g_dot, g), a, b, which)
            + _inner_bar(g, _full(a_dot, a), _full(b_dot, b), which))


@adjoint(N._inner_bar)
def _(result, result_bar, g, a, b, which):
    return (unbroadcast(np.inner(result_bar, b) if which == 0 else np.inner(a, result_bar), g),
            0.0 if which == 0 else _inner_bar(g, a, result_bar, 0),
            _inner_bar(g, result_bar, b, 1) if which == 0 else 0.0, None)


@tangent(N._tensordot_bar)
def _(result, g, a, b, axes, which, g_dot, a_dot, b_dot):
    return (_tensordot_bar(_full(g_dot, g), a, b, axes, which)
            + _tensordot_bar(g, _full(a_dot, a), _full(b_dot, b), axes, which))


@adjoint(N._tensordot_bar)
def _(result, result_bar, g, a, b, axes, which):
    return (unbroadcast(np.tensordot(result_bar, b, axes) if which == 0
                        else np.tensordot(a, result_bar, axes), g),
            0.0 if which == 0 else _tensordot_bar(g, a, result_bar, axes, 0),
            _tensordot_bar(g, result_bar, b, axes, 1) if which == 0 else 0.0, None, None)


@tangent(N._einsum_bars)
def _(result, g, subscripts, operands, g_dot, operands_dot):
    return _einsum_bars_jvp(g, subscripts, operands, g_dot, operands_dot)


@adjoint(N._einsum_bars)
def _(result, result_bar, g, subscripts, operands):
    return (_einsum_bars_adj_g(g, subscripts, operands, result_bar), None,
            _einsum_bars_adj_ops(g, subscripts, operands, result_bar))


@tangent(N._einsum_jvp)
def _(result, subscripts, operands, d, operands_dot, d_dot):
    return _einsum_jvp_jvp(subscripts, operands, d, operands_dot, d_dot)


@adjoint(N._einsum_jvp)
def _(result, result_bar, subscripts, operands, d):
    return (None, _einsum_bars_adj_ops(result_bar, subscripts, operands, (0.0,) + tuple(_seq(d, len(operands)))),
            ListBar(_einsum_bars(result_bar, subscripts, operands)[1:]))


# ---------------------------------------------------------------------------
# shapes, copies, selection: linear in g (or in the tangent), the rest is structure
# ---------------------------------------------------------------------------

@tangent(N._transpose_bar)
def _(result, g, axes, g_dot):
    return _transpose_bar(_full(g_dot, g), axes)


@adjoint(N._transpose_bar)
def _(result, result_bar, g, axes):
    return np.transpose(result_bar, axes), None


@tangent(N._transpose_jvp)
def _(result, a, d, axes, d_dot):
    return _transpose_jvp(a, d_dot, axes)


@adjoint(N._transpose_jvp)
def _(result, result_bar, a, d, axes):
    return None, _full_T(_transpose_bar(result_bar, axes), d, a), None


@tangent(N._concat_bar)
def _(result, g, arrays, axis, g_dot):
    return _concat_bar(_full(g_dot, g), arrays, axis)


@adjoint(N._concat_bar)
def _(result, result_bar, g, arrays, axis):
    return _concat_jvp(arrays, _seq(result_bar, len(arrays)), axis), None, None


@tangent(N._concat_jvp)
def _(result, arrays, d, axis, d_dot):
    return _concat_jvp(arrays, d_dot, axis)


@adjoint(N._concat_jvp)
def _(result, result_bar, arrays, d, axis):
    return None, _concat_bar(result_bar, arrays, axis), None


@tangent(N._stack_bar)
def _(result, g, axis, g_dot):
    return _stack_bar(_full(g_dot, g), axis)


@adjoint(N._stack_bar)
def _(result, result_bar, g, axis):
    return _unstack(result_bar, g, axis), None


@tangent(N._stack_jvp)
def _(result, arrays, d, axis, d_dot):
    return _stack_jvp(arrays, d_dot, axis)


@adjoint(N._stack_jvp)
def _(result, result_bar, arrays, d, axis):
    return None, _stack_bar(result_bar, axis), None


@tangent(N._stacked_bar)
def _(result, g, tup, kind, g_dot):
    return _stacked_bar(_full(g_dot, g), tup, kind)


@adjoint(N._stacked_bar)
def _(result, result_bar, g, tup, kind):
    return _restack(result_bar, tup, kind), None, None


# np.r_/np.c_: both helpers are linear in their first differentiable argument and
# depend on the items only through their shapes (positions); each is the other's transpose.
nondiff(N._index_labels, N._arange_weights)


@tangent(N._index_concat_bar)
def _(result, g, maker, key, g_dot):
    return N._index_concat_bar(g_dot, maker, key)


@adjoint(N._index_concat_bar)
def _(result, result_bar, g, maker, key):
    return unbroadcast(N._index_concat_jvp(maker, key, result_bar), g), None, None


@tangent(N._index_concat_jvp)
def _(result, maker, key, d, d_dot):
    return N._index_concat_jvp(maker, key, d_dot)


@adjoint(N._index_concat_jvp)
def _(result, result_bar, maker, key, d):
    return None, None, N._index_concat_bar(result_bar, maker, key)


@tangent(N._dense_list)
def _(result, arrays, d, d_dot):
    return _dense_list(arrays, d_dot)


@adjoint(N._dense_list)
def _(result, result_bar, arrays, d):
    return None, _dense_list_T(result_bar, arrays, d)


@tangent(N._split_bar)
def _(result, bars, pieces, axis, bars_dot):
    return _split_bar(bars_dot, pieces, axis)


@adjoint(N._split_bar)
def _(result, result_bar, bars, pieces, axis):
    return _split_like(result_bar, pieces, axis), None, None


@tangent(N._tile_bar)
def _(result, g, A, reps, g_dot):
    return _tile_bar(_full(g_dot, g), A, reps)


@adjoint(N._tile_bar)
def _(result, result_bar, g, A, reps):
    return unbroadcast(np.tile(result_bar, reps), g), None, None


@tangent(N._repeat_bar)
def _(result, g, a, repeats, axis, g_dot):
    return _repeat_bar(_full(g_dot, g), a, repeats, axis)


@adjoint(N._repeat_bar)
def _(result, result_bar, g, a, repeats, axis):
    return unbroadcast(np.repeat(result_bar, repeats, axis=axis), g), None, None, None


@tangent(N._roll_bar)
def _(result, g, shift, axis, g_dot):
    return _roll_bar(_full(g_dot, g), shift, axis)


@adjoint(N._roll_bar)
def _(result, result_bar, g, shift, axis):
    return np.roll(result_bar, shift, axis=axis), None, None


@tangent(N._pad_bar)
def _(result, g, array, pad_width, mode, g_dot):
    return _pad_bar(_full(g_dot, g), array, pad_width, mode)


@adjoint(N._pad_bar)
def _(result, result_bar, g, array, pad_width, mode):
    return _pad_T(result_bar, pad_width, mode), None, None, None


@tangent(N._pad_cv_bar)
def _(result, g, array, pad_width, mode, constant_values, g_dot):
    return _pad_cv_bar(_full(g_dot, g), array, pad_width, mode, constant_values)


@adjoint(N._pad_cv_bar)
def _(result, result_bar, g, array, pad_width, mode, constant_values):
    return _pad_cv_T(result_bar, array, pad_width), None, None, None, None


@tangent(N._pad_cv_jvp)
def _(result, array, pad_width, d, d_dot):
    return _pad_cv_jvp(array, pad_width, d_dot)


@adjoint(N._pad_cv_jvp)
def _(result, result_bar, array, pad_width, d):
    return None, None, unbroadcast(_pad_cv_bar(result_bar, array, pad_width, "constant", 0.0), d)


@tangent(N._diag_bar)
def _(result, g, v, k, g_dot):
    return _diag_bar(_full(g_dot, g), v, k)


@adjoint(N._diag_bar)
def _(result, result_bar, g, v, k):
    return np.diag(result_bar, k), None, None


@tangent(N._diagonal_bar)
def _(result, g, a, offset, axis1, axis2, g_dot):
    return _diagonal_bar(_full(g_dot, g), a, offset, axis1, axis2)


@adjoint(N._diagonal_bar)
def _(result, result_bar, g, a, offset, axis1, axis2):
    return unbroadcast(np.diagonal(result_bar, offset, axis1, axis2), g), None, None, None, None


@tangent(N._trace_bar)
def _(result, g, a, offset, axis1, axis2, g_dot):
    return _trace_bar(_full(g_dot, g), a, offset, axis1, axis2)


@adjoint(N._trace_bar)
def _(result, result_bar, g, a, offset, axis1, axis2):
    return unbroadcast(np.trace(result_bar, offset, axis1, axis2), g), None, None, None, None


@tangent(N._diff_bar)
def _(result, g, a, n, axis, g_dot):
    return _diff_bar(_full(g_dot, g), a, n, axis)


@adjoint(N._diff_bar)
def _(result, result_bar, g, a, n, axis):
    return np.diff(result_bar, n, axis), None, None, None


@tangent(N._where_bar)
def _(result, g, condition, x, g_dot):
    return _where_bar(_full(g_dot, g), condition, x)


@adjoint(N._where_bar)
def _(result, result_bar, g, condition, x):
    return unbroadcast(broadcast_like(np.where(condition, result_bar, 0.0), g), g), None, None


@tangent(N._where_not_bar)
def _(result, g, condition, y, g_dot):
    return _where_not_bar(_full(g_dot, g), condition, y)


@adjoint(N._where_not_bar)
def _(result, result_bar, g, condition, y):
    return unbroadcast(broadcast_like(np.where(condition, 0.0, result_bar), g), g), None, None


# clip: the masks are piecewise constant in a and the bounds
@tangent(N._clip_bar_a)
def _(result, g, a, bounds, g_dot):
    return _clip_bar_a(_full(g_dot, g), a, bounds)


@adjoint(N._clip_bar_a)
def _(result, result_bar, g, a, bounds):
    return unbroadcast(broadcast_like(result_bar * _clip_pass(a, bounds), g), g), None, None


@tangent(N._clip_bar_lo)
def _(result, g, a, bounds, g_dot):
    return _clip_bar_lo(_full(g_dot, g), a, bounds)


@adjoint(N._clip_bar_lo)
def _(result, result_bar, g, a, bounds):
    return unbroadcast(broadcast_like(_clip_jvp_lo(a, bounds, result_bar), g), g), None, None


@tangent(N._clip_bar_hi)
def _(result, g, a, bounds, g_dot):
    return _clip_bar_hi(_full(g_dot, g), a, bounds)


@adjoint(N._clip_bar_hi)
def _(result, result_bar, g, a, bounds):
    return unbroadcast(broadcast_like(_clip_jvp_hi(a, bounds, result_bar), g), g), None, None


@tangent(N._clip_jvp_lo)
def _(result, a, bounds, d, d_dot):
    return _clip_jvp_lo(a, bounds, d_dot)


@adjoint(N._clip_jvp_lo)
def _(result, result_bar, a, bounds, d):
    return None, None, unbroadcast(_clip_jvp_lo(a, bounds, result_bar), d)


@tangent(N._clip_jvp_hi)
def _(result, a, bounds, d, d_dot):
    return _clip_jvp_hi(a, bounds, d_dot)


@adjoint(N._clip_jvp_hi)
def _(result, result_bar, a, bounds, d):
    return None, None, unbroadcast(_clip_jvp_hi(a, bounds, result_bar), d)


@tangent(N._real_bar)
def _(result, g, x, g_dot):
    return _real_bar(_full(g_dot, g), x)


@adjoint(N._real_bar)
def _(result, result_bar, g, x):
    return unbroadcast(broadcast_like(np.real(result_bar), g), g), None


@tangent(N._astype_bar)
def _(result, g, a, cast, g_dot):
    return _astype_bar(_full(g_dot, g), a, cast)


@adjoint(N._astype_bar)
def _(result, result_bar, g, a, cast):
    return unbroadcast(_astype_jvp(result_bar, a, cast), g), None, None


@tangent(N._astype_jvp)
def _(result, d, a, cast, d_dot):
    return _astype_jvp(d_dot, a, cast)


@adjoint(N._astype_jvp)
def _(result, result_bar, d, a, cast):
    return _full_T(_astype_bar(result_bar, a, cast), d, a), None, None


@tangent(N._array_bar)
def _(result, g, obj, g_dot):
    return _array_bar(_full(g_dot, g), obj)


@adjoint(N._array_bar)
def _(result, result_bar, g, obj):
    return unbroadcast(_array_jvp(obj, result_bar, g), g), None


@tangent(N._array_jvp)
def _(result, obj, d, arr, d_dot):
    return _array_jvp(obj, d_dot, arr)


@adjoint(N._array_jvp)
def _(result, result_bar, obj, d, arr):
    return None, _full_T(_array_bar(result_bar, obj), d, obj), None


@tangent(N._copy_jvp)
def _(result, d, a, d_dot):
    return _copy_jvp(d_dot, a)


@adjoint(N._copy_jvp)
def _(result, result_bar, d, a):
    return _full_T(result_bar, d, a), None


@tangent(N._fill_jvp)
def _(result, d, filled, d_dot):
    return _fill_jvp(d_dot, filled)


@adjoint(N._fill_jvp)
def _(result, result_bar, d, filled):
    return unbroadcast(result_bar, d), None


@tangent(N._cast_like)
def _(result, g, x, g_dot):
    return _cast_like(_full(g_dot, g), x)


@adjoint(N._cast_like)
def _(result, result_bar, g, x):
    return _cast_like(result_bar, g), None


@tangent(N._full)
def _(result, d, x, d_dot):
    return _full(d_dot, x)


@adjoint(N._full)
def _(result, result_bar, d, x):
    return _full_T(result_bar, d, x), None


@tangent(N._sort_bar)
def _(result, g, a, axis, g_dot):
    return _sort_bar(_full(g_dot, g), a, axis)


@adjoint(N._sort_bar)
def _(result, result_bar, g, a, axis):
    return unbroadcast(_sort_jvp(a, result_bar, axis), g), None, None


@tangent(N._sort_jvp)
def _(result, a, d, axis, d_dot):
    return _sort_jvp(a, d_dot, axis)


@adjoint(N._sort_jvp)
def _(result, result_bar, a, d, axis):
    return None, _full_T(_sort_bar(result_bar, a, axis), d, a), None


@tangent(N._take_bar)
def _(result, g, a, indices, axis, mode, g_dot):
    return _take_bar(_full(g_dot, g), a, indices, axis, mode)


@adjoint(N._take_bar)
def _(result, result_bar, g, a, indices, axis, mode):
    return unbroadcast(np.take(result_bar, indices, axis=axis, mode=mode), g), None, None, None, None


@tangent(N._take_along_bar)
def _(result, g, arr, indices, axis, g_dot):
    return _take_along_bar(_full(g_dot, g), arr, indices, axis)


@adjoint(N._take_along_bar)
def _(result, result_bar, g, arr, indices, axis):
    return unbroadcast(np.take_along_axis(result_bar, indices, axis=axis), g), None, None, None


@tangent(N._item_bar)
def _(result, g, a, args, g_dot):
    return _item_bar(_full(g_dot, g), a, args)


@adjoint(N._item_bar)
def _(result, result_bar, g, a, args):
    return _item_jvp(a, result_bar, args), None, None


@tangent(N._item_jvp)
def _(result, a, d, args, d_dot):
    return _item_jvp(a, d_dot, args)


@adjoint(N._item_jvp)
def _(result, result_bar, a, d, args):
    return None, _full_T(_item_bar(result_bar, a, args), d, a), None


@tangent(N._linspace_bar)
def _(result, g, start, stop, num, endpoint, axis, which, g_dot):
    return _linspace_bar(_full(g_dot, g), start, stop, num, endpoint, axis, which)


@adjoint(N._linspace_bar)
def _(result, result_bar, g, start, stop, num, endpoint, axis, which):
    return (unbroadcast(broadcast_like(_linspace_jvp(start, stop, result_bar, num, endpoint, axis, which), g), g),
            None, None, None, None, None, None)


@tangent(N._linspace_jvp)
def _(result, start, stop, d, num, endpoint, axis, which, d_dot):
    return _linspace_jvp(start, stop, d_dot, num, endpoint, axis, which)


@adjoint(N._linspace_jvp)
def _(result, result_bar, start, stop, d, num, endpoint, axis, which):
    return (None, None, unbroadcast(_linspace_bar(result_bar, start, stop, num, endpoint, axis, which), d),
            None, None, None, None)


# ---------------------------------------------------------------------------
# elementwise helpers
# ---------------------------------------------------------------------------

@tangent(N._div_or_zero)
def _(result, a, b, a_dot, b_dot):
    return N._div_or_zero(a_dot, b) - result * N._div_or_zero(b_dot, b)


@adjoint(N._div_or_zero)
def _(result, result_bar, a, b):
    return (unbroadcast(N._div_or_zero(result_bar, b), a),
            unbroadcast(-result_bar * N._div_or_zero(result, b), b))


@tangent(N._safe_div)
def _(result, a, b, a_dot, b_dot):
    return _safe_div(a_dot, b) - result * _safe_div(b_dot, b)


@adjoint(N._safe_div)
def _(result, result_bar, a, b):
    return unbroadcast(_safe_div(result_bar, b), a), unbroadcast(-result_bar * _safe_div(result, b), b)


@tangent(N._power_dx1)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * pow_dxk(x1, x2, 2) + x2_dot * _power_dx1_dx2(x1, x2)


@adjoint(N._power_dx1)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * pow_dxk(x1, x2, 2), x1),
            unbroadcast(result_bar * _power_dx1_dx2(x1, x2), x2))


# _power_dx2(p, x1) = p * log(x1) where x1 > 0, else 0
@tangent(N._power_dx2)
def _(result, p, x1, p_dot, x1_dot):
    return _power_dx2(p_dot, x1) + x1_dot * _safe_div(p, x1) * (np.greater(x1, 0) * 1.0)


@adjoint(N._power_dx2)
def _(result, result_bar, p, x1):
    return (unbroadcast(_power_dx2(result_bar, x1), p),
            unbroadcast(result_bar * _safe_div(p, x1) * (np.greater(x1, 0) * 1.0), x1))


# ---------------------------------------------------------------------------
# linear algebra
# ---------------------------------------------------------------------------

@tangent(N._inv_bar)
def _(result, g, inverse, g_dot, inverse_dot):
    return _inv_bar(_full(g_dot, g), inverse) + _inv_bar_dr(g, inverse, inverse_dot)


@adjoint(N._inv_bar)
def _(result, result_bar, g, inverse):
    return _inv_bar(result_bar, _T(inverse)), _inv_bar_adj_r(g, inverse, result_bar)


@tangent(N._inv_jvp)
def _(result, a, d, inverse, d_dot, inverse_dot):
    return _inv_jvp(a, d_dot, inverse) + _inv_jvp_dr(_full(d, a), inverse, inverse_dot)


@adjoint(N._inv_jvp)
def _(result, result_bar, a, d, inverse):
    return (None, _full_T(_inv_jvp_T(result_bar, inverse), d, a),
            _inv_jvp_adj_r(_full(d, a), inverse, result_bar))


@tangent(N._det_bar)
def _(result, g, a, det, g_dot, a_dot, det_dot):
    return (_det_bar(_full(g_dot, g), a, det) + _det_bar(g, a, det_dot)
            + _det_bar_da(g, a, det, a_dot))


@adjoint(N._det_bar)
def _(result, result_bar, g, a, det):
    return (unbroadcast(det * _mat_inner(result_bar, _inv_T(a)), g),
            _det_bar_adj_a(g, a, det, result_bar),
            unbroadcast(g * _mat_inner(result_bar, _inv_T(a)), det))


@tangent(N._slogdet_bar)
def _(result, bars, a, bars_dot, a_dot):
    return _slogdet_bar(bars_dot, a) + _slogdet_bar_da(bars, a, a_dot)


@adjoint(N._slogdet_bar)
def _(result, result_bar, bars, a):
    return _slogdet_bar_adj_g(bars, a, result_bar), _slogdet_bar_adj_a(bars, a, result_bar)


@tangent(N._solve_cot)
def _(result, a, g, b, a_dot, g_dot):
    return _solve_cot_jvp(a, g, b, result, a_dot, g_dot)


@adjoint(N._solve_cot)
def _(result, result_bar, a, g, b):
    return (_solve_cot_adj(a, g, b, result, result_bar, 0), _solve_cot_adj(a, g, b, result, result_bar, 1),
            None)


@tangent(N._solve_bar_a)
def _(result, gb, a, b, x, gb_dot, x_dot):
    return _solve_bar_a(gb_dot, a, b, x) + _solve_bar_a(gb, a, b, _full(x_dot, x))


@adjoint(N._solve_bar_a)
def _(result, result_bar, gb, a, b, x):
    return _solve_bar_a_adj(result_bar, gb, b, x, 0), None, None, _solve_bar_a_adj(result_bar, gb, b, x, 1)


@tangent(N._solve_bar_b)
def _(result, gb, b, gb_dot):
    return _solve_bar_b(gb_dot, b)


@adjoint(N._solve_bar_b)
def _(result, result_bar, gb, b):
    return _solve_bar_b_T(result_bar, gb, b), None


# ---------------------------------------------------------------------------
# builtins
# ---------------------------------------------------------------------------

# max()/min(): the selection is piecewise constant in the arguments and the result
@tangent(B._extremum_bars)
def _(result, extreme, g, args, g_dot):
    return _extremum_bars(extreme, g_dot, args)


@adjoint(B._extremum_bars)
def _(result, result_bar, extreme, g, args):
    return None, _extremum_bars_T(extreme, args, result_bar), None


@tangent(B._extremum_dot)
def _(result, extreme, args_and_dots, args_and_dots_dot):
    return _extremum_dot_jvp(extreme, args_and_dots, args_and_dots_dot)


@adjoint(B._extremum_dot)
def _(result, result_bar, extreme, args_and_dots):
    return None, _extremum_dot_T(extreme, args_and_dots, result_bar)


@tangent(B._sum_bars)
def _(result, g, items, g_dot):
    return _sum_bars(_full(g_dot, g), items)


@adjoint(B._sum_bars)
def _(result, result_bar, g, items):
    return _sum_bars_T(result_bar, g, items), None


@tangent(B._sum_dot)
def _(result, dots, dots_dot):
    return _sum_dot(dots_dot)


@adjoint(B._sum_dot)
def _(result, result_bar, dots):
    return _sum_bars(result_bar, dots) if isinstance(dots, (list, tuple)) else result_bar


@tangent(B._sequence_bar)
def _(result, g, g_dot):
    return _sequence_bar(g_dot)


@adjoint(B._sequence_bar)
def _(result, result_bar, g):
    return _sequence_bar(result_bar)


@tangent(B._sequence_dot)
def _(result, d, d_dot):
    return _sequence_dot(d_dot)


@adjoint(B._sequence_dot)
def _(result, result_bar, d):
    return _sequence_bar(result_bar)


def _sinc_deriv2(x):
    """d2 sinc(x)/dx2 = ((2 - pi^2 x^2) sin(pi x) - 2 pi x cos(pi x)) / (pi x^3), -pi^2/3 at 0."""
    x = np.asarray(x, dtype=np.float64)
    px = np.pi * x
    safe = np.where(x == 0, 1.0, x)
    d = ((2.0 - px * px) * np.sin(np.pi * safe) - 2.0 * px * np.cos(np.pi * safe)) / (np.pi * safe ** 3)
    d = np.where(x == 0, -np.pi ** 2 / 3.0, d)
    return d[()] if d.ndim == 0 else d


@tangent(N._sinc_deriv)
def _(result, x, x_dot):
    return x_dot * _sinc_deriv2(x)


@adjoint(N._sinc_deriv)
def _(result, result_bar, x):
    return unbroadcast(result_bar * _sinc_deriv2(x), x)


def _imag_bar_T(rbar, g, x):
    """Adjoint of _imag_bar in g: zero for a real x (its imaginary part is constant 0)."""
    if np.iscomplexobj(x):
        return unbroadcast(broadcast_like(1j * rbar, g), g)
    return 0.0 * g


@tangent(N._imag_bar)
def _(result, g, x, g_dot):
    return N._imag_bar(_full(g_dot, g), x)


@adjoint(N._imag_bar)
def _(result, result_bar, g, x):
    return _imag_bar_T(result_bar, g, x), None


# Third order through sum() of a list: the transpose of _sum_bars is itself linear.
@adjoint(_sum_bars_T)
def _(result, result_bar, rbar, g, items):
    return B._sum_bars(result_bar, items), None, None


@tangent(_sum_bars_T)
def _(result, rbar, g, items, rbar_dot):
    return _sum_bars_T(rbar_dot, g, items)


# ---------------------------------------------------------------------------
# reverse over forward: the tangent helpers of the rule library
# (grad(jacobian(f, mode="forward")) differentiates forward code that calls them)
# ---------------------------------------------------------------------------

def _cumprod_jvp_parts(a, d, axis, result):
    """(d, a, result) with the cumulated axis last, and a function putting it back."""
    x, back = _cumprod_terms(a, axis)
    if not np.all(x != 0):
        raise NotImplementedError("diffc: second derivative of cumprod at an argument with zeros "
                                  "is not supported")
    dd = _full(d, a)
    dm = np.moveaxis(dd, axis, -1) if axis is not None else np.ravel(dd)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    return dm, x, rm, back


def _cumprod_jvp_da(a, d, axis, result, a_dot):
    """The part of _cumprod_jvp's tangent from a: -result * cumsum(d a_dot / a^2)."""
    dm, x, rm, back = _cumprod_jvp_parts(a, d, axis, result)
    am = _cumprod_jvp_parts(a, a_dot, axis, result)[0]
    return back(-rm * np.cumsum(dm * am / (x * x), axis=-1))


def _cumprod_jvp_dr(a, d, axis, result, result_dot):
    """The part of _cumprod_jvp's tangent from the cumulated product."""
    dm, x, rm, back = _cumprod_jvp_parts(a, d, axis, result)
    rd = _bcast(result_dot, np.shape(result))
    rdm = np.moveaxis(rd, axis, -1) if axis is not None else np.ravel(rd)
    return back(rdm * np.cumsum(dm / x, axis=-1))


def _cumprod_jvp_adj(a, d, axis, result, rbar, which):
    """Adjoint of _cumprod_jvp in a (which=0) or the cumulated product (which=1)."""
    dm, x, rm, back = _cumprod_jvp_parts(a, d, axis, result)
    r = _bcast(rbar, np.shape(result))
    Rm = np.moveaxis(r, axis, -1) if axis is not None else np.ravel(r)
    if which == 0:
        return np.reshape(back(-dm / (x * x) * _rcumsum(Rm * rm)), np.shape(a))
    return unbroadcast(np.reshape(back(Rm * np.cumsum(dm / x, axis=-1)), np.shape(result)), result)


@tangent(N._cumprod_jvp)
def _(result, a, d, axis, cumulated, a_dot, d_dot, cumulated_dot):
    return (N._cumprod_jvp(a, d_dot, axis, cumulated) + _cumprod_jvp_da(a, d, axis, cumulated, a_dot)
            + _cumprod_jvp_dr(a, d, axis, cumulated, cumulated_dot))


@adjoint(N._cumprod_jvp)
def _(result, result_bar, a, d, axis, cumulated):
    return (_cumprod_jvp_adj(a, d, axis, cumulated, result_bar, 0),
            _full_T(_cumprod_bar(result_bar, a, axis, cumulated), d, a), None,
            _cumprod_jvp_adj(a, d, axis, cumulated, result_bar, 1))


def _inv_d_inv(a, d):
    """inv(a) @ d @ inv(a) (stacks of matrices)."""
    return np.linalg.solve(a, _full(d, a)) @ np.linalg.inv(a)


def _tr_solve(a, d):
    """trace(inv(a) @ d) per matrix."""
    return np.trace(np.linalg.solve(a, _full(d, a)), axis1=-2, axis2=-1)


# _det_jvp(a, d, det) = det * tr(inv(a) d): linear in d and det
@tangent(N._det_jvp)
def _(result, a, d, det, a_dot, d_dot, det_dot):
    return (N._det_jvp(a, d_dot, det) + det_dot * _tr_solve(a, d)
            - det * np.trace(np.linalg.solve(a, _full(a_dot, a)) @ np.linalg.solve(a, _full(d, a)),
                             axis1=-2, axis2=-1))


@adjoint(N._det_jvp)
def _(result, result_bar, a, d, det):
    return (_scale_mat(-(result_bar * det), _T(_inv_d_inv(a, d))),
            _full_T(N._det_bar(result_bar, a, det), d, a),
            unbroadcast(result_bar * _tr_solve(a, d), det))


def _slogdet_jvp_da(a, d, a_dot):
    return ListBar([0.0, -np.trace(np.linalg.solve(a, _full(a_dot, a)) @ np.linalg.solve(a, _full(d, a)),
                                   axis1=-2, axis2=-1)])


def _slogdet_jvp_adj_a(a, d, rbar):
    gl = _seq(rbar, 2)[1]
    if _zero(gl):
        return np.zeros(np.shape(a))
    return _scale_mat(-np.asarray(gl), _T(_inv_d_inv(a, d)))


@tangent(N._slogdet_jvp)
def _(result, a, d, a_dot, d_dot):
    return N._slogdet_jvp(a, d_dot) + _slogdet_jvp_da(a, d, a_dot)


@adjoint(N._slogdet_jvp)
def _(result, result_bar, a, d):
    return _slogdet_jvp_adj_a(a, d, result_bar), _full_T(N._slogdet_bar(result_bar, a), d, a)


def _col(y, b):
    """y in column form (a vector right-hand side b becomes one column)."""
    return np.asarray(y)[..., None] if np.ndim(b) == 1 else np.asarray(y)


def _uncol(y, b):
    return y[..., 0] if np.ndim(b) == 1 else y


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


@tangent(N._solve_dot_a)
def _(result, a, d, b, x, a_dot, d_dot, x_dot):
    return _solve_dot_a_jvp(a, d, b, x, result, a_dot, d_dot, x_dot)


@adjoint(N._solve_dot_a)
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


@tangent(N._solve_dot_b)
def _(result, a, b, d, a_dot, d_dot):
    return N._solve_dot_b(a, b, d_dot) + _solve_dot_b_da(a, b, result, a_dot)


@adjoint(N._solve_dot_b)
def _(result, result_bar, a, b, d):
    return _solve_dot_b_adj(a, b, d, result, result_bar, 0), None, _solve_dot_b_adj(a, b, d, result, result_bar, 1)


# ListBar(list of tangents): the tangent of np.split and friends
def _list_dot(seq_dot, seq):
    if _zero(seq_dot):
        return ListBar([0.0] * len(seq))
    return ListBar(seq_dot)


@tangent(ListBar)
def _(result, seq, seq_dot):
    return _list_dot(seq_dot, seq)


@adjoint(ListBar)
def _(result, result_bar, seq):
    return ListBar(_seq(result_bar, len(result)))


# ---------------------------------------------------------------------------
# cholesky, eigh, eigvalsh: second derivatives of their adjoint and tangent helpers
# ---------------------------------------------------------------------------
# Both read one triangle of a: _sym_from(x, lower) builds the symmetric matrix
# LAPACK sees, and _sym_read is its transpose (the gradient w.r.t. the entries
# read); _sym_read(0.5 (S + S^T)) has the transpose S -> _sym_from(R).

_phi = N._phi
_sym_from = N._sym_from
_sym_read = N._sym_read


def _sym(x):
    return 0.5 * (x + _T(x))


def _mat(x, like):
    """A tangent or adjoint of a matrix, full shape (0.0 for the symbolic zero)."""
    return np.zeros(np.shape(like)) if _zero(x) else _bcast(x, np.shape(like))


def _chol_L(m, upper):
    return _T(m) if upper else m


def _cholesky_bar_jvp(g, result, upper, g_dot, result_dot):
    """Tangent of _cholesky_bar(g, a, result, upper) from g and result (a gives the shape only)."""
    L, gL = _chol_L(result, upper), _chol_L(_mat(g, result), upper)
    dL, dgL = _chol_L(_mat(result_dot, result), upper), _chol_L(_mat(g_dot, result), upper)
    Li = np.linalg.inv(L)
    P = _phi(_T(L) @ gL)
    dLi = -(Li @ dL @ Li)
    dP = _phi(_T(dL) @ gL + _T(L) @ dgL)
    dS = _T(dLi) @ P @ Li + _T(Li) @ dP @ Li + _T(Li) @ P @ dLi
    return _sym_read(_sym(dS), not upper)


def _cholesky_bar_adj(g, result, upper, rbar, which):
    """Adjoint of _cholesky_bar in g (which=0) or result (which=1)."""
    L, gL = _chol_L(result, upper), _chol_L(_mat(g, result), upper)
    Li = np.linalg.inv(L)
    M = _T(L) @ gL
    P = _phi(M)
    Sb = _sym_from(rbar, not upper)
    Pb = Li @ Sb @ _T(Li)
    Lib = P @ Li @ _T(Sb) + _T(P) @ Li @ Sb
    Mb = _phi(Pb)
    if which == 0:
        return unbroadcast(_chol_L(L @ Mb, upper), g)
    Lb = gL @ _T(Mb) - _T(Li) @ Lib @ _T(Li)
    return _chol_L(Lb, upper)


def _cholesky_jvp_jvp(d, result, upper, d_dot, result_dot):
    """Tangent of _cholesky_jvp(a, d, result, upper) from d and result."""
    L = _chol_L(result, upper)
    dL = _chol_L(_mat(result_dot, result), upper)
    Li = np.linalg.inv(L)
    dA = _sym_from(_mat(d, result), not upper)
    dA2 = _sym_from(_mat(d_dot, result), not upper)
    dLi = -(Li @ dL @ Li)
    X = Li @ dA @ _T(Li)
    dX = dLi @ dA @ _T(Li) + Li @ dA2 @ _T(Li) + Li @ dA @ _T(dLi)
    return _chol_L(dL @ _phi(X) + L @ _phi(dX), upper)


def _cholesky_jvp_adj(d, result, upper, rbar, which):
    """Adjoint of _cholesky_jvp in d (which=0) or result (which=1)."""
    L = _chol_L(result, upper)
    R = _chol_L(_mat(rbar, result), upper)
    Li = np.linalg.inv(L)
    dA = _sym_from(_mat(d, result), not upper)
    X = Li @ dA @ _T(Li)
    Xb = _phi(_T(L) @ R)
    if which == 0:
        return _sym_read(_T(Li) @ Xb @ Li, not upper)
    Lib = Xb @ Li @ _T(dA) + _T(Xb) @ Li @ dA
    return _chol_L(R @ _T(_phi(X)) - _T(Li) @ Lib @ _T(Li), upper)


@tangent(N._cholesky_bar)
def _(result, g, a, cholesky, upper, g_dot, cholesky_dot):
    return _cholesky_bar_jvp(g, cholesky, upper, g_dot, cholesky_dot)


@adjoint(N._cholesky_bar)
def _(result, result_bar, g, a, cholesky, upper):
    return (_cholesky_bar_adj(g, cholesky, upper, result_bar, 0), None,
            _cholesky_bar_adj(g, cholesky, upper, result_bar, 1))


@tangent(N._cholesky_jvp)
def _(result, a, d, cholesky, upper, d_dot, cholesky_dot):
    return _cholesky_jvp_jvp(_full(d, a), cholesky, upper, d_dot, cholesky_dot)


@adjoint(N._cholesky_jvp)
def _(result, result_bar, a, d, cholesky, upper):
    return (None, _full_T(_cholesky_jvp_adj(_full(d, a), cholesky, upper, result_bar, 0), d, a),
            _cholesky_jvp_adj(_full(d, a), cholesky, upper, result_bar, 1))


def _diag_of(m):
    return np.diagonal(m, axis1=-2, axis2=-1)


def _diag_mat(v, like):
    """Matrices with v on the diagonal (0 for the symbolic zero)."""
    if _zero(v):
        return np.zeros(np.shape(like))
    return np.asarray(v)[..., None] * np.eye(np.shape(like)[-1])


def _gaps_bar(w, F, Fb):
    """Adjoint in w of F = _eig_gaps(w), F_ij = 1 / (w_j - w_i) where kept."""
    t = Fb * F * F
    return np.sum(t, axis=-1) - np.sum(t, axis=-2)


def _gaps_dot(F, dw):
    """Tangent of F = _eig_gaps(w) for w moving by dw."""
    return -(dw[..., None, :] - dw[..., :, None]) * F * F


def _eig_parts(result, result_dot=None):
    """(w, V, dw, dV) with zeros for symbolic zeros."""
    w, V = result[0], result[1]
    dots = _seq(result_dot, 2)
    return w, V, _mat(dots[0], w), _mat(dots[1], V)


def _eigh_bar_core_jvp(gw, gV, w, V, dgw, dgV, dw, dV, lower):
    """Tangent of _sym_read(sym(V (diag(gw) + F o (V^T gV)) V^T))."""
    F = N._eig_gaps(w)
    Q = _diag_mat(gw, V) + F * (_T(V) @ gV)
    dQ = (_diag_mat(dgw, V) + _gaps_dot(F, dw) * (_T(V) @ gV)
          + F * (_T(dV) @ gV + _T(V) @ dgV))
    dG = dV @ Q @ _T(V) + V @ dQ @ _T(V) + V @ Q @ _T(dV)
    return _sym_read(_sym(dG), lower)


def _eigh_bar_core_adj(gw, gV, w, V, R, lower):
    """Adjoint of the same in (gw, gV, w, V)."""
    F = N._eig_gaps(w)
    N_ = _T(V) @ gV
    Q = _diag_mat(gw, V) + F * N_
    Gb = _sym_from(R, lower)
    Vb = Gb @ V @ _T(Q) + _T(Gb) @ V @ Q
    Qb = _T(V) @ Gb @ V
    Nb = F * Qb
    Vb = Vb + gV @ _T(Nb)
    return _diag_of(Qb), V @ Nb, _gaps_bar(w, F, N_ * Qb), Vb


def _eigh_bar_jvp(result_bar, result, UPLO, result_bar_dot, result_dot):
    gw, gV = [_mat(x, r) for x, r in zip(_seq(result_bar, 2), result)]
    dgw, dgV = [_mat(x, r) for x, r in zip(_seq(result_bar_dot, 2), result)]
    w, V, dw, dV = _eig_parts(result, result_dot)
    return _eigh_bar_core_jvp(gw, gV, w, V, dgw, dgV, dw, dV, UPLO.upper() == "L")


def _eigh_bar_adj(result_bar, result, UPLO, rbar, which):
    """Adjoint of _eigh_bar in result_bar (which=0) or result (which=1), as ListBars."""
    gw, gV = [_mat(x, r) for x, r in zip(_seq(result_bar, 2), result)]
    w, V = result[0], result[1]
    bgw, bgV, bw, bV = _eigh_bar_core_adj(gw, gV, w, V, rbar, UPLO.upper() == "L")
    return ListBar([bgw, bgV]) if which == 0 else ListBar([bw, bV])


@tangent(N._eigh_bar)
def _(result, bars, a, eig, UPLO, bars_dot, eig_dot):
    return _eigh_bar_jvp(bars, eig, UPLO, bars_dot, eig_dot)


@adjoint(N._eigh_bar)
def _(result, result_bar, bars, a, eig, UPLO):
    return _eigh_bar_adj(bars, eig, UPLO, result_bar, 0), None, _eigh_bar_adj(bars, eig, UPLO, result_bar, 1)


def _eigh_jvp_core_jvp(dA, w, V, ddA, dw, dV):
    """Tangent of (diag(M), V (F o M)) for M = V^T dA V."""
    F = N._eig_gaps(w)
    M = _T(V) @ dA @ V
    dM = _T(dV) @ dA @ V + _T(V) @ ddA @ V + _T(V) @ dA @ dV
    return ListBar([_diag_of(dM).copy(), dV @ (F * M) + V @ (_gaps_dot(F, dw) * M + F * dM)])


def _eigh_jvp_core_adj(dA, w, V, r0, r1):
    """Adjoint of the same in (dA, w, V)."""
    F = N._eig_gaps(w)
    M = _T(V) @ dA @ V
    r1 = _mat(r1, V)
    Vb = r1 @ _T(F * M)
    T1 = _T(V) @ r1
    Mb = F * T1 + _diag_mat(r0, V)
    bw = _gaps_bar(w, F, M * T1)
    Vb = Vb + dA @ V @ _T(Mb) + _T(dA) @ V @ Mb
    return V @ Mb @ _T(V), bw, Vb


def _eigh_jvp_jvp(a, d, result, UPLO, d_dot, result_dot):
    lower = UPLO.upper() == "L"
    w, V, dw, dV = _eig_parts(result, result_dot)
    return _eigh_jvp_core_jvp(_sym_from(_full(d, a), lower), w, V,
                              _sym_from(_mat(d_dot, a), lower), dw, dV)


def _eigh_jvp_adj(a, d, result, UPLO, rbar, which):
    """Adjoint of _eigh_jvp in d (which=0) or result (which=1)."""
    lower = UPLO.upper() == "L"
    r0, r1 = _seq(rbar, 2)
    dAb, bw, bV = _eigh_jvp_core_adj(_sym_from(_full(d, a), lower), result[0], result[1], r0, r1)
    if which == 0:
        return _full_T(_sym_read(dAb, lower), d, a)
    return ListBar([bw, bV])


@tangent(N._eigh_jvp)
def _(result, a, d, eig, UPLO, d_dot, eig_dot):
    return _eigh_jvp_jvp(a, d, eig, UPLO, d_dot, eig_dot)


@adjoint(N._eigh_jvp)
def _(result, result_bar, a, d, eig, UPLO):
    return None, _eigh_jvp_adj(a, d, eig, UPLO, result_bar, 0), _eigh_jvp_adj(a, d, eig, UPLO, result_bar, 1)


# eigvalsh helpers recompute (w, V) = eigh(a): a is differentiated through them
def _eigvalsh_bar_da(g, a, UPLO, a_dot):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    dw, dV = N._eigh_jvp(a, a_dot, (w, V), UPLO)
    return _eigh_bar_core_jvp(_mat(g, w), np.zeros(np.shape(V)), w, V, np.zeros(np.shape(w)),
                              np.zeros(np.shape(V)), dw, dV, UPLO.upper() == "L")


def _eigvalsh_bar_adj_a(g, a, UPLO, rbar):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    _, _, bw, bV = _eigh_bar_core_adj(_mat(g, w), np.zeros(np.shape(V)), w, V, rbar, UPLO.upper() == "L")
    return N._eigh_bar([bw, bV], a, (w, V), UPLO)


@tangent(N._eigvalsh_bar)
def _(result, g, a, UPLO, g_dot, a_dot):
    return N._eigvalsh_bar(g_dot, a, UPLO) + _eigvalsh_bar_da(g, a, UPLO, a_dot)


@adjoint(N._eigvalsh_bar)
def _(result, result_bar, g, a, UPLO):
    return (unbroadcast(N._eigvalsh_jvp(a, result_bar, UPLO), g), _eigvalsh_bar_adj_a(g, a, UPLO, result_bar),
            None)


def _eigvalsh_jvp_da(a, d, UPLO, a_dot):
    lower = UPLO.upper() == "L"
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    dw, dV = N._eigh_jvp(a, a_dot, (w, V), UPLO)
    dA = _sym_from(_full(d, a), lower)
    return _diag_of(_T(dV) @ dA @ V + _T(V) @ dA @ dV)


def _eigvalsh_jvp_adj_a(a, d, UPLO, rbar):
    lower = UPLO.upper() == "L"
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    _, bw, bV = _eigh_jvp_core_adj(_sym_from(_full(d, a), lower), w, V, _bcast(rbar, np.shape(w)), 0.0)
    return N._eigh_bar([0.0, bV], a, (w, V), UPLO)


@tangent(N._eigvalsh_jvp)
def _(result, a, d, UPLO, a_dot, d_dot):
    return N._eigvalsh_jvp(a, d_dot, UPLO) + _eigvalsh_jvp_da(a, d, UPLO, a_dot)


@adjoint(N._eigvalsh_jvp)
def _(result, result_bar, a, d, UPLO):
    return (_eigvalsh_jvp_adj_a(a, d, UPLO, result_bar),
            _full_T(N._eigvalsh_bar(_bcast(result_bar, np.shape(result)), a, UPLO), d, a), None)


# ---------------------------------------------------------------------------
# atleast_1d/2d/3d: reshapes, linear in the adjoint or the tangent
# ---------------------------------------------------------------------------

def _atleast_bar_dot(g_dot, arys):
    """Tangent of _atleast_bar: the same reshapes (0.0 for a zero entry)."""
    if len(arys) == 1:
        return (N._reshape_to(g_dot, arys[0]),)
    return tuple(0.0 if _zero(b) else N._reshape_to(b, x) for b, x in zip(_seq(g_dot, len(arys)), arys))


def _atleast_bar_T(rbar, g, arys):
    """Adjoint of _atleast_bar(g, arys) in g."""
    r = _seq(rbar, len(arys))
    if len(arys) == 1:
        return 0.0 if _zero(r[0]) else np.reshape(r[0], np.shape(g))
    return ListBar(0.0 if _zero(gk) or _zero(rk) else np.reshape(rk, np.shape(gk)) for rk, gk in zip(r, g))


def _atleast_jvp_T(rbar, arys, d):
    """Adjoint of _atleast_jvp(fn, arys, d) in d (a sequence, one tangent per array)."""
    r = [rbar] if len(arys) == 1 else _seq(rbar, len(arys))
    return ListBar(0.0 if _zero(rk) else _full_T(N._reshape_to(rk, x), dk, x) for rk, dk, x in zip(r, d, arys))


@tangent(N._atleast_bar)
def _(result, g, arys, g_dot):
    return _atleast_bar_dot(g_dot, arys)


@adjoint(N._atleast_bar)
def _(result, result_bar, g, arys):
    return _atleast_bar_T(result_bar, g, arys), None


@tangent(N._atleast_jvp)
def _(result, fn, arys, d, d_dot):
    return N._atleast_jvp(fn, arys, d_dot)


@adjoint(N._atleast_jvp)
def _(result, result_bar, fn, arys, d):
    return None, None, _atleast_jvp_T(result_bar, arys, d)


# ---------------------------------------------------------------------------
# lstsq: the helpers are smooth in (a, b, x, adjoints) where a has full rank;
# the tangents differentiate the pseudo-inverse (constant rank) and the thin SVD
# (distinct nonzero singular values); the adjoints are the transposes of these
# linear tangent maps, assembled column by column (exact; O(size) tangent calls).
# ---------------------------------------------------------------------------

def _lstsq_setup(a, b, x):
    A = np.asarray(a, dtype=np.result_type(a, np.float64))
    m, n = A.shape
    P = np.linalg.pinv(A)
    X = _col(x, b)
    B = _col(b, b)
    return A, B, X, P, B - A @ X, np.eye(n) - P @ A, np.eye(m) - A @ P


def _pinv_dot(A, P, N, M, F):
    """Tangent of pinv(A) for A moving by F (constant rank)."""
    return -P @ F @ P + P @ _T(P) @ _T(F) @ M + N @ _T(F) @ _T(P) @ P


def _svd_dot(A, F):
    """(U, s, V, dU, dV) of the thin SVD A = U diag(s) V^T moving by F."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    V = _T(Vt)
    G = _T(U) @ F @ V
    s2 = s * s
    D = s2[None, :] - s2[:, None]
    ok = np.abs(D) > 1e-12 * max(float(np.max(s2)) if s2.size else 1.0, 1e-300)
    Dinv = np.where(ok, 1.0 / np.where(ok, D, 1.0), 0.0)
    OU = Dinv * (G * s[None, :] + _T(G) * s[:, None])
    OV = Dinv * (G * s[:, None] + _T(G) * s[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        si = np.where(s != 0, 1.0 / np.where(s != 0, s, 1.0), 0.0)
    dU = U @ OU + (np.eye(A.shape[0]) - U @ _T(U)) @ F @ V * si
    dV = V @ OV + (np.eye(A.shape[1]) - V @ _T(V)) @ _T(F) @ U * si
    return U, s, V, dU, dV


def _entry(seq, k):
    s = _seq(seq, 4)
    return s[k] if k < len(s) else 0.0


def _lstsq_bar_dot(bars, a, b, res, which, bars_dot, a_dot, b_dot, res_dot):
    """Tangent of _lstsq_bar(bars, a, b, res, which) (see numpy_rules)."""
    A, B, X, P, R, N, M = _lstsq_setup(a, b, res[0])
    k = X.shape[1]
    has_res = np.size(res[1]) > 0
    GX, dGX = [_col(_mat(_entry(s, 0), res[0]), b) for s in (bars, bars_dot)]
    GR, dGR = [_mat(_entry(s, 1), res[1]) if has_res else np.zeros(k) for s in (bars, bars_dot)]
    gs, dgs = [_mat(_entry(s, 3), res[3]) for s in (bars, bars_dot)]
    F = _mat(a_dot, A)
    dB = _col(_mat(b_dot, b), b)
    dX = _col(_mat(_entry(res_dot, 0), res[0]), b)
    dP = _pinv_dot(A, P, N, M, F)
    dR = dB - F @ X - A @ dX
    if which == 1:
        out = _T(dP) @ GX + _T(P) @ dGX + 2.0 * (dR * GR + R * dGR)
        return _uncol(out, b)
    dN = -(dP @ A + P @ F)
    PPt = P @ _T(P)
    out = (-(_T(dP) @ GX @ _T(X) + _T(P) @ dGX @ _T(X) + _T(P) @ GX @ _T(dX))
           + dR @ _T(GX) @ PPt + R @ _T(dGX) @ PPt + R @ _T(GX) @ (dP @ _T(P) + P @ _T(dP))
           + _T(dP) @ X @ _T(GX) @ N + _T(P) @ dX @ _T(GX) @ N + _T(P) @ X @ _T(dGX) @ N
           + _T(P) @ X @ _T(GX) @ dN
           - 2.0 * ((dR * GR + R * dGR) @ _T(X) + (R * GR) @ _T(dX)))
    if not (_zero(_entry(bars, 3)) and _zero(_entry(bars_dot, 3))):
        U, s, V, dU, dV = _svd_dot(A, F)
        out = out + (dU * gs) @ _T(V) + (U * gs) @ _T(dV) + (U * dgs) @ _T(V)
    return out


def _lstsq_jvp_dot(a, b, res, da, db, a_dot, b_dot, res_dot, da_dot, db_dot):
    """Tangent of _lstsq_jvp(a, b, res, da, db) (one of da, db is None; see numpy_rules)."""
    A, B, X, P, R, N, M = _lstsq_setup(a, b, res[0])
    has_res = np.size(res[1]) > 0
    F = _mat(a_dot, A)
    dB = _col(_mat(b_dot, b), b)
    dX = _col(_mat(_entry(res_dot, 0), res[0]), b)
    dP = _pinv_dot(A, P, N, M, F)
    dR = dB - F @ X - A @ dX
    dds = 0.0
    if da is not None:
        E, E2 = _mat(da, A), _mat(da_dot, A)
        dN = -(dP @ A + P @ F)
        PPt = P @ _T(P)
        ddX = (-(dP @ E @ X + P @ E2 @ X + P @ E @ dX)
               + (dP @ _T(P) + P @ _T(dP)) @ _T(E) @ R + PPt @ _T(E2) @ R + PPt @ _T(E) @ dR
               + dN @ _T(E) @ _T(P) @ X + N @ _T(E2) @ _T(P) @ X + N @ _T(E) @ _T(dP) @ X
               + N @ _T(E) @ _T(P) @ dX)
        Rd, ddR = -E @ X, -(E2 @ X + E @ dX)
        U, s, V, dU, dV = _svd_dot(A, F)
        dds = _diag_of(_T(dU) @ E @ V + _T(U) @ E2 @ V + _T(U) @ E @ dV)
    else:
        Bd, Bd2 = _col(_mat(db, b), b), _col(_mat(db_dot, b), b)
        ddX = dP @ Bd + P @ Bd2
        Rd, ddR = Bd, Bd2
    ddres = 2.0 * np.sum(dR * Rd + R * ddR, axis=0) if has_res else np.zeros(np.shape(res[1]))
    return ListBar([_uncol(ddX, b), ddres, 0.0, dds])


def _transpose_by_columns(tangent_fn, shapes, rbar):
    """The adjoint of a linear map given by its tangent function tangent_fn(*dots):
    one contribution per input, None for the inputs whose shape is None."""
    rb = rbar if isinstance(rbar, (list, tuple)) else [rbar]
    out = []
    for i, shape in enumerate(shapes):
        if shape is None:
            out.append(None)
            continue
        bar = np.zeros(shape)
        flat = bar.reshape(-1)
        for j in range(flat.size):
            e = np.zeros(shape)
            e.reshape(-1)[j] = 1.0
            dots = [0.0] * len(shapes)
            dots[i] = e
            t = tangent_fn(*dots)
            t = t if isinstance(t, (list, tuple)) else [t]
            flat[j] = sum(float(np.sum(np.asarray(r) * np.asarray(ti))) for r, ti in zip(rb, t)
                          if not _zero(r) and not _zero(ti))
        out.append(bar)
    return out


def _lstsq_bar_adj(bars, a, b, res, which, rbar):
    """(bars, a, b, res) adjoints of _lstsq_bar, the transpose of _lstsq_bar_dot."""
    if _zero(rbar):
        return ListBar([0.0] * 4), np.zeros(np.shape(a)), np.zeros(np.shape(b)), ListBar([0.0] * 4)
    has_res = np.size(res[1]) > 0
    shapes = [np.shape(res[0]), np.shape(res[1]) if has_res else None, np.shape(res[3]),
              np.shape(a), np.shape(b), np.shape(res[0])]

    def fn(dgx, dgr, dgs, da, db, dx):
        return _lstsq_bar_dot(bars, a, b, res, which, [dgx, dgr, 0.0, dgs], da, db, [dx, 0.0, 0.0, 0.0])
    gx, gr, gs, ga, gb, gxx = _transpose_by_columns(fn, shapes, rbar)
    return (ListBar([gx, 0.0 if gr is None else gr, 0.0, gs]), ga, gb, ListBar([gxx, 0.0, 0.0, 0.0]))


def _lstsq_jvp_adj(a, b, res, da, db, rbar):
    """(a, b, res, da, db) adjoints of _lstsq_jvp, the transpose of _lstsq_jvp_dot."""
    shapes = [np.shape(a), np.shape(b), np.shape(res[0]),
              np.shape(a) if da is not None else None, np.shape(b) if db is not None else None]

    def fn(ad, bd, xd, dad, dbd):
        return _lstsq_jvp_dot(a, b, res, da, db, ad, bd, [xd, 0.0, 0.0, 0.0], dad, dbd)
    ga, gb, gx, gda, gdb = _transpose_by_columns(fn, shapes, _seq(rbar, 4))
    return ga, gb, ListBar([gx, 0.0, 0.0, 0.0]), (None if da is None else _full_T(gda, da, a)), \
        (None if db is None else _full_T(gdb, db, b))


@tangent(N._lstsq_bar)
def _(result, bars, a, b, res, which, bars_dot, a_dot, b_dot, res_dot):
    return _lstsq_bar_dot(bars, a, b, res, which, bars_dot, a_dot, b_dot, res_dot)


@adjoint(N._lstsq_bar)
def _(result, result_bar, bars, a, b, res, which):
    bars_a_b_res = _lstsq_bar_adj(bars, a, b, res, which, result_bar)
    return bars_a_b_res[0], bars_a_b_res[1], bars_a_b_res[2], bars_a_b_res[3], None


@tangent(N._lstsq_jvp)
def _(result, a, b, res, da, db, a_dot, b_dot, res_dot, da_dot, db_dot):
    return _lstsq_jvp_dot(a, b, res, da, db, a_dot, b_dot, res_dot, da_dot, db_dot)


@adjoint(N._lstsq_jvp)
def _(result, result_bar, a, b, res, da, db):
    a_b_res_da_db = _lstsq_jvp_adj(a, b, res, da, db, result_bar)
    return a_b_res_da_db[0], a_b_res_da_db[1], a_b_res_da_db[2], a_b_res_da_db[3], a_b_res_da_db[4]


# ---------------------------------------------------------------------------
# third order: the linear helpers of the rules above
# ---------------------------------------------------------------------------

def _full_T_T(result_bar, rbar, x):
    """Adjoint of _full_T(rbar, d, x) in rbar."""
    if isinstance(x, (list, tuple)) and isinstance(result_bar, (list, tuple)):
        return _full(result_bar, x)
    return N._bcast(result_bar, np.shape(rbar))


@tangent(_full_T)
def _(result, rbar, d, x, rbar_dot):
    return _full_T(rbar_dot, d, x)


@adjoint(_full_T)
def _(result, result_bar, rbar, d, x):
    return _full_T_T(result_bar, rbar, x), None, None


@tangent(_seq)
def _(result, r, n, r_dot):
    return _seq(r_dot, n)


@adjoint(_seq)
def _(result, result_bar, r, n):
    return ListBar(_seq(result_bar, n)), None


@tangent(N._unreduce)
def _(result, g, x, axis, keepdims, g_dot):
    return _unreduce(_bcast(g_dot, np.shape(g)), x, axis, keepdims)


@adjoint(N._unreduce)
def _(result, result_bar, g, x, axis, keepdims):
    return np.reshape(unbroadcast(result_bar, result), np.shape(g)), None, None, None


@tangent(_unstack)
def _(result, rbar, g, axis, rbar_dot):
    return _unstack(rbar_dot, g, axis)


@adjoint(_unstack)
def _(result, result_bar, rbar, g, axis):
    return _stack_bar(result_bar, axis), None, None


# ---------------------------------------------------------------------------
# third order: the private helpers of the second-order rules above
# ---------------------------------------------------------------------------
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


# --- sinc: d3 sinc / dx3 -----------------------------------------------------

def _sinc_deriv3(x):
    """d3 sinc(x)/dx3 = ((3y^2 - 6) sin y + (6y - y^3) cos y) / (pi x^4), y = pi x
    (its Taylor series y/5 - y^3/42 + y^5/1080 - y^7/55440, times pi^3, near 0)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.pi * x
    small = np.abs(y) < 0.1
    ys = np.where(small, 1.0, y)
    s, c = np.sin(ys), np.cos(ys)
    d = ((3.0 * ys * ys - 6.0) * s + (6.0 * ys - ys ** 3) * c) / (np.pi * (ys / np.pi) ** 4)
    y2 = y * y
    series = np.pi ** 3 * y * (1.0 / 5.0 - y2 / 42.0 + y2 * y2 / 1080.0 - y2 ** 3 / 55440.0)
    d = np.where(small, series, d)
    return d[()] if d.ndim == 0 else d


@tangent(_sinc_deriv2)
def _(result, x, x_dot):
    return x_dot * _sinc_deriv3(x)


@adjoint(_sinc_deriv2)
def _(result, result_bar, x):
    return unbroadcast(result_bar * _sinc_deriv3(x), x)


# --- atleast_*d: reshapes ----------------------------------------------------

def _atleast_bar_T_T(result_bar, rbar, g, arys):
    """Adjoint of _atleast_bar_T(rbar, g, arys) in rbar: the reshapes back (0.0 where g had none)."""
    n = len(arys)
    r = _seq(rbar, n)
    b = [result_bar] if n == 1 else _seq(result_bar, n)
    gs = [g] if n == 1 else list(g)
    return ListBar(0.0 if _zero(bk) or _zero(rk) or _zero(gk) else np.reshape(_full(bk, gk), np.shape(rk))
                   for bk, rk, gk in zip(b, r, gs))


def _atleast_jvp_T_T(result_bar, rbar, arys, d):
    """Adjoint of _atleast_jvp_T(rbar, arys, d) in rbar."""
    n = len(arys)
    r = [rbar] if n == 1 else _seq(rbar, n)
    b = _seq(result_bar, n)
    out = [0.0 if _zero(rk) or _zero(bk) else np.reshape(_full(bk, x), np.shape(rk))
           for bk, rk, x in zip(b, r, arys)]
    return out[0] if n == 1 else ListBar(out)


@tangent(_atleast_bar_T)
def _(result, rbar, g, arys, rbar_dot):
    return _atleast_bar_T(rbar_dot, g, arys)


@adjoint(_atleast_bar_T)
def _(result, result_bar, rbar, g, arys):
    return _atleast_bar_T_T(result_bar, rbar, g, arys), None, None


@tangent(_atleast_jvp_T)
def _(result, rbar, arys, d, rbar_dot):
    return _atleast_jvp_T(rbar_dot, arys, d)


@adjoint(_atleast_jvp_T)
def _(result, result_bar, rbar, arys, d):
    return _atleast_jvp_T_T(result_bar, rbar, arys, d), None, None


# --- prod: the third-derivative tensor ----------------------------------------

def _prod_last(a, axis, *vs):
    """(a, vs) as float arrays with the reduced axes flattened last, and a function putting
    a result shaped like that back into the shape of a."""
    a = _arr(a)
    a = a.astype(np.result_type(a.dtype, np.float64))
    vs = [_arr(_bcast(0.0 if _zero(v) else v, a.shape)).astype(a.dtype) for v in vs]
    nd = a.ndim
    axes = _norm_axes(axis, nd)
    keep = [k for k in range(nd) if k not in axes]
    perm = keep + list(axes)
    tshape = tuple(a.shape[k] for k in perm)
    flat = tshape[:len(keep)] + (-1,)

    def back(y):
        return np.transpose(np.reshape(y, tshape), tuple(int(k) for k in np.argsort(perm)))
    return np.reshape(np.transpose(a, perm), flat), [np.reshape(np.transpose(v, perm), flat) for v in vs], back


def _prod_hvp_last(t, vt):
    """H v along the last axis (see _prod_hvp), exact with zeros, without writes in place."""
    n = t.shape[-1]
    cols = []
    for i in range(n):
        b = np.where(np.arange(n) == i, 1.0, t)
        oth = _prod_others(b, -1)
        cols.append(np.sum(vt * oth, axis=-1) - vt[..., i] * oth[..., i])
    return np.stack(cols, axis=-1)


def _prod_t3(a, u, v, axis):
    """T(u, v) for the third-derivative tensor T of prod(a, axis): out_i = sum over distinct
    j, m != i of u_j v_m prod_{k not in {i, j, m}} a_k (exact with zeros)."""
    a0 = a
    if np.ndim(a) == 0 or _zero(u) or _zero(v):
        return np.zeros(np.shape(a0))
    t, (ut, vt), back = _prod_last(a, axis, u, v)
    n = t.shape[-1]
    if not is_duck_array(t) and np.all(t != 0):
        # P / a_i [(SU - U_i)(SV - V_i) - (SUV - U_i V_i)] with U = u / a, V = v / a
        P = np.prod(t, axis=-1, keepdims=True)
        U, V = ut / t, vt / t
        SU, SV, SUV = [np.sum(y, axis=-1, keepdims=True) for y in (U, V, U * V)]
        return back(P / t * ((SU - U) * (SV - V) - (SUV - U * V)))
    cols = []
    for i in range(n):
        mask = np.arange(n) == i
        b = np.where(mask, 1.0, t)
        ui, vi = np.where(mask, 0.0, ut), np.where(mask, 0.0, vt)
        cols.append(np.sum(vi * _prod_hvp_last(b, ui), axis=-1))
    return back(np.stack(cols, axis=-1))


@tangent(_prod_hvp)
def _(result, a, v, axis, a_dot, v_dot):
    return _prod_hvp(a, v_dot, axis) + _prod_t3(a, v, _full(a_dot, a), axis)


@adjoint(_prod_hvp)
def _(result, result_bar, a, v, axis):
    return (_like(_prod_t3(a, v, result_bar, axis), a), unbroadcast(_prod_hvp(a, result_bar, axis), v), None)


# --- norm: d(_norm_bar_adj) ---------------------------------------------------

def _norm_core(x, r, p, kind, which):
    """(c, dc/dx, dc/dr) for c = _norm_grad_dx (which=1) or _norm_grad_dr (which=2), 0 where r == 0."""
    if kind == "flat":
        z = np.zeros(x.shape)
        return z, z, z
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ax, sx = np.abs(x), np.sign(x)
        if which == 1:
            c = (p - 1.0) * ax ** (p - 2.0) / r ** (p - 1.0)
            cx = (p - 2.0) * (p - 1.0) * sx * ax ** (p - 3.0) / r ** (p - 1.0) if p != 2.0 else np.zeros(x.shape)
            cr = -(p - 1.0) ** 2 * ax ** (p - 2.0) / r ** p
        else:
            c = -(p - 1.0) * sx * ax ** (p - 1.0) / r ** p
            cx = -(p - 1.0) ** 2 * ax ** (p - 2.0) / r ** p
            cr = p * (p - 1.0) * sx * ax ** (p - 1.0) / r ** (p + 1.0)
    ok = r != 0
    return tuple(np.where(np.isfinite(y) & ok, y, 0.0) * np.ones(x.shape) for y in (c, cx, cr))


def _norm_bar_adj_setup(g, x, ord, axis, keepdims, result, rbar, which):
    G, xa, r, p, axes, kind = _norm_bar_parts(g, x, ord, axis, keepdims, result)
    c, cx, cr = _norm_core(xa, r, p, kind, which)
    return G, xa, _full(rbar, xa), axes, c, cx, cr


def _norm_bar_adj_dot(g, x, ord, axis, keepdims, result, rbar, which, g_dot, x_dot, result_dot, rbar_dot):
    """Tangent of _norm_bar_adj: G c(x, r) rbar (reduced over the norm's axes when which=2)."""
    G, xa, rb, axes, c, cx, cr = _norm_bar_adj_setup(g, x, ord, axis, keepdims, result, rbar, which)
    out = np.zeros(xa.shape)
    if not _zero(g_dot):
        out = out + _unreduce(_bcast(g_dot, np.shape(g)), xa, axes, keepdims) * c * rb
    if not _zero(rbar_dot):
        out = out + G * c * _full(rbar_dot, xa)
    if not _zero(x_dot):
        out = out + G * rb * cx * _full(x_dot, xa)
    if not _zero(result_dot):
        out = out + G * rb * cr * _unreduce(_bcast(result_dot, np.shape(result)), xa, axes, keepdims)
    if which == 1:
        return _like(out, x)
    return unbroadcast(np.sum(out, axis=axes, keepdims=keepdims), result)


def _norm_bar_adj_T(g, x, ord, axis, keepdims, result, rbar, which, B):
    """Adjoint of _norm_bar_adj in (g, x, result, rbar) for the cotangent B."""
    G, xa, rb, axes, c, cx, cr = _norm_bar_adj_setup(g, x, ord, axis, keepdims, result, rbar, which)
    if _zero(B):
        return 0.0, 0.0, 0.0, 0.0
    Bf = _full(B, xa) if which == 1 else _unreduce(_bcast(B, np.shape(result)), xa, axes, keepdims)
    Bf = Bf * np.ones(xa.shape)

    def red(y, like):
        return unbroadcast(np.sum(y, axis=axes, keepdims=keepdims), like)
    return (red(Bf * c * rb, g), _like(G * rb * cx * Bf, x), red(G * rb * cr * Bf, result),
            unbroadcast(G * c * Bf, rbar))


@tangent(_norm_bar_adj)
def _(result, g, x, ord, axis, keepdims, norm, rbar, which, g_dot, x_dot, norm_dot, rbar_dot):
    return _norm_bar_adj_dot(g, x, ord, axis, keepdims, norm, rbar, which, g_dot, x_dot, norm_dot, rbar_dot)


@adjoint(_norm_bar_adj)
def _(result, result_bar, g, x, ord, axis, keepdims, norm, rbar, which):
    g_x_norm_rbar = _norm_bar_adj_T(g, x, ord, axis, keepdims, norm, rbar, which, result_bar)
    return (g_x_norm_rbar[0], g_x_norm_rbar[1], None, None, None, g_x_norm_rbar[2], g_x_norm_rbar[3], None)


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


# --- power: d/dx1 and d/dx2 of _power_dx1_dx2 = x1**(x2-1) (1 + x2 log x1) --------

def _power_dx1_dx2_d(x1, x2, which):
    """d _power_dx1_dx2 / d x1 (which=0) or / d x2 (1); log x1 taken as 0 where x1 <= 0."""
    pos = np.greater(x1, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        L = np.log(np.where(pos, x1, 1.0))
        p = np.power(x1, np.subtract(x2, 1.0))
        if which == 0:
            d = (x2 - 1.0) * np.power(x1, np.subtract(x2, 2.0)) * (1.0 + x2 * L) + _safe_div(p * x2, x1) * pos
        else:
            d = p * L * (2.0 + x2 * L)
    d = np.asarray(d)
    return d[()] if d.ndim == 0 else d


@tangent(_power_dx1_dx2)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * _power_dx1_dx2_d(x1, x2, 0) + x2_dot * _power_dx1_dx2_d(x1, x2, 1)


@adjoint(_power_dx1_dx2)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * _power_dx1_dx2_d(x1, x2, 0), x1),
            unbroadcast(result_bar * _power_dx1_dx2_d(x1, x2, 1), x2))


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


@tangent(_solve_bar_b_T)
def _(result, rbar, gb, b, rbar_dot):
    return _solve_bar_b_T(rbar_dot, gb, b)


@adjoint(_solve_bar_b_T)
def _(result, result_bar, rbar, gb, b):
    return _solve_bar_b_T_T(result_bar, rbar, gb, b), None, None


# --- structure and transposes used by the second-order rules -------------------

def _like_T(rbar, g, x):
    """Adjoint of _like(g, x) in g: the structure of x undone."""
    if _zero(rbar):
        return 0.0
    y = _full(rbar, x)
    if np.size(y) == np.size(g) and np.shape(y) != np.shape(g):
        return np.reshape(y, np.shape(g))
    return unbroadcast(y, g)


@tangent(N._like)
def _(result, g, x, g_dot):
    return _like(_bcast(g_dot, np.shape(g)), x)


@adjoint(N._like)
def _(result, result_bar, g, x):
    return _like_T(result_bar, g, x), None


@tangent(N._T)
def _(result, x, x_dot):
    return _T(x_dot)


@adjoint(N._T)
def _(result, result_bar, x):
    return unbroadcast(_T(result_bar), x)


@tangent(_inv_T)
def _(result, a, a_dot):
    return -_T(np.linalg.inv(a) @ _mat(a_dot, a) @ np.linalg.inv(a))


@adjoint(_inv_T)
def _(result, result_bar, a):
    return _inv_bar(_T(_mat(result_bar, a)), np.linalg.inv(a))


def _mat_T(rbar, x):
    """Adjoint of _mat(x, like) in x."""
    if _zero(x) or _zero(rbar):
        return 0.0
    return unbroadcast(rbar, x)


@tangent(_mat)
def _(result, x, like, x_dot):
    return _mat(x_dot, like)


@adjoint(_mat)
def _(result, result_bar, x, like):
    return _mat_T(result_bar, x), None


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


# --- cumprod (arguments without zeros, like the second-order rules) ---------------
# On the cumulated axis (moved last) with x = a, both helpers are one of
#   P(u, v, w) = -u rcumsum(v w) / x^2        Q(u, v) = cumsum(u / x) v
# _cumprod_bar_adj(g, a, axis, result, rbar, which): P(rbar, g, result) (which=1),
#   Q(rbar, result) (0), Q(rbar, g) (2);  _cumprod_jvp_adj(a, d, axis, result, rbar, which):
#   P(d, rbar, result) (0), Q(d, rbar) (1).
_CP_FORMS = {("bar", 1): ("P", "rbar", "g", "result"), ("bar", 0): ("Q", "rbar", "result"),
             ("bar", 2): ("Q", "rbar", "g"), ("jvp", 0): ("P", "d", "rbar", "result"),
             ("jvp", 1): ("Q", "d", "rbar")}


def _cp_move(y, axis, shape):
    y = _bcast(0.0 if _zero(y) else y, shape)
    return np.moveaxis(y, axis, -1) if axis is not None else np.ravel(y)


def _cp_back(y, axis, shape):
    return np.reshape(y, shape) if axis is None else np.moveaxis(y, -1, axis)


def _cp_shapes(kind, a, result):
    """The shape of each argument (with axis=None the cumulated product is flat, a is not)."""
    sa, sr = np.shape(a), np.shape(result)
    return {"a": sa, "d": sa, "g": sr, "result": sr, "rbar": sa if kind == "bar" else sr}


def _cp_setup(kind, which, a, axis, vals):
    form, *slots = _CP_FORMS[(kind, which)]
    shapes = _cp_shapes(kind, a, vals["result"])
    x = _cp_move(_arr(a), axis, shapes["a"])
    if not np.all(x != 0):
        raise NotImplementedError("diffc: third derivative of cumprod at an argument with zeros "
                                  "is not supported")
    out_shape = shapes["a"] if form == "P" else shapes["result"]
    return form, slots, shapes, out_shape, x, [_cp_move(vals[s], axis, shapes[s]) for s in slots]


def _cp_dot(kind, which, a, axis, vals, dots):
    """Tangent of the helper (before its final unbroadcast) for the tangents dots (by name, and 'a')."""
    form, slots, shapes, out_shape, x, U = _cp_setup(kind, which, a, axis, vals)
    dU = [_cp_move(dots.get(s, 0.0), axis, shapes[s]) for s in slots]
    dx = _cp_move(dots.get("a", 0.0), axis, shapes["a"])
    if form == "P":
        (u, v, w), (du, dv, dw) = U, dU
        c = _rcumsum(v * w)
        out = -(du * c + u * _rcumsum(dv * w + v * dw)) / (x * x) + 2.0 * u * c * dx / x ** 3
    else:
        (u, v), (du, dv) = U, dU
        out = np.cumsum(du / x - u * dx / (x * x), axis=-1) * v + np.cumsum(u / x, axis=-1) * dv
    return _cp_back(out, axis, out_shape)


def _cp_T(kind, which, a, axis, vals, B):
    """Adjoints (by name, and 'a'; full shape) of the helper for the cotangent B."""
    form, slots, shapes, out_shape, x, U = _cp_setup(kind, which, a, axis, vals)
    Bm = _cp_move(B, axis, out_shape)
    bars = {}
    if form == "P":
        u, v, w = U
        c = _rcumsum(v * w)
        cs = np.cumsum(-Bm * u / (x * x), axis=-1)
        parts = [-Bm * c / (x * x), cs * w, cs * v]
        bars["a"] = 2.0 * Bm * u * c / x ** 3
    else:
        u, v = U
        s = _rcumsum(Bm * v)
        parts = [s / x, Bm * np.cumsum(u / x, axis=-1)]
        bars["a"] = -s * u / (x * x)
    for name, part in zip(slots, parts):
        bars[name] = bars.get(name, 0.0) + part
    return {k: _cp_back(y, axis, shapes[k]) for k, y in bars.items()}


def _cumprod_bar_adj_dot(g, a, axis, result, rbar, which, g_dot, a_dot, result_dot, rbar_dot):
    out = _cp_dot("bar", which, a, axis, {"g": g, "result": result, "rbar": rbar},
                  {"g": g_dot, "a": a_dot, "result": result_dot, "rbar": rbar_dot})
    if which == 1:
        return np.reshape(out, np.shape(a))
    return unbroadcast(out, g if which == 0 else result)


def _cumprod_bar_adj_T(g, a, axis, result, rbar, which, B):
    """Adjoints of _cumprod_bar_adj in (g, a, result, rbar)."""
    if _zero(B):
        return 0.0, 0.0, 0.0, 0.0
    bars = _cp_T("bar", which, a, axis, {"g": g, "result": result, "rbar": rbar}, B)
    return (unbroadcast(bars.get("g", 0.0), g), _like(np.reshape(bars["a"], np.shape(a)), a),
            unbroadcast(bars.get("result", 0.0), result), unbroadcast(bars.get("rbar", 0.0), rbar))


@tangent(_cumprod_bar_adj)
def _(result, g, a, axis, cumulated, rbar, which, g_dot, a_dot, cumulated_dot, rbar_dot):
    return _cumprod_bar_adj_dot(g, a, axis, cumulated, rbar, which, g_dot, a_dot, cumulated_dot, rbar_dot)


@adjoint(_cumprod_bar_adj)
def _(result, result_bar, g, a, axis, cumulated, rbar, which):
    g_a_c_r = _cumprod_bar_adj_T(g, a, axis, cumulated, rbar, which, result_bar)
    return g_a_c_r[0], g_a_c_r[1], None, g_a_c_r[2], g_a_c_r[3], None


def _cumprod_jvp_adj_dot(a, d, axis, result, rbar, which, a_dot, d_dot, result_dot, rbar_dot):
    out = _cp_dot("jvp", which, a, axis, {"d": _full(d, a), "result": result, "rbar": rbar},
                  {"d": d_dot, "a": a_dot, "result": result_dot, "rbar": rbar_dot})
    if which == 0:
        return np.reshape(out, np.shape(a))
    return unbroadcast(np.reshape(out, np.shape(result)), result)


def _cumprod_jvp_adj_T(a, d, axis, result, rbar, which, B):
    """Adjoints of _cumprod_jvp_adj in (a, d, result, rbar)."""
    if _zero(B):
        return 0.0, 0.0, 0.0, 0.0
    bars = _cp_T("jvp", which, a, axis, {"d": _full(d, a), "result": result, "rbar": rbar}, B)
    return (_like(np.reshape(bars["a"], np.shape(a)), a), _full_T(bars.get("d", 0.0), d, a),
            unbroadcast(bars.get("result", 0.0), result), unbroadcast(bars.get("rbar", 0.0), rbar))


@tangent(_cumprod_jvp_adj)
def _(result, a, d, axis, cumulated, rbar, which, a_dot, d_dot, cumulated_dot, rbar_dot):
    return _cumprod_jvp_adj_dot(a, d, axis, cumulated, rbar, which, a_dot, d_dot, cumulated_dot, rbar_dot)


@adjoint(_cumprod_jvp_adj)
def _(result, result_bar, a, d, axis, cumulated, rbar, which):
    a_d_c_r = _cumprod_jvp_adj_T(a, d, axis, cumulated, rbar, which, result_bar)
    return a_d_c_r[0], a_d_c_r[1], None, a_d_c_r[2], a_d_c_r[3], None


# --- einsum: _einsum_bars_adj_ops(g, subscripts, operands, rbar) is multilinear --------
# bars_j = sum_{i != j} d/d op_j of S(g; operands with op_i <- r_i), S the full contraction
# of g with einsum(subscripts, *operands), r = rbar[1:]

def _einsum_ops_with(operands, repl):
    ops = list(operands)
    for k, y in repl.items():
        ops[k] = _full(y, operands[k])
    return ops


def _einsum_bars_adj_ops_dot(g, subscripts, operands, rbar, g_dot, operands_dot, rbar_dot):
    n = len(operands)
    r, rd = _seq(rbar, n + 1)[1:], _seq(rbar_dot, n + 1)[1:]
    od = _seq(operands_dot, n)
    ins, out = _einsum_parse(subscripts, operands)
    bars = [0.0] * n
    for j in range(n):
        for i in range(n):
            if i == j:
                continue
            if not _zero(r[i]) and not _zero(g_dot):
                bars[j] = bars[j] + _einsum_bar_one(_full(g_dot, g), ins, out, _einsum_ops_with(operands, {i: r[i]}), j)
            if _zero(g):
                continue
            if not _zero(rd[i]):
                bars[j] = bars[j] + _einsum_bar_one(g, ins, out, _einsum_ops_with(operands, {i: rd[i]}), j)
            if _zero(r[i]):
                continue
            for k in range(n):
                if k not in (i, j) and not _zero(od[k]):
                    bars[j] = bars[j] + _einsum_bar_one(g, ins, out,
                                                        _einsum_ops_with(operands, {i: r[i], k: od[k]}), j)
    return ListBar(bars)


def _einsum_bars_adj_ops_T(g, subscripts, operands, rbar, B):
    """Adjoints of _einsum_bars_adj_ops in (g, operands, rbar) for the cotangent B (one per operand)."""
    n = len(operands)
    r, b = _seq(rbar, n + 1)[1:], _seq(B, n)
    ins, out = _einsum_parse(subscripts, operands)
    g_bar, ops_bar = 0.0, [0.0] * n
    r_bar = [0.0] + list(_einsum_bars_adj_ops(g, subscripts, operands, (0.0,) + tuple(b)))
    for j in range(n):
        if _zero(b[j]):
            continue
        for i in range(n):
            if i == j or _zero(r[i]):
                continue
            ops = _einsum_ops_with(operands, {i: r[i], j: b[j]})
            g_bar = g_bar + np.einsum(subscripts, *ops)
            if _zero(g):
                continue
            for k in range(n):
                if k not in (i, j):
                    ops_bar[k] = ops_bar[k] + _einsum_bar_one(g, ins, out, ops, k)
    return unbroadcast(g_bar, g), ListBar(ops_bar), ListBar(r_bar)


@tangent(_einsum_bars_adj_ops)
def _(result, g, subscripts, operands, rbar, g_dot, operands_dot, rbar_dot):
    return _einsum_bars_adj_ops_dot(g, subscripts, operands, rbar, g_dot, operands_dot, rbar_dot)


@adjoint(_einsum_bars_adj_ops)
def _(result, result_bar, g, subscripts, operands, rbar):
    g_ops_rbar = _einsum_bars_adj_ops_T(g, subscripts, operands, rbar, result_bar)
    return g_ops_rbar[0], None, g_ops_rbar[1], g_ops_rbar[2]


# _einsum_bars_adj_g(g, subscripts, operands, rbar) = sum_i einsum(operands with op_i <- r_i):
# linear in rbar, multilinear in the operands (g gives the shape only)
def _einsum_bars_adj_g_T(g, subscripts, operands, rbar, B):
    """Adjoints of _einsum_bars_adj_g in (operands, rbar) for the cotangent B."""
    n = len(operands)
    if _zero(B):
        return ListBar([0.0] * n), ListBar([0.0] * (n + 1))
    Bf = _bcast(B, np.shape(np.einsum(subscripts, *operands)))
    r_bar = ListBar([0.0] + list(_einsum_bars(Bf, subscripts, operands)[1:]))
    return _einsum_bars_adj_ops(Bf, subscripts, operands, rbar), r_bar


@tangent(_einsum_bars_adj_g)
def _(result, g, subscripts, operands, rbar, operands_dot, rbar_dot):
    return unbroadcast(_einsum_jvp_jvp(subscripts, operands, _seq(rbar, len(operands) + 1)[1:], operands_dot,
                                       _seq(rbar_dot, len(operands) + 1)[1:]), g)


@adjoint(_einsum_bars_adj_g)
def _(result, result_bar, g, subscripts, operands, rbar):
    ops_rbar = _einsum_bars_adj_g_T(g, subscripts, operands, rbar, result_bar)
    return None, None, ops_rbar[0], ops_rbar[1]
