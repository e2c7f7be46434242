"""user_operators: operators of user classes become calls of their methods (for attribute_writes).

``a * b``, ``a + b``, ``-a``, ``p["w"]`` and ``v += w`` on an object of a user class that
defines the operator (``__mul__``, ``__add__``, ``__neg__``, ``__getitem__``, ``__iadd__``)
are calls of that method, as Python makes them: ``a.__mul__(b)``, ``p.__getitem__("w")``,
``v = v.__iadd__(w)`` (``v.__add__(w)`` when the class has no ``__iadd__``).  diffc then
differentiates the method like any other (a method writing its object, as ``__iadd__``
does, is followed by transform/attribute_writes.py, or refused there); NumPy's rules for
``*``, ``+`` and indexing would treat the object as a number or an array (a crash, or a
wrong derivative).

Only operands whose class is known where the statement is compiled are rewritten: a name
attribute_writes follows (built by a call of its class in this function, or self), a call
of a user class (``Dual(x) * Dual(y)``), or a call of such a method whose returns all build
one class (``(a * b) + c`` with ``__mul__`` returning ``Dual(...)``).  A reflected operator
(``2.0 * d`` -> ``d.__rmul__(2.0)``) is used when the left operand is a number constant.
"""

import inspect
import types

import gast

from .. import ast_util as A
from ..parse import MISSING, FunctionInfo
from . import argument_effects, constructors, object_lists

_BINARY = {gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "truediv", gast.FloorDiv: "floordiv",
           gast.Mod: "mod", gast.Pow: "pow", gast.MatMult: "matmul"}
_UNARY = {gast.USub: "__neg__", gast.UAdd: "__pos__"}


def _method(cls, name):
    """The plain function cls.name, unless it may return NotImplemented (Python would then
    try the other operand's method: left to Python's operator)."""
    found = inspect.getattr_static(cls, name, None) if cls is not None else None
    if not isinstance(found, types.FunctionType) or "NotImplemented" in found.__code__.co_names:
        return None
    return found


def _call_method(obj, name, args, where):
    call = gast.Call(func=gast.Attribute(value=obj, attr=name, ctx=gast.Load()), args=list(args), keywords=[])
    return gast.copy_location(call, where)


class _Operators(gast.NodeTransformer):
    def __init__(self, rewriter):
        self.rewriter = rewriter

    def class_of(self, node):
        """The user class of the object node evaluates to, when known here; else None."""
        if isinstance(node, gast.Name):
            cls = self.rewriter.class_at(node.id)
            return None if cls is constructors.UNKNOWN_CLASS else cls
        if not isinstance(node, gast.Call):
            return None
        if isinstance(node.func, gast.Attribute):
            owner = self.class_of(node.func.value)
            method = _method(owner, node.func.attr)
            if method is None:
                return None
            first = next(iter(inspect.signature(method).parameters), None)
            return constructors.followable_class(constructors.returned_class(method, {first: owner}))
        return constructors.followable_class(self.rewriter.info.resolve_static(node.func))

    def visit_BinOp(self, node):
        self.generic_visit(node)
        name = _BINARY.get(type(node.op))
        if name is None:
            return node
        left = self.class_of(node.left)
        if _method(left, f"__{name}__") is not None:
            return _call_method(node.left, f"__{name}__", [node.right], node)
        right = self.class_of(node.right)
        if left is None and isinstance(node.left, gast.Constant) and _method(right, f"__r{name}__") is not None:
            return _call_method(node.right, f"__r{name}__", [node.left], node)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        name = _UNARY.get(type(node.op))
        if name is not None and _method(self.class_of(node.operand), name) is not None:
            return _call_method(node.operand, name, [], node)
        return node

    def visit_Subscript(self, node):
        self.generic_visit(node)
        if isinstance(node.ctx, gast.Load) and _method(self.class_of(node.value), "__getitem__") is not None:
            return _call_method(node.value, "__getitem__", [node.slice], node)
        return node

    def visit_Lambda(self, node):
        return node                         # its names are not the statement's

    visit_FunctionDef = visit_ClassDef = visit_ListComp = visit_SetComp = visit_DictComp = \
        visit_GeneratorExp = visit_Lambda


def user_operators(rewriter, stmt):
    """stmt with its operators on objects of user classes made method calls (module
    docstring); rewriter: the attribute_writes rewriter (class_at, info)."""
    if no_user_objects(rewriter):
        return stmt
    rewriter.class_memo = {}            # the statement's questions, asked once (class_at)
    try:
        return _rewrite_operators(rewriter, stmt)
    finally:
        rewriter.class_memo = None


def _rewrite_operators(rewriter, stmt):
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.target, gast.Name):
        name = _BINARY.get(type(stmt.op))
        cls = rewriter.class_at(stmt.target.id) if name is not None else None
        cls = None if cls is constructors.UNKNOWN_CLASS else cls
        method = f"__i{name}__" if _method(cls, f"__i{name}__") is not None else f"__{name}__"
        if _method(cls, method) is not None:
            stmt.value = _Operators(rewriter).visit(stmt.value)
            load = gast.Name(id=stmt.target.id, ctx=gast.Load(), annotation=None, type_comment=None)
            new = gast.Assign(targets=[stmt.target], value=_call_method(load, method, [stmt.value], stmt),
                              type_comment=None)
            return gast.copy_location(new, stmt)
    stored = _item_store(rewriter, stmt)
    if stored is not None:
        return stored
    if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr, gast.Return)):
        if stmt.value is not None:
            stmt.value = _Operators(rewriter).visit(stmt.value)
    elif isinstance(stmt, (gast.If, gast.While)):
        stmt.test = _Operators(rewriter).visit(stmt.test)
    return stmt


def _item_store(rewriter, stmt):
    """``p[k] = v`` / ``p[k] += v`` on an object whose class defines ``__setitem__``:
    ``p.__setitem__(k, v)`` (``p.__setitem__(k, p.__getitem__(k) + v)``, k a name or a
    constant), as Python runs it; else None."""
    if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, gast.AugAssign):
        target, value = stmt.target, stmt.value
    else:
        return None
    if not isinstance(target, gast.Subscript) or not isinstance(target.value, gast.Name):
        return None
    cls = rewriter.class_at(target.value.id)
    if cls is constructors.UNKNOWN_CLASS or _method(cls, "__setitem__") is None:
        return None
    obj = gast.Name(id=target.value.id, ctx=gast.Load(), annotation=None, type_comment=None)
    key = target.slice
    value = _Operators(rewriter).visit(value)
    if isinstance(stmt, gast.AugAssign):
        if _method(cls, "__getitem__") is None or not isinstance(key, (gast.Name, gast.Constant)):
            return None
        name = _BINARY.get(type(stmt.op))
        old = _call_method(obj, "__getitem__", [key], stmt)
        value = gast.copy_location(gast.BinOp(left=old, op=stmt.op, right=value), stmt) if name else None
        if value is None:
            return None
        key = _copy(key)
        obj = _copy(obj)
    call = _call_method(obj, "__setitem__", [key, value], stmt)
    return gast.copy_location(gast.Expr(value=call), stmt)


def method_result_class(rewriter, stmt, name):
    """The class `name = obj.method(...)` (stmt) binds name to when obj's class is known here
    and every return of the method builds a new object of one user class (``u = v.__add__(w)``
    with ``return Vec(...)``: no other name holds it), else None.  Before the rewriter knows
    its candidates, any such call of a method on a name or a call may be one."""
    if not (isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)
            and stmt.targets[0].id == name):
        return None
    if not hasattr(rewriter, "candidates"):         # (operators are rewritten later)
        return constructors.UNKNOWN_CLASS if isinstance(stmt.value, (gast.BinOp, gast.UnaryOp)) else None
    value = stmt.value
    if not (isinstance(value, (gast.BinOp, gast.UnaryOp)) or isinstance(value, gast.Call)
            and isinstance(value.func, gast.Attribute) and isinstance(value.func.value, (gast.Name, gast.Call))):
        return None
    resolving = rewriter.__dict__.setdefault("resolving_results", set())
    if name in resolving:
        # `v = v + w` in a loop, asked again while finding v's class: this binding keeps the
        # class v has from its other bindings if the method maps that class to itself (checked
        # by the outer question)
        return SAME
    resolving.add(name)
    try:
        if isinstance(value, (gast.BinOp, gast.UnaryOp)):     # not rewritten yet (a later statement)
            value = _Operators(rewriter).visit(_copy(value))
        if not (isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute)
                and isinstance(value.func.value, (gast.Name, gast.Call))):
            return None
        return _Operators(rewriter).class_of(value)
    finally:
        resolving.discard(name)


def no_user_objects(rewriter):
    """Whether no operand of the function can be an object of a class defining an operator
    method: no value can be an object of a followable user class (no parameter of a known,
    annotated or method class, no item of a list of objects, every call of a library
    function or class), or every class a value can have defines none.  Then class_of never
    finds a method and no operator is rewritten, so user_operators asks nothing: its
    questions follow every binding of the operands' names through the arithmetic that built
    them (the 16 bindings of an RK4 step on an object's fields took minutes).  Computed
    once per rewriter."""
    known = rewriter.__dict__.get("no_user_objects")
    if known is None:
        classes = _possible_classes(rewriter)
        known = classes is not None and not any(_defines_operators(c) for c in classes)
        rewriter.no_user_objects = known
    return known


def _possible_classes(rewriter):
    """The user classes a value of the function may be an object of: those of the
    parameters, annotations, a functional method's object and lists of objects, those the
    function constructs, and those their methods return; None when a call of a user
    function or method (or of an unknown callee) may build another."""
    info = rewriter.info
    fn = getattr(info.fn, "__wrapped__", info.fn)
    found = set(rewriter.param_classes.values())
    found.add(rewriter.functional)
    found.add(constructors.method_class(info.fn))
    for annotation in getattr(fn, "__annotations__", {}).values():
        if isinstance(annotation, str):
            annotation = getattr(fn, "__globals__", {}).get(annotation)
        found.add(annotation if constructors.is_user_class(annotation) else None)
    for node in gast.walk(info.node):
        found.add(getattr(node, object_lists.ITEM_CLASS, None))
        if isinstance(node, gast.Call):
            func = info.resolve_static(node.func)
            if func is MISSING or isinstance(func, FunctionInfo) or inspect.ismethod(func) \
                    or argument_effects.is_user_code(func):
                return None
            found.add(constructors.followable_class(func))
    found = {c for c in found if c is not None and c is not constructors.UNKNOWN_CLASS}
    return _with_method_results(found)


def _with_method_results(classes):
    """classes and the classes their methods build, transitively (``v.__add__(w)``
    returning ``Vec(...)``)."""
    todo, seen = list(classes), set(classes)
    while todo:
        cls = todo.pop()
        if not inspect.isclass(cls):
            return None
        for name in dir(cls):
            value = inspect.getattr_static(cls, name, None)
            if isinstance(value, types.FunctionType):
                first = next(iter(inspect.signature(value).parameters), None)
                built = constructors.followable_class(constructors.returned_class(value, {first: cls}))
                if built is not None and built not in seen:
                    seen.add(built)
                    todo.append(built)
    return seen


def _defines_operators(cls):
    binary = [f"__{side}{name}__" for name in _BINARY.values() for side in ("", "r", "i")]
    return any(_method(cls, name) is not None
               for name in binary + list(_UNARY.values()) + ["__getitem__", "__setitem__"])


# method_result_class's answer for a binding asked about again while it is being answered.
SAME = object()


def _copy(node):
    # annotations kept by reference: a name bound by an import inside the function
    # denotes its module (transform/local_imports.py), which copy.deepcopy cannot copy
    return A.deepcopy(node)
