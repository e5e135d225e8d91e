"""The strategy API: same permissions as the pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from strategy.strategy_helpers import indicator, initiative, people
from tryg.accounts.models import User
from tryg.strategy.models import Measurement


def _client(user: User | None = None) -> Client:
    client = Client(enforce_csrf_checks=False)
    if user is not None:
        client.force_login(user)
    return client


BODY = {"date": "2025-12-31", "value": 71.5, "se": 2.0, "n": 400, "published": False}


@pytest.mark.django_db
def test_a_partner_posts_a_measurement_for_its_own_initiative_only() -> None:
    who = people()
    ind = indicator(initiative([who.housing]))
    url = f"/api/indicators/{ind.pk}/measurements"
    answer = _client(who.partner).post(url, json.dumps(BODY), content_type="application/json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["value"] == 71.5
    assert _client(who.other_partner).post(url, json.dumps(BODY),
                                           content_type="application/json").status_code == 403
    assert _client().post(url, json.dumps(BODY),
                          content_type="application/json").status_code in (401, 403)
    bad = {**BODY, "se": -1}
    assert _client(who.partner).post(url, json.dumps(bad),
                                     content_type="application/json").status_code == 400
    assert Measurement.objects.count() == 1
    # unpublished: the public does not get it, the partner does
    assert _client().get(url).json() == []
    assert [m["value"] for m in _client(who.partner).get(url).json()] == [71.5]


@pytest.mark.django_db
def test_initiatives_and_strategies_are_read_with_status() -> None:
    who = people()
    parent = initiative([who.housing])
    indicator(parent)
    hidden = initiative([who.housing], published=False)
    strategy_id = parent.focus_area.strategy_id
    listed = _client().get("/api/strategies").json()
    assert {s["id"] for s in listed} >= {strategy_id}
    detail = _client().get(f"/api/strategies/{strategy_id}").json()
    names = [i["name"] for fa in detail["focus_areas"] for i in fa["initiatives"]]
    assert names == ["Tryghedsvandringer"]
    one = _client().get(f"/api/initiatives/{parent.pk}").json()
    assert one["indicators"][0]["status"] == "not_assessable"
    assert _client().get(f"/api/initiatives/{hidden.pk}").status_code == 404
    assert _client(who.coordinator).get(f"/api/initiatives/{hidden.pk}").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [{"method": "målt\x00"}, {"low": 70.0}, {"high": 70.0},
                                 {"low": 75.0, "high": 70.0}])
def test_a_posted_measurement_is_checked_as_the_form_checks_it(bad: dict[str, object]) -> None:
    """A NUL (PostgreSQL refuses it: a server error), half an interval or one upside down
    (the form and the file import refuse them) is a 400, and nothing is stored."""
    who = people()
    ind = indicator(initiative([who.housing]))
    answer = _client(who.partner).post(f"/api/indicators/{ind.pk}/measurements",
                                       json.dumps({**BODY, **bad}),
                                       content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert Measurement.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f"])
def test_a_posted_measurements_text_holds_no_control_character(char: str) -> None:
    """The forms' rule (tryg.bounds): a 400 naming the character, nothing stored."""
    who = people()
    ind = indicator(initiative([who.housing]))
    answer = _client(who.partner).post(f"/api/indicators/{ind.pk}/measurements",
                                       json.dumps({**BODY, "method": f"målt{char}"}),
                                       content_type="application/json")
    assert answer.status_code == 400, answer.content
    (error,) = answer.json()["detail"]
    assert error["loc"][-1] == "method"
    assert f"control character (U+{ord(char):04X})" in error["msg"]
    assert Measurement.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("bad", "words"), [
    ({"value": 1e308}, "not a plausible value"),
    ({"value": -1e12}, "not a plausible value"),
    ({"se": 1e13}, "not a plausible value"),
    ({"low": -1e300, "high": 1.0}, "not a plausible value"),
    ({"date": "0001-01-01"}, "not a plausible date"),
    ({"date": "1899-12-31"}, "not a plausible date"),
    ({"date": "2201-01-01"}, "not a plausible date"),
])
def test_implausible_values_and_dates_are_400s_as_in_the_form_and_the_file(
        bad: dict[str, object], words: str) -> None:
    """Values (and SE, interval ends) are finite and smaller than 10^12 in size, dates in the
    years 1900 to 2200: the same bounds as the form and the file import."""
    who = people()
    ind = indicator(initiative([who.housing]))
    url = f"/api/indicators/{ind.pk}/measurements"
    answer = _client(who.partner).post(url, json.dumps({**BODY, **bad}),
                                       content_type="application/json")
    assert answer.status_code == 400, answer.content
    assert words in answer.content.decode()
    assert Measurement.objects.count() == 0
    edge = {**BODY, "value": -999_999_999_999.0, "date": "1900-01-01"}
    assert _client(who.partner).post(url, json.dumps(edge), content_type="application/json"
                                     ).status_code == 201
