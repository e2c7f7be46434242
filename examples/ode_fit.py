"""Scientific ML: fit a damped oscillator's parameters to noisy observations.

The model  x'' = -k x - c x'  is integrated with classical RK4 in an ordinary
Python loop; diffc differentiates the whole simulation (loop, tuple returns,
helper calls) to give d loss / d (k, c, x0), and plain gradient descent with
Adam steps recovers the parameters from noisy samples.

Run:  python examples/ode_fit.py      (DIFFC_EXAMPLE_QUICK=1 for a short run)
Saves examples/ode_fit.png.
"""
import os

import numpy as np

import diffc

QUICK = os.environ.get("DIFFC_EXAMPLE_QUICK") == "1"
DT = 0.05
STEPS = 120
OBSERVE_EVERY = 4


def acceleration(x, v, k, c):
    return -k * x - c * v


def rk4_step(x, v, k, c, dt):
    """One classical Runge-Kutta step of the first-order system (x, v)."""
    a1 = acceleration(x, v, k, c)
    x2 = x + 0.5 * dt * v
    v2 = v + 0.5 * dt * a1
    a2 = acceleration(x2, v2, k, c)
    x3 = x + 0.5 * dt * v2
    v3 = v + 0.5 * dt * a2
    a3 = acceleration(x3, v3, k, c)
    x4 = x + dt * v3
    v4 = v + dt * a3
    a4 = acceleration(x4, v4, k, c)
    x_new = x + dt / 6.0 * (v + 2.0 * v2 + 2.0 * v3 + v4)
    v_new = v + dt / 6.0 * (a1 + 2.0 * a2 + 2.0 * a3 + a4)
    return x_new, v_new


def simulate(k, c, x0, steps):
    """Positions at every step (a list of floats)."""
    x, v = x0, 0.0
    xs = [x]
    for _ in range(steps):
        x, v = rk4_step(x, v, k, c, DT)
        xs.append(x)
    return xs


def loss(k, c, x0, observed):
    """Mean squared error between the simulated and the observed positions."""
    x, v = x0, 0.0
    total = 0.0
    count = 0
    for step in range(STEPS):
        x, v = rk4_step(x, v, k, c, DT)
        if (step + 1) % OBSERVE_EVERY == 0:
            error = x - observed[count]
            total += error * error
            count += 1
    return total / count


def main():
    rng = np.random.default_rng(0)
    true = (4.0, 0.5, 1.0)                                  # k, c, x0
    clean = simulate(*true, STEPS)
    observed = np.array(clean[OBSERVE_EVERY::OBSERVE_EVERY]) + 0.03 * rng.standard_normal(
        STEPS // OBSERVE_EVERY)

    params = np.array([2.0, 1.5, 0.6])                      # initial guess
    value_and_grad = diffc.value_and_grad(loss, wrt=(0, 1, 2))
    m, s = np.zeros(3), np.zeros(3)
    rate, iterations = 0.05, (60 if QUICK else 400)
    history = []
    for it in range(1, iterations + 1):
        value, grads = value_and_grad(*params, observed)
        g = np.array(grads)
        m = 0.9 * m + 0.1 * g                               # Adam
        s = 0.999 * s + 0.001 * g * g
        params -= rate * (m / (1 - 0.9 ** it)) / (np.sqrt(s / (1 - 0.999 ** it)) + 1e-8)
        history.append(value)
        if it % (10 if QUICK else 50) == 0 or it == 1:
            print(f"iteration {it:4d}  loss {value:.5f}  k={params[0]:.3f} c={params[1]:.3f} "
                  f"x0={params[2]:.3f}", flush=True)
    print(f"true parameters     k={true[0]:.3f} c={true[1]:.3f} x0={true[2]:.3f}")
    print(f"fitted parameters   k={params[0]:.3f} c={params[1]:.3f} x0={params[2]:.3f}")
    plot(true, params, observed, history)
    return params, history


def plot(true, params, observed, history):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t = DT * np.arange(STEPS + 1)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.8))
    a.plot(t, simulate(*true, STEPS), "k--", label="true")
    a.plot(t[OBSERVE_EVERY::OBSERVE_EVERY], observed, "o", ms=3, label="observations")
    a.plot(t, simulate(*params, STEPS), label="fitted")
    a.set_xlabel("time"), a.set_ylabel("x"), a.legend(), a.set_title("damped oscillator (RK4)")
    b.semilogy(history), b.set_xlabel("iteration"), b.set_ylabel("loss"), b.set_title("training loss")
    fig.tight_layout()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ode_fit.png")
    fig.savefig(path, dpi=90)
    print("saved", path)


if __name__ == "__main__":
    main()
