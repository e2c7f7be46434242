"""Robotics: plan a 3-link arm's joint torques through a simulated dynamics loop.

Each joint is a damped double integrator driven by a torque; the joint limits
are enforced in the simulation itself with branches (a joint that hits its
limit stops there).  The loss is the end effector's distance to a target at
the final time plus a small effort penalty, and diffc gives its gradient with
respect to every torque of the trajectory (a T x 3 array) through the
simulation loop, the branches and the forward kinematics.

Run:  python examples/robot_arm.py      (DIFFC_EXAMPLE_QUICK=1 for a short run)
Saves examples/robot_arm.png.
"""
import math
import os

import numpy as np

import diffc

QUICK = os.environ.get("DIFFC_EXAMPLE_QUICK") == "1"
LINKS = (1.0, 0.8, 0.6)
LOWER = (-2.5, -2.0, -2.0)
UPPER = (2.5, 0.9, 2.0)
STEPS = 40
DT = 0.05
DAMPING = 1.0
TARGET = (0.9, 1.4)


def end_effector(q1, q2, q3):
    """Forward kinematics of the planar 3-link arm."""
    a1 = q1
    a2 = q1 + q2
    a3 = q1 + q2 + q3
    x = LINKS[0] * math.cos(a1) + LINKS[1] * math.cos(a2) + LINKS[2] * math.cos(a3)
    y = LINKS[0] * math.sin(a1) + LINKS[1] * math.sin(a2) + LINKS[2] * math.sin(a3)
    return x, y


def joint_step(q, v, torque, lower, upper):
    """One step of a damped joint; the joint stops at its limits."""
    v = v + DT * (torque - DAMPING * v)
    q = q + DT * v
    if q > upper:
        q = upper
        v = 0.0
    elif q < lower:
        q = lower
        v = 0.0
    return q, v


def loss(torques):
    """Squared distance of the final end effector to the target, plus effort."""
    q1, q2, q3 = 0.0, 0.0, 0.0
    v1, v2, v3 = 0.0, 0.0, 0.0
    effort = 0.0
    for t in range(STEPS):
        q1, v1 = joint_step(q1, v1, torques[t, 0], LOWER[0], UPPER[0])
        q2, v2 = joint_step(q2, v2, torques[t, 1], LOWER[1], UPPER[1])
        q3, v3 = joint_step(q3, v3, torques[t, 2], LOWER[2], UPPER[2])
        effort += torques[t, 0] ** 2 + torques[t, 1] ** 2 + torques[t, 2] ** 2
    x, y = end_effector(q1, q2, q3)
    dx = x - TARGET[0]
    dy = y - TARGET[1]
    return dx * dx + dy * dy + 1e-4 * effort


def rollout(torques):
    """Joint angles at every step (for plotting), same dynamics as loss."""
    q, v = [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]
    path = [tuple(q)]
    for t in range(STEPS):
        for j in range(3):
            q[j], v[j] = joint_step(q[j], v[j], torques[t, j], LOWER[j], UPPER[j])
        path.append(tuple(q))
    return path


def main():
    torques = np.zeros((STEPS, 3))
    grad = diffc.grad(loss)
    rate, iterations = 2.0, (30 if QUICK else 300)
    for it in range(1, iterations + 1):
        g = grad(torques)
        torques -= rate * g
        if it % (10 if QUICK else 50) == 0 or it == 1:
            q = rollout(torques)[-1]
            x, y = end_effector(*q)
            print(f"iteration {it:4d}  loss {loss(torques):.5f}  end effector ({x:.3f}, {y:.3f})", flush=True)
    final = rollout(torques)[-1]
    print(f"final joints {np.round(final, 3)}  end effector {np.round(end_effector(*final), 3)}  "
          f"target {TARGET}")
    plot(torques)
    return torques


def arm_points(q):
    a = np.cumsum(q)
    xs = np.concatenate([[0.0], np.cumsum(np.array(LINKS) * np.cos(a))])
    ys = np.concatenate([[0.0], np.cumsum(np.array(LINKS) * np.sin(a))])
    return xs, ys


def plot(torques):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    path = rollout(torques)
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    for k, q in enumerate(path[::5] + [path[-1]]):
        xs, ys = arm_points(q)
        a.plot(xs, ys, "-o", color=plt.cm.viridis(k / (len(path[::5]))), ms=3, lw=1.5)
    a.plot(*TARGET, "rx", ms=12, mew=3, label="target")
    a.set_aspect("equal"), a.legend(), a.set_title("arm trajectory")
    b.plot(DT * np.arange(STEPS), torques, label=["joint 1", "joint 2", "joint 3"])
    b.set_xlabel("time"), b.set_ylabel("torque"), b.legend(), b.set_title("optimized torques")
    fig.tight_layout()
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "robot_arm.png")
    fig.savefig(out, dpi=90)
    print("saved", out)


if __name__ == "__main__":
    main()
