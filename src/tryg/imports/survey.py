"""Import survey waves: answers from CSV, XLSX or SPSS, with a column mapping.

:func:`tryg.readers.read_survey` reads and checks every cell; this module checks the answers
against the database (every area code stored, no wave stored twice) and writes one
:class:`~tryg.surveys.models.Wave` per wave year in the file with its responses.

A wave already stored is an error unless ``replace=True``: then, in the same transaction, its
old responses are deleted, the wave is taken over by the new import, and the old import is
marked replaced once none of its waves remain. Unanswered items are left out of a response's
``answers`` (the wave's ``questions`` lists every item).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tryg.areas.services import areas_by_code
from tryg.bounds import FIRST_YEAR, LAST_YEAR, date_problem
from tryg.imports.base import (
    ImportReport,
    Outcome,
    Progress,
    insert_rows,
    read_limits,
    retire_emptied,
    run_import,
)
from tryg.imports.models import ImportBatch
from tryg.index.catalog import load_spec, shipped_specs
from tryg.index.inputs import SURVEY_COLUMNS, SURVEY_OPTIONAL, Problem, SurveyInput
from tryg.index.inputs import mark as _
from tryg.index.respondents import check_survey
from tryg.readers import ReadReport, read_survey
from tryg.readers.report import Collector
from tryg.surveys.models import Response, Wave

KIND = ImportBatch.Kind.SURVEY
_LIMITS = {"respondent_id": 64, "stratum": 60, "psu": 60, "sex": 20, "age_group": 20,
           "questionnaire": 100}
_FIELDS = {"stratum": "stratum", "psu": "psu", "sex": "sex", "age_group": "age_group"}


def import_survey(
    path: str | Path,
    *,
    user: Any = None,
    columns: Mapping[str, str] | None = None,
    replace: bool = False,
    fieldwork_start: datetime.date | None = None,
    fieldwork_end: datetime.date | None = None,
    producer: str | None = None,
    synthetic: bool = False,
    sheet: str | int | None = None,
    encoding: str | None = None,
    items: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import the survey waves in one file.

    ``columns`` maps the file's column names to tryg's (``{"id": "respondent_id",
    "aar": "wave"}``); ``sheet``, ``encoding`` and ``items`` are as for
    :func:`tryg.readers.read_survey`. ``fieldwork_start``/``fieldwork_end``, ``producer``
    and ``synthetic`` describe every wave in the file.
    """
    options: dict[str, Any] = {k: v for k, v in {
        "columns": dict(columns or {}), "replace": replace, "producer": producer,
        "fieldwork_start": fieldwork_start.isoformat() if fieldwork_start else None,
        "fieldwork_end": fieldwork_end.isoformat() if fieldwork_end else None,
        "synthetic": synthetic, "sheet": sheet}.items() if v}

    def read() -> tuple[SurveyInput, ReadReport]:
        return read_survey(path, columns=columns, sheet=sheet, encoding=encoding, items=items,
                           limits=read_limits())

    def write(record: ImportBatch, data: SurveyInput) -> Outcome:
        described = Wave(fieldwork_start=fieldwork_start, fieldwork_end=fieldwork_end,
                         producer=producer or "", synthetic=synthetic)
        return _write(record, data.responses, described, replace=replace, progress=progress)

    return run_import(KIND, path, read=read, write=write, user=user, options=options)


def _write(record: ImportBatch, frame: pd.DataFrame, described: Wave, *, replace: bool,
           progress: Progress | None) -> Outcome:
    out = Collector(str(frame.attrs.get("source", "")))
    warnings: list[Problem] = []
    lines = [int(r) for r in frame.index]
    items = [c for c in frame.columns if c not in SURVEY_COLUMNS + SURVEY_OPTIONAL]
    for when in (described.fieldwork_start, described.fieldwork_end):
        if when is not None and date_problem(when) is not None:
            out.error(None, None, _("the fieldwork date %(date)s is not a plausible date (years "
                                    "%(first)s to %(last)s)"),
                      date=when.isoformat(), first=FIRST_YEAR, last=LAST_YEAR)
    if (described.fieldwork_start and described.fieldwork_end
            and described.fieldwork_start > described.fieldwork_end):
        out.error(None, None, _("the fieldwork ends before it starts"))
    if len(described.producer) > 200:
        out.error(None, None, _("the producer's name is longer than 200 characters"))
    texts = {c: _texts(frame, c) for c in _LIMITS}
    for column, limit in _LIMITS.items():
        for line, value in zip(lines, texts[column], strict=True):
            if len(value) > limit:
                out.error(line, column, _("%(value)s… is longer than %(limit)s characters"),
                          value=repr(value[:40]), limit=limit)
    codes = [str(c) for c in frame["area_code"]]
    areas = areas_by_code(codes)
    _unknown_codes(codes, lines, set(areas), out)
    out.errors.extend(run_checks(frame, set(codes)))
    waves = [int(w) for w in frame["wave"]]
    first_row: dict[int, int] = {}
    for line, w in zip(lines, waves, strict=True):
        first_row.setdefault(w, line)
    stored = {w.year: w for w in Wave.objects.filter(year__in=sorted(first_row))}
    if stored and not replace:
        for year, wave in sorted(stored.items()):
            out.error(first_row[year], "wave",
                      _("wave %(wave)s is already stored (import #%(batch)s); import with "
                        "replace to replace its answers"), wave=year, batch=wave.import_batch_id)
    out.raise_if_errors()

    old_batches = {w.import_batch_id for w in stored.values()}
    by_batch: dict[int, int] = {}
    for wave in stored.values():
        gone = Response.objects.filter(wave=wave).delete()[0]
        if wave.import_batch_id is not None:
            by_batch[wave.import_batch_id] = by_batch.get(wave.import_batch_id, 0) + gone
    replaced = sum(by_batch.values())
    by_year: dict[int, Wave] = {}
    for year in sorted(first_row):
        wave = stored.get(year) or Wave(year=year)
        for name in ("fieldwork_start", "fieldwork_end", "producer", "synthetic"):
            setattr(wave, name, getattr(described, name))
        versions = sorted({v for v, y in zip(texts["questionnaire"], waves, strict=True)
                           if y == year and v})
        if len(versions) > 1:
            warnings.append(Problem.of("", None, None,
                                       _("wave %(wave)s has several questionnaire versions "
                                         "%(versions)s; the wave records none"),
                                       wave=year, versions=str(versions)))
        wave.questionnaire = versions[0] if len(versions) == 1 else ""
        wave.questions = list(items)
        wave.import_batch = record
        wave.save()
        by_year[year] = wave
    answers = frame[items].to_numpy(dtype="float64") if items else None
    rows = [
        Response(wave=by_year[w], respondent=rid, area=areas[code],
                 weight=float(weight), answers=_answers(items, answers[i] if answers is not None
                                                        else ()),
                 **{field: texts[column][i] for column, field in _FIELDS.items()})
        for i, (w, rid, code, weight) in enumerate(
            zip(waves, texts["respondent_id"], codes, frame["weight"], strict=True))
    ]
    insert_rows(Response, rows, what="responses", progress=progress)
    retire_emptied(old_batches, "waves")
    created = {"waves": len(by_year), "responses": len(rows)}
    if stored:
        created["waves replaced"] = len(stored)
        created["responses deleted"] = replaced
    return Outcome(created, warnings, by_batch)


def run_checks(frame: pd.DataFrame, area_codes: set[str]) -> list[Problem]:
    """The problems an index run would find in these answers: the index's own check
    (:func:`tryg.index.respondents.check_survey`, the function the run calls) under every
    shipped specification, for the items the file holds (answers outside an item's scale
    and not a "don't know" code, repeated respondents, weights). Each problem once, by row.
    Unknown area codes are left to :func:`_unknown_codes` (``area_codes``: the file's own)."""
    survey = SurveyInput(frame)
    seen: set[tuple[int | None, str | None, str]] = set()
    problems: list[Problem] = []
    for spec_id in shipped_specs():
        for p in check_survey(load_spec(spec_id), survey, area_codes, partial=True):
            key = (p.row, p.column, p.message)
            if key not in seen:
                seen.add(key)
                problems.append(p)
    return sorted(problems, key=lambda p: (p.row or 0, p.column or ""))


def _texts(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        return [""] * len(frame)
    return ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            for v in frame[column]]


def _answers(items: list[str], values: Any) -> dict[str, int | float]:
    """Item → answer code; unanswered items are left out (JSON has no NaN)."""
    return {item: int(v) if float(v).is_integer() else float(v)
            for item, v in zip(items, values, strict=True) if not math.isnan(v)}


def _unknown_codes(codes: list[str], lines: list[int], known: set[str], out: Collector) -> None:
    """One error per unknown code, at its first row, with the number of rows using it."""
    rows: dict[str, list[int]] = {}
    for line, c in zip(lines, codes, strict=True):
        if c not in known:
            rows.setdefault(c, []).append(line)
    for c, where in rows.items():
        if len(where) > 1:
            out.error(where[0], "area_code",
                      _("no stored area has code %(code)s (and %(more)s more rows: %(rows)s…): "
                        "import the areas first"),
                      code=repr(c), more=len(where) - 1, rows=str(where[1:6]))
        else:
            out.error(where[0], "area_code",
                      _("no stored area has code %(code)s: import the areas first"), code=repr(c))
