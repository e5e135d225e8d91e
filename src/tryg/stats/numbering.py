"""Numbering integer keys by counting instead of sorting.

``np.unique(keys, return_inverse=True)`` sorts: ~20 ms for 300,000 keys, a third of a second
for 4 million. Keys that are codes combined from a few factors (wave × stratum, area × wave,
quarters since 1970) span a range not much larger than their count; there a presence table
numbers them in two passes, with the same result.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

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
