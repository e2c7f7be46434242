"""numba_form: the generated source, rewritten into a form numba compiles.

A late pass, outside the compiler proper: it reads the text `emit` produced
(what `diffc.source` shows) and never changes what the plain Python gradient
runs.  It imports nothing from numba, so ``diffc show --jit`` works anywhere.

Input: the source text of one `emit.Emitted` (its functions, ``# line N:``
comments, the runtime helpers and user objects it names), its ``line_map``,
the namespace it runs in, and the argument values of the call being compiled
(their types decide float64/int64/array specialization).

Output: `JitForm` with the rewritten source text (exactly what numba
compiles; the same ``# line N:`` comments), a map from its lines to the
user's (file, line), and the names of runtime helpers it calls.  The text
differs from the input only in:

* per-loop tapes (``_tape3 = []`` filled by ``_tape3.append(e)`` once per
  iteration of a ``range`` loop and read by ``for t in reversed(_tape3)``)
  become preallocated arrays, one per element of the entry, when every element
  is a float, int or bool: ``_tape3_0 = np.empty(<trip count>, np.float64)``,
  written at a position counter and read back by an index loop counting down;
  other per-loop tapes (``while`` loops, entries holding arrays or unknown
  values) stay growable lists read by an index loop;
* the shared ``_tape`` (pushes and pops in branch order, also passed to the
  split forward/adjoint functions of user callees) becomes one stack per
  element type (``_tape_f`` floats, ``_tape_i`` ints and bools, ``_tape_a1``...
  float arrays by dimension), tuples pushed element by element; every
  function that takes ``_tape`` takes all the stacks;
* ``for t in reversed(x)`` over anything else becomes an index loop;
* a ``while`` test holding ``:=`` is re-evaluated at the top of a ``while
  True`` loop (numba cannot type the walrus in a loop test);
* an adjoint initialized to ``0.0`` and accumulated into as an array starts
  as ``np.zeros(p.shape)`` of its primal p (numba variables have one type);
* ``float64_world(...)`` is ``True`` and ``float_items(a, n, plain)`` is ``a``
  (numba reads float64 arrays at native speed).

What the pass cannot type (a tape value of unknown type) raises `JitUnsupported`
naming the user's line; what numba itself cannot type is reported by
`diffc.jit` from numba's error, mapped back through the line map.
"""

import ast
import re

from .errors import DiffcError

_LINE = re.compile(r"^(\s*)# line (\d+): (.*)$")
_MARK = "__diffc_jit_line__"
F, I, B = ("f",), ("i",), ("b",)


class JitUnsupported(DiffcError):
    """numba cannot compile this gradient (the construct and the user's line are named)."""


class JitForm:
    """The numba-ready source (see module docstring)."""

    def __init__(self, source, line_map, helpers, namespace):
        self.source = source
        self.namespace = namespace          # the input namespace plus what the text adds (np)
        self.line_map = line_map
        self.helpers = helpers


# ------------------------------------------------------------------ types

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
        inner = join(_optimistic(a[1]), _optimistic(b[1]))
        return ("L", inner) if inner is not None else None
    if a[0] == "T" and b[0] == "T" and len(a[1]) == len(b[1]):
        inner = tuple(join(_optimistic(x), _optimistic(y)) for x, y in zip(a[1], b[1]))
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
            if isinstance(s, ast.Assign) and _is_pop(s.value):
                for target in _flatten_target(s.targets[0]):
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
                self._bind(s.value.func.value, ("L", _optimistic(self.expr(s.value.args[0]))))
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
            return _concrete(join(self.expr(e.body), self.expr(e.orelse)))
        if isinstance(e, ast.List):
            out = UNSET
            for x in e.elts:
                t = _concrete(self.expr(x))
                out = t if out == UNSET else join(out, t)
            return ("L", out) if out is not None else None
        if isinstance(e, ast.Tuple):
            ts = tuple(_optimistic(self.expr(x)) for x in e.elts)
            return ("T", ts) if all(t is not None for t in ts) else None
        if isinstance(e, ast.Subscript):
            return self._subscript(self.expr(e.value), e.slice)
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
        a, b = _concrete(a), _concrete(b)
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

    def _subscript(self, t, index):
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
                if not arrays and args and all(is_number(_concrete(a)) for a in args):
                    return F
                if f.attr in ("sum", "mean", "prod", "max", "min", "amax", "amin", "vdot") \
                        and not e.keywords and len(args) == 1 and arrays:
                    return F
                if f.attr in _NP_REDUCE or e.keywords:
                    return None
                if arrays and all(is_array(a) or is_number(_concrete(a)) for a in args):
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
                return _concrete(args[0])
            if builtin in ("min", "max") and args and not e.keywords:
                out = _concrete(args[0])
                for a in args[1:]:
                    out = join(out, _concrete(a))
                return out if is_number(out) else None
            if builtin in ("copy_value", "zeros_like", "check_scalar") and len(args) == 1:
                return F if builtin == "zeros_like" and is_number(_concrete(args[0])) else \
                    (array_type("f", args[0][2]) if builtin == "zeros_like" and is_array(args[0])
                     else _concrete(args[0]))
            if builtin == "float_items" and args:
                return args[0]
            if builtin == "finalize" and len(args) == 2:
                x = _concrete(args[1])
                return F if x in (F, I) else array_type("f", x[2]) if is_array(x) else None
        return None


def _optimistic(t):
    """A type still being inferred (None before the value) is not yet unknown."""
    return F if t == ZERO else UNSET if t == NONE else t


def _concrete(t):
    return F if t == ZERO else None if t == NONE else t


# ------------------------------------------------------------------ the pass

def numba_form(source, line_map, namespace, args, entry_name, helper_names=()):
    """JitForm of an emitted module for a call with `args` (see module docstring).

    helper_names: the names in `namespace` that are diffc runtime helpers."""
    tree = ast.parse(source)
    comments = _comments(source, line_map)
    functions = [f for f in tree.body if isinstance(f, ast.FunctionDef)]
    by_name = {f.name: f for f in functions}
    entry = by_name[entry_name]
    types = _infer_module(functions, by_name, entry, args, namespace)
    stacks = _shared_stacks(functions, types)
    if len(stacks) == 1:
        # every value pushed has one type: so has every value popped
        one = {"f": F, "i": I}.get(stacks[0]) or array_type("f", int(stacks[0][1:]))
        types = _infer_module(functions, by_name, entry, args, namespace, default_pop=one)
    for fn in functions:
        rewriter = _Rewriter(fn, types[fn.name], namespace, comments, stacks)
        rewriter.run()
    text, jit_map = _unparse(tree, comments)
    used = sorted({n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)} & set(helper_names))
    return JitForm(text, jit_map, used, namespace)


def _comments(source, line_map):
    """generated line number -> (user line, user text, user file) of the comment it follows."""
    out, current = {}, None
    for k, line in enumerate(source.splitlines(), start=1):
        m = _LINE.match(line)
        if m:
            filename = line_map.get(k + 1, (None, None))[0]
            current = (int(m.group(2)), m.group(3), filename)
            continue
        if line.startswith("def "):
            current = None
        out[k] = current
    return out


def _infer_module(functions, by_name, entry, args, namespace, default_pop=None):
    """Types of every function: the entry's from the call, callees' from their call sites."""
    params = {fn.name: {} for fn in functions}
    for p, a in zip(entry.args.args, args):
        params[entry.name][p.arg] = type_of_value(a)
    for p, d in zip(entry.args.args[len(args):], entry.args.defaults[len(entry.args.defaults)
                                                                      - len(entry.args.args) + len(args):]):
        params[entry.name][p.arg] = F if isinstance(d, ast.Constant) and isinstance(d.value, float) else None
    fixed = dict(params[entry.name])
    returns = {fn.name: UNSET for fn in functions}
    types = {}
    for _ in range(8):
        calls = {fn.name: {} for fn in functions}
        new_returns = {}
        for fn in functions:
            hints = {}
            if fn.name.startswith("_adj_") and "_fwd_" + fn.name[5:] in types:
                hints = {k: _concrete(v) for k, v in types["_fwd_" + fn.name[5:]].env.items()}
            own = params[fn.name] if fn is not entry else fixed
            if fn is not entry:
                own = {a.arg: own.get(a.arg, UNSET) for a in fn.args.args}
            t = Types(fn, own, namespace, returns, hints, default_pop)
            hints.update({k: _concrete(v) for k, v in t.env.items() if _concrete(v) is not None})
            t = Types(fn, own, namespace, returns, hints, default_pop)
            types[fn.name] = t
            ret = UNSET
            for r in (s.value for s in ast.walk(fn) if isinstance(s, ast.Return) and s.value is not None):
                ret = join(ret, _optimistic(t.expr(r)))
            new_returns[fn.name] = ret
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in by_name \
                        and call.func.id != entry.name:
                    callee = by_name[call.func.id]
                    seen = calls[callee.name]
                    for p, a in zip(callee.args.args, call.args):
                        at = ("tape",) if isinstance(a, ast.Name) and a.id == "_tape" else _optimistic(t.expr(a))
                        seen[p.arg] = at if p.arg not in seen else join(seen[p.arg], at)
        if new_returns == returns and all(calls[f.name] == params[f.name] for f in functions if f is not entry):
            break
        returns = new_returns
        for f in functions:
            if f is not entry:
                params[f.name] = calls[f.name]
    return types


# --------------------------------------------------------- the shared tape

def _stack_of(t):
    """Stack name suffix for a value of type t (None: cannot be stacked)."""
    t = _concrete(t)
    if t == F:
        return "f"
    if t in (I, B):
        return "i"
    if is_array(t) and t[1] == "f":
        return f"a{t[2]}"
    return None


def _is_tape(node):
    return isinstance(node, ast.Name) and node.id == "_tape"


def _shared_stacks(functions, types):
    """Sorted stack suffixes used by the shared `_tape` across the module ([] if unused)."""
    found = set()
    for fn in functions:
        t = types[fn.name]
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_tape(node.func.value) \
                    and node.func.attr == "append":
                for value in _flatten(node.args[0]):
                    found.add(_stack_of(t.expr(value)))
    found.discard(None)
    return sorted(found)


def _flatten(e):
    if isinstance(e, ast.Tuple):
        out = []
        for x in e.elts:
            out += _flatten(x)
        return out
    return [e]


def _flatten_target(e):
    if isinstance(e, (ast.Tuple, ast.List)):
        out = []
        for x in e.elts:
            out += _flatten_target(x)
        return out
    return [e]


# --------------------------------------------------------------- rewriting

def _name(n, store=False):
    return ast.Name(id=n, ctx=ast.Store() if store else ast.Load())


def _call(fn, args):
    f = _name(fn) if isinstance(fn, str) else fn
    return ast.Call(func=f, args=args, keywords=[])


def _attr_call(obj, attr, args):
    return ast.Call(func=ast.Attribute(value=_name(obj), attr=attr, ctx=ast.Load()), args=args, keywords=[])


def _assign(target, value):
    return ast.Assign(targets=[target], value=value, lineno=0)


def _const(v):
    return ast.Constant(value=v)


def _down_range(n_expr):
    return _call("range", [ast.BinOp(left=n_expr, op=ast.Sub(), right=_const(1)),
                           _const(-1), _const(-1)])


class _Rewriter:
    def __init__(self, fn, types, namespace, comments, stacks):
        self.fn = fn
        self.types = types
        self.namespace = namespace
        self.comments = comments
        self.stacks = stacks
        self.counter = 0
        self.kept_ranges = set()
        self.np = next((k for k, v in namespace.items() if getattr(v, "__name__", None) == "numpy"), None)

    def fresh(self, base):
        self.counter += 1
        return f"{base}_j{self.counter}"

    def unsupported(self, node, what):
        line = self.comments.get(getattr(node, "lineno", 0))
        where = f"{line[2] or 'line'}:{line[0]}: {line[1]}" if line else f"generated function {self.fn.name}"
        raise JitUnsupported(f"numba cannot compile {what} ({where})",
                             hint="use jit=False (or jit='auto' to fall back with a warning)")

    def np_name(self):
        if self.np is None:
            self.np = "np"
            import numpy
            self.namespace.setdefault("np", numpy)
        return self.np

    # --------------------------------------------------------------------
    def run(self):
        fn = self.fn
        self._fix_zero_inits()
        self._fix_none_inits()
        self._index_ranges()
        self._per_loop_tapes()
        if self.stacks:
            self._shared_tape()
        fn.body = self._block(fn.body)

    def _block(self, stmts):
        out = []
        for s in stmts:
            out += self._stmt(s)
        return out

    def _stmt(self, s):
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                setattr(s, field, self._block(inner))
        self._rewrite_calls(s)
        if isinstance(s, ast.For) and isinstance(s.iter, ast.Call) and isinstance(s.iter.func, ast.Name) \
                and s.iter.func.id == "reversed" and len(s.iter.args) == 1 and not s.orelse:
            return self._reversed_loop(s)
        if isinstance(s, ast.While) and any(isinstance(n, ast.NamedExpr) for n in ast.walk(s.test)):
            return self._walrus_while(s)
        if isinstance(s, ast.AugAssign) and self._basic_slice_of_array(s.target):
            return self._augment_view(s)
        return [s]

    def _basic_slice_of_array(self, target):
        """target is a[i:j, k...] of an array a, with at least one slice: a view."""
        if not (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)):
            return False
        t = self.types.env.get(target.value.id)
        if not is_array(t):
            return False
        parts = target.slice.elts if isinstance(target.slice, ast.Tuple) else [target.slice]
        if len(parts) > t[2] or not any(isinstance(p, ast.Slice) for p in parts):
            return False
        for p in parts:
            if isinstance(p, ast.Slice):
                if any(x is not None and _concrete(self.types.expr(x)) != I for x in (p.lower, p.upper, p.step)):
                    return False
            elif _concrete(self.types.expr(p)) != I:
                return False
        return True

    def _augment_view(self, s):
        """`a[i:j] += v` -> `view = a[i:j]; view += v`: the same writes into a, without
        numba's copy of the view back into itself."""
        view = self.fresh("_view")
        target = s.target
        load = ast.Subscript(value=_name(target.value.id), slice=target.slice, ctx=ast.Load())
        s.target = _name(view, True)
        return [ast.copy_location(_assign(_name(view, True), load), s), s]

    def _rewrite_calls(self, s):
        """float64_world(...) -> True; float_items(a, n, plain) -> a (see module docstring)."""
        for node in ast.walk(s):
            for field, value in ast.iter_fields(node):
                if isinstance(value, ast.Call):
                    new = self._replacement(value)
                    if new is not None:
                        setattr(node, field, new)
                elif isinstance(value, list):
                    for k, v in enumerate(value):
                        if isinstance(v, ast.Call):
                            new = self._replacement(v)
                            if new is not None:
                                value[k] = new

    def _replacement(self, call):
        if not isinstance(call.func, ast.Name):
            return None
        obj = self.namespace.get(call.func.id)
        name = getattr(obj, "__name__", None)
        if getattr(obj, "__module__", None) != "diffc.runtime":
            return None
        if name == "float64_world":
            return _const(True)
        if name == "float_items" and call.args:
            return call.args[0]
        return None

    def _reversed_loop(self, s):
        seq = s.iter.args[0]
        if isinstance(seq, ast.Call) and isinstance(seq.func, ast.Name) and seq.func.id == "range" \
                and len(seq.args) == 1:
            s.iter = _down_range(seq.args[0])
            return [s]
        if isinstance(seq, ast.Call) and isinstance(seq.func, ast.Name) and seq.func.id == "range":
            return [s]
        pre = []
        if not isinstance(seq, ast.Name):
            tmp = self.fresh("_seq")
            pre.append(ast.copy_location(_assign(_name(tmp, True), seq), s))
            seq = _name(tmp)
        k = self.fresh("_k")
        target = s.target
        s.target = _name(k, True)
        s.iter = _down_range(_call("len", [_name(seq.id)]))
        s.body = [ast.copy_location(_assign(target, ast.Subscript(value=_name(seq.id), slice=_name(k),
                                                                  ctx=ast.Load())), s)] + s.body
        return pre + [s]

    def _walrus_while(self, s):
        test = s.test
        if any(isinstance(n, (ast.BoolOp, ast.IfExp, ast.Lambda)) for n in ast.walk(test)) or s.orelse:
            return [s]
        hoisted = []

        class Hoist(ast.NodeTransformer):
            def visit_NamedExpr(self, node):
                self.generic_visit(node)
                hoisted.append(ast.copy_location(_assign(_name(node.target.id, True), node.value), s))
                return _name(node.target.id)
        test = Hoist().visit(test)
        stop = ast.copy_location(ast.If(test=ast.UnaryOp(op=ast.Not(), operand=test),
                                        body=[ast.Break()], orelse=[]), s)
        s.test = _const(True)
        s.body = hoisted + [stop] + s.body
        return [s]

    # ------------------------------------------------------ adjoint zeros
    def _fix_zero_inits(self):
        """`b = 0.0` of an adjoint that also holds arrays -> np.zeros(p.shape)."""
        for name in self.types.conflicts:
            primal = name[:-4] if name.endswith("_bar") else None
            pt = self.types.env.get(primal) if primal else None
            for node in ast.walk(self.fn):
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and \
                        isinstance(node.targets[0], ast.Name) and node.targets[0].id == name and \
                        isinstance(node.value, ast.Constant) and node.value.value == 0.0:
                    if not is_array(pt):
                        self.unsupported(node, f"the adjoint {name!r}, a float zero that later holds arrays")
                    node.value = _call(ast.Attribute(value=_name(self.np_name()), attr="zeros", ctx=ast.Load()),
                                       [ast.Attribute(value=_name(primal), attr="shape", ctx=ast.Load())])

    def _drop_saves(self, names, restored, inits):
        """Remove `v = None`, `_tape.append(v)` and `v = _tape.pop()` of the names
        (all or nothing per name: a name also inside a tuple entry is kept)."""
        in_tuples = {n.id for node in ast.walk(self.fn) if isinstance(node, ast.Call)
                     and isinstance(node.func, ast.Attribute) and _is_tape(node.func.value)
                     and node.args and isinstance(node.args[0], ast.Tuple)
                     for n in ast.walk(node.args[0]) if isinstance(n, ast.Name)}
        in_tuples |= {n.id for node in ast.walk(self.fn) if isinstance(node, ast.Assign) and _is_pop(node.value)
                      and isinstance(node.targets[0], ast.Tuple) for n in ast.walk(node.targets[0])
                      if isinstance(n, ast.Name)}
        self.kept_ranges = names & in_tuples
        drop = names - in_tuples

        def keep(stmt):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in drop and \
                    (_is_pop(stmt.value) or (isinstance(stmt.value, ast.Constant) and stmt.value.value is None)):
                return False
            if _is_append(stmt, "_tape") and isinstance(stmt.value.args[0], ast.Name) and \
                    stmt.value.args[0].id in drop:
                return False
            return True

        def clean(stmts):
            out = []
            for st in stmts:
                if not keep(st):
                    continue
                for field in ("body", "orelse"):
                    inner = getattr(st, field, None)
                    if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                        setattr(st, field, clean(inner) or [ast.Pass()])
                out.append(st)
            return out
        self.fn.body = clean(self.fn.body)

    def _fix_none_inits(self):
        """`v = None` of a name that otherwise holds numbers -> a zero of that type
        (the None is only ever pushed and restored, never computed with)."""
        zeros = {F: 0.0, I: 0, B: False}
        compared = {n.id for c in ast.walk(self.fn) if isinstance(c, ast.Compare)
                    and any(isinstance(op, (ast.Is, ast.IsNot)) for op in c.ops)
                    for n in ast.walk(c) if isinstance(n, ast.Name)}
        for node in ast.walk(self.fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and isinstance(node.value, ast.Constant) and node.value.value is None:
                t = _concrete(self.types.env.get(node.targets[0].id))
                if t in zeros and node.targets[0].id not in compared:   # `v is None` must stay true
                    node.value = _const(zeros[t])

    def _index_ranges(self):
        """`r = range(a, b, c)` ... `r[k]` -> `a + k * c` (numba cannot index a range).

        A name holding one range whenever it is read (its other assignments being
        a `None` before it and the restores of the tape) is not saved and restored
        at all: numba cannot put a range on a tape, and the value never changes."""
        assigned, restored, inits = {}, {}, {}
        for node in ast.walk(self.fn):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                name = node.targets[0].id
                if _is_pop(node.value):
                    restored.setdefault(name, []).append(node)
                    continue
                if isinstance(node.value, ast.Constant) and node.value.value is None:
                    inits.setdefault(name, []).append(node)
                    continue
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.For, ast.NamedExpr)):
                for t in ([node.target] if not isinstance(node, ast.Assign) else node.targets):
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            assigned.setdefault(n.id, []).append(node)
        ranges = {}
        for name, nodes in assigned.items():
            if len(nodes) != 1 or not isinstance(nodes[0], ast.Assign):
                continue
            v = nodes[0].value
            if isinstance(v, ast.Call) and isinstance(v.func, ast.Name) and v.func.id == "range" \
                    and not v.keywords and all(isinstance(a, ast.Constant) or (
                        isinstance(a, ast.Name) and len(assigned.get(a.id, [])) <= 1) for a in v.args):
                ranges[name] = v.args
        saved = {n for n in ranges if n in restored or n in inits}
        if saved:
            self._drop_saves(saved, restored, inits)
            ranges = {n: a for n, a in ranges.items() if n not in self.kept_ranges}
        class Index(ast.NodeTransformer):
            def visit_Subscript(self, node):
                self.generic_visit(node)
                # the loops desugar builds index their range with a counter from 0 (a Name)
                if isinstance(node.value, ast.Name) and node.value.id in ranges and \
                        isinstance(node.ctx, ast.Load) and isinstance(node.slice, ast.Name):
                    args = ranges[node.value.id]
                    k = node.slice
                    if len(args) == 3:
                        k = ast.BinOp(left=k, op=ast.Mult(), right=args[2])
                    if len(args) >= 2:
                        k = ast.BinOp(left=args[0], op=ast.Add(), right=k)
                    return k
                return node
        if ranges:
            Index().visit(self.fn)

    # ---------------------------------------------------- per-loop tapes
    def _per_loop_tapes(self):
        body = self.fn.body
        for k, s in enumerate(list(body)):
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], ast.Name) \
                    and re.fullmatch(r"_tape\d+", s.targets[0].id) and isinstance(s.value, ast.List) \
                    and not s.value.elts:
                self._one_tape(s.targets[0].id, s)

    def _one_tape(self, tape, init):
        """A per-loop tape of numbers -> one flat float64 buffer, entry k at [k * width + j]:
        allocated once with the trip count of a `range` loop, else grown by doubling."""
        body = self.fn.body
        loops = [s for s in body if isinstance(s, (ast.For, ast.While)) and any(
            _is_append(x, tape) for x in s.body)]
        if len(loops) != 1:
            return
        loop = loops[0]
        pushes = [x for x in loop.body if _is_append(x, tape)]
        nested = [n for x in loop.body if not _is_append(x, tape) for n in ast.walk(x)
                  if isinstance(n, ast.Name) and n.id == tape]
        if len(pushes) != 1 or nested:
            return
        # One push at the top level of the body: at most one entry per iteration.
        ranged = isinstance(loop, ast.For) and isinstance(loop.iter, ast.Call) and \
            isinstance(loop.iter.func, ast.Name) and loop.iter.func.id == "range" and not loop.iter.keywords \
            and "range" not in self.namespace
        value = pushes[0].value.args[0]
        elements = value.elts if isinstance(value, ast.Tuple) else [value]
        kinds = [_concrete(self.types.expr(e)) for e in elements]
        if not all(k in (F, I, B) for k in kinds):
            return
        uses = [n for s in body if s is not init and s is not loop for n in ast.walk(s)
                if isinstance(n, ast.Name) and n.id == tape]
        readers = [s for s in body if s is not init and s is not loop and any(
            isinstance(n, ast.Name) and n.id == tape for n in ast.walk(s))]
        if not all(self._tape_reader(r, tape) for r in readers) or len(uses) != len(readers):
            return
        np_ = self.np_name()
        pos, width = f"{tape}_pos", len(elements)
        # One flat float64 buffer, entry k at [k * width + j]: numba compiles 1-d
        # indexing in a fraction of the time 2-d slicing takes (seconds, not a minute).

        def empty(rows):
            size = rows if width == 1 else ast.BinOp(left=rows, op=ast.Mult(), right=_const(width))
            return _call(ast.Attribute(value=_name(np_), attr="empty", ctx=ast.Load()), [size])
        pre = []
        if ranged:
            fixed = []
            for a in loop.iter.args:
                if isinstance(a, (ast.Name, ast.Constant)):
                    fixed.append(a)
                else:
                    tmp = self.fresh("_stop")
                    pre.append(ast.copy_location(_assign(_name(tmp, True), a), init))
                    fixed.append(_name(tmp))
            loop.iter.args = fixed
            trips = _call("len", [_call("range", [_name(a.id) if isinstance(a, ast.Name) else _const(a.value)
                                                  for a in fixed])])
            pre.append(ast.copy_location(_assign(_name(tape, True), empty(trips)), init))
        else:
            pre.append(ast.copy_location(_assign(_name(tape, True), empty(_const(16))), init))
        pre.append(ast.copy_location(_assign(_name(pos, True), _const(0)), init))
        stores = []
        at = _name(pos) if width == 1 else ast.BinOp(left=_name(pos), op=ast.Mult(), right=_const(width))
        if not ranged:
            grown, q = f"{tape}_grown", self.fresh("_q")
            size = ast.Call(func=_name("len"), args=[_name(tape)], keywords=[])
            stores.append(ast.copy_location(ast.If(
                test=ast.Compare(left=ast.BinOp(left=at, op=ast.Add(), right=_const(width)), ops=[ast.Gt()],
                                 comparators=[size]),
                body=[_assign(_name(grown, True), _call(ast.Attribute(value=_name(np_), attr="empty",
                                                                      ctx=ast.Load()),
                                                        [ast.BinOp(left=_const(2), op=ast.Mult(), right=size)])),
                      ast.For(target=_name(q, True), iter=_call("range", [size]), body=[
                          _assign(ast.Subscript(value=_name(grown), slice=_name(q), ctx=ast.Store()),
                                  ast.Subscript(value=_name(tape), slice=_name(q), ctx=ast.Load()))],
                              orelse=[], type_comment=None),
                      _assign(_name(tape, True), _name(grown))],
                orelse=[]), pushes[0]))
        for j, e in enumerate(elements):
            index = at if j == 0 else ast.BinOp(left=at, op=ast.Add(), right=_const(j))
            cell = ast.Subscript(value=_name(tape), slice=index, ctx=ast.Store())
            stores.append(ast.copy_location(_assign(cell, e), pushes[0]))
        stores.append(ast.copy_location(ast.AugAssign(target=_name(pos, True), op=ast.Add(), value=_const(1)),
                                        pushes[0]))
        j = loop.body.index(pushes[0])
        loop.body[j:j + 1] = stores
        i = body.index(init)
        body[i:i + 1] = pre
        for r in readers:
            self._read_columns(r, tape, kinds, pos)

    @staticmethod
    def _tape_reader(s, tape):
        if isinstance(s, ast.For) and isinstance(s.iter, ast.Call) and isinstance(s.iter.func, ast.Name) \
                and s.iter.func.id == "reversed" and len(s.iter.args) == 1 and \
                isinstance(s.iter.args[0], ast.Name) and s.iter.args[0].id == tape and not s.orelse:
            return not any(isinstance(n, ast.Name) and n.id == tape for x in s.body for n in ast.walk(x))
        if isinstance(s, ast.If) and isinstance(s.test, ast.Name) and s.test.id == tape and not s.orelse \
                and len(s.body) == 1 and isinstance(s.body[0], ast.Assign):
            v = s.body[0].value
            return isinstance(v, ast.Subscript) and isinstance(v.value, ast.Name) and v.value.id == tape \
                and isinstance(v.slice, ast.Constant)
        return False

    def _read_columns(self, s, tape, kinds, pos):
        """A reader of the tape (see _tape_reader) reading the buffer's rows, ints and bools
        converted back from the float64 they were stored as."""
        def row(index):
            items = []
            width = len(kinds)
            for j, k in enumerate(kinds):
                at = index() if width == 1 else ast.BinOp(left=index(), op=ast.Mult(), right=_const(width))
                at = at if j == 0 else ast.BinOp(left=at, op=ast.Add(), right=_const(j))
                cell = ast.Subscript(value=_name(tape), slice=at, ctx=ast.Load())
                if k == I:
                    cell = _call("int", [cell])
                elif k == B:
                    cell = ast.Compare(left=cell, ops=[ast.NotEq()], comparators=[_const(0.0)])
                items.append(cell)
            return items[0] if len(items) == 1 else ast.Tuple(elts=items, ctx=ast.Load())
        if isinstance(s, ast.For):
            k = self.fresh("_k")
            target = s.target
            s.target = _name(k, True)
            s.iter = _down_range(_name(pos))
            s.body = [ast.copy_location(_assign(target, row(lambda: _name(k))), s)] + s.body
        else:
            s.test = ast.Compare(left=_name(pos), ops=[ast.Gt()], comparators=[_const(0)])
            s.body[0].value = row(lambda: _const(s.body[0].value.slice.value))

    # ------------------------------------------------------ shared tape
    def _shared_tape(self):
        stacks = [f"_tape_{x}" for x in self.stacks]
        args = self.fn.args.args
        for k, a in enumerate(args):
            if a.arg == "_tape":
                args[k:k + 1] = [ast.arg(arg=s) for s in stacks]
        self.fn.body = self._shared_block(self.fn.body, stacks)

    def _shared_block(self, stmts, stacks):
        out = []
        for s in stmts:
            for field in ("body", "orelse"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    setattr(s, field, self._shared_block(inner, stacks))
            for node in ast.walk(s):
                if isinstance(node, ast.Call):
                    expanded = []
                    for a in node.args:
                        expanded += [_name(x) for x in stacks] if _is_tape(a) else [a]
                    node.args = expanded
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and _is_tape(s.targets[0]):
                for x in stacks:
                    # a list of one element then popped: numba types an empty list by its element
                    out.append(ast.copy_location(_assign(_name(x, True), self._empty_stack(x, s)), s))
                    out.append(ast.copy_location(ast.Expr(value=_attr_call(x, "pop", [])), s))
                continue
            if _is_append(s, "_tape"):
                for value in _flatten(s.value.args[0]):
                    stack = _stack_of(self.types.expr(value))
                    if stack is None:
                        self.unsupported(s, f"a tape entry whose type diffc cannot tell ({ast.unparse(value)})")
                    out.append(ast.copy_location(ast.Expr(value=_attr_call(f"_tape_{stack}", "append", [value])), s))
                continue
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and _is_pop(s.value):
                targets = _flatten_target(s.targets[0])
                for t in reversed(targets):
                    tt = self._target_type(t)
                    stack = _stack_of(tt)
                    if stack is None:
                        self.unsupported(s, f"a tape entry whose type diffc cannot tell ({ast.unparse(t)})")
                    out.append(ast.copy_location(_assign(t, _attr_call(f"_tape_{stack}", "pop", [])), s))
                continue
            if any(_is_tape(n) for n in ast.walk(s)):
                self.unsupported(s, "this use of the shared tape")
            out.append(s)
        return out

    def _target_type(self, t):
        if isinstance(t, ast.Name):
            return self.types.env.get(t.id)
        if isinstance(t, ast.Subscript):
            return self.types._subscript(self.types.expr(t.value), t.slice)
        return None

    def _empty_stack(self, stack, s):
        suffix = stack[len("_tape_"):]
        if suffix == "f":
            seed = _const(0.0)
        elif suffix == "i":
            seed = _const(0)
        else:
            ndim = int(suffix[1:])
            seed = _call(ast.Attribute(value=_name(self.np_name()), attr="zeros", ctx=ast.Load()),
                         [ast.Tuple(elts=[_const(1)] * ndim, ctx=ast.Load())])
        return ast.List(elts=[seed], ctx=ast.Load())


def _is_append(s, tape):
    return isinstance(s, ast.Expr) and isinstance(s.value, ast.Call) and \
        isinstance(s.value.func, ast.Attribute) and s.value.func.attr == "append" and \
        isinstance(s.value.func.value, ast.Name) and s.value.func.value.id == tape and len(s.value.args) == 1


def _is_pop(e):
    return isinstance(e, ast.Call) and isinstance(e.func, ast.Attribute) and e.func.attr == "pop" \
        and _is_tape(e.func.value) and not e.args


# ------------------------------------------------------------------ output

def _unparse(tree, comments):
    """Text with the user-line comments put back; map of its lines -> user lines."""
    texts = []

    def mark(stmts, last):
        out = []
        for s in stmts:
            line = comments.get(getattr(s, "lineno", None) or 0)
            if line is not None and line != last:
                texts.append(line)
                out.append(ast.Expr(value=ast.Constant(value=f"{_MARK}{len(texts) - 1}")))
                last = line
            for field in ("body", "orelse"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    setattr(s, field, mark(inner, line))
            out.append(s)
        return out
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef):
            fn.body = mark(fn.body, None)
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree)
    pattern = re.compile(r"^(\s*)(?:'|\"\"\")" + _MARK + r"(\d+)(?:'|\"\"\")$")
    out, line_map, current = [], {}, None
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            current = texts[int(m.group(2))]
            out.append(f"{m.group(1)}# line {current[0]}: {current[1]}")
            continue
        if line.startswith("def "):
            current = None
            if out:
                out += ["", ""] if out[-1] else [""]
        out.append(line)
        if current is not None:
            line_map[len(out)] = (current[2], current[0])
    return "\n".join(out) + "\n", line_map
