"""Drivers of insecurity (tryg.index.drivers): spec table, publication rule, and coverage.

The coverage test draws, for each of many seeds, a finite population from a known logistic
model of "feels unsafe" on three neighbourhood problems and background (sex, age group), takes
a stratified sample with unequal weights, and checks that the 95 % intervals of the drivers'
average marginal effects cover the true effects (the model's, averaged over the population) at
the nominal rate (93-97 %), and so do the log-odds coefficients.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tryg.demo.model import generate
from tryg.index import survey as survey_part
from tryg.index.catalog import load_spec
from tryg.index.drivers import (
    DriversConfig,
    area_problems,
    drivers_config,
    estimate_drivers,
    formula,
    index_drivers,
    model_frame,
    sentence,
)
from tryg.index.hierarchy import build_hierarchy
from tryg.index.spec import SpecError, parse_spec
from tryg.stats import Design
from tryg.stats.regression import glm, margins

PROBLEMS = ("problem_trusler", "problem_narko", "problem_uro")
BETA = {"intercept": -2.2, "problem_trusler": 0.9, "problem_narko": 0.5, "problem_uro": 0.0,
        "sex": 0.4, "age_group=2": -0.3, "age_group=3": 0.3}
CONFIG = DriversConfig(
    outcome="tryg_nabolag", unsafe=(5, 6, 7), exclude=(8,), problems=PROBLEMS,
    problem_codes=(3, 4, 5), background=("sex", "age_group"), levels=("kommune",), min_n=100,
)
TABLE = """
[drivers]
outcome = "tryg_nabolag"
unsafe = [5, 6, 7]
exclude = [8]
problems = ["problem_narko", "problem_uro"]
problem_codes = [3, 4, 5]
background = ["sex", "age_group"]
levels = ["kommune"]
min_n = 20
"""


def _expit(x: np.ndarray) -> np.ndarray:
    return np.asarray(1 / (1 + np.exp(-x)))


def _eta(sex: np.ndarray, age: np.ndarray, problems: dict[str, np.ndarray]) -> np.ndarray:
    eta = BETA["intercept"] + BETA["sex"] * (sex == "mand") + BETA["age_group=2"] * (age == "b")
    eta = eta + BETA["age_group=3"] * (age == "c")
    for p in PROBLEMS:
        eta = eta + BETA[p] * problems[p]
    return np.asarray(eta, dtype=np.float64)


def draw(seed: int, N: int = 60_000, n: int = 1_500) -> tuple[pd.DataFrame, dict[str, float]]:
    """A sample from a population with known driver effects, and the true effects."""
    rng = np.random.default_rng([18, seed])
    h = rng.integers(0, 4, N)
    sex = rng.choice(np.array(["kvinde", "mand"]), N)
    age = rng.choice(np.array(["a", "b", "c"]), N, p=[0.3, 0.4, 0.3])
    problems = {p: (rng.random(N) < 0.15 + 0.08 * h + 0.05 * k).astype(float)
                for k, p in enumerate(PROBLEMS)}
    eta = _eta(sex, age, problems)
    unsafe = rng.random(N) < _expit(eta)
    truth = {}
    for p in PROBLEMS:
        on = {**problems, p: np.ones(N)}
        off = {**problems, p: np.zeros(N)}
        truth[p] = float(np.mean(_expit(_eta(sex, age, on)) - _expit(_eta(sex, age, off))))
    pop = pd.DataFrame({"h": h, "sex": sex, "age_group": age,
                        "tryg_nabolag": np.where(unsafe, 6, 2)})
    for p in PROBLEMS:
        pop[p] = np.where(problems[p] == 1, 4, 1)
    # unequal sampling: stratum sizes 0.4/0.3/0.2/0.1 of the sample whatever the population
    take = np.concatenate([
        rng.choice(np.flatnonzero(h == k), size=int(n * s), replace=False)
        for k, s in enumerate([0.4, 0.3, 0.2, 0.1])
    ])
    sample = pop.iloc[take].reset_index(drop=True)
    counts = np.bincount(h, minlength=4)
    sample["w"] = counts[sample["h"]] / sample.groupby("h")["h"].transform("size").to_numpy()
    dont_know = rng.random(len(sample)) < 0.03
    sample.loc[dont_know, "problem_uro"] = 8  # outside the base
    return sample, truth


def _design(sample: pd.DataFrame) -> Design:
    return Design(model_frame(sample, CONFIG).assign(all="all"), weights="w", strata="h")


@pytest.mark.slow
def test_effects_cover_the_truth_at_the_nominal_rate() -> None:
    hits_ame: list[bool] = []
    hits_coef: list[bool] = []
    for seed in range(250):
        sample, truth = draw(seed)
        res = estimate_drivers(_design(sample), CONFIG, ["all"]).set_index("problem")
        for p in PROBLEMS:
            row = res.loc[p]
            hits_ame.append(bool(row["ci_low"] <= truth[p] <= row["ci_high"]))
            q = (row["ci_high"] - row["effect"]) / row["se"]  # the t quantile used
            half = q * row["coefficient_se"]
            hits_coef.append(bool(abs(row["coefficient"] - BETA[p]) <= half))
    ame = float(np.mean(hits_ame))
    coef = float(np.mean(hits_coef))
    assert 0.93 <= ame <= 0.97, f"AME coverage {ame:.3f} over {len(hits_ame)} intervals"
    assert 0.93 <= coef <= 0.97, f"coefficient coverage {coef:.3f}"


def test_effects_are_ranked_and_explained() -> None:
    sample, _truth = draw(1, n=3_000)
    res = estimate_drivers(_design(sample), CONFIG, ["all"])
    assert res.sort_values("rank")["problem"].iloc[0] == "problem_trusler"
    assert set(res["problem"]) == set(PROBLEMS) and not res["suppressed"].any()
    top = res.sort_values("rank").iloc[0]
    text = sentence(top, "threats")
    assert "threats" in text and "percentage points higher" in text
    null = res[res["problem"] == "problem_uro"].iloc[0]
    assert abs(null["effect"]) < 4 * null["se"]


def test_effects_are_those_of_margins() -> None:
    """The one-pass effects of every cell equal :func:`margins` on the cell's own fit."""
    sample, _ = draw(4, n=1_200)
    design = _design(sample.assign(cell=np.where(sample["h"] < 2, "a", "b")))
    res = estimate_drivers(design, CONFIG, ["cell"]).set_index(["cell", "problem"])
    for cell in ("a", "b"):
        fit = glm(design, formula(CONFIG), "quasibinomial",
                  subset=(design.data["cell"] == cell).to_numpy())
        for p in PROBLEMS:
            m = margins(design, fit, p, levels=[0.0, 1.0]).table.iloc[1]
            row = res.loc[(cell, p)]
            assert isinstance(row, pd.Series)
            assert row["effect"] == pytest.approx(m["effect"], rel=1e-9)
            assert row["se"] == pytest.approx(m["effect_se"], rel=1e-9)
            assert row["p_value"] == pytest.approx(m["p"], rel=1e-7)


def test_a_separated_cell_gets_no_driver() -> None:
    """A cell where no one of a background category feels unsafe has no finite model: it is
    left out, the other cells are not."""
    sample, _ = draw(5, n=1_200)
    sample["cell"] = np.where(sample["h"] < 2, "a", "b")
    sample.loc[(sample["cell"] == "a") & (sample["age_group"] == "a"), "tryg_nabolag"] = 2
    res = estimate_drivers(_design(sample), CONFIG, ["cell"])
    assert bool(res[res["cell"] == "a"]["suppressed"].iloc[0])
    assert (~res[res["cell"] == "b"]["suppressed"].astype(bool)).all()


def test_cells_under_min_n_get_no_driver() -> None:
    sample, _ = draw(2, n=600)
    design = _design(sample.assign(cell=np.where(np.arange(len(sample)) < 80, "small", "big")))
    res = estimate_drivers(design, CONFIG, ["cell"])
    small = res[res["cell"] == "small"]
    assert len(small) == 1 and bool(small["suppressed"].iloc[0])
    assert small["problem"].isna().all()
    assert (~res[res["cell"] == "big"]["suppressed"].astype(bool)).all()


def test_area_problems_flags_more_often_than_rest() -> None:
    sample, _ = draw(3, n=2_000)
    sample = sample.assign(area=np.where(sample["h"] == 3, "hot", "h" + sample["h"].astype(str)),
                           parent="k")
    raw = Design(sample, weights="w", strata="h")  # the answers as coded, not model_frame's
    res = area_problems(raw, CONFIG, area="area", parent="parent")
    hot = res[res["area"] == "hot"].set_index("problem")
    assert bool(hot.loc["problem_trusler", "more_often"])  # stratum 3 has the most problems
    assert not res[res["area"] == "h0"]["more_often"].any()


def test_spec_table_is_read_and_checked() -> None:
    shipped = load_spec("dk-tryghedsindeks")
    found = drivers_config(shipped)
    assert found is not None and found.levels == ("kommune", "bydel") and found.min_n == 200
    spec = parse_spec(shipped.source.split("[drivers]")[0])
    assert drivers_config(spec) is None
    with_table = parse_spec(spec.source + TABLE)
    cfg = drivers_config(with_table)
    assert cfg is not None and cfg.problems == ("problem_narko", "problem_uro")
    assert cfg.min_n == max(20, with_table.publication.min_n)  # never below publication
    with pytest.raises(SpecError, match=r"drivers\.problems"):
        drivers_config(parse_spec(spec.source + TABLE.replace("problem_uro", "nosuch")))


def test_a_runs_area_problems_are_those_of_area_problems() -> None:
    """The run's problems table (one back-end of all problems on the survey estimates' cells,
    every level at once) equals :func:`area_problems`, one problem at a time on the plain
    answers, and its answer counts are plain counts."""
    demo = generate(3, "small")
    spec = load_spec("dk-tryghedsindeks")
    hier, _ = build_hierarchy(demo.areas)
    assert hier is not None
    est, problems = survey_part.estimate(spec, demo.survey, demo.population, hier)
    assert est is not None and not problems
    config = drivers_config(spec)
    assert config is not None
    found = index_drivers(spec, config, est, hier.parent_level).problems
    data = est.design.data
    for level in ("bydel", "boligomraade"):
        col = est.level_columns[level]
        pcol = est.level_columns[hier.parent_level(level) or ""]
        mine = found[found["level"] == level].set_index(["area_code", "wave", "problem"])
        ref = area_problems(est.design, config, area=col, parent=pcol, by="wave",
                            level=1 - spec.comparisons.alpha)
        ref = ref.assign(area_code=ref[col].astype(str), wave=ref["wave"].astype(np.int64))
        ref = ref.set_index(["area_code", "wave", "problem"])
        assert len(mine) == len(ref) > 0
        got = mine.loc[ref.index]
        assert (got["parent_code"] == ref[pcol].astype(str)).all()
        for a, b in (("share", "estimate_first"), ("rest_share", "estimate_second"),
                     ("difference", "difference"), ("se", "se"), ("ci_low", "ci_low"),
                     ("p_value", "p_value")):
            np.testing.assert_allclose(got[a], ref[b], rtol=1e-9, atol=1e-12)
        assert (got["more_often"] == ref["more_often"]).all()
        # answers: respondents of the area and wave with an answer to the problem
        one = ref.index[0]
        rows = (data[col].astype(str) == one[0]) & (data["wave"] == one[1])
        answered = ~data[one[2]].isin(list(config.exclude)) & data[one[2]].notna()
        assert got.loc[one, "n"] == (rows & answered).sum()
        # every row's: the area's and the rest of the parent's answers in the wave
        for problem in config.problems:
            has = data[problem].notna() & ~data[problem].isin(list(config.exclude))
            keys = data[[col, pcol, "wave"]].assign(
                area_code=data[col].astype(str), wave=data["wave"].astype(np.int64))
            n_area = has.groupby([keys["area_code"], keys["wave"]]).sum()
            n_parent = has.groupby([keys[pcol].astype(str), keys["wave"]]).sum()
            part = got.xs(problem, level="problem")
            at = list(zip(part.index.get_level_values(0), part.index.get_level_values(1),
                          strict=True))
            assert (part["n"].to_numpy() == n_area.loc[at].to_numpy()).all()
            parents = list(zip(part["parent_code"], part.index.get_level_values(1), strict=True))
            assert (part["rest_n"].to_numpy()
                    == n_parent.loc[parents].to_numpy() - n_area.loc[at].to_numpy()).all()
