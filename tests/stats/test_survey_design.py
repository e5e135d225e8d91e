"""The ``SurveyDesign`` protocol: both kinds of design go through the same estimators, typed.

:class:`~tryg.stats.Design` and :class:`~tryg.stats.ReplicateDesign` implement
:class:`~tryg.stats.SurveyDesign`; each gives its own variance (linearisation or replicates),
the estimators never ask which kind they have. This file is also type-checked on its own
(``mypy --strict``, the last test): user code that passes a replicate design to ``mean`` must
type-check, not only run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats import Design, ReplicateDesign, SurveyDesign, jackknife
from tryg.stats.design import replace_design


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 60
    return pd.DataFrame({
        "stratum": np.repeat(["a", "b", "c"], n // 3),
        "w": rng.uniform(1.0, 3.0, n),
        "y": rng.normal(10.0, 2.0, n),
        "area": np.tile(["x", "y"], n // 2),
    })


def _jackknife_by_hand(frame: pd.DataFrame) -> tuple[float, float]:
    """The JKn jackknife mean and its variance, written out: one row dropped at a time, the
    rest of its stratum scaled up; the replicates centred on their mean (R's default)."""
    w = frame["w"].to_numpy()
    y = frame["y"].to_numpy()
    full = float(np.average(y, weights=w))
    thetas, scales = [], []
    for rows in frame.groupby("stratum").indices.values():
        n_h = len(rows)
        for r in rows:
            wr = w.copy()
            wr[rows] *= n_h / (n_h - 1)
            wr[r] = 0.0
            thetas.append(float(np.average(y, weights=wr)))
            scales.append((n_h - 1) / n_h)
    centre = float(np.mean(thetas))
    var = sum(s * (t - centre) ** 2 for s, t in zip(scales, thetas, strict=True))
    return full, var


def test_a_replicate_design_is_a_survey_design_for_mean() -> None:
    frame = _frame()
    replicated: ReplicateDesign = jackknife(Design(frame, weights="w", strata="stratum"), "JKn")
    design: SurveyDesign = replicated  # what mypy must accept
    result = stats.mean(design, "y")
    estimate, variance = _jackknife_by_hand(frame)
    assert result["estimate"].iloc[0] == pytest.approx(estimate, rel=1e-12)
    assert result["se"].iloc[0] == pytest.approx(np.sqrt(variance), rel=1e-9)
    assert design.by_replicates


def test_each_design_gives_its_own_variance() -> None:
    frame = _frame()
    linear = Design(frame, weights="w", strata="stratum")
    replicated = jackknife(linear, "JKn")
    designs: list[SurveyDesign] = [linear, replicated]
    se = [float(stats.mean(d, "y", by="area")["se"].iloc[0]) for d in designs]
    # the same domain mean, two variance methods: close, not equal
    assert se[0] == pytest.approx(se[1], rel=0.2)
    assert se[0] != se[1]
    assert [d.by_replicates for d in designs] == [False, True]


def test_a_changed_copy_starts_with_an_empty_cache() -> None:
    design = Design(_frame(), weights="w", strata="stratum")
    stats.mean(design, "y")
    components = design.components
    design.cache.calibration = {"stale": True}
    copy = replace_design(design, weights=design.weights * 2)
    assert copy.cache.calibration is None
    assert copy.cache.components is components  # the sampling structure is the same
    assert design.cache.calibration == {"stale": True}


@pytest.mark.slow
def test_this_file_type_checks() -> None:
    """User code typed against the protocol passes ``mypy --strict``."""
    mypy = Path(sys.executable).parent / "mypy"
    result = subprocess.run(
        [str(mypy), "--strict", "--no-incremental", "--follow-imports=silent", __file__],
        capture_output=True, text=True, timeout=600, check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stdout + result.stderr
