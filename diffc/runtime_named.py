"""Derivatives of NamedTuple results read by field name (``np.linalg.slogdet(a).logabsdet``).

Input/output: runtime_calls' field_bar, field_dot and bar_of_field call these for an
attribute read ``obj.name`` of a NamedTuple obj.  A rule of a library function whose
result is a NamedTuple (slogdet's SlogdetResult, svd's SVDResult, eigh's EighResult,
qr's QRResult) gives and takes that result's derivatives by position, as for tuple
unpacking (``result_bar[1]``, ``gu, gs, gvt = result_bar``, a ListBar tangent): read by
name, the field's entry is the one at the field's position.  Like runtime.py, imports
nothing but NumPy's and runtime.py's names (``diffc export`` copies what generated code
calls).
"""

from .runtime import ListBar, field_of

_LIBRARIES = ("numpy", "scipy")


def is_library_named_tuple(obj):
    """Whether obj is a NamedTuple made by NumPy or SciPy (a function's result)."""
    module = (getattr(type(obj), "__module__", "") or "").split(".")[0]
    return isinstance(obj, tuple) and hasattr(obj, "_fields") and module in _LIBRARIES


def library_field_bar(g, obj, name):
    """The adjoint of obj.name for such a result: positional, g at the field's place."""
    return ListBar(g if field == name else 0.0 for field in obj._fields)


def named_entry(derivative, obj, name):
    """The entry for obj.name of obj's adjoint or tangent: by position when obj is a
    NamedTuple and the derivative a plain list or tuple (a rule's; getattr on the list
    would give 0.0, a silently zero derivative), else by name (runtime.field_of)."""
    if isinstance(obj, tuple) and hasattr(obj, "_fields") and isinstance(derivative, (list, tuple)) \
            and not hasattr(derivative, "_fields"):
        return derivative[obj._fields.index(name)]
    return field_of(derivative, name)
