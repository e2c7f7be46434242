"""Run one generated program through diffc and check it against finite differences.

`check(program, workdir)` writes the program twice to real files in
``workdir`` — the plain program (what diffc differentiates, so
``inspect.getsource`` works as for any user module) and the traced variant
(every data-dependent decision recorded by ``_T``, see generator.py) — imports
both with importlib and returns an `Outcome`:

* ``discard``: the program is not a fair test — its value is not finite or
  huge, a finite-difference probe took a different path than the base point
  (the trace differs), or two finite-difference step sizes disagree (the
  function is too curved for finite differences to be a reference).
* ``invalid``: the plain program itself raised — a generator bug.
* ``fail``: diffc raised, or its gradient / value / jvp disagrees with finite
  differences, or it changed the caller's arrays, or a gradient has the wrong
  shape.
* ``refused``: diffc raised a clear `DiffcError` (e.g. an aliasing pattern it
  refuses rather than computing something else).  Not a wrong answer, but an
  ordinary program diffc does not take: reported, and bounded by the tests.
* ``pass``: reverse mode (``diffc.grad`` and ``diffc.value_and_grad``) and,
  when ``diffc.jvp`` exists, forward mode agree with central differences;
  with ``higher_order``, so do Hessian-vector products in forward over
  reverse and reverse over reverse (against differences of the gradient).
"""

import copy
import importlib.util
import itertools
import os
import traceback
from dataclasses import dataclass

import numpy as np

import diffc

EPS = 1e-6
_unique = itertools.count()


@dataclass
class Outcome:
    seed: int
    status: str          # "pass" | "discard" | "invalid" | "fail"
    reason: str
    source: str
    forward_checked: bool = False

    def report(self):
        return f"--- seed {self.seed}: {self.status}: {self.reason}\n{self.source}"


def load_module(path, name):
    """Import a file as a fresh module (so inspect.getsource finds its text)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_and_load(program, workdir):
    tag = f"fuzzprog_{program.seed}_{next(_unique)}_{os.getpid()}"
    plain_path = os.path.join(workdir, tag + ".py")
    traced_path = os.path.join(workdir, tag + "_traced.py")
    with open(plain_path, "w") as fh:
        fh.write(program.plain)
    with open(traced_path, "w") as fh:
        fh.write(program.traced)
    return load_module(plain_path, tag), load_module(traced_path, tag + "_traced")


def _call_traced(mod, args):
    del mod._TRACE[:]
    value = float(mod.f(*copy.deepcopy(args)))
    return value, tuple(mod._TRACE)


class _Discard(Exception):
    pass


def _finite_differences(mod, args, wrt, base_trace, eps):
    """Central differences per wrt argument; raise _Discard if a probe changes path."""
    grads = []
    for k in wrt:
        x = args[k]
        base = np.array(x, dtype=np.float64)
        flat = base.reshape(-1)
        out = np.zeros(flat.size)
        for i in range(flat.size):
            values = []
            for sign in (1.0, -1.0):
                probe = flat.copy()
                probe[i] += sign * eps
                arg = probe.reshape(base.shape) if isinstance(x, np.ndarray) else float(probe[0])
                call = list(args)
                call[k] = arg
                value, trace = _call_traced(mod, call)
                if trace != base_trace:
                    raise _Discard(f"finite differences cross a branch (arg {k}, component {i})")
                values.append(value)
            out[i] = (values[0] - values[1]) / (2 * eps)
        grads.append(out.reshape(base.shape))
    return grads


def _close(actual, expected, scale, rtol=1e-4, atol=1e-5):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return False
    return bool(np.all(np.abs(actual - expected) <= atol * scale + rtol * np.abs(expected)))


def _second_order(plain, traced, args, k, trace, seed):
    """None, or why the Hessian-vector products of diffc disagree with finite differences.

    Reference: central differences of diffc's gradient (checked against finite
    differences of f just before) along a random direction t, on probes that
    keep the base point's path.  Checked: `hvp` (forward over reverse) and the
    pullback of `grad` (reverse over reverse), both H t."""
    rng = np.random.default_rng(seed + 7)
    x = args[k]
    t = rng.normal(size=np.shape(x))
    t = t if isinstance(x, np.ndarray) else float(t)
    grad = diffc.grad(plain.f, wrt=k)
    sides = []
    for sign in (1.0, -1.0):
        call = list(args)
        call[k] = x + sign * 1e-5 * t
        if _call_traced(traced, call)[1] != trace:
            return None                          # the probe changes path: no reference
        sides.append(np.asarray(grad(*copy.deepcopy(call)), dtype=float))
    reference = (sides[0] - sides[1]) / 2e-5
    hscale = max(1.0, float(np.max(np.abs(reference))))
    if not np.all(np.isfinite(reference)) or hscale > 1e6:
        return None
    try:
        by_hvp = diffc.hvp(plain.f, wrt=k)(*copy.deepcopy(args), t)
        _, pullback = diffc.vjp(grad, *copy.deepcopy(args))
        by_vjp = pullback(t)[k]
    except diffc.DiffcError:
        return None                              # refused loudly: not a wrong answer
    except Exception as exc:  # noqa: BLE001
        return f"second order crash: {type(exc).__name__}: {exc}\n" + traceback.format_exc(limit=-3)
    for label, value in (("hvp (forward over reverse)", by_hvp), ("vjp of grad (reverse over reverse)", by_vjp)):
        if not _close(value, reference, hscale, rtol=1e-3, atol=1e-4):
            return f"{label} of arg {k}: diffc {value!r} != finite differences of the gradient {reference!r}"
    return None


def check(program, workdir, forward=True, higher_order=False):
    """Run every check on one program (see module docstring)."""
    src = program.plain
    try:
        plain, traced = write_and_load(program, workdir)
    except Exception as exc:  # noqa: BLE001 - a generator bug
        return Outcome(program.seed, "invalid", f"does not import: {exc!r}", src)
    args, wrt = program.args, program.wrt
    with np.errstate(all="ignore"):
        try:
            value, trace = _call_traced(traced, args)
            float(plain.f(*copy.deepcopy(args)))
        except Exception as exc:  # noqa: BLE001
            return Outcome(program.seed, "invalid", f"the program raises {exc!r}", src)
        if not np.isfinite(value) or abs(value) > 1e6:
            return Outcome(program.seed, "discard", f"value {value}", src)
        try:
            # An intermediate that overflows makes the true derivative 0 * inf: NaN in
            # every AD system (and in NumPy); such programs test nothing.
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                plain.f(*copy.deepcopy(args))
        except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
            return Outcome(program.seed, "discard", f"the primal overflows: {exc}", src)
        try:
            fd = _finite_differences(traced, args, wrt, trace, EPS)
            fd_coarse = _finite_differences(traced, args, wrt, trace, 10 * EPS)
        except _Discard as exc:
            return Outcome(program.seed, "discard", str(exc), src)
        scale = max([1.0, abs(value)] + [float(np.max(np.abs(g))) for g in fd])
        if not all(np.all(np.isfinite(g)) for g in fd) or scale > 1e6:
            return Outcome(program.seed, "discard", "huge or non-finite derivatives", src)
        if not all(_close(a, b, scale, rtol=1e-4, atol=1e-6) for a, b in zip(fd, fd_coarse)):
            return Outcome(program.seed, "discard", "finite differences disagree between step sizes", src)

        before = copy.deepcopy(args)
        try:
            val, grads = diffc.value_and_grad(plain.f, wrt=wrt)(*args)
            grads_again = diffc.grad(plain.f, wrt=wrt)(*args)
        except diffc.DiffcError as exc:
            return Outcome(program.seed, "refused", f"reverse mode: {type(exc).__name__}: {exc}", src)
        except Exception as exc:  # noqa: BLE001
            return Outcome(program.seed, "fail", f"reverse mode crash: {type(exc).__name__}: {exc}\n"
                           + traceback.format_exc(limit=-3), src)
        for a, b in zip(args, before):
            if not np.array_equal(np.asarray(a), np.asarray(b)):
                return Outcome(program.seed, "fail", "diffc modified the caller's arguments", src)
        if not _close(val, value, scale, rtol=1e-9, atol=1e-9):
            return Outcome(program.seed, "fail", f"value_and_grad value {val!r} != f {value!r}", src)
        for k, g, g2, ref in zip(wrt, grads, grads_again, fd):
            if np.shape(g) != np.shape(args[k]):
                return Outcome(program.seed, "fail", f"gradient of arg {k} has shape {np.shape(g)}", src)
            if not _close(g, ref, scale):
                return Outcome(program.seed, "fail", f"reverse gradient of arg {k}: diffc {g!r} != "
                               f"finite differences {ref!r}", src)
            if not _close(g2, g, scale, rtol=1e-12, atol=1e-12):
                return Outcome(program.seed, "fail", f"grad and value_and_grad differ for arg {k}", src)

        forward_checked = False
        if forward and hasattr(diffc, "jvp"):
            forward_checked = True
            rng = np.random.default_rng(program.seed)
            tangents = [None] * len(args)
            expected = 0.0
            for k, ref in zip(wrt, fd):
                t = rng.normal(size=np.shape(args[k]))
                tangents[k] = t if isinstance(args[k], np.ndarray) else float(t)
                expected += float(np.sum(ref * t))
            try:
                out, tout = diffc.jvp(plain.f, tuple(args), tuple(tangents))
            except Exception as exc:  # noqa: BLE001
                kind = "diffc error" if isinstance(exc, diffc.DiffcError) else "crash"
                return Outcome(program.seed, "fail", f"forward mode {kind}: {type(exc).__name__}: {exc}\n"
                               + traceback.format_exc(limit=-3), src)
            if not _close(out, value, scale, rtol=1e-9, atol=1e-9):
                return Outcome(program.seed, "fail", f"jvp primal {out!r} != f {value!r}", src)
            tscale = scale * (1.0 + sum(float(np.sum(np.abs(t))) for t in tangents if t is not None))
            if not _close(tout, expected, tscale):
                return Outcome(program.seed, "fail", f"jvp tangent {tout!r} != finite differences "
                               f"{expected!r}", src, True)
        if higher_order:
            problem = _second_order(plain, traced, args, wrt[0], trace, program.seed)
            if problem is not None:
                return Outcome(program.seed, "fail", problem, src, forward_checked)
    return Outcome(program.seed, "pass", "", src, forward_checked)


def run_many(seeds, workdir, forward=True, stop_after_passes=None, higher_order=False):
    """Check the programs for the given seeds; returns the list of outcomes."""
    from .generator import generate
    outcomes = []
    passes = 0
    for seed in seeds:
        outcome = check(generate(seed), workdir, forward=forward, higher_order=higher_order)
        outcomes.append(outcome)
        passes += outcome.status == "pass"
        if stop_after_passes is not None and passes >= stop_after_passes:
            break
    return outcomes


def summary(outcomes):
    counts = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    fwd = sum(o.forward_checked for o in outcomes)
    return (f"{len(outcomes)} programs: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
            + f" (forward mode checked on {fwd})")
