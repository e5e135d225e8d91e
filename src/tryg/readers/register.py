"""Reported offences into a :class:`~tryg.index.inputs.RegisterInput` of quarterly counts.

Three shapes arrive in practice, told apart by the header (or by ``format``):

``counts``
    already aggregated: ``area_code`` (or ``area_name``), ``quarter`` (or ``year`` plus
    ``quarter`` 1–4), ``offence``, ``count``;
``records``
    one row per offence: ``date``, ``offence`` and ``area_code``/``area_name`` or coordinates
    (see :mod:`tryg.readers.records`);
``straf11``
    Statistics Denmark's STRAF11 export, wide (see :mod:`tryg.readers.statbank`).

Counts read from names (STRAF11, or a file with ``area_name``) carry ``area_name`` instead of
``area_code``: names are matched to codes afterwards by
:func:`tryg.index.areas.reconcile_names`, which also separates aggregate rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from tryg import geo
from tryg.index.inputs import Problem, RegisterInput
from tryg.index.inputs import mark as _
from tryg.readers.cells import (
    BadCellError,
    integer_column,
    parse_integer,
    parse_quarter,
    rename_columns,
    text_column,
)
from tryg.readers.columns import read_csv_columns
from tryg.readers.limits import DEFAULT_LIMITS, Limits
from tryg.readers.records import (
    Records,
    Unplaced,
    is_records,
    needed_columns,
    records_counts,
    records_from_columns,
    records_from_table,
)
from tryg.readers.report import Collector, RegisterReport
from tryg.readers.statbank import is_straf11, statbank_fallback, straf11_counts
from tryg.readers.table import PathLike, load_table, read_bytes
from tryg.readers.text import RawTable, cell_text

RegisterFormat = Literal["auto", "counts", "records", "straf11"]
FORMATS = ("auto", "counts", "records", "straf11")


@dataclass(frozen=True, eq=False)
class RegisterData:
    """A register file read and checked, before records are placed in areas.

    ``kind`` is the format read; ``records`` holds record-level data (``kind == "records"``),
    ``counts`` aggregated data (``area_code`` or ``area_name``, ``quarter``, ``offence``,
    ``count``; indexed by line).
    """

    source: str
    kind: str
    rows_read: int
    warnings: list[Problem]
    encoding: str | None
    records: Records | None = None
    counts: pd.DataFrame | None = None


def load_register(
    path: PathLike,
    *,
    format: RegisterFormat = "auto",
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    crs: str | None = None,
    sheet: str | int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RegisterData:
    """Read and check a register file (see :func:`read_register`); records stay records."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {format!r}")
    mapping = dict(columns or {})
    if format in ("auto", "records"):
        data, source = read_bytes(path)

        def wanted(header: list[str]) -> list[str] | None:
            if format == "auto" and (is_straf11(header) or "count" in header):
                return None
            return needed_columns(header)

        cols = read_csv_columns(path, data, encoding=encoding, columns=mapping, wanted=wanted,
                                max_rows=limits.max_rows)
        del data
        if cols is not None:
            out = Collector(source)
            records = records_from_columns(cols, out, crs=crs)
            return RegisterData(source, "records", len(records), out.warnings, "utf-8",
                                records=records)
    table = load_table(path, sheet=sheet, encoding=encoding, fallback=statbank_fallback,
                       limits=limits)
    out = Collector(table.source)
    rename_columns(table, mapping, out)
    out.raise_if_errors()
    kind = _detect(table, out) if format == "auto" else format
    if not table.rows:
        raise out.fail(None, None, _("the file has a header but no data rows"))
    result = RegisterData(table.source, kind, len(table.rows), out.warnings, table.encoding)
    if kind == "straf11":
        if not is_straf11(table.header):
            raise out.fail(table.header_line, None,
                           _("not a STRAF11 export: the header must be REGION, TYPE OF OFFENCE "
                             "and quarters such as 2007Q1; it is %(header)s"),
                           header=str(table.header[:4]))
        counts, _lines = straf11_counts(table, out)
    elif kind == "records":
        records = records_from_table(table, out, crs=crs)
        return RegisterData(table.source, kind, len(table.rows), out.warnings, table.encoding,
                            records=records)
    else:
        counts = _counts(table, out)
    out.raise_if_errors()
    counts.attrs["source"] = table.source
    return RegisterData(result.source, kind, result.rows_read, out.warnings, result.encoding,
                        counts=counts)


def read_register(
    path: PathLike,
    *,
    format: RegisterFormat = "auto",
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    areas_geometry: geo.AreaGeometry | None = None,
    crs: str | None = None,
    sheet: str | int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[RegisterInput, RegisterReport]:
    """Read register data as quarterly counts per area and offence.

    ``columns`` maps file names to the names above (e.g. ``{"category": "offence"}``);
    ``areas_geometry`` places record coordinates in areas; ``crs`` is the coordinates'
    reference system when it is not implied by the column names (lon/lat → WGS84,
    easting/northing → ETRS89 / UTM32). ``limits``: see :mod:`tryg.readers.limits`.
    """
    data = load_register(path, format=format, encoding=encoding, columns=columns, crs=crs,
                         sheet=sheet, limits=limits)
    unplaced = Unplaced()
    used = data.rows_read
    if data.records is not None:
        out = Collector(data.source)
        out.warnings.extend(data.warnings)
        counts, unplaced = records_counts(data.records, out, areas_geometry=areas_geometry)
        warnings = out.warnings
        used = data.rows_read - unplaced.outside_areas - unplaced.without_location
    else:
        assert data.counts is not None
        counts, warnings = data.counts, data.warnings
    counts.attrs["source"] = data.source
    report = RegisterReport(
        data.source, data.rows_read, used, warnings, data.encoding,
        outside_areas=unplaced.outside_areas,
        without_location=unplaced.without_location,
        unplaced_rows=unplaced.rows,
    )
    return RegisterInput(counts), report


def _detect(table: RawTable, out: Collector) -> str:
    if is_straf11(table.header):
        return "straf11"
    if "count" in table.header:
        return "counts"
    if is_records(table.header):
        return "records"
    raise out.fail(table.header_line, None,
                   _("cannot tell the register format from the header %(header)s: expected "
                     "counts (area_code, quarter, offence, count), records (date, offence, "
                     "area_code or coordinates) or a STRAF11 export (REGION, TYPE OF OFFENCE, "
                     "2007Q1, ...)"), header=str(table.header[:8]))


def _counts(table: RawTable, out: Collector) -> pd.DataFrame:
    area_column = next((c for c in ("area_code", "area_name") if c in table.header), None)
    needed = ["offence", "count"] + ([] if area_column else ["area_code"])
    if "quarter" not in table.header:
        needed.append("quarter")
    for name in needed:
        if name not in table.header:
            out.error(table.header_line, name,
                      _("register counts need a column %(name)s; the file has %(header)s"),
                      name=repr(name), header=str(table.header))
    out.raise_if_errors()
    assert area_column is not None
    areas = text_column(table, area_column, out, required=True)
    offences = text_column(table, "offence", out, required=True)
    quarters = _quarter_column(table, out)
    counts = integer_column(table, "count", out, non_negative=True)
    first: dict[tuple[str | None, str | None, str | None], int] = {}
    for line, key in zip(table.lines, zip(areas, quarters, offences, strict=True), strict=True):
        if None in key:
            continue
        if key in first:
            out.error(line, "count", _("%(key)s appears twice: rows %(first)s and %(row)s"),
                      key=f"{key[0]!r} / {key[1]} / {key[2]!r}", first=first[key], row=line)
        else:
            first[key] = line
    frame = pd.DataFrame(
        {area_column: areas, "quarter": quarters, "offence": offences,
         "count": pd.array(counts, dtype="int64")},
        index=pd.Index(table.lines, name="line"),
    )
    return frame


def _quarter_column(table: RawTable, out: Collector) -> list[str | None]:
    """Quarters from ``quarter`` ("2015Q3") or from ``year`` plus ``quarter`` (3, "Q3")."""
    years = integer_column(table, "year", out, years=True) if "year" in table.header else None
    quarters: list[str | None] = []
    for i, (line, cell) in enumerate(zip(table.lines, table.column("quarter"), strict=True)):
        text = cell_text(cell)
        try:
            if text is None:
                raise BadCellError(_("this cell is empty"))
            if years is None:
                quarters.append(parse_quarter(text))
                continue
            q = parse_integer(text.upper().removeprefix("Q").removeprefix("K"))
            if not 1 <= q <= 4:
                raise BadCellError(_("%(value)s is not a quarter 1-4"), value=repr(text))
            quarters.append(f"{years[i]}Q{q}")
        except BadCellError as exc:
            out.bad_cell(line, "quarter", exc)
            quarters.append(None)
    return quarters
