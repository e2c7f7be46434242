"""effects: facts about the helpers generated code calls, declared once.

Every optimizer pass that must know whether a call may be dropped, moved,
owned or rescaled asks this registry (`has(helper, FACT)`), instead of keeping
a table of its own.  Facts about runtime.py's helpers are declared below
(runtime.py imports nothing but NumPy, so `diffc export` can inline it); the
rule modules, checks.py and the optimizer declare their own helpers beside
their definitions with `declare`.

Facts (each a promise the helper keeps for every argument):

DROPPABLE      no effect anyone can observe once its result is dead (it may
               update the buffer it returns: dce drops the whole statement)
EFFECTFUL      checks, warns or writes somewhere: never dropped, whatever the
               rule registry says about it
FRESH          returns a new object, never an argument or a view of one (the
               caller owns it and may update it in place)
ARGUMENT_OR_NEW  returns its first argument itself, or a new object
LINEAR_IN_FIRST  linear (and odd) in its first argument: c * f(g, ...) == f(c * g, ...)
MUTATES_FIRST  writes into its first argument (an adjoint buffer or a container)
NO_RESULT      returns nothing useful (called for its effect)
NO_WRITES      reads its arguments and never writes into any of them
OWNED_BUFFER   an adjoint helper whose result is a buffer the gradient owns from
               then on (optimize/fuse_reset_and_accumulate.py accumulates into it in place); a
               subset of FRESH: copies and zeros are FRESH but keep their own
               scheduling there
NEW_BUFFER     returns a new array the caller owns and may store into (zeros_like,
               np.zeros...)
WRITES_NOTHING writes into no argument and no global state (it may raise): a loop
               calling it leaves every other value alone
FLOAT_PRESERVING  given Python floats returns a Python float, given NumPy float64
               scalars a NumPy float64 (abs, min, max)
RETURNS_ARGUMENTS  hands back one of its arguments (or 0.0) as it came, inside a tuple
               for the max/min adjoint: a float stays a float
HOLDS_ARGUMENTS  returns an object that may hold its arguments or their items (an
               object built from fields, a list of pairs, a partial): a write into
               an argument is seen through the result
MAY_HOLD_ARGUMENT  a FRESH copy that is new at the top only for arrays: an object of a
               user class comes back itself, a list's copy holds its items
               (runtime.copy_value); optimize/aliasing.fresh_call counts it new only
               where diffc knew the value is an array
NUMPY_RESULT   returns a NumPy value whether its arguments are Python floats or NumPy
               float64 scalars (optimize/read_float_items.py: like a ufunc)

Facts about library functions the passes reason about (builtins, NumPy) are
declared here too (`_declare_library`).
"""

DROPPABLE = "droppable"
EFFECTFUL = "effectful"
FRESH = "fresh"
ARGUMENT_OR_NEW = "argument_or_new"
LINEAR_IN_FIRST = "linear_in_first"
MUTATES_FIRST = "mutates_first"
NO_RESULT = "no_result"
NO_WRITES = "no_writes"
OWNED_BUFFER = "owned_buffer"
NEW_BUFFER = "new_buffer"
WRITES_NOTHING = "writes_nothing"
FLOAT_PRESERVING = "float_preserving"
RETURNS_ARGUMENTS = "returns_arguments"
NUMPY_RESULT = "numpy_result"
HOLDS_ARGUMENTS = "holds_arguments"
MAY_HOLD_ARGUMENT = "may_hold_argument"

_FACTS = {}


def declare(*helpers, facts):
    """Record that every helper keeps every fact in `facts` (a tuple of the names above)."""
    for helper in helpers:
        _FACTS.setdefault(helper, set()).update(facts)


def has(helper, fact):
    """Whether `helper` (any object; unknown and unhashable ones have no facts) keeps `fact`."""
    try:
        return fact in _FACTS.get(helper, ())
    except TypeError:
        return False


def _declare_runtime():
    from . import runtime as rt
    from . import runtime_pure as rp
    declare(rt.give_item, facts=(DROPPABLE, MUTATES_FIRST))    # acc_item taking g itself (hand_over.py)
    declare(rt.copy_value, rp.copy_held, rt.nonzero, rt.nonzero_either, rt.element, rt.item, rt.acc_item,
            rt.unbroadcast, rt.finalize, rt.nan_input_bar, rt.zeros_like, rt.as_sequence, rt.sequence_dot, rt.read_item, facts=(DROPPABLE,))
    declare(rt.check_scalar, rt.take_item, rt.zero_item, rt.pop_bar, rt.pop_bars, rt.truncate, rt.unpop_bar,
            rt.write_item, facts=(EFFECTFUL,))
    declare(rt.copy_value, rp.copy_held, rt.zeros_like, facts=(FRESH,))
    declare(rt.copy_value, rp.copy_held, facts=(MAY_HOLD_ARGUMENT,))
    # take_item: a copy, or an entry the adjoint no longer holds
    declare(rt.take_item, facts=(FRESH, OWNED_BUFFER))
    declare(rt.unbroadcast, rt.finalize, rt.nan_input_bar, rt.fit_dot, facts=(ARGUMENT_OR_NEW,))
    declare(rt.unbroadcast, facts=(LINEAR_IN_FIRST,))
    declare(rt.acc_item, rt.take_item, rt.zero_item, rt.pop_bar, rt.pop_bars, rt.unpop_bar, rt.write_item,
            rt.truncate, rt.write_dot, rt.append_dot, rt.extend_dot, rt.pop_dot, facts=(MUTATES_FIRST,))
    declare(rt.zero_item, rt.write_item, rt.truncate, facts=(NO_RESULT,))
    declare(rt.unbroadcast, rt.copy_value, rp.copy_held, rt.nonzero, rt.nonzero_either, rt.item, rt.element,
            facts=(NO_WRITES,))
    from . import runtime_checks
    declare(print, runtime_checks.check_unshared, runtime_checks.check_no_positional_out, runtime_checks.check_zip_strict,
            runtime_checks.check_list_slice_length, runtime_checks.check_item_write_back,
            runtime_checks.check_values_unshared, runtime_checks.check_attribute_unshared,
            runtime_checks.check_updated_in_place, runtime_checks.same_or_unshared, runtime_checks.tuple_takes_back,
            facts=(EFFECTFUL,))
    declare(runtime_checks.basic_index, runtime_checks.slicing_shares, facts=(DROPPABLE, NO_WRITES, WRITES_NOTHING))
    # checks of the receiver's type that give a position, keys or a kind: kept even when unused
    declare(rp.list_insert_position, rp.update_keys, rp.sort_kind, rp.pop_position, rp.list_pop_position,
            facts=(EFFECTFUL, NO_WRITES, WRITES_NOTHING))
    declare(rp.dict_without, facts=(DROPPABLE, ARGUMENT_OR_NEW, NO_WRITES, WRITES_NOTHING))
    from . import runtime_scatter as rs
    declare(rs.scatter_added, rs.scatter_subtracted, rs.scatter_multiplied, rs.filled_diagonal, rs.put_values,
            rs.put_along_values, facts=(DROPPABLE, FRESH, NO_WRITES, WRITES_NOTHING))
    declare(rt.zeros_like, facts=(NEW_BUFFER,))
    declare(rt.check_scalar, rt.item, facts=(WRITES_NOTHING,))
    declare(rt.real_where_real, facts=(DROPPABLE, ARGUMENT_OR_NEW, NO_WRITES, WRITES_NOTHING))
    declare(rt.buffer_part, rt.written_bar, facts=(DROPPABLE, ARGUMENT_OR_NEW, NO_WRITES, WRITES_NOTHING,
                                                 LINEAR_IN_FIRST))


def _declare_runtime_calls():
    from . import runtime_calls as rc
    from . import runtime_tuples
    declare(rc.with_attributes, rc.with_item, rc.concat_parts, rc.enumerate_list, rc.zip_lists, rc.zip_star,
            rc.merge_kwargs, rc.build_object, rc.partial_value, rc.closure, rc.captured_callee, rc.owned_callee,
            rc.replace_fields, runtime_tuples.tuple_with_item, facts=(HOLDS_ARGUMENTS,))


def _declare_library():
    import builtins
    import numpy as np
    declare(builtins.len, builtins.range, builtins.reversed, builtins.abs, builtins.min, builtins.max,
            builtins.float, builtins.int, builtins.bool, facts=(WRITES_NOTHING,))
    declare(builtins.abs, builtins.min, builtins.max, facts=(FLOAT_PRESERVING,))
    declare(np.zeros, np.zeros_like, np.empty, np.empty_like, np.ones, np.full, facts=(NEW_BUFFER,))
    # Draws and seeding change the generator's state: dropping, moving or repeating one
    # changes every later draw (a discarded `np.random.normal(size=5)` still advances it).
    declare(*[f for f in vars(np.random).values() if callable(f) and not isinstance(f, type)],
            facts=(EFFECTFUL,))


def random_methods():
    """Names of the methods of NumPy's generators (Generator, RandomState): draws, seeding,
    shuffles; each changes the generator's state."""
    import numpy as np
    names = set()
    for cls in (np.random.Generator, np.random.RandomState):
        names |= {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}
    return names - {"bit_generator", "get_state", "spawn"}


_declare_runtime()
_declare_runtime_calls()
_declare_library()
