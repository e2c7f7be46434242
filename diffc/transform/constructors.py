"""constructors: objects of user classes built from differentiated values.

``layer = Layer(W, b)`` inside a differentiated function, with ``W`` carrying a
derivative, is rewritten by transform/dynamic_calls.py into

    _fields = Layer_fields(W, b)                 # a plain function diffc reads
    layer = runtime_calls.build_object(Layer, _fields)

Input: a user class (a plain class whose ``__init__`` diffc can read, a
dataclass with its generated ``__init__`` and an optional ``__post_init__``,
or a ``NamedTuple``).
Output: `fields_function(cls)` -> a plain Python function with the
constructor's parameters (defaults and all) returning the dict of the
attributes the constructor sets, in the order it sets them.  Its source is
registered in linecache, so diffc differentiates it like any user function
(both modes, any order); `runtime_calls.build_object` makes the object from the
dict, and its rules (rules/dynamic_rules.py) move adjoints and tangents
between the object (keyed by attribute) and the dict.

How, for a plain class: ``__init__``'s body with every ``self.name`` turned
into a local ``_self_name`` (an attribute read before any write reads the
class attribute), ``super().__init__(...)`` / ``Base.__init__(self, ...)``
inlined as a call of the base's fields function, and ``return {...}``
appended.  An ``__init__`` that uses ``self`` in any other way (calls a
method, passes ``self`` on, writes through a property) is refused with
`UnsupportedConstructor`, naming the line: diffc cannot tell which attributes
the object ends up with.
"""

import ast
import builtins
import copy
import dataclasses
import inspect
import itertools
import linecache
import sys
import textwrap
import threading
import types

import numpy as np

from .. import ast_util as A
from . import function_source

_lock = threading.RLock()
_cache = {}
_counter = itertools.count()


UNSET = type("Unset", (), {"__repr__": lambda self: "<attribute not set>"})()   # never set


class UnsupportedConstructor(Exception):
    """The constructor does something with ``self`` diffc cannot follow; ``lineno`` is the
    line in the file of ``__init__`` (None when unknown)."""

    def __init__(self, message, filename=None, lineno=None):
        super().__init__(message)
        self.filename = filename
        self.lineno = lineno


class FieldsFunction:
    """The generated fields function of a class and the attribute names it returns."""

    def __init__(self, fn, names):
        self.fn = fn
        self.names = names


def is_user_class(obj):
    """A class defined outside the libraries diffc has rules for."""
    if not inspect.isclass(obj):
        return False
    if obj.__dict__.get("__diffc_transparent__", False):
        return True                         # a class diffc's rules are written with (read like the user's)
    module = (getattr(obj, "__module__", "") or "").split(".")[0]
    if module in getattr(sys, "stdlib_module_names", ()) and module != "__main__":
        return False                        # itertools.starmap, collections.deque ...: rules or none
    return module not in ("numpy", "scipy", "builtins", "math", "functools", "operator", "diffc",
                          "jax", "torch", "typing", "collections", "dataclasses")


def followable_class(cls):
    """cls if objects of it may take attribute writes as new objects (a user class, not a
    tuple, without __slots__, not a frozen dataclass), else None."""
    if not inspect.isclass(cls) or not is_user_class(cls):
        return None
    if issubclass(cls, tuple) or getattr(cls, "__slots__", None) is not None:
        return None
    params = getattr(cls, "__dataclass_params__", None)
    if params is not None and params.frozen:
        return None
    return cls


def fields_function(cls):
    """The `FieldsFunction` of cls (cached per class); UnsupportedConstructor if diffc cannot
    follow its constructor."""
    with _lock:
        found = _cache.get(cls)
        if found is None:
            found = _build(cls)
            if not isinstance(found, UnsupportedConstructor) and cls.__dict__.get("__diffc_transparent__", False):
                found.fn.__diffc_transparent__ = True       # read like the class (is_user_class)
            _cache[cls] = found
        if isinstance(found, UnsupportedConstructor):
            raise found
        return found


def _build(cls):
    try:
        if issubclass(cls, tuple) and hasattr(cls, "_fields"):
            return _namedtuple_fields(cls)
        if type(cls) is not type and not dataclasses.is_dataclass(cls):
            raise UnsupportedConstructor(f"{cls.__name__} has a metaclass ({type(cls).__name__})")
        if "__new__" in _own_attrs(cls):
            raise UnsupportedConstructor(f"{cls.__name__} defines __new__")
        if dataclasses.is_dataclass(cls) and _generated_init(cls):
            return _dataclass_fields(cls)
        return _plain_fields(cls)
    except UnsupportedConstructor as exc:
        return exc


def _own_attrs(cls):
    out = set()
    for klass in cls.__mro__[:-1]:
        out |= set(vars(klass))
    return out


def _generated_init(cls):
    init = cls.__dict__.get("__init__")
    code = getattr(init, "__code__", None)
    # dataclasses compiles __init__ from a string: its file is "<string>" (no source).
    return code is not None and (code.co_filename == "<string>"
                                 or "__create_fn__" in getattr(init, "__qualname__", ""))


# ---------------------------------------------------------------- NamedTuple

def _namedtuple_fields(cls):
    names = list(cls._fields)
    defaults = getattr(cls, "_field_defaults", {})
    params = [f"{n}=_D_{n}" if n in defaults else n for n in names]
    body = "{" + ", ".join(f"{n!r}: {n}" for n in names) + "}"
    text = f"def {cls.__name__}_fields({', '.join(params)}):\n    return {body}\n"
    namespace = {f"_D_{n}": v for n, v in defaults.items()}
    return FieldsFunction(_define(f"{cls.__name__}_fields", text, namespace), names)


# ---------------------------------------------------------------- dataclass

def _dataclass_fields(cls):
    fields = dataclasses.fields(cls)
    if any(isinstance(f.type, dataclasses.InitVar) for f in fields):
        raise UnsupportedConstructor(f"{cls.__name__} has InitVar fields")
    namespace = {"_cls": cls, "_UNSET": UNSET}
    params, kwonly, lines = [], [], []
    for f in fields:
        if not f.init:
            continue
        if f.default is not dataclasses.MISSING:
            namespace[f"_D_{f.name}"] = f.default
            entry = f"{f.name}=_D_{f.name}"
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_F_{f.name}"] = f.default_factory
            entry = f"{f.name}=_UNSET"
            lines.append(f"if {f.name} is _UNSET:")
            lines.append(f"    {f.name} = _F_{f.name}()")
        else:
            entry = f.name
        (kwonly if getattr(f, "kw_only", False) is True else params).append(entry)
    for f in fields:
        local = f"_self_{f.name}"
        if f.init:
            lines.append(f"{local} = {f.name}")
        elif f.default is not dataclasses.MISSING:
            namespace[f"_D_{f.name}"] = f.default
            lines.append(f"{local} = _D_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_F_{f.name}"] = f.default_factory
            lines.append(f"{local} = _F_{f.name}()")
    names = [f.name for f in fields if f.init or f.default is not dataclasses.MISSING
             or f.default_factory is not dataclasses.MISSING]
    signature = ", ".join(params + (["*"] + kwonly if kwonly else []))
    name = f"{cls.__name__}_fields"
    post = getattr(cls, "__post_init__", None)
    if post is None:
        lines.append("return {" + ", ".join(f"{n!r}: _self_{n}" for n in names) + "}")
        text = f"def {name}({signature}):\n" + textwrap.indent("\n".join(lines), "    ") + "\n"
        return FieldsFunction(_define(name, text, namespace), names)
    # __post_init__(self): its body follows, reading and writing the fields as locals.
    tree, filename, first = _method_tree(post, cls)
    body, stored, bases = _rewrite_body(tree, cls, filename, first, known=set(names))
    for n in stored:
        if n not in names:
            names.append(n)
    pre = "\n".join(lines)
    extra = {k: v for k, v in namespace.items() if k.startswith(("_D_", "_F_"))}
    text = _closure_text(name, signature, pre, body, names, bases, extra)
    return FieldsFunction(_define_closure(name, text, post, cls, bases, extra), names)


# ---------------------------------------------------------------- plain classes

def _plain_fields(cls):
    init = _find_init(cls)
    if init is None:                        # object.__init__: no attributes
        text = f"def {cls.__name__}_fields():\n    return {{}}\n"
        return FieldsFunction(_define(f"{cls.__name__}_fields", text, {}), [])
    tree, filename, first = _method_tree(init, cls)
    args = tree.args
    all_args = args.posonlyargs + args.args
    if not all_args:
        raise UnsupportedConstructor(f"{cls.__name__}.__init__ takes no self", filename, first)
    self_name = all_args[0].arg
    if args.posonlyargs:
        args.posonlyargs = args.posonlyargs[1:]
    else:
        args.args = args.args[1:]
    signature = ast.unparse(args)
    body, stored, bases = _rewrite_body(tree, cls, filename, first, known=set(), self_name=self_name)
    names = list(stored)
    name = f"{cls.__name__}_fields"
    text = _closure_text(name, signature, "", body, names, bases)
    return FieldsFunction(_define_closure(name, text, init, cls, bases), names)


def _find_init(cls):
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            if klass is object:
                return None
            init = vars(klass)["__init__"]
            if not isinstance(init, types.FunctionType):
                raise UnsupportedConstructor(f"{klass.__name__}.__init__ is not a Python function")
            return init
    return None


def _method_tree(fn, cls):
    try:
        text, first, filename = function_source.source_of(fn)
    except (OSError, TypeError):
        raise UnsupportedConstructor(f"cannot read the source of {cls.__name__}.{fn.__name__}") from None
    tree = ast.parse(text)
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise UnsupportedConstructor(f"cannot read {cls.__name__}.{fn.__name__}", filename, first)
    node.decorator_list = []
    return node, filename, first


class _SelfRewriter(ast.NodeTransformer):
    """self.name -> _self_name; super().__init__(...) -> the base's fields, inlined."""

    def __init__(self, cls, self_name, filename, first, known):
        self.cls = cls
        self.self_name = self_name
        self.filename = filename
        self.first = first
        self.stored = []                    # attribute names written, in order
        self.read_first = set()             # read before any write: the class attribute
        self.known = set(known)             # names already bound as _self_ locals
        self.bases = []                     # (local name, FieldsFunction)

    def fail(self, node, what):
        line = self.first + getattr(node, "lineno", 1) - 1
        raise UnsupportedConstructor(f"the constructor of {self.cls.__name__} {what}", self.filename, line)

    def _base_call(self, node):
        """The base class whose __init__ `node` calls (super().__init__ or Base.__init__(self)),
        or None."""
        func = node.func
        if not (isinstance(func, ast.Attribute) and func.attr == "__init__"):
            return None
        value = func.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "super" \
                and not value.args:
            mro, owner = self.cls.__mro__, next(k for k in self.cls.__mro__ if "__init__" in vars(k))
            return mro[mro.index(owner) + 1], node.args     # after the class defining this __init__
        if isinstance(value, ast.Name) and node.args and isinstance(node.args[0], ast.Name) \
                and node.args[0].id == self.self_name:
            base = self._resolve(value.id)
            if inspect.isclass(base):
                return base, node.args[1:]
        return None

    def _resolve(self, name):
        for klass in self.cls.__mro__:
            init = vars(klass).get("__init__")
            if isinstance(init, types.FunctionType) and name in init.__globals__:
                return init.__globals__[name]
        return None

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Call):
            found = self._base_call(node.value)
            if found is not None:
                base, args = found
                if base is object:
                    return ast.Pass()
                try:
                    sub = fields_function(base)
                except UnsupportedConstructor as exc:
                    self.fail(node, f"calls {base.__name__}.__init__, which diffc cannot follow: {exc}")
                local = f"_base{len(self.bases)}"
                self.bases.append((local, sub))
                call = ast.Call(func=ast.Name(id=local, ctx=ast.Load()),
                                args=[self.visit(a) for a in args],
                                keywords=[self.visit(k) for k in node.value.keywords])
                stmts = [ast.Assign(targets=[ast.Name(id=f"{local}_d", ctx=ast.Store())], value=call)]
                for n in sub.names:
                    self._store(n)
                    stmts.append(ast.Assign(
                        targets=[ast.Name(id=f"_self_{n}", ctx=ast.Store())],
                        value=ast.Subscript(value=ast.Name(id=f"{local}_d", ctx=ast.Load()),
                                            slice=ast.Constant(n), ctx=ast.Load())))
                return stmts
        return self.generic_visit(node)

    def _store(self, name):
        if name not in self.stored:
            self.stored.append(name)
        self.known.add(name)

    def visit_Assign(self, node):
        node.value = self.visit(node.value)     # the value is read before the targets are bound
        node.targets = [self.visit(t) for t in node.targets]
        return node

    def visit_AugAssign(self, node):
        node.value = self.visit(node.value)
        target = node.target
        if self._is_self_attr(target):
            self._check_plain_attribute(target)
            if target.attr not in self.known:
                self.read_first.add(target.attr)
            self._store(target.attr)
            node.target = ast.Name(id=f"_self_{target.attr}", ctx=ast.Store())
            return node
        node.target = self.visit(target)
        return node

    def _is_self_attr(self, node):
        return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id == self.self_name

    def _check_plain_attribute(self, node):
        attr = inspect.getattr_static(self.cls, node.attr, None)
        if attr is not None and (hasattr(attr, "__set__") or hasattr(attr, "__get__")) \
                and not isinstance(attr, (int, float, str, tuple)):
            if isinstance(attr, (types.FunctionType, staticmethod, classmethod, property)) \
                    or hasattr(attr, "__set__"):
                self.fail(node, f"uses self.{node.attr}, a method or property; diffc follows only "
                                "attributes the constructor reads and writes")

    def visit_Attribute(self, node):
        if self._is_self_attr(node):
            self._check_plain_attribute(node)
            if isinstance(node.ctx, ast.Store):
                self._store(node.attr)
            elif node.attr not in self.known:
                self.read_first.add(node.attr)
                self.known.add(node.attr)
            return ast.Name(id=f"_self_{node.attr}", ctx=node.ctx)
        return self.generic_visit(node)

    def visit_Name(self, node):
        if node.id == self.self_name:
            self.fail(node, f"uses {self.self_name} other than through its attributes "
                            f"({self.self_name}.name = ...)")
        return node

    def visit_Return(self, node):
        self.fail(node, "returns early")

    def visit_FunctionDef(self, node):
        self.fail(node, "defines a function")

    visit_Lambda = visit_AsyncFunctionDef = visit_ClassDef = visit_FunctionDef


def _rewrite_body(tree, cls, filename, first, known, self_name=None):
    if self_name is None:
        all_args = tree.args.posonlyargs + tree.args.args
        self_name = all_args[0].arg if all_args else "self"
    rewriter = _SelfRewriter(cls, self_name, filename, first, known)
    body = []
    for stmt in tree.body:
        new = rewriter.visit(stmt)
        body.extend(new if isinstance(new, list) else [new])
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:] or [ast.Pass()]     # the docstring
    pre = []
    for n in sorted(rewriter.read_first - set(known)):
        default = inspect.getattr_static(cls, n, UNSET)
        if default is UNSET:
            raise UnsupportedConstructor(f"the constructor of {cls.__name__} reads self.{n} before "
                                         "setting it", filename, first)
        pre.append(ast.parse(f"_self_{n} = _cls.{n}").body[0])
    # Attributes written only on some paths start unset (build_object leaves them out).
    top_level = {t.attr for s in tree.body if isinstance(s, ast.Assign) for t in s.targets
                 if isinstance(t, ast.Attribute)}
    for n in rewriter.stored:
        if n not in top_level and n not in rewriter.read_first and n not in known \
                and not any(n in sub.names for _, sub in rewriter.bases):
            pre.append(ast.parse(f"_self_{n} = _UNSET").body[0])
    module = ast.fix_missing_locations(ast.Module(body=pre + body, type_ignores=[]))
    text = ast.unparse(module) or "pass"
    return text, rewriter.stored, rewriter.bases


def _closure_text(name, signature, pre, body, names, bases, extra=()):
    outer_params = ", ".join(["_cls", "_UNSET"] + [local for local, _ in bases] + list(extra))
    inner = (pre + "\n" if pre else "") + body + "\nreturn {" \
        + ", ".join(f"{n!r}: _self_{n}" for n in names) + "}"
    return (f"def _make_{name}({outer_params}):\n"
            f"    def {name}({signature}):\n" + textwrap.indent(inner, "        ") + "\n"
            f"    return {name}\n")


def _define_closure(name, text, method, cls, bases, extra=None):
    """The inner function of text, with the method's globals (its names resolve as in the
    class's module) and the class, UNSET, the bases' fields functions and `extra` (name ->
    value, in the order of _closure_text's extra) as closure cells."""
    filename = f"<diffc:constructor:{name}:{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    local = {}
    exec(compile(text, filename, "exec"), method.__globals__, local)
    return local[f"_make_{name}"](cls, UNSET, *[sub.fn for _, sub in bases], *(extra or {}).values())


def _define(name, text, namespace):
    filename = f"<diffc:constructor:{name}:{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    namespace = dict(namespace)
    namespace.setdefault("__builtins__", builtins)
    namespace.setdefault("__name__", "diffc_constructors")
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]


# ---------------------------------------------------------------- methods that write attributes

def plain_method(cls, name):
    """The plain function cls.name (None for a property, a static method, a builtin...)."""
    attr = inspect.getattr_static(cls, name, None)
    return attr if isinstance(attr, types.FunctionType) else None


_writes = {}


def writes_attributes(cls, name, _seen=None):
    """Whether the plain method cls.name changes its first parameter: assigns, augments or
    deletes an attribute of it (setattr/delattr too), or changes in place what an attribute
    holds (``self.a[i] = v``, ``self.history.append(h)``), itself or through the methods it
    calls on that parameter."""
    with _lock:
        if _seen is None and (cls, name) in _writes:
            return _writes[(cls, name)]
        fn = plain_method(cls, name)
        found = False
        if fn is not None:
            try:
                tree = _method_tree(fn, cls)[0]
            except UnsupportedConstructor:
                tree = None
            params = tree.args.posonlyargs + tree.args.args if tree is not None else []
            seen = {name} | (_seen or set())
            for node in ast.walk(tree) if tree is not None else ():
                if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                    node.value.diffc_result_unused = True
            found = bool(params) and any(_writes_through(node, params[0].arg, cls, seen)
                                         for node in ast.walk(tree))
        if _seen is None:
            _writes[(cls, name)] = found
        return found


# Methods that change their object in place (lists, dicts, sets, deques, arrays).
MUTATORS = {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse", "update",
             "setdefault", "popitem", "add", "discard", "fill", "put", "resize", "itemset", "appendleft",
             "extendleft", "popleft"}


def _held_class(path, me, cls):
    """The class of the object self.a.b (path) holds, through fresh_attribute, else None;
    self.layers[i]: through object_list_attribute."""
    if isinstance(path, ast.Name):
        return cls if path.id == me else None
    if isinstance(path, ast.Subscript) and isinstance(path.value, ast.Attribute):
        outer = _held_class(path.value.value, me, cls)
        return object_list_attribute(outer, path.value.attr) if outer is not None else None
    if not isinstance(path, ast.Attribute):
        return None
    outer = _held_class(path.value, me, cls)
    return fresh_attribute(outer, path.attr) if outer is not None else None


def _writes_through(node, me, cls, seen):
    def is_me(n):
        return isinstance(n, ast.Name) and n.id == me

    def in_attribute(n):
        # n is self.a, self.a[i], self.a.b...: a value held by an attribute
        while isinstance(n, (ast.Subscript, ast.Attribute)):
            if isinstance(n, ast.Attribute) and is_me(n.value):
                return True
            n = n.value
        return False
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return is_me(node.value) or in_attribute(node.value)
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, (ast.Store, ast.Del)):
        return in_attribute(node.value)                 # self.a[i] = v: changes what self holds
    if isinstance(node, ast.For) and cls is not None:
        return _loop_writes_items(node, me, cls, seen)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            return is_me(node.args[0])
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS and in_attribute(func.value):
            return True                                 # self.history.append(h)
        if isinstance(func, ast.Attribute) and in_attribute(func.value) and cls is not None:
            # self.cell.step(x): a method of what an attribute holds, changing it
            held = _held_class(func.value, me, cls)
            if held is not None and func.attr not in seen:
                return writes_attributes(held, func.attr, seen | {func.attr})
            return getattr(node, "diffc_result_unused", False)      # unknown: unsure when discarded
        if isinstance(func, ast.Attribute) and is_me(func.value) and func.attr not in seen:
            return writes_attributes(cls, func.attr, seen)
    return False


def _loop_writes_items(loop, me, cls, seen):
    """`for v in self.layers: ... v.forward(x) ...` (or over enumerate / zip of it) where
    layers holds objects of one class (object_list_attribute) whose method writes."""
    it, element = A.iterated_attribute(loop)
    if not (isinstance(it, ast.Attribute) and isinstance(it.value, ast.Name) and it.value.id == me
            and isinstance(element, ast.Name)):
        return False
    item_class = object_list_attribute(cls, it.attr)
    return item_class is not None and any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name) and node.func.value.id == element.id
        and (item_class, node.func.attr) not in seen
        and writes_attributes(item_class, node.func.attr, {(item_class, node.func.attr)})
        for node in ast.walk(loop))


_functional = {}


def working_copy(value, _memo=None):
    """A copy of value to run a call writing its attributes on, leaving value as it was:
    the object and, through its attributes, the objects of user classes, lists, dicts and
    arrays it holds (what such a call may change in place: ``self.cell.h = v``,
    ``self.hs.append(h)``, ``self.a[i] = v``).  Other values are shared, as the generated
    code's new objects share them (runtime_calls.with_attributes)."""
    memo = {} if _memo is None else _memo
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, np.ndarray):
        made = value.copy()
    elif type(value) in (list, dict):
        made = type(value)()
        memo[id(value)] = made
        items = value.items() if isinstance(value, dict) else enumerate(value)
        copies = [(k, working_copy(v, memo)) for k, v in items]
        if isinstance(made, dict):
            made.update(copies)
        else:
            made.extend(v for _, v in copies)
        return made
    elif is_user_class(type(value)) and hasattr(value, "__dict__") and not isinstance(value, type):
        made = copy.copy(value)
        memo[id(value)] = made
        for attr, held in vars(value).items():
            vars(made)[attr] = working_copy(held, memo)
        return made
    else:
        return value
    memo[id(value)] = made
    return made


def functional_method(cls, name):
    """``f(obj, *args, **kwargs) -> (cls.name(obj, *args, **kwargs), obj)``, cached per method.

    Run as Python (the primal of code compiled to be differentiated again), f calls the
    method on a working copy of obj (working_copy), which it hands back: obj is left as it
    was, as in the code diffc generates.  diffc reads the method's own source instead
    (``f.__wrapped__``; parse.parse_function) and, seeing ``f.diffc_functional`` (the
    class), compiles it with its attribute writes as new objects and every return handing
    back (value, object): transform/attribute_writes.py."""
    with _lock:
        made = _functional.get((cls, name))
        if made is None:
            method = plain_method(cls, name)

            def made(self, *args, **kwargs):
                self = working_copy(self)
                return method(self, *args, **kwargs), self
            made.__wrapped__ = method
            made.__name__ = method.__name__
            made.__qualname__ = method.__qualname__
            made.diffc_functional = cls
            made.__module__ = method.__module__      # user code (analysis/calls.is_user_function)
            _functional[(cls, name)] = made
        return made


# ---------------------------------------------------------------- functions that write their parameters

UNKNOWN_CLASS = type("UnknownClass", (), {"__repr__": lambda self: "<an object of a class known at run time>"})


_written_params = {}


def written_parameters(fn, classes=None, _seen=None):
    """The names of the parameters of the plain function fn whose attributes fn changes
    (``state.h = v``, ``state.cell.h = v``, ``state.hs.append(h)``, setattr), itself or by
    passing the parameter on to a function (found by name in its globals) that does.
    classes: {parameter: the user class of the object a call passes there}; a method call
    on such a parameter (``layer.forward(x)``) counts when that class's method writes."""
    if not isinstance(fn, types.FunctionType):
        return ()
    classes = dict(classes or {})
    key = (fn, frozenset(classes.items()))
    with _lock:
        if _seen is None and key in _written_params:
            return _written_params[key]
        seen = (_seen or set()) | {fn}
        try:
            tree = _method_tree(fn, type(fn))[0]
        except (UnsupportedConstructor, SyntaxError):
            tree = None
        found = []
        if tree is not None:
            params = [a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs]
            for p in params:
                if any(_writes_through(node, p, classes.get(p), set())
                       or _passed_to_writer(node, p, fn, seen, classes.get(p))
                       for node in ast.walk(tree)):
                    found.append(p)
        found = tuple(found)
        if _seen is None:
            _written_params[key] = found
        return found


def _passed_to_writer(node, me, fn, seen, cls=None):
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
        return False
    callee = fn.__globals__.get(node.func.id)
    if not isinstance(callee, types.FunctionType) or callee in seen:
        return False
    try:
        names = list(inspect.signature(callee).parameters)
    except (TypeError, ValueError):
        return False
    hits = [names[i] for i, a in enumerate(node.args) if isinstance(a, ast.Name) and a.id == me and i < len(names)]
    hits += [k.arg for k in node.keywords if isinstance(k.value, ast.Name) and k.value.id == me]
    passed = {h: cls for h in hits} if cls is not None else {}
    return bool(hits) and bool(set(hits) & set(written_parameters(callee, passed, seen)))


_functional_functions = {}


def functional_function(fn, classes=None):
    """``f(*args, **kwargs) -> (fn(*args, **kwargs), p1, p2...)`` for the parameters p1, p2...
    whose attributes fn changes (written_parameters with the classes a call passes),
    cached per function and classes.  Like functional_method: diffc compiles fn's own
    source with those parameters' writes as new objects, every return handing them back
    (transform/attribute_writes.py), and follows the parameters by their classes
    (``diffc_param_classes``)."""
    classes = dict(classes or {})
    key = (fn, frozenset(classes.items()))
    with _lock:
        made = _functional_functions.get(key)
        if made is None:
            handed = written_parameters(fn, classes)
            signature = inspect.signature(fn)

            def made(*args, **kwargs):
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                for p in handed:           # the caller's objects are left as they were
                    bound.arguments[p] = working_copy(bound.arguments[p])
                value = fn(*bound.args, **bound.kwargs)
                return (value,) + tuple(bound.arguments[p] for p in handed)
            made.__wrapped__ = fn
            made.__name__ = fn.__name__
            made.__qualname__ = fn.__qualname__
            made.diffc_functional = UNKNOWN_CLASS
            made.diffc_handed = handed
            made.diffc_param_classes = classes
            made.__module__ = fn.__module__
            _functional_functions[key] = made
        return made


def returned_class(fn, classes=None):
    """The user class every return of the plain function fn builds (``return State(W)``,
    looked up by name in its globals, or ``return cls(W)`` with cls a parameter that
    `classes` maps to the class the call passes, a classmethod's cls), else None."""
    try:
        tree = _method_tree(fn, type(fn))[0]
    except (UnsupportedConstructor, SyntaxError, TypeError):
        return None
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return None
        if isinstance(node, ast.Return):
            value = node.value
            if not (isinstance(value, ast.Call) and isinstance(value.func, ast.Name)):
                return None
            cls = (classes or {}).get(value.func.id) or fn.__globals__.get(value.func.id)
            if not is_user_class(cls):
                return None
            found.add(cls)
    return found.pop() if len(found) == 1 else None


def method_class(fn):
    """The class a plain function is a method of (``Cls.name`` at module level), else None."""
    parts = getattr(fn, "__qualname__", "").split(".")
    cls = fn.__globals__.get(parts[0]) if len(parts) == 2 and isinstance(fn, types.FunctionType) else None
    return cls if is_user_class(cls) and vars(cls).get(parts[1]) is fn else None


def _class_functions(klass):
    """The plain functions a class defines: methods, static and class methods, and the
    getters and setters of its properties."""
    for value in vars(klass).values():
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        parts = [value.fget, value.fset, value.fdel] if isinstance(value, property) else [value]
        for fn in parts:
            if isinstance(fn, types.FunctionType):
                yield fn


def _attribute_stores(cls, name):
    """Every store to ``self.name`` in the methods of cls and its bases, as (method, statement,
    target, attribute node) with target the statement's target holding the attribute node; None
    when that cannot be known (a base that is not a user class, a method diffc cannot read, a
    setattr call)."""
    if not is_user_class(cls):
        return None
    stores = []
    for klass in cls.__mro__:
        if klass is object:
            continue
        if not is_user_class(klass):
            return None
        for fn in _class_functions(klass):
            try:
                tree = _method_tree(fn, klass)[0]
            except (UnsupportedConstructor, SyntaxError):
                return None
            params = tree.args.posonlyargs + tree.args.args
            me = params[0].arg if params else None
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "setattr":
                    return None
                targets = node.targets if isinstance(node, ast.Assign) else \
                    [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
                for t in targets:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Attribute) and n.attr == name and isinstance(n.ctx, ast.Store) \
                                and isinstance(n.value, ast.Name) and n.value.id == me:
                            stores.append((fn, node, t, n))
    return stores


def fresh_attribute(cls, name):
    """The user class of the object attribute `name` of cls's objects holds when every
    assignment to ``self.name`` in the class's own methods (its bases' too) builds a new
    object of that one class (``self.cell = Cell(W)``), so no one else holds it; else None."""
    stores = _attribute_stores(cls, name)
    if stores is None:
        return None
    found = set()
    for fn, node, t, n in stores:
        value = node.value
        if t is not n or not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
            return None
        built = fn.__globals__.get(value.func.id)
        if not is_user_class(built):
            return None
        found.add(built)
    return found.pop() if len(found) == 1 else None


def object_list_attribute(cls, name):
    """The user class C when attribute `name` of cls's objects always holds a new list of new
    objects of class C, which nothing else holds: every store to ``self.name`` in the class's
    methods (its bases' too) is ``[C(...), ...]``, ``[C(...) for ...]`` or ``[]``, grown only
    by ``self.name.append(C(...))``, and every other use of ``self.name`` iterates over it
    (``for``, ``enumerate``, ``zip``, ``reversed``), takes its ``len``, or reads an item for
    an attribute or a method call.  Else None.  A method writing attributes of the items may
    then store new items into a new list (transform/object_lists.py)."""
    with _lock:
        if (cls, name) not in _object_lists:
            _object_lists[(cls, name)] = _object_list_attribute(cls, name)
        return _object_lists[(cls, name)]


_object_lists = {}


def _object_list_attribute(cls, name):
    stores = _attribute_stores(cls, name)
    if not stores:
        return None
    found = set()
    for fn, node, t, n in stores:
        value = node.value if t is n and isinstance(node, ast.Assign) else None
        if isinstance(value, ast.List):
            found |= {_built_class(e, fn) for e in value.elts}
        elif isinstance(value, ast.ListComp) and len(value.generators) == 1:
            found.add(_built_class(value.elt, fn))
        else:
            return None
    for klass in cls.__mro__[:-1]:
        for fn in _class_functions(klass):
            uses = _object_list_uses(fn, klass, name)
            if uses is None:
                return None
            found |= uses
    return found.pop() if len(found) == 1 and None not in found else None


def _built_class(node, fn):
    """C when node is a call ``C(...)`` of a user class found by name in fn's globals."""
    cls = _called_global(node, fn)
    return cls if is_user_class(cls) else None


def _object_list_uses(fn, klass, name):
    """The classes ``self.name.append(C(...))`` adds in fn; None when fn uses self.name
    otherwise than object_list_attribute allows."""
    tree = _method_tree(fn, klass)[0]
    params = tree.args.posonlyargs + tree.args.args
    me = params[0].arg if params else None
    parents = {id(c): p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    added = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and node.attr == name and isinstance(node.value, ast.Name)
                and node.value.id == me):
            continue
        parent = parents.get(id(node))
        if isinstance(node.ctx, ast.Store) or isinstance(parent, ast.For) and parent.iter is node:
            continue
        if isinstance(parent, ast.Call) and node in parent.args and _called_global(parent, fn) in (
                len, enumerate, zip, reversed):
            continue
        if isinstance(parent, ast.Subscript) and parent.value is node and isinstance(
                parents.get(id(parent)), ast.Attribute):
            continue
        call = parents.get(id(parent))
        if isinstance(parent, ast.Attribute) and parent.attr == "append" and isinstance(call, ast.Call) \
                and len(call.args) == 1 and not call.keywords:
            added.add(_built_class(call.args[0], fn))
            continue
        return None
    return added


_escapes = {}


def keeps_argument(fn, index=None, keyword=None, _seen=None):
    """Whether the user function (or class: its __init__) fn may keep the object passed as its
    argument `index` (or by `keyword`) beyond the call: return it, store it in an attribute,
    a container or a closure, or pass it on to a call that may.  Reading its attributes and
    calling its methods do not keep it.  True when unsure."""
    if inspect.isclass(fn):
        init = vars(fn).get("__init__") if is_user_class(fn) else None
        init = init or next((vars(k)["__init__"] for k in fn.__mro__ if "__init__" in vars(k)), None)
        if init is object.__init__ or init is None:
            return False
        return keeps_argument(init, None if index is None else index + 1, keyword, _seen)
    if not isinstance(fn, types.FunctionType):
        return True
    try:
        names = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return True
    if keyword is not None:
        name = keyword
    elif index is not None and index < len(names) and names[index].kind in (
            names[index].POSITIONAL_ONLY, names[index].POSITIONAL_OR_KEYWORD):
        name = names[index].name
    else:
        return True
    key = (fn, name)
    with _lock:
        if key in _escapes:
            return _escapes[key]
        if _seen is not None and key in _seen:
            return False            # a cycle of calls: what else it does decides
        seen = (_seen or set()) | {key}
        try:
            tree = _method_tree(fn, type(fn))[0]
        except (UnsupportedConstructor, SyntaxError):
            return True
        parents = {id(c): n for n in ast.walk(tree) for c in ast.iter_child_nodes(n)}
        kept = False
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Name) and node.id == name):
                continue
            if isinstance(node.ctx, ast.Store):
                kept = True             # rebound: unsure what it holds afterwards
                break
            parent = parents.get(id(node))
            if isinstance(parent, (ast.Attribute, ast.Compare)) or (
                    isinstance(parent, ast.Subscript) and parent.value is node):
                continue
            holder = parents.get(id(parent)) if isinstance(parent, ast.keyword) else parent
            if isinstance(holder, ast.Call) and node is not holder.func:
                callee = fn.__globals__.get(holder.func.id) if isinstance(holder.func, ast.Name) else None
                if callee in (len, isinstance, print, repr, str, id, type, hasattr, getattr):
                    continue
                if callee is not None and (
                        isinstance(callee, types.FunctionType) or is_user_class(callee)):
                    k = parent.arg if isinstance(parent, ast.keyword) else None
                    i = None if k is not None else holder.args.index(node) if node in holder.args else None
                    if (k is not None or i is not None) and not keeps_argument(callee, i, k, seen):
                        continue
            kept = True
            break
        if _seen is None:
            _escapes[key] = kept
        return kept


def fresh_list_attribute(cls, name):
    """Whether every assignment to ``self.name`` in cls's methods (its bases' too) stores a
    new list (``self.hs = []``, a list comprehension, ``list(...)``), at least one does, and
    nothing else sets it (no setattr): appending to it may then make a new list instead."""
    return _every_store_new(cls, name, _new_list)


def fresh_container_attribute(cls, name):
    """Like fresh_list_attribute, for a new list, dict (``{}``, a comprehension, ``dict()``)
    or NumPy array (``np.zeros(n)``, ``np.array([...])``...): changing an item of it
    (``self.cache[k] = v``) may then make a new container instead."""
    return _every_store_new(cls, name, lambda value, fn: _new_list(value, fn) or _new_dict(value, fn)
                            or _new_array(value, fn))


def _every_store_new(cls, name, is_new):
    stores = _attribute_stores(cls, name)
    if not stores:
        return False
    for fn, node, t, n in stores:
        if t is not n or isinstance(node, ast.AugAssign) or not is_new(node.value, fn):
            return False
    return True


def _called_global(value, fn):
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return fn.__globals__.get(value.func.id, getattr(builtins, value.func.id, None))
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) \
            and isinstance(value.func.value, ast.Name):
        return getattr(fn.__globals__.get(value.func.value.id), value.func.attr, None)
    return None


def _new_list(value, fn):
    return isinstance(value, (ast.List, ast.ListComp)) or _called_global(value, fn) is list


def _new_dict(value, fn):
    return isinstance(value, (ast.Dict, ast.DictComp)) or _called_global(value, fn) is dict


NEW_ARRAYS = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
               "array", "copy", "eye", "identity", "arange", "linspace")


def _new_array(value, fn):
    import numpy as np
    called = _called_global(value, fn)
    return any(called is getattr(np, name) for name in NEW_ARRAYS)


method_tree = _method_tree     # for transform/argument_effects.py
