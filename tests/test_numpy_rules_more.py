"""Rules of issue 17 (linear_rules.py, linalg_decomp_rules.py, and the additions to
numpy_rules.py) checked against central finite differences: reverse mode, forward mode
and (where the rule claims it) the Hessian, on programs written as scientists write them."""

import warnings

import numpy as np
import pytest

import diffc

_rng = np.random.default_rng(17)


def _fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


def _check(f, x, order, atol=1e-6, rtol=1e-5):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fd = _fd_grad(f, x)
        np.testing.assert_allclose(diffc.grad(f)(x), fd, atol=atol, rtol=rtol)
        v = _rng.standard_normal(x.shape)
        _, t = diffc.jvp(f, (x,), (v,))
        np.testing.assert_allclose(t, np.sum(fd * v), atol=atol * 10, rtol=rtol * 10)
        if order >= 2:
            H = np.reshape(diffc.hessian(f)(x), (x.size, x.size))
            Hfd = np.array([_fd_grad(lambda y: diffc.grad(f)(y).ravel()[k], x).ravel() for k in range(x.size)])
            np.testing.assert_allclose(H, Hfd, atol=1e-4, rtol=1e-4)


x8 = _rng.standard_normal(8)
C8 = _rng.standard_normal(8)
M46 = _rng.standard_normal((4, 6))
W345 = _rng.standard_normal((3, 4, 5))
x6 = _rng.standard_normal(6)
M23 = _rng.standard_normal((2, 3))
N32 = _rng.standard_normal((3, 2))
T234 = _rng.standard_normal((2, 3, 4))
x5 = _rng.standard_normal(5)
M34 = _rng.standard_normal((3, 4))
w9 = np.arange(9.0)
w67 = np.arange(42.0).reshape(6, 7)

# (name, f, x, order the rule claims)
CASES = [
    ("fft-abs2", lambda x: np.sum(np.abs(np.fft.fft(x * x)) ** 2 * np.arange(8)), x8, 3),
    ("fft-real", lambda x: np.sum(np.real(np.fft.fft(x * x)) * C8), x8, 3),
    ("fft-n-pad", lambda x: np.sum(np.real(np.fft.fft(x ** 2, n=12)) ** 2), x8, 3),
    ("fft-n-cut-ortho", lambda x: np.sum(np.imag(np.fft.fft(x ** 2, 5, norm="ortho")) ** 2), x8, 3),
    ("ifft", lambda x: np.sum(np.imag(np.fft.ifft(x * x)) * C8), x8, 3),
    ("rfft", lambda x: np.sum(np.real(np.fft.rfft(x * x)) * C8[:5] + np.imag(np.fft.rfft(x)) ** 2), x8, 3),
    ("rfft-odd-n", lambda x: np.sum(np.abs(np.fft.rfft(x ** 2, n=11)) ** 2), x8, 3),
    ("irfft", lambda x: np.sum(np.fft.irfft(np.fft.rfft(x) * (1 + 0.5j) + x[:5] * 1j) * C8), x8, 3),
    ("irfft-n", lambda x: np.sum(np.fft.irfft(np.fft.fft(x)[:5] * 1j + x[:5] ** 2, n=9) ** 2), x8, 3),
    ("fft2", lambda M: np.sum(np.abs(np.fft.fft2(M * M))), M46, 3),
    ("ifft2-s", lambda M: np.sum(np.real(np.fft.ifft2(M * M, s=(3, 8))) ** 2), M46, 3),
    ("fftn-axes", lambda W: np.sum(np.abs(np.fft.fftn(W ** 2, axes=(0, 2))) ** 2), W345, 3),
    ("rfft2", lambda M: np.sum(np.abs(np.fft.rfft2(M ** 2)) ** 2), M46, 3),
    ("rfftn-s", lambda W: np.sum(np.abs(np.fft.rfftn(W ** 2, s=(4, 3))) ** 2), W345, 3),
    ("irfft2", lambda M: np.sum(np.fft.irfft2(np.fft.fft2(M ** 2)[:, :4]) ** 2), M46, 3),
    ("irfftn-s", lambda W: np.sum(np.fft.irfftn(np.fft.fftn(W) * (1 + 1j), s=(5, 6)) ** 2), W345, 3),
    ("hfft", lambda x: np.sum(np.fft.hfft(np.fft.rfft(x * x) * (1 + 0.3j) + 1j * x[:5]) * np.arange(8)), x8, 3),
    ("hfft-n-ortho", lambda x: np.sum(np.fft.hfft(x[:5] * (2 - 1j) + x[3:] ** 2, n=9, norm="ortho") ** 2), x8, 3),
    ("ihfft", lambda x: np.sum(np.abs(np.fft.ihfft(x * x)) ** 2 * np.arange(5))
     + np.sum(np.imag(np.fft.ihfft(x, n=7)) * np.arange(4)), x8, 3),
    ("fftshift", lambda x: np.sum(np.fft.fftshift(x * x) * C8), x8, 3),
    ("ifftshift-axes", lambda M: np.sum(np.fft.ifftshift(M * M, axes=1) * M), M46, 3),
    ("rot90", lambda M: np.sum(np.rot90(M * M, 3) * np.arange(24).reshape(6, 4)), M46, 3),
    ("rollaxis", lambda W: np.sum(np.rollaxis(W * W, 2, 1) * np.arange(60).reshape(3, 5, 4)), W345, 3),
    ("append", lambda x: np.sum(np.append(x * x, x[:3]) * np.arange(11)), x8, 3),
    ("append-axis", lambda M: np.sum(np.append(M * M, M[:2], axis=0) * np.arange(36).reshape(6, 6)), M46, 3),
    ("nan_to_num", lambda x: np.sum(np.nan_to_num(np.log(x)) * C8), x8, 3),
    ("real_if_close", lambda x: np.sum(np.real_if_close(x + 0j) ** 2 * C8), x8, 3),
    ("as_strided", lambda x: np.sum(np.lib.stride_tricks.as_strided(x, (3, 4), (16, 8)) ** 2
                                    * np.arange(12).reshape(3, 4)), x8, 3),
    ("sliding_window_view", lambda x: np.sum(np.lib.stride_tricks.sliding_window_view(x, 3) ** 2
                                             @ np.array([1.0, 2, 3])), x8, 3),
    ("sliding_window_view-2d", lambda M: np.sum(np.lib.stride_tricks.sliding_window_view(M, (2, 3)) ** 2
                                                * np.arange(6).reshape(2, 3)), M46, 3),
    ("gradient", lambda x: np.sum(np.gradient(x * x) * C8), x8, 3),
    ("gradient-dx-edge2", lambda x: np.sum(np.gradient(x * x, 0.3, edge_order=2) * C8), x8, 3),
    ("gradient-coords", lambda x: np.sum(np.gradient(x * x, np.cumsum(np.arange(1, 9.0))) * C8), x8, 3),
    ("gradient-2d", lambda M: np.sum(np.gradient(M * M)[1] * M), M46, 3),
    ("gradient-2d-axis", lambda M: np.sum(np.gradient(M * M, axis=0) * M), M46, 3),
    ("kron", lambda M: np.sum(np.kron(M, M * M) ** 2 * np.arange(36).reshape(4, 9)), M23, 3),
    ("kron-1d-2d", lambda x: np.sum(np.kron(x[:2], np.outer(x[2:4], x[4:])) * np.arange(8).reshape(2, 4)), x6, 3),
    ("partition", lambda x: np.sum(np.partition(x * x, 2) * np.arange(6)), x6, 3),
    ("partition-flat", lambda M: np.sum(np.partition(M * M, 3, axis=None) * np.arange(6)), M23, 3),
    ("select", lambda x: np.sum(np.select([x > 0.5, x < -0.5], [x * x, x ** 3], x * 2.0) * np.arange(6)), x6, 2),
    ("dsplit", lambda T: np.sum(np.dsplit(T * T, 2)[1] * T[:, :, :2]), T234, 3),
    ("cross-axisa-axisb", lambda M: np.sum(np.cross(M * M, N32, axisa=1, axisb=0) ** 2), M23, 3),
    ("cross-axis", lambda N: np.sum(np.cross(N * N, N, axis=0) * np.arange(6).reshape(3, 2)), N32, 3),
    ("einsum-sublist", lambda M: np.sum(np.einsum(M, [0, 1], M * M, [0, 2], [1, 2]) ** 2), M23, 3),
    ("einsum-sublist-implicit", lambda M: np.einsum(M, [0, 1], M, [0, 1]), M23, 1),
    ("norm-of-list", lambda x: np.linalg.norm([x[0], x[1] * x[2], 3.0]), x6, 2),
    ("sum-where", lambda x: np.sum(x * x * x, where=x > 0), x6, 3),
    ("sum-initial", lambda x: np.sum(x ** 3, initial=2.0), x6, 3),
    ("max-where-initial", lambda x: np.max(x ** 3, where=x < 0.5, initial=-10.0), x6, 3),
    ("min-axis-initial", lambda M: np.sum(np.min(M ** 3, axis=0, initial=0.2)), M23, 3),
    ("mean-where", lambda M: np.sum(np.mean(M ** 3, axis=1, where=M > -0.5) * np.array([1.0, 2.0])), M23, 3),
]
for _mode in ["constant", "edge", "reflect", "symmetric", "wrap", "mean", "linear_ramp", "maximum", "minimum",
              "median"]:
    CASES.append((f"pad-{_mode}", lambda x, m=_mode: np.sum(np.pad(x * x, 2, mode=m) ** 2 * w9), x5, 3))
    CASES.append((f"pad2d-{_mode}", lambda M, m=_mode: np.sum(np.pad(M * M, ((1, 2), (2, 1)), mode=m) ** 2 * w67),
                  M34, 3))


def pad_ramp_end_values(x):
    return np.sum(np.pad(x * x, 2, mode="linear_ramp", end_values=(1.0, -2.0)) ** 2 * w9)


CASES.append(("pad-linear_ramp-end_values", pad_ramp_end_values, x5, 3))


@pytest.mark.parametrize("name,f,x,order", CASES, ids=[c[0] for c in CASES])
def test_rule_against_finite_differences(name, f, x, order):
    _check(f, x, 1)


SECOND = [c for c in CASES if c[3] >= 2]


@pytest.mark.slow
@pytest.mark.parametrize("name,f,x,order", SECOND, ids=[c[0] for c in SECOND])
def test_rule_hessian_against_finite_differences(name, f, x, order):
    _check(f, x, 2)


MIXED = {
    "reverse_over_forward": lambda g: diffc.grad(diffc.jacobian(g, mode="forward")),
    "forward_over_forward": lambda g: diffc.jacobian(diffc.jacobian(g, mode="forward"), mode="forward"),
    "reverse_over_reverse": lambda g: diffc.grad(diffc.grad(g)),
}
# one case per family in the default run, every case in the slow sweep
QUICK_SECOND = {"select", "einsum-sublist", "norm-of-list", "fft-abs2", "irfft-n", "rfftn-s", "gradient-2d", "append-axis", "as_strided", "kron",
                "partition", "dsplit", "cross-axis", "sum-where", "max-where-initial", "mean-where", "pad2d-mean", "pad2d-median"}


def _along_line(f, x0):
    D = np.random.default_rng(3).standard_normal(np.shape(x0))

    def g(t):
        return f(x0 + t * D)
    return g, D


def _check_mixed(f, x0, mode):
    g, D = _along_line(f, x0)
    grad = diffc.grad(f)
    eps = 1e-5
    ref = float(np.sum(D * (grad(x0 + eps * D) - grad(x0 - eps * D)) / (2 * eps)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = MIXED[mode](g)(0.0)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", sorted(MIXED))
@pytest.mark.parametrize("name,f,x,order", [c for c in SECOND if c[0] in QUICK_SECOND],
                         ids=[c[0] for c in SECOND if c[0] in QUICK_SECOND])
def test_second_derivative_in_mixed_orders(name, f, x, order, mode):
    _check_mixed(f, x, mode)


@pytest.mark.slow
@pytest.mark.parametrize("mode", sorted(MIXED))
@pytest.mark.parametrize("name,f,x,order", [c for c in SECOND if c[0] not in QUICK_SECOND],
                         ids=[c[0] for c in SECOND if c[0] not in QUICK_SECOND])
def test_second_derivative_in_mixed_orders_sweep(name, f, x, order, mode):
    _check_mixed(f, x, mode)


def _pad_by_callable(vector, pad_width, iaxis, kwargs):
    vector[:pad_width[0]] = vector[pad_width[0]]


def test_pad_with_a_callable_mode_is_refused():
    def f(x):
        return np.sum(np.pad(x * x, 2, mode=_pad_by_callable) ** 2)
    with pytest.raises(NotImplementedError):
        diffc.grad(f)(x5)
    with pytest.raises(NotImplementedError):
        diffc.jvp(f, (x5,), (x5,))


# --- decompositions (first order) ----------------------------------------------------

A43 = _rng.standard_normal((4, 3))
B35 = _rng.standard_normal((3, 5))
S44 = _rng.standard_normal((4, 4))
St = _rng.standard_normal((2, 4, 3))
W43 = _rng.standard_normal((4, 3))
W35 = _rng.standard_normal((3, 5))


def svd_loss(A):
    u, s, vt = np.linalg.svd(A, full_matrices=False)
    return (np.sum(s * np.arange(1, len(s) + 1)) + np.sum(u ** 2 * W43[:u.shape[0], :u.shape[1]])
            + np.sum(vt ** 2 * W35[:vt.shape[0], :vt.shape[1]]))


def svd_reconstruct(A):
    u, s, vt = np.linalg.svd(A, full_matrices=False)
    return np.sum((u * s) @ vt * A) + np.sum(np.abs(u[0]) ** 3)


def svd_full_square(A):
    u, s, vt = np.linalg.svd(A)
    return np.sum(s ** 2) + np.sum(u[:, 0] ** 2 * np.arange(4))


def svd_stack(T):
    u, s, vt = np.linalg.svd(T, full_matrices=False)
    return np.sum(s * s * np.arange(3)) + np.sum(u ** 2 * W43)


def eig_loss(S):
    w, V = np.linalg.eig(S)
    return np.sum(np.abs(w) * np.arange(4)) + np.sum(np.real(V) ** 2 * W43[:, :1]) + np.sum(np.imag(V) * np.arange(4))


def eig_real_spectrum(S):
    w, V = np.linalg.eig(S @ S.T + np.diag(np.arange(4.0)))
    return np.sum(w * np.arange(4)) + np.sum(V ** 2 * np.arange(16).reshape(4, 4))


DECOMP = [
    ("svd-tall", svd_loss, A43),
    ("svd-wide", svd_loss, B35),
    ("svd-reconstruct", svd_reconstruct, A43),
    ("svd-full-square", svd_full_square, S44),
    ("svd-values", lambda A: np.sum(np.linalg.svd(A, compute_uv=False) ** 2 * np.array([1.0, 2, 3])), A43),
    ("svd-stack", svd_stack, St),
    ("pinv-tall", lambda A: np.sum(np.linalg.pinv(A) ** 2 * np.arange(12).reshape(3, 4)), A43),
    ("pinv-wide", lambda B: np.sum(np.linalg.pinv(B) @ B[:, :2]), B35),
    ("eigvals", lambda S: np.sum(np.real(np.linalg.eigvals(S)) ** 2 + np.imag(np.linalg.eigvals(S)) * np.arange(4)), S44),
    ("eigvals-symmetric", lambda S: np.sum(np.real(np.linalg.eigvals(S + S.T)) ** 3), S44),
    ("eig", eig_loss, S44),
    ("eig-real-spectrum", eig_real_spectrum, S44),
]


@pytest.mark.parametrize("name,f,x", DECOMP, ids=[c[0] for c in DECOMP])
def test_decomposition_against_finite_differences(name, f, x):
    _check(f, x, 1, atol=1e-5, rtol=1e-4)


def test_svd_full_matrices_of_a_rectangle_in_forward_mode_is_refused():
    def f(A):
        u, s, vt = np.linalg.svd(A)
        return np.sum(s)
    with pytest.raises(NotImplementedError):
        diffc.jvp(f, (A43,), (A43,))


# --- containers: sorted, dict(...), dict methods --------------------------------------

def sorted_floats(x):
    s = sorted([x[0], x[1], x[2] * x[3]])
    return s[0] * 2 + s[2] * s[1]


def sorted_reverse(x):
    s = sorted([x[0], x[1], x[2], x[3] ** 2], reverse=True)
    return s[0] * 2 + s[2] * s[1] ** 2


def sorted_key(x):
    s = sorted([x[0], x[1], x[2]], key=abs)
    return s[0] * 3 + s[2]


def sorted_array(x):
    s = sorted(x * x)
    return s[0] * 3 + s[3] * s[1]


def dict_get(x):
    d = {"a": x[0], "b": x[1] * 2}
    return d.get("a") * d.get("c", 3.0 * x[3]) + d.get("b", 1.0)


def dict_of_pairs(x):
    d = dict([("a", x[0]), ("b", x[1]), ("a", x[2])])
    return d["a"] * d["b"]


def dict_copy(x):
    d0 = {"a": x[0], "b": x[1] * 2}
    d = dict(d0)
    return d["a"] * d["b"]


def dict_keywords(x):
    d = dict(a=x[0], b=x[1])
    return d["a"] * d["b"] ** 2


def items_as_list(x):
    d = {"a": x[0], "b": x[1] * 2}
    p = list(d.items())
    return p[0][1] * p[1][1]


def values_summed(x):
    d = {"a": x[0], "b": x[1] * 2}
    return sum(d.values()) * x[2]


def sorted_items(x):
    d = {"b": x[0], "a": x[1] * 2}
    t = 0.0
    for k, v in sorted(d.items()):
        t = t + v * v * (1 if k == "a" else 3)
    return t


CONTAINERS = [sorted_floats, sorted_reverse, sorted_key, sorted_array, dict_get, dict_of_pairs, dict_copy,
              dict_keywords, items_as_list, values_summed, sorted_items]
x4 = np.array([0.3, -1.2, 0.7, 2.0])


@pytest.mark.parametrize("f", CONTAINERS, ids=[f.__name__ for f in CONTAINERS])
def test_containers_against_finite_differences(f):
    _check(f, x4, 1)


def _container_modes():
    """Each container program in one of the mixed orders by default (taken in turn, so each
    order sees a third of them); its other orders with -m slow."""
    modes = sorted(MIXED)
    for i, f in enumerate(CONTAINERS):
        for mode in modes:
            marks = () if mode == modes[i % len(modes)] else pytest.mark.slow
            yield pytest.param(f, mode, marks=marks, id=f"{mode}-{f.__name__}")


@pytest.mark.parametrize("f, mode", list(_container_modes()))
def test_containers_second_order(f, mode):
    _check_mixed(f, x4, mode)


def test_get_of_an_object_that_is_not_a_dict_is_its_own_method():
    # was refused (the dict rule of .get was tried); a user class's own method is followed now
    class Table:
        def __init__(self, w):
            self.w = w

        def get(self, key):
            return self.w * 2.0

    def f(x):
        return Table(x).get("k")
    assert diffc.grad(f)(1.5) == pytest.approx(2.0)
    assert diffc.jvp(f, (1.5,), (1.0,))[1] == pytest.approx(2.0)
