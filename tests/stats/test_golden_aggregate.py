"""calibrate(aggregate_stage=1) against R `survey`'s calibrate(aggregate.stage = 1).

Golden files from ``tests/golden/make_aggregate_golden.R`` (survey 4.1-1): the calibrated
weights (constant within first-stage units) and a mean and a total with their SEs, for linear
calibration of a one- and a two-stage cluster sample and raking calibration of the one-stage
sample. Weights and estimates rtol 1e-9, SEs 1e-7.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats import Design

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
WEIGHTS = pd.read_csv(GOLDEN_DIR / "aggregate_weights.csv")
ESTIMATES = pd.read_csv(GOLDEN_DIR / "aggregate_estimates.csv")
Data = dict[str, pd.DataFrame]
TOTALS = {"(Intercept)": 6194.0, "stype=H": 755.0, "stype=M": 1018.0}


def _clus1(a: Data) -> Design:
    return Design(a["apiclus1"], weights="pw", psu="dnum", fpc="fpc")


CASES: dict[str, Callable[[Data], Design]] = {
    "clus1_linear": lambda a: stats.calibrate(
        _clus1(a), {**TOTALS, "api99": 3914069.0}, aggregate_stage=1),
    "clus1_raking": lambda a: stats.calibrate(
        _clus1(a), TOTALS, calfun="raking", aggregate_stage=1, epsilon=1e-12, maxit=100),
    "clus2_linear": lambda a: stats.calibrate(
        Design(a["apiclus2"], psu=["dnum", "snum"], fpc=["fpc1", "fpc2"]), TOTALS,
        aggregate_stage=1),
}


@pytest.fixture(scope="module")
def anchors(shared_data: Path) -> Data:
    folder = shared_data / "stats-anchors"
    return {n: pd.read_csv(folder / f"{n}.csv", dtype={"cds": str})
            for n in ("apiclus1", "apiclus2")}


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_and_estimates_match_r(case: str, anchors: Data) -> None:
    design = CASES[case](anchors)
    want_w = WEIGHTS[WEIGHTS["case"] == case]["weight"].to_numpy(np.float64)
    np.testing.assert_allclose(design.weights, want_w, rtol=1e-9)
    unit = design.stages[0].unit
    for u in np.unique(unit):  # the point of aggregate_stage: one weight per PSU
        assert np.ptp(design.weights[unit == u]) <= 1e-9 * np.abs(design.weights[unit == u]).max()
    want = ESTIMATES[ESTIMATES["case"] == case].set_index("stat")
    mean = stats.mean(design, "api00")
    total = stats.total(design, "enroll")
    ours = {"mean_api00": mean, "total_enroll": total}
    order = list(want.index)
    for stat, table in ours.items():
        i = order.index(stat)
        np.testing.assert_allclose(table["estimate"].iloc[0],
                                   want["estimate"].to_numpy(np.float64)[i], rtol=1e-9)
        np.testing.assert_allclose(table["se"].iloc[0], want["se"].to_numpy(np.float64)[i],
                                   rtol=1e-7)


def test_bad_stage_is_refused(anchors: Data) -> None:
    with pytest.raises(stats.CalibrationError, match="aggregate_stage=2"):
        stats.calibrate(_clus1(anchors), TOTALS, aggregate_stage=2)


@pytest.mark.r
@pytest.mark.slow
def test_make_aggregate_golden_reproduces_committed_files(
    rscript: Path, shared_data: Path, tmp_path: Path
) -> None:
    script = GOLDEN_DIR / "make_aggregate_golden.R"
    result = subprocess.run([str(rscript), str(script), str(shared_data / "stats-anchors"),
                             str(tmp_path)], capture_output=True, text=True, timeout=600,
                            check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in ("aggregate_weights.csv", "aggregate_estimates.csv"):
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / name),
                                      pd.read_csv(GOLDEN_DIR / name), rtol=1e-12)
