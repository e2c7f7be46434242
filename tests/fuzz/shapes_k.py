"""Shape "classes_k" (session 8, tests/fuzz/FINDINGS_s8.md; tests: tests/test_hunt_session8.py):

k_with: a user context manager whose __enter__/__exit__ write its attributes (differentiated
    values), whose __exit__ swallows a ValueError the body raises on a data-dependent test,
    used once or in a loop, alone or with np.errstate, then its attribute read;
k_abs2: |e| ** 2 (np.abs, abs, np.square(np.abs(...)), abs(v) * abs(v)) of real and complex
    values some of whose entries are exactly 0 (a mask): smooth there;
k_count: a for loop over itertools.count(...) (or zip with one, or itertools.cycle) stopped
    by a break or by the other iterable;
k_out_pos: an ndarray method writing into a buffer given by position (x.dot(b, y),
    x.max(0, y), x.sum(0, None, y)), then the buffer read.

Draws from its own random stream (`r10`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("k_with", "k_abs2", "k_count", "k_out_pos")

HELPERS = '''class JGuard:
    def __init__(self, k):
        self.k = k
        self.acc = 0.0

    def __enter__(self):
        self.acc = self.acc + self.k
        return self

    def __exit__(self, kind, value, tb):
        self.acc = self.acc * 0.5 + self.k
        return kind is ValueError'''


def init(gen, seed, shapes, exclude):
    gen.r10 = random.Random(f"classes_k-{seed}")
    on = "classes_k" in shapes if shapes is not None else gen.r10.random() < PROBABILITY
    gen.classes_k = on and "classes_k" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if "k_with" in gen.features else []


def header(gen, text):
    """The program's imports, with itertools when a statement uses it."""
    return text.replace("import math\n", "import itertools\nimport math\n") if "k_count" in gen.features else text


def statement(gen, scope, indent, nested_ok):
    """One classes_k statement (a list of lines) of f, or None."""
    if (not gen.classes_k or scope.in_helper or not scope.arrays
            or gen.r10.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r10
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_with, _abs2, _count, _out_pos][r.randrange(4)](gen, A, s, c, indent)


def _with(gen, A, s, c, indent):
    r = gen.r10
    gen.features.add("k_with")
    g, k = gen.fresh("guard"), gen.fresh("k")
    test = f"{A}.ravel()[{k}] > {c}"
    body = [f"{indent}    {g}.acc = {g}.acc * {s} + {A}.ravel()[{k}]",
            f"{indent}    if {test}:",
            f"{indent}        raise ValueError('{g}')",
            f"{indent}    {g}.acc = {g}.acc + {s} * {c}"]
    managers = r.choice([g, f"np.errstate(all='ignore'), {g}", g])
    if r.random() < 0.5:
        return ([f"{indent}{g} = JGuard({s} * {c})", f"{indent}{k} = 0", f"{indent}with {managers}:"] + body
                + [f"{indent}{s} = {s} + {g}.acc"])
    loop = [f"{indent}{g} = JGuard({c})",
            f"{indent}for {k} in range(min(3, {A}.size)):",
            f"{indent}    with {managers}:"] + ["    " + line for line in body]
    return loop + [f"{indent}{s} = {s} + {g}.acc * {c}"]


def _abs2(gen, A, s, c, indent):
    gen.features.add("k_abs2")
    m = gen.fresh("masked")
    form = gen.r10.randrange(4)
    lines = [f"{indent}{m} = {A} * ({A} > {c})"]
    if form == 0:
        return lines + [f"{indent}{s} = {s} + np.sum(np.abs({m} * {s}) ** 2) * {c}"]
    if form == 1:
        return lines + [f"{indent}{s} = {s} + np.sum(np.abs({m} * (1.0 + 0.5j) * {s}) ** 2) * {c}"]
    if form == 2:
        return lines + [f"{indent}{s} = {s} + np.sum(np.square(np.abs({m} - 0.3j * {m}))) * {s}"]
    flat = gen.fresh("flat")
    return lines + [f"{indent}{flat} = {m}.ravel()",
                    f"{indent}{s} = {s} + abs({flat}[0]) * abs({flat}[0]) * {c}"]


def _count(gen, A, s, c, indent):
    gen.features.add("k_count")
    k, v = gen.fresh("k"), gen.fresh("v")
    form = gen.r10.randrange(3)
    if form == 0:
        return [f"{indent}for {k} in itertools.count(0, 1):",
                f"{indent}    if {k} >= min(2, {A}.size):",
                f"{indent}        break",
                f"{indent}    {s} = {s} + {A}.ravel()[{k}] * {c}"]
    if form == 1:
        return [f"{indent}for {k}, {v} in zip(itertools.count(1), {A}.ravel()):",
                f"{indent}    {s} = {s} + {v} * {k} * {c}"]
    return [f"{indent}for {k}, {v} in enumerate(itertools.cycle([{s}, {c}])):",
            f"{indent}    if {k} >= 3:",
            f"{indent}        break",
            f"{indent}    {s} = {s} + {v} * {A}.ravel()[0]"]


def _out_pos(gen, A, s, c, indent):
    gen.features.add("k_out_pos")
    b, M = gen.fresh("buf"), gen.fresh("M")
    form = gen.r10.randrange(3)
    lines = [f"{indent}{M} = np.outer({A}.ravel(), {A}.ravel()) * {s}", f"{indent}{b} = np.zeros({A}.size)"]
    if form == 0:
        lines.append(f"{indent}{M}.dot({A}.ravel() * {c}, {b})")
    elif form == 1:
        lines.append(f"{indent}{M}.max(0, {b})")
    else:
        lines.append(f"{indent}{M}.sum(0, None, {b})")
    return lines + [f"{indent}{s} = {s} + np.sum({b} * {b}) * {c}"]
