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
from tryg.stats.rates import eb_arrays, poisson_rate


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
    method, flags`` for every register measure, area (with population) and wave.

    The counts' text columns are numbered once (factorised) and every window's sums are
    bincounts over those numbers; rates and intervals are computed once per measure."""
    table = register.counts
    area_idx, area_u = pd.factorize(table["area_code"].astype(str), sort=True)
    quarter_idx, quarter_u = pd.factorize(table["quarter"].astype(str))
    offence_idx, offence_u = pd.factorize(table["offence"].astype(str))
    area_names = np.asarray(area_u, dtype=object).tolist()
    quarters_u = np.asarray(quarter_u, dtype=object)
    count = pd.to_numeric(table["count"]).to_numpy(np.float64)
    A = len(area_names)
    # plain Python lists: iterating pandas' Arrow-backed text element by element is slow
    pop = dict(zip(zip(population["area_code"].to_numpy(object).tolist(),
                       population["year"].tolist(), strict=True),
                   population["population"].tolist(), strict=True))
    available = set(quarters_u.tolist())
    frames: list[pd.DataFrame] = []
    warnings: list[Problem] = []
    z = float(norm.ppf(1 - spec.comparisons.alpha / 2))
    for m in spec.register:
        of_measure = np.isin(np.asarray(offence_u, dtype=object), list(m.offences))[offence_idx]
        parts: list[tuple[int, list[str], np.ndarray, np.ndarray]] = []
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
            sel = of_measure & np.isin(quarters_u, quarters)[quarter_idx]
            rows = np.bincount(area_idx[sel], minlength=A)
            sums = np.bincount(area_idx[sel], weights=count[sel], minlength=A)
            present = np.flatnonzero(rows > 0)
            own = dict(zip([area_names[i] for i in present], sums[present].tolist(),
                           strict=True))
            per_area = hierarchy.roll_up(own, wave)
            codes = list(per_area)
            counts = np.fromiter(per_area.values(), dtype=np.float64, count=len(codes))
            people = np.array([pop.get((a, wave), np.nan) for a in codes], dtype=np.float64)
            keep = people > 0
            if keep.any():
                parts.append((wave, [c for c, k in zip(codes, keep, strict=True) if k],
                              counts[keep], people[keep]))
        if not parts:
            continue
        k_all = np.concatenate([p[2] for p in parts])
        n_all = np.concatenate([p[3] for p in parts])
        rate = poisson_rate(k_all, n_all, per=m.per, level=1 - spec.comparisons.alpha)
        est, lo, hi = (rate[c].to_numpy() for c in ("rate", "ci_low", "ci_high"))
        se = np.sqrt(k_all) / n_all * m.per
        start = 0
        for wave, codes, k, n in parts:
            at = slice(start, start + len(codes))
            start += len(codes)
            out = pd.DataFrame({
                "area_code": codes, "count": k, "population": n, "wave": wave,
                "measure": m.id, "estimate": est[at], "se": se[at], "ci_low": lo[at],
                "ci_high": hi[at], "method": "register",
            })
            frames.append(out)
            if m.smoothing == "eb_global":
                frames.append(_smoothed(out, hierarchy, m, z))
    if not frames:
        return pd.DataFrame(), warnings
    return pd.concat(frames, ignore_index=True), warnings


def _smoothed(raw: pd.DataFrame, hierarchy: Hierarchy, m: RegisterMeasure, z: float
              ) -> pd.DataFrame:
    """Global EB rates among the areas of each level (needs at least three areas)."""
    level_of = hierarchy.level
    levels = np.array([level_of.get(a) for a in raw["area_code"].tolist()], dtype=object)
    known = np.flatnonzero(pd.notna(levels))
    names = sorted(set(levels[known].tolist()))
    k_all = raw["count"].to_numpy(np.float64)
    n_all = raw["population"].to_numpy(np.float64)
    picks, cols = [], []
    for name in names:
        rows = known[levels[known] == name]
        if len(rows) < 3:
            continue
        k, n = k_all[rows], n_all[rows]
        eb = eb_arrays(k, n)
        estimate = eb["eb_rate"] * m.per
        # Marshall's approximate posterior variance, shrinkage × m / n (per person, scaled)
        se = m.per * np.sqrt(eb["shrinkage"] * eb["prior_mean"] / n)
        picks.append(rows)
        cols.append((estimate, se))
    if not picks:
        return raw.iloc[0:0]
    rows = np.concatenate(picks)
    estimate = np.concatenate([c[0] for c in cols])
    se = np.concatenate([c[1] for c in cols])
    # one assign, not one copy per column
    return raw.iloc[rows].assign(
        measure=f"{m.id}_eb", estimate=estimate, se=se,
        ci_low=np.maximum(estimate - z * se, 0.0), ci_high=estimate + z * se,
        method="register_eb",
    )
