"""dispatch: which derivative helpers can run on arrays of other libraries.

Generated code hands Dask or CuPy arrays to NumPy functions, and NumPy's
dispatch protocols pass the work on.  Some rule helpers still convert with
``np.asarray``/``np.array`` or allocate with ``np.empty``/``np.zeros``, which
would force a Dask array to compute (or fail on CuPy).  `check` refuses a
gradient that would call one of them on such arrays, with a clear
`DiffcError` naming the helpers, instead of computing silently eagerly.
"""

import functools
import inspect
import re
import types

from .errors import DiffcError
from .runtime import is_duck_array

_CONVERTING = re.compile(r"\bnp\.(asarray|array|asanyarray|empty|zeros|ones|eye|full)\(")


@functools.lru_cache(maxsize=None)
def non_dispatching():
    """Rule helpers (and the helpers they call) that force NumPy arrays."""
    from .rules import numpy_rules, operators, builtins_rules
    helpers = {}
    for module in (numpy_rules, operators, builtins_rules):
        for name, obj in vars(module).items():
            if isinstance(obj, types.FunctionType) and name.startswith("_") and obj.__module__ == module.__name__:
                try:
                    helpers[obj] = inspect.getsource(obj)
                except (OSError, TypeError):
                    continue
    bad = {fn for fn, src in helpers.items() if _CONVERTING.search(src) and "is_duck_array" not in src}
    changed = True
    while changed:                      # a helper calling a forcing helper forces too
        changed = False
        for fn, src in helpers.items():
            if fn not in bad and any(re.search(r"\b%s\(" % re.escape(b.__name__), src) for b in bad):
                bad.add(fn)
                changed = True
    return frozenset(bad)


def check(emitted, values, name):
    """Raise when values include a Dask/CuPy-like array and the code calls a forcing helper."""
    if not any(is_duck_array(v) for v in values):
        return
    bad = non_dispatching()
    used = sorted({obj.__name__ for obj in emitted.namespace.values()
                   if isinstance(obj, types.FunctionType) and obj in bad})
    if used:
        kinds = sorted({type(v).__module__.split(".")[0] + "." + type(v).__name__
                        for v in values if is_duck_array(v)})
        raise DiffcError(
            f"the gradient of {name} needs derivative helpers that convert to NumPy arrays "
            f"({', '.join(used)}), so it cannot run on {', '.join(kinds)} without computing them eagerly",
            hint="convert the inputs with np.asarray first, or avoid the functions these helpers "
                 "differentiate (their rules are listed in diffc/rules/numpy_rules.py)")
