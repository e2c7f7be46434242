"""Run-time checks of generated code that refuse what diffc cannot follow.

Like runtime.py, imports nothing but NumPy (and the error types): generated code calls
these helpers, and their failures name the user's line."""

import types

import numpy as np

from .errors import UnsupportedSyntax
from .runtime import is_duck_array


def _place(line):
    """`file:line` as given, or `line N` for a bare number."""
    return line if isinstance(line, str) else f"line {line}"


def check_unshared(written, other, line):
    """Raise when `written` (about to be written in place) is `other` or shares its memory.

    The compiler could not tell whether the two names hold one object (elements of
    one tuple or list, say); if they do, Python would show the write through both,
    which diffc does not follow: refused here, when it is known."""
    mutable = isinstance(written, (np.ndarray, list, dict, bytearray)) or is_duck_array(written)
    if mutable and _shares(written, other, 3):
        raise UnsupportedSyntax(
            f"{_place(line)}: this writes in place into an object that another name also holds (in Python "
            "both would change)", hint="copy one of them (.copy()) where they are taken apart")


def same_or_unshared(written, other, line):
    """Before a write into `written` that another name may see: True when `other` is the
    very object written (the compiler rebinds other to it after the write, which changes
    nothing in Python: transform/shared_objects.py), False when they share nothing;
    refused as by check_unshared when other views written's memory or holds it."""
    if written is other and (isinstance(written, (np.ndarray, list, dict, bytearray)) or is_duck_array(written)):
        return True
    check_unshared(written, other, line)
    return False


def tuple_takes_back(container, index, line):
    """Before a write-back into a container that may be a tuple (transform/item_write_back.py):
    True for a plain tuple, which cannot take the item back in place and is rebound to a new
    tuple holding it (runtime_tuples.tuple_with_item) -- refused, like a list, when it holds
    that object at another place too; False for anything else (then checked as before)."""
    if type(container) is not tuple:
        return False
    item = container[index]
    mutable = isinstance(item, (np.ndarray, list, dict, bytearray)) or is_duck_array(item)
    if mutable and any(k != index % len(container) and (_shares(item, other, 2) or _shares(other, item, 2))
                       for k, other in enumerate(container)):
        raise UnsupportedSyntax(
            f"{_place(line)}: this writes in place into an object that the tuple also holds at another place "
            "(in Python both places would change)", hint="copy the value where it is stored twice (.copy())")
    return True


def check_item_write_back(container, index, line):
    """Before ``container[index] = item``, the write-back making a write into an item taken out
    of container explicit (transform/item_write_back.py).  A tuple cannot take it; a list or
    dict holding that object (or a view of its memory) at another place too would show the
    write there as well in Python, which one write-back does not follow: both refused."""
    if isinstance(container, tuple):
        raise UnsupportedSyntax(
            f"{_place(line)}: this writes in place into an array that a tuple also holds (in Python "
            "the tuple's item would change too)",
            hint="keep the arrays in a list, or copy the item (.copy()) where it is taken out")
    if isinstance(container, (list, dict)):
        keys = container.keys() if isinstance(container, dict) else range(len(container))
        item = container[index]
        mutable = isinstance(item, (np.ndarray, list, dict, bytearray)) or is_duck_array(item)
        if mutable and any(k != index and (_shares(item, container[k], 2) or _shares(container[k], item, 2))
                           for k in keys):
            raise UnsupportedSyntax(
                f"{_place(line)}: this writes in place into an object that the container also holds at "
                "another place (in Python both places would change)",
                hint="copy the value where it is stored twice (.copy())")


def check_values_unshared(obj, names, other, line):
    """Before a method call updating in place the values of obj's attributes `names` (a
    tuple): refuse when `other` is, views or holds one of them (a list of the arrays the
    objects were built from, say): Python changes it too.  obj itself, which diffc rebinds
    (and a list holding it takes back), is not looked into."""
    for name in names:
        value = getattr(obj, name, None)
        mutable = isinstance(value, (np.ndarray, list, dict, bytearray)) or is_duck_array(value)
        if mutable and _shares(value, other, 3, skip=obj):
            raise UnsupportedSyntax(
                f"{_place(line)}: this writes in place into an object that another name also holds (in Python "
                "both would change)", hint="copy one of them (.copy()) where they are taken apart")


def check_attribute_unshared(obj, name, where):
    """Before ``obj.name += v`` (in place for an array or a list): refuse when another attribute
    of obj holds or views the same object (Python changes it too; diffc's new object would
    keep the old one there)."""
    value = getattr(obj, name, None)
    if not (isinstance(value, (np.ndarray, list, dict, bytearray)) or is_duck_array(value)):
        return
    for other, held in getattr(obj, "__dict__", {}).items():
        if other != name and _shares(value, held, 2):
            raise UnsupportedSyntax(
                f"{where}: this updates {type(obj).__name__}.{name} in place, and the attribute {other!r} "
                f"of the same object holds that value too (in Python both would change)",
                hint=f"store a copy in one of them (self.{other} = v.copy()), or assign a new value "
                     f"(self.{name} = self.{name} + v)")


def _shares(written, other, depth, skip=None):
    """other is written, shares its memory, or holds such an item (`for p in (a, b): p *= 2`);
    the object skip is not looked into."""
    if other is skip and skip is not None:
        return False
    if written is other or (isinstance(written, np.ndarray) and isinstance(other, np.ndarray)
                            and np.may_share_memory(written, other)):
        return True
    if isinstance(other, (list, tuple, dict)):
        items = other.values() if isinstance(other, dict) else other
    elif callable(other) and not isinstance(other, type):
        items = _held_by_function(other)
        if not isinstance(other, types.FunctionType) and hasattr(other, "__dict__") \
                and type(other).__module__ not in _LIBRARIES:
            items = items + list(vars(other).values())     # a callable object: its attributes too
    elif hasattr(other, "__dict__") and not isinstance(other, type) and type(other).__module__ not in _LIBRARIES:
        items = vars(other).values()        # an object of a user class: its attributes
    else:
        items = ()
    return depth > 0 and any(_shares(written, v, depth - 1, skip) for v in items)


def _held_by_function(fn):
    """What a function value keeps: a closure's captured values (diffc's Closure: its
    partial arguments and captured values; a Python function: its cells), a partial's
    arguments, a bound method's object."""
    held = []
    for name in ("lead", "trail", "args"):
        value = getattr(fn, name, None)
        if isinstance(value, tuple):
            held.extend(value)
    keywords = getattr(fn, "keywords", None)
    if isinstance(keywords, dict):
        held.extend(keywords.values())
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            held.append(cell.cell_contents)
        except ValueError:          # an empty cell
            pass
    owner = getattr(fn, "__self__", None)
    if owner is not None and not isinstance(owner, type) and type(owner).__module__ not in _LIBRARIES:
        held.append(owner)
    return held


_LIBRARIES = ("numpy", "builtins", "scipy", "functools")


def basic_index(*parts):
    """Whether an index made of parts (the top-level entries of ``a[i]`` or ``a[i, j]``)
    is basic (ints, slices, None, Ellipsis, tuples of those): then ``a[i]`` is a view of a
    and ``a[i][j] = v`` changes a; an array, list or bool index makes a copy, and the write
    changes only that copy (transform/anf.py through_item)."""
    for p in parts:
        if isinstance(p, tuple):
            if not basic_index(*p):
                return False
        elif not (p is None or p is Ellipsis or isinstance(p, slice)
                  or (isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)))):
            return False
    return True


def slicing_shares(container):
    """Whether ``container[a:b]`` is a view of container's memory (an array) rather than a
    new list or tuple holding its items: only then does a write into one reach the other
    (transform/sweep.py's _view_follow_up guards its write-back or re-read with it)."""
    return isinstance(container, np.ndarray) or is_duck_array(container)


def check_no_positional_out(receiver, method, line):
    """Raise when ``receiver.method(a, out)`` names its `out` array by position on an ndarray
    (x.dot(b, y), x.max(0, m)): diffc follows a write only through ``out=`` by keyword
    (transform/anf.py; the same name of another class's method takes what it likes)."""
    if isinstance(receiver, np.ndarray):
        raise UnsupportedSyntax(
            f"line {line}: x.{method}(..., out) writes its result into the array given by position, which "
            "diffc does not follow", hint=f"pass it by keyword: x.{method}(..., out=y)")


def check_updated_in_place(manager, attr, line):
    """Before the body of ``with m as t`` whose ``t op= v`` diffc reads as ``m.attr[...] op= v``
    (transform/with_statements.py): the same only when t's value is an array, updated in
    place; a number would rebind t alone, leaving m.attr as it was, and a list is extended:
    refused."""
    value = getattr(manager, attr)
    if not isinstance(value, np.ndarray):
        raise UnsupportedSyntax(
            f"line {line}: the with statement's `as` name is updated with an augmented assignment, and "
            f"__enter__ gave it a {type(value).__name__}: Python rebinds the name only, which diffc "
            "does not follow here", hint="assign the updated value to a new name (u = t + v)")


def check_zip_strict(iterables):
    """What ``zip(*iterables, strict=True)`` checks: Python's ValueError when the lengths differ
    (transform/anf.py drops the keyword and calls this first; zip's rules take no keywords)."""
    if not all(hasattr(it, "__len__") for it in iterables):
        return                          # an iterator: zip itself stops at the shortest
    lengths = [len(it) for it in iterables]
    if len(set(lengths)) > 1:
        k = next(k for k, n in enumerate(lengths) if n != lengths[0])
        raise ValueError(f"zip() argument {k + 1} is {'shorter' if lengths[k] < lengths[0] else 'longer'} "
                         f"than argument{'s 1-' + str(k) if k > 1 else ' 1'}")


def check_list_slice_length(target, index, value, where):
    """Before ``lst[i:j] = [...]``: refuse a write that changes a list's length (an insertion
    ``lst[i:i] = [v]``, a shrink): diffc differentiates slice writes item for item."""
    if isinstance(target, list) and isinstance(index, slice) and hasattr(value, "__len__") \
            and len(range(*index.indices(len(target)))) != len(value):
        raise UnsupportedSyntax(
            f"line {where}: this slice assignment changes the list's length, which diffc does not differentiate",
            hint="build the new list instead: lst = lst[:i] + [v] + lst[j:]")
