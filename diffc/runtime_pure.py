"""Pure forms of the runtime helpers that mutate an adjoint or a tangent buffer.

Input/output: gradient code compiled to be differentiated again (transform/purify.py)
calls these instead of runtime.py's acc_item, take_item, pop_bar, write_dot...: each
returns a new buffer and leaves its arguments alone, so the next derivative sees
ordinary values, never hidden writes.  Like runtime.py, imports nothing but NumPy and
runtime.py (``diffc export`` copies what generated code calls); their derivative rules
are in rules/syntax.py.
"""

import numpy as np

from .runtime_scatter import repeats, written_last
from .runtime import (DictBar, ListBar, acc_item, append_dot, copy_value, pop_dot, extend_dot, is_duck_array, is_whole, item, take_item,
                      unpop_bar, write_dot, write_item, zeros_dot, is_zero as _is_zero)


def _private(bar):
    """A copy of a materialized adjoint/tangent buffer that may then be written."""
    if isinstance(bar, ListBar) or (isinstance(bar, list)):
        return ListBar(bar)
    if isinstance(bar, DictBar) or isinstance(bar, dict):
        return DictBar(bar)
    return copy_value(bar)


def added_item(bar, primal, index, g):
    """A new buffer equal to bar with g added at index (pure acc_item)."""
    if isinstance(bar, (list, np.ndarray, dict)) or is_duck_array(bar):
        bar = _private(bar)
    return acc_item(bar, primal, index, g)


def winners_only(g, shape, index):
    """g (shaped like y[index]) with zeros at the entries of a repeated integer-array index
    that NumPy's write y[index] = v overwrote (runtime_scatter.written_last)."""
    if isinstance(g, np.ndarray) and repeats(index):
        g = g.copy()
        g[~written_last(shape, index, g.shape)] = 0.0
    return g


def insert_position(n, i):
    """Where ``lst.insert(i, v)`` puts v in a list of length n (Python clamps i to [0, n])."""
    i = int(i)
    if i < 0:
        i = max(0, n + i)
    return min(i, n)


def pop_position(n, i):
    """The position ``lst.pop(i)`` takes from a list of length n (IndexError as Python's)."""
    i = int(i)
    at = n + i if i < 0 else i
    if not 0 <= at < n:
        raise IndexError("pop from empty list" if n == 0 else "pop index out of range")
    return at


def list_pop_position(lst, n, i, line):
    """pop_position for ``lst.pop(i)`` on a parameter (transform/container_pops.py writes it
    out as item moves and an argument-less pop, which only a list's pop equals)."""
    if type(lst) is not list:
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(f"line {line}: .pop(i) on a {type(lst).__name__}, not a list: diffc "
                                "follows the pop of a list or dict only", hint="pass a list")
    return pop_position(n, i)


def dict_without(d, key):
    """A new dict of d's items but key's, in d's order (transform/container_pops.py: d.pop(key)
    on a dict no other name sees); a tangent or adjoint of d that is not a dict stays as is."""
    if not isinstance(d, dict):
        return d
    out = type(d)() if type(d) is not dict else {}
    for k, v in d.items():
        if k != key:
            out[k] = v
    return out


def list_insert_position(lst, n, i, line):
    """insert_position for ``lst.insert(i, v)`` on a parameter (transform/list_insert.py
    expands it into an append and item writes, which only a list's insert equals)."""
    if type(lst) is not list:
        from .errors import UnsupportedSyntax
        raise UnsupportedSyntax(f"line {line}: .insert(...) on a {type(lst).__name__}, not a list: diffc "
                                "follows the insert of a list only", hint="pass a list, or build a new object")
    return insert_position(n, i)


def sort_kind(target, wanted, line):
    """0 when ``target.sort(...)`` sorts a NumPy array, 1 a list (transform/sort_in_place.py
    writes np.sort's or sorted's result back into it); wanted: "array" or "list" when the
    call's arguments name one kind, else "any".  Refuses any other object."""
    from .errors import UnsupportedSyntax
    kind = 0 if isinstance(target, np.ndarray) else 1 if isinstance(target, list) else None
    if kind is None or wanted == "array" and kind != 0 or wanted == "list" and kind != 1:
        raise UnsupportedSyntax(f"line {line}: .sort(...) of a {type(target).__name__}: diffc follows the "
                                "in-place sort of a NumPy array or a list only",
                                hint="sort into a new value: y = np.sort(y) or lst = sorted(lst)")
    return kind


def update_keys(target, other, line):
    """The keys ``target.update(other)`` stores, in order (transform/dict_update.py writes
    them one by one, which only a dict's update equals)."""
    from .errors import UnsupportedSyntax
    if not isinstance(target, dict):
        raise UnsupportedSyntax(f"line {line}: .update(...) on a {type(target).__name__}, not a dict: diffc "
                                "follows the update of a dict only", hint="pass a dict, or build a new object")
    if not hasattr(other, "keys"):
        raise UnsupportedSyntax(f"line {line}: d.update(pairs) with key/value pairs: diffc follows an update "
                                "from a mapping", hint="pass a dict: d.update(dict(pairs))")
    return list(other.keys())


def buffer_shape(bar):
    """The shape of an array adjoint (what winners_only reads), None for a list's adjoint (its
    items may be arrays of several shapes)."""
    return bar.shape if isinstance(bar, np.ndarray) else None


def taken_item(bar, index):
    """Pure take_item, the read: bar[index] (the adjoint of a write's value), without the
    overwritten entries of a repeated index."""
    value = item(bar, index)
    return winners_only(value, bar.shape, index) if isinstance(bar, np.ndarray) else value


def zeroed_item(bar, index):
    """A new buffer equal to bar with zeros at index (pure zero_item)."""
    if isinstance(bar, (list, np.ndarray, dict)) or is_duck_array(bar):
        bar = _private(bar)
        take_item(bar, index)
    elif is_whole(index):
        return 0.0                      # a 0-d array's adjoint, kept as a number
    return bar


def last_bars(bar, n):
    """The adjoints of the last n entries of a list adjoint (pure pop_bars, the read)."""
    if isinstance(bar, list) and n:
        return ListBar(bar[len(bar) - n:])
    return 0.0


def last_bar(bar):
    """The adjoint of the last entry of a list adjoint (pure pop_bar, the read)."""
    if isinstance(bar, list) and bar:
        return bar[-1]
    return 0.0


def without_last(bar, n):
    """A list adjoint without its last n entries (pure pop_bar/pop_bars, the removal)."""
    if isinstance(bar, list) and n:
        return ListBar(bar[:len(bar) - n])
    return bar


def padded_bar(g, bar, n):
    """Adjoint of without_last(bar, n): g followed by n zeros (bar gives the length)."""
    if not isinstance(bar, list) or not n:
        return g
    if not isinstance(g, list):
        return 0.0
    return ListBar(list(g) + [0.0] * n)


def bar_at_end(g, bar, n):
    """Adjoint of last_bars(bar, n) (n None: last_bar): zeros, then g for the last entries."""
    if not isinstance(bar, list) or _is_zero(g) or not (bar if n is None else n):
        return 0.0
    if n is None:
        return ListBar([0.0] * (len(bar) - 1) + [g])
    return ListBar([0.0] * (len(bar) - n) + list(g))


def appended_bar(bar, container, g):
    """A new list adjoint with g appended (pure unpop_bar)."""
    if isinstance(bar, list):
        return ListBar(list(bar) + [g])
    return unpop_bar(bar, container, g)


def written_dot(dot, y, index, value, value_dot):
    """Pure write_dot: a new tangent buffer."""
    if isinstance(dot, (list, np.ndarray, dict)):
        dot = copy_value(dot)
    return write_dot(dot, y, index, value, value_dot)


def appended_dot(dot, lst, value, value_dot):
    """Pure append_dot: a new list tangent."""
    return append_dot(copy_value(dot) if isinstance(dot, list) else dot, lst, value, value_dot)


def extended_dot(dot, lst, seq, seq_dot):
    """Pure extend_dot: a new list tangent."""
    return extend_dot(copy_value(dot) if isinstance(dot, list) else dot, lst, seq, seq_dot)


def popped_dot(dot, value, index=-1, default=None):
    """The tangent pop_dot returns, without removing it (default: d.pop's, if any: a
    default of None carries no derivative, as pop_dot judges it)."""
    if isinstance(dot, list):
        return dot[index]
    if isinstance(dot, dict):
        return pop_dot(copy_value(dot), value, index, default)
    return zeros_dot(value)


def without_popped(dot, index=-1):
    """Pure pop_dot, the removal: a new list (or dict) tangent without the popped entry."""
    if isinstance(dot, list):
        dot = list(dot)
        dot.pop(index)
    elif isinstance(dot, dict):
        dot = dict(dot)
        dot.pop(index, None)
    return dot


def restored_item(container, index, old):
    """Pure write_item: a new container with old back at index (removed if it was absent)."""
    container = copy_value(container)
    write_item(container, index, old)
    return container


def truncated(lst, n):
    """Pure truncate: a new list without the last n entries."""
    if isinstance(lst, list) and n:
        return list(lst[:len(lst) - n])
    return lst


# Adjoints of the pure helpers (rules/syntax.py): the transposes of these linear maps.

def head_of_appended(g, bar, n=1):
    """Adjoint of the old buffer in appended_bar/appended_dot/extended_dot (n entries added)."""
    if isinstance(bar, list) and isinstance(g, list):
        return ListBar(g[:len(g) - n])
    return 0.0


def bar_at_index(g, dot, index=-1):
    """Adjoint of popped_dot: g at dot[index], zeros elsewhere."""
    if not isinstance(dot, list) or _is_zero(g):
        return 0.0
    out = ListBar([0.0] * len(dot))          # 0.0: the zero adjoint of any entry
    out[index] = g
    return out


def unpadded(g, bar, n):
    """Adjoint of padded_bar: g without its last n entries (g itself when bar was no list)."""
    if not isinstance(bar, list) or not n:
        return g
    return ListBar(g[:len(g) - n]) if isinstance(g, list) else 0.0


def end_of(g, bar, n):
    """Adjoint of bar_at_end: the last entry (n None) or the last n entries of g."""
    if not isinstance(bar, list) or not isinstance(g, list) or not (bar if n is None else n):
        return 0.0
    return g[-1] if n is None else ListBar(g[len(g) - n:])


def pad_if_list(g, bar, n=1):
    """Adjoint of head_of_appended: g followed by n zeros (0.0 when bar was no list)."""
    if isinstance(bar, list) and isinstance(g, list):
        return ListBar(list(g) + [0.0] * n)
    return 0.0


def item_if_list(g, dot, index=-1):
    """Adjoint of bar_at_index: g[index] (0.0 when dot was no list)."""
    return g[index] if isinstance(dot, list) and isinstance(g, list) else 0.0


def removed_at(g, dot, index=-1):
    """Adjoint of inserted_zero: g without the entry at index (g itself when dot was no list)."""
    if not isinstance(dot, list):
        return g
    return without_popped(g, index) if isinstance(g, list) else 0.0


def inserted_zero(g, dot, index=-1):
    """Adjoint of without_popped: g with a zero where the entry was removed."""
    if not isinstance(dot, list):
        return g
    if not isinstance(g, list):
        return 0.0
    at = index if index >= 0 else len(dot) + index
    return ListBar(list(g[:at]) + [0.0] + list(g[at:]))


def copy_held(x):
    """A private copy of x and of the arrays, lists and dicts it holds (a callee about to
    write into the items of a list argument, run on a copy: the caller's items keep their
    values, which its adjoint reads)."""
    if isinstance(x, list) and not isinstance(x, ListBar):
        return [copy_held(v) for v in x]
    if isinstance(x, tuple) and type(x) is tuple:
        return tuple(copy_held(v) for v in x)
    if isinstance(x, dict) and not isinstance(x, DictBar):
        return {k: copy_held(v) for k, v in x.items()}
    return copy_value(x)


def flat_read(x):
    """What a read of ``x.flat`` gives (desugar.py): for an array, np.ravel(x), which the
    flat iterator indexes and iterates like; any other object's own ``flat`` attribute."""
    return np.ravel(x) if isinstance(x, np.ndarray) else x.flat
