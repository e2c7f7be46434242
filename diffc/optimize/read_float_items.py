"""read_float_items: a scalar loop reads a float64 vector's elements from a list of Python floats.

Why: ``a[i]`` on an ndarray makes a NumPy float64 scalar, and arithmetic on
NumPy scalars costs three to four times what it costs on Python floats; one
such element entering a recurrence makes every later value a NumPy scalar.
Horner's rule over 1000 coefficients (the benchmark): the primal takes 92 us,
and its gradient 2.28x of that reading the array, 1.12x reading
``coeffs.tolist()``.  Python floats and NumPy float64 scalars are the same
IEEE doubles: ``+``, ``-``, ``*``, negation and comparisons give the same bits.
They differ elsewhere (``x / 0.0`` raises for a float and is ``inf`` for a
NumPy scalar; ``**`` overflow raises; methods such as ``.item()`` exist on one
only), so the rewrite is made only where the values never go there, or, for
a division, where a guard restores what NumPy does.

Input: a finished first-order entry function (pipeline.finish outside
differentiable mode: the gradient or jvp the user calls, whose return values
reach only the user) and the kinds of the user function's names.
Output: the same function where a read ``A[k]`` (or ``item(A, k)``, a
tangent's element in forward mode) in a ``for`` loop over
``range(...)``, ``reversed(range(...))`` or one of the function's own lists
reads a copy made just before the loop::

    _plain1 = float64_world(x, ...)        # first statement: the parameters as called
    ...
    _items2 = float_items(A, trips, _plain1)
    for i in range(trips):
        ... _items2[k] ...

The loop is the innermost one enclosing the read that binds a name k uses
(or the innermost, for a read k does not vary in): its trip count, known
before it starts, bounds how often the copy is read.  ``runtime.float_items``
gives ``A.tolist()`` for a 1-d float64 ndarray when the loop runs 16 times or
more and the array has at most 4 trips + 64 elements, and the check at the
function's start (``float64_world``) found the parameters the floats meet of
the float64 world and NumPy's error state not raising on overflow, underflow
or invalid values; else A itself.  So a read gets the same value either
way, as a float or as before.  The rewrite is made when
  * k is certainly an int, never a bool, slice, tuple or array (a list and an
    ndarray index alike only by ints): int constants, ``len``, targets of
    range loops and int parameters combined by ``+ - * // %`` (`_int_names`);
  * A is a parameter never rebound, or always bound to a new value or to
    ``as_sequence`` of such a name (how ``for e in a`` reads a), so never one
    of the function's buffers; and nothing in the loop can rebind A or write
    into it: the loop's statements bind names, store only into buffers the
    function made (``zeros_like``...), update with ``+=`` only names that
    never hold a view, and call only pure functions (``math``, NumPy ufuncs
    without keywords, ``len``, ``abs``...) and ``append``/``pop`` of the
    function's own lists (`_writes_nothing_shared`);
  * every value computed from the reads, anywhere in the function, is used
    only where a float and a NumPy scalar behave the same (`_Check`): ``+ - *``
    with values of the float64 world, division by a nonzero number, other
    divisions where one side is certainly a NumPy value as written (guarded:
    ``u / v if v.__class__ is float and v else np.divide(u, v)``, so a zero
    divisor gives NumPy's inf where floats would raise; `_guard_division`),
    negation, comparisons in a test, the pure calls above, names, tuples
    stored to and unpacked from the
    function's own lists, stores into made buffers, and the returned values
    (a gradient of a float parameter is then a float, not a NumPy float64).
    "Float64 world" (`_Check.is_plain`) matters because NEP 50 promotes a
    Python float more weakly than a NumPy float64: ``float32_array * 0.1`` is
    float32, ``float32_array * np.float64(0.1)`` float64; the parameters those
    values come from are checked at the call (``float64_world``).
A read failing a condition keeps reading the array.
"""

import builtins
import math

import gast
import numpy as np

from .. import ast_util as A
from .. import effects, runtime
from ..naming import Namer, identifiers
from ..analysis.stores import resolve_chain

_UNKNOWN = object()                 # a binding whose value this pass cannot follow
_RANGE_INDEX = object()             # the target of a `for` over range(...)
_PARAMETER = object()

_MATH_FUNCTIONS = [getattr(math, n) for n in dir(math) if callable(getattr(math, n))]
_INT_OPS = (gast.Add, gast.Sub, gast.Mult, gast.FloorDiv, gast.Mod)
_FLOAT_OPS = (gast.Add, gast.Sub, gast.Mult)
_PLAIN_OPS = (gast.Add, gast.Sub, gast.Mult, gast.Div, gast.FloorDiv, gast.Mod)


def read_float_items(fn, param_kinds):
    if not any(isinstance(s, gast.For) for s in A.walk_statements(fn.body)):
        return fn                       # nothing to do: spare the analysis (compile time)
    namer = Namer(identifiers(fn))
    facts = _Facts(fn, param_kinds)
    plans = _plan(fn, facts)
    accepted, guards, divisions = [], set(), {}
    for loop, parent_body, trips, reads in plans:
        for array, nodes in reads.items():
            check = _Check(fn, nodes, facts)
            if check.safe():
                accepted.append((loop, parent_body, trips, array, nodes))
                guards |= check.guards
                divisions.update((id(d), d) for d in check.divisions)
    if not accepted:
        return fn
    # One check per call, of the parameters' values as called (before anything
    # rebinds them) and of NumPy's error state.
    plain = namer.fresh("_plain")
    flag = A.assign(plain, A.call(A.global_ref(runtime.float64_world, "float64_world"),
                                  [A.name(p) for p in sorted(guards)]))
    fn.body.insert(0, A.located(flag, fn))       # the def line: no user line to name
    copies = []
    for loop, parent_body, trips, array, nodes in accepted:
        items = namer.fresh("_items")
        copies.append(items)
        for node in nodes:
            _read_from(node, items)
    # After the reads (the copies a guard makes read the floats too), innermost
    # first (a division inside another's operand is guarded in both its copies).
    for division in sorted(divisions.values(), key=lambda d: -_depth(d, facts.parents)):
        _guard_division(division, facts.parents, namer)
    for (loop, parent_body, trips, array, nodes), items in zip(accepted, copies):
        snapshot = A.assign(items, A.call(A.global_ref(runtime.float_items, "float_items"),
                                          [A.name(array), A.deepcopy(trips), A.name(plain)]))
        parent_body.insert(parent_body.index(loop), A.located(snapshot, loop))
    return fn


# ---------------------------------------------------------------- facts

class _Facts:
    """What the function binds where: every name's bindings, its own lists
    (bound once to ``[]`` and used only as tapes), its made buffers, parents."""

    def __init__(self, fn, param_kinds):
        self.fn = fn
        self.param_kinds = param_kinds or {}
        self.parents = {}
        for node in A.walk(fn):
            for child in gast.iter_child_nodes(node):
                self.parents[child] = node
        self.params = {a.id for a in fn.args.args}
        self.lists = _own_lists(fn, self.parents)
        self.bindings = _bindings(fn, self.lists, self.params)
        self.buffers = {n for n, values in self.bindings.items()
                        if values and all(isinstance(v, gast.Call) and _new_buffer(_callee(v))
                                          for v in values)}
        self.ints = _int_names(self.bindings, self.params, self.param_kinds)


def _callee(call):
    func = call.func
    if isinstance(func, gast.Name):
        return getattr(func, "diffc_global", None)
    if isinstance(func, gast.Attribute):
        obj = getattr(func, "diffc_resolved", None)
        return obj if obj is not None else resolve_chain(func)
    return None


def _own_lists(fn, parents):
    """Names bound once, to ``[]``, and used only to append, pop, iterate, index
    by a constant, take the length of or test: the tapes, whose elements are
    the appended values."""
    bound = {}
    for node in A.walk(fn):
        if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
            bound[node.id] = bound.get(node.id, 0) + 1
    candidates = set()
    for stmt in A.walk_statements(fn.body):
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
                and isinstance(stmt.value, gast.List) and not stmt.value.elts and bound[stmt.targets[0].id] == 1:
            candidates.add(stmt.targets[0].id)
    for node in A.walk(fn):
        if isinstance(node, gast.Name) and node.id in candidates and isinstance(node.ctx, gast.Load) \
                and not _tape_use(node, parents):
            candidates.discard(node.id)
    return candidates


def _tape_use(name, parents):
    parent = parents.get(name)
    if isinstance(parent, gast.Attribute) and parent.attr == "append":
        call = parents.get(parent)
        return isinstance(call, gast.Call) and call.func is parent and len(call.args) == 1 \
            and isinstance(parents.get(call), gast.Expr)
    if isinstance(parent, gast.For) and parent.iter is name:
        return True
    if isinstance(parent, gast.Call) and _callee(parent) in (builtins.reversed, builtins.len) \
            and len(parent.args) == 1:
        return _callee(parent) is builtins.len or (isinstance(parents.get(parent), gast.For)
                                                   and parents[parent].iter is parent)
    if isinstance(parent, gast.Attribute) and parent.attr == "pop":
        call = parents.get(parent)
        return isinstance(call, gast.Call) and call.func is parent and not call.args \
            and isinstance(parents.get(call), gast.Assign)
    if isinstance(parent, gast.Subscript) and parent.value is name and isinstance(parent.ctx, gast.Load):
        holder = parents.get(parent)
        return isinstance(parent.slice, gast.Constant) and type(parent.slice.value) is int \
            and isinstance(holder, gast.Assign) and holder.value is parent
    return isinstance(parent, (gast.If, gast.While)) and parent.test is name


def _appended(fn, lists):
    out = {t: [] for t in lists}
    for stmt in A.walk_statements(fn.body):
        if isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
                and isinstance(stmt.value.func, gast.Attribute) and stmt.value.func.attr == "append" \
                and isinstance(stmt.value.func.value, gast.Name) and stmt.value.func.value.id in lists:
            out[stmt.value.func.value.id].append(stmt.value.args[0])
    return out


def _bindings(fn, lists, params):
    """name -> the expressions (or markers) every binding of it may take its value from."""
    appended = _appended(fn, lists)
    out = {}

    def bind(target, value):
        if isinstance(target, gast.Name):
            out.setdefault(target.id, []).append(value)
        elif isinstance(target, (gast.Tuple, gast.List)):
            for k, elt in enumerate(target.elts):
                bind(elt, _element(value, k, len(target.elts)))
        # a Subscript or Attribute target binds no name

    def _element(value, k, n):
        """What the k-th of n unpacked names may hold: an element of a tuple
        literal, or (as far as float values go) anything the whole value holds."""
        if isinstance(value, (gast.Tuple, gast.List)):
            return value.elts[k] if len(value.elts) == n else _UNKNOWN   # never unpacked
        return value

    def from_list(target, tape):
        for entry in appended[tape]:
            bind(target, entry)

    for p in params:
        out.setdefault(p, []).append(_PARAMETER)
    for stmt in A.walk_statements(fn.body):
        if isinstance(stmt, gast.Assign):
            value = stmt.value
            tape = _list_element_source(value, lists)
            for target in stmt.targets:
                if tape is not None:
                    from_list(target, tape)
                else:
                    bind(target, value)
        elif isinstance(stmt, gast.AugAssign):
            if isinstance(stmt.target, gast.Name):
                bind(stmt.target, gast.BinOp(left=A.name(stmt.target.id), op=stmt.op, right=stmt.value))
        elif isinstance(stmt, gast.For):
            source = _iterated_list(stmt.iter, lists)
            if source is not None:
                from_list(stmt.target, source)
            elif _range_call(stmt.iter) is not None:
                bind(stmt.target, _RANGE_INDEX)
            else:
                for name in A.names_stored(stmt.target):
                    out.setdefault(name, []).append(_UNKNOWN)
        elif not isinstance(stmt, (gast.Expr, gast.If, gast.While, gast.Return, gast.Pass,
                                   gast.Break, gast.Continue)):
            for name in A.names_bound([stmt]):
                out.setdefault(name, []).append(_UNKNOWN)
    for node in A.walk(fn):
        if isinstance(node, gast.NamedExpr):
            bind(node.target, node.value)
    return out


def _list_element_source(value, lists):
    """T for `T[k]` or `T.pop()` with T one of the function's own lists."""
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and value.value.id in lists:
        return value.value.id
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) and value.func.attr == "pop" \
            and isinstance(value.func.value, gast.Name) and value.func.value.id in lists:
        return value.func.value.id
    return None


def _iterated_list(iterable, lists):
    if isinstance(iterable, gast.Name) and iterable.id in lists:
        return iterable.id
    if isinstance(iterable, gast.Call) and _callee(iterable) is builtins.reversed and len(iterable.args) == 1:
        return _iterated_list(iterable.args[0], lists)
    return None


def _range_call(iterable):
    """The range(...) call a loop iterates (directly or reversed), else None."""
    if isinstance(iterable, gast.Call) and _callee(iterable) is builtins.reversed and len(iterable.args) == 1:
        iterable = iterable.args[0]
    if isinstance(iterable, gast.Call) and _callee(iterable) is builtins.range and not iterable.keywords:
        return iterable
    return None


# ---------------------------------------------------------------- ints

def _int_names(bindings, params, param_kinds):
    """Names certainly bound to ints (not bools): the greatest set such that each
    binding of each is an int expression given the set (a value is made by an
    earlier binding, so a name bound from itself, as a tape entry is, stays one)."""
    return _greatest_fixpoint(bindings, lambda v, ints: _is_int(v, ints, param_kinds, params),
                              holding=(_RANGE_INDEX,))


def _is_int(expr, ints, param_kinds, params):
    if isinstance(expr, gast.Constant):
        return type(expr.value) is int
    if isinstance(expr, gast.Name):
        # a module-level int: the compiled code is reused only while globals keep their objects
        return expr.id in ints or type(getattr(expr, "diffc_global", None)) is int
    if isinstance(expr, gast.BinOp) and isinstance(expr.op, _INT_OPS):
        return all(_int_operand(e, ints, param_kinds, params) for e in (expr.left, expr.right))
    if isinstance(expr, gast.UnaryOp) and isinstance(expr.op, gast.USub):
        return _int_operand(expr.operand, ints, param_kinds, params)
    if isinstance(expr, gast.Call) and _callee(expr) is builtins.len:
        return True
    return False


def _int_operand(expr, ints, param_kinds, params):
    """In arithmetic a bool is an int too: an int-kind parameter may be a bool."""
    if isinstance(expr, gast.Constant) and type(expr.value) is bool:
        return True
    if isinstance(expr, gast.Name) and expr.id in params and param_kinds.get(expr.id) == "int":
        return True
    return _is_int(expr, ints, param_kinds, params)


# ---------------------------------------------------------------- loops

def _loops(body):
    """Every `for` loop, with the statement list holding it."""
    for stmt in body:
        if isinstance(stmt, gast.For):
            yield stmt, body
        for block in A.child_blocks(stmt):
            yield from _loops(block)


def _plan(fn, facts):
    """[(loop, the list holding it, its trip count, {array: reads})]: each read
    ``A[k]`` (k an int) placed at the innermost enclosing `for` loop that binds
    a name k uses (or the innermost, for a read k does not vary in), when that
    loop's trip count is known before it and it writes nothing shared."""
    holders = dict((id(loop), body) for loop, body in _loops(fn.body))
    plans, verdicts = {}, {}
    for node in A.walk(fn):
        read = _element_read(node)
        if read is None:
            continue
        array, index = read
        enclosing = _enclosing_loops(node, facts.parents)
        if not enclosing or not _is_int(index, facts.ints, facts.param_kinds, facts.params):
            continue
        loop = _placement(index, enclosing)
        if _stores(loop, array) or not _never_a_buffer(array, facts):
            continue
        if id(loop) not in verdicts:
            trips = _trip_count(loop, facts)
            verdicts[id(loop)] = trips if trips is not None and _writes_nothing_shared(loop, facts) else None
        if verdicts[id(loop)] is None:
            continue
        plan = plans.setdefault(id(loop), (loop, holders[id(loop)], verdicts[id(loop)], {}))
        plan[3].setdefault(array, []).append(node)
    return list(plans.values())


def _element_read(node):
    """(array name, index) for a read ``A[k]``, or ``item(A, k)`` (a tangent's
    element in forward mode: A may be the zero 0.0), else None."""
    if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Load) and isinstance(node.value, gast.Name):
        return node.value.id, node.slice
    if isinstance(node, gast.Call) and _callee(node) is runtime.item and len(node.args) == 2 \
            and not node.keywords and isinstance(node.args[0], gast.Name):
        return node.args[0].id, node.args[1]
    return None


def _read_from(node, items):
    """Point a read found by `_element_read` at the copy."""
    if isinstance(node, gast.Subscript):
        node.value = A.name(items)
    else:
        node.args[0] = A.name(items)


def _stores(loop, name):
    """The loop rebinds name somewhere (a target, a walrus, a nested loop...)."""
    return any(isinstance(n, gast.Name) and n.id == name and not isinstance(n.ctx, gast.Load)
               for n in A.walk(loop))


def _enclosing_loops(node, parents):
    """The `for` loops whose bodies hold node, innermost first."""
    out = []
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, gast.For) and child is not parent.iter and child is not parent.target:
            out.append(parent)
        child, parent = parent, parents.get(parent)
    return out


def _placement(index, enclosing):
    used = {n.id for n in A.walk(index) if isinstance(n, gast.Name)}
    for loop in enclosing:
        if any(_stores(loop, name) for name in used):
            return loop
    return enclosing[0]


def _trip_count(loop, facts):
    """An expression for the number of iterations, evaluated before the loop."""
    rng = _range_call(loop.iter)
    if rng is not None:
        if len(rng.args) == 1 and A.is_atom(rng.args[0]):
            return A.deepcopy(rng.args[0])         # range(stop): stop trips (or none)
        if all(A.is_atom(a) for a in rng.args):
            return A.call(A.global_ref(builtins.len, "len"), [A.deepcopy(rng)])
        return None
    tape = _iterated_list(loop.iter, facts.lists)
    if tape is not None:
        return A.call(A.global_ref(builtins.len, "len"), [A.name(tape)])
    return None


def _writes_nothing_shared(loop, facts):
    """Nothing in the loop can write into an array it did not make, or call
    code that might."""
    for stmt in A.walk_statements(loop.body):
        if isinstance(stmt, gast.Assign):
            if not all(_bindable(t, facts) for t in stmt.targets):
                return False
        elif isinstance(stmt, gast.AugAssign):
            target = stmt.target
            if isinstance(target, gast.Name):
                if not _never_a_view(target.id, facts):
                    return False
            elif not _bindable(target, facts):
                return False
        elif isinstance(stmt, gast.Expr):
            if not _tape_append(stmt.value, facts) and not _pure_call(stmt.value):
                return False
        elif isinstance(stmt, gast.For):
            if not _bindable(stmt.target, facts):
                return False
        elif not isinstance(stmt, (gast.If, gast.While, gast.Pass, gast.Break, gast.Continue)):
            return False
    for node in A.walk(loop):
        if isinstance(node, gast.Call) and not _pure_call(node) and not _tape_append(node, facts):
            return False
    return True


def _bindable(target, facts):
    if isinstance(target, gast.Name):
        return True
    if isinstance(target, (gast.Tuple, gast.List)):
        return all(_bindable(e, facts) for e in target.elts)
    return isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) \
        and target.value.id in facts.buffers


def _never_a_view(name, facts):
    """Every binding makes a new value, so `name += e` cannot write into another array."""
    values = facts.bindings.get(name, [])
    return bool(values) and all(isinstance(v, (gast.Constant, gast.BinOp, gast.UnaryOp)) for v in values)


def _never_a_buffer(name, facts, seen=()):
    """A parameter never rebound, or a name always bound to a new value or to
    ``as_sequence(p)`` (how `for e in p` indexes p) of such a name: it cannot be
    (a view of) one of the function's buffers, which the loop may write."""
    values = facts.bindings.get(name, [])
    if values == [_PARAMETER]:
        return True
    seen = seen + (name,)
    return bool(values) and all(isinstance(v, (gast.BinOp, gast.UnaryOp)) or _sequence_of(v, facts, seen)
                                for v in values)


def _sequence_of(value, facts, seen):
    return isinstance(value, gast.Call) and _callee(value) in (runtime.as_sequence, runtime.sequence_dot) \
        and len(value.args) == 1 \
        and isinstance(value.args[0], gast.Name) and value.args[0].id not in seen \
        and _never_a_buffer(value.args[0].id, facts, seen)


def _pure_call(call):
    if not isinstance(call, gast.Call):
        return False
    obj = _callee(call)
    if effects.has(obj, effects.WRITES_NOTHING):
        return True
    if call.keywords:
        return False
    if isinstance(obj, np.ufunc):
        return _ufunc_call(obj, call)
    return _is_math(obj)


def _returns_its_floats(obj):
    """Given Python floats, a Python float back (abs, min, max, the max/min adjoint helpers)."""
    return effects.has(obj, effects.FLOAT_PRESERVING) or effects.has(obj, effects.RETURNS_ARGUMENTS)


def _numpy_result(obj):
    """A NumPy value back for a float or a NumPy float64 alike (kink_sign, abs_slope)."""
    return effects.has(obj, effects.NUMPY_RESULT)


def _new_buffer(obj):
    return effects.has(obj, effects.NEW_BUFFER)


def _ufunc_call(obj, call):
    """A NumPy ufunc called on its inputs only (a further positional argument is `out`)."""
    return isinstance(obj, np.ufunc) and len(call.args) <= obj.nin


def _is_math(obj):
    return any(obj is f for f in _MATH_FUNCTIONS)


def _tape_append(call, facts):
    return isinstance(call, gast.Call) and isinstance(call.func, gast.Attribute) and call.func.attr == "append" \
        and isinstance(call.func.value, gast.Name) and call.func.value.id in facts.lists


# ---------------------------------------------------------------- float safety

class _Check:
    """One candidate's float-safety check: the values derived from its reads
    (`tainted`), the names certainly of the float64 world given the guards
    (`plain`), and the parameters the check relied on (`guards`)."""

    def __init__(self, fn, sources, facts):
        self.fn = fn
        self.facts = facts
        self.source_ids = {id(n) for n in sources}
        self.tainted = _least_fixpoint(facts.bindings, self.is_tainted)
        self.plain = _greatest_fixpoint(facts.bindings, self.is_plain, holding=(_PARAMETER, _RANGE_INDEX))
        self.numpy = _greatest_fixpoint(facts.bindings, self.is_numpy)
        self.guards = set()
        self.divisions = []             # BinOps to guard (`_guard_division`)

    def is_numpy(self, expr, numpy_names):
        """Certainly a NumPy value in the function as written (a float64 element, or
        arithmetic with one): there ``u / v`` follows NumPy, inf for a zero v."""
        if id(expr) in self.source_ids:
            return True
        if isinstance(expr, gast.Name):
            return expr.id in numpy_names
        if isinstance(expr, gast.BinOp):
            return isinstance(expr.op, _PLAIN_OPS) and (self.is_numpy(expr.left, numpy_names)
                                                        or self.is_numpy(expr.right, numpy_names))
        if isinstance(expr, gast.UnaryOp):
            return isinstance(expr.op, (gast.USub, gast.UAdd)) and self.is_numpy(expr.operand, numpy_names)
        if isinstance(expr, gast.Call):
            return _ufunc_call(_callee(expr), expr) and not expr.keywords
        return False

    def is_tainted(self, expr, tainted):
        if id(expr) in self.source_ids:
            return True
        if isinstance(expr, gast.Name):
            return expr.id in tainted
        if isinstance(expr, (gast.BinOp, gast.UnaryOp, gast.BoolOp, gast.IfExp, gast.Tuple, gast.List,
                             gast.NamedExpr)):
            return any(self.is_tainted(c, tainted) for c in gast.iter_child_nodes(expr)
                       if isinstance(c, gast.expr))
        if isinstance(expr, gast.Call):
            obj = _callee(expr)
            return _returns_its_floats(obj) \
                and any(self.is_tainted(a, tainted) for a in expr.args)
        if isinstance(expr, gast.Subscript):
            return self.is_tainted(expr.value, tainted)
        return False

    def is_plain(self, expr, plain):
        """Certainly a value of the float64 world (a Python or NumPy float64, int or
        bool, an array of those dtypes, None) once the parameters it comes from
        are: there a Python float and a NumPy float64 promote alike (NEP 50 makes
        ``float32_array * 0.1`` float32 and ``float32_array * np.float64(0.1)``
        float64)."""
        if id(expr) in self.source_ids:
            return True
        if isinstance(expr, gast.Constant):
            return type(expr.value) in (int, float, bool, type(None))
        if isinstance(expr, gast.Name):
            return expr.id in plain
        if isinstance(expr, gast.BinOp):
            return isinstance(expr.op, _PLAIN_OPS) and self.is_plain(expr.left, plain) \
                and self.is_plain(expr.right, plain)
        if isinstance(expr, gast.UnaryOp):
            return self.is_plain(expr.operand, plain)
        if isinstance(expr, gast.Compare):
            return all(self.is_plain(e, plain) for e in [expr.left] + expr.comparators)
        if isinstance(expr, gast.IfExp):
            return self.is_plain(expr.body, plain) and self.is_plain(expr.orelse, plain)
        if isinstance(expr, gast.NamedExpr):
            return self.is_plain(expr.value, plain)
        if isinstance(expr, gast.Tuple):        # a tape entry: arithmetic on it fails alike
            return all(self.is_plain(e, plain) for e in expr.elts)   # (a list may change after)
        if isinstance(expr, gast.Subscript):
            return self.is_plain(expr.value, plain)
        if isinstance(expr, gast.Call):
            obj = _callee(expr)
            if obj in (builtins.len, builtins.float, builtins.int, builtins.bool) or _is_math(obj):
                return True
            if expr.keywords:
                return False
            if _returns_its_floats(obj) or _numpy_result(obj) or _ufunc_call(obj, expr) \
                    or obj is runtime.zeros_like or obj is runtime.item or obj is runtime.as_sequence \
                    or obj is runtime.sequence_dot:
                return all(self.is_plain(a, plain) for a in expr.args)
            return obj in (np.zeros, np.ones, np.empty) and len(expr.args) == 1
        return False

    def meets(self, expr):
        """A converted float meets `expr` in an operation: expr must be plain, and
        the parameters it comes from are checked when the function starts."""
        if not self.is_plain(expr, self.plain):
            return False
        if id(expr) not in self.source_ids:           # the array itself is checked when copied
            self.guards |= _parameters_reached(expr, self.facts)
        return True

    def safe(self):
        """Every value derived from the reads is used only where a Python float and
        a NumPy float64 scalar behave the same."""
        for node in A.walk(self.fn):
            if id(node) in self.source_ids or (isinstance(node, gast.Name) and isinstance(node.ctx, gast.Load)
                                               and node.id in self.tainted):
                if not self.use_is_safe(node):
                    return False
            elif isinstance(node, gast.AugAssign) and isinstance(node.target, gast.Name) \
                    and node.target.id in self.tainted:
                if not (isinstance(node.op, _FLOAT_OPS) and self.meets(node.value)):
                    return False
        return True

    def use_is_safe(self, node):
        """A float-valued node's use: its parent treats a float as a NumPy scalar."""
        parent = self.facts.parents.get(node)
        if isinstance(parent, gast.BinOp):
            other = parent.right if parent.left is node else parent.left
            if isinstance(parent.op, gast.Div):
                if parent.left is node and _nonzero_number(parent.right):
                    return self.use_is_safe(parent)     # never the division by zero where floats raise
                # A float divided by a zero float raises where NumPy gives inf: the
                # division is guarded, when one side was a NumPy value as written
                # (then the function as written follows NumPy too)
                if not (self.is_numpy(parent.left, self.numpy) or self.is_numpy(parent.right, self.numpy)):
                    return False
                if parent not in self.divisions:
                    self.divisions.append(parent)
                return self.meets(other) and self.use_is_safe(parent)
            return isinstance(parent.op, _FLOAT_OPS) and self.meets(other) and self.use_is_safe(parent)
        if isinstance(parent, gast.UnaryOp):
            if isinstance(parent.op, gast.Not):
                return True
            return isinstance(parent.op, (gast.USub, gast.UAdd)) and self.use_is_safe(parent)
        if isinstance(parent, gast.Compare):
            others = [e for e in [parent.left] + parent.comparators if e is not node]
            return all(self.meets(e) for e in others) and _in_test(parent, self.facts)
        if isinstance(parent, gast.IfExp):
            return parent.test is node or self.use_is_safe(parent)
        if isinstance(parent, (gast.Tuple, gast.List)) and isinstance(parent.ctx, gast.Load):
            if isinstance(self.facts.parents.get(parent), gast.Call) \
                    and effects.has(_callee(self.facts.parents[parent]), effects.RETURNS_ARGUMENTS):
                # compared with each other and with the result: all of the float64 world
                if not all(self.meets(e) for e in parent.elts if e is not node):
                    return False
            return self.use_is_safe(parent)
        if isinstance(parent, gast.Call):
            return self.call_use_is_safe(node, parent)
        if isinstance(parent, gast.Assign):
            return parent.value is node and all(_bindable(t, self.facts) for t in parent.targets)
        if isinstance(parent, gast.AugAssign):
            if parent.target is node or not isinstance(parent.op, _FLOAT_OPS):
                return False
            target = parent.target
            if isinstance(target, gast.Name):
                return self.meets(A.name(target.id))
            return _bindable(target, self.facts) and self.meets(target.value)
        if isinstance(parent, gast.NamedExpr):
            return self.use_is_safe(parent)
        if isinstance(parent, gast.Subscript) and parent.value is node and isinstance(parent.ctx, gast.Load):
            # an element of a carried tuple (the max/min adjoint's parts)
            return isinstance(parent.slice, gast.Constant) and type(parent.slice.value) is int \
                and self.use_is_safe(parent)
        if isinstance(parent, (gast.If, gast.While)):
            return parent.test is node
        return isinstance(parent, (gast.Return, gast.Expr))

    def call_use_is_safe(self, node, call):
        if node not in call.args:
            return False
        if _tape_append(call, self.facts):
            return True
        obj = _callee(call)
        if obj is runtime.check_scalar:       # a statement: its result is not used
            return isinstance(self.facts.parents.get(call), gast.Expr)
        if _is_math(obj) or obj in (builtins.float, builtins.int, builtins.bool):
            return not call.keywords          # converts to a float (or an int) alike
        if call.keywords:
            return False
        if _returns_its_floats(obj) or _numpy_result(obj) or _ufunc_call(obj, call):
            others_plain = all(self.meets(a) for a in call.args if a is not node)
            returns_values = _returns_its_floats(obj)
            return others_plain and (not returns_values or self.use_is_safe(call))
        return False


def _nonzero_number(node):
    return isinstance(node, gast.Constant) and type(node.value) in (int, float) and node.value != 0 \
        and math.isfinite(node.value)


def _depth(node, parents):
    depth = 0
    while node in parents:
        node, depth = parents[node], depth + 1
    return depth


def _guard_division(division, parents, namer):
    """``u / v`` -> ``u / v if v.__class__ is float and v else np.divide(u, v)``: a
    nonzero float divides as NumPy would, bit for bit; anything else goes to
    NumPy (a zero gives inf or nan and NumPy's warning, as the function as written
    does).  A divisor that is not a name or a number is bound once with `:=`."""
    u, v = division.left, division.right
    if A.is_atom(v):
        first, again = A.deepcopy(v), (lambda: A.deepcopy(v))
    else:
        name = namer.fresh("_divisor")
        first = gast.NamedExpr(target=A.store(name), value=v)
        again = (lambda: A.name(name))
    test = gast.BoolOp(op=gast.And(), values=[
        gast.Compare(left=A.attr(first, "__class__"), ops=[gast.Is()],
                     comparators=[A.global_ref(builtins.float, "float")]),
        again()])
    quick = gast.BinOp(left=u, op=gast.Div(), right=again())
    numpy_divide = A.call(A.attr(A.global_ref(np, "np"), "divide"), [A.deepcopy(u), again()])
    guarded = gast.IfExp(test=test, body=quick, orelse=numpy_divide)
    holder = parents[division]
    for field in holder._fields:
        value = getattr(holder, field, None)
        if value is division:
            setattr(holder, field, guarded)
        elif isinstance(value, list):
            for k, item in enumerate(value):
                if item is division:
                    value[k] = guarded
    return guarded


def _least_fixpoint(bindings, holds):
    """The smallest set of names with a binding that `holds` given the set."""
    found = set()
    changed = True
    while changed:
        changed = False
        for name, values in bindings.items():
            if name not in found and any(isinstance(v, gast.AST) and holds(v, found) for v in values):
                found.add(name)
                changed = True
    return found


def _greatest_fixpoint(bindings, holds, holding=()):
    """The largest set of names every binding of which `holds` given the set.  Of
    the markers, those in `holding` hold (a loop index is an int; a parameter's
    value is checked at run time) and the others never do."""
    def binding_holds(value, found):
        if isinstance(value, gast.AST):
            return holds(value, found)
        return any(value is marker for marker in holding)

    found = set(bindings)
    changed = True
    while changed:
        changed = False
        for name in sorted(found):
            if not all(binding_holds(v, found) for v in bindings[name]):
                found.discard(name)
                changed = True
    return found


def _parameters_reached(expr, facts):
    """The parameters whose values at the call may flow into expr."""
    out, seen = set(), set()
    todo = [n.id for n in A.walk(expr) if isinstance(n, gast.Name)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in facts.params:
            out.add(name)
        for value in facts.bindings.get(name, []):
            if isinstance(value, gast.AST):
                todo.extend(n.id for n in A.walk(value) if isinstance(n, gast.Name))
    return out


def _in_test(node, facts):
    """A comparison (or a chain of and/or/not of them) whose value is only tested."""
    parent = facts.parents.get(node)
    if isinstance(parent, (gast.If, gast.While, gast.IfExp)):
        return parent.test is node
    if isinstance(parent, gast.BoolOp) or (isinstance(parent, gast.UnaryOp) and isinstance(parent.op, gast.Not)):
        return _in_test(parent, facts)
    return False
