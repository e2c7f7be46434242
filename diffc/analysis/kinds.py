"""kinds: which variables are certainly Python/NumPy scalars or ints.

Input: an ANF `FunctionInfo` and the kinds of its parameters at the call
(``"int"``, ``"scalar"``, ``"array"`` or ``"unknown"``).
Output: a dict name -> kind.  ``"scalar"`` means a float-like number (Python
float or NumPy floating scalar), ``"int"`` an int or bool.  Kinds only make
code faster (no `unbroadcast`, no `finalize` on scalars) and decide that ints
carry no derivative; ``"unknown"`` is always safe.
"""

import builtins
import math
import numbers

import gast
import numpy as np

INT, SCALAR, ARRAY, UNKNOWN = "int", "scalar", "array", "unknown"
SCALARS = "scalars"          # a list or tuple of Python/NumPy floats and ints
VECTOR = "vector"            # a 1-d float array
RANGE = "range"              # a range object (early-exit loops index into one)
INTS = "ints"                # a tuple of ints: an array's shape (never differentiated)
_NUMBER_TYPES = (float, int, np.floating, np.integer)


class ObjectKind(str):
    """The kind of an argument holding an object of a user class (container=None) or a
    list of objects of one user class (container=list).  To every analysis it is UNKNOWN
    (it compares equal to "unknown"), but it keeps the class: compiled code is cached per
    class (the kinds are part of the key), and transform/attribute_writes.py and
    transform/object_lists.py follow the method calls writing attributes of such a
    parameter of the differentiated function (or of the items of such a list) by it."""

    def __new__(cls, klass, container=None):
        made = str.__new__(cls, UNKNOWN)
        made.klass = klass
        made.container = container
        return made

    def __eq__(self, other):
        if isinstance(other, ObjectKind):
            return self.klass is other.klass and self.container is other.container
        return str.__eq__(self, other)

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((UNKNOWN, id(self.klass), id(self.container)))

    def __repr__(self):
        inner = self.klass.__qualname__
        return f"ObjectKind({inner})" if self.container is None else f"ObjectKind({self.container.__name__}[{inner}])"


def object_classes(param_kinds, container=None):
    """{parameter: class} for the parameters whose kind is an ObjectKind of that container
    (None: an object; list: a list of objects)."""
    return {p: k.klass for p, k in param_kinds.items()
            if isinstance(k, ObjectKind) and k.container is container}


def kind_of_value(value):
    t = type(value)
    if t is np.ndarray:                     # the common arguments first, by exact type
        return VECTOR if value.ndim == 1 and value.dtype.kind == "f" else _array_kind(value)
    if t is float:
        return SCALAR
    if isinstance(value, (bool, int, np.integer, np.bool_)):
        return INT
    if isinstance(value, (float, np.floating)):
        return SCALAR
    if isinstance(value, np.ndarray):
        return VECTOR if value.ndim == 1 and value.dtype.kind == "f" else _array_kind(value)
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, _NUMBER_TYPES) and not isinstance(v, (bool, np.bool_)) for v in value):
        return SCALARS
    return UNKNOWN


def _array_kind(value):
    """ARRAY, except for object arrays: their elements may be lists (a + b concatenates)."""
    return UNKNOWN if value.dtype.kind == "O" else ARRAY


def is_array(kind):
    return kind in (ARRAY, VECTOR)


def join(a, b):
    if a is None:
        return b
    if b is None or a == b:
        return a
    if {a, b} == {INT, SCALAR}:
        return SCALAR
    if {a, b} == {VECTOR, ARRAY}:
        return ARRAY
    return UNKNOWN


_INT_RESULTS = {builtins.int, builtins.len, builtins.round, math.floor, math.ceil, math.trunc,
                builtins.bool, math.isnan, math.isinf, math.isfinite, builtins.isinstance}
_SCALAR_RESULTS = {builtins.float}


def infer(info, param_kinds, resolve, callee_kind=None):
    """resolve(expr) -> the static object a call's func denotes (or a sentinel);
    callee_kind(target, call, arg_kinds) -> the kind a user function returns."""
    kinds = dict(param_kinds)
    kinds["__callee_kind__"] = callee_kind
    stmts = list(_assignments(info.node.body))
    for _ in range(len(stmts) + 2):
        changed = False
        kinds["__callee_kind__"] = callee_kind
        for target, value in stmts:
            new = join(kinds.get(target), _kind(value, kinds, resolve))
            if new != kinds.get(target):
                kinds[target] = new
                changed = True
        if not changed:
            break
    kinds.pop("__callee_kind__", None)
    return kinds


def _assignments(stmts):
    for stmt in stmts:
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                yield target.id, stmt.value
            elif isinstance(target, gast.Subscript):
                yield target.value.id, None            # contents changed: kind kept
        elif isinstance(stmt, gast.For):
            yield stmt.target.id, "int"
            yield from _assignments(stmt.body)
        elif isinstance(stmt, (gast.If, gast.While)):
            yield from _assignments(stmt.body)
            yield from _assignments(stmt.orelse)
        elif isinstance(stmt, gast.Expr):
            func = getattr(stmt.value, "func", None)
            if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
                yield func.value.id, None


def _atom_kind(atom, kinds):
    if isinstance(atom, gast.Constant):
        if isinstance(atom.value, (bool, int)):
            return INT
        if isinstance(atom.value, float):
            return SCALAR
        return UNKNOWN
    if isinstance(atom, gast.Name):
        if hasattr(atom, "diffc_global"):
            return kind_of_value(atom.diffc_global)
        return kinds.get(atom.id)        # None: not yet known (optimistic)
    return UNKNOWN


def _kind(value, kinds, resolve):
    """The kind of the value of an ANF assignment (None: not known yet, optimistic)."""
    if value is None:
        return None
    if value == "int":
        return INT
    if isinstance(value, (gast.Name, gast.Constant)):
        return _atom_kind(value, kinds)
    if isinstance(value, gast.BinOp):
        return _binop_kind(value, kinds)
    if isinstance(value, gast.Attribute):
        return _attribute_kind(value, kinds)
    if isinstance(value, gast.Subscript):
        return _subscript_kind(value, kinds)
    if isinstance(value, gast.Tuple) and value.elts:
        # A tuple literal of numbers (tuples are immutable: its kind cannot change)
        elements = [_atom_kind(e, kinds) for e in value.elts]
        if None in elements:
            return None
        if all(k == INT for k in elements):
            return INTS
        return SCALARS if all(k in (INT, SCALAR) for k in elements) else UNKNOWN
    if isinstance(value, gast.UnaryOp):
        if isinstance(value.op, gast.Not):
            return INT
        return _atom_kind(value.operand, kinds)
    if isinstance(value, gast.Compare):
        a, b = _atom_kind(value.left, kinds), _atom_kind(value.comparators[0], kinds)
        return INT if a in (INT, SCALAR, None) and b in (INT, SCALAR, None) else UNKNOWN
    if isinstance(value, gast.Call):
        return _call_kind(value, kinds, resolve)
    return UNKNOWN


def _binop_kind(value, kinds):
    """The kind of an arithmetic operation of two atoms."""
    a, b = _atom_kind(value.left, kinds), _atom_kind(value.right, kinds)
    if a is None or b is None:
        return a or b
    if a == INT and b == INT:
        return SCALAR if isinstance(value.op, gast.Div) else INT
    if a in (INT, SCALAR) and b in (INT, SCALAR):
        return SCALAR
    if VECTOR in (a, b) and {a, b} <= {VECTOR, SCALAR, INT} and not isinstance(value.op, gast.MatMult):
        return VECTOR                    # 1-d with scalars or 1-d broadcasts to 1-d
    if (is_array(a) or is_array(b)) and UNKNOWN not in (a, b) and SCALARS not in (a, b) \
            and not isinstance(value.op, gast.MatMult):
        return ARRAY
    if isinstance(value.op, gast.MatMult) and is_array(a) and is_array(b):
        return ARRAY                     # an ndarray (a NumPy scalar for two 1-d operands)
    return UNKNOWN


def _attribute_kind(value, kinds):
    """The kind of x.shape, x.ndim... of an array (other attributes: UNKNOWN)."""
    base = _atom_kind(value.value, kinds)
    if base is None:
        return None
    if is_array(base) or base == INTS:
        if value.attr in ("shape", "strides"):
            return INTS
        if value.attr in ("ndim", "size", "itemsize", "nbytes"):
            return INT
    return UNKNOWN


def _subscript_kind(value, kinds):
    """The kind of an item or a slice of an atom."""
    base = _atom_kind(value.value, kinds)
    index = value.slice
    if base == INTS:
        if isinstance(index, gast.Slice):
            return INTS
        if isinstance(index, (gast.Name, gast.Constant)) and _atom_kind(index, kinds) == INT:
            return INT
        return UNKNOWN
    if base in (SCALARS, VECTOR) and isinstance(index, (gast.Name, gast.Constant)) \
            and _atom_kind(index, kinds) == INT:
        return SCALAR
    if base == VECTOR and isinstance(index, gast.Slice):
        return VECTOR
    if base == RANGE and isinstance(index, (gast.Name, gast.Constant)) \
            and _atom_kind(index, kinds) == INT:
        return INT
    if base == SCALARS and isinstance(index, gast.Slice):
        return UNKNOWN
    if is_array(base):
        return ARRAY      # an ndarray or a NumPy scalar (object arrays are not ARRAY)
    return UNKNOWN if base is not None else None


def _call_kind(value, kinds, resolve):
    """The kind of a call: by its resolved callee and the kinds of its arguments."""
    func = value.func
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
            and not hasattr(func.value, "diffc_global") and func.attr == "copy" and not value.args:
        base = _atom_kind(func.value, kinds)
        return base if base is None or is_array(base) or base == SCALAR else UNKNOWN
    if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
            and not hasattr(func.value, "diffc_global") and func.attr == "astype":
        base = _atom_kind(func.value, kinds)
        return ARRAY if is_array(base) else (None if base is None else UNKNOWN)
    target = resolve(value.func)
    if _member(target, _INT_RESULTS):
        if target is builtins.round and len(value.args) > 1:
            return SCALAR
        return INT
    if _member(target, _SCALAR_RESULTS):
        return SCALAR
    if target is builtins.range:
        return RANGE
    if getattr(target, "__name__", None) == "as_sequence" and len(value.args) == 1:
        inner = _atom_kind(value.args[0], kinds)
        return inner if inner in (SCALARS, VECTOR, None) else UNKNOWN
    arg_kinds = [_atom_kind(a, kinds) for a in value.args]
    scalar_args = all(k in (INT, SCALAR, None) for k in arg_kinds) and arg_kinds \
        and not value.keywords
    if _member(target, _MATH_FUNCS):
        return SCALAR
    if target in (builtins.abs, builtins.max, builtins.min) and scalar_args and len(value.args) >= 1 \
            and (target is builtins.abs or len(value.args) >= 2):
        result = None
        for k in arg_kinds:
            result = join(result, k)
        return result
    if isinstance(target, np.ufunc) and scalar_args:
        return SCALAR
    if isinstance(target, np.ufunc) and arg_kinds and not value.keywords \
            and VECTOR in arg_kinds and set(arg_kinds) <= {VECTOR, SCALAR, INT}:
        return VECTOR
    if isinstance(target, np.ufunc) and target.nout == 1 and not value.keywords \
            and any(is_array(k) for k in arg_kinds) \
            and set(arg_kinds) <= {VECTOR, ARRAY, SCALAR, INT}:
        return ARRAY                     # an ndarray (a NumPy scalar for 0-d operands)
    if _member(target, _REARRANGEMENTS) and value.args and is_array(arg_kinds[0]):
        return ARRAY                     # an ndarray shaped from its first argument
    if _member(target, _REDUCTIONS) and value.args \
            or _member(target, _PRODUCTS) and any(is_array(k) for k in arg_kinds[:2]):
        return ARRAY                     # an ndarray or a NumPy scalar, never a list
    created = _created_array_kind(target, value, kinds)
    if created is not None:
        return created
    callee_kind = kinds.get("__callee_kind__")
    if callee_kind is not None and target is not None and not isinstance(target, (tuple, str)):
        return callee_kind(target, value, arg_kinds)

    return UNKNOWN


def _member(obj, collection):
    try:
        return obj in collection
    except TypeError:
        return False


# NumPy functions whose result, for array operands, is an ndarray or a NumPy
# scalar (the ARRAY kind covers both: neither is a list, both broadcast).
_PRODUCTS = {np.dot, np.matmul}
# NumPy functions whose result, for an ndarray first argument, is an ndarray of
# its elements rearranged or bounded (a NumPy scalar for a 0-d one): ARRAY.
_REARRANGEMENTS = {np.roll, np.clip, np.flip, np.fliplr, np.flipud, np.rot90}
_REDUCTIONS = {np.sum, np.max, np.min, np.amax, np.amin, np.mean, np.prod}

_MATH_FUNCS = {getattr(math, n) for n in dir(math) if callable(getattr(math, n))} - _INT_RESULTS


# --------------------------------------------------------------------------- #
# Shapes of 1-d arrays, symbolically

def infer_shapes(info, kinds, param_names):
    """name -> a symbolic shape; two names with equal entries certainly have equal shapes.

    Input: an ANF `FunctionInfo`, the kinds from `infer`, the parameter names.
    Output: a dict name -> shape term, so that an adjoint contribution between
    two names with equal terms needs no `unbroadcast`.  Terms:

    * ``(symbol, offset)``: the shape of the array `symbol` with its first axis
      of length max(0, n + offset).  Parameters of array kind are symbols, and
      so are names of array kind bound once at the function's top level whose
      shape nothing below derives (their value, hence their shape, is fixed for
      the call: ``("@of", name)``).
    * ``("keep", term, axis)``: a reduction over `axis` with ``keepdims=True``
      (np.sum, np.max, np.min, np.mean, np.prod) of an array shaped `term`.

    Copies, constant slices ``u[a:b]`` (0 <= a, b <= 0), unary minus, ufuncs
    (one result) and elementwise arithmetic propagate shapes: operands with
    scalars, equal shapes, or a shape with its own keepdims reduction (the
    broadcast gives the unreduced shape back).  A name assigned twice with
    different shapes has none.  Never guessed: ``@``, np.dot and broadcasting
    between different symbols give nothing."""
    fixed = {p: (p, 0) for p in param_names if is_array(kinds.get(p))}
    resolve = getattr(info, "resolve_static", None)
    shapes = _shape_fixpoint(info, kinds, param_names, fixed)
    # Top-level names bound once, in program order: derived from what precedes
    # them, or else a symbol of their own.
    counts = {}
    for stmt in info.node.body:
        for node in gast.walk(stmt):            # every binding: tuple targets, loop targets...
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
                counts[node.id] = counts.get(node.id, 0) + 1
    pinned = False
    for stmt in info.node.body:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            name = stmt.targets[0].id
            if counts.get(name) != 1 or name in param_names or not is_array(kinds.get(name)):
                continue
            derived = _shape(stmt.value, shapes, kinds, resolve)
            if derived is None:
                fixed[name] = derived = ("@of", name)
                pinned = True
            shapes[name] = derived
    return _shape_fixpoint(info, kinds, param_names, fixed) if pinned else shapes


def _shape_fixpoint(info, kinds, param_names, fixed):
    """Shapes from the parameters' and pinned names' symbols (`fixed`), to a fixpoint.
    A name (a parameter too) assigned a value of another or an unknown shape has none."""
    pins = {n for n in fixed if n not in param_names}
    shapes = dict(fixed)
    stmts = list(_assignments(info.node.body))
    conflicted = set()
    for _ in range(len(stmts) + 2):
        changed = False
        for target, value in stmts:
            if target in conflicted or target in pins or value is None or value == "int":
                continue
            new = _shape(value, shapes, kinds, getattr(info, "resolve_static", None))
            old = shapes.get(target)
            if new is None:
                if target in shapes:
                    del shapes[target]
                conflicted.add(target)
                changed = changed or old is not None
                continue
            if old is None:
                shapes[target] = new
                changed = True
            elif old != new:
                del shapes[target]
                conflicted.add(target)
                changed = True
        if not changed:
            break
    return shapes


def _shape_of_atom(atom, shapes, kinds):
    if isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global"):
        if atom.id in shapes:
            return shapes[atom.id]
        if kinds.get(atom.id) in (SCALAR, INT):
            return "scalar"
        return None
    if isinstance(atom, gast.Constant) and isinstance(atom.value, (int, float)) \
            and not isinstance(atom.value, bool):
        return "scalar"
    return None


def _is_kept_reduction_of(reduced, full):
    """Whether `reduced` is `full` after one or more keepdims reductions."""
    while isinstance(reduced, tuple) and len(reduced) == 3 and reduced[0] == "keep":
        reduced = reduced[1]
        if reduced == full:
            return True
    return False


def _broadcast(a, b):
    """The shape of an elementwise result of operands shaped a and b, or None if unknown."""
    if a is None or b is None:
        return None
    if a == "scalar":
        return b if b != "scalar" else None
    if b == "scalar" or a == b or _is_kept_reduction_of(b, a):
        return a
    if _is_kept_reduction_of(a, b):
        return b
    return None


_KEEPDIMS_REDUCTIONS = {np.sum, np.max, np.min, np.amax, np.amin, np.mean, np.prod}


def shape_of_value(value, shapes, kinds, resolve=None):
    """The symbolic shape (see `infer_shapes`) of an ANF right side, or None."""
    return _shape(value, shapes, kinds, resolve)


def _shape(value, shapes, kinds, resolve=None):
    if isinstance(value, gast.Name):
        s = _shape_of_atom(value, shapes, kinds)
        return s if s != "scalar" else None
    if isinstance(value, gast.BinOp) and not isinstance(value.op, gast.MatMult):
        return _broadcast(_shape_of_atom(value.left, shapes, kinds),
                          _shape_of_atom(value.right, shapes, kinds))
    if isinstance(value, gast.UnaryOp) and isinstance(value.op, (gast.USub, gast.UAdd)):
        s = _shape_of_atom(value.operand, shapes, kinds)
        return s if s != "scalar" else None
    if isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
            and value.value.id in shapes and isinstance(value.slice, gast.Slice):
        base = shapes[value.value.id]
        if not (isinstance(base, tuple) and len(base) == 2):
            return None
        sym, offset = base
        sl = value.slice
        lower = 0 if sl.lower is None else _const_int(sl.lower)
        upper = 0 if sl.upper is None else _const_int(sl.upper)
        if sl.step is not None or lower is None or upper is None or lower < 0 or upper > 0 \
                or offset != 0:
            return None
        return (sym, upper - lower)
    if isinstance(value, gast.Call) and isinstance(value.func, gast.Attribute) \
            and value.func.attr == "copy" and not value.args and isinstance(value.func.value, gast.Name):
        s = _shape_of_atom(value.func.value, shapes, kinds)
        return s if s != "scalar" else None
    if isinstance(value, gast.Call):
        target = resolve(value.func) if resolve is not None else getattr(value.func, "diffc_global", None)
        if isinstance(target, np.ufunc) and target.nout == 1 and not value.keywords \
                and len(value.args) == target.nin:
            result = "scalar"
            for a in value.args:
                result = _broadcast(result, _shape_of_atom(a, shapes, kinds)) \
                    if result != "scalar" else _shape_of_atom(a, shapes, kinds)
            return result if result != "scalar" else None
        if _member(target, _KEEPDIMS_REDUCTIONS) and len(value.args) == 1:
            keywords = {k.arg: k.value for k in value.keywords}
            keep = keywords.get("keepdims")
            if set(keywords) <= {"axis", "keepdims"} and isinstance(keep, gast.Constant) \
                    and keep.value is True:
                base = _shape_of_atom(value.args[0], shapes, kinds)
                axis = keywords.get("axis")
                axis = None if axis is None else _const_axis(axis)
                if base is None or base == "scalar" or axis is False:
                    return None
                return ("keep", base, axis)
    return None


def _const_axis(node):
    """The constant axis (an int or a tuple of ints) of a reduction, else False."""
    if isinstance(node, gast.Constant) and node.value is None:
        return None
    value = _const_int(node)
    if value is not None:
        return value
    if isinstance(node, gast.Tuple):
        items = tuple(_const_int(e) for e in node.elts)
        return items if None not in items else False
    return False


def _const_int(node):
    if isinstance(node, gast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, gast.UnaryOp) and isinstance(node.op, gast.USub):
        inner = _const_int(node.operand)
        return -inner if inner is not None else None
    return None


_SHAPED_CREATORS = {np.zeros, np.ones, np.empty, np.full}
_LIKE_CREATORS = {np.zeros_like, np.ones_like, np.empty_like, np.full_like, np.copy}


def _created_array_kind(target, call, kinds):
    """Kind of np.zeros(n) / np.full(n, v) / np.zeros_like(x)... (float arrays), or None."""
    if not _member(target, _SHAPED_CREATORS | _LIKE_CREATORS | {np.arange, np.linspace}):
        return None
    dtype_given = any(k.arg == "dtype" for k in call.keywords)
    if target in _LIKE_CREATORS:
        base = _atom_kind(call.args[0], kinds) if call.args else None
        if dtype_given or base is None:
            return base if not dtype_given else ARRAY
        return base if is_array(base) else UNKNOWN
    if target is np.linspace:
        if len(call.args) > 4 or any(k.arg == "retstep" for k in call.keywords):
            return UNKNOWN                 # retstep=True: the pair (samples, step)
        return VECTOR if len(call.args) <= 3 and not call.keywords else ARRAY
    if target is np.arange:
        return ARRAY                       # int or float elements
    if dtype_given or not call.args:
        return ARRAY
    shape = call.args[0]
    if target is np.full and len(call.args) > 1 and _atom_kind(call.args[1], kinds) != SCALAR:
        return ARRAY                       # np.full(n, 2) holds ints: not a float vector
    if isinstance(shape, gast.Constant) and type(shape.value) is int or \
            isinstance(shape, gast.Name) and _atom_kind(shape, kinds) == INT:
        return VECTOR
    return ARRAY


_FLOAT_CREATORS = {np.zeros: 1, np.ones: 1, np.empty: 1, np.eye: 3, np.identity: 1}


def makes_floats(value, kinds, resolve):
    """Whether the ANF value certainly makes an array of floats (or complex numbers), never
    of ints or bools: np.zeros(shape) and the like without a dtype, a copy of a float vector,
    arithmetic with a float operand or true division (resolve: the static object a call's
    function names, or None).  False when not known."""
    floats = (VECTOR, SCALAR)
    if isinstance(value, gast.BinOp):
        return isinstance(value.op, gast.Div) or _atom_kind(value.left, kinds) in floats \
            or _atom_kind(value.right, kinds) in floats
    if not isinstance(value, gast.Call) or any(k.arg == "dtype" for k in value.keywords):
        return False
    target = resolve(value.func)
    if _member(target, _FLOAT_CREATORS):
        return len(value.args) <= _FLOAT_CREATORS[target]
    if target is np.full:
        return len(value.args) == 2 and _atom_kind(value.args[1], kinds) == SCALAR
    if _member(target, _LIKE_CREATORS):
        return len(value.args) == 1 and _atom_kind(value.args[0], kinds) == VECTOR
    func = value.func
    return isinstance(func, gast.Attribute) and func.attr == "copy" and not value.args \
        and isinstance(func.value, gast.Name) and kinds.get(func.value.id) == VECTOR
