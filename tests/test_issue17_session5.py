"""Issue 17, fifth pass: scipy.stats with shape parameters passed positionally or through
*shapes, frozen distributions used as values, x.tolist(), math.fsum, running extremes
(np.maximum/minimum.accumulate) and solve_ivp events that read values of the
differentiated function.

Programs are written as scientists write them (a Student-t regression, a survival model
with a frozen gamma, a Gaussian mixture of frozen normals, a drawdown, a drug level falling
below a dose-dependent threshold).  Every derivative is checked against central
differences: the gradient (diffc.grad), a directional derivative (diffc.jvp) and, where the
rule claims second order, the Hessian (diffc.hessian) against differences of the gradient.
"""
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

stats = pytest.importorskip("scipy.stats")
solve_ivp = pytest.importorskip("scipy.integrate").solve_ivp

RNG = np.random.default_rng(175)


def check(f, x, second=True, rtol=1e-6, atol=1e-8):
    """grad and jvp against central differences; the Hessian against differences of grad."""
    expected = numeric_grad(f, [x], 0)
    assert np.max(np.abs(expected)) > 1e-3           # the test can fail
    assert_close(diffc.grad(f)(x), expected, rtol=rtol, atol=atol, what="grad")
    v = RNG.normal(size=np.shape(x))
    _, dot = diffc.jvp(f, (x,), (v,))
    assert_close(dot, np.sum(expected * v), rtol=rtol, atol=atol, what="jvp")
    if second:
        reference = fd_jacobian(diffc.grad(f), x, eps=1e-5)
        assert_close(diffc.hessian(f)(x), reference, rtol=1e-5, atol=1e-6, what="hessian")


def refused_at_second_order(f, x):
    """A DiffcError at second order (forward over reverse and reverse over reverse), never a
    silent zero.  (Its notes name the lines of the gradient diffc generated, which it
    differentiates, not the user's line.)"""
    for run in (lambda: diffc.hessian(f)(x), lambda: diffc.grad(lambda y: diffc.grad(f)(y)[0])(x)):
        with pytest.raises(diffc.DiffcError, match="second derivative") as caught:
            run()
        assert isinstance(caught.value, NotImplementedError)


# ------------------------------------------------------------------ 1. shape parameters positionally
X_DESIGN = np.column_stack([np.ones(8), np.linspace(-1.0, 1.0, 8)])
Y_OBS = np.array([0.3, -0.1, 0.5, 0.9, 0.4, 1.8, 1.1, 1.6])
CENSOR = np.array([False, False, True, False, False, True, False, False])
THETA = np.array([0.4, 0.7, np.log(0.6)])
SHAPES = (4.0,)


def t_regression_nll(theta):
    """Robust regression: Student-t errors with 4 degrees of freedom, censored points
    contribute the upper tail; loc and scale positional after df."""
    mu = X_DESIGN @ theta[:2]
    sigma = np.exp(theta[2])
    dens = stats.t.logpdf(Y_OBS, 4.0, mu, sigma)
    tail = np.log(stats.t.sf(Y_OBS, 4.0, mu, sigma))
    return -np.sum(np.where(CENSOR, tail, dens))


def t_cdf_through_shapes(theta):
    """The shape parameters kept in a tuple, as scipy's docs write it: cdf(x, *shapes, loc, scale)."""
    shapes = (4.0,)
    mu = X_DESIGN @ theta[:2]
    return np.sum(stats.t.cdf(Y_OBS, *shapes, loc=mu, scale=np.exp(theta[2])) ** 2)


def t_logcdf_all_in_a_tuple(theta):
    params = (4.0, X_DESIGN @ theta[:2], np.exp(theta[2]))
    return np.sum(stats.t.logcdf(Y_OBS, *params))


def t_cdf_module_shapes(theta):
    return np.sum(stats.t.cdf(Y_OBS, *SHAPES, X_DESIGN @ theta[:2], np.exp(theta[2])))


def t_cdf_keyword_dict(theta):
    options = {"loc": X_DESIGN @ theta[:2], "scale": np.exp(theta[2])}
    return np.sum(stats.t.cdf(Y_OBS, 4.0, **options))


def gamma_waiting_times(theta):
    """Gamma waiting times: shape and scale both estimated (logpdf has a closed form in a)."""
    a, s = np.exp(theta[0]), np.exp(theta[1])
    return -np.sum(stats.gamma.logpdf(np.abs(Y_OBS) + 0.2, a, scale=s))


def t_cdf_in_x(x):
    return np.sum(stats.t.cdf(x, 4.0, 0.1, 1.3) * np.arange(1.0, 4.0))


POSITIONAL = [t_regression_nll, t_cdf_through_shapes, t_logcdf_all_in_a_tuple, t_cdf_module_shapes,
              t_cdf_keyword_dict]


@pytest.mark.parametrize("fn", POSITIONAL, ids=lambda f: f.__name__)
def test_t_distribution_with_positional_shape_loc_scale(fn):
    check(fn, THETA, second=fn is t_regression_nll)


def test_gamma_shape_and_scale_by_keyword():
    check(gamma_waiting_times, np.array([0.3, -0.2]))


def test_t_cdf_in_x():
    check(t_cdf_in_x, np.array([0.2, -0.5, 1.3]))


def t_cdf_in_df(p):
    shapes = (p[0], 0.1, 1.3)
    return np.sum(stats.t.cdf(Y_OBS, *shapes))


def t_cdf_shapes_passed_in(theta, shapes):
    """A tuple of constants passed in and spread: df stays constant in value, and its
    derivative (quadrature) is computed and dropped."""
    return np.sum(stats.t.cdf(Y_OBS, *shapes, loc=X_DESIGN @ theta[:2], scale=np.exp(theta[2])))


def test_t_cdf_with_a_tuple_parameter():
    f = lambda theta: t_cdf_shapes_passed_in(theta, (4.0,))        # noqa: E731
    check(f, THETA, second=False)


def test_df_of_the_t_cdf_by_quadrature():
    """No closed form in df: computed by quadrature, checked against differences; its second
    derivative in df is refused."""
    check(t_cdf_in_df, np.array([4.0]), second=False)
    refused_at_second_order(t_cdf_in_df, np.array([4.0]))


def t_logpdf_in_df(p):
    shapes = (p[0],)
    return np.sum(stats.t.logpdf(Y_OBS, *shapes, 0.2, 0.9))


def test_df_of_the_t_logpdf_has_its_derivative():
    check(t_logpdf_in_df, np.array([4.0]))


# ------------------------------------------------------------------ 2. frozen distributions
T_SURV = np.array([1.2, 0.4, 2.5, 3.1, 0.9, 1.7])
OBSERVED = np.array([True, True, False, True, False, True])
AGE = np.array([-0.5, 0.3, 1.1, -1.0, 0.2, 0.8])


def gamma_survival_nll(beta):
    """Accelerated failure time model: gamma(2) event times whose scale grows with age;
    censored subjects contribute the survival function."""
    scale = np.exp(beta[0] + beta[1] * AGE)
    dist = stats.gamma(2.0, scale=scale)
    return -np.sum(np.where(OBSERVED, dist.logpdf(T_SURV), dist.logsf(T_SURV)))


def log_density(dist, x):
    return np.sum(dist.logpdf(x))


def gaussian_mixture_nll(params):
    """Two-component mixture built from frozen normals kept in a list."""
    mus, log_sigmas = params[:2], params[2:4]
    w = 1.0 / (1.0 + np.exp(-params[4]))
    components = [stats.norm(mus[k], np.exp(log_sigmas[k])) for k in range(2)]
    dens = w * components[0].pdf(Y_OBS) + (1.0 - w) * components[1].pdf(Y_OBS)
    return -np.sum(np.log(dens))


def norm_passed_to_a_helper(p):
    return log_density(stats.norm(p[0], p[1]), Y_OBS) + stats.norm(p[0], p[1]).logpdf(0.3)


def t_frozen_then_cdf(p):
    d = stats.t(4.0, p[0], p[1])
    return np.sum(d.cdf(Y_OBS) ** 2)


def t_frozen_from_a_tuple(p):
    params = (4.0, p[0], p[1])
    d = stats.t(*params)
    return np.sum(d.cdf(Y_OBS)) + np.sum(d.logpdf(Y_OBS))


def frozen_reassigned_in_a_branch(p):
    d = stats.norm(p[0], p[1])
    if p[0] > 0.0:
        d = stats.norm(2.0 * p[0], p[1])
    return log_density(d, Y_OBS)


def gamma_frozen_shape_pdf(p):
    return np.sum(stats.gamma(p[0]).pdf(T_SURV))


GP_INPUTS = np.array([0.0, 0.5, 1.3])
GP_OBS = np.array([[0.3, -0.1, 0.6], [0.1, 0.2, 0.9]])


def gp_marginal_likelihood(log_params):
    """A Gaussian process's marginal likelihood: a frozen multivariate normal handed to a helper."""
    amplitude, length, noise = np.exp(log_params)
    gap = GP_INPUTS[:, None] - GP_INPUTS[None, :]
    cov = amplitude * np.exp(-0.5 * gap ** 2 / length ** 2) + noise * np.eye(3)
    return log_density(stats.multivariate_normal(np.zeros(3), cov), GP_OBS)


def dirichlet_composition(log_alpha):
    return log_density(stats.dirichlet(np.exp(log_alpha)), np.array([0.2, 0.3, 0.5]))


def frozen_in_x(x):
    d = stats.t(4.0, 0.1, 1.3)
    return np.sum(d.logcdf(x)) + log_density(stats.laplace(0.25, 0.7), x)


FROZEN = [(gamma_survival_nll, np.array([0.1, 0.4])), (gaussian_mixture_nll, np.array([0.0, 1.2, -0.5, -0.3, 0.2])),
          (norm_passed_to_a_helper, np.array([0.1, 1.3])), (t_frozen_then_cdf, np.array([0.1, 1.3])),
          (t_frozen_from_a_tuple, np.array([0.1, 1.3])), (frozen_reassigned_in_a_branch, np.array([0.1, 1.3])),
          (gamma_frozen_shape_pdf, np.array([2.1])), (frozen_in_x, np.array([0.2, -0.5, 1.3])),
          (gp_marginal_likelihood, np.array([0.1, -0.3, -1.5])), (dirichlet_composition, np.array([0.1, 0.4, -0.3]))]
FROZEN_FIRST_ONLY = {"frozen_in_x"}        # laplace has a kink; t.logcdf's Hessian is checked elsewhere


@pytest.mark.parametrize("fn,x", FROZEN, ids=[f.__name__ for f, _ in FROZEN])
def test_frozen_distributions_both_modes_and_second_order(fn, x):
    check(fn, x, second=fn.__name__ not in FROZEN_FIRST_ONLY)


def t_frozen_in_df(p):
    d = stats.t(p[0], 0.1, 1.3)
    return np.sum(d.cdf(Y_OBS))


def gamma_cdf_through_a_helper(p):
    """A frozen gamma with a constant shape passed to a helper with a differentiated scale
    (the shape's derivative, by quadrature, is computed and dropped)."""
    return log_cdf(stats.gamma(2.5, scale=p[0]), T_SURV) + log_cdf(stats.beta(2.0, 3.0, 0.0, 3.5 + p[1]), T_SURV)


def log_cdf(dist, x):
    return np.sum(dist.logcdf(x))


def test_frozen_shape_distributions_through_helpers():
    check(gamma_cdf_through_a_helper, np.array([1.3, 0.2]))
    check(lambda p: log_cdf(stats.gamma(p[0], scale=p[1]), T_SURV), np.array([2.5, 1.3]), second=False)


def test_frozen_t_cdf_in_df():
    check(t_frozen_in_df, np.array([4.0]), second=False)
    refused_at_second_order(t_frozen_in_df, np.array([4.0]))


def test_frozen_object_values_equal_scipys():
    """Outside differentiation the frozen objects diffc uses compute SciPy's values."""
    from diffc.rules import scipy_stats as impl
    d = impl.gamma_frozen(2.0, scale=1.5)
    assert_close(d.logsf(T_SURV), stats.gamma(2.0, scale=1.5).logsf(T_SURV), rtol=1e-12, atol=1e-14)
    assert_close(d.mean(), 3.0, rtol=1e-12)                 # other methods: SciPy's own
    assert_close(impl.t_frozen(4.0, 0.1).cdf(Y_OBS), stats.t(4.0, 0.1).cdf(Y_OBS), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ 3. tolist, fsum, running extremes

def drawdown_penalty(returns):
    """Mean squared drawdown of a price path: the running peak from np.maximum.accumulate."""
    prices = 100.0 * np.exp(np.cumsum(returns))
    peak = np.maximum.accumulate(prices)
    drawdown = (peak - prices) / peak
    return np.mean(drawdown ** 2)


def best_so_far(losses):
    """Running minimum of two training curves (rows), read along axis 1."""
    best = np.minimum.accumulate(losses, axis=1)
    return np.sum(best * np.linspace(1.0, 2.0, losses.shape[1]))


def energy_from_a_list(x):
    values = x.tolist()
    total = 0.0
    for v in values:
        total += v * v * math.exp(-v)
    return total


def matrix_rows_as_lists(w):
    rows = w.reshape(3, 2).tolist()
    return sum(r[0] * r[1] ** 2 for r in rows) + rows[2][0] ** 3


def exact_sum(x):
    return math.fsum([v ** 3 for v in x]) + math.fsum(x) * x[0]


RETURNS = np.array([0.05, -0.08, 0.03, 0.06, -0.04, -0.03, 0.09])
LOSSES = np.array([[1.0, 0.8, 0.9, 0.6, 0.65], [2.0, 2.1, 1.5, 1.55, 1.2]]) + 0.01 * np.arange(10.0).reshape(2, 5)
LISTS = [(drawdown_penalty, RETURNS), (best_so_far, LOSSES), (energy_from_a_list, np.array([0.3, 1.2, -0.4])),
         (matrix_rows_as_lists, np.array([0.5, -1.0, 1.5, 0.2, -0.3, 0.8])), (exact_sum, np.array([0.3, -1.2, 0.7]))]


@pytest.mark.parametrize("fn,x", LISTS, ids=[f.__name__ for f, _ in LISTS])
def test_lists_sums_and_running_extremes(fn, x):
    check(fn, x)


def test_running_maximum_ties_go_to_the_first():
    """At a tie the running maximum's derivative is the earliest entry's (stated convention)."""
    x = np.array([1.0, 3.0, 3.0, 2.0, 3.0, 4.0])
    weights = np.arange(1.0, 7.0)
    f = lambda x: np.sum(np.maximum.accumulate(x) * weights)      # noqa: E731
    expected = np.array([1.0, 2.0 + 3.0 + 4.0 + 5.0, 0.0, 0.0, 0.0, 6.0])
    assert_close(diffc.grad(f)(x), expected, rtol=1e-12)
    assert_close(diffc.jvp(f, (x,), (np.eye(6)[1],))[1], expected[1], rtol=1e-12)
    g = lambda x: np.sum(np.minimum.accumulate(-x) * weights)    # noqa: E731
    assert_close(diffc.grad(g)(x), -expected, rtol=1e-12)


def test_accumulate_into_out():
    """out= is written like any output array (diffc's handling of out=), the derivative unchanged."""
    f = lambda x: np.sum(np.maximum.accumulate(x, out=np.empty(3)) * np.array([1.0, 2.0, 4.0]))  # noqa: E731
    x = np.array([1.0, 2.0, 0.5])
    assert_close(diffc.grad(f)(x), np.array([1.0, 6.0, 0.0]), rtol=1e-12)
    assert_close(diffc.grad(f)(x), numeric_grad(f, [x], 0), rtol=1e-6)


# ------------------------------------------------------------------ 4. solve_ivp events reading local floats

def elimination(t, y, k):
    return -k * y


def time_below_threshold(p):
    """One-compartment drug level: when does it fall below 25% of the dose (the threshold a
    local float computed from the inputs, read by the event function)?"""
    dose, clearance = p[0], p[1]
    threshold = 0.25 * dose * p[2]

    def below(t, y, k):
        return y[0] - threshold
    sol = solve_ivp(elimination, (0.0, 20.0), np.array([dose]), args=(clearance,), events=below,
                    rtol=1e-10, atol=1e-12)
    return sol.t_events[0][0] + 0.1 * sol.y_events[0][0][0] ** 2


def crossings_with_a_lambda(p):
    level = 0.5 * p[2]
    sol = solve_ivp(elimination, (0.0, 20.0), np.array([p[0]]), args=(p[1],),
                    events=[lambda t, y, k: y[0] - level, lambda t, y, k: y[0] - 0.5 * level],
                    rtol=1e-10, atol=1e-12)
    return sol.t_events[0][0] ** 2 + sol.t_events[1][0]


def constant_threshold(p):
    threshold = 0.3

    def below(t, y, k):
        return y[0] - threshold
    sol = solve_ivp(elimination, (0.0, 20.0), np.array([p[0]]), args=(p[1],), events=below,
                    rtol=1e-10, atol=1e-12)
    return sol.t_events[0][0]


def stopped_at_threshold(p):
    """A terminal event (hit.terminal = True on a local function reading the threshold): the
    solve ends at the crossing; the end time and the state there move with the threshold."""
    threshold = 0.3 * p[2]

    def below(t, y, k):
        return y[0] - threshold
    below.terminal = True
    below.direction = -1
    sol = solve_ivp(elimination, (0.0, 20.0), np.array([p[0], 1.0]), args=(p[1],), events=below,
                    rtol=1e-10, atol=1e-12)
    return sol.t[-1] + sol.y[1, -1] ** 2


def stopped_lambda(p):
    level = 0.4 * p[2]
    hit = lambda t, y, k: y[0] - level      # noqa: E731
    hit.terminal = True
    sol = solve_ivp(elimination, (0.0, 20.0), np.array([p[0]]), args=(p[1],), events=[hit], rtol=1e-10, atol=1e-12)
    return sol.t[-1]


P_DRUG = np.array([2.0, 0.7, 1.1])


@pytest.mark.parametrize("fn", [stopped_at_threshold, stopped_lambda], ids=lambda f: f.__name__)
def test_terminal_event_set_on_a_local_function(fn):
    check(fn, P_DRUG, second=False)


@pytest.mark.parametrize("fn", [time_below_threshold, crossings_with_a_lambda, constant_threshold],
                         ids=lambda f: f.__name__)
def test_event_functions_reading_local_floats(fn):
    p = P_DRUG[:2] if fn is constant_threshold else P_DRUG
    expected = numeric_grad(fn, [p], 0)
    if fn is time_below_threshold:
        # t* = log(dose / threshold) / k depends on the fraction only; y(t*) is the threshold
        level = 0.25 * P_DRUG[0] * P_DRUG[2]
        assert_close(expected[2], -1.0 / (P_DRUG[2] * P_DRUG[1]) + 0.2 * level * 0.25 * P_DRUG[0], rtol=1e-5)
    check(fn, p, second=False)


def test_second_order_through_event_times_is_refused():
    with pytest.raises(diffc.DiffcError, match="second derivatives through the times of solve_ivp"):
        diffc.hessian(time_below_threshold)(P_DRUG)


def closure_rhs_with_events(p):
    threshold = 0.5 * p[1]
    k = p[1]

    def below(t, y):
        return y[0] - threshold

    def rhs(t, y):
        return -k * y
    sol = solve_ivp(rhs, (0.0, 20.0), np.array([p[0]]), events=below)
    return sol.t_events[0][0]


def test_local_rhs_with_events_is_refused_clearly():
    """The right-hand side's captured variables cannot go through args= (the events would get
    them too): a DiffcError saying to pass them through args (it was a TypeError)."""
    for run in (lambda: diffc.grad(closure_rhs_with_events)(np.array([2.0, 0.7])),
                lambda: diffc.jvp(closure_rhs_with_events, (np.array([2.0, 0.7]),), (np.ones(2),))):
        with pytest.raises(diffc.DiffcError, match="args="):
            run()


# ------------------------------------------------------------------ frozen with constant parameters, passed in
PRIOR = stats.t(4.0, 0.1, 1.3)


def log_cdf_of(dist, x):
    return np.sum(dist.logcdf(x) * np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("fn", [
    lambda x: log_cdf_of(stats.t(4.0, 0.1, 1.3), x),       # built inside, constants, to a helper
    lambda x: log_cdf_of(PRIOR, x),                        # module-level frozen object, to a helper
    lambda x, dist=PRIOR: log_cdf_of(dist, x),              # passed in as a value
], ids=["built_inside", "module_level", "passed_in"])
def test_constant_frozen_distribution_in_x(fn):
    """A SciPy frozen object reaching a call at run time is its implementation with the
    parameters fixed (it was NoDerivativeRule)."""
    check(fn, np.array([0.2, -0.5, 1.3]), second=False)


# ------------------------------------------------------------------ user methods named like array methods
# A method of a user class called mean/sum/dot (names NumPy arrays have, with rules) is the
# class's own: it was differentiated with the array rule (a silent zero gradient for mean(),
# a crash for sum()/dot()).

class Posterior:
    def __init__(self, loc, scale):
        self.loc = loc
        self.scale = scale

    def mean(self):
        return self.loc + 0.5 * self.scale ** 2

    def sum(self):
        return 3.0 * self.loc * self.scale

    def dot(self, v):
        return self.scale * v

    def summary(self):
        return self.mean() + self.sum()


def make_posterior(p):
    return Posterior(p[0], np.exp(p[1]))


@pytest.mark.parametrize("fn", [
    lambda p: Posterior(p[0], p[1]).mean() * 2.0 + Posterior(p[1], p[0]).dot(1.5),
    lambda p: make_posterior(p).sum() + make_posterior(p).mean(),
    lambda p: Posterior(p[0], p[1]).summary() ** 2,
], ids=["built_here", "from_a_helper", "self_method"])
def test_user_methods_named_like_array_methods(fn):
    check(fn, np.array([0.3, 0.8]))
