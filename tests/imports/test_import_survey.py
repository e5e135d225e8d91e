"""Importing survey waves: CSV/XLSX/SPSS with a column mapping, one wave per year, replacement."""

from __future__ import annotations

import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat
import pytest

from tryg.areas.models import Area
from tryg.imports.areas import import_areas
from tryg.imports.models import ImportBatch
from tryg.imports.survey import import_survey
from tryg.surveys.models import Response, Wave

pytestmark = pytest.mark.django_db

MAPPING = {"id": "respondent_id", "aar": "wave", "omraade": "area_code", "vaegt": "weight"}
HEADER = ["id", "aar", "omraade", "vaegt", "sex", "q1", "q2"]
ROWS = [
    ["a1", 2021, "S1", 1.5, "M", 1, 2],
    ["a2", 2021, "S2", 0.5, "K", 3, None],
    ["a3", 2022, "S1", 2.0, "K", 2, 8],
    ["a4", 2022, "S2", 1.0, "M", None, None],
    ["a5", 2022, "S2", 1.0, "M", 4, 1],
]


@pytest.fixture(autouse=True)
def areas(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text("code,name,level,parent\n0851,Aalborg,kommune,\nS1,Budolfi,sogn,0851\n"
                    "S2,Vor Frue,sogn,0851\n", encoding="utf-8")
    assert import_areas(path).ok


def write_csv(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    table: list[list[object]] = [list(header), *rows]
    text = "\n".join(";".join("" if v is None else str(v).replace(".", ",") for v in row)
                     for row in table)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_csv_with_a_column_mapping(tmp_path: Path) -> None:
    report = import_survey(write_csv(tmp_path / "svar.csv", ROWS), columns=MAPPING,
                           producer="Epinion", fieldwork_start=datetime.date(2022, 3, 1),
                           fieldwork_end=datetime.date(2022, 4, 15))
    assert report.ok, report.lines()
    assert report.created == {"waves": 2, "responses": 5} and report.rows_read == 5
    waves = {w.year: w for w in Wave.objects.all()}
    assert set(waves) == {2021, 2022}
    assert waves[2022].questions == ["q1", "q2"] and waves[2022].producer == "Epinion"
    assert waves[2021].fieldwork_end == datetime.date(2022, 4, 15)
    a2 = Response.objects.get(respondent="a2")
    assert (a2.wave.year, a2.area.code, a2.weight, a2.sex) == (2021, "S2", 0.5, "K")
    assert a2.answers == {"q1": 3}  # unanswered q2 is left out
    assert Response.objects.get(respondent="a3").answers == {"q1": 2, "q2": 8}
    assert report.batch_id is not None
    batch = ImportBatch.objects.get(pk=report.batch_id)
    assert batch.kind == "survey" and batch.rows == 5 and batch.options["columns"] == MAPPING
    assert batch.report["created"] == {"waves": 2, "responses": 5}


def test_an_implausible_fieldwork_date_is_refused_and_nothing_stored(tmp_path: Path) -> None:
    """The service refuses it, not only the upload form: ``tryg import`` passes the dates
    given on the command line straight to it."""
    report = import_survey(write_csv(tmp_path / "svar.csv", ROWS), columns=MAPPING,
                           fieldwork_start=datetime.date(1, 1, 1),
                           fieldwork_end=datetime.date(2022, 4, 15))
    assert not report.ok
    assert [p.message for p in report.errors] == [
        "the fieldwork date 0001-01-01 is not a plausible date (years 1900 to 2200)"]
    assert not Wave.objects.exists() and not Response.objects.exists()
    assert not ImportBatch.objects.filter(kind="survey").exists()


def test_xlsx_and_spss(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in ROWS[:2]:
        sheet.append(row)
    book.save(tmp_path / "wave2021.xlsx")
    report = import_survey(tmp_path / "wave2021.xlsx", columns=MAPPING)
    assert report.ok and report.created == {"waves": 1, "responses": 2}

    frame = pd.DataFrame(ROWS[2:], columns=HEADER)
    pyreadstat.write_sav(frame, str(tmp_path / "wave2022.sav"))
    report = import_survey(tmp_path / "wave2022.sav", columns=MAPPING)
    assert report.ok, report.lines()
    assert report.created == {"waves": 1, "responses": 3}
    assert Response.objects.get(respondent="a5").answers == {"q1": 4, "q2": 1}
    assert sorted(Wave.objects.values_list("year", flat=True)) == [2021, 2022]


def test_a_stored_wave_is_replaced_only_when_asked(tmp_path: Path) -> None:
    first = import_survey(write_csv(tmp_path / "first.csv", ROWS), columns=MAPPING)
    assert first.ok
    wave_ids = dict(Wave.objects.values_list("year", "pk"))
    new_rows = [["b1", 2022, "S1", 1.0, "K", 1, 1], ["b2", 2022, "S2", 1.0, "M", 2, 2]]
    second = write_csv(tmp_path / "second.csv", new_rows)
    refused = import_survey(second, columns=MAPPING)
    assert not refused.ok
    assert [(p.row, p.column) for p in refused.errors] == [(2, "wave")]
    assert "wave 2022 is already stored" in refused.errors[0].message
    assert Response.objects.count() == 5

    done = import_survey(second, columns=MAPPING, replace=True)
    assert done.ok
    assert done.created == {"waves": 1, "responses": 2, "waves replaced": 1,
                            "responses deleted": 3}
    assert sorted(Response.objects.filter(wave__year=2022).values_list("respondent",
                                                                       flat=True)) == ["b1",
                                                                                       "b2"]
    assert Response.objects.filter(wave__year=2021).count() == 2
    assert dict(Wave.objects.values_list("year", "pk")) == wave_ids  # the waves are kept
    assert Wave.objects.get(year=2022).import_batch_id == done.batch_id
    assert first.batch_id is not None
    old = ImportBatch.objects.get(pk=first.batch_id)
    assert old.replaced_at is None  # it still holds wave 2021

    only_2021 = write_csv(tmp_path / "third.csv", [["c1", 2021, "S1", 1.0, "K", 1, 1]])
    assert import_survey(only_2021, columns=MAPPING, replace=True).ok
    old.refresh_from_db()
    assert old.replaced_at is not None  # now none of its waves is left


def test_reimport_is_recognised(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "svar.csv", ROWS)
    first = import_survey(path, columns=MAPPING)
    again = import_survey(path, columns=MAPPING, replace=True)
    assert again.duplicate and again.batch_id == first.batch_id
    assert Response.objects.count() == 5 and ImportBatch.objects.filter(kind="survey").count() == 1


def test_unknown_areas_and_overlong_values_are_errors(tmp_path: Path) -> None:
    rows = [*ROWS, ["a6", 2022, "S9", 1.0, "M", 1, 1], ["x" * 65, 2022, "S1", 1.0, "M", 1, 1],
            ["a8", 2022, "S9", 1.0, "M", 1, 1]]
    report = import_survey(write_csv(tmp_path / "svar.csv", rows), columns=MAPPING)
    assert not report.ok
    found = {(p.row, p.column) for p in report.errors}
    assert found == {(7, "area_code"), (8, "respondent_id")}
    unknown = next(p for p in report.errors if p.column == "area_code")
    assert "'S9'" in unknown.message and "1 more rows" in unknown.message
    assert not Wave.objects.exists() and not Response.objects.exists()
    assert Area.objects.count() == 3


def test_reader_errors_name_file_row_and_column(tmp_path: Path) -> None:
    rows = [["a1", 2021, "S1", -1, "M", 1, 2], ["a1", 2021, "S1", 1, "M", "x", 2]]
    report = import_survey(write_csv(tmp_path / "bad.csv", rows), columns=MAPPING)
    assert not report.ok
    assert {(p.source.endswith("bad.csv"), p.row, p.column) for p in report.errors} >= {
        (True, 2, "weight"), (True, 3, "q1"), (True, 3, "respondent_id")}
