"""The downloadable files of the latest published run: CSV, XLSX, JSON and GeoJSON.

CSV, XLSX and JSON are the public view itself (every area, wave and measure; the columns of
:data:`tryg.index.results.PUBLIC_COLUMNS`), written by :mod:`tryg.exports`.

GeoJSON is for maps (QGIS, web maps), so it is one Feature per area and wave, not per row:
``results.geojson?wave=YYYY`` (default: the latest wave) holds every area of the results with
its stored boundary (``null`` when none is stored), and as properties ``code``, ``name``,
``level``, ``wave``, then per measure ``<measure>`` (estimate), ``<measure>_ci_low``,
``<measure>_ci_high``, ``<measure>_n`` (the public ``n_display`` text) and
``<measure>_suppressed``. Flat properties, because GIS tools do not read nested ones; the
values are the public view's (suppressed values are null).

Files are kept in Django's cache per publication, format and wave.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from django.core.cache import cache
from django.http import Http404

from tryg.exports import results_bytes
from tryg.public.data import Published, geometries, published, run_key
from tryg.runs.models import IndexRun

FORMATS: tuple[str, ...] = ("csv", "xlsx", "json", "geojson")
CONTENT_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "geojson": "application/geo+json",
}
#: The per-measure properties of a GeoJSON feature: suffix → public column.
GEOJSON_FIELDS: dict[str, str] = {"": "estimate", "_ci_low": "ci_low", "_ci_high": "ci_high",
                                  "_n": "n_display", "_suppressed": "suppressed"}
TIMEOUT = 24 * 3600


def file_name(data: Published, fmt: str, wave: int | None = None) -> str:
    suffix = f"-{wave}" if wave is not None else ""
    return f"{data.spec.id}-run{data.run.pk}{suffix}.{fmt}"


def download(run: IndexRun, fmt: str, wave: int | None = None) -> tuple[bytes, str, str]:
    """(bytes, content type, file name) of a public file; Http404 for an unknown wave."""
    if fmt not in FORMATS:
        raise Http404("unknown format")
    data = published(run)
    year: int | None = None
    if fmt == "geojson":
        year = _wave(data, wave)
    key = f"tryg-public-file:{run_key(run)}:{fmt}:{year}"
    body = cache.get(key)
    if not isinstance(body, bytes):
        body = geojson_bytes(data, year) if fmt == "geojson" else results_bytes(data.table, fmt)
        cache.set(key, body, TIMEOUT)
    return body, CONTENT_TYPES[fmt], file_name(data, fmt, year)


def _wave(data: Published, wave: int | None) -> int | None:
    if not data.waves:
        return None
    if wave is None:
        return data.waves[-1]
    if wave not in data.waves:
        raise Http404("no published results for that wave")
    return wave


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def geojson_features(data: Published, wave: int | None) -> list[dict[str, Any]]:
    """One Feature per area of the results in ``wave``, with flat properties per measure."""
    t = data.table if wave is None else data.table[data.table["wave"] == wave]
    shapes = geometries()
    features: list[dict[str, Any]] = []
    for (code, name, level), part in t.groupby(["area_code", "area_name", "level"], sort=False):
        properties: dict[str, Any] = {"code": code, "name": name, "level": level,
                                      "wave": wave}
        for row in part.itertuples(index=False):
            for suffix, column in GEOJSON_FIELDS.items():
                properties[f"{row.measure}{suffix}"] = _plain(getattr(row, column))
        shape = shapes.get(str(code))
        features.append({"type": "Feature", "id": code, "properties": properties,
                         "geometry": shape[1] if shape else None})
    return features


def geojson_bytes(data: Published, wave: int | None) -> bytes:
    collection = {"type": "FeatureCollection",
                  "spec_id": data.spec.id, "spec_hash": data.spec.hash, "run": data.run.pk,
                  "features": geojson_features(data, wave)}
    return json.dumps(collection, ensure_ascii=False, allow_nan=False).encode("utf-8")
