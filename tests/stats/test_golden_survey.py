"""tryg.stats against frozen R `survey` results (tests/golden/survey_*.csv).

The golden files are written by ``tests/golden/make_golden.R`` (R 4.2.2, survey 4.1-1; see
``survey_versions.txt``) from the R teaching data in the shared ``stats-anchors`` folder. Every
design of the script has a builder below under the same case name; a test checks the two lists
agree, so a case cannot be dropped on one side only. The script's header states the
conventions (domain degrees of freedom, na.rm, how proportions are computed); they are the
documented conventions of tryg.stats.

Tolerances (relative): estimates 1e-9, standard errors and confidence limits 1e-7, design
effects 1e-6, weights 1e-9. The CSV holds 15 significant digits, so these tolerances measure
the engines, not the file. Standard errors that are zero in theory (the total of a calibration
variable) are compared as "both below 1e-8 of the estimate" instead, since there both engines
return rounding noise.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats import Design

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
ESTIMATES_CSV = GOLDEN_DIR / "survey_estimates.csv"
WEIGHTS_CSV = GOLDEN_DIR / "survey_weights.csv"
SCRIPT = GOLDEN_DIR / "make_golden.R"

RTOL = {"estimate": 1e-9, "se": 1e-7, "ci_low": 1e-7, "ci_high": 1e-7, "deff": 1e-6}
RTOL_WEIGHTS = 1e-9
ZERO_SE = 1e-8  # relative to the estimate: an SE this small is rounding noise of a zero
NUMBERS = ["estimate", "se", "ci_low", "ci_high", "deff"]
TEXT = ["case", "stat", "variable", "codes", "exclude", "by", "domain", "ci"]


def _read_estimates(path: Path) -> pd.DataFrame:
    return pd.read_csv(
        path,
        dtype=dict.fromkeys(TEXT, str),
        keep_default_na=False,
        na_values={c: [""] for c in NUMBERS},
    )


def _read_weights(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"case": str}, keep_default_na=False)


GOLDEN = _read_estimates(ESTIMATES_CSV)
GOLDEN_WEIGHTS = _read_weights(WEIGHTS_CSV)

# ---- the designs of make_golden.R ---------------------------------------------------------------

Data = dict[str, pd.DataFrame]

POP_TYPES = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE = {"No": 1072, "Yes": 5122}
CAL_TOTALS = {"(Intercept)": 6194, "stype=H": 755, "stype=M": 1018, "api99": 3914069}
LONELY = ("certainty", "remove", "adjust", "average")


def _strat_fpc(a: Data) -> Design:
    return Design(a["apistrat"], weights="pw", strata="stype", fpc="fpc")


def _clus1_fpc(a: Data) -> Design:
    return Design(a["apiclus1"], weights="pw", psu="dnum", fpc="fpc")


def _cal_linear(a: Data) -> Design:
    return stats.calibrate(_clus1_fpc(a), CAL_TOTALS)


def _one_h(a: Data) -> pd.DataFrame:
    """apistrat with only its first high school: stratum H has a single PSU."""
    s = a["apistrat"]
    first_h = int(np.flatnonzero(s["stype"].to_numpy() == "H")[0])
    keep = (s["stype"] != "H").to_numpy(copy=True)
    keep[first_h] = True
    return s[keep].reset_index(drop=True)


def _district_h(a: Data) -> pd.DataFrame:
    """apistrat with stratum H reduced to district 401 (one PSU of three schools)."""
    s = a["apistrat"]
    return s[(s["stype"] != "H") | (s["dnum"] == 401)].reset_index(drop=True)


def _lonely(option: str) -> Callable[[Data], Design]:
    def build(a: Data) -> Design:
        return Design(_one_h(a), weights="pw", strata="stype", fpc="fpc",
                      lonely_psu=option)
    return build


def _lonely_clus(option: str) -> Callable[[Data], Design]:
    def build(a: Data) -> Design:
        return Design(_district_h(a), weights="pw", strata="stype", psu="dnum",
                      lonely_psu=option)
    return build


CASES: dict[str, Callable[[Data], Design]] = {
    "srs_fpc": lambda a: Design(a["apisrs"], fpc="fpc"),
    "srs_wr": lambda a: Design(a["apisrs"], weights="pw"),
    "strat_fpc": _strat_fpc,
    "strat_nofpc": lambda a: Design(a["apistrat"], weights="pw", strata="stype"),
    "clus1_fpc": _clus1_fpc,
    "clus1_wr": lambda a: Design(a["apiclus1"], weights="pw", psu="dnum"),
    "clus2_fpc": lambda a: Design(a["apiclus2"], psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
    "clus2_uc": lambda a: Design(a["apiclus2"], weights="pw", psu=["dnum", "snum"]),
    "fpcdata_nofpc": lambda a: Design(a["fpc"], weights="weight", strata="stratid", psu="psuid"),
    "fpcdata_fpc": lambda a: Design(a["fpc"], weights="weight", strata="stratid", psu="psuid",
                                    fpc="Nh"),
    "poststrat": lambda a: stats.poststratify(_clus1_fpc(a), "stype", POP_TYPES),
    "rake": lambda a: stats.rake(_clus1_fpc(a), {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE},
                                 epsilon=1e-12, maxit=100),
    "cal_linear": _cal_linear,
    "cal_bounded": lambda a: stats.calibrate(_clus1_fpc(a), CAL_TOTALS, bounds=(0.5, 2.0)),
    "cal_raking": lambda a: stats.calibrate(_clus1_fpc(a), CAL_TOTALS, calfun="raking"),
    "trim_strat": lambda a: stats.trim(_strat_fpc(a), upper=40),
    "trim_cal": lambda a: stats.trim(_cal_linear(a), lower=20, upper=50, strict=True),
    **{f"lonely_{o}": _lonely(o) for o in LONELY},
    **{f"lonelyclus_{o}": _lonely_clus(o) for o in LONELY},
}


@pytest.fixture(scope="module")
def anchors(shared_data: Path) -> Data:
    folder = shared_data / "stats-anchors"
    if not (folder / "apistrat.csv").is_file():
        pytest.fail(f"stats-anchors data not found in {folder}", pytrace=False)
    data = {
        name: pd.read_csv(folder / f"{name}.csv", dtype={"cds": str})
        for name in ("apisrs", "apistrat", "apiclus1", "apiclus2", "fpc")
    }
    fpc = data["fpc"]
    data["fpc"] = fpc.assign(xgt4=np.where(fpc["x"] > 4, "yes", "no"))
    return data


_designs: dict[str, Design] = {}


def design_for(case: str, anchors: Data) -> Design:
    if case not in _designs:
        _designs[case] = CASES[case](anchors)
    return _designs[case]


# ---- one tryg call per group of golden rows ------------------------------------------------------

GROUP_KEYS = ["case", "stat", "variable", "codes", "exclude", "by", "ci"]
GROUPS = [
    ({k: str(v) for k, v in zip(GROUP_KEYS, key, strict=True)}, frame.reset_index(drop=True))
    for key, frame in GOLDEN.groupby(GROUP_KEYS, sort=False)
]


def _group_id(spec: Mapping[str, Any]) -> str:
    parts = [spec["case"], spec["stat"], spec["variable"]]
    if spec["codes"]:
        parts.append("in=" + spec["codes"])
    if spec["exclude"]:
        parts.append("excl=" + spec["exclude"])
    if spec["by"]:
        parts.append("by=" + spec["by"])
    parts.append(spec["ci"])
    return "-".join(parts)


def _split(text: str) -> list[str]:
    return text.split("|") if text else []


def compute(design: Design, spec: dict[str, str]) -> pd.DataFrame:
    """The tryg estimate described by one golden row group, with a ``domain`` key column."""
    by_cols = _split(spec["by"])
    by = None if not by_cols else by_cols[0] if len(by_cols) == 1 else by_cols
    stat, variable, ci = spec["stat"], spec["variable"], spec["ci"]
    if stat == "mean":
        out = stats.mean(design, variable, by=by, ci=ci)
    elif stat == "total":
        out = stats.total(design, variable, by=by, ci=ci)
    elif stat == "ratio":
        num, den = variable.split("/")
        out = stats.ratio(design, num, den, by=by, ci=ci)
    elif stat == "proportion":
        codes = _split(spec["codes"])
        out = stats.proportion(
            design, variable, codes[0] if len(codes) == 1 else codes,
            exclude=_split(spec["exclude"]), by=by, ci=ci,
        )
    else:  # pragma: no cover - the R script writes only these
        raise AssertionError(f"unknown stat {stat!r}")
    if by_cols:
        out["domain"] = out[by_cols].astype(str).agg("|".join, axis=1)
    else:
        out["domain"] = ""
    return out


def relative_differences(ours: pd.DataFrame, theirs: pd.DataFrame) -> dict[str, float]:
    """Largest relative difference per column over matched domains (NaN in both: 0)."""
    out: dict[str, float] = {}
    merged = theirs.merge(ours, on="domain", suffixes=("_r", "_py"))
    for col in NUMBERS:
        r = merged[f"{col}_r"].to_numpy(np.float64)
        p = merged[f"{col}_py"].to_numpy(np.float64)
        both_nan = np.isnan(r) & np.isnan(p)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.abs(p - r) / np.abs(r)
        rel = np.where(both_nan, 0.0, np.where((r == 0) & (p == 0), 0.0, rel))
        out[col] = float(np.max(rel)) if len(rel) else 0.0
    return out


def check_group(ours: pd.DataFrame, theirs: pd.DataFrame, all_domains: bool) -> None:
    """Compare one group; ``all_domains``: R computed every domain (not a chosen subset)."""
    missing = sorted(set(theirs["domain"]) - set(ours["domain"]))
    assert not missing, f"domains missing from tryg's result: {missing}"
    if all_domains:
        assert sorted(ours["domain"]) == sorted(theirs["domain"]), "different domain lists"
    merged = theirs.merge(ours, on="domain", suffixes=("_r", "_py"))
    problems = []
    for _, row in merged.iterrows():
        dom = row["domain"] or "(all)"
        if row["df_r"] != row["df_py"]:
            problems.append(f"{dom}: df R {row['df_r']} tryg {row['df_py']}")
        scale = abs(row["estimate_r"])
        zero_se = row["se_r"] < ZERO_SE * scale
        for col in NUMBERS:
            r, p = float(row[f"{col}_r"]), float(row[f"{col}_py"])
            if math.isnan(r) or math.isnan(p):
                if not (math.isnan(r) and math.isnan(p)):
                    problems.append(f"{dom}: {col} R {r!r} tryg {p!r}")
                continue
            if zero_se and col in ("se", "deff"):
                if p > ZERO_SE * scale:
                    problems.append(f"{dom}: {col} R {r!r} (zero) tryg {p!r}")
                continue
            if not math.isclose(p, r, rel_tol=RTOL[col], abs_tol=0.0):
                problems.append(
                    f"{dom}: {col} R {r!r} tryg {p!r} (rel. diff {abs(p - r) / abs(r):.2e}, "
                    f"tolerance {RTOL[col]:g})"
                )
    assert not problems, "\n".join(problems)


# ---- tests --------------------------------------------------------------------------------------


def test_every_golden_case_has_a_design() -> None:
    in_csv = set(GOLDEN["case"]) | set(GOLDEN_WEIGHTS["case"])
    assert in_csv == set(CASES), (
        f"only in the CSV: {sorted(in_csv - set(CASES))}; "
        f"only here: {sorted(set(CASES) - in_csv)}"
    )


def test_golden_covers_what_it_should() -> None:
    """Guard against a regenerated CSV that silently lost a kind of estimate."""
    assert {"mean", "total", "ratio", "proportion"} <= set(GOLDEN["stat"])
    assert {"t", "normal", "logit", "beta"} <= set(GOLDEN["ci"])
    assert len(GOLDEN) >= 400
    assert (GOLDEN["by"] != "").sum() >= 200


@pytest.mark.parametrize(
    ("spec", "expected"),
    [pytest.param(s, f, id=_group_id(s)) for s, f in GROUPS],
)
def test_matches_r(spec: dict[str, str], expected: pd.DataFrame, anchors: Data) -> None:
    design = design_for(spec["case"], anchors)
    # R restricts the cname domains to Los Angeles (a subset design); tryg computes them all
    check_group(compute(design, spec), expected, all_domains="cname" not in spec["by"])


@pytest.mark.parametrize("case", sorted(GOLDEN_WEIGHTS["case"].unique()))
def test_adjusted_weights_match_r(case: str, anchors: Data) -> None:
    design = design_for(case, anchors)
    expected = GOLDEN_WEIGHTS[GOLDEN_WEIGHTS["case"] == case].sort_values("row")
    assert expected["row"].tolist() == list(range(design.n))
    np.testing.assert_allclose(
        np.asarray(design.weights), expected["weight"].to_numpy(np.float64),
        rtol=RTOL_WEIGHTS, atol=0, err_msg=f"weights of {case}",
    )


@pytest.mark.r
@pytest.mark.slow
def test_make_golden_reproduces_committed_files(
    rscript: Path, shared_data: Path, tmp_path: Path
) -> None:
    """Re-run the R script and compare with the committed CSVs (same rows, same numbers to
    1e-12: identical R and BLAS give identical text, another BLAS may move the last digit)."""
    result = subprocess.run(
        [str(rscript), str(SCRIPT), str(shared_data / "stats-anchors"), str(tmp_path)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    fresh = _read_estimates(tmp_path / "survey_estimates.csv")
    pd.testing.assert_frame_equal(fresh[[*TEXT, "df"]], GOLDEN[[*TEXT, "df"]])
    for col in NUMBERS:
        np.testing.assert_allclose(
            fresh[col].to_numpy(np.float64), GOLDEN[col].to_numpy(np.float64),
            rtol=1e-12, atol=0, equal_nan=True, err_msg=col,
        )
    fresh_w = _read_weights(tmp_path / "survey_weights.csv")
    pd.testing.assert_frame_equal(fresh_w[["case", "row"]], GOLDEN_WEIGHTS[["case", "row"]])
    np.testing.assert_allclose(fresh_w["weight"], GOLDEN_WEIGHTS["weight"], rtol=1e-12, atol=0)
    assert (tmp_path / "survey_versions.txt").read_text().startswith("R: R version")
