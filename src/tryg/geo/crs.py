"""Coordinate reference systems: from whatever a file uses to WGS84 longitude/latitude.

All area geometry in tryg is kept in WGS84 lon/lat (the GeoJSON convention), so a point from a
police extract in ETRS89 / UTM zone 32N (EPSG:25832, the Danish standard) is reprojected once,
here, before it is matched to areas. pyproj does the work; ``always_xy`` keeps the axis order
x = easting/longitude, y = northing/latitude whatever the CRS's official axis order is.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError

from tryg.geo.errors import GeometryError
from tryg.messages import mark as _

WGS84 = "EPSG:4326"
UTM32 = "EPSG:25832"

# Names a GeoJSON ``crs`` member uses for plain lon/lat (RFC 7946's default).
_LONLAT_NAMES = frozenset(
    {
        "urn:ogc:def:crs:ogc:1.3:crs84",
        "urn:ogc:def:crs:ogc::crs84",
        "ogc:crs84",
        "crs84",
        "epsg:4326",
        "urn:ogc:def:crs:epsg::4326",
        "wgs84",
    }
)


def is_lonlat(crs: str) -> bool:
    """Whether ``crs`` names WGS84 longitude/latitude (no reprojection needed)."""
    return crs.strip().casefold() in _LONLAT_NAMES


@lru_cache(maxsize=16)
def _transformer(from_crs: str, to_crs: str) -> Transformer:
    try:
        return Transformer.from_crs(CRS.from_user_input(from_crs), CRS.from_user_input(to_crs),
                                    always_xy=True)
    except ProjError as exc:  # CRSError (unknown) or a pair PROJ cannot transform between
        raise GeometryError(_("unknown coordinate reference system: %(error)s"),
                            error=str(exc)) from exc


def reproject(
    x: ArrayLike, y: ArrayLike, from_crs: str, to_crs: str = WGS84
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Coordinates ``x``/``y`` in ``from_crs`` as x/y in ``to_crs`` (axis order x, y always).

    Points that cannot be transformed come back as NaN (and so are "outside every area" later)
    rather than as pyproj's ``inf``.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.shape != ys.shape:
        raise GeometryError(_("x and y differ in length (%(x)s vs %(y)s)"), x=str(xs.shape),
                            y=str(ys.shape))
    if is_lonlat(from_crs) and is_lonlat(to_crs):
        return xs.copy(), ys.copy()
    tx, ty = _transformer(from_crs, to_crs).transform(xs, ys, errcheck=False)
    ox = np.asarray(tx, dtype=np.float64)
    oy = np.asarray(ty, dtype=np.float64)
    bad = ~(np.isfinite(ox) & np.isfinite(oy))
    ox[bad] = np.nan
    oy[bad] = np.nan
    return ox, oy
