"""Smoke test of the benchmark harness (benchmarks/).

Checks that the workloads' NumPy primals run and that the runner produces
JSON and Markdown with peers missing.  Nothing here is timed: the test never
fails because a machine is slow.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

import workloads as W  # noqa: E402


@pytest.mark.parametrize("name", sorted(W.WORKLOADS))
def test_primal_runs_on_smoke_inputs(name):
    w = W.WORKLOADS[name]
    args = w.make_inputs("smoke")
    value = w.get_primal()(*args)
    assert np.ndim(value) == 0
    assert math.isfinite(float(value))
    assert all(0 <= i < len(args) for i in w.wrt)


def test_full_size_inputs_have_requested_shapes():
    W1, b1, W2, b2, x, y = W.WORKLOADS["mlp_small"].make_inputs("full")
    assert x.shape == (32, 64) and W1.shape == (64, 128) and W2.shape == (128, 10)
    assert W.WORKLOADS["mlp_large"].make_inputs("full")[4].shape == (512, 512)
    assert W.WORKLOADS["rnn"].make_inputs("full")[3].shape[0] == 50
    assert W.WORKLOADS["rk4"].make_inputs("full")[-1] == 1000
    assert W.WORKLOADS["horner"].make_inputs("full")[1].shape == (1000,)
    u0, alpha, steps = W.WORKLOADS["heat"].make_inputs("full")
    assert u0.shape == (1000,) and steps == 200
    assert W.WORKLOADS["long_loop"].make_inputs("full")[1] == 100_000


def test_primals_agree_with_closed_forms():
    a = 30.0
    assert abs(W.newton_cbrt(a, a) - a ** (1 / 3)) < 1e-9
    c = np.array([1.0, -2.0, 3.0])
    assert abs(W.horner(0.5, c) - np.polyval(c, 0.5)) < 1e-12


def test_generated_functions_have_requested_length():
    for n in (10, 50, 200):
        src = W.generate_source(n, "g")
        body = [ln for ln in src.splitlines() if ln.startswith("    ")]
        assert len(body) == n
        assert W.generated_function(n)(0.7, 1.3) == W.generated_function(n)(0.7, 1.3)


def test_heat_primal_does_not_mutate_input():
    u0, alpha, steps = W.WORKLOADS["heat"].make_inputs("smoke")
    before = u0.copy()
    W.heat_equation(u0, alpha, steps)
    assert np.array_equal(u0, before)


def _run(tmp_path, *extra):
    cmd = [sys.executable, os.path.join(BENCH, "run.py"), "--smoke", "--no-plot",
           "--out", str(tmp_path), *extra]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def test_runner_with_every_peer_missing(tmp_path):
    proc = _run(tmp_path, "--only", "horner,newton",
                "--missing", "diffc,diffc_jit,autograd,jax,jax_jit,torch,tangent")
    jsons = list(tmp_path.glob("*.json"))
    mds = list(tmp_path.glob("*.md"))
    assert len(jsons) == 1 and len(mds) == 1
    results = json.loads(jsons[0].read_text())
    names = [w["name"] for w in results["workloads"]]
    assert names == ["horner", "newton"]
    for w in results["workloads"]:
        assert w["primal"]["status"] == "ok"
        for peer in results["peers"]:
            assert w["peers"][peer]["status"] == "not installed"
    md = mds[0].read_text()
    assert "not installed" in md and "| horner |" in md
    # one progress line per workload x peer
    assert proc.stderr.count("] horner") == len(results["peers"])


def test_runner_with_installed_peers_and_diffc(tmp_path):
    """Whatever is installed (diffc included, working or not) must not crash the run."""
    _run(tmp_path, "--only", "horner")
    results = json.loads(next(tmp_path.glob("*.json")).read_text())
    (w,) = results["workloads"]
    for peer, cell in w["peers"].items():
        assert cell["status"] in ("ok", "not installed", "error", "n/a", "skipped"), (peer, cell)
        if cell["status"] == "ok" and "check" in cell and peer != "diffc":
            assert cell["check"]["ok"], (peer, cell)
