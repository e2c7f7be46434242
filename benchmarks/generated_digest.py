"""Digest of the source diffc generates for a fixed set of programs.

Prints one line per (program, form): a short SHA-256 of the generated source (or of
the error diffc raised), then a digest of all lines.  Run it before and after a
refactoring that must not change the generated code and compare the outputs:

    PYTHONPATH=. python benchmarks/generated_digest.py > before.txt
    ... change ...
    PYTHONPATH=. python benchmarks/generated_digest.py > after.txt
    diff before.txt after.txt

The output is the same under every PYTHONHASHSEED (new names are allocated in
source order, never in a set's: tests/test_hash_seed.py); running it under two
seeds and comparing checks that a change kept it so.

Programs: every benchmark workload (smoke-size arguments), the golden programs of
tests/golden_programs.py, and the corpora tests/corpus.py and tests/corpus16_programs.py.
Forms: the reverse-mode gradient, the same compiled to be differentiated again
(higher order), the forward-mode tangent, and (golden programs) the tree after every
pass (`diffc show --stage`), so the pass list itself is compared too.
"""

import hashlib
import pathlib
import re
import sys

import astor
import gast

HERE = pathlib.Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests")]

import diffc  # noqa: E402
import diffc.entry  # noqa: E402
from diffc import compile_cache  # noqa: E402
from diffc.errors import DiffcError  # noqa: E402


def digest(text):
    text = re.sub(r" at 0x[0-9a-f]+", "", text)       # object addresses in error messages
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def guarded(make):
    try:
        return make()
    except (DiffcError, NotImplementedError, TypeError, ValueError) as exc:
        return f"error {type(exc).__name__}: {exc}"


def wrt_of(fn, wrt):
    return tuple(wrt) if isinstance(wrt, (tuple, list)) else wrt


def reverse(fn, wrt, args):
    return diffc.source(fn, wrt=wrt, args=args)


def higher_order(fn, wrt, args):
    names, _ = compile_cache.normalize_wrt(fn, wrt)
    kinds = compile_cache.kinds_of(list(args))
    entry = compile_cache.joint_entry(fn, names, kinds, False, True, differentiable=True)
    return entry.emitted.source


def forward(fn, wrt, args):
    return diffc.source(fn, mode="forward", wrt=wrt, args=args)


def stages(fn, wrt, args):
    return "".join(f"# {name}\n" + astor.to_source(gast.gast_to_ast(node))
                   for name, node in diffc.entry.stages(fn, wrt=wrt, args=args))


def programs():
    """(label, function, wrt, args, with stages?)"""
    import corpus
    import corpus16_programs
    import golden_programs
    import numpy as np
    import workloads

    for name, w in workloads.WORKLOADS.items():
        fn = w.per_point or w.get_primal()
        args = w.make_inputs("smoke")
        if w.per_point is not None:
            args = (float(args[0][0]),)
        yield f"workload {name}", fn, w.wrt[0] if len(w.wrt) == 1 else w.wrt, args, False
    rng = np.random.default_rng(0)
    golden_args = {"heat": ((np.ones(6), 0.1, 3), (0, 1)), "oscillator": ((0.7, 0.2), (0, 1)),
                   "loops": (([0.5, 1.5, 0.7], 0.3), (0, 1)), "chained": ((1.0, 2.0), (0, 1)),
                   "straight": ((0.3, 1.2), (0, 1)),
                   "softmax_rows": ((rng.standard_normal((3, 4)), rng.standard_normal((5, 3)),
                                     rng.standard_normal((5, 4))), 0),
                   "dense_tanh": ((rng.standard_normal((3, 2)), rng.standard_normal(2),
                                   rng.standard_normal((4, 3))), (0, 1)),
                   "squares_in_list": ((rng.standard_normal((4, 3)), 0.7), 1),
                   "tanh_chain": ((rng.standard_normal((3, 3)), rng.standard_normal(3)), (0, 1))}
    for name in sorted(vars(golden_programs)):
        fn = getattr(golden_programs, name)
        if callable(fn) and getattr(fn, "__module__", None) == "golden_programs":
            args, wrt = golden_args.get(name, ((1.5,) * fn.__code__.co_argcount, 0))
            yield f"golden {name}", fn, wrt, args, True
    for name, fn, args, wrt in corpus.PROGRAMS:
        yield f"corpus {name}", fn, wrt_of(fn, wrt), args, False
    for entry in corpus16_programs.PROGRAMS:
        fn, arg = entry[0], entry[1]
        yield f"corpus16 {fn.__name__}", fn, 0, (arg,), False


def main():
    lines = []
    for label, fn, wrt, args, with_stages in programs():
        forms = [("reverse", reverse), ("higher", higher_order), ("forward", forward)]
        if with_stages:
            forms.append(("stages", stages))
        for form, make in forms:
            text = guarded(lambda: make(fn, wrt, args))
            lines.append(f"{digest(text)}  {label} [{form}]")
    for line in lines:
        print(line)
    print(f"{len(lines)} digests, all: {digest(chr(10).join(lines))}")


if __name__ == "__main__":
    main()
