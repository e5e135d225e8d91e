"""Areas and their hierarchy into :class:`~tryg.index.inputs.Areas`, with polygons if wanted.

Two kinds of file:

* a CSV hierarchy: ``code, name, level`` plus optional ``parent, valid_from, valid_to``; an
  area with several parents (a district and, some years, a vulnerable housing area) has one
  row per parent, and its name and level must agree across them;
* a boundary file, GeoJSON, TopoJSON, GeoPackage or Shapefile (also zipped): one area per
  distinct code property, parts (islands) dissolved into one polygon. The file's coordinate
  reference system (a GeoJSON ``crs`` member, the GeoPackage's, the ``.prj``'s) is
  detected and the polygons are reprojected to WGS84. DAGI's layers are recognised by their
  property names (KOMKODE, SOGNEKODE, POSTNR_TXT, POLKR_NR, ...) and get a default level; any
  other layer needs ``code``, ``name`` and ``level``.

:func:`read_area_geometry` also returns the polygons (:class:`tryg.geo.AreaGeometry`, WGS84),
for placing coordinates in areas and for :func:`tryg.geo.contained_in`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from tryg import geo
from tryg.index.inputs import LINK_COLUMNS, Areas, InputError
from tryg.index.inputs import mark as _
from tryg.readers import unreadable
from tryg.readers.cells import integer_column, rename_columns, text_column
from tryg.readers.limits import DEFAULT_LIMITS, Limits, too_many_rows
from tryg.readers.report import Collector, ReadReport
from tryg.readers.table import PathLike, load_table, read_bytes
from tryg.readers.text import RawTable, cell_text, decode
from tryg.readers.vector import VECTOR_SUFFIXES, read_vector_features

JSON_SUFFIXES = frozenset({".geojson", ".json", ".topojson"})
GEO_SUFFIXES = JSON_SUFFIXES | VECTOR_SUFFIXES
# DAGI layers: code property, name property, default level.
KNOWN_LAYERS = (
    ("KOMKODE", "KOMNAVN", "kommune"),
    ("SOGNEKODE", "SOGNENAVN", "sogn"),
    ("POSTNR_TXT", "POSTBYNAVN", "postnummer"),
    ("POLKR_NR", "POLKR_NAVN", "politikreds"),
    ("REGIONKODE", "REGIONNAVN", "region"),
    ("code", "name", None),
)


def read_areas(
    path: PathLike,
    *,
    code: str | None = None,
    name: str | None = None,
    level: str | None = None,
    parent: str | None = None,
    encoding: str | None = None,
    missing_codes: Mapping[str, str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Areas, ReadReport]:
    """Read areas from a CSV hierarchy or a boundary file (GeoJSON, TopoJSON, GPKG, SHP).

    ``code``, ``name`` and ``parent`` name the file's columns (CSV) or properties (GeoJSON)
    when they differ from ``code``/``name``/``parent`` (or from DAGI's names); ``level`` is
    the level of every area when the file has no ``level`` column (always so for a boundary
    file). ``missing_codes``: see :func:`read_area_geometry`.
    """
    if Path(path).suffix.lower() in GEO_SUFFIXES:
        areas, _geometry, report = read_area_geometry(path, code=code, name=name, level=level,
                                              parent=parent, missing_codes=missing_codes,
                                              limits=limits)
        return areas, report
    return _read_csv(path, code=code, name=name, level=level, parent=parent, encoding=encoding,
                     limits=limits)


def _read_csv(
    path: PathLike,
    *,
    code: str | None,
    name: str | None,
    level: str | None,
    parent: str | None,
    encoding: str | None,
    limits: Limits,
) -> tuple[Areas, ReadReport]:
    table = load_table(path, encoding=encoding, limits=limits)
    out = Collector(table.source)
    mapping = {k: v for k, v in ((code, "code"), (name, "name"), (parent, "parent")) if k}
    rename_columns(table, mapping, out)
    out.raise_if_errors()
    if "level" not in table.header and level is not None:
        table.header.append("level")
        for row in table.rows:
            row.append(level)
    for column in ("code", "name", "level"):
        if column not in table.header:
            out.error(table.header_line, column,
                      _("the area list needs a column %(name)s; the file has %(header)s"),
                      name=repr(column), header=str(table.header))
    out.raise_if_errors()
    if not table.rows:
        raise out.fail(None, None, _("the file has a header but no areas"))
    codes = text_column(table, "code", out, required=True)
    names = text_column(table, "name", out, required=True)
    levels = text_column(table, "level", out, required=True)
    parents = (text_column(table, "parent", out, required=False) if "parent" in table.header
               else [None] * len(codes))
    valid = {c: _years(table, c, out) for c in ("valid_from", "valid_to")}
    areas: dict[str, tuple[int, str | None, str | None]] = {}
    links: list[tuple[int, str, str, float, float]] = []
    for i, line in enumerate(table.lines):
        c = codes[i]
        if c is None:
            continue
        if c in areas:
            first, first_name, first_level = areas[c]
            for column, value, before in (("name", names[i], first_name),
                                          ("level", levels[i], first_level)):
                if value is not None and before is not None and value != before:
                    out.error(line, column,
                              _("area %(code)s has %(column)s %(value)s here but %(before)s "
                                "in row %(first)s"), code=repr(c), column=column,
                              value=repr(value), before=repr(before), first=first)
        else:
            areas[c] = (line, names[i], levels[i])
        lo, hi = valid["valid_from"][i], valid["valid_to"][i]
        if parents[i] is not None:
            if parents[i] == c:
                out.error(line, "parent", _("area %(code)s cannot be its own parent"),
                          code=repr(c))
            if not np.isnan(lo) and not np.isnan(hi) and lo > hi:
                out.error(line, "valid_to",
                          _("valid_to %(to)s is before valid_from %(since)s"),
                          to=int(hi), since=int(lo))
            links.append((line, c, str(parents[i]), lo, hi))
        elif not (np.isnan(lo) and np.isnan(hi)):
            out.warn(line, "valid_from", _("validity years without a parent are ignored"))
    unknown = sorted({p for _, _, p, _, _ in links if p not in areas})
    if unknown:
        out.warn(None, "parent", _("parents not defined in this file: %(codes)s"),
                 codes=str(unknown[:20]))
    out.raise_if_errors()
    area_frame = pd.DataFrame(
        {"code": list(areas), "name": [v[1] for v in areas.values()],
         "level": [v[2] for v in areas.values()]},
        index=pd.Index([v[0] for v in areas.values()], name="line"),
    )
    link_frame = pd.DataFrame(
        {"code": [lk[1] for lk in links], "parent": [lk[2] for lk in links],
         "valid_from": [lk[3] for lk in links], "valid_to": [lk[4] for lk in links]},
        index=pd.Index([lk[0] for lk in links], name="line"),
        columns=list(LINK_COLUMNS),
    )
    for frame in (area_frame, link_frame):
        frame.attrs["source"] = table.source
    report = ReadReport(table.source, len(table.rows), len(table.rows), out.warnings,
                        table.encoding)
    return Areas(area_frame, link_frame), report


def _years(table: RawTable, column: str, out: Collector) -> list[float]:
    """Optional whole years (NaN = open)."""
    if column not in table.header:
        return [float("nan")] * len(table.rows)
    present = [cell_text(c) is not None for c in table.column(column)]
    sub = RawTable(table.source, table.header,
                   [r for r, p in zip(table.rows, present, strict=True) if p],
                   [ln for ln, p in zip(table.lines, present, strict=True) if p])
    parsed = iter(integer_column(sub, column, out, years=True))
    return [float(next(parsed)) if p else float("nan") for p in present]



#: A document nested deeper than Python's parser goes (no boundary file is): said plainly.
_NESTED = _("the file is nested too deeply to be a boundary file (arrays or objects inside "
            "each other thousands of levels deep)")


def read_area_geometry(
    path: PathLike,
    *,
    code: str | None = None,
    name: str | None = None,
    level: str | None = None,
    parent: str | None = None,
    object_name: str | None = None,
    missing_codes: Mapping[str, str] | None = None,
    crs: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[Areas, geo.AreaGeometry, ReadReport]:
    """Areas and their dissolved polygons from a boundary file, in WGS84.

    GeoJSON, TopoJSON, GeoPackage (``.gpkg``) or Shapefile (``.shp``, or a ``.zip`` holding
    one). ``object_name`` picks the TopoJSON object or GeoPackage layer when there are several.
    ``missing_codes`` maps area names to codes for features whose code is empty (DAGI 2014's
    police districts lack the number of "Københavns Vestegns Politi", which is 10); each fill
    is a warning. ``crs`` (e.g. ``"EPSG:25832"``) is used instead of what the file says; a
    file that names no CRS is taken as WGS84 only if its coordinates are lon/lat.
    """
    if Path(path).suffix.lower() in VECTOR_SUFFIXES:
        out = Collector(str(path))
        features, file_crs = read_vector_features(path, out, layer=object_name, limits=limits)
        return _layer(features, crs or file_crs, out, code=code, name=name, level=level,
                      parent=parent, missing_codes=missing_codes or {}, guess_crs=True)
    data, source = read_bytes(path)
    out = Collector(source)
    text, encoding = decode(data, source, None)
    try:
        document = json.loads(text)
    except RecursionError:
        raise out.fail(None, None, _NESTED) from None
    except json.JSONDecodeError as exc:
        out.errors.append(unreadable.json_problem(source, exc))
        raise InputError(list(out.errors)) from None
    except ValueError as exc:  # a number too long to convert, say
        out.errors.append(unreadable.technical(source, unreadable.JSON, exc))
        raise InputError(list(out.errors)) from None
    try:
        if isinstance(document, Mapping) and document.get("type") == "Topology":
            features = geo.features_from_topojson(document, object_name)
            objects = document.get("objects")
            first = objects.get(object_name or next(iter(objects))) if isinstance(
                objects, Mapping) else None
            file_crs = geo.crs_name(first) or geo.crs_name(document)
        else:
            features = geo.features_from_geojson(document)
            file_crs = geo.crs_name(document)
    except geo.GeometryError as exc:
        raise out.fail(None, None, exc.template, **exc.params) from None
    except RecursionError:
        raise out.fail(None, None, _NESTED) from None
    if len(features) > limits.max_rows:
        raise too_many_rows(source, len(features), limits.max_rows, unit="features")
    areas, layer, report = _layer(features, crs or file_crs, out, code=code, name=name,
                                  level=level, parent=parent, missing_codes=missing_codes or {})
    return areas, layer, dataclasses.replace(report, encoding=encoding)


def _pick_properties(
    features: Sequence[geo.Feature], code: str | None, name: str | None, level: str | None,
    out: Collector,
) -> tuple[str, str, str]:
    keys: set[str] = set()
    for f in features:
        keys.update(str(k) for k in f.properties)
    for known_code, known_name, known_level in KNOWN_LAYERS:
        if (code or known_code) in keys and (name or known_name) in keys:
            chosen = level or (known_level if code in (None, known_code) else None)
            if chosen is None:
                raise out.fail(None, None, _("give level= (e.g. 'kommune'): the layer does not "
                                             "say which level its areas are"))
            return code or known_code, name or known_name, chosen
    raise out.fail(None, code or name, _("cannot tell which properties hold the area code and "
                                         "name: give code= and name=; properties are "
                                         "%(properties)s"), properties=str(sorted(keys)[:20]))


def _layer(
    features: Sequence[geo.Feature],
    crs: str | None,
    out: Collector,
    *,
    code: str | None,
    name: str | None,
    level: str | None,
    parent: str | None,
    missing_codes: Mapping[str, str],
    guess_crs: bool = False,
) -> tuple[Areas, geo.AreaGeometry, ReadReport]:
    """The dissolved layer of ``features``; ``guess_crs``: a file without a CRS is lon/lat
    (GeoJSON's rule) only if its coordinates fit, else an error asking for ``crs=``."""
    if not features:
        raise out.fail(None, None, _("the layer has no features"))
    code_key, name_key, level_value = _pick_properties(features, code, name, level, out)
    codes: list[str] = []
    geoms: list[Any] = []
    names: dict[str, tuple[int, str]] = {}
    parents: dict[str, tuple[int, str]] = {}
    for f in features:
        c = cell_text(f.properties.get(code_key))
        n = cell_text(f.properties.get(name_key))
        p = cell_text(f.properties.get(parent)) if parent is not None else None
        nul = [k for k, v in ((code_key, c), (name_key, n), (parent, p)) if v and "\x00" in v]
        if nul:  # a JSON "\u0000": no name holds one, and PostgreSQL refuses it in text
            for key in nul:
                out.error(None, key, _("feature %(number)s: the %(property)s holds a NUL "
                                       "character"), number=f.number, property=repr(key))
            continue
        if c is None and n is not None and n in missing_codes:
            c = missing_codes[n]
            out.warn(None, code_key, _("feature %(number)s (%(name)s) has no %(property)s: given "
                                       "code %(code)s"), number=f.number, name=n,
                     property=repr(code_key), code=repr(c))
        if c is None:
            if n is None:
                out.error(None, code_key, _("feature %(number)s (no name) has no %(property)s; "
                                            "give its code with missing_codes={name: code}"),
                          number=f.number, property=repr(code_key))
            else:
                out.error(None, code_key, _("feature %(number)s (%(name)s) has no %(property)s; "
                                            "give its code with missing_codes={name: code}"),
                          number=f.number, name=n, property=repr(code_key))
            continue
        if n is None:
            out.error(None, name_key, _("feature %(number)s (%(code)s) has no %(property)s"),
                      number=f.number, code=c, property=repr(name_key))
        elif c in names and names[c][1] != n:
            out.warn(None, name_key, _("feature %(number)s: area %(code)s is named %(name)s here "
                                       "but %(other)s in feature %(first)s"), number=f.number,
                     code=repr(c), name=repr(n), other=repr(names[c][1]), first=names[c][0])
        else:
            names.setdefault(c, (f.number, n))
        if p is not None:
            parents.setdefault(c, (f.number, p))
        try:
            usable = f.geometry is not None and geo.polygonal(f.geometry) is not None
        except geo.GeometryError as exc:
            out.error(None, code_key, _("feature %(number)s (%(code)s): %(error)s"),
                      number=f.number, code=c, error=exc.marked)
            continue
        if not usable:
            out.error(None, code_key, _("feature %(number)s (%(code)s) has no polygon geometry"),
                      number=f.number, code=c)
            continue
        codes.append(c)
        geoms.append(f.geometry)
    out.raise_if_errors()
    if crs is None and guess_crs and geoms and not _fits_lonlat(geoms):
        raise out.fail(None, None, _("the file does not say which coordinate reference system "
                                     "it uses and its coordinates are not longitude/latitude: "
                                     "give crs= (e.g. EPSG:25832)"))
    try:
        if crs is not None and not geo.is_lonlat(crs):
            geoms = [_to_wgs84(g, crs) for g in geoms]
        layer = geo.dissolve(codes, geoms)
    except geo.GeometryError as exc:
        raise out.fail(None, None, exc.template, **exc.params) from None
    first_feature = {c: names[c][0] for c in layer.codes}
    areas = pd.DataFrame(
        {"code": list(layer.codes), "name": [names[c][1] for c in layer.codes],
         "level": level_value},
        index=pd.Index([first_feature[c] for c in layer.codes], name="feature"),
    )
    links = pd.DataFrame(
        {"code": list(parents), "parent": [p for _, p in parents.values()],
         "valid_from": np.nan, "valid_to": np.nan},
        index=pd.Index([n for n, _ in parents.values()], name="feature"),
        columns=list(LINK_COLUMNS),
    )
    for frame in (areas, links):
        frame.attrs["source"] = out.source
    report = ReadReport(out.source, len(features), len(codes), out.warnings)
    return Areas(areas, links), layer, report


def _fits_lonlat(geometries: Sequence[Any]) -> bool:
    x0, y0, x1, y1 = shapely.total_bounds(np.asarray(geometries, dtype=object))
    return bool(-180 <= x0 <= x1 <= 180 and -90 <= y0 <= y1 <= 90)


def _to_wgs84(geometry: Any, crs: str) -> Any:
    """The geometry reprojected from ``crs`` to lon/lat; a position that does not transform
    (outside the CRS's area of use) is an error rather than a NaN in the polygon."""

    def transform(coords: Any) -> Any:
        x, y = geo.reproject(coords[:, 0], coords[:, 1], crs, geo.WGS84)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise geo.GeometryError(_("positions that cannot be transformed from %(crs)s"),
                                    crs=crs)
        return np.column_stack([x, y])

    return shapely.transform(geometry, transform)
