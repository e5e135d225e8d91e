"""Population figures into a :class:`~tryg.index.inputs.PopulationInput`.

Accepted shapes, told apart by the header:

* generic: ``area_code`` (or ``area_name``), ``year``, ``population``, optional ``sex`` and
  ``age_group`` (then one row per cell);
* the FOLK1A-derived table in shared data: ``municipality, year, population``: kommune names
  and yearly averages of the quarterly counts, so fractional populations are expected;
* a StatBank FOLK1A export in long form: ``OMRÅDE`` (or ``REGION``), optional ``KØN``/``SEX``
  and ``ALDER``/``AGE``, ``TID``/``TIME`` ("2023K1", "2023Q1" or "2023") and ``INDHOLD``
  (the value). Quarterly figures are averaged over each year, as FOLK1A users usually do;
  "I alt"/"Total" sex and age labels mean "no breakdown".

Names are matched to area codes later (:func:`tryg.index.areas.reconcile_names`), so tables
read from names carry ``area_name`` instead of ``area_code``.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

import pandas as pd

from tryg.index.inputs import PopulationInput
from tryg.index.inputs import mark as _
from tryg.readers.cells import (
    BadCellError,
    integer_column,
    number_column,
    parse_integer,
    parse_quarter,
    rename_columns,
    shown,
    text_column,
)
from tryg.readers.limits import DEFAULT_LIMITS, Limits
from tryg.readers.report import Collector, ReadReport
from tryg.readers.statbank import statbank_fallback
from tryg.readers.table import PathLike, load_table
from tryg.readers.text import RawTable, cell_text

NAME_COLUMNS = {"municipality": "area_name", "kommune": "area_name"}
STATBANK = {
    "område": "area_name",
    "region": "area_name",
    "køn": "sex",
    "sex": "sex",
    "alder": "age_group",
    "age": "age_group",
    "tid": "time",
    "time": "time",
    "indhold": "population",
    "content": "population",
}
TOTAL_LABELS = frozenset({"i alt", "total", "alder i alt", "age, total", "køn i alt"})
CELLS = ("sex", "age_group")


def read_population(
    path: PathLike,
    *,
    encoding: str | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[PopulationInput, ReadReport]:
    """Read population figures per area and year (and optionally sex × age group).

    ``columns`` maps the file's names to contract names; when given, it replaces the built-in
    names for the FOLK1A-derived and StatBank layouts.
    """
    table = load_table(path, sheet=sheet, encoding=encoding, fallback=statbank_fallback,
                       limits=limits)
    out = Collector(table.source)
    mapping = dict(columns or {})
    if not mapping:
        mapping = _default_names(table.header)
    rename_columns(table, mapping, out)
    out.raise_if_errors()
    area_column = next((c for c in ("area_code", "area_name") if c in table.header), None)
    if area_column is None:
        out.error(table.header_line, "area_code",
                  _("the population table needs an 'area_code' or 'area_name' column; the "
                    "file has %(header)s"), header=str(table.header))
    statbank = "time" in table.header
    value_columns = ("time", "population") if statbank else ("year", "population")
    for name in value_columns:
        if name not in table.header:
            out.error(table.header_line, name,
                      _("the population table needs a column %(name)s; the file has "
                        "%(header)s"), name=repr(name), header=str(table.header))
    out.raise_if_errors()
    if not table.rows:
        raise out.fail(None, None, _("the file has a header but no data rows"))
    assert area_column is not None
    data: dict[str, list[object]] = {
        area_column: list(text_column(table, area_column, out, required=True))
    }
    years = _years(table, out) if statbank else integer_column(table, "year", out, years=True)
    data["year"] = list(years)
    data["population"] = list(
        number_column(table, "population", out, required=True, non_negative=True)
    )
    for name in CELLS:
        if name in table.header:
            cells = text_column(table, name, out, required=False)
            data[name] = [None if c is not None and _label(c) in TOTAL_LABELS else c
                          for c in cells]
    frame = pd.DataFrame(data, index=pd.Index(table.lines, name="line"))
    if statbank:
        out.raise_if_errors()  # periods must parse before they can be averaged
        frame = _yearly(frame, area_column)
    _check_duplicates(frame, area_column, out)
    out.raise_if_errors()
    frame["year"] = frame["year"].astype("int64")
    frame["population"] = frame["population"].astype("float64")
    frame.attrs["source"] = table.source
    report = ReadReport(table.source, len(table.rows), len(table.rows), out.warnings,
                        table.encoding)
    return PopulationInput(frame), report


def _label(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def _default_names(header: list[str]) -> dict[str, str]:
    """File names → contract names for the known layouts (FOLK1A-derived, StatBank)."""
    if {_label(h) for h in header} & {"tid", "time"}:
        return {h: STATBANK[_label(h)] for h in header if _label(h) in STATBANK}
    return {h: NAME_COLUMNS[h] for h in header if h in NAME_COLUMNS}


def _years(table: RawTable, out: Collector) -> list[tuple[int, str]]:
    """(year, period) from StatBank periods "2023K1" / "2023Q1" / "2023"."""
    periods: list[tuple[int, str]] = []
    for line, cell in zip(table.lines, table.column("time"), strict=True):
        text = cell_text(cell) or ""
        try:
            if len(text) == 4:
                year = parse_integer(text)
                if not 1800 <= year <= 2200:
                    raise BadCellError(_("%(value)s is not a plausible year"), value=shown(text))
                periods.append((year, text))
            else:
                quarter = parse_quarter(text)
                periods.append((int(quarter[:4]), quarter))
        except BadCellError:
            out.error(line, "time", _("%(value)s is not a year or a quarter such as 2023K1"),
                      value=shown(text))
            periods.append((0, ""))
    return periods


def _yearly(frame: pd.DataFrame, area_column: str) -> pd.DataFrame:
    """Average the periods of each year (one row per area, year and cell)."""
    frame = frame.assign(
        period=[p for _, p in frame["year"]], year=[y for y, _ in frame["year"]], line=frame.index
    )
    keys = [area_column, "year"] + [c for c in CELLS if c in frame.columns]
    grouped = (
        frame.groupby(keys, sort=True, dropna=False)
        .agg(population=("population", "mean"), line=("line", "min"))
        .reset_index()
    )
    return grouped.set_index(pd.Index(grouped["line"].to_numpy(), name="line")).drop(
        columns="line"
    )


def _check_duplicates(frame: pd.DataFrame, area_column: str, out: Collector) -> None:
    keys = [area_column, "year"] + [c for c in CELLS if c in frame.columns]
    first: dict[tuple[object, ...], int] = {}
    for line, key in zip(frame.index, frame[keys].itertuples(index=False, name=None),
                         strict=True):
        norm = tuple(None if pd.isna(k) else k for k in key)
        if norm in first:
            out.error(int(line), "population",
                      _("%(key)s appears twice: rows %(first)s and %(row)s"),
                      key=" / ".join(map(repr, norm)), first=first[norm], row=int(line))
        else:
            first[norm] = int(line)
