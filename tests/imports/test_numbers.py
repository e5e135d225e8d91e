"""Quantities inside input problems (:class:`tryg.messages.Number`): English text exactly as
before, a Danish page writes them the Danish way (``1.536,0 MB``, not ``1,536.0 MB``, which a
Dane reads as a little over one and a half), and a stored problem keeps them."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.test import override_settings
from django.utils import translation

from tryg.imports.forms import UploadForm
from tryg.imports.problems import as_data, from_data, localized, located, number_text
from tryg.index.inputs import PopulationInput, Problem
from tryg.index.population import check_population
from tryg.messages import Marked, Number
from tryg.readers.limits import MIB, too_many_rows


def numpy(value: Any) -> Any:
    """A numpy scalar as the readers get one out of an array (typed ``Any`` there)."""
    return value


#: a number, its English text as the readers wrote it before Number (an f-string), and Danish
CASES = [
    (Number(1234567), f"{1234567:,}", "1.234.567"),
    (Number(999), f"{999:,}", "999"),
    (Number(-1234567), f"{-1234567:,}", "-1.234.567"),
    (Number(10**21), f"{10**21:,}", "1.000.000.000.000.000.000.000"),
    (Number(numpy(np.int64(1_048_576))), f"{1_048_576:,}", "1.048.576"),
    (Number(1536 * MIB / MIB, 1, unit="MB"), f"{1536 * MIB / MIB:,.1f} MB", "1.536,0 MB"),
    (Number(0.25, 1, unit="MB"), f"{0.25:,.1f} MB", "0,2 MB"),  # rounded half to even
    (Number(-2_500_000.456, 2), f"{-2_500_000.456:,.2f}", "-2.500.000,46"),
    (Number(1.96, 1), f"{1.96:,.1f}", "2,0"),  # rounded, not cut to 1,9
    (Number(4000.4), f"{4000.4:,.0f}", "4.000"),
    (Number(-0.04, 1), f"{-0.04:,.1f}", "-0,0"),
    (Number(12345.5, None, grouping=False), f"{12345.5:g}", "12345,5"),
    (Number(np.float64(100.0), None, grouping=False), f"{100.0:g}", "100"),
    (Number(-3.0, None, grouping=False), f"{-3.0:g}", "-3"),
    (Number(1e9, None, grouping=False), f"{1e9:g}", "1e+09"),
    (Number(1.5e-7, None, grouping=False), f"{1.5e-7:g}", "1,5e-07"),
    (Number(1234.5, None), f"{1234.5:,g}", "1.234,5"),
]


@pytest.mark.parametrize(("number", "english", "danish"), CASES)
def test_a_number_reads_as_before_in_english_and_the_danish_way_in_danish(
        number: Number, english: str, danish: str) -> None:
    assert str(number) == english
    with translation.override("en"):
        assert number_text(number) == english
    with translation.override("da"):
        assert number_text(number) == danish


def test_a_number_holds_plain_python_numbers() -> None:
    assert type(Number(numpy(np.int64(7))).value) is int
    assert type(Number(numpy(np.float32(0.5)), 1).value) is float
    assert Number(numpy(np.int64(7))) == Number(7)


def test_a_problem_with_numbers_is_translated_with_danish_numbers() -> None:
    [problem] = too_many_rows("svar.csv", 1_234_567, 1_000_000).problems
    assert problem.message == ("the file has 1,234,567 rows, more than the limit of 1,000,000 "
                               "(TRYG_MAX_ROWS); nothing was read")
    with translation.override("da"):
        assert localized(problem).message == (
            "filen har 1.234.567 rækker, flere end grænsen på 1.000.000 (TRYG_MAX_ROWS); "
            "intet blev læst")
    with translation.override("en"):
        assert localized(problem).message == problem.message


def test_a_number_inside_a_marked_param_is_formatted_too() -> None:
    inner = Marked("%(size)s unpacked", {"size": Number(2048.0, 1, unit="MB")})
    problem = Problem.of("kort.zip", None, None, "too large: %(why)s", why=inner)
    assert problem.message == "too large: 2,048.0 MB unpacked"
    with translation.override("da"):
        assert localized(problem).message == "too large: 2.048,0 MB unpacked"


def test_a_population_figure_keeps_its_english_text_and_reads_danish_in_danish() -> None:
    table = pd.DataFrame({"area_code": ["A"], "year": [2022], "sex": [None],
                          "age_group": [None], "population": [12345.5]})
    [problem] = check_population(PopulationInput(table))
    assert problem.message == "the population 12345.5 is not a whole number"
    with translation.override("da"):
        assert located(problem).endswith(": befolkningstallet 12345,5 er ikke et helt tal")


def test_a_stored_problem_keeps_its_numbers_and_translates_later() -> None:
    [problem] = too_many_rows("svar.csv", 2_000_000, 1_500_000).problems
    data = json.loads(json.dumps(as_data(problem)))
    assert data["params"]["count"] == {"number": 2_000_000, "decimals": 0, "grouping": True,
                                       "unit": ""}
    stored = from_data(data)
    assert stored == problem and stored.params == problem.params
    with translation.override("da"):
        assert "filen har 2.000.000 rækker, flere end grænsen på 1.500.000" in \
            localized(stored).message


def test_a_number_inside_a_stored_marked_param_comes_back() -> None:
    inner = Marked("%(size)s unpacked", {"size": Number(0.5, 1, unit="MB")})
    problem = Problem.of("kort.zip", None, None, "too large: %(why)s", why=inner)
    stored = from_data(json.loads(json.dumps(as_data(problem))))
    assert stored.params["why"] == inner
    with translation.override("da"):
        assert localized(stored).message == "too large: 0,5 MB unpacked"


def test_a_problem_stored_before_numbers_were_kept_still_translates() -> None:
    """Its params are the English texts; they are shown as they are."""
    older = {"source": "svar.csv", "row": None, "column": None,
             "message": "the file has 1,234,567 rows, more than the limit of 1,000,000 "
                        "(TRYG_MAX_ROWS); nothing was read",
             "template": "the file has %(count)s rows, more than the limit of %(limit)s "
                         "(TRYG_MAX_ROWS); nothing was read",
             "params": {"count": "1,234,567", "limit": "1,000,000"}}
    with translation.override("da"):
        assert localized(from_data(older)).message.startswith("filen har 1,234,567 rækker")


def test_a_number_json_cannot_hold_is_stored_as_its_text() -> None:
    problem = Problem.of("f.csv", 2, "population", "the population %(value)s is negative",
                         value=Number(float("-inf"), None, grouping=False))
    data = as_data(problem)
    assert data["params"]["value"] == "-inf"
    json.dumps(data, allow_nan=False)
    assert from_data(data).message == "the population -inf is negative"


@pytest.mark.parametrize("record", [
    {"number": "12", "decimals": 0},
    {"number": 12, "decimals": -1},
    {"number": True},
])
def test_a_malformed_stored_number_is_shown_as_text(record: dict[str, object]) -> None:
    stored = from_data({"message": "n is x", "template": "n is %(n)s", "params": {"n": record}})
    assert isinstance(stored.params["n"], str)
    with translation.override("da"):
        assert localized(stored).message == f"n is {record['number']}"


def test_a_whole_number_beyond_floats_is_still_a_number() -> None:
    """Shown and stored, not an overflow (Django writes more than 200 digits with an
    exponent)."""
    huge = Number(10**400)
    assert huge.finite() and str(huge).startswith("10,000,") and len(str(huge)) == 401 + 133
    with translation.override("da"):
        assert number_text(huge) == "1e+400"
    assert from_data(json.loads(json.dumps(as_data(
        Problem.of("f", None, None, "%(n)s", n=huge))))).params["n"] == huge


@override_settings(TRYG_MAX_UPLOAD_MB=2048)
def test_the_upload_form_says_its_limit_in_the_page_language() -> None:
    with translation.override("da"):
        assert str(UploadForm().fields["file"].help_text).endswith(" Højst 2.048 MB.")
    with translation.override("en"):
        assert str(UploadForm().fields["file"].help_text).endswith(" At most 2,048 MB.")
