"""tryg.stats.pps against R `survey`'s PPS designs on R's data(election).

``tests/golden/make_pps_golden.R`` writes the committed ``pps_estimates.csv`` (totals and means
of Bush, Kerry and Nader votes with SEs under Brewer, Hartley-Rao with and without the
population p2bar, Horvitz-Thompson and Yates-Grundy with the joint probabilities, as in
``?election``). The election data are R's, so this test asks R to write them to a temporary
folder (it needs Rscript, marker ``r``). Estimates rtol 1e-12, SEs 1e-9.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tryg.stats import DesignError, pps

pytestmark = pytest.mark.r
GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
GOLDEN = pd.read_csv(GOLDEN_DIR / "pps_estimates.csv")
VOTES = ["Bush", "Kerry", "Nader"]


class Election:
    def __init__(self, sample: pd.DataFrame, joint: np.ndarray, p2bar: float,
                 fresh: pd.DataFrame) -> None:
        self.sample = sample
        self.joint = joint
        self.p2bar = p2bar
        self.fresh = fresh


@pytest.fixture(scope="module")
def election(rscript: Path, tmp_path_factory: pytest.TempPathFactory) -> Election:
    folder = tmp_path_factory.mktemp("election")
    result = subprocess.run(
        [str(rscript), str(GOLDEN_DIR / "make_pps_golden.R"), str(folder), str(folder)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    sample = pd.read_csv(folder / "election_pps.csv")
    joint = pd.read_csv(folder / "election_jointprob.csv").to_numpy(np.float64)
    p2bar = float((folder / "election_p2bar.txt").read_text())
    return Election(sample, joint, p2bar, pd.read_csv(folder / "pps_estimates.csv"))


def _design(case: str, e: Election) -> pps.PPSDesign:
    if case == "brewer":
        return pps.pps_design(e.sample, "p", "brewer")
    if case == "hr1":
        return pps.pps_design(e.sample, "p", "hr")
    if case == "hr":
        # R: HR(sum(election$p^2) / 40), over the population's counties
        return pps.pps_design(e.sample, "p", "hr", p2bar=e.p2bar)
    return pps.pps_design(e.sample, "p", case, joint=e.joint)  # type: ignore[arg-type]


def test_r_script_reproduces_committed_file(election: Election) -> None:
    pd.testing.assert_frame_equal(election.fresh, GOLDEN, rtol=1e-12)


@pytest.mark.parametrize("case", sorted(set(GOLDEN["case"])))
def test_matches_r(case: str, election: Election) -> None:
    design = _design(case, election)
    for stat, fn in (("total", pps.pps_total), ("mean", pps.pps_mean)):
        want = GOLDEN[(GOLDEN["case"] == case) & (GOLDEN["stat"] == stat)]
        ours = fn(design, VOTES)
        np.testing.assert_allclose(ours["estimate"], want["estimate"], rtol=1e-12)
        np.testing.assert_allclose(ours["se"], want["se"], rtol=1e-9)


def test_bad_input(election: Election) -> None:
    with pytest.raises(DesignError, match="joint="):
        pps.pps_design(election.sample, "p", "ht")
    with pytest.raises(DesignError, match="inclusion probabilities"):
        pps.pps_design(election.sample.assign(p=2.0), "p")
