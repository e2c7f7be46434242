"""Derivative rules as plain Python functions, inlined as templates.

A rule is an ordinary function.  An adjoint rule takes ``(result,
result_bar, *params)`` and returns one contribution per differentiable
parameter (a tuple, or a single expression for one parameter; ``None`` for
no contribution); parameters after the returned ones (``axis``,
``keepdims``...) are not differentiable.  A tangent rule takes ``(result,
*params, *param_dots)`` and returns the tangent of the result.

A straight-line rule (assignments then one ``return``, no closure variables)
is inlined: the compiler parses its source, renames its locals to fresh
names, substitutes the call's atoms for its parameters and splices the
statements into the generated code, so generated code stays free of
per-operation calls.  Any other rule — loops, branches, early returns,
keyword-only parameters, ``**kwargs``, closures, a callable without readable
source — is *called* by the generated code at run time, with the same
signature conventions (`Rule.inline` tells which).  Built-in rules and user
rules (`diffc.adjoint`, `diffc.tangent`) work the same way.
"""

import inspect
import textwrap

import gast

from . import ast_util as A
from .errors import RuleError


class Rule:
    def __init__(self, primitive, fn, kind):
        self.primitive = primitive
        self.fn = fn
        self.kind = kind                  # "adjoint" or "tangent"
        self._parsed = False

    def __getattr__(self, name):
        # Rules are parsed on first use: importing hundreds of rules stays cheap.
        if name in ("node", "params", "vararg", "defaults", "body", "globals", "locals", "inline",
                    "kwonly") \
                and not self.__dict__.get("_parsed", True):
            self._parse()
            return getattr(self, name)
        raise AttributeError(name)

    def _parse(self):
        fn = self.fn
        self._parsed = True
        try:
            source = getattr(fn, "__diffc_source__", None) or textwrap.dedent(inspect.getsource(fn))
            tree = gast.parse(source)
            node = next(n for n in gast.walk(tree) if isinstance(n, (gast.FunctionDef, gast.Lambda)))
        except (OSError, TypeError, SyntaxError, StopIteration):
            node = None
        if not isinstance(node, gast.FunctionDef) or not self._straight_line(node):
            self._parse_called()
            return
        node.decorator_list = []
        self.node = node
        self.inline = True
        args = node.args
        self.params = [a.id for a in args.args]
        self.kwonly = [a.id for a in args.kwonlyargs]
        self.vararg = args.vararg.id if args.vararg else None
        defaults = args.defaults
        self.defaults = dict(zip(self.params[len(self.params) - len(defaults):], defaults))
        self.defaults.update({a.id: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None})
        body = _without_docstring(node.body)
        for n in gast.walk(gast.Module(body=body, type_ignores=[])):
            # positions in the rule's own text mean nothing in the user's file: inlined
            # statements take the position of the statement they differentiate
            for position in ("lineno", "col_offset", "end_lineno", "end_col_offset"):
                if hasattr(n, position):
                    delattr(n, position)
        self.body = body
        self.globals = fn.__globals__
        self.locals = set()
        for stmt in body:
            self.locals |= A.names_stored(stmt)

    def _straight_line(self, node):
        """Can the rule be inlined?  Assignments and one final return, no closure
        variables, no ``**kwargs``, nothing that binds names in its own scope.  Keyword-only
        parameters make a rule called, except after a ``*vararg`` (``np.einsum``'s
        ``optimize=``), where they are the only way to take options: bound by name there."""
        code = getattr(self.fn, "__code__", None)
        if code is None or code.co_freevars or not hasattr(self.fn, "__globals__"):
            return False
        if node.args.kwarg is not None or node.args.posonlyargs \
                or node.args.kwonlyargs and node.args.vararg is None:
            return False
        body = _without_docstring(node.body)
        if not body or not isinstance(body[-1], gast.Return) or body[-1].value is None:
            return False
        scoped = (gast.Return, gast.For, gast.While, gast.If, gast.Try, gast.With, gast.FunctionDef,
                  gast.AsyncFunctionDef, gast.ClassDef, gast.Yield, gast.YieldFrom, gast.Global,
                  gast.Nonlocal, gast.Delete, gast.AsyncFor, gast.AsyncWith, gast.Await)
        for stmt in body[:-1]:
            if any(isinstance(n, scoped) for n in gast.walk(stmt)):
                return False
        return not any(isinstance(n, scoped) for n in gast.walk(body[-1].value))

    def _parse_called(self):
        """A rule the generated code calls: its parameters from its signature."""
        self.inline = False
        self.node = None
        self.body = None
        self.locals = set()
        self.globals = getattr(self.fn, "__globals__", {})
        try:
            signature = inspect.signature(self.fn)
        except (TypeError, ValueError):
            raise RuleError(f"cannot read the parameters of the rule {self.fn!r}") from None
        kinds = inspect.Parameter
        params = list(signature.parameters.values())
        self.params = [p.name for p in params if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
        self.kwonly = [p.name for p in params if p.kind == kinds.KEYWORD_ONLY]
        self.vararg = next((p.name for p in params if p.kind == kinds.VAR_POSITIONAL), None)
        self.defaults = {p.name: p.default for p in params if p.default is not p.empty}
        self.positional_only = {p.name for p in params if p.kind == kinds.POSITIONAL_ONLY}

    def instantiate(self, bindings, namer, vararg_atoms=None):
        """(statements, returned expression) with params replaced by bindings.

        bindings maps parameter name -> gast expression (atoms); a parameter
        missing from bindings takes its default.  A rule that is not inlined
        gives no statements and the call of the rule."""
        if not self.inline:
            return [], self._call(bindings, vararg_atoms)
        mapping = {}
        for p in self.params + self.kwonly:
            if p in bindings:
                mapping[p] = bindings[p]
            elif p in self.defaults:
                mapping[p] = self.defaults[p]
            else:
                raise RuleError(f"the rule {self.fn.__qualname__} needs a value for {p!r}")
        if self.vararg:
            mapping[self.vararg] = gast.Tuple(elts=[A.deepcopy(a) for a in (vararg_atoms or [])],
                                              ctx=gast.Load())
        start = []
        for local in sorted(self.locals):        # sorted: the same source in every process
            fresh = namer.fresh("_r")
            if local in mapping:
                # a parameter the rule rebinds (`result_bar = result_bar * 2`): its local
                # starts as the argument
                bound = mapping[local]
                start.append(A.assign(fresh, A.deepcopy(bound) if isinstance(bound, gast.AST)
                                      else _value_node(bound, local)))
            mapping[local] = fresh
        body = [A.deepcopy(s) for s in self.body]
        body = [_Substitute(mapping, self.globals).visit(s) for s in body]
        return start + body[:-1], body[-1].value

    def _call(self, bindings, vararg_atoms):
        """The call `rule(...)`: parameters positionally up to the first one left to its
        default (all of them when the rule has a *vararg), keywords after that."""
        name = getattr(self.fn, "__name__", "rule")
        name = name if name.isidentifier() and name != "_" else "_rule"
        bindings = {p: A.name(b) if isinstance(b, str) else b for p, b in bindings.items()}
        positional, keywords, by_keyword = [], [], False
        for p in self.params:
            if p in bindings and not by_keyword:
                positional.append(A.deepcopy(bindings[p]))
            elif p in bindings:
                keywords.append(gast.keyword(arg=p, value=A.deepcopy(bindings[p])))
            elif p in self.defaults and (self.vararg or p in self.positional_only):
                positional.append(_value_node(self.defaults[p], p))
            elif p in self.defaults:
                by_keyword = True
            else:
                raise RuleError(f"the rule {getattr(self.fn, '__qualname__', self.fn)!r} needs a value "
                                f"for {p!r}")
        if self.vararg:
            positional += [A.deepcopy(a) for a in (vararg_atoms or [])]
        for p in self.kwonly:
            if p in bindings:
                keywords.append(gast.keyword(arg=p, value=A.deepcopy(bindings[p])))
            elif p not in self.defaults:
                raise RuleError(f"the rule {getattr(self.fn, '__qualname__', self.fn)!r} needs a value "
                                f"for {p!r}")
        return gast.Call(func=A.global_ref(self.fn, name), args=positional, keywords=keywords)


def linear_tangent(helper):
    """The tangent rule of a helper linear in its first argument, as a template function.

    For ``helper(g, a, axis=None)`` it is ``def _(result, g, a, axis=None, g_dot=None):
    return helper(g_dot, a, axis)``: the other arguments (shapes, axes, structure, the
    primal values the helper reads) carry no derivative.  Parameters keep the helper's
    names and literal defaults; one that would read as another's tangent (``a_dot``) or
    clash with ``result`` is renamed, so only the first parameter has a tangent.  The
    template's text is in ``__diffc_source__`` (`Rule` reads it instead of a file)."""
    kinds = inspect.Parameter
    try:
        params = list(inspect.signature(helper).parameters.values())
    except (TypeError, ValueError):
        params = []
    name = getattr(helper, "__name__", "")
    if not params or not name.isidentifier() \
            or any(p.kind not in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD) for p in params):
        raise RuleError(f"linear(...) needs a helper with plain positional parameters, not {helper!r}")
    names, seen = [], {"result"}
    for p in params:
        n = p.name
        while n in seen or n.endswith("_dot"):
            n += "_"
        seen.add(n)
        names.append(n)
    first = names[0]
    signature, defaulted = [], False
    for n, p in zip(names, params):
        if p.default is p.empty:
            signature.append(n)
            continue
        if not (p.default is None or isinstance(p.default, (bool, int, float, str))):
            raise RuleError(f"linear(...): the default of {name}'s parameter {p.name!r} is not a literal")
        signature.append(f"{n}={p.default!r}")
        defaulted = True
    dot = first + "_dot" + ("=None" if defaulted else "")
    text = (f"def _(result, {', '.join(signature)}, {dot}):\n"
            f"    return {name}({', '.join([first + '_dot'] + names[1:])})\n")
    namespace = {name: helper}
    exec(compile(text, f"<linear tangent of {name}>", "exec"), namespace)
    fn = namespace["_"]
    fn.__diffc_source__ = text
    return fn


def _without_docstring(body):
    if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
        return body[1:]
    return body


def _value_node(value, name):
    """A default value as an expression: a literal, else a reference to the object."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return A.const(value)
    return A.global_ref(value, "_default_" + name)


class _Substitute(gast.NodeTransformer):
    """Replace parameters and locals; turn free names into global references.

    A conditional expression testing a substituted constant with ``is``/``is not``
    (``x if where is True else ...`` with where's default True) is decided here,
    so an optional argument left at its default costs nothing."""

    def __init__(self, mapping, globals_):
        self.mapping = mapping
        self.globals = globals_

    def visit_IfExp(self, node):
        self.generic_visit(node)
        decided = _decide(node.test)
        if decided is None:
            return node
        return node.body if decided else node.orelse

    def visit_Name(self, node):
        if node.id in self.mapping:
            new = self.mapping[node.id]
            if isinstance(new, str):
                return gast.Name(id=new, ctx=node.ctx, annotation=None, type_comment=None)
            return A.deepcopy(new)
        if isinstance(node.ctx, gast.Load):
            import builtins
            if node.id in self.globals:
                return A.global_ref(self.globals[node.id], node.id)
            if hasattr(builtins, node.id):
                return A.global_ref(getattr(builtins, node.id), node.id)
        return node

    def visit_Compare(self, node):
        """`n is None` with n bound to a literal: folded (`1 is None` would be a SyntaxWarning)."""
        self.generic_visit(node)
        if len(node.ops) == 1 and isinstance(node.ops[0], (gast.Is, gast.IsNot)) \
                and isinstance(node.left, gast.Constant) and isinstance(node.comparators[0], gast.Constant):
            a, b = node.left.value, node.comparators[0].value
            if any(v is None or v is True or v is False or v is Ellipsis for v in (a, b)):
                same = a is b
                return gast.Constant(value=same if isinstance(node.ops[0], gast.Is) else not same, kind=None)
        return node



def _decide(test):
    """The value of `constant is constant` (or `is not`), of an `and` of such tests (either
    already folded to True/False by visit_Compare), or None when it is not known before
    run time."""
    if isinstance(test, gast.Constant) and isinstance(test.value, bool):
        return test.value
    if isinstance(test, gast.BoolOp) and isinstance(test.op, gast.And):
        values = [_decide(v) for v in test.values]
        if False in values:
            return False
        return True if all(v is True for v in values) else None
    if isinstance(test, gast.Compare) and len(test.ops) == 1 \
            and isinstance(test.ops[0], (gast.Is, gast.IsNot)) \
            and isinstance(test.left, gast.Constant) and isinstance(test.comparators[0], gast.Constant):
        same = test.left.value is test.comparators[0].value
        return same == isinstance(test.ops[0], gast.Is)
    return None


def check_signature(primitive, fn, kind):
    """Raise RuleError when a user rule's parameters cannot match the primitive.

    Adjoint: ``(result, result_bar, <params>)``; tangent: ``(result, <params>,
    <p>_dot...)`` with a ``_dot`` for every required parameter (optional ones
    such as ``axis=None`` may go without).  A primitive taking ``*args`` or
    ``**kwargs`` (a bound method of a SciPy distribution) accepts any number of
    parameters past its required ones."""
    try:
        prim_params = [p for p in inspect.signature(primitive).parameters.values()]
    except (TypeError, ValueError):
        return
    rule_params = list(inspect.signature(fn).parameters.values())
    if any(p.kind == p.VAR_POSITIONAL for p in rule_params):
        return
    positional = [p for p in prim_params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    open_ended = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in prim_params)
    # Trailing optional parameters (a ufunc's `out`, `axis`...) may be left out of a rule.
    required = len([p for p in positional if p.default is p.empty])
    most = len(positional) if not open_ended else 10 ** 6
    rule_positional = [p for p in rule_params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    name = getattr(primitive, "__qualname__", getattr(primitive, "__name__", primitive))
    got = ", ".join(p.name for p in rule_params)
    if kind == "adjoint":
        if not required <= len(rule_positional) - 2 <= most:
            names = ", ".join(["result", "result_bar"] + [p.name for p in positional])
            raise RuleError(f"the adjoint of {name} should take ({names}); got ({got})")
        return
    names = [p.name for p in rule_positional[1:]] + [p.name for p in rule_params if p.kind == p.KEYWORD_ONLY]
    dots = {n for n in names if n.endswith("_dot") and n[:-4] in names}
    primal = [p for p in rule_positional[1:] if p.name not in dots]
    undotted = [p.name for p in primal if p.name + "_dot" not in dots and p.default is p.empty]
    if not required <= len(primal) <= most or undotted or not dots:
        shown = [p.name for p in positional]
        names = ", ".join(["result"] + shown + [n + "_dot" for n in shown])
        raise RuleError(f"the tangent of {name} should take ({names}); got ({got})")
