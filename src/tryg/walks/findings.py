"""Recording findings (from a walk, a citizen, staff on someone's behalf) and duplicates.

:func:`record` is idempotent on the observation's key: the phone makes one key per observation
and may send it again after a lost answer or from its offline queue; the second time the first
finding is returned and nothing is written. Every finding gets its action (state ``new``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from tryg.walks import grid
from tryg.walks.models import Action, ActionEvent, Finding, Participant, Walk
from tryg.walks.photos import CleanImage, store
from tryg.walks.states import ActionState, Moderation


@dataclass
class Observation:
    """What a form or the phone sends for one finding."""

    category: str
    text: str = ""
    lat: float | None = None
    lon: float | None = None
    ratings: dict[str, int] = field(default_factory=dict)
    suggested_fix: str = ""
    suggested_owner: str = ""
    address: str = ""
    idempotency_key: str = ""
    observed_at: dt.datetime | None = None
    photos: list[CleanImage] = field(default_factory=list)


def record(observation: Observation, *, walk: Walk | None, source: str = Finding.Source.WALK,
           participant: Participant | None = None, user: Any = None,
           area_code: str = "", reporter_name: str = "", reporter_email: str = "",
           now: dt.datetime | None = None) -> tuple[Finding, bool]:
    """Store one finding with its action and photos; (finding, created). A repeat of an
    idempotency key returns the finding already stored (created False)."""
    key = observation.idempotency_key or None
    if key is not None:
        found = Finding.objects.filter(idempotency_key=key).first()
        if found is not None:
            return found, False
    now = now or timezone.now()
    citizen = source == Finding.Source.CITIZEN
    finding = Finding(
        walk=walk, source=source, category=observation.category,
        area_code=area_code or (walk.area_code if walk else ""),
        ratings=observation.ratings, text=observation.text,
        suggested_fix=observation.suggested_fix, suggested_owner=observation.suggested_owner,
        address=observation.address, idempotency_key=key,
        participant=participant,
        recorded_by=user if getattr(user, "is_authenticated", False) else None,
        reporter_name=reporter_name, reporter_email=reporter_email,
        moderation=Moderation.PENDING if citizen else Moderation.NOT_NEEDED,
        is_public=False, observed_at=observation.observed_at or now,
        is_demo=bool(walk and walk.is_demo))
    finding.set_position(observation.lat, observation.lon)
    try:
        with transaction.atomic():
            finding.save()
            action = Action.objects.create(finding=finding, state=ActionState.NEW)
            ActionEvent.objects.create(
                action=action, at=now, actor=finding.recorded_by,
                actor_name=_who(user, participant, reporter_name), kind=ActionEvent.Kind.STATE,
                to_state=ActionState.NEW)
            for image in observation.photos:
                store(image, finding=finding, user=user)
    except IntegrityError:
        if key is not None:  # the same observation arrived twice at the same moment
            found = Finding.objects.filter(idempotency_key=key).first()
            if found is not None:
                return found, False
        raise
    return finding, True


def _who(user: Any, participant: Participant | None, reporter: str) -> str:
    if getattr(user, "is_authenticated", False):
        return str(user.get_username())
    if participant is not None:
        return participant.name
    return reporter


def duplicate_radius() -> float:
    return float(getattr(settings, "TRYG_WALK_DUPLICATE_METRES", 30))


def nearby(category: str, lat: float, lon: float, metres: float | None = None,
           *, exclude: int | None = None, limit: int = 20) -> list[tuple[Finding, float]]:
    """Findings of ``category`` within ``metres`` of the point, nearest first.

    The grid cells narrow the search through the index (category, cell_lat, cell_lon); the
    exact distance is checked on what is left.
    """
    metres = duplicate_radius() if metres is None else metres
    lat_cells, lon_cells = grid.cell_ranges(lat, lon, metres)
    rows = (Finding.objects.filter(
        category=category, cell_lat__gte=lat_cells.start, cell_lat__lt=lat_cells.stop,
        cell_lon__gte=lon_cells.start, cell_lon__lt=lon_cells.stop)
        .select_related("action").only(
            "id", "category", "lat", "lon", "text", "created_at", "walk_id", "source",
            "action__state", "action__id"))
    if exclude is not None:
        rows = rows.exclude(pk=exclude)
    found = []
    for f in rows[:2000]:
        if f.lat is None or f.lon is None:
            continue
        d = grid.distance_m(lat, lon, f.lat, f.lon)
        if d <= metres:
            found.append((f, d))
    found.sort(key=lambda pair: pair[1])
    return found[:limit]


def duplicates_of(finding: Finding, metres: float | None = None) -> list[tuple[Finding, float]]:
    if finding.lat is None or finding.lon is None:
        return []
    return nearby(finding.category, finding.lat, finding.lon, metres, exclude=finding.pk)
