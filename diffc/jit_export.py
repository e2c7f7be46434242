"""jit_export: ``diffc export --jit``, a module whose gradient numba compiles.

Input: the function, wrt and example arguments of `export.export_source`
(floats for every parameter without them).
Output: the text of a module like the plain export (same ``grad_FUNC`` call
convention, the user's constants as literals, imports of numpy and math)
whose generated functions are the numba form of the gradient (exactly what
``diffc show --jit`` prints), each decorated ``@numba.njit(cache=True)``.
Runtime helpers the numba form calls are imported from ``diffc.jit_runtime``
(their numba implementations), so such a module needs diffc and numba; one
that calls none needs only numpy and numba.
"""

import re

from . import api
from . import compile_cache as CC
from . import jit_compile
from .export import ModuleWriter


class _JitWriter(ModuleWriter):
    def __init__(self, fn, emitted, main_name, wrt_names, single, names, form):
        super().__init__(fn, emitted, main_name, wrt_names, single, names)
        self.form = form

    def module_text(self, kinds):
        # the names the numba text binds (np added by the form, helpers as numba stubs)
        self.emitted = _Emitted(self.emitted, self.form)
        self.imports.append("import numba as _numba")
        return super().module_text(kinds)

    def define(self, name, obj):
        if name in self.form.helpers and name not in self.bound:
            self.bound[name] = obj
            self.imports.append(f"from diffc.jit_runtime import jit_helper as _jit_helper")
            self.definitions.append(f"{name} = _jit_helper({obj.__name__!r})")
            return
        super().define(name, obj)

    def header(self, kinds):
        text = super().header(kinds)
        needs = "numpy, numba and diffc (its numba helpers)" if self.form.helpers else "numpy and numba"
        return text.replace("Standalone: needs numpy only.", f"Compiled by numba (diffc export --jit): needs {needs}.")

    def generated_text(self):
        text = self.form.source
        text = re.sub(rf"^def {re.escape(self.main_name)}\(", f"def {self._generated_name()}(", text,
                      count=1, flags=re.M)
        return re.sub(r"^def ", "@_numba.njit(cache=True)\ndef ", text, flags=re.M)


class _Emitted:
    """The emitted gradient seen through its numba form (namespace, functions)."""

    def __init__(self, emitted, form):
        self.functions = emitted.functions
        self.namespace = {k: v for k, v in form.namespace.items()
                          if k in _names(form.source) or k.startswith("__")}
        self.source = form.source


def _names(text):
    return set(re.findall(r"[A-Za-z_]\w*", text))


def export_jit_source(fn, wrt=0, args=None, optimize=True):
    """Text of a module defining grad_<fn.__name__> compiled by numba (see module docstring)."""
    CC.check_function(fn)
    wrt_names, single = CC.normalize_wrt(fn, wrt)
    names = CC.param_names(fn)
    values = [1.0] * len(names) if args is None else CC.bind_arguments(fn, names, list(args), {})
    for k in (names.index(w) for w in wrt_names):
        values[k] = CC.as_float(values[k])
    kinds = CC.kinds_of(values)
    entry = CC.joint_entry(fn, wrt_names, kinds, False, optimize)
    form = jit_compile.numba_form_of(entry.emitted, entry.main.__name__, values)
    writer = _JitWriter(fn, entry.emitted, entry.main.__name__, wrt_names, single, names, form)
    return writer.module_text(kinds)
