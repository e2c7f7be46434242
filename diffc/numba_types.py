"""numba_types: the value types numba_form.py infers for the names of generated code.

Input: the functions of one emitted module (Python ``ast``), the argument values of the
call being compiled and the namespace the code runs in.  Output: `Types`, which maps
every name of every function to a type -- ``F`` (float64), ``I`` (int64), ``B`` (bool),
``array_type(kind, ndim)``, ``ZERO`` (the constant 0.0: a float or the zero of an array
adjoint), ``UNSET``/``NONE`` while inference runs, or None (unknown) -- by iterating to
a fixed point; numba_form.py reads it to preallocate tapes and to split the shared tape
by element type.  Also the small ``ast`` predicates both modules use (`is_tape`,
`is_pop`, `flatten_target`).  Imports nothing from numba.
"""

import ast

F, I, B = ("f",), ("i",), ("b",)


def array_type(kind, ndim):
    return ("A", kind, ndim)


def type_of_value(value):
    """The pass's type of a call argument or module constant (None: unknown)."""
    import numpy as np
    if isinstance(value, (bool, np.bool_)):
        return B
    if isinstance(value, (int, np.integer)):
        return I
    if isinstance(value, (float, np.floating)):
        return F
    if isinstance(value, np.ndarray):
        kind = value.dtype.kind
        return array_type("f" if kind == "f" else "i" if kind in "iu" else "b" if kind == "b" else "?",
                          value.ndim)
    if isinstance(value, tuple):
        inner = tuple(type_of_value(v) for v in value)
        return ("T", inner) if all(t is not None for t in inner) else None
    return None


def is_array(t):
    return t is not None and t[0] == "A"


def is_number(t):
    return t in (F, I, B)


def join(a, b):
    if UNSET in (a, b):
        return b if a == UNSET else a
    if a is None or b is None:
        return None
    if a == b:
        return a
    if NONE in (a, b):
        return b if a == NONE else a
    if is_number(a) and is_number(b):
        return F if F in (a, b) else I
    if a[0] == "L" and b[0] == "L":
        if UNSET in (a[1], b[1]):
            return a if b[1] == UNSET else b
        inner = join(optimistic(a[1]), optimistic(b[1]))
        return ("L", inner) if inner is not None else None
    if a[0] == "T" and b[0] == "T" and len(a[1]) == len(b[1]):
        inner = tuple(join(optimistic(x), optimistic(y)) for x, y in zip(a[1], b[1]))
        return ("T", inner) if all(t is not None for t in inner) else None
    if "zero" in (a[0], b[0]):
        other = b if a[0] == "zero" else a
        return other if is_array(other) or is_number(other) else None
    if is_array(a) and is_array(b) and a[2] == b[2]:
        return array_type("f" if "f" in (a[1], b[1]) else a[1], a[2])
    return None


ZERO = ("zero",)
UNSET = ("unset",)
RANGE = ("range",)
NONE = ("none",)          # a name's None before its first real value (restored, never read)        # the element of an empty list literal          # the constant 0.0: a float, or the zero of an array adjoint

_MATH_INT = {"floor", "ceil", "trunc", "factorial", "gcd", "isqrt", "comb", "perm"}
_MATH_BOOL = {"isnan", "isinf", "isfinite", "isclose"}
_NP_REDUCE = {"sum", "mean", "prod", "max", "min", "amax", "amin", "dot", "vdot", "std", "var", "linalg"}


class Types:
    """Flow-insensitive types of one function's names (a join over all assignments)."""

    def __init__(self, fn, params, namespace, returns, pop_hints=None, default_pop=None):
        self.fn = fn
        self.env = dict(params)
        # types of names assigned from `_tape.pop()`: their own other assignments, or
        # (in `_adj_g`) the same names' types in `_fwd_g`, which pushed them
        self.pop_hints = pop_hints or {}
        self.default_pop = default_pop    # the one type every push has, if there is one
        self.namespace = namespace
        self.returns = returns        # generated function name -> return type (or None)
        self.conflicts = set()        # names with a float zero and array values
        self.assigned = {}
        for _ in range(6):
            before = dict(self.env)
            self._visit(fn.body)
            if self.env == before:
                break

    # -------------------------------------------------------- statements
    def _bind(self, target, t):
        if isinstance(target, ast.Name):
            old = self.env.get(target.id, "unset")
            if old == "unset":
                self.env[target.id] = t
            else:
                if old is not None and t is not None and (
                        (old == ZERO and is_array(t)) or (t == ZERO and is_array(old))):
                    self.conflicts.add(target.id)
                self.env[target.id] = join(old, t)
        elif isinstance(target, (ast.Tuple, ast.List)):
            if t is not None and t[0] == "T" and len(t[1]) == len(target.elts):
                for e, et in zip(target.elts, t[1]):
                    self._bind(e, et)
            else:
                for e in target.elts:
                    self._bind(e, None)
        elif isinstance(target, ast.Starred):
            self._bind(target.value, None)

    def _visit(self, stmts):
        for s in stmts:
            if isinstance(s, ast.Assign) and is_pop(s.value):
                for target in flatten_target(s.targets[0]):
                    if isinstance(target, ast.Name) and target.id in self.pop_hints:
                        self._bind(target, self.pop_hints[target.id])
                    elif isinstance(target, ast.Name) and self.default_pop is not None:
                        self._bind(target, self.default_pop)
            elif isinstance(s, ast.Assign):
                t = self.expr(s.value)
                for target in s.targets:
                    self._bind(target, t)
            elif isinstance(s, ast.AugAssign):
                if isinstance(s.target, ast.Name) and is_array(self.env.get(s.target.id)):
                    self.expr(s.value)            # in place: an array stays that array
                elif isinstance(s.target, ast.Name):
                    self._bind(s.target, self._binop(self.env.get(s.target.id), self.expr(s.value), s.op))
                else:
                    self.expr(s.value)
            elif isinstance(s, ast.AnnAssign) and s.value is not None:
                self._bind(s.target, self.expr(s.value))
            elif isinstance(s, ast.For):
                self._bind(s.target, self._element(s.iter))
                self._visit(s.body)
                self._visit(s.orelse)
            elif isinstance(s, (ast.While, ast.If)):
                self.expr(s.test)
                self._visit(s.body)
                self._visit(s.orelse)
            elif isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and \
                    isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "append" and \
                    isinstance(s.value.func.value, ast.Name) and len(s.value.args) == 1:
                self._bind(s.value.func.value, ("L", optimistic(self.expr(s.value.args[0]))))
            elif isinstance(s, (ast.Expr, ast.Return)) and s.value is not None:
                self.expr(s.value)

    def _element(self, it):
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range":
            return I
        if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "reversed" \
                and len(it.args) == 1:
            return self._element(it.args[0])
        t = self.expr(it)
        if t == RANGE:
            return I
        if t is not None and t[0] == "L":
            return t[1]
        if is_array(t) and t[2] >= 1:
            return array_type(t[1], t[2] - 1) if t[2] > 1 else (F if t[1] == "f" else I if t[1] == "i" else B)
        return None

    # -------------------------------------------------------- expressions
    def expr(self, e):
        t = self._expr(e)
        return t

    def _expr(self, e):
        if isinstance(e, ast.Constant):
            v = e.value
            if isinstance(v, bool):
                return B
            if isinstance(v, int):
                return I
            if isinstance(v, float):
                return ZERO if v == 0.0 else F
            return NONE if v is None else None
        if isinstance(e, ast.Name):
            if e.id in self.env:
                t = self.env[e.id]
                return t
            if e.id in self.namespace:
                return type_of_value(self.namespace[e.id])
            return None
        if isinstance(e, ast.NamedExpr):
            t = self.expr(e.value)
            self._bind(e.target, t)
            return t
        if isinstance(e, ast.BinOp):
            return self._binop(self.expr(e.left), self.expr(e.right), e.op)
        if isinstance(e, ast.UnaryOp):
            t = self.expr(e.operand)
            if isinstance(e.op, ast.Not):
                return B
            return F if t == ZERO else t
        if isinstance(e, ast.Compare):
            ts = [self.expr(e.left)] + [self.expr(c) for c in e.comparators]
            return array_type("b", max(t[2] for t in ts if is_array(t))) if any(map(is_array, ts)) else B
        if isinstance(e, ast.BoolOp):
            ts = [self.expr(v) for v in e.values]
            out = ts[0]
            for t in ts[1:]:
                out = join(out, t)
            return out
        if isinstance(e, ast.IfExp):
            self.expr(e.test)
            return concrete(join(self.expr(e.body), self.expr(e.orelse)))
        if isinstance(e, ast.List):
            out = UNSET
            for x in e.elts:
                t = concrete(self.expr(x))
                out = t if out == UNSET else join(out, t)
            return ("L", out) if out is not None else None
        if isinstance(e, ast.Tuple):
            ts = tuple(optimistic(self.expr(x)) for x in e.elts)
            return ("T", ts) if all(t is not None for t in ts) else None
        if isinstance(e, ast.Subscript):
            return self.subscript(self.expr(e.value), e.slice)
        if isinstance(e, ast.Attribute):
            t = self.expr(e.value)
            if is_array(t):
                if e.attr == "shape":
                    return ("T", (I,) * t[2])
                if e.attr in ("size", "ndim"):
                    return I
                if e.attr == "T":
                    return t
            return None
        if isinstance(e, ast.Call):
            return self._call(e)
        for child in ast.iter_child_nodes(e):
            if isinstance(child, ast.expr):
                self.expr(child)
        return None

    def _binop(self, a, b, op):
        if UNSET in (a, b) or NONE in (a, b):
            return UNSET                  # known once the other assignments are (optimistic)
        a, b = concrete(a), concrete(b)
        if is_array(a) or is_array(b):
            ndim = max(t[2] for t in (a, b) if is_array(t))
            if a is None or b is None:
                return None
            kinds = {t[1] if is_array(t) else t[0] for t in (a, b)}
            if isinstance(op, (ast.Div, ast.Pow)) or "f" in kinds:
                return array_type("f", ndim)
            return array_type("i", ndim)
        if isinstance(op, ast.MatMult):
            return None
        if not (is_number(a) and is_number(b)):
            return None
        if isinstance(op, ast.Div) or F in (a, b):
            return F
        if isinstance(op, ast.Pow):
            return None                   # int ** negative int is a float in Python
        return I

    def subscript(self, t, index):
        if t is None:
            return None
        if t == RANGE and not isinstance(index, ast.Slice):
            return I
        if t[0] == "T" and isinstance(index, ast.Constant) and isinstance(index.value, int):
            return t[1][index.value] if -len(t[1]) <= index.value < len(t[1]) else None
        if t[0] == "L":
            self.expr(index)
            return t[1] if self.expr(index) == I else None
        if is_array(t):
            parts = index.elts if isinstance(index, ast.Tuple) else [index]
            if any(isinstance(p, ast.Slice) for p in parts):
                dropped = sum(1 for p in parts if not isinstance(p, ast.Slice) and self.expr(p) in (I, B))
                return array_type(t[1], t[2] - dropped) if t[2] - dropped >= 1 else None
            kinds = [self.expr(p) for p in parts]
            if all(k == I for k in kinds):
                left = t[2] - len(parts)
                if left == 0:
                    return {"f": F, "i": I, "b": B}.get(t[1])
                return array_type(t[1], left) if left > 0 else None
        return None

    def _call(self, e):
        args = [self.expr(a) for a in e.args]
        for k in e.keywords:
            self.expr(k.value)
        f = e.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            owner = self.namespace.get(f.value.id)
            module = getattr(owner, "__name__", None)
            if module == "math":
                if f.attr in _MATH_INT:
                    return I
                return B if f.attr in _MATH_BOOL else F
            if module == "numpy":
                if f.attr in ("zeros", "ones", "empty", "full"):
                    return None
                arrays = [a for a in args if is_array(a)]
                if not arrays and args and all(is_number(concrete(a)) for a in args):
                    return F
                if f.attr in ("sum", "mean", "prod", "max", "min", "amax", "amin", "vdot") \
                        and not e.keywords and len(args) == 1 and arrays:
                    return F
                if f.attr in _NP_REDUCE or e.keywords:
                    return None
                if arrays and all(is_array(a) or is_number(concrete(a)) for a in args):
                    return array_type("f", max(a[2] for a in arrays))
                return None
            receiver = self.expr(f.value)
            if is_array(receiver) and f.attr == "copy":
                return receiver
            return None
        if isinstance(f, ast.Name):
            name = f.id
            if name in self.returns:
                return self.returns[name]
            if name == "range" and name not in self.namespace:
                return RANGE
            builtin = name if name not in self.namespace else getattr(self.namespace[name], "__name__", "")
            if builtin in ("float",):
                return F
            if builtin in ("int", "len", "round"):
                return I
            if builtin == "bool":
                return B
            if builtin == "abs" and len(args) == 1:
                return concrete(args[0])
            if builtin in ("min", "max") and args and not e.keywords:
                out = concrete(args[0])
                for a in args[1:]:
                    out = join(out, concrete(a))
                return out if is_number(out) else None
            if builtin in ("copy_value", "zeros_like", "check_scalar") and len(args) == 1:
                return F if builtin == "zeros_like" and is_number(concrete(args[0])) else \
                    (array_type("f", args[0][2]) if builtin == "zeros_like" and is_array(args[0])
                     else concrete(args[0]))
            if builtin == "_sum_bar" and len(args) == 4 and is_array(args[1]):   # spread like a
                return array_type("f", args[1][2])
            if builtin == "_sum_bar_times" and len(args) >= 3 and is_array(args[1]) and is_array(args[2]):
                return array_type("f", max(args[1][2], args[2][2]))     # spread over a, times y
            if builtin == "times_one_minus_square" and len(args) == 2:
                return self._binop(args[0], args[1], ast.Mult())        # g * (1 - r * r)
            if builtin == "shape_of" and len(args) == 1 and (is_number(concrete(args[0])) or is_array(args[0])):
                return concrete(args[0])                # numba keeps the value itself (jit_runtime)
            if builtin in ("_matmul_bar_a", "_matmul_bar_b") and len(args) == 3:
                other = args[1] if builtin == "_matmul_bar_a" else args[2]
                return array_type("f", other[2]) if is_array(other) else None
            if builtin == "acc_item" and len(args) == 4 and is_array(args[1]):
                return array_type("f", args[1][2])      # the array adjoint of args[1]
            if builtin == "float_items" and args:
                return args[0]
            if builtin == "nan_input_bar" and len(args) == 3:
                return concrete(args[0])
            if builtin == "finalize" and len(args) == 2:
                x = concrete(args[1])
                return F if x in (F, I) else array_type("f", x[2]) if is_array(x) else None
        return None


def optimistic(t):
    """A type still being inferred (None before the value) is not yet unknown."""
    return F if t == ZERO else UNSET if t == NONE else t


def concrete(t):
    return F if t == ZERO else None if t == NONE else t


def is_tape(node):
    return isinstance(node, ast.Name) and node.id == "_tape"


def flatten(e):
    if isinstance(e, ast.Tuple):
        out = []
        for x in e.elts:
            out += flatten(x)
        return out
    return [e]


def flatten_target(e):
    if isinstance(e, (ast.Tuple, ast.List)):
        out = []
        for x in e.elts:
            out += flatten_target(x)
        return out
    return [e]


def is_pop(e):
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "pop" \
        and is_tape(e.func.value) and not e.args
