"""dce: remove statements whose results are never read.

Input: a generated FunctionDef (structured: Assign, AugAssign, Expr, If, For,
While, Return, Pass) whose calls are marked pure or not by `rules.is_pure_call`.
Output: the same function without assignments to names that are dead
afterwards (when their value is pure), without loops and branches that define
nothing live and have no side effects, and with ``pass`` only where a block
would otherwise be empty.  A loop is kept whole or dropped whole; a `while`
loop is assumed to terminate (it did in the user's program).

A loop's live set is found by iterating to a fixpoint in an analysis mode that
reads the tree without changing it (each loop's result memoized per live set);
the statements are then removed in one pass with the live sets found.
"""

import gast

from .. import ast_util as A
from ..rules import is_pure_call
from .purity import is_pure_expr, stored_names


def escaped_names(fn):
    """Names whose objects may be reachable through another name (containers, calls)."""
    out = set()
    for n in A.walk(fn):
        if isinstance(n, (gast.List, gast.Tuple)) and isinstance(n.ctx, gast.Load):
            out |= {e.id for e in n.elts if isinstance(e, gast.Name)}
        elif isinstance(n, gast.Dict):
            out |= {e.id for e in n.values if isinstance(e, gast.Name)}
        elif isinstance(n, gast.Call) and not is_pure_call(n):
            out |= {e.id for e in n.args if isinstance(e, gast.Name)}
            if isinstance(n.func, gast.Attribute) and n.func.attr in ("append", "extend", "insert"):
                out |= {e.id for e in n.args if isinstance(e, gast.Name)}
    return out


class DeadCode:
    def __init__(self, fn):
        self.fn = fn
        # Objects passed in as parameters are visible to the caller: mutating them is an effect.
        self.escaped = escaped_names(fn) | {a.id for a in fn.args.args}
        # False while a loop's live set is iterated to its fixpoint: statements are read,
        # nothing is removed or changed (so no copy of the body is needed).
        self.rewrite = True
        self.loop_live = {}           # (id(loop), frozenset(live_out)) -> live at the end of an iteration
        # names_loaded per node: a loop's fixpoint reads its body several times, nested
        # loops multiply that, and the nodes read never change during the run (statements
        # are only dropped; an If's test is only negated, which reads the same names).
        self.loaded_memo = {}

    def loaded(self, node):
        # Keyed by id, holding the node: a node dropped and freed cannot lend its id
        # to a new one (an If's negated test) while its entry lives.
        entry = self.loaded_memo.get(id(node))
        if entry is None:
            entry = self.loaded_memo[id(node)] = (node, frozenset(A.names_loaded(node)))
        return entry[1]

    def run(self):
        body, _ = self.block(self.fn.body, set())
        self.fn.body = body or [gast.Pass()]
        return self.fn

    def block(self, stmts, live):
        out = []
        live = set(live)
        for stmt in reversed(stmts):
            kept, live = self.statement(stmt, live)
            out.extend(reversed(kept))
        out.reverse()
        return out, live

    def statement(self, stmt, live):
        if getattr(stmt, "diffc_keep", False):
            # A restore into an array that views of it may still read (use_loop_tapes.py).
            return [stmt], live | self.loaded(stmt)
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                if target.id not in live and is_pure_expr(stmt.value):
                    return [], live
                return [stmt], (live - {target.id}) | self.loaded(stmt.value)
            if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name):
                y = target.value.id
                if y not in live and y not in self.escaped and is_pure_expr(stmt.value):
                    return [], live
                return [stmt], live | self.loaded(stmt)
            return [stmt], live | self.loaded(stmt)
        if isinstance(stmt, gast.AugAssign):
            name = stmt.target.id if isinstance(stmt.target, gast.Name) else None
            if name is not None and name not in live and is_pure_expr(stmt.value):
                return [], live
            return [stmt], live | self.loaded(stmt) | ({name} if name else set())
        if isinstance(stmt, gast.Expr):
            call = stmt.value
            if not isinstance(call, gast.Call):
                return [], live
            func = call.func
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and not hasattr(func.value, "diffc_global") and func.attr in ("append", "extend") \
                    and func.value.id != "_tape" \
                    and func.value.id not in live and func.value.id not in self.escaped \
                    and all(is_pure_expr(a) for a in call.args):
                return [], live
            if is_pure_call(call):
                return [], live
            return [stmt], live | self.loaded(stmt)
        if isinstance(stmt, gast.If):
            body, live_body = self.block(stmt.body, live)
            orelse, live_else = self.block(stmt.orelse, live)
            if not body and not orelse:
                return [], live
            test_names = self.loaded(stmt.test)
            if self.rewrite:
                if not body:
                    stmt.test = A.not_(stmt.test) if not _is_not(stmt.test) else stmt.test.operand
                    body, orelse = orelse, []
                stmt.body, stmt.orelse = body, orelse
            return [stmt], live_body | live_else | test_names
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, live)
        if isinstance(stmt, gast.Return):
            return [stmt], live | (self.loaded(stmt.value) if stmt.value is not None else set())
        if isinstance(stmt, gast.Pass):
            return [], live
        return [stmt], live | self.loaded(stmt)

    def loop(self, stmt, live_out):
        defined = set()
        for s in stmt.body:
            defined |= stored_names(s)
        if isinstance(stmt, gast.For):
            # After the loop the target holds the last item (optimize/use_loop_tapes.py
            # restores values that way).
            defined |= A.names_stored(stmt.target)
        if not (defined & live_out) and not self.has_effects(stmt.body):
            return [], live_out
        test_names = self.loaded(stmt.test) if isinstance(stmt, gast.While) else set()
        header = self.loaded(stmt.iter) if isinstance(stmt, gast.For) else test_names
        target = A.names_stored(stmt.target) if isinstance(stmt, gast.For) else set()
        key = (id(stmt), frozenset(live_out))
        if key not in self.loop_live:
            self.loop_live[key] = self.loop_fixpoint(stmt, set(live_out) | test_names, target)
        live_end = self.loop_live[key]
        if self.rewrite:
            body, _ = self.block(stmt.body, live_end)
            stmt.body = body or [gast.Pass()]
        return [stmt], live_out | (live_end - target) | header

    def loop_fixpoint(self, stmt, live_end, target):
        """The names live at the end of an iteration of stmt, read without changing its body."""
        rewrite, self.rewrite = self.rewrite, False
        try:
            while True:
                _, live_start = self.block(stmt.body, live_end)
                # Live at the end of an iteration: what the loop's exit needs, and what the
                # next iteration reads before its header rebinds the target.
                again = live_start - target if isinstance(stmt, gast.For) else live_start
                new_end = live_end | again
                if new_end <= live_end:
                    break
                live_end = new_end
        finally:
            self.rewrite = rewrite
        return live_end

    def has_effects(self, stmts):
        for s in A.walk_statements(stmts):
            if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) and not is_pure_call(s.value):
                func = s.value.func
                if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                        and func.attr in ("append", "extend") and func.value.id not in self.escaped:
                    continue
                return True
            if isinstance(s, (gast.Assign, gast.AugAssign)):
                if not is_pure_expr(s.value):
                    return True
                t = s.targets[0] if isinstance(s, gast.Assign) else s.target
                if isinstance(t, gast.Subscript) and isinstance(t.value, gast.Name) \
                        and t.value.id in self.escaped:
                    return True
            if isinstance(s, (gast.Raise, gast.Assert, gast.Return)):
                return True
        return False


def _is_not(expr):
    return isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.Not)


def eliminate_dead_code(fn):
    return DeadCode(fn).run()
