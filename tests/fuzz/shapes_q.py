"""Shape "classes_q" (session 11, helper s11c, issue 15 leftovers; tests:
tests/test_correctness_s11c.py):

q_radial_power: a literal power p >= 2 of a radius, ``abs(z) ** 3`` of a complex value,
    ``np.hypot(a, b) ** 2``, ``np.sqrt(a**2 + b**2) ** 2``, ``np.linalg.norm(v) ** 3``, at
    arguments that are sometimes exactly 0 (where the chain rule through the radius had no
    slope: NaN or a lost 2 at second order);
q_with_target: ``with m as t`` where __enter__ hands back the manager itself or an array it
    holds, and the body writes into t (``t[0] = v``, ``t *= c``, ``t.data[1] = v``), the
    manager read after;
q_exit_swallows: a with whose __exit__ appends to a module-level list, writes a module
    array and swallows the exception the body raises on a data-dependent branch;
q_fill_returns: ``w = fill(u, v)`` where fill writes into u and returns it, then w written
    or read and u read.

Draws from its own random stream (`r_q`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("q_radial_power", "q_with_target", "q_exit_swallows", "q_fill_returns")

HELPERS = '''class QBuffer:
    def __init__(self, n):
        self.data = np.zeros(n)

    def __enter__(self):
        return self.data

    def __exit__(self, kind, value, tb):
        return False


class QSelf:
    def __init__(self, n):
        self.data = np.ones(n)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        return False


Q_EXITS = []
Q_COUNT = np.zeros(1)


class QSwallow:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        Q_EXITS.append(kind)
        Q_COUNT[0] += 1.0
        return True


def q_fill(u, v):
    u[:] = v * 2.0
    return u'''


def init(gen, seed, shapes, exclude):
    gen.r_q = random.Random(f"classes_q-{seed}")
    on = "classes_q" in shapes if shapes is not None else gen.r_q.random() < PROBABILITY
    gen.classes_q = on and "classes_q" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if gen.features & {"q_with_target", "q_exit_swallows", "q_fill_returns"} else []


def statement(gen, scope, indent, nested_ok):
    """One classes_q statement (a list of lines) of f, or None."""
    if (not gen.classes_q or scope.in_helper or not scope.arrays
            or gen.r_q.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r_q
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_radial_power, _with_target, _exit_swallows, _fill_returns][r.randrange(4)](gen, A, s, c, indent)


def _radial_power(gen, A, s, c, indent):
    r = gen.r_q
    gen.features.add("q_radial_power")
    a, b = gen.fresh("a"), gen.fresh("b")
    # sometimes exactly at the origin of the radius (a multiple of 0.0 keeps the dependence)
    zero = r.random() < 0.5
    lines = [f"{indent}{a} = np.ravel({A})[0] * {'0.0' if zero else c}",
             f"{indent}{b} = {s} * {'0.0' if zero else '1.0'}"]
    form = r.randrange(4)
    if form == 0:
        lines.append(f"{indent}{s} = {s} + abs({a} + 1j * {b}) ** 3 * {c}")
    elif form == 1:
        lines.append(f"{indent}{s} = {s} + np.hypot({a}, {b}) ** 2")
    elif form == 2:
        lines.append(f"{indent}{s} = {s} + np.sqrt({a} ** 2 + {b} ** 2) ** 2 * {c}")
    else:
        lines.append(f"{indent}{s} = {s} + np.linalg.norm(np.array([{a}, {b}])) ** 3")
    return lines


def _with_target(gen, A, s, c, indent):
    r = gen.r_q
    gen.features.add("q_with_target")
    m, t = gen.fresh("mgr"), gen.fresh("t")
    if r.random() < 0.5:
        lines = [f"{indent}{m} = QBuffer(3)",
                 f"{indent}with {m} as {t}:",
                 f"{indent}    {t}[0] = np.ravel({A})[0] * {s}",
                 f"{indent}    {t}[1:] += np.ravel({A})[-1] * {c}"]
        if r.random() < 0.5:
            lines.append(f"{indent}    {t} *= {s}")
        lines.append(f"{indent}{s} = {s} + np.sum({m}.data ** 2) * {c}")
        return lines
    return [f"{indent}{m} = QSelf(3)",
            f"{indent}with {m} as {t}:",
            f"{indent}    {t}.data[1] = np.ravel({A})[0] * {s}",
            f"{indent}    {t}.data = {t}.data * {c}",
            f"{indent}{s} = {s} + np.sum({m}.data) * {s}"]


def _exit_swallows(gen, A, s, c, indent):
    gen.features.add("q_exit_swallows")
    y = gen.fresh("y")
    return [f"{indent}{y} = {s} * {c}",
            f"{indent}with QSwallow():",
            f"{indent}    {y} = {y} + np.ravel({A})[0]",
            f"{indent}    if {y} > 0:",
            f"{indent}        raise ValueError('positive')",
            f"{indent}    {y} = {y} * {c}",
            f"{indent}{s} = {s} + {y} ** 2"]


def _fill_returns(gen, A, s, c, indent):
    r = gen.r_q
    gen.features.add("q_fill_returns")
    u, w = gen.fresh("u"), gen.fresh("w")
    lines = [f"{indent}{u} = np.zeros(3)",
             f"{indent}{w} = q_fill({u}, np.full(3, {s}) + np.ravel({A})[0])"]
    if r.random() < 0.5:
        lines.append(f"{indent}{w}[0] = {w}[1] * {c}")
    lines.append(f"{indent}{s} = {s} + np.sum({u} * {w}) * {c}")
    return lines
