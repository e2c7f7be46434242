"""Memory and time of a long simulation loop: plain taping vs checkpointing (issue 8).

    python benchmarks/checkpoint_memory.py [--steps 100000] [--size 100] [--budgets True,50,10]

The loop is a damped pendulum chain integrated with semi-implicit Euler; its
state is two arrays of `--size` floats.  Time is the best of `--repeat` runs
without tracing; memory is the peak of tracemalloc (NumPy reports its buffers
to it) during one separate run.  Gradients are checked to agree.
"""

import argparse
import time
import tracemalloc

import numpy as np

import diffc


def simulation(x, n):
    s = x
    v = x * 0.0
    for t in range(n):
        a = -np.sin(s) - 0.1 * v
        v = v + 0.01 * a
        s = s + 0.01 * v
    return np.sum(s * s)


def measure(fn, args, repeat):
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    try:
        fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, best, peak


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--budgets", default="True,100,20")
    parser.add_argument("--repeat", type=int, default=1)
    opts = parser.parse_args(argv)
    x = np.linspace(0.0, 1.0, opts.size)
    args = (x, opts.steps)
    primal_time = measure(simulation, args, opts.repeat)[1]
    print(f"{opts.steps} steps, state 2 x {opts.size} floats; primal {primal_time:.3f} s")
    print(f"{'variant':<22}{'time (s)':>10}{'x primal':>10}{'peak memory':>16}")
    reference = None
    for label in ["plain"] + opts.budgets.split(","):
        budget = None if label == "plain" else (True if label == "True" else int(label))
        g = diffc.grad(simulation, checkpoint=budget)
        g(x, 3)                                            # compile outside the measurement
        result, seconds, peak = measure(g, args, opts.repeat)
        if reference is None:
            reference = result
        else:
            np.testing.assert_allclose(result, reference, rtol=1e-10, atol=1e-12)
        name = label if label == "plain" else f"checkpoint={label}"
        print(f"{name:<22}{seconds:>10.3f}{seconds / primal_time:>10.2f}{peak / 2**20:>13.2f} MB")


if __name__ == "__main__":
    main()
