"""The `diffc` command line: show, check and export gradients of a function in a file.

    diffc show   FILE.py:FUNC [--mode reverse|forward] [--wrt x,w] [--no-optimize]
                              [--stage NAME] [--args "..."] [--color auto|always|never]
    diffc check  FILE.py:FUNC --args "1.5, [0.0, 0.3]" [--wrt ...] [--rtol R] [--atol A]
    diffc export FILE.py:FUNC [--wrt ...] [--mode ...] [--args "..."] [--jit] -o OUT.py
    diffc show   FILE.py:FUNC --jit [--args "..."]   (the numba form jit=True compiles)

Design.  Each sub-command is one small function taking the parsed arguments
and returning an exit status; `main` parses, dispatches and turns every
expected failure (a `DiffcError`, a file or function that does not exist, an
exception raised by the user's module or function) into a short message on
stderr and exit status 2.  `check` exits 1 when the gradient and finite
differences disagree, 0 otherwise.

``--args`` is a Python expression list, evaluated with ``np`` and ``math``
available: ``"1.5, [0.0, 0.3]"``.  Lists of numbers become float64 numpy
arrays (write ``--keep-lists`` to pass Python lists).  ``FILE.py`` is
imported under a unique module name with its directory on ``sys.path``.
"""

import argparse
import ast
import contextlib
import importlib.util
import itertools
import math
import os
import sys

import numpy as np

from .errors import DiffcError
from .pipeline import STAGES, time_passes      # the pass names, in order

EXIT_OK, EXIT_MISMATCH, EXIT_ERROR = 0, 1, 2
_counter = itertools.count(1)


class CliError(Exception):
    """An expected failure: reported as one message, exit status 2."""


# ------------------------------------------------------------------ loading

def load_target(spec):
    """'path/to/file.py:func' -> the module-level function object."""
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name:
        raise CliError(f"expected FILE.py:FUNC, got {spec!r}")
    module = load_file(path)
    fn = getattr(module, name, None)
    if fn is None:
        available = sorted(n for n, v in vars(module).items()
                           if callable(v) and getattr(v, "__module__", None) == module.__name__)
        raise CliError(f"{path} has no function {name!r}"
                       + (f" (it defines {', '.join(available)})" if available else ""))
    fn = getattr(fn, "fn", fn)           # a @diffc.differentiate-decorated function
    if not callable(fn):
        raise CliError(f"{path}:{name} is a {type(fn).__name__}, not a function")
    return fn


def load_file(path):
    """Import a Python file under a unique module name, its directory on sys.path."""
    if not os.path.isfile(path):
        raise CliError(f"no such file: {path}")
    path = os.path.abspath(path)
    directory = os.path.dirname(path)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    stem = "".join(c if c.isalnum() else "_" for c in os.path.splitext(os.path.basename(path))[0])
    module_name = f"_diffc_cli_{next(_counter)}_{stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot import {path} (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        # What the module prints while importing goes to stderr: stdout carries the result.
        with contextlib.redirect_stdout(sys.stderr):
            spec.loader.exec_module(module)
    except SystemExit:
        raise CliError(f"importing {path} called sys.exit(); "
                       "guard the script part with `if __name__ == '__main__':`") from None
    except Exception as exc:
        raise CliError(f"importing {path} failed: {_describe_exception(exc)}") from None
    return module


def parse_values(text, keep_lists=False, names=None):
    """'1.5, [0.0, 0.3]' -> [1.5, array([0. , 0.3])]; names: extra names the text may use
    (the functions of the file, for a parameter that takes a function)."""
    if text is None:
        return None
    try:
        values = ast.literal_eval(f"({text},)")
    except (ValueError, SyntaxError):
        try:
            namespace = {**(names or {}), "np": np, "numpy": np, "math": math, "__builtins__": {}}
            values = eval(f"({text},)", namespace)
        except Exception as exc:
            raise CliError(f"cannot read --args {text!r}: {_describe_exception(exc)}") from None
    return [v if keep_lists else _to_array(v) for v in values]


def _to_array(value):
    if isinstance(value, list) and value and _all_numbers(value):
        return np.asarray(value, dtype=np.float64)
    return value


def _all_numbers(value):
    if isinstance(value, list):
        return all(_all_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_wrt(text):
    """'x,w' -> ('x', 'w');  '0' -> 0;  None -> 0."""
    if text is None:
        return 0
    items = [t.strip() for t in text.split(",") if t.strip()]
    if not items:
        raise CliError("--wrt is empty")
    parsed = tuple(int(t) if t.lstrip("-").isdigit() else t for t in items)
    return parsed[0] if len(parsed) == 1 and "," not in text else parsed


def _describe_exception(exc):
    text = f"{type(exc).__name__}: {exc}"
    for note in getattr(exc, "__notes__", ()):
        text += f"\n{note}"
    return text


# ----------------------------------------------------------------- commands

def cmd_show(options, out):
    from . import entry
    fn = load_target(options.target)
    args = parse_values(options.args, options.keep_lists)
    wrt = parse_wrt(options.wrt)
    optimize = not options.no_optimize
    if options.stage == "list":
        out.write("\n".join(STAGES) + "\n")
        return EXIT_OK
    times = time_passes() if options.time_passes else None
    if getattr(options, "jit", False):
        text = jit_source(fn, wrt, args, optimize, options.mode)
    elif options.stage:
        text = stage_text(entry, fn, wrt, args, optimize, options.stage, options.mode)
    else:
        text = generated_source(entry, fn, wrt, args, optimize, options.mode)
    write_code(text, out, options.color)
    if times is not None:
        for name, seconds in sorted(times.items(), key=lambda item: -item[1]):
            sys.stderr.write(f"{seconds * 1e3:9.2f} ms  {name}\n")
    return EXIT_OK


def generated_source(entry, fn, wrt, args, optimize, mode):
    try:
        return entry.source(fn, mode=mode, wrt=wrt, args=args, optimize=optimize)
    except ImportError:
        raise CliError(f"mode {mode!r} is not available in this version of diffc") from None


def jit_source(fn, wrt, args, optimize, mode):
    """The numba form of the gradient: exactly what `grad(fn, jit=True)` compiles."""
    from . import compile_cache as CC
    from . import jit_compile
    if mode != "reverse":
        raise CliError("--jit is available for --mode reverse only")
    names = CC.param_names(fn)
    values = [1.0] * len(names) if args is None else CC.bind_arguments(fn, names, list(args), {})
    wrt_names, _ = CC.normalize_wrt(fn, wrt)
    for k in (names.index(w) for w in wrt_names):
        values[k] = CC.as_float(values[k])
    entry = CC.joint_entry(fn, wrt_names, CC.kinds_of(values), False, optimize)
    return jit_compile.numba_source(entry.emitted, entry.main.__name__, values)


def stage_text(entry, fn, wrt, args, optimize, stage, mode):
    """The trees recorded after pass `stage`, as source text."""
    import astor
    import gast
    if mode != "reverse":
        raise CliError("--stage is available for --mode reverse only")
    collected = entry.stages(fn, wrt=wrt, args=args, optimize=optimize)
    names = list(dict.fromkeys(name for name, _ in collected))
    chosen = [node for name, node in collected if name == stage]
    if not chosen:
        raise CliError(f"no stage {stage!r}; the stages are: {', '.join(names or STAGES)}")
    parts = []
    for node in chosen:
        tree = node if isinstance(node, gast.Module) else gast.Module(body=[node], type_ignores=[])
        title = getattr(node, "name", "")
        parts.append(f"# stage {stage}: {title}\n" + astor.to_source(gast.gast_to_ast(tree)))
    return "\n\n".join(parts)


def cmd_check(options, out):
    from . import api, compile_cache
    fn = load_target(options.target)
    values = parse_values(options.args, options.keep_lists)
    if values is None:
        raise CliError("check needs example arguments: --args \"1.5, [0.0, 0.3]\"")
    wrt = parse_wrt(options.wrt)
    names = compile_cache.param_names(fn)
    values = compile_cache.bind_arguments(fn, names, values, {})
    wrt_names, _ = compile_cache.normalize_wrt(fn, wrt)
    value = _call_user(fn, values)
    grads = _call_user(api.grad(fn, wrt=tuple(wrt_names)), values)
    rows, ok = [], True
    for name, g in zip(wrt_names, grads):
        numeric = _call_user(api.numeric_grad, fn, values, names.index(name), options.eps)
        row = compare(name, g, numeric, options.rtol, options.atol)
        ok &= row["ok"]
        rows.append(row)
    out.write(f"{fn.__name__}({options.args}) = {_short(value)}\n")
    out.write(format_table(rows))
    out.write("gradient agrees with finite differences\n" if ok else
              "MISMATCH: the gradient disagrees with finite differences\n")
    return EXIT_OK if ok else EXIT_MISMATCH


def compare(name, gradient, numeric, rtol, atol):
    """One table row: shape and max abs/rel error of gradient against numeric."""
    try:
        g = np.asarray(gradient, dtype=np.float64)
    except (TypeError, ValueError):
        g = np.asarray(_flatten(gradient), dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    if g.size != numeric.size:
        return {"name": name, "shape": g.shape, "abs": math.inf, "rel": math.inf, "ok": False}
    g = g.reshape(numeric.shape)
    diff = np.abs(g - numeric)
    abs_err = float(np.max(diff, initial=0.0))
    scale = np.maximum(np.abs(numeric), np.abs(g))
    rel = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), 0.0)
    rel_err = float(np.max(rel, initial=0.0))
    ok = bool(np.all(diff <= atol + rtol * scale)) and bool(np.all(np.isfinite(g)))
    return {"name": name, "shape": numeric.shape, "abs": abs_err, "rel": rel_err, "ok": ok}


def _flatten(value):
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in np.ravel(_flatten(v))]
    return value


def format_table(rows):
    header = ("argument", "shape", "max abs err", "max rel err", "")
    lines = [header] + [(r["name"], str(tuple(r["shape"])), f"{r['abs']:.3e}", f"{r['rel']:.3e}",
                         "ok" if r["ok"] else "MISMATCH") for r in rows]
    widths = [max(len(line[k]) for line in lines) for k in range(len(header))]
    return "".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip() + "\n"
                   for line in lines)


def _short(value):
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."


def _call_user(fn, *args):
    """Call fn; an exception from user code becomes a CliError with its source-mapped notes."""
    if len(args) == 1 and isinstance(args[0], list):
        args = tuple(args[0])
    try:
        return fn(*args)
    except DiffcError:
        raise
    except Exception as exc:
        raise CliError(_describe_exception(exc)) from None


def cmd_export(options, out):
    from .export import export_source
    fn = load_target(options.target)
    functions = {k: v for k, v in getattr(fn, "__globals__", {}).items() if callable(v)}
    args = parse_values(options.args, options.keep_lists, functions)
    if options.jit:
        from .jit_export import export_jit_source
        if options.mode != "reverse":
            raise CliError("--jit is available for --mode reverse only")
        text = export_jit_source(fn, wrt=parse_wrt(options.wrt), args=args, optimize=not options.no_optimize)
    else:
        text = export_source(fn, wrt=parse_wrt(options.wrt), mode=options.mode, args=args,
                             optimize=not options.no_optimize)
    if options.output in (None, "-"):
        out.write(text)
    else:
        with open(options.output, "w") as f:
            f.write(text)
        print(f"wrote {options.output}: grad_{fn.__name__}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------- plumbing

def write_code(text, out, color):
    """Print code, highlighted when out is a terminal (or --color always)."""
    if color == "always" or (color == "auto" and _is_terminal(out) and not os.environ.get("NO_COLOR")):
        from .highlight import highlight
        text = highlight(text)
    out.write(text if text.endswith("\n") else text + "\n")


def _is_terminal(out):
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def build_parser():
    parser = argparse.ArgumentParser(prog="diffc", description="Read, check and export gradients "
                                     "generated by diffc.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    def common(p, mode=True):
        p.add_argument("target", metavar="FILE.py:FUNC", help="a module-level function of a Python file")
        p.add_argument("--wrt", help="parameters to differentiate: indices or names, comma separated "
                       "(default: the first parameter)")
        p.add_argument("--args", help='example arguments, e.g. "1.5, [0.0, 0.3]" (lists become arrays)')
        p.add_argument("--keep-lists", action="store_true", help="pass lists in --args as Python lists")
        p.add_argument("--no-optimize", action="store_true", help="skip the optimization passes")
        if mode:
            p.add_argument("--mode", choices=("reverse", "forward"), default="reverse")

    show = commands.add_parser("show", help="print the generated code (exactly what runs)")
    common(show)
    show.add_argument("--stage", choices=STAGES + ("list",), metavar="NAME",
                      help="print the tree after this compiler pass instead (`list`: the pass names)")
    show.add_argument("--time-passes", action="store_true", help="report the time spent in each pass on stderr")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    show.add_argument("--jit", action="store_true", help="print the numba form: exactly what jit=True compiles")
    show.set_defaults(run=cmd_show)

    check = commands.add_parser("check", help="compare the gradient with central finite differences")
    common(check, mode=False)
    check.add_argument("--rtol", type=float, default=1e-5)
    check.add_argument("--atol", type=float, default=1e-6)
    check.add_argument("--eps", type=float, default=1e-6, help="finite-difference step")
    check.set_defaults(run=cmd_check)

    export = commands.add_parser("export", help="write a standalone module (numpy only) with grad_FUNC")
    common(export)
    export.add_argument("-o", "--output", help="output file (default: stdout)")
    export.add_argument("--jit", action="store_true", help="a module whose gradient numba compiles")
    export.set_defaults(run=cmd_export)
    return parser


def main(argv=None):
    """Entry point of the `diffc` console script; returns the exit status."""
    options = build_parser().parse_args(argv)
    try:
        return options.run(options, sys.stdout)
    except DiffcError as exc:
        print(f"diffc: error: {exc}", file=sys.stderr)
    except CliError as exc:
        print(f"diffc: error: {exc}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
