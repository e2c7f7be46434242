"""scipy.integrate.simpson and scipy.integrate.quad.

``simpson(y, x=None, dx=1.0, axis=-1)`` is written out in NumPy (`integrate_simpson`,
SciPy's composite rule, with Cartwright's correction of the last interval for an even
number of samples): diffc differentiates it in y and in the sample points x.

``quad(func, a, b, args=())`` integrates the user's function.  Its derivative is that
of the integral, not of the quadrature's steps (as odeint's, rules/scipy_integrate.py):
with respect to the bounds by the fundamental theorem of calculus (``f(b)``, ``-f(a)``),
with respect to the parameters passed through ``args`` by differentiating under the
integral sign: another integral, of the integrand's vector-Jacobian product (reverse
mode) or of its Jacobian-vector product (forward mode), computed by `integral` itself
with the same tolerances, so a second derivative applies these rules again (diffc
takes the integrand's second derivatives).  The value and error estimate are SciPy's.

Input: nothing (imported with the SciPy rules).  Output: `integrate_simpson` registered
for simpson, `integrate_quad` for quad (its value is `integral`, a primitive with an
adjoint and a tangent rule).
"""

import numpy as np
import scipy.integrate as si

from . import adjoint, implemented_by, nondiff, tangent
from .. import effects, runtime_calls
from .scipy_integrate import flat_bars, unflat_bars
from ..errors import NotDifferentiable


# ------------------------------------------------------------------ simpson

def _simpson_even(y, h0, h1):
    """Composite Simpson over y[..., 0::2] pairs of intervals of widths h0, h1 (arrays of
    the pairs, or floats for even spacing)."""
    hsum = h0 + h1
    return np.sum(hsum / 6.0 * (y[..., 0:-2:2] * (2.0 - h1 / h0) + y[..., 1:-1:2] * (hsum * hsum / (h0 * h1))
                                + y[..., 2::2] * (2.0 - h0 / h1)), axis=-1)


_simpson_even.__diffc_transparent__ = True


@implemented_by(si.simpson)
def integrate_simpson(y, x=None, *, dx=1.0, axis=-1):
    """SciPy's composite Simpson rule along axis (samples at x, or spaced dx)."""
    y = np.moveaxis(np.asarray(y) + 0.0, axis, -1)
    n = y.shape[-1]
    if x is None:
        steps = dx + np.zeros(max(n - 1, 0))
    else:
        x = np.asarray(x)
        steps = np.diff(np.moveaxis(x, axis, -1) if x.ndim > 1 else x, axis=-1)
    if n % 2 == 1:
        return _simpson_even(y, steps[..., 0::2], steps[..., 1::2])
    if n == 2:
        return 0.5 * steps[..., -1] * (y[..., -1] + y[..., -2])
    total = _simpson_even(y[..., :-1], steps[..., 0:-1:2], steps[..., 1:-1:2])
    h0 = steps[..., -2]
    h1 = steps[..., -1]
    alpha = (2.0 * h1 * h1 + 3.0 * h0 * h1) / (6.0 * (h1 + h0))
    beta = (h1 * h1 + 3.0 * h0 * h1) / (6.0 * h0)
    eta = h1 * h1 * h1 / (6.0 * h0 * (h0 + h1))
    return total + alpha * y[..., -1] + beta * y[..., -2] - eta * y[..., -3]


# ------------------------------------------------------------------ quad

def _check_integrand(func, full_output, weight, complex_func):
    """Refuse what the rules below do not differentiate (NotDifferentiable: diffc names the line)."""
    if full_output or weight is not None or complex_func:
        raise NotDifferentiable("diffc: quad(..., full_output=, weight=, complex_func=) is not differentiated; "
                                "write the weight into the integrand")
    if isinstance(func, runtime_calls.Closure) and runtime_calls.holds_floats(func.captured()):
        raise NotDifferentiable("diffc: the function given to quad holds values it read from an enclosing "
                                "function, which diffc passes through args= itself only for a function defined "
                                "in the differentiated one and a call with no args=; pass them through args=(...)")
    for cell in getattr(func, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, (float, np.floating, np.ndarray)):
            raise NotDifferentiable("diffc: the function given to quad reads a float or array from an "
                                    "enclosing function; pass it through args=(...) so its derivative is computed")
    return func


def _as_params(args):
    if args is None:
        return ()
    return tuple(args) if isinstance(args, (tuple, list)) else (args,)


def _holds_floats(p):
    return runtime_calls.holds_floats(p)


def _finite(bound):
    return bool(np.all(np.isfinite(bound)))


def _quad_full(func, a, b, params, vector, epsabs, epsrel, limit, points):
    """(value, error estimate) of the integral of func(t, *params) over [a, b]: scipy's quad,
    or quad_vec for a vector-valued integrand (the derivative integrals)."""
    if vector:
        return si.quad_vec(func, a, b, epsabs=epsabs, epsrel=epsrel, points=points, args=params)[:2]
    return si.quad(func, a, b, args=params, epsabs=epsabs, epsrel=epsrel, limit=limit, points=points)[:2]


nondiff(_check_integrand, _finite, _quad_full, _holds_floats)
effects.declare(_check_integrand, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))   # (a check: never dropped)


def integral_of(full, func, a, b, params, vector, epsabs, epsrel, limit, points):
    """The value of the integral whose (value, error) `_quad_full` computed: the primitive
    whose rules differentiate it in a, b and params."""
    return full[0]


def integral(func, a, b, params, vector, epsabs, epsrel, limit, points):
    """The integral of func(t, *params) over [a, b] (a primitive diffc differentiates)."""
    return integral_of(_quad_full(func, a, b, params, vector, epsabs, epsrel, limit, points), func, a, b, params,
                       vector, epsabs, epsrel, limit, points)


def _at(func, t, params):
    """func(t, *params), a call diffc differentiates at run time."""
    return runtime_calls.call_value(func, [t] + list(params), {})


def _vjp_integrand(t, func, params, g):
    """The adjoint of params of <g, func(t, *params)>, as one flat vector."""
    call = [t] + list(params)
    raw = runtime_calls.call_value(func, call, {})
    bars = runtime_calls.vjp_call(func, call, {}, np.reshape(g * np.ones(np.shape(raw)), np.shape(raw)))
    return flat_bars(list(bars[0])[1:], params)


def _jvp_integrand(t, func, params, param_dots):
    """The tangent of func(t, *params) along param_dots."""
    call = [t] + list(params)
    return runtime_calls.jvp_call(func, call, {}, [0.0] + list(param_dots), {}, 0.0)


def _param_dots(params_dot, params):
    dots = params_dot if isinstance(params_dot, (list, tuple)) else [None] * len(params)
    return [0.0 if dots[k] is None else dots[k] for k in range(len(params))]


def _integral_bar(result, result_bar, full, func, a, b, params, vector, epsabs, epsrel, limit, points):
    g = result_bar
    a_bar = 0.0
    b_bar = 0.0
    if _finite(a):
        a_bar = -np.sum(g * _at(func, a, params))
    if _finite(b):
        b_bar = np.sum(g * _at(func, b, params))
    params_bar = unflat_bars(flat_bars(None, params), params)
    if _holds_floats(params):
        inner = integral(_vjp_integrand, a, b, (func, params, g), True, epsabs, epsrel, limit, points)
        params_bar = unflat_bars(inner, params)
    return None, None, a_bar, b_bar, params_bar, None, None, None, None, None


def _integral_dot(result, full, func, a, b, params, vector, epsabs, epsrel, limit, points, full_dot=None,
                  func_dot=None, a_dot=0.0, b_dot=0.0, params_dot=0.0, vector_dot=None, epsabs_dot=None,
                  epsrel_dot=None, limit_dot=None, points_dot=None):
    out = 0.0 * result
    if _finite(a):
        out = out - a_dot * _at(func, a, params)
    if _finite(b):
        out = out + b_dot * _at(func, b, params)
    if _holds_floats(params):
        out = out + integral(_jvp_integrand, a, b, (func, params, _param_dots(params_dot, params)), vector, epsabs,
                             epsrel, limit, points)
    return out


adjoint(integral_of)(_integral_bar)
tangent(integral_of)(_integral_dot)


@implemented_by(si.quad)
def integrate_quad(func, a, b, args=(), full_output=0, epsabs=1.49e-08, epsrel=1.49e-08, limit=50, points=None,
                   weight=None, wvar=None, wopts=None, maxp1=50, limlst=50, complex_func=False):
    """scipy's quad: (value, error estimate); the value differentiated in a, b and args."""
    func = _check_integrand(func, full_output, weight, complex_func)     # (used: a check the optimizer keeps)
    params = _as_params(args)
    full = _quad_full(func, a, b, params, False, epsabs, epsrel, limit, points)
    return integral_of(full, func, a, b, params, False, epsabs, epsrel, limit, points), full[1]


for _helper in (_as_params, integral, _at, _vjp_integrand, _jvp_integrand, _param_dots, _integral_bar,
                _integral_dot):
    _helper.__diffc_transparent__ = True

from . import CALLBACK_ARGS  # noqa: E402
CALLBACK_ARGS[si.quad] = (0, "args")
