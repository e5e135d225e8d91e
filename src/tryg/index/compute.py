"""``run(spec, inputs) -> results``: the whole index, reproducibly, without a database.

The order of work: validate every input against the specification (all problems at once,
nothing computed on bad data) → register rates → survey estimates (one stacked, calibrated
design) → sub-indices and composite → comparisons → small-area estimates → gap measure →
publication rules → one tidy table with the spec's id and hash on every row. The same inputs
and spec give the same table, row for row (sorted, no clocks, no randomness).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tryg.index import _frames, comparisons, disclosure, indices, modelled, publication
from tryg.index import drivers as drivers_part
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
from tryg.index.inputs import mark as _
from tryg.index.population import check_population, totals
from tryg.index.respondents import check_survey
from tryg.index.results import RESULT_COLUMNS, RESULT_DTYPES, conform
from tryg.index.spec import Spec, result_measure_ids
from tryg.stats import text_columns

Progress = Callable[[str, float], None]


@dataclass(frozen=True)
class IndexResult:
    """The results table (internal: nothing suppressed away) and the run's warnings."""

    table: pd.DataFrame
    warnings: tuple[Problem, ...]
    spec: Spec
    #: the drivers of insecurity, when the spec has a ``[drivers]`` table (and survey answers)
    drivers: drivers_part.IndexDrivers | None = None


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
    problems += require_columns(population.table, POPULATION_COLUMNS,
                                _("the population table needs a column %(column)s"))
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
        raise InputError([Problem.of("", None, None,
                                     _("give survey answers, register data or both"))])

    reg_rows = pd.DataFrame()
    if register is not None and spec.register:
        say("register measures", 0.1)
        reg_rows, w = register_part.register_rates(spec, register, pop_totals, hier, waves)
        warnings += w
        if not reg_rows.empty:
            reg_rows = reg_rows.assign(level=_levels(reg_rows["area_code"], hier))

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
    parts = [t[[c for c in t.columns if c in _WORK_COLUMNS]]
             for t in (measure_rows, reg_rows, sub_rows, comp_rows, gap_rows) if not t.empty]
    # the key columns numbered once: the steps below add columns, never rows
    if sa_rows.empty:
        table, keys = _frames.concat(parts, _KEY)
    else:  # model-based rows take the place of the direct ones
        table, keys = _frames.replace_rows(parts, sa_rows, _KEY, ("n_eff", "df"))
    # the text columns the comparisons and the publication rules read, numbered once (the
    # steps below add columns, never change these)
    keys.update({c: _frames.factorize(table[c]) for c in ("method", "flags") if c in table})

    say("comparisons", 0.8)
    breaks = comparisons.method_breaks(est.frame) if est is not None else set()
    table = comparisons.previous_wave(table, spec.comparisons.alpha, breaks, keys)
    table = _add_design_comparisons(spec, table, est, hier, breaks, used, keys)
    table = comparisons.model_based(spec, table, breaks, keys)
    say("publication rules", 0.95)
    table, coded = _finish(spec, table, hier, breaks, keys)
    say("disclosure control", 0.97)
    table = disclosure.protect(table, spec, hier, codes=coded)
    found = None
    if est is not None:
        found, w = _drivers(spec, est, hier, say)
        warnings += w
    say("done", 1.0)
    return IndexResult(table, tuple(warnings), spec, found)


def _drivers(spec: Spec, est: survey_part.SurveyEstimates, hier: Hierarchy, say: Progress
             ) -> tuple[drivers_part.IndexDrivers | None, list[Problem]]:
    """The drivers of insecurity (:mod:`tryg.index.drivers`) when the spec asks for them."""
    config = drivers_part.drivers_config(spec)
    if config is None:
        return None, []
    absent = [c for c in config.background if c not in est.frame.columns]
    if absent:
        return None, [Problem.of("survey", None, c, _("the drivers' model needs this "
                                                      "background column; no drivers were "
                                                      "computed")) for c in absent]
    say("drivers of insecurity", 0.98)
    found = drivers_part.index_drivers(spec, config, est, hier.parent_level)
    return found, [Problem.of("spec", None, "drivers.levels",
                              _("the areas have no level %(level)s; no drivers were modelled "
                                "for it"), level=repr(lv))
                   for lv in found.missing_levels]


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
    """The survey estimates of the spec's measures as work-table rows (method ``direct``).

    Only the columns the work table keeps are taken (a take of a text column costs as much
    as of all the number columns), and no copy is made: the frame is new already."""
    if sv.empty:
        return sv
    ids = [m.id for m in spec.measures]
    at = np.flatnonzero(sv["variable"].isin(ids).to_numpy(dtype=bool))
    kept = [c for c in sv.columns if c in _WORK_COLUMNS or c == "variable"]
    rows = sv[kept].take(at).reset_index(drop=True).rename(columns={"variable": "measure"})
    return rows.assign(method=text_columns.repeated(["direct"], [len(rows)]),
                       flags=text_columns.repeated([""], [len(rows)]))


def _levels(area_code: pd.Series, hier: Hierarchy) -> pd.Series:
    """The level of each row's area (missing: not an area of the hierarchy), as text. Each
    distinct code is looked up once (``Series.map`` looks up every row's)."""
    codes, names = _frames.factorize(area_code)
    levels = [hier.level.get(a) for a in names.tolist()] + [None]  # the last: code -1
    out = text_columns.taken(levels, np.where(codes >= 0, codes, len(names)))
    out.index = area_code.index
    return out


#: The key of the work table's rows.
_KEY = ("area_code", "wave", "measure")

Codes = dict[str, _frames.Coded]


def _add_design_comparisons(
    spec: Spec,
    table: pd.DataFrame,
    est: survey_part.SurveyEstimates | None,
    hier: Hierarchy,
    breaks: set[int],
    used: dict[str, indices.Affine],
    keys: Codes,
) -> pd.DataFrame:
    if est is None:
        return table
    variables = [m.id for m in spec.measures] + [
        s.id for s in spec.subindices if s.source == "items"
    ]
    key = ["area_code", "wave", "measure"]
    parts: list[comparisons.Rows | None] = []
    if spec.comparisons.pooled_waves > 0:
        parts.append(comparisons.pooled_rows(spec, est, variables, breaks))
    if spec.comparisons.parent_rest:
        parts.append(comparisons.parent_rest_rows(spec, est, hier, variables))
    for part in parts:
        if part is None or not len(part["wave"]):
            continue
        # sub-index differences on the index scale: × b of the sub-index's transform (one
        # factor per measure name; 1 for the rest, which leaves them as they are)
        assert isinstance(part["measure"], tuple)
        names, measure = part["measure"]
        factor = np.array([used[m].b if m in used else 1.0 for m in names.tolist()])
        for c in ("change_pooled", "diff_parent_rest"):
            if c in part:
                part[c] = np.asarray(part[c], dtype=np.float64) * factor[measure]
        table = comparisons.joined(table, part, key, keys)  # rows unchanged: keys stay
    return table


def _finish(spec: Spec, table: pd.DataFrame, hier: Hierarchy, breaks: set[int],
            codes: Codes | None = None) -> tuple[pd.DataFrame, Codes]:
    """Names, levels, ``n``, publication flags, bands and the spec's id; sorted and conformed.
    With the table's text columns ``area_code``, ``measure``, ``method`` and ``flags`` as
    codes (in its row order) for the disclosure step.

    Works on integer codes of the (few distinct) text values, sorting once by their ranks
    (:func:`tryg.index._frames.sort_order`) and building the frame once: mapping and assigning
    text column by column cost most of the run's bookkeeping.
    """
    codes = codes or {}
    area_coded = codes.get("area_code") or _frames.factorize(table["area_code"])
    measure_coded = codes.get("measure") or _frames.factorize(table["measure"])
    wave_coded = codes.get("wave") or _frames.factorize(table["wave"])
    area, area_u = area_coded
    measure, measure_u = measure_coded
    method, method_u = codes.get("method") or _frames.factorize(table["method"])
    depth: dict[str | None, int] = {lv: i for i, lv in enumerate(hier.levels)}
    measure_order = {m: i for i, m in enumerate(result_measure_ids(spec))}
    # by level (areas outside the hierarchy last), area code, wave, the spec's order of the
    # measures (others after them) and measure id; missing values last
    order = _frames.sort_order([
        _frames.ranks(area_coded, key=lambda a: (depth.get(hier.level.get(a), len(depth)), a)),
        _frames.ranks(wave_coded),
        _frames.ranks(measure_coded,
                      key=lambda m: (measure_order.get(m, len(measure_order)), m)),
    ])
    # everything below in the final order: codes are sorted (cheap), text looked up after
    text = {"area_code", "area_name", "level", "measure", "method", "band", "spec_id",
            "spec_hash"}  # built from the codes below
    # the row's own flags as codes (sorted with the rest: cheaper than taking the text)
    own_flags = (codes.get("flags") or _frames.factorize(table["flags"])) if "flags" in table \
        else None
    used = [c for c in table.columns
            if c in ("n", "count", "estimate", "wave")
            or (c in RESULT_COLUMNS and c not in text and c != "flags")]
    table = table[used].take(order).reset_index(drop=True)
    area, method, measure = area[order], method[order], measure[order]
    wave_codes, wave_u = wave_coded[0][order], wave_coded[1]
    n_arr = (table["n"].to_numpy(np.float64, na_value=np.nan) if "n" in table
             else np.full(len(table), np.nan))
    register = _frames.coded_isin((method, method_u), publication.REGISTER_METHODS)
    if "count" in table:  # a register row's n is its count
        n_arr = np.where(register, table["count"].to_numpy(np.float64, na_value=np.nan), n_arr)
    suppressed, uncertain, small = publication.survey_rules(
        spec.publication, _frames.coded_isin((method, method_u), publication.SURVEY_METHODS),
        register, n_arr)
    broken = _frames.coded_isin((wave_codes, wave_u), breaks) & _frames.coded_isin(
        (method, method_u), publication.BREAK_METHODS)
    if own_flags is None:
        own_flags = (np.full(len(table), -1, dtype=np.int64), np.zeros(0, dtype=object))
    flag_codes, flag_texts = publication.row_flags((own_flags[0][order], own_flags[1]),
                                                   uncertain, small, broken)
    flags = flag_texts[flag_codes]
    estimate = table["estimate"].to_numpy(np.float64)
    computed: dict[str, np.ndarray] = {
        "area_code": _lookup(area, list(area_u)),
        "area_name": _lookup(area, [hier.names.get(a) for a in area_u]),
        "level": _lookup(area, [hier.level.get(a) for a in area_u]),
        "measure": _lookup(measure, list(measure_u)), "method": _lookup(method, list(method_u)),
        "n": n_arr, "suppressed": suppressed, "flags": flags,
        "band": publication.bands(spec, (measure, measure_u), estimate),
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
    coded: Codes = {"area_code": (area, area_u), "measure": (measure, measure_u),
                    "method": (method, method_u), "flags": (flag_codes, flag_texts)}
    return conform(pd.DataFrame(cols, index=index, copy=False), ready=[
        c for c in computed if RESULT_DTYPES[c] == "object"]), coded


def _constant(value: str, n: int) -> np.ndarray:
    """``n`` times ``value`` as an object array (``np.full`` takes a slow path for objects,
    filling an empty one does not)."""
    out = np.empty(n, dtype=object)
    out[:] = value
    return out


def _lookup(codes: np.ndarray, values: list[object], dtype: type = object) -> np.ndarray:
    """``values[code]`` per row; missing (code -1) where the code is -1."""
    missing = np.nan if dtype is np.float64 else None
    return np.take(np.asarray([*values, missing], dtype=dtype), codes)
