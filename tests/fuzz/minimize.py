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
    """The end of the statement starting at line i (with its block, and an if's elif/else)."""
    j = i + 1
    while True:
        while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > _indent(lines[i])):
            j += 1
        if (lines[i].strip().startswith(("if ", "elif ")) and j < len(lines)
                and _indent(lines[j]) == _indent(lines[i])
                and lines[j].strip().startswith(("elif ", "else:"))):
            i, j = j, j + 1         # the elif / else belongs to this statement
            continue
        return j


def _statements(lines):
    """(start, end) of every statement but the function headers, outermost first."""
    spans = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if (not stripped or stripped.startswith(("def ", "import ", "elif ", "else:"))
                or _indent(line) == 0):
            continue
        spans.append((i, _block_end(lines, i)))
    return spans


def _without(lines, i, j):
    """lines without lines[i:j], with `pass` where that would empty a block."""
    rest = lines[:i] + lines[j:]
    prev = lines[i - 1] if i > 0 else ""
    nxt = next((x for x in lines[j:] if x.strip()), "")
    if prev.rstrip().endswith(":") and _indent(nxt) <= _indent(prev):
        if lines[i:j] == [" " * _indent(lines[i]) + "pass"]:
            return None
        rest = lines[:i] + [" " * _indent(lines[i]) + "pass"] + lines[j:]
    return rest


def _candidates(lines):
    """Line lists with one helper function or class, or a run of statements, removed (largest first)."""
    for i, line in enumerate(lines):
        if line.startswith(("def ", "class ")) and not line.startswith("def f("):
            yield lines[:i] + lines[_block_end(lines, i):]
    spans = _statements(lines)
    for run in (4, 2, 1):
        for n, (i, j) in enumerate(spans):
            # `run` consecutive sibling statements starting at i
            end, count, k = j, 1, n + 1
            while count < run and k < len(spans):
                if spans[k][0] == end and _indent(lines[spans[k][0]]) == _indent(lines[i]):
                    end, count = spans[k][1], count + 1
                k += 1
            if count < run:
                continue
            rest = _without(lines, i, end)
            if rest is not None:
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
    parser.add_argument("--shapes", help="as run.py --shapes (to regenerate the same program)")
    parser.add_argument("--exclude-shapes", default="", help="as run.py --exclude-shapes")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        for seed in args.seeds:
            shapes = None if args.shapes is None else tuple(x for x in args.shapes.split(",") if x)
            exclude = tuple(x for x in args.exclude_shapes.split(",") if x)
            prog, outcome = minimize(generate(seed, shapes=shapes, exclude=exclude), d, mode="hvp" if args.higher_order else None,
                                     want_status=tuple(args.status.split(",")))
            print(outcome.report())
            print(flush=True)


if __name__ == "__main__":
    main()
