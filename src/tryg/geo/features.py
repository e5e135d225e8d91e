"""GeoJSON features (already parsed from JSON) as properties plus shapely geometry.

Parsing is separate from reading so that the core never opens a file: a reader loads the JSON,
this module checks the structure. The checks are strict on purpose: a boundary file with a
non-numeric or infinite coordinate should stop with the feature's number, not surface later as
a point that silently falls outside every area. A third coordinate (DAGI writes a dummy -999)
is dropped: tryg works in 2-D.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import shapely

from tryg.geo.errors import GeometryError
from tryg.messages import Number
from tryg.messages import mark as _

# No real position, in degrees or metres, is this far out; beyond it GEOS overflows.
MAX_COORDINATE = 1e9
#: :data:`MAX_COORDINATE` as a message shows it ("1e+09").
COORDINATE_LIMIT = Number(MAX_COORDINATE, None, grouping=False)

_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


@dataclass(frozen=True)
class Feature:
    """One feature: its number in the file (1-based), its properties and its geometry."""

    number: int
    properties: Mapping[str, Any]
    geometry: Any


def _check_coords(coords: Any, depth: int, number: int) -> None:
    """Raise unless ``coords`` is nested ``depth`` deep down to finite [x, y, ...] positions."""
    if depth == 0:
        if (
            not isinstance(coords, list)
            or len(coords) < 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in coords)
            or not all(math.isfinite(v) and abs(v) <= MAX_COORDINATE for v in coords[:2])
        ):
            raise GeometryError(
                _("feature %(number)s: a position must be a list of finite numbers [x, y] "
                  "(within ±%(limit)s)"), number=number, limit=COORDINATE_LIMIT
            )
        return
    if not isinstance(coords, list):
        raise GeometryError(_("feature %(number)s: coordinates are not nested lists"),
                            number=number)
    for c in coords:
        _check_coords(c, depth - 1, number)


def geometry_from_geojson(obj: Any, number: int) -> Any:
    """A shapely geometry (2-D) from a GeoJSON geometry object, or ``None`` for null geometry;
    ``number`` is the feature's, for the messages."""
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise GeometryError(_("feature %(number)s: geometry is not an object"), number=number)
    kind = obj.get("type")
    if kind == "GeometryCollection":
        members = obj.get("geometries")
        if not isinstance(members, list):
            raise GeometryError(_("feature %(number)s: a GeometryCollection needs a list "
                                  "'geometries'"), number=number)
        parts = [geometry_from_geojson(m, number) for m in members]
        return shapely.geometrycollections([p for p in parts if p is not None])
    if kind not in _DEPTH:
        raise GeometryError(_("feature %(number)s: unknown geometry type %(kind)s"),
                            number=number, kind=repr(kind))
    coords = obj.get("coordinates")
    _check_coords(coords, _DEPTH[kind], number)
    try:
        geom = shapely.geometry.shape({"type": kind, "coordinates": coords})
    except (ValueError, TypeError, IndexError, shapely.errors.ShapelyError) as exc:
        raise GeometryError(_("feature %(number)s: %(error)s"), number=number,
                            error=str(exc)) from exc
    return shapely.force_2d(geom)


def features_from_geojson(document: Any) -> list[Feature]:
    """The features of a GeoJSON FeatureCollection (or a single Feature)."""
    if not isinstance(document, Mapping):
        raise GeometryError(_("the document is not a GeoJSON object"))
    if document.get("type") == "Feature":
        raw = [document]
    elif document.get("type") == "FeatureCollection" and isinstance(document.get("features"), list):
        raw = document["features"]
    else:
        raise GeometryError(_("the document is not a GeoJSON Feature or FeatureCollection"))
    out: list[Feature] = []
    for number, feat in enumerate(raw, start=1):
        if not isinstance(feat, Mapping) or feat.get("type") != "Feature":
            raise GeometryError(_("feature %(number)s: not a GeoJSON Feature"), number=number)
        props = feat.get("properties") or {}
        if not isinstance(props, Mapping):
            raise GeometryError(_("feature %(number)s: 'properties' is not an object"),
                                number=number)
        out.append(Feature(number, props, geometry_from_geojson(feat.get("geometry"), number)))
    return out


def crs_name(document: Any) -> str | None:
    """The name in a (pre-RFC 7946) GeoJSON/TopoJSON ``crs`` member, if there is one."""
    if not isinstance(document, Mapping):
        return None
    crs = document.get("crs")
    if isinstance(crs, Mapping):
        props = crs.get("properties")
        if isinstance(props, Mapping) and isinstance(props.get("name"), str):
            return str(props["name"])
    return None
