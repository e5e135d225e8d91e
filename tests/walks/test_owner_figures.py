"""One owner's figures read through the owner index equal that owner's line of per_owner."""

from __future__ import annotations

import datetime as dt

import pytest

from tryg.accounts.models import Organisation
from tryg.walks import checklists, figures
from tryg.walks.models import Action, Finding, Participant, Walk
from tryg.walks.owner_figures import for_owner
from tryg.walks.states import ActionState, WalkStatus

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 1)
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _action(org: Organisation | None, state: str, *, deadline: dt.date | None,
            fixed_after_days: float | None = None) -> None:
    f = Finding.objects.create(category="lighting", observed_at=T0)
    closed = T0 + dt.timedelta(days=fixed_after_days) if fixed_after_days is not None else None
    Action.objects.create(finding=f, organisation=org, state=state, deadline=deadline,
                          closed_at=closed)


def test_for_owner_matches_per_owner() -> None:
    a = Organisation.objects.create(name="A", kind="municipality")
    b = Organisation.objects.create(name="B", kind="housing")
    _action(a, ActionState.FIXED, deadline=dt.date(2026, 1, 10), fixed_after_days=5)
    _action(a, ActionState.FIXED, deadline=dt.date(2026, 1, 10), fixed_after_days=20)
    _action(a, ActionState.FIXED, deadline=None, fixed_after_days=2)
    _action(a, ActionState.PLANNED, deadline=dt.date(2026, 3, 1))
    _action(a, ActionState.NEW, deadline=dt.date(2026, 9, 1))
    _action(b, ActionState.FIXED, deadline=dt.date(2026, 1, 2), fixed_after_days=1)
    _action(None, ActionState.NEW, deadline=None)
    template = checklists.default_template()
    for organiser, status in ((a, WalkStatus.HELD), (a, WalkStatus.PLANNED),
                              (b, WalkStatus.CLOSED)):
        walk = Walk.objects.create(title="v", area_code="X", date=TODAY,
                                   start_time=dt.time(20), meeting_point="Torvet",
                                   checklist=template, organiser=organiser, status=status)
        Participant.objects.create(walk=walk, name="p", token=f"t{walk.pk}", organisation=a)
    mine = for_owner(a, TODAY)
    assert mine == next(f for f in figures.per_owner(TODAY) if f.key == str(a.pk))
    assert (mine.findings, mine.open_findings, mine.due, mine.fixed_by_deadline) == (5, 2, 3, 1)
    assert mine.median_days_to_fix == 5.0 and mine.walks_held == 2
    theirs = for_owner(b, TODAY)
    assert theirs == next(f for f in figures.per_owner(TODAY) if f.key == str(b.pk))
    assert theirs.share_fixed_by_deadline == 1.0 and theirs.walks_held == 1
