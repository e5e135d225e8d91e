"""Unit tests for tryg.stats.Design: validation, error messages and immutability.

The numbers a design produces are checked against R in test_golden_survey.py and
test_parity_r.py; this file covers what golden numbers cannot: that a wrong design is refused
with a message naming the problem in the user's terms, and that a design cannot change.
"""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tryg import stats
from tryg.stats import Design, DesignError


@pytest.fixture
def survey() -> pd.DataFrame:
    """Three regions with two, two and one PSU (region 'east' is lonely)."""
    return pd.DataFrame({
        "region": ["north", "north", "north", "south", "south", "east"],
        "psu": [1, 1, 2, 1, 2, 1],  # labels repeat across regions: read within the region
        "w": [10.0, 12.0, 11.0, 20.0, 22.0, 5.0],
        "N": [40.0, 40.0, 40.0, 30.0, 30.0, 8.0],
        "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    })


def _two_psu(survey: pd.DataFrame) -> pd.DataFrame:
    return survey[survey["region"] != "east"].reset_index(drop=True)


# ---- errors that name the problem ----------------------------------------------------------------


def test_negative_weight_is_refused_with_row_and_column(survey: pd.DataFrame) -> None:
    survey.loc[3, "w"] = -2.0
    with pytest.raises(DesignError, match=r"weight column 'w' is negative at row 3"):
        Design(survey, weights="w", strata="region", psu="psu", lonely_psu="adjust")


@pytest.mark.parametrize("bad", [np.nan, np.inf, "ten"])
def test_missing_or_non_numeric_weight_is_refused(survey: pd.DataFrame, bad: float | str
                                                  ) -> None:
    survey["w"] = survey["w"].astype(object)
    survey.at[2, "w"] = bad
    with pytest.raises(DesignError, match=r"weight column 'w' is missing or not a number at row 2"):
        Design(survey, weights="w", strata="region", psu="psu", lonely_psu="adjust")


def test_all_zero_weights_are_refused(survey: pd.DataFrame) -> None:
    with pytest.raises(DesignError, match="no positive weight"):
        Design(survey.assign(w=0.0), weights="w")


def test_lonely_psu_under_fail_names_the_stratum(survey: pd.DataFrame) -> None:
    with pytest.raises(DesignError) as err:
        Design(survey, weights="w", strata="region", psu="psu")
    message = str(err.value)
    assert "region='east'" in message
    assert "only one PSU" in message
    assert "lonely_psu=" in message  # says how to get out of it


def test_lonely_ssu_under_fail_names_the_psu() -> None:
    data = pd.DataFrame({
        "school": [1, 1, 2, 2, 2],
        "class": [1, 2, 1, 1, 1],  # school 2 has one class sampled
        "n_schools": [10] * 5,
        "n_classes": [4, 4, 3, 3, 3],
        "y": [1.0, 2, 3, 4, 5],
    })
    with pytest.raises(DesignError, match=r"school=.*2.*only one PSU at stage 2"):
        Design(data, psu=["school", "class"], fpc=["n_schools", "n_classes"])


def test_lonely_message_shows_integer_labels_plainly() -> None:
    data = pd.DataFrame({"stratum": [1, 1, 3], "psu": [1, 2, 1], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DesignError, match=r"stratum stratum=3 has only one PSU"):
        Design(data, strata="stratum", psu="psu")


def test_census_stratum_with_one_psu_is_not_lonely(survey: pd.DataFrame) -> None:
    # R returns zero variance for a stratum sampled completely before looking for lone PSUs
    survey.loc[survey["region"] == "east", "N"] = 1
    d = Design(survey, weights="w", strata="region", psu="psu", fpc="N")
    assert d.lonely_psu == "fail"


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"weights": "weight"}, "weight"),
        ({"strata": "area"}, "area"),
        ({"psu": ["psu", "klass"]}, "klass"),
        ({"fpc": "popsize"}, "popsize"),
    ],
)
def test_unknown_column_is_named(survey: pd.DataFrame, kwargs: dict[str, object],
                                 name: str) -> None:
    with pytest.raises(DesignError, match=rf"unknown column\(s\) '{name}'.*the data has region"):
        Design(survey, **kwargs)  # type: ignore[arg-type]


def test_missing_value_in_a_design_column_is_refused(survey: pd.DataFrame) -> None:
    survey["region"] = survey["region"].astype(object)
    survey.loc[4, "region"] = None
    with pytest.raises(DesignError, match=r"column 'region' has a missing value \(row 4\)"):
        Design(survey, weights="w", strata="region", psu="psu", lonely_psu="adjust")


def test_fpc_mixing_fractions_and_sizes_is_refused(survey: pd.DataFrame) -> None:
    survey["N"] = [0.5, 0.5, 0.5, 30, 30, 8]
    with pytest.raises(DesignError, match=r"fpc column 'N' mixes population sizes .* fractions"):
        Design(survey, weights="w", strata="region", psu="psu", fpc="N", lonely_psu="adjust")


def test_fpc_mixed_across_stages_is_refused() -> None:
    data = pd.DataFrame({
        "school": [1, 1, 2, 2], "class": [1, 2, 1, 2],
        "f1": [0.2] * 4, "n2": [5, 5, 6, 6], "y": [1.0, 2, 3, 4],
    })
    with pytest.raises(DesignError, match="mixes population sizes"):
        Design(data, psu=["school", "class"], fpc=["f1", "n2"])


def test_fpc_smaller_than_the_sample_is_refused(survey: pd.DataFrame) -> None:
    survey.loc[survey["region"] == "north", "N"] = 1.5
    with pytest.raises(DesignError, match=r"population size 1.5 is smaller than the 2 units"):
        Design(survey, weights="w", strata="region", psu="psu", fpc="N", lonely_psu="adjust")


def test_fpc_varying_within_a_stratum_is_refused(survey: pd.DataFrame) -> None:
    survey.loc[0, "N"] = 41
    with pytest.raises(DesignError, match=r"fpc column 'N' varies within a stratum"):
        Design(survey, weights="w", strata="region", psu="psu", fpc="N", lonely_psu="adjust")


@pytest.mark.parametrize("bad", [0, -3])
def test_fpc_must_be_positive(survey: pd.DataFrame, bad: float) -> None:
    survey["N"] = survey["N"].astype(float)
    survey.loc[survey["region"] == "south", "N"] = bad
    with pytest.raises(DesignError, match=r"fpc column 'N' must be positive"):
        Design(survey, weights="w", strata="region", psu="psu", fpc="N", lonely_psu="adjust")


def test_fpc_needs_a_column_per_stage(survey: pd.DataFrame) -> None:
    with pytest.raises(DesignError, match="fpc= must name a column for every stage"):
        Design(survey, psu=["region", "psu"], fpc=["N", None])


def test_strata_list_must_match_stages(survey: pd.DataFrame) -> None:
    with pytest.raises(DesignError, match=r"strata= gives 2 columns but the design has 1 stage"):
        Design(survey, strata=["region", "psu"], psu="psu")


def test_unknown_lonely_option_is_refused(survey: pd.DataFrame) -> None:
    with pytest.raises(DesignError, match="lonely_psu='drop' is not one of fail, certainty"):
        Design(survey, lonely_psu="drop")  # type: ignore[arg-type]


def test_data_must_be_a_non_empty_frame(survey: pd.DataFrame) -> None:
    with pytest.raises(DesignError, match="DataFrame"):
        Design(survey.to_dict(), weights="w")  # type: ignore[arg-type]
    with pytest.raises(DesignError, match="no rows"):
        Design(survey.iloc[:0], weights="w")


# ---- structure -----------------------------------------------------------------------------------


def test_psu_labels_are_read_within_their_stratum(survey: pd.DataFrame) -> None:
    d = Design(_two_psu(survey), weights="w", strata="region", psu="psu")
    assert d.stages[0].n_units == 4  # (north,1) (north,2) (south,1) (south,2)
    assert stats.mean(d, "y")["df"].iloc[0] == 4 - 2


def test_weights_default_to_the_inverse_sampling_fraction(survey: pd.DataFrame) -> None:
    d = Design(_two_psu(survey), strata="region", psu="psu", fpc="N")
    # north: 40 PSUs, 2 sampled; south: 30 PSUs, 2 sampled
    np.testing.assert_allclose(d.weights, [20, 20, 20, 15, 15])
    no_fpc = Design(survey)
    np.testing.assert_array_equal(no_fpc.weights, np.ones(len(survey)))


def test_fractions_and_sizes_give_the_same_design(survey: pd.DataFrame) -> None:
    data = _two_psu(survey)
    data["f"] = 2 / data["N"]  # two PSUs sampled per region
    by_size = Design(data, weights="w", strata="region", psu="psu", fpc="N")
    by_fraction = Design(data, weights="w", strata="region", psu="psu", fpc="f")
    a, b = stats.total(by_size, "y"), stats.total(by_fraction, "y")
    np.testing.assert_allclose(a[["estimate", "se"]], b[["estimate", "se"]], rtol=1e-12)


def test_repr_is_short_and_informative(survey: pd.DataFrame) -> None:
    d = Design(survey, weights="w", strata="region", psu="psu", fpc="N", lonely_psu="adjust")
    text = repr(d)
    assert text.startswith("Design(n=6, strata=['region'], psu=['psu'], fpc")
    assert "lonely_psu='adjust'" in text
    assert "adjusted=poststratify" in repr(
        stats.poststratify(d, "region", {"north": 100, "south": 60, "east": 8})
    )


# ---- immutability --------------------------------------------------------------------------------


def test_design_is_frozen(survey: pd.DataFrame) -> None:
    d = Design(survey, weights="w", strata="region", psu="psu", lonely_psu="adjust")
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.lonely_psu = "remove"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.weights = np.ones(6)  # type: ignore[misc]


def test_weights_array_is_read_only(survey: pd.DataFrame) -> None:
    d = Design(survey, weights="w", strata="region", psu="psu", lonely_psu="adjust")
    assert not d.weights.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        d.weights[0] = 1.0


def test_weights_are_a_copy_of_the_column(survey: pd.DataFrame) -> None:
    d = Design(survey, weights="w", strata="region", psu="psu", lonely_psu="adjust")
    survey.loc[0, "w"] = 999.0  # changing the frame afterwards does not reach the weights
    assert d.weights[0] == 10.0


def test_with_weights_returns_a_new_design(survey: pd.DataFrame) -> None:
    d = Design(survey, weights="w", strata="region", psu="psu", lonely_psu="adjust")
    new_w = np.arange(1.0, 7.0)
    e = d.with_weights(new_w)
    new_w[0] = 100.0  # the caller's array is copied
    assert e is not d
    np.testing.assert_array_equal(e.weights, np.arange(1.0, 7.0))
    np.testing.assert_array_equal(d.weights, survey["w"].to_numpy())
    assert not e.weights.flags.writeable
    assert e.stages is d.stages  # the sampling structure is shared, not rebuilt


# ---- properties ----------------------------------------------------------------------------------


@st.composite
def stratified_frames(draw: st.DrawFn) -> pd.DataFrame:
    n_strata = draw(st.integers(1, 4))
    rows = []
    for h in range(n_strata):
        for j in range(draw(st.integers(2, 4))):
            for _ in range(draw(st.integers(1, 3))):
                rows.append({
                    "h": f"s{h}", "psu": j,
                    "w": draw(st.floats(0.5, 50, allow_nan=False)),
                    "y": draw(st.floats(-100, 100, allow_nan=False)),
                })
    return pd.DataFrame(rows)


@settings(max_examples=40, deadline=None)
@given(frame=stratified_frames())
def test_degrees_of_freedom_are_psus_minus_strata(frame: pd.DataFrame) -> None:
    d = Design(frame, weights="w", strata="h", psu="psu")
    n_psu = frame.groupby(["h", "psu"]).ngroups
    assert stats.mean(d, "y")["df"].iloc[0] == n_psu - frame["h"].nunique()


@settings(max_examples=40, deadline=None)
@given(frame=stratified_frames())
def test_relabelling_strata_and_psus_changes_nothing(frame: pd.DataFrame) -> None:
    d = Design(frame, weights="w", strata="h", psu="psu")
    renamed = frame.assign(h="z" + frame["h"], psu=frame["psu"].map(lambda p: f"p{p}"))
    e = Design(renamed, weights="w", strata="h", psu="psu")
    a, b = stats.mean(d, "y"), stats.mean(e, "y")
    np.testing.assert_allclose(a[["estimate", "se", "df"]], b[["estimate", "se", "df"]],
                               rtol=1e-12, atol=1e-12)


def test_error_messages_do_not_leak_internal_codes(survey: pd.DataFrame) -> None:
    """Errors speak of the user's labels ('east'), not factor codes (2)."""
    with pytest.raises(DesignError) as err:
        Design(survey, weights="w", strata="region", psu="psu")
    assert not re.search(r"stratum \d", str(err.value))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 70_000), min_size=1, max_size=60))
def test_rows_without_psu_are_units_numbered_by_stratum_then_row(strata: list[int]) -> None:
    """Without a PSU column every row is its own unit, numbered as a PSU column of distinct
    ids numbers them: by stratum, then row."""
    frame = pd.DataFrame({"s": strata, "w": 1.0, "id": np.arange(len(strata))})
    own = Design(frame, weights="w", strata="s", lonely_psu="adjust").stages[0]
    given_ids = Design(frame, weights="w", strata="s", psu="id", lonely_psu="adjust").stages[0]
    assert np.array_equal(own.unit, given_ids.unit) and own.n_units == given_ids.n_units


def test_rows_without_psu_in_more_strata_than_16_bits_number() -> None:
    """70,000 strata (their codes sorted in two 16-bit passes), rows in shuffled order."""
    rng = np.random.default_rng(7)
    strata = rng.permutation(np.repeat(np.arange(70_000), 2))
    frame = pd.DataFrame({"s": strata, "w": 1.0, "id": np.arange(len(strata))})
    own = Design(frame, weights="w", strata="s").stages[0]
    given_ids = Design(frame, weights="w", strata="s", psu="id").stages[0]
    assert np.array_equal(own.unit, given_ids.unit) and own.n_units == len(strata)
