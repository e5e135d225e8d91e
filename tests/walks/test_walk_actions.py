"""Action states (one table), history, partners' access, duplicates, idempotency."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client

from tryg.walks import actions, states
from tryg.walks.findings import Observation, nearby, record
from tryg.walks.models import Action, ActionEvent, Finding
from tryg.walks.states import ActionState as S
from walks.walk_fixtures import NOW, finding, organisations, users, walk


def test_every_state_has_its_moves_and_closed_states_reopen_only_to_confirmed() -> None:
    assert set(states.ACTION_MOVES) == set(S.values)
    for state in states.CLOSED_STATES - {S.NOT_RESPONSIBLE}:
        assert states.allowed_moves(state) == [S.CONFIRMED]
    assert states.allowed_moves(S.NOT_RESPONSIBLE) == [S.NEW]
    assert states.open311_status(S.IN_PROGRESS) == "open"
    assert states.open311_status(S.DUPLICATE) == "closed"


def test_a_partner_cannot_mark_duplicates_or_reopen() -> None:
    assert S.DUPLICATE not in states.allowed_moves(S.NEW, partner=True)
    assert states.allowed_moves(S.FIXED, partner=True) == []
    assert S.FIXED in states.allowed_moves(S.IN_PROGRESS, partner=True)
    with pytest.raises(states.StateMoveError):
        states.check_move(S.FIXED, S.CONFIRMED, partner=True)


@pytest.mark.django_db
def test_moves_write_history_and_closing_time() -> None:
    orgs = organisations()
    people = users(orgs)
    f = finding(walk())
    action = Action.objects.get(finding=f)
    actions.assign(action, organisation=orgs["housing"], deadline=dt.date(2026, 11, 1),
                   user=people["coordinator"], now=NOW)
    actions.move(action, S.CONFIRMED, user=people["coordinator"], now=NOW)
    actions.move(action, S.FIXED, user=people["partner"], comment="klippet",
                 now=NOW + dt.timedelta(days=3))
    assert action.state == S.FIXED and action.closed_at == NOW + dt.timedelta(days=3)
    with pytest.raises(states.StateMoveError):
        actions.move(action, S.IN_PROGRESS, user=people["coordinator"], now=NOW)
    events = list(ActionEvent.objects.filter(action=action).values_list(
        "kind", "from_state", "to_state", "actor_name"))
    assert events == [
        ("state", "", "new", ""), ("assign", "new", "new", "coord-w"),
        ("state", "new", "confirmed", "coord-w"), ("state", "confirmed", "fixed", "partner-w")]
    actions.move(action, S.CONFIRMED, user=people["coordinator"], now=NOW)
    assert action.closed_at is None


@pytest.mark.django_db
def test_the_same_observation_sent_twice_is_stored_once() -> None:
    w = walk()
    first, created = record(Observation(category="lighting", idempotency_key="abc"), walk=w)
    again, created_again = record(Observation(category="graffiti", idempotency_key="abc"),
                                  walk=w)
    assert created and not created_again and again.pk == first.pk
    assert Finding.objects.count() == 1 and Action.objects.count() == 1


@pytest.mark.django_db
def test_the_page_ignores_a_repeated_observation() -> None:
    orgs = organisations()
    people = users(orgs)
    w = walk()
    client = Client()
    client.force_login(people["coordinator"])
    data = {"idempotency_key": "phone-1", "category": "lighting", "text": "mørkt",
            "lat": "57.05", "lon": "9.92", "rating_lighting": "1"}
    url = f"/tryghedsvandringer/{w.pk}/registrer/"
    assert client.post(url, data, HTTP_ACCEPT="application/json").status_code == 201
    second = client.post(url, data, HTTP_ACCEPT="application/json")
    assert second.status_code == 200 and second.json()["created"] is False
    f = Finding.objects.get()
    assert f.ratings == {"lighting": 1} and f.cell_lat == 57050
    # without JavaScript: a plain form post, answered with a redirect back to the form
    plain = client.post(url, {**data, "idempotency_key": "plain-2"})
    assert plain.status_code == 302 and Finding.objects.count() == 2


@pytest.mark.django_db
def test_duplicates_are_found_by_distance_and_category() -> None:
    w = walk()
    here = finding(w, lat=57.0500, lon=9.9200)
    near = finding(w, lat=57.0501, lon=9.9202)  # about 16 m
    far = finding(w, lat=57.0510, lon=9.9200)  # about 111 m
    other = finding(w, category="graffiti", lat=57.0500, lon=9.9201)
    unplaced = finding(w, lat=None, lon=None)
    found = [f.pk for f, _d in nearby("lighting", 57.05, 9.92, 30, exclude=here.pk)]
    assert found == [near.pk]
    assert far.pk not in found and other.pk not in found and unplaced.pk not in found
    wider = [f.pk for f, _d in nearby("lighting", 57.05, 9.92, 150)]
    assert set(wider) == {here.pk, near.pk, far.pk}
    assert unplaced.position_flag == "missing" and unplaced.cell_lat is None


@pytest.mark.django_db
def test_the_duplicate_lookup_uses_the_grid_index() -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the plan is read with SQLite's EXPLAIN QUERY PLAN")
    query = (Finding.objects.filter(category="lighting", cell_lat__gte=1, cell_lat__lt=3,
                                    cell_lon__gte=1, cell_lon__lt=3).query)
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        plan = " ".join(str(row[-1]) for row in cursor.fetchall())
    assert "walks_dup_cell" in plan, plan


@pytest.mark.django_db
def test_a_partner_sees_and_changes_only_its_own_actions() -> None:
    orgs = organisations()
    people = users(orgs)
    w = walk()
    own = Action.objects.get(finding=finding(w, key="own"))
    theirs = Action.objects.get(finding=finding(w, key="theirs", text="SECRET-ELSEWHERE"))
    actions.assign(own, organisation=orgs["housing"], deadline=None, user=people["coordinator"])
    actions.assign(theirs, organisation=orgs["police"], deadline=None,
                   user=people["coordinator"])
    client = Client()
    client.force_login(people["partner"])
    assert client.get(f"/tryghedsvandringer/handlinger/{own.pk}/").status_code == 200
    listing = client.get("/tryghedsvandringer/handlinger/")
    assert listing.status_code == 200 and b"SECRET-ELSEWHERE" not in listing.content
    for url in (f"/tryghedsvandringer/handlinger/{theirs.pk}/",):
        assert client.get(url).status_code == 404
        response = client.post(url, {"what": "move", "m-state": "fixed"})
        assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == S.NEW
    # the partner's own: moved, with history
    response = client.post(f"/tryghedsvandringer/handlinger/{own.pk}/",
                           {"what": "move", "m-state": "in_progress", "m-comment": "i gang"})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.state == S.IN_PROGRESS
    # a partner cannot assign (the form field is ignored) nor see walk pages
    client.post(f"/tryghedsvandringer/handlinger/{own.pk}/",
                {"what": "assign", "organisation": orgs["police"].pk})
    own.refresh_from_db()
    assert own.organisation_id == orgs["housing"].pk
    assert client.get(f"/tryghedsvandringer/{w.pk}/").status_code == 403
    assert client.get(f"/tryghedsvandringer/{w.pk}/registrer/").status_code == 403


@pytest.mark.django_db
def test_staff_enter_a_finding_on_a_participants_behalf_and_see_duplicates() -> None:
    from walks.walk_fixtures import participant

    orgs = organisations()
    people = users(orgs)
    w = walk()
    p = participant(w, name="Uden telefon", email="")
    earlier = finding(w, lat=57.05, lon=9.92, key="earlier", text="første lampe")
    client = Client()
    client.force_login(people["coordinator"])
    response = client.post(f"/tryghedsvandringer/{w.pk}/registrer/", {
        "idempotency_key": "behalf-1", "category": "lighting", "text": "anden lampe",
        "lat": "57.05005", "lon": "9.92005", "on_behalf_of": str(p.pk)})
    assert response.status_code == 302
    made = Finding.objects.get(text="anden lampe")
    assert made.participant == p and made.recorded_by == people["coordinator"]
    page = client.get(f"/tryghedsvandringer/handlinger/{made.action.pk}/")
    assert page.status_code == 200
    assert f"Finding {earlier.pk}, 6 m away".encode() in page.content
    # a participant with an account records on their walk, but not on another
    walker = people["walker"]
    participant(w, name="Walker", user=walker)
    other = walk(title="Anden")
    as_walker = Client()
    as_walker.force_login(walker)
    assert as_walker.get(f"/tryghedsvandringer/{w.pk}/registrer/").status_code == 200
    assert as_walker.get(f"/tryghedsvandringer/{other.pk}/registrer/").status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("rating_lighting", "9"),
                                              ("rating_lighting", "\x1b1"),
                                              ("suggested_fix", "klip\x1b hækken")])
def test_a_refused_field_shows_its_error_on_the_recording_page(field: str, value: str) -> None:
    """Without JavaScript a refused finding comes back as the form: the refused field's own
    error is on the page (a rating and the suggested fix had none shown), nothing stored."""
    people = users(organisations())
    w = walk()
    client = Client()
    client.force_login(people["coordinator"])
    client.get("/sprog/da/", {"next": "/"})
    data = {"idempotency_key": "plain-1", "category": "lighting", "text": "mørkt",
            "lat": "57.05", "lon": "9.92", "rating_lighting": "1", field: value}
    page = client.post(f"/tryghedsvandringer/{w.pk}/registrer/", data)
    assert page.status_code == 400 and Finding.objects.count() == 0
    errors = re.findall(r'<ul class="errorlist"[^>]*>(.*?)</ul>', page.content.decode(), re.S)
    assert len(errors) == 1, errors  # the refused field's error, where the field is
