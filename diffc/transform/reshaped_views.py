"""reshaped_views: writes through a transposed or reshaped view, made explicit.

Input: an ANF function (a ReverseFunction or ForwardFunction, before its other analyses),
an in-place write `write` into one of two names sharing memory, and the statement
`origin` that made them share: ``t = y.T`` / ``y.transpose()`` / ``np.transpose(y)``,
``t = y.reshape(s)`` / ``np.reshape(y, s)``, ``t = y.ravel()`` / ``np.ravel(y)``,
``t = y.squeeze()`` / ``np.squeeze(y)`` / ``np.expand_dims(y, a)`` / ``np.atleast_2d(y)``.
Output (`follow_up`): the ANF statements to put right after the write so that both modes
see what Python shows, or None (the write is then refused by the aliasing check):

* a write into y that t sees: ``t = <the same view of y>`` again (a re-read);
* a write into t that y sees: y's contents taken back from t
  (``_w = t.T; y[:] = _w``, or ``_s = y.shape; _w = t.reshape(_s); y[:] = _w``).

Invariant: a follow-up is produced only when the view certainly is a view in Python.
``.T`` and transpose, squeeze, expand_dims and atleast_* always are; a reshape of a 1-d
array always is; a reshape or ravel of any other array is a view only when no copy is
needed, which diffc decides statically only for arrays certainly C-contiguous (made by a
creation function, ``.copy()``, a matrix product, or elementwise arithmetic on such
arrays; a 1-d array computed by arithmetic).  diffc's own private copies are C-ordered
whatever the user's layout, so a run-time test in the generated code could not tell.
"""

import gast
import numpy as np

from .. import ast_util as A
from .. import runtime
from ..analysis import kinds as K
from ..analysis.calls import call_key
from ..parse import MISSING

_TRANSPOSES = {np.transpose}
_RESHAPES = {np.reshape}
_RAVELS = {np.ravel}
_ALWAYS_VIEWS = {np.squeeze, np.expand_dims, np.atleast_1d, np.atleast_2d, np.atleast_3d}
_AXES_MOVES = {np.swapaxes: "swap", np.moveaxis: "move"}
_C_CREATORS = {np.zeros, np.ones, np.empty, np.full, np.eye, np.identity, np.arange, np.linspace,
               np.outer, np.dot, np.matmul}


def view_of(fn, value):
    """(base name, how) when `value` is such a view of a local name, how in
    "T" / "reshape" / "ravel" / "always"; else None."""
    if isinstance(value, gast.Attribute):
        if value.attr == "T" and _local(fn, value.value):
            return value.value.id, "T"
        return None
    if not isinstance(value, gast.Call):
        return None
    key, args = call_key(fn.info, value)
    if not args or not _local(fn, args[0]):
        return None
    rest, keywords = args[1:], value.keywords
    try:
        if isinstance(key, tuple) and key[0] == "method":
            how = {"transpose": "T", "reshape": "reshape", "ravel": "ravel", "squeeze": "always",
                   "swapaxes": "swap"}.get(key[1])
        elif key in _AXES_MOVES:
            how = _AXES_MOVES[key]
        elif key in _TRANSPOSES:
            how = "T"
        elif key in _RESHAPES:
            how = "reshape"
        elif key in _RAVELS:
            how = "ravel"
        elif key in _ALWAYS_VIEWS:
            how = "always"
        else:
            how = None
    except TypeError:                       # an unhashable key
        return None
    if how == "T" and (rest or keywords):
        # transpose(axes) / transpose(*axes): followed when the axes are constant ints
        axes = _constant_axes(fn, rest) if not keywords or [k.arg for k in keywords] == ["axes"] and not rest \
            else None
        if keywords and axes is None and not rest:
            axes = _constant_axes(fn, [keywords[0].value])
        if axes is None:
            return None
        how = ("axes", axes)
    if how in ("swap", "move"):
        if keywords or len(rest) != 2 or any(_constant_axes(fn, [a]) is None for a in rest):
            return None                     # the axes must be constants to be undone after a write
        how = (how, tuple(_constant_axes(fn, [a]) for a in rest))
    if how in ("reshape", "ravel") and any(k.arg == "order" for k in keywords):
        return None                         # order="F"/"A" changes which element goes where
    if how == "ravel" and rest:
        return None
    return (args[0].id, how) if how else None


def _constant_axes(fn, atoms):
    """The int or tuple of ints that atoms denote (``1, 0, 2`` as separate arguments or one
    tuple; an atom may be a local bound once to such a constant), else None."""
    values = [_constant_value(fn, a) for a in atoms]
    if any(v is None for v in values):
        return None
    if len(values) == 1:
        return values[0]
    return tuple(values) if all(isinstance(v, int) for v in values) else None


def _constant_value(fn, atom, depth=0):
    if isinstance(atom, gast.Constant) and type(atom.value) is int:
        return atom.value
    if isinstance(atom, gast.Constant) and isinstance(atom.value, tuple) and all(type(v) is int for v in atom.value):
        return atom.value                   # (a tuple of ints kept as one constant: anf.py)
    if isinstance(atom, (gast.Tuple, gast.List)):
        items = [_constant_value(fn, e, depth) for e in atom.elts]
        return tuple(items) if all(isinstance(v, int) for v in items) else None
    if isinstance(atom, gast.UnaryOp) and isinstance(atom.op, gast.USub):
        inner = _constant_value(fn, atom.operand, depth)
        return -inner if isinstance(inner, int) else None
    if _local(fn, atom) and depth < 4 and atom.id not in fn.params:
        values = _bindings(fn, atom.id)
        if values is not None and len(values) == 1:
            return _constant_value(fn, values[0], depth + 1)
    return None


def view_binding(fn, origin, write, written):
    """The statement binding the view the write goes through: `origin` when it binds a
    view; else, for a chain (``W = theta[:6].reshape(2, 3)``: theta observes a write into W,
    which views the temporary that views theta), the one binding of `written` when it is a
    view whose array cannot have been rebound before the write (the array bound once,
    earlier in the same block, or a parameter never rebound; the write later in that block).
    None otherwise."""
    if isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Name) \
            and view_of(fn, origin.value) is not None \
            and written in (origin.targets[0].id, view_of(fn, origin.value)[0]):
        return origin
    own = [s for s in A.walk_statements(fn.body) if isinstance(s, gast.Assign)
           and isinstance(s.targets[0], gast.Name) and s.targets[0].id == written]
    if len(own) != 1 or own[0] is origin or view_of(fn, own[0].value) is None:
        return None
    base = view_of(fn, own[0].value)[0]
    block = _block_of(fn.body, own[0])
    at = next(i for i, s in enumerate(block) if s is own[0])
    later = [i for i, s in enumerate(block) if any(w is write for w in A.walk_statements([s]))]
    if not later or later[0] <= at:
        return None
    binds = [i for i, s in enumerate(block) if _binds(s, base)]
    anywhere = [s for s in A.walk_statements(fn.body) if _binds(s, base)]
    if base in fn.params and not anywhere:
        return own[0]
    if len(anywhere) == 1 and binds and binds[0] < at:
        return own[0]
    return None


def _binds(stmt, name):
    """Whether stmt itself (not a statement inside it) binds name."""
    if isinstance(stmt, gast.For):
        return name in A.names_stored(stmt.target)
    if isinstance(stmt, (gast.If, gast.While)):
        return False
    return name in A.names_stored(stmt)


def _block_of(stmts, stmt):
    """The statement list holding stmt (recursively)."""
    if any(s is stmt for s in stmts):
        return stmts
    for s in stmts:
        for block in A.child_blocks(s):
            found = _block_of(block, stmt)
            if found is not None:
                return found
    return None


def follow_up(fn, write, observer, written, origin, bound_elsewhere):
    """The statements making `write`'s effect on `observer` explicit, or None.

    bound_elsewhere: the names some statement other than `origin` binds (a shape or an
    axis rebound since the view was made: no re-read).  A write into the view is taken
    back into its array whoever observes it (the array may be a view of the observer)."""
    if not (isinstance(origin, gast.Assign) and isinstance(origin.targets[0], gast.Name)):
        return None
    target, value = origin.targets[0].id, origin.value
    found = view_of(fn, value)
    if found is None:
        return None
    base, how = found
    if target == base or written not in (target, base) or observer == written:
        return None
    if not certainly_ndarray(fn, base) or not certainly_a_view(fn, base, how):
        return None
    if written == target:
        # the array sees a write into its view: taken back into it (a no-op in Python, where
        # they are one memory), also when the array is itself a view of the observer (then
        # the write into it is followed in its turn: `W = theta[:6].reshape(2, 3)`)
        return [A.located(s, write) for s in _write_back(fn, base, target, how)]
    loaded = {n for n in A.names_loaded(value) - {base} if _constant_value(fn, A.name(n)) is None}
    if observer != target or loaded & bound_elsewhere:
        return None                         # a shape or axis rebound since: not re-read
    return [A.located(A.assign(target, _with_constants(fn, value, base)), write)]


def _with_constants(fn, value, base):
    """A copy of value with its constant axes spelled out (``t.transpose(_t3)`` with
    ``_t3 = (2, 0, 1)``): the re-read then reads no temporary, which the gradient code
    would have to keep (and code differentiated again would take for a value)."""
    out = A.deepcopy(value)
    for node in A.walk(out):
        for field in ("args",):
            items = getattr(node, field, None)
            if isinstance(node, gast.Call) and isinstance(items, list):
                for k, atom in enumerate(items):
                    if isinstance(atom, gast.Name) and atom.id != base and _constant_value(fn, atom) is not None:
                        items[k] = _constant_atom(_constant_value(fn, atom))
    return out


def _write_back(fn, base, view, how):
    taken = fn.namer.fresh("_unviewed")
    out = []
    if how == "T":
        out.append(A.assign(taken, A.attr(view, "T")))
    elif isinstance(how, tuple):
        out.append(A.assign(taken, _undo_axes(view, how)))
    else:
        shape = fn.namer.fresh("_shape")
        fn.info.add_locals({shape})
        out.append(A.assign(shape, A.attr(base, "shape")))
        out.append(A.assign(taken, A.method_call(A.name(view), "reshape", [A.name(shape)])))
    fn.info.add_locals({taken})
    everything = gast.Slice(lower=None, upper=None, step=None)
    out.append(A.assign(A.subscript(A.name(base), everything, gast.Store()), A.name(taken)))
    return out


def _undo_axes(view, how):
    """The call putting a view's axes back in its array's order: transpose by the inverse
    permutation, swapaxes again, moveaxis back from where it went."""
    kind, axes = how
    if kind == "axes":
        axes = axes if isinstance(axes, tuple) else (axes,)
        n = len(axes)
        inverse = tuple(int(k) for k in np.argsort([a % n for a in axes]))
        return A.call(A.global_ref(np.transpose, "np_transpose"), [A.name(view), _constant_atom(inverse)])
    first, second = axes
    if kind == "swap":
        return A.call(A.global_ref(np.swapaxes, "np_swapaxes"),
                      [A.name(view), _constant_atom(first), _constant_atom(second)])
    return A.call(A.global_ref(np.moveaxis, "np_moveaxis"),
                  [A.name(view), _constant_atom(second), _constant_atom(first)])


def _constant_atom(value):
    if isinstance(value, tuple):
        return gast.Tuple(elts=[A.const(v) for v in value], ctx=gast.Load())
    return A.const(value)


def certainly_a_view(fn, base, how):
    if how in ("T", "always") or isinstance(how, tuple):
        return True
    if how == "reshape" and (fn.kinds.get(base) == K.VECTOR or _one_d(fn, base, set())):
        return True                         # any reshape of a 1-d array needs no copy
    return c_contiguous(fn, base)


_ARRAY_METHODS = {"reshape", "ravel", "transpose", "squeeze", "copy", "astype", "flatten", "swapaxes"}


def certainly_ndarray(fn, name, depth=0):
    """Whether local `name` certainly holds a NumPy array when a write into its view runs
    (a NumPy scalar would refuse the write in Python too; a list or a duck array: no)."""
    if K.is_array(fn.kinds.get(name)) or c_contiguous(fn, name):
        return True
    if depth > 6 or name in fn.params:
        return False
    values = _bindings(fn, name)
    return values is not None and all(_ndarray_value(fn, v, depth) for v in values)


def _ndarray_value(fn, value, depth):
    if isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.copy_value \
            and value.args:
        value = value.args[0]
    if isinstance(value, gast.BinOp):
        return any(_ndarray_atom(fn, a, depth) for a in (value.left, value.right))
    if isinstance(value, gast.UnaryOp):
        return _ndarray_atom(fn, value.operand, depth)
    if isinstance(value, gast.Subscript) and isinstance(value.slice, gast.Slice):
        return _ndarray_atom(fn, value.value, depth)        # a slice of an array is one
    if isinstance(value, gast.Attribute):
        return value.attr == "T" and _ndarray_atom(fn, value.value, depth)
    if not isinstance(value, gast.Call):
        return False
    key, args = call_key(fn.info, value)
    if isinstance(key, tuple) and key[0] == "method":
        return key[1] in _ARRAY_METHODS and bool(args) and _ndarray_atom(fn, args[0], depth)
    module = getattr(key, "__module__", None) or ""
    return key is not None and key is not MISSING and (module.split(".")[0] == "numpy" or isinstance(key, np.ufunc))


def _ndarray_atom(fn, atom, depth):
    return _local(fn, atom) and certainly_ndarray(fn, atom.id, depth + 1)


def _bindings(fn, name):
    """The values assigned to local `name`, or None when a loop binds it too."""
    values = [s.value for s in A.walk_statements(fn.body) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name]
    if not values or any(isinstance(s, gast.For) and name in A.names_stored(s.target)
                         for s in A.walk_statements(fn.body)):
        return None
    return values


def c_contiguous(fn, name, depth=0):
    """Whether every binding of local `name` certainly gives a C-contiguous array (a
    parameter's layout is the caller's: not known)."""
    if depth > 6 or name in fn.params:
        return False
    values = _bindings(fn, name)
    if values is None:
        return False
    vector = fn.kinds.get(name) == K.VECTOR
    return all(_c_contiguous_value(fn, v, vector, depth) for v in values)


def _c_contiguous_value(fn, value, vector, depth):
    if isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.copy_value \
            and value.args:
        value = value.args[0]
    if isinstance(value, gast.BinOp):
        if isinstance(value.op, gast.MatMult):
            return True
        operands = [value.left, value.right]
        return vector or _fresh_vector(fn, operands) or _operands_c_contiguous(fn, operands, depth)
    if isinstance(value, gast.UnaryOp):
        return vector or _fresh_vector(fn, [value.operand]) or _operands_c_contiguous(fn, [value.operand], depth)
    if not isinstance(value, gast.Call):
        return False
    key, args = call_key(fn.info, value)
    if any(k.arg in ("order", "out", "like") for k in value.keywords):
        return False
    if isinstance(key, tuple) and key[0] == "method":
        return key[1] == "copy" and len(args) == 1
    try:
        if key in _C_CREATORS:
            return True
    except TypeError:
        return False
    if isinstance(key, np.ufunc) and key is not MISSING:
        return vector or _fresh_vector(fn, args) or _operands_c_contiguous(fn, args, depth)
    return False


def _fresh_vector(fn, atoms):
    """Elementwise arithmetic of 1-d float arrays and numbers: a new 1-d array, contiguous."""
    vectors = 0
    for atom in atoms:
        if isinstance(atom, gast.Constant) and isinstance(atom.value, (int, float)):
            continue
        kind = fn.kinds.get(atom.id) if isinstance(atom, gast.Name) else None
        if kind == K.VECTOR:
            vectors += 1
        elif kind not in (K.SCALAR, K.INT):
            return False
    return vectors > 0


def _operands_c_contiguous(fn, atoms, depth):
    """Elementwise arithmetic keeps its operands' layout: C-contiguous when every array
    operand is (numbers and constants broadcast into any layout), and at least one is an
    array (else the result is a number)."""
    arrays = 0
    for atom in atoms:
        if isinstance(atom, gast.Constant):
            continue
        if not isinstance(atom, gast.Name) or hasattr(atom, "diffc_global"):
            return False
        kind = fn.kinds.get(atom.id)
        if kind in (K.SCALAR, K.INT) or _zero_d(fn, atom.id, depth):
            continue                        # (a 0-d array broadcasts into any layout too)
        if not c_contiguous(fn, atom.id, depth + 1):
            return False
        arrays += 1
    return arrays > 0


_REDUCTIONS = {np.sum, np.mean, np.prod, np.max, np.min, np.amax, np.amin, np.std, np.var}


def _zero_d(fn, name, depth, seen=None):
    """See _zero_d_body; seen holds the judgments in progress (on the stack), assumed true
    for a name met again through its own bindings, and dropped when done."""
    seen = set() if seen is None else seen
    if ("z", name) in seen:
        return True
    if len(seen) >= 24:
        return False
    seen.add(("z", name))
    try:
        return _zero_d_body(fn, name, depth, seen)
    finally:
        seen.discard(("z", name))


def _zero_d_body(fn, name, depth, seen):
    """Every binding of local name is a whole reduction (``np.sum(v)``), or arithmetic of
    such values and numbers: a number or a 0-d array (``s = s + np.sum(y)``: assumed of
    the name being judged, as for any other binding)."""
    values = _bindings(fn, name) if name not in fn.params else None
    if not values:
        return False
    def number(a):
        return isinstance(a, gast.Constant) or _local(fn, a) and (
            fn.kinds.get(a.id) in (K.SCALAR, K.INT) or _zero_d(fn, a.id, depth, seen))
    for value in values:
        if isinstance(value, gast.Call):
            key, args = call_key(fn.info, value)
            try:
                whole = key in _REDUCTIONS and len(args) == 1 and not value.keywords
            except TypeError:
                whole = False
            # a math function gives a float; a ufunc of numbers a number
            if not (whole or getattr(key, "__module__", None) == "math" and not value.keywords
                    or isinstance(key, np.ufunc) and not value.keywords and all(number(a) for a in args)):
                return False
        elif isinstance(value, (gast.BinOp, gast.UnaryOp)):
            atoms = [value.left, value.right] if isinstance(value, gast.BinOp) else [value.operand]
            if not all(number(a) for a in atoms):
                return False
        elif isinstance(value, gast.Subscript):
            # an int item of a 1-d array: a NumPy number
            if not (isinstance(value.slice, gast.Constant) and type(value.slice.value) is int
                    and _local(fn, value.value) and _one_d(fn, value.value.id, seen)):
                return False
        elif not (isinstance(value, (gast.Name, gast.Constant)) and number(value)):
            return False
    return True


def _one_d(fn, name, seen):
    """See _one_d_body (seen: as for _zero_d)."""
    if fn.kinds.get(name) == K.VECTOR or ("o", name) in seen:
        return True
    if len(seen) >= 24:
        return False
    seen.add(("o", name))
    try:
        return _one_d_body(fn, name, seen)
    finally:
        seen.discard(("o", name))


def _one_d_body(fn, name, seen):
    """Every binding of local name certainly gives a 1-d array: ``np.arange(...)``,
    ``np.linspace(...)``, a slice ``y[a:b]`` of such an array, or elementwise arithmetic of one
    with numbers and 0-d values (`_zero_d`)."""
    values = _bindings(fn, name) if name not in fn.params else None
    if not values:
        return False
    for value in values:
        if isinstance(value, gast.Subscript):
            if not (isinstance(value.slice, gast.Slice) and _local(fn, value.value)
                    and _one_d(fn, value.value.id, seen)):
                return False
        elif isinstance(value, gast.Call):
            key, _ = call_key(fn.info, value)
            try:
                if key not in (np.arange, np.linspace):
                    return False
            except TypeError:
                return False
        elif isinstance(value, (gast.BinOp, gast.UnaryOp)) and not isinstance(value.op, gast.MatMult):
            atoms = [value.left, value.right] if isinstance(value, gast.BinOp) else [value.operand]
            vectors = [a for a in atoms if _local(fn, a) and fn.kinds.get(a.id) not in (K.SCALAR, K.INT)
                       and not _zero_d(fn, a.id, 0, seen)]
            if not vectors or any(not isinstance(a, gast.Constant) and a not in vectors and not _local(fn, a)
                                  for a in atoms) or not all(_one_d(fn, a.id, seen) for a in vectors):
                return False
        else:
            return False
    return True


def _local(fn, atom):
    return isinstance(atom, gast.Name) and not hasattr(atom, "diffc_global") \
        and (atom.id in fn.info.local_names or atom.id in fn.params)


def chain_re_read(fn, write, observer, written, unchanged_between):
    """``mid = written[a:b]; observer = mid.reshape(s)`` (or any view of a view of written,
    each name bound once, both before the write in one block with nothing rebinding what
    they read in between): after a write into written, both re-read in that order, or None.
    (``W, b = unpack(theta)`` inlined: a write into b is taken back into theta, which W
    shows.)  unchanged_between(body, origin, write, names): item_write_back's test."""
    own = _only_binding(fn, observer)
    if own is None:
        return None
    found = _view_step(fn, own.value)
    if found is None or found[0] == written:
        return None
    mid, how = found
    first = _only_binding(fn, mid)
    if first is None or mid in fn.params or _view_step(fn, first.value) is None \
            or _view_step(fn, first.value)[0] != written:
        return None
    if how != "slice" and not (certainly_ndarray(fn, mid) and certainly_a_view(fn, mid, how)):
        return None
    if _view_step(fn, first.value)[1] != "slice" and not (
            certainly_ndarray(fn, written) and certainly_a_view(fn, written, _view_step(fn, first.value)[1])):
        return None
    reads = (A.names_loaded(own.value) | A.names_loaded(first.value)) - {mid}
    block = _block_of(fn.body, own)
    if block is None or not any(s is first for s in block) \
            or [i for i, s in enumerate(block) if s is first][0] > [i for i, s in enumerate(block) if s is own][0] \
            or not unchanged_between(fn.body, own, write, reads | {mid, observer}):
        return None
    return [A.located(A.assign(mid, A.deepcopy(first.value)), write),
            A.located(A.assign(observer, A.deepcopy(own.value)), write)]


def _only_binding(fn, name):
    values = [s for s in A.walk_statements(fn.body) if isinstance(s, gast.Assign)
              and isinstance(s.targets[0], gast.Name) and s.targets[0].id == name]
    if len(values) != 1 or any(isinstance(s, gast.For) and name in A.names_stored(s.target)
                               for s in A.walk_statements(fn.body)):
        return None
    return values[0]


def _view_step(fn, value):
    """(base, how) for a view of a local: view_of's, or "slice" for basic slicing
    with constant bounds."""
    found = view_of(fn, value)
    if found is not None:
        return found
    if isinstance(value, gast.Subscript) and _local(fn, value.value):
        parts = value.slice.elts if isinstance(value.slice, gast.Tuple) else [value.slice]
        if any(isinstance(p, gast.Slice) for p in parts) and all(
                isinstance(p, gast.Constant) and type(p.value) is int or isinstance(p, gast.Slice) and all(
                    b is None or isinstance(b, gast.Constant) and type(b.value) is int
                    for b in (p.lower, p.upper, p.step)) for p in parts):
            return value.value.id, "slice"
    return None
