"""Survey measures per area × wave at every level of the hierarchy.

All waves go into one design whose strata are wave × sampling stratum, so that waves stay
independent samples while every estimate is computed in one vectorised pass. Each wave is
raked to its own population margins (wave × calibration area × sex, wave × calibration area ×
age group), and every measure and item sub-index is estimated for every area of every level
with :func:`tryg.stats.estimators.means`, so the index layer costs little more than the
headline share itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from tryg import stats
from tryg.index.hierarchy import Hierarchy
from tryg.index.indices import composite_combination
from tryg.index.inputs import PopulationInput, Problem, SurveyInput, as_int, source_of
from tryg.index.inputs import mark as _
from tryg.index.population import margins
from tryg.index.respondents import measure_values, subindex_scores
from tryg.index.spec import Spec
from tryg.stats import intervals
from tryg.stats.area_waves import DomainCache, level_means, level_totals
from tryg.stats.numbering import unique_inverse

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class SurveyEstimates:
    """Estimates (long: level, area_code, wave, variable, …), and what produced them."""

    table: pd.DataFrame
    design: stats.Design
    values: dict[str, np.ndarray]
    level_columns: dict[str, str]
    frame: pd.DataFrame
    cache: DomainCache = field(default_factory=DomainCache, compare=False, repr=False)


def level_column(level: str) -> str:
    return f"_area_{level}"


#: Per level column: every respondent's area at that level as a number (-1: none) and the
#: areas so numbered, in text order (as ``pd.factorize(column, sort=True)`` gives them).
LevelCodes = dict[str, tuple[np.ndarray, np.ndarray]]


def prepare(
    spec: Spec, survey: SurveyInput, hierarchy: Hierarchy
) -> tuple[pd.DataFrame, dict[str, str], LevelCodes]:
    """The responses with one column per level: the respondent's area at that level; and
    those columns as numbers (:data:`LevelCodes`), so that no later step has to number
    300,000 texts again."""
    frame = survey.responses.copy(deep=False)  # copy-on-write: new columns stay ours
    frame["area_code"] = frame["area_code"].astype(str)
    frame["wave"] = pd.to_numeric(frame["wave"]).astype(np.int64)
    cols = {lv: level_column(lv) for lv in hierarchy.levels}
    # numbers instead of text: each distinct area code looked up once per ancestor table
    # (waves mostly share one), every row's ancestors taken from there
    area, area_u = pd.factorize(frame["area_code"])
    wave_u, wave_idx = unique_inverse(frame["wave"].to_numpy(np.int64))
    tables: dict[int, int] = {}
    parts: list[pd.DataFrame] = []
    table_of_wave = np.empty(len(wave_u), dtype=np.int64)
    for i, w in enumerate(wave_u.tolist()):
        anc = hierarchy.ancestors(as_int(w))
        if id(anc) not in tables:
            tables[id(anc)] = len(parts)
            parts.append(anc.reindex(area_u).reset_index(drop=True))
        table_of_wave[i] = tables[id(anc)]
    looked = pd.concat(parts, ignore_index=True)
    at = table_of_wave[wave_idx] * len(area_u) + np.asarray(area, dtype=np.int64)
    used = np.bincount(at, minlength=len(looked)) > 0  # the looked-up rows respondents have
    codes: LevelCodes = {}
    for lv, col in cols.items():
        if lv in looked.columns:
            column = looked[lv]
            frame[col] = pd.Series(column.array.take(at), index=frame.index, name=col)
            numbers, names = _used_codes(column, used)
            codes[col] = (numbers[at], names)
        else:
            frame[col] = np.nan
    stratum = frame["stratum"].astype(str) if "stratum" in frame else frame["area_code"]
    s_codes, s_u = pd.factorize(stratum)
    pair, pair_idx = unique_inverse(wave_idx * len(s_u) + np.asarray(s_codes, dtype=np.int64))
    labels = pd.Series(wave_u[pair // len(s_u)].astype(str)) + "|" + pd.Series(
        np.asarray(s_u, dtype=object)[pair % len(s_u)]).astype(str)
    frame["_stratum"] = _categories(labels.to_numpy(dtype=object), pair_idx, frame.index)
    return frame, cols, codes


def _categories(labels: np.ndarray, idx: np.ndarray, index: pd.Index) -> pd.Series:
    """``labels[idx]`` as a categorical column (the distinct ``labels`` in text order): the
    design numbers it from its codes (``pd.factorize(sort=True)`` numbers categories in their
    order) instead of hashing 300,000 texts again. Text as before if two labels are equal (a
    category is one value)."""
    if not pd.Index(labels, dtype=object).is_unique:
        text = pd.Series(pd.array(labels, dtype="str"))
        return text.take(np.asarray(idx, dtype=np.int64)).set_axis(index)
    order = np.argsort(labels.astype(str), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    values = pd.Categorical.from_codes(np.where(idx >= 0, rank[np.maximum(idx, 0)], -1),
                                       categories=pd.Index(labels[order], dtype="str"))
    return pd.Series(values, index=index)


def _used_codes(column: pd.Series, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The short ``column`` numbered among the values of its ``used`` rows (sorted; -1:
    missing, or a value no used row has), and those values: taken at the respondents' rows,
    ``pd.factorize(column.take(at), sort=True)`` without numbering 300,000 taken rows."""
    small, names = pd.factorize(column, sort=True)
    small = np.asarray(small, dtype=np.int64)
    occurs = np.zeros(len(names) + 1, dtype=bool)  # the last entry: missing (-1)
    occurs[small[used]] = True
    occurs[-1] = False
    rank = np.append(np.cumsum(occurs[:-1]) - 1, -1)
    numbers = np.where(occurs[small], rank[small], -1)
    return numbers, np.asarray(names, dtype=object)[occurs[:-1]]


def build_design(
    spec: Spec, frame: pd.DataFrame, population: PopulationInput, hierarchy: Hierarchy,
    level_codes: LevelCodes | None = None,
) -> tuple[stats.Design, list[Problem]]:
    """The stacked design, raked to each wave's margins when the spec asks for calibration.

    ``level_codes``: the level columns as :func:`prepare` numbers them (the calibration areas
    are then taken from them, not numbered again)."""
    design = stats.Design(
        frame,
        weights="weight",
        strata="_stratum",
        psu="psu" if "psu" in frame.columns else None,
        lonely_psu="adjust",
    )
    cal = spec.calibration
    if not cal.level:
        return design, []
    src = source_of(frame)
    col = level_column(cal.level)
    if col not in frame.columns or frame[col].isna().any():
        bad = frame.index[frame[col].isna()] if col in frame else frame.index
        return design, [
            Problem.of(
                src, int(bad[0]), "area_code",
                _("the respondent's area lies in no area of level %(level)s, which the "
                  "specification calibrates to"), level=repr(cal.level))
        ]
    missing = [v for v in cal.variables if v not in frame.columns]
    if missing:
        return design, [
            Problem.of(src, None, v, _("calibration needs this column in the survey"))
            for v in missing
        ]
    numbered = (level_codes or {}).get(col)
    codes_by_wave = _areas_by_wave(frame, col, numbered)
    figures, problems = margins(population, hierarchy, cal.level, codes_by_wave, cal.variables)
    if problems:
        return design, problems
    if numbered is not None and (numbered[0] >= 0).all():
        frame["_cal_area"] = _categories(numbered[1], numbered[0], frame.index)
    else:
        frame["_cal_area"] = frame[col].astype(str)
    renamed: dict[str | tuple[str, ...], pd.Series] = {
        tuple("_cal_area" if k == "cal_area" else k for k in key): series
        for key, series in figures.items()
    }
    try:
        if cal.variables:
            return stats.rake(design, renamed), []
        ((key, series),) = renamed.items()
        return stats.poststratify(design, list(key), series), []
    except stats.CalibrationError as exc:
        return design, [Problem.of(src, None, None, _("calibration failed: %(error)s"),
                                   error=str(exc))]


def _areas_by_wave(
    frame: pd.DataFrame, col: str, numbered: tuple[np.ndarray, np.ndarray] | None,
) -> dict[int, list[str]]:
    """Per wave, the sorted areas of ``col`` that its respondents have (``col`` has no
    missing value). From the column as :func:`prepare` numbered it, when given: the distinct
    (wave, area) pairs by counting, instead of a group-by over 300,000 texts."""
    if numbered is None or len(numbered[0]) != len(frame) or (numbered[0] < 0).any():
        return {as_int(w): sorted(g[col].astype(str).unique())
                for w, g in frame.groupby("wave", sort=True)}
    area, names = numbered
    wave_u, wave_idx = unique_inverse(frame["wave"].to_numpy(np.int64))
    pairs, _ = unique_inverse(wave_idx * len(names) + np.asarray(area, dtype=np.int64))
    of_wave = pairs // len(names)  # ascending: the pairs are sorted
    bounds = np.searchsorted(of_wave, np.arange(len(wave_u) + 1))
    return {as_int(w): sorted(str(names[j]) for j in (pairs[lo:hi] % len(names)).tolist())
            for w, lo, hi in zip(wave_u.tolist(), bounds[:-1], bounds[1:], strict=True)}


def estimate(
    spec: Spec,
    survey: SurveyInput,
    population: PopulationInput,
    hierarchy: Hierarchy,
    progress: Progress | None = None,
) -> tuple[SurveyEstimates | None, list[Problem]]:
    frame, cols, level_codes = prepare(spec, survey, hierarchy)
    design, problems = build_design(spec, frame, population, hierarchy, level_codes)
    if problems:
        return None, problems
    values = {**measure_values(spec, frame), **subindex_scores(spec, frame)}
    combos = composite_combination(spec, _bases(spec, design, frame, values, hierarchy))
    shares = {m.id for m in spec.measures if m.kind == "share"}
    alpha = spec.comparisons.alpha
    cache = DomainCache()
    totals = level_totals(design, frame, cols, values, cache, level_codes)
    frames = []
    for i, (level, col) in enumerate(cols.items()):
        if progress:
            progress(f"survey estimates, level {level}", i / max(len(cols), 1))
        if frame[col].isna().all():
            continue
        res = level_means(totals, cache.levels[col],
                          {"_composite_survey": combos} if combos else {}, 1 - alpha)
        res = res.rename(columns={col: "area_code"})
        res.insert(0, "level", level)
        is_share = res["variable"].isin(shares).to_numpy()
        if is_share.any():  # on the columns' arrays: a row selection of the table takes
            se = res["se"].to_numpy()[is_share]  # every column, its text ones too
            lo, hi = intervals.share(res["estimate"].to_numpy()[is_share], se**2,
                                     res["n"].to_numpy(float)[is_share],
                                     res["df"].to_numpy()[is_share], 1 - alpha)
            for name, bound in (("ci_low", lo), ("ci_high", hi)):
                column = res[name].to_numpy(dtype=np.float64, copy=True)
                column[is_share] = bound
                res[name] = column
        frames.append(res)
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return SurveyEstimates(table, design, values, cols, frame, cache), []


def _bases(
    spec: Spec,
    design: stats.Design,
    frame: pd.DataFrame,
    values: dict[str, np.ndarray],
    hierarchy: Hierarchy,
) -> dict[str, float | None]:
    """Base-year values of item sub-indices: the top area's weighted mean in the base wave
    (the first wave when the base wave is absent), as the index transform needs them before
    the composite's coefficients are known."""
    top_level = hierarchy.levels[0]
    tops = [c for c, lv in hierarchy.level.items() if lv == top_level]
    out: dict[str, float | None] = {}
    waves = sorted(as_int(w) for w in frame["wave"].unique())
    w = np.asarray(design.weights)
    for sub in spec.subindices:
        if sub.source != "items" or sub.transform != "base_year":
            continue
        wave = sub.base_wave if sub.base_wave in waves else waves[0]
        rows = (frame["wave"] == wave).to_numpy() & ~np.isnan(values[sub.id])
        if len(tops) == 1:
            rows &= (frame[level_column(top_level)] == tops[0]).to_numpy()
        out[sub.id] = (
            float(np.average(values[sub.id][rows], weights=w[rows])) if rows.any() else None
        )
    return out

