"""A helper that writes into its argument: the caller sees the change, as in Python.

`apply_boundary(u)` with `u[0] = 0.0` in its body, `accumulate(acc, v)` with
`acc += v`, `scale_into(out, v, c)` with `out[:] = ...` used for its result too, a helper
calling such a helper, rows updated through `for row in M` inside a helper.  They were
refused ("apply_boundary modifies its argument 'u' in place ...");
transform/callee_writes.py calls a variant of the helper that also returns the written
parameters, and the caller takes them back.  Local defs that update the rows of an
array they return had silently wrong second derivatives (their plain copy,
pipeline.primal_ref, lost the in-place update); checked here too.  Every derivative
against central differences, both modes, second order (gradcheck.check_both_modes).
"""
import numpy as np
import pytest

import diffc
from gradcheck import check_both_modes

X = np.array([0.3, -0.7, 1.1, 0.4])


def apply_boundary(u):
    u[0] = 0.0
    u[-1] = 0.5 * u[-2]


def heat_with_boundary_helper(x):
    u = np.sin(x) * 2.0
    for _ in range(3):
        u[1:-1] = u[1:-1] + 0.2 * (u[:-2] - 2 * u[1:-1] + u[2:])
        apply_boundary(u)
    return np.sum(u ** 2)


def scale_into(out, v, c):
    out[:] = v * c
    return np.sum(out)


def result_and_argument_both_used(x):
    buf = np.zeros(4)
    total = scale_into(buf, x, x[0])
    return total * np.sum(buf * x)


def accumulate(acc, v):
    acc += v ** 2


def accumulated_twice(x):
    a = x * 1.0
    accumulate(a, x)
    accumulate(a, np.cos(x))
    return np.sum(a * x)


def boundary_then_more(u, x):
    apply_boundary(u)
    u[1] = u[1] * x[1]


def helper_calling_a_writing_helper(x):
    u = x ** 2
    boundary_then_more(u, x)
    return np.sum(u * x)


def scale_rows(M, x):
    for i, row in enumerate(M):
        row *= x[i]


def rows_scaled_in_a_helper(x):
    M = np.outer(x, x)
    scale_rows(M, x)
    return np.sum(M ** 2)


def rows_scaled_by_a_local_def(x):
    def step(M):
        for row in M:
            row *= x[0]
        return M
    M = np.outer(x, x)
    M = step(M)
    return np.sum(M ** 2)


def row_view_halved_by_a_local_def(x):
    def half(M):
        v = M[0]
        v *= 0.5
        return M
    M = np.outer(x, x)
    M = half(M)
    return np.sum(M ** 2 * x[0])


def helper_in_a_keyword_call(x):
    u = np.cos(x)
    apply_boundary(u=u)
    return np.sum(u * x)


@pytest.mark.parametrize("fn", [heat_with_boundary_helper, result_and_argument_both_used, accumulated_twice,
                                helper_calling_a_writing_helper, rows_scaled_in_a_helper,
                                rows_scaled_by_a_local_def, row_view_halved_by_a_local_def,
                                helper_in_a_keyword_call])
def test_the_caller_sees_what_the_helper_wrote(fn):
    check_both_modes(fn, [X])


def held_by_a_tuple_too(x):
    u = x * 1.0
    box = (u, 2.0)
    apply_boundary(u)
    return np.sum(box[0] * x)


def test_a_written_argument_a_tuple_holds_is_refused():
    with pytest.raises(diffc.DiffcError, match="box"):
        diffc.grad(held_by_a_tuple_too)(X)


class _Box:
    def __init__(self, v):
        self.v = v


def attribute_written_by_a_local_def(x):
    def bump(a, c):
        a.v = a.v + c
    box = _Box(x * 1.0)
    bump(box, x ** 2)
    return np.sum(box.v * x)


def attribute_written_by_a_local_def_returning_it(x):
    def bump(a, c):
        a.v = a.v + c
        return a
    box = _Box(x * 1.0)
    box = bump(box, x ** 2)
    return np.sum(box.v * x)


@pytest.mark.parametrize("fn", [attribute_written_by_a_local_def, attribute_written_by_a_local_def_returning_it])
def test_a_local_def_writing_an_attribute_of_its_parameter_is_refused(fn):
    """The front end refuses the local def; that refusal was swallowed where the call was
    looked at first, and the half-made function then ran as a plain copy: the first
    program's gradient was silently wrong (0.69 against 0.87), the second crashed."""
    with pytest.raises(diffc.DiffcError, match="writing the attribute a.v"):
        diffc.grad(fn)(X)
    with pytest.raises(diffc.DiffcError, match="writing the attribute a.v"):
        diffc.jvp(fn, (X,), (np.ones(4),))


def _fill_and_return(u, v):
    u[:] = v * 2
    return u


def _fill_and_return_a_view(u, v):
    u[:] = v * 2
    return u[1:]


def result_is_the_argument_then_argument_written(x):
    u = np.zeros(4)
    w = _fill_and_return(u, x)
    u[0] = 5.0                  # w is u in Python: w[0] is 5 too
    return np.sum(w * x)


def result_is_a_view_then_argument_written(x):
    u = np.zeros(4)
    w = _fill_and_return_a_view(u, x)
    u[2] = x[0] ** 2
    return np.sum(w * x[1:])


def test_a_result_that_is_the_written_argument_is_followed():
    """Every return of the callee is `return u`: `w = u` after u's update says they are one
    object, and the later write into u is seen through w (was refused; before that,
    silently wrong for a few commits: 1.2 against 5.0)."""
    check_both_modes(result_is_the_argument_then_argument_written, (X,))


@pytest.mark.parametrize("fn", [result_is_a_view_then_argument_written])
def test_a_result_sharing_the_written_argument_is_left_to_the_alias_check(fn):
    """The variant's parts would not say that w views u: such calls are not rewritten, and
    the alias check refuses the later write."""
    with pytest.raises(diffc.DiffcError, match="shares its array"):
        diffc.grad(fn)(X)
    with pytest.raises(diffc.DiffcError, match="shares its array"):
        diffc.jvp(fn, (X,), (np.ones(4),))


def _two_writes(p, q):
    p[0] = q[0] * 3.0
    q[1] = 2.0


def overlapping_arguments_both_written(x):
    u = x * 1.0
    v = u[1:]
    _two_writes(u, v)
    return np.sum(u * x)


def separate_arguments_both_written(x):
    u = x * 1.0
    v = x ** 2
    _two_writes(u, v)
    return np.sum(u * v * x)


def test_separate_written_arguments_are_taken_back():
    check_both_modes(separate_arguments_both_written, [X])


def test_written_arguments_sharing_memory_are_refused_when_it_runs():
    """The callee is compiled as if its parameters were separate objects."""
    with pytest.raises(diffc.DiffcError, match="another name also holds"):
        diffc.grad(overlapping_arguments_both_written)(X)


def _sgd_returning(params, grads):
    for p, g in zip(params, grads):
        p -= 0.1 * g
    return params


def parameter_list_updated_by_a_helper_returning_it(x):
    params = [np.array([x[0], 2 * x[1]]), np.array([0.4 * x[2]])]
    params = _sgd_returning(params, [2 * params[0], params[1] * params[0][0]])
    return params[1][0] * params[0][0] + np.sum(params[0] * x[:2])


def test_items_of_a_list_argument_updated_by_a_helper():
    """The primal call in code differentiated again ran on a shallow copy of the list: the
    helper's in-place updates reached the caller's arrays, which its adjoint read (second
    derivative -0.0595 against -0.064 through a function calling the gradient)."""
    check_both_modes(parameter_list_updated_by_a_helper_returning_it, [X])
