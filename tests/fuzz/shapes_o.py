"""Shape "classes_o" (session 10, issue 17; tests: tests/test_libs_s10b.py):

o_named: a NumPy result that is a NamedTuple read by field name (``slogdet(M).logabsdet``,
    ``svd(M).S``, ``eigh(S).eigenvalues``, ``qr(M).R``), mixed with reads by position;
o_retstep: ``np.linspace(a, b, n, endpoint=..., retstep=True)`` with differentiated ends,
    the samples and the step both used;
o_keywords: keyword variants: ``np.einsum(..., optimize=True)``, ``np.diff(prepend=,
    append=)``, ``x.reshape(..., order="F")``, ``np.quantile`` at several q.

Draws from its own random stream (`r14`), so a program without the shape is the same
program as before it existed."""

import random

PROBABILITY = 0.1
STATEMENT_PROBABILITY = 0.25
FEATURES = ("o_named", "o_retstep", "o_keywords")


def init(gen, seed, shapes, exclude):
    gen.r14 = random.Random(f"classes_o-{seed}")
    on = "classes_o" in shapes if shapes is not None else gen.r14.random() < PROBABILITY
    gen.classes_o = on and "classes_o" not in exclude


def statement(gen, scope, indent, nested_ok):
    """One classes_o statement (a list of lines) of f, or None."""
    if (not gen.classes_o or scope.in_helper or not scope.arrays
            or gen.r14.random() >= STATEMENT_PROBABILITY):
        return None
    r = gen.r14
    A = r.choice(scope.arrays)
    s = r.choice(scope.scalars)
    c = r.choice(["0.5", "-0.7", "1.3", "0.25"])
    return [_named, _retstep, _keywords][r.randrange(3)](gen, A, s, c, indent)


def _named(gen, A, s, c, indent):
    r = gen.r14
    gen.features.add("o_named")
    m, res = gen.fresh("mat"), gen.fresh("res")
    lines = [f"{indent}{m} = np.outer(np.ravel({A})[:3], np.ravel({A})[-3:]) * {c} + np.diag([3.0, 4.5, 6.5][:min(3, np.size({A}))])"]
    form = r.randrange(4)
    if form == 0:
        lines += [f"{indent}{res} = np.linalg.slogdet({m})",
                  f"{indent}{s} = {s} + {res}.sign * {res}.logabsdet + {res}[1] * {c}"]
    elif form == 1:
        lines += [f"{indent}{res} = np.linalg.svd({m} + {s} * np.eye(np.shape({m})[0]))",
                  f"{indent}{s} = {s} + np.sum({res}.S) * {c} + {res}[1][0]"]
    elif form == 2:
        lines += [f"{indent}{res} = np.linalg.eigh({m} + {m}.T)",
                  f"{indent}{s} = {s} + {res}.eigenvalues[-1] * {c} + np.sum({res}[1][:, -1] ** 2)"]
    else:
        lines += [f"{indent}{res} = np.linalg.qr({m})",
                  f"{indent}{s} = {s} + np.sum(np.abs(np.diag({res}.R))) * {c}"]
    return lines


def _retstep(gen, A, s, c, indent):
    r = gen.r14
    gen.features.add("o_retstep")
    t, h = gen.fresh("grid"), gen.fresh("step")
    endpoint = r.choice(["True", "False"])
    return [f"{indent}{t}, {h} = np.linspace({s} * {c}, np.sum({A}) + 2.0, {r.choice([3, 5])}, "
            f"endpoint={endpoint}, retstep=True)",
            f"{indent}{s} = {s} + np.sum(np.sin({t})) * {h}"]


def _keywords(gen, A, s, c, indent):
    r = gen.r14
    gen.features.add("o_keywords")
    v = gen.fresh("kw")
    form = r.randrange(4)
    if form == 0:
        return [f"{indent}{v} = np.einsum('i,i->', np.ravel({A}), np.ravel({A}) * {c}, optimize=True)",
                f"{indent}{s} = {s} + {v}"]
    if form == 1:
        return [f"{indent}{v} = np.diff(np.ravel({A}), prepend={s}, append=np.ravel({A})[:1] * {c})",
                f"{indent}{s} = {s} + np.sum({v} ** 2)"]
    if form == 2:
        return [f"{indent}{v} = np.ravel({A}).reshape((1, -1), order='F') * {c}",
                f"{indent}{s} = {s} + np.sum({v} * np.arange(np.size({v})))"]
    return [f"{indent}{v} = np.quantile(np.ravel({A}) * {c}, [0.25, 0.75])",
            f"{indent}{s} = {s} + np.sum({v})"]
