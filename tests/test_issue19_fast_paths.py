"""Issue 19 fast paths: fancy-index adjoints by one bincount (runtime.scatter_sum), an
integer ``astype`` that carries no derivative (analysis/calls.integer_cast), the clip
mask, split tapes that remake cheap entries (optimize/recompute_cheap_entries.py), and the fast
call path's validity check (compile_cache.Entry.fast_check).

Every gradient is checked against central finite differences, in reverse and in
forward mode, and against the unoptimized gradient (``optimize=False``) to 1e-12
(scatters reassociate sums); the runtime helpers against ``np.add.at``."""

import warnings

import numpy as np
import pytest

import diffc
from diffc.runtime import acc_item, scatter_sum
from gradcheck import numeric_grad

pytestmark = pytest.mark.filterwarnings("ignore::diffc.DiffcWarning")


def reference_scatter(index, g, shape):
    out = np.zeros(shape)
    np.add.at(out, index, g)
    return out


# ---------------------------------------------------------------- scatter_sum

@pytest.mark.parametrize("shape,index_shapes,g_shape", [
    ((48, 48), [(48, 48), (48, 48)], (48, 48)),        # bilinear gathers
    ((10,), [(30,)], (30,)),                             # repeated entries of a vector
    ((6, 5), [(7, 1), (1, 4)], (7, 4)),                  # index arrays broadcasting together
    ((6, 5), [(7, 1), (1, 4)], (4,)),                    # ... and g broadcasting to the read
    ((8, 3), [(20,)], (20, 3)),                          # rows of a matrix (embedding lookup)
    ((4, 3, 2), [(9,)], (9, 3, 2)),                      # leading axis, two trailing axes whole
    ((4, 3, 2), [(5, 2), (5, 2)], (5, 2, 2)),            # two leading axes, one trailing
])
def test_scatter_sum_matches_ufunc_at_with_repeats_and_negative_indices(shape, index_shapes, g_shape):
    rng = np.random.default_rng(len(shape) + len(index_shapes))
    index = tuple(rng.integers(-n, n, s) for n, s in zip(shape, index_shapes))
    index = index if len(index) > 1 else index[0]
    g = rng.standard_normal(g_shape)
    np.testing.assert_allclose(scatter_sum(index, g, shape), reference_scatter(index, g, shape),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(scatter_sum(index, 2.5, shape), reference_scatter(index, 2.5, shape),
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.int32, np.uint8, np.int16, np.uint64])
def test_scatter_sum_index_dtypes(dtype):
    index = np.array([0, 3, 3, 1, 0, 0], dtype=dtype)
    g = np.arange(6.0)
    np.testing.assert_array_equal(scatter_sum(index, g, (4,)), [0 + 4 + 5, 3, 0, 1 + 2])


def test_scatter_sum_declines_what_it_does_not_cover():
    g = np.ones(3)
    assert scatter_sum((np.array([0, 1, 1]), slice(None)), np.ones((3, 2)), (4, 2)) is None
    assert scatter_sum(np.array([True, False, True]), np.ones(2), (3,)) is None
    assert scatter_sum([0, 1, 1], g, (4,)) is None                         # a list index
    assert scatter_sum(np.array([0, 1, 1]), g.astype(np.float32), (4,)) is None
    assert scatter_sum(np.array([0, 1, 2]), g, (1000,)) is None            # too sparse for bincount
    assert scatter_sum(np.array([0, 1, 2]), np.ones(4), (4,)) is None      # g does not fit the read


def test_acc_item_first_contribution_is_fresh_and_later_ones_accumulate():
    primal = np.zeros((5, 4))
    i, j = np.array([0, 0, -1, 2]), np.array([1, 1, 3, -4])
    g = np.array([1.0, 2.0, 3.0, 4.0])
    bar = acc_item(0.0, primal, (i, j), g)
    assert bar[0, 1] == 3.0 and bar[4, 3] == 3.0 and bar[2, 0] == 4.0 and bar.sum() == 10.0
    assert not np.shares_memory(bar, g) and bar.flags.owndata
    bar = acc_item(bar, primal, (i, j), g)
    assert bar[0, 1] == 6.0 and bar.sum() == 20.0
    rows = acc_item(0.0, primal, np.array([1, 1, 4]), np.ones((3, 4)))
    np.testing.assert_array_equal(rows.sum(axis=1), [0.0, 8.0, 0.0, 0.0, 4.0])
    sliced = acc_item(0.0, primal, (slice(None), slice(1, 3)), np.ones((5, 2)))
    assert sliced.sum() == 10.0 and sliced[:, 0].sum() == 0.0


# ---------------------------------------------------------------- programs

def bilinear_smooth(f, u, v):
    """Semi-Lagrangian sampling of a periodic field, the cell indices from the positions."""
    n = f.shape[0]
    I, J = np.meshgrid(np.arange(n, dtype=float), np.arange(n, dtype=float), indexing="ij")
    x = np.clip(I - 0.7 * u, 0.5, n - 1.5)
    y = np.clip(J - 0.7 * v, 0.5, n - 1.5)
    i0 = x.astype(int)
    j0 = y.astype(np.int32)
    s = x - i0
    t = y - j0
    g = ((1.0 - s) * ((1.0 - t) * f[i0, j0] + t * f[i0, j0 + 1])
         + s * ((1.0 - t) * f[i0 + 1, j0] + t * f[i0 + 1, j0 + 1]))
    return np.sum(g * g * np.cos(f))


def embedding_loss(E, tokens, W):
    """Rows of an embedding table looked up by repeated and negative token ids."""
    h = np.tanh(E[tokens] @ W)
    return np.sum(h ** 2)


def outer_gather(f, rows, cols):
    """A 2-d block gathered by broadcasting index arrays, read twice."""
    block = f[rows[:, None], cols[None, :]]
    return np.sum(np.sin(block)) + np.sum(block * f[rows[:, None], cols[None, :]])


def periodic_stencil(f):
    """Neighbours by index arithmetic (negative indices wrap as in the primal)."""
    n = f.shape[0]
    k = np.arange(n)
    lap = f[k - 1] + f[(k + 1) % n] - 2.0 * f
    return np.sum(lap ** 2) + np.sum(f[k - 2] * f)


def _rng_inputs(seed):
    rng = np.random.default_rng(seed)
    return rng


def _check_both_modes(fn, args, wrt, rtol=1e-6, atol=1e-8):
    got = diffc.grad(fn, wrt=wrt)(*args)
    plain = diffc.grad(fn, wrt=wrt, optimize=False)(*args)
    fd = numeric_grad(fn, args, wrt)
    np.testing.assert_allclose(got, fd, rtol=rtol, atol=atol)
    np.testing.assert_allclose(got, plain, rtol=1e-12, atol=1e-14)
    direction = np.random.default_rng(7).standard_normal(np.shape(args[wrt]))
    tangents = [None] * len(args)
    tangents[wrt] = direction
    _, dot = diffc.jvp(fn, tuple(args), tuple(tangents))
    np.testing.assert_allclose(dot, np.sum(fd * direction), rtol=1e-6, atol=1e-8)
    return got


def test_bilinear_sampling_gradients_in_both_modes():
    rng = _rng_inputs(1)
    f = rng.standard_normal((9, 9))
    u = 2.0 * rng.standard_normal((9, 9))
    v = 2.0 * rng.standard_normal((9, 9))
    for wrt in (0, 1, 2):
        _check_both_modes(bilinear_smooth, (f, u, v), wrt)


def test_embedding_rows_with_repeated_and_negative_ids():
    rng = _rng_inputs(2)
    E = rng.standard_normal((6, 4))
    W = rng.standard_normal((4, 3))
    tokens = np.array([0, 5, 5, -1, 2, 2, 2, -6])
    got = _check_both_modes(embedding_loss, (E, tokens, W), 0)
    assert got[3].tolist() == [0.0] * 4 and got[1].tolist() == [0.0] * 4   # rows never read


def test_broadcasting_index_arrays():
    rng = _rng_inputs(3)
    f = rng.standard_normal((7, 6))
    rows = np.array([0, 6, 6, -2, 3])
    cols = np.array([5, -1, 0, 0])
    _check_both_modes(outer_gather, (f, rows, cols), 0)


def test_periodic_stencil_by_index_arithmetic_and_second_order():
    f = np.random.default_rng(4).standard_normal(12)
    _check_both_modes(periodic_stencil, (f,), 0)
    hess = diffc.hessian(periodic_stencil)(f)
    g = diffc.grad(periodic_stencil)
    eps = 1e-5
    fd = np.array([(g(f + eps * e) - g(f - eps * e)) / (2 * eps) for e in np.eye(12)]).T
    np.testing.assert_allclose(hess, fd, rtol=1e-6, atol=1e-7)


# ---------------------------------------------------------------- integer casts

def int_cells(x):
    k = x.astype(int)
    return np.sum((x - k) ** 2 * k)


def bool_and_narrow_casts(x):
    big = (x > 0.3).astype(bool)
    small = x.astype("int32")
    return np.sum(x * big) + np.sum(x * small) + np.sum(x.astype(dtype=np.uint8) * x)


def float_casts(x):
    """Casts to floating types carry the derivative, whatever the dtype's name says."""
    interp_dtype = np.float64          # a name containing "int" that is not an integer type
    wide = x.astype(interp_dtype)
    return np.sum(wide.astype(np.longdouble).astype("float64") ** 2) + np.sum(x.astype(float) * x)


def test_integer_cast_is_a_constant_and_has_no_adjoint_code():
    x = np.array([0.3, 1.7, 2.2, -0.4])
    _check_both_modes(int_cells, (x,), 0)
    src = diffc.source(int_cells)
    assert "astype_bar" not in src and "k_bar" not in src
    np.testing.assert_allclose(diffc.grad(int_cells)(x), 2 * (x - x.astype(int)) * x.astype(int))


def test_bool_and_narrow_integer_casts():
    x = np.array([0.1, 1.5, 2.7, 0.9])
    _check_both_modes(bool_and_narrow_casts, (x,), 0)
    assert "astype_bar" not in diffc.source(bool_and_narrow_casts)


def test_float_casts_keep_their_derivative():
    x = np.array([0.1, 1.5, 2.7, 0.9])
    got = _check_both_modes(float_casts, (x,), 0)
    np.testing.assert_allclose(got, 4 * x, rtol=1e-12)


def test_cast_to_a_dtype_held_in_a_parameter_still_differentiates():
    def scaled(x, dtype):
        return np.sum(x.astype(dtype) * x)
    x = np.array([0.5, 1.5, -2.0])
    np.testing.assert_allclose(diffc.grad(scaled)(x, np.float64), 2 * x)


# ---------------------------------------------------------------- clip

def clipped(x, lo, hi):
    return np.sum(np.clip(x, lo, hi) ** 2) + np.sum(np.clip(x, None, 0.8) * x) \
        + np.sum(np.clip(x, -0.2, None) ** 3)


def test_clip_adjoints_with_one_and_two_bounds_and_array_bounds():
    x = np.array([-1.0, -0.1, 0.35, 0.7, 1.4, 2.0])
    lo = np.array([-0.5, -0.5, 0.0, 0.0, 0.0, 1.0])
    _check_both_modes(clipped, (x, lo, 1.2), 0)
    _check_both_modes(clipped, (x, lo, 1.2), 1)
    _check_both_modes(clipped, (x, -0.3, 1.2), 0)


# ---------------------------------------------------------------- split tapes

def lerp_cell(f, x):
    """A helper the loop calls: weights and neighbour index remade by the adjoint."""
    i = x.astype(int)
    w1 = x - i
    w0 = 1.0 - w1
    nxt = i + 1
    return w0 * f[i] + w1 * f[nxt]


def sweep(f, x, steps):
    total = 0.0
    for k in range(steps):
        f = np.tanh(lerp_cell(f, x) + 0.1 * f)
        total = total + np.sum(f * f)
    return total


def lerp_written(f, x):
    """The operand is written in place after the cheap op: it must stay on the tape."""
    w1 = x - x.astype(int)
    w0 = 1.0 - w1
    w1[0] = 0.5
    return w0 * f[: w0.shape[0]] + w1 * f[1: w1.shape[0] + 1]


def sweep_written(f, x, steps):
    total = 0.0
    for k in range(steps):
        total = total + np.sum(np.sin(lerp_written(f, x)) * f[:-1])
        f = f * 0.9
    return total


def test_split_adjoint_remakes_cheap_entries():
    rng = _rng_inputs(5)
    f = rng.standard_normal(8)
    x = rng.uniform(0.0, 6.9, 8)
    for wrt in (0, 1):
        _check_both_modes(sweep, (f, x, 3), wrt)
    src = diffc.source(sweep, wrt=0)
    adj = src[src.index("def _adj_lerp_cell"):]
    assert "w0 = 1.0 - w1" in adj and "nxt = i + 1" in adj


def test_split_tape_keeps_an_operand_written_in_place():
    rng = _rng_inputs(6)
    f = rng.standard_normal(9)
    x = rng.uniform(0.0, 6.9, 8)
    for wrt in (0, 1):
        _check_both_modes(sweep_written, (f, x, 3), wrt)


# ---------------------------------------------------------------- fast call path

SCALE = 2.0


def scaled_sine(x):
    return SCALE * np.sin(x)


def test_fast_path_sees_a_rebound_global():
    g = diffc.grad(scaled_sine)
    for x in (0.3, np.float64(0.3), 0.4):
        assert abs(g(x) - 2.0 * np.cos(x)) < 1e-15
    global SCALE
    try:
        SCALE = 3.0
        assert abs(g(0.4) - 3.0 * np.cos(0.4)) < 1e-15
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert abs(g(np.float64(0.4)) - 3.0 * np.cos(0.4)) < 1e-15
    finally:
        SCALE = 2.0
    assert abs(g(0.4) - 2.0 * np.cos(0.4)) < 1e-15
