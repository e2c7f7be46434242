"""Shrink a failing fuzz program by deleting statements while it still fails the same way.

``python tests/fuzz/minimize.py SEED`` prints the smallest program found (with
its arguments): greedy deletion of single lines and of whole indented blocks,
repeated until nothing more can go.  The result is the starting point of a
hand-written regression test in tests/test_regressions.py.
"""
import dataclasses
import os
import sys
import tempfile

_TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# this checkout's diffc, not the one an editable install points at
sys.path[:0] = [_TESTS, os.path.dirname(_TESTS)]

from fuzz.generator import generate  # noqa: E402
from fuzz.harness import check  # noqa: E402


def _category(outcome):
    return outcome.reason.split(":")[0].split(" of arg")[0][:30]


def _indent(line):
    return len(line) - len(line.lstrip())


def _candidates(lines):
    """Line lists with one statement (and its block) removed."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("def ", "import ")) or _indent(line) == 0:
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() and _indent(lines[j]) > _indent(line):
            j += 1
        rest = lines[:i] + lines[j:]
        # keep the enclosing block non-empty
        prev = lines[i - 1] if i > 0 else ""
        nxt = lines[j] if j < len(lines) else ""
        if prev.rstrip().endswith(":") and _indent(nxt) <= _indent(prev):
            rest = lines[:i] + [" " * _indent(line) + "pass"] + lines[j:]
            if stripped == "pass":
                continue
        yield rest


def minimize(program, workdir, forward=True):
    base = check(program, workdir, forward=forward)
    if base.status != "fail":
        return program, base
    want = _category(base)
    lines = program.source.split("\n")
    changed = True
    while changed:
        changed = False
        for cand in _candidates(lines):
            trial = dataclasses.replace(program, source="\n".join(cand))
            out = check(trial, workdir, forward=forward)
            if out.status == "fail" and _category(out) == want:
                lines, base, changed = cand, out, True
                break
    return dataclasses.replace(program, source="\n".join(lines)), base


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as d:
        prog, outcome = minimize(generate(int(sys.argv[1])), d)
    print(outcome.report())
    print("args:", prog.args)
