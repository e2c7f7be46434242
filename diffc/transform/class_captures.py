"""class_captures: a class defined in a function whose methods read the function's locals.

Input: a class statement taken out of a parsed function (transform/local_classes.py), the
names of the function's locals its methods read (``captured``), and the function.
Output (``capture``): True when the class was rewritten so that it no longer reads them:

    class Layer:                                  class Layer:
        def __init__(self, w):                        def __init__(self, w, *, _diffc_cap_scale=None):
            self.w = w                      ->            self._diffc_cap_scale = _diffc_cap_scale
        def __call__(self, v):                            self.w = w
            return np.tanh(self.w * v * scale)        def __call__(self, v):
                                                          return np.tanh(self.w * v * self._diffc_cap_scale)

and every ``Layer(...)`` in the function passes ``_diffc_cap_scale=scale`` (inside the
class's own methods: ``=self._diffc_cap_scale``).  Each object carries the value its
methods read, an attribute diffc differentiates like any other.  ``build`` makes the class
object from the rewritten source, registered in linecache under a name naming the user's
class and line, so diffc reads the methods it differentiates.

Only when this is what Python computes: every captured name keeps one value once the class
exists (a parameter never rebound, or a local bound once, outside loops, before the class
statement, which is at the top level of the function), the class has no bases, decorators
or class-level reads of them, the methods reading them are plain or properties with a
first parameter, and the class is only called by name (no isinstance, no class as a
value).  Otherwise False, and the class stays refused.
"""

import ast
import linecache

import gast

from .. import ast_util as A

_PREFIX = "_diffc_cap_"


def capture(cls, captured, info, refuse):
    """Rewrite cls and info.node as the module docstring says, or return False untouched."""
    if not _applicable(cls, captured, info):
        return False
    for method in _methods(cls):
        _read_from_self(method, captured)
    init = next((m for m in _methods(cls) if m.name == "__init__"), None)
    if init is None:
        init = _plain_init(cls)
    _store_on_self(init, captured)
    for node in gast.walk(info.node):
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == cls.name:
            node.keywords = list(node.keywords) + [gast.keyword(arg=_PREFIX + c, value=A.name(c)) for c in captured]
    for method in _methods(cls):
        self_name = method.args.args[0].id
        for node in gast.walk(method):
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.func.id == cls.name:
                node.keywords = list(node.keywords) + [
                    gast.keyword(arg=_PREFIX + c, value=A.attr(self_name, _PREFIX + c)) for c in captured]
    return True


def build(cls, info):
    """The class object, compiled from the rewritten statement's source."""
    tree = ast.Module(body=[gast.gast_to_ast(A.deepcopy(cls))], type_ignores=[])
    ast.fix_missing_locations(tree)
    text = ast.unparse(tree) + "\n"
    filename = f"<diffc: class {cls.name} of {info.source.filename}:{info.source.file_line(cls)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace = {}
    exec(compile(text, filename, "exec"), info.fn.__globals__ if info.fn is not None else {}, namespace)
    return namespace[cls.name]


def _methods(cls):
    return [s for s in cls.body if isinstance(s, gast.FunctionDef)]


def _applicable(cls, captured, info):
    if cls.bases or cls.keywords or cls.decorator_list or not getattr(cls, "diffc_top_level", False):
        return False
    for stmt in cls.body:
        if isinstance(stmt, gast.FunctionDef):
            if any(not (isinstance(d, gast.Name) and d.id == "property") for d in stmt.decorator_list) \
                    or not stmt.args.args or stmt.name == "__new__" or stmt.args.vararg is not None \
                    and stmt.name == "__init__" or stmt.args.kwarg is not None and stmt.name == "__init__":
                return False
        elif any(isinstance(n, gast.Name) and n.id in captured for n in gast.walk(stmt)):
            return False                    # a class attribute computed from them
    if not all(_one_value(c, cls, info) for c in captured):
        return False
    calls = {id(n.func) for n in gast.walk(info.node) if isinstance(n, gast.Call)}
    calls |= {id(n.func) for n in gast.walk(cls) if isinstance(n, gast.Call)}
    for tree in (info.node, cls):
        for n in gast.walk(tree):
            if isinstance(n, gast.Name) and n.id == cls.name and isinstance(n.ctx, gast.Load) and id(n) not in calls:
                return False                # the class used as a value (isinstance, passed)
    return True


def _one_value(name, cls, info):
    """name keeps one value from the class statement on (see module docstring)."""
    stores = [n for n in gast.walk(info.node) if isinstance(n, gast.Name) and n.id == name
              and isinstance(n.ctx, (gast.Store, gast.Del))]
    params = {a.id for a in info.node.args.args + info.node.args.kwonlyargs if isinstance(a, gast.Name)}
    if name in params:
        return not stores
    if len(stores) != 1 or getattr(stores[0], "lineno", None) is None:
        return False
    binding = next((s for s in info.node.body if any(n is stores[0] for n in gast.walk(s))), None)
    return isinstance(binding, (gast.Assign, gast.AnnAssign)) and stores[0].lineno < cls.lineno


def _read_from_self(method, captured):
    own = {n.id for n in gast.walk(method.args) if isinstance(n, gast.Name)}
    own |= {n.id for n in gast.walk(method) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
    self_name = method.args.args[0].id
    for node in gast.walk(method):
        for field, value in gast.iter_fields(node):
            if isinstance(value, gast.Name) and value.id in captured and value.id not in own \
                    and isinstance(value.ctx, gast.Load):
                setattr(node, field, A.located(A.attr(self_name, _PREFIX + value.id), value))
            elif isinstance(value, list):
                for k, item in enumerate(value):
                    if isinstance(item, gast.Name) and item.id in captured and item.id not in own \
                            and isinstance(item.ctx, gast.Load):
                        value[k] = A.located(A.attr(self_name, _PREFIX + item.id), item)


def _plain_init(cls):
    init = gast.FunctionDef(
        name="__init__", args=gast.arguments(args=[A.store("self")], posonlyargs=[], vararg=None, kwonlyargs=[],
                                             kw_defaults=[], kwarg=None, defaults=[]),
        body=[], decorator_list=[], returns=None, type_comment=None, type_params=[])
    init.args.args[0].ctx = gast.Param()
    cls.body = [A.located(init, cls)] + [s for s in cls.body if not isinstance(s, gast.Pass)]
    return init


def _store_on_self(init, captured):
    self_name = init.args.args[0].id
    stores = []
    for c in captured:
        init.args.kwonlyargs.append(gast.Name(id=_PREFIX + c, ctx=gast.Param(), annotation=None, type_comment=None))
        init.args.kw_defaults.append(gast.Constant(value=None, kind=None))
        target = gast.Attribute(value=A.name(self_name), attr=_PREFIX + c, ctx=gast.Store())
        stores.append(A.located(A.assign(target, A.name(_PREFIX + c)), init))
    init.body = stores + init.body
