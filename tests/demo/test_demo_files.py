"""The written demo files: byte-identical per seed, readable back into the same tables."""

from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg.demo.files import FILES, MANIFEST, write_demo_data, write_files
from tryg.demo.model import STATEMENT, DemoData, area_rows, generate
from tryg.demo.truth import ITEMS


@pytest.fixture(scope="module")
def demo() -> DemoData:
    return generate(1, "small")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory, demo: DemoData) -> Path:
    out = tmp_path_factory.mktemp("demo") / "seed1"
    write_files(demo, out)
    return out


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_gives_byte_identical_files(written: Path, tmp_path: Path) -> None:
    write_demo_data(tmp_path / "again", seed=1, size="small")
    assert _bytes(tmp_path / "again") == _bytes(written)
    write_demo_data(tmp_path / "other", seed=2, size="small")
    other = _bytes(tmp_path / "other")
    assert other["survey.csv"] != _bytes(written)["survey.csv"]
    assert other["register_records.csv"] != _bytes(written)["register_records.csv"]


def test_manifest_lists_every_file_with_its_hash(written: Path) -> None:
    manifest = json.loads((written / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["statement"] == STATEMENT
    assert manifest["seed"] == 1 and manifest["size"] == "small"
    assert manifest["waves"] == [2019, 2020, 2021, 2022, 2023]
    assert [f["name"] for f in manifest["files"]] == list(FILES)
    assert sorted(p.name for p in written.iterdir()) == sorted([*FILES, MANIFEST])
    for entry in manifest["files"]:
        data = (written / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]
        assert len(data) == entry["bytes"]
        if entry["name"].endswith(".csv"):
            assert data.count(b"\n") == entry["rows"] + 1  # header + rows
            assert b"\r" not in data
    readme = (written / "README.txt").read_text(encoding="utf-8")
    assert STATEMENT in readme and "FICTIONAL" in readme


def test_csv_files_read_back_into_the_contract_tables(written: Path, demo: DemoData) -> None:
    text = {"respondent_id": str, "area_code": str, "stratum": str, "questionnaire": str,
            "code": str, "parent": str}
    survey = pd.read_csv(written / "survey.csv", dtype=text, encoding="utf-8")
    expected = demo.survey.responses.reset_index(drop=True)
    pd.testing.assert_frame_equal(survey, expected, check_dtype=False)
    assert survey[list(ITEMS)].dtypes.eq("float64").all()
    counts = pd.read_csv(written / "register_counts.csv", dtype=text)
    pd.testing.assert_frame_equal(counts, demo.register.counts.reset_index(drop=True),
                                  check_dtype=False)
    population = pd.read_csv(written / "population.csv", dtype=text)
    pd.testing.assert_frame_equal(population, demo.population.table.reset_index(drop=True),
                                  check_dtype=False)
    areas = pd.read_csv(written / "areas.csv", dtype=text, keep_default_na=False,
                        na_values={"valid_from": [""], "valid_to": [""]})
    rows = area_rows(demo.areas).fillna({"parent": ""})
    pd.testing.assert_frame_equal(areas, rows, check_dtype=False)
    records = pd.read_csv(written / "register_records.csv", dtype=text)
    assert len(records) == len(demo.records)
    assert records["date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert records["lon"].equals(demo.records["lon"].reset_index(drop=True))
    truth = pd.read_csv(written / "truth.csv", dtype=text)
    assert len(truth) == len(demo.truth.table)
    assert np.allclose(truth["value"], demo.truth.table["value"], rtol=1e-11, atol=0)


def test_geojson_is_a_fictional_square_per_neighbourhood(written: Path, demo: DemoData) -> None:
    doc = json.loads((written / "areas.geojson").read_text(encoding="utf-8"))
    assert doc["type"] == "FeatureCollection" and "FICTIONAL" in doc["name"]
    features = doc["features"]
    assert [f["properties"]["code"] for f in features] == list(demo.cells["code"])
    for feature in features:
        assert feature["properties"]["fictional"] is True
        ring = feature["geometry"]["coordinates"][0]
        assert len(ring) == 5 and ring[0] == ring[-1]
        area2 = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in itertools.pairwise(ring))
        assert area2 > 0  # counter-clockwise exterior ring (RFC 7946)


def test_refuses_a_directory_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError, match="not empty"):
        write_demo_data(tmp_path, seed=1)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_rewrites_earlier_demo_data(written: Path, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    write_demo_data(out, seed=2)
    write_demo_data(out, seed=1)
    assert _bytes(out) == _bytes(written)
