"""A form sent twice (a double click, the back button) plans one walk and adds a person once:
the probe got two identical walks, and one participant twice with two personal links and two
invitations."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client

from tryg.walks.models import Participant, Walk
from walks.walk_fixtures import coordinator_client, organisations, users, walk

pytestmark = pytest.mark.django_db


def _plan(client: Client, checklist: int, **fields: str) -> Any:
    values = {"title": "Aftentur", "area_code": "K1", "date": "2026-11-03",
              "start_time": "19:00", "duration_minutes": "90", "time_of_day": "night",
              "meeting_point": "Skolen", "checklist": str(checklist)}
    return client.post("/tryghedsvandringer/ny/", {**values, **fields})


def test_the_same_walk_sent_twice_is_planned_once() -> None:
    client = coordinator_client()
    checklist = walk().checklist_id
    assert _plan(client, checklist).status_code == 302
    again = _plan(client, checklist)
    assert again.status_code == 400
    assert "This walk is already planned" in again.content.decode()
    assert Walk.objects.filter(title="Aftentur").count() == 1
    # another time the same day is another walk; a cancelled one may be planned again
    assert _plan(client, checklist, start_time="21:00").status_code == 302
    Walk.objects.filter(title="Aftentur", start_time="19:00").update(status="cancelled")
    assert _plan(client, checklist).status_code == 302
    assert Walk.objects.filter(title="Aftentur").count() == 3


def test_a_participant_is_added_once() -> None:
    people = users(organisations())
    client = Client()
    client.force_login(people["coordinator"])
    client.get("/sprog/en/")
    w = walk()
    url = f"/tryghedsvandringer/{w.pk}/"
    form = {"p-name": "Anna", "p-email": "anna@example.org", "p-role": "resident"}
    assert client.post(url, form).status_code == 302
    again = client.post(url, {**form, "p-email": "Anna@Example.org"})
    assert again.status_code == 400
    assert "Anna@Example.org already takes part in this walk." in again.content.decode()
    walker = people["walker"]
    assert client.post(url, {"p-name": "W", "p-role": "police", "p-user": walker.pk}
                       ).status_code == 302
    twice = client.post(url, {"p-name": "W2", "p-role": "police", "p-user": walker.pk})
    assert "This user already takes part in this walk." in twice.content.decode()
    assert Participant.objects.filter(walk=w).count() == 2
    client.post(f"/tryghedsvandringer/{w.pk}/inviter/", {"kind": "invitation"})
    assert [m.to for m in mail.outbox] == [["anna@example.org"]]
    # the same person on another walk is fine
    other = walk(title="Anden")
    assert client.post(f"/tryghedsvandringer/{other.pk}/", form).status_code == 302
