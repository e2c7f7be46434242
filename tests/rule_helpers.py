"""The private helpers of the NumPy rule families (diffc/rules/numpy_rules.py's FAMILIES) in
one namespace, for tests that call a helper directly: ``H._det_bar(...)``."""

from types import SimpleNamespace

from diffc.rules.numpy_rules import FAMILIES


def _helpers():
    found = {}
    for module in FAMILIES:
        for name, obj in vars(module).items():
            if name.startswith("_") and not name.startswith("__") and name != "_":
                assert found.get(name, obj) is obj, f"two helpers called {name}"
                found[name] = obj
    return found


H = SimpleNamespace(**_helpers())
