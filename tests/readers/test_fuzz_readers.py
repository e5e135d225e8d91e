"""Property: whatever bytes a reader is given, it returns or raises ``InputError``.

Never a ``UnicodeDecodeError``, ``KeyError``, a pandas, openpyxl, pyreadstat or shapely
exception, and never a warning (the test suite turns warnings into errors). Inputs are random
bytes and valid files with random edits, written to a temporary folder.
"""

from __future__ import annotations

import json
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
