"""fuse_reset_and_accumulate: an adjoint's first contribution assigns instead of adding to zero.

Input: a generated FunctionDef (after dead-code elimination and forward
substitution).
Output: the same function where
  * ``b = 0.0`` followed by ``b += e`` (nothing mentioning b in between, e not
    reading b) becomes ``b = e`` when e is a fresh value (arithmetic, or a
    helper returning a new buffer; ``b -= e`` becomes ``b = -e`` for any e),
    also when ``b += e`` opens (after statements not mentioning b) the body of
    an If that follows (``b = 0.0`` then stays for the path that skips it);
  * ``b = 0.0; b += e1; ...; b += e2`` becomes ``b = e1 + e2`` at the second's
    place when e1 and e2 are pure and write no buffer and the statements in
    between only assign such values to names e1 does not read;
  * at the function's top level, ``b = 0.0 ... b += e`` becomes ``b = e`` for
    any pure e when sharing e's object is safe (no parameter or global holds
    it, nothing writes into it afterwards, the return exposes it once).
A later in-place ``b += ...`` therefore never writes into another adjoint, a
caller's array or a read-only view.  Semantics are unchanged.
"""

import gast

from .. import ast_util as A
from .aliasing import classes_of, exposed, never_written, is_fresh
from .purity import pure_value
from .rewriting import mentioned_names, is_const


def fuse_reset_and_accumulate(fn):
    """`b = 0.0 ... b += e` (nothing touching b between) -> `b = e` when e is arithmetic;
    also when `b += e` opens (after statements not touching b) the body of an
    If that follows: there it becomes `b = e`, and `b = 0.0` stays for the
    path that skips the body.

    The first contribution of an adjoint assigns instead of adding to zero.  Only
    arithmetic results qualify (``b -= e`` becomes ``b = -e``, a new value for
    any e): they are fresh, writable values, so a later
    in-place `b += ...` never writes into another adjoint or a read-only view
    (a helper such as unbroadcast may return its argument itself)."""
    cache = {}
    changed = [False]

    def mentioned(stmt):
        entry = cache.get(id(stmt))
        if entry is None or entry[0] is not stmt:       # (the node kept alive: its id stays its own)
            entry = cache[id(stmt)] = (stmt, mentioned_names(stmt))
        return entry[1]

    def block(stmts):
        for s in stmts:
            for inner in A.child_blocks(s):
                block(inner)
        i = 0
        while i < len(stmts):
            s = stmts[i]
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and is_const(s.value, 0.0) and not isinstance(s.value.value, bool):
                name = s.targets[0].id
                for j in range(i + 1, len(stmts)):
                    later = stmts[j]
                    assigned = _first_contribution_as_assignment(later, name)
                    if assigned is not None:
                        stmts[j] = assigned
                        del stmts[i]
                        i -= 1
                        break
                    if isinstance(later, gast.If) and _assign_first_in_branch(later, name, mentioned):
                        break                   # b = 0.0 stays: the other branch needs it
                    k = _second_contribution(stmts, j, name, mentioned)
                    if k is not None:
                        stmts[k] = _two_contributions_as_assignment(later, stmts[k], name)
                        del stmts[j]
                        del stmts[i]
                        i -= 1
                        changed[0] = True
                        break
                    if name in mentioned(later):
                        break
            i += 1
    # Summing two contributions may need another reset turned into an assignment
    # first (it made a statement in between an assignment): sweep again then.
    for _ in range(8):
        changed[0] = False
        block(fn.body)
        if not changed[0]:
            break
    _share_first_contributions(fn)
    return fn


def _share_first_contributions(fn):
    """`b = 0.0 ... b += e` -> `b = e` at the function's top level for any pure e (not
    only fresh ones) when sharing e's object is safe: the object e gives (e itself,
    or an object one of the names `exposed(e)` holds) is then b's too, so

    * no parameter or global may hold it (the caller's array would come back as
      a gradient),
    * nothing may write into it after the assignment: no name that may share it
      (`_sharing_classes`) is updated in place (``+=``, a subscript store, a
      buffer-writing helper or an impure call receiving it), and
    * the return exposes no name sharing it but b (two gradients in one buffer).

    Typical case: a bias adjoint ``b1_bar += unbroadcast(_t2_bar, b1)``, a sum
    whenever shapes differ, ``_t2_bar`` itself when they are equal; the copy
    ``0.0 + ...`` made it a buffer of its own."""
    body = fn.body
    # The caller's values: parameters, and module-level objects the code reads.
    params = {a.id for a in fn.args.args} | \
        {n.id for n in A.walk(fn) if isinstance(n, gast.Name) and hasattr(n, "diffc_global")}
    classes = None
    i = 0
    while i < len(body):
        s = body[i]
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                and is_const(s.value, 0.0) and not isinstance(s.value.value, bool):
            name = s.targets[0].id
            for j in range(i + 1, len(body)):
                later = body[j]
                if isinstance(later, gast.AugAssign) and isinstance(later.op, gast.Add) \
                        and getattr(later.target, "id", None) == name:
                    if name not in A.names_loaded(later.value) and pure_value(later.value):
                        if classes is None:
                            classes = _sharing_classes(fn)
                        shared = classes.get(name, {name})
                        if not (shared & params) and never_written(body[j + 1:], shared) \
                                and _returned_alone(body, name, shared):
                            body[j] = A.located(A.assign(name, later.value), later)
                            del body[i]
                            i -= 1
                    break
                if name in mentioned_names(later):
                    break
        i += 1


def _sharing_classes(fn):
    """name -> the set of names that may hold the same object (or views of each other's),
    from every binding in fn: a target shares with what its value exposes."""
    groups = []
    for node in A.walk(fn):
        if isinstance(node, gast.Assign):
            groups.append(A.names_stored(gast.Tuple(elts=node.targets, ctx=gast.Store())) | exposed(node.value))
        elif isinstance(node, gast.AugAssign):
            groups.append(A.names_stored(node.target) | exposed(node.value))
        elif isinstance(node, gast.For):
            groups.append(A.names_stored(node.target) | A.names_loaded(node.iter))
    return classes_of(groups)


def _returned_alone(body, name, shared):
    """Whether the function's return exposes no name of shared but name, and name once."""
    ret = body[-1] if body and isinstance(body[-1], gast.Return) else None
    if ret is None or ret.value is None:
        return not any(isinstance(s, gast.Return) for s in A.walk_statements(body))
    values = ret.value.elts if isinstance(ret.value, gast.Tuple) else [ret.value]
    seen = 0
    for v in values:
        reached = exposed(v) & shared
        if reached - {name}:
            return False
        seen += name in reached
    return seen <= 1 and not any(isinstance(s, gast.Return) for s in A.walk_statements(body[:-1]))


def _assign_first_in_branch(stmt, name, mentioned):
    """`b = 0.0; ...; if t: (stmts not touching b) b += e` -> `... if t: b = e`.

    The If's test and the statements of its body before the `b += e` (a fresh e,
    not reading b; at the body's top level) do not mention b, so b is still 0.0
    there and adding to it only copies e.  Returns whether it rewrote."""
    if name in mentioned_names(stmt.test):
        return False
    for k, inner in enumerate(stmt.body):
        assigned = _first_contribution_as_assignment(inner, name)
        if assigned is not None:
            stmt.body[k] = assigned
            return True
        if name in mentioned(inner):
            return False
    return False


def _first_contribution_as_assignment(stmt, name):
    """`name = e` (or `name = -e`) for `name += e` (`name -= e`) while name is still 0.0.

    Only when e does not read name and, for +=, e is a fresh value (so name
    does not alias another adjoint); else None."""
    if isinstance(stmt, gast.AugAssign) and isinstance(stmt.op, (gast.Add, gast.Sub)) \
            and getattr(stmt.target, "id", None) == name \
            and name not in A.names_loaded(stmt.value) \
            and (isinstance(stmt.op, gast.Sub) or is_fresh(stmt.value)):
        value = stmt.value if isinstance(stmt.op, gast.Add) else gast.UnaryOp(op=gast.USub(), operand=stmt.value)
        return A.located(A.assign(name, value), stmt)
    return None


def _second_contribution(stmts, j, name, mentioned):
    """The index k of `name += e2` (or `-=`) that `name += e1` at stmts[j] can be summed with
    while name is still 0.0, else None.

    `name = e1 + e2` at k is the same value as `name = 0.0 + e1` at j followed by
    the in-place update at k, and a new value, so name owns it whatever e1 is
    (e1 need not be fresh: the sum replaces the copy `0.0 + e1` made).  It moves
    e1's evaluation from j to k, so e1 and e2 must be pure and write into no
    buffer, and the statements between must be assignments of such values to
    names e1 does not read, not mentioning name: nothing e1 reads, or the
    object it gives, changes before the sum reads it (the copy at j is gone)."""
    first = stmts[j]
    if not (isinstance(first, gast.AugAssign) and isinstance(first.op, gast.Add)
            and getattr(first.target, "id", None) == name and pure_value(first.value)
            and name not in A.names_loaded(first.value)):
        return None
    reads = A.names_loaded(first.value)
    for k in range(j + 1, len(stmts)):
        later = stmts[k]
        if isinstance(later, gast.AugAssign) and isinstance(later.op, (gast.Add, gast.Sub)) \
                and getattr(later.target, "id", None) == name:
            if name in A.names_loaded(later.value) or not pure_value(later.value):
                return None
            return k
        if not (isinstance(later, gast.Assign) and len(later.targets) == 1
                and isinstance(later.targets[0], gast.Name) and later.targets[0].id not in reads
                and pure_value(later.value) and name not in mentioned(later)):
            return None
    return None


def _two_contributions_as_assignment(first, second, name):
    """`name = e1 + e2` (`e1 - e2`) replacing `name += e1` and `name += e2` (`-= e2`)."""
    value = gast.BinOp(left=first.value, op=gast.Add() if isinstance(second.op, gast.Add) else gast.Sub(),
                       right=second.value)
    return A.located(A.assign(name, value), second)
