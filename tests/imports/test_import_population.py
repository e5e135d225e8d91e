"""Importing population: FOLK1A by kommune name, generic tables by code, replacement."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tryg.areas.models import Population
from tryg.imports.areas import import_areas
from tryg.imports.models import ImportBatch
from tryg.imports.population import import_population

pytestmark = pytest.mark.django_db

FOLK1A = "dk_folk1a_population_by_kommune_2008-2023.csv"


@pytest.fixture
def kommuner(shared_data: Path) -> None:
    assert import_areas(shared_data / "dk_kommuner_dagi2014.geojson").ok


def test_folk1a_by_kommune_name(kommuner: None, shared_data: Path) -> None:
    path = shared_data / FOLK1A
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    report = import_population(path)
    assert report.ok, report.lines()
    assert report.created == {"population figures": len(rows)}
    assert Population.objects.count() == len(rows) == 16 * 99
    expected = next(float(r["population"]) for r in rows
                    if r["municipality"] == "Aalborg" and r["year"] == "2015")
    stored = Population.objects.get(area__code="0851", year=2015)
    assert stored.population == expected and stored.sex == "" and stored.age_group == ""
    # "Høje-Taastrup" (FOLK1A) is DAGI's "Høje Taastrup"
    assert Population.objects.filter(area__name="Høje Taastrup").count() == 16
    again = import_population(path)
    assert again.duplicate and Population.objects.count() == len(rows)


def test_names_need_stored_areas(shared_data: Path) -> None:
    report = import_population(shared_data / FOLK1A)
    assert not report.ok and "no areas of level 'kommune' are stored" in str(report.errors[0])
    assert not ImportBatch.objects.exists()


def test_unknown_codes_are_errors_at_their_row(kommuner: None, tmp_path: Path) -> None:
    path = tmp_path / "pop.csv"
    path.write_text("area_code,year,sex,age_group,population\n0851,2020,M,0-17,10\n"
                    "0851,2020,K,0-17,11\n851,2020,M,0-17,3\nXX,2021,M,0-17,4\n",
                    encoding="utf-8")
    report = import_population(path)
    assert not report.ok
    assert [(p.row, p.column) for p in report.errors] == [(4, "area_code"), (5, "area_code")]
    assert "'0851'?" in report.errors[0].message  # the hint about leading zeros
    assert Population.objects.count() == 0


def test_stored_figures_are_replaced_only_when_asked(kommuner: None, tmp_path: Path) -> None:
    first = tmp_path / "first.csv"
    first.write_text("area_code,year,sex,age_group,population\n0851,2020,M,0-17,10\n"
                     "0851,2020,K,0-17,11\n", encoding="utf-8")
    assert import_population(first).ok
    second = tmp_path / "second.csv"
    second.write_text("area_code,year,sex,age_group,population\n0851,2020,M,0-17,12\n"
                      "0851,2020,K,0-17,13\n0101,2020,K,0-17,99\n", encoding="utf-8")
    refused = import_population(second)
    assert not refused.ok and [(p.row, p.column) for p in refused.errors] == [
        (2, "population"), (3, "population")]
    assert sorted(Population.objects.values_list("population", flat=True)) == [10, 11]

    done = import_population(second, replace=True)
    assert done.ok
    assert done.created == {"population figures": 3, "population figures replaced": 2}
    assert sorted(Population.objects.values_list("population", flat=True)) == [12, 13, 99]
    old = ImportBatch.objects.get(file_name="first.csv")
    assert old.replaced_at is not None  # none of its figures is left
