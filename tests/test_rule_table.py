"""The README's table of functions with rules is the one diffc.rules.table computes."""

import os
import subprocess
import sys

import numpy as np

from diffc.rules import table

README = os.path.join(os.path.dirname(__file__), os.pardir, "README.md")


def test_readme_table_is_current():
    """Computed in a fresh interpreter: other tests register user rules in this one."""
    text = open(README, encoding="utf-8").read()
    start, end = text.index(table.START), text.index(table.END) + len(table.END)
    root = os.path.join(os.path.dirname(__file__), os.pardir)
    done = subprocess.run([sys.executable, "-c", "from diffc.rules import table; print(table.readme_section())"],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert text[start:end] == done.stdout.rstrip("\n"), \
        "README is stale: run python -m diffc.rules.table --readme README.md"


def test_table_lists_the_new_families_in_both_modes():
    rows = {name: (rev, fwd, order) for name, rev, fwd, order in table.rows()}
    for name in ("np.fft.fft", "np.fft.irfftn", "np.linalg.svd", "np.linalg.eig", "np.kron", "np.gradient",
                 "np.lib.stride_tricks.sliding_window_view", "sorted", "np.angle"):
        assert rows[name][:2] == (True, True), name
    assert rows["np.fft.fft"][2] >= table.CAP          # linear: rules that call each other
    assert rows["np.linalg.svd"][2] >= 2               # helpers diffc reads as code (second order)


def test_order_is_computed_not_declared():
    """A primitive whose rule calls a helper with no rule has first order only; one whose
    helpers diffc differentiates by reading their bodies gets the order of what they call."""
    orders = table.orders()
    assert orders[zip] == 1
    assert orders[np.linalg.pinv] >= 2
