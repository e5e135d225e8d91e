"""TopoJSON decoding: arcs back to polygons.

Why our own ~100 lines rather than a package: the ``topojson`` package on PyPI encodes
(GeoDataFrame → TopoJSON) and is not available from this project's package index; decoding is
a small, fully specified algorithm (https://github.com/topojson/topojson-specification), and
doing it on the parsed dict keeps it pure and lets every malformed arc index be reported with
the geometry's number instead of failing deep inside a third-party library.

The steps: undo quantization (``transform``: positions are delta-encoded integers, scaled and
translated), then build each ring from its arcs (a negative index ``~i`` means arc ``i``
reversed; consecutive arcs share their end point, which is written once).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from tryg.geo.errors import GeometryError
from tryg.geo.features import COORDINATE_LIMIT, MAX_COORDINATE, Feature
from tryg.messages import mark as _

Arc = NDArray[np.float64]
# Where in the topology a geometry is: its number and its object's name, the params of every
# message about it ("geometry %(number)s of %(object)s: ...").
At = Mapping[str, object]


def _decode_arcs(topology: Mapping[str, Any]) -> list[Arc]:
    raw = topology.get("arcs")
    if not isinstance(raw, list):
        raise GeometryError(_("the topology has no list 'arcs'"))
    transform = topology.get("transform")
    scale, translate = (1.0, 1.0), (0.0, 0.0)
    if transform is not None:
        try:
            sx, sy = (float(v) for v in transform["scale"])
            tx, ty = (float(v) for v in transform["translate"])
        except (KeyError, TypeError, ValueError) as exc:
            raise GeometryError(_("the topology's transform is malformed: %(error)s"),
                                error=str(exc)) from exc
        scale, translate = (sx, sy), (tx, ty)
    arcs: list[Arc] = []
    for number, arc in enumerate(raw):
        try:
            pos = np.array([p[:2] for p in arc], dtype=np.float64)
        except (TypeError, ValueError, IndexError) as exc:
            raise GeometryError(_("arc %(number)s is malformed: %(error)s"), number=number,
                                error=str(exc)) from None
        if pos.ndim != 2 or pos.shape[1] != 2 or len(pos) < 2 or not np.isfinite(pos).all():
            raise GeometryError(_("arc %(number)s needs at least two finite [x, y] positions"),
                                number=number)
        if transform is not None:
            pos = np.cumsum(pos, axis=0)
        pos[:, 0] = pos[:, 0] * scale[0] + translate[0]
        pos[:, 1] = pos[:, 1] * scale[1] + translate[1]
        if not (np.isfinite(pos).all() and (np.abs(pos) <= MAX_COORDINATE).all()):
            raise GeometryError(_("arc %(number)s decodes to coordinates beyond ±%(limit)s"),
                                number=number, limit=COORDINATE_LIMIT)
        arcs.append(pos)
    return arcs


def _ring(indices: Any, arcs: Sequence[Arc], at: At) -> Arc:
    if not isinstance(indices, list) or not indices:
        raise GeometryError(_("geometry %(number)s of %(object)s: a ring must be a non-empty "
                              "list of arc indices"), **at)
    pieces: list[Arc] = []
    for k, index in enumerate(indices):
        if not isinstance(index, int) or isinstance(index, bool):
            raise GeometryError(_("geometry %(number)s of %(object)s: arc index %(index)s is "
                                  "not an integer"), **at, index=repr(index))
        arc_no = index if index >= 0 else ~index
        if arc_no >= len(arcs):
            raise GeometryError(_("geometry %(number)s of %(object)s: arc %(arc)s does not "
                                  "exist (%(count)s arcs)"), **at, arc=arc_no, count=len(arcs))
        arc = arcs[arc_no] if index >= 0 else arcs[arc_no][::-1]
        pieces.append(arc if k == 0 else arc[1:])
    return np.concatenate(pieces)


def _polygon(rings: Any, arcs: Sequence[Arc], at: At) -> Any:
    if not isinstance(rings, list) or not rings:
        raise GeometryError(_("geometry %(number)s of %(object)s: a polygon must be a "
                              "non-empty list of rings"), **at)
    coords = [_ring(r, arcs, at) for r in rings]
    for c in coords:
        if len(c) < 4:
            raise GeometryError(_("geometry %(number)s of %(object)s: a ring needs at least 4 "
                                  "positions, has %(count)s"), **at, count=len(c))
    try:
        return shapely.Polygon(coords[0], coords[1:])
    except (ValueError, shapely.errors.ShapelyError) as exc:
        raise GeometryError(_("geometry %(number)s of %(object)s: %(error)s"), **at,
                            error=str(exc)) from exc


def _point(pos: Any, transform: Mapping[str, Any] | None, at: At) -> Any:
    if not isinstance(pos, list) or len(pos) < 2 or not all(
        isinstance(v, int | float) and math.isfinite(v) for v in pos[:2]
    ):
        raise GeometryError(_("geometry %(number)s of %(object)s: a position must be finite "
                              "numbers [x, y]"), **at)
    x, y = float(pos[0]), float(pos[1])
    if transform is not None:
        x = x * float(transform["scale"][0]) + float(transform["translate"][0])
        y = y * float(transform["scale"][1]) + float(transform["translate"][1])
    if not (abs(x) <= MAX_COORDINATE and abs(y) <= MAX_COORDINATE):
        raise GeometryError(_("geometry %(number)s of %(object)s: a position beyond "
                              "±%(limit)s"), **at, limit=COORDINATE_LIMIT)
    return shapely.Point(x, y)


def _geometry(obj: Any, arcs: Sequence[Arc], transform: Any, at: At) -> Any:
    if not isinstance(obj, Mapping):
        raise GeometryError(_("geometry %(number)s of %(object)s: not a geometry object"), **at)
    kind, a = obj.get("type"), obj.get("arcs")
    if kind is None:
        return None
    if kind == "Polygon":
        return _polygon(a, arcs, at)
    if kind == "MultiPolygon":
        if not isinstance(a, list):
            raise GeometryError(_("geometry %(number)s of %(object)s: a MultiPolygon needs a "
                                  "list of polygons"), **at)
        return shapely.MultiPolygon([_polygon(p, arcs, at) for p in a])
    if kind == "LineString":
        return shapely.LineString(_ring(a, arcs, at))
    if kind == "MultiLineString":
        if not isinstance(a, list):
            raise GeometryError(_("geometry %(number)s of %(object)s: a MultiLineString needs "
                                  "a list of lines"), **at)
        return shapely.MultiLineString([_ring(line, arcs, at) for line in a])
    if kind == "Point":
        return _point(obj.get("coordinates"), transform, at)
    if kind == "MultiPoint":
        pts = obj.get("coordinates")
        if not isinstance(pts, list):
            raise GeometryError(_("geometry %(number)s of %(object)s: a MultiPoint needs a list "
                                  "of positions"), **at)
        return shapely.MultiPoint([_point(p, transform, at) for p in pts])
    raise GeometryError(_("geometry %(number)s of %(object)s: unknown geometry type %(kind)s"),
                        **at, kind=repr(kind))


def features_from_topojson(topology: Any, object_name: str | None = None) -> list[Feature]:
    """The geometries of one object of a TopoJSON topology, as features (1-based numbers).

    ``object_name`` defaults to the only object; with several, it must be given.
    """
    if not isinstance(topology, Mapping) or topology.get("type") != "Topology":
        raise GeometryError(_("the document is not a TopoJSON Topology"))
    objects = topology.get("objects")
    if not isinstance(objects, Mapping) or not objects:
        raise GeometryError(_("the topology has no objects"))
    if object_name is None:
        if len(objects) != 1:
            raise GeometryError(_("the topology has several objects %(objects)s: name one"),
                                objects=str(sorted(objects)))
        object_name = next(iter(objects))
    if object_name not in objects:
        raise GeometryError(_("the topology has no object %(object)s (has %(objects)s)"),
                            object=repr(object_name), objects=str(sorted(objects)))
    transform = topology.get("transform")
    arcs = _decode_arcs(topology)
    obj = objects[object_name]
    if isinstance(obj, Mapping) and obj.get("type") == "GeometryCollection":
        members = obj.get("geometries")
        if not isinstance(members, list):
            raise GeometryError(_("object %(object)s has no list 'geometries'"),
                                object=repr(object_name))
    else:
        members = [obj]
    out: list[Feature] = []
    for number, member in enumerate(members, start=1):
        at: At = {"number": number, "object": repr(object_name)}
        props = member.get("properties", {}) if isinstance(member, Mapping) else {}
        if not isinstance(props, Mapping):
            raise GeometryError(_("geometry %(number)s of %(object)s: 'properties' is not an "
                                  "object"), **at)
        out.append(Feature(number, props or {}, _geometry(member, arcs, transform, at)))
    return out
