"""The results table's columns and dtypes, and the public view's publication rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tryg.index.catalog import load_spec
from tryg.index.results import (
    KEY_COLUMNS,
    PUBLIC_COLUMNS,
    RESULT_COLUMNS,
    conform,
    empty_results,
    public_view,
    register_measure_ids,
)

SPEC = load_spec("dk-tryghedsindeks")


def sample() -> pd.DataFrame:
    """Rows of each kind: survey (shown, uncertain, suppressed), register (small and large
    counts, smoothed), a register sub-index, and the composite."""
    rows = [
        ("0851", "Aalborg", "kommune", 2015, "tryghed_trygge", 81.2, 1.1, 79.0, 83.4, 1200,
         1100.5, "direct", False, ""),
        ("A01", "Øst", "district", 2015, "tryghed_trygge", 70.5, 5.2, 60.3, 80.7, 60, 52.0,
         "direct", False, "uncertain"),
        ("A02", "Vest", "district", 2015, "tryghed_trygge", 66.0, 9.0, 48.4, 83.6, 30, 25.0,
         "direct", True, "suppressed;uncertain"),
        ("A02", "Vest", "district", 2015, "anmeldelser_straffelov", 1.5, 0.9, 0.4, 3.8, 3,
         np.nan, "register", False, ""),
        ("A02", "Vest", "district", 2015, "anmeldelser_straffelov_eb", 2.1, 0.5, 1.1, 3.1, 3,
         np.nan, "register_eb", False, ""),
        ("A01", "Øst", "district", 2015, "anmeldelser_straffelov", 40.0, 2.0, 36.0, 44.0, 400,
         np.nan, "register", False, ""),
        ("A02", "Vest", "district", 2015, "anmeldelser", 99.0, 0.6, 98.0, 100.0, 4, np.nan,
         "register", False, ""),
        ("A01", "Øst", "district", 2015, "tryghedsindeks", 60.0, 2.0, 56.0, 64.0, 60, 52.0,
         "composite", False, ""),
    ]
    names = ("area_code", "area_name", "level", "wave", "measure", "estimate", "se", "ci_low",
             "ci_high", "n", "n_eff", "method", "suppressed", "flags")
    frame = pd.DataFrame(rows, columns=list(names))
    for c in RESULT_COLUMNS:
        if c not in frame.columns:
            frame[c] = None
    frame["change_prev"] = 1.5
    frame["p_prev"] = 0.04
    frame["sig_prev"] = True
    frame["diff_parent_rest"] = -2.0
    frame["sig_parent_rest"] = False
    frame["band"] = "mid"
    frame["spec_id"] = SPEC.id
    frame["spec_hash"] = SPEC.hash
    out = conform(frame)
    out["internal_note"] = "not for publication"  # an internal extra column
    return out


def test_the_columns_of_the_issue() -> None:
    assert RESULT_COLUMNS == (
        "area_code", "area_name", "level", "wave", "measure", "estimate", "se", "ci_low",
        "ci_high", "n", "n_eff", "method", "change_prev", "p_prev", "sig_prev",
        "change_pooled", "sig_pooled", "diff_parent_rest", "sig_parent_rest", "band",
        "suppressed", "flags", "spec_id", "spec_hash",
    )  # fmt: skip


def test_empty_results_has_the_dtypes() -> None:
    empty = empty_results()
    assert tuple(empty.columns) == RESULT_COLUMNS
    assert len(empty) == 0
    dtypes = {c: str(t) for c, t in empty.dtypes.items()}
    assert dtypes["area_code"] == dtypes["flags"] == dtypes["spec_hash"] == "object"
    assert dtypes["estimate"] == dtypes["se"] == dtypes["n_eff"] == dtypes["p_prev"] == "float64"
    assert dtypes["n"] == dtypes["wave"] == "Int64"
    assert dtypes["sig_prev"] == dtypes["sig_pooled"] == dtypes["sig_parent_rest"] == "boolean"
    assert dtypes["suppressed"] == "bool"


def test_conform_orders_casts_and_names_missing_columns() -> None:
    shuffled = sample()[list(reversed(RESULT_COLUMNS))]
    assert "internal_note" not in conform(sample()).columns
    assert tuple(conform(shuffled).columns) == RESULT_COLUMNS
    with pytest.raises(ValueError, match="n_eff, method"):
        conform(sample().drop(columns=["n_eff", "method"]))


def test_register_measures_include_smoothed_and_register_subindices() -> None:
    ids = register_measure_ids(SPEC)
    assert {"anmeldelser_straffelov", "anmeldelser_straffelov_eb", "anmeldelser_vold",
            "anmeldelser"} <= ids
    assert "tryghed_trygge" not in ids and "tryghedsindeks" not in ids


def test_public_view_columns_and_dtypes() -> None:
    public = public_view(sample(), SPEC)
    assert tuple(public.columns) == PUBLIC_COLUMNS
    assert "n" not in public.columns and "internal_note" not in public.columns
    assert PUBLIC_COLUMNS.index("n_display") == RESULT_COLUMNS.index("n")
    assert public["n_display"].dtype == object
    assert public["sig_prev"].dtype == "boolean"


def test_suppressed_rows_keep_only_keys_flags_and_spec() -> None:
    public = public_view(sample(), SPEC)
    row = public.iloc[2]
    assert bool(row["suppressed"]) and row["flags"] == "suppressed;uncertain"
    assert [row[k] for k in KEY_COLUMNS] == ["A02", "Vest", "district", 2015, "tryghed_trygge"]
    assert row["spec_hash"] == SPEC.hash
    kept = {*KEY_COLUMNS, "suppressed", "flags", "spec_id", "spec_hash"}
    for column in PUBLIC_COLUMNS:
        if column not in kept:
            assert pd.isna(row[column]), column
    # the other rows keep their numbers
    assert public.loc[1, "estimate"] == 70.5 and public.loc[1, "n_display"] == "60"
    assert public.loc[1, "change_prev"] == 1.5 and bool(public.loc[1, "sig_prev"])


def test_small_register_counts_are_shown_as_less_than() -> None:
    public = public_view(sample(), SPEC)
    shown = dict(zip(public.index, public["n_display"], strict=True))
    assert shown[3] == "< 5"  # 3 offences
    assert shown[4] == "< 5"  # the smoothed rate's count
    assert shown[6] == "< 5"  # 4 offences behind a register sub-index: 4 <= small_count
    assert shown[5] == "400"
    assert shown[0] == "1200"  # survey n is not a register count


def test_a_register_method_marks_a_count_even_under_another_measure_id() -> None:
    table = sample()
    table.loc[3, "measure"] = "renamed_register_measure"
    assert public_view(table, SPEC).loc[3, "n_display"] == "< 5"
    table.loc[3, "method"] = "direct"
    assert public_view(table, SPEC).loc[3, "n_display"] == "3"


def test_small_count_follows_the_spec() -> None:
    text = load_spec("dk-tryghedsindeks").source.replace("small_count = 4", "small_count = 2")
    spec = load_spec(text)
    public = public_view(sample().assign(spec_hash=spec.hash), spec)
    assert public.loc[3, "n_display"] == "3"
    table = sample()
    table.loc[3, "n"] = 2
    assert public_view(table, spec).loc[3, "n_display"] == "< 3"


def test_missing_n_stays_missing_and_the_input_is_untouched() -> None:
    table = sample()
    table.loc[0, "n"] = pd.NA
    before = table.copy()
    public = public_view(table, SPEC)
    assert public.loc[0, "n_display"] is None
    pd.testing.assert_frame_equal(table, before)


def test_public_view_of_an_empty_table() -> None:
    public = public_view(empty_results(), SPEC)
    assert tuple(public.columns) == PUBLIC_COLUMNS and len(public) == 0


def test_a_small_count_cannot_be_recovered_from_its_rate() -> None:
    """rate × population / 1,000 would give the count back, and so would any comparison
    (rate − a published figure): small-count rows lose the rate, its interval, every
    comparison and the band; large counts keep theirs."""
    table = sample()
    table["change_pooled"] = 0.75
    table["sig_pooled"] = True
    public = public_view(table, SPEC)
    for i in (3, 4, 6):
        for c in ("estimate", "se", "ci_low", "ci_high", "change_prev", "p_prev", "sig_prev",
                  "change_pooled", "sig_pooled", "diff_parent_rest", "sig_parent_rest",
                  "band"):
            assert pd.isna(public[c].loc[i]), (i, c)
    assert public.loc[5, "estimate"] == 40.0
    assert public.loc[5, "ci_high"] == 44.0
    assert public.loc[5, "change_pooled"] == 0.75 and public.loc[5, "diff_parent_rest"] == -2.0
    assert public.loc[5, "band"] == "mid"
