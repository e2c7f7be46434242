"""parse: Python function object -> gast FunctionDef plus its static environment.

Input: a Python function (or lambda).
Output: a `FunctionInfo` holding
  * ``node``: a gast ``FunctionDef`` whose line numbers are the user's own
    (``SourceInfo.locate`` maps a node back to file, line, column, text);
  * ``env``: how every free name resolves (closure cell, module global or
    builtin), so later passes choose rules statically;
  * ``local_functions``: nested ``def``s and ``name = lambda ...`` of the body,
    lifted out as `FunctionInfo`s whose free variables become extra trailing
    parameters (``lifted_params``).  The statements defining them are removed
    from ``node.body``.

Lambdas are turned into ``def`` with a single ``return``.
"""

import builtins
import dis
import inspect
import itertools
import linecache
import textwrap
import types

import gast

from . import ast_util as A
from . import runtime_calls
from .transform.local_imports import bind_local_imports
from .errors import SourceUnavailable, UnsupportedSyntax
from .early_defaults import hold_local_defaults
from .transform.local_classes import hoist_local_classes
from .transform.nonlocal_state import refuse_captured_writers_as_values, thread_nonlocal_writes

MISSING = object()


class SourceInfo:
    """Where a parsed function lives in the user's files."""

    def __init__(self, filename, first_line, dedented_lines, indent):
        self.filename = filename
        self.first_line = first_line          # file line of the parsed text's line 1
        self.lines = dedented_lines
        self.indent = indent

    def locate(self, node):
        lineno = getattr(node, "lineno", None) or 1
        col = getattr(node, "col_offset", None) or 0
        text = self.lines[lineno - 1] if 0 < lineno <= len(self.lines) else None
        if text is not None:
            text = " " * self.indent + text
        return self.filename, self.first_line + lineno - 1, col + self.indent, text

    def file_line(self, node):
        return self.first_line + (getattr(node, "lineno", 1) or 1) - 1

    def text(self, node):
        lineno = getattr(node, "lineno", None)
        if lineno is None or not 0 < lineno <= len(self.lines):
            return ""
        return self.lines[lineno - 1].strip()


class Env:
    """Static resolution of the free names of one function."""

    def __init__(self, globals_, closure):
        self.globals = globals_
        self.closure = closure
        self.deps = []          # (dict, name, object) read at compile time

    def lookup(self, name):
        if name in self.closure:
            return self.closure[name]
        value = self.globals.get(name, MISSING)
        if value is not MISSING:
            self.deps.append((self.globals, name, value))
            return value
        builtins_ = self.globals.get("__builtins__", builtins)
        if isinstance(builtins_, types.ModuleType):
            builtins_ = builtins_.__dict__
        return builtins_.get(name, MISSING)


class FunctionInfo:
    def __init__(self, name, node, source, env, fn=None, lifted_params=(), parent=None):
        self.name = name
        self.node = node
        self.source = source
        self.env = env
        self.fn = fn
        self.lifted_params = list(lifted_params)
        self.parent = parent
        self.local_functions = {}
        self._local_names = None

    @property
    def params(self):
        return [a.id for a in self.node.args.args]

    def resolve_static(self, expr):
        """The object a Name/Attribute chain of free names denotes, or MISSING."""
        if isinstance(expr, gast.Name):
            if hasattr(expr, "diffc_global"):
                return expr.diffc_global
            if expr.id in self.local_names:
                return MISSING
            if expr.id in self.local_functions:
                return self.local_functions[expr.id]
            if self.parent is not None and expr.id in self.parent_visible:
                return self.parent.resolve_static(expr)
            return self.env.lookup(expr.id)
        if isinstance(expr, gast.Attribute):
            base = self.resolve_static(expr.value)
            if base is MISSING or isinstance(base, FunctionInfo):
                return MISSING
            if isinstance(base, types.ModuleType) or inspect.isclass(base):
                return getattr(base, expr.attr, MISSING)
            return MISSING
        return MISSING

    @property
    def local_names(self):
        if self._local_names is None:
            self._local_names = assigned_names(self.node) - set(self.local_functions)
        return self._local_names

    def forget_local_names(self):
        """The body was rewritten: compute local_names again on next use."""
        self._local_names = None

    def add_locals(self, names):
        self.local_names.update(names)

    @property
    def parent_visible(self):
        return set(self.parent.local_functions) if self.parent is not None else set()


def assigned_names(fn_node):
    """Names bound anywhere in a function body (its locals), params included."""
    names = {a.id for a in fn_node.args.args}
    for stmt in fn_node.body:
        for node in gast.walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, (gast.Store, gast.Del)):
                names.add(node.id)
            elif isinstance(node, (gast.FunctionDef, gast.ClassDef)):
                names.add(node.name)
    return names


def _parameter_names(fn_node):
    args = fn_node.args
    params = list(args.args) + list(args.posonlyargs) + list(args.kwonlyargs) + [args.vararg, args.kwarg]
    return {getattr(p, "id", None) or getattr(p, "arg", None) for p in params if p is not None}


def free_names(fn_node):
    """Names a function (def or lambda) reads from enclosing scopes: the parameters and
    locals of functions nested in it are theirs, not reads of ours (`def make(s): return
    lambda h: s * h` reads s, not h)."""
    own = _parameter_names(fn_node) | (assigned_names(fn_node) if isinstance(fn_node, gast.FunctionDef) else set())
    out = set()

    def visit(n):
        if isinstance(n, (gast.Lambda, gast.FunctionDef)):
            for default in list(n.args.defaults) + [d for d in n.args.kw_defaults if d is not None]:
                visit(default)                  # defaults are evaluated in our scope
            out.update(free_names(n))
            return
        if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load):
            out.add(n.id)
        for child in gast.iter_child_nodes(n):
            visit(child)

    body = fn_node.body if isinstance(fn_node.body, list) else [fn_node.body]
    for part in body:
        visit(part)
    return out - own


def load_names(node):
    return {n.id for n in gast.walk(node) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Load)}


# --------------------------------------------------------------------------- #
# Getting the source of a function


FROM_SOURCE_HINT = ("pass the source text instead: f = diffc.from_source(text), where text is "
                    "the def as a string, defines f (in the caller's globals) so that diffc can "
                    "read it; or define the function in a file or a notebook cell")


def has_source_text(fn):
    """Whether Python kept the text fn was defined from: a file, a notebook cell
    (IPython registers cells in linecache) or diffc.from_source.  Cheap: one
    linecache look-up, no parsing."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return True                          # not a Python function: refused elsewhere
    return bool(linecache.getlines(code.co_filename, getattr(fn, "__globals__", None)))


def require_source_text(fn):
    """SourceUnavailable at once (when grad(f) is made, not at its first call) for a
    function typed at the plain REPL or made by exec of a string."""
    if not has_source_text(fn):
        name = getattr(fn, "__qualname__", repr(fn))
        raise SourceUnavailable(
            f"cannot read the source of {name}: it was defined in {fn.__code__.co_filename} "
            "(the interactive prompt or exec of a string), and Python keeps no source text there",
            hint=FROM_SOURCE_HINT)


def _source_of(fn):
    try:
        lines, first_line = inspect.getsourcelines(fn)
        filename = inspect.getsourcefile(fn) or inspect.getfile(fn)
    except (OSError, TypeError) as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise SourceUnavailable(
            f"cannot read the source of {name}: {exc}",
            hint="diffc needs the Python source; " + FROM_SOURCE_HINT
                 + ", or register rules with @diffc.adjoint / @diffc.tangent",
        ) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = 0
    for a, b in zip(text.splitlines(), dedented.splitlines()):
        if b.strip():
            indent = len(a) - len(b)
            break
    return filename, first_line, dedented, indent


def _lambdas_of_first_line(text):
    """The lambda expressions that start on the first line of text, each parsed alone, as
    one module (None if there is none): the source lines of a lambda on a continuation
    line, ``("b", lambda f: g(f))):``, are not an expression.  Columns are those of text."""
    import io
    import tokenize
    tokens = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            tokens.append(tok)
    except (tokenize.TokenError, SyntaxError):
        pass                                # the tokens up to the error suffice
    lines = text.splitlines(keepends=True)

    def offset(position):
        row, col = position
        return sum(len(line) for line in lines[:row - 1]) + col
    found = []
    for i, tok in enumerate(tokens):
        if tok.type != tokenize.NAME or tok.string != "lambda" or tok.start[0] != 1:
            continue
        end = _lambda_end(tokens[i + 1:])
        if end is None:
            continue
        start_col = tok.start[1]
        try:
            module = gast.parse("(" + text[offset(tok.start):offset(end)] + ")")
        except SyntaxError:
            continue
        for node in gast.walk(module):
            if getattr(node, "lineno", None) == 1 and getattr(node, "col_offset", None) is not None:
                node.col_offset += start_col - 1
            if getattr(node, "end_lineno", None) == 1 and getattr(node, "end_col_offset", None) is not None:
                node.end_col_offset += start_col - 1
        found += module.body
    return gast.Module(body=found, type_ignores=[]) if found else None


def _lambda_end(tokens):
    """Where the lambda whose body follows ends: the first ``,`` ``;`` or closing bracket
    outside brackets after its ``:``, or the end of the logical line."""
    import tokenize
    depth, in_body = 0, False
    for tok in tokens:
        if tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER) and depth == 0:
            return tok.start
        if tok.type != tokenize.OP:
            continue
        if tok.string in "([{":
            depth += 1
        elif tok.string in ")]}":
            if depth == 0:
                return tok.start
            depth -= 1
        elif tok.string == ":" and depth == 0 and not in_body:
            in_body = True
        elif tok.string in (",", ";") and depth == 0 and in_body:
            return tok.start
    return None


_SKIPPED_OPS = {"CACHE", "RESUME", "PRECALL", "PUSH_NULL", "COPY_FREE_VARS", "MAKE_CELL", "KW_NAMES", "NOP",
                "EXTENDED_ARG"}


def _code_key(code, exact):
    """What tells two lambdas' code apart: with exact, the bytecode, names and constants;
    without, the instructions with the ways of loading a name (global, free, local) and of
    reading an attribute (method or not) made one, as a lambda compiled alone differs from
    the same lambda compiled in its module only in those; nested code the same way."""
    if exact:
        consts = tuple(_code_key(c, exact) if isinstance(c, types.CodeType) else (type(c).__name__, repr(c))
                       for c in code.co_consts)
        return code.co_code, code.co_names, consts
    steps = []
    for ins in dis.get_instructions(code):
        if ins.opname in _SKIPPED_OPS:
            continue
        op = ins.opname
        if op.startswith("LOAD_") and op not in ("LOAD_CONST", "LOAD_ATTR", "LOAD_METHOD"):
            op = "LOAD"
        elif op in ("LOAD_ATTR", "LOAD_METHOD"):
            op = "ATTR"
        elif op.startswith("CALL"):
            op = "CALL"
        value = ins.argval
        if ins.opcode in dis.hasjrel or ins.opcode in dis.hasjabs:
            value = None                                  # offsets differ with the loads' forms
        elif isinstance(value, types.CodeType):
            value = _code_key(value, False)
        elif not isinstance(value, (str, int, float, complex, bool, type(None), tuple, frozenset, bytes)):
            value = repr(value)
        steps.append((op, value if op != "CALL" else None, ins.argrepr if op == "BINARY_OP" else None))
    return tuple(steps)


def _find_lambda(tree, fn):
    """The lambda of tree that compiles to fn's code.  Several lambdas with fn's parameters
    on its line (``a = f(lambda x: x ** 2); b = f(lambda x: x ** 3)``) are told apart by
    their code; if that cannot decide, none is returned (never a neighbour's source)."""
    code = fn.__code__
    params = list(code.co_varnames[: code.co_argcount])
    candidates = [n for n in gast.walk(tree) if isinstance(n, gast.Lambda)
                  and [a.id for a in n.args.args] == params]
    if len(candidates) <= 1:
        return candidates[0] if candidates else None
    compiled = []
    for cand in candidates:
        try:
            src = compile(gast.gast_to_ast(gast.Expression(body=cand)), "<lambda>", "eval")
        except Exception:
            continue
        consts = [c for c in src.co_consts if isinstance(c, types.CodeType)]
        if consts:
            compiled.append((cand, consts[0]))
    for exact in (True, False):
        want = _code_key(code, exact)
        same = [cand for cand, c in compiled if _code_key(c, exact) == want]
        texts = {gast.dump(cand) for cand in same}
        if len(texts) == 1:
            return same[0]
    return None


def parse_function(fn):
    """Parse a user function into a FunctionInfo (see module docstring)."""
    fn = inspect.unwrap(fn) if not isinstance(fn, types.FunctionType) else fn
    if isinstance(fn, types.MethodType):
        raise SourceUnavailable(f"{fn!r} is a bound method; differentiate the function instead")
    if not isinstance(fn, types.FunctionType):
        raise SourceUnavailable(
            f"diffc differentiates Python functions, not {type(fn).__name__} {fn!r}",
            hint="wrap it in a def, or give it a rule with @diffc.adjoint")
    # constructors.functional_method: the method's own source, globals and closure.
    src = fn.__wrapped__ if getattr(fn, "diffc_functional", None) is not None else fn
    filename, first_line, text, indent = _source_of(src)
    try:
        tree = gast.parse(text)
    except SyntaxError:
        # A lambda in the middle of an expression spanning lines: parse with parens.
        try:
            tree = gast.parse("(" + text.strip() + ")")
        except SyntaxError as exc:
            tree = _lambdas_of_first_line(text) if fn.__name__ == "<lambda>" else None
            if tree is None:
                raise SourceUnavailable(f"cannot parse the source of {fn.__qualname__}: {exc}") from None
    source = SourceInfo(filename, first_line, text.splitlines(), indent)

    if fn.__name__ == "<lambda>":
        lam = _find_lambda(tree, fn)
        if lam is None:
            raise SourceUnavailable("cannot find the source of this lambda",
                                    hint="define it with def instead")
        node = lambda_to_def(lam, "lambda_fn")
    else:
        node = next((n for n in gast.walk(tree) if isinstance(n, gast.FunctionDef)
                     and n.name == fn.__name__), None)
        if node is None:
            raise SourceUnavailable(f"cannot find the definition of {fn.__qualname__}")
    node.decorator_list = []
    if fn.__globals__.get("__name__") == "diffc_generated":
        _rename_generated_tape(node)
    closure = {}
    if src.__closure__:
        for name, cell in zip(src.__code__.co_freevars, src.__closure__):
            try:
                closure[name] = cell.cell_contents
            except ValueError:
                pass
    if "__class__" in closure:
        _explicit_super(node)
    env = Env(src.__globals__, closure)
    if isinstance(node, gast.FunctionDef):
        bind_local_imports(node, src.__globals__.get("__name__", ""), source)    # `import numpy as np` inside
    info = FunctionInfo(node.name if fn.__name__ != "<lambda>" else "lambda_fn", node, source, env, fn=fn)
    flatten_signature(info)
    hold_local_defaults(info.node, lambda message, at, hint: _refuse(message, at, source, hint))
    hoist_local_classes(info, assigned_names, free_names, lambda message, at, hint: _refuse(message, at, source, hint))
    lift_local_functions(info)
    return info


def _explicit_super(node):
    """``super().name(args)`` in a method is ``runtime_calls.super_function(__class__, self,
    'name')(self, args)``: the function Python's zero-argument super finds, from the method's
    ``__class__`` cell (in the closure diffc reads) and first parameter, which diffc's copy of
    the method does not have; the call is then a call of a function value.  Any other
    ``super()`` is ``super(__class__, self)``."""
    params = node.args.posonlyargs + node.args.args
    if not params:
        return
    me = params[0].id

    def name(n):
        return gast.Name(id=n, ctx=gast.Load(), annotation=None, type_comment=None)

    def bare_super(n):
        return isinstance(n, gast.Call) and isinstance(n.func, gast.Name) and n.func.id == "super" \
            and not n.args and not n.keywords

    for n in gast.walk(node):
        if isinstance(n, gast.Call) and isinstance(n.func, gast.Attribute) and bare_super(n.func.value) \
                and n.func.attr != "__init__":
            finder = gast.Call(func=A.global_ref(runtime_calls.super_function, "super_function"),
                               args=[name("__class__"), name(me), gast.Constant(value=n.func.attr, kind=None)],
                               keywords=[])
            n.func = gast.copy_location(finder, n.func)
            n.args = [name(me)] + n.args
        elif bare_super(n):
            n.args = [name("__class__"), name(me)]


def _refuse(message, node, source, hint):
    raise UnsupportedSyntax(message, node, source, hint=hint)


def _rename_generated_tape(node):
    """Generated code differentiated again: its tape becomes an ordinary local list.

    Its name must not be the tape name the new generated code uses."""
    names = {n.id for n in gast.walk(node) if isinstance(n, gast.Name)}
    k = 1
    while f"_tape_{k}" in names:
        k += 1
    for n in gast.walk(node):
        if isinstance(n, gast.Name) and n.id == "_tape":
            n.id = f"_tape_{k}"


def lambda_to_def(lam, name):
    ret = gast.Return(value=lam.body)
    gast.copy_location(ret, lam.body)
    node = gast.FunctionDef(name=name, args=lam.args, body=[ret], decorator_list=[],
                            returns=None, type_comment=None, type_params=[])
    gast.copy_location(node, lam)
    return node


class Signature:
    """A function's parameters as the user wrote them (see `flatten_signature`)."""

    def __init__(self, positional, vararg, kwonly, kwarg, defaults):
        self.positional = positional      # positional-only and ordinary parameters, in order
        self.vararg = vararg              # name of *args, or None
        self.kwonly = kwonly              # keyword-only parameters
        self.kwarg = kwarg                # name of **kwargs, or None
        self.defaults = defaults          # parameter name -> default expression (gast)

    @property
    def plain(self):
        return self.vararg is None and not self.kwonly and self.kwarg is None

    def params(self):
        return self.positional + ([self.vararg] if self.vararg else []) + self.kwonly \
            + ([self.kwarg] if self.kwarg else [])


def flatten_signature(info):
    """Make every parameter an ordinary one, in the order of `inspect.signature`:
    positional, then ``*args`` (a tuple), keyword-only, then ``**kwargs`` (a dict).

    The user's layout is kept in ``info.signature``; calls bind to it
    (transform/dynamic_calls.py packs the extra arguments into a tuple and a
    dict) and api.py does the same for the arguments a user passes."""
    args = info.node.args
    positional = [a.id for a in args.posonlyargs + args.args]
    defaults = {}
    for name, d in zip(positional[len(positional) - len(args.defaults):], args.defaults):
        defaults[name] = d
    kwonly = [a.id for a in args.kwonlyargs]
    for name, d in zip(kwonly, args.kw_defaults):
        if d is not None:
            defaults[name] = d
    vararg = args.vararg.id if args.vararg else None
    kwarg = args.kwarg.id if args.kwarg else None
    if vararg:
        defaults[vararg] = gast.Tuple(elts=[], ctx=gast.Load())
    if kwarg:
        defaults[kwarg] = gast.Dict(keys=[], values=[])
    info.signature = Signature(positional, vararg, kwonly, kwarg, defaults)
    if info.signature.plain and not args.posonlyargs:
        return
    params = [gast.Name(id=n, ctx=gast.Param(), annotation=None, type_comment=None)
              for n in info.signature.params()]
    info.node.args = gast.arguments(args=params, posonlyargs=[], vararg=None, kwonlyargs=[], kw_defaults=[],
                                    kwarg=None, defaults=[])




# --------------------------------------------------------------------------- #
# Lifting nested functions


def hoist_lambda_values(info):
    """A lambda used as a value (an argument, a list item, a returned value) becomes a
    top-level ``_lambda_k = lambda ...`` that `lift_local_functions` lifts; the use
    reads the name, whose value is the lifted function with the values it captured."""
    taken = {n.id for n in gast.walk(info.node) if isinstance(n, gast.Name)}
    hoisted = []

    def fresh():
        k = len(hoisted) + 1
        while f"_lambda_{k}" in taken:
            k += 1
        taken.add(f"_lambda_{k}")
        return f"_lambda_{k}"

    class Hoist(gast.NodeTransformer):
        def visit_Lambda(self, node):
            name = fresh()
            hoisted.append(gast.copy_location(
                gast.Assign(targets=[gast.Name(id=name, ctx=gast.Store(), annotation=None,
                                               type_comment=None)], value=node, type_comment=None), node))
            return gast.copy_location(gast.Name(id=name, ctx=gast.Load(), annotation=None,
                                                type_comment=None), node)

        def visit_FunctionDef(self, node):
            return node                       # nested defs hoist their own lambdas when lifted

    def block(stmts):
        out = []
        for stmt in stmts:
            if _is_named_lambda(stmt):
                out.append(stmt)
            elif isinstance(stmt, _BLOCKS):
                for field in _BLOCK_FIELDS:
                    inner = getattr(stmt, field, None)
                    if isinstance(inner, list) and field != "handlers":
                        setattr(stmt, field, block(inner))
                for handler in getattr(stmt, "handlers", None) or []:
                    handler.body = block(handler.body)
                for part in _block_heads(stmt):
                    Hoist().visit(part)
                out.append(stmt)
            else:
                out.append(Hoist().visit(stmt))
        return out

    body = block(info.node.body)
    info.node.body = hoisted + body


_BLOCKS = (gast.For, gast.While, gast.If, gast.With, gast.Try) + ((gast.TryStar,) if hasattr(gast, "TryStar") else ())
_BLOCK_FIELDS = ("body", "orelse", "finalbody", "handlers")


def _is_named_lambda(stmt):
    return isinstance(stmt, gast.Assign) and len(stmt.targets) == 1 \
        and isinstance(stmt.targets[0], gast.Name) and isinstance(stmt.value, gast.Lambda)


def _block_heads(stmt):
    """The expressions of a compound statement outside its blocks (a loop's iterable, a test)."""
    if isinstance(stmt, gast.For):
        return [stmt.iter]
    if isinstance(stmt, (gast.While, gast.If)):
        return [stmt.test]
    if isinstance(stmt, gast.With):
        return [item.context_expr for item in stmt.items]
    return [h.type for h in getattr(stmt, "handlers", ()) if h.type is not None]


def _take_definitions(stmts, found):
    """stmts without the nested ``def``s and ``name = lambda ...`` statements, at any depth of
    loops, branches, with and try blocks (not inside other functions), each appended to found
    as (name, def node, statement).  A function defined in a loop body is the same function
    each iteration (its captured variables are the enclosing function's, read when it is
    called), so it is lifted like one defined at the top; an emptied block gets a pass."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, gast.FunctionDef):
            found.append((stmt.name, stmt, stmt))
        elif _is_named_lambda(stmt):
            found.append((stmt.targets[0].id, lambda_to_def(stmt.value, stmt.targets[0].id), stmt))
        else:
            if isinstance(stmt, _BLOCKS):
                for field in ("body", "orelse", "finalbody"):
                    inner = getattr(stmt, field, None)
                    if isinstance(inner, list) and inner:
                        setattr(stmt, field, _take_definitions(inner, found) or [gast.Pass()])
                for handler in getattr(stmt, "handlers", None) or []:
                    handler.body = _take_definitions(handler.body, found) or [gast.Pass()]
            out.append(stmt)
    return out


def lift_local_functions(info):
    """Move nested defs and `name = lambda` out of info.node.body (see docstring)."""
    hoist_lambda_values(info)
    found = []
    body = _take_definitions(info.node.body, found)
    if not found:
        return
    info.node.body = body or [gast.Pass()]
    refuse_captured_writers_as_values(info, found)
    thread_nonlocal_writes(info, found)
    names = [name for name, _, _ in found]
    for name, _, stmt in found:
        if names.count(name) > 1:
            raise UnsupportedSyntax(f"the local function {name!r} is defined more than once", stmt, info.source,
                                    hint="give each local function its own name")
    args = info.node.args
    packed = {a.id for a in [args.vararg, args.kwarg] + list(args.kwonlyargs) + list(args.posonlyargs)
              if a is not None}                  # `def compose(*fs)`: fs is a local too
    outer_locals = assigned_names(info.node) | packed | {name for name, _, _ in found}
    siblings = {n for n, _, _ in found}
    free_of, calls_of = {}, {}
    for name, node, stmt in found:
        if name in assigned_names(info.node) - {a.id for a in info.node.args.args}:
            raise UnsupportedSyntax(f"the local function {name!r} is rebound elsewhere",
                                    stmt, info.source, hint="give each local function its own name")
        if node.decorator_list:
            raise UnsupportedSyntax("decorated local functions are not supported", stmt, info.source)
        reads = free_names(node)
        free_of[name] = reads & (outer_locals - siblings)
        calls_of[name] = reads & siblings
    # A local function calling another passes it that one's captured values: it reads them too.
    changed = True
    while changed:
        changed = False
        for name, node, _ in found:
            more = set().union(*[free_of[c] for c in calls_of[name]]) - assigned_names(node) - free_of[name]
            if more:
                free_of[name] |= more
                changed = True
    for name, node, stmt in found:
        free = sorted(free_of[name])
        lifted = FunctionInfo(name, node, info.source, info.env, lifted_params=free, parent=info)
        flatten_signature(lifted)
        info.local_functions[name] = lifted
    # Lifted parameters are appended to every call site later; check names are plain.  First:
    # a function nested in a lifted one may capture them (a lambda in `gfun` reading `fun`).
    for lifted in info.local_functions.values():
        has_defaults = bool(lifted.node.args.defaults)
        for p in lifted.lifted_params:
            lifted.node.args.args.append(gast.Name(id=p, ctx=gast.Param(), annotation=None,
                                                   type_comment=None))
            if has_defaults:
                # Python aligns defaults with the last parameters: a placeholder for each
                # captured value (always passed) keeps the user's defaults on their parameters.
                lifted.node.args.defaults.append(gast.Constant(value=None, kind=None))
    for lifted in info.local_functions.values():
        lift_local_functions(lifted)
        # Free variables of nested-nested functions that live in our scope.
        for inner in lifted.local_functions.values():
            extra = [p for p in inner.lifted_params if p not in assigned_names(lifted.node)]
            if extra:
                raise UnsupportedSyntax("functions nested two levels deep that read the outer "
                                        "function's variables are not supported", inner.node,
                                        info.source, hint="pass the values as arguments")


# --------------------------------------------------------------------------- #
# Functions given as text

_text_counter = itertools.count(1)


def define_from_source(text, name=None, namespace=None):
    """Execute `text` (one or more defs) in `namespace` under a file name that
    linecache knows, so the functions it defines have readable source; return
    the function called `name` (default: the last function the text defines)."""
    text = textwrap.dedent(text)
    try:
        tree = gast.parse(text)
    except SyntaxError as exc:
        raise SourceUnavailable(f"the source text does not parse: {exc}") from None
    defined = [n.name for n in tree.body if isinstance(n, gast.FunctionDef)]
    if name is None:
        if not defined:
            raise SourceUnavailable("the source text defines no function (def ...)")
        name = defined[-1]
    elif name not in defined:
        raise SourceUnavailable(f"the source text defines no function {name!r} "
                                f"(it defines {', '.join(defined) or 'none'})")
    filename = f"<diffc-source-{next(_text_counter)}:{name}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), namespace)
    return namespace[name]
