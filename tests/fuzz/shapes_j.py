"""Shape "classes_j" (session 8, issue 16 leftovers; tests: tests/test_issue16_s8.py):

j_scatter: np.add.at into a new buffer with repeated indices (ufunc.at accumulates), read;
j_scatter_into: np.subtract.at into an array of f itself, then the array used again;
j_loop_def: a def in a loop body reading the loop variable and a scalar rebound after the
    call (Python reads both when it runs);
j_loop_lambda: name = lambda in a loop body, called in it.

Draws from its own random stream (`r9`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("j_scatter", "j_scatter_into", "j_loop_def", "j_loop_lambda")


def init(gen, seed, shapes, exclude):
    gen.r9 = random.Random(f"classes_j-{seed}")
    on = "classes_j" in shapes if shapes is not None else gen.r9.random() < PROBABILITY
    gen.classes_j = on and "classes_j" not in exclude


def statement(gen, scope, indent, nested_ok):
    """One classes_j statement (a list of lines) of f, or None."""
    if (not gen.classes_j or scope.in_helper or not scope.arrays
            or gen.r9.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r9
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_scatter, _scatter_into, _loop_def, _loop_lambda][r.randrange(4)](gen, A, s, c, indent)


def _scatter(gen, A, s, c, indent):
    gen.features.add("j_scatter")
    b = gen.fresh("bins")
    return [f"{indent}{b} = np.zeros(3)",
            f"{indent}np.add.at({b}, np.arange({A}.size) % 2, np.sin({A}.ravel()) * {s})",
            f"{indent}np.add.at({b}, [2, 2], {c})",
            f"{indent}{s} = {s} + np.sum({b} * {b}) * {c}"]


def _scatter_into(gen, A, s, c, indent):
    gen.features.add("j_scatter_into")
    return [f"{indent}np.subtract.at({A}, (0,) * {A}.ndim, {s} * {c})",
            f"{indent}{s} = {s} + np.sum({A} * {A}) * {c}"]


def _loop_def(gen, A, s, c, indent):
    gen.features.add("j_loop_def")
    k, term = gen.fresh("k"), gen.fresh("term")
    return [f"{indent}for {k} in range(2):",
            f"{indent}    def {term}(z):",
            f"{indent}        return np.tanh(z * {c} + {s} * {k})",
            f"{indent}    {s} = {s} + np.sum({term}({A})) * {c}"]


def _loop_lambda(gen, A, s, c, indent):
    gen.features.add("j_loop_lambda")
    k, g = gen.fresh("k"), gen.fresh("g")
    return [f"{indent}for {k} in range(2):",
            f"{indent}    {g} = lambda z: z * {s} + {k} * {c}",
            f"{indent}    {s} = {s} + np.sum({g}({A}) ** 2) * {c}"]
