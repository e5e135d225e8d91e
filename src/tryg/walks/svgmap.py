"""A small server-drawn SVG of an area's outline with points on it (no JavaScript, no tiles).

Equirectangular, scaled by the cosine of the middle latitude, which is accurate enough at
the size of a municipality. Pure functions on parsed GeoJSON; the template draws the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WIDTH = 400
#: Most vertices drawn per ring (larger rings are thinned evenly).
MAX_VERTICES = 800


@dataclass(frozen=True)
class Sketch:
    width: int
    height: int
    outline: str  # SVG path data
    points: list[tuple[float, float, str]]  # x, y, title


def rings(geometry: Any) -> list[list[list[float]]]:
    """The rings (or lines) of a GeoJSON geometry, feature or collection."""
    if not isinstance(geometry, dict):
        return []
    kind = geometry.get("type")
    if kind == "FeatureCollection":
        return [r for f in geometry.get("features") or [] for r in rings(f)]
    if kind == "Feature":
        return rings(geometry.get("geometry"))
    if kind == "GeometryCollection":
        return [r for g in geometry.get("geometries") or [] for r in rings(g)]
    coords = geometry.get("coordinates") or []
    if kind == "Polygon":
        return [list(r) for r in coords]
    if kind == "MultiPolygon":
        return [list(r) for poly in coords for r in poly]
    if kind == "LineString":
        return [list(coords)]
    return []


def sketch(geometry: Any, points: list[tuple[float, float, str]]) -> Sketch | None:
    """The outline of ``geometry`` and the (lon, lat, title) points, or None if empty."""
    outline = [r for r in rings(geometry) if len(r) >= 2]
    xs = [float(p[0]) for r in outline for p in r] + [p[0] for p in points]
    ys = [float(p[1]) for r in outline for p in r] + [p[1] for p in points]
    if not xs:
        return None
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    pad = max(max_x - min_x, max_y - min_y, 0.002) * 0.05
    min_x, max_x, min_y, max_y = min_x - pad, max_x + pad, min_y - pad, max_y + pad
    k = math.cos(math.radians((min_y + max_y) / 2))
    scale = WIDTH / max((max_x - min_x) * k, 1e-9)
    height = max(80, round((max_y - min_y) * scale))

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - min_x) * k * scale, 1), round((max_y - lat) * scale, 1)

    parts = []
    for ring in outline:
        step = max(1, math.ceil(len(ring) / MAX_VERTICES))
        thinned = ring[::step]
        parts.append("M" + " L".join(f"{x} {y}" for x, y in
                                     (xy(float(p[0]), float(p[1])) for p in thinned)) + " Z")
    return Sketch(WIDTH, height, " ".join(parts),
                  [(*xy(lon, lat), title) for lon, lat, title in points])
