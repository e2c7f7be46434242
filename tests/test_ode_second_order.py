"""Second derivatives through scipy.integrate.odeint and solve_ivp, and solve_ivp without t_eval.

The rules of odeint and solve_ivp (diffc/rules/scipy_integrate.py) are ordinary Python
that integrates augmented systems with odeint/solve_ivp themselves, so a second
derivative applies the same rules again: the adjoint of the adjoint ODE, with second
derivatives of the right-hand side taken by diffc.  The programs are an ODE model
fitted by least squares (parameters through ``args``, a right-hand side returning a
list), a neural ODE whose weights are passed through ``args`` or closed over, and
losses on the output times.  Each second derivative is checked against central
differences of diffc's gradient (itself checked against differences of the program)
and against second differences of the program itself.
"""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

integrate = pytest.importorskip("scipy.integrate")
odeint, solve_ivp = integrate.odeint, integrate.solve_ivp

TIMES = np.linspace(0.0, 2.0, 5)
OBSERVED = np.array([1.0, 0.35, -0.45, -0.55, -0.1])
TOL = dict(rtol=1e-10, atol=1e-10)


def oscillator(y, t, k, c):
    position, velocity = y
    return [velocity, -k * position - c * velocity]


def oscillator_misfit(theta):
    """Least-squares misfit of a damped oscillator's position to observations."""
    k, c = theta[0], theta[1]
    ys = odeint(oscillator, np.array([1.0, 0.0]), TIMES, args=(k, c), **TOL)
    return np.sum((ys[:, 0] - OBSERVED) ** 2)


R = np.random.default_rng(7)
W1, B1, W2 = R.normal(size=(3, 2)) * 0.6, R.normal(size=3) * 0.2, R.normal(size=(2, 3)) * 0.6
TARGET = R.normal(size=(3, 2))


def mlp_dynamics(y, t, W1, b1, W2):
    return W2 @ np.tanh(W1 @ y + b1) - 0.1 * t * y


def neural_ode_bias(b1):
    ys = odeint(mlp_dynamics, np.array([1.0, -0.5]), np.array([0.0, 0.5, 1.0]), args=(W1, b1, W2), **TOL)
    return np.sum((ys - TARGET) ** 2)


def neural_ode_state(y0):
    ys = odeint(mlp_dynamics, y0, np.array([0.0, 0.5, 1.0]), args=(W1, B1, W2), **TOL)
    return np.sum((ys - TARGET) ** 2)


def neural_ode_times(t):
    ys = odeint(mlp_dynamics, np.array([1.0, -0.5]), t, args=(W1, B1, W2), **TOL)
    return np.sum((ys - TARGET) ** 2)


def neural_ode_closure(b1):
    """The usual neural-ODE code: the dynamics close over the parameters."""
    params = (W1, b1, W2)

    def dynamics(y, t):
        first, bias, second = params
        return second @ np.tanh(first @ y + bias)
    ys = odeint(dynamics, np.array([1.0, -0.5]), np.array([0.0, 0.5, 1.0]), rtol=1e-10, atol=1e-10)
    return np.sum(ys[-1] ** 2)


def closure_with_options(b1):
    def dynamics(y, t):
        return W2 @ np.tanh(W1 @ y + b1)
    return np.sum(odeint(dynamics, np.array([1.0, -0.5]), np.array([0.0, 1.0]), **TOL))


def logistic(t, y, r, capacity):
    return r * y * (1.0 - y / capacity)


def growth_fit(theta):
    """Logistic growth observed at fixed times (solve_ivp with t_eval)."""
    sol = solve_ivp(logistic, (0.0, 1.5), np.array([0.2, 0.5]), t_eval=np.array([0.5, 1.0, 1.5]),
                    args=(theta[0], theta[1]), method="DOP853", **TOL)
    return np.sum((sol.y - 0.6) ** 2)


def final_state(y0, r, t_end):
    """y(t_end) at the solver's own last time (no t_eval)."""
    sol = solve_ivp(logistic, (0.0, t_end), y0, args=(r, 2.0), method="DOP853", **TOL)
    return np.sum(sol.y[:, -1] ** 2)


def final_state_from(t_span):
    sol = solve_ivp(logistic, t_span, np.array([0.2, 0.5]), args=(1.3, 2.0), method="DOP853", **TOL)
    return np.sum(sol.y[:, -1] ** 3) + np.sum(sol.y[:, 0])


def second_differences(fn, x, h=1e-3):
    """The Hessian of fn by central second differences of fn itself."""
    x = np.asarray(x, dtype=float)
    n = x.size
    H = np.zeros((n, n))

    def at(d):
        return float(fn(x + d))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * h, np.eye(n)[j] * h
            H[i, j] = H[j, i] = (at(ei + ej) - at(ei - ej) - at(ej - ei) + at(-ei - ej)) / (4 * h * h)
    return H


def check_hessian(fn, x, modes, rtol=1e-4, atol=1e-5):
    """diffc's Hessian in the given modes against differences of its gradient (whose
    accuracy is that of the ODE solution: rtol=1e-10 over a step of 1e-5)."""
    assert_close(diffc.grad(fn)(x), numeric_grad(fn, (x,), 0, eps=1e-5), rtol=1e-5, atol=1e-6, what="gradient")
    expected = fd_jacobian(diffc.grad(fn), x, eps=1e-5)
    assert np.abs(expected).max() > 1e-2
    assert_close(expected, second_differences(fn, x), rtol=1e-3, atol=1e-4, what="the program's own")
    forward = diffc.jacobian(fn, mode="forward")
    run = {"forward over reverse": lambda: diffc.hessian(fn)(x),
           "reverse over reverse": lambda: diffc.jacobian(diffc.grad(fn))(x),
           "reverse over forward": lambda: diffc.jacobian(forward)(x),
           "forward over forward": lambda: diffc.jacobian(forward, mode="forward")(x)}
    for what in modes:
        assert_close(run[what](), expected, rtol=rtol, atol=atol, what=what)
    return expected


ALL = ("forward over reverse", "reverse over reverse", "reverse over forward", "forward over forward")


def test_fitted_oscillator_hessian():
    check_hessian(oscillator_misfit, np.array([2.0, 0.3]), ("forward over reverse", "reverse over reverse"))


@pytest.mark.slow
def test_fitted_oscillator_hessian_all_modes():
    check_hessian(oscillator_misfit, np.array([2.0, 0.3]), ALL)


def test_neural_ode_weights_through_args_hvp_and_jvp_of_grad():
    expected = check_hessian(neural_ode_bias, B1, ("forward over reverse",))
    v = np.array([0.3, -1.0, 0.5])
    assert_close(diffc.hvp(neural_ode_bias)(B1, v), expected @ v, rtol=1e-4, atol=1e-5, what="hvp")
    _, jvp_of_grad = diffc.jvp(diffc.grad(neural_ode_bias), (B1,), (v,))
    assert_close(jvp_of_grad, expected @ v, rtol=1e-4, atol=1e-5, what="jvp of grad")


def test_neural_ode_initial_state():
    check_hessian(neural_ode_state, np.array([1.0, -0.5]), ("forward over reverse",))


@pytest.mark.slow
def test_neural_ode_initial_state_and_times_all_modes():
    check_hessian(neural_ode_state, np.array([1.0, -0.5]), ALL)
    check_hessian(neural_ode_times, np.array([0.0, 0.4, 1.0]), ALL)


def test_neural_ode_closing_over_its_weights_hvp():
    v = np.array([1.0, 0.5, -0.5])
    expected = fd_jacobian(diffc.grad(neural_ode_closure), B1, eps=1e-5) @ v
    assert_close(diffc.grad(neural_ode_closure)(B1), numeric_grad(neural_ode_closure, (B1,), 0, eps=1e-5),
                 rtol=1e-5, atol=1e-6)
    assert_close(diffc.hvp(neural_ode_closure)(B1, v), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.slow       # one of the slowest of the default suite; run with -m slow (the odeint Hessian stays)
def test_solve_ivp_with_t_eval_hessian():
    check_hessian(growth_fit, np.array([1.3, 2.0]), ("forward over reverse", "reverse over reverse"))


def test_solve_ivp_without_t_eval_final_state():
    """sol.y[:, -1] at the solver's own last time, in y0, args and t_span, both modes."""
    args = [np.array([0.2, 0.5]), 1.3, 1.5]
    grads = diffc.grad(final_state, wrt=(0, 1, 2))(*args)
    for k, g in enumerate(grads):
        assert_close(g, numeric_grad(final_state, args, k, eps=1e-5), rtol=1e-5, atol=1e-7, what=f"arg {k}")
    dirs = (np.array([0.4, -1.0]), 0.7, -0.3)
    _, tangent = diffc.jvp(final_state, tuple(args), dirs)
    assert_close(tangent, sum(np.sum(g * d) for g, d in zip(grads, dirs)), rtol=1e-6, atol=1e-8)
    span = np.array([0.1, 1.4])
    assert_close(diffc.grad(final_state_from)(span), numeric_grad(final_state_from, (span,), 0, eps=1e-5),
                 rtol=1e-5, atol=1e-7, what="both ends of t_span")
    _, tangent = diffc.jvp(final_state_from, (span,), (np.array([1.0, -2.0]),))
    assert_close(tangent, diffc.grad(final_state_from)(span) @ np.array([1.0, -2.0]), rtol=1e-6, atol=1e-8)


def test_solve_ivp_without_t_eval_second_order():
    def in_rate_and_end(theta):
        return final_state(np.array([0.2, 0.5]), theta[0], theta[1])
    check_hessian(in_rate_and_end, np.array([1.3, 1.5]), ("forward over reverse",))


def decay_with_closure_and_args(k, y0):
    def rhs(y, t, c):
        return -k * y * c                 # k from the enclosing function, c through args
    ys = odeint(rhs, y0, np.array([0.0, 0.5, 1.0]), args=(2.0,), **TOL)
    return np.sum(ys ** 2)


def test_right_hand_side_with_closure_and_args_is_refused_not_wrong():
    """The captured values have no way through the rule: refused (a zero would be wrong)."""
    with pytest.raises(NotImplementedError):
        diffc.grad(decay_with_closure_and_args)(0.7, np.array([1.0, 2.0]))
    with pytest.raises(NotImplementedError):
        diffc.grad(closure_with_options)(B1)


def misfit_on_solver_times(theta):
    """A loss on the solver's own time points, read from sol.t (constants inside, t_span at the ends)."""
    sol = solve_ivp(logistic, (0.0, theta[1]), np.array([0.2, 0.5]), args=(theta[0], 2.0), method="DOP853",
                    **TOL)
    model = sol.y[0]
    return np.sum((model - 0.3 * np.sqrt(1.0 + sol.t)) ** 2) + sol.t[-1] ** 2


def test_solve_ivp_solution_and_times_read_together():
    theta = np.array([1.3, 1.5])
    g = diffc.grad(misfit_on_solver_times)(theta)

    def held_times(th):
        # the same loss with the interior times held at the values the solver chose at theta
        times = solve_ivp(logistic, (0.0, theta[1]), np.array([0.2, 0.5]), args=(theta[0], 2.0),
                          method="DOP853", **TOL).t
        grid = np.concatenate([[0.0], times[1:-1], [th[1]]])
        sol = solve_ivp(logistic, (0.0, th[1]), np.array([0.2, 0.5]), t_eval=grid, args=(th[0], 2.0),
                        method="DOP853", **TOL)
        return np.sum((sol.y[0] - 0.3 * np.sqrt(1.0 + grid)) ** 2) + grid[-1] ** 2
    assert_close(held_times(theta), misfit_on_solver_times(theta), rtol=1e-12, atol=1e-12)
    assert_close(g, numeric_grad(held_times, (theta,), 0, eps=1e-6), rtol=1e-5, atol=1e-7)
    _, t = diffc.jvp(misfit_on_solver_times, (theta,), (np.array([0.5, -1.0]),))
    assert_close(t, g @ np.array([0.5, -1.0]), rtol=1e-6, atol=1e-8)


def quadratic_decay_loss(k):
    ys = odeint(lambda y, t, rate: -rate * y * y, np.array([1.0, 2.0]), np.linspace(0.0, 1.0, 3), args=(k,),
                **TOL)
    return np.sum(ys ** 2)


def test_grad_of_grad_of_a_rate():
    """diffc.grad(diffc.grad(f)) of a scalar parameter, against second differences of f."""
    k, h = 0.7, 1e-3
    expected = (quadratic_decay_loss(k + h) - 2 * quadratic_decay_loss(k) + quadratic_decay_loss(k - h)) / h ** 2
    assert_close(diffc.grad(diffc.grad(quadratic_decay_loss))(k), expected, rtol=1e-5, atol=1e-6)
    assert_close(diffc.hessian(quadratic_decay_loss)(k), expected, rtol=1e-5, atol=1e-6)
