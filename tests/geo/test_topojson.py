"""TopoJSON decoding: quantized, delta-encoded arcs back to polygons."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
import shapely

from tryg import geo


def two_squares(quantized: bool) -> dict[str, Any]:
    """Two unit squares side by side sharing the arc x = 1 (arc 1), as TopoJSON."""
    shared = [[1, 0], [1, 1]]
    left = [[1, 1], [0, 1], [0, 0], [1, 0]]
    right = [[1, 0], [2, 0], [2, 1], [1, 1]]
    arcs = [left, shared, right]
    topology: dict[str, Any] = {"type": "Topology", "objects": {"areas": {
        "type": "GeometryCollection",
        "geometries": [
            {"type": "Polygon", "properties": {"code": "L"}, "arcs": [[0, 1]]},
            {"type": "Polygon", "properties": {"code": "R"}, "arcs": [[2, -2]]},
        ],
    }}}
    if quantized:
        # scale 0.5: integer positions are doubled, then delta-encoded per arc.
        def encode(arc: list[list[int]]) -> list[list[int]]:
            pts = [[2 * x, 2 * y] for x, y in arc]
            return [pts[0]] + [[b[0] - a[0], b[1] - a[1]] for a, b in itertools.pairwise(pts)]

        topology["arcs"] = [encode(a) for a in arcs]
        topology["transform"] = {"scale": [0.5, 0.5], "translate": [10.0, 50.0]}
    else:
        topology["arcs"] = arcs
    return topology


@pytest.mark.parametrize("quantized", [False, True])
def test_two_squares_share_an_arc(quantized: bool) -> None:
    features = geo.features_from_topojson(two_squares(quantized))
    assert [f.properties["code"] for f in features] == ["L", "R"]
    dx, dy = (10.0, 50.0) if quantized else (0.0, 0.0)
    left, right = (f.geometry for f in features)
    assert left.equals(shapely.box(dx, dy, dx + 1, dy + 1))
    assert right.equals(shapely.box(dx + 1, dy, dx + 2, dy + 1))
    assert left.is_valid and right.is_valid
    assert left.intersection(right).length == pytest.approx(1.0)  # the shared edge


def test_arc_index_out_of_range_names_the_geometry() -> None:
    topology = two_squares(False)
    topology["objects"]["areas"]["geometries"][1]["arcs"] = [[2, 7]]
    with pytest.raises(geo.GeometryError, match=r"geometry 2 of 'areas': arc 7 does not exist"):
        geo.features_from_topojson(topology)


def test_several_objects_need_a_name() -> None:
    topology = two_squares(False)
    topology["objects"]["other"] = topology["objects"]["areas"]
    with pytest.raises(geo.GeometryError, match="several objects"):
        geo.features_from_topojson(topology)
    assert len(geo.features_from_topojson(topology, "other")) == 2


def test_not_a_topology() -> None:
    with pytest.raises(geo.GeometryError, match="not a TopoJSON Topology"):
        geo.features_from_topojson({"type": "FeatureCollection"})


def test_dagi_sogne_decode_to_2148_parishes(shared_data: Path) -> None:
    topology = json.loads((shared_data / "dk_sogne_dagi2014.topojson").read_text("utf-8"))
    features = geo.features_from_topojson(topology, "stdin")
    assert len(features) == 2468
    codes = [f.properties["SOGNEKODE"] for f in features]
    assert len(set(codes)) == 2148
    layer = geo.dissolve(codes, [f.geometry for f in features])
    assert len(layer) == 2148
    # Decoded into Denmark (lon 8-15.2, lat 54.5-57.8), not left in quantized units.
    x0, y0, x1, y1 = layer.bounds()
    assert 8.0 < x0 < x1 < 15.3 and 54.5 < y0 < y1 < 57.8
    budolfi = next(f for f in features if f.properties["SOGNENAVN"] == "Budolfi")
    assert budolfi.geometry.contains(shapely.Point(9.9187, 57.0488))  # Budolfi Kirke, Aalborg
