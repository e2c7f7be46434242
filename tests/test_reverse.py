"""Reverse mode on the shared corpus, checked against finite differences."""
import copy

import numpy as np
import pytest

import diffc
from corpus import PROGRAMS
from gradcheck import assert_close, numeric_grad


def _wrt_list(wrt):
    return list(wrt) if isinstance(wrt, tuple) else [wrt]


@pytest.mark.parametrize("name,fn,args,wrt", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_grad_matches_finite_differences(name, fn, args, wrt):
    args_before = copy.deepcopy(args)
    grads = diffc.grad(fn, wrt=wrt)(*args)
    if not isinstance(wrt, tuple):
        grads = (grads,)
    assert len(grads) == len(_wrt_list(wrt))
    for k, g in zip(_wrt_list(wrt), grads):
        expected = numeric_grad(fn, args, k)
        assert_close(g, expected, rtol=1e-5, atol=1e-6, what=f"{name} d/darg{k}")
    # Calling twice gives the same answer; the arguments are never modified.
    again = diffc.grad(fn, wrt=wrt)(*args)
    if not isinstance(wrt, tuple):
        again = (again,)
    for a, b in zip(grads, again):
        assert_close(a, b, rtol=0, atol=0, what=f"{name} second call")
    for a, b in zip(args, args_before):
        assert_close(a, b, rtol=0, atol=0, what=f"{name} arguments unchanged")


@pytest.mark.parametrize("name,fn,args,wrt", PROGRAMS, ids=[p[0] for p in PROGRAMS])
def test_value_and_grad(name, fn, args, wrt):
    value, grads = diffc.value_and_grad(fn, wrt=wrt)(*args)
    assert_close(value, fn(*args), rtol=1e-12, atol=1e-12, what=name)
