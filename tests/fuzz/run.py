"""Command-line fuzzer: ``python tests/fuzz/run.py --n 2000 [--start 0] [--higher-order]``.

Generates the programs for seeds start..start+n-1 (each seed always gives the
same program, shapes included), checks each (harness.check) and prints:

* the source of every program whose status is in ``--show`` (default: wrong,
  crash, invalid, suspect), reproduced with ``--start SEED --n 1``;
* programs run, per status (pass, wrong, crash, suspect, refused, discard,
  invalid) and per mode (reverse, forward, autograd, hvp);
* the failure classes (wrong gradients and crashes grouped by mode and kind,
  with their seeds) and the refusals grouped by the kind of their message;
* per shape (generator.SHAPE_FEATURES): how many programs contained it, and
  how many of those failed or were refused.

``--json FILE`` also writes all of it (with every seed) for later comparison.
"""
import argparse
import collections
import json
import os
import signal
import sys
import tempfile
import time

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# this checkout's diffc, not the one an editable install points at
sys.path[:0] = [_TESTS, os.path.dirname(_TESTS)]

from fuzz.generator import SHAPE_FEATURES  # noqa: E402
from fuzz.harness import SEVERITY, run_many, summary  # noqa: E402


def _seeds(seeds, limit=12):
    text = " ".join(str(s) for s in seeds[:limit])
    return text + (f" ... ({len(seeds)})" if len(seeds) > limit else "")


def report(outcomes):
    """The summary tables (see module docstring) as a dict and as text."""
    statuses = collections.Counter(o.status for o in outcomes)
    per_mode = collections.defaultdict(collections.Counter)
    autograd_ref = collections.Counter()
    classes = collections.defaultdict(list)
    refusals = collections.defaultdict(list)
    for o in outcomes:
        for mode, result in o.modes.items():
            if mode == "autograd_reference":
                autograd_ref["has autograd reference" if result == "yes" else result.split(":")[0]] += 1
            else:
                per_mode[mode][result] += 1
        if o.status in ("wrong", "crash", "suspect", "invalid", "timeout"):
            classes[f"{o.status} [{o.mode}] {o.kind}"].append(o.seed)
        for mode, kind in o.refusals.items():
            refusals[f"[{mode}] {kind}"].append(o.seed)
    shapes = {}
    for name in SHAPE_FEATURES:
        having = [o for o in outcomes if name in o.features]
        shapes[name] = {
            "programs": len(having),
            "pass": sum(o.status == "pass" for o in having),
            "wrong": sum(o.status == "wrong" for o in having),
            "crash": sum(o.status == "crash" for o in having),
            "refused": sum(o.status == "refused" for o in having),
        }
    data = {"programs": len(outcomes), "statuses": dict(statuses),
            "per_mode": {m: dict(c) for m, c in per_mode.items()}, "autograd_reference": dict(autograd_ref),
            "classes": dict(classes), "refusals": dict(refusals), "shapes": shapes,
            "seeds": {o.seed: [o.status, o.mode, o.kind] for o in outcomes}}
    lines = [f"programs run: {len(outcomes)}",
             "by status: " + ", ".join(f"{statuses[s]} {s}" for s in SEVERITY if statuses[s])]
    for mode, c in sorted(per_mode.items()):
        lines.append(f"  mode {mode:9s}: " + ", ".join(f"{v} {k}" for k, v in sorted(c.items())))
    if autograd_ref:
        lines.append("  autograd reference: " + ", ".join(f"{v} {k}" for k, v in sorted(autograd_ref.items())))
    lines.append(f"wrong gradients: {statuses['wrong']}, crashes: {statuses['crash']}, "
                 f"suspect (not reproduced nearby): {statuses['suspect']}, invalid: {statuses['invalid']}")
    lines.append("failure classes:" if classes else "failure classes: none")
    for key, seeds in sorted(classes.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {len(seeds):5d}  {key}\n         seeds: {_seeds(seeds)}")
    refused = sum(bool(o.refusals) for o in outcomes)
    lines.append(f"refusals by kind ({refused} programs refused in some mode):"
                 if refusals else "refusals: none")
    for key, seeds in sorted(refusals.items(), key=lambda kv: -len(kv[1])):
        lines.append(f"  {len(seeds):5d}  {key}\n         seeds: {_seeds(seeds)}")
    lines.append("per shape: programs containing it (pass / wrong / crash / refused)")
    for name, c in shapes.items():
        lines.append(f"  {name:30s} {c['programs']:6d}   ({c['pass']} / {c['wrong']} / {c['crash']} / "
                     f"{c['refused']})")
    return data, "\n".join(lines)


def _stop(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--seeds", help="comma-separated seeds to run instead of start..start+n-1"
                        " (e.g. the failures of an earlier run)")
    parser.add_argument("--no-forward", action="store_true")
    parser.add_argument("--no-autograd", action="store_true", help="skip the differential check against autograd")
    parser.add_argument("--higher-order", action="store_true",
                        help="also check Hessian-vector products (forward over reverse, reverse over reverse)")
    parser.add_argument("--copy-short-loops", action="store_true",
                        help="read float64 vectors as float lists in loops of any length (optimize/read_float_items.py)")
    parser.add_argument("--show", default="wrong,crash,invalid,suspect", help="statuses whose programs are printed")
    parser.add_argument("--shapes", help="comma-separated generator.SHAPES to generate in every program"
                        " (instead of each seed drawing its own)")
    parser.add_argument("--exclude-shapes", default="",
                        help="comma-separated generator.SHAPES not to generate (e.g. a class already known)")
    parser.add_argument("--json", help="also write the report (with every seed) to this file")
    parser.add_argument("--progress", type=int, default=0, help="print a status line every N programs")
    args = parser.parse_args(argv)
    show = set(args.show.split(","))
    if args.copy_short_loops:
        from diffc import runtime
        runtime.FLOAT_ITEMS_MIN_TRIPS = 0
    t0 = time.time()
    done = []

    def progress(outcome):
        if outcome.status in show:
            print(outcome.report(), flush=True)
        done.append(outcome)
        if args.progress and len(done) % args.progress == 0:
            print(f"[{len(done)} programs, {time.time() - t0:.0f}s] {summary(done)}", flush=True)

    # SIGTERM (or Ctrl-C) stops the run after the program being checked, and the report
    # covers the programs done so far (a long budget run can be cut short and still counted).
    signal.signal(signal.SIGTERM, _stop)
    stopped = ""
    with tempfile.TemporaryDirectory() as workdir:
        seeds = ([int(x) for x in args.seeds.split(",")] if args.seeds
                 else range(args.start, args.start + args.n))
        try:
            outcomes = run_many(seeds, workdir, forward=not args.no_forward,
                                higher_order=args.higher_order, autograd=not args.no_autograd, progress=progress,
                                exclude=tuple(s for s in args.exclude_shapes.split(",") if s),
                                shapes=None if args.shapes is None else tuple(s for s in args.shapes.split(",") if s))
        except KeyboardInterrupt:
            outcomes = done
            stopped = f", STOPPED after {len(done)} programs (last seed {done[-1].seed if done else None})"
    data, text = report(outcomes)
    mode = "higher-order" if args.higher_order else "first-order"
    import diffc
    if args.shapes is not None:
        mode += f", shapes {args.shapes}"
    if args.exclude_shapes:
        mode += f", without {args.exclude_shapes}"
    which = f"{len(seeds)} listed seeds" if args.seeds else f"seeds {args.start}..{args.start + args.n - 1}"
    print(f"\n=== {which} ({mode}){stopped} in {time.time() - t0:.1f}s,"
          f" diffc from {os.path.dirname(diffc.__file__)}")
    print(text)
    if args.json:
        data.update(start=args.start, n=args.n, higher_order=args.higher_order, exclude=args.exclude_shapes,
                    shapes=args.shapes, stopped_after=len(outcomes) if stopped else None)
        with open(args.json, "w") as fh:
            json.dump(data, fh, indent=1)
    return 1 if any(o.status in ("wrong", "crash", "invalid") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
