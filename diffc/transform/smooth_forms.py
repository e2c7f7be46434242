"""smooth_forms: a power of a radius (`abs(e) ** 2`, `np.hypot(a, b) ** 3`) as the smooth
function it is.

Input: a fenced `FunctionInfo`, before transform/desugar.py.
Output: the same function, equal in value, where ``abs(e) ** 2``,
``np.abs(e) ** 2``, ``np.absolute(e) ** 2``, ``np.square(np.abs(e))`` and
``abs(v) * abs(v)`` (v one name, maybe indexed by constants or names) (for the
functions themselves, not names rebound; the exponent the literal 2 or 2.0) are
``rules.complex_rules.abs_squared(e)``: the same value, whose derivative is
``2 Re(conj(e) de)`` everywhere.  Through ``abs`` the chain rule has no slope at
``e == 0`` (the subgradient 0: the second derivative of ``abs(x) ** 2`` at 0 was
0, not 2, and for complex e it was NaN), although ``|e|**2`` is smooth there.

The same for every radius r whose own slope is singular at 0 and a literal power p >= 2
(``r ** p``; ``np.square(r)``, ``r * r`` for p == 2): ``abs(e) ** p`` (p != 2),
``np.hypot(a, b)``/``math.hypot(a, b)``, ``np.linalg.norm(v)`` (no other argument) and
``np.sqrt(s)``/``math.sqrt(s)`` become the helpers of rules/radial_powers.py (same value;
finite first and second derivatives at r == 0: the hessian of ``np.hypot(a, b) ** 2`` at
0 was 0, of ``np.sqrt(x**2 + y**2) ** 2`` NaN).

A radius bound to a name first (``r = np.hypot(a, b); return r ** 2``, ``r = np.sqrt(x @ x)``)
gets the same helpers: when the name is bound by that one statement only, and nothing read by
the radius' arguments is changed in place anywhere in the function (`_bound_radii`), the
arguments' values are kept in fresh names next to it (``_ra1 = a; _ra2 = b; r = np.hypot(_ra1,
_ra2)``: they are rebound exactly when r is) and ``r ** p`` reads them (``hypot_power(_ra1,
_ra2, p)``).  Other uses of r keep the chain rule.
"""

import builtins
import math

import gast
import numpy as np

from .. import ast_util as A
from ..rules import radial_powers as R
from ..rules.complex_rules import abs_squared

_ABS = (builtins.abs, np.abs, np.absolute)


def rewrite_smooth_forms(info):
    """See the module docstring; rewrites info.node in place and returns info."""
    if not any(isinstance(n, gast.Call) for n in gast.walk(info.node)):
        return info
    bound = _bound_radii(info)
    kept = {}                       # a bound radius' name -> the fresh names keeping its arguments

    def radius_of(node):
        """(helper, arguments) of a radius call, or of a name bound to one (module docstring)."""
        if isinstance(node, gast.Name) and node.id in bound:
            helper, args = _radius(info, bound[node.id].value)
            if node.id not in kept:
                kept[node.id] = [info.namer.fresh("_radius_arg") for _ in args]
            return helper, [A.name(n) for n in kept[node.id]]
        return _radius(info, node)

    class Rewriter(gast.NodeTransformer):
        def visit_BinOp(self, node):
            self.generic_visit(node)
            inner = None
            if isinstance(node.op, gast.Pow) and _is_two(node.right):
                inner = _abs_argument(info, node.left)
            elif isinstance(node.op, gast.Mult):
                inner = _abs_argument(info, node.left)
                other = _abs_argument(info, node.right)
                if inner is None or other is None or not _same_read(inner, other):
                    inner = None
            if inner is not None:
                return A.located(A.call(A.global_ref(abs_squared, "abs_squared"), [inner]), node)
            return _radial_power(radius_of, node)

        def visit_Call(self, node):
            self.generic_visit(node)
            if len(node.args) == 1 and not node.keywords and info.resolve_static(node.func) is np.square:
                inner = _abs_argument(info, node.args[0])
                if inner is not None:
                    return A.located(A.call(A.global_ref(abs_squared, "abs_squared"), [inner]), node)
                radius = radius_of(node.args[0])
                if radius is not None:
                    return _power_call(radius, 2, node)
            return node

    Rewriter().visit(info.node)
    if kept:
        _KeepArguments({id(bound[name]): names for name, names in kept.items()}).visit(info.node)
    return info


class _KeepArguments(gast.NodeTransformer):
    """``r = hypot(a, b)`` -> ``_ra1 = a; _ra2 = b; r = hypot(_ra1, _ra2)`` for the statements
    given (by id), in place in their bodies."""

    def __init__(self, names_by_statement):
        self.names = names_by_statement

    def visit_Assign(self, node):
        names = self.names.get(id(node))
        if names is None:
            return node
        call = node.value
        out = [A.located(A.assign(n, arg), node) for n, arg in zip(names, call.args)]
        call.args = [A.name(n) for n in names]
        return out + [node]


def _bound_radii(info):
    """{name: its one binding statement} for names bound exactly once in the function, by
    ``name = <radius call>``, where every name the call's arguments read is changed in place
    nowhere in the function (so the kept arguments hold the values the radius was computed
    from wherever the name is read)."""
    stores = {}
    for n in gast.walk(info.node):
        if isinstance(n, gast.Name) and not isinstance(n.ctx, gast.Load):
            stores[n.id] = stores.get(n.id, 0) + 1
    changed = _changed_in_place(info)
    found = {}
    for stmt in _own_statements(info.node):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)):
            continue
        name = stmt.targets[0].id
        radius = _radius(info, stmt.value)
        if radius is None or stores.get(name) != 1:
            continue
        read = {n.id for a in radius[1] for n in gast.walk(a) if isinstance(n, gast.Name)}
        if not read & changed:
            found[name] = stmt
    return found


def _own_statements(fn):
    """The statements of fn's own scope (not those of functions or classes defined in it: a
    name bound there is another variable)."""
    todo = list(fn.body)
    while todo:
        stmt = todo.pop()
        yield stmt
        if not isinstance(stmt, (gast.FunctionDef, gast.AsyncFunctionDef, gast.ClassDef)):
            for field in ("body", "orelse", "finalbody", "handlers"):
                todo.extend(getattr(stmt, field, None) or [])


def _root(node):
    while isinstance(node, (gast.Attribute, gast.Subscript, gast.Starred)):
        node = node.value
    return node.id if isinstance(node, gast.Name) else None


def _changed_in_place(info):
    """Names whose value may be changed in place somewhere in the function: written into
    (``v[i] = ``, ``v.a = ``, ``v += ``), a method called on them, or passed to a call of
    anything but a NumPy/math/SciPy/builtin function without ``out=`` (a user function may write
    into its argument).  Conservative: any doubt counts as changed."""
    changed = set()
    for n in gast.walk(info.node):
        if isinstance(n, gast.AugAssign):
            changed.add(_root(n.target))
        elif isinstance(n, (gast.Subscript, gast.Attribute)) and not isinstance(n.ctx, gast.Load):
            changed.add(_root(n))
        elif isinstance(n, gast.Call):
            fn = info.resolve_static(n.func)
            library = getattr(fn, "__module__", None) or getattr(type(fn), "__module__", "") or ""
            pure = library.split(".")[0] in ("numpy", "math", "scipy", "builtins") \
                and not any(k.arg == "out" for k in n.keywords)
            if isinstance(n.func, gast.Attribute) and not pure:
                changed.add(_root(n.func.value))
            if not pure:
                changed.update(_root(a) for a in list(n.args) + [k.value for k in n.keywords])
    changed.discard(None)
    return changed


def _is_two(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == 2


def _same_read(a, b):
    """a and b read the same value: one name, or one name indexed by the same constants."""
    def plain(n):
        if isinstance(n, gast.Name):
            return True
        return isinstance(n, gast.Subscript) and isinstance(n.value, gast.Name) \
            and all(isinstance(k, (gast.Constant, gast.Name)) for k in gast.walk(n.slice)
                    if not isinstance(k, (gast.Tuple, gast.Load, gast.USub, gast.UnaryOp)))
    return plain(a) and plain(b) and gast.dump(a) == gast.dump(b)


def _abs_argument(info, node):
    if isinstance(node, gast.Call) and len(node.args) == 1 and not node.keywords \
            and any(info.resolve_static(node.func) is f for f in _ABS):
        return node.args[0]
    return None


# radius function -> the helper computing its power (rules/radial_powers.py)
_RADII = {builtins.abs: R.abs_power, np.abs: R.abs_power, np.absolute: R.abs_power,
          np.hypot: R.hypot_power, math.hypot: R.math_hypot_power, np.linalg.norm: R.norm_power,
          np.sqrt: R.sqrt_power, math.sqrt: R.math_sqrt_power}
_ARITY = {R.hypot_power: 2, R.math_hypot_power: 2}


def _radius(info, node):
    """(helper, arguments) when node calls a radius function with its plain arguments."""
    if not isinstance(node, gast.Call) or node.keywords or any(isinstance(a, gast.Starred) for a in node.args):
        return None
    fn = info.resolve_static(node.func)
    helper = next((h for f, h in _RADII.items() if fn is f), None)
    if helper is None or len(node.args) != _ARITY.get(helper, 1):
        return None
    return helper, node.args


def _power(node):
    """The literal exponent p >= 2 of node, else None."""
    if isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value >= 2:
        return node.value
    return None


def _radial_power(radius_of, node):
    """node (a BinOp) as a radial power helper's call, or node itself (radius_of: node ->
    (helper, arguments) of the radius it is, or None)."""
    radius, p = None, None
    if isinstance(node.op, gast.Pow):
        radius, p = radius_of(node.left), _power(node.right)
    elif isinstance(node.op, gast.Mult):
        radius, other = radius_of(node.left), radius_of(node.right)
        p = 2
        if radius is None or other is None or radius[0] is not other[0] \
                or not all(_same_read(a, b) for a, b in zip(radius[1], other[1])):
            radius = None
    if radius is None or p is None:
        return node
    return _power_call(radius, p, node)


def _power_call(radius, p, node):
    helper, args = radius
    return A.located(A.call(A.global_ref(helper, helper.__name__), list(args) + [gast.Constant(p, None)]), node)
