"""Data quality of the stored inputs: survey responses per area and wave, and what is below
a specification's publication rules; population and register coverage per area.

The counts are rolled up the area hierarchy the index itself uses
(:func:`tryg.index.hierarchy.build_hierarchy` on the stored areas, links valid in the wave's
year), so an area's count here is the number of respondents the index has for that area in
that wave before item non-response (a measure's ``n`` counts those who answered its
questions, so it can be lower). Only current imports count, as in a run
(:mod:`tryg.runs.inputs`).

:func:`roll_up_counts` and :func:`classify` are pure (plain pandas); the rest reads the
database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Max, Min, Sum

from tryg.areas.models import Population
from tryg.index.hierarchy import Hierarchy, build_hierarchy
from tryg.index.spec import Publication
from tryg.police_register.models import RegisterCount
from tryg.runs.inputs import CURRENT, load_areas
from tryg.surveys.models import Response, Wave

#: The status of an area's count in a wave, worst first.
NONE, BELOW_MIN, UNCERTAIN, OK = "none", "below_min", "uncertain", "ok"


def roll_up_counts(leaf: pd.DataFrame, hierarchy: Hierarchy,
                   waves: list[int]) -> pd.DataFrame:
    """Responses per area and wave, for every area in use in the wave's year.

    ``leaf``: columns ``wave``, ``area_code``, ``n`` (respondents stored in that area). Each
    respondent counts for its own area and for each of its ancestors valid in the wave's
    year. An area is in use in a year when it has no sub-areas at all (a finest area) or
    some area lies in it that year; an area none lies in that year (a housing area that was
    not on that year's list) is left out of that wave rather than shown with 0.

    Returns columns ``area_code``, ``wave``, ``n`` (0 where nobody answered), ordered by area
    then wave. Raises ``ValueError`` when an area has two ancestors at one level in a wave's
    year (the index refuses such a hierarchy too).
    """
    parents = {parent for _child, parent, _lo, _hi in hierarchy.links}
    finest = [code for code in hierarchy.level if code not in parents]
    frames = []
    for wave in waves:
        ancestors = hierarchy.ancestors(int(wave))
        table = ancestors.to_numpy(dtype=object)
        own = np.array([hierarchy.level[str(c)] for c in ancestors.index], dtype=object)
        above = {str(v) for row, lv in zip(table, own, strict=True)
                 for v, col in zip(row, ancestors.columns, strict=True)
                 if col != lv and pd.notna(v)}
        totals = dict.fromkeys([*finest, *sorted(above - set(finest))], 0)
        rows = leaf[(leaf["wave"] == wave) & leaf["area_code"].isin(ancestors.index)]
        if not rows.empty:
            placed = ancestors.loc[rows["area_code"]].to_numpy(dtype=object)
            counts = np.repeat(rows["n"].to_numpy(dtype=np.int64), placed.shape[1])
            codes = placed.ravel()
            keep = pd.notna(codes)
            sums = pd.Series(counts[keep]).groupby(codes[keep].astype(str)).sum()
            totals.update({str(k): int(v) for k, v in sums.items()})
        frames.append(pd.DataFrame({"area_code": list(totals), "wave": int(wave),
                                    "n": list(totals.values())}))
    if not frames:
        return pd.DataFrame({"area_code": pd.Series([], dtype=object),
                             "wave": pd.Series([], dtype="int64"),
                             "n": pd.Series([], dtype="int64")})
    out = pd.concat(frames, ignore_index=True).astype({"wave": "int64", "n": "int64"})
    return out.sort_values(["area_code", "wave"], kind="stable").reset_index(drop=True)


def classify(n: pd.Series, publication: Publication) -> pd.Series:
    """Each count's status under the publication rules: ``none`` (0), ``below_min`` (survey
    estimates suppressed), ``uncertain`` (flagged as uncertain) or ``ok``."""
    values = n.to_numpy(dtype=np.int64)
    status = np.select(
        [values == 0, values < publication.min_n, values < publication.uncertain_n],
        [NONE, BELOW_MIN, UNCERTAIN], default=OK)
    return pd.Series(status.astype(object), index=n.index, name="status")


@dataclass(frozen=True)
class Coverage:
    """What is stored directly on one area (not rolled up): population years and register
    quarters."""

    population_first: int | None = None
    population_last: int | None = None
    population_years: int = 0
    register_first: str | None = None
    register_last: str | None = None
    register_quarters: int = 0
    register_offences: int = 0


@dataclass(frozen=True)
class QualityReport:
    """Everything the data quality page shows (``counts``: one row per area and wave with
    ``area_code``, ``area_name``, ``level``, ``wave``, ``n``, ``status``)."""

    publication: Publication
    waves: list[int]
    levels: list[str]  # top level first, levels with responses only
    empty_levels: dict[str, int]  # levels no respondent lies in: number of areas
    counts: pd.DataFrame
    coverage: dict[str, Coverage] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unplaced: int = 0  # responses in an area outside the current area list

    def summary(self) -> pd.DataFrame:
        """Per wave and level: areas, respondents, and areas with none / below min n /
        uncertain."""
        counts = self.counts
        if counts.empty:
            return pd.DataFrame(columns=["wave", "level", "areas", "responses", NONE,
                                         BELOW_MIN, UNCERTAIN])
        flags = pd.get_dummies(counts["status"]).reindex(
            columns=[NONE, BELOW_MIN, UNCERTAIN], fill_value=False).astype("int64")
        table = pd.concat([counts[["wave", "level", "n"]], flags], axis=1)
        out = table.groupby(["wave", "level"], sort=False).agg(
            areas=("n", "size"), responses=("n", "sum"), none=(NONE, "sum"),
            below_min=(BELOW_MIN, "sum"), uncertain=(UNCERTAIN, "sum")).reset_index()
        order = {lv: i for i, lv in enumerate(self.levels)}
        return (out.assign(_o=out["level"].map(order)).sort_values(["wave", "_o"])
                .drop(columns="_o").reset_index(drop=True))

    def matrix(self) -> pd.DataFrame:
        """One row per area (``area_code``, ``area_name``, ``level``), one column per wave
        holding the count (missing where the area was not in use that year), ordered by
        level (top first) and code."""
        counts = self.counts
        wide = counts.pivot(index="area_code", columns="wave", values="n")
        wide = wide.reindex(columns=self.waves).astype("Int64")  # <NA>: not in use that year
        names = counts.drop_duplicates("area_code").set_index("area_code")[
            ["area_name", "level"]]
        out = names.join(wide).reset_index()
        order = {lv: i for i, lv in enumerate(self.levels)}
        return (out.assign(_o=out["level"].map(order))
                .sort_values(["_o", "area_code"], kind="stable")
                .drop(columns="_o").reset_index(drop=True))

    def flagged(self) -> pd.DataFrame:
        """The area × wave counts that are not ``ok``: none, below min n or uncertain."""
        rows = self.counts[self.counts["status"] != OK]
        order = {lv: i for i, lv in enumerate(self.levels)}
        return (rows.assign(_o=rows["level"].map(order))
                .sort_values(["wave", "_o", "n", "area_code"], kind="stable")
                .drop(columns="_o").reset_index(drop=True))


def current_waves() -> list[int]:
    """The years of the survey waves whose import is current."""
    return sorted(Wave.objects.filter(import_batch__replaced_at__isnull=True)
                  .values_list("year", flat=True))


def stored_leaf_counts() -> pd.DataFrame:
    """Respondents per wave and stored area (the area each answer was imported with)."""
    rows = list(Response.objects.filter(wave__import_batch__replaced_at__isnull=True)
                .values_list("wave__year", "area__code").annotate(n=Count("id"))
                .order_by("wave__year", "area__code"))
    return pd.DataFrame.from_records(rows, columns=["wave", "area_code", "n"]).astype(
        {"wave": "int64", "area_code": object, "n": "int64"})


def stored_coverage() -> dict[str, Coverage]:
    """Population years and register quarters stored per area code (current imports)."""
    population: dict[str, dict[str, Any]] = {
        r["area__code"]: dict(r) for r in Population.objects.filter(CURRENT)
        .values("area__code").annotate(first=Min("year"), last=Max("year"),
                                       years=Count("year", distinct=True))
        .order_by("area__code")}
    register: dict[str, dict[str, Any]] = {
        r["area__code"]: dict(r) for r in RegisterCount.objects.filter(CURRENT)
        .values("area__code").annotate(first=Min("quarter"), last=Max("quarter"),
                                       quarters=Count("quarter", distinct=True),
                                       offences=Sum("count"))
        .order_by("area__code")}
    out = {}
    for code in sorted(set(population) | set(register)):
        p, r = population.get(code, {}), register.get(code, {})
        out[code] = Coverage(p.get("first"), p.get("last"), int(p.get("years") or 0),
                             r.get("first"), r.get("last"), int(r.get("quarters") or 0),
                             int(r.get("offences") or 0))
    return out


def quality_report(publication: Publication) -> QualityReport:
    """The data quality of what is stored now, under ``publication``'s rules."""
    areas, _fingerprint = load_areas()
    waves = current_waves()
    leaf = stored_leaf_counts()
    hierarchy, issues = build_hierarchy(areas)
    problems = [str(p) for p in issues]
    names = dict(zip(areas.areas["code"], areas.areas["name"], strict=True))
    level = dict(zip(areas.areas["code"], areas.areas["level"], strict=True))
    unplaced = int(leaf.loc[~leaf["area_code"].isin(list(level)), "n"].sum())
    counts = pd.DataFrame(columns=["area_code", "wave", "n"])
    if hierarchy is not None:
        try:
            counts = roll_up_counts(leaf, hierarchy, waves)
        except ValueError as exc:
            problems.append(str(exc))
    counts = counts.astype({"area_code": object, "wave": "int64", "n": "int64"})
    counts["area_name"] = counts["area_code"].map(names)
    counts["level"] = counts["area_code"].map(level)
    reached = set(counts.loc[counts["n"] > 0, "level"])
    all_levels = list(hierarchy.levels) if hierarchy is not None else sorted(set(level.values()))
    levels = [lv for lv in all_levels if lv in reached]
    empty = {lv: sum(1 for v in level.values() if v == lv)
             for lv in all_levels if lv not in reached}
    counts = counts[counts["level"].isin(levels)].reset_index(drop=True)
    counts["status"] = classify(counts["n"], publication)
    counts = counts[["area_code", "area_name", "level", "wave", "n", "status"]]
    return QualityReport(publication, waves, levels, empty, counts, stored_coverage(),
                         problems, unplaced)
