"""runtime_scatter: the adjoint of a fancy-index read as one np.bincount.

Input: what runtime.acc_item / runtime.add_at receive for ``bar[index] += g`` with an
integer-array index (the adjoint of the gather ``x[i, j]``).  Output: `scatter_sum`,
the new float64 array of the sums (``np.add.at`` into zeros, reassociated), or None
where its conditions fail and the caller keeps ufunc.at; `scatter_added`,
`scatter_subtracted`, `scatter_multiplied`: the user's ufunc.at on a copy (transform/anf.py).
Also `written_last`: for a
write ``y[index] = v`` whose integer-array index repeats an element, which of v's
entries NumPy leaves in y (runtime.take_item gives the others no adjoint).  Like runtime.py, imports
nothing but NumPy and math (``diffc export`` copies it into an exported module).
"""

import math

import numpy as np


def scatter_sum(index, g, shape):
    """A new float64 array of `shape` holding g summed at index (np.add.at into zeros) as
    one np.bincount, or None where that does not apply: index is one integer ndarray or a
    tuple of them over the leading axes (broadcasting together; trailing axes whole), g a
    float or float64 ndarray broadcasting to the read, touching at least a quarter of the
    places.  The forward read with the same index, so indices are in bounds (a negative
    one counts from the end).  Positions by hand (``i * n + j``): ravel_multi_index costs
    several times the arithmetic on small grids; the sums are reassociated."""
    arrays = index if type(index) is tuple else (index,)
    if len(arrays) > len(shape) or not (type(g) is float or (type(g) is np.ndarray and g.dtype == np.float64)):
        return None
    flat = None
    for a, n in zip(arrays, shape):
        if type(a) is not np.ndarray or a.dtype.kind not in "iu":
            return None
        if a.dtype.kind == "u" or a.dtype.itemsize < 8:
            a = a.astype(np.intp)
        elif a.size and a.min() < 0:
            a = np.where(a < 0, a + n, a)
        flat = a if flat is None else flat * n + a
    inner = math.prod(shape[len(arrays):])
    total = inner * math.prod(shape[:len(arrays)])
    if 4 * flat.size * inner < total:
        return None
    read_shape = flat.shape + tuple(shape[len(arrays):])
    if inner != 1:
        flat = (flat * inner)[..., None] + np.arange(inner)
    try:
        weights = g if type(g) is np.ndarray and g.shape == read_shape else np.broadcast_to(g, read_shape)
    except ValueError:
        return None                  # np.add.at names the mismatch
    sums = np.bincount(flat.reshape(-1), weights=weights.reshape(-1), minlength=total)
    return sums.reshape(shape) if sums.size == total else None


def repeats(index):
    """Whether an index may name one element twice (an integer array or list in it)."""
    for part in index if isinstance(index, tuple) else (index,):
        if isinstance(part, (list, np.ndarray)) and np.asarray(part).dtype.kind in "iu" \
                and np.asarray(part).size > 1:
            return True
    return False


def written_last(shape, index, result_shape):
    """For y[index] = v with repeated entries: True where v's entry is the one NumPy
    leaves in y (the others are overwritten and get no adjoint), found by the same write."""
    order = np.arange(int(np.prod(result_shape)), dtype=np.intp).reshape(result_shape)
    probe = np.full(shape, -1, dtype=np.intp)
    probe[index] = order
    return probe[index] == order


def scatter_added(a, index, values):
    """``np.add.at(a, index, values)`` on a copy of a, returned (a itself is left alone):
    differentiated code writes the result back into a (``a[...] = ...``), so the in-place
    scatter-add is one differentiable value (rules/indexing.py).  Repeated indices accumulate."""
    out = a.copy()
    np.add.at(out, index, values)
    return out


def scatter_subtracted(a, index, values):
    """``np.subtract.at(a, index, values)`` on a copy of a, returned (see `scatter_added`)."""
    out = a.copy()
    np.subtract.at(out, index, values)
    return out


def scatter_multiplied(a, index, values):
    """``np.multiply.at(a, index, values)`` on a copy of a, returned: each position of a
    times every value scattered to it, in order.  Plain NumPy and a loop of element
    writes, which diffc reads and differentiates (``__diffc_transparent__``): O(len(index))
    Python steps."""
    where = np.arange(np.size(a)).reshape(np.shape(a))[index]
    positions = np.ravel(where)
    factors = np.ravel(np.broadcast_to(values, np.shape(where)))
    flat = np.ravel(a).copy()
    for k in range(len(positions)):
        p = positions[k]
        flat[p] = flat[p] * factors[k]
    return np.reshape(flat, np.shape(a))


scatter_multiplied.__diffc_transparent__ = True


def diagonal_positions(shape, wrap):
    """The flat positions np.fill_diagonal writes in an array of `shape` (ints)."""
    marks = np.zeros(shape, dtype=np.int8)
    np.fill_diagonal(marks, 1, wrap=wrap)
    return np.flatnonzero(marks)


def put_positions(size, index, mode):
    """The flat positions np.put writes in an array of `size` items (ints; negative ones counted
    from the end, 'wrap' and 'clip' as NumPy)."""
    positions = np.ravel(np.asarray(index, dtype=np.intp))
    if mode == "wrap":
        return positions % size
    if mode == "clip":
        return np.clip(positions, 0, size - 1)
    if positions.size and (positions.max() >= size or positions.min() < -size):
        raise IndexError(f"index {positions.max()} is out of bounds for size {size}")
    return positions % size if size else positions


def filled_diagonal(a, val, wrap=False):
    """``np.fill_diagonal(a, val, wrap)`` on a copy of a, returned (val repeated along the
    diagonal as NumPy repeats it).  Plain NumPy diffc reads (``__diffc_transparent__``)."""
    positions = diagonal_positions(np.shape(a), wrap)
    flat = np.ravel(a).copy()
    flat[positions] = np.resize(np.ravel(val), np.shape(positions))
    return np.reshape(flat, np.shape(a))


def put_values(a, index, values, mode="raise"):
    """``np.put(a, index, values, mode)`` on a copy of a, returned (values repeated over the
    positions as NumPy repeats them; a repeated position keeps its last value)."""
    positions = put_positions(np.size(a), index, mode)
    flat = np.ravel(a).copy()
    flat[positions] = np.resize(np.ravel(values), np.shape(positions))
    return np.reshape(flat, np.shape(a))


def put_along_positions(shape, indices, axis):
    """The flat positions np.put_along_axis writes in an array of `shape`, shaped like the
    indices broadcast against it (ints)."""
    flat_index = np.arange(int(np.prod(shape)), dtype=np.intp)
    if axis is None:
        return np.take(flat_index, np.ravel(indices))
    return np.take_along_axis(np.reshape(flat_index, shape), np.asarray(indices), axis)


def put_along_values(arr, indices, values, axis):
    """``np.put_along_axis(arr, indices, values, axis)`` on a copy of arr, returned (values
    broadcast over the positions; a repeated position keeps its last value)."""
    positions = np.ravel(put_along_positions(np.shape(arr), indices, axis))
    flat = np.ravel(arr).copy()
    shaped = np.shape(put_along_positions(np.shape(arr), indices, axis))
    flat[positions] = np.ravel(np.broadcast_to(values, shaped))
    return np.reshape(flat, np.shape(arr))


filled_diagonal.__diffc_transparent__ = True
put_values.__diffc_transparent__ = True
put_along_values.__diffc_transparent__ = True
