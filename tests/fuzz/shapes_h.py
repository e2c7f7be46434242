"""Shape "classes_h" (tests/fuzz/FINDINGS_g.md, session 7): Python's late evaluation and
statements with effects inside expressions.

h_generator: a generator function (module level, yielding pairs) consumed by a loop, by
    sum() or kept with list(); sometimes its input list is written before the generator
    is consumed (Python then reads the new item: diffc must refuse, never differentiate
    the old one); enumerate/zip results kept as lists (their second-order adjoints);
h_assert_effect: an assert whose test binds a name with := or appends to a list;
h_factory_closure: a closure made by a module-level factory over a fresh array, called,
    then the array rebound (fine) or written in place (Python's closure sees the write:
    diffc must refuse);
h_append_value: a list change whose value is used (`ok = lst.append(v)`), and a method
    that updates its object called inside `traj.append(...)`.

Draws from its own random stream (`r7`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("h_generator", "h_assert_effect", "h_factory_closure", "h_append_value")

HELPERS = '''def h_pairs(ws):
    for i, w in enumerate(ws):
        yield w * (i + 1.0), np.tanh(w)

def h_make(w):
    return lambda u: np.sum(w * u) * 0.5

def h_make_def(w, c):
    def energy(u):
        return np.sum(np.sin(w) * u * u) * c
    return energy

class HIntegrator:
    def __init__(self, y, dt):
        self.y = y
        self.t = 0.0
        self.dt = dt

    def step(self, rate):
        self.y = self.y + self.dt * rate * self.y
        self.t += self.dt
        return self.y'''


def init(gen, seed, shapes, exclude):
    gen.r7 = random.Random(f"classes_h-{seed}")
    on = "classes_h" in shapes if shapes is not None else gen.r7.random() < PROBABILITY
    gen.classes_h = on and "classes_h" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if gen.features & set(FEATURES) else []


def statement(gen, scope, indent, nested_ok):
    """One classes_h statement (a list of lines) of f, or None."""
    if (not gen.classes_h or scope.in_helper or not scope.arrays
            or gen.r7.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r7
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_generator, _assert_effect, _factory_closure, _append_value][r.randrange(4)](gen, A, s, c, indent)


def _generator(gen, A, s, c, indent):
    r = gen.r7
    gen.features.add("h_generator")
    ws, g, a, b = gen.fresh("ws"), gen.fresh("gen"), gen.fresh("a"), gen.fresh("b")
    lines = [f"{indent}{ws} = [{A}[0] * {s}, {A}[-1] + {c}]"]
    form = r.randrange(5)
    if form == 0:           # written before it runs: Python reads the new item
        lines += [f"{indent}{g} = h_pairs({ws})",
                  f"{indent}{ws}[0] = {s} * {c}",
                  f"{indent}{s} = {s} + sum({a} * {b} for {a}, {b} in {g})"]
    elif form == 1:
        lines += [f"{indent}for {a}, {b} in h_pairs({ws}):",
                  f"{indent}    {s} = {s} + {a} * {b} * {c}"]
    elif form == 2:
        lines += [f"{indent}{g} = list(h_pairs({ws}))",
                  f"{indent}{ws}[0] = {s} * {c}",
                  f"{indent}{s} = {s} + {g}[0][0] * {g}[-1][1] + {ws}[0]"]
    elif form == 3:
        lines += [f"{indent}{g} = list(enumerate({ws}))",
                  f"{indent}{s} = {s} + sum(({a} + 1) * {b} * {b} for {a}, {b} in {g}) * {c}"]
    else:
        lines += [f"{indent}{g} = list(zip({ws}, [{s}, {c}]))",
                  f"{indent}{s} = {s} + {g}[0][0] * {g}[1][1] + {g}[1][0] * {g}[0][1]"]
    return lines


def _assert_effect(gen, A, s, c, indent):
    gen.features.add("h_assert_effect")
    n, vals = gen.fresh("n"), gen.fresh("vals")
    if gen.r7.random() < 0.5:
        return [f"{indent}assert ({n} := np.sum({A} * {A}) + 1.0) > 0.0, 'negative'",
                f"{indent}{s} = {s} + np.sqrt({n}) * {c}"]
    return [f"{indent}{vals} = [{s}]",
            f"{indent}assert {vals}.append(np.sum(np.tanh({A})) * {c}) is None",
            f"{indent}{s} = {s} + sum({vals})"]


def _factory_closure(gen, A, s, c, indent):
    r = gen.r7
    gen.features.add("h_factory_closure")
    t, f = gen.fresh("t"), gen.fresh("f")
    made = r.choice([f"h_make({t})", f"h_make_def({t}, {c})"])
    after = r.choice([f"{indent}{t} = {t} * {c}",                 # a new array: f keeps the old one
                      f"{indent}{t}[0] = {s} * {c}",              # Python's f sees the write
                      f"{indent}{t} *= {c}"])
    return [f"{indent}{t} = {A} * {s}",
            f"{indent}{f} = {made}",
            f"{indent}{s} = {s} + {f}({A})",
            after,
            f"{indent}{s} = {s} + {f}({A} * {c}) + np.sum({t}) * {c}"]


def _append_value(gen, A, s, c, indent):
    gen.features.add("h_append_value")
    lst, ok, it, k = gen.fresh("lst"), gen.fresh("ok"), gen.fresh("it"), gen.fresh("k")
    if gen.r7.random() < 0.5:
        return [f"{indent}{lst} = [{s}]",
                f"{indent}{ok} = {lst}.append(np.sum({A} * {c}))",
                f"{indent}{s} = {s} + sum({lst}) + (1.0 if {ok} is None else 0.0)"]
    return [f"{indent}{it} = HIntegrator({A} * 1.0, 0.1)",
            f"{indent}{lst} = []",
            f"{indent}for {k} in range(3):",
            f"{indent}    {lst}.append({it}.step({s} * {c}))",
            f"{indent}{s} = {s} + np.sum({lst}[-1]) + np.sum({lst}[0] ** 2) * {c} + {it}.t"]
