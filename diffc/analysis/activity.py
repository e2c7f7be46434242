"""activity: which variables carry a derivative that reaches the output.

Input: an ANF `FunctionInfo`, the set of active (differentiated) parameters,
and a predicate telling whether a call carries derivatives.
Output: `Activity` with ``varied`` (depends on an active parameter), ``useful``
(influences the returned value) and ``active = varied & useful``.

The analysis is flow-insensitive over names: a name is varied if any of its
definitions reads a varied name through a differentiable operation.  That is
conservative (it may keep an adjoint that is always zero) but never drops a
derivative.  In-place writes ``y[i] = v`` and mutating methods
(``lst.append(v)``) are definitions of the container that also read it.

Values that never carry a derivative: the shape, size, rank and dtype of an
array (``x.shape``, ``x.ndim``, ``x.size``, ``x.dtype``; ``len(x)`` is a
non-differentiable call), and a call none of whose arguments carries a
derivative (random sampling such as ``rng.normal(size=x.shape)``, methods of
objects diffc knows nothing about): its result is a constant whatever the
callee is.  A call of a function value counts the callee itself as an
argument (a closure over a differentiated value carries it).
"""

import gast

from .. import ast_util as A

MUTATING_METHODS = {"append", "extend", "insert", "pop", "remove", "clear", "reverse",
                    "sort", "update", "setdefault", "popitem"}

# Attributes that describe an array's layout: ints, tuples of ints and dtypes.
CONSTANT_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides"})


class Activity:
    def __init__(self, varied, useful):
        self.varied = varied
        self.useful = useful
        self.active = varied & useful

    def __contains__(self, name):
        return name in self.active


def flows(stmts, carries):
    """(outputs, inputs) pairs: derivatives may flow from inputs to outputs.

    carries(call) -> False when a call's result holds no derivative."""
    result = []
    for stmt in A.walk_statements(stmts):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            value = stmt.value
            if isinstance(target, gast.Name):
                result.append(({target.id}, _inputs(value, carries)))
            elif isinstance(target, gast.Subscript):
                y = target.value.id
                result.append(({y}, {y} | _inputs(value, carries)))
        elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
            func = stmt.value.func
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.attr in MUTATING_METHODS and not hasattr(func.value, "diffc_global"):
                obj = func.value.id
                args = set()
                for a in stmt.value.args:
                    args |= A.names_loaded(a)
                result.append(({obj}, {obj} | args))
    return result


def _inputs(value, carries):
    if isinstance(value, gast.Compare):
        return set()
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.Not, gast.Invert)):
        return set()
    if isinstance(value, gast.Call) and not carries(value):
        return set()
    if isinstance(value, gast.Attribute) and value.attr in CONSTANT_ATTRIBUTES:
        return set()
    if isinstance(value, gast.Subscript):
        return A.names_loaded(value.value)
    names = set()
    for n in A.walk(value):
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and not hasattr(n, "diffc_global"):
            names.add(n.id)
    return names


def analyze(body, active_params, returned, carries):
    pairs = flows(body, carries)
    varied = set(active_params)
    changed = True
    while changed:
        changed = False
        for outputs, inputs in pairs:
            if inputs & varied and not outputs <= varied:
                varied |= outputs
                changed = True
    useful = set(returned)
    changed = True
    while changed:
        changed = False
        for outputs, inputs in pairs:
            if outputs & useful and not inputs <= useful:
                useful |= inputs
                changed = True
    return Activity(varied, useful)
