"""rule_calls: what applying a derivative rule at a call needs, shared by both modes.

Input: a rule's instantiated statements and expression (template.Rule.instantiate), the
primitive's key and the call's atoms.  Output: the same code cleaned of what a
statically known case makes useless -- `drop_unbroadcast` (no broadcasting to undo for
scalars or same-shaped operands), `drop_concatenation` (`+` of numbers or arrays is no
concatenation), `merge_equal_contributions` (``x * x``: one doubled contribution) -- and
`describe`, the name of a primitive in messages; `zero_safe` tells which rules take the
zero adjoint ``0.0`` as it is.  None of these changes the value of the derivative.
Before that, `bind_rule_arguments` binds a call's atoms to a rule's parameters, the
same way for an adjoint rule (reverse.py) and a tangent rule (forward.py).
"""

import types
from typing import NamedTuple

import gast

from .. import ast_util as A
from .. import runtime


def describe(key, node):
    if isinstance(key, tuple) and len(key) == 2 and key[0] in ("method", "attr"):
        return f"the {'method' if key[0] == 'method' else 'attribute'} .{key[1]}"
    name = getattr(key, "__name__", None)
    module = getattr(key, "__module__", None)
    if name:
        if module and module not in ("builtins", "operator"):
            short = {"numpy": "np"}.get(module, module)
            return f"{short}.{name}"
        return name
    return repr(key)


def zero_safe(key):
    """Rules of elementwise operations accept the zero adjoint 0.0 as it is."""
    import numpy as np
    import operator
    if isinstance(key, np.ufunc):
        return True
    if key in (operator.add, operator.sub, operator.mul, operator.truediv, operator.pow, operator.neg,
               operator.pos, operator.mod, operator.floordiv):
        return True
    module = getattr(key, "__module__", None)
    return module in ("math", "builtins") or (isinstance(key, types.BuiltinFunctionType)
                                              and module is None)


def merge_equal_contributions(node, targets, parts):
    """`x * x`: its two equal contributions to x's adjoint as one, doubled.

    In: the operation `node`, the atoms each adjoint contribution goes to, and
    the contributions.  Out: the same lists, except for a product of one name
    with itself whose two contributions are the same pure expression (e.g.
    ``g * x`` twice): one contribution ``e * 2.0``.  ``e + e == e * 2.0``
    exactly in floating point, so the adjoint is unchanged; one array
    operation and one temporary are saved (the second contribution becomes None:
    nothing to add)."""
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult) and len(parts) == 2 \
            and len(targets) == 2 and isinstance(node.left, gast.Name) \
            and isinstance(node.right, gast.Name) and node.left.id == node.right.id \
            and not hasattr(node.left, "diffc_global") \
            and all(isinstance(t, gast.Name) and t.id == node.left.id for t in targets) \
            and gast.dump(parts[0]) == gast.dump(parts[1]) and _pure_arithmetic(parts[0]):
        return targets, [gast.BinOp(left=parts[0], op=gast.Mult(), right=A.const(2.0)), A.const(None)]
    return targets, parts


def _pure_arithmetic(expr):
    """Names, numbers and arithmetic on them only (evaluating it twice or once is the same)."""
    return all(isinstance(n, (gast.Name, gast.Constant, gast.BinOp, gast.UnaryOp, gast.operator,
                              gast.unaryop, gast.expr_context)) for n in A.walk(expr))


class _DropUnbroadcast(gast.NodeTransformer):
    def __init__(self, only=None):
        self.only = only

    def visit_Call(self, node):
        self.generic_visit(node)
        fn = getattr(node.func, "diffc_global", None) if isinstance(node.func, gast.Name) else None
        if fn is runtime.unbroadcast:
            like = node.args[1]
            if self.only is None or (isinstance(like, gast.Name) and like.id in self.only):
                return node.args[0]
        if self.only is None and fn in _SCALAR_IDENTITIES:
            return node.args[0]          # no lists on a scalar's path: no concatenation
        return node


_SCALAR_IDENTITIES = (runtime.head_part, runtime.tail_part, runtime.cat_left, runtime.cat_right)


class _DropConcatenation(gast.NodeTransformer):
    def __init__(self, plain=None):
        self.plain = plain

    def visit_Call(self, node):
        self.generic_visit(node)
        fn = getattr(node.func, "diffc_global", None) if isinstance(node.func, gast.Name) else None
        if fn in _SCALAR_IDENTITIES and (self.plain is None or any(
                isinstance(a, gast.Name) and a.id in self.plain for a in node.args[1:3])):
            return node.args[0]
        return node


def drop_concatenation(node, plain=None):
    """head_part(g, a, b) -> g and friends (identities unless a and b are both lists or
    tuples): for every call, or, given `plain` (names certainly not lists or tuples),
    for the calls where a or b is one of them."""
    return _DropConcatenation(plain).visit(node)


def drop_unbroadcast(node, only=None):
    """unbroadcast(g, x) -> g, for every x (scalar code) or for x in `only`."""
    return _DropUnbroadcast(only).visit(node)


class RuleArguments(NamedTuple):
    """A call's atoms bound to a rule's parameters (see `bind_rule_arguments`)."""
    positional: list        # [(parameter, atom)] in order, one per leading argument
    keywords: list          # [(parameter, atom)] for the keyword arguments
    extra: list             # the atoms past the parameters (a rule with a *vararg)


class RuleBindingError(Exception):
    """The call does not fit the rule: ``problem`` is "too many" or "keyword" (``name``
    then is the keyword the rule does not take).  Each mode words its own message."""

    def __init__(self, problem, name=None):
        super().__init__(problem, name)
        self.problem = problem
        self.name = name


def bind_rule_arguments(params, args, keywords=(), kwonly=(), vararg=False):
    """Bind the atoms of a call to the parameters of a derivative rule.

    params: the rule's parameters for the primitive's own arguments, in order (an
    adjoint rule's after ``result, result_bar``; a tangent rule's without
    ``result`` and the ``*_dot`` ones); args: the call's positional atoms;
    keywords: its gast keywords; kwonly: the rule's keyword-only parameters;
    vararg: whether the rule takes ``*args`` (then the atoms past ``params`` are
    returned as ``extra`` instead of being refused).  Raises RuleBindingError when
    there are more positional atoms than parameters (no vararg) or a keyword the rule
    does not take."""
    if vararg:
        args, extra = list(args[:len(params)]), list(args[len(params):])
    else:
        if len(args) > len(params):
            raise RuleBindingError("too many")
        args, extra = list(args), []
    for kw in keywords:
        if kw.arg not in params and kw.arg not in kwonly:
            raise RuleBindingError("keyword", kw.arg)
    return RuleArguments(list(zip(params, args)), [(kw.arg, kw.value) for kw in keywords], extra)

