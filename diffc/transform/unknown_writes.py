"""unknown_writes: calls of user functions that may write attributes of an argument whose
class is known only at run time are checked when they run.

Input: a fenced `FunctionInfo` after transform/attribute_writes.py (the calls it follows
are calls of functional wrappers, marked ``diffc_functional``).
Output: the same function, where before each statement calling a user function ``f`` that
may write attributes of one of its parameters through a method call or another call
(``def leapfrog(osc, dt): osc.advance(dt)``), with that parameter given a name or a path
of attributes and items (``leapfrog(s, 0.1)`` with ``s = pair[0]``, ``leapfrog(d['a'], 0.1)``),
runs
``runtime_calls.check_written_arguments(f, ('osc',), (s,), 'file:line')``: it raises a
`NoDerivativeRule` naming the line when the object's class makes f write it
(constructors.written_parameters with the classes at hand).

Likewise before a call passing a name to a parameter the function writes into in place
(argument_effects.parameters_written_in_place: ``def update(v, dv): v += dv`` called as
``update(a, d)``, not ``a = update(a, d)``): ``runtime_calls.check_unchanged_arguments``
raises when the value is an array, a list or a dict, which Python would change for the
caller (a number is rebound, and nothing changes).

Why: attribute_writes follows such a call only when it knows the object's class where it
compiles the call; otherwise f ran as plain Python, changing the object in place, and the
derivative of what it wrote was lost (a wrong gradient, without a word).
"""

import inspect
import types

import gast

from .. import ast_util as A
from .. import runtime_calls
from . import argument_effects, constructors


def check_unknown_writes(info):
    """See the module docstring; rewrites info.node in place and returns info."""
    if not any(isinstance(n, gast.Call) for n in gast.walk(info.node)) \
            or getattr(info.fn, "__module__", None) == "diffc_generated":
        return info                         # generated code was checked when it was made
    info.node.body = _block(info, info.node.body)
    return info


def _block(info, stmts):
    out = []
    for stmt in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt) \
                    and not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
                setattr(stmt, field, _block(info, inner))
        for handler in getattr(stmt, "handlers", None) or ():
            handler.body = _block(info, handler.body)
        if not isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
            out.extend(_guards(info, stmt))
        out.append(stmt)
    return out


def _own_calls(stmt):
    """The calls of stmt's own expressions (not of nested statements, lambdas or
    comprehensions, whose names may not be bound yet)."""
    todo = [v for f, v in gast.iter_fields(stmt) if f not in ("body", "orelse", "finalbody", "handlers")]
    found = []
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, gast.AST) and not isinstance(node, (gast.stmt, gast.Lambda, gast.ListComp, gast.SetComp,
                                                                   gast.DictComp, gast.GeneratorExp)):
            if isinstance(node, gast.Call):
                found.append(node)
            todo.extend(gast.iter_child_nodes(node))
    return found


def _guards(info, stmt):
    out = []
    for call in _own_calls(stmt):
        fn = info.resolve_static(call.func)
        out.extend(_constructor_guard(info, stmt, call, fn))
        if not isinstance(fn, types.FunctionType) or getattr(fn, "diffc_functional", None) is not None \
                or not argument_effects.is_user_code(fn):
            continue
        passed = _plain_arguments(fn, call)
        filename, lineno, _, _ = info.source.locate(call)
        rebinds = A.names_stored(stmt) if isinstance(stmt, gast.Assign) else set()
        in_place = [p for p in passed if p in argument_effects.parameters_written_in_place(fn)
                    and not (isinstance(passed[p], gast.Name) and passed[p].id in rebinds)]
        if in_place:
            # x += dx on a parameter changes the caller's array (or list), rebinds a number
            check = A.call(A.global_ref(runtime_calls.check_unchanged_arguments, "check_unchanged_arguments"),
                           [A.global_ref(fn, fn.__name__), gast.Tuple(elts=[A.const(p) for p in in_place],
                                                                      ctx=gast.Load()),
                            gast.Tuple(elts=[A.deepcopy(passed[p]) for p in in_place], ctx=gast.Load()),
                            A.const(f"{filename}:{lineno}")])
            out.append(A.located(A.expr_stmt(check), stmt))
        maybe = argument_effects.parameters_passed_on(fn)
        names = [p for p in passed if p in maybe]
        if not names:
            continue
        check = A.call(A.global_ref(runtime_calls.check_written_arguments, "check_written_arguments"),
                       [A.global_ref(fn, fn.__name__), gast.Tuple(elts=[A.const(p) for p in names], ctx=gast.Load()),
                        gast.Tuple(elts=[A.deepcopy(passed[p]) for p in names], ctx=gast.Load()),
                        A.const(f"{filename}:{lineno}")])
        out.append(A.located(A.expr_stmt(check), stmt))
    return out


def _constructor_guard(info, stmt, call, cls):
    """``Normed(y)`` whose ``__init__`` writes into its parameter in place (``v /= norm``):
    check_unchanged_arguments, as for a function (diffc builds the object from a function
    returning its attributes, which copies before writing)."""
    if not isinstance(cls, type) or not constructors.is_user_class(cls):
        return []
    init = inspect.getattr_static(cls, "__init__", None)
    if not isinstance(init, types.FunctionType) or not argument_effects.is_user_code(init):
        return []
    written = argument_effects.parameters_written_in_place(init)
    given = _given_arguments(init.__code__.co_varnames[1:init.__code__.co_argcount], call)
    rebinds = A.names_stored(stmt) if isinstance(stmt, gast.Assign) else set()
    in_place = [p for p, a in given.items() if p in written and _is_path(a)
                and not (isinstance(a, gast.Name) and a.id in rebinds)]
    if not in_place:
        return []
    filename, lineno, _, _ = info.source.locate(call)
    check = A.call(A.global_ref(runtime_calls.check_unchanged_arguments, "check_unchanged_arguments"),
                   [A.global_ref(init, cls.__name__ + "_init"),
                    gast.Tuple(elts=[A.const(p) for p in in_place], ctx=gast.Load()),
                    gast.Tuple(elts=[A.deepcopy(given[p]) for p in in_place], ctx=gast.Load()),
                    A.const(f"{filename}:{lineno}")])
    return [A.located(A.expr_stmt(check), stmt)]


def _is_path(node):
    """A name, or attributes and items of one with constant or named indices (``d['a']``,
    ``states[i].cell``): reading it again before the call has no effect."""
    while isinstance(node, (gast.Attribute, gast.Subscript)):
        if isinstance(node, gast.Subscript) and not isinstance(node.slice, (gast.Name, gast.Constant)):
            return False
        node = node.value
    return isinstance(node, gast.Name)


def _plain_arguments(fn, call):
    """{parameter: argument node} for the arguments that are paths (_is_path)."""
    code = fn.__code__
    given = _given_arguments(code.co_varnames[:code.co_argcount], call)
    return {p: a for p, a in given.items() if _is_path(a)}


def _given_arguments(positional, call):
    """{parameter: argument node} of a call, for the positional parameter names given
    (up to a starred argument) and the keywords."""
    given = {}
    for name, arg in zip(positional, call.args):
        if isinstance(arg, gast.Starred):
            break
        given[name] = arg
    given.update({k.arg: k.value for k in call.keywords if k.arg is not None})
    return given
