"""Rules for calls of function values (`runtime.call_value` and the helpers its rules call).

The derivative of a call whose callee is only known at run time is computed at
run time (diffc/dynamic.py); each helper's own derivative is again such a
helper, so gradient code that calls function values is differentiable again
(second order: reverse over reverse, forward over reverse, ...).
"""

from . import adjoint, tangent
from .. import runtime


@adjoint(runtime.call_value)
def _(result, result_bar, f, args, kwargs):
    bars = runtime.vjp_call(f, args, kwargs, result_bar)
    return None, bars[0], bars[1]


@tangent(runtime.call_value)
def _(result, f, args, kwargs, args_dot, kwargs_dot):
    return runtime.jvp_call(f, args, kwargs, args_dot, kwargs_dot)


@adjoint(runtime.vjp_call)
def _(result, result_bar, f, args, kwargs, seed):
    bars = runtime.vjp_of_vjp(f, args, kwargs, seed, result_bar)
    return None, bars[0], bars[1], bars[2]


@tangent(runtime.vjp_call)
def _(result, f, args, kwargs, seed, args_dot, kwargs_dot, seed_dot):
    return runtime.jvp_of_vjp(f, args, kwargs, seed, args_dot, kwargs_dot, seed_dot)


@adjoint(runtime.jvp_call)
def _(result, result_bar, f, args, kwargs, da, dk):
    bars = runtime.vjp_of_jvp(f, args, kwargs, da, dk, result_bar)
    return None, bars[0], bars[1], bars[2], bars[3]


@tangent(runtime.jvp_call)
def _(result, f, args, kwargs, da, dk, args_dot, kwargs_dot, da_dot, dk_dot):
    return runtime.jvp_of_jvp(f, args, kwargs, da, dk, args_dot, kwargs_dot, da_dot, dk_dot)
