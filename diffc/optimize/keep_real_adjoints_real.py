"""keep_real_adjoints_real: a complex adjoint added in place into a real array's adjoint keeps its real part.

Input: a generated function after the optimizer passes (or unoptimized).
Output: the same function where every ``b[index] += v`` or ``b += v`` (or ``-=``) into an
adjoint array ``b`` allocated by ``b = zeros_like(x)`` (the reverse transform's
dense adjoints, `transform/reverse.py`) adds ``real_where_real(v, b.dtype)``
instead of ``v``, except where the reverse transform marked the statement as the
adjoint of a float element (``diffc_scalar_read``: NumPy stores the real part of
a complex number in a float element itself).

Why: the cotangent of a real value is real, and generated code may carry a
complex adjoint for a real intermediate (rules/complex_rules.py): the adjoint
of ``x[:2]`` in ``np.diag(x[:2]) @ A`` with a complex ``A`` arrives complex.
Adding it in place into the float64 adjoint of ``x`` raised NumPy's casting
error.  ``real_where_real`` returns v itself when v is real or b complex, so
real code computes the same values; it runs after the optimizer so that the
passes matching ``b[i] += v`` see the statement unchanged.  The adjoint is
compared by its dtype (not the array), so code differentiated again does not
keep copies of the adjoint for this read.
"""

import gast

from .. import ast_util as A
from ..runtime import real_where_real, zeros_like


def _is_call_of(value, helper):
    return isinstance(value, gast.Call) and isinstance(value.func, gast.Name) \
        and getattr(value.func, "diffc_global", None) is helper


def keep_real_adjoints_real(fn):
    """See the module docstring."""
    dense, rebound = set(), set()
    for s in A.walk(fn):
        if isinstance(s, gast.Assign):
            for target in s.targets:
                for name in A.names_stored(target):
                    alloc = len(s.targets) == 1 and isinstance(target, gast.Name) and _is_call_of(s.value, zeros_like)
                    (dense if alloc else rebound).add(name)
        elif isinstance(s, (gast.For, gast.NamedExpr)):
            rebound |= A.names_stored(s.target)
    # an adjoint array bound to anything else too (0.0 after a reset, a tape entry) is left alone
    dense -= rebound
    if not dense:
        return fn
    for s in A.walk(fn):
        if not (isinstance(s, gast.AugAssign) and isinstance(s.op, (gast.Add, gast.Sub))):
            continue
        buffer = s.target.value if isinstance(s.target, gast.Subscript) else s.target
        if isinstance(buffer, gast.Name) and buffer.id in dense and not _is_call_of(s.value, real_where_real) \
                and not getattr(s, "diffc_scalar_read", False):
            dtype = gast.Attribute(value=A.name(buffer.id), attr="dtype", ctx=gast.Load())
            s.value = A.call(A.global_ref(real_where_real, "real_where_real"), [s.value, dtype])
    return fn
