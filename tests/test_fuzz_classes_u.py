"""Fuzzer shape classes_u (tests/fuzz/shapes_u.py, session 12, issue 16): helpers handing back
views of their argument, written by f; writes through transpose(axes)/moveaxis/swapaxes views;
tuple state stepped by a helper; hist.append(h) then a write into h; a method sorting an
attribute's value.

Fixed seeds of the shape run through the fuzzer's harness (finite differences, forward
against reverse): none may be wrong or crash, these pass, and together they contain every
feature of the shape.  The hand-written programs are in tests/test_python_s12a.py."""

import pytest

from fuzz.generator import generate
from fuzz.harness import run_many, summary
from fuzz.shapes_u import FEATURES

SEEDS = (150100, 150101, 150103)


def test_fixed_seeds_cover_the_shape():
    features = set()
    for seed in SEEDS:
        features |= generate(seed, shapes=("classes_u",)).features
    assert set(FEATURES) <= features


@pytest.mark.slow
def test_fixed_seeds_pass(tmp_path):
    outcomes = run_many(SEEDS, str(tmp_path), shapes=("classes_u",))
    bad = [o for o in outcomes if o.status != "pass"]
    assert not bad, summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:3])
