"""method_values: methods of followed objects taken as values (for transform/attribute_writes.py).

``f = s.step`` (not a call) on an object attribute_writes follows makes a bound method,
which holds the object.  Python's ``f(...)`` then runs on that object, whichever writes
follow:

* a method that writes its object's attributes (``def step(self): self.pos += ...``)
  called through the value would change the object out of diffc's sight (the call of a
  value is not rebound like ``s.step()``): refused at the line taking the method;
* any other method (``f = s.force``) holds the object like a container would: a write to
  the object after it (``s.k = v`` makes a new object) would not reach ``f``, so
  attribute_writes' alias check counts such a read as keeping the object.

``obj.a += v`` updates obj.a in place when it holds an array: ``sibling_check`` refuses it
when it runs if another attribute of obj holds (or views) the same array (``self.a = v;
self.b = v`` in the constructor): Python changes both, diffc's new object only ``a``.

Also here: writes of attributes of an object whose class has a ``functools.cached_property``
(Python keeps returning the first value computed, diffc computes it again).
"""

import functools
import inspect
import types

import gast

from .. import ast_util as A
from .. import runtime_checks
from . import constructors


def bound_methods_taken(rewriter, stmt, nodes):
    """ids of the ``obj.method`` reads in nodes (stmt's own nodes) that are not calls, obj a
    name whose class the rewriter follows at stmt; refuses a method writing its object."""
    nodes = list(nodes)
    called = {id(n.func) for n in nodes if isinstance(n, gast.Call)}
    found = set()
    for node in nodes:
        if not isinstance(node, gast.Attribute) or not isinstance(node.ctx, gast.Load) \
                or not isinstance(node.value, gast.Name) or id(node) in called:
            continue
        cls = rewriter.class_at(node.value.id)
        if cls in (None, constructors.UNKNOWN_CLASS):
            continue
        if not isinstance(inspect.getattr_static(cls, node.attr, None), types.FunctionType):
            continue
        if constructors.writes_attributes(cls, node.attr):
            rewriter.fail(f"this takes {node.value.id}.{node.attr} as a value; {cls.__name__}.{node.attr} "
                          f"changes attributes of its object, and a call of the value would change "
                          f"{node.value.id} out of diffc's sight", node,
                          hint=f"call it directly: {node.value.id}.{node.attr}(...)")
        found.add(id(node))
    return found


def caches_properties(cls):
    """The names of cls's functools.cached_property attributes (sorted)."""
    out = set()
    for klass in getattr(cls, "__mro__", ())[:-1]:
        out |= {k for k, v in vars(klass).items() if isinstance(v, functools.cached_property)}
    return sorted(out)


def sibling_check(rewriter, target):
    """``runtime_checks.check_attribute_unshared(obj, 'a', 'file:line')``, a statement to run
    before ``obj.a += v`` (target: the attribute obj.a, obj a path)."""
    filename, lineno, _, _ = rewriter.source.locate(target)
    obj = A.deepcopy(target.value)
    for node in gast.walk(obj):
        if hasattr(node, "ctx"):
            node.ctx = gast.Load()
    check = A.call(A.global_ref(runtime_checks.check_attribute_unshared, "check_attribute_unshared"),
                   [obj, A.const(target.attr), A.const(f"{filename}:{lineno}")])
    return A.located(A.expr_stmt(check), target)
