"""reverse: an ANF function -> its forward sweep and adjoint sweep.

Input: an ANF `FunctionInfo` (see anf.py), which parameters are active, and
the kinds of the parameters.
Output: `ReverseResult` with gast statement lists
  * ``forward``: the primal statements, each definition preceded by a save of
    the value it overwrites when the adjoint needs that value later;
  * ``adjoint``: the adjoint statements in reverse order, each definition's
    adjoint followed by the restore of the overwritten value;
  * bookkeeping: bar names, which bars accumulate (need ``= 0.0``), the
    returned atom, the tape variables.

Scheme ("restore"): the adjoint sweep walks the program backwards and undoes
every assignment after differentiating it, so when the adjoint of a statement
runs, every variable holds exactly the value it had right after that
statement ran forward.  A variable is saved before a definition only if the
adjoint reads it and it is defined more than once (or inside a loop);
``for`` loops over ``range`` are replayed backwards with ``reversed`` (no
tape), ``while`` loops push their trip count, ``if`` tests are variables that
are restored like any other.  Adjoints start at ``0.0`` and accumulate with
``+=``; a temporary used exactly once, in the block that defines it, gets its
adjoint by plain assignment.

Saves and restores are emitted as markers first: which variables need a tape
is only known once the adjoint code exists (`resolve_markers`).
"""

import builtins
import itertools

import gast
import numpy as np

from .. import ast_util as A
from .. import checks
from .. import runtime, runtime_calls, runtime_pure
from .. import rules as R
from ..analysis import activity as activity_mod
from ..analysis import aliases as aliases_mod
from ..analysis import origin as origin_mod
from ..analysis import kinds as K
from ..analysis.calls import call_key, integer_cast, is_user_function
from ..errors import NoDerivativeRule, UnsupportedSyntax
from ..parse import MISSING, FunctionInfo
from . import argument_effects, callee_writes, dynamic_calls
from .context import CompilationContext
from .rule_calls import (RuleBindingError, bind_rule_arguments, describe, drop_concatenation, drop_unbroadcast,
                         merge_equal_contributions, zero_safe)
from .sweep import FunctionSweep, alias_sources, index_value, rt
from .library_mutations import refuse_library_mutation

TAPE = "_tape"

# A forward loop and its adjoint loop carry the same tag (optimize/use_loop_tapes.py).
_loop_tags = itertools.count()


# ---------------------------------------------------------------- markers

def marker(kind, *args):
    """A placeholder statement resolved once the tape variables are known."""
    node = gast.Expr(value=gast.Constant(value=None, kind=None))
    node.diffc_marker = (kind,) + args
    return node


def is_marker(stmt, kind=None):
    m = getattr(stmt, "diffc_marker", None)
    return m is not None and (kind is None or m[0] == kind)


# ---------------------------------------------------------------- helpers

def bar_inc(target, value):
    return gast.AugAssign(target=A.store(target), op=gast.Add(), value=value)


def check_object_index(fn, value):
    """Refuse `obj[i]` where obj is a constant object (not an array or container: np.mgrid,
    np.ogrid, a user object with __getitem__) and i depends on a differentiated input.

    Only obj's derivative flows through a subscript; for such an object the result
    depends on i itself, which would be a silent zero.  np.s_ / np.index_exp build
    index objects (constants); np.r_ / np.c_ are calls by then (desugar.py)."""
    obj = fn.info.resolve_static(value.value)
    if obj is MISSING or isinstance(obj, (list, tuple, dict, str, bytes, range, np.ndarray, type(np.s_))) \
            or runtime.is_duck_array(obj):
        return
    varied = fn.activity.varied
    if any(n in varied for n in A.names_loaded(value.slice)):
        fn.fail(NoDerivativeRule, f"cannot differentiate indexing {_unparse(value.value)}[...] with a value "
                "that depends on a differentiated input", value,
                hint="build the array with a differentiable function (np.linspace, np.meshgrid...) "
                     "or keep the index free of differentiated values")


def check_object_indexes(fn):
    """check_object_index on every subscript read whose result reaches the output."""
    for stmt in A.walk_statements(fn.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.value, gast.Subscript) \
                and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id in fn.activity.useful:
            check_object_index(fn, stmt.value)


class ReverseResult:
    pass


class ReverseFunction(FunctionSweep):
    """Builds the forward and adjoint sweeps of one function (see module docstring)."""

    def __init__(self, module: CompilationContext, info, active_params, param_kinds):
        self.module = module
        self.info = info
        self.namer = info.namer
        self.source = info.source
        self.params = info.params
        self.param_kinds = param_kinds
        # The passes below rewrite statements in place: work on a private copy.
        self.body = A.deepcopy(info.node.body)
        self.kinds = K.infer(info, param_kinds, info.resolve_static, self._callee_kind)
        self.body = callee_writes.rewrite(self)        # `fill(out)` writing into out
        self.shapes = K.infer_shapes(info, self.kinds, set(info.params))
        self._iterate_written_sequences_directly()
        self.share_writes_through_views()
        self.returned = self._returned_atom()
        # Calls of function values first: they may rename what is returned (a closure).
        self.body = dynamic_calls.lower(
            self.body, self, dynamic_calls.varied_names(self.body, active_params, self._carries), call_key)
        returned_names = {self.returned.id} if isinstance(self.returned, gast.Name) else set()
        self.activity = activity_mod.analyze(self.body, active_params, returned_names, self._carries)
        self.active = self.activity.active
        check_object_indexes(self)
        self.bars = {}
        if isinstance(self.returned, gast.Name) and self.returned.id.startswith("_t") \
                and self.returned.id not in self.params:
            self.bars[self.returned.id] = self.namer.unique("result_bar")
        self.accumulated = set()       # bars updated with +=: need `= 0.0` first
        self.dense = set()             # names whose adjoint starts as a zeros array
        self._count_defs()
        self._find_first_definitions()
        self._find_direct_temps()
        self.written = self._written_in_place()
        if module.differentiable:
            self.views_allowed = False     # a view would be a hidden alias for the next derivative
        self.check_aliasing()
        self.load_count = {}
        for node in A.walk(gast.Module(body=self.body, type_ignores=[])):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                self.load_count[node.id] = self.load_count.get(node.id, 0) + 1
        self.loop_depth = 0
        self.checkpointing = 0         # depth of checkpointed loops being built (no nesting)
        self.entry_inits = []          # bindings checkpointed loops need at entry
        self.batched = set()           # definitions saved by their loop body's batch marker
        # Only branches and loops (or a caller's seed) can leave an adjoint at the plain
        # zero 0.0 when a rule consumes it; straight-line code needs no guard.
        self.guard_zero = any(isinstance(st, (gast.If, gast.For, gast.While))
                              for st in A.walk_statements(self.body))
        checks.check_function(self)

    # ------------------------------------------------------------ analysis
    def _returned_atom(self):
        last = self.body[-1]
        assert isinstance(last, gast.Return)
        return last.value

    def _carries(self, call):
        key, _ = call_key(self.info, call)
        if key is None:
            return True
        return not R.is_nondiff(key) and not integer_cast(self.info, call)

    def _find_first_definitions(self):
        """Definition sites before which the variable can never have been bound.

        Nothing needs saving there: the adjoint never reads the unbound value."""
        self.first_definitions = set()

        def visit(stmts, defined):
            for s in stmts:
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                    name = s.targets[0].id
                    if name not in defined:
                        self.first_definitions.add(id(s))
                    defined.add(name)
                elif isinstance(s, gast.If):
                    a, b = set(defined), set(defined)
                    visit(s.body, a)
                    visit(s.orelse, b)
                    defined |= a | b
                elif isinstance(s, (gast.For, gast.While)):
                    for inner in A.walk_statements(s.body):
                        for n in A.walk(inner):
                            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                                defined.add(n.id)
        visit(self.body, set(self.params))

    def multiply_defined(self, name):
        return self.def_count.get(name, 0) > 1 or name in self.loop_defined

    def _find_direct_temps(self):
        """Temporaries defined once and read once, in the same block, outside loop headers."""
        uses = {}
        def_block = {}

        def visit(stmts):
            for s in stmts:
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                    def_block[s.targets[0].id] = id(stmts)
                    # Every occurrence is a use: `_t * _t` reads _t twice (two contributions).
                    for n in A.walk(s.value):
                        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                            uses.setdefault(n.id, []).append(id(stmts))
                    if isinstance(s.targets[0], gast.Subscript):
                        pass
                elif isinstance(s, gast.Assign):
                    for n in A.names_loaded(s):
                        uses.setdefault(n, []).append(None)
                elif isinstance(s, (gast.If, gast.While)):
                    for n in A.names_loaded(s.test):
                        uses.setdefault(n, []).append(None)
                    visit(s.body)
                    visit(s.orelse)
                elif isinstance(s, gast.For):
                    for n in A.names_loaded(s.iter):
                        uses.setdefault(n, []).append(None)
                    visit(s.body)
                else:
                    for n in A.names_loaded(s):
                        uses.setdefault(n, []).append(None)
        visit(self.body)
        self.direct = set()
        for name, block in def_block.items():
            u = uses.get(name, [])
            if (name.startswith("_t") and self.def_count.get(name) == 1 and len(u) == 1
                    and u[0] == block and name not in self.params):
                self.direct.add(name)

    # --------------------------------------------------------- bar naming
    def bar(self, name):
        if name not in self.bars:
            self.bars[name] = self.namer.bar(name)
        return self.bars[name]

    def is_active(self, atom):
        return isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global") and atom.id in self.active

    def origin(self, atom):
        """Where the differentiated value atom comes from (for refusals)."""
        return origin_mod.explain(atom.id, self.body, self.info.source, self.active, self.params)

    def accumulate(self, atom, value):
        """Statements adding value to the adjoint of atom."""
        name = atom.id
        if name in self.direct:
            return [A.assign(self.bar(name), value)]
        self.accumulated.add(self.bar(name))
        inc = bar_inc(self.bar(name), value)
        inc.diffc_scalar = self.scalar(name)      # rebound, never updated in place (optimize/merge_accumulations.py)
        return [inc]

    def scalar(self, name):
        return self.kinds.get(name) in (K.SCALAR, K.INT)

    # ------------------------------------------------------------ driver
    def build(self):
        forward, adjoint = self.block(self.body[:-1])
        result = ReverseResult()
        # Bindings checkpointed loops need at entry (transform/checkpoint.py).
        entry = list(self.entry_inits)
        for p in self.params:
            if p in self.written:
                # Writes into an argument must never reach the caller's array.
                entry.append(A.located(A.assign(p, A.call(rt(runtime.copy_value), [A.name(p)])),
                                       self.info.node))
        result.forward = entry + forward
        result.adjoint = adjoint
        result.returned = self.returned
        result.rf = self
        return result

    def loop_body(self, stmts):
        """A loop body's sweeps, saving the first definitions of a body as one tuple.

        A variable first assigned by a top-level statement of the body, and not
        read before that, holds at the start of the iteration the value its
        definition overwrites, and no adjoint code between that definition and
        the start of the iteration reads it: one push of all such values when
        the iteration starts, and one pop when its adjoint ends, replace a
        push and a pop per variable."""
        candidates, seen_loaded = [], set()
        for st in stmts:
            if isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name):
                name = st.targets[0].id
                loaded_here = A.names_loaded(st.value)
                if name not in seen_loaded and name not in loaded_here \
                        and name not in {c for c, _ in candidates} and name not in self.params:
                    candidates.append((name, st))
                seen_loaded |= loaded_here
            else:
                for inner in A.walk_statements([st]):
                    seen_loaded |= {n.id for n in A.walk(inner) if isinstance(n, gast.Name)}
        chosen = [(n, st) for n, st in candidates if not any(
            n in A.names_stored(other) for other in stmts if other is not st
            and isinstance(other, (gast.If, gast.For, gast.While)))]
        self.batched.update(id(st) for _, st in chosen)
        body_f, body_a = self.block(stmts)
        names = [n for n, _ in chosen]
        if not names:
            return body_f, body_a
        return [marker("batch_save", names)] + body_f, body_a + [marker("batch_restore", names)]

    def in_loop(self, stmt):
        return self.loop_depth > 0

    def block(self, stmts):
        forward, adjoint = [], []
        for stmt in stmts:
            f, a = self.statement(stmt)
            forward.extend(A.located_all(f, stmt))
            adjoint[:0] = A.located_all(a, stmt)
        return forward, adjoint

    def statement(self, stmt):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                return self.assign(stmt, target.id, stmt.value)
            return self.item_write(stmt, target)
        if isinstance(stmt, gast.If):
            pre_f = []
            if isinstance(stmt.test, gast.Name) and stmt.test.id in _stored_in(stmt.body + stmt.orelse):
                # The branch rebinds its own test: replay it from a private copy.
                copy = self.namer.fresh("_cond")
                self.def_count[copy] = 1
                self.info.add_locals({copy})
                first = A.located(A.assign(copy, stmt.test), stmt)
                if self.in_loop(stmt):
                    self.loop_defined.add(copy)      # saved: earlier iterations need theirs
                else:
                    self.first_definitions.add(id(first))
                pre_f, pre_a = self.statement(first)
                stmt.test = A.name(copy)
                f, a = self.statement(stmt)
                return pre_f + f, a + pre_a
            body_f, body_a = self.block(stmt.body)
            else_f, else_a = self.block(stmt.orelse)
            fwd = gast.If(test=stmt.test, body=body_f or [gast.Pass()], orelse=else_f)
            adj = gast.If(test=A.deepcopy(stmt.test), body=body_a, orelse=else_a)
            return [fwd], [adj]
        if isinstance(stmt, (gast.For, gast.While)):
            checkpointed = self.module.checkpointed_loop(self, stmt)
            if checkpointed is not None:
                return checkpointed
        if isinstance(stmt, gast.For):
            self.loop_depth += 1
            body_f, body_a = self.loop_body(stmt.body)
            self.loop_depth -= 1
            fwd = gast.For(target=stmt.target, iter=stmt.iter, body=body_f or [gast.Pass()], orelse=[],
                           type_comment=None)
            rev_iter = A.call(A.global_ref(builtins.reversed, "reversed"), [A.deepcopy(stmt.iter)])
            adj = gast.For(target=A.store(stmt.target.id), iter=rev_iter, body=body_a, orelse=[],
                           type_comment=None)
            fwd.diffc_loop = adj.diffc_loop = next(_loop_tags)   # pairs them for optimize/use_loop_tapes.py
            return [fwd], [adj]
        if isinstance(stmt, gast.While):
            count = self.namer.fresh("_iterations")
            self.loop_depth += 1
            body_f, body_a = self.loop_body(stmt.body)
            self.loop_depth -= 1
            step = A.assign(count, A.binop(A.name(count), gast.Add(), A.const(1)))
            fwd = [A.assign(count, A.const(0)),
                   gast.While(test=stmt.test, body=body_f + [step], orelse=[])]
            loop = gast.For(target=A.store(self.namer.fresh("_")), iter=A.call(
                A.global_ref(builtins.range, "range"), [A.name(count)]), body=body_a, orelse=[],
                type_comment=None)
            fwd[1].diffc_loop = loop.diffc_loop = next(_loop_tags)
            fwd[1].diffc_trip_count = count
            if self.loop_depth == 0:
                # Outside any loop the count is computed once: it still holds it when the
                # adjoint runs (a split function passes it with the rest of its state,
                # which is made of locals: the count becomes one).
                self.info.add_locals({count})
                return fwd, [loop]
            return fwd + [marker("push_count", count)], [marker("pop_count", count, loop), loop]
        if isinstance(stmt, gast.Expr):
            return self.expression_statement(stmt)
        if isinstance(stmt, (gast.Raise, gast.Assert, gast.Pass)):
            return [stmt], []
        if isinstance(stmt, gast.Return):
            self.fail(UnsupportedSyntax, "return must be the last statement", stmt,
                      hint="this is an internal invariant of diffc's desugaring; please report it")
        self.fail(UnsupportedSyntax, f"{type(stmt).__name__} is not supported", stmt,
                  hint="use assignments, if/for/while, calls and return")

    # --------------------------------------------------------- assignment
    def view_bases(self):
        """name -> the names whose arrays it may view (reads of it read them too)."""
        return self.aliases.bases

    def assign(self, stmt, x, value):
        fwd_value = self.forward_value(x, value, stmt)
        if isinstance(value, gast.Call):
            fwd_value, adjoint_call = self.maybe_user_call(x, value, fwd_value)
        else:
            adjoint_call = None
        first = id(stmt) in self.first_definitions or id(stmt) in self.batched
        save, restore = (marker("save", x), marker("restore", x)) if not first else (None, None)
        definition = A.assign(x, fwd_value)
        definition.diffc_scalar = self.scalar(x)     # a float: cheap to recompute (use_loop_tapes.py)
        forward = [s for s in (save, definition) if s is not None]
        restore = [restore] if restore is not None else []
        if x not in self.active:
            popped = self._popped_list(value)
            if popped is not None:
                # The value carries no derivative, but the list and its adjoint must
                # get their entry back, or every earlier index would be shifted.
                return forward, self.list_pop(popped, A.name(x), A.const(0.0)) + restore
            return forward, restore
        x_bar = self.bar(x)
        self_ref = x in A.names_loaded(value)
        if self_ref:
            special = self.self_add(x, value)
            if special is not None:
                return forward, special + restore
            res, g = self.namer.fresh("_res"), self.namer.fresh("_g")
            if adjoint_call:
                pre = [A.assign(g, A.name(x_bar)), A.assign(x_bar, A.const(0.0))]
                if self.module.differentiable:
                    # A joint call reads its arguments, x among them: restore x first.
                    return forward, pre + restore + adjoint_call(A.name(g))
                # The callee pushed after our save: its adjoint pops first.
                return forward, pre + adjoint_call(A.name(g)) + restore
            pre = [A.assign(res, A.name(x)), A.assign(g, A.name(x_bar)), A.assign(x_bar, A.const(0.0))] \
                + restore
            body = self.contributions(stmt, value, A.name(res), A.name(g), x)
            return forward, pre + body
        body = adjoint_call(A.name(x_bar)) if adjoint_call else \
            self.contributions(stmt, value, A.name(x), A.name(x_bar), x)
        if self.multiply_defined(x) and x not in self.direct:
            self.accumulated.add(x_bar)
            body.append(A.assign(x_bar, A.const(0.0)))
        return forward, body + restore

    def _popped_list(self, value):
        """The active list of `value = lst.pop()`, else None."""
        if isinstance(value, gast.Call) and not value.args and not value.keywords \
                and isinstance(value.func, gast.Attribute) and value.func.attr == "pop" \
                and self.is_active(value.func.value):
            return value.func.value
        return None

    def self_add(self, x, value):
        """x = x + a / x = x - a / x = a + x on scalars: the adjoint of x passes through."""
        if not (isinstance(value, gast.BinOp) and isinstance(value.op, (gast.Add, gast.Sub))):
            return None
        if not self.scalar(x):
            return None
        left, right = value.left, value.right
        x_bar = A.name(self.bar(x))
        if isinstance(left, gast.Name) and left.id == x and not (isinstance(right, gast.Name) and right.id == x):
            other, sign = right, isinstance(value.op, gast.Sub)
        elif isinstance(right, gast.Name) and right.id == x and isinstance(value.op, gast.Add) \
                and not (isinstance(left, gast.Name) and left.id == x):
            other, sign = left, False
        else:
            return None
        self.accumulated.add(self.bar(x))
        if not self.is_active(other):
            return []
        contribution = gast.UnaryOp(op=gast.USub(), operand=x_bar) if sign else x_bar
        return self.accumulate(other, contribution)

    # ---------------------------------------------------- contributions
    def contributions(self, stmt, value, result, result_bar, target):
        """Adjoint statements of `target = value` given the result and its adjoint."""
        kind = type(value)
        if kind is gast.Name:
            if self.is_active(value):
                return self.accumulate(value, result_bar)
            return []
        if kind is gast.Constant:
            return []
        if kind is gast.BinOp:
            key = BINOPS.get(type(value.op))
            return self.apply_rule(stmt, key, [value.left, value.right], [], result, result_bar, target,
                                   value)
        if kind is gast.UnaryOp:
            if isinstance(value.op, (gast.Not, gast.Invert)):
                return []
            key = UNARY[type(value.op)]
            return self.apply_rule(stmt, key, [value.operand], [], result, result_bar, target, value)
        if kind is gast.Compare:
            return []
        if kind is gast.Call:
            key, args = call_key(self.info, value)
            if key is None:
                if self.is_active(value.func):
                    self.fail(NoDerivativeRule, "cannot differentiate with respect to the function this line "
                              "calls (it depends on a differentiated argument)", value,
                              hint="differentiate with respect to the numbers the function uses, passed "
                                   "as separate arguments")
                if any(self.is_active(a) for a in value.args) or \
                        any(self.is_active(k.value) for k in value.keywords):
                    self.fail(NoDerivativeRule, "cannot differentiate a call of a local variable",
                              value, hint="call the function by its name")
                return []
            if key == ("method", "pop") and len(args) == 1:
                return self.list_pop(args[0], result, result_bar)
            if key == ("method", "copy") and len(args) == 1 and not value.keywords:
                return self.accumulate(args[0], A.call(rt(runtime.copy_value), [result_bar])) \
                    if self.is_active(args[0]) else []
            return self.apply_rule(stmt, key, args, value.keywords, result, result_bar, target, value)
        if kind is gast.Attribute:
            key = ("attr", value.attr)
            return self.apply_rule(stmt, key, [value.value], [], result, result_bar, target, value)
        if kind is gast.Subscript:
            obj = value.value
            if not self.is_active(obj):
                return []
            # A direct temporary has this read as its only use: start from zero, since
            # its adjoint is never reset (in a loop it would carry the last iteration's).
            if self._dense_bar(obj.id) and self._basic_index(value.slice):
                # An array adjoint allocated once: accumulate in place, no helper call.
                into = A.subscript(A.name(self.bar(obj.id)), A.deepcopy(value.slice), gast.Store())
                update = gast.AugAssign(target=into, op=gast.Add(), value=result_bar)
                # a float element's adjoint (optimize/keep_real_adjoints_real.py adds the real part of others)
                update.diffc_scalar_read = self.scalar(target)
                return [update]
            start = A.const(0.0) if obj.id in self.direct else A.name(self.bar(obj.id))
            self.accumulated.add(self.bar(obj.id))
            return [A.assign(self.bar(obj.id), A.call(rt(runtime.acc_item), [
                start, A.name(obj.id), index_value(value.slice), result_bar]))]
        if kind in (gast.Tuple, gast.List):
            out = []
            for k, elt in enumerate(value.elts):
                if self.is_active(elt):
                    out += self.accumulate(elt, A.call(rt(runtime.item), [A.deepcopy(result_bar), A.const(k)]))
            return out
        if kind is gast.Dict:
            out = []
            for key_atom, elt in zip(value.keys, value.values):
                if self.is_active(elt):
                    out += self.accumulate(elt, A.call(rt(runtime.item), [A.deepcopy(result_bar),
                                                                          A.deepcopy(key_atom)]))
            return out
        if kind is gast.JoinedStr:
            return []
        self.fail(UnsupportedSyntax, f"cannot differentiate {kind.__name__}", value,
                  hint="compute the value with arithmetic, calls or indexing")

    def _dense_bar(self, name):
        """Whether the adjoint of name can be a zeros array allocated when the sweep starts.

        Only for float arrays bound once, unconditionally (their shape cannot
        change, and they exist when the adjoint sweep starts), and never for the
        returned name: its adjoint is the seed, which a caller may pass as the
        plain zero 0.0 (a helper's result that is overwritten unused)."""
        if isinstance(self.returned, gast.Name) and name == self.returned.id:
            return False
        bound_at_top = name in self.params or any(
            isinstance(st, gast.Assign) and isinstance(st.targets[0], gast.Name) and st.targets[0].id == name
            for st in self.body)
        if K.is_array(self.kinds.get(name)) and not self.multiply_defined(name) \
                and name not in self.direct and bound_at_top:
            self.dense.add(name)
            self.accumulated.add(self.bar(name))
            return True
        return False

    def _basic_index(self, index):
        """An index without integer arrays or masks: in-place += adds once per element."""
        if isinstance(index, gast.Tuple):
            return all(self._basic_index(e) for e in index.elts)
        if isinstance(index, gast.Slice):
            return all(p is None or self._int_atom(p) for p in (index.lower, index.upper, index.step))
        if isinstance(index, gast.Constant):
            return index.value is None or index.value is Ellipsis or type(index.value) is int
        return self._int_atom(index)

    def _int_atom(self, atom):
        if isinstance(atom, gast.Constant):
            return type(atom.value) is int
        return isinstance(atom, gast.Name) and self._atom_kind(atom) == K.INT

    def list_pop(self, lst, result, result_bar):
        """v = lst.pop(): put v back, then give its adjoint back to the list's adjoint."""
        out = [A.expr_stmt(A.method_call(A.name(lst.id), "append", [A.deepcopy(result)]))]
        if self.is_active(lst):
            self.accumulated.add(self.bar(lst.id))
            out.append(A.assign(self.bar(lst.id), A.call(rt(runtime.unpop_bar), [
                A.name(self.bar(lst.id)), A.name(lst.id), A.deepcopy(result_bar)])))
        return out

    def _shaped_like_result(self, node):
        """Operands of the elementwise operation `node` that certainly have its result's shape.

        In: a BinOp (not @), else nothing is known.  Out: the names of operands whose shape
        is the result's: `x op x` has x's shape; with the other operand a number
        (kind scalar or int, a 0-d value) the array operand keeps its shape."""
        if isinstance(node, gast.BinOp) and not isinstance(node.op, gast.MatMult):
            left, right = node.left, node.right
            if isinstance(left, gast.Name) and isinstance(right, gast.Name) and left.id == right.id \
                    and not hasattr(left, "diffc_global"):
                return {left.id}
            out = set()
            for a, b in ((left, right), (right, left)):
                if isinstance(a, gast.Name) and not hasattr(a, "diffc_global") \
                        and (isinstance(b, gast.Constant) and type(b.value) in (int, float)
                             or self._atom_kind(b) in (K.SCALAR, K.INT)):
                    out.add(a.id)
            return out
        return set()

    def apply_rule(self, stmt, key, args, keywords, result, result_bar, target, node):
        active_args = [a for a in args if self.is_active(a)] + \
            [k.value for k in keywords if self.is_active(k.value)]
        if not active_args:
            return []
        if key is not None and R.is_nondiff(key):
            return []
        rule = R.adjoint_rule(key) if key is not None else None
        if rule is None and R.refusal(key) is not None:
            self.fail(NoDerivativeRule, R.refusal(key)[0], node, hint=R.refusal(key)[1])
        if rule is None:
            name = describe(key, node)
            self.fail(NoDerivativeRule, f"no derivative rule for {name}", node,
                      hint="register one with @diffc.adjoint, or compute this value from "
                           "inputs that are not differentiated")
        params = rule.params[2:]
        bindings = {rule.params[0]: result, rule.params[1]: result_bar}
        try:
            bound_args = bind_rule_arguments(params, args, keywords, rule.kwonly, bool(rule.vararg))
        except RuleBindingError as problem:
            if problem.problem == "too many":
                self.fail(NoDerivativeRule, f"too many arguments for the rule of {describe(key, node)}",
                          node, hint="pass the optional arguments by keyword, or register a rule "
                                     "with @diffc.adjoint that takes them")
            self.fail(NoDerivativeRule, f"the rule for {describe(key, node)} does not support the "
                      f"keyword argument {problem.name!r}", node,
                      hint="drop the keyword, or register a rule with @diffc.adjoint that takes it")
        bound = [a for _, a in bound_args.positional]
        vararg_atoms = bound_args.extra if rule.vararg else None
        bindings.update(bound_args.positional + bound_args.keywords)
        stmts, expr = self._cleaned(*rule.instantiate(bindings, self.namer, vararg_atoms), args, target, node)
        # Which atom each contribution belongs to.
        if rule.vararg:
            targets = list(bound) + list(vararg_atoms)
        else:
            targets = [bindings.get(p) for p in params]
        out = list(stmts)
        parts = self._contribution_parts(rule, key, expr, targets, target, node, out)
        targets, parts = merge_equal_contributions(node, targets, parts)
        for atom, part in zip(targets, parts):
            if atom is None or not self.is_active(atom):
                continue
            if isinstance(part, gast.Constant) and part.value is None:
                continue
            out += self.accumulate(atom, part)
        self._refuse_underived(key, node, keywords, params, bound, len(parts))
        if self.guard_zero and not self.scalar(target) and not zero_safe(key):
            out = self.skip_when_zero(result_bar, out)
        return out

    def _cleaned(self, stmts, expr, args, target, node):
        """An instantiated adjoint rule without what the kinds and shapes make useless:
        unbroadcast for a scalar result or operands shaped like the result, concatenation
        helpers where `+` adds numbers or arrays."""
        if self.scalar(target):
            return [drop_unbroadcast(s) for s in stmts], drop_unbroadcast(expr)
        # `a + b` concatenates only when both are lists or tuples: one operand
        # known to be a number or an array makes it an addition.
        plain = {a.id for a in args if isinstance(a, gast.Name)
                 and self._atom_kind(a) in (K.SCALAR, K.INT, K.VECTOR, K.ARRAY)}
        if all(self._atom_kind(a) in (K.SCALAR, K.INT, K.VECTOR, K.ARRAY) for a in args):
            plain = None
        if plain is None or plain:
            stmts = [drop_concatenation(s, plain) for s in stmts]
            expr = drop_concatenation(expr, plain)
        # Operands shaped exactly like the result need no unbroadcast.
        same = self._same_shape_as_result(node, target)
        if same:
            stmts = [drop_unbroadcast(s, same) for s in stmts]
            expr = drop_unbroadcast(expr, same)
        return stmts, expr

    def _same_shape_as_result(self, node, target):
        same = self._shaped_like_result(node)
        if target in self.shapes:
            same |= {n for n, shape in self.shapes.items() if shape == self.shapes[target]}
        return same

    def _contribution_parts(self, rule, key, expr, targets, target, node, out):
        """One contribution expression per target atom, from the rule's returned expression
        (statements computing them are appended to out)."""
        if not rule.inline:
            # A rule called at run time: its tuple (or single value) split into one
            # contribution per target, each summed to its target's shape.
            holder = self.namer.fresh("_parts")
            needed = tuple(k for k, t in enumerate(targets) if t is not None and self.is_active(t))
            out.append(A.assign(holder, A.call(rt(runtime_calls.rule_parts), [
                expr, A.const(len(targets)), gast.Tuple(elts=[A.const(k) for k in needed], ctx=gast.Load())])))
            parts = [A.subscript(A.name(holder), A.const(k)) for k in range(len(targets))]
            if not self.scalar(target):
                parts = [A.call(rt(runtime.unbroadcast), [p, A.deepcopy(t)]) if t is not None else p
                         for p, t in zip(parts, targets)]
        elif isinstance(expr, gast.Tuple):
            parts = list(expr.elts)
        elif rule.vararg:
            # A vararg rule returns a helper's tuple: index it at run time.
            holder = self.namer.fresh("_parts")
            out.append(A.assign(holder, expr))
            parts = [A.subscript(A.name(holder), A.const(k)) for k in range(len(targets))]
        else:
            parts = [expr]
        if rule.inline and key in R.USER_KEYS and not self.scalar(target) and not rule.vararg:
            # A user's rule returns contributions shaped like the result (`result_bar * y`):
            # sum each over the axes broadcasting added (dropped below when the shapes agree).
            parts = [A.call(rt(runtime.unbroadcast), [p, A.deepcopy(t)])
                     if t is not None and not (isinstance(p, gast.Constant) and p.value is None) else p
                     for p, t in zip(parts, targets)]
            same = self._same_shape_as_result(node, target)
            parts = [drop_unbroadcast(p, same) for p in parts]
        return parts

    def _refuse_underived(self, key, node, keywords, params, bound, n_parts):
        """NoDerivativeRule for a differentiated argument past the rule's contributions."""
        keyword_active = [k for k in keywords if self.is_active(k.value) and k.arg in params
                          and params.index(k.arg) >= n_parts]
        for k in keyword_active:
            self.fail(NoDerivativeRule, f"{describe(key, node)} is not differentiable in its "
                      f"argument {k.arg!r}, which carries a derivative: {self.origin(k.value)}", node,
                      hint="keep that argument free of differentiated values, or register a rule "
                           "with @diffc.adjoint")
        for position, atom in enumerate(bound[n_parts:], n_parts):
            if self.is_active(atom):
                which = f"argument {position + 1}" + (f" ({params[position]})" if position < len(params) else "")
                self.fail(NoDerivativeRule, f"{describe(key, node)} is not differentiable in its {which}, "
                          f"which carries a derivative: {self.origin(atom)}", node,
                          hint="keep that argument free of differentiated values, or register a rule "
                               "with @diffc.adjoint")

    def skip_when_zero(self, result_bar, stmts):
        """Run a shape-sensitive rule only when the result's adjoint is not the plain zero 0.0.

        An adjoint that never received a contribution (a branch not taken, a value
        not used) is the float 0.0; reshaping or matrix-multiplying it would fail,
        and every contribution it gives is zero anyway."""
        direct = [s.targets[0].id for s in stmts if isinstance(s, gast.Assign)
                  and isinstance(s.targets[0], gast.Name) and s.targets[0].id in self._direct_bars()]
        test = A.call(rt(runtime.nonzero), [A.deepcopy(result_bar)])
        return [gast.If(test=test, body=stmts, orelse=[A.assign(name, A.const(0.0)) for name in direct])]

    def _direct_bars(self):
        return {self.bar(n) for n in self.direct}

    # ---------------------------------------------------------- user calls
    def maybe_user_call(self, x, call, fwd_value):
        """(forward expression, adjoint builder or None) for a call of a user function."""
        key, _ = call_key(self.info, call)
        if not is_user_function(key) or (R.adjoint_rule(key) is not None) or R.is_nondiff(key):
            return fwd_value, None
        args = self.bind_call(key, call)
        self.module.check_argument_writes(key, call, self.info, args, x, self.load_count, self.atom_kind)
        mask = tuple(self.is_active(a) for a in args)
        if x not in self.active or not any(mask):
            return self.primal_call(key, args, call), None
        kinds = tuple(self._atom_kind(a) for a in args)
        if self.module.differentiable:
            if argument_effects.draws_random(self.module.info_for(key).node):
                self.fail(UnsupportedSyntax, "this call draws random numbers from a generator it does not make; "
                          "a derivative of its derivative runs it again, which would draw other numbers", call,
                          hint="draw the numbers in the differentiated function and pass them in")
            return self._primal_call_on_copies(key, args, call), self.joint_call_adjoint(key, args, mask, kinds, x)
        fwd_name, adj_name, n_out = self.module.split_callee(key, mask, kinds, call, self.info)
        forward = A.call(fwd_name, [A.deepcopy(a) for a in args] + [A.name(TAPE)])
        self.module.uses_tape(self)
        kept = self._kept_by_callee(adj_name, args)

        def adjoint_builder(result_bar):
            holder = self.namer.fresh("_grads")
            call = A.call(adj_name, [A.name(TAPE), self.callee_seed(adj_name, x, result_bar)])
            adjoint_call = A.assign(holder, call)
            adjoint_call.diffc_reads = kept
            return [adjoint_call] + self._accumulate_callee_grads(holder, args, mask)
        return forward, adjoint_builder

    def _kept_by_callee(self, adj_name, args):
        """The caller's names whose objects a split callee's tape may keep by reference.

        The callee's adjoint reads them (through its tape) where the call's adjoint runs,
        so an in-place write into them after the call must be undone before it: the
        adjoint call counts as reading them (`diffc_reads`, transform/tape_markers.py).
        Every name related to a kept argument counts (`cell = Held(w, y)`: keeping cell
        keeps y)."""
        positions = self.module.taped_arguments(adj_name)
        kept = {a.id for k, a in enumerate(args)
                if isinstance(a, gast.Name) and not hasattr(a, "diffc_global")
                and (positions is None or k in positions)}
        related = self.aliases.related
        for name in list(kept):
            kept |= related.get(name, set())
        return kept

    def _primal_call_on_copies(self, key, args, call):
        """The primal call, given copies of the arguments the callee writes into in place.

        In code differentiated again the callee's joint gradient recomputes it from the
        arguments when the adjoint runs; they must hold the values they had at the call
        (`a = update(a, d)` with `v += d` in update).  The caller does not read them after
        the call (module.check_argument_writes), so a copy changes no value it sees."""
        mutated = self.module.mutated_params(key)
        if not mutated:
            return self.primal_call(key, args, call, differentiated=True)
        params = self.module.info_for(key).params
        # the items too: `for p in params: p -= ...` writes into the arrays a list holds
        copied = [A.call(rt(runtime_pure.copy_held), [A.deepcopy(a)]) if p in mutated and isinstance(a, gast.Name)
                  else a for p, a in zip(params, args)]
        return self.primal_call(key, copied, A.call(A.deepcopy(call.func), [A.deepcopy(a) for a in copied]),
                                differentiated=True)

    def joint_call_adjoint(self, key, args, mask, kinds, x):
        """Adjoint builder calling the callee's joint gradient (module.joint_callee)."""
        grad_name = self.module.joint_callee(key, mask, kinds)

        def adjoint_builder(result_bar):
            holder = self.namer.fresh("_grads")
            call = A.call(A.deepcopy(grad_name), [A.deepcopy(a) for a in args]
                          + [self.callee_seed(grad_name, x, result_bar)])
            return [A.assign(holder, call)] + self._accumulate_callee_grads(holder, args, mask)
        return adjoint_builder

    def callee_seed(self, adjoint_name, x, result_bar):
        """The seed to give a callee's adjoint for the adjoint result_bar of its result x.

        A callee's adjoint owns its seed and may update it in place (take_item for a
        write into the array it returns); result_bar may be shared (the adjoint of
        `a + b` is one array for both operands), so it gets a copy unless x is a
        number or the callee never writes into its seed (analysis/seed_writes.py)."""
        if self.scalar(x) or self.module.keeps_seed(adjoint_name.id):
            return A.deepcopy(result_bar)
        return A.call(rt(runtime.copy_value), [A.deepcopy(result_bar)])

    def _accumulate_callee_grads(self, holder, args, mask):
        """Add holder[k], the callee's k-th adjoint, to the k-th active argument's adjoint."""
        out, k = [], 0
        for a, active in zip(args, mask):
            if active:
                out += self.accumulate(a, A.subscript(A.name(holder), A.const(k)))
                k += 1
        return out


    # ------------------------------------------------------- in-place writes
    def item_write(self, stmt, target):
        y = target.value.id
        index = target.slice
        value = stmt.value
        if y in self.written and K.is_array(self.kinds.get(y)):
            save = marker("save_item", y, index, True)
        else:
            save = marker("save_item", y, index, False)
        forward = [save, stmt]
        adjoint = []
        if y in self.active:
            y_bar = self.bar(y)
            self.accumulated.add(y_bar)
            taken = A.call(rt(runtime.take_item), [A.name(y_bar), index_value(index)])
            if self.is_active(value):
                if not self.holds_floats(y):
                    # an integer or boolean y truncates what it is given (written_bar)
                    dtype_read = A.name(y)
                    # only y's dtype is read: its in-place writes need not be undone (A.names_read)
                    dtype_read.diffc_dtype_only = not self.multiply_defined(y)
                    taken = A.call(rt(runtime.written_bar), [taken, dtype_read])
                region = K.shape_of_value(A.subscript(A.name(y), index), self.shapes, self.kinds)
                same_shape = region is not None and self.shapes.get(value.id) == region
                contribution = taken if same_shape else \
                    A.call(rt(runtime.unbroadcast), [taken, A.deepcopy(value)])
                adjoint += self.accumulate(value, contribution)
            else:
                adjoint.append(A.expr_stmt(A.call(rt(runtime.zero_item), [A.name(y_bar),
                                                                          index_value(index)])))
            if _whole_index(index) and self.kinds.get(y) not in (K.VECTOR, K.SCALARS):
                # a 0-d array's adjoint is a number, which take_item cannot zero in place
                adjoint.append(A.assign(y_bar, A.call(rt(runtime.buffer_part), [A.name(y_bar), A.name(y_bar)])))
        adjoint.append(marker("restore_item", y, A.deepcopy(index), save.diffc_marker[3]))
        return forward, adjoint

    def expression_statement(self, stmt):
        call = stmt.value
        if not isinstance(call, gast.Call):
            return [stmt], []
        refuse_library_mutation(self, call, stmt)
        func = call.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.info.local_names:
            obj = func.value.id
            if func.attr == "append" and len(call.args) == 1:
                adjoint = []
                if obj in self.active:
                    bar = self.bar(obj)
                    self.accumulated.add(bar)
                    taken = A.call(rt(runtime.pop_bar), [A.name(bar)])
                    if self.is_active(call.args[0]):
                        adjoint += self.accumulate(call.args[0], taken)
                    else:
                        adjoint.append(A.expr_stmt(taken))
                adjoint.append(marker("restore_append", obj))
                return [stmt], adjoint
            if func.attr == "extend" and len(call.args) == 1:
                seq = call.args[0]
                n = A.call(A.global_ref(builtins.len, "len"), [A.deepcopy(seq)])
                adjoint = []
                if obj in self.active:
                    bar = self.bar(obj)
                    self.accumulated.add(bar)
                    taken = A.call(rt(runtime.pop_bars), [A.name(bar), n])
                    if self.is_active(seq):
                        adjoint += self.accumulate(seq, taken)
                    else:
                        adjoint.append(A.expr_stmt(taken))
                adjoint.append(marker("restore_extend", obj, A.deepcopy(n)))
                return [stmt], adjoint
            if func.attr in activity_mod.MUTATING_METHODS:
                if obj in self.activity.varied or obj in self.activity.useful:
                    self.fail(UnsupportedSyntax, f"differentiating through {obj}.{func.attr}(...) is "
                              "not supported", stmt, hint="build a new list instead")
                return [stmt], [marker("restore_unsupported", obj, stmt)]
        key, args = call_key(self.info, call)
        if is_user_function(key) and R.adjoint_rule(key) is None:
            args = self.bind_call(key, call)
            self.module.check_argument_writes(key, call, self.info, args, None, self.load_count, self.atom_kind)
            return [A.expr_stmt(self.primal_call(key, args, call))], []
        return [stmt], []


def _whole_index(index):
    """``y[...]`` or ``y[()]``: the only writes of a 0-d array."""
    if isinstance(index, gast.Constant):
        return index.value is Ellipsis
    return isinstance(index, gast.Tuple) and not index.elts


BINOPS = {}
UNARY = {}


def _init_tables():
    import operator
    BINOPS.update({gast.Add: operator.add, gast.Sub: operator.sub, gast.Mult: operator.mul,
                    gast.Div: operator.truediv, gast.Pow: operator.pow, gast.FloorDiv: operator.floordiv,
                    gast.Mod: operator.mod, gast.MatMult: operator.matmul, gast.BitAnd: operator.and_,
                    gast.BitOr: operator.or_, gast.BitXor: operator.xor, gast.LShift: operator.lshift,
                    gast.RShift: operator.rshift})
    UNARY.update({gast.USub: operator.neg, gast.UAdd: operator.pos})


_init_tables()


def _unparse(node):
    import astor
    try:
        return astor.to_source(gast.gast_to_ast(node)).strip()
    except Exception:
        return "value"


def _stored_in(stmts):
    names = set()
    for s in stmts:
        names |= A.names_stored(s)
    return names


class _CalleeView(FunctionSweep):
    """What alias_sources needs of a function, for a callee seen from its caller."""

    def __init__(self, module, info):
        self.module = module
        self.info = info
        self.params = info.params
        self.kinds = K.infer(info, {p: K.UNKNOWN for p in info.params}, info.resolve_static)
        self.source = info.source



def returned_alias_positions(module, info):
    """Positions of the parameters whose objects a user function's result may share or hold."""
    view = _CalleeView(module, info)
    returned = info.node.body[-1].value
    if not (isinstance(returned, gast.Name) and isinstance(getattr(returned, "diffc_global", info), FunctionInfo)):
        return set()            # (a global; but a local function returned holds what it captures)
    # followed through the flow: a parameter rebound to a copy (`u = u.copy()`) is not returned
    report = aliases_mod.analyze(info.node.body, lambda v: alias_sources(view, v), activity_mod.MUTATING_METHODS,
                                 entry=info.params)
    return {k for k, p in enumerate(info.params) if p in report.returned_entry}
