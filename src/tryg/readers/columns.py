"""A fast, column-wise way in for large, plain CSV files (pyarrow), with row-exact messages.

:func:`tryg.readers.text.parse_csv` keeps every cell as Python text, which is right for a
survey export and too slow for a police extract of millions of rows. Here pyarrow reads the
columns a reader asks for, all as text (so codes keep their leading zeros), in parallel.

The row number of a cell must still be its line in the file. That holds exactly when every
record is one line and no line is blank, which is checked by counting the line breaks; a file
that fails the check (or that pyarrow refuses: ragged rows, bytes that are not UTF-8) is not
read here, and the caller falls back to the row-by-row reader, which then reports the problem
exactly. Values are checked with vectorised operations where that is exact, and otherwise with
the cell parsers of :mod:`tryg.readers.cells` on the distinct values or on the failing cells
only, so the messages are the same as the row-by-row reader's.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from tryg.index.inputs import mark as _
from tryg.readers.cells import BadCellError, parse_number
from tryg.readers.report import Collector
from tryg.readers.table import CSV_SUFFIXES
from tryg.readers.text import cell_text, sniff_delimiter

UTF8_NAMES = frozenset({"utf-8", "utf8", "utf-8-sig", "utf_8"})


@dataclass(frozen=True, eq=False)
class Columns:
    """Text columns of a CSV file (header names after renaming), one line per record."""

    source: str
    header: list[str]
    arrays: dict[str, pa.Array]
    lines: NDArray[np.int64]
    decimal_comma: bool
    header_line: int = 1
    encoded: dict[str, pa.DictionaryArray] = field(default_factory=dict)


def read_csv_columns(
    path: str | Path,
    data: bytes,
    *,
    encoding: str | None,
    columns: Mapping[str, str],
    wanted: Callable[[list[str]], list[str] | None],
    max_rows: int | None = None,
) -> Columns | None:
    """The columns ``wanted(header)`` of a CSV file, or ``None`` when this fast path cannot
    read the file exactly (the caller then uses the row-by-row reader).

    ``columns`` renames file columns as :func:`tryg.readers.cells.rename_columns` does;
    ``wanted`` gets the renamed header and returns the columns to read (``None``: not here).
    A file with more lines than ``max_rows`` is not read here either: the row-by-row reader
    counts its records exactly and refuses it before keeping them.
    """
    if Path(path).suffix.lower() not in CSV_SUFFIXES:
        return None
    if encoding is not None and codecs.lookup(encoding).name not in UTF8_NAMES:
        return None
    if b"\x00" in data:
        return None  # NUL is no text: the row-by-row reader refuses it with its line
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    end = data.find(b"\n", start)
    if end < 0:
        return None
    try:
        first = data[start:end].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    if not first.strip() or "\r" in first or first.count('"') % 2:
        return None  # a header cell spanning lines, or odd: the row-by-row reader's business
    delimiter = sniff_delimiter(first)
    try:
        raw = next(csv.reader([first], delimiter=delimiter))
    except (csv.Error, StopIteration):
        return None
    header = [cell_text(h) or "" for h in raw]
    if "" in header or len(set(header)) != len(header) or not set(columns) <= set(header):
        return None
    renamed = [columns.get(h, h) for h in header]
    if len(set(renamed)) != len(renamed):
        return None
    needed = wanted(renamed)
    if not needed:
        return None
    breaks = data.count(b"\n", end + 1)
    physical = breaks + (0 if data.endswith(b"\n") else 1)
    if max_rows is not None and physical > max_rows:
        return None
    try:
        table = pacsv.read_csv(
            pa.BufferReader(memoryview(data)[end + 1:]),
            read_options=pacsv.ReadOptions(column_names=renamed),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                include_columns=needed, column_types={c: pa.string() for c in needed},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    rows = table.num_rows
    if rows == 0 or physical != rows:
        return None  # blank lines or cells spanning lines: row numbers would shift
    arrays = {c: table.column(c).combine_chunks() for c in needed}
    first_column = pc.dictionary_encode(arrays[needed[0]])
    if any(cell_text(v) is None for v in first_column.dictionary.to_pylist()):
        blank = None
        for array in arrays.values():
            empty = pc.equal(pc.utf8_trim_whitespace(array), "")
            blank = empty if blank is None else pc.and_(blank, empty)
        if blank is not None and pc.any(blank).as_py():
            return None  # a row with nothing in the used columns: the row reader decides
    return Columns(str(path), renamed, arrays, np.arange(2, rows + 2, dtype=np.int64),
                   decimal_comma=delimiter == ";", encoded={needed[0]: first_column})


def distinct_cells(
    cols: Columns, column: str, out: Collector, parse: Callable[[str], Any] | None = None
) -> tuple[list[Any], NDArray[np.int32]] | None:
    """Each distinct cell of ``column`` stripped (and parsed by ``parse``), and every row's
    position in that list. An empty cell, or one ``parse`` rejects, is an error at every row
    that has it; its value is ``None``."""
    if column not in cols.arrays:
        return None
    encoded = cols.encoded.get(column) or pc.dictionary_encode(cols.arrays[column])
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int32, copy=False)
    values: list[Any] = []
    bad: list[tuple[int, BadCellError]] = []
    for k, cell in enumerate(encoded.dictionary.to_pylist()):
        text = cell_text(cell)
        if text is None:
            bad.append((k, BadCellError(_("this cell is empty"))))
            values.append(None)
            continue
        try:
            values.append(parse(text) if parse is not None else text)
        except BadCellError as exc:
            bad.append((k, exc))
            values.append(None)
    for k, problem in bad:
        for i in np.flatnonzero(codes == k):
            out.bad_cell(int(cols.lines[i]), column, problem)
    return values, codes


def numbers(cols: Columns, column: str, out: Collector) -> NDArray[np.float64]:
    """Finite numbers, NaN for an empty cell; anything else is an error naming the row."""
    array = cols.arrays[column]
    empty = pc.equal(array, "")  # a blank cell with spaces goes to the cell parser below
    text = pc.if_else(empty, pa.scalar(None, pa.string()), array)
    try:
        if cols.decimal_comma:
            # "1.500" in a semicolon file: let the cell parser say it is ambiguous.
            if pc.any(pc.match_substring_regex(text, r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+$")).as_py():
                raise pa.ArrowInvalid("ambiguous")
            text = pc.replace_substring(text, ",", ".")
        values = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
        values = np.asarray(values, dtype=np.float64)
        if np.isinf(values).any() or (np.isnan(values) & ~empty.to_numpy(
                zero_copy_only=False)).any():
            raise pa.ArrowInvalid("not finite")  # "nan", "inf": let the cell parser name them
        return values
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _numbers_by_cell(cols, column, out)


def _numbers_by_cell(cols: Columns, column: str, out: Collector) -> NDArray[np.float64]:
    cells = cols.arrays[column].to_pylist()
    values = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        if cell_text(cell) is None:
            continue
        try:
            values[i] = parse_number(cell, decimal_comma=cols.decimal_comma)
        except BadCellError as exc:
            out.bad_cell(int(cols.lines[i]), column, exc)
    return values
