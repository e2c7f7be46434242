"""Issue 16, session 11 (helper s11a): ordinary Python that diffc used to refuse.

1. writes through a transposed or reshaped view (`M = x.reshape(2, 3); M[0, 1] = v`,
   `A.T[0] += v`, `r = z.ravel(); r[2] *= c`): NumPy changes the viewed array too.

Programs are written the way scientists write them (helpers, loops, lists of arrays).
Every derivative is checked against central finite differences: diffc.grad and diffc.jvp
against differences of the function, diffc.hessian against differences of the (checked)
gradient.  Views diffc cannot prove to be views (a reshape of a 2-d parameter, whose
layout is the caller's) stay refused, never differentiated as copies."""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, fd_jacobian, numeric_grad

RNG = np.random.default_rng(11)
X6 = np.array([0.3, -0.7, 1.1, 0.4, 0.9, -0.2])
X12 = RNG.normal(size=12) * 0.7
A23 = RNG.normal(size=(2, 3))


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


def refused(fn, args, line_text):
    with pytest.raises(diffc.DiffcError) as info:
        diffc.grad(fn)(*args)
    assert line_text in str(info.value)


# ----------------------------------------------- 1. writes through views of an array

def clamp_weight(theta, x):
    W = theta.reshape(2, 3)
    W[0, 1] = np.sin(x[2]) * 3.0          # theta changes too: W is a view of it
    return np.sum(theta * x)


def pinned_matrix_entry(x):
    y = np.cos(x) * x
    M = y.reshape(2, 3)
    for i in range(2):
        M[i, i] = M[i, i] * x[i + 3]
    return np.sum(y ** 2)


def transposed_update(x):
    A = np.outer(x[:2], x[2:5])
    A.T[0] += x[:2] * 2.0
    A.T[2] *= x[5]
    return np.sum(A ** 2)


def transposed_name(x):
    A = np.sin(x).reshape(2, 3)
    B = A.T
    B[0, 1] = x[0] ** 2
    B[2] = B[2] * x[1]
    return np.sum(A * A) + np.sum(B[:, 0])


def ravel_scaled(x):
    z = np.outer(x[:2], x[2:5])
    r = z.ravel()
    r[2] *= x[0]
    r[4] = r[4] + np.tanh(x[5])
    return np.sum(z * z)


def np_ravel_in_loop(x):
    z = np.zeros((2, 3))
    for i in range(2):
        z[i] = x[3 * i:3 * i + 3] ** 2
    flat = np.ravel(z)
    for k in range(0, 6, 2):
        flat[k] = flat[k] * x[k // 2]
    return np.sum(np.exp(z) * 0.1)


def reshape_minus_one(x):
    y = np.cos(x)
    y.reshape(-1)[3] = x[1] * 5.0
    np.reshape(y, (3, 2))[1, 1] += x[2] ** 2
    return np.sum(y * x)


def layer_through_helper(theta, x):
    W = theta[:6].reshape(2, 3)
    b = theta[6:8]
    W[1] = np.tanh(W[1])                  # a view of theta's first six entries
    h = np.tanh(W @ x + b)
    return np.sum(h ** 2) + np.sum(theta ** 2) * 0.1


def write_view_then_base(x):
    y = x * 2.0
    M = y.reshape(2, 3)
    y[0] = np.sin(x[1])                  # M sees this
    M[1, 2] = M[0, 0] * x[3]             # and y sees this
    return np.sum(M ** 2) + np.sum(y * x)


def stack_of_views(xs):
    total = 0.0
    for v in xs:
        m = v.copy()
        grid = m.reshape(2, 2)            # a view: m is a fresh C-ordered copy
        grid.T[1] *= 0.5
        total = total + np.sum(m ** 3)
    return total


def squeeze_write(x):
    col = np.zeros((3, 1)) + x[:3, None]
    s = col.squeeze()
    s[1] = x[4] * s[0]
    return np.sum(col ** 2)


@pytest.mark.parametrize("fn", [clamp_weight, layer_through_helper])
def test_flat_parameter_views(fn):
    x = RNG.normal(size=3) if fn is layer_through_helper else X6 * 0.5
    check(fn, [X12[:8].copy() if fn is layer_through_helper else X6.copy(), x])


@pytest.mark.parametrize("fn", [pinned_matrix_entry, transposed_update, transposed_name, ravel_scaled,
                                np_ravel_in_loop, reshape_minus_one, write_view_then_base, squeeze_write])
def test_writes_through_views(fn):
    check(fn, [X6.copy()])


def test_views_of_items_of_a_list():
    xs = [RNG.normal(size=4), RNG.normal(size=4)]
    expected = numeric_grad(lambda a: stack_of_views([a, xs[1]]), [xs[0]], 0)
    assert_close(diffc.grad(lambda a, b: stack_of_views([a, b]))(xs[0], xs[1]), expected)


def ravel_of_parameter(A, x):
    r = A.ravel()                         # a view only when the caller's A is C-contiguous
    r[0] = x[0]
    return np.sum(A * x[1])


def reshape_of_transposed(x):
    A = np.outer(x[:2], x[2:5]).T
    r = A.reshape(-1)                     # A is not C-contiguous: NumPy copies
    r[0] = 0.0
    return np.sum(A ** 2) + np.sum(r)


def test_views_diffc_cannot_prove_are_refused():
    refused(ravel_of_parameter, [A23.copy(), X6.copy()], "r[0] = x[0]")
    # correct in Python either way; diffc refuses rather than guess the layout
    refused(reshape_of_transposed, [X6.copy()], "r[0] = 0.0")


# ----------------------------------------------- 2. y.sort() in place

def ranked_weights(x):
    y = np.sin(x) * x
    y.sort()                                  # in place: the gradient follows the permutation
    return np.sum(y * np.arange(1.0, 7.0))


def _spread(v):
    v.sort()
    return v[-1] - v[0]


def spread_through_helper(x):
    y = np.cos(x) * 2.0
    s = _spread(y)                            # sorts the caller's y too
    return s + np.sum(y[:3] * x[:3])


def sorted_each_step(x):
    y = x * 1.0
    total = 0.0
    for k in range(3):
        y = y * x[k] + np.sin(y)
        y.sort()
        total = total + y[k] * (k + 1)
    return total


def sort_seen_by_alias(x):
    y = np.tanh(x) * 3.0
    z = y
    top = y[3:]
    top.sort()                                # sorts the tail of y (top is its view)
    y.sort(axis=0)
    return np.sum(z * np.arange(6.0)) + top[0]


def sort_rows(x):
    A = np.outer(x[:2], x[2:5])
    A.sort(axis=0)
    B = np.cos(A)
    B.sort()
    return np.sum(B * np.arange(6.0).reshape(2, 3)) + np.sum(A[0])


def sort_a_list_of_numbers(x):
    vals = [x[0] * 2.0, np.sin(x[1]), x[2] ** 2, x[3]]
    vals.sort(reverse=True)
    return vals[0] * 3.0 + vals[1] - vals[3] * vals[2]


@pytest.mark.parametrize("fn", [ranked_weights, spread_through_helper, sorted_each_step, sort_seen_by_alias,
                                sort_rows, sort_a_list_of_numbers])
def test_sort_in_place(fn):
    check(fn, [X6.copy()])


# ----------------------------------------------- 3. dict.update

def _tune(cfg, x):
    cfg.update({"lr": x[0] * 0.1, "w": np.tanh(x)})


def config_updated(x):
    cfg = {"w": x * 2.0, "s": 0.5}
    cfg.update({"s": x[0] ** 2, "b": np.sin(x)})
    return np.sum(cfg["w"] * cfg["b"]) * cfg["s"]


def merged_from_another_dict(x):
    d = {"a": x[0]}
    other = {"a": x[1] * 3.0, "v": x ** 2}
    d.update(other)
    return d["a"] * np.sum(d["v"])


def updated_by_keywords(x):
    d = {"a": x[0]}
    d.update(a=x[1] * 3.0, v=x ** 2)
    return d["a"] * np.sum(d["v"])


def updated_in_helper(x):
    cfg = {"lr": 0.5, "w": x}
    _tune(cfg, x)
    return np.sum(cfg["w"] ** 2) * cfg["lr"]


def updated_each_step(x):
    params = {"a": x[0], "b": x[1] * 2.0}
    for t in range(3):
        params.update({"a": params["a"] * params["b"] + x[t + 2]})
    return params["a"]


def update_of_a_parameter(x, state):
    state.update(h=np.sin(x) * state["h"], s=x[1])
    return np.sum(state["h"]) + state["s"] ** 2


@pytest.mark.parametrize("fn", [config_updated, merged_from_another_dict, updated_by_keywords, updated_in_helper,
                                updated_each_step])
def test_dict_update(fn):
    check(fn, [X6.copy()])


def test_dict_update_of_a_parameter():
    def loss(x):
        return update_of_a_parameter(x, {"h": np.linspace(0.2, 1.0, 6), "s": 1.0})
    check(loss, [X6.copy()])


def update_then_written_through_the_dict(x):
    w = x * 2.0
    d = {}
    d.update({"w": w, "c": 3.0})
    d["w"][1] = x[4] ** 2                     # w changes too (d holds w's array)
    return np.sum(w * x) + d["c"]


def stored_then_written_through_the_dict(x):
    w = x * 2.0
    d = {}
    d["w"] = w
    d["w"] *= x[3]
    return np.sum(w * x)


def stored_in_a_list_then_written(x):
    w = x * 2.0
    hs = [None]
    hs[0] = w
    hs[0][1] = x[4] ** 2
    return np.sum(w * x)


@pytest.mark.parametrize("fn", [update_then_written_through_the_dict, stored_then_written_through_the_dict,
                                stored_in_a_list_then_written])
def test_array_stored_by_item_assignment_then_written_is_never_silently_wrong(fn):
    """Gave the gradient of the program without the write into w until session 11 (the
    container did not hold w after `d["w"] = w`); now refused when it runs."""
    x = X6.copy()
    try:
        grad = diffc.grad(fn)(x.copy())
    except diffc.DiffcError as exc:
        assert "both would change" in str(exc)
        return
    assert_close(grad, numeric_grad(fn, [x.copy()], 0), what="grad")


# ----------------------------------------------- 4. import inside the function

def local_numpy(x):
    import numpy as np2
    from math import sin
    return np2.sum(x ** 2) * sin(x[0])


def _activation(v):
    from numpy import tanh
    import math
    return tanh(v) * math.cos(v[1])


def import_in_callee(x):
    return np.sum(_activation(x) * x)


def import_submodules(x):
    import numpy.linalg
    from numpy import linalg as la
    A = np.outer(x[:3], x[3:]) + np.eye(3)
    return numpy.linalg.norm(A) + la.det(A)


def import_in_branch_and_nested(x):
    total = 0.0
    if x[0] > 0:
        from numpy import exp
        total = total + np.sum(exp(x))

    def inner(v):
        from math import tanh
        return tanh(v) * v

    for v in x:
        total = total + inner(v)
    return total


@pytest.mark.parametrize("fn", [local_numpy, import_in_callee, import_submodules, import_in_branch_and_nested])
def test_local_imports(fn):
    check(fn, [X6.copy()])


def optional_scipy(x):
    try:
        from scipy.special import expit
    except ImportError:
        expit = None
    return np.sum(expit(x))


def test_import_in_try_stays_refused():
    refused(optional_scipy, [X6.copy()], "from scipy.special import expit")


# ----------------------------------------------- 5. lst.insert on a parameter

def _push_front(lst, v):
    lst.insert(1, v)
    return len(lst)


def insert_through_helper(x, extra):
    n = _push_front(extra, x[0] * 2.0)
    return sum(e * e for e in extra) + x[1] * n


def insert_into_parameter(x, lst):
    lst.insert(0, x[2] ** 2)
    lst.insert(-1, np.sin(x[0]))
    return sum(v * (i + 1) for i, v in enumerate(lst))


@pytest.mark.parametrize("fn", [insert_through_helper, insert_into_parameter])
def test_insert_into_a_list_parameter(fn):
    def loss(x):
        return fn(x, [0.5, 1.5])           # a fresh list per call: the insert changes it
    check(loss, [X6.copy()])


def test_insert_with_respect_to_the_list():
    def loss(lst, x):
        lst.insert(1, x[0] * lst[0])
        return sum(v ** 2 for v in lst)
    got = diffc.grad(loss)([0.5, 1.5], X6.copy())
    assert isinstance(got, list)
    assert_close(got, numeric_grad(lambda a: loss(list(a), X6.copy()), [np.array([0.5, 1.5])], 0))


class Shelf:
    def __init__(self):
        self.items = []

    def insert(self, i, v):
        self.items.append(v)


def insert_into_an_object(x, shelf):
    shelf.insert(0, x[0])
    return x[1] * 2.0


def test_insert_of_another_class_is_not_expanded():
    """Its own insert runs (followed as a method) or the call is refused: never a list's."""
    try:
        got = diffc.grad(insert_into_an_object)(X6.copy(), Shelf())
    except diffc.DiffcError:
        return
    assert_close(got, numeric_grad(lambda v: insert_into_an_object(v, Shelf()), [X6.copy()], 0))


# ----------------------------------------------- 6. functions writing the enclosing function's containers

def _apply(f, n):
    for i in range(n):
        f(i)


def accumulate_through_helper(x):
    acc = [0.0]

    def add(i):
        acc[0] = acc[0] + x[i] ** 2
    _apply(add, 3)
    return acc[0]


def collect_through_helper(x):
    out = []

    def add(i):
        out.append(x[i] ** 2)
    _apply(add, 3)
    return sum(out)


def test_writer_of_captured_containers_used_as_a_value_is_refused():
    """Gave a gradient of zero until session 11 (the helper's calls wrote into acc unseen)."""
    refused(accumulate_through_helper, [X6.copy()], "_apply(add, 3)")
    refused(collect_through_helper, [X6.copy()], "_apply(add, 3)")


def accumulate_by_name(x):
    acc = [0.0]

    def add(i):
        acc[0] = acc[0] + x[i] ** 2
    for i in range(3):
        add(i)
    return acc[0]


def test_writer_of_captured_containers_called_by_name():
    check(accumulate_by_name, [X6.copy()])


# ----------------------------------------------- 8. an item taken before a loop, written in it

def hidden_state_in_a_dict(x):
    state = {"h": np.zeros(3), "c": 1.0}
    h = state["h"]
    for t in range(3):
        h += x[:3] * x[t + 3]
    return np.sum(state["h"] ** 2)


def hidden_state_rows(x):
    state = {"h": x[:3] * 1.0}
    h = state["h"]
    for t in range(3):
        h *= np.cos(x[t])
        h[0] += x[5]
    return np.sum(state["h"] * x[3:])


def two_items_of_a_list(x):
    hs = [x[:3] * 1.0, x[3:] * 2.0]
    a = hs[0]
    b = hs[1]
    for t in range(2):
        a += b * x[t]
        b[1] = a[0] * 0.5
    return np.sum(hs[0] * hs[1])


def state_with_a_counter(x):
    state = {"h": x[:3] * 1.0, "n": 0}
    h = state["h"]
    t = 0
    while t < 3:
        h += np.tanh(h) * x[t]
        state["n"] = state["n"] + 1
        t += 1
    return np.sum(state["h"]) * state["n"]


@pytest.mark.parametrize("fn", [hidden_state_in_a_dict, hidden_state_rows, two_items_of_a_list,
                                state_with_a_counter])
def test_item_taken_before_a_loop(fn):
    check(fn, [X6.copy()])


def test_item_of_a_parameter_taken_before_a_loop():
    def loss(x):
        state = {"h": np.ones(3)}
        h = state["h"]
        for t in range(3):
            h += x[:3] * x[t + 3]
        return np.sum(state["h"] ** 2)
    check(loss, [X6.copy()])


def import_missing_module(x):
    import numpy_that_does_not_exist as npx
    return npx.sum(x)


def test_failing_local_import_names_the_line():
    refused(import_missing_module, [X6.copy()], "import numpy_that_does_not_exist as npx")


def test_imports_used_at_second_order_inside_a_gradient():
    def energy(x):
        from numpy import cos
        return np.sum(cos(x) * x ** 2)

    def grad_norm(x):
        import numpy as np_local
        g = diffc.grad(energy)(x)
        return np_local.sum(g ** 2)
    check(grad_norm, [X6.copy() * 0.5], second=False)


# ----------------------------------------------- 7. a class defined in f reading f's locals

def layer_reading_a_local(x):
    scale = x[0] * 2.0

    class Layer:
        def __init__(self, w):
            self.w = w

        def __call__(self, v):
            return np.tanh(self.w * v * scale)
    layer = Layer(x[1])
    h = x[2:]
    for _ in range(2):
        h = layer(h)
    return np.sum(h ** 2)


def class_without_init(x, k):
    offset = np.cos(x)

    class Energy:
        def value(self, v):
            return k * np.sum((v - offset) ** 2)

        def twice(self, v):
            return 2.0 * self.value(v)
    return Energy().twice(x * x)


def objects_made_in_a_loop(x):
    damping = 0.5 + x[0] ** 2

    class Spring:
        def __init__(self, k):
            self.k = k

        @property
        def force(self):
            return -self.k * damping

        def energy(self, d):
            return 0.5 * self.k * d ** 2 * damping
    total = 0.0
    springs = [Spring(x[i]) for i in range(1, 4)]
    for s in springs:
        total = total + s.energy(x[4]) + s.force
    return total


@pytest.mark.parametrize("fn", [layer_reading_a_local, objects_made_in_a_loop])
def test_local_class_reading_locals(fn):
    check(fn, [X6.copy()])


def test_local_class_reading_a_parameter():
    check(class_without_init, [X6.copy(), 0.7])


def class_reading_a_rebound_local(x):
    k = 2.0

    class Scaled:
        def __call__(self, v):
            return k * v
    s = Scaled()
    k = x[0]                              # the method sees this value in Python
    return np.sum(s(x))


def test_local_class_reading_a_local_rebound_later_stays_refused():
    refused(class_reading_a_rebound_local, [X6.copy()], "class Scaled:")


# ----------------------------------------------- a property read in a loop (silently wrong before)

class Bond:
    def __init__(self, k, damping):
        self.damping = damping
        self.k = k

    @property
    def force(self):
        return -self.k * self.damping


def forces_of_new_objects(x):
    damping = 0.5 + x[0] ** 2
    total = 0.0
    for i in range(1, 4):
        bond = Bond(x[i], damping)
        total = total + bond.force
    return total


def test_property_read_in_a_loop():
    """The reverse sweep called the last iteration's getter for every iteration until session 11
    (-0.72 against -0.48: the getter's temporaries, made inside a branch, were not taped)."""
    check(forces_of_new_objects, [X6.copy()])


def transposed_parameter_update(A, x):
    A.T[0] += x[:2] * 2.0                 # the caller's A is not changed by diffc (a copy)
    return np.sum(A ** 2) + np.sum(A * x[2:5])


def test_write_through_the_transpose_of_a_parameter():
    def fresh(A, x):                      # the reference works on copies (the function writes A)
        return transposed_parameter_update(A.copy(), x)
    for wrt in (0, 1):
        args = [A23.copy(), X6.copy()]
        expected = numeric_grad(fresh, args, wrt)
        assert_close(diffc.grad(transposed_parameter_update, wrt=wrt)(*args), expected, what="grad")
        np.testing.assert_array_equal(args[0], A23)
        direction = RNG.normal(size=np.shape(args[wrt]))
        tangents = tuple(direction if i == wrt else None for i in range(2))
        assert_close(diffc.jvp(transposed_parameter_update, tuple(args), tangents)[1],
                     np.sum(expected * direction), what="jvp")
