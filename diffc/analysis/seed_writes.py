"""seed_writes: whether a generated adjoint may write into the seed it is given.

An adjoint function (``_adj_g(_tape, w_bar)``, ``_grad_g(..., w_bar)``) owns
its seed: it may update it in place (``take_item(w_bar, 2)`` for the write
``w[2] = ...`` of the primal, ``w_bar += ...``).  The caller must therefore
pass a seed nobody else reads.  An adjoint the caller holds is often shared:
the adjoint of ``a + b`` gives the same array to both operands, so in
``(g(x) + g(x))[2]`` both calls of ``_adj_g`` would get one array, and the
first call's ``take_item`` would zero the second call's seed (issue 15,
tests/fuzz/FINDINGS_a.md).  The reverse transform copies the seed at a call
site unless the callee is known to leave its seed alone; this module decides
that.

Input: a generated FunctionDef (after the optimizer, or not optimized) and the
name of its seed parameter.
Output: `may_write_seed` -> False only when no statement of the function can
write into the seed's object or into an object reachable from it: the names
that may hold the seed or a part of it (a view, an element, the result of a
helper that may return its argument) are followed through assignments and
loop targets, and a write is an augmented assignment of such a name, a store
into its items or attributes, a call of a helper declared MUTATES_FIRST with
it first, or a mutating method called on it.  Passing it to another adjoint
is not a write: that call site makes its own decision.  Conservative: any
doubt answers True (a copy too many costs time, one too few a wrong answer).
"""

import gast

from .. import ast_util as A
from .. import effects

# Methods that change the object they are called on (lists, dicts, ndarrays).
_MUTATING_METHODS = frozenset((
    "append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "popitem",
    "sort", "reverse", "fill", "resize", "put", "itemset", "setflags", "partition", "byteswap",
    "__setitem__", "__iadd__", "__isub__", "__imul__",
))


def _helper(call):
    return getattr(call.func, "diffc_global", None) if isinstance(call.func, gast.Name) else None


def _fresh(value):
    """value is certainly a new object holding no part of its operands."""
    if isinstance(value, (gast.UnaryOp, gast.Compare, gast.Constant)):
        return True
    if isinstance(value, gast.BinOp):
        # arithmetic on arrays and numbers makes a new value; `+`/`*` of tuples or
        # lists would share their elements (never an adjoint, but stay safe)
        return not any(isinstance(side, (gast.Tuple, gast.List)) for side in (value.left, value.right))
    if isinstance(value, gast.Call):
        fn = _helper(value)
        return effects.has(fn, effects.OWNED_BUFFER) or effects.has(fn, effects.NEW_BUFFER)
    return False


def _may_alias(value, aliases):
    if isinstance(value, gast.IfExp):
        return _may_alias(value.body, aliases) or _may_alias(value.orelse, aliases)
    if _fresh(value):
        return False
    if isinstance(value, gast.Call) and effects.has(_helper(value), effects.ARGUMENT_OR_NEW) and value.args:
        # unbroadcast(g, x), finalize(bar, x): g itself or a new sum of it (x gives a shape)
        return _may_alias(value.args[0], aliases)
    return bool(A.names_loaded(value) & aliases)


def _aliases(fn, seed):
    """Names that may hold the seed or a part of it, anywhere in fn (flow-insensitive)."""
    aliases = {seed}
    nodes = A.walk(fn)
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if isinstance(node, gast.Assign) and _may_alias(node.value, aliases):
                new = set().union(*(A.names_stored(t) for t in node.targets)) - aliases
            elif isinstance(node, gast.For) and A.names_loaded(node.iter) & aliases:
                new = A.names_stored(node.target) - aliases
            elif isinstance(node, gast.NamedExpr) and _may_alias(node.value, aliases):
                new = A.names_stored(node.target) - aliases
            else:
                continue
            if new:
                aliases |= new
                changed = True
    return aliases


def _base_name(target):
    while isinstance(target, (gast.Subscript, gast.Attribute)):
        target = target.value
    return target.id if isinstance(target, gast.Name) else None


def _writes(node, aliases):
    if isinstance(node, gast.AugAssign):
        return _base_name(node.target) in aliases
    if isinstance(node, gast.Assign):
        return any(isinstance(t, (gast.Subscript, gast.Attribute)) and _base_name(t) in aliases
                   for t in node.targets)
    if isinstance(node, gast.Call):
        if effects.has(_helper(node), effects.MUTATES_FIRST) and node.args \
                and isinstance(node.args[0], gast.Name) and node.args[0].id in aliases:
            return True
        func = node.func
        return isinstance(func, gast.Attribute) and func.attr in _MUTATING_METHODS \
            and _base_name(func.value) in aliases
    return False


def may_write_seed(fn, seed):
    """Whether the generated function fn may write into the object its parameter `seed` holds."""
    aliases = _aliases(fn, seed)
    return any(_writes(node, aliases) for node in A.walk(fn))
