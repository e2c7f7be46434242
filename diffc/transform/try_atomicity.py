"""try_atomicity: which statements of a try body may raise part way through and still be
replayed (desugar lowers `try` into branches chosen when the code runs: diffc/try_paths.py).

Input: one statement of a try body (already desugared inside) and the try's handlers.
Output: a bool, the statement's flag in the ``atomic`` tuple of ``try_enter``: True
when raising part way through it leaves nothing a handler or later code can read, so
the handler may run after the statements before it (try_paths forces that path); False
makes such a raise a refusal naming the line.
"""

import gast

from .. import ast_util as A
from .. import runtime

_COMPOUND = (gast.If, gast.For, gast.While, gast.With, gast.Try, gast.Match)


def leaves_no_partial_effect(stmt):
    """A statement that raising leaves as it was: a simple statement (its right
    side is evaluated before anything is assigned) without `:=` inside, or a
    compound one that assigns and calls for effect nothing (`if bad: raise ...`).
    A lowered `with` inside a try says itself (transform/try_with.py)."""
    if hasattr(stmt, "diffc_atomic"):
        return stmt.diffc_atomic
    nodes = list(gast.walk(stmt))
    if any(isinstance(n, gast.NamedExpr) for n in nodes):
        return False
    if not isinstance(stmt, _COMPOUND):
        return True
    return not any(isinstance(n, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr, gast.For,
                                  gast.With, gast.Try, gast.Match)) for n in nodes)


def partial_effects_dead(stmt, handlers, user_names):
    """A compound body statement whose half-done effects no handler can see: it writes
    only names (no item, attribute or call for effect), and each handler assigns every
    one of the user's names among them before reading it (`try: ... except E: y = ...;
    raise` nested in a try whose handler sets y again): raising part way through it
    leaves nothing the program reads."""
    stored = set()
    for n in gast.walk(stmt):
        if isinstance(n, (gast.Subscript, gast.Attribute)) and isinstance(n.ctx, (gast.Store, gast.Del)):
            return False
        if isinstance(n, gast.NamedExpr) or (isinstance(n, gast.Expr) and isinstance(n.value, gast.Call)
                                             and not _is_try_bookkeeping(n.value)):
            return False
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
            stored.add(n.id)
    stored &= user_names                    # (diffc's own fresh names are read only inside)
    if not handlers:
        return False
    for handler in handlers:
        pending = set(stored)
        for s in handler.body:
            if not pending:
                break
            if pending & A.names_loaded(s) or (isinstance(s, gast.AugAssign) and pending & A.names_stored(s)):
                return False
            if isinstance(s, gast.Assign) and all(isinstance(t, gast.Name) for t in s.targets):
                pending -= {t.id for t in s.targets}
        if pending:
            return False
    return True


def _is_try_bookkeeping(call):
    return getattr(call.func, "diffc_global", None) in (runtime.try_step, runtime.try_exit)
