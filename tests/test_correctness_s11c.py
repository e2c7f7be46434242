"""Issue 15 leftovers (session 11, helper s11c): derivatives that were NaN or wrong, and
writes that did not reach the object Python writes.

Every derivative is checked against finite differences of the function itself or a closed
form, in both modes (grad and jvp) and at second order (hessian, grad of grad).
"""

import math
import warnings

import numpy as np
import pytest

import diffc


def fd_grad(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def fd_hessian(f, x):
    """Second differences of f itself (never of diffc's gradient), on the scale of x (a point
    near the origin needs a step far below its distance to it)."""
    x = np.asarray(x, dtype=float)
    h = 1e-3 * max(np.linalg.norm(x), 1e-4)
    n = x.size
    H = np.zeros((n, n))
    E = np.eye(n) * h
    for i in range(n):
        for j in range(n):
            H[i, j] = (f(x + E[i] + E[j]) - f(x + E[i] - E[j]) - f(x - E[i] + E[j])
                       + f(x - E[i] - E[j])) / (4 * h * h)
    return H


def check_all_orders(f, x, H_expected=None, atol=1e-5):
    """grad, jvp along each axis, hessian and grad-of-grad of f at x: finite, and equal to
    finite differences (or the closed-form hessian H_expected)."""
    x = np.asarray(x, dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)   # no NaN/inf computed on the way
        g = diffc.grad(f)(x)
        tangents = [diffc.jvp(f, (x,), (e,))[1] for e in np.eye(x.size)]
        H = diffc.hessian(f)(x)
    np.testing.assert_allclose(g, fd_grad(f, x), atol=atol)
    np.testing.assert_allclose(tangents, fd_grad(f, x), atol=atol)
    ref = fd_hessian(f, x) if H_expected is None else H_expected
    np.testing.assert_allclose(H, ref, atol=1e-4 if H_expected is None else 1e-12)
    for i in range(x.size):
        gi = diffc.grad(lambda v: diffc.grad(f)(v)[i])(x)
        np.testing.assert_allclose(gi, ref[i], atol=1e-4 if H_expected is None else 1e-12)


def hypot_sq(v):
    return np.hypot(v[0], v[1]) ** 2


def math_hypot_sq(v):
    return math.hypot(v[0], v[1]) ** 2


def root_sum_sq(v):
    x, y = v[0], v[1]
    return np.sqrt(x**2 + y**2) ** 2


def math_root_sum_sq(v):
    return math.sqrt(v[0] * v[0] + v[1] * v[1]) ** 2


def norm_sq(v):
    return np.linalg.norm(v) ** 2


def hypot_square(v):
    return np.square(np.hypot(v[0], v[1])) + np.hypot(v[1], v[0]) * np.hypot(v[1], v[0])


def complex_abs_cubed(v):
    z = v[0] + 1j * v[1]
    return abs(z) ** 3


def complex_abs_fourth(v):
    z = v[0] + 1j * v[1]
    return np.abs(z) ** 4.0


def hypot_cubed(v):
    return np.hypot(v[0], v[1]) ** 3


def norm_cubed(v):
    return np.linalg.norm(v) ** 3


def abs_power_real(v):
    return np.sum(np.abs(v) ** 2.5) + abs(v[0]) ** 3


SMOOTH_AT_ZERO = [  # (f, hessian at the origin)
    (hypot_sq, 2 * np.eye(2)), (math_hypot_sq, 2 * np.eye(2)), (root_sum_sq, 2 * np.eye(2)),
    (math_root_sum_sq, 2 * np.eye(2)), (norm_sq, 2 * np.eye(2)), (hypot_square, 4 * np.eye(2)),
    (complex_abs_cubed, np.zeros((2, 2))), (complex_abs_fourth, np.zeros((2, 2))),
    (hypot_cubed, np.zeros((2, 2))), (norm_cubed, np.zeros((2, 2))),
    (abs_power_real, np.zeros((2, 2))),
]


@pytest.mark.parametrize("f,H0", SMOOTH_AT_ZERO, ids=[c[0].__name__ for c in SMOOTH_AT_ZERO])
def test_power_of_a_radius_at_the_origin(f, H0):
    """|e|**p, hypot**p, norm**p, sqrt(sum of squares)**p are smooth at 0 (C^2 for p >= 2):
    the first derivative 0 and the hessian the closed form (was NaN or 0 instead of 2)."""
    check_all_orders(f, np.zeros(2), H_expected=H0)


@pytest.mark.parametrize("f", [c[0] for c in SMOOTH_AT_ZERO], ids=[c[0].__name__ for c in SMOOTH_AT_ZERO])
def test_power_of_a_radius_near_the_origin(f):
    check_all_orders(f, [1e-7, -2e-7])


@pytest.mark.slow
@pytest.mark.parametrize("f", [c[0] for c in SMOOTH_AT_ZERO], ids=[c[0].__name__ for c in SMOOTH_AT_ZERO])
@pytest.mark.parametrize("x", [[0.3, -0.4], [-1.1, 0.05]])
def test_power_of_a_radius_away_from_the_origin(f, x):
    check_all_orders(f, x)


def test_complex_abs_cubed_along_a_complex_direction():
    """t -> |t D + z0|**3 for complex D, at z0 == 0 and away: a complex intermediate."""
    for z0, D in [(0.0, 0.6 + 0.8j), (0.2 - 0.1j, 1.0 - 2.0j)]:
        def g(t):
            return abs(t * D + z0) ** 3
        r, c = abs(z0), abs(D)
        # closed form: d2/dt2 |z0 + tD|^3 = 3 (|D|^2 |z0 + tD| + Re(conj(z0) D)^2 / |z0 + tD|)
        expected = 3 * (c * c * r + (np.real(np.conj(z0) * D) ** 2 / r if r else 0.0))
        for second in (diffc.hessian(g), diffc.grad(diffc.grad(g)),
                       diffc.grad(diffc.jacobian(g, mode="forward"))):
            np.testing.assert_allclose(np.ravel(second(0.0))[0], expected, rtol=1e-10, atol=1e-12)


def test_third_derivative_of_abs_cubed_and_fourth_power():
    """Third order through the slope's own rule: 6 sign(x) for |x|**3 away from 0, 24 x
    for |x|**4 (0 at 0)."""
    def cube(x):
        return abs(x) ** 3

    def fourth(x):
        return abs(x + 0j) ** 4
    third = diffc.grad(diffc.grad(diffc.grad(cube)))
    assert third(0.7) == pytest.approx(6.0) and third(-0.2) == pytest.approx(-6.0)
    third4 = diffc.grad(diffc.grad(diffc.grad(fourth)))
    assert third4(0.5) == pytest.approx(12.0) and third4(0.0) == pytest.approx(0.0, abs=1e-12)


def test_radius_powers_keep_their_value_and_type():
    def f(x):
        return abs(x) ** 3 + math.sqrt(x * x) ** 2
    v, g = diffc.value_and_grad(f)(-0.5)
    assert v == f(-0.5) and g == pytest.approx(3 * 0.25 * -1 + 2 * -0.5)
    with pytest.raises(ValueError):
        diffc.grad(lambda x: math.sqrt(x) ** 2)(-1.0)      # as math.sqrt(-1.0) ** 2 does


# --- a context manager whose __exit__ has effects outside it and swallows the exception

EXITS = []
EXIT_COUNT = np.zeros(1)


class Swallowing:
    """Counts its exits in module-level objects and swallows every exception."""

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        EXITS.append(kind)
        EXIT_COUNT[0] += 1.0
        return True


def clipped_energy(x):
    with Swallowing():
        y = x * 2.0
        if x[0] > 0:
            raise ValueError("positive")
        y = y * 3.0
    return np.sum(y ** 2)


@pytest.mark.parametrize("x0", [0.3, -0.3])
def test_swallowing_exit_runs_once(x0):
    """Python runs __exit__ once per call; diffc ran it once more to learn that it swallows
    the exception (its list and array effects happened twice).  Both modes, raised or not."""
    x = np.array([x0, -0.7])
    scale = 4.0 if x0 > 0 else 36.0
    t = np.array([0.25, -1.5])
    for call, expected in ((lambda: diffc.grad(clipped_energy)(x), 2 * scale * x),
                           (lambda: diffc.jvp(clipped_energy, (x,), (t,))[1], 2 * scale * x @ t),
                           (lambda: diffc.value_and_grad(clipped_energy)(x)[1], 2 * scale * x)):
        EXITS.clear()
        EXIT_COUNT[:] = 0.0
        np.testing.assert_allclose(call(), expected, rtol=1e-12)
        assert len(EXITS) == 1 and EXIT_COUNT[0] == 1.0


def test_swallowing_exit_effects_counted_as_python_does():
    """grad and jvp each run f once: one exit each, as one call of f has (ValueError seen
    when x[0] > 0, None otherwise)."""
    x = np.array([0.5, 0.2])
    EXITS.clear()
    clipped_energy(x)
    python = list(EXITS)
    for call in (lambda: diffc.grad(clipped_energy)(x), lambda: diffc.jvp(clipped_energy, (x,), (x,))):
        EXITS.clear()
        call()
        assert EXITS == python


class Recorder:
    """A module-level manager: records the exceptions it sees, swallows ValueError only."""

    def __init__(self):
        self.seen = []

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.seen.append(kind)
        return kind is not None and issubclass(kind, ValueError)


RECORDER = Recorder()


def guarded_square(x):
    with RECORDER:
        y = x * x
        if x[0] > 0:
            raise ValueError("positive")
        y = y * 2.0
    return np.sum(y)


def test_data_dependent_exit_of_a_global_manager_runs_once():
    """__exit__'s result depends on the exception: asked on a deep copy (its list untouched),
    then run once by the handler path, in both modes."""
    x = np.array([0.4, -1.0])
    for call, expected in ((lambda: diffc.grad(guarded_square)(x), 2 * x),
                           (lambda: diffc.jvp(guarded_square, (x,), (np.ones(2),))[1], np.sum(2 * x))):
        RECORDER.seen.clear()
        np.testing.assert_allclose(call(), expected, rtol=1e-12)
        assert RECORDER.seen == [ValueError]


# --- `with s as t`: t is what __enter__ returns (the manager, or an array it holds)

class Buffer:
    """A scratch buffer handed out by __enter__."""

    def __init__(self, n):
        self.data = np.zeros(n)

    def __enter__(self):
        return self.data

    def __exit__(self, kind, value, tb):
        return False

    def fetch(self):
        return self.data


class Accumulator:
    """A manager that is its own `as` value."""

    def __init__(self, n):
        self.data = np.zeros(n)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return False


def write_through_entered_array(x):
    s = Buffer(3)
    with s as t:
        t[0] = x[0] * x[1]
        t[1:] += np.sin(x[1:])
    return np.sum(s.data ** 2)


def update_entered_array(x):
    with Buffer(3) as t:
        t[:] = x * 2.0
        t *= x
    return np.sum(t ** 2)


def write_through_entered_self(x):
    s = Accumulator(3)
    with s as t:
        t.data[0] = x[0] * x[1]
        t.data = t.data + x
    return np.sum(s.data ** 2) + np.sum(t.data)


def update_entered_self(x):
    s = Accumulator(3)
    with s as t:
        t.data += x ** 2
    return np.sum(s.data) * np.sum(t.data)


def written_after_the_with(x):
    s = Accumulator(3)
    with s as acc:
        acc.data[0] = x[0] * x[1]
    acc.data[1] = x[2] ** 2
    return np.sum(s.data * x)


def built_in_the_with(x):
    with Accumulator(3) as acc:
        acc.data[0] = x[0] * x[1]
    acc.data[1] = x[2] ** 2
    return np.sum(acc.data * x)


WITH_PROGRAMS = [write_through_entered_array, update_entered_array, write_through_entered_self,
                 update_entered_self, written_after_the_with, built_in_the_with]


@pytest.mark.parametrize("f", WITH_PROGRAMS, ids=[f.__name__ for f in WITH_PROGRAMS])
def test_writes_into_the_with_target_reach_the_manager(f):
    """Before: the first two gave zeros silently (t was a copy of s.data), the last two
    were refused.  Both modes and the hessian, against finite differences."""
    x = np.array([0.3, -0.7, 1.2])
    check_all_orders(f, x)


def test_a_method_handing_back_an_attribute_then_written_is_refused():
    """`t = s.fetch()` returning s.data, t written, s read after: was silently wrong (t was
    copied); now refused when it runs (the sharing is known then), naming the line."""
    def f(x):
        s = Buffer(3)
        t = s.fetch()
        t[0] = x[0] * x[1]
        return np.sum(s.data ** 2)
    for call in (lambda: diffc.grad(f)(np.ones(3)), lambda: diffc.jvp(f, (np.ones(3),), (np.ones(3),))):
        with pytest.raises(diffc.DiffcError, match="another name also holds"):
            call()


def test_a_method_handing_back_a_new_array_is_followed():
    class Model:
        def __init__(self, w):
            self.w = w

        def forward(self, x):
            return self.w * x

    def f(x):
        m = Model(np.array([1.0, 2.0, 3.0]))
        h = m.forward(x)
        h[0] = h[0] ** 2
        return np.sum(h) + np.sum(m.w * x)
    x = np.array([0.3, -0.7, 1.2])
    check_all_orders(f, x)


class Counter:
    def __init__(self):
        self.total = 0.0

    def __enter__(self):
        return self.total

    def __exit__(self, kind, value, tb):
        return False


def test_augmented_number_from_enter_is_refused_clearly():
    """`with Counter() as c: c += x` rebinds c only (a float): refused (not followed), naming
    the line."""
    def f(x):
        with Counter() as c:
            c += x[0]
        return c * x[1]
    with pytest.raises(diffc.DiffcError, match=r"test_correctness_s11c.py:\d+"):
        diffc.grad(f)(np.ones(2))


# --- `w = fill(u)`: a helper writing into its argument and returning it

def fill(u, v):
    u[:] = v * 2.0
    return u


def fill_if_positive(u, v):
    if v[0] > 0:
        u[:] = v * 2.0
        return u
    u[1] = v[1]
    return u


def filled_then_both_read(x):
    u = np.zeros(3)
    w = fill(u, x)
    return np.sum(w * x) + np.sum(u ** 2)


def filled_then_written(x):
    u = np.zeros(3)
    w = fill(u, x)
    w[0] = x[1] ** 2
    return np.sum(u * x) + np.sum(w)


def filled_on_a_branch(x):
    u = np.ones(3)
    w = fill_if_positive(u, x)
    return np.sum(u * w * x)


FILL_PROGRAMS = [filled_then_both_read, filled_then_written, filled_on_a_branch]


@pytest.mark.parametrize("f", FILL_PROGRAMS, ids=[f.__name__ for f in FILL_PROGRAMS])
@pytest.mark.parametrize("x", [[0.3, -0.7, 1.2], [-0.4, 0.9, 0.5]])
def test_result_that_is_the_written_argument(f, x):
    """Before: refused ("fill modifies its argument 'u' in place, and the caller uses 'u'
    afterwards").  w is u's object: both see the write, both modes and second order."""
    check_all_orders(f, np.array(x))


def test_result_that_is_a_view_of_the_written_argument_is_still_refused():
    def head(u, v):
        u[:] = v
        return u[:2]

    def f(x):
        u = np.zeros(3)
        w = head(u, x)
        return np.sum(w) + np.sum(u)
    with pytest.raises(diffc.DiffcError):
        diffc.grad(f)(np.ones(3))


def test_radius_powers_of_lists_keep_their_structure():
    """np.linalg.norm([a, b]) ** 2, np.abs/np.sqrt/np.hypot of lists, a list argument:
    the gradient in the argument's structure (the first version of the rewrite gave zeros)."""
    def g(v):
        return np.linalg.norm(v) ** 2 + np.sum(np.abs(v) ** 3)

    def f(x, y):
        return np.sum(np.sqrt([x * x, y * y + 1.0]) ** 3) + np.sum(np.hypot([x, y], [y, 1.0]) ** 3)
    expected = [2 * 0.3 + 3 * 0.09, -2 * 0.4 - 3 * 0.16]
    np.testing.assert_allclose(diffc.grad(g)([0.3, -0.4]), expected, rtol=1e-12)
    assert isinstance(diffc.grad(g)((0.3, -0.4)), tuple)
    a = (0.3, -0.4)
    fd = [(f(a[0] + 1e-6, a[1]) - f(a[0] - 1e-6, a[1])) / 2e-6, (f(a[0], a[1] + 1e-6) - f(a[0], a[1] - 1e-6)) / 2e-6]
    np.testing.assert_allclose(diffc.grad(f, wrt=(0, 1))(*a), fd, rtol=1e-6)
    np.testing.assert_allclose(diffc.jvp(f, a, (0.0, 1.0))[1], fd[1], rtol=1e-6)
