"""POSTs a browser (or another system) can forge against the walk pages and Open311: ids of
objects that are not there or not the visitor's, values the form never offers, texts longer
than their column, the same submission twice. Each answers 400/403/404 or a form error and
stores nothing it should not; never a server error, never garbage in the database."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from tryg.accounts.models import Organisation
from tryg.walks import actions, checklists
from tryg.walks.models import Action, ActionEvent, Finding, Revisit
from tryg.walks.open311 import keys
from tryg.walks.states import ActionState as S
from walks.walk_fixtures import finding, organisations, participant, users, walk

pytestmark = pytest.mark.django_db

RECORD = {"category": "lighting", "text": "mørk sti", "lat": "57.05", "lon": "9.92"}
REPORT = {"idempotency_key": "c-forged", "category": "lighting", "text": "Mørk sti",
          "address": "Stien ved søen"}
LONG_EMAIL = "a" * 250 + "@example.org"  # a valid address, longer than the column's 254


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _fits_its_columns(f: Finding) -> None:
    """Every stored text of ``f`` fits its column (PostgreSQL would refuse it: a 500)."""
    for field in Finding._meta.concrete_fields:
        value = getattr(f, field.attname)
        if isinstance(value, str) and field.max_length is not None:
            assert len(value) <= field.max_length, field.name


def _move(client: Client, action: Action, **fields: str) -> Any:
    return client.post(f"/tryghedsvandringer/handlinger/{action.pk}/",
                       {"what": "move", **{f"m-{k}": v for k, v in fields.items()}})


# -- actions -----------------------------------------------------------------------------------

def test_a_duplicate_names_another_stored_finding() -> None:
    people = users(organisations())
    w = walk()
    first = finding(w, key="first")
    action = Action.objects.get(finding=finding(w, key="second"))
    coordinator = _client(people["coordinator"])
    for forged in ("999999", str(action.finding_id), ""):  # none, itself, not given
        response = _move(coordinator, action, state="duplicate", duplicate_of=forged)
        assert response.status_code == 400, forged
        assert b"A duplicate names another finding" in response.content
    coordinator.get("/sprog/da/")  # the page's language: the error in Danish
    danish = _move(coordinator, action, state="duplicate", duplicate_of="999999")
    assert "En dublet angiver nummeret på et andet fund." in danish.content.decode()
    action.refresh_from_db()
    assert (action.state, action.duplicate_of_id) == (S.NEW, None)
    assert _move(coordinator, action, state="duplicate",
                 duplicate_of=str(first.pk)).status_code == 302
    action.refresh_from_db()
    assert (action.state, action.duplicate_of_id) == (S.DUPLICATE, first.pk)


def test_the_service_refuses_a_duplicate_of_nothing_or_of_itself() -> None:
    people = users(organisations())
    action = Action.objects.get(finding=finding(walk(), key="alone"))
    for forged in (None, action.finding):
        with pytest.raises(ValueError, match="another finding"):
            actions.move(action, S.DUPLICATE, user=people["coordinator"], duplicate_of=forged)
    action.refresh_from_db()
    assert action.state == S.NEW


def test_a_partner_forging_a_move_the_form_does_not_offer_is_refused() -> None:
    orgs = organisations()
    people = users(orgs)
    action = Action.objects.get(finding=finding(walk(), key="own"))
    actions.assign(action, organisation=orgs["housing"], deadline=None,
                   user=people["coordinator"])
    partner = _client(people["partner"])
    for forged in ("duplicate", "new", "reopened", "x" * 100_000):
        assert _move(partner, action, state=forged).status_code == 400
    action.refresh_from_db()
    assert action.state == S.NEW


# -- recording and reporting -------------------------------------------------------------------

def test_an_idempotency_key_longer_than_a_phones_is_a_form_error() -> None:
    people = users(organisations())
    w = walk()
    response = _client(people["coordinator"]).post(
        f"/tryghedsvandringer/{w.pk}/registrer/", {**RECORD, "idempotency_key": "k" * 100})
    assert response.status_code == 400
    assert not Finding.objects.exists()


def test_a_walker_cannot_record_into_a_walk_they_are_not_part_of() -> None:
    people = users(organisations())
    theirs, other = walk(), walk(title="Anden vandring")
    participant(theirs, name="Walker", user=people["walker"])
    walker = _client(people["walker"])
    url = f"/tryghedsvandringer/{other.pk}/registrer/"
    assert walker.post(url, {**RECORD, "idempotency_key": "w-1"}).status_code == 403
    # naming another walk's participant on one's own walk is no field of theirs: ignored
    stranger = participant(other, name="Fremmed")
    response = walker.post(f"/tryghedsvandringer/{theirs.pk}/registrer/",
                           {**RECORD, "idempotency_key": "w-2", "on_behalf_of": stranger.pk})
    assert response.status_code == 302
    made = Finding.objects.get()
    assert made.walk == theirs and made.participant is not None
    assert made.participant.user == people["walker"]


def test_a_citizens_e_mail_longer_than_its_column_is_a_form_error() -> None:
    cache.clear()
    checklists.default_template()
    response = Client().post("/meld-utrygt-sted/", {**REPORT, "email": LONG_EMAIL})
    assert response.status_code == 400 and b"at most 254 characters" in response.content
    assert not Finding.objects.exists()


@pytest.mark.parametrize("field", ["text", "address", "name", "suggested_fix"])
def test_a_control_character_in_a_citizens_report_is_a_danish_form_error(field: str) -> None:
    """A pasted invisible character (here an escape, U+001B) is refused, not stored."""
    cache.clear()
    checklists.default_template()
    client = Client()
    client.get("/sprog/da/", {"next": "/"})
    response = client.post("/meld-utrygt-sted/", {**REPORT, field: "Mørk\x1b sti"})
    assert response.status_code == 400
    assert ("Teksten indeholder et usynligt kontroltegn (U+001B), som ikke kan gemmes."
            in response.content.decode())
    assert not Finding.objects.exists()


def test_a_walkers_finding_and_comment_refuse_control_characters_and_other_digits() -> None:
    people = users(organisations())
    w = walk()
    participant(w, name="Walker", user=people["walker"])
    walker = _client(people["walker"])
    url = f"/tryghedsvandringer/{w.pk}/registrer/"
    for forged in ({"text": "sti\x7f"}, {"suggested_owner": "\x07Kommunen"},
                   {"lat": "٥٧", "lon": "９"}):
        response = walker.post(url, {**RECORD, "idempotency_key": "w-bad", **forged})
        assert response.status_code == 400, forged
    assert not Finding.objects.exists()
    first = finding(w, key="first")
    action = Action.objects.get(finding=finding(w, key="seen"))
    events = ActionEvent.objects.filter(action=action).count()
    coordinator = _client(people["coordinator"])
    arabic = str(first.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    for forged in ({"state": "planned", "comment": "ok\x0c"},
                   {"state": "duplicate", "duplicate_of": arabic}):
        assert _move(coordinator, action, **forged).status_code == 400, forged
    action.refresh_from_db()
    assert (action.state, action.duplicate_of_id) == (S.NEW, None)
    assert ActionEvent.objects.filter(action=action).count() == events


def test_a_citizens_report_sent_twice_is_stored_once() -> None:
    cache.clear()
    checklists.default_template()
    client = Client()
    assert [client.post("/meld-utrygt-sted/", REPORT).status_code for _ in range(2)] == [302,
                                                                                         302]
    assert Finding.objects.count() == 1


# -- the re-walk -------------------------------------------------------------------------------

def test_a_revisit_confirmed_twice_is_written_once() -> None:
    people = users(organisations())
    f = finding(walk(), key="seen")
    rewalk = walk(title="Genvandring")
    revisit = Revisit.objects.create(walk=rewalk, finding=f)
    coordinator = _client(people["coordinator"])
    url = f"/tryghedsvandringer/{rewalk.pk}/genbesoeg/{revisit.pk}/"
    for _ in range(2):
        assert coordinator.post(url, {"outcome": "confirm", "note": "ok"}).status_code == 302
    events = ActionEvent.objects.filter(action__finding=f, kind=ActionEvent.Kind.REVISIT)
    assert events.count() == 1
    # another walk's revisit through this walk's URL, and an outcome not offered
    assert coordinator.post(f"/tryghedsvandringer/{rewalk.pk + 1}/genbesoeg/{revisit.pk}/",
                            {"outcome": "confirm"}).status_code == 404
    assert coordinator.post(url, {"outcome": "delete"}).status_code == 400


# -- Open311 -----------------------------------------------------------------------------------

@pytest.fixture
def api_key() -> str:
    cache.clear()
    checklists.default_template()
    org = Organisation.objects.create(name="Aalborg Kommune", kind="municipality")
    return keys.add(org, "test system")[1]


@pytest.mark.parametrize("fields", [
    {"attribute[lighting]": "²"},  # a digit to str.isdigit, no number to int()
    {"attribute[lighting]": "١"},  # an Arabic-Indic one
    {"email": LONG_EMAIL},
    {"first_name": "A" * 200, "last_name": "B" * 200},  # each fits, the name they make not
])
def test_open311_posts_that_would_not_fit_are_400(api_key: str, fields: dict[str, str]) -> None:
    response = Client().post("/open311/v2/requests.json", {
        "api_key": api_key, "service_code": "lighting", "lat": "57.05", "long": "9.92",
        **fields})
    assert response.status_code == 400, response.content
    assert response.json()[0]["code"] == 400
    assert not Finding.objects.exists()


def test_an_open311_post_at_every_limit_fits_its_columns(api_key: str) -> None:
    response = Client().post("/open311/v2/requests.json", {
        "api_key": api_key, "service_code": "lighting", "address_string": "x" * 300,
        "description": "y" * 4000, "first_name": "A" * 100, "last_name": "B" * 99,
        "email": "a" * 240 + "@example.org", "attribute[lighting]": "3"})
    assert response.status_code == 200, response.content
    _fits_its_columns(Finding.objects.get())
