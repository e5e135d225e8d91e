"""Small areas that add up, and comparisons in the figures that are shown.

On the demo (and with the small-area model applied below n = 80, so that most neighbourhoods
are model-based): the population-weighted mean of every neighbourhood's published estimate
equals its district's direct estimate; a model-based row's comparisons are computed from
published figures only; and the benchmarked intervals' coverage of the demo's known truth.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

from support.frames import tuples
from tryg.demo.model import generate
from tryg.index.catalog import load_spec
from tryg.index.compute import run
from tryg.index.hierarchy import build_hierarchy
from tryg.index.population import totals
from tryg.index.spec import Spec


def _spec(below_n: int | None = None) -> Spec:
    spec = load_spec("dk-tryghedsindeks")
    if below_n is None:
        return spec
    return dataclasses.replace(
        spec, small_area=dataclasses.replace(spec.small_area, below_n=below_n))


#: (wave, measure, parent) the run says it could not benchmark
SKIPPED: set[tuple[int, str, str]] = set()


def _run(seed: int, spec: Spec) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    demo = generate(seed, "small")
    res = run(spec, survey=demo.survey, register=demo.register, population=demo.population,
              areas=demo.areas)
    for w in res.warnings:
        found = re.match(r"(\w+), wave (\d+): model-based estimates not benchmarked in \d+ "
                         r"area\(s\) \(([^)]*)\)", w.message)
        if found:
            for parent in found.group(3).replace(" ...", "").split(", "):
                SKIPPED.add((int(found.group(2)), found.group(1), parent))
    hier, _ = build_hierarchy(demo.areas)
    assert hier is not None
    return res.table, totals(demo.population, hier), hier


@pytest.fixture(scope="module", params=[None, 80], ids=["spec", "below_n=80"])
def result(request: pytest.FixtureRequest) -> tuple[pd.DataFrame, pd.DataFrame, object, Spec]:
    spec = _spec(request.param)
    table, pops, hier = _run(1, spec)
    return table, pops, hier, spec


def _model(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["flags"].str.contains("model_based", regex=False)]


def test_the_children_add_up_to_the_parent(result: tuple[pd.DataFrame, pd.DataFrame, object,
                                                          Spec]) -> None:
    table, pops, hier, _ = result
    model = _model(table)
    assert len(model) > 0
    checked = 0
    for (wave, measure), part in model.groupby(["wave", "measure"]):
        anc = hier.ancestors(int(str(wave)))  # type: ignore[attr-defined]
        pop = pops[pops["year"] == wave].set_index("area_code")["population"]
        rows = table[(table["wave"] == wave) & (table["measure"] == measure)].set_index(
            "area_code")
        for parent in sorted(set(anc.loc[part["area_code"], "bydel"])):
            if (int(str(wave)), str(measure), parent) in SKIPPED:
                continue  # said so (a benchmark out of the share's range): plain EBLUPs
            kids = [a for a in anc.index[anc["bydel"] == parent] if a in rows.index
                    and rows.at[a, "level"] == "nabolag"]
            w = pop.reindex(kids).to_numpy(np.float64)
            e = rows.loc[kids, "estimate"].to_numpy(np.float64)
            assert np.isfinite(w).all() and np.isfinite(e).all()
            mean = float(np.dot(w, e) / w.sum())
            assert abs(mean - float(rows["estimate"].loc[parent])) <= 1e-9, (wave, measure,
                                                                            parent)
            checked += 1
    assert checked > 0 and len(SKIPPED) <= 2
    # the direct estimates are kept as they are; the model-based stay shares
    assert model["estimate"].between(0, 1).all()
    assert (model["ci_low"] <= model["estimate"]).all()
    assert (model["estimate"] <= model["ci_high"]).all()


def test_model_based_comparisons_use_the_published_figures(
        result: tuple[pd.DataFrame, pd.DataFrame, object, Spec]) -> None:
    table, pops, hier, spec = result
    model = _model(table)
    by_key: Any = table.set_index(["area_code", "measure", "wave"])
    waves = sorted(int(w) for w in table["wave"].unique())
    k = spec.comparisons.pooled_waves
    seen = {"prev": 0, "pooled": 0, "rest": 0}
    for r in tuples(model):
        i = waves.index(int(r.wave))
        if pd.notna(r.change_prev):
            prev = by_key.loc[(r.area_code, r.measure, waves[i - 1])]
            assert r.change_prev == pytest.approx(r.estimate - prev["estimate"], abs=1e-12)
            se = np.hypot(r.se, prev["se"])
            assert r.p_prev == pytest.approx(
                2 * (1 - __import__("scipy").stats.norm.cdf(abs(r.change_prev) / se)), abs=1e-9)
            seen["prev"] += 1
        if pd.notna(r.change_pooled):
            earlier = [by_key.loc[(r.area_code, r.measure, w), "estimate"]
                       for w in waves[i - k:i]]
            assert r.change_pooled == pytest.approx(r.estimate - np.mean(earlier), abs=1e-12)
            seen["pooled"] += 1
        if pd.notna(r.diff_parent_rest):
            anc = hier.ancestors(int(r.wave))  # type: ignore[attr-defined]
            parent = anc.at[r.area_code, "bydel"]
            p = by_key.loc[(parent, r.measure, r.wave), "estimate"]
            pop = pops[pops["year"] == r.wave].set_index("area_code")["population"]
            kids = [a for a in anc.index[anc["bydel"] == parent]
                    if (a, r.measure, r.wave) in by_key.index
                    and by_key.loc[(a, r.measure, r.wave), "level"] == "nabolag"]
            share = pop[r.area_code] / pop.reindex(kids).sum()
            assert r.diff_parent_rest == pytest.approx((r.estimate - p) / (1 - share), abs=1e-12)
            seen["rest"] += 1
    assert seen["prev"] > 0 and seen["rest"] > 0


def test_a_model_based_previous_wave_is_compared_as_published(
        result: tuple[pd.DataFrame, pd.DataFrame, object, Spec]) -> None:
    """The wave after a model-based one: its change is against the published model figure."""
    table, _, _, _ = result
    by_key: Any = table.set_index(["area_code", "measure", "wave"])
    waves = sorted(int(w) for w in table["wave"].unique())
    checked = 0
    for r in tuples(_model(table)):
        i = waves.index(int(r.wave))
        if i + 1 >= len(waves) or (r.area_code, r.measure, waves[i + 1]) not in by_key.index:
            continue
        nxt = by_key.loc[(r.area_code, r.measure, waves[i + 1])]
        if pd.notna(nxt["change_prev"]):
            assert nxt["change_prev"] == pytest.approx(nxt["estimate"] - r.estimate, abs=1e-12)
            checked += 1
    assert checked > 0


#: 40 seeds x 5 waves x ~11 model-based neighbourhoods x 2 measures: about 4,400 intervals,
#: so that the binomial standard error of the coverage is about 0.3 percentage points.
SEEDS = range(1, 41)


@pytest.mark.slow
def test_benchmarked_intervals_cover_the_truth() -> None:
    """Coverage of the benchmarked model-based intervals (below n = 80, so that there are
    enough of them) of the demo's true values: the issue's 93–97 %.

    Measured (40 seeds, 4,442 intervals): 95.81 % benchmarked, 94.62 % for the plain EBLUPs,
    with the smoothed sampling variances; with the direct variances as the model's input they
    were 92.37 % and 91.06 % (an area's direct variance from 40–80 answers is small exactly
    where its estimate is near 0 or 1, so the model trusted those estimates too much)."""
    spec = _spec(80)
    frames = []
    for seed in SEEDS:
        demo = generate(seed, "small")
        table = run(spec, survey=demo.survey, register=demo.register,
                    population=demo.population, areas=demo.areas).table
        model = _model(table)
        truth = demo.truth.table[["area_code", "wave", "measure", "value"]]
        joined = model.merge(truth, on=["area_code", "wave", "measure"], how="left")
        assert joined["value"].notna().all()
        frames.append(joined)
    rows = pd.concat(frames, ignore_index=True)
    covered = (rows["ci_low"] <= rows["value"]) & (rows["value"] <= rows["ci_high"])
    coverage = float(covered.mean())
    assert len(rows) >= 4000
    assert 0.93 <= coverage <= 0.97, f"coverage {coverage:.4f} of {len(rows)} intervals"


def test_aalborg_like_parishes_add_up_to_the_kommune() -> None:
    """The Aalborg demo's synthetic survey (57 parishes, 1,500 answers a wave, most parishes
    below 50 answers) with its assumed parish populations: the population-weighted mean of
    every parish's published estimate equals the kommune's direct estimate."""
    from tryg.demo import aalborg
    from tryg.index.inputs import Areas, PopulationInput, SurveyInput

    parishes = [f"9{i:03d}" for i in range(1, 58)]
    population = dict.fromkeys(aalborg.WAVES, 217_000.0)
    survey = aalborg.generate_survey(parishes, population, seed=1)
    areas = Areas(
        pd.DataFrame({"code": [aalborg.KOMMUNE_CODE, *parishes],
                      "name": ["Aalborg", *parishes],
                      "level": ["kommune", *["sogn"] * len(parishes)]}),
        pd.DataFrame({"code": parishes, "parent": aalborg.KOMMUNE_CODE,
                      "valid_from": np.nan, "valid_to": np.nan}))
    pops = pd.concat([survey.margins, survey.parishes], ignore_index=True)
    res = run(_spec(), survey=SurveyInput(survey.responses), population=PopulationInput(pops),
              areas=areas)
    assert not [w for w in res.warnings if "not benchmarked" in w.message]
    t = res.table
    model = _model(t)
    assert model["area_code"].nunique() >= 20  # most parishes are model-based
    size = survey.parishes.set_index(["area_code", "year"])["population"]
    for (wave, measure), part in t[t["level"] == "sogn"].groupby(["wave", "measure"]):
        if measure not in {"tryghed_trygge", "tryghed_utrygge"}:
            continue
        w = size.reindex(pd.MultiIndex.from_arrays(
            [part["area_code"], np.full(len(part), int(str(wave)))])).to_numpy(np.float64)
        e = part["estimate"].to_numpy(np.float64)
        assert len(part) == len(parishes) and np.isfinite(w).all() and np.isfinite(e).all()
        kommune = t[(t["area_code"] == aalborg.KOMMUNE_CODE) & (t["wave"] == wave)
                    & (t["measure"] == measure)]["estimate"].iloc[0]
        assert abs(float(np.dot(w, e) / w.sum()) - float(kommune)) <= 1e-9, (wave, measure)
        if measure == "tryghed_trygge":  # before: 55 of 57 parishes above the kommune
            above = int((e > float(kommune)).sum())
            assert above <= 47, (wave, above)
