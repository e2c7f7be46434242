"""object_lists: items of a local list of new objects, changed by calls writing their
attributes, are bound to a name and stored back.

Input: a fenced `FunctionInfo`, before transform/attribute_writes.py.
Output: the same function, equal to it under Python's semantics, where for each local
list L of new objects of one user class C (bound once, to a display or a comprehension of
calls of C, or to ``[]`` then grown only by ``L.append(C(...))``):

* ``for v in L: BODY``, when BODY calls a method writing attributes of v or passes v to
  a function writing them (``x = layer.forward(x)`` caching ``self.x``), becomes
  ``for _k in range(len(L)): v = L[_k]; BODY; L[_k] = v``, the store back also before
  each ``break`` and ``continue`` of BODY; likewise ``for i, v in enumerate(L)`` (over
  ``enumerate(range(len(L)))``), ``for v in reversed(L)`` (over ``reversed(range(len(L)))``)
  and ``for v, x in zip(L, xs)`` (over ``zip(range(len(L)), xs)``);
* a statement passing ``L[i]`` to such a call (``states[0].step(x)``,
  ``y = update(states[i], x)``) becomes ``_o = L[i]; <the statement on _o>; L[i] = _o``.

A parameter of the differentiated function holding a list of objects of one user class
(known from the call: compile_cache.kinds_of) is treated the same, on a copy ``L = list(L)``
made first: the list passed is left as it was (and its objects: each write makes a new one).

A list held by an attribute of an object the function follows by class (a functional
method's self, a parameter of known class: ``for layer in self.layers``), when the class
always builds it from new objects of one class (constructors.object_list_attribute), is
treated the same inside one loop writing its items: ``_items = list(self.layers)`` before
the loop, the loop over ``_items`` (every read of ``self.layers`` in it), and
``self.layers = _items`` after it; only when the loop neither returns nor uses the object
otherwise than reading its attributes (nothing reads the list before the store back).

The bindings ``v = L[_k]`` and ``_o = L[i]`` carry ``diffc_item_class = C``, so that
attribute_writes follows the name as an object of class C (each write a new object), and
the stores back carry ``diffc_store_back`` (the list takes the new object: not an alias).

Why storing back keeps Python's semantics: L is the only holder of its items, and nothing
reads L between an item's binding and its store back.  So a list is rewritten only when
its other uses are ``len(L)``, loop headers, and ``L[i]`` (i a name or a constant) read
for an attribute, called for a method, or passed to a user function that does not keep
it; BODY neither reads L nor rebinds v; and v is not used outside the loop.  Any other
list is left as it is, and attribute_writes refuses a write it cannot follow, naming the
line.
"""

import inspect

import gast

from .. import ast_util as A
from . import constructors

STORE_BACK = "diffc_store_back"
REVERSED = "reversed"            # _element_target: the loop runs over reversed(L)
ITEM_CLASS = "diffc_item_class"


def store_items_back(info, namer, param_lists=None, classes=None):
    """See the module docstring; rewrites info.node in place and returns info.
    param_lists: {parameter: class} of the differentiated function's arguments that are
    lists of objects of one user class (compile_cache.kinds_of), rewritten like local lists
    on a copy ``L = list(L)`` made first, so the list passed is left as it was.
    classes: {parameter: class} of its object arguments (for their attribute lists)."""
    param_lists = param_lists or {}
    copies = _copy_attribute_lists(info, namer, _followed_objects(info, classes))
    if not param_lists and not copies and \
            not any(isinstance(n, (gast.List, gast.ListComp)) for n in gast.walk(info.node)):
        return info
    parents = _parents(info.node)
    for name, cls in _object_lists(info, parents, param_lists, copies).items():
        if _Rewrite(info, namer, name, cls, parents).run() and name in param_lists:
            copy = A.located(A.assign(name, A.call(A.global_ref(list, "list"), [A.name(name)])), info.node)
            info.node.body.insert(0, copy)
            info.forget_local_names()
        parents = _parents(info.node)
    return info


def _parents(root):
    parents = {}
    for node in gast.walk(root):
        for child in gast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


# ------------------------------------------------------------------ which lists

def _object_lists(info, parents, param_lists, copies):
    """{name: class} of the local lists of new objects of one class, of the parameters
    param_lists names (never rebound) and of the copies of attribute lists, whose every
    use is one the module docstring allows."""
    bindings = {}
    for node in gast.walk(info.node):
        if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
            bindings.setdefault(node.id, []).append(node)
    args = info.node.args
    params = {a.id for a in args.posonlyargs + args.args + args.kwonlyargs}
    found = {name: cls for name, cls in param_lists.items()
             if name not in bindings and _uses_allowed(info, name, cls, parents)}
    found.update({name: cls for name, cls in copies.items() if _uses_allowed(info, name, cls, parents)})
    for name, stores in bindings.items():
        if len(stores) != 1 or name in params:
            continue
        assign = parents.get(id(stores[0]))
        if not isinstance(assign, gast.Assign) or assign.targets != [stores[0]]:
            continue
        cls = _class_of_new_list(info, assign.value, name)
        if cls is not None and _uses_allowed(info, name, cls, parents):
            found[name] = cls
    return found


def _class_of_new_list(info, value, name):
    """C when value is ``[C(...), ...]``, ``[C(...) for ...]``, or ``[]`` grown by appends of
    C(...) (checked with the other uses); else None."""
    if isinstance(value, gast.List):
        classes = {_constructed(info, e) for e in value.elts}
        if not value.elts:
            classes = {_appended_class(info, name)}
        return classes.pop() if len(classes) == 1 else None
    if isinstance(value, gast.ListComp) and len(value.generators) == 1:
        return _constructed(info, value.elt)
    return None


def _constructed(info, node):
    if not isinstance(node, gast.Call):
        return None
    return constructors.followable_class(info.resolve_static(node.func))


def _appended_class(info, name):
    classes = {_constructed(info, node.args[0]) for node in gast.walk(info.node) if _is_append(node, name)}
    return classes.pop() if len(classes) == 1 else None


def _is_append(node, name):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) and node.func.attr == "append" \
        and isinstance(node.func.value, gast.Name) and node.func.value.id == name and len(node.args) == 1 \
        and not node.keywords


def _uses_allowed(info, name, cls, parents):
    for node in gast.walk(info.node):
        if not (isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, gast.Load)):
            continue
        parent = parents.get(id(node))
        if isinstance(parent, gast.For) and parent.iter is node and isinstance(parent.target, gast.Name):
            continue
        loop = parents.get(id(parent))         # for v in reversed(L), enumerate(L), zip(L, xs)
        if isinstance(loop, gast.For) and loop.iter is parent and _element_target(info, loop, name) is not None:
            continue                        # for i, v in enumerate(L) / for v, x in zip(L, xs)
        if isinstance(parent, gast.Call) and parent.args == [node] and info.resolve_static(parent.func) is len:
            continue
        if isinstance(parent, gast.comprehension) and parent.iter is node \
                and _reads_attributes_only(parents.get(id(parent)), parent.target):
            continue                        # sum(p.x ** 2 for p in L)
        if isinstance(parent, gast.Assign) and getattr(parent, STORE_BACK, False):
            continue                        # self.layers = _items: the copy stored back
        if isinstance(parent, gast.Attribute) and _is_append(parents.get(id(parent)), name) \
                and isinstance(parents.get(id(parents.get(id(parent)))), gast.Expr):
            continue
        if isinstance(parent, gast.Subscript) and parent.value is node and _plain_index(parent.slice) \
                and _item_use_allowed(info, parent, cls, parents):
            continue
        return False
    return True


def _binds_first(loop, var):
    """A loop this module rewrote, whose body starts with ``var = L[_k]``."""
    first = loop.body[0] if loop.body else None
    return isinstance(first, gast.Assign) and getattr(first, ITEM_CLASS, None) is not None \
        and isinstance(first.targets[0], gast.Name) and first.targets[0].id == var


_COMPREHENSIONS = (gast.ListComp, gast.GeneratorExp, gast.SetComp, gast.DictComp)


def _reads_attributes_only(comp, target):
    """A comprehension over L whose only generator binds a name every use of which reads
    one of its attributes (``p.x``, not ``p.step()`` nor ``f(p)``): it neither keeps nor
    changes an item."""
    if not isinstance(comp, _COMPREHENSIONS) or len(comp.generators) != 1 or not isinstance(target, gast.Name):
        return False
    parents = _parents(comp)
    for n in gast.walk(comp):
        if n is target or not (isinstance(n, gast.Name) and n.id == target.id):
            continue
        up = parents.get(id(n))
        if not (isinstance(up, gast.Attribute) and isinstance(up.ctx, gast.Load) and up.value is n):
            return False
        if isinstance(parents.get(id(up)), gast.Call) and parents[id(up)].func is up:
            return False                    # p.step(): a method, which may write p
    return True


def _element_target(info, loop, name):
    """For ``for v in L``, ``for v in reversed(L)``, ``for i, v in enumerate(L[, start])`` and
    ``for ..., v, ... in zip(..., L, ...)``: (the Name v, where in the target it is: None,
    REVERSED, or its position in the tuple); else None."""
    target, it = loop.target, loop.iter
    if isinstance(it, gast.Name) and it.id == name:
        return (target, None) if isinstance(target, gast.Name) else None
    if isinstance(it, gast.Call) and not it.keywords and info.resolve_static(it.func) is reversed \
            and len(it.args) == 1 and isinstance(it.args[0], gast.Name) and it.args[0].id == name:
        return (target, REVERSED) if isinstance(target, gast.Name) else None
    if not isinstance(it, gast.Call) or it.keywords or not isinstance(target, gast.Tuple):
        return None
    fn = info.resolve_static(it.func)
    at = [k for k, a in enumerate(it.args) if isinstance(a, gast.Name) and a.id == name]
    if len(at) != 1 or any(isinstance(a, gast.Starred) for a in it.args):
        return None
    if fn is enumerate and at == [0] and len(it.args) in (1, 2) and len(target.elts) == 2:
        position = 1
    elif fn is zip and len(target.elts) == len(it.args):
        position = at[0]
    else:
        return None
    element = target.elts[position]
    return (element, position) if isinstance(element, gast.Name) else None


def _plain_index(index):
    """A name or an int literal (``L[i]``, ``L[0]``, ``L[-1]``)."""
    if isinstance(index, gast.UnaryOp) and isinstance(index.op, gast.USub):
        index = index.operand
    return isinstance(index, gast.Name) or (isinstance(index, gast.Constant) and type(index.value) is int)


def _item_use_allowed(info, item, cls, parents):
    """L[i] read for an attribute, as a method's receiver, or passed to a user function
    that does not keep it."""
    if not isinstance(item.ctx, gast.Load):
        return False
    parent = parents.get(id(item))
    if isinstance(parent, gast.Attribute) and isinstance(parent.ctx, gast.Load):
        return True
    if isinstance(parent, gast.Call) and item in parent.args:
        if writes_object(info, parent, item, cls):
            return True                     # rewritten; attribute_writes checks what it does
        fn = info.resolve_static(parent.func)
        return isinstance(fn, type(_item_use_allowed)) and constructors.keeps_argument(
            fn, index=parent.args.index(item)) is False
    return False


# ------------------------------------------------------------------ lists held by attributes

def _followed_objects(info, classes):
    """{parameter: user class} of the objects this function follows by class: a functional
    method's self, a functional function's parameters, the entry function's arguments."""
    out = {p: c for p, c in dict(classes or {}, **getattr(info.fn, "diffc_param_classes", {})).items()
           if constructors.followable_class(c)}
    owner = constructors.followable_class(getattr(info.fn, "diffc_functional", None))
    args = info.node.args.posonlyargs + info.node.args.args
    if owner is not None and args:
        out[args[0].id] = owner
    return out


def _copy_attribute_lists(info, namer, objects):
    """Each loop over a list attribute of a followed object (``for layer in self.layers``,
    constructors.object_list_attribute) whose body writes the items becomes a loop over a
    copy ``_L = list(self.layers)``, stored back after it (``self.layers = _L``), which the
    rewrite below treats as a list of new objects; {copy: item class}.  Not when the body
    returns or reads the attribute (it would see the list before the store back)."""
    copies = {}

    def block(stmts):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, gast.FunctionDef):
                    setattr(stmt, field, block(getattr(stmt, field)))
            for handler in getattr(stmt, "handlers", None) or ():
                handler.body = block(handler.body)
            out.extend(_copied_loop(info, namer, stmt, objects, copies) if isinstance(stmt, gast.For) else [stmt])
        return out
    if objects:
        info.node.body = block(info.node.body)
    if copies:
        info.forget_local_names()
    return copies


def _copied_loop(info, namer, loop, objects, copies):
    """[the copy, loop, the store back] for a loop writing items of a list attribute of a
    followed object (see _copy_attribute_lists), else [loop]."""
    for me, owner in objects.items():
        attrs = sorted({n.attr for n in gast.walk(loop) if _attribute_of(n, me)})
        for attr in attrs:
            cls = constructors.object_list_attribute(owner, attr)
            if cls is None or not _writes_attribute_items(info, loop, me, attr, cls) \
                    or not _reads_only_fields(loop, me):
                continue
            copy = namer.fresh("_items")
            copies[copy] = cls
            source = gast.Attribute(value=A.name(me), attr=attr, ctx=gast.Load())
            made = A.located(A.assign(copy, A.call(A.global_ref(list, "list"), [source])), loop)
            _replace_attribute(loop, me, attr, copy)
            back = A.located(A.assign(gast.Attribute(value=A.name(me), attr=attr, ctx=gast.Store()),
                                      A.name(copy)), loop)
            setattr(back, STORE_BACK, True)
            return [made, loop, back]
    return [loop]


def _attribute_of(node, me, attr=None):
    return isinstance(node, gast.Attribute) and isinstance(node.value, gast.Name) and node.value.id == me \
        and (attr is None or node.attr == attr)


def _writes_attribute_items(info, loop, me, attr, cls):
    """Whether the loop calls a method writing an item of me.attr, on its element
    (``for v in me.attr``, enumerate, zip) or on ``me.attr[i]``."""
    it, element = A.iterated_attribute(loop)
    var = element.id if _attribute_of(it, me, attr) and isinstance(element, gast.Name) else None

    def is_item(n):
        return (var is not None and isinstance(n, gast.Name) and n.id == var) or (
            isinstance(n, gast.Subscript) and _attribute_of(n.value, me, attr))
    return any(_writing_calls(info, s, is_item, cls, _parents(s)) for s in loop.body)


def _reads_only_fields(loop, me):
    """The loop neither returns nor yields, and uses `me` only to read its attributes (a
    method of me, or me passed on, might read the list before it is stored back)."""
    parents = _parents(loop)
    for node in gast.walk(loop):
        if isinstance(node, (gast.Return, gast.Yield, gast.YieldFrom)):
            return False
        if isinstance(node, gast.Name) and node.id == me:
            parent = parents.get(id(node))
            if not (isinstance(parent, gast.Attribute) and isinstance(parent.ctx, gast.Load)):
                return False
            grand = parents.get(id(parent))
            if isinstance(grand, gast.Call) and grand.func is parent:
                return False
    return True


def _replace_attribute(loop, me, attr, name):
    """Every read of me.attr in the loop (its header and body) becomes a read of name."""
    for node in list(gast.walk(loop)):
        for field, value in gast.iter_fields(node):
            if _attribute_of(value, me, attr):
                setattr(node, field, A.name(name))
            elif isinstance(value, list):
                setattr(node, field, [A.name(name) if _attribute_of(v, me, attr) else v for v in value])


# ------------------------------------------------------------------ which calls write

def writes_object(info, call, obj, cls):
    """Whether call writes attributes of the object of class cls that the node obj passes
    (as the receiver of a method, or as an argument of a user function)."""
    func = call.func
    if isinstance(func, gast.Attribute) and func.value is obj:
        return constructors.writes_attributes(cls, func.attr)
    fn = info.resolve_static(func)
    if not isinstance(fn, type(writes_object)) or obj not in call.args:
        return False
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    index = call.args.index(obj)
    if index >= len(params) or params[index].kind not in (params[index].POSITIONAL_ONLY,
                                                          params[index].POSITIONAL_OR_KEYWORD):
        return False
    name = params[index].name
    return name in constructors.written_parameters(fn, {name: cls})


def _writing_calls(info, root, obj_is, cls, parents):
    """The calls under root writing the object of a node for which obj_is(node) holds."""
    out = []
    for node in gast.walk(root):
        if isinstance(node, gast.Call):
            func = node.func
            candidates = ([func.value] if isinstance(func, gast.Attribute) else []) + list(node.args)
            if any(obj_is(c) and writes_object(info, node, c, cls) for c in candidates):
                out.append(node)
    return out


# ------------------------------------------------------------------ rewriting

class _Rewrite:
    def __init__(self, info, namer, name, cls, parents):
        self.info, self.namer, self.name, self.cls, self.parents = info, namer, name, cls, parents

    def run(self):
        """Rewrite the function; whether anything changed."""
        self.changed = False
        self.info.node.body = self.block(self.info.node.body)
        return self.changed

    def block(self, stmts):
        out = []
        for stmt in stmts:
            for field in ("body", "orelse", "finalbody"):
                if isinstance(getattr(stmt, field, None), list) and not isinstance(stmt, gast.FunctionDef):
                    setattr(stmt, field, self.block(getattr(stmt, field)))
            for handler in getattr(stmt, "handlers", None) or ():
                handler.body = self.block(handler.body)
            if isinstance(stmt, gast.For):
                out.extend(self.loop(stmt))
            elif isinstance(stmt, (gast.Assign, gast.AugAssign, gast.Expr, gast.Return)):
                out.extend(self.item_call(stmt))
            else:
                out.append(stmt)
        return out

    def _is_list(self, node):
        return isinstance(node, gast.Name) and node.id == self.name

    def loop(self, stmt):
        """for v in L: BODY, as the module docstring says, when BODY writes v and the
        conditions hold; else unchanged."""
        found = _element_target(self.info, stmt, self.name)
        if found is None:
            return [stmt]
        element, position = found
        var = element.id
        is_var = lambda n: isinstance(n, gast.Name) and n.id == var   # noqa: E731
        if not any(_writing_calls(self.info, s, is_var, self.cls, self.parents) for s in stmt.body):
            return [stmt]
        mentions_list = any(self._is_list(n) for s in stmt.body for n in gast.walk(s))
        rebinds_var = any(var in A.names_stored(s) for s in stmt.body)
        if mentions_list or rebinds_var or self._used_outside(var, stmt):
            return [stmt]
        index = self.namer.fresh("_item")
        bind = A.located(A.assign(var, A.subscript(A.name(self.name), A.name(index))), stmt)
        setattr(bind, ITEM_CLASS, self.cls)
        stmt.body = [bind] + self._before_jumps(stmt.body, var, index) + [self._store_back(index, var, stmt)]
        self.changed = True
        indices = A.located(A.call(A.global_ref(range, "range"), [
            A.call(A.global_ref(len, "len"), [A.name(self.name)])]), stmt.iter)
        if position is None:
            stmt.target, stmt.iter = A.store(index), indices
        elif position is REVERSED:
            stmt.target = A.store(index)
            stmt.iter = A.located(A.call(A.global_ref(reversed, "reversed"), [indices]), stmt.iter)
        else:
            stmt.target.elts[position] = A.store(index)
            stmt.iter.args = [indices if self._is_list(a) else a for a in stmt.iter.args]
        return [stmt]

    def _used_outside(self, var, loop):
        """Whether var, outside loop, names the object the loop last bound: a use not in the
        loop, nor in another loop binding var first (``for p in L: ...`` again), nor in a
        comprehension binding its own var (Python 3 gives it a scope of its own; its first
        iterable is read outside it)."""
        inside = {id(n) for s in loop.body for n in gast.walk(s)} | {id(n) for n in gast.walk(loop.target)}
        for other in gast.walk(self.info.node):
            if isinstance(other, gast.For) and other is not loop and (_binds_first(other, var) or isinstance(
                    other.target, gast.Name) and other.target.id == var):
                inside |= {id(n) for s in other.body for n in gast.walk(s)} | {id(n) for n in gast.walk(other.target)}
            elif isinstance(other, _COMPREHENSIONS) and any(
                    isinstance(g.target, gast.Name) and g.target.id == var for g in other.generators):
                first_iter = {id(n) for n in gast.walk(other.generators[0].iter)}
                inside |= {id(n) for n in gast.walk(other) if id(n) not in first_iter}
        return any(isinstance(n, gast.Name) and n.id == var and id(n) not in inside
                   for n in gast.walk(self.info.node))

    def _before_jumps(self, stmts, var, index):
        """stmts with the store back before each break/continue of this loop."""
        out = []
        for stmt in stmts:
            if isinstance(stmt, (gast.Break, gast.Continue)):
                out.append(self._store_back(index, var, stmt))
            elif not isinstance(stmt, (gast.For, gast.While, gast.FunctionDef, gast.ClassDef)):
                for field in ("body", "orelse", "finalbody"):
                    if isinstance(getattr(stmt, field, None), list):
                        setattr(stmt, field, self._before_jumps(getattr(stmt, field), var, index))
                for handler in getattr(stmt, "handlers", None) or ():
                    handler.body = self._before_jumps(handler.body, var, index)
            out.append(stmt)
        return out

    def _store_back(self, index, var, where):
        store = A.located(A.assign(A.subscript(A.name(self.name), A.name(index) if isinstance(index, str)
                                               else index, gast.Store()), A.name(var)), where)
        setattr(store, STORE_BACK, True)
        return store

    def item_call(self, stmt):
        """A statement passing L[i] to a call writing it, with the item bound first and
        stored back after (module docstring); else [stmt]."""
        items = [n for n in gast.walk(stmt) if isinstance(n, gast.Subscript) and self._is_list(n.value)]
        if len(items) != 1 or sum(self._is_list(n) for n in gast.walk(stmt)) != 1:
            return [stmt]
        item = items[0]
        if not _writing_calls(self.info, stmt, lambda n: n is item, self.cls, self.parents):
            return [stmt]
        if isinstance(item.slice, gast.Name) and item.slice.id in A.names_stored(stmt):
            return [stmt]
        self.changed = True
        obj = self.namer.fresh("_object")
        bind = A.located(A.assign(obj, A.deepcopy(item)), stmt)
        setattr(bind, ITEM_CLASS, self.cls)
        parent = self.parents[id(item)]
        for field, value in gast.iter_fields(parent):
            if value is item:
                setattr(parent, field, A.name(obj))
            elif isinstance(value, list) and any(v is item for v in value):
                setattr(parent, field, [A.name(obj) if v is item else v for v in value])
        if isinstance(stmt, gast.Return):
            return [bind, stmt]
        return [bind, stmt, self._store_back(A.deepcopy(item.slice), obj, stmt)]
