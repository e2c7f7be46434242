"""NumPy array semantics that gave silently wrong gradients (bug hunt, session 7, arrays).

- results written through ``out=`` (keyword or positional, NumPy functions and array
  methods), also into a 0-d array, whose adjoint is a number;
- a differentiated float written into an integer or boolean array (NumPy truncates:
  no derivative flows through that write);
Every derivative is checked against central finite differences in both modes and at
second order (check_both_modes), or the program must be refused with a DiffcError.
"""
import numpy as np
import pytest

import diffc
from diffc.errors import DiffcError
from gradcheck import check_both_modes

X = np.array([0.31, -0.72, 1.13, 0.46])
WEIGHTS = np.arange(4.0) + 1.0


# --------------------------------------------------------------- out= is followed

def energy_into_scalar_buffer(x):
    e = np.zeros(())
    np.einsum("i,i->", x, x, out=e)
    return float(e) * 2.0


def mean_square_into_buffer(x):
    m = np.empty(())
    np.mean(x ** 2, out=m)
    return m * 3.0 + x[0]


def total_by_method_into_buffer(x):
    s = np.zeros(())
    (np.sin(x) * x).sum(out=s)
    return float(s)


def matrix_vector_positional_out(x):
    A = np.outer(x, x) + np.eye(4)
    y = np.zeros(4)
    np.dot(A, x, y)                   # np.dot(a, b, out)
    return np.sum(y * WEIGHTS)


def running_sum_positional_out(x):
    c = np.zeros(4)
    np.cumsum(x ** 2, 0, None, c)     # np.cumsum(a, axis, dtype, out)
    return np.sum(c * WEIGHTS)


def running_sum_method_positional_out(x):
    c = np.zeros(4)
    (x * 2.0).cumsum(0, None, c)      # x.cumsum(axis, dtype, out)
    return np.sum(c * WEIGHTS)


def std_positional_out_then_ddof(x):
    s = np.zeros(())
    np.std(x, None, None, s, 1)       # ddof after out stays ddof
    return s * 1.0


def exp_into_buffer_given_as_tuple(x):
    y = np.zeros(4)
    np.exp(x, out=(y,))               # the ufunc form of one output
    return np.sum(y * WEIGHTS)


def clipped_in_place_by_method(x):
    y = x * 1.5
    y.clip(-0.5, 0.5, out=y)
    return np.sum(y * WEIGHTS)


def accumulate_into_local_buffer_in_loop(x):
    acc = np.zeros(4)
    step = np.empty(4)
    for k in range(3):
        np.multiply(x, x[k], out=step)
        np.add(acc, step, out=acc)
    return np.sum(acc * WEIGHTS)


def zero_d_state_overwritten(x):
    state = np.array(x[0])
    before = float(state)
    state[...] = x[1] ** 2
    return before + 3.0 * float(state)


def zero_d_state_reset_to_constant(x):
    state = np.array(x[0] * x[1])
    before = float(state)
    state[()] = 1.0
    return before * 2.0 + float(state) * x[2]


def damped_by_scalar_buffer(gain, phases):
    level = gain * 0.5
    acc = np.zeros(())
    np.sum(np.sin(phases) * level, out=acc)
    level = level + float(acc) * 0.5
    return level * level


def test_zero_d_buffer_with_a_float_parameter():
    check_both_modes(damped_by_scalar_buffer, [-0.545, np.array([1.283, 1.486, 1.251])])


@pytest.mark.parametrize("fn", [energy_into_scalar_buffer, mean_square_into_buffer, total_by_method_into_buffer,
                                matrix_vector_positional_out, running_sum_positional_out,
                                running_sum_method_positional_out, std_positional_out_then_ddof,
                                clipped_in_place_by_method, accumulate_into_local_buffer_in_loop,
                                exp_into_buffer_given_as_tuple,
                                zero_d_state_overwritten, zero_d_state_reset_to_constant])
def test_out_argument_is_followed(fn):
    check_both_modes(fn, [X.copy()])


def projection_into_buffer_by_method(x):
    y = np.zeros(4)
    x.dot(np.eye(4) * 2.0, y)         # ndarray.dot(b, out): out by position
    return np.sum(y * WEIGHTS)


def peak_into_buffer_by_method(x):
    m = np.zeros(())
    (x ** 2).max(0, m)                # ndarray.max(axis, out)
    return float(m)


@pytest.mark.parametrize("fn", [projection_into_buffer_by_method, peak_into_buffer_by_method])
def test_positional_out_of_a_method_is_followed(fn):
    # (session 8: followed like out=, on an ndarray receiver decided when the code runs)
    check_both_modes(fn, [X.copy()])


class Bilinear:
    """A user class whose methods share ndarray's names (dot, max) with other parameters."""

    def __init__(self, w):
        self.w = w

    def dot(self, a, b):
        return np.sum(a * self.w * b)

    def max(self, a, b):
        return np.maximum(a, b)


def bilinear_form(x):
    form = Bilinear(np.array([1.0, 2.0, 3.0, 4.0]))
    return form.dot(x, x ** 2) + np.sum(form.max(x, 0.1 * x))


def test_methods_named_like_array_methods_still_work():
    check_both_modes(bilinear_form, [X.copy()])


# --------------------------------------------- writes into integer and bool arrays

def histogram_counts(x):
    counts = np.zeros(4, dtype=int)
    for i in range(4):
        counts[i] = x[i] * 7.0        # truncated to an int
    return np.sum(counts * x ** 2)


def bins_like_an_index_array(x):
    bins = np.empty_like(np.arange(4))
    bins[:] = x * 5.0
    return np.sum(bins) * x[1] + x[2]


def flags_from_values(x):
    mask = np.zeros(4, dtype=bool)
    mask[1:] = x[1:] * 3.0
    return np.sum(mask * x ** 2) + np.sum(np.where(mask, x, -x))


def int32_counter_incremented(x):
    c = np.zeros(2, dtype=np.int32)
    c[0] += x[0] * 9.0
    return c[0] * x[1] + x[3]


def float_table_still_differentiated(x):
    table = np.zeros((2, 4))
    table[0] = x * 5.0
    table[1, 1:] = x[:3] ** 2
    return np.sum(table * table)


@pytest.mark.parametrize("fn", [histogram_counts, bins_like_an_index_array, flags_from_values,
                                int32_counter_incremented, float_table_still_differentiated])
def test_write_into_integer_array_has_no_derivative(fn):
    check_both_modes(fn, [X.copy()])


def test_integer_write_gradient_closed_form():
    # d/dx sum(counts * x**2) with counts piecewise constant: 2 * counts * x
    counts = np.trunc(X * 7.0)
    np.testing.assert_allclose(diffc.grad(histogram_counts)(X.copy()), 2.0 * counts * X)


# ------------------------------ chained indexing: a[i][j] = v writes into a[i]

GRID_WEIGHTS = np.arange(16.0).reshape(4, 4) + 1.0


def write_into_fancy_row_copy(x):
    M = np.outer(x, x)
    M[[0, 2]][:, 1] = 9.0 * x[0]      # M[[0, 2]] is a copy: M is unchanged
    return np.sum(M * GRID_WEIGHTS)


def write_into_column_selection_copy(x):
    M = np.outer(x, x)
    M[:, [0, 1]][0] = 0.0             # a copy again
    M[:2][:, 1] = x[:2]               # a slice is a view: M changes
    return np.sum(M * GRID_WEIGHTS)


def write_into_masked_copy(x):
    y = x * 2.0
    y[y > 0][0] = 10.0 * x[1]         # a boolean mask makes a copy
    return np.sum(y * x)


def rows_from_a_variable(x):
    M = np.outer(x, x)
    band = slice(1, 3)
    M[band][0] = x[3] * 3.0           # slice in a variable: a view
    chosen = [1, 3]
    M[chosen][0] += x[2] * 4.0        # index list in a variable: a copy
    return np.sum(M * GRID_WEIGHTS)


def row_picked_at_run_time(x):
    A = np.outer(x, x)
    i = int(np.argmax(x))
    A[i][0] = x[1] ** 2               # an int: a view
    return np.sum(A * GRID_WEIGHTS)


def diagonal_by_double_index(x):
    A = np.zeros((4, 4))
    for i in range(4):
        A[i][i] = x[i] ** 2
        A[i][(i + 1) % 4] += x[i]
    return np.sum(A * GRID_WEIGHTS)


def table_as_list_of_lists(x):
    table = [[0.0, 0.0], [0.0, 0.0]]
    for i in range(2):
        for j in range(2):
            table[i][j] = x[i] * x[j + 2]
    total = 0.0
    for i in range(2):
        for j in range(2):
            total += table[i][j] * (i + 2 * j + 1)
    return total


@pytest.mark.parametrize("fn", [write_into_fancy_row_copy, write_into_column_selection_copy, write_into_masked_copy,
                                rows_from_a_variable, row_picked_at_run_time, diagonal_by_double_index,
                                table_as_list_of_lists])
def test_chained_index_write_reaches_only_views(fn):
    check_both_modes(fn, [X.copy()])


# ----------------------- module-level arrays and dicts written through a local name

WORKSPACE = np.zeros(4)
SETTINGS = {"scale": 1.0, "weights": np.ones(4)}
STATE_GRID = np.ones((2, 4))
LOG = []


def workspace_energy():
    return np.sum(WORKSPACE ** 2)


def current_scale():
    return SETTINGS["scale"]


def fill_workspace_by_alias(x):
    buf = WORKSPACE
    buf[:] = x * 2.0
    return workspace_energy() + x[0]


def fill_workspace_view(x):
    tail = WORKSPACE[1:]
    tail[0] = x[1] ** 2
    return np.sum(WORKSPACE * x)


def rescale_through_settings_alias(x):
    cfg = SETTINGS
    cfg["scale"] = 2.0
    return np.sum(x * current_scale())


def update_weights_item(x):
    w = SETTINGS["weights"]
    w *= x[0]
    return np.sum(SETTINGS["weights"] * x)


def exp_into_grid_row(x):
    row = STATE_GRID[0]
    np.exp(x, out=row)
    return np.sum(STATE_GRID)


def helper_filling_workspace(x):
    buf = WORKSPACE
    buf[:2] = x[:2]
    return 0.0


def calls_helper_filling_workspace(x):
    return helper_filling_workspace(x) + workspace_energy()


def appends_to_log(x):
    LOG.append(x[0])
    return x[0] * len(LOG)


class Simulation:
    def __init__(self):
        self.positions = np.zeros(4)
        self.dt = 0.1


SIMULATION = Simulation()


def kinetic_energy():
    return 0.5 * np.sum(SIMULATION.positions ** 2)


def move_simulation_attribute(x):
    pos = SIMULATION.positions
    pos[:] = x * SIMULATION.dt
    return kinetic_energy() + x[0]


def fill_default_buffer(x, out=WORKSPACE):
    out[:] = x ** 2
    return workspace_energy()


@pytest.mark.parametrize("fn", [fill_workspace_by_alias, fill_workspace_view, rescale_through_settings_alias,
                                update_weights_item, exp_into_grid_row, calls_helper_filling_workspace,
                                appends_to_log, move_simulation_attribute, fill_default_buffer])
def test_write_into_module_object_through_a_name_is_refused(fn):
    with pytest.raises(DiffcError, match="module-level object"):
        diffc.grad(fn)(X.copy())
    with pytest.raises(DiffcError, match="module-level object"):
        diffc.jvp(fn, (X.copy(),), (np.ones(4),))


def scaled_by_setting_copy(x):
    s = SETTINGS["scale"]             # a float: s += rebinds s
    s += 1.0
    buf = WORKSPACE.copy()
    buf[:] = x * s
    return np.sum(buf ** 2)


def rebound_before_writing(x):
    buf = WORKSPACE
    total = np.sum(buf)               # only read
    buf = np.zeros(4)
    buf[0] = x[0] ** 2
    return np.sum(buf * x) + total


def table_entries_in_a_loop(x):
    total = 0.0
    for i in range(4):
        w = SETTINGS["weights"][i]    # a number
        w += x[i]
        total += w * x[i]
    return total


def step_from_simulation_settings(x):
    dt = SIMULATION.dt                # a float attribute: dt *= 2 rebinds dt
    dt *= 2.0
    pos = SIMULATION.positions.copy()
    pos += x * dt
    return np.sum(pos ** 2)


@pytest.mark.parametrize("fn", [scaled_by_setting_copy, rebound_before_writing, table_entries_in_a_loop,
                                step_from_simulation_settings])
def test_reading_module_objects_still_works(fn):
    check_both_modes(fn, [X.copy()])
