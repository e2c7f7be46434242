"""literal_attributes: getattr / setattr with a literal attribute name are attribute
reads and writes.

Input: a fenced `FunctionInfo`, before transform/object_lists.py and
transform/attribute_writes.py.
Output: the same function, equal under Python's semantics, where

* ``getattr(obj, 'name')`` (two arguments, a literal identifier) is ``obj.name``, and
  ``getattr(obj, name)`` with a computed name is ``runtime_calls.get_field(obj, name)``
  (the rules of a field read, with the name as a value);
* the statement ``setattr(obj, 'name', value)`` is ``obj.name = value``;

so that the read carries its derivative and the write is followed (or refused) like any
attribute write.  A ``setattr`` / ``delattr`` statement whose name is computed is refused
(`UnsupportedSyntax` at its line): diffc cannot tell which attribute it changes, and the
value written would lose its derivative.  Before, both ran as plain calls: `getattr(c,
'step')(x)` gave the gradient 0.0 and `setattr(c, 'h', w * x)` lost w's derivative.
"""

import builtins

import gast

from .. import ast_util as A
from .. import runtime_calls
from ..errors import UnsupportedSyntax


def literal_attributes(info):
    """See the module docstring; rewrites info.node in place and returns info."""
    for node in gast.walk(info.node):
        for field, value in gast.iter_fields(node):
            if isinstance(value, list):
                setattr(node, field, [_rewritten(info, v) for v in value])
            elif isinstance(value, gast.AST):
                setattr(node, field, _rewritten(info, value))
    return info


def _literal_name(node):
    return isinstance(node, gast.Constant) and isinstance(node.value, str) and node.value.isidentifier()


def _rewritten(info, node):
    if isinstance(node, gast.Call) and _is_builtin_call(info, node, "getattr", 2):
        if _literal_name(node.args[1]):
            return A.located(gast.Attribute(value=node.args[0], attr=node.args[1].value, ctx=gast.Load()), node)
        # a computed name: the read of an object's field, whose rules take the name as a value
        return A.located(A.call(A.global_ref(runtime_calls.get_field, "get_field"), node.args), node)
    if isinstance(node, gast.Expr) and isinstance(node.value, gast.Call):
        call = node.value
        if _is_builtin_call(info, call, "setattr", 3):
            if not _literal_name(call.args[1]):
                raise UnsupportedSyntax("setattr with an attribute name computed at run time is not followed in "
                                        "differentiated code: diffc cannot tell which attribute it changes",
                                        node, info.source, hint="write obj.name = value")
            target = gast.Attribute(value=call.args[0], attr=call.args[1].value, ctx=gast.Store())
            return A.located(A.assign(target, call.args[2]), node)
        if _is_builtin_call(info, call, "delattr", 2):
            raise UnsupportedSyntax("delattr is not supported in differentiated code", node, info.source)
    return node


def _is_builtin_call(info, call, name, n_args):
    return isinstance(call.func, gast.Name) and call.func.id == name and len(call.args) == n_args \
        and not call.keywords and info.resolve_static(call.func) is getattr(builtins, name)
