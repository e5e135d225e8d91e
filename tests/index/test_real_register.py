"""The register measures of dk-tryghedsindeks on the real STRAF11 and FOLK1A files.

Register only (no survey): the readers read Statistics Denmark's tables by name, the names are
reconciled to the DAGI 2014 kommune codes, and :func:`tryg.index.run` computes the rates for
every wave whose register window the file covers. The expected values are computed here by
hand, with the ``csv`` module straight from the two files, so they share no code with tryg.

Christiansø (0411) is no kommune but is in all three files (DAGI, STRAF11, FOLK1A, about 90
residents), so it gets rows of its own next to the 98 kommuner.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd
import pytest
from scipy.stats import chi2

from tryg.index import IndexResult, run
from tryg.index.areas import reconcile_names
from tryg.index.catalog import load_spec
from tryg.index.inputs import Areas, PopulationInput, RegisterInput
from tryg.readers import read_areas, read_population, read_register

STRAF11 = "dk_straf11_offences_by_kommune_2007Q1-2019Q3.csv"
FOLK1A = "dk_folk1a_population_by_kommune_2008-2023.csv"
DAGI = "dk_kommuner_dagi2014.geojson"
MEASURE = "anmeldelser_straffelov"
OFFENCE = "Penal Code, total"
CHRISTIANSOE = "0411"
AGGREGATES = ["Region Hovedstaden", "Region Midtjylland", "Region Nordjylland",
              "Region Sjælland", "Region Syddanmark", "Unknown municipality"]


def with_codes(frame: pd.DataFrame, areas: Areas) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with ``area_code`` for ``area_name``, and the aggregate names left out."""
    names = [str(n) for n in frame["area_name"]]
    matched = reconcile_names(names, areas, level="kommune", source=frame.attrs["source"],
                              rows=[int(i) for i in frame.index])
    assert matched.problems == ()
    keep = [c is not None for c in matched.codes]
    out = frame.loc[keep].assign(area_code=[c for c in matched.codes if c is not None])
    out = out.drop(columns="area_name")
    out.attrs["source"] = frame.attrs["source"]
    left_out = sorted({n for n, k in zip(names, keep, strict=True) if not k})
    return out, left_out


@pytest.fixture(scope="module")
def real(shared_data: Path) -> tuple[IndexResult, Areas]:
    areas, _ = read_areas(shared_data / DAGI)
    assert set(areas.areas["level"]) == {"kommune"}
    register, _ = read_register(shared_data / STRAF11, format="straf11")
    population, _ = read_population(shared_data / FOLK1A)
    counts, register_left_out = with_codes(register.counts, areas)
    people, population_left_out = with_codes(population.table, areas)
    assert register_left_out == AGGREGATES  # regions and "Unknown municipality"
    assert population_left_out == []
    result = run(load_spec("dk-tryghedsindeks"), register=RegisterInput(counts),
                 population=PopulationInput(people), areas=areas)
    return result, areas


def rates(result: IndexResult) -> pd.DataFrame:
    t = result.table
    return t[(t["measure"] == MEASURE) & (t["method"] == "register")]


def by_hand(folder: Path, straf11_name: str, folk1a_name: str, wave: int
            ) -> tuple[int, float, float]:
    """(count, population, rate per 1,000) for ``wave``: the "Penal Code, total" reports of
    (wave-1)Q4, waveQ1, waveQ2, waveQ3 over the FOLK1A population of the wave's year."""
    quarters = [f"{wave - 1}Q4", f"{wave}Q1", f"{wave}Q2", f"{wave}Q3"]
    with open(folder / STRAF11, encoding="iso-8859-1", newline="") as f:
        found = [row for row in csv.DictReader(f)
                 if row["REGION"] == straf11_name and row["TYPE OF OFFENCE"] == OFFENCE]
    assert len(found) == 1
    count = sum(int(found[0][q]) for q in quarters)
    with open(folder / FOLK1A, encoding="utf-8", newline="") as f:
        people = [float(row["population"]) for row in csv.DictReader(f)
                  if row["municipality"] == folk1a_name and row["year"] == str(wave)]
    assert len(people) == 1
    return count, people[0], count / people[0] * 1000


def test_rates_for_all_98_kommuner_and_every_wave_2008_to_2018(
    real: tuple[IndexResult, Areas],
) -> None:
    result, areas = real
    t = rates(result)
    dagi = set(areas.areas["code"])
    kommuner = dagi - {CHRISTIANSOE}
    assert len(kommuner) == 98
    # Christiansø is in DAGI, STRAF11 and FOLK1A, so it is computed like a kommune.
    assert set(t["area_code"]) == dagi
    assert (t["level"] == "kommune").all()
    # 2008 is the first year of FOLK1A; 2019's window 2018Q4..2019Q3 is the file's last
    # quarter, so 2019 is covered as well; 2020 would need 2020Q3.
    assert set(t["wave"]) == set(range(2008, 2020))
    assert not t.duplicated(["area_code", "wave"]).any()
    wanted = pd.MultiIndex.from_product([sorted(kommuner), range(2008, 2019)])
    got = t.set_index(["area_code", "wave"])
    assert wanted.isin(got.index).all()
    values = got.loc[wanted]
    assert values["estimate"].notna().all() and (values["estimate"] > 0).all()
    assert (values["n"] > 0).all()
    assert (t["spec_id"] == "dk-tryghedsindeks").all()
    assert t["area_name"].notna().all()


@pytest.mark.parametrize(
    ("code", "dagi_name", "straf11_name", "folk1a_name", "wave"),
    [
        ("0851", "Aalborg", "Aalborg", "Aalborg", 2015),
        ("0101", "København", "Copenhagen", "København", 2010),
    ],
    ids=["Aalborg-2015", "København-2010"],
)
def test_rate_equals_the_hand_computation_from_the_two_files(
    real: tuple[IndexResult, Areas], shared_data: Path, code: str, dagi_name: str,
    straf11_name: str, folk1a_name: str, wave: int,
) -> None:
    result, _ = real
    t = rates(result)
    row = t[(t["area_code"] == code) & (t["wave"] == wave)]
    assert len(row) == 1
    r = row.iloc[0]
    count, population, rate = by_hand(shared_data, straf11_name, folk1a_name, wave)
    assert r["area_name"] == dagi_name
    assert r["n"] == count
    assert r["estimate"] == pytest.approx(rate, rel=0, abs=1e-12)
    # Garwood's exact Poisson interval, 95 %, by hand; it brackets the rate.
    low = chi2.ppf(0.025, 2 * count) / 2 / population * 1000
    high = chi2.ppf(0.975, 2 * count + 2) / 2 / population * 1000
    assert r["ci_low"] < r["estimate"] < r["ci_high"]
    assert r["ci_low"] == pytest.approx(low, rel=1e-9)
    assert r["ci_high"] == pytest.approx(high, rel=1e-9)
    assert r["se"] == pytest.approx(math.sqrt(count) / population * 1000, rel=1e-12)
