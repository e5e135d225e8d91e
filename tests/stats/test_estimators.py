"""Unit tests for tryg.stats estimators (mean, total, ratio, proportion).

The numbers are checked against R in test_golden_survey.py and test_parity_r.py. Here: domain
estimation (a subset's estimate with the full design's SE), proportions with a base that
excludes some answers, missing values, the output table, errors, and invariances checked with
Hypothesis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from tryg import stats
from tryg.stats import Design, DesignError, EstimationError
from tryg.stats.estimators import RESULT_COLUMNS


@pytest.fixture
def frame() -> pd.DataFrame:
    """Two strata of three PSUs; area "c" has no members in stratum s2."""
    return pd.DataFrame({
        "stratum": ["s1"] * 6 + ["s2"] * 6,
        "psu": [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3],
        "w": [3.0, 4.0, 2.0, 5.0, 6.0, 1.0, 8.0, 7.0, 9.0, 6.0, 5.0, 4.0],
        "y": [2.0, 4.0, 3.0, 7.0, 1.0, 5.0, 6.0, 8.0, 2.0, 9.0, 4.0, 3.0],
        "area": ["a", "b", "c", "a", "c", "b", "a", "b", "a", "b", "a", "b"],
        "q": [1, 2, 3, 8, 4, 5, 1, 8, 6, 2, 7, 3],  # 1-7 scale, 8 = don't know
    })


@pytest.fixture
def design(frame: pd.DataFrame) -> Design:
    return Design(frame, weights="w", strata="stratum", psu="psu")


def _row(table: pd.DataFrame, **keys: object) -> pd.Series:
    mask = np.ones(len(table), dtype=bool)
    for col, value in keys.items():
        mask &= (table[col] == value).to_numpy()
    assert mask.sum() == 1, f"expected one row for {keys}"
    return table[mask].iloc[0]


def _with_replacement_variance(frame: pd.DataFrame, z: np.ndarray) -> float:
    """Stratified with-replacement variance of the total of z (textbook formula)."""
    psu_totals = pd.DataFrame({"h": frame["stratum"], "p": frame["psu"], "z": z}).groupby(
        ["h", "p"])["z"].sum()
    var = 0.0
    for _, totals in psu_totals.groupby(level="h"):
        n_h = len(totals)
        var += n_h / (n_h - 1) * float(((totals - totals.mean()) ** 2).sum())
    return var


# ---- domains -------------------------------------------------------------------------------------


def test_domain_estimate_equals_the_subset_estimate(frame: pd.DataFrame, design: Design) -> None:
    table = stats.mean(design, "y", by="area")
    for area, part in frame.groupby("area"):
        expected = np.average(part["y"], weights=part["w"])
        assert _row(table, area=area)["estimate"] == pytest.approx(expected, rel=1e-14)


def test_domain_se_uses_the_full_design(frame: pd.DataFrame, design: Design) -> None:
    """The domain total's variance is that of y * 1[domain] on the whole design, not the
    variance computed as if the domain's rows were the sample."""
    table = stats.total(design, "y", by="area")
    for area in ("a", "b", "c"):
        inside = (frame["area"] == area).to_numpy()
        z = (frame["w"] * frame["y"]).to_numpy() * inside
        expected = np.sqrt(_with_replacement_variance(frame, z))
        assert _row(table, area=area)["se"] == pytest.approx(expected, rel=1e-12)
    # area c lives in stratum s1 only; as its own design it would have a different SE
    sub = frame[frame["area"] == "c"]
    alone = stats.total(Design(sub, weights="w", strata="stratum", psu="psu"), "y")
    assert alone["se"].iloc[0] != pytest.approx(_row(table, area="c")["se"], rel=1e-3)


def test_domain_mean_se_equals_the_ratio_on_the_full_design(
    frame: pd.DataFrame, design: Design
) -> None:
    table = stats.mean(design, "y", by="area")
    for area in ("a", "b", "c"):
        inside = (frame["area"] == area).astype(float)
        full = Design(frame.assign(num=frame["y"] * inside, den=inside),
                      weights="w", strata="stratum", psu="psu")
        ratio = stats.ratio(full, "num", "den").iloc[0]
        row = _row(table, area=area)
        assert row["estimate"] == pytest.approx(ratio["estimate"], rel=1e-13)
        assert row["se"] == pytest.approx(ratio["se"], rel=1e-12)


def test_domain_df_counts_the_domains_psus_and_strata(design: Design) -> None:
    table = stats.mean(design, "y", by="area")
    # a: s1 psus 1, 2; s2 psus 1, 2, 3 -> 5 - 2; c: s1 psus 2, 3 -> 2 - 1
    assert _row(table, area="a")["df"] == 3
    assert _row(table, area="c")["df"] == 1
    t_quantile = sps.t.ppf(0.975, 1)
    row = _row(table, area="c")
    assert row["ci_high"] - row["estimate"] == pytest.approx(t_quantile * row["se"], rel=1e-12)


def test_several_by_columns_give_the_observed_combinations(design: Design) -> None:
    table = stats.total(design, "y", by=["stratum", "area"])
    assert list(table.columns[:2]) == ["stratum", "area"]
    combos = set(zip(table["stratum"], table["area"], strict=True))
    assert combos == {("s1", "a"), ("s1", "b"), ("s1", "c"), ("s2", "a"), ("s2", "b")}
    assert table["estimate"].sum() == pytest.approx(stats.total(design, "y")["estimate"].iloc[0])


def test_rows_without_a_domain_key_are_in_no_domain(frame: pd.DataFrame) -> None:
    frame["area"] = frame["area"].astype(object)
    frame.loc[[0, 5], "area"] = None
    d = Design(frame, weights="w", strata="stratum", psu="psu")
    table = stats.total(d, "y", by="area")
    assert sorted(table["area"]) == ["a", "b", "c"]
    assert table["n"].sum() == len(frame) - 2


def test_result_table_layout(design: Design) -> None:
    table = stats.mean(design, "y", by="area")
    assert list(table.columns) == ["area", *RESULT_COLUMNS]
    assert table["n"].dtype == np.int64
    overall = stats.mean(design, "y")
    assert list(overall.columns) == RESULT_COLUMNS
    assert len(overall) == 1


def test_kish_effective_sample_size(frame: pd.DataFrame, design: Design) -> None:
    row = stats.mean(design, "y").iloc[0]
    w = frame["w"].to_numpy()
    assert row["n_eff"] == pytest.approx(w.sum() ** 2 / (w**2).sum(), rel=1e-14)
    assert row["n"] == len(frame)


# ---- proportions ---------------------------------------------------------------------------------


def test_proportion_with_codes_and_exclude_matches_a_manual_computation(
    frame: pd.DataFrame, design: Design
) -> None:
    table = stats.proportion(design, "q", [1, 2, 3], exclude=[8], by="area")
    for area, part in frame.groupby("area"):
        base = part[part["q"] != 8]
        expected = float((base["w"] * base["q"].isin([1, 2, 3])).sum() / base["w"].sum())
        row = _row(table, area=area)
        assert row["estimate"] == pytest.approx(expected, rel=1e-14)
        assert row["n"] == len(base)


def test_proportion_equals_the_mean_of_an_indicator(frame: pd.DataFrame, design: Design) -> None:
    """Excluded answers leave the base, exactly like a missing value under na_rm=True."""
    indicator = np.where(frame["q"] == 8, np.nan, frame["q"].isin([1, 2, 3]).astype(float))
    d2 = Design(frame.assign(ind=indicator), weights="w", strata="stratum", psu="psu")
    prop = stats.proportion(design, "q", [1, 2, 3], exclude=[8], by="area", ci="t")
    mean = stats.mean(d2, "ind", by="area", ci="t")
    cols = ["estimate", "se", "ci_low", "ci_high", "n", "df"]
    np.testing.assert_allclose(prop[cols], mean[cols], rtol=1e-13)


def test_proportion_accepts_a_single_code_and_string_codes(frame: pd.DataFrame,
                                                           design: Design) -> None:
    single = stats.proportion(design, "q", 1)
    listed = stats.proportion(design, "q", [1])
    pd.testing.assert_frame_equal(single, listed)
    as_text = Design(frame.assign(q=frame["q"].astype(str)), weights="w", strata="stratum",
                     psu="psu")
    text = stats.proportion(as_text, "q", ["1", "2", "3"], exclude=["8"])
    numbers = stats.proportion(design, "q", [1, 2, 3], exclude=[8])
    np.testing.assert_allclose(text[RESULT_COLUMNS], numbers[RESULT_COLUMNS], rtol=1e-14)


@pytest.mark.parametrize("ci", ["logit", "beta"])
def test_proportion_intervals_stay_inside_zero_one(design: Design, ci: str) -> None:
    table = stats.proportion(design, "q", [1, 2, 3, 4, 5, 6, 7], exclude=[8], by="area",
                             ci=ci)  # type: ignore[arg-type]
    finite = table.dropna(subset=["ci_low"])
    assert ((finite["ci_low"] >= 0) & (finite["ci_high"] <= 1)).all()
    assert (table["estimate"] == 1).all()  # every answer in the base is one of the codes


def test_overlapping_codes_and_exclude_are_refused(design: Design) -> None:
    with pytest.raises(EstimationError, match=r"codes \['8'\] are both counted and excluded"):
        stats.proportion(design, "q", [1, 8], exclude=[8])


def test_empty_codes_are_refused(design: Design) -> None:
    with pytest.raises(EstimationError, match="codes= must name at least one answer code"):
        stats.proportion(design, "q", [])


def test_unknown_interval_is_refused(design: Design) -> None:
    with pytest.raises(EstimationError, match="ci='wilson' is not one of logit, beta, t, normal"):
        stats.proportion(design, "q", 1, ci="wilson")  # type: ignore[arg-type]


# ---- missing values ------------------------------------------------------------------------------


def test_na_rm_false_gives_nan_only_for_domains_with_missing(frame: pd.DataFrame) -> None:
    frame.loc[1, "y"] = np.nan  # area b
    d = Design(frame, weights="w", strata="stratum", psu="psu")
    kept = stats.mean(d, "y", by="area", na_rm=False)
    dropped = stats.mean(d, "y", by="area", na_rm=True)
    b = _row(kept, area="b")
    assert np.isnan(b[["estimate", "se", "ci_low", "ci_high", "deff"]].astype(float)).all()
    for area in ("a", "c"):
        pd.testing.assert_series_equal(_row(kept, area=area), _row(dropped, area=area))
    assert np.isfinite(_row(dropped, area="b")["estimate"])
    assert np.isnan(stats.total(d, "y", na_rm=False)["estimate"].iloc[0])


def test_na_rm_true_drops_missing_answers_from_the_base(frame: pd.DataFrame) -> None:
    frame.loc[[1, 7], "y"] = np.nan
    d = Design(frame, weights="w", strata="stratum", psu="psu")
    row = stats.mean(d, "y").iloc[0]
    answered = frame.dropna(subset=["y"])
    assert row["estimate"] == pytest.approx(np.average(answered["y"], weights=answered["w"]))
    assert row["n"] == len(answered)


def test_ratio_drops_rows_missing_either_variable(frame: pd.DataFrame) -> None:
    frame["x"] = frame["y"] + 1.0
    frame.loc[0, "x"] = np.nan
    frame.loc[3, "y"] = np.nan
    d = Design(frame, weights="w", strata="stratum", psu="psu")
    ok = frame.dropna(subset=["x", "y"])
    row = stats.ratio(d, "y", "x").iloc[0]
    assert row["estimate"] == pytest.approx((ok["w"] * ok["y"]).sum() / (ok["w"] * ok["x"]).sum())
    assert row["n"] == len(ok)


# ---- errors --------------------------------------------------------------------------------------


def test_non_numeric_variable_names_the_row(design: Design) -> None:
    with pytest.raises(EstimationError, match=r"column 'area' is not numeric: row 0 holds 'a'"):
        stats.mean(design, "area")


def test_unknown_variable_and_by_column_are_named(design: Design) -> None:
    with pytest.raises(DesignError, match="unknown column 'income'"):
        stats.total(design, "income")
    with pytest.raises(DesignError, match="unknown column 'region'"):
        stats.mean(design, "y", by="region")


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5])
def test_level_must_be_a_probability(design: Design, level: float) -> None:
    with pytest.raises(ValueError, match="level must be between 0 and 1"):
        stats.mean(design, "y", level=level)


# ---- intervals -----------------------------------------------------------------------------------


def test_t_and_normal_intervals(design: Design) -> None:
    t = stats.mean(design, "y", ci="t").iloc[0]
    z = stats.mean(design, "y", ci="normal").iloc[0]
    assert t["df"] == 4
    assert (t["ci_high"] - t["estimate"]) / t["se"] == pytest.approx(sps.t.ppf(0.975, 4))
    assert (z["ci_high"] - z["estimate"]) / z["se"] == pytest.approx(sps.norm.ppf(0.975))
    narrow = stats.mean(design, "y", level=0.9).iloc[0]
    assert narrow["ci_high"] - narrow["ci_low"] < t["ci_high"] - t["ci_low"]


# ---- properties ----------------------------------------------------------------------------------


@st.composite
def surveys(draw: st.DrawFn) -> pd.DataFrame:
    rows = []
    for h in range(draw(st.integers(1, 3))):
        for j in range(draw(st.integers(2, 4))):
            for _ in range(draw(st.integers(1, 3))):
                rows.append({
                    "h": h, "psu": j,
                    "w": draw(st.floats(0.1, 100, allow_nan=False)),
                    "y": draw(st.floats(-1e3, 1e3, allow_nan=False)),
                    "dom": draw(st.sampled_from(["a", "b"])),
                    "q": draw(st.sampled_from([1, 2, 3, 8])),
                })
    return pd.DataFrame(rows)


@settings(max_examples=50, deadline=None)
@given(data=surveys(), scale=st.floats(1e-3, 1e3))
def test_mean_and_proportion_are_invariant_to_rescaling_weights(
    data: pd.DataFrame, scale: float
) -> None:
    d = Design(data, weights="w", strata="h", psu="psu")
    e = Design(data.assign(w=data["w"] * scale), weights="w", strata="h", psu="psu")
    cols = ["estimate", "se", "ci_low", "ci_high", "n", "df"]
    a, b = stats.mean(d, "y", by="dom"), stats.mean(e, "y", by="dom")
    np.testing.assert_allclose(a[cols], b[cols], rtol=1e-9, atol=1e-9)
    pa = stats.proportion(d, "q", [1, 2], exclude=[8], by="dom", ci="t")
    pb = stats.proportion(e, "q", [1, 2], exclude=[8], by="dom", ci="t")
    np.testing.assert_allclose(pa[cols], pb[cols], rtol=1e-9, atol=1e-12)


@settings(max_examples=50, deadline=None)
@given(data=surveys(), scale=st.floats(1e-3, 1e3))
def test_total_scales_with_the_weights(data: pd.DataFrame, scale: float) -> None:
    d = Design(data, weights="w", strata="h", psu="psu")
    e = Design(data.assign(w=data["w"] * scale), weights="w", strata="h", psu="psu")
    a, b = stats.total(d, "y", by="dom"), stats.total(e, "y", by="dom")
    np.testing.assert_allclose(b["estimate"], a["estimate"] * scale, rtol=1e-9,
                               atol=1e-9 * scale * float(np.abs(data["y"]).sum()))
    np.testing.assert_allclose(b["se"], a["se"] * scale, rtol=1e-7,
                               atol=1e-9 * scale * float(np.abs(data["y"]).sum()))


@settings(max_examples=50, deadline=None)
@given(data=surveys())
def test_domain_totals_add_up_to_the_total(data: pd.DataFrame) -> None:
    d = Design(data, weights="w", strata="h", psu="psu")
    by = stats.total(d, "y", by="dom")
    overall = stats.total(d, "y").iloc[0]
    assert by["estimate"].sum() == pytest.approx(
        overall["estimate"], rel=1e-9, abs=1e-9 * float((data["w"] * data["y"].abs()).sum())
    )
