"""Difference-in-differences against R `survey`: svycontrast of svyby(covmat = TRUE) means.

The data are ``tests/golden/did_data.csv`` (written once by :func:`waves_frame`); R's results
are frozen in ``tests/golden/did_estimates.csv`` (R 4.2.2, survey 4.1.1:
``Rscript tests/golden/did_parity.R tests/golden/did_data.csv tests/golden/did_estimates.csv``),
compared without R, and computed again live where R is installed.

One stacked design (three waves; strata wave × region; clusters inside areas; random weights;
some missing answers of the 0/1 item), treated areas a1-a2, comparison a3-a5, a6 in neither.
R estimates the domain means of group × wave with their full covariance matrix and takes the
contrast; tryg takes each wave's gap with compare_domains and adds the waves' variances. The
two agree to 1e-10: the covariance inside a wave is included, and the waves are independent.
For the item with missing answers R's svyby(covmat = TRUE, na.rm = TRUE) fails (survey 4.1), so
R writes those domain means as ratios of one svyratio(covmat = TRUE) (see did_parity.R; the
same route is checked against svyby on the complete item).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg import stats
from tryg.stats.did import did, wave_gaps
from tryg.strategy.evaluation import survey_did

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
SCRIPT = GOLDEN / "did_parity.R"
TREATED = ["a1", "a2"]
COMPARISON = ["a3", "a4", "a5"]
WAVES = (2017, 2019, 2023)

def waves_frame(seed: int = 20261206) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for wave in WAVES:
        for i, area in enumerate(["a1", "a2", "a3", "a4", "a5", "a6"]):
            n_cl = int(rng.integers(3, 7))
            cl = np.repeat(np.arange(n_cl), rng.integers(2, 9, n_cl))
            n = len(cl)
            z = (rng.random(n) < 0.3 + 0.05 * i).astype(float)
            z[rng.random(n) < 0.1] = np.nan
            parts.append(pd.DataFrame({
                "wave": wave, "area": area, "region": ["north", "south", "east"][i % 3],
                "psu": [f"{area}-{c}" for c in cl], "w": rng.uniform(0.5, 5.0, n),
                "y": rng.normal(50 + 2 * i + (wave - 2017), 10, n) + rng.normal(0, 3, n_cl)[cl],
                "z": z,
            }))
    frame = pd.concat(parts, ignore_index=True)
    frame["stratum"] = frame["wave"].astype(str) + "|" + frame["region"]
    frame["grp"] = np.where(frame["area"].isin(TREATED), "T",
                            np.where(frame["area"].isin(COMPARISON), "C", "O"))
    return frame


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return pd.read_csv(GOLDEN / "did_data.csv")


def read_results(path: Path) -> dict[str, tuple[float, float]]:
    out = pd.read_csv(path)
    return {str(c): (float(e), float(s))
            for c, e, s in zip(out["case"], out["estimate"], out["se"], strict=True)}


@pytest.fixture(scope="module")
def r_did(rscript: Path, frame: pd.DataFrame,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[float, float]]:
    folder = tmp_path_factory.mktemp("did")
    frame.to_csv(folder / "data.csv", index=False, float_format="%.17g", na_rep="")
    done = subprocess.run(
        [str(rscript), str(SCRIPT), str(folder / "data.csv"), str(folder / "out.csv")],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return read_results(folder / "out.csv")


CASES = {
    "mean_one_pre": ("y", [2019], [2023]),
    "mean_two_pre": ("y", [2017, 2019], [2023]),
    "share_one_pre": ("z", [2019], [2023]),  # R: as ratios (svyby covmat fails with NAs)
    "mean_one_pre_as_ratios": ("y", [2019], [2023]),  # the ratio route checked on y
    "mean_pre_trend": ("y", [2017], [2019]),
}


def check(case: str, frame: pd.DataFrame, r_did: dict[str, tuple[float, float]]) -> None:
    variable, pre, post = CASES[case]
    design = stats.Design(frame, weights="w", strata="stratum", psu="psu")
    gaps = wave_gaps(design, variable, area="area", treated=TREATED, comparison=COMPARISON,
                     wave_column="wave", waves=[*pre, *post])
    ours = did(gaps[:len(pre)], gaps[len(pre):])
    est, se = r_did[case]
    assert ours.estimate == pytest.approx(est, rel=1e-10, abs=1e-12)
    assert ours.se == pytest.approx(se, rel=1e-10)
    # the evaluation layer gives the same numbers (and the proportion path: codes on a 0/1)
    evaluation = survey_did(
        design, variable, area="area", treated=TREATED, comparison=COMPARISON,
        pre_waves=pre, post_waves=post,
        **({"statistic": "proportion", "codes": 1} if variable == "z" else {}),  # type: ignore[arg-type]
    )
    assert evaluation.estimate == pytest.approx(est, rel=1e-10, abs=1e-12)
    assert evaluation.se == pytest.approx(se, rel=1e-10)


@pytest.mark.r
@pytest.mark.parametrize("case", sorted(CASES))
def test_did_matches_svycontrast(case: str, frame: pd.DataFrame,
                                 r_did: dict[str, tuple[float, float]]) -> None:
    check(case, frame, r_did)


@pytest.mark.parametrize("case", sorted(CASES))
def test_did_matches_frozen_svycontrast(case: str, frame: pd.DataFrame) -> None:
    check(case, frame, read_results(GOLDEN / "did_estimates.csv"))


def test_frozen_results_cover_every_case() -> None:
    assert set(read_results(GOLDEN / "did_estimates.csv")) == set(CASES)


@pytest.mark.r
def test_pre_trend_is_the_did_on_earlier_waves(frame: pd.DataFrame,
                                               r_did: dict[str, tuple[float, float]]) -> None:
    design = stats.Design(frame, weights="w", strata="stratum", psu="psu")
    evaluation = survey_did(design, "y", area="area", treated=TREATED, comparison=COMPARISON,
                            pre_waves=[2017, 2019], post_waves=[2023])
    assert evaluation.pre_trend_estimate == pytest.approx(r_did["mean_pre_trend"][0],
                                                          rel=1e-10)
