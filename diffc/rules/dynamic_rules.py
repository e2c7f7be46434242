"""Rules for calls of function values (`runtime_calls.call_value` and the helpers its rules call).

The derivative of a call whose callee is only known at run time is computed at
run time (diffc/dynamic.py); each helper's own derivative is again such a
helper, so gradient code that calls function values is differentiable again
(second order: reverse over reverse, forward over reverse, ...).
"""

from . import adjoint, linear, tangent, nondiff
from .. import effects, runtime, runtime_calls, runtime_pure, runtime_tuples
from ..runtime import item


@adjoint(runtime_calls.call_value)
def _(result, result_bar, f, args, kwargs):
    bars = runtime_calls.vjp_call(f, args, kwargs, result_bar)
    return bars[2], bars[0], bars[1]


@tangent(runtime_calls.call_value)
def _(result, f, args, kwargs, f_dot, args_dot, kwargs_dot):
    return runtime_calls.jvp_call(f, args, kwargs, args_dot, kwargs_dot, f_dot)


# vjp_call and jvp_call are differentiated as vjp_call / jvp_call of plain functions of the
# call's values (diffc/dynamic.py, "the tower"): generated code of this form is
# differentiable again, at any order.

@adjoint(runtime_calls.vjp_call)
def _(result, result_bar, f, args, kwargs, seed):
    values = runtime_calls.call_values(f, args, kwargs)
    b = runtime_calls.vjp_call(runtime_calls.vjp_function(f, args, kwargs), runtime_calls.concat_parts(values, (seed,)), {},
                         result_bar)
    parts = runtime_calls.concat_parts_bars(b[0], (values, (seed,)))
    g = runtime_calls.call_bars(parts[0], f, args, kwargs)
    return g[2], g[0], g[1], parts[1][0]


@tangent(runtime_calls.vjp_call)
def _(result, f, args, kwargs, seed, f_dot, args_dot, kwargs_dot, seed_dot):
    t = runtime_calls.jvp_call(runtime_calls.vjp_function(f, args, kwargs),
                         runtime_calls.concat_parts(runtime_calls.call_values(f, args, kwargs), (seed,)), {},
                         runtime_calls.concat_parts(runtime_calls.call_dots(f_dot, args_dot, kwargs_dot, f, args, kwargs),
                                              (seed_dot,)), {}, 0.0)
    return runtime_calls.as_call_bars(t, f, args, kwargs)


@adjoint(runtime_calls.jvp_call)
def _(result, result_bar, f, args, kwargs, da, dk, df):
    values = runtime_calls.call_values(f, args, kwargs)
    dots = runtime_calls.call_dots(df, da, dk, f, args, kwargs)
    b = runtime_calls.vjp_call(runtime_calls.jvp_function(f, args, kwargs), runtime_calls.concat_parts(values, dots), {},
                         result_bar)
    parts = runtime_calls.concat_parts_bars(b[0], (values, dots))
    g = runtime_calls.call_bars(parts[0], f, args, kwargs)
    h = runtime_calls.call_bars(parts[1], f, args, kwargs)
    return g[2], g[0], g[1], h[0], h[1], h[2]


@tangent(runtime_calls.jvp_call)
def _(result, f, args, kwargs, da, dk, df, f_dot, args_dot, kwargs_dot, da_dot, dk_dot, df_dot):
    return runtime_calls.jvp_call(runtime_calls.jvp_function(f, args, kwargs),
                            runtime_calls.concat_parts(runtime_calls.call_values(f, args, kwargs),
                                                 runtime_calls.call_dots(df, da, dk, f, args, kwargs)), {},
                            runtime_calls.concat_parts(runtime_calls.call_dots(f_dot, args_dot, kwargs_dot, f, args, kwargs),
                                                 runtime_calls.call_dots(df_dot, da_dot, dk_dot, f, args, kwargs)), {},
                            0.0)


nondiff(runtime_calls.vjp_function)        # functions: no derivative of their own
nondiff(runtime_calls.jvp_function)
nondiff(runtime_calls.vjp_pullback)


@adjoint(runtime_calls.call_values)
def _(result, result_bar, f, args, kwargs):
    g = runtime_calls.call_bars(result_bar, f, args, kwargs)
    return g[2], g[0], g[1]


@tangent(runtime_calls.call_values)
def _(result, f, args, kwargs, f_dot, args_dot, kwargs_dot):
    return runtime_calls.call_dots(f_dot, args_dot, kwargs_dot, f, args, kwargs)


@adjoint(runtime_calls.call_bars)
def _(result, result_bar, bars, f, args, kwargs):
    return runtime_calls.call_dots(item(result_bar, 2), item(result_bar, 0), item(result_bar, 1), f, args, kwargs), \
        None, None, None


@tangent(runtime_calls.call_bars)
def _(result, bars, f, args, kwargs, bars_dot):
    return runtime_calls.call_bars(bars_dot, f, args, kwargs)


@adjoint(runtime_calls.call_dots)
def _(result, result_bar, df, da, dk, f, args, kwargs):
    g = runtime_calls.call_bars(result_bar, f, args, kwargs)
    return g[2], g[0], g[1], None, None, None


@tangent(runtime_calls.call_dots)
def _(result, df, da, dk, f, args, kwargs, df_dot, da_dot, dk_dot):
    return runtime_calls.call_dots(df_dot, da_dot, dk_dot, f, args, kwargs)


@adjoint(runtime_calls.as_call_bars)
def _(result, result_bar, t, f, args, kwargs):
    return runtime_calls.as_call_bars(result_bar, f, args, kwargs), None, None, None


@tangent(runtime_calls.as_call_bars)
def _(result, t, f, args, kwargs, t_dot):
    return runtime_calls.as_call_bars(t_dot, f, args, kwargs)


@adjoint(runtime_calls.dot_like)
def _(result, result_bar, dot, value):
    return runtime_calls.dot_like_bar(result_bar, dot), None


@tangent(runtime_calls.dot_like)
def _(result, dot, value, dot_dot):
    return runtime_calls.dot_like(dot_dot, value)


@adjoint(runtime_calls.dot_like_bar)
def _(result, result_bar, g, dot):
    return runtime_calls.dot_like_bar_bar(result_bar, g), None


@tangent(runtime_calls.dot_like_bar_bar)
def _(result, c, g, c_dot):
    return runtime_calls.dot_like_bar_bar(c_dot, g)


@adjoint(runtime_calls.dot_like_bar_bar)
def _(result, result_bar, c, g):
    return runtime.unbroadcast(result_bar, c), None


@tangent(runtime_calls.dot_like_bar)
def _(result, g, dot, g_dot):
    return runtime_calls.dot_like_bar(g_dot, dot)


# Function values holding differentiated values (runtime_calls.Closure).

@adjoint(runtime_calls.closure)
def _(result, result_bar, fn, *captured):
    return runtime_calls.closure_bars(result_bar, len(captured))


@tangent(runtime_calls.closure)
def _(result, fn, *captured_and_dots):
    return runtime_calls.closure_dot(captured_and_dots)


@adjoint(runtime_calls.partial_value)
def _(result, result_bar, fn, args, kwargs):
    bars = runtime_calls.partial_bars(result_bar, len(args), list(kwargs), runtime_calls.inner_layout(fn))
    return bars[0], bars[1], bars[2]


@tangent(runtime_calls.partial_value)
def _(result, fn, args, kwargs, fn_dot, args_dot, kwargs_dot):
    return runtime_calls.partial_trail_dot(args_dot, kwargs_dot, fn_dot, args, kwargs, runtime_calls.inner_layout(fn))


@adjoint(runtime_calls.captured_callee)
def _(result, result_bar, f):
    return result_bar


@tangent(runtime_calls.captured_callee)
def _(result, f, f_dot):
    return f_dot


@adjoint(runtime_calls.owned_callee)
def _(result, result_bar, f):
    return result_bar


@tangent(runtime_calls.owned_callee)
def _(result, f, f_dot):
    return f_dot


@adjoint(runtime_calls.zip_star)
def _(result, result_bar, rows):
    return runtime_calls.zip_star_bar(result_bar, rows)


@tangent(runtime_calls.zip_star)
def _(result, rows, rows_dot):
    return runtime_calls.zip_star_dot(rows_dot, rows)


# zip and enumerate outside a for loop (desugar lowers them inside one).

@adjoint(runtime_calls.zip_lists)
def _(result, result_bar, *seqs):
    return runtime_calls.zip_lists_bars(result_bar, seqs)


@tangent(runtime_calls.zip_lists)
def _(result, *seqs_and_dots):
    return runtime_calls.zip_lists_dot(seqs_and_dots)


@adjoint(runtime_calls.enumerate_list)
def _(result, result_bar, seq, start=0):
    return runtime_calls.enumerate_bar(result_bar, seq), None


@tangent(runtime_calls.enumerate_list)
def _(result, seq, start, seq_dot):
    return runtime_calls.enumerate_dot(seq_dot, seq, start)


# Their adjoint helpers are linear in the adjoint (higher order).

@adjoint(runtime_calls.zip_star_bar)
def _(result, result_bar, g, rows):
    return runtime_calls.zip_star_dot(result_bar, rows), None


@tangent(runtime_calls.zip_star_bar)
def _(result, g, rows, g_dot):
    return runtime_calls.zip_star_bar(g_dot, rows)


# (The linear helpers' tangent parameters are named rd, sd, da, dk, not rows_dot...: a
# rule binds `<name>_dot` as the tangent of its parameter `<name>`.)

@adjoint(runtime_calls.zip_star_dot)
def _(result, result_bar, rd, rows):
    return runtime_calls.zip_star_bar(result_bar, rows), None


@tangent(runtime_calls.zip_star_dot)
def _(result, rd, rows, rd_dot):
    return runtime_calls.zip_star_dot(rd_dot, rows)


@adjoint(runtime_calls.zip_lists_bars)
def _(result, result_bar, g, seqs):
    return runtime_calls.zip_lists_regroup(result_bar, seqs), None


@tangent(runtime_calls.zip_lists_bars)
def _(result, g, seqs, g_dot):
    return runtime_calls.zip_lists_bars(g_dot, seqs)


@adjoint(runtime_calls.zip_lists_regroup)
def _(result, result_bar, c, seqs):
    return runtime_calls.zip_lists_bars(result_bar, seqs), None


@tangent(runtime_calls.zip_lists_regroup)
def _(result, c, seqs, c_dot):
    return runtime_calls.zip_lists_regroup(c_dot, seqs)


@adjoint(runtime_calls.enumerate_bar)
def _(result, result_bar, g, seq):
    return runtime_calls.enumerate_dot(result_bar, seq), None


@tangent(runtime_calls.enumerate_bar)
def _(result, g, seq, g_dot):
    return runtime_calls.enumerate_bar(g_dot, seq)


@adjoint(runtime_calls.enumerate_dot)
def _(result, result_bar, sd, seq, start=0):
    return runtime_calls.enumerate_bar(result_bar, seq), None, None


@tangent(runtime_calls.enumerate_dot)
def _(result, sd, seq, start, sd_dot):
    return runtime_calls.enumerate_dot(sd_dot, seq, start)


# Adjoint helpers of closures (higher order): linear in the adjoint.

@adjoint(runtime_calls.closure_bars)
def _(result, result_bar, bar, n):
    return runtime_calls.closure_bars_bar(result_bar, n), None


@tangent(runtime_calls.closure_bars)
def _(result, bar, n, bar_dot):
    return runtime_calls.closure_bars(bar_dot, n)


@adjoint(runtime_calls.closure_bars_bar)
def _(result, result_bar, c, n):
    return runtime_calls.closure_bars(result_bar, n), None


@tangent(runtime_calls.closure_bars_bar)
def _(result, c, n, c_dot):
    return runtime_calls.closure_bars_bar(c_dot, n)


@adjoint(runtime_calls.closure_dot)
def _(result, result_bar, values_and_dots):
    return runtime_calls.closure_dot_bar(result_bar, len(values_and_dots))


@tangent(runtime_calls.closure_dot)
def _(result, values_and_dots, values_and_dots_dot):
    return runtime_calls.closure_dot(values_and_dots_dot)


@adjoint(runtime_calls.partial_bars)
def _(result, result_bar, bar, n_args, keys, layout):
    return runtime_calls.partial_regroup(result_bar, n_args, keys, layout), None, None, None


@tangent(runtime_calls.partial_bars)
def _(result, bar, n_args, keys, layout, bar_dot):
    return runtime_calls.partial_bars(bar_dot, n_args, keys, layout)


@adjoint(runtime_calls.partial_regroup)
def _(result, result_bar, c, n_args, keys, layout):
    return runtime_calls.partial_bars(result_bar, n_args, keys, layout), None, None, None


@tangent(runtime_calls.partial_regroup)
def _(result, c, n_args, keys, layout, c_dot):
    return runtime_calls.partial_regroup(c_dot, n_args, keys, layout)


@adjoint(runtime_calls.partial_dot)
def _(result, result_bar, da, dk, args, kwargs):
    bars = runtime_calls.partial_bars(result_bar, len(args), list(kwargs), 0)
    return bars[1], bars[2], None, None


@tangent(runtime_calls.partial_dot)
def _(result, da, dk, args, kwargs, da_dot, dk_dot):
    return runtime_calls.partial_dot(da_dot, dk_dot, args, kwargs)


@adjoint(runtime_calls.partial_trail_dot)
def _(result, result_bar, da, dk, df, args, kwargs, layout):
    bars = runtime_calls.partial_bars(result_bar, len(args), list(kwargs), layout)
    return bars[1], bars[2], bars[0], None, None, None


@tangent(runtime_calls.partial_trail_dot)
def _(result, da, dk, df, args, kwargs, layout, da_dot, dk_dot, df_dot):
    return runtime_calls.partial_trail_dot(da_dot, dk_dot, df_dot, args, kwargs, layout)


# Attributes of objects that carry derivatives (transform/dynamic_calls.py).

@adjoint(runtime_calls.get_field)
def _(result, result_bar, obj, name):
    return runtime_calls.field_bar(result_bar, obj, name), None


@tangent(runtime_calls.get_field)
def _(result, obj, name, obj_dot):
    return runtime_calls.field_dot(obj_dot, obj, name)


@adjoint(runtime_calls.field_dot)
def _(result, result_bar, od, obj, name):
    return runtime_calls.field_bar(result_bar, obj, name), None, None


@tangent(runtime_calls.field_dot)
def _(result, od, obj, name, od_dot):
    return runtime_calls.field_dot(od_dot, obj, name)


@adjoint(runtime_calls.field_bar)
def _(result, result_bar, g, obj, name):
    return runtime_calls.bar_of_field(result_bar, obj, name), None, None


@tangent(runtime_calls.field_bar)
def _(result, g, obj, name, g_dot):
    return runtime_calls.field_bar(g_dot, obj, name)


@adjoint(runtime_calls.bar_of_field)
def _(result, result_bar, bar, obj, name):
    return runtime_calls.field_bar(result_bar, obj, name), None, None


@tangent(runtime_calls.bar_of_field)
def _(result, bar, obj, name, bar_dot):
    return runtime_calls.bar_of_field(bar_dot, obj, name)


@adjoint(runtime.field_of)
def _(result, result_bar, bar, name):
    return runtime_calls.FieldBar({name: result_bar}), None


@tangent(runtime.field_of)
def _(result, bar, name, bar_dot):
    return runtime.field_of(bar_dot, name)


# Objects of user classes built from differentiated values (transform/constructors.py).

@adjoint(runtime_calls.build_object)
def _(result, result_bar, cls, fields):
    return None, runtime_calls.object_fields_bar(result_bar, cls, list(fields))


@tangent(runtime_calls.build_object)
def _(result, cls, fields, fields_dot):
    return runtime_calls.object_dot(cls, fields_dot)


@adjoint(runtime_calls.object_fields_bar)
def _(result, result_bar, bar, cls, names):
    return runtime_calls.fields_object_bar(result_bar, cls, names), None, None


@tangent(runtime_calls.object_fields_bar)
def _(result, bar, cls, names, bar_dot):
    return runtime_calls.object_fields_bar(bar_dot, cls, names)


@adjoint(runtime_calls.fields_object_bar)
def _(result, result_bar, c, cls, names):
    return runtime_calls.object_fields_bar(result_bar, cls, names), None, None


@tangent(runtime_calls.fields_object_bar)
def _(result, c, cls, names, c_dot):
    return runtime_calls.fields_object_bar(c_dot, cls, names)


@adjoint(runtime_calls.owned_tangent)
def _(result, result_bar, dot):
    return result_bar


linear(runtime_calls.owned_tangent)


@adjoint(runtime_calls.object_dot)
def _(result, result_bar, cls, fields_dot):
    return None, runtime_calls.object_fields_bar(result_bar, cls, list(fields_dot) if isinstance(fields_dot, dict) else [])


@tangent(runtime_calls.object_dot)
def _(result, cls, fields_dot, fields_dot_dot):
    return runtime_calls.object_dot(cls, fields_dot_dot)


# NamedTuple._replace / dataclasses.replace of objects carrying derivatives.

@adjoint(runtime_calls.replace_fields)
def _(result, result_bar, obj, changes):
    bars = runtime_calls.replaced_bars(result_bar, obj, list(changes))
    return bars[0], bars[1]


@tangent(runtime_calls.replace_fields)
def _(result, obj, changes, obj_dot, changes_dot):
    return runtime_calls.replaced_dot(obj_dot, changes_dot, obj, list(changes))


@adjoint(runtime_calls.with_attributes)
def _(result, result_bar, obj, changes):
    bars = runtime_calls.replaced_bars(result_bar, obj, list(changes))
    return bars[0], bars[1]


@tangent(runtime_calls.with_attributes)
def _(result, obj, changes, obj_dot, changes_dot):
    return runtime_calls.replaced_dot(obj_dot, changes_dot, obj, list(changes))


@adjoint(runtime_calls.with_item)
def _(result, result_bar, container, index, value):
    return (runtime_pure.zeroed_item(result_bar, index), None,
            runtime.unbroadcast(item(result_bar, index), value))


@tangent(runtime_calls.with_item)
def _(result, container, index, value, container_dot, value_dot):
    return runtime_pure.written_dot(container_dot, container, index, value, value_dot)


@adjoint(runtime_tuples.tuple_with_item)
def _(result, result_bar, container, index, value):
    bars = runtime_tuples.tuple_item_bars(result_bar, container, index)
    return bars[0], None, runtime.unbroadcast(bars[1], value)


@tangent(runtime_tuples.tuple_with_item)
def _(result, container, index, value, container_dot, value_dot):
    return runtime_tuples.tuple_item_dot(container_dot, container, index, value_dot)


linear(runtime_tuples.tuple_item_bars, runtime_tuples.tuple_pair_joined)   # (second order)


@adjoint(runtime_tuples.tuple_item_bars)
def _(result, result_bar, bar, container, index):
    return runtime_tuples.tuple_pair_joined(result_bar, container, index), None, None


@adjoint(runtime_tuples.tuple_pair_joined)
def _(result, result_bar, pair, container, index):
    return runtime_tuples.tuple_item_bars(result_bar, container, index), None, None


@adjoint(runtime_tuples.tuple_item_dot)
def _(result, result_bar, dot, container, index, value_dot):
    bars = runtime_tuples.tuple_item_bars(result_bar, container, index)
    return bars[0], None, None, bars[1]


@tangent(runtime_tuples.tuple_item_dot)
def _(result, dot, container, index, value_dot, dot_dot, value_dot_dot):
    return runtime_tuples.tuple_item_dot(dot_dot, container, index, value_dot_dot)


nondiff(runtime_calls.check_discarded_call)
effects.declare(runtime_calls.check_discarded_call, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))
nondiff(runtime_calls.check_written_arguments, runtime_calls.check_called_value,
        runtime_calls.check_unchanged_arguments)
effects.declare(runtime_calls.check_written_arguments, runtime_calls.check_called_value,
                runtime_calls.check_unchanged_arguments,
                facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))
effects.declare(runtime_calls.set_function_attribute, facts=(effects.EFFECTFUL,))
nondiff(runtime_calls.set_function_attribute)
nondiff(runtime_calls.check_not_held)
nondiff(runtime_calls.check_parameter_aliases)
effects.declare(runtime_calls.check_parameter_aliases, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))
nondiff(runtime_calls.check_array_receiver)
effects.declare(runtime_calls.check_array_receiver, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))
nondiff(runtime_calls.inner_layout)
effects.declare(runtime_calls.check_not_held, facts=(effects.EFFECTFUL, effects.WRITES_NOTHING))


@adjoint(runtime_calls.replaced_bars)
def _(result, result_bar, bar, obj, names):
    return runtime_calls.merged_bars(result_bar, obj, names), None, None


@tangent(runtime_calls.replaced_bars)
def _(result, bar, obj, names, bar_dot):
    return runtime_calls.replaced_bars(bar_dot, obj, names)


@adjoint(runtime_calls.merged_bars)
def _(result, result_bar, c, obj, names):
    return runtime_calls.replaced_bars(result_bar, obj, names), None, None


@tangent(runtime_calls.merged_bars)
def _(result, c, obj, names, c_dot):
    return runtime_calls.merged_bars(c_dot, obj, names)


@adjoint(runtime_calls.replaced_dot)
def _(result, result_bar, od, cd, obj, names):
    bars = runtime_calls.replaced_bars(result_bar, obj, names)
    return bars[0], bars[1], None, None


@tangent(runtime_calls.replaced_dot)
def _(result, od, cd, obj, names, od_dot, cd_dot):
    return runtime_calls.replaced_dot(od_dot, cd_dot, obj, names)


nondiff(runtime_calls.unbound_method, runtime_calls.super_function)
nondiff(runtime_calls.is_plain_field, runtime_calls.field_getter)      # a function: no derivative of its own
nondiff(runtime_calls.unit_cotangents)     # constants


# Arguments of starred calls and displays with starred items (transform/starred.py).

@adjoint(runtime_calls.concat_parts)
def _(result, result_bar, *parts):
    return runtime_calls.concat_parts_bars(result_bar, parts)


@tangent(runtime_calls.concat_parts)
def _(result, *parts_and_dots):
    return runtime_calls.concat_parts_dot(parts_and_dots)


@adjoint(runtime_calls.concat_parts_bars)
def _(result, result_bar, g, parts):
    return runtime_calls.concat_parts_regroup(result_bar, parts), None


@tangent(runtime_calls.concat_parts_bars)
def _(result, g, parts, g_dot):
    return runtime_calls.concat_parts_bars(g_dot, parts)


@adjoint(runtime_calls.concat_parts_regroup)
def _(result, result_bar, c, parts):
    return runtime_calls.concat_parts_bars(result_bar, parts), None


@tangent(runtime_calls.concat_parts_regroup)
def _(result, c, parts, c_dot):
    return runtime_calls.concat_parts_regroup(c_dot, parts)


@adjoint(runtime_calls.concat_parts_dot)
def _(result, result_bar, parts_and_dots):
    return runtime_calls.concat_dot_bar(result_bar, parts_and_dots)


@tangent(runtime_calls.concat_parts_dot)
def _(result, parts_and_dots, parts_and_dots_dot):
    return runtime_calls.concat_parts_dot(parts_and_dots_dot)


@adjoint(runtime_calls.merge_kwargs)
def _(result, result_bar, *dicts):
    return runtime_calls.merge_kwargs_bars(result_bar, dicts)


@tangent(runtime_calls.merge_kwargs)
def _(result, *dicts_and_dots):
    return runtime_calls.merge_kwargs_dot(dicts_and_dots)


# Their adjoint helper is linear in the adjoint (higher order through f(..., **options)).

@adjoint(runtime_calls.merge_kwargs_bars)
def _(result, result_bar, g, dicts):
    return runtime_calls.merge_kwargs_regroup(result_bar, dicts), None


@tangent(runtime_calls.merge_kwargs_bars)
def _(result, g, dicts, g_dot):
    return runtime_calls.merge_kwargs_bars(g_dot, dicts)


@adjoint(runtime_calls.merge_kwargs_regroup)
def _(result, result_bar, c, dicts):
    return runtime_calls.merge_kwargs_bars(result_bar, dicts), None


@tangent(runtime_calls.merge_kwargs_regroup)
def _(result, c, dicts, c_dot):
    return runtime_calls.merge_kwargs_regroup(c_dot, dicts)


@adjoint(runtime_calls.merge_kwargs_dot)
def _(result, result_bar, dicts_and_dots):
    return runtime_calls.merge_kwargs_dot_bar(result_bar, dicts_and_dots)


@tangent(runtime_calls.merge_kwargs_dot)
def _(result, dicts_and_dots, dicts_and_dots_dot):
    return runtime_calls.merge_kwargs_dot(runtime_calls.with_tangents(dicts_and_dots, dicts_and_dots_dot))


@adjoint(runtime_calls.merge_kwargs_dot_bar)
def _(result, result_bar, g, dicts_and_dots):
    return runtime_calls.merge_kwargs_dot(runtime_calls.with_tangents(dicts_and_dots, result_bar)), None


@tangent(runtime_calls.merge_kwargs_dot_bar)
def _(result, g, dicts_and_dots, g_dot):
    return runtime_calls.merge_kwargs_dot_bar(g_dot, dicts_and_dots)
