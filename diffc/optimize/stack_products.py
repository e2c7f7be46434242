"""stack_products: a loop's products into a loop-invariant matrix's adjoint, as one product.

The adjoint of ``W`` in ``y = W @ h`` inside a loop is one outer product per
iteration, ``W_bar += _matmul_bar_a(g, W, h)`` (``g ⊗ h``): T small products,
T allocations of W's shape and T additions for a T-step loop.  Their sum is
one matrix product of the stacked vectors, ``G.T @ H`` (G, H: T rows), a
single BLAS call after the loop.  The same holds for ``x @ W``
(``_matmul_bar_b``) and for batches (2-d g and h: the stack concatenates them).

Input: a generated FunctionDef after the other optimizations (not run on
code compiled to be differentiated again, whose helpers need derivative
rules).
Output: the same function where, in a ``for`` loop without ``break``,
``return`` or ``else``, each statement

    X += _matmul_bar_a(G, A, B)    (adjoint of A, A loop-invariant)
    X += _matmul_bar_b(G, A, B)    (adjoint of B, B loop-invariant)

(directly in the loop body or inside its ``if`` blocks; G, A, B names) becomes
``X = stack_bar_a(S, X, G, A, B)`` (``stack_bar_b``), with ``S = []`` before
the loop and ``X = flush_bar_a(S, X, A)`` (``flush_bar_b(S, X, B)``) right
after it, provided that

* the matrix (A or B) is bound nowhere in the loop (the same matrix every step),
* X is mentioned nowhere else in the loop (no iteration reads a partial sum),
* X is nowhere in the function copied to another name (``Z = X``), so no
  alias could see the deferred contributions missing.

At run time `stack_bar_a` keeps (G, B) when the operands are float64 ndarrays
of the stacking shapes (1-d vectors with a 2-d matrix, or 2-d batches when the
matrix is at least as large as a step's operands: then the stacking copies no
more than the per-step products would allocate); any other step adds its
product to X at once, as before.  The stack is summed into X when it reaches
`STACK_CHUNK` entries (memory stays bounded on long loops), when the operand
shapes change, and after the loop.  The gradient is the same sum, reassociated
(equal to the sequential one up to rounding, not bit for bit).
"""

import gast
import numpy as np

from .. import ast_util as A
from .. import effects
from ..naming import Namer, identifiers
from ..rules.operators import matmul_bar_a, matmul_bar_b

# Entries kept before a partial sum: 64 vectors of 64 floats are 32 KB a stack.
STACK_CHUNK = 64


def _stackable(g, vec, matrix):
    """Whether (g, vec) can wait in a stack: float64, 1-d vectors of a 2-d matrix
    (outer products), or 2-d batches no larger than the matrix."""
    if not (type(g) is np.ndarray and type(vec) is np.ndarray and type(matrix) is np.ndarray
            and matrix.ndim == 2 and g.dtype.char == "d" == vec.dtype.char == matrix.dtype.char):
        return False
    if g.ndim == 1 and vec.ndim == 1:
        return True
    return g.ndim == 2 and vec.ndim == 2 and matrix.size >= g.size + vec.size


def _push(stack, bar, g, vec, flush, matrix):
    """Add (g, vec) to the stack, summing it first when the shapes change or it is full."""
    if stack and (stack[0][0].shape != g.shape or stack[0][1].shape != vec.shape):
        bar = flush(stack, bar, matrix)
    stack.append((g, vec))
    if len(stack) >= STACK_CHUNK:
        bar = flush(stack, bar, matrix)
    return bar


def stack_bar_a(stack, bar, g, a, b):
    """bar plus the adjoint of a in a @ b, which may wait in stack (see module docstring)."""
    if _stackable(g, b, a):
        return _push(stack, bar, g, b, flush_bar_a, a)
    if type(g) is float and g == 0.0:
        return bar
    bar += matmul_bar_a(g, a, b)
    return bar


def stack_bar_b(stack, bar, g, a, b):
    """bar plus the adjoint of b in a @ b, which may wait in stack (see module docstring)."""
    if _stackable(g, a, b):
        return _push(stack, bar, g, a, flush_bar_b, b)
    if type(g) is float and g == 0.0:
        return bar
    bar += matmul_bar_b(g, a, b)
    return bar


def flush_bar_a(stack, bar, a):
    """bar plus the sum of the adjoints of a that wait in stack; empties stack.

    sum_t outer(g_t, b_t) = G.T @ B with G, B the stacked rows;
    sum_t g_t @ b_t.T = [g_1 ... g_T] @ [b_1 ... b_T].T (side by side)."""
    if not stack:
        return bar
    if stack[0][0].ndim == 1:
        total = np.array([g for g, _ in stack]).T @ np.array([b for _, b in stack])
    else:
        total = np.concatenate([g for g, _ in stack], axis=1) @ \
            np.concatenate([b for _, b in stack], axis=1).T
    stack.clear()
    bar += total
    return bar


def flush_bar_b(stack, bar, b):
    """bar plus the sum of the adjoints of b that wait in stack (pairs (g, a)); empties stack.

    sum_t a_t.T @ g_t = A.T @ G with A, G the stacked (1-d) or concatenated (2-d) rows."""
    if not stack:
        return bar
    if stack[0][0].ndim == 1:
        rows, gs = np.array([a for _, a in stack]), np.array([g for g, _ in stack])
    else:
        rows = np.concatenate([a for _, a in stack], axis=0)
        gs = np.concatenate([g for g, _ in stack], axis=0)
    stack.clear()
    bar += rows.T @ gs
    return bar


# They write into the stack (and into the adjoint they are given): never dropped or moved.
effects.declare(stack_bar_a, stack_bar_b, flush_bar_a, flush_bar_b, facts=(effects.EFFECTFUL,))

_KINDS = {matmul_bar_a: (stack_bar_a, flush_bar_a, 1), matmul_bar_b: (stack_bar_b, flush_bar_b, 2)}


def _product(stmt):
    """(X, helper, [G, A, B]) for `X += _matmul_bar_a/b(G, A, B)` with name operands."""
    if not (isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, gast.Add)
            and isinstance(stmt.target, gast.Name) and isinstance(stmt.value, gast.Call)):
        return None
    call = stmt.value
    helper = getattr(call.func, "diffc_global", None) if isinstance(call.func, gast.Name) else None
    if helper not in _KINDS or call.keywords or len(call.args) != 3 \
            or not all(isinstance(a, gast.Name) and not hasattr(a, "diffc_global") for a in call.args):
        return None
    return stmt.target.id, helper, call.args


def _candidates(block):
    """The product statements of a loop body, directly or inside its `if` blocks."""
    for stmt in block:
        if _product(stmt) is not None:
            yield stmt
        elif isinstance(stmt, gast.If):
            yield from _candidates(stmt.body)
            yield from _candidates(stmt.orelse)


def _leaves_early(loop):
    return any(isinstance(n, (gast.Break, gast.Return, gast.Yield, gast.YieldFrom))
               for n in A.walk(loop) if not isinstance(n, (gast.FunctionDef, gast.Lambda)))


def _copied_names(fn):
    """Names assigned whole to another name somewhere (`Z = X`): possible aliases."""
    return {s.value.id for s in A.walk_statements(fn.body)
            if isinstance(s, gast.Assign) and isinstance(s.value, gast.Name)}


class _Stacker:
    def __init__(self, fn):
        self.namer = Namer(identifiers(fn))
        self.copied = _copied_names(fn)

    def block(self, stmts):
        out = []
        for stmt in stmts:
            for inner in A.child_blocks(stmt):
                inner[:] = self.block(inner)
            if isinstance(stmt, gast.For) and not stmt.orelse and not _leaves_early(stmt):
                before, after = self.loop(stmt)
                out += before + [stmt] + after
            else:
                out.append(stmt)
        return out

    def loop(self, loop):
        bound = A.names_bound([loop]) | A.names_stored(loop.target)
        mentions = {}
        for n in A.walk(loop):
            if isinstance(n, gast.Name):
                mentions[n.id] = mentions.get(n.id, 0) + 1
        products = list(_candidates(loop.body))
        per_bar = {}
        for stmt in products:
            per_bar.setdefault(stmt.target.id, []).append(stmt)
        before, after = [], []
        for stmt in products:
            bar, helper, (g, a, b) = _product(stmt)
            stack_fn, flush_fn, which = _KINDS[helper]
            matrix = (a, b)[which - 1]
            # X appears as the target of its products only; the matrix is fixed
            if mentions.get(bar, 0) != len(per_bar[bar]) or bar in self.copied \
                    or matrix.id in bound or bar in (g.id, a.id, b.id):
                continue
            stack = self.namer.fresh("_stack")
            new = A.assign(bar, A.call(A.global_ref(stack_fn, stack_fn.__name__),
                                       [A.name(stack), A.name(bar), A.name(g.id), A.name(a.id),
                                        A.name(b.id)]))
            A.located(new, stmt)
            _replace(loop.body, stmt, new)
            before.append(A.located(A.assign(stack, gast.List(elts=[], ctx=gast.Load())), loop))
            after.append(A.located(A.assign(bar, A.call(
                A.global_ref(flush_fn, flush_fn.__name__),
                [A.name(stack), A.name(bar), A.name(matrix.id)])), loop))
        return before, after


def _replace(block, old, new):
    for i, stmt in enumerate(block):
        if stmt is old:
            block[i] = new
            return True
        if isinstance(stmt, gast.If) and (_replace(stmt.body, old, new) or _replace(stmt.orelse, old, new)):
            return True
    return False


def stack_products(fn):
    """See the module docstring."""
    fn.body = _Stacker(fn).block(fn.body)
    return fn
