"""Which parent area each child area lies in, from geometry alone.

DAGI's parishes and postal districts carry no kommune code, and their boundaries do not follow
kommune boundaries exactly (the files are generalised differently, and a few postal districts
really do cross a kommune border). So "contained in" means: the parent holding the largest
share of the child's area. A child whose largest share is below ``min_share`` belongs to none
(it straddles parents, or lies outside the parent layer); it maps to ``None`` so the caller can
report it rather than guess.

Areas are compared in lon/lat degrees. That distorts absolute areas, but the distortion is the
same for all pieces of one child (they lie at nearly the same latitude), so the shares that
decide the parent are unaffected.
"""

from __future__ import annotations

import numpy as np
import shapely

from tryg.geo.errors import GeometryError
from tryg.geo.layer import AreaGeometry
from tryg.messages import mark as _


def overlap_shares(children: AreaGeometry, parents: AreaGeometry) -> dict[str, dict[str, float]]:
    """For each child, the share of its area inside each parent it intersects."""
    child_i, parent_i = parents.tree.query(children.geometries, predicate="intersects")
    shares: dict[str, dict[str, float]] = {code: {} for code in children.codes}
    if len(child_i) == 0:
        return shares
    inter = shapely.area(
        shapely.intersection(children.geometries[child_i], parents.geometries[parent_i])
    )
    total = shapely.area(children.geometries[child_i])
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, inter / total, 0.0)
    for c, p, s in zip(child_i, parent_i, share, strict=True):
        if s > 0:
            shares[children.codes[c]][parents.codes[p]] = float(s)
    return shares


def contained_in(
    children: AreaGeometry, parents: AreaGeometry, *, min_share: float = 0.5
) -> dict[str, str | None]:
    """Child code → the parent code holding the largest share of it (``None`` if no parent
    holds at least ``min_share``).

    A child with no area (a degenerate polygon) is placed by its representative point.
    """
    if not 0.0 < min_share <= 1.0:
        raise GeometryError(_("min_share must be in (0, 1], not %(share)s"), share=min_share)
    shares = overlap_shares(children, parents)
    out: dict[str, str | None] = {}
    for code, geom in zip(children.codes, children.geometries, strict=True):
        by_parent = shares[code]
        if by_parent:
            best = max(by_parent, key=lambda p: (by_parent[p], p))
            out[code] = best if by_parent[best] >= min_share else None
        else:
            out[code] = None
            if shapely.area(geom) == 0:
                point = shapely.point_on_surface(geom)
                hits = parents.tree.query(point, predicate="intersects")
                if len(hits):
                    out[code] = parents.codes[int(min(hits))]
    return out
