"""The index run on a small hand-built municipality: each number checked against a direct
computation with the statistics engine or by hand, plus validation and determinism."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.index.catalog import load_spec
from tryg.index.compute import IndexResult, run
from tryg.index.inputs import InputError, PopulationInput, RegisterInput, SurveyInput
from tryg.index.register import window
from tryg.index.spec import parse_spec

from .synthetic import Inputs, make


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return make()


@pytest.fixture(scope="module")
def result(inputs: Inputs) -> IndexResult:
    sv, reg, pop, areas = inputs
    return run(load_spec("dk-tryghedsindeks"), survey=sv, register=reg, population=pop, areas=areas)


def _row(table: pd.DataFrame, area: str, wave: int, measure: str) -> pd.Series:
    sel = table[
        (table["area_code"] == area) & (table["wave"] == wave) & (table["measure"] == measure)
    ]
    assert len(sel) == 1, f"{area} {wave} {measure}: {len(sel)} rows"
    return sel.iloc[0]


def test_register_rate_by_hand(inputs: Inputs, result: IndexResult) -> None:
    _, reg, pop, _ = inputs
    counts = reg.counts
    spec = load_spec("dk-tryghedsindeks")
    quarters = window(spec.register_measure("anmeldelser_straffelov"), 2020)
    assert quarters == ["2019Q4", "2020Q1", "2020Q2", "2020Q3"]
    sel = counts[
        (counts["area_code"] == "N3")
        & counts["quarter"].isin(quarters)
        & (counts["offence"] == "Penal Code, total")
    ]
    people = pop.table[(pop.table["area_code"] == "N3") & (pop.table["year"] == 2020)]
    expected = sel["count"].sum() / people["population"].sum() * 1000
    row = _row(result.table, "N3", 2020, "anmeldelser_straffelov")
    assert row["estimate"] == pytest.approx(expected, rel=1e-12)
    assert row["n"] == sel["count"].sum()
    assert row["ci_low"] < row["estimate"] < row["ci_high"]
    # the district sums its neighbourhoods' counts and people
    d1 = _row(result.table, "D1", 2020, "anmeldelser_straffelov")
    kids = [f"N{i}" for i in range(4)]
    c = counts[
        counts["area_code"].isin(kids)
        & counts["quarter"].isin(quarters)
        & (counts["offence"] == "Penal Code, total")
    ]["count"].sum()
    p = pop.table[pop.table["area_code"].isin(kids) & (pop.table["year"] == 2020)]
    assert d1["estimate"] == pytest.approx(c / p["population"].sum() * 1000, rel=1e-12)


def test_vulnerable_area_follows_validity_of_links(inputs: Inputs, result: IndexResult) -> None:
    """N0 leaves the housing-area list after 2020: B1 equals N5 alone in 2021."""
    t = result.table
    b1 = _row(t, "B1", 2021, "anmeldelser_straffelov")
    n5 = _row(t, "N5", 2021, "anmeldelser_straffelov")
    assert b1["estimate"] == pytest.approx(n5["estimate"])
    assert _row(t, "B1", 2020, "anmeldelser_straffelov")["n"] > n5["n"]


def test_headline_share_equals_the_statistics_engine(inputs: Inputs, result: IndexResult) -> None:
    """The kommune's share equals a raked design estimate computed directly."""
    sv, _, pop, _ = inputs
    data = sv.responses.assign(
        _stratum=lambda f: f["wave"].astype(str) + "|" + f["area_code"],
        kom="K",
    )
    cells = pop.table[pop.table["area_code"] == "K"]
    d = stats.Design(data, weights="weight", strata="_stratum", lonely_psu="adjust")
    d = stats.rake(
        d,
        {
            ("wave", "kom", "sex"): cells.groupby(["year", "area_code", "sex"])["population"].sum(),
            ("wave", "kom", "age_group"): cells.groupby(["year", "area_code", "age_group"])[
                "population"
            ].sum(),
        },
    )
    direct = stats.proportion(d, "tryg_nabolag", [1, 2, 3], exclude=[8], by="wave")
    for _, r in direct.iterrows():
        row = _row(result.table, "K", int(r["wave"]), "tryghed_trygge")
        assert row["estimate"] == pytest.approx(r["estimate"], rel=1e-10)
        assert row["se"] == pytest.approx(r["se"], rel=1e-8)
        assert row["ci_low"] == pytest.approx(r["ci_low"], rel=1e-8)
        assert row["n"] == r["n"]


def test_composite_is_the_weighted_mean_of_its_subindices(result: IndexResult) -> None:
    t = result.table
    for area in ("K", "D2", "N2"):
        comp = _row(t, area, 2021, "tryghedsindeks")
        parts = [
            _row(t, area, 2021, s)["estimate"]
            for s in ("nabolagsproblemer", "oplevet_tryghed", "anmeldelser")
        ]
        assert comp["estimate"] == pytest.approx(np.mean(parts), rel=1e-10)
        # the composite's uncertainty is at least the register part's
        reg = _row(t, area, 2021, "anmeldelser")
        assert comp["se"] >= reg["se"] / 3


def test_previous_wave_change(result: IndexResult) -> None:
    t = result.table
    a = _row(t, "D1", 2020, "tryghed_trygge")
    b = _row(t, "D1", 2021, "tryghed_trygge")
    assert b["change_prev"] == pytest.approx(b["estimate"] - a["estimate"])
    z = b["change_prev"] / np.hypot(a["se"], b["se"])
    assert b["p_prev"] == pytest.approx(2 * (1 - __import__("scipy").stats.norm.cdf(abs(z))))
    assert pd.isna(_row(t, "D1", 2019, "tryghed_trygge")["change_prev"])


def test_parent_rest_matches_stats(inputs: Inputs, result: IndexResult) -> None:
    """N5 (the less safe neighbourhood) is significantly below the rest of its district."""
    row = _row(result.table, "N5", 2021, "tryghed_trygge")
    assert row["diff_parent_rest"] < 0
    assert bool(row["sig_parent_rest"])


def test_gap_flags_and_columns(result: IndexResult) -> None:
    t = result.table
    gap = t[t["measure"] == "gap"]
    assert not gap.empty
    assert set(gap["flags"]) <= {"", "fear_ahead_of_crime", "fear_behind_crime"}
    assert list(t.columns)[:5] == ["area_code", "area_name", "level", "wave", "measure"]
    assert (t["spec_id"] == "dk-tryghedsindeks").all()


def test_same_inputs_give_identical_tables(inputs: Inputs, result: IndexResult) -> None:
    sv, reg, pop, areas = inputs
    again = run(
        load_spec("dk-tryghedsindeks"), survey=sv, register=reg, population=pop, areas=areas
    )
    pd.testing.assert_frame_equal(result.table, again.table)
    assert result.table.to_csv(index=False) == again.table.to_csv(index=False)


def test_changed_spec_changes_hash(inputs: Inputs) -> None:
    spec = load_spec("dk-tryghedsindeks")
    changed = parse_spec(spec.source.replace("anchors = [0, 150]", "anchors = [0, 160]"))
    assert changed.hash != spec.hash
    _, reg, pop, areas = inputs
    res = run(changed, register=reg, population=pop, areas=areas)
    assert set(res.table["spec_hash"]) == {changed.hash}


def test_register_only_run(inputs: Inputs) -> None:
    _, reg, pop, areas = inputs
    res = run(load_spec("dk-tryghedsindeks"), register=reg, population=pop, areas=areas)
    measures = set(res.table["measure"])
    assert "anmeldelser_straffelov" in measures
    assert "tryghed_trygge" not in measures
    assert sorted(res.table["wave"].unique()) == [2019, 2020, 2021]


def _with(sv: SurveyInput, **changes: object) -> SurveyInput:
    frame: Any = sv.responses.copy()
    cells: Any = changes.items()
    for (row, col), value in cells:
        frame.loc[row, col] = value
    return SurveyInput(frame)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda f: f.assign(area_code=f["area_code"].mask(f.index == 10, "X9")),
            "row 10, column 'area_code': unknown area code 'X9'",
        ),
        (
            lambda f: f.assign(tryg_nabolag=f["tryg_nabolag"].mask(f.index == 12, 9.0)),
            "row 12, column 'tryg_nabolag': answer 9 is outside the scale 1-7",
        ),
        (
            lambda f: f.assign(respondent_id=f["respondent_id"].mask(f.index == 3, "r0")),
            "column 'respondent_id': respondent 'r0' appears twice in wave 2019",
        ),
        (
            lambda f: f.drop(columns=["problem_uro"]),
            "column 'problem_uro': the specification needs this item column",
        ),
        (
            lambda f: f.assign(weight=f["weight"].mask(f.index == 5, -1.0)),
            "row 5, column 'weight': the weight must be a number > 0",
        ),
    ],
)
def test_malformed_survey_stops_the_run(inputs: Inputs, mutate: object, expected: str) -> None:
    sv, reg, pop, areas = inputs
    frame = mutate(sv.responses.copy())  # type: ignore[operator]
    frame.attrs["source"] = "survey.csv"
    with pytest.raises(InputError) as err:
        run(
            load_spec("dk-tryghedsindeks"),
            survey=SurveyInput(frame),
            register=reg,
            population=pop,
            areas=areas,
        )
    assert expected in str(err.value)
    assert "survey.csv" in str(err.value)


def test_wave_without_population_margins(inputs: Inputs) -> None:
    sv, reg, pop, areas = inputs
    table = pop.table[pop.table["year"] != 2021]
    with pytest.raises(InputError, match="wave 2021 has no population margins"):
        run(
            load_spec("dk-tryghedsindeks"),
            survey=sv,
            register=reg,
            population=PopulationInput(table),
            areas=areas,
        )


def test_missing_offence_is_named(inputs: Inputs) -> None:
    sv, reg, pop, areas = inputs
    counts = reg.counts[reg.counts["offence"] != "Crimes of violence, total"]
    with pytest.raises(InputError, match="needs offence 'Crimes of violence, total'"):
        run(
            load_spec("dk-tryghedsindeks"),
            survey=sv,
            register=RegisterInput(counts),
            population=pop,
            areas=areas,
        )


def test_method_break_is_flagged_not_bridged(inputs: Inputs) -> None:
    sv, reg, pop, areas = inputs
    frame = sv.responses.copy()
    frame.loc[frame["wave"] == 2021, "questionnaire"] = "v2"
    res = run(
        load_spec("dk-tryghedsindeks"),
        survey=SurveyInput(frame),
        register=reg,
        population=pop,
        areas=areas,
    )
    row = _row(res.table, "K", 2021, "tryghed_trygge")
    assert "method_break" in row["flags"]
    assert pd.isna(row["change_prev"])
    assert not pd.isna(_row(res.table, "K", 2020, "tryghed_trygge")["change_prev"])


def test_small_areas_are_suppressed_or_modelled(inputs: Inputs) -> None:
    sv, reg, pop, areas = inputs
    frame = sv.responses
    # keep only 30 respondents in N7 in 2021: below min_n = 50
    n7 = frame[(frame["area_code"] == "N7") & (frame["wave"] == 2021)]
    small = SurveyInput(frame.drop(n7.index[30:]))
    res = run(
        load_spec("dk-tryghedsindeks"), survey=small, register=reg, population=pop, areas=areas
    )
    share = _row(res.table, "N7", 2021, "tryghed_trygge")
    assert share["method"] in ("model", "synthetic")
    assert "model_based" in share["flags"]
    other = _row(res.table, "N7", 2021, "tillid_tillid")  # not modelled: suppressed
    assert other["suppressed"]


def test_spec_dataclass_is_frozen() -> None:
    spec = load_spec("dk-tryghedsindeks")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.id = "x"  # type: ignore[misc]


def test_vectorised_comparisons_equal_the_reference_contrasts(inputs: Inputs) -> None:
    """The index's fast area-vs-rest and pooled comparisons equal tryg.stats' direct ones."""
    from tryg.index import comparisons, survey
    from tryg.index.hierarchy import build_hierarchy
    from tryg.stats.design import replace_design

    sv, _, pop, areas = inputs
    spec = parse_spec(load_spec("dk-tryghedsindeks").source.replace("pooled_waves = 3",
                                                                    "pooled_waves = 2"))
    hier, _ = build_hierarchy(areas)
    assert hier is not None
    est, problems = survey.estimate(spec, sv, pop, hier)
    assert est is not None and not problems
    fast_rest = comparisons.parent_rest(spec, est, hier, ["tryghed_trygge"])
    fast_pool = comparisons.pooled(spec, est, ["tryghed_trygge"], set())
    data = est.frame.assign(y=est.values["tryghed_trygge"])
    design = replace_design(est.design, data=data)
    col, pcol = est.level_columns["nabolag"], est.level_columns["bydel"]
    slow = stats.compare_with_rest(design, "y", area=col, parent=pcol, by="wave")
    merged = slow.rename(columns={col: "area_code"}).merge(
        fast_rest, on=["area_code", "wave"], how="inner")
    assert len(merged) == len(slow) == 24
    np.testing.assert_allclose(merged["diff_parent_rest"], merged["difference"], rtol=1e-10)
    np.testing.assert_array_equal(merged["sig_parent_rest"].astype(bool),
                                  merged["p_value"] < 0.05)
    slow_pool = stats.compare_with_pooled(design, "y", wave="wave", current=2021,
                                          earlier=[2019, 2020], by=col)
    fp = fast_pool[(fast_pool["wave"] == 2021)].merge(
        slow_pool.rename(columns={col: "area_code"}), on="area_code")
    assert len(fp) == 8
    np.testing.assert_allclose(fp["change_pooled"], fp["difference"], rtol=1e-10)
    np.testing.assert_allclose(merged["se_parent_rest"], merged["se"], rtol=1e-8)
    np.testing.assert_allclose(fp["se_pooled"], fp["se"], rtol=1e-8)


def test_calibration_margins_add_up_neighbourhood_rows(inputs: Inputs, result: IndexResult) -> None:
    """A population table by neighbourhood only serves the kommune's margins too."""
    sv, reg, pop, areas = inputs
    only_leaves = PopulationInput(pop.table[pop.table["area_code"] != "K"])
    res = run(load_spec("dk-tryghedsindeks"), survey=sv, register=reg, population=only_leaves,
              areas=areas)
    pd.testing.assert_frame_equal(res.table, result.table)


@pytest.mark.parametrize(("backend", "independent"),
                         [("pattern", True), ("sparse", True), ("cells", False),
                          ("pattern", False)])
def test_pooled_changes_are_those_of_every_back_end(
    inputs: Inputs, backend: str, independent: bool
) -> None:
    """The pooled comparison is one statistic over the variance interface: the run takes the
    per-cell moments here (every respondent is its own unit) and, the waves being independent
    samples, a sum over waves; the score patterns and the sparse linearisation give the same
    changes and standard errors, and so does the contrast with the window of waves as a
    whole (covariances between waves included: exactly 0 here)."""
    from tryg.index import comparisons, survey
    from tryg.index.hierarchy import build_hierarchy
    from tryg.stats.area_waves import pooled_changes
    from tryg.stats.domain_totals import CellTotals, DomainTotals, PatternTotals, SparseTotals

    sv, _, pop, areas = inputs
    spec = parse_spec(load_spec("dk-tryghedsindeks").source.replace("pooled_waves = 3",
                                                                    "pooled_waves = 2"))
    hier, _ = build_hierarchy(areas)
    assert hier is not None
    est, _ = survey.estimate(spec, sv, pop, hier)
    assert est is not None
    variables = ["tryghed_trygge", "tillid_tillid", "nabolagsproblemer"]
    waves = sorted(int(w) for w in est.frame["wave"].unique())
    values = {v: est.values[v] for v in variables}
    run_table = comparisons.pooled(spec, est, variables, set())
    cells = est.cache.totals[tuple(variables)]
    assert isinstance(cells, CellTotals)
    choices: dict[str, DomainTotals] = {
        "cells": cells, "pattern": PatternTotals(est.design, values),
        "sparse": SparseTotals(est.design, values)}
    other = choices[backend]
    parts = pooled_changes(est, variables, 2, waves, waves[2:], totals=other,
                           independent=independent)
    assert len(run_table) > 0 and run_table["sig_pooled"].any()
    pd.testing.assert_frame_equal(comparisons._pooled_table(spec, parts), run_table, rtol=1e-9)
