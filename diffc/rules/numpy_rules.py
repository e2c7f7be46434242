"""Derivative rules for NumPy functions, ufuncs, array methods and attributes: the index.

Input: nothing.  Output: every NumPy rule registered, by importing the family modules
below, each of which defines its rules' helpers beside their first- and higher-order
rules:

  shared.py            helpers several families call (public names; see its docstring)
  elementwise.py       ufuncs of one and two arguments
  piecewise.py         where, clip, select, heaviside
  reductions.py        sum, mean, prod, max/min, var, std, cumsum, cumprod
  nan_reductions.py    nansum, nanmean, nanprod, nanmax, nanmin, nanvar, nanstd
  python_implementations.py  math.prod, np.average, np.polyval, matrix_power, itertools
  numpy_implementations.py   ediff1d, diagflat, multi_dot, correlate, meshgrid, block, piecewise,
                             cov, corrcoef, vander, ldexp, copysign, unique, geomspace,
                             apply_along_axis, nancumsum/nancumprod, polyfit
  numpy_implementations_more.py  linalg.cond, linalg.vector_norm/matrix_norm, nanmedian,
                             nanquantile, nanpercentile
  order_statistics.py  median, quantile, percentile, ptp, trapezoid, interp, convolve, functools.reduce
  norms.py             np.linalg.norm
  shapes.py            reshape, transpose, concatenate/stack/split, tile, repeat, flip, roll
  padding.py           np.pad, np.diff (with prepend=/append=)
  indexing.py          take, take_along_axis, item, sort, partition, diag, trace, triu/tril
  products.py          dot, outer, inner, vdot, tensordot, einsum, kron, cross
  linalg.py            inv, solve, det, slogdet
  linalg_symmetric.py  cholesky, eigh, eigvalsh, lstsq
  creation.py          full, array, copy, astype, linspace, arange, logspace; nondiff functions

(np.matmul shares the ``@`` operator's rules in operators.py; svd, pinv, eig in
linalg_decomp_rules.py; FFTs and other linear maps in linear_rules.py.)

Every rule is a template (see `diffc.template`): its body is straight-line
code that the compiler inlines, with the parameters replaced by the call's
operands.  Anything that needs a loop or a branch lives in a private
module-level helper (``_name``) written in plain NumPy; helpers use only numpy,
math, other helpers of their module, shared.py and `diffc.runtime`, so ``diffc export``
can copy them into a standalone module.

Conventions (shared with the compiler):

* adjoint rule ``(result, result_bar, <numpy's parameters in numpy's order>)``
  returns one contribution per leading differentiable parameter, shaped like
  that parameter (`ListBar` for a list/tuple parameter, ``None`` for none);
* tangent rule ``(result, <numpy's parameters>, <p>_dot...)`` returns a
  sum/difference of terms, each term mentioning exactly one ``*_dot`` name;
  a tangent may be smaller than the result when it broadcasts to it, so every
  rule that is not elementwise first widens its incoming tangent with
  `_full`;
* rules with a ``*vararg`` (``np.einsum``, ``np.atleast_1d``, the method form
  of ``x.reshape(2, 3)``/``x.transpose(1, 0)``): in a tangent rule the tangents
  of the vararg arrive as ONE tuple parameter ``<vararg>_dot`` placed before
  the ``*vararg`` (``(result, subscripts, operands_dot, *operands)``), with a
  zero (``0.0``) for a constant operand; an adjoint rule returns a helper's
  tuple with one entry per parameter (``None`` for non-differentiable ones);
* a primitive whose result is a tuple or list (``np.split``,
  ``np.linalg.slogdet``, ``eigh``, ``lstsq``) receives ``result_bar`` as a
  sequence whose entries may be ``0.0`` (zero), and its tangent is a `ListBar`.

Subgradients: ``abs``/``sign`` use 0 at 0; ``max``/``min``/``amax``/``maximum``
and the ``inf``-norms split the gradient evenly among tied elements; ``clip``
passes the gradient to ``a`` on the closed interval ``[a_min, a_max]``.


Higher order
------------
Gradient code calls the adjoint helpers of the rule library (``_var_bar``,
``_dot_bar_a``, ``_cumsum_bar``, ``_norm_bar``, ``_inv_bar``...; see
the family modules, builtins_rules.py, operators.py) and tangent code calls their
``_*_jvp`` / ``_*_dot`` helpers.  ``diffc.hessian`` (forward over reverse),
``jacobian(grad(f))`` (reverse over reverse) and ``grad(jacobian(f,
mode="forward"))`` (reverse over forward) differentiate that generated code
again, so each module gives its helpers an adjoint rule and a tangent rule,
or registers them ``nondiff`` when their result carries no derivative
(weights, permutations, masks, axes, shapes, selectors: piecewise constant).

Invariant: every helper generated code calls is differentiable again or
nondiff; a helper without rules makes diffc raise NoDerivativeRule naming it
(never a silently wrong derivative).  Two traps the rules below avoid:

* a tangent rule must list a ``<p>_dot`` for EVERY parameter that can carry a
  derivative (the forward pass silently treats an unlisted active argument
  as constant), and an adjoint rule must return a real contribution for each
  of them (``None`` means "no derivative"): ``_var_bar(g, a, ...)`` is
  bilinear in ``g`` and ``a``, ``_dot_bar_a(g, a, b)`` depends on ``g`` and
  ``b``, ``_norm_bar(g, x, ..., result)`` on ``g``, ``x`` and ``result``;
* the rules' own parameter names never have the form ``<other param>_dot``
  unless they are that parameter's tangent, so a helper parameter called
  ``a_dot`` is renamed (``d``) in the rules.

Most adjoint helpers are linear in the incoming adjoint ``g``: their tangent
in ``g`` is the helper applied to ``g_dot`` (registered in one line,
``linear(_helper)``, when the other arguments carry no derivative) and their adjoint in ``g`` is the
transposed helper (usually the primal operation or its ``_jvp`` helper).
Reverse over forward differentiates the ``_*_jvp``/``_*_dot`` helpers of
forward code (``_cumprod_jvp``, ``_det_jvp``, ``_slogdet_jvp``, ``_solve_dot_a``,
``_solve_dot_b``, ``ListBar`` of np.split's tangent, ...): their rules sit with
the function they belong to, as do those of ``_cholesky_*``, ``_eigh_*``, ``_eigvalsh_*``
(derivatives through the eigen-decomposition, distinct eigenvalues),
``_lstsq_*`` (pseudo-inverse of constant rank and thin SVD with distinct
singular values; adjoints assembled as transposes of the tangents, exact,
O(size) tangent evaluations) and ``_atleast_*``.  Third derivatives differentiate
the private helpers of those rules once more: the families give rules to
those of prod, norm, inv, det, slogdet, solve, power, sinc, atleast, cumprod and
einsum (``_prod_hvp``, ``_norm_bar_adj``, ``_inv_bar_adj_r``, ...).  The helpers of
the cholesky, eigh and lstsq rules (``_cholesky_bar_adj``, ``_eigh_bar_adj``,
``_lstsq_bar_adj``...) and the helpers of the third-order rules themselves have
none: a derivative through them raises NoDerivativeRule naming the helper.
"""

# Import order is registration order; no two families register the same primitive.
from . import shared, elementwise, piecewise, reductions, norms, shapes, padding, indexing  # noqa: F401
from . import products, linalg, linalg_symmetric, creation, nan_reductions, order_statistics  # noqa: F401
from . import python_implementations, numpy_implementations, numpy_implementations_more  # noqa: F401
from . import numpy_polynomials  # noqa: F401

# The family modules, in registration order (dispatch.py scans their helpers).
FAMILIES = (shared, elementwise, piecewise, reductions, norms, shapes, padding, indexing, products, linalg,
            linalg_symmetric, creation, nan_reductions, order_statistics, python_implementations,
            numpy_implementations, numpy_implementations_more)
