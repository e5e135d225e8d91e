"""Difference-in-differences (tryg.stats.did): the standard error is the design's.

Checked three ways on a shared stratified cluster design holding two waves (strata wave ×
region, so the waves are independent samples): against the gaps computed directly with
:func:`tryg.stats.compare_domains`, against the textbook linearisation of the DiD as one linear
statistic written out here with numpy (the with-replacement PSU formula), and against per-wave
designs. R `survey`'s svycontrast is in ``test_did_parity_r.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from tryg import stats
from tryg.stats.did import (
    Gap,
    contrast,
    did,
    minimum_detectable_effect,
    power,
    satterthwaite,
    wave_gaps,
)

AREAS = ["a1", "a2", "a3", "a4", "a5", "a6"]
TREATED = ["a1", "a2"]
COMPARISON = ["a3", "a4", "a5"]  # a6 is in neither group


def two_waves(seed: int) -> pd.DataFrame:
    """Two waves; clusters inside areas, strata = wave × region crossing the groups."""
    rng = np.random.default_rng(seed)
    parts = []
    for wave in (2019, 2023):
        for i, area in enumerate(AREAS):
            n_cl = int(rng.integers(3, 6))
            sizes = rng.integers(2, 7, n_cl)
            cl = np.repeat(np.arange(n_cl), sizes)
            n = len(cl)
            parts.append(pd.DataFrame({
                "wave": wave, "area": area, "region": ["north", "south"][i % 2],
                "psu": [f"{area}-{c}" for c in cl],
                "w": rng.uniform(0.5, 4.0, n),
                "y": rng.normal(10 + i + (wave - 2019) / 2, 3, n) + rng.normal(0, 1, n_cl)[cl],
            }))
    frame = pd.concat(parts, ignore_index=True)
    frame["stratum"] = frame["wave"].astype(str) + "|" + frame["region"]
    return frame


def shared_design(frame: pd.DataFrame) -> stats.Design:
    return stats.Design(frame, weights="w", strata="stratum", psu="psu")


def linearised_did(frame: pd.DataFrame) -> tuple[float, float]:
    """The DiD and its SE from first principles: the DiD is a linear combination of four
    domain means; its influence (score) per respondent, summed per PSU, centred per stratum,
    n_h/(n_h-1) Σ (z_hi - z̄_h)²."""
    w = frame["w"].to_numpy()
    y = frame["y"].to_numpy()
    score = np.zeros(len(frame))
    estimate = 0.0
    for wave, sign_w in ((2023, 1.0), (2019, -1.0)):
        for group, sign_g in ((TREATED, 1.0), (COMPARISON, -1.0)):
            inside = (frame["wave"].to_numpy() == wave) & frame["area"].isin(group).to_numpy()
            total_w = w[inside].sum()
            m = (w[inside] * y[inside]).sum() / total_w
            estimate += sign_w * sign_g * m
            score[inside] += sign_w * sign_g * w[inside] * (y[inside] - m) / total_w
    z = pd.DataFrame({"stratum": frame["stratum"], "psu": frame["psu"], "z": score})
    per_psu = z.groupby(["stratum", "psu"])["z"].sum().reset_index()
    variance = 0.0
    for _, g in per_psu.groupby("stratum"):
        n_h = len(g)
        variance += n_h / (n_h - 1) * float(((g["z"] - g["z"].mean()) ** 2).sum())
    return estimate, math.sqrt(variance)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_did_se_equals_direct_linearisation_and_contrasts(seed: int) -> None:
    frame = two_waves(seed)
    design = shared_design(frame)
    gaps = wave_gaps(design, "y", area="area", treated=TREATED, comparison=COMPARISON,
                     wave_column="wave", waves=[2019, 2023])
    result = did([gaps[0]], [gaps[1]])

    est, se = linearised_did(frame)
    assert result.estimate == pytest.approx(est, rel=1e-12)
    assert result.se == pytest.approx(se, rel=1e-10)

    # directly with tryg.stats contrasts on the shared design: the gap of each wave, the waves'
    # variances adding (their covariance is zero by construction: wave-specific strata)
    direct = stats.compare_domains(
        design, "y", by=["area", "wave"],
        pairs=[([(a, w) for a in TREATED], [(a, w) for a in COMPARISON]) for w in (2019, 2023)],
    )
    assert result.estimate == pytest.approx(
        direct["difference"].iloc[1] - direct["difference"].iloc[0], rel=1e-12)
    assert result.se == pytest.approx(math.hypot(*direct["se"]), rel=1e-12)
    # each side's estimate is the mean over the union of its areas
    first = frame[(frame["wave"] == 2019) & frame["area"].isin(TREATED)]
    assert gaps[0].treated == pytest.approx(np.average(first["y"], weights=first["w"]))


def test_per_wave_designs_give_the_stacked_answer() -> None:
    frame = two_waves(4)
    stacked = wave_gaps(shared_design(frame), "y", area="area", treated=TREATED,
                        comparison=COMPARISON, wave_column="wave", waves=[2019, 2023])
    separate = [
        wave_gaps(shared_design(frame[frame["wave"] == w].reset_index(drop=True)), "y",
                  area="area", treated=TREATED, comparison=COMPARISON)[0]
        for w in (2019, 2023)
    ]
    for a, b in zip(stacked, separate, strict=True):
        assert a.gap == pytest.approx(b.gap, rel=1e-12)
        assert a.se == pytest.approx(b.se, rel=1e-12)
        assert a.df == b.df


def test_gap_includes_the_covariance_of_the_two_sides() -> None:
    """Treated and comparison share strata: the gap's variance is not the sum of the two
    sides' variances (that would be the independent-samples formula, wrong here)."""
    frame = two_waves(5)
    design = shared_design(frame)
    (gap,) = wave_gaps(design, "y", area="area", treated=TREATED, comparison=COMPARISON,
                       wave_column="wave", waves=[2023])
    side = frame["area"].map(lambda a: "T" if a in TREATED else "C" if a in COMPARISON else None)
    by_side = stats.mean(shared_design(frame.assign(side=side)), "y", by=["wave", "side"])
    row = by_side[by_side["wave"] == 2023].set_index("side")
    est = row["estimate"].to_numpy(np.float64)
    se = row["se"].to_numpy(np.float64)
    t, c = list(row.index).index("T"), list(row.index).index("C")
    independent = math.hypot(se[t], se[c])
    assert gap.gap == pytest.approx(est[t] - est[c])
    assert abs(gap.se - independent) > 1e-6 * independent


def test_areas_missing_from_a_wave_and_bad_sides() -> None:
    frame = two_waves(6)
    frame = frame[~((frame["wave"] == 2019) & (frame["area"] == "a2"))].reset_index(drop=True)
    design = shared_design(frame)
    gaps = wave_gaps(design, "y", area="area", treated=TREATED, comparison=COMPARISON,
                     wave_column="wave", waves=[2019, 2023])
    only_a1 = frame[(frame["wave"] == 2019) & (frame["area"] == "a1")]
    assert gaps[0].treated == pytest.approx(np.average(only_a1["y"], weights=only_a1["w"]))
    with pytest.raises(stats.EstimationError, match="treated areas in wave 2019"):
        wave_gaps(design, "y", area="area", treated=["a2"], comparison=COMPARISON,
                  wave_column="wave", waves=[2019])
    with pytest.raises(stats.EstimationError, match="both treated and comparison"):
        wave_gaps(design, "y", area="area", treated=["a1"], comparison=["a1", "a3"])
    with pytest.raises(stats.EstimationError, match="needs treated and comparison"):
        wave_gaps(design, "y", area="area", treated=[], comparison=["a3"])
    with pytest.raises(stats.EstimationError, match="before and after"):
        did([], gaps)


def test_several_waves_average_their_gaps() -> None:
    g = [Gap(w, 0.0, 0.0, gap, se, df) for w, gap, se, df in
         ((1, 1.0, 0.3, 20.0), (2, 2.0, 0.4, 30.0), (3, 5.0, 0.5, math.inf))]
    res = did(g[:2], g[2:])
    assert res.estimate == pytest.approx(5.0 - 1.5)
    var = 0.5**2 + (0.3**2 + 0.4**2) / 4
    assert res.se == pytest.approx(math.sqrt(var))
    parts = [0.5**2, 0.3**2 / 4, 0.4**2 / 4]
    assert res.df == pytest.approx(var**2 / (parts[1] ** 2 / 20 + parts[2] ** 2 / 30))


def test_satterthwaite_and_contrast() -> None:
    assert satterthwaite([1.0, 1.0], [10.0, 10.0]) == pytest.approx(20.0)
    assert satterthwaite([1.0], [math.inf]) == math.inf
    assert math.isnan(satterthwaite([1.0, 1.0], [10.0, 0.0]))
    c = contrast(2.0, 1.0, math.inf)
    assert c.p_value == pytest.approx(2 * sps.norm.sf(2.0))
    assert c.low == pytest.approx(2.0 - 1.959963984540054)
    c = contrast(2.0, 1.0, 12.0)
    assert c.p_value == pytest.approx(2 * sps.t.sf(2.0, 12))
    assert c.high == pytest.approx(2.0 + sps.t.ppf(0.975, 12))
    assert math.isnan(contrast(1.0, 0.0, 5.0).p_value)


@pytest.mark.parametrize("df", [math.inf, 40.0, 8.0])
def test_minimum_detectable_effect_has_the_stated_power(df: float) -> None:
    mde = minimum_detectable_effect(0.7, df)
    if math.isinf(df):
        assert mde == pytest.approx((1.959963984540054 + 0.8416212335729143) * 0.7)
    # at the MDE the test rejects 80 % of the time (plus the negligible far tail)
    assert power(mde, 0.7, df) == pytest.approx(0.8, abs=2e-3)
    assert power(0.0, 0.7, df) == pytest.approx(0.05, abs=1e-12)
    assert power(-mde, 0.7, df) == pytest.approx(power(mde, 0.7, df))
