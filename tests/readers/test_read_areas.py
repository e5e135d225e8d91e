"""Area lists (CSV hierarchies) and boundary layers (DAGI GeoJSON / TopoJSON)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import shapely
from pyproj import Transformer

from tryg.index.inputs import InputError
from tryg.readers import read_area_geometry, read_areas

HIERARCHY = (
    "code,name,level,parent,valid_from,valid_to\n"
    "0851,Aalborg,kommune,,,\n"
    "A1,Aalborg Øst,district,0851,,\n"
    "N1,Løvvangen,neighbourhood,A1,,\n"
    "N1,Løvvangen,neighbourhood,U1,2015,2019\n"
    "U1,Udsatte områder,vulnerable,0851,,\n"
)


def write(tmp_path: Path, text: str, name: str = "areas.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_hierarchy_with_several_parents(tmp_path: Path) -> None:
    areas, report = read_areas(write(tmp_path, HIERARCHY))
    assert areas.areas["code"].tolist() == ["0851", "A1", "N1", "U1"]
    assert areas.areas.index.tolist() == [2, 3, 4, 6]
    links = areas.links
    assert links["parent"].tolist() == ["0851", "A1", "U1", "0851"]
    assert links.loc[5, "valid_from"] == 2015 and links.loc[5, "valid_to"] == 2019
    assert math.isnan(links["valid_to"].loc[4])
    assert report.warnings == []


def test_csv_conflicts_are_errors(tmp_path: Path) -> None:
    text = HIERARCHY + "N1,Lövvangen,neighbourhood,A1,2020,2018\n"
    path = write(tmp_path, text)
    with pytest.raises(InputError) as exc:
        read_areas(path)
    found = {(p.source, p.row, p.column) for p in exc.value.problems}
    assert found == {(str(path), 7, "name"), (str(path), 7, "valid_to")}
    assert "row 4" in str(exc.value)


def test_csv_level_from_the_caller_and_renamed_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "kode,navn\n9000,Aalborg\n9400,Nørresundby\n")
    areas, _ = read_areas(path, code="kode", name="navn", level="postnummer")
    assert areas.areas["level"].tolist() == ["postnummer", "postnummer"]
    assert areas.links.empty


def test_dagi_kommuner(shared_data: Path) -> None:
    areas, layer, report = read_area_geometry(shared_data / "dk_kommuner_dagi2014.geojson")
    assert len(layer) == 99 == len(areas.areas)
    assert set(areas.areas["level"]) == {"kommune"}
    named = dict(zip(areas.areas["code"], areas.areas["name"], strict=True))
    assert named["0851"] == "Aalborg" and named["0101"] == "København"
    assert (report.rows_read, report.rows_used) == (311, 311)
    assert not layer.geometry("0851").has_z


def test_dagi_sogne_topojson(shared_data: Path) -> None:
    areas, layer, report = read_area_geometry(shared_data / "dk_sogne_dagi2014.topojson")
    assert len(layer) == 2148
    assert set(areas.areas["level"]) == {"sogn"}
    # DAGI 2014 gives code 9179 to two parishes far apart; the reader says so.
    assert [w.message for w in report.warnings] == [
        "feature 734: area '9179' is named 'Skamstrup-Frydendal' here but "
        "'Kollerup-Fjerritslev' in feature 544"
    ]


def test_dagi_postnumre_and_politikredse(shared_data: Path) -> None:
    areas, _ = read_areas(shared_data / "dk_postnumre_dagi2014.geojson")
    assert "9000" in set(areas.areas["code"])
    with pytest.raises(InputError) as exc:
        read_areas(shared_data / "dk_politikredse_dagi2014.geojson")
    assert "feature 227 (Københavns Vestegns Politi) has no 'POLKR_NR'" in str(exc.value)
    areas, report = read_areas(shared_data / "dk_politikredse_dagi2014.geojson",
                               missing_codes={"Københavns Vestegns Politi": "10"})
    assert len(areas.areas) == 12
    assert len(report.warnings) == 1


def test_geojson_in_utm32_is_reprojected(tmp_path: Path) -> None:
    to_utm = Transformer.from_crs("EPSG:4326", "EPSG:25832", always_xy=True)
    ring = [list(to_utm.transform(x, y)) for x, y in
            [(9.9, 57.0), (10.0, 57.0), (10.0, 57.1), (9.9, 57.1), (9.9, 57.0)]]
    document = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": [{"type": "Feature", "properties": {"code": "X", "name": "Box"},
                      "geometry": {"type": "Polygon", "coordinates": [ring]}}],
    }
    path = write(tmp_path, json.dumps(document), "box.geojson")
    _, layer, _ = read_area_geometry(path, level="test")
    assert layer.geometry("X").contains(shapely.Point(9.95, 57.05))
    assert layer.bounds() == pytest.approx((9.9, 57.0, 10.0, 57.1), abs=1e-6)


def test_geojson_problems(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid JSON"):
        read_areas(write(tmp_path, "{", "bad.geojson"))
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "X", "name": "Box"}, "geometry": None}]}
    with pytest.raises(InputError, match=r"feature 1 \(X\) has no polygon geometry"):
        read_areas(write(tmp_path, json.dumps(document), "null.geojson"), level="test")
    with pytest.raises(InputError, match="give level="):
        read_areas(write(tmp_path, json.dumps(document), "null.geojson"))


def test_a_file_nested_beyond_the_parser_is_refused_plainly(tmp_path: Path) -> None:
    """100,000 arrays inside each other: Python's parser gives up with a RecursionError;
    the reader says what is wrong with the file (and can say it in Danish), not Python's
    words."""
    with pytest.raises(InputError) as caught:
        read_areas(write(tmp_path, "[" * 100_000 + "]" * 100_000, "deep.geojson"))
    [problem] = caught.value.problems
    assert problem.message.startswith("the file is nested too deeply to be a boundary file")
    assert problem.template == problem.message and "recursion" not in problem.message


def test_a_nul_in_a_boundary_file_property_is_an_error(tmp_path: Path) -> None:
    """JSON may escape a NUL ("\\u0000"); no area code or name holds one, and PostgreSQL
    refuses it in text: the read fails naming the feature and property, not the write."""
    square = {"type": "Polygon", "coordinates": [[[9, 57], [10, 57], [10, 58], [9, 57]]]}
    document = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "0851", "name": "Aalborg"},
         "geometry": square},
        {"type": "Feature", "properties": {"code": "08\x0060", "name": "Aal\x00borg",
                                           "up": "0851"}, "geometry": square},
        {"type": "Feature", "properties": {"code": "0861", "name": "Hjørring", "up": "\x00"},
         "geometry": square}]}
    path = write(tmp_path, json.dumps(document), "nul.geojson")
    assert "\\u0000" in path.read_text(encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_area_geometry(path, code="code", name="name", level="kommune", parent="up")
    assert [(p.column, p.message) for p in caught.value.problems] == [
        ("code", "feature 2: the 'code' holds a NUL character"),
        ("name", "feature 2: the 'name' holds a NUL character"),
        ("up", "feature 3: the 'up' holds a NUL character")]
