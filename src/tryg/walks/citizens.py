"""Citizens' reports of unsafe places: rate-limited per address, moderated before shown.

A report is a finding with source ``citizen`` and moderation ``pending``; it feeds the same
action flow as a walk's findings. It is public only after a moderator approves it, and then
without the reporter's name or e-mail (those are never published; see
:mod:`tryg.walks.public`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tryg.areas.models import Area
from tryg.walks import placing
from tryg.walks.findings import Observation, record
from tryg.walks.models import Finding
from tryg.walks.states import Moderation

#: Sources whose findings wait for a moderator (citizens' forms, Open311 posts).
MODERATED_SOURCES = (Finding.Source.CITIZEN, Finding.Source.OPEN311)


def per_hour() -> int:
    return int(getattr(settings, "TRYG_REPORTS_PER_HOUR", 5))


def _key(address: str, now: dt.datetime, bucket: str = "reports") -> str:
    return f"walks:{bucket}:{address}:{now:%Y%m%d%H}"


def allow(address: str, *, now: dt.datetime | None = None, bucket: str = "reports",
          limit: int | None = None) -> bool:
    """Count one report from ``address`` in this clock hour; False once over the limit
    (``limit``, default :func:`per_hour`; ``bucket`` keeps other senders' counts apart)."""
    now = now or timezone.now()
    key = _key(address, now, bucket)
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return int(count) <= (per_hour() if limit is None else limit)


def report(observation: Observation, *, area_code: str, name: str = "", email: str = "",
           user: Any = None, now: dt.datetime | None = None) -> tuple[Finding, bool]:
    """Store a citizen's report (pending moderation). ``area_code`` is the area the form was
    opened from (its page's link); the report is counted where it lies (:func:`area_of`)."""
    return record(observation, walk=None, source=Finding.Source.CITIZEN,
                  area_code=area_of(observation, area_code),
                  reporter_name=name, reporter_email=email, user=user, now=now)


def area_of(observation: Observation, given: str) -> str:
    """The area a citizen's report is counted in: the stored area its position lies in (as an
    Open311 post is placed), else ``given`` if that is a stored area's code, else none ("").
    The form's area comes from the visitor's browser: an unknown code is not stored."""
    placed = placing.area_at(observation.lon, observation.lat)
    if placed:
        return placed
    if given and Area.objects.filter(code=given).exists():
        return given
    return ""


class AlreadyDecidedError(ValueError):
    """A report that is no longer awaiting moderation: its decision stands."""


def moderate(finding: Finding, *, approve: bool) -> None:
    """Approve or reject a report awaiting moderation, once: the moderation page offers no
    way to reverse a decision, so a second one (a forged or repeated POST, two moderators at
    once) is refused with :class:`AlreadyDecidedError` and changes nothing."""
    with transaction.atomic():
        locked = Finding.objects.select_for_update().get(pk=finding.pk)
        if locked.moderation != Moderation.PENDING:
            raise AlreadyDecidedError(
                _("Report %(id)d was already decided (%(decision)s); the decision stands.")
                % {"id": locked.pk, "decision": locked.get_moderation_display()})
        locked.moderation = Moderation.APPROVED if approve else Moderation.REJECTED
        locked.is_public = approve
        locked.save(update_fields=["moderation", "is_public", "updated_at"])
    finding.refresh_from_db()


def pending() -> Any:
    return Finding.objects.filter(source__in=MODERATED_SOURCES,
                                  moderation=Moderation.PENDING).order_by("created_at")


def publicly_visible() -> Any:
    """Findings that may be shown to the public: marked public and, if citizens', approved."""
    return Finding.objects.filter(is_public=True).exclude(
        moderation__in=[Moderation.PENDING, Moderation.REJECTED])
