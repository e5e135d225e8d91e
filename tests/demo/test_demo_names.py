"""The demo's names are invented: none is a real Danish parish, postal district or kommune."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tryg.demo.geography import KOMMUNE_CODE, district_names, housing_names
from tryg.demo.model import generate


def _real_names(shared_data: Path) -> set[str]:
    names: set[str] = set()
    topo = json.loads((shared_data / "dk_sogne_dagi2014.topojson").read_text(encoding="utf-8"))
    for geometry in topo["objects"]["stdin"]["geometries"]:
        names.add(geometry["properties"]["SOGNENAVN"])
    for file, key in (("dk_postnumre_dagi2014.geojson", "POSTBYNAVN"),
                      ("dk_kommuner_dagi2014.geojson", "KOMNAVN")):
        doc = json.loads((shared_data / file).read_text(encoding="utf-8"))
        names.update(f["properties"][key] for f in doc["features"])
    return {word for name in names for word in re.split(r"[\s\-/,.()]+", name.lower()) if word}


def test_no_demo_name_is_a_real_place(shared_data: Path) -> None:
    real = _real_names(shared_data)
    assert len(real) > 1500  # parishes, postal districts and kommuner were read
    invented = district_names(98) + housing_names(25)
    assert len(set(invented)) == len(invented)
    assert not [name for name in invented if name.lower() in real]


def test_codes_are_no_real_kommune_code(shared_data: Path) -> None:
    doc = json.loads((shared_data / "dk_kommuner_dagi2014.geojson").read_text(encoding="utf-8"))
    assert KOMMUNE_CODE not in {f["properties"]["KOMKODE"] for f in doc["features"]}
    codes = generate(1, "small").areas.areas["code"]
    assert codes.str.startswith(KOMMUNE_CODE).all()
