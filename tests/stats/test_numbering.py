"""tryg.stats.numbering: counting gives exactly what np.unique gives, in every range."""

from __future__ import annotations

import numpy as np
import pytest

from tryg.stats.numbering import first_rows, unique_inverse


@pytest.mark.parametrize("spread", [1, 40, 10_000_000])  # counted, counted, sorted
def test_matches_np_unique(spread: int) -> None:
    rng = np.random.default_rng(spread)
    keys = rng.integers(-spread, spread, 5000).astype(np.int64)
    uniq, inverse = unique_inverse(keys)
    want_uniq, want_inverse = np.unique(keys, return_inverse=True)
    np.testing.assert_array_equal(uniq, want_uniq)
    np.testing.assert_array_equal(inverse, want_inverse)
    assert uniq.dtype == want_uniq.dtype and inverse.dtype == np.int64


def test_no_keys() -> None:
    uniq, inverse = unique_inverse(np.zeros(0, dtype=np.int64))
    assert len(uniq) == 0 and len(inverse) == 0


def test_first_rows_matches_np_unique() -> None:
    codes = np.random.default_rng(3).integers(0, 50, 2000).astype(np.int64)
    codes[:50] = np.arange(50)[::-1]  # every code occurs
    np.testing.assert_array_equal(first_rows(codes, 50), np.unique(codes, return_index=True)[1])
