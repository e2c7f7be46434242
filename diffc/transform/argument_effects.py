"""argument_effects: what a user function does to the objects passed to it and to state
outside them, read from its source (parse only; nothing is compiled).

Input: a plain function of the user's code.
Output: facts the transforms and the run-time checks ask about it: the parameters it
writes into in place, the parameters it calls methods of or passes on to user functions,
whether it changes global state.  Each is cached per function."""

import ast
import inspect
import threading
import types

from ..analysis.calls import is_user_function
from .constructors import MUTATORS, UnsupportedConstructor, method_tree

_lock = threading.RLock()


def _cached(table):
    """Cache a function of a plain function (by the function object, under _lock)."""
    def wrap(compute):
        def cached(fn):
            with _lock:
                if fn not in table:
                    table[fn] = compute(fn)
                return table[fn]
        cached.__doc__ = compute.__doc__
        cached.__name__ = compute.__name__
        return cached
    return wrap
@_cached({})
def writes_global_state(fn):
    """Whether the plain function fn changes state outside its parameters and locals: an
    attribute of a global or captured object or class (``Stats.total = ...``,
    ``setattr(CONFIG, ...)``), or a ``global`` / ``nonlocal`` variable.  Run as Python from
    differentiated code, what it writes would lose its derivative."""
    if not isinstance(fn, types.FunctionType):
        return False
    try:
        tree = method_tree(fn, type(fn))[0]
    except (UnsupportedConstructor, SyntaxError, TypeError):
        return False
    args = tree.args
    owned = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    owned |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    owned |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            return True
        target = node if isinstance(node, ast.Attribute) and isinstance(node.ctx, (ast.Store, ast.Del)) else None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
                and node.args:
            target = node.args[0]
        while isinstance(target, (ast.Attribute, ast.Subscript)):
            target = target.value
        if isinstance(target, ast.Name) and target.id not in owned:
            return True
    return False


@_cached({})
def parameters_written_in_place(fn):
    """The parameters of the plain function fn it may write into in place before rebinding
    them: ``p[i] = v``, ``p[i] += v``, ``p += v`` (in place for an array or a list),
    ``p.append(v)``, ``p.sort()``..., also through a name bound to one of its items
    (``q = p[0]``) or a loop over it (``for q, g in zip(p, grads): q -= g``)."""
    try:
        tree = method_tree(fn, type(fn))[0]
    except (UnsupportedConstructor, SyntaxError, TypeError):
        return set()
    params = {a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
    holders = {p: p for p in params}        # a name -> the parameter whose object (or item) it holds
    written, rebound = set(), set()
    _IN_PROGRESS.add(fn)
    try:
        for stmt in tree.body:
            for node in ast.walk(stmt):
                _hold_items(node, holders)
                roots = [_written_root(node)] + _passed_to_writers(node, fn)
                for root in roots:
                    if isinstance(root, ast.Name) and root.id in holders and holders[root.id] not in rebound:
                        written.add(holders[root.id])
            if isinstance(stmt, ast.Assign):
                rebound |= {t.id for t in stmt.targets if isinstance(t, ast.Name) and t.id in params}
    finally:
        _IN_PROGRESS.discard(fn)
    return written


_IN_PROGRESS = set()        # functions whose parameters_written_in_place is being computed


def _passed_to_writers(node, fn):
    """The argument expressions of a call in fn of another plain function that writes into
    the parameter they are passed to (`v = inner(v)`, inner doing `v += ...`)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return []
    callee = fn.__globals__.get(node.func.id)
    if not is_user_function(callee) or callee in _IN_PROGRESS:
        return []
    try:
        written = parameters_written_in_place(callee)
    except OSError:             # no source to read: nothing known
        return []
    if not written:
        return []
    params = list(inspect.signature(callee).parameters)
    passed = [a for k, a in enumerate(node.args) if k < len(params) and params[k] in written]
    return passed + [k.value for k in node.keywords if k.arg in written]


def _hold_items(node, holders):
    """Record the names bound to items of a holder: ``q = p[i]``, ``for q in p``,
    ``for i, q in enumerate(p)``, ``for q, g in zip(p, gs)``."""
    if isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript) \
            and isinstance(node.value.value, ast.Name) and node.value.value.id in holders:
        for t in node.targets:
            if isinstance(t, ast.Name):
                holders[t.id] = holders[node.value.value.id]
    if not isinstance(node, ast.For):
        return
    it, target = node.iter, node.target
    pairs = [(it, target)]
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and isinstance(target, ast.Tuple):
        if it.func.id == "zip" and len(it.args) == len(target.elts):
            pairs = list(zip(it.args, target.elts))
        elif it.func.id == "enumerate" and it.args and len(target.elts) == 2:
            pairs = [(it.args[0], target.elts[1])]
    for source, name in pairs:
        if isinstance(source, ast.Name) and source.id in holders and isinstance(name, ast.Name):
            holders[name.id] = holders[source.id]


def _written_root(node):
    """The name whose object node writes into in place, else None."""
    if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
        root = node
        while isinstance(root, ast.Subscript):
            root = root.value
        return root
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        return node.target
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
        return node.func.value
    return None


_passed_on = {}


def parameters_passed_on(fn, _seen=None):
    """The parameters of the plain function fn that it calls a method of (``p.step(x)``,
    ``p.cell.step(x)``) or passes on to a user function that does so with them (``g(p)``, g
    found by name in its globals; a recursion adds nothing): whether fn writes their
    attributes may depend on their class (transform/unknown_writes.py)."""
    with _lock:
        if _seen is None and fn in _passed_on:
            return _passed_on[fn]
        seen = (_seen or set()) | {fn}
        try:
            tree = method_tree(fn, type(fn))[0]
        except (UnsupportedConstructor, SyntaxError, TypeError):
            tree = None
        found = set()
        if tree is not None:
            params = {a.arg for a in tree.args.posonlyargs + tree.args.args + tree.args.kwonlyargs}
            for node in ast.walk(tree):
                if isinstance(node, ast.Call):
                    found |= _passed_by_call(node, fn, params, seen)
        if _seen is None:
            _passed_on[fn] = frozenset(found)
        return frozenset(found)


def _passed_by_call(node, fn, params, seen):
    receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
    while isinstance(receiver, ast.Attribute):
        receiver = receiver.value
    found = {receiver.id} if isinstance(receiver, ast.Name) and receiver.id in params else set()
    callee = fn.__globals__.get(node.func.id) if isinstance(node.func, ast.Name) else None
    if not is_user_code(callee) or callee in seen:
        return found                        # np.tanh(p), len(p), a recursion: nothing more
    names = callee.__code__.co_varnames[:callee.__code__.co_argcount]
    onward = parameters_passed_on(callee, seen)
    for name, arg in list(zip(names, node.args)) + [(k.arg, k.value) for k in node.keywords]:
        if isinstance(arg, ast.Name) and arg.id in params and name in onward:
            found.add(arg.id)
    return found


def is_user_code(fn):
    """A plain function of the user's code (not a library's, not one diffc generated)."""
    return isinstance(fn, types.FunctionType) and fn.__name__ != "<lambda>" and (
        fn.__module__ or "").split(".")[0] not in ("numpy", "scipy", "diffc", "functools", "itertools") \
        and not fn.__code__.co_filename.startswith("<diffc")


@_cached({})
def updates_held_values(fn):
    """{parameter: names of its attributes whose values the plain function fn may change in
    place} (``self.pos += v`` on an array, ``self.buf[i] = v``, ``self.hist.append(h)``),
    itself or through the methods of its class it calls on its first parameter.  Python
    shows such a change to every other name holding the value (``snap = p.pos`` before
    ``p.step()``)."""
    return _updates_held_values(fn, set())


def _updates_held_values(fn, seen):
    from .constructors import method_class, plain_method
    try:
        tree = method_tree(fn, type(fn))[0]
    except (UnsupportedConstructor, SyntaxError, TypeError):
        return {}
    params = [a.arg for a in tree.args.posonlyargs + tree.args.args]
    found = {}
    for p in params:
        for node in ast.walk(tree):
            name = _attribute_updated(node, p)
            if name is not None:
                found.setdefault(p, set()).add(name)
    cls = method_class(fn)
    if cls is not None and params:
        for node in ast.walk(tree):          # self.decay(): what it updates in place
            func = node.func if isinstance(node, ast.Call) else None
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and func.value.id == params[0] and (cls, func.attr) not in seen:
                method = plain_method(cls, func.attr)
                if method is not None:
                    inner = _updates_held_values(method, seen | {(cls, func.attr)})
                    first = next(iter(inspect.signature(method).parameters), None)
                    found.setdefault(params[0], set()).update(inner.get(first, set()))
        if not found.get(params[0]):
            found.pop(params[0], None)
    return found


def _attribute_updated(node, me):
    """The attribute of me whose value node changes in place, else None."""
    def held(n):                      # me.a, me.a[i], me.a.b...: a value attribute a holds
        while isinstance(n, (ast.Subscript, ast.Attribute)):
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == me:
                return n.attr
            n = n.value
        return None
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Attribute):
        return held(node.target)
    if isinstance(node, (ast.Assign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for t in targets:
            if isinstance(t, ast.Subscript) and held(t.value) is not None:
                return held(t.value)
        return None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
        return held(node.func.value)
    return None


def draws_random(tree):
    """Whether the function tree (an `ast` or `gast` FunctionDef) draws random numbers from
    a generator it does not make itself: a method of NumPy's generators called on a name the
    function does not bind to ``default_rng(...)``/``RandomState(...)`` (``self.rng.random``,
    a captured ``rng``), or a function of ``np.random`` / ``random``.  Run again to be
    differentiated (a function value, code differentiated again), it would draw other numbers."""
    from .. import effects
    made = set()
    seeded = any(type(n).__name__ == "Call" and _chain(n.func).endswith("random.seed") for n in _walk(tree))
    for node in _walk(tree):
        if type(node).__name__ == "Assign" and type(node.value).__name__ == "Call" \
                and _chain(node.value.func).split(".")[-1] in ("default_rng", "RandomState", "Generator"):
            made |= {t.id for t in node.targets if type(t).__name__ == "Name"}
    for node in _walk(tree):
        if type(node).__name__ != "Call":
            continue
        chain = _chain(node.func)
        parts = chain.split(".")
        if parts[0] in ("np", "numpy", "random") and (len(parts) > 2 and parts[1] == "random" or parts[0] == "random") \
                and parts[-1] not in ("default_rng", "RandomState", "Generator", "seed") and not seeded:
            return True
        if len(parts) > 1 and parts[-1] in effects.random_methods() - _GENERIC_NAMES and parts[0] not in made \
                and parts[0] not in ("np", "numpy", "random") and _looks_like_a_generator(parts[-2]):
            return True
    return False


# Generator methods named like other things (self.f(y) is a function, not an F draw).
_GENERIC_NAMES = {"f", "bytes", "power", "spawn", "get_state", "set_state", "bit_generator", "seed"}


def _looks_like_a_generator(name):
    """The receiver's name is one a random generator goes by (rng, self.rng, random_state,
    gen, rs, noise...): the method's type is not known before it runs."""
    name = name.lower()
    return name in ("rs", "gen", "g", "prng", "key") or any(w in name for w in ("rng", "random", "generator",
                                                                                "noise", "sampler"))


def _walk(tree):
    import gast
    return gast.walk(tree) if isinstance(tree, gast.AST) else ast.walk(tree)


def _chain(node):
    """'a.b.c' for an attribute chain of a name, '' otherwise."""
    parts = []
    while type(node).__name__ == "Attribute":
        parts.append(node.attr)
        node = node.value
    if type(node).__name__ != "Name":
        return ""
    return ".".join([node.id] + parts[::-1])
