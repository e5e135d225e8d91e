"""Population figures: totals for rates, and calibration margins for survey weights.

A population table may hold total rows (no sex / age group), cell rows (sex × age group), or
both; for an area and year, total rows win. Areas without figures of their own get the sum of
their children's, so a table by neighbourhood also serves districts and the municipality.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tryg.index.hierarchy import Hierarchy
from tryg.index.inputs import PopulationInput, Problem, as_int, source_of
from tryg.index.inputs import mark as _
from tryg.messages import Number

CELL_COLUMNS = ("sex", "age_group")


def _cells(table: pd.DataFrame) -> pd.Series:
    present = [c for c in CELL_COLUMNS if c in table.columns]
    if not present:
        return pd.Series(False, index=table.index)
    return table[present].notna().any(axis=1)


def totals(population: PopulationInput, hierarchy: Hierarchy) -> pd.DataFrame:
    """Total population per ``area_code`` and ``year``; areas without figures of their own
    get the sum of the leaf areas below them that year (see :meth:`Hierarchy.roll_up_rows`).

    On numbers: the areas and years factorised (sorted, as a sorted group-by numbers them),
    the sums as bincounts, the roll-up on the hierarchy's row numbers."""
    t = population.table
    is_cell = _cells(t).to_numpy(dtype=bool)
    area_idx, area_u = pd.factorize(t["area_code"], sort=True)
    year_idx, year_u = pd.factorize(t["year"], sort=True)
    area_idx = np.asarray(area_idx, dtype=np.int64)
    year_idx = np.asarray(year_idx, dtype=np.int64)
    Y = len(year_u)
    size = len(area_u) * Y
    valid = (area_idx >= 0) & (year_idx >= 0)
    key = area_idx * Y + year_idx
    amount = np.nan_to_num(t["population"].to_numpy(np.float64), nan=0.0)  # sum skips NaN

    def sums(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = key[rows]
        return (np.bincount(k, weights=amount[rows], minlength=size),
                np.bincount(k, minlength=size) > 0)

    own_sum, own_has = sums(valid & ~is_cell)
    cell_sum, cell_has = sums(valid & is_cell)
    has = own_has | cell_has  # own totals win, cells otherwise
    value = np.where(own_has, own_sum, cell_sum)
    names = np.asarray(area_u.astype(str), dtype=object)
    years_u = np.asarray(year_u)
    codes: list[np.ndarray] = []
    years: list[np.ndarray] = []
    values: list[np.ndarray] = []
    rows_by_table: dict[int, np.ndarray] = {}  # every name's row, per ancestor table
    for y in range(Y):
        at = np.flatnonzero(has[y::Y])  # areas with figures that year, in text order
        year = as_int(years_u[y])
        table = hierarchy.table_id(year)
        if table not in rows_by_table:
            rows_by_table[table] = hierarchy.rows_of(names, year)
        rows = rows_by_table[table][at]
        hit, _hit_rows, hit_sums, _hit_levels = hierarchy.roll_up_rows(
            rows, value[at * Y + y], year)
        code = np.concatenate([names[at], hit])
        order = np.argsort(code.astype(str), kind="stable")  # text order (as sorted())
        codes.append(code[order])
        values.append(np.concatenate([value[at * Y + y], hit_sums])[order])
        years.append(np.full(len(order), year, dtype=np.int64))
    area = np.concatenate(codes) if codes else np.zeros(0, dtype=object)
    return pd.DataFrame({
        "area_code": area if len(area) else [],  # (no rows: the dtype of an empty list)
        "year": np.concatenate(years) if years else np.zeros(0, dtype=np.int64),
        "population": np.concatenate(values) if values else np.zeros(0, dtype=np.float64),
    })


def margins(
    population: PopulationInput,
    hierarchy: Hierarchy,
    level: str,
    codes_by_wave: Mapping[int, Sequence[str]],
    variables: Sequence[str],
) -> tuple[dict[tuple[str, ...], pd.Series], list[Problem]]:
    """Raking margins for every wave: ``(wave, cal_area, variable) -> count`` per variable.

    ``codes_by_wave`` lists, per wave, the calibration areas (of ``level``) that have
    respondents; each needs population cells for that wave's year: its own rows, or else the
    sum of the leaf areas below it that year (as :func:`totals`). Without variables the margin
    is the area total.
    """
    level_of = hierarchy.level
    t = population.table
    src = source_of(t)
    problems: list[Problem] = []
    missing_vars = [v for v in variables if v not in t.columns]
    if missing_vars:
        return {}, [
            Problem.of(src, None, v, _("calibration needs population by this variable"))
            for v in missing_vars
        ]
    is_cell = _cells(t)
    fast = _margins_at_once(t, is_cell, codes_by_wave, variables)
    if fast is not None:
        return fast, []
    frames: dict[tuple[str, ...], list[pd.DataFrame]] = {}
    parents = {p for _, p, _, _ in hierarchy.links}
    for wave, codes in sorted(codes_by_wave.items()):
        year_rows = t[(t["year"] == wave) & t["area_code"].isin(list(codes))]
        lacking = set(codes) - set(year_rows["area_code"])
        if lacking and level in hierarchy.levels:
            # areas without rows of their own: sum the leaf areas below them that year
            anc = hierarchy.ancestors(wave)[level]
            leaves = t[(t["year"] == wave) & ~t["area_code"].isin(parents)]
            above = leaves["area_code"].map(anc)
            from_leaves = leaves[above.isin(lacking)].assign(area_code=above[above.isin(lacking)])
            year_rows = pd.concat([year_rows, from_leaves])
        if variables:
            year_rows = year_rows[is_cell.loc[year_rows.index]]
        else:
            year_rows = year_rows[~is_cell.loc[year_rows.index]] if (~is_cell).any() else year_rows
        absent = sorted(set(codes) - set(year_rows["area_code"]))
        if absent:
            problems.append(
                Problem.of(
                    src, None, None,
                    _("wave %(wave)s has no population margins for area(s) %(areas)s (year "
                      "%(year)s, level %(level)s)"),
                    wave=wave, areas=", ".join(absent[:5]) + (" ..." if len(absent) > 5 else ""),
                    year=wave, level=level_of.get(absent[0], "?"))
            )
            continue
        keys: list[str | None] = list(variables) or [None]
        for var in keys:
            cols = ["area_code"] + ([var] if var else [])
            agg = year_rows.groupby(cols, sort=True)["population"].sum().reset_index()
            agg.insert(0, "wave", wave)
            frames.setdefault(("wave", "cal_area", *([var] if var else [])), []).append(agg)
    out = {}
    for key, parts in frames.items():
        frame = pd.concat(parts, ignore_index=True).rename(columns={"area_code": "cal_area"})
        out[key] = frame.set_index(list(key))["population"]
    return out, problems


def _margins_at_once(
    t: pd.DataFrame, is_cell: pd.Series, codes_by_wave: Mapping[int, Sequence[str]],
    variables: Sequence[str],
) -> dict[tuple[str, ...], pd.Series] | None:
    """:func:`margins` in one selection and one group-by per variable, when every wave's
    calibration areas have population rows of their own (the usual case); ``None`` otherwise,
    and the wave-by-wave path handles the areas to sum from leaves and the problems."""
    if not variables or not codes_by_wave:
        return None
    waves = sorted(codes_by_wave)
    year = t["year"].to_numpy()
    in_years = np.isin(year, waves)
    area, area_u = pd.factorize(t["area_code"])
    area_names = np.asarray(area_u, dtype=object)
    allowed = np.zeros((len(waves), len(area_names) + 1), dtype=bool)
    lookup = {a: i for i, a in enumerate(area_names.tolist())}
    for i, w in enumerate(waves):
        at = [lookup[c] for c in codes_by_wave[w] if c in lookup]
        if len(at) < len(set(codes_by_wave[w])):
            return None  # an area without rows of its own
        allowed[i, at] = True
    wave_idx = np.searchsorted(waves, year)
    rows = in_years & allowed[np.minimum(wave_idx, len(waves) - 1), area]
    year_rows = t[rows & is_cell.to_numpy()]
    present = year_rows.groupby("year")["area_code"].nunique()
    if any(present.get(w, 0) < len(set(codes_by_wave[w])) for w in waves):
        return None
    out: dict[tuple[str, ...], pd.Series] = {}
    for var in variables:
        agg = year_rows.groupby(["year", "area_code", var], sort=True)["population"].sum()
        frame = agg.reset_index().rename(columns={"year": "wave", "area_code": "cal_area"})
        out[("wave", "cal_area", var)] = frame.set_index(["wave", "cal_area", var])["population"]
    return out


#: A population figure may change by at most this fraction from the year before
#: (e.g. 0.5: from 1,000 residents to between 500 and 1,500); a larger jump is an error
#: (a wrong area, a figure in thousands, a lost digit).
MAX_YEARLY_CHANGE = 0.5


def _figure(value: float) -> Number:
    """A population figure in a message, as few places as it needs and not grouped ("12345",
    "12345.5"; a Danish page "12345,5"), as these messages always showed it."""
    return Number(value, None, grouping=False)


def check_population(
    population: PopulationInput,
    previous: pd.DataFrame | None = None,
    *,
    whole: bool = True,
    max_change: float = MAX_YEARLY_CHANGE,
) -> list[Problem]:
    """Every implausible figure of a population table, by row:

    * a negative figure; with ``whole``, a figure that is not a whole number (tables
      averaged from quarters, as Statistics Denmark's FOLK1A, pass ``whole=False``);
    * a total row (no sex and age group) smaller than the sum of the same area's and year's
      cell rows (by more than 0.5): the parts cannot exceed the whole. A sum below the total
      is allowed, because calibration margins often cover only the survey's ages (15+);
    * an area's total that changes by more than ``max_change`` (a fraction) from the year
      before, in the table itself or in ``previous`` (``area_code``, ``year``,
      ``population``: totals stored already).
    """
    t = population.table
    src = source_of(t)
    rows = t.index.to_numpy()
    values = pd.to_numeric(t["population"], errors="coerce").to_numpy(dtype=np.float64)
    problems: list[Problem] = []
    for i in np.flatnonzero(values < 0):
        problems.append(Problem.of(src, int(rows[i]), "population",
                                   _("the population %(value)s is negative"),
                                   value=_figure(values[i])))
    if whole:
        for i in np.flatnonzero((values >= 0) & (values != np.round(values))):
            problems.append(Problem.of(src, int(rows[i]), "population",
                                       _("the population %(value)s is not a whole number"),
                                       value=_figure(values[i])))
    is_cell = _cells(t).to_numpy(dtype=bool)
    # areas numbered once (their text looked up for the messages only): the sums below group
    # by numbers, and every check is one array operation, not a loop over areas × years
    area, areas = pd.factorize(t["area_code"].astype(str))
    year_num = pd.to_numeric(t["year"]).to_numpy()
    # area × year as one number per row, in (area, year) order (-1: no year, in no group):
    # a group-by on one integer key costs a fifth of one on two columns
    year_idx, year_u = pd.factorize(year_num, sort=True)
    year_u = np.asarray(year_u)
    Y = max(len(year_u), 1)
    key = np.where(year_idx >= 0, (np.asarray(area, dtype=np.int64) + 1) * Y + year_idx, -1)
    valid = key >= 0
    parts = pd.Series(values[is_cell & valid]).groupby(key[is_cell & valid]).sum()
    own = np.flatnonzero(~is_cell)  # the total rows
    part = parts.reindex(key[own]).to_numpy(np.float64)
    with np.errstate(invalid="ignore"):
        too_small = part - values[own] > 0.5
    for a, year, value, row, p in zip(
            np.asarray(area)[own][too_small], year_num[own][too_small],
            values[own][too_small], rows[own][too_small], part[too_small], strict=True):
        problems.append(Problem.of(
            src, int(row), "population",
            _("the total %(value)s of %(area)s in %(year)s is smaller than the sum of its sex "
              "and age group rows (%(parts)s)"),
            value=_figure(value), area=str(areas[a]), year=int(year), parts=_figure(p)))
    own_valid = own[valid[own]]
    totals_ = pd.Series(values[own_valid]).groupby(key[own_valid]).sum().combine_first(parts)
    first_row = pd.Series(rows[valid]).groupby(key[valid]).min().reindex(totals_.index).to_numpy()
    f_key = totals_.index.to_numpy(np.int64)
    f_area = f_key // Y - 1
    f_year = year_u[f_key % Y]
    value_now = totals_.to_numpy(np.float64)
    # the year before: from this table, else from ``previous``
    pos = np.minimum(np.searchsorted(year_u, f_year - 1), len(year_u) - 1)
    has_year = year_u[pos] == f_year - 1
    at = totals_.index.get_indexer(pd.Index(np.where(has_year, (f_area + 1) * Y + pos, -1)))
    before = np.where(at >= 0, value_now[np.maximum(at, 0)], np.nan)
    if previous is not None and not previous.empty:
        stored = pd.Series(
            pd.to_numeric(previous["population"]).to_numpy(np.float64),
            index=pd.MultiIndex.from_arrays([previous["area_code"].astype(str).to_numpy(),
                                             previous["year"].astype(int).to_numpy()]))
        stored = stored[~stored.index.duplicated(keep="last")]
        was = stored.reindex(pd.MultiIndex.from_arrays(
            [np.asarray(areas, dtype=object)[f_area], f_year - 1])).to_numpy(np.float64)
        before = np.where(at >= 0, before, was)
    with np.errstate(invalid="ignore", divide="ignore"):
        change = value_now / before - 1.0
        jump = (before > 0) & (np.abs(change) > max_change)
    for i in np.flatnonzero(jump):
        year = int(f_year[i])
        problems.append(Problem.of(
            src, int(first_row[i]), "population",
            _("the population of %(area)s changes by %(change)s from %(before_year)s "
              "(%(before)s) to %(year)s (%(now)s); more than the %(allowed)s allowed from one "
              "year to the next"),
            area=str(areas[f_area[i]]), change=f"{change[i]:+.0%}", before_year=year - 1,
            before=_figure(before[i]), year=year, now=_figure(value_now[i]),
            allowed=f"{max_change:.0%}"))
    return sorted(problems, key=lambda p: p.row or 0)
