"""aliasing: which names may share an object, and which values are new objects.

Shared by the passes (public names, no rewriting here).  `is_fresh`: an
expression that certainly evaluates to a new object.  `exposed`: the names
whose object (or a view of it) an expression may evaluate to.  `classes_of`:
union-find over groups of names.  `never_written`: no statement may write
into an object of some names.  `fresh_call`, `FRESH_HELPERS` and
`aliased_names`: values that are new objects, and the names that may share
memory with a name (None when it escapes into a container).
"""

import gast

from .. import ast_util as A
from .. import effects
from .. import runtime
from ..transform.reverse import is_marker
from .purity import pure_value

FRESH_HELPERS = (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp, gast.Constant)
_ESCAPING_METHODS = ("append", "extend", "insert")


def classes_of(groups):
    """name -> every name linked to it through the groups (union-find: two groups
    sharing a name join one class)."""
    parent = {}

    def find(n):
        parent.setdefault(n, n)
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for group in groups:
        group = list(group)
        for other in group[1:]:
            parent[find(other)] = find(group[0])
    classes = {}
    for n in list(parent):
        classes.setdefault(find(n), set()).add(n)
    return {n: classes[find(n)] for n in parent}


def exposed(expr):
    """Names whose object expr may evaluate to (or to a view of): none for arithmetic
    and fresh helpers, g for unbroadcast(g, x) and finalize(g, x), every name
    another call reads in its arguments (or its receiver, for a method of a
    local value), every name any other expression reads."""
    if isinstance(expr, gast.Name):
        return {expr.id}
    if isinstance(expr, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp, gast.Constant)) \
            or is_fresh(expr):
        return set()
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.args:
        fn = getattr(expr.func, "diffc_global", None)
        if effects.has(fn, effects.ARGUMENT_OR_NEW):
            return exposed(expr.args[0])
    if isinstance(expr, (gast.Tuple, gast.List)):
        out = set()
        for e in expr.elts:
            out |= exposed(e)
        return out
    if isinstance(expr, gast.Call):
        # What the call reads (it may return any of it, or views of it); not the
        # function itself, unless it is a method of a local value (x.reshape(...)).
        out = set()
        for arg in list(expr.args) + [k.value for k in expr.keywords]:
            out |= A.names_loaded(arg)
        base = expr.func
        while isinstance(base, gast.Attribute):
            base = base.value
        if isinstance(expr.func, gast.Attribute) and not hasattr(base, "diffc_global"):
            out |= A.names_loaded(expr.func.value)
        return out
    return A.names_loaded(expr)


def never_written(stmts, shared):
    """Whether no statement of stmts (nested ones too) may write into an object of the names shared."""
    for stmt in A.walk_statements(stmts):
        if isinstance(stmt, gast.AugAssign) and A.names_stored(stmt.target) & shared:
            return False
        for node in A.walk(stmt):
            if isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Store) \
                    and A.names_loaded(node.value) & shared:
                return False
            if isinstance(node, gast.Call):
                receiver = node.func.value if isinstance(node.func, gast.Attribute) else None
                touched = set()
                for arg in list(node.args) + [k.value for k in node.keywords] + \
                        ([receiver] if receiver is not None else []):
                    touched |= exposed(arg) | (A.names_loaded(arg) if not isinstance(arg, gast.Name) else set())
                if touched & shared and not pure_value(node):
                    return False
    return True


def is_fresh(expr):
    """Whether expr certainly evaluates to a new object (safe to own and update in place)."""
    if isinstance(expr, (gast.BinOp, gast.UnaryOp)):
        return True
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name):
        fn = getattr(expr.func, "diffc_global", None)
        if effects.has(fn, effects.OWNED_BUFFER):
            return True
        if (fn is runtime.unbroadcast or fn is runtime.written_bar) and expr.args:
            return is_fresh(expr.args[0])      # returns its argument, or a new sum of it (or 0.0)
    return False


def fresh_call(value):
    """A call of a runtime helper that returns a new object (a copy or zeros) holding
    nothing another name holds.

    runtime.copy_value copies arrays, but returns an object of a user class itself and
    copies a list without its items: such a copy may hold what its argument holds (an
    object whose field is an array written in place later), so it counts as new only
    when diffc knew at the copy that the value is an array (`diffc_array_copy`, set by
    transform/sweep.py) or when it copies the result of arithmetic."""
    if not (isinstance(value, gast.Call) and isinstance(value.func, gast.Name)):
        return False
    helper = getattr(value.func, "diffc_global", None)
    if not effects.has(helper, effects.FRESH):
        return False
    if effects.has(helper, effects.MAY_HOLD_ARGUMENT) and not getattr(value, "diffc_array_copy", False):
        return bool(value.args) and isinstance(value.args[0], FRESH_HELPERS)
    return True


def aliased_names(y, statements):
    """Names that may share memory with ``y`` (``y`` included); None if it escapes."""
    out = {y}
    while True:
        grown = set(out)
        for s in statements:
            if is_marker(s):
                continue
            if isinstance(s, gast.Assign) and not isinstance(s.value, FRESH_HELPERS) and not fresh_call(s.value):
                if A.names_loaded(s.value) & out:
                    for t in s.targets:
                        grown |= A.names_stored(t)
            elif isinstance(s, gast.For) and A.names_loaded(s.iter) & out:
                grown |= A.names_stored(s.target)
        if grown == out:
            break
        out = grown
    for s in statements:
        if is_marker(s):
            continue
        own = [getattr(s, f) for f in ("value", "test", "iter") if getattr(s, f, None) is not None]
        for node in own:
            for n in A.walk(node):
                if isinstance(n, (gast.List, gast.Tuple, gast.Set)) and isinstance(n.ctx, gast.Load) \
                        and A.names_loaded(n) & out:
                    return None
                if isinstance(n, gast.Dict) and A.names_loaded(n) & out:
                    return None
                if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) \
                        and n.func.attr in _ESCAPING_METHODS \
                        and any(A.names_loaded(a) & out for a in n.args):
                    return None
    return out
