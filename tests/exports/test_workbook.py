"""Workbooks of several sheets: what every XLSX tryg writes guarantees, read back from the file."""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.utils.exceptions import IllegalCharacterError

from tryg.exports.formats import (
    EXCEL_COLUMNS,
    EXCEL_ROWS,
    Sheet,
    TooLargeForExcelError,
    fits_excel,
    from_bytes,
    to_bytes,
    workbook_bytes,
)

TEXTS = ["=1+1", "@SUM(A1)", "#N/A", "+45 12 34 56", "-", "plain"]


def tables() -> tuple[Sheet, Sheet]:
    figures = pd.DataFrame({
        "=area": TEXTS,
        "share": [0.25, 0.5, None, 1.0, 0.0, 0.125],
        "n": pd.array([10, None, 3, 4, 5, 6], dtype="Int64"),
        "ok": pd.array([True, False, None, True, False, True], dtype="boolean"),
        "label": pd.array(["=2", None, "#REF!", "a", "b", "c"], dtype="string"),
    })
    row = ["@", "0.0%", "0", "0", None]
    about = pd.DataFrame({"felt": ["Licens", "Kilde"], "værdi": ["CC BY 4.0", "tryg"]})
    return (Sheet("results", figures, formats=[row] * len(figures)),
            Sheet("Om data (About)", about, widths=(24, 70)))


def book() -> bytes:
    return workbook_bytes(tables(), active=1)


def test_text_is_text_never_a_formula_or_an_error() -> None:
    data = book()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and 't="e"' not in xml and 't="str"' not in xml
    sheet = load_workbook(io.BytesIO(data))["results"]
    assert sheet["A1"].value == "=area" and sheet["A1"].data_type == "s"  # a column name too
    assert [c.value for c in sheet["A"][1:]] == TEXTS
    assert {c.data_type for c in sheet["A"][1:]} == {"s"}
    assert [(c.value, c.data_type) for c in sheet["E"][1:4]] == [
        ("=2", "s"), (None, "n"), ("#REF!", "s")]


def test_number_formats_on_numbers_only() -> None:
    sheet = load_workbook(io.BytesIO(book()))["results"]
    assert sheet["B2"].value == 0.25 and sheet["B2"].number_format == "0.0%"
    assert sheet["C2"].value == 10 and sheet["C2"].number_format == "0"
    assert sheet["D2"].value is True and sheet["D2"].number_format == "0"
    assert sheet["A2"].number_format == "General"  # text gets no format
    assert sheet["B4"].value is None  # a missing value is an empty cell


def test_frozen_header_widths_and_the_sheet_it_opens_on() -> None:
    workbook = load_workbook(io.BytesIO(book()))
    assert workbook.sheetnames == ["results", "Om data (About)"]
    assert workbook.active is not None and workbook.active.title == "Om data (About)"
    results, about = workbook.worksheets
    assert results.freeze_panes == about.freeze_panes == "A2"
    assert [results.sheet_view.tabSelected, about.sheet_view.tabSelected] == [False, True]
    assert about.column_dimensions["A"].width == 24
    assert about.column_dimensions["B"].width == 70
    assert workbook.properties.creator == "tryg"


def test_every_row_reads_back_full_width() -> None:
    # the sheet's size is written, so a streaming reader pads rows that end in empty cells
    data = book()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r'<dimension ref="A1:E7"\s*/>', xml)
    back = from_bytes(data, "xlsx")
    assert back.shape == (6, 5) and back.iloc[1].tolist()[1:3] == [0.5, None]


def test_the_same_bytes_every_time() -> None:
    assert book() == book()


@pytest.mark.parametrize("value", [np.inf, -np.inf])
def test_an_infinite_number_is_refused_with_its_row(value: float) -> None:
    figures, about = tables()
    table = figures.table.copy()
    table.loc[3, "share"] = value
    table["other"] = [1.0, 2.0, 3.0, np.nan, value, 1.0]
    with pytest.raises(ValueError, match=rf"row 4 holds {value}"):
        workbook_bytes([about, Sheet("results", table)])
    text = pd.DataFrame({"x": ["a", value]}, dtype=object)
    with pytest.raises(ValueError, match=rf"row 2 holds {value}"):
        workbook_bytes([Sheet("x", text)])


def test_no_temporary_file_is_left_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where openpyxl streams a sheet
    figures, about = tables()
    assert book() and list(tmp_path.iterdir()) == []
    bad = figures.table.copy()
    bad.loc[5, "=area"] = "a control character: \x01"
    with pytest.raises(IllegalCharacterError):
        workbook_bytes([about, Sheet("results", bad)])
    assert list(tmp_path.iterdir()) == []


def test_a_table_larger_than_an_excel_sheet_is_refused_before_anything_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Excel refuses (or cuts) a sheet of more than 1,048,576 rows or 16,384 columns: no file
    is written for such a table, and the error says what to use instead."""
    assert fits_excel(EXCEL_ROWS - 1, EXCEL_COLUMNS)  # the column names take the first row
    assert not fits_excel(EXCEL_ROWS, 1) and not fits_excel(1, EXCEL_COLUMNS + 1)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _, about = tables()
    tall = pd.DataFrame({"x": np.zeros(EXCEL_ROWS, dtype=np.int8)})
    with pytest.raises(TooLargeForExcelError, match=r"1,048,576 rows.*write CSV or Parquet"):
        workbook_bytes([about, Sheet("results", tall)])
    wide = pd.DataFrame(np.zeros((1, EXCEL_COLUMNS + 1), dtype=np.int8))
    wide.columns = [f"c{i}" for i in range(EXCEL_COLUMNS + 1)]
    with pytest.raises(TooLargeForExcelError, match="16,385 columns"):
        to_bytes(wide, "xlsx")
    assert list(tmp_path.iterdir()) == []
