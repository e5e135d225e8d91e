"""One way in for tabular files: CSV, Excel (XLSX) and SPSS (.sav) become a :class:`RawTable`.

The format is chosen by the file's suffix. Each loader keeps where a row came from: the CSV
line, the sheet row (openpyxl directly rather than ``pandas.read_excel``, which skips blank
rows and so loses the row numbers a user sees in Excel), or the SPSS case number. Whatever a
library raises for a broken file becomes an ``InputError`` naming the file.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tryg.index.inputs import InputError, Problem
from tryg.index.inputs import mark as _
from tryg.messages import Number
from tryg.readers import unreadable
from tryg.readers.limits import (
    DEFAULT_LIMITS,
    XLSX_MAX_COLUMNS,
    XLSX_MAX_ROWS,
    Limits,
    check_zip,
    too_many_rows,
)
from tryg.readers.text import RawTable, decode, parse_csv, table_from_records

CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
SAV_SUFFIXES = frozenset({".sav", ".zsav"})

PathLike = str | Path


def read_bytes(path: PathLike) -> tuple[bytes, str]:
    """The file's bytes and its name for messages."""
    source = str(path)
    try:
        return Path(path).read_bytes(), source
    except OSError as exc:
        problem = Problem.of(source, None, None, _("cannot read the file: %(reason)s"),
                             reason=str(exc.strerror or exc))
        raise InputError([problem]) from None


def load_table(
    path: PathLike,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    fallback: Callable[[bytes], str | None] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RawTable:
    """The cells of a CSV, XLSX or SAV file. ``fallback`` may name an encoding to use for
    a CSV that is not UTF-8, given its bytes (for formats known to be ISO-8859-1). A file
    over ``limits`` is refused (:mod:`tryg.readers.limits`)."""
    suffix = Path(path).suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _load_xlsx(path, sheet, limits)
    if suffix in SAV_SUFFIXES:
        return _load_sav(path, limits)
    data, source = read_bytes(path)
    binary = unreadable.binary_problem(source, path, data)
    if binary is not None:
        raise InputError([binary])
    fb = fallback(data) if fallback is not None and encoding is None else None
    text, used = decode(data, source, encoding, fallback=fb)
    del data
    return parse_csv(text, source, encoding=used, max_rows=limits.max_rows)


def _load_xlsx(path: PathLike, sheet: str | int | None, limits: Limits) -> RawTable:
    source = str(path)
    # Before openpyxl opens it: the workbook's parts, as the ZIP declares them.
    check_zip(path, limits, what="XLSX workbook")
    import openpyxl

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # Our own handle, closed whatever happens: a workbook openpyxl fails to load
            # would otherwise leave its file open.
            with Path(path).open("rb") as handle:
                book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
                try:
                    ws = _sheet(book, sheet, source)
                    records = _sheet_records(ws, source, limits)
                finally:
                    book.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        raise InputError([unreadable.workbook_problem(source, path, exc)]) from None
    table = table_from_records(records, source, binary=True)
    table.attrs["library_warnings"] = [str(w.message) for w in caught]
    return table


def _sheet_records(ws: Any, source: str, limits: Limits) -> list[tuple[int, list[Any]]]:
    """The non-blank rows of a read-only sheet with their row numbers.

    The sheet's dimension (``A1:K5000``) is checked first: more rows than allowed, or more
    cells than its unpacked size could hold (openpyxl fills a declared but empty range with
    empty cells), is refused before a row is read. The dimension may be missing or wrong,
    so rows (blank ones too: openpyxl makes up the rows a sheet skips) are also counted while
    reading, up to Excel's own limit of 1,048,576 rows.
    """
    most = min(limits.max_rows, XLSX_MAX_ROWS - 1) + 1  # data rows plus the header row
    rows, columns = ws.max_row, ws.max_column
    if rows is not None and rows > XLSX_MAX_ROWS:
        raise InputError([Problem.of(source, None, None,
                                     _("the sheet says it has %(rows)s rows; an Excel sheet "
                                       "has at most %(most)s"),
                                     rows=Number(rows), most=Number(XLSX_MAX_ROWS))])
    if rows is not None and rows > most:
        raise too_many_rows(source, rows - 1, limits.max_rows)
    if columns is not None and columns > XLSX_MAX_COLUMNS:
        raise InputError([Problem.of(source, None, None,
                                     _("the sheet says it has %(columns)s columns; an Excel "
                                       "sheet has at most %(most)s"),
                                     columns=Number(columns), most=Number(XLSX_MAX_COLUMNS))])
    if rows is not None and columns is not None and rows * columns > max(
            limits.max_unpacked_bytes // 8, 1):
        raise InputError([Problem.of(
            source, None, None,
            _("the sheet says it spans %(rows)s rows × %(columns)s columns, more cells than "
              "the limit on the unpacked size (TRYG_MAX_UNPACKED_MB) allows; nothing was read"),
            rows=Number(rows), columns=Number(columns))])
    records: list[tuple[int, list[Any]]] = []
    for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), 1):
        if number > most:
            if number > XLSX_MAX_ROWS:
                raise InputError([Problem.of(source, number, None,
                                             _("the sheet has rows past row %(last)s, the "
                                               "last row an Excel sheet has"),
                                             last=Number(XLSX_MAX_ROWS))])
            raise too_many_rows(source, number - 1, limits.max_rows, exact=False)
        if any(v is not None and str(v).strip() for v in values):
            records.append((number, list(values)))
    return records


def _sheet(book: Any, sheet: str | int | None, source: str) -> Any:
    names = list(book.sheetnames)
    if sheet is None:
        if not names:
            raise InputError([Problem.of(source, None, None, _("the workbook has no sheets"))])
        return book[names[0]]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise InputError([Problem.of(source, None, None,
                                         _("no sheet number %(number)s (sheets: %(names)s)"),
                                         number=sheet, names=str(names))])
        return book[names[sheet]]
    if sheet not in names:
        raise InputError([Problem.of(source, None, None,
                                     _("no sheet %(name)s (sheets: %(names)s)"),
                                     name=repr(sheet), names=str(names))])
    return book[sheet]


def _load_sav(path: PathLike, limits: Limits) -> RawTable:
    """An SPSS file with its numeric codes kept (user-missing codes such as "don't know" too:
    the index specification decides what they mean) and its value labels in
    ``attrs["value_labels"]``. The number of cases is read from the header first."""
    source = str(path)
    import pyreadstat

    try:
        _frame, head = pyreadstat.read_sav(str(path), metadataonly=True)
        cases = head.number_rows
        if cases is not None and cases > limits.max_rows:
            raise too_many_rows(source, int(cases), limits.max_rows, unit="cases")
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except InputError:
        raise
    except Exception as exc:  # pyreadstat raises its own and OS errors
        raise InputError([unreadable.spss_problem(source, path, exc)]) from None
    header = [str(c) for c in frame.columns]
    records: list[tuple[int, list[Any]]] = [(0, list(header))]
    for case, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        records.append((case, [_sav_cell(v) for v in values]))
    table = table_from_records(records, source, binary=True)
    table.attrs["value_labels"] = {
        str(k): {_label_key(code): str(label) for code, label in v.items()}
        for k, v in (meta.variable_value_labels or {}).items()
    }
    return table


def _sav_cell(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _label_key(code: Any) -> Any:
    if isinstance(code, float) and code.is_integer():
        return int(code)
    return code
