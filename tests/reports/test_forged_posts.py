"""POSTs a browser can forge against the report form: values outside the choices, NUL bytes,
huge numbers, a strategy "number" in other digits, the roles that may not, no CSRF token.
Each answers 400 with the form (or 403); never a server error."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from support.planted import Site, client_as, plant

pytestmark = pytest.mark.django_db

URL = "/analyse/reports/"
FORM = {"audience": "public", "language": "da", "format": "html"}


@pytest.fixture
def site() -> Site:
    return plant()


def _post(client: Client, **fields: str) -> Any:
    return client.post(URL, {**FORM, **fields})


def test_values_outside_the_form_are_refused_with_the_form(site: Site) -> None:
    analyst = client_as(site, "analyst")
    for forged in ({"language": "xx"}, {"format": "docx"}, {"audience": "x" * 100_000},
                   {"areas": "K999,\x00"}, {"areas": "K999," * 1000}, {"wave": "1899"},
                   {"audience": "internal", "run": str(2**63)},
                   {"audience": "internal", "run": "999999"}, {"strategy": "s" * 201}):
        response = _post(analyst, **forged)
        assert response.status_code == 400, forged
        assert b'name="audience"' in response.content


def test_a_strategy_no_one_has_is_refused_with_the_form(site: Site) -> None:
    """Other digits ("²" is a digit to ``str.isdigit``, none to ``int``), a number past any
    id and an unknown name: a form error naming it, never a server error, never a report
    without its strategy section and without a word."""
    analyst = client_as(site, "analyst")
    for name in ("²", "١٢", "9" * 30, "Ingen strategi"):
        response = _post(analyst, strategy=name, language="en")
        assert response.status_code == 400, name
        assert f"No strategy has the number or name {name}." in response.content.decode()
    response = _post(analyst, strategy="Planted strategy")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")


def test_reports_are_refused_to_other_roles_and_without_the_csrf_token(site: Site) -> None:
    for who in ("partner", "walker"):
        assert _post(client_as(site, who)).status_code == 403
    assert _post(Client()).status_code == 302  # to the log-in
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(site.users["analyst"])
    assert _post(checked).status_code == 403
