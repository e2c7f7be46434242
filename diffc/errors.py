"""Errors raised by diffc, each pointing at the user's source.

Every failure of the compiler is a `DiffcError`.  When the error concerns a
construct in the user's code, the message names ``file:line:col``, shows the
line with a caret under the construct, says what is wrong and what to write
instead.
"""


class DiffcError(Exception):
    """Base class of every error diffc raises while compiling."""

    def __init__(self, message, node=None, source=None, hint=None):
        self.bare_message = message
        self.hint = hint
        self.filename = None
        self.lineno = None
        self.col = None
        self.line_text = None
        if node is not None and source is not None:
            self.filename, self.lineno, self.col, self.line_text = source.locate(node)
        super().__init__(self._format())

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
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "\n".join(parts)


class UnsupportedSyntax(DiffcError):
    """A Python construct diffc cannot differentiate (generators, try, ...)."""


class NoDerivativeRule(DiffcError):
    """A call whose result carries a derivative, to a function without a rule."""


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
