"""Arrays beyond NumPy: generated code dispatches to Dask and CuPy through NumPy's protocols.

A gradient with respect to a Dask array must come back as a *lazy* Dask
array (nothing computed while differentiating: a scheduler that counts calls
is installed) equal to the NumPy gradient after ``.compute()``.
"""

import numpy as np
import pytest

import diffc

da = pytest.importorskip("dask.array", reason="dask[array] is not installed (pip install -e '.[dask]')")
import dask  # noqa: E402


def loss(w, X, y):
    pred = np.tanh(X @ w)
    r = pred - y
    return np.sum(r * r) / X.shape[0]


def elementwise(x):
    return np.sum(np.exp(x) * np.sin(x) + x ** 2 / (1.0 + x * x))


def reductions(x):
    return np.mean(np.log(1.0 + x * x)) + np.sum(np.maximum(x, 0.5)) \
        + np.sum(np.sum(x * x, axis=0) ** 2) + np.sum(np.mean(x, axis=1, keepdims=True) * x)


def shapes(x):
    return np.sum(x.T @ x) + np.sum(x.reshape(-1) * 2.0) + np.sum(np.sqrt(x + 1.0))


def indexing(x):
    y = x * 1.0
    y[0] = y[1] * 3.0
    return np.sum(x[1:3] * x[0]) + np.sum(x[:, 0] ** 2) + np.sum(y * y)


def loop(x):
    s = x
    for t in diffc.checkpointed(range(6), snapshots=2):
        s = np.tanh(s) * 1.1 + 0.1
    return np.sum(s * s)


def fancy(x):
    return np.sum(x[[0, 0, 2]] ** 2)


class _CountingScheduler:
    def __init__(self):
        self.calls = 0

    def __call__(self, dsk, keys, **kwargs):
        self.calls += 1
        return dask.get(dsk, keys, **kwargs)


XN = np.random.default_rng(0).random((8, 3))


def _assert_lazy_and_equal(fn, atol=0.0):
    """grad of fn on a chunked Dask array: lazy (nothing computed) and equal to NumPy's."""
    x = da.from_array(XN, chunks=(4, 3))
    spy = _CountingScheduler()
    with dask.config.set(scheduler=spy):
        g = diffc.grad(fn)(x)
    assert isinstance(g, da.Array)
    assert spy.calls == 0, "differentiating computed a Dask graph"
    np.testing.assert_allclose(g.compute(scheduler="sync"), diffc.grad(fn)(XN), rtol=1e-12, atol=atol)


@pytest.mark.parametrize("fn", [elementwise, reductions, shapes, indexing, loop])
def test_dask_gradient_is_lazy_and_equal(fn):
    _assert_lazy_and_equal(fn)


def test_dask_loss_over_chunks():
    rng = np.random.default_rng(1)
    Xn, yn, wn = rng.random((40, 3)), rng.random(40), rng.random(3)
    X, y, w = da.from_array(Xn, chunks=(10, 3)), da.from_array(yn, chunks=10), da.from_array(wn)
    spy = _CountingScheduler()
    with dask.config.set(scheduler=spy):
        value, g = diffc.value_and_grad(loss)(w, X, y)
    assert spy.calls == 0 and isinstance(g, da.Array)
    np.testing.assert_allclose(g.compute(scheduler="sync"), diffc.grad(loss)(wn, Xn, yn), rtol=1e-12)
    assert float(value.compute(scheduler="sync")) == pytest.approx(loss(wn, Xn, yn))


def test_dask_fancy_index_accumulation_is_a_clear_error():
    x = da.from_array(XN, chunks=(4, 3))
    with pytest.raises(diffc.DiffcError, match="np.add.at"):
        diffc.grad(fancy)(x)


def test_numpy_arguments_unaffected():
    np.testing.assert_allclose(diffc.grad(shapes)(XN), diffc.grad(shapes)(XN.copy()))


def _cupy_or_skip():
    try:
        import cupy
    except ImportError:
        pytest.skip("CuPy is not installed: the CuPy test needs cupy and a CUDA GPU")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            raise RuntimeError("no device")
    except Exception as exc:          # no driver, no device
        pytest.skip(f"CuPy is installed but no CUDA GPU is usable: {exc}")
    return cupy


@pytest.mark.parametrize("fn", [elementwise, reductions, shapes, indexing, loop, fancy])
def test_cupy_gradient_runs_on_the_gpu(fn):
    cupy = _cupy_or_skip()
    g = diffc.grad(fn)(cupy.asarray(XN))
    assert isinstance(g, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(g), diffc.grad(fn)(XN), rtol=1e-10)


@pytest.mark.slow
def test_distributed_example_on_a_local_cluster():
    """examples/dask_gradient.py: two worker processes, gradient equal to NumPy's."""
    pytest.importorskip("distributed", reason="dask.distributed is not installed")
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).parent.parent / "examples" / "dask_gradient.py"
    spec = importlib.util.spec_from_file_location("dask_gradient_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    gw_dask, gw_np = module.main(n_rows=4_000, n_features=5, chunk_rows=1_000)
    np.testing.assert_allclose(gw_dask, gw_np, rtol=1e-10, atol=1e-14)


def _lstsq_loss(a, b):
    return np.sum(np.linalg.lstsq(a, b, rcond=None)[0] ** 2)


def test_helpers_that_force_numpy_are_a_clear_error_on_dask():
    rng = np.random.default_rng(2)
    an, bn = rng.random((6, 3)), rng.random(6)
    a = da.from_array(an, chunks=(3, 3))
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(_lstsq_loss)(a, bn)
    assert "_lstsq_bar" in str(info.value) and "dask" in str(info.value)
    # The same function on NumPy arrays is unaffected.
    assert diffc.grad(_lstsq_loss)(an, bn).shape == (6, 3)


# --- rule families whose helpers dispatch (issue 8) ------------------------------------

def var_std(x):
    return np.var(x) + np.sum(np.std(x * 2.0, axis=0)) + np.sum(np.var(x, axis=1, ddof=1))


def mean_square(x):
    return np.sum(np.mean(x * x, axis=0)) + np.mean(x)


def max_min(x):
    return np.max(x) + np.sum(np.min(x, axis=1)) + np.sum(np.amax(x, axis=0, keepdims=True) * x)


def norms(x):
    return np.linalg.norm(x) + np.sum(np.linalg.norm(x, axis=1)) + np.linalg.norm(x[:, 0], ord=1) \
        + np.linalg.norm(x, ord=np.inf) + np.linalg.norm(x[:, 1], ord=3)


def products(x):
    return np.prod(x) + np.sum(np.prod(x + 1.0, axis=0))


def take(x):
    return np.sum(np.take(x, [0, 2, 2], axis=0) ** 2) + np.sum(np.take(x, [1, 2, 1], axis=1) * 3.0)


def transpose(x):
    return np.sum(np.transpose(x) @ x) + np.sum(x.transpose(1, 0)[0] * 3.0)


def stack_concat(x):
    return np.sum(np.stack([x, x * x], axis=1) ** 2) + np.sum(np.concatenate([x, np.sin(x)], axis=0) ** 2) \
        + np.sum(np.hstack([x, x]) ** 3) + np.sum(np.vstack([x, x]) * 0.5)


def einsum(x):
    return np.sum(np.einsum("ij,ik->jk", x, x)) + np.einsum("ij,ij->", x, x) \
        + np.sum(np.einsum("ii->i", x[:3, :3]) ** 2) + np.einsum("ii", x[4:7, :])


def tensordot(x):
    return np.sum(np.tensordot(x, x, axes=([0], [0])) ** 2) + np.sum(np.tensordot(x[:3], x[:3].T, axes=1))


def clip_where(x):
    return np.sum(np.clip(x, 0.2, 0.8) ** 2) + np.sum(np.where(x > 0.5, x * x, np.sin(x)))


def cumulative(x):
    y = np.where(x > 0.6, 0.0, x)           # cumprod through zeros stays exact
    return np.sum(np.cumsum(x, axis=0) ** 2) + np.sum(np.cumsum(x) * 0.1) \
        + np.sum(np.cumprod(x + 0.5, axis=0)) + np.sum(np.cumprod(y, axis=0) * np.arange(1.0, 4.0)) \
        + np.sum(np.cumprod(y[:, 1]) ** 2)


def diff_pad_repeat(x):
    return np.sum(np.diff(x, axis=0) ** 2) + np.sum(np.diff(x, n=2, axis=1) ** 2) + np.sum(np.pad(x, 1) ** 2) \
        + np.sum(np.pad(x, ((1, 0), (0, 2)), mode="edge") ** 2) + np.sum(np.repeat(x, 2, axis=0) ** 2)


def diagonals(x):
    return np.trace(x[:3, :3] @ x[:3, :3]) + np.sum(np.diag(x) ** 2) + np.sum(np.diagonal(x, 1) ** 2) \
        + np.sum(np.diag(x[:, 0]) @ x)


def linalg(x):
    a = x[:3, :3] + 3.0 * np.eye(3)
    return np.sum(np.linalg.inv(a)) + np.sum(np.linalg.solve(a, x[3:6, 0]))


def casts(x):
    return np.sum(np.sinc(x)) + np.sum(x.astype(np.float32) * 2.0) + np.sum(np.atleast_2d(x[:, 0]) ** 2)


FAMILIES = [var_std, mean_square, max_min, norms, products, take, transpose, stack_concat, einsum,
            tensordot, clip_where, cumulative, diff_pad_repeat, diagonals, linalg, casts]


@pytest.mark.parametrize("fn", FAMILIES)
def test_rule_family_gradient_on_dask_is_lazy_and_equal(fn):
    _assert_lazy_and_equal(fn, atol=1e-14)


@pytest.mark.parametrize("fn", [f for f in FAMILIES if f is not take])   # Dask's np.take has no mode=
def test_rule_family_tangent_on_dask_is_lazy_and_equal(fn):
    x = da.from_array(XN, chunks=(4, 3))
    spy = _CountingScheduler()
    with dask.config.set(scheduler=spy):
        value, dot = diffc.jvp(fn, (x,), (x * 0.3 + 0.1,))
    assert isinstance(dot, da.Array)
    assert spy.calls == 0, "differentiating computed a Dask graph"
    _, ref = diffc.jvp(fn, (XN,), (XN * 0.3 + 0.1,))
    np.testing.assert_allclose(dot.compute(scheduler="sync"), ref, rtol=1e-12, atol=1e-14)


def _helper_cases():
    """(helper, NumPy arguments) for rules whose primal Dask cannot compute lazily (det, eigh, sort,
    split, take_along_axis...) or computes differently (cholesky): the helpers themselves dispatch."""
    from rule_helpers import H as R
    rng = np.random.default_rng(3)
    a = rng.random((4, 4)) + 4.0 * np.eye(4)
    s = a @ a.T
    w, v = np.linalg.eigh(s)
    g = rng.random((4, 4))
    x = rng.random((5, 4))
    return [
        (R._det_bar, (1.5, a, np.linalg.det(a))),
        (R._slogdet_bar, ([0.0, 0.7], a)),
        (R._inv_jvp, (a, g, np.linalg.inv(a))),
        (R._cholesky_bar, (g, s, np.linalg.cholesky(s), False)),
        (R._eigh_bar, ([rng.random(4), g], s, (w, v), "L")),
        (R._split_bar, ([0.0, rng.random((2, 4))], [x[:3], x[3:]], 0)),
        (R._take_along_bar, (rng.random((2, 4)), x, rng.integers(0, 5, (2, 4)), 0)),
        (R._take_bar, (rng.random((3, 4)), x, [4, 0, 4], 0, "raise")),
        (R._diag_embed, (rng.random((5, 2)), (5, 4, 3), 1, 1, 2)),
        (R._repeat_bar, (rng.random(10), x[:, 0], [1, 2, 3, 0, 4], None)),
        (R._stacked_bar, (rng.random((5, 3)), [x[:, 0], x[:, 1:3]], "column_stack")),
    ]


@pytest.mark.parametrize("case", range(11))
def test_helpers_of_non_lazy_primals_dispatch(case):
    helper, args = _helper_cases()[case]

    def to_dask(v):
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            return da.from_array(v, chunks=2)
        if isinstance(v, (list, tuple)):
            return type(v)(to_dask(e) for e in v)
        return v
    spy = _CountingScheduler()
    with dask.config.set(scheduler=spy):
        got = helper(*to_dask(args))
    assert spy.calls == 0
    ref = helper(*args)
    got, ref = (list(got), list(ref)) if isinstance(ref, list) else ([got], [ref])
    for gk, rk in zip(got, ref):
        assert isinstance(gk, da.Array)
        np.testing.assert_allclose(gk.compute(scheduler="sync"), rk, rtol=1e-12, atol=1e-14)


def test_rules_that_cannot_dispatch_are_stated():
    """dispatch.py's docstring names every helper non_dispatching() finds (and gives the reason)."""
    from diffc import dispatch
    names = sorted({f.__name__ for f in dispatch.non_dispatching()})
    missing = [n for n in names if f"``{n}``" not in dispatch.__doc__]
    assert not missing, f"helpers that cannot dispatch but are not listed in diffc/dispatch.py: {missing}"
    assert len(names) <= 5


def test_forcing_call_detection():
    from diffc import dispatch
    assert dispatch.forcing_calls("y = np.asarray(v) + np.zeros(n, dtype=f(x))") == \
        ["np.asarray(v)", "np.zeros(n, dtype=f(x))"]
    # like= (NEP 35) converts into x's library, with any constant built inside it
    assert dispatch.forcing_calls("y = np.asarray(np.eye(n), like=x) + np.ones(3, like=x)") == []
    # docstrings and comments are not code
    assert dispatch.forcing_calls('def f(x):\n    """np.zeros(3)"""\n    return x  # np.array(x)\n') == []
