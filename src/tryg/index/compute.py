"""``run(spec, inputs) -> results``: the whole index, reproducibly, without a database.

The order of work: validate every input against the specification (all problems at once,
nothing computed on bad data) → register rates → survey estimates (one stacked, calibrated
design) → sub-indices and composite → comparisons → small-area estimates → gap measure →
publication rules → one tidy table with the spec's id and hash on every row. The same inputs
and spec give the same table, row for row (sorted, no clocks, no randomness).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tryg.index import comparisons, disclosure, indices, modelled, publication
from tryg.index import register as register_part
from tryg.index import survey as survey_part
from tryg.index.hierarchy import Hierarchy, build_hierarchy
from tryg.index.inputs import (
    POPULATION_COLUMNS,
    Areas,
    InputError,
    PopulationInput,
    Problem,
    RegisterInput,
    SurveyInput,
    require_columns,
)
from tryg.index.population import check_population, totals
from tryg.index.respondents import check_survey
from tryg.index.results import RESULT_COLUMNS, RESULT_DTYPES, conform
from tryg.index.spec import Spec

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class IndexResult:
    """The results table (internal: nothing suppressed away) and the run's warnings."""

    table: pd.DataFrame
    warnings: tuple[Problem, ...]
    spec: Spec


def run(
    spec: Spec,
    *,
    survey: SurveyInput | None = None,
    register: RegisterInput | None = None,
    population: PopulationInput,
    areas: Areas,
    progress: Progress | None = None,
) -> IndexResult:
    """Compute every measure the specification defines, for every area and wave."""
    say = progress or (lambda _msg, _frac: None)
    say("checking inputs", 0.0)
    hier, problems = build_hierarchy(areas)
    problems += require_columns(population.table, POPULATION_COLUMNS, "the population table")
    if hier is None or problems:
        raise InputError(problems)
    # fractions allowed: Statistics Denmark's yearly figures are averages of quarters
    problems += check_population(population, whole=False)
    codes = set(hier.level)
    if survey is not None:
        problems += check_survey(spec, survey, codes)
    if register is not None and spec.register:
        problems += register_part.check_register(spec, register, codes)
    if problems:
        raise InputError(problems)
    warnings: list[Problem] = []
    pop_totals = totals(population, hier)

    if survey is not None:
        waves = sorted(int(w) for w in pd.to_numeric(survey.responses["wave"]).unique())
    elif register is not None:
        years = sorted(int(y) for y in pop_totals["year"].unique())
        waves = register_part.covered_waves(spec, register, years)
    else:
        raise InputError([Problem("", None, None, "give survey answers, register data or both")])

    reg_rows = pd.DataFrame()
    if register is not None and spec.register:
        say("register measures", 0.1)
        reg_rows, w = register_part.register_rates(spec, register, pop_totals, hier, waves)
        warnings += w
        if not reg_rows.empty:
            reg_rows["level"] = reg_rows["area_code"].map(hier.level)

    sv_rows = pd.DataFrame()
    est = None
    if survey is not None:
        say("survey estimates", 0.2)
        est, problems = survey_part.estimate(spec, survey, population, hier, say)
        if problems or est is None:
            raise InputError(problems)
        sv_rows = est.table

    say("sub-indices and composite", 0.6)
    top = _top_area(hier)
    sub_rows, used = indices.subindex_rows(spec, sv_rows, reg_rows, top)
    comp_rows = pd.DataFrame()
    if not sv_rows.empty:
        part = sv_rows[sv_rows["variable"] == "_composite_survey"]
        comp_rows = indices.composite_rows(spec, sub_rows, part, used)

    measure_rows = _measure_rows(spec, sv_rows)
    say("small-area estimates", 0.7)
    finest = hier.levels[-1]
    sa_rows, w = modelled.small_area_rows(spec, sv_rows, reg_rows, finest, hier, pop_totals)
    warnings += w
    gap_rows = modelled.gap_rows(spec, sv_rows, reg_rows)

    # only the columns the steps below read: every later take, join and sort copies each
    # column (the levels and names are looked up again at the end)
    parts = [t for t in (measure_rows, reg_rows, sub_rows, comp_rows, gap_rows) if not t.empty]
    table = pd.concat([t[[c for c in t.columns if c in _WORK_COLUMNS]] for t in parts],
                      ignore_index=True)
    # the key columns numbered once: the steps below add columns, never rows (the model-based
    # rows that replace direct ones are numbered among them)
    keys: Codes | None = {c: _factorize(table[c]) for c in _KEY}
    if not sa_rows.empty and keys is not None:
        table, keys = _replace_small_areas(table, sa_rows, keys)
    if keys is None:
        keys = {c: _factorize(table[c]) for c in _KEY}

    say("comparisons", 0.8)
    breaks = comparisons.method_breaks(est.frame) if est is not None else set()
    table = comparisons.previous_wave(table, spec.comparisons.alpha, breaks, keys)
    table = _add_design_comparisons(spec, table, est, hier, breaks, used, keys)
    table = comparisons.model_based(spec, table, breaks, keys)
    say("publication rules", 0.95)
    table = _finish(spec, table, hier, breaks, keys)
    say("disclosure control", 0.97)
    table = disclosure.protect(table, spec, hier)
    say("done", 1.0)
    return IndexResult(table, tuple(warnings), spec)


#: The columns of the work table: the results' own (but the text looked up at the end) and
#: what ``n`` (``count``) and the small-area rows (``df``; their comparison with the rest of
#: the parent, ``rest_diff`` and ``rest_se``) need.
_WORK_COLUMNS = frozenset(RESULT_COLUMNS) - {"level", "area_name", "band", "spec_id",
                                             "spec_hash", "suppressed"} | {
    "count", "df", "rest_diff", "rest_se"}


def _top_area(hier: Hierarchy) -> str | None:
    top = [c for c, lv in hier.level.items() if lv == hier.levels[0]]
    return top[0] if len(top) == 1 else None


def _measure_rows(spec: Spec, sv: pd.DataFrame) -> pd.DataFrame:
    if sv.empty:
        return sv
    ids = [m.id for m in spec.measures]
    rows = sv[sv["variable"].isin(ids)].rename(columns={"variable": "measure"}).copy()
    rows["method"] = "direct"
    rows["flags"] = ""
    return rows


#: The key of the work table's rows.
_KEY = ("area_code", "wave", "measure")

Codes = dict[str, tuple[np.ndarray, np.ndarray]]


def _replace_small_areas(table: pd.DataFrame, sa: pd.DataFrame, codes: Codes
                         ) -> tuple[pd.DataFrame, Codes | None]:
    """Model-based rows take the place of the direct ones for small areas (their level is
    looked up at the end, as everyone's). ``codes``: the table's key columns numbered
    (:func:`_factorize`); returned for the new table (``None`` if not kept)."""
    key = list(_KEY)
    # the keys as numbers over both tables (a hashed look-up instead of a multi-key merge)
    part = {c: _part_codes(sa[c], codes[c]) for c in key}
    t_key, s_key = _combined(codes, part, key)
    at = _positions(t_key, s_key)
    if at is None:  # not expected: keep the merge's meaning for repeated keys
        direct = table.set_index(key)
        keep = ~direct.index.isin(sa.set_index(key).index)
        merged = sa.merge(table[[*key, "n_eff", "df"]], on=key, how="left")
        return pd.concat([direct[keep].reset_index(), merged], ignore_index=True), None
    keep = np.ones(len(t_key), dtype=bool)
    keep[at[at >= 0]] = False
    merged = sa.assign(**{c: np.where(at >= 0, table[c].to_numpy(np.float64)[at], np.nan)
                          for c in ("n_eff", "df")})
    kept = table.loc[keep, [*key, *(c for c in table.columns if c not in key)]]
    out: pd.DataFrame = pd.concat([kept.reset_index(drop=True), merged], ignore_index=True)
    return out, {c: (np.concatenate([codes[c][0][keep], part[c][0]]), part[c][1])
                 for c in key}


def _add_design_comparisons(
    spec: Spec,
    table: pd.DataFrame,
    est: survey_part.SurveyEstimates | None,
    hier: Hierarchy,
    breaks: set[int],
    used: dict[str, indices.Affine],
    codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> pd.DataFrame:
    if est is None:
        return table
    variables = [m.id for m in spec.measures] + [
        s.id for s in spec.subindices if s.source == "items"
    ]
    key = ["area_code", "wave", "measure"]
    parts = []
    if spec.comparisons.pooled_waves > 0:
        parts.append(comparisons.pooled(spec, est, variables, breaks))
    if spec.comparisons.parent_rest:
        parts.append(comparisons.parent_rest(spec, est, hier, variables))
    for part in parts:
        if part.empty:
            continue
        # sub-index differences on the index scale: × b of the sub-index's transform (one
        # factor per distinct measure; 1 for the rest, which leaves them as they are)
        measure, distinct = pd.factorize(part["measure"])
        factor = np.ones(len(distinct) + 1)  # the last: a missing measure
        for i, m in enumerate(distinct):
            if m in used:
                factor[i] = used[m].b
        scale = factor[np.asarray(measure, dtype=np.int64)]
        for c in ("change_pooled", "diff_parent_rest"):
            if c in part:
                part[c] = part[c].to_numpy(np.float64) * scale
        table = _left_join(table, part, key, codes)
    return table


def _row_keys(frames: list[pd.DataFrame], key: list[str]) -> list[np.ndarray]:
    """The key columns of several frames as one number per row (equal keys, equal numbers;
    a missing value is a value of its own, as in a merge)."""
    both = pd.concat([f[key] for f in frames], ignore_index=True)
    combined = np.zeros(len(both), dtype=np.int64)
    for c in key:
        codes, uniques = pd.factorize(both[c])
        combined = combined * (len(uniques) + 1) + (np.asarray(codes, dtype=np.int64) + 1)
    bounds = np.cumsum([0, *(len(f) for f in frames)])
    return [combined[lo:hi] for lo, hi in itertools.pairwise(bounds)]


def _positions(keys: np.ndarray, targets: np.ndarray) -> np.ndarray | None:
    """The position of every target among ``keys`` (-1: absent); ``None`` if a key repeats.

    Keys numbered by :func:`_combined` lie in a range of about the table's size: there a
    look-up array does it in two passes, without building a hash table of 300,000 keys."""
    keys = np.asarray(keys, dtype=np.int64)
    targets = np.asarray(targets, dtype=np.int64)
    if len(keys) == 0:
        return np.full(len(targets), -1, dtype=np.int64)
    both = np.concatenate([keys, targets])
    size = int(both.max()) + 1
    if both.min() < 0 or size > 4 * len(both) + 1_000_000:
        index = pd.Index(keys)
        if not index.is_unique:
            return None
        return np.asarray(index.get_indexer(pd.Index(targets)), dtype=np.int64)
    if np.bincount(keys, minlength=size).max() > 1:
        return None
    where = np.full(size, -1, dtype=np.int64)
    where[keys] = np.arange(len(keys))
    out: np.ndarray = where[targets]
    return out


def _part_codes(col: pd.Series, known: tuple[np.ndarray, np.ndarray]
                ) -> tuple[np.ndarray, np.ndarray]:
    """A column numbered as a table's column numbered ``known`` (codes, distinct values):
    its values looked up among the table's, those the table lacks numbered after them
    (-1: missing). Also the distinct values of both, in that numbering."""
    t_uniques = known[1]
    p_codes, p_uniques = pd.factorize(col)
    p_values = np.asarray(p_uniques, dtype=object)
    at = pd.Index(t_uniques, dtype=object).get_indexer(pd.Index(p_values, dtype=object))
    absent = at < 0
    at[absent] = len(t_uniques) + np.arange(int(absent.sum()))
    p_codes = np.asarray(p_codes, dtype=np.int64)
    return (np.append(at, -1)[p_codes],  # missing (-1): the last entry
            np.concatenate([np.asarray(t_uniques, dtype=object), p_values[absent]]))


def _combined(codes: Codes, part: Codes, key: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One number per row of the table (``codes``) and of the part (``part``: numbered by
    :func:`_part_codes`) for the key columns: equal keys, equal numbers."""
    t_comb = np.zeros(len(codes[key[0]][0]), dtype=np.int64)
    p_comb = np.zeros(len(part[key[0]][0]), dtype=np.int64)
    for c in key:
        base = len(part[c][1]) + 1
        t_comb = t_comb * base + (codes[c][0] + 1)
        p_comb = p_comb * base + (part[c][0] + 1)
    return t_comb, p_comb


def _part_keys(part: pd.DataFrame, key: list[str], codes: Codes
               ) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_row_keys` of ``[table, part]`` where the table's key columns are numbered
    already (``codes``: codes and distinct values per column): only the part's columns are
    numbered, their distinct values looked up among the table's (equal keys, equal numbers;
    missing a value of its own; values the table lacks get numbers of their own)."""
    return _combined(codes, {c: _part_codes(part[c], codes[c]) for c in key}, key)


def _left_join(table: pd.DataFrame, part: pd.DataFrame, key: list[str],
               codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.DataFrame:
    """``table.merge(part, on=key, how="left")`` for a ``part`` with one row per key, by a
    hashed look-up of numbered keys (a multi-column merge on text costs far more).
    ``codes``: the table's key columns numbered already (:func:`_factorize`)."""
    if codes is not None and all(c in codes for c in key):
        t_key, p_key = _part_keys(part, key, codes)
    else:
        t_key, p_key = _row_keys([table, part], key)
    at = _positions(p_key, t_key)
    if at is None:
        return table.merge(part, on=key, how="left")
    added = {c: pd.api.extensions.take(part[c].array, at, allow_fill=True)
             for c in part.columns if c not in key}
    return table.reset_index(drop=True).assign(**added)


def _finish(spec: Spec, table: pd.DataFrame, hier: Hierarchy, breaks: set[int],
            codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.DataFrame:
    """Names, levels, ``n``, publication flags, bands and the spec's id; sorted and conformed.

    Works on numpy arrays and integer codes of the (few distinct) text values, sorting once
    with ``np.lexsort`` and building the frame once: column by column on pandas' Arrow-backed
    strings, mapping, sorting and assigning cost most of the run's bookkeeping.
    """
    codes = codes or {}
    area, area_u = codes.get("area_code") or _factorize(table["area_code"])
    level_pos = _lookup(area, [hier.levels.index(hier.level[a]) if a in hier.level else np.nan
                               for a in area_u], dtype=np.float64)
    method, method_u = _factorize(table["method"])
    measure, measure_u = codes.get("measure") or _factorize(table["measure"])
    wave = table["wave"]
    measure_order = {m: i for i, m in enumerate(_measure_ids(spec))}
    mo = _lookup(measure, [measure_order.get(m, len(measure_order)) for m in measure_u],
                 dtype=np.float64)
    # sort keys, last = primary; text by the rank of its sorted distinct values, missing last
    order = np.lexsort((
        _ranks(measure, measure_u), mo, wave.to_numpy(np.float64, na_value=np.nan),
        _ranks(area, area_u), level_pos,
    ))
    # everything below in the final order: codes are sorted (cheap), text looked up after
    text = {"area_code", "area_name", "level", "measure", "method", "band", "spec_id",
            "spec_hash"}  # built from the codes below
    # the row's own flags as codes (sorted with the rest: cheaper than taking the text)
    own_flags = _factorize(table["flags"]) if "flags" in table else None
    used = [c for c in table.columns
            if c in ("n", "count", "estimate", "wave")
            or (c in RESULT_COLUMNS and c not in text and c != "flags")]
    table = table[used].take(order).reset_index(drop=True)
    area, method, measure = area[order], method[order], measure[order]
    wave = table["wave"]
    n = pd.to_numeric(table["n"], errors="coerce") if "n" in table else pd.Series(
        np.nan, index=table.index)
    if "count" in table:
        n = n.where(~_isin(method, method_u, publication.REGISTER_METHODS), table["count"])
    n_arr = n.to_numpy(np.float64)
    suppressed, uncertain, small = publication.survey_rules(
        spec.publication, _isin(method, method_u, publication.SURVEY_METHODS),
        _isin(method, method_u, publication.REGISTER_METHODS), n_arr)
    broken = wave.isin(breaks).to_numpy() & _isin(method, method_u, publication.BREAK_METHODS)
    if own_flags is None:
        own_flags = (np.full(len(table), -1, dtype=np.int64), np.zeros(0, dtype=object))
    flags = publication.row_flags((own_flags[0][order], own_flags[1]), uncertain, small, broken)
    measures = _lookup(measure, list(measure_u))
    estimate = table["estimate"].to_numpy(np.float64)
    computed: dict[str, np.ndarray] = {
        "area_code": _lookup(area, list(area_u)),
        "area_name": _lookup(area, [hier.names.get(a) for a in area_u]),
        "level": _lookup(area, [hier.level.get(a) for a in area_u]),
        "measure": measures, "method": _lookup(method, list(method_u)), "n": n_arr,
        "suppressed": suppressed, "flags": flags,
        "band": publication.bands(spec, measures, estimate),
        "spec_id": _constant(spec.id, len(table)),
        "spec_hash": _constant(spec.hash, len(table)),
    }
    index = pd.RangeIndex(len(table))
    cols: dict[str, pd.Series] = {}
    for c in RESULT_COLUMNS:
        if c in computed:
            v = computed[c]
            # our own new arrays: no copy (a copy of an object column costs ~3 ms)
            cols[c] = pd.Series(v, index=index, dtype=object if v.dtype == object else None,
                                copy=False)
        elif c in table:
            cols[c] = table[c]
        else:
            cols[c] = pd.Series(np.nan, index=index)
    return conform(pd.DataFrame(cols, index=index, copy=False), ready=[c for c in computed
                                                                if RESULT_DTYPES[c] == "object"])


def _constant(value: str, n: int) -> np.ndarray:
    """``n`` times ``value`` as an object array (``np.full`` takes a slow path for objects)."""
    return np.repeat(np.array([value], dtype=object), n)


def _factorize(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes (-1: missing) and distinct values of a column; fast on Arrow-backed strings."""
    codes, uniques = pd.factorize(col)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniques, dtype=object)


def _lookup(codes: np.ndarray, values: list[object], dtype: type = object) -> np.ndarray:
    """``values[code]`` per row; missing (code -1) where the code is -1."""
    missing = np.nan if dtype is np.float64 else None
    return np.take(np.asarray([*values, missing], dtype=dtype), codes)


def _isin(codes: np.ndarray, uniques: np.ndarray, wanted: tuple[str, ...]) -> np.ndarray:
    """Rows whose value is one of ``wanted`` (never a missing one)."""
    return np.take(np.append(np.isin(uniques, list(wanted)), False), codes)


def _ranks(codes: np.ndarray, uniques: np.ndarray) -> np.ndarray:
    """The rank of each row's value among the sorted distinct values; missing after all."""
    rank = np.empty(len(uniques) + 1, dtype=np.int64)
    rank[np.argsort(uniques.astype(str), kind="stable")] = np.arange(len(uniques))
    rank[-1] = len(uniques)
    return np.take(rank, codes)


def _measure_ids(spec: Spec) -> list[str]:
    ids = [m.id for m in spec.measures]
    for m in spec.register:
        ids += [m.id, f"{m.id}_eb"]
    ids += [s.id for s in spec.subindices]
    if spec.composite is not None and spec.composite.transform != "none":
        ids.append(spec.composite.id)
    return [*ids, "gap"]
