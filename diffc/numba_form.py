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
* when every float array the call sees is float64, elementwise statements on
  1-d vectors are index loops guarded by length and overlap checks, the
  statement as it was in the else branch (numba_loops.py).

What the pass cannot type (a tape value of unknown type) raises `JitUnsupported`
naming the user's line; what numba itself cannot type is reported by
`diffc.jit` from numba's error, mapped back through the line map.
"""

import ast
import re

from .errors import DiffcError
from .numba_loops import Loops
from .numba_types import (B, F, I, UNSET, Types, array_type, concrete, flatten, flatten_target, is_array, is_pop,
                          is_tape, join, optimistic, type_of_value)

_LINE = re.compile(r"^(\s*)# line (\d+): (.*)$")
_MARK = "__diffc_jit_line__"


class JitUnsupported(DiffcError):
    """numba cannot compile this gradient (the construct and the user's line are named)."""


class JitForm:
    """The numba-ready source (see module docstring)."""

    def __init__(self, source, line_map, helpers, namespace):
        self.source = source
        self.namespace = namespace          # the input namespace plus what the text adds (np)
        self.line_map = line_map
        self.helpers = helpers


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
    vectors = _float64_only(args, namespace)
    stacks = _shared_stacks(functions, types)
    if len(stacks) == 1:
        # every value pushed has one type: so has every value popped
        one = {"f": F, "i": I}.get(stacks[0]) or array_type("f", int(stacks[0][1:]))
        types = _infer_module(functions, by_name, entry, args, namespace, default_pop=one)
    added = set()
    for fn in functions:
        rewriter = _Rewriter(fn, types[fn.name], namespace, comments, stacks, vectors)
        rewriter.run()
        added |= rewriter.added_helpers
    text, jit_map = _unparse(tree, comments)
    used = sorted({n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name)}
                  & (set(helper_names) | added))
    return JitForm(text, jit_map, used, namespace)


def _float64_only(args, namespace):
    """Every float array the call passes or the code reads as a constant is float64
    (numba_loops allocates float64 results)."""
    import numpy as np
    values = list(args) + list(namespace.values())
    return all(v.dtype == np.float64 for v in values if isinstance(v, np.ndarray) and v.dtype.kind in "fc")


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
                hints = {k: concrete(v) for k, v in types["_fwd_" + fn.name[5:]].env.items()}
            own = params[fn.name] if fn is not entry else fixed
            if fn is not entry:
                own = {a.arg: own.get(a.arg, UNSET) for a in fn.args.args}
            t = Types(fn, own, namespace, returns, hints, default_pop)
            hints.update({k: concrete(v) for k, v in t.env.items() if concrete(v) is not None})
            t = Types(fn, own, namespace, returns, hints, default_pop)
            types[fn.name] = t
            ret = UNSET
            for r in (s.value for s in ast.walk(fn) if isinstance(s, ast.Return) and s.value is not None):
                ret = join(ret, optimistic(t.expr(r)))
            new_returns[fn.name] = ret
            for call in ast.walk(fn):
                if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in by_name \
                        and call.func.id != entry.name:
                    callee = by_name[call.func.id]
                    seen = calls[callee.name]
                    for p, a in zip(callee.args.args, call.args):
                        at = ("tape",) if isinstance(a, ast.Name) and a.id == "_tape" else optimistic(t.expr(a))
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
    t = concrete(t)
    if t == F:
        return "f"
    if t in (I, B):
        return "i"
    if is_array(t) and t[1] == "f":
        return f"a{t[2]}"
    return None


def _shared_stacks(functions, types):
    """Sorted stack suffixes used by the shared `_tape` across the module ([] if unused)."""
    found = set()
    for fn in functions:
        t = types[fn.name]
        for node in ast.walk(fn):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and is_tape(node.func.value) \
                    and node.func.attr == "append":
                for value in flatten(node.args[0]):
                    found.add(_stack_of(t.expr(value)))
    found.discard(None)
    return sorted(found)


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
    def __init__(self, fn, types, namespace, comments, stacks, vectors=False):
        self.fn = fn
        self.added_helpers = set()
        self.loops = Loops(types, namespace, self.np_name, self.disjoint_name, self.fresh) if vectors else None
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

    def disjoint_name(self):
        from . import runtime_floats
        name = next((k for k, v in self.namespace.items() if v is runtime_floats.disjoint), None)
        if name is None:
            name = "_diffc_disjoint"
            self.namespace[name] = runtime_floats.disjoint
        self.added_helpers.add(name)
        return name

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
        if self.loops is not None:
            loops = self.loops.rewrite(s, self._plain_elementwise)
            if loops is not None:
                return loops
        if isinstance(s, ast.For) and isinstance(s.iter, ast.Call) and isinstance(s.iter.func, ast.Name) \
                and s.iter.func.id == "reversed" and len(s.iter.args) == 1 and not s.orelse:
            return self._reversed_loop(s)
        if isinstance(s, ast.While) and any(isinstance(n, ast.NamedExpr) for n in ast.walk(s.test)):
            return self._walrus_while(s)
        if isinstance(s, ast.AugAssign) and self._basic_slice_of_array(s.target):
            return self._augment_view(s)
        return [s]

    def _plain_elementwise(self, s):
        """The statement numba_loops falls back to (a copy: the loop replaces s)."""
        import copy
        s = copy.deepcopy(s)
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
                if any(x is not None and concrete(self.types.expr(x)) != I for x in (p.lower, p.upper, p.step)):
                    return False
            elif concrete(self.types.expr(p)) != I:
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
        if getattr(obj, "__module__", None) not in ("diffc.runtime", "diffc.runtime_floats"):
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
                     and isinstance(node.func, ast.Attribute) and is_tape(node.func.value)
                     and node.args and isinstance(node.args[0], ast.Tuple)
                     for n in ast.walk(node.args[0]) if isinstance(n, ast.Name)}
        in_tuples |= {n.id for node in ast.walk(self.fn) if isinstance(node, ast.Assign) and is_pop(node.value)
                      and isinstance(node.targets[0], ast.Tuple) for n in ast.walk(node.targets[0])
                      if isinstance(n, ast.Name)}
        self.kept_ranges = names & in_tuples
        drop = names - in_tuples

        def keep(stmt):
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
                    isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in drop and \
                    (is_pop(stmt.value) or (isinstance(stmt.value, ast.Constant) and stmt.value.value is None)):
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
                t = concrete(self.types.env.get(node.targets[0].id))
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
                if is_pop(node.value):
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
        kinds = [concrete(self.types.expr(e)) for e in elements]
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
            stores.append(ast.copy_location(self._grown_when_full(tape, at, width, np_), pushes[0]))
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

    def _grown_when_full(self, tape, at, width, np_):
        """``if at + width > len(tape): tape = <a copy twice as long>`` (a tape of a loop
        whose trip count is not known before it runs)."""
        grown, q = f"{tape}_grown", self.fresh("_q")
        size = ast.Call(func=_name("len"), args=[_name(tape)], keywords=[])
        return ast.If(
            test=ast.Compare(left=ast.BinOp(left=at, op=ast.Add(), right=_const(width)), ops=[ast.Gt()],
                             comparators=[size]),
            body=[_assign(_name(grown, True), _call(ast.Attribute(value=_name(np_), attr="empty", ctx=ast.Load()),
                                                    [ast.BinOp(left=_const(2), op=ast.Mult(), right=size)])),
                  ast.For(target=_name(q, True), iter=_call("range", [size]), body=[
                      _assign(ast.Subscript(value=_name(grown), slice=_name(q), ctx=ast.Store()),
                              ast.Subscript(value=_name(tape), slice=_name(q), ctx=ast.Load()))],
                          orelse=[], type_comment=None),
                  _assign(_name(tape, True), _name(grown))],
            orelse=[])

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
                        expanded += [_name(x) for x in stacks] if is_tape(a) else [a]
                    node.args = expanded
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and is_tape(s.targets[0]):
                for x in stacks:
                    # a list of one element then popped: numba types an empty list by its element
                    out.append(ast.copy_location(_assign(_name(x, True), self._empty_stack(x, s)), s))
                    out.append(ast.copy_location(ast.Expr(value=_attr_call(x, "pop", [])), s))
                continue
            if _is_append(s, "_tape"):
                for value in flatten(s.value.args[0]):
                    stack = _stack_of(self.types.expr(value))
                    if stack is None:
                        self.unsupported(s, f"a tape entry whose type diffc cannot tell ({ast.unparse(value)})")
                    out.append(ast.copy_location(ast.Expr(value=_attr_call(f"_tape_{stack}", "append", [value])), s))
                continue
            if isinstance(s, ast.Assign) and len(s.targets) == 1 and is_pop(s.value):
                targets = flatten_target(s.targets[0])
                for t in reversed(targets):
                    tt = self._target_type(t)
                    stack = _stack_of(tt)
                    if stack is None:
                        self.unsupported(s, f"a tape entry whose type diffc cannot tell ({ast.unparse(t)})")
                    out.append(ast.copy_location(_assign(t, _attr_call(f"_tape_{stack}", "pop", [])), s))
                continue
            if any(is_tape(n) for n in ast.walk(s)):
                self.unsupported(s, "this use of the shared tape")
            out.append(s)
        return out

    def _target_type(self, t):
        if isinstance(t, ast.Name):
            return self.types.env.get(t.id)
        if isinstance(t, ast.Subscript):
            return self.types.subscript(self.types.expr(t.value), t.slice)
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
