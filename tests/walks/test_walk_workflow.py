"""The walk's workflow holds: no new findings once the closing meeting is held (or the walk is
closed or cancelled), a finding before the walk's day does not make it "walked", a
moderation decision is taken once, and a form the action page does not have gets the site's
400 page."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from tryg.walks import citizens, meeting
from tryg.walks.findings import Observation
from tryg.walks.models import Action, Finding
from tryg.walks.states import Moderation, WalkStatus
from walks.walk_fixtures import finding, organisations, participant, users, walk

pytestmark = pytest.mark.django_db

FINDING = {"category": "lighting", "text": "mørk sti", "lat": "57.05", "lon": "9.92"}


def _client(user: Any = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


# -- 1. a closed walk takes no new findings ----------------------------------------------------

@pytest.mark.parametrize("status", [WalkStatus.MEETING_HELD, WalkStatus.CLOSED,
                                    WalkStatus.CANCELLED])
def test_a_closed_walk_refuses_new_findings_for_good(status: str) -> None:
    w = walk()
    p = participant(w)
    finding(w, key="before")
    w.status = status
    w.save()
    url = f"/tryghedsvandringer/p/{p.token}/"
    phone = _client()
    # the phone's queue (record.js, Accept: JSON): 409, a message, nothing stored; record.js
    # drops a 409 from its queue with this message instead of sending it again
    queued = phone.post(url, {**FINDING, "idempotency_key": "q-1"},
                        HTTP_ACCEPT="application/json")
    assert queued.status_code == 409
    assert queued.json()["errors"]["__all__"][0]["message"].startswith(
        "This walk is closed for new findings")
    # the plain form (no JavaScript): a page saying so, with the same status
    page = phone.post(url, {**FINDING, "idempotency_key": "q-2"})
    assert page.status_code == 409
    assert b"This walk is closed for new findings" in page.content
    assert w.findings.count() == 1
    # opening the link shows what was recorded, and no form to fill in
    opened = phone.get(url)
    assert opened.status_code == 200
    assert b"closed for new findings" in opened.content
    assert b'id="finding-form" class="stacked phone" hidden' in opened.content
    # in the visitor's language
    phone.get("/sprog/da/", {"next": "/"})
    danish = phone.post(url, {**FINDING, "idempotency_key": "q-3"})
    assert danish.status_code == 409
    assert "Tryghedsvandringen er lukket for nye fund" in danish.content.decode()
    # the coordinator's recording page is closed as well
    coordinator = _client(users(organisations())["coordinator"])
    staff = coordinator.post(f"/tryghedsvandringer/{w.pk}/registrer/",
                             {**FINDING, "idempotency_key": "q-4"},
                             HTTP_ACCEPT="application/json")
    assert staff.status_code == 409
    assert w.findings.count() == 1


def test_the_link_takes_findings_until_the_closing_meeting() -> None:
    people = users(organisations())
    w = walk()
    p = participant(w)
    url = f"/tryghedsvandringer/p/{p.token}/"
    phone = _client()
    sent = phone.post(url, {**FINDING, "idempotency_key": "m-1"},
                      HTTP_ACCEPT="application/json")
    assert sent.status_code == 201
    coordinator = _client(people["coordinator"])
    assert coordinator.post(f"/tryghedsvandringer/{w.pk}/afslutning/").status_code == 302
    w.refresh_from_db()
    assert w.status == WalkStatus.MEETING_HELD
    # the same observation sent again after a lost answer is still refused: the walk is closed
    late = phone.post(url, {**FINDING, "idempotency_key": "m-2"},
                      HTTP_ACCEPT="application/json")
    assert late.status_code == 409
    assert w.findings.count() == 1


# -- 2. a finding before the walk's day does not make it walked --------------------------------

def test_a_finding_before_the_walk_day_leaves_it_planned() -> None:
    w = walk(date=dt.date(2199, 6, 1))  # far ahead of any clock the tests run on
    p = participant(w)
    response = _client().post(f"/tryghedsvandringer/p/{p.token}/",
                              {**FINDING, "idempotency_key": "early"},
                              HTTP_ACCEPT="application/json")
    assert response.status_code == 201
    w.refresh_from_db()
    assert w.status == WalkStatus.PLANNED
    assert w.findings.count() == 1


def test_a_walk_counts_as_walked_from_its_own_local_day() -> None:
    w = walk(date=dt.date(2026, 10, 1))
    # 23:59 in Copenhagen the evening before (21:59 UTC): still planned
    meeting.mark_walked(w, now=dt.datetime(2026, 9, 30, 21, 59, tzinfo=dt.UTC))
    w.refresh_from_db()
    assert w.status == WalkStatus.PLANNED
    # 00:01 in Copenhagen on the day (22:01 UTC the day before): walked
    meeting.mark_walked(w, now=dt.datetime(2026, 9, 30, 22, 1, tzinfo=dt.UTC))
    w.refresh_from_db()
    assert w.status == WalkStatus.HELD


# -- 3. a moderation decision is taken once ----------------------------------------------------

def test_a_moderation_decision_cannot_be_reversed_by_a_forged_post() -> None:
    people = users(organisations())
    report, _created = citizens.report(
        Observation(category="lighting", text="Mørk sti", idempotency_key="c-mod"),
        area_code="")
    moderator = _client(people["coordinator"])
    url = f"/tryghedsvandringer/moderation/{report.pk}/"
    assert moderator.post(url, {"decision": "approve"}).status_code == 302
    forged = moderator.post(url, {"decision": "reject"}, follow=True)
    assert b"already decided" in forged.content
    report.refresh_from_db()
    assert report.moderation == Moderation.APPROVED and report.is_public
    # the service refuses it too, whoever calls it
    with pytest.raises(citizens.AlreadyDecidedError):
        citizens.moderate(report, approve=False)
    report.refresh_from_db()
    assert report.moderation == Moderation.APPROVED and report.is_public
    rejected, _created = citizens.report(
        Observation(category="lighting", text="Anden sti", idempotency_key="c-rej"),
        area_code="")
    citizens.moderate(rejected, approve=False)
    assert moderator.post(f"/tryghedsvandringer/moderation/{rejected.pk}/",
                          {"decision": "approve"}).status_code == 302
    rejected.refresh_from_db()
    assert rejected.moderation == Moderation.REJECTED and not rejected.is_public
    assert not Finding.objects.filter(pk=rejected.pk, is_public=True).exists()


# -- 4. an unknown change on an action page gets the site's 400 page ---------------------------

def test_an_unknown_action_change_gets_the_sites_400_page() -> None:
    people = users(organisations())
    action = Action.objects.get(finding=finding(walk(), key="a-400"))
    coordinator = _client(people["coordinator"])
    url = f"/tryghedsvandringer/handlinger/{action.pk}/"
    response = coordinator.post(url, {"what": "zzz"})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
    assert b"<h1>Bad request</h1>" in response.content
    coordinator.get("/sprog/da/", {"next": "/"})
    danish = coordinator.post(url, {"what": "zzz"})
    assert danish.status_code == 400
    assert '<html lang="da">' in danish.content.decode()
    assert "Forespørgslen kunne ikke bruges" in danish.content.decode()
    assert action.events.count() == 1  # nothing changed
