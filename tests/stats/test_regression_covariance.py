"""The regression's design covariances (computed on a domain's rows) against the variance engine.

``regression_covariance.covariances_of_totals`` works on the rows where the scores are not zero, in
covariance form; :func:`tryg.stats.variance.linearized_variance` works on the whole design,
one variance per column. The covariance of two columns follows from the engine's variances of
the columns and of their sum, so the two must agree on every design the engine handles:
strata, two-stage clusters with finite population corrections, lonely PSUs ("adjust",
"average"), and post-stratification, raking and GREG calibration, one after the other.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from tryg import stats
from tryg.stats import Design
from tryg.stats import regression_covariance as rc
from tryg.stats.variance import linearized_variance


def _data(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n_psu = 60
    psu = np.repeat(np.arange(n_psu), rng.integers(2, 9, n_psu))
    n = len(psu)
    stratum = psu % 7
    stratum[psu == n_psu - 1] = 7  # a stratum with a single PSU (lonely)
    return pd.DataFrame({
        "stratum": stratum, "psu": psu, "ssu": np.arange(n),
        "fpc1": np.where(stratum == 7, 3.0, 40.0), "fpc2": 30.0,
        "w": rng.uniform(1, 5, n),
        "sex": rng.choice(["f", "m"], n), "age": rng.choice(["a", "b", "c"], n),
        "x": rng.normal(10, 3, n), "domain": rng.integers(0, 4, n),
    })


SEX: dict[Hashable, float] = {"f": 520.0, "m": 480.0}
AGE: dict[Hashable, float] = {"a": 300.0, "b": 350.0, "c": 350.0}


def _stratified(df: pd.DataFrame, lonely: str) -> Design:
    return Design(df, weights="w", strata="stratum", lonely_psu=lonely)  # type: ignore[arg-type]


def _two_stage(df: pd.DataFrame, lonely: str) -> Design:
    return Design(df, strata=["stratum", None], psu=["psu", "ssu"], fpc=["fpc1", "fpc2"],
                  lonely_psu=lonely)  # type: ignore[arg-type]


def _calibrated(df: pd.DataFrame, lonely: str) -> Design:
    d = Design(df, weights="w", strata="stratum", psu="psu", lonely_psu=lonely)  # type: ignore[arg-type]
    post = stats.poststratify(d, "sex", SEX)
    raked = stats.rake(post, {"sex": SEX, "age": AGE}, epsilon=1e-12)
    out = stats.calibrate(raked, {"(Intercept)": 1000.0, "x": 10050.0})
    assert isinstance(out, Design)
    return out


DESIGNS: dict[str, Callable[[pd.DataFrame, str], Design]] = {
    "stratified": _stratified, "two_stage_fpc": _two_stage, "calibrated": _calibrated,
}


def _engine_covariance(design: Design, rows: np.ndarray, S: np.ndarray) -> np.ndarray:
    """Cov(a, b) = (V(a + b) - V(a) - V(b)) / 2, every variance from the engine."""
    k = S.shape[1]
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    cols = [S[:, i] for i in range(k)] + [S[:, i] + S[:, j] for i, j in pairs]
    dense = np.column_stack(cols)
    row_idx = np.repeat(rows, dense.shape[1])
    col_idx = np.tile(np.arange(dense.shape[1]), len(rows))
    scores = sp.csc_matrix((dense.ravel(), (row_idx, col_idx)),
                           shape=(design.n, dense.shape[1]))
    v = linearized_variance(design, scores)
    V = np.diag(v[:k])
    for m, (i, j) in enumerate(pairs):
        V[i, j] = V[j, i] = (v[k + m] - v[i] - v[j]) / 2.0
    return V


@pytest.mark.parametrize("lonely", ["adjust", "average"])
@pytest.mark.parametrize("kind", sorted(DESIGNS))
def test_domain_covariances_equal_the_engine(kind: str, lonely: str) -> None:
    df = _data(7)
    design = DESIGNS[kind](df, lonely)
    rng = np.random.default_rng(3)
    problems = []
    for d in range(4):
        rows = np.flatnonzero(df["domain"].to_numpy() == d)
        problems.append((rows, rng.normal(size=(len(rows), 3)) * (1 + d)))
    # a domain that misses the lonely stratum and several others (the "average" factor counts
    # only the strata a domain touches on a design that is not calibrated)
    few = np.flatnonzero(df["stratum"].isin([0, 1]).to_numpy())
    problems.append((few, rng.normal(size=(len(few), 2))))
    ours = rc.covariances_of_totals(design, problems)
    for (rows, S), V in zip(problems, ours, strict=True):
        want = _engine_covariance(design, rows, S)
        assert np.all(np.isfinite(want))
        np.testing.assert_allclose(V, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())


@pytest.mark.parametrize("kind", sorted(DESIGNS))
def test_merged_rows_give_the_covariances_of_their_rows(kind: str) -> None:
    """Scores given on merged rows (a row's: its weight times its merged row's) have the
    covariances of the scores spelt out row by row."""
    df = _data(5)
    design = DESIGNS[kind](df, "average")
    rng = np.random.default_rng(8)
    code = df["domain"].to_numpy().astype(np.int64)
    rows = np.argsort(code, kind="stable")
    code = code[rows]
    # a domain's rows of the same sex and age share a merged row
    key = code * 10 + pd.factorize(df["sex"] + df["age"], sort=True)[0][rows]
    merged, distinct = pd.factorize(key)
    weight = rng.uniform(0.5, 3.0, len(rows))
    H = rng.normal(size=(len(distinct), 3))
    bounds = np.concatenate([[0], np.cumsum(np.bincount(distinct // 10, minlength=4))])
    score_rows = rc.ScoreRows(rows, code, np.asarray(merged, np.int64), weight, bounds)
    ours = rc.covariances(rc.prepare(design, score_rows), H)
    S = weight[:, None] * H[merged]
    want = rc.covariances_of_totals(
        design, [(rows[code == d], S[code == d]) for d in range(4)])
    for V, W in zip(ours, want, strict=True):
        np.testing.assert_allclose(V, W, rtol=1e-10, atol=1e-12 * np.abs(W).max())
