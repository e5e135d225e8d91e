"""Means of many variables in many domains, all at once: the fast path of ``means``.

Every variable of a ``means`` call shares the pattern "row → its domain"; only the values
and the base (answered or not) differ. So the per-domain sums are products of one domain
indicator with an (entries × variables) array, and the variances come from one
:class:`~tryg.stats.score_patterns.PatternEngine` evaluation for all variables and
combinations. Same numbers as the general path in :mod:`tryg.stats.estimators` up to rounding.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.stats import intervals
from tryg.stats.cell_moments import CellEngine, CellMoments, Family
from tryg.stats.design import Design, FloatArray, IntArray
from tryg.stats.score_patterns import ScorePattern, engine_for
from tryg.stats.text_columns import repeated

#: Variables handled together (their work arrays are entries × GROUP).
GROUP = 4


def means_by_pattern(
    design: Design,
    values: Mapping[str, FloatArray],
    codes: IntArray,
    keys: pd.DataFrame,
    combinations: Mapping[str, Mapping[str, float]],
    level: float,
) -> pd.DataFrame:
    """``means`` for a linearised design the engine supports (see :func:`means`).

    ``codes`` numbers each row's domain (-1: none), ``keys`` holds the domains' by-values.
    """
    names = list(values)
    D = len(keys)
    pattern = ScorePattern.of_domains(codes, D)
    rows, cols = pattern.rows, pattern.cols
    N = len(rows)
    engine = engine_for(design, pattern)
    ind = sp.csc_matrix((np.ones(N), (cols, np.arange(N))), shape=(D, N))
    w = np.asarray(design.weights)[rows][:, None]
    stats = {k: np.zeros((D, len(names))) for k in ("m", "W", "var", "df", "n", "sw2", "vsrs")}
    combo_scores = np.zeros((N, len(combinations)))
    # a few variables at a time: the work arrays stay small (see PatternEngine._chunks)
    for group in range(0, len(names), GROUP):
        at = slice(group, min(len(names), group + GROUP))
        Y = np.column_stack([np.asarray(values[v], dtype=np.float64)[rows] for v in names[at]])
        valid = ~np.isnan(Y)
        wv = np.where(valid, w, 0.0)
        W = np.asarray(ind @ wv)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.asarray(ind @ np.where(valid, wv * Y, 0.0)) / W
            dev = np.where(valid, Y - m[cols], 0.0)
            scores = np.where(valid, wv * dev / W[cols], 0.0)
            nobs = np.asarray(ind @ ((wv != 0) & valid).astype(np.float64))
            s2 = np.asarray(ind @ (wv * dev**2)) / W * nobs / (nobs - 1)
            fpc = np.where(nobs <= W, (W - nobs) / (W * nobs), np.nan)
        stats["m"][:, at], stats["W"][:, at], stats["vsrs"][:, at] = m, W, s2 * fpc
        stats["var"][:, at] = engine.variance(scores)
        stats["df"][:, at] = engine.degrees_of_freedom(valid)
        stats["n"][:, at] = np.asarray(ind @ valid.astype(np.float64))
        stats["sw2"][:, at] = np.asarray(ind @ (wv * wv))
        for c, coefs in enumerate(combinations.values()):
            for j, v in enumerate(names[at]):
                if v in coefs:
                    combo_scores[:, c] += coefs[v] * scores[:, j]
    est = {v: stats["m"][:, j] for j, v in enumerate(names)}
    _combine(est, combinations, D)
    var = np.hstack([stats["var"], engine.variance(combo_scores)]) if combinations \
        else stats["var"]
    return _frame(keys, names, combinations, est, var, stats, level)


def _combine(est: dict[str, FloatArray], combinations: Mapping[str, Mapping[str, float]],
             D: int) -> None:
    """The combinations' estimates (missing where any of their variables is)."""
    for cname, coefs in combinations.items():
        combo = sum((c * np.nan_to_num(est[v], nan=0.0) for v, c in coefs.items()),
                    start=np.zeros(D))
        missing = np.zeros(D, dtype=bool)
        for v in coefs:
            missing |= np.isnan(est[v])
        combo[missing] = np.nan
        est[cname] = combo


def _frame(
    keys: pd.DataFrame, names: list[str], combinations: Mapping[str, Mapping[str, float]],
    est: dict[str, FloatArray], var: FloatArray, stats: dict[str, FloatArray], level: float,
) -> pd.DataFrame:
    """The long result table of ``means`` (one block of domains per variable)."""
    D = len(keys)
    W, sw2, n, df, vsrs = stats["W"], stats["sw2"], stats["n"], stats["df"], stats["vsrs"]
    with np.errstate(divide="ignore", invalid="ignore"):
        n_eff = np.where(sw2 > 0, W**2 / sw2, 0.0)
    order = [*names, *combinations]
    base = list(range(len(names))) + [names.index(next(iter(c)))
                                             for c in combinations.values()]
    E = np.column_stack([est[v] for v in order]) if order else np.zeros((D, 0))
    DF = df[:, base]
    count = n[:, base]
    VS = np.column_stack([vsrs, np.full((D, len(combinations)), np.nan)])
    SE = np.sqrt(var)
    lo, hi = intervals.wald(E, SE, DF, level)
    with np.errstate(divide="ignore", invalid="ignore"):
        deff = np.where(VS > 0, var / VS, np.nan)
    empty = count == 0

    def flat(a: np.ndarray, blank: bool) -> FloatArray:
        a = np.asarray(a, dtype=np.float64)
        if blank:
            a = np.where(empty, np.nan, a)
        return a.T.reshape(-1)

    # built once from its columns (the keys repeated per variable): a frame grown column by
    # column copies its blocks at every step
    every = np.tile(np.arange(D), len(order))
    cols: dict[str, object] = {
        c: keys[c].reset_index(drop=True).take(every).reset_index(drop=True)
        for c in keys.columns
    }
    cols["variable"] = repeated(order, [D] * len(order))
    cols["estimate"] = flat(E, True)
    cols["se"] = flat(SE, True)
    cols["ci_low"] = flat(lo, True)
    cols["ci_high"] = flat(hi, True)
    cols["n"] = flat(count, False).astype(np.int64)
    cols["n_eff"] = flat(n_eff[:, base], False)
    cols["deff"] = flat(deff, True)
    cols["df"] = flat(DF, False)
    out = pd.DataFrame(cols, index=pd.RangeIndex(D * len(order)))
    if len(keys.columns):  # the columns' index as the keys' (as concatenating them gave)
        out.columns = pd.Index(list(cols), dtype=keys.columns.dtype)
    return out


def means_by_cells(
    engine: CellEngine,
    mom: CellMoments,
    values: FloatArray,
    names: list[str],
    fam: Family,
    keys: pd.DataFrame,
    combinations: Mapping[str, Mapping[str, float]],
    level: float,
) -> pd.DataFrame:
    """``means`` from per-cell moments (:mod:`tryg.stats.cell_moments`), for a design whose
    units are its rows: the same table as :func:`means_by_pattern` up to rounding.

    ``mom`` holds the moments of the columns of ``values`` (n × V, named ``names``); ``fam``
    the domains (numbered as the rows of ``keys``)."""
    D = len(keys)
    parts = engine.domain_parts(mom, fam)
    inside = np.flatnonzero(fam.dom >= 0)
    ind = sp.csr_matrix((np.ones(len(inside)), (fam.dom[inside], inside)),
                        shape=(D, engine.n_cells))
    W = parts.W
    vdd = engine.centred_variance(mom, fam)
    nobs = np.asarray(ind @ mom.nz)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.maximum(vdd, 0.0) / W**2
        ss = np.asarray(ind @ (mom.T2 + parts.delta**2 * mom.W))
        s2 = ss / W * nobs / (nobs - 1)
        fpc = np.where(nobs <= W, (W - nobs) / (W * nobs), np.nan)
    stats = {"W": W, "sw2": np.asarray(ind @ mom.Q0), "n": np.asarray(ind @ mom.n),
             "df": engine.degrees_of_freedom(mom, fam), "vsrs": s2 * fpc}
    est = {v: parts.mean[:, j] for j, v in enumerate(names)}
    _combine(est, combinations, D)
    if combinations:
        idx = {v: j for j, v in enumerate(names)}
        pairs = sorted({(min(idx[a], idx[b]), max(idx[a], idx[b]))
                        for c in combinations.values() for a in c for b in c if a != b})
        cross = engine.cross_moments(mom, values, pairs)
        cvar = []
        for coefs in combinations.values():
            k = np.zeros((D, len(names)))
            with np.errstate(divide="ignore", invalid="ignore"):
                for v, c in coefs.items():
                    k[:, idx[v]] += c / W[:, idx[v]]
            cvar.append(np.maximum(engine.sum_variance(mom, fam, k, cross), 0.0))
        var = np.column_stack([var, *cvar])
    return _frame(keys, names, combinations, est, var, stats, level)
