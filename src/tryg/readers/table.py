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
        problem = Problem(source, None, None, f"cannot read the file: {exc.strerror or exc}")
        raise InputError([problem]) from None


def load_table(
    path: PathLike,
    *,
    sheet: str | int | None = None,
    encoding: str | None = None,
    fallback: Callable[[bytes], str | None] | None = None,
) -> RawTable:
    """The cells of a CSV, XLSX or SAV file. ``fallback`` may name an encoding to use for
    a CSV that is not UTF-8, given its bytes (for formats known to be ISO-8859-1)."""
    suffix = Path(path).suffix.lower()
    if suffix in XLSX_SUFFIXES:
        return _load_xlsx(path, sheet)
    if suffix in SAV_SUFFIXES:
        return _load_sav(path)
    data, source = read_bytes(path)
    fb = fallback(data) if fallback is not None and encoding is None else None
    text, used = decode(data, source, encoding, fallback=fb)
    return parse_csv(text, source, encoding=used)


def _load_xlsx(path: PathLike, sheet: str | int | None) -> RawTable:
    source = str(path)
    import openpyxl

    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
            try:
                ws = _sheet(book, sheet, source)
                records = [
                    (number, list(values))
                    for number, values in enumerate(ws.iter_rows(min_row=1, values_only=True), 1)
                    if any(v is not None and str(v).strip() for v in values)
                ]
            finally:
                book.close()
    except InputError:
        raise
    except Exception as exc:  # openpyxl raises many types for a broken workbook
        message = f"not a readable XLSX workbook: {type(exc).__name__}: {exc}"
        raise InputError([Problem(source, None, None, message)]) from None
    table = table_from_records(records, source, binary=True)
    table.attrs["library_warnings"] = [str(w.message) for w in caught]
    return table


def _sheet(book: Any, sheet: str | int | None, source: str) -> Any:
    names = list(book.sheetnames)
    if sheet is None:
        if not names:
            raise InputError([Problem(source, None, None, "the workbook has no sheets")])
        return book[names[0]]
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            message = f"no sheet number {sheet} (sheets: {names})"
            raise InputError([Problem(source, None, None, message)])
        return book[names[sheet]]
    if sheet not in names:
        raise InputError([Problem(source, None, None, f"no sheet {sheet!r} (sheets: {names})")])
    return book[sheet]


def _load_sav(path: PathLike) -> RawTable:
    """An SPSS file with its numeric codes kept (user-missing codes such as "don't know" too:
    the index specification decides what they mean) and its value labels in
    ``attrs["value_labels"]``."""
    source = str(path)
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:  # pyreadstat raises its own and OS errors
        raise InputError(
            [Problem(source, None, None, f"not a readable SPSS file: {type(exc).__name__}: {exc}")]
        ) from None
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
