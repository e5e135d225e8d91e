"""Variances from per-cell moments against the sparse engine.

:class:`tryg.stats.cell_moments.CellEngine` must give the numbers of
:func:`tryg.stats.variance.linearized_variance` on the equivalent sparse score matrices, for
designs whose units are their rows, with and without calibration (post-stratification,
raking, GREG over both waves, chained steps), for domains inside one superblock and domains
that span several, and for strata that hold several domains.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from test_score_patterns import CALIBRATIONS, _design

from tryg.stats import cell_moments
from tryg.stats.cell_moments import CellEngine
from tryg.stats.design import Design
from tryg.stats.domain_means import means_table
from tryg.stats.domain_totals import CellTotals, PatternTotals, totals_for
from tryg.stats.estimators import domains
from tryg.stats.rest_contrasts import compare_with_rest_many
from tryg.stats.score_patterns import PatternEngine, ScorePattern
from tryg.stats.variance import linearized_variance


def _values(d: Design, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y = np.asarray(d.data["y"], dtype=np.float64)
    share = (y > 10).astype(np.float64)
    ys = np.column_stack([y, share, y + rng.normal(size=d.n), np.ones(d.n)])
    ys[rng.random(ys.shape) < 0.15] = np.nan
    ys[::7, 1] = np.nan  # another base
    return ys


def _reference(d: Design, codes: np.ndarray, n_dom: int, y: np.ndarray) -> np.ndarray:
    """Var D, Cov(D, W), Var W per domain, from sparse score matrices."""
    valid = (codes >= 0) & ~np.isnan(y)
    r = np.flatnonzero(valid)
    w = np.asarray(d.weights)[r]
    W = np.bincount(codes[r], weights=w, minlength=n_dom)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = np.bincount(codes[r], weights=w * y[r], minlength=n_dom) / W
    D = w * (y[r] - m[codes[r]])

    def var(v: np.ndarray) -> np.ndarray:
        return linearized_variance(d, sp.csc_matrix((v, (r, codes[r])), shape=(d.n, n_dom)))

    vdd, vww, vsum = var(D), var(w), var(D + w)
    return np.column_stack([vdd, (vsum - vdd - vww) / 2, vww])


@pytest.mark.parametrize("calibration", CALIBRATIONS)
@pytest.mark.parametrize("by", [["area", "wave"], ["area"], ["parent", "wave"]])
def test_domain_pairs_equal_the_sparse_engine(calibration: str, by: list[str]) -> None:
    d = _design("elements", calibration, seed=21)
    assert cell_moments.applies(d)
    dom = domains(d, by)
    engine = CellEngine(d, [dom.codes])
    Y = _values(d, 22)
    mom = engine.moments(Y)
    fam = engine.family(engine.keys[0], dom.count)
    for j in range(Y.shape[1]):
        _, _, vdd, vdw, vww = (x[:, j] for x in engine.pair(mom, fam))
        ref = _reference(d, dom.codes, dom.count, Y[:, j])
        scale = np.abs(ref).max()
        np.testing.assert_allclose(vdd, ref[:, 0], rtol=1e-9, atol=1e-12 * scale)
        np.testing.assert_allclose(vdw, ref[:, 1], rtol=1e-9, atol=1e-9 * scale)
        np.testing.assert_allclose(vww, ref[:, 2], rtol=1e-9, atol=1e-9 * scale)


def _column(
    d: Design, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, k: int,
    expand: sp.csc_matrix | None,
) -> sp.csc_matrix:
    S = sp.csc_matrix((values, (rows, cols)), shape=(d.n, k))
    return S if expand is None else (S @ expand).tocsc()


def _cov(d: Design, X: sp.csc_matrix, Z: sp.csc_matrix) -> np.ndarray:
    return (linearized_variance(d, X + Z) - linearized_variance(d, X)
            - linearized_variance(d, Z)) / 2


@pytest.mark.parametrize("calibration", ["none", "rake", "calibrate", "chained"])
def test_cross_covariances_with_the_parent(calibration: str) -> None:
    d = _design("elements", calibration, seed=23)
    dom = domains(d, ["wave", "parent", "area"])
    parent, _ = pd.MultiIndex.from_frame(dom.keys[["wave", "parent"]]).factorize()
    pi = np.asarray(parent, dtype=np.int64)
    engine = CellEngine(d, [dom.codes])
    Y = _values(d, 24)
    mom = engine.moments(Y)
    fa = engine.family(engine.keys[0], dom.count)
    fp = engine.family(np.where(engine.keys[0] >= 0, pi[engine.keys[0]], -1), int(pi.max()) + 1)
    got = engine.nested(mom, fa, fp, pi)
    rows = np.flatnonzero(dom.codes >= 0)
    w_all = np.asarray(d.weights)
    for j in range(Y.shape[1]):
        y = Y[:, j]
        ok = ~np.isnan(y[rows])
        r = rows[ok]
        a, p = dom.codes[r], pi[dom.codes[r]]
        w = w_all[r]
        ma = np.bincount(a, w * y[r], dom.count) / np.bincount(a, w, dom.count)
        mp = np.bincount(p, w * y[r], int(pi.max()) + 1) / np.bincount(
            p, w, int(pi.max()) + 1)
        M = sp.csr_matrix((np.ones(dom.count), (np.arange(dom.count), pi)))
        expand = (M @ M.T).tocsc()  # area -> every area of its parent
        # area columns on the area's rows; parent columns summed over all the parent's rows
        cols = {
            "Da": _column(d, r, a, w * (y[r] - ma[a]), dom.count, None),
            "Wa": _column(d, r, a, w, dom.count, None),
            "Dp": _column(d, r, a, w * (y[r] - mp[p]), dom.count, expand),
            "Wp": _column(d, r, a, w, dom.count, expand),
        }
        want = [_cov(d, cols[x], cols[z]) for x, z in
                (("Da", "Dp"), ("Da", "Wp"), ("Wa", "Dp"), ("Wa", "Wp"))]
        for g, ref in zip(got[10:], want, strict=True):
            scale = np.abs(ref).max()
            np.testing.assert_allclose(g[:, j], ref, rtol=1e-8, atol=1e-9 * scale)


@pytest.mark.parametrize("calibration", ["none", "poststratify", "rake", "calibrate"])
def test_rest_contrasts_from_cells_equal_the_pattern_engine(calibration: str) -> None:
    d = _design("elements", calibration, seed=25)
    y = np.asarray(d.data["y"], dtype=np.float64)
    values = {"a": y, "b": np.where(y > 10, 1.0, np.where(y < 8, np.nan, 0.0))}
    dom = domains(d, ["wave", "parent", "area"])
    cells = totals_for(d, values, [dom.codes])
    assert isinstance(cells, CellTotals)
    kwargs = {"area": "area", "parent": "parent", "by": "wave"}
    fast = compare_with_rest_many(d, values, totals=cells, **kwargs)  # type: ignore[arg-type]
    ref = compare_with_rest_many(d, values, totals=PatternTotals(d, values), **kwargs)  # type: ignore[arg-type]
    assert len(ref) > 0
    pd.testing.assert_frame_equal(fast, ref, rtol=1e-9)
    # families built before, numbered otherwise (area × wave; wave × parent): the same
    by_area = domains(d, ["area", "wave"])
    by_parent = domains(d, ["wave", "parent"])
    cells = totals_for(d, values, [dom.codes, by_area.codes, by_parent.codes])
    cells.pair(by_area)
    cells.pair(by_parent)
    reused = compare_with_rest_many(d, values, totals=cells, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(reused, ref, rtol=1e-9)


def test_degrees_of_freedom_are_those_of_the_pattern_engine() -> None:
    d = _design("elements", "rake", seed=26)
    dom = domains(d, ["area", "wave"])
    engine = CellEngine(d, [dom.codes])
    Y = _values(d, 27)
    got = engine.degrees_of_freedom(engine.moments(Y), engine.family(engine.keys[0], dom.count))
    pattern = ScorePattern.of_domains(dom.codes, dom.count)
    valid = ~np.isnan(Y[pattern.rows])
    np.testing.assert_array_equal(got, PatternEngine(d, pattern).degrees_of_freedom(valid))


def test_only_designs_whose_units_are_rows() -> None:
    assert not cell_moments.applies(_design("clusters", "rake", seed=28))
    assert not cell_moments.applies(_design("two_stage_fpc", "none", seed=28))
    assert not cell_moments.applies(_design("elements", "none", seed=28, lonely="average"))
    with pytest.raises(ValueError, match="does not support"):
        CellEngine(_design("clusters", "none", seed=28), [])


@pytest.mark.parametrize("calibration", ["none", "poststratify", "rake", "chained"])
def test_means_from_cells_equal_the_means_of_the_engine(calibration: str) -> None:
    d = _design("elements", calibration, seed=29)
    Y = _values(d, 30)
    names = [f"v{i}" for i in range(Y.shape[1])]
    values = {v: Y[:, i] for i, v in enumerate(names)}
    combos = {"c": {"v0": 0.5, "v2": 0.25, "v1": 0.25}}
    dom = domains(d, ["area", "wave"])
    cells = totals_for(d, values, [dom.codes])
    assert isinstance(cells, CellTotals)
    got = means_table(cells, dom, dom.keys, combos, 0.9)
    ref = means_table(PatternTotals(d, values), dom, dom.keys, combos, 0.9)
    pd.testing.assert_frame_equal(got, ref, rtol=1e-9, atol=1e-12)


def test_equal_answers_have_exactly_no_variance() -> None:
    """A domain whose answers are all equal has a mean of exactly that value and a variance
    of exactly 0 (not rounding noise, which would make any difference look significant)."""
    d = _design("elements", "rake", seed=31)
    dom = domains(d, ["area", "wave"])
    y = np.where(dom.codes == 0, 83.155276, np.asarray(d.data["y"], dtype=np.float64))
    engine = CellEngine(d, [dom.codes])
    mom = engine.moments(y[:, None])
    mean, _, vdd, _, _ = engine.pair(mom, engine.family(engine.keys[0], dom.count))
    assert mean[0, 0] == 83.155276
    assert vdd[0, 0] == 0.0
