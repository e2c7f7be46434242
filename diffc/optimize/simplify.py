"""simplify: forward substitution, algebraic identities, dead stores of bars.

Input: a generated FunctionDef after dead-code elimination.
Output: the same function where
  * a temporary assigned a pure expression and read exactly once, later in
    the same block and outside any loop nested there, is replaced by the
    expression at its use (``_t1_bar = total_bar; x_bar += _t1_bar * i``
    becomes ``x_bar += total_bar * i``), provided nothing the expression
    reads is rebound or mutated in between (nor written into through a name
    that may share its object: ``p = (y, y)`` packed before ``y[0] = ...``);
  * ``e * 1.0``, ``1.0 * e``, ``e + 0.0``... and ``-(-e)`` are folded (also
    through a product or quotient: ``-((-a) / b * c)`` is ``a / b * c``),
    ``head_part(g, a, b)`` / ``tail_part(g, a, b)`` with a number a or b is g
    (a sum with a number never concatenates), and
    ``unbroadcast(-g, x)`` negates after summing: ``-unbroadcast(g, x)``;
  * ``x = 0.0`` followed by ``x += e`` (nothing reading x in between)
    becomes ``x = 0.0 + e`` only when e is a fresh value, otherwise it is kept.
Semantics, including evaluation order of impure calls, are unchanged.
"""

import gast

from .. import ast_util as A
from .. import effects
from .. import runtime
from ..runtime import unbroadcast as _unbroadcast
from ..rules.operators import falling_product, pow_dxk
from .dce import is_pure_expr, stored_names


def count_uses(fn):
    uses, defs = {}, {}
    for n in A.walk(fn):
        if isinstance(n, gast.Name):
            if isinstance(n.ctx, gast.Load):
                uses[n.id] = uses.get(n.id, 0) + 1
            else:
                defs[n.id] = defs.get(n.id, 0) + 1
        elif isinstance(n, gast.AugAssign) and isinstance(n.target, gast.Name):
            uses[n.target.id] = uses.get(n.target.id, 0) + 1
    return uses, defs


class Substitute(gast.NodeTransformer):
    def __init__(self, name, expr):
        self.name = name
        self.expr = expr
        self.done = False

    def visit_Name(self, node):
        if node.id == self.name and isinstance(node.ctx, gast.Load) and not self.done:
            self.done = True
            return self.expr
        return node


def _occurs_outside_loops(stmt, name):
    """True when `name` is read in stmt, and not inside a loop nested in stmt."""
    if isinstance(stmt, (gast.For, gast.While)):
        return False
    if isinstance(stmt, gast.If):
        if name in A.names_loaded(stmt.test):
            return True
        return False
    return name in A.names_loaded(stmt)


def forward_substitute(fn, protected=(), window=40):
    uses, defs = count_uses(fn)
    params = {a.id for a in fn.args.args}
    loaded_cache, stored_cache = {}, {}
    classes = []

    def shared_with(names):
        """The names that may hold an object the names read hold (or a view, or a
        container of it): a write into one of those in between changes what the
        moved expression would read (``p = (y, y)`` then ``y[0] = ...``)."""
        if not classes:
            classes.append(_structural_classes(fn))
        out = set()
        for n in names:
            out |= classes[0].get(n, {n})
        return out

    def loaded(stmt):
        key = id(stmt)
        if key not in loaded_cache:
            loaded_cache[key] = A.names_loaded(stmt)
        return loaded_cache[key]

    def stored(stmt):
        key = id(stmt)
        if key not in stored_cache:
            stored_cache[key] = stored_names(stmt)
        return stored_cache[key]

    def try_substitute(stmts, i):
        """Substitute stmts[i] into its single later use; True when it was removed."""
        stmt = stmts[i]
        name = stmt.targets[0].id
        reads = A.names_loaded(stmt.value)
        for j in range(i + 1, min(len(stmts), i + 1 + window)):
            later = stmts[j]
            if name in loaded(later):
                if not _occurs_outside_loops(later, name) or _written_through(later, name):
                    return False
                sub = Substitute(name, stmt.value)
                if isinstance(later, gast.If):
                    later.test = sub.visit(later.test)
                else:
                    sub.visit(later)
                if not sub.done:
                    return False
                loaded_cache.pop(id(later), None)
                del stmts[i]
                uses[name] = 0
                return True
            if stored(later) & (reads | {name}):
                return False
            if _writes_into(later, shared_with(reads)):
                return False
        return False

    def block(stmts):
        for stmt in stmts:
            if isinstance(stmt, gast.If):
                block(stmt.body)
                block(stmt.orelse)
            elif isinstance(stmt, (gast.For, gast.While)):
                block(stmt.body)
        i = len(stmts) - 1
        while i >= 0:
            stmt = stmts[i]
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                name = stmt.targets[0].id
                if name not in params and name not in protected and defs.get(name) == 1 \
                        and uses.get(name) == 1 and is_pure_expr(stmt.value):
                    try_substitute(stmts, i)
            i -= 1
    block(fn.body)
    return fn


def _written_through(stmt, name):
    """stmt writes into name's object (`name[i] = v`, `name.a += v`): substituting the
    value there would write into a temporary (`(e)[i] = v`), which code differentiated
    again cannot follow."""
    if not isinstance(stmt, (gast.Assign, gast.AugAssign)):
        return False
    targets = stmt.targets if isinstance(stmt, gast.Assign) else [stmt.target]
    for t in targets:
        for node in A.walk(t):
            if isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.value, gast.Name) \
                    and node.value.id == name:
                return True
    return False


def _held(expr):
    """Names whose objects expr's value may be, view, or hold as an element: through
    names, subscripts and attributes, tuple and list literals, copy_value (a copy of
    a tuple or list holds the same elements) and helpers returning their first
    argument.  Other calls are taken as fresh: `_sharing_classes` counts every
    argument of every call, which links nearly all adjoints of a gradient together."""
    if isinstance(expr, gast.Name):
        return {expr.id}
    if isinstance(expr, (gast.Subscript, gast.Attribute)):
        return _held(expr.value)
    if isinstance(expr, (gast.Tuple, gast.List)):
        out = set()
        for e in expr.elts:
            out |= _held(e)
        return out
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.args:
        fn = getattr(expr.func, "diffc_global", None)
        if fn is runtime.copy_value or effects.has(fn, effects.ARGUMENT_OR_NEW):
            return _held(expr.args[0])
    return set()


def _structural_classes(fn):
    """name -> the names that may hold the same object, or hold it as an element (`_held`).

    A value popped from a tape has lost its provenance: `_t5 = w[1:]` in the forward
    sweep is `..., _t5, ..., w = _tape.pop()` in the adjoint, and a restore
    `w[1:] = _tape.pop()` changes what `_t5` reads.  So every name bound from a pop
    shares a class with every name written through (`name[...] = v`, `name.a = v`)."""
    groups = []
    popped, written = set(), set()
    for node in A.walk(fn):
        if isinstance(node, gast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            bound = {target.id} if isinstance(target, gast.Name) else                 {e.id for e in target.elts if isinstance(e, gast.Name)}                 if isinstance(target, (gast.Tuple, gast.List)) else set()
            if bound:
                groups.append(bound | _held(node.value))
                if _is_pop(node.value):
                    popped |= bound
            if isinstance(target, (gast.Subscript, gast.Attribute)):
                written |= _held(target.value)
        elif isinstance(node, gast.AugAssign) and isinstance(node.target, (gast.Subscript, gast.Attribute)):
            written |= _held(node.target.value)
        elif isinstance(node, gast.For) and isinstance(node.target, gast.Name):
            groups.append({node.target.id} | A.names_loaded(node.iter))
    if popped:
        groups.append(popped | written)
    return _classes_of(groups)


def _is_pop(expr):
    """A value taken off a tape: `_tape.pop()`, or an entry of a preallocated tape `_tape1[i]`."""
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Attribute):
        return expr.func.attr == "pop"
    return isinstance(expr, gast.Subscript) and isinstance(expr.value, gast.Name) \
        and expr.value.id.startswith("_tape")


def _classes_of(groups):
    """name -> every name linked to it through the groups (union-find: two groups
    sharing a name join one class)."""
    parent = {}

    def find(n):
        parent.setdefault(n, n)
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for group in groups:
        group = list(group)
        for other in group[1:]:
            parent[find(other)] = find(group[0])
    classes = {}
    for n in list(parent):
        classes.setdefault(find(n), set()).add(n)
    return {n: classes[find(n)] for n in parent}


def _writes_into(stmt, shared):
    """Whether stmt may write into an object of the names shared (besides the names
    it rebinds or updates, `stored_names`).  ``lst.append(v)`` (a tape push, a list
    built in the primal) writes into lst only, never into v, and lst is not in
    shared because of its elements: the classes link a popped or iterated value
    with its list, which the push does not write into (a read of lst itself is
    a read the caller checks against `stored_names`)."""
    if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
            and isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "append" \
            and isinstance(stmt.value.func.value, gast.Name) and len(stmt.value.args) == 1 \
            and not stmt.value.keywords and not _has_call(stmt.value.args[0]):
        return False
    return not _never_written([stmt], shared)


def _reads_before_store(stmt):
    # x_bar += f(x_bar...) and y = f(y): the right side is evaluated before the store.
    return isinstance(stmt, (gast.Assign, gast.AugAssign))


def _pure_statement(stmt):
    if isinstance(stmt, (gast.Assign, gast.AugAssign)):
        return is_pure_expr(stmt.value)
    return False


def _has_call(expr):
    return any(isinstance(n, gast.Call) for n in A.walk(expr))


class _Algebra(gast.NodeTransformer):
    def visit_Assign(self, node):
        original = node.value
        self.generic_visit(node)
        if isinstance(node.value, gast.Name) and not isinstance(original, gast.Name):
            node.value = original        # `b = a * 1.0` must not make b an alias of a
        return node

    def visit_BinOp(self, node):
        self.generic_visit(node)
        left, right, op = node.left, node.right, node.op
        if isinstance(op, gast.Mult) and getattr(right, "diffc_folded_power", False):
            # the form the rule had before its derivative was a call: g * b * x ** (b - 1)
            return gast.BinOp(left=gast.BinOp(left=left, op=gast.Mult(), right=right.left),
                              op=gast.Mult(), right=right.right)
        if _is_number(left) and _is_number(right) and type(op) in _FOLD:
            try:
                value = _FOLD[type(op)](left.value, right.value)
            except (ArithmeticError, ValueError):
                return node
            if isinstance(value, (int, float)) and abs(value) < 1e15:
                return gast.Constant(value=value, kind=None)
        if isinstance(op, gast.Mult):
            if is_const(right, 1.0):
                return left
            if is_const(left, 1.0):
                return right
        if isinstance(op, (gast.Add, gast.Sub)) and is_const(right, 0.0) and not is_const(right, False):
            return left
        if isinstance(op, (gast.Div, gast.Pow)) and is_const(right, 1.0):
            return left
        if isinstance(op, gast.Mult) and isinstance(left, gast.UnaryOp) and isinstance(left.op, gast.USub):
            return gast.UnaryOp(op=gast.USub(), operand=gast.BinOp(left=left.operand, op=op, right=right))
        if isinstance(op, (gast.Add, gast.Sub)) and _drop_linear_negation(node.right):
            node.op = gast.Sub() if isinstance(op, gast.Add) else gast.Add()
        return node

    def visit_Call(self, node):
        """`unbroadcast(-g, x)` -> `-unbroadcast(g, x)`: negating after the sum over the
        broadcast axes touches x's elements instead of g's (the same value: negation
        is exact and the summation order does not change).  `pow_dxk(x, c, k)` with
        constant c and k (the k-th derivative of x ** c) becomes `coef * x ** (c - k)`,
        or 0 when the coefficient is 0 (x ** 0.0, x ** 1.0 differentiated twice ...)."""
        self.generic_visit(node)
        if isinstance(node.func, gast.Name) and getattr(node.func, "diffc_global", None) is pow_dxk \
                and len(node.args) == 3 and not node.keywords \
                and _is_number(node.args[1]) and _is_number(node.args[2]):
            return _folded_power_derivative(node.args[0], node.args[1].value, node.args[2].value)
        if isinstance(node.func, gast.Name) and getattr(node.func, "diffc_global", None) in _PARTS \
                and len(node.args) == 3 and not node.keywords \
                and (_is_signed_number(node.args[1]) or _is_signed_number(node.args[2])):
            return node.args[0]     # a number operand: `a + b` adds, never concatenates
        if isinstance(node.func, gast.Name) and getattr(node.func, "diffc_global", None) is _unbroadcast \
                and len(node.args) == 2 and not node.keywords and isinstance(node.args[0], gast.UnaryOp) \
                and isinstance(node.args[0].op, gast.USub):
            node.args[0] = node.args[0].operand
            return gast.UnaryOp(op=gast.USub(), operand=node)
        return node

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.USub) and isinstance(node.operand, gast.UnaryOp) \
                and isinstance(node.operand.op, gast.USub):
            return node.operand.operand
        if isinstance(node.op, gast.USub) and _has_linear_negation(node.operand) \
                and _drop_linear_negation(node.operand):
            return node.operand      # -((-a) / b * c) -> a / b * c
        return node

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        value = node.value
        if isinstance(node.op, gast.Add) and isinstance(value, gast.UnaryOp) and isinstance(value.op, gast.USub):
            node.op = gast.Sub()
            node.value = value.operand
        elif isinstance(node.op, (gast.Add, gast.Sub)) and _drop_linear_negation(node.value):
            node.op = gast.Sub() if isinstance(node.op, gast.Add) else gast.Add()
        return node


def _drop_linear_negation(expr):
    """Remove one unary minus that expr's value is odd in, so expr becomes -expr; whether it did.

    ``x + e`` with e = f(-g) for f linear in g (a product's factor, a quotient's
    numerator, the adjoint argument of a linear helper: unbroadcast, the spreads
    _sum_bar/_sum_bar_times, _extreme_bar, _dot_bar_a/_dot_bar_b) is ``x - f(g)``:
    the negation disappears instead of being applied to g (one operation less).
    Exact: negation commutes with rounded products, quotients and sums (up to
    the sign of zeros).  The path goes through expr's nodes only (a name's value
    is not looked into); the top-level minus is the caller's (-e) case."""
    parent, field, index = None, None, None
    node = expr
    while True:
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            if parent is None:
                return False                     # -e at the top: the existing rules
            if index is None:
                setattr(parent, field, node.operand)
            else:
                getattr(parent, field)[index] = node.operand
            return True
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
            side = "left" if _has_linear_negation(node.left) else "right"
            parent, field, index, node = node, side, None, getattr(node, side)
        elif isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
            parent, field, index, node = node, "left", None, node.left
        elif isinstance(node, gast.Call) and _linear_helper(node):
            parent, field, index, node = node, "args", 0, node.args[0]
        else:
            return False


def _has_linear_negation(expr):
    node = expr
    while True:
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
            return True
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Mult):
            if _has_linear_negation(node.left):
                return True
            node = node.right
        elif isinstance(node, gast.BinOp) and isinstance(node.op, gast.Div):
            node = node.left
        elif isinstance(node, gast.Call) and _linear_helper(node):
            node = node.args[0]
        else:
            return False


def _linear_helper(call):
    if not (isinstance(call.func, gast.Name) and call.args and not call.keywords):
        return False
    fn = getattr(call.func, "diffc_global", None)
    return effects.has(fn, effects.LINEAR_IN_FIRST)


def _folded_power_derivative(x, c, k):
    """The expression of `pow_dxk(x, c, k)` for numbers c, k (see rules/operators.py)."""
    coef, _ = falling_product(c, k)
    if coef == 0:
        return gast.Constant(value=0.0 if isinstance(coef, float) else 0, kind=None)
    e = c - k
    if e == 0:
        return gast.Constant(value=coef, kind=None)
    power = A.deepcopy(x) if e == 1 else gast.BinOp(left=A.deepcopy(x), op=gast.Pow(),
                                                      right=_number(e))
    if coef == 1:
        return power
    product = gast.BinOp(left=_number(coef), op=gast.Mult(), right=power)
    product.diffc_folded_power = True      # `g * product` re-associates as `g * coef * power`
    return product


def _number(value):
    if value < 0:
        return gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-value, kind=None))
    return gast.Constant(value=value, kind=None)


_PARTS = (runtime.head_part, runtime.tail_part)


def _is_signed_number(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.USub, gast.UAdd)):
        node = node.operand
    return _is_number(node)


def _is_number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float)


import operator as _op  # noqa: E402

_FOLD = {gast.Add: _op.add, gast.Sub: _op.sub, gast.Mult: _op.mul}


def is_const(node, value):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value == value


def algebra(fn):
    return _Algebra().visit(fn)


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
            entry = cache[id(stmt)] = (stmt, _all_names(stmt))
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
    or an object one of the names `_exposed(e)` holds) is then b's too, so

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
                    if name not in A.names_loaded(later.value) and _pure_value(later.value):
                        if classes is None:
                            classes = _sharing_classes(fn)
                        shared = classes.get(name, {name})
                        if not (shared & params) and _never_written(body[j + 1:], shared) \
                                and _returned_alone(body, name, shared):
                            body[j] = A.located(A.assign(name, later.value), later)
                            del body[i]
                            i -= 1
                    break
                if name in _all_names(later):
                    break
        i += 1


def _exposed(expr):
    """Names whose object expr may evaluate to (or to a view of): none for arithmetic
    and fresh helpers, g for unbroadcast(g, x) and finalize(g, x), every name
    another call reads in its arguments (or its receiver, for a method of a
    local value), every name any other expression reads."""
    if isinstance(expr, gast.Name):
        return {expr.id}
    if isinstance(expr, (gast.BinOp, gast.UnaryOp, gast.Compare, gast.BoolOp, gast.Constant)) \
            or is_fresh(expr):
        return set()
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name) and expr.args:
        fn = getattr(expr.func, "diffc_global", None)
        if effects.has(fn, effects.ARGUMENT_OR_NEW):
            return _exposed(expr.args[0])
    if isinstance(expr, (gast.Tuple, gast.List)):
        out = set()
        for e in expr.elts:
            out |= _exposed(e)
        return out
    if isinstance(expr, gast.Call):
        # What the call reads (it may return any of it, or views of it); not the
        # function itself, unless it is a method of a local value (x.reshape(...)).
        out = set()
        for arg in list(expr.args) + [k.value for k in expr.keywords]:
            out |= A.names_loaded(arg)
        base = expr.func
        while isinstance(base, gast.Attribute):
            base = base.value
        if isinstance(expr.func, gast.Attribute) and not hasattr(base, "diffc_global"):
            out |= A.names_loaded(expr.func.value)
        return out
    return A.names_loaded(expr)


def _sharing_classes(fn):
    """name -> the set of names that may hold the same object (or views of each other's),
    from every binding in fn: a target shares with what its value exposes."""
    groups = []
    for node in A.walk(fn):
        if isinstance(node, gast.Assign):
            groups.append(A.names_stored(gast.Tuple(elts=node.targets, ctx=gast.Store())) | _exposed(node.value))
        elif isinstance(node, gast.AugAssign):
            groups.append(A.names_stored(node.target) | _exposed(node.value))
        elif isinstance(node, gast.For):
            groups.append(A.names_stored(node.target) | A.names_loaded(node.iter))
    return _classes_of(groups)


def _never_written(stmts, shared):
    """Whether no statement of stmts (nested ones too) may write into an object of the names shared."""
    for stmt in A.walk_statements(stmts):
        if isinstance(stmt, gast.AugAssign) and A.names_stored(stmt.target) & shared:
            return False
        for node in A.walk(stmt):
            if isinstance(node, (gast.Subscript, gast.Attribute)) and isinstance(node.ctx, gast.Store) \
                    and A.names_loaded(node.value) & shared:
                return False
            if isinstance(node, gast.Call):
                receiver = node.func.value if isinstance(node.func, gast.Attribute) else None
                touched = set()
                for arg in list(node.args) + [k.value for k in node.keywords] + \
                        ([receiver] if receiver is not None else []):
                    touched |= _exposed(arg) | (A.names_loaded(arg) if not isinstance(arg, gast.Name) else set())
                if touched & shared and not _pure_value(node):
                    return False
    return True


def _returned_alone(body, name, shared):
    """Whether the function's return exposes no name of shared but name, and name once."""
    ret = body[-1] if body and isinstance(body[-1], gast.Return) else None
    if ret is None or ret.value is None:
        return not any(isinstance(s, gast.Return) for s in A.walk_statements(body))
    values = ret.value.elts if isinstance(ret.value, gast.Tuple) else [ret.value]
    seen = 0
    for v in values:
        exposed = _exposed(v) & shared
        if exposed - {name}:
            return False
        seen += name in exposed
    return seen <= 1 and not any(isinstance(s, gast.Return) for s in A.walk_statements(body[:-1]))


def _assign_first_in_branch(stmt, name, mentioned):
    """`b = 0.0; ...; if t: (stmts not touching b) b += e` -> `... if t: b = e`.

    The If's test and the statements of its body before the `b += e` (a fresh e,
    not reading b; at the body's top level) do not mention b, so b is still 0.0
    there and adding to it only copies e.  Returns whether it rewrote."""
    if name in _all_names(stmt.test):
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
            and getattr(first.target, "id", None) == name and _pure_value(first.value)
            and name not in A.names_loaded(first.value)):
        return None
    reads = A.names_loaded(first.value)
    for k in range(j + 1, len(stmts)):
        later = stmts[k]
        if isinstance(later, gast.AugAssign) and isinstance(later.op, (gast.Add, gast.Sub)) \
                and getattr(later.target, "id", None) == name:
            if name in A.names_loaded(later.value) or not _pure_value(later.value):
                return None
            return k
        if not (isinstance(later, gast.Assign) and len(later.targets) == 1
                and isinstance(later.targets[0], gast.Name) and later.targets[0].id not in reads
                and _pure_value(later.value) and name not in mentioned(later)):
            return None
    return None


def _two_contributions_as_assignment(first, second, name):
    """`name = e1 + e2` (`e1 - e2`) replacing `name += e1` and `name += e2` (`-= e2`)."""
    value = gast.BinOp(left=first.value, op=gast.Add() if isinstance(second.op, gast.Add) else gast.Sub(),
                       right=second.value)
    return A.located(A.assign(name, value), second)


def _pure_value(expr):
    return is_pure_expr(expr) and not _calls_mutating_helper(expr)


def _calls_mutating_helper(expr):
    for n in A.walk(expr):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Name):
            fn = getattr(n.func, "diffc_global", None)
            if effects.has(fn, effects.MUTATES_FIRST):
                return True
    return False


def _all_names(stmt):
    return {n.id for n in A.walk(stmt) if isinstance(n, gast.Name)}


def is_fresh(expr):
    """Whether expr certainly evaluates to a new object (safe to own and update in place)."""
    if isinstance(expr, (gast.BinOp, gast.UnaryOp)):
        return True
    if isinstance(expr, gast.Call) and isinstance(expr.func, gast.Name):
        fn = getattr(expr.func, "diffc_global", None)
        if effects.has(fn, effects.OWNED_BUFFER):
            return True
        if fn is runtime.unbroadcast and expr.args:
            return is_fresh(expr.args[0])      # returns its argument, or a new sum of it
    return False


def absorb_scales(fn):
    """First-order rewrites of adjoint products, after optimize/spread.py made its helper calls.

    * ``_sum_bar_times(g, a, y, ...) * c`` -> ``_sum_bar_times(g * c, a, y, ...)`` for a
    constant c that is a power of two of magnitude 1 or more (2.0: the doubled
    contribution of ``x * x``).

    The spread times y is g * y (g a scalar, or smaller than y): scaling g by c
    instead of the product costs one operation on g instead of one on the
    product.  The value is the same bit for bit: multiplying by a power of two
    is exact and commutes with rounding (outside overflow; with |c| >= 1 no
    product underflows where it did not before).  A zero g (the guarded form's
    0.0) stays zero.
    * ``g * (1.0 - r * r)`` (tanh's adjoint; either operand order) ->
      ``_times_one_minus_square(g, r)``, the same value with one temporary
      instead of three for large arrays (rules/elementwise.py).  First order only: the
      helper has no derivative rules."""
    return _AbsorbScales().visit(fn)


class _AbsorbScales(gast.NodeTransformer):
    def visit_BinOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, gast.Mult):
            for call, scale in ((node.left, node.right), (node.right, node.left)):
                if _is_sum_bar_times(call) and _is_power_of_two(scale):
                    call.args[0] = gast.BinOp(left=call.args[0], op=gast.Mult(), right=scale)
                    return call
            for g, factor in ((node.left, node.right), (node.right, node.left)):
                r = _one_minus_square_of(factor)
                # (with the factor on the left, g is evaluated first now: it must be pure)
                if r is not None and (g is node.left or _pure_value(g)):
                    from ..rules.elementwise import times_one_minus_square
                    return A.call(A.global_ref(times_one_minus_square, "_times_one_minus_square"), [g, r])
        return node


def _one_minus_square_of(node):
    """r for ``1.0 - r * r`` (r a plain local name), else None."""
    if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Sub) and is_const(node.left, 1.0) \
            and type(node.left.value) is float and isinstance(node.right, gast.BinOp) \
            and isinstance(node.right.op, gast.Mult):
        a, b = node.right.left, node.right.right
        if isinstance(a, gast.Name) and isinstance(b, gast.Name) and a.id == b.id \
                and not hasattr(a, "diffc_global") and not hasattr(b, "diffc_global"):
            return a
    return None


def _is_sum_bar_times(node):
    if not (isinstance(node, gast.Call) and isinstance(node.func, gast.Name) and node.args):
        return False
    fn = getattr(node.func, "diffc_global", None)
    return (getattr(fn, "__module__", None), getattr(fn, "__name__", None)) == \
        ("diffc.rules.reductions", "_sum_bar_times")


def _is_power_of_two(node):
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        node = node.operand
    if not (isinstance(node, gast.Constant) and type(node.value) is float):
        return False
    mantissa, exponent = _frexp(node.value)
    return abs(mantissa) == 0.5 and exponent >= 1


from math import frexp as _frexp  # noqa: E402
