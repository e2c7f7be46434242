"""Run-time side of checkpointed loops: the marker, snapshot stores and schedules.

Generated code for a checkpointed loop (see `diffc/transform/checkpoint.py`)
talks to one `RangeCheckpoints` or `OnlineCheckpoints` object per execution of
the loop.  Like `runtime.py` this module imports nothing but the standard
library, so `diffc export` can copy it into a standalone module.

Vocabulary.  Step ``k`` is the k-th iteration of the loop; a *snapshot* at
``k`` is the loop state (a tuple built by generated code) just before step
``k`` runs.  Reversing steps ``[a, b)`` means: the state is at ``a``; run the
taped forward of steps ``a..b-1`` and then their adjoints in reverse order.
Because the adjoint sweep undoes every assignment it differentiates (the
restore scheme of reverse.py), the state is back at ``a`` afterwards.

Schedule (binomial, after Griewank's "treeverse"/Revolve; written from the
recurrence, not from their code).  With ``f`` free snapshots besides the one
at ``a`` and at most ``t`` recomputations of any step, the longest reversible
range is ``R(f, t) = C(f + t + 1, t)``: ``R(0, t) = t + 1`` (re-advance from
``a`` for every step), ``R(f, 0) = 1`` and ``R(f, t) = R(f, t-1) + R(f-1, t)``
(advance to a split point ``m``, snapshot it, reverse ``[m, b)`` with one
snapshot fewer, drop it, reverse ``[a, m)`` whose steps were advanced once
more).  `_split` picks ``m`` inside the range that keeps ``t`` minimal and
that an exhaustive search found to minimize the total number of advanced
steps.

The forward sweep already advances through the whole loop, so it takes the
snapshots of the schedule's first descent (the "right spine": 0, m1, m2, ...).
The adjoint sweep then reverses the interval after each held snapshot, from
the last to the first, each with the snapshots not held by earlier intervals.
While loops (`OnlineCheckpoints`) do not know their trip count in advance:
the forward sweep snapshots every ``stride`` steps and doubles ``stride``
(dropping every other snapshot) whenever more than its share of the budget
is held; the reversal of each interval is binomial as above.
"""

import math

# Actions yielded by `actions()`; generated code dispatches on them.
RESTORE, ADVANCE, SNAPSHOT, REVERSE = 1, 2, 3, 4


def checkpointed(iterable, snapshots=None):
    """Mark a loop for checkpointing: ``for t in diffc.checkpointed(range(n)):``.

    At run time this returns ``iterable`` unchanged, so the function computes
    exactly what it computed without the marker.  diffc recognizes the call
    statically and stores at most ``snapshots`` copies of the loop state
    (about sqrt(trip count) when None) instead of taping every iteration."""
    return iterable


def capacity(free, t):
    """How many steps can be reversed with `free` extra snapshots and t recomputations."""
    return math.comb(free + t + 1, t) if t >= 0 else 0


def _repetitions(length, free):
    t = 0
    while capacity(free, t) < length:
        t += 1
    return t


def _split(length, free):
    """Offset of the next snapshot when reversing `length` steps with `free` snapshots (free >= 1)."""
    t = _repetitions(length, free)
    lo = max(1, length - capacity(free - 1, t))
    hi = min(length - 1, capacity(free, t - 1))
    # Inside [lo, hi] every choice keeps t; these bounds also keep both halves
    # from needing fewer repetitions than they are allowed, which wastes no steps.
    lo2 = max(lo, capacity(free, t - 2) if t >= 2 else 1)
    hi2 = min(hi, length - capacity(free - 1, t - 1))
    return lo2 if lo2 <= hi2 else lo


def default_budget(n):
    """The snapshot budget of ``checkpoint=True``: about sqrt(n), at least 2."""
    return max(2, math.isqrt(max(n, 0) - 1) + 1 if n > 0 else 2)


def _budget(spec, n):
    if spec is None or spec is True:
        return default_budget(n)
    k = int(spec)
    if k < 1:
        raise ValueError(f"a checkpointed loop needs at least one snapshot, got {spec!r}")
    return k


class _Checkpoints:
    """Snapshot store plus the adjoint-sweep action generator shared by both loop kinds."""

    def __init__(self):
        self.snapshots = {}
        self.a = 0              # the current action's range [a, b)
        self.b = 0
        self.n = 0

    # ------------------------------------------------------ generated code API
    def store(self, state):
        """Keep `state` (already copied where it is mutable) as the snapshot at step self.a."""
        self.snapshots[self.a] = state

    def load(self):
        """The snapshot at step self.a (the caller copies mutable parts before using them)."""
        return self.snapshots[self.a]

    def span(self):
        return range(self.a, self.b)

    def span_reversed(self):
        return range(self.b - 1, self.a - 1, -1)

    # ------------------------------------------------------------- schedule
    def _held(self):
        """(sorted snapshot points taken by the forward sweep, total budget)."""
        raise NotImplementedError

    def actions(self):
        """Actions of the adjoint sweep; sets self.a / self.b before yielding each."""
        points, budget = self._held()
        ends = points[1:] + [self.n]
        tasks = []                          # a stack: the next task is popped from the end
        for i, (a, b) in enumerate(zip(points, ends)):
            tasks.append(("drop", a))
            tasks.append(("rev", a, b, max(0, budget - (i + 1))))
        while tasks:
            task = tasks.pop()
            kind = task[0]
            if kind == "drop":
                # Interval done: its snapshot is never needed again; free the memory.
                self.snapshots.pop(task[1], None)
                continue
            if kind != "rev":
                self.a, self.b = task[1], task[2]
                yield kind
                continue
            _, a, b, free = task
            if b <= a:
                continue
            if b - a == 1:
                tasks += [(REVERSE, a, b), (RESTORE, a, a)]
            elif free == 0:
                # No snapshot to spare: re-advance from a for every step.
                for j in range(a, b):
                    tasks.append((REVERSE, j, j + 1))
                    if j > a:
                        tasks.append((ADVANCE, a, j))
                    tasks.append((RESTORE, a, a))
            else:
                m = a + _split(b - a, free)
                tasks += [("rev", a, m, free), ("drop", m), ("rev", m, b, free - 1),
                          (SNAPSHOT, m, m), (ADVANCE, a, m), (RESTORE, a, a)]
        self.snapshots.clear()


class RangeCheckpoints(_Checkpoints):
    """Checkpoints of a loop over a range object with a snapshot budget."""

    def __init__(self, steps, snapshots=None):
        super().__init__()
        self.steps = steps
        self.n = n = len(steps)
        self.budget = _budget(snapshots, n)
        # The schedule's first descent: the snapshots the forward sweep takes.
        points = [0]
        a, free = 0, self.budget - 1
        while n - a > 1 and free > 0:
            a += _split(n - a, free)
            points.append(a)
            free -= 1
        self.points = points
        self._due = set(points)

    def due(self, k):
        """Whether the forward sweep snapshots the state before step k (then self.a == k)."""
        if k in self._due:
            self.a = k
            return True
        return False

    def _held(self):
        return ([p for p in self.points if p < self.n], self.budget)


class OnlineCheckpoints(_Checkpoints):
    """Checkpoints of a while loop: the trip count is known only when it ends."""

    def __init__(self, snapshots=None):
        super().__init__()
        self.spec = snapshots
        self.stride = 1

    def _cap(self, k):
        """How many snapshots the forward sweep may hold after k steps.

        Half the budget, so the reversal has the other half for its binomial
        schedules; with no budget given, about sqrt(k) (growing with the loop)."""
        if self.spec is None or self.spec is True:
            return max(2, math.isqrt(k) + 1)
        return max(1, int(self.spec) // 2)

    def due(self, k):
        if k % self.stride:
            return False
        if len(self.snapshots) >= self._cap(k):
            # Thin out: keep every other snapshot (0 is always kept).
            self.stride *= 2
            for p in [p for p in self.snapshots if p % self.stride]:
                del self.snapshots[p]
            if k % self.stride:
                return False
        self.a = k
        return True

    def finish(self, n):
        """Record the trip count once the forward loop has ended."""
        self.n = n

    def _held(self):
        points = sorted(self.snapshots)
        if self.spec is None or self.spec is True:
            budget = max(2 * len(points), default_budget(self.n))
        else:
            budget = max(int(self.spec), len(points))
        return points, budget
