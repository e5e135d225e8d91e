"""Which area each point lies in: the step from a record's coordinates to an area code.

One vectorised STRtree query answers all points at once. A point on a shared boundary touches
two areas; it goes to the first of them in layer order, so the result never depends on the
order of the points and every point is counted once. Points in no area come back as ``None``
for the caller to report: a record outside every area is a fact about the data (wrong
coordinates, an extract wider than the municipality), never something to drop quietly.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from tryg.geo.errors import GeometryError
from tryg.geo.layer import AreaGeometry
from tryg.messages import mark as _


def area_index(geometry: AreaGeometry, x: ArrayLike, y: ArrayLike) -> NDArray[np.intp]:
    """For each point, the position of its area in ``geometry.codes``, or -1 if in none.

    Non-finite coordinates (missing locations) are -1 too.
    """
    xs = np.asarray(x, dtype=np.float64)
    ys = np.asarray(y, dtype=np.float64)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise GeometryError(_("x and y must be 1-D arrays of one length (%(x)s, %(y)s)"),
                            x=str(xs.shape), y=str(ys.shape))
    out = np.full(len(xs), -1, dtype=np.intp)
    ok = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
    if len(ok) == 0 or len(geometry) == 0:
        return out
    points = shapely.points(xs[ok], ys[ok])
    point_i, area_i = geometry.tree.query(points, predicate="intersects")
    if len(point_i):
        # Lowest area position wins for points on a boundary: sort by (point, area), keep first.
        order = np.lexsort((area_i, point_i))
        point_i, area_i = point_i[order], area_i[order]
        first = np.r_[True, point_i[1:] != point_i[:-1]]
        out[ok[point_i[first]]] = area_i[first]
    return out


def assign_points(
    geometry: AreaGeometry, x: ArrayLike, y: ArrayLike
) -> NDArray[np.object_]:
    """The area code of each point (lon/lat, like the layer), ``None`` where it is in no area."""
    index = area_index(geometry, x, y)
    codes = np.array([*geometry.codes, None], dtype=object)
    return codes[np.where(index >= 0, index, len(geometry.codes))]
