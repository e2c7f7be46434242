"""The random-program fuzzer as tests (see generator.py and harness.py).

* `test_fuzz_small` (default run): programs from seed 0 on, until 100 have been
  checked for real (pass); no program may fail (wrong value or gradient, crash,
  caller's array modified), nor be invalid (a generator bug).  Refusals (a
  clear DiffcError) are allowed but bounded.
* `test_fuzz_higher_order` (slow): the same with Hessian-vector products checked.
* `test_fuzz_large` (``pytest -m fuzz_large --fuzz-n 2000 [--fuzz-start S]``):
  the same checks over a large budget of seeds.

Reproduce one program: ``python tests/fuzz/run.py --start SEED --n 1``;
shrink it: ``python tests/fuzz/minimize.py SEED``.
"""
import pytest

from fuzz.harness import run_many, summary

SMALL_PASSES = 100


def _assert_clean(outcomes, max_refused_fraction):
    bad = [o for o in outcomes if o.status in ("fail", "invalid")]
    refused = [o for o in outcomes if o.status == "refused"]
    message = summary(outcomes) + "\n" + "\n".join(o.report() for o in bad[:5])
    print(summary(outcomes))
    assert not bad, message
    assert len(refused) <= max_refused_fraction * len(outcomes), \
        message + "\n" + "\n".join(o.report() for o in refused[:3])


def test_fuzz_small(tmp_path):
    outcomes = run_many(range(0, 400), str(tmp_path), stop_after_passes=SMALL_PASSES)
    assert sum(o.status == "pass" for o in outcomes) >= SMALL_PASSES, summary(outcomes)
    _assert_clean(outcomes, max_refused_fraction=0.25)


@pytest.mark.fuzz_large
def test_fuzz_large(tmp_path, request):
    n = request.config.getoption("--fuzz-n")
    start = request.config.getoption("--fuzz-start")
    outcomes = run_many(range(start, start + n), str(tmp_path))
    _assert_clean(outcomes, max_refused_fraction=0.25)


@pytest.mark.slow
def test_fuzz_higher_order(tmp_path):
    """Hessian-vector products (forward over reverse, reverse over reverse) of random programs
    against finite differences of their gradients."""
    outcomes = run_many(range(0, 150), str(tmp_path), higher_order=True)
    _assert_clean(outcomes, max_refused_fraction=0.25)
