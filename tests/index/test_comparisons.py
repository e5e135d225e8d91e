"""The comparisons' bookkeeping (:mod:`tryg.index.comparisons`) against the plain operations
it stands for: its join on codes against ``_frames.left_join`` of the rows as a table, and the
area-against-rest contrasts on the levels' own domains against the general path through
``compare_with_rest_arrays``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tryg.index import _frames, comparisons, survey
from tryg.index.catalog import load_spec
from tryg.index.hierarchy import build_hierarchy
from tryg.stats.area_waves import _nested_levels, rest_changes, totals_of
from tryg.stats.rest_contrasts import compare_with_rest_arrays

from .synthetic import make

KEY = ["area_code", "wave", "measure"]


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "area_code": pd.array(["b", "a", "c", "a", "b", None], dtype="str"),
        "wave": [2020, 2020, 2021, 2021, 2021, 2021],
        "measure": pd.array(["m", "m", "m", "m", "x", "m"], dtype="str"),
        "estimate": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    })


def _rows() -> comparisons.Rows:
    """Rows for (a, 2020, m), (b, 2021, x), (c, 2021, m; no difference) and (z, 2021, m):
    z in no row of the table; a measure name given twice among the distinct values."""
    return {
        "area_code": (np.array(["z", "a", "b", "c"], dtype=object), np.array([1, 2, 3, 0])),
        "wave": np.array([2020, 2021, 2021, 2021]),
        "measure": (np.array(["m", "x", "m"], dtype=object), np.array([0, 1, 2, 2])),
        "diff": np.array([1.0, 2.0, np.nan, 4.0]),
        "sig": pd.arrays.BooleanArray(np.array([True, False, False, True]),
                                      np.array([False, False, True, False])),
    }


@pytest.mark.parametrize("numbered", [False, True])
def test_joined_rows_are_those_of_a_left_join_of_their_table(numbered: bool) -> None:
    table = _table()
    codes = {c: _frames.factorize(table[c]) for c in KEY} if numbered else None
    got = comparisons.joined(table, _rows(), KEY, codes)
    expected = _frames.left_join(table, comparisons.table_of(_rows()), KEY)
    pd.testing.assert_frame_equal(got, expected)
    np.testing.assert_array_equal(got["diff"], [np.nan, 1.0, np.nan, np.nan, 2.0, np.nan])
    assert got["sig"].isna().tolist() == [True, False, True, True, False, True]


def test_joined_looks_keys_up_by_hash_when_a_table_of_them_would_be_large() -> None:
    table = _table()
    codes = {c: _frames.factorize(table[c]) for c in KEY}
    area, values = codes["area_code"]  # many more distinct values than rows
    codes["area_code"] = (area, np.concatenate([values, [f"v{i}" for i in range(500)]]))
    got = comparisons.joined(table, _rows(), KEY, codes)
    pd.testing.assert_frame_equal(
        got, _frames.left_join(table, comparisons.table_of(_rows()), KEY))


def test_joined_rows_must_have_one_row_per_key() -> None:
    rows = _rows()
    rows["wave"] = np.array([2020, 2021, 2021, 2021])
    rows["measure"] = (np.array(["m"], dtype=object), np.zeros(4, dtype=np.int64))
    rows["area_code"] = (np.array(["a"], dtype=object), np.zeros(4, dtype=np.int64))
    with pytest.raises(ValueError, match="more than once"):
        comparisons.joined(_table(), rows, KEY)


def test_rest_contrasts_on_the_levels_domains_equal_the_general_path() -> None:
    """Every level against its parent: taken on the survey estimates' own domains where they
    nest, the same keys and numbers, exactly, as through compare_with_rest_arrays (which
    numbers its own domains); the housing area, which holds only some of the kommune's
    respondents, goes the general way."""
    sv, _, pop, areas = make()
    spec = load_spec("dk-tryghedsindeks")
    hier, _ = build_hierarchy(areas)
    assert hier is not None
    est, _ = survey.estimate(spec, sv, pop, hier)
    assert est is not None
    variables = ["tryghed_trygge", "tillid_tillid"]
    compared, nested = 0, 0
    for level, col in est.level_columns.items():
        parent = hier.parent_level(level)
        if parent is None:
            continue
        pcol = est.level_columns[parent]
        levels = est.cache.levels
        nested += _nested_levels(levels[col], levels[pcol], col, pcol) is not None
        fast = rest_changes(est, variables, col, pcol, 0.95)
        general = compare_with_rest_arrays(
            est.design, {v: est.values[v] for v in variables}, area=col, parent=pcol,
            by="wave", totals=totals_of(est, variables), tests=False)
        pd.testing.assert_frame_equal(fast.keys, general.keys)
        assert fast.names == general.names
        np.testing.assert_array_equal(fast.keep, general.keep)
        for c, values in general.columns.items():
            np.testing.assert_array_equal(fast.columns[c], values)
        compared += 1
    assert (compared, nested) == (3, 2)
