"""Fuzzer shape classes_p (tests/fuzz/shapes_p.py, session 11, issue 16): writes through
reshaped and transposed views, y.sort(), dict.update, imports inside f, arrays stored by
d[k] = y and written through d, a class defined in f reading its locals.

Fixed seeds of the shape run through the fuzzer's harness (finite differences, autograd,
forward against reverse): none may be wrong or crash, these pass, and together they
contain every feature of the shape but p_held (refused when it runs, never wrong: below).
The hand-written programs are in tests/test_python_s11a.py."""

import pytest

from fuzz.generator import generate
from fuzz.harness import check as check_program
from fuzz.harness import run_many, summary
from fuzz.shapes_p import FEATURES

SEEDS = (101301, 101307, 101324)
HELD_SEEDS = (101305, 101310)


def _assert_pass(outcomes):
    bad = [o for o in outcomes if o.status != "pass"]
    assert not bad, summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:3])


def test_fixed_seeds_cover_the_shape():
    features = set()
    for seed in SEEDS:
        features |= generate(seed, shapes=("classes_p",)).features
    assert set(FEATURES) - {"p_held"} <= features
    assert all("p_held" in generate(seed, shapes=("classes_p",)).features for seed in HELD_SEEDS)


def test_fixed_seeds_pass(tmp_path):
    _assert_pass(run_many(SEEDS, str(tmp_path), shapes=("classes_p",)))


def test_arrays_held_by_item_assignment_are_followed_or_refused_not_wrong(tmp_path):
    # refused when it ran until session 12; since then `held['y'][0] = v` with y read after
    # is followed (transform/shared_objects.py) and checked against finite differences
    outcomes = run_many(HELD_SEEDS, str(tmp_path), shapes=("classes_p",))
    assert all(o.status in ("pass", "refused") for o in outcomes), summary(outcomes)
    assert any(o.status == "pass" for o in outcomes), summary(outcomes)


@pytest.mark.slow
def test_fixed_seeds_pass_at_second_order(tmp_path):
    _assert_pass([check_program(generate(seed, shapes=("classes_p",)), str(tmp_path), higher_order=True,
                                timeout=900) for seed in SEEDS[:2]])
