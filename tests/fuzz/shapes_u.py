"""Shape "classes_u" (session 12, helper s12a, issue 16; tests: tests/test_python_s12a.py):

s_view_helper: module-level helpers handing back views of their argument (``a[:2]``,
    ``a.reshape(2, 3)``, ``a[i:i + 2]``, ``W, b`` unpacked from one vector), whose results
    f writes in place, so the argument changes too (transform/view_helpers.py);
s_axes_view: a 3-d array seen through ``transpose(1, 0, 2)``, ``transpose((2, 0, 1))``,
    ``np.moveaxis`` or ``np.swapaxes``, written through the view (transform/reshaped_views.py);
s_tuple_state: ``pos, vel = state; pos += dt * vel`` in a helper stepping tuple state in a
    loop (the tuple's arrays change: transform/item_write_back.py, callee_writes.py);
s_hist_append: ``hist.append(h); h[0] = ...`` in a loop with h rebound each step (hist[-1]
    is h, so it shows the write);
s_method_sort: a method sorting, and another writing an item of, an array attribute its
    object was given (``self.vals.sort()``, ``self.vals[i] = v``: transform/held_changes.py).

Draws from its own random stream (`r_u`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("s_view_helper", "s_axes_view", "s_tuple_state", "s_hist_append", "s_method_sort")

HELPERS = '''def s_head(a):
    return a[:2]


def s_mat(a):
    return a.reshape(2, 3)


def s_block(a, i):
    return a[i:i + 2]


def s_unpack(theta):
    W = theta[:4].reshape(2, 2)
    b = theta[4:6]
    return W, b


def s_step(state, dt):
    pos, vel = state
    pos += dt * vel
    vel -= dt * np.sin(pos)
    return (pos, vel)


class SRank:
    def __init__(self, vals):
        self.vals = vals

    def order(self):
        self.vals.sort()

    def put(self, i, v):
        self.vals[i] = v'''


def init(gen, seed, shapes, exclude):
    gen.r_u = random.Random(f"classes_u-{seed}")
    on = "classes_u" in shapes if shapes is not None else gen.r_u.random() < PROBABILITY
    gen.classes_u = on and "classes_u" not in exclude


def chunks(gen):
    """The module-level helpers, when a statement used them."""
    return [HELPERS] if {"s_view_helper", "s_tuple_state", "s_method_sort"} & gen.features else []


def statement(gen, scope, indent, nested_ok):
    """One classes_u statement (a list of lines) of f, or None."""
    if (not gen.classes_u or scope.in_helper or not scope.arrays
            or gen.r_u.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r_u
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    makers = [_view_helper, _axes_view, _tuple_state, _hist_append, _method_sort]
    return makers[r.randrange(len(makers))](gen, A, s, c, indent)


def _view_helper(gen, A, s, c, indent):
    r = gen.r_u
    gen.features.add("s_view_helper")
    y, v, w, b, k = (gen.fresh(p) for p in ("y", "v", "w", "b", "k"))
    lines = [f"{indent}{y} = np.arange(6.0) * {s} + np.sum({A}) * {c}"]
    lines += r.choice([
        [f"{indent}{v} = s_head({y})", f"{indent}{v} *= {s}"],
        [f"{indent}{v} = s_mat({y})", f"{indent}{v}[1, 2] = {s} * {c}"],
        [f"{indent}{w}, {b} = s_unpack({y})", f"{indent}{b}[0] = {s}", f"{indent}{w}[1] *= {c}"],
        [f"{indent}for {k} in range(0, 4, 2):", f"{indent}    {v} = s_block({y}, {k})",
         f"{indent}    {v} -= {c} * {s}"],
        [f"{indent}{v} = s_head({y})", f"{indent}{y}[1] = {s} ** 2", f"{indent}{s} = {s} + np.sum({v}) * {c}"],
    ])
    lines.append(f"{indent}{s} = {s} + np.sum(np.sin({y})) * {c}")
    return lines


def _axes_view(gen, A, s, c, indent):
    r = gen.r_u
    gen.features.add("s_axes_view")
    t, p = gen.fresh("t"), gen.fresh("p")
    view = r.choice([f"{t}.transpose(1, 0, 2)", f"{t}.transpose((2, 0, 1))", f"np.moveaxis({t}, 0, -1)",
                     f"np.swapaxes({t}, 0, 2)", f"np.transpose({t}, (0, 2, 1))"])
    write = r.choice([f"{p}[0] *= {s}", f"{p}[1] = {c} * {s}", f"{p}[0, 1] += {s} ** 2"])
    return [f"{indent}{t} = np.arange(24.0).reshape(2, 3, 4) * 0.1 * {s} + np.sum({A}) * {c}",
            f"{indent}{p} = {view}",
            f"{indent}{write}",
            f"{indent}{s} = {s} + np.sum({t} * {t}) * 0.01 + np.sum({p}[0]) * {c}"]


def _tuple_state(gen, A, s, c, indent):
    gen.features.add("s_tuple_state")
    st, k = gen.fresh("st"), gen.fresh("k")
    return [f"{indent}{st} = (np.arange(3.0) * {s}, np.ones(3) * {c} + np.sum({A}) * 0.1)",
            f"{indent}for {k} in range(2):",
            f"{indent}    {st} = s_step({st}, 0.1)",
            f"{indent}{s} = {s} + np.sum({st}[0]) * {c} + np.sum({st}[1] ** 2) * 0.1"]


def _hist_append(gen, A, s, c, indent):
    gen.features.add("s_hist_append")
    hist, h, k, q = gen.fresh("hist"), gen.fresh("h"), gen.fresh("k"), gen.fresh("q")
    return [f"{indent}{hist} = []",
            f"{indent}{h} = np.ones(3) * {s} + np.sum({A}) * 0.1",
            f"{indent}for {k} in range(2):",
            f"{indent}    {h} = np.tanh({h} * {c} + {s})",
            f"{indent}    {hist}.append({h})",
            f"{indent}    {h}[0] = {s} * {c}",
            f"{indent}for {q} in {hist}:",
            f"{indent}    {s} = {s} + np.sum({q} * {q}) * {c}"]


def _method_sort(gen, A, s, c, indent):
    r = gen.r_u
    gen.features.add("s_method_sort")
    rk = gen.fresh("rk")
    lines = [f"{indent}{rk} = SRank(np.sin(np.arange(4.0) * {s}) + np.sum({A}) * {c})",
             f"{indent}{rk}.order()"]
    if r.random() < 0.5:
        lines.append(f"{indent}{rk}.put(0, {s} * {c})")
    lines.append(f"{indent}{s} = {s} + np.sum({rk}.vals * np.arange(4.0)) * 0.5")
    return lines
