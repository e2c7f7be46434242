"""Gradient of a loss over a chunked data set, computed by a Dask cluster.

diffc's generated gradient only calls NumPy functions, so on Dask arrays it
builds a lazy task graph (nothing runs while differentiating); `.compute()`
then evaluates it on the cluster's worker processes chunk by chunk.  The same
code runs on a real cluster: replace LocalCluster by the scheduler's address.

    pip install -e '.[dask]' && python examples/dask_gradient.py
"""

import numpy as np

import diffc


def loss(w, b, X, y):
    """Mean squared error of a one-layer tanh model."""
    pred = np.tanh(X @ w + b)
    r = pred - y
    return np.sum(r * r) / X.shape[0]


def main(n_rows=200_000, n_features=20, chunk_rows=25_000):
    import dask.array as da
    from dask.distributed import Client, LocalCluster

    rng = np.random.default_rng(0)
    w_true = rng.normal(size=n_features)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        # The data set lives on the workers, in chunks of rows.
        X = da.random.default_rng(1).normal(size=(n_rows, n_features), chunks=(chunk_rows, n_features))
        y = np.tanh(X @ w_true) + 0.01 * da.random.default_rng(2).normal(size=n_rows, chunks=chunk_rows)
        X, y = client.persist([X, y])
        w, b = np.zeros(n_features), 0.0
        grad = diffc.grad(loss, wrt=(0, 1))
        for step in range(5):
            gw, gb = grad(da.from_array(w), b, X, y)     # lazy: a graph over X's chunks
            gw, gb = client.compute([gw, gb], sync=True)
            w, b = w - 1.0 * gw, b - 1.0 * float(gb)
            print(f"step {step}: |grad w| = {np.linalg.norm(gw):.4f}")
        # The distributed gradient equals NumPy's on the gathered data.
        Xn, yn = client.compute([X, y], sync=True)
        gw_np, _ = diffc.grad(loss, wrt=(0, 1))(w, b, Xn, yn)
        gw_dask, _ = client.compute(list(grad(da.from_array(w), b, X, y)), sync=True)
        print("max |dask - numpy| =", float(np.max(np.abs(gw_dask - gw_np))))
        return gw_dask, gw_np


if __name__ == "__main__":
    main()
