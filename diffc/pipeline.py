"""pipeline: the ordered passes from a Python function to generated functions.

``front_end`` runs parse -> fence -> desugar -> anf -> hoist_invariants on one function;
`Module` collects every generated function of one compilation (the requested
gradient plus the split forward/adjoint pairs of the user functions it calls
and the primal copies of lifted local functions), resolves tape markers,
optimizes, and hands the functions to `emit`.

The passes are declared in order: the front end (`FRONT_END_PASSES`), the
reverse transform, then `OPTIMIZER_PASSES`; each is one function in its own
file with its invariants in the docstring.  The tree after any of them can be
printed (`diffc show --stage NAME`, `--stage list` names them all), and
`diffc show --time-passes` (or DIFFC_TIME_PASSES=1) reports the time spent in each.
"""

import inspect
import os
import re
import threading
import time

import gast

from . import ast_util as A
from . import effects
from . import runtime
from . import runtime_calls
from . import rules
from .analysis import kinds as K
from .analysis.activity import MUTATING_METHODS
from .analysis.calls import call_key, is_user_function
from .analysis.seed_writes import may_write_seed
from .errors import DiffcError, UnsupportedSyntax
from .fence import fence
from .naming import Namer, identifiers
from .optimize.absorb_scales import absorb_scales
from .optimize.algebra import algebra
from .optimize.assign_written_once import assign_written_once
from .optimize.dce import eliminate_dead_code
from .optimize.drop_dead_restores import drop_dead_restores
from .optimize.forward_substitute import forward_substitute
from .optimize.fuse_loop_reset import fuse_loop_reset
from .optimize.fuse_reset_and_accumulate import fuse_reset_and_accumulate
from .optimize.fuse_sum_products import fuse_sum_products
from .optimize.fuse_sum_spreads import fuse_sum_spreads
from .optimize.hand_over import hand_over
from .optimize.hoist_test_invariants import hoist_test_invariants
from .optimize.inline_while_tests import inline_while_tests
from .optimize.keep_real_adjoints_real import keep_real_adjoints_real
from .optimize.keep_split_tape_shapes import keep_split_tape_shapes
from .optimize.fuse_scatter_writes import fuse_scatter_writes
from .optimize.keep_taken_item import keep_taken_item
from .optimize.keep_tape_shapes import keep_tape_shapes
from .optimize.merge_accumulations import merge_accumulations
from .optimize.propagate_copies import propagate_copies
from .optimize.propagate_negations import propagate_negations
from .optimize.read_float_items import read_float_items
from .optimize.recompute_cheap_entries import recompute_cheap_entries
from .optimize.share_test_values import share_test_values
from .optimize.skip_dead_last_step import skip_dead_last_step
from .optimize.stack_products import stack_products
from .optimize.use_loop_tapes import use_loop_tapes
from .optimize.view_unwritten_copies import view_unwritten_copies
from .parse import FunctionInfo, parse_function
from .transform import callee_writes
from .transform.anf import ANF
from .transform.attribute_writes import functionalize_attribute_writes
from .transform.builtin_forms import rewrite_builtin_forms
from .transform.with_statements import lower_with_statements
from .transform.smooth_forms import rewrite_smooth_forms
from .transform.nan_masks import mask_nan_reductions
from .transform.literal_attributes import literal_attributes
from .transform.object_lists import store_items_back
from .transform.unknown_writes import check_unknown_writes
from .transform.desugar import Desugar
from .transform.frozen import pass_captured_variables, rewrite_frozen_calls, rewrite_result_attributes
from .transform.hoist_invariants import hoist_invariants
from .transform import checkpoint
from .transform.purify import purify
from .transform.reverse import TAPE, ReverseFunction, returned_alias_positions, rt
from .transform.tape_markers import resolve_tape_markers

_rules_loaded = threading.Lock()
_loaded = []


def load_builtin_rules():
    """Import the rule modules: each registers its rules in the registry (rules/__init__.py)."""
    from .rules import builtins_rules, math_rules, numpy_rules, operators, syntax
    from .rules import called_rules, complex_rules, container_rules, linalg_decomp_rules, linear_rules
    from .rules import radial_powers
    del radial_powers
    del builtins_rules, math_rules, numpy_rules, operators, syntax, called_rules
    from .rules import dynamic_rules
    del dynamic_rules
    del complex_rules, container_rules, linalg_decomp_rules, linear_rules
    try:
        import scipy  # noqa: F401  (SciPy is optional: its rules load only when it imports)
    except ImportError:
        return
    from .rules import scipy_rules
    del scipy_rules


def ensure_rules():
    if not _loaded:
        with _rules_loaded:
            if not _loaded:
                load_builtin_rules()
                _loaded.append(True)


def front_end(info, stages=None, entry=False, classes=None, lists=None):
    """parse result -> ANF, in place; returns info (with info.namer set).  entry: info is
    the function the user differentiates, classes: {parameter: the class of the object
    passed} for its object arguments (transform/attribute_writes.py), lists: the same for
    its arguments that are lists of objects of one class (transform/object_lists.py).

    A refusal is kept: info was rewritten in part, so every later use of it (a plain copy
    for a primal call, say) raises the same error instead of reading a half-made body."""
    failed = getattr(info, "front_end_error", None)
    if failed is not None:
        raise failed
    if getattr(info, "namer", None) is not None:
        return info
    try:
        return _front_end(info, stages, entry, classes, lists)
    except DiffcError as exc:
        info.front_end_error = exc
        raise


def _front_end(info, stages, entry, classes, lists):
    clock = time.perf_counter()
    fence(info)
    clock = _dump(stages, "fence", info, clock)
    free_the_tape_name(info)
    info.has_rule = rules.is_registered     # (transform/view_helpers.py: not inlined)
    info.namer = Namer(identifiers(info.node) | {TAPE})
    lower_with_statements(info, info.namer)
    rewrite_smooth_forms(info)
    mask_nan_reductions(info)
    literal_attributes(info)
    rewrite_builtin_forms(info, info.namer)
    store_items_back(info, info.namer, lists, classes)
    functionalize_attribute_writes(info, info.namer, entry, classes)
    check_unknown_writes(info)
    Desugar(info, info.namer).run()
    info.forget_local_names()
    clock = _dump(stages, "desugar", info, clock)
    ANF(info, info.namer).run()
    rewrite_frozen_calls(info)
    rewrite_result_attributes(info)
    pass_captured_variables(info)
    clock = _dump(stages, "anf", info, clock)
    hoist_invariants(info)
    _dump(stages, "hoist_invariants", info, clock)
    return info


def free_the_tape_name(info):
    """Rename the user's own `_tape` (TAPE, the name of the tape the generated functions
    pass each other): the generated code diffc differentiates again (higher order through
    a gradient called inside a function) has locals of that name, which the new tape
    would otherwise overwrite.  A global read of that name keeps its value (diffc_global)."""
    found = [n for n in gast.walk(info.node) if isinstance(n, gast.Name) and n.id == TAPE]
    if not found:
        return
    names = identifiers(info.node)
    new = next(f"{TAPE}_own{k or ''}" for k in range(len(names) + 1) if f"{TAPE}_own{k or ''}" not in names)
    if all(isinstance(n.ctx, gast.Load) for n in found):
        for n in found:
            n.diffc_global = info.resolve_static(n)
    A.rename(info.node, {TAPE: new})
    info.forget_local_names()


def _dump(stages, name, info, started):
    """Keep the tree after the front-end stage `name` (`--stage`), count its time
    (`--time-passes`); returns the clock for the next stage."""
    now = time.perf_counter()
    if PASS_TIMES is not None:
        PASS_TIMES[name] = PASS_TIMES.get(name, 0.0) + now - started
    if stages is not None:
        stages.append((name, A.deepcopy(info.node)))
    return time.perf_counter()


class Module:
    """Everything generated for one request (see module docstring); the transforms see it
    as a transform.context.CompilationContext."""

    def __init__(self, optimize=True, stages=None):
        self.optimize = optimize
        self.stages = stages
        self.functions = []
        self.infos = {}
        self.split = {}
        self.seed_writers = {}           # adjoint function name -> whether it may write into its seed
        self.taped = {}                  # adjoint function name -> positions of parameters it keeps
        self.primals = {}
        self.function_names = Namer()
        self.tape_users = set()
        self.sources = {}
        # Code that diffc will differentiate again (higher order): user calls are joint
        # (no tape shared across functions), reads are copies, helpers pure (purify.py).
        self.differentiable = False
        # The function the user differentiates (set by the entry points, not for function
        # values differentiated at run time): its parameters' attributes may be written.
        self.entry = None

    # ------------------------------------------------------------ front end
    def info_for(self, target, kinds=None):
        """The front end's result for target.  kinds (name -> kind, or one per parameter),
        given where the entry function is first compiled, tells the classes of its object
        arguments."""
        key = id(target)
        if key not in self.infos:
            info = target if isinstance(target, FunctionInfo) else parse_function(target)
            entry = target is self.entry
            if kinds is not None and not isinstance(kinds, dict):
                kinds = dict(zip(info.params, kinds))
            classes = K.object_classes(kinds) if entry and kinds else {}
            lists = K.object_classes(kinds, list) if entry and kinds else {}
            self.infos[key] = (target, front_end(info, self.stages if not self.infos else None,
                                                 entry=entry, classes=classes, lists=lists))
        return self.infos[key][1]

    def returned_kind(self, target, arg_kinds):
        """Kind of what a user function returns for the given argument kinds."""
        key = (id(target), arg_kinds)
        cache = self.__dict__.setdefault("_returned_kinds", {})
        if key in cache:
            return cache[key]
        cache[key] = K.UNKNOWN            # recursion: unknown until known
        try:
            info = self.info_for(target)
        except DiffcError:
            return K.UNKNOWN
        if len(info.params) != len(arg_kinds):
            return K.UNKNOWN
        returned = info.node.body[-1].value
        if isinstance(returned, gast.Constant):
            result = K.kind_of_value(returned.value)
        elif isinstance(returned, gast.Name) and not hasattr(returned, "diffc_global"):
            kinds = K.infer(info, dict(zip(info.params, arg_kinds)), info.resolve_static,
                            lambda t, call, ks: self.returned_kind(
                                t, tuple(k or K.UNKNOWN for k in ks)) if not call.keywords
                            and len(call.args) == len(ks) and is_user_function(t) else K.UNKNOWN)
            result = kinds.get(returned.id) or K.UNKNOWN
        else:
            result = K.UNKNOWN
        cache[key] = result
        return result

    def returned_aliases(self, target):
        """Positions of the parameters whose objects `target`'s result may share (None: unknown)."""
        cache = self.__dict__.setdefault("_returned_aliases", {})
        key = id(target)
        if key in cache:
            return cache[key]
        cache[key] = None                 # recursion: unknown until known
        try:
            info = self.info_for(target)
        except DiffcError:
            return None
        cache[key] = returned_alias_positions(self, info)
        return cache[key]

    def checkpointed_loop(self, rf, stmt):
        """(forward, adjoint) statements when this loop of rf is to be checkpointed, else None.

        The reverse transform calls back here for every loop, so it never imports
        transform/checkpoint.py (which builds on it)."""
        return checkpoint.checkpointed_loop(rf, stmt)

    def uses_tape(self, rf):
        self.tape_users.add(id(rf))

    def unique_function_name(self, base):
        return self.function_names.unique(base)

    def add_function(self, fn, source, first=False):
        self.sources[id(fn)] = source
        if first:
            self.functions.insert(0, fn)
        else:
            self.functions.append(fn)

    def stage(self, name, fn):
        self._stage(name, fn)

    def generated_cache(self, table):
        return self.__dict__.setdefault("_generated_" + table, {})

    # -------------------------------------------------------------- callees
    def split_callee(self, target, mask, kinds, call, caller):
        key = (id(target), mask, kinds)
        if key in self.split:
            return self.split[key]
        info = self.info_for(target, kinds)
        base = info.name
        fwd_name = self.function_names.unique(f"_fwd_{base}")
        adj_name = self.function_names.unique(f"_adj_{base}")
        refs = (_generated(fwd_name), _generated(adj_name), sum(mask))
        self.split[key] = refs
        params = info.params
        active = [p for p, m in zip(params, mask) if m]
        param_kinds = {p: k for p, k in zip(params, kinds)}
        rf = ReverseFunction(self, info, active, param_kinds)
        rf.guard_zero = True             # a caller may pass the zero adjoint 0.0 as the seed
        result = rf.build()
        fwd, adj = self.assemble_split(rf, result, fwd_name, adj_name, active)
        self.seed_writers[adj_name] = may_write_seed(adj, adj.args.args[-1].id)
        self.sources[id(fwd)] = self.sources[id(adj)] = info.source
        self.functions += [fwd, adj]
        return refs

    def joint_callee(self, target, mask, kinds):
        """`_grad_g(params..., seed)` -> tuple of the adjoints of the active parameters.

        The differentiable form of a call: the callee recomputes its own forward
        sweep, so caller and callee share no tape (see `differentiable`)."""
        key = ("joint", id(target), mask, kinds)
        if key in self.split:
            return self.split[key]
        info = self.info_for(target)
        name = self.function_names.unique(f"_grad_{info.name}")
        self.split[key] = _generated(name)
        active = [p for p, m in zip(info.params, mask) if m]
        self.joint(target, active, dict(zip(info.params, kinds)), name, check_scalar=False,
                   callee=True)
        return self.split[key]

    def taped_arguments(self, adjoint_name):
        return self.taped.get(adjoint_name)

    def keeps_seed(self, adjoint_name):
        """Whether the generated adjoint named adjoint_name, already built, never writes into
        its seed (analysis/seed_writes.py); False while it is being built (recursion)."""
        return self.seed_writers.get(adjoint_name) is False

    def primal_ref(self, info):
        key = id(info)
        if key not in self.primals:
            front_end(info)
            name = self.function_names.unique(f"_primal_{info.name}")
            self.primals[key] = name
            node = A.deepcopy(info.node)
            node.name = name
            node.decorator_list = []
            _augmented_in_place(node)
            self.sources[id(node)] = info.source
            self.functions.append(node)
            self._route_factory_calls(node, info)
        return _generated(self.primals[key])

    def _route_factory_calls(self, node, info):
        """In a primal copy, a call of a user function defining local functions (a factory)
        calls its primal copy too: what it returns is then a closure diffc follows, not a
        Python closure over values that carry derivatives (which a Closure holding it would
        treat as a constant)."""
        import types
        from .transform.dynamic_calls import has_packed_parameters
        from .transform.lazy_iterators import defines_functions
        for call in [n for n in A.walk(node) if isinstance(n, gast.Call)
                     and isinstance(n.func, (gast.Name, gast.Attribute))]:
            if getattr(call.func, "diffc_generated", False):
                continue
            target = info.resolve_static(call.func)
            if isinstance(target, types.FunctionType) and is_user_function(target) and defines_functions(target) \
                    and not has_packed_parameters(target):   # (a library's function, quad: its rules)
                call.func = self.primal_ref(self.info_for(target))

    def mutated_params(self, target):
        """{parameter: how} for the parameters whose caller-side object the function may write
        into in place: "always" for a write into it or into an item or element of it read
        through a name (y[i] = v, y.append(v), ``p = ys[0]; p[:] = v``), "if mutable" for an
        augmented assignment to such a name (``y -= v``, ``for p in ys: p *= 0.5``), which
        writes into an array but rebinds a number.  Only writes that can happen before the
        name is first rebound at the top level of the body count (``m = m.copy()`` first
        makes later writes private)."""
        cache = self.__dict__.setdefault("_mutated_params", {})
        if id(target) in cache:
            return cache[id(target)]
        cache[id(target)] = {}              # recursion: what is known so far
        info = self.info_for(target)
        mutated = {}
        for p in info.params:
            holders = {p}
            for stmt in info.node.body:
                how = _writes_through(stmt, holders) or self._passed_to_a_writer(stmt, holders, info)
                if how is not None:
                    mutated[p] = how
                    break
                if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                        and stmt.targets[0].id == p:
                    break
        cache[id(target)] = mutated
        return mutated

    def _passed_to_a_writer(self, stmt, holders, info):
        """How a user function called in stmt writes into an argument named in holders
        (`v = inner(v)` with `v += ...` in inner writes into the caller's object too)."""
        for call in (n for n in A.walk(stmt) if isinstance(n, gast.Call)):
            key, _ = call_key(info, call)
            if not is_user_function(key):
                continue
            try:
                callee = self.info_for(key)
                mutated = self.mutated_params(key)
            except DiffcError:
                continue
            named = {k.arg: k.value for k in call.keywords if k.arg is not None}
            for k, param in enumerate(callee.params):
                atom = call.args[k] if k < len(call.args) else named.get(param)
                if param in mutated and isinstance(atom, gast.Name) and atom.id in holders:
                    return mutated[param]
        return None

    def returning_written(self, target, params):
        """The variant of user function target that also returns its parameters params
        (transform/callee_writes.py), made once per module."""
        cache = self.__dict__.setdefault("_returning_written", {})
        key = (id(target), tuple(params))
        if key not in cache:
            info = self.info_for(target)
            name = self.function_names.unique(f"{info.name}_and_written")
            cache[key] = callee_writes.returning_written(info, params, name)
        return cache[key]

    def check_argument_writes(self, target, call, caller, args, result_name, load_count, kind_of=None):
        """Refuse calls whose in-place writes into an argument the caller would see.  kind_of
        (atom -> kind): an argument that is certainly a number is not written by an
        augmented assignment (Python rebinds it)."""
        info = self.info_for(target)
        mutated = self.mutated_params(target)
        if not mutated:
            return
        taken_back = getattr(info, "returns_written", ())    # (transform/callee_writes.py)
        for p, atom in zip(info.params, args):
            if p not in mutated or p in taken_back or not isinstance(atom, gast.Name) \
                    or hasattr(atom, "diffc_global"):
                continue
            if mutated[p] == "if mutable":
                continue        # checked when it runs (transform/unknown_writes.py): a number is rebound
            if result_name is None or (atom.id != result_name and load_count.get(atom.id, 0) > 1):
                raise UnsupportedSyntax(
                    f"{info.name} modifies its argument {p!r} in place, and the caller uses "
                    f"{atom.id!r} afterwards (diffc copies arrays before writing into them)",
                    call, caller.source,
                    hint=f"return the modified value and assign it ({atom.id} = {info.name}(...)), "
                         f"or copy inside {info.name}: {p} = {p}.copy()")

    # ------------------------------------------------------------ assembly
    def resolve_markers(self, rf, result, joint=False):
        """Decide the tape variables and replace markers (transform/tape_markers.py)."""
        adjoint = result.adjoint
        if joint and self.optimize:
            result.forward, adjoint = drop_dead_restores(
                result.forward, adjoint, set(rf.info.local_names) - set(rf.params))
        resolved = resolve_tape_markers(result.forward, adjoint, set(rf.info.local_names) | set(rf.params),
                                        rf.view_bases(), rf.multiply_defined, rf.source)
        result.forward, result.adjoint = resolved.forward, resolved.adjoint
        result.tape_vars, result.read, result.kept = resolved.tape_vars, resolved.read, resolved.kept
        if resolved.uses_tape:
            self.tape_users.add(id(rf))
        inits = [A.assign(v, A.const(None)) for v in sorted(resolved.tape_vars) if v not in rf.params]
        result.forward = inits + result.forward
        return result

    def bar_inits(self, rf, adjoint, skip=()):
        """`b = 0.0` (or zeros) for the adjoints the sweep accumulates into, and for those
        it reads without any contribution (a value used only where its rule gives
        it no derivative, e.g. the shape argument of unbroadcast)."""
        dense = {rf.bars[n]: n for n in rf.dense}
        inits = []
        bar_names = set(rf.bars.values())
        stored, loaded = set(), set()
        for node in (n for st in adjoint for n in A.walk(st)):
            if isinstance(node, gast.Name) and node.id in bar_names:
                (stored if isinstance(node.ctx, gast.Store) else loaded).add(node.id)
        for b in sorted(rf.accumulated | (loaded - stored)):
            if b in skip:
                continue
            if b in dense:
                inits.append(A.assign(b, A.call(rt(runtime.zeros_like), [A.name(dense[b])])))
            else:
                inits.append(A.assign(b, A.const(0.0)))
        return inits

    def seed_name(self, rf):
        r = rf.returned
        if isinstance(r, gast.Name) and not hasattr(r, "diffc_global"):
            return rf.bar(r.id)
        return rf.namer.unique("result_bar")

    def param_grad(self, rf, p, finalize, given=None, nan_out=None):
        """The gradient for parameter p, shaped like the value passed (the name `given`
        holds it when the function rebinds p: given_parameters); nan_out: the function's
        value, in a function calling NaN-ignoring reductions (runtime.nan_input_bar)."""
        if p not in rf.bars:
            value = A.const(0.0)
        else:
            value = A.name(rf.bars[p])
        if finalize and rf.kinds.get(p) not in (K.SCALAR,):
            if nan_out is not None and p in rf.bars and K.is_array(rf.kinds.get(p)):
                value = A.call(rt(runtime.nan_input_bar), [value, A.name(given or p), A.deepcopy(nan_out)])
            return A.call(rt(runtime.finalize), [value, A.name(given or p)])
        return value

    @staticmethod
    def given_parameters(rf, wrt, body):
        """(statements keeping the values passed, {parameter: name}) for the wrt parameters
        that body rebinds (``for W in Ws: x = layer(W, x)``): the gradient is shaped like
        the value passed, and the sweeps need not restore p's first value for that."""
        stored = set()
        for stmt in body:
            stored |= A.names_stored(stmt)
        given = {p: rf.namer.unique(f"_{p}_given") for p in wrt if p in stored}
        return [A.assign(name, A.name(p)) for p, name in given.items()], given

    def joint(self, target, wrt, param_kinds, name, with_value=False, check_scalar=True, callee=False):
        """grad_f(params..., <out>_bar=1.0) -> gradient(s) for the wrt parameters.

        callee: a user function's joint adjoint called from generated code (see
        joint_callee): a tuple of raw adjoints, and the seed may be the zero 0.0."""
        info = self.info_for(target, param_kinds)
        rf = ReverseFunction(self, info, wrt, param_kinds)
        if callee:
            rf.guard_zero = True
        result = self.resolve_markers(rf, rf.build(), joint=True)
        seed = self.seed_name(rf)
        body = []
        if id(rf) in self.tape_users:
            body.append(A.assign(TAPE, gast.List(elts=[], ctx=gast.Load())))
        body += result.forward
        r = result.returned
        # An int kind is checked too: an int or bool result has no derivative (check_scalar).
        if check_scalar and rf.atom_kind(r) == K.INT:
            body.append(A.expr_stmt(A.call(rt(runtime.check_scalar), [A.deepcopy(r), A.const(True)])))
        elif check_scalar and rf.atom_kind(r) != K.SCALAR:
            body.append(A.expr_stmt(A.call(rt(runtime.check_scalar), [A.deepcopy(r)])))
        if with_value:
            value_name = rf.namer.unique("_value")
            body.append(A.assign(value_name, A.deepcopy(r)))
        body += self.bar_inits(rf, result.adjoint, skip={seed})
        body += private_seed(rf, seed, result.adjoint)
        body += result.adjoint
        keep, given = self.given_parameters(rf, wrt, body) if not callee else ([], {})
        body = keep + body
        nan_out = r if not callee and calls_nan_reductions(info) else None
        grads = [self.param_grad(rf, p, not callee, given.get(p), nan_out) for p in wrt]
        out = grads[0] if len(grads) == 1 and not callee else gast.Tuple(elts=grads, ctx=gast.Load())
        if with_value:
            out = gast.Tuple(elts=[A.name(value_name), out], ctx=gast.Load())
        body.append(gast.Return(value=out))
        args = [gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None) for p in info.params]
        args.append(gast.Name(id=seed, ctx=gast.Param(), annotation=None, type_comment=None))
        fn = _function(name, args, [A.const(1.0)], body, info.node)
        self._stage("reverse", fn)
        fn = self.finish(fn, entry_kinds=None if callee else rf.kinds)
        self.sources[id(fn)] = info.source
        if callee:
            self.seed_writers[name] = may_write_seed(fn, fn.args.args[-1].id)
            self.functions.append(fn)
        else:
            self.functions.insert(0, fn)
        return fn

    def assemble_split(self, rf, result, fwd_name, adj_name, active, finalize=False):
        info = rf.info
        result = self.resolve_markers(rf, result)
        seed = self.seed_name(rf)
        state = sorted(result.read | set(rf.dense)
                       | _loaded_primals(result.adjoint, set(info.local_names) | set(rf.params)))
        self.taped[adj_name] = _kept_parameters(set(state) | result.kept, rf.aliases.related, info.params)
        fwd_body = []
        fwd_body += [A.assign(v, A.const(None)) for v in state
                     if v not in rf.params and v not in result.tape_vars]
        fwd_body += result.forward
        if state:
            pushed = A.name(state[0]) if len(state) == 1 else \
                gast.Tuple(elts=[A.name(v) for v in state], ctx=gast.Load())
            fwd_body.append(A.expr_stmt(A.method_call(A.name(TAPE), "append", [pushed])))
        fwd_body.append(gast.Return(value=A.deepcopy(result.returned)))
        fwd_args = [gast.Name(id=p, ctx=gast.Param(), annotation=None, type_comment=None) for p in info.params]
        fwd_args.append(gast.Name(id=TAPE, ctx=gast.Param(), annotation=None, type_comment=None))
        fwd = _function(fwd_name, fwd_args, [], fwd_body, info.node)

        adj_body = []
        if len(state) == 1:
            adj_body.append(A.assign(state[0], A.method_call(A.name(TAPE), "pop")))
        elif state:
            adj_body.append(gast.Assign(targets=[gast.Tuple(elts=[A.store(v) for v in state], ctx=gast.Store())],
                                        value=A.method_call(A.name(TAPE), "pop"), type_comment=None))
        adj_body += self.bar_inits(rf, result.adjoint, skip={seed})
        adj_body += private_seed(rf, seed, result.adjoint)
        adj_body += result.adjoint
        grads = [self.param_grad(rf, p, finalize) for p in active]
        adj_body.append(gast.Return(value=gast.Tuple(elts=grads, ctx=gast.Load())))
        adj_args = [gast.Name(id=TAPE, ctx=gast.Param(), annotation=None, type_comment=None),
                    gast.Name(id=seed, ctx=gast.Param(), annotation=None, type_comment=None)]
        adj = _function(adj_name, adj_args, [], adj_body, info.node)
        self._stage("reverse", fwd)
        self._stage("reverse", adj)
        fwd, adj = self.finish(fwd), self.finish(adj)
        if self.optimize and not self.differentiable:
            fwd, adj = recompute_cheap_entries(fwd, adj)
            fwd = keep_split_tape_shapes(fwd, adj)
        return fwd, adj

    def finish(self, fn, entry_kinds=None):
        """Run the optimizer passes (OPTIMIZER_PASSES) on a generated function.

        entry_kinds: the user function's kinds when fn is the gradient the user
        calls (its return values reach only the user), else None."""
        if self.optimize:
            for step in OPTIMIZER_PASSES:
                if step.applies(self, entry_kinds):
                    fn = self._run_pass(step.name, step.run, fn, entry_kinds)
        fn = self._run_pass("keep_real_adjoints_real", lambda f, _: keep_real_adjoints_real(f), fn, entry_kinds)
        if self.differentiable:
            fn = self._run_pass("purify", lambda f, _: purify(f), fn, entry_kinds)
        _fill_empty(fn)
        self._stage("optimize", fn)
        return fn

    def _run_pass(self, name, run, fn, entry_kinds):
        start = time.perf_counter() if PASS_TIMES is not None else 0.0
        fn = run(fn, entry_kinds)
        if PASS_TIMES is not None:
            PASS_TIMES[name] = PASS_TIMES.get(name, 0.0) + time.perf_counter() - start
        self._stage(name, fn)
        return fn

    def _stage(self, name, fn):
        if self.stages is not None:
            self.stages.append((name, A.deepcopy(fn)))


# ------------------------------------------------------------------ the passes

class Pass:
    """One optimizer pass: `function` (fn -> fn, or (fn, entry_kinds) -> fn when
    `with_kinds`), defined in diffc/optimize/<name>.py, run when `when` allows."""

    def __init__(self, name, function, when="always", with_kinds=False):
        self.name = name
        self.function = function
        self.when = when
        self.with_kinds = with_kinds

    def run(self, fn, entry_kinds):
        return self.function(fn, entry_kinds) if self.with_kinds else self.function(fn)

    def applies(self, module, entry_kinds):
        if self.when == "first_order":
            return not module.differentiable
        if self.when == "user_entry":
            return not module.differentiable and entry_kinds is not None
        return True


# The optimizer, in order: each pass is the function of its name's file under
# optimize/ (optimize/<name>.py), whose docstring states its input and output
# invariants (tests/test_layers.py checks both).  "first_order": only for code that
# will not be differentiated again (pipeline Module.differentiable); "user_entry":
# only for the gradient the user calls.
OPTIMIZER_PASSES = [
    Pass("dce", eliminate_dead_code),
    Pass("algebra", algebra),
    Pass("forward_substitute", forward_substitute),
    Pass("fuse_reset_and_accumulate", fuse_reset_and_accumulate),
    Pass("fuse_loop_reset", fuse_loop_reset),
    Pass("dce", eliminate_dead_code),
    Pass("forward_substitute", forward_substitute),
    Pass("keep_taken_item", keep_taken_item),
    Pass("algebra", algebra),
    Pass("dce", eliminate_dead_code),
    Pass("inline_while_tests", inline_while_tests),
    Pass("fuse_sum_spreads", fuse_sum_spreads, "first_order"),
    Pass("absorb_scales", absorb_scales, "first_order"),
    Pass("fuse_sum_products", fuse_sum_products, "first_order"),
    Pass("hoist_test_invariants", hoist_test_invariants, "first_order"),
    Pass("assign_written_once", assign_written_once, "first_order"),
    Pass("use_loop_tapes", use_loop_tapes, "first_order"),
    Pass("forward_substitute", forward_substitute, "first_order"),
    Pass("share_test_values", share_test_values, "first_order"),   # untaped temporaries fold back
    Pass("propagate_copies", propagate_copies, "first_order"),
    Pass("dce", eliminate_dead_code, "first_order"),
    Pass("propagate_negations", propagate_negations, "first_order"),
    Pass("merge_accumulations", merge_accumulations, "first_order"),
    Pass("dce", eliminate_dead_code, "first_order"),
    Pass("keep_tape_shapes", keep_tape_shapes, "first_order"),
    Pass("stack_products", stack_products, "first_order"),
    Pass("skip_dead_last_step", skip_dead_last_step, "first_order"),
    Pass("hand_over", hand_over, "first_order"),
    Pass("fuse_scatter_writes", fuse_scatter_writes, "first_order"),
    Pass("read_float_items", read_float_items, "user_entry", with_kinds=True),
    # last: the passes before it may move a read of a name later, which is exact
    # for a copy and not for a view
    Pass("view_unwritten_copies", view_unwritten_copies, "first_order"),
]

FRONT_END_PASSES = ("fence", "desugar", "anf", "hoist_invariants")
STAGES = FRONT_END_PASSES + ("reverse",) + tuple(dict.fromkeys(p.name for p in OPTIMIZER_PASSES)) \
    + ("keep_real_adjoints_real", "purify", "optimize")

# name -> seconds spent, summed over compilations, when DIFFC_TIME_PASSES is set
# (or a caller sets a dict here); None: not timed.
PASS_TIMES = {} if os.environ.get("DIFFC_TIME_PASSES") else None


def time_passes():
    """Start timing every pass from now on; returns the dict name -> seconds it fills."""
    global PASS_TIMES
    PASS_TIMES = {}
    return PASS_TIMES


def _augmented_in_place(node):
    """The ANF's ``x = x op v`` from ``x op= v`` back to ``x op= v`` in a plain copy of a
    user function: Python updates an array or a list in place there, which a caller's
    object, or the container the item came from (``for row in M: row *= c``), shows.  The
    front end's refusals of helpers writing into their arguments go: the copy runs them as
    Python does (transform/unknown_writes.py guards differentiated code)."""
    for s in A.walk(node):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(s, field, None)
            if not (isinstance(block, list) and block and isinstance(block[0], gast.stmt)):
                continue
            block[:] = [b for b in block if not _unchanged_arguments_guard(b)] or [gast.Pass()]
            for k, stmt in enumerate(block):
                value = getattr(stmt, "value", None)
                if getattr(stmt, "diffc_augmented", False) and isinstance(stmt, gast.Assign) \
                        and isinstance(stmt.targets[0], gast.Name) and isinstance(value, gast.BinOp) \
                        and isinstance(value.left, gast.Name) and value.left.id == stmt.targets[0].id:
                    target = gast.Name(id=value.left.id, ctx=gast.Store(), annotation=None, type_comment=None)
                    block[k] = gast.copy_location(gast.AugAssign(target=target, op=value.op, value=value.right),
                                                  stmt)


def _unchanged_arguments_guard(stmt):
    return isinstance(stmt, gast.Expr) and isinstance(stmt.value, gast.Call) \
        and getattr(stmt.value.func, "diffc_global", None) is runtime_calls.check_unchanged_arguments


def _writes_through(stmt, holders):
    """"always" / "if mutable" (Module.mutated_params) when stmt may write into the object
    of a name in holders, which it grows with the names bound to it, its items or its
    elements (``p = ys[0]``, ``_seq = as_sequence(ys)``, ``p = _seq[k]``); else None."""
    how = None
    for s in A.walk_statements([stmt]):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name):
            value = s.value
            if isinstance(value, gast.Subscript):
                value = value.value
            elif isinstance(value, gast.Call) and getattr(value.func, "diffc_global", None) is runtime.as_sequence:
                value = value.args[0]
            if getattr(s, "diffc_augmented", False) and s.targets[0].id in holders:
                how = how or "if mutable"
            elif isinstance(value, gast.Name) and value.id in holders:
                holders.add(s.targets[0].id)
        if any(_writes_into(s, h) for h in holders):
            return "always"
    return how


def _writes_into(stmt, name):
    for s in A.walk_statements([stmt]):
        if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Subscript) \
                and isinstance(s.targets[0].value, gast.Name) and s.targets[0].value.id == name:
            return True
        if isinstance(s, gast.Expr) and isinstance(s.value, gast.Call) \
                and isinstance(s.value.func, gast.Attribute) and isinstance(s.value.func.value, gast.Name) \
                and s.value.func.value.id == name and s.value.func.attr in MUTATING_METHODS:
            return True
    return False


def _may_write_into(stmts, name):
    """Whether stmts may write into the object `name` holds on entry: through name, or a
    name bound to a value that may be it or a view of it (anything but arithmetic), by
    a subscript store, an augmented assignment, or a helper writing into its first
    argument (take_item, acc_item, zero_item...)."""
    holders = {name}
    changed = True
    while changed:
        changed = False
        for s in A.walk_statements(stmts):
            if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name) \
                    and s.targets[0].id not in holders \
                    and not isinstance(s.value, (gast.BinOp, gast.UnaryOp, gast.Constant)) \
                    and A.names_loaded(s.value) & holders:
                holders.add(s.targets[0].id)
                changed = True
    for s in A.walk_statements(stmts):
        if isinstance(s, gast.AugAssign) and A.names_loaded(s.target) & holders:
            return True
        for node in A.walk(s):
            if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store) \
                    and A.names_loaded(node.value) & holders:
                return True
            if isinstance(node, gast.Call) and node.args and isinstance(node.args[0], gast.Name) \
                    and node.args[0].id in holders \
                    and effects.has(getattr(node.func, "diffc_global", None), effects.MUTATES_FIRST):
                return True
    return False


def _generated(name):
    node = A.name(name)
    node.diffc_generated = True
    return node


_NAN_REDUCTIONS = re.compile(r"\bnan(sum|mean|max|min|std|var|prod|median|percentile|quantile|cumsum|cumprod)\b")


def calls_nan_reductions(info):
    """Whether f's source, or that of a user function it calls by name, names a NaN-ignoring
    reduction (np.nansum, ...): its gradient then has 0 at NaN entries of its arguments
    (runtime.nan_input_bar).  A textual test: a false positive costs a check, a miss keeps
    NumPy's propagation of NaN."""
    if _NAN_REDUCTIONS.search("\n".join(info.source.lines)):
        return True
    for call in (n for n in A.walk(info.node) if isinstance(n, gast.Call)):
        target = info.resolve_static(call.func)
        if callable(target) and is_user_function(target):
            try:
                if _NAN_REDUCTIONS.search(inspect.getsource(target)):
                    return True
            except (OSError, TypeError):
                continue
    return False


def _function(name, args, defaults, body, origin):
    fn = gast.FunctionDef(name=name, args=gast.arguments(args=args, posonlyargs=[], vararg=None, kwonlyargs=[],
                                                          kw_defaults=[], kwarg=None, defaults=defaults),
                          body=body, decorator_list=[], returns=None, type_comment=None, type_params=[])
    return A.located(fn, origin)


def _fill_empty(node):
    for n in A.walk(node):
        for field in ("body", "orelse"):
            block = getattr(n, field, None)
            if field == "body" and isinstance(block, list) and not block and isinstance(
                    n, (gast.FunctionDef, gast.If, gast.For, gast.While)):
                n.body = [gast.Pass()]


def private_seed(rf, seed, adjoint):
    """`seed = copy_value(seed)` when the adjoint sweep writes into its seed in place.

    The seed (the adjoint of the returned value) belongs to the caller: a helper's
    adjoint is handed the caller's buffer, which may be the very object another
    adjoint of the caller holds (`v = v * c + mk(v[i])`: unbroadcast hands the same
    v_bar to both terms).  A sweep that zeroes an entry of it (the adjoint of
    `w[i] = ...` in the helper), adds into it or accumulates an item would change the
    caller's other adjoint behind its back; it works on a private copy instead."""
    if rf.kinds.get(rf.returned.id if isinstance(rf.returned, gast.Name) else None) in (K.SCALAR, K.INT):
        return []
    if _may_write_into(adjoint, seed):
        return [A.assign(seed, A.call(rt(runtime.copy_value), [A.name(seed)]))]
    return []


def _kept_parameters(state, related, params):
    """Positions of the params whose objects the names in state may share or hold."""
    reached = set(state)
    for name in state:
        reached |= related.get(name, set())
    return {k for k, p in enumerate(params) if p in reached}


def _loaded_primals(stmts, primal_names):
    names = set()
    for s in stmts:
        names |= A.names_loaded(s)
    return names & primal_names
