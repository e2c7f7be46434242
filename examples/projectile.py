"""Physics: aim a projectile with air drag at a target.

The flight is simulated with small explicit steps in a `while` loop that runs
until the projectile hits the ground — the number of steps depends on the
launch velocity, and diffc differentiates through it (the trip count is taped,
the final step is interpolated so the landing point is smooth).  Gradient
descent on the launch velocity (vx, vy) puts the landing point on the target
while keeping the launch speed small.

Run:  python examples/projectile.py      (DIFFC_EXAMPLE_QUICK=1 for a short run)
Saves examples/projectile.png.
"""
import math
import os

import numpy as np

import diffc

QUICK = os.environ.get("DIFFC_EXAMPLE_QUICK") == "1"
GRAVITY = 9.81
DRAG = 0.02          # quadratic drag coefficient per unit mass
DT = 0.01
TARGET = 30.0        # metres
HEIGHT = 1.5         # launch height


def landing_distance(vx, vy):
    """Horizontal distance where the projectile lands (linear interpolation of the last step)."""
    x, y = 0.0, HEIGHT
    px, py = x, y
    while y >= 0.0:
        speed = math.sqrt(vx * vx + vy * vy)
        ax = -DRAG * speed * vx
        ay = -GRAVITY - DRAG * speed * vy
        px, py = x, y
        x = x + DT * vx
        y = y + DT * vy
        vx = vx + DT * ax
        vy = vy + DT * ay
    fraction = py / (py - y)
    return px + fraction * (x - px)


def loss(vx, vy):
    miss = landing_distance(vx, vy) - TARGET
    return miss * miss + 0.01 * (vx * vx + vy * vy)


def trajectory(vx, vy):
    xs, ys = [0.0], [HEIGHT]
    x, y = 0.0, HEIGHT
    while y >= 0.0:
        speed = math.hypot(vx, vy)
        x, y = x + DT * vx, y + DT * vy
        vx, vy = vx - DT * DRAG * speed * vx, vy - DT * (GRAVITY + DRAG * speed * vy)
        xs.append(x)
        ys.append(y)
    return xs, ys


def main():
    velocity = np.array([8.0, 4.0])
    start = velocity.copy()
    value_and_grad = diffc.value_and_grad(loss, wrt=(0, 1))
    rate, iterations = 0.4, (40 if QUICK else 200)
    m, s = np.zeros(2), np.zeros(2)
    for it in range(1, iterations + 1):
        value, (gx, gy) = value_and_grad(*velocity)
        g = np.array([gx, gy])
        m = 0.8 * m + 0.2 * g                               # Adam steps
        s = 0.99 * s + 0.01 * g * g
        velocity -= rate * (m / (1 - 0.8 ** it)) / (np.sqrt(s / (1 - 0.99 ** it)) + 1e-8)
        if it % (10 if QUICK else 50) == 0 or it == 1:
            print(f"iteration {it:4d}  loss {value:9.4f}  v=({velocity[0]:.3f}, {velocity[1]:.3f})  "
                  f"lands at {landing_distance(*velocity):.3f} m", flush=True)
    distance = landing_distance(*velocity)
    angle = math.degrees(math.atan2(velocity[1], velocity[0]))
    print(f"launch speed {np.hypot(*velocity):.3f} m/s at {angle:.1f} degrees lands at {distance:.3f} m "
          f"(target {TARGET} m)")
    plot(start, velocity)
    return velocity, distance


def plot(start, velocity):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for v, label in ((start, "initial guess"), (velocity, "optimized")):
        xs, ys = trajectory(*v)
        ax.plot(xs, ys, label=f"{label}: v=({v[0]:.2f}, {v[1]:.2f})")
    ax.plot([TARGET], [0.0], "rx", ms=12, mew=3, label="target")
    ax.axhline(0.0, color="k", lw=0.5)
    ax.set_xlabel("x [m]"), ax.set_ylabel("y [m]"), ax.legend(), ax.set_title("projectile with drag")
    fig.tight_layout()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "projectile.png")
    fig.savefig(path, dpi=90)
    print("saved", path)


if __name__ == "__main__":
    main()
