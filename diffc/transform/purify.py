"""Purify: derivative code that diffc can differentiate again (higher order).

Input: a finished generated function (a gradient or a tangent function) whose
statements may call runtime helpers that write into an adjoint or tangent
buffer they are given (``acc_item``, ``take_item``, ``zero_item``,
``pop_bar``, ``pop_bars``, ``unpop_bar``, ``write_dot``, ``append_dot``,
``extend_dot``, ``pop_dot``), or that undo a write into a list or dict
(``write_item``, ``truncate``).  First-order code uses them because writing
into a buffer the gradient owns is fast.

Output: the same computation where every such call is replaced by pure
helpers (``runtime_pure.added_item``, ``zeroed_item``, ``last_bar``...) whose
results are rebound to the buffer's name: ``v = take_item(b, i)`` becomes
``v = item(b, i); b = zeroed_item(b, i)``.  No statement then changes a value
behind a name, so reverse mode sees only assignments and calls with rules
(rules/syntax.py), and its tape restores exactly what each statement read.

Invariants: helpers are only ever called on a plain name as their buffer
argument (reverse.py/forward.py emit them that way); a call the optimizer
substituted into a larger expression is first hoisted into a statement of its
own.  A call left in no recognized shape stays as it is: take_item,
zero_item, pop_bar(s), unpop_bar, write_item and truncate have no adjoint
rule, so differentiating it is refused loudly (NoDerivativeRule) rather than
computed wrong.
"""

import gast

from .. import ast_util as A
from .. import effects
from .. import runtime
from .. import runtime_pure


def _rt(fn):
    return A.global_ref(fn, fn.__name__)


def _helper(call):
    """The runtime helper a call calls, or None."""
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Name):
        return getattr(call.func, "diffc_global", None)
    return None


def _rebind(buffer, fn, args):
    """`buffer = fn(*args)` for a buffer given as a Name node."""
    return A.assign(buffer.id, A.call(_rt(fn), [A.deepcopy(a) for a in args]))


def _restore_in_place(container, index, old, fresh):
    """The restore `write_item(c, i, old)` as the plain write `c[i] = old` (a removal of an
    added dict key as `c = restored_item(c, i, old)`).  The restore must reach the object
    itself: another name may hold it (`model = Quadratic(A)` before `A[0, 0] += 1.0`) and
    read it later, which a restored copy would not change; reverse mode differentiates
    the plain write like any other in-place write."""
    kept = fresh()
    removal = _rebind(container, runtime_pure.restored_item, [container, index, A.name(kept)])
    write = A.assign(A.subscript(A.name(container.id), A.deepcopy(index), gast.Store()), A.name(kept))
    return [A.assign(kept, A.deepcopy(old)),
            gast.If(test=A.call(_rt(runtime.is_absent), [A.name(kept)]), body=[removal], orelse=[write])]


def _purify_statement(stmt, fresh):
    """The pure statements replacing stmt, or None to keep it."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
        target, call = stmt.targets[0], stmt.value
        fn = _helper(call)
        if fn is None:
            return None
        args = call.args
        if fn is runtime.acc_item:
            return [A.assign(target, A.call(_rt(runtime_pure.added_item), args))]
        if fn is runtime.unpop_bar:
            return [A.assign(target, A.call(_rt(runtime_pure.appended_bar), args))]
        if fn is runtime.write_dot:
            return [A.assign(target, A.call(_rt(runtime_pure.written_dot), args))]
        if fn is runtime.append_dot:
            return [A.assign(target, A.call(_rt(runtime_pure.appended_dot), args))]
        if fn is runtime.extend_dot:
            return [A.assign(target, A.call(_rt(runtime_pure.extended_dot), args))]
        if fn is runtime.take_item:
            bar, index = args
            return [A.assign(target, A.call(_rt(runtime_pure.taken_item), [A.deepcopy(bar), A.deepcopy(index)])),
                    _rebind(bar, runtime_pure.zeroed_item, [bar, index])]
        if fn is runtime.pop_bar:
            bar, = args
            return [A.assign(target, A.call(_rt(runtime_pure.last_bar), [A.deepcopy(bar)])),
                    _rebind(bar, runtime_pure.without_last, [bar, A.const(1)])]
        if fn is runtime.pop_bars:
            bar, n = args
            return [A.assign(target, A.call(_rt(runtime_pure.last_bars), [A.deepcopy(bar), A.deepcopy(n)])),
                    _rebind(bar, runtime_pure.without_last, [bar, n])]
        if fn is runtime.pop_dot:
            dot = args[0]
            return [A.assign(target, A.call(_rt(runtime_pure.popped_dot), [A.deepcopy(a) for a in args])),
                    _rebind(dot, runtime_pure.without_popped, [dot] + list(args[2:3]))]
        return None
    if isinstance(stmt, gast.Expr):
        fn = _helper(stmt.value)
        args = stmt.value.args if fn is not None else None
        if fn is runtime.zero_item or fn is runtime.take_item:
            bar, index = args
            return [_rebind(bar, runtime_pure.zeroed_item, [bar, index])]
        if fn is runtime.pop_bar:
            return [_rebind(args[0], runtime_pure.without_last, [args[0], A.const(1)])]
        if fn is runtime.pop_bars:
            return [_rebind(args[0], runtime_pure.without_last, args)]
        if fn is runtime.pop_dot:
            return [_rebind(args[0], runtime_pure.without_popped, [args[0]] + list(args[2:3]))]
        if fn is runtime.write_item:
            return _restore_in_place(*args, fresh)
        if fn is runtime.truncate:
            return [_rebind(args[0], runtime_pure.truncated, args)]
    return None


def _reads_and_mutates(helper):
    """Helpers that return a value and mutate their first argument: when the optimizer
    has substituted such a call into a larger expression, it is first hoisted into
    a statement of its own."""
    return effects.has(helper, effects.MUTATES_FIRST) and not effects.has(helper, effects.NO_RESULT)


def _hoist_nested(stmt, fresh):
    """(statements binding nested mutating calls of stmt to fresh names, stmt rewritten).

    A call is hoisted only when nothing else in stmt reads its buffer, so moving
    it ahead of the rest of the statement changes no value."""
    top = stmt.value if isinstance(stmt, (gast.Assign, gast.Expr)) else None
    hoisted = []

    class Hoist(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            if node is top or not _reads_and_mutates(_helper(node)):
                return node
            buffer = node.args[0]
            if not isinstance(buffer, gast.Name):
                if _helper(node) is runtime.take_item and len(node.args) == 2:
                    # the buffer is a value computed right here (the optimizer substituted a
                    # temporary): nothing else sees it zeroed, so this is a read -- the pure
                    # one, which drops the entries a repeated index overwrote (y[[0, 0]] = v:
                    # only v[1] reaches y), as take_item does
                    return A.located(A.call(_rt(runtime_pure.taken_item), list(node.args)), node)
                return node
            reads = sum(1 for n in A.walk(stmt) if isinstance(n, gast.Name) and n.id == buffer.id)
            if reads != 1:
                return node
            name = fresh()
            hoisted.append(A.assign(name, node))
            return A.name(name)
    if isinstance(stmt, (gast.Assign, gast.Expr, gast.AugAssign)):
        stmt = Hoist().visit(stmt)
    return hoisted, stmt


def _purify_block(stmts, fresh):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list) and block and isinstance(block[0], gast.stmt):
                setattr(stmt, field, _purify_block(block, fresh))
        hoisted, stmt = _hoist_nested(stmt, fresh)
        for s in hoisted + [stmt]:
            new = _purify_statement(s, fresh)
            out.extend(A.located_all(new, stmt) if new is not None else A.located_all([s], stmt))
    return out


def purify(fn):
    """fn (a gast FunctionDef) with every buffer-mutating helper call made pure, in place."""
    taken = {n.id for n in A.walk(fn) if isinstance(n, gast.Name)}
    counter = [0]

    def fresh():
        while True:
            counter[0] += 1
            name = f"_taken{counter[0]}"
            if name not in taken:
                taken.add(name)
                return name
    fn.body = _purify_block(fn.body, fresh)
    return fn
