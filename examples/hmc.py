"""Probabilistic programming: Bayesian logistic regression sampled with Hamiltonian Monte Carlo.

The log posterior (Gaussian prior, Bernoulli likelihood) is ordinary NumPy
code; diffc.grad gives its gradient for the leapfrog integrator.  Reports the
acceptance rate and the posterior means next to the weights that generated the
data, and plots the chains and the marginal posteriors.

Run:  python examples/hmc.py      (DIFFC_EXAMPLE_QUICK=1 for a short run)
Saves examples/hmc.png.
"""
import os

import numpy as np

import diffc

QUICK = os.environ.get("DIFFC_EXAMPLE_QUICK") == "1"
PRIOR_SCALE = 2.0


def log_posterior(w, x, y):
    """log p(w | x, y) up to a constant: N(0, PRIOR_SCALE^2) prior, logistic likelihood."""
    z = x @ w
    log_likelihood = np.sum(y * z - np.logaddexp(0.0, z))
    log_prior = -0.5 * np.sum(w * w) / (PRIOR_SCALE * PRIOR_SCALE)
    return log_likelihood + log_prior


def potential(w, x, y):
    return -log_posterior(w, x, y)


def leapfrog(w, p, step, n_steps, grad_u, x, y):
    """n_steps leapfrog steps of the Hamiltonian dynamics."""
    p = p - 0.5 * step * grad_u(w, x, y)
    for k in range(n_steps):
        w = w + step * p
        if k < n_steps - 1:
            p = p - step * grad_u(w, x, y)
    p = p - 0.5 * step * grad_u(w, x, y)
    return w, p


def hmc(w, x, y, samples, step, n_steps, rng):
    grad_u = diffc.grad(potential)
    chain, accepted = [], 0
    for k in range(samples):
        p = rng.standard_normal(w.shape)
        w_new, p_new = leapfrog(w, p, step, n_steps, grad_u, x, y)
        current = potential(w, x, y) + 0.5 * p @ p
        proposed = potential(w_new, x, y) + 0.5 * p_new @ p_new
        if np.log(rng.uniform()) < current - proposed:
            w, accepted = w_new, accepted + 1
        chain.append(w)
        if (k + 1) % (100 if QUICK else 500) == 0:
            print(f"sample {k + 1:5d}  acceptance {accepted / (k + 1):.2f}  w = {np.round(w, 2)}", flush=True)
    return np.array(chain), accepted / samples


def main():
    rng = np.random.default_rng(0)
    true_w = np.array([1.5, -2.0, 0.5])
    x = np.concatenate([rng.standard_normal((200, 2)), np.ones((200, 1))], axis=1)
    y = (rng.uniform(size=200) < 1.0 / (1.0 + np.exp(-x @ true_w))).astype(float)
    samples = 300 if QUICK else 3000
    chain, acceptance = hmc(np.zeros(3), x, y, samples, 0.15, 10, rng)
    burned = chain[samples // 5:]
    print(f"acceptance rate {acceptance:.2f}")
    print(f"posterior means {np.round(burned.mean(axis=0), 3)}  (weights that generated the data {true_w})")
    print(f"posterior std   {np.round(burned.std(axis=0), 3)}")
    plot(chain, burned, true_w)
    return acceptance, burned.mean(axis=0)


def plot(chain, burned, true_w):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    axes[0].plot(chain, lw=0.7)
    axes[0].set_xlabel("sample"), axes[0].set_title("HMC chains")
    for k in range(chain.shape[1]):
        axes[1].hist(burned[:, k], bins=40, alpha=0.5, density=True, label=f"w{k}")
        axes[1].axvline(true_w[k], color="k", lw=1)
    axes[1].legend(), axes[1].set_title("posterior marginals (lines: true weights)")
    fig.tight_layout()
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hmc.png")
    fig.savefig(path, dpi=90)
    print("saved", path)


if __name__ == "__main__":
    main()
