"""Markdown table and PNG bar chart for benchmark results.

    python benchmarks/report.py benchmarks/results/full.json   # re-render .md and .png
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, List

PEER_LABELS = {
    "diffc": "diffc",
    "diffc_jit": "diffc jit",
    "autograd": "autograd",
    "jax": "JAX eager",
    "jax_jit": "JAX jit",
    "torch": "PyTorch",
    "tangent": "tangent",
}


def _fmt_time(s: float) -> str:
    if s is None:
        return "-"
    if s >= 1:
        return f"{s:.3g} s"
    if s >= 1e-3:
        return f"{s * 1e3:.3g} ms"
    return f"{s * 1e6:.3g} us"


def _clip(msg: str, n: int = 60) -> str:
    msg = (msg or "").replace("|", "/").replace("\n", " ")
    return msg if len(msg) <= n else msg[: n - 3] + "..."


def _cell_text(cell: Dict[str, Any], value: str) -> str:
    status = cell.get("status", "-")
    if status == "ok" and value:
        chk = cell.get("check")
        if chk is not None and not chk.get("ok"):
            return f"{value} **mismatch** ({chk.get('max_rel_err', float('nan')):.1e})"
        return value
    if status == "ok":
        return "-"
    if status == "error":
        return "error: " + _clip(cell.get("message", ""))
    if status == "n/a":
        return "n/a"
    return status


def _peers(results) -> List[str]:
    return results.get("peers", list(PEER_LABELS))


def _pinning(env: Dict[str, Any]) -> str:
    """How the run was held to one core, and which BLAS kernels NumPy used."""
    cpu = env.get("pinned_cpu")
    text = (f"process bound to CPU {cpu}, BLAS/XLA/torch thread pools set to one thread"
            if cpu is not None else "BLAS/XLA/torch thread pools set to one thread (no CPU binding)")
    if env.get("blas_core"):
        text += f"; NumPy's OpenBLAS uses its {env['blas_core']} kernels"
    return text


def markdown(results: Dict[str, Any]) -> str:
    peers = _peers(results)
    env = results.get("environment", {})
    lines: List[str] = []
    lines.append(f"# diffc benchmarks ({results.get('mode')} mode, {results.get('started', '')})")
    lines.append("")
    lines.append(f"Python {env.get('python')}, NumPy {env.get('numpy')}, {env.get('platform')}, "
                 f"{env.get('cpu_count')} CPUs; {_pinning(env)}. "
                 f"Total run time {results.get('elapsed_s', 0):.0f} s.")
    la0, la1 = env.get("loadavg_start"), env.get("loadavg_end")
    if la0 or la1:
        lines.append("")
        lines.append(f"Load average (1/5/15 min) at start {la0}, at end {la1}: a load above the "
                     f"CPU count means other processes competed for the cores and times are noisy.")
    lines.append("")
    lines.append("| peer | status | version |")
    lines.append("|---|---|---|")
    for p in peers:
        info = env.get("peers", {}).get(p, {})
        st = info.get("status", "?")
        if info.get("message") and st != "ok":
            st += f" ({_clip(info['message'], 50)})"
        lines.append(f"| {PEER_LABELS.get(p, p)} | {st} | {info.get('version') or '-'} |")
    lines.append("")

    lines.append("## Gradient time as a multiple of the NumPy primal (median, lower is better)")
    lines.append("")
    lines.append("| workload | primal | numba primal | " + " | ".join(PEER_LABELS.get(p, p) for p in peers)
                 + " | diffc jit / numba primal | JAX jit / diffc jit |")
    lines.append("|---|---:|---:|" + "---:|" * len(peers) + "---:|---:|")
    for w in results.get("workloads", []):
        prim = w.get("primal", {})
        if prim.get("status") != "ok":
            msg = w.get("error") or prim.get("message", "")
            lines.append(f"| {w['name']} | error: {_clip(msg)} |" + " |" * len(peers))
            continue
        row = [w["name"], _fmt_time(prim.get("time_s"))]
        nb = w.get("numba_primal") or {}
        row.append(f"{nb['ratio']:.3g}x" if "ratio" in nb else _cell_text(nb, "") if nb else "-")
        for p in peers:
            cell = w["peers"].get(p, {})
            val = f"{cell['ratio']:.3g}x" if "ratio" in cell else ""
            row.append(_cell_text(cell, val))
        dj = w["peers"].get("diffc_jit", {})
        jj = w["peers"].get("jax_jit", {})
        row.append(f"{dj['time_s'] / nb['time_s']:.3g}x" if "time_s" in dj and "time_s" in nb else "-")
        row.append(f"{jj['time_s'] / dj['time_s']:.3g}x" if "time_s" in dj and "time_s" in jj else "-")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")

    lines.append("## First call (build + trace/compile + one gradient), seconds")
    lines.append("")
    lines.append("| workload | numba primal | " + " | ".join(PEER_LABELS.get(p, p) for p in peers) + " |")
    lines.append("|---|---:|" + "---:|" * len(peers))
    for w in results.get("workloads", []):
        if w.get("primal", {}).get("status") != "ok":
            continue
        nb = w.get("numba_primal") or {}
        row = [w["name"], f"{nb['first_call_s']:.3g}" if "first_call_s" in nb else _cell_text(nb, "") if nb else "-"]
        for p in peers:
            cell = w["peers"].get(p, {})
            val = f"{cell['first_call_s']:.3g}" if "first_call_s" in cell else ""
            row.append(_cell_text(cell, val))
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")

    comp = [w for w in results.get("workloads", []) if w.get("kind") == "compile"]
    if comp:
        lines.append("## diffc compile time on generated functions")
        lines.append("")
        lines.append("| function | diffc first call | diffc cached (grad() again + call) | "
                     "tangent first call | steady diffc / primal |")
        lines.append("|---|---:|---:|---:|---:|")
        for w in comp:
            d = w.get("peers", {}).get("diffc", {})
            t = w.get("peers", {}).get("tangent", {})
            first = _cell_text(d, _fmt_time(d["first_call_s"]) if "first_call_s" in d else "")
            cached = _fmt_time(d["second_build_and_call_s"]) if "second_build_and_call_s" in d else "-"
            tfirst = _cell_text(t, _fmt_time(t["first_call_s"]) if "first_call_s" in t else "")
            ratio = f"{d['ratio']:.3g}x" if "ratio" in d else "-"
            lines.append(f"| {w['name']} | {first} | {cached} | {tfirst} | {ratio} |")
        lines.append("")

    mem = [w for w in results.get("workloads", []) if w.get("memory")]
    if mem:
        lines.append("## Peak traced memory (tracemalloc), MB")
        lines.append("")
        for w in mem:
            lines.append(f"{w['name']}: NumPy primal "
                         f"{w['memory'].get('numpy', {}).get('peak_bytes', float('nan')) / 1e6:.3g} MB")
            lines.append("")
            lines.append("| peer | peak MB | note |")
            lines.append("|---|---:|---|")
            for p in peers:
                e = w["memory"].get(p)
                if e is None:
                    continue
                val = f"{e['peak_bytes'] / 1e6:.3g}" if "peak_bytes" in e else "-"
                note = "; ".join(x for x in (e.get("message"), e.get("caveat")) if x)
                lines.append(f"| {PEER_LABELS.get(p, p)} | {val} | {note} |")
            lines.append("")

    lines.append("## Checks")
    lines.append("")
    lines.append("Each gradient is compared (allclose, rtol 1e-6 relative to the largest "
                 "reference entry) with a reference peer; the reference itself is checked "
                 "against a central finite difference of the NumPy primal along a random direction.")
    lines.append("")
    lines.append("| workload | reference | finite-difference rel. error | mismatches |")
    lines.append("|---|---|---:|---|")
    for w in results.get("workloads", []):
        fd = w.get("fd_check") or {}
        fdt = f"{fd['rel_err']:.1e}{'' if fd.get('ok') else ' **FAIL**'}" if "rel_err" in fd else \
            _clip(fd.get("message", "-"))
        bad = [f"{PEER_LABELS.get(p, p)} ({c['check']['max_rel_err']:.1e})"
               for p, c in w.get("peers", {}).items() if c.get("check") and not c["check"]["ok"]]
        lines.append(f"| {w['name']} | {w.get('reference') or '-'} | {fdt} | {', '.join(bad) or 'none'} |")
    lines.append("")

    notes = [(w["name"], p, n) for w in results.get("workloads", []) for p, n in w.get("notes", {}).items()]
    if notes:
        lines.append("## How peers express each workload (where it differs from the NumPy source)")
        lines.append("")
        for name, p, n in notes:
            lines.append(f"- {name} / {PEER_LABELS.get(p, p)}: {n}")
        lines.append("")
    return "\n".join(lines)


def plot(results: Dict[str, Any], path: str) -> bool:
    """Grouped log-scale bars: ratio to primal (top) and first-call time (bottom)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    import numpy as np

    peers = _peers(results)
    wls = [w for w in results.get("workloads", []) if w.get("primal", {}).get("status") == "ok"]
    if not wls:
        return False
    fig, axes = plt.subplots(2, 1, figsize=(max(8, 1.1 * len(wls) + 3), 9))
    width = 0.8 / len(peers)
    x = np.arange(len(wls))
    for ax, key, ylabel in ((axes[0], "ratio", "gradient time / NumPy primal time"),
                            (axes[1], "first_call_s", "first call (s), incl. compile")):
        for j, p in enumerate(peers):
            vals = []
            for w in wls:
                c = w["peers"].get(p, {})
                v = c.get(key) if c.get("status") == "ok" else None
                vals.append(v if v and v > 0 else np.nan)
            bars = ax.bar(x + (j - (len(peers) - 1) / 2) * width, vals, width,
                          label=PEER_LABELS.get(p, p))
            for b, w in zip(bars, wls):
                c = w["peers"].get(p, {})
                if c.get("check") and not c["check"]["ok"] and np.isfinite(b.get_height()):
                    ax.annotate("!", (b.get_x() + b.get_width() / 2, b.get_height()),
                                ha="center", va="bottom", color="red", fontsize=9)
        ax.set_yscale("log")
        ax.set_ylabel(ylabel)
        ax.set_xticks(x)
        ax.set_xticklabels([w["name"] for w in wls], rotation=30, ha="right")
        ax.grid(axis="y", which="both", alpha=0.3)
        if key == "ratio":
            ax.axhline(1.0, color="k", lw=0.8)
    axes[0].legend(ncol=len(peers), fontsize=8, loc="upper left")
    axes[0].set_title(f"diffc benchmarks ({results.get('mode')} mode); missing bar = "
                      f"not installed / error / n/a; '!' = gradient mismatch")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__)
        return 2
    path = argv[0]
    with open(path) as fh:
        results = json.load(fh)
    stem = os.path.splitext(path)[0]
    with open(stem + ".md", "w") as fh:
        fh.write(markdown(results))
    plot(results, stem + ".png")
    print(f"wrote {stem}.md and {stem}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
