"""Shape "classes_r" (session 11, lead; tests: tests/test_helper_specializations.py and
tests/test_repeated_index_second_order.py):

r_kinds_helper: a module-level helper that writes in place into items of a list it builds
    (``for p in parts: p *= t``) or through a slice view of its result, called from f with
    a Python float, then with a NumPy scalar (``y @ y``, ``np.sum(y)``), then with an
    array: diffc compiles it once per argument kind, and one compilation's facts must not
    leak into the next (seeds 100004, 100324: the second one lost its write-backs and
    even f's value was wrong);
r_repeated_index: ``y[[0, 0, 1]] op= g(y[[1, 0, 0]] * s)`` in a loop whose result feeds
    the next step (seed 110004: wrong second derivatives, the overwritten entries of the
    repeated index got an adjoint in the gradient code built to be differentiated again);
r_object_overwrite: an object holding an array, a method rebinding the field, then an
    in-place write into the array and maybe a rebinding of it (seed 98017: wrong second
    derivatives, the old object kept the overwritten values);
r_identity_copy: ``t = y * 1.0`` (``1.0 * y``, ``y + 0.0``, ``y / 1.0``) read after an
    in-place write into y (seed 110058: t's tangent was y's, jvp wrong at first order).

Draws from its own random stream (`r17`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("r_kinds_helper", "r_repeated_index", "r_object_overwrite", "r_identity_copy")

HELPERS = '''def r_parts(a):
    t = a * 0.5
    w = np.ones(3) * a
    parts = [w.ravel() * 0.5, w.ravel() ** 2]
    for p in parts:
        p *= np.cos(t)
    head = w[0:2]
    head *= 0.5
    return parts[0] + parts[1] * 0.25 + w


class RCell:
    def __init__(self, h):
        self.h = h

    def step(self, u):
        self.h = self.h * u
        return self.h + u'''


def init(gen, seed, shapes, exclude):
    gen.r17 = random.Random(f"classes_r-{seed}")
    on = "classes_r" in shapes if shapes is not None else gen.r17.random() < PROBABILITY
    gen.classes_r = on and "classes_r" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if {"r_kinds_helper", "r_object_overwrite"} & gen.features else []


def statement(gen, scope, indent, nested_ok):
    """One classes_r statement (a list of lines) of f, or None."""
    if (not gen.classes_r or scope.in_helper or not scope.arrays
            or gen.r17.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r17
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_kinds_helper, _repeated_index, _object_overwrite, _identity_copy][r.randrange(4)](gen, A, s, c, indent)


def _kinds_helper(gen, A, s, c, indent):
    r = gen.r17
    gen.features.add("r_kinds_helper")
    y = gen.fresh("y")
    second = r.choice([f"{y} @ {y} * 0.1", f"np.sum({y}) * {c}", f"np.tanh({y}[0])"])
    lines = [f"{indent}{y} = r_parts(float({s}) * {c})",
             f"{indent}{y} = r_parts({second})"]
    if r.random() < 0.5:
        lines.append(f"{indent}{y} = r_parts({A}.ravel()[:3] * {c} + {y})")
    lines.append(f"{indent}{s} = {s} + np.sum(np.sin({y})) * {c}")
    return lines


def _repeated_index(gen, A, s, c, indent):
    r = gen.r17
    gen.features.add("r_repeated_index")
    t, k = gen.fresh("t"), gen.fresh("k")
    op = r.choice(["-=", "+=", "="])
    index = r.choice(["[0, 0, 1]", "[1, 0, 1]", "[2, 0, 2]"])
    read = r.choice(["[1, 0, 0]", "[0, 1, 2]", "[2, 2, 1]"])
    return [f"{indent}for {k} in range(2):",
            f"{indent}    {t} = {A}.ravel()[:3] * {c}",
            f"{indent}    {t}[{index}] {op} np.tanh({t}[{read}] * {s})",
            f"{indent}    {s} = {s} + np.sum({t} * {t}) * {c}"]


def _object_overwrite(gen, A, s, c, indent):
    r = gen.r17
    gen.features.add("r_object_overwrite")
    y, cell = gen.fresh("y"), gen.fresh("cell")
    lines = [f"{indent}{y} = {A}.ravel()[:3] * {c}",
             f"{indent}{cell} = RCell({y})",
             f"{indent}{cell}.step({s})",
             f"{indent}{s} = {s} + np.sum({cell}.h)",
             r.choice([f"{indent}{y}[1] = {s} * 0.5", f"{indent}{y}[1] *= {y}[0]", f"{indent}{y}[:2] = 2.0"])]
    if r.random() < 0.5:
        lines.append(f"{indent}{y} = {y} * {s}")
    lines.append(f"{indent}{s} = {s} + {y}[0] * {c}")
    return lines


def _identity_copy(gen, A, s, c, indent):
    r = gen.r17
    gen.features.add("r_identity_copy")
    y, t = gen.fresh("y"), gen.fresh("t")
    copy = r.choice([f"{y} * 1.0", f"1.0 * {y}", f"{y} + 0.0", f"{y} / 1.0"])
    return [f"{indent}{y} = {A}.ravel()[:3] * {c}",
            f"{indent}{t} = {copy}",
            f"{indent}{s} = {s} + np.sum({t} * {t})",
            r.choice([f"{indent}{y}[1:] = np.sin({y}[:-1])", f"{indent}{y}[0] = {s} * {c}"]),
            f"{indent}{s} = {s} + np.sum(np.sin({y})) + np.sum({t}) * {c}"]
