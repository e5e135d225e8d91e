"""Import police register data: counts, Statistics Denmark's STRAF11, record-level extracts.

The file is read and checked by :func:`tryg.readers.register.load_register`, then checked
against the stored areas (codes must exist, STRAF11's kommune names are matched to codes by
:func:`tryg.index.areas.reconcile_names`, offence labels must fit the column). Only then one
transaction writes the batch and its rows with :mod:`tryg.crime.bulk`:

* counts (either format) go to :class:`~tryg.crime.models.RegisterCount` as given;
* records go to :class:`~tryg.crime.models.RegisterRecord`, one row per record with its
  file line; with coordinates they are placed in the finest stored level with boundaries
  (:func:`tryg.geo.area_index`, one STRtree query per chunk, run in a worker thread while the
  previous chunk is written). Records outside every area, or without a location, are stored
  with no area and reported. The records with an area are also counted per area × quarter ×
  offence into ``RegisterCount`` in the same import, so the index reads one table whatever
  the source was.

The same file (SHA-256) imported again is recognised and nothing is written. ``replace=True``
replaces the current register imports of the same file name or the same checksum: they are
marked replaced and their rows deleted, in the same transaction as the new rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import models
from django.utils import timezone
from numpy.typing import NDArray

from tryg import geo
from tryg.areas.models import Area, AreaLink
from tryg.areas.services import stored_areas, stored_layer
from tryg.crime.bulk import bulk_insert
from tryg.crime.models import RegisterCount, RegisterRecord
from tryg.imports.base import (
    ImportReport,
    batch,
    checksum,
    failed,
    find_duplicate,
    read_limits,
)
from tryg.imports.models import ImportBatch
from tryg.index.areas import reconcile_names
from tryg.index.inputs import InputError, Problem
from tryg.readers.placement import place_in_process
from tryg.readers.records import Records, count_codes, unplaced
from tryg.readers.register import RegisterData, RegisterFormat, load_register
from tryg.readers.report import Collector

KIND = ImportBatch.Kind.REGISTER
PLACE_CHUNK = 100_000  # records placed (and written) at a time
OFFENCE_LENGTH = RegisterRecord._meta.get_field("offence").max_length or 200
RECORD_COLUMNS = ("import_batch_id", "line", "date", "offence", "area_id", "lon", "lat")
COUNT_COLUMNS = ("import_batch_id", "area_id", "quarter", "offence", "count", "line")


@dataclass(eq=False)
class _Plan:
    """What one import will write, checked against the database."""

    data: RegisterData
    counts: pd.DataFrame | None = None  # area_id, quarter, offence, count, line
    area_ids: NDArray[np.int64] | None = None  # records: area id per record, -1 for none
    layer: geo.AreaGeometry | None = None  # records with coordinates: where to place them
    layer_ids: NDArray[np.int64] | None = None  # area id of each layer position
    options: dict[str, Any] = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


class _DuplicateError(Exception):
    def __init__(self, batch_id: int) -> None:
        super().__init__(batch_id)
        self.batch_id = batch_id


def import_register(
    path: str | Path,
    *,
    user: Any = None,
    format: RegisterFormat = "auto",
    columns: Mapping[str, str] | None = None,
    crs: str | None = None,
    replace: bool = False,
) -> ImportReport:
    """Import one register file; see the module docstring. Never raises for a bad file: the
    report lists the problems (file, row, column) and nothing is written."""
    name = Path(path).name
    try:
        sha = checksum(path)
    except OSError as exc:
        problem = Problem(str(path), None, None, f"cannot read the file: {exc.strerror or exc}")
        return failed(KIND, path, "", InputError([problem]), user=user)
    earlier = find_duplicate(KIND, sha)
    if earlier is not None and not replace:
        return ImportReport(KIND, name, sha, ok=True, duplicate=True, batch_id=earlier.pk)
    options: dict[str, Any] = {"format": format, "columns": dict(columns or {}), "crs": crs,
                               "replace": replace}
    try:
        data = load_register(path, format=format, columns=columns, crs=crs,
                             limits=read_limits())
        plan = _check(data)
    except InputError as exc:
        return failed(KIND, path, sha, exc, user=user)
    options.update(plan.options)
    try:
        with batch(KIND, path, sha, user=user, options={k: v for k, v in options.items() if v},
                   rows=data.rows_read) as record:
            warnings = _replace(record, name, sha) if replace else _racing(record, sha)
            created, more = _write(record, plan)
            report = ImportReport(
                KIND, name, sha, ok=True, batch_id=record.pk, rows_read=data.rows_read,
                created=created,
                warnings=[str(w) for w in [*data.warnings, *plan.warnings, *more]] + warnings)
            record.report = report.as_dict()
    except _DuplicateError as dup:
        return ImportReport(KIND, name, sha, ok=True, duplicate=True, batch_id=dup.batch_id)
    return report


# --- checks against the database (before the transaction) ----------------------------------


def _check(data: RegisterData) -> _Plan:
    out = Collector(data.source)
    plan = _Plan(data, options={"kind": data.kind})
    if data.records is not None:
        records = data.records
        _check_offences(records.offences, records.lines, "offence", out)
        if records.places is not None:
            ids = _ids_for(records.places, records.lines, records.place_column or "area_code",
                           out, plan.warnings)
            plan.area_ids = ids[records.places.codes] if len(records) else ids[:0]
        else:
            level = finest_level()
            layer = stored_layer(level) if level is not None else None
            if layer is None:
                raise out.fail(None, None, "the records have coordinates, but no area with a "
                                           "boundary is stored: import the areas' boundaries "
                                           "first")
            by_code = dict(Area.objects.filter(level=level).values_list("code", "id"))
            plan.layer = layer
            plan.layer_ids = np.array([by_code[c] for c in layer.codes], dtype=np.int64)
            plan.options["level"] = level
    else:
        assert data.counts is not None
        counts = data.counts
        lines = counts.index.to_numpy(dtype=np.int64)
        offences = pd.Categorical(counts["offence"])
        _check_offences(offences, lines, "offence", out)
        column = "area_code" if "area_code" in counts.columns else "area_name"
        places = pd.Categorical(counts[column].astype(str))
        level = "kommune" if data.kind == "straf11" and Area.objects.filter(
            level="kommune").exists() else None
        ids = _ids_for(places, lines, column, out, plan.warnings, level=level,
                       straf11=data.kind == "straf11")
        area_ids = ids[places.codes]
        keep = area_ids >= 0
        plan.counts = pd.DataFrame({
            "area_id": area_ids[keep],
            "quarter": pd.Categorical(counts["quarter"].to_numpy()[keep]),
            "offence": offences[keep],
            "count": counts["count"].to_numpy(dtype=np.int64)[keep],
            "line": lines[keep],
        })
    out.raise_if_errors()
    return plan


def finest_level() -> str | None:
    """The level whose stored boundaries records are placed in: among the levels with
    boundaries, those that are no area's parent (the leaves), the one with most areas."""
    with_geometry = dict(Area.objects.exclude(geometry="").values("level")
                         .annotate(n=models.Count("id")).values_list("level", "n"))
    if not with_geometry:
        return None
    parents = set(AreaLink.objects.values_list("parent__level", flat=True).distinct())
    leaves = [lv for lv in with_geometry if lv not in parents] or list(with_geometry)
    return max(sorted(leaves), key=lambda lv: with_geometry[lv])


def _check_offences(offences: pd.Categorical[Any], lines: NDArray[np.int64], column: str,
                    out: Collector) -> None:
    for k, label in enumerate(offences.categories):
        if len(str(label)) > OFFENCE_LENGTH:
            first = int(lines[np.flatnonzero(offences.codes == k)[0]])
            out.error(first, column, f"the offence {str(label)[:40]!r}… is longer than "
                                     f"{OFFENCE_LENGTH} characters")


def _ids_for(places: pd.Categorical[Any], lines: NDArray[np.int64], column: str, out: Collector,
             warnings: list[Problem], *, level: str | None = None,
             straf11: bool = False) -> NDArray[np.int64]:
    """The stored area id of each category of ``places`` (codes, or names to reconcile);
    -1 for an aggregate row (a warning). Unknown places are errors at their first row."""
    labels = [str(c) for c in places.categories]
    first_index = _first_positions(places.codes, len(labels))
    first = [int(lines[i]) if i >= 0 else 0 for i in first_index]
    rows = np.bincount(places.codes[places.codes >= 0], minlength=len(labels))
    if column == "area_code":
        by_code = dict(Area.objects.filter(code__in=labels).values_list("code", "id"))
        ids = np.array([by_code.get(c, -1) for c in labels], dtype=np.int64)
        for k in (int(i) for i in np.flatnonzero(ids < 0)):
            out.error(first[k], column, f"{labels[k]!r} is not a stored area code "
                                        f"({rows[k]} row(s))")
        return ids
    areas = stored_areas(level)
    matched = reconcile_names(labels, areas, source=out.source, rows=first, column=column)
    out.errors.extend(matched.problems)
    warnings.extend(matched.aggregates)
    by_code = dict(Area.objects.filter(code__in=[c for c in matched.codes if c])
                   .values_list("code", "id"))
    ids = np.array([by_code.get(c, -1) if c else -1 for c in matched.codes], dtype=np.int64)
    seen: dict[int, int] = {}
    for k, area_id in enumerate(int(v) for v in ids):
        if area_id < 0:
            continue
        if area_id in seen:
            j = seen[area_id]
            out.error(first[k], column, f"{labels[k]!r} and {labels[j]!r} (row {first[j]}) "
                                        f"are both area {matched.codes[k]!r}")
        seen.setdefault(area_id, k)
    return ids


def _first_positions(codes: NDArray[np.integer[Any]], n: int) -> NDArray[np.int64]:
    first = np.full(n, -1, dtype=np.int64)
    valid = np.flatnonzero(codes >= 0)
    order = valid[::-1]
    first[codes[order]] = order  # the last assignment wins: the first position
    return first


# --- the transaction -------------------------------------------------------------------------


def _racing(record: ImportBatch, sha: str) -> list[str]:
    """Two uploads of one file at once: the second finds the first inside its transaction."""
    other = (ImportBatch.objects.filter(kind=KIND, sha256=sha, replaced_at__isnull=True)
             .exclude(pk=record.pk).order_by("id").first())
    if other is not None:
        raise _DuplicateError(other.pk)
    return []


def _replace(record: ImportBatch, name: str, sha: str) -> list[str]:
    """Retire the current register imports of the same file name or checksum."""
    earlier = list(ImportBatch.objects.filter(kind=KIND, replaced_at__isnull=True)
                   .filter(models.Q(file_name=name) | models.Q(sha256=sha))
                   .exclude(pk=record.pk).order_by("id"))
    notes = []
    for old in earlier:
        gone_records = RegisterRecord.objects.filter(import_batch=old).delete()[0]
        gone_counts = RegisterCount.objects.filter(import_batch=old).delete()[0]
        old.replaced_at = timezone.now()
        old.save(update_fields=["replaced_at"])
        notes.append(f"replaced import #{old.pk} ({old.file_name}): {gone_records:,} records "
                     f"and {gone_counts:,} counts deleted")
    return notes


def _write(record: ImportBatch, plan: _Plan) -> tuple[dict[str, int], list[Problem]]:
    if plan.counts is not None:
        return {"counts": _write_counts(record.pk, plan.counts)}, []
    records = plan.data.records
    assert records is not None
    out = Collector(records.source)
    if plan.layer is None:
        assert plan.area_ids is not None
        area_ids = plan.area_ids
        with bulk_insert(RegisterRecord._meta.db_table, RECORD_COLUMNS) as write:
            written = write(_record_columns(record.pk, records, slice(None), area_ids))
    else:
        assert plan.layer_ids is not None
        positions: list[NDArray[np.intp]] = []
        written = 0
        with bulk_insert(RegisterRecord._meta.db_table, RECORD_COLUMNS) as write:
            for part, index in _placed(records, plan.layer):
                positions.append(index)
                ids = np.where(index >= 0, plan.layer_ids[index], -1)
                written += write(_record_columns(record.pk, records, part, ids))
        index = np.concatenate(positions) if positions else np.empty(0, dtype=np.intp)
        unplaced(records, index, out)
        area_ids = np.where(index >= 0, plan.layer_ids[index], -1)
    places = pd.Categorical(area_ids)
    places = pd.Categorical.from_codes(np.where(area_ids >= 0, places.codes, -1),
                                       categories=places.categories)
    counted = count_codes(records, places)  # count_records' rows, as category codes
    counts = pd.DataFrame({
        "area_id": np.asarray(counted.place_labels, dtype=np.int64)[counted.place],
        "quarter": pd.Categorical.from_codes(counted.quarter, counted.quarter_labels),
        "offence": pd.Categorical.from_codes(counted.offence, counted.offence_labels),
        "count": counted.count, "line": counted.line})
    return ({"records": written, "counts": _write_counts(record.pk, counts)}, out.warnings)


def _placed(records: Records, layer: geo.AreaGeometry) -> Iterator[
        tuple[slice, NDArray[np.intp]]]:
    """Chunks of records with their area positions, placed ahead of the caller, which writes
    the previous chunk meanwhile. The STRtree query holds the GIL, so a large import places
    in a child process (:mod:`tryg.readers.placement`) and the database write keeps this
    one; a small import places here."""
    assert records.lon is not None and records.lat is not None
    lon, lat = records.lon, records.lat
    parts = [slice(s, min(len(lon), s + PLACE_CHUNK)) for s in range(0, len(lon), PLACE_CHUNK)]
    if len(parts) <= 2:
        for part in parts:
            yield part, geo.area_index(layer, lon[part], lat[part])
        return
    placed = place_in_process(layer, [(lon[p], lat[p]) for p in parts])
    yield from zip(parts, placed, strict=True)


def _record_columns(batch_id: int, records: Records, part: slice,
                    area_ids: NDArray[np.int64]) -> list[Any]:
    n = len(records.lines[part])
    nan = np.full(n, np.nan)
    return [batch_id, records.lines[part], records.dates[part], records.offences[part],
            (area_ids, area_ids < 0),
            nan if records.lon is None else records.lon[part],
            nan if records.lat is None else records.lat[part]]


def _write_counts(batch_id: int, counts: pd.DataFrame) -> int:
    with bulk_insert(RegisterCount._meta.db_table, COUNT_COLUMNS) as write:
        return write([batch_id, counts["area_id"].to_numpy(dtype=np.int64),
                      counts["quarter"].array, counts["offence"].array,
                      counts["count"].to_numpy(dtype=np.int64),
                      counts["line"].to_numpy(dtype=np.int64)])
