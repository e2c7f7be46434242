"""jit=True without numba: a DiffcError saying how to install it (runs with or without numba)."""
import sys

import pytest

import diffc


@pytest.mark.parametrize("make", [
    lambda f: diffc.grad(f, jit=True),
    lambda f: diffc.value_and_grad(f, jit="auto"),
    lambda f: diffc.hessian(f, jit=True),
    lambda f: diffc.jit(f),
])
def test_without_numba_jit_says_how_to_install(monkeypatch, make):
    monkeypatch.setitem(sys.modules, "numba", None)

    def square(x):
        return x * x
    with pytest.raises(diffc.DiffcError) as info:
        make(square)
    assert "pip install 'diffc[jit]'" in str(info.value)
    assert diffc.grad(square)(3.0) == 6.0          # the plain gradient does not need numba


def test_jit_option_is_checked():
    with pytest.raises(diffc.BadArgument):
        diffc.grad(lambda x: x, jit="yes")
