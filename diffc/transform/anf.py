"""anf: one operation per statement, on fresh temporaries.

Input: a desugared FunctionInfo (see desugar.py: only range-`for`, `while`,
`if`, a single final `return`, no break/continue).
Output guarantees, for every statement of the body (recursively):
  * ``name = RHS`` where RHS is one of: an atom; ``atom op atom``;
    ``op atom``; ``atom cmp atom`` (one comparison); a call whose arguments
    and keyword values are atoms; ``atom[index]``; ``atom.attr``; a tuple,
    list or dict literal of atoms;
  * ``name[index] = atom`` (in-place write; the container is a local name);
  * ``Expr(call)`` for calls made for their effect (``xs.append(v)``);
  * ``if atom:``; ``for name in range(atoms):`` whose bound names are not
    assigned in the loop; ``while name:`` where the statements computing the
    condition appear once before the loop and again at the end of its body;
  * ``return atom`` (last), ``raise``, ``assert``, ``pass``.
An atom is a Constant, a local Name, or a Name/attribute chain of a module
level object (marked with ``diffc_global``); an index is an atom, a slice of
atoms, or a tuple of those.  Short-circuit ``and``/``or``, conditional
expressions and chained comparisons become ``if`` statements, so operands
are evaluated exactly when Python would evaluate them.  Augmented
assignments become plain ones (``y[i] += v`` reads, operates, writes).
Tuple assignments unpack element by element (``a, b = b, a`` through
temporaries).  A statement may assign a name that it also reads
(``s = s + x``); the reverse pass handles that case.
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime, runtime_calls, runtime_checks, runtime_scatter
from ..errors import UnsupportedSyntax
from ..parse import MISSING, FunctionInfo
from .global_writes import CHANGING_METHODS, MUTABLE, GlobalAliases


_VIEW_METHODS = {"reshape", "ravel", "transpose", "squeeze"}


def _view_functions():
    import numpy as np
    return (np.reshape, np.ravel, np.transpose, np.squeeze, np.expand_dims, np.atleast_2d)


_VIEW_FUNCTIONS = _view_functions()


class ANF:
    def __init__(self, info, namer):
        self.info = info
        self.namer = namer
        self.locals = info.local_names
        self.globals_held = GlobalAliases(info)

    def fail(self, msg, node, hint=None):
        raise UnsupportedSyntax(msg, node, self.info.source, hint=hint)

    def check_not_global(self, name, node, always=True):
        """Refuse an in-place write into a local name holding a module-level object or a part
        of one (global_writes.py); always=False: only when it certainly changes in place
        (``buf += v`` rebinds a float, changes an array)."""
        held = self.globals_held
        if held.holds(name) is not None and (always or held.may_change(name)):
            self.fail(f"this writes in place into {name!r}, which holds a module-level object (or a part "
                      "of one): Python changes the module's object, which diffc does not follow", node,
                      hint=f"work on a copy ({name} = ....copy()), or pass the object as an argument "
                           "and return the new value")

    def run(self):
        # Defaults of a lifted local function (`def gate(k, act=sigmoid)`) name globals the
        # emitted copy must bind too.
        args = self.info.node.args
        for default in list(args.defaults) + [d for d in args.kw_defaults if d is not None]:
            for n in gast.walk(default):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load) \
                        and not hasattr(n, "diffc_global"):
                    obj = self.info.resolve_static(n)
                    if obj is not MISSING:
                        n.diffc_global = obj
        self.globals_held.hold_defaults(args)
        self.info.node.body = self.block(self.info.node.body)
        return self.info

    def view_of_local(self, node):
        """`y.T`, `y.reshape(s)`, `y.ravel()`, `np.reshape(y, s)`...: a view of a local array
        written through (`y.T[0] += v`)."""
        if isinstance(node, gast.Attribute):
            return node.attr == "T" and isinstance(node.value, gast.Name) and node.value.id in self.locals
        if not isinstance(node, gast.Call):
            return False
        func = node.func
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.locals:
            return func.attr in _VIEW_METHODS
        target = self.info.resolve_static(func)
        return any(target is f for f in _VIEW_FUNCTIONS) and bool(node.args) \
            and isinstance(node.args[0], gast.Name) and node.args[0].id in self.locals

    def into_view(self, target, out):
        """The write target `y.T[i]` as `_view[i]` after `_view = y.T`: the write into the
        view is then followed into y (transform/reshaped_views.py) or refused."""
        view = self.namer.fresh("_view")
        self.locals.add(view)
        out.append(A.assign(view, self.rhs(target.value, out)))
        return gast.Subscript(value=A.name(view), slice=target.slice, ctx=gast.Store())

    def tmp(self):
        name = self.namer.fresh("_t")
        self.locals.add(name)
        return name

    def block(self, stmts):
        out = []
        for stmt in stmts:
            produced = []
            self.statement(stmt, produced)
            synced = getattr(stmt, "diffc_synced", None)
            if synced and isinstance(stmt, (gast.Assign, gast.Expr)):
                for s in produced:      # (transform/held_changes.py: the object takes it back next)
                    if isinstance(s, gast.Expr) or isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript):
                        s.diffc_synced = set(getattr(s, "diffc_synced", ())) | set(synced)
            out.extend(A.located_all(produced, stmt))
        return out

    # ------------------------------------------------------------ statements
    def statement(self, stmt, out):
        kind = type(stmt)
        if kind is gast.Assign:
            if len(stmt.targets) == 1:
                self.assign_to(stmt.targets[0], self.rhs(stmt.value, out), out, stmt)
            else:
                value = self.atom(stmt.value, out)
                for target in stmt.targets:
                    self.assign_to(target, A.deepcopy(value), out, stmt)
        elif kind is gast.AnnAssign:
            self.assign_to(stmt.target, self.rhs(stmt.value, out), out, stmt)
        elif kind is gast.AugAssign:
            self.augassign(stmt, out)
        elif kind is gast.Expr:
            if isinstance(stmt.value, gast.Constant):
                return                                    # docstring or bare constant
            value = self.rhs(stmt.value, out)
            if isinstance(value, gast.Call):
                out.append(A.expr_stmt(value))
        elif kind is gast.If:
            test = self.atom(stmt.test, out)
            before = self.globals_held.snapshot()
            body = self.block(stmt.body) or [gast.Pass()]
            after_body, self.globals_held.held = self.globals_held.snapshot(), before
            orelse = self.block(stmt.orelse)
            self.globals_held.merge(after_body, self.globals_held.snapshot())
            out.append(gast.If(test=test, body=body, orelse=orelse))
        elif kind is gast.For:
            added = self.globals_held.enter_loop(stmt.body)
            self.for_loop(stmt, out)
            self.globals_held.leave_loop(added)
        elif kind is gast.While:
            added = self.globals_held.enter_loop(stmt.body)
            cond = []
            test = self.atom(stmt.test, cond)
            A.located_all(cond, stmt)
            body = self.block(stmt.body) + [A.deepcopy(s) for s in cond]
            out.extend(cond)
            loop = gast.While(test=test, body=body or [gast.Pass()], orelse=[])
            if hasattr(stmt, "diffc_checkpoint"):
                loop.diffc_checkpoint = stmt.diffc_checkpoint
            out.append(loop)
            self.globals_held.leave_loop(added)
        elif kind is gast.Return:
            value = self.atom(stmt.value, out) if stmt.value is not None else A.const(None)
            out.append(gast.Return(value=value))
        elif kind in (gast.Raise, gast.Assert, gast.Pass):
            self.mark_globals(stmt)
            out.append(stmt)
        else:
            self.fail(f"{kind.__name__} statements are not supported", stmt)

    def assign_to(self, target, value, out, stmt):
        if isinstance(target, gast.Name):
            out.append(A.assign(target.id, value))
            self.globals_held.bind(target.id, value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            self.unpack(target, value, out, stmt)
        elif isinstance(target, gast.Subscript):
            if self.copied_item(target):
                atom = self.atomize_rhs(value, out)
                self.into_copy(target, out, lambda inner: self.assign_to(inner, atom, out, stmt))
                return
            if self.nested_item(target):
                self.check_not_global(target.value.value.id, target)
                atom = self.atomize_rhs(value, out)
                self.through_item(target, out, lambda inner: self.assign_to(inner, atom, out, stmt))
                return
            if self.item_of_local(target):
                atom = self.atomize_rhs(value, out)
                self.through_named_item(target, out, lambda inner: self.assign_to(inner, atom, out, stmt))
                return
            if self.view_of_local(target.value):
                self.assign_to(self.into_view(target, out), value, out, stmt)
                return
            if isinstance(target.value, gast.Name):
                self.check_not_global(target.value.id, target)
            if not isinstance(target.value, gast.Name) or target.value.id not in self.locals:
                self.fail("only writes into a local variable (`y[i] = v`) are supported", target,
                          hint="write y[i, j] = v instead of y[i][j] = v, and assign attributes outside; "
                               "y[i][j] = v is followed when the items of y stay in y (made in the "
                               "function, only read through y[i][j] in arithmetic)")
            index = self.index(target.slice, out)
            atom = self.atomize_rhs(value, out)
            if isinstance(index, gast.Slice) and isinstance(value, (gast.List, gast.Tuple, gast.ListComp)):
                # lst[i:i] = [v] would change the list's length
                bounds = [A.deepcopy(b) if b is not None else A.const(None) for b in (index.lower, index.upper, index.step)]
                as_slice = A.call(A.global_ref(slice, "slice"), bounds)
                check = A.call(A.global_ref(runtime_checks.check_list_slice_length, "check_list_slice_length"),
                               [A.name(target.value.id), as_slice, A.deepcopy(atom),
                                A.const(self.info.source.file_line(stmt))])
                out.append(A.located(A.expr_stmt(check), stmt))
            out.append(A.assign(A.subscript(A.name(target.value.id), index, gast.Store()), atom))
        else:
            self.fail("assignment to this kind of target is not supported", target,
                      hint="assign to a name or to y[index]")

    def copied_item(self, target):
        """``y[[0, 2]][j] = v``, ``y[y > 0][j] = v``: the outer index is a list, array or
        comparison written there, so y[...] is a new array and the write changes only it."""
        return isinstance(target.value, gast.Subscript) and self.basic_index(target.value.slice) is False

    def into_copy(self, target, out, write):
        """The write of copied_item as Python does it: into a copy of y[index], which nothing
        reads afterwards (write(_t[j]) emits it)."""
        taken = self.atom(target.value, out)
        copy = self.tmp()
        out.append(A.assign(copy, A.call(A.global_ref(runtime.copy_value, "copy_value"), [taken])))
        write(A.subscript(A.name(copy), target.slice, gast.Store()))

    def nested_item(self, target):
        """``rows[i][j]`` with rows a local whose items stay in it (_items_stay_private)."""
        outer = target.value
        if not (isinstance(outer, gast.Subscript) and isinstance(outer.value, gast.Name)
                and outer.value.id in self.locals):
            return False
        root = outer.value.id
        private = self.__dict__.setdefault("_private_items", {})
        if root not in private:
            private[root] = _items_stay_private(self.info, root)
        return private[root]

    def through_item(self, target, out, write):
        """``rows[i][j] = v`` as ``_t = rows[i]; _t[j] = v; rows[i] = _t`` (write(_t[j])
        emits the middle), the same in Python, where _t is rows[i]'s own object.  The write
        into _t is marked synced with rows (transform/sweep.py check_aliasing): the store
        back that follows gives rows the written item; no other name holds it."""
        outer = target.value
        root = outer.value.id
        basic = self.basic_index(outer.slice)
        index = self.index(outer.slice, out)
        item = self.tmp()
        out.append(A.assign(item, A.subscript(A.name(root), index)))
        start = len(out)
        write(A.subscript(A.name(item), target.slice, gast.Store()))
        for s in out[start:]:
            s.diffc_synced = set(getattr(s, "diffc_synced", ())) | {(root, item)}
        back = A.assign(A.subscript(A.name(root), A.deepcopy(index), gast.Store()), A.name(item))
        if basic is True:
            out.append(back)
            return
        # an index held in a variable: a view (the write reaches rows) only when it is basic
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        test = self.tmp()
        out.append(A.assign(test, A.call(A.global_ref(runtime_checks.basic_index, "basic_index"),
                                         [A.deepcopy(p) for p in parts if isinstance(p, gast.Name)])))
        out.append(gast.If(test=A.name(test), body=[back], orelse=[]))

    def item_of_local(self, target):
        """``rows[i][j]`` (or deeper) whose items may not stay in rows (nested_item said no):
        rows a local name."""
        root = target.value
        while isinstance(root, gast.Subscript):
            root = root.value
        return isinstance(target.value, gast.Subscript) and isinstance(root, gast.Name) \
            and root.id in self.locals

    def through_named_item(self, target, out, write):
        """``rows[i][j] = v`` as ``_t = rows[i]; _t[j] = v``, which is what Python does (_t is
        rows[i]'s own object) and what a user writes by hand: the write into _t is then an
        ordinary write into an item taken out of a container, which the alias analysis
        follows (item_write_back gives rows its item back) or refuses, as for the named form.
        write(_t[j]) emits the write."""
        root = target.value
        while isinstance(root, gast.Subscript):
            root = root.value
        self.check_not_global(root.id, target)
        taken = self.rhs(target.value, out)
        item = self.tmp()
        out.append(A.assign(item, taken))
        self.globals_held.bind(item, taken)
        write(A.subscript(A.name(item), target.slice, gast.Store()))

    def basic_index(self, index):
        """True when the (source) index of ``rows[index][j] = v`` is basic (ints, slices,
        None, ..., names that only loops over range bind), so that rows[index] is a view;
        False when it is a list, array or comparison written there; None when only the run
        time can tell (a name bound to anything else)."""
        parts = index.elts if isinstance(index, gast.Tuple) else [index]
        verdict = True
        for p in parts:
            if isinstance(p, gast.Slice) or (isinstance(p, gast.Constant) and type(p.value) is not bool):
                continue
            if isinstance(p, (gast.List, gast.ListComp, gast.Compare, gast.Set)) or \
                    (isinstance(p, gast.Call) and _is_numpy(self.info.resolve_static(p.func))):
                return False
            if not (isinstance(p, gast.Name) and p.id in self.range_targets()):
                verdict = None
        return verdict

    def range_targets(self):
        """Local names bound only as targets of ``for name in range(...)`` (ints)."""
        if "_range_targets" not in self.__dict__:
            stores, targets = {}, {}
            for n in gast.walk(self.info.node):
                if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store):
                    stores[n.id] = stores.get(n.id, 0) + 1
                if isinstance(n, gast.For) and isinstance(n.target, gast.Name) and isinstance(n.iter, gast.Call) \
                        and self.info.resolve_static(n.iter.func) is builtins.range:
                    targets[n.target.id] = targets.get(n.target.id, 0) + 1
            self._range_targets = {t for t, k in targets.items() if stores.get(t) == k}
        return self._range_targets

    def unpack(self, target, value, out, stmt):
        if any(isinstance(e, gast.Starred) for e in target.elts):
            self.fail("starred unpacking is not supported", target)
        if isinstance(value, (gast.Tuple, gast.List)) and len(value.elts) == len(target.elts):
            # Literal on the right: evaluate all, then assign (a, b = b, a swaps).
            stored = A.names_stored(target)
            atoms = []
            for elt in value.elts:
                atom = elt
                if isinstance(elt, gast.Name) and elt.id in stored:
                    copy = self.tmp()
                    out.append(A.assign(copy, elt))
                    atom = A.name(copy)
                atoms.append(atom)
            for sub_target, atom in zip(target.elts, atoms):
                self.assign_to(sub_target, atom, out, stmt)
            return
        whole = self.atomize_rhs(value, out)
        for k, sub_target in enumerate(target.elts):
            self.assign_to(sub_target, A.subscript(A.deepcopy(whole), A.const(k)), out, stmt)

    def augassign(self, stmt, out):
        target = stmt.target
        value = self.atom(stmt.value, out)
        if isinstance(target, gast.Name):
            self.check_not_global(target.id, target, always=False)
            update = A.assign(target.id, A.binop(A.name(target.id), stmt.op, value))
            # On an array or a list, Python updates the object in place: another name
            # sharing it sees the change (analysis/aliases.py checks nobody does).
            update.diffc_augmented = True
            update.diffc_synced = set(getattr(stmt, "diffc_synced", ()))
            out.append(update)
        elif isinstance(target, gast.Subscript) and self.copied_item(target):
            self.into_copy(target, out, lambda inner: self.augassign(
                gast.AugAssign(target=inner, op=stmt.op, value=value), out))
        elif isinstance(target, gast.Subscript) and self.nested_item(target):
            self.check_not_global(target.value.value.id, target)
            self.through_item(target, out, lambda inner: self.augassign(
                gast.AugAssign(target=inner, op=stmt.op, value=value), out))
        elif isinstance(target, gast.Subscript) and self.item_of_local(target):
            self.through_named_item(target, out, lambda inner: self.augassign(
                gast.AugAssign(target=inner, op=stmt.op, value=value), out))
        elif isinstance(target, gast.Subscript) and self.view_of_local(target.value):
            self.augassign(gast.AugAssign(target=self.into_view(target, out), op=stmt.op, value=value), out)
        elif isinstance(target, gast.Subscript):
            if not isinstance(target.value, gast.Name) or target.value.id not in self.locals:
                self.fail("only writes into a local variable (`y[i] += v`) are supported", target)
            self.check_not_global(target.value.id, target)
            index = self.index(target.slice, out)
            old, new = self.tmp(), self.tmp()
            out.append(A.assign(old, A.subscript(A.name(target.value.id), index)))
            update = A.assign(new, A.binop(A.name(old), stmt.op, value))
            # An item that is an array (`params["w"] *= 3`) is updated in place in Python:
            # another name holding it sees the change (analysis/aliases.py, `ITEM_UPDATE`).
            update.diffc_item_update = (target.value.id, old)
            update.diffc_synced = {(target.value.id, old)}      # the container takes it back
            out.append(update)
            out.append(A.assign(A.subscript(A.name(target.value.id), A.deepcopy(index), gast.Store()),
                                A.name(new)))
        else:
            self.fail("augmented assignment to this kind of target is not supported", target)

    def for_loop(self, stmt, out):
        assigned_in_body = set()
        for s in stmt.body:
            assigned_in_body |= A.names_stored(s)
        args = []
        for arg in stmt.iter.args:
            atom = self.atom(arg, out)
            if isinstance(atom, gast.Name) and atom.id in assigned_in_body:
                frozen = self.tmp()
                out.append(A.assign(frozen, atom))
                atom = A.name(frozen)
            args.append(atom)
        func = self.atom(stmt.iter.func, out)
        loop = gast.For(target=A.store(stmt.target.id), iter=A.call(func, args), body=self.block(stmt.body)
                        or [gast.Pass()], orelse=[], type_comment=None)
        for note in ("diffc_iterates", "diffc_checkpoint"):
            if hasattr(stmt, note):
                setattr(loop, note, getattr(stmt, note))
        out.append(loop)

    # ----------------------------------------------------------- expressions
    def atom(self, expr, out):
        """An atom holding the value of expr, with statements appended to out."""
        return self.atomize_rhs(self.rhs(expr, out), out)

    def atomize_rhs(self, rhs, out):
        if A.is_atom(rhs) or self.is_static(rhs):
            return rhs
        if isinstance(rhs, gast.Tuple) and rhs.elts and all(
                isinstance(e, gast.Constant) and type(e.value) is int for e in rhs.elts):
            # axes or a shape written out (`x.transpose((2, 0, 1))`): a constant, not a temporary
            # the gradient code would keep (and code differentiated again take for a value)
            return A.const(tuple(e.value for e in rhs.elts))
        name = self.tmp()
        out.append(A.assign(name, rhs))
        return A.name(name)

    def is_static(self, expr):
        while isinstance(expr, gast.Attribute):
            expr = expr.value
        return isinstance(expr, gast.Name) and hasattr(expr, "diffc_global")

    def mark_globals(self, node):
        for n in gast.walk(node):
            if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
                self.name_ref(n)

    def name_ref(self, node):
        if hasattr(node, "diffc_global") or node.id in self.locals:
            return node
        obj = self.info.resolve_static(node)
        if obj is MISSING:
            raise UnsupportedSyntax(f"name {node.id!r} is not defined", node, self.info.source,
                                    hint="define it at module level or pass it as an argument")
        node.diffc_global = obj
        return node

    def rhs(self, expr, out):
        """A single-operation expression over atoms equal to expr."""
        kind = type(expr)
        if kind is gast.Name:
            return self.name_ref(expr)
        if kind is gast.Constant:
            return expr
        if kind is gast.Attribute:
            if self.is_static_chain(expr):
                return expr
            return gast.Attribute(value=self.atom(expr.value, out), attr=expr.attr, ctx=gast.Load())
        if kind is gast.BinOp:
            left = self.atom(expr.left, out)
            right = self.atom(expr.right, out)
            return A.binop(left, expr.op, right)
        if kind is gast.UnaryOp:
            operand = self.atom(expr.operand, out)
            if isinstance(operand, gast.Constant) and isinstance(expr.op, gast.USub) \
                    and isinstance(operand.value, (int, float)) and not isinstance(operand.value, bool):
                return A.const(-operand.value)
            if isinstance(expr.op, gast.UAdd) and isinstance(operand, gast.Constant):
                return operand
            # +v of an array is a new array, not v: dropping the + would alias them
            return gast.UnaryOp(op=expr.op, operand=operand)
        if kind is gast.Compare:
            return self.compare(expr, out)
        if kind is gast.BoolOp:
            return self.boolop(expr, out)
        if kind is gast.IfExp:
            test = self.atom(expr.test, out)
            result = self.tmp()
            body, orelse = [], []
            body.append(A.assign(result, self.rhs(expr.body, body)))
            orelse.append(A.assign(result, self.rhs(expr.orelse, orelse)))
            out.append(gast.If(test=test, body=body, orelse=orelse))
            return A.name(result)
        if kind is gast.Call:
            return self.call(expr, out)
        if kind is gast.Subscript:
            value = self.atom(expr.value, out)
            return A.subscript(value, self.index(expr.slice, out))
        if kind in (gast.Tuple, gast.List):
            return kind(elts=[self.atom(e, out) for e in expr.elts], ctx=gast.Load())
        if kind is gast.Set:
            # {a, b}: set([a, b]); a set of constants is a constant, one holding differentiated
            # values is refused where a derivative would need it (rules.REFUSALS).
            items = gast.List(elts=[self.atom(e, out) for e in expr.elts], ctx=gast.Load())
            listed = self.tmp()
            out.append(A.located(A.assign(listed, items), expr))
            return A.located(A.call(A.global_ref(builtins.set, "set"), [A.name(listed)]), expr)
        if kind is gast.Dict:
            if any(k is None for k in expr.keys):
                self.fail("dict unpacking (**d) is not supported", expr)
            return gast.Dict(keys=[self.atom(k, out) for k in expr.keys],
                             values=[self.atom(v, out) for v in expr.values])
        if kind is gast.NamedExpr:
            # (n := v): v once, into a temporary, so a later `:=` to n in the same
            # expression does not change what this one evaluated to.
            value = self.atom(expr.value, out)
            out.append(A.assign(expr.target.id, value))
            return value
        if kind is gast.JoinedStr:
            for part in expr.values:
                if isinstance(part, gast.FormattedValue):
                    part.value = self.atom(part.value, out)
            return expr
        self.fail(f"the expression {kind.__name__} is not supported", expr)

    def is_static_chain(self, expr):
        base = expr
        while isinstance(base, gast.Attribute):
            base = base.value
        if not isinstance(base, gast.Name) or base.id in self.locals:
            return False
        obj = self.info.resolve_static(expr)
        if obj is MISSING:
            return False
        self.name_ref(base)
        return True

    def index(self, index, out):
        if isinstance(index, gast.Slice):
            return gast.Slice(lower=self.atom(index.lower, out) if index.lower is not None else None,
                              upper=self.atom(index.upper, out) if index.upper is not None else None,
                              step=self.atom(index.step, out) if index.step is not None else None)
        if isinstance(index, gast.Tuple):
            return gast.Tuple(elts=[self.index(e, out) for e in index.elts], ctx=gast.Load())
        return self.atom(index, out)

    def compare(self, expr, out):
        left = self.atom(expr.left, out)
        if len(expr.ops) == 1:
            return gast.Compare(left=left, ops=expr.ops, comparators=[self.atom(expr.comparators[0], out)])
        # a < b < c  ->  t = a < b; if t: t = b < c
        result = self.tmp()
        block = out
        for op, comparator in zip(expr.ops, expr.comparators):
            right = self.atom(comparator, block)
            block.append(A.assign(result, gast.Compare(left=left, ops=[op], comparators=[right])))
            inner = []
            node = gast.If(test=A.name(result), body=inner, orelse=[])
            block.append(node)
            block, left = inner, right
        # Drop the trailing empty if.
        _prune_empty_ifs(out)
        return A.name(result)

    def boolop(self, expr, out):
        result = self.tmp()
        out.append(A.assign(result, self.rhs(expr.values[0], out)))
        block = out
        for value in expr.values[1:]:
            inner = []
            inner.append(A.assign(result, self.rhs(value, inner)))
            if isinstance(expr.op, gast.And):
                node = gast.If(test=A.name(result), body=inner, orelse=[])
            else:
                node = gast.If(test=A.name(result), body=[gast.Pass()], orelse=inner)
            block.append(node)
            block = inner
        return A.name(result)

    def call(self, expr, out):
        func = expr.func
        target = self.info.resolve_static(func) if not (isinstance(func, gast.Name)
                                                         and func.id in self.locals) else MISSING
        if target is not MISSING:
            if isinstance(func, gast.Name):
                self.name_ref(func)
            else:
                self.is_static_chain(func)
        elif isinstance(func, gast.Attribute):
            func = gast.Attribute(value=self.atom(func.value, out), attr=func.attr, ctx=gast.Load())
        elif isinstance(func, gast.Name):
            pass                                   # a local callable: resolved (or refused) later
        else:
            func = self.atom(func, out)
        # A starred argument (at most one, alone: transform/starred.py) stays starred.
        args = [gast.Starred(value=self.atom(a.value, out), ctx=gast.Load()) if isinstance(a, gast.Starred)
                else self.atom(a, out) for a in expr.args]
        keywords = [gast.keyword(arg=k.arg, value=self.atom(_single_out(k), out)) for k in expr.keywords]
        if isinstance(target, FunctionInfo) and target.lifted_params:
            n_own = len(target.node.args.args) - len(target.lifted_params)
            if len(args) >= n_own or any(isinstance(a, gast.Starred) for a in args):
                args += [A.name(p) for p in target.lifted_params]
            else:
                # defaulted parameters left out: the captured values go by name, after them
                keywords += [gast.keyword(arg=p, value=A.name(p)) for p in target.lifted_params]
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.attr in CHANGING_METHODS:
            if hasattr(func.value, "diffc_global") and isinstance(func.value.diffc_global, MUTABLE) \
                    and not self.only_logged_into(func.value.id, func.attr):
                self.fail(f"{func.value.id}.{func.attr}(...) changes a module-level object in place, which "
                          "diffc does not follow", expr, hint="build a new value and return it")
            self.check_not_global(func.value.id, expr, always=False)
        if target is MISSING and isinstance(func, gast.Attribute) and func.attr in _OUT_SECOND \
                and len(args) > _OUT_SECOND[func.attr] and not any(isinstance(a, gast.Starred) for a in args):
            at = _OUT_SECOND[func.attr]
            if isinstance(args[at], gast.Name) and args[at].id in self.locals and A.is_atom(func.value):
                return self.positional_out(expr, func, args, keywords, at, out)
            line = A.const(self.info.source.file_line(expr))
            out.append(A.located(A.expr_stmt(A.call(A.global_ref(runtime_checks.check_no_positional_out,
                                                                  "check_no_positional_out"),
                                                     [A.deepcopy(func.value), A.const(func.attr), line])), expr))
        written = self.in_place_form(expr, target, func, args, keywords, out)
        if written is not None:
            return written
        if target is zip and any(k.arg == "strict" for k in keywords) \
                and not any(isinstance(a, gast.Starred) for a in args):
            keywords = self.checked_zip(expr, args, keywords, out)
        if (target is min or target is max) and len(args) == 1 and not isinstance(args[0], gast.Starred) \
                and isinstance(func, gast.Name) and any(k.arg == "default" for k in keywords):
            return self.extremum_or_default(expr, func, args[0], keywords, out)
        call = A.call(func, args, keywords)
        if hasattr(expr, "diffc_writes_held"):          # (transform/attribute_writes.py)
            call.diffc_writes_held = expr.diffc_writes_held
        if hasattr(expr, "diffc_writes_elsewhere"):
            call.diffc_writes_elsewhere = True
        return call

    def positional_out(self, expr, func, args, keywords, at, out):
        """``x.dot(b, y)``, ``x.max(0, y)`` (`out` by position, a local name): on an ndarray
        (decided when the code runs) the write into y it is, ``_t = x.dot(b); y[...] = _t``;
        any other object's method of that name gets its arguments as written."""
        import numpy as np
        y = self.written_local(args[at], expr)
        params = _positional_params(getattr(np, func.attr))[1:]
        named = keywords + [gast.keyword(arg=p, value=a) for p, a in zip(params[at + 1:], args[at + 1:])]
        is_array, result, value = self.tmp(), self.tmp(), self.tmp()
        test = A.call(A.global_ref(isinstance, "isinstance"), [A.deepcopy(func.value),
                                                                A.global_ref(np.ndarray, "ndarray")])
        out.append(A.assign(is_array, test))
        written = [A.assign(result, A.call(A.deepcopy(func), [A.deepcopy(a) for a in args[:at]], named)),
                   self.whole_write(y, A.name(result)), A.assign(value, A.name(y))]
        # another class's method: called as a function value, so that no ndarray method rule
        # (out by position) is chosen for it
        method, fargs, fkw = self.tmp(), self.tmp(), self.tmp()
        other = [A.assign(method, A.call(A.global_ref(runtime_calls.unbound_method, "unbound_method"),
                                         [A.deepcopy(func.value), A.const(func.attr)])),
                 A.assign(fargs, gast.Tuple(elts=[A.deepcopy(func.value)] + list(args), ctx=gast.Load())),
                 A.assign(fkw, gast.Dict(keys=[A.const(k.arg) for k in keywords], values=[k.value for k in keywords])),
                 A.assign(value, A.call(A.global_ref(runtime_calls.call_value, "call_value"),
                                        [A.name(method), A.name(fargs), A.name(fkw)]))]
        out.append(A.if_(A.name(is_array), written, other))
        return A.name(value)

    def extremum_or_default(self, expr, func, iterable, keywords, out):
        """min(it, default=d) / max(it, key=k, default=d): ``_items = list(it)``, then the
        extremum of _items if it has any, else d (which is evaluated only then, as Python does)."""
        default = next(k.value for k in keywords if k.arg == "default")
        rest = [k for k in keywords if k.arg != "default"]
        items, result = self.tmp(), self.tmp()
        out.append(A.assign(items, A.call(A.global_ref(list, "list"), [iterable])))
        key = next((k.value for k in rest if k.arg == "key"), None)
        if key is not None and not (isinstance(key, gast.Constant) and key.value is None):
            # with a key: the first of the stably sorted items, as transform/builtin_forms.py
            ordered = self.tmp()
            order = [gast.keyword(arg="key", value=key)] + (
                [gast.keyword(arg="reverse", value=A.const(True))] if func.id == "max" else [])
            picked = [A.assign(ordered, A.call(A.global_ref(sorted, "sorted"), [A.name(items)], order)),
                      A.assign(result, A.subscript(A.name(ordered), A.const(0)))]
        else:
            picked = [A.assign(result, A.call(func, [A.name(items)], [k for k in rest if k.arg != "key"]))]
        fallback = [A.assign(result, default)]
        out.append(A.located(gast.If(test=A.name(items), body=picked, orelse=fallback), expr))
        return A.name(result)

    def checked_zip(self, expr, args, keywords, out):
        """zip(a, b, strict=s): Python's length check as a statement (runtime_checks.check_zip_strict,
        when s is not the constant False), then zip(a, b) (its rules take no keyword)."""
        strict = next(k.value for k in keywords if k.arg == "strict")
        if not (isinstance(strict, gast.Constant) and not strict.value):
            check = A.call(A.global_ref(runtime_checks.check_zip_strict, "check_zip_strict"),
                           [gast.Tuple(elts=[A.deepcopy(a) for a in args], ctx=gast.Load())])
            out.append(A.located(gast.If(test=A.deepcopy(strict), body=[A.expr_stmt(check)], orelse=[]), expr))
        return [k for k in keywords if k.arg != "strict"]

    def in_place_form(self, expr, target, func, args, keywords, out):
        """Library calls that write into an array, as the in-place writes they are.

        ``f(..., out=y)`` -> ``_t = f(...); y[...] = _t`` (the call's value is y);
        ``np.copyto(y, v)`` -> ``y[...] = v``; ``y.fill(v)`` -> ``y[...] = v``;
        ``np.add.at(y, i, v)`` -> ``_t = scatter_added(y, i, v); y[...] = _t`` (subtract.at and
        multiply.at alike); ``np.fill_diagonal(y, v)`` and ``np.put(y, i, v)`` alike.
        Returns the expression the call evaluates to, or None for other calls."""
        import numpy as np
        args, keywords = self.out_by_name(expr, target, func, args, keywords)
        if isinstance(func, gast.Attribute) and func.attr in _IN_PLACE_DUNDERS:
            self.fail(f"{func.attr} changes its object in place, which diffc does not follow when called "
                      "by name", expr, hint=f"write the operator instead (y += v, y *= v ...)")
        out_kw = [k for k in keywords if k.arg == "out"]
        if out_kw and not (isinstance(out_kw[0].value, gast.Constant) and out_kw[0].value.value is None):
            y = self.written_local(out_kw[0].value, expr)
            rest = [k for k in keywords if k.arg != "out"]
            result = self.tmp()
            out.append(A.assign(result, A.call(func, args, rest)))
            out.append(self.whole_write(y, A.name(result)))
            return A.name(y)
        ufunc = ufunc_at(self.info, expr.func, target)
        if ufunc is not None:
            first = expr.args[0] if expr.args else None
            if not (isinstance(first, gast.Name) and first.id in self.locals):
                expr.diffc_writes_elsewhere = True      # refused where a derivative flows (sweep.py)
            elif ufunc in SCATTERS and len(args) == 3 and not keywords \
                    and not any(isinstance(a, gast.Starred) for a in args):
                # np.add.at(y, index, v): y[...] = scatter_added(y, index, v), one differentiable value
                result = self.tmp()
                scatter = SCATTERS[ufunc]
                out.append(A.assign(result, A.call(A.global_ref(scatter, scatter.__name__), args, [])))
                out.append(self.whole_write(first.id, A.name(result)))
                return A.const(None)
        writer = _WHOLE_WRITERS.get(target) if target is not MISSING and _hashable(target) else None
        if writer is not None and args and not any(isinstance(a, gast.Starred) for a in args) \
                and all(k.arg is not None for k in keywords):
            # np.fill_diagonal(y, v), np.put(y, i, v): y[...] = the changed copy
            result = self.tmp()
            out.append(A.assign(result, A.call(A.global_ref(writer, writer.__name__), args, keywords)))
            out.append(self.whole_write(self.written_local(args[0], expr), A.name(result)))
            return A.const(None)
        if target is getattr(np, "copyto", None) and len(args) == 2 and not keywords:
            out.append(self.whole_write(self.written_local(args[0], expr), args[1]))
            return A.const(None)
        if target is MISSING and isinstance(func, gast.Attribute) and func.attr in _RETURN_NONE \
                and isinstance(func.value, gast.Name) and func.value.id in self.locals:
            # `r = lst.append(v)`, `if lst.append(v) is None`: the change is a statement of its
            # own (the sweeps follow list changes only there); the value is None.
            out.append(A.expr_stmt(A.call(func, args, keywords)))
            return A.const(None)
        if target is MISSING and isinstance(func, gast.Attribute) and func.attr == "fill" \
                and isinstance(func.value, gast.Name) and func.value.id in self.locals \
                and len(args) == 1 and not keywords:
            self.check_not_global(func.value.id, expr)
            out.append(self.whole_write(func.value.id, args[0]))
            return A.const(None)
        return None

    def out_by_name(self, expr, target, func, args, keywords):
        """(args, keywords) with an `out` array given by position moved to ``out=``: np.exp(x, y),
        np.dot(a, b, y), np.cumsum(x, 0, None, y), np.add.reduce(x, 0, None, y), x.sum(0, None, y)
        (what follows out goes by name too, by the NumPy signature)."""
        import numpy as np
        if any(isinstance(a, gast.Starred) for a in args):
            return args, keywords
        if isinstance(target, np.ufunc):
            if len(args) <= target.nin:
                return args, keywords
            outs = args[target.nin:]            # the arguments after the inputs are `out`
            if len(outs) != 1:
                self.fail("this ufunc call writes into several arrays (positional out=...)", expr,
                          hint="assign each result instead")
            return args[:target.nin], keywords + [gast.keyword(arg="out", value=outs[0])]
        if target is MISSING and isinstance(func, gast.Attribute) and func.attr in ("reduce", "accumulate") \
                and isinstance(self.info.resolve_static(func.value), np.ufunc):
            target = getattr(self.info.resolve_static(func.value), func.attr)
        if _is_numpy(target) or isinstance(getattr(target, "__self__", None), np.ufunc):
            params = _positional_params(target)
        elif target is MISSING and isinstance(func, gast.Attribute) and func.attr in _METHODS_WITH_OUT:
            params = _positional_params(getattr(np, func.attr))[1:]     # a method: after the array
        else:
            return args, keywords
        if "out" not in params[:len(args)]:
            return args, keywords
        at = params.index("out")
        return args[:at], keywords + [gast.keyword(arg=p, value=a) for p, a in zip(params[at:], args[at:])]

    def only_logged_into(self, name, method):
        """`HISTORY.append(loss)` on a module-level list this function never reads
        otherwise: a log, which runs as Python (no differentiated code reads it back)."""
        if method not in ("append", "extend", "insert"):
            return False
        loads = [n for n in A.walk(self.info.node) if isinstance(n, gast.Name) and n.id == name
                 and isinstance(n.ctx, gast.Load)]
        receivers = {id(n.func.value) for n in A.walk(self.info.node) if isinstance(n, gast.Call)
                     and isinstance(n.func, gast.Attribute) and n.func.attr in ("append", "extend", "insert")
                     and isinstance(n.func.value, gast.Name)}
        return all(id(n) in receivers for n in loads)

    def written_local(self, atom, call):
        if isinstance(atom, gast.Tuple) and len(atom.elts) == 1:
            atom = atom.elts[0]
        if not (isinstance(atom, gast.Name) and atom.id in self.locals):
            self.fail("this call writes its result into an array that is not a local variable", call,
                      hint="assign the result instead: y = f(...)")
        self.check_not_global(atom.id, call)
        return atom.id

    def whole_write(self, y, value):
        index = gast.Constant(value=Ellipsis, kind=None)
        return A.assign(A.subscript(A.name(y), index, gast.Store()), value)


def ufunc_at(info, func, target=MISSING):
    """The ufunc whose ``at`` method a call's func is (np.add for ``np.add.at``), else None;
    target: what info resolves func to, when known."""
    import numpy as np
    if target is MISSING and isinstance(func, gast.Attribute) and func.attr == "at":
        owner = info.resolve_static(func.value)
        return owner if isinstance(owner, np.ufunc) else None
    owner = getattr(target, "__self__", None)
    if isinstance(owner, np.ufunc) and getattr(target, "__name__", None) == "at":
        return owner
    return None


def _scatters():
    import numpy as np
    return {np.add: runtime_scatter.scatter_added, np.subtract: runtime_scatter.scatter_subtracted,
            np.multiply: runtime_scatter.scatter_multiplied}


# ufunc -> the runtime helper computing its .at on a copy (transform/scatter_adds.py too)
SCATTERS = _scatters()


def _whole_writers():
    import numpy as np
    return {np.fill_diagonal: runtime_scatter.filled_diagonal, np.put: runtime_scatter.put_values,
            np.put_along_axis: runtime_scatter.put_along_values}


# NumPy functions writing into their first argument -> the runtime helper computing a changed copy
_WHOLE_WRITERS = _whole_writers()


def _hashable(obj):
    try:
        hash(obj)
    except TypeError:
        return False
    return True


# Methods that change a local container in place and return None (lists, dicts, sets, deques).
_RETURN_NONE = ("append", "extend", "insert", "remove", "sort", "reverse", "clear")

_IN_PLACE_DUNDERS = {f"__i{op}__" for op in ("add", "sub", "mul", "matmul", "truediv", "floordiv", "mod", "pow",
                                               "lshift", "rshift", "and", "xor", "or")} | {"__setitem__", "__delitem__"}


# ndarray methods taking `out` after at least two other positional parameters (x.sum(axis,
# dtype, out)); those with `out` second (x.max(axis, out), x.dot(b, out)) are left alone, as
# a method of that name of another class taking two arguments is common.
_METHODS_WITH_OUT = {"clip", "compress", "cumprod", "cumsum", "mean", "prod", "std", "sum", "take", "trace",
                     "var"}


# ndarray methods whose `out` is their second positional parameter (x.max(axis, out)): on an
# ndarray, positional out is refused at run time (another class's x.dot(a, b) is common)
_OUT_SECOND = {"all": 1, "any": 1, "argmax": 1, "argmin": 1, "choose": 1, "dot": 1, "max": 1, "min": 1,
               "round": 1}


def _single_out(keyword):
    """The value of a keyword argument, but y for ``out=(y,)`` (the ufunc form of one output)."""
    value = keyword.value
    if keyword.arg == "out" and isinstance(value, gast.Tuple) and len(value.elts) == 1:
        return value.elts[0]
    return value


def _positional_params(fn):
    """The names of fn's parameters that a positional argument may fill, in order ([] when
    its signature is not known)."""
    import inspect
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]


def _prune_empty_ifs(stmts):
    for i in range(len(stmts) - 1, -1, -1):
        s = stmts[i]
        if isinstance(s, gast.If):
            _prune_empty_ifs(s.body)
            if not s.body and not s.orelse:
                del stmts[i]


_FRESH_READERS = {builtins.len, builtins.float, builtins.abs, builtins.sum, builtins.max, builtins.min}


def _items_stay_private(info, root):
    """Whether no name, container or call but `root` itself can hold one of root's items, so
    that a write into an item (``rows[i][j] = v``) is seen only through root: root is
    bound once, to a display or comprehension of fresh values (no names) or a NumPy call,
    and every other use reads an item of an item in arithmetic or a comparison, writes one,
    or hands root or an item to len, float, sum... or a NumPy function making a new value."""
    import numpy as np
    parents = {}
    for node in gast.walk(info.node):
        for child in gast.iter_child_nodes(node):
            parents[id(child)] = node
    stores = [n for n in gast.walk(info.node) if isinstance(n, gast.Name) and n.id == root
              and not isinstance(n.ctx, gast.Load)]
    if len(stores) != 1 or not isinstance(parents.get(id(stores[0])), gast.Assign):
        return False
    bound = parents[id(stores[0])].value
    if not _fresh_value(info, bound):
        return False
    # arithmetic on a whole array is a new array (on a list, + and * keep its items)
    whole_arithmetic = isinstance(bound, gast.Call)

    def fresh_call(call):
        fn = info.resolve_static(call.func)
        return fn in _FRESH_READERS or (_is_numpy(fn) and fn not in (np.asarray, np.asanyarray))
    for node in gast.walk(info.node):
        if not (isinstance(node, gast.Name) and node.id == root and isinstance(node.ctx, gast.Load)):
            continue
        top, depth = node, 0
        while isinstance(parents.get(id(top)), gast.Subscript) and parents[id(top)].value is top:
            top, depth = parents[id(top)], depth + 1
        parent = parents.get(id(top))
        if depth and not isinstance(top.ctx, gast.Load):
            continue                            # a write: rows[i][j] = v, rows[i] = v
        if isinstance(parent, gast.Call) and top in parent.args and fresh_call(parent):
            continue
        if (depth >= 2 or whole_arithmetic) and isinstance(parent, (gast.BinOp, gast.UnaryOp, gast.Compare)):
            continue
        return False
    return True


def _fresh_value(info, value):
    """A value no other name holds a part of: a number, a NumPy call, arithmetic, or a list,
    tuple or comprehension of those."""
    if isinstance(value, gast.Constant) or isinstance(value, (gast.BinOp, gast.UnaryOp)):
        return True
    if isinstance(value, gast.Call):
        return _is_numpy(info.resolve_static(value.func))
    if isinstance(value, (gast.List, gast.Tuple)):
        return all(_fresh_value(info, e) for e in value.elts)
    if isinstance(value, gast.ListComp):
        return _fresh_value(info, value.elt)
    return False


def _is_numpy(fn):
    return (getattr(fn, "__module__", None) or "").split(".")[0] == "numpy" or type(fn).__name__ == "ufunc"
