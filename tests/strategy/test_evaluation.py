"""Evaluation (tryg.strategy.evaluation): rate ratios, proposed comparison areas, survey DiD."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from tryg import stats
from tryg.strategy.evaluation import (
    METHODS_TEXT,
    POISSON,
    Dispersion,
    propose_comparison_areas,
    rate_ratio_did,
    survey_did,
    trend_dispersion,
)

Z = 1.959963984540054


def test_ratio_of_rate_ratios_with_poisson_interval() -> None:
    ev = rate_ratio_did(treated_pre=(200, 10_000.0), treated_post=(150, 10_500.0),
                        comparison_pre=(400, 30_000.0), comparison_post=(390, 31_000.0),
                        treated=["t1"], comparison=["c1", "c2"], pre_waves=[2019],
                        post_waves=[2023])
    expected = (150 / 10_500 / (200 / 10_000)) / (390 / 31_000 / (400 / 30_000))
    se = math.sqrt(1 / 200 + 1 / 150 + 1 / 400 + 1 / 390)
    assert ev.kind == "rate_ratio"
    assert ev.estimate == pytest.approx(expected, rel=1e-12)
    assert ev.se == pytest.approx(se, rel=1e-12)
    assert ev.low == pytest.approx(expected * math.exp(-Z * se))
    assert ev.high == pytest.approx(expected * math.exp(Z * se))
    assert ev.p_value == pytest.approx(2 * sps.norm.sf(abs(math.log(expected)) / se))
    assert ev.minimum_detectable_effect == pytest.approx(
        math.exp((Z + 0.8416212335729143) * se))
    assert ev.treated == ("t1",) and ev.comparison == ("c1", "c2")
    assert ev.pre_waves == (2019,) and ev.post_waves == (2023,)
    assert ev.notes == ("pre_trend_unavailable",)
    assert ev.pre_trend_estimate is None


def test_rate_ratio_pre_trend_and_zero_counts() -> None:
    ev = rate_ratio_did(treated_earlier=(100, 1000.0), comparison_earlier=(100, 1000.0),
                        treated_pre=(200, 1000.0), comparison_pre=(100, 1000.0),
                        treated_post=(200, 1000.0), comparison_post=(100, 1000.0))
    assert ev.estimate == pytest.approx(1.0)
    assert ev.pre_trend_estimate == pytest.approx(2.0)  # treated doubled before, comparison not
    trend_se = math.sqrt(1 / 100 + 1 / 200 + 1 / 100 + 1 / 100)
    assert ev.pre_trend_p == pytest.approx(2 * sps.norm.sf(math.log(2.0) / trend_se))
    assert "pre_trends_differ" in ev.notes
    # a zero count: 0.5 added to every count (Haldane-Anscombe), and said so
    ev = rate_ratio_did(treated_pre=(3, 500.0), treated_post=(0, 500.0),
                        comparison_pre=(40, 5000.0), comparison_post=(42, 5000.0))
    assert "zero_counts_corrected" in ev.notes
    assert ev.estimate == pytest.approx((0.5 / 3.5) / (42.5 / 40.5))
    assert ev.se == pytest.approx(math.sqrt(1 / 3.5 + 1 / 0.5 + 1 / 40.5 + 1 / 42.5))
    assert math.isfinite(ev.low) and ev.low > 0
    with pytest.raises(ValueError, match="exposure"):
        rate_ratio_did(treated_pre=(3, 0.0), treated_post=(1, 500.0),
                       comparison_pre=(40, 5000.0), comparison_post=(42, 5000.0))
    with pytest.raises(ValueError, match="count"):
        rate_ratio_did(treated_pre=(-1, 10.0), treated_post=(1, 500.0),
                       comparison_pre=(40, 5000.0), comparison_post=(42, 5000.0))


def test_trend_dispersion_by_hand() -> None:
    # comparison areas whose rates moved very differently: ratios 2, 1, 0.5 on 100 counts
    group = [((100, 1000.0), (200, 1000.0)), ((100, 1000.0), (100, 1000.0)),
             ((100, 1000.0), (50, 1000.0))]
    r = np.log([2.0, 1.0, 0.5])
    v = np.array([1 / 100 + 1 / 200, 2 / 100, 1 / 100 + 1 / 50])
    centre = np.sum(r / v) / np.sum(1 / v)
    expected = float(np.sum((r - centre) ** 2 / v)) / 2
    got = trend_dispersion([group, [((10, 100.0), (12, 100.0))]])  # one treated area: no df
    assert got == Dispersion(pytest.approx(expected), 2.0)  # type: ignore[arg-type]
    assert got.factor > 10
    # areas that moved alike are never "underdispersed": the factor stays 1
    alike = [((100, 1000.0), (100, 1000.0)), ((200, 2000.0), (200, 2000.0))]
    assert trend_dispersion([alike]) == Dispersion(1.0, 1.0)
    assert trend_dispersion([[((5, 10.0), (6, 10.0))]]) == POISSON

    base = {"treated_pre": (200, 10_000.0), "treated_post": (150, 10_500.0),
            "comparison_pre": (400, 30_000.0), "comparison_post": (390, 31_000.0)}
    plain = rate_ratio_did(**base)  # type: ignore[arg-type]
    scaled = rate_ratio_did(**base, dispersion=Dispersion(4.0, 8.0))  # type: ignore[arg-type]
    assert scaled.estimate == plain.estimate
    assert scaled.se == pytest.approx(2 * (plain.se or 0))
    q = sps.t.ppf(0.975, 8)
    assert scaled.high == pytest.approx(plain.estimate * math.exp(q * (scaled.se or 0)))
    assert scaled.p_value == pytest.approx(
        2 * sps.t.sf(abs(math.log(plain.estimate)) / (scaled.se or 1), 8))
    assert "overdispersion_scaled" in scaled.notes
    assert "overdispersion_scaled" not in plain.notes
    with pytest.raises(ValueError, match="dispersion"):
        rate_ratio_did(**base, dispersion=Dispersion(0.5, 3.0))  # type: ignore[arg-type]


def test_proposed_comparison_areas_are_the_most_similar() -> None:
    pre = {"T": [50.0, 52.0], "near": [50.5, 52.4], "mid": [55.0, 57.0], "far": [70.0, 75.0],
           "twin_b": [49.0, 51.0], "twin_a": [51.0, 53.0]}
    got = propose_comparison_areas(pre, ["T"], 3)
    assert got[0] == "near"
    # twin_a and twin_b are equally far: ties go by area code, deterministically
    assert got[1:] == ["twin_a", "twin_b"]
    assert propose_comparison_areas(pre, ["T"], 10) == ["near", "twin_a", "twin_b", "mid", "far"]
    # several treated areas: nearest to their average
    assert propose_comparison_areas(pre, ["twin_a", "twin_b"], 1) == ["T"]


def test_proposal_standardises_features_and_uses_covariates() -> None:
    # the covariate is on a scale 1000 times larger; standardised, it weighs like the values
    pre = {"T": [50.0], "a": [50.0], "b": [51.0], "c": [60.0]}
    cov = {"T": [10_000.0], "a": [30_000.0], "b": [10_100.0], "c": [10_000.0]}
    assert propose_comparison_areas(pre, ["T"], 1) == ["a"]
    assert propose_comparison_areas(pre, ["T"], 1, covariates=cov) == ["b"]
    # an area without covariates is not proposed; a feature that does not vary is ignored
    cov_missing = {k: v for k, v in cov.items() if k != "b"}
    assert propose_comparison_areas(pre, ["T"], 3, covariates=cov_missing) == ["a", "c"]
    flat = {k: [*v, 7.0] for k, v in pre.items()}
    assert propose_comparison_areas(flat, ["T"], 3) == propose_comparison_areas(pre, ["T"], 3)
    with pytest.raises(ValueError, match="no pre-period values"):
        propose_comparison_areas(pre, ["X"], 2)
    with pytest.raises(ValueError, match="same number"):
        propose_comparison_areas({"T": [1.0], "a": [1.0, 2.0]}, ["T"], 1)
    with pytest.raises(ValueError, match="k must"):
        propose_comparison_areas(pre, ["T"], 0)


def _survey(seed: int, waves: tuple[int, ...], effect: float, treated_trend: float
            ) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for j, wave in enumerate(waves):
        for i, area in enumerate(["t1", "t2", "c1", "c2", "c3", "c4"]):
            n = 120
            treated = area.startswith("t")
            y = rng.normal(40 + 3 * i + j, 6, n)
            if treated:
                y += treated_trend * j + (effect if j == len(waves) - 1 else 0.0)
            parts.append(pd.DataFrame({"wave": wave, "area": area, "w": rng.uniform(1, 2, n),
                                       "stratum": f"{wave}|{i % 2}", "y": y}))
    return pd.concat(parts, ignore_index=True)


def test_survey_did_on_stacked_and_per_wave_designs() -> None:
    frame = _survey(3, (2017, 2019, 2023), effect=5.0, treated_trend=0.0)
    stacked = stats.Design(frame, weights="w", strata="stratum")
    per_wave = {w: stats.Design(frame[frame["wave"] == w].reset_index(drop=True), weights="w",
                                strata="stratum") for w in (2017, 2019, 2023)}
    kw = {"area": "area", "treated": ["t1", "t2"], "comparison": ["c1", "c2", "c3", "c4"],
          "pre_waves": [2017, 2019], "post_waves": [2023]}
    a = survey_did(stacked, "y", **kw)  # type: ignore[arg-type]
    b = survey_did(per_wave, "y", wave_column=None, **kw)  # type: ignore[arg-type]
    assert a.estimate == pytest.approx(b.estimate, rel=1e-12)
    assert a.se == pytest.approx(b.se, rel=1e-12)
    assert a.kind == "survey_did" and a.pre_waves == (2017, 2019) and a.post_waves == (2023,)
    assert a.estimate == pytest.approx(5.0, abs=4 * (a.se or 0))
    assert a.low < a.estimate < a.high and a.p_value < 0.001
    assert a.minimum_detectable_effect == pytest.approx(
        (sps.t.ppf(0.975, 1e9) + sps.t.ppf(0.8, 1e9)) * (a.se or 0), rel=0.02)
    assert a.pre_trend_estimate is not None and a.pre_trend_p is not None
    assert "pre_trends_differ" not in a.notes


def test_survey_did_flags_diverging_pre_trends_and_bad_waves() -> None:
    frame = _survey(4, (2015, 2017, 2019, 2023), effect=0.0, treated_trend=4.0)
    design = stats.Design(frame, weights="w", strata="stratum")
    kw = {"area": "area", "treated": ["t1", "t2"], "comparison": ["c1", "c2", "c3", "c4"]}
    ev = survey_did(design, "y", pre_waves=[2015, 2017, 2019], post_waves=[2023],
                    **kw)  # type: ignore[arg-type]
    assert "pre_trends_differ" in ev.notes
    one = survey_did(design, "y", pre_waves=[2019], post_waves=[2023],
                     **kw)  # type: ignore[arg-type]
    assert one.notes == ("pre_trend_unavailable",) and one.pre_trend_p is None
    with pytest.raises(stats.EstimationError, match="both before and after"):
        survey_did(design, "y", pre_waves=[2019], post_waves=[2019], **kw)  # type: ignore[arg-type]
    with pytest.raises(stats.EstimationError, match="at least one wave"):
        survey_did(design, "y", pre_waves=[], post_waves=[2019], **kw)  # type: ignore[arg-type]
    with pytest.raises(stats.EstimationError, match="no survey design for wave 2021"):
        survey_did({2019: design}, "y", pre_waves=[2019], post_waves=[2021],
                   **kw)  # type: ignore[arg-type]
    with pytest.raises(stats.EstimationError, match="name its wave column"):
        survey_did({2019: design, 2023: design}, "y", pre_waves=[2019], post_waves=[2023],
                   wave_column=None, **kw)  # type: ignore[arg-type]


def test_methods_text_says_what_no_significant_effect_means() -> None:
    assert "'No significant effect' is not 'no effect'" in METHODS_TEXT
    assert "never turns a light red" in METHODS_TEXT
