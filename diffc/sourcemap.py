"""sourcemap: point exceptions raised in generated code back at the user's lines.

`emit.compile_module` registers each generated module's line map (generated
line -> user (file, line)).  When an exception escapes from generated code,
`annotate` walks its traceback and, for every frame running generated code,

- inserts a synthetic frame right after it that sits on the user's own file
  and line (so the printed traceback shows ``File "model.py", line 12, in f``
  followed by that source line, like any other Python frame), and
- adds a note (``exc.add_note``) naming the user's file:line and its text.

Nothing here runs unless an exception is raised: the API wraps the call of a
generated function in ``try/except``, which costs nothing on the fast path.
"""

import linecache
import re
import sys
import types

from . import errors

_MAPS = {}                 # generated filename -> {generated line: (user file, user line)}
_PREFIXES = re.compile(r"^(value_and_grad_|grad_|_fwd_|_adj_|_primal_|jvp_|_jvp_|tangent_)")


def register(filename, line_map, text=None):
    """Remember the line map of a generated module (called by emit)."""
    _MAPS[filename] = line_map


def user_location(filename, lineno):
    """(user file, user line) for a generated (filename, line), or None."""
    line_map = _MAPS.get(filename)
    if not line_map:
        return None
    return line_map.get(lineno)


def user_function_name(generated_name):
    """The user's function name behind a generated one: grad_f -> f, _adj_helper_2 -> helper."""
    name = _PREFIXES.sub("", generated_name)
    return name or generated_name


def annotate(exc):
    """Add user-line frames and notes to exc (raised inside generated code); returns exc."""
    if getattr(exc, "_diffc_annotated", False):
        return exc
    try:
        exc._diffc_annotated = True
    except AttributeError:
        pass
    tb = exc.__traceback__
    entries = []
    while tb is not None:
        entries.append(tb)
        tb = tb.tb_next
    if not any(e.tb_frame.f_code.co_filename in _MAPS for e in entries):
        return exc
    new_next = None
    for entry in reversed(entries):
        code = entry.tb_frame.f_code
        location = user_location(code.co_filename, entry.tb_lineno)
        if location is not None:
            fake = _synthetic_tb(location, user_function_name(code.co_name), exc)
            if fake is not None:
                fake.tb_next = new_next
                new_next = fake
                _add_note(exc, location, code.co_filename, entry.tb_lineno)
        new_next = types.TracebackType(new_next, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    exc.__traceback__ = new_next
    return exc


def _add_note(exc, location, generated_file, generated_line):
    filename, lineno = location
    text = linecache.getline(filename, lineno).strip()
    note = (f"diffc: raised while running generated line {generated_file}:{generated_line}, "
            f"which computes your line {filename}:{lineno}: {text}")
    if hasattr(exc, "add_note"):
        if note not in getattr(exc, "__notes__", ()):
            exc.add_note(note)


def _synthetic_tb(location, function_name, exc):
    """A traceback entry whose frame is at the user's (file, line), in function_name."""
    filename, lineno = location
    if not isinstance(lineno, int) or lineno < 1:
        return None
    code = compile(_synthetic_source(filename, lineno), filename, "exec")
    if function_name.isidentifier():
        code = code.replace(co_name=function_name)
    namespace = {"__name__": "diffc_sourcemap"}
    for name in code.co_names:
        namespace[name] = _Marker()
    try:
        exec(code, namespace)
    except _Marker:
        tb = sys.exc_info()[2]
        return tb.tb_next if tb is not None else None
    return None


def _synthetic_source(filename, lineno):
    """A module whose line `lineno` raises, with the user's indentation and line length.

    The raise covers exactly the stripped user line, so traceback printers
    (which underline the failing range) underline the whole line, not a part."""
    text = linecache.getline(filename, lineno).rstrip()
    stripped = text.lstrip()
    indent = text[: len(text) - len(stripped)] if lineno >= 2 else ""
    indent = indent.replace("\t", " " * 8)
    name = "__diffc_exception__"
    name += "_" * max(0, len(stripped) - len("raise ") - len(name))
    head = "\n" * (lineno - 2) + "if 1:\n" if indent else "\n" * (lineno - 1)
    return head + indent + "raise " + name


errors.user_location_of_generated = user_location


class _Marker(Exception):
    """Raised in the synthetic frame, only to obtain a frame at the user's line."""
