"""forward: an ANF function -> one function computing primal and tangent together.

Input: an ANF `FunctionInfo` (see anf.py), the active (differentiated)
parameters and the kinds of all parameters.
Output: gast statements where every primal statement ``x = rhs`` is followed
by its tangent statement ``x_dot = ...`` (instantiated from the tangent rule
templates), plus the returned atom and the expression of its tangent.
Invariants of the output:
  * a tangent ``x_dot`` exists exactly for the active names (varied and
    useful, see analysis/activity.py); active parameters arrive as arguments,
    other active names get their tangent at each of their definitions, so a
    tangent is never stale;
  * a zero tangent is represented by absence: rule terms whose only tangents
    are zero are dropped, and an active name defined from constants gets
    ``0.0`` (scalars) or ``zeros_dot(x)`` (anything else), so array tangents
    always support the operations their primal does;
  * a tangent has its primal's structure: the same shape for arrays, plain
    lists/tuples/dicts of tangents for containers (so ``+`` on lists still
    concatenates); in-place writes, ``append``/``extend``/``pop`` update the
    tangent container through runtime helpers that materialize it on demand;
  * a tangent rule names the tangents it takes (``a_dot`` for parameter
    ``a``); its other parameters (shapes, indices, axes) carry no derivative;
  * values copied for value semantics (``copy_value``) have their tangents
    copied too, so no tangent buffer is shared between two names that are
    later written in place;
  * a call of a user function with active arguments becomes
    ``x, x_dot = _jvp_g(args..., active arg tangents...)`` (one generated
    function per activity mask and argument kinds; recursion works because
    the name is reserved before the callee is built).
Control flow is kept as is: ``if``/``for``/``while`` tests and loop bounds
are primal values and need no tape.
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime
from .. import runtime_calls
from .. import rules as R
from ..analysis import activity as activity_mod
from ..analysis import origin as origin_mod
from ..analysis import kinds as K
from ..errors import NoDerivativeRule, UnsupportedSyntax
from ..parse import FunctionInfo
from . import callee_writes, dynamic_calls
from .context import CompilationContext
from .reverse import BINOPS, UNARY, call_key, check_object_indexes, integer_cast, is_user_function
from .rule_calls import RuleBindingError, bind_rule_arguments, describe, drop_unbroadcast
from .sweep import FunctionSweep, index_value, rt
from .library_mutations import refuse_library_mutation

# Placeholder bound to the tangent parameters of a rule whose argument is not active.
_ZERO = "__diffc_zero__"


class ForwardFunction(FunctionSweep):
    """Builds the tangent-carrying body of one function (see module docstring).

    Kinds, value semantics and aliasing refusals come from FunctionSweep, shared
    with reverse mode, so both modes accept the same programs and compute the
    same primal values; argument binding and primal calls too."""

    views_allowed = False

    def __init__(self, module: CompilationContext, info, active_params, param_kinds):
        self.module = module
        self.info = info
        self.namer = info.namer
        self.source = info.source
        self.params = info.params
        self.active_params = list(active_params)
        self.body = A.deepcopy(info.node.body)
        self.kinds = K.infer(info, param_kinds, info.resolve_static, self._callee_kind)
        self.body = callee_writes.rewrite(self)        # `fill(out)` writing into out
        self._iterate_written_sequences_directly()
        self.share_writes_through_views()
        last = self.body[-1]
        assert isinstance(last, gast.Return)
        self.returned = last.value
        # Generated code differentiated again: its tapes carry the tangents of what they hold,
        # and are shared with callees, so they always have a tangent.
        tapes = {n for n in set(info.local_names) | set(self.params) if _is_generated_tape(info, n)}
        # Calls of function values first: they may rename what is returned (a closure).
        self.body = dynamic_calls.lower(
            self.body, self, dynamic_calls.varied_names(self.body, self.active_params + sorted(tapes),
                                                        self._carries), call_key)
        returned = {self.returned.id} if isinstance(self.returned, gast.Name) else set()
        self.activity = activity_mod.analyze(self.body, self.active_params + sorted(tapes),
                                             returned | tapes, self._carries)
        self.active = self.activity.active | tapes
        check_object_indexes(self)
        self.written = self._written_in_place()
        self.holds = self._container_contents()
        self.alias = {}               # temporary holding an old value -> the name it copies
        self._count_defs()
        self.check_aliasing()
        self.load_count = {}
        for node in A.walk(gast.Module(body=self.body, type_ignores=[])):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
                self.load_count[node.id] = self.load_count.get(node.id, 0) + 1

    def fail(self, cls, msg, node, hint=None):
        raise cls(msg, node, self.source, hint=hint)

    def _carries(self, call):
        key, _ = call_key(self.info, call)
        return key is None or not (R.is_nondiff(key) or integer_cast(self.info, call))

    def nonzero_with_tangent(self, value):
        """``nonzero(b)`` (generated reverse code skipping a rule while the adjoint b is the
        plain zero 0.0), differentiated again: also taken while b's tangent is not zero.  A
        computed adjoint can be 0.0 with a nonzero tangent (2 * x at x = 0), and skipping
        would drop that tangent (a hessian entry silently 0).  Any other value: unchanged."""
        if not isinstance(value, gast.Call) or len(value.args) != 1 or not self.is_active(value.args[0]):
            return value
        key, _ = call_key(self.info, value)
        if key is not runtime.nonzero:
            return value
        return A.call(rt(runtime.nonzero_either), [value.args[0], A.name(self.dot(value.args[0].id))])

    # ------------------------------------------------------------ tangents
    def dot(self, name):
        return self.namer.dot(self.alias.get(name, name))

    def is_active(self, atom):
        return isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global") \
            and self.alias.get(atom.id, atom.id) in self.active

    def dot_of(self, atom):
        """The tangent of an atom as an expression, or None when it is zero."""
        return A.name(self.dot(atom.id)) if self.is_active(atom) else None

    def zero_of(self, atom):
        """An explicit zero tangent for atom (0.0 for numbers, zeros_dot otherwise)."""
        if isinstance(atom, gast.Constant) or self.scalar_atom(atom):
            return A.const(0.0)
        return A.call(rt(runtime.zeros_dot), [A.deepcopy(atom)])

    def scalar_atom(self, atom):
        return self._atom_kind(atom) in (K.SCALAR, K.INT)

    # ------------------------------------------------------------- driver
    def build(self):
        """(statements, returned atom, tangent expression of the returned atom)."""
        entry = []
        for p in self.params:
            if p in self.written and not _is_generated_tape(self.info, p):
                # Writes into an argument (or its tangent) must never reach the caller.
                entry.append(A.assign(p, A.call(rt(runtime.copy_value), [A.name(p)])))
                if p in self.active_params and p in self.active:
                    entry.append(A.assign(self.dot(p), A.call(rt(runtime.copy_value), [A.name(self.dot(p))])))
            if p in self.active and p not in self.active_params:
                # Varied later (p = p + x): its tangent starts at zero.
                entry.append(A.assign(self.dot(p), self.zero_of(A.name(p))))
        A.located_all(entry, self.info.node)
        body = entry + self.block(self.body[:-1])
        ret = self.returned
        ret_dot = self.dot_of(ret) or self.zero_of(ret)
        return body, ret, ret_dot

    def block(self, stmts):
        out = []
        for stmt in stmts:
            out.extend(A.located_all(self.statement(stmt), stmt))
        return out

    def statement(self, stmt):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                return self.assign(stmt, target.id, stmt.value)
            return self.item_write(stmt, target)
        if isinstance(stmt, gast.If):
            return [gast.If(test=self.nonzero_with_tangent(stmt.test), body=self.block(stmt.body) or [gast.Pass()],
                            orelse=self.block(stmt.orelse))]
        if isinstance(stmt, gast.For):
            return [gast.For(target=stmt.target, iter=stmt.iter, body=self.block(stmt.body) or [gast.Pass()],
                             orelse=[], type_comment=None)]
        if isinstance(stmt, gast.While):
            return [gast.While(test=stmt.test, body=self.block(stmt.body) or [gast.Pass()], orelse=[])]
        if isinstance(stmt, gast.Expr):
            return self.expression_statement(stmt)
        if isinstance(stmt, (gast.Raise, gast.Assert, gast.Pass)):
            return [stmt]
        if isinstance(stmt, gast.Return):
            self.fail(UnsupportedSyntax, "return must be the last statement", stmt)
        self.fail(UnsupportedSyntax, f"{type(stmt).__name__} is not supported", stmt)

    # --------------------------------------------------------- assignment
    def forward_value(self, target, value, stmt=None):
        """The primal expression, copying values that are modified in place (as reverse mode does)."""
        if stmt is not None:
            return FunctionSweep.forward_value(self, target, value, stmt)
        if target in self.written and not isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant,
                                                              gast.List, gast.Dict, gast.Tuple)):
            if not self._fresh_array(value):
                return A.call(rt(runtime.copy_value), [value])
        if isinstance(value, (gast.Name, gast.Subscript, gast.Attribute)) and target not in self.written:
            base = value.value if isinstance(value, (gast.Subscript, gast.Attribute)) else value
            if isinstance(base, gast.Name) and base.id in self.written:
                return A.call(rt(runtime.copy_value), [value])
        return value

    def assign(self, stmt, x, value):
        primal = self.forward_value(x, value, stmt)
        copied = primal is not value
        if isinstance(value, gast.Call):
            user = self.user_call(stmt, x, value, copied)
            if user is not None:
                return user
        if x not in self.active:
            out = [A.assign(x, self.nonzero_with_tangent(primal))]
            if isinstance(value, gast.Call) and self._is_list_pop(value):
                out += self.pop_without_use(value)
            return out
        pre = []
        if x in A.names_loaded(value):
            # x = f(x, ...): the rule needs the old x, which the primal statement overwrites.
            old = self.namer.fresh("_old")
            self.alias[old] = x
            keep = A.name(x)
            if self.module.differentiable and x in self.written:
                # Differentiated again: an alias of an array written in place later would
                # be refused there (flow-insensitively), so hold a copy.
                keep = A.call(rt(runtime.copy_value), [keep])
            pre.append(A.assign(old, keep))
            value = A.rename(A.deepcopy(value), {x: old})
            primal = A.rename(primal, {x: old})
        stmts, tangent, dropped = self.tangent_of(value, A.name(x), x)
        if tangent is None:
            tangent = self.zero_of(A.name(x))
        else:
            if dropped and not self.scalar_atom(A.name(x)):
                tangent = A.call(rt(runtime.fit_dot), [tangent, A.name(x)])
            if copied or x in self.written:
                # x is written in place later: its tangent must be a buffer of its own.
                tangent = A.call(rt(runtime.copy_value), [tangent])
            elif self._may_share_written_tangent(value, x, tangent):
                # an operand whose tangent x's may be is written in place later
                tangent = A.call(rt(runtime_calls.owned_tangent), [tangent])
        return pre + [A.assign(x, primal)] + stmts + [A.assign(self.dot(x), tangent)]

    def _may_share_written_tangent(self, value, x, tangent):
        """Whether x's tangent may be the very tangent object of an operand written in place
        later: `t = v + 1.0` has tangent `cat_left(v_dot, v, 1.0)`, which is v_dot itself, and
        a later `v[i:] += c` updates v_dot in place while t (a new array) keeps its value."""
        if self.scalar_atom(A.name(x)) or not self._reads_written(value):
            return False
        top = tangent
        while isinstance(top, gast.Call) and getattr(top.func, "diffc_global", None) is runtime.fit_dot:
            top = top.args[0]
        return not isinstance(top, (gast.BinOp, gast.UnaryOp, gast.Constant))

    def tangent_of(self, value, result, target):
        """(statements, tangent expression or None, whether zero terms were dropped) of `value`."""
        kind = type(value)
        if kind is gast.Name:
            return [], self.dot_of(value), False
        if kind in (gast.Constant, gast.Compare, gast.JoinedStr):
            return [], None, False
        if kind is gast.BinOp:
            return self.apply_rule(BINOPS.get(type(value.op)), [value.left, value.right], [], result, value)
        if kind is gast.UnaryOp:
            if isinstance(value.op, (gast.Not, gast.Invert)):
                return [], None, False
            return self.apply_rule(UNARY[type(value.op)], [value.operand], [], result, value)
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
                    self.fail(NoDerivativeRule, "cannot differentiate a call of a local variable", value,
                              hint="call the function by its name")
                return [], None, False
            if key == ("method", "pop") and len(args) in (1, 2):
                return [], self.list_pop(args[0], result, args[1:]), False
            if key == ("method", "copy") and len(args) == 1 and not value.keywords:
                d = self.dot_of(args[0])
                return [], A.call(rt(runtime.copy_value), [d]) if d is not None else None, False
            return self.apply_rule(key, args, value.keywords, result, value)
        if kind is gast.Attribute:
            return self.apply_rule(("attr", value.attr), [value.value], [], result, value)
        if kind is gast.Subscript:
            d = self.dot_of(value.value)
            if d is None:
                return [], None, False
            return [], A.call(rt(runtime.item), [d, index_value(value.slice)]), False
        if kind in (gast.Tuple, gast.List):
            if not any(self.is_active(e) for e in value.elts):
                return [], None, False
            elts = [self.dot_of(e) or self.zero_of(e) for e in value.elts]
            return [], kind(elts=elts, ctx=gast.Load()), False
        if kind is gast.Dict:
            if not any(self.is_active(v) for v in value.values):
                return [], None, False
            return [], gast.Dict(keys=[A.deepcopy(k) for k in value.keys],
                                 values=[self.dot_of(v) or self.zero_of(v) for v in value.values]), False
        self.fail(UnsupportedSyntax, f"cannot differentiate {kind.__name__}", value)

    # ------------------------------------------------------------- rules
    def apply_rule(self, key, args, keywords, result, node):
        """(statements, tangent expression of the result, whether zero terms were pruned) for
        a call of the primitive `key`, from its tangent rule."""
        if not any(self.is_active(a) for a in args) and not any(self.is_active(k.value) for k in keywords):
            return [], None, False
        if key is not None and R.is_nondiff(key):
            return [], None, False
        rule = R.tangent_rule(key) if key is not None else None
        if rule is None and R.refusal(key) is not None:
            self.fail(NoDerivativeRule, R.refusal(key)[0], node, hint=R.refusal(key)[1])
        if rule is None:
            self.fail(NoDerivativeRule, f"no tangent (forward-mode) rule for {describe(key, node)}", node,
                      hint="register one with @diffc.tangent, or compute this value from inputs "
                           "that are not differentiated")
        bindings = {rule.params[0]: result}
        rest = rule.params[1:] + [k for k in rule.kwonly if k.endswith("_dot")]
        dot_params = {p[:-4]: p for p in rest if p.endswith("_dot") and p[:-4] in rest}
        if rule.vararg and rule.vararg + "_dot" in rest:
            return self._apply_tuple_of_tangents_rule(rule, key, args, keywords, node, bindings, rest, dot_params)
        if rule.vararg and not dot_params:
            return self._apply_args_and_dots_rule(rule, args, bindings, rest)
        return self._apply_plain_rule(rule, key, args, keywords, result, node, bindings, rest, dot_params)

    def _apply_tuple_of_tangents_rule(self, rule, key, args, keywords, node, bindings, rest, dot_params):
        """einsum(subscripts, *operands): the rule takes (result, subscripts, operands_dot,
        *operands); the vararg's tangents arrive as ONE tuple (0.0 for a constant operand)."""
        live_dots = set()
        vdot = rule.vararg + "_dot"
        primal_params = [p for p in rest if p != vdot and p not in dot_params.values()]
        for kw in keywords:
            # keyword-only options of the rule (einsum's optimize=): constants, bound by name
            if kw.arg not in rule.kwonly or kw.arg.endswith("_dot") or self.is_active(kw.value):
                self.fail(NoDerivativeRule, f"the tangent rule for {describe(key, node)} does not support "
                          f"the keyword argument {kw.arg!r}", node)
            bindings[kw.arg] = kw.value
        bound_args = bind_rule_arguments(primal_params, args, vararg=True)
        extra = bound_args.extra
        for p, a in bound_args.positional:
            bindings[p] = a
            if self.is_active(a) and p in dot_params:
                d = self.dot_of(a)
                bindings[dot_params[p]] = d
                live_dots.add(d.id)
            elif p in dot_params:
                bindings[dot_params[p]] = _ZERO
        dots = []
        for a in extra:
            d = self.dot_of(a) if self.is_active(a) else None
            if d is not None:
                live_dots.add(d.id)
            dots.append(d or self.zero_of(a))
        bindings[vdot] = gast.Tuple(elts=dots, ctx=gast.Load())
        stmts, expr = rule.instantiate(bindings, self.namer, list(extra))
        return _prune_zero_terms(stmts, expr, live_dots)

    def _apply_args_and_dots_rule(self, rule, args, bindings, rest):
        """max(*args_and_dots): the primal arguments, then one tangent per argument."""
        bound_args = bind_rule_arguments(rest, args, vararg=True)
        bindings.update(bound_args.positional)
        extra = bound_args.extra
        dots = [self.dot_of(a) or self.zero_of(a) for a in extra]
        stmts, expr = rule.instantiate(bindings, self.namer, list(extra) + dots)
        return stmts, expr, False

    def _apply_plain_rule(self, rule, key, args, keywords, result, node, bindings, rest, dot_params):
        """A rule with one ``<p>_dot`` per differentiable parameter p (a *vararg, as in
        x.reshape(*shape), takes no tangent)."""
        live_dots = set()
        primal_params = [p for p in rest if p not in dot_params.values()]
        try:
            bound_args = bind_rule_arguments(primal_params, args, keywords, rule.kwonly, bool(rule.vararg))
        except RuleBindingError as problem:
            if problem.problem == "too many":
                self.fail(NoDerivativeRule, f"too many arguments for the tangent rule of {describe(key, node)}",
                          node)
            self.fail(NoDerivativeRule, f"the tangent rule for {describe(key, node)} does not support "
                      f"the keyword argument {problem.name!r}", node)
        extra = bound_args.extra
        # x.reshape(a_dot, *shape): the trailing arguments carry no tangent.
        for position, a in enumerate(extra, len(primal_params) + 1):
            if self.is_active(a):
                self.fail(NoDerivativeRule, f"{describe(key, node)} is not differentiable in its "
                          f"argument {position}, which carries a derivative: "
                          + origin_mod.explain(a.id, self.body, self.source, self.active,
                                               self.info.params), node,
                          hint="keep that argument free of differentiated values")
        for p in dot_params.values():
            bindings[p] = _ZERO
        for p, a in bound_args.positional + bound_args.keywords:
            bindings[p] = a
            if self.is_active(a) and p not in dot_params and key in R.USER_KEYS:
                self.fail(NoDerivativeRule, f"the tangent rule for {describe(key, node)} takes no tangent "
                          f"for its argument {p!r}, which is differentiated here", node,
                          hint=f"add a parameter {p}_dot to the rule")
            if self.is_active(a) and p in dot_params:
                d = self.dot_of(a)
                bindings[dot_params[p]] = d
                live_dots.add(d.id)
        stmts, expr = rule.instantiate(bindings, self.namer, extra)
        if isinstance(result, gast.Name) and self.kinds.get(result.id) in (K.SCALAR, K.INT):
            stmts = [drop_unbroadcast(s) for s in stmts]
            expr = drop_unbroadcast(expr)
        return _prune_zero_terms(stmts, expr, live_dots)

    # ---------------------------------------------------------- user calls
    def user_call(self, stmt, x, call, copied):
        """Statements for x = g(...) when g is a user function without a rule, else None."""
        key, _ = call_key(self.info, call)
        if not is_user_function(key) or R.tangent_rule(key) is not None or R.is_nondiff(key):
            return None
        args = self.bind_call(key, call)
        mask = tuple(self.is_active(a) for a in args)
        # A callee filling a tape must fill its tangent too, even when its value is not needed.
        feeds_tape = any(isinstance(a, gast.Name) and _is_generated_tape(self.info, a.id) for a in args)
        if (x not in self.active and not feeds_tape) or not any(mask):
            out = [A.assign(x, self.primal_call(key, args, call))]
            if x in self.active:
                out.append(A.assign(self.dot(x), self.zero_of(A.name(x))))
            return out
        kinds = tuple(self._atom_kind(a) for a in args)
        name = jvp_callee(self.module, key, mask, kinds)
        dots = [self.dot_of(a) for a, m in zip(args, mask) if m]
        x_dot = self.dot(x) if x in self.active else self.namer.fresh("_unused_dot")
        target = gast.Tuple(elts=[A.store(x), A.store(x_dot)], ctx=gast.Store())
        out = [gast.Assign(targets=[target], value=A.call(name, [A.deepcopy(a) for a in args] + dots),
                           type_comment=None)]
        if copied:
            out += [A.assign(x, A.call(rt(runtime.copy_value), [A.name(x)])),
                    A.assign(self.dot(x), A.call(rt(runtime.copy_value), [A.name(self.dot(x))]))]
        if x in self.active and self._reads_written(*args):
            # The callee may return an argument's tangent object for a new array
            # (`return v + 1.0`); the caller writes that argument in place later, which
            # must not reach x's tangent (the alias analysis refuses a result that is
            # the argument itself, so x's value is new).
            out.append(A.assign(self.dot(x), A.call(rt(runtime_calls.owned_tangent), [A.name(self.dot(x))])))
        return out

    def _container_contents(self):
        """name -> the names a tuple, list or dict bound to it holds (`_fargs = (v,)`, the
        arguments of a call of a function value), so a read through it is seen."""
        holds = {}
        for s in A.walk_statements(self.body):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                value = s.value
                if isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) \
                        is runtime.copy_value and value.args:
                    value = value.args[0]
                if isinstance(value, (gast.Tuple, gast.List, gast.Dict, gast.Set)):
                    holds.setdefault(s.targets[0].id, set()).update(A.names_loaded(value))
        return holds

    def _reads_written(self, *exprs):
        """Whether the expressions read a name written in place later, directly or through
        a container that holds it."""
        seen, todo = set(), set()
        for e in exprs:
            if isinstance(e, gast.AST):
                todo |= A.names_loaded(e)
        while todo:
            name = todo.pop()
            if name in self.written:
                return True
            seen.add(name)
            todo |= self.holds.get(name, set()) - seen
        return False

    # ------------------------------------------------------- containers
    def item_write(self, stmt, target):
        y = target.value.id
        out = [stmt]
        if y in self.active:
            value = stmt.value
            d = self.dot_of(value)
            out.append(A.assign(self.dot(y), A.call(rt(runtime.write_dot), [
                A.name(self.dot(y)), A.name(y), index_value(target.slice), A.deepcopy(value),
                d if d is not None else A.const(None)])))
        return out

    def _is_list_pop(self, call):
        key, args = call_key(self.info, call)
        return key == ("method", "pop") and len(args) in (1, 2) and self.is_active(args[0])

    def list_pop(self, lst, result, index_args):
        """Tangent of result = lst.pop(): the last tangent leaves the list tangent."""
        if not self.is_active(lst):
            return None
        return A.call(rt(runtime.pop_dot), [A.name(self.dot(lst.id)), A.deepcopy(result)]
                      + [A.deepcopy(a) for a in index_args])

    def pop_without_use(self, call):
        lst = call.func.value
        return [A.expr_stmt(A.call(rt(runtime.pop_dot), [A.name(self.dot(lst.id)), A.const(None)]
                                   + [A.deepcopy(a) for a in call.args]))]

    def expression_statement(self, stmt):
        call = stmt.value
        if not isinstance(call, gast.Call):
            return [stmt]
        refuse_library_mutation(self, call, stmt)
        func = call.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.info.local_names:
            obj = func.value.id
            if obj not in self.active:
                if func.attr == "pop" and self._is_list_pop(call):
                    return [stmt] + self.pop_without_use(call)
                return [stmt]
            if func.attr == "append" and len(call.args) == 1:
                v = call.args[0]
                d = self.dot_of(v)
                update = A.assign(self.dot(obj), A.call(rt(runtime.append_dot), [
                    A.name(self.dot(obj)), A.name(obj), A.deepcopy(v), d if d is not None else A.const(None)]))
                return [update, stmt]
            if func.attr == "extend" and len(call.args) == 1:
                seq = call.args[0]
                d = self.dot_of(seq)
                update = A.assign(self.dot(obj), A.call(rt(runtime.extend_dot), [
                    A.name(self.dot(obj)), A.name(obj), A.deepcopy(seq), d if d is not None else A.const(None)]))
                return [update, stmt]
            if func.attr == "pop":
                return [stmt] + self.pop_without_use(call)
            if func.attr in activity_mod.MUTATING_METHODS:
                self.fail(UnsupportedSyntax, f"differentiating through {obj}.{func.attr}(...) is not "
                          "supported", stmt, hint="build a new list instead")
            return [stmt]
        key, args = call_key(self.info, call)
        if key is runtime.write_item and len(args) == 3 and args[0].id in self.active:
            # Gradient code undoing an in-place write (higher order): the tangent is undone too.
            y, index, old = args
            d = self.dot_of(old)
            return [stmt, A.assign(self.dot(y.id), A.call(rt(runtime.write_dot), [
                A.name(self.dot(y.id)), A.name(y.id), A.deepcopy(index), A.deepcopy(old),
                d if d is not None else A.const(None)]))]
        if key is runtime.zero_item and len(args) == 2 and self.is_active(args[0]):
            return [stmt, A.expr_stmt(A.call(rt(runtime.zero_item), [A.name(self.dot(args[0].id)),
                                                                     A.deepcopy(args[1])]))]
        if is_user_function(key) and R.tangent_rule(key) is None:
            writes = key.node if isinstance(key, FunctionInfo) else None
            args = self.bind_call(key, call)
            if any(self.is_active(a) for a in call.args) or writes is not None:
                # a bare call: its result is discarded, so any write into an argument is seen
                self.module.check_argument_writes(key, call, self.info, args, None, self.load_count, self.atom_kind)
            return [A.expr_stmt(self.primal_call(key, args, call))]
        return [stmt]


def _is_generated_tape(info, name):
    """The tape parameter of generated code differentiated again: shared with the caller by design."""
    return name.startswith("_tape_") and getattr(info.fn, "__module__", None) == "diffc_generated"


# ------------------------------------------------------------ zero terms

def _prune_zero_terms(stmts, expr, live_dots):
    """Drop rule statements and sum terms whose tangents are all zero.

    Rule convention: the returned expression is a sum/difference of terms,
    each linear in the tangents it mentions.  A term mentioning no live
    tangent is zero; in a term that mentions live and zero tangents the zero
    ones become 0.0.  Returns (statements, expression or None, dropped?)."""
    zero = {_ZERO}
    live = set(live_dots)
    kept = []
    dropped = False
    for s in stmts:
        loaded = A.names_loaded(s)
        if loaded & zero and not loaded & live:
            zero |= A.names_stored(s)
            dropped = True
            continue
        if loaded & live:
            live |= A.names_stored(s)
        kept.append(_zero_out(s, zero))
    state = {"dropped": dropped}

    def prune(e):
        if isinstance(e, gast.BinOp) and isinstance(e.op, (gast.Add, gast.Sub)):
            left, right = prune(e.left), prune(e.right)
            if left is None and right is None:
                return None
            if right is None:
                return left
            if left is None:
                return right if isinstance(e.op, gast.Add) else gast.UnaryOp(op=gast.USub(), operand=right)
            return gast.BinOp(left=left, op=e.op, right=right)
        loaded = A.names_loaded(e)
        if not loaded & live:
            if loaded & zero:
                state["dropped"] = True
                return None
            return e          # a term without tangents (should not happen): keep it
        return _zero_out(e, zero)
    result = prune(expr)
    return kept, result, state["dropped"]


def _zero_out(node, zero):
    class Z(gast.NodeTransformer):
        def visit_Name(self, n):
            if n.id in zero and isinstance(n.ctx, gast.Load):
                return A.const(0.0)
            return n
    return Z().visit(node)


# ------------------------------------------------------------- assembly

def _function(name, params, body, origin):
    args = [gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None) for p in params]
    fn = gast.FunctionDef(name=name, args=gast.arguments(args=args, posonlyargs=[], vararg=None, kwonlyargs=[],
                                                          kw_defaults=[], kwarg=None, defaults=[]),
                          body=body, decorator_list=[], returns=None, type_comment=None, type_params=[])
    return A.located(fn, origin)


def _generated(name):
    node = A.name(name)
    node.diffc_generated = True
    return node


def build_jvp(module, target, active, param_kinds, name, tangent_only=False, insert=False):
    """Generate ``name(params..., active param tangents...)`` -> (value, tangent).

    With tangent_only the function returns the tangent alone and the tangent
    parameters default to 1.0 (a derivative function of scalar arguments)."""
    info = module.info_for(target, param_kinds)
    ff = ForwardFunction(module, info, active, param_kinds)
    body, ret, ret_dot = ff.build()
    dot_params = [ff.dot(p) for p in active]
    if tangent_only:
        body.append(gast.Return(value=ret_dot))
    else:
        body.append(gast.Return(value=gast.Tuple(elts=[A.deepcopy(ret), ret_dot], ctx=gast.Load())))
    fn = _function(name, list(info.params) + dot_params, body, info.node)
    if tangent_only:
        fn.args.defaults = [A.const(1.0) for _ in dot_params]
    module.stage("forward", fn)
    fn = module.finish(fn, entry_kinds=ff.kinds if insert else None)
    module.add_function(fn, info.source, first=insert)
    return fn


def jvp_callee(module, target, mask, kinds):
    """The generated ``_jvp_<g>`` for a call of user function g with active arguments `mask`."""
    table = module.generated_cache("jvps")
    key = (id(target), mask, kinds)
    if key not in table:
        info = module.info_for(target)
        name = module.unique_function_name(f"_jvp_{info.name}")
        table[key] = name
        active = [p for p, m in zip(info.params, mask) if m]
        build_jvp(module, target, active, dict(zip(info.params, kinds)), name)
    return _generated(table[key])


del builtins
