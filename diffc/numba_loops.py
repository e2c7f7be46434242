"""numba_loops: elementwise statements on float64 vectors written as index loops.

A part of the numba form (numba_form.py), outside the compiler proper: it
changes only the text numba compiles, never what the Python gradient runs.

Input: one statement of a function being rewritten by numba_form, the
`numba_types.Types` of that function, and whether every float array the call
can see is float64.  Output: None (the statement stays as it is), or the
statements replacing it:

    <views of the sliced operands>
    if <every operand has the target's length>
            and <no operand but the target itself overlaps the target in memory>:
        for _i in range(n): <target>[_i] = <the expression at element _i>
    else:
        <the statement as it was>

for ``x = E``, ``a[slices] = E``, ``x op= E`` and ``a[slices] op= E`` (op one
of + - * /), where E is built from + - * /, unary minus and NumPy ufuncs of
one argument over 1-d float64 vectors (names, or basic slices of names with
constant or named bounds) and float or int scalars (names, constants, and
+ - * of those).  Element by element the values are NumPy's: IEEE + - * on
floats, ``/`` between arrays and scalars as ``np.divide`` and the ufuncs called
on scalars keep NumPy's semantics (inf and nan, no ZeroDivisionError); a
scalar-only division is not rewritten.  Broadcasting, other ranks and dtypes,
and any overlap of the target with another operand take the original
statement, which numba compiles as NumPy would compute it.  The loops avoid
the temporaries numba allocates per operation and its copy of a right-hand
side into a slice: the heat equation's gradient ran 3.3x faster.
"""

import ast

from .numba_types import F, I, array_type, concrete

VECTOR = array_type("f", 1)
_UFUNCS = {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sinh", "cosh", "arctan", "arcsinh", "abs",
           "absolute", "square", "expm1", "log1p", "negative"}
_ARRAY_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_SCALAR_OPS = (ast.Add, ast.Sub, ast.Mult)


def _name(n, store=False):
    return ast.Name(id=n, ctx=ast.Store() if store else ast.Load())


def _at(array, index):
    return ast.Subscript(value=array, slice=_name(index), ctx=ast.Load())


def _shape0(e):
    return ast.Subscript(value=ast.Attribute(value=e, attr="shape", ctx=ast.Load()), slice=ast.Constant(0),
                         ctx=ast.Load())


def _located(nodes, where):
    for node in nodes:
        for n in ast.walk(node):
            if "lineno" in n._attributes:
                ast.copy_location(n, where)
    return nodes


class Loops:
    """Rewrites statements of one function (see module docstring)."""

    def __init__(self, types, namespace, np_name, disjoint_name, fresh):
        self.types = types
        self.namespace = namespace
        self.np_name = np_name            # () -> the name numpy is bound to in the text
        self.disjoint_name = disjoint_name  # () -> the name of runtime_floats.disjoint
        self.fresh = fresh

    # ------------------------------------------------------------ shapes
    def _simple_bound(self, b):
        if b is None or isinstance(b, ast.Name):
            return b is None or concrete(self.types.expr(b)) == I
        if isinstance(b, ast.Constant):
            return type(b.value) is int
        return isinstance(b, ast.UnaryOp) and isinstance(b.op, ast.USub) and isinstance(b.operand, ast.Constant) \
            and type(b.operand.value) is int

    def _vector(self, e):
        """e is a 1-d float vector read without side effects: a name or a basic slice of one."""
        if isinstance(e, ast.Name):
            return concrete(self.types.expr(e)) == VECTOR
        if isinstance(e, ast.Subscript) and isinstance(e.value, ast.Name) and isinstance(e.slice, ast.Slice):
            sl = e.slice
            return concrete(self.types.expr(e.value)) == VECTOR and all(
                self._simple_bound(b) for b in (sl.lower, sl.upper, sl.step))
        return False

    def _scalar(self, e):
        """e is a float or int scalar that cannot raise: names, constants, + - * of them."""
        if isinstance(e, ast.Constant):
            return type(e.value) in (int, float)
        if isinstance(e, ast.Name):
            return concrete(self.types.expr(e)) in (F, I)
        if isinstance(e, ast.BinOp) and isinstance(e.op, _SCALAR_OPS):
            return self._scalar(e.left) and self._scalar(e.right)
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            return self._scalar(e.operand)
        return False

    def _ufunc(self, e):
        f = e.func
        return isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.attr in _UFUNCS and \
            getattr(self.namespace.get(f.value.id), "__name__", None) == "numpy" and len(e.args) == 1 \
            and not e.keywords and not isinstance(e.args[0], ast.Starred)

    def _elementwise(self, e, leaves):
        """Whether e is elementwise (module docstring); collects its vector leaves.
        Returns 'vector', 'scalar' or None."""
        if self._vector(e):
            leaves.append(e)
            return "vector"
        if self._scalar(e):
            return "scalar"
        if isinstance(e, ast.BinOp) and isinstance(e.op, _ARRAY_OPS):
            a, b = self._elementwise(e.left, leaves), self._elementwise(e.right, leaves)
            return "vector" if None not in (a, b) and "vector" in (a, b) else None
        if isinstance(e, ast.UnaryOp) and isinstance(e.op, ast.USub):
            return self._elementwise(e.operand, leaves)
        if isinstance(e, ast.Call) and self._ufunc(e):
            return "vector" if self._elementwise(e.args[0], leaves) == "vector" else None
        return None

    # ------------------------------------------------------------ rewriting
    def _element(self, e, views, index):
        """The expression e at element `index` (vectors replaced by views[dump][index])."""
        key = ast.dump(e)
        if key in views:
            return _at(_name(views[key]), index)
        if isinstance(e, ast.BinOp):
            left, right = self._element(e.left, views, index), self._element(e.right, views, index)
            if isinstance(e.op, ast.Div):
                return ast.Call(func=ast.Attribute(value=_name(self.np_name()), attr="divide", ctx=ast.Load()),
                                args=[left, right], keywords=[])
            return ast.BinOp(left=left, op=e.op, right=right)
        if isinstance(e, ast.UnaryOp) and not self._scalar(e):
            return ast.UnaryOp(op=e.op, operand=self._element(e.operand, views, index))
        if isinstance(e, ast.Call) and not self._scalar(e):
            return ast.Call(func=e.func, args=[self._element(e.args[0], views, index)], keywords=[])
        return e

    def _bind_views(self, leaves, pre, views=None):
        """name per distinct vector leaf (a name itself, or a fresh view of a slice)."""
        views = {} if views is None else views
        for leaf in leaves:
            key = ast.dump(leaf)
            if key in views:
                continue
            if isinstance(leaf, ast.Name):
                views[key] = leaf.id
            else:
                v = self.fresh("_vec")
                pre.append(ast.Assign(targets=[_name(v, True)], value=leaf, lineno=0))
                views[key] = v
        return views

    def rewrite(self, s, fallback):
        """Statements replacing s, or None (module docstring); fallback(s) -> what the
        else branch runs (s as numba_form would otherwise write it)."""
        if isinstance(s, ast.Assign) and len(s.targets) == 1:
            target, value, op = s.targets[0], s.value, None
        elif isinstance(s, ast.AugAssign) and isinstance(s.op, _ARRAY_OPS):
            target, value, op = s.target, s.value, s.op
        else:
            return None
        leaves = []
        kind = self._elementwise(value, leaves)
        if op is None and (self._vector(value) or isinstance(value, ast.Name)):
            return None                     # `x = y` or `x = a[1:]` binds an alias, not a copy
        if kind is None or (kind == "scalar" and op is None):
            return None
        if isinstance(target, ast.Name) and op is None:
            return self._new_vector(s, target, value, leaves, fallback)
        if not self._vector(target) or (op is None and not isinstance(target, ast.Subscript)):
            return None
        return self._into(s, target, value, op, leaves, fallback)

    def _new_vector(self, s, target, value, leaves, fallback):
        pre = []
        views = self._bind_views(leaves, pre)
        names = list(dict.fromkeys(views.values()))
        n, i, out = self.fresh("_n"), self.fresh("_i"), self.fresh("_new")
        pre.append(ast.Assign(targets=[_name(n, True)], value=_shape0(_name(names[0])), lineno=0))
        test = _all([ast.Compare(left=_shape0(_name(v)), ops=[ast.Eq()], comparators=[_name(n)])
                     for v in names[1:]])
        empty = ast.Call(func=ast.Attribute(value=_name(self.np_name()), attr="empty", ctx=ast.Load()),
                         args=[_name(n)], keywords=[])
        loop = ast.For(target=_name(i, True), iter=ast.Call(func=_name("range"), args=[_name(n)], keywords=[]),
                       body=[ast.Assign(targets=[ast.Subscript(value=_name(out), slice=_name(i), ctx=ast.Store())],
                                        value=self._element(value, views, i), lineno=0)],
                       orelse=[], type_comment=None)
        fast = [ast.Assign(targets=[_name(out, True)], value=empty, lineno=0), loop,
                ast.Assign(targets=[_name(target.id, True)], value=_name(out), lineno=0)]
        branch = fast if test is None else [ast.If(test=test, body=fast, orelse=fallback(s))]
        return _located(pre + branch, s)

    def _into(self, s, target, value, op, leaves, fallback):
        pre = []
        own = ast.dump(ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load())) \
            if isinstance(target, ast.Subscript) else ast.dump(_name(target.id))
        if isinstance(target, ast.Name):
            w = target.id
        else:
            w = self.fresh("_into")
            pre.append(ast.Assign(targets=[_name(w, True)],
                                  value=ast.Subscript(value=target.value, slice=target.slice, ctx=ast.Load()),
                                  lineno=0))
        # the target read at the element it writes
        views = self._bind_views(leaves, pre, {own: w})
        others = [v for k, v in views.items() if k != own and v != w]
        others = list(dict.fromkeys(others))
        i = self.fresh("_i")
        checks = [ast.Compare(left=_shape0(_name(v)), ops=[ast.Eq()], comparators=[_shape0(_name(w))])
                  for v in others]
        checks += [ast.Call(func=_name(self.disjoint_name()), args=[_name(w), _name(v)], keywords=[])
                   for v in others]
        element = self._element(value, views, i)
        if op is not None:
            if isinstance(op, ast.Div):
                element = ast.Call(func=ast.Attribute(value=_name(self.np_name()), attr="divide", ctx=ast.Load()),
                                   args=[_at(_name(w), i), element], keywords=[])
            else:
                element = ast.BinOp(left=_at(_name(w), i), op=op, right=element)
        loop = ast.For(target=_name(i, True),
                       iter=ast.Call(func=_name("range"), args=[_shape0(_name(w))], keywords=[]),
                       body=[ast.Assign(targets=[ast.Subscript(value=_name(w), slice=_name(i), ctx=ast.Store())],
                                        value=element, lineno=0)],
                       orelse=[], type_comment=None)
        test = _all(checks)
        branch = [loop] if test is None else [ast.If(test=test, body=[loop], orelse=fallback(s))]
        return _located(pre + branch, s)


def _all(tests):
    if not tests:
        return None
    return tests[0] if len(tests) == 1 else ast.BoolOp(op=ast.And(), values=tests)
