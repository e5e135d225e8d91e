"""tryg.stats.regression against frozen R `survey` results (tests/golden/regression_*.csv).

Written by ``tests/golden/make_regression_golden.R`` (R 4.2.2, survey 4.1-1): ``svyglm``
coefficient tables (gaussian and quasibinomial) on stratified, one- and two-stage cluster, raked
and JK1 replicate designs and on domains, ``regTermTest`` Wald tests and predicted margins /
average marginal effects. Tolerances (relative): coefficients 1e-9, SEs, t, F and chi-square
1e-7, p-values 1e-6 (or 1e-12 absolute for tiny ones).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats import Design, ReplicateDesign
from tryg.stats import regression as reg

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
SCRIPT = GOLDEN_DIR / "make_regression_golden.R"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(GOLDEN_DIR / name, keep_default_na=False,
                       dtype={"domain": str, "case": str, "model": str})


COEF = _read("regression_coefficients.csv")
TESTS = _read("regression_tests.csv")
MARGINS = _read("regression_margins.csv")

MODELS: dict[str, tuple[str, reg.Family]] = {
    "lin": ("api00 ~ ell + meals + mobility", "gaussian"),
    "cat": ("api00 ~ ell + stype", "gaussian"),
    "logit": ("yes ~ ell + meals + stype", "quasibinomial"),
}
POP_TYPES: dict[Hashable, float] = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE: dict[Hashable, float] = {"No": 1072, "Yes": 5122}

Data = dict[str, pd.DataFrame]
AnyDesign = Design | ReplicateDesign


def _clus1(a: Data) -> Design:
    return Design(a["apiclus1"], weights="pw", psu="dnum", fpc="fpc")


CASES: dict[str, Callable[[Data], AnyDesign]] = {
    "strat_fpc": lambda a: Design(a["apistrat"], weights="pw", strata="stype", fpc="fpc"),
    "clus1_fpc": _clus1,
    "clus2_fpc": lambda a: Design(a["apiclus2"], psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
    "rake": lambda a: stats.rake(_clus1(a), {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE},
                                 epsilon=1e-12, maxit=100),
    "jk1_clus1": lambda a: stats.jackknife(_clus1(a), "JK1"),
}


@pytest.fixture(scope="module")
def anchors(shared_data: Path) -> Data:
    folder = shared_data / "stats-anchors"
    out: Data = {}
    for name in ("apistrat", "apiclus1", "apiclus2"):
        df = pd.read_csv(folder / f"{name}.csv", dtype={"cds": str})
        out[name] = df.assign(yes=(df["sch.wide"] == "Yes").astype(float),
                              poor=np.where(df["meals"] > 50, "Yes", "No"))
    return out


def _fit(design: AnyDesign, model: str, domain: str) -> reg.GLMFit:
    formula, family = MODELS[model]
    subset = None if domain == "" else (design.data["poor"] == domain).to_numpy()
    return reg.glm(design, formula, family, subset=subset)


def _close(ours: np.ndarray, theirs: np.ndarray, rtol: float, what: str) -> None:
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=0, err_msg=what)


def test_golden_covers_the_cases() -> None:
    assert set(COEF["case"]) == set(CASES)
    assert set(COEF["model"]) == set(MODELS)
    assert {"No", "Yes"} <= set(COEF["domain"])
    assert len(TESTS) > 10 and len(MARGINS) == 18


@pytest.mark.parametrize(
    ("case", "model", "domain"),
    sorted(set(zip(COEF["case"], COEF["model"], COEF["domain"], strict=True))),
)
def test_coefficients_match_svyglm(case: str, model: str, domain: str, anchors: Data) -> None:
    want = COEF[(COEF["case"] == case) & (COEF["model"] == model) & (COEF["domain"] == domain)]
    fit = _fit(CASES[case](anchors), model, domain)
    tab = fit.table()
    assert len(tab) == len(want)
    _close(tab["estimate"].to_numpy(), want["estimate"].to_numpy(float), 1e-9, "estimate")
    _close(tab["se"].to_numpy(), want["se"].to_numpy(float), 1e-7, "se")
    _close(tab["t"].to_numpy(), want["t"].to_numpy(float), 1e-7, "t")
    np.testing.assert_allclose(tab["p"], want["p"].to_numpy(float), rtol=1e-6, atol=1e-12)
    assert (tab["df"] == want["df"].to_numpy()).all()


@pytest.mark.parametrize("row", range(len(TESTS)))
def test_wald_tests_match_regtermtest(row: int, anchors: Data) -> None:
    spec = TESTS.iloc[row]
    fit = _fit(CASES[spec["case"]](anchors), spec["model"], spec["domain"])
    result = reg.wald_test(fit, spec["terms"].split("|"))
    assert result.df == spec["df"] and result.ddf == spec["ddf"]
    _close(np.array([result.F, result.chisq]), np.array([spec["F"], spec["chisq"]], float),
           1e-7, "F/chisq")
    np.testing.assert_allclose([result.p, result.p_chisq], [spec["p"], spec["p_chisq"]],
                               rtol=1e-6, atol=1e-14)


@pytest.mark.parametrize(
    ("case", "model"), sorted(set(zip(MARGINS["case"], MARGINS["model"], strict=True)))
)
def test_margins_match_linearisation_in_r(case: str, model: str, anchors: Data) -> None:
    want = MARGINS[(MARGINS["case"] == case) & (MARGINS["model"] == model)]
    design = CASES[case](anchors)
    assert isinstance(design, Design)
    result = reg.margins(design, _fit(design, model, ""), "stype")
    tab = result.table
    assert list(tab["level"]) == list(want["level"])
    _close(tab["margin"].to_numpy(), want["margin"].to_numpy(float), 1e-9, "margin")
    _close(tab["margin_se"].to_numpy(), want["margin_se"].to_numpy(float), 1e-7, "margin se")
    np.testing.assert_allclose(tab["effect"], want["effect"].to_numpy(float), rtol=1e-9,
                               atol=1e-14)
    np.testing.assert_allclose(tab["effect_se"], want["effect_se"].to_numpy(float), rtol=1e-7,
                               atol=1e-12)


def test_bad_input_is_named(anchors: Data) -> None:
    design = CASES["strat_fpc"](anchors)
    with pytest.raises(stats.EstimationError, match="unknown column"):
        reg.glm(design, "api00 ~ nosuch")
    with pytest.raises(stats.EstimationError, match=r"\[0, 1\]"):
        reg.glm(design, "api00 ~ ell", "quasibinomial")
    fit = _fit(design, "cat", "")
    with pytest.raises(stats.EstimationError, match="not in the model"):
        reg.wald_test(fit, ["nosuch"])


def test_by_domain_equals_subset(anchors: Data) -> None:
    design = CASES["rake"](anchors)
    keys, fits = reg.glm_by(design, "yes ~ ell + meals", "poor", "quasibinomial")
    assert list(keys["poor"]) == ["No", "Yes"]
    for i, level in enumerate(keys["poor"]):
        one = reg.glm(design, "yes ~ ell + meals", "quasibinomial",
                      subset=(design.data["poor"] == level).to_numpy())
        np.testing.assert_allclose(fits[i].coefficients, one.coefficients, rtol=1e-12)
        np.testing.assert_allclose(fits[i].vcov, one.vcov, rtol=1e-9)
    table = reg.coefficient_table(keys, fits)
    assert list(table.columns[:2]) == ["poor", "term"] and len(table) == 6


@pytest.mark.r
@pytest.mark.slow
def test_make_regression_golden_reproduces_committed_files(
    rscript: Path, shared_data: Path, tmp_path: Path
) -> None:
    result = subprocess.run(
        [str(rscript), str(SCRIPT), str(shared_data / "stats-anchors"), str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("regression_coefficients.csv", "regression_tests.csv",
                 "regression_margins.csv"):
        fresh = pd.read_csv(tmp_path / name, keep_default_na=False, dtype={"domain": str})
        committed = pd.read_csv(GOLDEN_DIR / name, keep_default_na=False, dtype={"domain": str})
        pd.testing.assert_frame_equal(fresh, committed, rtol=1e-12, check_exact=False)
