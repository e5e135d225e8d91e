"""Planning: routes from GeoJSON/GPX, invitations with .ics, personal links, the closing
meeting, the re-walk and the participants' summary."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from icalendar import Calendar

from tryg.walks import actions, meeting, routes
from tryg.walks.invitations import ics, invite
from tryg.walks.models import Action, Revisit, Walk
from tryg.walks.states import ActionState as S
from tryg.walks.states import WalkStatus
from walks.walk_fixtures import NOW, finding, organisations, participant, users, walk

GPX = b"""<?xml version="1.0"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
<trk><trkseg><trkpt lat="57.05" lon="9.92"/><trkpt lat="57.051" lon="9.921"/>
<trkpt lat="57.052" lon="9.923"/></trkseg></trk></gpx>"""


def test_a_gpx_track_becomes_a_linestring() -> None:
    line = json.loads(routes.from_upload("tur.gpx", GPX))
    assert line == {"type": "LineString",
                    "coordinates": [[9.92, 57.05], [9.921, 57.051], [9.923, 57.052]]}


def test_a_gpx_with_entities_is_refused() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;">]><gpx>&b;</gpx>')
    with pytest.raises(routes.RouteError, match=r"tur\.gpx: .*DTD"):
        routes.from_upload("tur.gpx", bomb)


@pytest.mark.parametrize(("text", "message"), [
    ('{"type": "Point", "coordinates": [1, 2]}', "the geometry is a Point, not a LineString"),
    ('{"type": "LineString", "coordinates": [[1, 2]]}', "at least two points"),
    ('{"type": "LineString", "coordinates": [[1, 2], [500, 2]]}', "point 2 is not a longitude"),
    ('{"type": "LineString", "coordinates": [[1, 2], ["x", 2]]}', "point 2 is not a number"),
    ("{oops", "not valid JSON \\(line 1, column 2\\)"),
    ("[" * 100_000, "nested too deeply"),
])
def test_bad_geojson_routes_are_named(text: str, message: str) -> None:
    with pytest.raises(routes.RouteError, match=f"route.geojson: .*{message}"):
        routes.from_upload("route.geojson", text.encode())


def test_a_feature_collection_gives_its_first_line() -> None:
    text = json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [1, 1]}},
        {"type": "Feature", "geometry": {"type": "LineString",
                                         "coordinates": [[1, 1], [2, 2]]}}]})
    assert json.loads(routes.from_geojson("r.json", text))["coordinates"] == [[1, 1], [2, 2]]


@pytest.mark.django_db
def test_planning_a_walk_with_an_uploaded_route() -> None:
    orgs = organisations()
    people = users(orgs)
    client = Client()
    client.force_login(people["coordinator"])
    response = client.post("/tryghedsvandringer/ny/", {
        "title": "Aftentur", "area_code": "K1", "date": "2026-11-03", "start_time": "19:00",
        "duration_minutes": "90", "time_of_day": "night", "meeting_point": "Skolen",
        "checklist": str(walk().checklist_id), "organiser": str(orgs["municipality"].pk),
        "route_file": SimpleUploadedFile("tur.gpx", GPX)})
    assert response.status_code == 302, response.content.decode()[:2000]
    planned = Walk.objects.get(title="Aftentur")
    assert json.loads(planned.route)["type"] == "LineString"
    # a partner may not plan
    partner = Client()
    partner.force_login(people["partner"])
    assert partner.get("/tryghedsvandringer/ny/").status_code == 403


@pytest.mark.django_db
def test_a_route_drawn_nested_too_deeply_is_a_form_error() -> None:
    """Thousands of nested arrays make Python's JSON decoder give up (RecursionError): the
    planner is told on the form, the page does not fail."""
    orgs = organisations()
    client = Client()
    client.force_login(users(orgs)["coordinator"])
    response = client.post("/tryghedsvandringer/ny/", {
        "title": "Dybt", "area_code": "K1", "date": "2026-11-03", "start_time": "19:00",
        "duration_minutes": "90", "time_of_day": "night", "meeting_point": "Skolen",
        "checklist": str(walk().checklist_id), "organiser": str(orgs["municipality"].pk),
        "route_drawn": "[" * 100_000})
    assert response.status_code == 400
    assert "nested too deeply" in response.content.decode()
    assert not Walk.objects.filter(title="Dybt").exists()


@pytest.mark.django_db
def test_invitations_carry_the_calendar_and_the_personal_link() -> None:
    w = walk()
    p = participant(w)
    participant(w, name="Uden mail", email="")
    assert invite(w, w.participants.all(), base_url="https://tryg.example/", now=NOW) == 1
    message = mail.outbox[0]
    assert message.to == ["beboer@example.org"]
    assert f"https://tryg.example/tryghedsvandringer/p/{p.token}/" in str(message.body)
    name, content, kind = message.attachments[0]
    assert (name, kind) == ("tryghedsvandring.ics", "text/calendar")
    event = Calendar.from_ical(content).walk("VEVENT")[0]
    assert event["SUMMARY"] == "Testvandring" and event["LOCATION"] == "Torvet"
    assert event.decoded("DTSTART").isoformat() == "2026-10-01T19:30:00+02:00"
    p.refresh_from_db()
    assert p.invited_at == NOW


def test_ics_escapes_text_per_rfc5545() -> None:
    w = Walk(pk=7, title="Tur; med, komma\\", area_code="K1", date=dt.date(2026, 1, 5),
             start_time=dt.time(10, 0), meeting_point="A, B; C", duration_minutes=60)
    text = ics(w, now=NOW).decode()
    assert "SUMMARY:Tur\\; med\\, komma\\\\" in text
    assert "LOCATION:A\\, B\\; C" in text and "UID:walk-7@tryg" in text


@pytest.mark.django_db
def test_the_personal_link_records_without_an_account() -> None:
    w = walk()
    p = participant(w)
    client = Client()
    url = f"/tryghedsvandringer/p/{p.token}/"
    page = client.get(url)
    assert page.status_code == 200 and b"finding-form" in page.content
    response = client.post(url, {"idempotency_key": "t-1", "category": "vegetation",
                                 "text": "hæk"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    assert w.findings.get().participant == p
    assert client.get("/tryghedsvandringer/p/" + "x" * 32 + "/").status_code == 404
    assert client.get(f"/tryghedsvandringer/{w.pk}/registrer/").status_code == 302  # log in


@pytest.mark.django_db
def test_meeting_rewalk_revisit_and_summary() -> None:
    orgs = organisations()
    people = users(orgs)
    coordinator = people["coordinator"]
    w = walk()
    participant(w)
    f_open, f_fixed, f_dup = (finding(w, key=k, text=k) for k in ("open", "fixed", "dup"))
    a_open, a_fixed, a_dup = (Action.objects.get(finding=f) for f in (f_open, f_fixed, f_dup))
    actions.assign(a_open, organisation=orgs["housing"], deadline=None, user=coordinator)
    actions.move(a_fixed, S.FIXED, user=coordinator, now=NOW)
    actions.move(a_dup, S.DUPLICATE, user=coordinator, duplicate_of=f_open, now=NOW)
    groups = meeting.grouped_by_owner(w)
    assert [(g.owner, len(g.actions)) for g in groups] == [("Boligselskab W", 1),
                                                          ("No owner yet", 2)]
    meeting.hold_meeting(w, user=coordinator, now=NOW)
    assert w.status == WalkStatus.MEETING_HELD
    rewalk = meeting.schedule_rewalk(w, date=dt.date(2027, 4, 1), start_time=dt.time(20, 0),
                                     user=coordinator)
    assert rewalk.revisit_of == w and rewalk.participants.count() == 1
    revisits = {r.finding_id: r for r in Revisit.objects.filter(walk=rewalk)}
    assert set(revisits) == {f_open.pk, f_fixed.pk}
    meeting.check_revisit(revisits[f_fixed.pk], reopen=True, note="lampen er gået igen",
                          user=coordinator, now=NOW)
    a_fixed.refresh_from_db()
    assert a_fixed.state == S.CONFIRMED
    client = Client()
    client.force_login(coordinator)
    response = client.post(f"/tryghedsvandringer/{w.pk}/opsummering/")
    assert response.status_code == 302
    summary = mail.outbox[-1]
    assert summary.to == ["beboer@example.org"]
    assert "open" in str(summary.body) and "Boligselskab W" in str(summary.body)
    assert client.get(f"/tryghedsvandringer/{w.pk}/udskriv/").status_code == 200
    assert client.get(f"/tryghedsvandringer/{w.pk}/afslutning/").status_code == 200


@pytest.mark.django_db
def test_reminders_go_once_to_the_coming_walks_participants() -> None:
    from tryg.walks.invitations import remind_due

    soon = walk(date=dt.date(2026, 10, 3))
    later = walk(date=dt.date(2026, 10, 20))
    participant(soon)
    participant(soon, name="Uden mail", email="")
    participant(later, email="senere@example.org")
    today = dt.date(2026, 10, 1)
    assert remind_due(today=today, within_days=2, base_url="https://t.example", now=NOW) == 1
    assert remind_due(today=today, within_days=2, base_url="https://t.example", now=NOW) == 0
    assert [m.to for m in mail.outbox] == [["beboer@example.org"]]
    assert mail.outbox[0].subject == "Reminder: safety walk 2026-10-03"
