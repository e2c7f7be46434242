"""export: write a compiled gradient as a standalone module (numpy and math only).

Design.  The emitted gradient (`emit.Emitted`) is source text plus a namespace
binding every name the text uses to an object.  A standalone module is that
text preceded by a definition of each bound name:

- modules           -> ``import numpy as np`` (any module, under its bound name);
- builtins          -> nothing;
- diffc objects     -> their source, copied (runtime helpers, rule helpers,
                       classes such as ``ListBar``), recursively with every
                       global *they* reference; relative imports inside them
                       (``from .errors import X``) are removed and X is copied;
- the user's module -> functions by source (the primal and any callee),
                       constants by a literal;
- other libraries   -> ``from module import name``.

Definitions are emitted dependencies first (a class after its bases, a
constant before the code that runs at import time).  Then come the generated
functions (the main one renamed ``_grad_FUNC_generated``) and ``grad_FUNC``,
a wrapper with the call convention of ``diffc.grad(FUNC, wrt=...)``: it binds
arguments by FUNC's signature, converts int arguments differentiated with
respect to into floats, and returns a 1-tuple when ``wrt`` is a tuple of one.

The generated code is specialized for the kinds of the example arguments
(floats unless ``args`` is given), exactly like `diffc.source`.
"""

import ast
import builtins
import importlib
import inspect
import numbers
import re
import sys
import textwrap
import types

import numpy as np

from .errors import DiffcError


class ExportError(DiffcError):
    """A global the gradient needs cannot be written into a standalone module."""


_NUMPY_ALIAS = "_np_export"


def export_source(fn, wrt=0, mode="reverse", args=None, optimize=True):
    """The text of a standalone module defining grad_<fn.__name__>."""
    from . import compile_cache
    from .analysis import kinds as K
    if mode != "reverse":
        raise ExportError(f"export supports mode='reverse' only (got {mode!r})",
                          hint="export the reverse-mode gradient")
    compile_cache.check_function(fn)
    wrt_names, single = compile_cache.normalize_wrt(fn, wrt)
    names = compile_cache.param_names(fn)
    fixed = function_arguments(fn, names, args)
    for w in wrt_names:
        if w in fixed:
            raise ExportError(f"cannot differentiate with respect to {w!r}: it holds a function")
    target = specialized(fn, fixed) if fixed else fn
    kept = [n for n in names if n not in fixed]
    if args is None:
        kinds = tuple(K.SCALAR for _ in kept)
    else:
        values = compile_cache.bind_arguments(fn, names, list(args), {})
        for k in (names.index(w) for w in wrt_names):
            values[k] = compile_cache.as_float(values[k])
        kinds = compile_cache.kinds_of([v for n, v in zip(names, values) if n not in fixed])
    entry = compile_cache.joint_entry(target, wrt_names, kinds, False, optimize)
    _check_standalone(entry.emitted, fn)
    return _Writer(fn, entry.emitted, entry.main.__name__, wrt_names, single, kept,
                   fixed).module_text(kinds)


# ------------------------------------------------- parameters holding functions

def _is_function_value(value):
    return isinstance(value, (types.FunctionType, types.BuiltinFunctionType, np.ufunc))


def function_arguments(fn, names, args):
    """{parameter: function} for the parameters of fn that hold a plain function (a
    parameter default, or the example argument given): an exported gradient is specialized
    for them, as diffc compiles calls of the function they hold (`specialized`)."""
    from . import compile_cache
    sig = inspect.signature(fn)
    if args is not None:
        try:
            values = compile_cache.bind_arguments(fn, names, list(args), {})
        except DiffcError:
            values = [None] * len(names)
    else:
        values = [sig.parameters[n].default if n in sig.parameters else None for n in names]
    return {n: v for n, v in zip(names, values) if _is_function_value(v)}


def specialized(fn, fixed):
    """fn with the parameters in `fixed` ({name: function}) removed and bound to those
    functions as free variables (closure cells), so that diffc resolves their calls at
    compile time: no call of a function value is left for the run time (which needs
    diffc)."""
    import linecache
    try:
        lines, _ = inspect.getsourcelines(fn)
    except (OSError, TypeError):
        raise ExportError(f"cannot read the source of {fn.__qualname__}; cannot export") from None
    tree = ast.parse(textwrap.dedent("".join(lines)))
    node = tree.body[0]
    if not isinstance(node, ast.FunctionDef):
        raise ExportError(f"{fn.__qualname__} is not a plain function; cannot export it specialized "
                          "for its function arguments")
    node.decorator_list = []
    a = node.args
    positional = a.posonlyargs + a.args
    n_defaults = len(a.defaults)
    keep_pos, keep_defaults = [], []
    for i, arg in enumerate(positional):
        default = a.defaults[i - (len(positional) - n_defaults)] if i >= len(positional) - n_defaults else None
        if arg.arg in fixed:
            continue
        keep_pos.append(arg)
        if default is not None:
            keep_defaults.append(default)
    a.posonlyargs = [p for p in a.posonlyargs if p in keep_pos]
    a.args = [p for p in a.args if p in keep_pos]
    a.defaults = keep_defaults
    kw = [(k, d) for k, d in zip(a.kwonlyargs, a.kw_defaults) if k.arg not in fixed]
    a.kwonlyargs = [k for k, _ in kw]
    a.kw_defaults = [d for _, d in kw]
    outer = ast.FunctionDef(name="_export_specialize", args=ast.arguments(
        posonlyargs=[], args=[ast.arg(arg=n) for n in fixed], vararg=None, kwonlyargs=[], kw_defaults=[],
        kwarg=None, defaults=[]), body=[node, ast.Return(value=ast.Name(id=node.name, ctx=ast.Load()))],
        decorator_list=[], returns=None)
    text = ast.unparse(ast.fix_missing_locations(ast.Module(body=[outer], type_ignores=[]))) + "\n"
    filename = f"<diffc:export:{fn.__name__}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    local = {}
    exec(compile(text, filename, "exec"), fn.__globals__, local)
    return local["_export_specialize"](*fixed.values())


def _check_standalone(emitted, fn):
    """Refuse gradient code that would need diffc at run time (a call of a function value
    the specialization could not resolve: a function in a container, a partial, a method)."""
    from . import runtime, runtime_calls
    needs = {runtime_calls.vjp_call, runtime_calls.jvp_call, runtime_calls.call_value}
    for name, obj in emitted.namespace.items():
        try:
            hit = obj in needs
        except TypeError:
            hit = False
        if hit or re.search(r"\bruntime\.(vjp_call|jvp_call|call_value)\b", emitted.source):
            raise ExportError(
                f"the gradient of {fn.__qualname__} calls a function value diffc differentiates at run "
                "time (a function in a list or dict, a functools.partial, a method of an object, or a "
                "function computed in the body); an exported module cannot do that without diffc",
                hint="pass the function as a parameter of the exported function (its default or the "
                     "--args value is compiled in), or use diffc.grad instead of an export")


class _Writer:
    """Collects definitions for the globals of one emitted gradient."""

    def __init__(self, fn, emitted, main_name, wrt_names, single, names, fixed=None):
        self.fixed = dict(fixed or {})      # parameters holding the functions compiled in
        self.fn = fn
        self.emitted = emitted
        self.main_name = main_name
        self.wrt_names = wrt_names
        self.single = single
        self.names = names
        self.user_module = fn.__module__
        self.bound = {}            # name -> object already defined
        self.imports = []
        self.definitions = []
        self.visiting = set()

    # -------------------------------------------------------------- output
    def module_text(self, kinds):
        generated = self.emitted.functions
        for obj in self.fixed.values():
            # a function compiled in is also the default of the primal's parameter: define it first
            name = getattr(obj, "__name__", None)
            if name and getattr(self.fn, "__globals__", {}).get(name) is obj:
                self.define(name, obj)
        for name, obj in self.emitted.namespace.items():
            if name.startswith("__") or name in generated:
                continue
            self.define(name, obj)
        self.define(self.fn.__name__, self.fn)
        wrapper = self.wrapper()
        imports = list(dict.fromkeys(["import math", f"import numpy as {_NUMPY_ALIAS}"] + self.imports))
        parts = [self.header(kinds), "\n".join(imports)]
        parts += self.definitions
        parts.append(self.generated_text())
        parts.append(wrapper)
        return "\n\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"

    def header(self, kinds):
        wrt = self.wrt_names[0] if self.single else self.wrt_names
        described = ", ".join(f"{n}: {k}" for n, k in zip(self.names, kinds))
        return (f'"""Gradient of {self.fn.__qualname__}, exported by `diffc export` (wrt={wrt!r}).\n\n'
                f"Standalone: needs numpy only.  grad_{self.fn.__name__}(*args) has the call convention of\n"
                f"diffc.grad({self.fn.__name__}, wrt={wrt!r}); the code is specialized for arguments of kind\n"
                f"({described}).\n"
                '"""')

    def generated_text(self):
        text = self.emitted.source
        return re.sub(rf"^def {re.escape(self.main_name)}\(", f"def {self._generated_name()}(", text,
                      count=1, flags=re.M)

    def _generated_name(self):
        return f"_{self.main_name}_generated"

    def wrapper(self):
        fn = self.fn
        sig = inspect.signature(fn)
        params, defaults = [], []
        checks = ""
        for p in sig.parameters.values():
            if p.name in self.fixed:
                fixed_name = f"_export_{fn.__name__}_{p.name}"
                self.define(fixed_name, self.fixed[p.name])
                params.append(f"{p.name}={fixed_name}")
                label = getattr(self.fixed[p.name], "__name__", p.name)
                checks += (f"    if {p.name} is not {fixed_name}:\n"
                           f"        raise ValueError('this gradient was exported for {p.name}={label}; export "
                           f"it again for another function')\n")
            elif p.default is p.empty:
                params.append(p.name)
            else:
                default_name = f"_default_{fn.__name__}_{p.name}"
                self.definitions.append(f"{default_name} = {self.literal(p.default, default_name)}")
                params.append(f"{p.name}={default_name}")
        conversions = "".join(f"    {w} = _export_as_float({w})\n" for w in self.wrt_names)
        call = f"{self._generated_name()}({', '.join(self.names)})"
        if not self.single and len(self.wrt_names) == 1:
            ret = f"    return ({call},)\n"
        else:
            ret = f"    return {call}\n"
        wrt = self.wrt_names[0] if self.single else tuple(self.wrt_names)
        return (
            "def _export_as_float(value):\n"
            "    \"\"\"Ints differentiated with respect to are treated as floats (as diffc.grad does).\"\"\"\n"
            f"    if isinstance(value, (bool, {_NUMPY_ALIAS}.bool_)):\n"
            "        raise TypeError('cannot differentiate with respect to a bool')\n"
            f"    if isinstance(value, (int, {_NUMPY_ALIAS}.integer)):\n"
            "        return float(value)\n"
            f"    if isinstance(value, {_NUMPY_ALIAS}.ndarray) and value.dtype.kind in 'iub':\n"
            f"        return value.astype({_NUMPY_ALIAS}.float64)\n"
            "    return value\n\n\n"
            f"def grad_{fn.__name__}({', '.join(params)}):\n"
            f"    \"\"\"Gradient of {fn.__name__} with respect to {wrt!r}, as diffc.grad computes it.\"\"\"\n"
            f"{checks}{conversions}{ret}")

    # --------------------------------------------------------- definitions
    def define(self, name, obj):
        """Make `name` denote `obj` in the exported module (dependencies first)."""
        if name in self.bound:
            if self.bound[name] is obj or _same_value(self.bound[name], obj):
                return
            raise ExportError(f"two different objects are both called {name!r}; cannot export",
                              hint="rename one of them")
        if getattr(builtins, name, _MISSING) is obj:
            return
        if (name, id(obj)) in self.visiting:
            return
        self.visiting.add((name, id(obj)))
        if isinstance(obj, types.ModuleType):
            self.bound[name] = obj
            self.imports.append(_import_line(obj.__name__, name))
        elif self._copy_source(obj):
            self.bound[name] = obj
            self.copy_definition(name, obj)
        elif _importable(obj):
            self.bound[name] = obj
            module, attr = _importable(obj)
            self.imports.append(f"from {module} import {attr}" + (f" as {name}" if attr != name else ""))
        else:
            self.bound[name] = obj
            self.definitions.append(f"{name} = {self.literal(obj, name)}")

    def _copy_source(self, obj):
        if not isinstance(obj, (types.FunctionType, type)):
            return False
        module = getattr(obj, "__module__", "") or ""
        return module == "diffc" or module.startswith("diffc.") or module == self.user_module \
            or module == "__main__"

    def copy_definition(self, name, obj):
        try:
            text = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            raise ExportError(f"the source of {name} ({obj!r}) is not available; cannot export") from None
        module = sys.modules.get(obj.__module__)
        table = getattr(obj, "__globals__", None) or (vars(module) if module else {})
        text, imported = _strip_relative_imports(text, obj.__module__)
        for dep_name, dep in imported:
            self.define(dep_name, dep)
        for base in getattr(obj, "__bases__", ()):
            if base is not object and getattr(builtins, base.__name__, None) is not base:
                self.define(base.__name__, base)
        for ref in sorted(_referenced_names(obj)):
            # Module dunders (__name__, __file__) are per module and also appear as
            # attribute names (type(x).__name__): never copy them.
            if ref in table and ref != obj.__name__ and not _is_dunder(ref):
                self.define(ref, table[ref])
        text = _strip_decorators(text)
        if obj.__name__ != name:
            text += f"\n\n{name} = {obj.__name__}"
        self.definitions.append(text)

    def literal(self, value, name):
        """Source of an expression that rebuilds value (constants only)."""
        if value is None or isinstance(value, (bool, str, bytes)):
            return repr(value)
        if isinstance(value, np.ndarray):
            return f"{_NUMPY_ALIAS}.array({value.tolist()!r}, dtype={_NUMPY_ALIAS}.{value.dtype.name})"
        if isinstance(value, np.dtype):
            return f"{_NUMPY_ALIAS}.dtype({value.str!r})"
        if isinstance(value, np.generic):
            return f"{_NUMPY_ALIAS}.{type(value).__name__}({value.item()!r})"
        if isinstance(value, numbers.Number):
            text = repr(value)
            if text in ("inf", "-inf", "nan"):
                return f"float({text!r})"
            return text
        if isinstance(value, (tuple, list)):
            inner = ", ".join(self.literal(v, name) for v in value)
            return f"({inner},)" if isinstance(value, tuple) else f"[{inner}]"
        if isinstance(value, dict):
            return "{" + ", ".join(f"{self.literal(k, name)}: {self.literal(v, name)}"
                                   for k, v in value.items()) + "}"
        if type(value) is object:
            return "object()"
        raise ExportError(f"the global {name!r} ({type(value).__name__}) cannot be written into a standalone "
                          "module", hint="use a number, string, tuple, list, dict or numpy array")


_MISSING = object()

# Public for jit_export.py, which writes the numba form of the same gradient.
ModuleWriter = _Writer


def _same_value(a, b):
    try:
        return type(a) is type(b) and isinstance(a, (int, float, str)) and a == b
    except Exception:
        return False


def _import_line(module_name, bound_name):
    if module_name == bound_name:
        return f"import {module_name}"
    return f"import {module_name} as {bound_name}"


def _importable(obj):
    """(module, attribute) from which obj can be imported by name, or None."""
    module_name = getattr(obj, "__module__", None)
    attr = getattr(obj, "__name__", None)
    candidates = []
    if isinstance(obj, np.ufunc):
        # numpy's ufuncs, and scipy.special's (which are ufuncs too)
        candidates = ["numpy", "scipy.special"]
        module_name = "numpy"
    if attr is None and type(obj).__module__.startswith("scipy.stats"):
        attr = getattr(obj, "name", None)          # a distribution object: scipy.stats.norm
        candidates = ["scipy.stats"]
    if not module_name or not attr:
        return None
    for candidate in (module_name, module_name.split(".")[0], *candidates):
        try:
            module = importlib.import_module(candidate)
        except ImportError:
            continue
        if getattr(module, attr, None) is obj:
            return candidate, attr
    return None


def _code_names(code):
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _code_names(const)
    return names


def _is_dunder(name):
    return name.startswith("__") and name.endswith("__")


def _referenced_names(obj):
    """Global names a function (or every method of a class) may read."""
    if isinstance(obj, types.FunctionType):
        return _code_names(obj.__code__)
    names = set()
    for value in vars(obj).values():
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            for f in (value.fget, value.fset, value.fdel):
                if f is not None:
                    names |= _code_names(f.__code__)
        elif isinstance(value, types.FunctionType):
            names |= _code_names(value.__code__)
    return names


def _strip_relative_imports(text, module_name):
    """Remove `from .x import y` statements; returns (text, [(name, object)])."""
    tree = ast.parse(text)
    lines = text.splitlines()
    imported = []
    package = module_name.rpartition(".")[0] if module_name else ""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level > 0:
            base = importlib.import_module(("." * node.level) + (node.module or ""), package or "diffc")
            for alias in node.names:
                imported.append((alias.asname or alias.name, getattr(base, alias.name)))
            first = node.lineno - 1
            indent = lines[first][: len(lines[first]) - len(lines[first].lstrip())]
            lines[first] = indent + "pass"
            for k in range(node.lineno, node.end_lineno):
                lines[k] = ""
    return "\n".join(lines), imported


def _strip_decorators(text):
    """Drop decorators of the top-level definition (rule registrations, @differentiate)."""
    tree = ast.parse(text)
    node = tree.body[0]
    if not getattr(node, "decorator_list", None):
        return text
    lines = text.splitlines()
    return "\n".join(lines[node.lineno - 1:])
