"""Complex numbers: the convention, and the helpers of rules that are not holomorphic.

Input: nothing (imported by `diffc.pipeline.load_builtin_rules`).  Output: rules for
np.angle, and helpers that numpy_rules/builtins_rules call for abs, real and imag,
each with its own higher-order rules.

The convention is JAX's.  A complex number is a pair of reals, a derivative is
the derivative of the underlying real-linear map, and a cotangent ``ct`` pairs
with a tangent ``t`` as ``Re(sum(ct * t))`` (no conjugate).  Consequences:

* the adjoint of a holomorphic operation with derivative ``f'`` is
  ``ct * f'`` and of a complex-linear map with matrix ``M`` is ``M^T ct``, so
  every rule written for real numbers with plain products and transposes
  (``exp``, ``log``, ``*``, ``@``, ``einsum``, ``fft``...) is already right;
* ``grad`` of a real-valued ``f`` at complex ``z = x + iy`` is
  ``df/dx - i df/dy`` (``grad(lambda z: abs(z)**2)(z) == 2 * conj(z)``);
* the cotangent of a real value is real.  Generated code may carry a complex
  adjoint for a real intermediate (``x * 1j`` sends ``ct * 1j`` back to ``x``);
  only its real part is meaningful, so every rule whose result is real and
  whose operand may be complex (abs, real, imag, angle, norm) reads the real
  part of its incoming adjoint (`real_cotangent`), and the gradient returned for
  a real argument is the real part (runtime.finalize, runtime.acc_item).  Real
  operations between carry the imaginary part along linearly with real
  coefficients, so the real part stays exact.
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from .. import effects
from ..checks import kink_sign
from ..errors import NotDifferentiable
from ..runtime import ListBar, unbroadcast

nondiff(np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal)


def real_if_real(g, x):
    """g, or its real part when x is real: the cotangent of a real input is real."""
    if np.iscomplexobj(g) and not np.iscomplexobj(x):
        return np.real(g).copy() if isinstance(g, np.ndarray) else np.real(g)
    return g


def real_cotangent(g):
    """The real part of g: the adjoint of a real result (only the real part of an adjoint
    that arrives complex is meaningful); g itself when it is real (no copy)."""
    if np.iscomplexobj(g):
        return np.real(g)
    return g


def no_derivative(d, what):
    """0.0 for the zero tangent d; a tangent that is not zero has no rule: refuse."""
    if d is None or (np.ndim(d) == 0 and not isinstance(d, np.ndarray) and d == 0):
        return 0.0
    raise NotDifferentiable(f"diffc: no derivative of {what}")


nondiff(no_derivative)


def abs_slope(x):
    """The adjoint factor of |x|: sign(x) for real x (0 at 0, warning there), conj(x)/|x|
    for complex x (d|x| = Re(conj(x)/|x| * dx))."""
    if np.iscomplexobj(x):
        r = np.abs(x)
        return np.conj(x) / np.where(r == 0, 1.0, r)
    return kink_sign(x)


# abs_slope warns at the kink (kink_sign): never dropped or moved; real_cotangent is pure
effects.declare(abs_slope, facts=(effects.EFFECTFUL,))
effects.declare(real_cotangent, real_if_real, facts=(effects.DROPPABLE,))
effects.declare(real_cotangent, facts=(effects.FLOAT_PRESERVING,))     # g itself for a float g
effects.declare(abs_slope, facts=(effects.NUMPY_RESULT,))


linear(real_if_real)


@adjoint(real_if_real)
def _(result, result_bar, g, x):
    return real_if_real(result_bar, g), None


linear(real_cotangent)


@adjoint(real_cotangent)
def _(result, result_bar, g):
    return real_cotangent(result_bar)


# c = conj(z)/|z| has dc = (conj(t) - c Re(c t)) / |z|, and the transpose
# z_bar = (conj(c_bar) - c Re(c_bar c)) / |z|; for real x the slope is piecewise constant
@tangent(abs_slope)
def _(result, x, x_dot):
    return (np.conj(x_dot) - result * np.real(result * x_dot)) / np.abs(x) if np.iscomplexobj(x) \
        else 0.0 * x_dot


@adjoint(abs_slope)
def _(result, result_bar, x):
    return unbroadcast((np.conj(result_bar) - result * np.real(result_bar * result)) / np.abs(x), x) \
        if np.iscomplexobj(x) else 0.0 * result_bar


def abs_squared(x):
    """|x| ** 2, for `abs(x) ** 2` (transform/smooth_forms.py): smooth at 0, where the
    chain rule through |x| has no slope (real x: 0 there, second derivative 0 not 2;
    complex x: NaN)."""
    return np.abs(x) ** 2


# d|x|^2 = 2 Re(conj(x) dx): the adjoint factor is 2 conj(x) (2x for real x)
@adjoint(abs_squared)
def _(result, result_bar, x):
    return unbroadcast(real_cotangent(result_bar) * 2.0 * np.conj(x), x)


@tangent(abs_squared)
def _(result, x, x_dot):
    return real_if_real(np.real(np.conj(x) * x_dot) * 2.0, result)


# angle(z) = atan2(Im z, Re z): d angle = Im(conj(z) t) / |z|^2 = Re(-1j conj(z) t) / |z|^2;
# piecewise constant (0 or pi) for real x
@adjoint(np.angle)
def _(result, result_bar, z, deg=False):
    return real_if_real(real_cotangent(result_bar) * (-1j) * np.conj(z) / (np.abs(z) ** 2)
                        * (np.pi / 180.0 if deg else 1.0), z) if np.iscomplexobj(z) \
        else 0.0 * np.real(z)


@tangent(np.angle)
def _(result, z, deg=False, z_dot=None):
    return np.real(-1j * np.conj(z) * z_dot) / (np.abs(z) ** 2) * (np.pi / 180.0 if deg else 1.0) \
        if np.iscomplexobj(z) else 0.0 * z_dot


# ------------------------------------------------------------------ cholesky of complex matrices
# A = L L^H (Hermitian A, read from one triangle with its diagonal taken as real; L has a real
# positive diagonal).  Tangent: dL = L Phi(L^-1 dA L^-H), Phi = lower triangle, half diagonal.
# Adjoint, with G = conj(ct) the gradient for the Hermitian inner product (the pairing is
# Re(sum(ct * t))): S = L^-H Phi(L^H G) L^-1, and the gradient of the read lower triangle is
# tril(S + S^H, -1) + Re(diag(S)); its conj is the adjoint.  upper=True reads the upper
# triangle and returns U = L^H: the same through B = A^H.  numpy_rules' cholesky rules call
# these for complex matrices; they are transparent (second order by diffc reading them).

def _conj_t(x):
    return np.conj(np.swapaxes(x, -1, -2))


def _phi_half(x):
    """Lower triangle of x with the diagonal halved (its real part: a real diagonal)."""
    n = np.shape(x)[-1]
    return np.tril(x, -1) + 0.5 * np.real(np.diagonal(x, axis1=-2, axis2=-1))[..., None, :] * np.eye(n)


def _cholesky_lower_bar(ct, lower):
    n = np.shape(lower)[-1]
    linv = np.linalg.inv(lower)
    s = _conj_t(linv) @ _phi_half(_conj_t(lower) @ np.conj(ct)) @ linv
    grad = np.tril(s + _conj_t(s), -1) + np.real(np.diagonal(s, axis1=-2, axis2=-1))[..., None, :] * np.eye(n)
    return np.conj(grad)


def _cholesky_lower_dot(d, lower):
    n = np.shape(lower)[-1]
    part = np.tril(d, -1)
    da = part + _conj_t(part) + np.real(np.diagonal(d, axis1=-2, axis2=-1))[..., None, :] * np.eye(n)
    linv = np.linalg.inv(lower)
    return lower @ _phi_half(linv @ da @ _conj_t(linv))


def cholesky_bar_complex(g, a, result, upper):
    """Adjoint of np.linalg.cholesky(a, upper) for a complex (Hermitian) a."""
    if upper:
        # U = L^H with L the factor of B = A^H read from its lower triangle
        return _conj_t(_cholesky_lower_bar(_conj_t(g), _conj_t(result)))
    return _cholesky_lower_bar(g, result)


def cholesky_jvp_complex(a, a_dot, result, upper):
    """Tangent of np.linalg.cholesky(a, upper) for a complex (Hermitian) a."""
    d = a_dot * np.ones(np.shape(a))
    if upper:
        return _conj_t(_cholesky_lower_dot(_conj_t(d), _conj_t(result)))
    return _cholesky_lower_dot(d, result)


# ------------------------------------------------------------------ eigh of complex Hermitian matrices
# A = V diag(w) V^H, read from one triangle (the diagonal taken as real).  With M = V^H dA V:
# dw = Re diag(M) and dV = V (F o M) + V diag(i dphi), F[i, j] = 1 / (w_j - w_i) (0 on the
# diagonal and between equal eigenvalues), where dphi keeps LAPACK's phase: zheevd returns the
# first row of V real for UPLO="L" (the last row for "U": zhetrd's reflectors leave that row
# alone), checked on the result.  Adjoint: the phase term's transpose adds -i Im(c_k) / V[r, k]
# to row r of gV (c = diag(V^T gV)), then G = conj(V) (diag(gw) + F o (V^T gV)) V^T (the
# pairing Re(sum(ct * t))), read back through the triangle.  Where the anchor row has an
# entry too small to fix the phase, reverse mode accepts only a loss free of the phases and
# forward mode refuses.  The helpers are transparent: diffc differentiates their bodies.

def _real_diag(x):
    n = np.shape(x)[-1]
    return np.real(np.diagonal(x, axis1=-2, axis2=-1))[..., None, :] * np.eye(n)


def _hermitian_from(x, lower):
    part = np.tril(x, -1) if lower else np.triu(x, 1)
    return part + _conj_t(part) + _real_diag(x)


def _hermitian_read(G, lower):
    """The adjoint of _hermitian_from: strict triangle G + G^H, diagonal Re(G)."""
    S = G + _conj_t(G)
    return (np.tril(S, -1) if lower else np.triu(S, 1)) + _real_diag(G)


def _distinct(w):
    diff = w[..., None, :] - w[..., :, None]
    scale = np.max(np.abs(w), axis=-1, keepdims=True)[..., None] if w.size else 1.0
    return np.abs(diff) > 1e-10 * np.maximum(scale, 1e-300)


def _hermitian_gaps(w):
    keep = _distinct(w)
    diff = w[..., None, :] - w[..., :, None]
    return np.where(keep, 1.0 / np.where(keep, diff, 1.0), 0.0)


def _reads_lower(UPLO):
    return UPLO.upper() == "L"


def _anchor_row(lower, n):
    return 0 if lower else n - 1


def _phase_anchored(V, lower):
    """Whether LAPACK's anchor row of V is real (refused otherwise) and no entry of it is small."""
    row = V[..., _anchor_row(lower, np.shape(V)[-1]), :]
    if np.any(np.abs(np.imag(row)) > 1e-10):
        raise NotDifferentiable("diffc: the derivative of complex eigenvectors depends on their phase, "
                                "and this eigh does not fix it as LAPACK does")
    return not np.any(np.abs(row) < 1e-6)


def _check_eigh_phase_free(c, gV):
    if np.any(np.abs(np.imag(c)) > 1e-8 * max(1.0, float(np.max(np.abs(gV))))):
        raise NotDifferentiable("diffc: the function depends on the phase of complex eigenvectors, which "
                                "is not fixed at this matrix (an entry of the row LAPACK makes real is "
                                "about 0): its derivative is not defined (use |V|, V diag(.) V^H, ...)")


effects.declare(_check_eigh_phase_free, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))   # (never dropped)


def _no_cotangent(v):
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v == 0)


def eigh_bar_complex(result_bar, a, result, UPLO):
    """Adjoint of np.linalg.eigh in a complex Hermitian a."""
    w, V = result[0], result[1]
    lower = _reads_lower(UPLO)
    n = np.shape(V)[-1]
    gw = result_bar[0]
    gV = result_bar[1] if len(result_bar) > 1 else 0.0
    inner = np.zeros(np.shape(V))
    if not _no_cotangent(gw):
        inner = inner + real_cotangent(np.asarray(gw))[..., None, :] * np.eye(n)
    if not _no_cotangent(gV):
        gV = gV * np.ones(np.shape(V))
        c = np.diagonal(np.swapaxes(V, -1, -2) @ gV, axis1=-2, axis2=-1)
        if _phase_anchored(V, lower):
            row = (np.arange(n) == _anchor_row(lower, n))[:, None]
            gV = gV + row * (-1j * np.imag(c) / np.real(V[..., _anchor_row(lower, n), :]))[..., None, :]
        else:
            _check_eigh_phase_free(c, gV)
        inner = inner + _hermitian_gaps(w) * (np.swapaxes(V, -1, -2) @ gV)
    return _hermitian_read(np.conj(V) @ inner @ np.swapaxes(V, -1, -2), lower)


def eigh_jvp_complex(a, a_dot, result, UPLO):
    """Tangent of np.linalg.eigh at a complex Hermitian a (LAPACK's phase)."""
    w, V = result[0], result[1]
    lower = _reads_lower(UPLO)
    r = _anchor_row(lower, np.shape(V)[-1])
    M = _conj_t(V) @ _hermitian_from(a_dot * np.ones(np.shape(a)), lower) @ V
    dV = V @ (_hermitian_gaps(w) * M)
    if not _phase_anchored(V, lower):
        raise NotDifferentiable("diffc: the forward-mode derivative of complex eigenvectors depends on "
                                "their phase, which is not fixed at this matrix (an entry of the row "
                                "LAPACK makes real is about 0); use reverse mode (grad/vjp) or eigvalsh")
    dV = dV + V * (1j * (-np.imag(dV[..., r, :]) / np.real(V[..., r, :])))[..., None, :]
    return ListBar([np.real(np.diagonal(M, axis1=-2, axis2=-1)), dV])


def eigvalsh_bar_complex(g, a, UPLO):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    return eigh_bar_complex([g, 0.0], a, (w, V), UPLO)


def eigvalsh_jvp_complex(a, a_dot, UPLO):
    w, V = np.linalg.eigh(a, UPLO=UPLO)
    M = _conj_t(V) @ _hermitian_from(a_dot * np.ones(np.shape(a)), _reads_lower(UPLO)) @ V
    return np.real(np.diagonal(M, axis1=-2, axis2=-1))


nondiff(_reads_lower, _distinct, _anchor_row, _phase_anchored, _check_eigh_phase_free, _no_cotangent)
for _helper in (_conj_t, _phi_half, _cholesky_lower_bar, _cholesky_lower_dot, cholesky_bar_complex,
                cholesky_jvp_complex, _real_diag, _hermitian_from, _hermitian_read, _hermitian_gaps,
                eigh_bar_complex, eigh_jvp_complex, eigvalsh_bar_complex, eigvalsh_jvp_complex):
    _helper.__diffc_transparent__ = True
