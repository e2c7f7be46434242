"""aliases: which names share an array at each point, and which writes another name sees.

Input: an ANF function body (assignments with one operation, `if`/`for`/`while`
with atom tests, expression statements, a final `return`), and a callback
``alias_sources(value) -> {name: relation}`` naming the locals whose objects
the right side shares, and how:

* ``SAME``: the same memory (``y``, a view ``y[1:]``, ``y.T``, ``np.reshape(y, s)``,
  a helper returning its argument): a write into either is seen by the other;
* ``PART``: one element of y (``y[i]``: a row view of an array, or an object
  held by a list): a write into it is seen by y, and a write into y is seen
  by it only when y is an array (known when it runs: `Report.observed` marks
  such writes ``maybe``);
* ``MAYBE``: the right side may be y, a view of it, or fresh, known only when it
  runs (the result of a function value diffc cannot see at compile time): writes
  either way are marked ``maybe``, like a PART's into its container;
* ``ITEMS``: the right side holds y's items (``list(y)``, ``tuple(y)``, ``zip(y, z)``): a
  write into an item is seen through it, a write into y itself only when y is an
  array (its rows are views of it: marked ``maybe``);
* ``HOLDS``: the right side holds y (``[y, z]``, ``{"w": y}``): a write into y
  is seen through it, a write into the container (append, item assignment)
  is not seen by y.
* ``TAKEN``: the right side is an item taken out of y (``y.pop()``): it may be any
  object y held, so a write into it is seen by the names holding or sharing those
  objects (``maybe``), not by y, which no longer holds it.

Fresh values and reads of one number give an empty dict.
Output: `AliasReport` with

* ``observed``: for every in-place write (``y[i] = v``, ``y.append(v)``) the
  names that would see it at that point *and are read afterwards* before
  being rebound, as ``(observer, written, origin statement, maybe)``.  A name absent from this
  map may be copied instead of aliased without changing any value the
  program reads;
* ``bases``: for every alias definition ``t = <view of y>``, the name y, so
  the adjoint, which reads ``t`` where the primal did, can ask for ``y`` to be
  restored as well (a view reads the restored contents).

The analysis follows the flow of the program (a forward may-alias dataflow
and a backward liveness, both to a fixpoint over loops), so a name rebound to
a fresh array (`new = u.copy()` in double buffering) stops sharing, and a
read at the end of a loop body does not keep a name live past the next
definition.
"""

import gast

from .. import ast_util as A


SAME, PART, HOLDS, MAYBE, ITEMS, TAKEN = "same", "part", "holds", "maybe", "items", "taken"


class AliasReport:
    def __init__(self):
        self.observed = {}       # id(write stmt) -> [(observer, written, origin, maybe)]
        self.bases = {}          # name -> names whose memory it may view (SAME or PART)
        self.related = {}        # name -> every name whose object it may share or hold
        self.returned_entry = None   # the `entry` names whose objects the final return may share


def analyze(body, alias_sources, mutating_methods, updates_in_place=lambda stmt: False, entry=()):
    """The `AliasReport` of an ANF body (see module docstring).

    updates_in_place(stmt): whether `x = x op v` (from `x op= v`) updates x's
    object in place, as Python does for arrays and lists; or, for `new = old op v`
    from `c[k] op= v` (``diffc_item_update``), whether the item old is such an object
    (then the statement writes into old, and new is old).
    entry: parameter names whose objects *at entry* are followed through the flow;
    `report.returned_entry` then names those the value of a final ``return r``
    may share, hold or be part of.  A parameter rebound to a fresh value
    (``u = u.copy()``) no longer carries its entry object, which ``related``
    (flow-insensitive, by name) cannot tell.  Only for that question: the
    report's other fields then mention the entry objects' internal names."""
    live_after = _liveness(body)
    report = AliasReport()
    flow = _Flow(alias_sources, mutating_methods, live_after, report)
    flow.updates_in_place = updates_in_place
    state = {}
    for name in entry:
        state[(_entry(name), name)] = state[(name, _entry(name))] = (None, False)
    if entry:
        report.returned_entry = set()
    flow.block(body, state)
    return report


def _entry(name):
    """The internal name of a parameter's object at entry (not an identifier: never a local)."""
    return "<entry " + name + ">"


# ------------------------------------------------------------- liveness

def _uses(stmt):
    """Names an atomic statement reads (for a subscript write: the container, index, value)."""
    if isinstance(stmt, (gast.If, gast.While)):
        return A.names_loaded(stmt.test)
    if isinstance(stmt, gast.For):
        return A.names_loaded(stmt.iter)
    return A.names_loaded(stmt)


def _defs(stmt):
    if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
        return {stmt.targets[0].id}
    return set()


def _liveness(body):
    """id(statement) -> names live right after it (at the fixpoint of every loop)."""
    live_after = {}

    def block(stmts, out):
        live = set(out)
        for s in reversed(stmts):
            live_after[id(s)] = set(live)
            live = statement(s, live)
        return live

    def statement(s, out):
        if isinstance(s, gast.If):
            return _uses(s) | block(s.body, out) | block(s.orelse, out)
        if isinstance(s, (gast.For, gast.While)):
            target = {s.target.id} if isinstance(s, gast.For) and isinstance(s.target, gast.Name) else set()
            head = set(out)
            while True:
                entry = block(s.body, head | _uses(s)) - target
                new = head | entry | _uses(s)
                if new == head:
                    break
                head = new
            return head
        return (out - _defs(s)) | _uses(s)

    block(body, set())
    return live_after


# ------------------------------------------------------------- aliasing

class _Flow:
    """Forward may-alias dataflow.

    A state maps a directed edge (a, b), "a write into a is seen through b", to
    (the statement where the sharing started, maybe): maybe when b sees it only
    if the container turns out to be an array (PART)."""

    def __init__(self, alias_sources, mutating_methods, live_after, report):
        self.alias_sources = alias_sources
        self.mutating = mutating_methods
        self.live_after = live_after
        self.report = report

    def block(self, stmts, state):
        for s in stmts:
            state = self.statement(s, state)
        return state

    def statement(self, s, state):
        if isinstance(s, gast.If):
            return _union(self.block(s.body, dict(state)), self.block(s.orelse, dict(state)))
        if isinstance(s, (gast.For, gast.While)):
            head = dict(state)
            while True:
                inner = dict(head)
                if isinstance(s, gast.For) and isinstance(s.target, gast.Name):
                    inner = _kill(inner, s.target.id)
                end = self.block(s.body, inner)
                new = _union(head, end)
                if new.keys() == head.keys():
                    return new
                head = new
        if isinstance(s, gast.Assign) and isinstance(s.value, gast.Call):
            for obj, _ in getattr(s.value, "diffc_writes_held", ()):
                self.write_held(s, obj, state)
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            changed = _method_receiver(s.value, self.mutating)
            if changed is not None:
                self.write(s, changed, state)           # `last = b.pop()` changes b in place
            item = getattr(s, "diffc_item_update", None)
            if item is not None and self.updates_in_place(s):
                # new = old op v from `c[k] op= v`: Python updates the item old in place
                state = _kill(state, s.targets[0].id)       # (new's last value is gone)
                self.write(s, item[1], state, maybe=True)   # (in place only if old is an array)
                return self.bind(s, s.targets[0].id, gast.Name(id=item[1], ctx=gast.Load(),
                                                               annotation=None, type_comment=None), state)
            if self.updates_in_place(s):
                self.write(s, s.targets[0].id, state)
                if getattr(s, "diffc_items_updated", False):
                    self.write_items(s, s.targets[0].id, state)
                return state
            return self.bind(s, s.targets[0].id, s.value, state)
        if isinstance(s, gast.Return) and isinstance(s.value, gast.Name) \
                and self.report.returned_entry is not None:
            # (a local function returned as a value holds what it captures)
            returned = {s.value.id} | set(self.alias_sources(s.value))
            for a, b in state:
                for name, other in ((a, b), (b, a)):
                    if name in returned and other.startswith("<entry "):
                        self.report.returned_entry.add(other[len("<entry "):-1])
        written = _written_name(s, self.mutating)
        if written is not None:
            self.write(s, written, state)
            held = _held_name(s)
            if held is not None and held != written:
                state = self.relate(s, written, held, HOLDS, state)     # lst.append(y): lst holds y
            maybe = getattr(s, "diffc_item_held", None)
            if maybe is not None and s.value.id != written:
                # c[k] = y into a list or dict (transform/held_items.py): c holds y; into a
                # container of unknown kind only if it is not a numeric array (maybe)
                before = state
                state = self.relate(s, written, s.value.id, HOLDS, state)
                if maybe:
                    state = {e: (i[0], True) if e not in before else i for e, i in state.items()}
        return state

    def bind(self, s, target, value, state):
        sources = dict(self.alias_sources(value))
        if target in sources:
            # t = t[1:]: still a view of what t shared; `self = with_attributes(self, d)`:
            # also holds what d holds
            for source, relation in sources.items():
                if source != target:
                    state = self.relate(s, target, source, relation, state)
            return state
        state = _kill(state, target)
        for source, relation in sources.items():
            state = self.relate(s, target, source, relation, state)
        return state

    def relate(self, s, target, source, relation, state):
        """target now relates to source as `relation` (and to what source relates to)."""
        state = dict(state)
        related = self.report.related.setdefault(target, set())
        related.add(source)
        related |= self.report.related.get(source, set())
        if relation in (SAME, PART, MAYBE):
            self.report.bases.setdefault(target, set()).add(source)
        added = {}
        if relation == MAYBE:
            added[(target, source)] = added[(source, target)] = (s, True)
            for (a, b), info in state.items():
                if a == source and b != target:
                    added.setdefault((target, b), (info[0], True))
                if b == source and a != target:
                    added.setdefault((a, target), (info[0], True))
                    # the result may be what source holds (`f(n)` returning `n.b`, through the
                    # arguments' tuple): a write into it is seen by a
                    added.setdefault((target, a), (s, True))
        elif relation == ITEMS:
            added[(source, target)] = (s, True)
            for (a, b), info in state.items():
                if b == source and a != target:
                    added.setdefault((a, target), info)
        elif relation == SAME:
            added[(target, source)] = added[(source, target)] = (s, False)
            for (a, b), info in state.items():
                if a == source and b != target:
                    added.setdefault((target, b), info)
                if b == source and a != target:
                    added.setdefault((a, target), info)
                    if a not in (target, source):
                        self.report.bases[target].add(a)
        elif relation == PART:
            added[(target, source)] = (s, False)
            added[(source, target)] = (s, True)
            for (a, b), info in state.items():
                if a == source and b != target:
                    added.setdefault((target, b), info)
                if b == source and a != target:
                    added.setdefault((a, target), (info[0], True))
                    # the item may be a's own object (a name the container holds: `lst = (y1,
                    # y0); p = lst[0]; p += ...` writes into y1), seen when it runs; and a read of
                    # the item reads a's memory (the adjoint needs a's in-place writes undone)
                    _may_be(added, self.report, s, target, a, state, source)
        elif relation == TAKEN:
            for (a, b), info in state.items():
                if b == source and a != target:
                    added.setdefault((a, target), (info[0], True))
                    _may_be(added, self.report, s, target, a, state, source)
        else:                               # target holds source
            added[(source, target)] = (s, False)
            for (a, b), info in state.items():
                if b == source and a != target:
                    added.setdefault((a, target), info)
        for edge, info in added.items():
            state.setdefault(edge, info)
        return state

    def write_held(self, s, obj, state):
        """s may change in place the values obj's attributes hold (``diffc_writes_held``: a
        method doing ``self.pos += v``, in place when pos is an array): seen by every name
        holding such a value or viewing obj's (``pos`` given to obj's constructor, ``snap =
        obj.pos``), reported as maybe (whether they share is known when it runs)."""
        live = self.live_after.get(id(s), set())
        held = {a for (a, b) in state if b == obj}
        seen = {}
        for (a, b), (origin, _) in state.items():
            if (a == obj or a in held) and b != obj:
                seen.setdefault(b, origin)
        for h in held:
            seen.setdefault(h, s)
        rebound = A.names_stored(s.targets[0]) if isinstance(s, gast.Assign) else set()
        found = [(b, obj, origin, True) for b, origin in seen.items()
                 if b in live and b != obj and b not in rebound]
        if found:
            self.report.observed.setdefault(id(s), []).extend(found)

    def write_items(self, s, obj, state):
        """s updates in place the objects container obj holds (a callee writing into the items
        of its argument, transform/callee_writes.py's ``diffc_items_updated``): seen by the
        live names obj holds (``pos`` after ``state = [pos, vel]``), as Python shows them."""
        live = self.live_after.get(id(s), set())
        # (not `maybe`: a run-time check looks for the written object inside the observer,
        # here the observer is inside the written container)
        found = {a: (a, obj, origin, False) for (a, b), (origin, m) in state.items()
                 if b == obj and a != obj and a in live and _stores_name(origin, a)}
        if found:
            kept = [o for o in self.report.observed.get(id(s), ()) if o[0] not in found]
            self.report.observed[id(s)] = kept + list(found.values())

    def write(self, s, y, state, maybe=False):
        live = self.live_after.get(id(s), set())
        seen = [(b, y, origin, maybe or m) for (a, b), (origin, m) in state.items() if a == y and b in live]
        if seen:
            self.report.observed[id(s)] = seen


def _stores_name(origin, name):
    """origin puts the object of name into a container (a display holding it, ``c.append(name)``,
    ``c[k] = name``): the container holds it."""
    value = getattr(origin, "value", None)
    if isinstance(origin, gast.Assign) and isinstance(value, (gast.List, gast.Tuple, gast.Set, gast.Dict)):
        items = value.values if isinstance(value, gast.Dict) else value.elts
        return any(isinstance(e, gast.Name) and e.id == name for e in items)
    if isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Subscript):
        return isinstance(value, gast.Name) and value.id == name
    if isinstance(origin, gast.Expr) and isinstance(value, gast.Call):
        return any(isinstance(a, gast.Name) and a.id == name for a in value.args)
    return False


def _may_be(added, report, s, target, a, state, container):
    """target may be the object a (an item of container): a write into target is seen by
    a and by what holds or shares a (`cell = Cell(y0)` after `stack.append(y0)`: `y =
    stack.pop(); y[1] = v` changes cell.h), known when it runs; a read of target reads a's
    memory (the adjoint needs a's in-place writes undone)."""
    added.setdefault((target, a), (s, True))
    report.bases.setdefault(target, set()).add(a)
    for (c, d), _ in state.items():
        if c == a and d not in (target, container):
            added.setdefault((target, d), (s, True))


def _kill(state, name):
    return {edge: info for edge, info in state.items() if name not in edge}


def _union(a, b):
    out = dict(a)
    for edge, info in b.items():
        if edge in out and out[edge][1] and not info[1]:
            out[edge] = info                # certainly seen on one path: not maybe
        else:
            out.setdefault(edge, info)
    return out


def _held_name(s):
    """y in `lst.append(y)` / `lst.insert(i, y)`: the container holds the object itself."""
    if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
            and isinstance(s.value.func, gast.Attribute) and s.value.func.attr in ("append", "insert") \
            and s.value.args and isinstance(s.value.args[-1], gast.Name) \
            and not hasattr(s.value.args[-1], "diffc_global"):
        return s.value.args[-1].id
    return None


def _written_name(s, mutating):
    """The name an atomic statement writes into in place, else None."""
    if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) \
            and isinstance(s.targets[0].value, gast.Name):
        return s.targets[0].value.id
    if isinstance(s, gast.Expr):
        return _method_receiver(s.value, mutating)
    return None


def _method_receiver(value, mutating):
    """y for a call `y.append(v)`, `y.pop()`... that changes the local y in place, else None."""
    if isinstance(value, gast.Call):
        func = value.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.attr in mutating:
            return func.value.id
    return None
