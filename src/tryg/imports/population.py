"""Import population figures: a generic table, or Statistics Denmark's FOLK1A.

:func:`tryg.readers.read_population` reads and checks the file (FOLK1A's quarterly figures are
averaged per year there). Tables that name areas (FOLK1A names kommuner) are matched to the
stored areas by :func:`tryg.index.areas.reconcile_names`; aggregate rows (regions, "Hele
landet") are left out with a warning. Every figure must belong to a stored area; a figure
already stored for the same area, year, sex and age group is an error unless ``replace=True``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from tryg.areas.models import Area, Population
from tryg.areas.services import areas_by_code, stored_areas
from tryg.imports.base import (
    ImportReport,
    Outcome,
    Progress,
    chunked,
    insert_rows,
    read_limits,
    retire_emptied,
    run_import,
)
from tryg.imports.models import ImportBatch
from tryg.index.areas import reconcile_names
from tryg.index.inputs import PopulationInput, Problem
from tryg.index.inputs import mark as _
from tryg.index.population import check_population
from tryg.readers import ReadReport, read_population
from tryg.readers.report import Collector

KIND = ImportBatch.Kind.POPULATION
_CELL_LIMIT = 20


def import_population(
    path: str | Path,
    *,
    user: Any = None,
    replace: bool = False,
    level: str | None = None,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import one population file.

    ``level``: the level of the areas a table names (default ``"kommune"``, what Statistics
    Denmark's tables name); unused when the file has area codes. ``columns``, ``sheet`` and
    ``encoding`` are as for :func:`tryg.readers.read_population`.
    """
    options: dict[str, Any] = {k: v for k, v in {"replace": replace, "level": level,
                                                 "columns": dict(columns or {}),
                                                 "sheet": sheet}.items() if v}

    def read() -> tuple[PopulationInput, ReadReport]:
        return read_population(path, encoding=encoding, columns=columns, sheet=sheet,
                               limits=read_limits())

    def write(record: ImportBatch, data: PopulationInput) -> Outcome:
        return _write(record, data.table, replace=replace, level=level or "kommune",
                      progress=progress)

    return run_import(KIND, path, read=read, write=write, user=user, options=options)


def _write(record: ImportBatch, frame: pd.DataFrame, *, replace: bool, level: str,
           progress: Progress | None) -> Outcome:
    out = Collector(str(frame.attrs.get("source", "")))
    warnings: list[Problem] = []
    lines = [int(r) for r in frame.index]
    if "area_name" in frame.columns:
        names = [str(n) for n in frame["area_name"]]
        known = stored_areas(level)
        column = "area_name"
        if not len(known.areas):
            raise out.fail(None, column,
                           _("no areas of level %(level)s are stored: import the areas first "
                             "(or give the level the names belong to)"), level=repr(level))
        matched = reconcile_names(names, known, source=out.source, rows=lines)
        out.errors.extend(matched.problems)
        warnings.extend(matched.aggregates)
        codes: list[str | None] = list(matched.codes)
    else:
        codes = [str(c) for c in frame["area_code"]]
        column = "area_code"
    areas = areas_by_code(c for c in codes if c is not None)
    if column == "area_code":
        _unknown_codes(codes, lines, areas, out)
    sexes = _cells(frame, "sex", lines, out)
    ages = _cells(frame, "age_group", lines, out)
    keys = [(c, int(y), s, a) for c, y, s, a in
            zip(codes, frame["year"], sexes, ages, strict=True)]
    first: dict[tuple[str | None, int, str, str], int] = {}
    for line, k in zip(lines, keys, strict=True):
        if k[0] is not None and k in first:
            out.error(line, column, _("this row and row %(first)s are both the population of "
                                      "%(area)s in %(year)s"), first=first[k], area=k[0],
                      year=k[1])
        first.setdefault(k, line)
    out.errors.extend(_plausibility(frame, keys, lines, areas, statbank=column == "area_name"))
    existing = _existing(areas, {k[1] for k in keys})
    clashes = [(line, k) for line, k in zip(lines, keys, strict=True) if k in existing]
    if clashes and not replace:
        for line, (c, year, sex, age) in clashes:
            cell = "".join(f", {v}" for v in (sex, age) if v)
            out.error(line, "population",
                      _("the population of %(area)s in %(year)s%(cell)s is already stored "
                        "(import #%(batch)s); import with replace to overwrite it"),
                      area=c, year=year, cell=cell, batch=existing[(c, year, sex, age)][1])
    out.raise_if_errors()
    old = [existing[k] for _line, k in clashes]
    for part in chunked([pk for pk, _batch in old]):
        Population.objects.filter(pk__in=part).delete()
    rows = [Population(area=areas[c], year=year, sex=sex, age_group=age, population=float(v),
                       import_batch=record)
            for (c, year, sex, age), v in zip(keys, frame["population"], strict=True)
            if c is not None]
    insert_rows(Population, rows, what="population figures", progress=progress)
    retire_emptied({b for _pk, b in old}, "population")
    created = {"population figures": len(rows)}
    if old:
        created["population figures replaced"] = len(old)
    return Outcome(created, warnings, dict(Counter(b for _pk, b in old)))


def _plausibility(frame: pd.DataFrame, keys: list[tuple[str | None, int, str, str]],
                  lines: list[int], areas: dict[str, Area], *, statbank: bool) -> list[Problem]:
    """The index's own check of population figures
    (:func:`tryg.index.population.check_population`): negative or fractional figures (a
    FOLK1A table averages quarters, so fractions are allowed there), totals that are not the
    sum of their parts, and a change of more than half from the year before, stored or in
    the file."""
    kept = [i for i, k in enumerate(keys) if k[0] is not None]
    table = pd.DataFrame(
        {"area_code": [keys[i][0] for i in kept], "year": [keys[i][1] for i in kept],
         "sex": [keys[i][2] or None for i in kept],
         "age_group": [keys[i][3] or None for i in kept],
         "population": [float(frame["population"].iloc[i]) for i in kept]},
        index=pd.Index([lines[i] for i in kept]))
    table.attrs["source"] = frame.attrs.get("source", "")
    years = sorted({k[1] - 1 for k in keys})
    stored = pd.DataFrame.from_records(
        [(a.code, y, v) for a, y, v in
         ((row.area, row.year, row.population) for row in Population.objects.filter(
             area__in=list(areas.values()), year__in=years, sex="", age_group="")
          .select_related("area"))],
        columns=["area_code", "year", "population"])
    return check_population(PopulationInput(table), stored, whole=not statbank)


def _unknown_codes(codes: list[str | None], lines: list[int], areas: dict[str, Area],
                   out: Collector) -> None:
    for line, c in zip(lines, codes, strict=True):
        if c is None or c in areas:
            continue
        padded = c.zfill(4)
        if padded != c and Area.objects.filter(code=padded).exists():
            out.error(line, "area_code",
                      _("no stored area has code %(code)s (stored codes have leading zeros: "
                        "%(padded)s?): import the areas first"), code=repr(c), padded=repr(padded))
        else:
            out.error(line, "area_code",
                      _("no stored area has code %(code)s: import the areas first"), code=repr(c))


def _cells(frame: pd.DataFrame, column: str, lines: list[int], out: Collector) -> list[str]:
    if column not in frame.columns:
        return [""] * len(frame)
    values = ["" if v is None or pd.isna(v) else str(v) for v in frame[column]]
    for line, v in zip(lines, values, strict=True):
        if len(v) > _CELL_LIMIT:
            out.error(line, column, _("%(value)s… is longer than %(limit)s characters"),
                      value=repr(v[:40]), limit=_CELL_LIMIT)
    return values


def _existing(areas: dict[str, Area], years: set[int]
              ) -> dict[tuple[str | None, int, str, str], tuple[int, int]]:
    """Stored figures for these areas and years: key → (row id, import batch id)."""
    code_of = {a.pk: code for code, a in areas.items()}
    found: dict[tuple[str | None, int, str, str], tuple[int, int]] = {}
    for part in chunked(sorted(code_of)):
        for pk, area, year, sex, age, batch_id in Population.objects.filter(
                area_id__in=part, year__in=sorted(years)).values_list(
                "pk", "area_id", "year", "sex", "age_group", "import_batch_id"):
            found[(code_of[area], year, sex, age)] = (pk, batch_id)
    return found
