"""Derivative rules for the Bessel functions of scipy.special: j0, j1, y0, y1, jv, yv,
k0, k1, kv, k0e, k1e, kve (with respect to the argument x; the order v is not
differentiated and is refused when it carries a derivative).

Input: nothing (imported by rules/scipy_rules.py).  Output: inlined templates whose
derivatives are again Bessel functions with rules here, so every order follows.

The recurrences used (DLMF 10.6.1, 10.29.1): C_v' = (C_{v-1} - C_{v+1}) / 2 for C = J, Y and
K_v' = -(K_{v-1} + K_{v+1}) / 2.  j1' and y1' are written as (C_0 - C_2) / 2 rather than
C_0 - C_1 / x so that j1'(0) = 1/2 is finite.  The scaled kve(v, x) = kv(v, x) e^x adds the
scaling factor's own derivative kve.
"""

from scipy import special as sp

from . import adjoint, tangent
from .scipy_special import no_derivative, no_derivative_dot


# --------------------------------------------------------------- J and Y, integer orders 0, 1

@adjoint(sp.j0)
def _(result, result_bar, x):
    return -result_bar * sp.j1(x)


@tangent(sp.j0)
def _(result, x, x_dot):
    return -x_dot * sp.j1(x)


@adjoint(sp.j1)
def _(result, result_bar, x):
    return result_bar * 0.5 * (sp.j0(x) - sp.jv(2, x))


@tangent(sp.j1)
def _(result, x, x_dot):
    return x_dot * 0.5 * (sp.j0(x) - sp.jv(2, x))


@adjoint(sp.y0)
def _(result, result_bar, x):
    return -result_bar * sp.y1(x)


@tangent(sp.y0)
def _(result, x, x_dot):
    return -x_dot * sp.y1(x)


@adjoint(sp.y1)
def _(result, result_bar, x):
    return result_bar * 0.5 * (sp.y0(x) - sp.yv(2, x))


@tangent(sp.y1)
def _(result, x, x_dot):
    return x_dot * 0.5 * (sp.y0(x) - sp.yv(2, x))


# --------------------------------------------------------------- J and Y, any order v

@adjoint(sp.jv)
def _(result, result_bar, v, z):
    return no_derivative("jv", "v"), result_bar * 0.5 * (sp.jv(v - 1, z) - sp.jv(v + 1, z))


@tangent(sp.jv)
def _(result, v, z, v_dot, z_dot):
    return no_derivative_dot("jv", "v", v_dot) + z_dot * 0.5 * (sp.jv(v - 1, z) - sp.jv(v + 1, z))


@adjoint(sp.yv)
def _(result, result_bar, v, z):
    return no_derivative("yv", "v"), result_bar * 0.5 * (sp.yv(v - 1, z) - sp.yv(v + 1, z))


@tangent(sp.yv)
def _(result, v, z, v_dot, z_dot):
    return no_derivative_dot("yv", "v", v_dot) + z_dot * 0.5 * (sp.yv(v - 1, z) - sp.yv(v + 1, z))


# --------------------------------------------------------------- modified K (and scaled)

@adjoint(sp.k0)
def _(result, result_bar, x):
    return -result_bar * sp.k1(x)


@tangent(sp.k0)
def _(result, x, x_dot):
    return -x_dot * sp.k1(x)


@adjoint(sp.k1)
def _(result, result_bar, x):
    return -result_bar * 0.5 * (sp.k0(x) + sp.kv(2, x))


@tangent(sp.k1)
def _(result, x, x_dot):
    return -x_dot * 0.5 * (sp.k0(x) + sp.kv(2, x))


@adjoint(sp.kv)
def _(result, result_bar, v, z):
    return no_derivative("kv", "v"), -result_bar * 0.5 * (sp.kv(v - 1, z) + sp.kv(v + 1, z))


@tangent(sp.kv)
def _(result, v, z, v_dot, z_dot):
    return no_derivative_dot("kv", "v", v_dot) - z_dot * 0.5 * (sp.kv(v - 1, z) + sp.kv(v + 1, z))


@adjoint(sp.k0e)
def _(result, result_bar, x):
    return result_bar * (result - sp.k1e(x))


@tangent(sp.k0e)
def _(result, x, x_dot):
    return x_dot * (result - sp.k1e(x))


@adjoint(sp.k1e)
def _(result, result_bar, x):
    return result_bar * (result - 0.5 * (sp.k0e(x) + sp.kve(2, x)))


@tangent(sp.k1e)
def _(result, x, x_dot):
    return x_dot * (result - 0.5 * (sp.k0e(x) + sp.kve(2, x)))


@adjoint(sp.kve)
def _(result, result_bar, v, z):
    return no_derivative("kve", "v"), result_bar * (result - 0.5 * (sp.kve(v - 1, z) + sp.kve(v + 1, z)))


@tangent(sp.kve)
def _(result, v, z, v_dot, z_dot):
    return no_derivative_dot("kve", "v", v_dot) + z_dot * (result - 0.5 * (sp.kve(v - 1, z) + sp.kve(v + 1, z)))
