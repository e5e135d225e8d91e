"""Invitations, reminders and the closing summary, by e-mail through Django's mail framework.

An invitation carries the walk as an iCalendar file (RFC 5545, written with ``icalendar``) and
the participant's personal link, which lets someone without an account open the walk and record
findings (``Participant.token``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from tryg.walks.models import Participant, Walk


def new_token() -> str:
    return secrets.token_urlsafe(24)


def personal_url(base_url: str, participant: Participant) -> str:
    return base_url.rstrip("/") + reverse("walks:personal", args=[participant.token])


def walk_start(walk: Walk) -> dt.datetime:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return dt.datetime.combine(walk.date, walk.start_time, tzinfo=zone)


def ics(walk: Walk, *, url: str = "", now: dt.datetime | None = None) -> bytes:
    """The walk as a one-event calendar (its UID stays the same, so an update replaces it)."""
    calendar = Calendar()
    calendar.add("prodid", "-//tryg//safety walks//DA")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    start = walk_start(walk)
    event.add("uid", f"walk-{walk.pk}@tryg")
    event.add("dtstamp", now or timezone.now())
    event.add("dtstart", start)
    event.add("dtend", start + dt.timedelta(minutes=walk.duration_minutes))
    event.add("summary", walk.title)
    event.add("location", walk.meeting_point)
    description = _("Safety walk in %(area)s. Meeting point: %(place)s.") % {
        "area": walk.area_code, "place": walk.meeting_point}
    if url:
        description += "\n" + url
        event.add("url", url)
    event.add("description", description)
    calendar.add_component(event)
    return bytes(calendar.to_ical())


def _send(messages: Iterable[EmailMessage]) -> int:
    batch = list(messages)
    if not batch:
        return 0
    with get_connection() as connection:
        return int(connection.send_messages(batch) or 0)


def invite(walk: Walk, participants: Iterable[Participant], *, base_url: str,
           reminder: bool = False, now: dt.datetime | None = None) -> int:
    """E-mail each participant with an address the invitation (or a reminder) and the .ics."""
    now = now or timezone.now()
    messages = []
    sent: list[Participant] = []
    for p in participants:
        if not p.email:
            continue
        url = personal_url(base_url, p)
        with translation.override(settings.LANGUAGE_CODE):
            subject = (_("Reminder: safety walk %(date)s") if reminder
                       else _("Invitation: safety walk %(date)s")) % {
                "date": walk.date.isoformat()}
            body = render_to_string("walks/email/invitation.txt", {
                "walk": walk, "participant": p, "url": url, "reminder": reminder})
        message = EmailMessage(subject, body, to=[p.email])
        message.attach("tryghedsvandring.ics", ics(walk, url=url, now=now), "text/calendar")
        messages.append(message)
        sent.append(p)
    count = _send(messages)
    field = "reminded_at" if reminder else "invited_at"
    Participant.objects.filter(pk__in=[p.pk for p in sent]).update(**{field: now})
    return count


def send_summary(walk: Walk, lines: list[dict[str, str]], *, base_url: str,
                 now: dt.datetime | None = None) -> int:
    """Tell every participant with an address what was found and what became of it."""
    now = now or timezone.now()
    messages = []
    for p in walk.participants.all():
        if not p.email:
            continue
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("What became of the safety walk %(date)s") % {
                "date": walk.date.isoformat()}
            body = render_to_string("walks/email/summary.txt", {
                "walk": walk, "participant": p, "lines": lines,
                "url": personal_url(base_url, p)})
        messages.append(EmailMessage(subject, body, to=[p.email]))
    count = _send(messages)
    Walk.objects.filter(pk=walk.pk).update(summary_sent_at=now)
    return count


def remind_due(*, today: dt.date, within_days: int, base_url: str,
               now: dt.datetime | None = None) -> int:
    """Remind the participants (with an address, not yet reminded) of the planned walks in the
    next ``within_days`` days; the number of e-mails sent. Run it daily (``tryg walks
    remind`` from cron, or a job of the task queue)."""
    from tryg.walks.states import WalkStatus

    sent = 0
    walks = Walk.objects.filter(status=WalkStatus.PLANNED, date__gte=today,
                                date__lte=today + dt.timedelta(days=within_days))
    for walk in walks.order_by("date", "id"):
        due = walk.participants.filter(reminded_at__isnull=True).exclude(email="")
        sent += invite(walk, list(due), base_url=base_url, reminder=True, now=now)
    return sent
