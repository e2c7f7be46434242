"""view_helpers: a small helper that hands back views of its arguments, inlined.

Scientists split parameters with helpers (``def head(a): return a[:2]``, ``def unpack(theta):
W = theta[:6].reshape(2, 3); b = theta[6:]; return W, b``) and then write into what they
got (``v = head(z); v *= c``): in Python the write changes the argument too.  diffc
follows writes through views made in the function itself (sweep.py, reshaped_views.py);
inlining the helper at the call makes the view visible there.

Input: a function body (desugar, before loops and comprehensions are lowered), its
FunctionInfo, a Namer, and `is_rule(obj)` (whether obj has a derivative rule of its own).
Output: each statement ``t = h(args)`` or ``t1, t2 = h(args)`` (at any depth) where h is a
plain user function without a rule whose body is only assignments of *view expressions*
to names and a final ``return`` of one (or of a tuple of as many as the targets) becomes

    _a = <argument>                 # only for an argument that is not a name or constant
    t = <h's returned expression, its parameters and locals replaced>

A view expression is made of names, constants, subscripts, ``.T``/``.mT``/``.real``, method
calls ``reshape``/``transpose``/``ravel``/``squeeze``/``swapaxes``, and calls of NumPy's
``reshape``/``transpose``/``ravel``/``squeeze``/``swapaxes``/``moveaxis``/``expand_dims``/
``atleast_*`` (resolved in h's own globals), with index arithmetic.  Invariant: the
inlined statements compute what the call computed (every part is side-effect free and
evaluated once per use; a helper's local used twice is recomputed, a view, no copy), and
h's names resolve as in h (globals are bound to their objects).  Only in functions that
write in place somewhere (else nothing can see the difference).
"""

import types

import gast
import numpy as np

from .. import ast_util as A
from ..parse import MISSING

_METHODS = {"reshape", "transpose", "ravel", "squeeze", "swapaxes"}
_ATTRIBUTES = {"T", "mT", "real"}
_FUNCTIONS = {np.reshape, np.transpose, np.ravel, np.squeeze, np.swapaxes, np.moveaxis,
              np.expand_dims, np.atleast_1d, np.atleast_2d, np.atleast_3d}


def inline_view_helpers(body, info, namer, is_rule, parse):
    """body with the calls of view helpers inlined (module docstring)."""
    if is_rule is None or not _writes_in_place(body):
        return body
    return _block(body, info, namer, is_rule, parse)


def _writes_in_place(body):
    for node in gast.walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.AugAssign) or isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store):
            return True
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and node.func.attr in ("sort", "fill", "put", "resize"):
            return True
    return False


def _block(stmts, info, namer, is_rule, parse):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, _block(inner, info, namer, is_rule, parse))
        for handler in getattr(stmt, "handlers", None) or []:
            handler.body = _block(handler.body, info, namer, is_rule, parse)
        inlined = _inlined(stmt, info, namer, is_rule, parse)
        out.extend(A.located_all(inlined, stmt) if inlined is not None else [stmt])
    return out


def _inlined(stmt, info, namer, is_rule, parse):
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.value, gast.Call)):
        return None
    call, target = stmt.value, stmt.targets[0]
    fn = info.resolve_static(call.func)
    if not isinstance(fn, types.FunctionType) or is_rule(fn) or fn.__code__.co_flags & 0x2C \
            or any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return None                     # (0x2C: *args, **kwargs, a generator)
    if isinstance(target, gast.Tuple) and not all(isinstance(e, gast.Name) for e in target.elts) \
            or not isinstance(target, (gast.Name, gast.Tuple)):
        return None
    try:
        helper = parse(fn)
    except Exception:                   # no source, or not parseable: called as before
        return None
    returned = _returned_views(helper, target)
    if returned is None:
        return None
    bound = _bind_arguments(helper.node, call, namer)
    if bound is None:
        return None
    before, params = bound
    values = [_substituted(e, params, helper) for e in returned]
    if isinstance(target, gast.Name):
        return before + [A.assign(A.deepcopy(target), values[0])]
    return before + [A.assign(A.store(t.id), v) for t, v in zip(target.elts, values)]


def _returned_views(helper, target):
    """The expressions h returns, its locals replaced by their view expressions: one per
    target (a tuple returned to a tuple of as many names); None unless h is a view helper."""
    node = helper.node
    if helper.local_functions or node.args.vararg or node.args.kwarg or node.args.kwonlyargs:
        return None
    params = {a.id for a in node.args.args}
    body = list(node.body)
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        body = body[1:]                 # a docstring
    if not body or not isinstance(body[-1], gast.Return) or body[-1].value is None:
        return None
    known = {}
    for stmt in body[:-1]:
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name) and stmt.targets[0].id not in params
                and stmt.targets[0].id not in known and _is_view(stmt.value, helper, params, known)):
            return None
        known[stmt.targets[0].id] = stmt.value
    result = body[-1].value
    parts = result.elts if isinstance(result, gast.Tuple) else None
    if isinstance(target, gast.Tuple):
        if parts is None or len(parts) != len(target.elts):
            return None
    else:
        parts = [result]
    if not all(_is_view(p, helper, params, known) for p in parts):
        return None
    return [_through_locals(p, known) for p in parts]


def _is_view(expr, helper, params, known):
    """Whether expr is a view expression (module docstring) of h's parameters and locals:
    never a fresh array, which inlining could not evaluate twice for a local used twice."""
    if isinstance(expr, gast.Name):
        return expr.id in params or expr.id in known
    if isinstance(expr, gast.Subscript):
        return _is_view(expr.value, helper, params, known) and _is_index(expr.slice, helper, params)
    if isinstance(expr, gast.Attribute):
        return expr.attr in _ATTRIBUTES and _is_view(expr.value, helper, params, known)
    if not isinstance(expr, gast.Call) or any(isinstance(a, gast.Starred) for a in expr.args) \
            or any(k.arg is None or not _is_index(k.value, helper, params) for k in expr.keywords):
        return False
    if isinstance(expr.func, gast.Attribute) and not _is_static(expr.func, helper):
        return expr.func.attr in _METHODS and _is_view(expr.func.value, helper, params, known) \
            and all(_is_index(a, helper, params) for a in expr.args)
    return _is_function(helper.resolve_static(expr.func)) and bool(expr.args) \
        and _is_view(expr.args[0], helper, params, known) and all(_is_index(a, helper, params) for a in expr.args[1:])


def _is_index(expr, helper, params):
    """An index, shape or axis: parameters, constants and h's global numbers, with
    arithmetic, slices, tuples and ``.shape``/``.ndim``/``.size`` of parameters."""
    for node in gast.walk(expr):
        if isinstance(node, gast.Name):
            if node.id not in params and not _is_static(node, helper):
                return False
        elif isinstance(node, gast.Attribute):
            if node.attr not in ("shape", "ndim", "size") and not _is_static(node, helper):
                return False
        elif not isinstance(node, (gast.Constant, gast.Slice, gast.Tuple, gast.BinOp, gast.UnaryOp,
                                   gast.operator, gast.unaryop, gast.expr_context, gast.Subscript)):
            return False
    return True


def _is_function(obj):
    try:
        return obj in _FUNCTIONS
    except TypeError:
        return False


def _is_static(node, helper):
    """A name or attribute chain of h's globals (a module, a NumPy function, a constant)."""
    if isinstance(node, gast.Name) and node.id in helper.local_names:
        return False
    obj = helper.resolve_static(node)
    return obj is not MISSING and (isinstance(obj, types.ModuleType) or _is_function(obj)
                                   or type(obj) in (int, float))


def _through_locals(expr, known):
    """expr with h's locals replaced by their (already expanded) expressions."""
    expanded = {}
    for name, value in known.items():
        expanded[name] = A.rename(A.deepcopy(value), dict(expanded))
    return A.rename(A.deepcopy(expr), expanded)


def _bind_arguments(node, call, namer):
    """(statements binding arguments that are not atoms, {parameter: atom}) or None."""
    names = [a.id for a in node.args.args]
    defaults = dict(zip(names[len(names) - len(node.args.defaults):], node.args.defaults))
    if len(call.args) > len(names):
        return None
    given = dict(zip(names, call.args))
    for keyword in call.keywords:
        if keyword.arg not in names or keyword.arg in given:
            return None
        given[keyword.arg] = keyword.value
    before, params = [], {}
    for name in names:
        value = given.get(name)
        if value is None:
            value = defaults.get(name)
            if not (isinstance(value, gast.Constant) and isinstance(value.value, (int, float, type(None)))):
                return None
        if isinstance(value, (gast.Name, gast.Constant)):
            params[name] = value
        else:
            held = namer.fresh("_arg_" + name)
            before.append(A.assign(held, value))
            params[name] = A.name(held)
    return before, params


def _substituted(expr, params, helper):
    """expr with h's parameters replaced and its globals bound to their objects."""
    for node in gast.walk(expr):
        if isinstance(node, gast.Name) and node.id not in params and not hasattr(node, "diffc_global"):
            node.diffc_global = helper.resolve_static(node)
    return A.rename(expr, params)
