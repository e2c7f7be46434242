"""Derivative rules for NumPy functions, ufuncs, array methods and attributes.

Every rule here is a template (see `diffc.template`): its body is straight-line
code that the compiler inlines, with the parameters replaced by the call's
operands.  Anything that needs a loop or a branch lives in a private
module-level helper (``_name``) written in plain NumPy; helpers use only numpy,
math, other helpers of this module and `diffc.runtime`, so ``diffc export``
can copy them into a standalone module.

Conventions (shared with the compiler):

* adjoint rule ``(result, result_bar, <numpy's parameters in numpy's order>)``
  returns one contribution per leading differentiable parameter, shaped like
  that parameter (`ListBar` for a list/tuple parameter, ``None`` for none);
* tangent rule ``(result, <numpy's parameters>, <p>_dot...)`` returns a
  sum/difference of terms, each term mentioning exactly one ``*_dot`` name;
  a tangent may be smaller than the result when it broadcasts to it, so every
  rule that is not elementwise first widens its incoming tangent with
  `_full`;
* rules with a ``*vararg`` (``np.einsum``, ``np.atleast_1d``, the method form
  of ``x.reshape(2, 3)``/``x.transpose(1, 0)``): in a tangent rule the tangents
  of the vararg arrive as ONE tuple parameter ``<vararg>_dot`` placed before
  the ``*vararg`` (``(result, subscripts, operands_dot, *operands)``), with a
  zero (``0.0``) for a constant operand; an adjoint rule returns a helper's
  tuple with one entry per parameter (``None`` for non-differentiable ones);
* a primitive whose result is a tuple or list (``np.split``,
  ``np.linalg.slogdet``, ``eigh``, ``lstsq``) receives ``result_bar`` as a
  sequence whose entries may be ``0.0`` (zero), and its tangent is a `ListBar`.

Subgradients: ``abs``/``sign`` use 0 at 0; ``max``/``min``/``amax``/``maximum``
and the ``inf``-norms split the gradient evenly among tied elements; ``clip``
passes the gradient to ``a`` on the closed interval ``[a_min, a_max]``.
"""

import math

import numpy as np

from diffc import effects
from diffc.rules.complex_rules import abs_slope, real_cotangent, real_if_real, no_derivative
from diffc.rules.complex_rules import cholesky_bar_complex, cholesky_jvp_complex
from diffc.runtime import ListBar, index_concat, is_duck_array, unbroadcast, widen_like

from . import adjoint, nondiff, tangent
# np.matmul and the @ operator share one adjoint (and its higher-order rules in syntax.py).
from .operators import _matmul_bar_a, _matmul_bar_b  # noqa: E402

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------

def _zero(x):
    """True for the symbolic zero adjoint/tangent (a Python or numpy scalar 0)."""
    return x is None or (isinstance(x, (int, float, np.number)) and not isinstance(x, bool) and x == 0)


def _bcast(g, shape):
    """g broadcast to shape, materialized (writable) when broadcasting was needed."""
    if np.shape(g) == tuple(shape):
        return g
    if is_duck_array(g):
        return np.broadcast_to(g, shape).copy()     # stays in g's library (lazy for Dask)
    out = np.empty(shape, dtype=np.result_type(g, np.float64) if np.ndim(g) == 0 and
                   not isinstance(g, np.ndarray) else np.asarray(g).dtype)
    out[...] = g
    return out


def _arr(a):
    """a as an array without leaving its library: np.asarray for NumPy values, lists and
    scalars; an array of another library (Dask, CuPy) is returned unchanged."""
    return a if is_duck_array(a) else np.asarray(a)


def _zeros_of(a):
    """float64 zeros shaped like a, in a's library (np.zeros(np.shape(a)) for NumPy values)."""
    return np.zeros_like(a, dtype=np.float64)


def _dense(d, x):
    """The tangent d of x as an array (lists of tangents, with 0.0 for zero, are stacked)."""
    if isinstance(x, (list, tuple)):
        if isinstance(d, (list, tuple)):
            parts = [_dense(di, xi) for di, xi in zip(d, x)]
            ref = next((p for p in parts if is_duck_array(p)), None)
            if ref is not None:         # stack in the tangents' library (np.array would compute)
                return np.stack([p if is_duck_array(p) else
                                 np.zeros_like(ref) + np.asarray(p, like=ref) for p in parts])
            return np.array(parts)
        return _bcast(np.asarray(d, dtype=np.float64), np.shape(x))
    return d


def _full(d, x):
    """The tangent d widened to the full shape of x (tangents may be broadcast-smaller)."""
    d = _dense(d, x)
    return _bcast(d, np.shape(x))


def _like(g, x):
    """The gradient g (an array shaped like x) in x's structure: a ListBar for a list."""
    if isinstance(x, (list, tuple)):
        g = _bcast(g, np.shape(x))
        return ListBar(_like(g[k], xk) for k, xk in enumerate(x))
    if isinstance(x, np.ndarray) and np.shape(g) != x.shape:
        return np.reshape(g, x.shape)
    return g


def _cast_like(g, x):
    """g cast to the floating dtype of x (gradients keep their argument's dtype)."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc" and _arr(g).dtype != x.dtype:
        return _arr(g).astype(x.dtype)
    if is_duck_array(x) and x.dtype.kind in "fc" and is_duck_array(g) and g.dtype != x.dtype:
        return g.astype(x.dtype)
    if isinstance(x, np.floating) and not isinstance(g, np.ndarray):
        return x.dtype.type(g)
    return g


def _one_hot(idx, n, like):
    """float64 matrix (idx.size, n) with a 1 at [k, idx.flat[k]], in the library of like.
    Scatter-adding g at idx (np.add.at) is one_hot.T @ g; a product dispatches where ufunc.at
    may not exist (Dask)."""
    oh = (np.ravel(idx)[:, None] == np.arange(n)).astype(np.float64)
    return np.asarray(oh, like=like)


def _split_at(g, sizes, axis):
    """np.split(g, np.cumsum(sizes)[:-1], axis) (slices for Dask, which has no np.split)."""
    if not is_duck_array(g):
        return np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    ax = axis % g.ndim
    pieces, start = [], 0
    for n in sizes:
        pieces.append(g[(slice(None),) * ax + (slice(start, start + int(n)),)])
        start += int(n)
    return pieces


def _norm_axes(axis, ndim):
    """axis (None, int or tuple) as a sorted tuple of non-negative ints."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        return tuple(sorted(int(a) % ndim for a in axis))
    return (int(axis) % ndim,)


def _count(x, axis):
    """How many elements a reduction of x over axis combines."""
    shape = np.shape(x)
    n = 1
    for k in _norm_axes(axis, len(shape)):
        n *= shape[k]
    return n


def _unreduce(g, x, axis, keepdims):
    """g (shaped like a reduction of x) with the reduced axes put back as size 1."""
    nd = np.ndim(x)
    if keepdims or nd == 0:
        return g
    axes = _norm_axes(axis, nd)
    if not axes:
        return g
    return np.expand_dims(g, axes)


def _sum_bar(g, a, axis, keepdims):
    if axis is None and type(a) is np.ndarray and a.dtype == np.float64 and np.ndim(g) == 0:
        return np.full(a.shape, g)           # the common full reduction, without helpers
    if is_duck_array(a):
        return widen_like(_unreduce(g, a, axis, keepdims), a)
    return _like(_bcast(_unreduce(g, a, axis, keepdims), np.shape(a)), a)


def _sum_bar_times(g, a, y, zero_guarded=False, axis=None, keepdims=False):
    """``_sum_bar(g, a, axis, keepdims) * y``: the adjoint of ``np.sum(a, axis, keepdims)``
    spread over a, times y.

    In: g the adjoint of the sum (shaped like its result), a its operand, y any
    factor.  ``zero_guarded``: the spread was guarded by ``nonzero(g)`` (a plain
    zero g gave the spread 0.0, so the product is ``0.0 * y``; a is not looked at).
    Out: the same value as the expression it replaces (optimize/spread.py).
    For float64 ndarrays a and y of the same shape and a float or float64 g,
    ``g * y`` with g's reduced axes put back as size 1: broadcasting repeats g
    over those axes exactly as the spread does, so it is never materialized."""
    if zero_guarded and type(g) is float and g == 0.0:
        return 0.0 * y
    if type(y) is np.ndarray and type(a) is np.ndarray and y.dtype == np.float64 and a.dtype == np.float64 \
            and (y is a or y.shape == a.shape):
        tg = type(g)
        if tg is float or tg is np.float64:
            if axis is None or a.ndim <= 1:
                return g * y
        elif tg is np.ndarray and g.dtype == np.float64:
            if keepdims and g.ndim == a.ndim:
                return g * y
            if not keepdims and axis is not None:
                return _unreduce(g, a, axis, keepdims) * y
    return _sum_bar(g, a, axis, keepdims) * y


def times_one_minus_square(g, r):
    """``g * (1.0 - r * r)`` (the adjoint of np.tanh, r its result), the same value.

    For float64 ndarrays of one shape with 16384 elements or more, one temporary
    is made and updated in place instead of three: new arrays that large cost
    fresh pages (page faults), which dominate the arithmetic (512x1024: 2.8 ms
    -> 0.2 ms here).  The product is g's times the factor's, commuted, so bit
    for bit the same.  Smaller or other values: the expression itself.
    Generated only by first-order code (optimize/simplify.py `absorb_scales`)."""
    if type(r) is np.ndarray and r.size >= 16384 and type(g) is np.ndarray and g.shape == r.shape \
            and g.dtype == np.float64 and r.dtype == np.float64:
        t = r * r
        np.subtract(1.0, t, out=t)
        t *= g
        return t
    return g * (1.0 - r * r)


def _mean_bar(g, a, axis, keepdims):
    if is_duck_array(a):
        return widen_like(_unreduce(g, a, axis, keepdims) / _count(a, axis), a)
    return _like(_bcast(_unreduce(g, a, axis, keepdims) / _count(a, axis), np.shape(a)), a)


def _masked_mean_bar(g, a, axis, keepdims, where):
    """Adjoint of np.mean(a, axis, keepdims=keepdims, where=where): g over the count of
    selected elements, at the selected elements."""
    mask = np.broadcast_to(where, np.shape(a))
    count = np.sum(mask, axis=axis, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = _unreduce(g, a, axis, keepdims) / count
    return np.where(mask, share, 0.0)


def _mean_jvp(a, a_dot, axis, keepdims):
    return np.mean(_full(a_dot, a), axis=axis, keepdims=keepdims)


def _prod_others(a, axis):
    """For each element of a: the product of the other elements of its reduction
    (exact when a has zeros: exclusive cumulative products from both ends)."""
    a = _arr(a)
    nd = a.ndim
    if nd == 0:
        return np.ones_like(a, dtype=np.result_type(a, np.float64))
    axes = _norm_axes(axis, nd)
    keep = [k for k in range(nd) if k not in axes]
    perm = keep + list(axes)
    t = np.transpose(a, perm)
    tshape = t.shape
    lead = tshape[:len(keep)]
    t = t.reshape(lead + (-1,))
    ones = np.ones(lead + (1,), dtype=np.result_type(a, np.float64), like=a)
    left = np.cumprod(np.concatenate([ones, t[..., :-1]], axis=-1), axis=-1)
    right = np.cumprod(np.concatenate([ones, t[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = (left * right).reshape(tshape)
    return np.transpose(others, tuple(int(k) for k in np.argsort(perm)))


def _prod_bar(g, a, axis, keepdims):
    return _like(_unreduce(g, a, axis, keepdims) * _prod_others(a, axis), a)


def _prod_jvp(a, a_dot, axis, keepdims):
    return np.sum(_full(a_dot, a) * _prod_others(a, axis), axis=axis, keepdims=keepdims)


def _extreme_weights(a, axis, result, keepdims):
    """Weights of the elements reaching the max/min: 1/(number of ties), else 0.
    The gradient of a max or min is split evenly among tied elements."""
    a = _arr(a)
    mask = a == _unreduce(result, a, axis, keepdims)
    # a reduction with no match (initial= won, or every element masked by where=) gets none
    return mask / np.maximum(np.sum(mask, axis=axis, keepdims=True), 1)


def _extreme_bar(g, a, axis, keepdims, result):
    """Adjoint of np.max/np.min (and amax/amin, methods) of a over axis.

    In: g shaped like the result, a the operand, result the reduction's value.
    Out: g spread over the elements of a reaching the extreme, split evenly
    among ties.  Fast path for a float64 ndarray: when every reduction has
    exactly one extreme element (as many matches as results, and no NaN
    result, whose reduction has no match), the weights are the mask itself,
    so the tie counts and the division are skipped; the values are the same.
    When the reduced axes are a's last ones and each reduction combines 8 or
    more elements, g is written at the matches of a zero array (the matches,
    one per reduction, come in the order of g's entries) instead of
    multiplying the mask by g broadcast over those axes (about twice as fast;
    elsewhere the same values, 0.0 where the product gives -0.0)."""
    if type(a) is np.ndarray and a.dtype == np.float64:
        full = result if keepdims else _unreduce(result, a, axis, keepdims)
        mask = a == full
        n = result.size if type(result) is np.ndarray else np.size(result)
        if np.count_nonzero(mask) == n and not np.count_nonzero(np.isnan(result)):
            if not keepdims:
                g = _unreduce(g, a, axis, keepdims)
            if n and a.size >= 8 * n:
                if type(g) is np.ndarray and g.dtype == np.float64 and g.shape == np.shape(full) \
                        and _reduces_last_axes(a.ndim, axis):
                    out = np.zeros(a.shape, like=a)
                    out[mask] = g.ravel()
                    return out
                if type(g) is float or type(g) is np.float64:
                    out = np.zeros(a.shape, like=a)
                    out[mask] = g               # the same g at every match
                    return out
            return g * mask
        return _unreduce(g, a, axis, keepdims) * (mask / np.sum(mask, axis=axis, keepdims=True))
    return _like(_unreduce(g, a, axis, keepdims) * _extreme_weights(a, axis, result, keepdims), a)


def _reduces_last_axes(ndim, axis):
    """Whether a reduction over axis (None, an int or a tuple) combines the last axes of an ndim array."""
    if axis is None:
        return True
    if type(axis) is int:
        return axis == -1 or axis == ndim - 1
    axes = _norm_axes(axis, ndim)
    return axes == tuple(range(ndim - len(axes), ndim))


def _extreme_jvp(a, a_dot, axis, keepdims, result):
    return np.sum(_full(a_dot, a) * _extreme_weights(a, axis, result, keepdims),
                  axis=axis, keepdims=keepdims)


def _ddof(ddof, correction):
    """numpy 2's correction= is another name for ddof."""
    return ddof if correction is None else correction


def _var_bar(g, a, axis, ddof, keepdims, scale):
    """Adjoint of var (scale=None) or std (scale=result: divides by 2*std)."""
    x = _arr(a)
    n = _count(x, axis) - ddof
    centered = x - np.mean(x, axis=axis, keepdims=True)
    g = _unreduce(g, x, axis, keepdims)
    if scale is not None:
        # std == 0 (one element, an axis of length 1, equal elements): 0, not 0/0.
        g = _div_or_zero(g, 2.0 * _unreduce(scale, x, axis, keepdims))
    return _like(g * (2.0 / n) * centered, a)


def _var_jvp(a, a_dot, axis, ddof, keepdims, scale):
    x = _arr(a)
    n = _count(x, axis) - ddof
    centered = x - np.mean(x, axis=axis, keepdims=True)
    t = np.sum(_full(a_dot, a) * centered, axis=axis, keepdims=keepdims) * (2.0 / n)
    if scale is not None:
        t = _div_or_zero(t, 2.0 * scale)
    return t


def _cumsum_bar(g, a, axis, result):
    g = _bcast(g, np.shape(result))
    if axis is None:
        return _like(np.reshape(np.cumsum(np.ravel(g)[::-1])[::-1], np.shape(a)), a)
    return _like(np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis), a)


def _cumprod_terms(a, axis):
    """a as an array with the cumulated axis last, and a function putting it back."""
    x = _arr(a)
    if axis is None:
        return x.ravel(), (lambda y: y)
    return np.moveaxis(x, axis, -1), (lambda y: np.moveaxis(y, -1, axis))


def _cumprod_zero_terms(x):
    """(x with zeros replaced by 1, its cumulative product, zeros of x, zeros so far) along the last axis."""
    z = x == 0
    x1 = np.where(z, 1.0, x)
    return x1, np.cumprod(x1, axis=-1), z, np.cumsum(z, axis=-1)


def _cumprod_bar_zeros(gm, x):
    """Adjoint of cumprod along the last axis, exact with zeros and branch-free (O(n), lazy on Dask):
    d r_j/d a_k = prod_{i<=j, i!=k} a_i is r'_j/a_k while no zero came before j, r'_j when a_k is the
    only zero so far, else 0 (r' is the cumulative product with the zeros replaced by 1)."""
    x1, r1, z, nz = _cumprod_zero_terms(x)
    clean = np.flip(np.cumsum(np.flip(gm * r1 * (nz == 0), -1), axis=-1), -1) / x1
    first = np.flip(np.cumsum(np.flip(gm * r1 * (nz == 1), -1), axis=-1), -1)
    return np.where(z, first, clean)


def _cumprod_jvp_zeros(dm, x):
    """Tangent of cumprod along the last axis, exact with zeros and branch-free (see _cumprod_bar_zeros)."""
    x1, r1, z, nz = _cumprod_zero_terms(x)
    return np.where(nz == 0, r1 * np.cumsum(dm / x1, axis=-1),
                    np.where(nz == 1, r1 * np.cumsum(dm * z, axis=-1), 0.0))


def _cumprod_bar(g, a, axis, result):
    g = _bcast(g, np.shape(result))
    x, back = _cumprod_terms(a, axis)
    gm = np.moveaxis(g, axis, -1) if axis is not None else np.ravel(g)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    if is_duck_array(x):
        out = _cumprod_bar_zeros(gm, x)
    elif np.all(x != 0):
        out = np.flip(np.cumsum(np.flip(gm * rm, -1), axis=-1), -1) / x
    else:
        # exact with zeros: d result_j / d a_k = prod_{i<=j, i!=k} a_i   (O(n^2))
        n = x.shape[-1]
        out = np.zeros(x.shape, dtype=np.result_type(x, gm, np.float64))
        for k in range(n):
            b = np.array(x, dtype=out.dtype)
            b[..., k] = 1.0
            c = np.cumprod(b, axis=-1)
            out[..., k] = np.sum(gm[..., k:] * c[..., k:], axis=-1)
    out = back(out)
    return _like(np.reshape(out, np.shape(a)), a)


def _cumprod_jvp(a, a_dot, axis, result):
    x, back = _cumprod_terms(a, axis)
    d = _full(a_dot, a)
    dm = np.moveaxis(d, axis, -1) if axis is not None else np.ravel(d)
    rm = np.moveaxis(result, axis, -1) if axis is not None else np.ravel(result)
    if is_duck_array(x):
        out = _cumprod_jvp_zeros(dm, x)
    elif np.all(x != 0):
        out = rm * np.cumsum(dm / x, axis=-1)
    else:
        n = x.shape[-1]
        out = np.zeros(rm.shape, dtype=np.result_type(rm, dm, np.float64))
        for k in range(n):
            b = np.array(x, dtype=out.dtype)
            b[..., k] = 1.0
            c = np.cumprod(b, axis=-1)
            out[..., k:] += dm[..., k:k + 1] * c[..., k:]
    return back(out)


# --- norms -------------------------------------------------------------------

def _norm_setup(x, ord, axis):
    """(axes reduced, matrix norm?) for np.linalg.norm(x, ord, axis)."""
    nd = np.ndim(x)
    if axis is None:
        if ord is None:
            return tuple(range(nd)), False
        if nd == 1:
            return (0,), False
        return (0, 1), True
    if isinstance(axis, (tuple, list)):
        axes = tuple(int(a) % nd for a in axis)
        return axes, len(axes) == 2
    return (int(axis) % nd,), False


def _split_ties(mask, axes):
    return mask / np.sum(mask, axis=axes, keepdims=True)


def _norm_grad(x, ord, axis, keepdims, result):
    """d norm(x) / d x, shaped like x (subgradients: 0 at 0, ties split evenly)."""
    duck = is_duck_array(x)             # Dask/CuPy: no out=/where= (np.where instead), zeros_like
    x = np.asarray(x) if isinstance(x, (list, tuple)) else x
    x = x.astype(np.result_type(x, np.float64)) if duck else np.asarray(x, dtype=np.result_type(x, np.float64))
    axes, matrix = _norm_setup(x, ord, axis)
    r = _unreduce(result, x, axes, keepdims)
    if not matrix:
        if ord is None or ord == 2 or ord == "fro":
            if duck:
                return np.where(r != 0, x / np.where(r != 0, r, 1.0), 0.0)
            return np.divide(x, r, out=np.zeros(x.shape, dtype=x.dtype), where=np.broadcast_to(r != 0, x.shape))
        if ord == 1:
            return np.sign(x)
        if ord == np.inf or ord == -np.inf:
            return np.sign(x) * _split_ties(np.abs(x) == r, axes)
        if ord == 0:
            return np.zeros_like(x)
        p = float(ord)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = np.sign(x) * np.abs(x) ** (p - 1.0) / r ** (p - 1.0)
        return np.where(np.isfinite(out), out, 0.0)
    i, j = axes
    xm = np.moveaxis(x, (i, j), (-2, -1))
    if ord is None or ord == "fro" or ord == "f":
        rm = _unreduce(result, x, axes, keepdims)
        if duck:
            return np.where(rm != 0, x / np.where(rm != 0, rm, 1.0), 0.0)
        return np.divide(x, rm, out=np.zeros(x.shape, dtype=x.dtype), where=np.broadcast_to(rm != 0, x.shape))
    if ord in ("nuc", 2, -2):
        u, s, vt = np.linalg.svd(xm, full_matrices=False)
        if ord == "nuc":
            dm = u @ vt
        else:
            k = 0 if ord == 2 else -1
            dm = u[..., :, k:k + 1 if k == 0 else None] @ vt[..., k:k + 1 if k == 0 else None, :]
    elif ord in (1, -1):
        col = np.sum(np.abs(xm), axis=-2, keepdims=True)
        best = np.max(col, axis=-1, keepdims=True) if ord == 1 else np.min(col, axis=-1, keepdims=True)
        dm = np.sign(xm) * _split_ties(col == best, -1)
    elif ord in (np.inf, -np.inf):
        row = np.sum(np.abs(xm), axis=-1, keepdims=True)
        best = np.max(row, axis=-2, keepdims=True) if ord == np.inf else np.min(row, axis=-2, keepdims=True)
        dm = np.sign(xm) * _split_ties(row == best, -2)
    else:
        raise ValueError(f"diffc: no derivative for the matrix norm ord={ord!r}")
    return np.moveaxis(dm, (-2, -1), (i, j))


def _norm_bar(g, x, ord, axis, keepdims, result):
    axes, _ = _norm_setup(x, ord, axis)
    if np.iscomplexobj(x):      # JAX's convention: the conjugate slope, a real adjoint in
        return _unreduce(real_cotangent(g), x, axes, keepdims) * np.conj(_norm_grad(x, ord, axis, keepdims, result))
    return _like(_unreduce(g, x, axes, keepdims) * _norm_grad(x, ord, axis, keepdims, result), x)


def _norm_jvp(x, x_dot, ord, axis, keepdims, result):
    axes, _ = _norm_setup(x, ord, axis)
    if np.iscomplexobj(x):
        return np.sum(np.real(_full(x_dot, x) * np.conj(_norm_grad(x, ord, axis, keepdims, result))),
                      axis=axes, keepdims=keepdims)
    return np.sum(_full(x_dot, x) * _norm_grad(x, ord, axis, keepdims, result), axis=axes, keepdims=keepdims)


# --- elementwise -------------------------------------------------------------

def _power_dx1(x1, x2):
    """d x1**x2 / d x1 = x2 * x1**(x2-1), with 0 where x2 == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = x2 * np.power(x1, np.subtract(x2, 1.0))
    if np.any(np.equal(x2, 0)):
        d = np.where(np.equal(x2, 0), 0.0, d)
        d = d[()] if d.ndim == 0 else d
    return d


def _power_dx2(result, x1):
    """d x1**x2 / d x2 = x1**x2 * log(x1), taken as 0 where x1 <= 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = result * np.log(np.where(np.greater(x1, 0), x1, 1.0))
    d = np.where(np.greater(x1, 0), d, 0.0)
    return d[()] if d.ndim == 0 else d


def _max_weight(x1, x2):
    """Share of maximum(x1, x2)'s gradient going to x1: 1, 0, or 1/2 on a tie."""
    return np.greater(x1, x2) + 0.5 * np.equal(x1, x2)


def _min_weight(x1, x2):
    return np.less(x1, x2) + 0.5 * np.equal(x1, x2)


def _fmax_weight(x1, x2):
    w = np.where(np.isnan(x2), 1.0, np.where(np.isnan(x1), 0.0, _max_weight(x1, x2)))
    return w[()] if w.ndim == 0 else w


def _fmin_weight(x1, x2):
    w = np.where(np.isnan(x2), 1.0, np.where(np.isnan(x1), 0.0, _min_weight(x1, x2)))
    return w[()] if w.ndim == 0 else w


def _safe_div(a, b):
    """a / b with 0 where b == 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.divide(a, b)
    d = np.where(np.equal(b, 0), 0.0, d)
    return d[()] if d.ndim == 0 else d


def _div_or_zero(a, b):
    """a / b, with 0 where b == 0 (a derivative through a zero std: std is 0 there)."""
    if np.ndim(b) == 0 and not is_duck_array(b) and b != 0:
        return a / b
    return _safe_div(a, b)


def _sinc_deriv(x):
    """d sinc(x)/dx = (cos(pi x) - sinc(x)) / x, 0 at 0."""
    return _safe_div(np.cos(np.pi * _arr(x)) - np.sinc(x), x)


def _where_bar(g, condition, x):
    return unbroadcast(np.where(condition, g, 0.0), x)


def _where_not_bar(g, condition, y):
    return unbroadcast(np.where(condition, 0.0, g), y)


def _clip_bounds(a_min, a_max, min, max):
    lo = a_min if a_min is not None else min
    hi = a_max if a_max is not None else max
    return lo, hi


def _clip_pass(a, bounds):
    """1 where clip(a, lo, hi) passes a through (lo <= a <= hi), else 0."""
    lo, hi = bounds
    m = np.ones_like(a, dtype=bool)
    if lo is not None:
        m = m & np.greater_equal(a, lo)
    if hi is not None:
        m = m & np.less_equal(a, hi)
    return m


def _clip_bar_a(g, a, bounds):
    return unbroadcast(g * _clip_pass(a, bounds), a)


def _clip_bar_lo(g, a, bounds):
    lo, hi = bounds
    if lo is None:
        return None
    below = np.less(a, lo)
    if hi is not None:
        below = below & np.less_equal(lo, hi)
    return unbroadcast(g * below, lo)


def _clip_bar_hi(g, a, bounds):
    lo, hi = bounds
    if hi is None:
        return None
    above = np.greater(a, hi) | (np.less(hi, lo) if lo is not None else False)
    return unbroadcast(g * above, hi)


def _clip_jvp_lo(a, bounds, lo_dot):
    lo, hi = bounds
    below = np.less(a, lo)
    if hi is not None:
        below = below & np.less_equal(lo, hi)
    return lo_dot * below


def _clip_jvp_hi(a, bounds, hi_dot):
    lo, hi = bounds
    above = np.greater(a, hi) | (np.less(hi, lo) if lo is not None else False)
    return hi_dot * above


def _real_bar(g, x):
    # the result is real: only the real part of g is its adjoint (complex_rules.py)
    return unbroadcast(np.real(g), x) if not np.iscomplexobj(x) else unbroadcast(np.real(g) + 0j, x)


def _imag_bar(g, x):
    if np.iscomplexobj(x):
        return unbroadcast(-1j * np.real(g), x)
    return _zeros_of(x) if np.ndim(x) else 0.0


# --- casts and creation ------------------------------------------------------

def _astype_bar(g, a, result):
    if _arr(result).dtype.kind not in "fc":
        return _zeros_of(a) if np.ndim(a) else 0.0
    return _cast_like(g, a)


def _astype_jvp(a_dot, a, result):
    r = _arr(result)
    if r.dtype.kind not in "fc":
        return _zeros_of(r) if r.ndim else 0.0
    d = _full(a_dot, a)
    return _arr(d).astype(r.dtype) if isinstance(result, np.ndarray) or is_duck_array(result) else d


def _array_bar(g, obj):
    """Adjoint of np.array(obj): result_bar in obj's structure (ListBar for lists)."""
    g = np.reshape(g, np.shape(obj)) if np.ndim(g) != np.ndim(obj) else g
    if isinstance(obj, (list, tuple)):
        return _like(g, obj)
    return _cast_like(g, obj)


def _array_jvp(obj, obj_dot, result):
    d = _full(obj_dot, obj)
    d = np.reshape(d, np.shape(result))
    r = _arr(result)
    if r.dtype.kind in "fc" and _arr(d).dtype != r.dtype:
        d = _arr(d).astype(r.dtype)
    return d


def _copy_jvp(a_dot, a):
    """Tangent of a fresh copy: a fresh array (the copy may be written in place)."""
    d = _full(a_dot, a)
    return d.copy() if is_duck_array(d) else np.array(d, copy=True)


def _fill_jvp(fill_value_dot, result):
    return _bcast(fill_value_dot, np.shape(result))


def _linspace_weights(start, stop, num, endpoint, axis, which):
    """Weights of start (which=0) or stop (which=1) in linspace, shaped like the result."""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    w = 1.0 - t if which == 0 else t
    nd = max(np.ndim(start), np.ndim(stop))
    ax = axis % (nd + 1)
    return np.reshape(w, (num,) + (1,) * (nd - ax))


def _linspace_bar(g, start, stop, num, endpoint, axis, which):
    nd = max(np.ndim(start), np.ndim(stop))
    ax = axis % (nd + 1)
    w = _linspace_weights(start, stop, num, endpoint, axis, which)
    return unbroadcast(np.sum(g * w, axis=ax), start if which == 0 else stop)


def _linspace_jvp(start, stop, d, num, endpoint, axis, which):
    nd = max(np.ndim(start), np.ndim(stop))
    ax = axis % (nd + 1)
    w = _linspace_weights(start, stop, num, endpoint, axis, which)
    return np.expand_dims(d, ax) * w


def _arange_weights(result, stop, which):
    """d arange(start, stop, step) / d start (which=0), stop (1) or step (2), shaped like
    the result: ones, zeros, and 0, 1, ..., n-1; with stop None the one argument
    given is stop, so which=0 gives zeros."""
    n = np.size(result)
    if which == 2:
        return np.arange(n, dtype=np.float64)
    if which == 1 or stop is None:
        return np.zeros(n)
    return np.ones(n)


def _sort_perm(a, axis):
    return np.argsort(a, axis=axis, kind="stable")


def _sort_bar(g, a, axis):
    if is_duck_array(a):                # CuPy; Dask has no sort (its np.sort computes eagerly)
        g = widen_like(g, a) if not is_duck_array(g) else g
        if axis is None:
            inv = np.argsort(_sort_perm(np.ravel(a), 0))
            return np.reshape(np.ravel(g)[inv], a.shape).astype(np.result_type(g, np.float64))
        inv = np.argsort(_sort_perm(a, axis), axis=axis)
        return np.take_along_axis(g, inv, axis=axis).astype(np.result_type(g, np.float64))
    x = np.asarray(a)
    if axis is None:
        perm = _sort_perm(x.ravel(), 0)
        out = np.zeros(x.size, dtype=np.result_type(g, np.float64))
        out[perm] = np.ravel(g)
        return out.reshape(x.shape)
    perm = _sort_perm(x, axis)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    np.put_along_axis(out, perm, g, axis=axis)
    return out


def _sort_jvp(a, a_dot, axis):
    d = _full(a_dot, a)
    if axis is None:
        return np.ravel(d)[_sort_perm(np.ravel(a), 0)]
    return np.take_along_axis(d, _sort_perm(a, axis), axis=axis)


def _take_bar(g, a, indices, axis, mode):
    if is_duck_array(a):
        return _take_bar_duck(g, a, indices, axis, mode)
    x = np.asarray(a)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    n = x.size if axis is None else x.shape[axis]
    idx = np.asarray(indices)
    if mode == "wrap":
        idx = idx % n
    elif mode == "clip":
        idx = np.clip(idx, 0, n - 1)
    else:
        idx = np.where(idx < 0, idx + n, idx)
    if axis is None:
        flat = np.zeros(x.size, dtype=out.dtype)
        np.add.at(flat, idx, g)
        return flat.reshape(x.shape)
    ax = axis % x.ndim
    om = np.moveaxis(out, ax, 0)
    gm = np.moveaxis(np.asarray(g), tuple(range(ax, ax + idx.ndim)), tuple(range(idx.ndim)))
    np.add.at(om, idx, gm)
    return out


def _take_index(indices, n, mode):
    idx = _arr(indices)                 # ints given by the program (not differentiated)
    if mode == "wrap":
        return idx % n
    if mode == "clip":
        return np.clip(idx, 0, n - 1)
    return np.where(idx < 0, idx + n, idx)


def _take_bar_duck(g, a, indices, axis, mode):
    """Adjoint of take for Dask/CuPy: the scatter-add of g as a product with a one-hot matrix."""
    g = np.asarray(g, like=a) if not is_duck_array(g) else g
    dtype = np.result_type(g, np.float64)
    if axis is None:
        idx = _take_index(indices, a.size, mode)
        g = np.broadcast_to(g, idx.shape)
        flat = np.tensordot(_one_hot(idx, a.size, g), np.reshape(g, (-1,)), axes=([0], [0]))
        return np.reshape(flat, a.shape).astype(dtype)
    ax = axis % a.ndim
    idx = _take_index(indices, a.shape[ax], mode)
    g = np.broadcast_to(g, a.shape[:ax] + idx.shape + a.shape[ax + 1:])
    gm = np.moveaxis(g, tuple(range(ax, ax + idx.ndim)), tuple(range(idx.ndim)))
    gm = np.reshape(gm, (idx.size,) + tuple(gm.shape[idx.ndim:]))
    out = np.tensordot(_one_hot(idx, a.shape[ax], g), gm, axes=([0], [0]))
    return np.moveaxis(out, 0, ax).astype(dtype)


def _take_along_bar_duck(g, arr, indices, axis):
    """Adjoint of take_along_axis for CuPy/Dask: scatter-add as a product with one-hot indicators."""
    g = np.asarray(g, like=arr) if not is_duck_array(g) else g
    idx = _arr(indices)
    if axis is None:
        flat = np.tensordot(_one_hot(idx, arr.size, g), np.reshape(g, (-1,)), axes=([0], [0]))
        return np.reshape(flat, arr.shape).astype(np.result_type(g, np.float64))
    ax = axis % arr.ndim
    n = arr.shape[ax]
    shape = np.broadcast_shapes(idx.shape, g.shape)
    im = np.moveaxis(np.broadcast_to(idx, shape), ax, -1)
    gm = np.moveaxis(np.broadcast_to(g, shape), ax, -1)
    hot = np.asarray((im[..., None] == np.arange(n)).astype(np.float64), like=g)
    out = np.moveaxis(np.sum(gm[..., None] * hot, axis=-2), -1, ax)
    return unbroadcast(out, arr).astype(np.result_type(g, np.float64))


def _take_along_bar(g, arr, indices, axis):
    if is_duck_array(arr):
        return _take_along_bar_duck(g, arr, indices, axis)
    x = np.asarray(arr)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    if axis is None:
        np.add.at(out.reshape(-1), np.asarray(indices), g)
        return out
    ax = axis % x.ndim
    idx = np.asarray(indices)
    grids = list(np.indices(np.broadcast_shapes(idx.shape, np.shape(g)), sparse=True))
    grids[ax] = idx
    np.add.at(out, tuple(grids), g)
    return out


def _item_bar(g, a, args):
    x = np.asarray(a)
    out = np.zeros(x.shape, dtype=np.result_type(g, np.float64))
    if len(args) == 0:
        out.reshape(-1)[0] = g
    elif len(args) == 1 and np.ndim(args[0]) == 0:
        out.reshape(-1)[args[0]] = g
    else:
        out[tuple(args[0]) if len(args) == 1 else tuple(args)] = g
    return out


def _item_jvp(a, a_dot, args):
    return np.asarray(_full(a_dot, a)).item(*args)


# --- shapes ------------------------------------------------------------------

def _reshape_to(g, x, order="C"):
    """g reshaped to the shape of x (adjoint of every reshape-like function)."""
    if np.shape(g) == np.shape(x):
        return g
    if np.ndim(g) == 0 and np.size(x) != 1:
        return _bcast(g, np.shape(x))       # a broadcast-smaller (constant) tangent
    if order == "C":
        return np.reshape(g, np.shape(x))    # no order= : Dask's reshape has none
    return np.reshape(g, np.shape(x), order=order)


def _shape_arg(shape):
    """The shape given to x.reshape(*shape): x.reshape(2, 3) or x.reshape((2, 3))."""
    if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
        return tuple(shape[0])
    return tuple(shape)


def _axes_arg(axes):
    """The axes given to x.transpose(*axes): (), (1, 0) or ((1, 0),)."""
    if len(axes) == 0 or (len(axes) == 1 and axes[0] is None):
        return None
    if len(axes) == 1 and not isinstance(axes[0], (int, np.integer)):
        return tuple(axes[0])
    return tuple(axes)


def _transpose_bar(g, axes):
    if axes is None:
        return np.transpose(g)
    nd = np.ndim(g)
    return np.transpose(g, tuple(int(k) for k in np.argsort([int(k) % nd for k in axes])))


def _transpose_jvp(a, a_dot, axes):
    return np.transpose(_full(a_dot, a), axes)


def _concat_bar(g, arrays, axis):
    if axis is None:
        sizes = [np.size(x) for x in arrays]
        pieces = _split_at(np.ravel(g), sizes, 0)
        return ListBar(np.reshape(p, np.shape(x)) for p, x in zip(pieces, arrays))
    sizes = [np.shape(x)[axis] for x in arrays]
    return ListBar(_split_at(g, sizes, axis))


def _dense_list(arrays, arrays_dot):
    return [_full(d, x) for d, x in zip(arrays_dot, arrays)]


def _concat_jvp(arrays, arrays_dot, axis):
    return np.concatenate(_dense_list(arrays, arrays_dot), axis=axis)


def _stack_bar(g, axis):
    return ListBar(np.moveaxis(g, axis, 0))


def _stack_jvp(arrays, arrays_dot, axis):
    return np.stack(_dense_list(arrays, arrays_dot), axis=axis)


_STACKERS = {
    "hstack": (np.atleast_1d, None),
    "vstack": (np.atleast_2d, 0),
    "dstack": (np.atleast_3d, 2),
    "column_stack": (None, 1),
}


def _stacked_bar(g, tup, kind):
    """Adjoint of hstack/vstack/dstack/column_stack: pieces reshaped like each input."""
    promote, axis = _STACKERS[kind]
    if kind == "column_stack":
        arrs = [np.reshape(x, (-1, 1)) if np.ndim(x) < 2 else _arr(x) for x in tup]
    else:
        arrs = [promote(_arr(x)) for x in tup]
    if axis is None:
        axis = 0 if arrs[0].ndim == 1 else 1
    sizes = [x.shape[axis] for x in arrs]
    pieces = _split_at(g, sizes, axis)
    return ListBar(np.reshape(p, np.shape(x)) for p, x in zip(pieces, tup))


def _index_items(key):
    """The items of an index-concatenator key (np.r_[key]): a tuple, else one item."""
    return key if isinstance(key, tuple) else (key,)


def _index_constant(item):
    """Items of np.r_[...] that carry no derivative: a directive string or a slice (a range)."""
    return isinstance(item, (str, slice))


def _index_labels(maker, key):
    """(labels, sizes): maker[key] with every non-constant item replaced by the positions
    of its elements in the concatenation of all items (as floats, -1 where a slice's
    range lands), and each item's element count (0 for constants).

    np.r_/np.c_ only move elements (promotion to ndmin, transposition, concatenation),
    so the labels say where each element of each item went."""
    labels, sizes, offset = [], [], 0
    for item in _index_items(key):
        if isinstance(item, str):
            labels.append(item)
            sizes.append(0)
        elif isinstance(item, slice):
            labels.append(np.full(np.r_[item].shape, -1.0))     # a 1-d range, like the slice's
            sizes.append(0)
        elif type(item) in np.ScalarType:
            labels.append(float(offset))
            sizes.append(1)
            offset += 1
        else:
            shape = np.shape(item)
            n = int(np.prod(shape))
            labels.append(np.arange(offset, offset + n, dtype=np.float64).reshape(shape))
            sizes.append(n)
            offset += n
    return np.asarray(maker[tuple(labels)]), sizes


def _index_concat_bar(g, maker, key):
    """Adjoint of maker[key] (np.r_, np.c_) in its items: each item's elements of g,
    shaped like the item (a ListBar when key is a tuple; 0.0 for constant items)."""
    labels, sizes = _index_labels(maker, key)
    flat = np.zeros(sum(sizes))
    if not _zero(g):
        g = np.broadcast_to(np.asarray(g), labels.shape)
        mask = labels >= 0
        flat[labels[mask].astype(np.intp)] = g[mask]
    bars, start = [], 0
    for item, n in zip(_index_items(key), sizes):
        if _index_constant(item):
            bars.append(0.0)
        elif type(item) in np.ScalarType:
            bars.append(flat[start])
        else:
            bars.append(_like(flat[start:start + n].reshape(np.shape(item)), item))
        start += n
    return ListBar(bars) if isinstance(key, tuple) else bars[0]


def _index_concat_jvp(maker, key, key_dot):
    """Tangent of maker[key]: the same concatenation of the items' tangents (zeros for
    a slice's range)."""
    items = _index_items(key)
    if _zero(key_dot):
        dots = [0.0] * len(items)
    else:
        dots = list(key_dot) if isinstance(key, tuple) else [key_dot]
    dense = []
    for item, d in zip(items, dots):
        if isinstance(item, str):
            dense.append(item)
        elif isinstance(item, slice):
            dense.append(np.zeros(np.r_[item].shape))
        elif type(item) in np.ScalarType:
            dense.append(0.0 if _zero(d) else d)
        else:
            dense.append(_full(0.0 if _zero(d) else d, item))
    return np.asarray(maker[tuple(dense)], dtype=np.float64) if not any(
        is_duck_array(d) for d in dense) else maker[tuple(dense)]


def _split_bar(result_bar, result, axis):
    pieces = [_zeros_of(r) if _zero(b) else _bcast(b, np.shape(r))
              for b, r in zip(result_bar, result)]
    return np.concatenate(pieces, axis=axis)


def _split_axis(ary, kind):
    if kind == "hsplit":
        return 1 if np.ndim(ary) > 1 else 0
    if kind == "vsplit":
        return 0
    return 2


def _tile_bar(g, A, reps):
    shape = np.shape(A)
    reps = (int(reps),) if np.ndim(reps) == 0 else tuple(reps)
    d = max(len(shape), len(reps))
    s = (1,) * (d - len(shape)) + tuple(shape)
    r = (1,) * (d - len(reps)) + reps
    g = np.reshape(g, [n for pair in zip(r, s) for n in pair])
    g = np.sum(g, axis=tuple(range(0, 2 * d, 2)))
    return np.reshape(g, shape)


def _repeat_bar(g, a, repeats, axis):
    shape = np.shape(a)
    if axis is None:
        gm = np.ravel(g)
        n = int(np.prod(shape))
        ax = 0
    else:
        ax = axis % len(shape)
        gm = np.moveaxis(g, ax, 0)
        n = shape[ax]
    rest = gm.shape[1:]
    if np.ndim(repeats) == 0 or np.size(repeats) == 1:
        k = int(np.ravel(repeats)[0])
        out = np.sum(gm.reshape((n, k) + rest), axis=1)
    else:
        seg = np.repeat(np.arange(n), repeats)
        if is_duck_array(gm):
            out = np.tensordot(_one_hot(seg, n, gm), gm, axes=([0], [0]))
        else:
            out = np.zeros((n,) + rest, dtype=np.result_type(gm, np.float64))
            np.add.at(out, seg, gm)
    if axis is None:
        return np.reshape(out, shape)
    return np.moveaxis(out, 0, ax)


def _roll_bar(g, shift, axis):
    if type(g) is np.ndarray and type(axis) is int and isinstance(shift, (int, np.integer)) \
            and not isinstance(shift, (bool, np.bool_)) and -g.ndim <= axis < g.ndim:
        return _rolled(g, -int(shift), axis)
    return np.roll(g, np.negative(shift), axis=axis)


def _rolled(a, shift, axis):
    """np.roll(a, shift, axis) for an ndarray, an int shift and one int axis: two
    slice copies into a new array (np.roll's argument handling costs several
    times the copy on small grids: 48x48, 55 us against 10-15 us)."""
    n = a.shape[axis]
    out = np.empty_like(a)
    if n == 0:
        return out
    s = shift % n
    if s == 0:
        out[...] = a
        return out
    lead = (slice(None),) * (axis % a.ndim)
    out[lead + (slice(s, None),)] = a[lead + (slice(None, n - s),)]
    out[lead + (slice(None, s),)] = a[lead + (slice(n - s, None),)]
    return out


def _pad_widths(array, pad_width):
    nd = np.ndim(array)
    return np.broadcast_to(pad_width, (nd, 2)).astype(np.intp)     # ints given by the program


def _pad_bar(g, array, pad_width, mode):
    shape = np.shape(array)
    pw = _pad_widths(array, pad_width)
    if mode in ("constant", "empty"):
        return g[tuple(slice(int(b), int(b) + n) for (b, _), n in zip(pw, shape))]
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        size = int(np.prod(shape))
        idx = np.pad(np.arange(size).reshape(shape), pw, mode=mode)
        if is_duck_array(g):
            return np.reshape(np.tensordot(_one_hot(idx, size, g), np.reshape(g, (-1,)), axes=([0], [0])), shape)
        return np.bincount(idx.ravel(), weights=np.ravel(g), minlength=size).reshape(shape)
    if mode in ("mean", "linear_ramp"):
        # linear per axis (end values are constants), applied axis after axis: the transpose
        # applies each axis's matrix P (np.pad of the identity along that axis), last axis first
        g = np.asarray(g)
        for ax in reversed(range(len(shape))):
            widths = [(0, 0), (0, 0)]
            widths[0] = tuple(int(w) for w in pw[ax])
            P = np.pad(np.eye(shape[ax]), widths, mode=mode)
            g = np.moveaxis(np.tensordot(np.moveaxis(g, ax, -1), P, axes=([-1], [0])), -1, ax)
        return g
    if mode in _PAD_STATS:
        # axis after axis, last first: the padding's adjoint returns to the elements its
        # statistic picked (weights W of that axis's lanes, in the array padded so far)
        g = np.asarray(g)
        stages = _pad_stages(array, pw, mode)
        for ax in reversed(range(len(shape))):
            b, n = int(pw[ax][0]), shape[ax]
            before = np.sum(np.take(g, np.arange(b), axis=ax), axis=ax, keepdims=True)
            after = np.sum(np.take(g, np.arange(b + n, g.shape[ax]), axis=ax), axis=ax, keepdims=True)
            g = np.take(g, np.arange(b, b + n), axis=ax) + _pad_stat_weights(stages[ax], ax, mode) * (before + after)
        return g
    raise NotImplementedError(f"diffc: no derivative for np.pad(mode={mode!r})")


_PAD_STATS = ("maximum", "minimum", "median")


def _pad_stages(array, pw, mode):
    """The arrays np.pad pads axis after axis: stages[k] has axes < k padded already."""
    stages = [np.asarray(array)]
    for ax in range(len(pw)):
        widths = [(0, 0)] * len(pw)
        widths[ax] = tuple(int(w) for w in pw[ax])
        stages.append(np.pad(stages[-1], widths, mode=mode))
    return stages


def _pad_stat_weights(y, axis, mode):
    """d stat(lane) / d lane for the lanes of y along axis: 1 at the extreme (ties split
    evenly) for maximum/minimum, 1 or 1/2-1/2 at the middle element(s) for median."""
    ym = np.moveaxis(y, axis, -1)
    n = ym.shape[-1]
    if mode in ("maximum", "minimum"):
        ext = ym.max(-1, keepdims=True) if mode == "maximum" else ym.min(-1, keepdims=True)
        w = (ym == ext).astype(np.float64)
        w = w / np.sum(w, axis=-1, keepdims=True)
    else:
        order = np.argsort(ym, axis=-1, kind="stable")
        mids = sorted({(n - 1) // 2, n // 2})
        w = np.zeros(ym.shape)
        for m in mids:
            np.put_along_axis(w, order[..., m:m + 1], 1.0 / len(mids), axis=-1)
    return np.moveaxis(w, -1, axis)


def _pad_stat_jvp(array, pad_width, mode, array_dot):
    """Tangent of np.pad(array, pad_width, mode) for the statistic modes: each padded value
    moves with the elements its statistic picked."""
    pw = _pad_widths(array, pad_width)
    stages = _pad_stages(array, pw, mode)
    d = _full(array_dot, array)
    for ax in range(len(pw)):
        b, a = int(pw[ax][0]), int(pw[ax][1])
        pick = np.sum(_pad_stat_weights(stages[ax], ax, mode) * d, axis=ax, keepdims=True)
        d = np.concatenate([np.repeat(pick, b, axis=ax), d, np.repeat(pick, a, axis=ax)], axis=ax)
    return d


def _cross_axes(axisa, axisb, axisc, axis):
    """(axisa, axisb, axisc) of np.cross, axis overriding all three."""
    return (axis, axis, axis) if axis is not None else (axisa, axisb, axisc)


def _kron_layout(a, b):
    """How np.kron(a, b) interleaves the axes: (the result's shape split into (a0, b0, a1, b1,
    ...), einsum subscripts giving a's and b's adjoints, a's and b's shapes padded to one ndim)."""
    sa, sb = np.shape(a), np.shape(b)
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + tuple(sa)
    sb = (1,) * (nd - len(sb)) + tuple(sb)
    la = _LETTERS[0:2 * nd:2]
    lb = _LETTERS[1:2 * nd:2]
    lg = "".join(x + y for x, y in zip(la, lb))
    return (tuple(n for pair in zip(sa, sb) for n in pair), f"{lg},{lb}->{la}", f"{lg},{la}->{lb}", sa, sb)


def _select_bar(g, condlist, choicelist, which):
    """Adjoint of np.select(condlist, choicelist, default) for choice `which` (len(choicelist):
    the default): g where that choice is the first whose condition holds."""
    taken = np.zeros(np.broadcast_shapes(*[np.shape(c) for c in condlist], np.shape(g)), dtype=bool)
    for k, cond in enumerate(condlist):
        mask = np.asarray(cond, dtype=bool) & ~taken
        if k == which:
            return np.where(mask, g, 0.0)
        taken = taken | mask
    return np.where(taken, 0.0, g)


def _select_taken(condlist, result):
    """Where some condition of np.select holds (the default is not used), shaped like result."""
    return np.broadcast_to(np.any(np.broadcast_arrays(*condlist, result)[:-1], axis=0), np.shape(result))


def _select_choices_bar(g, condlist, choicelist):
    return ListBar(unbroadcast(_select_bar(g, condlist, choicelist, k), c) for k, c in enumerate(choicelist))


def _pad_linear_mode(mode):
    """mode, checked: np.pad of a tangent with it is the tangent of np.pad with it (modes that
    pick an element by value, maximum/minimum/median, are not linear)."""
    if mode not in ("constant", "empty", "edge", "reflect", "symmetric", "wrap", "mean", "linear_ramp") \
            and mode not in _PAD_STATS:
        raise NotImplementedError(f"diffc: no derivative for np.pad(mode={mode!r})")
    return "constant" if mode == "empty" else mode      # empty padding holds no derivative


def _pad_ev_jvp(end_values_dot):
    """The tangent due to np.pad's end_values: only a constant is supported."""
    if not _zero(end_values_dot):
        raise NotImplementedError("diffc: no derivative of np.pad with respect to end_values")
    return 0.0


def _pad_cv_bar(g, array, pad_width, mode, constant_values):
    if mode != "constant" or np.ndim(constant_values) != 0:
        raise NotImplementedError("diffc: derivative of np.pad in constant_values needs a scalar")
    return np.sum(g) - np.sum(_pad_bar(g, array, pad_width, "constant"))


def _pad_cv_jvp(array, pad_width, constant_values_dot):
    return np.pad(_zeros_of(array), pad_width, mode="constant",
                  constant_values=constant_values_dot)


def _diag_len(shape, offset, axis1, axis2):
    n1, n2 = shape[axis1], shape[axis2]
    return max(0, min(n1 - max(-offset, 0), n2 - max(offset, 0)))


def _diag_embed(g, shape, offset, axis1, axis2):
    """Zeros of shape with g (diagonal last, as np.diagonal gives it) on the diagonal."""
    nd = len(shape)
    a1, a2 = axis1 % nd, axis2 % nd
    n = _diag_len(shape, offset, a1, a2)
    rows = np.arange(n) + max(-offset, 0)
    cols = np.arange(n) + max(offset, 0)
    if is_duck_array(g):                # no item assignment with index arrays: one-hot products
        g = g.astype(np.result_type(g, np.float64))
        # products and matmul align Dask's chunks (einsum with mixed chunks does not)
        om = np.swapaxes(g[..., :, None] * _one_hot(rows, shape[a1], g), -1, -2) @ _one_hot(cols, shape[a2], g)
        return np.moveaxis(om, (-2, -1), (a1, a2))
    out = np.zeros(shape, dtype=np.result_type(g, np.float64))
    om = np.moveaxis(out, (a1, a2), (-2, -1))
    om[..., rows, cols] = g
    return out


def _diag_bar(g, v, k):
    if np.ndim(v) == 1:
        return np.diagonal(g, k).copy()
    return _diag_embed(g, np.shape(v), k, 0, 1)


def _diagonal_bar(g, a, offset, axis1, axis2):
    return _diag_embed(g, np.shape(a), offset, axis1, axis2)


def _trace_bar(g, a, offset, axis1, axis2):
    shape = np.shape(a)
    nd = len(shape)
    n = _diag_len(shape, offset, axis1 % nd, axis2 % nd)
    g = _arr(g)
    if is_duck_array(a) and not is_duck_array(g):
        g = np.asarray(g, like=a)       # a scalar adjoint: the gradient is in a's library
    return _diag_embed(g[..., None] * np.ones(n, like=g), shape, offset, axis1, axis2)


def _atleast_bar(result_bar, arys):
    if len(arys) == 1:
        return (_reshape_to(result_bar, arys[0]),)
    return tuple(_reshape_to(b, x) if not _zero(b) else None for b, x in zip(result_bar, arys))


def _atleast_jvp(fn, arys, arys_dot):
    out = [fn(_full(d, x)) for d, x in zip(arys_dot, arys)]
    return out[0] if len(out) == 1 else ListBar(out)


def _diff_bar(g, a, n, axis):
    if is_duck_array(g):
        for _ in range(n):              # functional: x[k] - x[k-1] sends g to k and -g to k-1
            ax = axis % g.ndim
            pad_hi = [(0, 0)] * g.ndim
            pad_lo = [(0, 0)] * g.ndim
            pad_hi[ax] = (1, 0)
            pad_lo[ax] = (0, 1)
            g = np.pad(g, pad_hi) - np.pad(g, pad_lo)
        return g
    for _ in range(n):
        g = np.asarray(g)
        ax = axis % g.ndim
        shape = list(g.shape)
        shape[ax] += 1
        out = np.zeros(shape, dtype=np.result_type(g, np.float64))
        hi = [slice(None)] * g.ndim
        lo = [slice(None)] * g.ndim
        hi[ax] = slice(1, None)
        lo[ax] = slice(None, -1)
        out[tuple(hi)] += g
        out[tuple(lo)] -= g
        g = out
    return g


# --- products ----------------------------------------------------------------

def _dot_bar_a(g, a, b):
    if type(g) is float and g == 0.0:
        return 0.0            # a zero adjoint: nothing flows back (shape-free)
    if type(a) is np.ndarray and type(b) is np.ndarray and b.ndim == 2 and a.ndim in (1, 2):
        # one BLAS call; np.dot, the same product as @ for 1-d and 2-d operands, has
        # less dispatch (16x64 by 64x64: 3.6 us against 3.9 us)
        return np.dot(g, b.T) if a.ndim == 2 else np.dot(b, g)
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * b, a)
    if nb == 1:
        return np.multiply.outer(g, b)
    b_other = tuple(range(nb - 2)) + (nb - 1,)
    g_axes = tuple(range(na - 1, na - 1 + nb - 1))
    return np.tensordot(g, b, axes=(g_axes, b_other))


def _dot_bar_b(g, a, b):
    if type(g) is float and g == 0.0:
        return 0.0            # a zero adjoint: nothing flows back (shape-free)
    if type(a) is np.ndarray and type(b) is np.ndarray and b.ndim == 2 and a.ndim in (1, 2):
        return np.dot(a.T, g) if a.ndim == 2 else np.outer(a, g)
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * a, b)
    t = np.tensordot(a, g, axes=(list(range(na - 1)), list(range(na - 1))))
    if nb >= 2:
        t = np.moveaxis(t, 0, nb - 2)
    return t


# Public names of the dot adjoint helpers, for passes that recognize them in
# generated code (optimize/last_step.py).
dot_bar_a = _dot_bar_a
dot_bar_b = _dot_bar_b


def _outer_bar(g, a, b, which):
    if type(g) is float and g == 0.0:
        return 0.0            # a zero adjoint: nothing flows back (shape-free)
    if which == 0:
        return np.reshape(np.dot(g, np.ravel(b)), np.shape(a))
    return np.reshape(np.dot(np.ravel(a), g), np.shape(b))


def _inner_bar(g, a, b, which):
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return unbroadcast(g * (b if which == 0 else a), a if which == 0 else b)
    if which == 0:
        return np.tensordot(g, b, axes=(list(range(na - 1, na - 1 + nb - 1)), list(range(nb - 1))))
    return np.tensordot(g, a, axes=(list(range(na - 1)), list(range(na - 1))))


def _tensordot_subscripts(a, b, axes):
    na, nb = np.ndim(a), np.ndim(b)
    if isinstance(axes, (int, np.integer)):
        a_ax = list(range(na - axes, na))
        b_ax = list(range(axes))
    else:
        a_ax, b_ax = axes
        a_ax = [a_ax] if isinstance(a_ax, (int, np.integer)) else list(a_ax)
        b_ax = [b_ax] if isinstance(b_ax, (int, np.integer)) else list(b_ax)
    a_ax = [k % na for k in a_ax]
    b_ax = [k % nb for k in b_ax]
    la = list(_LETTERS[:na])
    lb = list(_LETTERS[na:na + nb])
    for i, j in zip(a_ax, b_ax):
        lb[j] = la[i]
    out = [la[k] for k in range(na) if k not in a_ax] + [lb[k] for k in range(nb) if k not in b_ax]
    return "".join(la) + "," + "".join(lb) + "->" + "".join(out)


def _einsum_parse(subscripts, operands):
    """(input subscripts, output subscript) with ellipses spelled out as letters."""
    subs = subscripts.replace(" ", "")
    ins, out = subs.split("->") if "->" in subs else (subs, None)
    ins = ins.split(",")
    used = set(c for c in subs if c.isalpha())
    free = [c for c in _LETTERS if c not in used]
    ell = 0
    for s, op in zip(ins, operands):
        if "..." in s:
            ell = max(ell, np.ndim(op) - (len(s) - 3))
    ell_letters = "".join(free[:ell])
    new_ins = []
    for s, op in zip(ins, operands):
        if "..." in s:
            k = np.ndim(op) - (len(s) - 3)
            s = s.replace("...", ell_letters[ell - k:] if k else "")
        new_ins.append(s)
    if out is None:
        letters = "".join(s.replace("...", "") for s in ins)
        once = sorted(c for c in set(letters) if letters.count(c) == 1)
        out = ell_letters + "".join(once)
    else:
        out = out.replace("...", ell_letters)
    return new_ins, out


def _einsum_diag_duck(G, uniq, target, sizes):
    """G (subscripts uniq) spread on the diagonals of target (a letter repeated), as one einsum
    with identity matrices: each repeat of a letter gets a fresh letter tied to it by an eye."""
    used = set(uniq)
    fresh = iter(c for c in _LETTERS if c not in used and c not in target)
    seen, subs, eyes = set(), [], []
    for c in target:
        if c in seen:
            f = next(fresh)
            subs.append(f)
            eyes.append((c + f, np.asarray(np.eye(sizes[c], dtype=G.dtype), like=G)))
        else:
            seen.add(c)
            subs.append(c)
    out = "".join(subs)
    total = None                        # a broadcast product (einsum would need equal Dask chunks)
    for letters, m in [(uniq, G)] + eyes:
        present = [c for c in out if c in letters]
        m = np.transpose(m, tuple(letters.index(c) for c in present))
        m = np.expand_dims(m, tuple(k for k, c in enumerate(out) if c not in letters))
        total = m if total is None else total * m
    return total


def _einsum_bar_one(g, ins, out, operands, i):
    target = ins[i]
    op_shape = np.shape(operands[i])
    uniq = "".join(dict.fromkeys(target))
    others = [ins[j] for j in range(len(ins)) if j != i]
    other_ops = [operands[j] for j in range(len(ins)) if j != i]
    avail = set(out).union(*[set(s) for s in others])
    keep = "".join(c for c in uniq if c in avail)
    G = np.einsum(",".join([out] + others) + "->" + keep, g, *other_ops)
    sizes = {}
    for c, n in zip(target, op_shape):
        sizes[c] = n
    # operand dimensions of size 1 that broadcast against the others: sum them
    sum_axes = tuple(k for k, c in enumerate(keep) if sizes[c] == 1 and G.shape[k] != 1)
    if sum_axes:
        G = np.sum(G, axis=sum_axes, keepdims=True)
    shape_u = tuple(sizes[c] for c in uniq)
    G = _bcast(np.reshape(G, tuple(sizes[c] if c in avail else 1 for c in uniq)), shape_u)
    if len(uniq) == len(target):
        return G
    if is_duck_array(G):
        return _einsum_diag_duck(G, uniq, target, sizes)
    out_arr = np.zeros(op_shape, dtype=G.dtype)
    grids = np.indices(shape_u, sparse=True)
    out_arr[tuple(grids[uniq.index(c)] for c in target)] = G
    return out_arr


def _einsum_bars(g, subscripts, operands):
    """(None, one contribution per operand) for np.einsum(subscripts, *operands)."""
    if type(g) is float and g == 0.0:
        return (None,) + (0.0,) * len(operands)     # a zero adjoint: nothing flows back (shape-free)
    sublists = _einsum_sublists(subscripts, operands)
    if sublists is not None:         # a contribution for every other argument, from subscripts on
        bars = _einsum_bars(g, sublists[0], sublists[1])[1:]
        out = [None] * (1 + len(operands))
        out[0::2] = list(bars) + [None] * (len(out[0::2]) - len(bars))
        return tuple(out)
    ins, out = _einsum_parse(subscripts, operands)
    return (None,) + tuple(_einsum_bar_one(g, ins, out, operands, i) for i in range(len(operands)))


def _einsum_sublists(subscripts, operands):
    """np.einsum's sublist form (op0, sub0, op1, sub1, ..., [out]) as (string subscripts,
    the operands); None for the string form."""
    if isinstance(subscripts, str):
        return None
    args = (subscripts,) + tuple(operands)
    def letters(sub):
        return "".join("..." if s is Ellipsis else _LETTERS[int(s)] for s in sub)
    ins = ",".join(letters(s) for s in args[1::2])
    out = "->" + letters(args[-1]) if len(args) % 2 else ""
    return ins + out, args[0::2][:len(args) // 2]


def _einsum_jvp(subscripts, operands, operands_dot):
    sublists = _einsum_sublists(subscripts, operands)
    if sublists is not None:         # the operands are every other argument, from subscripts on
        dots = ((0.0,) + tuple(operands_dot))[0::2]
        return _einsum_jvp(sublists[0], sublists[1], dots[:len(sublists[1])])
    total = 0.0
    for i, d in enumerate(operands_dot):
        if _zero(d):
            continue
        ops = list(operands)
        ops[i] = _full(d, operands[i])
        total = total + np.einsum(subscripts, *ops)
    return total


def _tensordot_bar(g, a, b, axes, which):
    if type(g) is float and g == 0.0:
        return 0.0            # a zero adjoint: nothing flows back (shape-free)
    subs = _tensordot_subscripts(a, b, axes)
    ins, out = _einsum_parse(subs, (a, b))
    return _einsum_bar_one(g, ins, out, (a, b), which)


# --- linear algebra ----------------------------------------------------------

def _T(x):
    return np.swapaxes(x, -1, -2)


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


def _eye_like(x):
    return np.asarray(np.eye(np.shape(x)[-1]), like=_arr(x))    # Dask's eye takes no like=


def _phi(x):
    """Lower triangle of x with the diagonal halved."""
    return np.tril(x) - 0.5 * x * _eye_like(x)


def _no_complex(a, name):
    if np.iscomplexobj(a):
        raise NotImplementedError(f"diffc: the derivative of {name} of a complex matrix is not supported")


def _H(x):
    """The conjugate transpose of (stacks of) matrices; the transpose of real ones."""
    return _T(np.conj(x)) if np.iscomplexobj(x) else _T(x)


def _sym_read(G, lower):
    """Gradient w.r.t. a matrix of which only one triangle is read (as LAPACK does),
    given the gradient G w.r.t. the symmetric (Hermitian: G Hermitian, the diagonal
    read as real) matrix built from that triangle."""
    S = G + _H(G)
    half = G * _eye_like(G)
    return (np.tril(S) if lower else np.triu(S)) - half


def _sym_from(x, lower):
    """The symmetric (complex x: Hermitian, real diagonal) matrix LAPACK sees when it
    reads one triangle of x."""
    if np.iscomplexobj(x):
        part = np.tril(x, -1) if lower else np.triu(x, 1)
        return part + _H(part) + np.real(x * _eye_like(x))
    if lower:
        return np.tril(x) + _T(np.tril(x, -1))
    return np.triu(x) + _T(np.triu(x, 1))


def _chol_reads_lower(upper):
    return not upper


def _cholesky_bar(g, a, result, upper):
    _no_complex(a, "np.linalg.cholesky")
    L = _T(result) if upper else result
    gL = _T(g) if upper else g
    Linv = np.linalg.inv(L)
    S = _T(Linv) @ _phi(_T(L) @ gL) @ Linv
    return _sym_read(0.5 * (S + _T(S)), _chol_reads_lower(upper))


def _cholesky_jvp(a, a_dot, result, upper):
    _no_complex(a, "np.linalg.cholesky")
    L = _T(result) if upper else result
    dA = _sym_from(_full(a_dot, a), _chol_reads_lower(upper))
    Linv = np.linalg.inv(L)
    dL = L @ _phi(Linv @ dA @ _T(Linv))
    return _T(dL) if upper else dL


def _eig_gaps(w):
    """F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it and between (numerically)
    equal eigenvalues: eigenvectors of a repeated eigenvalue are not differentiable,
    and 0 is right when the function does not depend on the choice of basis."""
    diff = w[..., None, :] - w[..., :, None]
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] if w.size else 1.0
    ok = np.abs(diff) > 1e-10 * np.maximum(scale, 1e-300)
    return np.where(ok, 1.0 / np.where(ok, diff, 1.0), 0.0)


def _eigh_bar(result_bar, a, result, UPLO):
    w, V = result[0], result[1]
    gw = result_bar[0]
    gV = result_bar[1] if len(result_bar) > 1 else 0.0
    G = _zeros_of(a) if not np.iscomplexobj(V) else np.zeros(np.shape(a), dtype=V.dtype)
    # complex (Hermitian) a: G = conj(V) (diag(gw) + F o (V^T gV)) V^T under the pairing
    # Re(sum(ct * t)) (complex_rules.py); V is real otherwise and conj(V) is V
    Vc = np.conj(V) if np.iscomplexobj(V) else V
    if not _zero(gw):
        G = G + (Vc * real_cotangent(_arr(gw))[..., None, :]) @ _T(V)
    if not _zero(gV) and (is_duck_array(gV) or np.any(gV)):
        G = G + Vc @ (_eig_gaps(w) * (_T(V) @ gV)) @ _T(V)
    return _sym_read(0.5 * (G + _H(G)), UPLO.upper() == "L")


def _eigh_jvp(a, a_dot, result, UPLO):
    w, V = result[0], result[1]
    dA = _sym_from(_full(a_dot, a), UPLO.upper() == "L")
    M = _H(V) @ dA @ V
    dw = np.diagonal(M, axis1=-2, axis2=-1).copy()
    return ListBar([np.real(dw) if np.iscomplexobj(dw) else dw, V @ (_eig_gaps(w) * M)])


def _eigvalsh_bar(g, a, UPLO):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    return _eigh_bar([g, 0.0], a, (w, V), UPLO)


def _eigvalsh_jvp(a, a_dot, UPLO):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    return _eigh_jvp(a, a_dot, (w, V), UPLO)[0]


def _lstsq_parts(a, b, x):
    A = np.asarray(a)
    vec = np.ndim(b) == 1
    B = np.asarray(b)[:, None] if vec else np.asarray(b)
    X = np.asarray(x)[:, None] if vec else np.asarray(x)
    P = np.linalg.pinv(A)
    R = B - A @ X
    return A, B, X, P, R, vec


def _lstsq_bar(result_bar, a, b, result, which):
    """Adjoint of lstsq in a (which=0) or b (which=1), through the solution (the
    pseudo-inverse solution), the residuals and the singular values (rank is an int)."""
    A, B, X, P, R, vec = _lstsq_parts(a, b, result[0])
    gx = result_bar[0]
    gr = result_bar[1] if len(result_bar) > 1 else 0.0
    n = A.shape[1]
    ga = np.zeros(A.shape)
    gb = np.zeros(B.shape)
    if not _zero(gx):
        GX = np.asarray(gx)[:, None] if vec else np.asarray(gx)
        gb = gb + P.T @ GX
        ga = ga - P.T @ GX @ X.T + R @ GX.T @ P @ P.T + (P.T @ X) @ GX.T @ (np.eye(n) - P @ A)
    if not _zero(gr) and np.size(result[1]):
        GR = np.asarray(gr)
        ga = ga - 2.0 * (R * GR) @ X.T
        gb = gb + 2.0 * R * GR
    gs = result_bar[3] if len(result_bar) > 3 else 0.0
    if not _zero(gs):
        u, _, vt = np.linalg.svd(A, full_matrices=False)
        ga = ga + (u * np.asarray(gs)) @ vt
    if which == 0:
        return ga
    return gb[:, 0] if vec else gb


def _lstsq_jvp(a, b, result, a_dot, b_dot):
    """Tangent of lstsq from a_dot (b_dot None) or b_dot (a_dot None), as a ListBar."""
    A, B, X, P, R, vec = _lstsq_parts(a, b, result[0])
    n = A.shape[1]
    if a_dot is not None:
        dA = _full(a_dot, a)
        dX = -P @ dA @ X + P @ P.T @ dA.T @ R + (np.eye(n) - P @ A) @ dA.T @ P.T @ X
        dR = -dA @ X
    else:
        dB = _full(b_dot, b)
        dB = dB[:, None] if vec else dB
        dX = P @ dB
        dR = dB
    dres = 2.0 * np.sum(R * dR, axis=0) if np.size(result[1]) else np.zeros(np.shape(result[1]))
    ds = 0.0
    if a_dot is not None:
        u, _, vt = np.linalg.svd(A, full_matrices=False)
        ds = np.einsum("ik,ij,kj->k", u, dA, vt)
    return ListBar([dX[:, 0] if vec else dX, dres, 0.0, ds])


# ---------------------------------------------------------------------------
# elementwise functions of one argument
# ---------------------------------------------------------------------------

@adjoint(np.sin)
def _(result, result_bar, x):
    return result_bar * np.cos(x)


@tangent(np.sin)
def _(result, x, x_dot):
    return x_dot * np.cos(x)


@adjoint(np.cos)
def _(result, result_bar, x):
    return -result_bar * np.sin(x)


@tangent(np.cos)
def _(result, x, x_dot):
    return -x_dot * np.sin(x)


@adjoint(np.tan)
def _(result, result_bar, x):
    return result_bar * (1.0 + result * result)


@tangent(np.tan)
def _(result, x, x_dot):
    return x_dot * (1.0 + result * result)


@adjoint(np.arcsin)
def _(result, result_bar, x):
    return result_bar / np.sqrt(1.0 - x * x)


@tangent(np.arcsin)
def _(result, x, x_dot):
    return x_dot / np.sqrt(1.0 - x * x)


@adjoint(np.arccos)
def _(result, result_bar, x):
    return -result_bar / np.sqrt(1.0 - x * x)


@tangent(np.arccos)
def _(result, x, x_dot):
    return -x_dot / np.sqrt(1.0 - x * x)


@adjoint(np.arctan)
def _(result, result_bar, x):
    return result_bar / (1.0 + x * x)


@tangent(np.arctan)
def _(result, x, x_dot):
    return x_dot / (1.0 + x * x)


@adjoint(np.sinh)
def _(result, result_bar, x):
    return result_bar * np.cosh(x)


@tangent(np.sinh)
def _(result, x, x_dot):
    return x_dot * np.cosh(x)


@adjoint(np.cosh)
def _(result, result_bar, x):
    return result_bar * np.sinh(x)


@tangent(np.cosh)
def _(result, x, x_dot):
    return x_dot * np.sinh(x)


@adjoint(np.tanh)
def _(result, result_bar, x):
    return result_bar * (1.0 - result * result)


@tangent(np.tanh)
def _(result, x, x_dot):
    return x_dot * (1.0 - result * result)


@adjoint(np.arcsinh)
def _(result, result_bar, x):
    return result_bar / np.sqrt(x * x + 1.0)


@tangent(np.arcsinh)
def _(result, x, x_dot):
    return x_dot / np.sqrt(x * x + 1.0)


@adjoint(np.arccosh)
def _(result, result_bar, x):
    return result_bar / np.sqrt(x * x - 1.0)


@tangent(np.arccosh)
def _(result, x, x_dot):
    return x_dot / np.sqrt(x * x - 1.0)


@adjoint(np.arctanh)
def _(result, result_bar, x):
    return result_bar / (1.0 - x * x)


@tangent(np.arctanh)
def _(result, x, x_dot):
    return x_dot / (1.0 - x * x)


@adjoint(np.exp)
def _(result, result_bar, x):
    return result_bar * result


@tangent(np.exp)
def _(result, x, x_dot):
    return x_dot * result


@adjoint(np.exp2)
def _(result, result_bar, x):
    return result_bar * result * _LN2


@tangent(np.exp2)
def _(result, x, x_dot):
    return x_dot * result * _LN2


@adjoint(np.expm1)
def _(result, result_bar, x):
    return result_bar * (result + 1.0)


@tangent(np.expm1)
def _(result, x, x_dot):
    return x_dot * (result + 1.0)


@adjoint(np.log)
def _(result, result_bar, x):
    return result_bar / x


@tangent(np.log)
def _(result, x, x_dot):
    return x_dot / x


@adjoint(np.log2)
def _(result, result_bar, x):
    return result_bar / (x * _LN2)


@tangent(np.log2)
def _(result, x, x_dot):
    return x_dot / (x * _LN2)


@adjoint(np.log10)
def _(result, result_bar, x):
    return result_bar / (x * _LN10)


@tangent(np.log10)
def _(result, x, x_dot):
    return x_dot / (x * _LN10)


@adjoint(np.log1p)
def _(result, result_bar, x):
    return result_bar / (1.0 + x)


@tangent(np.log1p)
def _(result, x, x_dot):
    return x_dot / (1.0 + x)


@adjoint(np.sqrt)
def _(result, result_bar, x):
    return result_bar / (2.0 * result)


@tangent(np.sqrt)
def _(result, x, x_dot):
    return x_dot / (2.0 * result)


@adjoint(np.cbrt)
def _(result, result_bar, x):
    return result_bar / (3.0 * result * result)


@tangent(np.cbrt)
def _(result, x, x_dot):
    return x_dot / (3.0 * result * result)


@adjoint(np.square)
def _(result, result_bar, x):
    return result_bar * 2.0 * x


@tangent(np.square)
def _(result, x, x_dot):
    return x_dot * 2.0 * x


@adjoint(np.reciprocal)
def _(result, result_bar, x):
    return -result_bar * result * result


@tangent(np.reciprocal)
def _(result, x, x_dot):
    return -x_dot * result * result


@adjoint(np.negative)
def _(result, result_bar, x):
    return -result_bar


@tangent(np.negative)
def _(result, x, x_dot):
    return -x_dot


@adjoint(np.positive)
def _(result, result_bar, x):
    return result_bar


@tangent(np.positive)
def _(result, x, x_dot):
    return x_dot


# abs: the subgradient 0 at 0 (np.sign(0) == 0)
# (complex x: the slope is conj(x)/|x| and the result is real; complex_rules.py)
@adjoint(np.absolute, np.fabs, ("method", "__abs__"))
def _(result, result_bar, x):
    return real_cotangent(result_bar) * abs_slope(x)


@tangent(np.absolute, np.fabs, ("method", "__abs__"))
def _(result, x, x_dot):
    return real_if_real(x_dot * abs_slope(x), result)


@adjoint(np.deg2rad, np.radians)
def _(result, result_bar, x):
    return result_bar * (math.pi / 180.0)


@tangent(np.deg2rad, np.radians)
def _(result, x, x_dot):
    return x_dot * (math.pi / 180.0)


@adjoint(np.rad2deg, np.degrees)
def _(result, result_bar, x):
    return result_bar * (180.0 / math.pi)


@tangent(np.rad2deg, np.degrees)
def _(result, x, x_dot):
    return x_dot * (180.0 / math.pi)


@adjoint(np.sinc)
def _(result, result_bar, x):
    return result_bar * _sinc_deriv(x)


@tangent(np.sinc)
def _(result, x, x_dot):
    return x_dot * _sinc_deriv(x)


@adjoint(np.conjugate, ("method", "conj"), ("method", "conjugate"))
def _(result, result_bar, x):
    return np.conj(result_bar)


@tangent(np.conjugate, ("method", "conj"), ("method", "conjugate"))
def _(result, x, x_dot):
    return np.conj(x_dot)


@adjoint(np.real, ("attr", "real"))
def _(result, result_bar, val):
    return _real_bar(result_bar, val)


@tangent(np.real, ("attr", "real"))
def _(result, val, val_dot):
    return np.real(val_dot)


@adjoint(np.imag, ("attr", "imag"))
def _(result, result_bar, val):
    return _imag_bar(result_bar, val)


@tangent(np.imag, ("attr", "imag"))
def _(result, val, val_dot):
    return np.imag(val_dot)


@adjoint(np.float64, np.float32)
def _(result, result_bar, x):
    return _cast_like(result_bar, x)


@tangent(np.float64, np.float32)
def _(result, x, x_dot):
    return x_dot


# ---------------------------------------------------------------------------
# elementwise functions of two arguments (broadcasting)
# ---------------------------------------------------------------------------

@adjoint(np.add)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(result_bar, x2)


@tangent(np.add)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot + x2_dot


@adjoint(np.subtract)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(-result_bar, x2)


@tangent(np.subtract)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot - x2_dot


@adjoint(np.multiply)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar * x2, x1), unbroadcast(result_bar * x1, x2)


@tangent(np.multiply)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * x2 + x1 * x2_dot


@adjoint(np.divide)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar / x2, x1), unbroadcast(-result_bar * result / x2, x2)


@tangent(np.divide)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot / x2 - x2_dot * result / x2


# d/dx2 is taken as 0 where x1 <= 0 (log undefined); d/dx1 is 0 where x2 == 0
@adjoint(np.power, np.float_power)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * _power_dx1(x1, x2), x1),
            unbroadcast(result_bar * _power_dx2(result, x1), x2))


@tangent(np.power, np.float_power)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * _power_dx1(x1, x2) + x2_dot * _power_dx2(result, x1)


@adjoint(np.hypot)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * _safe_div(x1, result), x1),
            unbroadcast(result_bar * _safe_div(x2, result), x2))


@tangent(np.hypot)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * _safe_div(x1, result) + x2_dot * _safe_div(x2, result)


@adjoint(np.arctan2)
def _(result, result_bar, x1, x2):
    r2 = x1 * x1 + x2 * x2
    return unbroadcast(result_bar * x2 / r2, x1), unbroadcast(-result_bar * x1 / r2, x2)


@tangent(np.arctan2)
def _(result, x1, x2, x1_dot, x2_dot):
    r2 = x1 * x1 + x2 * x2
    return x1_dot * (x2 / r2) - x2_dot * (x1 / r2)


# maximum/minimum: on a tie the gradient is split evenly between x1 and x2
@adjoint(np.maximum)
def _(result, result_bar, x1, x2):
    w = _max_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.maximum)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _max_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.minimum)
def _(result, result_bar, x1, x2):
    w = _min_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.minimum)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _min_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.fmax)
def _(result, result_bar, x1, x2):
    w = _fmax_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.fmax)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _fmax_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.fmin)
def _(result, result_bar, x1, x2):
    w = _fmin_weight(x1, x2)
    return unbroadcast(result_bar * w, x1), unbroadcast(result_bar * (1.0 - w), x2)


@tangent(np.fmin)
def _(result, x1, x2, x1_dot, x2_dot):
    w = _fmin_weight(x1, x2)
    return x1_dot * w + x2_dot * (1.0 - w)


@adjoint(np.logaddexp)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * np.exp(x1 - result), x1),
            unbroadcast(result_bar * np.exp(x2 - result), x2))


@tangent(np.logaddexp)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * np.exp(x1 - result) + x2_dot * np.exp(x2 - result)


@adjoint(np.logaddexp2)
def _(result, result_bar, x1, x2):
    return (unbroadcast(result_bar * np.exp2(x1 - result), x1),
            unbroadcast(result_bar * np.exp2(x2 - result), x2))


@tangent(np.logaddexp2)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * np.exp2(x1 - result) + x2_dot * np.exp2(x2 - result)


@adjoint(np.remainder)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(-result_bar * np.floor_divide(x1, x2), x2)


@tangent(np.remainder)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot - x2_dot * np.floor_divide(x1, x2)


# fmod(x1, x2) = x1 - q x2 with q an integer; trunc(x1 / x2) is q + 1 when x1 / x2 rounds up
# to an integer, but (x1 - result) / x2 is within rounding of q itself.
@adjoint(np.fmod)
def _(result, result_bar, x1, x2):
    return unbroadcast(result_bar, x1), unbroadcast(-result_bar * np.round((x1 - result) / x2), x2)


@tangent(np.fmod)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot - x2_dot * np.round((x1 - result) / x2)


@adjoint(np.where)
def _(result, result_bar, condition, x=None, y=None):
    return None, _where_bar(result_bar, condition, x), _where_not_bar(result_bar, condition, y)


@tangent(np.where)
def _(result, condition, x=None, y=None, x_dot=None, y_dot=None):
    return np.where(condition, x_dot, 0.0) + np.where(condition, 0.0, y_dot)


# clip: the gradient goes to a on the closed interval [a_min, a_max], to a bound
# where a is strictly outside it; the method form x.clip(min=, max=) binds min/max
@adjoint(np.clip, ("method", "clip"))
def _(result, result_bar, a, a_min=None, a_max=None, out=None, min=None, max=None):
    bounds = _clip_bounds(a_min, a_max, min, max)
    # numpy 2's min=/max= keywords are the same bounds as a_min/a_max
    return (_clip_bar_a(result_bar, a, bounds), _clip_bar_lo(result_bar, a, bounds),
            _clip_bar_hi(result_bar, a, bounds), None, _clip_bar_lo(result_bar, a, bounds),
            _clip_bar_hi(result_bar, a, bounds))


@tangent(np.clip, ("method", "clip"))
def _(result, a, a_min=None, a_max=None, out=None, min=None, max=None,
      a_dot=None, a_min_dot=None, a_max_dot=None, min_dot=None, max_dot=None):
    bounds = _clip_bounds(a_min, a_max, min, max)
    return (a_dot * _clip_pass(a, bounds) + _clip_jvp_lo(a, bounds, a_min_dot)
            + _clip_jvp_hi(a, bounds, a_max_dot) + _clip_jvp_lo(a, bounds, min_dot)
            + _clip_jvp_hi(a, bounds, max_dot))


# cross of 3-vectors along axisa/axisb (axisc for the result; axis sets all three): the
# adjoint works with the vector axes moved last
@adjoint(np.cross)
def _(result, result_bar, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    ax = _cross_axes(axisa, axisb, axisc, axis)
    am = np.moveaxis(a, ax[0], -1)
    bm = np.moveaxis(b, ax[1], -1)
    gm = np.moveaxis(result_bar, ax[2], -1)
    return (np.moveaxis(unbroadcast(np.cross(bm, gm), am), -1, ax[0]),
            np.moveaxis(unbroadcast(np.cross(gm, am), bm), -1, ax[1]))


@tangent(np.cross)
def _(result, a, b, axisa=-1, axisb=-1, axisc=-1, axis=None, a_dot=None, b_dot=None):
    return (np.cross(_full(a_dot, a), b, axisa, axisb, axisc, axis)
            + np.cross(a, _full(b_dot, b), axisa, axisb, axisc, axis))


# ---------------------------------------------------------------------------
# reductions (axis: None, int or tuple; keepdims)
# ---------------------------------------------------------------------------

# initial= adds a constant (a differentiated initial is refused); where= masks a
@adjoint(np.sum, ("method", "sum"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    return _sum_bar(result_bar, a, axis, keepdims) if where is True \
        else np.where(where, _sum_bar(result_bar, a, axis, keepdims), 0.0)


@tangent(np.sum, ("method", "sum"))
def _(result, a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True,
      a_dot=None, initial_dot=None):
    return (np.sum(_full(a_dot, a), axis=axis, keepdims=keepdims) if where is True
            else np.sum(_full(a_dot, a), axis=axis, keepdims=keepdims, where=where)) + no_derivative(
        initial_dot, "np.sum with respect to initial")


# where=: the mean of the selected elements (each gets g / their count)
@adjoint(np.mean, ("method", "mean"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, keepdims=False, where=True):
    return _mean_bar(result_bar, a, axis, keepdims) if where is True \
        else _masked_mean_bar(result_bar, a, axis, keepdims, where)


@tangent(np.mean, ("method", "mean"))
def _(result, a, axis=None, dtype=None, out=None, keepdims=False, where=True, a_dot=None):
    return _mean_jvp(a, a_dot, axis, keepdims) if where is True \
        else np.mean(_full(a_dot, a), axis=axis, keepdims=keepdims, where=where)


@adjoint(np.prod, ("method", "prod"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, keepdims=False):
    return _prod_bar(result_bar, a, axis, keepdims)


@tangent(np.prod, ("method", "prod"))
def _(result, a, axis=None, dtype=None, out=None, keepdims=False, a_dot=None):
    return _prod_jvp(a, a_dot, axis, keepdims)


# max/min: the gradient is split evenly among the elements tied for the extreme
# initial=: elements of a equal to the result share the gradient (none when initial wins);
# where=: masked-out elements read as NaN, which never equals the result
@adjoint(np.max, np.amax, np.min, np.amin, ("method", "max"), ("method", "min"))
def _(result, result_bar, a, axis=None, out=None, keepdims=False, initial=None, where=True):
    return _extreme_bar(result_bar, a, axis, keepdims, result) if where is True and initial is None \
        else _unreduce(result_bar, a, axis, keepdims) * _extreme_weights(
            a if where is True else np.where(where, a, np.nan), axis, result, keepdims)


@tangent(np.max, np.amax, np.min, np.amin, ("method", "max"), ("method", "min"))
def _(result, a, axis=None, out=None, keepdims=False, initial=None, where=True, a_dot=None, initial_dot=None):
    return (_extreme_jvp(a, a_dot, axis, keepdims, result) if where is True and initial is None
            else np.sum(_full(a_dot, a) * _extreme_weights(a if where is True else np.where(where, a, np.nan),
                                                          axis, result, keepdims), axis=axis, keepdims=keepdims)) \
        + no_derivative(initial_dot, "np.max/np.min with respect to initial")


@adjoint(np.var, ("method", "var"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None):
    return _var_bar(result_bar, a, axis, _ddof(ddof, correction), keepdims, None)


@tangent(np.var, ("method", "var"))
def _(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None, a_dot=None):
    return _var_jvp(a, a_dot, axis, _ddof(ddof, correction), keepdims, None)


@adjoint(np.std, ("method", "std"))
def _(result, result_bar, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None):
    return _var_bar(result_bar, a, axis, _ddof(ddof, correction), keepdims, result)


@tangent(np.std, ("method", "std"))
def _(result, a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, correction=None, a_dot=None):
    return _var_jvp(a, a_dot, axis, _ddof(ddof, correction), keepdims, result)


@adjoint(np.cumsum, ("method", "cumsum"))
def _(result, result_bar, a, axis=None, dtype=None, out=None):
    return _cumsum_bar(result_bar, a, axis, result)


@tangent(np.cumsum, ("method", "cumsum"))
def _(result, a, axis=None, dtype=None, out=None, a_dot=None):
    return np.cumsum(_full(a_dot, a), axis=axis)


@adjoint(np.cumprod, ("method", "cumprod"))
def _(result, result_bar, a, axis=None, dtype=None, out=None):
    return _cumprod_bar(result_bar, a, axis, result)


@tangent(np.cumprod, ("method", "cumprod"))
def _(result, a, axis=None, dtype=None, out=None, a_dot=None):
    return _cumprod_jvp(a, a_dot, axis, result)


@adjoint(np.linalg.norm)
def _(result, result_bar, x, ord=None, axis=None, keepdims=False):
    return _norm_bar(result_bar, x, ord, axis, keepdims, result)


@tangent(np.linalg.norm)
def _(result, x, ord=None, axis=None, keepdims=False, x_dot=None):
    return _norm_jvp(x, x_dot, ord, axis, keepdims, result)


# ---------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------

@adjoint(np.reshape)
def _(result, result_bar, a, shape=None, order="C", newshape=None, copy=None):
    return _reshape_to(result_bar, a, order)


@tangent(np.reshape)
def _(result, a, shape=None, order="C", newshape=None, copy=None, a_dot=None):
    return np.reshape(_full(a_dot, a), np.shape(result), order=order)


# x.reshape(2, 3) / x.reshape((2, 3)); the order= keyword of the method is not supported
@adjoint(("method", "reshape"))
def _(result, result_bar, a, *shape):
    return (_reshape_to(result_bar, a),)


@tangent(("method", "reshape"))
def _(result, a, a_dot, *shape):
    return np.reshape(_full(a_dot, a), np.shape(result))


@adjoint(np.ravel, ("method", "ravel"), ("method", "flatten"))
def _(result, result_bar, a, order="C"):
    return _reshape_to(result_bar, a, order)


@tangent(np.ravel, ("method", "ravel"), ("method", "flatten"))
def _(result, a, order="C", a_dot=None):
    return np.ravel(_full(a_dot, a), order=order)


@adjoint(np.squeeze, ("method", "squeeze"), np.expand_dims)
def _(result, result_bar, a, axis=None):
    return _reshape_to(result_bar, a)


@tangent(np.squeeze, ("method", "squeeze"), np.expand_dims)
def _(result, a, axis=None, a_dot=None):
    return np.reshape(_full(a_dot, a), np.shape(result))


@adjoint(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def _(result, result_bar, *arys):
    return _atleast_bar(result_bar, arys)


@tangent(np.atleast_1d)
def _(result, arys_dot, *arys):
    return _atleast_jvp(np.atleast_1d, arys, arys_dot)


@tangent(np.atleast_2d)
def _(result, arys_dot, *arys):
    return _atleast_jvp(np.atleast_2d, arys, arys_dot)


@tangent(np.atleast_3d)
def _(result, arys_dot, *arys):
    return _atleast_jvp(np.atleast_3d, arys, arys_dot)


@adjoint(np.transpose)
def _(result, result_bar, a, axes=None):
    return _transpose_bar(result_bar, axes)


@tangent(np.transpose)
def _(result, a, axes=None, a_dot=None):
    return _transpose_jvp(a, a_dot, axes)


# x.transpose(), x.transpose(1, 0), x.transpose((1, 0))
@adjoint(("method", "transpose"))
def _(result, result_bar, a, *axes):
    return (_transpose_bar(result_bar, _axes_arg(axes)),)


@tangent(("method", "transpose"))
def _(result, a, a_dot, *axes):
    return _transpose_jvp(a, a_dot, _axes_arg(axes))


@adjoint(("attr", "T"))
def _(result, result_bar, a):
    return np.transpose(result_bar)


@tangent(("attr", "T"))
def _(result, a, a_dot):
    return np.transpose(_full(a_dot, a))


@adjoint(("attr", "mT"))
def _(result, result_bar, a):
    return np.swapaxes(result_bar, -1, -2)


@tangent(("attr", "mT"))
def _(result, a, a_dot):
    return np.swapaxes(_full(a_dot, a), -1, -2)


@adjoint(np.swapaxes, ("method", "swapaxes"))
def _(result, result_bar, a, axis1, axis2):
    return np.swapaxes(result_bar, axis1, axis2)


@tangent(np.swapaxes, ("method", "swapaxes"))
def _(result, a, axis1, axis2, a_dot):
    return np.swapaxes(_full(a_dot, a), axis1, axis2)


@adjoint(np.moveaxis)
def _(result, result_bar, a, source, destination):
    return np.moveaxis(result_bar, destination, source)


@tangent(np.moveaxis)
def _(result, a, source, destination, a_dot):
    return np.moveaxis(_full(a_dot, a), source, destination)


@adjoint(np.concatenate)
def _(result, result_bar, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    return _concat_bar(result_bar, arrays, axis)


@tangent(np.concatenate)
def _(result, arrays, axis=0, out=None, dtype=None, casting="same_kind", arrays_dot=None):
    return _concat_jvp(arrays, arrays_dot, axis)


@adjoint(np.stack)
def _(result, result_bar, arrays, axis=0, out=None, dtype=None, casting="same_kind"):
    return _stack_bar(result_bar, axis)


@tangent(np.stack)
def _(result, arrays, axis=0, out=None, dtype=None, casting="same_kind", arrays_dot=None):
    return _stack_jvp(arrays, arrays_dot, axis)


@adjoint(np.hstack)
def _(result, result_bar, tup, dtype=None, casting="same_kind"):
    return _stacked_bar(result_bar, tup, "hstack")


@tangent(np.hstack)
def _(result, tup, dtype=None, casting="same_kind", tup_dot=None):
    return np.hstack(_dense_list(tup, tup_dot))


@adjoint(np.vstack)
def _(result, result_bar, tup, dtype=None, casting="same_kind"):
    return _stacked_bar(result_bar, tup, "vstack")


@tangent(np.vstack)
def _(result, tup, dtype=None, casting="same_kind", tup_dot=None):
    return np.vstack(_dense_list(tup, tup_dot))


@adjoint(np.dstack)
def _(result, result_bar, tup):
    return _stacked_bar(result_bar, tup, "dstack")


@tangent(np.dstack)
def _(result, tup, tup_dot):
    return np.dstack(_dense_list(tup, tup_dot))


@adjoint(np.column_stack)
def _(result, result_bar, tup):
    return _stacked_bar(result_bar, tup, "column_stack")


@tangent(np.column_stack)
def _(result, tup, tup_dot):
    return np.column_stack(_dense_list(tup, tup_dot))


# np.r_[...] / np.c_[...], desugared into index_concat(np.r_, key) (transform/desugar.py)
@adjoint(index_concat)
def _(result, result_bar, maker, key):
    return None, _index_concat_bar(result_bar, maker, key)


@tangent(index_concat)
def _(result, maker, key, key_dot):
    return _index_concat_jvp(maker, key, key_dot)


# the result of split is a list: result_bar is a list whose entries may be 0.0
@adjoint(np.split, np.array_split)
def _(result, result_bar, ary, indices_or_sections, axis=0):
    return _split_bar(result_bar, result, axis)


@tangent(np.split)
def _(result, ary, indices_or_sections, axis=0, ary_dot=None):
    return ListBar(np.split(_full(ary_dot, ary), indices_or_sections, axis=axis))


@tangent(np.array_split)
def _(result, ary, indices_or_sections, axis=0, ary_dot=None):
    return ListBar(np.array_split(_full(ary_dot, ary), indices_or_sections, axis=axis))


@adjoint(np.hsplit)
def _(result, result_bar, ary, indices_or_sections):
    return _split_bar(result_bar, result, _split_axis(ary, "hsplit"))


@tangent(np.hsplit)
def _(result, ary, indices_or_sections, ary_dot):
    return ListBar(np.hsplit(_full(ary_dot, ary), indices_or_sections))


@adjoint(np.vsplit)
def _(result, result_bar, ary, indices_or_sections):
    return _split_bar(result_bar, result, _split_axis(ary, "vsplit"))


@tangent(np.vsplit)
def _(result, ary, indices_or_sections, ary_dot):
    return ListBar(np.vsplit(_full(ary_dot, ary), indices_or_sections))


@adjoint(np.dsplit)
def _(result, result_bar, ary, indices_or_sections):
    return _split_bar(result_bar, result, 2)


@tangent(np.dsplit)
def _(result, ary, indices_or_sections, ary_dot):
    return ListBar(np.dsplit(_full(ary_dot, ary), indices_or_sections))


@adjoint(np.tile)
def _(result, result_bar, A, reps):
    return _tile_bar(result_bar, A, reps)


@tangent(np.tile)
def _(result, A, reps, A_dot):
    return np.tile(_full(A_dot, A), reps)


@adjoint(np.repeat, ("method", "repeat"))
def _(result, result_bar, a, repeats, axis=None):
    return _repeat_bar(result_bar, a, repeats, axis)


@tangent(np.repeat, ("method", "repeat"))
def _(result, a, repeats, axis=None, a_dot=None):
    return np.repeat(_full(a_dot, a), repeats, axis=axis)


@adjoint(np.broadcast_to)
def _(result, result_bar, array, shape, subok=False):
    return unbroadcast(result_bar, array)


@tangent(np.broadcast_to)
def _(result, array, shape, subok=False, array_dot=None):
    return np.broadcast_to(array_dot, shape)


@adjoint(np.flip)
def _(result, result_bar, m, axis=None):
    return np.flip(result_bar, axis)


@tangent(np.flip)
def _(result, m, axis=None, m_dot=None):
    return np.flip(_full(m_dot, m), axis)


@adjoint(np.fliplr)
def _(result, result_bar, m):
    return np.fliplr(result_bar)


@tangent(np.fliplr)
def _(result, m, m_dot):
    return np.fliplr(_full(m_dot, m))


@adjoint(np.flipud)
def _(result, result_bar, m):
    return np.flipud(result_bar)


@tangent(np.flipud)
def _(result, m, m_dot):
    return np.flipud(_full(m_dot, m))


@adjoint(np.roll)
def _(result, result_bar, a, shift, axis=None):
    return _roll_bar(result_bar, shift, axis)


@tangent(np.roll)
def _(result, a, shift, axis=None, a_dot=None):
    return np.roll(_full(a_dot, a), shift, axis=axis)


# pad: every mode but a callable: constant, empty, edge, reflect, symmetric, wrap, mean,
# linear_ramp (constant end_values), maximum, minimum, median (stat_length is not taken);
# constant_values (a scalar)
@adjoint(np.pad)
def _(result, result_bar, array, pad_width, mode="constant", constant_values=0, end_values=0):
    return (_pad_bar(result_bar, array, pad_width, mode), None, None,
            _pad_cv_bar(result_bar, array, pad_width, mode, constant_values))


@tangent(np.pad)
def _(result, array, pad_width, mode="constant", constant_values=0, end_values=0,
      array_dot=None, constant_values_dot=None, end_values_dot=None):
    return ((_pad_stat_jvp(array, pad_width, mode, array_dot) if mode in _PAD_STATS
             else np.pad(_full(array_dot, array), pad_width, mode=_pad_linear_mode(mode)))
            + _pad_cv_jvp(array, pad_width, constant_values_dot) + _pad_ev_jvp(end_values_dot))


@adjoint(np.diag)
def _(result, result_bar, v, k=0):
    return _diag_bar(result_bar, v, k)


@tangent(np.diag)
def _(result, v, k=0, v_dot=None):
    return np.diag(_full(v_dot, v), k)


@adjoint(np.diagonal, ("method", "diagonal"))
def _(result, result_bar, a, offset=0, axis1=0, axis2=1):
    return _diagonal_bar(result_bar, a, offset, axis1, axis2)


@tangent(np.diagonal, ("method", "diagonal"))
def _(result, a, offset=0, axis1=0, axis2=1, a_dot=None):
    return np.diagonal(_full(a_dot, a), offset, axis1, axis2).copy()


@adjoint(np.trace, ("method", "trace"))
def _(result, result_bar, a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    return _trace_bar(result_bar, a, offset, axis1, axis2)


@tangent(np.trace, ("method", "trace"))
def _(result, a, offset=0, axis1=0, axis2=1, dtype=None, out=None, a_dot=None):
    return np.trace(_full(a_dot, a), offset, axis1, axis2)


@adjoint(np.triu)
def _(result, result_bar, m, k=0):
    return unbroadcast(np.triu(result_bar, k), m)


@tangent(np.triu)
def _(result, m, k=0, m_dot=None):
    return np.triu(_full(m_dot, m), k)


@adjoint(np.tril)
def _(result, result_bar, m, k=0):
    return unbroadcast(np.tril(result_bar, k), m)


@tangent(np.tril)
def _(result, m, k=0, m_dot=None):
    return np.tril(_full(m_dot, m), k)


@adjoint(np.diff)
def _(result, result_bar, a, n=1, axis=-1):
    return _diff_bar(result_bar, a, n, axis)


@tangent(np.diff)
def _(result, a, n=1, axis=-1, a_dot=None):
    return np.diff(_full(a_dot, a), n, axis)


# ---------------------------------------------------------------------------
# products
# ---------------------------------------------------------------------------

@adjoint(np.dot, ("method", "dot"))
def _(result, result_bar, a, b, out=None):
    return _dot_bar_a(result_bar, a, b), _dot_bar_b(result_bar, a, b)


@tangent(np.dot, ("method", "dot"))
def _(result, a, b, out=None, a_dot=None, b_dot=None):
    return np.dot(_full(a_dot, a), b) + np.dot(a, _full(b_dot, b))


@adjoint(np.matmul)
def _(result, result_bar, x1, x2):
    return _matmul_bar_a(result_bar, x1, x2), _matmul_bar_b(result_bar, x1, x2)


@tangent(np.matmul)
def _(result, x1, x2, x1_dot, x2_dot):
    return np.matmul(_full(x1_dot, x1), x2) + np.matmul(x1, _full(x2_dot, x2))


@adjoint(np.outer)
def _(result, result_bar, a, b, out=None):
    return _outer_bar(result_bar, a, b, 0), _outer_bar(result_bar, a, b, 1)


@tangent(np.outer)
def _(result, a, b, out=None, a_dot=None, b_dot=None):
    return np.outer(_full(a_dot, a), b) + np.outer(a, _full(b_dot, b))


@adjoint(np.inner)
def _(result, result_bar, a, b):
    return _inner_bar(result_bar, a, b, 0), _inner_bar(result_bar, a, b, 1)


@tangent(np.inner)
def _(result, a, b, a_dot, b_dot):
    return np.inner(_full(a_dot, a), b) + np.inner(a, _full(b_dot, b))


@adjoint(np.vdot)
def _(result, result_bar, a, b):
    return (np.reshape(np.conj(result_bar * np.ravel(b)), np.shape(a)),
            np.reshape(result_bar * np.conj(np.ravel(a)), np.shape(b)))


@tangent(np.vdot)
def _(result, a, b, a_dot, b_dot):
    return np.vdot(_full(a_dot, a), b) + np.vdot(a, _full(b_dot, b))


@adjoint(np.tensordot)
def _(result, result_bar, a, b, axes=2):
    return _tensordot_bar(result_bar, a, b, axes, 0), _tensordot_bar(result_bar, a, b, axes, 1)


@tangent(np.tensordot)
def _(result, a, b, axes=2, a_dot=None, b_dot=None):
    return np.tensordot(_full(a_dot, a), b, axes) + np.tensordot(a, _full(b_dot, b), axes)


# einsum(subscripts, *operands): the adjoint returns (None, contribution per operand);
# the tangent receives the operands' tangents as one tuple operands_dot.  The sublist form
# einsum(a, [0, 1], b, [1, 2]) with literal sublists is rewritten to subscripts by
# transform/desugar.py; computed sublists reach these rules (first order): the first
# operand is then `subscripts`, with its own tangent subscripts_dot
@adjoint(np.einsum)
def _(result, result_bar, subscripts, *operands):
    return _einsum_bars(result_bar, subscripts, operands)


@tangent(np.einsum)
def _(result, subscripts, subscripts_dot, operands_dot, *operands):
    return (_einsum_jvp(subscripts, operands, operands_dot)
            + (0.0 if isinstance(subscripts, str) else np.einsum(_full(subscripts_dot, subscripts), *operands)))


@adjoint(np.kron)
def _(result, result_bar, a, b):
    lay = _kron_layout(a, b)
    g = np.reshape(result_bar, lay[0])
    return (np.reshape(np.einsum(lay[1], g, np.reshape(b, lay[4])), np.shape(a)),
            np.reshape(np.einsum(lay[2], g, np.reshape(a, lay[3])), np.shape(b)))


@tangent(np.kron)
def _(result, a, b, a_dot, b_dot):
    return np.kron(_full(a_dot, a), b) + np.kron(a, _full(b_dot, b))


# partition: a permutation of a (the one np.argpartition gives), like sort
@adjoint(np.partition)
def _(result, result_bar, a, kth, axis=-1, kind="introselect", order=None):
    return _take_along_bar(result_bar, a, np.argpartition(a, kth, axis=axis), axis)


@tangent(np.partition)
def _(result, a, kth, axis=-1, kind="introselect", order=None, a_dot=None):
    return np.take_along_axis(_full(a_dot, a), np.argpartition(a, kth, axis=axis), axis=axis)


# select: each element comes from the first choice whose condition holds, else the default
@adjoint(np.select)
def _(result, result_bar, condlist, choicelist, default=0):
    return (None, _select_choices_bar(result_bar, condlist, choicelist),
            unbroadcast(_select_bar(result_bar, condlist, choicelist, len(choicelist)), default))


@tangent(np.select)
def _(result, condlist, choicelist, default=0, choicelist_dot=None, default_dot=None):
    return (np.select(condlist, _dense_list(choicelist, choicelist_dot), 0.0)
            + np.where(_select_taken(condlist, result), 0.0, _full(default_dot, result)))


# ---------------------------------------------------------------------------
# linear algebra (stacks of matrices where numpy allows them)
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


# cholesky reads one triangle of a (the lower one, or the upper one when upper=True);
# the gradient is w.r.t. the entries actually read
@adjoint(np.linalg.cholesky)
def _(result, result_bar, a, upper=False):
    return cholesky_bar_complex(result_bar, a, result, upper) if np.iscomplexobj(result) \
        else _cholesky_bar(result_bar, a, result, upper)


@tangent(np.linalg.cholesky)
def _(result, a, upper=False, a_dot=None):
    return cholesky_jvp_complex(a, a_dot, result, upper) if np.iscomplexobj(result) \
        else _cholesky_jvp(a, a_dot, result, upper)


# eigh: result (eigenvalues, eigenvectors); eigenvectors need distinct eigenvalues
@adjoint(np.linalg.eigh)
def _(result, result_bar, a, UPLO="L"):
    return _eigh_bar(result_bar, a, result, UPLO)


@tangent(np.linalg.eigh)
def _(result, a, UPLO="L", a_dot=None):
    return _eigh_jvp(a, a_dot, result, UPLO)


@adjoint(np.linalg.eigvalsh)
def _(result, result_bar, a, UPLO="L"):
    return _eigvalsh_bar(result_bar, a, UPLO)


@tangent(np.linalg.eigvalsh)
def _(result, a, UPLO="L", a_dot=None):
    return _eigvalsh_jvp(a, a_dot, UPLO)


# lstsq: result (x, residuals, rank, s); differentiated through x, residuals and s
# (x as the pseudo-inverse solution: a of full rank)
@adjoint(np.linalg.lstsq)
def _(result, result_bar, a, b, rcond=None):
    return _lstsq_bar(result_bar, a, b, result, 0), _lstsq_bar(result_bar, a, b, result, 1)


@tangent(np.linalg.lstsq)
def _(result, a, b, rcond=None, a_dot=None, b_dot=None):
    return _lstsq_jvp(a, b, result, a_dot, None) + _lstsq_jvp(a, b, result, None, b_dot)


# ---------------------------------------------------------------------------
# creation, copies, casts, selection
# ---------------------------------------------------------------------------

@adjoint(np.full)
def _(result, result_bar, shape, fill_value, dtype=None, order="C"):
    return None, unbroadcast(result_bar, fill_value)


@tangent(np.full)
def _(result, shape, fill_value, dtype=None, order="C", fill_value_dot=None):
    return _fill_jvp(fill_value_dot, result)


@adjoint(np.full_like)
def _(result, result_bar, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    return None, unbroadcast(result_bar, fill_value)


@tangent(np.full_like)
def _(result, a, fill_value, dtype=None, order="K", subok=True, shape=None, fill_value_dot=None):
    return _fill_jvp(fill_value_dot, result)


@adjoint(np.array)
def _(result, result_bar, object, dtype=None, copy=True, order="K", subok=False, ndmin=0):
    return _array_bar(result_bar, object)


@tangent(np.array)
def _(result, object, dtype=None, copy=True, order="K", subok=False, ndmin=0, object_dot=None):
    return _array_jvp(object, object_dot, result)


@adjoint(np.asarray, np.asanyarray)
def _(result, result_bar, a, dtype=None, order=None):
    return _array_bar(result_bar, a)


@tangent(np.asarray, np.asanyarray)
def _(result, a, dtype=None, order=None, a_dot=None):
    return _array_jvp(a, a_dot, result)


@adjoint(np.ascontiguousarray)
def _(result, result_bar, a, dtype=None):
    return _array_bar(result_bar, a)


@tangent(np.ascontiguousarray)
def _(result, a, dtype=None, a_dot=None):
    return _array_jvp(a, a_dot, result)


@adjoint(np.copy, ("method", "copy"))
def _(result, result_bar, a, order="K", subok=False):
    return result_bar


@tangent(np.copy, ("method", "copy"))
def _(result, a, order="K", subok=False, a_dot=None):
    return _copy_jvp(a_dot, a)


# astype: the gradient is cast back to a's dtype; an integer result carries none
@adjoint(("method", "astype"))
def _(result, result_bar, a, dtype, order="K", casting="unsafe", subok=True, copy=True):
    return _astype_bar(result_bar, a, result)


@tangent(("method", "astype"))
def _(result, a, dtype, order="K", casting="unsafe", subok=True, copy=True, a_dot=None):
    return _astype_jvp(a_dot, a, result)


@adjoint(np.linspace)
def _(result, result_bar, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    return (_linspace_bar(result_bar, start, stop, num, endpoint, axis, 0),
            _linspace_bar(result_bar, start, stop, num, endpoint, axis, 1))


@tangent(np.linspace)
def _(result, start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
      start_dot=None, stop_dot=None):
    return (_linspace_jvp(start, stop, start_dot, num, endpoint, axis, 0)
            + _linspace_jvp(start, stop, stop_dot, num, endpoint, axis, 1))


# arange(start, stop, step) = start + step * k: differentiable in start and step (its
# length, hence stop, is piecewise constant); with one argument, that argument is stop.
@adjoint(np.arange)
def _(result, result_bar, start, stop=None, step=None, dtype=None):
    return (np.sum(result_bar * _arange_weights(result, stop, 0)), None,
            np.sum(result_bar * _arange_weights(result, stop, 2)))


@tangent(np.arange)
def _(result, start, stop=None, step=None, dtype=None, start_dot=None, stop_dot=None, step_dot=None):
    return (start_dot * _arange_weights(result, stop, 0) + stop_dot * _arange_weights(result, stop, 1)
            + step_dot * _arange_weights(result, stop, 2))


# logspace = base ** linspace(start, stop, ...): the linspace rules, scaled by result * log(base)
@adjoint(np.logspace)
def _(result, result_bar, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    return (_linspace_bar(result_bar * result * np.log(base), start, stop, num, endpoint, axis, 0),
            _linspace_bar(result_bar * result * np.log(base), start, stop, num, endpoint, axis, 1),
            None, None,
            unbroadcast(np.sum(result_bar * result * np.linspace(start, stop, num, endpoint, axis=axis)
                               / base), base))


@tangent(np.logspace)
def _(result, start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0,
      start_dot=None, stop_dot=None, base_dot=None):
    return (_linspace_jvp(start, stop, start_dot, num, endpoint, axis, 0) * result * np.log(base)
            + _linspace_jvp(start, stop, stop_dot, num, endpoint, axis, 1) * result * np.log(base)
            + base_dot * result * np.linspace(start, stop, num, endpoint, axis=axis) / base)


# heaviside(x1, x2): 0 almost everywhere in x1; x2 is the value where x1 == 0
@adjoint(np.heaviside)
def _(result, result_bar, x1, x2):
    return None, unbroadcast(result_bar * np.equal(x1, 0), x2)


@tangent(np.heaviside)
def _(result, x1, x2, x1_dot, x2_dot):
    return x1_dot * np.zeros(np.shape(result)) + x2_dot * np.equal(x1, 0)


# sort: the gradient goes back through the (stable) sorting permutation
@adjoint(np.sort)
def _(result, result_bar, a, axis=-1, kind=None, order=None):
    return _sort_bar(result_bar, a, axis)


@tangent(np.sort)
def _(result, a, axis=-1, kind=None, order=None, a_dot=None):
    return _sort_jvp(a, a_dot, axis)


@adjoint(np.take, ("method", "take"))
def _(result, result_bar, a, indices, axis=None, out=None, mode="raise"):
    return _take_bar(result_bar, a, indices, axis, mode)


@tangent(np.take, ("method", "take"))
def _(result, a, indices, axis=None, out=None, mode="raise", a_dot=None):
    return np.take(_full(a_dot, a), indices, axis=axis, mode=mode)


@adjoint(np.take_along_axis)
def _(result, result_bar, arr, indices, axis=-1):
    return _take_along_bar(result_bar, arr, indices, axis)


@tangent(np.take_along_axis)
def _(result, arr, indices, axis=-1, arr_dot=None):
    return np.take_along_axis(_full(arr_dot, arr), indices, axis=axis)


# x.item() / x.item(i) / x.item(i, j)
@adjoint(("method", "item"))
def _(result, result_bar, a, *args):
    return (_item_bar(result_bar, a, args),)


@tangent(("method", "item"))
def _(result, a, a_dot, *args):
    return _item_jvp(a, a_dot, args)


# ---------------------------------------------------------------------------
# non-differentiable: creation from shapes, indices, predicates, rounding
# (rounding functions are piecewise constant: zero derivative almost everywhere)
# ---------------------------------------------------------------------------

nondiff(
    np.zeros, np.ones, np.empty, np.zeros_like, np.ones_like, np.empty_like, np.eye,
    np.identity, np.tri, np.indices, np.diag_indices, np.triu_indices,
    np.tril_indices, np.unravel_index, np.ravel_multi_index,
    np.shape, np.ndim, np.size, np.result_type, np.broadcast_shapes, np.iscomplexobj,
    np.isrealobj, np.isscalar,
    np.argmax, np.argmin, np.argsort, np.argpartition, np.lexsort, np.nonzero,
    np.flatnonzero, np.argwhere, np.searchsorted, np.digitize, np.count_nonzero,
    np.isnan, np.isfinite, np.isinf, np.isneginf, np.isposinf, np.isclose, np.allclose,
    np.array_equal, np.array_equiv, np.signbit, np.iscomplex, np.isreal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor,
    np.equal, np.not_equal, np.less, np.less_equal, np.greater, np.greater_equal,
    np.all, np.any,
    np.sign, np.floor, np.ceil, np.rint, np.trunc, np.fix, np.round, np.around,
    np.floor_divide,
    np.int8, np.int16, np.int32, np.int64, np.uint8, np.intp, np.bool_,
    np.random.rand, np.random.randn, np.random.randint, np.random.random,
    np.random.seed, np.random.default_rng,
    ("attr", "shape"), ("attr", "ndim"), ("attr", "size"), ("attr", "dtype"),
    ("attr", "itemsize"), ("attr", "nbytes"), ("attr", "strides"),
    ("method", "argmax"), ("method", "argmin"), ("method", "argsort"),
    ("method", "nonzero"), ("method", "all"), ("method", "any"), ("method", "round"),
    ("method", "searchsorted"),
)


# Helpers the optimizer recognizes in, or writes into, generated code (optimize/spread.py,
# optimize/accumulate.py): public names for the same objects; the code keeps their own names.
sum_bar = _sum_bar
sum_bar_times = _sum_bar_times


# What the optimizer may assume of these helpers (diffc/effects.py).
effects.declare(_sum_bar, _sum_bar_times, _extreme_bar, _dot_bar_a, _dot_bar_b, facts=(effects.LINEAR_IN_FIRST,))
effects.declare(_sum_bar_times, times_one_minus_square, _dot_bar_a, _dot_bar_b, facts=(effects.FRESH,))
effects.declare(times_one_minus_square, _dot_bar_a, _dot_bar_b, facts=(effects.OWNED_BUFFER,))
effects.declare(_sum_bar_times, facts=(effects.NO_WRITES,))
