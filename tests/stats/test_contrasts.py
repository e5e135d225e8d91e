"""Contrasts and change tests, checked against R `survey`'s svycontrast run live."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats.contrasts import (
    change_between,
    compare_domains,
    compare_with_pooled,
    compare_with_rest,
)

R_SCRIPT = r"""
suppressMessages(library(survey))
args <- commandArgs(TRUE)
a <- read.csv(file.path(args[1], "apistrat.csv"))
c1 <- read.csv(file.path(args[1], "apiclus1.csv"))
out <- function(case, x) cat(sprintf("%s,%.15g,%.15g\n", case, coef(x), SE(x)))
d <- svydesign(id=~1, strata=~stype, weights=~pw, data=a, fpc=~fpc)
b <- svyby(~api00, ~stype, d, svymean, covmat=TRUE)
out("E-H", svycontrast(b, c(E=1, H=-1)))
a$g <- ifelse(a$cname == "Los Angeles", "LA", "rest")
d <- svydesign(id=~1, strata=~stype, weights=~pw, data=a, fpc=~fpc)
out("LA-rest", svycontrast(svyby(~api00, ~g, d, svymean, covmat=TRUE), c(LA=1, rest=-1)))
c1$yes <- as.numeric(c1$sch.wide == "Yes")
dc <- svydesign(id=~dnum, weights=~pw, data=c1, fpc=~fpc)
out("clus-E-M", svycontrast(svyby(~yes, ~stype, dc, svymean, covmat=TRUE), c(E=1, M=-1)))
dc <- rake(dc, list(~stype, ~sch.wide), list(data.frame(stype=c("E","H","M"),
  Freq=c(4421,755,1018)), data.frame(sch.wide=c("No","Yes"), Freq=c(1072,5122))),
  control=list(epsilon=1e-12, maxit=100))
# svyby(covmat=TRUE) fails on raked designs in survey 4.1; the same contrast as two ratios:
r <- svyratio(~I(api00 * (stype == "E")) + I(api00 * (stype == "H")),
              ~I(as.numeric(stype == "E")) + I(as.numeric(stype == "H")), dc, covmat = TRUE)
v <- vcov(r); k <- c(1, 0, 0, -1)
cat(sprintf("%s,%.15g,%.15g\n", "raked-E-H", sum(k * coef(r)), sqrt(drop(t(k) %*% v %*% k))))
"""


@pytest.fixture(scope="module")
def r_contrasts(
    rscript: Path, shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[float, float]]:
    script = tmp_path_factory.mktemp("r") / "contrasts.R"
    script.write_text(R_SCRIPT)
    done = subprocess.run(
        [str(rscript), str(script), str(shared_data / "stats-anchors")],
        capture_output=True, text=True, check=True, timeout=300,
    )
    rows = [line.split(",") for line in done.stdout.strip().splitlines()]
    return {case: (float(est), float(se)) for case, est, se in rows}


@pytest.fixture(scope="module")
def apistrat(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "stats-anchors" / "apistrat.csv")


@pytest.fixture(scope="module")
def apiclus1(shared_data: Path) -> pd.DataFrame:
    return pd.read_csv(shared_data / "stats-anchors" / "apiclus1.csv")


@pytest.mark.r
def test_domain_contrast_matches_r(
    apistrat: pd.DataFrame, r_contrasts: dict[str, tuple[float, float]]
) -> None:
    d = stats.Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    res = compare_domains(d, "api00", by="stype", pairs=[("E", "H")])
    est, se = r_contrasts["E-H"]
    assert res["difference"].iloc[0] == pytest.approx(est, rel=1e-10)
    assert res["se"].iloc[0] == pytest.approx(se, rel=1e-8)


@pytest.mark.r
def test_area_against_rest_of_parent_matches_r(
    apistrat: pd.DataFrame, r_contrasts: dict[str, tuple[float, float]]
) -> None:
    data = apistrat.assign(parent="California")
    d = stats.Design(data, weights="pw", strata="stype", fpc="fpc")
    res = compare_with_rest(d, "api00", area="cname", parent="parent")
    la = res[res["cname"] == "Los Angeles"].iloc[0]
    est, se = r_contrasts["LA-rest"]
    assert la["difference"] == pytest.approx(est, rel=1e-10)
    assert la["se"] == pytest.approx(se, rel=1e-8)
    # every county is compared with the other counties of its parent
    assert len(res) == data["cname"].nunique()


@pytest.mark.r
def test_proportion_contrast_in_cluster_design_matches_r(
    apiclus1: pd.DataFrame, r_contrasts: dict[str, tuple[float, float]]
) -> None:
    d = stats.Design(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    res = compare_domains(
        d, "sch.wide", by="stype", pairs=[("E", "M")], statistic="proportion", codes="Yes"
    )
    est, se = r_contrasts["clus-E-M"]
    assert res["difference"].iloc[0] == pytest.approx(est, rel=1e-10)
    assert res["se"].iloc[0] == pytest.approx(se, rel=1e-8)


@pytest.mark.r
def test_contrast_after_raking_uses_calibration_residuals(
    apiclus1: pd.DataFrame, r_contrasts: dict[str, tuple[float, float]]
) -> None:
    d = stats.Design(apiclus1, weights="pw", psu="dnum", fpc="fpc")
    d = stats.rake(d, {"stype": {"E": 4421, "H": 755, "M": 1018},
                       "sch.wide": {"No": 1072, "Yes": 5122}})
    res = compare_domains(d, "api00", by="stype", pairs=[("E", "H")])
    est, se = r_contrasts["raked-E-H"]
    assert res["difference"].iloc[0] == pytest.approx(est, rel=1e-9)
    assert res["se"].iloc[0] == pytest.approx(se, rel=1e-7)


def _two_waves(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = 400
    return pd.DataFrame({
        "wave": np.repeat([2021, 2022, 2023, 2024], n // 4),
        "stratum": rng.integers(0, 4, n),
        "w": rng.uniform(1, 3, n),
        "y": rng.normal(10, 2, n),
    }).assign(strat=lambda f: f["wave"].astype(str) + "-" + f["stratum"].astype(str))


def test_independent_waves_in_one_design_have_additive_variance() -> None:
    """With wave-specific strata, comparing two waves in one design equals the
    independent-samples formula applied to separate estimates."""
    data = _two_waves(1)
    d = stats.Design(data, weights="w", strata="strat")
    res = compare_domains(d, "y", by="wave", pairs=[(2024, 2023)]).iloc[0]
    by_wave = stats.mean(d, "y", by="wave").set_index("wave")
    se_sum = np.hypot(by_wave["se"].loc[2024], by_wave["se"].loc[2023])
    assert res["se"] == pytest.approx(se_sum, rel=1e-12)
    # the same difference from two separately estimated waves
    separate = [stats.mean(stats.Design(data[data["wave"] == w], weights="w", strata="strat"), "y")
                for w in (2023, 2024)]
    change = change_between(separate[0], separate[1]).iloc[0]
    assert change["difference"] == pytest.approx(res["difference"], rel=1e-12)
    assert change["se"] == pytest.approx(res["se"], rel=1e-12)


def test_change_between_two_result_tables() -> None:
    earlier = pd.DataFrame({"area": ["a", "b"], "estimate": [0.80, 0.90], "se": [0.03, 0.04]})
    later = pd.DataFrame({"area": ["b", "a"], "estimate": [0.85, 0.88], "se": [0.04, 0.03]})
    res = change_between(earlier, later, on="area").set_index("area")
    assert res.loc["a", "difference"] == pytest.approx(0.08)
    assert res.loc["a", "se"] == pytest.approx(np.hypot(0.03, 0.03))
    z = 0.08 / np.hypot(0.03, 0.03)
    from scipy import stats as sps

    assert res.loc["a", "p_value"] == pytest.approx(2 * sps.norm.sf(z))
    assert res.loc["b", "difference"] == pytest.approx(-0.05)
    assert res["ci_low"].loc["a"] < 0.08 < res["ci_high"].loc["a"]


def test_pooled_earlier_waves_equal_a_union_domain() -> None:
    data = _two_waves(2).assign(area=lambda f: np.where(f["stratum"] < 2, "north", "south"))
    d = stats.Design(data, weights="w", strata="strat")
    res = compare_with_pooled(d, "y", wave="wave", current=2024, earlier=[2021, 2022, 2023],
                              by="area").set_index("area")
    north = data[(data["area"] == "north") & (data["wave"] < 2024)]
    pooled = np.average(north["y"], weights=north["w"])
    assert res.loc["north", "estimate_second"] == pytest.approx(pooled, rel=1e-12)
    direct = compare_domains(
        d, "y", by=["area", "wave"],
        pairs=[(("north", 2024), [("north", 2021), ("north", 2022), ("north", 2023)])],
    ).iloc[0]
    assert res.loc["north", "se"] == pytest.approx(direct["se"], rel=1e-12)
    assert 0 <= res["p_value"].loc["north"] <= 1


def test_overlapping_sides_are_refused(apistrat: pd.DataFrame) -> None:
    d = stats.Design(apistrat, weights="pw", strata="stype", fpc="fpc")
    with pytest.raises(stats.EstimationError, match="overlap"):
        compare_domains(d, "api00", by="stype", pairs=[("E", ["E", "H"])])
    with pytest.raises(stats.EstimationError, match="no respondents"):
        compare_domains(d, "api00", by="stype", pairs=[("E", "X")])


def test_fast_rest_of_parent_equals_contrasts_built_directly(apiclus1: pd.DataFrame) -> None:
    """compare_with_rest (all areas at once, never expanding a parent) gives the same numbers
    as compare_domains with each rest written out as a union of domains, on a clustered and
    raked design with missing answers."""
    data = apiclus1.assign(
        parent=np.where(apiclus1["cnum"] % 2 == 0, "even", "odd"),
        y=apiclus1["api00"].where(apiclus1.index % 9 != 0),
    )
    d = stats.Design(data, weights="pw", psu="dnum", fpc="fpc")
    d = stats.rake(d, {"stype": {"E": 4421, "H": 755, "M": 1018},
                       "sch.wide": {"No": 1072, "Yes": 5122}})
    fast = compare_with_rest(d, "y", area="cname", parent="parent", by="stype")
    assert len(fast) > 5
    for _, row in fast.iterrows():
        same = data[(data["stype"] == row["stype"]) & (data["parent"] == row["parent"])]
        others = sorted(set(same["cname"]) - {row["cname"]})
        direct = compare_domains(
            d, "y", by=["stype", "cname"],
            pairs=[((row["stype"], row["cname"]), [(row["stype"], c) for c in others])],
        ).iloc[0]
        assert row["difference"] == pytest.approx(direct["difference"], rel=1e-10)
        # Assembling the variance from moments cancels large terms: where the true SE is
        # (near) zero beside a difference of ~270, the fast path is off by < 1e-6 of the
        # difference; elsewhere the two agree to ~1e-11.
        assert row["se"] == pytest.approx(direct["se"], rel=1e-8,
                                          abs=1e-6 * abs(direct["difference"]))
        assert row["df"] == direct["df"]
        if direct["se"] > 1e-3 * abs(direct["difference"]):
            assert row["p_value"] == pytest.approx(direct["p_value"], rel=1e-6, abs=1e-12)
