"""Record-level police extracts (one row per reported offence): validated records and counts.

An extract names each record's place either by an area code (or name) or by coordinates. With
coordinates, the records are placed in areas with :mod:`tryg.geo`: reprojected to lon/lat if
the extract uses ETRS89 / UTM32 (the Danish police's own system) and matched against the area
polygons given by the caller. Records outside every area, or without coordinates, are not in
the counts and are *reported* (count and first rows), never dropped silently: an extract that
reaches past the municipality, or a batch of failed geocodes, must be visible.

Extracts are large (a national year is millions of rows), so a plain CSV is read column-wise
by pyarrow (:mod:`tryg.readers.columns`) and checked with vectorised operations; the cell
parsers of :mod:`tryg.readers.cells` are applied to distinct values (dates, offences) or to
the cells that failed the vectorised check, so every message is the same as the row-by-row
reader's. Anything the fast path cannot vouch for (blank lines, a quoted cell spanning lines,
XLSX or SPSS files) goes through :func:`tryg.readers.table.load_table`, row by row.

Counts are per (area, quarter, offence) that has records; a combination without records has
no row, which means a count of 0. Each row's index is the first line that contributed to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from tryg import geo
from tryg.index.inputs import mark as _
from tryg.readers.cells import BadCellError, number_column, parse_date, text_column
from tryg.readers.columns import Columns, distinct_cells, numbers
from tryg.readers.report import Collector
from tryg.readers.text import RawTable, cell_text
from tryg.stats.numbering import unique_inverse

COORDINATE_PAIRS = (
    ("longitude", "latitude", geo.WGS84),
    ("lon", "lat", geo.WGS84),
    ("lng", "lat", geo.WGS84),
    ("easting", "northing", geo.UTM32),
    ("x", "y", None),
)
AREA_COLUMNS = ("area_code", "area_name")
SHOWN_ROWS = 10
DENSE_KEYS = 1 << 16  # key combinations always counted in a dense array


@dataclass(frozen=True)
class Unplaced:
    """Records left out of the counts: outside every area, or without coordinates."""

    outside_areas: int = 0
    without_location: int = 0
    rows: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class Records:
    """Validated records, one array element per record, in file order.

    ``lines`` are the file's line numbers; ``dates`` are days; ``offences`` and (when the file
    names places) ``places`` are categoricals of stripped labels. With coordinates, ``lon``
    and ``lat`` are WGS84 (NaN where the record has no location) and ``place_column`` is
    ``None``; ``coordinates`` names the file's two columns (for messages).
    """

    source: str
    lines: NDArray[np.int64]
    dates: NDArray[np.datetime64]
    offences: pd.Categorical[Any]
    places: pd.Categorical[Any] | None = None
    place_column: str | None = None
    lon: NDArray[np.float64] | None = None
    lat: NDArray[np.float64] | None = None
    coordinates: tuple[str, str] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def quarters(self) -> pd.Categorical[Any]:
        """Each record's quarter ("2015Q3") as a categorical."""
        months = self.dates.astype("datetime64[M]").astype(np.int64)
        keys = months // 3  # quarters since 1970Q1
        uniq, inverse = unique_inverse(keys)
        labels = [f"{1970 + int(k) // 4}Q{int(k) % 4 + 1}" for k in uniq]
        return pd.Categorical.from_codes(inverse.astype(np.int32), categories=pd.Index(labels))


def is_records(header: list[str]) -> bool:
    return "date" in header and "offence" in header


def coordinate_columns(header: list[str]) -> tuple[str, str, str | None] | None:
    for x, y, crs in COORDINATE_PAIRS:
        if x in header and y in header:
            return x, y, crs
    return None


def _check_header(header: list[str], header_line: int, out: Collector) -> tuple[
        str | None, tuple[str, str, str | None] | None]:
    for name in ("date", "offence"):
        if name not in header:
            out.error(header_line, name,
                      _("record-level data needs a column %(name)s; the file has %(header)s"),
                      name=repr(name), header=str(header))
    out.raise_if_errors()
    area_column = next((c for c in AREA_COLUMNS if c in header), None)
    pair = coordinate_columns(header)
    if area_column is None and pair is None:
        raise out.fail(header_line, None,
                       _("record-level data needs an 'area_code' or 'area_name' column, or "
                         "coordinates (longitude/latitude, lon/lat, easting/northing or x/y); "
                         "the file has %(header)s"), header=str(header))
    return area_column, (None if area_column is not None else pair)


def needed_columns(header: list[str]) -> list[str] | None:
    """The columns a record-level read uses, or ``None`` if the header lacks them."""
    if not is_records(header):
        return None
    area_column = next((c for c in AREA_COLUMNS if c in header), None)
    pair = coordinate_columns(header)
    if area_column is not None:
        return ["date", "offence", area_column]
    return None if pair is None else ["date", "offence", pair[0], pair[1]]


def records_from_columns(cols: Columns, out: Collector, *, crs: str | None) -> Records:
    """Validated records from columns read by :func:`tryg.readers.columns.read_csv_columns`."""
    area_column, pair = _check_header(cols.header, cols.header_line, out)
    dates = _dates(distinct_cells(cols, "date", out, parse_date))
    offences = _labels(distinct_cells(cols, "offence", out))
    places = (_labels(distinct_cells(cols, area_column, out))
              if area_column is not None else None)
    lon = lat = None
    if pair is not None:
        source_crs = _crs(pair, crs, cols.header_line, out)
        xs = numbers(cols, pair[0], out)
        ys = numbers(cols, pair[1], out)
        out.raise_if_errors()
        lon, lat = _reproject(xs, ys, source_crs, pair[0], out)
    out.raise_if_errors()
    return Records(cols.source, cols.lines, dates, offences, places, area_column, lon, lat,
                   None if pair is None else (pair[0], pair[1]))


def records_from_table(table: RawTable, out: Collector, *, crs: str | None) -> Records:
    """Validated records from a table read row by row (XLSX, SPSS, irregular CSV)."""
    area_column, pair = _check_header(table.header, table.header_line, out)
    day_list: list[Any] = []
    for line, cell in zip(table.lines, table.column("date"), strict=True):
        if cell_text(cell) is None:
            out.error(line, "date", _("this cell is empty"))
            day_list.append(None)
            continue
        try:
            day_list.append(parse_date(cell))
        except BadCellError as exc:
            out.bad_cell(line, "date", exc)
            day_list.append(None)
    offences = text_column(table, "offence", out, required=True)
    places = (text_column(table, area_column, out, required=True)
              if area_column is not None else None)
    lon = lat = None
    if pair is not None:
        source_crs = _crs(pair, crs, table.header_line, out)
        xs = np.array(number_column(table, pair[0], out, required=False))
        ys = np.array(number_column(table, pair[1], out, required=False))
        out.raise_if_errors()
        lon, lat = _reproject(xs, ys, source_crs, pair[0], out)
    out.raise_if_errors()
    return Records(
        table.source, np.asarray(table.lines, dtype=np.int64),
        np.array(day_list, dtype="datetime64[D]"), pd.Categorical(offences),
        None if places is None else pd.Categorical(places), area_column, lon, lat,
        None if pair is None else (pair[0], pair[1]))


def _dates(distinct: tuple[list[Any], NDArray[np.int32]] | None) -> NDArray[np.datetime64]:
    if distinct is None:
        return np.empty(0, dtype="datetime64[D]")
    values, codes = distinct
    days = np.array([*values, None], dtype="datetime64[D]")
    return days[codes]


def _labels(distinct: tuple[list[Any], NDArray[np.int32]] | None) -> pd.Categorical[Any]:
    if distinct is None:
        return pd.Categorical([])
    values, codes = distinct
    # Distinct cells may strip to the same label ("vold" and "vold "): merge them. A bad
    # (empty) cell is an error already; it becomes "" here.
    uniq, inverse = np.unique(np.array(["" if v is None else str(v) for v in values],
                                       dtype=object), return_inverse=True)
    return pd.Categorical.from_codes(inverse.astype(np.int32)[codes],
                                     categories=pd.Index([str(u) for u in uniq]))


def _crs(pair: tuple[str, str, str | None], crs: str | None, header_line: int,
         out: Collector) -> str:
    x_col, y_col, default_crs = pair
    source_crs = crs or default_crs
    if source_crs is None:
        raise out.fail(header_line, x_col,
                       _("coordinates in %(x)s/%(y)s need crs= (e.g. 'EPSG:25832' for "
                         "ETRS89 / UTM32, 'EPSG:4326' for lon/lat)"), x=repr(x_col), y=repr(y_col))
    return source_crs


def _reproject(xs: NDArray[np.float64], ys: NDArray[np.float64], source_crs: str,
               x_col: str, out: Collector) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if geo.is_lonlat(source_crs):
        return xs, ys
    try:
        return geo.reproject(xs, ys, source_crs, geo.WGS84)
    except geo.GeometryError as exc:
        raise out.fail(None, x_col, exc.template, **exc.params) from None


def unplaced(records: Records, index: NDArray[np.intp], out: Collector) -> Unplaced:
    """Report the records with coordinates that ``index`` (area positions, -1 for none) left
    out: a summary warning per kind and the first rows outside every area."""
    if records.lon is None or records.lat is None or records.coordinates is None:
        return Unplaced()
    x_col, y_col = records.coordinates
    where = f"{x_col}/{y_col}"
    lines = records.lines
    missing = np.isnan(records.lon) | np.isnan(records.lat)
    outside = ~missing & (index < 0)
    if missing.any():
        first = ", ".join(str(v) for v in lines[missing][:SHOWN_ROWS])
        out.warn(None, where, _("%(count)s records have no coordinates and are not counted "
                                "(first rows: %(rows)s)"), count=int(missing.sum()), rows=first)
    if outside.any():
        first = ", ".join(str(v) for v in lines[outside][:SHOWN_ROWS])
        out.warn(None, where, _("%(count)s records lie outside every area and are not counted "
                                "(first rows: %(rows)s)"), count=int(outside.sum()), rows=first)
        for i in np.flatnonzero(outside)[:SHOWN_ROWS]:
            out.warn(int(lines[i]), where, _("(%(x)s, %(y)s) lies outside every area"),
                     x=_fmt(records.lon[i]), y=_fmt(records.lat[i]))
    return Unplaced(int(outside.sum()), int(missing.sum()),
                    tuple(int(v) for v in lines[missing | outside]))


def count_records(records: Records, places: pd.Categorical[Any]) -> pd.DataFrame:
    """Counts per (place, quarter, offence) of the records whose place is not missing:
    columns ``place``, ``quarter``, ``offence``, ``count``, ``line`` (the first line), sorted."""
    return count_codes(records, places).frame()


@dataclass(frozen=True, eq=False)
class CodeCounts:
    """:func:`count_records` as category codes: row ``i`` is place ``place_labels[place[i]]``,
    quarter ``quarter_labels[quarter[i]]``, offence ``offence_labels[offence[i]]``."""

    place: NDArray[np.intp]
    quarter: NDArray[np.intp]
    offence: NDArray[np.intp]
    count: NDArray[np.int64]
    line: NDArray[np.int64]
    place_labels: pd.Index
    quarter_labels: pd.Index
    offence_labels: pd.Index

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "place": np.asarray(self.place_labels, dtype=object)[self.place],
            "quarter": np.asarray(self.quarter_labels, dtype=object)[self.quarter],
            "offence": np.asarray(self.offence_labels, dtype=object)[self.offence],
            "count": self.count,
            "line": self.line,
        })


def count_codes(records: Records, places: pd.Categorical[Any]) -> CodeCounts:
    """The rows of :func:`count_records`, in its order, as category codes.

    The key (place, quarter, offence) numbers its combinations in code order. When their
    number is small next to the records' (a national extract: 2,200 areas × 40 quarters × 30
    offences for 4 million records), the counts and first lines are dense arrays over all
    combinations, filled in one pass each (``bincount``, ``minimum.at``) instead of sorting
    the records by key. The rows come out in code order, which is the labels' order when
    each categories index is sorted (as ``pd.Categorical`` makes it); otherwise they are
    sorted by label, as before.
    """
    quarters = records.quarters()
    categories = (places.categories, quarters.categories, records.offences.categories)
    sizes = tuple(len(c) for c in categories)
    codes = [places.codes, quarters.codes, records.offences.codes]
    lines = records.lines
    if (places.codes < 0).any():
        keep = np.flatnonzero(places.codes >= 0)
        codes = [c[keep] for c in codes]
        lines = lines[keep]
    key = np.ravel_multi_index(tuple(c.astype(np.int64) for c in codes), sizes)
    combinations = math.prod(sizes)
    if combinations <= max(DENSE_KEYS, 4 * len(key)):
        all_counts = np.bincount(key, minlength=combinations)
        uniq = np.flatnonzero(all_counts)
        counts = all_counts[uniq]
        first = np.full(combinations, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(first, key, lines)
        first_lines = first[uniq]
    else:
        uniq, counts = np.unique(key, return_counts=True)
        first_lines = (np.minimum.reduceat(lines[np.argsort(key, kind="stable")],
                                           np.r_[0, np.cumsum(counts)[:-1]])
                       if len(uniq) else np.empty(0, dtype=np.int64))
    p, q, o = np.unravel_index(uniq, sizes)
    if not all(c.is_monotonic_increasing for c in categories):
        # Codes are not in the labels' order: sort by label as pandas does (stable).
        order = pd.DataFrame({
            "place": np.asarray(categories[0], dtype=object)[p],
            "quarter": np.asarray(categories[1], dtype=object)[q],
            "offence": np.asarray(categories[2], dtype=object)[o],
        }).sort_values(["place", "quarter", "offence"], kind="stable").index.to_numpy()
        p, q, o, counts, first_lines = p[order], q[order], o[order], counts[order], \
            first_lines[order]
    return CodeCounts(p, q, o, counts.astype(np.int64), np.asarray(first_lines, dtype=np.int64),
                      *categories)


def records_counts(
    records: Records, out: Collector, *, areas_geometry: geo.AreaGeometry | None
) -> tuple[pd.DataFrame, Unplaced]:
    """Quarterly counts from records (``area_code`` or ``area_name``, quarter, offence,
    count; indexed by first line), and the records left out."""
    info = Unplaced()
    if records.places is not None:
        places = records.places
        column = records.place_column or "area_code"
    else:
        if areas_geometry is None:
            raise out.fail(None, None, _("the records have coordinates: pass areas_geometry "
                                         "(the area polygons) to place them in areas"))
        assert records.lon is not None and records.lat is not None
        index = geo.area_index(areas_geometry, records.lon, records.lat)
        info = unplaced(records, index, out)
        places = pd.Categorical.from_codes(index.astype(np.int32),
                                           categories=pd.Index(list(areas_geometry.codes)))
        column = "area_code"
    frame = count_records(records, places).rename(columns={"place": column})
    counts = frame.set_index(pd.Index(frame["line"].to_numpy(), name="line")).drop(
        columns="line")
    return counts, info


def place_codes(records: Records, index: NDArray[np.intp], codes: tuple[str, ...]) -> list[
        str | None]:
    """Area codes of the records (``None`` outside every area)."""
    table = np.array([*codes, None], dtype=object)
    return list(table[np.where(index >= 0, index, len(codes))])


def _fmt(value: float) -> str:
    return "NaN" if math.isnan(value) else f"{value:.6g}"
