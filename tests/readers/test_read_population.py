"""Population tables: generic, the FOLK1A-derived file, and a StatBank long export."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tryg.index.inputs import InputError
from tryg.readers import read_population

FOLK1A = "dk_folk1a_population_by_kommune_2008-2023.csv"


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "population.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_folk1a_derived_is_99_areas_by_16_years(shared_data: Path) -> None:
    population, report = read_population(shared_data / FOLK1A)
    table = population.table
    assert table["area_name"].nunique() == 99
    assert sorted(table["year"].unique()) == list(range(2008, 2024))
    assert len(table) == 1584 == report.rows_read
    with (shared_data / FOLK1A).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    line, row = next((i + 1, r) for i, r in enumerate(rows) if r[:2] == ["Aalborg", "2015"])
    assert table.loc[line, "population"] == float(row[2])
    assert table.loc[2, "population"] == 60316.75  # Aabenraa 2008: fractional (a mean)


def test_generic_table_with_cells(tmp_path: Path) -> None:
    text = ("area_code,year,sex,age_group,population\n"
            "0851,2015,m,15-29,20000\n0851,2015,f,15-29,21000\n0851,2015,,,212000\n")
    table = read_population(write(tmp_path, text))[0].table
    assert table["area_code"].tolist() == ["0851"] * 3
    assert table["population"].tolist() == [20000.0, 21000.0, 212000.0]
    assert table["sex"].isna().tolist() == [False, False, True]


def test_duplicates_and_negative_population(tmp_path: Path) -> None:
    path = write(tmp_path, "area_code,year,population\n0851,2015,10\n0851,2015,11\n"
                           "0101,2015,-5\n")
    with pytest.raises(InputError) as exc:
        read_population(path)
    found = {(p.source, p.row, p.column) for p in exc.value.problems}
    assert found == {(str(path), 3, "population"), (str(path), 4, "population")}
    assert "rows 2 and 3" in str(exc.value) and "must not be negative" in str(exc.value)


def test_statbank_long_export_averages_quarters(tmp_path: Path) -> None:
    text = ("OMRÅDE;KØN;ALDER;TID;INDHOLD\n"
            "Aalborg;I alt;Alder i alt;2023K1;220000\n"
            "Aalborg;I alt;Alder i alt;2023K2;220400\n"
            "Aalborg;Mænd;Alder i alt;2023K1;110000\n")
    population, _ = read_population(write(tmp_path, text, encoding="latin-1"))
    table = population.table
    total = table[table["sex"].isna()]
    assert total["population"].tolist() == [220200.0]
    assert total["year"].tolist() == [2023]
    assert table[table["sex"] == "Mænd"]["population"].tolist() == [110000.0]


def test_missing_year_column(tmp_path: Path) -> None:
    path = write(tmp_path, "municipality,aar,population\nAalborg,2015,1\n")
    with pytest.raises(InputError) as exc:
        read_population(path)
    (problem,) = exc.value.problems
    assert (problem.source, problem.row, problem.column) == (str(path), 1, "year")
