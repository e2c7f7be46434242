"""origin: where a value that carries a derivative comes from, for error messages.

Input: an ANF function body (``name = rhs`` statements, user line numbers kept),
the name of an atom, and the set of names that carry a derivative.
Output: a phrase such as ``'rows', computed at line 12 (rows = x.shape[0] * w)
from the differentiated parameter 'w'``: the user's line that assigned the
value, following ANF temporaries (``_t3``) back to that line, and the
differentiated parameter it depends on.  Only used to explain refusals.
"""

import gast

from .. import ast_util as A


def explain(name, body, source, active, params):
    """A phrase saying where the differentiated value `name` comes from."""
    assigning = _assignments(body)
    seen = set()
    current = name
    line_stmt = None
    while current not in seen:
        seen.add(current)
        stmt = assigning.get(current)
        if stmt is None:
            break
        line_stmt = stmt
        if not current.startswith("_"):
            break
        # A temporary: its value is one operation on other atoms; follow the active one.
        following = [n for n in sorted(A.names_loaded(stmt.value)) if n in active and n not in seen]
        if not following:
            break
        current = following[0]
    parts = []
    shown = name if not name.startswith("_") else current if not current.startswith("_") else None
    if shown is not None and shown in params:
        return f"the differentiated parameter {shown!r}"
    if shown is not None:
        parts.append(repr(shown))
    if line_stmt is not None and source is not None:
        text = source.text(line_stmt)
        parts.append(f"computed at line {source.file_line(line_stmt)}" + (f" ({text})" if text else ""))
    roots = _parameters_behind(name, assigning, active, params)
    if roots:
        parts.append("from the differentiated parameter" + ("s " if len(roots) > 1 else " ")
                     + ", ".join(repr(r) for r in roots))
    return ", ".join(parts) if parts else "a differentiated value"


def _assignments(body):
    out = {}
    for stmt in A.walk_statements(body):
        if isinstance(stmt, gast.Assign):
            for target in stmt.targets:
                for n in A.names_stored(target):
                    out.setdefault(n, stmt)
    return out


def _parameters_behind(name, assigning, active, params):
    roots, stack, seen = [], [name], set()
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        if current in params and current in active:
            roots.append(current)
            continue
        stmt = assigning.get(current)
        if stmt is not None:
            stack.extend(n for n in A.names_loaded(stmt.value) if n in active)
    return sorted(roots)
