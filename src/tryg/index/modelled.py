"""Model-based additions: small-area estimates and the felt-versus-recorded gap.

Fay–Herriot (area level): for each wave and the finest level, direct shares are combined with
register covariates; areas whose sample is below ``small_area.below_n`` get the EBLUP (flagged
``model_based``), areas without sample but with covariates the synthetic estimate. Areas whose
direct variance is 0 (all answers alike) cannot enter the model fit and are treated as out of
sample.

The gap measure regresses felt insecurity on log recorded crime across the areas of a level
(weighted least squares with weights 1/se²); an area whose residual exceeds its own z-critical
band is flagged ``fear_ahead_of_crime`` (or ``fear_behind_crime``). Only the direct estimate's
uncertainty enters the band; the regression's own is ignored (it is small with many areas).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from tryg.index.inputs import Problem, as_int
from tryg.index.spec import Spec
from tryg.stats.small_area import fay_herriot


def small_area_rows(
    spec: Spec, survey: pd.DataFrame, register: pd.DataFrame, finest: str
) -> tuple[pd.DataFrame, list[Problem]]:
    sa = spec.small_area
    if not sa.enabled or survey.empty:
        return pd.DataFrame(), []
    warnings: list[Problem] = []
    frames = []
    z = norm.ppf(1 - spec.comparisons.alpha / 2)
    covs = [c for c in sa.covariates if c != "population"]
    reg = register[register["measure"].isin(covs)] if not register.empty else register
    if not reg.empty:
        reg = reg[reg["level"] == finest]
    # only the columns used, each table split once: every row selection copies every column
    # (Arrow-backed text included), so selecting per measure × wave × covariate adds up
    reg_by_wave: dict[int, pd.DataFrame] = {}
    if not reg.empty:
        reg = reg[["area_code", "wave", "measure", "estimate", "population"]]
        reg_by_wave = {as_int(w): g for w, g in reg.groupby("wave", sort=False)}
    finest_rows = survey.loc[survey["level"] == finest,
                             ["area_code", "wave", "variable", "estimate", "se", "n"]]
    by_measure = dict(iter(finest_rows.groupby("variable", sort=False)))
    for measure in sa.measures:
        rows = by_measure.get(measure, finest_rows.iloc[0:0])
        for wave, direct in rows.groupby("wave", sort=True):
            x = (_covariates(reg_by_wave.get(as_int(wave), reg.iloc[0:0]), covs, sa.covariates)
                 if not reg.empty else pd.DataFrame())
            data = (
                direct.set_index("area_code").join(x, how="outer")
                if not x.empty
                else direct.set_index("area_code")
            )
            data = data[data[list(x.columns)].notna().all(axis=1)] if not x.empty else data
            fit_ok = (data["se"] > 0) & data["estimate"].notna()
            if fit_ok.sum() < len(x.columns) + 3:
                warnings.append(
                    Problem(
                        "",
                        None,
                        None,
                        f"{measure}, wave {wave}: too few areas with a sample "
                        "for the small-area model; direct estimates kept",
                    )
                )
                continue
            direct_vals = data["estimate"].where(fit_ok)
            var = (data["se"] ** 2).where(fit_ok)
            try:
                res = fay_herriot(
                    direct_vals.to_numpy(),
                    var.to_numpy(),
                    data[list(x.columns)].to_numpy() if not x.empty else np.zeros((len(data), 0)),
                    method=sa.method,
                    area=data.index.to_numpy(),
                )
            except ValueError as exc:
                warnings.append(Problem("", None, None, f"{measure}, wave {wave}: {exc}"))
                continue
            e = res.estimates.set_index("area")
            n = data["n"].fillna(0)
            use = (n < sa.below_n).reindex(e.index).fillna(True)
            chosen = e[use.to_numpy()]
            if chosen.empty:
                continue
            se = np.sqrt(chosen["mse"])
            frames.append(
                pd.DataFrame(
                    {
                        "area_code": chosen.index.astype(str),
                        "wave": as_int(wave),
                        "measure": measure,
                        "estimate": chosen["eblup"].clip(0, 1).to_numpy(),
                        "se": se.to_numpy(),
                        "ci_low": (chosen["eblup"] - z * se).clip(0, 1).to_numpy(),
                        "ci_high": (chosen["eblup"] + z * se).clip(0, 1).to_numpy(),
                        "n": n.reindex(chosen.index).to_numpy(),
                        "method": np.where(chosen["method"] == "synthetic", "synthetic", "model"),
                        "flags": "model_based",
                    }
                )
            )
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), warnings


def _covariates(sel: pd.DataFrame, covs: list[str], wanted: tuple[str, ...]) -> pd.DataFrame:
    """Log covariates per area from the register rows of one wave (``sel``)."""
    by_measure = dict(iter(sel.groupby("measure", sort=False)))
    cols = {}
    for c in covs:
        s = by_measure.get(c, sel.iloc[0:0]).set_index("area_code")["estimate"]
        cols[c] = np.log(s + 0.5)
    if "population" in wanted:
        pop = sel.drop_duplicates("area_code").set_index("area_code")["population"]
        cols["population"] = np.log(pop)
    return pd.DataFrame(cols)


def gap_rows(spec: Spec, survey: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    gap = spec.gap
    if not gap.enabled or survey.empty or register.empty:
        return pd.DataFrame()
    measure = next(m for m in spec.measures if m.id == gap.survey_measure)
    sign = 1.0 if not measure.higher_is_safer else -1.0
    z = norm.ppf(1 - spec.comparisons.alpha / 2)
    frames = []
    levels = [gap.level] if gap.level else sorted(survey["level"].unique())
    # the used columns only, selected once (row selections copy every column)
    used = ["area_code", "wave", "estimate", "se", "n", "n_eff", "df"]
    s_all = survey.loc[survey["variable"] == gap.survey_measure, [*used, "level"]]
    s_by_level = dict(iter(s_all.groupby("level", sort=False)))
    r = register.loc[register["measure"] == gap.register_measure, ["area_code", "wave", "estimate"]]
    for level in levels:
        s = s_by_level.get(level, s_all.iloc[0:0])[used]
        both = s.merge(r, on=["area_code", "wave"], suffixes=("", "_crime"))
        for wave, g in both.groupby("wave", sort=True):
            g = g[(g["se"] > 0) & g["estimate_crime"].gt(0)]
            if len(g) < 5:
                continue
            X = np.column_stack([np.ones(len(g)), np.log(g["estimate_crime"].to_numpy())])
            wts = 1.0 / g["se"].to_numpy() ** 2
            beta = np.linalg.lstsq(
                X * np.sqrt(wts)[:, None], g["estimate"].to_numpy() * np.sqrt(wts), rcond=None
            )[0]
            resid = sign * (g["estimate"].to_numpy() - X @ beta)
            se = g["se"].to_numpy()
            flags = np.where(
                resid > z * se,
                "fear_ahead_of_crime",
                np.where(resid < -z * se, "fear_behind_crime", ""),
            )
            frames.append(
                pd.DataFrame(
                    {
                        "level": level,
                        "area_code": g["area_code"].to_numpy(),
                        "wave": as_int(wave),
                        "measure": "gap",
                        "estimate": resid,
                        "se": se,
                        "ci_low": resid - z * se,
                        "ci_high": resid + z * se,
                        "n": g["n"].to_numpy(),
                        "n_eff": g["n_eff"].to_numpy(),
                        "df": g["df"].to_numpy(),
                        "method": "model",
                        "flags": flags,
                    }
                )
            )
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
