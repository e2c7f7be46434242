"""view_unwritten_copies: a copy of a slice that nothing writes into while it is read is a view.

The last pass (the passes before it may move a read of a name later, which
is exact for a copy and not for a view), and not run on code compiled to be
differentiated again.

Input: a generated FunctionDef, after the other optimizations (markers
resolved), with ``b = copy_value(y[S])`` with S slices (an array view; for a list,
a new list either way), where
* ``y`` is a local (bound in the function, not a parameter), every
  binding of which is a new object (arithmetic, ``zeros_like``, a copy)
  or ``y += e``;
* ``b`` and every name that may share its object (bound from an
  expression whose value may be it, a view of it or a container of it:
  `_roots`) are bound once in the function and mentioned only from that
  statement to the last one in the same block that mentions them (the
  region), each read after its binding;
* nothing in the function hands ``y``, ``b`` or a name sharing theirs to
  a call that may keep or write into it (only pure calls, ufuncs given
  their inputs and helpers known not to write), and no other name takes
  their elements by ``+=``;
* every statement of the region is an assignment to names other than
  ``y``'s, a write ``z[...] = e`` into another name (a primal restore),
  ``t += e`` into a name that shares neither object and with ``e`` a new
  value, or an expression; in it, ``y``, ``b`` and the names sharing
  theirs reach calls only as above; the last statement may also be an
  accumulation ``y[...] += e`` / ``-= e`` with ``e`` a new value (Python
  evaluates ``e`` before anything is written).
Output: ``b = y[S]``.  Every read of the copy happens before anything
writes into the memory it shares with ``y`` (``u_bar[1:-1]`` read for
``alpha_bar`` and ``_t7_bar`` before the ``u_bar[...] += ...``
accumulations of a stencil's adjoint), so the view reads the same values
and one array copy per execution is saved.
"""

import gast
import numpy as np

from .. import ast_util as A
from .. import effects
from .. import runtime
from ..transform.reverse import is_marker
from .aliasing import FRESH_HELPERS, fresh_call
from ..analysis.stores import resolve_chain
from ..rules import is_pure_call
from .rewriting import mentioned_names


def _slice_index(index):
    """A basic index of slices (with ints): on an array it gives a view, on a list
    a new list (as ``copy_value`` of the list would), never a shared element."""
    if isinstance(index, gast.Slice):
        return True
    if isinstance(index, gast.Tuple):
        parts = index.elts
        return any(isinstance(p, gast.Slice) for p in parts) and all(
            isinstance(p, gast.Slice) or (isinstance(p, gast.Constant) and type(p.value) is int)
            for p in parts)
    return False


def _copied_slice(value):
    """y for ``copy_value(y[S])`` with S slices (see _slice_index), else None."""
    if not (isinstance(value, gast.Call) and isinstance(value.func, gast.Name)
            and getattr(value.func, "diffc_global", None) is runtime.copy_value
            and len(value.args) == 1 and not value.keywords):
        return None
    arg = value.args[0]
    if isinstance(arg, gast.Subscript) and isinstance(arg.value, gast.Name) and _slice_index(arg.slice):
        return arg.value.id
    return None


def _roots(expr):
    """Names whose objects expr may evaluate to, or to a view or element of
    (arithmetic and copies give new objects; another call may return its argument)."""
    if isinstance(expr, gast.Name):
        return {expr.id}
    if isinstance(expr, (gast.Subscript, gast.Attribute, gast.Starred)):
        return _roots(expr.value)
    if isinstance(expr, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant)) or fresh_call(expr):
        return set()
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) \
            and effects.has(getattr(expr.func, "diffc_global", None), effects.FRESH):
        return set()
    if isinstance(expr, gast.Call):
        return set().union(*(_roots(a) for a in expr.args), *(_roots(k.value) for k in expr.keywords))
    return mentioned_names(expr)


def _handed(expr, watched, pure_ok):
    """Whether a call in expr may be handed an object of a name in ``watched`` (or a
    view or element of one) to keep or write into: any call but ``harmless`` helpers,
    ufuncs given their inputs only and (when ``pure_ok``) pure calls.  Lambdas and
    comprehensions count as such calls."""
    for n in A.walk(expr):
        if isinstance(n, (gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp, gast.GeneratorExp,
                          gast.NamedExpr)):
            if mentioned_names(n) & watched:
                return True
            continue
        if not isinstance(n, gast.Call):
            continue
        passed = _roots(n) | (_roots(n.func.value) if isinstance(n.func, gast.Attribute) else set())
        if not (passed & watched):
            continue
        if isinstance(n.func, gast.Name):
            func = getattr(n.func, "diffc_global", None)
        else:
            func = getattr(n.func, "diffc_resolved", None) or resolve_chain(n.func)
        if effects.has(func, effects.NO_WRITES) or (isinstance(func, np.ufunc) and len(n.args) <= func.nin and not n.keywords):
            continue
        if pure_ok and is_pure_call(n):
            continue
        return True
    return False


def _sharing(y, statements):
    """Names that may hold y's object, a view of it or a container with it (y
    included): bound from an expression whose `_roots` meet them, to a fixpoint."""
    out = {y}
    while True:
        grown = set(out)
        for s in statements:
            if isinstance(s, gast.Assign) and _roots(s.value) & out:
                for t in s.targets:
                    grown |= A.names_stored(t)
            elif isinstance(s, gast.For) and _roots(s.iter) & out:
                grown |= A.names_stored(s.target)
        if grown == out:
            return out
        out = grown


def _owned(y, statements):
    """Every binding of y makes a new object or updates it in place (``y += e``)."""
    for s in statements:
        if isinstance(s, gast.Assign) and any(y in A.names_stored(t) for t in s.targets):
            if not (len(s.targets) == 1 and isinstance(s.targets[0], gast.Name)
                    and (isinstance(s.value, FRESH_HELPERS) or fresh_call(s.value))):
                return False
        elif isinstance(s, gast.AugAssign):
            if y in A.names_stored(s.target) and not isinstance(s.target, gast.Name):
                return False
        elif isinstance(s, (gast.For, gast.AnnAssign, gast.Delete)) or is_marker(s):
            if y in A.names_stored(s.target if isinstance(s, gast.For) else s):
                return False
    return True


def view_unwritten_copies(fn):
    """See the module docstring."""
    params = {a.id for a in fn.args.args + fn.args.posonlyargs + fn.args.kwonlyargs if isinstance(a, gast.Name)}
    for extra in (fn.args.vararg, fn.args.kwarg):
        if isinstance(extra, gast.Name):
            params.add(extra.id)
    mentions, stores = {}, {}
    for n in A.walk(fn):
        if isinstance(n, gast.Name):
            mentions[n.id] = mentions.get(n.id, 0) + 1
            if not isinstance(n.ctx, gast.Load):
                stores[n.id] = stores.get(n.id, 0) + 1

    def block(stmts):
        for s in stmts:
            for inner in A.child_blocks(s):
                block(inner)
        for i, s in enumerate(stmts):
            if not (isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Name)):
                continue
            y = _copied_slice(s.value)
            b = s.targets[0].id
            if y is None or y == b or y in params or not stores.get(y) or b in mentioned_names(s.value):
                continue            # (a global y: a call may write into it)
            if _viewable(fn, params, mentions, stores, stmts, i, b, y):
                s.value = s.value.args[0]
    block(fn.body)
    return fn


def _viewable(fn, params, mentions, stores, stmts, i, b, y):
    """Whether the copy bound to b from y at stmts[i] may be a view of y instead (the
    conditions are in the module docstring): fn is the whole function, params its
    parameters, mentions/stores how often each name is mentioned/stored in it."""
    everything = list(A.walk_statements(fn.body))
    if not _owned(y, everything):
        return False            # y's memory may be shared with a value it was bound from
    bars, taken = _sharing(y, everything), _sharing(b, everything)
    if b in bars or taken & bars or (bars | taken) & params:
        return False
    watched = bars | taken
    for s in everything:        # y or the copy handed to a call that may keep it
        if isinstance(s, (gast.If, gast.While)):
            own = s.test
        elif isinstance(s, gast.For):
            own = s.iter
        else:
            own = s
        if _handed(own, watched, True):
            return False
    if any(stores.get(t) != 1 for t in taken):
        return False
    for s in everything:        # no other name holds y's rows (``lst += y``)
        if isinstance(s, gast.AugAssign) and _roots(s.value) & bars and not _roots(s.target) & bars:
            return False
    last = max(k for k in range(i, len(stmts)) if mentioned_names(stmts[k]) & taken)
    seen = {}
    for k in range(i, last + 1):
        for n in A.walk(stmts[k]):
            if isinstance(n, gast.Name) and n.id in taken:
                seen[n.id] = seen.get(n.id, 0) + 1
    if any(seen.get(t, 0) != mentions[t] for t in taken):
        return False            # read outside the region (later, or in the next iteration)
    bound = {b}
    for k in range(i + 1, last + 1):
        s = stmts[k]
        reads = []
        if k == last and isinstance(s, gast.AugAssign) and isinstance(s.op, (gast.Add, gast.Sub)) \
                and _roots(s.target) & bars and not _roots(s.value) & watched:
            # the last read: an accumulation into y of new values computed from the copy
            # (the right side is evaluated before anything is written)
            targets = set()
            if isinstance(s.target, gast.Subscript):
                if not isinstance(s.target.value, gast.Name) or mentioned_names(s.target.slice) & taken:
                    return False
                reads = [s.target.slice]
            elif not isinstance(s.target, gast.Name):
                return False
        elif isinstance(s, gast.Assign) and len(s.targets) == 1 and isinstance(s.targets[0], gast.Subscript):
            target = s.targets[0]      # a write into another array (a primal restore)
            if not isinstance(target.value, gast.Name) or target.value.id in watched \
                    or _roots(s.value) & watched:
                return False
            targets = set()
            reads = [target.slice]
        elif isinstance(s, gast.Assign):
            if not all(isinstance(t, gast.Name) or (isinstance(t, (gast.Tuple, gast.List))
                                                    and all(isinstance(e, gast.Name) for e in t.elts))
                       for t in s.targets):
                return False
            targets = set().union(*(A.names_stored(t) for t in s.targets))
        elif isinstance(s, gast.Expr):
            targets = set()
        elif isinstance(s, gast.Pass):
            continue
        elif isinstance(s, gast.AugAssign) and isinstance(s.target, gast.Name):
            targets = {s.target.id}
            if targets & watched or _roots(s.value) & watched:
                return False    # in place into y or the copy, or adding a list of its elements
        else:
            return False
        for expr in [s.value] + reads:
            if A.names_loaded(expr) & (taken - bound) or _handed(expr, watched, False):
                return False    # an alias read before it is bound, or handed to a writer
        if targets & bars:
            return False        # y rebound
        bound |= targets & taken
    return True
