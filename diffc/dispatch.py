"""dispatch: which derivative helpers can run on arrays of other libraries.

Generated code hands Dask or CuPy arrays to NumPy functions, and NumPy's
dispatch protocols pass the work on.  Rule helpers allocate with
``np.zeros_like``/``np.ones_like``, turn constants into arrays of the
argument's library with ``np.asarray(v, like=x)`` (NEP 35), scatter-add with
one-hot products where a library has no ``ufunc.at``, and branch on
`runtime.is_duck_array` where NumPy's own path must stay as it was.  A helper
that still converts with ``np.asarray``/``np.array`` or allocates with
``np.empty``/``np.zeros``/``np.ones``/``np.eye``/``np.full`` (without
``like=``) would force a Dask array to compute (or fail on CuPy):
`non_dispatching` finds them, and `check` refuses a gradient that would call
one of them on such arrays, with a clear `DiffcError` naming the helpers,
instead of computing silently eagerly.

Rules that cannot dispatch (the helpers `non_dispatching` names):

* ``_item_bar``, ``_item_jvp`` (``x.item()``): the primal returns a Python
  scalar, so its value is computed anyway; the adjoint writes one element
  into a NumPy buffer.
* ``_lstsq_bar``, ``_lstsq_jvp``, ``_lstsq_parts`` (``np.linalg.lstsq``):
  they work with the pseudo-inverse, and Dask has no ``np.linalg.pinv``
  (its ``lstsq`` only takes tall-and-skinny, single-column-chunk arrays).

Library limits that are not diffc's (the helpers dispatch, the primal does
not): Dask implements no ``np.sort``/``argsort``, ``np.linalg.det``/
``slogdet``/``eigh``/``eigvalsh``/``pinv``, ``np.split``, ``np.column_stack``,
``np.take_along_axis`` or ``np.copy`` (NumPy computes them eagerly, with a
FutureWarning, before any gradient code runs); its ``np.linalg.cholesky``
returns the upper factor; its ``np.take`` has no ``mode=`` (the tangent of
``np.take`` passes it) and ignores ``axis=None``; and its ``einsum`` needs
equal chunks on the axes of a repeated subscript (``"ii->i"``).  CuPy has
these functions, and the helpers behind them keep to dispatching calls.
"""

import functools
import inspect
import io
import re
import tokenize
import types

from .errors import DiffcError
from .runtime import is_duck_array

_CONVERTING = re.compile(r"\bnp\.(asarray|array|asanyarray|empty|zeros|ones|eye|full)\(")
# np.asarray(v, like=x) (NEP 35) converts into x's library: it dispatches.
_LIKE = re.compile(r"\blike\s*=")


def _call_spans(src, start):
    """The text of the call whose "(" ends the match at start (balanced parentheses)."""
    depth = 0
    for k in range(start, len(src)):
        if src[k] == "(":
            depth += 1
        elif src[k] == ")":
            depth -= 1
            if depth == 0:
                return src[start:k + 1]
    return src[start:]


def _code_only(src):
    """src with its comments and string literals (docstrings) blanked out."""
    lines = src.splitlines(keepends=True)
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(src).readline))
    except (tokenize.TokenError, SyntaxError):
        return src
    for tok in reversed(tokens):
        if tok.type in (tokenize.COMMENT, tokenize.STRING):
            (r0, c0), (r1, c1) = tok.start, tok.end
            if r0 == r1:
                line = lines[r0 - 1]
                lines[r0 - 1] = line[:c0] + '""' + line[c1:]
            else:
                lines[r0 - 1] = lines[r0 - 1][:c0] + '""' + lines[r1 - 1][c1:]
                del lines[r0:r1]
    return "".join(lines)


def forcing_calls(src):
    """The np.asarray/np.array/np.zeros... calls in src that convert to (or allocate) a NumPy array:
    every such call except those passing like= (they stay in the array's library).
    Comments and docstrings are not code."""
    src = _code_only(src)
    calls = [(m.start(), m.end() - 1 + len(_call_spans(src, m.end() - 1)), m.group(0) + _call_spans(src, m.end() - 1)[1:])
             for m in _CONVERTING.finditer(src)]
    like = [(a, b) for a, b, text in calls if _LIKE.search(text)]
    # a call with like= converts into the library of its like= array, with everything inside it
    # (np.asarray(np.eye(n), like=x): a constant made an array of x's library)
    return [text for a, b, text in calls if not any(la <= a < lb for la, lb in like)]


def _forces(src):
    """A helper forces NumPy when it has a forcing call and no branch for duck arrays."""
    return bool(forcing_calls(src)) and "is_duck_array" not in src


@functools.lru_cache(maxsize=None)
def non_dispatching():
    """Rule helpers (and the helpers they call) that force NumPy arrays.

    Rule templates (all named ``_``) are inlined into generated code, so only
    the helpers they call matter; they are not scanned."""
    from .rules import builtins_rules, numpy_rules, operators
    helpers = {}
    for module in numpy_rules.FAMILIES + (operators, builtins_rules):
        for name, obj in vars(module).items():
            if isinstance(obj, types.FunctionType) and name.startswith("_") and name != "_" \
                    and obj.__module__ == module.__name__:
                try:
                    helpers[obj] = _code_only(inspect.getsource(obj))
                except (OSError, TypeError):
                    continue
    bad = {fn for fn, src in helpers.items() if _forces(src)}
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
                 "differentiate (diffc/dispatch.py lists the rules that cannot dispatch, and why)")
