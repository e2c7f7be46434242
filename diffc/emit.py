"""emit: generated gast functions -> Python source text -> function objects.

Input: the FunctionDefs of one `pipeline.Module`; names in them that denote
module-level objects carry ``diffc_global`` (any object) or
``diffc_generated`` (another generated function).
Output: `Emitted` with the exact source (what `diffc.source` shows and what
runs), the namespace it runs in, and the compiled functions.  Each object is
bound under its own name when that name is free (``np``, ``math``, a user
helper), otherwise under a suffixed alias, never clashing with a local.  A
comment ``# line N: <user source>`` precedes each group of statements coming
from user line N; the text is registered with `linecache`, so tracebacks and
`inspect.getsource` work on generated code, and ``line_map`` maps generated
lines to user (file, line).
"""

import builtins
import itertools
import linecache
import keyword
import re
import types

import astor
import gast

from . import ast_util as A
from . import sourcemap
from .parse import FunctionInfo

_counter = itertools.count(1)
_MARK = "__diffc_line__"

_NOT_BUILTIN = object()


class Emitted:
    pass


def _local_names(fn):
    names = {fn.name}
    for n in A.walk(fn):
        if isinstance(n, gast.Name) and isinstance(n.ctx, (gast.Store, gast.Param, gast.Del)):
            names.add(n.id)
    return names


def link(functions, module):
    """Choose a module-level name for every referenced object; returns the namespace."""
    taken = set()
    for fn in functions:
        taken |= _local_names(fn)
    generated = {fn.name for fn in functions}
    namespace = {}
    by_object = {}
    pending = list(functions)
    seen = set()
    while pending:
        fn = pending.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for n in A.walk(fn):
            if not isinstance(n, gast.Name) or getattr(n, "diffc_generated", False):
                continue
            if not hasattr(n, "diffc_global"):
                continue
            obj = n.diffc_global
            key = id(obj)
            if key in by_object:
                n.id = by_object[key]
                continue
            preferred = n.id
            if isinstance(obj, types.ModuleType):
                preferred = obj.__name__.split(".")[-1] if obj.__name__ != "numpy" else "np"
            # A sentinel default: a module-level `LO = None` is no builtin.
            if getattr(builtins, preferred, _NOT_BUILTIN) is obj and preferred not in taken:
                by_object[key] = preferred
                continue
            if not preferred.isidentifier() or keyword.iskeyword(preferred):
                # a name made from a lambda's (``<lambda>_use``) or another non-identifier
                preferred = "_" + "".join(c if c.isalnum() or c == "_" else "_" for c in preferred)
            candidate, k = preferred, 1
            while candidate in taken or candidate in generated or (
                    candidate in namespace and namespace[candidate] is not obj) or (
                    hasattr(builtins, candidate) and getattr(builtins, candidate) is not obj
                    and candidate not in namespace and False):
                k += 1
                candidate = f"{preferred}_{k}"
            namespace[candidate] = obj
            by_object[key] = candidate
            n.id = candidate
    return namespace


def _insert_line_markers(stmts, source, texts, last=None):
    out = []
    for s in stmts:
        line = getattr(s, "lineno", None)
        if line is not None and source is not None and line != last \
                and not source.text(s).startswith(("def ", "lambda")):
            file_line = source.file_line(s)
            key = len(texts)
            texts.append((file_line, source.text(s), source.filename))
            out.append(gast.Expr(value=gast.Constant(value=f"{_MARK}{key}", kind=None)))
            last = line
        for field in ("body", "orelse"):
            inner = getattr(s, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], gast.stmt):
                # A block opened by this statement repeats its line comment only if it moves on.
                setattr(s, field, _insert_line_markers(inner, source, texts, last=line))
        out.append(s)
    return out


def _parenthesize_negative_bases(tree):
    """Constant(-0.7) ** 2 -> (-0.7) ** 2: astor prints it as -0.7 ** 2, i.e. -(0.7 ** 2)."""
    for node in A.walk(tree):
        if isinstance(node, gast.BinOp) and isinstance(node.op, gast.Pow):
            left = node.left
            if isinstance(left, gast.Constant) and isinstance(left.value, (int, float, complex)) \
                    and not isinstance(left.value, bool) and (left.value.real < 0 or str(left.value).startswith("-")):
                node.left = gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=-left.value, kind=None))


def to_source(functions, sources):
    """Source text of the functions, with user-line comments; also the line map."""
    texts = []
    body = []
    for fn in functions:
        src = sources.get(id(fn))
        fn.body = _insert_line_markers(fn.body, src, texts)
        body.append(fn)
    module = gast.Module(body=body, type_ignores=[])
    _parenthesize_negative_bases(module)
    text = astor.to_source(gast.gast_to_ast(module))
    lines = text.splitlines()
    out, line_map, current = [], {}, None
    pattern = re.compile(r"^(\s*)('|\"|\"\"\")" + _MARK + r"(\d+)\2$")
    for line in lines:
        m = pattern.match(line)
        if m:
            file_line, user_text, filename = texts[int(m.group(3))]
            current = (filename, file_line)
            out.append(f"{m.group(1)}# line {file_line}: {user_text}")
            continue
        if line.startswith("def "):
            current = None
        out.append(line)
        if current is not None:
            line_map[len(out)] = current
    return "\n".join(out) + "\n", line_map


def resolve_local_functions(module):
    """Point references to lifted local functions at their generated primal copies.

    A lifted function used as a value (not called) in a primal copy (``def compose(*fs):
    def composed(x): ... return composed``) becomes ``closure(<copy>, captured...)``: the
    copy takes its captured variables as trailing parameters."""
    k = 0
    while k < len(module.functions):
        fn = module.functions[k]
        called = {id(n.func) for n in A.walk(fn) if isinstance(n, gast.Call)}
        values = []
        for n in A.walk(fn):
            if isinstance(n, gast.Name) and isinstance(getattr(n, "diffc_global", None), FunctionInfo):
                info = n.diffc_global
                ref = module.primal_ref(info)
                n.id = ref.id
                n.diffc_generated = True
                del n.diffc_global
                if id(n) not in called and info.lifted_params:
                    values.append((n, info))
        if values:
            _ClosureValues({id(n): info for n, info in values}).visit(fn)
        k += 1


class _ClosureValues(gast.NodeTransformer):
    """Names of lifted functions used as values -> closure(name, captured...)."""

    def __init__(self, infos):
        self.infos = infos

    def visit_Name(self, node):
        info = self.infos.get(id(node))
        if info is None:
            return node
        from . import runtime, runtime_calls
        return A.call(A.global_ref(runtime_calls.closure, "closure"),
                      [node] + [A.name(p) for p in info.lifted_params])


def compile_module(module, label):
    resolve_local_functions(module)
    functions = module.functions
    sources = module.sources
    namespace = link(functions, module)
    text, line_map = to_source(functions, sources)
    filename = f"<diffc:{label}:{next(_counter)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    code = compile(text, filename, "exec")
    namespace["__builtins__"] = builtins
    namespace["__name__"] = "diffc_generated"
    exec(code, namespace)
    result = Emitted()
    result.source = text
    result.filename = filename
    result.namespace = namespace
    result.line_map = line_map
    sourcemap.register(filename, line_map, text)
    result.functions = {fn.name: namespace[fn.name] for fn in functions}
    return result
