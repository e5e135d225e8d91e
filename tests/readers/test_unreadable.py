"""A file a library cannot read is told in our words, not the library's: each common bad
upload, fed through the real reader, is one of our sentences (a marked template, so that a
page can show it in Danish), with the library's text in the log only."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from support import badfiles
from tryg.index.inputs import InputError, Problem
from tryg.readers import read_area_geometry, read_survey
from tryg.readers import unreadable as u
from tryg.readers.text import parse_csv

Make = Callable[[Path], bytes]

#: name, the bytes, the sentence (its template), what the library says about it
SURVEY_CASES: list[tuple[str, Make, str, str]] = [
    ("svar.xlsx", lambda _: badfiles.SURVEY_CSV, u.TEXT_NOT_FORMAT, "File is not a zip file"),
    ("svar.xlsx", lambda _: b"", u.EMPTY, "File is not a zip file"),
    ("svar.xlsx", lambda _: badfiles.xls(), u.OLD_EXCEL, "File is not a zip file"),
    ("svar.xlsx", lambda _: badfiles.encrypted_xlsx(), u.ENCRYPTED, "File is not a zip file"),
    ("svar.xlsx", lambda _: badfiles.ods(), u.OPENDOCUMENT, "[Content_Types].xml"),
    ("svar.xlsx", lambda _: badfiles.xlsx()[:2000], u.DAMAGED, "File is not a zip file"),
    ("svar.xlsx", lambda _: badfiles.with_part(badfiles.xlsx(), "sheet1.xml", b"<row"),
     u.DAMAGED, "unclosed token"),
    ("svar.xlsx", lambda _: badfiles.stata(), u.NOT_FORMAT, "File is not a zip file"),
    ("svar.csv", lambda _: badfiles.xlsx(), u.WORKBOOK_NOT_FORMAT, "not valid UTF-8"),
    ("svar.csv", lambda p: badfiles.sav(str(p / "ok.sav")), u.SPSS_NOT_FORMAT,
     "not valid UTF-8"),
    ("svar.csv", lambda _: badfiles.xls(), u.OLD_EXCEL, "not valid UTF-8"),
    ("svar.csv", lambda _: badfiles.long_cell_csv(), u.LONG_CELL, "field larger than"),
    ("svar.sav", lambda _: badfiles.SURVEY_CSV, u.TEXT_NOT_FORMAT, "Unable to read"),
    ("svar.sav", lambda _: b"", u.EMPTY, "Unable to read"),
    ("svar.sav", lambda _: badfiles.stata(), u.NOT_FORMAT, "unsupported features"),
    ("svar.sav", lambda _: badfiles.xlsx(), u.WORKBOOK_NOT_FORMAT, "unsupported features"),
    ("svar.sav", lambda p: badfiles.sav(str(p / "ok.sav"))[:-300], u.FEWER_CASES,
     "expected number of rows"),
    ("svar.sav", lambda p: badfiles.sav(str(p / "ok.sav"))[:100], u.DAMAGED,
     "Unable to read"),
]


def _problem(caught: pytest.ExceptionInfo[InputError]) -> Problem:
    (problem,) = caught.value.problems
    return problem


@pytest.mark.parametrize(("name", "make", "template", "library"), SURVEY_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(SURVEY_CASES)])
def test_a_bad_survey_file_is_told_in_our_words(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                name: str, make: Make, template: str,
                                                library: str) -> None:
    path = tmp_path / name
    path.write_bytes(make(tmp_path))
    with caplog.at_level(logging.INFO, logger="tryg.readers"), \
            pytest.raises(InputError) as caught:
        read_survey(path)
    problem = _problem(caught)
    assert (problem.source, problem.template) == (str(path), template)
    assert library not in problem.message and "Error" not in problem.message
    if not name.endswith(".csv"):  # a CSV's own failures are told before any library's
        logged = " ".join(r.getMessage() for r in caplog.records)
        assert library in logged  # the library's own words, for whoever supports the site


def test_the_long_cell_is_named_at_the_row_the_open_quotation_mark_is_on(
        tmp_path: Path) -> None:
    path = tmp_path / "svar.csv"
    path.write_bytes(badfiles.long_cell_csv())
    with pytest.raises(InputError) as caught:
        read_survey(path)
    problem = _problem(caught)
    assert (problem.row, problem.message) == (4, (
        'a cell is longer than 131,072 characters: is a quotation mark (") left open on this '
        "row, so that the cell runs on to the end of the file?"))


#: name, the bytes, the sentence (its template)
AREA_CASES: list[tuple[str, bytes, str]] = [
    ("sogne.geojson", badfiles.cut_geojson(), u.BAD_JSON),
    ("sogne.geojson", b"  \n", u.EMPTY),
    ("sogne.gpkg", badfiles.SURVEY_CSV, u.NOT_FORMAT),
    ("sogne.gpkg", b"", u.EMPTY),
    ("sogne.zip", badfiles.SURVEY_CSV, u.NOT_FORMAT),
]


@pytest.mark.parametrize(("name", "data", "template"), AREA_CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(AREA_CASES)])
def test_a_bad_boundary_file_is_told_in_our_words(tmp_path: Path, name: str, data: bytes,
                                                  template: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_area_geometry(path, level="sogn")
    problem = _problem(caught)
    assert problem.template == template
    # GDAL's "not recognized as being in a supported file format", naming the path
    assert "recognized" not in problem.message and str(tmp_path) not in problem.message
    assert "Expecting" not in problem.message  # the json module's words


def test_a_cut_json_file_is_named_at_the_line_and_column_it_stops(tmp_path: Path) -> None:
    data = badfiles.cut_geojson()
    lines = data.decode().splitlines()
    path = tmp_path / "sogne.geojson"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        read_area_geometry(path, level="sogn")
    problem = _problem(caught)
    assert problem.row == len(lines)
    assert problem.params == {"line": len(lines), "column": len(lines[-1]) + 1}


def test_a_failure_not_recognised_keeps_the_library_text_as_a_technical_detail(
        tmp_path: Path) -> None:
    """A workbook whose cell says it is a number but is not: openpyxl's ValueError is no case
    of ours, so it is the neutral sentence with the library's words, the path taken out."""
    path = tmp_path / "svar.xlsx"
    path.write_bytes(badfiles.with_part(badfiles.xlsx([["code"], [1]]), "sheet1.xml", (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'
        b'<row r="2"><c r="A2" t="n"><v>x</v></c></row></sheetData></worksheet>')))
    with pytest.raises(InputError) as caught:
        read_survey(path)
    problem = _problem(caught)
    assert problem.template == u.TECHNICAL
    assert problem.message.startswith("the file could not be read as an Excel workbook (.xlsx) "
                                      "(technical detail: ValueError: ")
    assert u.detail(OSError(f"cannot open {path}"), path) == "OSError: cannot open svar.xlsx"


def test_a_csv_reader_error_not_recognised_is_a_technical_detail() -> None:
    assert u.technical("a.csv", u.CSV, ValueError("odd\nmore")).message == (
        "the file could not be read as a CSV text file (technical detail: ValueError: odd)")
    assert parse_csv("a,b\n1,2\n", "a.csv").rows == [["1", "2"]]


@pytest.mark.parametrize(("data", "kind"), [
    (b"", "empty"), (b"PK\x03\x04rest", "zip"), (u.OLE2_SIGNATURE + b"\0", "ole2"),
    (b"$FL2@(#) IBM SPSS", "spss"), ("område;æøå\r\n".encode(), "text"),
    ("område".encode("cp1252"), "text"), (b"\x00\x01\x02", "other"),
    ("æ".encode()[:1], "text"),  # a character cut at the end of the head
])
def test_what_a_file_says_it_is(data: bytes, kind: str) -> None:
    assert u.kind_of(data) == kind
