"""Issue 16 corpus, part 2: objectives written the way public scientific example code is
written -- helpers, lists of (W, b), classes built from arrays, *args, generators,
shapes unpacked, noise sampled inside the objective, optimizers and integrators
taking functions as values, grad inside the objective.  Each is a function of one
float array (the thing a user differentiates), used unchanged by
tests/test_calls16_corpus.py.  Written for diffc's tests; not copied from anywhere.

Each entry of PROGRAMS is (function, example argument, twice differentiable?)."""

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

import diffc

RNG = np.random.default_rng(20161)


# ------------------------------------------------------------------ shared helpers

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softplus(z):
    return np.log1p(np.exp(z))


def logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def softmax(z, axis=-1):
    e = np.exp(z - np.max(z, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def unflatten(theta, shapes):
    """Yields the arrays packed in the flat vector theta, one per shape."""
    start = 0
    for shape in shapes:
        size = int(np.prod(shape))
        yield np.reshape(theta[start:start + size], shape)
        start += size


# ------------------------------------------------------- 1. MLP, list of (W, b)

MLP_X = RNG.normal(size=(4, 3))
MLP_Y = RNG.normal(size=(4, 2))
MLP_SHAPES = [(3, 3), (3,), (2, 3), (2,)]


def init_mlp(sizes, rng):
    return [(rng.normal(size=(m, n)) * 0.5, np.zeros(m)) for n, m in zip(sizes[:-1], sizes[1:])]


def mlp_forward(params, inputs, nonlinearity=np.tanh):
    h = inputs
    for W, b in params[:-1]:
        h = nonlinearity(h @ W.T + b)
    W, b = params[-1]
    return h @ W.T + b


def mlp_squared_error(theta):
    W1, b1, W2, b2 = unflatten(theta, MLP_SHAPES)
    params = [(W1, b1), (W2, b2)]
    preds = mlp_forward(params, MLP_X)
    return 0.5 * np.mean((preds - MLP_Y) ** 2)


# ------------------------------------------------------- 2. MLP wrt its inputs

MLP_PARAMS = init_mlp([3, 4, 4, 1], np.random.default_rng(3))


def mlp_input_sensitivity(x):
    out = mlp_forward(MLP_PARAMS, x[None, :], nonlinearity=softplus)
    return out[0, 0] ** 2


# --------------------------------------------------------- 3. LSTM with *args

LSTM_HIDDEN = 2
LSTM_IN = 2
_lstm_rng = np.random.default_rng(4)
LSTM_WEIGHTS = {gate: (_lstm_rng.normal(size=(LSTM_HIDDEN, LSTM_IN)) * 0.4,
                       _lstm_rng.normal(size=(LSTM_HIDDEN, LSTM_HIDDEN)) * 0.4,
                       np.zeros(LSTM_HIDDEN))
                for gate in ("input", "forget", "output", "cell")}


def linear_combination(*pairs, bias=0.0):
    out = bias
    for W, v in pairs:
        out = out + W @ v
    return out


def lstm_cell(x, h, c, weights):
    def gate(name, act=sigmoid):
        Wx, Wh, b = weights[name]
        return act(linear_combination((Wx, x), (Wh, h), bias=b))
    i, f, o = gate("input"), gate("forget"), gate("output")
    g = gate("cell", act=np.tanh)
    c = f * c + i * g
    return o * np.tanh(c), c


def lstm_final_state(sequence_flat):
    sequence = np.reshape(sequence_flat, (-1, LSTM_IN))
    T, _ = sequence.shape
    h = np.zeros(LSTM_HIDDEN)
    c = np.zeros(LSTM_HIDDEN)
    for t in range(T):
        h, c = lstm_cell(sequence[t], h, c, LSTM_WEIGHTS)
    return np.sum(h ** 2) + 0.1 * np.sum(c)


# ------------------------------------------------------ 4. RNN, shapes unpacked

RNN_INPUTS = RNG.normal(size=(3, 2))


def rnn_step(h, x, params):
    Wh, Wx, b = params
    return np.tanh(Wh @ h + Wx @ x + b)


def rnn_loss(theta):
    Wh, Wx, b = unflatten(theta, [(2, 2), (2, 2), (2,)])
    n_steps, n_in = RNN_INPUTS.shape
    h = np.zeros(Wh.shape[0])
    loss = 0.0
    for t in range(n_steps):
        h = rnn_step(h, RNN_INPUTS[t], (Wh, Wx, b))
        loss = loss + np.sum((h - 0.1 * t) ** 2) / n_in
    return loss


# --------------------------------------------- 5. GP marginal likelihood, kernel value

GP_X = np.linspace(-1.0, 1.0, 5)
GP_Y = np.sin(2.5 * GP_X) + 0.1 * np.cos(7 * GP_X)


def rbf_kernel(a, b, lengthscale, variance):
    sqdist = (a[:, None] - b[None, :]) ** 2
    return variance * np.exp(-0.5 * sqdist / lengthscale ** 2)


def gp_neg_log_marginal(log_params, kernel=rbf_kernel):
    lengthscale, variance, noise = np.exp(log_params)
    n = len(GP_X)
    K = kernel(GP_X, GP_X, lengthscale, variance) + noise * np.eye(n)
    L = np.linalg.cholesky(K)
    alpha = np.linalg.solve(K, GP_Y)
    return 0.5 * GP_Y @ alpha + np.sum(np.log(np.diag(L))) + 0.5 * n * np.log(2 * np.pi)


# ------------------------------------------------- 6. GP with a partial kernel

def matern_like(a, b, lengthscale, power=2.0):
    r2 = (a[:, None] - b[None, :]) ** 2 / lengthscale ** 2
    return (1.0 + r2 / (2.0 * power)) ** (-power)


def gp_partial_kernel(log_ls):
    kern = functools.partial(matern_like, power=1.5)
    K = kern(GP_X, GP_X, np.exp(log_ls[0])) + np.exp(log_ls[1]) * np.eye(GP_X.shape[0])
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * GP_Y @ np.linalg.solve(K, GP_Y) + 0.5 * logdet


# --------------------------------------------- 7. Gaussian mixture, logsumexp helper

GMM_DATA = np.concatenate([RNG.normal(-1.0, 0.5, size=4), RNG.normal(1.5, 0.7, size=4)])


def gmm_nll(params):
    means, log_stds, logits = params[:2], params[2:4], params[4:]
    log_weights = logits - logsumexp(logits)
    x = GMM_DATA[:, None]
    log_prob = -0.5 * ((x - means) / np.exp(log_stds)) ** 2 - log_stds - 0.5 * np.log(2 * np.pi)
    return -np.sum(logsumexp(log_prob + log_weights, axis=1))


# ------------------------------------------ 8. GMM as a class, bound method passed

class MixtureModel:
    def __init__(self, data, n_components):
        self.data = data
        self.k = n_components

    def unpack(self, theta):
        k = self.k
        return theta[:k], theta[k:2 * k], theta[2 * k:]

    def log_likelihood(self, theta):
        means, log_scales, logits = self.unpack(theta)
        z = (self.data[:, None] - means[None, :]) / np.exp(log_scales)
        log_comp = -0.5 * z ** 2 - log_scales
        return np.sum(logsumexp(log_comp + logits - logsumexp(logits), axis=1))

    def loss(self, theta):
        return -self.log_likelihood(theta) / len(self.data)


MIXTURE = MixtureModel(GMM_DATA, 2)


# ------------------------------------------------ 9. VI with reparameterization

def log_target(z):
    return -0.5 * np.sum(z ** 2) - 0.25 * np.sum(z ** 4) + np.sum(np.sin(z))


def elbo_estimate(var_params, n_samples=4):
    d = var_params.shape[0] // 2
    mean, log_std = var_params[:d], var_params[d:]
    rng = np.random.default_rng(0)               # fixed noise: a deterministic objective
    total = 0.0
    for _ in range(n_samples):
        eps = rng.normal(size=mean.shape)
        z = mean + np.exp(log_std) * eps
        total = total + log_target(z)
    entropy = np.sum(log_std) + 0.5 * d * (1.0 + np.log(2 * np.pi))
    return -(total / n_samples + entropy)


# -------------------------------------------- 10. VAE from layer objects built inside

class Dense:
    def __init__(self, W, b, activation=None):
        self.W = W
        self.b = b
        self.activation = activation

    def __call__(self, x):
        z = self.W @ x + self.b
        return z if self.activation is None else self.activation(z)


VAE_X = np.array([0.3, -0.5, 0.8])
VAE_SHAPES = [(4, 3), (4,), (3, 2), (3,)]


def vae_loss(theta):
    W_enc, b_enc, W_dec, b_dec = unflatten(theta, VAE_SHAPES)
    encoder = Dense(W_enc, b_enc)
    decoder = Dense(W_dec, b_dec, activation=np.tanh)
    stats = encoder(VAE_X)
    mu, log_var = stats[:2], stats[2:]
    eps = np.random.RandomState(7).randn(*mu.shape)
    z = mu + np.exp(0.5 * log_var) * eps
    recon = decoder(z)
    kl = -0.5 * np.sum(1 + log_var - mu ** 2 - np.exp(log_var))
    return np.sum((recon - VAE_X) ** 2) + kl


# ------------------------------------------------------ 11. smoke: advect + diffuse

def diffuse(density, rate):
    rows, cols = density.shape
    out = density.copy()
    out[1:-1, 1:-1] = density[1:-1, 1:-1] + rate * (
        density[:-2, 1:-1] + density[2:, 1:-1] + density[1:-1, :-2] + density[1:-1, 2:]
        - 4 * density[1:-1, 1:-1])
    return out


def advect(density, shift):
    return 0.7 * density + 0.3 * np.roll(density, shift, axis=1)


def smoke_simulation(initial_flat, steps=3):
    density = np.reshape(initial_flat, (3, 4))
    for t in range(steps):
        density = diffuse(density, 0.1)
        density = advect(density, 1)
    target = np.linspace(0.0, 1.0, density.size).reshape(density.shape)
    return np.sum((density - target) ** 2)


# --------------------------------------------------- 12. conv net built from classes

class Conv1D:
    def __init__(self, kernel, bias):
        self.kernel = kernel
        self.bias = bias

    @property
    def width(self):
        return self.kernel.shape[0]

    def __call__(self, signal):
        n = signal.shape[0] - self.width + 1
        return np.array([np.sum(signal[i:i + self.width] * self.kernel) for i in range(n)]) + self.bias


class ConvNet:
    def __init__(self, kernels, biases):
        self.layers = [Conv1D(k, b) for k, b in zip(kernels, biases)]

    def __call__(self, signal):
        h = signal
        for layer in self.layers:
            h = np.tanh(layer(h))
        return h


CONV_SIGNAL = np.sin(np.linspace(0.0, 3.0, 7))


def convnet_loss(theta):
    net = ConvNet([theta[:3], theta[3:5]], [theta[5], -0.1])
    out = net(CONV_SIGNAL)
    return np.sum((out - 0.2) ** 2)


# ------------------------------------------- 13. logistic regression Model class

LR_X = RNG.normal(size=(6, 3))
LR_Y = (RNG.random(6) > 0.5).astype(float)


class LogisticRegression:
    def __init__(self, X, y, l2=0.1):
        self.X = X
        self.y = y
        self.l2 = l2

    def predict(self, w):
        return sigmoid(self.X @ w)

    def loss(self, w):
        p = self.predict(w)
        eps = 1e-12
        nll = -np.mean(self.y * np.log(p + eps) + (1 - self.y) * np.log(1 - p + eps))
        return nll + 0.5 * self.l2 * np.dot(w, w)


LR_MODEL = LogisticRegression(LR_X, LR_Y)


# ----------------------------------------- 14. an optimizer taking loss_fn as a value

def quadratic_bowl(w, A=np.array([[2.0, 0.3], [0.3, 1.0]])):
    return 0.5 * w @ A @ w + np.sum(np.cos(w))


def gradient_descent(loss_fn, w, lr=0.1, steps=3):
    grad_fn = diffc.grad(loss_fn)
    for _ in range(steps):
        w = w - lr * grad_fn(w)
    return w


def unrolled_optimization(w0):
    w_final = gradient_descent(quadratic_bowl, w0, lr=0.2)
    return quadratic_bowl(w_final)


# ----------------------------------------------------- 15. *args / **kwargs helpers

def weighted_terms(*terms, weights=None, **options):
    scale = options.get("scale", 1.0)
    if weights is None:
        weights = [1.0] * len(terms)
    return scale * sum(w * t for w, t in zip(weights, terms))


def regularized_fit(w):
    residual = np.sum((LR_X[:, :2] @ w - LR_Y) ** 2)
    l2 = np.sum(w ** 2)
    l1_smooth = np.sum(np.sqrt(w ** 2 + 1e-3))
    return weighted_terms(residual, l2, l1_smooth, weights=[1.0, 0.1, 0.05], scale=0.5)


# ------------------------------------------------- 16. a generator of (W, b) pairs

def layer_pairs(flat, sizes):
    start = 0
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        W = np.reshape(flat[start:start + n_in * n_out], (n_out, n_in))
        start += n_in * n_out
        b = flat[start:start + n_out]
        start += n_out
        yield W, b


def generator_network(flat):
    h = np.array([0.5, -0.3])
    for W, b in layer_pairs(flat, [2, 2, 1]):
        h = np.sin(W @ h + b)
    return np.sum(h ** 2)


# ---------------------------------------------- 17. ridge regression, n, d = X.shape

RIDGE_X = RNG.normal(size=(5, 3))
RIDGE_Y = RNG.normal(size=5)


def ridge_objective(w, lam=0.3):
    n, d = RIDGE_X.shape
    residual = RIDGE_Y - RIDGE_X @ w
    return residual @ residual / n + lam * w @ w / d


# ------------------------------------------- 18. softmax classifier, fancy indexing

SM_X = RNG.normal(size=(5, 2))
SM_LABELS = np.array([0, 2, 1, 2, 0])


def softmax_cross_entropy(W_flat):
    W = W_flat.reshape(2, 3)
    logits = SM_X @ W
    n, k = logits.shape
    log_probs = logits - logsumexp(logits, axis=1)[:, None]
    return -np.mean(log_probs[np.arange(n), SM_LABELS])


# ---------------------------------------- 19. mass-spring chain with a force function

def spring_forces(x, k=1.5):
    stretch = np.diff(x) - 1.0
    f = np.zeros_like(x)
    f[:-1] += k * stretch
    f[1:] -= k * stretch
    return f


def leapfrog(x, v, force_fn, dt=0.1, steps=4):
    for _ in range(steps):
        v = v + 0.5 * dt * force_fn(x)
        x = x + dt * v
        v = v + 0.5 * dt * force_fn(x)
    return x, v


def spring_chain(x0):
    x, v = leapfrog(x0, np.zeros_like(x0), spring_forces)
    return np.sum(x ** 2) + 0.5 * np.sum(v ** 2)


# ------------------------------------------------ 20. RK4 with *params forwarded

def lotka_volterra(state, t, alpha, beta, gamma, delta):
    prey, pred = state
    return np.array([alpha * prey - beta * prey * pred, delta * prey * pred - gamma * pred])


def rk4(rhs, y0, ts, *params):
    ys = [y0]
    y = y0
    for i in range(len(ts) - 1):
        h = ts[i + 1] - ts[i]
        t = ts[i]
        k1 = rhs(y, t, *params)
        k2 = rhs(y + 0.5 * h * k1, t + 0.5 * h, *params)
        k3 = rhs(y + 0.5 * h * k2, t + 0.5 * h, *params)
        k4 = rhs(y + h * k3, t + h, *params)
        y = y + h / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        ys.append(y)
    return np.stack(ys)


ODE_TIMES = np.linspace(0.0, 0.6, 4)
ODE_OBSERVED = np.array([[1.0, 0.5], [1.1, 0.48], [1.2, 0.47], [1.3, 0.46]])


def ode_fit(params):
    trajectory = rk4(lotka_volterra, np.array([1.0, 0.5]), ODE_TIMES, *params)
    return np.sum((trajectory - ODE_OBSERVED) ** 2)


# --------------------------------------------------- 21. attention with a helper

ATT_Q = RNG.normal(size=(3, 2))
ATT_V = RNG.normal(size=(3, 2))


def attention(Q, K, V):
    n, d = Q.shape
    scores = Q @ K.T / np.sqrt(d)
    return softmax(scores, axis=-1) @ V


def attention_loss(K_flat):
    K = K_flat.reshape(ATT_Q.shape)
    out = attention(ATT_Q, K, ATT_V)
    return np.sum(out ** 2)


# ------------------------------------------------------- 22. layer norm keywords

def layer_norm(x, gain, bias, eps=1e-5):
    mean = np.mean(x, axis=-1, keepdims=True)
    var = np.var(x, axis=-1, keepdims=True)
    return gain * (x - mean) / np.sqrt(var + eps) + bias


def normalized_features(x):
    h = layer_norm(x.reshape(2, 3), gain=np.array([1.0, 0.5, 2.0]), bias=0.1, eps=1e-3)
    return np.sum(np.tanh(h) * np.arange(6).reshape(2, 3))


# -------------------------------------- 23. Poisson regression with a config dataclass

@dataclass(frozen=True)
class FitConfig:
    l2: float = 0.05
    offset: float = 0.2


POIS_X = RNG.normal(size=(6, 2)) * 0.5
POIS_COUNTS = np.array([0.0, 1.0, 3.0, 2.0, 0.0, 1.0])


def poisson_nll(w, config=FitConfig()):
    rate = np.exp(POIS_X @ w + config.offset)
    return np.sum(rate - POIS_COUNTS * np.log(rate)) + config.l2 * np.sum(w ** 2)


# --------------------------------------- 24. hierarchical model, NamedTuple built inside

class HierParams(NamedTuple):
    mu: float
    log_tau: float
    theta: np.ndarray


SCHOOL_Y = np.array([2.0, -1.0, 0.5])
SCHOOL_SIGMA = np.array([1.0, 1.5, 0.8])


def hierarchical_log_joint(flat):
    p = HierParams(mu=flat[0], log_tau=flat[1], theta=flat[2:])
    tau = np.exp(p.log_tau)
    prior = -0.5 * np.sum((p.theta - p.mu) ** 2) / tau ** 2 - len(p.theta) * p.log_tau
    likelihood = -0.5 * np.sum(((SCHOOL_Y - p.theta) / SCHOOL_SIGMA) ** 2)
    return -(prior + likelihood - 0.5 * p.mu ** 2)


# ---------------------------------------- 25. a dataclass of parameters built inside

@dataclass
class TwoLayerParams:
    W1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray

    def predict(self, x):
        return self.w2 @ np.tanh(self.W1 @ x + self.b1)


DC_INPUTS = [np.array([0.2, -0.4]), np.array([1.0, 0.3]), np.array([-0.5, 0.9])]
DC_TARGETS = [0.1, -0.2, 0.4]


def dataclass_regression(flat):
    params = TwoLayerParams(W1=flat[:4].reshape(2, 2), b1=flat[4:6], w2=flat[6:8])
    return sum((params.predict(x) - y) ** 2 for x, y in zip(DC_INPUTS, DC_TARGETS))


# ----------------------------------------- 26. kernels in a dict, chosen by name

def linear_kernel(a, b, scale):
    return scale * np.outer(a, b)


def periodic_kernel(a, b, scale):
    return np.exp(-2.0 * np.sin(np.pi * (a[:, None] - b[None, :])) ** 2 / scale ** 2)


KERNELS = {"linear": linear_kernel, "periodic": periodic_kernel}


def kernel_ridge(log_scales, names=("linear", "periodic")):
    K = np.eye(len(GP_X)) * 0.3
    for name, log_s in zip(names, log_scales):
        K = K + KERNELS[name](GP_X, GP_X, np.exp(log_s))
    alpha = np.linalg.solve(K, GP_Y)
    return GP_Y @ alpha


# ------------------------------------------ 27. a lambda capturing a parameter

def tempered_activation(x):
    temperature = 0.5 + x[0] ** 2
    act = lambda z: z / np.sqrt(1.0 + (z / temperature) ** 2)     # noqa: E731
    return np.sum(act(x) ** 2) + act(x[1] * x[2])


# ------------------------------------------- 28. Hamiltonian dynamics, nested grad

def hamiltonian(q, p):
    return 0.5 * np.sum(p ** 2) + np.sum(1.0 - np.cos(q))


def hamiltonian_flow(q0, steps=3, dt=0.2):
    q, p = q0, np.zeros_like(q0)
    dHdq = diffc.grad(hamiltonian, wrt=0)
    for _ in range(steps):
        p = p - 0.5 * dt * dHdq(q, p)
        q = q + dt * p
        p = p - 0.5 * dt * dHdq(q, p)
    return np.sum(q ** 2) + np.sum(p)


# ------------------------------------------------- 29. score matching, grad inside

def log_density(x, theta):
    return -np.sum(theta * x ** 2) - 0.1 * np.sum(x ** 4)


SM_SAMPLES = [np.array([0.3, -0.2]), np.array([1.0, 0.5]), np.array([-0.7, 0.1])]


def score_matching(theta):
    score = diffc.grad(log_density, wrt=0)
    total = 0.0
    for x in SM_SAMPLES:
        s = score(x, theta)
        trace = np.sum(-2.0 * theta - 1.2 * x ** 2)
        total = total + 0.5 * np.sum(s ** 2) + trace
    return total / len(SM_SAMPLES)


# --------------------------------------- 30. energy over rows, generator expression

def pair_energy(a, b):
    r2 = np.sum((a - b) ** 2) + 0.5
    return 1.0 / r2 - 0.5 / np.sqrt(r2)


def cluster_energy(flat):
    points = flat.reshape(-1, 2)
    n, _ = points.shape
    return sum(pair_energy(points[i], points[j]) for i in range(n) for j in range(i + 1, n))


# ----------------------------------------------------- 31. a fixed dropout mask

def dropout_mlp(x, keep=0.7):
    rng = np.random.default_rng(11)
    h = np.tanh(MLP_PARAMS[0][0] @ x + MLP_PARAMS[0][1])
    mask = rng.random(size=h.shape) < keep
    h = h * mask / keep
    return np.sum(h ** 2)


# ------------------------------------------ 32. heat equation with errstate and try

def heat_step(u, alpha):
    with np.errstate(over="raise"):
        lap = np.zeros_like(u)
        lap[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:]
    return u + alpha * lap


def heat_equation(u0, alpha=0.2, steps=4):
    u = u0
    for _ in range(steps):
        try:
            u = heat_step(u, alpha)
        except FloatingPointError:
            u = u * 0.0
    return np.sum(u ** 3)


# ------------------------------------------------- 33. cross-validation folds

FOLDS = [(np.array([0, 1, 2]), np.array([3, 4])), (np.array([2, 3, 4]), np.array([0, 1]))]


def cross_validated_error(w):
    total = 0.0
    for train, test in FOLDS:
        train_loss = np.mean((RIDGE_X[train] @ w - RIDGE_Y[train]) ** 2)
        test_loss = np.mean((RIDGE_X[test] @ w - RIDGE_Y[test]) ** 2)
        total = total + train_loss + 0.5 * test_loss
    return total / len(FOLDS)


# ---------------------------------- 34. Euler integration with a partial of the weights

def dynamics(state, W, damping=0.1):
    return np.tanh(W @ state) - damping * state


def euler(f, y0, dt=0.1, steps=4):
    y = y0
    for _ in range(steps):
        y = y + dt * f(y)
    return y


def neural_ode(W_flat):
    W = W_flat.reshape(2, 2)
    f = functools.partial(dynamics, W=W, damping=0.2)
    y = euler(f, np.array([1.0, -0.5]))
    return np.sum((y - np.array([0.5, 0.5])) ** 2)


# ----------------------------------------------- 35. tied autoencoder class inside

class TiedAutoencoder:
    def __init__(self, W, bias):
        self.W = W
        self.bias = bias

    def encode(self, x):
        return np.tanh(self.W @ x + self.bias)

    def decode(self, h):
        return self.W.T @ h

    def reconstruction_error(self, x):
        return np.sum((self.decode(self.encode(x)) - x) ** 2)


AE_DATA = [np.array([0.5, -0.2, 0.1]), np.array([-0.3, 0.8, 0.4])]


def tied_autoencoder(theta):
    model = TiedAutoencoder(theta[:6].reshape(2, 3), theta[6:])
    return sum(model.reconstruction_error(x) for x in AE_DATA)


# ------------------------------------------------- 36. policy log-likelihood

ACTIONS = np.random.default_rng(5).integers(0, 3, size=4)
STATES = RNG.normal(size=(4, 2))


def policy_log_likelihood(theta):
    W = theta.reshape(3, 2)
    total = 0.0
    for s, a in zip(STATES, ACTIONS):
        logits = W @ s
        total = total + logits[a] - logsumexp(logits)
    return -total


# ------------------------------------------------------- 37. recursion on a tree

def tree_sum(x, depth):
    if depth == 0:
        return np.sin(x)
    left = tree_sum(x * 0.5, depth - 1)
    right = tree_sum(x + 0.1, depth - 1)
    return left * right + x


def recursive_tree(x):
    return np.sum(tree_sum(x, 2))


# ----------------------------------------------- 38. matrix factorization, dict of ratings

RATINGS = {(0, 1): 4.0, (1, 0): 2.0, (1, 2): 3.5, (2, 1): 1.0, (0, 0): 5.0}


def matrix_factorization(theta, rank=2, lam=0.05):
    U, V = np.split(theta, 2)
    U = U.reshape(3, rank)
    V = V.reshape(3, rank)
    loss = 0.0
    for (i, j), r in RATINGS.items():
        loss = loss + (U[i] @ V[j] - r) ** 2
    return loss + lam * (np.sum(U ** 2) + np.sum(V ** 2))


# ------------------------------------------------- 39. Kalman filter likelihood

KF_OBS = np.array([0.2, 0.5, 0.4, 0.9])


def kalman_log_likelihood(log_noise):
    q, r = np.exp(log_noise)
    mean, var = 0.0, 1.0
    ll = 0.0
    for y in KF_OBS:
        var = var + q
        s = var + r
        gain = var / s
        ll = ll - 0.5 * (np.log(2 * np.pi * s) + (y - mean) ** 2 / s)
        mean = mean + gain * (y - mean)
        var = (1 - gain) * var
    return -ll


# --------------------------------- 40. a property on an object built from the parameters

class ScaledLinear:
    def __init__(self, raw, log_scale):
        self.raw = raw
        self.log_scale = log_scale

    @property
    def weight(self):
        return self.raw * np.exp(self.log_scale)

    def __call__(self, x):
        return self.weight @ x


def property_model(theta):
    layer = ScaledLinear(theta[:4].reshape(2, 2), theta[4])
    return np.sum(np.sin(layer(np.array([0.3, -0.6]))))


# ------------------------------------------- 41. subclass with super().__init__

class Base:
    def __init__(self, W):
        self.W = W


class Residual(Base):
    def __init__(self, W, gain):
        super().__init__(W)
        self.gain = gain

    def forward(self, x):
        return x + self.gain * np.tanh(self.W @ x)


def residual_stack(theta):
    blocks = [Residual(theta[:4].reshape(2, 2), 0.5), Residual(theta[4:8].reshape(2, 2), theta[8])]
    h = np.array([0.4, -0.1])
    for block in blocks:
        h = block.forward(h)
    return np.sum(h ** 2)


# ------------------------------------------------ 42. classmethod constructor, zip(*pairs)

class Gaussian:
    def __init__(self, mean, log_std):
        self.mean = mean
        self.log_std = log_std

    @classmethod
    def from_vector(cls, v):
        return cls(v[0], v[1])

    def log_pdf(self, x):
        return -0.5 * ((x - self.mean) / np.exp(self.log_std)) ** 2 - self.log_std


def classmethod_constructor(v):
    pairs = [(v[0], v[1]), (v[2], v[3])]
    means, log_stds = zip(*pairs)
    dists = [Gaussian.from_vector(np.array([m, s])) for m, s in zip(means, log_stds)]
    return -sum(np.sum(d.log_pdf(GMM_DATA[:3])) for d in dists)



# ------------------------------------------------ part 3: more Python, same science
import contextlib                                    # noqa: E402
import itertools                                     # noqa: E402,F401


def batches(X, size):
    n, _ = X.shape
    for start in range(0, n, size):
        yield X[start:start + size]

BATCH_DATA = np.random.default_rng(3).normal(size=(6, 2))


def minibatch_loss(w):
    total = 0.0
    for batch in batches(BATCH_DATA, 4):
        total = total + np.mean(np.tanh(batch @ w) ** 2)
    return total


def activations():
    return {"tanh": np.tanh, "soft": lambda z: np.log1p(np.exp(z)), "sin": np.sin}


def pick_by_name(x, name="soft"):
    act = activations()[name]
    return np.sum(act(x) * x)


def match_loss(x, kind="huber"):
    r = x - 0.1
    match kind:
        case "l2":
            return np.sum(r ** 2)
        case "huber":
            return np.sum(np.sqrt(1.0 + r ** 2) - 1.0)
        case _:
            return np.sum(np.abs(r))


def with_context(x):
    with contextlib.suppress(ZeroDivisionError):
        y = np.sum(x ** 2) / 1.0
    with np.errstate(divide="ignore"):
        z = np.sum(np.log(x ** 2 + 1.0))
    return y + z


def walrus_loss(x):
    if (n := np.sum(x ** 2)) > 0.1:
        return n * np.sin(n)
    return n


def recursive_power(x, n=3):
    if n == 0:
        return 1.0
    return x * recursive_power(x, n - 1)


def recursion_loss(x):
    return np.sum(recursive_power(x) + recursive_power(np.sin(x), 2))


def kwargs_forward(x, **opts):
    return inner_kw(x, **opts)


def inner_kw(x, power=2, scale=1.0):
    return scale * np.sum(x ** power)


def kwargs_loss(x):
    return kwargs_forward(x, power=3, scale=0.5) + kwargs_forward(x)


def enumerate_zip(x):
    ws = [0.5, -1.0, 2.0]
    total = 0.0
    for i, (w, v) in enumerate(zip(ws, x)):
        total = total + (i + 1) * w * np.sin(v)
    return total


def nested_comp(x):
    m = [[x[i] * x[j] for j in range(3) if j != i] for i in range(3)]
    return sum(sum(row) for row in m)


def dict_comp(x):
    d = {f"k{i}": x[i] ** 2 for i in range(3)}
    return sum(v for k, v in d.items() if k != "k1") + d["k1"] * 3


def sorted_key(x):
    vals = sorted([x[0], x[1] * 2, x[2] - 1], key=lambda v: v)
    return vals[0] * vals[-1]


def ode_solver_class(x):
    class_solver = Euler(lambda y: -x[0] * y + np.sin(y), dt=0.1)
    return np.sum(class_solver.run(x, 3))


class Euler:
    def __init__(self, f, dt):
        self.f = f
        self.dt = dt
    def run(self, y, n):
        for _ in range(n):
            y = y + self.dt * self.f(y)
        return y


def jacobian_inside(x):
    J = diffc.jacobian(lambda v: np.sin(v) * v[0])(x)
    return np.sum(J ** 2)


def hvp_inside(x):
    hv = diffc.hvp(lambda v: np.sum(np.sin(v) ** 2))(x, np.ones(3))
    return np.sum(hv * x)




def compose(*fs):
    def composed(x):
        for f in reversed(fs):
            x = f(x)
        return x
    return composed


def composition(x):
    h = compose(np.sin, np.tanh, lambda v: v * 2.0)
    return np.sum(h(x) ** 2) + min(x * 2) + max(np.cos(v) for v in x)

PROGRAMS = [
    (mlp_squared_error, RNG.normal(size=20) * 0.5, True),
    (mlp_input_sensitivity, RNG.normal(size=3), True),
    (lstm_final_state, RNG.normal(size=6), True),
    (rnn_loss, RNG.normal(size=10) * 0.5, True),
    (gp_neg_log_marginal, np.array([-0.3, 0.1, -1.5]), True),
    (gp_partial_kernel, np.array([-0.2, -1.0]), True),
    (gmm_nll, np.array([-0.8, 1.2, -0.5, -0.3, 0.2, -0.1]), True),
    (MIXTURE.loss, np.array([-0.9, 1.4, -0.6, -0.2, 0.1, -0.1]), True),
    (elbo_estimate, np.array([0.2, -0.3, -0.5, -0.2]), True),
    (vae_loss, RNG.normal(size=26) * 0.3, True),
    (smoke_simulation, RNG.normal(size=12), True),
    (convnet_loss, np.array([0.5, -0.2, 0.3, 0.8, -0.4, 0.05]), True),
    (LR_MODEL.loss, RNG.normal(size=3), True),
    (unrolled_optimization, np.array([0.7, -0.4]), True),
    (regularized_fit, np.array([0.4, -0.3]), True),
    (generator_network, RNG.normal(size=9) * 0.7, True),
    (ridge_objective, RNG.normal(size=3), True),
    (softmax_cross_entropy, RNG.normal(size=6) * 0.5, True),
    (spring_chain, np.array([0.0, 1.2, 1.9, 3.1]), True),
    (ode_fit, np.array([1.1, 0.4, 0.9, 0.3]), True),
    (attention_loss, RNG.normal(size=6), True),
    (normalized_features, RNG.normal(size=6), True),
    (poisson_nll, np.array([0.3, -0.2]), True),
    (hierarchical_log_joint, np.array([0.4, -0.2, 1.0, -0.5, 0.3]), True),
    (dataclass_regression, RNG.normal(size=8) * 0.6, True),
    (kernel_ridge, np.array([-0.5, 0.2]), True),
    (tempered_activation, np.array([0.6, -0.4, 0.9]), True),
    (hamiltonian_flow, np.array([0.4, -0.7]), True),
    (score_matching, np.array([0.8, 1.3]), True),
    (cluster_energy, np.array([0.0, 0.1, 1.0, -0.2, 0.3, 1.1]), True),
    (dropout_mlp, RNG.normal(size=3), True),
    (heat_equation, np.array([0.0, 0.5, 1.0, 0.3, 0.1]), True),
    (cross_validated_error, RNG.normal(size=3), True),
    (neural_ode, RNG.normal(size=4) * 0.5, True),
    (tied_autoencoder, RNG.normal(size=8) * 0.5, True),
    (policy_log_likelihood, RNG.normal(size=6) * 0.5, True),
    (recursive_tree, RNG.normal(size=2), True),
    (matrix_factorization, RNG.normal(size=12) * 0.7, True),
    (kalman_log_likelihood, np.array([-1.0, -0.5]), True),
    (property_model, RNG.normal(size=5) * 0.5, True),
    (residual_stack, RNG.normal(size=9) * 0.5, True),
    (classmethod_constructor, np.array([0.1, -0.2, 0.5, 0.3]), True),
    (minibatch_loss, np.array([0.4, -0.3]), True),
    (pick_by_name, np.array([0.4, -0.3, 0.7]), True),
    (match_loss, np.array([0.4, -0.3, 0.7]), True),
    (with_context, np.array([0.4, -0.3, 0.7]), True),
    (walrus_loss, np.array([0.4, -0.3, 0.7]), True),
    (recursion_loss, np.array([0.4, -0.3, 0.7]), True),
    (kwargs_loss, np.array([0.4, -0.3, 0.7]), True),
    (enumerate_zip, np.array([0.4, -0.3, 0.7]), True),
    (nested_comp, np.array([0.4, -0.3, 0.7]), True),
    (dict_comp, np.array([0.4, -0.3, 0.7]), True),
    (sorted_key, np.array([0.4, -0.3, 0.7]), True),
    (ode_solver_class, np.array([0.4, -0.3, 0.7]), True),
    (jacobian_inside, np.array([0.4, -0.3, 0.7]), True),
    (hvp_inside, np.array([0.4, -0.3, 0.7]), True),
    (composition, np.array([0.4, -0.3, 0.7]), True),
]
