"""tape_markers: decide what the tape holds and replace the reverse transform's markers.

Input: the forward and adjoint statement lists of one function from
transform/reverse.py, which mark every place the adjoint may need a primal value
back with a marker statement (`is_marker`): ``save``/``restore`` of a name
rebound later, ``save_item``/``restore_item`` around an in-place write,
``restore_append``/``restore_extend`` of a list grown in place, ``push_count``/
``pop_count`` of a loop's trip count, ``batch_save``/``batch_restore`` of several
names, ``restore_unsupported`` for a mutation diffc cannot undo.

Output (`resolve_tape_markers`): the same lists without markers.  A primal name is
*read* when the adjoint (or a kept marker, or a view of it) loads it; a *tape
variable* is a read name bound more than once.  Markers of names neither read nor
taped are dropped (with blocks left empty by them), the others become tape pushes
(`_tape.append(v)`, marked `diffc_tape_op` for optimize/use_loop_tapes.py), pops, item
copies and restores, list truncations.  A ``restore_unsupported`` of a name the
adjoint reads is an UnsupportedSyntax error at that line.  Nothing else changes.
"""

from typing import NamedTuple

import gast

from .. import ast_util as A
from .. import runtime
from ..errors import UnsupportedSyntax
from .reverse import TAPE, index_value, is_marker, rt


class Resolved(NamedTuple):
    forward: list           # the forward statements, markers replaced
    adjoint: list           # the adjoint statements, markers replaced, dead ones dropped
    tape_vars: set          # primal names saved on the tape (read and bound more than once)
    read: set               # primal names the adjoint reads (itself, or to undo an in-place write)
    kept: set               # read, and the names a callee's adjoint reads through its own tape
    uses_tape: bool         # whether either list pushes or pops the tape


def resolve_tape_markers(forward, adjoint, primal_names, views, multiply_defined, source):
    """Replace the markers of forward and adjoint (see the module docstring).

    primal_names: the function's locals and parameters; views: name -> names whose
    arrays it may view (rf.view_bases()); multiply_defined(name): whether the name is
    bound more than once; source: for the error of a mutation diffc cannot undo."""
    while True:
        read = _adjoint_reads(adjoint, primal_names, views)
        loaded = _adjoint_reads(adjoint, primal_names, views, restored=read)
        tape_vars = {v for v in loaded if multiply_defined(v)}
        pruned = _prune(adjoint, read, tape_vars)
        if _adjoint_reads(pruned, primal_names, views) == read:
            adjoint = pruned
            break
        adjoint = pruned
    kept_counts = {m.diffc_marker[1] for m in _markers(adjoint, "pop_count")}
    for m in _markers(adjoint, "restore_unsupported"):
        if m.diffc_marker[1] in read:
            raise UnsupportedSyntax(f"the value of {m.diffc_marker[1]!r} is needed by the gradient "
                                    "but is modified by a method diffc cannot undo",
                                    m.diffc_marker[2], source, hint="build a new list instead")
    forward = _replace_markers(forward, read, tape_vars, kept_counts)
    adjoint = _replace_markers(adjoint, read, tape_vars, kept_counts)
    uses_tape = bool(tape_vars) or _uses_tape(forward) or _uses_tape(adjoint)
    return Resolved(forward, adjoint, tape_vars, loaded, read, uses_tape)


def _markers(stmts, kind):
    return [s for s in _walk_all(stmts) if is_marker(s, kind)]


def _walk_all(stmts):
    for s in stmts:
        yield s
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list):
                yield from _walk_all(inner)


def _marker_reads(m, read, tape_vars):
    kind = m.diffc_marker[0]
    if kind == "restore_item" and m.diffc_marker[1] in read:
        return {m.diffc_marker[1]} | A.names_loaded(m.diffc_marker[2])
    if kind == "restore_extend" and m.diffc_marker[1] in read:
        return {m.diffc_marker[1]} | A.names_loaded(m.diffc_marker[2])
    if kind == "restore_append" and m.diffc_marker[1] in read:
        return {m.diffc_marker[1]}
    return set()


def _adjoint_reads(stmts, primal_names, views, restored=None):
    """Primal names the adjoint code reads (markers that would be kept included).

    views: name -> names whose arrays it may view; reading a view reads those
    arrays, so their in-place writes must be undone before it (their restores kept).
    A split callee's adjoint reads, through its own tape, the objects it was given
    (`diffc_reads`): their in-place writes must be undone too, but the caller need not
    keep those names itself.  restored: None to count those reads (the names whose
    restores are kept); else the names the adjoint loads itself, restored being the
    names whose in-place writes are undone (their restores load them and the index)."""
    read = set()
    for s in _walk_all(stmts):
        if is_marker(s):
            continue
        if isinstance(s, (gast.If, gast.While)):
            read |= A.names_read(s.test)
        elif isinstance(s, gast.For):
            read |= A.names_read(s.iter)
        else:
            read |= A.names_read(s)
        if restored is None:
            read |= getattr(s, "diffc_reads", set())
    read &= primal_names
    # Restores of in-place writes read the index and the container; iterate to a fixpoint.
    while True:
        extra = set()
        for s in _walk_all(stmts):
            if is_marker(s):
                extra |= _marker_reads(s, read if restored is None else restored | read, None)
        for name in read:
            extra |= views.get(name, set())
        extra &= primal_names
        if extra <= read:
            return read
        read |= extra


def _effective(stmt, read, tape_vars):
    """Whether stmt does anything once markers are resolved."""
    if is_marker(stmt):
        kind, *args = stmt.diffc_marker
        if kind == "restore":
            return args[0] in tape_vars
        if kind == "batch_restore":
            return any(n in tape_vars for n in args[0])
        if kind in ("restore_item", "restore_append", "restore_extend", "restore_unsupported"):
            return args[0] in read
        if kind == "pop_count":
            return any(_effective(s, read, tape_vars) for s in args[1].body)
        return True
    if isinstance(stmt, (gast.If, gast.For, gast.While)):
        return any(_effective(s, read, tape_vars) for s in stmt.body + stmt.orelse)
    return True


def _prune(stmts, read, tape_vars):
    out = []
    for s in stmts:
        if not _effective(s, read, tape_vars):
            continue
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = _prune(s.body, read, tape_vars)
            s.orelse = _prune(s.orelse, read, tape_vars)
        out.append(s)
    return out


def _replace_markers(stmts, read, tape_vars, kept_counts):
    out = []
    for s in stmts:
        if isinstance(s, (gast.If, gast.For, gast.While)):
            s.body = _replace_markers(s.body, read, tape_vars, kept_counts)
            s.orelse = _replace_markers(s.orelse, read, tape_vars, kept_counts)
            out.append(s)
            continue
        if not is_marker(s):
            out.append(s)
            continue
        kind, *args = s.diffc_marker
        new = []
        push = lambda value: _tape_op(A.expr_stmt(A.method_call(A.name(TAPE), "append", [value])))  # noqa: E731
        pop = lambda: _tape_op(A.method_call(A.name(TAPE), "pop"))  # noqa: E731
        if kind == "save" and args[0] in tape_vars:
            new = [push(A.name(args[0]))]
        elif kind == "restore" and args[0] in tape_vars:
            new = [A.assign(args[0], pop())]
        elif kind == "save_item" and args[0] in read:
            y, index, is_array = args
            if is_array:
                value = A.call(rt(runtime.copy_value), [A.subscript(A.name(y), A.deepcopy(index))])
            else:
                value = A.call(rt(runtime.read_item), [A.name(y), index_value(index)])
            new = [push(value)]
        elif kind == "restore_item" and args[0] in read:
            y, index, is_array = args
            if is_array:
                new = [A.assign(A.subscript(A.name(y), A.deepcopy(index), gast.Store()), pop())]
            else:
                new = [A.expr_stmt(A.call(rt(runtime.write_item), [A.name(y), index_value(index), pop()]))]
        elif kind == "restore_append" and args[0] in read:
            new = [A.expr_stmt(A.method_call(A.name(args[0]), "pop"))]
        elif kind == "restore_extend" and args[0] in read:
            new = [A.expr_stmt(A.call(rt(runtime.truncate), [A.name(args[0]), args[1]]))]
        elif kind == "push_count" and args[0] in kept_counts:
            new = [push(A.name(args[0]))]
        elif kind == "pop_count":
            new = [A.assign(args[0], pop())]
        elif kind in ("batch_save", "batch_restore"):
            names = [n for n in args[0] if n in tape_vars]
            if len(names) == 1 and kind == "batch_save":
                new = [push(A.name(names[0]))]
            elif len(names) == 1:
                new = [A.assign(names[0], pop())]
            elif names and kind == "batch_save":
                new = [push(gast.Tuple(elts=[A.name(n) for n in names], ctx=gast.Load()))]
            elif names:
                new = [gast.Assign(targets=[gast.Tuple(elts=[A.store(n) for n in names], ctx=gast.Store())],
                                   value=pop(), type_comment=None)]
        out.extend(A.located_all(new, s))
    return out


def _tape_op(node):
    """Mark a save's push or a restore's pop (optimize/use_loop_tapes.py moves only those)."""
    node.diffc_tape_op = True
    return node


def _uses_tape(stmts):
    return any(isinstance(n, gast.Name) and n.id == TAPE for s in stmts for n in A.walk(s))
