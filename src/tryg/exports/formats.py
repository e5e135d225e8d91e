"""Tables to bytes (and back) in four formats, deterministically.

Deterministic means: the same table gives the same bytes, run after run, so a published file
can be checked by its checksum and a re-run shows up in version control only if a number
changed. Each format needed something for that:

* CSV: UTF-8, ``\\n`` line ends, floats written with :func:`repr` (the shortest text that
  reads back as the same double, so nothing is lost and nothing depends on pandas' float
  formatting), missing values as empty fields, booleans as ``True``/``False``. Text that a
  spreadsheet would take for a formula gets a leading ``'`` (:func:`neutralise`, OWASP's rule
  against CSV injection); :func:`from_bytes` takes it off again. Every CSV tryg writes goes
  through :func:`csv_bytes`.
* XLSX: the workbook's created/modified times are fixed, and the zip container's entries are
  written with fixed times (openpyxl stamps both with the clock). Text cells are always text,
  never formulas or error values (an area name starting with ``=`` stays a name). Written in
  openpyxl's write-only mode, a sheet's rows are streamed, never held as cell objects.
  openpyxl writes floats with 16 significant digits, so XLSX is exact to about 1e-16
  relative, not bit for bit.
* JSON: an array of records, one per line, keys in the table's column order, missing → null,
  ``allow_nan=False`` (an infinite value is an error, not invalid JSON).
* Parquet: pyarrow, no index, a fixed compression; its metadata holds no time stamps.

Column order is always the table's own.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import itertools
import json
import math
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: First characters that make a spreadsheet read a CSV cell as a formula (OWASP: "CSV
#: injection"): ``=``, ``+``, ``-``, ``@``, tab and carriage return.
FORMULA_STARTS: frozenset[str] = frozenset("=+-@\t\r")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "parquet")

#: The time written into XLSX properties and zip entries (the zip format's earliest date).
FIXED_TIME = datetime.datetime(1980, 1, 1, 0, 0, 0)


def format_for(path: str, format: str | None = None) -> str:
    """The format to write: ``format`` if given, else from the file extension."""
    if format is not None:
        fmt = format.lower().lstrip(".")
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {format!r}; use one of {', '.join(FORMATS)}")
        return fmt
    name = path.replace("\\", "/").split("/")[-1]
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot tell the format of {path!r} from its extension; "
            f"name it .{', .'.join(FORMATS)} or give the format"
        )
    return suffix


def to_bytes(table: pd.DataFrame, format: str) -> bytes:
    """``table`` as the bytes of a file in ``format``."""
    writers: dict[str, Callable[[pd.DataFrame], bytes]] = {
        "csv": csv_bytes, "xlsx": _xlsx, "json": _json, "parquet": _parquet,
    }
    return writers[format_for("", format)](table)


def _cells(series: pd.Series) -> Iterator[Any]:
    """Plain Python values of a column, None for missing (NaN, NA, None)."""
    missing = series.isna().to_numpy()
    kind = series.dtype.kind
    for value, gone in zip(series.tolist(), missing, strict=True):
        if gone:
            yield None
        elif kind == "f":
            yield float(value)
        elif kind in "iu":
            yield int(value)
        elif kind == "b":
            yield bool(value)
        elif isinstance(value, np.generic):
            yield value.item()
        else:
            yield value


def _rows(table: pd.DataFrame) -> list[list[Any]]:
    columns = [list(_cells(table[c])) for c in table.columns]
    return [list(row) for row in zip(*columns, strict=True)] if columns else []


def _check_columns(table: pd.DataFrame) -> list[str]:
    names = [str(c) for c in table.columns]
    if len(set(names)) != len(names):
        raise ValueError("the table has duplicate column names")
    return names


def _needs_quote(text: str) -> bool:
    """Whether :func:`neutralise` prefixes ``text``: it starts with a formula character (and is
    not a plain number such as ``-1.39``), or it is such a text behind leading quotes already
    (so that :func:`restore` can tell an added quote from one that was there)."""
    head = text.lstrip("'")
    if not head or head[0] not in FORMULA_STARTS:
        return False
    return len(head) != len(text) or not _NUMBER.fullmatch(text)


def neutralise(text: str) -> str:
    """A text cell made safe for spreadsheets: ``'`` before a leading ``= + - @``, tab or
    carriage return (``=1+1`` → ``'=1+1``); numbers written as text (``-1.39``) stay as
    they are. Reversible: :func:`restore` gives back the original text."""
    return "'" + text if _needs_quote(text) else text


def restore(text: str) -> str:
    """The original of a text cell written by :func:`neutralise`."""
    return text[1:] if text.startswith("'") and _needs_quote(text[1:]) else text


def _csv_text(value: Any, decimal: str = ".") -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if decimal == "." else repr(value).replace(".", decimal)
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def csv_bytes(table: pd.DataFrame, *, sep: str = ",", decimal: str = ".",
              bom: bool = False) -> bytes:
    """``table`` as CSV (see the module docstring): numbers as numbers, text cells (column
    names too) neutralised against formula injection, the same bytes for the same table.

    ``sep``, ``decimal`` and ``bom`` make the variant a spreadsheet in a Danish locale opens
    as a table (``sep=";", decimal=",", bom=True``: Excel reads "," as the decimal sign there,
    and UTF-8 without a byte-order mark as a legacy code page); floats are still written in
    full (:func:`repr`), with ``decimal`` for the point. The defaults are the plain CSV."""
    if sep == decimal:
        raise ValueError("the separator and the decimal sign must differ")
    header = [neutralise(name) for name in _check_columns(table)]
    line = io.StringIO()
    # The csv module quotes a field holding a character of the line terminator, so "\r\n"
    # makes it quote a lone carriage return too (with "\n" it would not, and a reader would
    # split the row there); each line's own terminator is then written as "\n".
    writer = csv.writer(line, delimiter=sep, lineterminator="\r\n")
    lines = []
    rows = ([_csv_text(v, decimal) for v in r] for r in _rows(table))
    for row in itertools.chain([header], rows):
        line.seek(0)
        line.truncate()
        writer.writerow(row)
        lines.append(line.getvalue()[:-2])
    body = "".join(f"{text}\n" for text in lines).encode("utf-8")
    return b"\xef\xbb\xbf" + body if bom else body


def _json(table: pd.DataFrame) -> bytes:
    names = _check_columns(table)
    lines = []
    for row in _rows(table):
        record = dict(zip(names, row, strict=True))
        for name, value in record.items():
            if isinstance(value, float) and math.isinf(value):
                raise ValueError(f"column {name!r} holds {value}, which JSON cannot represent")
        lines.append(json.dumps(record, ensure_ascii=False, allow_nan=False, default=str))
    body = "[\n" + ",\n".join(lines) + "\n]\n" if lines else "[]\n"
    return body.encode("utf-8")


@dataclass(frozen=True)
class Sheet:
    """One worksheet of :func:`workbook_bytes`: a title, a table (its column names are the
    first row) and optionally a number format per cell (``formats[row][column]``, None for
    Excel's default) and column widths in characters."""

    title: str
    table: pd.DataFrame
    formats: Sequence[Sequence[str | None]] | None = None
    widths: Sequence[float] = ()


#: The most rows and columns one Excel sheet holds (the column names take the first row).
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384


class TooLargeForExcelError(ValueError):
    """A table with more rows or columns than one Excel sheet holds: Excel would refuse the
    file (or drop what does not fit), so none is written."""

    def __init__(self, rows: int, columns: int) -> None:
        self.rows, self.columns = rows, columns
        super().__init__(
            f"the table has {rows:,} rows and {columns:,} columns; an Excel sheet holds at most "
            f"{EXCEL_ROWS - 1:,} rows below its column names and {EXCEL_COLUMNS:,} columns: "
            "write CSV or Parquet instead")


def fits_excel(rows: int, columns: int) -> bool:
    """Whether a table of ``rows`` × ``columns`` fits one Excel sheet below its column names."""
    return rows <= EXCEL_ROWS - 1 and columns <= EXCEL_COLUMNS


def _xlsx(table: pd.DataFrame) -> bytes:
    return workbook_bytes([Sheet("results", table)])


def workbook_bytes(sheets: Sequence[Sheet], *, active: int = 0) -> bytes:
    """A workbook of ``sheets`` (in order; ``active`` is the one Excel opens on), written
    deterministically as XLSX (see the module docstring).

    openpyxl's write-only mode streams each sheet's rows to a temporary file, so a national
    results table (hundreds of thousands of rows) is never held as cell objects; the rows are
    made from the table a block at a time. Each sheet's first row (the column names) is frozen;
    text is text, never a formula or an error value."""
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    for spec in sheets:  # the checks, before anything is written
        if not fits_excel(*spec.table.shape):
            raise TooLargeForExcelError(*spec.table.shape)
        _check_columns(spec.table)
        _check_finite(spec.table)
    workbook = Workbook(write_only=True)
    try:
        for index, spec in enumerate(sheets):
            _write_sheet(workbook.create_sheet(spec.title), spec, selected=index == active)
        workbook.active = active
        props = workbook.properties
        props.creator = "tryg"
        props.created = props.modified = FIXED_TIME
        raw = io.BytesIO()
        # ExcelWriter rather than Workbook.save: save() stamps `modified` with the clock.
        with _FixedTimeZip(raw, "w", zipfile.ZIP_DEFLATED) as archive:
            ExcelWriter(workbook, archive).write_data()
    except BaseException:
        # openpyxl removes a sheet's temporary file once it is zipped, or when the process
        # ends: a long-running site would keep the files of every failed write till then
        for sheet in workbook.worksheets:
            _discard(sheet)
        raise
    return raw.getvalue()


def _discard(sheet: Any) -> None:
    """Close a write-only sheet that was not zipped and remove its temporary file."""
    if not sheet.closed:
        with contextlib.suppress(Exception):  # its XML may be cut off mid-row
            sheet.close()
    path = getattr(getattr(sheet, "_writer", None), "out", None)
    if isinstance(path, str) and os.path.exists(path):
        os.remove(path)


def _write_sheet(sheet: Any, spec: Sheet, *, selected: bool) -> None:
    """Stream ``spec`` into the write-only ``sheet``: its columns and view first (a write-only
    sheet writes them before its first row), then the column names and the rows."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter

    for c, width in enumerate(spec.widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = width
    sheet.freeze_panes = "A2"
    sheet.sheet_view.tabSelected = selected
    # the sheet's size (<dimension>), which openpyxl's writer asks a sheet for and a write-only
    # sheet cannot know before its rows; readers such as openpyxl's read-only mode take the
    # width of every row from it
    size = f"A1:{get_column_letter(max(spec.table.shape[1], 1))}{len(spec.table) + 1}"
    sheet.calculate_dimension = lambda: size

    def text(value: str) -> Any:
        """A text cell: openpyxl would read "=…" as a formula and "#N/A" as an error value."""
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell

    def formatted(value: Any, number_format: str) -> Any:
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = number_format
        return cell

    sheet.append([text(name) for name in _check_columns(spec.table)])
    for r, row in enumerate(_row_blocks(spec.table)):
        formats = spec.formats[r] if spec.formats is not None else None
        cells = list(row)
        for c, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                if value[:1] in _NOT_TEXT_STARTS:
                    cells[c] = text(value)
            elif formats is not None and formats[c]:
                cells[c] = formatted(value, str(formats[c]))
        sheet.append(cells)


#: First characters of the text that openpyxl would not store as plain text by itself
#: (``=`` a formula, ``#`` an error value such as ``#N/A``).
_NOT_TEXT_STARTS: frozenset[str] = frozenset("=#")

#: Rows turned into Python values at a time.
_BLOCK_ROWS = 10_000


def _row_blocks(table: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    """The rows of ``table`` as tuples of plain values (see :func:`_cells`), made a block of
    rows at a time so that the whole table is never held as Python objects."""
    if table.shape[1] == 0:
        return
    for start in range(0, len(table), _BLOCK_ROWS):
        block = table.iloc[start:start + _BLOCK_ROWS]
        yield from zip(*(list(_cells(block.iloc[:, c])) for c in range(block.shape[1])),
                       strict=True)


def _check_finite(table: pd.DataFrame) -> None:
    """Raise if a cell holds an infinite number (a spreadsheet cannot hold one), naming the
    first such row (1 is the first row below the column names)."""
    first: tuple[int, float] | None = None
    for c in range(table.shape[1]):
        series = table.iloc[:, c]
        if series.dtype.kind == "f":
            values = series.to_numpy(dtype="float64", na_value=np.nan)
            bad = np.flatnonzero(np.isinf(values))
        elif series.dtype == object:
            values = series.to_numpy()
            bad = np.flatnonzero(np.fromiter(
                (isinstance(v, float | np.floating) and math.isinf(v) for v in values),
                dtype=bool, count=len(values)))
        else:
            continue
        if len(bad) and (first is None or bad[0] < first[0]):
            first = (int(bad[0]), float(values[bad[0]]))
    if first is not None:
        raise ValueError(f"row {first[0] + 1} holds {first[1]}, which a spreadsheet cannot "
                         "hold")


def _entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=FIXED_TIME.timetuple()[:6])
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o600 << 16
    return entry


class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry FIXED_TIME and fixed attributes (openpyxl's writer names
    its entries, and a zip stamps a named entry with the clock or a file's time)."""

    def writestr(self, zinfo_or_arcname: str | zipfile.ZipInfo, data: Any,
                 compress_type: int | None = None, compresslevel: int | None = None) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = _entry(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename: str | os.PathLike[str], arcname: str | os.PathLike[str] | None = None,
              compress_type: int | None = None, compresslevel: int | None = None) -> None:
        entry = _entry(os.fspath(arcname if arcname is not None else filename))
        entry.file_size = os.path.getsize(filename)  # a zip64 entry if it needs one
        with open(filename, "rb") as source, self.open(entry, "w") as target:
            shutil.copyfileobj(source, target, 1 << 20)


def _parquet(table: pd.DataFrame) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    _check_columns(table)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    sink = pa.BufferOutputStream()
    pq.write_table(arrow, sink, compression="snappy")
    return bytes(sink.getvalue().to_pybytes())


def from_bytes(data: bytes, format: str) -> pd.DataFrame:
    """Read a table written by :func:`to_bytes` (column types as stored; see ``read_results``
    for the results table's own dtypes)."""
    fmt = format_for("", format)
    if fmt == "csv":
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
        frame.columns = pd.Index([restore(str(c)) for c in frame.columns])
        frame = frame.map(restore)
        return frame.astype(object).where(frame != "", None)
    if fmt == "json":
        records = json.loads(data.decode("utf-8"))
        return pd.DataFrame.from_records(records) if records else pd.DataFrame()
    if fmt == "parquet":
        import pyarrow.parquet as pq

        stored: pd.DataFrame = pq.read_table(io.BytesIO(data)).to_pandas()
        return stored
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    sheet = book.worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    book.close()
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows[1:], columns=[str(c) for c in rows[0]], dtype=object)
