"""use_loop_tapes: a top-level loop records one tape entry per iteration.

Under the restore scheme (transform/reverse.py) a loop's forward body pushes
each value it is about to overwrite onto the shared ``_tape``, and the
adjoint body pops them back one by one; a ``while`` loop also counts its
iterations.  In a scalar loop those list calls are a large part of the
gradient's time (``newton``: two pushes, two pops, a counter and a
``range`` per iteration for about ten float operations).

Input: a generated FunctionDef holding both sweeps (a joint gradient), after
the optimizations that see the shared tape's pops, whose loops built by reverse.py carry a
``diffc_loop`` tag shared by the forward loop F and its adjoint loop R, and
whose marker-made pushes and pops carry ``diffc_tape_op``.

Output: the same function where every tagged pair with F and R both
statements of the function body (not nested in another statement) and
  * every marker push at the top level of F's body is ``_tape.append(e)``,
    every marker pop at the top level of R's body is one ``_tape.pop()``
    call, as many pops as pushes (the k-th push from the start pairs with
    the k-th pop from the end), and no other top-level statement of either
    body uses ``_tape`` except through calls (a split callee's own,
    balanced, entries) and no ``break``/``continue`` sits in either body;
  * R's loop variable, if R's body reads it, is not read after R;
is rewritten to ("store" scheme)::

    _tape3 = []
    for i in range(n):                  # or: while test:
        ...                             #   (no iteration counter)
        _tape3.append((a, b, i))        # one entry: what the pops would return
        ...
    for a, b, i in reversed(_tape3):    # R's body without its pops
        ...

Each element of the entry holds exactly the value its pop would have
returned, taken where the push was (or later, if the pushed names are not
rebound in between; else copied to a fresh local at the push).  The
adjoint unpacks an element straight into the names its pop assigned when
R's body neither reads nor assigns them before that pop (so their earlier
value is never observed); otherwise into a fresh local that replaces the
pop call.  One more case, the first-definition batch of reverse.py (pushed
as the body's first statement and popped as the adjoint body's last): the
names are stored with their values at the end of the iteration instead,
which is what R's body reads while the pop is pending, and unpacked at the
top of R's body; this needs R's body not to assign them otherwise and
nothing after R to read them (they no longer end up restored to their
values before the loop).

Floats that are one arithmetic operation on the entry's other values and
loop invariants are recomputed at the top of the adjoint body rather than
stored (`_rematerialize`).  An adjoint loop left with nothing but its pops
becomes ``if _tape3: targets = _tape3[0]`` (what the loop would leave behind).
A ``while`` loop's trip count then is the tape's length: its counter is
dropped when nothing else reads it.  Entries are popped by nothing, so the
tape's memory is released when the function returns rather than during
the adjoint loop.  Loops nested in other statements keep the shared tape:
their own tape would be created once per outer iteration.
"""

import builtins

import gast

from .. import ast_util as A
from ..naming import Namer, identifiers

TAPE = "_tape"


def use_loop_tapes(fn):
    namer = Namer(identifiers(fn))
    forward = {}
    for s in fn.body:
        if _tagged(s, (gast.For, gast.While)):
            forward.setdefault(s.diffc_loop, s)     # the forward loop comes first
    pairs = [(forward[s.diffc_loop], s) for s in fn.body
             if _tagged(s, (gast.For,)) and forward.get(s.diffc_loop, s) is not s]
    changed = False
    for fwd, adj in pairs:
        f_index, r_index = _index(fn.body, fwd), _index(fn.body, adj)
        if f_index > r_index:
            continue
        plan = _plan(fn.body, f_index, r_index)
        if plan is not None:
            _rewrite(fn.body, f_index, r_index, plan, namer)
            changed = True
    if changed:
        _drop_unused_counters(fn)
        _drop_unused_tape(fn)
    return fn


def _index(stmts, stmt):
    return next(i for i, s in enumerate(stmts) if s is stmt)


def _tagged(stmt, types):
    return isinstance(stmt, types) and hasattr(stmt, "diffc_loop")


# ------------------------------------------------------------ analysis

def _is_tape(node):
    return isinstance(node, gast.Name) and node.id == TAPE


def _tape_method(node, method):
    return isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
        and _is_tape(node.func.value) and node.func.attr == method


def _push_value(stmt):
    """e if stmt is a marker push `_tape.append(e)`, else None."""
    if isinstance(stmt, gast.Expr) and _tape_method(stmt.value, "append") \
            and getattr(stmt, "diffc_tape_op", False) and len(stmt.value.args) == 1:
        return stmt.value.args[0]
    return None


def _pop_calls(stmt):
    return [n for n in A.walk(stmt) if _tape_method(n, "pop")]


def _tape_uses_ok(stmt, own):
    """Besides `own` (its marker push/pop), stmt uses `_tape` only as a call argument."""
    args = {id(a) for n in A.walk(stmt) if isinstance(n, gast.Call) for a in n.args if _is_tape(a)}
    for n in A.walk(stmt):
        if _is_tape(n) and id(n) not in args and n not in own:
            return False
    return True


def _names_of(target):
    """['a'] for `a`, ['a', 'b'] for `a, b`; None for anything else."""
    if isinstance(target, gast.Name):
        return [target.id]
    if isinstance(target, gast.Tuple) and all(isinstance(e, gast.Name) for e in target.elts):
        return [e.id for e in target.elts]
    return None


def _stored(stmts):
    out = set()
    for s in stmts:
        out |= A.names_stored(s)
    return out


def _loaded(stmts):
    out = set()
    for s in stmts:
        out |= A.names_loaded(s)
    return out


class _Element:
    """One pushed value: where it is taken (F side) and where it goes (R side)."""

    def __init__(self, value, position, pop_stmt, pop_call):
        self.value = value            # the pushed expression
        self.position = position      # index of its push in F's body
        self.pop_stmt = pop_stmt      # the top-level statement of R holding the pop
        self.pop_call = pop_call
        self.at_end = False           # a batch stored with its end-of-iteration values
        self.targets = None           # names the header unpacks into (else a fresh local)


def _compound(stmt):
    return isinstance(stmt, (gast.If, gast.For, gast.While))


def _plan(body, f_index, r_index):
    """The entry's elements for the pair at f_index/r_index, or None to leave it alone."""
    fwd, adj = body[f_index], body[r_index]
    for loop in (fwd, adj):
        if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in loop.body for n in A.walk(s)):
            return None
    # Compound statements keep their own pushes and pops on the shared tape: they are
    # balanced within one iteration.  Only simple statements are looked at.
    pushes = [(i, _push_value(s)) for i, s in enumerate(fwd.body) if _push_value(s) is not None]
    pops = []
    for s in adj.body:
        if _compound(s):
            continue
        calls = _pop_calls(s)
        if len(calls) > 1 or any(not getattr(c, "diffc_tape_op", False) for c in calls):
            return None
        if calls:
            pops.append((s, calls[0]))
    if not pushes or len(pushes) != len(pops):
        return None
    for s in fwd.body:
        if _compound(s):
            continue
        own = [s.value.func.value] if _push_value(s) is not None else []
        if _pop_calls(s) or not _tape_uses_ok(s, own):
            return None
    for s in adj.body:
        if _compound(s):
            continue
        if any(_tape_method(n, "append") for n in A.walk(s)) \
                or not _tape_uses_ok(s, [c.func.value for c in _pop_calls(s)]):
            return None
    elements = [_Element(v, i, s, c) for (i, v), (s, c) in zip(pushes, reversed(pops))]
    read_after = _loaded(body[r_index + 1:])
    loop_var = adj.target.id if isinstance(adj.target, gast.Name) else None
    if isinstance(fwd, gast.For):
        # R's loop variable is no longer assigned by R's header.
        if loop_var is None or loop_var in read_after:
            return None
    for e in elements:
        _choose_targets(e, fwd, adj, read_after)
    if isinstance(fwd, gast.For) and loop_var in _loaded(adj.body):
        var = _Element(A.name(loop_var), 0, None, None)
        var.targets = [loop_var]
        elements.append(var)
    header = [n for e in elements if e.targets for n in e.targets]
    if len(header) != len(set(header)):
        for e in elements:
            if e.targets and e.pop_stmt is not None and not e.at_end:
                e.targets = None
        header = [n for e in elements if e.targets for n in e.targets]
        if len(header) != len(set(header)):
            return None
    return elements


def _choose_targets(e, fwd, adj, read_after):
    """Decide whether e's pop can become part of R's header (see module docstring)."""
    stmt = e.pop_stmt
    assign = isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and stmt.value is e.pop_call
    names = _names_of(stmt.targets[0]) if assign else None
    if names is None:
        return
    before = adj.body[:_index(adj.body, stmt)]
    if not (set(names) & (_loaded(before) | _stored(before))):
        e.targets = names
        return
    loop_targets = _stored([fwd.target]) if isinstance(fwd, gast.For) else set()
    if e.position == 0 and stmt is adj.body[-1] and _names_of(e.value) == names \
            and set(names) <= _stored(fwd.body[1:]) \
            and not set(names) & (_stored(adj.body[:-1]) | read_after | loop_targets):
        e.at_end = True
        e.targets = names


# ------------------------------------------------------------ rewrite

def _rewrite(body, f_index, r_index, elements, namer):
    fwd, adj = body[f_index], body[r_index]
    tape = namer.fresh("_tape")
    pushed = [e for e in elements if e.pop_stmt is not None]
    last_push = max(e.position for e in pushed)
    # The entry is appended where the last push was, unless values stored at the end of
    # the iteration are rebound after that point.
    end_names = {n for e in elements if e.at_end for n in e.targets}
    place = last_push if not end_names & _stored(fwd.body[last_push:]) else len(fwd.body)
    if isinstance(fwd, gast.While) and place == len(fwd.body):
        place = _before_counter(fwd)
    old = fwd.body
    recomputed = _rematerialize(body, f_index, r_index, elements, place)
    new = []
    for e in elements:
        if e.pop_stmt is None:          # R's loop variable: its value when the iteration starts
            e.value = _taken(e.value, old, 0, place, new, namer)
    # Located like the statement it goes before, so no stray line comment appears.
    origin = old[place] if place < len(old) else old[-1]
    entry = A.located(A.expr_stmt(A.method_call(A.name(tape), "append", [A.const(None)])), origin)
    entry.diffc_tape_op = True
    for i, stmt in enumerate(old):
        if i == place:
            new.append(entry)
        mine = [e for e in pushed if e.position == i]
        if not mine:
            new.append(stmt)
        elif not mine[0].at_end and mine[0].targets != []:
            mine[0].value = _taken(mine[0].value, old, i, place, new, namer)
    if place == len(old):
        new.append(entry)
    fwd.body = new
    entry.value.args = [_entry_value(elements)]
    header = []
    for e in elements:
        if e.targets == []:             # every value recomputed
            adj.body.remove(e.pop_stmt)
        elif e.targets:
            stores = [A.store(n) for n in e.targets]
            if len(stores) == 1 or _flat(e):
                header.extend(stores)
            else:
                header.append(gast.Tuple(elts=stores, ctx=gast.Store()))
            if e.pop_stmt is not None:
                adj.body.remove(e.pop_stmt)
        else:
            local = namer.fresh("_saved")
            header.append(A.store(local))
            _replace_node(e.pop_stmt, e.pop_call, A.name(local))
            # The pop made the statement impure; it still must run (e.g. `u[1:3] = _saved3`
            # restores what views of u read), whatever dead-code elimination sees.
            if not (isinstance(e.pop_stmt, gast.Assign) and _names_of(e.pop_stmt.targets[0])):
                e.pop_stmt.diffc_keep = True
    adj.body[:0] = _recomputations(recomputed, adj, body[r_index + 1:], namer)
    adj.target = header[0] if len(header) == 1 else gast.Tuple(elts=header, ctx=gast.Store())
    adj.iter = A.call(A.global_ref(builtins.reversed, "reversed"), [A.name(tape)])
    if not adj.body:
        # Nothing left to do per iteration but restore: the values the first iteration
        # saved are the ones the loop would leave behind.
        first = gast.Subscript(value=A.name(tape), slice=A.const(0), ctx=gast.Load())
        restore = A.located(gast.Assign(targets=[adj.target], value=first, type_comment=None), adj)
        body[r_index] = A.located(gast.If(test=A.name(tape), body=[restore], orelse=[]), adj)
    body.insert(f_index, A.located(A.assign(tape, gast.List(elts=[], ctx=gast.Load())), fwd))
    _drop_dead_inits(body, fwd, adj, [n for e in elements if e.at_end for n in e.targets]
                     + [n for n, _ in recomputed])


def _drop_dead_inits(body, fwd, adj, names):
    """Remove `n = None` for values stored at the end of the iteration: reverse.py set
    them so the first iteration's push had something to save; nothing reads them now
    if the loop assigns them before reading them and no other statement reads them."""
    for n in names:
        outside = [s for s in body if s is not fwd and s is not adj]
        if n in _loaded(outside) or n in _loaded([fwd.iter if isinstance(fwd, gast.For) else fwd.test]):
            continue
        first = next((s for s in A.walk_statements(fwd.body) if n in A.names_loaded(s) | A.names_stored(s)), None)
        if not (isinstance(first, gast.Assign) and _names_of(first.targets[0]) == [n]
                and n not in A.names_loaded(first.value)):
            continue
        body[:] = [s for s in body if not (isinstance(s, gast.Assign) and _names_of(s.targets[0]) == [n]
                                           and isinstance(s.value, gast.Constant) and s.value.value is None)]


def _taken(value, stmts, position, place, out, namer):
    """`value` as evaluated before stmts[position], to be read before stmts[place]: the
    expression itself when nothing in between can change it, else a fresh local
    assigned (appended to `out`) at `position`."""
    names = _names_of(value)
    if position == place or (names is not None and not set(names) & _stored(stmts[position:place])):
        return value
    local = namer.fresh("_saved")
    out.append(A.located(A.assign(local, value), stmts[position]))
    return A.name(local)


def _flat(e):
    """A pushed tuple display unpacked by the header goes into the entry element by element."""
    return e.targets is not None and len(e.targets) > 1 and isinstance(e.value, gast.Tuple) \
        and len(e.value.elts) == len(e.targets)


def _entry_value(elements):
    """The appended tuple; a pushed tuple of names unpacked by the header is flattened."""
    parts = []
    for e in elements:
        if e.targets == []:
            continue
        if _flat(e):
            parts.extend(e.value.elts)
        else:
            parts.append(e.value)
    return parts[0] if len(parts) == 1 else gast.Tuple(elts=parts, ctx=gast.Load())


_CHEAP = (gast.Add, gast.Sub, gast.Mult, gast.Div)


def _rematerialize(body, f_index, r_index, elements, place):
    """[(n, e)]: taped floats the adjoint recomputes from the entry instead.

    A name n the header would unpack goes out of the entry when its only
    definition in F's body is a top-level ``n = a op b`` (one arithmetic
    operation, reverse.py tagged n a float) whose operands are constants,
    names the loop and the code up to R never bind, or names the header
    unpacks with the value they had at that definition (not other recomputed
    names: chains of recomputations measured slower than one more slot).  R's body then starts with ``n = a op b``: for a float one
    operation costs about what a slot of the entry does, and with the entry
    smaller the forward sweep's temporaries are used once and fold back into
    one expression (forward_substitute), as in the primal.  Elements emptied
    this way keep their pop's removal; at least one value stays taped."""
    fwd, adj = body[f_index], body[r_index]
    invariant_blockers = _stored(body[f_index:r_index + 1])
    nested = set()
    for s in fwd.body:
        if _compound(s):
            nested |= _stored([s])
    header = {}                      # name -> (element, index of its value in F's body)
    for e in elements:
        if not e.targets or e.pop_stmt is None or not (len(e.targets) == 1 or _flat(e)):
            continue
        for n in e.targets:
            header[n] = (e, place if e.at_end else e.position)
    definitions = {}
    for k, s in enumerate(fwd.body):
        for n in _stored([s]):
            definitions.setdefault(n, []).append(k)
    done, pinned, out = {}, set(), []
    for n, (e, point) in sorted(header.items(), key=lambda item: definitions.get(item[0], [0])[0]):
        ks = definitions.get(n, [])
        if len(ks) != 1 or n in nested:
            continue
        d = ks[0]
        stmt = fwd.body[d]
        if not (getattr(stmt, "diffc_scalar", False) and _plain_assign(stmt) and d < point):
            continue
        operands = _cheap_operands(stmt.value)
        if operands is None or n in pinned:
            continue
        uses = set()
        for m in operands:
            if m not in invariant_blockers:
                continue
            if m in header and m not in done and m not in nested and not (
                    set(definitions.get(m, [])) & set(range(min(d, header[m][1]), max(d, header[m][1])))):
                uses.add(m)
                continue
            break
        else:
            if sum(len(x.targets) for x in elements if x.targets) <= 1:
                break                # keep at least one value on the tape
            pinned |= uses
            done[n] = d
            e.targets = [t for t in e.targets if t != n]
            if isinstance(e.value, gast.Tuple):
                e.value.elts = [v for v in e.value.elts if not (isinstance(v, gast.Name) and v.id == n)]
            out.append((n, stmt.value))
    for e in elements:
        if e.targets and isinstance(e.value, gast.Tuple) and len(e.value.elts) == 1 and len(e.targets) == 1:
            e.value = e.value.elts[0]
    return out


def _recomputations(recomputed, adj, after, namer):
    """`n = a op b` for R's body.  A name R's body does not otherwise bind and nothing
    after R reads gets a name of its own in R, so that each side's temporary has a
    single definition and folds into its one use (forward_substitute)."""
    out, renames = [], {}
    read_after = _loaded(after)
    for n, value in recomputed:
        value = A.rename(A.deepcopy(value), dict(renames))
        if n not in _stored(adj.body) and n not in read_after:
            renames[n] = namer.fresh(n + "_")
        out.append(A.located(A.assign(renames.get(n, n), value), adj))
    if renames:
        adj.body = [A.rename(s, renames) for s in adj.body]
    return out


def _plain_assign(stmt):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name)


def _cheap_operands(expr):
    """Names read by a single arithmetic operation on names and constants, else None."""
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, _CHEAP):
        parts = [expr.left, expr.right]
    elif isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        parts = [expr.operand]
    else:
        return None
    if not all(isinstance(p, gast.Constant) or (isinstance(p, gast.Name) and not hasattr(p, "diffc_global"))
               for p in parts):
        return None
    return {p.id for p in parts if isinstance(p, gast.Name)}


def _before_counter(loop):
    count = getattr(loop, "diffc_trip_count", None)
    last = loop.body[-1] if loop.body else None
    if count is not None and isinstance(last, gast.Assign) and _names_of(last.targets[0]) == [count]:
        return len(loop.body) - 1
    return len(loop.body)


def _replace_node(tree, old, new):
    for node in A.walk(tree):
        for field in node._fields:
            value = getattr(node, field, None)
            if value is old:
                setattr(node, field, new)
                return
            if isinstance(value, list):
                for k, item in enumerate(value):
                    if item is old:
                        value[k] = new
                        return
    raise AssertionError("pop call not found")


def _drop_unused_counters(fn):
    for stmt in list(fn.body):
        count = getattr(stmt, "diffc_trip_count", None)
        if count is None or not isinstance(stmt, gast.While):
            continue
        uses = sum(1 for s in fn.body for n in A.walk(s) if isinstance(n, gast.Name) and n.id == count
                   and isinstance(n.ctx, gast.Load))
        last = stmt.body[-1]
        if uses == 1 and isinstance(last, gast.Assign) and _names_of(last.targets[0]) == [count]:
            stmt.body = stmt.body[:-1] or [gast.Pass()]
            fn.body = [s for s in fn.body if not (isinstance(s, gast.Assign)
                                                   and _names_of(s.targets[0]) == [count])]


def _drop_unused_tape(fn):
    if any(_is_tape(n) and isinstance(n.ctx, gast.Load) for s in fn.body for n in A.walk(s)):
        return
    fn.body = [s for s in fn.body if not (isinstance(s, gast.Assign) and _names_of(s.targets[0]) == [TAPE])]
