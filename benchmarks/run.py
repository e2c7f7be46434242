#!/usr/bin/env python
"""Run the diffc benchmark suite against autograd, JAX, PyTorch and tangent-ad.

    python benchmarks/run.py                 # full suite
    python benchmarks/run.py --quick         # smaller loops, fewer repeats (< 2 min)
    python benchmarks/run.py --only rnn,heat # a subset (prefix match)
    python benchmarks/run.py --out DIR       # where JSON / Markdown / PNG go

See benchmarks/README.md for what is measured.
"""

from __future__ import annotations

import os
import sys

# ---- pin every BLAS / XLA / torch thread pool to one thread, BEFORE numpy ----
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS"):
    os.environ[_var] = "1"
_xla = os.environ.get("XLA_FLAGS", "")
for _flag in ("--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"):
    if _flag not in _xla:
        _xla = (_xla + " " + _flag).strip()
os.environ["XLA_FLAGS"] = _xla
os.environ.setdefault("JAX_PLATFORMS", "cpu")


def _pin_to_one_cpu():
    """Bind the whole process to one CPU, before any library starts threads.

    The variables above are not enough: XLA's CPU runtime (JAX 0.10) ignores
    them and runs a matrix product on every core (measured here: 4.7 ms of CPU
    in 2.4 ms of wall time).  With the affinity set, every peer's threads share
    one core, so wall time compares the same amount of hardware.  Returns the
    CPU used, or None where the platform cannot set affinity."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return cpus[-1]
    except (AttributeError, OSError):
        return None


PINNED_CPU = _pin_to_one_cpu()
os.environ["JAX_ENABLE_X64"] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from typing import Any, Callable, Dict, List, Optional, Tuple  # noqa: E402

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
for _p in (_HERE, _ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy as np  # noqa: E402

import report  # noqa: E402
import workloads as W  # noqa: E402

PEERS = ["diffc", "diffc_jit", "autograd", "jax", "jax_jit", "torch", "tangent"]
# order in which a successful peer becomes the reference gradient
REFERENCE_ORDER = ["autograd", "torch", "jax", "jax_jit", "tangent", "diffc", "diffc_jit"]

MODES = {
    # size: which inputs; repeats: timed samples; min_time: seconds per sample;
    # budget: max seconds of timing per cell; timeout: max seconds for build + first call;
    # slow: a first call slower than this is used as the only sample
    "full": dict(size="full", repeats=7, min_time=0.05, budget=20.0, timeout=300, slow=10.0),
    "quick": dict(size="quick", repeats=3, min_time=0.01, budget=1.5, timeout=15, slow=1.0),
    "smoke": dict(size="smoke", repeats=1, min_time=0.0, budget=0.2, timeout=20, slow=0.5),
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def short(exc: BaseException, limit: int = 120) -> str:
    """One line: exception type and the first informative line of its message."""
    lines = [ln.strip() for ln in str(exc).splitlines()]
    lines = [ln for ln in lines if ln and set(ln) - set("=-*~^ ") and ln != "Tangent Error"]
    text = f"{type(exc).__name__}: {' '.join(lines[:2])}".strip()
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class CellTimeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise CellTimeout in the main thread after ``seconds`` (Unix only)."""
    use = seconds and hasattr(signal, "SIGALRM") and seconds > 0
    if not use:
        yield
        return

    def handler(signum, frame):
        raise CellTimeout(f"timeout after {seconds:.0f} s")

    old = signal.signal(signal.SIGALRM, handler)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextlib.contextmanager
def quiet():
    """Swallow chatter some peers print to stdout (tangent prints warnings)."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


# --------------------------------------------------------------------------
# peers


class PeerLib:
    def __init__(self, name: str, pretend_missing: bool = False):
        self.name = name
        self.mod: Any = None
        self.version = None
        self.status = "not installed"
        self.message = ""
        if pretend_missing:
            self.message = "disabled with --missing"
            return
        try:
            self._load()
            self.status = "ok"
        except ImportError as e:
            self.status = "not installed"
            self.message = short(e)
        except (Exception, SystemExit) as e:  # a broken install is not a crash either
            self.status = "error"
            self.message = short(e)

    def _load(self) -> None:
        n = self.name
        if n == "diffc":
            import diffc

            if not hasattr(diffc, "grad"):
                raise ImportError("diffc has no grad() yet")
            self.mod = diffc
            self.version = getattr(diffc, "__version__", None)
        elif n == "diffc_jit":
            import diffc
            import numba

            self.mod = diffc
            self.version = f"{diffc.__version__} + numba {numba.__version__}"
        elif n == "autograd":
            import autograd

            self.mod = autograd
        elif n in ("jax", "jax_jit"):
            import jax

            jax.config.update("jax_enable_x64", True)
            jax.config.update("jax_platforms", "cpu")
            self.mod = jax
        elif n == "torch":
            import torch

            torch.set_num_threads(1)
            try:
                torch.set_num_interop_threads(1)
            except RuntimeError:
                pass
            self.mod = torch
        elif n == "tangent":
            with quiet():
                import tangent
            self.mod = tangent
        else:
            raise ImportError(n)
        self._warm_up()
        if self.version is None:
            self.version = getattr(self.mod, "__version__", None)
        if self.version is None:
            try:
                from importlib.metadata import version

                self.version = version({"tangent": "tangent-ad"}.get(n, n))
            except Exception:
                self.version = "?"


    def _warm_up(self) -> None:
        """One trivial gradient, so one-time library initialization (JAX backend
        start-up, lazy imports) is not charged to the first workload's first call."""
        try:
            with quiet(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call, _ = build_gradient(self, _warm_up_fn_for(self.name), (np.ones(3), 2.0), (0,))
                call()
        except (Exception, SystemExit) as e:  # diffc may not work yet; its workloads will say why
            self.message = f"warm-up failed: {short(e)}"


def _warm_up_fn(x, a):
    return np.sum(np.tanh(x * a))


def _warm_up_fn_for(peer: str) -> Callable:
    if peer == "torch":
        import torch

        return W.rebind(_warm_up_fn, np=torch)
    if peer == "autograd":
        import autograd.numpy as anp

        return W.rebind(_warm_up_fn, np=anp)
    if peer in ("jax", "jax_jit"):
        import jax.numpy as jnp

        return W.rebind(_warm_up_fn, np=jnp)
    return _warm_up_fn


def _is_float_scalar(a: Any) -> bool:
    return isinstance(a, float) or (isinstance(a, np.floating))


def leaves(tree) -> List[Any]:
    """The arrays/numbers of nested lists, tuples and dicts, depth first (dicts by key):
    parameters given as a list of (W, b) tuples compare leaf by leaf."""
    if isinstance(tree, dict):
        return [x for k in sorted(tree) for x in leaves(tree[k])]
    if isinstance(tree, (list, tuple)):
        return [x for t in tree for x in leaves(t)]
    return [tree]


def tree_map(fn: Callable, tree):
    if isinstance(tree, dict):
        return {k: tree_map(fn, v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(tree_map(fn, v) for v in tree)
    return fn(tree)


def build_point_gradient(peer: PeerLib, program: Callable, points: np.ndarray):
    """``call`` computing the gradient of the scalar ``program`` at each of ``points``
    in a Python loop (as a user would: ``[g(x) for x in points]``), and ``to_numpy``
    giving the vector of derivatives."""
    call_at, to_numpy_one = build_gradient(peer, program, (points[0],), (0,))
    g_of = getattr(call_at, "gradient_of", None)
    if g_of is None:
        raise ValueError(f"{peer.name}: no per-point gradient")

    def call():
        return [g_of(x) for x in points]

    def to_numpy(res):
        return [np.array([float(to_numpy_one(r)[0]) for r in res])]

    return call, to_numpy


def build_gradient(peer: PeerLib, program: Callable, args: Tuple, wrt: Tuple[int, ...]):
    """Return ``call`` (no arguments) computing the gradient natively, and
    ``to_numpy`` turning its result into a list of float64 arrays."""
    single = len(wrt) == 1
    name = peer.name

    def as_list(res):
        if single and not (isinstance(res, (tuple, list)) and len(res) == 1):
            res = (res,)
        return [np.asarray(r, dtype=np.float64) for r in leaves(res)]

    def with_point(call, one):
        call.gradient_of = one   # the gradient at another point (build_point_gradient)
        return call

    if name == "diffc":
        g = peer.mod.grad(program, wrt=wrt[0] if single else tuple(wrt))
        return with_point(lambda: g(*args), g), as_list

    if name == "diffc_jit":
        # numba compiles the generated gradient at the first call (jit=True: an error
        # naming the line where numba cannot, never a silent fallback)
        g = peer.mod.grad(program, wrt=wrt[0] if single else tuple(wrt), jit=True)
        return (lambda: g(*args)), as_list

    if name == "tangent":
        with quiet(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = peer.mod.grad(program, wrt=tuple(wrt), verbose=0)

        def call():
            with quiet():
                return g(*args)

        def one(x):
            with quiet():
                return g(x)

        return with_point(call, one), as_list

    if name == "autograd":
        g = peer.mod.grad(program, argnum=wrt[0] if single else tuple(wrt))
        return with_point(lambda: g(*args), g), as_list

    if name in ("jax", "jax_jit"):
        jax = peer.mod
        import jax.numpy as jnp

        jargs = tuple(tree_map(lambda x: jnp.asarray(x) if isinstance(x, np.ndarray) else x, a)
                      for a in args)
        g = jax.grad(program, argnums=wrt[0] if single else tuple(wrt))
        if name == "jax_jit":
            static = tuple(i for i, a in enumerate(args) if isinstance(a, (int, np.integer))
                           and not isinstance(a, bool) and i not in wrt)
            g = jax.jit(g, static_argnums=static)
        return with_point(lambda: jax.block_until_ready(g(*jargs)),
                          lambda x: jax.block_until_ready(g(x))), as_list

    if name == "torch":
        torch = peer.mod

        def conv(i, a):
            if isinstance(a, np.ndarray):
                return torch.from_numpy(np.array(a, dtype=np.float64, copy=True))
            if i in wrt and (_is_float_scalar(a) or isinstance(a, int)):
                return torch.tensor(float(a), dtype=torch.float64)
            return a

        targs = [tree_map(lambda x, i=i: conv(i, x), a) for i, a in enumerate(args)]

        def call():
            inputs = [tree_map(lambda t: t.detach().requires_grad_(True), a) if i in wrt else a
                      for i, a in enumerate(targs)]
            out = program(*inputs)
            return torch.autograd.grad(out, [t for i in wrt for t in leaves(inputs[i])])

        def one(x):
            t = torch.tensor(float(x), dtype=torch.float64, requires_grad=True)
            return torch.autograd.grad(program(t), [t])

        def to_numpy(res):
            return [r.detach().cpu().numpy().astype(np.float64) for r in res]

        return with_point(call, one), to_numpy

    raise ValueError(name)


# --------------------------------------------------------------------------
# measuring


def timed_samples(call: Callable, repeats: int, min_time: float, budget: float) -> Tuple[List[float], int]:
    """timeit-style: find a ``number`` of calls lasting >= min_time, then take
    up to ``repeats`` samples (stopping early when ``budget`` seconds are used).
    Returns per-call seconds of every sample and ``number``."""
    start = time.perf_counter()
    number = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(number):
            call()
        dt = time.perf_counter() - t0
        if dt >= min_time or number >= 1_000_000 or time.perf_counter() - start > budget:
            break
        number = max(number * 2, int(number * min_time / max(dt, 1e-9) * 1.2))
    samples = [dt / number]
    while len(samples) < repeats and time.perf_counter() - start < budget:
        gc.collect()
        t0 = time.perf_counter()
        for _ in range(number):
            call()
        samples.append((time.perf_counter() - t0) / number)
    return samples, number


def peak_memory(call: Callable) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def copy_args(args: Tuple) -> Tuple:
    return tuple(tree_map(lambda x: np.array(x, copy=True) if isinstance(x, np.ndarray) else x, a)
                 for a in args)


def args_equal(a: Tuple, b: Tuple) -> bool:
    for x, y in zip(leaves(a), leaves(b)):
        if isinstance(x, np.ndarray):
            if not np.array_equal(x, y):
                return False
        elif x != y:
            return False
    return True


def compare(grads: List[np.ndarray], ref: List[np.ndarray], rtol: float) -> Tuple[bool, float]:
    """allclose per wrt-argument; returns (ok, max relative error)."""
    if len(grads) != len(ref):
        return False, float("inf")
    worst = 0.0
    ok = True
    for g, r in zip(grads, ref):
        if g.shape != r.shape:
            try:
                g = np.broadcast_to(g, r.shape)
            except ValueError:
                return False, float("inf")
        if not np.all(np.isfinite(g)):
            return False, float("inf")
        scale = max(float(np.max(np.abs(r))) if r.size else 0.0, 1e-300)
        err = float(np.max(np.abs(g - r))) / scale if r.size else 0.0
        worst = max(worst, err)
        if not np.allclose(g, r, rtol=rtol, atol=rtol * scale):
            ok = False
    return ok, worst


def finite_difference_check(primal: Callable, args: Tuple, wrt: Tuple[int, ...],
                            grads: List[np.ndarray], seed: int = 1) -> Dict[str, Any]:
    """Central difference of the NumPy primal along a random direction,
    compared with <grad, direction> (leaf by leaf for nested parameters)."""
    rng = np.random.default_rng(seed)
    h = 1e-6

    def direction(a):
        d = rng.standard_normal(np.shape(a))
        return float(d) if np.ndim(a) == 0 else d

    def scale(a):
        return max(1.0, float(np.max(np.abs(a)))) if np.size(a) else 1.0

    dirs = {i: tree_map(direction, args[i]) for i in wrt}

    def shifted(sign):
        new = list(copy_args(args))
        for i in wrt:
            flat_a, flat_d = leaves(args[i]), iter(leaves(dirs[i]))
            moved = iter([a + sign * h * scale(a) * next(flat_d) if np.ndim(a)
                          else float(a) + sign * h * scale(a) * next(flat_d) for a in flat_a])
            new[i] = tree_map(lambda _: next(moved), args[i])
        return float(primal(*new))

    flat_args = [a for i in wrt for a in leaves(args[i])]
    flat_dirs = [d for i in wrt for d in leaves(dirs[i])]
    fd = (shifted(+1) - shifted(-1)) / (2 * h)
    an = sum(float(np.sum(g * d)) * scale(a) for g, d, a in zip(grads, flat_dirs, flat_args))
    rel = abs(fd - an) / max(abs(fd), abs(an), 1e-12)
    return {"fd": fd, "analytic": an, "rel_err": rel, "ok": bool(rel < 1e-4)}


def measure_numba_primal(diffc, primal, args, cfg, primal_time):
    """The primal compiled by numba (diffc.jit: numba.njit of it and its callees),
    timed like the NumPy primal; first_call_s includes the compile."""
    try:
        with time_limit(cfg["timeout"]):
            compiled = diffc.jit(primal)
            t0 = time.perf_counter()
            value = compiled(*copy_args(args))
            first = time.perf_counter() - t0
            samples, number = timed_samples(lambda: compiled(*args), cfg["repeats"], cfg["min_time"],
                                            cfg["budget"])
        t = statistics.median(samples)
        return {"status": "ok", "value": float(value), "first_call_s": first, "time_s": t,
                "ratio": t / primal_time, "samples": len(samples), "number": number,
                "spread": [min(samples), max(samples)]}
    except (Exception, SystemExit) as e:
        return {"status": "error", "message": short(e)}


# --------------------------------------------------------------------------
# the run


def run_workload(w: W.Workload, libs: Dict[str, PeerLib], cfg: Dict[str, Any],
                 progress: List[int]) -> Dict[str, Any]:
    args = w.make_inputs(cfg["size"])
    pristine = copy_args(args)
    primal = w.get_primal()
    out: Dict[str, Any] = {"name": w.name, "description": w.description, "kind": w.kind,
                           "wrt": list(w.wrt), "notes": dict(w.notes), "peers": {}}

    # ---- the NumPy primal: the unit of every ratio ----
    try:
        with time_limit(cfg["timeout"]):
            t0 = time.perf_counter()
            value = primal(*copy_args(args))
            first = time.perf_counter() - t0
            samples, number = timed_samples(lambda: primal(*args), cfg["repeats"],
                                            cfg["min_time"], cfg["budget"])
        out["primal"] = {"status": "ok", "value": float(value), "first_call_s": first,
                         "time_s": statistics.median(samples), "samples": len(samples),
                         "number": number}
    except (Exception, SystemExit) as e:
        out["primal"] = {"status": "error", "message": short(e)}
        log(f"  {w.name}: primal failed: {short(e)}")
        return out
    primal_time = out["primal"]["time_s"]
    if libs.get("diffc_jit") is not None and libs["diffc_jit"].status == "ok":
        out["numba_primal"] = measure_numba_primal(libs["diffc_jit"].mod, primal, args, cfg, primal_time)

    # ---- phase 1: build + first call for every peer ----
    calls: Dict[str, Callable] = {}
    grads: Dict[str, List[np.ndarray]] = {}
    for peer in PEERS:
        lib = libs[peer]
        cell: Dict[str, Any] = {}
        out["peers"][peer] = cell
        if peer in w.notes:
            cell["note"] = w.notes[peer]
        if lib.status != "ok":
            cell["status"] = lib.status
            cell["message"] = lib.message
            continue
        try:
            program = w.program_for(peer)
        except (Exception, SystemExit) as e:
            cell.update(status="error", message=short(e))
            continue
        if program is None:
            cell.update(status="n/a", message=w.notes.get(peer, "not expressible"))
            continue
        try:
            with time_limit(cfg["timeout"]):
                gc.collect()
                t0 = time.perf_counter()
                if w.per_point is not None:
                    call, to_numpy = build_point_gradient(lib, program, args[0])
                else:
                    call, to_numpy = build_gradient(lib, program, args, w.wrt)
                t1 = time.perf_counter()
                res = call()
                t2 = time.perf_counter()
            g = to_numpy(res)
            cell.update(status="ok", build_s=t1 - t0, first_call_s=t2 - t0)
            if not args_equal(args, pristine):
                cell.update(status="error", message="mutated the caller's arguments")
                args = copy_args(pristine)
                continue
            calls[peer] = call
            grads[peer] = g
            if peer in ("diffc", "diffc_jit"):  # cached second construction
                t0 = time.perf_counter()
                call2, _ = (build_point_gradient(lib, program, args[0]) if w.per_point is not None
                            else build_gradient(lib, program, args, w.wrt))
                call2()
                cell["second_build_and_call_s"] = time.perf_counter() - t0
        except (Exception, SystemExit) as e:
            cell.update(status="error", message=short(e))
            if os.environ.get("DIFFC_BENCH_TRACEBACK"):
                traceback.print_exc()

    # ---- phase 2: check every gradient against a reference ----
    ref_name = next((p for p in REFERENCE_ORDER if p in grads), None)
    out["reference"] = ref_name
    if ref_name is not None:
        try:
            out["fd_check"] = finite_difference_check(primal, pristine, w.wrt, grads[ref_name])
        except (Exception, SystemExit) as e:
            out["fd_check"] = {"ok": False, "message": short(e)}
        for peer, g in grads.items():
            ok, err = compare(g, grads[ref_name], cfg["rtol"])
            out["peers"][peer]["check"] = {"ok": ok, "max_rel_err": err, "against": ref_name}
        fd = out["fd_check"]
        if len(grads) == 1 and not fd.get("ok"):
            # nothing to compare with: the finite difference is the only check
            out["peers"][ref_name]["check"] = {"ok": False, "max_rel_err": fd.get("rel_err", float("inf")),
                                               "against": "finite differences"}

    # ---- phase 3: steady-state timing ----
    for peer in PEERS:
        cell = out["peers"][peer]
        progress[0] += 1
        head = f"[{progress[0]:3d}/{progress[1]}] {w.name:13s} {peer:9s}"
        if peer not in calls:
            log(f"{head} {cell.get('status')}: {cell.get('message', '')}"[:200])
            continue
        call = calls[peer]
        try:
            again = None
            if cell["first_call_s"] > cfg["slow"]:
                # a slow first call may be a compile (numba, XLA): time a second one
                with time_limit(cfg["timeout"]):
                    t0 = time.perf_counter()
                    call()
                    again = time.perf_counter() - t0
            if again is not None and again > cfg["slow"]:
                samples, number = [again], 1
            else:
                with time_limit(max(cfg["timeout"], 3 * cfg["budget"])):
                    call()  # warm-up
                    samples, number = timed_samples(call, cfg["repeats"], cfg["min_time"],
                                                    cfg["budget"])
            t = statistics.median(samples)
            cell.update(time_s=t, samples=len(samples), number=number, ratio=t / primal_time,
                        spread=[min(samples), max(samples)])
            chk = cell.get("check", {})
            mark = "ok" if chk.get("ok") else f"MISMATCH (rel err {chk.get('max_rel_err', float('nan')):.1e})"
            log(f"{head} first {cell['first_call_s']:.3g} s, {t * 1e3:.4g} ms "
                f"= {t / primal_time:.3g}x primal, check {mark}")
        except (Exception, SystemExit) as e:
            cell.update(status="error", message=short(e))
            log(f"{head} error: {short(e)}")

    # ---- peak memory (tracemalloc) for the long-tape workloads ----
    if "memory" in w.tags and cfg.get("memory", True):
        mem: Dict[str, Any] = {}
        try:
            mem["numpy"] = {"peak_bytes": peak_memory(lambda: primal(*args))}
        except (Exception, SystemExit) as e:
            mem["numpy"] = {"message": short(e)}
        for peer, call in calls.items():
            cell = out["peers"][peer]
            if cell.get("status") != "ok":
                continue
            entry: Dict[str, Any] = {}
            if cell.get("time_s", 0) > cfg["slow"] * 3:
                entry["message"] = "skipped (too slow under tracemalloc)"
            else:
                try:
                    with time_limit(cfg["timeout"]):
                        entry["peak_bytes"] = peak_memory(call)
                except (Exception, SystemExit) as e:
                    entry["message"] = short(e)
            if peer in ("torch", "jax_jit"):
                entry["caveat"] = "native allocator: tensor/XLA buffers are not seen by tracemalloc"
            elif peer == "jax":
                entry["caveat"] = "device buffers not seen by tracemalloc; Python-side tracer objects are"
            mem[peer] = entry
            if "peak_bytes" in entry:
                log(f"      {w.name} {peer:9s} peak traced memory {entry['peak_bytes'] / 1e6:.3g} MB")
        out["memory"] = mem
    return out


def _loadavg() -> Optional[List[float]]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _blas_core() -> Optional[str]:
    """The kernel family NumPy's OpenBLAS chose for this CPU (None if unknown).

    It matters for the matrix-product workloads: OpenBLAS 0.3.31 does not know
    AMD family 26 and falls back to its Haswell kernels, about 1.7x slower on
    a 512x512x1024 product than its AVX-512 ones, while XLA uses AVX-512."""
    import ctypes
    import glob
    libdir = os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs")
    for path in glob.glob(os.path.join(libdir, "*openblas*")):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_",
                     "scipy_openblas_get_corename", "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                return fn().decode()
    return None


def environment(libs: Dict[str, PeerLib]) -> Dict[str, Any]:
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
        "pinned_cpu": PINNED_CPU,
        "blas_core": _blas_core(),
        "threads": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                   "MKL_NUM_THREADS", "XLA_FLAGS")},
        "peers": {},
        "loadavg_start": _loadavg(),
    }
    for name, lib in libs.items():
        env["peers"][name] = {"status": lib.status, "version": lib.version, "message": lib.message}
    return env


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--quick", action="store_true", help="smaller loops and fewer repeats (< 2 min)")
    g.add_argument("--smoke", action="store_true", help="tiny inputs, one sample: checks the harness only")
    p.add_argument("--only", default=None, help="comma-separated workload names or prefixes")
    p.add_argument("--peers", default=None, help="comma-separated subset of " + ",".join(PEERS))
    p.add_argument("--missing", default="", help="treat these peers as not installed (testing)")
    p.add_argument("--out", default=os.path.join(_HERE, "results"), help="output directory")
    p.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p.add_argument("--list", action="store_true", help="list workloads and exit")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    ns = parse_args(argv)
    if ns.list:
        for name, w in W.WORKLOADS.items():
            print(f"{name:14s} {w.description}")
        return 0
    mode = "smoke" if ns.smoke else "quick" if ns.quick else "full"
    cfg = dict(MODES[mode])
    cfg["rtol"] = 1e-6
    selected = W.select(ns.only)
    if not selected:
        log(f"no workload matches --only {ns.only!r}; choose from {', '.join(W.WORKLOADS)}")
        return 2
    wanted = set(PEERS if ns.peers is None else [p.strip() for p in ns.peers.split(",") if p.strip()])
    missing = {p.strip() for p in ns.missing.split(",") if p.strip()}

    t_start = time.perf_counter()
    libs: Dict[str, PeerLib] = {}
    for peer in PEERS:
        if peer not in wanted:
            lib = PeerLib(peer, pretend_missing=True)
            lib.status, lib.message = "skipped", "not selected with --peers"
        else:
            lib = PeerLib(peer, pretend_missing=peer in missing)
        libs[peer] = lib
        log(f"peer {peer:9s} {lib.status}{' ' + str(lib.version) if lib.status == 'ok' else ''}"
            f"{'  (' + lib.message + ')' if lib.message else ''}")

    # move the peers' module-level objects out of the collector's reach: a full
    # collection then costs milliseconds instead of ~0.15 s, for every peer alike
    gc.collect()
    gc.freeze()
    t_loaded = time.perf_counter()
    results: Dict[str, Any] = {
        "mode": mode, "config": cfg, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "environment": environment(libs), "peers": PEERS, "workloads": [],
    }
    progress = [0, len(selected) * len(PEERS)]
    for name, w in selected.items():
        log(f"== {name}: {w.description}")
        t_w = time.perf_counter()
        try:
            results["workloads"].append(run_workload(w, libs, cfg, progress))
            results["workloads"][-1]["elapsed_s"] = time.perf_counter() - t_w
        except (Exception, SystemExit) as e:  # the harness itself must not die on one workload
            log(f"  {name}: harness error {short(e)}")
            results["workloads"].append({"name": name, "description": w.description,
                                         "kind": w.kind, "error": short(e), "peers": {}})
    results["elapsed_s"] = time.perf_counter() - t_start
    results["environment"]["loadavg_end"] = _loadavg()
    results["startup_s"] = t_loaded - t_start

    os.makedirs(ns.out, exist_ok=True)
    stem = os.path.join(ns.out, mode if ns.only is None else f"{mode}_{'_'.join(sorted(selected))[:60]}")
    with open(stem + ".json", "w") as fh:
        json.dump(results, fh, indent=1, default=float)
    md = report.markdown(results)
    with open(stem + ".md", "w") as fh:
        fh.write(md)
    written = [stem + ".json", stem + ".md"]
    if not ns.no_plot:
        try:
            if report.plot(results, stem + ".png"):
                written.append(stem + ".png")
        except (Exception, SystemExit) as e:
            log(f"plot failed: {short(e)}")
    print(md)
    log(f"done in {results['elapsed_s']:.1f} s; wrote {', '.join(written)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
