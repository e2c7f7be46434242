"""Rules for the runtime helpers generated code calls (`diffc.runtime`).

Subscripts, literals and list methods are differentiated by the reverse and
forward passes themselves; the helpers they emit are ordinary functions, and
these rules make generated code differentiable again (higher order).
"""

import numpy as np

from . import adjoint, linear, nondiff, tangent
from .. import runtime, runtime_calls, runtime_checks, runtime_pure, runtime_tuples

nondiff(runtime.zeros_like, runtime.nonzero, runtime.nonzero_either, runtime_pure.insert_position, runtime_pure.list_insert_position,
        runtime_pure.pop_position, runtime_pure.list_pop_position,
        runtime_pure.update_keys, runtime_pure.sort_kind)

# Sign of the abs rule (piecewise constant: derivative 0 where it exists) and the tie warning.
from .. import checks as _checks  # noqa: E402
nondiff(_checks.kink_sign, _checks.warn_tie)


@adjoint(runtime.as_sequence)
def _(result, result_bar, x):
    return result_bar


@tangent(runtime.as_sequence)
def _(result, x, x_dot):
    return runtime.sequence_dot(x_dot)


@adjoint(runtime.sequence_dot)
def _(result, result_bar, x_dot):
    return result_bar


@tangent(runtime.sequence_dot)
def _(result, x_dot, x_dot_dot):
    return runtime.sequence_dot(x_dot_dot)


@adjoint(runtime.copy_value)
def _(result, result_bar, x):
    return result_bar


@tangent(runtime.copy_value)
def _(result, x, x_dot):
    return runtime.copy_value(x_dot)


@adjoint(runtime_pure.copy_held)
def _(result, result_bar, x):
    return result_bar


@tangent(runtime_pure.copy_held)
def _(result, x, x_dot):
    return runtime_pure.copy_held(x_dot)


# ------------------------------------------------------------------ higher order
# The helpers gradient code calls are linear in their adjoint arguments; the
# container/index/shape arguments carry no derivative.  Helpers that mutate
# an adjoint buffer (acc_item, take_item, pop_bar...) have tangents that make
# the same mutation on the tangent buffer, right after the primal one.

from ..runtime import (unbroadcast, fit_dot, broadcast_like, item, item_bar, acc_item,  # noqa: E402
                       unpop_bar)

nondiff(runtime_checks.basic_index, runtime_checks.slicing_shares, runtime_checks.check_no_positional_out, runtime_checks.check_zip_strict,
        runtime_checks.check_list_slice_length, runtime_checks.check_updated_in_place,
        runtime_checks.tuple_takes_back)
nondiff(runtime.check_scalar, runtime.zeros_dot, runtime_checks.check_unshared, runtime_checks.same_or_unshared,
        runtime_checks.check_item_write_back, runtime.updates_in_place, runtime_tuples.takes_back_items,
        runtime.is_absent, runtime_checks.check_values_unshared, runtime_checks.check_attribute_unshared,
        runtime_calls.attribute_values)
# A with statement's bookkeeping (transform/with_statements.py): which path, the manager's handler.
nondiff(runtime.with_enter, runtime.Entered, runtime.exception_type, runtime.traceback_of)


@adjoint(runtime.unbroadcast)
def _(result, result_bar, g, x):
    return broadcast_like(result_bar, g), None


@tangent(runtime.unbroadcast)
def _(result, g, x, g_dot):
    return unbroadcast(fit_dot(g_dot, g), x)


@adjoint(runtime.real_where_real)
def _(result, result_bar, g, dtype):
    # the adjoint of a real result (a real dtype) is real: only its real part reaches g
    return runtime.real_where_real(result_bar, dtype), None


linear(runtime.real_where_real)


@adjoint(runtime.fit_dot)
def _(result, result_bar, dot, x):
    return unbroadcast(result_bar, dot), None


linear(runtime.fit_dot)


@adjoint(runtime.broadcast_like)
def _(result, result_bar, g, x):
    return unbroadcast(result_bar, g), None


linear(runtime.broadcast_like)


@adjoint(runtime.item)
def _(result, result_bar, bar, index):
    return item_bar(result_bar, bar, index), None      # an index (int, key) has no derivative


linear(runtime.item)


@adjoint(runtime.read_item)
def _(result, result_bar, container, index):
    return item_bar(result_bar, container, index), None


@tangent(runtime.read_item)
def _(result, container, index, container_dot):
    return runtime.copy_value(item(container_dot, index))


@adjoint(runtime.item_bar)
def _(result, result_bar, g, container, index):
    return unbroadcast(item(result_bar, index), g), None, None


linear(runtime.item_bar)


@adjoint(runtime.acc_item)
def _(result, result_bar, bar, primal, index, g):
    return result_bar, None, None, unbroadcast(item(result_bar, index), g)


@tangent(runtime.acc_item)
def _(result, bar, primal, index, g, bar_dot, g_dot):
    return acc_item(bar_dot, primal, index, g_dot)


linear(runtime.take_item)


@adjoint(runtime.buffer_part)
def _(result, result_bar, g, bar):
    return runtime.buffer_part(result_bar, bar), None


linear(runtime.buffer_part)


@adjoint(runtime.written_bar)
def _(result, result_bar, g, y):
    return runtime.written_bar(result_bar, y), None


linear(runtime.written_bar)


@adjoint(runtime.finalize)
def _(result, result_bar, bar, x):
    return unbroadcast(result_bar, bar), None


linear(runtime.finalize)


@adjoint(runtime.nan_input_bar)
def _(result, result_bar, bar, x, out):
    return runtime.nan_input_bar(result_bar, x, out), None, None


linear(runtime.nan_input_bar)


linear(runtime.pop_bar)


linear(runtime.pop_bars)


@tangent(runtime.unpop_bar)
def _(result, bar, container, g, bar_dot, g_dot):
    return unpop_bar(bar_dot, container, g_dot)


@adjoint(runtime.element)
def _(result, result_bar, container, index):
    # an index (an int, or a tuple/slice of ints) has no derivative, even when it comes
    # off a tape that also holds differentiated values (reverse over reverse)
    return runtime.acc_item(0.0, container, index, result_bar), None


@tangent(runtime.element)
def _(result, container, index, container_dot):
    return runtime.item(container_dot, index)


# Concatenation helpers of `+` (rules/operators.py): linear in their first argument.
@adjoint(runtime.head_part)
def _(result, result_bar, g, a, b):
    return runtime.cat_left(result_bar, a, b), None, None      # a and b only give the structure


@tangent(runtime.head_part)
def _(result, g, a, b, g_dot):
    return runtime.head_part(g_dot, a, b)


@adjoint(runtime.tail_part)
def _(result, result_bar, g, a, b):
    return runtime.cat_right(result_bar, a, b), None, None      # a and b only give the structure


@tangent(runtime.tail_part)
def _(result, g, a, b, g_dot):
    return runtime.tail_part(g_dot, a, b)


@adjoint(runtime.cat_left)
def _(result, result_bar, g, a, b):
    return runtime.head_part(result_bar, a, b), None, None      # a and b only give the structure


@tangent(runtime.cat_left)
def _(result, g, a, b, g_dot):          # g, not a_dot: a parameter named x_dot is x's tangent
    return runtime.cat_left(g_dot, a, b)


@adjoint(runtime.cat_right)
def _(result, result_bar, g, a, b):
    return runtime.tail_part(result_bar, a, b), None, None      # a and b only give the structure


@tangent(runtime.cat_right)
def _(result, g, a, b, g_dot):
    return runtime.cat_right(g_dot, a, b)


# Pure helpers of higher-order gradient code (transform/purify.py): linear in their
# buffer and value arguments; containers, primals and indices give only the structure.
from ..runtime_pure import (added_item, zeroed_item, last_bars, padded_bar,  # noqa: E402
                            bar_at_end, appended_bar, written_dot, appended_dot, extended_dot,
                            head_of_appended, bar_at_index, inserted_zero)


@adjoint(runtime_pure.added_item)
def _(result, result_bar, bar, primal, index, g):
    return result_bar, None, None, unbroadcast(item(result_bar, index), g)


@tangent(runtime_pure.added_item)
def _(result, bar, primal, index, g, bar_dot, g_dot):
    return added_item(bar_dot, primal, index, g_dot)


@adjoint(runtime_pure.taken_item)
def _(result, result_bar, bar, index):
    return item_bar(runtime_pure.winners_only(result_bar, runtime_pure.buffer_shape(bar), index), bar, index), None


@adjoint(runtime_pure.winners_only)
def _(result, result_bar, g, shape, index):
    return runtime_pure.winners_only(result_bar, shape, index), None, None


linear(runtime_pure.taken_item, runtime_pure.winners_only)
nondiff(runtime_pure.buffer_shape)


@adjoint(runtime_pure.dict_without)
def _(result, result_bar, d, key):
    return runtime_pure.dict_without(result_bar, key), None


linear(runtime_pure.dict_without)


@adjoint(runtime_pure.zeroed_item)
def _(result, result_bar, bar, index):
    return zeroed_item(result_bar, index), None


linear(runtime_pure.zeroed_item)


@adjoint(runtime_pure.last_bar)
def _(result, result_bar, bar):
    return bar_at_end(result_bar, bar, None)


linear(runtime_pure.last_bar)


@adjoint(runtime_pure.last_bars)
def _(result, result_bar, bar, n):
    return bar_at_end(result_bar, bar, n), None


linear(runtime_pure.last_bars)


@adjoint(runtime_pure.without_last)
def _(result, result_bar, bar, n):
    return padded_bar(result_bar, bar, n), None


linear(runtime_pure.without_last)


@adjoint(runtime_pure.appended_bar)
def _(result, result_bar, bar, container, g):
    return head_of_appended(result_bar, bar), None, item(result_bar, -1)


@tangent(runtime_pure.appended_bar)
def _(result, bar, container, g, bar_dot, g_dot):
    return appended_bar(bar_dot, container, g_dot)


@adjoint(runtime_pure.written_dot)
def _(result, result_bar, dot, y, index, value, vdot):
    return (unbroadcast(zeroed_item(result_bar, index), dot), None, None, None,
            unbroadcast(item(result_bar, index), vdot))


@tangent(runtime_pure.written_dot)
def _(result, dot, y, index, value, vdot, dot_dot, vdot_dot):      # vdot: not value's tangent
    return written_dot(dot_dot, y, index, value, vdot_dot)


@adjoint(runtime_pure.appended_dot)
def _(result, result_bar, dot, lst, value, vdot):
    return head_of_appended(result_bar, dot), None, None, item(result_bar, -1)


@tangent(runtime_pure.appended_dot)
def _(result, dot, lst, value, vdot, dot_dot, vdot_dot):
    return appended_dot(dot_dot, lst, value, vdot_dot)


@adjoint(runtime_pure.extended_dot)
def _(result, result_bar, dot, lst, seq, sdot):
    return head_of_appended(result_bar, dot, len(seq)), None, None, last_bars(result_bar, len(seq))


@tangent(runtime_pure.extended_dot)
def _(result, dot, lst, seq, sdot, dot_dot, sdot_dot):
    return extended_dot(dot_dot, lst, seq, sdot_dot)


@adjoint(runtime_pure.popped_dot)
def _(result, result_bar, dot, value, index=-1):
    return bar_at_index(result_bar, dot, index), None, None


linear(runtime_pure.popped_dot)


@adjoint(runtime_pure.without_popped)
def _(result, result_bar, dot, index=-1):
    return inserted_zero(result_bar, dot, index), None


linear(runtime_pure.without_popped)

@adjoint(runtime_pure.restored_item)
def _(result, result_bar, container, index, old):
    return zeroed_item(result_bar, index), None, item(result_bar, index)


@tangent(runtime_pure.restored_item)
def _(result, container, index, old, container_dot, old_dot):
    return written_dot(container_dot, container, index, old, old_dot)


@adjoint(runtime_pure.truncated)
def _(result, result_bar, lst, n):
    return padded_bar(result_bar, lst, n), None


@tangent(runtime_pure.truncated)
def _(result, lst, n, lst_dot):
    return runtime_pure.truncated(lst_dot, n)


# Third order through list adjoints: the helpers the adjoint rules above call.  Their
# own adjoint helpers (unpadded, end_of, ...) have no rules: a fourth derivative
# through list adjoints is refused (NoDerivativeRule), never dropped.
@adjoint(runtime_pure.padded_bar)
def _(result, result_bar, g, bar, n):
    return runtime_pure.unpadded(result_bar, bar, n), None, None


linear(runtime_pure.padded_bar)


@adjoint(runtime_pure.bar_at_end)
def _(result, result_bar, g, bar, n):
    return runtime_pure.end_of(result_bar, bar, n), None, None


linear(runtime_pure.bar_at_end)


@adjoint(runtime_pure.head_of_appended)
def _(result, result_bar, g, bar, n=1):
    return runtime_pure.pad_if_list(result_bar, bar, n), None, None


linear(runtime_pure.head_of_appended)


@adjoint(runtime_pure.bar_at_index)
def _(result, result_bar, g, dot, index=-1):
    return runtime_pure.item_if_list(result_bar, dot, index), None, None


linear(runtime_pure.bar_at_index)


@adjoint(runtime_pure.inserted_zero)
def _(result, result_bar, g, dot, index=-1):
    return runtime_pure.removed_at(result_bar, dot, index), None, None


linear(runtime_pure.inserted_zero)
