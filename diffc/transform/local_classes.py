"""local_classes: a class defined inside the function diffc parses, made once at parse time.

Input: a parsed function (parse.py, before its local functions are lifted).  Output: each
``class C: ...`` statement of its body (at any depth of its blocks, not inside nested
functions) is gone; the class is built by compiling that statement alone against the
function's module (its file and line numbers kept, so diffc reads its methods' source like
any class's), and every read of ``C`` in the function denotes that class object
(``diffc_global``).  Python builds a new class at each call; the objects and their methods
are the same.  A class whose methods read local variables of the function that keep one
value once the class is made gets them as hidden constructor arguments
(transform/class_captures.py).  Refused with the line: any other class whose body or
methods read a local variable of the function (each call's class would see other values),
or a name ``C`` assigned elsewhere in the function.
"""

import ast

import gast

from .. import ast_util as A
from . import class_captures


def _class_statements(stmts, found):
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.ClassDef):
            found.append(stmt)
            continue
        if not isinstance(stmt, gast.FunctionDef):
            for field in ("body", "orelse", "finalbody"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                    setattr(stmt, field, _class_statements(inner, found) or [gast.Pass()])
            for handler in getattr(stmt, "handlers", None) or []:
                handler.body = _class_statements(handler.body, found) or [gast.Pass()]
        out.append(stmt)
    return out


def _reads_of_enclosing(cls, free_names):
    """Names the class body or its methods read from the scopes around the class."""
    own = {n.id for s in cls.body if not isinstance(s, gast.FunctionDef)
           for n in gast.walk(s) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    own |= {s.name for s in cls.body if isinstance(s, (gast.FunctionDef, gast.ClassDef))}
    reads = set()
    for part in list(cls.bases) + list(cls.keywords) + list(cls.decorator_list):
        reads |= {n.id for n in gast.walk(part) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    for stmt in cls.body:
        if isinstance(stmt, gast.FunctionDef):
            reads |= free_names(stmt)
            for part in stmt.decorator_list + stmt.args.defaults:
                reads |= {n.id for n in gast.walk(part) if isinstance(n, gast.Name)}
        else:
            reads |= {n.id for n in gast.walk(stmt) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}
    return reads - own


def hoist_local_classes(info, assigned_names, free_names, refuse):
    """Take the class statements out of info.node (see module docstring).  assigned_names,
    free_names: parse.py's; refuse(message, node, hint) raises with the user's line."""
    if not any(isinstance(n, gast.ClassDef) for n in gast.walk(info.node)):
        return
    found = []
    for stmt in info.node.body:
        if isinstance(stmt, gast.ClassDef):
            stmt.diffc_top_level = True     # (class_captures.py: made once per call, in order)
    info.node.body = _class_statements(info.node.body, found) or [gast.Pass()]
    if not found:
        return
    names = [c.name for c in found]
    local = assigned_names(info.node) | {a.id for a in info.node.args.args}
    built = {}
    for cls in found:
        if names.count(cls.name) > 1 or cls.name in local:
            refuse(f"the class {cls.name!r} is defined more than once, or its name is assigned elsewhere in "
                   "the function", cls, "define it once (or at module level)")
        captured = sorted(_reads_of_enclosing(cls, free_names) & (local | set(names)) - {cls.name})
        if captured and class_captures.capture(cls, captured, info, refuse):
            built[cls.name] = class_captures.build(cls, info)
            continue
        if captured:
            refuse(f"the class {cls.name!r} defined here reads the local variable {captured[0]!r} of the "
                   "function: Python makes the class again at each call, with that call's value",
                   cls, f"define the class at module level and pass {captured[0]} to its constructor")
        built[cls.name] = _build(cls, info)
    for node in gast.walk(info.node):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load) and node.id in built:
            node.diffc_global = built[node.id]


def _build(cls, info):
    """The class object: the statement compiled alone, at its place in the user's file."""
    tree = ast.Module(body=[gast.gast_to_ast(A.deepcopy(cls))], type_ignores=[])
    ast.increment_lineno(tree, info.source.first_line - 1)
    ast.fix_missing_locations(tree)
    namespace = {}
    exec(compile(tree, info.source.filename, "exec"), info.fn.__globals__ if info.fn is not None else {},
         namespace)
    return namespace[cls.name]
