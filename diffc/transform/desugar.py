"""desugar: structured control flow only, every loop a `range` loop or a `while`.

Input: a fenced `FunctionInfo` body.
Output (same FunctionInfo, body rewritten) guarantees:
  * no list comprehensions: each is hoisted before its statement as an
    explicit loop appending to a fresh list;
  * every ``for`` iterates over a call of ``range`` and has a plain Name
    target and no ``else``; iteration over lists, tuples, arrays, dicts,
    ``enumerate``, ``zip``, ``reversed``, ``.items()``... is rewritten into an
    index loop plus element reads;
  * no ``break`` or ``continue``; ``return`` appears exactly once, as the last
    statement of the body.  Escapes become boolean flags: statements after a
    possible escape run under ``if not flag:``, loops test the flags;
  * ``lst.pop()`` is never a bare statement: its value gets a fresh name;
  * a ``for`` target is assigned nowhere else and read only inside its loop
    (otherwise the loop runs over a fresh index and assigns the user's name
    as a first body statement), so the adjoint loop can recompute it.
Semantics are unchanged, including short-circuit order and late loop exits.
"""

import builtins

import gast

from .. import ast_util as A
from .. import checkpoint_runtime as CR
from .. import runtime
from ..errors import UnsupportedSyntax
from ..parse import MISSING


class Desugar:
    def __init__(self, info, namer):
        self.info = info
        self.namer = namer
        self.ret_flag = None
        self.ret_value = None

    # ------------------------------------------------------------------ utils
    def resolve(self, expr):
        return self.info.resolve_static(expr)

    def fail(self, msg, node, hint=None):
        raise UnsupportedSyntax(msg, node, self.info.source, hint=hint)

    def run(self):
        body = self.info.node.body
        body = self.hoist_comprehensions(body)
        body = self.lower_iteration(body)
        body = self.lower_escapes_in_function(body)
        body = self.manage_loop_targets(body, body)
        self.info.node.body = body
        return self.info

    # ------------------------------------------------ list comprehensions
    def hoist_comprehensions(self, stmts):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(stmt, field, self.hoist_comprehensions(inner))
            pre = []
            if isinstance(stmt, gast.While):
                if any(isinstance(n, gast.ListComp) for n in gast.walk(stmt.test)):
                    self.fail("a list comprehension in a while condition is not supported", stmt.test,
                              hint="compute the list in the loop body")
            else:
                self._replace_comprehensions(stmt, pre)
            out.extend(pre)
            out.append(self._name_discarded_pop(stmt))
        return out

    def _name_discarded_pop(self, stmt):
        """`lst.pop()` as a statement becomes `_popped = lst.pop()`: the adjoint puts
        the value back (reverse.py list_pop), so it needs a name."""
        call = stmt.value if isinstance(stmt, gast.Expr) else None
        if isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) \
                and call.func.attr == "pop" and not call.args and not call.keywords \
                and isinstance(call.func.value, gast.Name):
            return A.located(A.assign(self.namer.fresh("_popped"), call), stmt)
        return stmt

    def _replace_comprehensions(self, stmt, pre):
        fields = [f for f in stmt._fields if f not in ("body", "orelse")]
        for field in fields:
            value = getattr(stmt, field)
            setattr(stmt, field, self._replace_in_expr(value, pre, stmt))

    def _replace_in_expr(self, value, pre, stmt):
        if isinstance(value, list):
            return [self._replace_in_expr(v, pre, stmt) for v in value]
        if not isinstance(value, gast.AST):
            return value
        if isinstance(value, gast.ListComp):
            return self._lower_listcomp(value, pre, stmt)
        for field in value._fields:
            setattr(value, field, self._replace_in_expr(getattr(value, field), pre, stmt))
        return value

    def _lower_listcomp(self, comp, pre, stmt):
        gen = comp.generators[0]
        if gen.is_async:
            self.fail("async comprehensions are not supported", comp)
        mapping = {n: self.namer.fresh("_c") for n in A.names_stored(gen.target)}
        elt = A.rename(self._replace_in_expr(comp.elt, pre, stmt), mapping)
        target = A.rename(gen.target, mapping)
        ifs = [A.rename(c, mapping) for c in gen.ifs]
        result = self.namer.fresh("_list")
        body = [A.expr_stmt(A.method_call(A.name(result), "append", [elt]))]
        for cond in reversed(ifs):
            body = [A.if_(cond, body)]
        loop = gast.For(target=target, iter=self._replace_in_expr(gen.iter, pre, stmt), body=body,
                        orelse=[], type_comment=None)
        pre.extend(A.located_all([A.assign(result, gast.List(elts=[], ctx=gast.Load())), loop], comp))
        return A.name(result)

    # ---------------------------------------------- iteration -> range loops
    def lower_iteration(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, (gast.If, gast.While)):
                stmt.body = self.lower_iteration(stmt.body)
                stmt.orelse = self.lower_iteration(stmt.orelse)
                out.append(stmt)
            elif isinstance(stmt, gast.For):
                out.extend(self._lower_for(stmt))
            else:
                out.append(stmt)
        return out

    def _is_range_call(self, expr):
        return isinstance(expr, gast.Call) and self.resolve(expr.func) is builtins.range

    def _lower_for(self, loop):
        loop.body = self.lower_iteration(loop.body)
        loop.orelse = self.lower_iteration(loop.orelse)
        if loop.orelse:
            # for/else: the else block runs when the loop did not break.
            return self._lower_for_else(loop)
        budget = checkpoint_budget(self, loop)      # `for t in diffc.checkpointed(...)`
        if budget is not None:
            lowered = self._lower_for(loop)
            lowered[-1].diffc_checkpoint = budget
            return lowered
        if self._is_range_call(loop.iter) and isinstance(loop.target, gast.Name):
            if loop.iter.keywords:
                self.fail("range() takes no keyword arguments", loop.iter)
            return [loop]
        pre, length, element = self._iteration(loop.iter)
        index = self.namer.fresh("_k")
        first = A.located(A.assign(loop.target, element(A.name(index))), loop)
        new_loop = gast.For(target=A.store(index), iter=A.call(A.global_ref(builtins.range, "range"), [length]),
                            body=[first] + loop.body, orelse=[], type_comment=None)
        A.located(new_loop, loop)
        new_loop.diffc_iterates = loop.iter
        return A.located_all(pre, loop) + [new_loop]

    def _lower_for_else(self, loop):
        flag = self.namer.fresh("_broke")
        orelse = loop.orelse
        loop.orelse = []
        marker = _BreakMarker(flag)
        loop.body = marker.visit_block(loop.body)
        lowered = self._lower_for(loop)
        init = A.located(A.assign(flag, A.const(False)), loop)
        tail = A.located(A.if_(A.not_(A.name(flag)), orelse), loop)
        return [init] + lowered + [tail]

    def _iteration(self, iterable):
        """(statements before the loop, length expression, index -> element expression)."""
        if isinstance(iterable, gast.Call) and not iterable.keywords:
            target = self.resolve(iterable.func)
            args = iterable.args
            if target is builtins.enumerate and 1 <= len(args) <= 2:
                pre, length, element = self._iteration(args[0])
                start = args[1] if len(args) == 2 else None
                if start is not None and not A.is_atom(start):
                    start_name = self.namer.fresh("_start")
                    pre.append(A.assign(start_name, start))
                    start = A.name(start_name)

                def enum_element(k):
                    counter = k if start is None else A.binop(k, gast.Add(), A.deepcopy(start))
                    return gast.Tuple(elts=[A.deepcopy(counter), element(k)], ctx=gast.Load())
                return pre, length, enum_element
            if target is builtins.zip and args:
                pres, lengths, elements = [], [], []
                for a in args:
                    p, n, e = self._iteration(a)
                    pres.extend(p)
                    lengths.append(n)
                    elements.append(e)
                length = lengths[0] if len(lengths) == 1 else A.call(A.global_ref(builtins.min, "min"), lengths)
                n_name = self.namer.fresh("_n")
                pres.append(A.assign(n_name, length))
                return pres, A.name(n_name), lambda k: gast.Tuple(elts=[e(k) for e in elements], ctx=gast.Load())
            if target is builtins.reversed and len(args) == 1:
                pre, length, element = self._iteration(args[0])
                n_name = self.namer.fresh("_n")
                pre.append(A.assign(n_name, length))

                def rev_element(k):
                    last = A.binop(A.name(n_name), gast.Sub(), A.const(1))
                    return element(A.binop(last, gast.Sub(), k))
                return pre, A.name(n_name), rev_element
            if (isinstance(iterable.func, gast.Attribute) and not args
                    and iterable.func.attr in ("items", "keys", "values")
                    and self.resolve(iterable.func) is MISSING):
                return self._dict_iteration(iterable.func.value, iterable.func.attr)
        seq = self.namer.fresh("_seq")
        if self._is_range_call(iterable):
            pre = [A.assign(seq, iterable)]
        else:
            pre = [A.assign(seq, A.call(A.global_ref(runtime.as_sequence, "as_sequence"), [iterable]))]
        length = A.call(A.global_ref(builtins.len, "len"), [A.name(seq)])
        return pre, length, lambda k: A.subscript(A.name(seq), k)

    def _dict_iteration(self, mapping, kind):
        obj = self.namer.fresh("_dict")
        keys = self.namer.fresh("_keys")
        pre = [A.assign(obj, mapping),
               A.assign(keys, A.call(A.global_ref(builtins.list, "list"), [A.name(obj)]))]
        length = A.call(A.global_ref(builtins.len, "len"), [A.name(keys)])

        def element(k):
            key = A.subscript(A.name(keys), k)
            if kind == "keys":
                return key
            value = A.subscript(A.name(obj), A.deepcopy(key))
            if kind == "values":
                return value
            return gast.Tuple(elts=[key, value], ctx=gast.Load())
        return pre, length, element

    # ------------------------------------------- break/continue/return -> flags
    def lower_escapes_in_function(self, body):
        returns = [s for s in A.walk_statements(body) if isinstance(s, gast.Return)]
        simple = (len(returns) == 1 and body and body[-1] is returns[0]) or not returns
        if not simple:
            self.ret_flag = self.namer.fresh("_returned")
            self.ret_value = self.namer.fresh("_retval")
        body = self._lower_block(body, loop=None)
        if simple:
            if not returns:
                body.append(A.located(gast.Return(value=A.const(None)), self.info.node))
            return body
        origin = returns[-1]
        init = A.located_all([A.assign(self.ret_flag, A.const(False)),
                              A.assign(self.ret_value, A.const(None))], self.info.node.body[0])
        return init + body + [A.located(gast.Return(value=A.name(self.ret_value)), origin)]

    def _lower_block(self, stmts, loop):
        out = []
        for i, stmt in enumerate(stmts):
            lowered, flags = self._lower_stmt(stmt, loop)
            out.extend(lowered)
            rest = stmts[i + 1:]
            if flags and rest:
                guard = None
                for flag in sorted(flags):
                    test = A.not_(A.name(flag))
                    guard = test if guard is None else gast.BoolOp(op=gast.And(), values=[guard, test])
                inner = self._lower_block(rest, loop)
                out.append(A.located(A.if_(guard, inner), rest[0]))
                return out
        return out

    def _lower_stmt(self, stmt, loop):
        """(replacement statements, flags the statement may set that affect what follows)."""
        if isinstance(stmt, gast.Break):
            return [A.located(A.assign(loop.brk(), A.const(True)), stmt)], {loop.brk()}
        if isinstance(stmt, gast.Continue):
            return [A.located(A.assign(loop.cont(), A.const(True)), stmt)], {loop.cont()}
        if isinstance(stmt, gast.Return):
            if self.ret_flag is None:
                return [stmt], set()
            value = stmt.value if stmt.value is not None else A.const(None)
            return A.located_all([A.assign(self.ret_value, value),
                                  A.assign(self.ret_flag, A.const(True))], stmt), {self.ret_flag}
        if isinstance(stmt, gast.If):
            body_flags, else_flags = set(), set()
            stmt.body = self._collect(stmt.body, loop, body_flags)
            stmt.orelse = self._collect(stmt.orelse, loop, else_flags)
            return [stmt], body_flags | else_flags
        if isinstance(stmt, (gast.For, gast.While)):
            return self._lower_loop(stmt)
        return [stmt], set()

    def _collect(self, stmts, loop, flags_out):
        for s in stmts:
            flags_out |= self._may_set(s, loop)
        return self._lower_block(stmts, loop)

    def _may_set(self, stmt, loop):
        flags = set()
        for s in A.walk_statements([stmt]):
            if isinstance(s, gast.Return) and self.ret_flag is not None:
                flags.add(self.ret_flag)
        for s in _statements_of_this_loop([stmt]):
            if isinstance(s, gast.Break):
                flags.add(loop.brk())
            elif isinstance(s, gast.Continue):
                flags.add(loop.cont())
        return flags

    def _lower_loop(self, stmt):
        loop = _LoopFlags(self.namer)
        escapes = _statements_of_this_loop(stmt.body)
        returns = self.ret_flag is not None and any(isinstance(s, gast.Return) for s in A.walk_statements(stmt.body))
        body = self._lower_block(stmt.body, loop)
        if loop.cont_name:
            body.insert(0, A.located(A.assign(loop.cont_name, A.const(False)), stmt))
        stops = [f for f in (loop.brk_name, self.ret_flag if returns else None) if f]
        outer_flags = {self.ret_flag} if returns else set()
        pre = []
        if loop.brk_name:
            pre.append(A.located(A.assign(loop.brk_name, A.const(False)), stmt))
        if loop.cont_name:
            pre.append(A.located(A.assign(loop.cont_name, A.const(False)), stmt))
        del escapes
        if not stops:
            stmt.body = body
            return pre + [stmt], outer_flags
        if isinstance(stmt, gast.While):
            stmt.body = body
            stmt.test = self._guarded_test(stops, stmt.test)
            A.located(stmt.test, stmt)
            return pre + [stmt], outer_flags
        # A range loop that can stop early becomes an index-driven while loop.
        rng, pos, count = self.namer.fresh("_range"), self.namer.fresh("_pos"), self.namer.fresh("_count")
        pre += A.located_all([
            A.assign(rng, stmt.iter),
            A.assign(pos, A.const(0)),
            A.assign(count, A.call(A.global_ref(builtins.len, "len"), [A.name(rng)])),
        ], stmt)
        advance = A.located_all([
            A.assign(stmt.target, A.subscript(A.name(rng), A.name(pos))),
            A.assign(pos, A.binop(A.name(pos), gast.Add(), A.const(1))),
        ], stmt)
        test = self._guarded_test(stops, gast.Compare(left=A.name(pos), ops=[gast.Lt()],
                                                      comparators=[A.name(count)]))
        loop_node = A.located(gast.While(test=test, body=advance + body, orelse=[]), stmt)
        if hasattr(stmt, "diffc_checkpoint"):
            loop_node.diffc_checkpoint = stmt.diffc_checkpoint
        return pre + [loop_node], outer_flags

    @staticmethod
    def _guarded_test(stops, test):
        guards = [A.not_(A.name(f)) for f in stops]
        if isinstance(test, gast.Constant) and test.value is True:
            values = guards
        else:
            values = guards + [test]
        return values[0] if len(values) == 1 else gast.BoolOp(op=gast.And(), values=values)

    # ------------------------------------------------------- loop targets
    def manage_loop_targets(self, stmts, whole_body):
        for stmt in A.walk_statements(stmts):
            if isinstance(stmt, gast.For):
                target = stmt.target.id
                if not self._target_is_private(stmt, target, whole_body):
                    index = self.namer.fresh("_i")
                    stmt.target = A.store(index)
                    stmt.body.insert(0, A.located(A.assign(target, A.name(index)), stmt))
        return stmts

    def _target_is_private(self, loop, target, whole_body):
        """True when only this loop binds `target` and only its body reads it."""
        if target in {a.id for a in self.info.node.args.args}:
            return False
        inside = {id(n) for s in loop.body for n in gast.walk(s)}
        for s in whole_body:
            for n in gast.walk(s):
                if not isinstance(n, gast.Name) or n.id != target or n is loop.target:
                    continue
                if isinstance(n.ctx, gast.Store) or id(n) not in inside:
                    return False
        return True


class _LoopFlags:
    def __init__(self, namer):
        self.namer = namer
        self.brk_name = None
        self.cont_name = None

    def brk(self):
        if self.brk_name is None:
            self.brk_name = self.namer.fresh("_break")
        return self.brk_name

    def cont(self):
        if self.cont_name is None:
            self.cont_name = self.namer.fresh("_continue")
        return self.cont_name


def _statements_of_this_loop(stmts):
    """Statements of a loop body, not descending into nested loops."""
    for s in stmts:
        yield s
        if isinstance(s, gast.If):
            yield from _statements_of_this_loop(s.body)
            yield from _statements_of_this_loop(s.orelse)


class _BreakMarker:
    """Prefix every break of one loop (not nested loops) with `flag = True`."""

    def __init__(self, flag):
        self.flag = flag

    def visit_block(self, stmts):
        out = []
        for s in stmts:
            if isinstance(s, gast.Break):
                out.append(A.located(A.assign(self.flag, A.const(True)), s))
            elif isinstance(s, gast.If):
                s.body = self.visit_block(s.body)
                s.orelse = self.visit_block(s.orelse)
            out.append(s)
        return out


def checkpoint_budget(desugar, loop):
    """For ``for t in checkpointed(it, snapshots=k):`` set loop.iter to ``it`` and return
    the budget (True or k); None for any other loop.  The loop is then lowered as usual and carries the budget (transform/checkpoint.py)."""
    call = loop.iter
    if not (isinstance(call, gast.Call) and desugar.resolve(call.func) is CR.checkpointed):
        return None
    args = list(call.args)
    keywords = {kw.arg: kw.value for kw in call.keywords}
    if len(args) == 2 and "snapshots" not in keywords:
        keywords["snapshots"] = args.pop()
    if len(args) != 1 or set(keywords) - {"snapshots"}:
        desugar.fail("checkpointed() takes an iterable and an optional snapshots=k", call)
    budget = True
    node = keywords.get("snapshots")
    if node is not None:
        value = node.value if isinstance(node, gast.Constant) else _NO_BUDGET
        if value is None:
            budget = True
        elif isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            budget = value
        else:
            desugar.fail("snapshots= must be a positive int literal (or None)", node,
                         hint="write the number: diffc.checkpointed(range(n), snapshots=50)")
    loop.iter = args[0]
    return budget


_NO_BUDGET = object()
