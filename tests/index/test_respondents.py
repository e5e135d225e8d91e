"""The duplicate-respondent check: the fast path for ids of one width must find exactly what
pandas' ``duplicated`` finds, on every kind of id column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tryg.index.respondents import _fixed_width_words, _repeated_respondents


def _frame(rng: np.random.Generator, n: int, width: int, alphabet: str) -> pd.DataFrame:
    ids = ["".join(rng.choice(list(alphabet), width)) for _ in range(n)]
    return pd.DataFrame({"wave": rng.integers(2019, 2022, n),
                         "respondent_id": pd.Series(ids, dtype="str")})


@pytest.mark.parametrize("seed", range(40))
def test_same_rows_as_pandas_duplicated(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # short alphabets and widths make repeats likely; "æ" is two bytes in UTF-8 (mixed
    # byte widths), widths above 16 bytes take pandas' own way
    frame = _frame(rng, int(rng.integers(1, 60)), int(rng.integers(1, 19)),
                   "ab" if seed % 3 else "abæ")
    if seed % 4 == 0:  # a slice: the Arrow array starts at an offset
        lo = int(rng.integers(0, len(frame)))
        frame = frame.iloc[lo:]
    if seed % 5 == 0:  # rows repeated from elsewhere, in another chunk
        frame = pd.concat([frame, frame.iloc[:3]])
    if seed % 7 == 0:
        frame.loc[frame.index[0], "respondent_id"] = None
    expected = frame.duplicated(["wave", "respondent_id"], keep=False).to_numpy()
    assert np.array_equal(_repeated_respondents(frame), expected)


def test_one_width_ids_take_the_fast_way_and_the_wave_counts() -> None:
    frame = pd.DataFrame({"wave": [2019, 2019, 2020, 2019],
                          "respondent_id": pd.Series(["2019-01", "2019-02", "2019-01",
                                                      "2019-01"], dtype="str")})
    assert _fixed_width_words(frame["respondent_id"]) is not None
    # the same id in another wave is another interview; twice in one wave is an error
    assert _repeated_respondents(frame).tolist() == [True, False, False, True]


@pytest.mark.parametrize("ids", [
    pd.Series([1, 2, 2]),  # numbers, not text
    pd.Series(["a", "bb", "bb"], dtype="str"),  # two widths
    pd.Series(["a", None, "a"], dtype="str"),  # missing
    pd.Series(["x" * 17] * 3, dtype="str"),  # wider than two words
    pd.Series(["a", "b", "a"], dtype=object),  # plain Python strings
])
def test_other_id_columns_take_pandas_way(ids: pd.Series) -> None:
    frame = pd.DataFrame({"wave": [2019] * 3, "respondent_id": ids})
    assert _fixed_width_words(frame["respondent_id"]) is None
    expected = frame.duplicated(["wave", "respondent_id"], keep=False).to_numpy()
    assert np.array_equal(_repeated_respondents(frame), expected)
