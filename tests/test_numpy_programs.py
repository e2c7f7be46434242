"""NumPy programs through the whole compiler (rules, keywords, methods), vs finite differences."""
import numpy as np
import pytest

import diffc
from gradcheck import assert_close, numeric_grad

R = np.random.default_rng(3)
A = R.normal(size=(3, 4))
B = R.normal(size=(4, 2))
V = R.uniform(0.5, 1.5, size=4)
S = R.normal(size=(3, 3)) + 3 * np.eye(3)

CASES = [
    ("sum_axis_keepdims", lambda a: np.sum(np.sum(a ** 2, axis=1, keepdims=True) * a), A),
    ("mean_var_std", lambda a: a.mean() + a.var(axis=0).sum() + np.std(a, axis=1, ddof=1).sum(), A),
    ("prod_cumprod", lambda v: np.prod(v) + np.cumprod(v).sum() + v.cumsum()[-1], V),
    ("max_min", lambda a: a.max() + np.min(a, axis=0).sum() + np.amax(a, axis=1).sum(), A),
    ("elementwise", lambda v: np.sum(np.log1p(v) + np.exp2(v) + np.cbrt(v) + np.square(v) + np.reciprocal(v)
                                     + np.arctan(v) + np.sinh(v) + np.arcsinh(v) + np.expm1(v)), V),
    ("binary", lambda v: np.sum(np.arctan2(v, 2.0) + np.hypot(v, 1.0) + np.maximum(v, 1.0) + np.power(v, 2.5)
                                + np.logaddexp(v, 0.3) + np.minimum(v, 0.9)), V),
    ("where_clip", lambda v: np.sum(np.where(v > 1.0, v ** 2, -v) + np.clip(v, 0.7, 1.2)), V),
    ("matmul_dot", lambda a: np.sum((a @ B) ** 2) + np.dot(a[0], a[1]) + a.dot(B).sum(), A),
    ("outer_inner_tensordot", lambda v: np.sum(np.outer(v, v)) + np.inner(v, v)
     + np.tensordot(v, V, axes=1), V),
    ("einsum", lambda a: np.einsum("ij,jk->ik", a, B).sum() + np.einsum("ij,ij->", a, a), A),
    ("reshape_transpose", lambda a: np.sum(a.reshape(2, 6)[1] * np.arange(6)) + np.sum(a.T[1] ** 2)
     + np.transpose(a, (1, 0)).ravel()[3], A),
    ("concat_stack", lambda v: np.sum(np.concatenate([v, v ** 2]) * np.arange(8))
     + np.stack([v, 2 * v]).sum(axis=0)[1] + np.hstack([v, v]).sum() + np.vstack([v, v])[1, 2], V),
    ("split_tile_repeat", lambda v: np.split(v, 2)[1].sum() + np.tile(v, 2)[5] + np.repeat(v, 2)[3] * 2, V),
    ("flip_roll_pad", lambda v: np.sum(np.flip(v) * np.arange(4)) + np.roll(v, 1)[0] + np.pad(v, 1).sum(), V),
    ("diag_trace_tri", lambda s: np.trace(s) + np.diag(s).sum() ** 2 + np.triu(s).sum() + np.tril(s, -1).sum(), S),
    ("linalg", lambda s: np.linalg.inv(s).sum() + np.linalg.det(s) + np.linalg.solve(s, np.ones(3)).sum()
     + np.linalg.slogdet(s)[1], S),
    ("cholesky_eigh", lambda s: np.linalg.cholesky(s @ s.T).sum() + np.linalg.eigh(s + s.T)[0].sum(), S),
    ("norms", lambda a: np.linalg.norm(a) + np.linalg.norm(a[0]) + np.linalg.norm(a, "fro")
     + np.linalg.norm(a, axis=1).sum(), A),
    ("sort_take", lambda v: np.sort(v)[0] * 3.0 + np.take(v, [1, 1, 3]).sum() + v[np.argmax(v)], V),
    ("creation", lambda v: np.sum(np.full(4, v[0]) * v) + np.array([v[0], v[1] * 2]).sum()
     + np.asarray(v).sum() + np.zeros_like(v).sum() + v.copy().sum(), V),
    ("expand_squeeze_swap", lambda a: np.expand_dims(a, 0).squeeze(0).sum() + np.swapaxes(a, 0, 1)[2, 1]
     + np.moveaxis(a[None], 0, 2).sum(), A),
    ("broadcasting", lambda v: np.sum(v[:, None] * A.T + A[:, 0][None, :] - v[:3] * V[:, None]), V),
    ("scalar_times_array", lambda x: np.sum(x * V + np.sin(x) * A[0] + x ** 2), 0.7),
    ("norm_ord", lambda v: np.linalg.norm(v, 1) + np.linalg.norm(v, np.inf), V),
]


@pytest.mark.parametrize("name,fn,arg", CASES, ids=[c[0] for c in CASES])
def test_numpy_program(name, fn, arg):
    g = diffc.grad(fn)(arg)
    expected = numeric_grad(fn, (arg,), 0)
    assert_close(g, expected, rtol=1e-5, atol=1e-6, what=name)


def test_missing_rule_raises_no_derivative_rule():
    with pytest.raises(diffc.NoDerivativeRule) as info:
        diffc.grad(lambda v: np.sum(np.i0(v)))(V)
    assert "i0" in str(info.value)


def test_astype_keeps_gradient_dtype_of_argument():
    g = diffc.grad(lambda v: np.sum(v.astype(np.float32) * 2.0))(V)
    assert g.dtype == V.dtype
    assert_close(g, np.full(4, 2.0))
