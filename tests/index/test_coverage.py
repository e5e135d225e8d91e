"""Coverage of the published 95 % intervals of the area shares on demo data with a known truth.

Acceptance: over repeated seeds, the intervals of the share measures cover the true values in
93-97 % of area x waves.

The truth (:class:`tryg.demo.truth.TrueModel`) is, per area and wave, the population-weighted
(wave-year residents 15+ by sex x age group) average of the true cell probabilities over the
neighbourhoods that belong to the area that year. The demo survey answers are drawn
independently from those cell probabilities, so this is exactly what the calibrated
design-based estimator targets, and its with-replacement linearised variance (no finite
population correction) is the right variance around it: the design-based intervals should
cover it at their nominal rate. Nonresponse depends on sex x age and is removed by the spec's
raking to the kommune's sex and age margins.

All direct rows of the six share measures at every level (kommune, bydel, nabolag,
boligomraade) are pooled: the logit intervals, and the Korn-Graubard intervals that stand in
where an estimate is 0 or 1. Rows the spec's small-area model replaces (method "model" or
"synthetic", nabolag with n < 50 for tryghed_trygge/utrygge) are not direct estimates and are
left out; direct rows below the publication minimum (n < 50, suppressed on publication) are
kept, since the interval is computed for them too.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tryg.demo.model import SHARE_MEASURES, generate
from tryg.index.catalog import load_spec
from tryg.index.compute import run

#: 20 seeds x 5 waves x 52 areas x 6 measures: about 31,000 intervals, ~30 s on 2 cores.
SEEDS = range(1, 21)
NOMINAL = (0.93, 0.97)


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    spec = load_spec("dk-tryghedsindeks")
    frames = []
    for seed in SEEDS:
        demo = generate(seed, "small")
        table = run(
            spec,
            survey=demo.survey,
            register=demo.register,
            population=demo.population,
            areas=demo.areas,
        ).table
        shares = table[table["measure"].isin(list(SHARE_MEASURES))]
        truth = demo.truth.table[["area_code", "wave", "measure", "value"]]
        joined = shares.merge(truth, on=["area_code", "wave", "measure"], how="left")
        assert joined["value"].notna().all(), f"seed {seed}: share rows without a true value"
        frames.append(joined.assign(seed=seed))
    return pd.concat(frames, ignore_index=True)


def _summary(direct: pd.DataFrame) -> str:
    by_cell = direct.groupby(["measure", "level"])["covered"].mean().unstack("level").round(3)
    by_level = direct.groupby("level")["covered"].agg(["mean", "size"]).round(4)
    by_measure = direct.groupby("measure")["covered"].agg(["mean", "size"]).round(4)
    misses = direct.loc[~direct["covered"]]
    below = (misses["value"] < misses["ci_low"]).sum()
    return (
        f"\nby measure x level:\n{by_cell}\nby level:\n{by_level}\nby measure:\n{by_measure}"
        f"\nmisses: truth below the interval {below}, above {len(misses) - below}"
    )


def test_share_intervals_cover_the_truth_at_the_nominal_rate(rows: pd.DataFrame) -> None:
    direct = rows[rows["method"] == "direct"].copy()
    # every share measure at every level and wave of every seed is there
    assert set(direct["measure"]) == set(SHARE_MEASURES)
    assert set(direct["level"]) == {"kommune", "bydel", "nabolag", "boligomraade"}
    assert direct[["ci_low", "ci_high"]].notna().all().all()
    assert (direct["ci_low"] <= direct["estimate"]).all()
    assert (direct["estimate"] <= direct["ci_high"]).all()
    direct["covered"] = (direct["ci_low"] <= direct["value"]) & (
        direct["value"] <= direct["ci_high"]
    )
    coverage = float(direct["covered"].mean())
    lo, hi = NOMINAL
    assert lo <= coverage <= hi, (
        f"coverage {coverage:.4f} of {len(direct)} intervals outside [{lo}, {hi}]"
        + _summary(direct)
    )
    # no level hides a failure behind the others (each has >= 600 intervals)
    per_level = direct.groupby("level")["covered"].mean()
    assert per_level.between(0.92, 0.98).all(), _summary(direct)
