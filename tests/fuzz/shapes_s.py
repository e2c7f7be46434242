"""Shape "classes_s" (session 12, helper s12b, issue 17 leftovers; tests:
tests/test_libraries_s12b.py):

s_bound_radius: a radius bound to a name first and then raised to a literal power >= 2
    (``r = np.hypot(a, b)``, ``r = np.sqrt(v @ v)``, ``r = np.linalg.norm(v)``; ``r ** p``,
    ``r * r``, ``np.square(r)``), at arguments that are sometimes exactly 0 (the hessian was
    0 or NaN there, true 2 I);
s_number_axes: a NumPy scalar (an item of an array, np.where of scalars) given unit axes
    (``a[None]``, ``a[np.newaxis, ...]``) and concatenated with array slices (the jvp was 0,
    reverse mode raised TypeError);
s_zero_adjoint: an attribute of an object built in f read and squared where its value is
    exactly 0 (the hessian entry was 0: the adjoint computed as 0.0 skipped the rule when
    differentiated again).

Draws from its own random stream (`r_s`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("s_bound_radius", "s_number_axes", "s_zero_adjoint")

HELPERS = '''class SHolder:
    def __init__(self, v):
        self.values = v * 1.0'''


def init(gen, seed, shapes, exclude):
    gen.r_s = random.Random(f"classes_s-{seed}")
    on = "classes_s" in shapes if shapes is not None else gen.r_s.random() < PROBABILITY
    gen.classes_s = on and "classes_s" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if "s_zero_adjoint" in gen.features else []


def statement(gen, scope, indent, nested_ok):
    """One classes_s statement (a list of lines) of f, or None."""
    if (not gen.classes_s or scope.in_helper or not scope.arrays
            or gen.r_s.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r_s
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_bound_radius, _number_axes, _zero_adjoint][r.randrange(3)](gen, A, s, c, indent)


def _bound_radius(gen, A, s, c, indent):
    r = gen.r_s
    gen.features.add("s_bound_radius")
    a, b, rad = gen.fresh("a"), gen.fresh("b"), gen.fresh("rad")
    zero = r.random() < 0.5
    lines = [f"{indent}{a} = np.ravel({A})[0] * {'0.0' if zero else c}",
             f"{indent}{b} = {s} * {'0.0' if zero else '1.0'}"]
    form = r.randrange(3)
    if form == 0:
        lines.append(f"{indent}{rad} = np.hypot({a}, {b})")
    elif form == 1:
        v = gen.fresh("v")
        lines += [f"{indent}{v} = np.array([{a}, {b}])", f"{indent}{rad} = np.sqrt({v} @ {v})"]
    else:
        lines.append(f"{indent}{rad} = np.linalg.norm(np.array([{a}, {b}]))")
    use = r.choice([f"{rad} ** 2", f"{rad} * {rad}", f"np.square({rad})", f"{rad} ** 4 * {c}"])
    lines.append(f"{indent}{s} = {s} + {use}")
    return lines


def _number_axes(gen, A, s, c, indent):
    r = gen.r_s
    gen.features.add("s_number_axes")
    n, w = gen.fresh("n"), gen.fresh("w")
    first = f"np.ravel({A})[0] * {s}" if r.random() < 0.5 else \
        f"np.where({s} > 0, {s} * {c}, np.ravel({A})[-1] * 0.5)"
    index = r.choice(["[None]", "[np.newaxis]", "[None, ...]"])
    return [f"{indent}{n} = {first}",
            f"{indent}{w} = np.concatenate([{n}{index}, np.ravel({A})[:2] * {c}])",
            f"{indent}{s} = {s} + np.sum({w} ** 2)"]


def _zero_adjoint(gen, A, s, c, indent):
    gen.features.add("s_zero_adjoint")
    h = gen.fresh("h")
    return [f"{indent}{h} = SHolder(np.ravel({A})[:2] * np.array([0.0, {c}]))",
            f"{indent}{s} = {s} + {h}.values[0] ** 2 + {h}.values[1] ** 2"]
