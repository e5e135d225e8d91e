"""The shipped specifications: found as package data, loadable by id or as text."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

import tryg.index.catalog as catalog
from tryg.index.catalog import load_spec, shipped_specs, shipped_text
from tryg.index.spec import Spec, SpecError, parse_spec

SPECS_DIR = Path(catalog.__file__).parent / "specs"
ROOT = Path(__file__).resolve().parents[2]


def test_the_three_specs_ship() -> None:
    assert shipped_specs() == ["dk-tryghedsindeks", "rotterdam-wijkprofiel", "separate-indices"]


def test_shipped_ids_are_the_files_in_the_package() -> None:
    assert shipped_specs() == sorted(p.stem for p in SPECS_DIR.glob("*.toml"))


@pytest.mark.parametrize("spec_id", shipped_specs())
def test_each_shipped_spec_loads_by_id_and_declares_its_file_name(spec_id: str) -> None:
    spec = load_spec(spec_id)
    assert isinstance(spec, Spec)
    assert spec.id == spec_id  # shipped_specs() relies on file name == declared id
    assert spec.title.da and spec.title.en


@pytest.mark.parametrize("spec_id", shipped_specs())
def test_loading_text_gives_the_same_spec_and_hash(spec_id: str) -> None:
    text = (SPECS_DIR / f"{spec_id}.toml").read_text(encoding="utf-8")
    assert shipped_text(spec_id) == text
    from_text = load_spec(text)
    assert from_text.hash == load_spec(spec_id).hash == parse_spec(text).hash
    assert from_text == load_spec(spec_id)


def test_a_users_text_with_a_change_has_another_hash() -> None:
    text = shipped_text("dk-tryghedsindeks").replace("min_n = 50", "min_n = 60")
    spec = load_spec(text)
    assert spec.publication.min_n == 60
    assert spec.hash != load_spec("dk-tryghedsindeks").hash


def test_an_unknown_id_names_the_shipped_ones() -> None:
    with pytest.raises(SpecError, match="dk-tryghedsindeks") as exc:
        load_spec("dk-tryghedsindex")
    assert "not a shipped specification" in str(exc.value)
    with pytest.raises(SpecError):
        shipped_text("no-such-spec")


def test_invalid_text_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="TOML"):
        load_spec("[spec\nid = 1\n")


def test_loading_by_id_is_cached() -> None:
    assert load_spec("separate-indices") is load_spec("separate-indices")


def test_specs_are_package_data_in_pyproject() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]["tryg"]
    assert "index/specs/*.toml" in data


def test_catalog_reads_no_files_by_path() -> None:
    # The pure core's one read is through importlib.resources (see the module docstring).
    source = Path(catalog.__file__).read_text(encoding="utf-8")
    for forbidden in ("import os", "import pathlib", "from pathlib", "open("):
        assert forbidden not in source
