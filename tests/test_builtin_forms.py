"""`map`, `filter`, and `max` / `min` with a key, as written in ordinary Python (they were
refused: "no derivative rule for map").  transform/builtin_forms.py rewrites them into
generators and `sorted`; checked against finite differences, both modes, second order."""

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, check_both_modes


def residuals(w, x):
    data = [x, 2 * x, 0.5]
    preds = list(map(lambda v: np.tanh(w * v), data))
    return sum(map(lambda p, d: (p - d) ** 2, preds, data))


def positive_part(w, x):
    terms = [w * x - 0.1, w - x, x * x - w]
    kept = list(filter(lambda v: v > 0.0, terms))
    return sum(v ** 2 for v in kept) + len(list(filter(None, [w, 0.0])))


def largest_by_magnitude(w, x):
    candidates = [w * x, -w ** 2, x - w]
    best = max(candidates, key=lambda v: abs(v))
    worst = min(candidates, key=abs)
    return best * w + worst + min(w, x, key=None) * max(w * x, x, key=lambda v: v * v)


@pytest.mark.parametrize("f", [residuals, positive_part, largest_by_magnitude])
def test_builtin_forms(f):
    check_both_modes(f, [0.7, 0.4], wrts=[0, 1], second=True)


def test_ties_keep_the_first_as_python_does():
    def pick(w, x):
        return max([w, x, w], key=lambda v: 0.0) * 2.0 + min([x, w], key=lambda v: 0.0)
    assert_close(diffc.grad(pick)(0.7, 0.4), 2.0)
    assert_close(diffc.grad(pick, wrt=1)(0.7, 0.4), 1.0)
