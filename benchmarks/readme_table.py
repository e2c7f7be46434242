"""Write the README's comparison table from a benchmark results JSON.

    python benchmarks/readme_table.py benchmarks/results/full.json

Replaces the text between ``<!-- bench:start -->`` and ``<!-- bench:end -->``
in README.md with the gradient/primal ratios of that run, so the README never
quotes numbers that no run produced.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402

PEERS = [("diffc", "diffc"), ("autograd", "autograd"), ("jax", "JAX eager"), ("jax_jit", "JAX jit"),
         ("torch", "PyTorch"), ("tangent", "tangent-ad")]
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def _cell(entry):
    if not entry:
        return "-"
    if entry.get("status") != "ok" or entry.get("ratio") is None:
        return entry.get("status", "-").split(":")[0]
    check = entry.get("check") or {}
    mark = "" if check.get("ok", True) else " (mismatch)"
    return f"{entry['ratio']:.3g}x{mark}"


def table(results):
    env = results.get("environment", {})
    lines = [f"Gradient time / NumPy primal time (median, lower is better), `{results.get('mode')}` run of "
             f"{results.get('started', '')}: Python {env.get('python')}, NumPy {env.get('numpy')}, "
             f"{env.get('cpu_count')} CPUs, {report._pinning(env)}; load average "
             f"{env.get('loadavg_start')} at start.",
             "",
             "| workload | primal | " + " | ".join(label for _, label in PEERS) + " |",
             "|---|---:|" + "---:|" * len(PEERS)]
    for w in results["workloads"]:
        if w.get("kind") != "runtime":
            continue
        primal = w.get("primal_s") or w.get("primal", {}).get("time_s")
        if not isinstance(primal, (int, float)):
            primal_text = "-"
        elif primal >= 1e-3:
            primal_text = f"{primal * 1e3:.3g} ms"
        else:
            primal_text = f"{primal * 1e6:.3g} us"
        cells = [_cell(w["peers"].get(key)) for key, _ in PEERS]
        lines.append(f"| {w['name']} | {primal_text} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    path = argv[0] if argv else os.path.join(os.path.dirname(__file__), "results", "full.json")
    readme = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "README.md")
    with open(path) as fh:
        results = json.load(fh)
    with open(readme) as fh:
        text = fh.read()
    if START not in text or END not in text:
        print(f"README.md has no {START} ... {END} block", file=sys.stderr)
        return 1
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    with open(readme, "w") as fh:
        fh.write(head + START + "\n" + table(results) + "\n" + END + tail)
    return 0


if __name__ == "__main__":
    sys.exit(main())
