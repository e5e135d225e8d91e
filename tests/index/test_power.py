"""Power of the previous-wave comparison: a true change is detected as often as predicted.

Acceptance: a true change of the size the spec calls significant is detected in the
proportion the power calculation predicts.

The demo generator has no knob for an imposed change, so the survey is simulated here from a
design whose truth is exactly known: one kommune, 4 districts, 120 neighbourhoods, two waves;
in every neighbourhood and wave a simple random sample of ``N_PER_AREA`` residents (sex x age
cell drawn in proportion to the population, design weight N_a / n, everyone answers, no
"don't know"). Each respondent answers "tryg_nabolag" and "tillid_politi" independently: a
safe/trusting code (1-3) with probability ``p`` and 4-7 otherwise, so "tryghed_trygge" and
"tillid_tillid" are two independent comparisons per neighbourhood. ``p`` is ``P1`` in one wave
and ``P1 + delta`` in the other (the direction alternates between neighbourhoods).

The spec tests a change against the previous wave at alpha = 0.05, two-sided, with
se_diff = hypot(se1, se2) (independent waves). For a true change delta with true standard
error sigma_d = sqrt(p1 (1 - p1) / n + p2 (1 - p2) / n) (design effect 1: one stratum per
neighbourhood, equal weights within it; the kommune-level raking moves them by ~1 %), the
predicted power is Phi(delta / sigma_d - z) + Phi(-delta / sigma_d - z), z = z_{0.975}.

Two change sizes, half of the neighbourhoods each:

* delta = z sigma_d, the size the spec calls significant (a change exactly at the critical
  difference): predicted power ~ 0.50;
* delta = (z + z_{0.80}) sigma_d, the usual minimal detectable change: predicted power ~ 0.80.

5 replicate data sets give 600 comparisons per size; the observed share with sig_prev True
must lie in the binomial 99 % band around the predicted power (computed from the true
sigma_d, not from the estimated standard errors; these are checked separately to be close to
it).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from tryg.index.catalog import load_spec
from tryg.index.compute import run
from tryg.index.inputs import Areas, PopulationInput, SurveyInput

SEXES = ("mand", "kvinde")
AGE_GROUPS = ("15-24", "25-39", "40-54", "55-69", "70+")
WAVES = (2021, 2022)
N_AREAS = 120
N_DISTRICTS = 4
N_PER_AREA = 150
P1 = 0.80
SEEDS = range(1, 6)
TARGET_POWER = (0.5, 0.8)
SHARES = {"tryghed_trygge": "tryg_nabolag", "tillid_tillid": "tillid_politi"}
OTHER_ITEMS = (
    "problem_trusler", "problem_koersel", "problem_narko", "problem_uro",
    "utryg_trusler", "utryg_narko", "utryg_uro",
)  # fmt: skip


def sigma_diff(p1: float, p2: float, n: int) -> float:
    return float(np.sqrt(p1 * (1 - p1) / n + p2 * (1 - p2) / n))


def power(delta: float, sigma: float, alpha: float) -> float:
    z = stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(delta / sigma - z) + stats.norm.cdf(-delta / sigma - z))


def delta_for(target: float, alpha: float) -> float:
    """The true change delta = (z + Phi^-1(target)) sigma_d, whose predicted power is
    ``target`` (up to the far tail, < 1e-4), solved for delta because sigma_d depends on
    p2 = P1 + delta."""
    z = stats.norm.ppf(1 - alpha / 2)
    shift = stats.norm.ppf(target)

    def gap(delta: float) -> float:
        return float(delta - (z + shift) * sigma_diff(P1, P1 + delta, N_PER_AREA))

    return float(optimize.brentq(gap, 1e-6, 1 - P1 - 1e-6))


def simulate(seed: int, p: np.ndarray) -> tuple[SurveyInput, PopulationInput, Areas]:
    """Survey, population and areas; ``p[a, t]`` is the true share in area a, wave t."""
    rng = np.random.default_rng(seed)
    nb = [f"N{i:03d}" for i in range(N_AREAS)]
    districts = [f"D{j}" for j in range(N_DISTRICTS)]
    areas = pd.DataFrame(
        {
            "code": ["K", *districts, *nb],
            "name": ["Kommune", *districts, *nb],
            "level": ["kommune"] + ["bydel"] * N_DISTRICTS + ["nabolag"] * N_AREAS,
        }
    )
    links = pd.DataFrame(
        {
            "code": [*districts, *nb],
            "parent": ["K"] * N_DISTRICTS + [districts[i % N_DISTRICTS] for i in range(N_AREAS)],
            "valid_from": np.nan,
            "valid_to": np.nan,
        }
    )
    cells = [(s, a) for s in SEXES for a in AGE_GROUPS]
    pop = rng.integers(100, 400, (N_AREAS, len(cells))).astype(float)
    pop_rows = pd.DataFrame(
        [
            (code, year, s, a, pop[i, k])
            for year in WAVES
            for i, code in enumerate(nb)
            for k, (s, a) in enumerate(cells)
        ],
        columns=["area_code", "year", "sex", "age_group", "population"],
    )
    kommune = (
        pop_rows.groupby(["year", "sex", "age_group"], as_index=False)["population"]
        .sum()
        .assign(area_code="K")
    )
    population = pd.concat([pop_rows, kommune], ignore_index=True)

    codes = np.array(nb, dtype=object)
    area = np.repeat(np.arange(N_AREAS), N_PER_AREA)
    m = area.size
    frames = []
    for t, wave in enumerate(WAVES):
        cell = np.concatenate(
            [rng.choice(len(cells), N_PER_AREA, p=row / row.sum()) for row in pop]
        )
        frame = pd.DataFrame(
            {
                "respondent_id": [f"{wave}-{j:06d}" for j in range(m)],
                "wave": wave,
                "area_code": codes[area],
                "stratum": codes[area],
                "weight": pop.sum(axis=1)[area] / N_PER_AREA,
                "sex": [cells[c][0] for c in cell],
                "age_group": [cells[c][1] for c in cell],
                "questionnaire": "v1",
            }
        )
        for item in SHARES.values():
            yes = rng.random(m) < p[area, t]
            frame[item] = np.where(yes, rng.integers(1, 4, m), rng.integers(4, 8, m)).astype(float)
        for item in OTHER_ITEMS:
            frame[item] = rng.integers(1, 6, m).astype(float)
        frames.append(frame)
    survey = pd.concat(frames, ignore_index=True)
    survey.index = survey.index + 2
    survey.attrs["source"] = "survey.csv"
    return SurveyInput(survey), PopulationInput(population), Areas(areas, links)


@pytest.fixture(scope="module")
def comparisons() -> tuple[pd.DataFrame, dict[float, float], float]:
    """Every neighbourhood's second-wave comparison, with its true change and target."""
    spec = load_spec("dk-tryghedsindeks")
    alpha = spec.comparisons.alpha
    deltas = {target: delta_for(target, alpha) for target in TARGET_POWER}
    group = np.arange(N_AREAS) * len(TARGET_POWER) // N_AREAS  # first half 0.5, then 0.8
    delta = np.array([deltas[TARGET_POWER[g]] for g in group])
    up = np.arange(N_AREAS) % 2 == 0
    p = np.column_stack([np.where(up, P1, P1 + delta), np.where(up, P1 + delta, P1)])
    truth = pd.DataFrame(
        {
            "area_code": [f"N{i:03d}" for i in range(N_AREAS)],
            "target": np.array(TARGET_POWER)[group],
            "true_change": p[:, 1] - p[:, 0],
        }
    )
    frames = []
    for seed in SEEDS:
        survey, population, areas = simulate(seed, p)
        table = run(spec, survey=survey, population=population, areas=areas).table
        rows = table[
            (table["level"] == "nabolag")
            & (table["wave"] == WAVES[1])
            & table["measure"].isin(list(SHARES))
        ]
        prev = table[
            (table["level"] == "nabolag")
            & (table["wave"] == WAVES[0])
            & table["measure"].isin(list(SHARES))
        ][["area_code", "measure", "se"]].rename(columns={"se": "se_prev"})
        frames.append(rows.merge(prev, on=["area_code", "measure"]).assign(seed=seed))
    out = pd.concat(frames, ignore_index=True).merge(truth, on="area_code")
    return out, deltas, alpha


def test_design_of_the_power_check(
    comparisons: tuple[pd.DataFrame, dict[float, float], float],
) -> None:
    rows, deltas, alpha = comparisons
    assert alpha == 0.05
    assert len(rows) == len(SEEDS) * N_AREAS * len(SHARES)
    assert (rows["method"] == "direct").all()
    assert (rows["n"] == N_PER_AREA).all()
    assert rows["sig_prev"].notna().all()
    for target, delta in deltas.items():
        sigma = sigma_diff(P1, P1 + delta, N_PER_AREA)
        assert power(delta, sigma, alpha) == pytest.approx(target, abs=1e-3)
    # the change the index reports is the difference of the two estimates, unbiased for the
    # true change
    err = rows["change_prev"] - rows["true_change"]
    assert abs(err.mean()) < 3 * err.std() / np.sqrt(len(err))


@pytest.mark.parametrize("target", TARGET_POWER)
def test_true_change_is_detected_as_often_as_predicted(
    comparisons: tuple[pd.DataFrame, dict[float, float], float], target: float
) -> None:
    rows, deltas, alpha = comparisons
    part = rows[rows["target"] == target]
    delta = deltas[target]
    sigma = sigma_diff(P1, P1 + delta, N_PER_AREA)
    predicted = power(delta, sigma, alpha)
    observed = float(part["sig_prev"].astype(bool).mean())
    k = len(part)
    half = stats.norm.ppf(0.995) * np.sqrt(predicted * (1 - predicted) / k)
    # the estimated se of the change agrees with the true one (design effect ~ 1)
    se_diff = np.hypot(part["se"].to_numpy(float), part["se_prev"].to_numpy(float))
    from_se = float(np.mean([power(delta, s, alpha) for s in se_diff]))
    detail = (
        f"delta {delta:.4f}, true sigma_d {sigma:.4f}, mean estimated se_diff "
        f"{se_diff.mean():.4f}; predicted power {predicted:.3f} (from estimated se "
        f"{from_se:.3f}), observed {observed:.3f} of {k}; 99 % band +-{half:.3f}"
    )
    assert k >= 400, detail
    assert se_diff.mean() == pytest.approx(sigma, rel=0.05), detail
    assert abs(observed - predicted) <= half, detail
    # a detected change has the sign of the true one
    sig = part[part["sig_prev"].astype(bool)]
    assert (np.sign(sig["change_prev"]) == np.sign(sig["true_change"])).all(), detail
