"""Many statistics over the area × wave domains of one design, the variance back-end
chosen here from the design.

An index estimates every variable for every area of every level and wave, and compares
them: with the waves pooled, with the rest of the parent area. What that needs of the
statistics engine is one thing — per-domain totals and their covariances for a set of
linear statistics — with three back-ends: per-cell moments when every respondent is its own
unit (:mod:`tryg.stats.cell_moments`), score patterns for other designs the block engine
takes (:mod:`tryg.stats.score_patterns`), and the general sparse linearisation
(:mod:`tryg.stats.variance`). Callers (:mod:`tryg.index`) hand over a :class:`LevelSample`
and never pick an engine; the engines built for one sample are kept in its
:class:`DomainCache` (typed, not a dict with string keys) and shared by the estimates and the
comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats.calibration_blocks import supported
from tryg.stats.cell_moments import CellEngine, CellMoments, Family, applies
from tryg.stats.design import Design
from tryg.stats.domain_means import means_by_cells
from tryg.stats.estimators import Domains, domains, means
from tryg.stats.numbering import unique_inverse
from tryg.stats.score_patterns import ScorePattern, engine_for, pattern_variance, separates

#: A column of a level's rows: numbers, or text as its distinct values and a code per row.
Column = np.ndarray | tuple[np.ndarray, np.ndarray]

#: The variance back-ends of :func:`pooled_changes` ("auto": chosen from the design).
Backend = Literal["auto", "cells", "waves", "score"]

#: Per-cell moments of a set of variables: the engine and the moments.
Cells = tuple[CellEngine, CellMoments]


@dataclass
class DomainCache:
    """The engines built for one :class:`LevelSample`, by the variables they hold (in
    order): the per-cell moments (``None``: the design does not allow them) and, per level
    column, its area × wave domains with their family of cells."""

    cells: dict[tuple[str, ...], Cells | None] = field(default_factory=dict)
    levels: dict[tuple[str, ...], dict[str, tuple[Domains, Family]]] = field(
        default_factory=dict)


class LevelSample(Protocol):
    """A design, its rows' variables and the area column of each level (and ``wave``)."""

    @property
    def design(self) -> Design: ...

    @property
    def frame(self) -> pd.DataFrame: ...

    @property
    def values(self) -> Mapping[str, np.ndarray]: ...

    @property
    def level_columns(self) -> Mapping[str, str]: ...

    @property
    def cache(self) -> DomainCache: ...


def level_cells(
    design: Design, frame: pd.DataFrame, cols: Mapping[str, str],
    values: Mapping[str, np.ndarray], cache: DomainCache,
    level_codes: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> tuple[CellEngine, CellMoments, np.ndarray, dict[str, tuple[Domains, Family]]] | None:
    """Per-cell moments of every variable (cells: stratum × area of every level × wave) when
    the design's units are its rows: every estimate of every level, and the comparisons
    later, then come from them (:mod:`tryg.stats.cell_moments`). Kept in ``cache`` for the
    comparisons."""
    if not applies(design) or not values:
        return None
    waves = pd.factorize(design.column("wave"), sort=True)
    doms = {col: _area_wave_domains(design, col, waves, level_codes.get(col))
            for col in cols.values()
            if not frame[col].isna().all()}
    engine = CellEngine(design, [d.codes for d in doms.values()])
    Y = np.column_stack([np.asarray(v, dtype=np.float64) for v in values.values()])
    mom = engine.moments(Y)
    cache.cells[tuple(values)] = (engine, mom)
    by_level = {col: (d, engine.family(engine.keys[i], d.count))
                for i, (col, d) in enumerate(doms.items())}
    cache.levels[tuple(values)] = by_level
    return engine, mom, Y, by_level


def _area_wave_domains(design: Design, col: str, waves: tuple[Any, Any],
                       numbered: tuple[np.ndarray, np.ndarray] | None = None) -> Domains:
    """``domains(design, [col, "wave"])`` from the two columns factorised (sorted, as the
    group-by sorts them; ``waves``: the wave column's, shared by the levels) and their pairs
    numbered in order: the same codes and keys without a group-by over the text column. The
    group-by itself for columns that are not text. ``numbered``: the column factorised
    already (:func:`prepare`)."""
    area = design.column(col)
    wave = design.column("wave")
    if not isinstance(area.dtype, pd.StringDtype) or not pd.api.types.is_integer_dtype(wave):
        return domains(design, [col, "wave"])
    if numbered is None or len(numbered[0]) != design.n:
        codes_, names = pd.factorize(area, sort=True)
        numbered = (np.asarray(codes_, dtype=np.int64), np.asarray(names, dtype=object))
    a_idx, a_u = numbered
    w_idx, w_u = waves
    a_idx = np.asarray(a_idx, dtype=np.int64)
    w_idx = np.asarray(w_idx, dtype=np.int64)
    W = max(len(w_u), 1)
    valid = (a_idx >= 0) & (w_idx >= 0)
    # the pairs present, in order, numbered by counting (np.unique without a sort)
    codes = np.full(design.n, -1, dtype=np.int64)
    pairs, codes[valid] = unique_inverse(a_idx[valid] * W + w_idx[valid])
    keys = pd.DataFrame({col: pd.Series(a_u.take(pairs // W), dtype=area.dtype),
                         "wave": pd.Series(np.asarray(w_u).take(pairs % W), dtype=wave.dtype)})
    keys.columns = pd.Index([col, "wave"], dtype=object)  # as a group-by's keys
    return Domains(codes, keys)


def level_means(
    design: Design, values: Mapping[str, np.ndarray], col: str,
    cells: tuple[CellEngine, CellMoments, np.ndarray, dict[str, tuple[Domains, Family]]] | None,
    combinations: Mapping[str, Mapping[str, float]], level: float,
) -> pd.DataFrame:
    """:func:`tryg.stats.estimators.means` of ``values`` by ``[col, "wave"]``: from the
    per-cell moments (:func:`level_cells`) when there are some, by the general path
    otherwise."""
    if cells is not None:
        engine, mom, Y, by_level = cells
        dom, fam = by_level[col]
        return means_by_cells(engine, mom, Y, list(values), fam, dom.keys, combinations, level)
    return means(design, values, by=[col, "wave"], level=level,
                 combinations=combinations or None)


def pooled_changes(
    est: LevelSample, variables: list[str], k: int, waves: list[int], ok_waves: list[int],
    backend: Backend = "auto",
) -> list[dict[str, Column]]:
    """Each of ``ok_waves`` against the ``k`` waves before it pooled, for every area of every
    level column of ``est``, every variable: the rows (as columns, see
    :func:`_pooled_rows`: ``area_code, wave, measure, change_pooled, se_pooled``) of each
    level.

    The back-end is chosen here from the design: per-cell moments when every respondent is
    its own unit (:mod:`tryg.stats.cell_moments`), one pattern variance per wave when the
    waves are independent samples (:func:`_pooled_by_wave`), otherwise the difference's
    score built directly (rows of this wave count +, rows of the earlier waves −, each
    centred on its own side's mean), for every area, wave and variable of a level in one
    variance evaluation: every row feeds its area × its own wave (+) and its area × each of
    the k following waves (−), the same pattern for all variables
    (:func:`tryg.stats.score_patterns.pattern_variance`). Exact, and covariance included
    even if waves shared units.

    ``backend`` names one of the three instead ("cells", "waves", "score"), to compare them:
    all give the same numbers up to rounding ("cells" needs a design whose units are its
    rows, "cells" and "waves" independent waves; where these do not hold the next one down
    is taken).
    """
    frame = est.frame
    position = {w: i for i, w in enumerate(waves)}
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
    split = backend != "score" and supported(est.design) and separates(est.design, wave_pos)
    out: list[dict[str, Column]] = []
    levels = est.cache.levels.get(tuple(variables), {})
    for col in est.level_columns.values():
        cells = cells_of(est, variables) if split and backend in ("auto", "cells") else None
        if cells is not None and col in levels:  # the survey estimates' domains
            keys = levels[col][0].keys[col]
            area_keys = pd.DataFrame({"k0": np.sort(np.asarray(keys.unique(), dtype=object))})
            out.append(_pooled_by_cells(k, est, variables, ok_waves, wave_pos, None,
                                        area_keys, cells, col))
            continue
        area = frame[col].to_numpy(object)
        if pd.isna(area).all():
            continue
        area_codes, area_keys = _codes(area)
        A = len(area_keys)
        r_in = np.flatnonzero(area_codes >= 0)
        if cells is not None:
            out.append(_pooled_by_cells(k, est, variables, ok_waves, wave_pos, area_codes,
                                        area_keys, cells, col))
            continue
        if split:
            out.append(_pooled_by_wave(k, est, variables, ok_waves, wave_pos,
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
        out.append(_pooled_rows(area_keys, ok_waves, variables, diff_all, se_all, usable))
    return out


def cells_of(est: LevelSample, variables: list[str]) -> Cells | None:
    """The per-cell moments of ``variables`` (cells: stratum × area of every level × wave),
    built once per run and shared by the comparisons (see :mod:`tryg.stats.cell_moments`);
    ``None`` when the design has clusters or the fast engine does not take it."""
    key = tuple(variables)
    if key not in est.cache.cells:
        if not applies(est.design):
            est.cache.cells[key] = None
        else:
            keys = [np.asarray(pd.factorize(est.frame[c])[0], dtype=np.int64)
                    for c in est.level_columns.values()]
            keys.append(np.asarray(pd.factorize(est.frame["wave"])[0], dtype=np.int64))
            engine = CellEngine(est.design, keys)
            Y = np.column_stack([np.asarray(est.values[v], dtype=np.float64)
                                 for v in variables])
            est.cache.cells[key] = (engine, engine.moments(Y))
    return est.cache.cells[key]


def _pooled_by_cells(
    k: int, est: LevelSample, variables: list[str], ok_waves: list[int],
    wave_pos: np.ndarray, area_codes: np.ndarray | None, area_keys: pd.DataFrame,
    cells: Cells, col: str,
) -> dict[str, Column]:
    """:func:`_pooled_by_wave` from per-cell moments: the variance of ``Σ w (y − c)`` over an
    area × wave domain is ``Var D + 2 δ Cov(D, W) + δ² Var W`` with ``D = Σ w (y − ȳ)``,
    ``W = Σ w`` and ``δ = ȳ − c``, so one 2 × 2 covariance per area × wave (from
    :class:`tryg.stats.CellEngine`) serves the current wave and every pooled
    window that holds it."""
    engine, mom = cells
    waves = sorted(int(w) for w in est.frame["wave"].unique())
    W_, V, A = len(waves), len(variables), len(area_keys)
    position = {w: i for i, w in enumerate(waves)}
    levels = est.cache.levels.get(tuple(variables), {})
    if col in levels:  # the survey estimates' domains: numbered by (area, wave) there
        dom_s, fam = levels[col]
        a = pd.Index(area_keys["k0"]).get_indexer(dom_s.keys[col])
        s = pd.Index(waves).get_indexer(pd.Index(dom_s.keys["wave"].astype(np.int64)))
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
    return _pooled_rows(area_keys, ok_waves, variables, diff_all, np.sqrt(var), usable)


def _pooled_by_wave(
    k: int, est: LevelSample, variables: list[str], ok_waves: list[int],
    wave_pos: np.ndarray, area_codes: np.ndarray, area_keys: pd.DataFrame, Y_all: np.ndarray,
) -> dict[str, Column]:
    """:func:`pooled` for one level when waves are independent samples
    (:func:`tryg.stats.score_patterns.separates`): the score of "wave t − pooled waves" has
    no covariance between its waves, so its variance is the sum of one variance per wave,
    each a total over an area × wave domain of ``w (y − centre)``, the centre being the
    current mean (own wave) or the pooled mean of each later wave that pools it. All of them
    come from one evaluation on the area × wave domains (shared with the survey estimates).
    """
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
    return _pooled_rows(area_keys, ok_waves, variables, diff_all, np.sqrt(var), usable)


def _pooled_rows(area_keys: pd.DataFrame, ok_waves: list[int], variables: list[str],
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


