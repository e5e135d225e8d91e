"""The gap measure: the fast path (hashed look-up of the register rate per area × wave) and the
merge it falls back to (when the register repeats an area × wave) give the same rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from tryg.index.catalog import load_spec
from tryg.index.modelled import _gap_rows_merged, gap_rows

SPEC = load_spec("dk-tryghedsindeks")


def _tables(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    areas = [f"A{i:02d}" for i in range(12)]
    waves = [2021, 2022]
    rows = [(a, w) for a in areas for w in waves]
    crime = rng.uniform(5, 80, len(rows))
    survey = pd.DataFrame({
        "variable": SPEC.gap.survey_measure, "level": "nabolag",
        "area_code": [a for a, _ in rows], "wave": [w for _, w in rows],
        "estimate": 0.05 + 0.02 * np.log(crime) + rng.normal(0, 0.02, len(rows)),
        "se": rng.uniform(0.005, 0.03, len(rows)), "n": rng.integers(50, 400, len(rows)),
        "n_eff": rng.uniform(40, 300, len(rows)), "df": rng.uniform(30, 200, len(rows)),
    })
    register = pd.DataFrame({
        "measure": SPEC.gap.register_measure, "area_code": [a for a, _ in rows],
        "wave": [w for _, w in rows], "estimate": crime,
    })
    return survey, register


def _sorted(t: pd.DataFrame) -> pd.DataFrame:
    return t.sort_values(["wave", "area_code"], ignore_index=True)


@pytest.mark.parametrize("seed", range(3))
def test_the_merge_gives_what_the_fast_path_gives(seed: int) -> None:
    survey, register = _tables(seed)
    fast = gap_rows(SPEC, survey, register)
    assert len(fast) == len(survey) and set(fast["measure"]) == {"gap"}
    used = ["area_code", "wave", "estimate", "se", "n", "n_eff", "df", "level"]
    merged = _gap_rows_merged(survey[used], register[["area_code", "wave", "estimate"]],
                              ["nabolag"], 1.0, float(norm.ppf(1 - SPEC.comparisons.alpha / 2)))
    pd.testing.assert_frame_equal(_sorted(fast), _sorted(merged), check_dtype=False)


def test_a_repeated_register_row_takes_the_merge() -> None:
    survey, register = _tables(0)
    repeated = pd.concat([register, register.iloc[[0]]], ignore_index=True)
    rows = gap_rows(SPEC, survey, repeated)
    # as a merge does: the area × wave with two register rows appears twice
    first = register.iloc[0]
    twice = rows[(rows["area_code"] == first["area_code"]) & (rows["wave"] == first["wave"])]
    assert len(rows) == len(survey) + 1 and len(twice) == 2
