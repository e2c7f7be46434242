"""Derivative rules as plain Python functions, inlined as templates.

A rule is an ordinary function.  An adjoint rule takes ``(result,
result_bar, *params)`` and returns one contribution per differentiable
parameter (a tuple, or a single expression for one parameter; ``None`` for
no contribution); parameters after the returned ones (``axis``,
``keepdims``...) are not differentiable.  A tangent rule takes ``(result,
*params, *param_dots)`` and returns the tangent of the result.

The compiler never calls a rule: it parses its source, renames its locals to
fresh names, substitutes the call's atoms for its parameters and splices the
statements into the generated code, so built-in rules and user rules
(`diffc.adjoint`, `diffc.tangent`) work the same way and generated code stays
free of per-operation calls.
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
        if name in ("node", "params", "vararg", "defaults", "body", "globals", "locals") \
                and not self.__dict__.get("_parsed", True):
            self._parse()
            return getattr(self, name)
        raise AttributeError(name)

    def _parse(self):
        fn = self.fn
        self._parsed = True
        try:
            source = textwrap.dedent(inspect.getsource(fn))
        except (OSError, TypeError) as exc:
            raise RuleError(f"cannot read the source of the rule {fn!r}: {exc}") from None
        tree = gast.parse(source)
        node = next(n for n in gast.walk(tree) if isinstance(n, gast.FunctionDef))
        node.decorator_list = []
        self.node = node
        args = node.args
        self.params = [a.id for a in args.args]
        self.vararg = args.vararg.id if args.vararg else None
        defaults = args.defaults
        self.defaults = dict(zip(self.params[len(self.params) - len(defaults):], defaults))
        body = node.body
        if body and isinstance(body[0], gast.Expr) and isinstance(body[0].value, gast.Constant):
            body = body[1:]
        if not body or not isinstance(body[-1], gast.Return):
            raise RuleError(f"the rule {fn.__qualname__} must end with a return statement")
        for stmt in body[:-1]:
            for n in gast.walk(stmt):
                if isinstance(n, (gast.Return, gast.For, gast.While, gast.If)):
                    raise RuleError(f"the rule {fn.__qualname__} must be straight-line code "
                                    "(use conditional expressions instead of if)")
        self.body = body
        self.globals = fn.__globals__
        self.locals = set()
        for stmt in body:
            self.locals |= A.names_stored(stmt)

    def instantiate(self, bindings, namer, vararg_atoms=None):
        """(statements, returned expression) with params replaced by bindings.

        bindings maps parameter name -> gast expression (atoms); a parameter
        missing from bindings takes its default."""
        mapping = {}
        for p in self.params:
            if p in bindings:
                mapping[p] = bindings[p]
            elif p in self.defaults:
                mapping[p] = self.defaults[p]
            else:
                raise RuleError(f"the rule {self.fn.__qualname__} needs a value for {p!r}")
        if self.vararg:
            mapping[self.vararg] = gast.Tuple(elts=[A.deepcopy(a) for a in (vararg_atoms or [])],
                                              ctx=gast.Load())
        for local in self.locals:
            mapping[local] = namer.fresh("_r")
        body = [A.deepcopy(s) for s in self.body]
        body = [_Substitute(mapping, self.globals).visit(s) for s in body]
        return body[:-1], body[-1].value


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


def _decide(test):
    """The value of `constant is constant` (or `is not`), of an `and` of such tests, or None
    when it is not known before run time."""
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
    """Raise RuleError when a user rule's parameters cannot match the primitive."""
    try:
        prim_params = [p for p in inspect.signature(primitive).parameters.values()]
    except (TypeError, ValueError):
        return
    rule_params = list(inspect.signature(fn).parameters.values())
    positional = [p for p in prim_params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    # Trailing optional parameters (a ufunc's `out`, `axis`...) may be left out of a rule.
    required = len([p for p in positional if p.default is p.empty])
    if kind == "adjoint":
        expected = 2 + len(positional)
        if not 2 + required <= len(rule_params) <= expected \
                and not any(p.kind == p.VAR_POSITIONAL for p in rule_params):
            names = ", ".join(["result", "result_bar"] + [p.name for p in positional])
            raise RuleError(f"the adjoint of {getattr(primitive, '__name__', primitive)} should take "
                            f"({names}); got ({', '.join(p.name for p in rule_params)})")
    else:
        expected = 1 + 2 * len(positional)
        if len(rule_params) not in [1 + 2 * n for n in range(required, len(positional) + 1)] \
                and not any(p.kind == p.VAR_POSITIONAL for p in rule_params):
            names = ", ".join(["result"] + [p.name for p in positional] + [p.name + "_dot" for p in positional])
            raise RuleError(f"the tangent of {getattr(primitive, '__name__', primitive)} should take "
                            f"({names}); got ({', '.join(p.name for p in rule_params)})")
