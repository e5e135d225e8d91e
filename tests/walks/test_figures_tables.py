"""The figures tables (per owner, per area) aggregated by the database equal the figures'
definitions computed the plain way (Django's date casts in the site's time zone, a median of
every fixed action's days), closings around a deadline's local midnight included, in winter
(UTC+1) and in summer (UTC+2)."""

from __future__ import annotations

import datetime as dt
import random
import statistics
from collections import defaultdict

import pytest
from django.db.models import Count, F, Q

from tryg.accounts.models import Organisation
from tryg.walks import figures
from tryg.walks.models import Action, Finding
from tryg.walks.states import OPEN_STATES, ActionState

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 9, 1)
UTC = dt.UTC


def _make(rng: random.Random, owners: list[Organisation | None]) -> None:
    states = [ActionState.FIXED, ActionState.NEW, ActionState.PLANNED,
              ActionState.IN_PROGRESS, ActionState.NO_FURTHER_ACTION]
    for i in range(160):
        deadline = (dt.date(2026, 1, 10) if i % 2 else dt.date(2026, 7, 10)) \
            + dt.timedelta(days=rng.randrange(0, 90))
        observed = dt.datetime.combine(deadline, dt.time(9), UTC) - dt.timedelta(
            days=rng.randrange(1, 40), minutes=rng.randrange(0, 1440))
        state = rng.choice(states)
        closed = None
        if state == ActionState.FIXED:
            # around the deadline's local midnight (23:00 UTC in winter, 22:00 in summer),
            # or well before or after it
            midnight = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(0), UTC)
            closed = midnight + dt.timedelta(minutes=rng.choice(
                [-150, -121, -119, -90, -61, -59, -30, 1, 30, rng.randrange(-40_000, 40_000)]))
        f = Finding.objects.create(category="lighting", observed_at=observed,
                                   area_code=rng.choice(["K1", "K2", "K3"]))
        Action.objects.create(finding=f, organisation=rng.choice(owners), state=state,
                              deadline=None if i % 17 == 0 else deadline, closed_at=closed)


def _plain(group: str) -> dict[object, tuple[int, int, int, int, float | None]]:
    """The definitions, computed the plain way."""
    rows = Action.objects.values(group).annotate(
        n=Count("id"), open=Count("id", filter=Q(state__in=OPEN_STATES)),
        due=Count("id", filter=Q(deadline__isnull=False)
                  & (Q(deadline__lt=TODAY) | Q(state=ActionState.FIXED))),
        on_time=Count("id", filter=Q(state=ActionState.FIXED, deadline__isnull=False,
                                     closed_at__date__lte=F("deadline")))).order_by()
    days: dict[object, list[float]] = defaultdict(list)
    for a in Action.objects.filter(state=ActionState.FIXED).select_related("finding"):
        assert a.closed_at is not None and a.finding.observed_at is not None
        key = a.organisation_id if group == "organisation_id" else a.finding.area_code
        days[key].append(max(0.0, (a.closed_at - a.finding.observed_at).total_seconds()
                             / 86400))
    return {r[group]: (r["n"], r["open"], r["due"], r["on_time"],
                       statistics.median(days[r[group]]) if days[r[group]] else None)
            for r in rows}


def _line(f: figures.Figures) -> tuple[int, int, int, int, float | None]:
    return (f.findings, f.open_findings, f.due, f.fixed_by_deadline, f.median_days_to_fix)


def _close(a: tuple[int, int, int, int, float | None],
           b: tuple[int, int, int, int, float | None]) -> bool:
    if a[:4] != b[:4]:
        return False
    return (a[4] is None and b[4] is None) or (
        a[4] is not None and b[4] is not None and a[4] == pytest.approx(b[4], abs=1e-6))


def test_the_tables_equal_the_definitions() -> None:
    orgs = [Organisation.objects.create(name=n, kind="partner") for n in ("A", "B", "C")]
    _make(random.Random(15), [*orgs, None])
    near_midnight = [a for a in Action.objects.filter(state=ActionState.FIXED)
                             if a.deadline and a.closed_at
                             and abs((a.closed_at - dt.datetime.combine(
                                 a.deadline + dt.timedelta(days=1), dt.time(0), UTC))
                                     .total_seconds()) < 3 * 3600]
    assert len(near_midnight) > 20  # the hard cases are there

    plain_owner = _plain("organisation_id")
    owners = figures.per_owner(TODAY)
    assert {f.key for f in owners} == {"" if k is None else str(k) for k in plain_owner}
    for f in owners:
        assert _close(_line(f), plain_owner[int(f.key) if f.key else None]), f

    plain_area = _plain("finding__area_code")
    areas = figures.per_area(TODAY)
    assert [f.key for f in areas] == ["K1", "K2", "K3"]
    for f in areas:
        assert _close(_line(f), plain_area[f.key]), f
        assert figures.for_area(f.key, TODAY) == f  # read for that area alone

    both = figures.per_owner_and_area(TODAY)
    assert both == (owners, areas)
    assert sum(f.fixed_by_deadline for f in areas) == sum(p[3] for p in plain_area.values()) > 0


def test_an_actions_copies_follow_its_finding() -> None:
    finding = Finding.objects.create(category="lighting", area_code="K1")
    action = Action.objects.create(finding=finding, state=ActionState.FIXED,
                                   closed_at=finding.created_at + dt.timedelta(days=3))
    assert (action.area_code, action.started_at) == ("K1", finding.created_at)
    assert figures.for_area("K1", TODAY).median_days_to_fix == pytest.approx(3.0)
    finding.area_code = "K9"
    finding.observed_at = finding.created_at - dt.timedelta(days=1)
    finding.save()
    action.refresh_from_db()
    assert (action.area_code, action.started_at) == ("K9", finding.observed_at)
    assert [f.key for f in figures.per_area(TODAY)] == ["K9"]
    assert figures.for_area("K9", TODAY).median_days_to_fix == pytest.approx(4.0)
