"""Register measures: reported offences per 1,000 residents, per area and wave.

The window is aligned to fieldwork: for wave Y and a spec with ``window_quarters=4,
window_end=3`` the quarters 2014Q4..2015Q3 count for wave 2015, and the rate uses the
population of year Y. Counts given for fine areas are summed up the hierarchy; an area with
counts of its own (e.g. a kommune in Statistics Denmark's table) keeps them. Rates get exact
Poisson (Garwood) intervals and, per level and wave, Marshall's global empirical Bayes
smoothing as a second measure ``<id>_eb``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from tryg.index.hierarchy import Hierarchy
from tryg.index.inputs import REGISTER_COLUMNS, Problem, RegisterInput, require_columns, source_of
from tryg.index.spec import RegisterMeasure, Spec
from tryg.stats.rates import eb_global, poisson_rate


def window(measure: RegisterMeasure, wave: int) -> list[str]:
    """The quarters that count for ``wave``, oldest first (e.g. 2014Q4..2015Q3)."""
    index = wave * 4 + (measure.window_end - 1)
    return [f"{q // 4}Q{q % 4 + 1}" for q in range(index - measure.window_quarters + 1, index + 1)]


def check_register(spec: Spec, register: RegisterInput, area_codes: set[str]) -> list[Problem]:
    counts = register.counts
    src = source_of(counts)
    problems = require_columns(counts, REGISTER_COLUMNS, "the register data")
    if problems:
        return problems
    offences = set(counts["offence"].astype(str).unique())
    for m in spec.register:
        for off in m.offences:
            if off not in offences:
                problems.append(
                    Problem(
                        src,
                        None,
                        "offence",
                        f"register measure {m.id!r} needs offence {off!r}, "
                        "which the register data does not contain",
                    )
                )
    codes = counts["area_code"].astype(str)
    for i in np.flatnonzero(~codes.isin(area_codes).to_numpy())[:20]:
        problems.append(
            Problem(
                src,
                int(counts.index[i]),
                "area_code",
                f"unknown area code {codes.iloc[i]!r} (not in the area list)",
            )
        )
    c = pd.to_numeric(counts["count"], errors="coerce")
    for i in np.flatnonzero(~((c >= 0) & (c == np.round(c))).to_numpy())[:20]:
        problems.append(
            Problem(
                src,
                int(counts.index[i]),
                "count",
                f"count {counts['count'].iloc[i]!r} is not a whole number >= 0",
            )
        )
    return problems


def covered_waves(spec: Spec, register: RegisterInput, years: Sequence[int]) -> list[int]:
    """Waves whose whole window lies inside the register data (for register-only runs)."""
    quarters = set(register.counts["quarter"].astype(str).unique())
    return [y for y in years if all(set(window(m, y)) <= quarters for m in spec.register)]


def register_rates(
    spec: Spec,
    register: RegisterInput,
    population: pd.DataFrame,
    hierarchy: Hierarchy,
    waves: Sequence[int],
) -> tuple[pd.DataFrame, list[Problem]]:
    """Rows ``area_code, wave, measure, count, population, estimate, se, ci_low, ci_high,
    method, flags`` for every register measure, area (with population) and wave."""
    counts = register.counts.assign(
        area_code=register.counts["area_code"].astype(str),
        quarter=register.counts["quarter"].astype(str),
        offence=register.counts["offence"].astype(str),
        count=pd.to_numeric(register.counts["count"]),
    )
    # plain Python lists: iterating pandas' Arrow-backed text element by element is slow
    pop = dict(zip(zip(population["area_code"].to_numpy(object).tolist(),
                       population["year"].tolist(), strict=True),
                   population["population"].tolist(), strict=True))
    available = set(counts["quarter"].unique())
    frames: list[pd.DataFrame] = []
    warnings: list[Problem] = []
    for m in spec.register:
        sel = counts[counts["offence"].isin(m.offences)]
        for wave in waves:
            quarters = window(m, wave)
            if not set(quarters) <= available:
                warnings.append(
                    Problem(
                        source_of(register.counts),
                        None,
                        "quarter",
                        f"{m.id}: wave {wave} needs {quarters[0]}..{quarters[-1]}, "
                        "not all in the register data; not computed",
                    )
                )
                continue
            direct = sel[sel["quarter"].isin(quarters)].groupby("area_code")["count"].sum()
            own = dict(zip(direct.index.to_numpy(object).astype(str).tolist(),
                           direct.to_numpy(np.float64).tolist(), strict=True))
            per_area = hierarchy.roll_up(own, wave)
            codes = list(per_area)
            frame = pd.DataFrame({"area_code": codes, "count": list(per_area.values())})
            frame["population"] = [pop.get((a, wave), np.nan) for a in codes]
            frame = frame[frame["population"] > 0]
            if frame.empty:
                continue
            rate = poisson_rate(
                frame["count"].to_numpy(),
                frame["population"].to_numpy(),
                per=m.per,
                level=1 - spec.comparisons.alpha,
            )
            out = frame.reset_index(drop=True)
            out["wave"] = wave
            out["measure"] = m.id
            out["estimate"] = rate["rate"].to_numpy()
            out["se"] = np.sqrt(out["count"]) / out["population"] * m.per
            out["ci_low"] = rate["ci_low"].to_numpy()
            out["ci_high"] = rate["ci_high"].to_numpy()
            out["method"] = "register"
            frames.append(out)
            if m.smoothing == "eb_global":
                frames.append(_smoothed(out, hierarchy, m, spec.comparisons.alpha))
    if not frames:
        return pd.DataFrame(), warnings
    return pd.concat(frames, ignore_index=True), warnings


def _smoothed(
    raw: pd.DataFrame, hierarchy: Hierarchy, m: RegisterMeasure, alpha: float
) -> pd.DataFrame:
    """Global EB rates among the areas of each level (needs at least three areas)."""
    parts = []
    z = float(norm.ppf(1 - alpha / 2))
    levels = raw["area_code"].map(hierarchy.level)
    for _, group in raw.groupby(levels, sort=True):
        if len(group) < 3:
            continue
        eb = eb_global(group["count"].to_numpy(), group["population"].to_numpy(), per=m.per)
        estimate = eb["eb_rate"].to_numpy()
        # Marshall's approximate posterior variance, shrinkage × m / n (per person, scaled)
        prior = eb["prior_mean"].to_numpy() / m.per
        se = m.per * np.sqrt(eb["shrinkage"].to_numpy() * prior / group["population"].to_numpy())
        # one assign, not one copy per column
        parts.append(group.assign(
            measure=f"{m.id}_eb", estimate=estimate, se=se,
            ci_low=np.maximum(estimate - z * se, 0.0), ci_high=estimate + z * se,
            method="register_eb",
        ))
    return pd.concat(parts) if parts else raw.iloc[0:0]
