"""Fuzzer shape classes_j (tests/fuzz/shapes_j.py, session 8, issue 16): np.add.at and
np.subtract.at (repeated indices, into a new buffer and into an array of the program), a
def and a lambda defined in a loop body reading the loop variable.

Fixed seeds of the shape run through the fuzzer's harness (finite differences, autograd,
forward against reverse): none may be wrong or crash, these pass, and together they
contain every feature of the shape.  The hand-written programs are in
tests/test_issue16_s8.py."""

import pytest

from fuzz.generator import generate
from fuzz.harness import check as check_program
from fuzz.harness import run_many, summary
from fuzz.shapes_j import FEATURES

SEEDS = (801, 806, 829)


def _assert_pass(outcomes):
    bad = [o for o in outcomes if o.status != "pass"]
    assert not bad, summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:3])


def test_fixed_seeds_cover_the_shape():
    features = set()
    for seed in SEEDS:
        features |= generate(seed, shapes=("classes_j",)).features
    assert set(FEATURES) <= features


def test_fixed_seeds_pass(tmp_path):
    _assert_pass(run_many(SEEDS, str(tmp_path), shapes=("classes_j",)))


@pytest.mark.slow
def test_fixed_seeds_pass_at_second_order(tmp_path):
    _assert_pass([check_program(generate(seed, shapes=("classes_j",)), str(tmp_path), higher_order=True,
                                timeout=900) for seed in (801, 829)])
