"""Area layers: dissolving parts into one polygon per code, and GeoJSON parsing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from tryg import geo


def test_dissolve_unions_parts_with_one_code() -> None:
    parts = [shapely.box(0, 0, 1, 1), shapely.box(5, 5, 6, 6), shapely.box(1, 0, 2, 1)]
    layer = geo.dissolve(["A", "B", "A"], parts)
    assert layer.codes == ("A", "B")
    assert layer.geometry("A").equals(shapely.box(0, 0, 2, 1))
    assert layer.geometry("B").area == pytest.approx(1.0)


def test_dissolve_keeps_islands_as_a_multipolygon() -> None:
    layer = geo.dissolve(["A", "A"], [shapely.box(0, 0, 1, 1), shapely.box(3, 0, 4, 1)])
    assert layer.geometry("A").geom_type == "MultiPolygon"
    assert layer.geometry("A").area == pytest.approx(2.0)


def test_dissolve_repairs_a_bow_tie() -> None:
    bow_tie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    assert not bow_tie.is_valid
    layer = geo.dissolve(["A"], [bow_tie])
    assert layer.geometry("A").is_valid
    assert layer.geometry("A").area == pytest.approx(2.0)


def test_area_geometry_rejects_repeated_codes_and_lines() -> None:
    box = shapely.box(0, 0, 1, 1)
    with pytest.raises(geo.GeometryError, match="appears twice"):
        geo.AreaGeometry(("A", "A"), np.array([box, box], dtype=object))
    with pytest.raises(geo.GeometryError, match="not a polygon"):
        geo.AreaGeometry(("A",), np.array([shapely.LineString([(0, 0), (1, 1)])], dtype=object))
    with pytest.raises(geo.GeometryError, match="no area 'Z'"):
        geo.dissolve(["A"], [box]).geometry("Z")


def test_geojson_drops_the_third_coordinate_and_checks_numbers() -> None:
    feature = {"type": "Feature", "properties": {"c": "1"}, "geometry": {
        "type": "Polygon", "coordinates": [[[0, 0, -999], [1, 0, -999], [1, 1, -999],
                                            [0, 0, -999]]]}}
    (parsed,) = geo.features_from_geojson({"type": "FeatureCollection", "features": [feature]})
    assert not parsed.geometry.has_z
    feature["geometry"]["coordinates"][0][1] = [1, float("inf")]  # type: ignore[index]
    with pytest.raises(geo.GeometryError, match="feature 1: a position must be"):
        geo.features_from_geojson({"type": "FeatureCollection", "features": [feature]})


def test_dagi_kommuner_dissolve_to_99_codes(shared_data: Path) -> None:
    document = json.loads((shared_data / "dk_kommuner_dagi2014.geojson").read_text("utf-8"))
    features = geo.features_from_geojson(document)
    assert len(features) == 311
    layer = geo.dissolve([f.properties["KOMKODE"] for f in features],
                         [f.geometry for f in features])
    assert len(layer) == 99  # 98 kommuner + Christiansø
    assert "0851" in layer.codes and "0411" in layer.codes
    assert layer.geometry("0851").contains(shapely.Point(9.9217, 57.0488))  # Aalborg centre
