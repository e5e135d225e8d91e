"""Is it a real change? Comparisons the specification asks for, per area × wave × measure.

* previous wave: waves are independent samples (wave-specific strata), so the variance of the
  change is the sum of the two variances;
* pooled earlier waves (e.g. "2016–2018 samlet"): survey measures are re-estimated on the
  pooled sample of the earlier waves with the design (:func:`tryg.stats.compare_with_pooled`);
* rest of the parent area: the area against the other areas of its parent in the same wave,
  a contrast of two domains of one design with their covariance
  (:func:`tryg.stats.compare_with_rest`).

A wave whose questionnaire version differs from the wave before is a method break: its
changes are not computed (never silently bridged) and the rows carry the flag.

A model-based small-area estimate (flag ``model_based``) is compared in *published* figures
only, never through the direct estimate of its small sample (:func:`model_based`):

* previous wave: the published estimate minus the previous wave's published estimate (model
  or direct), variance ``MSE_t + var_{t-1}`` (:func:`previous_wave` works on the table after
  the model-based rows have replaced the direct ones, so this holds for the row after a
  model-based one as well). The two waves' Fay–Herriot fits are separate, their sampling
  errors independent; their prediction errors share the area's persistent random effect,
  which correlates them positively, so the sum overstates the variance of the change:
  conservative;
* pooled earlier waves: the published estimate minus the plain mean of the k earlier waves'
  published estimates, variance ``MSE_t + sum_j var_j / k²`` (independence; with positively
  and about equally correlated errors the neglected covariances lower the true variance:
  ``σ²(1 + 1/k) - ρσ²(k + 1)/k``), computed only when every earlier wave is published;
* rest of the parent: from the benchmarked figures (:mod:`tryg.index.modelled`), or not at
  all where the parent could not be benchmarked.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.index.hierarchy import Hierarchy
from tryg.index.spec import Spec
from tryg.index.survey import SurveyEstimates
from tryg.stats import cell_moments, intervals, text_columns
from tryg.stats.calibration_blocks import supported
from tryg.stats.estimators import Domains
from tryg.stats.rest_contrasts import compare_with_rest_arrays
from tryg.stats.score_patterns import ScorePattern, engine_for, pattern_variance, separates

#: A column of a level's rows: numbers, or text as its distinct values and a code per row.
Column = np.ndarray | tuple[np.ndarray, np.ndarray]


def method_breaks(frame: pd.DataFrame) -> set[int]:
    """Waves whose questionnaire version differs from the previous wave's."""
    if "questionnaire" not in frame.columns:
        return set()
    # distinct (wave, version) pairs from numbers: no row-wise text
    wave_u, wave = np.unique(pd.to_numeric(frame["wave"]).to_numpy(np.int64),
                             return_inverse=True)
    version, version_u = pd.factorize(frame["questionnaire"].astype(str))
    pairs = np.unique(wave * (len(version_u) + 1) + np.asarray(version, dtype=np.int64) + 1)
    names = ["nan", *(str(v) for v in version_u)]  # a missing version reads "nan" (astype)
    versions: dict[int, set[str]] = {}
    for pair in pairs.tolist():
        versions.setdefault(int(wave_u[pair // (len(version_u) + 1)]), set()).add(
            names[pair % (len(version_u) + 1)])
    waves = sorted(versions)
    return {b for a, b in itertools.pairwise(waves) if versions[a] != versions[b]}


def previous_wave(rows: pd.DataFrame, alpha: float, breaks: set[int],
                  codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                  ) -> pd.DataFrame:
    """``change_prev, p_prev, sig_prev`` against the previous wave in the data.

    Rows keep their order. The "previous row of the same measure and area" is found on integer
    codes sorted by measure, area and wave (sorting Arrow-backed text, or taking every column
    of the table in that order, is slow), and the results are put back in the rows' order."""
    codes = codes or {}
    measure, m_rank = _ranked_codes(rows["measure"], codes.get("measure"))
    area, a_rank = _ranked_codes(rows["area_code"], codes.get("area_code"))
    order = np.lexsort((rows["wave"].to_numpy(np.float64, na_value=np.nan), a_rank, m_rank))
    m_o, a_o = measure[order], area[order]
    group = (m_o >= 0) & (a_o >= 0)
    same = np.zeros(len(rows), dtype=bool)  # the row before is of the same measure and area
    same[1:] = group[1:] & (m_o[1:] == m_o[:-1]) & (a_o[1:] == a_o[:-1])
    estimate = rows["estimate"].to_numpy(np.float64)[order]
    se_own = rows["se"].to_numpy(np.float64)[order]
    prev_est, prev_se = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    prev_est[1:] = np.where(same[1:], estimate[:-1], np.nan)
    prev_se[1:] = np.where(same[1:], se_own[:-1], np.nan)
    back = np.empty(len(rows), dtype=np.int64)  # sorted position of every row
    back[order] = np.arange(len(rows))
    change = pd.Series((estimate - prev_est)[back], index=rows.index)
    se = pd.Series(np.hypot(se_own, prev_se)[back], index=rows.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = intervals.p_value((change / se).to_numpy(np.float64), None)
    broken = rows["wave"].isin(breaks) & rows["method"].isin(["direct", "composite", "model"])
    rows = rows.copy(deep=False)
    rows["change_prev"] = change.where(~broken)
    rows["p_prev"] = pd.Series(p, index=rows.index).where(~broken & (se > 0))
    p_prev = rows["p_prev"].to_numpy(np.float64)
    # nullable booleans directly (a True / False / NaN object column costs a parse later)
    rows["sig_prev"] = pd.arrays.BooleanArray(p_prev < alpha, np.isnan(p_prev))
    return rows


def _ranked_codes(col: pd.Series, known: tuple[np.ndarray, np.ndarray] | None = None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Codes of a column's values (-1: missing) and their rank in sorted order (missing
    last), for sorting with ``np.lexsort``. ``known``: the column's codes and distinct
    values (as ``pd.factorize`` gives them) if numbered already."""
    codes, uniques = known or pd.factorize(col)  # hashed; the few distinct values sorted after
    codes = np.asarray(codes, dtype=np.int64)
    rank = np.empty(len(uniques) + 1, dtype=np.int64)
    rank[np.argsort(np.asarray(uniques, dtype=object), kind="stable")] = np.arange(len(uniques))
    rank[-1] = len(uniques)
    return codes, rank[codes]


def _codes(*columns: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Number the distinct combinations of row-aligned key arrays (-1 where any is missing)."""
    if len(columns) == 1:  # the usual case, without a groupby
        codes, uniques = pd.factorize(columns[0], sort=True)
        return (np.asarray(codes, dtype=np.int64),
                pd.DataFrame({"k0": pd.Series(np.asarray(uniques), dtype=object)}))
    frame = pd.DataFrame({f"k{i}": c for i, c in enumerate(columns)})
    grouped = frame.groupby(list(frame.columns), sort=True, dropna=True)
    codes = np.asarray(grouped.ngroup().fillna(-1), dtype=np.int64)
    return codes, grouped.size().reset_index()[list(frame.columns)]


def _significant(p: np.ndarray, se: np.ndarray, alpha: float) -> pd.Series:
    """p < alpha, and unknown (NA) where there is no standard error to test with."""
    return _flagged(p < alpha, se)


def _flagged(significant: np.ndarray, se: np.ndarray) -> pd.Series:
    """A test's outcome, unknown (NA) where there is no standard error to test with."""
    return pd.Series(pd.arrays.BooleanArray(np.asarray(significant, dtype=bool), ~(se > 0)))


def pooled(
    spec: Spec, est: SurveyEstimates, variables: list[str], breaks: set[int]
) -> pd.DataFrame:
    """``change_pooled, sig_pooled``: this wave against the k earlier waves pooled.

    The difference's score is built directly (rows of this wave count +, rows of the earlier
    waves −, each centred on its own side's mean), for every area, wave and variable of a
    level in one variance evaluation: every row feeds its area × its own wave (+) and its area
    × each of the k following waves (−), the same pattern for all variables
    (:func:`tryg.stats.score_patterns.pattern_variance`). Exact, and covariance included
    even if waves shared units.
    """
    k = spec.comparisons.pooled_waves
    frame = est.frame
    waves = sorted(int(w) for w in frame["wave"].unique())
    position = {w: i for i, w in enumerate(waves)}
    ok_waves = [
        t for i, t in enumerate(waves)
        if k > 0 and i >= k and not any(w in breaks for w in [*waves[i - k + 1:i], t])
    ]
    empty = pd.DataFrame(columns=["area_code", "wave", "measure", "change_pooled", "sig_pooled"])
    if not ok_waves or not variables:
        return empty
    w_all = np.asarray(est.design.weights)
    wave_pos = np.searchsorted(np.asarray(waves), frame["wave"].to_numpy(np.int64))

    def stacked() -> np.ndarray:
        return np.column_stack([np.asarray(est.values[v], dtype=np.float64) for v in variables])

    W_, T, V = len(waves), len(ok_waves), len(variables)
    slot = np.full(W_ + k + 1, -1)  # wave position -> column of the ok wave, -1: none
    slot[[position[t] for t in ok_waves]] = np.arange(T)
    windows = np.zeros((W_, T))  # which wave positions each ok wave pools
    for j, t in enumerate(ok_waves):
        windows[position[t] - k:position[t], j] = 1.0
    # independent waves (the usual stacked design): the variance is a sum over waves
    split = supported(est.design) and separates(est.design, wave_pos)
    out: list[dict[str, Column]] = []
    levels = est.cache.get("levels:" + "|".join(variables), {})
    for col in est.level_columns.values():
        cells = _cells(est, variables) if split else None
        if cells is not None and col in levels:  # the survey estimates' domains
            keys = levels[col][0].keys[col]
            area_keys = pd.DataFrame({"k0": np.sort(keys.unique().to_numpy(object))})
            out.append(_pooled_by_cells(spec, est, variables, ok_waves, wave_pos, None,
                                        area_keys, cells, col))
            continue
        area = frame[col].to_numpy(object)
        if pd.isna(area).all():
            continue
        area_codes, area_keys = _codes(area)
        A = len(area_keys)
        r_in = np.flatnonzero(area_codes >= 0)
        if cells is not None:
            out.append(_pooled_by_cells(spec, est, variables, ok_waves, wave_pos, area_codes,
                                        area_keys, cells, col))
            continue
        if split:
            out.append(_pooled_by_wave(spec, est, variables, ok_waves, wave_pos,
                                       area_codes, area_keys, stacked()))
            continue
        Y = stacked()[r_in]
        valid = ~np.isnan(Y)
        w = np.where(valid, w_all[r_in][:, None], 0.0)
        wy = np.where(valid, w * Y, 0.0)
        cell = area_codes[r_in] * W_ + wave_pos[r_in]
        ind = sp.csc_matrix((np.ones(len(r_in)), (cell, np.arange(len(r_in)))),
                            shape=(A * W_, len(r_in)))
        Wc = np.asarray(ind @ w).reshape(A, W_, V)
        Yc = np.asarray(ind @ wy).reshape(A, W_, V)
        cur_pos = [position[t] for t in ok_waves]
        Wcur, Ycur = Wc[:, cur_pos], Yc[:, cur_pos]  # A × T × V
        Wp = np.einsum("awv,wt->atv", Wc, windows)
        Yp = np.einsum("awv,wt->atv", Yc, windows)
        with np.errstate(divide="ignore", invalid="ignore"):
            centre = np.stack([Ycur / Wcur, Yp / Wp])  # side × A × T × V
        total = np.stack([Wcur, Wp])
        usable = (Wp > 0) & (Wcur > 0)
        # every row: its own wave (+, side 0) and the k waves after it (−, side 1)
        rows_l, cols_l, side_l = [], [], []
        for j in range(k + 1):
            s = slot[wave_pos[r_in] + j]
            e = np.flatnonzero(s >= 0)
            rows_l.append(e)
            cols_l.append(area_codes[r_in[e]] * T + s[e])
            side_l.append(np.full(len(e), min(j, 1)))
        e, c, side = (np.concatenate(x) for x in (rows_l, cols_l, side_l))
        a_e, t_e = c // T, c % T
        keep = valid[e] & usable[a_e, t_e]
        sign = np.where(side == 0, 1.0, -1.0)[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            vals = sign * w[e] * (Y[e] - centre[side, a_e, t_e]) / total[side, a_e, t_e]
        vals = np.where(keep, vals, 0.0)
        pattern = ScorePattern(r_in[e], c, A * T)
        var = pattern_variance(est.design, pattern, vals, present=keep)  # (A·T) × V
        se_all = np.sqrt(var).reshape(A, T, V)
        diff_all = centre[0] - centre[1]
        out.append(_pooled_rows(spec, area_keys, ok_waves, variables, diff_all, se_all, usable))
    return _pooled_table(spec, out) if out else empty


Cells = tuple[cell_moments.CellEngine, cell_moments.CellMoments]


def _cells(est: SurveyEstimates, variables: list[str]) -> Cells | None:
    """The per-cell moments of ``variables`` (cells: stratum × area of every level × wave),
    built once per run and shared by the comparisons (see :mod:`tryg.stats.cell_moments`);
    ``None`` when the design has clusters or the fast engine does not take it."""
    key = "cells:" + "|".join(variables)
    if key not in est.cache:
        if not cell_moments.applies(est.design):
            est.cache[key] = None
        else:
            keys = [np.asarray(pd.factorize(est.frame[c])[0], dtype=np.int64)
                    for c in est.level_columns.values()]
            keys.append(np.asarray(pd.factorize(est.frame["wave"])[0], dtype=np.int64))
            engine = cell_moments.CellEngine(est.design, keys)
            Y = np.column_stack([np.asarray(est.values[v], dtype=np.float64)
                                 for v in variables])
            est.cache[key] = (engine, engine.moments(Y))
    cached: Cells | None = est.cache[key]
    return cached


def _pooled_by_cells(
    spec: Spec, est: SurveyEstimates, variables: list[str], ok_waves: list[int],
    wave_pos: np.ndarray, area_codes: np.ndarray | None, area_keys: pd.DataFrame,
    cells: Cells, col: str,
) -> dict[str, Column]:
    """:func:`_pooled_by_wave` from per-cell moments: the variance of ``Σ w (y − c)`` over an
    area × wave domain is ``Var D + 2 δ Cov(D, W) + δ² Var W`` with ``D = Σ w (y − ȳ)``,
    ``W = Σ w`` and ``δ = ȳ − c``, so one 2 × 2 covariance per area × wave (from
    :class:`tryg.stats.cell_moments.CellEngine`) serves the current wave and every pooled
    window that holds it."""
    engine, mom = cells
    k = spec.comparisons.pooled_waves
    waves = sorted(int(w) for w in est.frame["wave"].unique())
    W_, V, A = len(waves), len(variables), len(area_keys)
    position = {w: i for i, w in enumerate(waves)}
    levels = est.cache.get("levels:" + "|".join(variables), {})
    if col in levels:  # the survey estimates' domains: numbered by (area, wave) there
        dom_s, fam = levels[col]
        a = pd.Index(area_keys["k0"]).get_indexer(dom_s.keys[col])
        s = pd.Index(waves).get_indexer(dom_s.keys["wave"].astype(np.int64))
        at = np.where((a >= 0) & (s >= 0), a * W_ + s, -1)
        ok = at >= 0
        grid = [np.zeros((A * W_, V)) for _ in range(5)]
        grid[0][:] = np.nan
        for g, x in zip(grid, engine.pair(mom, fam), strict=True):
            g[at[ok]] = x[ok]
        mean, Wd, vdd2, vdw2, vww2 = grid
    else:
        assert area_codes is not None
        row_dom = np.where(area_codes >= 0, area_codes * W_ + wave_pos, -1)
        dom = row_dom[engine.first]
        if not np.array_equal(dom[np.maximum(engine.cell, 0)][engine.cell >= 0],
                              row_dom[engine.cell >= 0]):
            raise AssertionError("cells must nest in the area × wave domains")
        mean, Wd, vdd2, vdw2, vww2 = engine.pair(mom, engine.family(dom, A * W_))
    Wc, cur = Wd.reshape(A, W_, V), mean.reshape(A, W_, V)
    # pooled means as offsets from the current wave's: a change is exactly 0 when the
    # pooled waves' means equal the current one
    ref = np.nan_to_num(cur, nan=0.0)
    Wp, off = np.zeros_like(Wc), np.zeros_like(Wc)
    for j in range(1, k + 1):
        Wp[:, j:] += Wc[:, :-j]
        off[:, j:] += np.where(Wc[:, :-j] != 0, Wc[:, :-j] * (cur[:, :-j] - ref[:, j:]), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pool = ref + off / Wp
    vdd, vdw, vww = (x.reshape(A, W_, V) for x in (vdd2, vdw2, vww2))
    pos = np.array([position[t] for t in ok_waves], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.maximum(vdd[:, pos], 0.0) / Wc[:, pos] ** 2
        for j in range(1, k + 1):
            delta = np.nan_to_num(cur[:, pos - j] - pool[:, pos], nan=0.0, posinf=0.0,
                                  neginf=0.0)
            part = vdd[:, pos - j] + 2.0 * delta * vdw[:, pos - j] + delta**2 * vww[:, pos - j]
            var = var + np.maximum(part, 0.0) / Wp[:, pos] ** 2
        diff_all = -off[:, pos] / Wp[:, pos]
    usable = (Wp[:, pos] > 0) & (Wc[:, pos] > 0)  # A × T × V
    return _pooled_rows(spec, area_keys, ok_waves, variables, diff_all, np.sqrt(var), usable)


def _pooled_by_wave(
    spec: Spec, est: SurveyEstimates, variables: list[str], ok_waves: list[int],
    wave_pos: np.ndarray, area_codes: np.ndarray, area_keys: pd.DataFrame, Y_all: np.ndarray,
) -> dict[str, Column]:
    """:func:`pooled` for one level when waves are independent samples
    (:func:`tryg.stats.score_patterns.separates`): the score of "wave t − pooled waves" has
    no covariance between its waves, so its variance is the sum of one variance per wave,
    each a total over an area × wave domain of ``w (y − centre)``, the centre being the
    current mean (own wave) or the pooled mean of each later wave that pools it. All of them
    come from one evaluation on the area × wave domains (shared with the survey estimates).
    """
    k = spec.comparisons.pooled_waves
    waves = sorted(int(w) for w in est.frame["wave"].unique())
    W_, V, A = len(waves), len(variables), len(area_keys)
    position = {w: i for i, w in enumerate(waves)}
    r_in = np.flatnonzero(area_codes >= 0)
    a_r, s_r = area_codes[r_in], wave_pos[r_in]
    Y = Y_all[r_in]
    valid = ~np.isnan(Y)
    w = np.where(valid, np.asarray(est.design.weights)[r_in][:, None], 0.0)
    cell = a_r * W_ + s_r
    ind = sp.csc_matrix((np.ones(len(r_in)), (cell, np.arange(len(r_in)))),
                        shape=(A * W_, len(r_in)))
    Wc = np.asarray(ind @ w).reshape(A, W_, V)
    Yc = np.asarray(ind @ np.where(valid, w * Y, 0.0)).reshape(A, W_, V)
    # pooled totals of every wave position t over its k previous positions
    Wp, Yp = np.zeros_like(Wc), np.zeros_like(Yc)
    for j in range(1, k + 1):
        Wp[:, j:] += Wc[:, :-j]
        Yp[:, j:] += Yc[:, :-j]
    with np.errstate(divide="ignore", invalid="ignore"):
        cur, pool = Yc / Wc, Yp / Wp
    # value columns w (y − centre), rows outside the base have w = 0; the centres of an
    # area × wave cell: its own mean, then the pooled mean of the wave j positions later
    # (0 where there is none or it has no weight: those comparisons are not used)
    centres = np.zeros((A, W_, k + 1, V))
    centres[:, :, 0] = cur
    for j in range(1, k + 1):
        centres[:, :W_ - j, j] = pool[:, j:]
    # variable-major and contiguous, so that each variable's centres are one row gather
    flat = np.ascontiguousarray(
        np.nan_to_num(centres, nan=0.0, posinf=0.0, neginf=0.0)
        .reshape(A * W_, k + 1, V).transpose(2, 0, 1)
    )
    wy = np.where(valid, w * Y, 0.0)
    engine = engine_for(est.design, ScorePattern(r_in, cell, A * W_))
    part = np.empty((A * W_, k + 1, V))
    for v in range(V):  # one variable at a time keeps the work arrays small
        vals = flat[v][cell]
        vals *= -w[:, v:v + 1]
        vals += wy[:, v:v + 1]
        part[:, :, v] = engine.variance(vals)
    by_cell = part.reshape(A, W_, k + 1, V)
    pos = np.array([position[t] for t in ok_waves], dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = by_cell[:, pos, 0] / Wc[:, pos] ** 2
        for j in range(1, k + 1):
            var = var + by_cell[:, pos - j, j] / Wp[:, pos] ** 2
        diff_all = cur[:, pos] - pool[:, pos]
    usable = (Wp[:, pos] > 0) & (Wc[:, pos] > 0)  # A × T × V
    return _pooled_rows(spec, area_keys, ok_waves, variables, diff_all, np.sqrt(var), usable)


def _pooled_rows(spec: Spec, area_keys: pd.DataFrame, ok_waves: list[int], variables: list[str],
                 diff_all: np.ndarray, se_all: np.ndarray, usable: np.ndarray
                 ) -> dict[str, Column]:
    """The pooled comparisons' rows from area × wave × variable arrays (``usable`` marks the
    comparisons that have weight on both sides), in variable, wave, area order; as columns,
    joined into one table by :func:`_pooled_table`."""
    names = area_keys["k0"].astype(str).to_numpy()
    v_i, t_i, a_i = np.nonzero(usable.transpose(2, 1, 0))
    return {
        "area_code": (names, a_i),
        "wave": np.asarray(ok_waves, dtype=np.int64)[t_i],
        "measure": (np.asarray(variables, dtype=object), v_i),
        "change_pooled": diff_all[a_i, t_i, v_i],
        "se_pooled": se_all[a_i, t_i, v_i],
    }


def _joined(parts: list[dict[str, Column]]) -> dict[str, np.ndarray | pd.Series]:
    """The levels' columns joined; text columns (values, codes) become pandas text taken
    from their distinct values (see :mod:`tryg.stats.text_columns`)."""
    out: dict[str, np.ndarray | pd.Series] = {}
    for c, first in parts[0].items():
        if isinstance(first, tuple):
            pairs = [part[c] for part in parts]
            assert all(isinstance(x, tuple) for x in pairs)
            offsets = np.cumsum([0, *(len(x[0]) for x in pairs[:-1])])
            out[c] = text_columns.taken(
                np.concatenate([x[0] for x in pairs]).tolist(),
                np.concatenate([x[1] + o for x, o in zip(pairs, offsets, strict=True)]))
        else:
            out[c] = np.concatenate([part[c] for part in parts])
    return out


def _pooled_table(spec: Spec, parts: list[dict[str, Column]]) -> pd.DataFrame:
    """The levels' rows of :func:`pooled` as one table, built once (as concatenating a table
    per level gives), with ``sig_pooled``."""
    cols = _joined(parts)
    diff = np.asarray(cols["change_pooled"], dtype=np.float64)
    se = np.asarray(cols["se_pooled"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = intervals.p_value(diff / se, None)
    return pd.DataFrame({**cols, "sig_pooled": _significant(p, se, spec.comparisons.alpha)})


def _with_parent(dom: Domains, frame: pd.DataFrame, col: str, pcol: str,
                 parent_dom: Domains | None = None) -> Domains | None:
    """The domains ``[wave, pcol, col]`` as :func:`tryg.stats.estimators.domains` numbers
    them, from the survey estimates' domains ``[col, wave]`` (the same rows: an area has one
    parent in a wave), without another group-by over the respondents' text columns.
    ``None`` if an area × wave has respondents with different parents. ``parent_dom``: the
    domains ``[pcol, wave]`` if known (then their codes tell the parents apart: rows of one
    area × wave domain share the wave, so equal codes mean equal parents)."""
    D = len(dom.keys)
    rows = np.flatnonzero(dom.codes >= 0)
    first = np.full(D, -1, dtype=np.int64)
    first[dom.codes[rows[::-1]]] = rows[::-1]
    parent_col = frame[pcol]
    parents = parent_col.take(first).reset_index(drop=True)
    if parent_dom is not None:
        p_codes = np.asarray(parent_dom.codes, dtype=np.int64)
    else:
        p_codes = np.asarray(pd.factorize(parent_col)[0], dtype=np.int64)
    if not np.array_equal(p_codes[rows], p_codes[first[dom.codes[rows]]]):
        return None
    keep = np.flatnonzero(parents.notna().to_numpy())  # a missing parent: in no domain
    wave = dom.keys["wave"].to_numpy()[keep]
    p_rank = pd.factorize(parents.iloc[keep], sort=True)[0]
    a_rank = pd.factorize(dom.keys[col].iloc[keep], sort=True)[0]
    order = keep[np.lexsort((a_rank, p_rank, wave))]
    number = np.full(D + 1, -1, dtype=np.int64)
    number[order] = np.arange(len(order))
    codes = number[dom.codes]  # -1 stays -1 (the last entry)
    keys = pd.DataFrame({
        "wave": dom.keys["wave"].to_numpy()[order],
        pcol: parents.iloc[order].reset_index(drop=True),
        col: dom.keys[col].iloc[order].reset_index(drop=True),
    })
    keys.columns = pd.Index(["wave", pcol, col], dtype=object)  # as a group-by's keys
    return Domains(codes, keys)


def parent_rest(
    spec: Spec, est: SurveyEstimates, hierarchy: Hierarchy, variables: list[str]
) -> pd.DataFrame:
    """``diff_parent_rest, sig_parent_rest``: each area against the rest of its parent, for
    every level, wave and variable (:func:`tryg.stats.rest_contrasts.compare_with_rest_arrays`:
    exact, all areas at once)."""
    out: list[dict[str, Column]] = []
    values = {v: est.values[v] for v in variables}
    known = _cells(est, variables)
    levels = est.cache.get("levels:" + "|".join(variables), {})
    cells = (None if known is None else
             (*known, [(dom.codes, fam) for dom, fam in levels.values()]))
    for level, col in est.level_columns.items():
        parent = hierarchy.parent_level(level)
        if parent is None or est.frame[col].isna().all():
            continue
        pcol = est.level_columns[parent]
        res = compare_with_rest_arrays(
            est.design, values, area=col, parent=pcol, by="wave",
            level=1 - spec.comparisons.alpha, cells=cells,
            known_domains=_with_parent(levels[col][0], est.frame, col, pcol,
                                       levels[pcol][0] if pcol in levels else None)
            if col in levels else None, tests=False,
        )
        # the table compare_with_rest_many would give, built from the domains' keys once
        keep, V = res.keep, len(res.names)
        D = len(res.keys)
        area_of = res.keys[col].astype(str).to_numpy(object)
        wave_of = res.keys["wave"].astype(np.int64).to_numpy()
        out.append({
            "area_code": (area_of, np.tile(np.arange(D), V)[keep]),
            "wave": np.tile(wave_of, V)[keep],
            "measure": (np.array(res.names, dtype=object), np.repeat(np.arange(V), D)[keep]),
            "diff_parent_rest": res.columns["difference"][keep],
            "se_parent_rest": res.columns["se"][keep], "df": res.columns["df"][keep],
        })
    if not out:
        return pd.DataFrame(
            columns=["area_code", "wave", "measure", "diff_parent_rest", "sig_parent_rest"]
        )
    # the levels' rows as one table, built once (as concatenating a table per level gives)
    cols = _joined(out)
    se = np.asarray(cols["se_parent_rest"], dtype=np.float64)
    diff = np.asarray(cols["diff_parent_rest"], dtype=np.float64)
    # p < alpha exactly when |t| exceeds the t quantile of its degrees of freedom (one
    # quantile per distinct df instead of a t tail probability per estimate)
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = np.abs(diff / se) > intervals.quantile(
            1 - spec.comparisons.alpha, np.asarray(cols.pop("df"), dtype=np.float64))
    return pd.DataFrame({**cols, "sig_parent_rest": _flagged(beyond, se)})


def model_based(spec: Spec, table: pd.DataFrame, breaks: set[int],
                codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                ) -> pd.DataFrame:
    """The pooled and rest-of-parent comparisons of the model-based rows (flag
    ``model_based``) in published figures (module docstring), replacing the design-based
    ones, which were computed from the small sample's direct estimate. Tests are normal
    (z) tests at the spec's alpha. Other rows are left as they are."""
    if table.empty or "flags" not in table:
        return table
    flags = table["flags"].fillna("").astype(str)
    model = flags.str.contains("model_based", regex=False).to_numpy(dtype=bool)
    if not model.any():
        return table
    alpha = spec.comparisons.alpha
    z = float(intervals.quantile(1 - alpha, None))  # two-sided normal critical value
    table = table.copy(deep=False)
    rows = np.flatnonzero(model)
    if spec.comparisons.parent_rest:
        diff = (table["rest_diff"].to_numpy(np.float64)[rows] if "rest_diff" in table
                else np.full(len(rows), np.nan))
        se = (table["rest_se"].to_numpy(np.float64)[rows] if "rest_se" in table
              else np.full(len(rows), np.nan))
        _put(table, "diff_parent_rest", rows, diff)
        with np.errstate(invalid="ignore", divide="ignore"):
            beyond = np.abs(diff / se) > z
        _put_test(table, "sig_parent_rest", rows, beyond, np.isfinite(diff) & (se > 0))
    k = spec.comparisons.pooled_waves
    if k > 0:
        change, se_c = _pooled_published(spec, table, rows, model, breaks, k)
        _put(table, "change_pooled", rows, change)
        with np.errstate(invalid="ignore", divide="ignore"):
            beyond = np.abs(change / se_c) > z
        _put_test(table, "sig_pooled", rows, beyond, np.isfinite(change) & (se_c > 0))
    return table


def _put(table: pd.DataFrame, col: str, rows: np.ndarray, values: np.ndarray) -> None:
    out = (table[col].to_numpy(np.float64, na_value=np.nan).copy() if col in table
           else np.full(len(table), np.nan))
    out[rows] = values
    table[col] = out


def _put_test(table: pd.DataFrame, col: str, rows: np.ndarray, significant: np.ndarray,
              known: np.ndarray) -> None:
    """A nullable-boolean test column with ``rows`` set (NA where not ``known``)."""
    if col in table:
        old = pd.array(table[col].to_numpy(dtype=object), dtype="boolean")
        values = old.to_numpy(dtype=bool, na_value=False).copy()
        missing = np.asarray(old.isna(), dtype=bool).copy()
    else:
        values = np.zeros(len(table), dtype=bool)
        missing = np.ones(len(table), dtype=bool)
    values[rows] = np.asarray(significant, dtype=bool)
    missing[rows] = ~np.asarray(known, dtype=bool)
    table[col] = pd.arrays.BooleanArray(values, missing)


def _pooled_published(spec: Spec, table: pd.DataFrame, rows: np.ndarray, model: np.ndarray,
                      breaks: set[int], k: int) -> tuple[np.ndarray, np.ndarray]:
    """For the model-based ``rows``: the published estimate minus the mean of the k earlier
    waves' published estimates, and its standard error (NaN where an earlier wave is
    missing or not published, or a method break lies in the window; as :func:`pooled`)."""
    min_n = spec.publication.min_n
    method = table["method"].astype(str).to_numpy(dtype=object)
    survey_like = np.isin(method, ["direct", "model", "synthetic"])
    wave = table["wave"].to_numpy(np.float64, na_value=np.nan)
    waves = sorted(int(w) for w in np.unique(wave[survey_like & np.isfinite(wave)]))
    area = table["area_code"].astype(str).to_numpy(dtype=object)
    measure = table["measure"].astype(str).to_numpy(dtype=object)
    estimate = table["estimate"].to_numpy(np.float64)
    se = table["se"].to_numpy(np.float64)
    n = pd.to_numeric(table["n"], errors="coerce").to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        published = np.isfinite(estimate) & np.isfinite(se) & (model | (n >= min_n))
    change = np.full(len(rows), np.nan)
    out_se = np.full(len(rows), np.nan)
    if not len(rows) or not waves:
        return change, out_se
    # every (area, measure) numbered, and its published estimates in a cell × wave grid
    a_code, _ = pd.factorize(area)
    m_code, m_uniq = pd.factorize(measure)
    cell_all = np.asarray(a_code, dtype=np.int64) * len(m_uniq) + np.asarray(m_code)
    cells, cell = np.unique(cell_all, return_inverse=True)
    cell = np.asarray(cell).ravel()
    W = len(waves)
    pos = np.full(len(table), -1, dtype=np.int64)
    in_waves = survey_like & np.isfinite(wave)
    pos[in_waves] = np.searchsorted(np.asarray(waves, dtype=np.float64), wave[in_waves])
    filled = in_waves & published
    ok = np.zeros((len(cells), W), dtype=np.int64)
    est = np.zeros((len(cells), W))
    var = np.zeros((len(cells), W))
    ok[cell[filled], pos[filled]] = 1
    est[cell[filled], pos[filled]] = estimate[filled]
    var[cell[filled], pos[filled]] = se[filled] ** 2

    def cumulative(x: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros((len(cells), 1), dtype=x.dtype),
                               np.cumsum(x, axis=1)], axis=1)

    c_ok, c_est, c_var = cumulative(ok), cumulative(est), cumulative(var)
    # a wave's window is usable when k earlier waves exist and no break lies in it
    usable = np.array([p >= k and not any(w in breaks for w in [*waves[p - k + 1:p], waves[p]])
                       for p in range(W)], dtype=bool)
    p = pos[rows]
    r_ok = (p >= 0) & usable[np.maximum(p, 0)]
    rr = np.flatnonzero(r_ok)
    c, pp = cell[rows[rr]], p[rr]
    full = (c_ok[c, pp] - c_ok[c, pp - k]) == k
    rr, c, pp = rr[full], c[full], pp[full]
    i = rows[rr]
    change[rr] = estimate[i] - (c_est[c, pp] - c_est[c, pp - k]) / k
    out_se[rr] = np.sqrt(se[i] ** 2 + (c_var[c, pp] - c_var[c, pp - k]) / k**2)
    return change, out_se
