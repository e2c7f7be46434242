"""Fuzzer shape classes_s (tests/fuzz/shapes_s.py, session 12, issue 17 leftovers): radii bound
to a name then raised to a power at 0, NumPy scalars given unit axes (a[None]), an object's
attribute squared where its value is 0 (second order).

Fixed seeds of the shape run through the fuzzer's harness (finite differences, autograd,
forward against reverse): none may be wrong or crash, and together they contain every feature
of the shape.  The hand-written programs are in tests/test_libraries_s12b.py."""

import pytest

from fuzz.generator import generate
from fuzz.harness import check as check_program
from fuzz.harness import run_many, summary
from fuzz.shapes_s import FEATURES

SEEDS = (124013, 124019, 124025)


def _assert_pass(outcomes):
    bad = [o for o in outcomes if o.status != "pass"]
    assert not bad, summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:3])


def test_fixed_seeds_cover_the_shape():
    features = set()
    for seed in SEEDS:
        features |= generate(seed, shapes=("classes_s",)).features
    assert set(FEATURES) <= features


def test_fixed_seeds_pass(tmp_path):
    _assert_pass(run_many(SEEDS, str(tmp_path), shapes=("classes_s",)))


@pytest.mark.slow
def test_fixed_seeds_pass_at_second_order(tmp_path):
    _assert_pass([check_program(generate(seed, shapes=("classes_s",)), str(tmp_path), higher_order=True,
                                timeout=900) for seed in SEEDS])
