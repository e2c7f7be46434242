"""attribute_writes: writes to attributes of objects the function builds become new objects.

Input: a fenced `FunctionInfo` (before desugar).
Output: the same function with no attribute store, where every object the
function builds and then changes is a value, rebound at each change:

* ``obj.a = v`` (also inside tuple targets and chained targets) is
  ``obj = runtime_calls.with_attributes(obj, {'a': v})``: a shallow copy of obj
  with the attribute set, whose rules (rules/dynamic_rules.py) hand the
  attribute's adjoint to v and the others' to the old object;
* ``obj.a += v`` is ``_t = obj.a; _t += v; obj = with_attributes(obj, {'a': _t})``
  (``_t += v`` is the usual in-place update of a local, with its alias checks);
* ``r = obj.step(x)`` where ``step`` writes attributes of its object (itself or
  through the methods it calls on it: constructors.writes_attributes) is
  ``_r = step_f(obj, x); obj = _r[1]; r = _r[0]``, with ``step_f`` =
  constructors.functional_method(cls, 'step'), a function diffc compiles from
  the method's source with this pass applied to ``self``, its returns handing
  back ``(value, self)``.  Such calls are taken out of their statement (in
  evaluation order) when nothing else in the statement reads the object.

* ``r = step(s, x)`` where the user function ``step`` writes attributes of its
  parameters (constructors.written_parameters) is ``_r = step_f(s, x); s = _r[1];
  r = _r[0]`` with ``step_f`` = constructors.functional_function(step), whose returns
  hand back ``(value, p1, p2...)``; a new object passed there (``step(State(W), x)``)
  is bound to a temporary first;
* ``a.b.c = v`` is ``a = with_attributes(a, {'b': with_attributes(a.b, {'c': v})})``,
  and ``a.hs.append(v)`` is ``a = with_attributes(a, {'hs': a.hs + [v]})``, when the
  methods of a's class always set ``b`` to a new object of one class (``hs`` to a new
  list): constructors.fresh_attribute / fresh_list_attribute.

"Objects the function follows": local names every binding of which is a call of one
user class (a plain class or a non-frozen dataclass) or of a user function (a helper;
its class from its returns, constructors.returned_class, and checked when it runs not
to be held by an argument, runtime_calls.check_not_held); the parameters handed back
by a function compiled through `functional_method` / `functional_function`; and, in
the function the user differentiates (``entry``), every parameter (the object passed
is left unchanged: each write makes a new object).  Python's semantics (one object
changed in place) and the rebinding agree because no other name, container, object
or closure holds such an object: a use of it other than reading or writing its
attributes, calling its methods, passing it to a call that does not keep it
(constructors.keeps_argument) or comparing it is refused while writes follow, and an
object stored in an attribute written through must be new.  Attribute writes on
anything else are refused with an `UnsupportedSyntax` naming the line.
"""

import inspect
import types

import gast

from .. import ast_util as A
from .. import runtime_calls
from ..errors import UnsupportedSyntax
from . import argument_effects, constructors, held_changes, method_values, object_lists, user_operators
from .sweep import index_value

_CONTAINER_METHODS = {"append", "extend", "insert", "add", "update", "setdefault", "appendleft",
                      "extendleft", "put", "push"}
_CONDITIONAL = (gast.IfExp, gast.BoolOp, gast.Lambda, gast.ListComp, gast.SetComp, gast.DictComp,
                gast.GeneratorExp, gast.Await, gast.Yield, gast.YieldFrom)


def functionalize_attribute_writes(info, namer, entry=False, classes=None):
    """See the module docstring; rewrites info.node.body in place.  entry: info is the
    function the user asked to differentiate (its parameters' attributes may be written);
    classes: {parameter: class} of the objects passed to it in this call (the compiled code
    is cached per class: compile_cache.kinds_of)."""
    if not _has_work(info.node):
        return info
    rewriter = _Rewriter(info, namer, entry, classes)
    info.node.body = rewriter.guard_helper_results(rewriter.block(info.node.body))
    rewriter.check_aliases()
    info.node.body = rewriter.parameter_guards() + info.node.body
    if rewriter.functional is not None:
        info.node.body = rewriter.hand_back(info.node.body)
    return info


def _has_work(node):
    functional = False
    for n in gast.walk(node):
        if isinstance(n, gast.Attribute) and isinstance(n.ctx, (gast.Store, gast.Del)):
            return True
        if isinstance(n, gast.Subscript) and isinstance(n.ctx, (gast.Store, gast.Del)) \
                and isinstance(n.value, gast.Attribute):
            return True                 # `self.buf[i] = v`: a change inside an attribute
        if isinstance(n, gast.Call):
            functional = True
    return functional


def _is_result_read(value):
    """`_changed[0]`: a statement that is only the hoisted call's result."""
    return isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) \
        and value.value.id.startswith("_changed") and isinstance(value.slice, gast.Constant)


def _root(path):
    while isinstance(path, gast.Attribute):
        path = path.value
    return path.id


def _is_path(node):
    """A name or a chain of attributes of a name (a.b.c)."""
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name)


def _loaded(path):
    """A copy of the Name / Attribute chain path, to be read."""
    if isinstance(path, gast.Name):
        return A.name(path.id)
    return gast.Attribute(value=_loaded(path.value), attr=path.attr, ctx=gast.Load())


class _Rewriter:
    def __init__(self, info, namer, entry=False, classes=None):
        self.info = info
        # The classes of the objects the parameters hold, known from the call: the argument
        # kinds of the entry function, or the classes a caller passes to a functional function.
        classes = dict(classes or {}, **getattr(info.fn, "diffc_param_classes", {}))
        self.param_classes = {p: c for p, c in classes.items() if constructors.followable_class(c)}
        self.namer = namer
        self.source = info.source
        self.functional = getattr(info.fn, "diffc_functional", None)
        args = info.node.args
        params = [a.id for a in args.args + args.kwonlyargs]
        # Parameters holding objects whose new versions are handed back (a method's self, a
        # function's written parameters) or, in the entry function, any parameter.
        self.handed = list(getattr(info.fn, "diffc_handed", params[:1])) if self.functional is not None else []
        self.owned_params = set(params) if entry else set(self.handed)
        self.candidates = {n.targets[0].id for n in gast.walk(info.node) if self._construction(
            n, getattr(n.targets[0], "id", None) if isinstance(n, gast.Assign) else None)}
        self.candidates |= self.owned_params
        self.stack = []                 # (statements before, the block, loop body?, names its header binds)
        self.written = set()            # owned names rebound by a write or a mutating call
        self.nested = set()             # attributes b written through (a.b.c = v)
        self.grown = set()              # list attributes appended to (a.hs.append(v))
        self.temporaries = set()        # names bound to new objects passed to a call writing them
        self.temporary_classes = {}     # such names bound to a receiver (Net(W).loss(x)) -> class
        self.pending = []               # statements binding them, before the statement
        self.method_values = set()      # id of `obj.method` read as a value (a bound method holds obj)

    def fail(self, msg, node, hint=None):
        raise UnsupportedSyntax(msg, node, self.source, hint=hint)

    # ------------------------------------------------------------ which objects
    def class_at(self, name):
        """The class of the object `name` holds at the statement being rewritten, when every
        definition of it reaching there is a call of that one user class (through writes
        already rewritten), or the first parameter of a functional method; else None.

        Within one statement's operator rewrite (``class_memo`` set), answers are kept: each
        question follows the bindings of the operands' names through the arithmetic that
        built them, and a chain of such bindings (an RK4 step on an object's fields) asked
        the same questions along every path (minutes).  The key holds the bindings being
        resolved, whose answers depend on it."""
        if name not in self.candidates:
            return None
        memo = self.__dict__.get("class_memo")
        if memo is None:
            return self._class_at(name)
        key = (name, frozenset(self.__dict__.get("resolving_results", ())))
        if key not in memo:
            memo[key] = self._class_at(name)
        return memo[key]

    def _class_at(self, name):
        found = set()
        for before, whole, is_loop, binds in reversed(self.stack):
            state = self._scan(reversed(before), name, found, stop=True)
            if state == "done":
                break
            if state == "bad" or (is_loop and self._scan(whole, name, found, stop=False) == "bad") \
                    or name in binds:
                return None
        else:
            if name not in self.owned_params:
                return None
            first = self.info.node.args.args[:1]
            if name in self.param_classes:
                found.add(self.param_classes[name])
            elif self.functional is not None and first and first[0].id == name and name in self.handed:
                found.add(self.functional)
            elif first and first[0].id == name \
                    and constructors.followable_class(constructors.method_class(self.info.fn)):
                found.add(constructors.method_class(self.info.fn))     # self of a method differentiated
            else:
                found.add(self._annotated_class(name) or constructors.UNKNOWN_CLASS)
        return found.pop() if len(found) == 1 else None

    def _annotated_class(self, name):
        """The user class a parameter is annotated with (``model: Model``), else None."""
        fn = getattr(self.info.fn, "__wrapped__", self.info.fn)
        cls = getattr(fn, "__annotations__", {}).get(name)
        if isinstance(cls, str):
            cls = getattr(fn, "__globals__", {}).get(cls)
        return constructors.followable_class(cls)

    def _scan(self, stmts, name, found, stop):
        """Classify the bindings of `name` in stmts (in the order given): constructions add
        their class to found ('done' at a top-level one when stop), rewritten writes are the
        same object, anything else is 'bad'."""
        for stmt in stmts:
            if getattr(stmt, "diffc_same_object", None) == name:
                continue
            cls = self._construction(stmt, name)
            if cls is user_operators.SAME:
                continue
            if cls is not None:
                found.add(cls)
                if stop:
                    return "done"
                continue
            for node in A.walk(stmt):
                if isinstance(node, gast.stmt) and node is not stmt:
                    if getattr(node, "diffc_same_object", None) == name:
                        continue
                    inner = self._construction(node, name)
                    if inner is user_operators.SAME:
                        continue
                    if inner is not None:
                        found.add(inner)
                        continue
                if isinstance(node, gast.Name) and node.id == name and isinstance(node.ctx, (gast.Store, gast.Del)) \
                        and not self._inside_marked(stmt, node, name):
                    return "bad"
        return None

    def _inside_marked(self, stmt, target, name):
        """Whether target is the target of a construction or rewritten write inside stmt."""
        for node in A.walk(stmt):
            if isinstance(node, gast.Assign) and node.targets[0] is target and (
                    getattr(node, "diffc_same_object", None) == name or self._construction(node, name)):
                return True
        return False

    def _construction(self, stmt, name):
        """The class a statement `name = Class(...)` builds; UNKNOWN_CLASS for `name =
        helper(...)`, a user function building the object (its result is held by no one else
        once rebound by a write: with_attributes copies it)."""
        marked = getattr(stmt, object_lists.ITEM_CLASS, None)
        if marked is not None and stmt.targets[0].id == name:
            return marked                   # v = L[k]: an item of a list of new objects
        built = user_operators.method_result_class(self, stmt, name)
        if built is not None:
            return built                    # u = v.__add__(w), every return of which builds a Vec
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
                and stmt.targets[0].id == name and isinstance(stmt.value, gast.Call):
            func = self.info.resolve_static(stmt.value.func)
            owner = getattr(func, "__self__", None)
            if inspect.ismethod(func) and inspect.isclass(owner) and argument_effects.is_user_code(func.__func__):
                first = next(iter(inspect.signature(func.__func__).parameters), None)   # Cell.zeros(W)
                built = constructors.returned_class(func.__func__, {first: owner})
                return constructors.followable_class(built) or constructors.UNKNOWN_CLASS
            if argument_effects.is_user_code(func) and not getattr(func, "diffc_functional", None):
                built = constructors.returned_class(func, self._classes_passed(func, stmt.value))
                return constructors.followable_class(built) or constructors.UNKNOWN_CLASS
            return constructors.followable_class(func)
        return None

    def _classes_passed(self, func, call):
        """{parameter: class} for the arguments of call that are user classes known here
        (``make(Cell, W)``)."""
        try:
            params = inspect.signature(func).parameters
        except (TypeError, ValueError):
            return {}
        names = list(params)
        passed = names[:len(call.args)] + [k.arg for k in call.keywords]
        out = {p: v.default for p, v in params.items() if p not in passed and inspect.isclass(v.default)
               and constructors.is_user_class(v.default)}            # build(W, cls=Net)
        for k, arg in enumerate(call.args):
            value = self.info.resolve_static(arg) if isinstance(arg, (gast.Name, gast.Attribute)) else None
            if k < len(names) and inspect.isclass(value) and constructors.is_user_class(value):
                out[names[k]] = value
        return out

    # ------------------------------------------------------------ statements
    def block(self, stmts, is_loop=False, binds=()):
        out = []
        for stmt in stmts:
            self.stack.append((out, stmts, is_loop, set(binds)))
            out.extend(self.statement(stmt))
            self.stack.pop()
        return out

    def statement(self, stmt):
        stmt = user_operators.user_operators(self, stmt)
        loop = isinstance(stmt, (gast.For, gast.While))
        binds = A.names_stored(stmt.target) if isinstance(stmt, gast.For) else set()
        for item in getattr(stmt, "items", None) or ():
            binds |= A.names_stored(item.optional_vars) if item.optional_vars is not None else set()
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                setattr(stmt, field, self.block(inner, loop and field == "body", binds if field == "body" else ()))
        for handler in getattr(stmt, "handlers", None) or ():
            handler.body = self.block(handler.body, binds={handler.name.id} if handler.name is not None else ())
        for case in getattr(stmt, "cases", None) or ():
            case.body = self.block(case.body, binds={n.id for n in gast.walk(case.pattern) if isinstance(n, gast.Name)})
        grown = self.grow_list_attribute(stmt)
        if grown is None:
            grown = self.change_item_of_attribute(stmt)
        if grown is not None:
            return [A.located(grown, stmt)]
        changed = held_changes.change_inside_attribute(self, stmt)      # self.vals.sort() in a method
        if changed is not None:
            return [A.located(s, stmt) for s in changed]
        self.refuse_changes_inside_attributes(stmt)
        self.method_values |= method_values.bound_methods_taken(self, stmt, _own_nodes(stmt))
        pre = self.hoist_calls(stmt)
        return [A.located(s, stmt) for s in pre + self.writes(stmt)]

    def grow_list_attribute(self, stmt):
        """``x.hs.append(v)`` / ``x.hs.extend(vs)`` as a statement, x a followed object (or a
        path a.b of one) whose class's methods always set hs to a new list
        (constructors.fresh_list_attribute): ``x = with_attributes(x, {'hs': x.hs + [v]})``;
        else None (and refuse_changes_inside_attributes decides)."""
        call = stmt.value if isinstance(stmt, gast.Expr) else None
        if not isinstance(call, gast.Call) or not isinstance(call.func, gast.Attribute) \
                or call.func.attr not in ("append", "extend") or len(call.args) != 1 or call.keywords \
                or isinstance(call.args[0], gast.Starred):
            return None
        held = call.func.value
        if not isinstance(held, gast.Attribute) or not _is_path(held.value):
            return None
        cls = self.path_class(held.value, strict=False)
        if cls in (None, constructors.UNKNOWN_CLASS) or not constructors.fresh_list_attribute(cls, held.attr):
            return None
        self.path_class(held.value)
        self.grown.add(held.attr)
        added = gast.List(elts=[call.args[0]], ctx=gast.Load()) if call.func.attr == "append" else \
            A.call(A.global_ref(list, "list"), [call.args[0]])
        return self.rebind(held.value, held.attr, gast.BinOp(left=_loaded(held), op=gast.Add(), right=added), call)

    def change_item_of_attribute(self, stmt):
        """``x.cache[k] = v`` / ``x.buf[i] += v`` as a statement, x a followed object (or a
        path a.b of one) whose class's methods always set the attribute to a new list, dict
        or array (constructors.fresh_container_attribute):
        ``x = with_attributes(x, {'cache': with_item(x.cache, k, v)})``; else None."""
        if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, gast.AugAssign):
            target, value = stmt.target, None
        else:
            return None
        if not isinstance(target, gast.Subscript) or not isinstance(target.value, gast.Attribute):
            return None
        held = target.value
        if not _is_path(held.value):
            return None
        cls = self.path_class(held.value, strict=False)
        if cls in (None, constructors.UNKNOWN_CLASS) or not constructors.fresh_container_attribute(cls, held.attr):
            return None
        self.path_class(held.value)
        self.grown.add(held.attr)
        index = index_value(target.slice)
        if value is None:
            old = gast.Subscript(value=_loaded(held), slice=A.deepcopy(target.slice), ctx=gast.Load())
            value = gast.BinOp(left=old, op=stmt.op, right=stmt.value)
        changed = A.call(A.global_ref(runtime_calls.with_item, "with_item"), [_loaded(held), index, value])
        return self.rebind(held.value, held.attr, changed, target)

    def refuse_changes_inside_attributes(self, stmt):
        """``x.items.append(v)``, ``x.buf[i] = v`` on an object built here (or self in a method
        compiled functionally): what the attribute holds would change in place, which neither
        the attribute reads nor the writes diffc follows would see (a silent zero); refused,
        naming the line.  Changes made only of constants (``k.hist.append(1)``) carry no
        derivative and stay as Python runs them."""
        for node in _own_nodes(stmt):
            if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute) \
                    and node.func.attr in constructors.MUTATORS:
                held, stored = node.func.value, node.args + [k.value for k in node.keywords]
            elif isinstance(node, gast.Subscript) and isinstance(node.ctx, (gast.Store, gast.Del)):
                held, stored = node.value, [getattr(stmt, "value", None) or A.name("unknown")]
            else:
                continue
            if not any(isinstance(n, gast.Name) for v in stored for n in gast.walk(v)):
                continue
            root, through = held, False
            while isinstance(root, (gast.Attribute, gast.Subscript)):
                # (an array's transpose `y.T[0] += v` is a view: transform/reshaped_views.py)
                through = through or isinstance(root, gast.Attribute) and root.attr not in ("T", "mT")
                root = root.value
            if through and isinstance(root, gast.Name) and self.class_at(root.id) is not None:
                self.fail(f"this changes in place a value held by an attribute of {self.namer.describe(root.id)}; "
                          "diffc follows "
                          "attributes given new values, not changes inside what an attribute holds", node,
                          hint="assign the attribute a new value instead (x.items = x.items + [v])")

    def hoist_calls(self, stmt):
        """Statements running the attribute-writing method calls of stmt, which is left
        reading their results (module docstring)."""
        if isinstance(stmt, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.Expr, gast.Return)):
            parts = [(stmt, "value")] if stmt.value is not None else []
        elif isinstance(stmt, gast.If):
            parts = [(stmt, "test")]
        elif isinstance(stmt, (gast.FunctionDef, gast.ClassDef)):
            return []
        else:
            parts = [getattr(stmt, f) for f in ("test", "iter", "subject") if getattr(stmt, f, None) is not None]
            parts += [item.context_expr for item in getattr(stmt, "items", None) or ()]
            for part in parts:
                if self._calls(part, None):
                    self.fail("this calls a method that changes an attribute of its object here; diffc "
                              "follows such calls only as statements, or on the right of an assignment",
                              part, hint="call it on a line of its own before this one")
            return []
        pre = []
        self.pending = []
        for owner, field in parts:
            read = [getattr(owner, field)] + ([stmt.target] if isinstance(stmt, gast.AugAssign) else [])
            found = self._calls(getattr(owner, field), owner, field)
            for call, parent, where, index in found:
                objs, fn = self._handed_back(call)
                roots = [_root(o) for o in objs]
                for obj in roots:
                    mentions = sum(isinstance(n, gast.Name) and n.id == obj for r in read for n in gast.walk(r))
                    in_args = sum(isinstance(n, gast.Name) and n.id == obj for a in call.args + call.keywords
                                  for n in gast.walk(a))
                    extra = 1 if isinstance(call.func, gast.Attribute) else 0
                    if len(found) > 1 or len(roots) != len(set(roots)) or (
                            mentions > extra + in_args and not _only_read_after(read, obj, call)):
                        self.fail(f"this line calls {gast.unparse(call.func)}(...), which changes {obj}'s "
                                  f"attributes, and also uses {obj} otherwise; diffc needs the order spelled out",
                                  call, hint=f"call {gast.unparse(call.func)}(...) on a line of its own")
                result = self.namer.fresh("_changed")
                args = [_loaded(objs[0])] + list(call.args) if isinstance(call.func, gast.Attribute) else call.args
                changed = A.call(A.global_ref(fn, f"{fn.__name__}_and_object"), list(args), call.keywords)
                changed.diffc_writes_held = held_changes.updating_held_values(fn, objs)
                pre.append(A.assign(result, changed))
                for k, obj in enumerate(objs):
                    new = A.subscript(A.name(result), A.const(k + 1))
                    if isinstance(obj, gast.Name):
                        pre.append(A.assign(obj.id, new))
                        pre[-1].diffc_same_object = obj.id
                        self.written.add(obj.id)
                    else:
                        pre.append(self.rebind(obj.value, obj.attr, new, call))
                taken = A.subscript(A.name(result), A.const(0))
                if index is None:
                    setattr(parent, where, taken)
                else:
                    getattr(parent, where)[index] = taken
        if pre and isinstance(stmt, gast.Expr) and _is_result_read(stmt.value):
            stmt.value = A.const(None)          # the call's result, unused (but not in
            # `traj.append(it.step(f))`: there the statement reads it)
        return self.pending + pre

    def _calls(self, node, parent, field=None, index=None, conditional=False):
        """(call, parent, field, index) of the attribute-writing method calls in node,
        innermost and leftmost first; refuses those evaluated only on some paths."""
        found = []
        for f, value in gast.iter_fields(node):
            items = value if isinstance(value, list) else [value]
            for k, child in enumerate(items):
                if isinstance(child, gast.expr) or isinstance(child, gast.keyword):
                    found += self._calls(child, node, f, k if isinstance(value, list) else None,
                                         conditional or isinstance(node, _CONDITIONAL))
        if isinstance(node, gast.Call) and self._handed_back(node)[1] is not None:
            if conditional or any(isinstance(a, gast.Starred) for a in node.args) \
                    or any(k.arg is None for k in node.keywords):
                self.fail(f"{gast.unparse(node.func)}(...) changes attributes of an object passed to it; "
                          "diffc follows it only where it always runs, with plain arguments",
                          node, hint="call it in an if statement, on a line of its own")
            found.append((node, parent, field, index))
        return found

    def _temporary(self, call, arg):
        """Bind the argument expression arg of call to a fresh name (a statement run before the
        call's statement, self.pending) and pass that name instead."""
        name = self.namer.fresh("_object")
        self.temporaries.add(name)
        # its class, for when the call is looked at again (hoist_calls after _calls)
        self.temporary_classes[name] = constructors.followable_class(self.info.resolve_static(arg.func))
        self.pending.append(A.located(A.assign(name, arg), arg))
        call.args = [A.name(name) if a is arg else a for a in call.args]
        for k in call.keywords:
            if k.value is arg:
                k.value = A.name(name)
        return A.name(name)

    def _handed_back(self, call):
        """(names of the objects the call changes, the function to call instead handing them
        back) for a method call changing its object or a call of a user function changing
        attributes of its arguments; ((), None) for other calls."""
        func = call.func
        if isinstance(func, gast.Name) and self.class_at(func.id) not in (None, constructors.UNKNOWN_CLASS) \
                and constructors.writes_attributes(self.class_at(func.id), "__call__"):
            # model(x) on an object whose __call__ writes its attributes: model.__call__(x)
            call.func = func = A.located(gast.Attribute(value=func, attr="__call__", ctx=gast.Load()), func)
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name) \
                and func.value.id in self.temporary_classes:
            cls = self.temporary_classes[func.value.id]
            return [func.value], constructors.functional_method(cls, func.attr)
        if isinstance(func, gast.Attribute) and _is_path(func.value):
            cls = self.path_class(func.value, strict=False)
            if cls is not None and constructors.writes_attributes(cls, func.attr):
                self.path_class(func.value)
                return [func.value], constructors.functional_method(cls, func.attr)
            return [], None
        if isinstance(func, gast.Attribute) and isinstance(func.value, gast.Call):
            # Net(W).loss(x): a new object no one else holds, bound to a temporary first
            cls = constructors.followable_class(self.info.resolve_static(func.value.func))
            if cls is not None and constructors.writes_attributes(cls, func.attr):
                name = self.namer.fresh("_object")
                self.temporaries.add(name)
                self.temporary_classes[name] = cls
                self.pending.append(A.located(A.assign(name, func.value), func.value))
                func.value = A.name(name)
                return [func.value], constructors.functional_method(cls, func.attr)
        fn = self.info.resolve_static(func)
        if not argument_effects.is_user_code(fn) or getattr(fn, "diffc_functional", None) is not None:
            return [], None
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            return [], None
        given = self._given(params, call)
        classes = {name: cls for name, cls in ((name, self._class_of_argument(arg)) for name, arg in given.items())
                   if cls is not None}
        written = constructors.written_parameters(fn, classes)
        if not written:
            return [], None
        if any(isinstance(a, gast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            self.fail(f"{gast.unparse(func)}(...) changes attributes of an object passed to it; diffc follows "
                      "such calls with plain arguments only (no *args or **kwargs)", call)
        objs = []
        for name in written:
            arg = given.get(name)
            if isinstance(arg, gast.Call) \
                    and constructors.followable_class(self.info.resolve_static(arg.func)) is not None:
                # step(State(W0), x): a new object no one else holds, bound to a temporary first
                arg = self._temporary(call, arg)
            if isinstance(arg, gast.Name) and arg.id in self.temporaries:
                objs.append(arg)
                continue
            if arg is None:
                self.fail(f"{gast.unparse(func)}(...) changes attributes of its parameter {name}, which this "
                          "call leaves to a default or passes in *args; diffc cannot hand the change back",
                          call, hint=f"pass {name} by name")
            if not _is_path(arg) or self.path_class(arg, strict=False) is None:
                self.fail(f"{gast.unparse(func)}(...) changes attributes of its parameter {name}, and this call "
                          f"passes {gast.unparse(arg)}, which is not a local name of an object diffc follows here "
                          "(an object built in this function, by a class or a helper, or a parameter of the "
                          "differentiated function)", call,
                          hint=f"bind it to a local name first ({name} = ...) and pass that name")
            self.path_class(arg)
            objs.append(arg)
        return objs, constructors.functional_function(fn, classes)

    @staticmethod
    def _given(params, call):
        """{parameter name: argument node} of a call with plain arguments."""
        given = {}
        for p, a in zip(params, call.args):
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or isinstance(a, gast.Starred):
                break
            given[p.name] = a
        given.update({k.arg: k.value for k in call.keywords if k.arg is not None})
        return given

    def _class_of_argument(self, arg):
        """The user class of the object an argument passes, when this function follows it
        (a local name or path) or builds it there (``State(W)``); else None."""
        if isinstance(arg, gast.Call):
            return constructors.followable_class(self.info.resolve_static(arg.func))
        if isinstance(arg, gast.Name) and arg.id in self.temporary_classes:
            return self.temporary_classes[arg.id]
        if _is_path(arg):
            cls = self.path_class(arg, strict=False)
            return cls if cls is not constructors.UNKNOWN_CLASS else None
        return None

    def writes(self, stmt):
        """stmt with its attribute stores rewritten (module docstring)."""
        if isinstance(stmt, gast.Assign) and any(self._has_attribute_store(t) for t in stmt.targets):
            if len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Attribute):
                return [self.set_attribute(stmt.targets[0], stmt.value)]
            value = self.namer.fresh("_assigned")
            out = [A.assign(value, stmt.value)]
            for target in stmt.targets:
                out.extend(self.bind(target, A.name(value)))
            return out
        if isinstance(stmt, (gast.AugAssign, gast.AnnAssign)) and isinstance(stmt.target, gast.Attribute):
            if isinstance(stmt, gast.AnnAssign):
                return [self.set_attribute(stmt.target, stmt.value)] if stmt.value is not None else []
            self.owner(stmt.target)
            old = self.namer.fresh("_attribute")
            read = _loaded(stmt.target)
            update = gast.AugAssign(target=A.store(old), op=stmt.op, value=stmt.value)
            update.diffc_synced = {(_root(stmt.target), old)}     # the object takes it back next
            return [A.assign(old, read), method_values.sibling_check(self, stmt.target), update,
                    self.set_attribute(stmt.target, A.name(old))]
        if isinstance(stmt, gast.Delete) and any(isinstance(t, gast.Attribute) for t in stmt.targets):
            self.fail("deleting an attribute is not supported in differentiated code", stmt)
        if isinstance(stmt, (gast.For, gast.With)) and any(
                self._has_attribute_store(t) for t in [getattr(stmt, "target", None)]
                + [i.optional_vars for i in getattr(stmt, "items", None) or ()] if t is not None):
            self.fail("a loop or with target that is an attribute is not supported", stmt,
                      hint="bind a local name, then assign the attribute from it")
        return [stmt]

    @staticmethod
    def _has_attribute_store(target):
        return any(isinstance(n, gast.Attribute) and isinstance(n.ctx, gast.Store) for n in gast.walk(target))

    def bind(self, target, value):
        """target = value, for a target that may hold attributes (in tuples)."""
        if isinstance(target, gast.Attribute):
            return [self.set_attribute(target, value)]
        if isinstance(target, (gast.Tuple, gast.List)) and self._has_attribute_store(target):
            parts = []
            elts = []
            for elt in target.elts:
                if self._has_attribute_store(elt):
                    if isinstance(elt, gast.Starred):
                        self.fail("a starred attribute target is not supported", elt)
                    fresh = self.namer.fresh("_assigned")
                    elts.append(A.store(fresh))
                    parts.append((elt, fresh))
                else:
                    elts.append(elt)
            out = [gast.Assign(targets=[type(target)(elts=elts, ctx=gast.Store())], value=value,
                               type_comment=None)]
            for elt, fresh in parts:
                out.extend(self.bind(elt, A.name(fresh)))
            return out
        return [gast.Assign(targets=[target], value=value, type_comment=None)]

    def owner(self, target):
        """The owned object whose attribute (or attribute's attribute...) target is; refuses any
        other attribute target."""
        base = target.value
        if isinstance(base, gast.Attribute):
            self.path_class(base)
            root = base
            while isinstance(root, gast.Attribute):
                root = root.value
            return root.id
        cls = self.class_at(base.id) if isinstance(base, gast.Name) else None
        if cls is not None:
            attr = inspect.getattr_static(cls, target.attr, None)
            if attr is not None and hasattr(attr, "__set__"):
                self.fail(f"this writes {self.namer.describe_attribute(base.id, target.attr)}, a property or descriptor of "
                          f"{cls.__name__}; diffc follows writes of plain attributes only", target)
            cached = method_values.caches_properties(cls)
            if cached:
                self.fail(f"this writes {self.namer.describe_attribute(base.id, target.attr)}, and {cls.__name__} caches "
                          f"{', '.join(cached)} (functools.cached_property): Python keeps the value first "
                          "computed, which diffc does not follow once attributes change", target,
                          hint="use @property, or build a new object instead of changing this one")
            if isinstance(attr, (types.FunctionType, staticmethod, classmethod)):
                # n.forward = lambda ...: Python then calls the attribute, diffc the class's method
                self.fail(f"this sets {self.namer.describe_attribute(base.id, target.attr)}, which shadows the method {cls.__name__}."
                          f"{target.attr}; diffc calls the class's methods", target,
                          hint="give the attribute another name, or subclass and override the method")
            return base.id
        if isinstance(base, gast.Name):
            where = ("a parameter of this function, an object passed in (its caller would see the "
                     "change, which diffc follows when the function is called on a local name of an "
                     "object diffc follows there)" if base.id in self._params() else
                     "an object diffc cannot see being built here (objects made in this function by a "
                     "call of their class or of a helper, and parameters of the differentiated function, "
                     "can have their attributes written)")
            self.fail(f"writing the attribute {self.namer.describe_attribute(base.id, target.attr)} is not supported: {self.namer.describe(base.id)} is {where}",
                      target, hint="build the object inside the differentiated function, or keep the "
                                   "value in a local variable (or return it) instead of storing it")
        self.fail("writing an attribute of this expression is not supported (only of a name, or of "
                  "attributes of a name, a.b.c = v)", target,
                  hint="build a new object, or keep the value in a local variable")

    def path_class(self, path, strict=True):
        """The class of the object a.b.c denotes, when a is an object diffc follows and each
        attribute on the way always holds a new object of one class that its class's methods
        build (constructors.fresh_attribute: no one else holds it); refuses otherwise."""
        if isinstance(path, gast.Name):
            cls = self.class_at(path.id)
            if cls is None and strict:
                self.owner(gast.Attribute(value=path, attr="_", ctx=gast.Store()))
            return cls
        if not isinstance(path, gast.Attribute) and not strict:
            return None
        if not isinstance(path, gast.Attribute):
            self.fail("writing an attribute of this expression is not supported (only of a name, or "
                      "of attributes of a name, a.b.c = v)", path)
        outer = self.path_class(path.value, strict)
        inner = constructors.fresh_attribute(outer, path.attr) \
            if outer not in (None, constructors.UNKNOWN_CLASS) else None
        if (inner is None or constructors.followable_class(inner) is None) and not strict:
            return None
        if outer is constructors.UNKNOWN_CLASS:
            self.fail(f"this changes the object {gast.unparse(path)} holds, and diffc does not know the class "
                      f"of {gast.unparse(path.value)} here (to check that no other name or object holds "
                      f"{gast.unparse(path)})", path,
                      hint=f"annotate the parameter with its class ({_root(path)}: Model), or build the "
                           "object in this function")
        if inner is None or constructors.followable_class(inner) is None:
            owner = getattr(outer, "__name__", "its object")
            self.fail(f"this changes the object {gast.unparse(path)} holds; diffc follows that only when "
                      f"every method of {owner} that sets {path.attr} builds a new object of one class "
                      f"there (self.{path.attr} = Cell(...)), so that no other name or object holds it",
                      path, hint=f"write {gast.unparse(path)} = a new object, or keep the value in a local "
                                 "variable")
        if strict:
            self.nested.add(path.attr)
        return inner

    def _params(self):
        args = self.info.node.args
        return {a.id for a in args.args + args.kwonlyargs}

    def set_attribute(self, target, value):
        if isinstance(target.value, gast.Name) and target.value.id in self.info.local_functions \
                and not any(isinstance(n, (gast.Name, gast.Call)) for n in gast.walk(value)):
            # hit.terminal = True on a local function (a solve_ivp event): a literal attribute
            # of the function itself, which carries no derivative
            return A.located(A.expr_stmt(A.call(
                A.global_ref(runtime_calls.set_function_attribute, "set_function_attribute"),
                [A.name(target.value.id), A.const(target.attr), value])), target)
        obj = self.owner(target)
        return self.rebind(target.value, target.attr, value, target)

    def rebind(self, base, attr, value, where):
        """root = the object root is, with base.attr set to value (base: root or root.b.c...):
        one new object per level."""
        self.written.add(_root(base))
        while True:
            changes = gast.Dict(keys=[A.const(attr)], values=[value])
            value = A.call(A.global_ref(runtime_calls.with_attributes, "with_attributes"),
                           [_loaded(base), changes])
            if isinstance(base, gast.Name):
                break
            base, attr = base.value, base.attr
        out = A.located(A.assign(base.id, value), where)
        out.diffc_same_object = base.id
        return out

    def parameter_guards(self):
        """runtime_calls.check_parameter_aliases for each parameter whose attributes this
        function writes (the entry function's, or those a functional callee hands back):
        refused when another argument shares that object."""
        params = [a.id for a in self.info.node.args.args + self.info.node.args.kwonlyargs]
        out = []
        for p in params:
            if p not in self.written or p not in self.owned_params or len(params) < 2:
                continue
            filename, lineno, _, _ = self.source.locate(self.info.node)
            others = gast.Tuple(elts=[A.name(q) for q in params if q != p], ctx=gast.Load())
            check = A.call(A.global_ref(runtime_calls.check_parameter_aliases, "check_parameter_aliases"),
                           [A.name(p), A.const(p), others, A.const(bool(self.nested | self.grown)),
                            A.const(f"{filename}:{lineno}")])
            out.append(A.located(A.expr_stmt(check), self.info.node.body[0] if self.info.node.body
                                 else self.info.node))
        return out

    def guard_helper_results(self, stmts):
        """After ``s = helper(...)`` (a user function, not a class) whose attributes the function
        then writes: runtime_calls.check_not_held(s, parameters), refusing an object an argument
        holds too (the writes make new objects; Python would change the argument's)."""
        out = []
        params = sorted(self._params())
        for stmt in stmts:
            for _, inner in _sub_blocks(stmt):
                inner[:] = self.guard_helper_results(inner)
            out.append(stmt)
            if isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], gast.Name) \
                    and stmt.targets[0].id in self.written and isinstance(stmt.value, gast.Call) \
                    and not getattr(stmt, "diffc_same_object", None) and params \
                    and argument_effects.is_user_code(self.info.resolve_static(stmt.value.func)):
                filename, lineno, _, _ = self.source.locate(stmt)
                holders = gast.Tuple(elts=[A.name(p) for p in params], ctx=gast.Load())
                check = A.call(A.global_ref(runtime_calls.check_not_held, "check_not_held"),
                               [A.name(stmt.targets[0].id), holders, A.const(f"{filename}:{lineno}")])
                out.append(A.located(A.expr_stmt(check), stmt))
        return out

    # ------------------------------------------------------------ methods compiled functionally
    def hand_back(self, body):
        """Every return hands back (value, self) (or (value, p1, p2...), the parameters whose
        attributes a function writes); falling off the end returns (None, self)."""
        handed = self.handed
        marked = {id(n.targets[0]) for n in gast.walk(self.info.node)
                  if isinstance(n, gast.Assign) and getattr(n, "diffc_same_object", None)}
        for stmt in body:
            for node in gast.walk(stmt):
                if isinstance(node, gast.Name) and node.id in handed and isinstance(node.ctx, gast.Store) \
                        and id(node) not in marked:
                    self.fail(f"this binds {node.id} to another object, while the caller's {node.id} is "
                              "changed by this function's attribute writes; diffc cannot follow both", node,
                              hint="use another name for the new object")

        def result(value):
            return gast.Tuple(elts=[value] + [A.name(h) for h in handed], ctx=gast.Load())

        class Returns(gast.NodeTransformer):
            def visit_Return(self, node):
                node.value = result(node.value if node.value is not None else A.const(None))
                return node

            def visit_FunctionDef(self, node):
                return node
            visit_Lambda = visit_ClassDef = visit_FunctionDef

        body = [Returns().visit(s) for s in body]
        if not body or not isinstance(body[-1], gast.Return):
            body.append(A.located(gast.Return(value=result(A.const(None))), body[-1] if body else
                                  self.info.node))
        return body

    # ------------------------------------------------------------ aliasing
    def check_aliases(self):
        """Refuse a written object that another name, container or closure may hold while a
        write to it can still follow (configuring an object, then storing it, is fine)."""
        if self.written:
            parents = {}
            for node in gast.walk(self.info.node):
                for child in gast.iter_child_nodes(node):
                    parents[id(child)] = node
            self._check_block(self.info.node.body, [], parents, False)

    def _check_block(self, block, path, parents, is_loop):
        for i, stmt in enumerate(block):
            here = path + [(block, i, is_loop)]
            for kind, inner in _sub_blocks(stmt):
                self._check_block(inner, here, parents, kind == "loop")
            for node in _own_nodes(stmt):
                parent = parents.get(id(node))
                if isinstance(node, gast.Name) and node.id in self.written and isinstance(node.ctx, gast.Load):
                    name = node.id
                elif isinstance(node, gast.Attribute) and node.attr in self.nested | self.grown and _is_path(node) \
                        and isinstance(node.ctx, gast.Load) and _root(node) in self.written:
                    name = gast.unparse(node)      # a.b whose attributes are written through a.b.c = v
                else:
                    continue
                if not self._plain_use(node, parent, parents.get(id(parent))) \
                        and self._written_later(_root(node), here):
                    container = isinstance(node, gast.Attribute) and node.attr in self.grown
                    what = "a container whose items this function changes (append, [k] = v)" if container \
                        else "an object whose attributes this function writes"
                    self.fail(f"{name} is {what}; here another name, container or function would hold it "
                              "too, and would not see the later changes, which diffc makes as new "
                              f"{'containers' if container else 'objects'}", node,
                              hint=f"change {name} before storing it, or read {'its items' if container else 'its attributes'} here")
        if not path:
            self._check_nested_stores()

    def _check_nested_stores(self):
        """a.b = v where attributes of a.b are written through a.b.c = v elsewhere in this
        function: v must be a new object (a call of a user class), else the name or object v
        came from would hold it too and not see the writes."""
        for node in gast.walk(self.info.node):
            if isinstance(node, gast.Call) and self.info.resolve_static(node.func) is runtime_calls.with_attributes \
                    and len(node.args) == 2 and isinstance(node.args[1], gast.Dict):
                for key, value in zip(node.args[1].keys, node.args[1].values):
                    if getattr(key, "value", None) in self.grown and not (
                            isinstance(value, (gast.List, gast.ListComp, gast.Dict, gast.DictComp)) or (
                                isinstance(value, gast.BinOp) and isinstance(value.left, gast.Attribute)
                                and value.left.attr == key.value) or self._item_changed(value, key.value)
                            or self._new_container(value)):
                        self.fail(f"this stores a container in the attribute {key.value}, which this function "
                                  "grows or changes items of (append, [k] = v); another name or object may "
                                  "hold that container too and would not see the change", value,
                                  hint=f"store a new one there ({key.value} = [], {{}}, np.zeros(n), or a copy)")
                    if getattr(key, "value", None) in self.nested and not (
                            isinstance(value, gast.Call) and (
                                constructors.followable_class(self.info.resolve_static(value.func)) is not None
                                or self.info.resolve_static(value.func) is runtime_calls.with_attributes)) \
                            and not (isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name)
                                     and value.value.id.startswith("_changed")):
                        self.fail(f"this stores an object in the attribute {key.value}, whose own attributes "
                                  "this function writes (x.{key.value}.name = v); another name or object "
                                  "may hold it too and would not see those writes", value,
                                  hint=f"store a new object there ({key.value} = Cell(...))")

    def _new_container(self, value):
        """A call making a new list, dict or NumPy array (``list(xs)``, ``np.zeros(n)``...)."""
        if not isinstance(value, gast.Call):
            return False
        import numpy as np
        called = self.info.resolve_static(value.func)
        return called in (list, dict) or any(called is getattr(np, name) for name in constructors.NEW_ARRAYS)

    def _item_changed(self, value, attr):
        return isinstance(value, gast.Call) and self.info.resolve_static(value.func) is runtime_calls.with_item \
            and isinstance(value.args[0], gast.Attribute) and value.args[0].attr == attr

    def _written_later(self, name, path):
        """Whether a write to `name` (not preceded by a new construction) can follow the
        statement at the end of path, a list of (block, index, block is a loop body):
        later in each enclosing block, and from the top of each enclosing loop body."""
        for block, i, is_loop in reversed(path):
            found = self._first_event(block[i + 1:], name)
            if found is not None:
                return found == "write"
            if is_loop and self._first_event(block[:i + 1], name) == "write":
                return True
        return False

    def _first_event(self, stmts, name):
        """'write' if a rewritten write of `name` may come first in stmts, 'build' if `name`
        is first bound to another object (a construction, a loop target...), else None."""
        for stmt in stmts:
            for node in gast.walk(stmt):
                if getattr(node, "diffc_same_object", None) == name:
                    return "write"
            if name in A.names_stored(stmt):
                return "build"
        return None

    def _plain_use(self, node, parent, grand=None):
        if id(parent) in self.method_values:
            return False                    # f = obj.step: the bound method holds obj
        if isinstance(parent, (gast.Attribute, gast.Compare, gast.BinOp)):
            return True
        if isinstance(parent, gast.Subscript) and isinstance(parent.ctx, gast.Load):
            return True
        if isinstance(parent, gast.keyword) and isinstance(grand, gast.Call):
            return self._kept_by_call(grand, keyword=parent.arg) is False
        if isinstance(parent, gast.keyword):
            return True
        if isinstance(parent, gast.Call) and node is not parent.func:
            func = parent.func
            if isinstance(func, gast.Attribute) and func.attr in _CONTAINER_METHODS:
                return False
            if self.info.resolve_static(func) in (list, tuple, dict, set, frozenset, iter):
                return False
            index = parent.args.index(node) if node in parent.args else None
            return self._kept_by_call(parent, index=index) is False
        if isinstance(parent, gast.Return) and self.functional is None:
            return True
        if getattr(parent, object_lists.STORE_BACK, False):
            return True                     # L[k] = v: the list takes v's new object
        return isinstance(parent, gast.Assign) and parent.value is node and getattr(
            parent.targets[0], "id", None) == getattr(node, "id", None)

    def _kept_by_call(self, call, index=None, keyword=None):
        """Whether a user class or function called here may keep the argument (store it in
        the object it builds, return it...: constructors.keeps_argument); False for other
        calls (library functions, function values: as before)."""
        func = self.info.resolve_static(call.func)
        if func is runtime_calls.with_attributes or getattr(func, "diffc_functional", None) is not None:
            return False
        if constructors.followable_class(func) is not None or argument_effects.is_user_code(func):
            return constructors.keeps_argument(func, index, keyword)
        return False


def _only_read_after(read, obj, call):
    """Whether every mention of obj in the expressions read, outside call, comes after the
    call in Python's (left to right) evaluation order, so it sees the object the call
    changed (``np.sum(run(net, x)) + np.sum(net.layers[0].x)``): the call may then run
    first, on a line of its own.  Judged by source positions; False when one is missing."""
    inside = {id(n) for n in gast.walk(call)}
    end = (getattr(call, "end_lineno", None), getattr(call, "end_col_offset", None))
    if None in end:
        return False
    for r in read:
        for n in gast.walk(r):
            if isinstance(n, gast.Name) and n.id == obj and id(n) not in inside:
                at = (getattr(n, "lineno", None), getattr(n, "col_offset", None))
                if None in at or at < end:
                    return False
    return True


def _sub_blocks(stmt):
    """(kind, statements) of the blocks inside stmt: 'loop' for a loop's body."""
    loop = isinstance(stmt, (gast.For, gast.While))
    for field in ("body", "orelse", "finalbody"):
        inner = getattr(stmt, field, None)
        if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
            yield ("loop" if loop and field == "body" else field), inner
    for handler in getattr(stmt, "handlers", None) or ():
        yield "handler", handler.body
    for case in getattr(stmt, "cases", None) or ():
        yield "case", case.body


def _own_nodes(stmt):
    """The nodes of stmt outside its inner blocks (a compound statement's header)."""
    inner = {id(s) for _, block in _sub_blocks(stmt) for s in block}
    stack = [stmt]
    while stack:
        node = stack.pop()
        yield node
        for child in gast.iter_child_nodes(node):
            if id(child) not in inner and not isinstance(child, gast.excepthandler):
                stack.append(child)
