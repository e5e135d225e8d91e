"""Which area a finding lies in: containment in the finest stored level with boundaries.

Used by the Open311 POST and the reports import. When no area has a boundary the findings
keep an empty area code (they are still stored and counted, just in no area).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tryg import geo
from tryg.areas.services import stored_layer
from tryg.imports.register import finest_level


def area_layer() -> geo.AreaGeometry | None:
    """The boundaries findings are placed in, or None when none is stored."""
    level = finest_level()
    return stored_layer(level) if level is not None else None


def area_codes(layer: geo.AreaGeometry | None, lon: Sequence[float | None],
               lat: Sequence[float | None]) -> list[str]:
    """The area code of each point ("" for a point in no area, unplaced, or no layer)."""
    if layer is None or not len(lon):
        return [""] * len(lon)
    xs = np.array([np.nan if v is None else v for v in lon], dtype=np.float64)
    ys = np.array([np.nan if v is None else v for v in lat], dtype=np.float64)
    return ["" if c is None else str(c) for c in geo.assign_points(layer, xs, ys)]


def area_at(lon: float | None, lat: float | None) -> str:
    """The area code of one position in the stored boundaries ("" when it is unplaced, in no
    area, or no boundary is stored): an Open311 post's or a citizen's report."""
    if lon is None or lat is None:
        return ""
    return area_codes(area_layer(), [lon], [lat])[0]
