"""drop_dead_restores: drop the save/restore of in-place writes whose restored value is never read.

An in-place write ``y[i] = v`` is reversed by a ``save_item`` marker in the
forward sweep (push a copy of ``y[i]``) and a ``restore_item`` marker in the
adjoint sweep (pop it back into ``y[i]``).  `pipeline.resolve_markers` keeps
both whenever the adjoint reads ``y`` *anywhere*; but a restore only matters
if ``y`` (or a view of it) is read *after* it in execution order.  A typical
time-stepping loop ``u[1:-1] = f(u)`` whose adjoint reads only taped
temporaries, with ``u`` read once before the adjoint loop (``return
np.sum(u * u)``), pays a slice copy per step in each sweep for nothing.

Input: the forward and adjoint statement lists of one *joint* gradient
(a single function: the forward sweep, then the adjoint sweep, then the
return of the parameters' adjoints), markers not yet resolved.
Output: the same lists without any ``save_item``/``restore_item`` marker of
a variable ``y`` such that

  * ``y`` is a local of the function (not a parameter: the return statement
    added later may read it, e.g. ``finalize(y_bar, y)``);
  * no restore of ``y`` is followed, in adjoint execution order (loops
    counted as running again), by a read of ``y`` or of a name that may
    alias it -- every name bound from an expression that is not a fresh
    arithmetic result (or a copy made by a runtime helper) and reads an
    alias (``t = y[1:-1]``, ``t = y.T``, ``t = np.reshape(y, ...)``,
    ``for row in y``), to a fixpoint over both sweeps;
  * no alias of ``y`` is put into a literal container or passed to
    ``append``/``extend``/``insert`` (a reference that analysis cannot follow).

Saves and restores of one variable are kept or dropped together, so the
tape stays balanced.  Split (forward/adjoint) pairs are not given to this
pass: their forward returns values to the caller, whose adjoint may read
them after the callee's restores.
"""

import gast

from .. import ast_util as A
from ..transform.reverse import is_marker
from .aliasing import aliased_names

def _own_reads(s):
    """Names a statement reads itself (for compound statements: the test or iterator)."""
    if is_marker(s):
        kind, *args = s.diffc_marker
        if kind == "restore_item":        # writes into its container, reads the index
            return A.names_loaded(args[1])
        if kind == "restore_extend":
            return {args[0]} | A.names_loaded(args[1])
        if kind == "restore_append":
            return {args[0]}
        return set()
    if isinstance(s, (gast.If, gast.While)):
        return A.names_read(s.test)
    if isinstance(s, gast.For):
        return A.names_read(s.iter)
    return A.names_read(s) | getattr(s, "diffc_reads", set())   # a callee's adjoint reading its tape


def _reads_any(stmts, names):
    return any(_own_reads(s) & names for s in A.walk_statements(stmts))


def _restore_read(stmts, y, names, live_after):
    """Whether some restore of ``y`` in stmts runs before a read of ``names``
    (``live_after``: such a read follows stmts).  Returns (found, live_before)."""
    live = live_after
    found = False
    for s in reversed(stmts):
        if is_marker(s, "restore_item") and s.diffc_marker[1] == y:
            found = found or live
            live = live or bool(A.names_loaded(s.diffc_marker[2]) & names)
            continue
        if isinstance(s, (gast.For, gast.While)):
            inside = _reads_any([s], names)
            f, _ = _restore_read(s.body, y, names, live or inside)
            found = found or f
            live = live or inside
            continue
        if isinstance(s, gast.If):
            f1, l1 = _restore_read(s.body, y, names, live)
            f2, l2 = _restore_read(s.orelse, y, names, live)
            found = found or f1 or f2
            live = l1 or l2 or bool(A.names_loaded(s.test) & names)
            continue
        if _own_reads(s) & names:
            live = True
    return found, live


def _without(stmts, drop):
    out = []
    for s in stmts:
        if (is_marker(s, "save_item") or is_marker(s, "restore_item")) and s.diffc_marker[1] in drop:
            continue
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and not is_marker(s):
                setattr(s, field, _without(inner, drop))
        out.append(s)
    return out


def drop_dead_restores(forward, adjoint, locals_):
    """(forward, adjoint) without the save/restore pairs of variables in
    ``locals_`` whose restored values are never read (see module docstring)."""
    restored = {s.diffc_marker[1] for s in A.walk_statements(adjoint) if is_marker(s, "restore_item")}
    candidates = restored & set(locals_)
    if not candidates:
        return forward, adjoint
    statements = list(A.walk_statements(forward)) + list(A.walk_statements(adjoint))
    drop = set()
    for y in sorted(candidates):
        names = aliased_names(y, statements)
        if names is None:
            continue
        found, _ = _restore_read(adjoint, y, names, False)
        if not found:
            drop.add(y)
    if not drop:
        return forward, adjoint
    return _without(forward, drop), _without(adjoint, drop)
