"""function_source: the source text of a plain function, read once.

Input: a Python function.  Output: (its source dedented, its first line, its file), as
inspect reads them; OSError or TypeError when Python keeps no source for it.

Finding a function's lines tokenizes its whole file, and the compiler asks about the same
methods again for every question about their class (which class a method returns, which
attributes it writes, ...): the answer is kept per function object (weakly, so a function
redefined in a notebook is read again, and none is kept alive by the cache)."""

import inspect
import textwrap
import weakref

_SOURCES = weakref.WeakKeyDictionary()


def source_of(fn):
    """(dedented source text, first line, file name) of fn (module docstring)."""
    try:
        return _SOURCES[fn]
    except (KeyError, TypeError):
        pass
    lines, first = inspect.getsourcelines(fn)
    filename = inspect.getsourcefile(fn) or fn.__code__.co_filename
    found = (textwrap.dedent("".join(lines)), first, filename)
    try:
        _SOURCES[fn] = found
    except TypeError:           # not weakly referable: read again next time
        pass
    return found
