"""Shape "classes_l" (session 9: transform/item_write_back.py; tests: tests/test_item_write_back.py):

writes into an item taken out of a container, which Python's container then shows:
l_rows: the rows of a local 2-d array written through the loop variable of `for row in M`
    (with enumerate, `row[:] = v` or `row *= s`) or through a name `r = M[k]`;
l_state: a dict of arrays whose item, taken by name in a loop, is updated in place (`h += v`,
    `h[:] = ...`), then read through the dict;
l_params: a list of arrays updated in place through the loop variable (`for p in ps: p *= s`,
    `for p, g in zip(ps, gs): p -= c * g`), then read through the list;
l_nested: an item of an item of a list written (`w = ls[0][1]`-like, taken in two steps);
l_twice: one array held twice by a list, written through one place and read through the
    other: diffc must refuse it (never a wrong gradient);
l_callee: a module-level helper that writes into its argument and returns nothing (or a
    number): boundary values, `acc += v`, rows scaled through `for row in M`, a helper
    calling such a helper, a local def returning the array whose rows it scaled
    (transform/callee_writes.py);
l_iter: `it = iter(...)` read by next(it), next(it, d), list(it), a for over it broken
    early, and next(it) inside a comprehension (which must be refused)
    (transform/explicit_iterators.py);
l_placed: arrays placed in a list or dict display, an item taken out (by a loop, a constant
    or a key) and updated in place, then the arrays read by their own names
    (item_write_back.placed_re_read).

Draws from its own random stream (`r11`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("l_rows", "l_state", "l_params", "l_nested", "l_twice", "l_callee", "l_iter", "l_placed")

HELPERS = '''def l_boundary(u):
    u[0] = 0.0
    u[-1] = 0.5 * u[-1]


def l_accumulate(acc, v, c):
    acc += v * c
    return float(np.sum(acc))


def l_scale_rows(M, v):
    for i, row in enumerate(M):
        row *= v[i % v.size]


def l_twice_written(u, v):
    l_boundary(u)
    u[1:] = u[1:] + v[: u.size - 1]'''


def init(gen, seed, shapes, exclude):
    gen.r11 = random.Random(f"classes_l-{seed}")
    on = "classes_l" in shapes if shapes is not None else gen.r11.random() < PROBABILITY
    gen.classes_l = on and "classes_l" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if "l_callee" in gen.features else []


def statement(gen, scope, indent, nested_ok):
    """One classes_l statement (a list of lines) of f, or None."""
    if (not gen.classes_l or not scope.arrays or gen.r11.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r11
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_rows, _state, _params, _nested, _twice, _callee, _iter, _placed][r.randrange(8)](gen, A, s, c, indent)


def _rows(gen, A, s, c, indent):
    r = gen.r11
    gen.features.add("l_rows")
    M, row, i = gen.fresh("M"), gen.fresh("row"), gen.fresh("i")
    v = f"{A}.ravel()[:2]"
    lines = [f"{indent}{M} = np.outer({v}, {v}) * {c}"]
    form = r.randrange(3)
    if form == 0:
        lines += [f"{indent}for {i}, {row} in enumerate({M}):",
                  f"{indent}    {row}[:] = np.sin({row} * {s} + {i})"]
    elif form == 1:
        lines += [f"{indent}for {row} in {M}:",
                  f"{indent}    {row} *= {s}"]
    else:
        lines += [f"{indent}{row} = {M}[1]",
                  f"{indent}{row}[0] = {s} * {c}"]
    return lines + [f"{indent}{s} = {s} + np.sum({M} * {M}) * {c}"]


def _state(gen, A, s, c, indent):
    r = gen.r11
    gen.features.add("l_state")
    st, h, t = gen.fresh("state"), gen.fresh("h"), gen.fresh("t")
    update = r.choice([f"{h} += {A}.ravel()[:2] * {s}", f"{h}[:] = np.tanh({h} * {c} + {s})"])
    return [f"{indent}{st} = {{'h': np.zeros(2), 'c': {A}.ravel()[:2] * {c}}}",
            f"{indent}for {t} in range(2):",
            f"{indent}    {h} = {st}['h']",
            f"{indent}    {update}",
            f"{indent}{s} = {s} + np.sum({st}['h'] * {st}['c'])"]


def _params(gen, A, s, c, indent):
    r = gen.r11
    gen.features.add("l_params")
    ps, p, g = gen.fresh("ps"), gen.fresh("p"), gen.fresh("g")
    lines = [f"{indent}{ps} = [{A}.ravel() * {c}, {A}.ravel() ** 2]"]
    if r.random() < 0.5:
        lines += [f"{indent}for {p} in {ps}:", f"{indent}    {p} *= {s}"]
    else:
        gs = gen.fresh("gs")
        lines += [f"{indent}{gs} = [np.cos({A}.ravel()), {A}.ravel() * {s}]",
                  f"{indent}for {p}, {g} in zip({ps}, {gs}):",
                  f"{indent}    {p} -= {c} * {g}"]
    return lines + [f"{indent}{s} = {s} + np.sum({ps}[0] * {ps}[1]) * {c}"]


def _nested(gen, A, s, c, indent):
    gen.features.add("l_nested")
    ls, first, w = gen.fresh("ls"), gen.fresh("first"), gen.fresh("w")
    return [f"{indent}{ls} = [[{A}.ravel() * {s}, {A}.ravel() + {c}], [{A}.ravel()]]",
            f"{indent}{first} = {ls}[0]",
            f"{indent}{w} = {first}[1]",
            f"{indent}{w}[0] = {s} * {c}",
            f"{indent}{s} = {s} + np.sum({ls}[0][1] * {ls}[0][0])"]


def _twice(gen, A, s, c, indent):
    gen.features.add("l_twice")
    a, lst, b = gen.fresh("a"), gen.fresh("lst"), gen.fresh("b")
    return [f"{indent}{a} = {A}.ravel() * {s}",
            f"{indent}{lst} = [{a}, {a}]",
            f"{indent}{b} = {lst}[0]",
            f"{indent}{b}[0] = {c}",
            f"{indent}{s} = {s} + np.sum({lst}[1]) * {c}"]


def _callee(gen, A, s, c, indent):
    r = gen.r11
    gen.features.add("l_callee")
    u, t = gen.fresh("u"), gen.fresh("t")
    form = r.randrange(5)
    lines = [f"{indent}{u} = np.sin({A}.ravel()) * {s} + {c}"]
    if form == 0:
        lines.append(f"{indent}l_boundary({u})")
    elif form == 1:
        lines.append(f"{indent}{t} = l_accumulate({u}, np.cos({A}.ravel()), {s})")
        lines.append(f"{indent}{s} = {s} + {t} * {c}")
    elif form == 2:
        M = gen.fresh("M")
        lines += [f"{indent}{M} = np.outer({u}[:2], {u}[:2])",
                  f"{indent}l_scale_rows({M}, {u})",
                  f"{indent}{u} = {M}.ravel()"]
    elif form == 3:
        lines.append(f"{indent}l_twice_written({u}, {A}.ravel() * {c})")
    else:
        step = gen.fresh("step")
        lines += [f"{indent}def {step}(M):",
                  f"{indent}    for row in M:",
                  f"{indent}        row *= {s}",
                  f"{indent}    return M",
                  f"{indent}{u} = {step}(np.outer({u}[:2], {u}[:2])).ravel()"]
    return lines + [f"{indent}{s} = {s} + np.sum({u} * {u}) * {c}"]


def _iter(gen, A, s, c, indent):
    r = gen.r11
    gen.features.add("l_iter")
    it, a, b, v = gen.fresh("it"), gen.fresh("a"), gen.fresh("b"), gen.fresh("v")
    form = r.randrange(5)
    lines = [f"{indent}{it} = iter([{A}.ravel() * {s}, np.cos({A}.ravel()), {A}.ravel() + {c}])"]
    if form == 0:
        lines += [f"{indent}{a} = next({it})", f"{indent}{b} = next({it}) * {c}"]
    elif form == 1:
        lines += [f"{indent}{a} = next({it})", f"{indent}{b} = sum(list({it}))"]
    elif form == 2:
        lines += [f"{indent}{a} = next({it})", f"{indent}{b} = next({it}, {a})", f"{indent}{b} = next({it}, {b}) + {b}",
                  f"{indent}{b} = next({it}, {b})"]
    elif form == 3:
        lines += [f"{indent}{a} = 0.0",
                  f"{indent}for {v} in {it}:",
                  f"{indent}    {a} = {a} + {v}",
                  f"{indent}    if np.sum({a}) > {c}:",
                  f"{indent}        break",
                  f"{indent}{b} = next({it}, {a})"]
    else:
        lines += [f"{indent}{a} = [next({it}) * {c} for _ in range(2)][1]", f"{indent}{b} = {a}"]
    return lines + [f"{indent}{s} = {s} + np.sum({a} * {b}) * {c}"]


def _placed(gen, A, s, c, indent):
    r = gen.r11
    gen.features.add("l_placed")
    a, b, box, q = gen.fresh("a"), gen.fresh("b"), gen.fresh("box"), gen.fresh("q")
    lines = [f"{indent}{a} = {A}.ravel() * {s}", f"{indent}{b} = np.cos({A}.ravel()) + {c}"]
    form = r.randrange(3)
    if form == 0:
        lines += [f"{indent}{box} = [{a}, {b}]", f"{indent}for {q} in {box}:", f"{indent}    {q} *= {c}"]
    elif form == 1:
        lines += [f"{indent}{box} = [{a}, {b}]", f"{indent}{q} = {box}[{r.choice([0, 1, -1])}]",
                  f"{indent}{q}[0] = {s} * {c}"]
    else:
        lines += [f"{indent}{box} = {{'a': {a}, 'b': {b}}}", f"{indent}{q} = {box}['{r.choice('ab')}']",
                  f"{indent}{q} += {s}"]
    return lines + [f"{indent}{s} = {s} + np.sum({a} * {b}) * {c}"]
