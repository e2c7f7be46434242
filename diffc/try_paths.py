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
import threading

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
    """Whether manager.__exit__ swallows exc.  Called on a shallow copy where the
    manager allows one: the run is abandoned, and the handler path the next run
    takes calls __exit__ in generated code, where its effects on the manager are
    differentiated; the copy keeps the caller's object as it was."""
    try:
        target = copy.copy(manager)
    except Exception:
        target = manager
    return bool(type(manager).__exit__(target, type(exc), exc, exc.__traceback__))


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
