"""GeometryError: English text as before, plus the marked template a page translates."""

from __future__ import annotations

import pytest

from tryg import geo
from tryg.messages import Marked


def test_a_geometry_error_keeps_its_english_text_and_carries_its_template() -> None:
    topology = {"type": "Topology", "arcs": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
                "objects": {"areas": {"type": "GeometryCollection", "geometries": [
                    {"type": "Polygon", "arcs": [[0, ~7]]}]}}}
    with pytest.raises(geo.GeometryError) as caught:
        geo.features_from_topojson(topology)
    error = caught.value
    assert str(error) == "geometry 1 of 'areas': arc 7 does not exist (1 arcs)"
    assert error.template == ("geometry %(number)s of %(object)s: arc %(arc)s does not exist "
                              "(%(count)s arcs)")
    assert error.params == {"number": 1, "object": "'areas'", "arc": 7, "count": 1}
    assert error.marked == Marked(error.template, error.params)
    assert str(error.marked) == str(error)
    assert isinstance(error, ValueError)


def test_a_geojson_error_names_the_feature_by_its_number() -> None:
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": None},
        {"type": "Feature", "properties": {}, "geometry": {"type": "Blob"}}]}
    with pytest.raises(geo.GeometryError) as caught:
        geo.features_from_geojson(document)
    assert str(caught.value) == "feature 2: unknown geometry type 'Blob'"
    assert (caught.value.template, caught.value.params) == (
        "feature %(number)s: unknown geometry type %(kind)s", {"number": 2, "kind": "'Blob'"})


def test_a_message_without_params_is_its_template() -> None:
    with pytest.raises(geo.GeometryError) as caught:
        geo.features_from_topojson({"type": "FeatureCollection"})
    assert str(caught.value) == caught.value.template == "the document is not a TopoJSON Topology"
    assert caught.value.params == {}
