"""Errors raised by diffc, each pointing at the user's source.

Every failure of the compiler is a `DiffcError`.  When the error concerns a
construct in the user's code, the message names ``file:line:col``, shows the
line with a caret under the construct, says what is wrong and what to write
instead.  At higher order, where the code compiled is diffc's own output,
the location is the user's line that output computes.
"""

import functools
import linecache
import os

# Maps a generated (file, line) to the user's (file, line), or None: installed by
# sourcemap (which knows the generated modules), so that this module, copied into
# exported code, needs nothing of diffc.
user_location_of_generated = None


class DiffcError(Exception):
    """Base class of every error diffc raises while compiling."""

    def __init__(self, message, node=None, source=None, hint=None):
        self.bare_message = message
        self.hint = hint
        self.filename = None
        self.lineno = None
        self.col = None
        self.line_text = None
        self.generated = None          # (file, line, text) in generated code, at higher order
        if node is not None and source is not None:
            self.filename, self.lineno, self.col, self.line_text = source.locate(node)
            self._to_user_line()
        super().__init__(self._format())

    def _to_user_line(self):
        """At higher order the code compiled is diffc's own output: point at the
        user's line that output computes (sourcemap), keeping the generated line
        as context."""
        mapper = user_location_of_generated
        user = mapper(self.filename, self.lineno) if mapper is not None else None
        if user is None:
            return
        self.generated = (self.filename, self.lineno, self.line_text)
        for _ in range(32):                  # third order: generated from generated code
            further = mapper(*user)
            if further is None:
                break
            user = further
        self.filename, self.lineno = user
        text = linecache.getline(self.filename, self.lineno).rstrip("\n")
        self.line_text = text or None
        self.col = len(text) - len(text.lstrip())

    def _format(self):
        parts = []
        if self.filename is not None:
            parts.append(f"{self.filename}:{self.lineno}:{self.col + 1}: {self.bare_message}")
            if self.line_text is not None:
                parts.append("    " + self.line_text.rstrip())
                caret_col = len(self.line_text[: self.col].expandtabs())
                parts.append("    " + " " * caret_col + "^")
        else:
            parts.append(self.bare_message)
        if self.generated is not None:
            file, line, text = self.generated
            parts.append(f"(in the code diffc generated for that line, {file}:{line}: {(text or '').strip()})")
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntax(DiffcError):
    """A Python construct diffc cannot differentiate (generators, try, ...)."""


class NoDerivativeRule(DiffcError):
    """A call whose result carries a derivative, to a function without a rule."""


class NotDifferentiable(NoDerivativeRule, NotImplementedError):
    """A derivative a rule refuses when the generated code runs (a parameter with no closed-form
    derivative, such as the shape of a gamma cdf): also a NotImplementedError."""


class SourceUnavailable(DiffcError):
    """The source of a function could not be retrieved (builtins, C code, REPL)."""


class NonScalarOutput(DiffcError):
    """`grad` of a function whose output is not a scalar."""


class BadArgument(DiffcError):
    """A `wrt`, mode or argument that does not fit the function."""


class RuleError(DiffcError):
    """A custom derivative rule that does not match its primitive."""


class DiffcWarning(UserWarning):
    """A gradient that is computed but mathematically questionable (a kink, a zero derivative)."""


def debugging():
    """DIFFC_DEBUG=1 (any value but empty or 0): keep the compiler's frames and causes."""
    return os.environ.get("DIFFC_DEBUG", "") not in ("", "0")


def for_user(exc):
    """A DiffcError as its user should see it: raised from the API entry point,
    without the ~25 frames of compiler internals below it and without the
    chained internal exception (kept as ``exc.diffc_cause``).  Under DIFFC_DEBUG
    the exception is returned unchanged."""
    if debugging():
        return exc
    if exc.__cause__ is not None:
        exc.diffc_cause = exc.__cause__
    exc.__cause__ = None
    exc.__suppress_context__ = True
    return exc.with_traceback(None)


def user_facing(fn):
    """Decorator for public entry points: a DiffcError leaves through `for_user`,
    so the traceback shows the user's frames and this one frame of diffc."""
    @functools.wraps(fn)
    def entry_point(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except DiffcError as exc:
            raise for_user(exc)
    return entry_point
