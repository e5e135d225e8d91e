"""The fast variance engine (score patterns, calibration superblocks) against the sparse one.

Every number of :mod:`tryg.stats.score_patterns` must be that of
:func:`tryg.stats.variance.linearized_variance` (and ``covariance_with_aggregate``) on the
equivalent sparse score matrix, for every kind of design the engine takes: strata, one- and
two-stage clusters, finite population corrections, lonely PSUs, post-stratification, raking,
GREG calibration and chained calibration steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tryg import stats
from tryg.stats import calibration_blocks, estimators
from tryg.stats.design import Design
from tryg.stats.domain_means import means_table
from tryg.stats.domain_totals import SparseTotals
from tryg.stats.estimators import domains
from tryg.stats.rest_contrasts import compare_with_rest_many
from tryg.stats.score_patterns import (
    PatternEngine,
    ScorePattern,
    engine_for,
    separates,
)
from tryg.stats.variance import covariance_with_aggregate, linearized_variance

KINDS = ["elements", "clusters", "two_stage_fpc"]
CALIBRATIONS = ["none", "poststratify", "rake", "calibrate", "chained"]


def _design(kind: str, calibration: str, seed: int = 0, lonely: str = "adjust") -> Design:
    rng = np.random.default_rng(seed)
    rows = []
    for wave in (1, 2):
        for h in range(4):
            for j in range(int(rng.integers(1 if h == 0 else 2, 5))):
                for k in range(int(rng.integers(1, 4))):
                    for _ in range(int(rng.integers(1, 5)) if kind != "elements" else 1):
                        rows.append({"wave": wave, "stratum": f"{wave}-{h}", "psu": j, "ssu": k})
    df = pd.DataFrame(rows)
    n = len(df)
    df["w"] = rng.uniform(5, 20, n)
    df["y"] = rng.normal(10, 3, n)
    df["area"] = rng.choice(["a", "b", "c", "d"], n)
    df["parent"] = df["area"].map({"a": "P", "b": "P", "c": "Q", "d": "Q"})
    df["sex"] = rng.choice(["m", "k"], n)
    df["age"] = rng.choice(["young", "old"], n)
    df["x"] = rng.uniform(1, 5, n)
    df["N1"], df["N2"] = 30, 12
    psu = {"elements": None, "clusters": "psu", "two_stage_fpc": ["psu", "ssu"]}[kind]
    fpc = ["N1", "N2"] if kind == "two_stage_fpc" else None
    d = Design(df, weights="w", strata="stratum", psu=psu, fpc=fpc,
               lonely_psu=lonely)  # type: ignore[arg-type]
    sex = df.groupby(["wave", "sex"])["w"].sum() * 1.1
    age = df.groupby(["wave", "age"])["w"].sum() * 1.1
    if calibration == "poststratify":
        d = stats.poststratify(d, ["wave", "sex"], sex)
    elif calibration == "rake":
        d = stats.rake(d, {("wave", "sex"): sex, ("wave", "age"): age})
    elif calibration == "calibrate":
        total = float(df["w"].sum() * 1.1)
        d = stats.calibrate(d, {"(Intercept)": total, "x": float((df["w"] * df["x"]).sum())})
    elif calibration == "chained":
        d = stats.rake(stats.poststratify(d, ["wave", "sex"], sex), {("wave", "age"): age})
    return d


def _sparse(pattern: ScorePattern, values: np.ndarray, n: int) -> sp.csc_matrix:
    return sp.hstack([
        sp.csc_matrix((values[:, v], (pattern.rows, pattern.cols)), shape=(n, pattern.n_cols))
        for v in range(values.shape[1])
    ]).tocsc()


@pytest.mark.parametrize("calibration", CALIBRATIONS)
@pytest.mark.parametrize("kind", KINDS)
def test_variance_equals_the_sparse_engine(kind: str, calibration: str) -> None:
    d = _design(kind, calibration)
    assert calibration_blocks.supported(d)
    dom = domains(d, ["area", "wave"])
    pattern = ScorePattern.of_domains(dom.codes, dom.count)
    values = np.random.default_rng(1).normal(size=(pattern.size, 3))
    got = PatternEngine(d, pattern).variance(values)
    ref = linearized_variance(d, _sparse(pattern, values, d.n)).reshape(3, -1).T
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-12 * ref.max())


@pytest.mark.parametrize("calibration", ["none", "rake", "chained"])
@pytest.mark.parametrize("kind", KINDS)
def test_covariance_with_the_parent_equals_the_sparse_engine(kind: str, calibration: str) -> None:
    d = _design(kind, calibration, seed=2)
    dom = domains(d, ["wave", "parent", "area"])
    parent, _ = pd.MultiIndex.from_frame(dom.keys[["wave", "parent"]]).factorize()
    pi = np.asarray(parent, dtype=np.int64)
    areas = ScorePattern.of_domains(dom.codes, dom.count)
    parents = ScorePattern(areas.rows, pi[areas.cols], int(pi.max()) + 1)
    rng = np.random.default_rng(3)
    u, v = rng.normal(size=(areas.size, 2)), rng.normal(size=(areas.size, 2))
    got = PatternEngine(d, areas).covariance(u, PatternEngine(d, parents), v, pi)
    M = sp.csr_matrix((np.ones(dom.count), (np.arange(dom.count), pi)))
    for j in range(2):
        U = _sparse(areas, u[:, [j]], d.n)
        V = sp.csc_matrix((v[:, j], (areas.rows, areas.cols)), shape=(d.n, dom.count))
        ref = covariance_with_aggregate(d, U, V, M, pi)
        np.testing.assert_allclose(got[:, j], ref, rtol=1e-9, atol=1e-12 * np.abs(ref).max())


def test_several_entries_per_row() -> None:
    """A row may feed several columns (this wave, and the next wave's pooled comparison)."""
    d = _design("clusters", "rake", seed=4)
    n = d.n
    rows = np.concatenate([np.arange(n), np.arange(n)])
    wave = np.asarray(d.data["wave"]) - 1
    cols = np.concatenate([wave, 2 + wave])
    pattern = ScorePattern(rows, cols, 4)
    values = np.random.default_rng(5).normal(size=(2 * n, 2))
    ref = linearized_variance(d, _sparse(pattern, values, n)).reshape(2, -1).T
    np.testing.assert_allclose(PatternEngine(d, pattern).variance(values), ref, rtol=1e-10)


@pytest.mark.parametrize("kind", KINDS)
def test_degrees_of_freedom_are_those_of_the_domains(kind: str) -> None:
    d = _design(kind, "rake", seed=6)
    y = np.asarray(d.data["y"], dtype=np.float64).copy()
    y[::5] = np.nan
    pr = estimators._problem(d, ["area", "wave"], np.isnan(y), True)
    dom = domains(d, ["area", "wave"])
    pattern = ScorePattern.of_domains(dom.codes, dom.count)
    valid = ~np.isnan(y[pattern.rows])
    got = PatternEngine(d, pattern).degrees_of_freedom(valid[:, None])[:, 0]
    np.testing.assert_array_equal(got, estimators._domain_df(pr))


@pytest.mark.parametrize("calibration", ["none", "rake", "chained"])
def test_means_fast_path_equals_the_general_one(calibration: str) -> None:
    d = _design("two_stage_fpc", calibration, seed=7)
    rng = np.random.default_rng(8)
    y = np.asarray(d.data["y"], dtype=np.float64)
    values = {f"v{i}": np.where(rng.random(d.n) < 0.1, np.nan, y + i) for i in range(6)}
    combos = {"c": {"v0": 0.5, "v3": 0.25, "v5": 0.25}}
    fast = estimators.means(d, values, by=["area", "wave"], combinations=combos)
    dom = domains(d, ["area", "wave"])
    general = means_table(SparseTotals(d, values), dom, dom.keys, combos, 0.95)
    pd.testing.assert_frame_equal(fast, general, rtol=1e-10)


def test_rest_contrasts_fast_path_equals_the_sparse_one() -> None:
    d = _design("clusters", "rake", seed=9)
    y = np.asarray(d.data["y"], dtype=np.float64)
    values = {"a": y, "b": np.where(y > 10, 1.0, np.where(y < 8, np.nan, 0.0))}
    kwargs = {"area": "area", "parent": "parent", "by": "wave"}
    fast = compare_with_rest_many(d, values, **kwargs)  # type: ignore[arg-type]
    sparse = compare_with_rest_many(d, values, totals=SparseTotals(d, values), **kwargs)  # type: ignore[arg-type]
    assert len(sparse) > 0
    pd.testing.assert_frame_equal(fast, sparse, rtol=1e-9)


def test_shared_engine_answers_in_the_callers_numbering() -> None:
    d = _design("elements", "rake", seed=10)
    dom = domains(d, ["area", "wave"])
    pattern = ScorePattern.of_domains(dom.codes, dom.count)
    values = np.random.default_rng(11).normal(size=(pattern.size, 2))
    direct = PatternEngine(d, pattern).variance(values)
    perm = np.random.default_rng(12).permutation(dom.count)
    relabelled = ScorePattern(pattern.rows, perm[pattern.cols], dom.count)
    first = engine_for(d, pattern)
    second = engine_for(d, relabelled)
    assert second.engine is first.engine  # built once
    np.testing.assert_allclose(second.variance(values)[perm], direct, rtol=1e-12)


def test_separates_waves_only_when_no_stratum_or_superblock_spans_them() -> None:
    d = _design("clusters", "rake", seed=15)
    wave = np.asarray(d.data["wave"])
    assert separates(d, wave)
    # one margin over both waves couples them through the calibration
    pooled = stats.rake(Design(d.data, weights="w", strata="stratum", psu="psu"),
                        {"sex": d.data.groupby("sex")["w"].sum() * 1.1})
    assert not separates(pooled, wave)
    # strata across waves: not independent either
    assert not separates(Design(d.data, weights="w", strata="area"), wave)


def test_a_changed_copy_of_a_design_forgets_cached_variance_parts() -> None:
    """Regression: a design adjusted again used the calibration cache of the design it was
    copied from, if that one had been used for a variance before."""
    d0 = _design("elements", "none", seed=16)
    sex = d0.data.groupby("sex")["w"].sum() * 1.2
    age = d0.data.groupby("age")["w"].sum() * 1.2
    d1 = stats.poststratify(d0, "sex", sex)
    stats.mean(d1, "y")  # fills the caches of d1
    estimators.means(d1, {"y": np.asarray(d1.data["y"], dtype=np.float64)}, by="area")
    used = stats.mean(stats.poststratify(d1, "age", age), "y")
    fresh = stats.mean(stats.poststratify(stats.poststratify(d0, "sex", sex), "age", age), "y")
    pd.testing.assert_frame_equal(used, fresh)
