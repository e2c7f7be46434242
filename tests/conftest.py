import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def pytest_addoption(parser):
    """--fuzz-n / --fuzz-start: the budget of the large fuzzer run (pytest -m fuzz_large)."""
    parser.addoption("--fuzz-n", type=int, default=2000, help="programs for the fuzz_large run")
    parser.addoption("--fuzz-start", type=int, default=0, help="first seed of the fuzz_large run")
