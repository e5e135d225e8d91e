"""Reprojection to and from ETRS89 / UTM zone 32N, the Danish standard."""

from __future__ import annotations

import numpy as np
import pytest

from tryg import geo


def test_central_meridian_maps_to_false_easting() -> None:
    # UTM 32N: central meridian 9°E, false easting 500 000 m, false northing 0 at the equator.
    east, north = geo.reproject([9.0], [0.0], geo.WGS84, geo.UTM32)
    assert east[0] == pytest.approx(500_000.0, abs=1e-6)
    assert north[0] == pytest.approx(0.0, abs=1e-6)


def test_round_trip_aalborg() -> None:
    lon, lat = np.array([9.9217, 10.5]), np.array([57.0488, 56.2])
    east, north = geo.reproject(lon, lat, geo.WGS84, geo.UTM32)
    assert 550_000 < east[0] < 560_000 and 6_320_000 < north[0] < 6_325_000
    back_lon, back_lat = geo.reproject(east, north, geo.UTM32)
    assert back_lon == pytest.approx(lon, abs=1e-9)
    assert back_lat == pytest.approx(lat, abs=1e-9)


def test_lonlat_names_need_no_transform_and_bad_crs_is_an_error() -> None:
    assert geo.is_lonlat("urn:ogc:def:crs:OGC:1.3:CRS84")
    x, y = geo.reproject([1.0], [2.0], "urn:ogc:def:crs:OGC:1.3:CRS84", geo.WGS84)
    assert (x[0], y[0]) == (1.0, 2.0)
    with pytest.raises(geo.GeometryError, match="unknown coordinate reference system"):
        geo.reproject([1.0], [2.0], "EPSG:999999")
