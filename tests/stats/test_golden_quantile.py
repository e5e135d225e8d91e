"""tryg.stats.quantile against frozen R `survey` svyquantile results.

``tests/golden/make_quantile_golden.R`` (survey 4.1-1) writes quantiles at 0.25/0.5/0.75 with
Woodruff intervals and SEs for qrules "math", "school" and "hf7" on stratified, one- and
two-stage cluster and raked designs and on domains. Quantiles and interval ends are values
of the data (or interpolations): compared to 1e-9; SEs to 1e-9 relative.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats import Design
from tryg.stats import quantile as qt

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
GOLDEN = pd.read_csv(GOLDEN_DIR / "quantile_estimates.csv", keep_default_na=False,
                     na_values={c: [""] for c in ("estimate", "ci_low", "ci_high", "se")},
                     dtype={"by": str, "domain": str})
POP_TYPES: dict[Hashable, float] = {"E": 4421, "H": 755, "M": 1018}
POP_SCHWIDE: dict[Hashable, float] = {"No": 1072, "Yes": 5122}
Data = dict[str, pd.DataFrame]


def _clus1(a: Data) -> Design:
    return Design(a["apiclus1"], weights="pw", psu="dnum", fpc="fpc")


CASES: dict[str, Callable[[Data], Design]] = {
    "strat_fpc": lambda a: Design(a["apistrat"], weights="pw", strata="stype", fpc="fpc"),
    "clus1_fpc": _clus1,
    "clus2_fpc": lambda a: Design(a["apiclus2"], psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]),
    "rake": lambda a: stats.rake(_clus1(a), {"stype": POP_TYPES, "sch.wide": POP_SCHWIDE},
                                 epsilon=1e-12, maxit=100),
}


@pytest.fixture(scope="module")
def anchors(shared_data: Path) -> Data:
    folder = shared_data / "stats-anchors"
    return {n: pd.read_csv(folder / f"{n}.csv", dtype={"cds": str})
            for n in ("apistrat", "apiclus1", "apiclus2")}


GROUPS = sorted(set(zip(GOLDEN["case"], GOLDEN["variable"], GOLDEN["qrule"], GOLDEN["by"],
                        strict=True)))


@pytest.mark.parametrize(("case", "variable", "qrule", "by"), GROUPS)
def test_quantiles_match_svyquantile(
    case: str, variable: str, qrule: qt.QRule, by: str, anchors: Data
) -> None:
    want = GOLDEN[(GOLDEN["case"] == case) & (GOLDEN["variable"] == variable)
                  & (GOLDEN["qrule"] == qrule) & (GOLDEN["by"] == by)]
    ours = qt.quantile(CASES[case](anchors), variable, (0.25, 0.5, 0.75),
                       by=by or None, qrule=qrule)
    assert len(ours) == len(want)
    if by:
        assert list(ours[by]) == list(want["domain"])
    for col in ("estimate", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(ours[col].to_numpy(np.float64), want[col].to_numpy(np.float64),
                                   rtol=1e-9, atol=0, equal_nan=True, err_msg=col)


def test_rules_on_a_small_sample() -> None:
    x = np.array([4.0, 1.0, 3.0, 2.0])
    w = np.ones(4)
    assert qt.weighted_quantile(x, w, 0.5, "math") == 2.0
    assert qt.weighted_quantile(x, w, 0.5, "school") == 2.5
    assert qt.weighted_quantile(x, w, 0.5, "hf7") == pytest.approx(np.quantile(x, 0.5))
    with pytest.raises(stats.EstimationError, match="qrule"):
        qt.weighted_quantile(x, w, 0.5, "hf3")  # type: ignore[arg-type]


@pytest.mark.r
@pytest.mark.slow
def test_make_quantile_golden_reproduces_committed_file(
    rscript: Path, shared_data: Path, tmp_path: Path
) -> None:
    script = GOLDEN_DIR / "make_quantile_golden.R"
    result = subprocess.run([str(rscript), str(script), str(shared_data / "stats-anchors"),
                             str(tmp_path)], capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    fresh = pd.read_csv(tmp_path / "quantile_estimates.csv", keep_default_na=False)
    committed = pd.read_csv(GOLDEN_DIR / "quantile_estimates.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(fresh, committed)
