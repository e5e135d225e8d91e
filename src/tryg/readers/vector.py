"""GeoPackage and Shapefile layers as :class:`tryg.geo.Feature` lists, through pyogrio (GDAL).

DAGI's boundaries are also delivered as GeoPackage and Shapefile, usually in ETRS89 / UTM zone
32N (EPSG:25832). This module only gets the features and the file's CRS out of GDAL; the area
reader (:mod:`tryg.readers.areas`) then treats them exactly like GeoJSON features: the same
property names, the same dissolving on the code, the same reprojection to WGS84.

A Shapefile is several files (``.shp``, ``.shx``, ``.dbf``, ``.prj``); a ``.zip`` holding them
(what a browser upload sends) is read directly. Whatever GDAL says about a broken file, and any
warning it raises, becomes an ``InputError`` or a reader warning: nothing else escapes.
"""

from __future__ import annotations

import math
import warnings
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from tryg import geo
from tryg.geo.features import COORDINATE_LIMIT, MAX_COORDINATE
from tryg.index.inputs import InputError
from tryg.index.inputs import mark as _
from tryg.readers import unreadable
from tryg.readers.limits import DEFAULT_LIMITS, Limits, check_zip, too_many_rows
from tryg.readers.report import Collector
from tryg.readers.table import PathLike

VECTOR_SUFFIXES = frozenset({".gpkg", ".shp", ".zip"})
#: The parts a Shapefile cannot be read without.
SHAPEFILE_PARTS = (".shp", ".shx", ".dbf")
_POLYGON_TYPES = ("Polygon", "MultiPolygon", "Polygon Z", "MultiPolygon Z", "Unknown",
                  "Polygon M", "MultiPolygon M", "Polygon ZM", "MultiPolygon ZM")


def read_vector_features(
    path: PathLike, out: Collector, *, layer: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> tuple[list[geo.Feature], str | None]:
    """The features of one layer of a GeoPackage or Shapefile and the CRS the file names
    (``None`` when it names none). Problems go to ``out``; a file that cannot be read raises.

    A zipped Shapefile is checked against ``limits`` from its central directory before GDAL
    opens it, and the layer's feature count before its features are read."""
    import pyogrio
    from pyogrio import raw

    if not Path(path).is_file():
        raise out.fail(None, None, _("cannot read the file: no such file"))
    if Path(path).suffix.lower() == ".zip":
        check_zip(path, limits, what="zipped Shapefile")
        _check_zipped_shapefile(Path(path), out)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            layers = [(str(n), str(t)) for n, t in pyogrio.list_layers(str(path))]
    except Exception as exc:  # GDAL reports a broken file with many exception types
        raise _unreadable(exc, path, out) from None
    chosen = _pick_layer(layers, layer, out)
    try:
        with warnings.catch_warnings():  # raw.read below says the same again
            warnings.simplefilter("ignore")
            count = int(pyogrio.read_info(str(path), layer=chosen).get("features") or 0)
    except Exception as exc:
        raise _unreadable(exc, path, out) from None
    if count > limits.max_rows:
        raise too_many_rows(str(path), count, limits.max_rows, unit="features")
    try:
        with warnings.catch_warnings(record=True) as more:
            warnings.simplefilter("always")
            meta, _fids, wkb, field_data = raw.read(str(path), layer=chosen,
                                                datetime_as_string=True)
    except Exception as exc:
        raise _unreadable(exc, path, out) from None
    caught.extend(more)
    if wkb is None:
        raise out.fail(None, None, _("the layer %(layer)s has no geometries (a Shapefile needs "
                                     "its .shp, .shx and .dbf parts)"), layer=repr(chosen))
    for w in caught:
        out.warn(None, None, _("while reading the layer: %(message)s"), message=str(w.message))
    names = [str(n) for n in meta.get("fields", [])]
    columns = [_plain_values(values) for values in field_data]
    features: list[geo.Feature] = []
    for i in range(len(wkb)):
        number = i + 1
        properties = {n: column[i] for n, column in zip(names, columns, strict=True)}
        geometry = _geometry(wkb[i], number, out)
        features.append(geo.Feature(number, properties, geometry))
    return features, _crs(meta.get("crs"), out)


def _check_zipped_shapefile(path: Path, out: Collector) -> None:
    """A zip holding a Shapefile must hold its .shp, .shx and .dbf (GDAL reads a lone .dbf
    as a table without geometries). A zip that is not one is left to GDAL to report."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist()
                     if not n.endswith("/") and not n.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    if any(n.lower().endswith(".gpkg") for n in names):
        return
    stems: dict[str, set[str]] = {}
    for name in names:
        stem, dot, suffix = name.rpartition(".")
        if dot and f".{suffix.lower()}" in SHAPEFILE_PARTS:
            stems.setdefault(stem, set()).add(f".{suffix.lower()}")
    if not stems:
        raise out.fail(None, None, _("the zip file holds no Shapefile (.shp, .shx and .dbf) "
                                     "and no GeoPackage"))
    for stem, parts in sorted(stems.items()):
        missing = [p for p in SHAPEFILE_PARTS if p not in parts]
        if missing:
            raise out.fail(None, None, _("the Shapefile %(name)s in the zip file lacks its "
                                         "%(parts)s part(s)"), name=repr(stem),
                           parts=", ".join(missing))


def _unreadable(exc: Exception, path: PathLike, out: Collector) -> InputError:
    """GDAL's failure in our words (:mod:`tryg.readers.unreadable`); a file it does not
    recognise at all is pyogrio's ``DataSourceError``."""
    from pyogrio.errors import DataSourceError

    out.errors.append(unreadable.vector_problem(out.source, path, exc,
                                                isinstance(exc, DataSourceError)))
    return InputError(list(out.errors))


def _pick_layer(layers: list[tuple[str, str]], layer: str | None, out: Collector) -> str:
    if not layers:
        raise out.fail(None, None, _("the file has no layers"))
    names = [n for n, _kind in layers]
    if layer is not None:
        if layer not in names:
            raise out.fail(None, None, _("no layer %(layer)s in the file (layers: %(layers)s)"),
                           layer=repr(layer), layers=str(names))
        return layer
    if len(layers) == 1:
        return names[0]
    polygonal = [n for n, t in layers if t in _POLYGON_TYPES]
    if len(polygonal) == 1:
        return polygonal[0]
    raise out.fail(None, None, _("the file has several layers %(layers)s: say which one "
                                 "(layer=)"), layers=str(names[:20]))


def _plain_values(values: Any) -> list[Any]:
    """A field's values as plain Python objects (numpy scalars and NaN are not cell text)."""
    plain = np.asarray(values).tolist()
    return [None if isinstance(v, float) and math.isnan(v) else v for v in plain]


def _geometry(wkb: Any, number: int, out: Collector) -> Any:
    """A shapely geometry from WKB, or ``None`` (null geometry, or an error noted in ``out``)."""
    if wkb is None:
        return None
    try:
        geom = shapely.from_wkb(wkb)
    except (shapely.errors.ShapelyError, ValueError, TypeError) as exc:
        out.error(None, None, _("feature %(number)s: unreadable geometry: %(error)s"),
                  number=number, error=str(exc))
        return None
    if geom is None:
        return None
    coords = shapely.get_coordinates(geom)
    if not (np.isfinite(coords).all() and (np.abs(coords) <= MAX_COORDINATE).all()):
        out.error(None, None, _("feature %(number)s: positions must be finite numbers within "
                                "±%(limit)s"), number=number, limit=COORDINATE_LIMIT)
        return None
    return shapely.force_2d(geom)


def _crs(crs: Any, out: Collector) -> str | None:
    """The file's CRS as pyproj accepts it (an EPSG code or WKT), or ``None``."""
    if crs is None or not str(crs).strip():
        return None
    from pyproj import CRS

    try:
        parsed = CRS.from_user_input(str(crs))
    except Exception as exc:  # pyproj raises CRSError and others for a broken .prj
        raise out.fail(None, None, _("the file's coordinate reference system is not usable: "
                                     "%(error)s"), error=str(exc)) from None
    code = parsed.to_epsg()
    return f"EPSG:{code}" if code is not None else str(crs)
