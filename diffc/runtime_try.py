"""The run-time side of lowered `try` and `with` statements (generated code calls these).

desugar lowers `try` into branches on the path Python took (see
desugar._lower_try): `try_enter` says which path this execution of the try
takes, `try_step` counts the statements of its body that completed,
`try_exit` closes it.  A `with` statement is a try whose one handler is its
manager's ``__exit__`` (`with_enter`): the body path calls
``__exit__(None, None, None)``, the handler path ``__exit__`` with the
exception, re-raised unless it returns true.  The API runs the generated
function under a `TryRun` (diffc/try_paths.py): when an exception escapes from
a body whose handler matches (a with: whose ``__exit__`` suppresses it), it
runs the function again with that execution forced onto the handler path
after the statements that had completed.  Without a TryRun (exported code)
every body simply runs and exceptions propagate.  Imports nothing (``diffc
export`` copies these functions).
"""


class TryRun:
    """The paths of one run of a generated function: `forced` maps the ordinal
    of a try execution to (site, handler number, statements done, exception)."""

    # Per thread, the run in progress (TryRun.current.run): a threading.local that
    # diffc/try_paths.py installs.  Exported code, which copies this class, has none,
    # and every try takes its body path.
    current = None

    def __init__(self, forced):
        self.forced = forced
        self.count = 0
        # [site, ordinal, handler types (or an Entered for a with), atomic flags, statements done]
        self.open = []


class Entered:
    """The handler of an open `with`: its manager, as it was when entered."""

    __slots__ = ("manager",)

    def __init__(self, manager):
        self.manager = manager


def exception_type(exc):
    """type(exc), for a with statement's __exit__ (transform/with_statements.py)."""
    return type(exc)


def traceback_of(exc):
    """exc.__traceback__, for a with statement's __exit__."""
    return exc.__traceback__


TRY_SITES = {}                  # site number -> (file, line, [(line, text) of each body statement])


def try_enter(site, atomic, *handlers):
    """(handler number or 0 for the body path, statements of the body to run, exception)."""
    return _open(site, atomic, handlers)


def with_enter(site, atomic, manager):
    """try_enter for the body of `with manager:` (entered already): handler 1 is
    the path where manager.__exit__ got the exception and suppressed it."""
    return _open(site, atomic, Entered(manager))


def _open(site, atomic, handlers):
    run = getattr(TryRun.current, "run", None)
    if run is None:
        return 0, len(atomic), None
    ordinal = run.count
    run.count += 1
    run.open.append([site, ordinal, handlers, atomic, 0])
    forced = run.forced.get(ordinal)
    if forced is None:
        return 0, len(atomic), None
    if forced[0] != site:
        raise RuntimeError("the function took another path when run again (random numbers?); "
                           "diffc replays the path Python took through try statements")
    return forced[1:]


def try_step(site=None):
    """One more statement of the body of the innermost open try at site done (a nested
    try's statements are statements of the outer body too: each counts for its own)."""
    run = getattr(TryRun.current, "run", None)
    if run is None or not run.open:
        return
    for entry in reversed(run.open):
        if site is None or entry[0] == site:
            entry[4] += 1
            return


def try_exit():
    run = getattr(TryRun.current, "run", None)
    if run is not None and run.open:
        run.open.pop()
