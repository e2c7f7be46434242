"""Run one generated program through diffc and check it against references.

`check(program, workdir)` writes the program twice to real files in
``workdir`` — the plain program (what diffc differentiates, so
``inspect.getsource`` works as for any user module) and the traced variant
(every data-dependent decision and every jump of a float ``%``/``//``
recorded, see generator.py) — imports both and runs, per mode:

* ``reverse``: ``diffc.grad`` (and ``diffc.value_and_grad`` on every fourth seed);
* ``forward``: ``diffc.jvp`` along a random tangent;
* ``hvp`` (``higher_order=True``): ``diffc.hvp`` (forward over reverse) and the
  pullback of ``diffc.grad`` (reverse over reverse), against central
  differences of the (checked) gradient;
* ``autograd`` (when autograd is importable, see autograd_ref.py): diffc's
  reverse gradient against autograd's on the same program, a differential
  check with a much tighter tolerance than finite differences, and a
  reference where finite differences cross a branch.

References: central finite differences at two step sizes (1e-6 and 1e-5) on
probes that keep the base point's trace.  Reverse and forward are also
checked against each other (g . t = jvp), which needs no reference.

Status of a program (the worst over its modes, in this order):

* ``invalid``: the program itself raised — a generator bug;
* ``wrong``: diffc returned a value or derivative that disagrees with the
  reference beyond tolerance, and the disagreement is confirmed: at a
  second, nearby point with its own finite differences (so a program that
  happens to be non-smooth at the sample point is not called wrong), or by
  autograd; also reverse and forward disagreeing with each other, a
  gradient of the wrong shape, or the caller's arguments modified;
* ``crash``: any exception other than a `diffc.DiffcError` from compiling or
  from running generated code, while the primal runs fine (a DiffcError that
  wraps one, "internal error while compiling", counts as the crash it is);
* ``suspect``: a disagreement at the sample point that a nearby point does
  not reproduce (printed for a human to judge; not counted as wrong);
* ``timeout``: a mode took longer than `timeout` seconds (compiling second
  order on a loaded machine can);
* ``refused``: diffc raised a `DiffcError` (grouped by kind in run.py);
* ``pass``: every mode that ran agrees with its references;
* ``discard``: no reference and nothing diffc did could be judged (value not
  finite or huge, overflow in the primal).
"""

import copy
import importlib.util
import itertools
import os
import re
import signal
import traceback
from dataclasses import dataclass, field

import numpy as np

import diffc

from . import autograd_ref

EPS = 1e-6
_unique = itertools.count()

# worst first: a program's status is the first of these any of its modes has
SEVERITY = ("invalid", "wrong", "crash", "suspect", "timeout", "refused", "pass", "discard")


@dataclass
class Outcome:
    seed: int
    status: str
    reason: str
    source: str
    mode: str = ""                 # the mode whose result set the status
    kind: str = ""                 # the class of the failure / refusal (run.py groups by it)
    modes: dict = field(default_factory=dict)    # mode -> pass|wrong|crash|suspect|refused|skip
    features: set = field(default_factory=set)
    args: list = None
    notes: list = field(default_factory=list)    # e.g. autograd disagreeing with finite differences
    refusals: dict = field(default_factory=dict)  # mode -> kind of its DiffcError

    @property
    def forward_checked(self):
        return self.modes.get("forward") in ("pass", "wrong", "suspect")

    def report(self):
        return (f"--- seed {self.seed}: {self.status} [{self.mode}] {self.kind}\n{self.reason}\n"
                f"args: {self.args!r}\n{self.source}")


class _Timeout(BaseException):
    """Not an Exception: diffc wraps compiler exceptions in a DiffcError, not this."""


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
    try:
        actual = np.asarray(actual, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return False
    return bool(np.all(np.abs(actual - expected) <= atol * scale + rtol * np.abs(expected)))


def _reference(traced, args, wrt):
    """(value, trace, fd gradients, scale) at args, or raise _Discard with the reason."""
    value, trace = _call_traced(traced, args)
    if not np.isfinite(value) or abs(value) > 1e6:
        raise _Discard(f"value {value}")
    fd = _finite_differences(traced, args, wrt, trace, EPS)
    fd_coarse = _finite_differences(traced, args, wrt, trace, 10 * EPS)
    scale = max([1.0, abs(value)] + [float(np.max(np.abs(g))) for g in fd])
    if not all(np.all(np.isfinite(g)) for g in fd) or scale > 1e6:
        raise _Discard("huge or non-finite derivatives")
    if not all(_close(a, b, scale, rtol=1e-4, atol=1e-6) for a, b in zip(fd, fd_coarse)):
        raise _Discard("finite differences disagree between step sizes")
    return value, trace, fd, scale


def _nearby_points(program, args, wrt, count=3):
    rng = np.random.default_rng(program.seed + 1009)
    for _ in range(count):
        moved = list(copy.deepcopy(args))
        for k in wrt:
            step = rng.normal(size=np.shape(args[k])) * 0.01
            moved[k] = args[k] + step if isinstance(args[k], np.ndarray) else float(args[k] + step)
        yield moved


def _confirm(program, traced, args, wrt, derivative_ok):
    """Is a disagreement at `args` confirmed at a nearby point?

    `derivative_ok(point, fd, scale)` recomputes diffc's derivative there and
    says whether it agrees with the finite differences `fd`.  Returns
    "confirmed", "not reproduced" (every usable nearby point agrees: the
    sample point is special, e.g. non-smooth in a way the trace misses) or
    "no nearby reference"."""
    usable = 0
    for point in _nearby_points(program, args, wrt):
        try:
            with np.errstate(all="ignore"):
                _, _, fd, scale = _reference(traced, point, wrt)
        except Exception:  # noqa: BLE001 - no reference there (a jump, or the program fails there)
            continue
        usable += 1
        try:
            if not derivative_ok(point, fd, scale):
                return "confirmed"
        except Exception:  # noqa: BLE001 - a crash there: the first point's verdict stands
            return "confirmed"
    return "not reproduced" if usable else "no nearby reference"


def _normalize(message):
    """The kind of a message: its first line, without the user's names and numbers."""
    first = message.strip().split("\n")[0]
    first = re.sub(r"^\S+\.py:\d+(:\d+)?: ", "", first)
    first = re.sub(r"'[^']*'", "'_'", first)
    first = re.sub(r"\b[a-z_]*\d+\b", "N", first)
    return first[:160]


def _error_kind(exc):
    text = getattr(exc, "bare_message", None) or str(exc)
    if isinstance(exc, diffc.DiffcError):
        return f"{type(exc).__name__}: {_normalize(text)}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = re.sub(r"\d+", "N", frames[-1].name) if frames else "?"
    return f"{type(exc).__name__} in {where}: {_normalize(text)}"


class _ModeResult(Exception):
    """Raised inside a mode check to end it with a status (other than pass)."""

    def __init__(self, status, reason, kind=""):
        super().__init__(reason)
        self.status, self.reason, self.kind = status, reason, kind


def _run_diffc(label, thunk):
    """Call diffc; a DiffcError is a refusal, any other exception a crash."""
    try:
        return thunk()
    except _Timeout:
        raise
    except diffc.DiffcError as exc:
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, diffc.DiffcError):
            # "internal error while compiling": a compiler exception wrapped in a DiffcError
            raise _ModeResult("crash", f"{label} crash (wrapped): {type(exc).__name__}: {exc}\n"
                              + "".join(traceback.format_exception(cause, limit=-4)),
                              "internal error: " + _error_kind(cause)) from exc
        raise _ModeResult("refused", f"{label}: {type(exc).__name__}: {exc}", _error_kind(exc)) from exc
    except Exception as exc:  # noqa: BLE001
        raise _ModeResult("crash", f"{label} crash: {type(exc).__name__}: {exc}\n"
                          + traceback.format_exc(limit=-4), _error_kind(exc)) from exc


class _Checker:
    """The checks of one program; each `mode_*` method returns or raises _ModeResult."""

    def __init__(self, program, plain, traced, workdir):
        self.program, self.plain, self.traced, self.workdir = program, plain, traced, workdir
        self.args, self.wrt = program.args, program.wrt
        self.value = None
        self.trace = None
        self.fd = None          # finite differences at the sample point (None: unusable)
        self.fd_why = ""
        self.scale = 1.0
        self.grads = None       # diffc's reverse gradients (when reverse mode ran)
        self.autograd = None    # autograd's gradients (when it ran)
        self.notes = []

    # ---------------------------------------------------------- reverse
    def _reverse_at(self, point):
        return diffc.grad(self.plain.f, wrt=self.wrt)(*copy.deepcopy(point))

    def mode_reverse(self):
        args, wrt = self.args, self.wrt
        before = copy.deepcopy(args)
        grads = _run_diffc("reverse mode", lambda: diffc.grad(self.plain.f, wrt=wrt)(*args))
        # value_and_grad compiles a second entry (the cost of a program is mostly
        # compiling): checked on every fourth seed
        if self.program.seed % 4 == 0:
            val, again = _run_diffc("reverse mode (value_and_grad)",
                                    lambda: diffc.value_and_grad(self.plain.f, wrt=wrt)(*args))
        else:
            val, again = self.value, grads
        self.grads = grads
        for a, b in zip(args, before):
            if not np.array_equal(np.asarray(a), np.asarray(b)):
                raise _ModeResult("wrong", "diffc modified the caller's arguments", "modifies arguments")
        if not _close(val, self.value, self.scale, rtol=1e-9, atol=1e-9):
            raise _ModeResult("wrong", f"value_and_grad value {val!r} != f {self.value!r}", "wrong value")
        for k, g, g2 in zip(wrt, grads, again):
            if np.shape(g) != np.shape(args[k]):
                raise _ModeResult("wrong", f"gradient of arg {k} has shape {np.shape(g)}", "wrong shape")
            if not _close(g2, g, self.scale, rtol=1e-12, atol=1e-12):
                raise _ModeResult("wrong", f"grad and value_and_grad differ for arg {k}", "grad != value_and_grad")
        if self.fd is None:
            return "unchecked"          # judged by the autograd and forward modes, if at all
        for k, g, ref in zip(wrt, grads, self.fd):
            if not _close(g, ref, self.scale):
                reason = f"reverse gradient of arg {k}: diffc {g!r} != finite differences {ref!r}"
                self._judge(reason, "reverse gradient != finite differences",
                            lambda p, fd, s: all(_close(a, b, s) for a, b in zip(self._reverse_at(p), fd)))
        return "pass"

    def _judge(self, reason, kind, derivative_ok):
        verdict = _confirm(self.program, self.traced, self.args, self.wrt, derivative_ok)
        if verdict == "not reproduced":
            raise _ModeResult("suspect", reason + "\n(not reproduced at nearby points)", kind)
        raise _ModeResult("wrong", reason + f"\n({verdict} at nearby points)", kind)

    # ---------------------------------------------------------- forward
    def mode_forward(self):
        args, wrt = self.args, self.wrt
        rng = np.random.default_rng(self.program.seed)
        tangents = [None] * len(args)
        for k in wrt:
            t = rng.normal(size=np.shape(args[k]))
            tangents[k] = t if isinstance(args[k], np.ndarray) else float(t)
        out, tout = _run_diffc("forward mode", lambda: diffc.jvp(self.plain.f, tuple(args), tuple(tangents)))
        if not _close(out, self.value, self.scale, rtol=1e-9, atol=1e-9):
            raise _ModeResult("wrong", f"jvp primal {out!r} != f {self.value!r}", "jvp primal != f")
        tscale = self.scale * (1.0 + sum(float(np.sum(np.abs(t))) for t in tangents if t is not None))
        if self.fd is not None:
            expected = sum(float(np.sum(ref * tangents[k])) for k, ref in zip(wrt, self.fd))
            if not _close(tout, expected, tscale):
                def ok(point, fd, scale):
                    _, t2 = diffc.jvp(self.plain.f, tuple(point), tuple(tangents))
                    exp2 = sum(float(np.sum(r * tangents[k])) for k, r in zip(wrt, fd))
                    return _close(t2, exp2, scale * tscale / self.scale)
                self._judge(f"jvp tangent {tout!r} != finite differences {expected!r}",
                            "jvp != finite differences", ok)
        if self.grads is not None:
            by_reverse = sum(float(np.sum(np.asarray(g) * tangents[k])) for k, g in zip(wrt, self.grads))
            if not _close(tout, by_reverse, tscale, rtol=1e-6, atol=1e-8):
                if self.fd is None and self._rounding_dominated(tangents, by_reverse, abs(tout - by_reverse)):
                    raise _ModeResult("discard", "jvp != reverse, but the reverse gradient itself moves "
                                      "by as much under relative changes of 1e-10 of the arguments "
                                      "(ill-conditioned: float rounding, no reference)", "ill-conditioned")
                raise _ModeResult("wrong",
                                  f"jvp tangent {tout!r} != reverse gradient . tangent {by_reverse!r}",
                                  "jvp != reverse")
        return "pass" if self.fd is not None or self.grads is not None else "unchecked"

    def _rounding_dominated(self, tangents, by_reverse, gap):
        """Whether float rounding alone moves gradient . tangent by a tenth of `gap`: the
        reverse gradient at two points on the same path within a relative 1e-10 of the
        sample (seed 389: a modulus grows to 1e13 and a difference cancels 13 digits, so
        the two exact modes round differently; tests/fuzz/seed389_exact.py)."""
        rng = np.random.default_rng(self.program.seed + 11)
        for _ in range(2):
            point = list(self.args)
            for k in self.wrt:
                x = self.args[k]
                point[k] = x * (1.0 + 1e-10 * rng.normal(size=np.shape(x)))
                point[k] = point[k] if isinstance(x, np.ndarray) else float(point[k])
            try:
                if _call_traced(self.traced, point)[1] != self.trace:
                    continue
                grads = self._reverse_at(point)
            except Exception:  # noqa: BLE001 - no verdict from a point where the program fails
                continue
            moved = sum(float(np.sum(np.asarray(g) * tangents[k])) for k, g in zip(self.wrt, grads))
            if abs(moved - by_reverse) > 0.1 * gap:
                return True
        return False

    # ---------------------------------------------------------- autograd
    def mode_autograd(self):
        """Compare with autograd, where finite differences agree with autograd (else note it)."""
        if self.autograd is None or self.grads is None:
            return "skip"
        for k, g, ref in zip(self.wrt, self.grads, self.autograd):
            if _close(g, ref, self.scale, rtol=1e-6, atol=1e-8):
                continue
            if self.fd is not None and not _close(ref, self.fd[list(self.wrt).index(k)], self.scale):
                self.notes.append(f"autograd disagrees with finite differences for arg {k}")
                continue
            raise _ModeResult("wrong" if self.fd is not None else "suspect",
                              f"reverse gradient of arg {k}: diffc {g!r} != autograd {ref!r}",
                              "reverse gradient != autograd")
        return "pass"

    # ---------------------------------------------------------- second order
    def mode_hvp(self):
        """Hessian-vector products of diffc (forward over reverse, reverse over reverse)
        against central differences of diffc's gradient (checked just before) along a
        random direction t, on probes that keep the base point's path."""
        if self.grads is None or self.fd is None:
            return "skip"
        k = self.wrt[0]
        rng = np.random.default_rng(self.program.seed + 7)
        x = self.args[k]
        t = rng.normal(size=np.shape(x))
        t = t if isinstance(x, np.ndarray) else float(t)
        grad = diffc.grad(self.plain.f, wrt=k)
        sides = []
        for sign in (1.0, -1.0):
            call = list(self.args)
            call[k] = x + sign * 1e-5 * t
            if _call_traced(self.traced, call)[1] != self.trace:
                return "skip"                          # the probe changes path: no reference
            sides.append(np.asarray(grad(*copy.deepcopy(call)), dtype=float))
        reference = (sides[0] - sides[1]) / 2e-5
        hscale = max(1.0, float(np.max(np.abs(reference))))
        if not np.all(np.isfinite(reference)) or hscale > 1e6:
            return "skip"
        by_hvp = _run_diffc("hvp (forward over reverse)",
                            lambda: diffc.hvp(self.plain.f, wrt=k)(*copy.deepcopy(self.args), t))
        _, pullback = _run_diffc("vjp of grad (reverse over reverse)",
                                 lambda: diffc.vjp(grad, *copy.deepcopy(self.args)))
        by_vjp = _run_diffc("vjp of grad (reverse over reverse)", lambda: pullback(t)[k])
        for label, value in (("hvp (forward over reverse)", by_hvp),
                             ("vjp of grad (reverse over reverse)", by_vjp)):
            if not _close(value, reference, hscale, rtol=1e-3, atol=1e-4):
                raise _ModeResult("wrong", f"{label} of arg {k}: diffc {value!r} != finite differences "
                                  f"of the gradient {reference!r}", f"{label} != finite differences")
        return "pass"


def _alarm(signum, frame):
    raise _Timeout()


def check(program, workdir, forward=True, higher_order=False, autograd=True, timeout=120):
    """Run every check on one program (see module docstring)."""
    src = program.plain
    out = Outcome(program.seed, "discard", "", src, features=set(program.features), args=program.args)
    try:
        plain, traced = write_and_load(program, workdir)
    except Exception as exc:  # noqa: BLE001 - a generator bug
        out.status, out.reason = "invalid", f"does not import: {exc!r}"
        return out
    checker = _Checker(program, plain, traced, workdir)
    args, wrt = program.args, program.wrt
    with np.errstate(all="ignore"):
        try:
            checker.value, checker.trace = _call_traced(traced, args)
            float(plain.f(*copy.deepcopy(args)))
        except (ArithmeticError, ValueError) as exc:
            out.reason = f"the program raises {exc!r}"       # e.g. math domain error: no test
            return out
        except Exception as exc:  # noqa: BLE001
            out.status, out.reason = "invalid", f"the program raises {exc!r}"
            return out
        if not np.isfinite(checker.value) or abs(checker.value) > 1e6:
            out.reason = f"value {checker.value}"
            return out
        try:
            # An intermediate that overflows makes the true derivative 0 * inf: NaN in
            # every AD system (and in NumPy); such programs test nothing.
            with np.errstate(over="raise", invalid="raise", divide="raise"):
                plain.f(*copy.deepcopy(args))
        except (FloatingPointError, OverflowError, ZeroDivisionError) as exc:
            out.reason = f"the primal overflows: {exc}"
            return out
        try:
            _, _, checker.fd, checker.scale = _reference(traced, args, wrt)
        except _Discard as exc:
            checker.fd_why = str(exc)
        if autograd and autograd_ref.available():
            path = os.path.join(workdir, f"fuzzag_{program.seed}_{next(_unique)}.py")
            checker.autograd, why = autograd_ref.reference_gradients(src, args, wrt, checker.value, path)
            out.modes["autograd_reference"] = "yes" if checker.autograd is not None else why
        modes = [("reverse", checker.mode_reverse)]
        if forward:
            modes.append(("forward", checker.mode_forward))
        if autograd:
            modes.append(("autograd", checker.mode_autograd))
        if higher_order:
            modes.append(("hvp", checker.mode_hvp))
        previous = signal.signal(signal.SIGALRM, _alarm) if timeout else None
        try:
            for name, run in modes:
                if timeout:
                    signal.alarm(timeout)
                try:
                    out.modes[name] = run()
                except _ModeResult as res:
                    out.modes[name] = res.status
                    if res.status == "refused":
                        out.refusals[name] = res.kind
                    if SEVERITY.index(res.status) < SEVERITY.index(out.status):
                        out.status, out.reason, out.mode, out.kind = res.status, res.reason, name, res.kind
                except _Timeout:
                    # on a loaded machine compiling can take minutes: counted apart, not a crash
                    out.modes[name] = "timeout"
                    if SEVERITY.index("timeout") < SEVERITY.index(out.status):
                        out.status, out.reason, out.mode, out.kind = ("timeout", f"{name}: over {timeout}s",
                                                                      name, "timeout")
                    break
                finally:
                    if timeout:
                        signal.alarm(0)
        finally:
            if timeout:
                signal.signal(signal.SIGALRM, previous)
    out.notes = checker.notes
    if out.status == "discard":
        judged = [m for m in ("reverse", "forward", "autograd", "hvp") if out.modes.get(m) == "pass"]
        if checker.fd is not None or checker.autograd is not None or judged:
            out.status = "pass"
        else:
            out.reason = checker.fd_why
    return out


def run_many(seeds, workdir, forward=True, stop_after_passes=None, higher_order=False, autograd=True,
             progress=None, shapes=None, exclude=()):
    """Check the programs for the given seeds; returns the list of outcomes.

    `shapes` (None: each seed draws its own) fixes the set of generator.SHAPES,
    `exclude` removes some from it."""
    from .generator import generate
    outcomes = []
    passes = 0
    for seed in seeds:
        outcome = check(generate(seed, shapes=shapes, exclude=exclude), workdir, forward=forward,
                        higher_order=higher_order, autograd=autograd)
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
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
