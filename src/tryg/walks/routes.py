"""A walk's route from an uploaded GeoJSON or GPX file, or from the line drawn on the map.

The result is always a GeoJSON LineString in WGS84 (longitude, latitude), as text. GPX is read
with ``defusedxml`` (no entity expansion, no external entities, no DTDs): its track points
(``trkpt``), else route points (``rtept``), in order.
"""

from __future__ import annotations

import json
import math
from typing import Any

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException
from django.utils.translation import gettext as _

#: Most points a route may have (a walk is a few kilometres; a GPS log 1 point/s for hours).
MAX_POINTS = 20_000
MAX_BYTES = 5 * 1024 * 1024


class RouteError(ValueError):
    """A route file that cannot be used; the message names the file and the place."""


def _point(name: str, where: str, lon: Any, lat: Any) -> list[float]:
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError):
        raise RouteError(_("%(file)s: %(where)s is not a number pair.")
                         % {"file": name, "where": where}) from None
    if not (math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90):
        raise RouteError(_("%(file)s: %(where)s is not a longitude/latitude in WGS84.")
                         % {"file": name, "where": where})
    return [round(x, 7), round(y, 7)]


def _line(name: str, points: list[list[float]]) -> str:
    if len(points) < 2:
        raise RouteError(_("%(file)s: a route needs at least two points.") % {"file": name})
    if len(points) > MAX_POINTS:
        raise RouteError(_("%(file)s: more than %(max)d points.")
                         % {"file": name, "max": MAX_POINTS})
    return json.dumps({"type": "LineString", "coordinates": points}, separators=(",", ":"))


def _coordinates(name: str, geometry: Any) -> list[Any]:
    if not isinstance(geometry, dict):
        raise RouteError(_("%(file)s: no geometry found.") % {"file": name})
    kind = geometry.get("type")
    coords = geometry.get("coordinates")
    if kind == "LineString" and isinstance(coords, list):
        return coords
    if kind == "MultiLineString" and isinstance(coords, list):
        return [p for part in coords if isinstance(part, list) for p in part]
    raise RouteError(_("%(file)s: the geometry is a %(kind)s, not a LineString.")
                     % {"file": name, "kind": str(kind)[:40]})


def from_geojson(name: str, text: str) -> str:
    """A GeoJSON LineString, MultiLineString, Feature or FeatureCollection (first line)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RouteError(_("%(file)s: not valid JSON (line %(line)d, column %(col)d).")
                         % {"file": name, "line": exc.lineno, "col": exc.colno}) from None
    except RecursionError:  # "[[[[…" thousands deep: Python's decoder gives up
        raise RouteError(_("%(file)s: the JSON is nested too deeply to be a route.")
                         % {"file": name}) from None
    if isinstance(data, dict) and data.get("type") == "FeatureCollection":
        features = data.get("features") or []
        lines = [f for f in features if isinstance(f, dict) and isinstance(f.get("geometry"), dict)
                 and f["geometry"].get("type") in ("LineString", "MultiLineString")]
        if not lines:
            raise RouteError(_("%(file)s: no LineString feature.") % {"file": name})
        data = lines[0]
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    coords = _coordinates(name, data)
    points = []
    for i, p in enumerate(coords):
        if not isinstance(p, list | tuple) or len(p) < 2:
            raise RouteError(_("%(file)s: point %(n)d is not a coordinate pair.")
                             % {"file": name, "n": i + 1})
        points.append(_point(name, _("point %(n)d") % {"n": i + 1}, p[0], p[1]))
    return _line(name, points)


def from_gpx(name: str, data: bytes) -> str:
    """The track points of a GPX file (else its route points), in order."""
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException:
        raise RouteError(_("%(file)s: the GPX file declares entities or a DTD, which are "
                           "not allowed.") % {"file": name}) from None
    except ElementTree.ParseError as exc:
        line, col = getattr(exc, "position", (0, 0))
        raise RouteError(_("%(file)s: not valid XML (line %(line)d, column %(col)d).")
                         % {"file": name, "line": line, "col": col}) from None
    points = []
    for tag in ("trkpt", "rtept"):
        found = [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == tag]
        if found:
            for i, e in enumerate(found):
                points.append(_point(name, f"<{tag}> {i + 1}", e.get("lon"), e.get("lat")))
            break
    return _line(name, points)


def from_upload(name: str, data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise RouteError(_("%(file)s: larger than %(mb)d MB.") % {"file": name, "mb": 5})
    lowered = name.lower()
    head = data.lstrip()[:200]
    if lowered.endswith(".gpx") or head.startswith(b"<"):
        return from_gpx(name, data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RouteError(_("%(file)s: not UTF-8 text.") % {"file": name}) from None
    return from_geojson(name, text)


def points_of(route: str) -> list[tuple[float, float]]:
    """(lon, lat) pairs of a stored route ("" → none)."""
    if not route:
        return []
    data = json.loads(route)
    return [(float(p[0]), float(p[1])) for p in data.get("coordinates", [])]
