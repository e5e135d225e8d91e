"""Model-based additions: small-area estimates and the felt-versus-recorded gap.

Fay–Herriot (area level): for each wave and the finest level, direct shares are combined with
register covariates; areas whose sample is below ``small_area.below_n`` get the EBLUP (flagged
``model_based``), areas without sample but with covariates the synthetic estimate.
The model's sampling variances are not the areas' direct variance estimates, which with a few
dozen answers are noisy and small exactly where the estimate is near 0 or 1 (0 where all answers
are alike): they are smoothed, ``p (1 - p) · deff / n_eff`` with ``p`` the model's own share
and ``deff`` the design effect beyond ``n_eff`` pooled over the level's areas
(:func:`tryg.stats.small_area.smoothed_share_variances` and ``pooled_design_effect``). Areas
without an effective sample size are out of sample.

Benchmarking: the model-based estimates of the areas of one parent (the finest level's parent
level, that wave) are moved so that the population-weighted mean of *all* its children's
published estimates — the direct ones kept as they are, the model-based ones benchmarked —
equals the parent's direct estimate (:func:`tryg.stats.small_area.benchmark`: the
discrepancy shared out in proportion to each EBLUP's MSE, within [0, 1]; the MSE grows by the
squared move). The weights are the areas' population totals of the wave's year
(:func:`tryg.index.population.totals`). A parent is benchmarked only when every child with
residents has a published estimate (model-based, or direct from at least ``min_n`` answers),
every child has a population, and the parent's own estimate is published (from at least
``min_n`` answers): otherwise the benchmark would give a hidden figure back, or could not be
stated; such parents keep the plain EBLUPs and the run says so.

For a benchmarked model-based area the rows also carry its difference from the rest of its
parent *in published figures*: the rest is the population-weighted mean of the other
children's published estimates, which the benchmark makes ``(P - s b) / (1 - s)`` (``P`` the
parent's estimate, ``b`` the area's, ``s`` its population share), so the difference is
``(b - P) / (1 - s)``. Its variance is taken as ``(MSE_b + se_P²) / (1 - s)²``, i.e. the
area's and the parent's errors treated as independent. They are not: the parent's direct
estimate holds the area's own answers (weight about ``s``) and the benchmarked estimate holds
the parent's estimate through the benchmark, and both make the covariance positive, so
leaving it out overstates the variance — a conservative test. Nothing in it is computed from
the area's own direct estimate alone.

The gap measure regresses felt insecurity on log recorded crime across the areas of a level
(weighted least squares with weights 1/se²); an area whose residual exceeds its own z-critical
band is flagged ``fear_ahead_of_crime`` (or ``fear_behind_crime``). Only the direct estimate's
uncertainty enters the band; the regression's own is ignored (it is small with many areas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from tryg.index.hierarchy import Hierarchy
from tryg.index.inputs import Problem, as_int
from tryg.index.inputs import mark as _
from tryg.index.spec import Spec
from tryg.stats import text_columns
from tryg.stats.small_area import (
    benchmark_groups,
    fay_herriot_fit,
    pooled_design_effect,
    smoothed_share_variances,
)

#: The ``method`` of a model-based row: an EBLUP, or a synthetic estimate (no sample).
_METHODS = ("model", "synthetic")


def small_area_rows(
    spec: Spec, survey: pd.DataFrame, register: pd.DataFrame, finest: str,
    hier: Hierarchy | None = None, populations: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, list[Problem]]:
    """The model-based rows of the finest level (module docstring), benchmarked to their
    parents when the hierarchy and the population totals (area_code, year, population) are
    given; with the columns ``rest_diff`` and ``rest_se`` (NaN: not benchmarked)."""
    sa = spec.small_area
    if not sa.enabled or survey.empty:
        return pd.DataFrame(), []
    warnings: list[Problem] = []
    frames = []
    z = norm.ppf(1 - spec.comparisons.alpha / 2)
    covs = [c for c in sa.covariates if c != "population"]
    names = [*covs, *(["population"] if "population" in sa.covariates else [])]
    reg = register[register["measure"].isin(covs)] if not register.empty else register
    if not reg.empty:
        reg = reg[reg["level"] == finest]
    finest_rows = survey.loc[(survey["level"] == finest)
                             & survey["variable"].isin(list(sa.measures)),
                             ["area_code", "wave", "variable", "estimate", "se", "n",
                              "n_eff"]]
    # every area code numbered once, in text order (the order of the joined tables)
    codes, areas = pd.factorize(pd.concat([finest_rows["area_code"].astype(str),
                                           reg["area_code"].astype(str) if not reg.empty
                                           else pd.Series([], dtype=object)],
                                          ignore_index=True), sort=True)
    area_names = np.asarray(areas, dtype=object)
    area_list = [str(a) for a in area_names.tolist()]
    sv_area = np.asarray(codes[:len(finest_rows)], dtype=np.int64)
    rg_area = np.asarray(codes[len(finest_rows):], dtype=np.int64)
    A = len(area_names)
    sv_wave = finest_rows["wave"].to_numpy(np.int64)
    sv_var = finest_rows["variable"].to_numpy(object)
    sv_cols = {c: pd.to_numeric(finest_rows[c], errors="coerce").to_numpy(np.float64)
               for c in ("estimate", "se", "n", "n_eff")}
    covariate = _covariate_table(reg, rg_area, A, covs, names) if not reg.empty else {}
    parents: _Parents | None = None
    for measure in sa.measures:
        of_measure = sv_var == measure
        for wave in sorted(set(sv_wave[of_measure].tolist())):
            rows = np.flatnonzero(of_measure & (sv_wave == wave))
            est = np.full(A, np.nan)
            se_d = np.full(A, np.nan)
            n_d = np.full(A, np.nan)
            neff_d = np.full(A, np.nan)
            est[sv_area[rows]] = sv_cols["estimate"][rows]
            se_d[sv_area[rows]] = sv_cols["se"][rows]
            n_d[sv_area[rows]] = sv_cols["n"][rows]
            neff_d[sv_area[rows]] = sv_cols["n_eff"][rows]
            X_all = covariate.get(as_int(wave))
            if X_all is None:  # no register rows this wave: no covariates, every sampled area
                at = np.unique(sv_area[rows])
                X = np.zeros((len(at), 0))
            else:  # the areas with every covariate (the outer join, then its filter)
                at = np.flatnonzero(np.isfinite(X_all).all(axis=1))
                X = X_all[at]
            e_at, s_at, neff_at = est[at], se_d[at], neff_d[at]
            with np.errstate(invalid="ignore"):
                fit_ok = ~np.isnan(e_at) & (neff_at > 0)
            if fit_ok.sum() < X.shape[1] + 3:
                warnings.append(
                    Problem.of(
                        "", None, None,
                        _("%(measure)s, wave %(wave)s: too few areas with a sample for the "
                          "small-area model; direct estimates kept"),
                        measure=measure, wave=as_int(wave))
                )
                continue
            try:
                # the sampling variances smoothed (module docstring), then the model
                y_fit = np.where(fit_ok, e_at, np.nan)
                deff = pooled_design_effect(y_fit, s_at**2, neff_at)
                psi = smoothed_share_variances(y_fit, np.where(fit_ok, neff_at, np.nan), X,
                                               design_effect=deff, method=sa.method)
                res = fay_herriot_fit(  # the arrays: its table would only be taken apart
                    y_fit, psi, X, method=sa.method)
            except ValueError as exc:
                warnings.append(Problem.of("", None, None,
                                           _("%(measure)s, wave %(wave)s: %(error)s"),
                                           measure=measure, wave=as_int(wave), error=str(exc)))
                continue
            n_at = n_d[at]  # a count; float only where the join left areas without one
            n = n_at.astype(np.int64) if not np.isnan(n_at).any() else np.nan_to_num(n_at)
            chosen = np.flatnonzero(n < sa.below_n)
            if not len(chosen):
                continue
            eblup = np.clip(res.eblup[chosen], 0, 1)
            mse = res.mse[chosen]
            rest_diff = np.full(len(chosen), np.nan)
            rest_se = np.full(len(chosen), np.nan)
            if hier is not None and populations is not None:
                if parents is None:
                    parents = _Parents(survey, hier, populations, finest, area_names)
                bench = _benchmarked(spec, parents, measure, as_int(wave), est, n_d,
                                     at[chosen], eblup, mse)
                eblup, mse, rest_diff, rest_se, skipped = bench
                if skipped:
                    warnings.append(Problem.of(
                        "", None, None,
                        _("%(measure)s, wave %(wave)s: model-based estimates not benchmarked in "
                          "%(count)s area(s) (%(areas)s): a child without a published estimate "
                          "or a population, the parent's own estimate not published, or a "
                          "benchmark out of the measure's range"),
                        measure=measure, wave=as_int(wave), count=len(skipped),
                        areas=", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")))
            se = np.sqrt(mse)
            frames.append({
                "area_code": _Text(area_list, at[chosen]),
                "wave": as_int(wave),
                "measure": measure,
                "estimate": eblup,
                "se": se,
                "ci_low": np.clip(eblup - z * se, 0, 1),
                "ci_high": np.clip(eblup + z * se, 0, 1),
                "n": n[chosen],
                "method": _Text(_METHODS, np.where(res.insample[chosen], 0, 1)),
                "flags": "model_based",
                "rest_diff": rest_diff,
                "rest_se": rest_se,
            })
    return _stacked(frames), warnings


class _Parents:
    """What benchmarking needs of the hierarchy, the population totals and the parents' own
    estimates, as arrays built once per run (the children and their positions once per
    ancestor table), not looked up with pandas once per measure × wave. ``area_names``: the
    run's area codes, which the direct estimates are given by."""

    def __init__(self, survey: pd.DataFrame, hier: Hierarchy, populations: pd.DataFrame,
                 finest: str, area_names: np.ndarray) -> None:
        self.hier, self.finest = hier, finest
        self.level = hier.parent_level(finest)
        self._areas = pd.Index([str(c) for c in area_names.tolist()], dtype=object)
        self._by_table: dict[int, _Kids] = {}
        self._per_code: tuple[np.ndarray, ...] | None = None
        # the population totals as a table: area code × year (NaN: none; a last row of NaN
        # for the areas without any)
        pop_area, pop_codes = pd.factorize(populations["area_code"].astype(str))
        self._pop_codes = pd.Index(pop_codes, dtype=object)
        years, year_col = np.unique(populations["year"].to_numpy(np.int64), return_inverse=True)
        self._years = {y: k for k, y in enumerate(years.tolist())}
        self._population = np.full((len(pop_codes) + 1, len(self._years) + 1), np.nan)
        self._population[pop_area, year_col] = pd.to_numeric(
            populations["population"], errors="coerce").to_numpy(np.float64)
        rows = survey.loc[survey["level"] == self.level,
                          ["wave", "variable", "area_code", "estimate", "se", "n"]]
        # the parents' rows as arrays; a parent's code numbered once
        code, codes = pd.factorize(rows["area_code"].astype(str))
        self._parent_codes = pd.Index(codes, dtype=object)
        self._code = np.asarray(code, dtype=np.int64)
        self._wave = rows["wave"].to_numpy(np.int64)
        self._variable = rows["variable"].to_numpy(object)
        self._values = np.column_stack([
            rows["estimate"].to_numpy(np.float64), rows["se"].to_numpy(np.float64),
            pd.to_numeric(rows["n"], errors="coerce").to_numpy(np.float64)])

    def children(self, wave: int) -> tuple[_Kids, np.ndarray]:
        """The wave's children (:class:`_Kids`) and their populations (NaN: none)."""
        assert self.level is not None
        codes, up_rows = self.hier.ancestor_rows(wave)
        # waves that share their links share the ancestor table, and so their children
        table = id(up_rows)
        if table not in self._by_table:
            self._by_table[table] = self._children(codes, up_rows)
        kin = self._by_table[table]
        year = self._years.get(wave, len(self._years))  # none that year: the NaN column
        return kin, self._population[kin.pop_row, year]

    def _children(self, codes: np.ndarray, up_rows: np.ndarray) -> _Kids:
        """The areas of the finest level with a parent in an ancestor table (``codes``, the
        areas by row, and ``up_rows``, their ancestors' rows), sorted by parent, then child
        (text order); the parents numbered in that order."""
        if self._per_code is None or self._per_code[0] is not codes:
            # what is looked up of every area of the hierarchy once (the same areas, by row,
            # in every ancestor table): whether it is of the finest level, its rank in text
            # order, its position among the population table's, the run's and the parents'
            # codes (-1: none)
            text = pd.Index([str(c) for c in codes.tolist()], dtype=object)
            rank = np.empty(len(codes), dtype=np.int64)
            rank[np.argsort(np.asarray(text, dtype=str), kind="stable")] = np.arange(len(codes))
            self._per_code = (codes, np.array(
                [self.hier.level.get(c) == self.finest for c in codes.tolist()], dtype=bool),
                rank, *(np.asarray(index.get_indexer(text), dtype=np.int64) for index in (
                    self._pop_codes, self._areas, self._parent_codes)))
        _, is_child, rank, pop_row, area, parent_code = self._per_code
        assert self.level is not None
        up = up_rows[:, list(self.hier.levels).index(self.level)]
        at = np.flatnonzero(is_child & (up >= 0))
        at = at[np.lexsort((rank[at], rank[up[at]]))]
        parent = up[at]
        group = np.zeros(len(parent), dtype=np.int64)
        group[1:] = np.cumsum(parent[1:] != parent[:-1])
        return _Kids(np.asarray(codes, dtype=object)[parent], group, pop_row[at], area[at],
                     parent_code[parent])

    def estimates(self, wave: int, measure: str) -> np.ndarray:
        """The parents' own estimate, se and n of ``measure`` in ``wave``: a row per parent
        code (the last if repeated), then a row of NaN (for a parent without any)."""
        out = np.full((len(self._parent_codes) + 1, 3), np.nan)
        rows = np.flatnonzero((self._wave == wave) & (self._variable == measure))
        # the last row of a parent wins: written in reverse, its first occurrence kept
        codes, first = np.unique(self._code[rows][::-1], return_index=True)
        out[codes] = self._values[rows[::-1][first]]
        return out


@dataclass(frozen=True)
class _Kids:
    """The children of the waves that share an ancestor table, sorted by parent, then child
    (text order): their parent's code and number in that order (``group``), their positions
    among the population table's area codes, the run's area codes and their parents' among
    the parents' codes (-1: none)."""

    parent: np.ndarray
    group: np.ndarray
    pop_row: np.ndarray
    area: np.ndarray
    parent_code: np.ndarray


def _benchmarked(
    spec: Spec, parents: _Parents, measure: str, wave: int,
    direct: np.ndarray, n_direct: np.ndarray, model_at: np.ndarray, eblup: np.ndarray,
    mse: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
    """The model-based estimates of one measure × wave benchmarked parent by parent (module
    docstring): estimates, MSEs, the difference from the rest of the parent in published
    figures and its standard error (NaN where not benchmarked), and the parents skipped.
    ``direct`` and ``n_direct`` are given per area code of the run, ``model_at`` are the
    positions of the model-based areas among those codes.

    Who belongs to which parent, which parents can be benchmarked, and the benchmarks
    themselves (:func:`tryg.stats.small_area.benchmark_groups`) are worked out for all
    children at once (arrays, sorted by parent and child), not parent by parent."""
    out_e, out_m = eblup.copy(), mse.copy()
    rest_diff = np.full(len(eblup), np.nan)
    rest_se = np.full(len(eblup), np.nan)
    if parents.level is None or len(eblup) == 0:
        return out_e, out_m, rest_diff, rest_se, []
    min_n = spec.publication.min_n
    kin, n_k = parents.children(wave)
    j = kin.area
    if not len(j):
        return out_e, out_m, rest_diff, rest_se, []
    model_of = np.full(len(direct) + 1, -1, dtype=np.int64)  # the last: not an area code
    model_of[model_at] = np.arange(len(model_at))
    i = model_of[j]
    safe_j = np.maximum(j, 0)
    with np.errstate(invalid="ignore"):
        shown = (j >= 0) & np.isfinite(direct[safe_j]) & (n_direct[safe_j] >= min_n)
        has_pop = np.isfinite(n_k) & (n_k > 0)
    unpublished = (i < 0) & ~shown
    empty = unpublished & np.isfinite(n_k) & (n_k == 0)  # no residents: not in the mean
    bad = ~empty & (unpublished | ~has_pop)
    p_est, p_se, p_n = parents.estimates(wave, measure)[kin.parent_code].T
    with np.errstate(invalid="ignore"):
        parent_ok = (p_n >= min_n) & np.isfinite(p_est)
    group = kin.group  # sorted: the parents' rows are contiguous
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    modelled = np.add.reduceat((i >= 0).astype(np.int64), starts) > 0
    ok = np.logical_and.reduceat(parent_ok & ~bad, starts)
    est_all = np.where(i >= 0, out_e[np.maximum(i, 0)], direct[safe_j])
    var_all = np.where(i >= 0, out_m[np.maximum(i, 0)], 0.0)
    # every parent that can be benchmarked at once; its children with residents take part
    tried = modelled & ok
    member = np.flatnonzero(tried[group] & ~empty)
    g = np.cumsum(tried) - 1  # the tried parents numbered 0, 1, ...
    rows, free, w = i[member], i[member] >= 0, n_k[member]
    res = benchmark_groups(est_all[member], var_all[member], w, g[group[member]],
                           p_est[starts[tried]], adjust=free, lower=0.0, upper=1.0)
    met = np.array([not p for p in res.problem], dtype=bool)
    took = np.zeros(len(starts), dtype=bool)
    took[tried] = met
    skipped = [str(kin.parent[lo]) for lo in starts[modelled & ~took].tolist()]
    member_ok = met[g[group[member]]]
    rows, free, w = rows[member_ok], free[member_ok], w[member_ok]
    at = np.flatnonzero(member_ok)
    estimate, mse_b = res.estimate[at], res.mse[at]
    parent_of = g[group[member[member_ok]]]
    share = w / np.bincount(parent_of, weights=w, minlength=len(met))[parent_of]
    target = p_est[member[member_ok]]
    se_p = p_se[member[member_ok]]
    put = free & (share < 1.0)
    out_e[rows[free]], out_m[rows[free]] = estimate[free], mse_b[free]
    rest_diff[rows[put]] = (estimate[put] - target[put]) / (1.0 - share[put])
    rest_se[rows[put]] = np.sqrt(mse_b[put] + se_p[put]**2) / (1.0 - share[put])
    return out_e, out_m, rest_diff, rest_se, skipped


@dataclass(frozen=True)
class _Text:
    """A text column of a block as numbers: ``values[codes]`` (:func:`_stacked` takes the
    rows from the few distinct values instead of converting every row's string)."""

    values: Sequence[str]
    codes: np.ndarray

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, rows: np.ndarray) -> _Text:
        return _Text(self.values, self.codes[rows])


def _stacked(blocks: list[dict[str, Any]]) -> pd.DataFrame:
    """The blocks' rows as one frame (what concatenating a frame per block gives, built
    once): array columns joined, scalar ones (text, whole numbers) repeated per block, text
    columns given as :class:`_Text` taken from their values."""
    if not blocks:
        return pd.DataFrame()
    sizes = [next(len(v) for v in b.values() if isinstance(v, np.ndarray | _Text))
             for b in blocks]
    columns: dict[str, np.ndarray | pd.Series] = {}
    for c in blocks[0]:
        parts = [b[c] for b in blocks]
        if isinstance(parts[0], _Text):
            values = parts[0].values
            offsets = np.zeros(len(parts), dtype=np.int64)
            if any(p.values is not values for p in parts):  # each block's own values
                values = [v for p in parts for v in p.values]
                offsets = np.cumsum([0, *(len(p.values) for p in parts[:-1])])
            columns[c] = text_columns.taken(values, np.concatenate(
                [p.codes + k for p, k in zip(parts, offsets.tolist(), strict=True)]))
        elif isinstance(parts[0], np.ndarray):
            columns[c] = np.concatenate(parts)
        elif isinstance(parts[0], str):
            columns[c] = text_columns.repeated(parts, sizes)
        else:
            columns[c] = np.repeat(np.array(parts, dtype=np.int64), sizes)
    return pd.DataFrame(columns)


def _covariate_table(
    reg: pd.DataFrame, area: np.ndarray, A: int, covs: list[str], names: list[str]
) -> dict[int, np.ndarray]:
    """Per wave, the log covariates of every area (A × covariates; NaN: none)."""
    wave = reg["wave"].to_numpy(np.int64)
    measure = reg["measure"].to_numpy(object)
    estimate = reg["estimate"].to_numpy(np.float64)
    population = reg["population"].to_numpy(np.float64)
    out: dict[int, np.ndarray] = {}
    for w in sorted(set(wave.tolist())):
        X = np.full((A, len(names)), np.nan)
        in_wave = wave == w
        for j, c in enumerate(covs):
            rows = np.flatnonzero(in_wave & (measure == c))
            X[area[rows], j] = np.log(estimate[rows] + 0.5)
        if "population" in names:
            rows = np.flatnonzero(in_wave)[::-1]  # the first row of an area wins
            X[area[rows], names.index("population")] = np.log(population[rows])
        out[w] = X
    return out


def gap_rows(spec: Spec, survey: pd.DataFrame, register: pd.DataFrame) -> pd.DataFrame:
    gap = spec.gap
    if not gap.enabled or survey.empty or register.empty:
        return pd.DataFrame()
    measure = next(m for m in spec.measures if m.id == gap.survey_measure)
    sign = 1.0 if not measure.higher_is_safer else -1.0
    z = norm.ppf(1 - spec.comparisons.alpha / 2)
    levels = [gap.level] if gap.level else sorted(survey["level"].unique())
    # the used columns only, selected once (row selections copy every column)
    used = ["area_code", "wave", "estimate", "se", "n", "n_eff", "df"]
    s_all = survey.loc[survey["variable"] == gap.survey_measure, [*used, "level"]]
    r = register.loc[register["measure"] == gap.register_measure, ["area_code", "wave", "estimate"]]
    # (area, wave) of both tables as numbers: a hashed look-up instead of a merge per level
    area, areas = pd.factorize(pd.concat([s_all["area_code"], r["area_code"]], ignore_index=True))
    area = np.asarray(area, dtype=np.int64)
    wave_all = np.concatenate([s_all["wave"].to_numpy(np.int64), r["wave"].to_numpy(np.int64)])
    key = area * (int(wave_all.max(initial=0)) + 1) + wave_all
    s_key, r_key = key[:len(s_all)], key[len(s_all):]
    r_index = pd.Index(r_key)
    if not r_index.is_unique:
        return _gap_rows_merged(s_all, r, levels, sign, z)
    crime_all = np.where((at := r_index.get_indexer(pd.Index(s_key))) >= 0,
                         r["estimate"].to_numpy(np.float64)[np.maximum(at, 0)], np.nan)
    level_all = s_all["level"].to_numpy(object)
    cols = {c: s_all[c].to_numpy() for c in used if c != "area_code"}
    # the area codes as numbers into their distinct values (a missing code has none)
    s_area = area[:len(s_all)]
    area_col: np.ndarray | _Text = (_Text([str(a) for a in areas.tolist()], s_area)
                                    if (s_area >= 0).all() else s_all["area_code"].to_numpy())
    frames = []
    for level in levels:
        in_level = (level_all == level) & (at >= 0)
        for wave in sorted(set(cols["wave"][in_level].tolist())):
            rows = np.flatnonzero(in_level & (cols["wave"] == wave))
            se = cols["se"][rows].astype(np.float64)
            crime = crime_all[rows]
            ok = (se > 0) & (crime > 0)
            rows, se, crime = rows[ok], se[ok], crime[ok]
            if len(rows) < 5:
                continue
            frames.append(_gap_block(
                level, as_int(wave), area_col[rows],
                cols["estimate"][rows].astype(np.float64), se, crime, cols["n"][rows],
                cols["n_eff"][rows], cols["df"][rows], sign, z))
    return _stacked(frames)


#: The ``flags`` of a gap row: none, or which of felt and recorded is ahead.
_GAP_FLAGS = ("", "fear_ahead_of_crime", "fear_behind_crime")


def _gap_rows_merged(s_all: pd.DataFrame, r: pd.DataFrame, levels: list[str], sign: float,
                     z: float) -> pd.DataFrame:
    """:func:`gap_rows` by merging its tables ``s_all`` (the survey measure's rows) and ``r``
    (the register measure's), for register rows repeated for an area × wave."""
    used = ["area_code", "wave", "estimate", "se", "n", "n_eff", "df"]
    frames = []
    s_by_level = dict(iter(s_all.groupby("level", sort=False)))
    for level in levels:
        s = s_by_level.get(level, s_all.iloc[0:0])[used]
        both = s.merge(r, on=["area_code", "wave"], suffixes=("", "_crime"))
        for wave, g in both.groupby("wave", sort=True):
            g = g[(g["se"] > 0) & g["estimate_crime"].gt(0)]
            if len(g) < 5:
                continue
            frames.append(_gap_block(
                level, as_int(wave), g["area_code"].to_numpy(),
                g["estimate"].to_numpy(np.float64), g["se"].to_numpy(np.float64),
                g["estimate_crime"].to_numpy(np.float64), g["n"].to_numpy(),
                g["n_eff"].to_numpy(), g["df"].to_numpy(), sign, z))
    return _stacked(frames)


def _gap_block(level: str, wave: int, area_code: np.ndarray | _Text, estimate: np.ndarray,
               se: np.ndarray, crime: np.ndarray, n: np.ndarray, n_eff: np.ndarray,
               df: np.ndarray, sign: float, z: float) -> dict[str, Any]:
    """The gap rows of one level × wave: the felt-insecurity estimates regressed on log
    recorded crime (weighted by 1 / se²), each area's residual (oriented so that positive
    means more fear than crime predicts) with its interval and flag."""
    X = np.column_stack([np.ones(len(estimate)), np.log(crime)])
    wts = 1.0 / se**2
    beta = np.linalg.lstsq(X * np.sqrt(wts)[:, None], estimate * np.sqrt(wts), rcond=None)[0]
    resid = sign * (estimate - X @ beta)
    flags = _Text(_GAP_FLAGS, np.where(resid > z * se, 1, np.where(resid < -z * se, 2, 0)))
    return {"level": level, "area_code": area_code, "wave": wave, "measure": "gap",
            "estimate": resid, "se": se, "ci_low": resid - z * se, "ci_high": resid + z * se,
            "n": n, "n_eff": n_eff, "df": df, "method": "model", "flags": flags}

