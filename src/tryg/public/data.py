"""What the public pages show, read from the latest published run's public view.

The one way in is :func:`published`: the latest published run, its specification and its
public results (:func:`tryg.runs.services.public_results`, the publication rules applied).
The helpers below select and arrange rows of that table; none of them computes a statistic or
reads the stored result rows.
"""

from __future__ import annotations

import datetime
import json
import math
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any

import numpy as np
import pandas as pd
from django.conf import settings

from tryg.accounts.models import Organisation
from tryg.areas.models import Area
from tryg.imports.models import ImportBatch
from tryg.index.hierarchy import Hierarchy, build_hierarchy
from tryg.index.spec import Spec
from tryg.public.measures import MeasureInfo, catalogue, composite_id
from tryg.runs.inputs import load_areas
from tryg.runs.models import IndexRun
from tryg.runs.services import public_results, run_spec
from tryg.surveys.models import Wave

#: How many similar areas the area page lists.
SIMILAR = 5


@dataclass(frozen=True)
class DataNotice:
    """What of a run's inputs is not real, from the data's own labels: the kinds of input
    (areas, population, register, survey) whose imports are files of ``tryg demo-data``
    (marked fictional at import, :func:`tryg.imports.base.demo_statement`), and the survey
    waves flagged synthetic with their producers."""

    fictional: tuple[str, ...] = ()
    synthetic_waves: tuple[int, ...] = ()
    producers: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.fictional or self.synthetic_waves)


def data_notice(run: IndexRun) -> DataNotice:
    """The :class:`DataNotice` of ``run``, read from the imports its inputs came from."""
    inputs = run.inputs if isinstance(run.inputs, dict) else {}
    batches: dict[str, list[int]] = {}
    for kind, fingerprint in inputs.items():
        ids = fingerprint.get("batches", []) if isinstance(fingerprint, dict) else []
        batches[str(kind)] = [int(i) for i in ids if isinstance(i, int)]
    every = [i for ids in batches.values() for i in ids]
    made_up = set(ImportBatch.objects.filter(pk__in=every, options__has_key="fictional")
                  .values_list("pk", flat=True))
    fictional = tuple(kind for kind in ("areas", "population", "register", "survey")
                      if made_up.intersection(batches.get(kind, ())))
    waves = list(Wave.objects.filter(import_batch_id__in=batches.get("survey", []),
                                     synthetic=True).order_by("year")
                 .values_list("year", "producer"))
    return DataNotice(fictional, tuple(y for y, _p in waves),
                      tuple(dict.fromkeys(p for _y, p in waves if p)))


@dataclass(frozen=True)
class Published:
    """The latest published run with its spec, public results and measure catalogue, and
    what of its data is synthetic or fictional."""

    run: IndexRun
    spec: Spec
    table: pd.DataFrame
    measures: dict[str, MeasureInfo] = field(repr=False)
    notice: DataNotice = field(default_factory=DataNotice)

    @cached_property
    def waves(self) -> list[int]:
        return sorted(int(w) for w in self.table["wave"].dropna().unique())

    def measure_ids(self) -> list[str]:
        """Measures present in the results, in the spec's order (unknown ones last)."""
        present = set(self.table["measure"])
        known = [m for m in self.measures if m in present]
        return known + sorted(present - set(known))

    def info(self, measure: str) -> MeasureInfo:
        found = self.measures.get(measure)
        return found or MeasureInfo(measure, measure, measure, "score", True)

    @cached_property
    def area_hierarchy(self) -> Hierarchy | None:
        """The stored areas' hierarchy (:func:`hierarchy`), read once per publication."""
        return hierarchy()

    @cached_property
    def areas(self) -> dict[str, tuple[str, str, frozenset[str]]]:
        """Code → (name, level, measures) of every area in the results (first row's name and
        level), made once per publication."""
        t = self.table
        out: dict[str, tuple[str, str, set[str]]] = {}
        for code, name, level, measure in zip(t["area_code"], t["area_name"], t["level"],
                                              t["measure"], strict=True):
            found = out.get(code)
            if found is None:
                out[code] = (str(name), str(level), {str(measure)})
            else:
                found[2].add(str(measure))
        return {code: (name, level, frozenset(ms)) for code, (name, level, ms) in out.items()}

    @cached_property
    def peers(self) -> dict[tuple[str, Any, str], list[dict[str, Any]]]:
        """The rows similar areas are chosen from, by (measure, wave, level): those with an
        estimate that is not suppressed (:func:`similar_areas`), made once per publication."""
        groups: dict[tuple[str, Any, str], list[dict[str, Any]]] = {}
        for records in self.by_area_measure.values():
            for r in records:
                if not r["suppressed"] and r["estimate"] is not None:
                    groups.setdefault((r["measure"], r["wave"], r["level"]), []).append(r)
        return groups

    @cached_property
    def by_area_measure(self) -> RowGroups:
        """Every public row as a dict, grouped by (area code, measure) in the table's order:
        indexed once per publication (an area page asks for some 35 such groups; filtering the
        table for each took most of a cold page's time), each group made into dicts when first
        read (a process that reads a few groups - the council's report - does not pay for
        every row's dict)."""
        return RowGroups(self.table)


class RowGroups(Mapping[tuple[str, str], list[dict[str, Any]]]):
    """The rows of a public table grouped by (area code, measure), in the table's order: the
    groups' positions found at once, a group's dicts made when it is first read (every
    group's at once when all are read); shared between callers: read them, do not change
    them."""

    def __init__(self, table: pd.DataFrame) -> None:
        self._table = table
        found: Any = ({} if table.empty else
                      table.groupby(["area_code", "measure"], sort=False).indices)
        self._positions: dict[tuple[str, str], Any] = dict(found)
        self._made: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._complete = False

    def __getitem__(self, key: tuple[str, str]) -> list[dict[str, Any]]:
        found = self._made.get(key)
        if found is None:
            positions = self._positions[key]
            found = self._made[key] = _records(self._table.iloc[positions])
        return found

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._positions)

    def __len__(self) -> int:
        return len(self._positions)

    def _every(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """Every group, made in one pass over the table (cheaper than group by group)."""
        if not self._complete:
            groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for record in _records(self._table):
                groups.setdefault((record["area_code"], record["measure"]), []).append(record)
            self._made = groups
            self._complete = True
        return self._made

    def values(self) -> Any:
        return self._every().values()

    def items(self) -> Any:
        return self._every().items()


@dataclass(frozen=True)
class Publication:
    """The latest publication, as cheaply as it can be read (one small query per request):
    the run's id and when it was published. The run itself is loaded only to render."""

    run_id: int
    published_at: datetime.datetime

    @property
    def key(self) -> str:
        """Identifies a publication: the run and when it was published (a run published
        again, or a database that reuses ids, gets a new key)."""
        return f"{self.run_id}-{self.published_at.timestamp():.6f}"

    def run(self) -> IndexRun:
        """The published run; :class:`StalePublicationError` when it is no longer published as
        this process last saw it (withdrawn, published again or deleted by another process
        within ``TRYG_PUBLICATION_RECHECK`` seconds)."""
        run = IndexRun.objects.select_related("spec").filter(pk=self.run_id).first()
        if run is None or run.published_at != self.published_at:
            raise StalePublicationError(self.key)
        return run


class StalePublicationError(Exception):
    """This process's idea of the latest publication is out of date."""


def latest_publication() -> Publication | None:
    """The publication the public sees: the run published last (None before any).

    Read from the database at most every ``settings.TRYG_PUBLICATION_RECHECK`` seconds per
    process (a query per request would cost more than serving a cached page); a save of any
    run in this process forgets it at once (:func:`forget_publication`), so publishing or
    withdrawing through this site is seen immediately, and other processes (a second server
    process, ``tryg index publish`` on the command line) within that many seconds, or at once
    with a shared cache, whose publication generation moves (:mod:`tryg.public.generation`).
    """
    global _recent
    from tryg.public import generation

    recheck = float(getattr(settings, "TRYG_PUBLICATION_RECHECK", 0.0))
    now = clock()
    recent = _recent
    counter = generation.current()
    if recent is not None and now - recent[0] < recheck and counter == recent[2]:
        return recent[1]
    found = (IndexRun.objects.filter(published_at__isnull=False)
             .order_by("-published_at", "-id").values_list("pk", "published_at").first())
    publication = (Publication(found[0], found[1])
                   if found and found[1] is not None else None)
    _recent = (now, publication, counter)
    return publication


#: The clock of the recheck (seconds, monotonic); tests set their own instead of waiting.
clock: Callable[[], float] = time.monotonic

#: When the latest publication was last read in this process, what it was, and the shared
#: cache's publication generation then (:mod:`tryg.public.generation`; None without one).
_recent: tuple[float, Publication | None, int | None] | None = None


def forget_publication(**_: Any) -> None:
    """Make the next :func:`latest_publication` read the database (connected to the saves
    and deletes of index runs in :mod:`tryg.public.apps`)."""
    global _recent
    _recent = None


def latest_published_run() -> IndexRun | None:
    """The run the public sees: the one published last (None before any publication).

    Always a run that is published now: when this process's idea of the publication turns
    out stale (:class:`StalePublicationError`), the database is read again."""
    for _attempt in range(3):
        publication = latest_publication()
        if publication is None:
            return None
        try:
            return publication.run()
        except StalePublicationError:
            forget_publication()
    return None  # publications changing faster than they can be read: serve none


def run_key(run: IndexRun) -> str:
    """The publication key of a published run (see :attr:`Publication.key`)."""
    assert run.published_at is not None
    return Publication(run.pk, run.published_at).key


def published(run: IndexRun) -> Published:
    """The public data of a published run (memoised per publication in this process)."""
    if not run.is_published:
        raise ValueError(f"run {run.pk} is not published")
    return _published(run_key(run), run)


@lru_cache(maxsize=4)
def _published(key: str, run: IndexRun) -> Published:
    spec = run_spec(run)
    return Published(run, spec, public_results(run), catalogue(spec), data_notice(run))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = frame.astype(object).where(frame.notna(), None)
    return [dict(zip(out.columns, row, strict=True)) for row in out.itertuples(index=False)]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of (a part of) the public table as dicts, missing values as None (the council's
    report indexes the few hundred areas it reads with this)."""
    return _records(frame)


def rows(data: Published, **where: Any) -> list[dict[str, Any]]:
    """Public rows matching ``column=value`` filters, as dicts (missing values as None;
    shared between callers: read them, do not change them)."""
    if where.keys() == {"area_code", "measure"}:
        return list(data.by_area_measure.get((where["area_code"], where["measure"]), ()))
    t = data.table
    mask = pd.Series(True, index=t.index)
    for column, value in where.items():
        mask &= t[column] == value
    return _records(t[mask])


def top_areas(data: Published) -> list[tuple[str, str]]:
    """(code, name) of the areas at the top level of the results, in order."""
    if data.table.empty:
        return []
    top = data.table["level"].iloc[0]  # results are ordered top level first
    part = data.table[data.table["level"] == top]
    return list(dict.fromkeys(zip(part["area_code"], part["area_name"], strict=True)))


def home_area(data: Published) -> tuple[str, str] | None:
    """The area of the front page: the municipality's own (an organisation of kind
    municipality with that area code), else the top-level area with the most answers to the
    headline measure in the latest wave, else the first top-level area."""
    tops = top_areas(data)
    if not tops:
        return None
    names = dict(tops)
    own = (Organisation.objects.filter(kind=Organisation.Kind.MUNICIPALITY)
           .exclude(area_code="").values_list("area_code", flat=True))
    for code in own:
        if code in names:
            return code, names[code]
    headline = data.spec.headline
    if headline is not None and data.waves:
        t = data.table
        part = t[(t["measure"] == headline.id) & (t["wave"] == data.waves[-1])
                 & t["area_code"].isin(names)]
        counts = pd.to_numeric(part["n_display"], errors="coerce").to_numpy(dtype=float)
        if counts.size and not pd.isna(counts).all():
            code = str(part["area_code"].iloc[int(np.nanargmax(counts))])
            return code, names[code]
    return tops[0]


def latest(data: Published, code: str, measure: str) -> dict[str, Any] | None:
    """The latest wave's public row of ``measure`` for area ``code``."""
    found = rows(data, area_code=code, measure=measure)
    return found[-1] if found else None


def area_rows(data: Published, code: str) -> pd.DataFrame:
    return data.table[data.table["area_code"] == code]


def hierarchy() -> Hierarchy | None:
    """The stored areas and their links as the core's hierarchy (None if inconsistent)."""
    areas, _fingerprint = load_areas()
    built, _problems = build_hierarchy(areas)
    return built


def parent_of(code: str, level: str, wave: int, areas: Hierarchy | None = None) -> str | None:
    """The parent the index compares ``code`` with: its ancestor (valid in ``wave``) at the
    level that partitions its level (the core's own rule, tryg.index.hierarchy). ``areas``:
    the hierarchy to use (read from the database when not given)."""
    h = areas if areas is not None else hierarchy()
    if h is None:
        return None
    parent_level = h.parent_level(level)
    if parent_level is None:
        return None
    try:
        ancestors = h.ancestors(wave)
    except ValueError:
        return None
    if code not in ancestors.index:
        return None
    value: Any = ancestors.at[code, parent_level]
    return None if value is None or value != value else str(value)


def similar_areas(data: Published, code: str, limit: int = SIMILAR) -> list[dict[str, Any]]:
    """Areas of the same level whose composite (or headline) estimate in the latest wave is
    nearest to this area's; suppressed rows take no part."""
    measure = composite_id(data.spec) or (data.spec.headline.id if data.spec.headline else None)
    own = latest(data, code, measure) if measure else None
    if not measure or own is None or own["estimate"] is None:
        return []
    peers = [r for r in data.peers.get((measure, own["wave"], own["level"]), ())
             if r["area_code"] != code]
    peers.sort(key=lambda r: (abs(r["estimate"] - own["estimate"]), r["area_code"]))
    return peers[:limit]


def map_levels(data: Published) -> list[str]:
    """Every level of stored areas with boundaries: the levels of the results first (top
    level first), then imported levels without published results (such as postal districts
    with no survey answers or register counts of their own), by name."""
    with_geometry = set(Area.objects.exclude(geometry="").values_list("level", flat=True)
                        .distinct())
    levels = [lv for lv in dict.fromkeys(data.table["level"]) if lv in with_geometry]
    return levels + sorted(with_geometry - set(levels))


def level_sizes() -> dict[str, int]:
    """Level → how many stored areas have a boundary."""
    counts: dict[str, int] = {}
    for lv in Area.objects.exclude(geometry="").values_list("level", flat=True):
        counts[lv] = counts.get(lv, 0) + 1
    return counts


def geometries(level: str | None = None) -> dict[str, tuple[str, Any]]:
    """Code → (level, parsed GeoJSON geometry) of the stored areas with a boundary."""
    query = Area.objects.exclude(geometry="")
    if level is not None:
        query = query.filter(level=level)
    out: dict[str, tuple[str, Any]] = {}
    for code, lv, text in query.order_by("code").values_list("code", "level", "geometry"):
        try:
            out[code] = (lv, json.loads(text))
        except ValueError:
            continue
    return out


def finite(value: Any) -> float | None:
    """A float, or None for missing and non-finite values."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class StoredArea:
    """An imported area as the public pages name it (with or without published figures)."""

    code: str
    name: str
    level: str
    has_figures: bool = False


def stored_area(code: str) -> StoredArea | None:
    found = Area.objects.filter(code=code).values_list("code", "name", "level").first()
    return StoredArea(*found) if found else None


def _stored(data: Published, query: Any) -> list[StoredArea]:
    with_figures = set(data.table["area_code"])
    return [StoredArea(c, n, lv, c in with_figures)
            for c, n, lv in query.values_list("code", "name", "level")]


def children(data: Published, code: str) -> list[StoredArea]:
    """The areas linked to ``code`` as their parent (every level), by level and name."""
    query = (Area.objects.filter(parent_links__parent__code=code).distinct()
             .order_by("level", "name", "code"))
    return _stored(data, query)


def parents(data: Published, code: str) -> list[StoredArea]:
    """The areas ``code`` is linked to as a child (every period), by level and name."""
    query = (Area.objects.filter(child_links__area__code=code).distinct()
             .order_by("level", "name", "code"))
    return _stored(data, query)


#: How many areas a search lists at most.
SEARCH_LIMIT = 50


def search_areas(data: Published, text: str) -> list[StoredArea]:
    """Stored areas whose name holds ``text`` (any case, Danish letters too) or whose code is
    ``text`` or ends in "-``text``" (a postal code imported as "post-9000"); those with
    published figures first, then by name. At most :data:`SEARCH_LIMIT`.

    Matched in Python over the areas' codes and names (a few thousand short rows even for
    all of Denmark): SQLite's LIKE folds the case of ASCII letters only."""
    wanted = " ".join(text.split())[:100].casefold()
    if not wanted:
        return []
    found = [a for a in _stored(data, Area.objects.all())
             if wanted in a.name.casefold() or a.code.casefold() == wanted
             or a.code.casefold().endswith(f"-{wanted}")]
    found.sort(key=lambda a: (not a.has_figures, a.name.casefold(), a.code))
    return found[:SEARCH_LIMIT]
