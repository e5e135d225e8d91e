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
* XLSX: the workbook's created/modified times are fixed, and the zip container is repacked with
  fixed entry times (openpyxl stamps both with the clock). Text cells are always text, never
  formulas (an area name starting with ``=`` stays a name). openpyxl writes floats with 16
  significant digits, so XLSX is exact to about 1e-16 relative, not bit for bit.
* JSON: an array of records, one per line, keys in the table's column order, missing → null,
  ``allow_nan=False`` (an infinite value is an error, not invalid JSON).
* Parquet: pyarrow, no index, a fixed compression; its metadata holds no time stamps.

Column order is always the table's own.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import json
import math
import re
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


def _xlsx(table: pd.DataFrame) -> bytes:
    return workbook_bytes([Sheet("results", table)])


def workbook_bytes(sheets: Sequence[Sheet], *, active: int = 0) -> bytes:
    """A workbook of ``sheets`` (in order; ``active`` is the one Excel opens on), written
    deterministically as XLSX (see the module docstring)."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.writer.excel import ExcelWriter

    workbook = Workbook()
    first = workbook.active
    assert first is not None  # a new Workbook always has one sheet
    workbook.remove(first)
    for spec in sheets:
        sheet = workbook.create_sheet(spec.title)
        sheet.append(_check_columns(spec.table))
        for r, row in enumerate(_rows(spec.table), start=2):
            formats = spec.formats[r - 2] if spec.formats is not None else None
            for c, value in enumerate(row, start=1):
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"row {r - 1} holds {value}, which a spreadsheet cannot "
                                     "hold")
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str):
                    cell.data_type = "s"  # text, even when it starts with "=" (no formulas)
                elif formats is not None and formats[c - 1] and value is not None:
                    cell.number_format = formats[c - 1]
        for c, width in enumerate(spec.widths, start=1):
            sheet.column_dimensions[get_column_letter(c)].width = width
        sheet.freeze_panes = "A2"
    workbook.active = active
    for index, sheet in enumerate(workbook.worksheets):
        sheet.sheet_view.tabSelected = index == active
    props = workbook.properties
    props.creator = "tryg"
    props.created = props.modified = FIXED_TIME
    raw = io.BytesIO()
    # ExcelWriter rather than Workbook.save: save() stamps `modified` with the clock.
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(workbook, archive).write_data()
    return _repack(raw.getvalue())


def _repack(data: bytes) -> bytes:
    """The same zip with every entry time set to FIXED_TIME (and fixed attributes)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


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
