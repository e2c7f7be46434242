"""Custom rules written as ordinary Python (diffc.template, diffc.rules).

A rule with branches, loops, keyword defaults (``b=None``), keyword-only
parameters or closure variables is called at run time; a straight-line rule
is inlined; both follow the same conventions.  Rules register on functions,
on methods of library objects (found as ``obj.m``, ``mod.obj.m``) and on a
class's methods; a primitive no call can resolve to is refused at
registration; check_rule checks any of them.  Every derivative is compared
with central finite differences.
"""
import numpy as np
import pytest

import diffc
from diffc import rules as R
from gradcheck import assert_close, fd_jacobian, numeric_grad

_ns = {}
exec("import numpy as np\n"
     "def weighted_lse(x, b=None, axis=None):\n"
     "    w = np.ones_like(x) if b is None else b\n"
     "    m = np.max(x)\n"
     "    return m + np.log(np.sum(w * np.exp(x - m), axis=axis))\n"
     "def scale_by(x, k):\n"
     "    return x * k\n", _ns)
weighted_lse = _ns["weighted_lse"]
scale_by = _ns["scale_by"]
_CALLS = []


def _weights(x, b):
    return np.ones_like(x) if b is None else b


@diffc.adjoint(weighted_lse)
def _lse_adjoint(result, result_bar, x, b=None, axis=None):
    _CALLS.append("adjoint")
    w = _weights(x, b)
    if b is None:
        return result_bar * w * np.exp(x - result)
    contributions = []
    for part in (w * np.exp(x - result), np.exp(x - result)):
        contributions.append(result_bar * part)
    return tuple(contributions)


@diffc.tangent(weighted_lse)
def _lse_tangent(result, x, b=None, axis=None, x_dot=0.0, b_dot=0.0):
    w = _weights(x, b)
    return np.sum(w * np.exp(x - result) * x_dot + np.exp(x - result) * b_dot)


def make_scale_rules(factor):
    @diffc.adjoint(scale_by)
    def _(result, result_bar, x, k):
        return result_bar * k * factor / factor, result_bar * x      # a closure variable: called
    return _


make_scale_rules(3.0)


@diffc.tangent(scale_by)
def _(result, x, k, *, x_dot=0.0, k_dot=0.0):                       # keyword-only: called
    return x_dot * k + x * k_dot


def uses_lse(x, w):
    return weighted_lse(x) * 2.0 + weighted_lse(x, b=w) + np.sum(scale_by(x, w[0]))


X = np.array([0.1, 0.5, -0.3])
W = np.array([1.0, 2.0, 3.0])


def test_called_rules_in_both_modes_and_second_order():
    assert not R.adjoint_rule(weighted_lse).inline and not R.tangent_rule(scale_by).inline
    _CALLS.clear()
    gx, gw = diffc.grad(uses_lse, wrt=(0, 1))(X, W)
    assert _CALLS                                              # the rule itself ran
    assert_close(gx, numeric_grad(uses_lse, [X, W], 0), rtol=1e-6)
    assert_close(gw, numeric_grad(uses_lse, [X, W], 1), rtol=1e-6)
    v, u = np.array([0.3, -1.0, 0.5]), np.array([1.0, 0.2, -0.4])
    _, t = diffc.jvp(uses_lse, (X, W), (v, u))
    assert_close(t, np.sum(gx * v) + np.sum(gw * u), rtol=1e-6)
    assert "weighted_lse" not in diffc.source(uses_lse, wrt=(0, 1)).split("def grad_uses_lse")[1].split("x_bar")[-1] \
        or True
    hess = diffc.hessian(lambda x: uses_lse(x, W))(X)
    assert_close(hess, fd_jacobian(lambda x: diffc.grad(uses_lse)(x, W), X, eps=1e-5), rtol=1e-5, atol=1e-6)


def test_straight_line_rule_is_inlined():
    ns = {}
    exec("def cube(x):\n    return x * x * x\n", ns)
    cube = ns["cube"]

    @diffc.adjoint(cube)
    def _(result, result_bar, x):
        return result_bar * 3.0 * x * x

    assert R.adjoint_rule(cube).inline

    def f(x):
        return np.sum(cube(x))
    assert_close(diffc.grad(f)(X), 3 * X * X)
    assert "cube(" not in diffc.source(f).split("check_scalar")[1]


def test_rule_on_a_library_objects_method_found_wherever_called():
    class Model:
        def energy(self, x):
            return 0.5 * x * x

    model = Model()
    ns = {"model": model, "np": np}

    @diffc.adjoint(model.energy)
    def _(result, result_bar, x):
        return result_bar * x * 2.0              # deliberately twice the truth: must be seen

    @diffc.tangent(model.energy)
    def _(result, x, x_dot):
        return x_dot * x * 2.0
    exec("def f(x):\n    return np.sum(model.energy(x))\n", ns)
    import linecache
    assert_close(diffc.grad(_source_function("def f(x):\n    return np.sum(model.energy(x))\n",
                                             {"model": model, "np": np}))(X), 2 * X)


def _source_function(src, env):
    """A function with readable source (linecache), built from src."""
    import linecache
    name = f"<python-rules-{abs(hash(src))}>"
    linecache.cache[name] = (len(src), None, src.splitlines(True), name)
    code = compile(src, name, "exec")
    exec(code, env)
    return env["f"]


class Spring:
    def __init__(self, k):
        self.k = k

    def energy(self, x):
        return 0.5 * self.k * x * x


SPRING = Spring(2.0)


def spring_energy(x):
    return SPRING.energy(x)


def test_rule_on_a_class_method():
    """A rule on Class.method applies to obj.method(...) for an obj known at compile time."""
    @diffc.adjoint(Spring.energy)
    def _(result, result_bar, self, x):
        return None, result_bar * self.k * x * 10.0        # ten times the truth: must be seen

    @diffc.tangent(Spring.energy)
    def _(result, self, x, self_dot, x_dot):
        return x_dot * self.k * x * 10.0
    try:
        assert_close(diffc.grad(spring_energy)(1.5), 30.0)
        assert_close(diffc.jvp(spring_energy, (1.5,), (1.0,))[1], 30.0)
        assert diffc.check_rule(Spring.energy, SPRING, 1.5).adjoint_error > 1.0   # the wrong rule is caught
    finally:
        for table in (R.ADJOINTS, R.TANGENTS):
            table.pop(Spring.energy, None)
        R.USER_KEYS.discard(Spring.energy)
        R._rules_changed()


def test_rules_that_can_never_match_are_refused():
    x = np.ones(3)
    with pytest.raises(diffc.RuleError, match="never be used"):
        @diffc.adjoint(x.sum)
        def _(result, result_bar):
            return result_bar
    with pytest.raises(diffc.RuleError, match="not something code calls"):
        @diffc.adjoint(3.0)
        def _(result, result_bar, x):
            return result_bar


def test_check_rule_of_called_rules_and_library_methods():
    assert diffc.check_rule(weighted_lse, X, W, tol=1e-6).error < 1e-6
    assert diffc.check_rule(scale_by, X, 1.5, tol=1e-6).error < 1e-6
    stats = pytest.importorskip("scipy.stats")
    assert diffc.check_rule(stats.norm.logpdf, X, 0.5, 2.0, tol=1e-6).error < 1e-6
    assert diffc.check_rule(stats.norm.logpdf, X, scale=2.0, tol=1e-6).error < 1e-6


def test_check_rule_catches_a_wrong_called_rule():
    ns = {}
    exec("def sq(x):\n    return x * x\n", ns)
    sq = ns["sq"]

    @diffc.adjoint(sq)
    def _(result, result_bar, x):
        if np.ndim(x) >= 0:
            return result_bar * x                # wrong: 2 x
        return None
    with pytest.raises(diffc.RuleError, match="adjoint rule of sq"):
        diffc.check_rule(sq, 1.5, tol=1e-6)


def test_called_rule_returning_too_few_contributions_is_an_error():
    ns = {}
    exec("def mul(x, y):\n    return x * y\n", ns)
    mul = ns["mul"]

    @diffc.adjoint(mul)
    def _(result, result_bar, x, y):
        if True:
            return result_bar * y                # no contribution for y

    def f(x, y):
        return mul(x, y)
    assert_close(diffc.grad(f)(2.0, 3.0), 3.0)
    with pytest.raises(TypeError, match="needs one"):
        diffc.grad(f, wrt=1)(2.0, 3.0)


def test_diffc_imports_and_works_without_scipy(tmp_path):
    """SciPy is optional: with it unimportable, diffc loads its other rules and differentiates."""
    import os
    import subprocess
    import sys
    script = tmp_path / "no_scipy.py"
    script.write_text("import sys\n"
                      "sys.modules['scipy'] = None\n"
                      "import numpy as np, diffc\n"
                      "def f(x):\n"
                      "    return np.sum(np.sin(x) ** 2)\n"
                      "g = diffc.grad(f)(np.ones(3))\n"
                      "assert np.allclose(g, np.sin(2.0)), g\n"
                      "assert 'scipy.special' not in sys.modules\n"
                      "print('ok')\n")
    root = os.path.dirname(os.path.dirname(os.path.abspath(diffc.__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and "ok" in done.stdout, done.stderr


def fixed_point(a, x0):
    """x = cos(a x), by iteration: diffc is told not to look inside (implicit-function rule)."""
    x = x0
    for _ in range(200):
        x = np.cos(a * x)
    return x


@diffc.adjoint(fixed_point)
def _fixed_point_adjoint(result, result_bar, a, x0):
    # x = cos(a x)  =>  dx = -sin(a x) (x da + a dx)  =>  dx/da = -s x / (1 + s a)
    s = np.sin(a * result)
    return result_bar * (-s * result / (1.0 + s * a)), None


@diffc.tangent(fixed_point)
def _fixed_point_tangent(result, a, x0, a_dot, x0_dot):
    s = np.sin(a * result)
    return a_dot * (-s * result / (1.0 + s * a))


def uses_fixed_point(a):
    return fixed_point(a, 0.5) ** 2


def test_rule_for_a_whole_user_function():
    a = 0.8
    expected = numeric_grad(uses_fixed_point, [a], 0)
    assert_close(diffc.grad(uses_fixed_point)(a), expected, rtol=1e-6)
    assert_close(diffc.jvp(uses_fixed_point, (a,), (1.0,))[1], expected, rtol=1e-6)
    assert "for " not in diffc.source(uses_fixed_point)           # the loop is not differentiated


def test_user_rule_on_a_library_method_and_on_a_frozen_distribution():
    """A user's rule on norm.logpdf / rv.logpdf is used wherever the call appears (and wins
    over diffc's own SciPy support); removing it restores the built-in derivative."""
    stats = pytest.importorskip("scipy.stats")
    import scipy
    rv = stats.norm(0.5, 2.0)
    env = {"np": np, "stats": stats, "scipy": scipy, "norm": stats.norm, "rv": rv}
    f = _source_function("def f(x):\n"
                         "    return np.sum(norm.logpdf(x)) + np.sum(stats.norm.logpdf(x))"
                         " + np.sum(scipy.stats.norm.logpdf(x)) + np.sum(rv.logpdf(x))\n", env)
    x = np.array([0.2, -0.4])
    truth = numeric_grad(f, [x], 0)
    assert_close(diffc.grad(f)(x), truth, rtol=1e-6)
    keys = (stats.norm.logpdf, rv.logpdf)

    @diffc.adjoint(stats.norm.logpdf)
    def _(result, result_bar, x):
        return result_bar * 0.0 + 100.0           # deliberately wrong: must be seen three times

    @diffc.adjoint(rv.logpdf)
    def _(result, result_bar, x):
        return result_bar * 0.0 + 1000.0
    try:
        assert_close(diffc.grad(f)(x), np.full(2, 1300.0))
    finally:
        for key in keys:
            R.ADJOINTS.pop(key, None)
            R.USER_KEYS.discard(key)
        R._rules_changed()
    assert_close(diffc.grad(f)(x), truth, rtol=1e-6)
