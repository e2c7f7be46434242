"""Issue 16, session 12 (helper s12a): ordinary Python that diffc used to refuse.

1. a helper returning a view of its argument, the caller writing into it;
2. writes through transposes with axes, swapaxes and moveaxis of 3-d arrays;
3. methods changing the object's own containers (sort, append, item writes);
4. NumPy ufuncs and library functions given straight to the entry points;
5. a helper calling a method that writes attributes of an object made in the caller;
6. a nested function with `nonlocal` writes used as a value;
7. tuple state through a helper, and a list holding an array written afterwards.

Programs are written the way scientists write them.  Every derivative is checked against
central finite differences (grad and jvp against differences of the function, hessian
against differences of the checked gradient) or a closed form, never against diffc."""
import math

import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

RNG = np.random.default_rng(12)
X6 = np.array([0.3, -0.7, 1.1, 0.4, 0.9, -0.2])
X24 = RNG.normal(size=(2, 3, 4)) * 0.6


def check(fn, args, wrt=0, second=True):
    """grad and jvp of fn with respect to args[wrt] against central differences; second:
    diffc.hessian against differences of the (checked) gradient."""
    args = list(args)
    before = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    expected = numeric_grad(fn, [np.copy(a) if isinstance(a, np.ndarray) else a for a in args], wrt)
    grad = diffc.grad(fn, wrt=wrt)
    assert_close(grad(*args), expected, what="grad")
    direction = RNG.normal(size=np.shape(args[wrt])) if np.ndim(args[wrt]) else 0.7
    tangents = tuple(direction if i == wrt else None for i in range(len(args)))
    assert_close(diffc.jvp(fn, tuple(args), tangents)[1], np.sum(expected * direction), what="jvp")
    for a, b in zip(args, before):
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(a, b)        # diffc never changes the caller's arrays
    if second:
        def grad_at(v):
            return grad(*[v if i == wrt else a for i, a in enumerate(args)])
        assert_close(diffc.hessian(fn, wrt=wrt)(*args), fd_jacobian(grad_at, args[wrt], eps=1e-5),
                     rtol=1e-5, atol=1e-6, what="hessian")


# ----------------------------------------------- 1. a helper handing back a view, then written

def head(a):
    return a[:2]


def as_matrix(a):
    return a.reshape(2, 3)


def flipped(a):
    return a.T


def block(a, i, width=2):
    """Rows i..i+width of a."""
    return a[i:i + width]


def unpack(theta):
    W = theta[:6].reshape(2, 3)
    b = theta[6:8]
    return W, b


def damp_head(x):
    z = x * 1.0
    v = head(z)
    v *= x[3]                              # z's first two entries change too
    return np.sum(z ** 2)


def damp_head_in_loop(x):
    z = np.sin(x)
    for k in range(3):
        v = head(z)
        v *= x[k + 2]
    return np.sum(z * x)


def pin_matrix_entry(x):
    z = x * 2.0
    M = as_matrix(z)
    M[1, 2] = x[0] ** 2
    return np.sum(z ** 3)


def transposed_helper(x):
    z = np.outer(x[:3], x[3:]) + 0.0
    t = flipped(z)
    t[0, 1] = x[0] * 3.0
    return np.sum(z ** 2)


def sliding_blocks(x):
    z = np.cos(x)
    total = 0.0
    for i in range(0, 4, 2):
        w = block(z, i)
        w -= 0.1 * x[i]
        total += np.sum(w * x[i:i + 2])
    return total + np.sum(z)


def layer_with_frozen_bias(theta, x):
    W, b = unpack(theta)
    b[1] = 0.0                             # theta[7] is pinned, as in the user's model
    W[0] *= 0.5
    return np.sum(np.tanh(W @ x + b)) + np.sum(theta ** 2)


def view_seen_after_write(x):
    z = x * 1.0
    tail = head(z)
    z[1] = x[2] ** 2                       # tail is z's memory: it shows the write
    return np.sum(tail ** 2)


@pytest.mark.parametrize("fn", [damp_head, damp_head_in_loop, pin_matrix_entry, transposed_helper,
                                sliding_blocks, view_seen_after_write])
def test_helper_views_written_by_the_caller(fn):
    check(fn, [X6], second=fn in (damp_head, sliding_blocks))


def test_unpacked_parameters_written():
    theta = RNG.normal(size=8)
    check(layer_with_frozen_bias, [theta, np.array([0.5, -1.0, 0.3])], second=False)


def model_step(x):
    """The helper view made in a callee, written there, seen by the caller."""
    z = x * 1.0
    damp_inside(z, x[5])
    return np.sum(z ** 2)


def damp_inside(z, c):
    v = head(z)
    v *= c


def test_helper_view_in_a_callee():
    check(model_step, [X6])


# ----------------------------------------------- 2. transposes with axes of 3-d arrays

def scale_first_channel(field):
    u = field * 1.0
    by_row = u.transpose(1, 0, 2)          # (rows, batch, cols), a view of u
    by_row[0] *= 2.0
    return np.sum(u ** 2 * np.arange(4.0))


def pin_channels(field):
    u = np.tanh(field)
    chans = np.transpose(u, (2, 0, 1))
    chans[1] = field[0, 0, 0] ** 2          # u's column 1 changes too
    return np.sum(u * np.sin(field))


def shift_by_tuple(field):
    u = field * 1.0
    v = u.transpose((2, 0, 1))
    for k in range(3):
        v[k + 1] += u[0, k, 0] * 0.5       # u written through v; v re-read after each write
    return np.sum(u ** 3)


def moved_axis(field):
    u = np.exp(0.3 * field)
    last_first = np.moveaxis(u, -1, 0)
    last_first[2] = last_first[1] * field[1, 2, 3]
    return np.sum(u * field)


def swapped(field):
    u = field ** 2
    w = np.swapaxes(u, 0, 2)
    w[:, 1] -= 0.5 * field[0, 1, 2]
    v = u.swapaxes(1, 2)
    v[0, 0] *= u[1, 1, 1]
    return np.sum(np.cos(u))


def keyword_axes(field):
    u = field * 1.0
    t = np.transpose(u, axes=(0, 2, 1))
    u[0, 0, 0] = 3.0 * field[1, 1, 1]       # t sees the write into u
    return np.sum(t[0] ** 2 * np.arange(3.0))


@pytest.mark.parametrize("fn", [scale_first_channel, pin_channels, shift_by_tuple, moved_axis, swapped,
                                keyword_axes])
def test_writes_through_axes_views(fn):
    check(fn, [X24], second=fn in (pin_channels, moved_axis))


def test_axes_views_that_already_worked():
    def reads(field):
        a = np.transpose(field, (1, 0, 2))[0]
        b = field.transpose(2, 0, 1)[1]
        c = np.moveaxis(field, 0, -1)[1]
        d = np.swapaxes(field, 0, 2)[1]
        return np.sum(a ** 2) + np.sum(b) * np.sum(c ** 2) + np.sum(d ** 3)
    check(reads, [X24], second=False)


# ----------------------------------------------- 3. methods changing what their attributes hold

class Ranked:
    """Order statistics of a sample, kept sorted."""

    def __init__(self, values):
        self.values = values

    def order(self):
        self.values.sort()

    def weighted(self, w):
        return np.sum(self.values * w)


class Recorder:
    def __init__(self, first, size):
        self.items = [first]
        self.buf = np.zeros(size)
        self.seen = list(first * np.ones(1))

    def add(self, v):
        self.items.append(v)

    def put(self, i, v):
        self.buf[i] = v

    def bump(self, i, v):
        self.buf[i] += v

    def push_front(self, v):
        self.seen.insert(0, v)


def sorted_weights(x):
    r = Ranked(x * 1.0)
    r.order()
    return r.weighted(np.arange(6.0))


def sorted_list_of_numbers(x):
    r = Ranked([x[0] * 2, x[1], x[2] ** 2])
    r.order()
    return r.values[0] * 3.0 + r.values[-1]


def recorded_trajectory(x):
    rec = Recorder(x[0], 4)
    h = x[1]
    for i in range(4):
        h = np.tanh(h * x[2] + x[3])
        rec.add(h)
        rec.put(i, h * x[4])
        rec.bump(i, x[5] ** 2)
        rec.push_front(h - x[0])
    return sum(rec.items) + np.sum(rec.buf ** 2) + rec.seen[0] * rec.seen[2]


def ranked_in_helper(x):
    r = Ranked(np.sin(x))
    reorder(r)
    return r.weighted(np.linspace(0.0, 1.0, 6))


def reorder(r):
    r.order()


@pytest.mark.parametrize("fn", [sorted_weights, sorted_list_of_numbers, recorded_trajectory, ranked_in_helper])
def test_methods_changing_their_attributes_values(fn):
    check(fn, [X6], second=fn is recorded_trajectory)


def sorted_argument_read_again(x):
    r = Ranked(x)
    r.order()                              # sorts the caller's x too
    return np.sum(x * np.arange(6.0))


def test_sorting_a_value_another_name_holds_is_refused():
    with pytest.raises(diffc.DiffcError, match="another name also holds"):
        diffc.grad(sorted_argument_read_again)(X6.copy())


# ----------------------------------------------- 5. a helper calling an attribute-writing method

class Cell:
    def __init__(self, W):
        self.W = W
        self.h = None

    def update(self, x):
        self.h = np.tanh(self.W @ x)


def step(cell, x):
    cell.update(x)


def advance(cell, x):
    step(cell, x)
    return cell.h


def rollout_with_fresh_cell(W):
    return np.sum(advance(Cell(W), np.array([0.5, -0.2])) ** 2)


def rollout(W):
    cell = Cell(W)
    x = np.array([0.5, -0.2])
    for _ in range(3):
        step(cell, x)
        x = cell.h
    return np.sum(x ** 2)


class Stack:
    def __init__(self):
        self.items = []

    def insert(self, i, v):
        self.items.insert(i, v)

    def __len__(self):
        return len(self.items)


def fill(x, s):
    s.insert(0, x[0])
    s.insert(0, x[1] ** 2)
    return len(s) * x[0] + s.items[0]


def fill_fresh(x):
    return fill(x, Stack())


@pytest.mark.parametrize("fn", [rollout_with_fresh_cell, rollout])
def test_helpers_calling_attribute_writing_methods(fn):
    check(fn, [np.array([[0.3, 0.1], [-0.4, 0.9]])], second=fn is rollout)


def test_object_made_in_the_call_with_its_own_insert():
    check(fill_fresh, [np.array([0.3, 0.6])])


# ----------------------------------------------- 7. tuple state through a helper; a list holding an array

def leapfrog(state, dt):
    pos, vel = state
    pos += dt * vel
    vel -= dt * np.sin(pos)                 # a pendulum
    return (pos, vel)


def pendulum(x):
    state = (x[:3] * 1.0, x[3:] * 1.0)
    for _ in range(4):
        state = leapfrog(state, 0.1)
    pos, vel = state
    return np.sum(pos ** 2) + np.sum(vel)


def kick(state, dt):
    pos, vel = state
    vel -= dt * pos                          # nothing returned: the tuple's arrays change


def kicked_twice(x):
    state = (x[:3] * 1.0, x[3:] * 1.0)
    kick(state, 0.2)
    kick(state, 0.3)
    return np.sum(state[1] ** 2) + np.sum(state[0])


def old_state_read_after_step(x):
    state = (x[:3] * 1.0, x[3:] * 1.0)
    new = leapfrog(state, 0.1)
    return np.sum(state[0] * new[1])         # the old tuple holds the same, changed, arrays


def item_taken_and_scaled(x):
    pair = (np.cos(x[:3]), x[3:] * 1.0)
    first = pair[0]
    first *= x[4]
    return np.sum(pair[0] ** 2) + np.sum(pair[1])


W3 = np.array([[0.5, -0.3, 0.2], [0.1, 0.4, -0.6], [0.3, 0.2, 0.1]])


def rnn_history(x):
    hist = []
    h = x[:3] * 1.0
    for t in range(3):
        h = np.tanh(W3 @ h + x[3:])
        hist.append(h)
        h[0] = x[1] * h[2]                   # hist[-1] is h: it shows the write
    return sum(np.sum(v ** 2) for v in hist)


def history_then_scaled(x):
    hist = []
    h = x * 1.0
    hist.append(h)
    h[1] = x[0] ** 2
    h *= x[2]
    return np.sum(hist[0] ** 2) + np.sum(h)


def named_array_in_list_kicked(x):
    pos = x[:3] * 1.0
    state = [pos, x[3:] * 1.0]
    kick_position(state, 0.1)
    return np.sum(state[0] ** 2)             # read through the list, not through pos


def list_state_kicked(x):
    state = [x[:3] * 1.0, x[3:] * 1.0]
    kick(state, 0.2)
    return np.sum(state[1] ** 2) + np.sum(state[0])


@pytest.mark.parametrize("fn", [pendulum, kicked_twice, old_state_read_after_step, item_taken_and_scaled,
                                rnn_history, history_then_scaled, list_state_kicked,
                                named_array_in_list_kicked])
def test_state_held_by_tuples_and_lists(fn):
    check(fn, [X6], second=fn in (pendulum, kicked_twice, rnn_history))


def pos_read_after_kick(x):
    pos = x[:3] * 1.0
    state = (pos, x[3:] * 1.0)
    kick_position(state, 0.1)
    return np.sum(pos ** 2)                  # pos is the tuple's array, changed by the call


def kick_position(state, dt):
    pos, vel = state
    pos += dt * vel


def list_read_after_kick(x):
    pos = x[:3] * 1.0
    state = [pos, x[3:] * 1.0]
    kick_position(state, 0.1)
    return np.sum(pos ** 2)


def same_object_appended_each_step(x):
    hist = []
    h = x[:3] * 1.0
    for t in range(3):
        hist.append(h)                      # one array, three times
        h *= 0.9 + x[3]
    return sum(np.sum(v * np.arange(3.0)) for v in hist)


@pytest.mark.parametrize("fn", [pos_read_after_kick, list_read_after_kick, same_object_appended_each_step])
def test_sharing_diffc_cannot_follow_is_refused_not_wrong(fn):
    """pos_read_after_kick and list_read_after_kick gave a wrong gradient before session 12."""
    with pytest.raises(diffc.DiffcError):
        diffc.grad(fn)(X6.copy())


# ----------------------------------------------- 4. library functions given directly

def test_ufunc_and_library_functions_directly():
    x = np.array([0.3, -0.7, 1.1])
    out, pullback = diffc.vjp(np.sin, x)
    assert_close(out, np.sin(x))
    (x_bar,) = pullback(np.array([1.0, 2.0, -1.0]))
    assert_close(x_bar, np.cos(x) * np.array([1.0, 2.0, -1.0]))
    assert_close(diffc.grad(np.sum)(x), np.ones(3))
    value, tangent = diffc.jvp(np.tanh, (x,), (np.array([1.0, 0.5, 2.0]),))
    assert_close(tangent, (1 - np.tanh(x) ** 2) * np.array([1.0, 0.5, 2.0]))
    assert_close(diffc.grad(math.sin)(0.3), math.cos(0.3))
    assert_close(diffc.hessian(math.sin)(0.3), -math.sin(0.3))
    assert_close(diffc.grad(diffc.grad(np.tanh))(0.4), -2 * np.tanh(0.4) * (1 - np.tanh(0.4) ** 2))
    r = np.linalg.norm(x)
    assert_close(diffc.hessian(np.linalg.norm)(x), (np.eye(3) - np.outer(x, x) / r ** 2) / r)
    assert_close(diffc.grad(np.hypot, wrt=(0, 1))(0.3, 0.4), (0.6, 0.8))
    assert_close(diffc.jacobian(np.cumsum, mode="forward")(x), np.tril(np.ones((3, 3))))
    assert_close(diffc.value_and_grad(np.prod)(x)[1], np.array([x[1] * x[2], x[0] * x[2], x[0] * x[1]]))


def slope_times_x(x):
    return diffc.grad(np.sin)(x) * x           # a derivative of a ufunc inside the objective


def test_library_function_given_to_grad_inside_differentiated_code():
    assert_close(diffc.grad(slope_times_x)(0.3), np.cos(0.3) - 0.3 * np.sin(0.3))


def test_library_function_without_rule_still_refused():
    with pytest.raises(diffc.DiffcError):
        diffc.grad(np.random.normal)(0.3)
