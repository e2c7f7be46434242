"""highlight: ANSI syntax highlighting of Python source for `diffc show`.

Uses pygments when it is installed; otherwise a small tokenizer-based
highlighter (keywords, builtins, strings, numbers, comments, definitions).
"""

import builtins
import io
import keyword
import tokenize

_RESET = "\x1b[0m"
_STYLE = {
    "keyword": "\x1b[1;35m",
    "builtin": "\x1b[36m",
    "string": "\x1b[32m",
    "number": "\x1b[33m",
    "comment": "\x1b[2;3m",
    "definition": "\x1b[1;34m",
}
_BUILTINS = set(dir(builtins))


def highlight(text):
    """text with ANSI colour codes."""
    try:
        import pygments
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return simple_highlight(text)
    return pygments.highlight(text, PythonLexer(), TerminalFormatter())


def simple_highlight(text):
    """Highlight with the standard tokenizer only; text unchanged if it does not tokenize."""
    lines = text.splitlines(True)
    spans = []                      # (row, col, end_row, end_col, style)
    try:
        previous = None
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            style = _style_of(tok, previous)
            if style:
                spans.append((tok.start, tok.end, style))
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                previous = tok
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text
    out = []
    for row, line in enumerate(lines, start=1):
        out.append(_paint_line(row, line, spans))
    return "".join(out)


def _style_of(tok, previous):
    if tok.type == tokenize.COMMENT:
        return "comment"
    if tok.type == tokenize.STRING:
        return "string"
    if tok.type == tokenize.NUMBER:
        return "number"
    if tok.type == tokenize.NAME:
        if previous is not None and previous.string in ("def", "class"):
            return "definition"
        if keyword.iskeyword(tok.string):
            return "keyword"
        if tok.string in _BUILTINS and (previous is None or previous.string != "."):
            return "builtin"
    return None


def _paint_line(row, line, spans):
    """Insert colour codes into one line for the spans that touch it."""
    marks = []
    for (r0, c0), (r1, c1), style in spans:
        if r0 <= row <= r1:
            start = c0 if r0 == row else 0
            end = c1 if r1 == row else len(line.rstrip("\n"))
            marks.append((start, end, style))
    if not marks:
        return line
    pieces, cursor = [], 0
    for start, end, style in sorted(marks):
        if start < cursor:
            continue
        pieces.append(line[cursor:start])
        pieces.append(_STYLE[style] + line[start:end] + _RESET)
        cursor = end
    pieces.append(line[cursor:])
    return "".join(pieces)
