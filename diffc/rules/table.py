"""The table of every function with a derivative rule, from the registry.

Input: the rule registry (`diffc.rules`, built-in rules loaded).
Output: `rows()` — one row per public primitive (NumPy functions and ufuncs,
``math``, builtins, operators, array methods and attributes; the private helpers
of the rule library are left out) with the modes it has a rule in and the order
to which its derivative is available; `markdown()` renders them.

``python -m diffc.rules.table`` prints the table; ``--readme README.md`` rewrites
the part of README.md between ``<!-- rules:start -->`` and ``<!-- rules:end -->``
(tests/test_rule_table.py checks that README is current).

The order is computed from the rules themselves, not declared: a rule's generated
code is differentiated again through the rules of what it calls, so

    order(P) = 1 + min(order(c) for every callable c the rules of P call),

where a call of something with no rule (and not registered as carrying no
derivative) counts 0, and a helper diffc reads as code (``__diffc_transparent__``,
an ``implemented_by`` implementation) counts the least order of what its body calls.  Operators and constants count as differentiable to any
order; a value at or above `CAP` is shown as "any" (rules that only call each
other, like the linear maps whose adjoint and tangent are each other).  It is
an upper bound on what may fail at run time (a helper may refuse an input, e.g.
repeated eigenvalues), never a claim the tests have not checked for the rules
they sample.
"""

import builtins
import math
import operator
import sys

import gast
import numpy as np

from . import ADJOINTS, NONDIFF, TANGENTS

CAP = 4


def load_builtin_rules():
    """Import every module of built-in rules (the list pipeline.load_builtin_rules imports)."""
    from . import builtins_rules, math_rules, numpy_rules, operators, syntax  # noqa: F401
    from . import called_rules, complex_rules, container_rules, linalg_decomp_rules, linear_rules  # noqa: F401
    from . import dynamic_rules  # noqa: F401
    try:
        import scipy  # noqa: F401  (optional: SciPy's rules are listed when it imports)
    except ImportError:
        return
    from . import scipy_rules  # noqa: F401
_OPERATORS = {operator.add: "a + b", operator.sub: "a - b", operator.mul: "a * b", operator.truediv: "a / b",
              operator.pow: "a ** b", operator.neg: "-a", operator.pos: "+a", operator.matmul: "a @ b",
              operator.floordiv: "a // b", operator.mod: "a % b", operator.getitem: "a[i]",
              operator.abs: "abs(a)"}


def _display(key):
    """The name a user writes for the primitive, or None for a private helper."""
    if isinstance(key, tuple):
        kind, name = key[0], key[1]
        return f"x.{name}()" if kind == "method" else f"x.{name}" if kind == "attr" else None
    if key in _OPERATORS:
        return _OPERATORS[key]
    name = getattr(key, "__name__", None)
    if name is None or name.startswith("_"):
        return None
    module = getattr(key, "__module__", None) or ""
    if isinstance(key, np.ufunc):
        return f"np.{name}"
    if module.startswith("diffc"):
        return None
    if module.startswith("numpy"):
        for prefix, shown in (("numpy.fft", "np.fft."), ("numpy.linalg", "np.linalg."),
                              ("numpy.lib._stride_tricks", "np.lib.stride_tricks."),
                              ("numpy.lib.stride_tricks", "np.lib.stride_tricks.")):
            if module.startswith(prefix):
                return shown + name
        return f"np.{name}"
    if key is getattr(math, name, None):
        return f"math.{name}"
    if key is getattr(builtins, name, None):
        return name
    if module.startswith("scipy"):
        return ".".join([part for part in module.split(".") if not part.startswith("_")] + [name])
    if module == "operator":
        return f"operator.{name}"
    return f"{module}.{name}" if module else name


def _resolve(node, rule):
    """The object a callee expression of a rule denotes, a ("method", name) key, or None."""
    if isinstance(node, gast.Name):
        if hasattr(node, "diffc_global"):
            return node.diffc_global
        if node.id in rule.globals:
            return rule.globals[node.id]
        return getattr(builtins, node.id, None)
    if isinstance(node, gast.Attribute):
        base = _resolve(node.value, rule) if isinstance(node.value, (gast.Name, gast.Attribute)) else None
        if base is not None and not isinstance(base, tuple) and hasattr(base, node.attr) \
                and (isinstance(base, type(np)) or isinstance(base, type)):
            return getattr(base, node.attr)
        return ("method", node.attr)
    return None


def _callees(rule):
    """Everything a rule's body calls (objects or method keys); `rule` is a parsed Rule."""
    out = []
    if getattr(rule, "body", None) is None:      # a rule called at run time (not inlined)
        fn = getattr(rule, "fn", None)
        if getattr(fn, "__diffc_transparent__", False):
            return [fn]                          # ... whose body diffc reads for higher order
        return [_OPAQUE]                         # ... whose callees are unknown: first order only
    for stmt in rule.body:
        for n in gast.walk(stmt):
            if isinstance(n, gast.Call):
                target = _resolve(n.func, rule)
                if target is not None:
                    out.append(target)
    return out


def _function_callees(fn):
    """Everything the body of a plain function calls (objects or method keys), or None when
    its source cannot be read."""
    import inspect
    import textwrap
    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    node = gast.parse(text).body[0]

    class _Body:
        body = node.body
        globals = fn.__globals__
    return _callees(_Body)


# Calls whose results carry no derivative whatever their arguments (shapes, flags, fresh
# constant arrays): inside a helper read as code they never need a rule.
_CONSTANT_RESULTS = {np.shape, np.ndim, np.size, np.eye, np.zeros, np.ones, np.arange, np.errstate, np.any,
                     np.all, np.iscomplexobj, isinstance, callable, getattr, hasattr, range}


def _transparent(c):
    """A helper diffc differentiates by reading its body (no rule of its own), or the
    implementation registered for a primitive, or None."""
    from . import IMPLEMENTATIONS
    try:
        impl = IMPLEMENTATIONS.get(c)
    except TypeError:
        return None
    if impl is not None:
        return impl
    if getattr(c, "__diffc_transparent__", False) and c not in ADJOINTS and c not in TANGENTS:
        return c
    return None


def _OPAQUE():
    """Stands for the unknown callees of a rule called at run time (it has no rule itself)."""


def _hashable(key):
    try:
        hash(key)
        return True
    except TypeError:
        return False


def orders():
    """{key: order} for every key with an adjoint or tangent rule (CAP standing for any)."""
    load_builtin_rules()
    keys = set(ADJOINTS) | set(TANGENTS)
    calls = {}
    for key in keys:
        found = []
        for table in (ADJOINTS, TANGENTS):
            rule = table.get(key)
            if rule is None:
                continue
            found += [c for c in _callees(rule) if _hashable(c)]
        calls[key] = found
    # Helpers read as code (transparent, implementations): order = least order of their callees.
    bodies = {}
    pending = [c for found in calls.values() for c in found]
    while pending:
        c = pending.pop()
        fn = _transparent(c) if _hashable(c) else None
        if fn is None or c in bodies:
            continue
        callees = _function_callees(fn)
        bodies[c] = [x for x in callees if _hashable(x) and x not in _CONSTANT_RESULTS] \
            if callees is not None else [_OPAQUE]
        pending.extend(bodies[c])
    order = {key: 0 for key in keys}
    order.update({c: 0 for c in bodies if c not in order})

    def of(c):
        if c in NONDIFF or isinstance(c, type) and c in (int, bool, str, len, range, tuple, list):
            return CAP
        if c in order:
            return order[c]
        if isinstance(c, tuple) and c[0] == "method":
            return CAP if c[1] in ("copy", "astype", "reshape", "__getitem__") else 0
        return 0 if callable(c) and not isinstance(c, type) else CAP

    changed = True
    while changed:
        changed = False
        for c, callees in bodies.items():
            if c in keys:
                continue
            new = min([CAP] + [of(x) for x in callees if x is not c])
            if new > order[c]:
                order[c] = new
                changed = True
        for key in keys:
            # a primitive with one mode only has first order at most (the other mode is missing)
            both = key in ADJOINTS and key in TANGENTS
            new = min(CAP, 1 + min([of(c) for c in calls[key]] + [CAP]))
            new = new if both else min(new, 1)
            if new > order[key]:
                order[key] = new
                changed = True
    return order


def rows():
    """[(name, reverse?, forward?, order)] for the public primitives, sorted by name."""
    load_builtin_rules()
    order = orders()
    out = {}
    for key in set(ADJOINTS) | set(TANGENTS):
        name = _display(key)
        if name is None:
            continue
        row = (name, key in ADJOINTS, key in TANGENTS, order[key])
        out[name] = row if name not in out else min(out[name], row, key=lambda r: r[3])
    return sorted(out.values(), key=lambda r: (r[0].lstrip("x.").lower(), r[0]))


def markdown():
    lines = ["| function | reverse | forward | order |", "|---|:-:|:-:|:-:|"]
    for name, rev, fwd, n in rows():
        shown = "any" if n >= CAP else str(n)
        lines.append(f"| `{name}` | {'yes' if rev else 'no'} | {'yes' if fwd else 'no'} | {shown} |")
    return "\n".join(lines)


START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def readme_section():
    body = markdown()
    n = body.count("\n") - 1
    return (f"{START}\n{n} functions, methods and operators have a rule "
            "(`python -m diffc.rules.table --readme README.md` writes this table). *order* is how "
            "many times the derivative can be taken, in any mix of modes, computed from the rules: "
            "one more than the least order of anything the adjoint or tangent rule calls, on every "
            "branch of the rule (a rarely taken branch, such as a keyword argument's, may lower "
            "it); *any* means the rules only call rules again. Beyond it diffc raises "
            "`NoDerivativeRule` naming the helper.\n\n"
            f"{body}\n{END}")


def update_readme(path):
    text = open(path, encoding="utf-8").read()
    start, end = text.index(START), text.index(END) + len(END)
    new = text[:start] + readme_section() + text[end:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(new)


def main(argv):
    if len(argv) == 2 and argv[0] == "--readme":
        update_readme(argv[1])
    else:
        print(markdown())


if __name__ == "__main__":
    main(sys.argv[1:])
