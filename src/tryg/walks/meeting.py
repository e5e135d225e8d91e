"""The closing meeting (findings grouped by owner), the re-walk and the participants' summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tryg.bounds import check_date
from tryg.walks import actions, states
from tryg.walks.checklists import category_label
from tryg.walks.models import Action, ActionEvent, Finding, Participant, Revisit, Walk
from tryg.walks.states import ActionState, WalkStatus


@dataclass
class OwnerGroup:
    owner: str
    organisation_id: int | None
    actions: list[Action] = field(default_factory=list)


def walk_actions(walk: Walk) -> list[Action]:
    return list(Action.objects.filter(finding__walk=walk)
                .select_related("finding", "organisation").order_by("finding__created_at", "id"))


def grouped_by_owner(walk: Walk) -> list[OwnerGroup]:
    """The walk's actions per responsible organisation, the unassigned last."""
    groups: dict[int | None, OwnerGroup] = {}
    for a in walk_actions(walk):
        key = a.organisation_id
        if key not in groups:
            groups[key] = OwnerGroup(a.organisation.name if a.organisation else
                                     _("No owner yet"), key)
        groups[key].actions.append(a)
    return sorted(groups.values(), key=lambda g: (g.organisation_id is None, g.owner))


def hold_meeting(walk: Walk, *, user: Any, now: dt.datetime | None = None) -> None:
    """Mark the closing meeting held (the walk counts as walked if it was not yet)."""
    now = now or timezone.now()
    with transaction.atomic():
        if walk.status == WalkStatus.PLANNED:
            states.check_walk_move(walk.status, WalkStatus.HELD)
            walk.status = WalkStatus.HELD
        states.check_walk_move(walk.status, WalkStatus.MEETING_HELD)
        walk.status = WalkStatus.MEETING_HELD
        walk.meeting_held_at = now
        walk.save(update_fields=["status", "meeting_held_at", "updated_at"])


def mark_walked(walk: Walk, *, now: dt.datetime | None = None) -> None:
    """A finding was recorded: a planned walk counts as walked from its own day on (the local
    date). A finding recorded before that day (a participant trying the personal link
    from the invitation) leaves the walk planned, so it can still be announced and reminded."""
    today = timezone.localdate(now or timezone.now())
    if walk.status == WalkStatus.PLANNED and today >= walk.date:
        walk.status = WalkStatus.HELD
        walk.save(update_fields=["status", "updated_at"])


def schedule_rewalk(walk: Walk, *, date: dt.date, start_time: dt.time, user: Any,
                    time_of_day: str | None = None) -> Walk:
    """A new walk on the same route that revisits the open and fixed findings of ``walk``.

    A ``date`` outside :mod:`tryg.bounds` (year 1, 9999) is refused with ValidationError, as
    the form refuses it: a caller other than the page (a script) is held to the same bounds.
    A ``date`` before ``walk``'s own is refused the same way: a re-walk revisits what the walk
    found.
    """
    check_date(date)
    if date < walk.date:
        raise ValidationError(
            _("The re-walk (%(date)s) cannot be before the walk it revisits (%(walk)s)."),
            code="before_walk", params={"date": date.isoformat(),
                                        "walk": walk.date.isoformat()})
    with transaction.atomic():
        rewalk = Walk.objects.create(
            title=_("Re-walk: %(title)s") % {"title": walk.title}, area_code=walk.area_code,
            route=walk.route, date=date, start_time=start_time,
            duration_minutes=walk.duration_minutes,
            time_of_day=time_of_day or walk.time_of_day, meeting_point=walk.meeting_point,
            checklist=walk.checklist, organiser=walk.organiser, revisit_of=walk,
            created_by=user if getattr(user, "is_authenticated", False) else None,
            is_demo=walk.is_demo)
        for p in walk.participants.all():
            from tryg.walks.invitations import new_token

            Participant.objects.create(walk=rewalk, user=p.user, name=p.name, email=p.email,
                                       role=p.role, organisation=p.organisation,
                                       token=new_token())
        revisit_states = states.OPEN_STATES | {ActionState.FIXED}
        Revisit.objects.bulk_create(
            Revisit(walk=rewalk, finding=a.finding) for a in walk_actions(walk)
            if a.state in revisit_states)
    return rewalk


def check_revisit(revisit: Revisit, *, reopen: bool, note: str, user: Any,
                  now: dt.datetime | None = None) -> None:
    """The re-walk's verdict: confirm the finding as it is, or reopen its action. The same
    verdict with the same note again changes nothing (the history is not written twice)."""
    now = now or timezone.now()
    outcome = Revisit.Outcome.REOPENED if reopen else Revisit.Outcome.CONFIRMED
    with transaction.atomic():
        stored = Revisit.objects.select_for_update().get(pk=revisit.pk)
        if stored.checked_at is not None and (stored.outcome, stored.note) == (outcome, note):
            return  # the same verdict sent again (a double click, a reload): written once
        action = Action.objects.get(finding=revisit.finding)
        if reopen and states.is_closed(action.state):
            actions.move(action, ActionState.CONFIRMED, user=user,
                         comment=note or _("Reopened by the re-walk."), now=now)
        else:
            actor = user if getattr(user, "is_authenticated", False) else None
            ActionEvent.objects.create(
                action=action, at=now, actor=actor,
                actor_name=user.get_username() if actor else "",
                kind=ActionEvent.Kind.REVISIT, from_state=action.state, to_state=action.state,
                comment=note or (_("Problem still there.") if reopen
                                 else _("Confirmed by the re-walk.")))
        revisit.outcome = outcome
        revisit.note = note
        revisit.checked_at = now
        revisit.save()


def summary_lines(walk: Walk) -> list[dict[str, str]]:
    """One line per finding of the walk: what, where, who, and its state now."""
    lines = []
    for a in walk_actions(walk):
        f: Finding = a.finding
        lines.append({
            "category": category_label(f.category),
            "text": f.text[:200],
            "owner": a.organisation.name if a.organisation else _("No owner yet"),
            "state": states.label(a.state),
            "deadline": a.deadline.isoformat() if a.deadline else "",
        })
    return lines
