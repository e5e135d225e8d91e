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
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import scipy.sparse as sp

from tryg.index.hierarchy import Hierarchy
from tryg.index.spec import Spec
from tryg.index.survey import SurveyEstimates
from tryg.stats import intervals
from tryg.stats.rest_contrasts import compare_with_rest_many
from tryg.stats.variance import linearized_variance


def method_breaks(frame: pd.DataFrame) -> set[int]:
    """Waves whose questionnaire version differs from the previous wave's."""
    if "questionnaire" not in frame.columns:
        return set()
    versions: dict[int, set[str]] = {}
    for wave, version in zip(frame["wave"], frame["questionnaire"].astype(str), strict=True):
        versions.setdefault(int(wave), set()).add(version)
    waves = sorted(versions)
    return {b for a, b in itertools.pairwise(waves) if versions[a] != versions[b]}


def previous_wave(rows: pd.DataFrame, alpha: float, breaks: set[int]) -> pd.DataFrame:
    """``change_prev, p_prev, sig_prev`` against the previous wave in the data."""
    rows = rows.sort_values(["measure", "area_code", "wave"]).copy()
    grouped = rows.groupby(["measure", "area_code"], sort=False)
    prev_est = grouped["estimate"].shift(1)
    prev_se = grouped["se"].shift(1)
    change = rows["estimate"] - prev_est
    se = np.hypot(rows["se"], prev_se)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = intervals.p_value((change / se).to_numpy(np.float64), None)
    broken = rows["wave"].isin(breaks) & rows["method"].isin(["direct", "composite", "model"])
    rows["change_prev"] = change.where(~broken)
    rows["p_prev"] = pd.Series(p, index=rows.index).where(~broken & (se > 0))
    rows["sig_prev"] = (rows["p_prev"] < alpha).where(rows["p_prev"].notna())
    return rows


def _codes(*columns: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Number the distinct combinations of row-aligned key arrays (-1 where any is missing)."""
    frame = pd.DataFrame({f"k{i}": c for i, c in enumerate(columns)})
    grouped = frame.groupby(list(frame.columns), sort=True, dropna=True)
    codes = np.asarray(grouped.ngroup().fillna(-1), dtype=np.int64)
    return codes, grouped.size().reset_index()[list(frame.columns)]


def _significant(p: np.ndarray, se: np.ndarray, alpha: float) -> pd.Series:
    """p < alpha, and unknown (NA) where there is no standard error to test with."""
    out = pd.Series(p < alpha, dtype="boolean")
    out[~(se > 0)] = pd.NA
    return out


def _sum(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    ok = codes >= 0
    return np.bincount(codes[ok], weights=values[ok], minlength=size)


def pooled(
    spec: Spec, est: SurveyEstimates, variables: list[str], breaks: set[int]
) -> pd.DataFrame:
    """``change_pooled, sig_pooled``: this wave against the k earlier waves pooled.

    The difference's score is built directly (rows of this wave count +, rows of the earlier
    waves −, each centred on its own side's mean), for every area, wave and variable in one
    variance computation: exact, and covariance included even if waves shared units.
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
    if not ok_waves:
        return empty
    w = np.asarray(est.design.weights)
    wave_pos = frame["wave"].map(position).to_numpy(np.int64)
    n = len(frame)
    out = []
    for col in est.level_columns.values():
        area = frame[col].to_numpy(object)
        if pd.isna(area).all():
            continue
        area_codes, area_keys = _codes(area)
        A = len(area_keys)
        W_ = len(waves)
        rows_l, cols_l, vals_l, keys, diffs = [], [], [], [], []
        offset = 0
        for v in variables:
            y = est.values[v]
            valid = (area_codes >= 0) & ~np.isnan(y)
            cell = np.where(valid, area_codes * W_ + wave_pos, -1)
            Wc = _sum(cell, w, A * W_).reshape(A, W_)
            Yc = _sum(cell, w * np.nan_to_num(y), A * W_).reshape(A, W_)
            for t in ok_waves:
                ti = position[t]
                win = list(range(ti - k, ti))
                Wp, Yp = Wc[:, win].sum(axis=1), Wc[:, ti]
                Yp_pool = Yc[:, win].sum(axis=1)
                usable = (Wp > 0) & (Yp > 0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    cur = Yc[:, ti] / Wc[:, ti]
                    pool = Yp_pool / Wp
                colmap = np.full(A, -1)
                colmap[usable] = offset + np.arange(usable.sum())
                offset += int(usable.sum())
                keys.append((v, t, np.flatnonzero(usable)))
                diffs.append((cur - pool)[usable])
                r_cur = np.flatnonzero(valid & (wave_pos == ti))
                r_pool = np.flatnonzero(valid & np.isin(wave_pos, win))
                for r, centre, total, sign in (
                    (r_cur, cur, Wc[:, ti], 1.0), (r_pool, pool, Wp, -1.0)
                ):
                    a = area_codes[r]
                    c = colmap[a]
                    keep = c >= 0
                    r, a, c = r[keep], a[keep], c[keep]
                    rows_l.append(r)
                    cols_l.append(c)
                    vals_l.append(sign * w[r] * (y[r] - centre[a]) / total[a])
        if offset == 0:
            continue
        scores = sp.csc_matrix(
            (np.concatenate(vals_l), (np.concatenate(rows_l), np.concatenate(cols_l))),
            shape=(n, offset),
        )
        se = np.sqrt(linearized_variance(est.design, scores))
        diff = np.concatenate(diffs)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = intervals.p_value(diff / se, None)
        names = area_keys["k0"].astype(str).to_numpy()
        out.append(pd.DataFrame({
            "area_code": np.concatenate([names[idx] for _, _, idx in keys]),
            "wave": np.concatenate([np.full(len(idx), t) for _, t, idx in keys]),
            "measure": np.concatenate([np.full(len(idx), v, dtype=object) for v, _, idx in keys]),
            "change_pooled": diff,
            "se_pooled": se,
            "sig_pooled": _significant(p, se, spec.comparisons.alpha),
        }))
    return pd.concat(out, ignore_index=True) if out else empty


def parent_rest(
    spec: Spec, est: SurveyEstimates, hierarchy: Hierarchy, variables: list[str]
) -> pd.DataFrame:
    """``diff_parent_rest, sig_parent_rest``: each area against the rest of its parent, for
    every level, wave and variable (:func:`tryg.stats.rest_contrasts.compare_with_rest_many`:
    exact, all areas at once)."""
    out = []
    values = {v: est.values[v] for v in variables}
    for level, col in est.level_columns.items():
        parent = hierarchy.parent_level(level)
        if parent is None or est.frame[col].isna().all():
            continue
        res = compare_with_rest_many(
            est.design, values, area=col, parent=est.level_columns[parent], by="wave",
            level=1 - spec.comparisons.alpha,
        )
        out.append(pd.DataFrame({
            "area_code": res[col].astype(str), "wave": res["wave"].astype(np.int64),
            "measure": res["variable"], "diff_parent_rest": res["difference"],
            "se_parent_rest": res["se"],
            "sig_parent_rest": _significant(res["p_value"].to_numpy(), res["se"].to_numpy(),
                                            spec.comparisons.alpha),
        }))
    if not out:
        return pd.DataFrame(
            columns=["area_code", "wave", "measure", "diff_parent_rest", "sig_parent_rest"]
        )
    return pd.concat(out, ignore_index=True)
