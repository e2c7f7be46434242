"""Rules for products: dot, outer, inner, vdot, tensordot, einsum, kron, cross.

Input: nothing (imported by rules/numpy_rules.py; np.matmul shares the ``@`` operator's
rules in rules/operators.py).  Output: adjoint and tangent rules for those functions, the
adjoint helpers they call (``_dot_bar_a``, ``_dot_bar_b``, ``_tensordot_bar``,
``_einsum_bars``...; each bilinear in the incoming adjoint and the other operand) and
rules of any order for those helpers.  einsum: the adjoint returns (None, one
contribution per operand); the tangent receives the operands' tangents as one tuple.
Conventions: rules/numpy_rules.py.
"""

import numpy as np

from .. import effects
from . import adjoint, nondiff, tangent
from ..runtime import ListBar, is_duck_array, unbroadcast
from .shared import (is_zero as _zero, bcast as _bcast, full as _full, seq as _seq)


# ---------------------------------------------------------------------------
# helpers (plain numpy; free to loop and branch)
# ---------------------------------------------------------------------------


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


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
# generated code (optimize/skip_dead_last_step.py).
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


# ---------------------------------------------------------------------------
# first-order rules
# ---------------------------------------------------------------------------


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


@adjoint(np.dot, ("method", "dot"))
def _(result, result_bar, a, b, out=None):
    return _dot_bar_a(result_bar, a, b), _dot_bar_b(result_bar, a, b)


@tangent(np.dot, ("method", "dot"))
def _(result, a, b, out=None, a_dot=None, b_dot=None):
    return np.dot(_full(a_dot, a), b) + np.dot(a, _full(b_dot, b))


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
# (optimize= only chooses the order of the contractions: the rules' einsums choose their own)
@adjoint(np.einsum)
def _(result, result_bar, subscripts, *operands, optimize=False):
    return _einsum_bars(result_bar, subscripts, operands)


@tangent(np.einsum)
def _(result, subscripts, subscripts_dot, operands_dot, *operands, optimize=False):
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


# ---------------------------------------------------------------------------
# higher-order rules: the helpers above, differentiated again
# ---------------------------------------------------------------------------


# Piecewise-constant selectors, weights, masks, shapes and axes: no derivative.
nondiff(_tensordot_subscripts, _einsum_parse, _cross_axes, _kron_layout, _einsum_sublists)


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


@tangent(_dot_bar_a)
def _(result, g, a, b, g_dot, b_dot):
    return _dot_bar_a(_full(g_dot, g), a, b) + _dot_bar_a(g, a, _full(b_dot, b))


@adjoint(_dot_bar_a)
def _(result, result_bar, g, a, b):
    return unbroadcast(np.dot(result_bar, b), g), None, _dot_bar_b(g, result_bar, b)


@tangent(_dot_bar_b)
def _(result, g, a, b, g_dot, a_dot):
    return _dot_bar_b(_full(g_dot, g), a, b) + _dot_bar_b(g, _full(a_dot, a), b)


@adjoint(_dot_bar_b)
def _(result, result_bar, g, a, b):
    return unbroadcast(np.dot(a, result_bar), g), _dot_bar_a(g, a, result_bar), None


# which=0: the adjoint of a (depends on g and b); which=1: of b (depends on g and a).
# The helper reads the operand it is the adjoint of only for its shape, so one term
# with both operand tangents is right for either value of which.
@tangent(_outer_bar)
def _(result, g, a, b, which, g_dot, a_dot, b_dot):
    return (_outer_bar(_full(g_dot, g), a, b, which)
            + _outer_bar(g, _full(a_dot, a), _full(b_dot, b), which))


@adjoint(_outer_bar)
def _(result, result_bar, g, a, b, which):
    return (unbroadcast(np.outer(result_bar, b) if which == 0 else np.outer(a, result_bar), g),
            0.0 if which == 0 else _outer_bar(g, a, result_bar, 0),
            _outer_bar(g, result_bar, b, 1) if which == 0 else 0.0, None)


@tangent(_inner_bar)
def _(result, g, a, b, which, g_dot, a_dot, b_dot):
    return (_inner_bar(_full(g_dot, g), a, b, which)
            + _inner_bar(g, _full(a_dot, a), _full(b_dot, b), which))


@adjoint(_inner_bar)
def _(result, result_bar, g, a, b, which):
    return (unbroadcast(np.inner(result_bar, b) if which == 0 else np.inner(a, result_bar), g),
            0.0 if which == 0 else _inner_bar(g, a, result_bar, 0),
            _inner_bar(g, result_bar, b, 1) if which == 0 else 0.0, None)


@tangent(_tensordot_bar)
def _(result, g, a, b, axes, which, g_dot, a_dot, b_dot):
    return (_tensordot_bar(_full(g_dot, g), a, b, axes, which)
            + _tensordot_bar(g, _full(a_dot, a), _full(b_dot, b), axes, which))


@adjoint(_tensordot_bar)
def _(result, result_bar, g, a, b, axes, which):
    return (unbroadcast(np.tensordot(result_bar, b, axes) if which == 0
                        else np.tensordot(a, result_bar, axes), g),
            0.0 if which == 0 else _tensordot_bar(g, a, result_bar, axes, 0),
            _tensordot_bar(g, result_bar, b, axes, 1) if which == 0 else 0.0, None, None)


@tangent(_einsum_bars)
def _(result, g, subscripts, operands, g_dot, operands_dot):
    return _einsum_bars_jvp(g, subscripts, operands, g_dot, operands_dot)


@adjoint(_einsum_bars)
def _(result, result_bar, g, subscripts, operands):
    return (_einsum_bars_adj_g(g, subscripts, operands, result_bar), None,
            _einsum_bars_adj_ops(g, subscripts, operands, result_bar))


@tangent(_einsum_jvp)
def _(result, subscripts, operands, d, operands_dot, d_dot):
    return _einsum_jvp_jvp(subscripts, operands, d, operands_dot, d_dot)


@adjoint(_einsum_jvp)
def _(result, result_bar, subscripts, operands, d):
    return (None, _einsum_bars_adj_ops(result_bar, subscripts, operands, (0.0,) + tuple(_seq(d, len(operands)))),
            ListBar(_einsum_bars(result_bar, subscripts, operands)[1:]))


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


# What the optimizer may assume of these helpers (diffc/effects.py).
effects.declare(_dot_bar_a, _dot_bar_b, facts=(effects.LINEAR_IN_FIRST, effects.FRESH, effects.OWNED_BUFFER))
