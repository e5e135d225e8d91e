"""Import police register data: counts, Statistics Denmark's STRAF11, record-level extracts.

The file is read and checked by :func:`tryg.readers.register.load_register`, then checked
against the stored areas (codes must exist, STRAF11's kommune names are matched to codes by
:func:`tryg.index.areas.reconcile_names`, offence labels must fit the column). Only then one
transaction writes the batch and its rows with :mod:`tryg.police_register.bulk`:

* counts (either format) go to :class:`~tryg.police_register.models.RegisterCount` as given;
* records go to :class:`~tryg.police_register.models.RegisterRecord`, one row per record with its
  file line; with coordinates they are placed in the finest stored level with boundaries
  (:func:`tryg.geo.area_index`, one STRtree query per chunk, run in a worker thread while the
  previous chunk is written). Records outside every area, or without a location, are stored
  with no area and reported. The records with an area are also counted per area × quarter ×
  offence into ``RegisterCount`` in the same import, so the index reads one table whatever
  the source was.

The same file (SHA-256) imported again is recognised and nothing is written. Counts for an
area × quarter × offence already stored (by an earlier import of another file, e.g. a
corrected counts file) are refused, naming the overlap and the import holding it, unless
``replace=True``: then, in the same transaction as the new rows, the overlapping stored counts
are deleted, with the earlier import's records of those area × quarter × offence; an earlier
import left with no counts (or the same file imported again) is marked replaced and all its
rows deleted. The import's audit event lists the imports replaced and how many rows each lost.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.db import connection, models
from django.utils import timezone
from numpy.typing import NDArray

from tryg import geo
from tryg.areas.models import Area, AreaLink
from tryg.areas.services import stored_areas, stored_layer
from tryg.imports.base import ImportReport, Outcome, chunked, read_limits, run_import
from tryg.imports.models import ImportBatch
from tryg.index.areas import reconcile_names
from tryg.index.inputs import InputError, Problem
from tryg.index.inputs import mark as _
from tryg.messages import Number
from tryg.police_register.bulk import bulk_insert
from tryg.police_register.models import RegisterCount, RegisterRecord
from tryg.readers.placement import place_in_process
from tryg.readers.records import Records, count_codes, unplaced
from tryg.readers.register import RegisterData, RegisterFormat, load_register
from tryg.readers.report import Collector, ReadReport

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
    options: dict[str, Any] = {k: v for k, v in {
        "format": format, "columns": dict(columns or {}), "crs": crs,
        "replace": replace}.items() if v}

    def read() -> tuple[_Plan, ReadReport]:
        data = load_register(path, format=format, columns=columns, crs=crs,
                             limits=read_limits())
        plan = _check(data)
        options.update(plan.options)  # (the batch is created with this dict, after reading)
        return plan, ReadReport(data.source, data.rows_read, data.rows_read,
                                [*data.warnings, *plan.warnings], data.encoding)

    def write(record: ImportBatch, plan: _Plan) -> Outcome:
        return _write(record, plan, replace=replace)

    return run_import(KIND, path, read=read, write=write, user=user, options=options,
                      replace_same=_drop if replace else None)


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
                raise out.fail(None, None, _("the records have coordinates, but no area with "
                                             "a boundary is stored: import the areas' "
                                             "boundaries first"))
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
            out.error(first, column,
                      _("the offence %(value)s… is longer than %(limit)s characters"),
                      value=repr(str(label)[:40]), limit=OFFENCE_LENGTH)


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
            out.error(first[k], column,
                      _("%(code)s is not a stored area code (%(rows)s row(s))"),
                      code=repr(labels[k]), rows=int(rows[k]))
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
            out.error(first[k], column,
                      _("%(name)s and %(other)s (row %(row)s) are both area %(code)s"),
                      name=repr(labels[k]), other=repr(labels[j]), row=first[j],
                      code=repr(matched.codes[k]))
        seen.setdefault(area_id, k)
    return ids


def _first_positions(codes: NDArray[np.integer[Any]], n: int) -> NDArray[np.int64]:
    first = np.full(n, -1, dtype=np.int64)
    valid = np.flatnonzero(codes >= 0)
    order = valid[::-1]
    first[codes[order]] = order  # the last assignment wins: the first position
    return first


# --- the transaction -------------------------------------------------------------------------


def _drop(earlier: ImportBatch) -> int:
    """Delete all rows of an earlier import (the same file imported again with replace)."""
    gone = RegisterRecord.objects.filter(import_batch=earlier).delete()[0]
    gone += RegisterCount.objects.filter(import_batch=earlier).delete()[0]
    ImportBatch.objects.filter(pk=earlier.pk).update(record_count=0)
    return int(gone)


#: The PostgreSQL advisory lock under which register imports write, one at a time: of two
#: files with counts for the same area × quarter × offence written at once, the second must see
#: the first's counts to refuse (or replace) them. SQLite's IMMEDIATE transactions already
#: write one at a time.
_WRITE_LOCK = 0x7472_7972  # "tryr"


def _write(record: ImportBatch, plan: _Plan, *, replace: bool) -> Outcome:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITE_LOCK])
    if plan.counts is not None:
        replaced = _overlap(plan.counts, plan.data.source, "count", replace=replace)
        return Outcome({"counts": _write_counts(record.pk, plan.counts)}, replaced=replaced)
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
    record.record_count = written
    places = pd.Categorical(area_ids)
    places = pd.Categorical.from_codes(np.where(area_ids >= 0, places.codes, -1),
                                       categories=places.categories)
    counted = count_codes(records, places)  # count_records' rows, as category codes
    counts = pd.DataFrame({
        "area_id": np.asarray(counted.place_labels, dtype=np.int64)[counted.place],
        "quarter": pd.Categorical.from_codes(counted.quarter, counted.quarter_labels),
        "offence": pd.Categorical.from_codes(counted.offence, counted.offence_labels),
        "count": counted.count, "line": counted.line})
    replaced = _overlap(counts, records.source, "offence", replace=replace)
    return Outcome({"records": written, "counts": _write_counts(record.pk, counts)},
                   list(out.warnings), replaced)


# --- counts already stored -------------------------------------------------------------------

#: overlapping area × quarter × offence named one by one in the error; the rest are summed up
OVERLAPS_NAMED = 20


def _overlap(counts: pd.DataFrame, source: str, column: str, *, replace: bool
             ) -> dict[int, int]:
    """Stored counts for an area × quarter × offence of ``counts``: an error naming them
    (row, area, quarter, offence, the import holding them), or with ``replace`` deleted
    (with the records behind them) — earlier import → rows deleted."""
    quarters = sorted({str(q) for q in pd.unique(counts["quarter"])})
    if not len(counts) or not RegisterCount.objects.filter(quarter__in=quarters).exists():
        return {}
    stored = pd.DataFrame.from_records(
        list(RegisterCount.objects.filter(quarter__in=quarters).values_list(
            "id", "import_batch_id", "area_id", "quarter", "offence")),
        columns=["id", "batch", "area_id", "quarter", "offence"])
    new = pd.DataFrame({"area_id": counts["area_id"].to_numpy(dtype=np.int64),
                        "quarter": np.asarray(counts["quarter"], dtype=object).astype(str),
                        "offence": np.asarray(counts["offence"], dtype=object).astype(str),
                        "line": counts["line"].to_numpy(dtype=np.int64)})
    both = stored.merge(new, on=["area_id", "quarter", "offence"])
    if both.empty:
        return {}
    batches = {b.pk: b for b in ImportBatch.objects.filter(pk__in=both["batch"].unique()
                                                           .tolist())}
    if not replace:
        raise InputError(_overlap_problems(both, batches, source, column))
    return _replace_overlap(both, batches)


def _overlap_problems(both: pd.DataFrame, batches: dict[int, ImportBatch], source: str,
                      column: str) -> list[Problem]:
    both = both.sort_values(["line", "id"], kind="stable")
    named = both.head(OVERLAPS_NAMED)
    codes = dict(Area.objects.filter(pk__in=named["area_id"].unique().tolist())
                 .values_list("pk", "code"))
    problems = []
    for line, area_id, quarter, offence, batch_id in zip(
            named["line"], named["area_id"], named["quarter"], named["offence"],
            named["batch"], strict=True):
        held = batches[int(batch_id)]
        problems.append(Problem.of(
            source, int(line), column,
            _("area %(area)s, %(quarter)s, offence %(offence)s is already stored (import "
              "#%(batch)s, %(file)s); import with replace to replace it"),
            area=repr(codes.get(int(area_id), area_id)), quarter=quarter,
            offence=repr(offence), batch=held.pk, file=held.file_name))
    if len(both) > OVERLAPS_NAMED:
        holders = ", ".join(f"#{b}" for b in sorted(batches))
        problems.append(Problem.of(
            source, None, column,
            _("… and %(more)s more area × quarter × offence already stored (%(all)s in all, "
              "held by import(s) %(holders)s); import with replace to replace them"),
            more=Number(len(both) - OVERLAPS_NAMED), all=Number(len(both)), holders=holders))
    return problems


def _replace_overlap(both: pd.DataFrame, batches: dict[int, ImportBatch]) -> dict[int, int]:
    """Delete the overlapping stored counts and the records behind them; retire an import
    left without counts. Earlier import → rows deleted."""
    totals = dict(RegisterCount.objects.filter(import_batch_id__in=list(batches))
                  .values("import_batch_id").annotate(n=models.Count("id"))
                  .values_list("import_batch_id", "n"))
    gone: dict[int, int] = {}
    for batch_id in sorted(int(b) for b in both["batch"].unique()):
        part = both[both["batch"] == batch_id]
        old = batches[batch_id]
        ids = part["id"].drop_duplicates()
        if len(ids) == totals.get(old.pk, 0):  # all of it: the whole import goes
            gone[old.pk] = _drop(old)
            ImportBatch.objects.filter(pk=old.pk).update(replaced_at=timezone.now())
            continue
        n = 0
        for chunk in chunked(ids.tolist()):
            n += RegisterCount.objects.filter(pk__in=chunk).delete()[0]
        if old.record_count:
            n += _delete_records(old, part)
        gone[old.pk] = n
    return gone


def _delete_records(old: ImportBatch, keys: pd.DataFrame) -> int:
    """Delete ``old``'s records of the area × quarter × offence in ``keys``."""
    stored = pd.DataFrame.from_records(
        list(RegisterRecord.objects.filter(import_batch=old, area__isnull=False)
             .values_list("id", "area_id", "date", "offence")),
        columns=["id", "area_id", "date", "offence"])
    if stored.empty:
        return 0
    stored["quarter"] = pd.PeriodIndex(pd.to_datetime(stored["date"]), freq="Q").astype(str)
    hit = stored.merge(keys[["area_id", "quarter", "offence"]].drop_duplicates(),
                       on=["area_id", "quarter", "offence"])["id"].tolist()
    n = 0
    for chunk in chunked(hit):
        n += RegisterRecord.objects.filter(pk__in=chunk).delete()[0]
    ImportBatch.objects.filter(pk=old.pk).update(record_count=models.F("record_count") - n)
    return n


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
