"""A rule is ordinary Python: one that rebinds its own parameter
(``result_bar = result_bar * 2``) was inlined with the parameter renamed but never bound,
an UnboundLocalError inside generated code.  Checked against finite differences in both
modes and at second order."""

import numpy as np

import diffc
from test_fuzz_classes_b import check


def doubled_sine(x):
    return np.sin(x) * 2.0


@diffc.adjoint(doubled_sine)
def _(result, result_bar, x):
    result_bar = result_bar * 2.0
    return result_bar * np.cos(x)


@diffc.tangent(doubled_sine)
def _(result, x, x_dot):
    x_dot = x_dot * 2.0
    return x_dot * np.cos(x)


def uses_the_rule(x):
    return np.sum(doubled_sine(x) ** 2 * x)


def test_rule_rebinding_its_parameters():
    check(uses_the_rule, [np.array([0.3, -0.7, 1.1])], second_order=True)
