"""try_paths: run generated code along the path Python takes through `try`.

desugar.lower_try turns each ``try`` statement into branches chosen by
``runtime.try_enter`` (see there).  `run` calls a generated function under a
`runtime.TryRun`: every try takes its body path until an exception escapes
from a body whose handler matches it (the innermost such try, as in Python).
Then the call is made again, from the start, with that execution of that try
forced onto the handler, after the body statements that had completed; the
paths already taken are replayed in order.  The result is the value and the
derivative of the path Python takes, at the price of running the function
once more per exception handled.

A `with` statement is a try whose handler is its manager's ``__exit__``: when
an exception leaves its body, ``__exit__`` gets it, as in Python (on a shallow
copy of the manager, runtime_try.Entered); when that returns true, the
function runs again with the with on its handler path, which calls
``__exit__`` in generated code (differentiated) and goes on after the with.
With statements an abandoned run leaves open are left (``__exit__(None,
None, None)``: np.errstate restores the error state).

What this needs from the function, and checks: that running it again takes
the same path (it is deterministic; a changed path raises), and that the body
statement which raised left nothing half done (a simple statement: a loop or
branch that raised part way is refused, naming the line).

Input: a zero-argument callable running generated code.
Output: its result, or the exception Python would let escape, or a DiffcError.
"""

import copy
import inspect
import threading
import types

from . import runtime
from .errors import DiffcError, UnsupportedSyntax

MAX_HANDLED = 10_000
runtime.TryRun.current = threading.local()


def uses_try(emitted):
    """Whether generated code contains lowered try or with statements (run it with `run`)."""
    return "try_enter(" in emitted.source or "with_enter(" in emitted.source


def run(call, forced=None):
    """call() along Python's path through its try statements; returns (result, forced)
    where `forced` replays the same paths (a pullback running the code again)."""
    forced = {} if forced is None else forced
    previous = getattr(runtime.TryRun.current, "run", None)
    try:
        for _ in range(MAX_HANDLED):
            state = runtime.TryRun(forced)
            runtime.TryRun.current.run = state
            try:
                return call(), forced
            except DiffcError:
                _leave_managers(state)
                raise
            except Exception as exc:
                decision = _handler_for(state, exc)
                _leave_managers(state)
                if decision is None:
                    raise
                ordinal, site, handler, done, atomic = decision
                if not atomic:
                    raise _half_done(site, done, exc) from exc
                forced = dict(forced)
                forced[ordinal] = (site, handler, done, exc)
        raise DiffcError(f"more than {MAX_HANDLED} exceptions handled by try statements in one call")
    finally:
        runtime.TryRun.current.run = previous


def _leave_managers(state):
    """__exit__(None, None, None) of the with statements the abandoned run left open
    outside the handler taken (their manager's cleanup: np.errstate restores the
    error state), innermost first."""
    while state.open:
        handlers = state.open.pop()[2]
        if isinstance(handlers, runtime.Entered):
            type(handlers.manager).__exit__(handlers.manager, None, None, None)


def _handler_for(state, exc):
    """(ordinal, site, handler number, statements done, atomic) of the innermost open
    try whose handlers match exc, or with whose manager suppresses it, or None when
    nothing catches it.  The with statements it passes get the exception (their
    __exit__ runs, as the exception passes in Python) and are closed."""
    while state.open:
        site, ordinal, handlers, atomic, done = state.open[-1]
        flag = atomic[done] if done < len(atomic) else True
        if ordinal in state.forced:
            state.open.pop()             # replaying a handler path: its body already ran
            continue
        if isinstance(handlers, runtime.Entered):
            state.open.pop()
            if _suppresses(handlers.manager, exc):
                return ordinal, site, 1, done, flag
            continue
        for number, types in enumerate(handlers, 1):
            try:
                matches = isinstance(exc, types)
            except TypeError:
                matches = False
            if matches:
                return ordinal, site, number, done, flag
        state.open.pop()
    return None


def _suppresses(manager, exc):
    """Whether manager.__exit__ swallows exc.  When it does, the run is abandoned and the
    handler path the next run takes calls __exit__ in generated code (where its effects are
    differentiated): it must not also run here with effects outside the manager (a list it
    appends to, an array it writes: they would happen twice).  When it does not, this is
    the one call Python makes.  So: __exit__ returning True on every path is not called
    here; one of data-dependent result that reads no global or captured object is asked on
    a deep copy of the manager first (what it holds is copied, its effects there lost); a
    call that lets the exception pass is made on a shallow copy (the caller's manager keeps
    its state; what it holds gets the effects).  Left (README): a data-dependent __exit__
    that swallows and also writes into a global or captured object does so twice."""
    exit_method = type(manager).__exit__
    known = constant_exit_result(exit_method)
    if known is True:
        return True
    args = (type(exc), exc, exc.__traceback__)
    if known is None and not _reaches_outside(exit_method):
        try:
            probe = copy.deepcopy(manager)
        except Exception:
            probe = None
        if probe is not None and exit_method(probe, *args):
            return True
    try:
        target = copy.copy(manager)
    except Exception:
        target = manager
    return bool(exit_method(target, *args))


_CONSTANT_EXITS = {}
_PLAIN = (int, float, complex, bool, str, bytes, type(None), type, types.ModuleType, types.FunctionType,
          types.BuiltinFunctionType)


def _reaches_outside(method):
    """Whether method reads a global or captured variable holding an object it could
    change (anything but numbers, strings, classes, modules and functions)."""
    try:
        found = inspect.getclosurevars(method)
    except (TypeError, ValueError):
        return True
    return any(not isinstance(v, _PLAIN) for v in list(found.nonlocals.values()) + list(found.globals.values()))


def constant_exit_result(method):
    """True or False when the Python function `method` returns constants of that truth
    value only (falling off its end returns None), else None (a data-dependent result, or
    source diffc cannot read)."""
    code = getattr(method, "__code__", None)
    if code is None:
        return None
    if code not in _CONSTANT_EXITS:
        _CONSTANT_EXITS[code] = _read_constant_result(method)
    return _CONSTANT_EXITS[code]


def _read_constant_result(method):
    import ast
    import textwrap
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError, SyntaxError):
        return None
    fn = tree.body[0] if tree.body else None
    if not isinstance(fn, ast.FunctionDef):
        return None
    inner = [n for n in ast.walk(fn) if isinstance(n, (ast.FunctionDef, ast.Lambda, ast.AsyncFunctionDef,
                                                        ast.ClassDef, ast.Yield, ast.YieldFrom)) and n is not fn]
    if inner:
        return None
    values = [n.value for n in ast.walk(fn) if isinstance(n, ast.Return)]
    if not isinstance(fn.body[-1], ast.Return):
        values.append(None)                 # may fall off the end: None
    truths = set()
    for v in values:
        if v is None:
            truths.add(False)
        elif isinstance(v, ast.Constant):
            truths.add(bool(v.value))
        else:
            return None
    return truths.pop() if len(truths) == 1 else None


def _half_done(site, done, exc):
    filename, line, statements = runtime.TRY_SITES.get(site, ("?", 0, []))
    where = statements[done] if done < len(statements) else (line, "")
    error = UnsupportedSyntax(
        f"{type(exc).__name__} ({exc}) was raised part way through the loop or branch at line "
        f"{where[0]} of the try body at {filename}:{line}; diffc follows a handler when the body "
        f"statement that raised is a simple one, which leaves nothing half done",
        hint="move the try inside the loop or branch, around the statement that raises")
    error.filename, error.lineno = filename, where[0]
    return error
