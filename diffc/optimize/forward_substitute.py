"""forward_substitute: a temporary read once is replaced by its expression.

Input: a generated FunctionDef (after dead-code elimination; markers resolved).
Output: the same function where a temporary assigned a pure expression and
read exactly once, later in the same block and outside any loop nested there,
is replaced by the expression at its use (``_t1_bar = total_bar; x_bar +=
_t1_bar * i`` becomes ``x_bar += total_bar * i``), provided nothing the
expression reads is rebound or mutated in between (nor written into through a
name that may share its object: ``p = (y, y)`` packed before ``y[0] = ...``),
the use does not write through the temporary (``_t[i] = v``), and the use is at
most `window` statements later.  Parameters and `protected` names are never
substituted.  Semantics, including evaluation order of impure calls, are
unchanged.
"""

import gast

from .. import ast_util as A
from .. import effects
from .. import runtime
from .aliasing import classes_of, never_written
from .purity import is_pure_expr, stored_names
from .rewriting import Substitute, count_uses


def _occurs_outside_loops(stmt, name):
    """True when `name` is read in stmt, and not inside a loop nested in stmt."""
    if isinstance(stmt, (gast.For, gast.While)):
        return False
    if isinstance(stmt, gast.If):
        if name in A.names_loaded(stmt.test):
            return True
        return False
    return name in A.names_loaded(stmt)


def forward_substitute(fn, protected=(), window=40):
    uses, defs = count_uses(fn)
    params = {a.id for a in fn.args.args}
    loaded_cache, stored_cache = {}, {}
    classes = []

    def shared_with(names):
        """The names that may hold an object the names read hold (or a view, or a
        container of it): a write into one of those in between changes what the
        moved expression would read (``p = (y, y)`` then ``y[0] = ...``)."""
        if not classes:
            classes.append(_structural_classes(fn))
        out = set()
        for n in names:
            out |= classes[0].get(n, {n})
        return out

    def loaded(stmt):
        key = id(stmt)
        if key not in loaded_cache:
            loaded_cache[key] = A.names_loaded(stmt)
        return loaded_cache[key]

    def stored(stmt):
        key = id(stmt)
        if key not in stored_cache:
            stored_cache[key] = stored_names(stmt)
        return stored_cache[key]

    def try_substitute(stmts, i):
        """Substitute stmts[i] into its single later use; True when it was removed."""
        stmt = stmts[i]
        name = stmt.targets[0].id
        reads = A.names_loaded(stmt.value)
        for j in range(i + 1, min(len(stmts), i + 1 + window)):
            later = stmts[j]
            if name in loaded(later):
                if not _occurs_outside_loops(later, name) or _written_through(later, name):
                    return False
                sub = Substitute(name, stmt.value)
                if isinstance(later, gast.If):
                    later.test = sub.visit(later.test)
                else:
                    sub.visit(later)
                if not sub.done:
                    return False
                loaded_cache.pop(id(later), None)
                del stmts[i]
                uses[name] = 0
                return True
            if stored(later) & (reads | {name}):
                return False
            if _writes_into(later, shared_with(reads)):
                return False
        return False

    def block(stmts):
        for stmt in stmts:
            if isinstance(stmt, gast.If):
                block(stmt.body)
                block(stmt.orelse)
            elif isinstance(stmt, (gast.For, gast.While)):
                block(stmt.body)
        i = len(stmts) - 1
        while i >= 0:
            stmt = stmts[i]
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                name = stmt.targets[0].id
                if name not in params and name not in protected and defs.get(name) == 1 \
                        and uses.get(name) == 1 and is_pure_expr(stmt.value):
                    try_substitute(stmts, i)
            i -= 1
    block(fn.body)
    return fn


def _written_through(stmt, name):
    """stmt writes into name's object (`name[i] = v`, `name.a += v`): substituting the
    value there would write into a temporary (`(e)[i] = v`), which code differentiated
    again cannot follow."""
    if not isinstance(stmt, (gast.Assign, gast.AugAssign)):
        return False
    targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
    for t in targets:
        for node in A.walk(t):
            if isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.value, gast.Name) \
                    and node.value.id == name:
                return True
    return False


def _held(expr):
    """Names whose objects expr's value may be, view, or hold as an element: through
    names, subscripts and attributes, tuple and list literals, copy_value (a copy of
    a tuple or list holds the same elements) and helpers returning their first
    argument.  Other calls are taken as fresh: `_sharing_classes` counts every
    argument of every call, which links nearly all adjoints of a gradient together."""
    if isinstance(expr, gast.Name):
        return {expr.id}
    if isinstance(expr, (gast.Subscript, gast.Attribute)):
        return _held(expr.value)
    if isinstance(expr, (gast.Tuple, gast.List, gast.Set, gast.Dict)):
        out = set()
        for e in expr.values if isinstance(expr, gast.Dict) else expr.elts:
            out |= _held(e)
        return out
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.args:
        fn = getattr(expr.func, "diffc_global", None)
        if fn is runtime.copy_value or effects.has(fn, effects.ARGUMENT_OR_NEW):
            return _held(expr.args[0])
    if isinstance(expr, gast.Call) and _may_hold_arguments(expr.func):
        out = set()
        for a in list(expr.args) + [k.value for k in expr.keywords]:
            out |= _held(a)
        return out
    return set()


def _may_hold_arguments(func):
    """A helper building an object from its arguments (`build_object`), or a function
    generated beside this one (`_jvp_Cell_fields(h, h_dot)` returns dicts of them)."""
    if isinstance(func, gast.Name):
        fn = getattr(func, "diffc_global", None)
        return effects.has(fn, effects.HOLDS_ARGUMENTS) or fn is None
    if isinstance(func, gast.Attribute):     # runtime_calls.build_object
        fn = getattr(func, "diffc_global", None) or getattr(func.value, "diffc_global", None)
        return effects.has(getattr(fn, func.attr, fn), effects.HOLDS_ARGUMENTS)
    return False


def _structural_classes(fn):
    """name -> the names that may hold the same object, or hold it as an element (`_held`).

    A value popped from a tape has lost its provenance: `_t5 = w[1:]` in the forward
    sweep is `..., _t5, ..., w = _tape.pop()` in the adjoint, and a restore
    `w[1:] = _tape.pop()` changes what `_t5` reads.  So every name bound from a pop
    shares a class with every name written through (`name[...] = v`, `name.a = v`)."""
    groups = []
    popped, written = set(), set()
    for node in A.walk(fn):
        if isinstance(node, gast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            bound = {target.id} if isinstance(target, gast.Name) else                 {e.id for e in target.elts if isinstance(e, gast.Name)}                 if isinstance(target, (gast.Tuple, gast.List)) else set()
            if bound:
                groups.append(bound | _held(node.value))
                if _is_pop(node.value):
                    popped |= bound
            if isinstance(target, (gast.Subscript, gast.Attribute)):
                written |= _held(target.value)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, (gast.Subscript, gast.Attribute)):
            written |= _held(node.target.value)
        elif isinstance(node, gast.For) and isinstance(node.target, gast.Name):
            groups.append({node.target.id} | A.names_loaded(node.iter))
    if popped:
        groups.append(popped | written)
    return classes_of(groups)


def _is_pop(expr):
    """A value taken off a tape: `_tape.pop()`, or an entry of a preallocated tape `_tape1[i]`."""
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute):
        return expr.func.attr == "pop"
    return isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name) \
        and expr.value.id.startswith("_tape")


def _writes_into(stmt, shared):
    """Whether stmt may write into an object of the names shared (besides the names
    it rebinds or updates, `stored_names`).  ``lst.append(v)`` (a tape push, a list
    built in the primal) writes into lst only, never into v, and lst is not in
    shared because of its elements: the classes link a popped or iterated value
    with its list, which the push does not write into (a read of lst itself is
    a read the caller checks against `stored_names`)."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "append" \
            and isinstance(stmt.value.func.value, gast.Name) and len(stmt.value.args) == 1 \
            and not stmt.value.keywords and not _has_call(stmt.value.args[0]):
        return False
    return not never_written([stmt], shared)


def _has_call(expr):
    return any(isinstance(n, gast.Call) for n in A.walk(expr))
