"""Second order through keepdims reductions and through complex intermediates.

1. Attention-style softmax (``s.max(axis=-1, keepdims=True)``, ``e.sum(axis=-1,
   keepdims=True)``) and every keepdims/axis reduction, under all four mixed
   orders: ``diffc.hessian`` (forward over reverse), ``jacobian(grad(f))`` in
   reverse and forward mode, and ``hvp``.
2. Real inputs flowing through complex values: the adjoint of a complex
   intermediate may first receive a real-typed term (the adjoint of taking a real
   part, e.g. ``unbroadcast`` to a real value in the gradient code) and then a
   complex one.  Reverse over reverse used to add the complex term in place into
   a float buffer (UFuncTypeError); a complex value's cotangent is now complex.

References: central finite differences of f for the gradient, and of the
gradient for the Hessian (the gradient itself being checked against f first).
"""
import numpy as np
import pytest
import scipy.special

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

_rng = np.random.default_rng(15)
_X = _rng.normal(size=(3, 4))
_K = _rng.normal(size=(3, 2))
_V = _rng.normal(size=(3, 2))
_Y = np.eye(3)
_C = _rng.normal(size=(3, 4))
D_MODEL = 2


# ------------------------------------------------------------------ programs (1)

def attention_q(q):
    s = q @ _K.T / np.sqrt(D_MODEL)
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    a = e / e.sum(axis=-1, keepdims=True)
    return np.sum(a @ _V)


def attention_weights(W):
    q = _X @ W[:, :2]
    k = _X @ W[:, 2:4]
    v = _X @ W[:, 4:]
    s = q @ k.T / np.sqrt(q.shape[-1])
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    a = e / e.sum(axis=-1, keepdims=True)
    return np.sum((a @ v) ** 2)


def softmax(s, axis=-1):
    e = np.exp(s - np.max(s, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def self_attention_xent(W):
    q = _X @ W
    a = softmax(q @ q.T)
    return -np.sum(_Y * np.log(a)) + np.sum(a @ q)


def multi_head(W):
    out = 0.0
    for h in range(2):
        q = _X @ W[:, 2 * h:2 * h + 2]
        s = q @ _K.T
        s = s - s.max(axis=-1, keepdims=True)
        e = np.exp(s)
        e /= e.sum(axis=-1, keepdims=True)
        out = out + np.sum(e @ _V)
    return out


def layer_norm(W):
    h = _X @ W
    mu = h.mean(axis=-1, keepdims=True)
    var = h.var(axis=-1, keepdims=True)
    return np.sum(np.tanh((h - mu) / np.sqrt(var + 1e-5)) * h)


ATTENTION = [(attention_q, (3, 2)), (attention_weights, (4, 6)), (self_attention_xent, (4, 3)),
             (multi_head, (4, 4)), (layer_norm, (4, 3))]

REDUCTIONS = {
    "max": lambda s, ax: s.max(axis=ax, keepdims=True),
    "min": lambda s, ax: np.min(s, axis=ax, keepdims=True),
    "amax": lambda s, ax: np.amax(s, axis=ax, keepdims=True),
    "sum": lambda s, ax: s.sum(axis=ax, keepdims=True),
    "mean": lambda s, ax: np.mean(s, axis=ax, keepdims=True),
    "prod": lambda s, ax: np.prod(s, axis=ax, keepdims=True),
    "var": lambda s, ax: np.var(s, axis=ax, keepdims=True),
    "std": lambda s, ax: s.std(axis=ax, keepdims=True),
    "norm": lambda s, ax: np.linalg.norm(s, axis=ax, keepdims=True),
    "logsumexp": lambda s, ax: scipy.special.logsumexp(s, axis=ax, keepdims=True),
}


def reduction_program(reduce, axis):
    def f(W):
        s = np.tanh(W) * _C + W ** 2
        m = reduce(s, axis)
        e = np.exp(s - m) * np.sin(s + m)
        return np.sum(e * s) + np.sum(m ** 3)
    return f


# ------------------------------------------------------------------ checks

def _second_orders(f, x, u):
    """The Hessian of f at x by every mixed order diffc offers, and hvp along u."""
    return {
        "hessian": diffc.hessian(f)(x),
        "jacobian(grad) reverse": diffc.jacobian(diffc.grad(f), mode="reverse")(x),
        "jacobian(grad) forward": diffc.jacobian(diffc.grad(f), mode="forward")(x),
        "hvp": diffc.hvp(f)(x, u),
        "grad(grad . u)": diffc.grad(lambda y: np.sum(diffc.grad(f)(y) * u))(x),
    }


def check_second_order(f, x, rtol=1e-5, atol=1e-6):
    assert_close(diffc.grad(f)(x), numeric_grad(f, [x], 0), rtol=rtol, atol=atol, what="grad")
    reference = fd_jacobian(diffc.grad(f), x, eps=1e-5)
    u = np.linspace(-1.0, 1.0, x.size).reshape(x.shape)
    along = np.tensordot(reference, u, axes=x.ndim)
    for how, value in _second_orders(f, x, u).items():
        assert np.isrealobj(value), how
        expected = along if how in ("hvp", "grad(grad . u)") else reference
        assert_close(value, expected, rtol=rtol, atol=atol, what=how)


@pytest.mark.parametrize("f, shape", ATTENTION, ids=[f.__name__ for f, _ in ATTENTION])
def test_attention_softmax_second_order(f, shape):
    check_second_order(f, 0.5 * np.random.default_rng(1).normal(size=shape))


_SLOW = pytest.mark.slow


# axis=None (the whole array kept as a 1x1 block) by default for the reductions whose
# whole-array form is its own formula (norm: Frobenius) or tie rule (max); every reduction
# runs at axis=-1 by default and at every axis with -m slow.
_WHOLE_ARRAY_DEFAULT = {"norm", "max"}


def _keepdims_cases():
    for axis in (-1, 0, (0, 1), None):
        for name in sorted(REDUCTIONS):
            default = axis == -1 or (axis is None and name in _WHOLE_ARRAY_DEFAULT)
            yield pytest.param(name, axis, marks=() if default else _SLOW, id=f"{name}-{axis}")


@pytest.mark.parametrize("name, axis", list(_keepdims_cases()))
def test_keepdims_reductions_second_order(name, axis):
    f = reduction_program(REDUCTIONS[name], axis)
    check_second_order(f, 0.7 * np.random.default_rng(2).normal(size=(3, 4)), rtol=1e-4, atol=1e-5)


def test_softmax_with_ties_second_order():
    # Equal scores in a row: max's adjoint splits between the ties, the softmax does not depend on it.
    k = np.ones((3, 2))

    def f(q):
        s = q @ k.T
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return np.sum((e / e.sum(axis=-1, keepdims=True)) @ _V) + np.sum(q ** 3)
    check_second_order(f, np.array([[0.1, 0.2], [0.3, -0.4], [-0.5, 0.6]]))


# ------------------------------------------------------------------ programs (2)

def complex_square(v):
    return np.real(np.sum((v + 0j) * np.conj(v) * 1j)) + np.sum(v ** 2)


def phase_rotation(v):
    z = np.exp(1j * v) * v
    return np.sum(np.abs(z) ** 2) + np.real(np.sum(z * z))


def spectrum(v):
    F = np.fft.fft(v * np.sin(v))
    return np.sum(np.abs(F) ** 2) / len(v) + np.sum(np.real(F) * np.imag(F))


def complex_gain(v):
    z = (_C[:, :3].T @ v[:3]) * (1 + 2j)
    w = z * np.conj(z) + z ** 2
    return np.real(np.sum(w)) + np.imag(np.sum(w * v[1:]))


def autocorrelation(v):
    z = np.fft.rfft(v ** 2)
    y = np.fft.irfft(z * np.conj(z), n=len(v))
    return np.sum(y * v)


def iterated_phase(v):
    total = 0.0
    z = v.astype(complex)
    for _ in range(3):
        z = z * np.exp(1j * v) + v
        total = total + np.real(np.vdot(z, z))
    return total


COMPLEX = [complex_square, phase_rotation, spectrum, complex_gain, autocorrelation, iterated_phase]


@pytest.mark.parametrize("f", COMPLEX, ids=[f.__name__ for f in COMPLEX])
def test_complex_intermediates_second_order(f):
    check_second_order(f, np.array([0.3, -1.2, 0.7, 0.45]))


def test_complex_square_hessian_closed_form():
    # Re(i * sum(v**2)) is 0 for real v: the Hessian is that of sum(v**2), 2 I.
    v = np.array([0.3, -1.2, 0.7])
    H = diffc.jacobian(diffc.grad(complex_square), mode="reverse")(v)
    assert H.dtype == np.float64
    assert_close(H, 2 * np.eye(3), rtol=0, atol=1e-12)


def test_real_cotangent_of_complex_array_is_complex():
    from diffc.runtime import broadcast_like, unbroadcast
    z = np.ones((2, 3)) * (1 + 1j)
    assert unbroadcast(np.ones((4, 2, 3)), z).dtype == np.complex128
    assert broadcast_like(np.ones(3), z).dtype == np.complex128
    assert broadcast_like(np.ones((2, 3)), z).dtype == np.complex128
    assert unbroadcast(np.ones((2, 3)) * 1j, np.ones((2, 3))).dtype == np.float64
