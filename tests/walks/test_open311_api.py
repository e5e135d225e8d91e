"""Open311 GeoReport v2 at /open311/v2/, checked against the specification's field lists.

The field names and their order below are copied from the specification
(https://wiki.open311.org/GeoReport_v2), not from the implementation.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path as url_path

from tryg.accounts.models import Organisation
from tryg.site import urls as site_urls
from tryg.walks import checklists, citizens
from tryg.walks.models import Action, ActionEvent, Finding
from tryg.walks.open311 import keys
from tryg.walks.states import ActionState, Moderation

pytestmark = pytest.mark.django_db

DISCOVERY_FIELDS = ["changeset", "contact", "key_service", "endpoints"]
ENDPOINT_FIELDS = ["specification", "url", "changeset", "type", "formats"]
SERVICE_FIELDS = ["service_code", "service_name", "description", "metadata", "type",
                  "keywords", "group"]
ATTRIBUTE_FIELDS = ["variable", "code", "datatype", "required", "datatype_description",
                    "order", "description", "values"]
REQUEST_FIELDS = ["service_request_id", "status", "status_notes", "service_name",
                  "service_code", "description", "agency_responsible", "service_notice",
                  "requested_datetime", "updated_datetime", "expected_datetime", "address",
                  "address_id", "zipcode", "lat", "long", "media_url"]
POST_FIELDS = ["token", "service_notice", "account_id"]
ERROR_FIELDS = ["code", "description"]

BASE = "/open311/v2"
PRIVATE_TEXT = "PRIVATE-FINDING-TEXT-Q93"
PRIVATE_LAT, PRIVATE_LON = 57.0461234, 9.9271234
REPORTER = "Reporter Secret-Name-77"
OBSERVED = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
WINDOW = {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-31T00:00:00+01:00"}


def _finding(category: str, *, public: bool, text: str, lat: float | None, lon: float | None,
             state: str = ActionState.NEW, moderation: str = Moderation.NOT_NEEDED,
             organisation: Organisation | None = None, observed: dt.datetime = OBSERVED,
             source: str = Finding.Source.WALK, deadline: dt.date | None = None) -> Finding:
    f = Finding(category=category, is_public=public, text=text, moderation=moderation,
                observed_at=observed, reporter_name=REPORTER, source=source,
                address="Vesterbro 1")
    f.set_position(lat, lon)
    f.save()
    Action.objects.create(finding=f, state=state, organisation=organisation,
                          deadline=deadline)
    return f


@pytest.fixture
def data() -> dict[str, Any]:
    cache.clear()
    checklists.default_template()
    org = Organisation.objects.create(name="Aalborg Kommune", kind="municipality")
    fixed = _finding("lighting", public=True, text="Lampen er sort", lat=57.04812345,
                     lon=9.92187654, state=ActionState.FIXED, organisation=org,
                     deadline=dt.date(2026, 4, 1))
    planned = _finding("vegetation", public=True, text="Hæk", lat=57.05, lon=9.93,
                       state=ActionState.PLANNED,
                       observed=OBSERVED + dt.timedelta(days=1))
    private = _finding("lighting", public=False, text=PRIVATE_TEXT, lat=PRIVATE_LAT,
                       lon=PRIVATE_LON)
    pending = _finding("graffiti", public=True, text=PRIVATE_TEXT, lat=PRIVATE_LAT,
                       lon=PRIVATE_LON, moderation=Moderation.PENDING,
                       source=Finding.Source.CITIZEN)
    old = _finding("lighting", public=True, text="Gammel", lat=57.0, lon=9.9,
                   observed=dt.datetime(2001, 1, 1, tzinfo=dt.UTC))
    _record, key = keys.add(org, "test system")
    return {"org": org, "fixed": fixed, "planned": planned, "private": private,
            "pending": pending, "old": old, "key": key}


def _xml(body: bytes) -> ET.Element:
    assert body.startswith(b"<?xml")
    return ET.fromstring(body)


def _names(element: ET.Element) -> list[str]:
    return [child.tag for child in element]


def _no_leak(body: bytes) -> None:
    text = body.decode()
    for secret in (PRIVATE_TEXT, "57.0461", "9.9271", REPORTER):
        assert secret not in text


def test_discovery_in_both_formats(client: Client) -> None:
    doc = client.get(f"{BASE}/discovery.json").json()
    assert list(doc) == DISCOVERY_FIELDS
    endpoint = doc["endpoints"][0]
    assert list(endpoint) == ENDPOINT_FIELDS
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2/"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    response = client.get(f"{BASE}/discovery.xml")
    assert response["Content-Type"].startswith("text/xml")
    root = _xml(response.content)
    assert root.tag == "discovery" and _names(root) == DISCOVERY_FIELDS
    xml_endpoint = root.find("endpoints/endpoint")
    assert xml_endpoint is not None and _names(xml_endpoint) == ENDPOINT_FIELDS
    assert [f.text for f in xml_endpoint.iterfind("formats/format")] == [
        "text/xml", "application/json"]


def test_services_are_the_checklist_categories(client: Client, data: dict[str, Any]) -> None:
    services = client.get(f"{BASE}/services.json").json()
    codes = [code for code, _name in checklists.DEFAULT_CATEGORIES]
    assert [s["service_code"] for s in services] == codes
    assert all(list(s) == SERVICE_FIELDS for s in services)
    assert services[0]["service_name"] == "Lighting" and services[0]["metadata"] is True
    root = _xml(client.get(f"{BASE}/services.xml").content)
    assert root.tag == "services"
    assert [s.tag for s in root] == ["service"] * len(codes)
    assert _names(root[0]) == SERVICE_FIELDS
    assert root[0].findtext("service_code") == "lighting"
    assert root[0].findtext("metadata") == "true"


def test_service_definition_lists_the_rated_parameters(client: Client,
                                                       data: dict[str, Any]) -> None:
    definition = client.get(f"{BASE}/services/lighting.json").json()
    assert list(definition) == ["service_code", "attributes"]
    attributes = definition["attributes"]
    assert [a["code"] for a in attributes] == [c for c, _n, _h in
                                               checklists.DEFAULT_PARAMETERS]
    first = attributes[0]
    assert list(first) == ATTRIBUTE_FIELDS
    assert first["datatype"] == "singlevaluelist" and first["order"] == 1
    assert first["values"] == [{"key": str(v), "name": str(v)} for v in range(4)]
    root = _xml(client.get(f"{BASE}/services/lighting.xml").content)
    assert root.tag == "service_definition" and _names(root) == ["service_code", "attributes"]
    attribute = root.find("attributes/attribute")
    assert attribute is not None and _names(attribute) == ATTRIBUTE_FIELDS
    value = attribute.find("values/value")
    assert value is not None and _names(value) == ["key", "name"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_is_a_404_in_the_error_format(client: Client, data: dict[str, Any],
                                                      fmt: str) -> None:
    response = client.get(f"{BASE}/services/nope.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        errors = response.json()
        assert isinstance(errors, list) and list(errors[0]) == ERROR_FIELDS
        assert errors[0]["code"] == 404 and "nope" in errors[0]["description"]
    else:
        root = _xml(response.content)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert _names(root[0]) == ERROR_FIELDS and root[0].findtext("code") == "404"


def test_requests_list_only_public_moderated_findings(client: Client,
                                                      data: dict[str, Any]) -> None:
    response = client.get(f"{BASE}/requests.json", WINDOW)
    rows = response.json()
    assert [r["service_request_id"] for r in rows] == [str(data["planned"].pk),
                                                       str(data["fixed"].pk)]
    assert all(list(r) == REQUEST_FIELDS for r in rows)
    _no_leak(response.content)
    fixed = rows[1]
    assert fixed["status"] == "closed" and fixed["status_notes"] == "Fixed"
    assert rows[0]["status"] == "open" and rows[0]["status_notes"] == "Planned"
    assert fixed["service_code"] == "lighting" and fixed["service_name"] == "Lighting"
    assert fixed["agency_responsible"] == "Aalborg Kommune"
    assert fixed["lat"] == 57.0481 and fixed["long"] == 9.9219  # about ten metres
    assert fixed["requested_datetime"].startswith("2026-03-10T")
    assert fixed["expected_datetime"].startswith("2026-04-01T23:59:59")
    root = _xml(client.get(f"{BASE}/requests.xml", WINDOW).content)
    assert root.tag == "service_requests" and [r.tag for r in root] == ["request"] * 2
    assert all(_names(r) == REQUEST_FIELDS for r in root)
    assert root[1].findtext("status") == "closed" and root[1].findtext("lat") == "57.0481"


def test_requests_filters(client: Client, data: dict[str, Any]) -> None:
    def ids(**params: str) -> list[str]:
        response = client.get(f"{BASE}/requests.json", {**WINDOW, **params})
        assert response.status_code == 200, response.content
        return [r["service_request_id"] for r in response.json()]

    fixed, planned = str(data["fixed"].pk), str(data["planned"].pk)
    assert ids(status="open") == [planned]
    assert ids(status="closed") == [fixed]
    assert ids(status="open,closed") == [planned, fixed]
    assert ids(service_code="vegetation") == [planned]
    assert ids(start_date="2026-03-10T13:00:00Z") == [planned]
    assert ids(end_date="2026-03-10T12:00:00Z") == [fixed]
    # Private and pending ones stay out even when asked for by id; the id list overrides
    # the other filters (the old one is outside the window).
    private, pending, old = (str(data[k].pk) for k in ("private", "pending", "old"))
    assert ids(service_request_id=f"{private},{pending},{old},{fixed}",
               status="open") == [fixed, old]


def test_requests_default_window_and_limit(client: Client, data: dict[str, Any],
                                           settings: Any) -> None:
    """Without dates: the last 90 days (the findings here are all older), capped."""
    recent = Finding(category="litter", is_public=True, text="ny")  # observed: unset
    recent.save()
    Action.objects.create(finding=recent)
    rows = client.get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in rows] == [str(recent.pk)]
    settings.TRYG_OPEN311_MAX_REQUESTS = 1
    assert len(client.get(f"{BASE}/requests.json", WINDOW).json()) == 1


@pytest.mark.parametrize("params", [{"status": "pending"}, {"start_date": "yesterday"},
                                    {"end_date": "2026-13-01T00:00:00Z"},
                                    {"service_request_id": "1,x"},
                                    {"start_date": "2026-04-01T00:00:00Z",
                                     "end_date": "2026-03-01T00:00:00Z"}])
def test_bad_filters_are_400_in_the_error_format(client: Client, data: dict[str, Any],
                                                 params: dict[str, str]) -> None:
    response = client.get(f"{BASE}/requests.xml", params)
    assert response.status_code == 400
    root = _xml(response.content)
    assert root.tag == "errors" and root[0].findtext("code") == "400"


@pytest.mark.parametrize("end", ["0001-01-05T00:00:00Z", "0001-01-01"])
def test_a_window_ending_in_the_first_days_of_the_calendar_is_empty_not_500(
        client: Client, data: dict[str, Any], end: str) -> None:
    # the default start, 90 days before the end, is before the first day there is
    response = client.get(f"{BASE}/requests.json", {"end_date": end})
    assert response.status_code == 200 and response.json() == []


@pytest.mark.parametrize("params", [
    {"start_date": "0001-01-01T00:00:00+14:00"},  # in UTC: the year 0
    {"end_date": "9999-12-31T23:59:59-14:00"},  # in UTC: the year 10000
])
def test_a_date_that_is_none_in_utc_is_400_not_500(client: Client,
                                                   params: dict[str, str]) -> None:
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 400, response.content
    assert response.json()[0]["code"] == 400


def test_get_one_request(client: Client, data: dict[str, Any]) -> None:
    fixed = data["fixed"]
    rows = client.get(f"{BASE}/requests/{fixed.pk}.json").json()
    assert len(rows) == 1 and rows[0]["service_request_id"] == str(fixed.pk)
    root = _xml(client.get(f"{BASE}/requests/{fixed.pk}.xml").content)
    assert root.tag == "service_requests" and _names(root[0]) == REQUEST_FIELDS
    for hidden in ("private", "pending"):
        response = client.get(f"{BASE}/requests/{data[hidden].pk}.json")
        assert response.status_code == 404
        _no_leak(response.content)
    assert client.get(f"{BASE}/requests/x1.json").status_code == 400


def _post(client: Client, fmt: str = "json", **fields: str) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", fields)


def test_post_creates_a_finding_awaiting_moderation(data: dict[str, Any]) -> None:
    client = Client(enforce_csrf_checks=True)  # the API is exempt from CSRF, nothing else
    response = _post(client, api_key=data["key"], service_code="lighting", lat="57.05",
                     long="9.92", description="Mørk sti", first_name="Ann", last_name="B",
                     email="ann@example.org", **{"attribute[lighting]": "1"})
    assert response.status_code == 200, response.content
    (answer,) = response.json()
    assert list(answer) == POST_FIELDS and answer["account_id"] is None
    finding = Finding.objects.get(idempotency_key=f"open311:{answer['token']}")
    assert finding.source == Finding.Source.OPEN311
    assert finding.moderation == Moderation.PENDING and not finding.is_public
    assert (finding.lat, finding.lon, finding.ratings) == (57.05, 9.92, {"lighting": 1})
    assert finding.reporter_name == "Ann B" and finding.reporter_email == "ann@example.org"
    assert finding.action.state == ActionState.NEW
    event = ActionEvent.objects.get(action=finding.action)
    assert event.actor_name == "Open311: Aalborg Kommune"
    # Not public: the token gives no id, the list and the one-request URL show nothing.
    token_url = f"{BASE}/tokens/{answer['token']}.json"
    assert client.get(token_url).json() == [{"service_request_id": None,
                                             "token": answer["token"]}]
    assert client.get(f"{BASE}/requests/{finding.pk}.json").status_code == 404
    assert finding in citizens.pending()
    citizens.moderate(finding, approve=True)
    assert client.get(token_url).json()[0]["service_request_id"] == str(finding.pk)
    assert client.get(f"{BASE}/requests/{finding.pk}.json").status_code == 200


def test_post_in_xml_answers_in_xml(client: Client, data: dict[str, Any]) -> None:
    response = _post(client, "xml", api_key=data["key"], service_code="graffiti",
                     address_string="Boulevarden 5")
    assert response.status_code == 200
    root = _xml(response.content)
    assert root.tag == "service_requests" and _names(root[0]) == POST_FIELDS
    finding = Finding.objects.get(idempotency_key=f"open311:{root[0].findtext('token')}")
    assert finding.position_flag == Finding.PositionFlag.MISSING
    assert finding.address == "Boulevarden 5"


@pytest.mark.parametrize(("key", "status"), [("", 400), ("tryg311_wrong", 403)])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_or_with_a_wrong_key_is_refused(client: Client, data: dict[str, Any],
                                                     key: str, status: int,
                                                     fmt: str) -> None:
    before = Finding.objects.count()
    fields = {"service_code": "lighting", "lat": "57.05", "long": "9.92"}
    if key:
        fields["api_key"] = key
    response = _post(client, fmt, **fields)
    assert response.status_code == status
    if fmt == "json":
        assert response.json()[0]["code"] == status
        assert "api_key" in response.json()[0]["description"]
    else:
        root = _xml(response.content)
        assert root.tag == "errors" and root[0].findtext("code") == str(status)
    assert Finding.objects.count() == before


def test_a_revoked_key_is_refused(client: Client, data: dict[str, Any]) -> None:
    record = keys.check(data["key"])
    assert record is not None and keys.revoke(record.pk)
    response = _post(client, api_key=data["key"], service_code="lighting", lat="57",
                     long="9")
    assert response.status_code == 403


@pytest.mark.parametrize(("fields", "status"), [
    ({}, 400),
    ({"service_code": "nope", "lat": "57", "long": "9"}, 404),
    ({"service_code": "lighting"}, 400),
    ({"service_code": "lighting", "lat": "95", "long": "9"}, 400),
    ({"service_code": "lighting", "lat": "nan", "long": "9"}, 400),
    ({"service_code": "lighting", "lat": "57", "long": "9", "email": "not-mail"}, 400),
    ({"service_code": "lighting", "lat": "57", "long": "9", "attribute[lighting]": "7"}, 400),
    ({"service_code": "lighting", "lat": "57", "long": "9", "attribute[nope]": "1"}, 400),
    ({"service_code": "lighting", "lat": "57", "long": "9", "description": "x" * 4001}, 400),
    ({"service_code": "lighting", "lat": "٥٧", "long": "9"}, 400),
    ({"service_code": "lighting", "lat": "57", "long": "９"}, 400),
])
def test_bad_posts_are_refused_and_write_nothing(client: Client, data: dict[str, Any],
                                                 fields: dict[str, str], status: int) -> None:
    before = Finding.objects.count()
    response = _post(client, api_key=data["key"], **fields)
    assert response.status_code == status, response.content
    assert response.json()[0]["code"] == status
    assert Finding.objects.count() == before


def test_posts_are_rate_limited_per_key(client: Client, data: dict[str, Any],
                                        settings: Any) -> None:
    settings.TRYG_OPEN311_POSTS_PER_HOUR = 2
    fields = {"api_key": data["key"], "service_code": "lighting", "lat": "57", "long": "9"}
    assert [_post(client, **fields).status_code for _ in range(3)] == [200, 200, 429]


def test_an_oversized_post_is_refused_unread(client: Client, data: dict[str, Any]) -> None:
    response = client.post(f"{BASE}/requests.json", {"api_key": data["key"],
                                                      "description": "x" * 70_000})
    assert response.status_code == 413
    assert response.json()[0]["code"] == 413


def test_other_methods_and_formats(client: Client, data: dict[str, Any]) -> None:
    response = client.post(f"{BASE}/services.json")
    assert response.status_code == 405 and response.json()[0]["code"] == 405
    assert client.get(f"{BASE}/services.html").status_code == 404
    assert client.get(f"{BASE}/tokens/unknown.json").status_code == 404


def test_the_json_is_json(client: Client, data: dict[str, Any]) -> None:
    response = client.get(f"{BASE}/requests.json", WINDOW)
    assert response["Content-Type"].startswith("application/json")
    assert isinstance(json.loads(response.content), list)


def test_control_characters_echoed_in_an_error_keep_the_xml_well_formed(
        client: Client, data: dict[str, Any]) -> None:
    """XML 1.0 has no NUL or other C0 control (not even as a reference): a description that
    echoes a parameter holding one writes U+FFFD there, in XML; JSON escapes it as it is."""
    post = {"api_key": data["key"], "service_code": "lighting", "lat": "57", "long": "9"}
    cases = [
        ("post", "/requests", {**post, "attribute[a\x00b]": "1"}, 400, "a\x00b"),
        ("post", "/requests", {**post, "attribute[light\x01ing]": "1"}, 400, "light\x01ing"),
        ("post", "/requests", {**post, "attribute[x\x1f]": "a\x00"}, 400, "x\x1f"),
        ("post", "/requests", {**post, "service_code": "g\x0bx"}, 404, "g\x0bx"),
        ("get", "/services/g%01x", {}, 404, "g\x01x"),
        ("get", "/requests", {"service_request_id": "1\x02"}, 400, "1\x02"),
        ("get", "/requests", {"start_date": "2026\x0c"}, 400, "2026\x0c"),
    ]
    for method, path, params, status, echoed in cases:
        answers = {fmt: getattr(client, method)(f"{BASE}{path}.{fmt}", params)
                   for fmt in ("xml", "json")}
        assert [a.status_code for a in answers.values()] == [status, status], (path, params)
        root = _xml(answers["xml"].content)  # well-formed
        shown = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f]", "\ufffd", echoed)
        assert root.tag == "errors" and shown in (root[0].findtext("description") or "")
        assert echoed in answers["json"].json()[0]["description"]
    assert Finding.objects.count() == 5


def test_a_stored_text_with_a_control_character_is_listed_as_well_formed_xml(
        client: Client, data: dict[str, Any]) -> None:
    """A finding's text from an import or a form may hold a control character; the XML list
    writes U+FFFD in its place instead of breaking the document."""
    Finding.objects.filter(pk=data["fixed"].pk).update(text="Lampe\x01 sort\x1b")
    response = client.get(f"{BASE}/requests.xml", WINDOW)
    assert response.status_code == 200
    texts = [r.findtext("description") for r in _xml(response.content)]
    assert "Lampe\ufffd sort\ufffd" in texts
    json_texts = [r["description"] for r in client.get(f"{BASE}/requests.json", WINDOW).json()]
    assert "Lampe\x01 sort\x1b" in json_texts


@pytest.mark.parametrize("name", ["description", "address_string", "first_name", "last_name",
                                  "email"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_posted_text_with_a_control_character_is_refused(client: Client,
                                                           data: dict[str, Any], name: str,
                                                           fmt: str) -> None:
    """The forms' rule (tryg.bounds): a stored text holds no control character."""
    fields = {"api_key": data["key"], "service_code": "lighting", "lat": "57", "long": "9",
              name: "ann\x01@example.org" if name == "email" else "Mørk\x01 sti"}
    response = _post(client, fmt, **fields)
    assert response.status_code == 400
    if fmt == "json":
        (error,) = response.json()
    else:
        root = _xml(response.content)
        assert root.tag == "errors" and _names(root[0]) == ERROR_FIELDS
        error = {"code": int(root[0].findtext("code") or 0),
                 "description": root[0].findtext("description")}
    assert error == {"code": 400, "description": f"The parameter {name} holds a control "
                                                 "character (U+0001), which cannot be stored."}
    assert Finding.objects.count() == 5


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/requests", {"status": "open\x00"}, 400),
    ("/requests", {"status\x00": "open"}, 400),
    ("/services/a%00b", {}, 400),
    ("/requests/1%00", {}, 400),
    ("/nope", {}, 404),
    ("/services/a/b", {}, 404),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_errors_before_the_views_are_in_the_error_format_too(
        client: Client, data: dict[str, Any], path: str, params: dict[str, str], status: int,
        fmt: str) -> None:
    """A NUL in the path or query (refused by the site before any view) and an address that
    is no endpoint answer the specification's error list in the asked format, not the site's
    plain text or HTML page."""
    response = client.get(f"{BASE}{path}.{fmt}", params)
    assert response.status_code == status
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        (error,) = response.json()
        assert list(error) == ERROR_FIELDS and error["code"] == status
        description = error["description"]
    else:
        assert response["Content-Type"] == "text/xml; charset=utf-8"
        root = _xml(response.content)
        assert root.tag == "errors" and [e.tag for e in root] == ["error"]
        assert _names(root[0]) == ERROR_FIELDS and root[0].findtext("code") == str(status)
        description = root[0].findtext("description") or ""
    assert description == ("The address holds a character that is not allowed (NUL)."
                           if status == 400 else
                           "There is no Open311 endpoint at this address.")


def test_an_error_before_the_views_is_in_the_askers_language(client: Client) -> None:
    client.get("/sprog/da/", {"next": "/"})
    response = client.get(f"{BASE}/nope.json")
    assert response.json() == [{"code": 404, "description": "Der er intet Open311-endepunkt "
                                                            "på denne adresse."}]


def _fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a defect in an Open311 view")


#: The site's addresses and one Open311 address whose view fails (a defect, not bad input).
urlpatterns = [url_path("open311/v2/fails.<str:fmt>", _fails), *site_urls.urlpatterns]


@pytest.mark.django_db
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_server_error_under_open311_is_in_the_error_format(
        settings: Any, fmt: str) -> None:
    """A view's unexpected exception (Django's 500 page) reaches an Open311 client as the
    specification's error list with code 500, not as the site's HTML page."""
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get(f"{BASE}/fails.{fmt}")
    assert response.status_code == 500
    if fmt == "json":
        assert response.json() == [{"code": 500, "description":
                                    "The server could not answer the request."}]
    else:
        root = _xml(response.content)
        assert root.tag == "errors" and root[0].findtext("code") == "500"
        assert root[0].findtext("description") == "The server could not answer the request."
