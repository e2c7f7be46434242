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

from . import shapes_d, shapes_e, shapes_f, shapes_g, shapes_h, shapes_i, shapes_j, shapes_k, shapes_l, shapes_m, shapes_n
from . import shapes_o, shapes_p, shapes_q, shapes_r, shapes_s, shapes_t, shapes_u

HEADER = "import math\n\nimport numpy as np\n\n"

TRACE_HEADER = '''
_TRACE = []


def _T(decision):
    """Record one data-dependent decision (the fuzzer's branch trace)."""
    _TRACE.append(bool(decision))
    return decision


def _quotient(a, b):
    return tuple(np.atleast_1d(np.floor(np.divide(a, b))).tolist())


def _MOD(a, b):
    """a % b, recording floor(a / b): a probe that changes it crosses a jump."""
    _TRACE.append(_quotient(a, b))
    return a % b


def _FDIV(a, b):
    """a // b, recording its value (the derivative is 0 between the jumps)."""
    _TRACE.append(_quotient(a, b))
    return a // b

'''

# Float `%` and `//` are written ‹a⁒b› and ⸨a⁄b›: the plain program reads
# ``((a) % (b))`` / ``((a) // (b))``, the traced one ``_MOD((a), (b))`` /
# ``_FDIV((a), (b))`` (their jumps are data-dependent decisions too).
PLAIN_MARKERS = {"«": "", "»": "", "‹": "((", "⸨": "((", "⁒": ") % (", "⁄": ") // (", "›": "))"}
TRACED_MARKERS = {"«": "_T(", "»": ")", "‹": "_MOD((", "⸨": "_FDIV((", "⁒": "), (", "⁄": "), (",
                  "›": "))"}


def _translate(source, table):
    return "".join(table.get(ch, ch) for ch in source)


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
        return _translate(self.source, PLAIN_MARKERS)

    @property
    def traced(self):
        body = _translate(self.source, TRACED_MARKERS)
        return body.replace(HEADER, HEADER + TRACE_HEADER, 1)


# The shapes of code that found wrong gradients and crashes in diffc (issue 15).
# Each program enables a random subset (deterministic by seed); an enabled shape
# is then emitted often.  The names are the keys of the runner's per-shape counts
# (a program counts for a shape only if the shape is in its source).
SHAPES = (
    "view_inplace",      # slice reads and writes around in-place writes
    "view_bound",        # t = y[a:b] bound, y written, t read (NumPy: t sees the write)
    "build_helper",      # a helper that builds and writes the array it returns
    "index_computed",    # indices from x.shape, len, loop variables and arithmetic on them
    "elem_read_write",   # c = y[k]; y[j] = ...; ... c
    "stencil",           # double-buffered stencil updates
    "param_list",        # lists of (W, b) tuples, loops over (possibly empty) slices of them
    "bare_call",         # h(a) as a statement
    "mod_floordiv",      # float % and //
    "np_r_c",            # np.r_ / np.c_
    "mixed_helper",      # one helper called with floats and with arrays
    "narrow_return",     # f returns one scalar, one element, or one of each (not a sum of everything)
    "classes_b",         # FINDINGS_b.md: shared seed of a build helper, rebinding the iterated array,
                         # broadcasting products whose adjoint may stay zero (b_statement below)
)
SHAPE_PROBABILITY = 0.4      # per program, per shape
SHAPE_STATEMENT_PROBABILITY = 0.35


class _Scope:
    def __init__(self, scalars, arrays, indices=(), in_loop=False, fn_top=True, has_n=False,
                 returns="scalar", ints=(), params=None, in_helper=False):
        self.has_n = has_n                # the int parameter n is visible
        self.returns = returns            # "scalar" | "tuple" | "array": what a `return` gives
        self.scalars = list(scalars)
        self.arrays = list(arrays)
        self.indices = list(indices)      # int loop variables, each valid in [0, N)
        self.ints = list(ints)            # int names equal to N (nv = v.shape[0])
        self.params = params              # None or (name, length, matrix?) of a list of (W, b)
        self.in_loop = in_loop
        self.fn_top = fn_top
        self.in_helper = in_helper

    @property
    def returns_tuple(self):
        return self.returns == "tuple"

    def child(self, **kw):
        s = _Scope(self.scalars, self.arrays, self.indices, self.in_loop, self.fn_top, self.has_n,
                   self.returns, self.ints, self.params, self.in_helper)
        for k, v in kw.items():
            setattr(s, k, v)
        return s


class Generator:
    """One random program per seed (see module docstring)."""

    def __init__(self, seed, max_stmts=None, shapes=None, exclude=()):
        self.seed = seed
        self.r = random.Random(seed)
        self.N = self.r.choice([3, 4, 5])
        self.helpers = []          # (name, kind): kind in "ss", "as", "tuple", "rec", "build", "mixed"
        self.features = set()
        self.counter = 0
        self.budget = max_stmts if max_stmts is not None else self.r.randint(6, 16)
        # Drawn from the program's own random stream, so a seed always gives one program.
        # "classes_b" is not drawn (so that every seed keeps its program): --shapes and
        # test_fuzz_shapes_small (shapes=SHAPES) enable it.
        drawn = {s for s in SHAPES if s != "classes_b" and self.r.random() < SHAPE_PROBABILITY}
        self.shapes = (drawn if shapes is None else set(shapes)) - set(exclude)
        self.n_value = self.r.randint(0, 3)
        self.mixed_arg_kinds = set()
        self.view_written = []     # arrays of f written through a slice (narrow_return reads them)
        self.init_build_shared(seed, shapes, exclude)
        shapes_d.init(self, seed, shapes, exclude)
        shapes_e.init(self, seed, shapes, exclude)
        shapes_f.init(self, seed, shapes, exclude)
        shapes_g.init(self, seed, shapes, exclude)
        shapes_h.init(self, seed, shapes, exclude)
        shapes_i.init(self, seed, shapes, exclude)
        shapes_j.init(self, seed, shapes, exclude)
        shapes_k.init(self, seed, shapes, exclude)
        shapes_l.init(self, seed, shapes, exclude)
        shapes_m.init(self, seed, shapes, exclude)
        shapes_n.init(self, seed, shapes, exclude)
        shapes_o.init(self, seed, shapes, exclude)
        shapes_p.init(self, seed, shapes, exclude)
        shapes_q.init(self, seed, shapes, exclude)
        shapes_r.init(self, seed, shapes, exclude)
        shapes_s.init(self, seed, shapes, exclude)
        shapes_t.init(self, seed, shapes, exclude)
        shapes_u.init(self, seed, shapes, exclude)

    # ----------------------------------------------------------- helpers
    def fresh(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p):
        return self.r.random() < p

    def on(self, shape):
        return shape in self.shapes

    def const(self):
        return self.r.choice(["0.5", "1.3", "-0.7", "2.0", "0.25", "-1.1", "0.9", "3.0"])

    def helpers_of(self, *kinds):
        return [h for h in self.helpers if h[1] in kinds]

    # ------------------------------------------------------- expressions
    def length(self, scope):
        """An int expression equal to N: nv (= v.shape[0]), len(y) or y.shape[0]."""
        opts = []
        for name in scope.ints:
            opts.append((name, "index_shape"))
        for y in scope.arrays:
            opts += [(f"len({y})", "index_len"), (f"{y}.shape[0]", "index_shape")]
        text, feature = self.r.choice(opts)
        self.features.add(feature)
        return text

    def index(self, scope):
        """An int expression that is a valid index into a length-N array."""
        N = self.N
        opts = [str(self.r.randrange(-N, N))]
        for i in scope.indices:
            opts += [i, f"({i} + 1) % {N}", f"{N} - 1 - {i}"]
        if len(scope.indices) >= 2:
            a, b = self.r.sample(scope.indices, 2)
            opts.append(f"({a} + {b}) % {N}")
        if self.on("index_computed") and (scope.ints or scope.arrays) and self.chance(0.6):
            L = self.length(scope)
            computed = [f"{L} - 1", f"{L} - 2" if N > 2 else f"{L} - 1", f"({L} - 1) // 2", f"-{L}"]
            for i in scope.indices:
                computed += [f"{L} - 1 - {i}", f"({i} + 1) % {L}", f"{i} // 2", f"({i} * 3) % {L}",
                             f"min({i} + 1, {L} - 1)", f"max({i} - 1, 0)", f"-({i} % 2) - 1",
                             f"({i} + {L} - 1) % {L}"]
            choice = self.r.choice(computed)
            if scope.indices and any(i in choice for i in scope.indices):
                self.features.add("index_loopvar_arith")
            return choice
        return self.r.choice(opts)

    def divisor(self, scope):
        r = self.r
        k = r.randrange(5)
        if k == 0:
            return r.choice(["1.3", "0.9", "2.0", "0.7"])
        if k == 1:
            return r.choice(["-1.3", "-0.7", "-2.0"])
        if k == 2:
            return f"(1.0 + ({self.scalar(scope, 0)}) ** 2)"
        if k == 3:
            return f"-(0.5 + ({self.scalar(scope, 0)}) ** 2)"
        return f"(1.5 + np.sin({self.scalar(scope, 0)}))"

    def mod_expr(self, a, scope, array=False):
        """a % d or (a // d) * b (float), marked so that the trace records their jumps."""
        if self.chance(0.6):
            self.features.add("float_mod_array" if array else "float_mod")
            return f"‹{a}⁒{self.divisor(scope)}›"
        self.features.add("float_floordiv_array" if array else "float_floordiv")
        return f"⸨{a}⁄{self.divisor(scope)}› * {self.scalar(scope, 0)}"

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
        extra = []
        if self.on("mod_floordiv"):
            extra.append("mod")
        if self.on("np_r_c") and scope.arrays:
            extra.append("rc")
        if self.helpers and self.on("mixed_helper") and self.helpers_of("mixed"):
            extra.append("mixed")
        if extra and self.chance(0.2):
            k = r.choice(extra)
            if k == "mod":
                return self.mod_expr(self.scalar(scope, depth - 1), scope)
            if k == "rc":
                return self.rc_scalar(scope, depth)
            return self.mixed_call(scope, depth, want_array=False)
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

    def rc_scalar(self, scope, depth):
        r = self.r
        A, B = r.choice(scope.arrays), r.choice(scope.arrays)
        k = r.randrange(4)
        if k == 0:
            self.features.add("np_r")
            return f"np.sum(np.r_[{A}, {B}] * {self.const()})"
        if k == 1:
            self.features.add("np_r")
            s = self.scalar(scope, depth - 1)
            return f"np.dot(np.r_[{A}, {s}], np.r_[{B}, {self.const()}])"
        if k == 2:
            self.features.add("np_c")
            return f"np.sum(np.c_[{A}, {B}] * {self.const()})"
        self.features.add("np_c")
        return f"np.sum(np.c_[{A}, np.sin({B})] @ np.array([{self.const()}, {self.const()}]))"

    def rc_array(self, scope, depth):
        r = self.r
        A, B = r.choice(scope.arrays), r.choice(scope.arrays)
        N = self.N
        k = r.randrange(5)
        if k == 0:
            self.features.add("np_r")
            return f"np.r_[{A}[1:], {self.scalar(scope, depth - 1)}]"
        if k == 1:
            self.features.add("np_r")
            return f"np.r_[{self.scalar(scope, depth - 1)}, {A}[:-1]]"
        if k == 2:
            self.features.add("np_r")
            c = r.randrange(1, N)
            return f"np.r_[{A}[:{c}], {B}[{c}:]]"
        if k == 3:
            self.features.add("np_c")
            return f"(np.c_[{A}, {B}] @ np.array([{self.const()}, {self.const()}]))"
        self.features.add("np_c")
        return f"np.c_[{A}, {B}][:, {r.randint(0, 1)}]"

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
        extra = []
        if self.on("mod_floordiv"):
            extra.append("mod")
        if self.on("np_r_c"):
            extra.append("rc")
        if self.helpers_of("mixed"):
            extra.append("mixed")
        if self.helpers_of("build"):
            extra.append("build")
        if extra and self.chance(0.2):
            k = r.choice(extra)
            if k == "mod":
                return self.mod_expr(self.array(scope, depth - 1), scope, array=True)
            if k == "rc":
                return self.rc_array(scope, depth)
            if k == "mixed":
                return self.mixed_call(scope, depth, want_array=True)
            return self.build_call(scope, depth)
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

    def _note_call(self, scope):
        if scope.in_helper:
            self.features.add("helper_calls_helper")

    def mixed_call(self, scope, depth, want_array):
        name, _ = self.r.choice(self.helpers_of("mixed"))
        self._note_call(scope)
        self.features.add("call_mixed")
        if not want_array or not scope.arrays:
            self.mixed_arg_kinds.add("float")
            return f"{name}({self.scalar(scope, depth - 1)}, {self.scalar(scope, depth - 1)})"
        self.mixed_arg_kinds.add("array")
        k = self.r.randrange(3)
        a, s = self.array(scope, depth - 1), self.scalar(scope, depth - 1)
        if k == 0:
            return f"{name}({a}, {s})"
        if k == 1:
            return f"{name}({s}, {a})"
        return f"{name}({a}, {self.array(scope, depth - 1)})"

    def build_call(self, scope, depth):
        name, _ = self.r.choice(self.helpers_of("build"))
        self.features.add("build_call")
        self._note_call(scope)
        return f"{name}({self.scalar(scope, depth - 1)})"

    def helper_call(self, scope, depth):
        name, kind = self.r.choice(self.helpers)
        self._note_call(scope)
        self.features.add("call_" + kind)
        if kind == "ss":
            return f"{name}({self.scalar(scope, depth - 1)}, {self.scalar(scope, depth - 1)})"
        if kind == "as" and scope.arrays:
            return f"{name}({self.array(scope, depth - 1)}, {self.scalar(scope, depth - 1)})"
        if kind == "rec":
            return f"{name}({self.scalar(scope, depth - 1)}, {self.r.randint(0, 4)})"
        if kind == "tuple":
            return f"{name}({self.scalar(scope, depth - 1)})[{self.r.randint(0, 1)}]"
        if kind == "build":
            self.features.add("build_call")
            return f"np.sum({name}({self.scalar(scope, depth - 1)}) * {self.const()})"
        if kind == "mixed":
            return self.mixed_call(scope, depth, want_array=False)
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
        if self.shared_helper and self.r2.random() < 0.25:
            lines = self.build_shared_statement(scope, indent)
            if lines:
                return lines
        lines = shapes_d.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_e.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_f.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_g.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_h.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_i.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_j.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_k.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_l.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_m.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_n.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_o.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_p.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_q.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_r.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_s.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_t.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        lines = shapes_u.statement(self, scope, indent, nested_ok)
        if lines:
            return lines
        if self.shapes and self.chance(SHAPE_STATEMENT_PROBABILITY):
            lines = self.shape_statement(scope, indent, nested_ok)
            if lines:
                return lines
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
            return [f"{indent}if {self.marked_cond(scope)}:", f"{indent}    return {self.return_value(scope)}"]
        if self.helpers:
            name, kind = r.choice(self.helpers)
            if kind == "tuple":
                self.features.add("call_tuple")
                a, b = (r.sample(scope.scalars, 2) if len(scope.scalars) >= 2 else (scope.scalars[0],) * 2)
                return [f"{indent}{a}, {b} = {name}({self.scalar(scope)})"]
            return [f"{indent}{r.choice(scope.scalars)} = {self.helper_call(scope, 2)}"]
        return [f"{indent}{r.choice(scope.scalars)} = {self.scalar(scope)}"]

    def return_value(self, scope):
        if scope.returns == "tuple":
            return f"{self.scalar(scope)}, {self.scalar(scope, 1)}"
        if scope.returns == "array":
            return f"{scope.arrays[0]} * {self.const()}"
        return self.scalar(scope)

    # ------------------------------------------------------------ shapes
    def shape_statement(self, scope, indent, nested_ok):
        """A statement of one of the enabled SHAPES that fits the scope, or None."""
        makers = {
            "view_inplace": self.view_inplace,
            "view_bound": self.view_bound,
            "build_helper": self.build_statement,
            "elem_read_write": self.elem_read_write,
            "stencil": self.stencil,
            "param_list": self.param_loop,
            "bare_call": self.bare_call,
            "classes_b": lambda scope, indent, nested_ok: b_statement(self, scope, indent, nested_ok),
        }
        fitting = [s for s in sorted(self.shapes) if s in makers]
        if "view_inplace" in fitting:
            fitting.append("view_inplace")      # the class that hid most wrong gradients: twice as often
        self.r.shuffle(fitting)
        for shape in fitting:
            lines = makers[shape](scope, indent, nested_ok)
            if lines:
                return lines
        return None

    def view_inplace(self, scope, indent, nested_ok):
        if not scope.arrays:
            return None
        r, N = self.r, self.N
        A, B = r.choice(scope.arrays), r.choice(scope.arrays)
        if not scope.in_helper:
            self.view_written.append(A)
        k = r.randrange(1, N)
        kind = r.randrange(7)
        if kind == 0:
            self.features.add("view_aug_slice")
            op = r.choice(["*=", "*=", "+=", "-="])
            part = r.choice([f":{k}", f"{k}:", f"{r.randrange(0, k)}:{k + 1}"])
            value = self.scalar(scope, 1)
            if op == "*=":
                value = f"np.tanh({value})"
            return [f"{indent}{A}[{part}] {op} {value}"]
        if kind == 1:
            self.features.add("view_read_then_write")
            s = r.choice(scope.scalars)
            read = r.choice([f"np.sum({self.scalar(scope, 0)} * {A}[:-1])", f"np.dot({A}[1:], {B}[:-1])",
                             f"np.sum(np.sin({A}[{k}:]))", f"{A}[:{k}].sum()"])
            write = r.choice([self.const(), self.scalar(scope, 1)])
            return [f"{indent}{s} = {read}", f"{indent}{A}[{self.index(scope)}] = {write}"]
        if kind == 2:
            self.features.add("view_shifted")
            return [r.choice([f"{indent}{A}[:-1] = {A}[1:] * {B}[1:]",
                              f"{indent}{A}[1:] = np.sin({A}[:-1])",
                              f"{indent}{A}[1:] += {A}[:-1] * {self.const()}",
                              f"{indent}{A}[:-1] -= np.tanh({A}[1:]) * {self.const()}",
                              f"{indent}{A}[1:] = {A}[:-1] * {B}[1:]"])]
        if kind == 3 and nested_ok:
            self.features.add("view_loop_grow")
            i = self.fresh("i")
            inner = scope.child(indices=scope.indices + [i], in_loop=True, fn_top=False)
            if self.chance(0.5):
                head = f"for {i} in range(1, {N}):"
                body = f"{A}[:{i} + 1] *= math.cos({B}[{i}])"
            else:
                head = f"for {i} in range({N}):"
                body = f"{A}[{i}:] += np.sin({self.scalar(inner, 1)}) * {self.const()}"
            lines = [indent + head, indent + "    " + body]
            if self.chance(0.3):
                lines += self.block(inner, indent + "    ", 1)
            return lines
        if kind == 4:
            self.features.add("view_overlap_copy")
            c = r.randrange(0, N - k + 1)
            return [f"{indent}{A}[{c}:{c + k}] = {B}[:{k}] * {self.const()} + {A}[{N - k}:]"]
        if kind == 5:
            self.features.add("view_read_then_write")
            s = r.choice(scope.scalars)
            return [f"{indent}{A}[{k}:] *= {self.const()}", f"{indent}{s} = {s} + np.sum({A}[:{k}] * {B}[:{k}])"]
        self.features.add("view_aug_slice")
        return [f"{indent}{A}[{k - 1}:{k + 1}] *= {A}[{k - 1}]"]

    def view_bound(self, scope, indent, nested_ok):
        if not scope.arrays:
            return None
        r, N = self.r, self.N
        A = r.choice(scope.arrays)
        t = self.fresh("t")
        a = r.randrange(0, N - 1)
        b = r.randrange(a + 1, N + 1)
        s = r.choice(scope.scalars)
        self.features.add("view_bound")
        lines = [f"{indent}{t} = {A}[{a}:{b}]"]
        if self.chance(0.3):
            self.features.add("view_bound_write_through")
            lines.append(f"{indent}{t} *= {self.const()}")
        else:
            lines.append(f"{indent}{A}[{self.index(scope)}] = {self.scalar(scope, 1)}")
        lines.append(f"{indent}{s} = {s} + np.sum({t} * {t})")
        return lines

    def elem_read_write(self, scope, indent, nested_ok):
        if not scope.arrays:
            return None
        r = self.r
        A = r.choice(scope.arrays)
        s = r.choice(scope.scalars)
        self.features.add("elem_read_then_write")
        write = self.const() if self.chance(0.5) else self.scalar(scope, 1)
        lines = [f"{indent}{s} = {A}[{self.index(scope)}]", f"{indent}{A}[{self.index(scope)}] = {write}"]
        if self.chance(0.5):
            lines.append(f"{indent}{s} = {s} + np.sum({A})")
        return lines

    def build_statement(self, scope, indent, nested_ok):
        builds = self.helpers_of("build")
        if not builds or not scope.arrays:
            return None
        r, N = self.r, self.N
        name, _ = r.choice(builds)
        A = r.choice(scope.arrays)
        self._note_call(scope)
        self.features.add("build_call")
        k = r.randrange(3)
        if k == 0 or not nested_ok:
            self.features.add("build_repeat")
            return [f"{indent}{A} = {name}({self.scalar(scope, 1)})",
                    f"{indent}{A} = {name}({self.scalar(scope, 1)})"]
        i = self.fresh("i")
        inner = scope.child(indices=scope.indices + [i], in_loop=True, fn_top=False)
        self.features.add("build_loop")
        value = f"{name}({self.scalar(inner, 1)})"
        if self.chance(0.3):
            value = f"{A} * {self.const()} + {value}"
        if k == 1:
            lines = [f"{indent}for {i} in {r.choice([f'range({N})', 'range(2)', f'range(1, {N})'])}:",
                     f"{indent}    {A} = {value}"]
        else:
            self.features.add("build_while")
            lines = [f"{indent}{i} = 0", f"{indent}while {i} < {r.randint(1, 3)}:",
                     f"{indent}    {A} = {value}", f"{indent}    {i} = {i} + 1"]
            return lines
        if self.chance(0.3):
            lines += self.block(inner, indent + "    ", 1)
        return lines

    def stencil(self, scope, indent, nested_ok):
        if not scope.arrays or not nested_ok:
            return None
        r, N = self.r, self.N
        u = r.choice(scope.arrays)
        if self.chance(0.25):
            self.features.add("stencil_sliced")
            c = r.choice(["0.1", "0.25", "0.4"])
            return [f"{indent}{u}[1:-1] = {u}[1:-1] + {c} * ({u}[:-2] - 2.0 * {u}[1:-1] + {u}[2:])"]
        self.features.add("stencil_double_buffer")
        t, i, new = self.fresh("t"), self.fresh("i"), self.fresh("new")
        steps = r.choice(["range(2)", "range(3)", "range(n)" if scope.has_n else "range(1)"])
        lines = [f"{indent}for {t} in {steps}:"]
        if self.chance(0.7):
            lines.append(f"{indent}    {new} = {u}.copy()")
        else:
            lines += [f"{indent}    {new} = np.zeros({N})", f"{indent}    {new}[0] = {u}[0]",
                      f"{indent}    {new}[-1] = {u}[-1]"]
        hi = r.choice([f"{N} - 1", f"len({u}) - 1", f"{u}.shape[0] - 1"])
        c = self.const()
        update = r.choice([
            f"{u}[{i}] + 0.2 * ({u}[{i} - 1] - 2.0 * {u}[{i}] + {u}[{i} + 1])",
            f"np.tanh({u}[{i} - 1]) * {c} + {u}[{i}] * 0.5 + np.sin({u}[{i} + 1])",
            f"({u}[{i} - 1] + {u}[{i}] + {u}[{i} + 1]) / 3.0 + {self.scalar(scope, 0)} * 0.1",
        ])
        lines += [f"{indent}    for {i} in range(1, {hi}):", f"{indent}        {new}[{i}] = {update}",
                  f"{indent}    {u} = {new}"]
        return lines

    def param_loop(self, scope, indent, nested_ok):
        if scope.params is None or not scope.arrays or not nested_ok:
            return None
        r = self.r
        name, length, matrix = scope.params
        A = r.choice(scope.arrays)
        part = r.choice(["[1:-1]", "[1:]", "[:-1]", "[:n]" if scope.has_n else "[::-1]", "", "[::-1]",
                         f"[{length}:]"])
        count = len(range(length)[slice(*[None if p == "" else int(p) for p in
                                           part.strip("[]").replace("n", str(self.n_value)).split(":")])
                                  ]) if part else length
        self.features.add("param_loop")
        if part:
            self.features.add("param_slice_loop")
        if count == 0:
            self.features.add("param_slice_empty")
        W, b = self.fresh("W"), self.fresh("b")
        product = f"{W} @ {A}" if matrix else f"{W} * {A}"
        k = r.randrange(3)
        if k == 0:
            return [f"{indent}for {W}, {b} in {name}{part}:", f"{indent}    {A} = np.tanh({product} + {b})"]
        if k == 1:
            j = self.fresh("j")
            s = r.choice(scope.scalars)
            return [f"{indent}for {j}, ({W}, {b}) in enumerate({name}{part}):",
                    f"{indent}    {s} = {s} + np.sum({W} * {b}) * 0.1",
                    f"{indent}    {A} = np.sin({product}) + {b}"]
        self.features.add("param_unpack")
        return [f"{indent}{W}, {b} = {name}[{r.randrange(-length, length)}]",
                f"{indent}{A} = np.tanh({product} + {b})"]

    def bare_call(self, scope, indent, nested_ok):
        if not self.helpers:
            return None
        name, kind = self.r.choice(self.helpers)
        self._note_call(scope)
        self.features.add("bare_call")
        s = self.scalar(scope, 1)
        if kind == "ss":
            return [f"{indent}{name}({s}, {self.scalar(scope, 1)})"]
        if kind == "as":
            if not scope.arrays:
                return None
            return [f"{indent}{name}({self.array(scope, 1)}, {s})"]
        if kind == "rec":
            return [f"{indent}{name}({s}, 2)"]
        if kind == "mixed" and scope.arrays:
            self.mixed_arg_kinds.add("array")
            return [f"{indent}{name}({self.array(scope, 1)}, {s})"]
        return [f"{indent}{name}({s})"] if kind in ("tuple", "build") else [f"{indent}{name}({s}, {s})"]

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
            if self.on("index_computed") and (scope.ints or scope.arrays):
                ranges.append(f"range({self.length(scope)})")
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
        kinds = ["ss", "ss", "as", "tuple", "rec"]
        if self.on("build_helper"):
            kinds += ["build", "build", "build"]
        if self.on("mixed_helper"):
            kinds += ["mixed", "mixed"]
        kind = r.choice(kinds)
        name = self.fresh({"ss": "h", "as": "g", "tuple": "pair", "rec": "rec", "build": "mk",
                           "mixed": "mix"}[kind])
        if kind == "rec":
            body = [f"def {name}(a, m):",
                    "    if m <= 0:",
                    "        return a",
                    f"    return {name}(np.sin(a) * {self.const()} + 0.3 * a, m - 1)"]
            self.helpers.append((name, kind))
            return body
        if kind == "mixed":
            return self.mixed_helper(name)
        saved = self.budget
        self.budget = r.randint(1, 4)
        if kind == "as":
            params = "(u, a)"
            scope = _Scope(["a", "t"], ["u"], in_helper=True)
            init = ["    t = a * 0.5"] + ([] if ALIASING_OK else ["    u = u.copy()"])
        elif kind == "build":
            params = "(a)"
            scope = _Scope(["a", "t"], ["w"], returns="array", in_helper=True)
            earlier = self.helpers_of("build")
            if earlier and self.chance(0.5):
                self.features.add("helper_calls_helper")
                start = f"{r.choice(earlier)[0]}(t)"
            else:
                start = r.choice([f"np.zeros({self.N})", f"np.full({self.N}, t)", f"np.ones({self.N}) * a"])
            init = ["    t = a * 0.5", f"    w = {start}", f"    w[{r.randrange(self.N)}] += a"]
        else:
            params = "(a, b)" if kind == "ss" else "(a)"
            scope = _Scope(["a", "b", "t"] if kind == "ss" else ["a", "t"], [],
                           returns="tuple" if kind == "tuple" else "scalar", in_helper=True)
            init = ["    t = a + 0.1"]
        lines = [f"def {name}{params}:"] + init
        while self.budget > 0:
            lines += self.statement(scope, "    ")
        if kind == "tuple":
            lines.append(f"    return {self.scalar(scope, 1)}, t * {self.const()}")
        elif kind == "build":
            k = r.randrange(self.N)
            lines.append("    " + r.choice([f"w[{k}] = math.tanh(w[{k}])", f"w[{k}:] *= {self.const()}",
                                           "w[1] = math.cos(w[0])", f"w[-1] += t * {self.const()}"]))
            lines.append("    return w")
        elif kind == "as" and not ALIASING_OK and self.seed % 4 == 0:
            lines += copied_element_return(self.scalar(scope, 1))
            self.features.add("helper_copied_element")
        else:
            lines.append(f"    return {self.scalar(scope, 1)} + t")
        self.budget = saved
        self.helpers.append((name, kind))
        return lines

    def mixed_helper(self, name):
        """def mix(p, q): elementwise arithmetic only, so floats and arrays both work."""
        r = self.r

        def expr(depth):
            if depth <= 0 or self.chance(0.3):
                return r.choice(["p", "q", "p", "q", self.const()])
            a = expr(depth - 1)
            op = r.randrange(8)
            if op == 0:
                return f"({a} + {expr(depth - 1)})"
            if op == 1:
                return f"({a}) * ({expr(depth - 1)})"
            if op == 2:
                return f"np.sin({a})"
            if op == 3:
                return f"np.tanh({a})"
            if op == 4:
                return f"({a}) / (1.0 + ({expr(depth - 1)}) ** 2)"
            if op == 5:
                return f"np.exp(-({a}) ** 2)"
            if op == 6:
                return f"np.cos({a}) * {self.const()}"
            return f"({a}) ** 2"

        lines = [f"def {name}(p, q):", f"    r = {expr(3)}"]
        if self.chance(0.5):
            lines.append(f"    r = r * {self.const()} + {expr(2)}")
        # both parameters reach the result, so it is an array when either argument is
        lines.append(f"    return r + p * {self.const()} + q * {self.const()}")
        self.helpers.append((name, "mixed"))
        return lines

    # ------------------------------------------------------------- main
    def program(self):
        r = self.r
        N = self.N
        chunks = []
        n_helpers = r.randint(0, 3)
        if self.shapes & {"build_helper", "mixed_helper", "bare_call"}:
            n_helpers = max(n_helpers, r.randint(1, 3))
        for _ in range(n_helpers):
            chunks.append("\n".join(self.helper()))
        if self.build_shared:
            chunks.append("\n".join(self.build_shared_helper()))
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
        ints = []
        if self.on("index_computed"):
            lines.append("    nv = " + r.choice(["v.shape[0]", "len(v)"]))
            ints.append("nv")
        params = None
        if self.on("param_list"):
            length = r.randint(1, 4)
            matrix = self.chance(0.4)
            entries = []
            for j in range(length):
                W = (f"np.outer(np.sin(v + {j}.0), v) * 0.3 + np.eye({N})" if matrix
                     else r.choice(["v * 0.5", f"np.sin(v + {j}.0)", f"np.cos(v) * {self.const()}", "v * x"]))
                b = r.choice(["x", f"w * {self.const()}", "0.2", f"np.sin(v) * {self.const()}"])
                entries.append(f"({W}, {b})")
            lines.append(f"    params = [{', '.join(entries)}]")
            self.features.add("param_list")
            params = ("params", length, matrix)
        scope = _Scope(scalars, arrays + ["v"] if self.chance(0.2) else arrays, has_n=True, ints=ints,
                       params=params)
        while self.budget > 0:
            lines += self.statement(scope, "    ")
        terms = [f"{s}" if self.chance(0.5) else f"np.tanh({s})" for s in scalars]
        terms += [f"np.sum({y} * {y})" if self.chance(0.5) else f"np.sum(np.sin({y}))" for y in arrays]
        if self.on("narrow_return") and self.chance(0.7):
            # the value depends on one name or one element only: a derivative that flows
            # through a single view or temporary is not hidden among the other terms
            self.features.add("narrow_return")
            read = [y for y in self.view_written if y in arrays] or arrays
            terms = [self.r.choice([self.r.choice(scalars), f"{self.r.choice(read)}[{self.r.choice([0, -1])}]",
                                    f"{self.r.choice(scalars)} + {self.r.choice(read)}[{self.r.randrange(N)}]"])]
        lines.append("    return " + " + ".join(terms))
        chunks += shapes_e.chunks(self) + shapes_g.chunks(self) + shapes_h.chunks(self) + shapes_k.chunks(self) \
            + shapes_l.chunks(self) + shapes_m.chunks(self) + shapes_n.chunks(self) + shapes_q.chunks(self) + shapes_r.chunks(self) + shapes_s.chunks(self) + shapes_t.chunks(self) + shapes_u.chunks(self)
        chunks.append("\n".join(lines))
        if self.mixed_arg_kinds == {"float", "array"}:
            self.features.add("mixed_helper_float_and_array")
        header = HEADER.replace("import math\n", "import functools\nimport math\n") \
            if "f_partial" in self.features else HEADER     # (programs without it are unchanged)
        header = shapes_k.header(self, header)
        source = header + "\n\n".join(chunks) + "\n"
        x = round(r.uniform(-1.5, 1.5), 3)
        w = round(r.uniform(-1.5, 1.5), 3)
        v = np.round(np.array([r.uniform(-1.5, 1.5) for _ in range(N)]), 3)
        return Program(self.seed, source, [x, v, w, self.n_value], (0, 1, 2), N, self.features)


# ------------------------------------------------------------ extra shapes
# Shapes added after the seeds above were recorded.  Each draws from its own random
# stream (Generator.r2), so a program without it is the same program as before.
EXTRA_SHAPES = (
    "build_shared",      # two results of an array-building helper in one expression (mk(a) + mk(b))
    "classes_d",         # FINDINGS_d.md (shapes_d.py): broadcasting on a branch, element then
                         # slice writes, loops over an array rebound and written through a view
    "classes_e",         # FINDINGS_d.md, section classes_e (shapes_e.py): user classes whose methods
                         # write attributes (one object, a list of them, a helper taking one), and
                         # the array parameter v rebound to other shapes by a helper in a loop
    "classes_f",         # FINDINGS_e.md (shapes_f.py): in-place writes through containers, two
                         # names for one item, nested item writes, partials of partials
    "classes_g",         # FINDINGS_e.md (shapes_g.py): an array kept by a helper's tape, an object
                         # or a function value, then written in place by the caller
    "classes_h",         # FINDINGS_g.md (shapes_h.py): generators consumed late, asserts with
                         # effects, closures from factories, list changes whose value is used
    "classes_i",         # shapes_i.py (session 7, arrays): out= in every form, floats written
                         # into int arrays, M[i][j] = v through views and copies
    "classes_j",         # shapes_j.py (session 8, issue 16): np.add.at / subtract.at, a def or
                         # a lambda in a loop body
    "classes_k",         # FINDINGS_s8.md (shapes_k.py): with managers with effects that swallow,
                         # |e|**2 at 0, loops over itertools.count, out by position for methods
    "classes_l",         # shapes_l.py (session 9): writes into items taken out of containers
                         # (rows of `for row in M`, dict state, parameter lists), shared items
    "classes_m",         # shapes_m.py (session 9, issue 16): lst.insert, nonlocal writes, a class
                         # defined in f, models from lists of layer objects of several classes
    "classes_n",         # shapes_n.py (session 10): y[i][j] = v with items read elsewhere, slices
                         # of lists (copies), lists of objects stepped by methods
    "classes_o",         # shapes_o.py (session 10, issue 17): NumPy NamedTuple results read by
                         # field, linspace(retstep=True), keyword variants (einsum optimize, ...)
    "classes_p",         # shapes_p.py (session 11, issue 16): writes through reshaped/transposed
                         # views, y.sort(), dict.update, imports inside f, arrays stored by d[k] = y
    "classes_r",         # shapes_r.py (session 11): a helper writing into its list items compiled
                         # for several argument kinds; repeated fancy-index writes at 2nd order
    "classes_q",         # shapes_q.py (session 11, issue 15): powers of radii at 0, with-as targets
                         # written, __exit__ swallowing with outside effects, w = fill(u) returning u
    "classes_s",         # shapes_s.py (session 12, issue 17): radii bound to a name then powered at 0,
                         # a NumPy scalar given unit axes, an attribute squared where it is 0
    "classes_t",         # shapes_t.py (session 12): pops with arguments (**kwargs options, work
                         # queues, dict entries), del, arrays taken back out of containers and written
    "classes_u",         # shapes_u.py (session 12, issue 16): helpers handing back views, written;
                         # transpose(axes)/moveaxis views written; tuple state; hist.append(h)
)


def _init_build_shared(self, seed, shapes, exclude):
    self.r2 = random.Random(f"build_shared-{seed}")
    on = "build_shared" in shapes if shapes is not None else self.r2.random() < SHAPE_PROBABILITY
    self.build_shared = on and "build_shared" not in exclude
    self.shared_helper = None


def _build_shared_helper(self):
    """A helper writing elements or slices of the array it returns: its adjoint updates
    its seed in place (helper a's class, tests/fuzz/FINDINGS_a.md)."""
    r, N = self.r2, self.N
    name = self.shared_helper = self.fresh("mks")
    k = r.randrange(N)
    lines = [f"def {name}(a):", "    " + r.choice([f"w = np.zeros({N}) + a", f"w = np.ones({N}) * a"])]
    for _ in range(r.randint(1, 3)):
        j = r.randrange(1, N)
        lines.append("    " + r.choice([
            f"w[{k}] = a * a", f"w[{k}] += np.sin(a)", f"w[{j}:] *= np.cos(a)", f"w[:{j}] = w[{j - 1}] * 0.5",
            f"w[{-1 - k}] -= np.tanh(w[{k}])"]))
    if r.random() < 0.4:
        lines += ["    for i in range(2):", f"        w[{k}:{k + 1}] += np.exp(-w[{k}:{k + 1}] ** 2)"]
    lines.append("    return w")
    return lines


def _build_shared_statement(self, scope, indent):
    """`y = mk(a) + mk(b)` and relatives: one adjoint shared by two calls."""
    if not scope.arrays:
        return None
    r, mk = self.r2, self.shared_helper
    A = r.choice(scope.arrays)
    arg = lambda: r.choice([f"{r.choice(scope.scalars)}", f"{r.choice(scope.scalars)} * 0.5", "x", "w"])  # noqa: E731
    value = r.choice([f"{mk}({arg()}) + {mk}({arg()})", f"{mk}({arg()}) - {mk}({arg()}) * 0.5",
                      f"({mk}({arg()}) + {mk}({arg()})) * 0.7", f"{A} * 0.5 + {mk}({arg()})",
                      f"{A} + {mk}({arg()}) + {mk}({arg()})"])
    self.features.add("build_shared")
    self._note_call(scope)
    if r.random() < 0.4:
        return [f"{indent}for {self.fresh('i')} in range(2):", f"{indent}    {A} = {value}"]
    return [f"{indent}{A} = {value}"]


Generator.init_build_shared = _init_build_shared
Generator.build_shared_helper = _build_shared_helper
Generator.build_shared_statement = _build_shared_statement


def copied_element_return(expr):
    """The end of a helper `(u, a)` (u copied on entry) returning one element of its copy
    (issue 15, helper c, class B: diffc took the result for a view of the caller's
    array and refused the caller's later writes into it).  Draws nothing from the
    random stream, so a seed's other choices stay as they were."""
    return [f"    u[0] = {expr} + t", "    return u[0]"]


def shape_features(program):
    """The features of `program` that are issue-15 shapes (what run.py counts per shape)."""
    return {f for f in program.features if f in SHAPE_FEATURES}


# The feature names the shape generators record (finer than SHAPES).
SHAPE_FEATURES = (
    "view_aug_slice", "view_read_then_write", "view_shifted", "view_loop_grow", "view_overlap_copy",
    "view_bound", "view_bound_write_through",
    "build_call", "build_repeat", "build_loop", "build_while", "helper_calls_helper",
    "index_shape", "index_len", "index_loopvar_arith",
    "elem_read_then_write",
    "stencil_double_buffer", "stencil_sliced",
    "param_list", "param_loop", "param_slice_loop", "param_slice_empty", "param_unpack",
    "bare_call",
    "float_mod", "float_mod_array", "float_floordiv", "float_floordiv_array",
    "np_r", "np_c",
    "call_mixed", "mixed_helper_float_and_array",
    "narrow_return",
    "build_shared",
    "b_seed_shared", "b_iterate_rebind", "b_broadcast_product",
    "helper_copied_element",
) + shapes_d.FEATURES + shapes_e.FEATURES + shapes_f.FEATURES + shapes_g.FEATURES + shapes_h.FEATURES + shapes_i.FEATURES + shapes_j.FEATURES + shapes_k.FEATURES + shapes_l.FEATURES + shapes_m.FEATURES + shapes_n.FEATURES + shapes_o.FEATURES + shapes_p.FEATURES + shapes_q.FEATURES + shapes_r.FEATURES + shapes_s.FEATURES + shapes_t.FEATURES + shapes_u.FEATURES     # e_object_method, e_object_list, e_object_helper,
#                                                     e_rebound_param: shapes_e.py (classes_e)


def b_statement(gen, scope, indent, nested_ok):
    """Shape "classes_b" (tests/fuzz/FINDINGS_b.md), one of:
    b_seed_shared: `A = A * c + build(A[i])` (the helper's adjoint writes into the adjoint
    the caller shares between both terms); b_iterate_rebind: `for i, e in enumerate(A)`
    writing into A and then rebinding it; b_broadcast_product: `s = s + np.sum(np.outer(A, B) * A)`
    (a (N, N) * (N,) product whose adjoint stays the zero 0.0 after an early return)."""
    if not scope.arrays:
        return None
    r, N = gen.r, gen.N
    A, B = r.choice(scope.arrays), r.choice(scope.arrays)
    kind = r.randrange(3)
    builds = gen.helpers_of("build")
    if kind == 0 and builds:
        gen.features.add("b_seed_shared")
        gen.features.add("build_call")
        gen._note_call(scope)
        name, _ = r.choice(builds)
        return [f"{indent}{A} = {A} * {gen.const()} + {name}({A}[{gen.index(scope)}])"]
    if kind == 1 and nested_ok:
        gen.features.add("b_iterate_rebind")
        i, e = gen.fresh("i"), gen.fresh("e")
        rebind = r.choice([f"{A} = {A} * {gen.const()}", f"{A} = np.tanh({A}) + {gen.const()}",
                           f"{A} = {A}.copy()"])
        return [f"{indent}for {i}, {e} in enumerate({A}):",
                f"{indent}    {A}[({i} + 1) % {N}] = np.sin({e}) * {gen.const()}",
                f"{indent}    {rebind}"]
    gen.features.add("b_broadcast_product")
    s = r.choice(scope.scalars)
    return [f"{indent}{s} = {s} + np.sum(np.outer({A}, {B}) * {A}) * {gen.const()}"]


def generate(seed, shapes=None, exclude=()):
    """The program for one seed (deterministic); `shapes` overrides the drawn set of SHAPES,
    `exclude` removes shapes from it (e.g. a class of bug already known)."""
    return Generator(seed, shapes=shapes, exclude=exclude).program()


if __name__ == "__main__":  # pragma: no cover - manual inspection
    import sys
    print(generate(int(sys.argv[1]) if len(sys.argv) > 1 else 0).plain)
