"""Limits on what one file may cost: zip bombs and oversized files are refused before the work.

No test measures time. A refusal is shown to come before the work by what the file holds: the
bomb's compressed bytes are overwritten with bytes that are not deflate data (any attempt to
unpack them fails differently), a sheet's rows past the header are cells openpyxl cannot read.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyreadstat
import pytest
import shapely
from pyogrio import raw

from tryg.index.inputs import InputError
from tryg.readers import read_area_geometry, read_areas, read_population, read_register, read_survey
from tryg.readers.limits import DEFAULT_LIMITS, Limits, check_zip
from tryg.readers.table import load_table
from zipbombs import (
    BLOCK,
    Member,
    sheet_xml,
    text,
    workbook,
    write_zip,
    zeros,
)

SHEET = "xl/worksheets/sheet1.xml"
Reader = Callable[..., Any]
READERS: dict[str, Reader] = {"survey": read_survey, "population": read_population,
                              "register": read_register}


def message(error: pytest.ExceptionInfo[InputError]) -> str:
    return "\n".join(str(p) for p in error.value.problems)


def unreadable(path: Path, member: str) -> None:
    """Overwrite the member's compressed bytes with bytes no inflater accepts (0xFF: a final
    block of the reserved type); the central directory is left as it was."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    data = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode())
    data[start:start + info.compress_size] = b"\xff" * info.compress_size
    path.write_bytes(bytes(data))


@pytest.fixture(scope="module")
def xlsx_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 1.5 MB workbook whose sheet is 1.5 GB of zeros (the probe's 5 MB → 1.5 GB)."""
    return workbook(tmp_path_factory.mktemp("bomb") / "svar.xlsx", zeros(SHEET))


@pytest.mark.parametrize("kind", sorted(READERS))
def test_an_xlsx_bomb_is_refused_from_its_directory(xlsx_bomb: Path, kind: str,
                                                    tmp_path: Path) -> None:
    assert xlsx_bomb.stat().st_size < 2 * (1 << 20)
    with pytest.raises(InputError) as caught:
        READERS[kind](xlsx_bomb)
    text_ = message(caught)
    assert str(xlsx_bomb) in text_
    assert "unpacks to 1,536.0 MB" in text_ and SHEET in text_
    assert "limit of 1,024.0 MB (TRYG_MAX_UNPACKED_MB)" in text_

    # The same directory over bytes that cannot be unpacked: the same refusal, so nothing
    # was unpacked to reach it.
    broken = tmp_path / "svar.xlsx"
    broken.write_bytes(xlsx_bomb.read_bytes())
    unreadable(broken, SHEET)
    with pytest.raises(InputError) as again:
        READERS[kind](broken)
    assert message(again) == text_.replace(str(xlsx_bomb), str(broken))


def test_a_zipped_shapefile_bomb_is_refused_before_gdal_opens_it(tmp_path: Path) -> None:
    bomb = write_zip(tmp_path / "sogne.zip", [
        text("sogne.shx", bytes(100)), text("sogne.dbf", bytes(100)), zeros("sogne.shp")])
    unreadable(bomb, "sogne.shp")
    for read in (read_area_geometry, read_areas):
        with pytest.raises(InputError) as caught:
            read(bomb, level="sogn")
        assert "the zipped Shapefile unpacks to 1,536.0 MB" in message(caught)
        assert "'sogne.shp'" in message(caught)


def test_an_absurd_compression_ratio_is_refused_below_the_size_limit(tmp_path: Path) -> None:
    bomb = workbook(tmp_path / "svar.xlsx", zeros(SHEET, 4 * BLOCK))  # 64 MB in 65 kB
    unreadable(bomb, SHEET)
    with pytest.raises(InputError) as caught:
        read_survey(bomb)
    assert "compressed" in message(caught) and "zip bomb" in message(caught)
    # A small member may compress as well as it likes (styles, an empty sheet's padding).
    small = write_zip(tmp_path / "small.zip", [Member("padding", bytes(BLOCK // 32))])
    assert DEFAULT_LIMITS.ratio_floor > BLOCK // 32
    check_zip(small, DEFAULT_LIMITS, what="zipped Shapefile")


def test_a_lying_directory_bounds_the_unpacking_all_the_same(tmp_path: Path) -> None:
    """The directory says 1 kB, the member inflates to 32 MB: the size check passes, and the
    read stops at the declared size, failing its CRC check (openpyxl reads through zipfile)."""
    liar = workbook(tmp_path / "svar.xlsx", zeros(SHEET, 2 * BLOCK, declared=1000))
    with zipfile.ZipFile(liar) as archive, archive.open(SHEET) as member:
        got = 0
        with pytest.raises(zipfile.BadZipFile, match="CRC"):
            while chunk := member.read(1 << 16):
                got += len(chunk)
    assert got <= 1000
    with pytest.raises(InputError) as caught:
        read_survey(liar)
    assert "the file is damaged or incomplete" in message(caught)


def test_csv_rows_over_the_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "areas.csv"
    path.write_text("code,name,level\n" + "".join(f"{i},A{i},sogn\n" for i in range(4)))
    assert len(load_table(path, limits=Limits(max_rows=4)).rows) == 4
    with pytest.raises(InputError) as caught:
        read_areas(path, limits=Limits(max_rows=3))
    assert str(path) in message(caught)
    assert "at least 4 rows, more than the limit of 3 (TRYG_MAX_ROWS)" in message(caught)


def test_csv_rows_are_records_not_lines(tmp_path: Path) -> None:
    """Cells spanning lines and blank lines do not count: the records are counted."""
    path = tmp_path / "areas.csv"
    path.write_text('code,name,level\n1,"Nord\nby",sogn\n\n\n2,"Syd\nby",sogn\n')
    assert len(load_table(path, limits=Limits(max_rows=2)).rows) == 2
    with pytest.raises(InputError, match="limit of 1"):
        load_table(path, limits=Limits(max_rows=1))


def test_register_records_over_the_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "records.csv"
    path.write_text("date,offence,area_code\n" +
                    "".join(f"2020-01-0{d},vold,0851\n" for d in range(1, 6)))
    _, report = read_register(path, limits=Limits(max_rows=5))
    assert report.rows_read == 5
    with pytest.raises(InputError, match=r"more than the limit of 4 \(TRYG_MAX_ROWS\)"):
        read_register(path, limits=Limits(max_rows=4))


BROKEN_ROWS = "".join(f'<row r="{r}"><c r="A{r}" t="n"><v>x</v></c></row>' for r in range(2, 11))
HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'


def test_a_sheet_dimension_over_the_limit_is_refused_before_its_rows_are_read(
        tmp_path: Path) -> None:
    path = workbook(tmp_path / "svar.xlsx", text(SHEET, sheet_xml(HEADER_ROW + BROKEN_ROWS,
                                                                 "A1:A10")))
    with pytest.raises(InputError) as caught:  # its rows cannot be read: not even tried
        load_table(path, limits=Limits(max_rows=5))
    assert "the file has 9 rows, more than the limit of 5" in message(caught)
    with pytest.raises(InputError, match=r"could not be read as an Excel workbook \(\.xlsx\) "
                                         r"\(technical detail: ValueError: "):
        load_table(path, limits=Limits(max_rows=9))


def test_sheet_rows_are_counted_when_the_dimension_is_missing(tmp_path: Path) -> None:
    good = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(2, 11))
    path = workbook(tmp_path / "svar.xlsx", text(SHEET, sheet_xml(HEADER_ROW + good)))
    assert len(load_table(path, limits=Limits(max_rows=9)).rows) == 9
    with pytest.raises(InputError, match="at least 6 rows, more than the limit of 5"):
        load_table(path, limits=Limits(max_rows=5))
    # A row numbered far away: openpyxl makes up the rows in between; they count too.
    far = workbook(tmp_path / "far.xlsx", text(SHEET, sheet_xml(
        HEADER_ROW + '<row r="900000"><c r="A900000"><v>1</v></c></row>')))
    with pytest.raises(InputError, match="at least 11 rows, more than the limit of 10"):
        load_table(far, limits=Limits(max_rows=10))


def test_a_sheet_dimension_beyond_excel_or_the_unpacked_limit_is_refused(
        tmp_path: Path) -> None:
    huge = workbook(tmp_path / "huge.xlsx", text(SHEET, sheet_xml(HEADER_ROW + BROKEN_ROWS,
                                                                 "A1:XFD1048576")))
    with pytest.raises(InputError, match=r"1,048,576 rows × 16,384 columns, more cells"):
        load_table(huge)
    past = workbook(tmp_path / "past.xlsx", text(SHEET, sheet_xml(HEADER_ROW, "A1:A2000000")))
    with pytest.raises(InputError, match="an Excel sheet has at most 1,048,576"):
        load_table(past)


def test_spss_cases_over_the_limit_are_refused_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "svar.sav"
    pyreadstat.write_sav(pd.DataFrame({"q1": np.arange(10.0)}), str(path))
    assert len(load_table(path, limits=Limits(max_rows=10)).rows) == 10
    with pytest.raises(InputError, match="has 10 cases, more than the limit of 9"):
        load_table(path, limits=Limits(max_rows=9))


def test_features_over_the_limit_are_refused(tmp_path: Path) -> None:
    squares = [shapely.box(i, 55, i + 0.5, 55.5) for i in range(3)]
    path = tmp_path / "areas.gpkg"
    raw.write(str(path), np.array([shapely.to_wkb(g) for g in squares], dtype=object),
              [np.array(["1", "2", "3"], dtype=object), np.array(["a", "b", "c"], dtype=object)],
              ["code", "name"], geometry_type="Polygon", crs="EPSG:4326", driver="GPKG")
    areas, _, _ = read_area_geometry(path, level="sogn", limits=Limits(max_rows=3))
    assert len(areas.areas) == 3
    with pytest.raises(InputError, match="has 3 features, more than the limit of 2"):
        read_area_geometry(path, level="sogn", limits=Limits(max_rows=2))
