"""frozen: calls of a distribution frozen inside the function become calls with parameters;
attributes of a library call's result object become calls that compute them.

Input: an ANF function (`FunctionInfo`).  Output: the same function in which,
for every ``v = D(p1, p2, k=p3)`` where D is a library object whose methods
have an implementation (`rules.constructed_method`: a SciPy distribution
such as ``norm`` or ``multivariate_normal``) and v is assigned once and only
ever used as ``v.method(...)``, each ``v.method(a, ...)`` is replaced by
``impl(a, ..., p1, p2, k=p3)`` and the definition of v is dropped.  So
``norm(mu, sigma).logpdf(x)`` is differentiated in mu and sigma exactly like
``norm.logpdf(x, mu, sigma)``.  The rewrite is only made when every argument
atom of ``D(...)`` is bound once (a parameter never assigned, a constant or a
single-assignment temporary), so its value at each method call is the value
the distribution was frozen with.

`pass_captured_variables` makes ``odeint(rhs, y0, t)`` with rhs a local function
reading variables of the enclosing function (lifted with them as trailing
parameters, parse.py) pass those variables through ``args=(...)``, the
callback-argument convention of the callee (``rules.CALLBACK_ARGS``), so
their derivatives flow through the callee's rule.

`rewrite_result_attributes` does the same for ``v = P(...)`` whose result v is
only read through registered attributes (``rules.RESULT_ATTRIBUTES``:
``sol = solve_ivp(...)`` then ``sol.y``): the definition becomes ``v_y =
F(...)`` and each ``v.y`` reads ``v_y``.
"""

import gast

from .. import ast_util as A
from .. import rules as R


def _store_counts(body):
    counts = {}
    for node in A.walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _frozen_definitions(info, body, counts):
    """name -> (constructor object, call node) for candidate definitions."""
    found = {}
    for stmt in A.walk_statements(body):
        if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Call)):
            continue
        name = stmt.targets[0].id
        call = stmt.value
        if counts.get(name) != 1 or not R.CONSTRUCTED_METHODS:
            continue
        obj = info.resolve_static(call.func)
        if not R.is_constructor(obj):
            continue
        atoms = list(call.args) + [k.value for k in call.keywords]
        if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            continue
        if all(isinstance(a, gast.Constant) or (isinstance(a, gast.Name) and counts.get(a.id, 0) <= 1)
               for a in atoms):
            found[name] = (obj, call, stmt)
    return found


def rewrite_frozen_calls(info):
    """Rewrite in place (see module docstring); returns the number of calls rewritten."""
    body = info.node.body
    counts = _store_counts(body)
    candidates = _frozen_definitions(info, body, counts)
    if not candidates:
        return 0
    uses = {name: [] for name in candidates}
    bad = set()
    method_bases = set()
    for node in A.walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                and isinstance(node.func.value, gast.Name) and node.func.value.id in uses:
            uses[node.func.value.id].append(node)
            method_bases.add(id(node.func.value))
    for node in A.walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in uses \
                and id(node) not in method_bases:
            bad.add(node.id)
    rewritten = 0
    dropped = set()
    for name, calls in uses.items():
        obj, ctor, _ = candidates[name]
        if name in bad or not calls:
            continue
        impls = [R.constructed_method(obj, c.func.attr) for c in calls]
        if any(impl is None for impl in impls):
            continue
        for c, impl in zip(calls, impls):
            c.func = A.global_ref(impl, impl.__name__)
            c.args = list(c.args) + [A.deepcopy(a) for a in ctor.args]
            c.keywords = list(c.keywords) + [gast.keyword(arg=k.arg, value=A.deepcopy(k.value))
                                             for k in ctor.keywords]
            rewritten += 1
        dropped.add(name)
    if dropped:
        info.node.body = _without_definitions(body, {id(candidates[n][2]) for n in dropped})
    return rewritten


def _without_definitions(stmts, ids):
    out = []
    for s in stmts:
        if id(s) in ids:
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(s, field, _without_definitions(inner, ids) or [gast.Pass()])
        out.append(s)
    return out


def rewrite_result_attributes(info):
    """Rewrite in place (see module docstring); returns the number of definitions rewritten."""
    if not R.RESULT_ATTRIBUTES:
        return 0
    body = info.node.body
    counts = _store_counts(body)
    candidates = {}
    for stmt in A.walk_statements(body):
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
                and isinstance(stmt.value, gast.Call) and counts.get(stmt.targets[0].id) == 1:
            try:
                attrs = R.RESULT_ATTRIBUTES.get(info.resolve_static(stmt.value.func))
            except TypeError:
                attrs = None
            if attrs:
                candidates[stmt.targets[0].id] = (attrs, stmt)
    if not candidates:
        return 0
    reads = {name: [] for name in candidates}
    bases = set()
    for node in A.walk(gast.Module(body=body, type_ignores=[])):
        if isinstance(node, gast.Attribute) and isinstance(node.ctx, gast.Load) \
                and isinstance(node.value, gast.Name) and node.value.id in reads:
            reads[node.value.id].append(node)
            bases.add(id(node.value))
    bad = {node.id for node in A.walk(gast.Module(body=body, type_ignores=[]))
           if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in reads
           and id(node) not in bases}
    done = {}
    for name, nodes in reads.items():
        attrs, stmt = candidates[name]
        if name in bad or not nodes or any(n.attr not in attrs for n in nodes):
            continue
        names = {}
        for attr in sorted({n.attr for n in nodes}):
            names[attr] = info.namer.fresh(f"{name}_{attr}")
        done[id(stmt)] = [A.assign(names[attr], gast.Call(func=A.global_ref(attrs[attr], attrs[attr].__name__),
                                                          args=[A.deepcopy(a) for a in stmt.value.args],
                                                          keywords=[A.deepcopy(k) for k in stmt.value.keywords]))
                          for attr in names]
        for n in nodes:
            n.diffc_replacement = names[n.attr]
    if not done:
        return 0
    info.node.body = _replace_statements(_ReplaceReads().visit(gast.Module(body=body, type_ignores=[])).body, done)
    info.forget_local_names()
    return len(done)


class _ReplaceReads(gast.NodeTransformer):
    def visit_Attribute(self, node):
        name = getattr(node, "diffc_replacement", None)
        if name is not None:
            return A.name(name)
        return self.generic_visit(node)


def _replace_statements(stmts, done):
    out = []
    for s in stmts:
        if id(s) in done:
            for new in done[id(s)]:
                out.append(A.located(new, s) if hasattr(A, "located") else new)
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(s, field, _replace_statements(inner, done))
        out.append(s)
    return out


def _given_positionally(fn, name, call):
    """Does the call pass fn's parameter `name` positionally (``quad(f, a, b, (c,))``)?"""
    import inspect
    try:
        index = list(inspect.signature(fn).parameters).index(name)
    except (TypeError, ValueError):
        return False
    return len(call.args) > index


def pass_captured_variables(info):
    """Rewrite in place (see module docstring); returns the number of calls rewritten."""
    if not R.CALLBACK_ARGS:
        return 0
    from ..parse import FunctionInfo
    rewritten = [0]

    def visit(stmts):
        out = []
        for s in stmts:
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(s, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(s, field, visit(inner))
            call = getattr(s, "value", None)
            if isinstance(s, (gast.Assign, gast.Expr)) and isinstance(call, gast.Call):
                try:
                    spec = R.CALLBACK_ARGS.get(info.resolve_static(call.func))
                except TypeError:
                    spec = None
                if spec is not None and len(call.args) > spec[0] and isinstance(call.args[spec[0]], gast.Name) \
                        and not _given_positionally(info.resolve_static(call.func), spec[1], call):
                    target = info.resolve_static(call.args[spec[0]])
                    # not with a **options part: it may hold args=... (the function value is
                    # then a closure, which the rule refuses with a message)
                    # (not with events=: solve_ivp passes args to the event functions too)
                    if isinstance(target, FunctionInfo) and target.lifted_params \
                            and not any(k.arg in (spec[1], "events") or k.arg is None for k in call.keywords):
                        holder = info.namer.fresh("_captured")
                        out.append(A.assign(holder, gast.Tuple(elts=[A.name(p) for p in target.lifted_params],
                                                               ctx=gast.Load())))
                        call.keywords = list(call.keywords) + [gast.keyword(arg=spec[1], value=A.name(holder))]
                        call.args[spec[0]].diffc_captured_in_args = True     # no closure (dynamic_calls.py)
                        rewritten[0] += 1
            out.append(s)
        return out
    info.node.body = visit(info.node.body)
    if rewritten[0]:
        info.forget_local_names()
    return rewritten[0]
