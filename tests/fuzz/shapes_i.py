"""Shape "classes_i" (session 7, NumPy array semantics; tests: tests/test_hunt_arrays_s7.py):

i_out: a result written through out= (keyword, by position for a ufunc or np.cumsum, into
    a 0-d array, or out=(y,)) into a local buffer, then read;
i_int_target: a differentiated float written into an integer array (NumPy truncates: no
    derivative flows through the write), then the array used in arithmetic;
i_chained: M[i][j] = v where M[i] is a view (a slice, an int) or a copy (a list index: the
    write changes only the copy).

Draws from its own random stream (`r8`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("i_out", "i_int_target", "i_chained")


def init(gen, seed, shapes, exclude):
    gen.r8 = random.Random(f"classes_i-{seed}")
    on = "classes_i" in shapes if shapes is not None else gen.r8.random() < PROBABILITY
    gen.classes_i = on and "classes_i" not in exclude


def statement(gen, scope, indent, nested_ok):
    """One classes_i statement (a list of lines) of f, or None."""
    if (not gen.classes_i or scope.in_helper or not scope.arrays
            or gen.r8.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r8
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_out, _int_target, _chained][r.randrange(3)](gen, A, s, c, indent)


def _out(gen, A, s, c, indent):
    gen.features.add("i_out")
    b = gen.fresh("buf")
    form = gen.r8.randrange(5)
    if form == 0:
        return [f"{indent}{b} = np.zeros_like({A})",
                f"{indent}np.multiply({A}, {s}, out={b})",
                f"{indent}{s} = {s} + np.sum({b} * {A}) * {c}"]
    if form == 1:
        return [f"{indent}{b} = np.empty_like({A})",
                f"{indent}np.add({A}, {s}, {b})",
                f"{indent}{s} = {s} + np.sum({b} ** 2) * {c}"]
    if form == 2:
        return [f"{indent}{b} = np.zeros(())",
                f"{indent}np.sum(np.sin({A}) * {s}, out={b})",
                f"{indent}{s} = {s} + float({b}) * {c}"]
    if form == 3:
        return [f"{indent}{b} = np.zeros({A}.size)",
                f"{indent}np.cumsum({A}.ravel() * {c}, 0, None, {b})",
                f"{indent}{s} = {s} + np.sum({b} * {b}) * {c}"]
    return [f"{indent}{b} = np.zeros_like({A})",
            f"{indent}np.tanh({A} * {s}, out=({b},))",
            f"{indent}{s} = {s} + np.sum({b}) * {c}"]


def _int_target(gen, A, s, c, indent):
    gen.features.add("i_int_target")
    k = gen.fresh("k")
    return [f"{indent}{k} = np.zeros({A}.shape, dtype=int)",
            f"{indent}{k}[...] = {A} * 3.0 + 0.37",
            f"{indent}{s} = {s} + np.sum({k} * {A}) * {c}"]


def _chained(gen, A, s, c, indent):
    gen.features.add("i_chained")
    m = gen.fresh("M")
    index = gen.r8.choice(["[[0]][0]", "[:1][0]", "[0][:1]", "[[0, 0]][:, 0]"])
    return [f"{indent}{m} = np.outer({A}.ravel(), {A}.ravel())",
            f"{indent}{m}{index} = {s} * {c}",
            f"{indent}{s} = {s} + np.sum({m} * {m}[::-1]) * {c}"]
