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


@pytest.mark.parametrize("fn", [elementwise, reductions, shapes, indexing, loop])
def test_dask_gradient_is_lazy_and_equal(fn):
    x = da.from_array(XN, chunks=(4, 3))
    spy = _CountingScheduler()
    with dask.config.set(scheduler=spy):
        g = diffc.grad(fn)(x)
    assert isinstance(g, da.Array)
    assert spy.calls == 0, "differentiating computed a Dask graph"
    np.testing.assert_allclose(g.compute(scheduler="sync"), diffc.grad(fn)(XN), rtol=1e-12)


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


def _variance_loss(x):
    return np.var(x) + np.std(x * 2.0)


def test_helpers_that_force_numpy_are_a_clear_error_on_dask():
    x = da.from_array(np.linspace(0.1, 1.0, 8), chunks=4)
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(_variance_loss)(x)
    assert "_var_bar" in str(info.value) and "dask" in str(info.value)
    # The same function on NumPy arrays is unaffected.
    g = diffc.grad(_variance_loss)(np.linspace(0.1, 1.0, 8))
    assert g.shape == (8,)
