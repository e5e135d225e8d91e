"""Tests for tryg.stats.replicates: replicate-weight designs, and calibration in every replicate.

References:
* R survey 4.1.1 (R 4.2.2), frozen in ``tests/golden/replicates_*.csv`` by
  ``tests/golden/make_replicates_golden.R`` (re-run live below when R is present). Every case of
  the script has a builder here under the same name; a test checks that the two lists agree.
  Tolerances (relative): estimates 1e-9, standard errors and interval limits 1e-7; degrees of
  freedom exactly.
* identities that hold without R: the jackknife variance of a total equals the linearised one,
  replicate weights read back through ``from_weights`` give the design they came from, the
  variance formula computed by hand.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NoReturn

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats import (
    CalibrationError,
    Design,
    DesignError,
    ReplicateDesign,
    bootstrap,
    jackknife,
)

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
ESTIMATES_CSV = GOLDEN_DIR / "replicates_estimates.csv"
BRR_CSV = GOLDEN_DIR / "replicates_brr_weights.csv"
BOOT_CSV = GOLDEN_DIR / "replicates_boot_weights.csv"
SCRIPT = GOLDEN_DIR / "make_replicates_golden.R"

RTOL = {"estimate": 1e-9, "se": 1e-7, "ci_low": 1e-7, "ci_high": 1e-7}
TEXT = ["case", "statistic", "variable", "by", "domain"]
NUMBERS = ["estimate", "se", "ci_low", "ci_high", "df"]

POP_TYPES = {"E": 4421.0, "H": 755.0, "M": 1018.0}
POP_SCHWIDE = {"No": 1072.0, "Yes": 5122.0}
CAL_TOTALS = {"(Intercept)": 6194.0, "stype=H": 755.0, "stype=M": 1018.0, "api99": 3914069.0}


def _missing(reason: str) -> NoReturn:
    """Skip locally, fail under CI=true (same rule as tests/conftest.py)."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def _read_estimates(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=dict.fromkeys(TEXT, str), keep_default_na=False,
                       na_values={c: [""] for c in NUMBERS})


# --------------------------------------------------------------------------- data and designs


@pytest.fixture(scope="module")
def golden() -> pd.DataFrame:
    return _read_estimates(ESTIMATES_CSV)


@pytest.fixture(scope="module")
def anchors(shared_data: Path) -> Path:
    path = shared_data / "stats-anchors"
    if not (path / "apiclus1.csv").is_file():
        _missing(f"stats-anchors data not found in {path}")
    return path


def _api(anchors: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(anchors / name, dtype={"cds": str})


@pytest.fixture(scope="module")
def apiclus1(anchors: Path) -> pd.DataFrame:
    return _api(anchors, "apiclus1.csv")


@pytest.fixture(scope="module")
def jk1(apiclus1: pd.DataFrame) -> ReplicateDesign:
    return jackknife(Design(apiclus1, weights="pw", psu="dnum", fpc="fpc"), "JK1")


@pytest.fixture(scope="module")
def designs(anchors: Path, apiclus1: pd.DataFrame) -> dict[str, ReplicateDesign]:
    """Every case of make_replicates_golden.R, built the tryg way."""
    apistrat = _api(anchors, "apistrat.csv")
    apiclus2 = _api(anchors, "apiclus2.csv")
    dclus1 = Design(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    dstrat = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    dclus2 = Design(apiclus2, psu=["dnum", "snum"], fpc=["fpc1", "fpc2"])
    jk1 = jackknife(dclus1, "JK1")

    brr_factors = pd.read_csv(BRR_CSV)
    pairs = apistrat.merge(brr_factors, on="snum", how="left", validate="1:1")
    assert pairs["pair"].notna().all()
    brr_cols = [c for c in brr_factors.columns if c.startswith("brr_")]
    fay_cols = [c.replace("brr_", "fay_") for c in brr_cols]
    fay = pd.DataFrame(0.5 + 0.5 * pairs[brr_cols].to_numpy(), columns=fay_cols)
    pairs = pd.concat([pairs, fay], axis=1)

    def brr(mse: bool = False) -> ReplicateDesign:
        return ReplicateDesign.from_weights(
            pairs, weights="pw", replicate_weights=r"^brr_\d+$", type="BRR",
            combined_weights=False, mse=mse,
        )

    boot_factors = pd.read_csv(BOOT_CSV)
    booted = apistrat.merge(boot_factors, on="snum", how="left", validate="1:1")
    boot_scale = _golden_constant("boot_strat", "scale")

    return {
        "jk1_clus1": jk1,
        "jk1_clus1_mse": jackknife(dclus1, "JK1", mse=True),
        "jkn_strat": jackknife(dstrat, "JKn"),
        "jk1_clus2": jackknife(dclus2),
        "ps_jk1": stats.poststratify(jk1, "stype", POP_TYPES),
        "rake_jk1": stats.rake(jk1, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE},
                               epsilon=1e-12, maxit=100),
        "cal_jk1": stats.calibrate(jk1, CAL_TOTALS),
        "calb_jk1": stats.calibrate(jk1, CAL_TOTALS, bounds=(0.4, 2.5)),
        "calr_jk1": stats.calibrate(jk1, {"(Intercept)": 6194.0, "api99": 3914069.0},
                                    calfun="raking"),
        "brr_pairs": brr(),
        "brr_pairs_mse": brr(mse=True),
        "fay_pairs": ReplicateDesign.from_weights(
            pairs, weights="pw", replicate_weights=fay_cols, type="Fay", rho=0.5,
            combined_weights=False,
        ),
        "ps_brr": stats.poststratify(brr(), "sch.wide", POP_SCHWIDE),
        "boot_strat": ReplicateDesign.from_weights(
            booted, weights="pw", replicate_weights="^boot_", type="bootstrap",
            scale=boot_scale, combined_weights=False,
        ),
    }


def _golden_constant(case: str, statistic: str) -> float:
    g = _read_estimates(ESTIMATES_CSV)
    row = g[(g["case"] == case) & (g["statistic"] == statistic)]
    assert len(row) == 1, (case, statistic)
    return float(row["estimate"].iloc[0])


# --------------------------------------------------------------------------- R golden values


def _tryg_rows(design: ReplicateDesign, statistic: str, variable: str, by: str) -> pd.DataFrame:
    """tryg's answer to one group of golden rows, keyed by domain ('' for the whole)."""
    by_arg = by or None
    if statistic == "mean":
        out = stats.mean(design, variable, by=by_arg)
    elif statistic == "total":
        out = stats.total(design, variable, by=by_arg)
    elif statistic == "ratio":
        num, den = variable.split("/")
        out = stats.ratio(design, num, den, by=by_arg)
    elif statistic.startswith("ciprop_"):
        column, code = variable.split("=")
        method = statistic.removeprefix("ciprop_")
        ci: Literal["logit", "beta"] = "logit" if method == "logit" else "beta"
        out = stats.proportion(design, column, code, by=by_arg, ci=ci)
    else:  # pragma: no cover - a new statistic in the script needs a branch here
        raise AssertionError(f"unknown statistic {statistic!r}")
    domain = out[by].astype(str) if by else pd.Series([""] * len(out))
    return out.assign(domain=domain.to_numpy()).set_index("domain")


def _compare(case: str, golden: pd.DataFrame, design: ReplicateDesign) -> dict[str, float]:
    """Compare one case with R; return the largest relative difference per column."""
    worst = dict.fromkeys([*RTOL, "df"], 0.0)
    rows = golden[golden["case"] == case]
    constants = rows[rows["statistic"].isin(["degf", "scale", "rscale"])]
    for _, row in constants.iterrows():
        if row["statistic"] == "degf":
            assert design.degrees_of_freedom == row["estimate"], case
        elif row["statistic"] == "scale":
            np.testing.assert_allclose(design.scale, row["estimate"], rtol=1e-12)
        else:
            column = design.replicate_weights
            dropped = design.data[row["by"]].astype(str).to_numpy()[:, None] == row["domain"]
            in_stratum = ((column == 0) & dropped).any(axis=0)
            np.testing.assert_allclose(design.rscales[in_stratum], row["estimate"], rtol=1e-12)
    estimates = rows[~rows.index.isin(constants.index)]
    groups: Any = estimates.groupby(["statistic", "variable", "by"], sort=False)
    for (statistic, variable, by), group in groups:
        ours = _tryg_rows(design, statistic, variable, by)
        assert sorted(ours.index) == sorted(group["domain"]), (case, statistic, by)
        for _, row in group.iterrows():
            mine = ours.loc[row["domain"]]
            label = f"{case} {statistic} {variable} by={by!r} {row['domain']!r}"
            assert mine["df"] == row["df"], f"{label}: df {mine['df']} != R {row['df']}"
            for name, rtol in RTOL.items():
                np.testing.assert_allclose(mine[name], row[name], rtol=rtol, err_msg=label)
                rel = abs(mine[name] - row[name]) / max(abs(row[name]), 1e-300)
                worst[name] = max(worst[name], float(rel))
    return worst


def test_every_golden_case_has_a_builder(
    golden: pd.DataFrame, designs: dict[str, ReplicateDesign]
) -> None:
    assert set(golden["case"]) == set(designs)


CASES = [
    "jk1_clus1", "jk1_clus1_mse", "jkn_strat", "jk1_clus2", "ps_jk1", "rake_jk1", "cal_jk1",
    "calb_jk1", "calr_jk1", "brr_pairs", "brr_pairs_mse", "fay_pairs", "ps_brr", "boot_strat",
]


@pytest.mark.parametrize("case", CASES)
def test_matches_r(case: str, golden: pd.DataFrame, designs: dict[str, ReplicateDesign]) -> None:
    _compare(case, golden, designs[case])


@pytest.mark.r
def test_golden_script_reproduces_csv(rscript: Path, anchors: Path, tmp_path: Path) -> None:
    run = subprocess.run(
        [str(rscript), str(SCRIPT), str(anchors.parent), str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert run.returncode == 0, run.stderr
    fresh, committed = (_read_estimates(p / ESTIMATES_CSV.name)
                        for p in (tmp_path, GOLDEN_DIR))
    pd.testing.assert_frame_equal(fresh[TEXT], committed[TEXT])
    np.testing.assert_allclose(fresh[NUMBERS], committed[NUMBERS], rtol=1e-12, atol=0)
    for name in (BRR_CSV.name, BOOT_CSV.name):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name), pd.read_csv(GOLDEN_DIR / name))


# --------------------------------------------------------------------------- identities


def test_jackknife_total_variance_equals_linearised(anchors: Path, apiclus1: pd.DataFrame) -> None:
    """For a total, JK1/JKn variance and the with-replacement linearised variance (times the
    same fpc) are algebraically equal; this checks scale, rscales and the fpc together."""
    apistrat = _api(anchors, "apistrat.csv")
    for design in (
        Design(apiclus1, weights="pw", psu="dnum", fpc="fpc"),
        Design(apiclus1, weights="pw", psu="dnum"),
        Design(apistrat, weights="pw", strata="stype", fpc="fpc"),
        Design(apistrat, weights="pw", strata="stype"),
    ):
        lin = stats.total(design, "enroll", by="sch.wide", na_rm=True)
        rep = stats.total(jackknife(design), "enroll", by="sch.wide", na_rm=True)
        np.testing.assert_allclose(rep["estimate"], lin["estimate"], rtol=1e-12)
        np.testing.assert_allclose(rep["se"], lin["se"], rtol=1e-10)


def test_from_weights_reads_back_a_jackknife(jk1: ReplicateDesign) -> None:
    names = [f"rw{r}" for r in range(jk1.replicates)]
    data = pd.concat([jk1.data, pd.DataFrame(jk1.replicate_weights, columns=names)], axis=1)
    combined = ReplicateDesign.from_weights(
        data, weights="pw", replicate_weights=r"^rw\d+$", type="JK1", scale=jk1.scale
    )
    factors = data.assign(**{n: data[n] / data["pw"] for n in names})
    split = ReplicateDesign.from_weights(
        factors, weights="pw", replicate_weights=names, type="JK1", scale=jk1.scale,
        combined_weights=False,
    )
    expected = stats.mean(jk1, "api00", by="stype")
    for d in (combined, split):
        assert d.replicate_names == tuple(names)
        assert d.degrees_of_freedom == jk1.degrees_of_freedom
        got = stats.mean(d, "api00", by="stype")
        np.testing.assert_allclose(got["se"], expected["se"], rtol=1e-12)


def test_variance_formula_by_hand() -> None:
    """scale * sum rscales (theta_r - centre)^2, centred on the replicate mean or (mse) on the
    full-sample estimate, with NaN replicates left out per estimate."""
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "g": ["a", "a", "b", "b"]})
    w = np.ones(4)
    reps = np.array([[0, 2, 1], [2, 0, 1], [0, 0, 2], [2, 0, 0]], dtype=float)
    rscales = np.array([0.5, 1.0, 2.0])
    for mse in (False, True):
        d = ReplicateDesign(data, w, reps, scale=0.7, rscales=rscales, mse=mse)
        got = stats.mean(d, "y", by="g")
        theta = {  # domain a: rows 0, 1; domain b: rows 2, 3 (replicate 2 has no weight in b)
            "a": np.array([2.0, 1.0, 1.5]),
            "b": np.array([4.0, np.nan, 3.0]),
        }
        for i, key in enumerate(("a", "b")):
            t = theta[key]
            ok = ~np.isnan(t)
            centre = got["estimate"][i] if mse else t[ok].mean()
            var = 0.7 * np.sum(rscales[ok] * (t[ok] - centre) ** 2)
            np.testing.assert_allclose(got["se"][i], np.sqrt(var), rtol=1e-14)


def test_domain_degrees_of_freedom_are_ranks(jk1: ReplicateDesign) -> None:
    by_type = stats.mean(jk1, "api00", by="stype").set_index("stype")["df"]
    for key, df in by_type.items():
        rows = (jk1.data["stype"] == key).to_numpy()
        sub = jk1.replicate_weights[rows]
        assert df == np.linalg.matrix_rank(sub) - 1
    assert stats.mean(jk1, "api00")["df"].iloc[0] == jk1.degrees_of_freedom == 14


def _sequential_rank(A: np.ndarray, tol: float = 1e-5) -> int:
    """R's dqrdc2 rule written plainly: keep a column if its residual on the kept columns is at
    least tol times its norm (the residual from a fresh Householder QR every time)."""
    kept: list[int] = []
    for j in range(A.shape[1]):
        r = np.linalg.qr(A[:, [*kept, j]])[1]
        if abs(r[-1, -1]) >= tol * (np.linalg.norm(A[:, j]) or 1.0) and len(kept) < A.shape[0]:
            kept.append(j)
    return len(kept)


def test_rank_follows_r_rule() -> None:
    from tryg.stats.replicates import _rank

    rng = np.random.default_rng(3)
    for _ in range(200):
        n, p, k = (int(v) for v in rng.integers(1, (60, 120, 40)))
        A = rng.normal(size=(n, k)) @ rng.normal(size=(k, p))
        if p > 3:  # a zero column, a duplicate, a near-duplicate (residual 1e-7: set aside)
            A[:, int(rng.integers(0, p))] = 0.0
            A[:, 1] = A[:, 0]
            A[:, 2] = A[:, 0] + 1e-7 * rng.normal(size=n)
        expected = _sequential_rank(A)
        for block in (1, 3, 32):
            assert _rank(A, block=block) == expected


def test_contrasts_use_replicates(jk1: ReplicateDesign) -> None:
    out = stats.compare_domains(jk1, "api00", by="stype", pairs=[("E", "H")])
    y = jk1.data["api00"].to_numpy(float)
    e = (jk1.data["stype"] == "E").to_numpy()
    h = (jk1.data["stype"] == "H").to_numpy()
    W = jk1.replicate_weights
    diff = (W[e].T @ y[e]) / W[e].sum(0) - (W[h].T @ y[h]) / W[h].sum(0)
    se = np.sqrt(jk1.scale * np.sum((diff - diff.mean()) ** 2))
    np.testing.assert_allclose(out["se"].iloc[0], se, rtol=1e-12)
    assert out["df"].iloc[0] == jk1.degrees_of_freedom


# --------------------------------------------------------------------------- constructors


def test_jknweights_structure(anchors: Path) -> None:
    """R's jknweights: drop one PSU, reweight its stratum by n_h/(n_h-1), rscale (n_h-1)/n_h;
    replicates in order of appearance of the strata and of the PSUs within them."""
    apistrat = _api(anchors, "apistrat.csv")
    rn = jackknife(Design(apistrat, weights="pw", strata="stype"))
    assert rn.type == "JKn" and rn.replicates == 200 and rn.scale == 1
    factors = rn.replicate_weights / rn.weights[:, None]
    dropped = np.argmax(factors == 0, axis=0)
    assert np.all((factors == 0).sum(axis=0) == 1)
    stype = apistrat["stype"].to_numpy()
    order = pd.unique(stype)
    expected_rows = np.concatenate([np.flatnonzero(stype == s) for s in order])
    assert np.array_equal(dropped, expected_rows)
    n_h = apistrat["stype"].map(apistrat["stype"].value_counts()).to_numpy()[dropped]
    np.testing.assert_allclose(rn.rscales, (n_h - 1) / n_h, rtol=1e-15)
    in_stratum = stype[:, None] == stype[dropped][None, :]
    kept = factors != 0
    np.testing.assert_allclose(factors[in_stratum & kept], np.broadcast_to(
        n_h / (n_h - 1), factors.shape)[in_stratum & kept], rtol=1e-15)
    assert np.all(factors[~in_stratum] == 1)


@pytest.mark.parametrize("lonely", ["adjust", "average", "remove", "certainty"])
def test_jkn_lonely_psu(lonely: str) -> None:
    """R's jknweights: a lone PSU gets one replicate ('adjust') or none (the rest)."""
    data = pd.DataFrame({"s": [1, 1, 2, 2, 3], "psu": [1, 2, 3, 4, 5],
                         "y": [1.0, 3.0, 2.0, 5.0, 4.0], "w": [2.0, 2.0, 3.0, 3.0, 1.0]})
    d = jackknife(Design(data, weights="w", strata="s", psu="psu",
                         lonely_psu=lonely))
    expected_reps = 5 if lonely == "adjust" else 4
    assert d.replicates == expected_reps
    if lonely == "adjust":
        np.testing.assert_allclose(d.rscales[-1], 2 / 3)
        np.testing.assert_allclose(d.replicate_weights[:, -1] / d.weights, [1.5] * 4 + [0])
    assert d.scale == (5 / 4 if lonely == "average" else 1.0)


def test_bootstrap(anchors: Path) -> None:
    apistrat = _api(anchors, "apistrat.csv")
    design = Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    b1 = bootstrap(design, 50, seed=7)
    b2 = bootstrap(design, 50, seed=7)
    b3 = bootstrap(design, 50, seed=8)
    assert np.array_equal(b1.replicate_weights, b2.replicate_weights)
    assert not np.array_equal(b1.replicate_weights, b3.replicate_weights)
    # R's bootweights scale, which depends only on the PSUs per stratum
    np.testing.assert_allclose(b1.scale, _golden_constant("boot_strat", "scale"), rtol=1e-12)
    counts = b1.replicate_weights / b1.weights[:, None]
    assert np.array_equal(counts, np.round(counts))
    for stratum, n_h in apistrat["stype"].value_counts().items():
        rows = (apistrat["stype"] == stratum).to_numpy()
        assert np.all(counts[rows].sum(axis=0) == n_h)
    no_fpc = bootstrap(Design(apistrat, weights="pw", strata="stype"), 400, seed=1)
    lin = stats.mean(Design(apistrat, weights="pw", strata="stype"), "api00")["se"].iloc[0]
    assert abs(stats.mean(no_fpc, "api00")["se"].iloc[0] / lin - 1) < 0.15


# --------------------------------------------------------------------------- calibration


def test_calibration_is_repeated_in_every_replicate(jk1: ReplicateDesign) -> None:
    ps = stats.poststratify(jk1, "stype", POP_TYPES)
    codes = jk1.data["stype"].to_numpy()
    for key, target in POP_TYPES.items():
        rows = codes == key
        np.testing.assert_allclose(ps.weights[rows].sum(), target, rtol=1e-12)
        np.testing.assert_allclose(ps.replicate_weights[rows].sum(axis=0), target, rtol=1e-12)
    raked = stats.rake(jk1, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE})
    kinds = [a.kind for a in raked.calibration]
    assert kinds == ["rake"] and len(raked.calibration[0].replicate_reports) == jk1.replicates
    both = stats.trim(stats.calibrate(ps, CAL_TOTALS), upper=60.0, strict=True)
    assert [a.kind for a in both.calibration] == ["poststratify", "calibrate", "trim"]
    assert both.weights.max() <= 60 + 1e-9
    assert (both.replicate_weights.max(axis=0) <= 60 + 1e-9).all()
    np.testing.assert_allclose(both.replicate_weights.sum(axis=0), 6194.0, rtol=1e-9)


def test_full_sample_weights_equal_the_design_path(apiclus1: pd.DataFrame) -> None:
    design = Design(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    reps = jackknife(design)
    adjustments: tuple[Callable[[Any], Any], ...] = (
        lambda d: stats.poststratify(d, "stype", POP_TYPES),
        lambda d: stats.rake(d, {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE}),
        lambda d: stats.calibrate(d, CAL_TOTALS, bounds=(0.4, 2.5)),
        lambda d: stats.trim(d, lower=20.0, upper=40.0),
    )
    for adjust in adjustments:
        assert np.array_equal(adjust(design).weights, adjust(reps).weights)


def test_failing_replicate_is_named() -> None:
    data = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "cell": ["x", "y", "y", "y", "y", "y"],
                         "w": [1.0] * 6})
    d = jackknife(Design(data, weights="w", psu="psu"))
    with pytest.raises(CalibrationError, match=r"replicate 1 \(jk1_1\).*cell \{'cell': 'x'\}"):
        stats.poststratify(d, "cell", {"x": 10.0, "y": 50.0})
    # the full sample already meets the margins (one round), replicate 1 does not
    data2 = pd.DataFrame({"psu": [1, 1, 2, 2, 3, 3], "a": ["p", "q", "q", "p", "p", "q"],
                          "b": ["u", "u", "v", "v", "u", "v"], "w": [1.0] * 6})
    d2 = jackknife(Design(data2, weights="w", psu="psu"))
    with pytest.raises(CalibrationError, match=r"replicate 1 \(jk1_1\): raking did not converge"):
        stats.rake(d2, {"a": {"p": 3.0, "q": 3.0}, "b": {"u": 3.0, "v": 3.0}}, maxit=1)


def test_bounded_calibration_failing_in_a_replicate(jk1: ReplicateDesign) -> None:
    """R warns and keeps the unconverged replicate; tryg refuses and names it."""
    with pytest.raises(CalibrationError, match=r"^replicate \d+ \(jk1_\d+\): calibration failed"):
        stats.calibrate(jk1, CAL_TOTALS, bounds=(0.7, 1.7))


# --------------------------------------------------------------------------- immutability


def test_immutable(jk1: ReplicateDesign) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        jk1.scale = 2.0  # type: ignore[misc]
    for array in (jk1.weights, jk1.replicate_weights, jk1.rscales):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1.0
    before = jk1.replicate_weights.copy()
    adjusted = stats.poststratify(jk1, "stype", POP_TYPES)
    assert adjusted is not jk1 and jk1.calibration == ()
    assert np.array_equal(jk1.replicate_weights, before)


def test_constructor_copies_its_inputs() -> None:
    data = pd.DataFrame({"y": [1.0, 2.0, 3.0]})
    w = np.ones(3)
    reps = np.array([[0.0, 1.5, 1.5], [1.5, 0.0, 1.5], [1.5, 1.5, 0.0]])
    d = ReplicateDesign(data, w, reps, type="JK1", scale=2 / 3)
    reps[0, 0] = 99.0
    w[0] = 99.0
    assert d.replicate_weights[0, 0] == 0.0 and d.weights[0] == 1.0
    assert d.degrees_of_freedom == 2
    assert "JK1" in repr(d)


# --------------------------------------------------------------------------- errors


def _frame() -> pd.DataFrame:
    return pd.DataFrame({"w": [1.0, 2.0, 3.0], "r1": [0.0, 2.0, 3.0], "r2": [1.0, 0.0, 3.0],
                         "r3": [1.0, 2.0, 0.0], "y": [1.0, 2.0, 3.0]})


@pytest.mark.parametrize(
    ("change", "kwargs", "message"),
    [
        (None, {"replicate_weights": ["r1", "nope"]}, r"unknown replicate weight column.*'nope'"),
        (None, {"replicate_weights": "^zz"}, r"no column matches replicate_weights='\^zz'"),
        (None, {"replicate_weights": "(["}, "not a regular expression"),
        (None, {"replicate_weights": ["r1"]}, r"at least 2 replicate weight columns.*'r1'"),
        (None, {"replicate_weights": ["r1", "r1"]}, "listed twice"),
        (None, {"weights": "ww"}, r"unknown weight column 'ww'"),
        (("r2", 1, np.nan), {}, r"replicate weight column 'r2' is missing .* row 1"),
        (("r3", 2, -1.0), {}, r"replicate weight column 'r3' is negative at row 2"),
        (("w", 0, -1.0), {}, r"weight column 'w' is negative at row 0"),
        (None, {"rscales": [1.0, 1.0]}, r"rscales has 2 values but there are 3 replicates"),
        (None, {"rscales": [1.0, -1.0, 1.0]}, "non-negative"),
        (None, {"type": "Fay"}, "needs rho="),
        (None, {"type": "Fay", "rho": 1.0}, "needs rho="),
        (None, {"type": "BRR", "scale": 0.5}, "fixes the scale"),
        (None, {"type": "JK1", "rho": 0.5}, r"rho= is only used with type='Fay'"),
        (None, {"type": "JKn"}, "needs rscales="),
        (None, {"type": "ACS"}, "is not one of"),
        (None, {"scale": 0.0}, "scale must be a positive number"),
    ],
)
def test_from_weights_errors(
    change: tuple[str, int, float] | None, kwargs: dict[str, object], message: str
) -> None:
    data = _frame()
    if change is not None:
        data.loc[change[1], change[0]] = change[2]
    args: dict[str, object] = {"weights": "w", "replicate_weights": ["r1", "r2", "r3"],
                               "type": "other"}
    args.update(kwargs)
    with pytest.raises(DesignError, match=message):
        ReplicateDesign.from_weights(data, **args)


def test_from_weights_defaults() -> None:
    data = _frame()
    cols = ["r1", "r2", "r3"]

    def build(**kw: object) -> ReplicateDesign:
        return ReplicateDesign.from_weights(data, weights="w", replicate_weights=cols, **kw)

    assert build(type="BRR").scale == pytest.approx(1 / 3)
    assert build(type="Fay", rho=0.5).scale == pytest.approx(1 / (3 * 0.25))
    assert build(type="JK1").scale == pytest.approx(2 / 3)
    assert build(type="bootstrap").scale == pytest.approx(1 / 2)
    assert build(type="other").scale == 1.0
    jkn = build(type="JKn", rscales=[0.5, 0.5, 0.5])
    assert jkn.scale == 1.0 and np.all(jkn.rscales == 0.5)
    assert np.all(build(type="other", rscales=2.0).rscales == 2.0)
    assert not build(type="BRR").mse
    # the weight column is never a replicate, even when the pattern matches it
    assert build(type="other").replicate_names == ("r1", "r2", "r3")
    regex = ReplicateDesign.from_weights(data, weights="w", replicate_weights="^[rw]",
                                         type="other")
    assert regex.replicate_names == ("r1", "r2", "r3")


def test_constructor_errors() -> None:
    data = _frame()
    with pytest.raises(DesignError, match=r"shape \(rows, replicates\) = \(3, R\)"):
        ReplicateDesign(data, np.ones(3), np.ones((2, 3)))
    with pytest.raises(DesignError, match="at least 2 replicates"):
        ReplicateDesign(data, np.ones(3), np.ones((3, 1)))
    with pytest.raises(DesignError, match="replicate_2 is missing or not finite at row 0"):
        ReplicateDesign(data, np.ones(3), np.array([[1.0, np.nan]] * 3))
    with pytest.raises(DesignError, match="full-sample weights is negative at row 1"):
        ReplicateDesign(data, np.array([1.0, -1.0, 1.0]), np.ones((3, 2)))
    with pytest.raises(DesignError, match="3 replicate names for 2 replicates"):
        ReplicateDesign(data, np.ones(3), np.ones((3, 2)), replicate_names=["a", "b", "c"])


def test_jackknife_errors(apiclus1: pd.DataFrame, anchors: Path) -> None:
    apistrat = _api(anchors, "apistrat.csv")
    strat = Design(apistrat, weights="pw", strata="stype")
    clus = Design(apiclus1, weights="pw", psu="dnum")
    with pytest.raises(DesignError, match=r"JK1 is for unstratified designs.*'stype'"):
        jackknife(strat, "JK1")
    with pytest.raises(DesignError, match="JKn needs a stratified design"):
        jackknife(clus, "JKn")
    with pytest.raises(DesignError, match="not 'auto', 'JK1' or 'JKn'"):
        jackknife(clus, "BRR")
    calibrated = stats.poststratify(clus, "stype", POP_TYPES)
    with pytest.raises(DesignError, match=r"already adjusted \(poststratify\)"):
        jackknife(calibrated)
    with pytest.raises(DesignError, match=r"already adjusted"):
        bootstrap(calibrated)
    with pytest.raises(DesignError, match="at least 2"):
        bootstrap(clus, replicates=1)
    one_psu = Design(pd.DataFrame({"p": [1, 1], "w": [1.0, 1.0]}), weights="w", psu="p",
                     lonely_psu="remove")
    with pytest.raises(DesignError, match="at least 2 PSUs"):
        jackknife(one_psu)
    census = Design(pd.DataFrame({"w": [1.0, 1.0], "N": [2.0, 2.0]}), weights="w", fpc="N")
    with pytest.raises(DesignError, match="every PSU of the population was sampled"):
        jackknife(census)


def test_size_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    from tryg.stats import replicate_builders

    monkeypatch.setattr(replicate_builders, "MAX_CELLS", 10)
    design = Design(pd.DataFrame({"w": np.ones(6)}), weights="w")
    with pytest.raises(DesignError, match="6 rows x 6 replicates"):
        jackknife(design)
