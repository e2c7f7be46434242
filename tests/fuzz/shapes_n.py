"""Shape "classes_n" (session 10, helper s10a; tests: tests/test_hunt_s10a.py):

n_nested_write: ``grid[i][j] = v`` / ``state["q"][0] += v`` into items of a list of lists
    or a dict of arrays that other code also reads whole (a comprehension over the rows, a
    name holding one item taken before the write and read after it: Python shares it);
n_list_slice: a slice of a list is a new list (``t = lst[0:2]; t[0] = v`` and
    ``lst[1:][0] = v`` leave lst alone), next to the same on an array, where it is a view;
n_object_list: a list of new objects of a module-level class, stepped by a method writing
    their attributes in nested loops reusing the loop variable, read back by a generator;
n_handed_back: an array a call hands back from a container (``lst.pop(0)``, ``d.get(k)``,
    ``d.pop(k)``, ``d.setdefault(k, v)``, ``next(it)``, ``max(arrays, key=f)``, an item of
    ``lst.copy()``) written in place while other names still hold it (session 10, lead:
    tests/test_items_handed_back.py): Python changes it for all of them.

Draws from its own random stream (`r13`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("n_nested_write", "n_list_slice", "n_object_list", "n_handed_back")

HELPERS = '''class NBody:
    def __init__(self, x, v):
        self.x = x
        self.v = v

    def step(self, dt):
        self.v = self.v - dt * np.sin(self.x)
        self.x = self.x + dt * self.v'''


def init(gen, seed, shapes, exclude):
    gen.r13 = random.Random(f"classes_n-{seed}")
    on = "classes_n" in shapes if shapes is not None else gen.r13.random() < PROBABILITY
    gen.classes_n = on and "classes_n" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if "n_object_list" in gen.features else []


def statement(gen, scope, indent, nested_ok):
    """One classes_n statement (a list of lines) of f, or None."""
    if (not gen.classes_n or scope.in_helper or not scope.arrays
            or gen.r13.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r13
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_nested_write, _list_slice, _object_list, _handed_back][r.randrange(4)](gen, A, s, c, indent)


def _nested_write(gen, A, s, c, indent):
    r = gen.r13
    gen.features.add("n_nested_write")
    if r.random() < 0.5:
        grid, i, j = gen.fresh("grid"), gen.fresh("i"), gen.fresh("j")
        return [f"{indent}{grid} = [[0.0] * 2 for _ in range(2)]",
                f"{indent}for {i} in range(2):",
                f"{indent}    for {j} in range(2):",
                f"{indent}        {grid}[{i}][{j}] = {s} * ({i} + 1) + {A}.ravel()[0] * {j} * {c}",
                f"{indent}{grid}[1][0] += {grid}[0][1] * {s}",
                f"{indent}{s} = {s} + sum(sum(row) for row in {grid}) * {c} + {grid}[1][0] ** 2"]
    st, held = gen.fresh("st"), gen.fresh("held")
    lines = [f"{indent}{st} = {{\"p\": {A}.ravel()[:2] * {c}, \"q\": np.zeros(2)}}"]
    take = r.random() < 0.5
    if take:
        lines.append(f"{indent}{held} = {st}[\"q\"]")
    lines += [f"{indent}{st}[\"q\"][0] += {st}[\"p\"][1] * {s}",
              f"{indent}{st}[\"p\"][1] = np.sin({st}[\"q\"][0]) + {s}",
              f"{indent}{s} = {s} + np.sum({st}[\"p\"] * {st}[\"q\"])"]
    if take:
        lines.append(f"{indent}{s} = {s} + {held}[0] * {c}")
    return lines


def _list_slice(gen, A, s, c, indent):
    r = gen.r13
    gen.features.add("n_list_slice")
    lst, t, a = gen.fresh("lst"), gen.fresh("t"), gen.fresh("a")
    lines = [f"{indent}{lst} = [{s}, {A}.ravel()[0] * {c}, {c}]",
             f"{indent}{t} = {lst}[0:2]",
             f"{indent}{t}[0] = {t}[1] * {s}",
             f"{indent}{lst}[1:][0] = {s} * 3.0",
             f"{indent}{s} = {s} + {lst}[0] * {t}[0] + {lst}[1]"]
    if r.random() < 0.5:
        lines += [f"{indent}{a} = {A}.ravel()[:3] * {c}",
                  f"{indent}{t} = {a}[0:2]",
                  f"{indent}{t}[0] = {t}[-1] * {s}",
                  f"{indent}{s} = {s} + np.sum({a})"]
    return lines


def _object_list(gen, A, s, c, indent):
    gen.features.add("n_object_list")
    bodies, b, k = gen.fresh("bodies"), gen.fresh("b"), gen.fresh("k")
    return [f"{indent}{bodies} = [NBody(v, {s} * {c}) for v in {A}.ravel()[:3]]",
            f"{indent}for {k} in range(2):",
            f"{indent}    for {b} in {bodies}:",
            f"{indent}        {b}.step({c})",
            f"{indent}    for {b} in reversed({bodies}):",
            f"{indent}        {b}.step({c} * 0.5)",
            f"{indent}{s} = {s} + sum({b}.x * {b}.v for {b} in {bodies}) * {c}"]


def _handed_back(gen, A, s, c, indent):
    r = gen.r13
    gen.features.add("n_handed_back")
    a, b, box, y, keep = gen.fresh("a"), gen.fresh("b"), gen.fresh("box"), gen.fresh("y"), gen.fresh("keep")
    lines = [f"{indent}{a} = {A}.ravel()[:3] * {c}",
             f"{indent}{b} = {A}.ravel()[:3] + {s}"]
    take = r.choice([
        (f"[{a}, {b}]", f"{box}.pop(0)"),
        (f"[{b}, {a}]", f"{box}.pop()"),
        (f"{{\"u\": {a}, \"w\": {b}}}", f"{box}.get(\"u\")"),
        (f"{{\"u\": {a}, \"w\": {b}}}", f"{box}.pop(\"u\")"),
        (f"{{\"u\": {a}}}", f"{box}.setdefault(\"u\", {b})"),
        (f"iter([{a}, {b}])", f"next({box})"),
        (f"[{a}, {b}]", f"max({box}, key=lambda v: abs(v[0]))"),
        (f"[{a}, {b}]", f"{box}.copy()[0]"),
    ])
    lines.append(f"{indent}{box} = {take[0]}")
    if r.random() < 0.5:
        lines.append(f"{indent}{keep} = {a}")
        reader = keep
    else:
        reader = a
    lines.append(f"{indent}{y} = {take[1]}")
    lines.append(r.choice([f"{indent}{y}[1] = {y}[0] * {s}", f"{indent}{y} *= {c}"]))
    lines.append(f"{indent}{s} = {s} + np.sum({reader} * {c}) + np.sum({b}) * {s}")
    return lines
