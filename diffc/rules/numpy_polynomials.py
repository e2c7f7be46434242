"""numpy.polynomial written out for diffc to read: the value functions (polyval, chebval,
legval, hermval, hermeval, lagval) and the series classes (Polynomial, Chebyshev, Legendre,
Hermite, HermiteE, Laguerre) built inside differentiated code.

Input: nothing (imported by rules/numpy_rules.py).  Output: implementations registered with
`implemented_by`, so ``P.polyval(x, c)``, ``chebval(x, c)`` and ``Chebyshev(c)(x)`` are
differentiated in the coefficients and in the points, in every mode and order (diffc reads
the recurrences below like user code: Horner's rule for power series, Clenshaw's for the
others).  Values equal NumPy's (``tensor=`` and coefficient arrays of any rank included).

A series object's ``deriv(m)`` and ``integ(m, k=0, lbnd=0)`` are linear maps of the
coefficients, computed once by NumPy on the identity matrix and applied with ``@``; other
methods (roots, fit, arithmetic between series) are refused when differentiated.  A series
object made outside the differentiated code (``p = Polynomial.fit(...)`` at module level, an
argument) is a constant: its call is `series_value`, whose derivative in the points is
``p.deriv()`` there (`OBJECT_CALLS` and `runtime_calls.CALLABLE_VALUES` hooks).
"""

import numpy as np
from numpy.polynomial import chebyshev as npc, hermite as nph, hermite_e as nphe, laguerre as npl
from numpy.polynomial import legendre as npleg, polynomial as npp

from . import OBJECT_CALLS, adjoint, implemented_by, nondiff, tangent
from .. import runtime_calls
from ..errors import NotDifferentiable


def _prepared(x, c, tensor):
    """NumPy's argument handling: c at least 1-d and float; with tensor=True and an array x,
    c gets x.ndim trailing axes so each coefficient column is evaluated at every x."""
    c = np.asarray(c) + 0.0
    if np.ndim(c) == 0:
        c = np.reshape(c, (1,))
    if isinstance(x, (tuple, list)):
        x = np.asarray(x)
    if isinstance(x, np.ndarray) and tensor:
        c = np.reshape(c, np.shape(c) + (1,) * np.ndim(x))
    return x, c


_prepared.__diffc_transparent__ = True



@implemented_by(npp.polyval)
def polyval(x, c, tensor=True):
    x, c = _prepared(x, c, tensor)
    total = c[-1] + x * 0
    for i in range(2, len(c) + 1):
        total = c[-i] + total * x
    return total


@implemented_by(npc.chebval)
def chebval(x, c, tensor=True):
    x, c = _prepared(x, c, tensor)
    if len(c) == 1:
        return c[0] + x * 0
    c0 = c[-2]
    c1 = c[-1]
    for i in range(3, len(c) + 1):
        previous = c0
        c0 = c[-i] - c1
        c1 = previous + c1 * (2 * x)
    return c0 + c1 * x


@implemented_by(npleg.legval)
def legval(x, c, tensor=True):
    x, c = _prepared(x, c, tensor)
    if len(c) == 1:
        return c[0] + x * 0
    c0 = c[-2]
    c1 = c[-1]
    nd = len(c)
    for i in range(3, len(c) + 1):
        previous = c0
        nd = nd - 1
        c0 = c[-i] - c1 * ((nd - 1) / nd)
        c1 = previous + c1 * x * ((2 * nd - 1) / nd)
    return c0 + c1 * x


@implemented_by(nph.hermval)
def hermval(x, c, tensor=True):
    x, c = _prepared(x, c, tensor)
    if len(c) == 1:
        return c[0] + x * 0
    c0 = c[-2]
    c1 = c[-1]
    nd = len(c)
    for i in range(3, len(c) + 1):
        previous = c0
        nd = nd - 1
        c0 = c[-i] - c1 * (2 * (nd - 1))
        c1 = previous + c1 * (2 * x)
    return c0 + c1 * (2 * x)


@implemented_by(nphe.hermeval)
def hermeval(x, c, tensor=True):
    x, c = _prepared(x, c, tensor)
    if len(c) == 1:
        return c[0] + x * 0
    c0 = c[-2]
    c1 = c[-1]
    nd = len(c)
    for i in range(3, len(c) + 1):
        previous = c0
        nd = nd - 1
        c0 = c[-i] - c1 * (nd - 1)
        c1 = previous + c1 * x
    return c0 + c1 * x


@implemented_by(npl.lagval)
def lagval(x, c, tensor=True):
    x, c = _prepared(x, c, tensor)
    if len(c) == 1:
        return c[0] + x * 0
    c0 = c[-2]
    c1 = c[-1]
    nd = len(c)
    for i in range(3, len(c) + 1):
        previous = c0
        nd = nd - 1
        c0 = c[-i] - c1 * ((nd - 1) / nd)
        c1 = previous + c1 * ((2 * nd - 1) - x) / nd
    return c0 + c1 * (1 - x)


# ------------------------------------------------------------------------------ series objects

# kind name -> (NumPy's class, value function, derivative and integral of coefficients)
_KINDS = {
    "power": (npp.Polynomial, polyval, npp.polyder, npp.polyint),
    "chebyshev": (npc.Chebyshev, chebval, npc.chebder, npc.chebint),
    "legendre": (npleg.Legendre, legval, npleg.legder, npleg.legint),
    "hermite": (nph.Hermite, hermval, nph.hermder, nph.hermint),
    "hermite_e": (nphe.HermiteE, hermeval, nphe.hermeder, nphe.hermeint),
    "laguerre": (npl.Laguerre, lagval, npl.lagder, npl.lagint),
}


def _map_parameters(kind, domain, window):
    """(offset, scale) of NumPy's map from the domain onto the window (constants)."""
    cls = _KINDS[kind][0]
    domain = cls.domain if domain is None else np.asarray(domain, dtype=float)
    window = cls.window if window is None else np.asarray(window, dtype=float)
    return np.polynomial.polyutils.mapparms(domain, window)


def _coefficient_map(kind, operation, n, m, lbnd, scl_of):
    """The matrix of a linear operation on n coefficients (NumPy's own function applied to
    the identity's columns): derivative (m times) or integral (m times, zero constants)."""
    _, _, der, integ = _KINDS[kind]
    eye = np.eye(n)
    if operation == "deriv":
        return der(eye, m, scl_of)
    return integ(eye, m, [], lbnd, scl_of)


nondiff(_map_parameters, _coefficient_map)


class Series:
    """A numpy.polynomial series (kind: power, chebyshev, ...) as diffc reads it: the
    coefficients and NumPy's affine map of the domain onto the window."""

    __diffc_transparent__ = True

    def __init__(self, kind, coef, domain=None, window=None, symbol="x"):
        self.kind = kind
        self.coef = np.reshape(np.asarray(coef) + 0.0, (-1,))
        self.domain = domain
        self.window = window
        self.symbol = symbol
        self.offset, self.scale = _map_parameters(kind, domain, window)

    def __call__(self, arg):
        return _evaluate(self.kind, arg, self.offset, self.scale, self.coef)

    def degree(self):
        return len(self.coef) - 1

    def deriv(self, m=1):
        # d/dx of p(offset + scale x): NumPy passes the scale to its derivative function
        matrix = _coefficient_map(self.kind, "deriv", len(self.coef), m, 0, self.scale)
        return Series(self.kind, matrix @ self.coef, self.domain, self.window, self.symbol)

    def integ(self, m=1, k=(), lbnd=None):
        if np.size(k) != 0 and np.any(np.asarray(k) != 0):
            raise NotDifferentiable("diffc: a series' integ(k=...) with nonzero constants is not differentiated; "
                                    "add the constants to the result")
        bound = 0 if lbnd is None else lbnd
        start = self.offset + self.scale * bound
        matrix = _coefficient_map(self.kind, "integ", len(self.coef), m, start, 1.0 / self.scale)
        return Series(self.kind, matrix @ self.coef, self.domain, self.window, self.symbol)


def _evaluate(kind, arg, offset, scale, coef):
    x = arg
    if isinstance(arg, (tuple, list)):
        x = np.asarray(arg)
    x = offset + scale * x
    if kind == "power":
        return polyval(x, coef)
    if kind == "chebyshev":
        return chebval(x, coef)
    if kind == "legendre":
        return legval(x, coef)
    if kind == "hermite":
        return hermval(x, coef)
    if kind == "hermite_e":
        return hermeval(x, coef)
    return lagval(x, coef)


_evaluate.__diffc_transparent__ = True


@implemented_by(npp.Polynomial)
def polynomial(coef, domain=None, window=None, symbol="x"):
    return Series("power", coef, domain, window, symbol)


@implemented_by(npc.Chebyshev)
def chebyshev(coef, domain=None, window=None, symbol="x"):
    return Series("chebyshev", coef, domain, window, symbol)


@implemented_by(npleg.Legendre)
def legendre(coef, domain=None, window=None, symbol="x"):
    return Series("legendre", coef, domain, window, symbol)


@implemented_by(nph.Hermite)
def hermite(coef, domain=None, window=None, symbol="x"):
    return Series("hermite", coef, domain, window, symbol)


@implemented_by(nphe.HermiteE)
def hermite_e(coef, domain=None, window=None, symbol="x"):
    return Series("hermite_e", coef, domain, window, symbol)


@implemented_by(npl.Laguerre)
def laguerre(coef, domain=None, window=None, symbol="x"):
    return Series("laguerre", coef, domain, window, symbol)


for _factory in (polynomial, chebyshev, legendre, hermite, hermite_e, laguerre):
    _factory.__diffc_builds_object__ = True       # (rules.resolve_call: the call itself is rewritten)
for _helper in (Series.__init__, Series.__call__, Series.degree, Series.deriv, Series.integ):
    _helper.__diffc_transparent__ = True


# ------------------------------------------------------- series objects made outside (constants)

def series_value(series, x, order):
    """The order-th derivative of NumPy's series object at x (order 0: its value)."""
    if order == 0:
        return series(x)
    return series.deriv(order)(x)


@adjoint(series_value)
def _(result, result_bar, series, x, order):
    return None, _unbroadcast_like(result_bar * series_value(series, x, order + 1), x), None


@tangent(series_value)
def _(result, series, x, order, series_dot=None, x_dot=0.0, order_dot=None):
    return series_value(series, x, order + 1) * x_dot


def _unbroadcast_like(g, x):
    return np.reshape(g, np.shape(x)) if np.ndim(x) else np.sum(g)


_unbroadcast_like.__diffc_transparent__ = True


def series_call(x, *, series):
    return series_value(series, x, 0)


series_call.__diffc_transparent__ = True

_SERIES_CLASSES = tuple(entry[0] for entry in _KINDS.values())


def _constant_series(obj, method):
    """OBJECT_CALLS hook: ``p(x)`` for a NumPy series object known when compiling."""
    if method == "__call__" and isinstance(obj, _SERIES_CLASSES):
        return series_call, (), {"series": obj}
    return None


def _series_value_hook(f):
    """CALLABLE_VALUES hook: a NumPy series object met as a value at run time."""
    if isinstance(f, _SERIES_CLASSES):
        return runtime_calls.partial_value(series_call, (), {"series": f})
    return None


OBJECT_CALLS.append(_constant_series)
runtime_calls.CALLABLE_VALUES.append(_series_value_hook)
