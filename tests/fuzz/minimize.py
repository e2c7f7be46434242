"""Shrink a failing fuzz program by deleting statements while it still fails the same way.

``python tests/fuzz/minimize.py SEED [SEED ...]`` prints, per seed, the
smallest program found (with its arguments): greedy deletion of whole helper
functions, of indented blocks and of single lines, repeated until nothing
more can go.  "The same way" is the same status (wrong, crash, refused),
mode and kind (harness.Outcome.kind).  ``--status refused`` shrinks a refusal.
The result is the starting point of a hand-written regression test in
tests/test_regressions.py.
"""
import argparse
import dataclasses
import os
import sys
import tempfile

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# this checkout's diffc, not the one an editable install points at
sys.path[:0] = [_TESTS, os.path.dirname(_TESTS)]

from fuzz.generator import generate  # noqa: E402
from fuzz.harness import check  # noqa: E402

FAILING = ("wrong", "crash", "refused")


def _category(outcome):
    return outcome.status, outcome.mode, outcome.kind


def _indent(line):
    return len(line) - len(line.lstrip())


def _block_end(lines, i):
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > _indent(lines[i])):
        j += 1
    return j


def _candidates(lines):
    """Line lists with one helper function, or one statement (and its block), removed."""
    for i, line in enumerate(lines):          # whole helpers first: the biggest steps
        if line.startswith("def ") and not line.startswith("def f("):
            yield lines[:i] + lines[_block_end(lines, i):]
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("def ", "import ")) or _indent(line) == 0:
            continue
        j = _block_end(lines, i)
        while j > i + 1 and not lines[j - 1].strip():
            j -= 1
        rest = lines[:i] + lines[j:]
        # keep the enclosing block non-empty
        prev = lines[i - 1] if i > 0 else ""
        nxt = next((x for x in lines[j:] if x.strip()), "")
        if prev.rstrip().endswith(":") and _indent(nxt) <= _indent(prev):
            if stripped == "pass":
                continue
            rest = lines[:i] + [" " * _indent(line) + "pass"] + lines[j:]
        yield rest


def _check(program, workdir, mode):
    return check(program, workdir, forward=mode in ("forward", "hvp", "autograd"),
                 higher_order=mode == "hvp", autograd=mode == "autograd", timeout=60)


def minimize(program, workdir, mode=None, want_status=("wrong", "crash")):
    base = check(program, workdir, higher_order=mode == "hvp", timeout=60)
    if base.status not in want_status:
        return program, base
    want = _category(base)
    lines = program.source.split("\n")
    changed = True
    while changed:
        changed = False
        for cand in _candidates(lines):
            trial = dataclasses.replace(program, source="\n".join(cand))
            out = _check(trial, workdir, base.mode)
            if _category(out) == want:
                lines, base, changed = cand, out, True
                break
    return dataclasses.replace(program, source="\n".join(lines)), base


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("seeds", type=int, nargs="+")
    parser.add_argument("--higher-order", action="store_true", help="the failure is in the hvp mode")
    parser.add_argument("--status", default="wrong,crash", help="which statuses to shrink")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        for seed in args.seeds:
            prog, outcome = minimize(generate(seed), d, mode="hvp" if args.higher_order else None,
                                     want_status=tuple(args.status.split(",")))
            print(outcome.report())
            print(flush=True)


if __name__ == "__main__":
    main()
