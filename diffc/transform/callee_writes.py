"""callee_writes: a call of a user function that writes into its argument, followed as a value.

In Python, ``apply_boundary(u)`` whose body does ``u[0] = 0.0`` (or ``u += v``,
``u[1:-1] = ...``) changes the caller's array.  diffc copies arrays before writing into
them, so the caller would not see the change; such calls were refused whenever the
caller used the argument afterwards.  Here the call becomes a call of a variant of the
callee that also returns the final objects of its written parameters, and the caller
updates its own names with them:

    _w = apply_boundary_and_written(u, x)  # the variant ends with `return (result, u)`
    u = _w[1]        # an update of u's object in place (``diffc_augmented``): names
                     # sharing it are followed (item_write_back.py) or refused, as for u += v
    r = _w[0]        # when the call had a target

Input: a FunctionSweep's ANF body (``fn.body``; ``fn.module``, ``fn.info``, ``fn.kinds``),
before its aliasing and activity analyses.
Output: the body with such calls rewritten; each variant is a FunctionInfo copy of the
callee's ANF whose ``returns_written`` names the parameters it returns
(Module.check_argument_writes lets those pass: the caller takes them back).

Only when: the call's result, if used, shares no argument, or is the written argument itself
(``w = fill(u)`` whose every return is ``return u``: ``w = u`` after u's update; returning a
view of u is left as it was); the callee is a plain user function (a function object or a local def) that
may write into its parameters (``Module.mutated_params``; for ``p op= v`` the caller takes
the value back only if its object was updated in place, ``runtime.updates_in_place``); each
parameter's argument is a local name of the caller, given once; and the callee never
rebinds that parameter other than by ``p op= v`` (so its last value is the object the
caller holds).  Every other call is left as it was (and refused as before when the
caller reads the argument afterwards).
"""

import copy

import gast

from .. import ast_util as A
from .. import runtime, runtime_calls, runtime_checks, runtime_tuples
from ..analysis import kinds as K
from ..analysis.calls import call_key, is_user_function
from ..errors import DiffcError
from ..parse import FunctionInfo


def rewrite(fn):
    """fn.body with the calls of argument-writing user functions followed (module docstring)."""
    return _block(fn, fn.body)


def _block(fn, stmts):
    out = []
    for s in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(s, field, _block(fn, inner))
        rewritten = _statement(fn, s)
        if rewritten is None:
            out.append(s)
            continue
        new, key, taken_back = rewritten
        _drop_guard(out, key, taken_back)
        out.extend(new)
    return out


def _drop_guard(before, key, taken_back):
    """Remove the front end's run-time refusal of this call (transform/unknown_writes.py:
    ``check_unchanged_arguments(f, names, values, where)`` just before it) when the call
    now takes back every parameter it names."""
    for k in range(len(before) - 1, -1, -1):
        s = before[k]
        temporary = isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
            and s.targets[0].id.startswith("_")
        guard = isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
            and getattr(s.value.func, "diffc_global", None) in (runtime_calls.check_unchanged_arguments,
                                                                runtime_calls.check_written_arguments)
        if not (temporary or guard):
            return          # the guard stands among the temporaries of this very call
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
                and getattr(s.value.func, "diffc_global", None) is runtime_calls.check_unchanged_arguments \
                and getattr(s.value.args[0], "diffc_global", None) is key:
            names = _constant_names(before, s.value.args[1])
            if names is not None and set(names) <= set(taken_back):
                del before[k]
            return


def _constant_names(before, atom):
    """The strings of a tuple display (or a name bound to one just before)."""
    if isinstance(atom, gast.Name):
        bound = [s.value for s in before if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                 and s.targets[0].id == atom.id]
        atom = bound[-1] if bound else None
    if isinstance(atom, gast.Tuple) and all(isinstance(e, gast.Constant) for e in atom.elts):
        return [e.value for e in atom.elts]
    return None


def _statement(fn, stmt):
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
            and isinstance(stmt.value, gast.Call):
        call, target = stmt.value, stmt.targets[0].id
    elif isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call):
        call, target = stmt.value, None
    else:
        return None
    key, _ = call_key(fn.info, call)
    if not is_user_function(key):
        return None             # library functions and diffc's helpers have rules of their own
    written = _written_arguments(fn, key, call)
    if not written:
        return None
    same = None
    if target is not None and target not in {name for _, name, _ in written} \
            and fn.module.returned_aliases(key) != set():
        # `w = fill(u)` returning u itself on every path: w is u's object, `w = u` after the
        # update says so; returning a view of u (or maybe u): w and u share memory, which the
        # parts of the variant's result would no longer say (left as it was)
        same = _returned_argument(fn, key, written)
        if same is None:
            return None
    variant = fn.module.returning_written(key, [p for p, _, _ in written])
    if variant is None:
        return None
    holder = fn.info.namer.fresh("_with_written")
    fn.info.add_locals({holder})
    made = A.call(A.global_ref(variant, variant.name), [A.deepcopy(a) for a in call.args],
                  [gast.keyword(arg=k.arg, value=A.deepcopy(k.value)) for k in call.keywords])
    out = _unshared_arguments(fn, call, stmt, [name for _, name, _ in written])
    out.append(A.located(A.assign(holder, made), stmt))
    # the parts first: the holder, which shares each written object, is dead before they
    # are taken back (else the update would be a write another live name sees)
    parts = []
    for k in range(len(written) + 1):
        part = fn.info.namer.fresh("_part")
        fn.info.add_locals({part})
        parts.append(part)
        out.append(A.located(A.assign(part, A.subscript(A.name(holder), A.const(k))), stmt))
    for k, (_, name, always) in enumerate(written):
        if name == target:
            continue                            # `u = fill(u)`: u is the result
        update = A.located(A.assign(name, A.name(parts[k + 1])), stmt)
        update.diffc_augmented = True           # u's object is updated in place, as u op= v
        update.diffc_items_updated = True       # and maybe the objects it holds (analysis/aliases.py)
        if always is True:
            out.append(update)
            continue
        # `p op= v` in the callee: an array (a list) is updated, a number only rebound there
        flag = fn.info.namer.fresh("_updated")
        fn.info.add_locals({flag})
        test = runtime.updates_in_place if always is False else runtime_tuples.takes_back_items
        out += [A.located(A.assign(flag, A.call(A.global_ref(test, test.__name__),
                                                [A.name(name)])), stmt),
                A.located(gast.If(test=A.name(flag), body=[update], orelse=[]), stmt)]
    if target is not None:
        out.append(A.located(A.assign(target, A.name(same or parts[0])), stmt))
    return out, key, [p for p, _, _ in written]


def _returned_argument(fn, key, written):
    """The caller's name given for the written parameter the callee returns itself on every
    path (each ``return u`` in its source, which ends with one; u never rebound:
    _written_arguments), written whatever it is; else None."""
    import ast
    import inspect
    import textwrap
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(key)))
    except (OSError, TypeError, SyntaxError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, ast.FunctionDef) or not node.body or not isinstance(node.body[-1], ast.Return) \
            or any(isinstance(n, (ast.FunctionDef, ast.Lambda, ast.Yield, ast.YieldFrom)) and n is not node
                   for n in ast.walk(node)):
        return None
    returns = [n.value for n in ast.walk(node) if isinstance(n, ast.Return)]
    if not all(isinstance(v, ast.Name) for v in returns):
        return None
    names = {v.id for v in returns}
    found = [(name, always) for p, name, always in written if {p} == names]
    return found[0][0] if found and found[0][1] else None


def _unshared_arguments(fn, call, stmt, names):
    """``check_unshared(u, v, line)`` for each written argument u and each other local name v
    given to the call: the callee, compiled as if its parameters were separate objects,
    would not see its write into u through v (``fill(u, u[1:])``); refused when it runs."""
    given = [a for a in list(call.args) + [k.value for k in call.keywords]
             if isinstance(a, gast.Name) and not hasattr(a, "diffc_global")
             and (a.id in fn.info.local_names or a.id in fn.params)]
    line = A.const(fn.source.file_line(stmt))
    out = []
    for name in names:
        for other in given:
            if other.id != name:
                check = A.call(A.global_ref(runtime_checks.check_unshared, "check_unshared"),
                               [A.name(name), A.name(other.id), line])
                out.append(A.located(A.expr_stmt(check), stmt))
    return out


def _written_arguments(fn, key, call):
    """[(parameter, the caller's local name given for it, whether it is written whatever
    it is)] for the parameters the callee writes into ("if mutable": ``p op= v``, which
    rebinds a number); [] when one of them cannot be followed this way."""
    if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return []
    try:
        mutated = fn.module.mutated_params(key)
        info = fn.module.info_for(key)
    except DiffcError:          # refused where the call is compiled (front_end keeps the error)
        return []
    if not mutated:
        return []
    params = info.params
    given = dict(zip(params, call.args))
    given.update({k.arg: k.value for k in call.keywords})
    out = []
    for p, how in mutated.items():
        atom = given.get(p)
        if not (isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global")
                and (atom.id in fn.info.local_names or atom.id in fn.params)):
            return []
        if _rebound(info.node.body, p):
            return []
        always = how == "always" or fn.kinds.get(atom.id) in (K.ARRAY, K.VECTOR)
        if not always and not _augmented(info.node.body, p):
            always = "items"        # only its items written (`pos, vel = state`): a tuple too
        out.append((p, atom.id, always))
    names = [n for _, n, _ in out]
    loaded = [a.id for a in list(call.args) + [k.value for k in call.keywords] if isinstance(a, gast.Name)]
    if any(loaded.count(n) > 1 for n in names):
        return []                               # one object given twice: the callee sees an alias
    return out


def _augmented(body, name):
    """The callee updates its parameter name itself (`name op= v`, which rebinds a tuple)."""
    return any(isinstance(s, gast.Assign) and getattr(s, "diffc_augmented", False)
               and any(name in A.names_stored(t) for t in s.targets) for s in A.walk_statements(body))


def _rebound(body, name):
    """The callee binds its parameter name to another object somewhere (not `name op= v`)."""
    for s in A.walk_statements(body):
        if isinstance(s, gast.Assign) and not getattr(s, "diffc_augmented", False) \
                and any(name in A.names_stored(t) for t in s.targets):
            return True
        if isinstance(s, gast.For) and name in A.names_stored(s.target):
            return True
    return False


def returning_written(info, params, name):
    """A copy of the ANF FunctionInfo info whose result is ``(result, *params)``."""
    variant = copy.copy(info)
    variant.node = A.deepcopy(info.node)
    variant.node.name = variant.name = name
    variant.local_functions = dict(info.local_functions)
    last = variant.node.body[-1]
    assert isinstance(last, gast.Return)
    holder = info.namer.fresh("_result_and_written")
    both = gast.Tuple(elts=[last.value if last.value is not None else A.const(None)]
                      + [A.name(p) for p in params], ctx=gast.Load())
    variant.node.body[-1:] = [A.located(A.assign(holder, both), last),
                              A.located(gast.Return(value=A.name(holder)), last)]
    variant.forget_local_names()
    variant.returns_written = tuple(params)
    return variant
