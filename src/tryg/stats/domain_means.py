"""Means of many variables in many domains, and linear combinations of them, all at once:
written once over :class:`~tryg.stats.domain_totals.DomainTotals`, whichever back-end gives
the totals' variances.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from tryg.stats import intervals
from tryg.stats.design import FloatArray
from tryg.stats.domain_totals import DomainTotals, Grouping
from tryg.stats.text_columns import repeated


def means_table(
    totals: DomainTotals,
    groups: Grouping,
    keys: pd.DataFrame,
    combinations: Mapping[str, Mapping[str, float]],
    level: float,
) -> pd.DataFrame:
    """The table of ``means`` (see :func:`tryg.stats.estimators.means`) for the variables of
    ``totals`` in the domains of ``groups`` (numbered as the rows of ``keys``): a domain mean
    ``ȳ = Y / W`` has the linearised variance ``Var(D) / W²`` with ``D = Σ w (y − ȳ)``, a
    combination ``Σ c_v ȳ_v`` that of ``Σ (c_v / W_v) D_v``."""
    names = totals.names
    D = len(keys)
    mean, W = totals.totals(groups)
    vdd = totals.centred_variance(groups)
    s = totals.sums(groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.maximum(vdd, 0.0) / W**2
        s2 = s.ss / W * s.nobs / (s.nobs - 1)
        fpc = np.where(s.nobs <= W, (W - s.nobs) / (W * s.nobs), np.nan)
    stats = {"W": W, "sw2": s.sw2, "n": s.n, "df": totals.degrees_of_freedom(groups),
             "vsrs": s2 * fpc}
    est = {v: mean[:, j] for j, v in enumerate(names)}
    _combine(est, combinations, D)
    if combinations:
        idx = {v: j for j, v in enumerate(names)}
        cvar = []
        for coefs in combinations.values():
            k = np.zeros((D, len(names)))
            with np.errstate(divide="ignore", invalid="ignore"):
                for v, c in coefs.items():
                    k[:, idx[v]] += c / W[:, idx[v]]
            cvar.append(np.maximum(totals.combination_variance(groups, k), 0.0))
        var = np.column_stack([var, *cvar])
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
