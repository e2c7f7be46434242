"""Fuzzer shape classes_h (tests/fuzz/shapes_h.py, tests/fuzz/FINDINGS_g.md I1-I10):
generators consumed late or kept as lists, asserts with effects, closures from factories,
list changes used as values, nested try statements with a re-raise.

* fixed seeds of the shape run through the fuzzer's harness (finite differences, autograd,
  forward against reverse): none may be wrong or crash, these pass, and together they
  contain every feature of the shape;
* seeds whose program Python runs with a late read diffc cannot follow are refused, with
  the reason that names it (a write into what a closure holds; an inner try left half done).
The hand-written programs of these classes are in tests/test_hunt_session7.py."""

import pytest

from fuzz.generator import generate
from fuzz.harness import check as check_program
from fuzz.harness import run_many, summary
from fuzz.shapes_h import FEATURES

SEEDS = (413, 420, 421)
REFUSED = {410: "in place", 417: "part way through"}


def _assert_pass(outcomes):
    bad = [o for o in outcomes if o.status != "pass"]
    assert not bad, summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:3])


def test_fixed_seeds_cover_the_shape():
    features = set()
    for seed in SEEDS:
        features |= generate(seed, shapes=("classes_h",)).features
    assert set(FEATURES) <= features


def test_fixed_seeds_pass(tmp_path):
    _assert_pass(run_many(SEEDS, str(tmp_path), shapes=("classes_h",)))


def test_late_reads_diffc_cannot_follow_are_refused(tmp_path):
    outcomes = run_many(tuple(REFUSED), str(tmp_path), shapes=("classes_h",))
    for seed, outcome in zip(REFUSED, outcomes):
        assert outcome.status == "refused", outcome.report()
        assert REFUSED[seed] in outcome.report()


@pytest.mark.slow
def test_fixed_seeds_pass_at_second_order(tmp_path):
    _assert_pass([check_program(generate(seed, shapes=("classes_h",)), str(tmp_path), higher_order=True,
                                timeout=900) for seed in (413, 421)])
