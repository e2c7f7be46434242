"""scipy.integrate.odeint and solve_ivp: derivatives by the adjoint ODE and by forward
sensitivities, written so that diffc can differentiate them again.

Input: nothing (imported with the SciPy rules).  Output: adjoint and tangent rules
for ``odeint`` and for ``solve_ivp_y`` (what ``solve_ivp(...).y`` is compiled to,
transform/frozen.py), whose helpers are transparent: diffc reads their bodies
for second and higher derivatives.

Reverse mode (``_odeint_bar``, ``_solve_ivp_y_bar``) integrates, backwards
between consecutive output times, the augmented system  y' = f(y, t),
a' = -a^T df/dy,  p' = -a^T df/dp  (as autograd's and JAX's odeint do), so it
gives the gradients with respect to the initial state, every parameter passed
through ``args`` and every output time; it does not differentiate the solver's
steps.  Forward mode (``_odeint_dot``, ``_solve_ivp_y_dot``) integrates the
sensitivity equation v' = df/dy v + df/dp p_dot.  Both solve with the call's
method and ``rtol``/``atol``: the derivative is as accurate as the solution.

Everything the rules do is ordinary differentiable Python: the augmented
right-hand sides (``_adjoint_rhs``, ``_tangent_rhs``) are module functions that
get the user's function and parameters through ``args`` and take its
derivatives with `runtime_calls.vjp_call` / `runtime_calls.jvp_call` (whose own derivatives
are again such calls), and they are integrated by ``odeint`` / ``solve_ivp_y``
themselves.  So a second derivative (``hessian``, ``grad(grad(f))``, ``jvp`` of
a gradient...) applies these same rules to the augmented systems: the ODE of
the adjoint of the adjoint, with second derivatives of the user's right-hand
side taken by diffc.  Higher derivatives cost one more level of augmentation.

``solve_ivp`` without ``t_eval`` returns the solution at the solver's own
times.  Those interior times are constants (held fixed, as a step-size choice
is); the first is ``t_span[0]`` and the last ``t_span[1]``, so ``sol.y[:, -1]``
is differentiated with respect to both ends of ``t_span``.

``events``: outputs at fixed times do not depend on where an event is found, so with
``t_eval`` the rules differentiate the outputs the solve reached (a terminal event
stops it early: later times of t_eval have no output and a zero derivative).  Without
``t_eval`` a solve stopped by a terminal event ends at the event's time, which moves with
y0, args and t_span[0]: the rules below differentiate it (and ``sol.t_events``,
``sol.y_events``) by the implicit function theorem, to first order.  ``vectorized=True``: the augmented
systems call the right-hand side with y as a column, as solve_ivp does.

A right-hand side that closes over floats or arrays (which could be
differentiated values diffc cannot see) is refused: pass them through ``args``
(diffc does this itself for a function defined inside the differentiated one).
"""

import types

import numpy as np
from scipy.integrate import odeint, solve_ivp

from . import adjoint, nondiff, tangent
from .. import effects, runtime, runtime_calls
from ..errors import NotDifferentiable
from ..runtime import ListBar


def _check_rhs(func):
    if isinstance(func, runtime_calls.Closure) and runtime_calls.holds_floats(func.captured()):
        # (its captured values' derivatives would have nowhere to go)
        raise NotDifferentiable("diffc: the right-hand side given to odeint/solve_ivp reads variables of the "
                                "enclosing function, which diffc passes through args=(...) itself only when "
                                "the call has no args=, events= or **options; pass those variables through "
                                "args=(...) (event functions get them too)")
    if _closes_over_values(func):
        raise NotDifferentiable("diffc: the right-hand side given to odeint reads a float or array "
                                "from an enclosing function; pass it through args=(...) so its "
                                "derivative is computed")
    owner = func.__self__ if isinstance(func, types.MethodType) else func if runtime_calls.is_user_object(func) \
        else None
    if owner is not None and runtime_calls.holds_floats(list(getattr(owner, "__dict__", {}).values())):
        # (model.rhs reading self.k: the derivative through self.k would be lost)
        raise NotDifferentiable("diffc: the right-hand side given to odeint/solve_ivp is a method or callable "
                                f"object whose {type(owner).__name__} object holds floats or arrays; diffc "
                                "differentiates what reaches the right-hand side through y and args=(...): "
                                "pass the parameters through args=(...) (def rhs(y, t, k): ...)")
    return func


def _as_args(args):
    if args is None:
        return ()
    return tuple(args) if isinstance(args, (tuple, list)) else (args,)


def _float_arg(a):
    return isinstance(a, (float, np.floating, np.ndarray)) and not isinstance(a, bool) \
        and np.asarray(a).dtype.kind == "f"


def _size(a):
    """How many float entries a parameter (a float, an array, or a tuple/list of them) has."""
    if isinstance(a, (tuple, list)):
        return sum(_size(x) for x in a)
    return np.size(a) if _float_arg(a) else 0


def _is_zero(x):
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0)


def _flat_one(bar, a):
    if isinstance(a, (tuple, list)):
        bars = bar if isinstance(bar, (tuple, list)) else [None] * len(a)
        parts = [_flat_one(b, x) for b, x in zip(bars, a)]
        return np.concatenate(parts) if parts else np.zeros(0)
    if not _float_arg(a):
        return np.zeros(0)
    if bar is None or (np.ndim(bar) == 0 and not isinstance(bar, np.ndarray) and bar == 0):
        return np.zeros(np.size(a))
    return np.ravel(np.broadcast_to(np.asarray(bar, dtype=float), np.shape(a)))


def flat_bars(bars, args):
    """The adjoints (or tangents) of the parameters args, nested like them (None or 0.0 for
    none), as one vector of `_size(args)` entries.  Linear in bars."""
    if not isinstance(bars, (tuple, list)):
        bars = [None] * len(args)
    parts = [_flat_one(b, a) for a, b in zip(args, bars)]
    return np.concatenate(parts) if parts else np.zeros(0)


def _unflat_one(vec, a, k):
    if isinstance(a, (tuple, list)):
        out = []
        for x in a:
            part, k = _unflat_one(vec, x, k)
            out.append(part)
        return ListBar(out), k
    if not _float_arg(a):
        return 0.0, k
    size = np.size(a)
    piece = vec[k:k + size]
    return (float(piece[0]) if np.ndim(a) == 0 else piece.reshape(np.shape(a))), k + size


def unflat_bars(vec, args):
    """The vector of `flat_bars` back as one entry per parameter (a ListBar; 0.0 for a
    parameter that holds no floats).  Linear in vec."""
    vec = np.asarray(vec, dtype=float)
    out, k = [], 0
    for a in args:
        part, k = _unflat_one(vec, a, k)
        out.append(part)
    return ListBar(out)


def _param_dot(d, p):
    """The tangent d of one parameter p, with p's structure (zeros where d is none: the
    augmented system's state and its adjoint then have the parameters' sizes)."""
    if isinstance(p, (tuple, list)):
        parts = d if isinstance(d, (tuple, list)) else [None] * len(p)
        return tuple(_param_dot(parts[k], p[k]) for k in range(len(p)))
    if _is_zero(d):
        return np.zeros(np.shape(p)) if isinstance(p, np.ndarray) else 0.0
    return d


def _param_dots(args_dot, params):
    """The tangents of the parameters, one per parameter."""
    dots = args_dot if isinstance(args_dot, (list, tuple)) else [None] * len(params)
    return tuple(_param_dot(dots[k], params[k]) for k in range(len(params)))


def dot_like(d, like):
    """The tangent d (0.0 for none) as an array shaped like `like`."""
    if _is_zero(d):
        return np.zeros(np.shape(like))
    return d * np.ones(np.shape(like))


def dense(v, n):
    """v as a float vector of n entries (zeros for the zero tangent/adjoint)."""
    if _is_zero(v):
        return np.zeros(n)
    return np.ravel(v) * np.ones(n)


# flat_bars and unflat_bars are linear maps and each other's transposes; the parameters
# themselves only give shapes.
@adjoint(flat_bars)
def _(result, result_bar, bars, args):
    return unflat_bars(result_bar, args), None


@tangent(flat_bars)
def _(result, bars, args, bars_dot, args_dot):
    return flat_bars(bars_dot, args)


@adjoint(unflat_bars)
def _(result, result_bar, vec, args):
    return flat_bars(result_bar, args), None


@tangent(unflat_bars)
def _(result, vec, args, vec_dot, args_dot):
    return unflat_bars(vec_dot, args)


@adjoint(dense)
def _(result, result_bar, v, n):
    return np.reshape(result_bar, np.shape(v)) if np.ndim(v) else np.sum(result_bar), None


@tangent(dense)
def _(result, v, n, v_dot, n_dot):
    return dense(v_dot, n)


nondiff(_check_rhs, _size, _is_zero, _float_arg)
effects.declare(_check_rhs, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))   # (a check: never dropped)


# ------------------------------------------------------------------ augmented systems

def rhs_flat(func, tfirst, y, s, params):
    """The user's right-hand side at (y, s) as a flat float vector."""
    return np.ravel(np.asarray(func(*_call_args(tfirst, y, s, params)), dtype=float))


def _call_args(tfirst, y, s, params):
    """The arguments of the user's right-hand side, in its order.  tfirst is True (t, y),
    False (y, t) or "column": (t, y) with y a column, for solve_ivp(..., vectorized=True),
    whose right-hand side is called with y of shape (n, k) as solve_ivp itself does."""
    if tfirst == "column":
        return [s, np.reshape(y, (-1, 1))] + list(params)
    if tfirst:
        return [s, y] + list(params)
    return [y, s] + list(params)


def _adjoint_rhs(state, s, func, tfirst, n, params):
    """(y, a, p)' = (f, -a^T df/dy, -a^T df/dp) for state = (y, a, p) (odeint's order)."""
    y = state[:n]
    a = state[n:2 * n]
    call = _call_args(tfirst, y, s, params)
    raw = runtime_calls.call_value(func, call, {})
    bars = runtime_calls.vjp_call(func, call, {}, np.reshape(a, np.shape(raw)))
    arg_bars = bars[0]
    y_bar = dense(arg_bars[1] if tfirst else arg_bars[0], n)
    p_bar = flat_bars(arg_bars[2:], params)
    return np.concatenate([np.ravel(np.asarray(raw, dtype=float)), -y_bar, -p_bar])


def _adjoint_rhs_tfirst(s, state, func, tfirst, n, params):
    return _adjoint_rhs(state, s, func, tfirst, n, params)


def _tangent_rhs(state, s, func, tfirst, n, params, param_dots):
    """(y, v)' = (f, df/dy v + df/dp p_dot) for state = (y, v) (odeint's order)."""
    y = state[:n]
    v = state[n:]
    call = _call_args(tfirst, y, s, params)
    raw = runtime_calls.call_value(func, call, {})
    out_dot = runtime_calls.jvp_call(func, call, {}, _call_args(tfirst, v, 0.0, param_dots), {}, 0.0)
    return np.concatenate([np.ravel(np.asarray(raw, dtype=float)), dense(out_dot, n)])


def _tangent_rhs_tfirst(s, state, func, tfirst, n, params, param_dots):
    return _tangent_rhs(state, s, func, tfirst, n, params, param_dots)


def _integrate_step(backward, state, t_from, t_to, extra, solver, rtol, atol, hmax, mxstep, max_step):
    """The state at t_to of the augmented system (adjoint if backward, else tangent) from
    state at t_from, with odeint (solver "odeint") or solve_ivp's method solver."""
    if solver == "odeint":
        rhs = _adjoint_rhs if backward else _tangent_rhs
        path = odeint(rhs, state, np.array([t_from, t_to]), args=extra, rtol=rtol, atol=atol, hmax=hmax,
                      mxstep=mxstep)
        return path[-1]
    rhs = _adjoint_rhs_tfirst if backward else _tangent_rhs_tfirst
    path = solve_ivp_y(rhs, (t_from, t_to), state, method=solver, t_eval=np.array([t_to]), args=extra,
                       rtol=rtol, atol=atol, max_step=max_step)
    return path[:, -1]


def _integrate_grid(state, grid, extra, solver, rtol, atol, hmax, mxstep, max_step):
    """The tangent system's states at every time of grid (one row each)."""
    if solver == "odeint":
        return odeint(_tangent_rhs, state, grid, args=extra, rtol=rtol, atol=atol, hmax=hmax, mxstep=mxstep)
    path = solve_ivp_y(_tangent_rhs_tfirst, (grid[0], grid[-1]), state, method=solver, t_eval=grid,
                       args=extra, rtol=rtol, atol=atol, max_step=max_step)
    return path.T


def _adjoint_sweep(func, tfirst, ys, grid, g, params, solver, rtol, atol, hmax, mxstep, max_step):
    """(a(t0), p_bar, t_bar) of sum_i <g_i, y(t_i)> for the trajectory ys (one row per
    grid time) of y' = f(y, t, *params), by the adjoint ODE integrated backwards between
    consecutive grid times."""
    n = np.shape(ys)[1]
    count = np.shape(ys)[0]
    a = np.zeros(n)
    p_bar = np.zeros(_size(params))
    t_bar = np.zeros(count)
    extra = (func, tfirst, n, params)
    for i in range(count - 1, 0, -1):
        a = a + g[i]
        t_bar[i] = np.dot(g[i], rhs_flat(func, tfirst, ys[i], grid[i], params))
        state = np.concatenate([ys[i], a, p_bar])
        back = _integrate_step(True, state, grid[i], grid[i - 1], extra, solver, rtol, atol, hmax, mxstep,
                               max_step)
        a = back[n:2 * n]
        p_bar = back[2 * n:]
    t_bar[0] = -np.dot(a, rhs_flat(func, tfirst, ys[0], grid[0], params))
    return a + g[0], p_bar, t_bar


def _sensitivities(func, tfirst, ys, grid, grid_dot, y0_dot, param_dots, params, solver, rtol, atol, hmax,
                   mxstep, max_step):
    """The tangent of the trajectory ys (one row per grid time) for the tangents of y0,
    of the grid times and of the parameters."""
    n = np.shape(ys)[1]
    count = np.shape(ys)[0]
    start = dense(y0_dot, n)
    v0 = start - rhs_flat(func, tfirst, ys[0], grid[0], params) * grid_dot[0]
    path = _integrate_grid(np.concatenate([ys[0], v0]), grid, (func, tfirst, n, params, param_dots), solver,
                           rtol, atol, hmax, mxstep, max_step)
    rows = np.zeros((count, n))
    rows[0] = start
    for i in range(1, count):
        rows[i] = path[i, n:] + rhs_flat(func, tfirst, ys[i], grid[i], params) * grid_dot[i]
    return rows


# ------------------------------------------------------------------------- odeint

def _odeint_bar(result, result_bar, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None,
                mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
                mxhordr=12, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    # (a rule with a branch is called, not inlined: its tangent terms are not all linear)
    if full_output:
        raise NotDifferentiable("diffc: odeint(..., full_output=True) is not differentiated")
    func = _check_rhs(func)     # (used: a discarded check is dropped when diffc reads this body)
    params = _as_args(args)
    ys = np.reshape(result, (np.shape(result)[0], -1))
    g = np.reshape(result_bar * np.ones(np.shape(result)), np.shape(ys))
    a, p_bar, t_bar = _adjoint_sweep(func, tfirst, ys, t, g, params, "odeint", rtol, atol, hmax, mxstep,
                                     np.inf)
    # (None for Dfun ... hmin: tolerances and step settings are constants, even when they
    # arrive as floats through **options)
    return (None, np.reshape(a, np.shape(y0)), np.reshape(t_bar, np.shape(t)), unflat_bars(p_bar, params),
            None, None, None, None, None, None, None, None, None, None, None)


def _odeint_dot(result, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
                rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhordr=12,
                mxordn=12, mxords=5, printmessg=0, tfirst=False, y0_dot=0.0, t_dot=0.0, args_dot=0.0,
                rtol_dot=None, atol_dot=None, h0_dot=None, hmax_dot=None, hmin_dot=None, func_dot=None):
    # (func_dot listed: a right-hand side carrying derivatives reaches _check_rhs, which refuses
    # it, instead of the call being taken as constant)
    # (a rule with a branch is called, not inlined: its tangent terms are not all linear)
    if full_output:
        raise NotDifferentiable("diffc: odeint(..., full_output=True) is not differentiated")
    func = _check_rhs(func)     # (used: a discarded check is dropped when diffc reads this body)
    params = _as_args(args)
    ys = np.reshape(result, (np.shape(result)[0], -1))
    t_dots = dot_like(t_dot, t)
    vs = _sensitivities(func, tfirst, ys, t, t_dots, y0_dot, _param_dots(args_dot, params), params, "odeint",
                        rtol, atol, hmax, mxstep, np.inf)
    return np.reshape(vs, np.shape(result))


adjoint(odeint)(_odeint_bar)
tangent(odeint)(_odeint_dot)


# ------------------------------------------------------------------------- solve_ivp
# `sol = solve_ivp(fun, t_span, y0, ...); sol.y` is compiled as
# `solve_ivp_y(fun, t_span, y0, ...)` (transform/frozen.py, rules.RESULT_ATTRIBUTES),
# whose rules run the same sweeps with solve_ivp's method and tolerances.

def _solve(fun, t_span, y0, method, t_eval, dense_output, events, vectorized, args, rtol, atol, first_step,
           max_step):
    options = {"rtol": rtol, "atol": atol, "max_step": max_step}
    if first_step is not None:
        options["first_step"] = first_step
    sol = solve_ivp(fun, t_span, y0, method=method, t_eval=t_eval, dense_output=dense_output, events=events,
                    vectorized=vectorized, args=args, **options)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol


def solve_ivp_y(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf):
    """solve_ivp(...).y: the solution at t_eval (or at the solver's own times), shape
    (len(y0), number of times)."""
    return _solve(fun, t_span, y0, method, t_eval, dense_output, events, vectorized, args, rtol, atol,
                  first_step, max_step).y


def _solver_times(fun, t_span, y0, method, dense_output, vectorized, args, rtol, atol, first_step, max_step,
                  events=None):
    """(the times solve_ivp chose without t_eval, whether a terminal event stopped it): the
    same call again, so the same steps.  When an event stopped it, the last time is that
    event's time (rules in ivp_events.py give its derivative)."""
    sol = _solve(fun, t_span, y0, method, None, dense_output, events, vectorized, args, rtol, atol, first_step,
                 max_step)
    return sol.t, sol.status == 1


def solve_ivp_t(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf):
    """solve_ivp(...).t: t_eval, or the solver's own times (the interior ones constants, the
    first and last t_span's ends).  Read by diffc as code (its derivative is t_eval's, or
    t_span's at the ends)."""
    if t_eval is not None:
        return np.ravel(t_eval) * 1.0
    times, stopped = _solver_times(fun, t_span, y0, method, dense_output, vectorized, args, rtol, atol,
                                   first_step, max_step, events)
    last = stop_time(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step) \
        if stopped else t_span[1]
    return np.concatenate([np.array([t_span[0]]), times[1:-1], np.array([last])])


def _check_times(times, result):
    """The second solve must take the steps the first took (it does for a deterministic
    right-hand side): otherwise the rows of the result are not at these times."""
    if np.size(times) != np.shape(result)[-1]:
        raise RuntimeError("diffc: solve_ivp chose different time points when called again with the same "
                           "arguments (is the right-hand side deterministic?); pass t_eval=...")


def _rhs_layout(vectorized):
    """How the augmented systems call the user's right-hand side (see `_call_args`)."""
    if vectorized:
        return "column"
    return True


def _reached(t_eval, result):
    """The part of t_eval the solution reached (a terminal event may stop it early)."""
    return np.ravel(t_eval)[:np.shape(result)[-1]]


def _eval_bar(t_bar, t_eval):
    """The adjoint of all of t_eval from that of the times reached (zeros after)."""
    missing = np.size(t_eval) - np.shape(t_bar)[0]
    return np.reshape(np.concatenate([t_bar, np.zeros(missing)]), np.shape(t_eval))


def _ivp_grid(t_span, t_eval, times):
    """(output times with the initial time first, whether that first time is not an output).

    With t_eval: t_span[0] then t_eval (unless t_eval starts there).  Without: the solver's
    times, whose first is t_span[0] and last t_span[1] (the ends move with t_span, the
    interior times are constants)."""
    t0 = t_span[0]
    if t_eval is None:
        inner = np.asarray(times, dtype=float)[1:-1]
        return np.concatenate([np.array([t0]), inner, np.array([t_span[1]])]), False
    if np.size(t_eval) and float(np.ravel(t_eval)[0]) == float(t0):
        return np.ravel(t_eval) * 1.0, False
    return np.concatenate([np.array([t0]), np.ravel(t_eval) * 1.0]), True


def _span_parts(t_span, first, last):
    """The adjoint of t_span from those of its two ends (an array or a list, like t_span)."""
    if isinstance(t_span, np.ndarray):
        return np.concatenate([np.array([first]), np.array([last])])
    return ListBar([first, last])


nondiff(_check_times, _solver_times, _rhs_layout)
effects.declare(_check_times, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))


def _solve_ivp_y_bar(result, result_bar, fun, t_span, y0, method="RK45", t_eval=None, dense_output=False,
                     events=None, vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None,
                     max_step=np.inf):
    fun = _check_rhs(fun)
    params = _as_args(args)
    times = None
    reached = None
    if t_eval is None:
        times, stopped = _solver_times(fun, t_span, y0, method, dense_output, vectorized, args, rtol, atol,
                                       first_step, max_step, events)
        _check_times(times, result)
        if stopped:
            return stopped_y_bar(result, result_bar, fun, t_span, y0, method, events, vectorized, args, rtol,
                                 atol, first_step, max_step)
    else:
        reached = _reached(t_eval, result)
    grid, extra = _ivp_grid(t_span, reached, times)
    ys = np.transpose(result)
    g = np.transpose(result_bar * np.ones(np.shape(result)))
    if extra:
        ys = np.concatenate([np.reshape(np.asarray(y0) * 1.0, (1, -1)), ys])
        g = np.concatenate([np.zeros((1, np.shape(ys)[1])), g])
    a, p_bar, t_bar = _adjoint_sweep(fun, _rhs_layout(vectorized), ys, grid, g, params, method, rtol, atol, 0.0,
                                     0, max_step)
    count = np.shape(t_bar)[0]
    if t_eval is None:
        span_bar = _span_parts(t_span, t_bar[0], t_bar[count - 1])
        eval_bar = None
    elif extra:
        span_bar = _span_parts(t_span, t_bar[0], 0.0)
        eval_bar = _eval_bar(t_bar[1:], t_eval)
    else:
        # the first output is y0 itself: t_bar[0] moves the later outputs only
        span_bar = _span_parts(t_span, t_bar[0], 0.0)
        eval_bar = _eval_bar(np.concatenate([np.zeros(1), t_bar[1:]]), t_eval)
    return (None, span_bar, np.reshape(a, np.shape(y0)), None, eval_bar, None, None, None,
            unflat_bars(p_bar, params), None, None, None, None)


def _span_dots(t_span_dot):
    """The tangents of t_span's two ends."""
    if _is_zero(t_span_dot):
        return 0.0, 0.0
    return t_span_dot[0], t_span_dot[1]


def _solve_ivp_y_dot(result, fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                     vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf,
                     t_span_dot=0.0, y0_dot=0.0, t_eval_dot=0.0, events_dot=0.0, args_dot=0.0, rtol_dot=None,
                     atol_dot=None, first_step_dot=None, max_step_dot=None, fun_dot=None):
    """Tangent of solve_ivp(...).y by the sensitivity equation v' = df/dy v + df/dp p_dot."""
    fun = _check_rhs(fun)
    params = _as_args(args)
    times = None
    reached = None
    if t_eval is None:
        times, stopped = _solver_times(fun, t_span, y0, method, dense_output, vectorized, args, rtol, atol,
                                       first_step, max_step, events)
        _check_times(times, result)
        if stopped:
            return stopped_y_dot(result, fun, t_span, y0, method, events, vectorized, args, rtol, atol,
                                 first_step, max_step, t_span_dot, y0_dot, args_dot, events_dot)
    else:
        reached = _reached(t_eval, result)
    grid, extra = _ivp_grid(t_span, reached, times)
    ends = _span_dots(t_span_dot)
    count = np.shape(grid)[0]
    if t_eval is None:
        grid_dot = np.concatenate([np.array([ends[0]]), np.zeros(count - 2), np.array([ends[1]])])
    elif extra:
        grid_dot = np.concatenate([np.array([ends[0]]), np.ravel(dot_like(t_eval_dot, t_eval))[:count - 1]])
    else:
        grid_dot = np.concatenate([np.array([ends[0]]), np.ravel(dot_like(t_eval_dot, t_eval))[1:count]])
    ys = np.transpose(result)
    if extra:
        ys = np.concatenate([np.reshape(np.asarray(y0) * 1.0, (1, -1)), ys])
    vs = _sensitivities(fun, _rhs_layout(vectorized), ys, grid, grid_dot, y0_dot, _param_dots(args_dot, params), params, method,
                        rtol, atol, 0.0, 0, max_step)
    if extra:
        vs = vs[1:]
    return np.transpose(vs)


# ------------------------------------------------------------------------- events
# An event time tau solves g(tau, y(tau), p) = 0, so with D = dg/dt + dg/dy . f(tau, y(tau)),
#   dtau = -(dg/dy . dy(tau) + dg/dp . dp) / D,
# where dy(tau) is the change of the solution at the fixed time tau (the sensitivities at
# tau, from y0, args and t_span[0]); the state there moves by dy(tau) + f dtau.  Reverse
# mode: a cotangent T of tau (the time's own, plus Y_bar . f for the state's) adds
# -T/D dg/dy to the state's cotangent at the fixed time and -T/D dg/dp to the parameters',
# then the adjoint sweep runs over t_span[0] and the event times.  The times and states of
# all events (sol.t_events, sol.y_events, and the last time and state of a solve a terminal
# event stopped) are differentiated this way.  First order only: the event times the rules
# read are constants to diffc (a second derivative is refused, not made up).

def _event_functions(events):
    return list(events) if isinstance(events, (list, tuple)) else [events]


def _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    """(times, states, event index) of every event occurrence (by event, then in time)."""
    sol = _solve(fun, t_span, y0, method, None, False, events, vectorized, args, rtol, atol, first_step,
                 max_step)
    n = np.size(y0)
    times, states, which = [], [], []
    for k in range(len(sol.t_events)):
        for j in range(len(sol.t_events[k])):
            times.append(float(sol.t_events[k][j]))
            states.append(np.ravel(sol.y_events[k][j]))
            which.append(k)
    return np.array(times), np.reshape(np.array(states), (len(times), n)), which, sol


def _event_captured(event):
    """The values an event function defined in the differentiated function reads from it
    (a `runtime_calls.Closure`: a threshold computed from the inputs), in its adjoint's order."""
    if isinstance(event, runtime_calls.Closure):
        return event.captured()
    _check_event_cells(event)
    return []


def _closes_over_values(fn):
    """Whether the Python function fn closes over a float or an array (its derivative
    would be lost: diffc did not compile the enclosing function)."""
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, (float, np.floating, np.ndarray)):
            return True
    return False


def _check_event_cells(event):
    if _closes_over_values(event):
        raise NotDifferentiable("diffc: an event function given to solve_ivp reads a float or array from an "
                                "enclosing function diffc did not compile; define it inside the "
                                "differentiated function, or pass the value through args=(...)")


def _event_partials(event, t, y, params):
    """(dg/dt, dg/dy, dg/dp flat, dg/dc flat) of one event function at (t, y); c: the values
    it captured (`_event_captured`)."""
    captured = _event_captured(event)
    bars, _, c_bar = runtime_calls.vjp_call(event, [t, y] + list(params), {}, 1.0)
    c_flat = flat_bars(c_bar if isinstance(c_bar, (list, tuple)) else None, captured)
    return float(np.sum(bars[0])) if not _is_zero(bars[0]) else 0.0, dense(bars[1], np.size(y)), \
        flat_bars(bars[2:], params), c_flat


def _events_bar_of(c_bars, events):
    """The adjoint of the events argument (a function, or a list of them) from the flat adjoints
    of each function's captured values: a ListBar over captured values per function."""
    functions = _event_functions(events)
    parts = []
    for k in range(len(functions)):
        captured = _event_captured(functions[k])
        parts.append(unflat_bars(c_bars[k], captured) if captured else None)
    if isinstance(events, (list, tuple)):
        return ListBar(parts)
    return parts[0]


def _captured_dot(events_dot, events, k):
    """The flat tangent of the values event function k captured (zeros for none)."""
    captured = _event_captured(_event_functions(events)[k])
    if _is_zero(events_dot) or not captured:
        return np.zeros(_size(captured))
    part = events_dot[k] if isinstance(events, (list, tuple)) else events_dot
    return flat_bars(part if isinstance(part, (list, tuple)) else None, captured)


def _event_slopes(fun, tfirst, events, times, states, which, params):
    """For each occurrence: (dg/dy / D, dg/dp / D, f) with D = dg/dt + dg/dy . f (refused near 0:
    an event the solution only touches has no differentiable time)."""
    out = []
    for e in range(len(times)):
        gt, gy, gp, gc = _event_partials(events[which[e]], times[e], states[e], params)
        f = rhs_flat(fun, tfirst, states[e], times[e], params)
        rate = gt + np.dot(gy, f)
        if abs(rate) <= 1e-12 * max(1.0, float(np.max(np.abs(gy))) * float(np.max(np.abs(f)))):
            raise NotDifferentiable("diffc: an event of solve_ivp is reached tangentially (dg/dt along the "
                                    "solution is 0 there): its time has no derivative")
        out.append((gy / rate, gp / rate, f, gc / rate))
    return out


def _event_grid(t_span, y0, times, states):
    """(grid from t_span[0] through the event times in order, states on it, order)."""
    order = np.argsort(times, kind="stable")
    grid = np.concatenate([np.array([float(t_span[0])]), times[order]])
    ys = np.concatenate([np.reshape(np.ravel(y0) * 1.0, (1, -1)), states[order]])
    return grid, ys, order


def _events_dot(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step,
                t_span_dot, y0_dot, args_dot, events_dot=0.0):
    """(time tangents, state tangents) of every event occurrence."""
    fun = _check_rhs(fun)
    params = _as_args(args)
    times, states, which, _ = _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol,
                                            first_step, max_step)
    tfirst = _rhs_layout(vectorized)
    grid, ys, order = _event_grid(t_span, y0, times, states)
    grid_dot = np.zeros(np.size(grid))
    grid_dot[0] = _span_dots(t_span_dot)[0]
    param_dots = _param_dots(args_dot, params)
    vs = _sensitivities(fun, tfirst, ys, grid, grid_dot, y0_dot, param_dots, params, method, rtol, atol, 0.0,
                        0, max_step)
    pdot = flat_bars(list(param_dots), params)
    slopes = _event_slopes(fun, tfirst, _event_functions(events), times, states, which, params)
    time_dots = np.zeros(np.size(times))
    state_dots = np.zeros(np.shape(states))
    for i in range(np.size(order)):
        e = order[i]
        gy, gp, f, gc = slopes[e]
        time_dots[e] = -(np.dot(gy, vs[i + 1]) + np.dot(gp, pdot) + np.dot(gc, _captured_dot(events_dot, events,
                                                                                              which[e])))
        state_dots[e] = vs[i + 1] + f * time_dots[e]
    return time_dots, state_dots


def _events_bar(times_bar, states_bar, fun, t_span, y0, method, events, vectorized, args, rtol, atol,
                first_step, max_step):
    """(t_span[0] adjoint, y0 adjoint, flat args adjoint) for cotangents of the event times and
    states (one row per occurrence)."""
    fun = _check_rhs(fun)
    params = _as_args(args)
    times, states, which, _ = _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol,
                                            first_step, max_step)
    tfirst = _rhs_layout(vectorized)
    grid, ys, order = _event_grid(t_span, y0, times, states)
    slopes = _event_slopes(fun, tfirst, _event_functions(events), times, states, which, params)
    g = np.zeros(np.shape(ys))
    p_extra = np.zeros(_size(params))
    c_bars = [np.zeros(_size(_event_captured(h))) for h in _event_functions(events)]
    for i in range(np.size(order)):
        e = order[i]
        gy, gp, f, gc = slopes[e]
        total = times_bar[e] + np.dot(states_bar[e], f)
        g[i + 1] = states_bar[e] - total * gy
        p_extra = p_extra - total * gp
        c_bars[which[e]] = c_bars[which[e]] - total * gc
    a, p_bar, t_bar = _adjoint_sweep(fun, tfirst, ys, grid, g, params, method, rtol, atol, 0.0, 0, max_step)
    return t_bar[0], np.reshape(a, np.shape(y0)), p_bar + p_extra, _events_bar_of(c_bars, events)


def event_times(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    """The times of every event occurrence, by event then in time (a flat array)."""
    return _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)[0]


def event_states(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    """The states at every event occurrence (one row each, in event_times' order)."""
    return _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)[1]


def _event_cotangents(result_bar, shape, rows):
    """The cotangent result_bar (0.0 for none) as an array of `shape`; zeros of `rows` for the other output."""
    return result_bar * np.ones(shape) if not _is_zero(result_bar) else np.zeros(shape), np.zeros(rows)


@adjoint(event_times)
def _(result, result_bar, fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    times_bar, states_bar = _event_cotangents(result_bar, np.shape(result), (np.size(result), np.size(y0)))
    t0_bar, y0_bar, p_flat, events_bar = _events_bar(times_bar, states_bar, fun, t_span, y0, method, events,
                                                     vectorized, args, rtol, atol, first_step, max_step)
    return (None, _span_parts(t_span, t0_bar, 0.0), y0_bar, None, events_bar, None,
            unflat_bars(p_flat, _as_args(args)), None, None, None, None)


@adjoint(event_states)
def _(result, result_bar, fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    states_bar, times_bar = _event_cotangents(result_bar, np.shape(result), np.shape(result)[0])
    t0_bar, y0_bar, p_flat, events_bar = _events_bar(times_bar, states_bar, fun, t_span, y0, method, events,
                                                     vectorized, args, rtol, atol, first_step, max_step)
    return (None, _span_parts(t_span, t0_bar, 0.0), y0_bar, None, events_bar, None,
            unflat_bars(p_flat, _as_args(args)), None, None, None, None)


@tangent(event_times)
def _(result, fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step,
      t_span_dot=0.0, y0_dot=0.0, events_dot=0.0, args_dot=0.0, rtol_dot=None, atol_dot=None,
      first_step_dot=None, max_step_dot=None):
    return _events_dot(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step,
                       t_span_dot, y0_dot, args_dot, events_dot)[0]


@tangent(event_states)
def _(result, fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step,
      t_span_dot=0.0, y0_dot=0.0, events_dot=0.0, args_dot=0.0, rtol_dot=None, atol_dot=None,
      first_step_dot=None, max_step_dot=None):
    return _events_dot(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step,
                       t_span_dot, y0_dot, args_dot, events_dot)[1]


def _event_counts(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    which = _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)[2]
    return [which.count(k) for k in range(len(_event_functions(events)))]


def _split_events(flat, counts):
    out, k = [], 0
    for c in counts:
        out.append(flat[k:k + c])
        k = k + c
    return out


def solve_ivp_t_events(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                       vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf):
    """solve_ivp(...).t_events: one array of times per event function."""
    counts = _event_counts(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)
    return _split_events(event_times(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step,
                                     max_step), counts)


def solve_ivp_y_events(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                       vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf):
    """solve_ivp(...).y_events: one array of states (one row per occurrence) per event function."""
    counts = _event_counts(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)
    return _split_events(event_states(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step,
                                      max_step), counts)


def _stop_index(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    """The occurrence (in event_times' order) at which a terminal event stopped the solve."""
    times, _, _, sol = _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step,
                                     max_step)
    return int(np.argmin(np.abs(times - sol.t[-1])))


def stop_time(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step):
    """The time at which a terminal event stopped the solve (sol.t[-1])."""
    k = _stop_index(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)
    return event_times(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)[k]


def stopped_y_bar(result, result_bar, fun, t_span, y0, method, events, vectorized, args, rtol, atol,
                  first_step, max_step):
    """The adjoint rule of solve_ivp_y (its 13 argument adjoints) for a solve a terminal event stopped
    (no t_eval): the solver's interior times are constants, the last is the event's."""
    params = _as_args(args)
    tfirst = _rhs_layout(vectorized)
    times, states, which, sol = _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol,
                                              first_step, max_step)
    k = _stop_index(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)
    gy, gp, f, gc = _event_slopes(fun, tfirst, _event_functions(events), times[k:k + 1], states[k:k + 1],
                                  which[k:k + 1], params)[0]
    grid = np.concatenate([np.array([float(t_span[0])]), sol.t[1:]])
    ys = np.transpose(result)
    g = np.transpose(result_bar * np.ones(np.shape(result)))
    total = np.dot(g[-1], f)
    g[-1] = g[-1] - total * gy
    a, p_bar, t_bar = _adjoint_sweep(fun, tfirst, ys, grid, g, params, method, rtol, atol, 0.0, 0, max_step)
    c_bars = [np.zeros(_size(_event_captured(h))) for h in _event_functions(events)]
    c_bars[which[k]] = -total * gc
    return (None, _span_parts(t_span, t_bar[0], 0.0), np.reshape(a, np.shape(y0)), None, None, None,
            _events_bar_of(c_bars, events), None, unflat_bars(p_bar - total * gp, params), None, None, None, None)


def stopped_y_dot(result, fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step,
                  t_span_dot, y0_dot, args_dot, events_dot=0.0):
    """The tangent of solve_ivp_y for a solve a terminal event stopped (no t_eval)."""
    params = _as_args(args)
    tfirst = _rhs_layout(vectorized)
    times, states, which, sol = _event_record(fun, t_span, y0, method, events, vectorized, args, rtol, atol,
                                              first_step, max_step)
    k = _stop_index(fun, t_span, y0, method, events, vectorized, args, rtol, atol, first_step, max_step)
    gy, gp, f, gc = _event_slopes(fun, tfirst, _event_functions(events), times[k:k + 1], states[k:k + 1],
                                  which[k:k + 1], params)[0]
    grid = np.concatenate([np.array([float(t_span[0])]), sol.t[1:]])
    grid_dot = np.zeros(np.size(grid))
    grid_dot[0] = _span_dots(t_span_dot)[0]
    param_dots = _param_dots(args_dot, params)
    vs = _sensitivities(fun, tfirst, np.transpose(result), grid, grid_dot, y0_dot, param_dots, params, method,
                        rtol, atol, 0.0, 0, max_step)
    moved = -(np.dot(gy, vs[-1]) + np.dot(gp, flat_bars(list(param_dots), params))
              + np.dot(gc, _captured_dot(events_dot, events, which[k])))
    vs[-1] = vs[-1] + f * moved
    return np.transpose(vs)


nondiff(_event_record, _event_functions, _event_counts, _stop_index, _event_captured, _check_event_cells)
effects.declare(_check_event_cells, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))


def second_order_refused(values):
    raise NotDifferentiable("diffc: second derivatives through the times of solve_ivp's events (sol.t_events, "
                            "sol.y_events, or the end of a solve a terminal event stopped) are not computed; "
                            "first derivatives are")


@adjoint(_events_bar)
@adjoint(_events_dot)
@adjoint(stopped_y_bar)
@adjoint(stopped_y_dot)
@adjoint(_event_cotangents)
def _(result, result_bar, *values):
    return second_order_refused(values)


@tangent(_events_bar)
@tangent(_events_dot)
@tangent(stopped_y_bar)
@tangent(stopped_y_dot)
@tangent(_event_cotangents)
def _(result, *values_and_dots):
    return second_order_refused(values_and_dots)


adjoint(solve_ivp_y)(_solve_ivp_y_bar)
tangent(solve_ivp_y)(_solve_ivp_y_dot)

for _helper in (_as_args, _call_args, _param_dot, _param_dots, dot_like, rhs_flat, _adjoint_rhs, _adjoint_rhs_tfirst,
                _tangent_rhs, _tangent_rhs_tfirst, _integrate_step, _integrate_grid, _adjoint_sweep,
                _sensitivities, _odeint_bar, _odeint_dot, _ivp_grid, _span_parts, _span_dots,
                _solve_ivp_y_bar, _solve_ivp_y_dot, solve_ivp_t, _reached, _eval_bar, solve_ivp_t_events,
                solve_ivp_y_events, _split_events, stop_time):
    _helper.__diffc_transparent__ = True

from . import CALLBACK_ARGS, RESULT_ATTRIBUTES  # noqa: E402
RESULT_ATTRIBUTES[solve_ivp] = {"y": solve_ivp_y, "t": solve_ivp_t, "t_events": solve_ivp_t_events,
                                "y_events": solve_ivp_y_events}
CALLBACK_ARGS[odeint] = (0, "args")
CALLBACK_ARGS[solve_ivp] = (0, "args")
CALLBACK_ARGS[solve_ivp_y] = (0, "args")
CALLBACK_ARGS[solve_ivp_t] = (0, "args")
CALLBACK_ARGS[solve_ivp_t_events] = (0, "args")
CALLBACK_ARGS[solve_ivp_y_events] = (0, "args")
CALLBACK_ARGS[event_times] = (0, "args")
CALLBACK_ARGS[event_states] = (0, "args")
CALLBACK_ARGS[stop_time] = (0, "args")
