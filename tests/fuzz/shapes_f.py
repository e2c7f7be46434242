"""Shape "classes_f" (tests/fuzz/FINDINGS_e.md): in-place writes and partials found in
session 5.

f_container_inplace: arrays put in a list, tuple or dict (fresh or the program's own
    arrays), then updated in place through a loop target (`for p in (A, B): p *= c`), an
    item name (`p = lst[0]; p -= ...`) or dict values; the arrays or the container read
    afterwards (Python changes the program's arrays: diffc used to differentiate them
    unchanged);
f_two_names: two names read from one list item or array row, one written in place, the
    other read (the other kept a stale value);
f_nested_item: `rows[i][j] = v` / `+=` into a list of fresh arrays, read back;
f_partial: a partial of a partial of a NumPy function, and a partial's keyword
    overridden at the call (the inner partial's values were dropped; the overridden
    keyword took the next one's derivative).

Draws from its own random stream (`r5`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1            # per program (most of its programs are rightly refused: Python changes shared arrays)
STATEMENT_PROBABILITY = 0.2  # per statement, when on
FEATURES = ("f_container_inplace", "f_two_names", "f_nested_item", "f_partial")


def init(gen, seed, shapes, exclude):
    gen.r5 = random.Random(f"classes_f-{seed}")
    on = "classes_f" in shapes if shapes is not None else gen.r5.random() < PROBABILITY
    gen.classes_f = on and "classes_f" not in exclude


def statement(gen, scope, indent, nested_ok):
    """One classes_f statement (a list of lines) fitting the scope, or None."""
    if not gen.classes_f or not scope.arrays or gen.r5.random() >= STATEMENT_PROBABILITY:
        return None
    r = gen.r5
    A, B = r.choice(scope.arrays), r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    kind = r.randrange(4)
    if kind == 0:
        return _container_inplace(gen, A, B, s, c, indent)
    if kind == 1:
        return _two_names(gen, A, B, s, c, indent)
    if kind == 2:
        return _nested_item(gen, A, B, s, c, indent)
    return _partial(gen, A, B, s, c, indent)


def _container_inplace(gen, A, B, s, c, indent):
    r = gen.r5
    gen.features.add("f_container_inplace")
    lst, p, k = gen.fresh("lst"), gen.fresh("p"), gen.fresh("k")
    items = r.choice([f"[{A}, {B}]", f"({A}, {B})", f"[{A} * 1.0, {B} + 0.0]"])
    op = r.choice(["*=", "+=", "-="])
    form = r.randrange(3)
    if form == 0:
        loop = [f"{indent}for {p} in {lst}:", f"{indent}    {p} {op} {c} * {s}"]
    elif form == 1:
        loop = [f"{indent}{p} = {lst}[{r.randrange(2)}]", f"{indent}{p} {op} np.tanh({p}) * {c}"]
    else:
        items = "{" + f"'a': {A}, 'b': {B}" + "}"
        loop = [f"{indent}for {k}, {p} in {lst}.items():", f"{indent}    {p} {op} {c}"]
    read = r.choice([f"np.sum({A} * {B})", f"np.sum({lst}[{'0' if form < 2 else repr('a')}] ** 2)"])
    return [f"{indent}{lst} = {items}"] + loop + [f"{indent}{s} = {s} + {read} * {c}"]


def _two_names(gen, A, B, s, c, indent):
    r = gen.r5
    gen.features.add("f_two_names")
    rows, kept, edited = gen.fresh("rows"), gen.fresh("kept"), gen.fresh("edited")
    made = r.choice([f"[{A} * 1.0, {B} * 1.0]", f"np.stack([{A}, {B}])"])
    j, k = r.randrange(2), r.randrange(2)
    return [f"{indent}{rows} = {made}",
            f"{indent}{kept} = {rows}[{j}]",
            f"{indent}{edited} = {rows}[{k}]",
            f"{indent}{edited}[0] = {edited}[-1] * {s} + {c}",
            f"{indent}{s} = {s} + np.sum({kept} ** 2) * {c}"]


def _nested_item(gen, A, B, s, c, indent):
    r, N = gen.r5, gen.N
    gen.features.add("f_nested_item")
    rows, i = gen.fresh("rows"), gen.fresh("i")
    op = r.choice(["=", "+=", "*="])
    return [f"{indent}{rows} = [np.zeros({N}), np.ones({N})]",
            f"{indent}for {i} in range({N}):",
            f"{indent}    {rows}[{i} % 2][{i}] {op} {A}[{i}] * {s} + {B}[({i} + 1) % {N}] * {c}",
            f"{indent}{s} = {s} + np.sum(np.stack({rows}) * {c}) + {rows}[1][0] * {rows}[0][-1]"]


def _partial(gen, A, B, s, c, indent):
    r = gen.r5
    gen.features.add("f_partial")
    h = gen.fresh("h")
    if r.random() < 0.5:
        return [f"{indent}{h} = functools.partial(functools.partial(np.multiply, {A}), {B})",
                f"{indent}{s} = {s} + np.sum({h}()) * {c}"]
    return [f"{indent}{h} = functools.partial(np.clip, a_min=-{s} * {s} - 1.0, a_max={c} + {s} * {s})",
            f"{indent}{s} = {s} + np.sum({h}({A}, a_max=1.5)) + np.sum({h}({B})) * {c}"]
