"""while_loops: helpers shared by the passes on `while` loops.

Used by inline_while_tests.py, hoist_test_invariants.py and
share_test_values.py (public names, no pass here): `each_while` (visit every
`while` loop of a block, inner ones first), `only_rebinds` (statements that
write into no object) and `tape_push` (a push onto one of the compiler's
tapes).
"""

import gast

from .. import ast_util as A
from .purity import is_pure_expr


def each_while(block, rewrite):
    """rewrite(block, k) for every `while` loop block[k], inner blocks first;
    rewrite returns the loop's index after it changed the block."""
    k = 0
    while k < len(block):
        stmt = block[k]
        for inner in A.child_blocks(stmt):
            each_while(inner, rewrite)
        if isinstance(stmt, gast.While):
            k = rewrite(block, k)
        k += 1


def only_rebinds(stmts):
    """No statement writes into an object (subscript target, impure call)."""
    for s in A.walk_statements(stmts):
        if isinstance(s, (gast.Assign, gast.AugAssign)):
            targets = s.targets if isinstance(s, gast.Assign) else [s.target]
            if any(not isinstance(t, (gast.Name, gast.Tuple)) for t in targets) or not is_pure_expr(s.value):
                return False
        elif isinstance(s, gast.Expr):
            if not tape_push(s):
                return False
        elif isinstance(s, (gast.If, gast.While)) and not is_pure_expr(s.test):
            return False
        elif isinstance(s, gast.For) and not is_pure_expr(s.iter):
            return False
        elif not isinstance(s, (gast.If, gast.While, gast.For, gast.Pass)):
            return False
    return True


def tape_push(stmt):
    """A push onto a tape (tagged by pipeline.py or use_loop_tapes.py): a list of the
    compiler's own, read by no test."""
    call = stmt.value
    return getattr(stmt, "diffc_tape_op", False) and all(is_pure_expr(a) for a in call.args)
