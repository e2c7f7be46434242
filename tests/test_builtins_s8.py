"""Builtins found refused or crashing by a sweep of Python idioms (session 8): divmod,
pow with two and three arguments, enumerate(..., start=k) at second order.  Checked
against finite differences in both modes and at second order."""
import numpy as np
import pytest

from gradcheck import check_both_modes

V = np.array([0.3, -0.7, 1.2, 0.5])


def phase_wrap(a):
    turns, phase = divmod(3.0 * a[0] + 5.0, 0.7)
    q, r = divmod(a[1:] * 4.0 + 10.17, 1.5)
    return phase * a[1] + turns + np.sum(r ** 2) + np.sum(q)


def powers(a):
    return pow(a[0], 2) + pow(2.0, a[1]) + pow(abs(a[2]) + 1.0, a[3]) + pow(3, 4, 5) * a[0]


def weighted_by_position(a):
    return sum(i * t * t for i, t in enumerate(a, start=1)) + sum(k * t for k, t in enumerate(a, 2))


@pytest.mark.parametrize("fn", [phase_wrap, powers, weighted_by_position])
def test_builtins_match_finite_differences(fn):
    check_both_modes(fn, [V])


def test_values_are_pythons():
    # what the generated code runs in place of divmod and pow (the test above calls the
    # user's function through diffc; this checks the implementations' values themselves)
    from diffc.rules import python_implementations as impl
    for a, b in ((3.7, 0.7), (-3.7, 0.7), (3.7, -0.7), (7, 3), (-7, 3)):
        assert impl.divmod_(a, b) == divmod(a, b)
    np.testing.assert_array_equal(impl.divmod_(V * 4.0 + 10.17, 1.5), divmod(V * 4.0 + 10.17, 1.5))
    for base, exp in ((2.0, 0.5), (1.7, -2), (3, 4)):
        assert impl.pow_(base, exp) == pow(base, exp)
    assert impl.pow_(3, 4, 5) == pow(3, 4, 5)


def paired_strictly(a):
    total = 0.0
    for x, w in zip(a, a[::-1] * 0.5, strict=True):
        total = total + x * w * x
    return total + sum(p * q for p, q in zip(list(a), [1.0, 2.0, 3.0, 4.0], strict=False))


def test_zip_strict_is_differentiated():
    check_both_modes(paired_strictly, [V])


def mismatched(a):
    return sum(x * y for x, y in zip(a, a[:3], strict=True))


def test_zip_strict_raises_pythons_error():
    import diffc
    with pytest.raises(ValueError, match="shorter"):
        diffc.grad(mismatched)(V)


def extremes_with_defaults(a):
    none_big = min((t for t in a if t > 5.0), default=0.0)                 # empty: the default
    biggest_square = max([t * t for t in a], default=a[1])
    closest_above = max((t for t in a if t > 0.4), key=lambda t: -t, default=a[2] ** 2)
    return none_big + a[0] * biggest_square + closest_above + min(list(a), default=-1.0)


def test_min_max_with_default():
    check_both_modes(extremes_with_defaults, [V])
    assert extremes_with_defaults(V) == pytest.approx(0.3 * 1.44 + 0.5 - 0.7)


def search_then_else(a):
    i, s = 0, 0.0
    while i < len(a):
        if a[i] > 1.0:
            break
        s += a[i] ** 2
        i += 1
    else:
        s = s * 3.0                 # runs only when the loop did not break
    j, t = 0, 0.0
    while j < len(a):
        t += a[j] * (j + 1)
        j += 1
    else:
        t *= 2.0
    return s + i + t


def test_while_else():
    check_both_modes(search_then_else, [V])
    check_both_modes(search_then_else, [V * 0.5])       # no break: the else block runs


def inserted_by_slice(a):
    lst = list(a)
    lst[1:1] = [a[3] ** 2]                  # an insertion: the list grows
    return sum(w * (k + 1) for k, w in enumerate(lst))


def replaced_by_slice(a):
    lst = list(a)
    lst[1:3] = [a[0] * 5.0, a[3]]           # same length: differentiated item for item
    return sum(w * (k + 1) for k, w in enumerate(lst))


def test_list_slice_writes():
    # changing the list's length crashed inside the generated code (IndexError, broadcasting)
    import diffc
    with pytest.raises(diffc.DiffcError, match="changes the list's length"):
        diffc.grad(inserted_by_slice)(V)
    check_both_modes(replaced_by_slice, [V])
