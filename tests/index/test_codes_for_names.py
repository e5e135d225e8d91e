"""A table read with area names gets the area codes (tryg.index.areas.codes_for_names)."""

from __future__ import annotations

import pandas as pd

from tryg.index.areas import codes_for_names
from tryg.index.inputs import Areas

AREAS = Areas(pd.DataFrame([("0851", "Aalborg", "kommune"), ("0101", "København", "kommune")],
                           columns=["code", "name", "level"]),
              pd.DataFrame([], columns=["code", "parent", "valid_from", "valid_to"]))


def named(names: list[str]) -> pd.DataFrame:
    """A STRAF11-like table: file lines as the index, the file's name in attrs."""
    frame = pd.DataFrame({"area_name": names, "count": range(len(names))},
                         index=range(2, 2 + len(names)))
    frame.attrs["source"] = "straf11.csv"
    return frame


def test_names_become_codes_and_aggregates_are_left_out_with_a_warning() -> None:
    coded = codes_for_names(named(["Aalborg", "Copenhagen", "Region Nordjylland", "Aalborg"]),
                            AREAS)
    assert coded.problems == ()
    assert list(coded.table.columns) == ["area_code", "count"]
    assert coded.table["area_code"].tolist() == ["0851", "0101", "0851"]
    assert coded.table["count"].tolist() == [0, 1, 3]
    assert coded.table.attrs["source"] == "straf11.csv"
    [warning] = coded.warnings
    assert (warning.source, warning.row) == ("straf11.csv", 4)


def test_unknown_names_and_two_names_for_one_area_are_problems_at_their_first_row() -> None:
    coded = codes_for_names(named(["Aalborg", "Atlantis", "Aalborg Kommune", "Atlantis"]),
                            AREAS)
    located = sorted((p.row, p.column) for p in coded.problems)
    assert located == [(3, "area_name"), (4, "area_name")]
    assert any("are both area '0851'" in p.message for p in coded.problems)


def test_a_table_with_codes_is_returned_as_it_is() -> None:
    frame = pd.DataFrame({"area_code": ["0851"], "count": [1]})
    coded = codes_for_names(frame, AREAS)
    assert coded.table is frame and coded.problems == () and coded.warnings == ()
