"""Machine learning: train a small MLP on two interleaved spirals.

A two-hidden-layer tanh network with a logistic output, written with plain
NumPy (matrix products, broadcasting, reductions).  diffc.value_and_grad gives
the loss and its gradient with respect to all six parameter arrays; training
is full-batch Adam.  Plots the loss curve and the decision boundary.

Run:  python examples/mlp.py      (DIFFC_EXAMPLE_QUICK=1 for a short run)
Saves examples/mlp.png.
"""
import os

import numpy as np

import diffc

QUICK = os.environ.get("DIFFC_EXAMPLE_QUICK") == "1"


def spirals(n, rng):
    """n points per class of two interleaved spirals, labels 0/1."""
    t = np.sqrt(rng.uniform(0.05, 1.0, n)) * 3.0 * np.pi
    a = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / 10.0
    x = np.concatenate([a, -a]) + 0.03 * rng.standard_normal((2 * n, 2))
    y = np.concatenate([np.zeros(n), np.ones(n)])
    return x, y


def predict(w1, b1, w2, b2, w3, b3, x):
    """Logits of the network for inputs x of shape (n, 2)."""
    h1 = np.tanh(x @ w1 + b1)
    h2 = np.tanh(h1 @ w2 + b2)
    return h2 @ w3 + b3


def loss(w1, b1, w2, b2, w3, b3, x, y):
    """Mean binary cross-entropy (numerically stable form) plus weight decay."""
    z = predict(w1, b1, w2, b2, w3, b3, x)[:, 0]
    bce = np.mean(np.maximum(z, 0.0) - z * y + np.log(1.0 + np.exp(-np.abs(z))))
    decay = 1e-4 * (np.sum(w1 * w1) + np.sum(w2 * w2) + np.sum(w3 * w3))
    return bce + decay


def init(rng, sizes):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append(rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in))
        params.append(np.zeros(fan_out))
    return params


def main():
    rng = np.random.default_rng(0)
    x, y = spirals(100, rng)
    params = init(rng, (2, 32, 32, 1))
    value_and_grad = diffc.value_and_grad(loss, wrt=(0, 1, 2, 3, 4, 5))
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    rate, iterations = 0.02, (80 if QUICK else 1500)
    history = []
    for it in range(1, iterations + 1):
        value, grads = value_and_grad(*params, x, y)
        history.append(value)
        for k, (p, g) in enumerate(zip(params, grads)):
            m, s = moments[k]
            m *= 0.9
            m += 0.1 * g
            s *= 0.999
            s += 0.001 * g * g
            p -= rate * (m / (1 - 0.9 ** it)) / (np.sqrt(s / (1 - 0.999 ** it)) + 1e-8)
        if it % (20 if QUICK else 250) == 0 or it == 1:
            accuracy = np.mean((predict(*params, x)[:, 0] > 0) == (y > 0.5))
            print(f"iteration {it:5d}  loss {value:.4f}  accuracy {accuracy:.3f}", flush=True)
    accuracy = float(np.mean((predict(*params, x)[:, 0] > 0) == (y > 0.5)))
    print(f"final training accuracy {accuracy:.3f}")
    plot(params, x, y, history)
    return history, accuracy


def plot(params, x, y, history):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.semilogy(history), a.set_xlabel("iteration"), a.set_ylabel("loss"), a.set_title("training loss")
    grid = np.linspace(-1.2, 1.2, 150)
    gx, gy = np.meshgrid(grid, grid)
    z = predict(*params, np.stack([gx.ravel(), gy.ravel()], axis=1))[:, 0].reshape(gx.shape)
    b.contourf(gx, gy, z > 0, alpha=0.3, cmap="coolwarm")
    b.scatter(x[:, 0], x[:, 1], c=y, s=8, cmap="coolwarm")
    b.set_aspect("equal"), b.set_title("decision boundary")
    fig.tight_layout()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mlp.png")
    fig.savefig(path, dpi=90)
    print("saved", path)


if __name__ == "__main__":
    main()
