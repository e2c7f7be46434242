"""An independent reference for the fuzzer: the same program run under autograd.

`translate(plain_source)` rewrites a generated program so that autograd can
trace it, or raises `Untranslatable`:

* ``numpy`` becomes ``autograd.numpy`` and ``math.f`` becomes ``np.f``;
* ``y.copy()`` becomes ``(y * 1.0)``, ``np.full(n, x)`` becomes ``x * np.ones(n)``
  and ``a // b`` becomes ``_floordiv(a, b)`` (autograd boxes support none of them);
* an in-place write ``y[i] = e`` / ``y[i] op= e`` becomes the functional update
  ``y = _aset(y, i, e)`` / ``y = _aset(y, i, y[i] op e)`` (also ``obj.a[i] = e``, for
  the array attributes of shapes_e.py's classes, which no other name holds).  NumPy evaluates the
  right-hand side before writing, so the values are the same, unless another
  name shares the array: programs that bind a view (``t = y[a:b]``) or loop
  over an array they write into are not translated.

autograd is optional: `available()` says whether it can be imported, and
`reference_gradients` returns None when autograd cannot run the program (an
unsupported function) or computes another value than the program (a
translation the fuzzer got wrong): such programs simply have no autograd
reference.
"""

import ast
import importlib.util
import warnings

import numpy as np


class Untranslatable(Exception):
    pass


def available():
    return importlib.util.find_spec("autograd") is not None


PRELUDE = '''import autograd.numpy as np
import numpy as _onp


def _aset(y, index, value):
    """y with y[index] replaced by value, as a differentiable expression (y is 1-d)."""
    n = y.shape[0]
    positions = _onp.arange(n)[index]
    keep = _onp.ones(n)
    keep[positions] = 0.0
    if _onp.ndim(positions) == 0:
        unit = _onp.zeros(n)
        unit[positions] = 1.0
        return y * keep + unit * value
    spread = _onp.zeros((n, len(positions)))
    spread[positions, _onp.arange(len(positions))] = 1.0
    return y * keep + np.dot(spread, value * _onp.ones(len(positions)))


def _floordiv(a, b):
    if isinstance(a, int) and isinstance(b, int):
        return a // b
    return np.floor(a / b)

'''


def _index_expr(node):
    """The subscript `node` (a slice, tuple or expression) as an ordinary expression."""
    if isinstance(node, ast.Slice):
        parts = [p if p is not None else ast.Constant(None) for p in (node.lower, node.upper, node.step)]
        return ast.Call(ast.Name("slice", ast.Load()), [_index_expr(p) for p in parts], [])
    if isinstance(node, ast.Tuple):
        return ast.Tuple([_index_expr(e) for e in node.elts], ast.Load())
    return node


class _Functional(ast.NodeTransformer):
    def visit_Attribute(self, node):
        self.generic_visit(node)
        if isinstance(node.value, ast.Name) and node.value.id == "math":
            return ast.Attribute(ast.Name("np", ast.Load()), node.attr, node.ctx)
        return node

    def visit_Call(self, node):
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "copy" and not node.args:
            return ast.BinOp(f.value, ast.Mult(), ast.Constant(1.0))
        if (isinstance(f, ast.Attribute) and f.attr == "full" and isinstance(f.value, ast.Name)
                and f.value.id == "np" and len(node.args) == 2):
            ones = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "ones", ast.Load()), [node.args[0]], [])
            return ast.BinOp(node.args[1], ast.Mult(), ones)
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.FloorDiv):
            return ast.Call(ast.Name("_floordiv", ast.Load()), [node.left, node.right], [])
        return node

    def _set(self, target, value):
        base = target.value
        if isinstance(base, ast.Name):
            read, store = ast.Name(base.id, ast.Load()), ast.Name(base.id, ast.Store())
        elif isinstance(base, ast.Attribute) and isinstance(base.value, ast.Name):
            # self.buf[i] += e (shapes_e.py: an array attribute the class always sets to a
            # new np.zeros, so no other name holds it): self.buf = _aset(self.buf, i, ...)
            read = ast.Attribute(ast.Name(base.value.id, ast.Load()), base.attr, ast.Load())
            store = ast.Attribute(ast.Name(base.value.id, ast.Load()), base.attr, ast.Store())
        else:
            raise Untranslatable("write into a subscript of a subscript")
        call = ast.Call(ast.Name("_aset", ast.Load()), [read, _index_expr(target.slice), value], [])
        return ast.Assign([store], call)

    def visit_Assign(self, node):
        self.generic_visit(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            return self._set(node.targets[0], node.value)
        for t in node.targets:
            if any(isinstance(n, ast.Subscript) for n in ast.walk(t)):
                raise Untranslatable("tuple target with a subscript")
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        if isinstance(node.target, ast.Subscript):
            read = ast.Subscript(node.target.value, node.target.slice, ast.Load())
            return self._set(node.target, ast.BinOp(read, node.op, node.value))
        return node


def _written_names(body):
    names = set()
    for stmt in body:
        for node in ast.walk(stmt):
            target = None
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
                target = node.targets[0]
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Subscript):
                target = node.target
            if target is not None and isinstance(target.value, ast.Name):
                names.add(target.value.id)
    return names


_OUT_AT = {"dot": 1, "max": 1, "min": 1, "sum": 2, "mean": 2, "cumsum": 2}


def _check_translatable(tree):
    for node in ast.walk(tree):
        # x.dot(b, y), x.max(0, y): autograd's boxes ignore the out array given by position
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and len(node.args) > _OUT_AT.get(node.func.attr, 99)):
            raise Untranslatable("writes through an array method's out given by position")
        # t = y[a:b] makes t a view: NumPy writes through it, the functional form does not
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript)
                and isinstance(node.value.slice, ast.Slice) and isinstance(node.targets[0], ast.Name)):
            raise Untranslatable("binds a view")
        if isinstance(node, ast.For):
            it = node.iter
            if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "enumerate":
                it = it.args[0]
            if isinstance(it, ast.Name) and it.id in _written_names(node.body):
                raise Untranslatable("loops over an array it writes into")


def translate(plain_source):
    tree = ast.parse(plain_source)
    _check_translatable(tree)
    tree.body = [s for s in tree.body if not isinstance(s, (ast.Import, ast.ImportFrom))]
    tree = ast.fix_missing_locations(_Functional().visit(tree))
    return PRELUDE + ast.unparse(tree) + "\n"


def reference_gradients(plain_source, args, wrt, expected_value, path):
    """autograd's gradients of f wrt each of `wrt` at `args`, or (None, why not)."""
    try:
        text = translate(plain_source)
    except Untranslatable as exc:
        return None, f"not translated: {exc}"
    import autograd
    with open(path, "w") as fh:
        fh.write(text)
    namespace = {}
    try:
        exec(compile(text, path, "exec"), namespace)
        grads = []
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            for k in wrt:
                value, g = autograd.value_and_grad(namespace["f"], k)(*[np.copy(a) if isinstance(a, np.ndarray)
                                                                       else a for a in args])
                if not np.isclose(float(value), expected_value, rtol=1e-9, atol=1e-9):
                    return None, "autograd value differs (translation)"
                grads.append(np.asarray(g, dtype=np.float64).reshape(np.shape(args[k])))
    except Exception as exc:  # noqa: BLE001 - autograd does not support the program
        return None, f"autograd cannot run it: {type(exc).__name__}"
    return grads, ""
