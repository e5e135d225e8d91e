"""A layer of areas: one code, one (multi)polygon each, in WGS84 lon/lat.

Boundary files rarely come one feature per area: DAGI stores every island of a kommune as its
own polygon, so a layer is built by :func:`dissolve`, which unions all parts that share a code.
The layer keeps a spatial index (an STRtree) so that assigning thousands of points, or
intersecting two layers, costs a tree query rather than a loop over every polygon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from tryg.geo.errors import GeometryError
from tryg.messages import mark as _

_POLYGONAL = frozenset({"Polygon", "MultiPolygon"})


@dataclass(frozen=True)
class AreaGeometry:
    """Area codes and their polygons (WGS84 lon/lat), one entry per distinct code.

    ``geometries`` holds shapely geometries in the same order as ``codes``; ``tree`` is the
    STRtree over them, built once.
    """

    codes: tuple[str, ...]
    geometries: NDArray[np.object_]
    tree: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        geoms = np.asarray(self.geometries, dtype=object)
        if geoms.ndim != 1 or len(geoms) != len(self.codes):
            raise GeometryError(
                _("%(codes)s codes but %(geometries)s geometries: they must pair up"),
                codes=len(self.codes), geometries=geoms.size,
            )
        seen: set[str] = set()
        for code, geom in zip(self.codes, geoms, strict=True):
            if code in seen:
                raise GeometryError(_("area %(code)s appears twice: dissolve the layer first"),
                                    code=repr(code))
            seen.add(code)
            if not isinstance(geom, shapely.Geometry) or geom.geom_type not in _POLYGONAL:
                kind = getattr(geom, "geom_type", type(geom).__name__)
                raise GeometryError(_("area %(code)s is a %(kind)s, not a polygon"),
                                    code=repr(code), kind=kind)
        object.__setattr__(self, "geometries", geoms)
        object.__setattr__(self, "tree", shapely.STRtree(geoms))

    def __len__(self) -> int:
        return len(self.codes)

    def geometry(self, code: str) -> Any:
        """The (multi)polygon of one area."""
        try:
            return self.geometries[self.codes.index(code)]
        except ValueError:
            raise GeometryError(_("no area %(code)s in this layer"), code=repr(code)) from None

    def subset(self, codes: Sequence[str]) -> AreaGeometry:
        """The layer restricted to ``codes`` (in that order)."""
        return AreaGeometry(tuple(codes), np.array([self.geometry(c) for c in codes], dtype=object))

    def bounds(self) -> tuple[float, float, float, float]:
        """(min x, min y, max x, max y) of the whole layer."""
        b = shapely.total_bounds(self.geometries)
        return float(b[0]), float(b[1]), float(b[2]), float(b[3])


def polygonal(geom: Any) -> Any:
    """``geom`` made valid and reduced to its polygonal part (2-D), or ``None`` if it has none.

    Repairing here means a self-touching ring in a source file does not make every later union
    or intersection fail. A geometry GEOS cannot repair is a :class:`GeometryError`.
    """
    try:
        geom = shapely.force_2d(geom)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        if geom.geom_type in _POLYGONAL:
            return None if geom.is_empty else geom
        if geom.geom_type == "GeometryCollection":
            parts = [g for g in shapely.get_parts(geom) if g.geom_type in _POLYGONAL]
            if parts:
                return shapely.union_all(parts)
    except shapely.errors.ShapelyError as exc:
        raise GeometryError(_("unusable geometry: %(error)s"), error=str(exc)) from exc
    return None


def dissolve(codes: Sequence[str], geometries: Sequence[Any]) -> AreaGeometry:
    """One area per distinct code: the union of all parts with that code.

    Order follows the first appearance of each code, so a layer read twice is identical.
    """
    if len(codes) != len(geometries):
        raise GeometryError(_("%(codes)s codes but %(geometries)s geometries"),
                            codes=len(codes), geometries=len(geometries))
    groups: dict[str, list[Any]] = {}
    for code, geom in zip(codes, geometries, strict=True):
        part = polygonal(geom)
        if part is None:
            raise GeometryError(_("area %(code)s has a part that is not a polygon"),
                                code=repr(code))
        groups.setdefault(code, []).append(part)
    try:
        merged = [
            parts[0] if len(parts) == 1 else polygonal(shapely.union_all(parts))
            for parts in groups.values()
        ]
    except shapely.errors.ShapelyError as exc:
        raise GeometryError(_("cannot dissolve the parts: %(error)s"), error=str(exc)) from exc
    return AreaGeometry(tuple(groups), np.array(merged, dtype=object))
