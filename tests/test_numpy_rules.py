"""Direct tests of the NumPy rules (diffc/rules/numpy_rules.py's families) against central finite differences.

Each rule function is called directly (it is an ordinary Python function), the
way the compiler would inline it: contributions and tangent terms for
parameters that are not differentiated are dropped (a tangent rule's return is
a sum of terms, each mentioning one ``*_dot`` name; an adjoint's literal tuple
has one entry per parameter).  Every case is one line in a table below.
"""

import ast
import copy
import inspect

import gast
import numpy as np
import pytest

import diffc.rules.numpy_rules as NR
from diffc.rules import ADJOINTS, NONDIFF, TANGENTS
from diffc.runtime import ListBar, index_concat

EPS = 1e-6
RTOL = 1e-5
ATOL = 1e-6

_rng = np.random.default_rng(1234)


# ---------------------------------------------------------------------------
# data makers (evaluated once, at collection)
# ---------------------------------------------------------------------------

def R(*shape):
    """Standard normal data; R() is a Python float."""
    if shape == ():
        return float(_rng.standard_normal())
    return _rng.standard_normal(shape)


def S(*shape):
    """A numpy float64 scalar when shape == (), else like R."""
    return np.float64(_rng.standard_normal()) if shape == () else R(*shape)


def P(*shape, lo=0.5, hi=2.0):
    """Positive data in [lo, hi]."""
    if shape == ():
        return float(_rng.uniform(lo, hi))
    return _rng.uniform(lo, hi, shape)


def U(*shape):
    """Data in (-0.8, 0.8) (arcsin, arctanh...)."""
    return P(*shape, lo=-0.8, hi=0.8)


def NZ(*shape):
    """Data with |x| in [0.3, 1.5] and random signs (abs, cbrt...)."""
    x = P(*shape, lo=0.3, hi=1.5)
    s = _rng.choice([-1.0, 1.0], size=shape) if shape else float(_rng.choice([-1.0, 1.0]))
    return x * s


def SPD(n, batch=()):
    a = _rng.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def SYM(n):
    a = _rng.standard_normal((n, n))
    return a + a.T


def data(kind, shape):
    if shape == "py":
        return {"any": R, "pos": P, "unit": U, "nz": NZ, "gt1": lambda: P(lo=1.2, hi=3.0)}[kind]()
    if shape == "np":
        return np.float64(data(kind, "py"))
    if kind == "gt1":
        return P(*shape, lo=1.2, hi=3.0)
    return {"any": R, "pos": P, "unit": U, "nz": NZ}[kind](*shape)


# ---------------------------------------------------------------------------
# structural helpers (results and gradients may be lists/tuples; 0.0 / None = zero)
# ---------------------------------------------------------------------------

def is_diff(x):
    if isinstance(x, (bool, np.bool_)):
        return False
    if isinstance(x, (float, np.floating)):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype.kind == "f"
    if isinstance(x, (list, tuple)):
        return any(is_diff(e) for e in x)
    return False


def rand_like(x):
    if isinstance(x, (list, tuple)):
        return [rand_like(e) for e in x]
    if isinstance(x, np.ndarray):
        return _rng.standard_normal(x.shape) if x.dtype.kind == "f" else np.zeros(x.shape)
    if isinstance(x, (float, np.floating)):
        return float(_rng.standard_normal())
    return 0.0


def axpy(x, v, t):
    """x + t*v over the differentiable parts of x."""
    if isinstance(x, (list, tuple)):
        out = [axpy(e, w, t) for e, w in zip(x, v)]
        return tuple(out) if isinstance(x, tuple) else out
    if not is_diff(x):
        return x
    if isinstance(x, float):
        return x + t * v
    if isinstance(x, np.floating):
        return type(x)(x + t * v)
    return x + t * v


def is_zero(x):
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0)


def sub(a, b):
    if isinstance(a, (list, tuple)):
        return [sub(x, y) for x, y in zip(a, b)]
    return (np.asarray(a, dtype=float) - np.asarray(b, dtype=float))


def scale(a, s):
    if isinstance(a, list):
        return [scale(x, s) for x in a]
    return a * s


def dot(g, d):
    """<g, d> summed over a structure."""
    if is_zero(g) or is_zero(d):
        return 0.0
    if isinstance(g, (list, tuple)):
        assert isinstance(d, (list, tuple)) and len(g) == len(d), (type(g), type(d))
        return sum(dot(x, y) for x, y in zip(g, d))
    return float(np.sum(np.asarray(g) * np.asarray(d)))


def check_shape(c, x, what):
    """A contribution has the structure and shape of its parameter."""
    if is_zero(c):
        return
    if isinstance(x, (list, tuple)):
        assert isinstance(c, list), f"{what}: a list parameter needs a ListBar, got {type(c)}"
        assert len(c) == len(x), what
        for ci, xi in zip(c, x):
            check_shape(ci, xi, what)
        return
    assert np.shape(c) == np.shape(x), f"{what}: contribution shape {np.shape(c)} != {np.shape(x)}"


def assert_close_struct(t, d, what):
    if isinstance(d, (list, tuple)):
        assert isinstance(t, (list, tuple)), f"{what}: expected a sequence tangent, got {type(t)}"
        assert len(t) == len(d), what
        for k, (ti, di) in enumerate(zip(t, d)):
            assert_close_struct(ti, di, f"{what}[{k}]")
        return
    d = np.asarray(d, dtype=float)
    if is_zero(t):
        np.testing.assert_allclose(d, 0.0, atol=1e-5, err_msg=what)
        return
    t = np.asarray(t)
    assert np.broadcast_shapes(t.shape, d.shape) == d.shape, f"{what}: tangent {t.shape} vs result {d.shape}"
    np.testing.assert_allclose(np.broadcast_to(t, d.shape), d, rtol=RTOL, atol=ATOL, err_msg=what)


# ---------------------------------------------------------------------------
# calling rules the way the compiler inlines them
# ---------------------------------------------------------------------------

def call_primitive(key, args, kwargs):
    if isinstance(key, tuple):
        kind, name = key
        if kind == "attr":
            return getattr(args[0], name)
        return getattr(args[0], name)(*args[1:], **kwargs)
    return key(*args, **kwargs)


def _dot_names(node):
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and n.id.endswith("_dot")}


def _terms(expr, sign=1):
    """Split a sum/difference into signed terms."""
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, (ast.Add, ast.Sub)):
        right_sign = sign if isinstance(expr.op, ast.Add) else -sign
        return _terms(expr.left, sign) + _terms(expr.right, right_sign)
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub) and _dot_names(expr.operand):
        return _terms(expr.operand, -sign)
    return [(sign, expr)]


def _rule_ast(rule):
    node = gast.gast_to_ast(copy.deepcopy(rule.node))
    node.decorator_list = []
    return node


def _compile(rule, node):
    module = ast.Module(body=[node], type_ignores=[])
    ast.fix_missing_locations(module)
    namespace = dict(rule.globals)
    exec(compile(module, f"<rule {rule.fn.__qualname__}>", "exec"), namespace)
    return namespace[node.name]


def tangent_fn(rule, active):
    """The tangent rule with the terms of inactive tangents dropped (as the compiler does)."""
    node = _rule_ast(rule)
    body = [s for s in node.body if not (_dot_names(s) - set(active)) or isinstance(s, ast.Return)]
    ret = body[-1]
    kept = [(s, t) for s, t in _terms(ret.value) if _dot_names(t) <= set(active)]
    if not kept:
        ret.value = ast.Constant(0.0)
    else:
        expr = kept[0][1] if kept[0][0] > 0 else ast.UnaryOp(op=ast.USub(), operand=kept[0][1])
        for s, t in kept[1:]:
            expr = ast.BinOp(left=expr, op=ast.Add() if s > 0 else ast.Sub(), right=t)
        ret.value = expr
    node.body = body
    return _compile(rule, node)


def adjoint_fn(rule, active_positions):
    """The adjoint rule with literal-tuple entries of inactive parameters replaced by None."""
    node = _rule_ast(rule)
    ret = node.body[-1]
    if isinstance(ret.value, ast.Tuple):
        ret.value.elts = [e if k in active_positions else ast.Constant(None)
                          for k, e in enumerate(ret.value.elts)]
    return _compile(rule, node)


def _describe(a):
    if isinstance(a, (list, tuple)):
        return "[" + ",".join(_describe(e) for e in a) + "]"
    return "x".join(map(str, np.shape(a))) or type(a).__name__


class Case:
    def __init__(self, key, *args, kw=None, diff=None, cot=None, id=None, npos=None):
        self.key = key
        self.npos = npos        # arguments after the first npos go to numpy by keyword
        self.args = args
        self.kw = kw or {}
        self.diff = tuple(k for k, a in enumerate(args) if is_diff(a)) if diff is None else diff
        self.cot = cot
        name = key[1] if isinstance(key, tuple) else getattr(key, "__name__", str(key))
        self.id = id or f"{name}-" + "-".join(_describe(a) for a in args if is_diff(a))

    def f(self, args):
        kw = dict(self.kw)
        if self.npos is not None:
            names = [p for p in ADJOINTS[self.key].params[2:]]
            kw.update(zip(names[self.npos:], args[self.npos:]))
            args = args[:self.npos]
        return call_primitive(self.key, args, kw)

    def perturbed(self, v, t):
        args = list(self.args)
        for k, vk in zip(self.diff, v):
            args[k] = axpy(args[k], vk, t)
        return args

    def fd(self, v):
        plus = self.f(self.perturbed(v, EPS))
        minus = self.f(self.perturbed(v, -EPS))
        return scale(sub(plus, minus), 1.0 / (2 * EPS))


def run_adjoint(case):
    rule = ADJOINTS[case.key]
    result = case.f(list(case.args))
    g = case.cot(result) if case.cot else rand_like(result)
    fn = adjoint_fn(rule, set(case.diff))
    contribs = fn(result, g, *case.args, **case.kw)
    if not isinstance(contribs, tuple):
        contribs = (contribs,)
    v = [rand_like(case.args[k]) for k in case.diff]
    analytic = 0.0
    for k, vk in zip(case.diff, v):
        assert k < len(contribs), f"no contribution for argument {k}"
        check_shape(contribs[k], case.args[k], f"{case.id} arg {k}")
        analytic += dot(contribs[k], vk)
    numeric = dot(g, case.fd(v))
    assert np.isfinite(analytic), analytic
    assert abs(analytic - numeric) <= RTOL * max(1.0, abs(numeric)) * 10 + ATOL, (analytic, numeric)


def run_tangent(case):
    rule = TANGENTS[case.key]
    result = case.f(list(case.args))
    v = [rand_like(case.args[k]) for k in case.diff]
    dots = dict(zip(case.diff, v))
    sig = inspect.signature(rule.fn)
    params = [p for p in sig.parameters.values() if p.kind == p.POSITIONAL_OR_KEYWORD][1:]
    prim = [p.name for p in params if not p.name.endswith("_dot")]
    positional, active = [], []
    for p in params:
        if p.name.endswith("_dot"):
            base = p.name[:-4]
            if base == rule.vararg:
                start = len(prim)
                value = tuple(dots.get(k, 0.0) for k in range(start, len(case.args)))
                active.append(p.name)
            else:
                k = prim.index(base)
                value = dots.get(k, 0.0)
                if k in dots:
                    active.append(p.name)
            positional.append(value)
        else:
            k = prim.index(p.name)
            if k < len(case.args):
                positional.append(case.args[k])
            elif p.name in case.kw:
                positional.append(case.kw[p.name])
            else:
                positional.append(p.default)
    extra = list(case.args[len(prim):]) if rule.vararg else []
    fn = tangent_fn(rule, active)
    t = fn(result, *positional, *extra)
    assert_close_struct(t, case.fd(v), case.id)


# ---------------------------------------------------------------------------
# the tables
# ---------------------------------------------------------------------------

UNARY = [
    (np.sin, "any"), (np.cos, "any"), (np.tan, "unit"), (np.arcsin, "unit"), (np.arccos, "unit"),
    (np.arctan, "any"), (np.sinh, "any"), (np.cosh, "any"), (np.tanh, "any"),
    (np.arcsinh, "any"), (np.arccosh, "gt1"), (np.arctanh, "unit"), (np.exp, "any"),
    (np.exp2, "any"), (np.expm1, "any"), (np.log, "pos"), (np.log2, "pos"), (np.log10, "pos"),
    (np.log1p, "pos"), (np.sqrt, "pos"), (np.cbrt, "nz"), (np.square, "any"),
    (np.reciprocal, "nz"), (np.negative, "any"), (np.positive, "any"), (np.absolute, "nz"),
    (np.fabs, "nz"), (np.deg2rad, "any"), (np.rad2deg, "any"), (np.sinc, "nz"),
    (np.conjugate, "any"), (np.real, "any"), (np.imag, "any"),
]
UNARY_SHAPES = ["py", "np", (3,), (2, 3)]

BINARY = [
    (np.add, "any", "any"), (np.subtract, "any", "any"), (np.multiply, "any", "any"),
    (np.divide, "any", "nz"), (np.power, "pos", "any"), (np.float_power, "pos", "any"),
    (np.hypot, "nz", "nz"), (np.arctan2, "any", "any"), (np.maximum, "any", "any"),
    (np.minimum, "any", "any"), (np.fmax, "any", "any"), (np.fmin, "any", "any"),
    (np.logaddexp, "any", "any"), (np.logaddexp2, "any", "any"), (np.remainder, "any", "pos"),
    (np.fmod, "any", "pos"),
]
BINARY_SHAPES = [("py", "py"), ("np", (3,)), ((3,), "py"), ((2, 3), (2, 3)), ((2, 1), (1, 3)),
                 ((3,), (2, 3)), ((2, 3), "np")]

CASES = []
for fn, dom in UNARY:
    for shp in UNARY_SHAPES:
        CASES.append(Case(fn, data(dom, shp)))
for fn, d1, d2 in BINARY:
    for s1, s2 in BINARY_SHAPES:
        CASES.append(Case(fn, data(d1, s1), data(d2, s2)))

CASES += [
    Case(np.power, P(2, 3), 3, id="power-int-exponent"),
    Case(np.power, R(4), 2.0, diff=(0,), id="power-neg-base-x1-only"),
    Case(("method", "__abs__"), NZ(3)),
    Case(np.float64, R()),
    Case(np.radians, R(3)),
    Case(np.degrees, R(3)),
    Case(("method", "conj"), R(2, 3)),
    Case(("method", "conjugate"), R(3)),
    Case(np.where, R(2, 3) > 0, R(2, 3), R(2, 3)),
    Case(np.where, R(2, 3) > 0, R(3), R()),
    Case(np.where, R(3) > 0, R(2, 1), R(2, 3)),
    Case(np.clip, R(2, 3), -0.5, 0.5),
    Case(np.clip, R(2, 3), R(3) - 1.0, R(2, 1) + 1.0, id="clip-array-bounds"),
    Case(np.clip, 3 * R(4), None, 0.3),
    Case(("method", "clip"), 3 * R(4), kw=dict(min=-0.2), id="clip-method-min-kw"),
    Case(("method", "clip"), 3 * R(2, 3), -0.4, 0.4),
    Case(np.cross, R(3), R(3)),
    Case(np.cross, R(4, 3), R(3)),
]

# reductions
RED_KW = [dict(), dict(axis=0), dict(axis=1, keepdims=True), dict(axis=(0, 2)), dict(axis=-1),
          dict(axis=None, keepdims=True), dict(axis=(1, -1), keepdims=True)]
for fn in [np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.var, np.std]:
    for i, kw in enumerate(RED_KW):
        CASES.append(Case(fn, P(2, 3, 4) if fn is np.prod else R(2, 3, 4), kw=kw, id=f"{fn.__name__}-kw{i}"))
    CASES.append(Case(fn, R(5)))
    if fn not in (np.var, np.std):
        CASES.append(Case(fn, R()))
for name in ["sum", "mean", "prod", "max", "min", "var", "std"]:
    CASES.append(Case(("method", name), R(3, 4), kw=dict(axis=1), id=f"method-{name}"))
    CASES.append(Case(("method", name), R(3, 4)))
CASES += [
    Case(np.var, R(3, 4), kw=dict(axis=0, ddof=1), id="var-ddof"),
    Case(np.std, R(3, 4), kw=dict(ddof=1, keepdims=True), id="std-ddof"),
    Case(("method", "std"), R(3, 4), kw=dict(axis=1, ddof=1), id="method-std-ddof"),
    Case(np.prod, np.array([[1.5, 0.0, 2.0], [0.5, 0.0, 0.0]]) + 0.0, kw=dict(axis=1), id="prod-zeros"),
    Case(np.prod, np.array([1.5, 0.0, -2.0, 0.7]), id="prod-one-zero"),
    Case(np.sum, [R(3), R(3)], id="sum-of-list"),
    Case(np.mean, [R(), R(), R()], id="mean-of-floats"),
]
for fn in [np.cumsum, np.cumprod, ("method", "cumsum"), ("method", "cumprod")]:
    for kw in [dict(), dict(axis=0), dict(axis=1), dict(axis=-1)]:
        CASES.append(Case(fn, R(3, 4), kw=kw, id=f"{fn if isinstance(fn, tuple) else fn.__name__}-{kw}"))
CASES += [
    Case(np.cumsum, R(), id="cumsum-scalar"),
    Case(np.cumprod, np.array([1.3, 0.0, -0.7, 2.0]), id="cumprod-zero"),
    Case(np.cumprod, np.array([[1.3, 0.0, 0.5], [0.0, 0.0, 2.0]]), kw=dict(axis=1), id="cumprod-zeros-axis"),
]
for kw in [dict(), dict(ord=2), dict(ord=1), dict(ord=np.inf), dict(ord=-np.inf), dict(ord=3),
           dict(ord=0.5)]:
    CASES.append(Case(np.linalg.norm, R(5), kw=kw, id=f"norm-vec-{kw}"))
for kw in [dict(), dict(ord="fro"), dict(ord="nuc"), dict(ord=2), dict(ord=-2), dict(ord=1),
           dict(ord=-1), dict(ord=np.inf), dict(ord=-np.inf), dict(axis=1), dict(axis=0, ord=1),
           dict(axis=1, keepdims=True), dict(axis=-1, ord=np.inf)]:
    CASES.append(Case(np.linalg.norm, R(3, 4), kw=kw, id=f"norm-mat-{kw}"))
CASES += [
    Case(np.linalg.norm, R(2, 3, 4), id="norm-3d-flat"),
    Case(np.linalg.norm, R(2, 3, 4), kw=dict(axis=(1, 2)), id="norm-batched-fro"),
    Case(np.linalg.norm, R(2, 3, 4), kw=dict(axis=(2, 0), ord="nuc", keepdims=True), id="norm-batched-nuc"),
    Case(np.linalg.norm, R(2, 3, 4), kw=dict(axis=(0, 2), ord=2), id="norm-batched-2"),
    Case(np.linalg.norm, R(2, 3, 4), kw=dict(axis=2, ord=1, keepdims=True), id="norm-axis-1"),
    Case(np.linalg.norm, R(), id="norm-scalar"),
]

# shapes
CASES += [
    Case(np.reshape, R(2, 3), (3, 2)),
    Case(np.reshape, R(2, 3), (3, 2), "F", id="reshape-F"),
    Case(np.reshape, R(2, 3), kw=dict(shape=-1), id="reshape-kw"),
    Case(("method", "reshape"), R(2, 3), 3, 2, id="method-reshape-vararg"),
    Case(("method", "reshape"), R(2, 3), (6, 1), id="method-reshape-tuple"),
    Case(np.ravel, R(2, 3)),
    Case(np.ravel, R(2, 3), "F", id="ravel-F"),
    Case(("method", "ravel"), R(2, 3)),
    Case(("method", "flatten"), R(2, 3, 2)),
    Case(("method", "flatten"), R(2, 3), "F", id="flatten-F"),
    Case(np.transpose, R(2, 3)),
    Case(np.transpose, R(2, 3, 4), (1, 2, 0), id="transpose-axes"),
    Case(np.transpose, R(2, 3, 4), (-1, 0, 1), id="transpose-neg-axes"),
    Case(("method", "transpose"), R(2, 3, 4), id="method-transpose"),
    Case(("method", "transpose"), R(2, 3, 4), 2, 0, 1, id="method-transpose-vararg"),
    Case(("method", "transpose"), R(2, 3, 4), (2, 0, 1), id="method-transpose-tuple"),
    Case(("attr", "T"), R(2, 3)),
    Case(("attr", "T"), R(2, 3, 4)),
    Case(("attr", "mT"), R(2, 3, 4)),
    Case(("attr", "real"), R(2, 3)),
    Case(("attr", "imag"), R(2, 3)),
    Case(np.swapaxes, R(2, 3, 4), 0, 2),
    Case(("method", "swapaxes"), R(2, 3, 4), -1, 1),
    Case(np.moveaxis, R(2, 3, 4), 0, -1),
    Case(np.moveaxis, R(2, 3, 4), (0, 1), (2, 0)),
    Case(np.expand_dims, R(2, 3), 1),
    Case(np.expand_dims, R(2, 3), (0, 3)),
    Case(np.expand_dims, R(), 0),
    Case(np.squeeze, R(1, 3, 1)),
    Case(np.squeeze, R(1, 3, 1), 2),
    Case(("method", "squeeze"), R(1, 3, 1), kw=dict(axis=0)),
    Case(np.atleast_1d, R()),
    Case(np.atleast_1d, R(3)),
    Case(np.atleast_2d, R(3)),
    Case(np.atleast_3d, R(2, 3)),
    Case(np.atleast_2d, R(), R(3), R(2, 2), id="atleast_2d-many"),
    Case(np.concatenate, [R(2, 3), R(2, 1)], 1),
    Case(np.concatenate, [R(3), R(2), R(1)]),
    Case(np.concatenate, (R(2, 3), R(4)), kw=dict(axis=None), id="concatenate-axis-None"),
    Case(np.concatenate, [R(2, 3), np.ones((1, 3))], diff=(0,), id="concatenate-const-entry"),
    Case(np.stack, [R(3), R(3)]),
    Case(np.stack, [R(2, 3), R(2, 3), R(2, 3)], -1),
    Case(np.stack, [R(), R()], id="stack-floats"),
    Case(np.hstack, [R(3), R(2)]),
    Case(np.hstack, [R(2, 3), R(2, 1)]),
    Case(np.vstack, [R(3), R(2, 3)]),
    Case(np.dstack, [R(2, 3), R(2, 3, 2)]),
    Case(np.column_stack, [R(3), R(3, 2)]),
    # arange is differentiable in start and step (not a constant: issue 15)
    Case(np.arange, 0.3, 2.9, 0.4, diff=(0, 2), id="arange-start-step"),
    Case(np.arange, 0.3, 2.9, diff=(0,), id="arange-start"),
    Case(np.logspace, 0.2, 1.1, 5),
    Case(np.logspace, 0.2, 1.1, 5, True, 2.5, diff=(0, 1, 4), id="logspace-base"),
    Case(np.logspace, R(2), 1.1, 4, diff=(0,), id="logspace-vector-start"),
    Case(np.heaviside, np.array([0.0, 1.0, -2.0, 0.0]), R(4), diff=(1,), id="heaviside-at-zero"),
    # np.r_[a, b] / np.c_[a, b] are desugared into index_concat(np.r_, (a, b))
    Case(index_concat, np.r_, (R(3), R(2)), id="r_-vectors"),
    Case(index_concat, np.r_, (R(2, 3), R(1, 3)), id="r_-matrices"),
    Case(index_concat, np.c_, (R(3), R(3, 2)), id="c_-vector-matrix"),
    Case(index_concat, np.r_, R(4), id="r_-one-item"),
    Case(np.split, R(6), 2),
    Case(np.split, R(4, 3), [1, 3]),
    Case(np.split, R(2, 6), 3, 1),
    Case(np.split, R(6), 3, cot=lambda r: [0.0, R(2), 0.0], id="split-zero-cotangents"),
    Case(np.array_split, R(7), 3),
    Case(np.hsplit, R(2, 4), 2),
    Case(np.vsplit, R(4, 2), [1]),
    Case(np.tile, R(2, 3), 2),
    Case(np.tile, R(3), (2, 1, 2)),
    Case(np.tile, R(2, 3), (2, 1)),
    Case(np.tile, R(), 3),
    Case(np.repeat, R(2, 3), 2),
    Case(np.repeat, R(2, 3), 2, 1),
    Case(np.repeat, R(2, 3), [1, 0, 3], -1),
    Case(np.repeat, R(3), [2, 1, 2]),
    Case(np.repeat, R(), 3),
    Case(("method", "repeat"), R(2, 3), 3, 0),
    Case(np.broadcast_to, R(3), (2, 3)),
    Case(np.broadcast_to, R(2, 1), (4, 2, 3)),
    Case(np.broadcast_to, R(), (2,)),
    Case(np.flip, R(2, 3)),
    Case(np.flip, R(2, 3, 4), (0, 2)),
    Case(np.fliplr, R(2, 3)),
    Case(np.flipud, R(2, 3)),
    Case(np.roll, R(5), 2),
    Case(np.roll, R(2, 3), 1),
    Case(np.roll, R(3, 4), (1, -2), (0, 1)),
    Case(np.pad, R(2, 3), 1),
    Case(np.pad, R(2, 3), ((1, 0), (2, 1)), "constant", 0.5, npos=3, id="pad-constant-values"),
    Case(np.pad, R(4), (2, 3), "reflect"),
    Case(np.pad, R(3, 3), 2, "edge"),
    Case(np.pad, R(3, 2), ((1, 2), (3, 0)), "wrap"),
    Case(np.pad, R(4), 3, "symmetric"),
    Case(np.diag, R(3)),
    Case(np.diag, R(3), 1),
    Case(np.diag, R(3, 4)),
    Case(np.diag, R(4, 3), -1),
    Case(np.diagonal, R(3, 3)),
    Case(np.diagonal, R(3, 4), 1),
    Case(np.diagonal, R(2, 3, 4), -1, 2, 1),
    Case(("method", "diagonal"), R(4, 3), kw=dict(offset=-1)),
    Case(np.trace, R(3, 3)),
    Case(np.trace, R(3, 4), 1),
    Case(np.trace, R(2, 3, 3), 0, 1, 2),
    Case(("method", "trace"), R(4, 4)),
    Case(np.triu, R(3, 4)),
    Case(np.triu, R(2, 3, 3), -1),
    Case(np.tril, R(4, 3), 1),
    Case(np.diff, R(5)),
    Case(np.diff, R(3, 5), 2),
    Case(np.diff, R(4, 3), 1, 0),
]

# products
CASES += [
    Case(np.dot, R(), R(3)),
    Case(np.dot, R(3), R()),
    Case(np.dot, R(3), R(3)),
    Case(np.dot, R(2, 3), R(3)),
    Case(np.dot, R(3), R(3, 2)),
    Case(np.dot, R(2, 3), R(3, 4)),
    Case(np.dot, R(2, 2, 3), R(3, 4)),
    Case(np.dot, R(2, 2, 3), R(3)),
    Case(np.dot, R(2, 3), R(2, 3, 4)),
    Case(np.dot, R(2, 3), R(3, 4), diff=(1,), id="dot-b-only"),
    Case(("method", "dot"), R(2, 3), R(3, 2)),
    Case(np.matmul, R(3), R(3)),
    Case(np.matmul, R(2, 3), R(3)),
    Case(np.matmul, R(3), R(3, 2)),
    Case(np.matmul, R(2, 3), R(3, 4)),
    Case(np.matmul, R(5, 2, 3), R(3, 4)),
    Case(np.matmul, R(2, 1, 3, 4), R(5, 4, 2)),
    Case(np.matmul, R(3), R(5, 3, 2)),
    Case(np.outer, R(3), R(4)),
    Case(np.outer, R(2, 2), R(3)),
    Case(np.inner, R(3), R(3)),
    Case(np.inner, R(2, 3), R(4, 3)),
    Case(np.inner, R(2, 3), R(3)),
    Case(np.inner, R(2, 3), R()),
    Case(np.vdot, R(2, 3), R(2, 3)),
    Case(np.tensordot, R(2, 3, 4), R(3, 4, 5)),
    Case(np.tensordot, R(2, 3), R(3, 4), 1),
    Case(np.tensordot, R(2, 3, 4), R(4, 5, 2), ([0, 2], [2, 0])),
    Case(np.tensordot, R(2, 3), R(4, 5), 0),
    Case(np.einsum, "ij,jk->ik", R(2, 3), R(3, 4)),
    Case(np.einsum, "ij,jk", R(2, 3), R(3, 4), id="einsum-implicit"),
    Case(np.einsum, "ii->i", R(3, 3)),
    Case(np.einsum, "ii", R(3, 3), id="einsum-trace"),
    Case(np.einsum, "ij->", R(2, 3)),
    Case(np.einsum, "ij->j", R(2, 3)),
    Case(np.einsum, "i,i", R(3), R(3)),
    Case(np.einsum, "i,j->ij", R(3), R(2)),
    Case(np.einsum, "ij,ij->ij", R(2, 3), R(2, 3)),
    Case(np.einsum, "bij,bjk->bik", R(2, 2, 3), R(2, 3, 4)),
    Case(np.einsum, "...ij,...jk->...ik", R(5, 2, 3), R(3, 4), id="einsum-ellipsis"),
    Case(np.einsum, "i,ij,j->", R(2), R(2, 3), R(3), id="einsum-three"),
    Case(np.einsum, "iij->j", R(3, 3, 2), id="einsum-repeated"),
    Case(np.einsum, "ij,jk->ik", np.ones((2, 3)), R(3, 4), diff=(2,), id="einsum-second-only"),
]

# linear algebra
CASES += [
    Case(np.linalg.inv, R(3, 3) + 3 * np.eye(3)),
    Case(np.linalg.inv, R(2, 3, 3) + 3 * np.eye(3), id="inv-batched"),
    Case(np.linalg.solve, SPD(3) + R(3, 3), R(3)),
    Case(np.linalg.solve, SPD(3) + R(3, 3), R(3, 2)),
    Case(np.linalg.solve, R(2, 3, 3) + 3 * np.eye(3), R(2, 3, 2), id="solve-batched"),
    Case(np.linalg.solve, R(2, 3, 3) + 3 * np.eye(3), R(3), id="solve-batched-vector"),
    Case(np.linalg.det, R(3, 3)),
    Case(np.linalg.det, R(2, 3, 3), id="det-batched"),
    Case(np.linalg.det, R(1, 1), id="det-1x1"),
    Case(np.linalg.slogdet, R(3, 3)),
    Case(np.linalg.slogdet, np.diag([1.0, -2.0, 3.0]) + 0.1 * R(3, 3), id="slogdet-negative"),
    Case(np.linalg.slogdet, R(2, 3, 3) + 3 * np.eye(3), cot=lambda r: [0.0, R(2)], id="slogdet-zero-sign-bar"),
    Case(np.linalg.cholesky, SPD(3)),
    Case(np.linalg.cholesky, SPD(3, (2,)), id="cholesky-batched"),
    Case(np.linalg.cholesky, SPD(4), kw=dict(upper=True), id="cholesky-upper"),
    Case(np.linalg.eigh, SYM(3)),
    Case(np.linalg.eigh, SYM(4), cot=lambda r: [R(4), 0.0], id="eigh-values-only"),
    Case(np.linalg.eigh, SYM(3), cot=lambda r: [0.0, R(3, 3)], id="eigh-vectors-only"),
    Case(np.linalg.eigh, SYM(3), "U", id="eigh-upper"),
    Case(np.linalg.eigvalsh, SYM(4)),
    Case(np.linalg.lstsq, R(5, 3), R(5), cot=lambda r: [R(3), R(1), 0.0, R(3)], id="lstsq-vec"),
    Case(np.linalg.lstsq, R(5, 3), R(5, 2), cot=lambda r: [R(3, 2), R(2), 0.0, 0.0], id="lstsq-mat"),
    Case(np.linalg.lstsq, R(4, 3), R(4), cot=lambda r: [0.0, 0.0, 0.0, R(3)], id="lstsq-s-only"),
    Case(np.linalg.lstsq, R(3, 3) + 3 * np.eye(3), R(3), cot=lambda r: [R(3), 0.0, 0.0, 0.0], id="lstsq-square"),
    Case(np.linalg.lstsq, R(2, 4), R(2), cot=lambda r: [R(4), 0.0, 0.0, R(2)], id="lstsq-wide"),
]

# creation, copies, casts, selection
CASES += [
    Case(np.full, (2, 3), 1.5),
    Case(np.full, (2, 3), R(3), id="full-array-fill"),
    Case(np.full_like, R(2, 3), 0.7, diff=(1,), id="full_like"),
    Case(np.array, [R(), R(), R()], id="array-of-floats"),
    Case(np.array, [R(3), R(3)], id="array-of-arrays"),
    Case(np.array, [[1.0, R()], [R(), 2.0]], id="array-nested-lists"),
    Case(np.array, R(2, 3), id="array-of-array"),
    Case(np.array, R(3), kw=dict(ndmin=2), id="array-ndmin"),
    Case(np.array, R(), id="array-of-float"),
    Case(np.asarray, R(2, 3)),
    Case(np.asarray, [R(2), R(2)], id="asarray-list"),
    Case(np.asanyarray, R(3)),
    Case(np.ascontiguousarray, R(2, 3).T, id="ascontiguousarray"),
    Case(np.copy, R(2, 3)),
    Case(("method", "copy"), R(3)),
    Case(("method", "tolist"), R(3)),
    Case(("method", "tolist"), R(2, 3), id="tolist-matrix"),
    Case(("method", "astype"), R(2, 3), np.float64),
    Case(("method", "astype"), R(2, 3) * 5, int, id="astype-int"),
    Case(np.linspace, R(), R(), 5),
    Case(np.linspace, R(), R(), 4, False, id="linspace-no-endpoint"),
    Case(np.linspace, R(3), R(), 4, id="linspace-array-start"),
    Case(np.linspace, R(2), R(2), 3, kw=dict(axis=1), id="linspace-axis1"),
    Case(np.linspace, R(2), R(2), 3, kw=dict(axis=-1), id="linspace-axis-neg"),
    Case(np.sort, R(6)),
    Case(np.sort, R(3, 4), 0),
    Case(np.sort, R(3, 4), None),
    Case(np.take, R(5), [0, 3, 3, -1]),
    Case(np.take, R(3, 4), [[0, 2], [1, 1]], 1),
    Case(np.take, R(3, 4), 7, id="take-flat-scalar"),
    Case(np.take, R(5), [1, 6, -7], kw=dict(mode="wrap"), id="take-wrap"),
    Case(np.take, R(5), [1, 9], kw=dict(mode="clip"), id="take-clip"),
    Case(("method", "take"), R(3, 4), [2, 0, 2], kw=dict(axis=0)),
    Case(np.take_along_axis, R(3, 4), np.argsort(R(3, 4), axis=1), 1),
    Case(np.take_along_axis, R(3, 4), np.array([[0, 0, 2, 1]]), 0, id="take_along-repeat"),
    Case(("method", "item"), R(3, 4), 5),
    Case(("method", "item"), R(3, 4), 1, 2),
    Case(("method", "item"), R(1, 1)),
]

# Issue 17 (last, so the data of the cases above stay what they were)
CASES += [
    Case(np.cross, R(3, 2), R(2, 3), kw=dict(axisa=0, axisb=1, axisc=0), id="cross-axes"),
    Case(np.cross, R(3, 4), R(3, 4), kw=dict(axis=0), id="cross-axis"),
    Case(np.kron, R(2, 3), R(3, 2)),
    Case(np.kron, R(3), R(2, 2), id="kron-1d-2d"),
    Case(np.partition, R(5), 2),
    Case(np.partition, R(3, 4), 1, kw=dict(axis=0), id="partition-axis0"),
    Case(np.select, [R(2, 3) > 0, R(2, 3) > 0.5], [R(2, 3), R(2, 3)], R(2, 3), id="select"),
    Case(np.select, [R(4) > 0], [R(4)], R(), id="select-scalar-default"),
    Case(np.dsplit, R(2, 2, 4), 2),
]
_MASK = R(2, 3, 4) > -0.3
for fn in [np.sum, np.max, np.min]:
    CASES.append(Case(fn, R(2, 3, 4), kw=dict(axis=1, where=_MASK, initial=0.1), id=f"{fn.__name__}-where-initial"))
    CASES.append(Case(fn, R(2, 3, 4), kw=dict(initial=5.0 if fn is np.min else -5.0), id=f"{fn.__name__}-initial"))
CASES.append(Case(np.mean, R(2, 3, 4), kw=dict(axis=(0, 2), where=_MASK), id="mean-where"))

ADJ_CASES = [c for c in CASES if c.key in ADJOINTS]


def _ids(cases):
    seen = {}
    out = []
    for c in cases:
        n = seen.get(c.id, 0)
        seen[c.id] = n + 1
        out.append(c.id if n == 0 else f"{c.id}#{n}")
    return out


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_adjoint_matches_finite_differences(case):
    run_adjoint(case)


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_tangent_matches_finite_differences(case):
    run_tangent(case)


# ---------------------------------------------------------------------------
# registry and conventions
# ---------------------------------------------------------------------------

FAMILY_MODULES = {m.__name__ for m in NR.FAMILIES}


def _numpy_rule(key, rule):
    """A first-order rule of a NumPy primitive (not a higher-order rule of a diffc helper).
    np.matmul's rules sit with the @ operator's, in rules/operators.py."""
    if key is np.matmul:
        return True
    helper = getattr(key, "__module__", "") or ""
    return rule.fn.__module__ in FAMILY_MODULES and (not helper.startswith("diffc.") or key is index_concat)


OWN_ADJOINTS = {k: r for k, r in ADJOINTS.items() if _numpy_rule(k, r)}
OWN_TANGENTS = {k: r for k, r in TANGENTS.items() if _numpy_rule(k, r)}


def _keyname(k):
    return repr(k) if isinstance(k, tuple) else getattr(k, "__name__", repr(k))


def test_every_adjoint_has_a_tangent_and_back():
    assert set(OWN_ADJOINTS) == set(OWN_TANGENTS), (
        sorted(map(_keyname, set(OWN_ADJOINTS) ^ set(OWN_TANGENTS))))
    assert not (set(OWN_ADJOINTS) & NONDIFF)


def test_every_rule_has_a_finite_difference_case():
    exempt = {np.float32}        # a precision-losing cast: see test_float32_cast
    covered = {c.key for c in CASES}
    missing = [_keyname(k) for k in OWN_ADJOINTS if k not in covered and k not in exempt]
    assert not missing, missing


def test_rules_construct_straight_line():
    """Rule() rejects non-straight-line bodies; rebuilding every rule must not raise."""
    from diffc.template import Rule
    for table, kind in ((OWN_ADJOINTS, "adjoint"), (OWN_TANGENTS, "tangent")):
        for key, rule in table.items():
            Rule(key, rule.fn, kind)


def _template_tree(rule):
    return _rule_ast(rule)


@pytest.mark.parametrize("key", list(OWN_TANGENTS), ids=[_keyname(k) for k in OWN_TANGENTS])
def test_tangent_rule_is_a_sum_of_single_tangent_terms(key):
    rule = OWN_TANGENTS[key]
    node = _template_tree(rule)
    params = [a.arg for a in node.args.args]
    dots = {p for p in params if p.endswith("_dot")}
    assert dots, "a tangent rule needs *_dot parameters"
    for p in dots:
        base = p[:-4]
        assert base in params or base == rule.vararg, f"{p} has no primal parameter {base}"
    # free names ending in _dot must be tangent parameters (helpers may not be named *_dot)
    for n in ast.walk(node):
        if isinstance(n, ast.Name) and n.id.endswith("_dot"):
            assert n.id in dots, f"{n.id} looks like a tangent but is not a parameter"
    for stmt in node.body[:-1]:
        assert len(_dot_names(stmt)) <= 1, ast.unparse(stmt)
    ret = node.body[-1]
    assert isinstance(ret, ast.Return)
    for _, term in _terms(ret.value):
        assert len(_dot_names(term)) == 1, f"term {ast.unparse(term)} must mention one tangent"
    mentioned = set().union(*(_dot_names(s) for s in node.body))
    assert mentioned == dots, f"unused tangent parameters {dots - mentioned}"


ALL_OWN = [(k, r) for table in (OWN_ADJOINTS, OWN_TANGENTS) for k, r in table.items()]


@pytest.mark.parametrize("key,rule", ALL_OWN, ids=[f"{r.kind}-{_keyname(k)}" for k, r in ALL_OWN])
def test_rule_body_survives_literal_substitution(key, rule):
    """Parameters are replaced by the call's atoms, often literals: `is` comparisons would
    become `0.5 is not None` (a SyntaxWarning), so they belong in helpers, except the test
    of a conditional expression comparing a parameter with a constant (`where is True`),
    which template.py decides when the rule is inlined and a literal is substituted."""
    node = _rule_ast(rule)
    decided = {id(n.test) for n in ast.walk(node) if isinstance(n, ast.IfExp)}
    for n in ast.walk(node):
        if isinstance(n, ast.BoolOp) and id(n) in decided:
            decided |= {id(v) for v in n.values}
    for n in ast.walk(node):
        if isinstance(n, ast.Compare):
            if id(n) in decided and isinstance(n.comparators[0], ast.Constant) and len(n.ops) == 1:
                continue
            assert not any(isinstance(op, (ast.Is, ast.IsNot)) for op in n.ops), ast.unparse(n)


@pytest.mark.parametrize("key", [k for k, r in OWN_ADJOINTS.items() if r.vararg],
                         ids=[_keyname(k) for k, r in OWN_ADJOINTS.items() if r.vararg])
def test_vararg_adjoints_return_tuples(key):
    """The compiler indexes the return of a *vararg adjoint by position: it must be a tuple."""
    ret = _rule_ast(OWN_ADJOINTS[key]).body[-1].value
    if isinstance(ret, ast.Tuple):
        return
    assert isinstance(ret, ast.Call) and ret.func.id in ("_einsum_bars", "_atleast_bar"), ast.unparse(ret)


def _numpy_params(key):
    try:
        sig = inspect.signature(key)
    except (TypeError, ValueError):
        return None
    return [p for p in sig.parameters.values()]


@pytest.mark.parametrize("key", [k for k in OWN_ADJOINTS if not isinstance(k, tuple)],
                         ids=[_keyname(k) for k in OWN_ADJOINTS if not isinstance(k, tuple)])
def test_rule_parameters_follow_numpy_order(key):
    """Positional arguments bind by position: the rule's parameters must be numpy's, in order."""
    nparams = _numpy_params(key)
    if nparams is None:
        pytest.skip("no introspectable signature")
    for table, skip in ((OWN_ADJOINTS, 2), (OWN_TANGENTS, 1)):
        rule = table[key]
        mine = [p for p in rule.params[skip:] if not p.endswith("_dot")]
        if any(p.kind == p.VAR_POSITIONAL for p in nparams):
            assert rule.vararg, "numpy takes *args: the rule needs a *vararg"
            continue
        positional = [p for p in nparams if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        n = min(len(positional), len(mine))
        for ours, theirs in zip(mine[:n], positional[:n]):
            if theirs.kind == theirs.POSITIONAL_OR_KEYWORD:
                assert ours == theirs.name, f"parameter {ours!r} where numpy has {theirs.name!r}"
        names = {p.name for p in nparams} | {"newshape"}     # np.reshape(newshape=) before numpy 2.1
        for extra in mine[n:]:
            assert extra in names or any(p.kind == p.VAR_KEYWORD for p in nparams), (
                f"{extra!r} is not a parameter of numpy's {key.__name__}")


REQUIRED = [
    "sin cos tan arcsin arccos arctan arctan2 sinh cosh tanh arcsinh arccosh arctanh exp exp2 "
    "expm1 log log2 log10 log1p sqrt cbrt square reciprocal negative positive abs absolute fabs "
    "power float_power hypot maximum minimum fmax fmin clip where logaddexp logaddexp2 add "
    "subtract multiply divide true_divide matmul dot real conj sinc sum mean prod max min amax "
    "amin var std cumsum cumprod reshape ravel transpose swapaxes moveaxis expand_dims squeeze "
    "concatenate stack hstack vstack split tile repeat broadcast_to flip roll pad diag trace triu "
    "tril atleast_1d atleast_2d outer inner tensordot einsum full full_like array asarray copy "
    "sort take linspace diagonal",
    "linalg.inv linalg.solve linalg.det linalg.slogdet linalg.cholesky linalg.eigh linalg.lstsq "
    "linalg.norm",
]
REQUIRED_METHODS = ("sum mean prod max min var std cumsum cumprod reshape ravel flatten transpose "
                    "swapaxes squeeze repeat clip dot copy astype conj trace diagonal take").split()
REQUIRED_ATTRS = ["T", "real"]
REQUIRED_NONDIFF = (
    "zeros ones zeros_like ones_like empty empty_like eye identity shape ndim size argmax "
    "argmin argsort nonzero isnan isfinite isinf logical_and logical_or logical_not equal "
    "not_equal less less_equal greater greater_equal sign floor ceil round around rint trunc").split()


def _np_obj(path):
    obj = np
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def test_required_coverage():
    missing = [n for group in REQUIRED for n in group.split() if _np_obj(n) not in OWN_ADJOINTS]
    missing += [m for m in REQUIRED_METHODS if ("method", m) not in OWN_ADJOINTS]
    missing += [a for a in REQUIRED_ATTRS if ("attr", a) not in OWN_ADJOINTS]
    missing += [n for n in REQUIRED_NONDIFF if _np_obj(n) not in NONDIFF]
    missing += [k for k in [("attr", "shape"), ("attr", "ndim"), ("attr", "size"), ("attr", "dtype"),
                            ("method", "argmax"), ("method", "argmin"), ("method", "argsort"),
                            ("method", "nonzero"), ("method", "round")] if k not in NONDIFF]
    assert not missing, missing


# ---------------------------------------------------------------------------
# specific behaviour
# ---------------------------------------------------------------------------

def _adj(key):
    return ADJOINTS[key].fn


def _tan(key):
    return TANGENTS[key].fn


def test_max_splits_gradient_evenly_among_ties():
    x = np.array([1.0, 3.0, 3.0, 2.0])
    np.testing.assert_allclose(_adj(np.max)(3.0, 1.0, x), [0, 0.5, 0.5, 0])
    np.testing.assert_allclose(_tan(np.max)(3.0, x, a_dot=np.array([0, 1.0, 3.0, 7.0])), 2.0)
    m = np.array([[2.0, 2.0], [1.0, 0.0]])
    np.testing.assert_allclose(_adj(np.min)(np.min(m, axis=1), np.array([4.0, 6.0]), m, axis=1),
                               [[2.0, 2.0], [0.0, 6.0]])
    x1, x2 = np.array([1.0, 2.0, 3.0]), np.array([1.0, 5.0, 0.0])
    c1, c2 = _adj(np.maximum)(np.maximum(x1, x2), np.ones(3), x1, x2)
    np.testing.assert_allclose(c1, [0.5, 0, 1])
    np.testing.assert_allclose(c2, [0.5, 1, 0])


def test_abs_subgradient_is_zero_at_zero():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(_adj(np.abs)(np.abs(x), np.ones(3), x), [-1, 0, 1])
    g = _adj(np.linalg.norm)(0.0, 1.0, np.zeros(3))
    np.testing.assert_allclose(g, 0.0)


def test_broadcast_smaller_tangents_are_widened():
    """A tangent may be smaller than its primal when it broadcasts to it (e.g. x + c with x a
    scalar and c a matrix); shape-changing rules must widen it first."""
    a = R(2, 3)
    np.testing.assert_allclose(_tan(np.sum)(np.sum(a), a, a_dot=np.float64(2.0)), 12.0)
    np.testing.assert_allclose(_tan(np.sum)(None, a, axis=0, a_dot=np.ones(3)), 2 * np.ones(3))
    t = _tan(("method", "reshape"))(a.reshape(3, 2), a, np.float64(1.5), 3, 2)
    np.testing.assert_allclose(t, np.full((3, 2), 1.5))
    t = _tan(np.matmul)(a @ np.ones((3, 2)), a, np.ones((3, 2)), 1.0, 0.0)
    np.testing.assert_allclose(t, np.full((2, 2), 3.0))
    t = _tan(np.concatenate)(None, [a, a], 0, arrays_dot=[0.0, np.float64(1.0)])
    np.testing.assert_allclose(t, np.concatenate([np.zeros((2, 3)), np.ones((2, 3))]))


def test_copy_tangent_is_a_fresh_array():
    a, d = R(3), R(3)
    t = _tan(np.copy)(a.copy(), a, a_dot=d)
    assert t is not d and not np.shares_memory(t, d)


def test_float32_cast():
    x = np.float64(0.3)
    assert _adj(np.float32)(np.float32(x), np.float32(2.0), x) == 2.0
    assert isinstance(_adj(np.float32)(np.float32(x), np.float32(2.0), x), np.float64)
    assert _tan(np.float32)(np.float32(x), x, 3.0) == 3.0


def test_astype_gradient_keeps_input_dtype():
    x = R(2, 3).astype(np.float32)
    g = _adj(("method", "astype"))(x.astype(np.float64), np.ones((2, 3)), x, np.float64)
    assert g.dtype == np.float32
    g = _adj(("method", "astype"))(x.astype(int), np.ones((2, 3)), x, int)
    np.testing.assert_array_equal(g, 0.0)


def test_contributions_for_list_inputs_are_listbars():
    a, b = R(2), R(3)
    c = _adj(np.concatenate)(np.concatenate([a, b]), np.arange(5.0), [a, b])
    assert isinstance(c, ListBar)
    np.testing.assert_allclose(c[0], [0, 1])
    np.testing.assert_allclose(c[1], [2, 3, 4])
    c = _adj(np.array)(None, np.array([[1.0, 2.0], [3.0, 4.0]]), [[R(), R()], [R(), R()]])
    assert isinstance(c, ListBar) and isinstance(c[1], ListBar) and c[1][0] == 3.0


def test_vararg_adjoints_return_one_entry_per_parameter():
    A, B = R(2, 3), R(3, 4)
    out = _adj(np.einsum)(A @ B, np.ones((2, 4)), "ij,jk->ik", A, B)
    assert len(out) == 3 and out[0] is None
    np.testing.assert_allclose(out[1], np.ones((2, 4)) @ B.T)
    np.testing.assert_allclose(out[2], A.T @ np.ones((2, 4)))


def test_eigh_repeated_eigenvalues_give_finite_gradients():
    x = R(4)
    a = np.outer(x, x) + np.eye(4)          # eigenvalue 1 three times
    w, V = np.linalg.eigh(a)
    g = _adj(np.linalg.eigh)((w, V), [2 * w, np.zeros((4, 4))], a)
    assert np.all(np.isfinite(g))
    # d sum(w**2) = d trace(a a^T) = 2 a  (on the lower triangle read by eigh: 4a off-diagonal)
    np.testing.assert_allclose(g, np.tril(4 * a) - np.diag(np.diag(2 * a)), atol=1e-8)


def test_nondiff_keys():
    for key in [np.zeros, np.argmax, np.floor, np.equal, ("attr", "shape"), ("method", "argmax")]:
        assert key in NONDIFF
        assert key not in ADJOINTS
