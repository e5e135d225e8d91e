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

A model-based small-area estimate (flag ``model_based``) is compared in *published* figures
only, never through the direct estimate of its small sample (:func:`model_based`):

* previous wave: the published estimate minus the previous wave's published estimate (model
  or direct), variance ``MSE_t + var_{t-1}`` (:func:`previous_wave` works on the table after
  the model-based rows have replaced the direct ones, so this holds for the row after a
  model-based one as well). The two waves' Fay–Herriot fits are separate, their sampling
  errors independent; their prediction errors share the area's persistent random effect,
  which correlates them positively, so the sum overstates the variance of the change:
  conservative;
* pooled earlier waves: the published estimate minus the plain mean of the k earlier waves'
  published estimates, variance ``MSE_t + sum_j var_j / k²`` (independence; with positively
  and about equally correlated errors the neglected covariances lower the true variance:
  ``σ²(1 + 1/k) - ρσ²(k + 1)/k``), computed only when every earlier wave is published;
* rest of the parent: from the benchmarked figures (:mod:`tryg.index.modelled`), or not at
  all where the parent could not be benchmarked.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from tryg.index import _frames
from tryg.index.hierarchy import Hierarchy
from tryg.index.spec import Spec
from tryg.index.survey import SurveyEstimates
from tryg.stats import intervals, text_columns
from tryg.stats.area_waves import Column, pooled_changes, rest_changes


def method_breaks(frame: pd.DataFrame) -> set[int]:
    """Waves whose questionnaire version differs from the previous wave's."""
    if "questionnaire" not in frame.columns:
        return set()
    # distinct (wave, version) pairs from numbers, counted (hashed and counted: no row-wise
    # text, no sort of the rows)
    wave, wave_u = pd.factorize(pd.to_numeric(frame["wave"]).to_numpy(np.int64), sort=True)
    version, version_u = pd.factorize(frame["questionnaire"].astype(str))
    pair_of_row = (np.asarray(wave, dtype=np.int64) * (len(version_u) + 1)
                   + np.asarray(version, dtype=np.int64) + 1)
    pairs = np.flatnonzero(np.bincount(pair_of_row, minlength=1))
    names = ["nan", *(str(v) for v in version_u)]  # a missing version reads "nan" (astype)
    versions: dict[int, set[str]] = {}
    for pair in pairs.tolist():
        versions.setdefault(int(wave_u[pair // (len(version_u) + 1)]), set()).add(
            names[pair % (len(version_u) + 1)])
    waves = sorted(versions)
    return {b for a, b in itertools.pairwise(waves) if versions[a] != versions[b]}


def previous_wave(rows: pd.DataFrame, alpha: float, breaks: set[int],
                  codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                  ) -> pd.DataFrame:
    """``change_prev, p_prev, sig_prev`` against the previous wave in the data.

    Rows keep their order. The "previous row of the same measure and area" is found on integer
    codes sorted by measure, area and wave (sorting Arrow-backed text, or taking every column
    of the table in that order, is slow), and the results are put back in the rows' order."""
    coded = {c: _known_codes(rows, c, codes or {}) for c in ("measure", "area_code", "wave")}
    order = _frames.sort_order([_frames.ranks(x) for x in coded.values()])
    measure, area = coded["measure"][0], coded["area_code"][0]
    m_o, a_o = measure[order], area[order]
    group = (m_o >= 0) & (a_o >= 0)
    same = np.zeros(len(rows), dtype=bool)  # the row before is of the same measure and area
    same[1:] = group[1:] & (m_o[1:] == m_o[:-1]) & (a_o[1:] == a_o[:-1])
    estimate = rows["estimate"].to_numpy(np.float64)[order]
    se_own = rows["se"].to_numpy(np.float64)[order]
    prev_est, prev_se = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    prev_est[1:] = np.where(same[1:], estimate[:-1], np.nan)
    prev_se[1:] = np.where(same[1:], se_own[:-1], np.nan)
    back = np.empty(len(rows), dtype=np.int64)  # sorted position of every row
    back[order] = np.arange(len(rows))
    change = pd.Series((estimate - prev_est)[back], index=rows.index)
    se = pd.Series(np.hypot(se_own, prev_se)[back], index=rows.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = intervals.p_value((change / se).to_numpy(np.float64), None)
    method = _known_codes(rows, "method", codes or {})
    broken = (_frames.coded_isin(coded["wave"], breaks)
              & _frames.coded_isin(method, ["direct", "composite", "model"]))
    rows = rows.copy(deep=False)
    rows["change_prev"] = change.where(~broken)
    rows["p_prev"] = pd.Series(p, index=rows.index).where(~broken & (se > 0))
    p_prev = rows["p_prev"].to_numpy(np.float64)
    # nullable booleans directly (a True / False / NaN object column costs a parse later)
    rows["sig_prev"] = pd.arrays.BooleanArray(p_prev < alpha, np.isnan(p_prev))
    return rows


def _flagged(significant: np.ndarray, se: np.ndarray) -> pd.arrays.BooleanArray:
    """A test's outcome, unknown (NA) where there is no standard error to test with."""
    return pd.arrays.BooleanArray(np.asarray(significant, dtype=bool), ~(se > 0))


#: Comparison rows as columns: the text key columns as (values, codes) (see
#: :data:`tryg.stats.area_waves.Column`), ``wave`` and the results as arrays, the tests as
#: nullable booleans. :func:`table_of` makes it a table, :func:`joined` joins it to the run's.
Rows = dict[str, Column | pd.arrays.BooleanArray]


def pooled(
    spec: Spec, est: SurveyEstimates, variables: list[str], breaks: set[int]
) -> pd.DataFrame:
    """``change_pooled, sig_pooled``: this wave against the k earlier waves pooled
    (:func:`tryg.stats.area_waves.pooled_changes`; waves across a method break are not
    pooled)."""
    return _table(pooled_rows(spec, est, variables, breaks), "change_pooled", "sig_pooled")


def pooled_rows(
    spec: Spec, est: SurveyEstimates, variables: list[str], breaks: set[int]
) -> Rows | None:
    """The rows of :func:`pooled` as columns (``None``: none)."""
    k = spec.comparisons.pooled_waves
    frame = est.frame
    waves = sorted(int(w) for w in frame["wave"].unique())
    ok_waves = [
        t for i, t in enumerate(waves)
        if k > 0 and i >= k and not any(w in breaks for w in [*waves[i - k + 1:i], t])
    ]
    if not ok_waves or not variables:
        return None
    out = pooled_changes(est, variables, k, waves, ok_waves)
    return _with_pooled_test(spec, _stacked(out)) if out else None


def _stacked(parts: list[dict[str, Column]]) -> Rows:
    """The levels' columns one after the other; text columns as (values, codes) still, the
    levels' values one after the other and the codes moved with them."""
    out: Rows = {}
    for c, first in parts[0].items():
        if isinstance(first, tuple):
            pairs = [part[c] for part in parts]
            assert all(isinstance(x, tuple) for x in pairs)
            offsets = np.cumsum([0, *(len(x[0]) for x in pairs[:-1])])
            out[c] = (np.concatenate([x[0] for x in pairs]),
                      np.concatenate([x[1] + o for x, o in zip(pairs, offsets, strict=True)]))
        else:
            out[c] = np.concatenate([part[c] for part in parts])
    return out


def table_of(rows: Rows) -> pd.DataFrame:
    """The rows as a table; text columns (values, codes) become pandas text taken from their
    values (see :mod:`tryg.stats.text_columns`)."""
    return pd.DataFrame({
        c: text_columns.taken(v[0].tolist(), v[1]) if isinstance(v, tuple)
        else pd.Series(v, copy=False) for c, v in rows.items()})


def _with_pooled_test(spec: Spec, rows: Rows) -> Rows:
    """The pooled rows with ``sig_pooled``."""
    diff = np.asarray(rows["change_pooled"], dtype=np.float64)
    se = np.asarray(rows["se_pooled"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = intervals.p_value(diff / se, None)
    return {**rows, "sig_pooled": _flagged(p < spec.comparisons.alpha, se)}


def _pooled_table(spec: Spec, parts: list[dict[str, Column]]) -> pd.DataFrame:
    """The levels' rows of :func:`pooled` as one table, built once (as concatenating a table
    per level gives), with ``sig_pooled``."""
    return table_of(_with_pooled_test(spec, _stacked(parts)))


def parent_rest(
    spec: Spec, est: SurveyEstimates, hierarchy: Hierarchy, variables: list[str]
) -> pd.DataFrame:
    """``diff_parent_rest, sig_parent_rest``: each area against the rest of its parent, for
    every level, wave and variable (:func:`tryg.stats.area_waves.rest_changes`: exact, all
    areas at once)."""
    return _table(parent_rest_rows(spec, est, hierarchy, variables), "diff_parent_rest",
                  "sig_parent_rest")


def _table(rows: Rows | None, *columns: str) -> pd.DataFrame:
    """:func:`table_of` ``rows``, or an empty table with the key and ``columns``."""
    if rows is None:
        return pd.DataFrame(columns=["area_code", "wave", "measure", *columns])
    return table_of(rows)


def parent_rest_rows(
    spec: Spec, est: SurveyEstimates, hierarchy: Hierarchy, variables: list[str]
) -> Rows | None:
    """The rows of :func:`parent_rest` as columns (``None``: none)."""
    out: list[dict[str, Column]] = []
    for level, col in est.level_columns.items():
        parent = hierarchy.parent_level(level)
        if parent is None or est.frame[col].isna().all():
            continue
        res = rest_changes(est, variables, col, est.level_columns[parent],
                           1 - spec.comparisons.alpha)
        # the rows compare_with_rest_many would give, from the domains' keys
        keep, V = res.keep, len(res.names)
        D = len(res.keys)
        area_of = res.keys[col].astype(str).to_numpy(object)
        wave_of = res.keys["wave"].astype(np.int64).to_numpy()
        out.append({
            "area_code": (area_of, np.tile(np.arange(D), V)[keep]),
            "wave": np.tile(wave_of, V)[keep],
            "measure": (np.array(res.names, dtype=object), np.repeat(np.arange(V), D)[keep]),
            "diff_parent_rest": res.columns["difference"][keep],
            "se_parent_rest": res.columns["se"][keep], "df": res.columns["df"][keep],
        })
    if not out:
        return None
    rows = _stacked(out)
    se = np.asarray(rows["se_parent_rest"], dtype=np.float64)
    diff = np.asarray(rows["diff_parent_rest"], dtype=np.float64)
    # p < alpha exactly when |t| exceeds the t quantile of its degrees of freedom (one
    # quantile per distinct df instead of a t tail probability per estimate)
    with np.errstate(divide="ignore", invalid="ignore"):
        beyond = np.abs(diff / se) > intervals.quantile(
            1 - spec.comparisons.alpha, np.asarray(rows.pop("df"), dtype=np.float64))
    return {**rows, "sig_parent_rest": _flagged(beyond, se)}


def joined(table: pd.DataFrame, rows: Rows, key: list[str],
           codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None) -> pd.DataFrame:
    """:func:`tryg.index._frames.left_join` of the comparison ``rows`` (one per key) to
    ``table``: the rows' other columns added (missing where no row has the key), ``table``'s
    rows in their order. ``codes``: ``table``'s key columns as
    :func:`tryg.index._frames.factorize` gives them, if numbered already.

    The keys are matched as numbers: each key column's distinct values of ``rows`` are
    looked up among ``table``'s once (its text is never built or hashed row by row)."""
    codes = codes or {}
    t_number = np.zeros(len(table), dtype=np.int64)
    r_number = np.zeros(_length(rows), dtype=np.int64)
    size = 1  # how many key numbers there can be
    for c in key:
        t_codes, uniques = _known_codes(table, c, codes)
        col = rows[c]
        values, r_codes = col if isinstance(col, tuple) else _distinct(np.asarray(col))
        at, count = _among(np.asarray(values, dtype=object), uniques)
        # a missing value is a value of its own (0), as in _frames.left_join
        t_number = t_number * (count + 1) + t_codes + 1
        r_number = r_number * (count + 1) + at[r_codes] + 1
        size *= count + 1
    at_row = _frames.positions(r_number, t_number, size, "the joined part")
    added = {c: _taken(v, at_row) for c, v in rows.items() if c not in key}
    return table.reset_index(drop=True).assign(**added)


def _length(rows: Rows) -> int:
    """How many rows there are."""
    first = next(iter(rows.values()))
    return len(first[1]) if isinstance(first, tuple) else len(first)


def _distinct(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A column as its distinct values and a code per row."""
    codes, uniques = pd.factorize(values)
    return np.asarray(uniques, dtype=object), np.asarray(codes, dtype=np.int64)


def _among(values: np.ndarray, uniques: np.ndarray) -> tuple[np.ndarray, int]:
    """Each of ``values``' number among ``uniques`` (values not among them numbered after
    them, equal values alike) and how many numbers there are."""
    at = np.asarray(pd.Index(uniques, dtype=object).get_indexer(
        pd.Index(values, dtype=object)), dtype=np.int64)
    unseen = at < 0
    new, _ = pd.factorize(values[unseen])
    at[unseen] = len(uniques) + np.asarray(new, dtype=np.int64)
    return at, len(uniques) + (int(new.max()) + 1 if unseen.any() else 0)


def _taken(values: Column | pd.arrays.BooleanArray, at: np.ndarray
           ) -> np.ndarray | pd.api.extensions.ExtensionArray | pd.Series:
    """``values[at]``, missing where ``at`` is -1: what reindexing a table by the positions
    ``at`` gives (floats NaN, nullable booleans NA)."""
    if isinstance(values, pd.arrays.BooleanArray):
        taken: pd.arrays.BooleanArray = values.take(at, allow_fill=True)
        return taken
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        out: np.ndarray = values[np.maximum(at, 0)]
        out[at < 0] = np.nan
        return out
    column = table_of({"c": values})["c"] if isinstance(values, tuple) else pd.Series(values)
    reindexed: pd.Series = column.reindex(at).reset_index(drop=True)
    return reindexed


def model_based(spec: Spec, table: pd.DataFrame, breaks: set[int],
                codes: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
                ) -> pd.DataFrame:
    """The pooled and rest-of-parent comparisons of the model-based rows (flag
    ``model_based``) in published figures (module docstring), replacing the design-based
    ones, which were computed from the small sample's direct estimate. Tests are normal
    (z) tests at the spec's alpha. Other rows are left as they are. ``codes``: the table's
    ``area_code`` and ``measure`` as :func:`tryg.index._frames.factorize` gives them, if
    numbered already.

    Text columns are read as codes of their few distinct values (each value tested once),
    not row by row."""
    if table.empty or "flags" not in table:
        return table
    flags = _known_codes(table, "flags", codes or {})
    model = _frames.coded_isin(flags, [f for f in flags[1].tolist() if _MODEL_FLAG in str(f)])
    if not model.any():
        return table
    alpha = spec.comparisons.alpha
    z = float(intervals.quantile(1 - alpha, None))  # two-sided normal critical value
    table = table.copy(deep=False)
    rows = np.flatnonzero(model)
    if spec.comparisons.parent_rest:
        diff = (table["rest_diff"].to_numpy(np.float64)[rows] if "rest_diff" in table
                else np.full(len(rows), np.nan))
        se = (table["rest_se"].to_numpy(np.float64)[rows] if "rest_se" in table
              else np.full(len(rows), np.nan))
        _put(table, "diff_parent_rest", rows, diff)
        with np.errstate(invalid="ignore", divide="ignore"):
            beyond = np.abs(diff / se) > z
        _put_test(table, "sig_parent_rest", rows, beyond, np.isfinite(diff) & (se > 0))
    k = spec.comparisons.pooled_waves
    if k > 0:
        change, se_c = _pooled_published(spec, table, rows, model, breaks, k, codes or {})
        _put(table, "change_pooled", rows, change)
        with np.errstate(invalid="ignore", divide="ignore"):
            beyond = np.abs(change / se_c) > z
        _put_test(table, "sig_pooled", rows, beyond, np.isfinite(change) & (se_c > 0))
    return table


#: The flag of a model-based (small-area) row.
_MODEL_FLAG = "model_based"


def _put(table: pd.DataFrame, col: str, rows: np.ndarray, values: np.ndarray) -> None:
    out = (table[col].to_numpy(np.float64, na_value=np.nan).copy() if col in table
           else np.full(len(table), np.nan))
    out[rows] = values
    table[col] = out


def _put_test(table: pd.DataFrame, col: str, rows: np.ndarray, significant: np.ndarray,
              known: np.ndarray) -> None:
    """A nullable-boolean test column with ``rows`` set (NA where not ``known``)."""
    if col in table:
        old = table[col].astype("boolean").array  # as it is when nullable boolean already
        values = old.to_numpy(dtype=bool, na_value=False).copy()
        missing = np.asarray(old.isna(), dtype=bool).copy()
    else:
        values = np.zeros(len(table), dtype=bool)
        missing = np.ones(len(table), dtype=bool)
    values[rows] = np.asarray(significant, dtype=bool)
    missing[rows] = ~np.asarray(known, dtype=bool)
    table[col] = pd.arrays.BooleanArray(values, missing)


def _pooled_published(spec: Spec, table: pd.DataFrame, rows: np.ndarray, model: np.ndarray,
                      breaks: set[int], k: int,
                      codes: dict[str, tuple[np.ndarray, np.ndarray]]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """For the model-based ``rows``: the published estimate minus the mean of the k earlier
    waves' published estimates, and its standard error (NaN where an earlier wave is
    missing or not published, or a method break lies in the window; as :func:`pooled`).

    The published estimates of the model-based rows' (area, measure) cells are put in a
    cell × wave grid, whose cumulative sums along the waves give every window's sum."""
    min_n = spec.publication.min_n
    survey_like = _frames.coded_isin(_known_codes(table, "method", codes),
                                     ["direct", "model", "synthetic"])
    # the waves as codes: each distinct wave looked up once, not sorted or searched per row
    w_code, w_uniq = _known_codes(table, "wave", codes)
    w_value = np.asarray(w_uniq, dtype=np.float64)
    in_waves = survey_like & (w_code >= 0)
    in_waves[in_waves] = np.isfinite(w_value)[w_code[in_waves]]
    present = np.bincount(w_code[in_waves], minlength=len(w_uniq)) > 0
    waves = sorted(int(w) for w in np.unique(w_value[present]))
    estimate = table["estimate"].to_numpy(np.float64)
    se = table["se"].to_numpy(np.float64)
    change = np.full(len(rows), np.nan)
    out_se = np.full(len(rows), np.nan)
    if not len(rows) or not waves:
        return change, out_se
    # every (area, measure) as one number (a missing value a value of its own), the
    # model-based rows' cells numbered 0, 1, ... and every row's cell among them (-1: none)
    a_code, a_uniq = _known_codes(table, "area_code", codes)
    m_code, m_uniq = _known_codes(table, "measure", codes)
    number = (a_code + 1) * (len(m_uniq) + 1) + (m_code + 1)
    cells = np.unique(number[rows])
    cell = _frames.positions(cells, number, (len(a_uniq) + 1) * (len(m_uniq) + 1), "cells")
    W = len(waves)
    wave_pos = np.searchsorted(np.asarray(waves, dtype=np.float64), w_value)

    def position(at: np.ndarray) -> np.ndarray:
        """The wave's position among ``waves`` of the rows ``at`` (-1: none)."""
        return np.where(in_waves[at], wave_pos[w_code[at]], -1)

    # the rows of those cells only (the model-based rows among them)
    mine = np.flatnonzero(cell >= 0)
    e_mine, se_mine = estimate[mine], se[mine]
    n = pd.to_numeric(table["n"], errors="coerce").to_numpy(np.float64)[mine]
    with np.errstate(invalid="ignore"):
        published = np.isfinite(e_mine) & np.isfinite(se_mine) & (model[mine] | (n >= min_n))
    pos = position(mine)
    filled = (pos >= 0) & published
    f_cell, f_pos = cell[mine][filled], pos[filled]
    ok = np.zeros((len(cells), W), dtype=np.int64)
    est = np.zeros((len(cells), W))
    var = np.zeros((len(cells), W))
    ok[f_cell, f_pos] = 1
    est[f_cell, f_pos] = e_mine[filled]
    var[f_cell, f_pos] = se_mine[filled] ** 2

    def cumulative(x: np.ndarray) -> np.ndarray:
        return np.concatenate([np.zeros((len(cells), 1), dtype=x.dtype),
                               np.cumsum(x, axis=1)], axis=1)

    c_ok, c_est, c_var = cumulative(ok), cumulative(est), cumulative(var)
    # a wave's window is usable when k earlier waves exist and no break lies in it
    usable = np.array([p >= k and not any(w in breaks for w in [*waves[p - k + 1:p], waves[p]])
                       for p in range(W)], dtype=bool)
    p = position(rows)
    r_ok = (p >= 0) & usable[np.maximum(p, 0)]
    rr = np.flatnonzero(r_ok)
    c, pp = cell[rows[rr]], p[rr]
    full = (c_ok[c, pp] - c_ok[c, pp - k]) == k
    rr, c, pp = rr[full], c[full], pp[full]
    i = rows[rr]
    change[rr] = estimate[i] - (c_est[c, pp] - c_est[c, pp - k]) / k
    out_se[rr] = np.sqrt(se[i] ** 2 + (c_var[c, pp] - c_var[c, pp - k]) / k**2)
    return change, out_se


def _known_codes(table: pd.DataFrame, col: str,
                 codes: dict[str, tuple[np.ndarray, np.ndarray]]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A text column's codes (-1: missing) and distinct values: ``codes[col]`` if given for
    these rows, else numbered here."""
    known = codes.get(col)
    if known is not None and len(known[0]) == len(table):
        return np.asarray(known[0], dtype=np.int64), np.asarray(known[1], dtype=object)
    return _frames.factorize(table[col])
