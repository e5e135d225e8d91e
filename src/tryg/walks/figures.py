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
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.utils import timezone

from tryg.accounts.models import Organisation
from tryg.walks.models import Action, Participant, Walk
from tryg.walks.states import OPEN_STATES, ActionState, WalkStatus

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


def _counts(group: str, today: dt.date) -> dict[object, dict[str, int]]:
    rows = (Action.objects.values(group).annotate(
        findings=Count("id"),
        open=Count("id", filter=Q(state__in=OPEN_STATES)),
        due=Count("id", filter=Q(deadline__isnull=False)
                  & (Q(deadline__lt=today) | Q(state=ActionState.FIXED))),
        on_time=Count("id", filter=Q(state=ActionState.FIXED, deadline__isnull=False,
                                     closed_at__date__lte=F("deadline"))),
    ).order_by())
    return {r[group]: r for r in rows}


def _medians(group: str) -> dict[object, float]:
    days: dict[object, list[float]] = defaultdict(list)
    rows = (Action.objects.filter(state=ActionState.FIXED, closed_at__isnull=False)
            .values_list(group, "closed_at", "finding__observed_at", "finding__created_at"))
    for key, closed, observed, created in rows.iterator(chunk_size=5000):
        start = observed or created
        days[key].append(max(0.0, (closed - start).total_seconds() / 86400.0))
    return {k: statistics.median(v) for k, v in days.items()}


def per_area(today: dt.date | None = None, area_codes: list[str] | None = None
             ) -> list[Figures]:
    """Figures per area code (of the findings), areas with walks or findings only."""
    today = today or timezone.localdate()
    counts = _counts("finding__area_code", today)
    medians = _medians("finding__area_code")
    walks = dict(Walk.objects.filter(status__in=HELD).values("area_code")
                 .annotate(n=Count("id")).order_by().values_list("area_code", "n"))
    keys = set(counts) | set(walks)
    if area_codes is not None:
        keys &= set(area_codes)
    out = []
    for code in sorted(str(k) for k in keys):
        c = counts.get(code, {})
        out.append(Figures(code, code, c.get("findings", 0), c.get("open", 0), c.get("due", 0),
                           c.get("on_time", 0), medians.get(code), walks.get(code, 0)))
    return out


def for_area(code: str, today: dt.date | None = None) -> Figures:
    found = per_area(today, [code])
    return found[0] if found else Figures(code, code, 0, 0, 0, 0, None, 0)


def per_owner(today: dt.date | None = None) -> list[Figures]:
    """Figures per responsible organisation (and one line for actions without an owner)."""
    today = today or timezone.localdate()
    counts = _counts("organisation_id", today)
    medians = _medians("organisation_id")
    walk_sets: dict[object, set[int]] = defaultdict(set)
    for org, walk in Walk.objects.filter(status__in=HELD, organiser__isnull=False
                                         ).values_list("organiser_id", "id"):
        walk_sets[org].add(walk)
    for org, walk in (Participant.objects.filter(walk__status__in=HELD,
                                                 organisation__isnull=False)
                      .values_list("organisation_id", "walk_id").distinct()):
        walk_sets[org].add(walk)
    names: dict[object, str] = dict(Organisation.objects.values_list("id", "name"))
    out = []
    for key in sorted(set(counts) | set(walk_sets), key=lambda k: (k is None, names.get(k, ""))):
        c = counts.get(key, {})
        out.append(Figures("" if key is None else str(key),
                           names.get(key, "") if key is not None else "",
                           c.get("findings", 0), c.get("open", 0), c.get("due", 0),
                           c.get("on_time", 0), medians.get(key), len(walk_sets.get(key, ()))))
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


def cached_per_owner(today: dt.date | None = None) -> list[Figures]:
    today = today or timezone.localdate()
    return _cached("owner", today, lambda: per_owner(today))


def cached_per_area(today: dt.date | None = None) -> list[Figures]:
    today = today or timezone.localdate()
    return _cached("area", today, lambda: per_area(today))


def _cached(name: str, today: dt.date, compute: Callable[[], list[Figures]]) -> list[Figures]:
    from django.core.cache import cache

    generation = cache.get_or_set(GENERATION_KEY, 1, None)
    key = f"walks:figures:{name}:{generation}:{today.isoformat()}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, CACHE_SECONDS)
    return list(found)
