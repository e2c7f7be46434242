"""item_write_back: a write into an item taken out of a container, written back into it.

Python shares objects: after ``h = state["h"]``, ``r = M[1]`` (a row of a 2-d array) or
``for row in out:``, a write into ``h``, ``r`` or ``row`` (``h[:] = v``, ``r[0] = v``,
``row *= c``) changes what the container holds.  diffc follows values, so the
container must be told: the write is followed by ``state["h"] = h`` (``M[1] = r``,
``out[k] = row``), a no-op in Python (the container already holds that object) that
makes the derivative see the write.  transform/sweep.py's ``share_writes_through_views``
asks `write_back` for each write the alias analysis says a container sees.

Input: an ANF body (a FunctionSweep's), one in-place write statement `write` into the
name `written`, the container name `observer` that sees it, and the statement `origin`
that took the item: ``t = observer[index]`` with an item index (names, ints, strings;
slices are sweep's views), where ``written`` is t or was bound once by ``written = t``.
Output: ``observer[index] = written`` -- preceded by a run-time refusal for a tuple
(``runtime_checks.check_item_write_back``) unless the container is certainly a list,
a dict or an array -- or None when the index, the container or the item's name may have
been rebound between origin and the write (check_aliasing then refuses the program, as
before).

`items_written_in_place(fn)` names the containers iterated by a ``for`` whose loop
variable is written in place, so that sweep reads their items directly (``y[k]``, not
through desugar's ``_seq = as_sequence(y)``) and the write-back lands in y itself.
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime, runtime_checks, runtime_tuples
from ..analysis import kinds as K

_CREATORS = ("zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
             "array", "copy", "eye", "stack", "vstack", "hstack", "concatenate", "outer")


def write_back(fn, write, observer, written, origin):
    """The statements following `write` so that `observer` sees it (module docstring), or None.

    written may be an item of an item (``first = layers[0]; w = first[1]; w[2] = 0``): each
    container on the way takes its item back, innermost first (``first[1] = w``, then
    ``layers[0] = first``)."""
    if getattr(write, "diffc_item_update", (None, None))[1] == written:
        return None             # `c[k] op= v`: the new value is the statement's target, not written
    if not (isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Name)):
        return None
    target, value = origin.targets[0].id, origin.value
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
            and value.value.id == observer and _item_index(value.slice)):
        return None
    out, name, first = [], written, getattr(write, "diffc_write_back_of", (write, written))
    for _ in range(4):
        if name == target or _bound_once_as(fn.body, name, target):
            break
        taken = _taken_from(fn.body, name)          # name = container[index], bound once
        if taken is None or not _unchanged_between(fn.body, taken, write, _names_of(taken) - {written}):
            return None
        out += _store(fn, write, taken.value, name, first)
        name = taken.value.value.id
    else:
        return None
    if not _unchanged_between(fn.body, origin, write, _names_of(origin) - {written}):
        return None
    return out + _store(fn, write, value, name, first)


def held_write_back(fn, write, observer, written, origin):
    """``box[k] = u`` after a write into u, where ``box = [..., u, ...]`` (a list or dict
    display holding u at k) is the origin: the container takes its item back.  None when
    box may have changed since (rebound, or written other than by these write-backs)."""
    if getattr(write, "diffc_item_update", (None, None))[1] == written:
        return None             # `c[k] op= v`: the new value is the statement's target, not written
    if not (isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Name)
            and origin.targets[0].id == observer):
        return None
    value = origin.value
    if isinstance(value, gast.List):
        places = [A.const(k) for k, e in enumerate(value.elts) if isinstance(e, gast.Name) and e.id == written]
    elif isinstance(value, gast.Dict) and all(isinstance(k, gast.Constant) for k in value.keys):
        places = [A.const(k.value) for k, e in zip(value.keys, value.values)
                  if isinstance(e, gast.Name) and e.id == written]
    else:
        return None
    if not places or not _unchanged_between(fn.body, origin, write, {observer}) \
            or _written_between(fn.body, origin, write, observer):
        return None
    first = getattr(write, "diffc_write_back_of", (write, written))
    out = []
    for place in places:
        out += _store(fn, write, A.subscript(A.name(observer), place), written, first)
    return out


def appended_write_back(fn, write, observer, written, origin):
    """``lst[-1] = u`` after a write into u, where ``lst.append(u)`` is the origin: the list's
    last item is u's object in Python (``hist.append(h); h[0] = v`` shows in hist).  None
    unless the write follows the append in its block with nothing but write-backs changing
    lst or rebinding lst or u in between, that append is the only statement of the function
    storing u anywhere, and, in a loop, u is rebound before it in that block (a new object
    per iteration: else the list would hold one object at several places)."""
    if getattr(write, "diffc_item_update", (None, None))[1] == written:
        return None
    call = origin.value if isinstance(origin, gast.Expr) else None
    if not (isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "append"
            and isinstance(call.func.value, gast.Name) and call.func.value.id == observer
            and len(call.args) == 1 and isinstance(call.args[0], gast.Name) and call.args[0].id == written):
        return None
    storing = [s for s in A.walk_statements(fn.body) if written in _stored_names(s)]
    if storing != [origin] or not _unchanged_between(fn.body, origin, write, {observer, written}) \
            or _written_between(fn.body, origin, write, observer):
        return None
    block = _block_of(fn.body, origin)
    at = next(i for i, s in enumerate(block) if s is origin)
    in_loop = any(any(x is origin for x in A.walk_statements(loop.body))
                  for loop in A.walk_statements(fn.body) if isinstance(loop, (gast.For, gast.While)))
    if in_loop and not any(isinstance(s, gast.Assign) and written in A.names_stored(s.targets[0])
                           and not getattr(s, "diffc_augmented", False) for s in block[:at]):
        return None
    first = getattr(write, "diffc_write_back_of", (write, written))
    size, last = fn.namer.fresh("_size"), fn.namer.fresh("_last")
    fn.info.add_locals({size, last})
    where = [A.located(A.assign(size, A.call(A.global_ref(builtins.len, "len"), [A.name(observer)])), write),
             A.located(A.assign(last, A.binop(A.name(size), gast.Sub(), A.const(1))), write)]
    return where + _store(fn, write, A.subscript(A.name(observer), A.name(last)), written, first)


def _stored_names(stmt):
    """Names whose objects stmt puts into a container (append/insert/extend arguments, a
    display's items, an item assignment's value)."""
    value = getattr(stmt, "value", None)
    if isinstance(stmt, gast.Expr) and isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute):
        return {a.id for a in value.args if isinstance(a, gast.Name)}
    if isinstance(stmt, gast.Assign) and isinstance(value, (gast.List, gast.Tuple, gast.Set, gast.Dict)):
        items = value.values if isinstance(value, gast.Dict) else value.elts
        return {e.id for e in items if isinstance(e, gast.Name)}
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript) and isinstance(value, gast.Name):
        return {value.id}
    return set()


def placed_re_read(fn, write, observer, written, origin):
    """``y0 = p`` after a write into p, where ``p = lst[k]`` took the item of a display
    ``lst = [y1, y0]`` that holds y0 at k: in Python p is y0's object (the analysis only
    knows it may be: ``maybe``).  With k a name, ``if k % n == j: y0 = p``.  None unless lst
    is bound once, by that display, and nothing but write-backs changed it since."""
    if getattr(write, "diffc_item_update", (None, None))[1] == written:
        return None             # `c[k] op= v`: the new value is the statement's target, not written
    if not (isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Name)):
        return None
    target, value = origin.targets[0].id, origin.value
    if not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
            and _item_index(value.slice) and not isinstance(value.slice, gast.Tuple)):
        return None
    if written != target and not _bound_once_as(fn.body, written, target):
        return None
    container = value.value.id
    displays = _bindings(fn.body, container)
    if len(displays) != 1 or container in fn.params:
        return None
    display = displays[0]
    places = _places(display.value, observer)
    if not places:
        return None
    for start, names in ((display, {container, observer}), (origin, _names_of(origin) - {written})):
        if not _unchanged_between(fn.body, start, write, names):
            return None
    if _written_between(fn.body, display, write, container):
        return None
    index = value.slice
    re_read = A.located(A.assign(observer, A.name(written)), write)
    if isinstance(index, gast.Constant):
        size = len(display.value.elts) if isinstance(display.value, gast.List) else None
        hit = any(index.value == j or size is not None and isinstance(index.value, int)
                  and index.value % size == j for j in places)
        return [re_read] if hit else None
    flag = fn.info.namer.fresh("_placed")
    fn.info.add_locals({flag})
    if isinstance(display.value, gast.List):
        size = A.const(len(display.value.elts))
        test = gast.BoolOp(op=gast.Or(), values=[
            gast.Compare(left=A.binop(A.name(index.id), gast.Mod(), size), ops=[gast.Eq()],
                         comparators=[A.const(j)]) for j in places]) if len(places) > 1 else \
            gast.Compare(left=A.binop(A.name(index.id), gast.Mod(), size), ops=[gast.Eq()],
                         comparators=[A.const(places[0])])
    else:
        test = gast.Compare(left=A.name(index.id), ops=[gast.In()],
                            comparators=[gast.Tuple(elts=[A.const(j) for j in places], ctx=gast.Load())])
    return [A.located(A.assign(flag, test), write),
            A.located(gast.If(test=A.name(flag), body=[re_read], orelse=[]), write)]


def sibling_re_read(fn, write, observer, written, origin):
    """``observer = written`` after a write into written, where both names took the same
    item of one container: ``held = st["q"]`` ... ``t = st["q"]; t[0] = v`` (what
    ``st["q"][0] = v`` becomes): in Python held is t's object and sees the write.  None
    unless each is bound once, by ``name = c[index]`` with the same container and item
    index, the observer first, and neither c, the index, nor c's items changed between."""
    if getattr(write, "diffc_item_update", (None, None))[1] == written:
        return None
    first, second = _taken_from(fn.body, observer), _taken_from(fn.body, written)
    if first is None or second is None or first is second:
        return None
    a, b = first.value, second.value
    if a.value.id != b.value.id or gast.dump(a.slice) != gast.dump(b.slice):
        return None
    container = a.value.id
    names = {container} | A.names_loaded(a.slice)
    if _block_of(fn.body, first) is not _block_of(fn.body, second) \
            or not _unchanged_between(fn.body, first, write, names | {observer}) \
            or not _unchanged_between(fn.body, second, write, names | {written}) \
            or _written_between(fn.body, first, write, container) or container in fn.params:
        return None
    block = _block_of(fn.body, first)
    if next(i for i, s in enumerate(block) if s is first) > next(i for i, s in enumerate(block) if s is second):
        return None
    return [A.located(A.assign(observer, A.name(written)), write)]


def _places(display, name):
    """Where a list display (positions) or a dict display with constant keys holds name."""
    if isinstance(display, gast.List):
        return [k for k, e in enumerate(display.elts) if isinstance(e, gast.Name) and e.id == name]
    if isinstance(display, gast.Dict) and all(isinstance(k, gast.Constant) for k in display.keys):
        return [k.value for k, e in zip(display.keys, display.values) if isinstance(e, gast.Name) and e.id == name]
    return []


def _written_between(body, origin, write, name):
    """A statement between origin and write (in origin's block, as _unchanged_between) writes
    into name in place, other than a write-back of this module."""
    block = _block_of(body, origin)
    start = next(i for i, s in enumerate(block) if s is origin)
    for s in block[start + 1:]:
        for x in A.walk_statements([s]):
            if x is write or getattr(x, "diffc_write_back_of", None) is not None:
                continue
            if name in _written_in_place_by(x):
                return True
        if any(x is write for x in A.walk_statements([s])):
            return False
    return False


def _written_in_place_by(stmt):
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript) \
            and isinstance(stmt.targets[0].value, gast.Name):
        return {stmt.targets[0].value.id}
    if isinstance(stmt, gast.Assign) and getattr(stmt, "diffc_augmented", False) and isinstance(stmt.targets[0], gast.Name):
        return {stmt.targets[0].id}
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and isinstance(stmt.value.func, gast.Attribute) and isinstance(stmt.value.func.value, gast.Name):
        return {stmt.value.func.value.id}
    return set()


def _store(fn, write, subscript, item, first):
    """``container[index] = item`` (subscript: ``container[index]``), after a run-time check
    unless container is certainly an array."""
    container = subscript.value.id
    store = A.located(A.assign(A.subscript(A.name(container), A.deepcopy(subscript.slice), gast.Store()),
                               A.name(item)), write)
    # the write this write-back stands for (a write-back's own write-back stands for the
    # first write: a container seeing it through this one has seen that write)
    store.diffc_write_back_of = first
    if _certainly_array(fn, container):
        return [store]                  # the rows of one array never overlap
    check = A.expr_stmt(A.call(A.global_ref(runtime_checks.check_item_write_back, "check_item_write_back"),
                               [A.name(container), index_expression(subscript.slice),
                                A.const(f"{fn.source.filename}:{fn.source.file_line(write)}")]))
    if K.is_array(fn.kinds.get(container)) or certainly_item_assignable(fn, container) \
            or isinstance(subscript.slice, (gast.Slice, gast.Tuple)) or not _tuple_of_its_own(fn, container):
        return [A.located(check, write), store]
    # a plain tuple (`pos, vel = state; pos += v`) takes the item back by being rebound to
    # a new tuple holding it: the same objects Python's tuple holds, changed
    flag = fn.namer.fresh("_is_tuple")
    fn.info.add_locals({flag})
    test = A.assign(flag, A.call(A.global_ref(runtime_checks.tuple_takes_back, "tuple_takes_back"), [
        A.name(container), index_expression(subscript.slice),
        A.const(f"{fn.source.filename}:{fn.source.file_line(write)}")]))
    rebound = A.assign(container, A.call(A.global_ref(runtime_tuples.tuple_with_item, "tuple_with_item"), [
        A.name(container), index_expression(subscript.slice), A.name(item)]))
    rebound.diffc_augmented = True      # an update of the container's object, for the alias analysis
    rebound.diffc_write_back_of = first
    branch = gast.If(test=A.name(flag), body=[rebound], orelse=[check, store])
    return [A.located(test, write), A.located(branch, write)]


def _tuple_of_its_own(fn, container):
    """Whether a tuple container may be rebound to take an item back: it is a parameter
    never rebound (the caller takes the new tuple back: transform/callee_writes.py), or each
    of its bindings is a display of names used nowhere else (no other name holds its
    items, which a new tuple would leave behind)."""
    bindings = [s for s in A.walk_statements(fn.body) if isinstance(s, (gast.Assign, gast.For))
                and not getattr(s, "diffc_augmented", False) and getattr(s, "diffc_write_back_of", None) is None
                and container in A.names_stored(s.target if isinstance(s, gast.For) else s.targets[0])]
    if container in fn.params:
        return not bindings
    if not bindings or not all(isinstance(s, gast.Assign) and isinstance(s.value, gast.Tuple) for s in bindings):
        return False
    items = [e.id for s in bindings for e in s.value.elts if isinstance(e, gast.Name)]
    if len(items) != sum(len(s.value.elts) for s in bindings):
        return False
    loads = {}
    for node in A.walk(gast.Module(body=fn.body, type_ignores=[])):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load):
            loads[node.id] = loads.get(node.id, 0) + 1
    return all(loads.get(name, 0) == 1 for name in items)


def _names_of(origin):
    """The names whose rebinding would change what origin (``t = c[index]``) took."""
    return A.names_loaded(origin.value.slice) | {origin.value.value.id, origin.targets[0].id}


def _taken_from(body, name):
    """name's only binding, when it is ``name = container[index]`` with an item index."""
    bindings = _bindings(body, name)
    if len(bindings) != 1:
        return None
    value = bindings[0].value
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and _item_index(value.slice):
        return bindings[0]
    return None


def index_expression(index):
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[A.deepcopy(e) for e in index.elts], ctx=gast.Load())
    return A.deepcopy(index)


def _certainly_array(fn, name):
    if fn.kinds.get(name) in (K.ARRAY, K.VECTOR):
        return True
    bindings = _bindings(fn.body, name)
    return bool(bindings) and name not in fn.params and all(
        isinstance(s.value, gast.Call) and _numpy_creation(s.value) for s in bindings)


def certainly_item_assignable(fn, name):
    """name is certainly a list, a dict or an array: every binding of it is a display, a
    list()/dict() call or a NumPy creation, or its kind is an array."""
    if fn.kinds.get(name) in (K.ARRAY, K.VECTOR):
        return True
    bindings = _bindings(fn.body, name)
    if not bindings or name in fn.params:
        return False
    return all(_makes_mutable_container(fn, s.value) for s in bindings)


def certainly_list(fn, name):
    """name is certainly a list: not a parameter, bound only by assignments of list displays,
    comprehensions or list() calls (y[a:b] is then a new list holding y's items)."""
    if getattr(fn, "body", None) is None:
        return False                    # a callee seen from its caller (reverse._CalleeView)
    bindings = _bindings(fn.body, name)
    if not bindings or name in fn.params or any(
            isinstance(s, gast.For) and name in A.names_stored(s.target) for s in A.walk_statements(fn.body)):
        return False
    return all(isinstance(s.value, (gast.List, gast.ListComp)) or isinstance(s.value, gast.Call)
               and getattr(s.value.func, "diffc_global", None) is builtins.list for s in bindings)


def items_written_in_place(fn):
    """{_seq name: y} for each ``_seq = as_sequence(y)`` whose item, bound to a loop
    variable, the loop body writes in place (``row[:] = v``, ``p *= c``, ``b.append(v)``)."""
    taken = {}                                   # item name -> _seq it was read from
    sequences = {}
    for s in A.walk_statements(fn.body):
        if not (isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)):
            continue
        value = s.value
        if _iterates(value) and s.targets[0].id.startswith("_seq"):
            sequences[s.targets[0].id] = value.args[0].id
        elif isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
                and value.value.id in sequences and _item_index(value.slice):
            taken[s.targets[0].id] = value.value.id
        elif isinstance(value, gast.Name) and value.id in taken:
            taken[s.targets[0].id] = taken[value.id]
    out = {}
    for name in _written_in_place(fn):
        if name in taken:
            out[taken[name]] = sequences[taken[name]]
    return out


def _written_in_place(fn):
    return set().union(*(_written_in_place_by(s) for s in A.walk_statements(fn.body)))


def _iterates(value):
    return isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.as_sequence \
        and len(value.args) == 1 and isinstance(value.args[0], gast.Name) \
        and not hasattr(value.args[0], "diffc_global")


def _item_index(index):
    """An index naming one item: names, ints and strings (a tuple of them for arrays)."""
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return all(isinstance(p, gast.Name) or isinstance(p, gast.Constant) and type(p.value) in (int, str)
               for p in parts)


def _bindings(body, name):
    return [s for s in A.walk_statements(body)
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name]


def _makes_mutable_container(fn, value):
    if isinstance(value, (gast.List, gast.Dict, gast.ListComp, gast.DictComp)):
        return True
    if not isinstance(value, gast.Call):
        return False
    return getattr(value.func, "diffc_global", None) in (builtins.list, builtins.dict) or _numpy_creation(value)


def _numpy_creation(call):
    import numpy as np
    func = getattr(call.func, "diffc_global", None)
    return any(func is getattr(np, n, None) for n in _CREATORS)


def _bound_once_as(body, name, source):
    """name's only binding in body is ``name = source``, apart from its updates in place
    (``name op= v``, which keep the object when it is an array or a list; when it is a
    number, sweep runs the write-back only if it was updated in place)."""
    bindings = [s for s in A.walk_statements(body)
                if isinstance(s, gast.Assign) and name in A.names_stored(s.targets[0])
                and not getattr(s, "diffc_augmented", False)]
    bindings += [s for s in A.walk_statements(body) if isinstance(s, gast.For) and name in A.names_stored(s.target)]
    return len(bindings) == 1 and isinstance(bindings[0], gast.Assign) \
        and isinstance(bindings[0].targets[0], gast.Name) \
        and isinstance(bindings[0].value, gast.Name) and bindings[0].value.id == source


def _unchanged_between(body, origin, write, names):
    """No statement between origin and write binds any of names: origin is in a block, and
    write is a later statement of that block or inside one (whose whole body is checked,
    since a loop around the write runs it again)."""
    block = _block_of(body, origin)
    if block is None:
        return False
    start = next(i for i, s in enumerate(block) if s is origin)
    for s in block[start + 1:]:
        inside = any(x is write for x in A.walk_statements([s]))
        for x in A.walk_statements([s]):
            stored = A.names_stored(x.target) if isinstance(x, gast.For) else \
                set().union(*(A.names_stored(t) for t in x.targets)) if isinstance(x, gast.Assign) else set()
            if stored & names and x is not write:
                return False
        if inside:
            return True
    return False


def unchanged_between(body, origin, write, names):
    """Whether write follows origin in origin's block (or inside a later statement of it)
    with no statement between binding any of names (sweep.py: a view's index)."""
    return _unchanged_between(body, origin, write, names)


def _block_of(stmts, stmt):
    """The statement list (of stmts or a nested block) that contains stmt itself."""
    if any(s is stmt for s in stmts):
        return stmts
    for s in stmts:
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                found = _block_of(inner, stmt)
                if found is not None:
                    return found
    return None
