"""diffc: a source-to-source differentiating compiler for Python and NumPy.

    import diffc
    df = diffc.grad(f)          # reverse mode, generated Python source
    print(diffc.source(f))      # read exactly the code that runs
"""

from .errors import (DiffcError, UnsupportedSyntax, NoDerivativeRule, SourceUnavailable,
                     NonScalarOutput, BadArgument, RuleError, DiffcWarning)
from .api import grad, value_and_grad, vjp, check_grad, from_source
from .entry import source, differentiate
from .checkpoint_runtime import checkpointed
from .forward_api import jvp, jacobian, hessian, hvp
from . import dynamic as _dynamic  # noqa: F401  (registers run-time differentiation of function values)
from . import jit_api  # noqa: F401  (registers the jit= entry points; numba is imported on use)

__version__ = "0.1.0"


def jit(fn, *, cache=False):
    """fn compiled by numba (and the plain functions it calls): the primal to compare
    a ``grad(f, jit=True)`` with.  Needs numba (``pip install 'diffc[jit]'``)."""
    from .jit_compile import jit_primal
    return jit_primal(fn, cache=cache)


def __getattr__(name):
    if name == "jit_stats":
        # one record per numba compilation: name, first_call_s (compile included), file, cache_hits
        from .jit_compile import jit_stats
        return jit_stats
    raise AttributeError(f"module 'diffc' has no attribute {name!r}")


def adjoint(primitive):
    """Register a custom adjoint rule: ``def _(result, result_bar, *params)``."""
    from . import rules
    from .pipeline import ensure_rules
    ensure_rules()
    return rules.adjoint(primitive, user=True)


def tangent(primitive):
    """Register a custom tangent rule: ``def _(result, *params, *param_dots)``."""
    from . import rules
    from .pipeline import ensure_rules
    ensure_rules()
    return rules.tangent(primitive, user=True)


def check_rule(fn, *args, eps=1e-6, tol=None, seed=0, **kwargs):
    """Check the adjoint/tangent rules registered for `fn` at `args` against finite differences.

    Returns a `RuleCheck` (``.adjoint_error``, ``.tangent_error``, ``.error``);
    with ``tol``, a larger error raises RuleError.  See diffc/rule_check.py."""
    from .rule_check import check_rule as _check_rule
    return _check_rule(fn, *args, eps=eps, tol=tol, seed=seed, **kwargs)


__all__ = ["jit", "check_rule", "from_source", "grad", "value_and_grad", "vjp", "source", "check_grad", "differentiate", "checkpointed",
           "jvp", "jacobian", "hessian", "hvp",
           "adjoint", "tangent", "DiffcError", "UnsupportedSyntax", "NoDerivativeRule",
           "SourceUnavailable", "NonScalarOutput", "BadArgument", "RuleError", "DiffcWarning"]
