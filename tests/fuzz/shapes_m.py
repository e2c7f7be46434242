"""Shape "classes_m" (session 9, issue 16's leftovers; tests: tests/test_issue16_s9.py):

m_insert: ``lst.insert(i, v)`` into a list f builds (front, middle, negative and past-the-end
    positions), of numbers or arrays, then items read;
m_nonlocal: a local function assigning ``nonlocal`` accumulators/counters, called by name
    as a statement, in an assignment or inside an expression, possibly in a loop;
m_local_class: a class defined inside f (``__init__`` storing differentiated values, a
    method or ``__call__`` using them), built and called;
m_layers: a list of layer objects of several module-level classes (one without fields)
    iterated by a model object built from the list (``self.layers = layers``).

Draws from its own random stream (`r12`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("m_insert", "m_nonlocal", "m_local_class", "m_layers")

HELPERS = '''class LScale:
    def __init__(self, a):
        self.a = a

    def __call__(self, v):
        return self.a * v


class LTanh:
    def __call__(self, v):
        return np.tanh(v)


class LModel:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, v):
        for layer in self.layers:
            v = layer(v)
        return v'''


def init(gen, seed, shapes, exclude):
    gen.r12 = random.Random(f"classes_m-{seed}")
    on = "classes_m" in shapes if shapes is not None else gen.r12.random() < PROBABILITY
    gen.classes_m = on and "classes_m" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if "m_layers" in gen.features else []


def statement(gen, scope, indent, nested_ok):
    """One classes_m statement (a list of lines) of f, or None."""
    if (not gen.classes_m or scope.in_helper or not scope.arrays
            or gen.r12.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r12
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_insert, _nonlocal, _local_class, _layers][r.randrange(4)](gen, A, s, c, indent)


def _insert(gen, A, s, c, indent):
    r = gen.r12
    gen.features.add("m_insert")
    lst, k = gen.fresh("ins"), gen.fresh("k")
    where = r.choice(["0", "1", "-1", "len({lst}) // 2", "100"]).format(lst=lst)
    if r.random() < 0.5:
        return [f"{indent}{lst} = [{s}, {A}.ravel()[0] * {c}]",
                f"{indent}for {k} in range(2):",
                f"{indent}    {lst}.insert({where}, {lst}[0] * {c} + {s} * {lst}[-1])",
                f"{indent}{s} = {s} + {lst}[0] * {lst}[1] + {lst}[-1]"]
    return [f"{indent}{lst} = [{A} * {c}]",
            f"{indent}{lst}.insert({where}, np.sin({A}) * {s})",
            f"{indent}{lst}.insert(0, {lst}[-1] * {lst}[0])",
            f"{indent}{s} = {s} + np.sum({lst}[0]) + np.sum({lst}[1] * {lst}[2])"]


def _nonlocal(gen, A, s, c, indent):
    r = gen.r12
    gen.features.add("m_nonlocal")
    acc, cnt, fn, k = gen.fresh("acc"), gen.fresh("cnt"), gen.fresh("bump"), gen.fresh("k")
    lines = [f"{indent}{acc} = {s} * {c}",
             f"{indent}{cnt} = 0",
             f"{indent}def {fn}(v):",
             f"{indent}    nonlocal {acc}, {cnt}",
             f"{indent}    {cnt} += 1",
             f"{indent}    {acc} = {acc} * {c} + v * {cnt}",
             f"{indent}    return {acc} * v"]
    form = r.randrange(3)
    if form == 0:
        lines += [f"{indent}for {k} in range(min(3, {A}.size)):",
                  f"{indent}    {fn}({A}.ravel()[{k}])"]
    elif form == 1:
        lines += [f"{indent}{k} = {fn}(np.sum({A})) + {fn}({s}) ** 2"]
        lines += [f"{indent}{s} = {s} + {k} * {c}"]
    else:
        lines += [f"{indent}{k} = {fn}({s})", f"{indent}{s} = {s} + {k}"]
    return lines + [f"{indent}{s} = {s} + {acc} * {cnt}"]


def _local_class(gen, A, s, c, indent):
    gen.features.add("m_local_class")
    cls, obj = gen.fresh("LLocal"), gen.fresh("obj")
    return [f"{indent}class {cls}:",
            f"{indent}    def __init__(self, w, b):",
            f"{indent}        self.w = w",
            f"{indent}        self.b = b",
            f"{indent}    def __call__(self, v):",
            f"{indent}        return np.sum(np.tanh(self.w * v) + self.b)",
            f"{indent}{obj} = {cls}({A} * {c}, {s})",
            f"{indent}{s} = {s} + {obj}({A}) * {c}"]


def _layers(gen, A, s, c, indent):
    gen.features.add("m_layers")
    model = gen.fresh("model")
    inner = gen.r12.choice(["LTanh(), ", "", "LScale(-0.5), LTanh(), "])
    return [f"{indent}{model} = LModel([LScale({s} * {c}), {inner}LScale({A})])",
            f"{indent}{s} = {s} + np.sum({model}({A}) * {c})"]
