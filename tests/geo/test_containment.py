"""Child areas in parent areas by largest overlap: DAGI parishes and postal districts in
Aalborg Kommune."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from tryg import geo


def layer(codes: list[str], boxes: list[tuple[float, float, float, float]]) -> geo.AreaGeometry:
    return geo.AreaGeometry(tuple(codes), np.array([shapely.box(*b) for b in boxes],
                                                   dtype=object))


def test_largest_overlap_wins_and_stragglers_are_none() -> None:
    parents = layer(["P", "Q"], [(0, 0, 10, 10), (10, 0, 20, 10)])
    children = layer(
        ["inside", "mostly_q", "half", "outside"],
        [(1, 1, 2, 2), (9, 1, 13, 2), (8, 1, 12, 2), (30, 30, 31, 31)],
    )
    got = geo.contained_in(children, parents)
    assert got["inside"] == "P"
    assert got["mostly_q"] == "Q"
    assert got["half"] == "Q"  # exactly 50/50: ties go to the larger code, deterministically
    assert got["outside"] is None
    assert geo.contained_in(children, parents, min_share=0.9)["mostly_q"] is None
    with pytest.raises(geo.GeometryError):
        geo.contained_in(children, parents, min_share=0)


def _dagi(path: Path, code: str) -> geo.AreaGeometry:
    document = json.loads(path.read_text("utf-8"))
    if document.get("type") == "Topology":
        features = geo.features_from_topojson(document)
    else:
        features = geo.features_from_geojson(document)
    return geo.dissolve([f.properties[code] for f in features], [f.geometry for f in features])


@pytest.fixture(scope="module")
def kommuner(shared_data: Path) -> geo.AreaGeometry:
    return _dagi(shared_data / "dk_kommuner_dagi2014.geojson", "KOMKODE")


def test_57_sogne_lie_in_aalborg(shared_data: Path, kommuner: geo.AreaGeometry) -> None:
    sogne = _dagi(shared_data / "dk_sogne_dagi2014.topojson", "SOGNEKODE")
    kommune_of = geo.contained_in(sogne, kommuner)
    in_aalborg = [c for c, k in kommune_of.items() if k == "0851"]
    assert len(in_aalborg) == 57
    assert all(k is not None for k in kommune_of.values())


def test_18_postal_districts_lie_in_aalborg(shared_data: Path, kommuner: geo.AreaGeometry) -> None:
    post = _dagi(shared_data / "dk_postnumre_dagi2014.geojson", "POSTNR_TXT")
    kommune_of = geo.contained_in(post, kommuner)
    in_aalborg = sorted(c for c, k in kommune_of.items() if k == "0851")
    assert len(in_aalborg) == 18
    assert {"9000", "9200", "9210", "9220", "9400"} <= set(in_aalborg)
