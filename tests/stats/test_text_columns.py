"""Text columns built from their few distinct values are the columns pandas builds itself."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tryg.stats import text_columns


def test_taken_is_the_column_pandas_builds_from_the_rows() -> None:
    values = ["kommune", "bydel", None]
    codes = np.array([1, 0, 2, 1, 2])
    out = text_columns.taken(values, codes)
    expected = pd.Series(["bydel", "kommune", None, "bydel", None], dtype="str")
    pd.testing.assert_series_equal(out, expected)
    assert out.isna().tolist() == [False, False, True, False, True]


def test_repeated_repeats_each_value_its_count() -> None:
    out = text_columns.repeated(["direct", "register"], [2, 1])
    pd.testing.assert_series_equal(out, pd.Series(["direct", "direct", "register"],
                                                  dtype="str"))
