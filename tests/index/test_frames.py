"""The index's table operations (:mod:`tryg.index._frames`) against pandas' plain ones.

They are written with pandas' public operations only; these tests pin what they must give
(the same as ``merge`` and ``duplicated``), on the pandas version installed, which must be
one the project declares (``pyproject.toml``).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg.index import _frames

KEY = ["area_code", "wave", "measure"]


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "area_code": pd.array(["b", "a", "c", "a", "b"], dtype="str"),
        "wave": [2020, 2020, 2021, 2021, 2021],
        "measure": ["m", "m", "m", "m", "x"],
        "estimate": [0.1, 0.2, 0.3, 0.4, 0.5],
        "n_eff": [10.0, 20.0, 30.0, 40.0, 50.0],
    })


def test_the_installed_pandas_is_a_declared_one() -> None:
    root = Path(__file__).resolve().parents[2]
    deps = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    (declared,) = [d for d in deps if re.match(r"pandas\b", d)]
    low = re.search(r">=\s*(\d+)\.(\d+)", declared)
    high = re.search(r"<\s*(\d+)", declared)
    assert low is not None and high is not None, declared
    major, minor = (int(x) for x in pd.__version__.split(".")[:2])
    assert (major, minor) >= (int(low[1]), int(low[2]))
    assert major < int(high[1])


def test_left_join_is_a_validated_left_merge() -> None:
    table = _table()
    part = pd.DataFrame({"area_code": ["a", "b", "z"], "wave": [2021, 2020, 2020],
                         "measure": ["m", "m", "m"], "change": [1.0, 2.0, 3.0],
                         "sig": pd.array([True, None, False], dtype="boolean")})
    joined = _frames.left_join(table, part, KEY)
    merged = table.merge(part, on=KEY, how="left", validate="many_to_one")
    pd.testing.assert_frame_equal(joined, merged, check_dtype=False)
    assert joined["sig"].dtype == "boolean"
    np.testing.assert_array_equal(joined["change"].to_numpy(),
                                  [2.0, np.nan, np.nan, 1.0, np.nan])
    with pytest.raises(ValueError, match="more than once"):
        _frames.left_join(table, pd.concat([part, part]), KEY)


def test_replace_rows_carries_columns_of_the_rows_replaced() -> None:
    table = _table()
    new = pd.DataFrame({"area_code": ["a", "q"], "wave": [2020, 2020], "measure": ["m", "m"],
                        "estimate": [0.9, 0.8]})
    out, codes = _frames.replace_rows([table.iloc[:2], table.iloc[2:]], new, KEY, ["n_eff"])
    assert out["area_code"].tolist() == ["b", "c", "a", "b", "a", "q"]
    for c in KEY:  # the result's key columns as numbers: the values they stand for
        k, values = codes[c]
        assert [values[i] if i >= 0 else None for i in k.tolist()] == out[c].tolist()
    assert out["estimate"].tolist() == [0.1, 0.3, 0.4, 0.5, 0.9, 0.8]
    np.testing.assert_array_equal(out["n_eff"].to_numpy(), [10.0, 30.0, 40.0, 50.0, 20.0, np.nan])


def test_positions_by_table_and_by_hash_agree() -> None:
    number = np.array([5, 0, 7, 2], dtype=np.int64)
    wanted = np.array([2, 3, 5, 5, 0, 9], dtype=np.int64)
    expected = [3, -1, 0, 0, 1, -1]
    for size in (10, 10_000):  # a table of every number; a hashed look-up (too many numbers)
        assert _frames.positions(number, wanted, size, "x").tolist() == expected
        with pytest.raises(ValueError, match="x has a key more than once"):
            _frames.positions(np.append(number, 7), wanted, size, "x")
        with pytest.raises(ValueError, match="y has a key more than once"):
            _frames.positions(number, wanted, size, "x", "y")


def test_replace_rows_refuses_a_key_twice() -> None:
    table = _table()
    new = pd.DataFrame({"area_code": ["a", "a"], "wave": [2020, 2020], "measure": ["m", "m"],
                        "estimate": [0.9, 0.8]})
    with pytest.raises(ValueError, match="the new rows has a key more than once"):
        _frames.replace_rows([table], new, KEY, ["n_eff"])
    with pytest.raises(ValueError, match="the table has a key more than once"):
        _frames.replace_rows([table, table], new.iloc[:1], KEY, ["n_eff"])


def test_concat_numbers_the_keys_as_factorize_does() -> None:
    table = _table()
    out, codes = _frames.concat([table.iloc[:3], table.iloc[3:]], KEY)
    pd.testing.assert_frame_equal(out, table)
    for c in KEY:
        k, values = _frames.factorize(table[c])
        np.testing.assert_array_equal(codes[c][0], k)
        assert codes[c][1].tolist() == values.tolist()


def test_sort_order_puts_values_in_order_and_missing_last() -> None:
    area = _frames.factorize(pd.Series(["b", None, "a", "b", "c"], dtype=object))
    wave = _frames.factorize(pd.Series([2.0, 1.0, np.nan, 1.0, 3.0]))
    order = _frames.sort_order([_frames.ranks(area), _frames.ranks(wave)])
    assert order.tolist() == [2, 3, 0, 4, 1]
    by_length_first = _frames.ranks(area, key=lambda v: (-len(v), v))
    assert _frames.sort_order([by_length_first]).tolist() == [2, 0, 3, 4, 1]
    frame = pd.DataFrame({"area": [None if c < 0 else area[1][c] for c in area[0]],
                          "wave": [2.0, 1.0, np.nan, 1.0, 3.0]})
    expected = frame.sort_values(["area", "wave"], kind="stable", na_position="last").index
    assert order.tolist() == expected.tolist()


def test_repeated_rows_are_those_duplicated() -> None:
    frame = pd.DataFrame({"wave": [1, 1, 2, 1], "respondent_id": ["x", "y", "x", "x"]})
    assert _frames.repeated_rows(frame, ["wave", "respondent_id"]).tolist() == [
        True, False, False, True]
