"""numba_form: the numba-ready text of generated gradients (no numba needed).

The values these texts compute are checked in test_jit.py (against the plain
gradient and finite differences), and refusals of what cannot be typed in
test_jit.py's corpus sweep; here, that the rewrites happen where they should
and stay away where they must."""
import math

import pytest

import diffc
from diffc import compile_cache as CC
from diffc.jit_compile import numba_source


def _jit_text(fn, *args, wrt=0):
    names = CC.param_names(fn)
    values = list(args)
    wrt_names, _ = CC.normalize_wrt(fn, wrt)
    entry = CC.joint_entry(fn, wrt_names, CC.kinds_of(values), False, True)
    return numba_source(entry.emitted, entry.main.__name__, values)


def recurrence(x, n):
    s = x
    for i in range(n):
        s = s + 0.1 * math.sin(s)
    return s


def newton(a):
    x = a
    while abs(x * x - a) > 1e-12 * a:
        x = x - (x * x - a) / (2.0 * x)
    return x


def branchy(x, y):
    z = x * y
    if x > 0.3:
        z = z * z
    else:
        z = -z
    return z + x


def keeps_none(x):
    best = None
    for k in range(3):
        if best is None:
            best = x * k
        else:
            best = best + x
    return best


def test_range_loop_tape_is_preallocated_and_read_by_index():
    text = _jit_text(recurrence, 0.5, 10)
    assert "np.empty(len(range(n)))" in text
    assert "reversed" not in text and ".append(" not in text
    assert "range(_tape1_pos - 1, -1, -1)" in text
    assert "# line " in text                      # the user-line comments survive


def test_while_loop_tape_grows_and_walrus_test_is_hoisted():
    text = _jit_text(newton, 30.0)
    assert "np.empty(16 * " in text and "_grown" in text
    assert ":=" not in text and "while True:" in text


def test_shared_tape_becomes_typed_stacks():
    text = _jit_text(branchy, 0.5, 1.5, wrt=(0, 1))
    assert "_tape_f" in text and "_tape.append" not in text and "_tape.pop" not in text


def test_a_none_that_is_compared_stays_none():
    text = _jit_text(keeps_none, 0.5)
    assert "best = None" in text


def test_plain_gradient_is_unchanged_by_the_pass():
    before = diffc.source(recurrence, args=(0.5, 10))
    _jit_text(recurrence, 0.5, 10)
    assert diffc.source(recurrence, args=(0.5, 10)) == before
    assert diffc.grad(recurrence)(0.5, 10) == pytest.approx(diffc.grad(recurrence)(0.5, 10), rel=0)
