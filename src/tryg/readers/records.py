"""Record-level police extracts (one row per reported offence) into quarterly counts.

An extract names each record's place either by an area code (or name) or by coordinates. With
coordinates, the records are placed in areas with :mod:`tryg.geo`: reprojected to lon/lat if
the extract uses ETRS89 / UTM32 (the Danish police's own system) and matched against the area
polygons given by the caller. Records outside every area, or without coordinates, are not in
the counts and are *reported* (count and first rows), never dropped silently: an extract that
reaches past the municipality, or a batch of failed geocodes, must be visible.

Counts are per (area, quarter, offence) that has records; a combination without records has
no row, which means a count of 0. Each row's index is the first line that contributed to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tryg import geo
from tryg.readers.cells import BadCellError, number_column, parse_date, quarter_of, text_column
from tryg.readers.report import Collector
from tryg.readers.text import RawTable, cell_text

COORDINATE_PAIRS = (
    ("longitude", "latitude", geo.WGS84),
    ("lon", "lat", geo.WGS84),
    ("lng", "lat", geo.WGS84),
    ("easting", "northing", geo.UTM32),
    ("x", "y", None),
)
SHOWN_ROWS = 10


@dataclass(frozen=True)
class Unplaced:
    """Records left out of the counts: outside every area, or without coordinates."""

    outside_areas: int = 0
    without_location: int = 0
    rows: tuple[int, ...] = ()


def is_records(header: list[str]) -> bool:
    return "date" in header and "offence" in header


def coordinate_columns(header: list[str]) -> tuple[str, str, str | None] | None:
    for x, y, crs in COORDINATE_PAIRS:
        if x in header and y in header:
            return x, y, crs
    return None


def _quarters(table: RawTable, out: Collector) -> list[str | None]:
    quarters: list[str | None] = []
    for line, cell in zip(table.lines, table.column("date"), strict=True):
        if cell_text(cell) is None:
            out.error(line, "date", "this cell is empty")
            quarters.append(None)
            continue
        try:
            quarters.append(quarter_of(parse_date(cell)))
        except BadCellError as exc:
            out.error(line, "date", str(exc))
            quarters.append(None)
    return quarters


def records_counts(
    table: RawTable,
    out: Collector,
    *,
    areas_geometry: geo.AreaGeometry | None,
    crs: str | None,
) -> tuple[pd.DataFrame, Unplaced]:
    """Quarterly counts from records, and the records left out."""
    for name in ("date", "offence"):
        if name not in table.header:
            out.error(table.header_line, name,
                      f"record-level data needs a column {name!r}; the file has {table.header}")
    out.raise_if_errors()
    area_column = next((c for c in ("area_code", "area_name") if c in table.header), None)
    pair = coordinate_columns(table.header)
    if area_column is None and pair is None:
        raise out.fail(table.header_line, None,
                       "record-level data needs an 'area_code' or 'area_name' column, or "
                       "coordinates (longitude/latitude, lon/lat, easting/northing or x/y); "
                       f"the file has {table.header}")
    if area_column is None and areas_geometry is None:
        raise out.fail(table.header_line, None,
                       "the records have coordinates: pass areas_geometry (the area polygons) "
                       "to place them in areas")
    quarters = _quarters(table, out)
    offences = text_column(table, "offence", out, required=True)
    unplaced = Unplaced()
    if area_column is not None:
        areas = text_column(table, area_column, out, required=True)
        out_column = area_column
    else:
        assert pair is not None and areas_geometry is not None
        areas, unplaced = _place(table, out, pair, crs, areas_geometry)
        out_column = "area_code"
    out.raise_if_errors()
    frame = pd.DataFrame(
        {out_column: areas, "quarter": quarters, "offence": offences, "line": table.lines}
    )
    frame = frame[frame[out_column].notna()]
    grouped = (
        frame.groupby([out_column, "quarter", "offence"], sort=True)
        .agg(count=("line", "size"), line=("line", "min"))
        .reset_index()
    )
    grouped["count"] = grouped["count"].astype("int64")
    counts = grouped.set_index(pd.Index(grouped["line"].to_numpy(), name="line")).drop(
        columns="line"
    )
    return counts, unplaced


def _place(
    table: RawTable,
    out: Collector,
    pair: tuple[str, str, str | None],
    crs: str | None,
    layer: geo.AreaGeometry,
) -> tuple[list[str | None], Unplaced]:
    x_col, y_col, default_crs = pair
    source_crs = crs or default_crs
    if source_crs is None:
        raise out.fail(table.header_line, x_col,
                       f"coordinates in {x_col!r}/{y_col!r} need crs= (e.g. 'EPSG:25832' for "
                       "ETRS89 / UTM32, 'EPSG:4326' for lon/lat)")
    xs = np.array(number_column(table, x_col, out, required=False))
    ys = np.array(number_column(table, y_col, out, required=False))
    out.raise_if_errors()
    try:
        lon, lat = geo.reproject(xs, ys, source_crs, geo.WGS84)
    except geo.GeometryError as exc:
        raise out.fail(None, x_col, str(exc)) from None
    codes = geo.assign_points(layer, lon, lat)
    lines = np.asarray(table.lines)
    missing = np.isnan(xs) | np.isnan(ys)
    outside = ~missing & np.array([c is None for c in codes], dtype=bool)
    if missing.any():
        first = ", ".join(str(v) for v in lines[missing][:SHOWN_ROWS])
        out.warn(None, f"{x_col}/{y_col}",
                 f"{int(missing.sum())} records have no coordinates and are not counted "
                 f"(first rows: {first})")
    if outside.any():
        first = ", ".join(str(v) for v in lines[outside][:SHOWN_ROWS])
        out.warn(None, f"{x_col}/{y_col}",
                 f"{int(outside.sum())} records lie outside every area and are not counted "
                 f"(first rows: {first})")
        for i in np.flatnonzero(outside)[:SHOWN_ROWS]:
            out.warn(int(lines[i]), f"{x_col}/{y_col}",
                     f"({_fmt(xs[i])}, {_fmt(ys[i])}) lies outside every area")
    info = Unplaced(int(outside.sum()), int(missing.sum()),
                    tuple(int(v) for v in lines[missing | outside]))
    return [None if c is None else str(c) for c in codes], info


def _fmt(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:.6g}"
