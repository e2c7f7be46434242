"""Library functions diffc differentiates through a plain-Python implementation:
``math.prod``, ``np.average``, ``np.polyval``, ``np.linalg.matrix_power`` and the
``itertools`` iterators scientists loop over (``product``, ``combinations``,
``combinations_with_replacement``, ``permutations``, ``chain``, ``pairwise``,
``accumulate``, ``islice``); ``np.vectorize`` (its function called on each element).

Input: nothing (imported by rules/numpy_rules.py).  Output: each function registered
with `implemented_by`; diffc reads the body like user code, in both modes and at every
order, so the derivative follows from the rules of the operations it uses.  The
iterators are generator functions, which diffc evaluates whole where they are written
(transform/lazy_iterators.py refuses one consumed after its input changed).  Index
patterns (which items go together) are computed on integers by the library itself
(`_index_tuples`, never differentiated), so the values are NumPy's and Python's own.
"""

import functools
import builtins
import itertools
import math

import numpy as np

from . import implemented_by, nondiff
from .. import runtime_calls
from ..errors import NotDifferentiable


def _index_tuples(kind, n, r, repeat):
    """The index tuples itertools would yield over range(n) (plain Python, on ints)."""
    if kind == "combinations":
        return list(itertools.combinations(range(n), r))
    if kind == "combinations_with_replacement":
        return list(itertools.combinations_with_replacement(range(n), r))
    if kind == "permutations":
        return list(itertools.permutations(range(n), r))
    return list(itertools.product(*[range(k) for k in n], repeat=repeat))


nondiff(_index_tuples)


@implemented_by(math.prod)
def prod(iterable, *, start=1):
    total = start
    for value in iterable:
        total = total * value
    return total


@implemented_by(itertools.combinations)
def combinations(iterable, r):
    pool = list(iterable)
    for index in _index_tuples("combinations", len(pool), r, 1):
        yield tuple([pool[i] for i in index])


@implemented_by(itertools.combinations_with_replacement)
def combinations_with_replacement(iterable, r):
    pool = list(iterable)
    for index in _index_tuples("combinations_with_replacement", len(pool), r, 1):
        yield tuple([pool[i] for i in index])


@implemented_by(itertools.permutations)
def permutations(iterable, r=None):
    pool = list(iterable)
    for index in _index_tuples("permutations", len(pool), r, 1):
        yield tuple([pool[i] for i in index])


@implemented_by(itertools.product)
def product(*iterables, repeat=1):
    pools = [list(p) for _ in range(repeat) for p in iterables]
    for index in _index_tuples("product", [len(p) for p in pools], None, 1):
        yield tuple([pools[k][i] for k, i in enumerate(index)])


@implemented_by(itertools.chain)
def chain(*iterables):
    for iterable in iterables:
        for value in iterable:
            yield value


@implemented_by(itertools.pairwise)
def pairwise(iterable):
    pool = list(iterable)
    for k in range(len(pool) - 1):
        yield pool[k], pool[k + 1]


@implemented_by(itertools.accumulate)
def accumulate(iterable, func=None, *, initial=None):
    pool = list(iterable)
    if initial is not None:
        pool = [initial] + pool
    if pool:
        total = pool[0]
        yield total
        for value in pool[1:]:
            total = total + value if func is None else func(total, value)
            yield total


@implemented_by(itertools.islice)
def islice(iterable, *bounds):
    pool = list(iterable)
    for k in range(len(pool))[slice(*bounds)]:
        yield pool[k]


@implemented_by(np.average)
def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    if returned:
        raise NotDifferentiable("diffc: np.average(..., returned=True) is not differentiated; "
                                "compute the sum of the weights separately")
    a = np.asarray(a)
    if weights is None:
        return np.mean(a, axis=axis, keepdims=keepdims)
    w = np.asarray(weights)
    if w.ndim == 1 and a.ndim > 1 and axis is not None:
        # NumPy's 1-d weights along axis: shaped to broadcast against a
        shape = [1] * a.ndim
        shape[axis] = w.shape[0]
        w = np.reshape(w, shape)
    w = np.broadcast_to(w, a.shape)
    return np.sum(a * w, axis=axis, keepdims=keepdims) / np.sum(w, axis=axis, keepdims=keepdims)


@implemented_by(np.polyval)
def polyval(p, x):
    value = 0.0 * np.asarray(x) if isinstance(x, np.ndarray) else 0.0
    for c in p:                     # Horner, highest power first, as NumPy
        value = value * x + c
    return value


@implemented_by(np.linalg.matrix_power)
def matrix_power(a, n):
    a = np.asarray(a)
    if n == 0:
        return np.broadcast_to(np.eye(a.shape[-1], dtype=np.result_type(a, float)), a.shape).copy()
    if n < 0:
        a = np.linalg.inv(a)
        n = -n
    result = a
    for _ in range(n - 1):
        result = result @ a
    return result


# ---------------------------------------------------------------------------
# np.vectorize: the user's scalar function mapped over the broadcast elements
# ---------------------------------------------------------------------------


@implemented_by(np.vectorize)
def vectorize(pyfunc=None, otypes=None, doc=None, excluded=None, cache=False, signature=None):
    if pyfunc is None or excluded or signature is not None:
        _vectorize_unsupported("np.vectorize with excluded=, signature= or as a decorator factory")
    return functools.partial(vectorized_call, pyfunc=pyfunc, otypes=otypes)


def vectorized_call(*args, pyfunc, otypes=None, **kwargs):
    """What ``np.vectorize(pyfunc, otypes)(*args, **kwargs)`` computes: pyfunc applied to
    each element of the broadcast positional arguments (keywords given as they are), the
    results as an array of the broadcast shape (a tuple of arrays when pyfunc returns a
    tuple).  Also what a module-level ``@np.vectorize`` function is called as."""
    _vectorize_check_keywords(kwargs)
    shape = np.broadcast_shapes(*[np.shape(a) for a in args])
    columns = [np.ravel(np.broadcast_to(a, shape)) for a in args]
    values = []
    for i in range(math.prod(shape)):
        values.append(pyfunc(*[c[i] for c in columns], **kwargs))
    _vectorize_check_values(values, otypes)
    if values and isinstance(values[0], tuple):
        return tuple(_vectorize_array([v[j] for v in values], shape, otypes, j) for j in range(len(values[0])))
    return _vectorize_array(values, shape, otypes, 0)


def _vectorize_array(values, shape, otypes, j):
    if otypes:
        return np.reshape(np.array(values, dtype=np.dtype(otypes[j])), shape)
    return np.reshape(np.array(values), shape)


def _vectorize_unsupported(what):
    from ..errors import NotDifferentiable
    raise NotDifferentiable(f"{what} is not differentiated", hint="call the function in a loop instead")


def _vectorize_check_keywords(kwargs):
    if any(np.ndim(v) > 0 for v in kwargs.values()):
        _vectorize_unsupported("np.vectorize called with an array given by keyword")


def _vectorize_check_values(values, otypes):
    """NumPy makes the result's dtype that of the first value when otypes is not given: an
    integer first value truncates the others (a derivative of 0), so that is refused."""
    if not otypes and values and isinstance(values[0], (bool, int, np.integer, np.bool_)):
        _vectorize_unsupported("np.vectorize whose function returns an integer first (NumPy then makes "
                               "an integer array; pass otypes=[float])")


nondiff(_vectorize_check_keywords, _vectorize_check_values, _vectorize_unsupported)
vectorized_call.__diffc_transparent__ = True       # diffc reads their bodies, like an implementation's
_vectorize_array.__diffc_transparent__ = True


def _vectorized_object(obj, method):
    """A module-level ``@np.vectorize`` function called: vectorized_call with its pyfunc."""
    if isinstance(obj, np.vectorize) and method == "__call__" and not obj.excluded and obj.signature is None:
        return vectorized_call, (), {"pyfunc": obj.pyfunc, "otypes": obj.otypes or None}
    return None


def _vectorized_value(f):
    """An np.vectorize object whose function holds differentiated values (a `Closure`), met
    as a value at run time (differentiated code computed it with NumPy): the partial of
    vectorized_call that `vectorize` makes."""
    if isinstance(f, np.vectorize) and isinstance(f.pyfunc, runtime_calls.Closure) and not f.excluded \
            and f.signature is None:
        return runtime_calls.partial_value(vectorized_call, (), {"pyfunc": f.pyfunc, "otypes": f.otypes or None})
    return None


from . import OBJECT_CALLS  # noqa: E402
OBJECT_CALLS.append(_vectorized_object)
runtime_calls.CALLABLE_VALUES.append(_vectorized_value)


@implemented_by(math.dist)
def dist(p, q):
    return math.sqrt(sum((a - b) * (a - b) for a, b in zip(p, q)))


@implemented_by(builtins.divmod)
def divmod_(a, b):
    return a // b, a % b            # what divmod is, by definition


def _modular_power(base, exp, mod):
    return pow(base, exp, mod)      # ints only: never differentiated


nondiff(_modular_power)


@implemented_by(builtins.pow)
def pow_(base, exp, mod=None):
    if mod is not None:
        return _modular_power(base, exp, mod)
    return base ** exp
