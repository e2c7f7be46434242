"""Shape "classes_d" (tests/fuzz/FINDINGS_d.md): the classes found in session 3.

d_broadcast_branch: a (N, 1) * (1, N) product used only on a branch, so its adjoint
    may stay the zero 0.0 (the zero times the smaller factor had the wrong shape);
d_view_after_element: an element write into an array then an augmented write into a
    slice covering it, in a loop (a view on the tape read after a restore);
d_iterate_view: `for i, e in enumerate(A)` rebinding A, then writing into the new A
    through a bound slice in a nested loop (the loop's re-read ran unguarded);
d_shared_tangent: a new array made from A (`+A`, `A + c`, a function value returning
    `u - c`, `A.astype(float)`, `np.array(A)`), then A written in place in a loop (also
    by a ufunc's positional out), then the new array read (forward mode gave it A's
    tangent object, which the write updated);
d_repeated_index: a write through an integer-array index naming an element twice
    (`A[[k, k, j]] += ...`, `= ...`, `*= ...`), in a loop: NumPy keeps one of the values
    (reverse mode gave the overwritten ones an adjoint).

Draws from its own random stream (`r3`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.3            # per program
STATEMENT_PROBABILITY = 0.2  # per statement, when on
FEATURES = ("d_broadcast_branch", "d_view_after_element", "d_iterate_view", "d_shared_tangent",
            "d_repeated_index")


def init(gen, seed, shapes, exclude):
    gen.r3 = random.Random(f"classes_d-{seed}")
    on = "classes_d" in shapes if shapes is not None else gen.r3.random() < PROBABILITY
    gen.classes_d = on and "classes_d" not in exclude


def statement(gen, scope, indent, nested_ok):
    """One classes_d statement (a list of lines) fitting the scope, or None."""
    if not gen.classes_d or not scope.arrays or gen.r3.random() >= STATEMENT_PROBABILITY:
        return None
    r, N = gen.r3, gen.N
    A, B = r.choice(scope.arrays), r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    kind = r.randrange(5)
    if kind == 0 or not nested_ok:
        gen.features.add("d_broadcast_branch")
        g = gen.fresh("g")
        test = r.choice([f"{s} > 0.0", f"np.sum({A}) < 0.5", f"{A}[0] > {B}[-1]"])
        return [f"{indent}{g} = ({A}[:, None] * {s}) * {B}[None, :]",
                f"{indent}if {test}:",
                f"{indent}    {s} = {s} + np.sum(np.tanh({g})) * {c}"]
    i = gen.fresh("i")
    if kind == 1:
        gen.features.add("d_view_after_element")
        k = r.randrange(1, N)
        return [f"{indent}for {i} in range({r.randint(1, 3)}):",
                f"{indent}    {A}[{k}] += {s} * {c}",
                f"{indent}    {A}[{k - 1}:] *= np.cos({A}[{i} % {N}]) * {c}"]
    if kind == 3:
        return _shared_tangent(gen, A, B, s, c, i, indent)
    if kind == 4:
        return _repeated_index(gen, A, B, s, c, i, indent)
    gen.features.add("d_iterate_view")
    e, t = gen.fresh("e"), gen.fresh("t")
    lo = r.randrange(0, N - 1)
    return [f"{indent}for {i}, {e} in enumerate({A}):",
            f"{indent}    {A} = {A} * {c} + {s}",
            f"{indent}    for _ in range(2):",
            f"{indent}        {t} = {A}[{lo}:{N}]",
            f"{indent}        {t} *= {c}",
            f"{indent}        {A}[({i} + 1) % {N}] = {e}"]


def _shared_tangent(gen, A, B, s, c, i, indent):
    r = gen.r3
    gen.features.add("d_shared_tangent")
    t, fn = gen.fresh("t"), gen.fresh("fn")
    made = r.choice([f"+{A}", f"{A} + {c}", f"{fn}({A})", f"{A}.astype(float)", f"np.array({A})"])
    write = r.choice([f"{A}[{i}:] += np.tanh({A}[{i}]) * {c}",
                      f"np.multiply({A}, np.cos({A}[{i}]), {A})"])       # a ufunc's positional out
    return [f"{indent}{fn} = lambda u: u - {c}",
            f"{indent}{t} = {made}",
            f"{indent}for {i} in range(2):",
            f"{indent}    {write}",
            f"{indent}{s} = {s} + np.sum({t} * {B}) * {c}"]


def _repeated_index(gen, A, B, s, c, i, indent):
    r, N = gen.r3, gen.N
    gen.features.add("d_repeated_index")
    k, j = r.randrange(N), r.randrange(N)
    idx = f"[{k}, {k}, {j}]"
    op = r.choice(["+=", "=", "*=", "-="])
    return [f"{indent}for {i} in range(2):",
            f"{indent}    {A}[{idx}] {op} np.tanh({B}[{idx}] * {s}) + {c} * {i}",
            f"{indent}{s} = {s} + np.sum({A} * {A}) * {c}"]
