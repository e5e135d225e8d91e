"""Stored areas as the core's types: for name matching, code lookups and containment.

The database keeps boundaries as GeoJSON text (WGS84); these helpers turn them back into
:class:`tryg.geo.AreaGeometry` and :class:`tryg.index.inputs.Areas` so the pure core can work
on them. No statistics or geometry are computed here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import shapely

from tryg import geo
from tryg.areas.models import Area, Population
from tryg.index.inputs import Areas
from tryg.messages import mark as _

#: For a level without a stored parent column: where to look for parents by containment,
#: nearest first (DAGI's levels; police districts are unions of whole kommuner).
PARENT_LEVELS: dict[str, tuple[str, ...]] = {
    "sogn": ("kommune",),
    "postnummer": ("kommune",),
    "kommune": ("politikreds", "region"),
    "politikreds": ("region",),
}


def areas_by_code(codes: Iterable[str], *, size: int = 500) -> dict[str, Area]:
    """The stored areas among ``codes`` (queried in slices, under SQL variable limits)."""
    wanted = sorted(set(codes))
    found: dict[str, Area] = {}
    for start in range(0, len(wanted), size):
        for area in Area.objects.filter(code__in=wanted[start:start + size]):
            found[area.code] = area
    return found


def child_codes(parent: str, level: str) -> list[str]:
    """The codes of the stored areas at ``level`` linked to the area ``parent``, sorted."""
    return sorted(Area.objects.filter(level=level, parent_links__parent__code=parent)
                  .values_list("code", flat=True))


def total_population(code: str) -> dict[int, float]:
    """The stored population of the area ``code`` per year, all sexes and ages."""
    rows = Population.objects.filter(area__code=code, sex="", age_group="")
    return {int(year): float(n) for year, n in rows.values_list("year", "population")}


def stored_areas(level: str | None = None) -> Areas:
    """All stored areas (optionally of one level) as the core's area table (no links)."""
    rows = Area.objects.order_by("code")
    if level is not None:
        rows = rows.filter(level=level)
    values = list(rows.values_list("code", "name", "level"))
    frame = pd.DataFrame(values, columns=["code", "name", "level"])
    frame.attrs["source"] = "database"
    return Areas(frame)


def stored_layer(level: str, *, exclude: Sequence[str] = ()) -> geo.AreaGeometry | None:
    """The stored boundaries of ``level`` (areas without a boundary left out), or ``None``
    when no area of that level has one."""
    skip = set(exclude)
    pairs = [(c, g) for c, g in Area.objects.filter(level=level).exclude(geometry="")
             .order_by("code").values_list("code", "geometry") if c not in skip]
    if not pairs:
        return None
    try:
        geoms = shapely.from_geojson([g for _code, g in pairs])
    except shapely.errors.ShapelyError as exc:
        raise geo.GeometryError(_("a stored boundary of level %(level)s is unusable: "
                                  "%(error)s"), level=repr(level), error=str(exc)) from exc
    codes = [c for c, _geometry in pairs]
    return geo.AreaGeometry(tuple(codes), np.array([geo.polygonal(g) for g in geoms],
                                                   dtype=object))


def parent_level_for(level: str) -> str | None:
    """The nearest coarser level (see :data:`PARENT_LEVELS`) with stored boundaries."""
    for candidate in PARENT_LEVELS.get(level, ()):
        if Area.objects.filter(level=candidate).exclude(geometry="").exists():
            return candidate
    return None
