"""Results files: each format reads back, is byte-identical run after run, and is atomic."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tryg.exports import FORMATS, format_for, read_results, results_bytes, write_results
from tryg.exports.formats import FIXED_TIME, FORMULA_STARTS, from_bytes, neutralise, restore
from tryg.index.catalog import load_spec
from tryg.index.results import PUBLIC_COLUMNS, RESULT_COLUMNS, conform, empty_results, public_view

SPEC = load_spec("dk-tryghedsindeks")


def table() -> pd.DataFrame:
    """A results table with the awkward cases: Danish letters, a leading zero, text that looks
    like a formula or needs CSV quoting, floats that need 17 digits, missing values of every
    kind."""
    frame = pd.DataFrame({c: [None] * 4 for c in RESULT_COLUMNS})
    frame["area_code"] = ["0851", "=1+1", "A,02", "A03"]
    frame["area_name"] = ["Aalborg Øst", 'Vest "gamle"', "Nørresundby\nby", "Æbeltoft"]
    frame["level"] = ["kommune", "district", "district", "district"]
    frame["wave"] = [2015, 2015, 2016, 2016]
    frame["measure"] = ["tryghed_trygge", "anmeldelser_straffelov", "tryghedsindeks", "x"]
    frame["estimate"] = [0.1 + 0.2, 1e-300, np.nan, -123456.789]
    frame["se"] = [1 / 3, 2.0, np.nan, 5e-324]
    frame["n"] = [1200, 3, None, 0]
    frame["method"] = ["direct", "register", "composite", None]
    frame["sig_prev"] = [True, None, False, None]
    frame["suppressed"] = [False, False, True, False]
    frame["flags"] = ["", "uncertain;model", "suppressed", None]
    frame["spec_id"] = SPEC.id
    frame["spec_hash"] = SPEC.hash
    return conform(frame)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip(tmp_path: Path, fmt: str) -> None:
    original = table()
    path = write_results(original, tmp_path / f"results.{fmt}")
    back = read_results(path)
    # openpyxl writes floats with 16 significant digits; the other formats are exact
    pd.testing.assert_frame_equal(back, original, check_exact=fmt != "xlsx", rtol=1e-15)


@pytest.mark.parametrize("fmt", FORMATS)
def test_round_trip_of_the_public_view(tmp_path: Path, fmt: str) -> None:
    public = public_view(table(), SPEC)
    back = read_results(write_results(public, tmp_path / f"public.{fmt}"))
    assert tuple(back.columns) == PUBLIC_COLUMNS
    assert list(back["n_display"]) == ["1200", "< 5", None, "0"]
    pd.testing.assert_frame_equal(back, public, check_exact=fmt != "xlsx", rtol=1e-15)


@pytest.mark.parametrize("fmt", FORMATS)
def test_byte_identical_twice(tmp_path: Path, fmt: str) -> None:
    first = write_results(table(), tmp_path / f"a.{fmt}")
    second = write_results(table(), tmp_path / f"b.{fmt}")
    assert sha(first) == sha(second)
    again = sha(first)
    write_results(table(), first)  # overwrite in place
    assert sha(first) == again
    assert results_bytes(table(), fmt) == first.read_bytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_table(tmp_path: Path, fmt: str) -> None:
    path = write_results(empty_results(), tmp_path / f"empty.{fmt}")
    back = read_results(path)
    assert len(back) == 0
    if fmt != "json":  # an empty JSON array has no column names
        assert tuple(back.columns) == RESULT_COLUMNS


def test_xlsx_has_no_clock_in_it() -> None:
    data = results_bytes(table(), "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert {i.date_time for i in archive.infolist()} == {FIXED_TIME.timetuple()[:6]}
        core = archive.read("docProps/core.xml").decode()
    assert "1980-01-01T00:00:00Z" in core
    assert core.count("1980-01-01") == 2  # created and modified


def test_xlsx_text_that_looks_like_a_formula_stays_text() -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(results_bytes(table(), "xlsx")))
    cell = book.worksheets[0]["A3"]
    assert cell.value == "=1+1" and cell.data_type == "s"


def test_csv_is_utf8_with_newlines_and_exact_floats() -> None:
    data = results_bytes(table(), "csv")
    text = data.decode("utf-8")
    assert "\r" not in text.replace("\r\n", "")  # no CRLF line ends
    assert not data.startswith(b"\xef\xbb\xbf")
    assert text.splitlines()[0] == ",".join(RESULT_COLUMNS)
    assert "0.30000000000000004" in text and "1e-300" in text and "5e-324" in text
    assert "Aalborg Øst" in text and '"A,02"' in text and '"Vest ""gamle"""' in text


def test_json_is_records_in_column_order_with_null() -> None:
    data = results_bytes(table(), "json")
    records = json.loads(data)
    assert [list(r) for r in records] == [list(RESULT_COLUMNS)] * 4
    assert records[2]["estimate"] is None and records[1]["sig_prev"] is None
    assert records[0]["estimate"] == 0.1 + 0.2 and records[0]["n"] == 1200
    assert "NaN" not in data.decode()
    assert "Øst" in data.decode("utf-8")  # not \\u00d8


def test_infinite_values_fail_before_anything_is_written(tmp_path: Path) -> None:
    bad = table()
    bad.loc[0, "estimate"] = np.inf
    for fmt in ("json", "xlsx"):
        with pytest.raises(ValueError, match="inf"):
            write_results(bad, tmp_path / f"bad.{fmt}")
    assert list(tmp_path.iterdir()) == []


def test_parquet_keeps_dtypes_without_help() -> None:
    back = from_bytes(results_bytes(table(), "parquet"), "parquet")
    assert str(back["n"].dtype) == "Int64" and str(back["sig_prev"].dtype) == "boolean"


def test_format_from_extension_or_argument(tmp_path: Path) -> None:
    assert format_for("out/Results.XLSX") == "xlsx"
    assert format_for("results.json", "csv") == "csv"
    with pytest.raises(ValueError, match="extension"):
        format_for("results.txt")
    with pytest.raises(ValueError, match="extension"):
        format_for("folder.csv/results")
    with pytest.raises(ValueError, match="unknown format"):
        format_for("results.csv", "sav")
    path = write_results(table(), tmp_path / "results.dat", format="parquet")
    assert path.read_bytes()[:4] == b"PAR1"
    with pytest.raises(ValueError):
        write_results(table(), tmp_path / "results.txt")
    assert not (tmp_path / "results.txt").exists()


def test_column_order_is_the_tables(tmp_path: Path) -> None:
    reordered = table()[["measure", "area_code", "estimate"]]
    for fmt in FORMATS:
        back = read_results(write_results(reordered, tmp_path / f"r.{fmt}"))
        assert list(back.columns) == ["measure", "area_code", "estimate"]


# -- atomicity -----------------------------------------------------------------------------------


def test_a_failure_mid_write_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_fsync(fd: int) -> None:  # the data is written but not yet on disk
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tryg.exports.atomic.os.fsync", broken_fsync)
    for fmt in FORMATS:
        with pytest.raises(OSError, match="No space"):
            write_results(table(), tmp_path / f"results.{fmt}")
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary file


def test_a_failure_keeps_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "results.csv"
    path.write_text("old results\n", encoding="utf-8")

    real_fdopen = os.fdopen

    class HalfWriter:
        """A file that writes half of what it is given, then fails (a full disk)."""

        def __init__(self, fd: int, mode: str) -> None:
            self.file = real_fdopen(fd, mode)

        def __enter__(self) -> HalfWriter:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, data: bytes) -> int:
            self.file.write(data[: len(data) // 2])
            self.file.flush()
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("tryg.exports.atomic.os.fdopen", HalfWriter)
    with pytest.raises(OSError):
        write_results(table(), path)
    assert path.read_text(encoding="utf-8") == "old results\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.csv"]


def test_a_failure_while_serialising_writes_nothing(tmp_path: Path) -> None:
    duplicated = pd.concat([table()[["area_code"]], table()[["area_code"]]], axis=1)
    with pytest.raises(ValueError, match="duplicate"):
        write_results(duplicated, tmp_path / "results.csv")
    assert list(tmp_path.iterdir()) == []


def test_written_files_get_ordinary_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        path = write_results(table(), tmp_path / "results.csv")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


# -- CSV injection: text a spreadsheet would run as a formula gets a leading quote ------------

FormulaCells = Callable[[bytes], list[str]]


def hostile_table(texts: tuple[str, ...]) -> pd.DataFrame:
    """A results table whose area codes, names, levels, measures and flags start with every
    formula character, beside negative numbers that must stay numbers."""
    k = len(texts)
    frame = pd.DataFrame({c: [None] * k for c in RESULT_COLUMNS})
    frame["area_code"] = [f"{t}{i}" for i, t in enumerate(texts)]
    frame["area_name"] = list(texts)
    frame["level"] = list(reversed(texts))
    frame["wave"] = 2015
    frame["measure"] = [t.replace("1", "m") for t in texts]
    frame["estimate"] = [-1.39, -1e-300, -0.0, 2.5, -123.0, np.nan][:k]
    frame["n"] = list(range(k))
    frame["flags"] = list(texts)
    frame["spec_id"] = SPEC.id
    frame["spec_hash"] = SPEC.hash
    return conform(frame)


def test_csv_neutralises_formula_text_and_keeps_numbers(
        formula_texts: tuple[str, ...], formula_cells: FormulaCells) -> None:
    original = hostile_table(formula_texts)
    data = results_bytes(original, "csv")
    assert formula_cells(data) == []
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))
    assert [r["area_name"] for r in rows] == ["'" + t for t in formula_texts]
    # negative numbers are numbers: written as they are, no quote
    assert [r["estimate"] for r in rows] == ["-1.39", "-1e-300", "-0.0", "2.5", "-123.0", ""]
    # the quote is taken off again on reading, and the file is the same bytes every time
    pd.testing.assert_frame_equal(from_csv(data), original, check_exact=True)
    assert results_bytes(hostile_table(formula_texts), "csv") == data


def from_csv(data: bytes) -> pd.DataFrame:
    path = Path(tempfile.mkdtemp()) / "r.csv"
    path.write_bytes(data)
    return read_results(path)


def test_xlsx_keeps_formula_text_as_text(formula_texts: tuple[str, ...]) -> None:
    from openpyxl import load_workbook

    data = results_bytes(hostile_table(formula_texts), "xlsx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula element anywhere
    book = load_workbook(io.BytesIO(data))
    names = [c.value for c in book.worksheets[0]["B"][1:]]
    # (a carriage return in text comes back as a line feed from Python's XML parser and as
    # itself from lxml, which openpyxl uses when it is installed)
    assert [str(n).replace("\r", "\n") for n in names] == [
        t.replace("\r", "\n") for t in formula_texts]
    assert {c.data_type for c in book.worksheets[0]["B"][1:]} == {"s"}


@given(st.text(max_size=12))
def test_neutralise_is_reversible_and_leaves_no_formula(text: str) -> None:
    safe = neutralise(text)
    assert restore(safe) == text
    if safe[:1] in FORMULA_STARTS:
        float(safe)  # only a plain number may start with + or -
    if safe != text:
        assert safe == "'" + text


@pytest.mark.parametrize(("text", "written"), [
    ("=1+1", "'=1+1"), ("+45 12 34 56 78", "'+45 12 34 56 78"), ("-", "'-"),
    ("@user", "'@user"), ("\t1", "'\t1"), ("\r1", "'\r1"), ("-1.39", "-1.39"), ("+3", "+3"),
    ("1e5", "1e5"), ("-1e-5", "-1e-5"), ("'=1", "''=1"), ("'x", "'x"), ("", ""),
    ("Aalborg", "Aalborg"), ("-inf", "'-inf"), ("1-2", "1-2"),
])
def test_neutralise_examples(text: str, written: str) -> None:
    assert neutralise(text) == written
    assert restore(written) == text
