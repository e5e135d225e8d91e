"""Importing existing public-space reports (311 requests) as findings with their actions.

The reader (:mod:`tryg.readers.reports311`) checks the whole file first; then one
transaction writes every finding and its action in batches (:mod:`tryg.walks.bulk`), so a file is
imported whole or not at all. Findings get source ``import`` and the file's id as
``external_id``; a row whose id was imported before is skipped (importing a file twice adds
nothing). Positions at the system's default location, missing or invalid are stored unplaced
with their flag. Areas are assigned by containment in the finest stored level with
boundaries (:mod:`tryg.walks.placing`); with none stored the area is left empty.

The free-text cells (id, text, address) hold no control character (:mod:`tryg.bounds`, as the
forms, the API and Open311 refuse them): each one is an error at its row and column. It is
checked here, after the reader's own checks, because the reader (a file adapter) may not
import :mod:`tryg.bounds` (a Django app).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from tryg import bounds
from tryg.imports.base import read_limits
from tryg.index.inputs import InputError, Problem
from tryg.index.inputs import mark as _
from tryg.readers.reports311 import (
    MAX_ERRORS,
    ReportMapping,
    Reports,
    load_mapping,
    read_reports,
    with_overrides,
)
from tryg.walks import bulk, grid, placing, states
from tryg.walks.models import Action, Finding
from tryg.walks.states import Moderation

#: Rows written at a time (findings, then their actions).
BATCH = 50_000
#: Ids per ``__in`` lookup of earlier imports.
LOOKUP = 500

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReportsImport:
    """What an import did (or the problems that stopped it, nothing written)."""

    file: str
    ok: bool
    rows_read: int = 0
    created: int = 0
    skipped_existing: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    in_areas: int = 0
    warnings: list[str] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    def lines(self) -> list[str]:
        if not self.ok:
            return [f"{self.file}: {len(self.errors)} error(s); nothing written",
                    *(f"  {p}" for p in self.errors)]
        flags = ", ".join(f"{n:,} {flag.replace('_', ' ')}" for flag, n in self.flagged.items()
                          if n)
        return [f"{self.file}: {self.created:,} findings imported ({self.rows_read:,} rows "
                f"read, {self.skipped_existing:,} imported before, {self.in_areas:,} placed in "
                f"an area)", *([f"  not placed: {flags}"] if flags else []),
                *(f"  warning: {w}" for w in self.warnings)]


def _existing(ids: Sequence[str]) -> set[str]:
    wanted = sorted({i for i in ids if i})
    found: set[str] = set()
    for start in range(0, len(wanted), LOOKUP):
        found.update(Finding.objects.filter(
            source=Finding.Source.IMPORT, external_id__in=wanted[start:start + LOOKUP])
            .values_list("external_id", flat=True))
    return found


def import_reports(path: str | Path, mapping: ReportMapping, *, public: bool = False,
                   encoding: str | None = None, progress: Progress | None = None,
                   now: dt.datetime | None = None) -> ReportsImport:
    """Read, check and write one file of reports; nothing is written unless all of it is."""
    name = Path(path).name
    try:
        reports, report = read_reports(path, mapping, encoding=encoding,
                                       limits=read_limits())
    except InputError as exc:
        return ReportsImport(name, ok=False, errors=list(exc.problems))
    errors = control_characters(reports, mapping)
    if errors:
        return ReportsImport(name, ok=False, errors=errors)
    return write_reports(reports, name=name, public=public, progress=progress, now=now,
                         warnings=[str(w) for w in report.warnings])


#: The read fields that are stored as the file gives them (the category is a slug, the
#: status and the dates are parsed).
FREE_TEXT = (("external_id", "external_ids"), ("text", "texts"), ("address", "addresses"))


def control_characters(reports: Reports, mapping: ReportMapping) -> list[Problem]:
    """A problem at the row and column of every free-text cell holding a control character
    (the first ``MAX_ERRORS`` by row, then "stopped", as the reader does). A column is
    searched whole first: a clean file costs one regular-expression scan per column."""
    found: list[Problem] = []
    for name, attribute in FREE_TEXT:
        cells: list[str] = getattr(reports, attribute)
        if name not in mapping.columns or bounds.control_character("".join(cells)) is None:
            continue
        in_column = 0
        for line, value in zip(reports.lines, cells, strict=True):
            character = bounds.control_character(value)
            if character is None:
                continue
            found.append(Problem.of(
                reports.source, line, mapping.columns[name],
                _("the text holds an invisible control character (%(character)s), which "
                  "cannot be stored"), character=character))
            in_column += 1
            if in_column > MAX_ERRORS:  # more than are kept (the first by row)
                break
    found.sort(key=lambda p: p.row or 0)
    if len(found) > MAX_ERRORS:
        found[MAX_ERRORS:] = [Problem.of(reports.source, None, None,
                                         _("stopped after %(count)s problems"),
                                         count=MAX_ERRORS)]
    return found


def write_reports(reports: Reports, *, name: str, public: bool = False,
                  progress: Progress | None = None, now: dt.datetime | None = None,
                  warnings: Sequence[str] = (),
                  owners: Sequence[int | None] | None = None) -> ReportsImport:
    """Write checked reports in one transaction (also the bench's bulk path); ``owners``:
    the responsible organisation's id of each row's action, when known."""
    now = now or timezone.now()
    areas = placing.area_codes(placing.area_layer(), reports.lon, reports.lat)
    with transaction.atomic():
        earlier = _existing(reports.external_ids)
        keep = [i for i, e in enumerate(reports.external_ids) if not e or e not in earlier]
        done = 0
        for start in range(0, len(keep), BATCH):
            _write_batch(reports, keep[start:start + BATCH], areas, public, now, owners)
            done += len(keep[start:start + BATCH])
            if progress is not None:
                progress(done, len(keep))
    flagged: dict[str, int] = {}
    for i in keep:
        flag = reports.position_flags[i]
        if flag:
            flagged[flag] = flagged.get(flag, 0) + 1
    return ReportsImport(
        name, ok=True, rows_read=len(reports), created=len(keep),
        skipped_existing=len(reports) - len(keep), flagged=flagged,
        in_areas=sum(1 for i in keep if areas[i]), warnings=list(warnings))


def _write_batch(r: Reports, rows: list[int], areas: list[str], public: bool,
                 now: dt.datetime, owners: Sequence[int | None] | None) -> None:
    """One batch of findings and their actions (:mod:`tryg.walks.bulk`)."""
    ids = bulk.reserve_ids(Finding, len(rows))
    cells = [grid.cell(r.lat[i], r.lon[i])  # type: ignore[arg-type]
             if r.lat[i] is not None and r.lon[i] is not None else (None, None)
             for i in rows]
    bulk.insert(Finding, len(rows), {
        "id": ids, "source": Finding.Source.IMPORT.value,
        "category": [r.categories[i] for i in rows], "area_code": [areas[i] for i in rows],
        "lat": [r.lat[i] for i in rows], "lon": [r.lon[i] for i in rows],
        "position_flag": [r.position_flags[i] for i in rows],
        "cell_lat": [c[0] for c in cells], "cell_lon": [c[1] for c in cells],
        "address": [r.addresses[i] for i in rows], "text": [r.texts[i] for i in rows],
        "is_public": public, "moderation": Moderation.NOT_NEEDED.value,
        "observed_at": [r.opened[i] for i in rows],
        "external_id": [r.external_ids[i] for i in rows],
    }, now=now)
    bulk.insert(Action, len(rows), {
        "finding_id": ids, "state": [r.states[i] for i in rows],
        "deadline": [r.deadlines[i] for i in rows],
        "closed_at": [r.closed[i] if states.is_closed(r.states[i]) else None for i in rows],
        "organisation_id": [owners[i] for i in rows] if owners is not None else None,
        # the finding's copies (Action.area_code, Action.started_at)
        "area_code": [areas[i] for i in rows],
        "started_at": [r.opened[i] or now for i in rows],
    }, now=now)


def import_file(path: str | Path, *, mapping: str | None = None,
                columns: dict[str, str] | None = None, date_format: str | None = None,
                timezone_name: str | None = None, public: bool = False,
                encoding: str | None = None,
                progress: Callable[[str, int, int], None] | None = None) -> ReportsImport:
    """:func:`import_reports` with the mapping given as the CLI gives it: a TOML file or a
    shipped mapping's name, and/or ``columns`` (field → file column) and values."""
    overrides: dict[str, Any] = {"columns": columns or {}, "date_format": date_format,
                                 "timezone": timezone_name}
    try:
        chosen = (load_mapping(mapping, **overrides) if mapping
                  else with_overrides(ReportMapping(columns={}), **overrides))
    except InputError as exc:
        return ReportsImport(Path(path).name, ok=False, errors=list(exc.problems))
    step = None if progress is None else (lambda done, total: progress("findings", done, total))
    return import_reports(path, chosen, public=public, encoding=encoding, progress=step)
