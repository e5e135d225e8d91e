"""Names to codes (Statistics Denmark vs DAGI) and ancestors per year."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg.index.areas import hierarchy, normalise_name, reconcile_names
from tryg.index.inputs import Areas, InputError


def areas(rows: list[tuple[str, str, str]], links: list[tuple[str, str, float, float]] | None
          = None) -> Areas:
    frame = pd.DataFrame(rows, columns=["code", "name", "level"])
    link_frame = pd.DataFrame(links or [], columns=["code", "parent", "valid_from", "valid_to"])
    return Areas(frame, link_frame)


KOMMUNER = areas([("0851", "Aalborg", "kommune"), ("0101", "København", "kommune"),
                  ("0169", "Høje Taastrup", "kommune"), ("0411", "Christiansø", "kommune")])


@pytest.mark.parametrize(("raw", "expected"), [
    ("Høje-Taastrup", "høje taastrup"),
    ("  Høje   Taastrup ", "høje taastrup"),
    ("HØJE–TAASTRUP", "høje taastrup"),  # en dash
    ("Aalborg Kommune", "aalborg"),
    ("Lyngby-Taarbæk", "lyngby taarbæk"),
    ("Ærø", "ærø"),
])
def test_normalise_name(raw: str, expected: str) -> None:
    assert normalise_name(raw) == expected


def test_reconcile_matches_aliases_and_separates_aggregates() -> None:
    names = ["Aalborg", "Copenhagen", "Høje-Taastrup", "Region Nordjylland",
             "Unknown municipality", "Atlantis", "Aalborg"]
    result = reconcile_names(names, KOMMUNER, source="straf11.csv", rows=[2, 3, 4, 5, 6, 7, 8])
    assert result.codes == ("0851", "0101", "0169", None, None, None, "0851")
    assert [(p.row, p.column) for p in result.problems] == [(7, "area_name")]
    assert "'Atlantis' matches no area" in str(result.problems[0])
    assert [p.row for p in result.aggregates] == [5, 6]
    assert result.mapping(names)["Copenhagen"] == "0101"


def test_christiansoe_is_an_aggregate_only_when_absent() -> None:
    assert reconcile_names(["Christiansø"], KOMMUNER).codes == ("0411",)
    without = areas([("0851", "Aalborg", "kommune")])
    result = reconcile_names(["Christiansø"], without)
    assert result.codes == (None,) and not result.problems and len(result.aggregates) == 1


def test_ambiguous_names_need_a_level() -> None:
    both = areas([("0851", "Aalborg", "kommune"), ("9000", "Aalborg", "postnummer")])
    result = reconcile_names(["Aalborg"], both)
    assert result.codes == (None,) and "several areas" in result.problems[0].message
    assert reconcile_names(["Aalborg"], both, level="postnummer").codes == ("9000",)


def test_hierarchy_is_transitive_and_follows_validity() -> None:
    nan = np.nan
    tree = areas(
        [("K", "Kommune", "kommune"), ("D", "Distrikt", "district"),
         ("N", "Nabolag", "neighbourhood"), ("U", "Udsat", "vulnerable")],
        [("D", "K", nan, nan), ("N", "D", nan, nan), ("N", "U", 2015, 2016),
         ("U", "K", nan, nan)],
    )
    y2015 = hierarchy(tree, 2015)
    assert y2015["kommune"].to_dict() == {"K": "K", "D": "K", "N": "K", "U": "K"}
    assert y2015["district"].to_dict() == {"D": "D", "N": "D"}
    assert y2015["vulnerable"].to_dict() == {"N": "U", "U": "U"}
    assert "N" not in hierarchy(tree, 2017)["vulnerable"]


def test_two_parents_at_one_level_in_one_year_is_an_error() -> None:
    nan = np.nan
    tree = areas([("D1", "Øst", "district"), ("D2", "Vest", "district"),
                  ("N", "Nabolag", "neighbourhood")],
                 [("N", "D1", nan, 2015), ("N", "D2", 2015, nan)])
    assert hierarchy(tree, 2014)["district"]["N"] == "D1"
    assert hierarchy(tree, 2016)["district"]["N"] == "D2"
    with pytest.raises(InputError, match="N lies in both"):
        hierarchy(tree, 2015)


def test_all_98_kommuner_of_straf11_and_folk1a_match_dagi(shared_data: Path) -> None:
    from tryg.readers import read_areas, read_population, read_register

    dagi, _ = read_areas(shared_data / "dk_kommuner_dagi2014.geojson")
    straf11, _ = read_register(shared_data / "dk_straf11_offences_by_kommune_2007Q1-2019Q3.csv")
    folk1a, _ = read_population(shared_data / "dk_folk1a_population_by_kommune_2008-2023.csv")
    for table in (straf11.counts, folk1a.table):
        names = sorted(set(table["area_name"]))
        result = reconcile_names(names, dagi, level="kommune")
        assert result.problems == ()
        matched = result.mapping(names)
        assert len(matched) == 99  # 98 kommuner + Christiansø
        assert set(matched.values()) == set(dagi.areas["code"])
        if "Copenhagen" in matched:
            assert matched["Copenhagen"] == "0101"
            assert sorted(p.message.split("'")[1] for p in result.aggregates) == [
                "Region Hovedstaden", "Region Midtjylland", "Region Nordjylland",
                "Region Sjælland", "Region Syddanmark", "Unknown municipality"]
        else:
            assert matched["København"] == "0101" and result.aggregates == ()
        assert matched["Aalborg"] == "0851"
        assert matched["Høje-Taastrup"] == "0169"
