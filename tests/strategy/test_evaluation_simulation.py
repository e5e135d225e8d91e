"""The evaluation over repeated simulated datasets whose truth is known (fixed seeds).

* A real effect in the treated areas is found (p < 0.05) at the rate the power calculation
  predicts: the mean over replications of power(effect, SE, df) from each replication's own
  design-based SE - with the effect set near the minimum detectable effect, about 80 %.
* A common trend in treated and comparison areas (no effect) is flagged significant at about
  α = 5 %.

Both within 99.9 % binomial bands, so the tests are not flaky (and the seeds are fixed, so a
failure reproduces). Survey data: 10 areas (3 treated) in 2 regions; per wave and region 40
clusters of 8 respondents drawn with replacement, each in one of the region's areas, with a
cluster effect and random weights; strata wave × region, crossing the treated and comparison
groups (so their gap has a covariance). Register data: Poisson counts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from tryg import stats
from tryg.stats.did import power
from tryg.strategy.evaluation import (
    Evaluation,
    rate_ratio_did,
    survey_did,
    trend_dispersion,
)

AREAS = [f"A{i}" for i in range(10)]
TREATED = AREAS[:3]
COMPARISON = AREAS[3:]
CLUSTERS_PER_REGION, SIZE = 40, 8
WAVES = (2020, 2022)


def draw(rng: np.random.Generator, effect: float, trend: float) -> pd.DataFrame:
    """Two waves; a common trend in every area, and ``effect`` in the treated areas after.

    Drawn as the design says it was: in each wave and region (the strata), clusters sampled
    with replacement, each falling in one of the region's areas at random (so an area's sample
    size varies, as a domain's does)."""
    parts = []
    for wave in WAVES:
        after = wave == WAVES[1]
        for region in (0, 1):
            area = rng.choice(np.arange(region, len(AREAS), 2), CLUSTERS_PER_REGION)
            level = (50 + 3 * area + trend * after + effect * (after & (area < len(TREATED)))
                     + rng.normal(0, 2, CLUSTERS_PER_REGION))
            cluster = np.repeat(np.arange(CLUSTERS_PER_REGION), SIZE)
            n = len(cluster)
            parts.append(pd.DataFrame({
                "wave": wave, "area": np.array(AREAS, dtype=object)[area[cluster]],
                "stratum": wave * 10 + region, "psu": cluster, "w": rng.uniform(1, 3, n),
                "y": level[cluster] + rng.normal(0, 8, n),
            }))
    return pd.concat(parts, ignore_index=True)


def evaluate(frame: pd.DataFrame) -> Evaluation:
    design = stats.Design(frame, weights="w", strata="stratum", psu="psu")
    return survey_did(design, "y", area="area", treated=TREATED, comparison=COMPARISON,
                      pre_waves=[WAVES[0]], post_waves=[WAVES[1]])


def band(reps: int, p: float) -> tuple[float, float]:
    lo, hi = sps.binom.interval(0.999, reps, p)
    return float(lo), float(hi)


@pytest.mark.slow
def test_a_real_effect_is_found_at_the_predicted_rate() -> None:
    # the effect this design should find 80 % of the time: the MDE, averaged over pilot draws
    pilot_rng = np.random.default_rng(1)
    effect = float(np.mean([evaluate(draw(pilot_rng, 0.0, 0.0)).minimum_detectable_effect
                            for _ in range(20)]))
    rng = np.random.default_rng(20261206)
    reps = 300
    found = 0
    predicted = []
    estimates = []
    for _ in range(reps):
        ev = evaluate(draw(rng, effect, trend=1.5))
        assert ev.se is not None
        found += ev.p_value < 0.05
        predicted.append(power(effect, ev.se, math.inf))
        estimates.append(ev.estimate)
    expected = float(np.mean(predicted))
    assert expected == pytest.approx(0.8, abs=0.03)
    lo, hi = band(reps, expected)
    assert lo <= found <= hi, f"found {found} of {reps}, predicted {expected:.3f}"
    # and the estimator is unbiased for the effect
    spread = float(np.std(estimates)) / math.sqrt(reps)
    assert np.mean(estimates) == pytest.approx(effect, abs=4 * spread)


@pytest.mark.slow
def test_a_common_trend_is_significant_at_about_alpha() -> None:
    rng = np.random.default_rng(20261207)
    reps = 400
    flagged = sum(evaluate(draw(rng, 0.0, trend=3.0)).p_value < 0.05 for _ in range(reps))
    lo, hi = band(reps, 0.05)
    assert lo <= flagged <= hi, f"{flagged} of {reps} flagged"


def _counts(rng: np.random.Generator, ratio: float) -> Evaluation:
    """Register counts: the rate falls by 10 % everywhere; in the treated areas by ``ratio``
    more."""
    rate = 0.01
    exposures = {"t": 20_000.0, "c": 60_000.0}
    t0 = int(rng.poisson(rate * exposures["t"]))
    t1 = int(rng.poisson(rate * 0.9 * ratio * exposures["t"]))
    c0 = int(rng.poisson(rate * exposures["c"]))
    c1 = int(rng.poisson(rate * 0.9 * exposures["c"]))
    return rate_ratio_did(treated_pre=(t0, exposures["t"]), treated_post=(t1, exposures["t"]),
                          comparison_pre=(c0, exposures["c"]),
                          comparison_post=(c1, exposures["c"]))


def test_register_rates_common_trend_and_power() -> None:
    reps = 3000
    rng = np.random.default_rng(11)
    flagged = sum(_counts(rng, 1.0).p_value < 0.05 for _ in range(reps))
    lo, hi = band(reps, 0.05)
    assert lo <= flagged <= hi, f"{flagged} of {reps} flagged"

    rng = np.random.default_rng(12)
    found = 0
    predicted = []
    for _ in range(reps):
        ev = _counts(rng, 0.75)
        assert ev.se is not None
        found += ev.p_value < 0.05
        predicted.append(power(math.log(0.75), ev.se, math.inf))
    expected = float(np.mean(predicted))
    lo, hi = band(reps, expected)
    assert lo <= found <= hi, f"found {found} of {reps}, predicted {expected:.3f}"


def test_register_rates_with_areas_trending_apart() -> None:
    """Each area's rate changes by its own random factor (sd 0.15 on the log scale) beside the
    common trend, and no effect. Poisson intervals alone then flag far more than 5 %; scaled by
    the areas' estimated overdispersion (t on its degrees of freedom) about 5 %, within a 99.9 %
    binomial band."""
    rng = np.random.default_rng(13)
    reps = 1000
    treated_n, comparison_n, expected_count = 5, 15, 150.0
    flagged_poisson = flagged_scaled = 0
    for _ in range(reps):
        groups: list[list[tuple[tuple[int, float], tuple[int, float]]]] = []
        for m in (treated_n, comparison_n):
            drift = np.exp(rng.normal(0, 0.15, m))
            before = rng.poisson(expected_count, m)
            after = rng.poisson(expected_count * 0.9 * drift)
            groups.append([((int(b), 1000.0), (int(a), 1000.0))
                           for b, a in zip(before, after, strict=True)])

        def pooled(g: list[tuple[tuple[int, float], tuple[int, float]]], i: int
                   ) -> tuple[int, float]:
            return sum(p[i][0] for p in g), sum(p[i][1] for p in g)

        kw = {"treated_pre": pooled(groups[0], 0), "treated_post": pooled(groups[0], 1),
              "comparison_pre": pooled(groups[1], 0), "comparison_post": pooled(groups[1], 1)}
        flagged_poisson += rate_ratio_did(**kw).p_value < 0.05  # type: ignore[arg-type]
        scaled = rate_ratio_did(**kw, dispersion=trend_dispersion(groups))  # type: ignore[arg-type]
        flagged_scaled += scaled.p_value < 0.05
    assert flagged_poisson > band(reps, 0.05)[1]  # the plain Poisson interval is too narrow
    lo, hi = band(reps, 0.05)
    assert lo <= flagged_scaled <= hi, f"{flagged_scaled} of {reps} flagged"
