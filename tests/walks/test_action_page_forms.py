"""The action page's owner-and-deadline and comment forms, as the attacker probe sent them: a
deadline in year 1 or 9999, or before the walk, is refused with its reason on the page; a
refused comment or owner comes back with its error (the page had answered 400 with a blank
form and no reason); nothing is stored."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tryg.walks import actions
from tryg.walks.models import Action, ActionEvent
from walks.walk_fixtures import finding, organisations, users, walk

pytestmark = pytest.mark.django_db


def _errors(page: bytes) -> list[str]:
    found = re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', page.decode(), re.S)
    return [re.sub(r"<[^>]+>", "", e).strip() for e in found]


def _setup() -> tuple[Client, Action]:
    people = users(organisations())
    action = Action.objects.get(finding=finding(walk()))  # the walk is on 2026-10-01
    client = Client()
    client.force_login(people["coordinator"])
    client.get("/sprog/en/")
    return client, action


@pytest.mark.parametrize(("deadline", "reason"), [
    ("0001-01-01", "0001-01-01 is not a plausible date (years 1900 to 2200)."),
    ("9999-12-31", "9999-12-31 is not a plausible date (years 1900 to 2200)."),
    ("2026-09-30", "The deadline 2026-09-30 is before the walk (2026-10-01)."),
])
def test_an_implausible_deadline_is_refused_with_its_reason(deadline: str, reason: str) -> None:
    client, action = _setup()
    page = client.post(f"/tryghedsvandringer/handlinger/{action.pk}/",
                       {"what": "assign", "deadline": deadline, "promise": "lygten skiftes"})
    assert page.status_code == 400
    assert reason in _errors(page.content)
    assert "lygten skiftes" in page.content.decode()  # what was typed is kept
    action.refresh_from_db()
    assert action.deadline is None and action.promise == ""
    assert not ActionEvent.objects.filter(action=action, kind="assign").exists()


def test_the_walks_own_day_is_a_deadline() -> None:
    client, action = _setup()
    response = client.post(f"/tryghedsvandringer/handlinger/{action.pk}/",
                           {"what": "assign", "deadline": "2026-10-01"})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.deadline == dt.date(2026, 10, 1)


def test_a_malformed_deadline_shows_its_error() -> None:
    client, action = _setup()
    page = client.post(f"/tryghedsvandringer/handlinger/{action.pk}/",
                       {"what": "assign", "deadline": "2026-13-45"})
    assert page.status_code == 400
    assert "Enter a valid date." in _errors(page.content)


def test_an_empty_comment_shows_its_error() -> None:
    client, action = _setup()
    page = client.post(f"/tryghedsvandringer/handlinger/{action.pk}/",
                       {"what": "comment", "comment": ""})
    assert page.status_code == 400
    assert "This field is required." in _errors(page.content)
    assert not ActionEvent.objects.filter(action=action, kind="comment").exists()


def test_the_service_refuses_a_deadline_out_of_bounds() -> None:
    people = users(organisations())
    action = Action.objects.get(finding=finding(walk()))
    with pytest.raises(ValidationError):
        actions.assign(action, organisation=None, deadline=dt.date(9999, 12, 31),
                       user=people["coordinator"])
    action.refresh_from_db()
    assert action.deadline is None
