"""The population plausibility rules (:func:`tryg.index.population.check_population`)."""

from __future__ import annotations

import pandas as pd

from tryg.index.inputs import PopulationInput
from tryg.index.population import check_population


def _table(rows: list[tuple[str, int, str | None, float]]) -> PopulationInput:
    table = pd.DataFrame(rows, columns=["area_code", "year", "sex", "population"])
    table["age_group"] = None
    table.index = pd.RangeIndex(10, 10 + len(table))
    return PopulationInput(table)


def test_a_yearly_jump_is_found_against_the_table_first_then_the_stored_figures() -> None:
    table = _table([
        ("A", 2022, None, 100.0),  # +100 % against the stored 50 (the last of two)
        ("B", 2021, None, 100.0),
        ("B", 2022, None, 120.0),  # +20 % against this table's 2021, not the stored 10
        ("C", 2022, "k", 30.0),  # C's total: the sum of its cells, 70, +250 % against 20
        ("C", 2022, "m", 40.0),
        ("D", 2022, None, 100.0),  # stored 0: no change can be stated
        ("E", 2023, None, 500.0),  # no figure the year before
    ])
    stored = pd.DataFrame({"area_code": ["A", "A", "B", "C", "D"],
                           "year": [2021, 2021, 2021, 2021, 2021],
                           "population": [10.0, 50.0, 10.0, 20.0, 0.0]})
    problems = check_population(table, stored)
    assert [(p.row, p.message.split(" changes by ")[1].split(" ")[0]) for p in problems] == [
        (10, "+100%"), (13, "+250%")]
    assert "of C changes by +250% from 2021 (20) to 2022 (70)" in problems[1].message


def test_parts_above_their_total_are_named_with_the_total_row() -> None:
    table = _table([("A", 2022, "k", 60.0), ("A", 2022, None, 100.0), ("A", 2022, "m", 41.0),
                    ("B", 2022, None, 100.0), ("B", 2022, "k", 100.4)])
    problems = check_population(table, whole=False)  # 100.4: a fraction is allowed here
    assert [p.row for p in problems] == [11]
    assert "total 100 of A in 2022 is smaller than the sum of its sex and age group rows (101)" \
        in problems[0].message
