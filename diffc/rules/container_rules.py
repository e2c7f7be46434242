"""Rules for builtins on containers: sorted, dict(...), and the dict methods get, items,
values, keys.

Input: nothing (imported by `diffc.pipeline.load_builtin_rules`).  Output: adjoint and
tangent rules for those primitives, and any-order rules for their helpers.

Conventions (shared with runtime.py): the adjoint of a list or tuple is a `ListBar`
(entries may be the zero 0.0), of a dict a `DictBar`; a tangent of a list is a list
of tangents, of a dict a dict of tangents (0.0 stands for a zero tangent).  A method
rule is keyed by the method's name, so every helper checks that its object really is
a dict and refuses anything else (a user class with its own ``get``).
"""

import builtins

import numpy as np

from . import adjoint, linear, nondiff, tangent
from ..runtime import DictBar, ListBar
from ..errors import NotDifferentiable


def _zero_entry(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0


def _require_sequence(iterable):
    """dict(iterable)'s rules read the pairs again: an iterator would be exhausted by then."""
    if not isinstance(iterable, (list, tuple)):
        raise NotDifferentiable(f"diffc: dict() of a {type(iterable)!r} has no derivative "
                                "here; pass a list of pairs (dict(list(...)))")


def _require_dict(d, method):
    if not isinstance(d, dict):
        raise NotDifferentiable(f"diffc: the rule for .{method}() is the one of dict; "
                                f"{type(d)!r}.{method} needs a rule of its own (@diffc.adjoint)")


def sorted_perm(iterable, key, reverse):
    """The positions of iterable's items in the order sorted(iterable, key=key, reverse=reverse)
    gives them (Python's sort is stable, also reversed, so ties keep the same order)."""
    items = list(iterable)
    if key is None:
        return sorted(range(len(items)), key=items.__getitem__, reverse=reverse)
    return sorted(range(len(items)), key=lambda i: key(items[i]), reverse=reverse)


def _entries(seq, n):
    """seq (a list, tuple or array of n tangents/adjoints, or the zero 0.0) as n entries."""
    if _zero_entry(seq) or seq is None:
        return [0.0] * n
    return list(seq)


def sorted_bar(g, iterable, perm):
    """Adjoint of sorted(iterable): g[k] goes back to the position perm[k] it came from,
    shaped like iterable (a ListBar for a list or tuple, an array for an array)."""
    g = _entries(g, len(perm))
    out = [0.0] * len(perm)
    for k, p in enumerate(perm):
        out[p] = g[k]
    if isinstance(iterable, np.ndarray):
        return np.array([np.broadcast_to(v, iterable.shape[1:]) for v in out], dtype=np.result_type(
            iterable, np.float64, *[np.asarray(v).dtype for v in out]))
    return ListBar(out)


def sorted_dot(d, perm):
    """Tangent of sorted(iterable) from the iterable's tangent d: d permuted, as a list."""
    d = _entries(d, len(perm))
    return ListBar(d[p] for p in perm)


nondiff(sorted_perm)


@adjoint(builtins.sorted)
def _(result, result_bar, iterable, key=None, reverse=False):
    return sorted_bar(result_bar, iterable, sorted_perm(iterable, key, reverse))


@tangent(builtins.sorted)
def _(result, iterable, key=None, reverse=False, iterable_dot=None):
    return sorted_dot(iterable_dot, sorted_perm(iterable, key, reverse))


# sorted_bar and sorted_dot are the transposes of each other (a permutation and its inverse)
linear(sorted_bar)


@adjoint(sorted_bar)
def _(result, result_bar, g, iterable, perm):
    return sorted_dot(result_bar, perm), None, None


linear(sorted_dot)


@adjoint(sorted_dot)
def _(result, result_bar, t, perm):
    return sorted_bar(result_bar, t, perm), None


# --- dicts ----------------------------------------------------------------------

def get_bar(g, d, key):
    """Adjoint of d.get(key, default) in d: g at key when d has it."""
    _require_dict(d, "get")
    return DictBar({key: g}) if key in d else DictBar()


def get_default_bar(g, d, key):
    """Adjoint of d.get(key, default) in default: g when d lacks key."""
    return 0.0 if key in d else g


def get_dot(d_dot, d, key):
    _require_dict(d, "get")
    if key not in d or _zero_entry(d_dot) or d_dot is None:
        return 0.0
    return d_dot.get(key, 0.0)


def get_default_dot(default_dot, d, key):
    return 0.0 if key in d else default_dot


@adjoint(("method", "get"))
def _(result, result_bar, self, key, default=None):
    return get_bar(result_bar, self, key), None, get_default_bar(result_bar, self, key)


@tangent(("method", "get"))
def _(result, self, key, default=None, self_dot=None, default_dot=None):
    return get_dot(self_dot, self, key) + get_default_dot(default_dot, self, key)


def values_bar(g, d):
    """Adjoint of d.values() (read as a sequence in key order): a DictBar."""
    _require_dict(d, "values")
    return DictBar(zip(d.keys(), _entries(g, len(d))))


def values_dot(d_dot, d):
    _require_dict(d, "values")
    if _zero_entry(d_dot) or d_dot is None:
        return ListBar([0.0] * len(d))
    return ListBar(d_dot.get(k, 0.0) for k in d)


def items_bar(g, d):
    """Adjoint of d.items() (read as a sequence of (key, value) pairs): the pairs' second
    entries, by key."""
    _require_dict(d, "items")
    pairs = _entries(g, len(d))
    return DictBar((k, 0.0 if _zero_entry(p) else _entries(p, 2)[1]) for k, p in zip(d.keys(), pairs))


def items_dot(d_dot, d):
    _require_dict(d, "items")
    if _zero_entry(d_dot) or d_dot is None:
        return ListBar(ListBar([0.0, 0.0]) for _ in d)
    return ListBar(ListBar([0.0, d_dot.get(k, 0.0)]) for k in d)


@adjoint(("method", "values"))
def _(result, result_bar, self):
    return values_bar(result_bar, self)


@tangent(("method", "values"))
def _(result, self, self_dot):
    return values_dot(self_dot, self)


@adjoint(("method", "items"))
def _(result, result_bar, self):
    return items_bar(result_bar, self)


@tangent(("method", "items"))
def _(result, self, self_dot):
    return items_dot(self_dot, self)


nondiff(("method", "keys"))


# dict(iterable) of (key, value) pairs or of a mapping; dict(k=v, ...) is a literal
# (transform/desugar.py)
def dict_bar(g, iterable):
    """Adjoint of dict(iterable): the value read last for each key gets its adjoint."""
    g = {} if _zero_entry(g) or g is None else g
    if isinstance(iterable, dict):
        return DictBar((k, g.get(k, 0.0)) for k in iterable)
    _require_sequence(iterable)
    pairs = list(iterable)
    last = {}
    for i, (k, _) in enumerate(pairs):
        last[k] = i
    return ListBar(ListBar([0.0, g.get(k, 0.0) if last[k] == i else 0.0]) for i, (k, _) in enumerate(pairs))


def dict_dot(d, iterable):
    """Tangent of dict(iterable) from the iterable's tangent d (a DictBar: it is also the
    transpose of dict_bar, whose result is accumulated like an adjoint)."""
    if isinstance(iterable, dict):
        if _zero_entry(d) or d is None:
            return DictBar((k, 0.0) for k in iterable)
        return DictBar((k, d.get(k, 0.0)) for k in iterable)
    _require_sequence(iterable)
    pairs = list(iterable)
    dots = _entries(d, len(pairs))
    out = DictBar()
    for (k, _), dk in zip(pairs, dots):
        out[k] = 0.0 if _zero_entry(dk) or dk is None else _entries(dk, 2)[1]
    return out


@adjoint(builtins.dict)
def _(result, result_bar, iterable):
    return dict_bar(result_bar, iterable)


@tangent(builtins.dict)
def _(result, iterable, iterable_dot):
    return dict_dot(iterable_dot, iterable)


# --- higher order: each helper above is linear in its first argument, and the helpers
# come in transposed pairs (an adjoint helper and the tangent helper of the same read)

linear(get_bar)


@adjoint(get_bar)
def _(result, result_bar, g, d, key):
    return get_dot(result_bar, d, key), None, None


linear(get_dot)


@adjoint(get_dot)
def _(result, result_bar, t, d, key):
    return get_bar(result_bar, d, key), None, None


linear(get_default_bar)


@adjoint(get_default_bar)
def _(result, result_bar, g, d, key):
    return get_default_dot(result_bar, d, key), None, None


linear(get_default_dot)


@adjoint(get_default_dot)
def _(result, result_bar, t, d, key):
    return get_default_bar(result_bar, d, key), None, None


linear(values_bar)


@adjoint(values_bar)
def _(result, result_bar, g, d):
    return values_dot(result_bar, d), None


linear(values_dot)


@adjoint(values_dot)
def _(result, result_bar, t, d):
    return values_bar(result_bar, d), None


linear(items_bar)


@adjoint(items_bar)
def _(result, result_bar, g, d):
    return items_dot(result_bar, d), None


linear(items_dot)


@adjoint(items_dot)
def _(result, result_bar, t, d):
    return items_bar(result_bar, d), None


linear(dict_bar)


@adjoint(dict_bar)
def _(result, result_bar, g, iterable):
    return dict_dot(result_bar, iterable), None


linear(dict_dot)


@adjoint(dict_dot)
def _(result, result_bar, t, iterable):
    return dict_bar(result_bar, iterable), None
