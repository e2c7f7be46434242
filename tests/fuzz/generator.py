"""A seeded generator of random ordinary Python/NumPy programs.

`generate(seed)` returns a `Program`: the source of a module defining
helper functions and a main function ``f(x, v, w, n)`` (``x``, ``w`` floats,
``v`` a small float array, ``n`` a small int), the arguments to call it with,
and the parameters to differentiate with respect to.

Design
------
Programs are built as lists of source lines while the generator tracks the
variables in scope: float variables ``s0..``, arrays ``y0..`` (all of length
``N``), loop indices (ints, always valid indices into the arrays) and the
helpers defined so far.  Every variable is defined at the top of the function,
so any later statement may overwrite it, inside a branch or a loop, without
ever reading an undefined name.  Values stay moderate because most
expressions go through bounded functions (sin, tanh, exp(-a*a), a/(1+b*b),
log(1+a*a)); programs that still produce huge or non-finite values are
discarded by the harness.

The only non-smooth points are the data-dependent decisions: ``if``/``elif``
tests, ``while`` tests, conditional expressions and the tests guarding
``break``/``continue``/``return``.  Each such test is written between the
markers ``«`` and ``»``.  `Program.plain` drops the markers (the ordinary
program diffc differentiates); `Program.traced` turns them into calls of
``_T(...)``, which records every decision, so the harness can tell whether a
finite-difference probe took the same path as the base point and discard
programs whose finite differences cross a branch.

Features are chosen at random per statement: arithmetic on scalars and
arrays, smooth numpy/math functions, reductions (sum, mean, dot, ``@``),
overwritten variables and augmented assignment, element and slice reads,
in-place writes ``y[i] = ...``, ``y[i] += ...``, ``y[a:b] += ...``,
``if/elif/else``, conditional expressions, ``for`` over ``range`` (forwards,
backwards, int-parameter bounds), over an array and over ``enumerate``,
``while`` loops with a data-dependent test, nested loops, ``break``,
``continue``, early ``return``, calls to generated scalar helpers, array
helpers, tuple-returning helpers and a recursive helper.
"""

import random
from dataclasses import dataclass, field

import numpy as np

HEADER = "import math\n\nimport numpy as np\n\n"

TRACE_HEADER = '''
_TRACE = []


def _T(decision):
    """Record one data-dependent decision (the fuzzer's branch trace)."""
    _TRACE.append(bool(decision))
    return decision

'''


# Known diffc bug (tests/test_regressions.py): two names for one array, or a helper
# writing into its array argument, lose NumPy's shared-mutation semantics.  While it
# is open the generator copies instead of aliasing; set True to generate aliasing.
ALIASING_OK = False


@dataclass
class Program:
    seed: int
    source: str                 # with « » markers
    args: list
    wrt: tuple
    n_array: int
    features: set = field(default_factory=set)

    @property
    def plain(self):
        return self.source.replace("«", "").replace("»", "")

    @property
    def traced(self):
        body = self.source.replace("«", "_T(").replace("»", ")")
        return body.replace(HEADER, HEADER + TRACE_HEADER, 1)


class _Scope:
    def __init__(self, scalars, arrays, indices=(), in_loop=False, fn_top=True, has_n=False,
                 returns_tuple=False):
        self.has_n = has_n                # the int parameter n is visible
        self.returns_tuple = returns_tuple
        self.scalars = list(scalars)
        self.arrays = list(arrays)
        self.indices = list(indices)      # int loop variables, each valid in [0, N)
        self.in_loop = in_loop
        self.fn_top = fn_top

    def child(self, **kw):
        s = _Scope(self.scalars, self.arrays, self.indices, self.in_loop, self.fn_top, self.has_n,
                   self.returns_tuple)
        for k, v in kw.items():
            setattr(s, k, v)
        return s


class Generator:
    """One random program per seed (see module docstring)."""

    def __init__(self, seed, max_stmts=None):
        self.seed = seed
        self.r = random.Random(seed)
        self.N = self.r.choice([3, 4, 5])
        self.helpers = []          # (name, kind): kind in "ss", "as", "tuple", "rec"
        self.features = set()
        self.counter = 0
        self.budget = max_stmts if max_stmts is not None else self.r.randint(6, 16)

    # ----------------------------------------------------------- helpers
    def fresh(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p):
        return self.r.random() < p

    def const(self):
        return self.r.choice(["0.5", "1.3", "-0.7", "2.0", "0.25", "-1.1", "0.9", "3.0"])

    # ------------------------------------------------------- expressions
    def index(self, scope):
        """An int expression that is a valid index into a length-N array."""
        N = self.N
        opts = [str(self.r.randrange(-N, N))]
        for i in scope.indices:
            opts += [i, f"({i} + 1) % {N}", f"{N} - 1 - {i}"]
        if len(scope.indices) >= 2:
            a, b = self.r.sample(scope.indices, 2)
            opts.append(f"({a} + {b}) % {N}")
        return self.r.choice(opts)

    def scalar(self, scope, depth=2):
        r = self.r
        if depth <= 0 or self.chance(0.25):
            kind = r.random()
            if kind < 0.45 and scope.scalars:
                return r.choice(scope.scalars)
            if kind < 0.6:
                return self.const()
            if kind < 0.8 and scope.arrays:
                self.features.add("element_read")
                return f"{r.choice(scope.arrays)}[{self.index(scope)}]"
            if scope.arrays:
                return self.reduction(scope, depth)
            return self.const()
        a = self.scalar(scope, depth - 1)
        op = r.randrange(17)
        if op == 0:
            return f"({a} + {self.scalar(scope, depth - 1)})"
        if op == 1:
            return f"({a} - {self.scalar(scope, depth - 1)})"
        if op == 2:
            return f"({a}) * ({self.scalar(scope, depth - 1)})"
        if op == 3:
            b = self.scalar(scope, depth - 1)
            return f"({a}) / (1.0 + ({b}) ** 2)"
        if op == 4:
            return f"({a}) ** 2"
        if op == 5:
            return f"-({a})"
        if op == 6:
            return f"np.sin({a})"
        if op == 7:
            return f"np.tanh({a})"
        if op == 8:
            return f"np.exp(-({a}) ** 2)"
        if op == 9:
            return f"np.log(1.0 + ({a}) ** 2)"
        if op == 10:
            return f"np.sqrt(1.0 + ({a}) ** 2)"
        if op == 11:
            return f"math.cos({a})"
        if op == 12:
            return f"math.exp(0.5 * math.tanh({a}))"
        if op == 13:
            self.features.add("ternary")
            return f"({a} if «{self.cond(scope, 1)}» else {self.scalar(scope, depth - 1)})"
        if op == 14 and self.helpers:
            return self.helper_call(scope, depth)
        if op == 15:
            return f"({a}) * {self.const()}"
        return f"np.cos({a}) * {self.const()}"

    def reduction(self, scope, depth):
        r = self.r
        self.features.add("reduction")
        y = r.choice(scope.arrays)
        k = r.randrange(6)
        if k == 0:
            return f"np.sum({y})"
        if k == 1:
            return f"{y}.sum()"
        if k == 2:
            return f"np.mean({self.array(scope, depth - 1)})"
        if k == 3:
            return f"np.dot({y}, {r.choice(scope.arrays)})"
        if k == 4:
            return f"({y} @ ({self.array(scope, depth - 1)}))"
        return f"np.sum(np.sin({y}) * {r.choice(scope.arrays)})"

    def array(self, scope, depth=2):
        r = self.r
        if depth <= 0 or self.chance(0.3):
            y = r.choice(scope.arrays)
            if self.chance(0.15):
                self.features.add("reverse_slice")
                return f"{y}[::-1]"
            return y
        a = self.array(scope, depth - 1)
        op = r.randrange(11)
        if op == 0:
            return f"({a} + {self.array(scope, depth - 1)})"
        if op == 1:
            return f"({a}) * ({self.array(scope, depth - 1)})"
        if op == 2:
            return f"({a}) * ({self.scalar(scope, depth - 1)})"
        if op == 3:
            return f"({self.scalar(scope, depth - 1)} - ({a}))"
        if op == 4:
            return f"np.sin({a})"
        if op == 5:
            return f"np.tanh({a})"
        if op == 6:
            return f"np.exp(-({a}) ** 2)"
        if op == 7:
            return f"({a}) / (1.0 + ({self.array(scope, depth - 1)}) ** 2)"
        if op == 8:
            return f"np.log(1.0 + ({a}) ** 2)"
        if op == 9:
            return f"np.cos({a}) * {self.const()}"
        return f"({a}) ** 2"

    def cond(self, scope, depth=2):
        """A data-dependent test (without the markers)."""
        r = self.r
        k = r.randrange(3)
        if k == 0:
            return f"{self.scalar(scope, depth)} > {self.const()}"
        if k == 1:
            return f"{self.scalar(scope, depth)} < {self.scalar(scope, depth - 1)}"
        return f"np.sin({self.scalar(scope, depth - 1)}) > 0.0"

    def marked_cond(self, scope):
        c = f"«{self.cond(scope)}»"
        k = self.r.randrange(6)
        if k == 0:
            self.features.add("and_or")
            return f"{c} and «{self.cond(scope, 1)}»"
        if k == 1:
            self.features.add("and_or")
            return f"{c} or «{self.cond(scope, 1)}»"
        if k == 2:
            self.features.add("and_or")
            return f"not {c}"
        return c

    def helper_call(self, scope, depth):
        name, kind = self.r.choice(self.helpers)
        self.features.add("call_" + kind)
        if kind == "ss":
            return f"{name}({self.scalar(scope, depth - 1)}, {self.scalar(scope, depth - 1)})"
        if kind == "as" and scope.arrays:
            return f"{name}({self.array(scope, depth - 1)}, {self.scalar(scope, depth - 1)})"
        if kind == "rec":
            return f"{name}({self.scalar(scope, depth - 1)}, {self.r.randint(0, 4)})"
        if kind == "tuple":
            return f"{name}({self.scalar(scope, depth - 1)})[{self.r.randint(0, 1)}]"
        return self.const()

    # -------------------------------------------------------- statements
    def block(self, scope, indent, n):
        lines = []
        for _ in range(n):
            lines += self.statement(scope, indent)
        return lines or [indent + "pass"]

    def statement(self, scope, indent):
        r = self.r
        self.budget -= 1
        nested_ok = self.budget > 0 and len(indent) < 16
        roll = r.random()
        if roll < 0.22 or not scope.arrays and roll < 0.4:
            s = r.choice(scope.scalars)
            if self.chance(0.3):
                self.features.add("augassign")
                return [f"{indent}{s} {r.choice(['+=', '-=', '*='])} "
                        f"{self.scalar(scope) if not self.chance(0.5) else 'np.tanh(' + self.scalar(scope) + ')'}"]
            self.features.add("overwrite")
            return [f"{indent}{s} = {self.scalar(scope)}"]
        if roll < 0.32 and scope.arrays:
            self.features.add("array_assign")
            value = self.array(scope)
            if ALIASING_OK is False and value.split("[")[0] in scope.arrays:
                value = f"{value}.copy()"     # `y0 = y1` / `y0 = y1[::-1]` would alias (known bug)
            return [f"{indent}{r.choice(scope.arrays)} = {value}"]
        if roll < 0.45 and scope.arrays:
            y = r.choice(scope.arrays)
            op = r.choice(["=", "+=", "*=", "-="])
            self.features.add("inplace_item")
            value = self.scalar(scope)
            if op == "*=":
                value = f"np.tanh({value})"
            return [f"{indent}{y}[{self.index(scope)}] {op} {value}"]
        if roll < 0.53 and scope.arrays:
            self.features.add("inplace_slice")
            y = r.choice(scope.arrays)
            a = r.randrange(0, self.N)
            b = r.randrange(a + 1, self.N + 1)
            c = r.randrange(0, self.N - (b - a) + 1)
            value = (f"({self.array(scope, 1)})[{c}:{c + b - a}]" if self.chance(0.7)
                     else self.scalar(scope, 1))
            return [f"{indent}{y}[{a}:{b}] {r.choice(['=', '+=', '+=', '-='])} {value}"]
        if roll < 0.66 and nested_ok:
            return self.if_statement(scope, indent)
        if roll < 0.78 and nested_ok:
            return self.for_statement(scope, indent)
        if roll < 0.84 and nested_ok:
            return self.while_statement(scope, indent)
        if roll < 0.91 and scope.in_loop:
            self.features.add("break_continue")
            word = r.choice(["break", "continue"])
            return [f"{indent}if {self.marked_cond(scope)}:", f"{indent}    {word}"]
        if roll < 0.94:
            self.features.add("early_return")
            value = self.scalar(scope)
            if scope.returns_tuple:
                value = f"{value}, {self.scalar(scope, 1)}"
            return [f"{indent}if {self.marked_cond(scope)}:", f"{indent}    return {value}"]
        if self.helpers:
            name, kind = r.choice(self.helpers)
            if kind == "tuple":
                self.features.add("call_tuple")
                a, b = (r.sample(scope.scalars, 2) if len(scope.scalars) >= 2 else (scope.scalars[0],) * 2)
                return [f"{indent}{a}, {b} = {name}({self.scalar(scope)})"]
            return [f"{indent}{r.choice(scope.scalars)} = {self.helper_call(scope, 2)}"]
        return [f"{indent}{r.choice(scope.scalars)} = {self.scalar(scope)}"]

    def if_statement(self, scope, indent):
        self.features.add("if")
        inner = scope.child()
        lines = [f"{indent}if {self.marked_cond(scope)}:"]
        lines += self.block(inner, indent + "    ", self.r.randint(1, 3))
        if self.chance(0.3):
            self.features.add("elif")
            lines.append(f"{indent}elif {self.marked_cond(scope)}:")
            lines += self.block(inner, indent + "    ", self.r.randint(1, 2))
        if self.chance(0.6):
            lines.append(f"{indent}else:")
            lines += self.block(inner, indent + "    ", self.r.randint(1, 2))
        return lines

    def for_statement(self, scope, indent):
        r = self.r
        N = self.N
        i = self.fresh("i")
        k = r.randrange(7)
        if k == 0 and scope.arrays:
            self.features.add("for_array")
            e = self.fresh("e")
            head = f"for {e} in {r.choice(scope.arrays)}:"
            inner = scope.child(scalars=scope.scalars + [e], in_loop=True, fn_top=False)
        elif k == 1 and scope.arrays:
            self.features.add("for_enumerate")
            e = self.fresh("e")
            head = f"for {i}, {e} in enumerate({r.choice(scope.arrays)}):"
            inner = scope.child(scalars=scope.scalars + [e], indices=scope.indices + [i],
                                in_loop=True, fn_top=False)
        else:
            self.features.add("for_range")
            ranges = [f"range({N})", f"range(1, {N})", f"range({N} - 1, -1, -1)",
                      f"range(0, {N}, 2)", f"range({r.randint(1, 3)})"]
            rng = r.choice(ranges + (["range(n)"] if scope.has_n else []))
            head = f"for {i} in {rng}:"
            inner = scope.child(indices=scope.indices + [i], in_loop=True, fn_top=False)
        if scope.in_loop:
            self.features.add("nested_loop")
        return [indent + head] + self.block(inner, indent + "    ", r.randint(1, 3))

    def while_statement(self, scope, indent):
        self.features.add("while")
        if scope.in_loop:
            self.features.add("nested_loop")
        k = self.fresh("k")
        limit = self.r.randint(1, 6)
        inner = scope.child(in_loop=True, fn_top=False)
        lines = [f"{indent}{k} = 0", f"{indent}while ({self.marked_cond(scope)}) and {k} < {limit}:",
                 f"{indent}    {k} = {k} + 1"]
        return lines + self.block(inner, indent + "    ", self.r.randint(1, 3))

    # ----------------------------------------------------------- helpers
    def helper(self):
        r = self.r
        kind = r.choice(["ss", "ss", "as", "tuple", "rec"])
        name = self.fresh({"ss": "h", "as": "g", "tuple": "pair", "rec": "rec"}[kind])
        if kind == "rec":
            body = [f"def {name}(a, m):",
                    "    if m <= 0:",
                    "        return a",
                    f"    return {name}(np.sin(a) * {self.const()} + 0.3 * a, m - 1)"]
            self.helpers.append((name, kind))
            return body
        saved = self.budget
        self.budget = r.randint(1, 4)
        if kind == "as":
            params = "(u, a)"
            scope = _Scope(["a", "t"], ["u"])
            init = ["    t = a * 0.5"] + ([] if ALIASING_OK else ["    u = u.copy()"])
        else:
            params = "(a, b)" if kind == "ss" else "(a)"
            scope = _Scope(["a", "b", "t"] if kind == "ss" else ["a", "t"], [], returns_tuple=kind == "tuple")
            init = ["    t = a + 0.1"]
        lines = [f"def {name}{params}:"] + init
        while self.budget > 0:
            lines += self.statement(scope, "    ")
        if kind == "tuple":
            lines.append(f"    return {self.scalar(scope, 1)}, t * {self.const()}")
        else:
            lines.append(f"    return {self.scalar(scope, 1)} + t")
        self.budget = saved
        self.helpers.append((name, kind))
        return lines

    # ------------------------------------------------------------- main
    def program(self):
        r = self.r
        N = self.N
        chunks = []
        for _ in range(r.randint(0, 3)):
            chunks.append("\n".join(self.helper()))
        scalars = [f"s{j}" for j in range(r.randint(2, 4))]
        arrays = [f"y{j}" for j in range(r.randint(1, 3))]
        lines = ["def f(x, v, w, n):"]
        inits = ["x * 0.5", "np.sin(w)", "x + w", "v[0] * w", "np.tanh(x * w)", "0.3"]
        for j, s in enumerate(scalars):
            lines.append(f"    {s} = {inits[j % len(inits)] if j < 2 else r.choice(inits)}")
        ainits = ["v * x", f"np.zeros({N})", "v.copy()", "np.sin(v) + w", f"np.full({N}, x)"]
        if ALIASING_OK:
            ainits.append("v")
        for y in arrays:
            lines.append(f"    {y} = {r.choice(ainits)}")
        scope = _Scope(scalars, arrays + ["v"] if self.chance(0.2) else arrays, has_n=True)
        while self.budget > 0:
            lines += self.statement(scope, "    ")
        terms = [f"{s}" if self.chance(0.5) else f"np.tanh({s})" for s in scalars]
        terms += [f"np.sum({y} * {y})" if self.chance(0.5) else f"np.sum(np.sin({y}))" for y in arrays]
        lines.append("    return " + " + ".join(terms))
        chunks.append("\n".join(lines))
        source = HEADER + "\n\n".join(chunks) + "\n"
        x = round(r.uniform(-1.5, 1.5), 3)
        w = round(r.uniform(-1.5, 1.5), 3)
        v = np.round(np.array([r.uniform(-1.5, 1.5) for _ in range(N)]), 3)
        return Program(self.seed, source, [x, v, w, r.randint(0, 3)], (0, 1, 2), N, self.features)


def generate(seed):
    """The program for one seed (deterministic)."""
    return Generator(seed).program()


if __name__ == "__main__":  # pragma: no cover - manual inspection
    import sys
    print(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0).plain)
