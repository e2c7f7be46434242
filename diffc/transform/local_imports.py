"""local_imports: ``import m`` / ``from m import f`` inside a differentiated function.

Input: a freshly parsed function tree (parse.py, before local classes and functions are
lifted) and the module the function was defined in.
Output: the same tree where each import statement that is not inside a ``try`` (whose
``except ImportError`` fallback would depend on the import failing) and imports only
names (no ``*``) is replaced by ``pass``, and every read of a name it binds, in the
function and in the functions nested in it, is marked ``diffc_global`` with the object
Python binds (the module, the submodule's top package for ``import a.b``, the attribute
or submodule for ``from``).  Names are then resolved statically like module-level ones,
so ``np2.sum(x)`` and ``sin(v)`` get their rules.

Only when the name has no other binding anywhere in the function's tree (parameters,
assignments, other imports, a nested function's own locals): else the statement is left
as written (fence.py refuses it).  The import runs once, at compile time, as Python runs
it at the first call; a module that fails to import is refused with the user's line.
"""

import importlib
import sys

import gast

from ..errors import UnsupportedSyntax


def bind_local_imports(node, module_name, source):
    """node with its imports bound statically (module docstring)."""
    found = []
    _collect(node.body, found, in_try=False)
    if not found:
        return node
    stored = _stored_names(node)
    for stmt in found:
        names = _bound(stmt, module_name, source)
        if any(stored.get(n, 0) > 1 for n in names):
            continue                        # rebound elsewhere: left as written (refused)
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) and n.id in names:
                n.diffc_global = names[n.id]
        stmt.diffc_bound_import = True
    _replace(node)
    return node


def _collect(stmts, found, in_try):
    for s in stmts:
        if isinstance(s, (gast.Import, gast.ImportFrom)) and not in_try \
                and not any(a.name == "*" for a in s.names):
            found.append(s)
        if isinstance(s, (gast.FunctionDef, gast.ClassDef, gast.Lambda)):
            _collect(s.body if isinstance(s.body, list) else [], found, in_try)
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                _collect(inner, found, in_try or isinstance(s, gast.Try))
        for handler in getattr(s, "handlers", None) or []:
            _collect(handler.body, found, True)


def _stored_names(node):
    """How many bindings each name has in the tree (imports counted once per alias)."""
    counts = {}
    for n in gast.walk(node):
        names = []
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Del, gast.Param)):
            names = [n.id]
        elif isinstance(n, (gast.Import, gast.ImportFrom)):
            names = [(a.asname or a.name.split(".")[0]) for a in n.names]
        elif isinstance(n, (gast.FunctionDef, gast.ClassDef)) and n is not node:
            names = [n.name]
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _bound(stmt, module_name, source):
    """{name: object} that the import statement binds, importing as Python does."""
    try:
        if isinstance(stmt, gast.Import):
            out = {}
            for a in stmt.names:
                module = importlib.import_module(a.name)
                out[a.asname or a.name.split(".")[0]] = module if a.asname else sys.modules[a.name.split(".")[0]]
            return out
        package = _package(module_name) if stmt.level else None
        base_name = "." * stmt.level + (stmt.module or "")
        base = importlib.import_module(base_name, package)
        out = {}
        for a in stmt.names:
            value = getattr(base, a.name, None)
            if value is None:
                value = importlib.import_module(f"{base.__name__}.{a.name}")
            out[a.asname or a.name] = value
        return out
    except ImportError as exc:
        raise UnsupportedSyntax(f"this import fails: {exc}", stmt, source) from None


def _package(module_name):
    module = sys.modules.get(module_name)
    package = getattr(module, "__package__", None)
    return package if package is not None else module_name.rpartition(".")[0]


def _replace(node):
    for n in gast.walk(node):
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(n, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(n, field, [gast.copy_location(gast.Pass(), s) if getattr(s, "diffc_bound_import", False)
                                   else s for s in inner])
        for handler in getattr(n, "handlers", None) or []:
            handler.body = [gast.copy_location(gast.Pass(), s) if getattr(s, "diffc_bound_import", False)
                            else s for s in handler.body]
