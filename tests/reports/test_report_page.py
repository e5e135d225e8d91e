"""The analysts' report page: who may make a report, and what the file is."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse

from support.planted import UNPUBLISHED_ESTIMATE, Site, client_as, leaks, plant

pytestmark = pytest.mark.django_db

URL = "/analyse/reports/"


@pytest.fixture
def site() -> Site:
    return plant()


def _post(client: Client, **fields: str) -> HttpResponse:
    form = {"audience": "public", "language": "da", "format": "html", "wave": "",
            "areas": "", "strategy": "", "run": "", **fields}
    response: Any = client.post(URL, form)
    assert isinstance(response, HttpResponse)
    return response


def test_the_page_is_where_the_url_says() -> None:
    assert reverse("reports:report") == URL


@pytest.mark.parametrize("who", ["admin", "analyst", "coordinator"])
def test_staff_get_the_form_and_a_public_report(site: Site, who: str) -> None:
    client = client_as(site, who)
    page = client.get(URL)
    assert page.status_code == 200
    assert b'name="audience"' in page.content
    response = _post(client)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        'attachment; filename="tryg-rapport-offentlig-da-')
    assert b"<html lang=\"da\">" in response.content
    assert response["Cache-Control"].find("no-store") >= 0


def test_an_internal_report_of_an_unpublished_run_for_staff(site: Site) -> None:
    client = client_as(site, "coordinator")
    response = _post(client, audience="internal", run=str(site.unpublished.pk))
    assert response.status_code == 200
    body = response.content.decode()
    assert f"{100 * UNPUBLISHED_ESTIMATE:,.1f}".translate(str.maketrans(",.", ".,")) in body


@pytest.mark.parametrize("who", ["partner", "walker"])
def test_others_are_refused(site: Site, who: str) -> None:
    client = client_as(site, who)
    assert client.get(URL).status_code == 403
    response = _post(client, audience="internal", run=str(site.unpublished.pk))
    assert response.status_code == 403
    assert leaks(response.content) == []


def test_the_public_is_sent_to_log_in(site: Site) -> None:
    response = _post(Client())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("fields", [
    {"wave": "abc"}, {"wave": "99999999999999999999"}, {"format": "docx"},
    {"audience": "everyone"}, {"areas": "<script>"}, {"run": "-1"},
    {"run": "1"},  # a public report shows the publication, not a chosen run
    {"wave": "1999"},  # no published figures for it
    {"language": "de"},
])
def test_bad_input_is_a_400_with_the_form(site: Site, fields: dict[str, str]) -> None:
    response = _post(client_as(site, "analyst"), **fields)
    assert response.status_code == 400
    assert b'name="audience"' in response.content


def test_a_run_from_the_address_fills_in_the_form(site: Site) -> None:
    client = client_as(site, "analyst")
    page = client.get(f"{URL}?run={site.unpublished.pk}")
    assert page.status_code == 200
    assert f'value="{site.unpublished.pk}"'.encode() in page.content
    assert client.get(f"{URL}?run=abc").status_code == 400
