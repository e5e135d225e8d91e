"""A file a library could not read, said in our words rather than the library's.

openpyxl, pyreadstat, GDAL and the standard library report a bad upload in their own English
("BadZipFile: File is not a zip file", "ReadstatError: Unable to read from file"), which a
Danish page would otherwise show inside a Danish sentence. Here the common cases are told
apart, mostly by what the file's first bytes say it is (a ZIP archive, an old Office file,
an SPSS file, text), and each becomes a marked template (:mod:`tryg.messages`) that a page
translates: an old .xls workbook, a password-protected one, a CSV file under an .xlsx name,
a file cut short. Only a detail that helps the user (a line and column) is kept in the
message; the library's own text goes to the log (logger ``tryg.readers``, level INFO: the
site logs it, the command line does not). A failure not
recognised here keeps the library's text as a technical detail in a neutral sentence
(:func:`technical`), the file's path taken out of it.
"""

from __future__ import annotations

import codecs
import json
import logging
import zipfile
from pathlib import Path
from typing import Literal

from tryg.index.inputs import Problem
from tryg.index.inputs import mark as _
from tryg.messages import Marked, Number

log = logging.getLogger("tryg.readers")

#: What the first bytes of a file say it is.
Kind = Literal["empty", "zip", "ole2", "spss", "text", "other"]

#: An Office file of the 97-2003 era (.xls, .doc) and an encrypted Office file of any era
#: are both an OLE2 compound file ([MS-CFB] 2.2, the header signature).
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: A password-protected .xlsx is an OLE2 file holding the stream "EncryptedPackage"
#: ([MS-OFFCRYPTO] 2.3.4.4); directory entry names are UTF-16LE.
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
#: A ZIP archive starts with a local file header, or (no members) its end record.
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
#: An SPSS data file (.sav), and its compressed form (.zsav).
SPSS_SIGNATURES = (b"$FL2", b"$FL3")
#: How much of a file is looked at to tell text from binary.
HEAD = 4096

# The formats a reader expects, as the params of the sentences below.
XLSX = Marked(_("an Excel workbook (.xlsx)"))
SPSS = Marked(_("an SPSS data file (.sav)"))
CSV = Marked(_("a CSV text file"))
VECTOR = Marked(_("a GeoPackage or Shapefile"))
ZIPPED_SHAPEFILE = Marked(_("a zipped Shapefile (.zip)"))
JSON = Marked(_("GeoJSON or TopoJSON"))

EMPTY = _("the file is empty")
NOT_FORMAT = _("the file is not %(format)s — is it saved in another format?")
TEXT_NOT_FORMAT = _("the file is text, not %(format)s: if it is a CSV file, give it the "
                    "suffix .csv")
WORKBOOK_NOT_FORMAT = _("the file is an Excel workbook (.xlsx), not %(format)s: give it the "
                        "suffix .xlsx")
SPSS_NOT_FORMAT = _("the file is an SPSS data file (.sav), not %(format)s: give it the "
                    "suffix .sav")
OLD_EXCEL = _("the file is an old Excel workbook (.xls, Excel 97-2003): open it in Excel and "
              "save it as an Excel workbook (.xlsx)")
ENCRYPTED = _("the workbook is protected by a password, so it cannot be read: save a copy "
              "without the password and upload that")
OPENDOCUMENT = _("the file is an OpenDocument spreadsheet (.ods), not an Excel workbook "
                 "(.xlsx): save it as an Excel workbook (.xlsx) or as CSV")
DAMAGED = _("the file is damaged or incomplete: was it cut short when it was saved, "
            "downloaded or uploaded? Save it again and upload the new copy")
FEWER_CASES = _("the SPSS file is incomplete: it holds fewer cases than its header says; was "
                "it cut short when it was saved, downloaded or uploaded?")
LONG_CELL = _("a cell is longer than %(limit)s characters: is a quotation mark (\") left open "
              "on this row, so that the cell runs on to the end of the file?")
BAD_JSON = _("not valid JSON: it goes wrong at line %(line)s, column %(column)s (is the file "
             "cut short, or is a comma, bracket or quotation mark missing?)")
TECHNICAL = _("the file could not be read as %(format)s (technical detail: %(detail)s)")


def head(path: str | Path) -> bytes:
    """The first bytes of ``path`` (none when it cannot be read)."""
    try:
        with Path(path).open("rb") as handle:
            return handle.read(HEAD)
    except OSError:
        return b""


def kind_of(data: bytes) -> Kind:
    """What ``data`` (a file's first bytes, or all of them) says the file is."""
    if not data:
        return "empty"
    if data.startswith(ZIP_SIGNATURES):
        return "zip"
    if data.startswith(OLE2_SIGNATURE):
        return "ole2"
    if data.startswith(SPSS_SIGNATURES):
        return "spss"
    return "text" if _is_text(data[:HEAD]) else "other"


def _is_text(data: bytes) -> bool:
    """UTF-8 (or, failing that, Windows-1252) text without NUL or other control characters
    than tab, line breaks and form feed; a multi-byte character cut at the end is allowed."""
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            return False
    return not any(ord(c) < 32 and c not in "\t\n\r\f" for c in text)


def _zip_holds(path: str | Path) -> set[str] | None:
    """The member names of a ZIP archive; ``None`` when its directory cannot be read (not a
    ZIP, or one cut short: the directory is at the end)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None


def _is_workbook(path: str | Path) -> bool:
    names = _zip_holds(path) or set()
    return "[Content_Types].xml" in names and any(n.startswith("xl/") for n in names)


def _is_opendocument(path: str | Path) -> bool:
    try:
        with zipfile.ZipFile(path) as archive:
            mimetype = archive.read("mimetype")[:100]
    except (KeyError, zipfile.BadZipFile, OSError, ValueError, EOFError):
        return False
    return mimetype.startswith(b"application/vnd.oasis.opendocument")


def _encrypted(path: str | Path) -> bool:
    """An OLE2 file holding an encrypted Office document (not an old workbook)."""
    try:
        return ENCRYPTED_STREAM in Path(path).read_bytes()
    except OSError:
        return False


def detail(exc: BaseException, path: str | Path | None = None) -> str:
    """The library's own words for ``exc``, shortly: its type and first line, without the
    file's path (an upload's is a temporary folder the user has never seen)."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0] if lines else ''}".rstrip(": ")
    if path is not None:
        text = text.replace(str(path), Path(path).name)
    return text[:300]


def technical(source: str, what: Marked, exc: BaseException,
              path: str | Path | None = None) -> Problem:
    """The neutral sentence for a failure not recognised: the library's text as a detail."""
    return Problem.of(source, None, None, TECHNICAL, format=what,
                      detail=detail(exc, path if path is not None else source))


def _logged(problem: Problem, exc: BaseException, reader: str) -> Problem:
    log.info("%s: %s could not read the file (%s); told the user: %s",
             problem.source, reader, detail(exc), problem.message)
    return problem


def _other_format(source: str, path: str | Path, kind: Kind, what: Marked) -> Problem | None:
    """The sentence for a file that is something else than ``what`` (a workbook, an SPSS
    file or CSV text), by its first bytes; ``None`` when they do not say."""
    if kind == "empty":
        return Problem.of(source, None, None, EMPTY)
    if kind == "text" and what != CSV:
        return Problem.of(source, None, None, TEXT_NOT_FORMAT, format=what)
    if kind == "ole2":
        return Problem.of(source, None, None, ENCRYPTED if _encrypted(path) else OLD_EXCEL)
    if kind == "spss" and what != SPSS:
        return Problem.of(source, None, None, SPSS_NOT_FORMAT, format=what)
    if kind == "zip" and what != XLSX and _is_workbook(path):
        return Problem.of(source, None, None, WORKBOOK_NOT_FORMAT, format=what)
    if kind == "zip" and _is_opendocument(path):
        return Problem.of(source, None, None, OPENDOCUMENT)
    return None


def workbook_problem(source: str, path: str | Path, exc: BaseException) -> Problem:
    """What to tell a user whose .xlsx openpyxl could not open."""
    kind = kind_of(head(path))
    problem = _other_format(source, path, kind, XLSX)
    if problem is None and kind == "zip":
        if _zip_holds(path) is None or (_is_workbook(path) and isinstance(
                exc, zipfile.BadZipFile | EOFError | SyntaxError | KeyError)):
            # cut short (no directory), a part failing its CRC, not well-formed XML, a part
            # missing
            problem = Problem.of(source, None, None, DAMAGED)
        elif not _is_workbook(path):
            problem = Problem.of(source, None, None, NOT_FORMAT, format=XLSX)
    if problem is None and isinstance(exc, zipfile.BadZipFile):
        problem = Problem.of(source, None, None, NOT_FORMAT, format=XLSX)
    return _logged(problem or technical(source, XLSX, exc, path), exc, "openpyxl")


#: What ReadStat says when a file has fewer cases than its header declares, and when it
#: meets the end of a file in the middle of its header or its data.
_FEWER_ROWS = "did not contain the expected number of rows"
_CUT_SHORT = "Unable to read from file"


def spss_problem(source: str, path: str | Path, exc: BaseException) -> Problem:
    """What to tell a user whose .sav pyreadstat could not read."""
    kind = kind_of(head(path))
    if kind == "spss":  # an SPSS file: cut short, or a failure not recognised
        problem = (Problem.of(source, None, None, FEWER_CASES) if _FEWER_ROWS in str(exc)
                   else Problem.of(source, None, None, DAMAGED) if _CUT_SHORT in str(exc)
                   else technical(source, SPSS, exc, path))
    else:
        problem = _other_format(source, path, kind, SPSS) or Problem.of(
            source, None, None, NOT_FORMAT, format=SPSS)
    return _logged(problem, exc, "pyreadstat")


def binary_problem(source: str, path: str | Path, data: bytes) -> Problem | None:
    """A problem when ``data`` (a file to be read as CSV text) is a workbook, an SPSS file
    or an old or encrypted Office file rather than text; ``None`` otherwise."""
    kind = kind_of(data[:HEAD])
    return None if kind in ("empty", "text", "other") else _other_format(source, path, kind,
                                                                          CSV)


def long_cell(source: str, line: int | None, limit: int) -> Problem:
    """A CSV cell past the csv module's field size limit, at the line its record starts."""
    return Problem.of(source, line, None, LONG_CELL, limit=Number(limit))


def json_problem(source: str, exc: json.JSONDecodeError) -> Problem:
    """A GeoJSON/TopoJSON file that does not parse, at the line and column where it fails."""
    if not exc.doc.strip():
        return Problem.of(source, None, None, EMPTY)
    return Problem.of(source, exc.lineno, None, BAD_JSON, line=exc.lineno, column=exc.colno)


def vector_problem(source: str, path: str | Path, exc: BaseException,
                   not_opened: bool) -> Problem:
    """What to tell a user whose GeoPackage/Shapefile GDAL could not read; ``not_opened``:
    GDAL did not recognise the file at all (pyogrio's ``DataSourceError``)."""
    what = ZIPPED_SHAPEFILE if Path(path).suffix.lower() == ".zip" else VECTOR
    problem: Problem | None = None
    if not_opened:
        empty = kind_of(head(path)) == "empty"
        problem = Problem.of(source, None, None, EMPTY) if empty else Problem.of(
            source, None, None, NOT_FORMAT, format=what)
    return _logged(problem or technical(source, what, exc, path), exc, "GDAL")
