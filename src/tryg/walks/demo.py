"""Fictional safety walks for ``tryg demo``: walks, findings, actions and citizens' reports.

Everything here is invented and labelled so (``is_demo``, "(fiktiv)" in the titles). The
walks are placed in the first area of the demo that has a boundary, on a route across it.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tryg.accounts.models import Organisation, Role, User
from tryg.areas.models import Area
from tryg.walks import actions, checklists, citizens, findings, meeting
from tryg.walks.invitations import new_token
from tryg.walks.models import Finding, Participant, Walk
from tryg.walks.states import ActionState

#: Levels tried in turn for the demo walk's area (the finest with a boundary that people
#: would walk).
LEVELS = ("bydel", "sogn", "boligomraade", "nabolag", "kommune")

FINDINGS: tuple[tuple[str, str, str, str, str], ...] = (
    # category, text, suggested fix, owner kind, final state
    ("lighting", "Stien bag skolen er helt mørk; to lamper er gået ud (fiktiv).",
     "Skift pærerne og sæt en lampe mere op.", "municipality", ActionState.FIXED),
    ("vegetation", "Høj hæk skjuler udsynet ved stitunnelen (fiktiv).",
     "Klip hækken ned til 1 meter.", "housing", ActionState.IN_PROGRESS),
    ("graffiti", "Grafitti og knuste ruder i cykelkælderen (fiktiv).",
     "Rens og udskift ruderne.", "housing", ActionState.PLANNED),
    ("behaviour", "Grupper samles om aftenen ved butikstorvet (fiktiv).",
     "Tryghedsvandring med politiet og SSP om aftenen.", "police", ActionState.CONFIRMED),
    ("litter", "Storskrald henstillet bag blok 4 (fiktiv).",
     "Afhent og sæt skilt op.", "municipality", ActionState.NEW),
)


def _coordinates(geometry: Any) -> list[list[float]]:
    if isinstance(geometry, dict):
        if geometry.get("type") == "FeatureCollection":
            return [p for f in geometry.get("features", []) for p in _coordinates(f)]
        if geometry.get("type") == "Feature":
            return _coordinates(geometry.get("geometry"))
        return _coordinates(geometry.get("coordinates"))
    if isinstance(geometry, list) and geometry and isinstance(geometry[0], int | float):
        return [[float(geometry[0]), float(geometry[1])]]
    if isinstance(geometry, list):
        return [p for part in geometry for p in _coordinates(part)]
    return []


def _demo_area() -> tuple[str, list[list[float]]] | None:
    for level in LEVELS:
        for code, text in (Area.objects.filter(level=level).exclude(geometry="")
                           .order_by("code").values_list("code", "geometry")[:50]):
            points = _coordinates(json.loads(text))
            if len(points) >= 3:
                return code, points
    return None


def make_demo_walks(today: dt.date | None = None) -> int:
    """Write the fictional walks; the number of findings made (0 if there is no area)."""
    found = _demo_area()
    if found is None:
        return 0
    code, points = found
    today = today or timezone.localdate()
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
    w, h = (max(xs) - min(xs)) / 4, (max(ys) - min(ys)) / 4
    route = json.dumps({"type": "LineString", "coordinates": [
        [round(cx - w, 6), round(cy - h, 6)], [round(cx, 6), round(cy, 6)],
        [round(cx + w, 6), round(cy + h / 2, 6)]]})
    orgs = {o.kind: o for o in Organisation.objects.order_by("id")}
    municipality = orgs.get(Organisation.Kind.MUNICIPALITY)
    coordinator = User.objects.filter(role=Role.COORDINATOR).first()
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    template = checklists.default_template()
    made = 0
    with transaction.atomic():
        held = Walk.objects.create(
            title="Aftenvandring i demo-området (fiktiv)", area_code=code, route=route,
            date=today - dt.timedelta(days=60), start_time=dt.time(19, 30),
            time_of_day=Walk.TimeOfDay.NIGHT, meeting_point="Ved butikstorvet (fiktiv)",
            checklist=template, organiser=municipality, created_by=coordinator, is_demo=True)
        for org in orgs.values():
            Participant.objects.create(walk=held, name=f"{org.name} – deltager", role=_role(org),
                                       organisation=org, token=new_token())
        Participant.objects.create(walk=held, name="Beboer (fiktiv)", email="",
                                   role=Participant.Role.RESIDENT, token=new_token())
        start = dt.datetime.combine(held.date, held.start_time, tzinfo=zone)
        for i, (category, text, fix, owner_kind, state) in enumerate(FINDINGS):
            at = start + dt.timedelta(minutes=10 * i)
            finding, _created = findings.record(findings.Observation(
                category=category, text=text, suggested_fix=fix,
                lat=round(cy + (i - 2) * h / 5, 6), lon=round(cx + (i - 2) * w / 5, 6),
                ratings={"lighting": i % 4, "feeling": (i + 1) % 4},
                idempotency_key=f"demo:{held.pk}:{i}"), walk=held, user=coordinator, now=at)
            finding.is_public = i % 2 == 0
            finding.save(update_fields=["is_public"])
            action = finding.action
            actions.assign(action, organisation=orgs.get(owner_kind),
                           deadline=held.date + dt.timedelta(days=30 + 15 * i),
                           promise=fix, user=coordinator, now=at)
            _walk_to(action, state, coordinator, at + dt.timedelta(days=10 + 7 * i))
            made += 1
        meeting.hold_meeting(held, user=coordinator, now=start + dt.timedelta(days=7))
        planned = Walk.objects.create(
            title="Dagvandring i demo-området (fiktiv)", area_code=code, route=route,
            date=today + dt.timedelta(days=14), start_time=dt.time(10, 0),
            time_of_day=Walk.TimeOfDay.DAY, meeting_point="Ved skolen (fiktiv)",
            checklist=template, organiser=municipality, created_by=coordinator, is_demo=True)
        walker = User.objects.filter(role=Role.WALKER).first()
        if walker is not None:
            Participant.objects.create(walk=planned, user=walker, name=walker.get_username(),
                                       role=Participant.Role.POLICE,
                                       organisation=walker.organisation, token=new_token())
        report, _created = citizens.report(findings.Observation(
            category="lighting", text="Lygten ved legepladsen blinker (fiktiv borgerhenvendelse).",
            lat=round(cy, 6), lon=round(cx + w / 3, 6), idempotency_key="demo:citizen:1"),
            area_code=code, name="", email="")
        citizens.moderate(report, approve=True)
        citizens.report(findings.Observation(
            category="paths", text="Hul i stien (fiktiv, venter på moderation).",
            address="Stien ved søen (fiktiv)", idempotency_key="demo:citizen:2"),
            area_code=code)
        Finding.objects.filter(source=Finding.Source.CITIZEN,
                               idempotency_key__startswith="demo:citizen:").update(is_demo=True)
    return made + 2


def _role(org: Organisation) -> str:
    kinds = {"municipality": Participant.Role.MUNICIPALITY, "police": Participant.Role.POLICE,
             "housing": Participant.Role.HOUSING,
             "local_council": Participant.Role.LOCAL_COUNCIL}
    return str(kinds.get(org.kind, Participant.Role.OTHER))


def _walk_to(action: Any, state: str, user: Any, at: dt.datetime) -> None:
    path = {ActionState.NEW: [], ActionState.CONFIRMED: [ActionState.CONFIRMED],
            ActionState.PLANNED: [ActionState.CONFIRMED, ActionState.PLANNED],
            ActionState.IN_PROGRESS: [ActionState.CONFIRMED, ActionState.IN_PROGRESS],
            ActionState.FIXED: [ActionState.CONFIRMED, ActionState.IN_PROGRESS,
                                ActionState.FIXED]}[ActionState(state)]
    for step, target in enumerate(path):
        actions.move(action, target, user=user, now=at + dt.timedelta(days=step),
                     comment="(fiktiv)")
