"""GeoPackage and Shapefile boundaries: written here in EPSG:25832 from DAGI's WGS84 GeoJSON,
read back through the same reader, reprojected and dissolved as the GeoJSON is."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyogrio import raw

from tryg import geo
from tryg.index.inputs import InputError
from tryg.readers import read_area_geometry, read_areas

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])
SHP_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


def to_utm(geometry: Any) -> Any:
    def move(coords: Any) -> Any:
        return np.column_stack(geo.reproject(coords[:, 0], coords[:, 1], geo.WGS84, geo.UTM32))

    return shapely.transform(geometry, move)


def write_layer(path: Path, fields: dict[str, list[Any]], geometries: list[Any], *,
                crs: str | None, layer: str | None = None, append: bool = False) -> Path:
    driver = "GPKG" if path.suffix == ".gpkg" else "ESRI Shapefile"
    if crs is None:  # pyogrio rightly warns about a layer without a CRS
        with pytest.warns(UserWarning, match="'crs' was not provided"):
            return write_layer(path, fields, geometries, crs="", layer=layer, append=append)
    raw.write(str(path), np.array([shapely.to_wkb(g) for g in geometries], dtype=object),
              [np.array(v, dtype=object) for v in fields.values()], list(fields),
              geometry_type="MultiPolygon", crs=crs or None, driver=driver, promote_to_multi=True,
              layer=layer, append=append)
    return path


@pytest.fixture(scope="module")
def kommuner(shared_data: Path) -> list[geo.Feature]:
    document = json.loads((shared_data / "dk_kommuner_dagi2014.geojson").read_text("utf-8"))
    return geo.features_from_geojson(document)


@pytest.fixture(scope="module")
def utm_files(kommuner: list[geo.Feature], tmp_path_factory: pytest.TempPathFactory
              ) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("utm")
    fields = {"KOMKODE": [f.properties["KOMKODE"] for f in kommuner],
              "KOMNAVN": [f.properties["KOMNAVN"] for f in kommuner]}
    geoms = [to_utm(f.geometry) for f in kommuner]
    files = {suffix: write_layer(folder / f"kommuner{suffix}", fields, geoms, crs=geo.UTM32)
             for suffix in (".gpkg", ".shp")}
    files[".zip"] = folder / "kommuner.zip"
    with zipfile.ZipFile(files[".zip"], "w") as archive:
        for part in SHP_PARTS:
            archive.write(folder / f"kommuner{part}", f"kommuner{part}")
    return files


@pytest.mark.parametrize("suffix", [".gpkg", ".shp", ".zip"])
def test_utm32_layers_come_back_as_the_wgs84_source(
    suffix: str, utm_files: dict[str, Path], shared_data: Path
) -> None:
    source, expected, _ = read_area_geometry(shared_data / "dk_kommuner_dagi2014.geojson")
    areas, layer, report = read_area_geometry(utm_files[suffix])
    assert report.rows_read == 311  # DAGI's features: islands are parts, dissolved by code
    assert len(layer) == 99 and layer.codes == expected.codes
    assert list(areas.areas["name"]) == list(source.areas["name"])
    assert set(areas.areas["level"]) == {"kommune"}
    for code in ("0851", "0101", "0400", "0411"):
        got, want = layer.geometry(code), expected.geometry(code)
        # the round trip through UTM moves no vertex by more than ~1 mm (1e-8 degrees)
        assert shapely.hausdorff_distance(got, want) < 1e-7
        assert got.area == pytest.approx(want.area, rel=1e-9)
    first = shapely.get_coordinates(kommuner_ring(layer.geometry("0851")))[0]
    assert 9.5 < first[0] < 10.6 and 56.8 < first[1] < 57.2  # Aalborg, in lon/lat
    assert layer.bounds() == pytest.approx(expected.bounds(), abs=1e-7)


def kommuner_ring(geometry: Any) -> Any:
    return shapely.get_exterior_ring(shapely.get_parts(geometry)[0])


def test_read_areas_reads_geopackages_too(utm_files: dict[str, Path]) -> None:
    areas, report = read_areas(utm_files[".gpkg"], level="municipality")
    assert len(areas.areas) == 99 and set(areas.areas["level"]) == {"municipality"}
    assert report.rows_used == 311


def test_a_shapefile_without_crs_needs_one(tmp_path: Path, kommuner: list[geo.Feature]) -> None:
    aalborg = [f for f in kommuner if f.properties["KOMKODE"] == "0851"]
    fields = {"code": ["0851"] * len(aalborg), "name": ["Aalborg"] * len(aalborg)}
    utm = write_layer(tmp_path / "utm.shp", fields, [to_utm(f.geometry) for f in aalborg],
                      crs=None)
    assert not (tmp_path / "utm.prj").exists()
    with pytest.raises(InputError, match="give crs="):
        read_area_geometry(utm, level="kommune")
    _, layer, _ = read_area_geometry(utm, level="kommune", crs="EPSG:25832")
    assert layer.geometry("0851").contains(shapely.Point(9.92, 57.05))
    lonlat = write_layer(tmp_path / "lonlat.shp", fields, [f.geometry for f in aalborg], crs=None)
    _, layer, _ = read_area_geometry(lonlat, level="kommune")
    assert layer.geometry("0851").contains(shapely.Point(9.92, 57.05))


def test_several_layers_need_a_choice(tmp_path: Path) -> None:
    path = tmp_path / "two.gpkg"
    box = to_utm(shapely.box(9.9, 57.0, 10.0, 57.1))
    write_layer(path, {"code": ["A"], "name": ["Box A"]}, [box], crs=geo.UTM32, layer="a")
    write_layer(path, {"code": ["B"], "name": ["Box B"]}, [box], crs=geo.UTM32, layer="b",
                append=True)
    with pytest.raises(InputError, match=r"several layers \['a', 'b'\]"):
        read_area_geometry(path, level="test")
    _, layer, _ = read_area_geometry(path, level="test", object_name="b")
    assert layer.codes == ("B",)
    assert layer.bounds() == pytest.approx((9.9, 57.0, 10.0, 57.1), abs=1e-7)
    with pytest.raises(InputError, match="no layer 'c'"):
        read_area_geometry(path, level="test", object_name="c")


def test_broken_files_are_input_errors(tmp_path: Path) -> None:
    not_one = "the file is not a GeoPackage or Shapefile — is it saved in another format"
    for name, data, said in (("empty.gpkg", b"", "the file is empty"),
                             ("text.gpkg", b"code,name\n1,a\n", not_one),
                             ("junk.shp", b"\x00" * 200, not_one)):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError, match=said) as caught:
            read_area_geometry(tmp_path / name, level="test")
        assert str(tmp_path) not in caught.value.problems[0].message  # GDAL names the path
    with pytest.raises(InputError, match="no such file"):
        read_area_geometry(tmp_path / "missing.gpkg", level="test")


def _small_files(folder: Path) -> dict[str, bytes]:
    """A two-feature layer as GPKG and as SHP parts, for mutation."""
    boxes = [to_utm(shapely.box(9.9, 57.0, 10.0, 57.1)), to_utm(shapely.box(10, 57, 10.1, 57.1))]
    fields = {"KOMKODE": ["0851", "0851"], "KOMNAVN": ["Aalborg", "Aalborg"]}
    write_layer(folder / "seed.gpkg", fields, boxes, crs=geo.UTM32)
    write_layer(folder / "seed.shp", fields, boxes, crs=geo.UTM32)
    return {p.suffix: p.read_bytes() for p in folder.iterdir() if p.stem == "seed"}


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return _small_files(tmp_path_factory.mktemp("seed"))


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    out = bytearray(data)
    for position, value in edits:
        if out:
            out[position % len(out)] = value
    return bytes(out[:cut] if cut is not None else out)


def _only_input_errors(path: Path) -> None:
    try:
        read_area_geometry(path, level="test")
    except InputError as exc:
        assert exc.problems and all(p.message for p in exc.problems)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=12)
CUTS = st.one_of(st.none(), st.integers(0, 1 << 16))


@FUZZ
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".gpkg", ".shp", ".zip"]))
def test_fuzz_random_bytes(data: bytes, suffix: str, tmp_path: Path) -> None:
    path = tmp_path / f"random{suffix}"
    path.write_bytes(data)
    _only_input_errors(path)


@FUZZ
@given(edits=EDITS, cut=CUTS)
def test_fuzz_edited_geopackage(edits: list[tuple[int, int]], cut: int | None,
                                seeds: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "edited.gpkg"
    path.write_bytes(_mutate(seeds[".gpkg"], edits, cut))
    _only_input_errors(path)


@FUZZ
@given(part=st.sampled_from([".shp", ".shx", ".dbf", ".prj"]), edits=EDITS, cut=CUTS)
def test_fuzz_edited_shapefile(part: str, edits: list[tuple[int, int]], cut: int | None,
                               seeds: dict[str, bytes], tmp_path: Path) -> None:
    for suffix, data in seeds.items():
        (tmp_path / f"edited{suffix}").write_bytes(
            _mutate(data, edits, cut) if suffix == part else data)
    _only_input_errors(tmp_path / "edited.shp")
