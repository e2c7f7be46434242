"""desugar: structured control flow only, every loop a `range` loop or a `while`.

Input: a fenced `FunctionInfo` body.
Output (same FunctionInfo, body rewritten) guarantees:
  * no ``yield``: a generator function returns the list of what it yields;
  * no ``global``/``nonlocal`` (only reads reach here), no ``match`` (an
    if/elif chain on a fresh ``_subject``), no ``try`` (branches on
    ``runtime.try_enter``, transform/try_with.py; a ``with`` statement
    became such a try before: transform/with_statements.py);
  * no comprehensions or generator expressions: each is hoisted before its
    statement as explicit (nested) loops filling a fresh list (a generator
    expression is consumed whole where it stands), set or dict; one in a
    branch of ``a if c else b`` or a later operand of ``and``/``or`` is
    hoisted into an ``if`` that runs it only when Python would;
  * every ``for`` iterates over a call of ``range`` and has a plain Name
    target and no ``else``; iteration over lists, tuples, arrays, dicts,
    ``enumerate``, ``zip``, ``reversed``, ``.items()``... is rewritten into an
    index loop plus element reads;
  * no ``break`` or ``continue``; ``return`` appears exactly once, as the last
    statement of the body.  Escapes become boolean flags: statements after a
    possible escape run under ``if not flag:``, loops test the flags;
  * ``lst.pop()`` is never a bare statement: its value gets a fresh name;
    ``lst.insert(i, v)`` into a list the function builds is an append and item
    writes (transform/list_insert.py);
  * ``dict(a=x, b=y)`` is the literal ``{"a": x, "b": y}``, and ``dict(zip(...))``
    (an iterator: its pairs are needed again by the adjoint) reads ``list(zip(...))``;
  * ``np.einsum(a, [0, 1], b, [1, 2], [0, 2])`` with literal sublists is
    ``np.einsum("ab,bc->ac", a, b)`` (the rules, to any order, take subscripts);
  * a ``for`` target is assigned nowhere else and read only inside its loop
    (otherwise the loop runs over a fresh index and assigns the user's name
    as a first body statement), so the adjoint loop can recompute it.
Semantics are unchanged, including short-circuit order and late loop exits.
"""

import builtins
import itertools

import gast
import numpy as np

from .. import ast_util as A
from .. import checkpoint_runtime as CR
from .. import runtime, runtime_calls, runtime_pure
from ..errors import UnsupportedSyntax
from ..parse import MISSING, assigned_names, parse_function
from .global_writes import CHANGING_METHODS
from .explicit_iterators import make_iterators_explicit
from .lazy_iterators import refuse_stale_lazy_iterators
from .list_insert import lower_list_inserts
from .container_pops import lower_container_pops
from .dict_setdefault import lower_setdefault
from .dict_update import lower_dict_updates
from .sort_in_place import lower_sorts
from .view_helpers import inline_view_helpers
from .try_with import lower_try
from .starred import lower_starred


def _has_effects(expr):
    """An assert's test that binds names (`(n := ...)`) or changes a container."""
    return any(isinstance(n, gast.NamedExpr) or (isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute)
                                                 and n.func.attr in CHANGING_METHODS)
               for n in A.walk(expr))


def _assert_as_if(stmt):
    """`assert t, m` whose test has effects is `if not t: raise AssertionError(m)`: the
    test's effects are differentiated like any statement's (kept as an assert, they ran
    unseen by the derivative)."""
    error = A.call(A.global_ref(AssertionError, "AssertionError"), [stmt.msg] if stmt.msg is not None else [])
    raise_ = A.located(gast.Raise(exc=error, cause=None), stmt)
    return A.located(A.if_(A.not_(stmt.test), [raise_]), stmt)


def _is_generated(fn):
    code = getattr(fn, "__code__", None)
    return code is not None and code.co_filename.startswith("<diffc")


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
        self.user_names = assigned_names(self.info.node)
        if not _is_generated(self.info.fn):
            # diffc's own code names lazy iterators and reads them again in the adjoint.
            refuse_stale_lazy_iterators(body, self.resolve, self.fail)
        # `it = iter(xs)` read by next(it): a list and a position (after the check above,
        # which refuses an iterator whose list changed before it was read)
        make_iterators_explicit(self.info, self.namer)
        lower_starred(self.info, self.namer)
        body = self.info.node.body
        body = self.collect_yields(body)
        # `v = head(z); v *= c`: the helper's view of z made here, where writes are followed
        if not _is_generated(self.info.fn):
            body = inline_view_helpers(body, self.info, self.namer, getattr(self.info, "has_rule", None),
                                       parse_function)
        body = self.lower_declarations_and_match(body)
        body = lower_list_inserts(body, self.info, self.namer)
        body = lower_container_pops(body, self.info, self.namer)
        body = lower_setdefault(body, self.info, self.namer)
        body = lower_dict_updates(body, self.info, self.namer)
        body = lower_sorts(body, self.info, self.namer)
        body = self.lower_index_concatenators(body)
        body = [_LibraryCalls(self.resolve).visit(s) for s in body]
        body = self.hoist_comprehensions(body)
        body = self.lower_iteration(body)
        body = self.lower_escapes_in_function(body)
        body = self.manage_loop_targets(body, body)
        self.info.node.body = body
        return self.info

    # ------------------------------------------------ generator functions
    def collect_yields(self, body):
        """A generator function becomes a function returning the list of what it yields.

        Callers in differentiated code consume it whole (``for w in layers(p)``,
        ``list(...)``, ``sum(...)``), which a list supports; ``return`` ends it."""
        if not any(isinstance(n, (gast.Yield, gast.YieldFrom)) for s in body for n in gast.walk(s)):
            return body
        for loop in A.walk_statements(body):
            if _endless_yield_loop(loop):
                self.fail("an endless generator (a `while True` loop that yields and never breaks or "
                          "returns): diffc runs a generator to its end when it is called", loop,
                          hint="give the generator the number of items its caller takes "
                               "(for _ in range(n): ... yield ...), or end the loop with a break or return")
        out = self.namer.fresh("_yielded")
        body = self._yields_to_appends(body, out)
        first = self.info.node.body[0] if self.info.node.body else self.info.node
        init = A.located(A.assign(out, gast.List(elts=[], ctx=gast.Load())), first)
        returned = A.name(out)
        if any(isinstance(s, gast.Return) for s in A.walk_statements(body)):
            # Several returns hand out the list through one result variable: copies,
            # so that variable never aliases the list the loops append to.
            returned = A.call(A.global_ref(builtins.list, "list"), [returned])
        return [init] + body + [A.located(gast.Return(value=returned), self.info.node)]

    def _yields_to_appends(self, stmts, out):
        new = []
        for stmt in stmts:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(stmt, field, self._yields_to_appends(inner, out))
            value = stmt.value if isinstance(stmt, gast.Expr) else None
            if isinstance(value, gast.Yield):
                item = value.value if value.value is not None else A.const(None)
                new.append(A.located(A.expr_stmt(A.method_call(A.name(out), "append", [item])), stmt))
            elif isinstance(value, gast.YieldFrom):
                each = self.namer.fresh("_item")
                append = A.expr_stmt(A.method_call(A.name(out), "append", [A.name(each)]))
                loop = gast.For(target=A.store(each), iter=value.value, body=[append], orelse=[],
                                type_comment=None)
                new.append(A.located(loop, stmt))
            elif isinstance(stmt, gast.Return):
                # The value of a generator's return is StopIteration's, unseen by a for loop.
                # A copy: the final `return` hands out the list itself, which would alias.
                copy = A.call(A.global_ref(builtins.list, "list"), [A.name(out)])
                new.append(A.located(gast.Return(value=copy), stmt))
            else:
                new.append(stmt)
        return new

    # ------------------------------------ global/nonlocal, match, with
    def lower_declarations_and_match(self, stmts):
        """Drop `global`/`nonlocal` (fence checked the names are only read: they
        resolve like any free name), turn `match` into an if/elif chain and
        `try`, `with` into branches (transform/try_with.py)."""
        out = []
        for stmt in stmts:
            for field in ("body", "orelse") if not isinstance(stmt, gast.Try) else ():
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(stmt, field, self.lower_declarations_and_match(inner))
            if isinstance(stmt, (gast.Global, gast.Nonlocal)):
                continue
            if isinstance(stmt, gast.Match):
                out.extend(self._lower_match(stmt))
            elif isinstance(stmt, gast.Try):
                out.extend(lower_try(self, stmt))
            elif isinstance(stmt, gast.Assert) and _has_effects(stmt.test):
                out.append(_assert_as_if(stmt))
            else:
                out.append(stmt)
        return out or [A.located(gast.Pass(), stmts[0])] if stmts else out

    def _lower_match(self, match):
        subject = self.namer.fresh("_subject")
        chain = []
        for case in reversed(match.cases):
            body = self.lower_declarations_and_match(case.body)
            test, bindings = self._pattern(case.pattern, A.name(subject))
            if case.guard is not None:
                guard = A.rename(case.guard, {name: A.name(subject) for name, _ in bindings})
                test = guard if test is None else gast.BoolOp(op=gast.And(), values=[test, guard])
            binds = [A.located(A.assign(name, value), case.pattern) for name, value in bindings]
            if test is None:
                chain = binds + body                 # irrefutable: later cases never run
            else:
                chain = [A.located(A.if_(test, binds + body, chain), case.pattern)]
        return [A.located(A.assign(subject, match.subject), match)] + chain

    def _pattern(self, pattern, subject):
        """(test expression or None when it always matches, [(name, value) bound])."""
        if isinstance(pattern, gast.MatchValue):
            return gast.Compare(left=subject, ops=[gast.Eq()], comparators=[pattern.value]), []
        if isinstance(pattern, gast.MatchSingleton):
            return gast.Compare(left=subject, ops=[gast.Is()], comparators=[A.const(pattern.value)]), []
        if isinstance(pattern, gast.MatchAs):
            test, bindings = (None, []) if pattern.pattern is None else self._pattern(pattern.pattern, subject)
            if pattern.name is not None:
                bindings = bindings + [(pattern.name, A.deepcopy(subject))]
            return test, bindings
        if isinstance(pattern, gast.MatchOr):
            tests = []
            for alternative in pattern.patterns:
                test, bindings = self._pattern(alternative, A.deepcopy(subject))
                if bindings:
                    self.fail("a capture inside an or-pattern is not supported", alternative,
                              hint="capture the whole pattern: case (1 | 2) as n:")
                if test is None:
                    return None, []
                tests.append(test)
            return gast.BoolOp(op=gast.Or(), values=tests), []
        self.fail(f"the {type(pattern).__name__} pattern is not supported in match", pattern)

    # ------------------------------------------- np.r_[...] / np.c_[...] -> calls
    def lower_index_concatenators(self, stmts):
        """`np.r_[a, 0:3, b]` becomes `index_concat(np.r_, (a, slice(0, 3, None), b))`.

        A subscript of a constant object would carry no derivative (only the
        object is read); as a call of `runtime.index_concat` it has rules in
        both modes.  Matrix directives ('r', 'c') are refused: the result is an
        np.matrix."""
        desugar = self

        class Lower(gast.NodeTransformer):
            def visit_Subscript(self, node):
                self.generic_visit(node)
                if not isinstance(node.ctx, gast.Load) or not is_index_concatenator(desugar.resolve(node.value)):
                    return node
                key = node.slice
                items = key.elts if isinstance(key, gast.Tuple) else [key]
                first = items[0] if items else None
                if isinstance(first, gast.Constant) and isinstance(first.value, str) \
                        and first.value.strip() in ("r", "c"):
                    desugar.fail("np.r_/np.c_ with a matrix directive ('r' or 'c') is not supported", node,
                                 hint="build an ndarray (drop the directive) and use np.asmatrix after")
                converted = _slice_as_value(key)
                return A.located(A.call(A.global_ref(runtime.index_concat, "index_concat"),
                                        [node.value, converted]), node)

        lower = Lower()
        return [lower.visit(stmt) for stmt in stmts]

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
                if any(isinstance(n, _COMPREHENSIONS) for n in gast.walk(stmt.test)):
                    self.fail("a comprehension in a while condition is not supported", stmt.test,
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
        if isinstance(value, gast.Call) and self._is_list_of_generator(value):
            # list(v for v in xs) is the list the generator expression lowers to.
            return self._lower_comprehension(value.args[0], pre, stmt)
        if isinstance(value, _COMPREHENSIONS):
            return self._lower_comprehension(value, pre, stmt)
        if isinstance(value, gast.IfExp) and _has_comprehension(value.body, value.orelse):
            return self._lower_lazy_ifexp(value, pre, stmt)
        if isinstance(value, gast.BoolOp) and _has_comprehension(*value.values[1:]):
            return self._lower_lazy_boolop(value, pre, stmt)
        for field in value._fields:
            setattr(value, field, self._replace_in_expr(getattr(value, field), pre, stmt))
        return value

    def _lower_lazy_ifexp(self, node, pre, stmt):
        """`a if c else [...]`: the comprehension runs only when its branch is taken
        (`0.0 if xs is None else sum(v for v in xs)` must not iterate None)."""
        result = self.namer.fresh("_cond")
        test = self._replace_in_expr(node.test, pre, stmt)
        body_pre, else_pre = [], []
        body = self._replace_in_expr(node.body, body_pre, stmt)
        orelse = self._replace_in_expr(node.orelse, else_pre, stmt)
        branch = A.if_(test, body_pre + [A.assign(result, body)], else_pre + [A.assign(result, orelse)])
        pre.append(A.located(branch, node))
        return A.name(result)

    def _lower_lazy_boolop(self, node, pre, stmt):
        """`a and [...]`, `a or sum(...)`: later operands run only when Python runs them."""
        result = self.namer.fresh("_cond")
        first = self._replace_in_expr(node.values[0], pre, stmt)
        pre.append(A.located(A.assign(result, first), node))
        block = pre
        for operand in node.values[1:]:
            inner = []
            value = self._replace_in_expr(operand, inner, stmt)
            inner.append(A.located(A.assign(result, value), node))
            test = A.name(result) if isinstance(node.op, gast.And) else A.not_(A.name(result))
            block.append(A.located(A.if_(test, inner), node))
            block = inner
        return A.name(result)

    def _is_list_of_generator(self, call):
        return (len(call.args) == 1 and not call.keywords and isinstance(call.args[0], gast.GeneratorExp)
                and self.resolve(call.func) is builtins.list)

    def _lower_comprehension(self, comp, pre, stmt, result=None):
        """A comprehension or generator expression -> loops filling a fresh container.

        Generator expressions are consumed whole where they stand (sum, list,
        np.array(list(...)), max...), so they become lists; a set comprehension
        becomes ``set(list)``, a dict comprehension item writes into a fresh dict.
        Loop variables get fresh names (they are local to the comprehension);
        each ``for`` clause nests in the previous one, its ``if`` clauses guard
        what follows, and comprehensions inside the element are lowered inside
        the innermost loop (they may read its variables)."""
        for gen in comp.generators:
            if gen.is_async:
                self.fail("async comprehensions are not supported", comp)
        is_dict = isinstance(comp, gast.DictComp)
        result = result or self.namer.fresh("_dict" if is_dict else "_list")
        mapping = {}

        def clause(level):
            if level == len(comp.generators):
                inner = []
                if is_dict:
                    key = self._replace_in_expr(A.rename(comp.key, mapping), inner, stmt)
                    value = self._replace_in_expr(A.rename(comp.value, mapping), inner, stmt)
                    write = A.assign(A.subscript(A.name(result), key, gast.Store()), value)
                    return inner + [write]
                elt = self._replace_in_expr(A.rename(comp.elt, mapping), inner, stmt)
                return inner + [A.expr_stmt(A.method_call(A.name(result), "append", [elt]))]
            gen = comp.generators[level]
            before = []
            iterable = self._replace_in_expr(A.rename(gen.iter, mapping), before, stmt)
            mapping.update({n: self.namer.fresh("_c") for n in A.names_stored_in_order(gen.target)})
            target = A.rename(gen.target, mapping)
            ifs = [A.rename(c, mapping) for c in gen.ifs]
            body = clause(level + 1)
            for cond in reversed(ifs):
                test_pre = []
                test = self._replace_in_expr(cond, test_pre, stmt)
                body = test_pre + [A.if_(test, body)]
            loop = gast.For(target=target, iter=iterable, body=body, orelse=[], type_comment=None)
            return before + [loop]

        empty = gast.Dict(keys=[], values=[]) if is_dict else gast.List(elts=[], ctx=gast.Load())
        pre.extend(A.located_all([A.assign(result, empty)] + clause(0), comp))
        if isinstance(comp, gast.SetComp):
            return A.located(A.call(A.global_ref(builtins.set, "set"), [A.name(result)]), comp)
        return A.name(result)

    # ---------------------------------------------- iteration -> range loops
    def lower_iteration(self, stmts):
        out = []
        for stmt in stmts:
            if isinstance(stmt, gast.With):
                stmt.body = self.lower_iteration(stmt.body)
                out.append(stmt)
            elif isinstance(stmt, gast.While) and stmt.orelse:
                out.extend(self._lower_while_else(stmt))
            elif isinstance(stmt, (gast.If, gast.While)):
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

    def _lower_while_else(self, loop):
        """while/else: the else block runs when the loop did not break (as for/else)."""
        flag = self.namer.fresh("_broke")
        orelse = self.lower_iteration(loop.orelse)
        loop.orelse = []
        loop.body = self.lower_iteration(_BreakMarker(flag).visit_block(loop.body))
        init = A.located(A.assign(flag, A.const(False)), loop)
        return [init, loop, A.located(A.if_(A.not_(A.name(flag)), orelse), loop)]

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
            if target is itertools.cycle and len(args) == 1:
                # endless: element k is element k % n of the iterable
                pre, length, element = self._iteration(args[0])
                n_name = self.namer.fresh("_n")
                pre.append(A.assign(n_name, length))
                endless = A.call(A.global_ref(len, "len"), [A.call(A.global_ref(runtime.CountSequence,
                                                                                "CountSequence"), [])])
                return pre, endless, lambda k: element(A.binop(k, gast.Mod(), A.name(n_name)))
            if target is itertools.repeat and len(args) in (1, 2):
                value = self.namer.fresh("_repeated")
                pre = [A.assign(value, args[0])]
                length = args[1] if len(args) == 2 else \
                    A.call(A.global_ref(len, "len"), [A.call(A.global_ref(runtime.CountSequence, "CountSequence"), [])])
                return pre, length, lambda k: A.name(value)
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
        if isinstance(iterable, gast.Call) and self.resolve(iterable.func) is itertools.count:
            # endless: the loop ends by a break or return (a zip by its other iterables)
            made = A.call(A.global_ref(runtime.CountSequence, "CountSequence"), iterable.args, iterable.keywords)
            return [A.assign(seq, made)], A.call(A.global_ref(builtins.len, "len"), [A.name(seq)]), \
                lambda k: A.subscript(A.name(seq), k)
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
        if isinstance(stmt, gast.With):
            flags = set()
            stmt.body = self._collect(stmt.body, loop, flags)
            return [stmt], flags
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


_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp)


def _has_comprehension(*nodes):
    return any(isinstance(n, _COMPREHENSIONS) for node in nodes for n in gast.walk(node))


def is_index_concatenator(obj):
    """np.r_, np.c_ (instances of NumPy's AxisConcatenator classes; not np.ma's)."""
    return isinstance(obj, (type(np.r_), type(np.c_)))


def _slice_as_value(index):
    """An index as an ordinary expression: `0:3` becomes `slice(0, 3, None)`."""
    if isinstance(index, gast.Slice):
        parts = [_slice_as_value(p) if p is not None else A.const(None)
                 for p in (index.lower, index.upper, index.step)]
        return A.call(A.global_ref(builtins.slice, "slice"), parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[_slice_as_value(e) for e in index.elts], ctx=gast.Load())
    return index


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


def _endless_yield_loop(loop):
    """A `while True:` (constant test) that yields, with no break of its own, return or raise."""
    if not (isinstance(loop, gast.While) and isinstance(loop.test, gast.Constant) and loop.test.value):
        return False
    inner = list(_all_statements(loop.body, into_loops=True))
    if any(isinstance(s, (gast.Return, gast.Raise)) for s in inner):
        return False
    if not any(isinstance(n, (gast.Yield, gast.YieldFrom)) for s in inner for n in gast.walk(s)):
        return False
    return not any(isinstance(s, gast.Break) for s in _all_statements(loop.body, into_loops=False))


def _all_statements(stmts, into_loops):
    """Statements of stmts and the blocks inside (handlers, cases too), not inside
    functions or classes defined there, nor (into_loops false) nested loops."""
    for s in stmts:
        yield s
        if isinstance(s, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)) \
                or (not into_loops and isinstance(s, (gast.For, gast.While))):
            continue
        blocks = [getattr(s, f, None) for f in ("body", "orelse", "finalbody")]
        blocks += [part.body for part in (getattr(s, "handlers", None) or []) + (getattr(s, "cases", None) or [])]
        for block in blocks:
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                yield from _all_statements(block, into_loops)


def _statements_of_this_loop(stmts):
    """Statements of a loop body, not descending into nested loops."""
    for s in stmts:
        yield s
        if isinstance(s, (gast.If, gast.With)):
            yield from _statements_of_this_loop(s.body)
            yield from _statements_of_this_loop(s.orelse if isinstance(s, gast.If) else [])


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
            elif isinstance(s, gast.With):
                s.body = self.visit_block(s.body)
            elif isinstance(s, gast.Try):
                s.body = self.visit_block(s.body)
                s.orelse = self.visit_block(s.orelse)
                s.finalbody = self.visit_block(s.finalbody)
                for handler in s.handlers:
                    handler.body = self.visit_block(handler.body)
            out.append(s)
        return out


_ITERATORS = (builtins.zip, builtins.enumerate, builtins.map, builtins.filter, builtins.reversed, builtins.iter)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _sublist_letters(node):
    """The subscript letters of a literal einsum sublist ([0, 1], (Ellipsis, 2)), or None."""
    if not isinstance(node, (gast.List, gast.Tuple)):
        return None
    out = ""
    for e in node.elts:
        if isinstance(e, gast.Constant) and e.value is Ellipsis:
            out += "..."
        elif isinstance(e, gast.Constant) and type(e.value) is int and 0 <= e.value < len(_LETTERS):
            out += _LETTERS[e.value]
        else:
            return None
    return out


class _LibraryCalls(gast.NodeTransformer):
    """dict(k=v, ...) as a dict literal; dict(<iterator>) as dict(list(<iterator>));
    np.einsum in sublist form with literal sublists in subscript form; ``x.flat`` reads as
    ``runtime_pure.flat_read(x)``;
    itertools.starmap(f, pairs) as the generator expression (f(*p) for p in pairs);
    ``diffc.vjp(f, *primals)`` as (f's value, its pullback as a partial holding f and the
    primals), which the rules of calls of function values differentiate."""

    def __init__(self, resolve):
        self.resolve = resolve

    def _vjp_pair(self, node):
        """``diffc.vjp(f, a, b)``: ``(call_value(f, (a, b), {}), partial_value(vjp_pullback(2),
        (f, a, b), {}))``.  Each argument is written twice, so only names, constants, attributes
        and lambdas (no effects when evaluated) are rewritten; other calls stay (refused: no
        rule for diffc.vjp)."""
        simple = (gast.Name, gast.Constant, gast.Attribute, gast.Lambda)
        if len(node.args) < 2 or node.keywords or not all(isinstance(a, simple) for a in node.args):
            return node
        f, primals = node.args[0], node.args[1:]

        def tuple_of(elts):
            return gast.Tuple(elts=[A.deepcopy(e) for e in elts], ctx=gast.Load())
        value = A.call(A.global_ref(runtime_calls.call_value, "call_value"),
                       [A.deepcopy(f), tuple_of(primals), gast.Dict(keys=[], values=[])])
        pullback_fn = A.call(A.global_ref(runtime_calls.vjp_pullback, "vjp_pullback"), [A.const(len(primals))])
        pullback = A.call(A.global_ref(runtime_calls.partial_value, "partial_value"),
                          [pullback_fn, tuple_of([f] + primals), gast.Dict(keys=[], values=[])])
        return A.located(gast.Tuple(elts=[value, pullback], ctx=gast.Load()), node)

    def visit_Attribute(self, node):
        """``x.flat`` read: runtime_pure.flat_read(x) (a written ``x.flat[i] = v`` is left to the fence)."""
        self.generic_visit(node)
        if node.attr == "flat" and isinstance(node.ctx, gast.Load) and self.resolve(node.value) is MISSING:
            return A.located(A.call(A.global_ref(runtime_pure.flat_read, "flat_read"), [node.value]), node)
        return node

    def visit_Subscript(self, node):
        if isinstance(node.ctx, (gast.Store, gast.Del)) and isinstance(node.value, gast.Attribute):
            node.value = self.generic_visit(node.value)     # (the written attribute itself stays)
            node.slice = self.visit(node.slice)
            return node
        return self.generic_visit(node)

    def visit_Call(self, node):
        self.generic_visit(node)
        target = self.resolve(node.func)
        if target is np.einsum:
            return self._einsum_subscripts(node)
        if getattr(target, "diffc_returns_pullback", False):
            return self._vjp_pair(node)
        if target is itertools.starmap and len(node.args) == 2 and not node.keywords \
                and not any(isinstance(a, gast.Starred) for a in node.args):
            item = "_starmap_item"
            element = gast.Call(func=node.args[0], args=[gast.Starred(value=A.name(item), ctx=gast.Load())],
                                keywords=[])
            generator = gast.comprehension(target=A.store(item), iter=node.args[1], ifs=[], is_async=0)
            return A.located(gast.GeneratorExp(elt=A.located(element, node), generators=[generator]), node)
        if target is not builtins.dict:
            return node
        if not node.args and node.keywords and all(k.arg is not None for k in node.keywords):
            return gast.Dict(keys=[A.const(k.arg) for k in node.keywords],
                             values=[k.value for k in node.keywords])
        if len(node.args) == 1 and not node.keywords:
            arg = node.args[0]
            if isinstance(arg, gast.GeneratorExp) or (
                    isinstance(arg, gast.Call) and self.resolve(arg.func) in _ITERATORS):
                node.args = [A.call(A.global_ref(builtins.list, "list"), [arg])]
        return node

    def _einsum_subscripts(self, node):
        args = node.args
        if len(args) < 2 or node.keywords or any(isinstance(a, gast.Starred) for a in args) \
                or isinstance(args[0], gast.Constant):
            return node
        pairs, output = (args[:-1], args[-1]) if len(args) % 2 else (args, None)
        subs = [_sublist_letters(a) for a in pairs[1::2]]
        out = "" if output is None else _sublist_letters(output)
        if any(s is None for s in subs) or out is None:
            return node
        spec = ",".join(subs) + ("" if output is None else "->" + out)
        node.args = [A.const(spec)] + list(pairs[0::2])
        return node


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
