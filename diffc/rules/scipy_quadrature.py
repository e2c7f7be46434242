"""scipy.integrate.simpson, quad, quad_vec, dblquad, tplquad and nquad.

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
With ``weight=`` the derivative integrals are weighted the same way; the bounds' terms
carry the weight at the bound (cos, sin, cauchy), and a cos or sin weight's ``wvar`` is
differentiated (the integral of -t f sin, t f cos); the bounds of an algebraic weight and
the wvar of the others are refused when they carry a derivative (`held_constant`).
``full_output=1`` adds SciPy's extra outputs (constants).  ``quad_vec`` is the same
primitive with a vector integrand; dblquad, tplquad and nquad are written as quad inside
quad (the limits may be functions of the outer variables).

Input: nothing (imported with the SciPy rules).  Output: `integrate_simpson` registered
for simpson, `integrate_quad` for quad (its value is `integral`, a primitive with an
adjoint and a tangent rule), `integrate_quad_vec`, `integrate_dblquad`,
`integrate_tplquad` and `integrate_nquad`.
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

def _check_integrand(func, complex_func, weight=None):
    """Refuse what the rules below do not differentiate (NotDifferentiable: diffc names the line)."""
    if complex_func:
        raise NotDifferentiable("diffc: quad(..., complex_func=True) is not differentiated; integrate the real "
                                "and imaginary parts")
    if weight is not None and weight not in _WEIGHTS:
        si.quad(lambda t: 0.0, 0.0, 1.0, weight=weight)             # SciPy's own error for an unknown weight
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


# weight= of quad -> the weight function w(t, wvar) at a bound (None: the bounds are in the
# weight itself and are not differentiated, see held_constant)
_WEIGHTS = {
    "cos": lambda t, c: np.cos(c * t),
    "sin": lambda t, c: np.sin(c * t),
    "cauchy": lambda t, c: 1.0 / (t - c),
    "alg": None, "alg-loga": None, "alg-logb": None, "alg-log": None,
}


def _as_params(args):
    if args is None:
        return ()
    return tuple(args) if isinstance(args, (tuple, list)) else (args,)


def _holds_floats(p):
    return runtime_calls.holds_floats(p)


def _finite(bound):
    return bool(np.all(np.isfinite(bound)))


def _weighted(func, a, b, params, vector, epsabs, epsrel, limit, weight, wvar, extra):
    """SciPy's quad with weight= (QAWO/QAWF/QAWS/QAWC); a vector integrand one entry at a time."""
    wopts, maxp1, limlst = extra
    if not vector:
        return si.quad(func, a, b, args=params, epsabs=epsabs, epsrel=epsrel, limit=limit, weight=weight, wvar=wvar,
                       wopts=wopts, maxp1=maxp1, limlst=limlst)[:2]
    size = np.size(func(0.5 * (a + b) if _finite(a) and _finite(b) else (a if _finite(a) else b), *params))
    values = np.zeros(size)
    error = 0.0
    for k in range(size):
        entry = lambda t, *p, k=k: np.ravel(func(t, *p))[k]      # noqa: E731
        values[k], e = si.quad(entry, a, b, args=params, epsabs=epsabs, epsrel=epsrel, limit=limit, weight=weight,
                               wvar=wvar, wopts=wopts, maxp1=maxp1, limlst=limlst)[:2]
        error = max(error, e)
    return values, error


def _quad_full(func, a, b, params, vector, epsabs, epsrel, limit, points, weight=None, wvar=None,
               extra=(None, 50, 50)):
    """(value, error estimate) of the integral of func(t, *params) [times the weight] over
    [a, b]: scipy's quad, or quad_vec for a vector-valued integrand (the derivative integrals)."""
    if weight is not None:
        return _weighted(func, a, b, params, vector, epsabs, epsrel, limit, weight, wvar, extra)
    if vector:
        return si.quad_vec(func, a, b, epsabs=epsabs, epsrel=epsrel, points=points, args=params)[:2]
    return si.quad(func, a, b, args=params, epsabs=epsabs, epsrel=epsrel, limit=limit, points=points)[:2]


def _quad_extras(func, a, b, params, epsabs, epsrel, limit, points, weight, wvar, extra):
    """What quad(..., full_output=1) returns after the value and the error (constants)."""
    wopts, maxp1, limlst = extra
    return tuple(si.quad(func, a, b, args=params, full_output=1, epsabs=epsabs, epsrel=epsrel, limit=limit,
                         points=points, weight=weight, wvar=wvar, wopts=wopts, maxp1=maxp1, limlst=limlst)[2:])


def _quad_vec_full(func, a, b, params, options):
    """SciPy's quad_vec (called here, out of the implementation's body, so that it is SciPy's)."""
    return si.quad_vec(func, a, b, args=params, **options)


nondiff(_check_integrand, _finite, _quad_full, _holds_floats, _quad_extras, _quad_vec_full)
effects.declare(_check_integrand, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))   # (a check: never dropped)


def held_constant(what, value):
    """value, refused when it carries a derivative (what: the argument, for the message)."""
    return value


@adjoint(held_constant)
def _(result, result_bar, what, value):
    return None, _refused(what)


@tangent(held_constant)
def _(result, what, value, what_dot, value_dot):
    return _refused_dot(what, value_dot)


def _refused(what):
    raise NotDifferentiable(f"diffc: quad is not differentiated with respect to {what}; keep it a constant")


def _refused_dot(what, value_dot):
    if value_dot is None or np.all(np.asarray(value_dot) == 0):
        return 0.0
    return _refused(what)


def integral_of(full, func, a, b, params, vector, epsabs, epsrel, limit, points, weight=None, wvar=None,
                extra=(None, 50, 50)):
    """The value of the integral whose (value, error) `_quad_full` computed: the primitive
    whose rules differentiate it in a, b, params and (cos and sin weights) wvar."""
    return full[0]


def integral(func, a, b, params, vector, epsabs, epsrel, limit, points, weight=None, wvar=None, extra=(None, 50, 50)):
    """The integral of func(t, *params) [times the weight] over [a, b] (a primitive diffc
    differentiates)."""
    return integral_of(_quad_full(func, a, b, params, vector, epsabs, epsrel, limit, points, weight, wvar, extra),
                       func, a, b, params, vector, epsabs, epsrel, limit, points, weight, wvar, extra)


def _at(func, t, params):
    """func(t, *params), a call diffc differentiates at run time."""
    return runtime_calls.call_value(func, [t] + list(params), {})


def _weight_at(weight, wvar, t):
    """The weight at the bound t (1 without a weight)."""
    if weight is None:
        return 1.0
    return _WEIGHTS[weight](t, wvar)


def _times_t(t, func, params, sign):
    """sign * t * func(t, *params): the integrand of a trigonometric weight's wvar derivative."""
    return sign * t * _at(func, t, params)


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


def _wvar_slope(func, a, b, params, vector, epsabs, epsrel, limit, points, weight, wvar, extra):
    """d/dwvar of the integral with a cos or sin weight: the integral of -t f sin or t f cos."""
    if weight == "cos":
        return integral(_times_t, a, b, (func, params, -1.0), vector, epsabs, epsrel, limit, points, "sin", wvar,
                        extra)
    return integral(_times_t, a, b, (func, params, 1.0), vector, epsabs, epsrel, limit, points, "cos", wvar, extra)


def _integral_bar(result, result_bar, full, func, a, b, params, vector, epsabs, epsrel, limit, points, weight=None,
                  wvar=None, extra=(None, 50, 50)):
    g = result_bar
    # (NaN: no derivative for the bounds of an algebraic weight; held_constant refuses a
    # differentiated bound when this reaches it, and nothing reaches a constant one)
    a_bar = np.nan
    b_bar = np.nan
    wvar_bar = None if weight is None else np.nan     # (NaN: refused by held_constant, as above)
    if not _finite(a):
        a_bar = 0.0
    elif weight is None or _WEIGHTS[weight] is not None:
        a_bar = -np.sum(g * _at(func, a, params) * _weight_at(weight, wvar, a))
    if not _finite(b):
        b_bar = 0.0
    elif weight is None or _WEIGHTS[weight] is not None:
        b_bar = np.sum(g * _at(func, b, params) * _weight_at(weight, wvar, b))
    if weight == "cos" or weight == "sin":
        wvar_bar = np.sum(g * _wvar_slope(func, a, b, params, vector, epsabs, epsrel, limit, points, weight, wvar,
                                          extra))
    params_bar = unflat_bars(flat_bars(None, params), params)
    if _holds_floats(params):
        inner = integral(_vjp_integrand, a, b, (func, params, g), True, epsabs, epsrel, limit, points, weight, wvar,
                         extra)
        params_bar = unflat_bars(inner, params)
    return None, None, a_bar, b_bar, params_bar, None, None, None, None, None, None, wvar_bar, None


def _integral_dot(result, full, func, a, b, params, vector, epsabs, epsrel, limit, points, weight=None, wvar=None,
                  extra=(None, 50, 50), full_dot=None, func_dot=None, a_dot=0.0, b_dot=0.0, params_dot=0.0,
                  vector_dot=None, epsabs_dot=None, epsrel_dot=None, limit_dot=None, points_dot=None, weight_dot=None,
                  wvar_dot=None, extra_dot=None):
    out = 0.0 * result
    if _finite(a) and (weight is None or _WEIGHTS[weight] is not None):
        out = out - a_dot * _at(func, a, params) * _weight_at(weight, wvar, a)
    if _finite(b) and (weight is None or _WEIGHTS[weight] is not None):
        out = out + b_dot * _at(func, b, params) * _weight_at(weight, wvar, b)
    if (weight == "cos" or weight == "sin") and wvar_dot is not None:
        out = out + wvar_dot * _wvar_slope(func, a, b, params, vector, epsabs, epsrel, limit, points, weight, wvar,
                                           extra)
    if _holds_floats(params):
        out = out + integral(_jvp_integrand, a, b, (func, params, _param_dots(params_dot, params)), vector, epsabs,
                             epsrel, limit, points, weight, wvar, extra)
    return out


adjoint(integral_of)(_integral_bar)
tangent(integral_of)(_integral_dot)


def _algebraic(weight):
    """Whether the bounds are inside the weight (algebraic weights): not differentiated."""
    return weight is not None and _WEIGHTS[weight] is None


def _trigonometric(weight):
    return weight == "cos" or weight == "sin"


nondiff(_algebraic, _trigonometric)


@implemented_by(si.quad)
def integrate_quad(func, a, b, args=(), full_output=0, epsabs=1.49e-08, epsrel=1.49e-08, limit=50, points=None,
                   weight=None, wvar=None, wopts=None, maxp1=50, limlst=50, complex_func=False):
    """scipy's quad: (value, error estimate[, infodict, message, explain]); the value
    differentiated in a, b, args and the wvar of a cos or sin weight (the rest are constants)."""
    func = _check_integrand(func, complex_func, weight)     # (used: a check the optimizer keeps)
    params = _as_params(args)
    extra = (wopts, maxp1, limlst)
    if _algebraic(weight):
        # (written here, not in a helper: each call site's own differentiated arguments decide)
        a = held_constant("a bound of an algebraic weight (weight='alg...')", a)
        b = held_constant("a bound of an algebraic weight (weight='alg...')", b)
    if weight is not None and not _trigonometric(weight):
        wvar = held_constant("wvar of weight='alg...' or 'cauchy'", wvar)
    full = _quad_full(func, a, b, params, False, epsabs, epsrel, limit, points, weight, wvar, extra)
    value = integral_of(full, func, a, b, params, False, epsabs, epsrel, limit, points, weight, wvar, extra)
    if full_output:
        return (value, full[1]) + _quad_extras(func, a, b, params, epsabs, epsrel, limit, points, weight, wvar, extra)
    return value, full[1]


@implemented_by(si.quad_vec)
def integrate_quad_vec(f, a, b, epsabs=1e-200, epsrel=1e-08, norm="2", cache_size=100e6, limit=10000, workers=1,
                       points=None, quadrature=None, full_output=False, *, args=()):
    """scipy's quad_vec: (value, error estimate[, info]); the value differentiated in a, b and args."""
    func = _check_integrand(f, False)
    params = _as_params(args)
    found = _quad_vec_full(func, a, b, params, dict(epsabs=epsabs, epsrel=epsrel, norm=norm, cache_size=cache_size,
                                                    limit=limit, workers=workers, points=points,
                                                    quadrature=quadrature, full_output=full_output))
    value = integral_of(found, func, a, b, params, True, epsabs, epsrel, limit, points)
    if full_output:
        return value, found[1], found[2]
    return value, found[1]


for _helper in (_as_params, integral, _at, _vjp_integrand, _jvp_integrand, _param_dots, _integral_bar,
                _integral_dot, _weight_at, _times_t, _wvar_slope):
    _helper.__diffc_transparent__ = True

from . import CALLBACK_ARGS  # noqa: E402
CALLBACK_ARGS[si.quad] = (0, "args")
CALLBACK_ARGS[si.quad_vec] = (0, "args")


# ------------------------------------------------------------------ dblquad, tplquad, nquad
# Written as quad inside quad (as SciPy computes them): each level's rules differentiate the
# level below as the integrand's derivative, so the limits (numbers or functions of the outer
# variables) and args are differentiated by the rules of quad.

def _limit(bound, outer):
    """A limit: a number, or a function of the outer variables."""
    if callable(bound):
        return bound(*outer)
    return bound


def _range_of(ranges, depth, outer):
    """nquad's range of variable `depth` given the outer variables' values (and args); a
    ("limits", low, high, n) entry (tplquad's) gives low and high, numbers or functions of
    the n (1 or 2) outer variables nearest, outermost first (SciPy's gfun(x), qfun(x, y))."""
    r = ranges[depth]
    if isinstance(r, tuple) and len(r) == 4 and r[0] == "limits":
        first = (outer[0],) if r[3] == 1 else (outer[1], outer[0])
        return [_limit(r[1], first), _limit(r[2], first)]
    if callable(r):
        return r(*outer)
    return r


def _dbl_inner(x, func, gfun, hfun, epsabs, epsrel, params):
    return si.quad(func, _limit(gfun, (x,)), _limit(hfun, (x,)), args=(x,) + params, epsabs=epsabs, epsrel=epsrel)[0]


@implemented_by(si.dblquad)
def integrate_dblquad(func, a, b, gfun, hfun, args=(), epsabs=1.49e-08, epsrel=1.49e-08):
    """scipy's dblquad: the integral over x in [a, b] of func(y, x, *args) over y in [gfun(x), hfun(x)]."""
    params = _as_params(args)
    return si.quad(_dbl_inner, a, b, args=(func, gfun, hfun, epsabs, epsrel, params), epsabs=epsabs, epsrel=epsrel)


def _nquad_level(depth, func, ranges, opts, rest):
    """The integral over variables 0..depth of func, given the tuple rest of the variables
    above depth and args."""
    low, high = _range_of(ranges, depth, rest)
    if depth == 0:
        return si.quad(func, low, high, args=rest, **opts[0])[0]
    return si.quad(_nquad_level_at, low, high, args=(depth - 1, func, ranges, opts, rest), **opts[depth])[0]


def _nquad_level_at(x, depth, func, ranges, opts, rest):
    return _nquad_level(depth, func, ranges, opts, (x,) + rest)


def _nquad_options(opts, n):
    """nquad's opts (None, a dict, or one per level) as one dict per level (epsabs, epsrel, limit, points)."""
    if opts is None:
        return [{} for _ in range(n)]
    if isinstance(opts, dict):
        return [opts for _ in range(n)]
    return [o if isinstance(o, dict) else {} for o in opts]


nondiff(_nquad_options)


@implemented_by(si.nquad)
def integrate_nquad(func, ranges, args=None, opts=None, full_output=False):
    """scipy's nquad: the integral of func(x0, ..., xn-1, *args) over the ranges (numbers, or
    functions of the outer variables and args); x0 innermost."""
    if full_output:
        raise NotDifferentiable("diffc: nquad(..., full_output=True) is not differentiated; leave it out")
    params = _as_params(args)
    n = len(ranges)
    value = _nquad_level(n - 1, func, ranges, _nquad_options(opts, n), params)
    return value, 0.0


@implemented_by(si.tplquad)
def integrate_tplquad(func, a, b, gfun, hfun, qfun, rfun, args=(), epsabs=1.49e-08, epsrel=1.49e-08):
    """scipy's tplquad: the integral over x in [a, b], y in [gfun(x), hfun(x)], z in
    [qfun(x, y), rfun(x, y)] of func(z, y, x, *args), as nquad computes it."""
    params = _as_params(args)
    ranges = [("limits", qfun, rfun, 2), ("limits", gfun, hfun, 1), [a, b]]
    options = [{"epsabs": epsabs, "epsrel": epsrel} for _ in range(3)]
    return _nquad_level(2, func, ranges, options, params), 0.0


for _helper in (_limit, _range_of, _dbl_inner, _nquad_level, _nquad_level_at):
    _helper.__diffc_transparent__ = True
