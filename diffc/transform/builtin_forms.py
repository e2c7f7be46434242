"""builtin_forms: `map`, `filter`, and `max` / `min` with a `key`, in forms diffc follows.

Input: a fenced `FunctionInfo`, before transform/desugar.py.
Output: the same function, equal under Python's semantics, where (for the builtins
themselves, not names rebound to something else)

* ``map(f, xs)`` is the generator ``(f(_v) for _v in xs)`` and ``map(f, xs, ys)`` is
  ``(f(_a, _b) for _a, _b in zip(xs, ys))``;
* ``filter(f, xs)`` is ``(_v for _v in xs if f(_v))``, ``filter(None, xs)`` is
  ``(_v for _v in xs if _v)``;
* ``max(xs, key=f)`` is ``sorted(xs, key=f, reverse=True)[0]`` and ``min(xs, key=f)`` is
  ``sorted(xs, key=f)[0]`` (a stable sort keeps the first of equal keys, as max and min
  do; ``max(a, b, key=f)`` sorts ``[a, b]``; ``key=None`` is dropped); a call with
  ``default=`` is left alone (transform/anf.py writes it out: the items, then the
  extremum or the default).

Generators, `zip`, `sorted` with a key and indexing have derivative rules in both modes;
before, these calls were refused ("no derivative rule for map").
"""

import builtins

import gast

from .. import ast_util as A


def rewrite_builtin_forms(info, namer):
    """See the module docstring; rewrites info.node in place and returns info."""
    calls = [n for n in gast.walk(info.node) if isinstance(n, gast.Call) and isinstance(n.func, gast.Name)
             and n.func.id in ("map", "filter", "max", "min")]
    if not calls:
        return info

    class Rewriter(gast.NodeTransformer):
        def visit_Call(self, node):
            self.generic_visit(node)
            fn = info.resolve_static(node.func) if isinstance(node.func, gast.Name) else None
            if fn is builtins.map:
                return _map(node, namer) or node
            if fn is builtins.filter:
                return _filter(node, namer) or node
            if fn in (builtins.max, builtins.min):
                return _extreme(node, fn is builtins.max) or node
            return node
    Rewriter().visit(info.node)
    return info


def _plain(call, n_args):
    return len(call.args) >= n_args and not any(isinstance(a, gast.Starred) for a in call.args)


def _generator(elt, target, iterable, ifs=()):
    comp = gast.comprehension(target=target, iter=iterable, ifs=list(ifs), is_async=0)
    return gast.GeneratorExp(elt=elt, generators=[comp])


def _map(call, namer):
    if call.keywords or not _plain(call, 2):
        return None
    names = [namer.fresh("_mapped") for _ in call.args[1:]]
    elt = A.call(call.args[0], [A.name(n) for n in names])
    if len(names) == 1:
        made = _generator(elt, A.store(names[0]), call.args[1])
    else:
        target = gast.Tuple(elts=[A.store(n) for n in names], ctx=gast.Store())
        made = _generator(elt, target, A.call(A.global_ref(zip, "zip"), call.args[1:]))
    return A.located(made, call)


def _filter(call, namer):
    if call.keywords or len(call.args) != 2 or not _plain(call, 2):
        return None
    name = namer.fresh("_kept")
    test = A.name(name) if isinstance(call.args[0], gast.Constant) and call.args[0].value is None \
        else A.call(call.args[0], [A.name(name)])
    return A.located(_generator(A.name(name), A.store(name), call.args[1], [test]), call)


def _extreme(call, largest):
    keys = {k.arg: k.value for k in call.keywords}
    if set(keys) != {"key"} or not _plain(call, 1):
        return None
    if isinstance(keys["key"], gast.Constant) and keys["key"].value is None:
        call.keywords = []                  # key=None: the plain max / min
        return call
    items = call.args[0] if len(call.args) == 1 else gast.List(elts=list(call.args), ctx=gast.Load())
    keywords = [gast.keyword(arg="key", value=keys["key"])]
    if largest:
        keywords.append(gast.keyword(arg="reverse", value=A.const(True)))
    ordered = A.call(A.global_ref(sorted, "sorted"), [items], keywords)
    return A.located(A.subscript(ordered, A.const(0)), call)
