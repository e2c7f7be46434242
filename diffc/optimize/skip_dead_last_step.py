"""skip_dead_last_step: no adjoint product for the loop's first iteration that nothing reads.

An adjoint loop hands each iteration's adjoint of a loop-carried value to the
next: ``h_bar = _matmul_bar_a(g, h, W)`` at iteration t is read at t - 1.  The
last adjoint iteration (the forward loop's first) computes it once more, for
the value the loop started from; when that value is inactive (``h = x`` with
x not differentiated) the product is thrown away.  For a classifier whose
first layer is 256x784 by 784x200 that is a quarter of the gradient's time.

Input: a generated FunctionDef after the other optimizations (not run on
code compiled to be differentiated again).
Output: the same function where, for each ``for`` loop of the function's top
level over ``reversed(N)`` (N a name the body never mentions, or a
``range(...)`` call with name or constant arguments), without ``break``, ``return`` or ``else``, each
statement ``T = H(args)`` with H one of the pure product adjoints
(`PURE_PRODUCTS`, name or constant arguments), directly in the loop body or
in its ``if`` blocks, is guarded by ``if _left:``, where ``_left = len(N)``
before the loop and ``_left -= 1`` first in its body count the iterations
still to come, provided that

* T is read by no statement after the loop (at the function's top level,
  so no enclosing loop brings it back), and
* T is read by nothing in the loop body after the statement (in program
  order): within an iteration the value only flows to the next one.

In the last iteration the skipped value would have been dead, so every
gradient is unchanged bit for bit; the statement only does not run.
"""

import builtins

import gast

from .. import ast_util as A
from ..naming import Namer, identifiers
from ..rules.products import dot_bar_a, dot_bar_b
from ..rules.operators import matmul_bar_a, matmul_bar_b

# Helpers without side effects whose result is a new array (or the zero 0.0).
PURE_PRODUCTS = (matmul_bar_a, matmul_bar_b, dot_bar_a, dot_bar_b)


def _is_pure_product(value):
    if not isinstance(value, gast.Call) or value.keywords or not isinstance(value.func, gast.Name):
        return False
    helper = getattr(value.func, "diffc_global", None)
    return any(helper is h for h in PURE_PRODUCTS) and all(
        isinstance(a, (gast.Name, gast.Constant)) for a in value.args)


def _counted(iterable):
    """N of `reversed(N)` when len(N) can be taken again before the loop, else None."""
    if not (isinstance(iterable, gast.Call) and isinstance(iterable.func, gast.Name)
            and getattr(iterable.func, "diffc_global", None) is builtins.reversed
            and len(iterable.args) == 1 and not iterable.keywords):
        return None
    inner = iterable.args[0]
    if isinstance(inner, gast.Name) and not hasattr(inner, "diffc_global"):
        return inner
    if isinstance(inner, gast.Call) and isinstance(inner.func, gast.Name) \
            and getattr(inner.func, "diffc_global", None) is builtins.range and not inner.keywords \
            and all(isinstance(a, (gast.Name, gast.Constant)) for a in inner.args):
        return inner
    return None


def _leaves_early(loop):
    return any(isinstance(n, (gast.Break, gast.Return, gast.Yield, gast.YieldFrom))
               for n in A.walk(loop) if not isinstance(n, (gast.FunctionDef, gast.Lambda)))


def _in_order(block):
    """(statement, the part of it evaluated where it stands) in program order, through ifs."""
    for stmt in block:
        if isinstance(stmt, gast.If):
            yield stmt, stmt.test
            yield from _in_order(stmt.body)
            yield from _in_order(stmt.orelse)
        else:
            yield stmt, stmt


def _guard(block, targets, counter):
    for i, stmt in enumerate(block):
        if any(stmt is t for t in targets):
            block[i] = A.located(A.if_(A.name(counter), [stmt]), stmt)
        elif isinstance(stmt, gast.If):
            _guard(stmt.body, targets, counter)
            _guard(stmt.orelse, targets, counter)


def _dead_last_products(loop, read_after):
    order = list(_in_order(loop.body))
    found = []
    for k, (stmt, _) in enumerate(order):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name) and _is_pure_product(stmt.value)):
            continue
        target = stmt.targets[0].id
        if target in read_after or any(target in A.names_loaded(part) for _, part in order[k + 1:]):
            continue
        found.append(stmt)
    return found


def skip_dead_last_step(fn):
    """See the module docstring."""
    namer = None
    body = fn.body
    i = 0
    while i < len(body):
        loop = body[i]
        counted = _counted(loop.iter) if isinstance(loop, gast.For) else None
        if counted is not None and isinstance(counted, gast.Name) \
                and any(counted.id in A.names_loaded(s) | A.names_stored(s) for s in loop.body):
            counted = None       # the body might change the sequence's length
        if counted is None or loop.orelse or _leaves_early(loop):
            i += 1
            continue
        read_after = set()
        for later in body[i + 1:]:
            read_after |= A.names_loaded(later)
        products = _dead_last_products(loop, read_after)
        if not products:
            i += 1
            continue
        namer = namer or Namer(identifiers(fn))
        counter = namer.fresh("_left")
        _guard(loop.body, products, counter)
        loop.body.insert(0, A.located(gast.AugAssign(target=A.store(counter), op=gast.Sub(),
                                                      value=A.const(1)), loop))
        start = A.call(A.global_ref(builtins.len, "len"), [A.deepcopy(counted)])
        body.insert(i, A.located(A.assign(counter, start), loop))
        i += 2
    return fn
