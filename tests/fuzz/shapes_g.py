"""Shape "classes_g" (tests/fuzz/FINDINGS_e.md, session 6): an array kept by reference,
then written in place.

A helper's adjoint reads its arguments' values at the call; diffc's split helpers keep
them on the tape by reference, and the caller's in-place write after the call changed
what the adjoint read (a wrong first-order gradient on `s = energy(t); t[0] = 0.0`).

g_helper_then_write: a helper (plain, reading a view of its argument, or calling
    another helper) called on a fresh array, which is then written in place (an element,
    a slice, a repeated index, the whole array) and read again;
g_helper_in_loop: the same in a loop, the array written after each call;
g_object_kept: an object built from the array, one method call reading it, then the
    write (the object not used again: only its adjoint reads the array);
g_function_value: a helper chosen at run time (`pick = g_sum if s > 0 else g_head`);
g_attribute_list: layers kept in a list attribute, each caching its input when a method
    of the holder loops over them (`for layer in self.layers: u = layer.forward(u)`), the
    holder made by a classmethod constructor or its class; the cached inputs read after.

Draws from its own random stream (`r6`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("g_helper_then_write", "g_helper_in_loop", "g_object_kept", "g_function_value",
            "g_attribute_list")

HELPERS = '''def g_sum(a):
    return np.sum(np.sin(a))

def g_head(a, c=1.0):
    h = a[:2]
    return np.sum(h * h * h) * c

def g_both(a, c):
    return g_head(a, c) + g_sum(a * c) + np.dot(a, a) * 0.1

class GKeeper:
    def __init__(self, a, w):
        self.a = a
        self.w = w

    def energy(self, u):
        return np.sum(np.tanh(self.a * self.w) * u)

class GLayer:
    def __init__(self, w):
        self.w = w
        self.seen = None
        self.calls = 0

    def forward(self, u):
        self.seen = u
        self.calls += 1
        return np.tanh(self.w * u) + u * 0.5

class GStack:
    def __init__(self, ws):
        self.layers = [GLayer(w) for w in ws]

    @classmethod
    def of(cls, w, n):
        return cls([w * (k + 1) for k in range(n)])

    def run(self, u):
        for i, layer in enumerate(self.layers):
            u = layer.forward(u) * (1.0 + 0.1 * i)
        return u'''


def init(gen, seed, shapes, exclude):
    gen.r6 = random.Random(f"classes_g-{seed}")
    on = "classes_g" in shapes if shapes is not None else gen.r6.random() < PROBABILITY
    gen.classes_g = on and "classes_g" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if gen.features & set(FEATURES) else []


def statement(gen, scope, indent, nested_ok):
    """One classes_g statement (a list of lines) of f, or None."""
    if (not gen.classes_g or scope.in_helper or not scope.arrays
            or gen.r6.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r6
    A, B = r.choice(scope.arrays), r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    kind = r.randrange(5)
    if kind == 4:
        return _attribute_list(gen, A, s, c, indent)
    if kind == 0:
        return _helper_then_write(gen, A, s, c, indent)
    if kind == 1:
        return _helper_in_loop(gen, A, s, c, indent)
    if kind == 2:
        return _object_kept(gen, A, B, s, c, indent)
    return _function_value(gen, A, s, c, indent)


def _call(gen, t, s, c):
    return gen.r6.choice([f"g_sum({t})", f"g_head({t}, {c})", f"g_both({t}, {s})", f"g_head({t})"])


def _write(gen, t, s, c, indent):
    r, N = gen.r6, gen.N
    return r.choice([f"{indent}{t}[{r.randrange(N)}] = {s} * {c}",
                     f"{indent}{t}[:{r.randrange(1, N)}] *= {c}",
                     f"{indent}{t}[[0, 0, 1]] -= np.tanh({t}[[1, 0, 0]] * {s})",
                     f"{indent}{t} += {c}",
                     f"{indent}{t}[-1] = np.cos({t}[0])"])


def _helper_then_write(gen, A, s, c, indent):
    gen.features.add("g_helper_then_write")
    t = gen.fresh("t")
    made = gen.r6.choice([f"{A} * 1.0", f"np.tanh({A})", f"{A}.copy()"])
    return [f"{indent}{t} = {made}",
            f"{indent}{s} = {s} + {_call(gen, t, s, c)}",
            _write(gen, t, s, c, indent),
            f"{indent}{s} = {s} + np.sum({t} * {t}) * {c}"]


def _helper_in_loop(gen, A, s, c, indent):
    gen.features.add("g_helper_in_loop")
    t, i = gen.fresh("t"), gen.fresh("i")
    write = gen.r6.choice([f"{t}[{i}] *= {c} + 0.1 * {i}", f"{t}[{i}:] = np.sin({t}[{i}:])",
                           f"{t}[{i}] = {t}[{i}] * {s}"])
    return [f"{indent}{t} = {A} + 0.0",
            f"{indent}for {i} in range({gen.N}):",
            f"{indent}    {s} = {s} + {_call(gen, t, s, c)} * {c}",
            f"{indent}    {write}",
            f"{indent}{s} = {s} + np.sum({t}) * {c}"]


def _object_kept(gen, A, B, s, c, indent):
    gen.features.add("g_object_kept")
    t, k = gen.fresh("t"), gen.fresh("keeper")
    return [f"{indent}{t} = {A} * {c}",
            f"{indent}{k} = GKeeper({t}, {s})",
            f"{indent}{s} = {s} + {k}.energy({B})",
            _write(gen, t, s, c, indent),
            f"{indent}{s} = {s} + np.sum({t} ** 2) * {c}"]


def _function_value(gen, A, s, c, indent):
    gen.features.add("g_function_value")
    t, pick = gen.fresh("t"), gen.fresh("pick")
    return [f"{indent}{t} = {A} - 0.5",
            f"{indent}{pick} = g_sum if {s} > 0.0 else g_head",
            f"{indent}{s} = {s} + {pick}({t})",
            _write(gen, t, s, c, indent),
            f"{indent}{s} = {s} + np.sum({t}) * {c}"]


def _attribute_list(gen, A, s, c, indent):
    r = gen.r6
    gen.features.add("g_attribute_list")
    st, t = gen.fresh("stack"), gen.fresh("t")
    made = r.choice([f"GStack.of({s}, {r.randint(1, 3)})", f"GStack([{s}, {A} * {c}])"])
    return [f"{indent}{st} = {made}",
            f"{indent}{t} = {st}.run({A})",
            f"{indent}{s} = {s} + np.sum({t}) * {c} + np.sum({st}.layers[0].seen) + {st}.layers[-1].calls"]
