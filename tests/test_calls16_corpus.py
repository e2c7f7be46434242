"""Issue 16: programs written the way public example code is written (helpers taking
*args, activations passed as values, models as classes, shapes unpacked, noise
sampled inside the objective, grad inside the objective), each differentiated
unchanged and checked against finite differences in both modes and at second order."""

import functools

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad
from test_calls16 import check_all, check_forward, check_reverse

RNG = np.random.default_rng(1616)


# ------------------------------------------------------------- neural nets

def relu_like(z):
    return np.log1p(np.exp(z))           # softplus: smooth, so finite differences agree


def init_layers(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=(m, n)) / np.sqrt(n), rng.normal(size=m) * 0.1)
            for n, m in zip(sizes[:-1], sizes[1:])]


LAYERS = init_layers([3, 4, 2])
DATA_X = RNG.normal(size=(5, 3))
DATA_Y = RNG.normal(size=(5, 2))


def mlp_predict(params, x, activation=np.tanh):
    h = x
    for W, b in params[:-1]:
        h = activation(W @ h + b)
    W, b = params[-1]
    return W @ h + b


def mlp_loss(scale, activation=relu_like):
    params = [(W * scale, b) for W, b in LAYERS]
    total = 0.0
    for x, y in zip(DATA_X, DATA_Y):
        total = total + np.sum((mlp_predict(params, x, activation) - y) ** 2)
    return total / len(DATA_X)


def mlp_loss_wrt_input(x):
    return np.sum(mlp_predict(LAYERS, x, activation=np.sin) ** 2)


# ---------------------------------------------------- RNN cell with helpers

def _affine(x, *pairs):
    """sum of W @ v over (W, v) pairs, plus nothing else: the usual gate helper."""
    out = 0.0
    for W, v in pairs:
        out = out + W @ v
    return out


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


WX = RNG.normal(size=(3, 2)) * 0.5
WH = RNG.normal(size=(3, 3)) * 0.5


def gru_like(inputs_flat, gate=sigmoid, candidate=np.tanh):
    inputs = np.reshape(inputs_flat, (-1, 2))
    steps, _ = inputs.shape
    h = np.zeros(WH.shape[0])
    for t in range(steps):
        z = gate(_affine(None, (WX, inputs[t]), (WH, h)))
        c = candidate(_affine(None, *[(WX, inputs[t]), (WH, h * z)]))
        h = (1 - z) * h + z * c
    return np.sum(h ** 2)


# ----------------------------------------------------------- mixture model

def logsumexp(a, axis=None):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis=axis) + np.log(np.sum(np.exp(a - m), axis=axis))


SAMPLES = RNG.normal(size=6)


def mixture_nll(means, log_scales=np.zeros(2), weights=np.array([0.4, 0.6])):
    n, = SAMPLES.shape
    k = len(means)
    diffs = SAMPLES[:, None] - np.reshape(means, (1, k))
    scales = np.exp(log_scales)
    log_p = -0.5 * (diffs / scales) ** 2 - log_scales - 0.5 * np.log(2 * np.pi)
    combine = functools.partial(logsumexp, axis=1)
    return -np.sum(combine(log_p + np.log(weights))) / n


# -------------------------------------------------- GP with a kernel argument

def rbf(a, b, lengthscale):
    d = a[:, None] - b[None, :]
    return np.exp(-0.5 * (d / lengthscale) ** 2)


GP_X = np.linspace(-1.0, 1.0, 5)
GP_Y = np.sin(3 * GP_X)


def gp_objective(log_length, kernel=rbf, noise=0.1):
    K = kernel(GP_X, GP_X, np.exp(log_length)) + noise * np.eye(len(GP_X))
    alpha = np.linalg.solve(K, GP_Y)
    sign, logdet = np.linalg.slogdet(K)
    return 0.5 * GP_Y @ alpha + 0.5 * logdet


# ------------------------------------------- VAE-style reparameterized ELBO

def encoder(x, W):
    stats = W @ x
    half = stats.shape[0] // 2
    return stats[:half], stats[half:]


def elbo(W_flat, x=np.array([0.5, -0.2, 0.1])):
    W = np.reshape(W_flat, (4, x.shape[0]))
    mu, log_var = encoder(x, W)
    rng = np.random.default_rng(42)
    eps = rng.standard_normal(size=mu.shape)
    z = mu + np.exp(0.5 * log_var) * eps
    recon = -np.sum((x[:2] - z) ** 2)
    kl = 0.5 * np.sum(np.exp(log_var) + mu ** 2 - 1.0 - log_var)
    return recon - kl


# ------------------------------------------------------- a model of classes

class Conv1D:
    def __init__(self, kernel):
        self.kernel = kernel

    @property
    def width(self):
        return len(self.kernel)

    def __call__(self, signal):
        n = signal.shape[0] - self.width + 1
        out = []
        for i in range(n):
            out.append(np.sum(signal[i:i + self.width] * self.kernel))
        return np.array(out)


class Model:
    def __init__(self):
        self.convs = [Conv1D(np.array([0.5, -0.25, 0.1])), Conv1D(np.array([1.0, 0.3]))]
        self.activation = np.tanh

    def features(self, signal):
        h = signal
        for conv in self.convs:
            h = self.activation(conv(h))
        return h

    def loss(self, signal):
        return np.sum(self.features(signal) ** 2)

    @staticmethod
    def regularizer(signal):
        return 0.01 * np.sum(signal ** 2)

    def objective(self, signal):
        return self.loss(signal) + self.regularizer(signal)


MODEL = Model()


# ------------------------------------------------ simulation unpacking shapes

def advect(field, velocity):
    rows, cols = field.shape
    out = np.zeros((rows, cols))
    for i in range(1, rows - 1):
        out[i, :] = field[i, :] - velocity * (field[i + 1, :] - field[i - 1, :]) / 2.0
    out[0, :] = field[0, :]
    out[rows - 1, :] = field[rows - 1, :]
    return out


def smoke(flat, velocity=0.3, steps=3):
    field = np.reshape(flat, (4, 3))
    for _ in range(steps):
        field = advect(field, velocity)
    return np.sum(field ** 2) + np.sum(field[field.shape[0] // 2])


# ------------------------------------------- a nested grad in the objective

def energy(r, p):
    return np.sum(np.cos(r) * p + 0.5 * r ** 2 * p ** 2)


def force_matching(r, p=0.8):
    force = -diffc.grad(energy)(r, p)
    return np.sum((force - np.sin(r)) ** 2)


PROGRAMS = [
    (mlp_loss, [1.1]),
    (mlp_loss_wrt_input, [RNG.normal(size=3)]),
    (gru_like, [RNG.normal(size=6)]),
    (mixture_nll, [np.array([-0.3, 0.7])]),
    (gp_objective, [0.2]),
    (elbo, [RNG.normal(size=12) * 0.3]),
    (MODEL.objective, [RNG.normal(size=7)]),
    (smoke, [RNG.normal(size=12)]),
    (force_matching, [RNG.normal(size=3)]),
]


@pytest.mark.parametrize("f,args", PROGRAMS, ids=[getattr(f, "__name__", "f") for f, _ in PROGRAMS])
def test_program(f, args):
    check_all(f, args)


def test_mixture_wrt_second_parameter_and_activation_argument():
    check_reverse(mixture_nll, [np.array([-0.3, 0.7]), np.array([0.1, -0.2])], k=1)
    g = diffc.grad(mlp_loss)(0.9, np.tanh)
    assert_close(g, numeric_grad(lambda s: mlp_loss(s, np.tanh), [0.9], 0))
    check_forward(lambda s: mlp_loss(s, np.sin), [0.9])


# ------------------------------------------------------------------ corpus, part 2
# tests/corpus16_programs.py: 42 more objectives (neural nets, LSTM/RNN cells, GPs,
# mixtures, VI, a VAE, a smoke simulation, a conv net of classes, optimizers and
# integrators taking functions, objects built from the parameters, nested grad).
# First order in both modes for every program; second order (Hessian against finite
# differences) for every twice-differentiable one, the slowest few under -m slow.

import corpus16_programs as more                  # noqa: E402
from test_calls16 import check_second              # noqa: E402

_SLOW_SECOND = {"hvp_inside", "vae_loss", "convnet_loss", "tied_autoencoder", "ode_fit", "lstm_final_state", "unrolled_optimization"}


def _name(f):
    return getattr(f, "__name__", "f")


@pytest.mark.parametrize("f,x", [(f, x) for f, x, _ in more.PROGRAMS], ids=[_name(f) for f, _, _ in more.PROGRAMS])
def test_corpus_first_order(f, x):
    check_reverse(f, [x])
    check_forward(f, [x])


@pytest.mark.parametrize("f,x", [
    pytest.param(f, x, marks=[pytest.mark.slow] if _name(f) in _SLOW_SECOND else [], id=_name(f))
    for f, x, twice in more.PROGRAMS if twice])
def test_corpus_second_order(f, x):
    check_second(f, [x])


def test_corpus_size():
    assert len(PROGRAMS) + len(more.PROGRAMS) >= 40


# Reverse over reverse (jacobian of grad, reverse mode) for the smaller programs.  Open
# bugs, reported with the issue and left out here: attention_loss (a broadcast error in a
# second-order adjoint when softmax is called from a callee of a callee).
_RR_OPEN = {"attention_loss"}


@pytest.mark.slow
@pytest.mark.parametrize("f,x", [(f, x) for f, x, twice in more.PROGRAMS
                                 if twice and x.size <= 9 and _name(f) not in _RR_OPEN],
                         ids=[_name(f) for f, x, twice in more.PROGRAMS
                              if twice and x.size <= 9 and _name(f) not in _RR_OPEN])
def test_corpus_reverse_over_reverse(f, x):
    from test_calls16 import numeric_hessian
    H = diffc.jacobian(diffc.grad(f), mode="reverse")(x)
    assert_close(H, numeric_hessian(f, [x], 0), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_the_gradient_of_a_bound_method(mode):
    # jacobian(grad(model.loss)) was "cannot find the definition of grad_loss"
    from test_calls16 import numeric_hessian
    x = np.array([0.3, -0.2, 0.5])
    H = diffc.jacobian(diffc.grad(more.LR_MODEL.loss), mode=mode)(x)
    assert_close(H, numeric_hessian(more.LR_MODEL.loss, [x], 0), rtol=1e-4, atol=1e-4)
