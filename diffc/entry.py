"""entry: the entry points spanning both modes: source() and the @differentiate decorator.

They build on the reverse-mode API (api.py) and on forward mode and higher
order (forward_api.py), which never import this module.
"""

import functools
import types

from . import forward_api
from .api import grad, value_and_grad, vjp
from .compile_cache import check_function, joint_entry, kinds_of, normalize_wrt, param_names
from .analysis import kinds as K
from .errors import user_facing
from .pipeline import ensure_rules


@user_facing
def source(fn, mode="reverse", wrt=0, args=None, *, optimize=True):
    """The generated source, exactly what runs.

    Without ``args`` the parameters are taken to be Python floats; pass example
    arguments to see the code specialized for them (arrays, lists...)."""
    check_function(fn)
    if mode != "reverse":
        return forward_api.forward_source(fn, wrt, args, optimize=optimize)
    wrt_names, _ = normalize_wrt(fn, wrt)
    names = param_names(fn)
    if args is None:
        kinds = tuple(K.SCALAR for _ in names)
    else:
        values = list(args) + [None] * 0
        kinds = kinds_of(values)
    entry = joint_entry(fn, wrt_names, kinds, False, optimize)
    return entry.emitted.source


@user_facing
def stages(fn, wrt=0, args=None, optimize=True):
    """[(stage name, gast node)] after each pass, for debugging (diffc show --stage)."""
    wrt_names, _ = normalize_wrt(fn, wrt)
    names = param_names(fn)
    kinds = tuple(K.SCALAR for _ in names) if args is None else kinds_of(list(args))
    collected = []
    ensure_rules()
    joint_entry(fn, wrt_names, kinds, False, optimize, stages=collected)
    return collected



class differentiate:
    """Decorator: the function, unchanged, plus .grad/.value_and_grad/.vjp/.source."""

    def __new__(cls, fn=None, *, wrt=0, checkpoint=None, jit=False, cache=False):
        if fn is None:
            return lambda f: cls(f, wrt=wrt, checkpoint=checkpoint, jit=jit, cache=cache)
        return super().__new__(cls)

    def __init__(self, fn=None, *, wrt=0, checkpoint=None, jit=False, cache=False):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.wrt = wrt
        self.checkpoint = checkpoint
        self.jit = jit              # grad, value_and_grad, jvp and hessian compile with numba
        self.cache = cache
        self._grad = None
        self._value_and_grad = None

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def __get__(self, obj, objtype=None):
        return self if obj is None else types.MethodType(self, obj)

    def grad(self, *args, **kwargs):
        if self._grad is None:
            self._grad = grad(self.fn, wrt=self.wrt, checkpoint=self.checkpoint, jit=self.jit, cache=self.cache)
        return self._grad(*args, **kwargs)

    def value_and_grad(self, *args, **kwargs):
        if self._value_and_grad is None:
            self._value_and_grad = value_and_grad(self.fn, wrt=self.wrt, checkpoint=self.checkpoint,
                                                  jit=self.jit, cache=self.cache)
        return self._value_and_grad(*args, **kwargs)

    def vjp(self, *args, **kwargs):
        if self.checkpoint is not None and "checkpoint" not in kwargs:
            kwargs["checkpoint"] = self.checkpoint
        return vjp(self.fn, *args, **kwargs)

    def source(self, mode="reverse", args=None):
        return source(self.fn, mode=mode, wrt=self.wrt, args=args)

    def jvp(self, primals, tangents):
        if self.jit:
            return forward_api.jvp(self.fn, primals, tangents, jit=self.jit, cache=self.cache)
        return forward_api.jvp(self.fn, primals, tangents)

    def jacobian(self, *args, mode="reverse"):
        return forward_api.jacobian(self.fn, wrt=self.wrt, mode=mode)(*args)

    def hessian(self, *args):
        if self.jit:
            return forward_api.hessian(self.fn, wrt=self.wrt, jit=self.jit, cache=self.cache)(*args)
        return forward_api.hessian(self.fn, wrt=self.wrt)(*args)
