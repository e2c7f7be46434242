"""Finite-difference references used by every gradient test."""
import numpy as np


def flat_args(args):
    return list(args)


def numeric_grad(fn, args, k, eps=1e-6):
    """Central differences of scalar fn with respect to argument k (float, list or array)."""
    args = list(args)
    x = args[k]
    base = np.array(x, dtype=np.float64)
    flat = base.reshape(-1)
    out = np.zeros(flat.size)
    for i in range(flat.size):
        values = []
        for sign in (1.0, -1.0):
            probe = flat.copy()
            probe[i] += sign * eps
            shaped = probe.reshape(base.shape)
            if isinstance(x, np.ndarray):
                arg = shaped.astype(x.dtype) if x.dtype.kind == "f" else shaped
            elif isinstance(x, (list, tuple)):
                arg = type(x)(shaped.tolist())
            else:
                arg = float(shaped)
            call = list(args)
            call[k] = arg
            values.append(float(np.sum(fn(*call))))
        out[i] = (values[0] - values[1]) / (2 * eps)
    return out.reshape(base.shape)


def assert_close(actual, expected, rtol=1e-5, atol=1e-6, what=""):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def fd_jacobian(fn, x, eps=1e-6):
    """Central differences of an array- or float-valued fn of one float or array x.

    Shape fn(x).shape + x.shape (a Hessian when fn is a gradient)."""
    x = np.asarray(x, dtype=np.float64)
    columns = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = eps
        plus, minus = (x.reshape(-1) + e).reshape(x.shape), (x.reshape(-1) - e).reshape(x.shape)
        if x.ndim == 0:
            plus, minus = float(plus), float(minus)
        columns.append((np.asarray(fn(plus), dtype=float) - np.asarray(fn(minus), dtype=float)) / (2 * eps))
    return np.stack(columns, axis=-1).reshape(np.shape(columns[0]) + x.shape)


def check_value_and_grad(fn, *args, wrt=0):
    """diffc's value and gradient(s) agree with the function and central finite
    differences, and the arguments are left as they were.  Returns the gradients."""
    import diffc
    wrt_list = list(wrt) if isinstance(wrt, tuple) else [wrt]
    copies = [np.array(a) if isinstance(a, np.ndarray) else a for a in args]
    value, grads = diffc.value_and_grad(fn, wrt=tuple(wrt_list))(*args)
    for a, b in zip(args, copies):
        assert_close(a, b, rtol=0, atol=0, what="arguments unchanged")
    fresh = [np.array(a) if isinstance(a, np.ndarray) else a for a in args]
    assert_close(value, fn(*fresh), rtol=1e-12, atol=1e-12, what="value")
    for k, g in zip(wrt_list, grads):
        assert_close(g, numeric_grad(fn, args, k), rtol=1e-6, atol=1e-8, what=f"d/darg{k}")
    return grads


def check_both_modes(fn, args, wrts=None, second=True, seed=0):
    """For each argument k in wrts (all by default): diffc.grad against central differences,
    diffc.jvp along a random direction against the same, and (second) the gradient of
    <grad fn, direction> against differences of it.  Float or array arguments."""
    import diffc
    rng = np.random.default_rng(seed)
    args = list(args)
    for k in range(len(args)) if wrts is None else wrts:
        expected = numeric_grad(fn, args, k)
        assert_close(diffc.grad(fn, wrt=k)(*args), expected, what=f"grad d/darg{k}")
        direction = rng.normal(size=np.shape(args[k])) if np.ndim(args[k]) else 1.0
        tangents = tuple(direction if i == k else None for i in range(len(args)))
        assert_close(diffc.jvp(fn, tuple(args), tangents)[1], np.sum(expected * direction),
                     what=f"jvp d/darg{k}")
        if second:
            def along(*a):
                return np.sum(diffc.grad(fn, wrt=k)(*a) * direction)
            assert_close(diffc.grad(along)(*args)[k], numeric_grad(along, args, k, eps=1e-5),
                         rtol=1e-5, atol=1e-5, what=f"second order d/darg{k}")


def second_order_cases(cases, default_second, name=lambda case: case[0].__name__):
    """pytest params ``(*case, second)`` for a table checked at first and second order.

    Every case runs at first order by default (second=False); the cases whose name is in
    default_second run at second order too, one of each construct the table covers; the
    others' second order (the whole check again, second=True) runs with ``-m slow``."""
    import pytest
    unknown = set(default_second) - {name(case) for case in cases}
    assert not unknown, f"not in the table: {sorted(unknown)}"
    out = []
    for case in cases:
        label = name(case)
        if label in default_second:
            out.append(pytest.param(*case, True, id=label))
        else:
            out.append(pytest.param(*case, False, id=f"{label}-first"))
            out.append(pytest.param(*case, True, marks=pytest.mark.slow, id=label))
    return out
