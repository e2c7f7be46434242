"""Derivative rules for SciPy, loaded by `load_builtin_rules` only when SciPy imports.

One module per family: scipy_special (special functions, softmax, logsumexp),
scipy_stats (distributions' logpdf/pdf/cdf/logcdf/sf/logsf, plain and frozen), scipy_stats_more
(logistic, halfnorm, halfcauchy, invgamma, chi2, weibull_min, norm.isf),
scipy_bessel (j0, j1, y0, y1, jv, yv, k0, k1, kv and scaled K),
scipy_linalg (solve, cholesky, lu, expm, ...), scipy_integrate (odeint and
solve_ivp by the adjoint ODE), scipy_signal (convolve/correlate, ndimage
filters) and scipy_more (more special functions, lognorm/uniform, zscore/entropy,
linalg norm/svdvals/block_diag/toeplitz/circulant/lstsq/pinv), scipy_quadrature (simpson,
quad), scipy_transforms (dct/dst and their inverses and n-d forms, savgol_filter) and scipy_interpolate
(interp1d, CubicSpline), scipy_interpolate_more (PchipInterpolator, RegularGridInterpolator, interpn).  diffc imports and works without SciPy.
"""

from . import scipy_special  # noqa: F401
from . import scipy_bessel  # noqa: F401
from . import scipy_stats_more  # noqa: F401  (before scipy_stats, which freezes its distributions)
from . import scipy_stats  # noqa: F401
from . import scipy_linalg  # noqa: F401
from . import scipy_integrate  # noqa: F401
from . import scipy_signal  # noqa: F401
from . import scipy_more  # noqa: F401
from . import scipy_quadrature  # noqa: F401
from . import scipy_transforms  # noqa: F401
from . import scipy_interpolate  # noqa: F401
from . import scipy_interpolate_more  # noqa: F401
