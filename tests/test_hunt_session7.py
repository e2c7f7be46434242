"""Wrong gradients and crashes found by writing programs the way scientists write them
(session 7: the hunt's leftovers).

Each class returned a derivative silently wrong (or crashed) before; each program is
checked against central finite differences, both modes, second order where it applies,
or must be refused with a DiffcError naming the user's line.
"""
import functools

import numpy as np
import pytest

import diffc
from diffc.errors import DiffcError
from gradcheck import check_both_modes

X = np.array([0.3, -0.7])


# ------------------------- lazy iterators consumed after what they read has changed

def doubled(ps):
    for p in ps:
        yield p * 2.0


def generator_function_consumed_after_a_write(x):
    ps = [x[0], x[1]]
    gen = doubled(ps)                 # nothing runs yet
    ps[0] = x[1] ** 2                 # the generator will read the new ps[0]
    return sum(gen)


def map_consumed_after_a_write(x):
    y = x * 1.0
    m = map(np.sin, y)
    y[0] = 3.0 * x[1]
    return sum(m)


def dict_view_consumed_after_a_write(x):
    d = {"a": x[0], "b": x[1]}
    vals = d.values()
    d["a"] = x[1] ** 2
    return sum(vals)


def zip_consumed_after_an_append_in_a_loop(x):
    total = 0.0
    for t in range(2):
        ws = [x[0], x[1]]
        pairs = zip(ws, ws)
        ws.reverse()
        for a, b in pairs:
            total = total + a * b * (t + 1)
    return total


@pytest.mark.parametrize("fn", [generator_function_consumed_after_a_write, map_consumed_after_a_write,
                                dict_view_consumed_after_a_write, zip_consumed_after_an_append_in_a_loop],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_lazy_iterator_reading_values_changed_before_it_runs_is_refused(fn, mode):
    with pytest.raises(DiffcError, match="only when it is consumed") as info:
        if mode == "grad":
            diffc.grad(fn)(X.copy())
        else:
            diffc.jvp(fn, (X.copy(),), (np.ones(2),))
    assert "line" in str(info.value) or fn.__code__.co_filename in str(info.value)


def generator_holds_the_old_list(x):
    ys = [x[0], x[1]]
    g = (2.0 * v * v for v in ys)     # the first iterable is evaluated at once
    ys = [x[1], x[0]]                 # a rebinding does not change what g holds
    s = sum(g)
    pairs = zip(ys, ys)
    ys = None
    for a, b in pairs:
        s = s + a * b
    return s


def generator_function_consumed_at_once(x):
    ps = [x[0], x[1] * x[0]]
    total = sum(doubled(ps))
    ps[0] = x[1] ** 2
    return total + ps[0]


def dict_items_read_before_a_write(x):
    d = {"a": x[0] * x[1], "b": x[1]}
    items = d.items()
    s = 0.0
    for k, v in items:
        s = s + v * v
    d["a"] = 0.0
    return s + d["a"]


@pytest.mark.parametrize("fn", [generator_holds_the_old_list, generator_function_consumed_at_once,
                                dict_items_read_before_a_write], ids=lambda f: f.__name__)
def test_lazy_iterators_whose_inputs_do_not_change_in_between(fn):
    check_both_modes(fn, [X])


# ------------- lazy builtins and generator functions, first and second order, both modes
# (second order: a generator function called by generated code was the generator itself,
# read twice -- exhausted the second time, d2 = 0; zip/enumerate's second-order adjoints
# were plain lists added to a float)

def enumerate_kept_as_a_list(x):
    ys = [x[0], x[1] * x[0]]
    e = list(enumerate(ys))
    s = 0.0
    for i, v in e:
        s = s + (i + 1) * v * v
    return s


def zip_kept_as_a_list(x):
    a = [x[0], x[1]]
    b = [x[1] * x[1], x[0]]
    z = list(zip(a, b))
    return z[0][0] * z[1][1] + z[1][0] * z[0][1] ** 2


def pairs(ws):
    for i, w in enumerate(ws):
        yield i * w, w * w


def generator_of_pairs(x):
    ws = [x[0], x[1] * x[0]]
    s = 0.0
    for a, b in pairs(ws):
        s = s + a * b
    return s


def generator_in_a_time_loop(x):
    s = 0.0
    for t in range(3):
        ws = [x[0] * t, x[1]]
        s = s + max(v for v, w in pairs(ws))
    return s


def reversed_enumerate(x):
    ys = [x[0], x[1] * x[0]]
    s = 0.0
    for k, v in enumerate(reversed(ys)):
        s = s + (k + 1.0) * v ** 3
    return s


def dict_values_of_arrays(x):
    d = {"w": x * 2.0, "b": np.cos(x)}
    return sum(np.sum(v ** 2) for v in d.values())


def filtered_and_mapped(x):
    ys = [x[0], x[1] * x[0], 0.0]
    return sum(v * v for v in filter(None, ys)) + sum(list(map(lambda v: v ** 3, ys)))


@pytest.mark.parametrize("fn", [enumerate_kept_as_a_list, zip_kept_as_a_list, generator_of_pairs,
                                generator_in_a_time_loop, reversed_enumerate, dict_values_of_arrays,
                                filtered_and_mapped], ids=lambda f: f.__name__)
def test_lazy_builtins_and_generators_to_second_order(fn):
    check_both_modes(fn, [X])


# --------------------- effects inside an assert, and list changes whose value is used

def norm_asserted_positive(x):
    assert (n := np.sum(x ** 2)) > 0, "zero vector"
    return np.sqrt(n) * x[0]


def finite_check_binding(x):
    assert np.all(np.isfinite(y := np.exp(x))), "overflow"
    return np.sum(y)


def rebinding_in_an_assert(x):
    y = x[0]
    assert y > -5 and (y := y ** 3) > -100
    return y


def append_inside_an_assert(x):
    vals = []
    assert vals.append(x[0] ** 2) is None
    return sum(vals) * x[1]


def append_value_kept(x):
    history = [x[1]]
    status = history.append(x[0] ** 2)
    if history.extend([x[0] * x[1]]) is None and status is None:
        history.append(np.sin(x[0]))
    return sum(h * h for h in history)


@pytest.mark.parametrize("fn", [norm_asserted_positive, finite_check_binding, rebinding_in_an_assert,
                                append_inside_an_assert, append_value_kept], ids=lambda f: f.__name__)
def test_effects_inside_asserts_and_expressions_are_differentiated(fn):
    check_both_modes(fn, [X])


def failing_assert(x):
    assert (m := np.max(x)) > 10, f"max is {m}"
    return m


def test_an_assert_still_fails_as_in_python():
    with pytest.raises(AssertionError, match="max is"):
        diffc.grad(failing_assert)(X.copy())


# ------------- a function value from a factory keeps the arrays it captured (by reference)

def make_linear(w):
    return lambda t: np.sum(w * t)


def make_quadratic(w):
    def energy(t):
        return np.sum(w * t * t)
    return energy


def factory_closure_then_a_write(x):
    y = x * 1.0
    f = make_linear(y)
    y[0] = x[1] ** 2                  # f sees the new y[0]
    return f(x)


def factory_def_then_an_update(x):
    y = x * 1.0
    f = make_quadratic(y)
    y *= 2.0
    return f(x)


@pytest.mark.parametrize("fn", [factory_closure_then_a_write, factory_def_then_an_update],
                         ids=lambda f: f.__name__)
def test_a_write_into_an_array_a_returned_closure_captured_is_refused(fn):
    with pytest.raises(DiffcError, match="in place"):
        diffc.grad(fn)(X.copy())


def factory_closure_then_a_rebinding(x):
    y = x * 1.0
    f = make_quadratic(y)
    a = f(x)
    y = y * 2.0                       # a new array: f keeps the old one
    return a + f(x * 3.0)


def test_a_rebinding_after_a_factory_closure_is_fine():
    # (second order through a closure a factory returned is still refused: issue 16)
    check_both_modes(factory_closure_then_a_rebinding, [X], second=False)


# ------------------------------- a list changed through another name; late-bound lambdas

def popped_through_an_alias(x):
    a = [x[0], x[1], x[2] * x[0]]
    b = a
    last = b.pop()
    return sum(a) * last


def test_a_pop_through_another_name_of_the_list():
    check_both_modes(popped_through_an_alias, [np.array([0.3, -0.7, 0.5])])


def late_bound_lambdas(x):
    scales = [lambda t: t * k for k in range(1, 4)]
    return sum(np.sum(f(x) ** 2) for f in scales)


def lambda_default_from_a_local(x):
    s = x[0] * 2.0
    f = lambda t, scale=s: t * scale
    return np.sum(f(x) ** 2)


def test_late_bound_lambdas_are_refused():
    with pytest.raises(DiffcError, match="late binding") as info:
        diffc.grad(late_bound_lambdas)(X.copy())
    assert "test_hunt_session7.py" in str(info.value)


def early_bound_lambdas(x):
    scales = [lambda t, k=k: t * k for k in range(1, 4)]     # the usual fix: bound now
    return sum(np.sum(f(x) ** 2) for f in scales)


@pytest.mark.parametrize("fn", [lambda_default_from_a_local, early_bound_lambdas], ids=lambda f: f.__name__)
def test_defaults_read_from_locals_are_bound_where_python_binds_them(fn):
    check_both_modes(fn, [X])


def scaled(t, k):
    return t * k


def partials_in_a_comprehension(x):
    scales = [functools.partial(scaled, k=k) for k in range(1, 4)]
    return sum(np.sum(f(x) ** 2) for f in scales)


def test_the_suggested_partial_works():
    check_both_modes(partials_in_a_comprehension, [X])


# ------------------------- nested factories and method results used inside a call

def mlp_from_local_factories(x):
    def make_layer(n_in, n_out, scale):
        W = np.ones((n_out, n_in)) * scale
        return lambda h: np.tanh(W @ h)     # h is the lambda's own, not the outer h
    layers = [make_layer(2, 4, x[0]), make_layer(4, 1, x[1])]
    h = x
    for layer in layers:
        h = layer(h)
    return h[0]


class Integrator:
    def __init__(self, y0, dt):
        self.y = y0
        self.t = 0.0
        self.dt = dt

    def step(self, rate):
        self.y = self.y + self.dt * rate * self.y
        self.t += self.dt
        return self.y


def trajectory_appended_from_a_method(x):
    it = Integrator(x * 1.0, 0.1)
    traj = []
    for _ in range(4):
        traj.append(it.step(-x[0]))
    return np.sum(traj[-1]) + np.sum(traj[0] ** 2) + it.t


@pytest.mark.parametrize("fn", [mlp_from_local_factories, trajectory_appended_from_a_method],
                         ids=lambda f: f.__name__)
def test_factories_and_method_results_inside_calls(fn):
    check_both_modes(fn, [X])


# ------------------- writes through nested helpers; closures seen by the run-time check

def soften(v):
    v += np.exp(v) * 0.1              # writes into the caller's array
    return v


def soften_twice(v):
    v = soften(v)                     # so does this one, through soften
    return v * 2.0


def nested_writer_result_only(x):
    a = soften_twice(x * 1.0)
    return np.sum(a ** 2)


def test_second_order_through_a_nested_writing_helper():
    check_both_modes(nested_writer_result_only, [X])


def nested_writer_then_argument_read(x):
    a = x * 1.0
    b = soften_twice(a)               # a was changed by soften, two calls down
    return np.sum(a ** 2) + np.sum(b)


def test_a_nested_write_into_an_argument_read_afterwards_is_refused():
    with pytest.raises(DiffcError, match="modifies its argument"):
        diffc.grad(nested_writer_then_argument_read)(X.copy())


def closure_over_an_array_of_unknown_kind(x, w):
    s = np.sin(w)
    base = np.full(3, x[0])
    t = base * s                      # an array only known when it runs
    f = make_quadratic(t)
    total = f(x)
    t *= 0.5                          # Python's f sees this
    return total + f(x * 0.5)


def test_a_closure_holding_an_array_written_in_place_is_refused_when_it_runs():
    with pytest.raises(DiffcError, match="in place"):
        diffc.grad(closure_over_an_array_of_unknown_kind)(np.array([0.3, -0.7, 0.5]), -0.2)


def test_the_run_time_check_sees_what_function_values_hold():
    from diffc import runtime_checks
    a = np.zeros(3)
    holders = [make_quadratic(a), functools.partial(scaled, a), lambda t: a * t]
    for holder in holders:
        with pytest.raises(DiffcError, match="another name also holds"):
            runtime_checks.check_unshared(a, holder, 7)
    runtime_checks.check_unshared(a, make_quadratic(np.ones(3)), 7)     # a different array: fine

    class Shift:                                   # a callable object: its attributes count
        def __init__(self, b):
            self.b = b

        def __call__(self, t):
            return t + self.b
    with pytest.raises(DiffcError, match="another name also holds"):
        runtime_checks.check_unshared(a, Shift(a), 7)


def make_layer(w, b):
    return lambda h: np.tanh(w * h + b)


def network_from_factories(x):
    layers = [make_layer(x[0], 0.1), make_layer(x[1] * x[0], -0.2)]
    h = x
    for layer in layers:
        h = layer(h)
    return np.sum(h ** 2)


def test_closures_from_module_level_factories():
    # (second order through a closure a factory returned is still refused: issue 16)
    check_both_modes(network_from_factories, [X], second=False)


# ------------------------------------------------------------------ nested try statements

def handler_raising_to_the_outer_try(x):
    a = 0.0
    b = 0.0
    try:
        a = x[0] ** 2
        try:
            b = x[1] ** 2
            raise KeyError("missing")
        except KeyError:
            b = b * 3.0
            raise ValueError("bad")
    except ValueError:
        a = a + b
    return a * x[2]


def test_an_exception_from_an_inner_handler_is_refused_not_a_crash():
    # (the inner try statement raised part way through: its effects are half done)
    with pytest.raises(DiffcError, match="part way through"):
        diffc.grad(handler_raising_to_the_outer_try)(np.array([0.3, -0.7, 0.5]))


def try_inside_a_handler(x):
    a = 0.0
    try:
        a = x[0] ** 2
        raise KeyError("k")
    except KeyError:
        try:
            a = a * 3.0
            raise ValueError("v")
        except ValueError:
            a = a + x[1]
    return a * x[2]


def nested_try_both_simple(x):
    total = x[2]
    try:
        total = total * x[0]
        try:
            total = total / x[1]
            raise ZeroDivisionError("pretend")
        except ZeroDivisionError:
            total = total + x[1] ** 2
        total = total * 2.0
        raise RuntimeError("after the inner try")
    except RuntimeError:
        total = total - x[0]
    return total


@pytest.mark.parametrize("fn", [try_inside_a_handler, nested_try_both_simple], ids=lambda f: f.__name__)
def test_nested_try_statements_follow_pythons_path(fn):
    check_both_modes(fn, [np.array([0.3, -0.7, 0.5])])


# ---------------- second order through lists of pairs made by generators and reduce

def compose(*fns):
    return lambda v: functools.reduce(lambda acc, f: f(acc), fns, v)


def composed_chain(x):
    f = compose(np.sin, np.exp, lambda v: v * x[0])
    return np.sum(f(x))


def pairs_kept_from_a_generator(x):
    ws = [x[0] * x[1], x[2] + 0.25]
    kept = list(pairs(ws))
    return kept[0][0] * kept[-1][1] + kept[1][0] ** 2


@pytest.mark.parametrize("fn", [composed_chain, pairs_kept_from_a_generator], ids=lambda f: f.__name__)
def test_lists_of_pairs_to_second_order(fn):
    check_both_modes(fn, [np.array([0.3, -0.7, 0.5])])


def reraise_with_effects_the_outer_handler_reads(x):
    a = 0.0
    try:
        try:
            a = x[0] ** 2
            raise ValueError("v")
        except ValueError:
            a = a * 3.0
            raise
    except ValueError:
        a = a + x[1]                  # reads what the inner handler left: 3 x0^2 + x1
    return a


def test_a_reraise_whose_half_done_effects_are_read_is_refused():
    # (before: value -0.7 against Python's -0.43, gradient [0, 1] against [1.8, 1])
    with pytest.raises(DiffcError, match="part way through"):
        diffc.value_and_grad(reraise_with_effects_the_outer_handler_reads)(np.array([0.3, -0.7]))


def reraise_whose_effects_the_outer_handler_replaces(x):
    y = 0.0
    try:
        try:
            y = np.sum(x ** 3)
            raise ValueError("v")
        except ValueError:
            y = np.sum(np.exp(x))
            raise
    except ValueError:
        y = np.sum(np.tanh(x)) * x[0]
    return y


def test_a_reraise_whose_effects_are_overwritten_follows_python():
    check_both_modes(reraise_whose_effects_the_outer_handler_replaces, [X])


# ----------------- a module-level list used as a log: written, never read back

LOSS_HISTORY = []


def logged_objective(x):
    loss = np.sum(np.sin(x) ** 2)
    LOSS_HISTORY.append(float(loss))          # a log the optimizer script prints later
    return loss


def test_appending_to_a_module_level_log_is_differentiated():
    LOSS_HISTORY.clear()
    check_both_modes(logged_objective, [X])
    assert LOSS_HISTORY and all(isinstance(v, float) for v in LOSS_HISTORY)


# ------------------------------ a plain function returning a generator expression

def squares_of(v):
    return (a * a for a in v)


def returned_generator_consumed_after_a_write(x):
    y = x * 1.0
    g = squares_of(y)
    y[0] = x[1] * 4.0                 # Python's generator reads the new y[0]
    return sum(g)


def test_a_returned_generator_consumed_after_a_write_is_refused():
    with pytest.raises(DiffcError, match="only when it is consumed"):
        diffc.grad(returned_generator_consumed_after_a_write)(X.copy())


def returned_generator_consumed_at_once(x):
    y = x * x[0]
    total = sum(squares_of(y))        # second order: the generator was read twice (d2 wrong)
    y[0] = x[1] * 4.0
    return total + y[0]


def test_a_returned_generator_to_second_order():
    check_both_modes(returned_generator_consumed_at_once, [X])
