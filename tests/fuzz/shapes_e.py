"""Shape "classes_e" (tests/fuzz/FINDINGS_d.md, section classes_e): objects whose methods
write their own attributes, and a differentiated parameter rebound to other shapes (the
program classes of commit 4e56c9f).

e_object_method: a small user class defined at module level (``class Cell7`` with
    ``__init__(self, w, h)``), its method writing its attributes from the others and from
    its argument (``self.h = np.tanh(self.w * u + self.h)``, ``self.count += 1``, appending
    to a list attribute, maybe calling another method, maybe writing elements or slices of
    ``self.buf``, an array attribute it always sets to ``np.zeros(N)``), built from the
    program's values, called in a loop, its attributes read afterwards into a value of the
    result;
e_object_list: a local list of such objects (display, comprehension, or [] and append),
    stepped with ``for c in cells: y = c.step(y)`` or ``cells[i].step(...)``, the attributes
    of items read afterwards (``cells[0].h``);
e_object_helper: a module-level helper taking the object, calling its writing method and
    writing its attributes (``def advance(cell, u): cell.step(u); cell.h = 0.9 * cell.h``);
e_rebound_param: the differentiated array parameter ``v`` rebound in a loop over a list
    through a helper that changes its shape (``for M in [M1, M2]: v = layer(M, v)``, M1
    (K, N) and M2 (N, K)) or returns it reshaped / transposed (``v = turn(v, c)`` between
    (1, N) and (N, 1)); v has its shape (N,) again after the statement.

Every object is made, used and read within one statement, so the arrays of the
program are never shared with an object across a write (the generator's ALIASING_OK
convention).  The module-level definitions are made on first use and go before ``f``
(`chunks`).  Draws from its own random stream (``r4``), so a program without the shape
is the same program as before it existed."""

import random

PROBABILITY = 0.3            # per program
STATEMENT_PROBABILITY = 0.25  # per statement of f, when on
FEATURES = ("e_object_method", "e_object_list", "e_object_helper", "e_rebound_param")
CONSTS = ("0.5", "-0.7", "1.3", "0.25", "0.9", "-1.1")


def init(gen, seed, shapes, exclude):
    gen.r4 = random.Random(f"classes_e-{seed}")
    on = "classes_e" in shapes if shapes is not None else gen.r4.random() < PROBABILITY
    gen.classes_e = on and "classes_e" not in exclude
    gen.e_class = None       # _Class of the program (made on first use)
    gen.e_helper = None      # name of the helper taking an object
    gen.e_layer = None       # (name, kind) of the helper rebinding v
    gen.e_chunks = []        # module-level definitions, in order


def chunks(gen):
    """The module-level definitions the statements used (source chunks before f)."""
    return list(gen.e_chunks)


def statement(gen, scope, indent, nested_ok):
    """One classes_e statement (a list of lines) of f, or None."""
    if (not gen.classes_e or scope.in_helper or not scope.has_n or not scope.arrays
            or gen.r4.random() >= STATEMENT_PROBABILITY):
        return None
    kind = gen.r4.randrange(4)
    if kind == 0:
        return _rebound_param(gen, scope, indent)
    if kind == 1:
        return _object_list(gen, scope, indent)
    if kind == 2:
        return _object_helper(gen, scope, indent)
    return _object_method(gen, scope, indent)


# ------------------------------------------------------------------ the class

class _Class:
    def __init__(self, name, state, has_read, trace, inplace):
        self.name, self.state, self.has_read, self.trace = name, state, has_read, trace
        self.inplace = inplace      # step writes elements / slices of self.buf


def _c(gen):
    return gen.r4.choice(CONSTS)


def _the_class(gen):
    """The program's class (made on first use): state "array" (h of shape (N,)) or "scalar"."""
    if gen.e_class is not None:
        return gen.e_class
    r = gen.r4
    name = gen.fresh("Cell")
    state = r.choice(["array", "array", "scalar"])
    inplace = r.random() < 0.35
    extra = [x for x in ("count", "trace", "acc", "decay", "w") if r.random() < 0.5]
    has_read = r.random() < 0.5
    N = gen.N
    lines = [f"class {name}:",
             "    def __init__(self, w, h):",
             "        self.w = w",
             "        self.h = h",
             "        self.count = 0",
             "        self.trace = []",
             "        self.acc = 0.0",
             f"        self.buf = np.zeros({N})",
             "",
             "    def step(self, u):"]
    lines.append("        " + r.choice(["self.h = np.tanh(self.w * u + self.h)",
                                        f"self.h = self.h * {_c(gen)} + np.sin(self.w - u) * {_c(gen)}",
                                        f"self.h = np.tanh(self.h) * self.w + u * {_c(gen)}",
                                        "self.h = self.h / (1.0 + (self.w * u) ** 2)"]))
    if inplace:
        # writes into an array attribute the class always sets to a new one (np.zeros)
        k, j = r.randrange(N), r.randrange(N)
        writes = [f"self.buf[{k}] += np.sum(np.sin(self.w * u)) * {_c(gen)}",
                  f"self.buf[{k}:] += np.sum(np.tanh(self.h)) * {_c(gen)}",
                  f"self.buf[{k}] = np.cos(self.buf[{j}]) + np.sum(self.h) * {_c(gen)}",
                  f"self.buf[{k}:] *= {_c(gen)}"]
        lines.append("        " + r.choice(writes[:3]))
        if r.random() < 0.5:
            lines.append("        " + r.choice(writes))
        lines.append(f"        self.h = self.h + self.buf[{j}] * {_c(gen)}")
    if "w" in extra:
        lines.append(f"        self.w = self.w * {_c(gen)} + np.tanh(self.h) * {_c(gen)}")
    if "count" in extra:
        lines.append("        self.count += 1")
    if "trace" in extra:
        lines.append("        self.trace.append(np.sum(self.h))")
    if "acc" in extra:
        lines.append(f"        self.acc = self.acc + np.sum(self.h * u) * {_c(gen)}")
    if "decay" in extra:
        lines.append("        self.decay()")
    lines.append("        return " + r.choice([f"np.tanh(self.h) + u * {_c(gen)}", f"self.h * {_c(gen)}",
                                               f"self.h - u * {_c(gen)}"]))
    if "decay" in extra:
        lines += ["", "    def decay(self):", f"        self.h = self.h * {_c(gen)}"]
    if has_read:
        lines += ["", "    def read(self):", f"        return np.sum(self.h * self.w) * {_c(gen)}"]
    gen.e_chunks.append("\n".join(lines))
    gen.e_class = _Class(name, state, has_read, "trace" in extra, inplace)
    return gen.e_class


def _the_helper(gen, cls):
    """The module-level helper calling the object's writing method and writing its attributes."""
    if gen.e_helper is not None:
        return gen.e_helper
    r = gen.r4
    name = gen.e_helper = gen.fresh("advance")
    lines = [f"def {name}(cell, u):"]
    lines += ["    cell.step(u)"] * r.randint(1, 2)
    lines.append("    " + r.choice([f"cell.h = {_c(gen)} * cell.h",
                                    f"cell.h = cell.h * {_c(gen)} + cell.w * {_c(gen)}",
                                    f"cell.w = cell.w + np.tanh(cell.h) * {_c(gen)}"]))
    if r.random() < 0.3:
        lines.append("    cell.count += 1")
    lines.append("    return " + r.choice(["np.sum(cell.h)", f"np.sum(cell.h * u) * {_c(gen)}", "cell.count"]))
    gen.e_chunks.append("\n".join(lines))
    return name


def _new(gen, scope, cls, scaled=""):
    """`Cell(w, h)` from the program's values (h of the class's state kind)."""
    r = gen.r4
    if cls.state == "array":
        w = r.choice(scope.scalars + scope.arrays + ["x", "w"])
        h = r.choice(scope.arrays)
    else:
        w = r.choice(scope.scalars + ["x", "w"])
        h = r.choice(scope.scalars + ["x"])
    return f"{cls.name}({w}{scaled}, {h})"


def _target_and_arg(gen, scope, cls):
    """(target, argument) of `target = c.step(argument)`: target of the state kind."""
    r = gen.r4
    if cls.state == "array":
        t = r.choice(scope.arrays)
        return t, r.choice([t, t, r.choice(scope.scalars), r.choice(scope.arrays)])
    t = r.choice(scope.scalars)
    return t, r.choice([t, t, r.choice(scope.scalars), "x"])


def _call(gen, scope, cls, obj, indent, helper_p=0.3):
    """One call of the writing method (or, with probability helper_p, of the helper) on `obj`."""
    r = gen.r4
    t, u = _target_and_arg(gen, scope, cls)
    if gen.e_helper is not None and r.random() < helper_p:
        gen.features.add("e_object_helper")
        s = r.choice(scope.scalars)
        return [f"{indent}{s} = {s} + {gen.e_helper}({obj}, {u}) * {_c(gen)}"]
    if r.random() < 0.25:
        return [f"{indent}{obj}.step({u})"]
    return [f"{indent}{t} = {obj}.step({u})"]


def _read(gen, scope, cls, obj, indent):
    """The attributes of `obj` read into a value of the result."""
    r = gen.r4
    s = r.choice(scope.scalars)
    terms = [r.choice([f"np.sum({obj}.h) * {_c(gen)}", f"np.sum(np.sin({obj}.h * {obj}.w))",
                       f"np.sum({obj}.h * {obj}.h) * {_c(gen)}"])]
    if r.random() < 0.5:
        terms.append(f"{obj}.acc")
    if r.random() < 0.3:
        terms.append(f"{obj}.count * 0.1")
    if cls.inplace and r.random() < 0.5:
        terms.append(f"np.sum({obj}.buf * {obj}.buf)")
    if cls.has_read and r.random() < 0.5:
        terms.append(f"{obj}.read()")
    if cls.trace and r.random() < 0.5:                   # the list attribute
        terms.append(f"sum({obj}.trace) * {_c(gen)}")
    lines = [f"{indent}{s} = {s} + " + " + ".join(terms)]
    if cls.state == "array" and r.random() < 0.3:
        y = r.choice(scope.arrays)
        lines.append(f"{indent}{y} = {y} + {obj}.h * {_c(gen)}")
    return lines


def _loop_head(gen, indent):
    r = gen.r4
    return f"{indent}for {gen.fresh('i')} in range({r.choice(['1', '2', '3', 'n', '2'])}):"


# ------------------------------------------------------------------ statements

def _object_method(gen, scope, indent):
    gen.features.add("e_object_method")
    cls = _the_class(gen)
    obj = gen.fresh("cell")
    lines = [f"{indent}{obj} = {_new(gen, scope, cls)}", _loop_head(gen, indent)]
    for _ in range(gen.r4.randint(1, 2)):
        lines += _call(gen, scope, cls, obj, indent + "    ")
    return lines + _read(gen, scope, cls, obj, indent)


def _object_helper(gen, scope, indent):
    gen.features.add("e_object_helper")
    gen.features.add("e_object_method")
    cls = _the_class(gen)
    helper = _the_helper(gen, cls)
    r = gen.r4
    obj = gen.fresh("cell")
    _, u = _target_and_arg(gen, scope, cls)
    s = r.choice(scope.scalars)
    call = r.choice([f"{s} = {s} + {helper}({obj}, {u}) * {_c(gen)}", f"{helper}({obj}, {u})"])
    lines = [f"{indent}{obj} = {_new(gen, scope, cls)}", _loop_head(gen, indent), f"{indent}    {call}"]
    return lines + _read(gen, scope, cls, obj, indent)


def _object_list(gen, scope, indent):
    gen.features.add("e_object_list")
    gen.features.add("e_object_method")
    cls = _the_class(gen)
    r = gen.r4
    cells, c, k = gen.fresh("cells"), gen.fresh("c"), gen.fresh("k")
    form = r.randrange(3)
    if form == 0:
        lines = [f"{indent}{cells} = [" + ", ".join(_new(gen, scope, cls) for _ in range(r.randint(1, 3))) + "]"]
    elif form == 1:
        lines = [f"{indent}{cells} = [{_new(gen, scope, cls, f' * ({k} + 1.0)')} "
                 f"for {k} in range({r.randint(1, 3)})]"]
    else:
        lines = [f"{indent}{cells} = []",
                 f"{indent}for {k} in range({r.choice(['1', '2', '3'])}):",
                 f"{indent}    {cells}.append({_new(gen, scope, cls, f' * {_c(gen)} + {k}')})"]
    inner = indent
    if r.random() < 0.4:
        lines.append(_loop_head(gen, indent))
        inner = indent + "    "
    if r.random() < 0.6:
        lines.append(f"{inner}for {c} in {cells}:")
        lines += _call(gen, scope, cls, c, inner + "    ", helper_p=0.15)   # refused (see FINDINGS_d)
    else:
        j = gen.fresh("j")
        lines.append(f"{inner}for {j} in range(len({cells})):")
        lines += _call(gen, scope, cls, f"{cells}[{j}]", inner + "    ")
    # cells[-1] after the loop is refused (FINDINGS_d.md, E1): drawn less often, so that most
    # programs get checked
    return lines + _read(gen, scope, cls, f"{cells}[{r.choice(['0', '0', '0', '-1'])}]", indent)


def _the_layer(gen):
    """The helper rebinding v: ("matrix", name) takes (M, u), ("turn", name) takes (u, c)."""
    if gen.e_layer is not None:
        return gen.e_layer
    r = gen.r4
    name = gen.fresh("layer")
    if r.random() < 0.65:
        body = r.choice(["return np.tanh(M @ u)", "return np.tanh(u @ M.T)", "return np.sin(M.dot(u)) * 0.9",
                         "z = M @ u.reshape(-1, 1)\n    return np.tanh(z).ravel()",
                         "return np.tanh((u[None, :] @ M.T)[0])"])
        gen.e_layer = ("matrix", name)
        lines = [f"def {name}(M, u):", "    " + body]
    else:
        body = r.choice(["return (np.tanh(u) * c).T", "return np.sin(u.T * c) + 0.1",
                         "return np.tanh(u + c).reshape(u.shape[::-1])"])
        gen.e_layer = ("turn", name)
        lines = [f"def {name}(u, c):", "    " + body]
    gen.e_chunks.append("\n".join(lines))
    return gen.e_layer


def _rebound_param(gen, scope, indent):
    """v (the differentiated array parameter) rebound in a loop over a list through a helper."""
    gen.features.add("e_rebound_param")
    r, N = gen.r4, gen.N
    kind, layer = _the_layer(gen)
    s, y = r.choice(scope.scalars), r.choice(scope.arrays)
    M = gen.fresh("M")
    if kind == "matrix":
        K = r.choice([2, N + 1, N])
        first = f"np.outer(np.cos(np.arange({K}) + {r.choice(scope.scalars)}), {y}) * {_c(gen)}"
        second = f"np.outer({r.choice(scope.arrays)}, np.sin(np.arange({K}) * {s})) * {_c(gen)}"
        lines = [f"{indent}{M}1 = {first}", f"{indent}{M}2 = {second}"]
        mats = [f"{M}1", f"{M}2"]
        if r.random() < 0.3:
            lines.append(f"{indent}{M}3 = np.eye({N}) * {_c(gen)} + np.outer({y}, {y}) * 0.1")
            mats.append(f"{M}3")
        seq = r.choice(["[" + ", ".join(mats) + "]", "(" + ", ".join(mats) + ")", "list"])
        if seq == "list":
            seq = gen.fresh("Ms")
            lines.append(f"{indent}{seq} = [" + ", ".join(mats) + "]")
        lines += [f"{indent}for {M} in {seq}:", f"{indent}    v = {layer}({M}, v)"]
    else:
        seq = "[" + ", ".join(_c(gen) for _ in range(r.randint(1, 3))) + "]"
        lines = [f"{indent}v = v.reshape({r.choice(['1, -1', '-1, 1'])})",
                 f"{indent}for {M} in {seq}:", f"{indent}    v = {layer}(v, {M} * {s})",
                 f"{indent}v = v.{r.choice(['ravel()', f'reshape({N})', 'flatten()'])}"]
    return lines + [f"{indent}{s} = {s} + np.sum(v * {y}) * {_c(gen)}"]
