"""Benchmark workloads for diffc and its peers.

Every workload is an ordinary NumPy/Python program (the ``primal``).  diffc
receives exactly that function: ``diffc.grad(primal, wrt=wrt)``.  tangent-ad
receives it too (``tangent.grad(primal, wrt=wrt)``).  The other peers get an
equivalent program written in their own array library:

* autograd -- usually the *same source* with ``np``/``math`` rebound to
  ``autograd.numpy`` (see :func:`rebind`); an explicit rewrite where autograd
  cannot express the NumPy idiom (in-place writes).
* jax      -- same source with ``jax.numpy`` for eager ``jax.grad``; for
  ``jax.jit(jax.grad)`` an idiomatic ``lax`` loop where unrolling a long Python
  loop inside ``jit`` would be unreasonable.  Differences are listed in
  ``Workload.notes``.
* torch    -- an explicit torch program differentiated by ``torch.autograd``.

This module imports only NumPy at import time.  Peer libraries are imported
lazily inside the ``*_fn`` factories, so the primals run (and the smoke test
passes) on a machine with none of the peers installed.

All computations are float64 so gradients can be compared tightly.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import tempfile
import types
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import numpy as np

# --------------------------------------------------------------------------
# helpers


def rebind(fn: Callable, **names: Any) -> Callable:
    """Return a copy of ``fn`` whose globals have ``names`` replaced.

    ``rebind(mlp_loss, np=autograd.numpy)`` runs the very same source code
    with ``np`` bound to autograd's NumPy wrapper.
    """
    g = dict(fn.__globals__)
    g.update(names)
    # helpers of the same module (advect, lstm_cell...) see the same rebound names
    for key, value in list(g.items()):
        if isinstance(value, types.FunctionType) and value.__globals__ is fn.__globals__ \
                and key not in names:
            g[key] = _with_globals(value, g)
    return _with_globals(fn, g)


def _with_globals(fn: Callable, g: Dict[str, Any]) -> Callable:
    new = types.FunctionType(fn.__code__, g, fn.__name__, fn.__defaults__, fn.__closure__)
    new.__kwdefaults__ = fn.__kwdefaults__
    new.__doc__ = fn.__doc__
    return new


def _one_hot(labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((labels.shape[0], k))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


# --------------------------------------------------------------------------
# 1, 2, 7: MLP and softmax cross-entropy


def mlp_loss(W1, b1, W2, b2, x, y):
    """Two-layer tanh MLP, mean softmax cross-entropy; ``y`` is one-hot."""
    h = np.tanh(np.dot(x, W1) + b1)
    logits = np.dot(h, W2) + b2
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(y * (z - lse)) / x.shape[0]


def mlp_loss_torch(W1, b1, W2, b2, x, y):
    import torch

    h = torch.tanh(x @ W1 + b1)
    logits = h @ W2 + b2
    m = torch.max(logits, dim=1, keepdim=True).values
    z = logits - m
    lse = torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return -torch.sum(y * (z - lse)) / x.shape[0]


def _mlp_inputs(batch, n_in, n_hidden, n_out):
    def make(rng):
        W1 = rng.standard_normal((n_in, n_hidden)) / math.sqrt(n_in)
        b1 = 0.1 * rng.standard_normal(n_hidden)
        W2 = rng.standard_normal((n_hidden, n_out)) / math.sqrt(n_hidden)
        b2 = 0.1 * rng.standard_normal(n_out)
        x = rng.standard_normal((batch, n_in))
        y = _one_hot(rng.integers(0, n_out, batch), n_out)
        return (W1, b1, W2, b2, x, y)

    return make


def softmax_xent(W, X, Y):
    """Linear softmax classifier, mean cross-entropy; ``Y`` is one-hot."""
    logits = X @ W
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(Y * (z - lse)) / X.shape[0]


def softmax_xent_torch(W, X, Y):
    import torch

    logits = X @ W
    m = torch.max(logits, dim=1, keepdim=True).values
    z = logits - m
    lse = torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return -torch.sum(Y * (z - lse)) / X.shape[0]


def _xent_inputs(n, d, k):
    def make(rng):
        W = rng.standard_normal((d, k)) / math.sqrt(d)
        X = rng.standard_normal((n, d))
        Y = _one_hot(rng.integers(0, k, n), k)
        return (W, X, Y)

    return make


# --------------------------------------------------------------------------
# 3: RNN with hidden states collected in a list


def rnn_loss(Wx, Wh, b, xs, h0):
    """Elman RNN over ``xs[t]``; loss = mean over steps of sum(h_t**2)."""
    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = np.tanh(np.dot(xs[t], Wx) + np.dot(h, Wh) + b)
        hs.append(h)
    total = 0.0
    for h_t in hs:
        total = total + np.sum(h_t * h_t)
    return total / len(hs)


def rnn_loss_torch(Wx, Wh, b, xs, h0):
    import torch

    h = h0
    hs = []
    for t in range(xs.shape[0]):
        h = torch.tanh(xs[t] @ Wx + h @ Wh + b)
        hs.append(h)
    total = 0.0
    for h_t in hs:
        total = total + torch.sum(h_t * h_t)
    return total / len(hs)


def _rnn_inputs(steps, batch, n_in, hidden):
    def make(rng):
        Wx = rng.standard_normal((n_in, hidden)) / math.sqrt(n_in)
        Wh = 0.9 * rng.standard_normal((hidden, hidden)) / math.sqrt(hidden)
        b = 0.1 * rng.standard_normal(hidden)
        xs = rng.standard_normal((steps, batch, n_in))
        h0 = np.zeros((batch, hidden))
        return (Wx, Wh, b, xs, h0)

    return make


# --------------------------------------------------------------------------
# 4: RK4 on Python floats


def rk4_oscillator(damping, stiffness, x0, v0, dt, n_steps):
    """Damped oscillator x'' = -k x - c x', classical RK4, on Python floats."""
    x = x0
    v = v0
    for i in range(n_steps):
        k1x = v
        k1v = -stiffness * x - damping * v
        x2 = x + 0.5 * dt * k1x
        v2 = v + 0.5 * dt * k1v
        k2x = v2
        k2v = -stiffness * x2 - damping * v2
        x3 = x + 0.5 * dt * k2x
        v3 = v + 0.5 * dt * k2v
        k3x = v3
        k3v = -stiffness * x3 - damping * v3
        x4 = x + dt * k3x
        v4 = v + dt * k3v
        k4x = v4
        k4v = -stiffness * x4 - damping * v4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
    return x * x + v * v


def rk4_oscillator_jax_lax(damping, stiffness, x0, v0, dt, n_steps):
    """jit-friendly: the same step inside ``lax.fori_loop`` (not unrolled)."""
    from jax import lax

    def step(i, state):
        x, v = state
        k1x = v
        k1v = -stiffness * x - damping * v
        x2 = x + 0.5 * dt * k1x
        v2 = v + 0.5 * dt * k1v
        k2x = v2
        k2v = -stiffness * x2 - damping * v2
        x3 = x + 0.5 * dt * k2x
        v3 = v + 0.5 * dt * k2v
        k3x = v3
        k3v = -stiffness * x3 - damping * v3
        x4 = x + dt * k3x
        v4 = v + dt * k3v
        k4x = v4
        k4v = -stiffness * x4 - damping * v4
        x = x + dt / 6.0 * (k1x + 2.0 * k2x + 2.0 * k3x + k4x)
        v = v + dt / 6.0 * (k1v + 2.0 * k2v + 2.0 * k3v + k4v)
        return (x, v)

    x, v = lax.fori_loop(0, n_steps, step, (x0 + 0.0 * damping, v0 + 0.0 * damping))
    return x * x + v * v


def _rk4_inputs(n_steps):
    def make(rng):
        return (0.3, 2.0, 1.0, 0.0, 10.0 / n_steps, n_steps)

    return make


# --------------------------------------------------------------------------
# 5: Horner


def horner(x, coeffs):
    """Evaluate sum_i coeffs[i] * x**(n-1-i) by Horner's rule in a Python loop."""
    acc = 0.0
    for i in range(len(coeffs)):
        acc = acc * x + coeffs[i]
    return acc


def horner_jax_lax(x, coeffs):
    from jax import lax

    def step(i, acc):
        return acc * x + coeffs[i]

    return lax.fori_loop(0, coeffs.shape[0], step, 0.0 * x)


def _horner_inputs(n):
    def make(rng):
        return (0.97, rng.standard_normal(n) / math.sqrt(n))

    return make


# --------------------------------------------------------------------------
# 6: explicit heat equation with in-place slice updates


def heat_equation(u0, alpha, n_steps):
    """Explicit finite differences, Dirichlet ends, ``u[1:-1]`` updated in place."""
    u = u0.copy()
    for step in range(n_steps):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return np.sum(u * u)


def heat_equation_functional(u0, alpha, n_steps):
    """autograd has no in-place writes: rebuild the array with concatenate."""
    u = u0
    for step in range(n_steps):
        interior = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        u = np.concatenate([u[:1], interior, u[-1:]])
    return np.sum(u * u)


def heat_equation_jax(u0, alpha, n_steps):
    """JAX: functional ``.at[1:-1].set`` instead of the in-place write."""
    import jax.numpy as jnp

    u = u0
    for step in range(n_steps):
        u = u.at[1:-1].set(u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2]))
    return jnp.sum(u * u)


def heat_equation_jax_lax(u0, alpha, n_steps):
    """JAX jit: ``.at[].set`` inside ``lax.fori_loop``."""
    import jax.numpy as jnp
    from jax import lax

    def step(i, u):
        return u.at[1:-1].set(u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2]))

    u = lax.fori_loop(0, n_steps, step, u0 + 0.0 * alpha)
    return jnp.sum(u * u)


def heat_equation_torch(u0, alpha, n_steps):
    """torch: clone, then the same in-place slice write (autograd tracks versions)."""
    import torch

    u = u0.clone()
    for step in range(n_steps):
        u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
    return torch.sum(u * u)


def _heat_inputs(n, n_steps):
    def make(rng):
        xg = np.linspace(0.0, 1.0, n)
        u0 = np.sin(np.pi * xg) + 0.3 * np.sin(5 * np.pi * xg) + 0.01 * rng.standard_normal(n)
        u0[0] = 0.0
        u0[-1] = 0.0
        return (u0, 0.2, n_steps)

    return make


# --------------------------------------------------------------------------
# 8: Newton while loop


def newton_cbrt(a, x0):
    """Cube root of ``a`` by Newton's method, iterated to a relative tolerance."""
    x = x0
    while abs(x * x * x - a) > 1e-12 * a:
        x = x - (x * x * x - a) / (3.0 * x * x)
    return x


def newton_cbrt_jax_lax(a, x0):
    """jit: ``lax.while_loop`` is not reverse-differentiable, so a fixed 60
    iterations of ``fori_loop`` with the update masked off once converged."""
    import jax.numpy as jnp
    from jax import lax

    def step(i, x):
        done = jnp.abs(x * x * x - a) <= 1e-12 * a
        return jnp.where(done, x, x - (x * x * x - a) / (3.0 * x * x))

    return lax.fori_loop(0, 60, step, x0 + 0.0 * a)


def _newton_inputs():
    def make(rng):
        return (30.0, 30.0)

    return make


# --------------------------------------------------------------------------
# 9: a long scalar loop (tape length)


def long_loop(x, n):
    """``n`` steps of a scalar recurrence on Python floats."""
    s = x
    for i in range(n):
        s = s + 1e-4 * math.sin(s)
    return s


def long_loop_torch(x, n):
    import torch

    s = x
    for i in range(n):
        s = s + 1e-4 * torch.sin(s)
    return s


def long_loop_jax_lax(x, n):
    import jax.numpy as jnp
    from jax import lax

    return lax.fori_loop(0, n, lambda i, s: s + 1e-4 * jnp.sin(s), x)


def _long_inputs(n):
    def make(rng):
        return (0.5, n)

    return make


# --------------------------------------------------------------------------
# 10: compile time on generated straight-line functions


def generate_source(n_lines: int, name: str) -> str:
    """A deterministic scalar function of two floats with ``n_lines`` body lines.

    Lines mix arithmetic, ``math`` calls and the odd data-dependent branch, the
    kind of code diffc must parse, normalize, analyze and transform.
    """
    rng = np.random.default_rng(n_lines)
    body = ["t0 = x * y + 1.0", "t1 = math.sin(x) + y"]
    k = 2
    while len(body) < n_lines - 1:
        a = f"t{int(rng.integers(0, k))}"
        b = f"t{int(rng.integers(0, k))}"
        r = int(rng.integers(0, 7))
        if r == 0:
            body.append(f"t{k} = {a} * {b} * 0.5")
        elif r == 1:
            body.append(f"t{k} = {a} + 0.3 * {b}")
        elif r == 2:
            body.append(f"t{k} = math.sin({a}) - {b}")
        elif r == 3:
            body.append(f"t{k} = math.tanh({a} * {b})")
        elif r == 4:
            body.append(f"t{k} = {a} / (1.0 + {b} * {b})")
        elif r == 5:
            body.append(f"t{k} = math.exp(-{a} * {a}) + x")
        else:
            if len(body) + 4 > n_lines - 1:
                body.append(f"t{k} = {a} - {b}")
            else:
                body.append(f"if {a} > {b}:")
                body.append(f"    t{k} = {a} * y")
                body.append("else:")
                body.append(f"    t{k} = {b} * x")
        k += 1
    body.append(f"return t{k - 1} + " + " + ".join(f"t{i}" for i in range(0, k - 1, max(1, k // 8))))
    lines = ["import math", "", "", f"def {name}(x, y):"] + ["    " + ln for ln in body]
    return "\n".join(lines) + "\n"


_GENERATED: Dict[int, Callable] = {}


def generated_function(n_lines: int) -> Callable:
    """Write the generated source to a real file and import it, so that
    ``inspect.getsource`` works for source-to-source tools."""
    if n_lines in _GENERATED:
        return _GENERATED[n_lines]
    name = f"generated_{n_lines}"
    src = generate_source(n_lines, name)
    d = os.path.join(tempfile.gettempdir(), f"diffc_bench_gen_{os.getpid()}")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, f"{name}.py")
    with open(path, "w") as fh:
        fh.write(src)
    spec = importlib.util.spec_from_file_location(f"diffc_bench_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    fn = getattr(mod, name)
    _GENERATED[n_lines] = fn
    return fn


# --------------------------------------------------------------------------
# 11: an unbatched Elman RNN (matrix-vector products, one state vector)


def rnn_unbatched(Wx, Wh, xs, h0):
    """``h = tanh(Wh h + Wx x_t)`` over the rows of ``xs``; loss = mean of |h_t|^2."""
    h = h0
    loss = 0.0
    for t in range(xs.shape[0]):
        h = np.tanh(Wh @ h + Wx @ xs[t])
        loss = loss + np.sum(h * h)
    return loss / xs.shape[0]


def _rnn_unbatched_inputs(steps, n_in, hidden):
    def make(rng):
        Wx = rng.standard_normal((hidden, n_in)) / math.sqrt(n_in)
        Wh = 0.9 * rng.standard_normal((hidden, hidden)) / math.sqrt(hidden)
        xs = rng.standard_normal((steps, n_in))
        return (Wx, Wh, xs, np.zeros(hidden))

    return make


# --------------------------------------------------------------------------
# 12: a classifier whose parameters are a list of (W, b) tuples


def mlp_params_loss(params, x, y):
    """tanh layers from a list of ``(W, b)``, softmax cross-entropy on the last."""
    h = x
    for W, b in params[:-1]:
        h = np.tanh(h @ W + b)
    W, b = params[-1]
    logits = h @ W + b
    m = np.max(logits, axis=1, keepdims=True)
    z = logits - m
    lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.sum(y * (z - lse)) / x.shape[0]


def mlp_params_loss_torch(params, x, y):
    import torch

    h = x
    for W, b in params[:-1]:
        h = torch.tanh(h @ W + b)
    W, b = params[-1]
    logits = h @ W + b
    m = torch.max(logits, dim=1, keepdim=True).values
    z = logits - m
    lse = torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
    return -torch.sum(y * (z - lse)) / x.shape[0]


def _mlp_params_inputs(batch, sizes):
    def make(rng):
        params = [(rng.standard_normal((a, b)) / math.sqrt(a), 0.1 * rng.standard_normal(b))
                  for a, b in zip(sizes[:-1], sizes[1:])]
        x = rng.standard_normal((batch, sizes[0]))
        y = _one_hot(rng.integers(0, sizes[-1], batch), sizes[-1])
        return (params, x, y)

    return make


# --------------------------------------------------------------------------
# 13, 14: stable fluids (Stam): semi-Lagrangian advection by bilinear
# interpolation with fancy indexing, a Jacobi pressure projection with np.roll


def advect(f, u, v, dt, I, J):
    """``f`` carried back along the velocity (u, v), bilinearly interpolated."""
    n = f.shape[0]
    x = np.clip(I - dt * n * u, 0.5, n - 1.5)
    y = np.clip(J - dt * n * v, 0.5, n - 1.5)
    i0 = x.astype(int)
    j0 = y.astype(int)
    s1 = x - i0
    t1 = y - j0
    s0 = 1.0 - s1
    t0 = 1.0 - t1
    return (s0 * (t0 * f[i0, j0] + t1 * f[i0, j0 + 1])
            + s1 * (t0 * f[i0 + 1, j0] + t1 * f[i0 + 1, j0 + 1]))


def project(u, v, iters):
    """Subtract the gradient of a pressure that makes (u, v) divergence-free (periodic)."""
    div = 0.5 * (np.roll(u, -1, axis=0) - np.roll(u, 1, axis=0)
                 + np.roll(v, -1, axis=1) - np.roll(v, 1, axis=1))
    p = np.zeros_like(div)
    for k in range(iters):
        p = 0.25 * (np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)
                    + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1) - div)
    u = u - 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0))
    v = v - 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1))
    return u, v


def smoke(u0, v0, d0, mask, dt, steps):
    """``steps`` of stable fluids on an n x n grid; velocity zeroed where ``mask`` is 0;
    loss: the squared density at the end."""
    n = d0.shape[0]
    I, J = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), indexing="ij")
    u, v, d = u0, v0, d0
    for step in range(steps):
        u1 = advect(u, u, v, dt, I, J)
        v1 = advect(v, u, v, dt, I, J)
        u, v = project(u1 * mask, v1 * mask, 10)
        d = advect(d, u, v, dt, I, J)
    return np.sum(d * d)


def _smoke_autograd():
    """autograd cannot take ``astype(int)`` of a traced array: the cell indices come
    from the untraced value (``autograd.tracer.getval``), as autograd users write it."""
    import autograd.numpy as anp
    from autograd.tracer import getval

    def advect_ag(f, u, v, dt, I, J):
        n = f.shape[0]
        x = anp.clip(I - dt * n * u, 0.5, n - 1.5)
        y = anp.clip(J - dt * n * v, 0.5, n - 1.5)
        i0 = getval(x).astype(int)
        j0 = getval(y).astype(int)
        s1 = x - i0
        t1 = y - j0
        s0 = 1.0 - s1
        t0 = 1.0 - t1
        return (s0 * (t0 * f[i0, j0] + t1 * f[i0, j0 + 1])
                + s1 * (t0 * f[i0 + 1, j0] + t1 * f[i0 + 1, j0 + 1]))

    return rebind(smoke, np=anp, advect=advect_ag)


def advect_torch(f, u, v, dt, I, J):
    n = f.shape[0]
    x = (I - dt * n * u).clamp(0.5, n - 1.5)
    y = (J - dt * n * v).clamp(0.5, n - 1.5)
    i0 = x.long()
    j0 = y.long()
    s1 = x - i0
    t1 = y - j0
    s0 = 1.0 - s1
    t0 = 1.0 - t1
    return (s0 * (t0 * f[i0, j0] + t1 * f[i0, j0 + 1])
            + s1 * (t0 * f[i0 + 1, j0] + t1 * f[i0 + 1, j0 + 1]))


def project_torch(u, v, iters):
    import torch

    div = 0.5 * (torch.roll(u, -1, 0) - torch.roll(u, 1, 0)
                 + torch.roll(v, -1, 1) - torch.roll(v, 1, 1))
    p = torch.zeros_like(div)
    for k in range(iters):
        p = 0.25 * (torch.roll(p, 1, 0) + torch.roll(p, -1, 0)
                    + torch.roll(p, 1, 1) + torch.roll(p, -1, 1) - div)
    u = u - 0.5 * (torch.roll(p, -1, 0) - torch.roll(p, 1, 0))
    v = v - 0.5 * (torch.roll(p, -1, 1) - torch.roll(p, 1, 1))
    return u, v


def smoke_torch(u0, v0, d0, mask, dt, steps):
    import torch

    n = d0.shape[0]
    r = torch.arange(n, dtype=torch.float64)
    I, J = torch.meshgrid(r, r, indexing="ij")
    u, v, d = u0, v0, d0
    for step in range(steps):
        u1 = advect_torch(u, u, v, dt, I, J)
        v1 = advect_torch(v, u, v, dt, I, J)
        u, v = project_torch(u1 * mask, v1 * mask, 10)
        d = advect_torch(d, u, v, dt, I, J)
    return torch.sum(d * d)


def _smoke_inputs(n, steps, wing):
    def make(rng):
        xg = np.linspace(-1.0, 1.0, n)
        X, Y = np.meshgrid(xg, xg, indexing="ij")
        u0 = 0.5 + 0.1 * rng.standard_normal((n, n))
        v0 = 0.1 * rng.standard_normal((n, n))
        d0 = np.exp(-20.0 * ((X + 0.5) ** 2 + Y ** 2))
        mask = np.ones((n, n))
        if wing:  # a thin tilted ellipse: no flow inside the wing
            xr, yr = 0.9 * X + 0.2 * Y, -0.2 * X + 0.9 * Y
            mask[(xr / 0.35) ** 2 + (yr / 0.06) ** 2 < 1.0] = 0.0
        return (u0, v0, d0, mask, 0.1, steps)

    return make


# --------------------------------------------------------------------------
# 15: a two-layer LSTM built from small helper functions


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_cell(x, h, c, W, U, b):
    """One LSTM step; the four gates come from one product, sliced."""
    n = h.shape[1]
    gates = x @ W + h @ U + b
    i = sigmoid(gates[:, :n])
    f = sigmoid(gates[:, n:2 * n])
    o = sigmoid(gates[:, 2 * n:3 * n])
    g = np.tanh(gates[:, 3 * n:])
    c = f * c + i * g
    h = o * np.tanh(c)
    return h, c


def lstm_layer(xs, W, U, b):
    steps, batch, _ = xs.shape
    n = U.shape[0]
    h = np.zeros((batch, n))
    c = np.zeros((batch, n))
    hs = []
    for t in range(steps):
        h, c = lstm_cell(xs[t], h, c, W, U, b)
        hs.append(h)
    return np.stack(hs)


def lstm_loss(layers, xs, target):
    """Layers are (W, U, b) tuples; loss: squared error of the last step's output."""
    out = xs
    for W, U, b in layers:
        out = lstm_layer(out, W, U, b)
    return np.mean((out[-1] - target) ** 2)


def _lstm_torch():
    import torch

    def sigmoid_t(x):
        return 1.0 / (1.0 + torch.exp(-x))

    def cell(x, h, c, W, U, b):
        n = h.shape[1]
        gates = x @ W + h @ U + b
        i = sigmoid_t(gates[:, :n])
        f = sigmoid_t(gates[:, n:2 * n])
        o = sigmoid_t(gates[:, 2 * n:3 * n])
        g = torch.tanh(gates[:, 3 * n:])
        c = f * c + i * g
        return o * torch.tanh(c), c

    def layer(xs, W, U, b):
        steps, batch, _ = xs.shape
        n = U.shape[0]
        h = torch.zeros((batch, n), dtype=torch.float64)
        c = torch.zeros((batch, n), dtype=torch.float64)
        hs = []
        for t in range(steps):
            h, c = cell(xs[t], h, c, W, U, b)
            hs.append(h)
        return torch.stack(hs)

    def loss(layers, xs, target):
        out = xs
        for W, U, b in layers:
            out = layer(out, W, U, b)
        return torch.mean((out[-1] - target) ** 2)

    return loss


def _lstm_inputs(steps, batch, n_in, hidden, n_layers):
    def make(rng):
        layers = []
        width = n_in
        for _ in range(n_layers):
            layers.append((rng.standard_normal((width, 4 * hidden)) / math.sqrt(width),
                           rng.standard_normal((hidden, 4 * hidden)) / math.sqrt(hidden),
                           np.zeros(4 * hidden)))
            width = hidden
        xs = rng.standard_normal((steps, batch, n_in))
        target = 0.5 * rng.standard_normal((batch, hidden))
        return (layers, xs, target)

    return make


# --------------------------------------------------------------------------
# 16: a tiny scalar function whose gradient is called in a Python loop


def sinusoid(x):
    """A damped sinusoid; its derivative is wanted at each of many points."""
    return np.sin(3.0 * x) * np.exp(-0.5 * x)


def sinusoid_at_points(xs):
    """The primal the ratio is taken against: ``sinusoid`` called once per point."""
    total = 0.0
    for x in xs:
        total += sinusoid(x)
    return total


def _points_inputs(n):
    def make(rng):
        return (np.linspace(0.0, 3.0, n),)   # elements are np.float64 scalars

    return make


# --------------------------------------------------------------------------
# workload registry


@dataclass
class Workload:
    name: str
    description: str
    # size name ("full", "quick", "smoke") -> rng -> args tuple
    inputs: Dict[str, Callable[[np.random.Generator], Tuple]]
    wrt: Tuple[int, ...]
    # the NumPy program; a zero-arg factory for generated workloads
    primal: Optional[Callable] = None
    primal_factory: Optional[Callable[[], Callable]] = None
    # peer -> zero-arg factory returning that peer's program (imports lazily).
    # Missing entry: the peer receives the rebound NumPy program (autograd, jax)
    # or the primal itself (diffc, tangent); torch must be explicit.
    programs: Dict[str, Callable[[], Callable]] = field(default_factory=dict)
    notes: Dict[str, str] = field(default_factory=dict)
    kind: str = "runtime"  # or "compile": the interesting number is first-call time
    tags: Sequence[str] = ()
    # A scalar function whose gradient is called once per element of the only
    # argument (a vector of points): each peer differentiates ``per_point`` and
    # the timed call is ``[g(x) for x in points]``; ``primal`` is the same loop
    # over ``per_point`` itself.  ``programs`` then hold per-point programs.
    per_point: Optional[Callable] = None

    def get_primal(self) -> Callable:
        if self.primal is not None:
            return self.primal
        return self.primal_factory()

    def make_inputs(self, size: str = "full", seed: int = 0) -> Tuple:
        size = size if size in self.inputs else "full"
        return self.inputs[size](np.random.default_rng(seed))

    def program_for(self, peer: str) -> Optional[Callable]:
        """The function the peer differentiates (None: peer cannot express it)."""
        if peer in self.programs:
            prog = self.programs[peer]
            return None if prog is None else prog()
        primal = self.per_point or self.get_primal()
        if peer in ("diffc", "diffc_jit"):
            return primal
        if peer == "tangent":
            # tangent has rules for numpy functions but not for the math module
            return rebind(primal, math=np) if "math" in primal.__code__.co_names else primal
        if peer == "autograd":
            import autograd.numpy as anp

            return rebind(primal, np=anp, math=anp)
        if peer in ("jax", "jax_jit"):
            if peer == "jax_jit" and "jax" in self.programs:
                return self.programs["jax"]()
            import jax.numpy as jnp

            return rebind(primal, np=jnp, math=jnp)
        return None


def _torch_rebound(fn):
    def factory():
        import torch

        return rebind(fn, np=torch, math=torch)

    return factory


def _heat_autograd():
    import autograd.numpy as anp

    return rebind(heat_equation_functional, np=anp)


def _generated_autograd(n):
    def f():
        import autograd.numpy as anp

        return rebind(generated_function(n), math=anp)

    return f


def _generated_jax(n):
    def f():
        import jax.numpy as jnp

        return rebind(generated_function(n), math=jnp)

    return f


def _generated_torch(n):
    def f():
        import torch

        return rebind(generated_function(n), math=torch)

    return f


WORKLOADS: Dict[str, Workload] = {}


def _register(w: Workload) -> None:
    WORKLOADS[w.name] = w


_register(Workload(
    "mlp_small", "MLP 32x64-128-10, tanh, softmax CE; grad wrt W1,b1,W2,b2",
    {"full": _mlp_inputs(32, 64, 128, 10), "quick": _mlp_inputs(32, 64, 128, 10),
     "smoke": _mlp_inputs(4, 5, 6, 3)},
    wrt=(0, 1, 2, 3), primal=mlp_loss,
    programs={"torch": lambda: mlp_loss_torch},
))
_register(Workload(
    "mlp_large", "MLP 512x512-1024-10, tanh, softmax CE; grad wrt W1,b1,W2,b2",
    {"full": _mlp_inputs(512, 512, 1024, 10), "quick": _mlp_inputs(512, 512, 1024, 10),
     "smoke": _mlp_inputs(4, 5, 6, 3)},
    wrt=(0, 1, 2, 3), primal=mlp_loss,
    programs={"torch": lambda: mlp_loss_torch},
    notes={"diffc": "same Python function as mlp_small: diffc's compile cache may already be warm"},
))
_register(Workload(
    "rnn", "RNN 50 steps, batch 16, in 32, hidden 64, tanh, states in a list; grad wrt Wx,Wh,b",
    {"full": _rnn_inputs(50, 16, 32, 64), "quick": _rnn_inputs(50, 16, 32, 64),
     "smoke": _rnn_inputs(3, 2, 3, 4)},
    wrt=(0, 1, 2), primal=rnn_loss,
    programs={"torch": lambda: rnn_loss_torch},
    notes={"jax_jit": "Python loop unrolled at trace time (50 steps)"},
))
_register(Workload(
    "rk4", "RK4 damped oscillator, 1000 steps on Python floats; grad wrt damping, stiffness",
    {"full": _rk4_inputs(1000), "quick": _rk4_inputs(100), "smoke": _rk4_inputs(5)},
    wrt=(0, 1), primal=rk4_oscillator,
    programs={"torch": _torch_rebound(rk4_oscillator),
              "jax_jit": lambda: rk4_oscillator_jax_lax},
    notes={"torch": "parameters are 0-d tensors", "jax_jit": "lax.fori_loop instead of a Python loop"},
))
_register(Workload(
    "horner", "Horner, 1000 coefficients, Python loop; grad wrt x (float) and coeffs",
    {"full": _horner_inputs(1000), "quick": _horner_inputs(100), "smoke": _horner_inputs(8)},
    wrt=(0, 1), primal=horner,
    programs={"torch": _torch_rebound(horner), "jax_jit": lambda: horner_jax_lax},
    notes={"torch": "x is a 0-d tensor", "jax_jit": "lax.fori_loop instead of a Python loop",
           "jax": "eager indexing coeffs[i] compiles one kernel per distinct i on the first call"},
))
_register(Workload(
    "heat", "explicit heat equation, grid 1000, 200 steps, in-place u[1:-1]; grad wrt u0, alpha",
    {"full": _heat_inputs(1000, 200), "quick": _heat_inputs(1000, 100), "smoke": _heat_inputs(10, 3)},
    wrt=(0, 1), primal=heat_equation,
    programs={"autograd": _heat_autograd,
              "jax": lambda: heat_equation_jax,
              "jax_jit": lambda: heat_equation_jax_lax,
              "torch": lambda: heat_equation_torch},
    notes={"autograd": "np.concatenate instead of the in-place write",
           "jax": ".at[1:-1].set instead of the in-place write",
           "jax_jit": ".at[1:-1].set inside lax.fori_loop",
           "torch": "clone + the same in-place slice write"},
))
_register(Workload(
    "softmax_xent", "softmax cross-entropy, X 256x100, W 100x50; grad wrt W",
    {"full": _xent_inputs(256, 100, 50), "quick": _xent_inputs(256, 100, 50),
     "smoke": _xent_inputs(4, 3, 2)},
    wrt=(0,), primal=softmax_xent,
    programs={"torch": lambda: softmax_xent_torch},
))
_register(Workload(
    "newton", "cube root by Newton iteration in a while loop to tolerance; grad wrt a",
    {"full": _newton_inputs(), "quick": _newton_inputs(), "smoke": _newton_inputs()},
    wrt=(0,), primal=newton_cbrt,
    programs={"torch": _torch_rebound(newton_cbrt), "jax_jit": lambda: newton_cbrt_jax_lax},
    notes={"jax_jit": "lax.while_loop is not reverse-differentiable: fixed 60-iteration "
                      "fori_loop with a converged mask",
           "torch": "a is a 0-d tensor"},
))
_register(Workload(
    "long_loop", "10^5-step scalar recurrence on Python floats (tape length); grad wrt x",
    {"full": _long_inputs(100_000), "quick": _long_inputs(5_000), "smoke": _long_inputs(10)},
    wrt=(0,), primal=long_loop,
    programs={"torch": lambda: long_loop_torch, "jax_jit": lambda: long_loop_jax_lax},
    notes={"jax_jit": "lax.fori_loop instead of a Python loop", "torch": "x is a 0-d tensor",
           "tangent": "math.sin rebound to np.sin (tangent has no math-module rules)"},
    tags=("memory",),
))
for _n in (10, 50, 200):
    _register(Workload(
        f"compile_{_n}", f"generated straight-line scalar function, {_n} lines (first-call time)",
        {"full": (lambda rng: (0.7, 1.3)), "smoke": (lambda rng: (0.7, 1.3))},
        wrt=(0, 1), primal_factory=(lambda n=_n: generated_function(n)),
        programs={"autograd": _generated_autograd(_n), "jax": _generated_jax(_n),
                  "torch": _generated_torch(_n), "jax_jit": None},
        notes={"jax_jit": "data-dependent Python `if` cannot be traced by jit",
               "tangent": "math.* rebound to np.* (tangent has no math-module rules)"},
        kind="compile",
    ))


def _smoke_torch_factory():
    return smoke_torch


_register(Workload(
    "rnn_unbatched", "Elman RNN, one state vector (matrix-vector), 50 steps, in 32, hidden 64; "
    "grad wrt Wx,Wh",
    {"full": _rnn_unbatched_inputs(50, 32, 64), "quick": _rnn_unbatched_inputs(50, 32, 64),
     "smoke": _rnn_unbatched_inputs(3, 3, 4)},
    wrt=(0, 1), primal=rnn_unbatched,
    programs={"torch": _torch_rebound(rnn_unbatched)},
    notes={"jax_jit": "Python loop unrolled at trace time (50 steps)"},
))
_register(Workload(
    "mlp_params", "classifier, parameters a list of (W, b) tuples, 784-200-100-10, batch 256, "
    "tanh, softmax CE; grad wrt the list",
    {"full": _mlp_params_inputs(256, (784, 200, 100, 10)),
     "quick": _mlp_params_inputs(256, (784, 200, 100, 10)),
     "smoke": _mlp_params_inputs(4, (5, 4, 3, 2))},
    wrt=(0,), primal=mlp_params_loss,
    programs={"torch": lambda: mlp_params_loss_torch},
))
_register(Workload(
    "fluids", "stable fluids 48x48, 20 steps: bilinear advection by fancy indexing, "
    "np.roll Jacobi projection; grad wrt u0, v0, d0",
    {"full": _smoke_inputs(48, 20, False), "quick": _smoke_inputs(48, 20, False),
     "smoke": _smoke_inputs(6, 2, False)},
    wrt=(0, 1, 2), primal=smoke,
    programs={"torch": _smoke_torch_factory, "autograd": _smoke_autograd},
    notes={"torch": "clamp/long/torch.roll for clip/astype/np.roll",
           "autograd": "cell indices from autograd.tracer.getval(x).astype(int)"},
))
_register(Workload(
    "fluids_wing", "the same simulation around a wing mask; grad wrt u0, v0, d0",
    {"full": _smoke_inputs(48, 20, True), "quick": _smoke_inputs(48, 20, True),
     "smoke": _smoke_inputs(6, 2, True)},
    wrt=(0, 1, 2), primal=smoke,
    programs={"torch": _smoke_torch_factory, "autograd": _smoke_autograd},
    notes={"torch": "clamp/long/torch.roll for clip/astype/np.roll",
           "autograd": "cell indices from autograd.tracer.getval(x).astype(int)"},
))
_register(Workload(
    "lstm", "2-layer LSTM from helper functions, 30 steps, batch 8, in 16, hidden 32, "
    "layers a list of (W, U, b); grad wrt the list",
    {"full": _lstm_inputs(30, 8, 16, 32, 2), "quick": _lstm_inputs(30, 8, 16, 32, 2),
     "smoke": _lstm_inputs(3, 2, 3, 4, 2)},
    wrt=(0,), primal=lstm_loss,
    programs={"torch": _lstm_torch},
    notes={"torch": "the same helpers with torch.* (explicit float64 zeros)"},
))
_register(Workload(
    "scalar_calls", "tiny scalar function (damped sinusoid, np.sin/np.exp); its gradient "
    "called in a Python loop at 100 points of np.linspace (np.float64 scalars)",
    {"full": _points_inputs(100), "quick": _points_inputs(100), "smoke": _points_inputs(3)},
    wrt=(0,), primal=sinusoid_at_points, per_point=sinusoid,
    programs={"torch": _torch_rebound(sinusoid)},
    notes={"torch": "each point becomes a 0-d tensor", "jax_jit": "jax.jit(jax.grad(f)) called per point"},
))


def select(only: Optional[str]) -> Dict[str, Workload]:
    """Workloads whose name equals or starts with one of the comma-separated names."""
    if not only:
        return dict(WORKLOADS)
    keys = [k.strip() for k in only.split(",") if k.strip()]
    out = {}
    for name, w in WORKLOADS.items():
        if any(name == k or name.startswith(k) for k in keys):
            out[name] = w
    return out
