"""A walk's date, a re-walk's date and a walk's duration within plausible bounds (the attacker
probe sent year 1, year 9999 and 40,000 minutes): the form answers 400 with the reason in the
page's language, the service and the model refuse the same, nothing is stored.

Run against PostgreSQL too (``TRYG_TEST_DB=postgres``): its smallint column would overflow at
32767 minutes, so a duration past it must be a form error there as well, never a 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tryg.walks import meeting
from tryg.walks.models import MAX_DURATION_MINUTES, Walk
from walks.walk_fixtures import organisations, users, walk

pytestmark = pytest.mark.django_db


def _coordinator() -> Client:
    client = Client()
    client.force_login(users(organisations())["coordinator"])
    return client


def _plan(client: Client, **fields: str) -> Any:
    values = {"title": "Aftentur", "area_code": "K1", "date": "2026-11-03",
              "start_time": "19:00", "duration_minutes": "90", "time_of_day": "night",
              "meeting_point": "Skolen", "checklist": str(walk().checklist_id)}
    return client.post("/tryghedsvandringer/ny/", {**values, **fields})


@pytest.mark.parametrize("date", ["0001-01-01", "1899-12-31", "2201-01-01", "9999-12-31"])
def test_a_walk_dated_outside_1900_to_2200_is_refused(date: str) -> None:
    client = _coordinator()
    response = _plan(client, date=date)
    assert response.status_code == 400
    assert (f"{date} is not a plausible date (years 1900 to 2200)."
            in response.content.decode())
    assert not Walk.objects.filter(title="Aftentur").exists()


def test_the_date_bounds_themselves_are_accepted() -> None:
    client = _coordinator()
    for date in ("1900-01-01", "2200-12-31"):
        assert _plan(client, date=date, title=date).status_code == 302, date
    assert Walk.objects.filter(title__in=["1900-01-01", "2200-12-31"]).count() == 2


def test_a_walk_of_no_minutes_is_refused() -> None:
    response = _plan(_coordinator(), duration_minutes="0")
    assert response.status_code == 400
    assert "A walk lasts at least a minute." in response.content.decode()
    assert not Walk.objects.filter(title="Aftentur").exists()


@pytest.mark.parametrize("minutes", ["1441", "32767", "32768", "40000"])
def test_a_walk_longer_than_a_day_is_refused(minutes: str) -> None:
    client = _coordinator()
    response = _plan(client, duration_minutes=minutes)
    assert response.status_code == 400
    assert "A walk lasts at most 1440 minutes (24 hours)." in response.content.decode()
    assert not Walk.objects.filter(title="Aftentur").exists()


def test_a_walk_of_a_whole_day_is_accepted() -> None:
    assert _plan(_coordinator(), duration_minutes=str(MAX_DURATION_MINUTES)).status_code == 302
    assert Walk.objects.get(title="Aftentur").duration_minutes == 1440


def test_the_errors_are_in_the_pages_language() -> None:
    client = _coordinator()
    client.get("/sprog/da/")
    page = _plan(client, date="9999-12-31", duration_minutes="40000").content.decode()
    assert "9999-12-31 er ikke en plausibel dato (årene 1900 til 2200)." in page
    assert "En tryghedsvandring varer højst 1440 minutter (24 timer)." in page


def test_the_model_carries_the_bounds() -> None:
    """Every other way in that cleans the model (the admin, a script) is held to them too."""
    w = walk()
    w.date, w.duration_minutes = dt.date(9999, 12, 31), 40000
    with pytest.raises(ValidationError) as caught:
        w.full_clean()
    assert set(caught.value.message_dict) == {"date", "duration_minutes"}


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31"])
def test_a_rewalk_dated_outside_the_bounds_is_refused_with_the_reason(date: str) -> None:
    w = walk()
    client = _coordinator()
    response = client.post(f"/tryghedsvandringer/{w.pk}/genvandring/", {
        "date": date, "start_time": "20:00", "time_of_day": "night"}, follow=True)
    assert f"{date} is not a plausible date (years 1900 to 2200)." in response.content.decode()
    assert not Walk.objects.filter(revisit_of=w).exists()
    # a missing date still asks for one
    missing = client.post(f"/tryghedsvandringer/{w.pk}/genvandring/", {
        "start_time": "20:00", "time_of_day": "night"}, follow=True)
    assert "Give the re-walk a date and a start time." in missing.content.decode()


def test_the_rewalk_service_refuses_a_date_outside_the_bounds() -> None:
    w = walk()
    with pytest.raises(ValidationError, match="not a plausible date"):
        meeting.schedule_rewalk(w, date=dt.date(9999, 12, 31), start_time=dt.time(20, 0),
                                user=None)
    assert not Walk.objects.filter(revisit_of=w).exists()
    rewalk = meeting.schedule_rewalk(w, date=dt.date(2200, 12, 31), start_time=dt.time(20, 0),
                                     user=None)
    assert rewalk.revisit_of == w


def test_a_rewalk_before_the_walk_is_refused_with_the_reason() -> None:
    """The probe planned a re-walk of a walk of 2026-10-01 on 2020-01-01: it was made."""
    w = walk()  # on 2026-10-01
    client = _coordinator()
    client.get("/sprog/en/")
    response = client.post(f"/tryghedsvandringer/{w.pk}/genvandring/", {
        "date": "2026-09-30", "start_time": "20:00", "time_of_day": "night"}, follow=True)
    assert ("The re-walk (2026-09-30) cannot be before the walk it revisits (2026-10-01)."
            in response.content.decode())
    assert not Walk.objects.filter(revisit_of=w).exists()
    with pytest.raises(ValidationError, match="cannot be before the walk"):
        meeting.schedule_rewalk(w, date=dt.date(2020, 1, 1), start_time=dt.time(20, 0),
                                user=None)
    assert not Walk.objects.filter(revisit_of=w).exists()
    # the walk's own day is a re-walk's first possible day
    assert client.post(f"/tryghedsvandringer/{w.pk}/genvandring/", {
        "date": "2026-10-01", "start_time": "21:00", "time_of_day": "night"}).status_code == 302
    assert Walk.objects.filter(revisit_of=w).count() == 1
