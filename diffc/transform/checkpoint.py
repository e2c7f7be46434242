"""checkpoint: reverse mode for a loop that stores snapshots instead of a full tape.

Input: one ANF loop statement (a ``for`` over ``range(...)`` -- desugar
lowers every other ``for`` to one -- or a ``while``) of a `ReverseFunction`
that asked for checkpointing: the loop carries a ``diffc_checkpoint``
annotation (set by desugar for ``for t in diffc.checkpointed(...)``; ``True``
or a snapshot budget), or the compilation was requested with
``checkpoint=True|k`` and the loop is outermost and carries active state.

Output: (forward statements, adjoint statements) replacing what reverse.py
would produce for the loop, with the same contract: markers inside are
resolved by ``pipeline.resolve_markers`` like any others, and when the
adjoint statements have run every variable the rest of the adjoint reads
holds the value it had before the loop (the restore scheme).

  * forward: build a schedule object (`checkpoint_runtime.RangeCheckpoints`
    or `OnlineCheckpoints`), then run the loop *plainly* -- the statements
    reverse.py generates for the body, with every tape push removed (callees
    get a throw-away tape) -- storing a snapshot of the loop state before the
    steps the schedule asks for.  The loop state is every variable the body
    reads before assigning it in the same iteration and assigns somewhere,
    plus containers it writes in place (stored as copies).
  * adjoint: ``for op in ck.actions():`` dispatching on RESTORE (state :=
    snapshot, mutable parts copied because a snapshot may be restored
    again), ADVANCE (plain steps), SNAPSHOT, and REVERSE (the body's taped
    forward for a few steps, then the body's adjoint for them backwards).

Tape memory is one REVERSE span (one step under the binomial schedule) plus
the snapshots: O(snapshots x loop state) instead of O(iterations x tape per
step).  The price is recomputation: each step runs plainly about
1 + log_snapshots(iterations) times more (see checkpoint_runtime).

Checkpointing does not nest: loops inside a checkpointed loop are taped
normally (they only live for one REVERSE span anyway).
"""

import builtins

import gast

from .. import ast_util as A
from .. import checkpoint_runtime as CR
from .. import runtime
from ..analysis.activity import MUTATING_METHODS
from .reverse import TAPE, is_marker, marker, rt

_FORWARD_MARKERS = ("save", "save_item", "push_count")


# ------------------------------------------------------------------ requests

def checkpointed_loop(rf, stmt):
    """(forward, adjoint) of a loop to checkpoint, else None (the reverse pass asks, through
    its module: pipeline.Module.checkpointed_loop)."""
    budget = wanted(rf, stmt)
    return transform(rf, stmt, budget) if budget is not None else None


def wanted(rf, stmt):
    """The snapshot budget (True or an int) when this loop is to be checkpointed, else None."""
    if rf.checkpointing:
        return None                         # no nesting: see module docstring
    spec = getattr(stmt, "diffc_checkpoint", None)
    if spec is not None:
        return spec
    option = getattr(rf.module, "checkpoint", None)
    if option is None or option is False or rf.loop_depth > 0:
        return None
    state, mutable = loop_state(rf, stmt)
    # A loop whose carried state holds no derivative has nothing to tape per step.
    if not any(v in rf.active for v in state):
        return None
    return option


# --------------------------------------------------------------- loop state

def loop_state(rf, stmt):
    """(sorted state variables, the subset that must be copied) of a loop."""
    exposed = set()
    _exposed(stmt.body, set(), exposed)
    stored, mutated = set(), set()
    for s in A.walk_statements(stmt.body):
        if isinstance(s, gast.Assign):
            target = s.targets[0]
            if isinstance(target, gast.Subscript):
                mutated.add(target.value.id)
            else:
                stored |= A.names_stored(target)
        elif isinstance(s, gast.For):
            stored |= A.names_stored(s.target)
        elif isinstance(s, gast.Expr) and isinstance(s.value, gast.Call):
            func = s.value.func
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                    and func.attr in MUTATING_METHODS:
                mutated.add(func.value.id)
    primal = set(rf.info.local_names) | set(rf.params)
    state = sorted((exposed & (stored | mutated)) & primal)
    mutable = {v for v in state if v in mutated or v in rf.written}
    return state, mutable


def _exposed(stmts, defined, out):
    """Names read before any assignment in one pass over stmts (upward-exposed uses)."""
    for s in stmts:
        if isinstance(s, gast.Assign):
            out |= A.names_loaded(s.value) - defined
            target = s.targets[0]
            if isinstance(target, gast.Name):
                defined.add(target.id)
            else:
                out |= A.names_loaded(target) - defined
        elif isinstance(s, gast.If):
            out |= A.names_loaded(s.test) - defined
            left, right = set(defined), set(defined)
            _exposed(s.body, left, out)
            _exposed(s.orelse, right, out)
            defined |= left & right
        elif isinstance(s, gast.For):
            out |= A.names_loaded(s.iter) - defined
            _exposed(s.body, set(defined) | A.names_stored(s.target), out)
        elif isinstance(s, gast.While):
            out |= A.names_loaded(s.test) - defined
            _exposed(s.body, set(defined), out)
        else:
            out |= A.names_loaded(s) - defined


# ---------------------------------------------------------------- transform

def transform(rf, stmt, spec):
    """(forward, adjoint) statements of a checkpointed loop (see module docstring)."""
    namer = rf.namer
    is_for = isinstance(stmt, gast.For)
    outer_loop = rf.loop_depth > 0
    state, mutable = loop_state(rf, stmt)

    rf.loop_depth += 1
    rf.checkpointing += 1
    body_f, body_a = rf.block(stmt.body)
    rf.checkpointing -= 1
    rf.loop_depth -= 1

    ck, k = namer.fresh("_ckpt"), namer.fresh("_step")
    op, snap = namer.fresh("_op"), namer.fresh("_snap")
    # The schedule object is a primal variable: inside another loop it is
    # overwritten per iteration, so the restore scheme saves and restores it.
    rf.info.add_locals({ck})
    rf.def_count[ck] = 1
    if outer_loop:
        rf.loop_defined.add(ck)
    # A state variable may be unbound when the loop starts (first assigned in a
    # branch of the body): bind it to None at entry so the snapshot can hold it.
    inits = rf.entry_inits
    known = {s.targets[0].id for s in inits}
    inits += [A.assign(v, A.const(None)) for v in state if v not in rf.params and v not in known]

    budget = A.const(None if spec is True else spec)

    def snapshot():
        elts = [A.call(rt(runtime.copy_value), [A.name(v)]) if v in mutable else A.name(v) for v in state]
        return A.expr_stmt(A.method_call(A.name(ck), "store", [gast.Tuple(elts=elts, ctx=gast.Load())]))

    def restore():
        out = [A.assign(snap, A.method_call(A.name(ck), "load"))]
        for i, v in enumerate(state):
            value = A.subscript(A.name(snap), A.const(i))
            if v in mutable:
                value = A.call(rt(runtime.copy_value), [value])
            out.append(A.assign(v, value))
        return out

    def step_target():
        if not is_for:
            return []
        return [A.assign(stmt.target.id, A.subscript(A.attr(A.name(ck), "steps"), A.name(k)))]

    def loop_over(span, body):
        return gast.For(target=A.store(k), iter=A.method_call(A.name(ck), span), body=step_target() + body,
                        orelse=[], type_comment=None)

    due = A.if_(A.method_call(A.name(ck), "due", [A.name(k)]), [snapshot()])
    if is_for:
        make = A.call(A.global_ref(CR.RangeCheckpoints, "RangeCheckpoints"), [A.deepcopy(stmt.iter), budget])
        loop = gast.For(target=A.store(k), iter=A.call(A.global_ref(builtins.range, "range"),
                                                        [A.attr(A.name(ck), "n")]),
                        body=[due] + step_target() + _plain(body_f), orelse=[], type_comment=None)
        forward = [A.assign(ck, make), loop]
    else:
        make = A.call(A.global_ref(CR.OnlineCheckpoints, "OnlineCheckpoints"), [budget])
        count = A.assign(k, A.binop(A.name(k), gast.Add(), A.const(1)))
        loop = gast.While(test=stmt.test, body=[due] + _plain(body_f) + [count], orelse=[])
        forward = [A.assign(ck, make), A.assign(k, A.const(0)), loop,
                   A.expr_stmt(A.method_call(A.name(ck), "finish", [A.name(k)]))]
    if outer_loop:
        forward.insert(0, marker("save", ck))

    def is_op(code):
        return gast.Compare(left=A.name(op), ops=[gast.Eq()], comparators=[A.const(code)])

    # The actions exclude each other, so flat `if`s read better than an elif chain.
    dispatch = [A.if_(is_op(CR.RESTORE), restore()),
                A.if_(is_op(CR.ADVANCE), [loop_over("span", _plain(body_f))]),
                A.if_(is_op(CR.SNAPSHOT), [snapshot()]),
                A.if_(is_op(CR.REVERSE), [loop_over("span", body_f), loop_over("span_reversed", body_a)])]
    adjoint = [gast.For(target=A.store(op), iter=A.method_call(A.name(ck), "actions"), body=dispatch,
                        orelse=[], type_comment=None)]
    if outer_loop:
        adjoint.append(marker("restore", ck))
    return A.located_all(forward, stmt), A.located_all(adjoint, stmt)


def _plain(stmts):
    """A copy of forward statements that records nothing: no tape pushes; callees tape into a
    fresh list that is dropped at once."""
    out = []
    for s in A.deepcopy(stmts):
        if is_marker(s):
            if s.diffc_marker[0] in _FORWARD_MARKERS:
                continue
            out.append(s)
            continue
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(s, field, _plain(inner) or [gast.Pass()])
        _DropTape().visit(s)
        out.append(s)
    return out


class _DropTape(gast.NodeTransformer):
    def visit_Call(self, node):
        self.generic_visit(node)
        node.args = [gast.List(elts=[], ctx=gast.Load())
                     if isinstance(a, gast.Name) and a.id == TAPE else a for a in node.args]
        return node
