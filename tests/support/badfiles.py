"""Bad uploads, made the way a user makes them: an old .xls, a workbook locked with a password,
a CSV file renamed .xlsx, a workbook renamed .csv, a download cut short, a Stata file named
.sav. Each is real: written by the program that writes that format (xlwt for .xls,
msoffcrypto-tool for the encryption Excel uses, pyreadstat, pandas), then renamed or cut.
"""

from __future__ import annotations

import io
import json
import zipfile

import msoffcrypto
import openpyxl
import pandas as pd
import pyreadstat
import xlwt

SURVEY_HEADER: list[object] = ["respondent_id", "wave", "area_code", "weight", "q1"]
SURVEY_ROWS: list[list[object]] = [["r1", 2022, "0851", 1.0, 3], ["r2", 2022, "0851", 1.5, 4]]
SURVEY_CSV = (b"respondent_id;wave;area_code;weight;q1\n"
              b"r1;2022;0851;1;3\nr2;2022;0851;1,5;4\n")


def xlsx(rows: list[list[object]] | None = None) -> bytes:
    """A good workbook of survey answers, as Excel would save it (openpyxl)."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    for row in [SURVEY_HEADER, *SURVEY_ROWS] if rows is None else rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def xls() -> bytes:
    """The same answers as an Excel 97-2003 workbook (.xls, BIFF8 in an OLE2 file)."""
    book = xlwt.Workbook()
    sheet = book.add_sheet("svar")
    for r, row in enumerate([SURVEY_HEADER, *SURVEY_ROWS]):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def encrypted_xlsx(password: str = "hemmelig") -> bytes:
    """A workbook saved with "Encrypt with password" (ECMA-376 agile encryption)."""
    out = io.BytesIO()
    msoffcrypto.OfficeFile(io.BytesIO(xlsx())).encrypt(password, out)
    return out.getvalue()


def ods() -> bytes:
    """An OpenDocument spreadsheet (LibreOffice Calc's own format), its smallest valid form."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"),
                         "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
            '<manifest:file-entry manifest:full-path="/" manifest:media-type='
            '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
            'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            '</manifest:manifest>'))
        archive.writestr("content.xml", (
            '<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office='
            '"urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table='
            '"urn:oasis:names:tc:opendocument:xmlns:table:1.0" office:version="1.2">'
            '<office:body><office:spreadsheet><table:table table:name="svar"/>'
            '</office:spreadsheet></office:body></office:document-content>'))
    return out.getvalue()


def with_part(workbook: bytes, suffix: str, content: bytes) -> bytes:
    """``workbook`` with the part whose name ends in ``suffix`` replaced by ``content``."""
    source = zipfile.ZipFile(io.BytesIO(workbook))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, content if name.endswith(suffix) else source.read(name))
    return out.getvalue()


def sav(path_for_pyreadstat: str, cases: int = 200) -> bytes:
    """An SPSS data file of ``cases`` answers (pyreadstat writes to a path only)."""
    frame = pd.DataFrame({"respondent_id": [f"r{i}" for i in range(cases)],
                          "wave": [2022] * cases, "area_code": ["0851"] * cases,
                          "weight": [1.0] * cases, "q1": [3.0] * cases})
    pyreadstat.write_sav(frame, path_for_pyreadstat)
    with open(path_for_pyreadstat, "rb") as handle:
        return handle.read()


def stata() -> bytes:
    """The answers as a Stata file (.dta): what a survey firm may send instead of SPSS."""
    out = io.BytesIO()
    pd.DataFrame({"respondent_id": ["r1"], "wave": [2022]}).to_stata(out, write_index=False)
    return out.getvalue()


def long_cell_csv() -> bytes:
    """A CSV file whose second row opens a quotation mark that is never closed, over more
    than the csv module's 131,072 characters of further rows."""
    rows = "".join(f"r{i};2022;0851;1;3\n" for i in range(3, 12_000))
    return SURVEY_CSV + b'r3;2022;"0851;1;4\n' + rows.encode()


def cut_geojson() -> bytes:
    """A boundary file cut off in its first feature's coordinates."""
    whole = json.dumps({"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"SOGNEKODE": "7001", "SOGNENAVN": "Budolfi"},
        "geometry": {"type": "Polygon", "coordinates": [[[9.9, 57.0], [10.0, 57.0],
                                                         [10.0, 57.1], [9.9, 57.0]]]}}]},
                       indent=1).encode()
    return whole[: whole.index(b"10.0")]
