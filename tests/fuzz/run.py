"""Command-line fuzzer: ``python tests/fuzz/run.py --n 2000 [--start 0] [--show-failures]``.

Generates programs for seeds start..start+n-1, checks each (harness.check)
and prints a summary plus the source of every failing program, so a failure
is reproduced with ``python tests/fuzz/run.py --start SEED --n 1``.
"""
import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from fuzz.harness import run_many, summary  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--no-forward", action="store_true")
    parser.add_argument("--higher-order", action="store_true",
                        help="also check Hessian-vector products (forward over reverse, reverse over reverse)")
    parser.add_argument("--copy-short-loops", action="store_true",
                        help="read float64 vectors as float lists in loops of any length (optimize/float_items.py)")
    parser.add_argument("--show", default="fail,invalid", help="statuses whose programs are printed")
    args = parser.parse_args(argv)
    show = set(args.show.split(","))
    if args.copy_short_loops:
        from diffc import runtime
        runtime.FLOAT_ITEMS_MIN_TRIPS = 0
    t0 = time.time()
    with tempfile.TemporaryDirectory() as workdir:
        outcomes = run_many(range(args.start, args.start + args.n), workdir, forward=not args.no_forward,
                            higher_order=args.higher_order)
    for o in outcomes:
        if o.status in show:
            print(o.report())
    print(summary(outcomes), f"in {time.time() - t0:.1f}s")
    return 1 if any(o.status in ("fail", "invalid") for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
