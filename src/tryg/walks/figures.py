"""Figures of the walks and their actions, per area and per owner: plain service functions.

The strategy module uses them as indicator sources and the report module as its safety-walk
section, so each returns plain data (dataclasses of numbers and names), never HTML.

* open findings: actions in an open state (:data:`tryg.walks.states.OPEN_STATES`);
* share fixed by the deadline: of the actions with a deadline that has passed or that are
  fixed, the share fixed on or before the deadline (None when there are none);
* median days to fix: from the finding's observation to the action's closing as ``fixed``;
* walks held: walks walked (status walked, meeting held or closed) — per owner, those the
  organisation organised or took part in.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from django.db.models import Case, Count, F, FloatField, Q, QuerySet, When
from django.db.models.lookups import GreaterThanOrEqual, LessThan
from django.utils import timezone

from tryg.accounts.models import Organisation
from tryg.walks.checklists import category_label
from tryg.walks.models import Action, Finding, Participant, Walk
from tryg.walks.states import OPEN_STATES, ActionState, Moderation, WalkStatus, label

HELD = (WalkStatus.HELD, WalkStatus.MEETING_HELD, WalkStatus.CLOSED)


@dataclass(frozen=True)
class Figures:
    key: str  # area code, or organisation id as text ("" = no owner yet)
    name: str
    findings: int
    open_findings: int
    due: int
    fixed_by_deadline: int
    median_days_to_fix: float | None
    walks_held: int

    @property
    def share_fixed_by_deadline(self) -> float | None:
        return self.fixed_by_deadline / self.due if self.due else None


def _measures(today: dt.date) -> dict[str, Count]:
    """What is counted of a group of actions: findings, open, due, fixed by the deadline."""
    return {
        "findings": Count("id"),
        "open": Count("id", filter=Q(state__in=OPEN_STATES)),
        "due": Count("id", filter=Q(deadline__isnull=False)
                     & (Q(deadline__lt=today) | Q(state=ActionState.FIXED))),
        "on_time": Count("id", filter=Q(state=ActionState.FIXED, deadline__isnull=False,
                                        closed_at__date__lte=F("deadline"))),
    }


def _medians(group: str, actions: QuerySet[Action] | None = None) -> dict[object, float]:
    days: dict[object, list[float]] = defaultdict(list)
    base = Action.objects.all() if actions is None else actions
    rows = (base.filter(state=ActionState.FIXED, closed_at__isnull=False)
            .values_list(group, "closed_at", "finding__observed_at", "finding__created_at"))
    for key, closed, observed, created in rows.iterator(chunk_size=5000):
        start = observed or created
        days[key].append(max(0.0, (closed - start).total_seconds() / 86400.0))
    return {k: statistics.median(v) for k, v in days.items()}


#: Seconds from a deadline's midnight (UTC) to an action's closing, below which the closing
#: fell on or before the deadline's day in every time zone (UTC+14 at most), and from which it
#: fell after it in every time zone (UTC-12 at least). Only the closings between the two are
#: read one by one and placed in the site's time zone; the rest the database counts.
_SURELY_ON_TIME = 86400.0 - 14 * 3600.0
_SURELY_LATE = 86400.0 + 12 * 3600.0
_KEYS = {"area": "area_code", "owner": "organisation_id"}


@dataclass
class _Line:
    findings: int = 0
    open: int = 0
    due: int = 0
    on_time: int = 0
    median_days: float | None = None


def _lines(kinds: tuple[str, ...], today: dt.date, area_codes: list[str] | None = None
           ) -> dict[str, dict[object, _Line]]:
    """Counts and days to fix per area and/or per owner (``kinds``), aggregated by the database.

    One GROUP BY per kind for the counts, and one query for the fixed actions: their days to
    fix (the medians: no database of ours has a median aggregate, so the numbers are fetched
    raw, without Django's per-row conversion, and sorted here with numpy) and, for the few
    closed near a deadline's midnight, the times that the site's time zone decides. Each
    reads the actions alone, through an index that covers it (the finding's area code and
    start are copied onto its action: ``Action.area_code``, ``Action.started_at``). The
    definitions are :func:`_measures`' and :func:`_medians`': the same figures, without a
    Python pass over every action's datetimes.
    """
    from tryg.walks.owner_figures import Epoch, _fetch

    actions = Action.objects.all()
    if area_codes is not None:
        actions = actions.filter(area_code__in=area_codes)
    out: dict[str, dict[object, _Line]] = {kind: defaultdict(_Line) for kind in kinds}
    gap = Epoch(F("closed_at")) - Epoch(F("deadline"))
    closed_fixed = Q(state=ActionState.FIXED, closed_at__isnull=False)
    for kind in kinds:
        rows = actions.values(_KEYS[kind]).annotate(
            findings=Count("id"),
            open=Count("id", filter=Q(state__in=OPEN_STATES)),
            due=Count("id", filter=Q(deadline__isnull=False)
                      & (Q(deadline__lt=today) | Q(state=ActionState.FIXED))),
            on_time=Count("id", filter=closed_fixed & Q(deadline__isnull=False)
                          & Q(LessThan(gap, _SURELY_ON_TIME))),
        ).order_by().values_list(_KEYS[kind], "findings", "open", "due", "on_time")
        lines = out[kind]
        for key, n, open_, due, on_time in rows:
            line = lines[key]
            line.findings, line.open, line.due, line.on_time = n, open_, due, on_time
    keys = [_KEYS[kind] for kind in kinds]
    zone = timezone.get_current_timezone()
    near = Q(deadline__isnull=False) & Q(GreaterThanOrEqual(gap, _SURELY_ON_TIME)) \
        & Q(LessThan(gap, _SURELY_LATE))
    fixed = (actions.filter(closed_fixed)
             .annotate(took=Epoch(F("closed_at")) - Epoch(F("started_at")),
                       near_closed=Case(When(near, then=Epoch(F("closed_at"))), default=None,
                                        output_field=FloatField()),
                       near_due=Case(When(near, then=Epoch(F("deadline"))), default=None,
                                     output_field=FloatField()))
             .values_list(*keys, "took", "near_closed", "near_due").order_by())
    rows = _fetch(fixed)
    if not rows:
        return out
    n = len(kinds)
    columns = list(zip(*rows, strict=True))
    took = np.maximum(0.0, np.array(columns[n], dtype=float) / 86400.0)  # None: nan
    near_closed, near_due = columns[n + 1], columns[n + 2]
    on_time = [i for i, closed in enumerate(near_closed) if closed is not None and (
        dt.datetime.fromtimestamp(closed, zone).date()
        <= dt.datetime.fromtimestamp(near_due[i], dt.UTC).date())]
    for k, kind in enumerate(kinds):
        group = columns[k]
        lines = out[kind]
        for i in on_time:
            lines[group[i]].on_time += 1
        for key, median in _medians_of(group, took).items():
            lines[key].median_days = median
    return out


def _medians_of(keys: Sequence[object], values: npt.NDArray[np.float64]
                ) -> dict[object, float]:
    """The median of ``values`` (nan: none) per key (organisation ids, None among them, or
    area codes), as :func:`statistics.median` gives it: the keys numbered by numpy, one sort
    of all values by key and value, then the middle of each key's run."""
    none = any(k is None for k in keys)
    raw = np.array([-1 if k is None else k for k in keys] if none else list(keys))
    found, codes = np.unique(raw, return_inverse=True)
    known = ~np.isnan(values)
    codes, values = codes[known], values[known]
    order = np.lexsort((values, codes))
    codes, values = codes[order], values[order]
    counts = np.bincount(codes, minlength=len(found))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    present = np.flatnonzero(counts)
    low = starts[present] + (counts[present] - 1) // 2
    high = starts[present] + counts[present] // 2
    middle = ((values[low] + values[high]) / 2.0).tolist()
    out: dict[object, float] = {}
    for code, median in zip(present.tolist(), middle, strict=True):
        key = found[code].item()
        out[None if none and key == -1 else key] = median
    return out


def _area_walks(area_codes: list[str] | None) -> dict[str, int]:
    walks = Walk.objects.filter(status__in=HELD)
    if area_codes is not None:
        walks = walks.filter(area_code__in=area_codes)
    return dict(walks.values("area_code").annotate(n=Count("id")).order_by()
                .values_list("area_code", "n"))


def _area_figures(lines: dict[object, _Line], walks: dict[str, int],
                  area_codes: list[str] | None) -> list[Figures]:
    keys = {k for k, line in lines.items() if line.findings} | set(walks)
    if area_codes is not None:
        keys &= set(area_codes)
    out = []
    for code in sorted(str(k) for k in keys):
        c = lines.get(code) or _Line()
        out.append(Figures(code, code, c.findings, c.open, c.due, c.on_time, c.median_days,
                           walks.get(code, 0)))
    return out


def per_area(today: dt.date | None = None, area_codes: list[str] | None = None
             ) -> list[Figures]:
    """Figures per area code (of the findings), areas with walks or findings only; of
    ``area_codes`` only when given (then only their actions are read)."""
    today = today or timezone.localdate()
    lines = _lines(("area",), today, area_codes)["area"]
    return _area_figures(lines, _area_walks(area_codes), area_codes)


def for_area(code: str, today: dt.date | None = None) -> Figures:
    found = per_area(today, [code])
    return found[0] if found else Figures(code, code, 0, 0, 0, 0, None, 0)


def _owner_figures(lines: dict[object, _Line]) -> list[Figures]:
    walk_sets: dict[object, set[int]] = defaultdict(set)
    for org, walk in Walk.objects.filter(status__in=HELD, organiser__isnull=False
                                         ).values_list("organiser_id", "id"):
        walk_sets[org].add(walk)
    for org, walk in (Participant.objects.filter(walk__status__in=HELD,
                                                 organisation__isnull=False)
                      .values_list("organisation_id", "walk_id").distinct()):
        walk_sets[org].add(walk)
    names: dict[object, str] = dict(Organisation.objects.values_list("id", "name"))
    keys = {k for k, line in lines.items() if line.findings} | set(walk_sets)
    out = []
    for key in sorted(keys, key=lambda k: (k is None, names.get(k, ""))):
        c = lines.get(key) or _Line()
        out.append(Figures("" if key is None else str(key),
                           names.get(key, "") if key is not None else "",
                           c.findings, c.open, c.due, c.on_time, c.median_days,
                           len(walk_sets.get(key, ()))))
    return out


def per_owner(today: dt.date | None = None) -> list[Figures]:
    """Figures per responsible organisation (and one line for actions without an owner)."""
    today = today or timezone.localdate()
    return _owner_figures(_lines(("owner",), today)["owner"])


def per_owner_and_area(today: dt.date | None = None) -> tuple[list[Figures], list[Figures]]:
    """Both tables of the figures page, reading the fixed actions once for both."""
    today = today or timezone.localdate()
    lines = _lines(("owner", "area"), today)
    return (_owner_figures(lines["owner"]),
            _area_figures(lines["area"], _area_walks(None), None))


# -- the council's report ------------------------------------------------------------------


@dataclass(frozen=True)
class OpenItem:
    """An open action, as an internal report lists it."""

    finding_id: int
    category: str
    text: str
    area_code: str
    area_name: str
    owner: str  # "" = no owner yet
    deadline: dt.date | None
    state: str  # the state's label
    overdue: bool


@dataclass(frozen=True)
class ReportFigures:
    """The walks' figures of the whole site for the council's report (:func:`report_figures`).

    ``by_category`` and ``by_owner``: (name, findings), most findings first (an owner ""
    is "no owner yet"); ``open_items`` only when asked for (``details=True``).
    """

    today: dt.date
    walks_held: int
    findings: int
    by_category: list[tuple[str, int]]
    by_owner: list[tuple[str, int]]
    due: int
    fixed_by_deadline: int
    median_days_to_fix: float | None
    open_count: int
    open_items: list[OpenItem]

    @property
    def share_fixed_by_deadline(self) -> float | None:
        return self.fixed_by_deadline / self.due if self.due else None


def counted_actions(area_codes: list[str] | None = None) -> QuerySet[Action]:
    """The actions a report counts: every finding's, except citizens' reports that are
    rejected or still awaiting moderation (not yet known to be real) and duplicates (counted
    once, as the finding they repeat); of ``area_codes`` when given."""
    found = (Action.objects.exclude(finding__moderation__in=[Moderation.PENDING,
                                                             Moderation.REJECTED])
             .exclude(state=ActionState.DUPLICATE))
    if area_codes is not None:
        found = found.filter(finding__area_code__in=area_codes)
    return found


def _ranked(pairs: dict[str, int]) -> list[tuple[str, int]]:
    return sorted(((name, n) for name, n in pairs.items() if n),
                  key=lambda p: (-p[1], p[0].casefold()))


def report_figures(today: dt.date, area_codes: list[str] | None = None, *,
                   details: bool = False) -> ReportFigures:
    """The figures of the report's safety-walk section, on ``today`` (which deadlines have
    passed): walks held, findings by category and by owner, the share fixed by the deadline,
    the median days to fix and the open items (listed only with ``details``: an internal
    report; a public one gets their number). Counts only, never a finding's text or position,
    unless ``details``. Of the areas ``area_codes`` when given, else of every area."""
    actions = counted_actions(area_codes)
    total = actions.aggregate(**_measures(today))
    # every action _medians reads is fixed: grouped by state, there is one group
    median = _medians("state", actions).get(ActionState.FIXED)
    names = _category_names()
    by_category: dict[str, int] = defaultdict(int)
    for code, n in actions.values_list("finding__category").annotate(n=Count("id")).order_by():
        by_category[category_label(code, names.get(code, ""))] += n
    by_owner: dict[str, int] = defaultdict(int)
    for owner, n in (actions.values_list("organisation__name").annotate(n=Count("id"))
                     .order_by()):
        by_owner[owner or ""] += n
    walks = Walk.objects.filter(status__in=HELD)
    if area_codes is not None:
        walks = walks.filter(area_code__in=area_codes)
    open_actions = actions.filter(state__in=OPEN_STATES)
    items = _open_items(open_actions, today, names) if details else []
    return ReportFigures(today=today, walks_held=walks.count(), findings=total["findings"],
                         by_category=_ranked(by_category), by_owner=_ranked(by_owner),
                         due=total["due"], fixed_by_deadline=total["on_time"],
                         median_days_to_fix=median,
                         open_count=open_actions.count(), open_items=items)


def _category_names() -> dict[str, str]:
    """Stored category names by code (the first template's, for codes of several)."""
    from tryg.walks.models import ChecklistCategory

    names: dict[str, str] = {}
    for code, name in ChecklistCategory.objects.order_by("template_id", "order").values_list(
            "code", "name"):
        names.setdefault(code, name)
    return names


def _open_items(actions: QuerySet[Action], today: dt.date,
                names: dict[str, str]) -> list[OpenItem]:
    from tryg.areas.models import Area

    rows = list(actions.select_related("finding", "organisation")
                .order_by(F("deadline").asc(nulls_last=True), "finding__area_code", "id"))
    codes = {a.finding.area_code for a in rows}
    areas = dict(Area.objects.filter(code__in=codes).values_list("code", "name"))
    out = []
    for a in rows:
        f: Finding = a.finding
        text = f.address or f.text
        out.append(OpenItem(
            finding_id=f.pk, category=category_label(f.category, names.get(f.category, "")),
            text=text if len(text) <= 120 else text[:119] + "…", area_code=f.area_code,
            area_name=areas.get(f.area_code, f.area_code),
            owner=a.organisation.name if a.organisation is not None else "",
            deadline=a.deadline, state=label(a.state),
            overdue=a.deadline is not None and a.deadline < today))
    return out


# -- cached, for the pages -----------------------------------------------------------------
# The pages ask the cache; a save or delete of an action, finding, walk or participant
# (signals, tryg.walks.apps) moves the generation on, so the next page computes afresh. With
# a per-process cache (the default local memory) another process may show figures up to
# CACHE_SECONDS old; a shared cache (Redis) has none of that lag. Bulk writes that bypass
# the signals (imports) call :func:`invalidate`.

GENERATION_KEY = "walks:figures:generation"
CACHE_SECONDS = 300


def invalidate(**_ignored: object) -> None:
    """Make the cached figures stale (a signal receiver, hence the keyword arguments)."""
    from django.core.cache import cache

    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def cached_rendering(name: str, render: Callable[[list[Figures], list[Figures]], str],
                     today: dt.date | None = None) -> str:
    """A rendering of both tables (e.g. the figures page's HTML in one language, ``name``),
    kept as long as the tables are: 2,400 rows are drawn once per change, not per visit."""
    from django.core.cache import cache

    today = today or timezone.localdate()
    key = f"{_tables_key(today)}:{name}"
    found = cache.get(key)
    if not isinstance(found, str):
        found = render(*cached_tables(today))
        cache.set(key, found, CACHE_SECONDS)
    return found


def _tables_key(today: dt.date) -> str:
    from django.core.cache import cache

    generation = cache.get_or_set(GENERATION_KEY, 1, None)
    return f"walks:figures:tables:{generation}:{today.isoformat()}"


def cached_tables(today: dt.date | None = None) -> tuple[list[Figures], list[Figures]]:
    """Both tables of the figures page, computed together (:func:`per_owner_and_area`)."""
    from django.core.cache import cache

    today = today or timezone.localdate()
    key = _tables_key(today)
    found = cache.get(key)
    if found is None:
        found = per_owner_and_area(today)
        cache.set(key, found, CACHE_SECONDS)
    owners, areas = found
    return list(owners), list(areas)
