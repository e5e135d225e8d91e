"""Many statistics over the area × wave domains of one design, the variance back-end
chosen here from the design.

An index estimates every variable for every area of every level and wave, and compares
them: with the waves pooled, with the rest of the parent area. What that needs of the
statistics engine is one thing — per-domain totals and their covariances for a set of
linear statistics (:class:`tryg.stats.domain_totals.DomainTotals`) — and each statistic is
written once over it: the means (:func:`tryg.stats.domain_means.means_table`), the area
against the rest of its parent and the wave against the earlier waves pooled (both
:func:`tryg.stats.rest_contrasts.rest_moments`). The back-end is chosen from the design
(:func:`tryg.stats.domain_totals.totals_for`). Callers (:mod:`tryg.index`) hand over a
:class:`LevelSample` and never pick an engine; the back-ends built for one sample are kept
in its :class:`DomainCache` (typed, not a dict with string keys) and shared by the
estimates and the comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd

from tryg.stats.calibration_blocks import supported
from tryg.stats.design import Design
from tryg.stats.domain_means import means_table
from tryg.stats.domain_totals import CellTotals, DomainTotals, Groups, totals_for
from tryg.stats.estimators import Domains, domains
from tryg.stats.numbering import unique_inverse
from tryg.stats.rest_contrasts import (
    RestContrasts,
    compare_with_rest_arrays,
    rest_contrasts,
    rest_moments,
    rest_table,
)
from tryg.stats.score_patterns import separates

#: A column of a level's rows: numbers, or text as its distinct values and a code per row.
Column = np.ndarray | tuple[np.ndarray, np.ndarray]


@dataclass
class DomainCache:
    """What was built for one :class:`LevelSample`: the back-ends, by the variables they
    hold (in order), and each level column's area × wave domains."""

    totals: dict[tuple[str, ...], DomainTotals] = field(default_factory=dict)
    levels: dict[str, Domains] = field(default_factory=dict)


class LevelSample(Protocol):
    """A design, its rows' variables and the area column of each level (and ``wave``)."""

    @property
    def design(self) -> Design: ...

    @property
    def frame(self) -> pd.DataFrame: ...

    @property
    def values(self) -> Mapping[str, np.ndarray]: ...

    @property
    def level_columns(self) -> Mapping[str, str]: ...

    @property
    def cache(self) -> DomainCache: ...


def level_totals(
    design: Design, frame: pd.DataFrame, cols: Mapping[str, str],
    values: Mapping[str, np.ndarray], cache: DomainCache,
    level_codes: Mapping[str, tuple[np.ndarray, np.ndarray]],
) -> DomainTotals:
    """The area × wave domains of every level (kept in ``cache``) and the back-end of
    ``values`` over them (per-cell moments, cells: stratum × area of every level × wave, when
    the design's units are its rows): every estimate of every level, and the comparisons
    later, then come from it. Kept in ``cache`` for the comparisons."""
    waves = pd.factorize(design.column("wave"), sort=True)
    for col in cols.values():
        if not frame[col].isna().all():
            cache.levels[col] = _area_wave_domains(design, col, waves, level_codes.get(col))
    totals = totals_for(design, values, [d.codes for d in cache.levels.values()])
    cache.totals[tuple(values)] = totals
    return totals


def _area_wave_domains(design: Design, col: str, waves: tuple[Any, Any],
                       numbered: tuple[np.ndarray, np.ndarray] | None = None) -> Domains:
    """``domains(design, [col, "wave"])`` from the two columns factorised (sorted, as the
    group-by sorts them; ``waves``: the wave column's, shared by the levels) and their pairs
    numbered in order: the same codes and keys without a group-by over the text column. The
    group-by itself for columns that are not text. ``numbered``: the column factorised
    already (:func:`prepare`)."""
    area = design.column(col)
    wave = design.column("wave")
    if not isinstance(area.dtype, pd.StringDtype) or not pd.api.types.is_integer_dtype(wave):
        return domains(design, [col, "wave"])
    if numbered is None or len(numbered[0]) != design.n:
        codes_, names = pd.factorize(area, sort=True)
        numbered = (np.asarray(codes_, dtype=np.int64), np.asarray(names, dtype=object))
    a_idx, a_u = numbered
    w_idx, w_u = waves
    a_idx = np.asarray(a_idx, dtype=np.int64)
    w_idx = np.asarray(w_idx, dtype=np.int64)
    W = max(len(w_u), 1)
    valid = (a_idx >= 0) & (w_idx >= 0)
    # the pairs present, in order, numbered by counting (np.unique without a sort)
    codes = np.full(design.n, -1, dtype=np.int64)
    pairs, codes[valid] = unique_inverse(a_idx[valid] * W + w_idx[valid])
    keys = pd.DataFrame({col: pd.Series(a_u.take(pairs // W), dtype=area.dtype),
                         "wave": pd.Series(np.asarray(w_u).take(pairs % W), dtype=wave.dtype)})
    keys.columns = pd.Index([col, "wave"], dtype=object)  # as a group-by's keys
    return Domains(codes, keys)


def level_means(
    totals: DomainTotals, dom: Domains, combinations: Mapping[str, Mapping[str, float]],
    level: float,
) -> pd.DataFrame:
    """:func:`tryg.stats.estimators.means` of the variables of ``totals`` in the area × wave
    domains ``dom`` of one level (:func:`level_totals`)."""
    return means_table(totals, dom, dom.keys, combinations, level)


def totals_of(est: LevelSample, variables: list[str]) -> DomainTotals:
    """The back-end of ``variables`` (built by :func:`level_totals` for the estimates, or
    here once per run), shared by the comparisons."""
    key = tuple(variables)
    if key not in est.cache.totals:
        est.cache.totals[key] = totals_with(est, {v: est.values[v] for v in variables})
    return est.cache.totals[key]


def totals_with(est: LevelSample, values: Mapping[str, np.ndarray]) -> DomainTotals:
    """A back-end of ``values`` (row-aligned with ``est``'s design, not necessarily
    ``est.values``) whose cells nest in every level's area × wave domains: on the per-cell
    engine of a back-end built before (its cells are those; only the moments of ``values``
    are new), else as :func:`~tryg.stats.domain_totals.totals_for` chooses."""
    for known in est.cache.totals.values():
        if isinstance(known, CellTotals) and known.engine.design is est.design:
            return known.with_values(values)
    keys = [d.codes for d in est.cache.levels.values()] or [
        np.asarray(pd.factorize(est.frame[c])[0], dtype=np.int64)
        for c in est.level_columns.values()]
    keys.append(np.asarray(pd.factorize(est.frame["wave"])[0], dtype=np.int64))
    return totals_for(est.design, values, keys)


def pooled_changes(
    est: LevelSample, variables: list[str], k: int, waves: list[int], ok_waves: list[int],
    totals: DomainTotals | None = None, independent: bool | None = None,
) -> list[dict[str, Column]]:
    """Each of ``ok_waves`` against the ``k`` waves before it pooled, for every area of every
    level column of ``est``, every variable: the rows (as columns, see
    :func:`_pooled_rows`: ``area_code, wave, measure, change_pooled, se_pooled``) of each
    level.

    The pooled change is the contrast of an area against the rest of its parent
    (:func:`tryg.stats.rest_contrasts.rest_moments`), the "area" being the area in wave t and
    the "parent" the area in the waves t − k … t: exact for any design, covariances between
    waves included. Windows of waves overlap, so the waves t are taken in k + 1 groups
    (t mod k + 1) whose windows do not.

    When the waves are independent samples (no stratum and no calibration superblock holds
    two waves: :func:`tryg.stats.score_patterns.separates`, the usual stacked design) the
    same contrast needs no covariance between waves: its variance is a sum over the window's
    waves of each area × wave's 2 × 2 covariance of ``(D, W)`` (:func:`_pooled_from_pairs`),
    one evaluation for all windows. ``totals``: the back-end (default: the run's, chosen from
    the design); ``independent``: whether to take the waves as independent (default: as the
    design says).
    """
    frame = est.frame
    if totals is None:
        totals = totals_of(est, variables)
    W_, T, V = len(waves), len(ok_waves), len(variables)
    position = {w: i for i, w in enumerate(waves)}
    wave_pos = np.searchsorted(np.asarray(waves), frame["wave"].to_numpy(np.int64))
    ok_pos = np.array([position[t] for t in ok_waves], dtype=np.int64)
    slot = np.full(W_, -1, dtype=np.int64)  # wave position -> column of the ok wave
    slot[ok_pos] = np.arange(T)
    if independent is None:
        independent = supported(est.design) and separates(est.design, wave_pos)
    out: list[dict[str, Column]] = []
    for col in est.level_columns.values():
        area: Domains | Groups
        if col in est.cache.levels:  # the survey estimates' domains
            area = est.cache.levels[col]
            keys = area.keys[col]
            area_u = np.sort(np.asarray(keys.unique(), dtype=object))
            area_keys = pd.DataFrame({"k0": area_u})
            a_of = pd.Index(area_u).get_indexer(keys)
            s_of = pd.Index(waves).get_indexer(pd.Index(area.keys["wave"].astype(np.int64)))
            a_of = np.where(s_of >= 0, a_of, -1)
            row_area = None  # each row's area: only needed below when waves are not independent
        else:
            values = frame[col].to_numpy(object)
            if pd.isna(values).all():
                continue
            row_area, area_keys = _codes(values)
            n_dom = len(area_keys) * W_
            area = Groups(np.where(row_area >= 0, row_area * W_ + wave_pos, -1), n_dom)
            a_of, s_of = np.arange(n_dom) // W_, np.arange(n_dom) % W_
        A = len(area_keys)
        if independent:
            out.append(_pooled_rows(area_keys, ok_waves, variables, *_pooled_from_pairs(
                totals, area, a_of, s_of, A, W_, k, ok_pos)))
            continue
        if row_area is None:
            codes = np.asarray(area.codes, dtype=np.int64)
            row_area = np.where(codes >= 0, a_of[np.maximum(codes, 0)], -1)
        diff = np.full((A, T, V), np.nan)
        se = np.full((A, T, V), np.nan)
        usable = np.zeros((A, T, V), dtype=bool)
        for g in range(k + 1):
            ends = ok_pos[ok_pos % (k + 1) == g]
            if not len(ends):
                continue
            end_of = np.full(W_, -1, dtype=np.int64)  # the window's end of every position
            for p in ends.tolist():
                end_of[p - k:p + 1] = p
            row_end = end_of[wave_pos]
            parent = Groups(np.where((row_area >= 0) & (row_end >= 0),
                                     row_area * W_ + row_end, -1), A * W_)
            own = (a_of >= 0) & (s_of >= 0)
            own[own] = end_of[s_of[own]] == s_of[own]  # the domain's wave ends a window
            up = np.where(own, a_of * W_ + s_of, -1)
            ya, yr, se_g, _df, ok = rest_moments(totals, area, parent, up)
            d = np.flatnonzero(own)
            at = (a_of[d], slot[s_of[d]])
            diff[at] = (ya - yr)[d]
            se[at] = se_g[d]
            usable[at] = ok[d]
        out.append(_pooled_rows(area_keys, ok_waves, variables, diff, se, usable))
    return out


def rest_changes(
    est: LevelSample, variables: list[str], col: str, pcol: str, level: float, *,
    values: Mapping[str, np.ndarray] | None = None, totals: DomainTotals | None = None,
    tests: bool = False,
) -> RestContrasts:
    """Every area of level column ``col`` against the rest of its parent (level column
    ``pcol``) in every wave, for ``variables``
    (:func:`tryg.stats.rest_contrasts.compare_with_rest_arrays`, by default without the
    tests, on the run's back-end and the survey estimates' domains). ``values``: the
    variables' row-aligned arrays when they are not ``est.values``' (then ``totals``, their
    back-end from :func:`totals_with`, serves every level asked about; built here if not
    given).

    When the survey estimates' domains of both levels are known and nest (each area × wave
    in one parent × wave, which holds no rows outside them), the contrasts are taken on those
    domains themselves (:func:`_nested_levels`), which the back-end knows already, and put
    in the order of ``compare_with_rest_arrays``' domains; otherwise through it."""
    levels = est.cache.levels
    if values is None:
        values = est.values
        totals = totals if totals is not None else totals_of(est, variables)
    elif totals is None:
        totals = totals_with(est, {v: values[v] for v in variables})
    if col in levels and pcol in levels:
        nested = _nested_levels(levels[col], levels[pcol], col, pcol)
        if nested is not None:
            order, up, keys = nested
            parts = rest_moments(totals, levels[col], levels[pcol], up)
            return rest_contrasts(keys, list(variables), tuple(x[order] for x in parts),
                                  level, tests=tests)
    return compare_with_rest_arrays(
        est.design, {v: values[v] for v in variables}, area=col, parent=pcol, by="wave",
        level=level, totals=totals,
        known_domains=_with_parent(levels[col], est.frame, col, pcol, levels.get(pcol))
        if col in levels else None, tests=tests,
    )


def levels_against_rest(
    est: LevelSample, values: Mapping[str, np.ndarray], pairs: Sequence[tuple[str, str]],
    level: float,
) -> list[pd.DataFrame]:
    """For each level column and its parent's (``pairs``), every area against the rest of its
    parent in every wave, for row-aligned ``values`` other than the survey estimates' (NaN:
    outside a variable's base): :func:`tryg.stats.compare_with_rest_many`'s table (keys
    ``wave``, parent column, level column) with the answers to each variable in the area ×
    wave (``n``) and in its parent × wave (``n_parent``). One back-end of ``values`` serves
    every pair (:func:`totals_with`: the survey estimates' cells), and the contrasts are taken
    on the survey estimates' domains (:func:`rest_changes`)."""
    if not pairs:
        return []
    totals = totals_with(est, values)
    names = list(values)
    answered = [~np.isnan(np.asarray(values[v], dtype=np.float64)) for v in names]
    counted: dict[str, tuple[pd.MultiIndex, np.ndarray]] = {}

    def answers(col: str) -> tuple[pd.MultiIndex, np.ndarray]:
        if col not in counted:
            dom = _area_waves(est, col)
            counted[col] = (pd.MultiIndex.from_frame(dom.keys), _answer_counts(dom, answered))
        return counted[col]

    out = []
    for col, pcol in pairs:
        contrasts = rest_changes(est, names, col, pcol, level, values=values, totals=totals,
                                 tests=True)
        res = rest_table(contrasts, ["wave", pcol, col])
        # each row's variable and domain (of the contrasts' keys): the table holds the kept
        # entries of the variables × domains, variable-major
        var, key = np.divmod(np.flatnonzero(contrasts.keep), len(contrasts.keys))
        keys = contrasts.keys
        res["n"] = _answers(*answers(col), keys[col], keys["wave"], key, var)
        res["n_parent"] = _answers(*answers(pcol), keys[pcol], keys["wave"], key, var)
        out.append(res)
    return out


def _area_waves(est: LevelSample, col: str) -> Domains:
    """The area × wave domains (keys ``[col, "wave"]``) of level column ``col``: the survey
    estimates' when they have them."""
    known = est.cache.levels.get(col)
    return known if known is not None else domains(est.design, [col, "wave"])


def _answer_counts(dom: Domains, answered: list[np.ndarray]) -> np.ndarray:
    """The answered rows (``answered``: per variable, which rows have an answer) of each
    domain of ``dom`` (domains × variables, as floats): the back-end's ``sums(dom).n``,
    counted directly."""
    codes = np.asarray(dom.codes, dtype=np.int64)
    inside = codes >= 0
    D = len(dom.keys)
    out = np.zeros((D, len(answered)))
    for j, valid in enumerate(answered):
        out[:, j] = np.bincount(codes[inside & valid], minlength=D)
    return out


def _answers(domains: pd.MultiIndex, counts: np.ndarray, areas: pd.Series, waves: pd.Series,
             key: np.ndarray, var: np.ndarray) -> np.ndarray:
    """The answers (``counts``: :func:`_answer_counts` of the area × wave ``domains``) to
    variable ``var`` of each row, whose domain is ``key`` among the (``areas``, ``waves``)
    pairs: the pairs are looked up once each, not once per row."""
    at = domains.get_indexer(pd.MultiIndex.from_arrays([areas, waves]))[key]
    return np.where(at >= 0, counts[np.maximum(at, 0), var], np.nan)


def _nested_levels(dom: Domains, parent_dom: Domains, col: str, pcol: str
                   ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame] | None:
    """For the area × wave domains ``dom`` of level column ``col`` and those of its parent
    level ``parent_dom`` (column ``pcol``): the domains with a parent in the order
    :func:`_with_parent` numbers them (by wave, parent, area), each domain's parent domain
    (-1: none) and the ordered domains' keys ``[wave, pcol, col]``. ``None`` unless every
    area × wave lies in one parent × wave and every row of a parent × wave in an area × wave
    (then the parent domains are exactly the parents of :func:`compare_with_rest_arrays`)."""
    codes = np.asarray(dom.codes, dtype=np.int64)
    p_codes = np.asarray(parent_dom.codes, dtype=np.int64)
    rows = np.flatnonzero(codes >= 0)
    first = np.full(len(dom.keys), -1, dtype=np.int64)
    first[codes[rows[::-1]]] = rows[::-1]
    up = p_codes[first]
    if (not np.array_equal(p_codes[rows], up[codes[rows]])
            or np.any((p_codes >= 0) & (codes < 0))):
        return None
    keep = np.flatnonzero(up >= 0)
    parents = parent_dom.keys[pcol].take(up[keep]).reset_index(drop=True)
    wave = dom.keys["wave"].to_numpy()[keep]
    p_rank = pd.factorize(parents, sort=True)[0]
    a_rank = pd.factorize(dom.keys[col].iloc[keep], sort=True)[0]
    at = np.lexsort((a_rank, p_rank, wave))
    order = keep[at]
    keys = pd.DataFrame({
        "wave": dom.keys["wave"].to_numpy()[order],
        pcol: parents.take(at).reset_index(drop=True),
        col: dom.keys[col].iloc[order].reset_index(drop=True),
    })
    keys.columns = pd.Index(["wave", pcol, col], dtype=object)  # as a group-by's keys
    return order, up, keys


def _with_parent(dom: Domains, frame: pd.DataFrame, col: str, pcol: str,
                 parent_dom: Domains | None = None) -> Domains | None:
    """The domains ``[wave, pcol, col]`` as :func:`tryg.stats.estimators.domains` numbers
    them, from the survey estimates' domains ``[col, wave]`` (the same rows: an area has one
    parent in a wave), without another group-by over the respondents' text columns.
    ``None`` if an area × wave has respondents with different parents. ``parent_dom``: the
    domains ``[pcol, wave]`` if known (then their codes tell the parents apart: rows of one
    area × wave domain share the wave, so equal codes mean equal parents)."""
    D = len(dom.keys)
    rows = np.flatnonzero(dom.codes >= 0)
    first = np.full(D, -1, dtype=np.int64)
    first[dom.codes[rows[::-1]]] = rows[::-1]
    parent_col = frame[pcol]
    parents = parent_col.take(first).reset_index(drop=True)
    if parent_dom is not None:
        p_codes = np.asarray(parent_dom.codes, dtype=np.int64)
    else:
        p_codes = np.asarray(pd.factorize(parent_col)[0], dtype=np.int64)
    if not np.array_equal(p_codes[rows], p_codes[first[dom.codes[rows]]]):
        return None
    keep = np.flatnonzero(parents.notna().to_numpy())  # a missing parent: in no domain
    wave = dom.keys["wave"].to_numpy()[keep]
    p_rank = pd.factorize(parents.iloc[keep], sort=True)[0]
    a_rank = pd.factorize(dom.keys[col].iloc[keep], sort=True)[0]
    order = keep[np.lexsort((a_rank, p_rank, wave))]
    number = np.full(D + 1, -1, dtype=np.int64)
    number[order] = np.arange(len(order))
    codes = number[dom.codes]  # -1 stays -1 (the last entry)
    keys = pd.DataFrame({
        "wave": dom.keys["wave"].to_numpy()[order],
        pcol: parents.iloc[order].reset_index(drop=True),
        col: dom.keys[col].iloc[order].reset_index(drop=True),
    })
    keys.columns = pd.Index(["wave", pcol, col], dtype=object)  # as a group-by's keys
    return Domains(codes, keys)


def _pooled_from_pairs(
    totals: DomainTotals, area: Domains | Groups, a_of: np.ndarray, s_of: np.ndarray, A: int,
    W_: int, k: int, pos: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pooled changes of :func:`pooled_changes` (A × T × V: change, standard error,
    usable) for independent waves: the variance of ``Σ w (y − c)`` over an area × wave
    domain is ``Var D + 2 δ Cov(D, W) + δ² Var W`` with ``D = Σ w (y − ȳ)``, ``W = Σ w`` and
    ``δ = ȳ − c``, so one 2 × 2 covariance per area × wave serves the current wave and every
    pooled window that holds it."""
    mean_d, W_d = totals.totals(area)
    at = np.where((a_of >= 0) & (s_of >= 0), a_of * W_ + s_of, -1)
    ok = at >= 0
    V = mean_d.shape[1]
    grid = [np.zeros((A * W_, V)) for _ in range(5)]
    grid[0][:] = np.nan
    for g, x in zip(grid, (mean_d, W_d, *totals.pair(area)), strict=True):
        g[at[ok]] = x[ok]
    Wc, cur = grid[1].reshape(A, W_, V), grid[0].reshape(A, W_, V)
    # pooled means as offsets from the current wave's: a change is exactly 0 when the
    # pooled waves' means equal the current one
    ref = np.nan_to_num(cur, nan=0.0)
    Wp, off = np.zeros_like(Wc), np.zeros_like(Wc)
    for j in range(1, k + 1):
        Wp[:, j:] += Wc[:, :-j]
        off[:, j:] += np.where(Wc[:, :-j] != 0, Wc[:, :-j] * (cur[:, :-j] - ref[:, j:]), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pool = ref + off / Wp
    vdd, vdw, vww = (x.reshape(A, W_, V) for x in grid[2:])
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.maximum(vdd[:, pos], 0.0) / Wc[:, pos] ** 2
        for j in range(1, k + 1):
            delta = np.nan_to_num(cur[:, pos - j] - pool[:, pos], nan=0.0, posinf=0.0,
                                  neginf=0.0)
            part = vdd[:, pos - j] + 2.0 * delta * vdw[:, pos - j] + delta**2 * vww[:, pos - j]
            var = var + np.maximum(part, 0.0) / Wp[:, pos] ** 2
        diff = -off[:, pos] / Wp[:, pos]
    usable = (Wp[:, pos] > 0) & (Wc[:, pos] > 0)  # A × T × V
    return diff, np.sqrt(var), usable


def _pooled_rows(area_keys: pd.DataFrame, ok_waves: list[int], variables: list[str],
                 diff_all: np.ndarray, se_all: np.ndarray, usable: np.ndarray
                 ) -> dict[str, Column]:
    """The pooled comparisons' rows from area × wave × variable arrays (``usable`` marks the
    comparisons that have weight on both sides), in variable, wave, area order; as columns,
    joined into one table by :func:`_pooled_table`."""
    names = area_keys["k0"].astype(str).to_numpy()
    v_i, t_i, a_i = np.nonzero(usable.transpose(2, 1, 0))
    return {
        "area_code": (names, a_i),
        "wave": np.asarray(ok_waves, dtype=np.int64)[t_i],
        "measure": (np.asarray(variables, dtype=object), v_i),
        "change_pooled": diff_all[a_i, t_i, v_i],
        "se_pooled": se_all[a_i, t_i, v_i],
    }


def _codes(*columns: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Number the distinct combinations of row-aligned key arrays (-1 where any is missing)."""
    if len(columns) == 1:  # the usual case, without a groupby
        codes, uniques = pd.factorize(columns[0], sort=True)
        return (np.asarray(codes, dtype=np.int64),
                pd.DataFrame({"k0": pd.Series(np.asarray(uniques), dtype=object)}))
    frame = pd.DataFrame({f"k{i}": c for i, c in enumerate(columns)})
    grouped = frame.groupby(list(frame.columns), sort=True, dropna=True)
    codes = np.asarray(grouped.ngroup().fillna(-1), dtype=np.int64)
    return codes, grouped.size().reset_index()[list(frame.columns)]


