"""Running one optimization pass on a hand-written function (shared by the pass tests)."""
import ast
import inspect
import textwrap

import gast


def resolved_tree(fn, names):
    """The gast tree of fn with the helper names in `names` resolved as the compiler does."""
    fdef = gast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    for n in gast.walk(fdef):
        if isinstance(n, gast.Name) and n.id in names and isinstance(n.ctx, gast.Load):
            n.diffc_global = names[n.id]
    return fdef


def run_tree(fdef, names, *args):
    """Compile a (rewritten) function tree with `names` as its globals and call it."""
    module = gast.gast_to_ast(gast.Module(body=[fdef], type_ignores=[]))
    ast.fix_missing_locations(module)
    space = dict(names)
    exec(compile(module, "<test>", "exec"), space)
    return space[fdef.name](*args)
