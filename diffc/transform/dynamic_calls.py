"""dynamic_calls: calls of function values become ``runtime_calls.call_value(f, args, kwargs)``.

Input: the ANF statements of one function (a private copy, as reverse.py and
forward.py keep), its `FunctionInfo`, the kinds of its variables and which
names are varied (depend on a differentiated parameter).
Output: the same statements, where every ``x = f(a, b, k=c)`` that passes a
varied argument to a callee diffc cannot name at compile time is

    _fargs = (a, b)
    _fkw = {'k': c}
    x = runtime_calls.call_value(f, _fargs, _fkw)

and ``runtime_calls.call_value``'s rules (rules/dynamic_rules.py) differentiate the
call at run time for the function value at hand (diffc/dynamic.py).  A callee
counts as a value when it is a local name (a parameter holding a function, an
item taken from a list or dict, what another call returned), a method with no
derivative rule called on an object that is not an array (``self.forward(x)``,
``model.loss(x)``), a bound method, a ``functools.partial``, a derivative made
by diffc (``diffc.grad(g)``) or a callable object of a user class.

A callee that itself depends on a differentiated value (a partial or closure
built from one) is refused: its derivative would be lost.
"""

import dataclasses
import functools
import types

import gast

from .. import ast_util as A
from .. import runtime, runtime_calls
from . import constructors
from .. import rules as R
from ..analysis import activity as activity_mod
from ..analysis import kinds as K
from ..errors import DiffcError, NoDerivativeRule
from ..parse import FunctionInfo

_LIBRARY_MODULES = ("numpy", "scipy", "math", "builtins", "operator", "diffc", "jax", "torch")


def is_function_value(obj):
    """A statically known callee whose call diffc differentiates at run time."""
    if isinstance(obj, (functools.partial, types.MethodType)) or hasattr(obj, "diffc_derivative"):
        return True
    if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType, types.ModuleType, FunctionInfo)):
        return False
    module = (getattr(type(obj), "__module__", "") or "").split(".")[0]
    return callable(obj) and module not in _LIBRARY_MODULES


def is_dynamic(info, call, kinds, key):
    """Whether the call `call` (rule key `key` from reverse.call_key) calls a function value."""
    if key is None:
        return True
    if isinstance(key, tuple) and len(key) == 2 and key[0] == "method":
        receiver = call.func.value
        receiver_kind = kinds.get(receiver.id) if isinstance(receiver, gast.Name) else None
        return (R.adjoint_rule(key) is None and R.tangent_rule(key) is None and not R.is_nondiff(key)
                and key[1] not in activity_mod.MUTATING_METHODS
                and not K.is_array(receiver_kind) and receiver_kind not in (K.SCALAR, K.INT, K.SCALARS))
    try:
        has_rule = R.adjoint_rule(key) is not None or R.is_nondiff(key)
    except TypeError:
        has_rule = False
    return not has_rule and is_function_value(key)


def lower(stmts, rf, varied, call_key, objects=None):
    """Rewrite the dynamic calls of stmts (see module docstring); returns the new list.

    rf: the ReverseFunction or ForwardFunction (info, namer, kinds, module, fail);
    objects: the names holding objects of user classes (`object_names`; found in stmts
    when None)."""
    if objects is None:
        objects = object_names(stmts, rf, call_key)
        objects.numeric = numeric_names(stmts)
    out = []
    for stmt in stmts:
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, lower(inner, rf, varied, call_key, objects))
        guard = _discarded_call_guard(stmt, rf, varied, call_key)
        if guard is not None:
            out.append(A.located(guard, stmt))
        _capture_varied_callee(stmt, varied)
        pre = _function_values(stmt, rf)
        # a closure over differentiated values carries their derivatives (a partial of it too)
        varied.update(s.targets[0].id for s in pre)
        new = _lower_field(stmt, rf, varied) or _lower_call(stmt, rf, varied, call_key, objects)
        if new is None:
            new = _pack_varargs(stmt, rf, call_key)
        lowered = new is not None or bool(pre)
        new = pre + (new if new is not None else [stmt])
        # What lowered calls compute from values that became varied while lowering (a
        # closure over differentiated values, an object built from one) is varied too.
        # (Only calls: `shape = x.shape` stays a constant.)
        for s in new if lowered else ():
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and isinstance(s.value, gast.Call) \
                    and any(isinstance(n, gast.Name) and n.id in varied and not hasattr(n, "diffc_global")
                            for n in s.value.args):
                varied.add(s.targets[0].id)
        # The temporaries are locals of the function: tapes and split callees keep them.
        # (also those inside the branch of a property read: `_getter = field_getter(obj, name)`,
        # which the adjoint of a loop's every iteration reads: tapes keep only locals)
        rf.info.add_locals({s.targets[0].id for s in A.walk_statements(new) if s is not stmt
                            and isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)})
        out.extend(A.located_all(new, stmt) if len(new) > 1 else new)
    return out


def _capture_varied_callee(stmt, varied):
    """``f = owned_callee(g)`` (generated code held g constant, _rewrite) where g now carries
    a derivative (a method of an object differentiated at this order) -> captured_callee(g)."""
    call = stmt.value if isinstance(stmt, gast.Assign) else None
    if isinstance(call, gast.Call) and getattr(call.func, "diffc_global", None) is runtime_calls.owned_callee \
            and len(call.args) == 1 and _is_varied(call.args[0], varied):
        call.func = A.global_ref(runtime_calls.captured_callee, "captured_callee")


def _discarded_call_guard(stmt, rf, varied, call_key):
    """`runtime_calls.check_discarded_call(obj, 'name', where)` before a statement
    `obj.name(...)` or `r = obj.name(...)` of a method diffc knows no rule for, when obj or an
    argument carries derivatives: a method writing obj's attributes (found when it runs) is
    refused, naming the user's line, rather than its writes' derivative lost.  Objects the
    function builds or receives were handled by transform/attribute_writes.py."""
    call = stmt.value if isinstance(stmt, (gast.Expr, gast.Assign)) else None
    if isinstance(call, gast.Call) and isinstance(call.func, gast.Name) and not hasattr(call.func, "diffc_global") \
            and not any(isinstance(a, gast.Starred) for a in call.args):
        return _called_value_guard(call, rf, varied, call_key)
    if not isinstance(call, gast.Call) or not isinstance(call.func, gast.Attribute) \
            or not isinstance(call.func.value, gast.Name) or hasattr(call.func.value, "diffc_global"):
        return None
    atoms = [call.func.value] + [a.value if isinstance(a, gast.Starred) else a for a in call.args] \
        + [k.value for k in call.keywords]
    if not any(_is_varied(a, varied) for a in atoms):
        return None
    key, _ = call_key(rf.info, call)
    if not is_dynamic(rf.info, call, rf.kinds, key):
        return None
    filename, lineno, _, _ = rf.info.source.locate(call)
    args = [A.deepcopy(a) for a in call.args if not isinstance(a, gast.Starred)] \
        if not any(isinstance(a, gast.Starred) for a in call.args) else []
    return A.expr_stmt(A.call(A.global_ref(runtime_calls.check_discarded_call, "check_discarded_call"),
                              [A.deepcopy(call.func.value), A.const(call.func.attr),
                               A.const(f"{filename}:{lineno}"), gast.Tuple(elts=args, ctx=gast.Load())]))


def _called_value_guard(call, rf, varied, call_key):
    """`runtime_calls.check_called_value(f, (args...), where)` before `f(args)` with f a
    function value diffc learns only when it runs (`for fn in steps: fn(state, x)`) and an
    argument carrying derivatives: a function writing attributes of an argument, or state
    outside its arguments, is refused at the user's line."""
    if not any(_is_varied(a, varied) for a in call.args):
        return None
    key, _ = call_key(rf.info, call)
    if not is_dynamic(rf.info, call, rf.kinds, key):
        return None
    filename, lineno, _, _ = rf.info.source.locate(call)
    return A.expr_stmt(A.call(A.global_ref(runtime_calls.check_called_value, "check_called_value"),
                              [A.deepcopy(call.func), gast.Tuple(elts=[A.deepcopy(a) for a in call.args],
                                                                 ctx=gast.Load()),
                               A.const(f"{filename}:{lineno}")]))


def _lower_field(stmt, rf, varied):
    """`t = obj.name` with obj carrying derivatives and no rule for the attribute (not an
    array's .T or .real): `t = runtime_calls.get_field(obj, 'name')`, whose adjoint is keyed by
    the attribute's name (runtime_calls.FieldBar)."""
    value = stmt.value if isinstance(stmt, gast.Assign) else None
    if not isinstance(value, gast.Attribute) or not _is_varied(value.value, varied):
        return None
    key = ("attr", value.attr)
    if R.adjoint_rule(key) is not None or R.is_nondiff(key) or value.attr in activity_mod.CONSTANT_ATTRIBUTES:
        return None
    if K.is_array(rf.kinds.get(value.value.id)):
        return None
    obj, name = value.value, value.attr
    read = A.located(A.call(A.global_ref(runtime_calls.get_field, "get_field"), [A.deepcopy(obj), A.const(name)]),
                     value)
    # A property (or another computed attribute) is read by calling its getter, whose code
    # diffc differentiates at run time; a stored attribute is a field (runtime_calls.FieldBar).
    plain = rf.namer.fresh("_plain")
    getter = rf.namer.fresh("_getter")
    getter_args = rf.namer.fresh("_fargs")
    getter_kw = rf.namer.fresh("_fkw")
    computed = [
        A.assign(getter, A.call(A.global_ref(runtime_calls.field_getter, "field_getter"),
                                [A.deepcopy(obj), A.const(name)])),
        A.assign(getter_args, gast.Tuple(elts=[A.deepcopy(obj)], ctx=gast.Load())),
        A.assign(getter_kw, gast.Dict(keys=[], values=[])),
        gast.Assign(targets=[A.deepcopy(stmt.targets[0])],
                    value=A.call(A.global_ref(runtime_calls.call_value, "call_value"),
                                 [A.name(getter), A.name(getter_args), A.name(getter_kw)]),
                    type_comment=None),
    ]
    stmt.value = read
    test = A.assign(plain, A.call(A.global_ref(runtime_calls.is_plain_field, "is_plain_field"),
                                  [A.deepcopy(obj), A.const(name)]))
    branch = gast.If(test=A.name(plain), body=[stmt], orelse=A.located_all(computed, stmt))
    return [test, branch]


def object_names(stmts, rf, call_key):
    """Names every binding of which (in stmts) is an object of a user class: a call of a user
    class, or of a user function every return of which builds one
    (constructors.returned_class), a copy of another such name (``a = obj``,
    ``a, b = obj1, obj2``, the object rebound by transform/attribute_writes.py), or an item
    of a list or tuple display of such names that is never changed (``layers = [A(w), B(v)]``;
    ``layers[0]``, ``for layer in layers``).  A method called on them is the class's own, even
    when NumPy arrays have a method of that name with a rule (``d.mean()``, ``acc.sum()``).

    Parameters count as bindings: ``self`` of a method of a user class, and a parameter the
    call passes an object of a user class (the compiled code is cached per class,
    K.ObjectKind), are objects; other parameters are not.  A name wrongly taken for an
    object would only be called through its type at run time (runtime_calls.unbound_method,
    which refuses an ndarray's method): never a wrong derivative."""
    bindings = {}           # name -> [True (an object) | False | name (a copy) | ("items", name)]
    displays = {}           # name -> the names a list, tuple or dict display bound to it holds
    method_of = _method_class(rf.info)
    for k, p in enumerate(rf.info.params):
        kind = rf.kinds.get(p)
        bindings[p] = [(k == 0 and method_of is not None)
                       or (isinstance(kind, K.ObjectKind) and kind.container is None)]
        if isinstance(kind, K.ObjectKind) and kind.container is list:
            displays[p] = []            # a list of objects of one user class: every item is one
    for stmt in A.walk_statements(stmts):
        if isinstance(stmt, gast.Assign):
            for target in stmt.targets:
                for name, source in _bound_sources(target, stmt.value, rf, call_key, displays):
                    bindings.setdefault(name, []).append(source)
        elif isinstance(stmt, gast.For) and isinstance(stmt.target, gast.Name) and isinstance(stmt.iter, gast.Name):
            bindings.setdefault(stmt.target.id, []).append(("items", stmt.iter.id))
        elif isinstance(stmt, (gast.For, gast.AugAssign)):
            for n in A.walk(stmt.target):
                if isinstance(n, gast.Name):
                    bindings.setdefault(n.id, []).append(False)
    unchanged = _unchanged_displays(stmts, bindings, displays)
    made = {name for name, sources in bindings.items() if False not in sources}
    changed = True
    while changed:          # a copy of a name that is not always an object is not one either
        changed = False
        for name in list(made):
            if not all(_is_object_source(src, made, unchanged, displays) for src in bindings[name]):
                made.discard(name)
                changed = True
    return _Names(made)


class _Names(set):
    """object_names' result; `numeric` (numeric_names) is set by `lower`."""
    numeric = frozenset()


_NUMERIC_MODULES = ("np", "numpy", "math")


def numeric_names(stmts):
    """Names every binding of which (in stmts) is arithmetic or a call of a NumPy or math
    function (``y = np.clip(x, 0, 1)``): never an object of a user class."""
    plain, other = set(), set()
    for stmt in A.walk_statements(stmts):
        targets = stmt.targets if isinstance(stmt, gast.Assign) else \
            [stmt.target] if isinstance(stmt, (gast.For, gast.AugAssign)) else []
        for target in targets:
            value = stmt.value if isinstance(stmt, gast.Assign) and isinstance(target, gast.Name) else None
            numeric = isinstance(value, (gast.BinOp, gast.UnaryOp)) or (
                isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
                and isinstance(value.func.value, gast.Name) and value.func.value.id in _NUMERIC_MODULES)
            for n in A.walk(target):
                if isinstance(n, gast.Name):
                    (plain if numeric else other).add(n.id)
    return frozenset(plain - other - set(_NUMERIC_MODULES))


def _is_object_source(source, made, unchanged, displays):
    if isinstance(source, str):
        return source in made
    if isinstance(source, tuple):
        container = source[1]
        return container in unchanged and all(n in made for n in displays[container])
    return source


def _unchanged_displays(stmts, bindings, displays):
    """The names bound once, to a list or tuple display, and never written into, called a
    method of, or passed to a call (which might change them)."""
    touched = set()
    for node in (n for stmt in stmts for n in A.walk(stmt)):
        if isinstance(node, gast.Subscript) and isinstance(node.ctx, (gast.Store, gast.Del)):
            touched.update(n.id for n in A.walk(node.value) if isinstance(n, gast.Name))
        elif isinstance(node, gast.Call) and getattr(node.func, "diffc_global", None) not in _READ_ONLY_CALLS:
            touched.update(a.id for a in list(node.args) + [k.value for k in node.keywords]
                           if isinstance(a, gast.Name))
            if isinstance(node.func, gast.Attribute) and isinstance(node.func.value, gast.Name):
                touched.add(node.func.value.id)
    return {name for name in displays if name not in touched and len(bindings.get(name, ())) == 1}


# Calls that never change the list they are given (the loops ANF makes read it through them).
_READ_ONLY_CALLS = (runtime.as_sequence, len, isinstance, enumerate, zip, reversed)


def _bound_sources(target, value, rf, call_key, displays):
    """(name, source) for each name the assignment target = value binds (see object_names)."""
    if isinstance(target, gast.Name):
        if isinstance(value, gast.Name):
            return [(target.id, value.id)]
        if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and not isinstance(value.slice, gast.Slice):
            return [(target.id, ("items", value.value.id))]
        items = value.elts if isinstance(value, (gast.List, gast.Tuple)) else \
            value.values if isinstance(value, gast.Dict) and None not in value.keys else None
        if items is not None and all(isinstance(e, gast.Name) for e in items):
            displays[target.id] = [e.id for e in items]
            return [(target.id, False)]
        if isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.as_sequence \
                and len(value.args) == 1 and isinstance(value.args[0], gast.Name) and value.args[0].id in displays:
            displays[target.id] = displays[value.args[0].id]     # the loop's view of the same items
            return [(target.id, False)]
        if isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime_calls.with_attributes \
                and value.args and isinstance(value.args[0], gast.Name):
            return [(target.id, value.args[0].id)]      # attribute_writes' rebinding of the object
        return [(target.id, isinstance(value, gast.Call) and _builds_object(value, rf, call_key))]
    if isinstance(target, (gast.Tuple, gast.List)) and isinstance(value, (gast.Tuple, gast.List)) \
            and len(target.elts) == len(value.elts) \
            and not any(isinstance(e, gast.Starred) for e in target.elts + value.elts):
        return [pair for t, v in zip(target.elts, value.elts)
                for pair in _bound_sources(t, v, rf, call_key, displays)]
    return [(n.id, False) for n in A.walk(target) if isinstance(n, gast.Name)]


def _builds_object(call, rf, call_key):
    try:
        key, _ = call_key(rf.info, call)
    except DiffcError:
        return False
    fn = getattr(key, "fn", key)
    return constructors.is_user_class(key) or (
        isinstance(fn, types.FunctionType) and constructors.is_user_class(constructors.returned_class(fn)))


def _method_class(info):
    """The user class whose plain method info's function is (its first parameter is then an
    object of that class), else None."""
    fn = getattr(info, "fn", None)
    parts = getattr(fn, "__qualname__", "").split(".")
    if not isinstance(fn, types.FunctionType) or len(parts) != 2:
        return None
    cls = fn.__globals__.get(parts[0])
    if not constructors.is_user_class(cls) or cls.__dict__.get(fn.__name__) is not fn:
        return None
    return cls


def _lower_call(stmt, rf, varied, call_key, objects=frozenset()):
    """The statements replacing `x = call` when the call is dynamic, else None."""
    call = stmt.value if isinstance(stmt, gast.Assign) else None
    if not isinstance(call, gast.Call) or not isinstance(stmt.targets[0], gast.Name):
        return None
    atoms = list(call.args) + [k.value for k in call.keywords] + [call.func]
    if isinstance(call.func, gast.Attribute):
        atoms.append(call.func.value)
    unpacks = any(k.arg is None for k in call.keywords)
    if not unpacks and not any(_is_varied(a.value if isinstance(a, gast.Starred) else a, varied)
                               for a in atoms):
        return None
    key, _ = call_key(rf.info, call)
    replaced = _lower_replace(stmt, call, key, rf, varied)
    if replaced is not None:
        return replaced
    if key is functools.partial and call.args and not isinstance(call.args[0], gast.Starred):
        # functools.partial(g, x, k=v) of differentiated values: a Closure they can flow through.
        return _rewrite(stmt, call, rf.namer, runtime_calls.partial_value, call.args[0], call.args[1:])
    if constructors.is_user_class(key) and not R.is_nondiff(key) and R.adjoint_rule(key) is None:
        return _lower_constructor(stmt, call, rf, key, call_key)
    # a user object's method named like an array method with a rule (d.mean(), acc.sum()): its own
    own_method = isinstance(key, tuple) and key[0] == "method" and isinstance(call.func, gast.Attribute) \
        and isinstance(call.func.value, gast.Name) and call.func.value.id in objects \
        and not hasattr(call.func.value, "diffc_global") \
        and (R.adjoint_rule(key) is not None or R.tangent_rule(key) is not None or R.is_nondiff(key))
    if not own_method and not is_dynamic(rf.info, call, rf.kinds, key) and not unpacks \
            and not any(isinstance(a, gast.Starred) for a in call.args):
        return _guard_array_receiver(stmt, call, key, rf, varied, objects)
    if isinstance(call.func, gast.Attribute) and (_is_varied(call.func.value, varied) or own_method):
        # obj.method(x) where obj itself carries derivatives (self.W is differentiated):
        # call type(obj).method(obj, x), so obj is an argument like any other.
        func = A.call(A.global_ref(runtime_calls.unbound_method, "unbound_method"),
                      [A.deepcopy(call.func.value), A.const(call.func.attr)])
        return _rewrite(stmt, call, rf.namer, runtime_calls.call_value, func,
                        [A.deepcopy(call.func.value)] + list(call.args))
    guard = _is_varied(call.func, varied)
    if not guard and getattr(rf.module, "differentiable", False):
        guard = "owned"
    return _rewrite(stmt, call, rf.namer, runtime_calls.call_value, call.func, call.args, guard=guard)


def _guard_array_receiver(stmt, call, key, rf, varied, objects):
    """[check, stmt] for ``x = obj.name(...)`` about to take the rule of NumPy's method `name`
    when obj carries derivatives and nothing tells what it is (an attribute or item read):
    runtime_calls.check_array_receiver refuses an object of a user class there (its own
    method would be differentiated as an array's).  None (no change) otherwise."""
    if not (isinstance(key, tuple) and key[0] == "method" and isinstance(call.func, gast.Attribute)):
        return None
    receiver = call.func.value
    if not isinstance(receiver, gast.Name) or hasattr(receiver, "diffc_global") \
            or not _is_varied(receiver, varied) or receiver.id in rf.info.params:
        return None
    kind = rf.kinds.get(receiver.id)
    if K.is_array(kind) or kind in (K.SCALAR, K.INT, K.SCALARS, K.INTS) \
            or receiver.id in getattr(objects, "numeric", ()):
        return None
    filename, lineno, _, _ = rf.source.locate(stmt)
    check = A.call(A.global_ref(runtime_calls.check_array_receiver, "check_array_receiver"),
                   [A.name(receiver.id), A.const(call.func.attr), A.const(f"{filename}:{lineno}")])
    return [A.located(A.expr_stmt(check), stmt), stmt]


def _lower_replace(stmt, call, key, rf, varied):
    """`q = p._replace(b=v)` (p carrying derivatives) and `q = dataclasses.replace(p, b=v)`:
    `q = runtime_calls.replace_fields(p, {'b': v})`, differentiated field by field."""
    if any(k.arg is None for k in call.keywords):
        return None
    if key == ("method", "_replace") and not call.args and _is_varied(call.func.value, varied):
        obj = call.func.value
    elif key is dataclasses.replace and len(call.args) == 1 and not isinstance(call.args[0], gast.Starred):
        obj = call.args[0]
    else:
        return None
    changes = rf.namer.fresh("_changes")
    return [A.assign(changes, gast.Dict(keys=[A.const(k.arg) for k in call.keywords],
                                        values=[A.deepcopy(k.value) for k in call.keywords])),
            gast.Assign(targets=stmt.targets,
                        value=A.call(A.global_ref(runtime_calls.replace_fields, "replace_fields"),
                                     [A.deepcopy(obj), A.name(changes)]), type_comment=None)]


def _lower_constructor(stmt, call, rf, cls, call_key):
    """`x = Cls(a, b)` with a differentiated argument: `_fields = Cls_fields(a, b)` (the
    constructor's code as a function returning the attributes it sets, which diffc reads
    like any user function) and `x = runtime_calls.build_object(Cls, _fields)`
    (transform/constructors.py)."""
    try:
        made = constructors.fields_function(cls)
    except constructors.UnsupportedConstructor as exc:
        where = f" ({exc.filename}:{exc.lineno})" if exc.lineno else ""
        rf.fail(NoDerivativeRule, f"cannot differentiate the construction of {cls.__name__} from "
                f"differentiated values: {exc}{where}", call,
                hint="give the class an __init__ that only stores (or computes) its attributes, or "
                     "pass the arrays to its methods as arguments")
    fields = rf.namer.fresh("_fields")
    ref = A.global_ref(made.fn, made.fn.__name__)
    starred = any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)
    if starred:
        first = _rewrite(gast.Assign(targets=[A.store(fields)], value=call, type_comment=None), call,
                         rf.namer, runtime_calls.call_value, ref, call.args)
    else:
        first = gast.Assign(targets=[A.store(fields)],
                            value=gast.Call(func=ref, args=list(call.args), keywords=list(call.keywords)),
                            type_comment=None)
        first = _pack_varargs(first, rf, call_key) or [first]
    build = gast.Assign(targets=stmt.targets,
                        value=A.call(A.global_ref(runtime_calls.build_object, "build_object"),
                                     [A.global_ref(cls, cls.__name__), A.name(fields)]),
                        type_comment=None)
    return first + [build]


def _pack_varargs(stmt, rf, call_key):
    """`g(a, b, c, k=1)` for `def g(x, *args, **kw)`: `_va = (b, c)`, `_kw = {'k': 1}` and
    `g(a, args=_va, kw=_kw)`, so every parameter of g is an ordinary one (parse.py)."""
    call = stmt.value if isinstance(stmt, (gast.Assign, gast.Expr)) else None
    if not isinstance(call, gast.Call) or any(isinstance(a, gast.Starred) for a in call.args):
        return None
    key, _ = call_key(rf.info, call)
    info = key if isinstance(key, FunctionInfo) else _user_info(rf, key)
    signature = getattr(info, "signature", None)
    if signature is None or signature.plain:
        return None
    lifted_by_name = [k for k in call.keywords if k.arg in info.lifted_params]
    n_lifted = 0 if lifted_by_name else len(info.lifted_params)
    given = call.args[:len(call.args) - n_lifted] if n_lifted else list(call.args)
    lifted = call.args[len(given):]
    positional, extra = given[:len(signature.positional)], given[len(signature.positional):]
    named = (set(signature.positional) | set(signature.kwonly)) - set(info.lifted_params)
    keywords = [k for k in call.keywords if k.arg in named]
    extra_kw = [k for k in call.keywords if k.arg not in named]
    if (extra and not signature.vararg) or (extra_kw and not signature.kwarg):
        return None                       # bind_call names what is wrong
    new = []
    if signature.vararg:
        name = rf.namer.fresh("_varargs")
        new.append(A.assign(name, gast.Tuple(elts=[A.deepcopy(a) for a in extra], ctx=gast.Load())))
        keywords.append(gast.keyword(arg=signature.vararg, value=A.name(name)))
    if signature.kwarg:
        name = rf.namer.fresh("_kwargs")
        new.append(A.assign(name, gast.Dict(keys=[A.const(k.arg) for k in extra_kw],
                                            values=[A.deepcopy(k.value) for k in extra_kw])))
        keywords.append(gast.keyword(arg=signature.kwarg, value=A.name(name)))
    keywords += [gast.keyword(arg=p, value=a) for p, a in zip(info.lifted_params, lifted)] + lifted_by_name
    call.args = list(positional)
    call.keywords = keywords
    return new + [stmt]


def _user_info(rf, key):
    if not isinstance(key, types.FunctionType) or R.adjoint_rule(key) is not None or R.is_nondiff(key):
        return None
    module = (getattr(key, "__module__", "") or "").split(".")[0]
    library = module in _LIBRARY_MODULES and not getattr(key, "__diffc_transparent__", False)
    if library or not has_packed_parameters(key):
        return None                 # (an implementation diffc reads like user code is packed too)
    try:
        return rf.module.info_for(key)
    except DiffcError:
        return None


def has_packed_parameters(fn):
    """Whether fn has *args, **kwargs or keyword-only parameters (parse.flatten_signature)."""
    import inspect
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)


def _function_values(stmt, rf):
    """`_clo = closure(<lifted g>, captured...)` for each local function g that stmt uses as a
    value (not called): its name becomes that temporary."""
    pre = []
    if not isinstance(stmt, (gast.Assign, gast.Expr, gast.Return)):
        return pre
    called = {id(n.func) for n in A.walk(stmt) if isinstance(n, gast.Call)}
    for node in A.walk(stmt):
        if not isinstance(node, gast.Name) or not isinstance(node.ctx, gast.Load) or id(node) in called:
            continue
        target = getattr(node, "diffc_global", None)
        if not isinstance(target, FunctionInfo) or not target.lifted_params:
            continue                      # a function capturing nothing is its primal copy (emit.py)
        del node.diffc_global
        ref = rf.module.primal_ref(target)
        if getattr(node, "diffc_captured_in_args", False):
            # odeint(rhs, ..., args=(captured...)): the rule passes them (transform/frozen.py)
            node.id = ref.id
            node.diffc_generated = True
            continue
        captured = [A.name(p) for p in target.lifted_params]
        name = rf.namer.fresh("_closure")
        pre.append(A.assign(name, A.call(A.global_ref(runtime_calls.closure, "closure"), [ref] + captured)))
        node.id = name
    return pre


def _is_varied(atom, varied):
    return isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global") and atom.id in varied


def _rewrite(stmt, call, namer, helper, func, positional, guard=False):
    """guard: True for a callee carrying derivatives (`runtime_calls.captured_callee`);
    "owned" for one that does not yet, in code differentiated again, where it may (a
    method of an object held constant here: `runtime_calls.owned_callee`)."""
    new = []
    if not A.is_atom(func) or guard:
        fname = namer.fresh("_fun")
        helper_fn = runtime_calls.owned_callee if guard == "owned" else runtime_calls.captured_callee
        value = A.call(A.global_ref(helper_fn, helper_fn.__name__), [func]) if guard else func
        new.append(A.assign(fname, value))
        func = A.name(fname)
    if len(positional) == 1 and isinstance(positional[0], gast.Starred):
        # f(*xs): transform/starred.py leaves at most one starred argument, alone
        args = A.deepcopy(positional[0].value)
    else:
        args_name = namer.fresh("_fargs")
        new.append(A.assign(args_name, gast.Tuple(elts=[A.deepcopy(a) for a in positional], ctx=gast.Load())))
        args = A.name(args_name)
    if len(call.keywords) == 1 and call.keywords[0].arg is None:
        kwargs = A.deepcopy(call.keywords[0].value)          # f(..., **d): starred.py merged them
    else:
        kw_name = namer.fresh("_fkw")
        new.append(A.assign(kw_name, gast.Dict(keys=[A.const(k.arg) for k in call.keywords],
                                               values=[A.deepcopy(k.value) for k in call.keywords])))
        kwargs = A.name(kw_name)
    value = A.call(A.global_ref(helper, helper.__name__), [A.deepcopy(func), args, kwargs])
    new.append(gast.Assign(targets=stmt.targets, value=value, type_comment=None))
    return new


def varied_names(body, active_params, carries):
    """Names that depend on an active parameter (analysis/activity.py)."""
    return activity_mod.analyze(body, active_params, set(), carries).varied
