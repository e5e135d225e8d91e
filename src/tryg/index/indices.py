"""Sub-indices and the composite: from estimates to 0–100 or base-year = 100 scores.

Every transform is affine in the raw value (``index = a + b × value``, clipped to 0–100 for
the anchored one), so a standard error transforms as ``|b| × se`` and an interval's bounds
map through it. A base value (the top area's raw value in the base wave) is treated as a
fixed constant; its own sampling error is not propagated, which the methods page says.

The composite is a weighted mean of sub-indices. Its survey part is estimated as one linear
combination of sub-index means, so covariances between sub-indices from the same respondents
are included; register sub-indices are independent of the survey and add their variances.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import norm

from tryg.index.spec import Spec, Subindex
from tryg.stats import text_columns

ESTIMATE_COLUMNS = ["estimate", "se", "ci_low", "ci_high"]


@dataclass(frozen=True)
class Affine:
    a: float
    b: float
    clip: bool = False

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with its estimate, interval and standard error transformed (a new frame
        that shares the other columns: no copy of its text)."""
        est = (self.a + self.b * frame["estimate"]).to_numpy(np.float64)
        lo0 = (self.a + self.b * frame["ci_low"]).to_numpy(np.float64)
        hi0 = (self.a + self.b * frame["ci_high"]).to_numpy(np.float64)
        lo, hi = np.minimum(lo0, hi0), np.maximum(lo0, hi0)
        if self.clip:
            est, lo, hi = (np.clip(x, 0.0, 100.0) for x in (est, lo, hi))
        return frame.assign(estimate=est, ci_low=lo, ci_high=hi,
                            se=abs(self.b) * frame["se"])


def affine(sub: Subindex, base: float | None) -> Affine:
    """The transform of one sub-index (``base`` only for ``base_year``)."""
    if sub.transform == "scale_0_100":
        return Affine(0.0, 1.0)
    if sub.transform == "anchored":
        at_100, at_0 = sub.anchors
        return Affine(100.0 * at_0 / (at_0 - at_100), -100.0 / (at_0 - at_100), clip=True)
    if base is None or not np.isfinite(base) or base == 0:
        return Affine(np.nan, np.nan)
    raw_higher_is_better = sub.source == "items"
    if raw_higher_is_better == sub.higher_is_better:
        return Affine(0.0, 100.0 / base)
    return Affine(200.0, -100.0 / base)


def base_value(rows: pd.DataFrame, top: str | None, base_wave: int) -> tuple[float | None, int]:
    """The raw value the base-year index divides by: the top area's, in the base wave (or in
    the first wave present, when the base wave is not in the data)."""
    if rows.empty:
        return None, base_wave
    waves = sorted(rows["wave"].unique())
    wave = base_wave if base_wave in waves else int(waves[0])
    sel = rows[(rows["wave"] == wave) & (rows["area_code"] == top)] if top else rows.iloc[0:0]
    if sel.empty:
        return None, wave
    return float(sel["estimate"].iloc[0]), wave


def subindex_rows(
    spec: Spec,
    survey: pd.DataFrame,
    register: pd.DataFrame,
    top: str | None,
) -> tuple[pd.DataFrame, dict[str, Affine]]:
    """Rows ``…, measure=<subindex id>`` for every sub-index, and the transform used."""
    frames = []
    used: dict[str, Affine] = {}
    for sub in spec.subindices:
        if sub.source == "items":
            raw = survey[survey["variable"] == sub.id] if not survey.empty else survey
        else:
            raw = register[register["measure"] == sub.register] if not register.empty else register
        if raw.empty:
            continue
        base = None
        flags = ""
        if sub.transform == "base_year":
            base, wave = base_value(raw, top, sub.base_wave or 0)
            if wave != sub.base_wave:
                flags = "base_wave_substituted"
        tr = affine(sub, base)
        used[sub.id] = tr
        rows = tr.apply(raw).reset_index(drop=True)
        # the text columns built from their one value (not a string per row)
        frames.append(rows.assign(**{c: text_columns.repeated([v], [len(rows)]) for c, v in (
            ("measure", sub.id),
            ("method", "direct" if sub.source == "items" else "register"),
            ("flags", flags))}))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), used


def composite_rows(
    spec: Spec,
    subindices: pd.DataFrame,
    survey_part: pd.DataFrame,
    used: dict[str, Affine],
) -> pd.DataFrame:
    """The weighted-mean composite per area × wave (none when the spec has no composite).

    ``survey_part`` holds the estimate of ``Σ c_k b_k × mean_k`` over item sub-indices (the
    ``_composite_survey`` combination) with its design-based standard error.
    """
    comp = spec.composite
    if comp is None or comp.transform == "none" or subindices.empty:
        return pd.DataFrame()
    total_w = sum(w for _, w in comp.weights)
    weights = {k: w / total_w for k, w in comp.weights if w > 0}
    measure = subindices["measure"]
    present = set(measure.dropna().unique().tolist())
    if any(k not in present for k in weights):
        return pd.DataFrame()
    # every row's (area, wave) as one number, over the sub-indices' rows and the survey
    # part's: rows are matched on those numbers instead of on text indices
    n_sub = len(subindices)
    area_codes, _ = pd.factorize(pd.concat([subindices["area_code"], survey_part["area_code"]],
                                           ignore_index=True), use_na_sentinel=False)
    wave_codes, _ = pd.factorize(np.concatenate([subindices["wave"].to_numpy(np.int64),
                                                 survey_part["wave"].to_numpy(np.int64)]))
    key = np.asarray(area_codes, dtype=np.int64) * (int(wave_codes.max(initial=0)) + 1) + wave_codes
    sub_key, sp_key = key[:n_sub], key[n_sub:]
    rows = {k: np.flatnonzero((measure == k).to_numpy(dtype=bool, na_value=False))
            for k in weights}
    # the (area, wave) pairs every weighed sub-index has, in the first one's order, once
    first = rows[next(iter(weights))]
    keep = np.ones(len(first), dtype=bool)
    for k in weights:
        keep &= np.isin(sub_key[first], sub_key[rows[k]])
    at = first[keep]
    _, once = np.unique(sub_key[at], return_index=True)
    at = at[np.sort(once)]
    keys = sub_key[at]

    def row_of(k: str) -> np.ndarray:
        found: np.ndarray = rows[k][pd.Index(sub_key[rows[k]]).get_indexer(keys)]
        return found

    items = [k for k in weights if spec_source(spec, k) == "items"]
    regs = [k for k in weights if spec_source(spec, k) == "register"]
    est = np.zeros(len(keys))
    var = np.zeros(len(keys))
    if items:
        sp = survey_part.reset_index(drop=True).reindex(pd.Index(sp_key).get_indexer(keys))
        est += sum(weights[k] * used[k].a for k in items) + sp["estimate"].to_numpy()
        var += sp["se"].to_numpy() ** 2
        n, n_eff, df = (sp[c].to_numpy() for c in ("n", "n_eff", "df"))
    else:
        n = n_eff = df = np.full(len(keys), np.nan)
    for k in regs:
        part = subindices.iloc[row_of(k)]
        est += weights[k] * part["estimate"].to_numpy()
        var += (weights[k] * part["se"].to_numpy()) ** 2
    se = np.sqrt(var)
    z = norm.ppf(1 - spec.comparisons.alpha / 2)
    # the key columns taken as they are (their text is not converted to objects and back)
    taken = subindices[["area_code", "wave", "level"]].take(at).reset_index(drop=True)
    out = pd.DataFrame(
        {
            "area_code": taken["area_code"],
            "wave": taken["wave"].to_numpy(),
            "level": taken["level"],
            "estimate": est,
            "se": se,
            "ci_low": est - z * se,
            "ci_high": est + z * se,
            "n": n,
            "n_eff": n_eff,
            "df": df,
        }
    )
    return out.assign(**{c: text_columns.repeated([v], [len(out)]) for c, v in (
        ("measure", comp.id), ("method", "composite"), ("flags", ""))})


def spec_source(spec: Spec, sub_id: str) -> str:
    return next(s.source for s in spec.subindices if s.id == sub_id)


def composite_combination(spec: Spec, bases: dict[str, float | None]) -> dict[str, float]:
    """Coefficients ``c_k × b_k`` of the item sub-index means in the composite's survey part."""
    comp = spec.composite
    if comp is None or comp.transform == "none":
        return {}
    total_w = sum(w for _, w in comp.weights)
    out = {}
    for k, w in comp.weights:
        sub = next(s for s in spec.subindices if s.id == k)
        if sub.source == "items" and w > 0:
            out[k] = w / total_w * affine(sub, bases.get(k)).b
    return out
