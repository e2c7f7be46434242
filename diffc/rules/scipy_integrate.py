"""scipy.integrate.odeint: derivatives by the adjoint ODE and by forward sensitivities.

Reverse mode (``_odeint_bar``) integrates, backwards between consecutive output
times, the augmented system  y' = f(y, t),  a' = -a^T df/dy,  p' = -a^T df/dp
(as autograd's and JAX's odeint do), taking a^T df/dy and a^T df/dp from
`diffc.vjp` of the user's right-hand side, so it gives the gradients with
respect to the initial state, every parameter passed through ``args`` and every
time in ``t``; it does not differentiate the solver's steps.  Forward mode
(``_odeint_dot``) integrates the sensitivity equation v' = df/dy v + df/dp p_dot
with `diffc.jvp`.  Both solve with the call's ``rtol``/``atol``: the derivative
is as accurate as the solution.

A right-hand side that closes over floats or arrays (which could be
differentiated values diffc cannot see) is refused: pass them through ``args``.
Second derivatives through odeint are not available (NoDerivativeRule).
"""

import numpy as np
from scipy.integrate import odeint, solve_ivp

from . import adjoint, run_jvp, run_vjp, tangent
from ..runtime import ListBar


def _check_rhs(func, full_output):
    cells = getattr(func, "__closure__", None) or ()
    for cell in cells:
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, (float, np.floating, np.ndarray)):
            raise NotImplementedError("diffc: the right-hand side given to odeint reads a float or array "
                                      "from an enclosing function; pass it through args=(...) so its "
                                      "derivative is computed")
    if full_output:
        raise NotImplementedError("diffc: odeint(..., full_output=True) is not differentiated")


def _as_args(args):
    return tuple(args) if isinstance(args, (tuple, list)) else (args,)


def _float_arg(a):
    return isinstance(a, (float, np.floating, np.ndarray)) and not isinstance(a, bool) \
        and np.asarray(a).dtype.kind == "f"


def _size(a):
    """How many float entries a parameter (a float, an array, or a tuple/list of them) has."""
    if isinstance(a, (tuple, list)):
        return sum(_size(x) for x in a)
    return np.size(a) if _float_arg(a) else 0


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


def _flat(bars, args):
    """The adjoints of the parameters (nested like them) as one vector."""
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
        return None, k
    size = np.size(a)
    piece = vec[k:k + size]
    return (float(piece[0]) if np.ndim(a) == 0 else piece.reshape(np.shape(a))), k + size


def _unflat(vec, args):
    """The vector of `_flat` back as one adjoint per parameter (ListBar for a tuple/list)."""
    out, k = [], 0
    for a in args:
        part, k = _unflat_one(vec, a, k)
        out.append(part)
    return ListBar(out)


def _options(rtol, atol, hmax, mxstep):
    return {"rtol": rtol, "atol": atol, "hmax": hmax, "mxstep": mxstep}


def _adjoint_sweep(func, tfirst, ys, t, g, args, integrate):
    """(a(t0), p_bar, t_bar) of sum_i <g_i, y(t_i)> for the trajectory ys (one row per t_i)
    of y' = func(y, t, *args), by the adjoint ODE integrated backwards between output times.
    integrate(rhs, state, t_from, t_to) -> state at t_to."""
    n = ys.shape[1]
    rhs_order = (lambda y, s: (s, y)) if tfirst else (lambda y, s: (y, s))

    def rhs(y, s):
        return np.ravel(np.asarray(func(*rhs_order(y, s), *args), dtype=float))

    def augmented(state, s):
        y, a = state[:n], state[n:2 * n]
        primals = rhs_order(y, s) + args
        out, pullback = run_vjp(func, *primals)
        bars = pullback(np.reshape(a, np.shape(out)))
        y_bar = bars[1] if tfirst else bars[0]
        y_bar = np.zeros(n) if y_bar is None else np.ravel(y_bar)
        return np.concatenate([np.ravel(out), -y_bar, -_flat(bars[2:], args)])

    a = np.zeros(n)
    p_bar = np.zeros(sum(_size(x) for x in args))
    t_bar = np.zeros(t.shape)
    for i in range(len(t) - 1, 0, -1):
        a = a + g[i]
        t_bar[i] = np.dot(g[i], rhs(ys[i], t[i]))
        back = integrate(augmented, np.concatenate([ys[i], a, p_bar]), t[i], t[i - 1])
        a, p_bar = back[n:2 * n], back[2 * n:]
    t_bar[0] = -np.dot(a, rhs(ys[0], t[0]))
    return a + g[0], p_bar, t_bar


def _odeint_bar(result, result_bar, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None,
                mu=None, rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
                mxhordr=12, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    _check_rhs(func, full_output)
    args = _as_args(args)
    ys = np.asarray(result, dtype=float)
    g = np.broadcast_to(np.asarray(result_bar, dtype=float), ys.shape)
    t = np.asarray(t, dtype=float)

    def integrate(rhs, state, t_from, t_to):
        return odeint(rhs, state, np.array([t_from, t_to]), **_options(rtol, atol, hmax, mxstep))[-1]
    a, p_bar, t_bar = _adjoint_sweep(func, tfirst, ys, t, g, args, integrate)
    return None, np.reshape(a, np.shape(y0)), t_bar, _unflat(p_bar, args)


def _odeint_dot(result, func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
                rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0, mxhordr=12,
                mxordn=12, mxords=5, printmessg=0, tfirst=False, y0_dot=0.0, t_dot=0.0, args_dot=0.0):
    _check_rhs(func, full_output)
    args = _as_args(args)
    ys = np.asarray(result, dtype=float)
    t = np.asarray(t, dtype=float)
    n = ys.shape[1]
    if isinstance(args_dot, (list, tuple)):
        arg_dots = tuple(None if _zero(d) else d for d in args_dot)
    else:
        arg_dots = (None,) * len(args)
    arg_tangents = tuple(d if d is not None else None for d in arg_dots)

    def ordered(y, s):
        return (s, y) if tfirst else (y, s)

    def rhs(y, s):
        return np.ravel(np.asarray(func(*ordered(y, s), *args), dtype=float))

    def sensitivity(state, s):
        y, v = state[:n], state[n:]
        primals = ordered(y, s) + args
        tangents = ((None, v) if tfirst else (v, None)) + arg_tangents
        out, out_dot = run_jvp(func, primals, tangents)
        out_dot = np.zeros(n) if out_dot is None else np.ravel(np.broadcast_to(out_dot, np.shape(out)))
        return np.concatenate([np.ravel(out), out_dot])

    t_dot = np.broadcast_to(np.asarray(0.0 if _zero(t_dot) else t_dot, dtype=float), t.shape)
    v0 = np.zeros(n) if _zero(y0_dot) else np.ravel(np.asarray(y0_dot, dtype=float))
    v0 = v0 - rhs(ys[0], t[0]) * t_dot[0]
    sol = odeint(sensitivity, np.concatenate([ys[0], v0]), t, **_options(rtol, atol, hmax, mxstep))
    vs = sol[:, n:]
    for i in range(1, len(t)):
        vs[i] = vs[i] + rhs(ys[i], t[i]) * t_dot[i]
    vs[0] = v0 + rhs(ys[0], t[0]) * t_dot[0]
    return vs


def _zero(x):
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0)


adjoint(odeint)(_odeint_bar)
tangent(odeint)(_odeint_dot)


# ------------------------------------------------------------------------- solve_ivp
# `sol = solve_ivp(fun, t_span, y0, t_eval=ts, args=(...)); sol.y` is compiled as
# `solve_ivp_y(fun, t_span, y0, ...)` (transform/frozen.py, rules.RESULT_ATTRIBUTES),
# whose rules run the same adjoint sweep with solve_ivp's method and tolerances.

def solve_ivp_y(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf):
    """solve_ivp(...).y: the solution at t_eval, shape (len(y0), len(t_eval))."""
    options = {"rtol": rtol, "atol": atol, "max_step": max_step}
    if first_step is not None:
        options["first_step"] = first_step
    sol = solve_ivp(fun, t_span, y0, method=method, t_eval=t_eval, dense_output=dense_output, events=events,
                    vectorized=vectorized, args=args, **options)
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed: {sol.message}")
    return sol.y


def _ivp_grid(t_span, t_eval):
    """The output times with the initial time first (it may precede t_eval[0])."""
    t_eval = np.asarray(t_eval, dtype=float)
    t0 = float(t_span[0])
    if t_eval.size and t_eval[0] == t0:
        return t_eval, False
    return np.concatenate([[t0], t_eval]), True


def _ivp_integrator(method, rtol, atol, max_step):
    def integrate(rhs, state, t_from, t_to):
        sol = solve_ivp(lambda s, y: rhs(y, s), (t_from, t_to), state, method=method, t_eval=[t_to],
                        rtol=rtol, atol=atol, max_step=max_step)
        return sol.y[:, -1]
    return integrate


def _check_ivp(t_eval, events, dense_output, vectorized):
    if t_eval is None:
        raise NotImplementedError("diffc: solve_ivp is differentiated with a fixed t_eval=...")
    if events is not None or vectorized:
        raise NotImplementedError("diffc: solve_ivp with events or vectorized=True is not differentiated")


def _solve_ivp_y_bar(result, result_bar, fun, t_span, y0, method="RK45", t_eval=None, dense_output=False,
                     events=None, vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None,
                     max_step=np.inf):
    _check_ivp(t_eval, events, dense_output, vectorized)
    _check_rhs(fun, False)
    args = () if args is None else _as_args(args)
    grid, extra = _ivp_grid(t_span, t_eval)
    ys = np.asarray(result, dtype=float).T
    g = np.broadcast_to(np.asarray(result_bar, dtype=float), np.shape(result)).T
    if extra:
        ys = np.concatenate([np.ravel(np.asarray(y0, dtype=float))[None, :], ys])
        g = np.concatenate([np.zeros((1, ys.shape[1])), g])
    a, p_bar, t_bar = _adjoint_sweep(fun, True, ys, grid, g, args, _ivp_integrator(method, rtol, atol, max_step))
    span_bar = np.zeros(np.shape(t_span))
    span_bar[0] = t_bar[0]                      # the initial time moves every later output
    if extra:
        t_bar = t_bar[1:]
    else:
        t_bar = np.concatenate([[0.0], t_bar[1:]])   # the first output is y0 itself
    t_span_bar = span_bar if isinstance(t_span, np.ndarray) else ListBar([float(span_bar[0]), 0.0])
    return (None, t_span_bar, np.reshape(a, np.shape(y0)), None, np.reshape(t_bar, np.shape(t_eval)),
            None, None, None, _unflat(p_bar, args))


_solve_ivp_y_bar.__name__ = "_solve_ivp_y_bar"
adjoint(solve_ivp_y)(_solve_ivp_y_bar)

from . import CALLBACK_ARGS, RESULT_ATTRIBUTES  # noqa: E402
RESULT_ATTRIBUTES[solve_ivp] = {"y": solve_ivp_y}
CALLBACK_ARGS[odeint] = (0, "args")
CALLBACK_ARGS[solve_ivp] = (0, "args")
CALLBACK_ARGS[solve_ivp_y] = (0, "args")


def _solve_ivp_y_dot(result, fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None,
                     vectorized=False, args=None, rtol=1e-3, atol=1e-6, first_step=None, max_step=np.inf,
                     t_span_dot=0.0, y0_dot=0.0, t_eval_dot=0.0, args_dot=0.0):
    """Tangent of solve_ivp(...).y by the sensitivity equation v' = df/dy v + df/dp p_dot."""
    _check_ivp(t_eval, events, dense_output, vectorized)
    _check_rhs(fun, False)
    args = () if args is None else _as_args(args)
    grid, extra = _ivp_grid(t_span, t_eval)
    ys = np.asarray(result, dtype=float).T
    n = ys.shape[1]
    y_start = np.ravel(np.asarray(y0, dtype=float))
    if isinstance(args_dot, (list, tuple)):
        arg_dots = tuple(None if _zero(d) else d for d in args_dot)
    else:
        arg_dots = (None,) * len(args)

    def rhs(y, s):
        return np.ravel(np.asarray(fun(s, y, *args), dtype=float))

    def sensitivity(s, state):
        y, v = state[:n], state[n:]
        out, out_dot = run_jvp(fun, (s, y) + args, (None, v) + arg_dots)
        out_dot = np.zeros(n) if out_dot is None else np.ravel(np.broadcast_to(out_dot, np.shape(out)))
        return np.concatenate([np.ravel(out), out_dot])

    span_dot = 0.0 if _zero(t_span_dot) else float(np.ravel(np.asarray(t_span_dot[0] if isinstance(
        t_span_dot, (list, tuple)) else t_span_dot, dtype=float))[0])
    eval_dot = np.broadcast_to(np.asarray(0.0 if _zero(t_eval_dot) else t_eval_dot, dtype=float),
                               np.shape(t_eval))
    v0 = np.zeros(n) if _zero(y0_dot) else np.ravel(np.asarray(y0_dot, dtype=float))
    v0 = v0 - rhs(y_start, grid[0]) * span_dot
    sol = solve_ivp(sensitivity, (grid[0], grid[-1]), np.concatenate([y_start, v0]), method=method,
                    t_eval=grid, rtol=rtol, atol=atol, max_step=max_step)
    vs = sol.y[n:].T
    if extra:
        vs = vs[1:]
    t_out = np.asarray(t_eval, dtype=float)
    for i in range(len(t_out)):
        if not extra and i == 0:
            vs[0] = np.ravel(np.asarray(0.0 if _zero(y0_dot) else y0_dot, dtype=float)) * np.ones(n)
            continue
        vs[i] = vs[i] + rhs(ys[i], t_out[i]) * eval_dot[i]
    return vs.T


tangent(solve_ivp_y)(_solve_ivp_y_dot)
