"""Golden-source tests: each pass's output for small programs, pinned as text.

A change in these outputs is a change in what users read in `diffc.source`;
update the expected text only after reading the new output and checking it
is still right (the gradients themselves are checked in test_reverse.py).
"""
import astor
import gast
import pytest

import diffc
import golden_programs
from diffc.parse import parse_function
from diffc.pipeline import ensure_rules, front_end

EXPECTED = {
    ('chained', 'desugar'): """\
def chained(x, y):
    _returned1 = False
    _retval2 = None
    if 0.0 < x < y and not y > 3.0:
        _retval2 = x * y
        _returned1 = True
    if not _returned1:
        _retval2 = -x
        _returned1 = True
    return _retval2
""",
    ('chained', 'anf'): """\
def chained(x, y):
    _returned1 = False
    _retval2 = None
    _t4 = 0.0 < x
    if _t4:
        _t4 = x < y
    _t3 = _t4
    if _t3:
        _t5 = y > 3.0
        _t3 = not _t5
    if _t3:
        _retval2 = x * y
        _returned1 = True
    _t6 = not _returned1
    if _t6:
        _retval2 = -x
        _returned1 = True
    return _retval2
""",
    ('loops', 'desugar'): """\
def loops(xs, w):
    total = 0.0
    _seq1 = as_sequence(xs)
    _continue3 = False
    for _k2 in range(len(_seq1)):
        _continue3 = False
        i, v = _k2, _seq1[_k2]
        if v > 1.0:
            _continue3 = True
        if not _continue3:
            total += v * w * i
    return total
""",
    ('loops', 'anf'): """\
def loops(xs, w):
    total = 0.0
    _seq1 = as_sequence(xs)
    _continue3 = False
    _t4 = len(_seq1)
    for _k2 in range(_t4):
        _continue3 = False
        _t5 = _seq1[_k2]
        i = _k2
        v = _t5
        _t6 = v > 1.0
        if _t6:
            _continue3 = True
        _t7 = not _continue3
        if _t7:
            _t8 = v * w
            _t9 = _t8 * i
            total = total + _t9
    return total
""",
    ('sum_loop', 'reverse'): """\
def grad_sum_loop(x, total_bar=1.0):
    x_bar = 0.0
    # line 22: for i in range(5):
    for i in reversed(range(5)):
        # line 23: total += x * i
        x_bar += total_bar * i
    return x_bar
""",
    ('newton', 'reverse'): """\
def grad_newton(a, x_bar=1.0):
    # line 28: x = a
    x = a
    # line 29: while abs(x * x - a) > 1e-12:
    _tape1 = []
    while abs(x * x - a) > 1e-12:
        # line 30: x = 0.5 * (x + a / x)
        _t5 = a / x
        _tape1.append(x)
        x = 0.5 * (x + _t5)
    a_bar = 0.0
    for x in reversed(_tape1):
        # line 30: x = 0.5 * (x + a / x)
        _t6_bar = x_bar * 0.5
        a_bar += _t6_bar / x
        x_bar = _t6_bar - _t6_bar * (a / x) / x
    # line 28: x = a
    a_bar += x_bar
    return a_bar
""",
    ('straight', 'reverse'): """\
def grad_straight(x, y, result_bar=1.0):
    # line 35: z = math.sin(x) * y
    x_bar = result_bar + result_bar * (math.sin(x) * y) * 2.0 * y * math.cos(x)
    return x_bar
""",
    ('class_means', 'reverse'): """\
def grad_class_means(x, labels, result_bar=1.0):
    # line 92: counts = np.zeros(3)
    counts = np.zeros(3)
    # line 93: totals = np.zeros(3)
    totals = np.zeros(3)
    # line 94: np.add.at(counts, labels, 1.0)          # no derivative flows: ufunc.at in place
    np.add.at(counts, labels, 1.0)
    # line 95: np.add.at(totals, labels, x)            # differentiated: scatter_added and its adjoint
    _t2 = scatter_added(totals, labels, x)
    totals[...] = _t2
    # line 96: return np.sum((totals / (counts + 1.0)) ** 2)
    _t3 = counts + 1.0
    _t4 = totals / _t3
    _t5 = _t4 ** 2
    check_scalar(np.sum(_t5))
    x_bar = 0.0
    # line 95: np.add.at(totals, labels, x)            # differentiated: scatter_added and its adjoint
    _t2_bar = unbroadcast(take_item(unbroadcast(_sum_bar_times(result_bar,
        _t5, 2) * _t4 / _t3, totals), ...), _t2)
    x_bar += _at_gather(_t2_bar, labels, x, _t2)
    return x_bar
""",
}


def _stage(name, stage):
    if stage == "reverse":
        return diffc.source(getattr(golden_programs, name))
    ensure_rules()
    stages = []
    front_end(parse_function(getattr(golden_programs, name)), stages)
    node = dict(stages)[stage]
    return astor.to_source(gast.gast_to_ast(node))


@pytest.mark.parametrize("name,stage", sorted(EXPECTED), ids=[f"{n}-{s}" for n, s in sorted(EXPECTED)])
def test_golden(name, stage):
    assert _stage(name, stage).rstrip("\n") == EXPECTED[(name, stage)].rstrip("\n")


def test_golden_gradients_are_right():
    # The pinned code is also correct code: closed forms.
    assert diffc.grad(golden_programs.sum_loop)(2.0) == 10.0
    assert abs(diffc.grad(golden_programs.newton)(2.0) - 0.5 / 2.0 ** 0.5) < 1e-12


def test_loop_invariants_are_hoisted_and_saves_batched():
    # `-k` and `0.5 * dt` do not change in the loop: computed once, never taped;
    # the values overwritten in one iteration are saved as one tuple.
    text = diffc.source(golden_programs.oscillator, wrt=(0, 1))
    loop = text.split("    for i in range(n):\n")[1].split("for xh, vh, x, v in reversed(_tape1)")[0]
    loop = "\n".join(line for line in loop.splitlines() if not line.strip().startswith("#"))
    assert "-k" not in loop and "0.5 * dt" not in loop
    # one entry per iteration (optimize/use_loop_tapes.py): the first definitions xh, vh as
    # they are at the end of the iteration, x and v as they were before being redefined
    assert loop.count(".append(") == 1 and "_tape1.append((xh, vh, _saved2, v))" in loop


def test_in_place_write_not_restored_when_never_read_again():
    # heat: the adjoint loop reads only the taped temporary, and `u` is read
    # once before it (for `u * u`): no slice copy pushed, none restored.
    import numpy as np
    text = diffc.source(golden_programs.heat, wrt=(0, 1), args=(np.ones(6), 0.1, 3))
    assert "copy_value(u[1:-1])" not in text and "u[1:-1] = _tape.pop()" not in text
    assert text.count("_tape1.append(") == 1 and "_tape.append(" not in text
    # the adjoint of the write hands `u_bar[1:-1]` to the right side without
    # zeroing it and adding it back (the right side reads `u[1:-1]` itself),
    # and the reset adjoint `_t8_bar` is assigned, not accumulated into 0.0;
    # `_t8_bar` is a view (read before any write into u_bar), and alpha's
    # adjoint is one dot product; a slice's adjoint adds its real part when it arrives
    # complex (optimize/keep_real_adjoints_real.py: the identity for real values)
    assert text.split("for _t7 in reversed(_tape1):\n")[1].split("    # line 55")[0] == """\
        # line 57: u[1:-1] = u[1:-1] + alpha * (u[2:] - 2.0 * u[1:-1] + u[:-2])
        _t8_bar = u_bar[1:-1]
        alpha_bar += _sum_product(_t8_bar, _t7, alpha)
        _t7_bar = _t8_bar * alpha
        u_bar[:-2] += real_where_real(_t7_bar, u_bar.dtype)
        u_bar[1:-1] -= real_where_real(_t7_bar * 2.0, u_bar.dtype)
        u_bar[2:] += real_where_real(_t7_bar, u_bar.dtype)
"""
    u0 = np.linspace(0.0, 1.0, 6) ** 2
    assert diffc.check_grad(golden_programs.heat, u0, 0.1, 3, wrt=(0, 1)) < 1e-6


def test_in_place_write_restored_when_read_again():
    # the adjoint of `s * u` inside the loop reads u after the restore: kept.
    import numpy as np

    def f(u0, a):
        u = u0.copy()
        s = 0.0
        for k in range(3):
            s = s + np.sum(u * u)
            u[1:3] = u[1:3] * a
        return s
    text = diffc.source(f, wrt=(0, 1), args=(np.ones(5), 0.5))
    assert "copy_value(u[1:3])" in text and "u[1:3] = _saved3" in text
    assert diffc.check_grad(f, np.linspace(0.5, 1.5, 5), 0.7, wrt=(0, 1)) < 1e-6


def test_taken_item_kept_only_when_added_back_unread():
    # y_bar is read (z * y) between the take and the add-back: not rewritten.
    import numpy as np

    def f(y0, a):
        y = y0.copy()
        for k in range(2):
            y[1:3] = y[1:3] * a + y[0:2] * np.sum(y)
        return np.sum(y * y)
    y0 = np.linspace(0.5, 1.5, 5)
    assert diffc.check_grad(f, y0, 0.7, wrt=(0, 1)) < 1e-6


def _softmax_args():
    import numpy as np
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 2)), rng.standard_normal((4, 3)), np.eye(4, 2)


def test_keepdims_reductions_and_ufuncs_keep_symbolic_shapes():
    # logits = X @ W has a shape of its own (bound once at the top); z = logits - m
    # with m its keepdims max, exp(z) and z - lse all have it too: no unbroadcast
    # between them.  Only the reductions' own adjoints (-> m, -> lse) and the
    # operands of Y * (...) (Y's shape is unrelated) keep theirs; those negate after
    # summing (-unbroadcast(g, m), optimize/algebra.py).  z's two contributions are
    # summed into a new array (no 0.0 + copy, no in-place add), and so are logits'
    # (z_bar plus the max's), which is then read once, in the return.  The
    # negations of the reductions' adjoints become subtractions there (optimize/algebra.py).
    # X.shape[0] is an int (analysis/kinds.py): result_bar / _t8 is a scalar, so the
    # negated sum's adjoint needs no unbroadcast.
    text = diffc.source(golden_programs.softmax_rows, wrt=0, args=_softmax_args())
    adjoint = text.split("check_scalar(-np.sum(_t4) / _t8)\n")[1]
    assert adjoint == """\
    _t3_bar = unbroadcast(_sum_bar_times(-(result_bar / _t8), _t4, Y), _t3)
    # line 65: lse = np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    z_bar = _t3_bar - _sum_bar_times(unbroadcast(_t3_bar, lse) / _t2, _t1,
        _t1, False, 1, True)
    return finalize(_matmul_bar_b(z_bar - _extreme_bar(unbroadcast(z_bar, m
        ), logits, 1, True, m), X, W), W)
"""
    assert diffc.check_grad(golden_programs.softmax_rows, *_softmax_args(), wrt=0) < 1e-6


def test_products_are_arrays_and_elementwise_operands_keep_shapes():
    # np.dot(x, W) is an array, b a vector: `+` adds, no head_part/tail_part;
    # h * h has h's shape, and its two equal contributions to h_bar are one, doubled
    # (reverse.py); the spread of the sum's adjoint is fused with its factor
    # (optimize/fuse_sum_spreads.py); tanh keeps its operand's shape.  `_t1 + b` broadcasts
    # two unrelated shapes: both unbroadcasts stay.  b's adjoint is its only
    # contribution, not a copy of it (0.0 + ...): nothing writes into _t2_bar
    # afterwards and no other gradient returns it (optimize/fuse_reset_and_accumulate.py).  tanh's adjoint
    # g * (1.0 - h * h) is one helper call (one temporary for large arrays).
    import numpy as np
    rng = np.random.default_rng(1)
    args = (rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 3)))
    text = diffc.source(golden_programs.dense_tanh, wrt=(0, 1), args=args)
    assert text.split("check_scalar(np.sum(_t3))\n")[1] == """\
    # line 70: h = np.tanh(np.dot(x, W) + b)
    _t2_bar = _times_one_minus_square(_sum_bar_times(result_bar * 2.0, _t3,
        h), h)
    return finalize(_dot_bar_b(unbroadcast(_t2_bar, _t1), x, W), W), finalize(
        unbroadcast(_t2_bar, b), b)
"""
    assert diffc.check_grad(golden_programs.dense_tanh, *args, wrt=(0, 1)) < 1e-6
    # the same program where b broadcasts against a column: the kept unbroadcasts matter
    args = (rng.standard_normal((3, 1)), rng.standard_normal(2), rng.standard_normal((4, 3)))
    assert diffc.check_grad(golden_programs.dense_tanh, *args, wrt=(0, 1)) < 1e-6


def test_symbolic_shapes_are_never_guessed():
    # A name bound in a loop gets no symbol of its own; a parameter rebound to a
    # value of another shape loses its symbol; broadcasting against a keepdims
    # reduction of another array is not taken for the identity.
    import numpy as np
    from diffc.analysis import kinds as K

    def f(x, y):
        x = x[1:]
        a = x * 2.0
        m = np.sum(y, axis=0, keepdims=True)
        c = x - m
        for k in range(2):
            a = a * y
        return np.sum(a) + np.sum(c)

    from diffc.pipeline import front_end
    info = front_end(parse_function(f))
    kinds = K.infer(info, {"x": K.ARRAY, "y": K.ARRAY}, info.resolve_static)
    shapes = K.infer_shapes(info, kinds, set(info.params))
    assert "x" not in shapes and "a" not in shapes and shapes.get("c") in (None, ("@of", "c"))
    assert shapes["y"] == ("y", 0) and shapes["m"] == ("keep", ("y", 0), 0)
    x, y = np.linspace(0.5, 1.5, 4), np.linspace(1.0, 2.0, 3)
    assert diffc.check_grad(f, x, y, wrt=(0, 1)) < 1e-6


def test_spread_of_a_full_sum_is_fused_with_its_factor():
    # In the loop, the adjoint of np.sum(h * h) is zero-guarded (nonzero): the
    # guard, the spread and the product become one _sum_bar_times(..., True); the
    # doubling of h * h scales the scalar adjoint, not the product (optimize/absorb_scales.py).
    import numpy as np
    rng = np.random.default_rng(2)
    xs, w = rng.standard_normal((3, 2, 4)), rng.standard_normal(4)
    text = diffc.source(golden_programs.squares_in_list, wrt=1, args=(xs, w))
    flat = " ".join(text.split())
    assert "_sum_bar(" not in text
    assert "acc_item(_seq1_bar, _seq1, _k2, _sum_bar_times( unbroadcast(_g12, _t10) * 2.0, _t9, h, True))" \
        in flat
    assert diffc.check_grad(golden_programs.squares_in_list, xs, w, wrt=1) < 1e-6


def test_sum_bar_times_is_the_expression_it_replaces():
    import numpy as np
    from diffc.rules.reductions import _sum_bar, _sum_bar_times
    rng = np.random.default_rng(3)
    cases = [(0.5, rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
             (np.float64(-2.0), rng.standard_normal((3, 1)), rng.standard_normal((3, 4))),
             (0.25, rng.standard_normal((3, 4)), rng.standard_normal(4)),
             (0.0, rng.standard_normal((2, 2)), rng.standard_normal((2, 2))),
             (1.5, rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)),
             (np.float32(1.5), rng.standard_normal(3), rng.standard_normal(3)),
             (2.0, 3.0, rng.standard_normal(3)), (2.0, rng.standard_normal(3), 4.0)]
    for g, a, y in cases:
        ref = _sum_bar(g, a, None, False) * y
        out = _sum_bar_times(g, a, y)
        assert np.shape(out) == np.shape(ref) and np.asarray(out).dtype == np.asarray(ref).dtype
        assert np.array_equal(out, ref)
    # reductions over axes, with and without keepdims
    a = rng.standard_normal((3, 4, 2))
    for axis in (0, 1, -1, (0, 2), None):
        for keepdims in (True, False):
            g = np.sum(a, axis=axis, keepdims=keepdims) * 0.5 + 1.0
            for y in (rng.standard_normal(a.shape), rng.standard_normal(2), 3.0):
                ref = _sum_bar(g, a, axis, keepdims) * y
                out = _sum_bar_times(g, a, y, False, axis, keepdims)
                assert np.shape(out) == np.shape(ref) and np.array_equal(out, ref)
            if keepdims or axis is None:      # (the zero 0.0 of other reductions is guarded)
                ref = _sum_bar(0.0, a, axis, keepdims) * a
                assert np.array_equal(_sum_bar_times(0.0, a, a, False, axis, keepdims), ref)
    # guarded by nonzero(g): a plain zero gives 0.0 * y without looking at a
    out = _sum_bar_times(0.0, None, np.ones(3), True)
    assert np.array_equal(out, np.zeros(3))


def test_reset_adjoint_assigned_in_the_guarded_branch_that_follows():
    # h_bar = 0.0, then the zero-guarded rule of np.dot adds a fresh product to it:
    # assigned there (no 0.0 + copy); `h_bar = 0.0` stays for the skipped branch.
    import numpy as np
    rng = np.random.default_rng(4)
    args = (rng.standard_normal((3, 3)), rng.standard_normal((2, 3)), 3)
    text = diffc.source(golden_programs.tanh_chain, wrt=(0, 1), args=args)
    assert text.split("for _saved2 in reversed(_tape1):\n")[1] == """\
        # line 87: h = np.tanh(np.dot(h, W))
        _t1_bar = _times_one_minus_square(h_bar, h)
        h_bar = 0.0
        h = _saved2
        if nonzero(_t1_bar):
            h_bar = _dot_bar_a(_t1_bar, _saved2, W)
            W_bar += _dot_bar_b(_t1_bar, _saved2, W)
    # line 85: h = h0
    h0_bar += h_bar
    return finalize(W_bar, W), finalize(h0_bar, h0)
"""
    assert diffc.check_grad(golden_programs.tanh_chain, *args, wrt=(0, 1)) < 1e-6
    assert diffc.check_grad(golden_programs.tanh_chain, args[0], args[1], 0, wrt=(0, 1)) < 1e-6


def test_generated_source_is_the_same_in_every_process(tmp_path):
    """A rule with several locals (the adjoint of diffc.jvp's) names them in a fixed order, whatever
    Python's string hashing (PYTHONHASHSEED) does to set iteration; its statements are
    commented with the user's line."""
    import os
    import pathlib
    import subprocess
    import sys
    program = tmp_path / "prog.py"
    program.write_text(
        "import numpy as np\nimport diffc\n\n\n"
        "def f(y):\n    return np.sum(np.sin(y))\n\n\n"
        "def d(y):\n    return diffc.jvp(f, (y,), (np.ones(3),))[1]\n\n\n"
        "print(diffc.source(d, args=(np.ones(3),)))\n")
    root = str(pathlib.Path(diffc.__file__).resolve().parent.parent)
    texts = set()
    for seed in ("1", "2", "3"):
        env = dict(os.environ, PYTHONHASHSEED=seed, PYTHONPATH=root)
        out = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, env=env, check=True)
        texts.add(out.stdout)
    assert len(texts) == 1
    # statements inlined from a rule carry the user's line, not a line of the rule's text
    import re
    commented = {int(n) for n in re.findall(r"# line (\d+):", texts.pop())}
    assert commented == {10}, commented          # d's return statement
