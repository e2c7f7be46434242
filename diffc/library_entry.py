"""library_entry: a library function handed straight to an entry point.

Input: whatever the user gave ``diffc.grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``
(``diffc.grad(np.sum)``, ``diffc.vjp(np.sin, x)``, ``diffc.grad(math.sin)``).
Output (`as_python_function`): for a NumPy ufunc, or a callable of numpy, scipy or math
that diffc has a derivative rule for, a plain Python function calling it, defined from
source text (so diffc reads it like user code and picks the library's rule); anything
else is returned unchanged.

Invariants: the wrapper takes the callable's leading positional parameters by name
(``x`` for a one-argument ufunc, ``x1, x2`` for a two-argument one, ``a`` for ``np.sum``)
and no others (options keep their defaults; a plain signature, so every entry point counts
one primal per parameter), so ``wrt=0`` is the first argument, as for the library function; one
wrapper per callable (kept), so the compile cache sees one function each time.
"""

import inspect
import itertools
import threading
import types

import numpy as np

from . import rules
from .parse import define_from_source

_WRAPPERS = {}
_LOCK = threading.Lock()
_LIBRARIES = ("numpy", "scipy", "math", "cmath")
_counter = itertools.count()


def as_python_function(fn):
    """A Python function calling library callable fn (module docstring), or fn itself."""
    if not _is_library_callable(fn):
        return fn
    with _LOCK:
        made = _WRAPPERS.get(fn)
        if made is None:
            made = _WRAPPERS[fn] = _wrapper(fn)
    return made


def _is_library_callable(fn):
    if isinstance(fn, (types.FunctionType, types.MethodType, type)) and not rules.is_registered(fn):
        return False                    # user code (and classes) as before
    if isinstance(fn, np.ufunc):
        return True
    if not callable(fn) or isinstance(fn, type):
        return False
    module = (getattr(fn, "__module__", None) or "").split(".")[0]
    if module not in _LIBRARIES and not (module == "" and isinstance(fn, types.BuiltinFunctionType)
                                         and getattr(fn, "__self__", None) is not None
                                         and getattr(fn.__self__, "__name__", "") in _LIBRARIES):
        return False
    return rules.is_registered(fn)


def _wrapper(fn):
    """The source text of the wrapper, run with the callable as its only global."""
    leading = _leading_parameters(fn)
    name = _identifier(getattr(fn, "__name__", "library_function"))
    params = ", ".join(leading)
    text = f"def {name}({params}):\n    return _library_function({params})\n"
    namespace = {"_library_function": fn, "__name__": f"diffc_library_{next(_counter)}"}
    made = define_from_source(text, name, namespace)
    made.__qualname__ = f"{getattr(fn, '__module__', None) or 'library'}.{name}"
    return made


def _leading_parameters(fn):
    """Names for the callable's positional parameters without defaults (at least one)."""
    if isinstance(fn, np.ufunc):
        return ["x"] if fn.nin == 1 else [f"x{k + 1}" for k in range(fn.nin)]
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return ["x"]
    names = []
    for p in signature.parameters.values():
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) or p.default is not p.empty:
            break
        names.append(_identifier(p.name))
    return names or ["x"]


def _identifier(text):
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in text)
    if not cleaned or cleaned[0].isdigit() or cleaned in ("args", "kwargs", "_library_function"):
        cleaned = "f_" + cleaned
    return cleaned
