"""Numbering keys: integer keys by counting instead of sorting, their distinct values, the
look-up of keys among sorted ones, the sparse matrices that sum rows into their keys.

``np.unique(keys, return_inverse=True)`` sorts: ~20 ms for 300,000 keys, a third of a second
for 4 million. Keys that are codes combined from a few factors (wave × stratum, area × wave,
quarters since 1970) span a range not much larger than their count; there a presence table
numbers them in two passes, with the same result.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

Sparse = Any  # scipy.sparse matrices are not generic types

#: Ranges up to this size are always counted (a presence table of 64 KiB).
SMALL_RANGE = 1 << 16


def unique_inverse(keys: NDArray[np.integer]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """``np.unique(keys, return_inverse=True)`` of integer keys (the distinct keys in order,
    and each key's position among them); by counting when the keys span at most
    :data:`SMALL_RANGE` or four times their number, by sorting otherwise."""
    keys = np.asarray(keys, dtype=np.int64).reshape(-1)
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low, high = int(keys.min()), int(keys.max())
    if high - low > max(SMALL_RANGE, 4 * len(keys)):
        values, inverse = np.unique(keys, return_inverse=True)
        return values, np.asarray(inverse, dtype=np.int64).reshape(-1)
    offset = keys - low
    present = np.bincount(offset, minlength=high - low + 1) > 0
    return np.flatnonzero(present) + low, (np.cumsum(present) - 1)[offset]


def first_rows(codes: NDArray[np.integer], n_codes: int) -> NDArray[np.int64]:
    """The first position of every code 0..n_codes-1 in ``codes`` (each must occur): what
    ``np.unique(codes, return_index=True)[1]`` gives for codes numbered densely, without a
    sort."""
    codes = np.asarray(codes, dtype=np.int64)
    first = np.empty(n_codes, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1, dtype=np.int64)  # the last write wins
    return first


def factor(keys: NDArray[np.integer]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Each key's position among the sorted distinct keys, and those keys (``np.unique`` with
    ``return_inverse``, in the order ``pd.factorize`` gives them; hashed, so it costs little
    when few keys are distinct)."""
    inverse, uniques = pd.factorize(np.asarray(keys), sort=True)
    return np.asarray(inverse, dtype=np.int64), np.asarray(uniques, dtype=np.int64)


def lookup(
    keys: NDArray[np.int64], targets: NDArray[np.int64], sorter: NDArray[np.int64] | None = None
) -> NDArray[np.int64]:
    """The index of every target in ``keys`` (sorted, or sorted through ``sorter``); -1 where
    absent."""
    ordered = keys if sorter is None else keys[sorter]
    if len(ordered) == 0:
        return np.full(len(targets), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(ordered, targets), len(ordered) - 1)
    hit = ordered[pos] == targets
    idx = pos if sorter is None else sorter[pos]
    return np.asarray(np.where(hit, idx, -1), dtype=np.int64)


def membership(codes: NDArray[np.integer], n_cols: int) -> Sparse:
    """The ``len(codes) × n_cols`` matrix (CSR) with a 1 at ``(i, codes[i])``; a row whose
    code is -1 is in no column. Its transpose sums rows into their code (see
    :func:`summing`)."""
    codes = np.asarray(codes, dtype=np.int64)
    at = np.flatnonzero(codes >= 0)
    return sp.csr_matrix((np.ones(len(at)), (at, codes[at])), shape=(len(codes), n_cols))


def summing(codes: NDArray[np.integer], n_codes: int, layout: str = "csr") -> Sparse:
    """The ``n_codes × len(codes)`` matrix that sums elements into their code (-1: none), in
    the sparse ``layout`` ("csr" or "csc") its products want."""
    codes = np.asarray(codes, dtype=np.int64)
    at = np.flatnonzero(codes >= 0)
    data = (np.ones(len(at)), (codes[at], at))
    shape = (n_codes, len(codes))
    return sp.csr_matrix(data, shape=shape) if layout == "csr" else sp.csc_matrix(data, shape=shape)


def float_vector(values: npt.ArrayLike | pd.Series, name: str) -> NDArray[np.float64]:
    """``values`` as a one-dimensional float array; a clear error naming ``name`` if they are
    not numeric or not one-dimensional."""
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric: {exc}") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr
