"""Record-level register extracts read row by row (``records_from_table``): XLSX, SPSS and
CSV files the column fast path leaves to the row reader (Windows-1252 text, a header cell
spanning two lines). Each file is written here; each must give the counts the plain UTF-8 CSV
of the same records gives (read by the fast path)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
import shapely

from tryg import geo
from tryg.index.inputs import InputError
from tryg.readers import read_register

#: date, offence, area code; the dates in the forms the readers take
RECORDS = [("2015-07-01", "vold", "0851"), ("30.09.2015", "vold", "0851"),
           ("2015-10-01", "vold", "0851"), ("2015-10-02", "tyveri", "0101"),
           ("2015-10-03", "hærværk", "0101")]
EXPECTED = [
    {"line": 5, "area_code": "0101", "quarter": "2015Q4", "offence": "tyveri", "count": 1},
    {"line": 6, "area_code": "0101", "quarter": "2015Q4", "offence": "hærværk", "count": 1},
    {"line": 2, "area_code": "0851", "quarter": "2015Q3", "offence": "vold", "count": 2},
    {"line": 4, "area_code": "0851", "quarter": "2015Q4", "offence": "vold", "count": 1},
]


def counts_of(path: Path) -> list[dict[str, object]]:
    register, report = read_register(path)
    assert (report.rows_read, report.rows_used) == (len(RECORDS), len(RECORDS))
    counts = register.counts.reset_index().sort_values(["area_code", "quarter", "line"])
    return [{str(k): v for k, v in row.items()} for row in counts.to_dict("records")]


def csv_text() -> str:
    return "date,offence,area_code\n" + "".join(f"{d},{o},{a}\n" for d, o, a in RECORDS)


def test_the_plain_csv_gives_the_expected_counts(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text(csv_text(), encoding="utf-8")
    assert sorted(counts_of(path), key=repr) == sorted(EXPECTED, key=repr)


def test_windows_1252_csv_is_read_row_by_row_to_the_same_counts(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_bytes(csv_text().replace(",", ";").encode("cp1252"))
    assert sorted(counts_of(path), key=repr) == sorted(EXPECTED, key=repr)
    register, report = read_register(path)
    assert report.encoding not in (None, "utf-8")
    assert "hærværk" in set(register.counts["offence"])


def test_a_header_cell_over_two_lines_goes_to_the_row_reader_and_is_refused(
        tmp_path: Path) -> None:
    body = "".join(f"{d},{o},{a}\n" for d, o, a in RECORDS)
    odd = tmp_path / "odd.csv"
    odd.write_text('"da\nte",offence,area_code\n' + body, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_register(odd, format="records")
    assert any("date" in p.message for p in exc.value.problems), exc.value.problems


def xlsx(tmp_path: Path, rows: list[tuple[object, ...]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "offence", "area_code"])
    for row in rows:
        sheet.append(list(row))
    path = tmp_path / "records.xlsx"
    book.save(path)
    return path


def test_xlsx_with_date_cells_and_text_dates(tmp_path: Path) -> None:
    rows: list[tuple[object, ...]] = [
        (dt.date(2015, 7, 1), "vold", "0851"), ("30.09.2015", "vold", "0851"),
        (dt.datetime(2015, 10, 1, 12, 30), "vold", "0851"), ("2015-10-02", "tyveri", "0101"),
        (dt.date(2015, 10, 3), "hærværk", "0101")]
    assert sorted(counts_of(xlsx(tmp_path, rows)), key=repr) == sorted(EXPECTED, key=repr)


def test_xlsx_bad_cells_are_named_by_row_and_column(tmp_path: Path) -> None:
    rows: list[tuple[object, ...]] = [
        (dt.date(2015, 7, 1), "vold", "0851"), ("2015-02-30", "vold", "0851"),
        (dt.date(2015, 7, 2), None, "0851"), (None, "vold", "0851")]
    with pytest.raises(InputError) as exc:
        read_register(xlsx(tmp_path, rows))
    located = sorted((p.row, p.column) for p in exc.value.problems)
    assert located == [(3, "date"), (4, "offence"), (5, "date")]
    assert all(p.source.endswith("records.xlsx") for p in exc.value.problems)


def test_spss_records_give_the_same_counts(tmp_path: Path) -> None:
    frame = pd.DataFrame(RECORDS, columns=["date", "offence", "area_code"])
    path = tmp_path / "records.sav"
    pyreadstat.write_sav(frame, str(path))
    # an SPSS file has no header row: a record's "line" is its case number
    cases = [{**row, "line": int(str(row["line"])) - 1} for row in EXPECTED]
    assert sorted(counts_of(path), key=repr) == sorted(cases, key=repr)


def test_xlsx_records_with_coordinates_are_placed(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["date", "offence", "lon", "lat"])
    sheet.append([dt.date(2020, 1, 15), "vold", 9.85, 56.95])  # south-west box
    sheet.append([dt.date(2020, 1, 15), "vold", 9.95, 57.05])  # north-east box
    sheet.append([dt.date(2020, 1, 16), "vold", 12.5, 55.7])  # Copenhagen: outside
    sheet.append([dt.date(2020, 1, 16), "vold", None, None])  # no location
    path = tmp_path / "points.xlsx"
    book.save(path)
    parts = [shapely.box(9.8, 56.9, 9.9, 57.0), shapely.box(9.9, 57.0, 10.0, 57.1)]
    layer = geo.AreaGeometry(("SW", "NE"), np.array(parts, dtype=object))
    register, report = read_register(path, areas_geometry=layer)
    assert register.counts.set_index("area_code")["count"].to_dict() == {"SW": 1, "NE": 1}
    assert (report.outside_areas, report.without_location) == (1, 1)
    assert report.unplaced_rows == (4, 5)
