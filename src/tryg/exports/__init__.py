"""Writing (and reading back) results tables as files: CSV, XLSX, JSON, Parquet.

An adapter around the pure core: :mod:`tryg.index.results` decides what a results table holds
and what may be published; this package only turns a table into a file. It does no
statistics and applies no publication rules (call ``public_view`` first for a public file).

Every write is deterministic (the same table gives byte-identical files; see
:mod:`tryg.exports.formats`) and atomic (a failed write leaves no file; see
:mod:`tryg.exports.atomic`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
from pandas.api.types import pandas_dtype

from tryg.exports.atomic import atomic_write_bytes
from tryg.exports.formats import (
    EXCEL_ROWS,
    FORMATS,
    TooLargeForExcelError,
    csv_bytes,
    fits_excel,
    format_for,
    from_bytes,
    neutralise,
    to_bytes,
)
from tryg.index.results import RESULT_DTYPES

__all__ = [
    "EXCEL_ROWS", "FORMATS", "TooLargeForExcelError", "csv_bytes", "fits_excel", "format_for",
    "neutralise", "read_results", "results_bytes", "write_results",
]


def results_bytes(table: pd.DataFrame, format: str) -> bytes:
    """The bytes of ``table`` as a file in ``format`` (for stdout, or a web response)."""
    return to_bytes(table, format)


def write_results(
    table: pd.DataFrame, path: str | os.PathLike[str], *, format: str | None = None
) -> Path:
    """Write ``table`` to ``path``, in ``format`` or the format of the file's extension.

    The whole file is serialised in memory before anything touches the disk, and then written
    atomically: if anything fails, no file is written (an existing file is left untouched).
    """
    fmt = format_for(os.fspath(path), format)
    data = to_bytes(table, fmt)
    return atomic_write_bytes(path, data)


def read_results(path: str | os.PathLike[str], *, format: str | None = None) -> pd.DataFrame:
    """Read a file written by :func:`write_results`, with the results columns' own dtypes.

    Columns that are results columns (see ``RESULT_DTYPES``) get their dtype back (nullable
    integers and booleans, floats, text as ``object``); ``n_display`` of a public file is
    text; other columns are left as the format stored them.
    """
    fmt = format_for(os.fspath(path), format)
    frame = from_bytes(Path(path).read_bytes(), fmt)
    dtypes = {**RESULT_DTYPES, "n_display": "object"}
    for column in frame.columns:
        if column in dtypes:
            frame[column] = _as(frame[column], dtypes[column])
    if "flags" in frame.columns:  # no flags is "", which CSV and XLSX store as empty
        frame["flags"] = frame["flags"].where(frame["flags"].notna(), "")
    return frame


_BOOLS = {"True": True, "False": False, "true": True, "false": False, True: True, False: False}


def _as(series: pd.Series, dtype: str) -> pd.Series:
    """``series`` (as read from any of the formats) in ``dtype``."""
    if dtype == "object":
        values = series.astype(object)
        return values.where(values.notna(), None)
    if dtype in ("boolean", "bool"):
        mapped = series.astype(object).map(lambda v: _BOOLS.get(v, pd.NA), na_action="ignore")
        return mapped.astype(pandas_dtype(dtype))
    numbers = pd.to_numeric(series.astype(object), errors="raise")
    return numbers.astype(pandas_dtype(dtype))
