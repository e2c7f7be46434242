"""sweep: what the reverse and forward transforms share about the primal program.

`FunctionSweep` is the base of transform/reverse.py's ReverseFunction and
transform/forward.py's ForwardFunction.  It answers, for an ANF body, the
questions both modes must answer alike so that they accept the same programs
and compute the same primal values:

* kinds of atoms, callee return kinds, definition counts, names written in place;
* value semantics: which right sides must be copied because their target is
  written in place, and which writes another name would see in Python
  (analysis/aliases.py) -- those are refused (`check_aliasing`);
* library calls that write into an array (transform/library_mutations.py).

Input: the subclass sets ``module``, ``info``, ``params``, ``source``,
``body`` (its private copy of the ANF body), ``kinds`` and ``activity``.
Nothing here emits adjoint or tangent code.
"""

import builtins
import inspect
import itertools
import types

import gast

from .. import ast_util as A
from .. import effects, runtime, runtime_calls, runtime_checks
from .. import rules as R
from ..analysis import activity as activity_mod
from ..analysis import aliases as aliases_mod
from ..analysis import kinds as K
from ..analysis.calls import call_key, is_user_function
from ..errors import UnsupportedSyntax
from ..parse import MISSING, FunctionInfo
from . import handed_back, held_items, item_write_back, reshaped_views
from . import shared_objects as SF
from .dynamic_calls import has_packed_parameters
from .lazy_iterators import defines_functions, returns_lazy


def rt(fn):
    """A reference to a runtime helper."""
    return A.global_ref(fn, fn.__name__)


def index_value(index):
    """An index as an ordinary expression: `1:-1` becomes `slice(1, -1, None)`."""
    if isinstance(index, gast.Slice):
        parts = [index_value(p) if p is not None else A.const(None)
                 for p in (index.lower, index.upper, index.step)]
        return A.call(A.global_ref(builtins.slice, "slice"), parts)
    if isinstance(index, gast.Tuple):
        return gast.Tuple(elts=[index_value(e) for e in index.elts], ctx=gast.Load())
    return A.deepcopy(index)



class FunctionSweep:
    """Shared analyses of one function for the reverse and forward transforms."""

    views_allowed = True
    checked_views = frozenset()     # names kept as views for a run-time sharing check (check_aliasing)
    method_results_checked = frozenset()

    def fail(self, cls, msg, node, hint=None):
        raise cls(msg, node, self.source, hint=hint)

    def _atom_kind(self, atom):
        if isinstance(atom, gast.Constant):
            return K.kind_of_value(atom.value)
        if isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global"):
            return self.kinds.get(atom.id) or K.UNKNOWN
        return K.UNKNOWN

    def atom_kind(self, atom):
        """The kind of an atom (a constant or a local name) in this function, else UNKNOWN."""
        return self._atom_kind(atom)

    def _callee_kind(self, target, call, arg_kinds):
        """The kind a user function returns for these argument kinds (UNKNOWN if unsure)."""
        if not is_user_function(target) or R.adjoint_rule(target) is not None or R.is_nondiff(target):
            return K.UNKNOWN
        returned_kind = getattr(self.module, "returned_kind", None)
        if returned_kind is None or len(call.args) != len(arg_kinds) or call.keywords:
            return K.UNKNOWN
        return returned_kind(target, tuple(k or K.UNKNOWN for k in arg_kinds))

    def _count_defs(self):
        """How many definition sites each name has, and which are defined in loops."""
        self.def_count = {p: 1 for p in self.params}
        self.loop_defined = set()
        self.definition = {}            # name -> the value of its (last) definition

        def visit(stmts, in_loop):
            for s in stmts:
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
                    name = s.targets[0].id
                    self.def_count[name] = self.def_count.get(name, 0) + 1
                    self.definition[name] = s.value
                    if in_loop:
                        self.loop_defined.add(name)
                elif isinstance(s, gast.If):
                    visit(s.body, in_loop)
                    visit(s.orelse, in_loop)
                elif isinstance(s, (gast.For, gast.While)):
                    visit(s.body, True)
        visit(self.body, False)

    def holds_floats(self, name):
        """Whether name is bound once, to an array certainly of floats (kinds.makes_floats)."""
        if self.kinds.get(name) in (K.VECTOR, K.SCALARS):
            return True
        if self.def_count.get(name) != 1 or name not in self.definition:
            return False
        return K.makes_floats(self.definition[name], self.kinds, self.resolve_or_none)

    def resolve_or_none(self, node):
        found = self.info.resolve_static(node)
        return None if found is MISSING else found

    def _written_in_place(self):
        written = set()
        for s in A.walk_statements(self.body):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript):
                written.add(s.targets[0].value.id)
            elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
                func = s.value.func
                if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                        and func.attr in activity_mod.MUTATING_METHODS \
                        and func.value.id in self.info.local_names:
                    written.add(func.value.id)
        return written

    def _iterate_written_sequences_directly(self):
        """`for v in y` where the body writes into y: read y[k] itself, not an alias of y.

        desugar reads elements through `_seq = as_sequence(y)`, which for a list or
        an array is y itself; with two names for one object the adjoint would give
        reads and writes separate adjoints.  When y is known to be a list or array
        the alias is removed; otherwise `forward_value` refuses the program."""
        written = set()
        for s in A.walk_statements(self.body):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript):
                written.add(s.targets[0].value.id)
        # `for row in out: row[:] = v`: the write-back `out[k] = row` must land in out itself;
        # when out may be an iterator, `out = as_sequence(out)` (the same object for a list,
        # a tuple or an array) stays in place of the alias
        items_written = {seq: y for seq, y in item_write_back.items_written_in_place(self).items()
                         if y in self.info.local_names or y in self.params}
        aliases = {}

        def visit(stmts):
            keep = []
            for s in stmts:
                for field in ("body", "orelse"):
                    inner = getattr(s, field, None)
                    if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                        setattr(s, field, visit(inner))
                value = getattr(s, "value", None)
                if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                        and isinstance(value, gast.Call) and len(value.args) == 1 \
                        and getattr(value.func, "diffc_global", None) is runtime.as_sequence \
                        and isinstance(value.args[0], gast.Name) \
                        and (value.args[0].id in written
                             and self.kinds.get(value.args[0].id) in (K.VECTOR, K.ARRAY, K.SCALARS)
                             or s.targets[0].id in items_written) \
                        and s.targets[0].id.startswith("_seq") \
                        and not self._rebound_in_loop_over(s.targets[0].id, value.args[0].id, s):
                    aliases[s.targets[0].id] = value.args[0].id
                    if s.targets[0].id in items_written \
                            and not item_write_back.certainly_item_assignable(self, value.args[0].id):
                        s.targets[0] = A.store(value.args[0].id)
                        keep.append(s)
                    continue
                keep.append(s)
            return keep
        self.body = visit(self.body)
        if aliases:
            for node in A.walk(gast.Module(body=self.body, type_ignores=[])):
                if isinstance(node, gast.Name) and node.id in aliases:
                    node.id = aliases[node.id]

    def _rebound_in_loop_over(self, sequence, name, binding):
        """Whether a loop reading `sequence` assigns `name` itself (a new object).  A loop
        around the binding ``sequence = as_sequence(name)`` takes the new object at each
        iteration: not counted."""
        for loop in A.walk_statements(self.body):
            if isinstance(loop, (gast.For, gast.While)) and any(
                    sequence in A.names_loaded(s) for s in A.walk_statements(loop.body)) \
                    and not any(s is binding for s in A.walk_statements(loop.body)):
                if any(name in A.names_stored(s) for s in loop.body):
                    return True
        return False

    def _fresh_array(self, value):
        if not isinstance(value, gast.Call):
            return False
        key, _ = call_key(self.info, value)
        import numpy as np
        fresh = {np.zeros, np.ones, np.empty, np.full, np.zeros_like, np.ones_like, np.empty_like,
                 np.full_like, np.array, np.copy, np.eye, np.arange, np.linspace, builtins.list,
                 builtins.dict, ("method", "copy")}
        try:
            return key in fresh
        except TypeError:
            return False

    def share_writes_through_views(self, rounds=8):
        """Make writes seen through a view explicit, so both modes follow Python's sharing.

        For a view ``m = y[idx]`` (a slice, or ``m = y``) while neither name nor
        the index has been rebound:
        * a write into y that m sees afterwards is followed by ``m = y[idx]``
          (in Python m already shows it; the re-read makes the derivative see it);
        * a write into m (``m[j] = v``, ``m *= c``) that y sees afterwards is
          followed by ``y[idx] = m`` (a no-op in Python, where m is y's memory).
        Writes diffc cannot express this way are left to `check_aliasing`.  Runs
        before every other analysis of the body (they see the new statements)."""
        if self.generated_code():
            return
        held_items.mark(self)                   # `d["w"] = w`: d holds w's object
        self.identity_checked = set()           # names a same_or_unshared check compares: kept uncopied
        for _ in range(rounds):
            report = aliases_mod.analyze(self.body, lambda v: alias_sources(self, v),
                                         activity_mod.MUTATING_METHODS, self._updates_in_place)
            followers, checks = {}, {}
            for stmt in A.walk_statements(self.body):
                # a fresh set on this statement: A.deepcopy shares annotations by reference, and
                # the same ANF statement is swept once per specialization and mode
                synced = stmt.diffc_synced = set(getattr(stmt, "diffc_synced", ()))
                for observer, written, origin, maybe in report.observed.get(id(stmt), ()):
                    if (observer, written) in synced or _bound_after_call(stmt, observer):
                        continue
                    follow = None if maybe else _view_follow_up(self, stmt, observer, written, origin)
                    if follow is None and not maybe:
                        follow = item_write_back.write_back(self, stmt, observer, written, origin) \
                            or item_write_back.held_write_back(self, stmt, observer, written, origin) \
                            or item_write_back.appended_write_back(self, stmt, observer, written, origin)
                    elif follow is None:
                        follow = item_write_back.placed_re_read(self, stmt, observer, written, origin) \
                            or reshaped_views.chain_re_read(self, stmt, observer, written,
                                                            item_write_back.unchanged_between)
                    if follow is None:
                        follow = item_write_back.sibling_re_read(self, stmt, observer, written, origin)
                    if follow is None and maybe and getattr(stmt, "diffc_write_back_of", None) is None \
                            and not self._copied_where_taken(written, self._written_in_place()):
                        around = SF.identity_follower(self, stmt, observer, written, origin,
                                                      self._checked_object(stmt, written))
                        if around is not None:
                            checks.setdefault(id(stmt), []).append(around[0])
                            follow = around[1]
                            self.identity_checked |= {observer} | report.related.get(observer, set())
                    if follow is not None and _iterated(origin.value):
                        follow = self._while_still_iterated(stmt, origin, written, follow, followers, report)
                    if follow is not None:
                        if self._maybe_rebinding(stmt):
                            follow = self._when_updated_in_place(stmt, written, follow)
                        followers.setdefault(id(stmt), []).extend(follow if isinstance(follow, list)
                                                                  else [follow])
                        synced.add((observer, written))
                        first = getattr(stmt, "diffc_write_back_of", None)
                        if first is not None:       # (item_write_back.py)
                            first[0].diffc_synced = set(getattr(first[0], "diffc_synced", ())) \
                                | {(observer, first[1])}
            if not followers:
                return
            self.body = _insert_around(self.body, before=checks, after=followers)
        return

    def check_aliasing(self):
        """Refuse writes another name sees (Python aliasing), using the flow of the program.

        Sets ``self.aliases`` (analysis/aliases.py) and ``self.element_checked``:
        reads ``t = y[i]`` that may be views or elements (unknown at compile time)
        and that a later write into y would change: checked when they run."""
        self.aliases = aliases_mod.analyze(self.body, lambda v: alias_sources(self, v),
                                           activity_mod.MUTATING_METHODS, self._updates_in_place)
        self.element_checked = set()
        # names kept as views for a check_unshared (or a same_or_unshared: shared_objects.py)
        self.checked_views = set(getattr(self, "identity_checked", ()))
        self.method_results_checked = set()  # names bound to a user method's result, checked
        if self.generated_code():
            # diffc's own gradient code: its sharing is by design; but the sharing checks it
            # carries must see the objects they were given, not private copies
            self.checked_views = _checked_names(self.info, self.body)
            return
        unshared = {}                       # id(write) -> [(written, other)] to check when it runs
        for stmt in A.walk_statements(self.body):
            for observer, written, origin, maybe in self.aliases.observed.get(id(stmt), ()):
                synced = getattr(stmt, "diffc_synced", ())
                if (observer, written) in synced:
                    continue                    # followed by the statement that shares the write
                if _bound_after_call(stmt, observer):
                    continue                    # `t = stack.pop()`: t is bound after the pop
                if isinstance(origin, gast.Assign) and _iterated(origin.value) \
                        and (origin.value.args[0].id, written) in synced:
                    continue                    # written back into the iterated array, whose
                    # write is followed by the loop's re-read (or refused) in its turn
                held = dict(getattr(stmt.value, "diffc_writes_held", ())) if isinstance(stmt, gast.Assign) else {}
                if written in held and SF.both_local(self, observer, written):
                    # obj.step() updating in place what obj's attributes hold: refused when it
                    # runs if observer is (or holds) one of those values
                    attrs = gast.Tuple(elts=[A.const(a) for a in held[written]], ctx=gast.Load())
                    unshared.setdefault(id(stmt), []).append((A.name(written), A.name(observer), attrs))
                    continue
                if SF.field_of(origin, observer) and SF.stores_constants(stmt):
                    continue                    # `k.hist.append(1)`: no derivative to follow (as
                    # transform/attribute_writes.py judges direct writes into attributes)
                if maybe and SF.maybe_element_read(origin, observer, written) and stmt_is_item_write(stmt) \
                        and getattr(stmt, "diffc_write_back_of", None) is None:
                    # a private copy of the item read is what Python holds after `y[i] = new`; not
                    # after a write-back, which puts the same object back: the item read must stay
                    # that object, for the check of the write into it (below) to see the sharing
                    self.element_checked.add(id(origin))
                    continue
                if maybe and self._copied_where_taken(written, self.written) \
                        and SF.both_local(self, observer, written):
                    # y is copied before its write (forward_value), and the object it came from
                    # cannot be named again for a run-time check (`y = stack.pop()`, `d.get(k)`,
                    # `max(ys, key=...)`, an item at a position that moved on): a check of y
                    # would compare the copy and always pass
                    self._refuse_observed_write(stmt, observer, written, origin)
                if (maybe or self._maybe_rebinding(stmt)) and SF.both_local(self, observer, written):
                    unshared.setdefault(id(stmt), []).append((self._checked_object(stmt, written), observer))
                    if getattr(stmt, "diffc_items_updated", False):
                        # a callee updated the items of written in place: observer may be one
                        unshared[id(stmt)].append((observer, written))
                    # the check sees Python's sharing only if no copy stands between them
                    # (`t = np.expand_dims(v, 0)[0]`: copying the view would hide it)
                    self.checked_views |= {observer} | self.aliases.related.get(observer, set())
                    if isinstance(origin, gast.Assign) \
                            and handed_back.user_method_receiver(self, origin.value) == observer:
                        # `t = s.fetch()`, t written: t is what the method handed back (it
                        # may be s.data): not copied, so that the check sees it
                        self.method_results_checked.add(written)
                    continue
                self._refuse_observed_write(stmt, observer, written, origin)
        if unshared:
            self.body = _insert_around(self.body, before=_unshared_checks(self, self.body, unshared))

    def _while_still_iterated(self, write, origin, base, follow, followers, report):
        """The re-read `_seq = as_sequence(y)` after a write into y, run only while y still
        names the object the loop iterates over.

        `for e in w: w[j] = ...; w = w * c`: Python's loop goes on over the first
        array, and the next writes go into the new one, which the loop never sees.  A
        loop around the write that rebinds y to a fresh value gets a flag, True from
        the start of the iteration and False after each rebinding, guarding the
        re-read.  A rebinding that may share memory with the iterated object
        (`w = w[1:]`) keeps no such simple picture: None, and check_aliasing refuses
        the write; one sharing only a value made since (`w = new`, `new = w.copy()`)
        is a rebinding like any other.

        The re-read is itself a binding of `_seq`: a later write whose reaching
        binding is a re-read is judged against the loop's own `as_sequence`
        (`diffc_reread_of`), else a re-read inside the loop would pass for the
        start of the iteration and run unguarded after a rebinding."""
        origin = getattr(origin, "diffc_reread_of", origin)
        follow.diffc_reread_of = origin
        loops = [s for s in A.walk_statements(self.body) if isinstance(s, (gast.For, gast.While))
                 and any(x is write for x in A.walk_statements(s.body))
                 and not any(x is origin for x in A.walk_statements(s.body))]
        rebinds = [s for loop in loops for s in A.walk_statements(loop.body)
                   if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)
                   and s.targets[0].id == base and not self._updates_in_place(s)]
        if not rebinds:
            return follow
        sequence = origin.targets[0].id
        for s in rebinds:
            for source in alias_sources(self, s.value):
                if source in (base, sequence) or {base, sequence} & report.related.get(source, set()):
                    return None
        flag = self.namer.fresh("_iterated")
        self.info.add_locals({flag})
        followers.setdefault(id(origin), []).append(A.located(A.assign(flag, A.const(True)), origin))
        for s in rebinds:
            followers.setdefault(id(s), []).append(A.located(A.assign(flag, A.const(False)), s))
        return [A.located(gast.If(test=A.name(flag), body=[follow], orelse=[]), write)]

    def _when_updated_in_place(self, stmt, written, follow):
        """`follow` run only if `written op= v` updated an object (an array) rather than
        rebinding a number: ``_c = updates_in_place(written); if _c: follow``."""
        flag = self.namer.fresh("_in_place")
        self.info.add_locals({flag})
        test = A.assign(flag, A.call(rt(runtime.updates_in_place), [A.name(written)]))
        branch = gast.If(test=A.name(flag), body=follow if isinstance(follow, list) else [follow], orelse=[])
        return [A.located(test, stmt), A.located(branch, stmt)]

    def _copied_where_taken(self, written, written_in_place):
        """y is copied before its write (forward_value), and the object it came from cannot
        be named again for a run-time check (`y = stack.pop()`, `d.get(k)`, `max(ys, key=...)`,
        an item at a position that moved on): a check of y would compare the copy."""
        return written in written_in_place and SF.item_origin(self.body, written) is None \
            and handed_back.taken_binding(self, written) or SF.popped_binding(self.body, written)

    def _checked_object(self, stmt, written):
        """What a sharing check before stmt (a write into `written`) compares: written's
        binding may be a private copy of an item (`t = rows[0]`): the item itself, still in
        rows, is what another item name may share."""
        updated_item = getattr(stmt, "diffc_item_update", (None, None))[1] == written
        # (p op= v: forward mode may hold a copy of the item in p)
        copied = written in self._written_in_place() or updated_item or self._maybe_rebinding(stmt)
        return (SF.item_origin(self.body, written) if copied else None) or written

    def _maybe_rebinding(self, stmt):
        """`x op= v` where x may be an immutable number (a NumPy scalar has kind ARRAY too):
        Python then rebinds x instead of updating it, and nobody else sees it.  Which one
        happens is known when it runs (runtime_checks.check_unshared)."""
        return getattr(stmt, "diffc_augmented", False) and isinstance(stmt, gast.Assign) \
            and isinstance(stmt.targets[0], gast.Name) and self.kinds.get(stmt.targets[0].id) != K.VECTOR

    def generated_code(self):
        """Whether this function is code diffc generated, being differentiated again.

        A plain copy of a user function (``_primal_f``, pipeline.primal_ref) is not: it keeps
        the user's in-place updates (``row *= c`` into the rows of M), whose sharing is
        followed (or refused) as in the user's own code."""
        fn = self.info.fn
        return getattr(fn, "__module__", None) == "diffc_generated" \
            and not getattr(fn, "__name__", "").startswith("_primal_")

    def _updates_in_place(self, stmt):
        """`x op= v` on an array or list (or a value of unknown kind): Python's in-place update.

        Not in code diffc generated (differentiated again): its `x_bar += g` never
        updates a buffer another name still reads."""
        if self.generated_code():
            return False
        item = getattr(stmt, "diffc_item_update", None)
        if item is not None:
            # c[k] op= v: the item is updated in place when it is an array or a list; a
            # container that is itself an array gives numbers or views of itself, followed
            # as writes into it already
            container, old = item
            return not K.is_array(self.kinds.get(container)) \
                and self.kinds.get(old) not in (K.SCALAR, K.INT, K.INTS)
        return getattr(stmt, "diffc_augmented", False) \
            and self.kinds.get(stmt.targets[0].id) not in (K.SCALAR, K.INT, K.INTS)

    def _refuse_observed_write(self, stmt, observer, written, origin):
        value = origin.value if isinstance(origin, gast.Assign) else None
        if isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.as_sequence:
            self.fail(UnsupportedSyntax, f"the loop iterates over {written!r} while writing into it",
                      stmt, hint=f"loop over the indices instead: for i in range(len({written})): "
                                 f"... {written}[i] ...")
        if isinstance(stmt, gast.Assign) and getattr(stmt.value, "diffc_writes_held", ()):
            obj = "the object" if written.startswith("_") else repr(written)
            self.fail(UnsupportedSyntax, f"this call changes in place values {obj} holds (an attribute "
                      f"updated with +=, an item written), and {observer!r} holds one of them and is used "
                      f"afterwards (in Python {observer!r} would change too)", stmt,
                      hint=f"copy the value where {observer!r} takes it (.copy()), or assign the attribute a "
                           "new value in the method (self.a = self.a + v)")
        located = getattr(origin, "lineno", None) is not None
        where = f" (they share one array since line {self.source.file_line(origin)})" if located else ""
        start = f"line {self.source.file_line(origin)}: {self.source.text(origin)}" if located else observer
        self.fail(UnsupportedSyntax, f"this writes into {written!r} in place while {observer!r} shares its "
                  f"array{where} and is used afterwards (in Python {observer!r} would change too)", stmt,
                  hint=f"add .copy() where they start sharing ({start}), or stop using "
                       f"{observer!r} after the write")

    def forward_value(self, target, value, stmt=None):
        """The forward expression, copying values that are later modified in place.

        diffc copies an array before writing into it, so that the caller's
        arrays never change.  Writes that another name would see are refused
        up front (check_aliasing); every other alias may be a copy.  Reverse
        mode keeps views (the adjoint restores the viewed array before it reads
        the view: `view_bases`); forward mode and code differentiated again copy."""
        if target in self.written and not isinstance(value, (gast.BinOp, gast.UnaryOp, gast.Constant,
                                                              gast.List, gast.Dict, gast.Tuple)):
            if self.generated_code() and _tape_pop(value):
                # diffc's own gradient code: the object its forward sweep pushed comes back
                # itself, and the restores written into it must reach every holder (an
                # object pushed earlier whose field is this array), as in Python
                return value
            if target in self.method_results_checked and handed_back.user_method_receiver(self, value) is not None:
                return value
            return value if self._fresh_array(value) else self._copy(value)
        sources = alias_sources(self, value)
        if target in sources:
            return value
        # what target may view through the flow, not only in this statement: `t = pair[0]`
        # views y1 when pair holds it (analysis/aliases PART bases)
        viewed = set(sources) | self.aliases.bases.get(target, set())
        if not viewed & self.written:
            return value
        if id(stmt) in self.element_checked:
            return A.call(rt(runtime.element), [A.deepcopy(value.value), index_value(value.slice)])
        if self.views_allowed or target in self.checked_views:
            return value
        return self._copy(value)

    def _copy(self, value):
        """``copy_value(value)``, marked as a copy of an array when the kinds say so: only
        then is it a new object holding nothing shared (optimize/aliasing.fresh_call)."""
        copy = A.call(rt(runtime.copy_value), [value])
        base = value.value if isinstance(value, gast.Subscript) else value
        if isinstance(base, gast.Name) and K.is_array(self.kinds.get(base.id)):
            copy.diffc_array_copy = True
        return copy

    # ------------------------------------------------------- calls of user functions
    def primal_call(self, key, args, call, differentiated=False):
        """The call of a user function in the primal; differentiated: some argument carries a
        derivative (in code differentiated again)."""
        if isinstance(key, FunctionInfo):
            return A.call(self.module.primal_ref(key), [A.deepcopy(a) for a in args])
        if isinstance(key, types.FunctionType) and (has_packed_parameters(key) or inspect.isgeneratorfunction(key)
                                                    or returns_lazy(key) or differentiated and defines_functions(key)):
            # *args/**kwargs: call diffc's copy with the flattened parameters (parse.py), so
            # generated code never unpacks (it may be differentiated again).  A generator
            # function: diffc's copy returns the list of what it yields, which generated
            # code may read twice (a generator would be exhausted after the first read; so
            # would the generator expression a plain function returns).  A factory defining
            # local functions, given derivatives: diffc's copy returns them as closures over
            # what they capture (emit.resolve_local_functions), which code differentiated
            # again follows (runtime_calls.captured_callee refuses a Python closure over
            # derivatives; one over constants stays Python's: diffc.grad may be given it).
            return A.call(self.module.primal_ref(self.module.info_for(key)), [A.deepcopy(a) for a in args])
        return call

    def bind_call(self, key, call):
        """The call's arguments as a positional list of atoms (defaults filled in).

        Parameters are the flattened ones (parse.flatten_signature): a call of a
        function with *args or **kwargs arrives here with those packed already
        (transform/dynamic_calls.py) and passed by their parameter names."""
        if isinstance(key, FunctionInfo):
            params = key.params
            signature = getattr(key, "signature", None)
            if signature is not None:
                default_values = dict(signature.defaults)
            else:
                defaults = key.node.args.defaults
                default_values = dict(zip(params[len(params) - len(defaults):], defaults))
        else:
            sig = inspect.signature(key)
            params = list(sig.parameters)
            default_values = {}
            for p in sig.parameters.values():
                if p.kind == p.VAR_POSITIONAL:
                    default_values[p.name] = gast.Tuple(elts=[], ctx=gast.Load())
                elif p.kind == p.VAR_KEYWORD:
                    default_values[p.name] = gast.Dict(keys=[], values=[])
                elif p.default is not p.empty:
                    default_values[p.name] = A.global_ref(p.default, f"{key.__name__}_{p.name}") \
                        if not isinstance(p.default, (int, float, bool, str, type(None))) \
                        else A.const(p.default)
        bound = dict(zip(params, call.args))
        if len(call.args) > len(params):
            self.fail(UnsupportedSyntax, "too many arguments in this call", call,
                      hint="the function takes fewer parameters; check the call")
        for kw in call.keywords:
            if kw.arg not in params or kw.arg in bound:
                self.fail(UnsupportedSyntax, f"unexpected keyword argument {kw.arg!r}", call,
                          hint="use one of the function's parameter names, once")
            bound[kw.arg] = kw.value
        out = []
        for p in params:
            if p in bound:
                out.append(bound[p])
            elif p in default_values:
                out.append(A.deepcopy(default_values[p]) if isinstance(default_values[p], gast.AST)
                           else default_values[p])
            else:
                self.fail(UnsupportedSyntax, f"missing argument {p!r}", call,
                          hint=f"pass {p} in this call")
        return out



# ------------------------------------------------------------------ aliasing

def _view_functions():
    import numpy as np
    names = ["reshape", "ravel", "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze", "expand_dims",
             "atleast_1d", "atleast_2d", "atleast_3d", "asarray", "asanyarray", "ascontiguousarray",
             "asfortranarray", "require", "broadcast_to", "broadcast_arrays", "diagonal", "real", "imag",
             "flip", "fliplr", "flipud", "rot90", "split", "array_split", "hsplit", "vsplit", "dsplit",
             "matrix_transpose", "permute_dims", "unstack", "asmatrix"]
    out = {getattr(np, n) for n in names if hasattr(np, n)}
    tricks = np.lib.stride_tricks
    out |= {getattr(tricks, n) for n in ("as_strided", "sliding_window_view") if hasattr(tricks, n)}
    out.add(runtime.as_sequence)
    return out


_VIEW_FUNCTIONS = None
# Methods and attributes of arrays whose result may share the array's memory.
VIEW_METHODS = {"reshape", "ravel", "view", "transpose", "swapaxes", "squeeze", "diagonal", "T", "mT",
                "real", "imag", "flat", "base"}
# Attributes that are plain values (never the array's memory).
_VALUE_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes", "strides"}


def view_functions():
    global _VIEW_FUNCTIONS
    if _VIEW_FUNCTIONS is None:
        _VIEW_FUNCTIONS = _view_functions()
    return _VIEW_FUNCTIONS


def _local(atom, fn):
    return isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global") \
        and (atom.id in fn.info.local_names or atom.id in fn.params)


def alias_sources(fn, value):
    """The locals whose objects `value` shares in Python, and how (analysis/aliases.py).

    fn: a ReverseFunction or ForwardFunction (its info, params, kinds, module).
    Names, views (slices, `.T`, reshape and the other view functions and methods)
    and a user function's result that may be (a view of) an argument share
    memory (SAME); `y[i]` is an element (PART) unless it certainly is a number
    (a 1-d float array or a list of numbers at an int); literals hold their
    elements (HOLDS), and so does a local function used as a value (its captured
    variables); fresh results share nothing."""
    S = aliases_mod
    if isinstance(value, gast.Name):
        local_function = getattr(value, "diffc_global", None)
        if isinstance(local_function, FunctionInfo):
            # a nested def or lambda used as a value keeps its captured variables' objects
            # (emit.py makes it `closure(fn, captured...)`): a write into one is seen through it
            return {p: S.HOLDS for p in local_function.lifted_params
                    if p in fn.info.local_names or p in fn.params}
        return {value.id: S.SAME} if _local(value, fn) else {}
    if isinstance(value, gast.Subscript):
        if not _local(value.value, fn) or _scalar_element(fn, value):
            return {}
        index = value.slice
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        sliced = any(isinstance(p, gast.Slice) or isinstance(p, gast.Constant) and p.value in (None, Ellipsis)
                     for p in parts)
        if sliced and fn.kinds.get(value.value.id) == K.SCALARS:
            return {}                       # a slice of a list of numbers: a new list of numbers
        if sliced and item_write_back.certainly_list(fn, value.value.id):
            return {value.value.id: S.ITEMS}     # a new list holding y's items
        return {value.value.id: S.SAME if sliced else S.PART}
    if isinstance(value, gast.Attribute):
        if _local(value.value, fn) and value.attr not in _VALUE_ATTRIBUTES:
            return {value.value.id: S.SAME}
        return {}
    if isinstance(value, (gast.List, gast.Tuple, gast.Set)):
        return {e.id: S.HOLDS for e in value.elts if _local(e, fn)}
    if isinstance(value, gast.Dict):
        return {e.id: S.HOLDS for e in value.values if _local(e, fn)}
    if isinstance(value, gast.Call):
        if _makes_container(fn, value):
            return _container_sources(fn, value)
        relation = _helper_relation(fn, value)
        if relation is not None:
            return {name: relation for name in _local_arguments(fn, value)}
        taken = handed_back.taken_from_arguments(fn, value)
        if taken is not None:
            return taken
        held = handed_back.user_method_receiver(fn, value)
        if held is not None:
            return {held: S.MAYBE}
        return {name: S.SAME for name in _call_alias_sources(fn, value)}
    return {}


def _tape_pop(value):
    """``_tape.pop()`` (or ``_tape_1.pop()``): a pop of the tape of generated code."""
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
        and value.func.attr == "pop" and not value.args and isinstance(value.func.value, gast.Name) \
        and value.func.value.id.startswith("_tape")


def _local_arguments(fn, call):
    return {a.id for a in call.args if _local(a, fn)} | \
        {k.value.id for k in call.keywords if _local(k.value, fn)}


def _helper_relation(fn, call):
    """How the result of a call of a function value or of a runtime helper diffc emits
    (in code it differentiates again, or made by a front-end stage) relates to its
    local arguments, or None for the other calls."""
    key, _ = call_key(fn.info, call)
    if key is None or key is runtime_calls.call_value:
        return aliases_mod.MAYBE            # a function known when it runs may return an argument
    if effects.has(key, effects.HOLDS_ARGUMENTS):
        return aliases_mod.HOLDS
    if any(key is R.implementation(copier) for copier in _ITEM_COPIERS):
        return aliases_mod.ITEMS            # diffc's itertools.product...: the items, copied when made
    if key is runtime_calls.get_field or key is runtime.item:
        return aliases_mod.PART
    if key is runtime.copy_value and call.args and not K.is_array(fn.kinds.get(getattr(call.args[0], "id", None))):
        return aliases_mod.HOLDS            # a list's copy holds its items; an object is itself
    return None


# Builtin containers made from iterables: they hold the items of their positional arguments.
_ITEM_CONTAINERS = (list, tuple, set, frozenset, dict, zip, enumerate, reversed, map, filter)
_ITEM_COPIERS = (itertools.product, itertools.combinations, itertools.combinations_with_replacement,
                 itertools.permutations)


def _container_sources(fn, call):
    """How an object made by calling a class relates to its local arguments."""
    key, _ = call_key(fn.info, call)
    out = {k.value.id: aliases_mod.HOLDS for k in call.keywords if _local(k.value, fn)}
    positional = aliases_mod.ITEMS if key in _ITEM_CONTAINERS else aliases_mod.HOLDS
    out.update({a.id: positional for a in call.args if _local(a, fn)})
    return out


# Classes whose instances are values: they keep no reference to their arguments.
_VALUE_CLASSES = (int, float, complex, bool, str, bytes, range, slice)


def _makes_container(fn, call):
    """A class called to make an object, which may keep its arguments (`Held(w, y)`,
    `SimpleNamespace(h=y)`, `partial(f, y)`, `zip(a, b)`, `tuple(items)`)."""
    import numpy as np
    key, _ = call_key(fn.info, call)
    return isinstance(key, type) and not issubclass(key, _VALUE_CLASSES + (np.generic, np.ndarray))


def _call_alias_sources(fn, call):
    key, args = call_key(fn.info, call)
    if isinstance(key, tuple) and key[0] == "method":
        if (key[1] in VIEW_METHODS or key[1] in _SELF_METHODS or key[1] == "astype" and _no_copy(call)) \
                and _local(args[0], fn):
            return {args[0].id}
        return set()
    if _is_numpy_array_call(key) and _no_copy(call) and call.args and _local(call.args[0], fn):
        return {call.args[0].id}            # np.array(v, copy=False) is v
    locals_ = _local_arguments(fn, call)
    if not locals_:
        return set()
    try:
        if key in view_functions():
            return {a.id for a in call.args[:1] if _local(a, fn)} if key is not runtime.as_sequence \
                else locals_
    except TypeError:
        return set()
    if is_user_function(key) and R.adjoint_rule(key) is None and R.tangent_rule(key) is None \
            and not R.is_nondiff(key):
        if fn._callee_kind(key, call, [fn._atom_kind(a) for a in call.args]) in (K.SCALAR, K.INT):
            return set()                # a number (`return u[i]` of a 1-d array) shares nothing
        aliased = getattr(fn.module, "returned_aliases", None)
        if aliased is None:
            return locals_
        positions = aliased(key)
        if positions is None:
            return locals_
        try:
            bound = fn.bind_call(key, call)
        except Exception:
            return locals_
        return {bound[k].id for k in positions if k < len(bound) and _local(bound[k], fn)}
    return set()


# Methods returning the array itself for a real array (a new array for a complex one).
_SELF_METHODS = {"conj", "conjugate"}


def _no_copy(call):
    """`copy=False` or `copy=None` given: NumPy may hand back the argument itself."""
    return any(k.arg == "copy" and not (isinstance(k.value, gast.Constant) and k.value.value is True)
               for k in call.keywords)


def _is_numpy_array_call(key):
    import numpy as np
    return key is np.array


def _scalar_element(fn, value):
    """`y[i]` that certainly gives a number: a 1-d float array or a list of numbers at an int."""
    base_kind = fn.kinds.get(value.value.id)
    index = value.slice
    if isinstance(index, (gast.Slice, gast.Tuple)):
        return False
    if base_kind in (K.VECTOR, K.SCALARS) and fn._atom_kind(index) == K.INT:
        return True
    return False


def _view_follow_up(fn, write, observer, written, origin):
    """The statement making `write`'s effect on `observer` explicit (see
    FunctionSweep.share_writes_through_views), or None."""
    if not (isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Name)):
        return None
    view = reshaped_views.view_binding(fn, origin, write, written)     # y.T, y.reshape(s), y.ravel()
    if view is not None:
        return reshaped_views.follow_up(fn, write, observer, written, view, _names_bound(fn.body, exclude=view))
    target, value = origin.targets[0].id, origin.value
    if isinstance(value, gast.Name):
        base, index = value.id, None
    elif _iterated(value) and observer == target:
        base, index = value.args[0].id, None    # `for v in y` reads y's current items
    elif isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
            and _basic_slicing(value.slice):
        base, index = value.value.id, value.slice
    else:
        return reshaped_views.chain_re_read(fn, write, observer, written, item_write_back.unchanged_between)
    if index is not None and A.names_loaded(index) & _names_bound(fn.body, exclude=origin) \
            and not item_write_back.unchanged_between(fn.body, origin, write, A.names_loaded(index)):
        return None                         # the index may have changed since the view was made
        # (a loop variable or a temporary is fine when nothing rebinds it from the view to the write)
    if {target, base} != {observer, written}:
        # a view of a view of the written array (`W = theta[:6].reshape(2, 3)`): re-read both
        return reshaped_views.chain_re_read(fn, write, observer, written, item_write_back.unchanged_between)
    if observer == target:                  # the view sees a write into its array: re-read it
        follow = A.assign(target, A.deepcopy(value))
    elif index is None:                     # `m = y`, m written: y is m's object
        follow = A.assign(base, A.name(target))
    else:                                   # the array sees a write into its view: write back
        follow = A.assign(A.subscript(A.name(base), A.deepcopy(index), gast.Store()), A.name(target))
    follow = A.located(follow, write)
    if index is None or K.is_array(fn.kinds.get(base)) or _bound_to_numpy_results(fn, base):
        return follow
    # y[a:b] of a list or tuple is a new sequence holding y's items: neither sees an item
    # assignment into the other, so the follow-up runs only when y turns out to be an array
    flag = fn.namer.fresh("_is_view")
    fn.info.add_locals({flag})
    test = A.assign(flag, A.call(rt(runtime_checks.slicing_shares), [A.name(base)]))
    return [A.located(test, write), A.located(gast.If(test=A.name(flag), body=[follow], orelse=[]), write)]


def _iterated(value):
    """`as_sequence(y)`: what `for v in y` iterates over (y itself for lists and arrays)."""
    return isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.as_sequence \
        and len(value.args) == 1 and isinstance(value.args[0], gast.Name) \
        and not hasattr(value.args[0], "diffc_global")


def _basic_slicing(index):
    parts = index.elts if isinstance(index, gast.Tuple) else [index]
    return any(isinstance(p, gast.Slice) for p in parts) and all(
        isinstance(p, (gast.Slice, gast.Name)) or isinstance(p, gast.Constant) and type(p.value) is int
        for p in parts)


def _names_bound(stmts, exclude):
    out = set()
    for s in A.walk_statements(stmts):
        if s is not exclude and isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            out.add(s.targets[0].id)
        if isinstance(s, gast.For) and isinstance(s.target, gast.Name):
            out.add(s.target.id)
    return out


def _insert_around(stmts, before=None, after=None):
    """stmts (recursively into blocks) with before[id(s)] inserted ahead of s and
    after[id(s)] right behind it."""
    before, after = before or {}, after or {}
    out = []
    for s in stmts:
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(s, field, _insert_around(inner, before, after))
        out.extend(before.get(id(s), ()))
        out.append(s)
        out.extend(after.get(id(s), ()))
    return out


def _bound_to_numpy_results(fn, name):
    """Every binding of name (not a parameter) is a NumPy call's result or arithmetic on
    values: an array (or a number), never a list whose slices would be copies."""
    if name in fn.params:
        return False
    values = [s.value for s in A.walk_statements(fn.body) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name]
    if not values or any(isinstance(s, gast.For) and name in A.names_stored(s.target)
                         for s in A.walk_statements(fn.body)):
        return False
    for value in values:
        if isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.copy_value \
                and value.args:
            value = value.args[0]
        if isinstance(value, (gast.BinOp, gast.UnaryOp)):
            continue
        func = fn.info.resolve_static(value.func) if isinstance(value, gast.Call) else None
        if not (func is not None and func is not MISSING
                and (getattr(func, "__module__", "") or "").split(".")[0] == "numpy"):
            return False
    return True


def _bound_after_call(stmt, observer):
    """stmt is ``observer = call(...)``: the call's write into its receiver (``stack.pop()``)
    happens before observer is bound, so neither observer's old value (dead there) nor its
    new one sees it."""
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
        and stmt.targets[0].id == observer and isinstance(stmt.value, gast.Call)


_SHARING_CHECKS = (runtime_checks.check_unshared, runtime_checks.check_values_unshared,
                   runtime_checks.check_attribute_unshared, runtime_checks.same_or_unshared)


def _checked_names(info, stmts):
    """The names given to a sharing check (`check_unshared(written, other, line)`) in code
    diffc generated: forward mode (differentiating it again) keeps them uncopied, as the
    first pass keeps its checked_views, so that the check sees Python's sharing."""
    out = set()
    for s in A.walk_statements(stmts):
        if isinstance(s, (gast.Expr, gast.Assign)) and isinstance(s.value, gast.Call) \
                and call_key(info, s.value)[0] in _SHARING_CHECKS:
            out |= {a.id for a in s.value.args if isinstance(a, gast.Name)}
    return out


def _unshared_checks(fn, stmts, unshared):
    """`check_unshared(written, other, line)` before each write whose sharing with another
    name is possible but unknown (two elements of one container, say); written may be the
    item a name was copied from (_item_origin)."""
    checks = {}
    for s in A.walk_statements(stmts):
        for written, other, *attrs in unshared.get(id(s), ()):
            written = A.name(written) if isinstance(written, str) else A.deepcopy(written)
            other = A.name(other) if isinstance(other, str) else other
            if attrs:           # obj.step() updating in place what obj's attributes `attrs` hold
                check = A.expr_stmt(A.call(rt(runtime_checks.check_values_unshared), [
                    written, attrs[0], other, A.const(f"{fn.source.filename}:{fn.source.file_line(s)}")]))
            else:
                check = A.expr_stmt(A.call(rt(runtime_checks.check_unshared), [
                    written, other, A.const(f"{fn.source.filename}:{fn.source.file_line(s)}")]))
            checks.setdefault(id(s), []).append(A.located(check, s))
    return checks


def stmt_is_item_write(stmt):
    return isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Subscript)


# NumPy functions and array methods that write into their first argument.
