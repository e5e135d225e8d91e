"""The in-memory demo data: contract shapes and ranges, consistency, determinism, truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg.demo.model import (
    AGE_GROUPS,
    ITEMS,
    KOMMUNE_CODE,
    OFFENCE_TOTALS,
    SEXES,
    DemoData,
    area_rows,
    generate,
)
from tryg.index.inputs import (
    AREA_COLUMNS,
    LINK_COLUMNS,
    POPULATION_COLUMNS,
    REGISTER_COLUMNS,
    SURVEY_COLUMNS,
)
from tryg.index.spec import parse_spec

SPEC = Path(__file__).resolve().parents[2] / "src/tryg/index/specs/dk-tryghedsindeks.toml"


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


def test_same_seed_same_data_other_seed_other_data(demo: DemoData) -> None:
    again = generate(1, "small")
    pd.testing.assert_frame_equal(demo.survey.responses, again.survey.responses)
    pd.testing.assert_frame_equal(demo.records, again.records)
    pd.testing.assert_frame_equal(demo.truth.table, again.truth.table)
    other = generate(2, "small")
    assert not demo.survey.responses["tryg_nabolag"].equals(other.survey.responses["tryg_nabolag"])


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError, match="unknown size"):
        generate(1, "huge")
    with pytest.raises(ValueError, match="seed"):
        generate(-1)
    with pytest.raises(ValueError, match="method_break"):
        generate(1, method_break=2019)  # the first wave cannot break from anything


def test_survey_follows_the_contract_and_the_spec(demo: DemoData) -> None:
    survey = demo.survey.responses
    spec = parse_spec(SPEC.read_text(encoding="utf-8"))
    assert set(SURVEY_COLUMNS) <= set(survey.columns)
    assert survey.attrs["source"] == "survey.csv"
    assert survey.index[0] == 2  # line numbers of the written file
    assert sorted(survey["wave"].unique()) == [2019, 2020, 2021, 2022, 2023]
    for item in spec.items:
        answers = survey[item.id]
        lo, hi = item.scale
        ok = answers.isna() | answers.between(lo, hi) | answers.isin(item.dont_know)
        assert ok.all(), item.id
        assert (answers.dropna() % 1 == 0).all()
        assert 0.02 < (answers == 8).mean() < 0.04, item.id
        assert 0.01 < answers.isna().mean() < 0.03, item.id
    assert {i.id for i in spec.items} == set(ITEMS)
    assert (survey["weight"] > 0).all()
    assert survey["sex"].isin(SEXES).all() and survey["age_group"].isin(AGE_GROUPS).all()
    assert (survey["stratum"] == survey["area_code"]).all()
    assert (survey["questionnaire"] == "2019").all()
    per_wave = survey.groupby("wave")["respondent_id"]
    assert per_wave.apply(lambda ids: ids.is_unique).all()
    assert per_wave.size().between(3_500, 4_500).all()
    nabolag = demo.areas.areas.loc[demo.areas.areas["level"] == "nabolag", "code"]
    assert set(survey["area_code"]) <= set(nabolag)


def test_weights_are_design_weights(demo: DemoData) -> None:
    """weight = N_h / n_h: constant per stratum and wave, and N_h / weight is a whole n_h."""
    survey = demo.survey.responses
    pop = demo.population.table.groupby(["area_code", "year"])["population"].sum()
    assert survey.groupby(["wave", "stratum"])["weight"].nunique().eq(1).all()
    big_n = pop.loc[list(zip(survey["stratum"], survey["wave"], strict=True))].to_numpy()
    invited = big_n / survey["weight"].to_numpy()
    assert np.allclose(invited, np.round(invited))
    assert (survey.groupby(["wave", "stratum"]).size() >= 2).all()


def test_population_margins_add_up(demo: DemoData) -> None:
    pop = demo.population.table
    assert set(POPULATION_COLUMNS) <= set(pop.columns)
    assert (pop["population"] > 0).all()
    assert set(pop["area_code"]) == set(demo.areas.areas["code"])
    levels = demo.areas.areas.set_index("code")["level"]
    pop = pop.assign(level=pop["area_code"].map(levels))
    cells = ["year", "sex", "age_group"]
    kommune = pop[pop["level"] == "kommune"].set_index(cells)["population"]
    nabolag = pop[pop["level"] == "nabolag"]
    pd.testing.assert_series_equal(nabolag.groupby(cells)["population"].sum(),
                                   kommune.sort_index(), check_names=False)
    links = demo.areas.links
    district = links[links["parent"].map(levels) == "bydel"].set_index("code")["parent"]
    by_district = nabolag.assign(d=nabolag["area_code"].map(district))
    summed = by_district.groupby(["d", *cells])["population"].sum()
    stated = pop[pop["level"] == "bydel"].set_index(["area_code", *cells])["population"]
    assert np.allclose(summed.sort_index().to_numpy(), stated.sort_index().to_numpy())
    assert len(pop) == len(pop.drop_duplicates(["area_code", *cells]))
    assert set(pop["year"]) == set(range(2018, 2024))


def test_areas_links_and_validity(demo: DemoData) -> None:
    areas, links = demo.areas.areas, demo.areas.links
    assert set(AREA_COLUMNS) <= set(areas.columns) and set(LINK_COLUMNS) <= set(links.columns)
    counts = areas["level"].value_counts()
    assert counts.to_dict() == {"nabolag": 40, "bydel": 8, "boligomraade": 3, "kommune": 1}
    assert areas["code"].is_unique and areas["name"].is_unique
    assert (areas.loc[areas["code"] == KOMMUNE_CODE, "name"] == "Demo Kommune").all()
    levels = areas.set_index("code")["level"]
    parent_level = links["parent"].map(levels)
    nabolag_links = links[links["code"].map(levels) == "nabolag"]
    assert nabolag_links.groupby("code")["parent"].apply(
        lambda p: (p.map(levels) == "bydel").sum()).eq(1).all()
    housing = links[parent_level == "boligomraade"]
    assert housing["parent"].nunique() == 3
    assert housing["valid_to"].eq(2021).any()  # one area leaves the list after 2021
    assert (links["valid_from"].isna() | (links["valid_from"] % 1 == 0)).all()
    rows = area_rows(demo.areas)  # the rows of areas.csv: index = line number - 2
    assert (rows.index + 2)[~rows["code"].duplicated()].tolist() == areas.index.tolist()


def test_register_counts_aggregate_the_records(demo: DemoData) -> None:
    counts, records = demo.register.counts, demo.records
    assert set(REGISTER_COLUMNS) <= set(counts.columns)
    assert {"Penal Code, total", "Crimes of violence, total"} <= set(counts["offence"])
    quarters = sorted(counts["quarter"].unique())
    assert quarters[0] == "2018Q4" and quarters[-1] == "2023Q4" and len(quarters) == 21
    assert (counts["count"] >= 0).all()
    assert 40_000 < len(records) < 80_000
    dates = pd.to_datetime(records["date"])
    per_record = pd.DataFrame({
        "area_code": records["area_code"].astype(str).to_numpy(),
        "quarter": (dates.dt.year.astype(str) + "Q" + dates.dt.quarter.astype(str)).to_numpy(),
        "offence": [OFFENCE_TOTALS[o] for o in records["offence"]],
    }).explode("offence")
    recount = per_record.value_counts().rename("from_records")
    stated = counts.set_index(["area_code", "quarter", "offence"])["count"]
    joined = stated.to_frame().join(recount).fillna(0)
    assert (joined["count"] == joined["from_records"]).all()
    assert int(stated.sum()) == int(recount.sum())


def test_record_points_lie_in_their_square(demo: DemoData) -> None:
    cells = demo.cells.set_index("code")
    box = cells.loc[demo.records["area_code"].astype(str).tolist()]
    lon, lat = demo.records["lon"].to_numpy(), demo.records["lat"].to_numpy()
    assert ((box["lon0"].to_numpy() < lon) & (lon < box["lon1"].to_numpy())).all()
    assert ((box["lat0"].to_numpy() < lat) & (lat < box["lat1"].to_numpy())).all()
    assert (cells["lon1"] < 8.0).all()  # at sea, west of Jutland: clearly not a real place


def test_truth_matches_the_published_levels(demo: DemoData) -> None:
    truth = demo.truth.table
    trygge = truth[truth["measure"] == "tryghed_trygge"]
    kommune = trygge[trygge["level"] == "kommune"]["value"]
    housing = trygge[trygge["level"] == "boligomraade"]["value"]
    assert kommune.between(0.86, 0.92).all()
    assert kommune.mean() == pytest.approx(0.89, abs=0.005)
    assert housing.mean() == pytest.approx(0.72, abs=0.05)
    # U02 leaves the list after 2021: no true value for it afterwards
    assert set(trygge.loc[trygge["area_code"] == "9999-U02", "wave"]) == {2019, 2020, 2021}


def test_truth_is_the_population_weighted_cell_average(demo: DemoData) -> None:
    tm = demo.truth
    p = tm.probabilities("tryg_nabolag")
    assert np.allclose(p.sum(axis=-1), 1.0)
    pop = demo.population.table.set_index(["area_code", "year", "sex", "age_group"])
    code, wave = "9999-03-02", 2021
    cells = np.array([[pop.loc[(code, wave, s, a), "population"] for a in AGE_GROUPS]
                      for s in SEXES])
    nb = tm.geo.nb_codes.index(code)
    share = p[nb, wave - 2019, :, :, :3].sum(axis=-1)
    expected = float((cells * share).sum() / cells.sum())
    assert tm.value(code, wave, "tryghed_trygge") == pytest.approx(expected, rel=1e-12)
    truth = tm.table[(tm.table["wave"] == wave) & (tm.table["measure"] == "tryghed_trygge")]
    nab = truth[truth["level"] == "nabolag"]
    weights = pop.groupby(level=["area_code", "year"])["population"].sum()
    w = weights.loc[list(zip(nab["area_code"], [wave] * len(nab), strict=True))].to_numpy()
    kommune = float((nab["value"].to_numpy() * w).sum() / w.sum())
    assert tm.value(KOMMUNE_CODE, wave, "tryghed_trygge") == pytest.approx(kommune, rel=1e-12)
    shares = tm.table[(tm.table["wave"] == wave) & tm.table["measure"].str.startswith("tryghed")]
    assert np.allclose(shares.groupby("area_code")["value"].sum(), 1.0)  # one item's shares


def test_truth_for_any_set_of_neighbourhoods(demo: DemoData) -> None:
    """``value_for`` gives e.g. the rest of a district, for area-versus-rest comparisons."""
    tm = demo.truth
    links = demo.areas.links
    members = links.loc[links["parent"] == "9999-03", "code"].tolist()
    for measure in ("tryghed_trygge", "anmeldelser_vold", "nabolagsproblemer"):
        assert tm.value_for(members, 2020, measure) == pytest.approx(
            tm.value("9999-03", 2020, measure), rel=1e-12)
        assert tm.value_for(members[:1], 2020, measure) == pytest.approx(
            tm.value(members[0], 2020, measure), rel=1e-12)
    rest = tm.value_for(members[1:], 2020, "tryghed_trygge")
    assert min(tm.value(m, 2020, "tryghed_trygge") for m in members[1:]) <= rest
    assert set(tm.measures) >= {"tryghed_trygge", "tillid_tillid", "mean:tryg_nabolag",
                                "oplevet_tryghed", "anmeldelser_straffelov"}


def test_register_truth_and_gaps(demo: DemoData) -> None:
    truth = demo.truth.table.set_index(["area_code", "wave", "measure"])["value"]
    counts = demo.register.counts
    pop = demo.population.table.groupby(["area_code", "year"])["population"].sum()
    window = {"2020Q4", "2021Q1", "2021Q2", "2021Q3"}
    penal = counts[(counts["offence"] == "Penal Code, total") & counts["quarter"].isin(window)]
    observed = 1000 * penal["count"].sum() / pop[(KOMMUNE_CODE, 2021)]
    expected = truth[(KOMMUNE_CODE, 2021, "anmeldelser_straffelov")]
    assert observed == pytest.approx(expected, rel=0.05)
    assert 40 < expected < 90
    info = demo.areas_info.set_index("code")
    rate = truth.xs((2021, "anmeldelser_straffelov"), level=(1, 2)).reindex(info.index)
    unsafe = truth.xs((2021, "tryghed_utrygge"), level=(1, 2)).reindex(info.index)
    plain = ~info["vulnerable"] & ~info["centre"]
    gap, other = plain & info["fear_gap"], plain & ~info["fear_gap"]
    assert gap.sum() >= 1
    assert unsafe[gap].mean() > 1.5 * unsafe[other].mean()  # fear ahead of crime ...
    assert rate[gap].mean() < 1.3 * rate[other].mean()  # ... which is not higher
    districts = truth.xs((2021, "anmeldelser_straffelov"), level=(1, 2))
    districts = districts[[c.count("-") == 1 and "U" not in c for c in districts.index]]
    assert districts.idxmax() == "9999-01"  # the centre district: nightlife, shops


def test_method_break_changes_label_and_answers() -> None:
    plain, broken = generate(3, "small"), generate(3, "small", method_break=2022)
    labels = broken.survey.responses.groupby("wave")["questionnaire"].unique()
    assert labels.map(tuple).to_dict() == {2019: ("2019",), 2020: ("2019",), 2021: ("2019",),
                                           2022: ("2022",), 2023: ("2022",)}
    before, after = (
        t.truth.table.set_index(["area_code", "wave", "measure"])["value"]
        for t in (plain, broken)
    )
    key = (KOMMUNE_CODE, 2022, "tryghed_trygge")
    assert after[key] < before[key] - 0.01
    assert after[(KOMMUNE_CODE, 2021, "tryghed_trygge")] == before[
        (KOMMUNE_CODE, 2021, "tryghed_trygge")]
