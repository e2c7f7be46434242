"""The layer order of DESIGN.md §6, checked on the import graph (imports inside
functions included): no module imports one of a later layer, no import cycle,
and no module imports another module's private (`_x`) names."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "diffc"

# Lowest first.  A module may import modules of its own layer or of earlier ones.
LAYERS = [
    ("utilities", ["errors", "naming", "ast_util", "sourcemap", "highlight", "runtime", "runtime_scatter", "runtime_floats", "runtime_pure", "runtime_named", "runtime_calls", "runtime_tuples", "runtime_checks", "runtime_try", "early_defaults",
                   "checkpoint_runtime",
                   "effects", "try_paths"]),
    ("front end", ["parse", "fence", "transform.desugar", "transform.lazy_iterators", "transform.list_insert", "transform.dict_setdefault", "transform.dict_update", "transform.container_pops", "transform.local_imports", "transform.sort_in_place", "transform.view_helpers", "transform.local_classes", "transform.class_captures", "transform.nonlocal_state", "transform.try_atomicity", "transform.try_with",
                   "transform.starred", "transform.explicit_iterators", "transform.anf", "transform.global_writes", "template"]),
    ("analysis", ["analysis", "checks"]),
    ("rules", ["rules"]),
    ("transforms", ["transform"]),
    ("optimizer", ["optimize"]),
    ("emit", ["emit", "numba_types", "numba_loops", "numba_form", "jit_runtime"]),
    ("compile cache", ["pipeline", "compile_cache"]),
    ("public API", ["dispatch", "library_entry", "api", "forward_api", "dynamic", "entry", "rule_check", "cli", "export", "__init__",
                    "__main__", "jit", "jit_compile", "jit_api", "jit_export"]),
]


def module_name(path):
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(name):
    best, best_len = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = index, len(prefix)
    return best


def resolve(module, level, target):
    """Absolute diffc-relative name of `from <level dots><target> import ...` in module."""
    package = module.split(".")
    is_package = (PACKAGE / pathlib.Path(*package) / "__init__.py").exists() if module else True
    base = package if is_package else package[:-1]
    if level > 1:
        base = base[:len(base) - (level - 1)]
    return ".".join([p for p in base if p] + ([target] if target else []))


def imports_of(path):
    """(imported diffc module, imported names, line) for every import in the file."""
    module = module_name(path)
    tree = ast.parse(path.read_text())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = resolve(module if module != "__init__" else "", node.level, node.module)
            elif node.module and node.module.startswith("diffc"):
                target = node.module[len("diffc."):] if node.module != "diffc" else ""
            else:
                continue
            names = [a.name for a in node.names]
            # `from . import x` imports the submodule x
            subs = [n for n in names if (PACKAGE / pathlib.Path(*(target.split(".") if target else [])) / n).exists()
                    or (PACKAGE / pathlib.Path(*(target.split(".") if target else [])) / (n + ".py")).exists()]
            for n in subs:
                out.append(((target + "." if target else "") + n, [], node.lineno))
            rest = [n for n in names if n not in subs]
            if rest:
                out.append((target or "__init__", rest, node.lineno))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("diffc."):
                    out.append((a.name[len("diffc."):], [], node.lineno))
    return module, out


def all_files():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def graph():
    edges = {}
    for path in all_files():
        module, imports = imports_of(path)
        edges.setdefault(module, [])
        for target, names, line in imports:
            edges[module].append((target, names, line))
    return edges


def test_every_module_has_a_layer():
    missing = [module_name(p) for p in all_files() if layer_of(module_name(p)) is None]
    assert not missing, f"modules with no layer in tests/test_layers.py: {missing}"


def test_no_upward_import():
    upward = []
    for module, imports in graph().items():
        mine = layer_of(module)
        for target, _, line in imports:
            theirs = layer_of(target)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"diffc/{module}:{line} ({LAYERS[mine][0]}) imports {target} ({LAYERS[theirs][0]})")
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_no_import_cycle():
    edges = {m: {t for t, _, _ in imps if t != m} for m, imps in graph().items()}
    # Tarjan's strongly connected components
    index, low, stack, on_stack, components = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))
    for v in list(edges):
        if v not in index:
            visit(v)
    # A package's __init__ importing its own submodules (and they importing siblings
    # through it) is not a cycle of layers.
    assert not components, f"import cycles: {components}"


def test_no_private_name_crosses_a_module():
    crossing = []
    for module, imports in graph().items():
        for target, names, line in imports:
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and target != module:
                crossing.append(f"diffc/{module}:{line} imports {private} from {target}")
    assert not crossing, "private names imported across modules:\n" + "\n".join(crossing)


def test_no_private_attribute_of_another_module():
    """`api._cache`-style reads of a diffc module's private names."""
    uses = []
    for path in all_files():
        tree = ast.parse(path.read_text())
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("diffc")):
                modules |= {a.asname or a.name for a in node.names}
            elif isinstance(node, ast.Import):
                modules |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("diffc")}
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id in modules and node.attr.startswith("_") \
                    and not node.attr.startswith("__"):
                uses.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.value.id}.{node.attr}")
    assert not uses, "private attributes of other modules:\n" + "\n".join(uses)


MAX_LINES = 1000


def test_no_file_over_a_thousand_lines():
    """A module a newcomer can read: split a longer one along its seams (rules by family,
    passes by file)."""
    long = [f"{p.relative_to(PACKAGE.parent)}: {n} lines" for p in all_files()
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert not long, f"files over {MAX_LINES} lines:\n" + "\n".join(long)


MAX_FUNCTION_LINES = 80


def test_no_function_over_eighty_lines_without_a_reason():
    """A function longer than 80 lines says why in its docstring ("Long because ...")."""
    long = []
    for path in all_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                reason = "long because" in (ast.get_docstring(node) or "").lower()
                if length > MAX_FUNCTION_LINES and not reason:
                    long.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}: {length} lines")
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines with no reason in their docstring:\n" + \
        "\n".join(long)


def test_module_implements_the_transforms_context():
    """pipeline.Module offers every member of transform/context.CompilationContext, with the
    protocol's parameters (the transforms call back into it only through those)."""
    import inspect

    from diffc.pipeline import Module
    from diffc.transform.context import CompilationContext

    module = Module()
    assert isinstance(module, CompilationContext)
    for name, member in vars(CompilationContext).items():
        if name.startswith("_") or not callable(member):
            continue
        expected = list(inspect.signature(member).parameters)
        got = list(inspect.signature(getattr(Module, name)).parameters)
        assert got == expected, f"Module.{name}{got} != CompilationContext.{name}{expected}"


def test_one_pass_per_file():
    """Each optimizer pass of pipeline.OPTIMIZER_PASSES is the function of its own file,
    diffc/optimize/<pass name>.py, whose module docstring opens with the pass's name
    and states its input and output invariants."""
    from diffc.pipeline import OPTIMIZER_PASSES

    wrong = []
    for step in OPTIMIZER_PASSES:
        path = PACKAGE / "optimize" / f"{step.name}.py"
        if step.function.__module__ != f"diffc.optimize.{step.name}" or not path.exists():
            wrong.append(f"{step.name}: {step.function.__module__}.{step.function.__name__}")
            continue
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if not doc.startswith(step.name + ":") or "Input" not in doc or "Output" not in doc:
            wrong.append(f"{path.relative_to(PACKAGE.parent)}: docstring must open with '{step.name}:' "
                         "and state Input and Output")
    assert not wrong, "passes not in a file of their own:\n" + "\n".join(wrong)
