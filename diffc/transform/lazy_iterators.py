"""lazy_iterators: refuse a lazy iterator consumed after what it reads has changed.

Input: a fenced function body (before desugar rewrites anything).
Output: the body unchanged, or an UnsupportedSyntax naming the changing line.

Python runs a generator expression, a generator function (or a plain function returning
a generator expression), `map`, `filter`, `zip`, `enumerate`, `reversed`, `iter`,
`itertools.chain`/`pairwise`/`accumulate`/`islice` and a dict view (`d.values()`) only
when they are consumed, reading their inputs then.  diffc evaluates them where they are written
(desugar turns them into lists), which is the same thing unless an input changes in
between:

    gen = doubled(ps)      # nothing runs yet
    ps[0] = x[1] ** 2      # the generator will see the new ps[0]
    return sum(gen)

Such a program is refused.  What counts as a change: an object the iterator holds
(the arguments of a call, a generator expression's first iterable, which Python
evaluates at once) changed in place; a name it reads lazily (the rest of a generator
expression) rebound or changed in place.  The check follows source lines: a change between the
binding and the last read of the iterator's name.

`returns_lazy(fn)` (also used by transform/sweep.py: generated code calls diffc's copy of
such a function, which returns a list that may be read twice) tells a plain function
returning a lazy iterator.
"""

import ast
import functools
import inspect
import itertools
import textwrap
import types

import gast

from .. import ast_util as A
from .global_writes import CHANGING_METHODS

# Builtins whose result reads its arguments only when it is iterated.
# (itertools.product, combinations and permutations copy their inputs when made: not lazy.)
_LAZY_BUILTINS = (map, filter, zip, enumerate, reversed, iter, itertools.chain, itertools.pairwise,
                  itertools.accumulate, itertools.islice)
_DICT_VIEWS = ("values", "keys", "items")
_MUTATING_METHODS = CHANGING_METHODS | {"fill"}


def refuse_stale_lazy_iterators(body, resolve, fail):
    """Check every `name = <lazy iterator>` of the body (nested blocks included)."""
    for stmt in _all_statements(body):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name)):
            continue
        kind, lazy, held = _lazy_inputs(stmt.value, resolve)
        if kind is not None:
            _refuse_if_changed(stmt, kind, lazy, held, body, fail)


def _all_statements(body):
    """Every statement, in every block (loops, branches, with, try handlers)."""
    return [n for s in body for n in A.walk(s) if isinstance(n, gast.stmt)]


def _lazy_inputs(value, resolve):
    """(what it is, names read lazily, names held) or Nones.  A name read lazily matters
    when it is rebound or changed in place; a held object only when changed in place."""
    if isinstance(value, gast.GeneratorExp):
        # Python evaluates the first iterable at once and holds it; the rest runs later.
        first, *later = value.generators
        bound = {n.id for g in value.generators for n in A.walk(g.target) if isinstance(n, gast.Name)}
        lazy = set().union(A.names_loaded(value.elt), *(A.names_loaded(c) for c in first.ifs),
                           *(A.names_loaded(g) for g in later)) - bound
        return "a generator expression", lazy, A.names_loaded(first.iter) | lazy
    if not isinstance(value, gast.Call):
        return None, None, None
    func = value.func
    if isinstance(func, gast.Attribute) and func.attr in _DICT_VIEWS and not value.args \
            and isinstance(func.value, gast.Name):
        return f"a .{func.attr}() view", set(), {func.value.id}
    target = _resolved(resolve, func)
    if target is None:
        return None, None, None
    is_lazy_builtin = any(target is b for b in _LAZY_BUILTINS)
    if not (is_lazy_builtin or inspect.isgeneratorfunction(target) or returns_lazy(target)):
        return None, None, None
    held = set()
    for argument in list(value.args) + [k.value for k in value.keywords]:
        held |= {n.id for n in A.walk(argument) if isinstance(n, gast.Name)}
    kind = f"{target.__name__}(...)" if is_lazy_builtin else f"the lazy iterator {target.__name__}(...) returns"
    return kind, set(), held


@functools.lru_cache(maxsize=256)
def returns_lazy(fn):
    """A plain function returning a generator expression or a lazy builtin's result
    (`def squares(v): return (a * a for a in v)`): its result reads the arguments late."""
    if not isinstance(fn, types.FunctionType):
        return False
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    lazy_names = {"map", "filter", "zip", "enumerate", "reversed", "iter"}
    for node in ast.walk(tree.body[0]) if tree.body else ():
        value = node.value if isinstance(node, ast.Return) else None
        if isinstance(value, ast.GeneratorExp) or (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                                                   and value.func.id in lazy_names):
            return True
    return False


_COMPREHENSIONS = ("<listcomp>", "<setcomp>", "<dictcomp>", "<genexpr>")


def defines_functions(fn):
    """A plain function whose body defines a local function or lambda (a factory:
    `def make_loss(data): def loss(w): ... return loss`): what it returns may capture
    its arguments."""
    code = getattr(fn, "__code__", None) if isinstance(fn, types.FunctionType) else None
    return code is not None and any(isinstance(c, types.CodeType) and c.co_name not in _COMPREHENSIONS
                                    for c in code.co_consts)


def _resolved(resolve, func):
    try:
        return resolve(func)
    except Exception:   # an expression diffc cannot resolve statically is not one of these
        return None


def _refuse_if_changed(stmt, kind, lazy, held, body, fail):
    name = stmt.targets[0].id
    lazy, held = lazy - {name}, held - {name}
    start = getattr(stmt, "lineno", None)
    uses = [n.lineno for s in body for n in A.walk(s) if isinstance(n, gast.Name) and n.id == name
            and isinstance(n.ctx, gast.Load) and getattr(n, "lineno", None) is not None]
    if start is None or not uses or not held:
        return
    last_use = max(uses)
    for s in _all_statements(body):
        line = getattr(s, "lineno", None)
        if line is None or not start < line <= last_use:
            continue
        hit = _changed_in_place(s) & held
        if isinstance(s, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.For)):
            hit |= A.names_stored(s.target if isinstance(s, gast.For) else s) & lazy
        hit = sorted(hit)
        if hit:
            fail(f"{name!r} ({kind}) reads {hit[0]!r} only when it is consumed, and this line changes "
                 f"{hit[0]!r} before then; diffc evaluates it where it is written", s,
                 hint="consume it first (list(...)), or build it where it is used")


def _changed_in_place(stmt):
    """Names this statement itself (not its nested blocks) changes in place."""
    own = [getattr(stmt, f) for f in stmt._fields if f not in ("body", "orelse", "handlers", "finalbody")]
    changed = set()
    for part in own:
        for node in (n for p in (part if isinstance(part, list) else [part]) if isinstance(p, gast.AST)
                     for n in A.walk(p)):
            if isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Store):
                changed |= _root_name(node.value)
            elif isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                    and node.func.attr in _MUTATING_METHODS:
                changed |= _root_name(node.func.value)
    if isinstance(stmt, gast.AugAssign):
        changed |= _root_name(stmt.target)   # `ys += [v]`, `a *= 2` change lists and arrays in place
    return changed


def _root_name(expr):
    while isinstance(expr, (gast.Subscript, gast.Attribute)):
        expr = expr.value
    return {expr.id} if isinstance(expr, gast.Name) else set()
