"""Shape "classes_t" (session 12; tests: tests/test_container_pops_s12.py,
tests/test_shared_objects_s12.py):

t_kwargs_pop: a helper taking ``**opts`` and popping its options with defaults
    (``scale = opts.pop("scale", 1.0)``), called with differentiated and default options;
t_list_pop: ``q.pop(0)`` / ``q.pop(-1)`` / ``q.pop(i)`` on a list of arrays and numbers,
    in a ``while q:`` work loop too;
t_dict_pop: ``st.pop("h")``, ``st.pop("z", default)`` (a differentiated default) on a dict
    of arrays;
t_del: ``del lst[i]``, ``del d[k]``, ``del name``;
t_taker_written: an array taken back out of a container by ``max(..., key=)``,
    ``lst.copy()[0]``, ``d.setdefault(k, v)`` or ``d[k]`` after ``d[k] = y``, written in
    place, the original name read after (Python shows the write through both names).

Draws from its own random stream, so a program without the shape is the same program as
before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("t_kwargs_pop", "t_list_pop", "t_dict_pop", "t_del", "t_taker_written")

HELPERS = '''
def t_layer(u, **opts):
    scale = opts.pop("scale", 1.0)
    shift = opts.pop("shift", 0.0)
    return np.tanh(u * scale + shift)
'''


def init(gen, seed, shapes, exclude):
    gen.r_t = random.Random(f"classes_t-{seed}")
    on = "classes_t" in shapes if shapes is not None else gen.r_t.random() < PROBABILITY
    gen.classes_t = on and "classes_t" not in exclude


def chunks(gen):
    """The module-level helper, when a statement used it."""
    return [HELPERS] if "t_kwargs_pop" in gen.features else []


def statement(gen, scope, indent, nested_ok):
    """One classes_t statement (a list of lines) of f, or None."""
    if (not gen.classes_t or scope.in_helper or not scope.arrays
            or gen.r_t.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r_t
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    forms = [_kwargs_pop, _list_pop, _dict_pop, _del, _taker_written]
    return forms[r.randrange(len(forms))](gen, A, s, c, indent)


def _kwargs_pop(gen, A, s, c, indent):
    gen.features.add("t_kwargs_pop")
    r = gen.r_t
    call = r.choice([f"t_layer({A}, scale={s} * {c})", f"t_layer({A}, shift={s}, scale={c})",
                     f"t_layer({A})", f"t_layer({A} * {c}, shift=np.sin({s}))"])
    return [f"{indent}{s} = {s} + np.sum({call}) * {c}"]


def _list_pop(gen, A, s, c, indent):
    gen.features.add("t_list_pop")
    r = gen.r_t
    q, v, w = gen.fresh("queue"), gen.fresh("first"), gen.fresh("item")
    lines = [f"{indent}{q} = [{A} * {c}, np.sin({A}), {s} * {c}, {A} + {s}]"]
    form = r.randrange(3)
    if form == 0:
        lines += [f"{indent}{v} = {q}.pop(0)",
                  f"{indent}{w} = {q}.pop(-2)",
                  f"{indent}{s} = {s} + np.sum({v} * {q}[0]) + {w} * {c} + len({q})"]
    elif form == 1:
        lines += [f"{indent}{q}.pop(1)",
                  f"{indent}{s} = {s} + np.sum({q}[0] + {q}[-1]) * {c}"]
    else:
        lines += [f"{indent}while {q}:",
                  f"{indent}    {w} = {q}.pop(0)",
                  f"{indent}    {s} = {s} + np.sum({w}) * {c}"]
    return lines


def _dict_pop(gen, A, s, c, indent):
    gen.features.add("t_dict_pop")
    r = gen.r_t
    d, h, z = gen.fresh("state"), gen.fresh("h"), gen.fresh("z")
    lines = [f"{indent}{d} = {{'h': {A} * {c}, 'c': {s}, 'n': 2}}",
             f"{indent}{h} = {d}.pop('h')"]
    if r.randrange(2):
        lines.append(f"{indent}{z} = {d}.pop('{r.choice(['c', 'z'])}', {s} ** 2)")
    else:
        lines.append(f"{indent}{z} = {d}.pop('c') * {d}['n']")
    lines.append(f"{indent}{s} = {s} + np.sum({h}) * {z} + len({d})")
    return lines


def _del(gen, A, s, c, indent):
    gen.features.add("t_del")
    r = gen.r_t
    q, d, t = gen.fresh("layers"), gen.fresh("cache"), gen.fresh("scratch")
    form = r.randrange(3)
    if form == 0:
        return [f"{indent}{q} = [{A} * {c}, np.cos({A}), {A} + 1.0]",
                f"{indent}del {q}[{r.choice(['0', '1', '-1'])}]",
                f"{indent}{s} = {s} + np.sum({q}[0] * {q}[1]) * {c}"]
    if form == 1:
        return [f"{indent}{d} = {{'u': {A} * {c}, 'v': {s}}}",
                f"{indent}del {d}['u']",
                f"{indent}{s} = {s} + {d}['v'] * {c} + len({d})"]
    return [f"{indent}{t} = {A} * {s}",
            f"{indent}{s} = {s} + np.sum({t}) * {c}",
            f"{indent}del {t}"]


def _taker_written(gen, A, s, c, indent):
    gen.features.add("t_taker_written")
    r = gen.r_t
    a, b, y, box = gen.fresh("a"), gen.fresh("b"), gen.fresh("y"), gen.fresh("box")
    lines = [f"{indent}{a} = {A}.ravel()[:3] * {c}", f"{indent}{b} = {A}.ravel()[:3] + {s}"]
    form = r.randrange(4)
    if form == 0:
        lines.append(f"{indent}{y} = max([{a}, {b}], key=lambda v: v[0])")
    elif form == 1:
        lines += [f"{indent}{box} = [{a}, {b}]", f"{indent}{y} = {box}.copy()[{r.randrange(2)}]"]
    elif form == 2:
        lines += [f"{indent}{box} = {{'u': {a}}}", f"{indent}{y} = {box}.setdefault('u', {b})"]
    else:
        lines += [f"{indent}{box} = {{}}", f"{indent}{box}['k'] = {a}", f"{indent}{y} = {box}['k']"]
    lines += [f"{indent}{y}[1] = {y}[0] * {s}" if r.randrange(2) else f"{indent}{y} *= {c}",
              f"{indent}{s} = {s} + np.sum({a} * {c}) + np.sum({b}) * {s}"]
    return lines
