"""Shape "classes_p" (session 11, helper s11a; tests: tests/test_python_s11a.py):

p_view_write: a write through a reshaped or transposed view of an array of f
    (``m = y.reshape(1, -1); m[0, 1] = v``, ``y.T[-1] += v``, ``r = y.ravel(); r[0] *= c``,
    ``np.reshape(y, (-1, 1))[1, 0] = v``): NumPy changes y too;
p_sort: ``y.sort()`` in place (alone, through a name sharing y, or on a list of numbers);
p_update: ``cfg.update({...})`` / ``cfg.update(other)`` / ``cfg.update(k=v)`` on a dict of
    arrays and floats, its items read after;
p_import: ``from math import cos as c`` / ``import numpy as np_`` inside f (in a branch or
    a loop too), the bound name used right after;
p_held: an array stored by ``d[k] = y`` (d built empty) then written through d while y is
    read after (diffc refuses it when it runs: the write is seen by y);
p_local_class: a class defined in f (at its top level) whose methods read a local of f
    bound once before it, its objects called in f.

Draws from its own random stream (`r15`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("p_view_write", "p_sort", "p_update", "p_import", "p_held", "p_local_class")


def init(gen, seed, shapes, exclude):
    gen.r15 = random.Random(f"classes_p-{seed}")
    on = "classes_p" in shapes if shapes is not None else gen.r15.random() < PROBABILITY
    gen.classes_p = on and "classes_p" not in exclude


def statement(gen, scope, indent, nested_ok):
    """One classes_p statement (a list of lines) of f, or None."""
    if (not gen.classes_p or scope.in_helper or not scope.arrays
            or gen.r15.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r15
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    # p_held is refused when it runs (the whole program with it): drawn rarely
    forms = [_view_write, _sort, _update, _import, _held] + ([_local_class] if indent == "    " else [])
    form = r.choices(forms, weights=[4, 3, 3, 2, 1, 3][:len(forms)])[0]
    return form(gen, A, s, c, indent)


def _view_write(gen, A, s, c, indent):
    r = gen.r15
    gen.features.add("p_view_write")
    m = gen.fresh("view")
    form = r.randrange(5)
    if form == 0:
        return [f"{indent}{m} = {A}.reshape(1, -1)",
                f"{indent}{m}[0, 1] = {s} * {c} + {m}[0, 0]",
                f"{indent}{s} = {s} + np.sum({m}[0]) * {c}"]
    if form == 1:
        return [f"{indent}{A}.T[-1] += np.sin({s}) * {c}"]
    if form == 2:
        return [f"{indent}{m} = {A}.ravel()",
                f"{indent}{m}[0] *= {c} + {s} ** 2",
                f"{indent}{s} = {s} + {m}[-1]"]
    if form == 3:
        return [f"{indent}np.reshape({A}, (-1, 1))[1, 0] = {s} * {A}[0]"]
    return [f"{indent}{m} = ({A} * {c}).reshape(1, -1).T",
            f"{indent}{m}[1] = np.tanh({m}[0]) + {s}",
            f"{indent}{s} = {s} + np.sum({m})"]


def _sort(gen, A, s, c, indent):
    r = gen.r15
    gen.features.add("p_sort")
    other = gen.fresh("alias")
    form = r.randrange(3)
    if form == 0:
        return [f"{indent}{A}.sort()",
                f"{indent}{s} = {s} + {A}[0] * {c} + {A}[-1]"]
    if form == 1:
        return [f"{indent}{other} = {A}",
                f"{indent}{A}.sort()",
                f"{indent}{s} = {s} + np.sum({other} * np.arange(np.size({other})))"]
    return [f"{indent}{other} = [{s} * {c}, np.sin({s}), {A}[0]]",
            f"{indent}{other}.sort(reverse={r.choice(['True', 'False'])})",
            f"{indent}{s} = {s} + {other}[0] * 2.0 - {other}[2]"]


def _update(gen, A, s, c, indent):
    r = gen.r15
    gen.features.add("p_update")
    d, o = gen.fresh("cfg"), gen.fresh("other")
    lines = [f"{indent}{d} = {{'a': {s}, 'w': {A}}}"]
    form = r.randrange(3)
    if form == 0:
        lines.append(f"{indent}{d}.update({{'a': {s} * {c}, 'b': np.sin({A})}})")
        lines.append(f"{indent}{s} = {s} + {d}['a'] * np.sum({d}['b'] * {d}['w'])")
    elif form == 1:
        lines.append(f"{indent}{o} = {{'w': {A} * {c}, 'b': {s} ** 2}}")
        lines.append(f"{indent}{d}.update({o})")
        lines.append(f"{indent}{s} = {s} + np.sum({d}['w']) * {d}['b'] + {d}['a']")
    else:
        lines.append(f"{indent}{d}.update(a={s} + 1.0, b={A}[0] * {c})")
        lines.append(f"{indent}{s} = {s} + {d}['a'] * {d}['b'] + np.sum({d}['w'])")
    return lines


def _import(gen, A, s, c, indent):
    r = gen.r15
    gen.features.add("p_import")
    name = gen.fresh("imported")
    form = r.randrange(3)
    if form == 0:
        return [f"{indent}from math import cos as {name}",
                f"{indent}{s} = {s} + {name}({s}) * {c}"]
    if form == 1:
        return [f"{indent}import numpy as {name}",
                f"{indent}{s} = {s} + {name}.sum({name}.tanh({A})) * {c}"]
    return [f"{indent}from numpy import linalg as {name}",
            f"{indent}{s} = {s} + {name}.norm({A}) * {c}"]


def _held(gen, A, s, c, indent):
    gen.features.add("p_held")
    d = gen.fresh("held")
    return [f"{indent}{d} = {{}}",
            f"{indent}{d}['y'] = {A}",
            f"{indent}{d}['y'][0] = {s} * {c}",
            f"{indent}{s} = {s} + np.sum({A}) * {c}"]


def _local_class(gen, A, s, c, indent):
    gen.features.add("p_local_class")
    cap, cls, obj = gen.fresh("cap"), gen.fresh("Local"), gen.fresh("obj")
    return [f"{indent}{cap} = {s} * {c} + 0.5",
            f"{indent}class {cls}:",
            f"{indent}    def __init__(self, w):",
            f"{indent}        self.w = w",
            f"{indent}",
            f"{indent}    def value(self, u):",
            f"{indent}        return self.w * np.sum(np.tanh(u)) * {cap}",
            f"{indent}{obj} = {cls}({s})",
            f"{indent}{s} = {s} + {obj}.value({A}) * {c}"]
