"""Property: whatever bytes a reader is given, it returns or raises ``InputError``.

Never a ``UnicodeDecodeError``, ``KeyError``, a pandas, openpyxl, pyreadstat or shapely
exception, and never a warning (the test suite turns warnings into errors). Inputs are random
bytes and valid files with random edits, written to a temporary folder.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tryg import geo
from tryg.index.inputs import InputError
from tryg.readers import read_area_geometry, read_areas, read_population, read_register, read_survey

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

SURVEY = ("respondent_id;wave;area_code;weight;sex;q1;q2\n"
          "r1;2015;0851;1,5;m;2;1\n\"r2\";2015;0851;0,5;f;;7\nr3;2016;0101;2;f;8;3\n")
COUNTS = "area_code,quarter,offence,count\n0851,2015Q3,vold,4\n0851,2015K4,\"vold, grov\",0\n"
STRAF11 = ("REGION,TYPE OF OFFENCE,2015Q1,2015Q2\nAalborg,\"Penal Code, total\",2582,2601\n"
           "Region Nordjylland,\"Penal Code, total\",..,7000\n")
RECORDS = ("date,category,longitude,latitude\n2012-07-02,ROBBERY,-122.41,37.78\n"
           "2012-10-02,VANDALISM,-122.45,37.75\n2012-10-03,ROBBERY,,\n")
POPULATION = "municipality,year,population\nAalborg,2015,210316.75\nKøbenhavn,2015,580184\n"
AREAS = ("code,name,level,parent,valid_from,valid_to\n0851,Aalborg,kommune,,,\n"
         "N1,Løvvangen,neighbourhood,0851,2015,\n")
GEOJSON = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"KOMKODE": "0851", "KOMNAVN": "Aalborg"},
     "geometry": {"type": "Polygon", "coordinates": [[[9, 57, -999], [10, 57, -999],
                                                      [10, 58, -999], [9, 57, -999]]]}},
    {"type": "Feature", "properties": {"KOMKODE": "0851", "KOMNAVN": "Aalborg"},
     "geometry": {"type": "MultiPolygon", "coordinates": [[[[9, 56], [9.5, 56], [9.5, 56.5],
                                                            [9, 56]]]]}}]})
TOPOJSON = json.dumps({"type": "Topology", "transform": {"scale": [0.5, 0.5],
                                                         "translate": [9, 56]},
                       "arcs": [[[0, 0], [2, 0], [0, 2], [-2, -2]], [[0, 0], [0, 2]]],
                       "objects": {"stdin": {"type": "GeometryCollection", "geometries": [
                           {"type": "Polygon", "arcs": [[0]],
                            "properties": {"SOGNEKODE": "1", "SOGNENAVN": "A"}}]}}})
GRID = geo.AreaGeometry(("W", "E"), np.array([shapely.box(-122.6, 37.6, -122.43, 37.9),
                                              shapely.box(-122.43, 37.6, -122.3, 37.9)],
                                             dtype=object))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check(read: Callable[[Path], Any], path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        read(path)
    except InputError as exc:
        assert exc.problems, "an InputError must carry its problems"
        assert all(p.source == str(path) for p in exc.problems)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> bytes:
    """``text`` with a few random deletions, insertions and replacements (UTF-8 bytes)."""
    chars = list(text)
    alphabet = st.sampled_from([*',;"\n\r-.0123456789QKx ø\t\x00é', "..", "1e400"])
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, max(len(chars) - 1, 0)))
        op = draw(st.sampled_from(["delete", "insert", "replace"]))
        if op == "delete" and chars:
            del chars[pos]
        elif op == "insert":
            chars.insert(pos, draw(alphabet))
        elif chars:
            chars[pos] = draw(alphabet)
    data = "".join(chars).encode("utf-8")
    if draw(st.booleans()):
        return data
    cut = draw(st.integers(0, len(data)))  # a cut may split a UTF-8 sequence
    return data[:cut] + draw(st.binary(max_size=3)) + data[cut:]


READERS: dict[str, tuple[str, Callable[[Path], Any], str]] = {
    "survey": ("survey.csv", read_survey, SURVEY),
    "counts": ("counts.csv", read_register, COUNTS),
    "straf11": ("straf11.csv", read_register, STRAF11),
    "records": ("records.csv",
                lambda p: read_register(p, columns={"category": "offence"}, areas_geometry=GRID),
                RECORDS),
    "population": ("population.csv", read_population, POPULATION),
    "areas": ("areas.csv", read_areas, AREAS),
    "geojson": ("areas.geojson", read_area_geometry, GEOJSON),
    "topojson": ("areas.topojson", read_area_geometry, TOPOJSON),
}


@pytest.mark.parametrize("kind", sorted(READERS))
def test_valid_seed_reads(kind: str, folder: Path) -> None:
    """The seeds are valid, so the mutations start from a file that reads."""
    name, read, text = READERS[kind]
    path = folder / name
    path.write_text(text, encoding="utf-8")
    read(path)


@pytest.mark.parametrize("kind", sorted(READERS))
@FUZZ
@given(data=st.data())
def test_mutated_files_read_or_raise_input_error(kind: str, folder: Path, data: st.DataObject
                                                 ) -> None:
    name, read, text = READERS[kind]
    check(read, folder / name, data.draw(mutated(text)))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav", ".geojson", ".topojson"])
@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_read_or_raise_input_error(suffix: str, folder: Path, data: bytes) -> None:
    path = folder / f"random{suffix}"
    if suffix in (".geojson", ".topojson"):
        check(read_area_geometry, path, data)
    elif suffix == ".csv":
        for read in (read_survey, read_register, read_population, read_areas):
            check(read, path, data)
    else:
        check(read_survey, path, data)


# Numbers at and beyond the edges: what an export, a typo or an overflow writes into a cell.
EDGE_NUMBERS = st.one_of(
    st.sampled_from(["1e300", "-1e300", "1e400", "inf", "-inf", "nan", "NaN", "Infinity", "-1",
                     "-0", "0", "1e15", "1e16", "99999999999999999999",
                     "18446744073709551616", "-9223372036854775809", "1.5", "0x10", "1_000",
                     "", " ", "١٢", "²"]),
    st.integers(-(10**30), 10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)
#: Per reader: the seed (a header and one row) with ``{}`` where the number goes.
NUMBER_SEEDS: dict[str, tuple[str, Callable[[Path], Any], str]] = {
    "counts": ("counts.csv", read_register,
               "area_code,quarter,offence,count\n0851,2015Q3,vold,{}\n"),
    "straf11": ("straf11.csv", read_register,
                "REGION,TYPE OF OFFENCE,2015Q1\nAalborg,\"Penal Code, total\",{}\n"),
    "population": ("population.csv", read_population,
                   "municipality,year,population\nAalborg,2015,{}\n"),
    "population year": ("population.csv", read_population,
                        "municipality,year,population\nAalborg,{},100\n"),
    "survey weight": ("survey.csv", read_survey,
                      "respondent_id,wave,area_code,weight,q1\nr1,2015,0851,{},2\n"),
    "survey answer": ("survey.csv", read_survey,
                      "respondent_id,wave,area_code,weight,q1\nr1,2015,0851,1.5,{}\n"),
    "survey wave": ("survey.csv", read_survey,
                    "respondent_id,wave,area_code,weight,q1\nr1,{},0851,1.5,2\n"),
}


def _finite_frames(result: Any) -> None:
    """Every number a reader returns is finite and within the readers' bound."""
    from tryg.readers.cells import MAX_MAGNITUDE

    for value in vars(result[0]).values() if isinstance(result, tuple) else [result]:
        if hasattr(value, "select_dtypes"):
            numeric = value.select_dtypes("number").to_numpy(dtype=float)
            present = numeric[~np.isnan(numeric)]
            assert np.isfinite(present).all() and (np.abs(present) <= MAX_MAGNITUDE).all()


@pytest.mark.parametrize("kind", sorted(NUMBER_SEEDS))
@FUZZ
@given(number=EDGE_NUMBERS)
def test_edge_numbers_read_as_bounded_finite_numbers_or_raise_input_error(
        kind: str, folder: Path, number: str) -> None:
    name, read, seed = NUMBER_SEEDS[kind]
    path = folder / name
    path.write_text(seed.format(number), encoding="utf-8")
    try:
        result = read(path)
    except InputError as exc:
        assert exc.problems and all(p.source == str(path) for p in exc.problems)
        return
    _finite_frames(result)


@pytest.mark.parametrize("number", ["1e300", "inf", "nan", "-1", "99999999999999999999"])
@pytest.mark.parametrize("kind", ["counts", "straf11", "population", "survey weight"])
def test_a_count_population_or_weight_out_of_bounds_names_row_and_column(
        kind: str, number: str, folder: Path) -> None:
    name, read, seed = NUMBER_SEEDS[kind]
    path = folder / name
    path.write_text(seed.format(number), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read(path)
    assert any(p.row == 2 and p.column for p in caught.value.problems), caught.value


SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@pytest.fixture(scope="module")
def shapefile(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A two-feature Shapefile's parts (written by GDAL)."""
    from pyogrio import raw

    folder = tmp_path_factory.mktemp("shp")
    boxes = [shapely.box(530000, 6300000, 531000, 6301000),
             shapely.box(531000, 6300000, 532000, 6301000)]
    raw.write(str(folder / "k.shp"), np.array([shapely.to_wkb(b) for b in boxes], dtype=object),
              [np.array(["0851", "0851"], dtype=object), np.array(["A", "A"], dtype=object)],
              ["KOMKODE", "KOMNAVN"], geometry_type="Polygon", crs=geo.UTM32,
              driver="ESRI Shapefile")
    return {p.suffix: p.read_bytes() for p in folder.iterdir()}


@pytest.mark.parametrize("missing", [".shp", ".shx", ".dbf"])
def test_a_zipped_shapefile_without_a_part_is_an_input_error(
        missing: str, shapefile: dict[str, bytes], tmp_path: Path) -> None:
    path = tmp_path / "kommuner.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for suffix, data in shapefile.items():
            if suffix != missing:
                archive.writestr(f"kommuner{suffix}", data)
    with pytest.raises(InputError, match=f"lacks its .*\\{missing}"):
        read_area_geometry(path, level="kommune")


@FUZZ
@given(parts=st.sets(st.sampled_from(SHAPEFILE_PARTS)),
       folder_name=st.sampled_from(["", "data/", "__MACOSX/"]),
       edit=st.one_of(st.none(), st.tuples(st.sampled_from(SHAPEFILE_PARTS),
                                           st.integers(0, 1 << 12), st.integers(0, 255))),
       extra=st.one_of(st.none(), st.binary(max_size=40)))
def test_zipped_shapefiles_with_any_parts_read_or_raise_input_error(
        parts: set[str], folder_name: str, edit: tuple[str, int, int] | None,
        extra: bytes | None, shapefile: dict[str, bytes], folder: Path) -> None:
    path = folder / "zipped.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for suffix in sorted(parts):
            data = bytearray(shapefile[suffix])
            if edit is not None and edit[0] == suffix and data:
                data[edit[1] % len(data)] = edit[2]
            archive.writestr(f"{folder_name}kommuner{suffix}", bytes(data))
        if extra is not None:
            archive.writestr("readme.txt", extra)
    check(lambda p: read_area_geometry(p, level="kommune"), path, path.read_bytes())
