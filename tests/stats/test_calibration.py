"""Unit tests for tryg.stats weight adjustment: poststratify, rake, calibrate, trim.

R's numbers (weights and variances after each adjustment) are in test_golden_survey.py and
test_parity_r.py. Here: refusals that name the problem, the population-figure formats, that
adjusting returns a new design and leaves the old one alone, the convergence reports, and
properties checked with Hypothesis (calibrated totals are met with no sampling error).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tryg import stats
from tryg.stats import CalibrationError, CalibrationReport, Design, DesignError, RakeReport

SEX = {"f": 520.0, "m": 480.0}
AGE = {"young": 300.0, "old": 700.0}


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame({
        "region": np.repeat(["north", "south"], n // 2),
        "psu": np.tile(np.repeat(np.arange(6), 5), 2),
        "sex": rng.choice(["f", "m"], n),
        "age": rng.choice(["young", "old"], n),
        "w": rng.uniform(5, 30, n),
        "x": rng.uniform(0, 10, n),
        "y": rng.normal(50, 10, n),
    })


@pytest.fixture
def design(frame: pd.DataFrame) -> Design:
    return Design(frame, weights="w", strata="region", psu="psu")


def _cell_totals(d: Design, cols: list[str]) -> pd.Series:
    w = pd.Series(np.asarray(d.weights), index=d.data.index)
    return w.groupby([d.data[c] for c in cols]).sum()


# ---- refusals ------------------------------------------------------------------------------------


def test_margins_with_different_totals_are_refused(design: Design) -> None:
    with pytest.raises(CalibrationError, match=r"margins do not sum to the same population: "
                       r"\('sex',\) gives 1000, \('age',\) gives 1100"):
        stats.rake(design, {"sex": SEX, "age": {"young": 400.0, "old": 700.0}})


def test_margins_disagreeing_on_a_shared_column_are_refused(design: Design) -> None:
    by_sex = {("north", "f"): 250.0, ("north", "m"): 250.0,
              ("south", "f"): 270.0, ("south", "m"): 230.0}
    by_age = {("north", "young"): 100.0, ("north", "old"): 300.0,  # north: 400, not 500
              ("south", "young"): 200.0, ("south", "old"): 400.0}
    # which region is reported first is not specified; both disagree (north 500/400, south
    # 500/600)
    with pytest.raises(CalibrationError, match=r"margins \('region', 'sex'\) and "
                       r"\('region', 'age'\) disagree for \{'region': '(north|south)'\}: "
                       r"500 against [46]00"):
        stats.rake(design, {("region", "sex"): by_sex, ("region", "age"): by_age})


def test_sample_cell_missing_from_the_population_is_named(design: Design) -> None:
    with pytest.raises(CalibrationError, match=r"cell \{'sex': 'm'\} occurs in the sample but "
                       r"not in the population figures for \('sex',\)"):
        stats.poststratify(design, "sex", {"f": 1000.0})


def test_population_cell_without_respondents_needs_partial(design: Design) -> None:
    figures = {**SEX, "x": 20.0}
    with pytest.raises(CalibrationError, match=r"1 population cell\(s\) for \('sex',\) have no "
                       r"respondents, e\.g\. \('x',\).*partial=True"):
        stats.poststratify(design, "sex", figures)
    ps = stats.poststratify(design, "sex", figures, partial=True)
    assert float(np.sum(ps.weights)) == pytest.approx(1000.0)


@pytest.mark.parametrize("bad", [-5.0, np.nan, np.inf])
def test_population_figures_must_be_non_negative_numbers(design: Design, bad: float) -> None:
    with pytest.raises(CalibrationError, match="must be non-negative numbers"):
        stats.poststratify(design, "sex", {"f": bad, "m": 480.0})


def test_population_table_needs_the_cell_columns(design: Design) -> None:
    table = pd.DataFrame({"gender": ["f", "m"], "count": [520.0, 480.0]})
    with pytest.raises(CalibrationError, match=r"needs the columns \['sex'\] and one column"):
        stats.poststratify(design, "sex", table)


def test_population_keys_must_match_the_cells(design: Design) -> None:
    with pytest.raises(CalibrationError, match="must be keyed by 2 value"):
        stats.poststratify(design, ["region", "sex"], SEX)


def test_missing_cell_value_in_the_sample_is_refused(frame: pd.DataFrame) -> None:
    frame["sex"] = frame["sex"].astype(object)
    frame.loc[4, "sex"] = None
    d = Design(frame, weights="w", strata="region", psu="psu")
    with pytest.raises(CalibrationError, match=r"column 'sex' is missing at row 4"):
        stats.poststratify(d, "sex", SEX)


def test_unknown_columns_are_named(design: Design) -> None:
    with pytest.raises(DesignError, match="unknown column 'gender'"):
        stats.poststratify(design, "gender", SEX)
    with pytest.raises(CalibrationError, match="calibration variable 'income' is neither"):
        stats.calibrate(design, {"(Intercept)": 1000.0, "income": 5.0})


def test_calibration_options_are_checked(design: Design) -> None:
    totals = {"(Intercept)": 1000.0, "x": 5000.0}
    with pytest.raises(CalibrationError, match=r"bounds \(1.2, 3.0\) must contain 1"):
        stats.calibrate(design, totals, bounds=(1.2, 3.0))
    with pytest.raises(CalibrationError, match="calfun='logit' is not 'linear' or 'raking'"):
        stats.calibrate(design, totals, calfun="logit")
    with pytest.raises(CalibrationError, match=r"failed to meet the totals within bounds "
                       r"\(0.95, 1.05\).*widen the bounds"):
        stats.calibrate(design, {"(Intercept)": 1000.0, "x": 9000.0}, bounds=(0.95, 1.05))


def test_rake_needs_margins_and_trim_needs_ordered_limits(design: Design) -> None:
    with pytest.raises(CalibrationError, match="rake needs at least one margin"):
        stats.rake(design, {})
    with pytest.raises(CalibrationError, match=r"lower \(3\) is above upper \(2\)"):
        stats.trim(design, lower=3, upper=2)


# ---- formats of population figures ---------------------------------------------------------------


def test_population_as_mapping_series_or_table_agree(design: Design) -> None:
    cells = {("north", "f"): 250.0, ("north", "m"): 250.0,
             ("south", "f"): 270.0, ("south", "m"): 230.0}
    series = pd.Series(cells).rename_axis(["region", "sex"])
    table = series.rename("n").reset_index()
    results = [
        np.asarray(stats.poststratify(design, ["region", "sex"], pop).weights)
        for pop in (cells, series, table)
    ]
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])


def test_numeric_cell_labels_match_across_int_and_float(frame: pd.DataFrame) -> None:
    frame["band"] = np.where(frame["x"] > 5, 2, 1)  # integer column
    d = Design(frame, weights="w")
    a = stats.poststratify(d, "band", {1: 400.0, 2: 600.0})
    b = stats.poststratify(d, "band", {1.0: 400.0, 2.0: 600.0})
    np.testing.assert_array_equal(a.weights, b.weights)


# ---- immutability --------------------------------------------------------------------------------


@pytest.mark.parametrize("adjust", ["poststratify", "rake", "calibrate", "trim"])
def test_adjusting_returns_a_new_design_and_keeps_the_old_one(design: Design, adjust: str) -> None:
    before = np.array(design.weights, copy=True)
    if adjust == "poststratify":
        new = stats.poststratify(design, "sex", SEX)
    elif adjust == "rake":
        new = stats.rake(design, {"sex": SEX, "age": AGE})
    elif adjust == "calibrate":
        new = stats.calibrate(design, {"(Intercept)": 1000.0, "sex=m": 480.0, "x": 5000.0})
    else:
        new = stats.trim(design, upper=20.0)
    assert new is not design
    np.testing.assert_array_equal(design.weights, before)
    assert not np.allclose(new.weights, before)
    assert not new.weights.flags.writeable
    assert design.calibration == ()
    expected_steps = 0 if adjust == "trim" else 1
    assert len(new.calibration) == expected_steps
    with pytest.raises(ValueError, match="read-only"):
        new.weights[0] = 1.0


def test_chained_adjustments_accumulate_steps(design: Design) -> None:
    a = stats.poststratify(design, "region", {"north": 500.0, "south": 500.0})
    b = stats.rake(a, {"sex": SEX, "age": AGE})
    c = stats.trim(b, upper=40.0)
    assert [s.kind for s in c.calibration] == ["poststratify", "rake"]
    assert len(a.calibration) == 1  # a is unchanged by what came after


# ---- reports -------------------------------------------------------------------------------------


def test_rake_report_fields(design: Design) -> None:
    raked = stats.rake(design, {"sex": SEX, "age": AGE, "region": {"north": 450.0,
                                                                   "south": 550.0}},
                       epsilon=1e-10)
    report = raked.calibration[-1].report
    assert isinstance(report, RakeReport)
    assert report.converged
    assert report.iterations >= 2
    assert report.tolerance == 1e-10  # relative change per joint cell
    assert 0 <= report.max_change < report.tolerance
    totals = _cell_totals(raked, ["sex"])
    assert totals["f"] == pytest.approx(SEX["f"], rel=1e-9)


def test_rake_nonconvergence_is_an_error_unless_allowed(design: Design) -> None:
    margins = {"sex": SEX, "age": AGE, "region": {"north": 450.0, "south": 550.0}}
    with pytest.raises(CalibrationError, match=r"raking did not converge in 1 rounds"):
        stats.rake(design, margins, maxit=1)
    raked = stats.rake(design, margins, maxit=1, allow_nonconvergence=True)
    report = raked.calibration[-1].report
    assert isinstance(report, RakeReport)
    assert not report.converged
    assert report.iterations == 1
    assert report.max_change >= report.tolerance


def test_absolute_rake_tolerance_when_epsilon_is_at_least_one(design: Design) -> None:
    raked = stats.rake(design, {"sex": SEX, "age": AGE}, epsilon=1.0)
    report = raked.calibration[-1].report
    assert isinstance(report, stats.RakeReport)
    assert report.tolerance == 1.0


def test_calibration_report_and_bounds(design: Design) -> None:
    totals = {"(Intercept)": 1000.0, "sex=m": 480.0, "x": 5200.0}
    free = stats.calibrate(design, totals)
    g_free = np.asarray(free.weights) / np.asarray(design.weights)
    lo, hi = 0.8 * g_free.min() + 0.2, 1.0 * g_free.max()  # a lower bound that binds
    bounded = stats.calibrate(design, totals, bounds=(lo, hi))
    report = bounded.calibration[-1].report
    assert isinstance(report, CalibrationReport)
    assert report.converged
    g = np.asarray(bounded.weights) / np.asarray(design.weights)
    assert report.g_min == pytest.approx(g.min())
    assert report.g_max == pytest.approx(g.max())
    assert g.min() >= lo - 1e-12
    assert np.isclose(g, lo).any()  # the bound is active
    assert report.max_misfit < 1e-7


# ---- trimming ------------------------------------------------------------------------------------


def test_trim_keeps_the_total_and_strict_trims_until_inside(design: Design) -> None:
    w = np.asarray(design.weights)
    once = stats.trim(design, lower=8.0, upper=20.0)
    assert float(np.sum(once.weights)) == pytest.approx(float(w.sum()), rel=1e-12)
    strict = stats.trim(design, lower=8.0, upper=20.0, strict=True)
    ws = np.asarray(strict.weights)
    assert float(ws.sum()) == pytest.approx(float(w.sum()), rel=1e-12)
    assert ws.min() >= 8.0 - 1e-9
    assert ws.max() <= 20.0 + 1e-9


def test_trim_without_anything_outside_changes_nothing(design: Design) -> None:
    same = stats.trim(design, lower=0.0, upper=1e6)
    np.testing.assert_array_equal(same.weights, design.weights)


# ---- properties ----------------------------------------------------------------------------------


@st.composite
def samples(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(8, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    cells = np.array(["a", "b", "c"])
    # every cell x band combination present, so that any positive margins can be met
    cell = np.concatenate([np.repeat(cells, 2), rng.choice(cells, n - 6)])
    band = np.concatenate([np.tile(["u", "v"], 3), rng.choice(["u", "v"], n - 6)])
    return pd.DataFrame({
        "stratum": np.arange(n) % 2,
        "psu": np.arange(n) // 2 % max(2, n // 6),
        "w": rng.uniform(1, 20, n),
        "cell": cell,
        "band": band,
        "x": rng.uniform(1, 10, n),
        "y": rng.normal(0, 5, n),
        "one": np.ones(n),
    })


@settings(max_examples=40, deadline=None)
@given(data=samples(), factors=st.lists(st.floats(0.5, 2.0), min_size=3, max_size=3))
def test_poststratified_cell_totals_are_exact(data: pd.DataFrame, factors: list[float]) -> None:
    d = Design(data, weights="w", strata="stratum", psu="psu")
    sample = _cell_totals(d, ["cell"])
    population = {c: float(sample[c]) * f for c, f in zip("abc", factors, strict=True)}
    ps = stats.poststratify(d, "cell", population)
    totals = stats.total(ps, "one", by="cell")
    for _, row in totals.iterrows():
        assert row["estimate"] == pytest.approx(population[row["cell"]], rel=1e-12)
        # zero in exact arithmetic; the variance is V(Z) - 2 cross + B'GB (variance.py), so
        # what is left is rounding of order sqrt(machine eps) times the unadjusted SE
        assert row["se"] <= 1e-6 * row["estimate"]


@settings(max_examples=40, deadline=None)
@given(data=samples(), shift=st.floats(0.8, 1.25), size=st.floats(0.8, 1.25))
def test_calibrated_totals_are_met_with_no_sampling_error(
    data: pd.DataFrame, shift: float, size: float
) -> None:
    d = Design(data, weights="w", strata="stratum", psu="psu")
    N = float(np.sum(d.weights)) * size
    X = float(np.sum(np.asarray(d.weights) * data["x"])) * size * shift
    cal = stats.calibrate(d, {"(Intercept)": N, "x": X})
    for variable, target in (("one", N), ("x", X)):
        row = stats.total(cal, variable).iloc[0]
        assert row["estimate"] == pytest.approx(target, rel=1e-9)
        assert row["se"] <= 1e-6 * abs(target)
    # an uncalibrated variable keeps a real standard error
    assert stats.total(cal, "y").iloc[0]["se"] > 0


@settings(max_examples=30, deadline=None)
@given(data=samples())
def test_raking_meets_every_margin(data: pd.DataFrame) -> None:
    d = Design(data, weights="w", strata="stratum", psu="psu")
    N = float(np.sum(d.weights))
    cell = {"a": 0.5 * N, "b": 0.3 * N, "c": 0.2 * N}
    band = {"u": 0.45 * N, "v": 0.55 * N}
    raked = stats.rake(d, {"cell": cell, "band": band}, epsilon=1e-12, maxit=1000)
    for col, margin in (("cell", cell), ("band", band)):
        totals = _cell_totals(raked, [col])
        for level, target in margin.items():
            assert totals[level] == pytest.approx(target, rel=1e-8)
        se = stats.total(raked, "one", by=col)["se"]
        assert (se <= 1e-6 * N).all()
