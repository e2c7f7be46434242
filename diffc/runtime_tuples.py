"""runtime_tuples: a tuple taking back an item written in place, for generated code.

Python's ``pos, vel = state; pos += dt * vel`` changes the array the tuple holds.  diffc
follows values, so the tuple is rebound to one holding the written array
(transform/item_write_back.py), and a caller takes the tuple its callee hands back
(transform/callee_writes.py).  Imports nothing but the runtime (generated code and
``diffc export`` use these as plain Python); the rules are in rules/dynamic_rules.py.
"""

from .runtime import ListBar, updates_in_place


def takes_back_items(x):
    """Whether a callee's in-place writes into the items of x (``pos, vel = state; pos += v``)
    reach the caller's x: an array, list or dict updated in place, or a plain tuple, whose
    items are the objects written (transform/callee_writes.py rebinds the caller's name to the
    tuple the callee hands back, holding them)."""
    return updates_in_place(x) or type(x) is tuple


def tuple_with_item(container, index, value):
    """A plain tuple like container with value at index: a tuple holding an array written in
    place (``pos, vel = state; pos += v``) takes the array back by being rebound to this
    (transform/item_write_back.py); Python's tuple holds the same, changed, object."""
    items = list(container)
    items[index] = value
    return tuple(items)


def tuple_item_bars(bar, container, index):
    """The adjoint of tuple_with_item: (the tuple's, the value's)."""
    if isinstance(bar, (list, tuple)):
        rest = ListBar(bar)
        value_bar = rest[index]
        rest[index] = 0.0
        return rest, value_bar
    return 0.0, 0.0


def tuple_pair_joined(pair, container, index):
    """The adjoint of tuple_item_bars (the inverse arrangement): the pair (the tuple's
    adjoint without the item, the item's) as one tuple adjoint."""
    if not isinstance(pair, (list, tuple)):
        return 0.0
    rest, value_bar = pair[0], pair[1]
    out = ListBar(rest) if isinstance(rest, (list, tuple)) else ListBar([0.0] * len(container))
    out[index] = value_bar
    return out


def tuple_item_dot(dot, container, index, value_dot):
    """The tangent of tuple_with_item: the tuple's tangent with value_dot at index."""
    items = list(dot) if isinstance(dot, (list, tuple)) else [0.0] * len(container)
    items[index] = value_dot
    return tuple(items)
