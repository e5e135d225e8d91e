"""A fixed grid over WGS84 so "findings within D metres" is an index range, not a full scan.

A finding stores the integer cell of its position (``cell_lat``, ``cell_lon``: degrees × 1000,
floored, so a cell is about 111 m north–south and 60–70 m east–west in Denmark). The findings
within ``D`` metres of a point lie in the cells within ``D`` of its cell; the database narrows
to those with the index on (category, cell_lat, cell_lon) and the exact distance is checked on
the few rows left.
"""

from __future__ import annotations

import math

#: Cells per degree.
CELLS_PER_DEGREE = 1000
EARTH_RADIUS_M = 6_371_008.8
#: Metres per degree of latitude (on the mean sphere).
METRES_PER_DEGREE = math.pi * EARTH_RADIUS_M / 180.0


def cell(lat: float, lon: float) -> tuple[int, int]:
    return (math.floor(lat * CELLS_PER_DEGREE), math.floor(lon * CELLS_PER_DEGREE))


def cell_ranges(lat: float, lon: float, metres: float) -> tuple[range, range]:
    """The cells (latitude, longitude) a circle of ``metres`` around the point touches."""
    dlat = metres / METRES_PER_DEGREE
    coslat = max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    dlon = dlat / coslat
    lat0, lon0 = cell(lat - dlat, lon - dlon)
    lat1, lon1 = cell(lat + dlat, lon + dlon)
    return range(lat0, lat1 + 1), range(lon0, lon1 + 1)


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
