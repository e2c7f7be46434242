"""checks: warnings for gradients that are computed but mathematically questionable.

Two kinds of check, both issuing `DiffcWarning` (never an error):

- compile time (`check_function`, run by the reverse pass on the ANF body):
  ``round``/``np.round``/``floor``/``ceil``/``trunc`` and integer casts
  (``int(x)``, ``x.astype(int)``) of a value that depends on a differentiated
  input — their derivative is zero almost everywhere, so the gradient ignores
  that dependence.  One warning per compilation, at the user's line.
- run time (helpers called by derivative rules, so the cost is one comparison
  on the fast path): ``abs`` exactly at 0 (`kink_sign`), ``max``/``min`` with a
  tie (`warn_tie`).  The warning names the user's line when the caller is
  generated code (via `diffc.sourcemap`), else the generated line.

This module imports only numpy and the standard library (`diffc export`
copies the run-time helpers into exported modules).
"""

import builtins
import math
import sys
import warnings

import numpy as np

from .errors import DiffcWarning
from . import effects


# ------------------------------------------------------------------ run time

def kink_sign(x):
    """np.sign(x) (the derivative of abs), warning when x is exactly at the kink 0."""
    s = np.sign(x)
    if isinstance(s, np.ndarray):
        if s.size and not s.all():
            warn_runtime("abs() differentiated exactly at its kink (an argument is 0); "
                         "the gradient uses the subgradient 0 there")
    elif s == 0:
        warn_runtime("abs() differentiated exactly at its kink (the argument is 0); "
                     "the gradient uses the subgradient 0 there")
    return s


def warn_tie(name):
    """Called by the max/min rules when several arguments equal the result."""
    warn_runtime(f"{name} differentiated at a tie (several arguments equal the result); "
                 "the whole gradient goes to the first of them")


def warn_runtime(message, depth=2):
    """Warn, attributing the warning to the user's line behind the calling generated frame."""
    frame = sys._getframe(depth)
    while frame is not None and not frame.f_code.co_filename.startswith("<diffc:"):
        if frame.f_back is None:
            break
        frame = frame.f_back
    if frame is None:
        warnings.warn(message, DiffcWarning, stacklevel=depth + 1)
        return
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    sourcemap = sys.modules.get("diffc.sourcemap")
    location = sourcemap.user_location(filename, lineno) if sourcemap is not None else None
    if location is not None:
        filename, lineno = location
    warnings.warn_explicit(message, DiffcWarning, filename, lineno,
                           registry=frame.f_globals.setdefault("__warningregistry__", {}))


# -------------------------------------------------------------- compile time

def _questionable_calls():
    table = {builtins.round: "round", builtins.int: "int",
             math.floor: "math.floor", math.ceil: "math.ceil", math.trunc: "math.trunc",
             np.round: "np.round", np.around: "np.around", np.rint: "np.rint", np.floor: "np.floor",
             np.ceil: "np.ceil", np.trunc: "np.trunc", np.fix: "np.fix",
             ("method", "round"): ".round()", ("method", "astype"): ".astype()"}
    return table


def check_function(rf):
    """Warn for zero-derivative operations applied to varied values in rf's ANF body."""
    import gast
    from .analysis.calls import call_key
    table = _questionable_calls()
    varied = rf.activity.varied
    for stmt in _statements(rf.body):
        if not isinstance(stmt, gast.Assign) or not isinstance(stmt.value, gast.Call):
            continue
        call = stmt.value
        key, args = call_key(rf.info, call)
        try:
            what = table.get(key)
        except TypeError:
            what = None
        if what is None or not args:
            continue
        if key == ("method", "astype") and not _integer_astype(call):
            continue
        names = {a.id for a in args[:1] if isinstance(a, gast.Name)}
        if names & varied:
            _warn_compile(rf, stmt, what, next(iter(names)))


def _integer_astype(call):
    import gast
    if not call.args:
        return False
    arg = call.args[0]
    text = getattr(arg, "id", None) or getattr(arg, "attr", None) or getattr(arg, "value", None)
    return isinstance(text, str) and ("int" in text or text in ("bool", "bool_"))


def _statements(stmts):
    for s in stmts:
        yield s
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list):
                yield from _statements(inner)


def _warn_compile(rf, stmt, what, name):
    if what in ("int", ".astype()"):
        message = (f"{what} of a differentiated value: an integer cast has zero derivative, so the gradient "
                   f"ignores how the result depends on {_user_name(name)}")
    else:
        message = (f"{what} of a differentiated value has zero derivative almost everywhere; the gradient "
                   f"ignores how the result depends on {_user_name(name)}")
    try:
        filename, lineno, _, _ = rf.source.locate(stmt)
    except Exception:
        filename, lineno = "<unknown>", 0
    warnings.warn_explicit(message, DiffcWarning, filename, lineno or 0)


def _user_name(name):
    return "an intermediate value" if name.startswith("_t") else repr(name)


# They warn at the user's line: never dropped or moved by the optimizer.
effects.declare(kink_sign, warn_tie, facts=(effects.EFFECTFUL,))
effects.declare(kink_sign, facts=(effects.NUMPY_RESULT,))
