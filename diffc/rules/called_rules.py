"""Rules of `runtime.rule_parts`, the helper through which generated code reads
what a derivative rule called at run time returned (see `diffc.template`).

Second derivatives differentiate generated code again, and that code calls
``rule_parts(rule(...), n, needed)``: the helper only splits a tuple (or wraps
a single value) and turns ``None`` into 0.0, so its tangent splits the
tangent the same way and its adjoint gathers the parts' adjoints back into
the shape of what the rule returned.
"""

from ..runtime import ListBar
from ..runtime_calls import rule_parts
from . import adjoint, linear, tangent


def _several(value, n):
    """Did the rule return several contributions (rather than one value)?"""
    if n == 1 and not isinstance(value, tuple):
        return False
    return isinstance(value, (tuple, list)) and not isinstance(value, ListBar)


def _part(bar, k):
    if isinstance(bar, (list, tuple)):
        return bar[k] if k < len(bar) else 0.0
    return 0.0


def _rule_parts_bar(g, value, n):
    """Adjoint of rule_parts: the parts' adjoints, shaped like the rule's return value."""
    if not _several(value, n):
        return _part(g, 0)
    return ListBar([0.0 if v is None else _part(g, k) for k, v in enumerate(value)])


def _rule_parts_dot(value_dot, value, n):
    """Tangent of rule_parts: the tangent of each part (0.0 for a None part)."""
    if not _several(value, n):
        return ListBar([value_dot] + [0.0] * (n - 1))
    parts = [0.0 if v is None else _part(value_dot, k) for k, v in enumerate(value)][:n]
    return ListBar(parts + [0.0] * (n - len(parts)))


@adjoint(rule_parts)
def _(result, result_bar, value, n, needed):
    return _rule_parts_bar(result_bar, value, n)


@tangent(rule_parts)
def _(result, value, n, needed, value_dot):
    return _rule_parts_dot(value_dot, value, n)


@adjoint(_rule_parts_bar)
def _(result, result_bar, g, value, n):
    return _rule_parts_dot(result_bar, value, n)


linear(_rule_parts_bar)


@adjoint(_rule_parts_dot)
def _(result, result_bar, value_dot, value, n):
    return _rule_parts_bar(result_bar, value, n)


@tangent(_rule_parts_dot)
def _(result, value_dot, value, n, value_dot_dot):
    return _rule_parts_dot(value_dot_dot, value, n)
