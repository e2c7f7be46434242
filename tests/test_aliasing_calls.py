"""Issue 15: library calls that hand back their argument, or write into one, in every way
NumPy spells it.  Each was a silently wrong gradient (both modes) before:

* ``v.astype(float, copy=False)``, ``np.array(v, copy=False)``, ``v.conj()`` of a real
  array return v itself: a later write into v is seen through them (refused now, like
  every other view read after a write);
* ``np.expand_dims(v, 0)[0]``: a row of a view of v; forward mode copied the view, so the
  check that refuses a shared write saw two separate arrays (the view is kept now);
* ``np.exp(x, v)``, ``np.true_divide(v, 2.0, v)``: a ufunc's positional ``out``;
* ``v.__iadd__(x)``: an in-place operator called by name (refused).

Derivatives are checked against central finite differences in both modes."""

import numpy as np
import pytest

import diffc
from test_fuzz_classes_b import check

X = np.array([0.3, -0.7, 1.1])


def astype_no_copy(x):
    v = x * 2.0
    t = v.astype(float, copy=False)
    v[0] += np.sin(x[1])
    return np.sum(t * t) + np.sum(v * x)


def array_no_copy(x):
    v = x * 2.0
    t = np.array(v, copy=False)
    v[0] += np.sin(x[1])
    return np.sum(t * t)


def conj_of_real(x):
    v = x * 2.0
    t = v.conj()
    v[0] += np.sin(x[1])
    return np.sum(t * t)


def row_of_a_view(x):
    v = x * 2.0
    t = np.expand_dims(v, 0)[0]
    v[0] += np.sin(x[1])
    return np.sum(t * t)


def add_by_name(x):
    v = x * 2.0
    v.__iadd__(x)
    return np.sum(v * x)


@pytest.mark.parametrize("fn", [astype_no_copy, array_no_copy, conj_of_real, row_of_a_view, add_by_name])
def test_shared_result_then_write_is_refused(fn):
    with pytest.raises(diffc.DiffcError):
        diffc.grad(fn)(X.copy())
    with pytest.raises(diffc.DiffcError):
        diffc.jvp(fn, (X.copy(),), (np.ones(3),))


def exp_into_positional_out(x):
    v = x * 2.0
    np.exp(x, v)
    return np.sum(v * x)


def divide_into_positional_out(x):
    v = x * 2.0
    w = np.outer(x, x)
    np.true_divide(v, 2.0 + x[0], v)
    np.multiply(w, x, w)
    return np.sum(v * x) + np.sum(w * w)


def copies_are_new(x):
    v = x * 2.0
    t = v.astype(float)
    s = np.array(v, copy=True)
    c = (v * 1j).conj()
    v[0] += np.sin(x[1])
    return np.sum(t * t) + np.sum(s * x) + np.sum(np.real(c * np.conj(c)))


@pytest.mark.parametrize("fn", [exp_into_positional_out, divide_into_positional_out, copies_are_new])
def test_differentiated(fn):
    check(fn, [X.copy()], second_order=True)
