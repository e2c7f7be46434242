"""The random-program fuzzer as tests (see generator.py and harness.py).

* `test_fuzz_small` (default run): programs from seed 0 on without the
  issue-15 shapes, until 12 have been checked for real (pass); no program may
  be wrong (value or gradient against finite differences, autograd, or the
  other mode), crash, nor be invalid (a generator bug).  Refusals (a clear
  DiffcError) are allowed but bounded.
* `test_fuzz_shapes_small` (default run): seeds 0..11 with every issue-15
  shape enabled (generator.SHAPES), the same checks.
* `test_fuzz_higher_order` (slow): Hessian-vector products checked too.
* `test_fuzz_large` / `test_fuzz_large_higher_order`
  (``pytest -m fuzz_large tests/fuzz --fuzz-n 10000 [--fuzz-start S]``): seeds
  S..S+n-1 first order and S..S+n/10-1 with Hessian-vector products, each seed
  drawing its own shapes (the ranges `python tests/fuzz/run.py --start S --n N`
  reports on in detail).

Reproduce one program: ``python tests/fuzz/run.py --start SEED --n 1``;
shrink it: ``python tests/fuzz/minimize.py SEED``.
"""
import pytest

from fuzz.generator import SHAPES
from fuzz.harness import run_many, summary

SMALL_PASSES = 12
SHAPES_SMALL_SEEDS = range(0, 12)


def _assert_clean(outcomes, max_refused_fraction):
    bad = [o for o in outcomes if o.status in ("wrong", "crash", "invalid")]
    refused = [o for o in outcomes if o.status == "refused"]
    message = summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:5])
    print(summary(outcomes))
    assert not bad, message
    assert len(refused) <= max_refused_fraction * len(outcomes), \
        message + "\n" + "\n".join(o.report() for o in refused[:3])


def test_fuzz_small(tmp_path):
    outcomes = run_many(range(0, 40), str(tmp_path), stop_after_passes=SMALL_PASSES, shapes=())
    assert sum(o.status == "pass" for o in outcomes) >= SMALL_PASSES, summary(outcomes)
    _assert_clean(outcomes, max_refused_fraction=0.25)


@pytest.mark.slow       # one of the slowest of the default suite; run with -m slow (test_fuzz_small and tests/test_fuzz_classes_* stay)
def test_fuzz_shapes_small(tmp_path):
    outcomes = run_many(SHAPES_SMALL_SEEDS, str(tmp_path), shapes=SHAPES)
    _assert_clean(outcomes, max_refused_fraction=0.25)


@pytest.mark.fuzz_large
def test_fuzz_large(tmp_path, request):
    n = request.config.getoption("--fuzz-n")
    start = request.config.getoption("--fuzz-start")
    outcomes = run_many(range(start, start + n), str(tmp_path))
    _assert_clean(outcomes, max_refused_fraction=0.25)


@pytest.mark.fuzz_large
def test_fuzz_large_higher_order(tmp_path, request):
    n = request.config.getoption("--fuzz-n") // 10
    start = request.config.getoption("--fuzz-start")
    outcomes = run_many(range(start, start + n), str(tmp_path), higher_order=True)
    _assert_clean(outcomes, max_refused_fraction=0.25)


@pytest.mark.slow
def test_fuzz_higher_order(tmp_path):
    """Hessian-vector products (forward over reverse, reverse over reverse) of random programs
    against finite differences of their gradients."""
    outcomes = run_many(range(0, 150), str(tmp_path), higher_order=True)
    _assert_clean(outcomes, max_refused_fraction=0.25)
