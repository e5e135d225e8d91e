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

from tryg import stats
from tryg.index.hierarchy import Hierarchy
from tryg.index.spec import Spec
from tryg.index.survey import SurveyEstimates
from tryg.stats import intervals


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


def pooled(
    spec: Spec, est: SurveyEstimates, variables: list[str], breaks: set[int]
) -> pd.DataFrame:
    """``change_pooled, sig_pooled`` of survey variables against the k earlier waves pooled."""
    k = spec.comparisons.pooled_waves
    frame = est.frame
    waves = sorted(int(w) for w in frame["wave"].unique())
    out = []
    data = frame.assign(**{f"_v_{v}": est.values[v] for v in variables})
    design = stats.design.replace_design(est.design, data=data)
    for t_i, t in enumerate(waves):
        earlier = waves[max(0, t_i - k) : t_i]
        if k <= 0 or len(earlier) < k or any(w in breaks for w in [*earlier[1:], t]):
            continue
        for _level, col in est.level_columns.items():
            if data[col].isna().all():
                continue
            for v in variables:
                res = stats.compare_with_pooled(
                    design,
                    f"_v_{v}",
                    wave="wave",
                    current=t,
                    earlier=earlier,
                    by=col,
                    level=1 - spec.comparisons.alpha,
                )
                if res.empty:
                    continue
                out.append(
                    pd.DataFrame(
                        {
                            "area_code": res[col].astype(str),
                            "wave": t,
                            "measure": v,
                            "change_pooled": res["difference"],
                            "sig_pooled": res["p_value"] < spec.comparisons.alpha,
                        }
                    )
                )
    return (
        pd.concat(out, ignore_index=True)
        if out
        else pd.DataFrame(columns=["area_code", "wave", "measure", "change_pooled", "sig_pooled"])
    )


def parent_rest(
    spec: Spec, est: SurveyEstimates, hierarchy: Hierarchy, variables: list[str]
) -> pd.DataFrame:
    """``diff_parent_rest, sig_parent_rest``: each area against the rest of its parent."""
    out = []
    data = est.frame.assign(**{f"_v_{v}": est.values[v] for v in variables})
    design = stats.design.replace_design(est.design, data=data)
    for level, col in est.level_columns.items():
        parent = hierarchy.parent_level(level)
        if parent is None or data[col].isna().all():
            continue
        pcol = est.level_columns[parent]
        for v in variables:
            res = stats.compare_with_rest(
                design,
                f"_v_{v}",
                area=col,
                parent=pcol,
                by="wave",
                level=1 - spec.comparisons.alpha,
            )
            if res.empty:
                continue
            out.append(
                pd.DataFrame(
                    {
                        "area_code": res[col].astype(str),
                        "wave": res["wave"].astype(np.int64),
                        "measure": v,
                        "diff_parent_rest": res["difference"],
                        "sig_parent_rest": res["p_value"] < spec.comparisons.alpha,
                    }
                )
            )
    return (
        pd.concat(out, ignore_index=True)
        if out
        else pd.DataFrame(
            columns=["area_code", "wave", "measure", "diff_parent_rest", "sig_parent_rest"]
        )
    )
