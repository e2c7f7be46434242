"""context: the interface the transforms call back into while they build code.

The reverse and forward transforms (transform/reverse.py, forward.py, sweep.py,
dynamic_calls.py) generate one function at a time, but a call of a user function
needs that callee's generated functions too, and some facts about it.  They ask
for those through this protocol, implemented by `pipeline.Module` (one per
compilation), and never import the pipeline (which builds on them).

Input: the transforms hold a `CompilationContext` as ``self.module``.
Output: nothing is generated here; this file only states what a context offers.
`tests/test_layers.py` checks that `pipeline.Module` implements every member.
"""

from typing import Protocol, runtime_checkable


@runtime_checkable
class CompilationContext(Protocol):
    """What a transform may ask of the compilation it is part of."""

    # True while generating code diffc will differentiate again (higher order):
    # calls are joint (no tape shared across functions), reads are copies.
    differentiable: bool

    def info_for(self, target, kinds=None):
        """The front-end FunctionInfo of a user function (parsed once per compilation);
        kinds (of its parameters) where the function the user differentiates is compiled."""

    def returned_kind(self, target, arg_kinds):
        """The kind (analysis/kinds.py) of what `target` returns for these argument kinds."""

    def returned_aliases(self, target):
        """Positions of the parameters whose objects target's result may share (None: unknown)."""

    def checkpointed_loop(self, rf, stmt):
        """(forward, adjoint) statements when this loop of rf is checkpointed, else None."""

    def uses_tape(self, rf):
        """Record that rf's generated code pushes or pops the tape."""

    def split_callee(self, target, mask, kinds, call, caller):
        """(forward ref, adjoint ref, number of active arguments) of a user callee, split in
        a forward function pushing onto the caller's tape and an adjoint popping it."""

    def joint_callee(self, target, mask, kinds):
        """A ref to `_grad_g(params..., seed)` -> the adjoints of the active parameters."""

    def taped_arguments(self, adjoint_name):
        """Positions of the parameters whose objects the split callee with this adjoint keeps
        on its tape (or views of them); None while unknown (recursion)."""

    def keeps_seed(self, adjoint_name):
        """Whether the generated adjoint named adjoint_name never writes into its seed."""

    def primal_ref(self, info):
        """A ref to a plain copy of the user function (called where no derivative is needed)."""

    def mutated_params(self, target):
        """Parameters whose caller-side object target writes into in place."""

    def check_argument_writes(self, target, call, caller, args, result_name, load_count, kind_of=None):
        """Refuse a call whose in-place writes into an argument the caller would see."""

    def returning_written(self, target, params):
        """The variant of target that also returns its parameters params (callee_writes.py)."""

    def unique_function_name(self, base):
        """A fresh name for a generated function."""

    def add_function(self, fn, source, first=False):
        """Add a finished generated function (first: the requested entry point)."""

    def stage(self, name, fn):
        """Offer fn to `diffc show --stage name` (no-op unless that stage is asked for)."""

    def finish(self, fn, entry_kinds=None):
        """Run the optimizer passes on a generated function; returns the function."""

    def generated_cache(self, table):
        """A dict the compilation keeps for one kind of generated callee (e.g. "jvps")."""
