"""Register measures: reported offences per 1,000 residents, per area and wave.

The window is aligned to fieldwork: for wave Y and a spec with ``window_quarters=4,
window_end=3`` the quarters 2014Q4..2015Q3 count for wave 2015, and the rate uses the
population of year Y. Counts given for fine areas are summed up the hierarchy; an area with
counts of its own (e.g. a kommune in Statistics Denmark's table) keeps them. Rates get exact
Poisson (Garwood) intervals and, per level and wave, Marshall's global empirical Bayes
smoothing as a second measure ``<id>_eb``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.stats import norm

from tryg.index.hierarchy import Hierarchy
from tryg.index.inputs import (
    REGISTER_COLUMNS,
    Problem,
    RegisterInput,
    require_columns,
    source_of,
    unknown,
)
from tryg.index.inputs import mark as _
from tryg.index.spec import RegisterMeasure, Spec
from tryg.stats import text_columns
from tryg.stats.rates import eb_arrays, poisson_rate


def window(measure: RegisterMeasure, wave: int) -> list[str]:
    """The quarters that count for ``wave``, oldest first (e.g. 2014Q4..2015Q3)."""
    index = wave * 4 + (measure.window_end - 1)
    return [f"{q // 4}Q{q % 4 + 1}" for q in range(index - measure.window_quarters + 1, index + 1)]


def check_register(spec: Spec, register: RegisterInput, area_codes: set[str]) -> list[Problem]:
    counts = register.counts
    src = source_of(counts)
    problems = require_columns(counts, REGISTER_COLUMNS,
                               _("the register data needs a column %(column)s"))
    if problems:
        return problems
    offences = set(counts["offence"].astype(str).unique())
    for m in spec.register:
        for off in m.offences:
            if off not in offences:
                problems.append(
                    Problem.of(
                        src, None, "offence",
                        _("register measure %(measure)s needs offence %(offence)s, which the "
                          "register data does not contain"), measure=repr(m.id), offence=repr(off))
                )
    codes = counts["area_code"].astype(str)
    for i in np.flatnonzero(unknown(codes, area_codes))[:20]:
        problems.append(
            Problem.of(src, int(counts.index[i]), "area_code",
                       _("unknown area code %(code)s (not in the area list)"),
                       code=repr(codes.iloc[i]))
        )
    c = pd.to_numeric(counts["count"], errors="coerce")
    for i in np.flatnonzero(~((c >= 0) & (c == np.round(c))).to_numpy())[:20]:
        problems.append(
            Problem.of(src, int(counts.index[i]), "count",
                       _("count %(value)s is not a whole number >= 0"),
                       value=repr(counts["count"].iloc[i]))
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
    area_names = np.asarray(area_u, dtype=object)
    quarters_u = np.asarray(quarter_u, dtype=object)
    count = pd.to_numeric(table["count"]).to_numpy(np.float64)
    A = len(area_names)
    people_of = _population_lookup(population, hierarchy)
    row_cache: dict[int, np.ndarray] = {}
    available = set(quarters_u.tolist())
    # the result as columns: one block of rows per measure × wave (and its smoothed block)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray, int, str, np.ndarray, np.ndarray,
                       np.ndarray, np.ndarray, str]] = []
    warnings: list[Problem] = []
    z = float(norm.ppf(1 - spec.comparisons.alpha / 2))
    Q = len(quarters_u)
    for m in spec.register:
        of_measure = np.isin(np.asarray(offence_u, dtype=object), list(m.offences))[offence_idx]
        # the measure's records and counts per area × quarter, once: each window's sums are
        # sums of whole quarters (whole numbers: exact in any order)
        cell = area_idx[of_measure] * Q + quarter_idx[of_measure]
        records = np.bincount(cell, minlength=A * Q).reshape(A, Q)
        offences = np.bincount(cell, weights=count[of_measure], minlength=A * Q).reshape(A, Q)
        parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        for wave in waves:
            quarters = window(m, wave)
            if not set(quarters) <= available:
                warnings.append(
                    Problem.of(
                        source_of(register.counts), None, "quarter",
                        _("%(measure)s: wave %(wave)s needs %(first)s..%(last)s, not all in "
                          "the register data; not computed"),
                        measure=m.id, wave=wave, first=quarters[0], last=quarters[-1])
                )
                continue
            in_window = np.flatnonzero(np.isin(quarters_u, quarters))
            rows = records[:, in_window].sum(axis=1)
            sums = offences[:, in_window].sum(axis=1)
            present = np.flatnonzero(rows > 0)
            # the areas with counts of their own, then the sums of leaves (Hierarchy.roll_up_rows)
            table_id = hierarchy.table_id(wave)
            if table_id not in row_cache:
                row_cache[table_id] = hierarchy.rows_of(area_names, wave)
            h_rows = row_cache[table_id][present]
            hit, hit_rows, hit_sums, levels = hierarchy.roll_up_rows(h_rows, sums[present], wave)
            codes = np.concatenate([area_names[present], hit])
            counts = np.concatenate([sums[present], hit_sums])
            people = people_of(codes, np.concatenate([h_rows, hit_rows]), wave)
            keep = people > 0
            if keep.any():
                parts.append((wave, codes[keep], counts[keep], people[keep], levels[keep]))
        if not parts:
            continue
        k_all = np.concatenate([p[2] for p in parts])
        n_all = np.concatenate([p[3] for p in parts])
        rate = poisson_rate(k_all, n_all, per=m.per, level=1 - spec.comparisons.alpha)
        est, lo, hi = (rate[c].to_numpy() for c in ("rate", "ci_low", "ci_high"))
        se = np.sqrt(k_all) / n_all * m.per
        start = 0
        for wave, codes, k, n, levels in parts:
            at = slice(start, start + len(codes))
            start += len(codes)
            blocks.append((codes, k, n, wave, m.id, est[at], se[at], lo[at], hi[at], "register"))
            if m.smoothing == "eb_global":
                smoothed = _smoothed(levels, k, n, m, z)
                if smoothed is not None:
                    picked, s_est, s_se, s_lo, s_hi = smoothed
                    blocks.append((codes[picked], k[picked], n[picked], wave, f"{m.id}_eb",
                                   s_est, s_se, s_lo, s_hi, "register_eb"))
    if not blocks:
        return pd.DataFrame(), warnings
    sizes = [len(b[0]) for b in blocks]

    def column(i: int) -> np.ndarray:
        return np.concatenate([b[i] for b in blocks])

    def repeated(i: int, dtype: type) -> np.ndarray:
        return np.repeat(np.array([b[i] for b in blocks], dtype=dtype), sizes)

    return pd.DataFrame({
        "area_code": column(0), "count": column(1), "population": column(2),
        "wave": repeated(3, np.int64), "measure": text_columns.repeated([b[4] for b in blocks],
                                                                        sizes),
        "estimate": column(5), "se": column(6), "ci_low": column(7), "ci_high": column(8),
        "method": text_columns.repeated([b[9] for b in blocks], sizes),
    }), warnings


def _population_lookup(population: pd.DataFrame, hierarchy: Hierarchy
                       ) -> Callable[[np.ndarray, np.ndarray, int], np.ndarray]:
    """``lookup(codes, rows, year)``: the population of each area that year (NaN: none; of
    repeated area × year rows the last, as a dict built from the rows would keep). ``rows``:
    the codes' rows in the year's ancestor table (:meth:`Hierarchy.rows_of`; -1: not an
    area, looked up by its code)."""
    area = population["area_code"].to_numpy(object)
    year = population["year"].to_numpy()
    amount = population["population"].to_numpy(np.float64)
    n_rows = len(hierarchy.level)
    by_year: dict[int, tuple[np.ndarray, dict[str, float]]] = {}

    def lookup(codes: np.ndarray, rows: np.ndarray, wave: int) -> np.ndarray:
        if wave not in by_year:
            at = np.flatnonzero(year == wave)
            where = hierarchy.rows_of(area[at], wave)
            dense = np.full(n_rows + 1, np.nan)
            dense[np.where(where >= 0, where, n_rows)] = amount[at]  # the last one wins
            dense[n_rows] = np.nan
            other = dict(zip(area[at][where < 0].tolist(), amount[at][where < 0].tolist(),
                             strict=True))
            by_year[wave] = (dense, other)
        dense, other = by_year[wave]
        out = dense[np.where(rows >= 0, rows, n_rows)]
        for i in np.flatnonzero(rows < 0).tolist():
            out[i] = other.get(codes[i], np.nan)
        return out

    return lookup


def _smoothed(levels: np.ndarray, k_all: np.ndarray, n_all: np.ndarray, m: RegisterMeasure,
              z: float) -> tuple[np.ndarray, ...] | None:
    """Global EB rates among the areas of each level (needs at least three areas): the rows
    smoothed (level by level, in level-name order), their estimate, se, ci_low and ci_high;
    ``None`` if no level has three areas."""
    known = np.flatnonzero(pd.notna(levels))
    names = sorted(set(levels[known].tolist()))
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
        return None
    estimate = np.concatenate([c[0] for c in cols])
    se = np.concatenate([c[1] for c in cols])
    return (np.concatenate(picks), estimate, se, np.maximum(estimate - z * se, 0.0),
            estimate + z * se)
