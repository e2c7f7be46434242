"""global_writes: which local names hold a module-level object, or a part of one (for anf.py).

A write in place into such a name (``buf = WORK; buf[:] = v``, ``cfg = CFG; cfg["k"] = v``,
``row = TABLE[0]; row += v``, ``buf = WORK[1:]; np.exp(x, out=buf)``) changes the module's
object: code reading it afterwards (this function, or a helper reading the global) sees the
write, which diffc, following only local values, would not.  anf.py refuses those writes as
it refuses direct ones (``WORK[:] = v``).

`GlobalAliases` follows the bindings of one function body in order: `bind(name, value)` for
each ``name = value`` (an ANF value, or a source expression when a loop body is scanned
ahead), `held(name)` for a write.  A name keeps what it held across branches (the union);
in a loop, a name the body binds to a global's part anywhere holds it throughout.  What a
part is, is decided on the module's current objects: ``CFG["scale"]`` holding a float is
no object (a float cannot change), ``TABLE[i]`` of a 2-d array is a row (a view).
"""

import inspect
import types

import gast
import numpy as np

from ..parse import MISSING

MUTABLE = (np.ndarray, list, dict, set, bytearray)
UNKNOWN = object()          # a part of a global whose value is not known at compile time

# Methods changing their list, dict, set or array in place (x.fill is anf's whole write).
CHANGING_METHODS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "reverse", "sort", "update",
                              "setdefault", "popitem", "add", "discard", "difference_update",
                              "intersection_update", "symmetric_difference_update", "put", "partition",
                              "resize", "itemset", "setfield", "byteswap"})

_VIEW_ATTRIBUTES = {"T", "mT", "real", "imag", "flat"}
_VIEW_METHODS = {"reshape", "view", "ravel", "transpose", "squeeze", "swapaxes", "diagonal", "__array__"}
_VIEW_FUNCTIONS = (np.asarray, np.asanyarray, np.reshape, np.ravel, np.transpose, np.squeeze, np.atleast_1d,
                   np.atleast_2d, np.atleast_3d, np.expand_dims, np.swapaxes, np.moveaxis, np.real, np.imag,
                   np.diagonal)


class GlobalAliases:
    def __init__(self, info):
        self.info = info
        self.held = {}              # name -> the global's object or part it holds (or UNKNOWN)
        self.sticky = set()         # names a loop body around binds to a part of a global

    def hold_defaults(self, args):
        """Parameters whose default is a module-level object: a call leaving them out writes
        into that object (`def f(x, buf=WORK)`)."""
        params = args.args[len(args.args) - len(args.defaults):] + args.kwonlyargs
        defaults = list(args.defaults) + list(args.kw_defaults)
        for param, default in zip(params, defaults):
            if default is not None and isinstance(param, gast.Name):
                part = self.part_of(default)
                if part is not None:
                    self.held[param.id] = part

    def holds(self, name):
        """The module-level object (or part, or UNKNOWN) name holds, else None."""
        return self.held.get(name)

    def may_change(self, name):
        """Whether name holds a global's object that changes in place (an array, list,
        dict...), or a part of one not known at compile time."""
        part = self.held.get(name)
        return part is UNKNOWN or isinstance(part, MUTABLE)

    def bind(self, name, value):
        part = self.part_of(value)
        if part is not None:
            self.held[name] = part
        elif name not in self.sticky:
            self.held.pop(name, None)

    def snapshot(self):
        return dict(self.held)

    def merge(self, *states):
        """The union of the states of several branches."""
        merged = {}
        for state in states:
            merged.update(state)
        self.held = merged

    def enter_loop(self, body):
        """Before a loop: every name the body binds to a part of a global holds it throughout."""
        added = set()
        for node in body:
            for n in gast.walk(node):
                if isinstance(n, gast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], gast.Name):
                    part = self.part_of(n.value)
                    if part is not None:
                        self.held[n.targets[0].id] = part
                        added.add(n.targets[0].id)
        self.sticky |= added
        return added

    def leave_loop(self, added):
        self.sticky -= added

    def part_of(self, value):
        """The global's object (or part, or UNKNOWN) value evaluates to, or None when it is
        not one: a module-level array, list or dict, a view of one (a slice, .T, .reshape,
        np.asarray...), an item of one that is itself such an object."""
        if isinstance(value, gast.Name):
            if value.id in self.held:
                return self.held[value.id]
            if value.id in self.info.local_names and not hasattr(value, "diffc_global"):
                return None
            obj = self.info.resolve_static(value)
            return obj if isinstance(obj, MUTABLE) or _has_attributes(obj) else None
        if isinstance(value, gast.Attribute):
            base = self.part_of(value.value)
            if base is None or base is UNKNOWN:
                return base
            if isinstance(base, np.ndarray):
                return getattr(base, value.attr) if value.attr in _VIEW_ATTRIBUTES else None
            part = inspect.getattr_static(base, value.attr, MISSING)    # runs no property
            if part is MISSING:
                return UNKNOWN
            return part if isinstance(part, MUTABLE) or _has_attributes(part) else None
        if isinstance(value, gast.Subscript):
            base = self.part_of(value.value)
            return None if base is None else _item(base, value.slice)
        if isinstance(value, gast.Call):
            func = value.func
            if isinstance(func, gast.Attribute) and func.attr in _VIEW_METHODS:
                base = self.part_of(func.value)
                return base if isinstance(base, np.ndarray) or base is UNKNOWN else None
            target = self.info.resolve_static(func)
            if any(target is f for f in _VIEW_FUNCTIONS) and value.args:
                base = self.part_of(value.args[0])
                return base if isinstance(base, (np.ndarray, list)) or base is UNKNOWN else None
            if isinstance(target, types.FunctionType):
                return returned_global(target)
        return None


def returned_global(fn):
    """The module-level array, list or dict the plain function fn returns by name on some
    path (`def get_buffer(): return BUF`), or None: a caller writing into the result
    changes the module's object (UNKNOWN when fn returns several such objects)."""
    key = (fn, fn.__code__)
    if key not in _RETURNED:
        _RETURNED[key] = _returned_global(fn)
    return _RETURNED[key]


_RETURNED = {}


def _returned_global(fn):
    import ast
    import textwrap
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError, IndentationError):
        return None
    node = tree.body[0] if tree.body else None
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    local = {a.arg for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs}
    local |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    declared = {name for n in ast.walk(node) if isinstance(n, ast.Global) for name in n.names}
    found = []
    for ret in ast.walk(node):
        if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Name) \
                and (ret.value.id not in local or ret.value.id in declared):
            obj = fn.__globals__.get(ret.value.id, MISSING)
            if isinstance(obj, MUTABLE) and not any(obj is f for f in found):
                found.append(obj)
    return found[0] if len(found) == 1 else (UNKNOWN if found else None)


def _has_attributes(obj):
    """A module-level object whose attributes may hold arrays, lists or dicts: an object of a
    user class, a class, a module (not a function, a number or a string)."""
    if isinstance(obj, (types.ModuleType, type)):
        return True
    return hasattr(obj, "__dict__") and not callable(obj) and \
        type(obj).__module__.split(".")[0] not in ("numpy", "builtins", "scipy")


def _item(base, index):
    """base[index] at compile time when the index is made of constants; else whether such an
    item may be an object that changes: UNKNOWN, or None (never one)."""
    if base is UNKNOWN:
        return UNKNOWN
    key = _constant_index(index)
    if key is not MISSING:
        try:
            part = base[key]
        except Exception:
            return UNKNOWN
        return part if isinstance(part, MUTABLE) else None
    if isinstance(base, np.ndarray):
        return base if base.ndim > 1 or _has_slice(index) else None
    items = base.values() if isinstance(base, dict) else base
    return UNKNOWN if any(isinstance(v, MUTABLE) for v in items) else None


def _constant_index(index):
    if isinstance(index, gast.Constant):
        return index.value
    if isinstance(index, gast.Slice):
        parts = [_constant_index(p) if p is not None else None for p in (index.lower, index.upper, index.step)]
        return MISSING if MISSING in parts else slice(*parts)
    if isinstance(index, gast.Tuple):
        parts = [_constant_index(e) for e in index.elts]
        return MISSING if MISSING in parts else tuple(parts)
    return MISSING


def _has_slice(index):
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return any(isinstance(p, gast.Slice) for p in parts)
