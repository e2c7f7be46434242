"""jit_compile: generated gradients (and primals) compiled to machine code by numba.

Input: an `emit.Emitted` module (the plain Python gradient diffc generated
for one call's argument kinds) and the call's arguments.
Output: a `JitModule` whose ``main`` is a numba dispatcher computing the
same values.  `numba_form` rewrites the source into the form numba compiles;
this module writes that text to a content-addressed file (so tracebacks,
``inspect`` and numba's on-disk cache work), binds the names it uses —
runtime helpers to their numba implementations (`jit_runtime`), the user's
own functions to numba-compiled copies, modules and constants as they are —
and wraps every generated function with ``numba.njit``.

The file name is a hash of the text, of the values of the constants it
reads and of the numba version, so a cached compilation (``cache=True``) is
found again exactly when the same code would be compiled; numba keys its
cache on the file and the argument types.  A compile failure, which numba
reports at the first call, becomes `JitUnsupported` naming the user's line
(mapped through the line map of the text).  The first call's time, compile
included, is recorded in `jit_stats`.

numba is optional: without it every entry point raises `JitUnavailable`.
"""

import builtins
import hashlib
import os
import re
import sys
import tempfile
import threading
import time
import types
import warnings

import numpy as np

from .errors import DiffcError, DiffcWarning
from .numba_form import JitUnsupported, numba_form

__all__ = ["JitUnavailable", "JitUnsupported", "JitModule", "jit_stats", "require_numba", "compile_emitted",
           "jit_primal", "numba_source"]

FORMAT_VERSION = "1"
_lock = threading.RLock()

# One record per compilation: name, seconds of the first call (compile included), whether
# numba found it in its disk cache, the file numba compiled.
jit_stats = []


class JitUnavailable(DiffcError):
    """jit=True without numba installed."""


def require_numba():
    try:
        import numba  # noqa: F401
    except ImportError:
        raise JitUnavailable("jit=True needs numba, which is not installed",
                             hint="pip install 'diffc[jit]'  (or: pip install 'numba~=0.68')") from None
    import numba
    return numba


def jit_directory():
    """Where the numba-ready sources (and numba's cache, next to them) are written."""
    path = os.environ.get("DIFFC_JIT_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "diffc", "jit")
    try:
        os.makedirs(path, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    path = os.path.join(tempfile.gettempdir(), f"diffc-jit-{os.getuid() if hasattr(os, 'getuid') else 0}")
    os.makedirs(path, exist_ok=True)
    return path


# ---------------------------------------------------------------- names

def _is_diffc_helper(obj):
    module = getattr(obj, "__module__", "") or ""
    return callable(obj) and (module == "diffc" or module.startswith("diffc.")) \
        and not isinstance(obj, types.ModuleType)


def helper_names(namespace):
    return [k for k, v in namespace.items() if _is_diffc_helper(v)]


def numba_source(emitted, main_name, args):
    """The text numba compiles for this call (no numba needed)."""
    return _form(emitted, main_name, args).source


def numba_form_of(emitted, main_name, args):
    """The JitForm (numba_form.py) of an emitted gradient for arguments like args."""
    return _form(emitted, main_name, args)


def _form(emitted, main_name, args):
    namespace = dict(emitted.namespace)
    return numba_form(emitted.source, emitted.line_map, namespace, args, main_name, helper_names(namespace))


def _first_use(form, name):
    """The user (file, line) of the first line of the jit text that uses `name`."""
    pattern = re.compile(r"\b" + re.escape(name) + r"\b")
    for k, line in enumerate(form.source.splitlines(), start=1):
        if pattern.search(line) and not line.lstrip().startswith("#") and k in form.line_map:
            return form.line_map[k]
    return None


def _where(location):
    if location is None:
        return "generated code"
    filename, line = location
    text = _user_line(filename, line)
    return f"{filename}:{line}" + (f": {text}" if text else "")


def _user_line(filename, line):
    import linecache
    return linecache.getline(filename, line).strip() if filename else ""


# ------------------------------------------------------------ user callees

_user_copies = {}


def jit_function(fn, numba, cache=False):
    """A numba dispatcher running fn, whose calls of other plain Python functions
    (found in its globals and closure) go to their compiled copies too."""
    key = (fn, cache)
    if key in _user_copies:
        return _user_copies[key]
    if isinstance(fn, numba.core.dispatcher.Dispatcher):
        return fn
    if fn.__name__ in fn.__code__.co_names and fn.__globals__.get(fn.__name__) is fn:
        cache = False                     # a recursive function: numba issue 6061 (compile_emitted)
    env = dict(fn.__globals__)
    copy = types.FunctionType(fn.__code__, env, fn.__name__, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__
    copy.__module__ = fn.__module__
    try:
        dispatcher = numba.njit(cache=cache)(copy)
    except RuntimeError:                  # no file to cache next to (a REPL function): compile only
        dispatcher = numba.njit(cache=False)(copy)
    _user_copies[key] = dispatcher
    for name in fn.__code__.co_names:
        obj = env.get(name)
        if isinstance(obj, types.FunctionType) and not _is_diffc_helper(obj):
            env[name] = jit_function(obj, numba, cache)
    return dispatcher


def jit_primal(fn, cache=False):
    """`diffc.jit(f)`: f compiled by numba (and the functions it calls)."""
    numba = require_numba()
    if not isinstance(fn, types.FunctionType):
        from .errors import BadArgument
        raise BadArgument(f"diffc.jit compiles Python functions; got {type(fn).__name__} {fn!r}")
    return jit_function(fn, numba, cache)


class _Timed:
    """A dispatcher whose first call (compile included) is timed into jit_stats."""

    def __init__(self, dispatcher, name, path):
        self.dispatcher = dispatcher
        self.name = name
        self.path = path
        self.compile_s = None
        self.__wrapped__ = dispatcher

    def __call__(self, *args):
        if self.compile_s is None:
            t0 = time.perf_counter()
            result = self.dispatcher(*args)
            self.compile_s = time.perf_counter() - t0
            stats = getattr(self.dispatcher, "stats", None)
            jit_stats.append({"name": self.name, "first_call_s": self.compile_s, "file": self.path,
                              "cache_hits": sum(stats.cache_hits.values()) if stats else 0})
            return result
        return self.dispatcher(*args)


# ------------------------------------------------------------- the module

class JitModule:
    """One numba-compiled gradient module (see module docstring)."""

    def __init__(self, form, path, main, module):
        self.form = form
        self.source = form.source
        self.path = path
        self.main = main
        self.module = module
        self.compile_s = None


def _constants_digest(namespace):
    h = hashlib.sha256()
    for name in sorted(namespace):
        obj = namespace[name]
        if isinstance(obj, np.ndarray):
            h.update(f"{name}:{obj.dtype}:{obj.shape}".encode())
            h.update(np.ascontiguousarray(obj).tobytes())
        elif isinstance(obj, (int, float, complex, str, bool, tuple, type(None))):
            h.update(f"{name}={obj!r}".encode())
        elif isinstance(obj, types.FunctionType):
            h.update(f"{name}:{obj.__module__}.{obj.__qualname__}".encode())
            h.update(obj.__code__.co_code)
            h.update(repr(obj.__code__.co_consts).encode())
        else:
            h.update(f"{name}:{type(obj).__module__}.{type(obj).__qualname__}".encode())
    return h.hexdigest()


_RUNTIME_DIGEST = []


def _runtime_digest():
    """A hash of the numba helpers' source: machine code cached against other helpers is stale."""
    if not _RUNTIME_DIGEST:
        from . import jit_runtime
        with open(jit_runtime.__file__, "rb") as fh:
            _RUNTIME_DIGEST.append(hashlib.sha256(fh.read()).hexdigest())
    return _RUNTIME_DIGEST[0]


def compile_emitted(emitted, main_name, args, cache=False, label=None):
    """JitModule of an emitted gradient for arguments like `args` (numba compiles at the first call)."""
    numba = require_numba()
    from . import jit_runtime
    form = _form(emitted, main_name, args)
    namespace = {}
    for name, obj in form.namespace.items():
        if name in ("__builtins__", "__name__") or name in emitted.functions:
            continue                       # the generated functions are defined by the text
        if isinstance(obj, types.ModuleType):
            namespace[name] = obj
        elif _is_diffc_helper(obj):
            if name not in form.helpers:
                continue
            stub = jit_runtime.helper_for(obj)
            if stub is None:
                raise JitUnsupported(
                    f"numba cannot compile the runtime helper {getattr(obj, '__name__', name)} the gradient "
                    f"calls for {_where(_first_use(form, name))}",
                    hint="use jit=False, or jit='auto' to fall back to the Python gradient with a warning")
            namespace[name] = stub
        elif isinstance(obj, types.FunctionType):
            namespace[name] = jit_function(obj, numba, cache)
        elif getattr(builtins, name, None) is obj:
            continue
        else:
            namespace[name] = obj
    digest = hashlib.sha256("\0".join([FORMAT_VERSION, numba.__version__, _runtime_digest(), form.source,
                                       _constants_digest(namespace)]).encode()).hexdigest()[:20]
    stem = re.sub(r"\W", "_", label or main_name)[:40]
    path = os.path.join(jit_directory(), f"{stem}_{digest}.py")
    header = "# numba-ready gradient written by diffc (diffc show --jit); each function is numba.njit'ed\n"
    text = header + "\n" + form.source
    with _lock:
        if not os.path.exists(path) or open(path).read() != text:
            tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
            with open(tmp, "w") as fh:
                fh.write(text)
            os.replace(tmp, path)
    module_name = f"diffc_jit_{stem}_{digest}"
    module = types.ModuleType(module_name)
    module.__file__ = path
    module.__dict__.update(namespace)
    # the text's lines are 2 further down the file than in form.line_map (the header)
    line_map = {k + 2: v for k, v in form.line_map.items()}
    exec(compile(text, path, "exec"), module.__dict__)
    sys.modules[module_name] = module
    names = [n for n in re.findall(r"^def (\w+)\(", form.source, flags=re.M)]
    # numba's disk cache of a recursive function crashes the process that loads it
    # (numba issue 6061): a module with recursion is compiled in every process
    cache = cache and not _recursive(form.source, names)
    for name in names:
        module.__dict__[name] = numba.njit(cache=cache)(module.__dict__[name])
    jm = JitModule(form, path, module.__dict__[main_name], module)
    jm.line_map = line_map
    return jm


def _recursive(source, names):
    """Whether a generated function calls itself, directly or through others."""
    bodies = re.split(r"^def ", source, flags=re.M)[1:]
    calls = {}
    for body in bodies:
        name = body.split("(", 1)[0]
        calls[name] = {n for n in names if re.search(r"\b" + re.escape(n) + r"\(", body.split("\n", 1)[-1])}
    for start in calls:
        seen, todo = set(), list(calls[start])
        while todo:
            n = todo.pop()
            if n == start:
                return True
            if n not in seen:
                seen.add(n)
                todo += calls.get(n, ())
    return False


def explain_numba_error(exc, jm):
    """JitUnsupported for a numba compile error, naming the user's line."""
    text = str(exc)
    location = None
    for m in re.finditer(r'File "([^"]+)", line (\d+)', text):
        if os.path.abspath(m.group(1)) == os.path.abspath(jm.path) or m.group(1).endswith(
                os.path.basename(jm.path)):
            location = jm.line_map.get(int(m.group(2)))
            if location is not None:
                break
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    what = next((ln for ln in lines if not ln.startswith(("Failed in", "During:", "File "))), lines[0] if lines
                else type(exc).__name__)
    what = re.sub(r"\s+", " ", what)[:300]
    return JitUnsupported(f"numba cannot compile the gradient at {_where(location)}: {what}",
                          hint=f"the numba-ready source is {jm.path} (diffc show --jit); use jit=False, or "
                               "jit='auto' to fall back to the Python gradient with a warning")


def is_numba_compile_error(exc):
    try:
        from numba.core.errors import NumbaError
    except ImportError:
        return False
    return isinstance(exc, NumbaError)


def warn_fallback(exc):
    warnings.warn(f"jit='auto': using the Python gradient: {exc}", DiffcWarning, stacklevel=4)
